--
-- Maintenance: which sessions and tokens a pass removes and which it keeps,
-- retention of read notifications and audit entries, the record of a pass,
-- orion.status, and the error paths. (The worker and pg_cron are tested with
-- real servers in test/t/010_maintenance_worker.pl and 011_pg_cron.pl.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;
INSERT INTO orion_auth.users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-000000000001', 'ann@example.com', '$argon2id$x');
CREATE FUNCTION pg_temp.digest(t text) RETURNS text LANGUAGE sql AS $$
    SELECT encode(sha256(convert_to(t, 'UTF8')), 'hex') $$;
-- sessions named by what they are; expires_at is the access token's expiry
INSERT INTO orion_auth.sessions (id, user_id, token, expires_at) VALUES
    ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-8000-000000000001', pg_temp.digest('live'), now() + interval '10 minutes'),
    ('00000000-0000-4000-a000-000000000002', '00000000-0000-4000-8000-000000000001', pg_temp.digest('expired, no refresh token'), now() - interval '1 minute'),
    ('00000000-0000-4000-a000-000000000003', '00000000-0000-4000-8000-000000000001', pg_temp.digest('expired, refresh token usable'), now() - interval '1 minute'),
    ('00000000-0000-4000-a000-000000000004', '00000000-0000-4000-8000-000000000001', pg_temp.digest('expired, refresh token revoked'), now() - interval '1 minute'),
    ('00000000-0000-4000-a000-000000000005', '00000000-0000-4000-8000-000000000001', pg_temp.digest('expired, refresh token expired'), now() - interval '1 minute');
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT '00000000-0000-4000-8000-000000000001', pg_temp.digest('old ' || g), now() - g * interval '1 hour'
  FROM generate_series(1, 25) AS g;
INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at, revoked, revoked_at) VALUES
    ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-a000-000000000003', pg_temp.digest('r usable'), now() + interval '6 days', false, NULL),
    ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-a000-000000000004', pg_temp.digest('r revoked now'), now() + interval '6 days', true, now()),
    ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-a000-000000000005', pg_temp.digest('r expired now'), now() - interval '1 minute', false, NULL),
    -- tokens of no session (as 0.1.0 made them): only their age counts
    ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.digest('r expired 8 days ago'), now() - interval '8 days', false, NULL),
    ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.digest('r revoked 8 days ago'), now() + interval '1 day', true, now() - interval '8 days'),
    ('00000000-0000-4000-8000-000000000001', NULL, pg_temp.digest('r expired 6 days ago'), now() - interval '6 days', false, NULL);
SELECT * FROM orion.maintenance_backlog();
-- small batches, so that the walk over sessions takes several (with a pause
-- between two, which changes nothing but the time taken)
SET orion.maintenance_batch_delay = '1ms';
SELECT orion.expire_sessions(4) AS removed;
RESET orion.maintenance_batch_delay;
SELECT id FROM orion_auth.sessions ORDER BY id;
SELECT t.token = pg_temp.digest('r usable') AS usable, t.token = pg_temp.digest('r revoked now') AS revoked_now,
       t.token = pg_temp.digest('r expired 6 days ago') AS expired_6_days_ago
  FROM orion_auth.refresh_tokens t ORDER BY 1, 2, 3;
SELECT * FROM orion.maintenance_backlog();
SELECT orion.expire_sessions() AS removed_again;
-- a shorter retention lets the rest of the stale tokens go
SET orion.revoked_token_retention = 0;
SELECT orion.expire_sessions() AS removed_without_retention;
SELECT count(*) AS tokens_left FROM orion_auth.refresh_tokens;
RESET orion.revoked_token_retention;

--
-- Retention of read notifications and audit entries: off by default
--
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, read, read_at, created_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'x', 'in_app', 'read long ago', 'm', true, now() - interval '40 days', now() - interval '41 days'),
    ('00000000-0000-4000-8000-000000000001', 'x', 'in_app', 'read yesterday', 'm', true, now() - interval '1 day', now() - interval '41 days'),
    ('00000000-0000-4000-8000-000000000001', 'x', 'in_app', 'unread, old', 'm', false, NULL, now() - interval '41 days');
INSERT INTO orion_auth.audit_logs (action, resource, created_at) VALUES
    ('old.entry', 'test', now() - interval '400 days'), ('new.entry', 'test', now());
SELECT * FROM orion.run_maintenance();
SET orion.read_notification_retention = '30d';
SET orion.audit_retention = '365d';
SELECT * FROM orion.maintenance_backlog();
SELECT * FROM orion.run_maintenance(batch_size => 1);
SELECT title FROM orion_notifications.notifications ORDER BY title;
SELECT action FROM orion_auth.audit_logs WHERE resource = 'test' ORDER BY action;
RESET orion.read_notification_retention;
RESET orion.audit_retention;

-- the pass is recorded, and shown with the counts
SELECT last_run_by = current_user AS by_me, last_run_ok, runs, total_removed, sessions_removed, refresh_tokens_removed,
       notifications_removed, audit_logs_removed, last_error
  FROM orion.maintenance_state;
SELECT users, sessions, refresh_tokens, notifications, sessions_to_expire, refresh_tokens_to_expire,
       worker_pid, last_run_ok, last_run_removed, runs
  FROM orion.status;

--
-- Refused
--
SELECT orion.expire_sessions(0);
SELECT orion.expire_sessions(NULL);
SELECT orion.run_maintenance(1000001);
SET orion.maintenance_databases = 'postgres';
SET orion.maintenance_naptime = '10s';
-- (out of range: 22023; only the code, since PostgreSQL 16 words the range
-- with its units)
\set VERBOSITY sqlstate
SET orion.read_notification_retention = '-1';
SET orion.maintenance_batch_delay = '-1ms';
SET orion.maintenance_batch_delay = '1min';
\set VERBOSITY default
SET orion.maintenance_batch_size = 1000;
SELECT orion.start_maintenance_worker('no_such_database');
SELECT orion.stop_maintenance_worker() AS stopped;
SELECT orion.stop_maintenance_worker(NULL);
-- pg_cron is not installed in this database: the error says what to do
SELECT orion.schedule_maintenance();
SELECT orion.unschedule_maintenance() AS unscheduled;

-- who may: orion_admin runs and reads maintenance; the services may not
SET ROLE orion_admin;
SELECT sessions >= 0 AS admin_runs FROM orion.run_maintenance();
SELECT runs > 0 AS admin_reads FROM orion.status;
RESET ROLE;
SET ROLE orion_auth_service;
SELECT orion.expire_sessions();
SELECT * FROM orion.status;
SET orion.revoked_token_retention = 0;
RESET ROLE;
SET ROLE orion_admin;
SELECT orion.start_maintenance_worker();
RESET ROLE;

DELETE FROM orion_notifications.notifications;
DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
DELETE FROM orion.maintenance_state;
