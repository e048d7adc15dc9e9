# The maintenance background worker, with orion in shared_preload_libraries:
# a launcher starts one worker per database of orion.maintenance_databases,
# and each worker removes dead sessions (access token expired, no usable
# refresh token) every orion.maintenance_naptime, recording its passes in
# orion.maintenance_state. A listed database without orion gets a worker
# that says so once in the log and waits.
#
# What must hold for the worker to be trusted in production:
#  - the launcher and the workers show in pg_stat_activity, as the README
#    says, so that an administrator can see them;
#  - it removes what is dead and nothing else: a live session, and an
#    expired one a live refresh token can still renew, stay;
#  - a new naptime takes effect at reload (SIGHUP), without a restart, and
#    the reload itself runs a pass; so do a new batch size and batch delay;
#  - it comes back by itself after a crash (kill -9, the postmaster's crash
#    recovery), after a restart, and after orion.stop_maintenance_worker();
#  - orion.start_maintenance_worker() serves a database that is not listed,
#    one worker per database even when called twice in a row, and that
#    worker is not started again once stopped;
#  - purging 1,000,000 dead sessions, one batch per transaction, never
#    makes a login or a session check wait on a lock: both keep working
#    while it runs (their longest calls are printed), and the whole purge
#    finishes well within the test's timeout. Waits are looked for twice:
#    in pg_stat_activity, sampled every 10 ms, and in the server log, where
#    log_lock_waits at deadlock_timeout 1ms reports any wait of 1 ms or more
#    in the probing sessions, with the process holding the lock.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('maintenance_worker');
$node->init;
# The cluster is set up without crash restarts; (d) needs them.
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;

# A listed database without orion: made before the worker first starts.
$node->safe_psql('postgres', 'CREATE DATABASE nodb_orion');
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'orion'
orion.maintenance_databases = 'postgres, nodb_orion'
orion.maintenance_naptime = '1s'
});
my $log_start = -s $node->logfile;
$node->restart;

my $password = 'correct horse battery staple';

# the pid of the worker of database $db, '' when none runs
sub worker_pid
{
	my ($db) = @_;
	return $node->safe_psql('postgres', qq{
SELECT pid FROM pg_stat_activity WHERE backend_type = 'orion maintenance' AND datname = '$db'});
}

# test NAME: a worker of database $db runs (other than pid $old when given);
# returns its pid
sub wait_for_worker
{
	my ($db, $name, $old) = @_;
	my $other = defined $old ? " AND pid <> $old" : '';
	ok($node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'orion maintenance' AND datname = '$db'$other}), $name);
	return worker_pid($db);
}

# test NAME: the server log matches $re after byte $offset
sub log_shows
{
	my ($re, $offset, $name) = @_;
	ok(defined eval { $node->wait_for_log($re, $offset) }, $name);
}

# a session of user $uid in $db expiring at SQL expression $expires; its id
sub insert_session
{
	my ($db, $uid, $expires) = @_;
	return $node->safe_psql($db, qq{
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
VALUES ('$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), $expires)
RETURNING id});
}

# test NAME: session $sid of $db is removed (by the worker: nothing else
# removes sessions here)
sub wait_for_removal
{
	my ($db, $sid, $name) = @_;
	ok($node->poll_query_until($db, "SELECT count(*) FROM orion_auth.sessions WHERE id = '$sid'", '0'),
		$name);
}

# orion.maintenance_state.runs of postgres
sub runs
{
	return $node->safe_psql('postgres', 'SELECT runs FROM orion.maintenance_state');
}

# test NAME: reload the configuration (after ALTER SYSTEM) and wait for the
# pass the worker runs on SIGHUP, one started after the reload was asked for
sub reload_and_wait_for_pass
{
	my ($name) = @_;
	my $asked = $node->safe_psql('postgres', 'SELECT now() FROM pg_reload_conf()');
	ok($node->poll_query_until('postgres', qq{
SELECT last_run_at >= '$asked' FROM orion.maintenance_state}), $name);
}

###############################################################################
# (a) the launcher, and a worker per listed database
###############################################################################

my $pid = wait_for_worker('postgres', 'a worker runs for database postgres');
wait_for_worker('nodb_orion', 'a worker runs for database nodb_orion, which has no orion');
# The launcher started them, so it runs by now.
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'orion maintenance launcher'}),
	'1', 'the launcher shows in pg_stat_activity');
