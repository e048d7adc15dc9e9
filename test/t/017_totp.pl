# TOTP against an independent implementation, npm otpauth, both ways, and
# the key that seals the secrets.
#
# 1. otpauth's codes for random secrets (10 to 32 bytes) and times (1970 to
#    2500, step edges included) are orion.totp_code's and orion.hotp_code's;
#    orion's codes, for secrets orion.enroll_totp made and random times, are
#    accepted by otpauth's validate at exactly their step.
# 2. The otpauth:// URI of enroll_totp, parsed by otpauth's URI.parse as an
#    authenticator app would, gives the codes that confirm_totp and
#    verify_totp accept.
# 3. The key: without orion.secret_key_file enrolling is refused (55000) and
#    a recovery code still signs in; a key file open to others, or not of
#    64 hex digits, is refused (F0000), a missing one too (58P01), and no
#    key file's contents reach the log; a
#    rotation: the new key in orion.secret_key_file, the old one in
#    orion.previous_secret_key_file, reseal_secrets, the old file gone, and
#    every user still signs in; a key file rewritten in place is read
#    again, and a secret sealed with a key neither setting names is refused
#    (55000). The settings show a path, to superusers and pg_read_all_settings.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $otpauth_version = '9.5.2';
my $lib = npm_install('otpauth', $otpauth_version);

my $node = PostgreSQL::Test::Cluster->new('totp');
$node->init;
my @keys = (write_secret_key($node, 'orion_secret.key'));
$node->append_conf('postgresql.conf', "orion.secret_key_file = 'orion_secret.key'\n");
# preloaded, as in production: every backend knows the settings (and that
# they are the superuser's) before it first calls orion
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orion'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
ALTER SYSTEM SET orion.argon2_memory_kib = 1024;
ALTER SYSTEM SET orion.argon2_iterations = 1;
-- the key tests sign one user in several times in a row, each with a later
-- step's code (a code works once)
ALTER SYSTEM SET orion.totp_skew = 3;
SELECT pg_reload_conf();
});

# 1a. otpauth's codes are orion's
my $doc = decode_json(run_or_die('otp-util.js makes codes with otpauth',
	'node', 'test/node/otp-util.js', $lib, 'generate'));
note("otp-util.js PRNG seed: $doc->{seed} (node test/node/otp-util.js DIR generate $doc->{seed} reproduces it)");
is($doc->{package}, $otpauth_version, "otp-util.js used otpauth $otpauth_version");
my $totp_cases = encode_json($doc->{totp});
my $hotp_cases = encode_json($doc->{hotp});
ok(@{ $doc->{totp} } >= 2000 && @{ $doc->{hotp} } >= 2000, 'at least 2000 TOTP and 2000 HOTP cases');
my $mismatches = $node->safe_psql('postgres', qq{
SELECT count(*) FILTER (WHERE orion.totp_code(c->>'secret', to_timestamp((c->>'time')::bigint)) <> c->>'code'),
       count(*),
       (SELECT count(*) FROM jsonb_array_elements('$hotp_cases'::jsonb) h
         WHERE orion.hotp_code(h->>'secret', (h->>'counter')::bigint) <> h->>'code'),
       string_agg(c::text, ' ') FILTER (WHERE orion.totp_code(c->>'secret', to_timestamp((c->>'time')::bigint)) <> c->>'code')
  FROM jsonb_array_elements('$totp_cases'::jsonb) c});
