# JWT access tokens against an independent implementation, npm jose, both
# ways, and key rotation under load.
#
# 1. orion's tokens verify with jose against orion.jwks() (HS256: with the
#    shared secret), for every algorithm, with the claims orion should have
#    made: random issuers, audiences, roles (quotes, backslashes, non-ASCII)
#    and users.
# 2. jose's tokens, signed with keys jose made and orion imported, verify in
#    orion with exactly the claims jose signed (random extra claims of every
#    JSON type), but validate_session refuses them (orion did not hand them
#    out for the session they name); every token jose makes
#    as an attacker would (tampered, wrong kid, alg confusion, none,
#    expired, not yet valid, wrong audience or issuer, oversized,
#    malformed) is refused by verify_jwt and validate_session.
# 3. Rotation under load: pgbench signs in with JWTs from four clients
#    while the key rotates every half second; every token issued verifies
#    afterwards (orion and jose), and none once its key's verify_until has
#    passed.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

use lib 'test/perl';
use OrionTest;

my $jose_version = '5.9.6';
my $lib = npm_install('jose', $jose_version);
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $json = JSON::PP->new->utf8->canonical;

my $node = PostgreSQL::Test::Cluster->new('jwt');
$node->init;
write_secret_key($node, 'orion_secret.key');
$node->append_conf('postgresql.conf', "orion.secret_key_file = 'orion_secret.key'\n");
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orion'\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
ALTER SYSTEM SET orion.argon2_memory_kib = 1024;
ALTER SYSTEM SET orion.argon2_iterations = 1;
SELECT pg_reload_conf();
CREATE TABLE issued (token text, claims jsonb, secret text);
});

# 1. orion signs, jose verifies
my $hs_secret = 'a shared secret of the services, "quoted" \\ and long enough';
my $users = $node->safe_psql('postgres', q{
SELECT count(orion.register_user(format('user%s.o''brien+tag-%s@example.com', i, md5(i::text)),
                                 'correct horse battery staple', NULL, NULL,
                                 (ARRAY['user', 'admin', 'edit"or', 'ré\viewer'])[1 + i % 4]))
  FROM generate_series(1, 20) i});
is($users, '20', 'twenty users with quotes and plus signs in their addresses');
foreach my $alg ('EdDSA', 'ES256', 'HS256')
{
	my $key = $alg eq 'HS256' ? "\$s\$$hs_secret\$s\$" : 'NULL';
	$node->safe_psql('postgres', qq{
SELECT orion.rotate_signing_key('$alg', $key);
DO \$\$
DECLARE
    u record;
    l record;
    r text;
    iss text;
    aud text;
BEGIN
    PERFORM set_config('orion.access_token_format', 'jwt', true);
    FOR i IN 1..100 LOOP
        SELECT * INTO u FROM orion_auth.users ORDER BY random() LIMIT 1;
        r := (ARRAY['authenticated', 'anon"ymous', 'back\\slash', 'ünïcødé ✓', ''])[1 + floor(random() * 5)::int];
        iss := (ARRAY['orion', 'https://auth.example.com/', 'iss "quoted"'])[1 + floor(random() * 3)::int];
        aud := (ARRAY['orion', 'api', 'ünï'])[1 + floor(random() * 3)::int];
        PERFORM set_config('orion.jwt_role', r, true);
        PERFORM set_config('orion.jwt_issuer', iss, true);
        PERFORM set_config('orion.jwt_audience', aud, true);
        SELECT * INTO l FROM orion.login(u.email, 'correct horse battery staple');
        INSERT INTO issued VALUES (l.access_token,
            jsonb_build_object('iss', iss, 'aud', aud, 'sub', u.id, 'sid', l.session_id, 'role', r,
                               'user_role', u.role, 'email', u.email, 'email_verified', coalesce(u.email_verified, false),
                               'iat', extract(epoch FROM l.access_expires_at)::bigint
                                      - extract(epoch FROM current_setting('orion.access_token_ttl')::interval)::bigint,
                               'exp', extract(epoch FROM l.access_expires_at)::bigint),
            $key);
    END LOOP;
END
\$\$;
});
}
my $tokens_file = "$tmp/orion-tokens.json";
my $jwks_file = "$tmp/jwks.json";
append_to_file($tokens_file, $node->safe_psql('postgres', q{
SELECT json_agg(json_build_object('token', token, 'claims', claims, 'issuer', claims->>'iss',
                                  'audience', claims->>'aud', 'secret', secret))
  FROM issued}));
