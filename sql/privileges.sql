--
-- Privileges follow the seed's Database-Service Mapping exactly. A matrix of
-- role x object x privilege read from the catalogs (every schema, table,
-- view and sequence of orion's schemas, enumerated, so that a new one shows
-- up), checked against the README's mapping, then the same rules seen by a
-- client that has SET ROLE to each service role. (Functions: sql/security.sql.)
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

-- orion's schemas, and every relation in them
CREATE TEMP VIEW orion_schemas AS
SELECT oid, nspname FROM pg_namespace WHERE nspname = 'orion' OR nspname LIKE 'orion\_%';
CREATE TEMP VIEW orion_relations AS
SELECT c.oid::regclass AS relation, c.relkind FROM pg_class c JOIN orion_schemas n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S');
SELECT nspname AS schema FROM orion_schemas ORDER BY 1;
SELECT relation, relkind FROM orion_relations ORDER BY relation::text;

-- schema USAGE and CREATE per role (CREATE on none: a role that could
-- create objects in orion's schemas could plant look-alikes there)
SELECT r AS role,
       string_agg(n.nspname, ', ' ORDER BY n.nspname) FILTER (WHERE has_schema_privilege(r, n.oid, 'USAGE')) AS usage_on,
       string_agg(n.nspname, ', ' ORDER BY n.nspname) FILTER (WHERE has_schema_privilege(r, n.oid, 'CREATE')) AS create_on
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r,
       orion_schemas n
 GROUP BY r ORDER BY r;

-- table and view privileges per role, every kind (S=SELECT I=INSERT
-- U=UPDATE D=DELETE T=TRUNCATE R=REFERENCES G=TRIGGER); a role that has
-- none on a relation is not listed
CREATE TEMP VIEW relation_grants AS
SELECT r AS role, t.relation,
       coalesce(string_agg(letter, '' ORDER BY o) FILTER (WHERE has_table_privilege(r, t.relation, p)), '') AS privileges
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r,
       orion_relations t,
       unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
              ARRAY['S', 'I', 'U', 'D', 'T', 'R', 'G']) WITH ORDINALITY AS priv(p, letter, o)
 WHERE t.relkind <> 'S'
 GROUP BY r, t.relation;
SELECT role, relation AS "table", privileges FROM relation_grants
 WHERE privileges <> ''
 ORDER BY role, relation::text;

-- The mapping as README.md ("Schemas and roles") and DESIGN.md state it:
-- each service reads and writes its own tables (segments are the feature
-- flags service's, conversions the AB testing service's), the user service
-- works through its view and may not INSERT there, the auth service only
-- appends to the audit log, orion_admin has what the five have and reads
-- the audit log and orion.status (and orion.maintenance_state, which
-- orion.status shows); nobody else has anything. Every relation is named
-- here, and every grant must match.
CREATE TEMP TABLE readme_relation_grants (role name, relation regclass, privileges text);
INSERT INTO readme_relation_grants
SELECT role, relation::regclass, privileges FROM (VALUES
    ('orion_auth_service', 'orion_auth.users', 'SIUD'),
    ('orion_auth_service', 'orion_auth.sessions', 'SIUD'),
    ('orion_auth_service', 'orion_auth.refresh_tokens', 'SIUD'),
    ('orion_auth_service', 'orion_auth.one_time_tokens', 'SIUD'),
    ('orion_auth_service', 'orion_auth.totp_factors', 'SIUD'),
    ('orion_auth_service', 'orion_auth.recovery_codes', 'SIUD'),
    ('orion_auth_service', 'orion_auth.audit_logs', 'I'),
    ('orion_user_service', 'orion_user.users', 'SUD'),
    ('orion_notifications_service', 'orion_notifications.notifications', 'SIUD'),
    ('orion_feature_flags_service', 'orion_feature_flags.feature_flags', 'SIUD'),
    ('orion_feature_flags_service', 'orion_feature_flags.segments', 'SIUD'),
    ('orion_ab_testing_service', 'orion_ab_testing.ab_tests', 'SIUD'),
    ('orion_ab_testing_service', 'orion_ab_testing.ab_test_assignments', 'SIUD'),
    ('orion_ab_testing_service', 'orion_ab_testing.ab_test_conversions', 'SIUD'),
    ('orion_admin', 'orion_auth.users', 'SIUD'),
    ('orion_admin', 'orion_auth.sessions', 'SIUD'),
    ('orion_admin', 'orion_auth.refresh_tokens', 'SIUD'),
    ('orion_admin', 'orion_auth.one_time_tokens', 'SIUD'),
    ('orion_admin', 'orion_auth.totp_factors', 'SIUD'),
    ('orion_admin', 'orion_auth.recovery_codes', 'SIUD'),
    ('orion_admin', 'orion_auth.audit_logs', 'SI'),
    ('orion_admin', 'orion_user.users', 'SUD'),
    ('orion_admin', 'orion_notifications.notifications', 'SIUD'),
    ('orion_admin', 'orion_feature_flags.feature_flags', 'SIUD'),
    ('orion_admin', 'orion_feature_flags.segments', 'SIUD'),
    ('orion_admin', 'orion_ab_testing.ab_tests', 'SIUD'),
    ('orion_admin', 'orion_ab_testing.ab_test_assignments', 'SIUD'),
    ('orion_admin', 'orion_ab_testing.ab_test_conversions', 'SIUD'),
    ('orion_admin', 'orion.status', 'S'),
    ('orion_admin', 'orion.maintenance_state', 'S')) AS m(role, relation, privileges);
