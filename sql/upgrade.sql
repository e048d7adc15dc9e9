--
-- Upgrading: the oldest supported version, updated step by step, must equal
-- a fresh installation of the newest, and keep its data. (While the newest
-- version has no install script of its own, CREATE EXTENSION takes the same
-- path; the comparison guards the day one is added.)
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS orion;
CREATE EXTENSION orion VERSION '0.1.0' CASCADE;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'orion';
INSERT INTO orion_auth.users (email, password_hash)
VALUES ('kept@example.com', overlay(crypt('kept password', gen_salt('bf', 4)) placing '$2b$' from 1 for 4));
-- what the original platform's services wrote: a flag in its admin UI's
-- shape, a running AB test and a user's assignment in it, a notification
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout)
VALUES ('kept-flag', 'Kept flag', true,
        '{"percentage": 100, "targeting": [{"attribute": "email", "operator": "endsWith", "value": "@example.com"}]}');
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active)
VALUES ('kept-test', 'Kept test', '[{"key": "control", "weight": 50}, {"key": "treatment", "weight": 50}]', true);
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
SELECT u.id, t.id, 'treatment' FROM orion_auth.users u, orion_ab_testing.ab_tests t;
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
SELECT id, 'welcome', 'in_app', 'Welcome', 'Hello' FROM orion_auth.users;

ALTER EXTENSION orion UPDATE;
SELECT extversion, orion.version() = extversion AS library_matches
  FROM pg_extension WHERE extname = 'orion';
-- the data stayed, and works with the new functions
SELECT email, failed_login_count, locked_until FROM orion_auth.users;
SET orion.argon2_memory_kib = 1024;
SELECT count(*) AS login_after_upgrade FROM orion.login('kept@example.com', 'kept password');
-- and the other services' rows behave as 0.7.0's would
SELECT id AS kept_user FROM orion_auth.users \gset
SELECT orion.flag_enabled('kept-flag', :'kept_user') AS kept_flag_on,
       orion.assign_variant('kept-test', :'kept_user') AS kept_assignment_sticks,
       orion.unread_count(:'kept_user') AS kept_unread;
SELECT title, status FROM orion.list_notifications(:'kept_user');
SELECT * FROM orion.find_orphans() WHERE orphans > 0;

-- A fingerprint of every object of the extension: columns, constraints,
-- indexes, functions with their settings and privileges, comments.
CREATE FUNCTION pg_temp.orion_fingerprint() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
        SELECT format('column %s.%s %s %s %s', a.attrelid::regclass, a.attname,
                      format_type(a.atttypid, a.atttypmod), a.attnotnull,
                      pg_get_expr(d.adbin, d.adrelid))
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace::regnamespace::text LIKE 'orion%' AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
          FROM pg_constraint WHERE connamespace::regnamespace::text LIKE 'orion%'
        UNION ALL
        SELECT format('index %s', pg_get_indexdef(indexrelid))
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         WHERE c.relnamespace::regnamespace::text LIKE 'orion%'
        UNION ALL
        SELECT format('function %s %s %s %s %s %s', p.oid::regprocedure, p.provolatile, p.prosecdef,
                      p.proconfig, p.proacl, obj_description(p.oid, 'pg_proc'))
          FROM pg_proc p WHERE p.pronamespace = 'orion'::regnamespace
        UNION ALL
        SELECT format('table %s %s %s', c.oid::regclass, c.relacl, obj_description(c.oid, 'pg_class'))
          FROM pg_class c WHERE c.relnamespace::regnamespace::text LIKE 'orion%'
        UNION ALL
        SELECT format('trigger %s', pg_get_triggerdef(t.oid))
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace::regnamespace::text LIKE 'orion%' AND NOT t.tgisinternal
        UNION ALL
        SELECT format('config %s', c::regclass)
          FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'orion'
    ) AS objects(x)
$$;
SELECT pg_temp.orion_fingerprint() AS upgraded \gset

SET client_min_messages = warning;
DROP EXTENSION orion;
CREATE EXTENSION orion;
RESET client_min_messages;
SELECT pg_temp.orion_fingerprint() = :'upgraded' AS upgraded_equals_fresh;

-- there is no way down
ALTER EXTENSION orion UPDATE TO '0.1.0';

-- 0.4.0 to 0.5.0 with notifications in the table: the original platform's
-- are marked delivered, a channel it never had stops the update until fixed,
-- and a row naming a missing user is left for find_orphans
SET client_min_messages = warning;
DROP EXTENSION orion;
CREATE EXTENSION orion VERSION '0.4.0';
RESET client_min_messages;
INSERT INTO orion_auth.users (id, email, password_hash)
VALUES ('00000000-0000-4000-8000-000000000001', 'kept@example.com', '$argon2id$x');
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message) VALUES
    ('00000000-0000-4000-8000-000000000001', 'welcome', 'email', 'Welcome', 'Hello'),
    ('00000000-0000-4000-8000-000000000001', 'welcome', 'carrier pigeon', 'Welcome', 'Hello'),
    ('00000000-0000-4000-8000-0000000000ff', 'welcome', 'sms', 'Welcome', 'Hello');
ALTER EXTENSION orion UPDATE TO '0.5.0';
SELECT extversion FROM pg_extension WHERE extname = 'orion';
UPDATE orion_notifications.notifications SET channel = 'in_app' WHERE channel = 'carrier pigeon';
ALTER EXTENSION orion UPDATE TO '0.5.0';
SELECT extversion FROM pg_extension WHERE extname = 'orion';
SELECT channel, status, attempts FROM orion_notifications.notifications ORDER BY channel;
SELECT orion.send_notification('00000000-0000-4000-8000-000000000001', 'news', 'email', 'News', 'Hi') IS NOT NULL AS sent;
SELECT status, count(*) FROM orion_notifications.notifications GROUP BY status ORDER BY status;
SELECT * FROM orion.find_orphans();
SET client_min_messages = warning;
DROP EXTENSION orion;
CREATE EXTENSION orion;
RESET client_min_messages;