append_to_file($jwks_file, $node->safe_psql('postgres', 'SELECT orion.jwks()'));
my $checked = decode_json(run_or_die('jose verifies the tokens orion made',
	'node', 'test/node/jwt-util.js', $lib, 'verify', $jwks_file, $tokens_file));
is($checked->{package}, $jose_version, "jwt-util.js used jose $jose_version");
is($checked->{checked}, 300, '300 tokens: 100 each of EdDSA, ES256, HS256');
is($checked->{verified}, $checked->{checked}, 'jose verifies every one, with the claims orion should have made')
  or diag(substr($json->encode($checked->{failures}), 0, 3000));
is($node->safe_psql('postgres', q{
SET orion.jwt_issuer = 'x';
SELECT count(*) FROM issued i
 WHERE NOT EXISTS (SELECT FROM orion.validate_session(i.token) v WHERE v.session_id::text = i.claims->>'sid')}), '300',
	'validate_session refuses them all for an issuer they do not name');

# 2. jose signs with keys it made, orion verifies
my $keys = decode_json(run_or_die('jose makes an Ed25519 and a P-256 key', 'node', 'test/node/jwt-util.js', $lib, 'keys'));
my %given;
foreach my $alg ('EdDSA', 'ES256')
{
	my $kid = $node->safe_psql('postgres', qq{SELECT orion.rotate_signing_key('$alg', \$pem\$$keys->{$alg}\$pem\$)});
	$given{$alg} = { kid => $kid, pem => $keys->{$alg} };
}
my $hs_kid = $node->safe_psql('postgres', qq{SELECT orion.rotate_signing_key('HS256', \$s\$$hs_secret\$s\$)});
$given{HS256} = { kid => $hs_kid, secret => $hs_secret };
my ($sub, $sid) = split /\|/, $node->safe_psql('postgres', q{
SELECT user_id, session_id FROM orion.login((SELECT email FROM orion_auth.users ORDER BY email LIMIT 1),
                                            'correct horse battery staple')});
$given{sub} = $sub;
$given{sid} = $sid;
my $keys_file = "$tmp/keys.json";
append_to_file($keys_file, $json->encode(\%given));
my $signed = decode_json(run_or_die('jose signs tokens', 'node', 'test/node/jwt-util.js', $lib, 'sign', $keys_file));
note("jwt-util.js PRNG seed: $signed->{seed} (node test/node/jwt-util.js DIR sign keys.json $signed->{seed} reproduces it)");
my $signed_file = "$tmp/jose-tokens.json";
append_to_file($signed_file, $json->encode($signed));
my ($valid_n, $claims_equal, $validated) = split /\|/, $node->safe_psql('postgres', qq{
SELECT count(*), count(*) FILTER (WHERE orion.verify_jwt(t->>'token') = t->'claims'),
       count(*) FILTER (WHERE EXISTS (SELECT FROM orion.validate_session(t->>'token') v WHERE v.session_id = '$sid'))
  FROM jsonb_array_elements(pg_read_file('$signed_file')::jsonb->'valid') t});
is($valid_n, 300, '300 tokens jose signed, 100 per algorithm, with random extra claims');
is($claims_equal, $valid_n, 'orion verifies every one, with exactly the claims jose signed');
is($validated, 0, 'but validate_session opens no session with them: they name a live session, but orion did not issue them for it');
my @refused = @{ $node->safe_psql('postgres', qq{
SELECT coalesce(json_agg(t->>'case'), '[]')
  FROM jsonb_array_elements(pg_read_file('$signed_file')::jsonb->'refused') t
 WHERE orion.verify_jwt(t->>'token') IS NOT NULL
    OR EXISTS (SELECT FROM orion.validate_session(t->>'token'))}) =~ /^(\[.*\])$/ ? decode_json($1) : ['(unreadable)'] };
