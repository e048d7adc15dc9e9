--
-- Notifications: sending (one and many), reading with keyset pagination,
-- counts, delivery by external workers, channels, and the indexes behind
-- the seed's read patterns. (The NOTIFY to listening clients is tested with
-- a real client in test/t/009_events.pl.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

INSERT INTO orion_auth.users (id, email, password_hash) VALUES
    ('00000000-0000-4000-8000-00000000000a', 'ann@example.com', '$argon2id$x'),
    ('00000000-0000-4000-8000-00000000000b', 'ben@example.com', '$argon2id$x'),
    ('00000000-0000-4000-8000-00000000000c', 'cid@example.com', '$argon2id$x');
\set ann '00000000-0000-4000-8000-00000000000a'
\set ben '00000000-0000-4000-8000-00000000000b'

-- one, and in_app ones need no delivery
SELECT orion.send_notification(:'ann', 'welcome', 'in_app', 'Welcome', 'Hello Ann', '{"link": "/start"}') AS welcome \gset
SELECT orion.send_notification(:'ann', 'receipt', 'email', 'Your receipt', 'Thanks for your order') AS receipt \gset
SELECT type, channel, title, metadata, read, status, attempts
  FROM orion_notifications.notifications ORDER BY type;

-- many: one statement, each user once, NULLs skipped
SELECT orion.send_notifications(ARRAY[:'ann', :'ben', :'ben', NULL, '00000000-0000-4000-8000-00000000000c']::uuid[],
                                'maintenance', 'push', 'Maintenance tonight', 'From 2 to 3 am') AS sent;
SELECT user_id, count(*) FROM orion_notifications.notifications WHERE type = 'maintenance'
 GROUP BY user_id ORDER BY user_id;

-- refused: an unknown channel, a user who does not exist, missing fields
-- (terse: the failing rows' generated ids and times differ from run to run)
\set VERBOSITY terse
SELECT orion.send_notification(:'ann', 'x', 'fax', 'Title', 'Message');
SELECT orion.send_notification('00000000-0000-4000-8000-0000000000ff', 'x', 'email', 'Title', 'Message');
SELECT orion.send_notifications(ARRAY[:'ann', '00000000-0000-4000-8000-0000000000ff']::uuid[], 'x', 'email', 'T', 'M');
SELECT orion.send_notification(:'ann', 'x', 'email', NULL, 'Message');
SELECT orion.send_notification(:'ann', 'x', 'email', repeat('t', 256), 'Message');
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
VALUES (:'ann', 'x', 'carrier pigeon', 'T', 'M');
\set VERBOSITY default
SELECT count(*) AS stored FROM orion_notifications.notifications;

--
-- Reading: newest first, a page at a time
--
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, created_at, status)
SELECT :'ben', 'digest', 'in_app', 'Digest ' || g, 'Day ' || g, '2026-01-01'::timestamptz + g * interval '1 day', 'delivered'
  FROM generate_series(1, 7) AS g;
-- two at the same moment: the id breaks the tie, nothing is repeated or skipped
INSERT INTO orion_notifications.notifications (id, user_id, type, channel, title, message, created_at, status)
SELECT ('00000000-0000-4000-8000-0000000000e' || g)::uuid, :'ben', 'digest', 'in_app', 'Same time ' || g, 'x',
       '2026-01-04 12:00'::timestamptz, 'delivered'
  FROM generate_series(1, 2) AS g;
CREATE FUNCTION pg_temp.read_all(who uuid, unread boolean, size int) RETURNS TABLE (page int, title text)
LANGUAGE plpgsql AS $$
DECLARE
    cursor_id uuid := NULL;
    p int := 0;
    got int;
    n record;
BEGIN
    LOOP
        p := p + 1;
        got := 0;
        FOR n IN SELECT * FROM orion.list_notifications(who, unread, size, cursor_id) LOOP
            page := p; title := n.title; got := got + 1; cursor_id := n.id;
            RETURN NEXT;
        END LOOP;
        EXIT WHEN got < size;
    END LOOP;
END
$$;
SELECT page, string_agg(title, ', ' ORDER BY ord) AS titles
  FROM (SELECT page, title, row_number() OVER () AS ord FROM pg_temp.read_all(:'ben', false, 4)) s
 GROUP BY page ORDER BY page;
UPDATE orion_notifications.notifications SET read = true, read_at = now()
 WHERE user_id = :'ben' AND title IN ('Digest 2', 'Digest 5', 'Maintenance tonight');
SELECT page, string_agg(title, ', ' ORDER BY ord) AS unread_titles
  FROM (SELECT page, title, row_number() OVER () AS ord FROM pg_temp.read_all(:'ben', true, 3)) s
 GROUP BY page ORDER BY page;
SELECT count(*) FROM orion.list_notifications(:'ben', false, 0);
SELECT count(*) FROM orion.list_notifications(:'ben', false, 1001);
SELECT count(*) FROM orion.list_notifications(:'ben', false, 10, '00000000-0000-0000-0000-000000000000');
-- another user's notification is refused the same way (its id differs from run to run)
\set VERBOSITY sqlstate
SELECT count(*) FROM orion.list_notifications(:'ben', false, 10, :'welcome');
\set VERBOSITY default

-- counts and marking read
SELECT orion.unread_count(:'ann') AS ann_unread, orion.unread_count(:'ben') AS ben_unread;
SELECT orion.mark_read(:'welcome') AS marked, orion.mark_read(:'welcome') AS again,
       orion.mark_read('00000000-0000-0000-0000-000000000000') AS unknown;