-- relations the mapping does not name (none)
SELECT relation FROM orion_relations
 WHERE relation NOT IN (SELECT relation FROM readme_relation_grants)
 ORDER BY relation::text;
-- the grants that differ from the mapping (none)
SELECT coalesce(g.role, m.role) AS role, coalesce(g.relation, m.relation) AS relation,
       coalesce(m.privileges, '') AS readme_says, coalesce(g.privileges, '(no such relation)') AS granted
  FROM relation_grants g
  FULL JOIN readme_relation_grants m ON m.role = g.role AND m.relation = g.relation
 WHERE coalesce(m.privileges, '') IS DISTINCT FROM g.privileges
 ORDER BY 1, 2::text;

-- sequences: USAGE, SELECT, UPDATE per role (orion's ids are uuids: there
-- are none, and a new one would be listed here with its grants)
SELECT r AS role, t.relation AS sequence,
       string_agg(p, ', ' ORDER BY p) FILTER (WHERE has_sequence_privilege(r, t.relation, p)) AS privileges
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r,
       orion_relations t, unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p
 WHERE t.relkind = 'S'
 GROUP BY r, t.relation ORDER BY 1, 2::text;

-- column privileges beyond the table's (a column grant the matrix above
-- would not show): none
SELECT r AS role, t.relation, a.attname, p
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'orion_admin',
                    'orion_regress_app', 'public']) AS r,
       orion_relations t
  JOIN pg_attribute a ON a.attrelid = t.relation AND a.attnum > 0 AND NOT a.attisdropped,
       unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) AS p
 WHERE t.relkind <> 'S'
   AND has_column_privilege(r, t.relation, a.attnum, p) AND NOT has_table_privilege(r, t.relation, p)
 ORDER BY 1, 2::text, 3, 4;

-- default privileges that would grant future objects in orion's schemas: none
SELECT d.defaclnamespace::regnamespace, d.defaclobjtype, d.defaclacl
  FROM pg_default_acl d JOIN orion_schemas n ON n.oid = d.defaclnamespace;

-- every schema and relation is owned by the extension's owner (an owner
-- could ALTER or DROP it, and grant itself anything)
SELECT n.nspname AS schema, pg_get_userbyid(s.nspowner) AS owner
  FROM orion_schemas n JOIN pg_namespace s ON s.oid = n.oid
 WHERE s.nspowner <> (SELECT extowner FROM pg_extension WHERE extname = 'orion');
SELECT t.relation, pg_get_userbyid(c.relowner) AS owner
  FROM orion_relations t JOIN pg_class c ON c.oid = t.relation
 WHERE c.relowner <> (SELECT extowner FROM pg_extension WHERE extname = 'orion');

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
