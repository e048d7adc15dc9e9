/* sql/orion--0.6.0--0.7.0.sql: the hot read paths probe their indexes directly */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.7.0'" to load this file. \quit

-- validate_session and peek_variant now read the current session and a
-- stored assignment by probing the unique index (no statement is planned
-- or run), and pin search_path themselves around the statements they still
-- run, as the flag evaluators do. A SET clause would switch search_path on
-- every call: a tenth of a session check. The C code of 0.7.0 pins it with
-- or without the clause, so an older installation stays safe until updated.
ALTER FUNCTION orion.validate_session(text) RESET search_path;
ALTER FUNCTION orion.peek_variant(text, uuid) RESET search_path;

-- A NULL where a value is required is an error (22004), as in the C
-- functions, no longer a silent "none": the notification and user functions
-- written in SQL become PL/pgSQL with the same statements (PL/pgSQL also
-- keeps their plans between calls, which SQL functions do not).
CREATE OR REPLACE FUNCTION orion.mark_read(id uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF mark_read.id IS NULL THEN
            RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        UPDATE orion_notifications.notifications n SET read = true, read_at = now()
         WHERE n.id = mark_read.id AND n.read IS NOT TRUE;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed > 0;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.mark_all_read(user_id uuid)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF mark_all_read.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        UPDATE orion_notifications.notifications n SET read = true, read_at = now()
         WHERE n.user_id = mark_all_read.user_id AND n.read IS NOT TRUE;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.unread_count(user_id uuid)
    RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF unread_count.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RETURN (SELECT count(*) FROM orion_notifications.notifications n
                 WHERE n.user_id = unread_count.user_id AND n.read = false);
    END
    $$;

CREATE OR REPLACE FUNCTION orion.list_notifications(user_id uuid, unread_only boolean DEFAULT false,
                                                    max_rows integer DEFAULT 20, before uuid DEFAULT NULL)
    RETURNS SETOF orion_notifications.notifications
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        cursor_at timestamptz;
        cursor_id uuid;
    BEGIN
        IF list_notifications.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF unread_only IS NULL THEN
            RAISE EXCEPTION 'unread_only must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows IS NULL OR max_rows < 1 OR max_rows > 1000 THEN
            RAISE EXCEPTION 'max_rows must be from 1 to 1000'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF before IS NOT NULL THEN
            SELECT n.created_at, n.id INTO cursor_at, cursor_id
              FROM orion_notifications.notifications n
             WHERE n.id = list_notifications.before AND n.user_id = list_notifications.user_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'notification % is not one of this user''s', before
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Pass the id of the last notification of the previous page.';
            END IF;
        END IF;

        IF unread_only AND before IS NULL THEN
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id AND n.read = false
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        ELSIF unread_only THEN
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id AND n.read = false
                AND (n.created_at, n.id) < (cursor_at, cursor_id)
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        ELSIF before IS NULL THEN
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        ELSE
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id
                AND (n.created_at, n.id) < (cursor_at, cursor_id)
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        END IF;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.report_delivery(id uuid, delivered boolean, error text DEFAULT NULL,
                                                 retry boolean DEFAULT true)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF report_delivery.id IS NULL THEN
            RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF report_delivery.delivered IS NULL THEN
            RAISE EXCEPTION 'delivered must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF report_delivery.retry IS NULL THEN
            RAISE EXCEPTION 'retry must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        UPDATE orion_notifications.notifications n
           SET status = CASE WHEN report_delivery.delivered THEN 'delivered'
                             WHEN report_delivery.retry THEN 'pending' ELSE 'failed' END,
               delivered_at = CASE WHEN report_delivery.delivered THEN now() END,
               last_error = CASE WHEN report_delivery.delivered THEN NULL ELSE report_delivery.error END,
               claimed_at = NULL
         WHERE n.id = report_delivery.id AND n.status = 'sending';
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed > 0;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.delete_user(id uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF delete_user.id IS NULL THEN
            RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        DELETE FROM orion_user.users u WHERE u.id = delete_user.id;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed > 0;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.stop_maintenance_worker(database name DEFAULT current_database())
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF stop_maintenance_worker.database IS NULL THEN
            RAISE EXCEPTION 'database must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        -- materialized: the planner must not call pg_terminate_backend on other rows
        RETURN (WITH worker AS MATERIALIZED (
                    SELECT pid FROM pg_stat_activity
                     WHERE backend_type = 'orion maintenance' AND datname = stop_maintenance_worker.database)
                SELECT (count(*) FILTER (WHERE pg_terminate_backend(pid)))::integer FROM worker);
    END
    $$;

-- Conversions name a user too: a conversion tracked while the user's
-- deletion was in progress could outlive the user (the deletion's cleanup
-- had already run). The trigger locks the user as the assignments' does.
CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_ab_testing.ab_test_conversions
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference();
