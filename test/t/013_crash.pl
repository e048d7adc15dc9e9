# Crashes in the middle of orion's writing operations: after recovery there
# must be no half state.
#
# Each operation is paused inside its transaction, after some of its writes,
# and the server is crashed there, two ways: kill -9 of that backend (the
# postmaster then resets every backend and recovers), and an immediate
# shutdown of the postmaster followed by a start. Where the operation waits is
# confirmed from pg_stat_activity and pg_locks before the kill: the pause it
# waits in, its query, and the tables it holds RowExclusiveLock on (those it
# has written to).
#
# How an operation is paused:
#  - a test-only trigger, crashtest.pause(), on the table the operation
#    writes last or in between: when the session asked for it (SET
#    crashtest.pause = '<schema>.<table>'), it waits for advisory lock 4242,
#    which the test holds;
#  - login: also a high Argon2 cost (SET orion.argon2_memory_kib and
#    orion.argon2_iterations, as superuser), so that the rehash of the
#    password is still running, with the user's row locked;
#  - maintenance: orion.maintenance_batch_delay, a pause between two batches
#    of a pass, with many dead sessions: the worker's batches each commit, so
#    the kill lands between committed batches; orion.expire_sessions() called
#    from SQL runs its batches in the caller's transaction, so the kill lands
#    inside it. A test-only gate (a statement trigger on orion_auth.sessions
#    that only the worker waits at) lets the worker delete two batches, so
#    that no batch can start between the test's look and the kill, and holds
#    the worker that comes back after the crash until the test has looked at
#    what the crash left.
#
# After every crash: the tables hold exactly what was committed before it (a
# fingerprint of every row of orion's tables, taken while the victim was
# paused), and the invariants below hold over the whole database:
#  - login: a session exists with its refresh token and its auth.login audit
#    entry, or none of them; failure counts and locks agree with the audit
#    log;
#  - refresh: a token revoked as rotated has its successor in the same
#    session; a session with a previous token has a rotated refresh token; a
#    session revoked for reuse has its audit entry, and no live token;
#  - assignments: every one names an existing user, one per user and test,
#    and the answer after recovery is stable and equals peek_variant;
#  - user deletion: each deleted user has its audit entry and nothing left
#    behind (orion.find_orphans() finds nothing); a user not deleted has
#    everything;
#  - maintenance: the worker's committed batches are gone, the rest is there,
#    no live session was removed, every refresh token has its session; the
#    worker comes back and finishes the job, and orion.status records its
#    pass (the crashed pass is not recorded at all: a TODO test says what
#    orion.status total_removed misses).
# Then the interrupted operation is run to its end, to show that what the
# crash left behind works. A last immediate shutdown checks that all the
# work committed along the way survives.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'orion'
restart_after_crash = on
});
$node->start;

my @ways = ('kill -9', 'immediate shutdown');
my $password = 'correct horse battery staple';
my $psql = $node->installed_command('psql');
my $pause_lock = 4242;

###############################################################################
# Setup: orion, fast Argon2 by default, the pause trigger
###############################################################################

# Test objects live in schema crashtest, apart from orion's.
my $crashtest_schema = qq{
CREATE SCHEMA crashtest;
-- Pauses the operation that fires it, in its transaction, when its session
-- asked for it: SET crashtest.pause = '<schema>.<table>', and optionally
-- crashtest.pause_after = n, to pause at the n-th firing only (a count kept
-- in crashtest.seen). It waits for advisory lock $pause_lock, which the test
-- holds.
CREATE FUNCTION crashtest.pause() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE
	seen integer;
BEGIN
	IF current_setting('crashtest.pause', true) IS DISTINCT FROM TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME THEN
		RETURN NULL;
	END IF;
	seen := coalesce(nullif(current_setting('crashtest.seen', true), ''), '0')::integer + 1;
	PERFORM set_config('crashtest.seen', seen::text, false);
	IF seen >= coalesce(nullif(current_setting('crashtest.pause_after', true), ''), '1')::integer THEN
		PERFORM pg_advisory_xact_lock($pause_lock);
	END IF;
	RETURN NULL;
END
\$\$;
};

$node->safe_psql('postgres', qq{
CREATE EXTENSION orion CASCADE;
-- Cheap hashes for every session of the test; the Argon2 case raises them.
ALTER DATABASE postgres SET orion.argon2_memory_kib = 1024;
ALTER DATABASE postgres SET orion.argon2_iterations = 1;
$crashtest_schema
-- where each operation is paused: the last or an in-between write
CREATE TRIGGER crashtest_pause AFTER INSERT ON orion_auth.audit_logs
	FOR EACH ROW EXECUTE FUNCTION crashtest.pause();
CREATE TRIGGER crashtest_pause AFTER UPDATE ON orion_auth.sessions
	FOR EACH ROW EXECUTE FUNCTION crashtest.pause();
CREATE TRIGGER crashtest_pause AFTER INSERT ON orion_ab_testing.ab_test_assignments
	FOR EACH ROW EXECUTE FUNCTION crashtest.pause();
CREATE TRIGGER crashtest_pause AFTER DELETE OR UPDATE ON orion_notifications.notifications
	FOR EACH STATEMENT EXECUTE FUNCTION crashtest.pause();
});

###############################################################################
# Helpers
###############################################################################

# A psql of its own on database $db, application_name $name, running
# @statements one after another; not waited for. Returns a hash with its
# harness (h), and its stdout (out) and stderr (err) once reaped.
sub start_psql
{
	my ($db, $name, @statements) = @_;
	my $p = { name => $name, out => '', err => '' };
	$p->{h} = IPC::Run::start(
		[
			$psql, '-XAtq', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr($db) . " application_name=$name",
			map { ('-c', $_) } @statements
		],
		'<', \undef, '>', \$p->{out}, '2>', \$p->{err},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	return $p;
}

# Wait for a psql of start_psql to end (it does with the crash).
sub reap
{
	my ($p) = @_;
	eval { $p->{h}->finish };
	return $p;
}

# test: the victim of $what never got an answer: its connection went with
# the crash
sub victim_got_no_answer
{
	my ($victim, $what) = @_;
	reap($victim);
	is($victim->{out}, '', "$what: the operation returned nothing to its client");
	like($victim->{err}, qr/server closed the connection unexpectedly|terminating connection/,
		"$what: its client lost the connection");
}

# The test takes advisory lock $pause_lock in a session of its own (which
# the crash ends), so that crashtest.pause() waits.
sub hold_pause_lock
{
	my ($what) = @_;
	my $holder = start_psql('postgres', 'crash_pause_holder',
		"SELECT pg_advisory_lock($pause_lock)", 'SELECT pg_sleep(3600)');
	ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $pause_lock AND granted}),
		"$what: the test holds the pause lock");
	return $holder;
}