SELECT read, read_at IS NOT NULL AS has_read_at FROM orion_notifications.notifications WHERE id = :'welcome';
SELECT orion.mark_all_read(:'ben') AS ben_marked;
SELECT orion.unread_count(:'ann') AS ann_unread, orion.unread_count(:'ben') AS ben_unread;

--
-- External delivery: claim, report, retry, give up
--
SELECT count(*) AS claimed_email FROM orion.claim_notifications('email');
SELECT count(*) AS claimed_again FROM orion.claim_notifications('email');
SELECT status, attempts, claimed_at IS NOT NULL AS claimed FROM orion_notifications.notifications WHERE id = :'receipt';
SELECT orion.report_delivery(:'receipt', false, 'SMTP 451 try later') AS reported;
SELECT status, attempts, last_error FROM orion_notifications.notifications WHERE id = :'receipt';
SELECT count(*) AS retried FROM orion.claim_notifications('email');
SELECT orion.report_delivery(:'receipt', true) AS delivered,
       orion.report_delivery(:'receipt', true) AS not_claimed_any_more;
SELECT status, attempts, last_error, delivered_at IS NOT NULL AS has_delivered_at
  FROM orion_notifications.notifications WHERE id = :'receipt';
-- a claim never reported is claimable again after 5 minutes
SELECT count(*) AS claimed_push FROM orion.claim_notifications('push', 2);
UPDATE orion_notifications.notifications SET claimed_at = now() - interval '6 minutes'
 WHERE channel = 'push' AND status = 'sending';
SELECT count(*) AS reclaimed_push FROM orion.claim_notifications('push', 10);
SELECT status, count(*) FROM orion_notifications.notifications WHERE channel = 'push' GROUP BY status;
SELECT id AS push_id FROM orion_notifications.notifications WHERE channel = 'push' LIMIT 1 \gset
SELECT orion.report_delivery(:'push_id', false, 'device unknown', retry => false) AS given_up;
SELECT status FROM orion_notifications.notifications WHERE id = :'push_id';
SELECT count(*) FROM orion.claim_notifications('fax');
SELECT count(*) FROM orion.claim_notifications('email', 0);
SELECT count(*) FROM orion.claim_notifications('email', 5000);
-- a NULL where a value is required is an error, in every function
SELECT orion.mark_read(NULL);
SELECT orion.mark_all_read(NULL);
SELECT orion.unread_count(NULL);
SELECT count(*) FROM orion.list_notifications(NULL);
SELECT count(*) FROM orion.list_notifications(:'ann', NULL);
SELECT orion.report_delivery(NULL, true);
SELECT orion.report_delivery(:'push_id', NULL);
SELECT orion.report_delivery(:'push_id', false, 'x', NULL);

--
-- The read patterns are served by indexes, at a realistic size: 200 users
-- with 50 notifications each, the newest 5 unread
--
BEGIN;
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(u), 12, '0'))::uuid, 'load' || u || '@example.com', '$argon2id$x'
  FROM generate_series(1, 200) AS u;
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, created_at, read, status)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(u), 12, '0'))::uuid, 'load', 'in_app', 'T', 'M',
       '2026-01-01'::timestamptz + n * interval '1 hour', n <= 45, 'delivered'
  FROM generate_series(1, 200) AS u, generate_series(1, 50) AS n;
ANALYZE orion_notifications.notifications;
-- list_notifications' queries: a page of unread ones, and the next page
EXPLAIN (COSTS OFF) SELECT n.* FROM orion_notifications.notifications n
 WHERE n.user_id = '00000000-0000-4000-9000-000000000007' AND n.read = false
 ORDER BY n.created_at DESC, n.id DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT n.* FROM orion_notifications.notifications n
 WHERE n.user_id = '00000000-0000-4000-9000-000000000007' AND n.read = false
   AND (n.created_at, n.id) < ('2026-01-03'::timestamptz, '00000000-0000-0000-0000-000000000000'::uuid)
 ORDER BY n.created_at DESC, n.id DESC LIMIT 20;
-- a page of all of them
EXPLAIN (COSTS OFF) SELECT n.* FROM orion_notifications.notifications n
 WHERE n.user_id = '00000000-0000-4000-9000-000000000007'
 ORDER BY n.created_at DESC, n.id DESC LIMIT 20;
-- the unread count
EXPLAIN (COSTS OFF) SELECT count(*) FROM orion_notifications.notifications n
 WHERE n.user_id = '00000000-0000-4000-9000-000000000007' AND n.read = false;
-- the delivery queue
EXPLAIN (COSTS OFF) SELECT id FROM orion_notifications.notifications
 WHERE channel = 'email' AND status IN ('pending', 'sending') ORDER BY created_at LIMIT 10;
ROLLBACK;

-- who may
SET ROLE orion_notifications_service;
SELECT orion.send_notification(:'ann', 'hello', 'sms', 'Hi', 'From the service') IS NOT NULL AS service_sends;
SELECT orion.unread_count(:'ann') >= 0 AS service_counts;
RESET ROLE;
SET ROLE orion_feature_flags_service;
SELECT orion.send_notification(:'ann', 'hello', 'sms', 'Hi', 'From another service');
RESET ROLE;

DELETE FROM orion_notifications.notifications;
DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
