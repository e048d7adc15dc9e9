# pg_dump and pg_restore carry every row of every orion table: the tables are
# registered with pg_extension_config_dump, and the restore recreates the
# extension first, then loads the data in foreign-key order. Rows loaded by
# COPY pass orion's triggers unchecked and unannounced: a dump restores in
# pg_dump's table order, whatever references what.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
use_secret_key($node);
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE source');
$node->safe_psql('source', q{
CREATE EXTENSION orion CASCADE;
INSERT INTO orion_auth.users (id, email, password_hash, first_name, role, email_verified)
SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid,
       'user' || i || '@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
       'User ' || i, CASE WHEN i % 10 = 0 THEN 'admin' ELSE 'user' END, i % 2 = 0
  FROM generate_series(1, 50) AS i;
INSERT INTO orion_auth.sessions (user_id, token, ip_address, user_agent, expires_at)
SELECT id, encode(sha256(convert_to('s' || id, 'UTF8')), 'hex'), '203.0.113.7', 'test', now() + interval '15 minutes'
  FROM orion_auth.users;
INSERT INTO orion_auth.refresh_tokens (user_id, token, expires_at, revoked, revoked_reason)
SELECT id, encode(sha256(convert_to('r' || id, 'UTF8')), 'hex'), now() + interval '7 days',
       email LIKE 'user1%', CASE WHEN email LIKE 'user1%' THEN 'rotated' END
  FROM orion_auth.users;
INSERT INTO orion_auth.audit_logs (user_id, action, resource, resource_id, old_data, new_data)
SELECT id, 'auth.login', 'session', id::text, NULL, '{"ok": true}' FROM orion_auth.users;
INSERT INTO orion_auth.audit_logs (action, resource) VALUES ('user.deleted', 'user');
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, read)
SELECT id, 'welcome', 'in_app', 'Welcome', 'Hello, ' || first_name, '{"k": 1}', email LIKE 'user2%'
  FROM orion_auth.users;
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, config, rollout)
VALUES ('new-checkout', 'New checkout', true, '{"color": "blue"}', '{"percentage": 25}'),
       ('dark-mode', 'Dark mode', false, NULL, NULL);
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
VALUES ('pricing', 'Pricing', '[{"key": "control", "weight": 50}, {"key": "b", "weight": 50}]', true);
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
SELECT u.id, t.id, CASE WHEN random() < 0.5 THEN 'control' ELSE 'b' END
  FROM orion_auth.users u, orion_ab_testing.ab_tests t;
INSERT INTO orion_ab_testing.ab_test_conversions (test_id, user_id, variant, event, value)
SELECT test_id, user_id, variant, 'purchase', 9.90 FROM orion_ab_testing.ab_test_assignments LIMIT 20;
INSERT INTO orion_feature_flags.segments (id, name, constraints)
VALUES (7, 'beta testers', '[{"contextName": "beta", "operator": "IN", "values": ["yes"]}]');
-- a signing key, and a session signed in with a JWT (see below)
SELECT orion.rotate_signing_key();
-- a notification kept anonymised after its user's deletion names no user
SET orion.user_delete_notifications = 'anonymize';
DELETE FROM orion_auth.users WHERE email = 'user50@example.com';
});

my @tables = qw(orion_auth.users orion_auth.sessions orion_auth.refresh_tokens
  orion_auth.signing_keys orion_auth.audit_logs orion_notifications.notifications
  orion_feature_flags.feature_flags orion_feature_flags.segments
  orion_ab_testing.ab_tests orion_ab_testing.ab_test_assignments
  orion_ab_testing.ab_test_conversions);

# One line per table: its row count and a digest of every row.
sub contents
{
	my ($db) = @_;
	return $node->safe_psql($db, join("\nUNION ALL\n",
		map { "SELECT '$_', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM $_ t" } @tables));
}

# a JWT access token issued before the dump: the keys travel with the data
$node->safe_psql('source', q{
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;
SELECT orion.register_user('jwt@example.com', 'correct horse battery staple')});
my $jwt;
$jwt = $node->safe_psql('source', q{
SET orion.access_token_format = jwt;
SELECT access_token FROM orion.login('jwt@example.com', 'correct horse battery staple')});
like($jwt, qr/^eyJ/, 'a JWT signed in the source database');
my $before = contents('source');
unlike($before, qr/\|0\|/, 'every table has rows');

my $dumpdir = PostgreSQL::Test::Utils::tempdir;
my $port = $node->port;
my $host = $node->host;

# custom format through pg_restore
command_ok([ 'pg_dump', '-h', $host, '-p', $port, '-Fc', '-f', "$dumpdir/orion.dump", 'source' ],
	'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'pg_restore', '-h', $host, '-p', $port, '--exit-on-error', '-d', 'restored', "$dumpdir/orion.dump" ],
	'pg_restore into a new database');
is(contents('restored'), $before, 'pg_restore: every row of every table is back');
is($node->safe_psql('restored', "SELECT count(*) FROM orion.validate_session('$jwt')"), '1',
	'a JWT issued before the dump validates in the restored database (the signing keys came back)');

# plain format through psql
command_ok([ 'pg_dump', '-h', $host, '-p', $port, '-f', "$dumpdir/orion.sql", 'source' ], 'pg_dump plain');
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $host, '-p', $port,
	'-d', 'restored_plain', '-f', "$dumpdir/orion.sql" ], 'plain dump replays with psql');
is(contents('restored_plain'), $before, 'plain dump: every row of every table is back');

# the restored database is a working orion: constraints and grants came back
my ($ret, $out, $err) = $node->psql('restored',
	q{INSERT INTO orion_auth.users (email, password_hash) VALUES ('USER1@example.com', 'x')});
like($err, qr/duplicate key value violates unique constraint "users_email_lower_key"/,
	'case-insensitive email still enforced after restore');
is($node->safe_psql('restored',
	q{SELECT has_table_privilege('orion_user_service', 'orion_user.users', 'SELECT')}), 't',
	'grants restored');

# the restore loaded rows past the user-reference triggers (COPY is not
# checked, whatever order the tables come in), which still guard new rows
($ret, $out, $err) = $node->psql('restored',
	q{INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
	  VALUES ('00000000-0000-0000-0000-0000000000ff', 'x', 'email', 'T', 'M')});
like($err, qr/user 00000000-0000-0000-0000-0000000000ff does not exist/,
	'user references still enforced after restore');
is($node->safe_psql('restored', q{SELECT sum(orphans) FROM orion.find_orphans()}), '0',
	'no orphans after restore');

$node->stop;
done_testing();