# The tables (of orion's schemas) backend $pid holds RowExclusiveLock on in
# $db: those it has written to, sorted, separated by spaces.
sub tables_written
{
	my ($db, $pid) = @_;
	return $node->safe_psql($db, qq{
SELECT string_agg(c.oid::regclass::text, ' ' ORDER BY c.oid::regclass::text)
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = $pid AND l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND c.relnamespace::regnamespace::text LIKE 'orion%'});
}

# test: the victim of $what waits in crashtest.pause(), in a transaction
# that has written (an xid) to exactly the tables $written, running a query
# that matches $query_re. Returns its pid.
sub paused_in_trigger
{
	my ($victim, $what, $written, $query_re) = @_;
	ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
 WHERE a.application_name = '$victim->{name}' AND a.state = 'active'
   AND a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'
   AND l.locktype = 'advisory' AND l.objid = $pause_lock AND NOT l.granted}),
		"$what: the operation waits in the pause trigger (pg_stat_activity: advisory lock wait; pg_locks: not granted)");
	my ($pid, $has_xid, $query) = split /\|/, $node->safe_psql('postgres', qq{
SELECT pid, backend_xid IS NOT NULL, query FROM pg_stat_activity WHERE application_name = '$victim->{name}'});
	like($query, $query_re, "$what: pg_stat_activity shows its query");
	is($has_xid, 't', "$what: its transaction has written (it has an xid)");
	is(tables_written('postgres', $pid), $written, "$what: it has written to $written");
	return $pid;
}

# Every row of orion's tables in $db, as one digest and a count: what is
# committed, as this session sees it.
sub fingerprint
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
SELECT md5(string_agg(r, E'\n' ORDER BY r)) || ' over ' || count(*) || ' rows' FROM (
	SELECT 'users ' || to_jsonb(x)::text FROM orion_auth.users x UNION ALL
	SELECT 'sessions ' || to_jsonb(x)::text FROM orion_auth.sessions x UNION ALL
	SELECT 'refresh_tokens ' || to_jsonb(x)::text FROM orion_auth.refresh_tokens x UNION ALL
	SELECT 'audit_logs ' || to_jsonb(x)::text FROM orion_auth.audit_logs x UNION ALL
	SELECT 'notifications ' || to_jsonb(x)::text FROM orion_notifications.notifications x UNION ALL
	SELECT 'ab_tests ' || to_jsonb(x)::text FROM orion_ab_testing.ab_tests x UNION ALL
	SELECT 'ab_test_assignments ' || to_jsonb(x)::text FROM orion_ab_testing.ab_test_assignments x UNION ALL
	SELECT 'ab_test_conversions ' || to_jsonb(x)::text FROM orion_ab_testing.ab_test_conversions x UNION ALL
	SELECT 'maintenance_state ' || to_jsonb(x)::text FROM orion.maintenance_state x
) f(r)});
}

# test: the server log shows $re after byte $offset
sub log_shows
{
	my ($re, $offset, $name) = @_;
	ok(defined eval { $node->wait_for_log($re, $offset) }, $name);
}

# Crash the server in the way $how while backend $pid is where the test
# paused it, and wait until it has recovered.
sub crash
{
	my ($how, $pid, $what) = @_;
	my $offset = -s $node->logfile;
	if ($how eq 'kill -9')
	{
		is(kill('KILL', $pid), 1, "$what: kill -9 of backend $pid");
		log_shows(qr/\(PID $pid\) was terminated by signal 9/, $offset,
			"$what: the postmaster saw the backend die");
		log_shows(qr/all server processes terminated; reinitializing/, $offset,
			"$what: and reset every backend");
	}
	else
	{
		$node->stop('immediate');
		$node->start;
	}
	log_shows(qr/database system was not properly shut down; automatic recovery in progress/, $offset,
		"$what: the server recovered from the crash");
	log_shows(qr/database system is ready to accept connections/, $offset,
		"$what: and accepts connections again");
}