my $refused_n = scalar(@{ $signed->{refused} });
ok($refused_n >= 24, "$refused_n tokens made to be refused");
is_deeply(\@refused, [], 'verify_jwt and validate_session refuse every one of them');

# 3. rotation under load
$node->safe_psql('postgres', q{
TRUNCATE issued;
SELECT orion.rotate_signing_key('EdDSA');
SELECT orion.register_user('load' || i || '@example.com', 'correct horse battery staple') FROM generate_series(1, 4) i;
});
my $script = "$tmp/login.sql";
append_to_file($script, q{\set n random(1, 4)
INSERT INTO issued (token) SELECT access_token FROM orion.login('load' || :n || '@example.com', 'correct horse battery staple');
});
my $bindir = $node->config_data('--bindir');
local $ENV{PGOPTIONS} = '-c orion.access_token_format=jwt';
my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[ "$bindir/pgbench", '-n', '-c', '4', '-j', '2', '-T', '6', '-f', $script,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
my $rotations = 0;
for (1 .. 10)
{
	usleep(500_000);
	$node->safe_psql('postgres', sprintf("SELECT orion.rotate_signing_key('%s')", $rotations % 2 ? 'EdDSA' : 'ES256'));
	$rotations++;
}
my $pgbench_ok = $pgbench->finish;
delete $ENV{PGOPTIONS};
ok($pgbench_ok, 'pgbench signed in for 6 s without an error') or diag($err);
my ($issued, $kids, $orion_ok) = split /\|/, $node->safe_psql('postgres', q{
SELECT count(*), count(DISTINCT convert_from(decode(rpad(translate(split_part(token, '.', 1), '-_', '+/'),
                                   (length(split_part(token, '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb->>'kid'),
       count(*) FILTER (WHERE EXISTS (SELECT FROM orion.validate_session(token)))
  FROM issued});
ok($issued > 20, "$issued tokens issued while the key rotated $rotations times");
ok($kids >= 5, "signed by $kids different keys");
is($orion_ok, $issued, 'validate_session accepts every one after the rotations');
unlink $tokens_file, $jwks_file;
append_to_file($tokens_file, $node->safe_psql('postgres', q{
SELECT json_agg(json_build_object('token', token, 'claims', orion.verify_jwt(token),
                                  'issuer', 'orion', 'audience', 'orion'))
  FROM issued}));
append_to_file($jwks_file, $node->safe_psql('postgres', 'SELECT orion.jwks()'));
$checked = decode_json(run_or_die('jose verifies the tokens issued during rotations',
	'node', 'test/node/jwt-util.js', $lib, 'verify', $jwks_file, $tokens_file));
is($checked->{verified}, $issued, 'jose verifies every one against orion.jwks()')
  or diag(substr($json->encode($checked->{failures}), 0, 3000));
# the retired keys' last tokens expire: then they verify nothing, and the
# current key's (three more, signed now) still do
$node->safe_psql('postgres', q{
SET orion.access_token_format = jwt;
INSERT INTO issued (token) SELECT access_token FROM orion.login('load1@example.com', 'correct horse battery staple');
INSERT INTO issued (token) SELECT access_token FROM orion.login('load2@example.com', 'correct horse battery staple');
INSERT INTO issued (token) SELECT access_token FROM orion.login('load3@example.com', 'correct horse battery staple');
});
$issued += 3;
$node->safe_psql('postgres', q{UPDATE orion_auth.signing_keys SET verify_until = now() WHERE retired_at IS NOT NULL});
my ($still, $by_current) = split /\|/, $node->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE orion.verify_jwt(token) IS NOT NULL),
       count(*) FILTER (WHERE convert_from(decode(rpad(translate(split_part(token, '.', 1), '-_', '+/'),
                                   (length(split_part(token, '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb->>'kid'
                              = (SELECT kid FROM orion_auth.signing_keys WHERE retired_at IS NULL))
  FROM issued});
ok($by_current >= 3, "$by_current tokens of the current key");
is($still, $by_current, "past verify_until, only the current key's tokens verify ($still of $issued)");
is($node->safe_psql('postgres', q{SELECT jsonb_array_length(orion.jwks()->'keys')}), '1',
	'and the JWKS lists the current key alone');

$node->stop;
done_testing();
