# orion.verify_password verifies bcrypt hashes made by a real bcrypt: npm
# bcryptjs, installed at test time, makes $2a$, $2b$ (what npm bcrypt wrote
# for the original Node service) and $2y$ hashes at costs 4 to 12, of ASCII,
# non-ASCII (UTF-8), empty and long passwords (test/node/bcrypt-hashes.js).
# Each verifies, a wrong password does not, and, as bcrypt uses the first 72
# bytes only, a password that differs only after byte 72 verifies while one
# that differs within them does not. pgcrypto's own crypt() reproduces the
# $2a$ hashes but, without any error, not the $2b$ and $2y$ ones: the silent
# failure orion avoids.
use strict;
use warnings;

use Encode qw(encode_utf8);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

# bcryptjs 3 makes $2b$ salts and hashes with the minor version of the salt
# it is given; the Node script relies on both (see its header).
my $bcryptjs_version = '3.0.3';

# Test names and diagnostics hold the passwords' labels, in UTF-8.
sub say_ok
{
	my ($ok, @name) = @_;
	return ok($ok, encode_utf8(join('', @name)));
}

my $bcryptjs = npm_install('bcryptjs', $bcryptjs_version);

my $json = run_or_die('test/node/bcrypt-hashes.js makes bcrypt hashes with bcryptjs',
	'node', 'test/node/bcrypt-hashes.js', $bcryptjs);
my $cases = decode_json($json);

# What the script made: every variant, every cost for one password.
my (%variant_costs, %variant_labels);
for my $c (@$cases)
{
	my $prefix = sprintf('$%s$%02d$', $c->{variant}, $c->{cost});
	die encode_utf8("hash $c->{hash} of \"$c->{label}\" does not begin with $prefix")
	  unless substr($c->{hash}, 0, 7) eq $prefix && length($c->{hash}) == 60;
	$variant_costs{ $c->{variant} }{ $c->{label} }{ $c->{cost} } = 1;
	$variant_labels{ $c->{variant} }{ $c->{label} } = 1;
}
for my $v (qw(2a 2b 2y))
{
	my $all_costs = grep { join(',', sort { $a <=> $b } keys %{ $variant_costs{$v}{$_} }) eq join(',', 4 .. 12) }
	  keys %{ $variant_costs{$v} // {} };
	ok($all_costs >= 1, "\$$v\$: a password hashed at every cost from 4 to 12");
	ok(keys %{ $variant_labels{$v} // {} } >= 10, "\$$v\$: at least 10 different passwords");
}

my $node = PostgreSQL::Test::Cluster->new('bcrypt');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');
my $pgcrypto = $node->safe_psql('postgres',
	q{SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension WHERE extname = 'pgcrypto'});
isnt($pgcrypto, '', 'CREATE EXTENSION orion CASCADE installed pgcrypto');

# The document goes into SQL as base64: no password is ever spelt in SQL. The
# passwords used are the UTF-8 bytes bcryptjs hashed (password_hex); that
# they equal the JSON strings is checked too.
my $b64 = encode_base64($json, '');
$node->safe_psql('postgres', qq{
CREATE TABLE bcrypt_cases AS
SELECT n, e->>'hash' AS hash, e->>'password' AS password,
       decode(e->>'password_hex', 'hex') AS password_bytes, e->'same' AS same, e->'wrong' AS wrong
  FROM jsonb_array_elements(convert_from(decode('$b64', 'base64'), 'UTF8')::jsonb) WITH ORDINALITY AS t(e, n);
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bcrypt_cases'), scalar(@$cases),
	'every hash loaded into the database');

# One line per hash: n | JSON text = UTF-8 bytes | verify_password | crypt() = hash | length(crypt())
my %main;
for my $line (split /\n/, $node->safe_psql('postgres', qq{
SELECT n, convert_to(password, 'UTF8') = password_bytes,
       orion.verify_password(convert_from(password_bytes, 'UTF8'), hash),
       $pgcrypto.crypt(convert_from(password_bytes, 'UTF8'), hash) = hash,
       length($pgcrypto.crypt(convert_from(password_bytes, 'UTF8'), hash))
  FROM bcrypt_cases ORDER BY n}))
{
	my ($n, @r) = split /\|/, $line;
	$main{$n} = \@r;
}

# One line per other password: n | same or wrong | k | JSON text = UTF-8 bytes | verify_password
my %alt;
for my $line (split /\n/, $node->safe_psql('postgres', qq{
SELECT c.n, a.kind, a.k,
       convert_to(a.e->>'password', 'UTF8') = decode(a.e->>'password_hex', 'hex'),
       orion.verify_password(convert_from(decode(a.e->>'password_hex', 'hex'), 'UTF8'), c.hash)
  FROM bcrypt_cases c,
       LATERAL (SELECT 'same', e, k FROM jsonb_array_elements(c.same) WITH ORDINALITY AS s(e, k)
                UNION ALL
                SELECT 'wrong', e, k FROM jsonb_array_elements(c.wrong) WITH ORDINALITY AS w(e, k)) AS a(kind, e, k)
 ORDER BY 1, 2, 3}))
{
	my ($n, $kind, $k, @r) = split /\|/, $line;
	$alt{"$n/$kind/$k"} = \@r;
}

my $n = 0;
for my $c (@$cases)
{
	$n++;
	my $what = sprintf('$%s$%02d$ %s', $c->{variant}, $c->{cost}, $c->{label});
	my $r = $main{$n} // [];
	my $show = sub { diag(encode_utf8("password: $c->{password} (hex $c->{password_hex})\nhash: $c->{hash}")) };

	say_ok(($r->[0] // '') eq 't', "$what: the password reaches SQL as the UTF-8 bytes bcryptjs hashed");
	say_ok(($r->[1] // '') eq 't', "$what: orion.verify_password is true for the password")
	  or $show->();
	if ($c->{variant} eq '2a')
	{
		say_ok(($r->[2] // '') eq 't', "$what: pgcrypto crypt() reproduces the \$2a\$ hash")
		  or $show->();
	}
	else
	{
		say_ok(($r->[2] // '') eq 'f' && ($r->[3] // '') eq '13',
			"$what: pgcrypto crypt() silently gives a 13-character DES string, not the \$$c->{variant}\$ hash")
		  or $show->();
	}

	for my $kind (qw(same wrong))
	{
		my $k = 0;
		for my $p (@{ $c->{$kind} })
		{
			$k++;
			my $got = $alt{"$n/$kind/$k"} // [];
			say_ok(($got->[0] // '') eq 't' && ($got->[1] // '') eq ($kind eq 'same' ? 't' : 'f'),
				"$what: orion.verify_password is ",
				($kind eq 'same'
					? "true for another password bcrypt takes as the same ($p->{why})"
					: "false for a wrong password ($p->{why})"))
			  or diag(encode_utf8("password: $p->{password} (hex $p->{password_hex})\nhash: $c->{hash}"));
		}
	}
}

$node->stop;
done_testing();