# What must hold in database postgres whatever crashed, and when: one row
# per violated rule with its count; none when all hold.
my $invariants = q{
SELECT rule || ': ' || n FROM (
	SELECT 'a session without a refresh token' AS rule, count(*) AS n
	  FROM orion_auth.sessions s
	 WHERE NOT EXISTS (SELECT FROM orion_auth.refresh_tokens r WHERE r.session_id = s.id)
	UNION ALL
	SELECT 'a refresh token without its session', count(*)
	  FROM orion_auth.refresh_tokens r
	 WHERE NOT EXISTS (SELECT FROM orion_auth.sessions s WHERE s.id = r.session_id)
	UNION ALL
	SELECT 'a session of a login without its auth.login audit entry', count(*)
	  FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id
	 WHERE u.email NOT LIKE 'bulk-%'
	   AND NOT EXISTS (SELECT FROM orion_auth.audit_logs a WHERE a.action = 'auth.login' AND a.resource_id = s.id::text)
	UNION ALL
	SELECT 'an auth.login audit entry of an existing user without its session', count(*)
	  FROM orion_auth.audit_logs a
	 WHERE a.action = 'auth.login' AND a.user_id IS NOT NULL
	   AND NOT EXISTS (SELECT FROM orion_auth.sessions s WHERE s.id::text = a.resource_id)
	UNION ALL
	SELECT 'a failure count unlike the auth.login_failed entries', count(*)
	  FROM orion_auth.users u
	 WHERE u.email LIKE 'lock%'
	   AND u.failed_login_count <> (SELECT count(*) FROM orion_auth.audit_logs a
	                                 WHERE a.user_id = u.id AND a.action = 'auth.login_failed')
	UNION ALL
	SELECT 'a lock unlike the auth.account_locked entries', count(*)
	  FROM orion_auth.users u
	 WHERE u.email LIKE 'lock%'
	   AND (u.locked_until IS NOT NULL) <> EXISTS (SELECT FROM orion_auth.audit_logs a
	                                                WHERE a.user_id = u.id AND a.action = 'auth.account_locked')
	UNION ALL
	SELECT 'a rotated refresh token without a successor in its session', count(*)
	  FROM orion_auth.refresh_tokens r
	 WHERE r.revoked AND r.revoked_reason = 'rotated'
	   AND NOT EXISTS (SELECT FROM orion_auth.refresh_tokens n
	                    WHERE n.session_id = r.session_id AND n.id <> r.id AND n.created_at >= r.revoked_at)
	UNION ALL
	SELECT 'a session with a previous access token but no rotated refresh token', count(*)
	  FROM orion_auth.sessions s
	 WHERE s.previous_token IS NOT NULL
	   AND NOT EXISTS (SELECT FROM orion_auth.refresh_tokens r
	                    WHERE r.session_id = s.id AND r.revoked_reason = 'rotated')
	UNION ALL
	SELECT 'a session revoked for reuse without its audit entry', count(*)
	  FROM orion_auth.sessions s
	 WHERE s.revoked_reason = 'refresh_token_reused'
	   AND NOT EXISTS (SELECT FROM orion_auth.audit_logs a
	                    WHERE a.action = 'auth.refresh_token_reused' AND a.resource_id = s.id::text)
	UNION ALL
	SELECT 'an auth.refresh_token_reused entry of a session not revoked for reuse', count(*)
	  FROM orion_auth.audit_logs a
	 WHERE a.action = 'auth.refresh_token_reused'
	   AND NOT EXISTS (SELECT FROM orion_auth.sessions s
	                    WHERE s.id::text = a.resource_id AND s.revoked_reason = 'refresh_token_reused')
	UNION ALL
	SELECT 'a revoked session with a refresh token not revoked', count(*)
	  FROM orion_auth.sessions s
	 WHERE s.revoked_at IS NOT NULL
	   AND EXISTS (SELECT FROM orion_auth.refresh_tokens r WHERE r.session_id = s.id AND NOT r.revoked)
	UNION ALL
	SELECT 'an AB assignment of a user who does not exist', count(*)
	  FROM orion_ab_testing.ab_test_assignments a
	 WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = a.user_id)
	UNION ALL
	SELECT 'two AB assignments of one user in one test', count(*)
	  FROM (SELECT FROM orion_ab_testing.ab_test_assignments GROUP BY user_id, test_id HAVING count(*) > 1) d
	UNION ALL
	SELECT 'a conversion without its assignment', count(*)
	  FROM orion_ab_testing.ab_test_conversions c
	 WHERE NOT EXISTS (SELECT FROM orion_ab_testing.ab_test_assignments a
	                    WHERE a.user_id = c.user_id AND a.test_id = c.test_id)
	UNION ALL
	SELECT 'orion.find_orphans(): ' || table_name, orphans FROM orion.find_orphans()
	UNION ALL
	SELECT 'a user.deleted audit entry of a user who still exists', count(*)
	  FROM orion_auth.audit_logs a
	 WHERE a.action = 'user.deleted'
	   AND EXISTS (SELECT FROM orion_auth.users u WHERE u.id::text = a.resource_id)
	UNION ALL
	SELECT 'a bulk user gone without a user.deleted audit entry', count(*)
	  FROM crashtest.bulk_users b
	 WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = b.id)
	   AND NOT EXISTS (SELECT FROM orion_auth.audit_logs a WHERE a.action = 'user.deleted' AND a.resource_id = b.id::text)
	UNION ALL
	SELECT 'a user.deleted audit entry not alone', count(*)
	  FROM (SELECT FROM orion_auth.audit_logs WHERE action = 'user.deleted' GROUP BY resource_id HAVING count(*) > 1) d
) v WHERE n > 0};

# test: the invariants hold in database postgres
sub invariants_hold
{
	my ($what) = @_;
	is($node->safe_psql('postgres', $invariants), '', "$what: every invariant holds (no half state)");
}

# The SHA-256 of a token as orion stores it, in SQL
sub digest_sql
{
	my ($token) = @_;
	return "encode(sha256(convert_to('$token', 'UTF8')), 'hex')";
}

###############################################################################
# Users and data of the scenarios (database postgres)
###############################################################################

my %uid;
foreach my $who (qw(login argon lock refresh))
{
	$uid{$who} = $node->safe_psql('postgres',
		"SELECT orion.register_user('$who\@example.com', '$password')");
}

# login@ has signed in once; lock@ has failed four times of five
$node->safe_psql('postgres', "SELECT count(*) FROM orion.login('login\@example.com', '$password')");
foreach my $i (1 .. 4)
{
	$node->safe_psql('postgres', "SELECT count(*) FROM orion.login('lock\@example.com', 'wrong password $i')");
}

# refresh@ signs in: the tokens the refresh scenarios present
my ($refresh_session, $access1, $refresh1) = split /\|/, $node->safe_psql('postgres', qq{
SELECT session_id, access_token, refresh_token FROM orion.login('refresh\@example.com', '$password')});
like($refresh1, qr/^orion_r_/, 'refresh@ signs in');

# AB tests: 'crash-ab' for the assignment scenario (1,000 users, 100 of
# them assigned already), 'bulk-ab' for the bulk delete.
$node->safe_psql('postgres', q{
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
VALUES ('crash-ab', 'Crash AB', '[{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}]', true),
       ('bulk-ab', 'Bulk AB', '[{"key": "a", "weight": 1}, {"key": "b", "weight": 1}]', true);
INSERT INTO orion_auth.users (email, password_hash)
SELECT format('ab-%s@example.com', lpad(g::text, 4, '0')), 'x' FROM generate_series(1, 1000) g;
SELECT count(orion.assign_variant('crash-ab', id))
  FROM (SELECT id FROM orion_auth.users WHERE email LIKE 'ab-%' ORDER BY email LIMIT 100) u;
});

