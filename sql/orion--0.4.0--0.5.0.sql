/* sql/orion--0.4.0--0.5.0.sql: Notifications, cross-schema integrity, cache events */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.5.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- Notifications: channels, delivery state
-------------------------------------------------------------------------------

CREATE DOMAIN orion.notification_channel AS text
    CONSTRAINT notification_channel_known
    CHECK (VALUE IN ('email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord'));
COMMENT ON DOMAIN orion.notification_channel IS 'The original platform''s channels: email, sms, push, in_app, webhook, slack, discord';

-- say which channels stop the update, rather than only that a row does
DO $$
DECLARE
    unknown text;
BEGIN
    SELECT string_agg(DISTINCT quote_literal(channel), ', ') INTO unknown
      FROM orion_notifications.notifications
     WHERE channel NOT IN ('email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'notifications have channels orion does not know: %', unknown
            USING ERRCODE = 'check_violation',
                  HINT = 'Change their channel to email, sms, push, in_app, webhook, slack or discord, or delete them; then update again.';
    END IF;
END
$$;

/*
 * Notifications written before this version were the original platform's,
 * delivered by it: they are marked delivered, so that no worker sends them
 * again.
 */
ALTER TABLE orion_notifications.notifications
    ADD CONSTRAINT notifications_channel_known
        CHECK (channel IN ('email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord')),
    ADD COLUMN status varchar(20) NOT NULL DEFAULT 'delivered'
        CONSTRAINT notifications_status_known CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text,
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN delivered_at timestamptz;
ALTER TABLE orion_notifications.notifications ALTER COLUMN status SET DEFAULT 'pending';

COMMENT ON COLUMN orion_notifications.notifications.status IS 'pending, sending (claimed by a worker), delivered or failed; in_app ones are delivered when sent';
COMMENT ON COLUMN orion_notifications.notifications.attempts IS 'How many times a worker claimed it';
COMMENT ON COLUMN orion_notifications.notifications.last_error IS 'What the last failed delivery reported';
COMMENT ON COLUMN orion_notifications.notifications.claimed_at IS 'When a worker claimed it';
COMMENT ON COLUMN orion_notifications.notifications.delivered_at IS 'When it was delivered';

/*
 * The lists, newest first, in the order keyset pagination reads them (the
 * id breaks ties between notifications created at the same moment): the
 * unread list's index of 0.1.0 gains the id, and the whole list gets one.
 */
DROP INDEX orion_notifications.idx_notifications_unread;
CREATE INDEX idx_notifications_unread ON orion_notifications.notifications
    (user_id, created_at DESC, id DESC) WHERE NOT read;
CREATE INDEX idx_notifications_user_created ON orion_notifications.notifications
    (user_id, created_at DESC, id DESC);
-- what delivery workers claim
CREATE INDEX idx_notifications_pending ON orion_notifications.notifications (channel, created_at)
    WHERE status IN ('pending', 'sending');

-------------------------------------------------------------------------------
-- Triggers: references to users, cleanup on delete, events
-------------------------------------------------------------------------------

CREATE FUNCTION orion.check_user_reference()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_check_user_reference'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.check_user_reference() IS 'Trigger: refuses a row naming a user that does not exist, locking the user as a foreign key does';

CREATE FUNCTION orion.cleanup_deleted_users()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_cleanup_deleted_users'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.cleanup_deleted_users() IS 'Trigger: removes deleted users'' AB rows and notifications (or anonymises them), audits each deletion';

CREATE FUNCTION orion.notify_cache()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_notify_cache'
    LANGUAGE C;
COMMENT ON FUNCTION orion.notify_cache() IS 'Trigger: NOTIFY orion_cache_invalidate with the row''s cache key, made from the template argument';

CREATE FUNCTION orion.announce_notification()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_announce_notification'
    LANGUAGE C;
COMMENT ON FUNCTION orion.announce_notification() IS 'Trigger: NOTIFY orion_notifications with a new notification''s id, user_id, type and channel';

CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_notifications.notifications
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference();
CREATE TRIGGER announce_notification
    AFTER INSERT ON orion_notifications.notifications
    FOR EACH ROW EXECUTE FUNCTION orion.announce_notification();

CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_ab_testing.ab_test_assignments
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference();
CREATE TRIGGER notify_cache
    AFTER INSERT OR UPDATE OR DELETE ON orion_ab_testing.ab_test_assignments
    FOR EACH ROW EXECUTE FUNCTION orion.notify_cache('ab_test:{test_id}:assignment:{user_id}');

CREATE TRIGGER cleanup_deleted_users
    AFTER DELETE ON orion_auth.users
    REFERENCING OLD TABLE AS orion_deleted_users
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cleanup_deleted_users();
CREATE TRIGGER notify_cache
    AFTER UPDATE OR DELETE ON orion_auth.users
    FOR EACH ROW EXECUTE FUNCTION orion.notify_cache('user:profile:{id}');

-- the original cached sessions by token; orion stores only its SHA-256
CREATE TRIGGER notify_cache
    AFTER UPDATE OR DELETE ON orion_auth.sessions
    FOR EACH ROW EXECUTE FUNCTION orion.notify_cache('user:session:{token}');

REVOKE ALL ON FUNCTION
    orion.check_user_reference(), orion.cleanup_deleted_users(),
    orion.notify_cache(), orion.announce_notification()
    FROM PUBLIC;

-------------------------------------------------------------------------------
-- Notifications API
-------------------------------------------------------------------------------

CREATE FUNCTION orion.send_notification(user_id uuid, type text, channel orion.notification_channel,
                                        title text, message text, metadata jsonb DEFAULT NULL)
    RETURNS uuid
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, status)
        VALUES (send_notification.user_id, send_notification.type, send_notification.channel,
                send_notification.title, send_notification.message, send_notification.metadata,
                CASE WHEN send_notification.channel = 'in_app' THEN 'delivered' ELSE 'pending' END)
        RETURNING id
    $$;