my ($totp_bad, $totp_n, $hotp_bad, $examples) = split /\|/, $mismatches;
is($totp_bad, '0', "orion.totp_code gives otpauth's code in all $totp_n TOTP cases")
  or diag("first mismatches: " . substr($examples // '', 0, 2000));
is($hotp_bad, '0', "orion.hotp_code gives otpauth's code in every HOTP case");

# 1b. orion's codes, for its own secrets, are accepted by otpauth
my $orion_cases = $node->safe_psql('postgres', q{
WITH u AS (SELECT orion.register_user('differential' || i || '@example.com', 'correct horse battery staple') AS id
             FROM generate_series(1, 200) i),
     s AS (SELECT (orion.enroll_totp(id)).secret FROM u),
     t AS (SELECT secret, floor(random() * 16725225600)::bigint AS time FROM s, generate_series(1, 10))
SELECT json_agg(json_build_object('secret', secret, 'time', time, 'code', orion.totp_code(secret, to_timestamp(time))))
  FROM t});
my $cases_file = PostgreSQL::Test::Utils::tempdir . '/orion-codes.json';
append_to_file($cases_file, $orion_cases);
my $checked = decode_json(run_or_die('otpauth validates the codes orion made',
	'node', 'test/node/otp-util.js', $lib, 'check', $cases_file));
is($checked->{checked}, 2000, '2000 codes of orion\'s, for 200 secrets enroll_totp made');
is($checked->{accepted}, $checked->{checked}, 'otpauth accepts every one at exactly its time step');

# 2. what an authenticator app makes of the URI signs in
my @enrolled = split /\n/, $node->safe_psql('postgres', q{
SELECT u.id || ' ' || u.email || ' ' || e.uri
  FROM orion_auth.users u, orion.enroll_totp(u.id) e
 WHERE u.email LIKE 'differential%' ORDER BY u.email LIMIT 20});
my ($confirmed, $signed_in, $fields_ok) = (0, 0, 0);
foreach my $row (@enrolled)
{
	my ($id, $email, $uri) = split / /, $row;
	my $app = decode_json(run_or_die("otpauth parses the URI of $email", 'node', 'test/node/otp-util.js', $lib, 'uri', $uri, time()));
	$fields_ok++ if $app->{type} eq 'totp' && $app->{issuer} eq 'orion' && $app->{label} eq $email
	  && $app->{algorithm} eq 'SHA1' && $app->{digits} == 6 && $app->{period} == 30;
	my $codes = $node->safe_psql('postgres', "SELECT cardinality(orion.confirm_totp('$id', '$app->{code}'))");
	$confirmed++ if $codes eq '10';
	my $rows = $node->safe_psql('postgres', qq{
SELECT count(*) FROM orion.verify_totp(
    (SELECT mfa_challenge FROM orion.login('$email', 'correct horse battery staple')), '$app->{next_code}')
 WHERE access_token IS NOT NULL});
	$signed_in++ if $rows eq '1';
}
is(scalar(@enrolled), 20, 'twenty users enrolled again');
is($fields_ok, 20, 'otpauth reads issuer, account, SHA1, 6 digits and 30 s from every URI');
is($confirmed, 20, "confirm_totp accepts the app's current code for every user");
is($signed_in, 20, "verify_totp accepts the app's next code for every user");

# 3. the key
my $dir = $node->data_dir;
my $user = $node->safe_psql('postgres', q{SELECT id FROM orion_auth.users WHERE email = 'differential1@example.com'});
my $secret_of = sub {
	my ($email) = @_;
	return $node->safe_psql('postgres', qq{
SELECT e.secret FROM orion_auth.users u, orion.enroll_totp(u.id) e WHERE u.email = '$email'});
};
my $sign_in = sub {
	my ($email, $code) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM orion.verify_totp(
    (SELECT mfa_challenge FROM orion.login('$email', 'correct horse battery staple')), $code)
 WHERE access_token IS NOT NULL});
};
my $reconfigure = sub {
	my (%settings) = @_;
	$node->append_conf('postgresql.conf', join('', map { "orion.$_ = '$settings{$_}'\n" } sort keys %settings));
	$node->reload;
	$node->poll_query_until('postgres', "SELECT current_setting('orion.secret_key_file') = '$settings{secret_key_file}'")
	  if exists $settings{secret_key_file};
};

# a user of the next steps, with TOTP active and recovery codes
my $rotating = $node->safe_psql('postgres', q{SELECT orion.register_user('rotating@example.com', 'correct horse battery staple')});
my $rsecret = $secret_of->('rotating@example.com');
my $recovery = $node->safe_psql('postgres', qq{SELECT array_to_string(orion.confirm_totp('$rotating', orion.totp_code('$rsecret')), ' ')});
my @recovery = split / /, $recovery;
is(scalar(@recovery), 10, 'ten recovery codes');
my $next = "orion.totp_code('$rsecret', now() + interval '30 s')";

