# test/perl/OrionTest.pm: what orion's TAP tests share: running a command
# that must succeed, installing an npm package at test time into a
# directory of the test's own (nothing fetched at test time is committed),
# and giving a test cluster a key for the secrets orion seals.
package OrionTest;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(run_or_die npm_install write_secret_key use_secret_key);

# run_or_die NAME CMD...: run CMD; a test that passes if it exits with 0,
# returning its standard output. Nothing can go on without it, so a failure
# also ends the script, with the end of standard error on the terminal and
# all of it in the test's log.
sub run_or_die
{
	my ($name, @cmd) = @_;
	my ($out, $err) = ('', '');
	my $ok = eval { IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err) };
	my $why = $@ ? "could not run: $@" : "exit status " . ($? >> 8);
	return $out if ok($ok, $name);
	my @tail = (split /\n/, $err)[-15 .. -1];
	diag(join("\n", "$why: @cmd", grep { defined } @tail));
	die "$name: $why\ncommand: @cmd\nstdout:\n$out\nstderr:\n$err\n";
}

# npm_install PACKAGE VERSION: install PACKAGE@VERSION into a temporary
# directory, npm's cache and logs too (not the home directory); test that
# the version installed is the one asked for; return the package's directory.
sub npm_install
{
	my ($package, $version) = @_;
	my $npmdir = PostgreSQL::Test::Utils::tempdir;
	local $ENV{npm_config_cache} = "$npmdir/cache";
	local $ENV{npm_config_update_notifier} = 'false';
	my @cmd = ('npm', 'install', '--no-audit', '--no-fund', '--prefix', "$npmdir/prefix", "$package\@$version");
	# A registry that does not answer for a while is not orion's failure:
	# up to three tries, 20 s and 60 s apart (npm's own retries of a fetch
	# last seconds); the last one's errors end the test.
	my $installed_early = 0;
	for my $pause (20, 60)
	{
		my ($out, $err) = ('', '');
		$installed_early = eval { IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err) };
		last if $installed_early;
		note("npm install $package\@$version failed (exit status " . ($? >> 8) . "); again in $pause s:\n$err");
		sleep $pause;
	}
	if ($installed_early)
	{
		pass("npm installs $package\@$version");
	}
	else
	{
		run_or_die("npm installs $package\@$version", @cmd);
	}
	my $dir = "$npmdir/prefix/node_modules/$package";
	my $installed = decode_json(slurp_file("$dir/package.json"))->{version};
	is($installed, $version, "the installed $package is version $version");
	return $dir;
}

# write_secret_key NODE NAME: a new random key in NAME (relative to NODE's
# data directory), readable by its owner only, as orion.secret_key_file
# wants it; returns the key's hex.
sub write_secret_key
{
	my ($node, $name) = @_;
	my $hex = join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32);
	my $path = $node->data_dir . "/$name";
	unlink $path;
	append_to_file($path, "$hex\n");
	chmod(0600, $path) or die "chmod $path: $!";
	return $hex;
}

# use_secret_key NODE: NODE seals with a key of its own (before it starts).
sub use_secret_key
{
	my ($node) = @_;
	write_secret_key($node, 'orion_secret.key');
	$node->append_conf('postgresql.conf', "orion.secret_key_file = 'orion_secret.key'\n");
}

1;