# 2,000 users to delete in one statement, each with a session and its
# refresh token, two notifications, an AB assignment, and for half of them a
# conversion.
$node->safe_psql('postgres', q{
CREATE TABLE crashtest.bulk_users (id uuid PRIMARY KEY);
WITH u AS (
	INSERT INTO orion_auth.users (email, password_hash)
	SELECT format('bulk-%s@example.com', g), 'x' FROM generate_series(1, 2000) g RETURNING id)
INSERT INTO crashtest.bulk_users SELECT id FROM u;
WITH s AS (
	INSERT INTO orion_auth.sessions (user_id, token, expires_at)
	SELECT id, encode(sha256(convert_to('bulk-session-' || id, 'UTF8')), 'hex'), now() + interval '1 hour'
	  FROM crashtest.bulk_users RETURNING id, user_id)
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
SELECT user_id, id, encode(sha256(convert_to('bulk-refresh-' || id, 'UTF8')), 'hex'), now() + interval '1 day' FROM s;
SELECT orion.send_notifications(array_agg(id), 'welcome', 'in_app', 'Welcome', 'Hello.', '{"k": 1}') FROM crashtest.bulk_users;
SELECT orion.send_notifications(array_agg(id), 'news', 'email', 'News', 'Read this.', '{"k": 2}') FROM crashtest.bulk_users;
SELECT count(orion.assign_variant('bulk-ab', id)) FROM crashtest.bulk_users;
SELECT count(orion.track_conversion('bulk-ab', id, 'purchase'))
  FROM (SELECT id FROM crashtest.bulk_users ORDER BY id LIMIT 1000) b;
});

# What a bulk user has, over all 2,000: users, sessions, refresh tokens,
# assignments, conversions, notifications naming them, notifications with
# their metadata, user.deleted audit entries.
my $bulk_state = q{
SELECT (SELECT count(*) FROM orion_auth.users u JOIN crashtest.bulk_users b USING (id)),
       (SELECT count(*) FROM orion_auth.sessions s JOIN crashtest.bulk_users b ON b.id = s.user_id),
       (SELECT count(*) FROM orion_auth.refresh_tokens r JOIN crashtest.bulk_users b ON b.id = r.user_id),
       (SELECT count(*) FROM orion_ab_testing.ab_test_assignments a JOIN crashtest.bulk_users b ON b.id = a.user_id),
       (SELECT count(*) FROM orion_ab_testing.ab_test_conversions c JOIN crashtest.bulk_users b ON b.id = c.user_id),
       (SELECT count(*) FROM orion_notifications.notifications n JOIN crashtest.bulk_users b ON b.id = n.user_id),
       (SELECT count(*) FROM orion_notifications.notifications WHERE metadata IS NOT NULL),
       (SELECT count(*) FROM orion_auth.audit_logs a JOIN crashtest.bulk_users b ON a.resource_id = b.id::text
         WHERE a.action = 'user.deleted')};
is($node->safe_psql('postgres', $bulk_state), '2000|2000|2000|2000|1000|4000|4000|0',
	'the 2,000 bulk users have a session, a refresh token, an assignment, two notifications, half a conversion');
invariants_hold('before any crash');

###############################################################################
# (1) login
###############################################################################

# (1a) a successful login, paused at the insert of its audit entry, its last
# write: the user's row is updated, the session and refresh token inserted.
my $login_state = qq{
SELECT (SELECT count(*) FROM orion_auth.sessions WHERE user_id = '$uid{login}'),
       (SELECT count(*) FROM orion_auth.refresh_tokens WHERE user_id = '$uid{login}'),
       (SELECT count(*) FROM orion_auth.audit_logs WHERE user_id = '$uid{login}' AND action = 'auth.login'),
       (SELECT last_login_at FROM orion_auth.users WHERE id = '$uid{login}')};
my $login_before = $node->safe_psql('postgres', $login_state);
like($login_before, qr/^1\|1\|1\|\d/, 'login@ has signed in once');
foreach my $how (@ways)
{
	my $what = "login paused at its audit entry, $how";
	my $holder = hold_pause_lock($what);
	my $victim = start_psql('postgres', 'crash_login', "SET crashtest.pause = 'orion_auth.audit_logs'",
		"SELECT session_id FROM orion.login('login\@example.com', '$password')");
	my $pid = paused_in_trigger($victim, $what,
		'orion_auth.audit_logs orion_auth.refresh_tokens orion_auth.sessions orion_auth.users', qr/orion\.login\(/);
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	reap($holder);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('postgres', $login_state), $login_before,
		"$what: no new session, refresh token or audit entry, last_login_at unchanged");
	invariants_hold($what);
}
like($node->safe_psql('postgres', "SELECT session_id FROM orion.login('login\@example.com', '$password')"),
	qr/^[0-9a-f-]{36}$/, 'after the crashes login@ signs in');
like($node->safe_psql('postgres', $login_state), qr/^2\|2\|2\|\d/,
	'with a second session, refresh token and audit entry');

# (1b) a successful login that rehashes the password at a high Argon2 cost:
# paused (still hashing) with the user's row locked, before any write.
my $argon_state = qq{
SELECT password_hash, last_login_at,
       (SELECT count(*) FROM orion_auth.sessions WHERE user_id = '$uid{argon}'),
       (SELECT count(*) FROM orion_auth.audit_logs WHERE user_id = '$uid{argon}' AND action LIKE 'auth.login%')
  FROM orion_auth.users WHERE id = '$uid{argon}'};
my $argon_before = $node->safe_psql('postgres', $argon_state);
like($argon_before, qr/^\$argon2id\$v=19\$m=1024,t=1,p=1\$.*\|\|0\|0$/, 'argon@ has a cheap hash and no session');
foreach my $how (@ways)
{
	my $what = "login rehashing at a high Argon2 cost, $how";
	# 256 MB, 64 passes: many seconds of hashing, far longer than the test
	# takes to look and kill
	my $victim = start_psql('postgres', 'crash_argon', 'SET orion.argon2_memory_kib = 262144',
		'SET orion.argon2_iterations = 64',
		"SELECT session_id FROM orion.login('argon\@example.com', '$password')");
	ok($node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'crash_argon' AND state = 'active' AND query LIKE '%orion.login(%'
   AND wait_event IS NULL AND backend_xid IS NOT NULL}),
		"$what: the login runs, on the CPU (no wait event), in a transaction with an xid");
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT 1 FROM orion_auth.users WHERE id = '$uid{argon}' FOR UPDATE NOWAIT");
	like($err, qr/could not obtain lock on row in relation "users"/,
		"$what: it holds the user's row (locked FOR UPDATE before the hash)");
	my $pid = $node->safe_psql('postgres', q{
SELECT pid FROM pg_stat_activity WHERE application_name = 'crash_argon' AND state = 'active' AND wait_event IS NULL});
	like($pid, qr/^\d+$/, "$what: still hashing after the check");
	is(tables_written('postgres', $pid), '', "$what: it has written to no table yet");
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('postgres', $argon_state), $argon_before,
		"$what: the old hash stays, no session, no audit entry");
	invariants_hold($what);
}
like($node->safe_psql('postgres', "SELECT session_id FROM orion.login('argon\@example.com', '$password')"),
	qr/^[0-9a-f-]{36}$/, 'after the crashes argon@ signs in (at the cheap cost)');