COMMENT ON FUNCTION orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb) IS 'Stores a notification (in_app ones as delivered, others pending for a worker); returns its id';

CREATE FUNCTION orion.send_notifications(user_ids uuid[], type text, channel orion.notification_channel,
                                         title text, message text, metadata jsonb DEFAULT NULL)
    RETURNS integer
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH sent AS (
            INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, status)
            SELECT DISTINCT u, send_notifications.type, send_notifications.channel,
                   send_notifications.title, send_notifications.message, send_notifications.metadata,
                   CASE WHEN send_notifications.channel = 'in_app' THEN 'delivered' ELSE 'pending' END
              FROM unnest(send_notifications.user_ids) AS u
             WHERE u IS NOT NULL
            RETURNING 1)
        SELECT count(*)::integer FROM sent
    $$;
COMMENT ON FUNCTION orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb) IS 'One notification to many users in one statement (each user once); returns how many were stored';

CREATE FUNCTION orion.mark_read(id uuid)
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH done AS (
            UPDATE orion_notifications.notifications n SET read = true, read_at = now()
             WHERE n.id = mark_read.id AND n.read IS NOT TRUE
            RETURNING 1)
        SELECT count(*) > 0 FROM done
    $$;
COMMENT ON FUNCTION orion.mark_read(uuid) IS 'Marks one notification read; false if it was already, or does not exist';

CREATE FUNCTION orion.mark_all_read(user_id uuid)
    RETURNS integer
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH done AS (
            UPDATE orion_notifications.notifications n SET read = true, read_at = now()
             WHERE n.user_id = mark_all_read.user_id AND n.read IS NOT TRUE
            RETURNING 1)
        SELECT count(*)::integer FROM done
    $$;
COMMENT ON FUNCTION orion.mark_all_read(uuid) IS 'Marks all of a user''s notifications read; returns how many were unread';

CREATE FUNCTION orion.unread_count(user_id uuid)
    RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT count(*) FROM orion_notifications.notifications n
         WHERE n.user_id = unread_count.user_id AND n.read = false
    $$;
COMMENT ON FUNCTION orion.unread_count(uuid) IS 'How many of a user''s notifications are unread';

/*
 * Keyset pagination: newest first, and the next page starts after the last
 * notification of the previous one (before => its id), so a page never
 * repeats or skips a row when new ones arrive. Four static queries, so each
 * is planned on the index that serves it.
 */
CREATE FUNCTION orion.list_notifications(user_id uuid, unread_only boolean DEFAULT false,
                                         max_rows integer DEFAULT 20, before uuid DEFAULT NULL)
    RETURNS SETOF orion_notifications.notifications
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        cursor_at timestamptz;
        cursor_id uuid;
    BEGIN
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
COMMENT ON FUNCTION orion.list_notifications(uuid, boolean, integer, uuid) IS 'A user''s notifications, newest first, a page at a time (keyset pagination)';

/*
 * External delivery: a worker claims pending notifications of its channel
 * (skipping rows another worker holds), delivers them, and reports. A claim
 * that was never reported is claimable again after 5 minutes.
 */
