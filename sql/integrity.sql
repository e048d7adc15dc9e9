--
-- Cross-schema integrity: what goes with a deleted user (one or thousands,
-- through the table, the user service's view or orion.delete_user), what a
-- notification or assignment for a missing user meets, and repairing data
-- that came in while enforcement was off. (Races of a delete with an insert
-- are in test/isolation/specs/user_delete_race.spec.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

INSERT INTO orion_ab_testing.ab_tests (id, key, name, variants, active) VALUES
    ('00000000-0000-0000-0000-00000000ab01', 'checkout', 'Checkout', '[{"key": "a"}, {"key": "b"}]', true);

-- 1,000 users, each with 3 notifications, an assignment, a conversion, a
-- session with a refresh token, and an audit entry
CREATE FUNCTION pg_temp.populate(first int, last int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO orion_auth.users (id, email, password_hash)
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'u' || i || '@example.com', '$argon2id$x'
      FROM generate_series(first, last) AS i;
    INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata)
    SELECT u.id, 'news', 'in_app', 'News ' || k, 'Hello', '{"user_email": "private"}'
      FROM orion_auth.users u, generate_series(1, 3) AS k
     WHERE u.email ~ '^u[0-9]+@' AND substring(u.email from 2 for position('@' in u.email) - 2)::int BETWEEN first AND last;
    INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
    SELECT u.id, '00000000-0000-0000-0000-00000000ab01', 'a' FROM orion_auth.users u
     WHERE substring(u.email from 2 for position('@' in u.email) - 2)::int BETWEEN first AND last;
    INSERT INTO orion_ab_testing.ab_test_conversions (test_id, user_id, variant, event)
    SELECT '00000000-0000-0000-0000-00000000ab01', u.id, 'a', 'purchase' FROM orion_auth.users u
     WHERE substring(u.email from 2 for position('@' in u.email) - 2)::int BETWEEN first AND last;
    WITH s AS (
        INSERT INTO orion_auth.sessions (user_id, token, expires_at)
        SELECT u.id, encode(sha256(convert_to('s' || u.id, 'UTF8')), 'hex'), now() + interval '1 hour'
          FROM orion_auth.users u
         WHERE substring(u.email from 2 for position('@' in u.email) - 2)::int BETWEEN first AND last
        RETURNING id, user_id)
    INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)
    SELECT s.user_id, s.id, encode(sha256(convert_to('r' || s.id, 'UTF8')), 'hex'), now() + interval '1 day' FROM s;
    INSERT INTO orion_auth.audit_logs (user_id, action, resource)
    SELECT u.id, 'auth.login', 'session' FROM orion_auth.users u
     WHERE substring(u.email from 2 for position('@' in u.email) - 2)::int BETWEEN first AND last;
$$;
CREATE FUNCTION pg_temp.counts() RETURNS TABLE (users bigint, notifications bigint, anonymised bigint,
    assignments bigint, conversions bigint, sessions bigint, refresh_tokens bigint,
    audit_with_user bigint, audit_without_user bigint, deletions_audited bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM orion_auth.users),
           (SELECT count(*) FROM orion_notifications.notifications WHERE user_id <> '00000000-0000-0000-0000-000000000000'),
           (SELECT count(*) FROM orion_notifications.notifications WHERE user_id = '00000000-0000-0000-0000-000000000000'),
           (SELECT count(*) FROM orion_ab_testing.ab_test_assignments),
           (SELECT count(*) FROM orion_ab_testing.ab_test_conversions),
           (SELECT count(*) FROM orion_auth.sessions),
           (SELECT count(*) FROM orion_auth.refresh_tokens),
           (SELECT count(*) FROM orion_auth.audit_logs WHERE user_id IS NOT NULL),
           (SELECT count(*) FROM orion_auth.audit_logs WHERE user_id IS NULL AND action <> 'user.deleted'),
           (SELECT count(*) FROM orion_auth.audit_logs WHERE action = 'user.deleted')
$$;
SELECT pg_temp.populate(1, 1000);
SELECT * FROM pg_temp.counts();

-- one user, with the table
DELETE FROM orion_auth.users WHERE id = '00000000-0000-4000-8000-000000000001';
SELECT * FROM pg_temp.counts();
-- one user, with orion.delete_user, as the user service
CREATE ROLE regress_profiles IN ROLE orion_user_service;
SET ROLE regress_profiles;
SELECT orion.delete_user('00000000-0000-4000-8000-000000000002') AS deleted,
       orion.delete_user('00000000-0000-4000-8000-000000000002') AS again;
SELECT orion.delete_user(NULL);
-- many users, through the view, in one statement
DELETE FROM orion_user.users WHERE email LIKE 'u1%';
RESET ROLE;
DROP ROLE regress_profiles;
SELECT * FROM pg_temp.counts();
-- the deletion's audit entry: who went, without the password hash
SELECT resource, resource_id, old_data ? 'password_hash' AS has_hash, old_data->>'email' AS email
  FROM orion_auth.audit_logs WHERE action = 'user.deleted' AND resource_id = '00000000-0000-4000-8000-000000000001';
-- nothing of theirs is left anywhere
SELECT * FROM orion.find_orphans();

-- anonymise instead of delete: the notifications stay, without user or metadata
SET orion.user_delete_notifications = 'anonymize';
DELETE FROM orion_auth.users WHERE email LIKE 'u2%';
RESET orion.user_delete_notifications;
SELECT * FROM pg_temp.counts();
SELECT DISTINCT title, metadata FROM orion_notifications.notifications
 WHERE user_id = '00000000-0000-0000-0000-000000000000' ORDER BY title;
SELECT * FROM orion.find_orphans();
SET orion.user_delete_notifications = 'keep';
SET ROLE orion_user_service;
SET orion.user_delete_notifications = 'anonymize';
SET orion.enforce_user_references = off;
RESET ROLE;

--
-- References to users that do not exist are refused
--
SELECT orion.send_notification('00000000-0000-4000-8000-000000000001', 'x', 'email', 'T', 'M');
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-0000-0000-00000000ab01', 'a');
UPDATE orion_notifications.notifications SET user_id = '00000000-0000-4000-8000-000000000001'
 WHERE id = (SELECT id FROM orion_notifications.notifications WHERE user_id <> '00000000-0000-0000-0000-000000000000' LIMIT 1);
SELECT orion.assign_variant('checkout', '00000000-0000-4000-8000-000000000001');
-- an existing user is fine, and moving a notification to another user is checked too
UPDATE orion_notifications.notifications SET user_id = '00000000-0000-4000-8000-000000000300'
 WHERE id = (SELECT id FROM orion_notifications.notifications WHERE user_id = '00000000-0000-4000-8000-000000000301' LIMIT 1);
SELECT count(*) AS notifications_of_300 FROM orion_notifications.notifications
 WHERE user_id = '00000000-0000-4000-8000-000000000300';

-- with enforcement off (users in another database), they are accepted, and
-- find_orphans and purge_orphans repair what came in
SET orion.enforce_user_references = off;
SELECT orion.send_notification('00000000-0000-4000-8000-000000000001', 'x', 'email', 'T', 'M') IS NOT NULL AS accepted;
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-0000-0000-00000000ab01', 'a');
RESET orion.enforce_user_references;
SELECT * FROM orion.find_orphans();
SET ROLE orion_admin;
SELECT * FROM orion.purge_orphans();
SELECT * FROM orion.find_orphans();
RESET ROLE;
SET ROLE orion_notifications_service;
SELECT * FROM orion.find_orphans();
RESET ROLE;

DELETE FROM orion_auth.users;
DELETE FROM orion_ab_testing.ab_tests;
DELETE FROM orion_notifications.notifications;
DELETE FROM orion_auth.audit_logs;
