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
        IF max_rows IS NULL THEN
            RAISE EXCEPTION 'max_rows must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows < 1 OR max_rows > 1000 THEN
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

-- Only notifications are anonymised (user_id set to the nil uuid) when their
-- user is deleted: the other tables no longer let an UPDATE to the nil uuid
-- through, which left an assignment that find_orphans then counted.
DROP TRIGGER check_user_reference ON orion_notifications.notifications;
CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_notifications.notifications
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference('anonymised');

-- More functions that answered a NULL as "none": the user's sessions, a
-- batch of notifications, and the delivery queue.
CREATE OR REPLACE FUNCTION orion.list_sessions(user_id uuid)
    RETURNS TABLE (session_id uuid, ip_address text, user_agent text, created_at timestamptz,
                   access_expires_at timestamptz, refresh_expires_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF list_sessions.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RETURN QUERY
        SELECT s.id, s.ip_address::text, s.user_agent, s.created_at, s.expires_at, r.refresh_expires_at
          FROM orion_auth.sessions s
          LEFT JOIN LATERAL (
                SELECT max(t.expires_at) AS refresh_expires_at
                  FROM orion_auth.refresh_tokens t
                 WHERE t.session_id = s.id AND t.revoked IS NOT TRUE AND t.expires_at > now()
               ) r ON true
         WHERE s.user_id = list_sessions.user_id
           AND s.revoked_at IS NULL
           AND (s.expires_at > now() OR r.refresh_expires_at IS NOT NULL)
         ORDER BY s.created_at DESC, s.id;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.send_notifications(user_ids uuid[], type text, channel orion.notification_channel,
                                                    title text, message text, metadata jsonb DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        sent integer;
    BEGIN
        IF send_notifications.user_ids IS NULL THEN
            RAISE EXCEPTION 'user_ids must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        -- NULL elements are skipped; the other NULL fields meet the table's NOT NULL
        INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, status)
        SELECT DISTINCT u, send_notifications.type, send_notifications.channel,
               send_notifications.title, send_notifications.message, send_notifications.metadata,
               CASE WHEN send_notifications.channel = 'in_app' THEN 'delivered' ELSE 'pending' END
          FROM unnest(send_notifications.user_ids) AS u
         WHERE u IS NOT NULL;
        GET DIAGNOSTICS sent = ROW_COUNT;
        RETURN sent;
    END
    $$;

CREATE OR REPLACE FUNCTION orion.claim_notifications(channel orion.notification_channel, max_rows integer DEFAULT 100)
    RETURNS SETOF orion_notifications.notifications
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF claim_notifications.channel IS NULL THEN
            RAISE EXCEPTION 'channel must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows IS NULL THEN
            RAISE EXCEPTION 'max_rows must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows < 1 OR max_rows > 1000 THEN
            RAISE EXCEPTION 'max_rows must be from 1 to 1000'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN QUERY
        UPDATE orion_notifications.notifications n
           SET status = 'sending', claimed_at = now(), attempts = n.attempts + 1
         WHERE n.id IN (SELECT c.id FROM orion_notifications.notifications c
                         WHERE c.channel = claim_notifications.channel
                           AND (c.status = 'pending'
                                OR (c.status = 'sending' AND c.claimed_at < now() - interval '5 minutes'))
                         ORDER BY c.created_at
                         LIMIT claim_notifications.max_rows
                         FOR UPDATE SKIP LOCKED)
        RETURNING n.*;
    END
    $$;