CREATE FUNCTION orion.claim_notifications(channel orion.notification_channel, max_rows integer DEFAULT 100)
    RETURNS SETOF orion_notifications.notifications
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF max_rows IS NULL OR max_rows < 1 OR max_rows > 1000 THEN
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
COMMENT ON FUNCTION orion.claim_notifications(orion.notification_channel, integer) IS 'Claims up to max_rows pending notifications of a channel for a delivery worker (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION orion.report_delivery(id uuid, delivered boolean, error text DEFAULT NULL,
                                      retry boolean DEFAULT true)
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH done AS (
            UPDATE orion_notifications.notifications n
               SET status = CASE WHEN report_delivery.delivered THEN 'delivered'
                                 WHEN report_delivery.retry THEN 'pending' ELSE 'failed' END,
                   delivered_at = CASE WHEN report_delivery.delivered THEN now() END,
                   last_error = CASE WHEN report_delivery.delivered THEN NULL ELSE report_delivery.error END,
                   claimed_at = NULL
             WHERE n.id = report_delivery.id AND n.status = 'sending'
            RETURNING 1)
        SELECT count(*) > 0 FROM done
    $$;
COMMENT ON FUNCTION orion.report_delivery(uuid, boolean, text, boolean) IS 'A worker''s report on a claimed notification: delivered, or failed (back to pending to retry, or failed for good)';

REVOKE ALL ON FUNCTION
    orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb),
    orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb),
    orion.mark_read(uuid), orion.mark_all_read(uuid), orion.unread_count(uuid),
    orion.list_notifications(uuid, boolean, integer, uuid),
    orion.claim_notifications(orion.notification_channel, integer),
    orion.report_delivery(uuid, boolean, text, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb),
    orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb),
    orion.mark_read(uuid), orion.mark_all_read(uuid), orion.unread_count(uuid),
    orion.list_notifications(uuid, boolean, integer, uuid),
    orion.claim_notifications(orion.notification_channel, integer),
    orion.report_delivery(uuid, boolean, text, boolean)
    TO orion_notifications_service;

-------------------------------------------------------------------------------
-- Users: delete, and repair
-------------------------------------------------------------------------------

/*
 * Through the user service's view, so the user service may call it; the
 * cleanup trigger does the rest.
 */
CREATE FUNCTION orion.delete_user(id uuid)
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH gone AS (DELETE FROM orion_user.users u WHERE u.id = delete_user.id RETURNING 1)
        SELECT count(*) > 0 FROM gone
    $$;
COMMENT ON FUNCTION orion.delete_user(uuid) IS 'Deletes a user and, by orion''s triggers and foreign keys, everything that names them';

CREATE FUNCTION orion.find_orphans()
    RETURNS TABLE (table_name text, orphans bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT 'orion_notifications.notifications', count(*)
          FROM orion_notifications.notifications n
         WHERE n.user_id <> '00000000-0000-0000-0000-000000000000'
           AND NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = n.user_id)
        UNION ALL
        SELECT 'orion_ab_testing.ab_test_assignments', count(*)
          FROM orion_ab_testing.ab_test_assignments a
         WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = a.user_id)
        UNION ALL
        SELECT 'orion_ab_testing.ab_test_conversions', count(*)
          FROM orion_ab_testing.ab_test_conversions c
         WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = c.user_id)
    $$;
COMMENT ON FUNCTION orion.find_orphans() IS 'Rows naming a user that does not exist, per table (from before enforcement, or with it off)';

CREATE FUNCTION orion.purge_orphans()
    RETURNS TABLE (table_name text, removed bigint)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH n AS (
            DELETE FROM orion_notifications.notifications n
             WHERE n.user_id <> '00000000-0000-0000-0000-000000000000'
               AND NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = n.user_id)
            RETURNING 1),
        c AS (
            DELETE FROM orion_ab_testing.ab_test_conversions c
             WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = c.user_id)
            RETURNING 1),
        a AS (
            DELETE FROM orion_ab_testing.ab_test_assignments a
             WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = a.user_id)
            RETURNING 1)
        SELECT 'orion_notifications.notifications', (SELECT count(*) FROM n)
        UNION ALL SELECT 'orion_ab_testing.ab_test_assignments', (SELECT count(*) FROM a)
        UNION ALL SELECT 'orion_ab_testing.ab_test_conversions', (SELECT count(*) FROM c)
    $$;
COMMENT ON FUNCTION orion.purge_orphans() IS 'Removes the rows find_orphans() reports; returns how many per table';

REVOKE ALL ON FUNCTION orion.delete_user(uuid), orion.find_orphans(), orion.purge_orphans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.delete_user(uuid) TO orion_user_service;
GRANT EXECUTE ON FUNCTION orion.find_orphans(), orion.purge_orphans() TO orion_admin;
