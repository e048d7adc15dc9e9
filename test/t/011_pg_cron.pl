# Maintenance scheduled with pg_cron instead of orion's own worker:
# orion.schedule_maintenance() makes one pg_cron job, orion-maintenance-<database>,
# running SELECT orion.run_maintenance() (again: the same job, with the new
# schedule), and pg_cron then removes dead sessions by the minute, recording
# each run in orion.maintenance_state under the role that scheduled it.
# In a database other than pg_cron's, schedule_maintenance() fails with
# undefined_object and a hint giving the command to run in pg_cron's
# database instead, which, run there, schedules the job for that database.
# unschedule_maintenance() removes the job, and says whether there was one.
#
# pg_cron comes from the Debian package postgresql-15-cron, which make test
# installs: without it this test fails, it does not skip.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pg_cron');
$node->init;
# Jobs in background workers: no connection to open, so no password or
# socket to give pg_cron; no orion maintenance worker (no database listed).
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'orion,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
});
$node->start;

is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'}),
	'1', 'pg_cron is available')
  or die 'pg_cron is not installed: install the Debian package postgresql-N-cron of this server (make test does)';

my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION orion CASCADE;
});

# the orion-maintenance job: jobid|schedule|command|database|username|active
my $job_sql = q{
SELECT jobid, schedule, command, database, username, active FROM cron.job WHERE jobname = 'orion-maintenance-postgres'};

my $job = $node->safe_psql('postgres', 'SELECT orion.schedule_maintenance()');
like($job, qr/^[1-9][0-9]*$/, 'schedule_maintenance() returns a job id');
is($node->safe_psql('postgres', $job_sql),
	"$job|* * * * *|SELECT orion.run_maintenance()|postgres|$superuser|t",
	'cron.job: orion-maintenance, every minute, running orion.run_maintenance() here as the caller');

is($node->safe_psql('postgres', q{SELECT orion.schedule_maintenance('*/2 * * * *')}), $job,
	'schedule_maintenance() with a new schedule returns the same job');
is($node->safe_psql('postgres', $job_sql),
	"$job|*/2 * * * *|SELECT orion.run_maintenance()|postgres|$superuser|t",
	'one job, with the new schedule');
is($node->safe_psql('postgres', 'SELECT orion.schedule_maintenance()'), $job, 'and back to every minute');
is($node->safe_psql('postgres', "SELECT count(*), min(schedule) FROM cron.job"), '1|* * * * *',
	'still one job in cron.job, every minute');

# Two dead sessions and a live one; pg_cron's next minute removes the dead.
my $uid = $node->safe_psql('postgres', q{
INSERT INTO orion_auth.users (id, email, password_hash)
VALUES (gen_random_uuid(), 'a@example.com', 'x') RETURNING id});
my $live = $node->safe_psql('postgres', qq{
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT '$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() - interval '1 hour'
  FROM generate_series(1, 2);
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
VALUES ('$uid', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), now() + interval '1 hour')
RETURNING id});
is($node->safe_psql('postgres', 'SELECT count(*) FROM orion_auth.sessions'), '3', 'three sessions, two expired');

ok($node->poll_query_until('postgres', 'SELECT count(*) FROM orion_auth.sessions WHERE expires_at <= now()', '0'),
	'within a minute or two pg_cron\'s job removes the expired sessions');
is($node->safe_psql('postgres', 'SELECT id FROM orion_auth.sessions'), $live, 'the live one stays');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'orion maintenance'}),
	'0', 'no orion maintenance worker runs: the job did it');

# The run that removed them recorded itself in the same transaction, under
# the role that scheduled the job.
is($node->safe_psql('postgres', q{
SELECT last_run_by, last_run_ok, sessions_removed, runs >= 1, last_error IS NULL FROM orion.maintenance_state}),
	"$superuser|t|2|t|t",
	"orion.maintenance_state: run by $superuser (not the worker), 2 sessions removed, no error");
ok($node->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM cron.job_run_details WHERE jobid = $job AND status = 'succeeded'}),
	'cron.job_run_details has a succeeded run of the job');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM cron.job_run_details WHERE jobid = $job AND status = 'failed'}),
	'0', 'and no failed one');
is($node->safe_psql('postgres', qq{
SELECT DISTINCT command, database, username FROM cron.job_run_details WHERE jobid = $job}),
	"SELECT orion.run_maintenance()|postgres|$superuser", 'each ran orion.run_maintenance() in postgres');

# A database without pg_cron: a clear error, and the command to run instead.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION orion CASCADE');
my ($ret, $out, $err) = $node->psql('other', q{
\set VERBOSITY verbose
SELECT orion.schedule_maintenance()});
isnt($ret, 0, 'schedule_maintenance() fails in a database without pg_cron');
like($err, qr/ERROR:  42704: pg_cron is not installed in database "other"/,
	'with undefined_object: pg_cron is not installed in database "other"');
like($err, qr/HINT:  .*pg_cron runs in database "?postgres"?\b/, 'the hint names pg_cron\'s database, postgres');
my ($hinted) = $err =~ /(SELECT cron\.schedule_in_database\(.*?\))\. /;
is($hinted,
	q{SELECT cron.schedule_in_database('orion-maintenance-other', '* * * * *', 'SELECT orion.run_maintenance()', 'other')},
	'and gives the cron.schedule_in_database command for database other');
is($node->safe_psql('other', 'SELECT orion.unschedule_maintenance()'), 'f',
	'unschedule_maintenance() there has no job to remove');

# Unscheduling in postgres: true, then false, and the job is gone.
is($node->safe_psql('postgres', 'SELECT orion.unschedule_maintenance()'), 't',
	'unschedule_maintenance() removes the job');
is($node->safe_psql('postgres', 'SELECT orion.unschedule_maintenance()'), 'f', 'then finds none');
is($node->safe_psql('postgres', q{SELECT count(*) FROM cron.job WHERE jobname = 'orion-maintenance-postgres'}), '0',
	'cron.job has no orion-maintenance job');

# The hinted command, run in postgres, schedules other's maintenance.
# (the is() above fails if the hint holds no command; this then fails too)
like($node->safe_psql('postgres', $hinted), qr/^[1-9][0-9]*$/,
	'the hinted command, run in postgres, returns a job id');
is($node->safe_psql('postgres', q{
SELECT schedule, command, database FROM cron.job WHERE jobname = 'orion-maintenance-other'}),
	'* * * * *|SELECT orion.run_maintenance()|other',
	'a job running orion.run_maintenance() in database other every minute');
$node->safe_psql('postgres', "SELECT cron.unschedule('orion-maintenance-other')");

$node->stop;
done_testing();
