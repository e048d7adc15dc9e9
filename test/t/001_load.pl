# orion loads with and without shared_preload_libraries, and reserves the
# orion.* settings prefix once loaded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($control) = grep { /^default_version/ } do { open my $f, '<', 'orion.control' or die $!; <$f> };
my ($version) = $control =~ /'([^']+)'/;

# The version is written in orion.control; META.json must say the same.
my $meta = do { local $/; open my $f, '<', 'META.json' or die $!; <$f> };
my ($meta_version) = $meta =~ /"version"\s*:\s*"([^"]+)"\s*,\s*"maintainer"/s;
my ($provides_version) = $meta =~ /"provides".*?"version"\s*:\s*"([^"]+)"/s;
is($meta_version, $version, 'META.json version matches orion.control');
is($provides_version, $version, 'META.json provides.orion.version matches orion.control');

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->start;

# Without preloading: the first call loads the library.
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), '', 'not preloaded');
$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');
is($node->safe_psql('postgres', 'SELECT orion.version()'), $version,
	'orion.version() works without preloading');

# Before the library is loaded in a session, PostgreSQL keeps an unknown
# orion.* name as a placeholder; once loaded, the prefix is reserved.
my ($ret, $out, $err) = $node->psql('postgres',
	'SELECT orion.version(); SET orion.no_such_setting = 1');
isnt($ret, 0, 'misspelt setting refused once the library is loaded');
like($err, qr/invalid configuration parameter name "orion\.no_such_setting"/,
	'the error names the setting');
like($err, qr/"orion" is a reserved prefix/, 'and says the prefix is reserved');

# With preloading (next to pg_cron, as the README's setup shows), and with a
# misspelt orion.* line in postgresql.conf: the server starts and warns.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'orion,pg_cron'
cron.database_name = 'postgres'
orion.no_such_setting = 'x'
});
$node->restart;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'orion,pg_cron', 'preloaded');
is($node->safe_psql('postgres', 'SELECT orion.version()'), $version,
	'orion.version() works when preloaded');
($ret, $out, $err) = $node->psql('postgres', 'SET orion.no_such_setting = 1');
isnt($ret, 0, 'prefix reserved from the first statement of a session when preloaded');
ok($node->log_contains(qr/invalid configuration parameter name "orion\.no_such_setting", removing it/),
	'the server log names the misspelt postgresql.conf line');

# LOAD works too, and is harmless when the library is already loaded.
$node->safe_psql('postgres', q{LOAD 'orion'});
is($node->safe_psql('postgres', q{LOAD 'orion'; SELECT orion.version()}), $version, 'LOAD');

$node->stop;
done_testing();
