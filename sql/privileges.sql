--
-- Privileges follow the seed's Database-Service Mapping exactly. A matrix of
-- role x object x privilege read from the catalogs, then the same rules seen
-- by a client that has SET ROLE to each service role.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

CREATE ROLE orion_regress_app LOGIN;          -- an application granted nothing
CREATE ROLE orion_regress_profiles LOGIN IN ROLE orion_user_service;

-- the roles CREATE EXTENSION made: NOLOGIN, orion_admin in all five
SELECT rolname, rolcanlogin, rolsuper, rolcreaterole,
       ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
              WHERE m.member = r.oid ORDER BY 1) AS member_of
  FROM pg_roles r WHERE rolname LIKE 'orion\_%\_service' OR rolname = 'orion_admin'
 ORDER BY 1;

-- schema USAGE per role
SELECT r AS role,
       string_agg(s, ', ' ORDER BY s) FILTER (WHERE has_schema_privilege(r, s, 'USAGE')) AS usage_on
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r,
       unnest(ARRAY['orion', 'orion_auth', 'orion_user', 'orion_notifications',
                    'orion_feature_flags', 'orion_ab_testing']) AS s
 GROUP BY r ORDER BY r;

-- table privileges per role (S=SELECT I=INSERT U=UPDATE D=DELETE T=TRUNCATE
-- R=REFERENCES G=TRIGGER)
SELECT r AS role, t AS "table",
       string_agg(letter, '' ORDER BY o) FILTER (WHERE has_table_privilege(r, t, p)) AS privileges
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r,
       unnest(ARRAY['orion_auth.users', 'orion_auth.sessions', 'orion_auth.refresh_tokens',
                    'orion_auth.audit_logs', 'orion_user.users',
                    'orion_notifications.notifications', 'orion_feature_flags.feature_flags',
                    'orion_ab_testing.ab_tests', 'orion_ab_testing.ab_test_assignments']) AS t,
       unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
              ARRAY['S', 'I', 'U', 'D', 'T', 'R', 'G']) WITH ORDINALITY AS priv(p, letter, o)
 GROUP BY r, t
HAVING bool_or(has_table_privilege(r, t, p))
 ORDER BY r, t;

-- who can read password_hash: the auth service (and orion_admin, a member)
SELECT r AS role, has_column_privilege(r, 'orion_auth.users', 'password_hash', 'SELECT') AS can_read
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r
 ORDER BY r;
-- the profile view has no such column
SELECT attname FROM pg_attribute
 WHERE attrelid = 'orion_user.users'::regclass AND attname LIKE '%password%';

INSERT INTO orion_auth.users (id, email, password_hash, first_name)
VALUES ('00000000-0000-0000-0000-0000000000aa', 'grace@example.com', '$argon2id$secret', 'Grace');

-- the user service: profiles through the view, never the hash
SET ROLE orion_regress_profiles;
SELECT email, first_name FROM orion_user.users;
UPDATE orion_user.users SET first_name = 'Grace B.' WHERE email = 'grace@example.com';
SELECT password_hash FROM orion_auth.users;
SELECT * FROM orion_auth.users;
INSERT INTO orion_user.users (email) VALUES ('new@example.com');
SELECT count(*) FROM orion_notifications.notifications;
RESET ROLE;

-- the auth service: its tables, and audit rows it may write but not read
SET ROLE orion_auth_service;
SELECT first_name, password_hash FROM orion_auth.users;
INSERT INTO orion_auth.audit_logs (action, resource) VALUES ('auth.test', 'user');
SELECT count(*) FROM orion_auth.audit_logs;
UPDATE orion_auth.audit_logs SET action = 'forged';
DELETE FROM orion_auth.audit_logs;
SELECT count(*) FROM orion_ab_testing.ab_tests;
RESET ROLE;

-- the other three services each see their own tables only
SET ROLE orion_notifications_service;
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
VALUES ('00000000-0000-0000-0000-0000000000aa', 'welcome', 'in_app', 'Hi', 'Welcome!');
SELECT count(*) FROM orion_user.users;
RESET ROLE;

SET ROLE orion_feature_flags_service;
INSERT INTO orion_feature_flags.feature_flags (key, name) VALUES ('new-checkout', 'New checkout');
SELECT count(*) FROM orion_notifications.notifications;
RESET ROLE;

SET ROLE orion_ab_testing_service;
INSERT INTO orion_ab_testing.ab_tests (key, name, variants) VALUES ('t', 'T', '[{"key": "a"}, {"key": "b"}]');
SELECT count(*) FROM orion_feature_flags.feature_flags;
RESET ROLE;

-- an application role granted nothing reaches nothing but the API schema
SET ROLE orion_regress_app;
SELECT orion.version() IS NOT NULL AS api_callable;
SELECT count(*) FROM orion_user.users;
RESET ROLE;

-- orion_admin: every service's tables and the audit log
SET ROLE orion_admin;
SELECT action FROM orion_auth.audit_logs ORDER BY action;
SELECT (SELECT count(*) FROM orion_notifications.notifications) AS notifications,
       (SELECT count(*) FROM orion_feature_flags.feature_flags) AS flags,
       (SELECT count(*) FROM orion_ab_testing.ab_tests) AS tests,
       (SELECT first_name FROM orion_user.users) AS profile;
RESET ROLE;

DELETE FROM orion_auth.users;
DELETE FROM orion_notifications.notifications;
DELETE FROM orion_feature_flags.feature_flags;
DELETE FROM orion_ab_testing.ab_tests;
DELETE FROM orion_auth.audit_logs;
DROP ROLE orion_regress_app, orion_regress_profiles;