# (1c) the fifth failed login of lock@, which locks the account: paused at
# its first audit entry, after the failure count and the lock are written.
my $lock_state = qq{
SELECT failed_login_count, locked_until IS NOT NULL,
       (SELECT count(*) FROM orion_auth.audit_logs WHERE user_id = '$uid{lock}' AND action = 'auth.login_failed'),
       (SELECT count(*) FROM orion_auth.audit_logs WHERE user_id = '$uid{lock}' AND action = 'auth.account_locked')
  FROM orion_auth.users WHERE id = '$uid{lock}'};
is($node->safe_psql('postgres', $lock_state), '4|f|4|0', 'lock@ has failed four times, audited, not locked');
foreach my $how (@ways)
{
	my $what = "the failed login that locks, $how";
	my $holder = hold_pause_lock($what);
	my $victim = start_psql('postgres', 'crash_lock', "SET crashtest.pause = 'orion_auth.audit_logs'",
		"SELECT count(*) FROM orion.login('lock\@example.com', 'wrong password 5')");
	my $pid = paused_in_trigger($victim, $what, 'orion_auth.audit_logs orion_auth.users', qr/orion\.login\(/);
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	reap($holder);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('postgres', $lock_state), '4|f|4|0',
		"$what: still four failures, four entries, no lock and no lock entry");
	invariants_hold($what);
}
is($node->safe_psql('postgres', "SELECT count(*) FROM orion.login('lock\@example.com', 'wrong password 5')"),
	'0', 'after the crashes the fifth failure');
is($node->safe_psql('postgres', $lock_state), '5|t|5|1', 'locks the account, audited');

###############################################################################
# (2) refresh
###############################################################################

# A token of refresh@'s session, and the session, as the tables say:
# whether it is revoked, why, and the session's token and previous token.
sub token_state
{
	my ($token) = @_;
	return $node->safe_psql('postgres', qq{SELECT revoked, coalesce(revoked_reason, '-') FROM orion_auth.refresh_tokens
 WHERE token = } . digest_sql($token));
}
my $session_state = qq{
SELECT (SELECT count(*) FROM orion_auth.refresh_tokens WHERE session_id = s.id),
       revoked_at IS NOT NULL,
       CASE token WHEN ${\ digest_sql($access1)} THEN 'access1' ELSE 'other' END,
       CASE WHEN previous_token IS NULL THEN '-'
            WHEN previous_token = ${\ digest_sql($access1)} THEN 'access1' ELSE 'other' END
  FROM orion_auth.sessions s WHERE id = '$refresh_session'};
# the session an access token validates to, '' when none
sub validates_to
{
	my ($token) = @_;
	return $node->safe_psql('postgres', "SELECT session_id FROM orion.validate_session('$token')");
}

# (2a) a rotation, paused at the update of the session: the presented
# refresh token is already revoked (rotated) and the session's access token
# replaced; its successor is not inserted yet.
is($node->safe_psql('postgres', $session_state), '1|f|access1|-',
	'refresh@\'s session: one refresh token, live, access token 1 current');
