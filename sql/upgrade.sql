--
-- Upgrading: the oldest supported version, updated step by step, must equal
-- a fresh installation of the newest, made by its one full install script
-- (sql/orion.sql), object by object, and keep its data.
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

-- what DDL the update runs, and later what CREATE EXTENSION runs
CREATE SCHEMA upgrade_check;
CREATE TABLE upgrade_check.commands (phase text, tag text, identity text);
CREATE FUNCTION upgrade_check.record() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO upgrade_check.commands
    SELECT current_setting('upgrade_check.phase'), command_tag, object_identity
      FROM pg_event_trigger_ddl_commands() WHERE in_extension;
END
$$;
CREATE EVENT TRIGGER upgrade_check_record ON ddl_command_end
    EXECUTE FUNCTION upgrade_check.record();

SET upgrade_check.phase = 'update';
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

-- Every object of the extension, one row per object and attribute: columns
-- (type, not null, default, collation, ACL, comment), constraints, indexes,
-- sequences, views, functions (signature, body, language, volatility,
-- strictness, security, settings, parallel safety, ACL, comment), tables,
-- schemas, triggers, event triggers, types, the extension's members, and
-- its pg_dump registrations.
CREATE FUNCTION pg_temp.orion_objects() RETURNS SETOF text LANGUAGE sql AS $$
    WITH ns AS (
        SELECT oid, nspname FROM pg_namespace WHERE nspname ~ '^orion(_|$)'
    ), rel AS (
        SELECT c.* FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    ), fn AS (
        SELECT p.* FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    )
    SELECT format('extension %s version %s relocatable %s schema %s',
                  extname, extversion, extrelocatable, extnamespace::regnamespace)
      FROM pg_extension WHERE extname = 'orion'
    UNION ALL
    SELECT format('config %s condition %L', cfg::regclass, cond)
      FROM pg_extension, unnest(extconfig, extcondition) AS u(cfg, cond)
     WHERE extname = 'orion'
    UNION ALL
    -- (from PostgreSQL 17 on, a relation's row type and every array type are
    -- members too: left out, as they come with their relation or type)
    SELECT format('member %s', pg_describe_object(d.classid, d.objid, d.objsubid))
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'orion'
       AND NOT EXISTS (SELECT FROM pg_type t WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid
                          AND (t.typrelid <> 0 OR t.typcategory = 'A'))
    UNION ALL
    SELECT format('schema %s owner %s acl %s comment %L', nspname,
                  pg_get_userbyid(n.nspowner), n.nspacl, obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns)
    UNION ALL
    SELECT format('relation %s kind %s owner %s persistence %s acl %s options %s rls %s force_rls %s comment %L',
                  c.oid::regclass, c.relkind, pg_get_userbyid(c.relowner), c.relpersistence, c.relacl,
                  c.reloptions, c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'))
      FROM rel c WHERE c.relkind NOT IN ('i', 'I')
    UNION ALL
    SELECT format('column %s.%s #%s type %s not_null %s default %s collation %s identity %L generated %L acl %s comment %L',
                  a.attrelid::regclass, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                  CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END,
                  a.attidentity, a.attgenerated, a.attacl, col_description(a.attrelid, a.attnum))
      FROM pg_attribute a
      JOIN rel c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
    UNION ALL
    SELECT format('constraint %s on %s: %s comment %L', co.conname,
                  CASE WHEN co.conrelid <> 0 THEN co.conrelid::regclass::text ELSE 'domain ' || co.contypid::regtype END,
                  pg_get_constraintdef(co.oid), obj_description(co.oid, 'pg_constraint'))
      FROM pg_constraint co WHERE co.connamespace IN (SELECT oid FROM ns)
       AND co.contype <> 'n'   -- NOT NULL (a constraint since 18): in the column rows
    UNION ALL
    SELECT format('index %s comment %L', pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class'))
      FROM pg_index i JOIN rel c ON c.oid = i.indexrelid
    UNION ALL
    SELECT format('sequence %s type %s start %s increment %s min %s max %s cache %s cycle %s owned_by %s',
                  s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                  s.seqcache, s.seqcycle,
                  (SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), ', ')
                     FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')))
      FROM pg_sequence s JOIN rel c ON c.oid = s.seqrelid
    UNION ALL
    SELECT format('view %s: %s', c.oid::regclass, pg_get_viewdef(c.oid))
      FROM rel c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('function %s kind %s language %s returns %s volatility %s strict %s security_definer %s leakproof %s parallel %s cost %s rows %s owner %s',
                  p.oid::regprocedure, p.prokind, l.lanname, pg_get_function_result(p.oid), p.provolatile,
                  p.proisstrict, p.prosecdef, p.proleakproof, p.proparallel, p.procost, p.prorows,
                  pg_get_userbyid(p.proowner))
      FROM fn p JOIN pg_language l ON l.oid = p.prolang
    UNION ALL
    SELECT format('function %s arguments %s', p.oid::regprocedure, pg_get_function_arguments(p.oid)) FROM fn p
    UNION ALL
    SELECT format('function %s config %s', p.oid::regprocedure, p.proconfig) FROM fn p
    UNION ALL
    SELECT format('function %s acl %s', p.oid::regprocedure, p.proacl) FROM fn p
    UNION ALL
    SELECT format('function %s comment %L', p.oid::regprocedure, obj_description(p.oid, 'pg_proc')) FROM fn p
    UNION ALL
    SELECT format('function %s source %s %s', p.oid::regprocedure, p.probin, p.prosrc) FROM fn p
    UNION ALL
    SELECT format('function %s definition %s', p.oid::regprocedure, pg_get_functiondef(p.oid))
      FROM fn p WHERE p.prokind IN ('f', 'p')
    UNION ALL
    SELECT format('trigger %s enabled %s comment %L', pg_get_triggerdef(t.oid), t.tgenabled,
                  obj_description(t.oid, 'pg_trigger'))
      FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('event trigger %s on %s tags %s function %s enabled %s comment %L', e.evtname, e.evtevent,
                  e.evttags, e.evtfoid::regprocedure, e.evtenabled, obj_description(e.oid, 'pg_event_trigger'))
      FROM pg_event_trigger e
     WHERE EXISTS (SELECT FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
                    WHERE d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
                      AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
                      AND x.extname = 'orion')
    UNION ALL
    SELECT format('policy %s on %s: %s %s to %s using %s check %s', po.polname, po.polrelid::regclass,
                  po.polcmd, po.polpermissive, po.polroles::regrole[],
                  pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
      FROM pg_policy po JOIN rel c ON c.oid = po.polrelid
    UNION ALL
    SELECT format('type %s kind %s base %s not_null %s default %s collation %s owner %s acl %s comment %L',
                  t.oid::regtype, t.typtype, NULLIF(t.typbasetype, 0)::regtype, t.typnotnull, t.typdefault,
                  CASE WHEN t.typcollation <> 0 THEN t.typcollation::regcollation::text END,
                  pg_get_userbyid(t.typowner), t.typacl, obj_description(t.oid, 'pg_type'))
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
     WHERE (t.typtype IN ('b', 'd', 'e', 'r', 'm') AND t.typcategory <> 'A')
        OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
$$;
CREATE TEMP TABLE upgraded_objects AS SELECT x FROM pg_temp.orion_objects() AS x;
SELECT split_part(x, ' ', 1) AS kind, count(*) AS upgraded_rows
  FROM upgraded_objects GROUP BY 1 ORDER BY 1;

-- a fresh installation of the default version: the schema orion too, which
-- DROP EXTENSION leaves behind
SET client_min_messages = warning;
DROP EXTENSION orion;
DROP SCHEMA orion;
SET upgrade_check.phase = 'create';
CREATE EXTENSION orion;
RESET upgrade_check.phase;
RESET client_min_messages;
DROP EVENT TRIGGER upgrade_check_record;

-- it ran the full install script alone: the update replaced functions,
-- altered some and rebuilt indexes, while the installation created each
-- function and index once and altered none; 0.8.0 has its own install
-- script, and 0.1.0 reaches it by the chain of upgrade scripts
SELECT phase,
       count(*) FILTER (WHERE tag = 'CREATE FUNCTION') AS functions_created,
       count(DISTINCT identity) FILTER (WHERE tag = 'CREATE FUNCTION') AS distinct_functions,
       count(*) FILTER (WHERE tag = 'ALTER FUNCTION') AS functions_altered,
       count(*) FILTER (WHERE tag = 'CREATE INDEX') AS indexes_created,
       count(DISTINCT identity) FILTER (WHERE tag = 'CREATE INDEX') AS distinct_indexes
  FROM upgrade_check.commands GROUP BY phase ORDER BY phase;
SET client_min_messages = warning;
DROP SCHEMA upgrade_check CASCADE;
RESET client_min_messages;
SELECT extversion, orion.version() = extversion AS library_matches,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'orion') AS default_version
  FROM pg_extension WHERE extname = 'orion';
SELECT path FROM pg_extension_update_paths('orion') WHERE source = '0.1.0' AND target = '0.8.0';

SELECT split_part(x, ' ', 1) AS kind, count(*) AS fresh_rows
  FROM pg_temp.orion_objects() AS x GROUP BY 1 ORDER BY 1;
SELECT x AS "rows only in upgraded"
  FROM (SELECT x FROM upgraded_objects EXCEPT ALL SELECT pg_temp.orion_objects()) AS d ORDER BY 1;
SELECT x AS "rows only in fresh"
  FROM (SELECT pg_temp.orion_objects() EXCEPT ALL SELECT x FROM upgraded_objects) AS d(x) ORDER BY 1;

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
-- (the error's context, which PostgreSQL 18 words with the script's line, is
-- not shown)
\set SHOW_CONTEXT never
ALTER EXTENSION orion UPDATE TO '0.5.0';
\set SHOW_CONTEXT errors
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