# rotation: new key current, old key previous; every user still signs in
push @keys, write_secret_key($node, 'orion_secret_2.key');
$reconfigure->(secret_key_file => 'orion_secret_2.key', previous_secret_key_file => 'orion_secret.key');
is($sign_in->('rotating@example.com', $next), '1', 'after the key changes, a secret sealed with the old one opens with orion.previous_secret_key_file');
my $sealed = $node->safe_psql('postgres', 'SELECT count(*) FROM orion_auth.totp_factors');
is($node->safe_psql('postgres', 'SELECT orion.reseal_secrets()'), $sealed, "reseal_secrets reseals all $sealed secrets");
is($node->safe_psql('postgres', 'SELECT orion.reseal_secrets()'), '0', 'and then none');
$reconfigure->(secret_key_file => 'orion_secret_2.key', previous_secret_key_file => '');
unlink "$dir/orion_secret.key";
is($sign_in->('rotating@example.com', "orion.totp_code('$rsecret', now() + interval '60 s')"), '1',
	'without the old key, after resealing, the user signs in');

# the same key file rewritten in place is read again: a secret sealed with
# the key it held no longer opens
my ($ret, $out, $err);
push @keys, write_secret_key($node, 'orion_secret_2.key');
($ret, $out, $err) = $node->psql('postgres', qq{
SELECT count(*) FROM orion.verify_totp(
    (SELECT mfa_challenge FROM orion.login('rotating\@example.com', 'correct horse battery staple')),
    orion.totp_code('$rsecret', now() + interval '90 s'))});
like($err, qr/neither orion\.secret_key_file nor orion\.previous_secret_key_file/,
	'a key file rewritten in place is read again; what the old key sealed needs it (55000)');

# no key: enrolling is refused; a recovery code still signs in
$reconfigure->(secret_key_file => '');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT * FROM orion.enroll_totp('$user')}, extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/55000: orion\.secret_key_file is not set/, 'without a key, enroll_totp is refused (55000)');
is($sign_in->('rotating@example.com', "'$recovery[0]'"), '1', 'a recovery code needs no key: it still signs in');

# a key file open to others, or malformed: refused, its contents never logged
push @keys, write_secret_key($node, 'orion_secret_3.key');
chmod(0644, "$dir/orion_secret_3.key");
$reconfigure->(secret_key_file => 'orion_secret_3.key');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT * FROM orion.enroll_totp('$user')}, extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/F0000: orion\.secret_key_file "orion_secret_3\.key" has group or world access/, 'a key file others can read is refused (F0000)');
my $not_a_key = 'this is not a key but a secret of the DBA';
unlink "$dir/orion_secret_3.key";
append_to_file("$dir/orion_secret_3.key", $not_a_key);
chmod(0600, "$dir/orion_secret_3.key");
($ret, $out, $err) = $node->psql('postgres', qq{SELECT * FROM orion.enroll_totp('$user')}, extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/F0000: orion\.secret_key_file "orion_secret_3\.key" does not hold 64 hexadecimal digits/, 'a malformed key file is refused (F0000)');
$reconfigure->(secret_key_file => 'missing.key');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT * FROM orion.enroll_totp('$user')}, extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/58P01: could not read orion\.secret_key_file "missing\.key": No such file/, 'a missing key file is refused (58P01)');

# the settings themselves are the superuser's, and name only a path
$node->safe_psql('postgres', 'CREATE ROLE watcher LOGIN IN ROLE pg_monitor; CREATE ROLE nobody LOGIN');
is($node->safe_psql('postgres', 'SHOW orion.secret_key_file', extra_params => ['-U', 'watcher']), 'missing.key',
	'pg_monitor sees which file (a path, not a key)');
($ret, $out, $err) = $node->psql('postgres', 'SHOW orion.secret_key_file', extra_params => ['-U', 'nobody']);
# (15 and 16 say "must be superuser or have privileges of
# pg_read_all_settings"; 17 and later "permission denied to examine")
like($err, qr/must be superuser or have privileges of pg_read_all_settings|permission denied to examine "orion\.secret_key_file"/,
	'other roles do not');

my $log = slurp_file($node->logfile);
# (this node logs every statement: codes passed as literals are in it)
my @leaked = grep { index($log, $_) >= 0 } ($not_a_key, map { substr($_, 0, 16) } @keys);
is(scalar(@leaked), 0, 'no key file contents in the server log: ' . scalar(@keys) . ' keys and a malformed file');

$node->stop;
done_testing();