log_shows(qr/LOG:  orion maintenance launcher started/, $log_start, 'the log says the launcher started');
log_shows(qr/LOG:  orion maintenance worker started for database "postgres"/, $log_start,
	'the log says the worker of postgres started');
log_shows(qr/LOG:  orion is not installed in database "nodb_orion"; its maintenance worker waits/,
	$log_start, 'the worker of nodb_orion says orion is not installed there');

###############################################################################
# (b) dead sessions go, live ones stay
###############################################################################

$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');
my $uid = $node->safe_psql('postgres', q{
INSERT INTO orion_auth.users (id, email, password_hash)
VALUES (gen_random_uuid(), 'a@example.com', 'x') RETURNING id});

# In one transaction: three expired sessions (one with a refresh token
# revoked a minute ago, which cannot renew it), a live one, and an expired
# one that a live refresh token can still renew.
my ($live, $renewable) = split /\n/, $node->safe_psql('postgres', qq{
BEGIN;
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT '$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() - interval '1 hour'
  FROM generate_series(1, 3);
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at, revoked, revoked_at)
SELECT '$uid', id, encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'),
       now() + interval '1 day', true, now() - interval '1 minute'
  FROM orion_auth.sessions LIMIT 1;
WITH s AS (
  INSERT INTO orion_auth.sessions (user_id, token, expires_at)
  VALUES ('$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() + interval '1 hour')
  RETURNING id)
SELECT id FROM s;
WITH s AS (
  INSERT INTO orion_auth.sessions (user_id, token, expires_at)
  VALUES ('$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() - interval '1 hour')
  RETURNING id),
r AS (
  INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
  SELECT '$uid', id, encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() + interval '1 day' FROM s)
SELECT id FROM s;
COMMIT;
});
ok($node->poll_query_until('postgres', 'SELECT count(*) FROM orion_auth.sessions WHERE expires_at <= now()', '1'),
	'the worker removes the three dead sessions');
is($node->safe_psql('postgres', 'SELECT id FROM orion_auth.sessions ORDER BY expires_at DESC'),
	"$live\n$renewable",
	'the live session stays, and so does the expired one a live refresh token can renew');
is($node->safe_psql('postgres', 'SELECT count(*), bool_and(NOT revoked) FROM orion_auth.refresh_tokens'),
	'1|t', 'the revoked refresh token went with its session; the live one stays');

# Several passes later: recorded by the worker, without error, recent.
my $runs = runs();
ok($node->poll_query_until('postgres', "SELECT runs >= $runs + 3 FROM orion.maintenance_state"),
	'at naptime 1s the worker runs pass after pass');
is($node->safe_psql('postgres', q{
SELECT last_run_by, last_run_ok, last_error IS NULL, runs > 3, last_run_at > now() - interval '10 seconds'
  FROM orion.maintenance_state}),
	'worker|t|t|t|t', 'orion.maintenance_state: the worker ran, without error, seconds ago');
is($node->safe_psql('postgres', q{
SELECT worker_pid, sessions_to_expire, last_run_by, last_run_at > now() - interval '10 seconds'
  FROM orion.status}),
	"$pid|0|worker|t", 'orion.status: the worker\'s pid, nothing left to expire, a recent pass');

# The nodb_orion worker has been through as many naptimes: it said it once.
my $log = slurp_file($node->logfile, $log_start);
my $said = () = $log =~ /orion is not installed in database "nodb_orion"/g;
is($said, 1, 'the worker of nodb_orion said orion is not installed there once, not at every naptime');
ok(worker_pid('nodb_orion') ne '', 'and it is still there, waiting');

###############################################################################
# (c) a new naptime takes effect at reload
###############################################################################

$node->safe_psql('postgres', "ALTER SYSTEM SET orion.maintenance_naptime = '1h'");
reload_and_wait_for_pass('a reload runs a pass at once');
$runs = runs();
my $sid = insert_session('postgres', $uid, "now() - interval '1 hour'");
sleep 4;
is(runs(), $runs, 'at naptime 1h the worker runs no pass for 4 seconds');
is($node->safe_psql('postgres', "SELECT count(*) FROM orion_auth.sessions WHERE id = '$sid'"), '1',
	'so an expired session stays');
is(worker_pid('postgres'), $pid, 'the same worker, not restarted');

$node->safe_psql('postgres', "ALTER SYSTEM SET orion.maintenance_naptime = '1s'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
wait_for_removal('postgres', $sid, 'back at naptime 1s, after a reload, the session goes');
$runs = runs();
ok($node->poll_query_until('postgres', "SELECT runs >= $runs + 3 FROM orion.maintenance_state"),
	'and passes follow each other every second again');

###############################################################################
# (c2) orion.maintenance_batch_size and orion.maintenance_batch_delay: one
# row per batch, each its own transaction, a pause between them. At the
# default (10,000) the three sessions would go in one transaction: seeing
# two and then one left proves the batch size, and the pause makes each
# state last long enough to be seen.
###############################################################################

$node->safe_psql('postgres', q{
ALTER SYSTEM SET orion.maintenance_batch_size = 1;
ALTER SYSTEM SET orion.maintenance_batch_delay = '2s'});
reload_and_wait_for_pass('a reload with a new batch size runs a pass');
is($node->safe_psql('postgres', 'SHOW orion.maintenance_batch_size'), '1', 'orion.maintenance_batch_size is set at reload');
$node->safe_psql('postgres', qq{
INSERT INTO orion_auth.sessions (user_id, token, expires_at, user_agent)
SELECT '$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() - interval '1 hour', 'batch test'
  FROM generate_series(1, 3)});
my $dead = q{SELECT count(*) FROM orion_auth.sessions WHERE user_agent = 'batch test'};
ok($node->poll_query_until('postgres', $dead, '2'), 'a batch of one row: one of three dead sessions goes first');
ok($node->poll_query_until('postgres', $dead, '1'), 'then, after the pause, the next');
ok($node->poll_query_until('postgres', $dead, '0'), 'then the last');
my ($invalid_stdout, $invalid_stderr);
$node->psql('postgres', 'ALTER SYSTEM SET orion.maintenance_batch_size = 0',
	stdout => \$invalid_stdout, stderr => \$invalid_stderr);
like($invalid_stderr, qr/0 is outside the valid range for parameter "orion.maintenance_batch_size" \(1 \.\. 1000000\)/,
	'a batch size of 0 is refused');
$node->safe_psql('postgres', q{
ALTER SYSTEM RESET orion.maintenance_batch_size;
ALTER SYSTEM RESET orion.maintenance_batch_delay});
reload_and_wait_for_pass('back to the default batches');

###############################################################################
# (d) kill -9 of the worker: crash recovery, then a new worker
###############################################################################

my $offset = -s $node->logfile;
is(kill('KILL', $pid), 1, "kill -9 of the worker (pid $pid)");
log_shows(qr/\(PID $pid\) was terminated by signal 9/, $offset, 'the postmaster saw the worker die');
log_shows(qr/all server processes terminated; reinitializing/, $offset, 'and reinitialized the server');
my $new = wait_for_worker('postgres', 'a new worker runs after crash recovery', $pid);
log_shows(qr/LOG:  orion maintenance launcher started/, $offset, 'started by a new launcher');
$pid = $new;
$sid = insert_session('postgres', $uid, "now() - interval '1 hour'");
wait_for_removal('postgres', $sid, 'the new worker removes an expired session');

###############################################################################
# (e) restart
###############################################################################

$node->restart;
$new = wait_for_worker('postgres', 'a worker runs after a restart', $pid);
$pid = $new;
$sid = insert_session('postgres', $uid, "now() - interval '1 hour'");
wait_for_removal('postgres', $sid, 'it removes an expired session');

###############################################################################
# (f) orion.stop_maintenance_worker(): the launcher starts it again
###############################################################################

is($node->safe_psql('postgres', 'SELECT orion.stop_maintenance_worker()'), '1',
	'stop_maintenance_worker() stops one worker');
ok($node->poll_query_until('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid", '0'),
	'its process ends');
$new = wait_for_worker('postgres', 'the launcher starts a new worker', $pid);
$pid = $new;
$sid = insert_session('postgres', $uid, "now() - interval '1 hour'");
wait_for_removal('postgres', $sid, 'which removes an expired session');

###############################################################################
# (g) orion.start_maintenance_worker() for a database not listed
###############################################################################

$node->safe_psql('postgres', 'CREATE DATABASE nodb2');
$node->safe_psql('nodb2', 'CREATE EXTENSION orion CASCADE');
my $uid2 = $node->safe_psql('nodb2', q{
INSERT INTO orion_auth.users (id, email, password_hash)
VALUES (gen_random_uuid(), 'b@example.com', 'x') RETURNING id});
my $sid2 = insert_session('nodb2', $uid2, "now() - interval '1 hour'");
my $live2 = insert_session('nodb2', $uid2, "now() + interval '1 hour'");
# Two calls in a row, the second before the first worker has shown up in
# pg_stat_activity: still one worker, whose pid both return.
my ($pid2, $pid2_again) = split /\|/, $node->safe_psql('postgres',
	"SELECT orion.start_maintenance_worker('nodb2'), orion.start_maintenance_worker('nodb2')");
like($pid2, qr/^[1-9][0-9]*$/, 'start_maintenance_worker(\'nodb2\') returns a pid');
is($pid2_again, $pid2, 'a second call right after it returns the same pid, not a second worker\'s');
ok($node->poll_query_until('postgres', "SELECT backend_type || '|' || datname FROM pg_stat_activity WHERE pid = $pid2",
	'orion maintenance|nodb2'), 'that of a maintenance worker of nodb2');
wait_for_removal('nodb2', $sid2, 'the worker removes the expired session of nodb2');
is($node->safe_psql('nodb2', "SELECT count(*) FROM orion_auth.sessions WHERE id = '$live2'"), '1',
	'and leaves the live one');
is($node->safe_psql('nodb2', 'SELECT last_run_by, last_run_ok FROM orion.maintenance_state'), 'worker|t',
	'it records its passes in nodb2');
is($node->safe_psql('postgres', "SELECT orion.start_maintenance_worker('nodb2')"), $pid2,
	'start_maintenance_worker(\'nodb2\') again returns the running worker\'s pid');
my $nodb2_workers = q{
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'orion maintenance' AND datname = 'nodb2'};
is($node->safe_psql('postgres', $nodb2_workers), '1', 'one worker runs for nodb2, not two');
is($node->safe_psql('postgres', "SELECT orion.stop_maintenance_worker('nodb2')"), '1',
	'stop_maintenance_worker(\'nodb2\') stops it');
ok($node->poll_query_until('postgres', $nodb2_workers, '0'), 'its process ends');
is($node->safe_psql('postgres', "SELECT orion.stop_maintenance_worker('nodb2')"), '0',
	'stop_maintenance_worker(\'nodb2\') then finds none to stop');

###############################################################################
# (h) purging 1,000,000 dead sessions while users sign in and are checked
###############################################################################

# The worker idles (naptime 1h) while the dead sessions are made; a reload
# then runs the purge, one pass, which then stays recorded.
$node->safe_psql('postgres', "ALTER SYSTEM SET orion.maintenance_naptime = '1h'");
reload_and_wait_for_pass('at naptime 1h, after the pass the reload runs, the worker idles');

# A user who signs in, and the live access token the checks present. Fast
# Argon2 for the test (a superuser may set it), in every session that signs
# in, so that no login rehashes the password.
my $fast_hash = 'SET orion.argon2_memory_kib = 1024; SET orion.argon2_iterations = 1;';
my $access = $node->safe_psql('postgres', qq{
$fast_hash
SELECT orion.register_user('x\@example.com', '$password') IS NOT NULL;
SELECT access_token FROM orion.login('x\@example.com', '$password');
});
$access = (split /\n/, $access)[-1];
like($access, qr/^orion_s_[A-Za-z0-9_-]{43}$/, 'a user signs in');

# The dead sessions, of one user, expired an hour ago and earlier, a
# millisecond apart (sessions expire at different times).
my $bulk = $node->safe_psql('postgres', q{
INSERT INTO orion_auth.users (id, email, password_hash)
VALUES (gen_random_uuid(), 'bulk@example.com', 'x') RETURNING id});
$node->safe_psql('postgres', qq{
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT '$bulk', encode(sha256(convert_to(g::text, 'UTF8')), 'hex'),
       now() - interval '1 hour' - g * interval '1 millisecond'
  FROM generate_series(1, 1000000) AS g});
is($node->safe_psql('postgres', 'SELECT sessions_to_expire FROM orion.status'), '1000000',
	'orion.status: 1,000,000 sessions to expire');

# What the probes record, and what tells them to stop.
$node->safe_psql('postgres', q{
CREATE TABLE probe_calls (kind text NOT NULL, started timestamptz NOT NULL, ms float8 NOT NULL, rows bigint NOT NULL);
CREATE TABLE probe_samples (at timestamptz NOT NULL, worker_active boolean NOT NULL, lock_waits integer NOT NULL);
CREATE TABLE probe_lock_waits (at timestamptz NOT NULL, pid integer, backend_type text, wait_event text,
                               query text, blocked_by text);
CREATE TABLE probe_stop (stop boolean NOT NULL);
INSERT INTO probe_stop VALUES (false);
});

# Three sessions, each running a loop until probe_stop says so, each round
# a transaction of its own: a session check every 50 ms; a login every 50 ms
# (timed up to the end of its commit, where a login's NOTIFY of the user's
# cache key would wait for a lock); and every 10 ms, a look at
# pg_stat_activity for anything but the worker waiting on a lock, and for
# whom it waits. A sample can miss a short wait: the two callers also log
# every lock they wait for 1 ms or more (log_lock_waits at deadlock_timeout
# 1ms, for their sessions only).
my $log_waits = "SET log_lock_waits = on; SET deadlock_timeout = '1ms';";
my %probe = (
	validate_session => qq{
$log_waits
DO \$\$
DECLARE
	t0 timestamptz;
	n bigint;
BEGIN
	WHILE NOT (SELECT stop FROM probe_stop) LOOP
		t0 := clock_timestamp();
		SELECT count(*) INTO n FROM orion.validate_session('$access');
		INSERT INTO probe_calls VALUES ('validate_session', t0, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
		COMMIT;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
\$\$;
},
	login => qq{
$fast_hash
$log_waits
DO \$\$
DECLARE
	t0 timestamptz;
	t1 timestamptz;
	n bigint;
BEGIN
	WHILE NOT (SELECT stop FROM probe_stop) LOOP
		t0 := clock_timestamp();
		SELECT count(*) INTO n FROM orion.login('x\@example.com', '$password');
		COMMIT;
		t1 := clock_timestamp();
		INSERT INTO probe_calls VALUES ('login', t0, extract(epoch FROM t1 - t0) * 1000, n);
		COMMIT;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
\$\$;
},
	sampler => q{
DO $$
BEGIN
	WHILE NOT (SELECT stop FROM probe_stop) LOOP
		INSERT INTO probe_lock_waits
		SELECT clock_timestamp(), a.pid, a.backend_type, a.wait_event, left(regexp_replace(a.query, '\s+', ' ', 'g'), 100),
		       (SELECT string_agg(b.backend_type || ' ' || b.pid, ', ') FROM pg_stat_activity b
		         WHERE b.pid = ANY (pg_blocking_pids(a.pid)))
		  FROM pg_stat_activity a
		 WHERE a.wait_event_type = 'Lock' AND a.backend_type <> 'orion maintenance' AND a.pid <> pg_backend_pid();
		INSERT INTO probe_samples
		SELECT clock_timestamp(),
		       EXISTS (SELECT FROM pg_stat_activity
		                WHERE backend_type = 'orion maintenance' AND datname = 'postgres' AND state = 'active'),
		       (SELECT count(*) FROM pg_stat_activity
		         WHERE wait_event_type = 'Lock' AND backend_type <> 'orion maintenance' AND pid <> pg_backend_pid());
		COMMIT;
		PERFORM pg_sleep(0.01);
	END LOOP;
END
$$;
});
my $probe_log = -s $node->logfile;
my %bg;
foreach my $kind (sort keys %probe)
{
	$bg{$kind} = $node->background_psql('postgres');
	$bg{$kind}->set_query_timer_restart;
	$bg{$kind}->query_until(qr/probing/, "\\echo probing\n$probe{$kind}");
}
ok($node->poll_query_until('postgres', q{
SELECT (SELECT count(DISTINCT kind) FROM probe_calls) = 2 AND EXISTS (SELECT FROM probe_samples)}),
	'the probes run');

# The purge: the reload's pass.
$runs = runs();
my $purge_asked = $node->safe_psql('postgres', 'SELECT now() FROM pg_reload_conf()');
ok($node->poll_query_until('postgres', qq{
SELECT runs > $runs AND last_run_at >= '$purge_asked' FROM orion.maintenance_state}),
	'the purge finishes within the poll timeout');
$node->safe_psql('postgres', 'UPDATE probe_stop SET stop = true');
foreach my $kind (sort keys %bg)
{
	my ($out, $failed) = eval { $bg{$kind}->query('SELECT 1') };
	ok(!$@ && !$failed, "the $kind probe ran without error")
	  or diag(($@ || '') . $bg{$kind}->{stderr});
	eval { $bg{$kind}->quit };
}

is($node->safe_psql('postgres', "SELECT count(*) FROM orion_auth.sessions WHERE user_id = '$bulk'"), '0',
	'all 1,000,000 dead sessions are gone');
my ($removed, $ok, $purge_s, $purge_start, $purge_end) = split /\|/, $node->safe_psql('postgres', q{
SELECT sessions_removed, last_run_ok, round(extract(epoch FROM last_duration)::numeric, 1),
       last_run_at, last_run_at + last_duration
  FROM orion.maintenance_state});
is("$removed|$ok", '1000000|t', 'in one pass of the worker, recorded as 1,000,000 sessions removed');

# What the probes saw while the purge ran.
my $during = "started <= '$purge_end' AND started + ms * interval '1 millisecond' >= '$purge_start'";
my %calls = map { my ($k, @v) = split /\|/; ($k => \@v) } split /\n/, $node->safe_psql('postgres', qq{
SELECT kind, count(*) FILTER (WHERE $during), round(max(ms) FILTER (WHERE $during)::numeric, 1),
       round(max(ms) FILTER (WHERE NOT ($during))::numeric, 1), count(*) FILTER (WHERE rows <> 1)
  FROM probe_calls GROUP BY kind});
my ($samples, $busy_samples, $lock_samples) = split /\|/, $node->safe_psql('postgres', qq{
SELECT count(*), count(*) FILTER (WHERE worker_active), count(*) FILTER (WHERE lock_waits > 0)
  FROM probe_samples WHERE at BETWEEN '$purge_start' AND '$purge_end'});

cmp_ok($calls{validate_session}[0], '>=', 10, "validate_session was called during the purge ($calls{validate_session}[0] times)");
cmp_ok($calls{login}[0], '>=', 10, "login was called during the purge ($calls{login}[0] times)");
cmp_ok($busy_samples, '>=', 10,
	"pg_stat_activity was sampled during the purge ($samples samples, the worker active in $busy_samples)");
is($calls{validate_session}[3], 0, 'validate_session returned the live session at every call');
is($calls{login}[3], 0, 'every login succeeded');
is($lock_samples, 0, 'no sample during the purge found a session waiting on a lock');
my $waits = $node->safe_psql('postgres', q{
SELECT string_agg(format('%s: %s %s waiting on %s, blocked by %s: %s', at, backend_type, pid, wait_event,
                         coalesce(blocked_by, '?'), query), E'\n' ORDER BY at)
  FROM probe_lock_waits});
is($waits, '', 'nor at any time while the probes ran');
my @logged = grep { /still waiting for|acquired .* after|Process holding the lock/ }
  split /\n/, slurp_file($node->logfile, $probe_log);
is(join("\n", @logged), '', 'no session check or login waited 1 ms or more for a lock (log_lock_waits)');

diag(sprintf('longest validate_session during purge: %s ms; longest login: %s ms (outside it: %s ms and %s ms); '
	  . 'purge of 1,000,000 sessions took %s s',
	$calls{validate_session}[1], $calls{login}[1], $calls{validate_session}[2], $calls{login}[2], $purge_s));

# The worker of nodb2 was stopped long enough ago: nobody started it again.
is($node->safe_psql('postgres', $nodb2_workers), '0',
	'the worker of nodb2, which is not listed, was not started again');

$node->stop;
done_testing();
