/* sql/orion--0.5.0--0.6.0.sql: maintenance (expiry, retention, worker, pg_cron, status) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.6.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- What maintenance looks for, indexed so that each batch is a range scan
-------------------------------------------------------------------------------

-- sessions are walked in (expires_at, id) order: the id breaks ties between
-- sessions created together (the seed's index had expires_at alone)
DROP INDEX orion_auth.idx_sessions_expires_at;
CREATE INDEX idx_sessions_expires_at ON orion_auth.sessions (expires_at, id);
-- A user's assignment is looked up by (user_id, test_id). Before the table
-- has statistics the planner rates the unique index and the seed's index on
-- test_id alike, and a plan on test_id alone made each lookup read every
-- assignment of the test (quadratic in a batch). With user_id in both
-- indexes, either plan probes one row; test_id stays the leading column.
DROP INDEX orion_ab_testing.idx_ab_test_assignments_test_id;
CREATE INDEX idx_ab_test_assignments_test_id ON orion_ab_testing.ab_test_assignments (test_id, user_id);

CREATE INDEX idx_refresh_tokens_expires_at ON orion_auth.refresh_tokens (expires_at);
CREATE INDEX idx_refresh_tokens_revoked ON orion_auth.refresh_tokens
    ((coalesce(revoked_at, created_at))) WHERE revoked;
CREATE INDEX idx_notifications_read_at ON orion_notifications.notifications
    ((coalesce(read_at, created_at))) WHERE read;

-------------------------------------------------------------------------------
-- The last pass, whoever ran it (the worker, pg_cron, a person)
-------------------------------------------------------------------------------

CREATE TABLE orion.maintenance_state (
    id                      boolean PRIMARY KEY DEFAULT true CONSTRAINT maintenance_state_one_row CHECK (id),
    last_run_at             timestamptz NOT NULL,
    last_run_by             text NOT NULL,
    last_duration           interval NOT NULL,
    last_run_ok             boolean NOT NULL,
    sessions_removed        bigint NOT NULL,
    refresh_tokens_removed  bigint NOT NULL,
    notifications_removed   bigint NOT NULL,
    audit_logs_removed      bigint NOT NULL,
    runs                    bigint NOT NULL,
    total_removed           bigint NOT NULL,
    last_error              text,
    last_error_at           timestamptz
);
COMMENT ON TABLE orion.maintenance_state IS 'The last maintenance pass of this database: when, by whom (worker or a role), what it removed, the last error';

-------------------------------------------------------------------------------
-- The pass
-------------------------------------------------------------------------------

CREATE FUNCTION orion.expire_sessions(batch_size integer DEFAULT 10000)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'orion_expire_sessions'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.expire_sessions(integer) IS 'Removes dead sessions and refresh tokens past orion.revoked_token_retention, in batches (SKIP LOCKED); returns how many rows went';

CREATE FUNCTION orion.run_maintenance(batch_size integer DEFAULT 10000,
                                      OUT sessions bigint, OUT refresh_tokens bigint,
                                      OUT notifications bigint, OUT audit_logs bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'orion_run_maintenance'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.run_maintenance(integer) IS 'The maintenance pass: expired sessions and tokens, and read notifications and audit entries past their retention; recorded in orion.maintenance_state';

CREATE FUNCTION orion.maintenance_backlog(OUT sessions bigint, OUT refresh_tokens bigint,
                                          OUT notifications bigint, OUT audit_logs bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'orion_maintenance_backlog'
    LANGUAGE C STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.maintenance_backlog() IS 'What the next maintenance pass would remove, per kind';

-------------------------------------------------------------------------------
-- The background worker
-------------------------------------------------------------------------------

CREATE FUNCTION orion.start_maintenance_worker(database name DEFAULT current_database())
    RETURNS integer
    AS 'MODULE_PATHNAME', 'orion_start_maintenance_worker'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.start_maintenance_worker(name) IS 'Starts a maintenance worker for a database (no restart needed); returns its pid, or the running one''s';

CREATE FUNCTION orion.stop_maintenance_worker(database name DEFAULT current_database())
    RETURNS integer
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        -- materialized: the planner must not call pg_terminate_backend on other rows
        WITH worker AS MATERIALIZED (
            SELECT pid FROM pg_stat_activity
             WHERE backend_type = 'orion maintenance' AND datname = stop_maintenance_worker.database)
        SELECT (count(*) FILTER (WHERE pg_terminate_backend(pid)))::integer FROM worker
    $$;
COMMENT ON FUNCTION orion.stop_maintenance_worker(name) IS 'Stops the maintenance worker of a database; returns how many stopped (the launcher starts workers of orion.maintenance_databases again)';

-------------------------------------------------------------------------------
-- pg_cron
-------------------------------------------------------------------------------

CREATE FUNCTION orion.schedule_maintenance(schedule text DEFAULT '* * * * *')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        cron_database text := current_setting('cron.database_name', true);
        job text := 'orion-maintenance-' || current_database();
    BEGIN
        IF schedule IS NULL THEN
            RAISE EXCEPTION 'schedule must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
                USING ERRCODE = 'undefined_object',
                      HINT = CASE
                        WHEN cron_database IS NOT NULL AND cron_database <> current_database() THEN
                            format('pg_cron runs in database "%s". There, run: SELECT cron.schedule_in_database(%L, %L, ''SELECT orion.run_maintenance()'', %L). Or use orion''s own worker (orion.maintenance_databases).',
                                   cron_database, job, schedule, current_database())
                        ELSE
                            'Add pg_cron to shared_preload_libraries, restart, and CREATE EXTENSION pg_cron here; or use orion''s own worker (orion.maintenance_databases).'
                        END;
        END IF;
        RETURN cron.schedule(job, schedule, 'SELECT orion.run_maintenance()');
    END
    $$;
COMMENT ON FUNCTION orion.schedule_maintenance(text) IS 'Schedules the maintenance pass with pg_cron as job orion-maintenance-<database> (again: a new schedule); returns the job id';

CREATE FUNCTION orion.unschedule_maintenance()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
            RETURN false;
        END IF;
        RETURN EXISTS (SELECT FROM cron.job WHERE jobname = 'orion-maintenance-' || current_database()
                                                 AND username = current_user)
               AND cron.unschedule('orion-maintenance-' || current_database());
    END
    $$;
COMMENT ON FUNCTION orion.unschedule_maintenance() IS 'Removes the pg_cron job orion-maintenance-<database>; false when there was none';

-------------------------------------------------------------------------------
-- Status
-------------------------------------------------------------------------------

CREATE VIEW orion.status AS
SELECT (SELECT count(*) FROM orion_auth.users) AS users,
       (SELECT count(*) FROM orion_auth.sessions) AS sessions,
       (SELECT count(*) FROM orion_auth.refresh_tokens) AS refresh_tokens,
       (SELECT count(*) FROM orion_notifications.notifications) AS notifications,
       (SELECT count(*) FROM orion_auth.audit_logs) AS audit_logs,
       (SELECT count(*) FROM orion_feature_flags.feature_flags) AS feature_flags,
       (SELECT count(*) FROM orion_ab_testing.ab_tests) AS ab_tests,
       (SELECT count(*) FROM orion_ab_testing.ab_test_assignments) AS ab_test_assignments,
       b.sessions AS sessions_to_expire,
       b.refresh_tokens AS refresh_tokens_to_expire,
       b.notifications AS notifications_to_expire,
       b.audit_logs AS audit_logs_to_expire,
       (SELECT pid FROM pg_stat_activity
         WHERE backend_type = 'orion maintenance' AND datname = current_database() LIMIT 1) AS worker_pid,
       m.last_run_at, m.last_run_by, m.last_run_ok, m.last_duration,
       m.sessions_removed + m.refresh_tokens_removed + m.notifications_removed + m.audit_logs_removed
           AS last_run_removed,
       m.runs, m.total_removed, m.last_error, m.last_error_at
  FROM orion.maintenance_backlog() AS b
  LEFT JOIN orion.maintenance_state AS m ON true;
COMMENT ON VIEW orion.status IS 'Row counts, what maintenance has yet to remove, and the last maintenance pass of this database';

-------------------------------------------------------------------------------
-- Privileges: maintenance is the administrators'; workers the superuser's
-------------------------------------------------------------------------------

REVOKE ALL ON orion.maintenance_state, orion.status FROM PUBLIC;
GRANT SELECT ON orion.maintenance_state, orion.status TO orion_admin;

REVOKE ALL ON FUNCTION
    orion.expire_sessions(integer), orion.run_maintenance(integer), orion.maintenance_backlog(),
    orion.start_maintenance_worker(name), orion.stop_maintenance_worker(name),
    orion.schedule_maintenance(text), orion.unschedule_maintenance()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.expire_sessions(integer), orion.run_maintenance(integer), orion.maintenance_backlog(),
    orion.schedule_maintenance(text), orion.unschedule_maintenance()
    TO orion_admin;