foreach my $how (@ways)
{
	my $what = "refresh paused between rotating and issuing, $how";
	my $holder = hold_pause_lock($what);
	my $victim = start_psql('postgres', 'crash_refresh', "SET crashtest.pause = 'orion_auth.sessions'",
		"SELECT refresh_token FROM orion.refresh_session('$refresh1')");
	my $pid = paused_in_trigger($victim, $what, 'orion_auth.refresh_tokens orion_auth.sessions',
		qr/orion\.refresh_session\(/);
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	reap($holder);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is(token_state($refresh1), 'f|-', "$what: the presented refresh token is not revoked");
	is($node->safe_psql('postgres', $session_state), '1|f|access1|-',
		"$what: the session has its one refresh token, and access token 1 as current, no previous one");
	is(validates_to($access1), $refresh_session, "$what: access token 1 validates to the session");
	invariants_hold($what);
}
my ($access2, $refresh2) = split /\|/, $node->safe_psql('postgres',
	"SELECT access_token, refresh_token FROM orion.refresh_session('$refresh1')");
like($refresh2, qr/^orion_r_/, 'after the crashes the refresh token rotates');
is(token_state($refresh1), 't|rotated', 'the presented token is revoked as rotated');
is(token_state($refresh2), 'f|-', 'its successor is live');
is($node->safe_psql('postgres', $session_state), '2|f|other|access1',
	'in the same session, whose current token is the new one and previous token access token 1');
is(validates_to($access2), $refresh_session, 'the new access token validates to the session');
is(validates_to($access1), $refresh_session, 'and so does access token 1, until it expires');
invariants_hold('after the rotation');

# (2b) the rotated token presented again after the reuse interval (0 s
# here): reuse, which revokes the whole session. Paused at the update of the
# session, before its refresh tokens are revoked and the reuse audited.
my $reuse_state = qq{
SELECT (SELECT revoked_at IS NOT NULL FROM orion_auth.sessions WHERE id = '$refresh_session'),
       (SELECT count(*) FROM orion_auth.refresh_tokens WHERE session_id = '$refresh_session' AND NOT revoked),
       (SELECT count(*) FROM orion_auth.audit_logs WHERE action = 'auth.refresh_token_reused')};
is($node->safe_psql('postgres', $reuse_state), 'f|1|0', 'the session is live with one live refresh token');
foreach my $how (@ways)
{
	my $what = "refresh-token reuse paused at revoking the session, $how";
	my $holder = hold_pause_lock($what);
	my $victim = start_psql('postgres', 'crash_reuse', 'SET orion.refresh_reuse_interval = 0',
		"SET crashtest.pause = 'orion_auth.sessions'",
		"SELECT count(*) FROM orion.refresh_session('$refresh1')");
	my $pid = paused_in_trigger($victim, $what, 'orion_auth.sessions', qr/orion\.refresh_session\(/);
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	reap($holder);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('postgres', $reuse_state), 'f|1|0',
		"$what: the session is live, its refresh token too, no reuse audited");
	is(validates_to($access2), $refresh_session, "$what: the current access token validates");
	invariants_hold($what);
}
is($node->safe_psql('postgres', qq{
SET orion.refresh_reuse_interval = 0;
SELECT count(*) FROM orion.refresh_session('$refresh1')}), '0', 'after the crashes the reuse is refused');
is($node->safe_psql('postgres', $reuse_state), 't|0|1', 'and revokes the session and its tokens, audited');
is(validates_to($access2), '', 'its access token no longer validates');
invariants_hold('after the reuse');

###############################################################################
# (3) assign_variant
###############################################################################

# 1,000 users assigned in one statement, in email order, the first 100 of
# them assigned before: paused at the 500th new assignment (the 600th user).
my $stored_assignments = q{
SELECT count(*), md5(string_agg(a.user_id || a.variant, ',' ORDER BY a.user_id))
  FROM orion_ab_testing.ab_test_assignments a JOIN orion_ab_testing.ab_tests t ON t.id = a.test_id
 WHERE t.key = 'crash-ab'};
my $assigned_before = $node->safe_psql('postgres', $stored_assignments);
like($assigned_before, qr/^100\|/, '100 users of crash-ab are assigned');
foreach my $how (@ways)
{
	my $what = "assign_variant over 1,000 users paused at the 500th new assignment, $how";
	my $holder = hold_pause_lock($what);
	my $victim = start_psql('postgres', 'crash_assign',
		"SET crashtest.pause = 'orion_ab_testing.ab_test_assignments'", 'SET crashtest.pause_after = 500',
		q{SELECT count(orion.assign_variant('crash-ab', id))
  FROM (SELECT id FROM orion_auth.users WHERE email LIKE 'ab-%' ORDER BY email) u});
	my $pid = paused_in_trigger($victim, $what, 'orion_ab_testing.ab_test_assignments',
		qr/orion\.assign_variant\(/);
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	reap($holder);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('postgres', $stored_assignments), $assigned_before,
		"$what: exactly the 100 assignments made before, unchanged");
	invariants_hold($what);
}
# Each user's answer now, one statement after the other: peek, assign,
# assign again, peek again. The 900 the crashes left unassigned meet the
# index entries of the aborted inserts on the way.
$node->safe_psql('postgres', q{
CREATE TABLE crashtest.answers AS
SELECT id, orion.peek_variant('crash-ab', id) AS peek_before, NULL::text AS first, NULL::text AS second,
       NULL::text AS peek_after
  FROM orion_auth.users WHERE email LIKE 'ab-%';
UPDATE crashtest.answers SET first = orion.assign_variant('crash-ab', id);
UPDATE crashtest.answers SET second = orion.assign_variant('crash-ab', id);
UPDATE crashtest.answers SET peek_after = orion.peek_variant('crash-ab', id);
});
is($node->safe_psql('postgres', q{
SELECT count(*), count(*) FILTER (WHERE peek_before IS NOT NULL AND first = peek_before AND second = first
                                        AND peek_after = first)
  FROM crashtest.answers}), '1000|1000',
	'after the crashes each of the 1,000 users gets one answer: peek, assign twice, peek again');
is($node->safe_psql('postgres', q{
SELECT count(*), count(DISTINCT a.user_id)
  FROM orion_ab_testing.ab_test_assignments a JOIN orion_ab_testing.ab_tests t ON t.id = a.test_id
 WHERE t.key = 'crash-ab'}), '1000|1000', 'stored once per user');
my $first_100 = $node->safe_psql('postgres', q{
SELECT count(*), md5(string_agg(a.user_id || a.variant, ',' ORDER BY a.user_id))
  FROM orion_ab_testing.ab_test_assignments a JOIN orion_ab_testing.ab_tests t ON t.id = a.test_id
 WHERE t.key = 'crash-ab' AND a.user_id IN
       (SELECT id FROM orion_auth.users WHERE email LIKE 'ab-%' ORDER BY email LIMIT 100)});
is($first_100, $assigned_before, 'the 100 assigned before the crashes kept their variants');
invariants_hold('after the assignments');

###############################################################################
# (4) bulk user delete
###############################################################################

# One DELETE of the 2,000 bulk users, paused at the end of the statement of
# orion's cleanup trigger that removes (or anonymises) their notifications:
# the users, their sessions and refresh tokens (foreign keys), assignments
# and conversions are deleted by then, and audit_logs has been written to
# (the foreign key's SET NULL); the user.deleted audit entries are not yet.
foreach my $how (@ways)
{
	# both ways of handling notifications, one per crash
	my $mode = $how eq 'kill -9' ? 'delete' : 'anonymize';
	my $what = "DELETE of 2,000 users (notifications: $mode) paused in its cleanup, $how";
	my $holder = hold_pause_lock($what);
	my $victim = start_psql('postgres', 'crash_bulk', "SET orion.user_delete_notifications = '$mode'",
		"SET crashtest.pause = 'orion_notifications.notifications'",
		"DELETE FROM orion_auth.users WHERE email LIKE 'bulk-%'");
	my $pid = paused_in_trigger($victim, $what,
		'orion_ab_testing.ab_test_assignments orion_ab_testing.ab_test_conversions orion_auth.audit_logs '
		  . 'orion_auth.refresh_tokens orion_auth.sessions orion_auth.users orion_notifications.notifications',
		qr/DELETE FROM orion_auth\.users/);
	my $before = fingerprint('postgres');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	reap($holder);
	is(fingerprint('postgres'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('postgres', $bulk_state), '2000|2000|2000|2000|1000|4000|4000|0',
		"$what: none of it happened: every user with all of theirs, no audit entry");
	invariants_hold($what);
}
is($node->safe_psql('postgres', "DELETE FROM orion_auth.users WHERE email LIKE 'bulk-%'"), '',
	'after the crashes the DELETE runs');
is($node->safe_psql('postgres', $bulk_state), '0|0|0|0|0|0|0|2000',
	'and all of it happened: nothing of the 2,000 left, one user.deleted entry each');
invariants_hold('after the bulk delete');

###############################################################################
# (5) maintenance (database maint)
###############################################################################

$node->safe_psql('postgres', 'CREATE DATABASE maint');
$node->safe_psql('maint', qq{
CREATE EXTENSION orion CASCADE;
$crashtest_schema
-- The worker's gate: before each DELETE of sessions (a batch), the worker
-- takes one from allow, or waits until it can. Only the worker waits here.
CREATE TABLE crashtest.worker_gate (allow bigint NOT NULL);
INSERT INTO crashtest.worker_gate VALUES (1000000);
CREATE FUNCTION crashtest.worker_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	IF (SELECT backend_type FROM pg_stat_get_activity(pg_backend_pid())) = 'orion maintenance' THEN
		LOOP
			UPDATE crashtest.worker_gate SET allow = allow - 1 WHERE allow > 0;
			EXIT WHEN FOUND;
			PERFORM pg_sleep(0.1);
		END LOOP;
	END IF;
	RETURN NULL;
END
\$\$;
CREATE TRIGGER crashtest_worker_gate BEFORE DELETE ON orion_auth.sessions
	FOR EACH STATEMENT EXECUTE FUNCTION crashtest.worker_gate();
INSERT INTO orion_auth.users (email, password_hash)
VALUES ('dead\@example.com', 'x'), ('renewable\@example.com', 'x'), ('live\@example.com', 'x');
});

# Sessions: 25,000 dead (access token expired an hour ago and earlier, a
# millisecond apart; one in 30 with a refresh token revoked a minute ago,
# kept by retention, which goes with its session); 300 whose access token
# expired among them but whose live refresh token can renew them; 100 live.
sub plant_sessions
{
	$node->safe_psql('maint', q{
BEGIN;
DELETE FROM orion_auth.sessions;
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT (SELECT id FROM orion_auth.users WHERE email = 'dead@example.com'),
       encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'),
       now() - interval '1 hour' - g * interval '1 millisecond'
  FROM generate_series(1, 25000) g;
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at, revoked, revoked_reason, revoked_at)
SELECT user_id, id, encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'),
       now() + interval '1 day', true, 'logout', now() - interval '1 minute'
  FROM (SELECT user_id, id, row_number() OVER (ORDER BY expires_at) AS n FROM orion_auth.sessions) s
 WHERE n % 30 = 0;
WITH s AS (
	INSERT INTO orion_auth.sessions (user_id, token, expires_at)
	SELECT (SELECT id FROM orion_auth.users WHERE email = 'renewable@example.com'),
	       encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'),
	       now() - interval '1 hour' - (g * 50 - 25) * interval '1 millisecond'
	  FROM generate_series(1, 300) g
	UNION ALL
	SELECT (SELECT id FROM orion_auth.users WHERE email = 'live@example.com'),
	       encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() + interval '1 hour'
	  FROM generate_series(1, 100) g
	RETURNING id, user_id)
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
SELECT user_id, id, encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() + interval '1 day'
  FROM s;
COMMIT;
});
}

# dead sessions | their refresh tokens | renewable sessions | live sessions
# | live refresh tokens | refresh tokens without a session
my $maint_state = q{
SELECT count(*) FILTER (WHERE u.email = 'dead@example.com'),
       (SELECT count(*) FROM orion_auth.refresh_tokens r JOIN orion_auth.users ru ON ru.id = r.user_id
         WHERE ru.email = 'dead@example.com'),
       count(*) FILTER (WHERE u.email = 'renewable@example.com'),
       count(*) FILTER (WHERE u.email = 'live@example.com'),
       (SELECT count(*) FROM orion_auth.refresh_tokens WHERE NOT revoked),
       (SELECT count(*) FROM orion_auth.refresh_tokens r
         WHERE NOT EXISTS (SELECT FROM orion_auth.sessions s WHERE s.id = r.session_id))
  FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id};

plant_sessions();
is($node->safe_psql('maint', $maint_state), '25000|833|300|100|400|0',
	'maint: 25,000 dead sessions (833 with a revoked token), 300 renewable, 100 live');
is($node->safe_psql('maint', 'SELECT sessions FROM orion.maintenance_backlog()'), '25000',
	'orion.maintenance_backlog() counts the 25,000 as dead');

# (5a) orion.expire_sessions() from SQL, batches of 1,000, a pause of 10 s
# between batches: killed in the pause after its first batch, all in its
# transaction.
foreach my $how (@ways)
{
	my $what = "orion.expire_sessions() from SQL paused after its first batch, $how";
	my $victim = start_psql('maint', 'crash_expire', "SET orion.maintenance_batch_delay = '10s'",
		'SELECT orion.expire_sessions(1000)');
	ok($node->poll_query_until('maint', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE application_name = 'crash_expire' AND state = 'active' AND query LIKE '%orion.expire_sessions(%'
   AND wait_event_type = 'Extension' AND wait_event = 'Extension' AND backend_xid IS NOT NULL}),
		"$what: it waits in orion.maintenance_batch_delay (wait event Extension), in a transaction with an xid");
	my $pid = $node->safe_psql('maint', "SELECT pid FROM pg_stat_activity WHERE application_name = 'crash_expire'");
	is(tables_written('maint', $pid), 'orion_auth.refresh_tokens orion_auth.sessions',
		"$what: it has deleted sessions (and, by the foreign key, refresh tokens)");
	my $before = fingerprint('maint');
	crash($how, $pid, $what);
	victim_got_no_answer($victim, $what);
	is(fingerprint('maint'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('maint', $maint_state), '25000|833|300|100|400|0',
		"$what: none of its batches happened: every session and refresh token is there");
}
is($node->safe_psql('maint', 'SELECT orion.expire_sessions(1000)'), '25000',
	'after the crashes orion.expire_sessions() removes the 25,000 dead sessions');
is($node->safe_psql('maint', $maint_state), '0|0|300|100|400|0',
	'with their refresh tokens; the renewable and live ones stay');

# (5b) the worker: batches of 10,000, each its own transaction, and a pause
# of 5 s between batches. Each way starts a new worker, whose first pass is
# the one crashed. The gate lets it delete two batches; the kill lands in
# the pause after the second (or, should the test be slower than the pause,
# at the gate before the third batch deletes anything): between committed
# batches. Two batches, not one: a worker that has just started does not
# pause after its first batch (its latch is set when it starts, and the
# pause is one WaitLatch, which returns at once). The worker that comes back
# after the crash finds the gate closed; the test looks, then lets it delete
# one batch, the rest.
my $worker = q{
SELECT pid FROM pg_stat_activity WHERE backend_type = 'orion maintenance' AND datname = 'maint'};
my $record = q{
SELECT coalesce(runs, 0), coalesce(total_removed, 0), coalesce(sessions_removed, 0), last_run_ok, last_error
  FROM (SELECT) one LEFT JOIN orion.maintenance_state ON true};
my $removed_by_passes = 0;      # what the recorded passes removed
my $removed_by_worker = 0;      # what the worker removed, crashed passes too
foreach my $how (@ways)
{
	my $what = "the maintenance worker paused between batches, $how";
	$node->safe_psql('maint', 'UPDATE crashtest.worker_gate SET allow = 2');
	plant_sessions();
	my $record_before = $node->safe_psql('maint', $record);
	my ($runs_before) = split /\|/, $record_before;
	if ($how eq $ways[0])
	{
		# the launcher starts the worker of maint
		$node->safe_psql('postgres', q{
ALTER SYSTEM SET orion.maintenance_databases = 'maint';
ALTER SYSTEM SET orion.maintenance_naptime = '1h';
ALTER SYSTEM SET orion.maintenance_batch_delay = '5s';
SELECT pg_reload_conf();
});
	}
	else
	{
		like($node->safe_psql('maint', 'SELECT orion.start_maintenance_worker()'), qr/^\d+$/,
			"$what: a new worker starts");
	}
	ok($node->poll_query_until('maint', q{
SELECT (SELECT count(*) FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id
         WHERE u.email = 'dead@example.com') = 5000
   AND EXISTS (SELECT FROM pg_stat_activity
                WHERE backend_type = 'orion maintenance' AND datname = 'maint' AND state = 'active'
                  AND query = 'orion maintenance pass'
                  AND ((wait_event = 'Extension' AND backend_xid IS NULL) OR wait_event = 'PgSleep'))}),
		"$what: the worker has committed two batches of 10,000 and waits in its pass before the next");
	my ($pid, $wait) = split /\|/, $node->safe_psql('maint', q{
SELECT pid, wait_event FROM pg_stat_activity WHERE backend_type = 'orion maintenance' AND datname = 'maint'});
	if ($wait eq 'Extension')
	{
		is(tables_written('maint', $pid), '',
			"$what: it waits in orion.maintenance_batch_delay, between transactions (no write lock held)");
	}
	else
	{
		note("$what: the test was slower than the pause: the worker waits at the gate, "
			  . 'before its next batch deletes anything');
	}
	is($node->safe_psql('maint', $record), $record_before, "$what: the pass is not recorded yet");
	my $before = fingerprint('maint');
	crash($how, $pid, $what);
	$removed_by_worker += 20000;
	is(fingerprint('maint'), $before, "$what: the tables hold exactly what was committed before the crash");
	is($node->safe_psql('maint', $maint_state), '5000|167|300|100|400|0',
		"$what: the committed batches are gone, the other 5,000 dead sessions are there, "
		  . 'the renewable and live ones too, every refresh token has its session');
	ok($node->poll_query_until('maint', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'orion maintenance' AND datname = 'maint' AND pid <> $pid
   AND state = 'active' AND wait_event = 'PgSleep'}),
		"$what: a new worker comes back and runs a pass (held at the gate)");
	my $new = $node->safe_psql('maint', $worker);
	is($node->safe_psql('maint', $record), $record_before,
		"$what: orion.maintenance_state still records the last finished pass, nothing of the crashed one");
	$node->safe_psql('maint', 'UPDATE crashtest.worker_gate SET allow = 1');
	ok($node->poll_query_until('maint', "SELECT runs = $runs_before + 1 FROM orion.maintenance_state"),
		"$what: the new worker finishes its pass");
	$removed_by_worker += 5000;
	$removed_by_passes += 5000;
	is($node->safe_psql('maint', $maint_state), '0|0|300|100|400|0',
		"$what: no dead session is left, the renewable and live ones stay");
	is($node->safe_psql('maint', $record), ($runs_before + 1) . "|$removed_by_passes|5000|t|",
		"$what: orion.maintenance_state records one more pass, which removed the other 5,000, without error");
	is($node->safe_psql('maint', 'SELECT worker_pid, sessions_to_expire, last_run_by, last_run_ok FROM orion.status'),
		"$new|0|worker|t", "$what: orion.status shows the new worker, nothing to expire, its pass");
  TODO:
	{
		local $TODO = 'orion records a pass when it ends: what a crashed pass committed is never counted';
		is($node->safe_psql('maint', 'SELECT total_removed FROM orion.status'), $removed_by_worker,
			"$what: orion.status total_removed counts every session the worker removed");
	}
	if ($how eq $ways[0])
	{
		# the next way starts a worker of its own
		is($node->safe_psql('maint', 'SELECT orion.stop_maintenance_worker()'), '1', "$what: the worker stops");
		ok($node->poll_query_until('maint', "SELECT count(*) = 0 FROM ($worker) w"), "$what: its process ends");
	}
}

###############################################################################
# Everything committed survives one more crash
###############################################################################

# The worker of maint, which runs a pass as it starts, is held at the gate
# before its first DELETE, so that it changes nothing.
$node->safe_psql('maint', 'UPDATE crashtest.worker_gate SET allow = 0');
my %final = map { ($_ => fingerprint($_)) } qw(postgres maint);
$node->stop('immediate');
$node->start;
foreach my $db (sort keys %final)
{
	is(fingerprint($db), $final{$db}, "after a last immediate shutdown, database $db holds all it committed");
}
invariants_hold('at the end');
is($node->safe_psql('postgres', $bulk_state), '0|0|0|0|0|0|0|2000', 'the bulk delete stays whole');
is($node->safe_psql('postgres', $lock_state), '5|t|5|1', 'lock@ stays locked');

$node->stop;
done_testing();
