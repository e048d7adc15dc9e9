--
-- Security: who may call each function of schema orion, and whether the
-- SECURITY DEFINER functions resist a hostile search_path.
--
-- 1. The role x function matrix, read from pg_proc (a new function shows up
--    in it), checked against what README.md says of each function, and
--    representative calls made as each role: the allowed ones work, the
--    denied ones fail with 42501.
-- 2. Every SECURITY DEFINER function runs as the extension's owner. A caller
--    who could make it call an object of the caller's choosing would run code
--    as that owner. Schema trojan (and pg_temp) hold look-alikes of the
--    operators, functions, aggregates, types and tables that such a body
--    could reach unqualified; each look-alike raises and counts its call.
--    Every SECURITY DEFINER function is then driven through its real work as
--    a service role, under the ordinary search_path and under
--    "trojan, pg_catalog, pg_temp" and "pg_temp, trojan, pg_catalog": the
--    answers and effects must be what the README says, the same on all three
--    paths; no look-alike may be called; and a SECURITY DEFINER function that
--    no case reaches fails the test (counted with track_functions).
-- 3. Each SECURITY DEFINER function is owned by the extension's owner, is not
--    executable by PUBLIC, and pins its search_path: a SET clause, or in C
--    around its SQL where the README says so.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;
-- cheap hashes: this test is about privileges, not Argon2's cost
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

-- a login role granted nothing: what PUBLIC may do
CREATE ROLE orion_regress_nobody LOGIN;

-- the columns of the matrices
CREATE TEMP TABLE matrix_roles (ord int, role name, heading text);
INSERT INTO matrix_roles VALUES
    (1, 'orion_auth_service', 'auth'), (2, 'orion_user_service', 'user'),
    (3, 'orion_notifications_service', 'notif'), (4, 'orion_feature_flags_service', 'flags'),
    (5, 'orion_ab_testing_service', 'ab'), (6, 'orion_admin', 'admin'),
    (7, 'orion_regress_nobody', 'public');

--
-- 1. Role x function
--

-- X: may EXECUTE (has_function_privilege); every function of schema orion
SELECT p.oid::regprocedure AS function,
       CASE WHEN p.prosecdef THEN 'definer' ELSE '' END AS runs_as,
       CASE WHEN has_function_privilege('orion_auth_service', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS auth,
       CASE WHEN has_function_privilege('orion_user_service', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS "user",
       CASE WHEN has_function_privilege('orion_notifications_service', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS notif,
       CASE WHEN has_function_privilege('orion_feature_flags_service', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS flags,
       CASE WHEN has_function_privilege('orion_ab_testing_service', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS ab,
       CASE WHEN has_function_privilege('orion_admin', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS admin,
       CASE WHEN has_function_privilege('orion_regress_nobody', p.oid, 'EXECUTE') THEN 'X' ELSE '' END AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'orion'::regnamespace
 ORDER BY p.proname, p.oid::regprocedure::text;

-- What README.md says of each function ("Functions" and the feature
-- sections). callers: everyone; services (the five service roles, so
-- orion_admin, a member of all five); one service (auth, user, notif, ab:
-- that role, and orion_admin); admin; superuser (no role here); trigger
-- (trigger functions, not for calling: no role here).
CREATE TEMP TABLE readme_callers (function regprocedure, callers text, readme text);
INSERT INTO readme_callers VALUES
    ('orion.version()', 'everyone', 'anyone else: USAGE on schema orion (the API)'),
    ('orion.hash_password(text)', 'everyone', 'Anyone may call it.'),
    ('orion.verify_password(text,text)', 'everyone', 'Anyone may call it.'),
    ('orion.password_needs_rehash(text)', 'everyone', 'an application that verifies passwords itself can too (not "Auth service")'),
    ('orion.register_user(text,text,text,text,text)', 'auth', 'Auth service.'),
    ('orion.login(text,text,text,text)', 'auth', 'Auth service.'),
    ('orion.validate_session(text)', 'services', 'Callable by every service role'),
    ('orion.refresh_session(text,text,text)', 'auth', 'Auth service.'),
    ('orion.logout(text)', 'auth', 'Auth service.'),
    ('orion.list_sessions(uuid)', 'auth', 'Auth service.'),
    ('orion.revoke_session(uuid,text)', 'auth', 'Auth service.'),
    ('orion.revoke_all_sessions(uuid,text)', 'auth', 'Auth service.'),
    ('orion.revoke_refresh_token(text,text)', 'auth', 'Auth service.'),
    ('orion.change_password(uuid,text,text,uuid)', 'auth', 'Auth service.'),
    ('orion.set_password(uuid,text)', 'auth', 'Auth service.'),
    ('orion.request_email_verification(uuid)', 'auth', 'Auth service.'),
    ('orion.verify_email(text)', 'auth', 'Auth service.'),
    ('orion.request_password_reset(text)', 'auth', 'Auth service.'),
    ('orion.reset_password(text,text)', 'auth', 'Auth service.'),
    ('orion.request_sign_in_link(text)', 'auth', 'Auth service.'),
    ('orion.sign_in_with_link(text,text,text)', 'auth', 'Auth service.'),
    ('orion.enroll_totp(uuid)', 'auth', 'Auth service.'),
    ('orion.confirm_totp(uuid,text)', 'auth', 'Auth service.'),
    ('orion.disable_totp(uuid)', 'auth', 'Auth service.'),
    ('orion.regenerate_recovery_codes(uuid)', 'auth', 'Auth service.'),
    ('orion.verify_totp(text,text,text,text)', 'auth', 'Auth service.'),
    ('orion.hotp_code(text,bigint,integer)', 'everyone', 'Anyone may call them.'),
    ('orion.totp_code(text,timestamp with time zone,integer)', 'everyone', 'Anyone may call them.'),
    ('orion.reseal_secrets()', 'superuser', 'Superuser only.'),
    ('orion.rotate_signing_key(text,text)', 'superuser', 'Superuser only.'),
    ('orion.jwks()', 'everyone', 'Anyone may call it.'),
    ('orion.verify_jwt(text)', 'services', 'Callable by every service role'),
    ('orion.revoked_sessions(timestamp with time zone)', 'services', 'Callable by every service role'),
    ('orion.audit(text,text,text,jsonb,jsonb,uuid,text,text)', 'auth', 'Auth service.'),
    ('orion.flag_enabled(text,uuid,jsonb)', 'services', 'Every service role may call it'),
    ('orion.flag_variant(text,uuid,jsonb)', 'services', 'Every service role may evaluate flags'),
    ('orion.evaluate_flag(text,uuid,jsonb)', 'services', 'Every service role may evaluate flags'),
    ('orion.evaluate_all_flags(uuid,jsonb)', 'services', 'Every service role may evaluate flags'),
    ('orion.validate_rollout(jsonb)', 'everyone', 'Anyone may call them.'),
    ('orion.validate_segment_constraints(jsonb)', 'everyone', 'Anyone may call them.'),
    ('orion.flag_bucket(text,text,integer,bigint)', 'everyone', 'Anyone may call it.'),
    ('orion.assign_variant(text,uuid)', 'ab', 'Caller needs orion_ab_testing_service.'),
    ('orion.peek_variant(text,uuid)', 'services', 'every service role may call it'),
    ('orion.track_conversion(text,uuid,text,numeric)', 'ab', 'Caller needs orion_ab_testing_service.'),
    ('orion.ab_test_results(text,text)', 'ab', 'Caller needs orion_ab_testing_service.'),
    ('orion.ab_test_statistics(text,text[],bigint[],bigint[])', 'ab', 'Caller needs orion_ab_testing_service.'),
    ('orion.validate_variants(jsonb)', 'everyone', 'Anyone may call it.'),
    ('orion.growthbook_hash(text,text,integer)', 'everyone', 'Anyone may call them.'),
    ('orion.growthbook_bucket_ranges(integer,double precision,double precision[])', 'everyone', 'Anyone may call them.'),
    ('orion.growthbook_choose_variation(double precision,double precision[])', 'everyone', 'Anyone may call them.'),
    ('orion.send_notification(uuid,text,orion.notification_channel,text,text,jsonb)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.send_notifications(uuid[],text,orion.notification_channel,text,text,jsonb)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.list_notifications(uuid,boolean,integer,uuid)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.unread_count(uuid)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.mark_read(uuid)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.mark_all_read(uuid)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.claim_notifications(orion.notification_channel,integer)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.report_delivery(uuid,boolean,text,boolean)', 'notif', 'Caller needs orion_notifications_service.'),
    ('orion.delete_user(uuid)', 'user', 'Caller needs orion_user_service.'),
    ('orion.find_orphans()', 'admin', 'Caller needs orion_admin.'),
    ('orion.purge_orphans()', 'admin', 'Caller needs orion_admin.'),
    ('orion.expire_sessions(integer)', 'admin', 'Caller needs orion_admin.'),
    ('orion.run_maintenance(integer)', 'admin', 'Caller needs orion_admin.'),
    ('orion.maintenance_backlog()', 'admin', 'Caller needs orion_admin.'),
    ('orion.definitions()', 'admin', 'Caller needs orion_admin.'),
    ('orion.load_definitions(jsonb)', 'admin', 'Caller needs orion_admin.'),
    ('orion.start_maintenance_worker(name)', 'superuser', 'Superuser only.'),
    ('orion.stop_maintenance_worker(name)', 'superuser', 'Superuser only.'),
    ('orion.schedule_maintenance(text)', 'admin', 'Caller needs orion_admin (and pg_cron''s own privileges).'),
    ('orion.unschedule_maintenance()', 'admin', 'Caller needs orion_admin (and pg_cron''s own privileges).'),
    ('orion.audit_role_change()', 'trigger', 'a trigger on orion_auth.users'),
    ('orion.unverify_changed_email()', 'trigger', 'a trigger on orion_auth.users'),
    ('orion.audit_change()', 'trigger', 'a trigger on flags, segments, AB tests'),
    ('orion.cache_invalidate()', 'trigger', 'a trigger on flags, segments, AB tests'),
    ('orion.check_user_reference()', 'trigger', 'a trigger on notifications, assignments'),
    ('orion.cleanup_deleted_users()', 'trigger', 'a trigger on orion_auth.users'),
    ('orion.notify_cache()', 'trigger', 'a trigger on users, sessions, assignments'),
    ('orion.announce_notification()', 'trigger', 'a trigger on notifications');

-- the roles each kind of caller stands for
CREATE TEMP VIEW readme_may AS
SELECT c.function, r.heading,
       CASE c.callers
           WHEN 'everyone' THEN true
           WHEN 'services' THEN r.heading <> 'public'
           WHEN 'admin' THEN r.heading = 'admin'
           WHEN 'superuser' THEN false
           WHEN 'trigger' THEN false
           ELSE r.heading IN (c.callers, 'admin')
       END AS may
  FROM readme_callers c CROSS JOIN matrix_roles r;

-- every function against the README: the grants that differ, and functions
-- the README does not name (or names, but that do not exist)
SELECT coalesce(g.function, m.function)::text AS function, coalesce(g.heading, m.heading) AS role,
       m.may AS readme_says, g.may AS granted
  FROM (SELECT p.oid::regprocedure AS function, r.heading,
               has_function_privilege(r.role, p.oid, 'EXECUTE') AS may
          FROM pg_proc p CROSS JOIN matrix_roles r
         WHERE p.pronamespace = 'orion'::regnamespace) g
  FULL JOIN readme_may m ON m.function = g.function AND m.heading = g.heading
 WHERE m.may IS DISTINCT FROM g.may
 ORDER BY 1, 2;

-- Calls made as each role. attempt() runs a statement and answers ok or
-- its SQLSTATE.
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
CREATE TEMP TABLE calls (ord int, function regprocedure, statement text);
INSERT INTO calls VALUES
    (1, 'orion.version()', 'SELECT orion.version()'),
    (2, 'orion.hash_password(text)', 'SELECT orion.hash_password(''correct horse battery staple'')'),
    (3, 'orion.validate_rollout(jsonb)', 'SELECT orion.validate_rollout(''{"percentage": 50}'')'),
    (4, 'orion.validate_session(text)', 'SELECT * FROM orion.validate_session(''orion_s_nothing'')'),
    (5, 'orion.flag_enabled(text,uuid,jsonb)', 'SELECT orion.flag_enabled(''no-such-flag'')'),
    (6, 'orion.peek_variant(text,uuid)', 'SELECT orion.peek_variant(''no-such-test'', ''00000000-0000-4000-8000-000000000000'')'),
    (7, 'orion.login(text,text,text,text)', 'SELECT * FROM orion.login(''nobody@example.com'', ''wrong horse battery staple'')'),
    (8, 'orion.audit(text,text,text,jsonb,jsonb,uuid,text,text)', 'SELECT orion.audit(''regress.call'', ''security'')'),
    (9, 'orion.delete_user(uuid)', 'SELECT orion.delete_user(''00000000-0000-4000-8000-000000000000'')'),
    (10, 'orion.unread_count(uuid)', 'SELECT orion.unread_count(''00000000-0000-4000-8000-000000000000'')'),
    (11, 'orion.assign_variant(text,uuid)', 'SELECT orion.assign_variant(''no-such-test'', ''00000000-0000-4000-8000-000000000000'')'),
    (12, 'orion.find_orphans()', 'SELECT * FROM orion.find_orphans()'),
    (13, 'orion.maintenance_backlog()', 'SELECT * FROM orion.maintenance_backlog()'),
    (14, 'orion.stop_maintenance_worker(name)', 'SELECT orion.stop_maintenance_worker(''orion_regress_no_such_database'')'),
    (15, 'orion.audit_change()', 'SELECT orion.audit_change()');
CREATE TEMP TABLE call_outcomes (role name, ord int, outcome text);
GRANT SELECT ON calls TO PUBLIC;
GRANT INSERT ON call_outcomes TO PUBLIC;

SET ROLE orion_auth_service;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;
SET ROLE orion_user_service;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;
SET ROLE orion_notifications_service;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;
SET ROLE orion_feature_flags_service;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;
SET ROLE orion_ab_testing_service;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;
SET ROLE orion_admin;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;
SET ROLE orion_regress_nobody;
INSERT INTO call_outcomes SELECT current_user, ord, pg_temp.attempt(statement) FROM calls;
RESET ROLE;

SELECT c.function,
       max(o.outcome) FILTER (WHERE r.heading = 'auth') AS auth,
       max(o.outcome) FILTER (WHERE r.heading = 'user') AS "user",
       max(o.outcome) FILTER (WHERE r.heading = 'notif') AS notif,
       max(o.outcome) FILTER (WHERE r.heading = 'flags') AS flags,
       max(o.outcome) FILTER (WHERE r.heading = 'ab') AS ab,
       max(o.outcome) FILTER (WHERE r.heading = 'admin') AS admin,
       max(o.outcome) FILTER (WHERE r.heading = 'public') AS public
  FROM calls c JOIN call_outcomes o USING (ord) JOIN matrix_roles r USING (role)
 GROUP BY c.ord, c.function ORDER BY c.ord;
-- a call works exactly where EXECUTE is granted, and fails with 42501 elsewhere
SELECT c.function, o.role, o.outcome
  FROM calls c JOIN call_outcomes o USING (ord)
 WHERE o.outcome <> CASE WHEN has_function_privilege(o.role, c.function, 'EXECUTE') THEN 'ok' ELSE '42501' END;
SELECT count(*) AS outcomes FROM call_outcomes;
DELETE FROM orion_auth.audit_logs;

--
-- 2. search_path attacks on the SECURITY DEFINER functions
--

-- The trap: each look-alike calls tripwire(), which counts the call in a
-- sequence (not undone by a rollback, so a call inside a swallowed error
-- still shows) and raises.
CREATE SCHEMA trojan;
GRANT USAGE ON SCHEMA trojan TO PUBLIC;
CREATE SEQUENCE trojan.calls;
GRANT USAGE ON SEQUENCE trojan.calls TO PUBLIC;
CREATE FUNCTION trojan.tripwire(what text) RETURNS boolean LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.nextval('trojan.calls');
    RAISE EXCEPTION 'trojan % called', what;
END
$$;

-- Look-alikes in schema trojan and in pg_temp (pg_temp is never searched
-- for functions and operators; planted there for the path that names it
-- first) of:
-- * every operator of pg_catalog on the types orion's SQL uses, plus the
--   varchar/text mixes of the comparisons, with the same argument types;
-- * the functions and aggregates below, from pg_catalog and pgcrypto, with
--   the same arguments ("any", which PL/pgSQL cannot take, as text);
-- and in trojan only (a type in pg_temp would capture this session's own
-- statements too): domains named like the types orion's SQL casts to.
CREATE TEMP TABLE trojan_not_planted (schema text, look_alike text, why text);
-- every function or aggregate overload tried (how many there are depends on
-- the PostgreSQL version's catalog)
CREATE TEMP TABLE trojan_overloads_tried (schema text, look_alike text);
DO $plant$
DECLARE
    types CONSTANT regtype[] := ARRAY['text', 'varchar', 'bpchar', 'name', 'uuid', 'timestamptz',
        'timestamp', 'date', 'interval', 'int2', 'int4', 'int8', 'numeric', 'float4', 'float8',
        'bool', 'jsonb', 'json', 'bytea', 'oid', 'inet', 'text[]', 'varchar[]', 'uuid[]', 'int4[]',
        'int8[]', 'jsonb[]', 'anyelement', 'anyarray', 'anynonarray', 'anycompatible',
        'anycompatiblearray', 'anycompatiblenonarray']::regtype[];
    names CONSTANT name[] := ARRAY[
        -- time
        'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday',
        'make_interval', 'make_timestamptz', 'date_trunc', 'date_part', 'age', 'to_timestamp', 'to_char',
        -- text
        'lower', 'upper', 'initcap', 'length', 'char_length', 'octet_length', 'substr', 'substring',
        'position', 'strpos', 'replace', 'left', 'right', 'btrim', 'ltrim', 'rtrim', 'split_part',
        'concat', 'concat_ws', 'format', 'quote_literal', 'quote_ident', 'quote_nullable',
        'regexp_match', 'regexp_matches', 'regexp_replace', 'regexp_split_to_array',
        'string_to_array', 'array_to_string', 'convert_to', 'convert_from',
        -- hashes, encodings, randomness (pg_catalog and pgcrypto)
        'md5', 'sha224', 'sha256', 'sha384', 'sha512', 'encode', 'decode', 'digest', 'hmac',
        'crypt', 'gen_salt', 'gen_random_bytes', 'gen_random_uuid', 'random', 'hashtext',
        -- JSON
        'to_jsonb', 'to_json', 'row_to_json', 'jsonb_build_object', 'jsonb_build_array',
        'json_build_object', 'jsonb_typeof', 'jsonb_array_length', 'jsonb_array_elements',
        'jsonb_array_elements_text', 'jsonb_each', 'jsonb_each_text', 'jsonb_object_keys',
        'jsonb_extract_path', 'jsonb_extract_path_text', 'jsonb_set', 'jsonb_insert',
        'jsonb_strip_nulls', 'jsonb_path_query', 'jsonb_path_exists', 'jsonb_pretty',
        -- arrays and sets
        'array_length', 'array_position', 'array_append', 'array_cat', 'cardinality', 'unnest',
        'generate_series',
        -- sessions, settings, locks, sequences
        'pg_notify', 'set_config', 'current_setting', 'current_database', 'current_schema',
        'pg_backend_pid', 'pg_terminate_backend', 'pg_cancel_backend', 'pg_advisory_lock',
        'pg_try_advisory_lock', 'pg_advisory_unlock', 'pg_advisory_xact_lock', 'pg_sleep',
        'nextval', 'currval', 'setval', 'txid_current', 'pg_current_xact_id',
        -- numbers
        'abs', 'round', 'trunc', 'floor', 'ceil', 'sqrt', 'exp', 'ln', 'power',
        'num_nulls', 'num_nonnulls',
        -- aggregates
        'count', 'sum', 'max', 'min', 'avg', 'array_agg', 'string_agg', 'bool_and', 'bool_or',
        'every', 'jsonb_agg', 'jsonb_object_agg', 'json_agg'];
    type_names CONSTANT text[] := ARRAY['text', 'uuid', 'jsonb', 'json', 'timestamptz', 'timestamp',
        'int2', 'int4', 'int8', 'bool', 'float8', 'name', 'bytea', 'oid', 'regclass', 'date'];
    target text;
    o record;
    f record;
    args text;
    argtypes text;
    stype text;
    what text;
    i int := 0;
BEGIN
    FOREACH target IN ARRAY ARRAY['trojan', 'pg_temp']
    LOOP
        FOR o IN
            SELECT oprname, oprleft::regtype AS l, oprright::regtype AS r, oprresult::regtype AS res
              FROM pg_operator
             WHERE oprnamespace = 'pg_catalog'::regnamespace
               AND (oprleft = 0 OR oprleft = ANY (types)) AND oprright = ANY (types)
            UNION
            SELECT op, l::regtype, r::regtype, 'bool'::regtype
              FROM unnest(ARRAY['=', '<>', '<', '>', '<=', '>=']) AS op,
                   (VALUES ('varchar', 'text'), ('text', 'varchar'), ('varchar', 'varchar')) AS m(l, r)
        LOOP
            i := i + 1;
            what := format('operator %s(%s)', o.oprname,
                           concat_ws(', ', CASE WHEN o.l <> 0 THEN o.l::text END, o.r::text));
            BEGIN
                EXECUTE format('CREATE FUNCTION %s.trojan_op_%s(%s) RETURNS %s LANGUAGE plpgsql'
                           ' AS $t$BEGIN PERFORM trojan.tripwire(%L); END$t$',
                           target, i, concat_ws(', ', CASE WHEN o.l <> 0 THEN o.l::text END, o.r::text),
                           o.res, what);
            EXECUTE format('CREATE OPERATOR %s.%s (%s RIGHTARG = %s, FUNCTION = %s.trojan_op_%s)',
                           target, o.oprname,
                           CASE WHEN o.l <> 0 THEN format('LEFTARG = %s,', o.l) ELSE '' END,
                           o.r, target, i);
            EXCEPTION WHEN others THEN
                INSERT INTO trojan_not_planted VALUES (target, what, SQLERRM);
            END;
        END LOOP;

        -- (pgcrypto's gen_random_uuid() is pg_catalog's twin: one look-alike;
        -- max and min of enums are left out: orion has no enum types)
        FOR f IN
            SELECT DISTINCT ON (p.proname, oidvectortypes(p.proargtypes))
                   p.oid, p.proname, p.prokind, pg_get_function_arguments(p.oid) AS args,
                   oidvectortypes(p.proargtypes) AS argtypes, pg_get_function_result(p.oid) AS result
              FROM pg_proc p
             WHERE p.proname = ANY (names) AND p.prokind IN ('f', 'a')
               AND (p.pronamespace = 'pg_catalog'::regnamespace
                    OR p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'pgcrypto'))
               AND NOT (p.prokind = 'a' AND 'anyenum'::regtype = ANY (p.proargtypes))
               -- (18's max(record) and min(record): no aggregate of ours can
               -- have a record state)
               AND NOT (p.prokind = 'a' AND 'record'::regtype = ANY (p.proargtypes))
             ORDER BY p.proname, oidvectortypes(p.proargtypes), p.pronamespace <> 'pg_catalog'::regnamespace
        LOOP
            i := i + 1;
            what := format('%s(%s)', f.proname, f.argtypes);
            INSERT INTO trojan_overloads_tried VALUES (target, what);
            args := replace(replace(f.args, 'VARIADIC "any"', 'VARIADIC text[]'), '"any"', 'text');
            argtypes := replace(f.argtypes, '"any"', 'anyelement');
            BEGIN
                IF f.prokind = 'f' THEN
                    EXECUTE format('CREATE FUNCTION %s.%I(%s) RETURNS %s LANGUAGE plpgsql'
                                   ' AS $t$BEGIN PERFORM trojan.tripwire(%L); END$t$',
                                   target, f.proname, args, f.result, what);
                ELSE
                    -- an aggregate: the step and the final function trip, so
                    -- that it trips over no rows too
                    stype := f.result;
                    EXECUTE format('CREATE FUNCTION %s.trojan_step_%s(%s) RETURNS %s LANGUAGE plpgsql'
                                   ' AS $t$BEGIN PERFORM trojan.tripwire(%L); END$t$',
                                   target, i, concat_ws(', ', stype, nullif(argtypes, '')), stype, what);
                    EXECUTE format('CREATE FUNCTION %s.trojan_final_%s(%s) RETURNS %s LANGUAGE plpgsql'
                                   ' AS $t$BEGIN PERFORM trojan.tripwire(%L); END$t$',
                                   target, i, stype, stype, what);
                    EXECUTE format('CREATE AGGREGATE %s.%I(%s) (SFUNC = %s.trojan_step_%s, STYPE = %s,'
                                   ' FINALFUNC = %s.trojan_final_%s)',
                                   target, f.proname, coalesce(nullif(argtypes, ''), '*'),
                                   target, i, stype, target, i);
                END IF;
            EXCEPTION WHEN others THEN
                -- the few that no PL/pgSQL function can stand in for
                INSERT INTO trojan_not_planted VALUES (target, what, SQLERRM);
            END;
        END LOOP;
    END LOOP;

    FOREACH what IN ARRAY type_names
    LOOP
        EXECUTE format('CREATE DOMAIN trojan.%I AS pg_catalog.%I CHECK (trojan.tripwire(%L))',
                       what, what, 'type ' || what);
    END LOOP;
END
$plant$;

-- Views named like orion's tables in trojan and in pg_temp, like the
-- transition table cleanup_deleted_users reads (orion_deleted_users), and
-- in trojan like the catalogs orion's SQL reads. Each reads a function that
-- trips (so that reading trips even when there would be no row), and an
-- INSTEAD OF trigger trips on writing.
CREATE FUNCTION trojan.tripwire_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM trojan.tripwire(format('view %s.%s written', TG_TABLE_SCHEMA, TG_TABLE_NAME));
END
$$;
DO $views$
DECLARE
    t record;
    target text;
BEGIN
    FOR t IN
        SELECT DISTINCT ON (c.relname) c.relname, c.reltype::regtype AS rowtype, true AS in_pg_temp
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE (n.nspname = 'orion' OR n.nspname LIKE 'orion\_%') AND c.relkind IN ('r', 'p', 'v', 'm')
        UNION ALL
        SELECT 'orion_deleted_users', 'orion_auth.users'::regtype, true
        UNION ALL
        SELECT c.relname, c.reltype::regtype, false FROM pg_class c
         WHERE c.relnamespace = 'pg_catalog'::regnamespace
           AND c.relname IN ('pg_stat_activity', 'pg_extension', 'pg_class', 'pg_namespace', 'pg_index',
                             'pg_proc', 'pg_roles', 'pg_locks', 'pg_database', 'pg_settings')
         ORDER BY 1
    LOOP
        FOREACH target IN ARRAY CASE WHEN t.in_pg_temp THEN ARRAY['trojan', 'pg_temp'] ELSE ARRAY['trojan'] END
        LOOP
            EXECUTE format('CREATE FUNCTION %s.%I() RETURNS SETOF %s LANGUAGE plpgsql'
                           ' AS $t$BEGIN PERFORM trojan.tripwire(%L); END$t$',
                           target, 'trojan_rows_' || t.relname, t.rowtype, format('view %s.%s read', target, t.relname));
            EXECUTE format('CREATE VIEW %s.%I AS SELECT * FROM %s.%I()',
                           target, t.relname, target, 'trojan_rows_' || t.relname);
            EXECUTE format('CREATE TRIGGER tripwire INSTEAD OF INSERT OR UPDATE OR DELETE ON %s.%I'
                           ' FOR EACH ROW EXECUTE FUNCTION trojan.tripwire_trigger()', target, t.relname);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s.%I TO PUBLIC', target, t.relname);
        END LOOP;
    END LOOP;
END
$views$;

-- what was planted, and what could not be
SELECT 'trojan operators' AS planted, count(*) FROM pg_operator WHERE oprnamespace = 'trojan'::regnamespace
UNION ALL
SELECT 'trojan functions and aggregates (look-alikes)', count(DISTINCT proname) FROM pg_proc
 WHERE pronamespace = 'trojan'::regnamespace AND proname NOT LIKE 'trojan\_%' AND proname NOT LIKE 'tripwire%'
UNION ALL
SELECT 'trojan overloads tried but neither planted nor refused (none)',
       (SELECT count(*) FROM trojan_overloads_tried WHERE schema = 'trojan') - count(*)
       - (SELECT count(*) FROM trojan_not_planted WHERE schema = 'trojan' AND look_alike NOT LIKE 'operator %')
  FROM pg_proc
 WHERE pronamespace = 'trojan'::regnamespace AND proname NOT LIKE 'trojan\_%' AND proname NOT LIKE 'tripwire%'
UNION ALL
SELECT 'trojan types', count(*) FROM pg_type WHERE typnamespace = 'trojan'::regnamespace AND typtype = 'd'
UNION ALL
SELECT 'trojan views', count(*) FROM pg_class WHERE relnamespace = 'trojan'::regnamespace AND relkind = 'v'
UNION ALL
SELECT 'pg_temp operators', count(*) FROM pg_operator WHERE oprnamespace = pg_my_temp_schema()
UNION ALL
SELECT 'pg_temp overloads tried but neither planted nor refused (none)',
       (SELECT count(*) FROM trojan_overloads_tried WHERE schema = 'pg_temp') - count(*)
       - (SELECT count(*) FROM trojan_not_planted WHERE schema = 'pg_temp' AND look_alike NOT LIKE 'operator %')
  FROM pg_proc
 WHERE pronamespace = pg_my_temp_schema() AND proname NOT LIKE 'trojan\_%' AND proname <> 'attempt'
UNION ALL
SELECT 'pg_temp views', count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = 'v'
   AND relname <> 'readme_may';
-- (none: every look-alike above was planted)
SELECT schema, look_alike, why FROM trojan_not_planted ORDER BY 1, 2;

-- The paths the attacks run under; NULL: the session's ordinary one
CREATE TEMP TABLE attack_paths (ord int, path text);
INSERT INTO attack_paths VALUES (0, NULL), (1, 'trojan, pg_catalog, pg_temp'), (2, 'pg_temp, trojan, pg_catalog');

-- A statement under a path, with the SQLSTATE and message of its error
CREATE FUNCTION pg_temp.under_path(path text, statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ordinary CONSTANT text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path', path, true);
    EXECUTE statement;
    PERFORM pg_catalog.set_config('search_path', ordinary, true);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN format('ERROR %s: %s', SQLSTATE, SQLERRM);
END
$$;

-- The trap works: the kinds of unqualified SQL a careless body would run
-- reach a look-alike under either hostile path (and nothing under the
-- ordinary path), and each call is counted.
SELECT s.statement, p.path, pg_temp.under_path(p.path, s.statement) AS outcome
  FROM attack_paths p,
       (VALUES (1, 'SELECT now()'),
               (2, 'SELECT lower(''ADA@EXAMPLE.COM'')'),
               (3, 'SELECT make_interval(secs => 60)'),
               (4, 'SELECT format(''%s'', ''x'')'),
               (5, 'SELECT digest(''x'', ''sha256'')'),
               (6, 'SELECT count(*) FROM pg_catalog.pg_am WHERE false'),
               (7, 'SELECT ''x''::pg_catalog.varchar = ''x''::pg_catalog.text'),
               (8, 'SELECT pg_catalog.gen_random_uuid() = pg_catalog.gen_random_uuid()'),
               (9, 'SELECT ''{"a": 1}''::pg_catalog.jsonb ->> ''a'''),
               (10, 'SELECT ''x''::text'),
               (11, 'SELECT * FROM sessions'),
               (12, 'SELECT * FROM pg_stat_activity')) AS s(ord, statement)
 WHERE p.path IS NOT NULL
 ORDER BY s.ord, p.ord;
-- one call per statement and path
SELECT last_value AS trojan_calls FROM trojan.calls;
-- with the ordinary path, none of them is reached
SELECT s.statement, pg_temp.under_path(pg_catalog.current_setting('search_path'), s.statement) AS outcome
  FROM (VALUES ('SELECT now() IS NOT NULL'), ('SELECT count(*) FROM pg_catalog.pg_am WHERE false'),
               ('SELECT ''x''::pg_catalog.varchar = ''x''::pg_catalog.text')) AS s(statement);
-- start counting afresh: from here on, no call is allowed
SELECT pg_catalog.setval('trojan.calls', 1, false);

-- The data the attacks work on: ada (an admin, email verified) and grace
INSERT INTO orion_auth.users (id, email, password_hash, role, email_verified) VALUES
    ('a0000000-0000-4000-8000-000000000001', 'ada@example.com',
     orion.hash_password('correct horse battery staple'), 'admin', true),
    ('a0000000-0000-4000-8000-000000000002', 'grace@example.com',
     orion.hash_password('correct horse battery staple'), 'user', false);
-- ada's laptop keeps its access token; her phone's is replaced by a refresh
CREATE TEMP TABLE tokens (label text, access_token text, refresh_token text);
INSERT INTO tokens SELECT 'laptop', access_token, refresh_token
  FROM orion.login('ada@example.com', 'correct horse battery staple');
INSERT INTO tokens SELECT 'phone', access_token, refresh_token
  FROM orion.login('ada@example.com', 'correct horse battery staple');
INSERT INTO tokens SELECT 'phone refreshed', access_token, refresh_token
  FROM orion.refresh_session((SELECT refresh_token FROM tokens WHERE label = 'phone'));
-- and grace's JWTs (a signing key of this file's own): one live, one
-- whose session was revoked
SELECT orion.rotate_signing_key('EdDSA') IS NOT NULL AS signing_key;
SET orion.access_token_format = jwt;
INSERT INTO tokens SELECT 'jwt', access_token, refresh_token
  FROM orion.login('grace@example.com', 'correct horse battery staple');
INSERT INTO tokens SELECT 'jwt revoked', access_token, refresh_token
  FROM orion.login('grace@example.com', 'correct horse battery staple');
RESET orion.access_token_format;
SELECT orion.logout(access_token) AS revoked FROM tokens WHERE label = 'jwt revoked';
SELECT count(*) AS tokens FROM tokens;

INSERT INTO orion_feature_flags.segments (id, name, constraints) VALUES
    (9071, 'verified', '[{"contextName": "emailVerified", "operator": "IN", "values": ["true"]}]');
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout, config) VALUES
    ('sec-admins', 'Admins', true,
     '{"percentage": 100, "targeting": [{"attribute": "role", "operator": "equals", "value": "admin"}]}', NULL),
    ('sec-colors', 'Colors', true,
     '{"percentage": 100, "variants": [{"key": "blue", "weight": 50, "value": "#00f"}, {"key": "red", "weight": 50, "value": "#f00"}]}', NULL),
    ('sec-verified', 'Verified', true,
     '{"strategies": [{"name": "default", "segments": [9071]}]}', '{"tier": "gold"}'),
    ('sec-off', 'Off', false, NULL, NULL);

INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('sec-pricing', 'Pricing', '[{"key": "control", "weight": 50, "isControl": true}, {"key": "cheaper", "weight": 50}]', true);
-- GrowthBook's choice for a user, from orion's GrowthBook primitives (which
-- test/t/008_growthbook_differential.pl compares with the SDK)
CREATE FUNCTION pg_temp.growthbook_choice(user_id uuid) RETURNS text LANGUAGE sql AS $$
    SELECT (ARRAY['control', 'cheaper'])[orion.growthbook_choose_variation(
               orion.growthbook_hash('sec-pricing', user_id::text, 2),
               orion.growthbook_bucket_ranges(2, 1, '{1,1}')) + 1]
$$;
-- ada's stored variant is the other one, so that an answer from the store shows
INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
SELECT 'a0000000-0000-4000-8000-000000000001', id,
       CASE pg_temp.growthbook_choice('a0000000-0000-4000-8000-000000000001') WHEN 'control' THEN 'cheaper' ELSE 'control' END
  FROM orion_ab_testing.ab_tests WHERE key = 'sec-pricing';
DELETE FROM orion_auth.audit_logs;

-- The cases. Each runs as caller: setup (as superuser, ordinary path), then
-- attack (as caller, under the path; one statement that answers one text
-- value, or the error), then check (as superuser: the effects), then
-- teardown. $1 is arg. The attack statements qualify everything they use
-- themselves (pg_catalog.text, OPERATOR(pg_catalog.=)), so that only what
-- orion runs could reach a look-alike.
CREATE TEMP TABLE attack_cases (
    ord int, name text, caller name, setup text[], attack text, arg text,
    check_sql text, teardown text[], expected_result text, expected_after text);

-- feature flags: every call refills the flag cache (the empty UPDATE
-- invalidates it), so the fill runs inside the attacked call
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, expected_result) VALUES
(1, 'flag_enabled: role constraint read from the user (admin)', 'orion_notifications_service',
 ARRAY[$$UPDATE orion_feature_flags.feature_flags SET description = description WHERE false$$],
 $$SELECT orion.flag_enabled('sec-admins', $1::pg_catalog.uuid)::pg_catalog.text$$,
 'a0000000-0000-4000-8000-000000000001', 'true'),
(2, 'flag_enabled: role constraint read from the user (not admin)', 'orion_auth_service',
 ARRAY[$$UPDATE orion_feature_flags.feature_flags SET description = description WHERE false$$],
 $$SELECT orion.flag_enabled('sec-admins', $1::pg_catalog.uuid)::pg_catalog.text$$,
 'a0000000-0000-4000-8000-000000000002', 'false'),
(3, 'flag_variant: a variant by Unleash bucketing', 'orion_user_service',
 ARRAY[$$UPDATE orion_feature_flags.feature_flags SET description = description WHERE false$$],
 $$SELECT orion.flag_variant('sec-colors', $1::pg_catalog.uuid)::pg_catalog.text$$,
 'a0000000-0000-4000-8000-000000000001', NULL),
(4, 'evaluate_flag: a segment on emailVerified (verified)', 'orion_ab_testing_service',
 ARRAY[$$UPDATE orion_feature_flags.feature_flags SET description = description WHERE false$$],
 $$SELECT orion.evaluate_flag('sec-verified', $1::pg_catalog.uuid)::pg_catalog.text$$,
 'a0000000-0000-4000-8000-000000000001',
 '{"key": "sec-verified", "config": {"tier": "gold"}, "reason": "TARGETING_MATCH", "enabled": true, "variant": {"name": "disabled", "enabled": false, "feature_enabled": true}}'),
(5, 'evaluate_flag: a segment on emailVerified (not verified)', 'orion_feature_flags_service',
 ARRAY[$$UPDATE orion_feature_flags.feature_flags SET description = description WHERE false$$],
 $$SELECT orion.evaluate_flag('sec-verified', $1::pg_catalog.uuid, '{"properties": {"plan": "pro"}}')::pg_catalog.text$$,
 'a0000000-0000-4000-8000-000000000002',
 '{"key": "sec-verified", "config": {"tier": "gold"}, "reason": "DEFAULT", "enabled": false, "variant": {"name": "disabled", "enabled": false, "feature_enabled": false}}'),
(6, 'evaluate_all_flags: every flag for one user', 'orion_user_service',
 ARRAY[$$UPDATE orion_feature_flags.feature_flags SET description = description WHERE false$$],
 $$SELECT pg_catalog.array_agg((f.flag_key, f.enabled) ORDER BY f.flag_key)::pg_catalog.text
     FROM orion.evaluate_all_flags($1::pg_catalog.uuid) f WHERE f.flag_key OPERATOR(pg_catalog.~~) 'sec-%'$$,
 'a0000000-0000-4000-8000-000000000002',
 '{"(sec-admins,f)","(sec-colors,t)","(sec-off,f)","(sec-verified,f)"}');
-- the right variant, from Unleash's rule: bucket = murmur3(flag key:user id,
-- seed 86028157) % total weight + 1, and the first variant whose running
-- weight reaches it (orion.flag_bucket is the bucket, checked against
-- npm unleash-client by 007_unleash_hash_differential)
UPDATE attack_cases SET expected_result =
       CASE WHEN orion.flag_bucket('sec-colors', arg, 100, 86028157) <= 50
            THEN '{"name": "blue", "enabled": true, "payload": {"type": "string", "value": "#00f"}, "feature_enabled": true}'
            ELSE '{"name": "red", "enabled": true, "payload": {"type": "string", "value": "#f00"}, "feature_enabled": true}' END
 WHERE ord = 3;

-- validate_session: the index probes, and the statement it runs otherwise
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, teardown, expected_result) VALUES
(11, 'validate_session: a current token (index probes)', 'orion_user_service', NULL,
 $$SELECT coalesce((SELECT (v.user_id, v.email, v.role, v.expires_at IS NOT NULL)::pg_catalog.text
                      FROM orion.validate_session($1) v), '(no row)')$$,
 (SELECT access_token FROM tokens WHERE label = 'laptop'), NULL,
 '(a0000000-0000-4000-8000-000000000001,ada@example.com,admin,t)'),
(12, 'validate_session: a token replaced by a refresh (statement)', 'orion_notifications_service', NULL,
 $$SELECT coalesce((SELECT (v.user_id, v.email, v.role, v.expires_at IS NOT NULL)::pg_catalog.text
                      FROM orion.validate_session($1) v), '(no row)')$$,
 (SELECT access_token FROM tokens WHERE label = 'phone'), NULL,
 '(a0000000-0000-4000-8000-000000000001,ada@example.com,admin,t)'),
(13, 'validate_session: row security on sessions (statement)', 'orion_feature_flags_service',
 ARRAY[$$ALTER TABLE orion_auth.sessions ENABLE ROW LEVEL SECURITY$$],
 $$SELECT coalesce((SELECT (v.user_id, v.email, v.role, v.expires_at IS NOT NULL)::pg_catalog.text
                      FROM orion.validate_session($1) v), '(no row)')$$,
 (SELECT access_token FROM tokens WHERE label = 'laptop'),
 ARRAY[$$ALTER TABLE orion_auth.sessions DISABLE ROW LEVEL SECURITY$$],
 '(a0000000-0000-4000-8000-000000000001,ada@example.com,admin,t)'),
(14, 'validate_session: an unknown token (probe, then statement)', 'orion_ab_testing_service', NULL,
 $$SELECT coalesce((SELECT (v.user_id, v.email, v.role, v.expires_at IS NOT NULL)::pg_catalog.text
                      FROM orion.validate_session($1) v), '(no row)')$$,
 'orion_s_' || repeat('A', 43), NULL, '(no row)');

-- JWTs: the signing key cache refilled in the call (as the table's owner,
-- whoever calls, with search_path pinned: verify_jwt is SECURITY INVOKER),
-- then the session by the probes; the deny list
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, teardown, expected_result) VALUES
(15, 'validate_session: a JWT (signing keys refilled, index probes)', 'orion_user_service',
 ARRAY[$$UPDATE orion_auth.signing_keys SET kid = kid WHERE false$$],
 $$SELECT coalesce((SELECT (v.user_id, v.email, v.role, v.expires_at IS NOT NULL)::pg_catalog.text
                      FROM orion.validate_session($1) v), '(no row)')$$,
 (SELECT access_token FROM tokens WHERE label = 'jwt'), NULL,
 '(a0000000-0000-4000-8000-000000000002,grace@example.com,user,t)'),
(16, 'verify_jwt: the claims (signing keys refilled)', 'orion_ab_testing_service',
 ARRAY[$$UPDATE orion_auth.signing_keys SET kid = kid WHERE false$$],
 $$SELECT orion.verify_jwt($1) OPERATOR(pg_catalog.->>) 'sub'$$,
 (SELECT access_token FROM tokens WHERE label = 'jwt'), NULL,
 'a0000000-0000-4000-8000-000000000002'),
(18, 'revoked_sessions: the deny list', 'orion_notifications_service', NULL,
 $$SELECT coalesce((SELECT r.user_id::pg_catalog.text FROM orion.revoked_sessions('-infinity') r
                     WHERE r.session_id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid), '(no row)')$$,
 (SELECT (orion.verify_jwt(access_token)->>'sid') FROM tokens WHERE label = 'jwt revoked'), NULL,
 'a0000000-0000-4000-8000-000000000002');

-- peek_variant: the test cache refilled in the call, the stored assignment
-- by the index probe or by the statement (row security), or GrowthBook's choice
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, teardown, expected_result) VALUES
(21, 'peek_variant: a stored assignment (index probe)', 'orion_auth_service',
 ARRAY[$$UPDATE orion_ab_testing.ab_tests SET description = description WHERE false$$],
 $$SELECT orion.peek_variant('sec-pricing', $1::pg_catalog.uuid)$$,
 'a0000000-0000-4000-8000-000000000001', NULL,
 (SELECT variant FROM orion_ab_testing.ab_test_assignments WHERE user_id = 'a0000000-0000-4000-8000-000000000001')),
(22, 'peek_variant: no stored assignment (GrowthBook''s choice)', 'orion_user_service',
 ARRAY[$$UPDATE orion_ab_testing.ab_tests SET description = description WHERE false$$],
 $$SELECT orion.peek_variant('sec-pricing', $1::pg_catalog.uuid)$$,
 'a0000000-0000-4000-8000-000000000002', NULL,
 pg_temp.growthbook_choice('a0000000-0000-4000-8000-000000000002')),
(23, 'peek_variant: row security on ab_test_assignments (statement)', 'orion_notifications_service',
 ARRAY[$$UPDATE orion_ab_testing.ab_tests SET description = description WHERE false$$,
       $$ALTER TABLE orion_ab_testing.ab_test_assignments ENABLE ROW LEVEL SECURITY$$],
 $$SELECT orion.peek_variant('sec-pricing', $1::pg_catalog.uuid)$$,
 'a0000000-0000-4000-8000-000000000001',
 ARRAY[$$ALTER TABLE orion_ab_testing.ab_test_assignments DISABLE ROW LEVEL SECURITY$$],
 (SELECT variant FROM orion_ab_testing.ab_test_assignments WHERE user_id = 'a0000000-0000-4000-8000-000000000001')),
(24, 'peek_variant: an unknown test', 'orion_feature_flags_service', NULL,
 $$SELECT orion.peek_variant('sec-no-such-test', $1::pg_catalog.uuid)$$,
 'a0000000-0000-4000-8000-000000000001', NULL, '(null)');

-- trigger functions, fired by the services' own DML under the path
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, check_sql, teardown, expected_result, expected_after) VALUES
(31, 'audit_role_change: a role changed through orion_user.users', 'orion_user_service', NULL,
 $$WITH u AS (UPDATE orion_user.users SET role = 'editor' WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid RETURNING role)
   SELECT u.role::pg_catalog.text FROM u$$,
 'a0000000-0000-4000-8000-000000000002',
 $$SELECT string_agg(format('%s %s -> %s by %s', action, old_data->>'role', new_data->>'role',
                            coalesce(user_id::text, 'nobody')), '; ')
     FROM orion_auth.audit_logs WHERE resource_id = $1$$,
 ARRAY[$$UPDATE orion_auth.users SET role = 'user' WHERE id = $1::uuid$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 'editor', 'user.role_changed user -> editor by nobody'),
(32, 'audit_change: a flag created', 'orion_feature_flags_service', NULL,
 $$WITH i AS (INSERT INTO orion_feature_flags.feature_flags (key, name, enabled) VALUES ($1, 'New flag', true) RETURNING key)
   SELECT i.key::pg_catalog.text FROM i$$,
 'sec-new',
 $$SELECT string_agg(format('%s %s: %s -> %s', action, resource_id, coalesce(old_data->>'name', '-'),
                            coalesce(new_data->>'name', '-')), '; ' ORDER BY action)
     FROM orion_auth.audit_logs WHERE resource_id = $1$$,
 ARRAY[$$DELETE FROM orion_feature_flags.feature_flags WHERE key = $1$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 'sec-new', 'feature_flag.created sec-new: - -> New flag'),
(33, 'audit_change: a flag renamed', 'orion_feature_flags_service',
 ARRAY[$$INSERT INTO orion_feature_flags.feature_flags (key, name, enabled) VALUES ($1, 'New flag', true)$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 $$WITH u AS (UPDATE orion_feature_flags.feature_flags SET name = 'Renamed flag' WHERE key OPERATOR(pg_catalog.=) $1 RETURNING name)
   SELECT u.name::pg_catalog.text FROM u$$,
 'sec-new',
 $$SELECT string_agg(format('%s %s: %s -> %s', action, resource_id, coalesce(old_data->>'name', '-'),
                            coalesce(new_data->>'name', '-')), '; ' ORDER BY action)
     FROM orion_auth.audit_logs WHERE resource_id = $1$$,
 ARRAY[$$DELETE FROM orion_feature_flags.feature_flags WHERE key = $1$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 'Renamed flag', 'feature_flag.updated sec-new: New flag -> Renamed flag'),
(34, 'audit_change: a flag deleted', 'orion_feature_flags_service',
 ARRAY[$$INSERT INTO orion_feature_flags.feature_flags (key, name, enabled) VALUES ($1, 'New flag', true)$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 $$WITH d AS (DELETE FROM orion_feature_flags.feature_flags WHERE key OPERATOR(pg_catalog.=) $1 RETURNING name)
   SELECT d.name::pg_catalog.text FROM d$$,
 'sec-new',
 $$SELECT string_agg(format('%s %s: %s -> %s', action, resource_id, coalesce(old_data->>'name', '-'),
                            coalesce(new_data->>'name', '-')), '; ' ORDER BY action)
     FROM orion_auth.audit_logs WHERE resource_id = $1$$,
 ARRAY[$$DELETE FROM orion_feature_flags.feature_flags WHERE key = $1$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 'New flag', 'feature_flag.deleted sec-new: New flag -> -'),
(35, 'audit_change: a segment created', 'orion_feature_flags_service', NULL,
 $$WITH i AS (INSERT INTO orion_feature_flags.segments (id, name) VALUES ($1::pg_catalog.int4, 'New segment') RETURNING id)
   SELECT i.id::pg_catalog.text FROM i$$,
 '9072',
 $$SELECT string_agg(format('%s %s: %s -> %s', action, resource_id, coalesce(old_data->>'name', '-'),
                            coalesce(new_data->>'name', '-')), '; ' ORDER BY action)
     FROM orion_auth.audit_logs WHERE resource_id = $1$$,
 ARRAY[$$DELETE FROM orion_feature_flags.segments WHERE id = $1::int$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 '9072', 'segment.created 9072: - -> New segment'),
(36, 'audit_change: an AB test renamed', 'orion_ab_testing_service', NULL,
 $$WITH u AS (UPDATE orion_ab_testing.ab_tests SET name = 'Pricing v2' WHERE key OPERATOR(pg_catalog.=) $1 RETURNING name)
   SELECT u.name::pg_catalog.text FROM u$$,
 'sec-pricing',
 $$SELECT string_agg(format('%s %s: %s -> %s', action, resource_id, coalesce(old_data->>'name', '-'),
                            coalesce(new_data->>'name', '-')), '; ' ORDER BY action)
     FROM orion_auth.audit_logs WHERE resource_id = $1$$,
 ARRAY[$$UPDATE orion_ab_testing.ab_tests SET name = 'Pricing' WHERE key = $1$$,
       $$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$],
 'Pricing v2', 'ab_test.updated sec-pricing: Pricing -> Pricing v2'),
(41, 'check_user_reference: a notification for a user', 'orion_notifications_service', NULL,
 $$WITH i AS (INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
              VALUES ($1::pg_catalog.uuid, 'sec-reference', 'email', 'Hello', 'A message') RETURNING user_id)
   SELECT i.user_id::pg_catalog.text FROM i$$,
 'a0000000-0000-4000-8000-000000000002',
 $$SELECT string_agg(user_id::text, ', ') FROM orion_notifications.notifications WHERE type = 'sec-reference'$$,
 ARRAY[$$DELETE FROM orion_notifications.notifications WHERE type = 'sec-reference'$$],
 'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002'),
(42, 'check_user_reference: a notification for nobody', 'orion_notifications_service', NULL,
 $$WITH i AS (INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
              VALUES ($1::pg_catalog.uuid, 'sec-reference', 'email', 'Hello', 'A message') RETURNING user_id)
   SELECT i.user_id::pg_catalog.text FROM i$$,
 'a0000000-0000-4000-8000-00000000dead',
 $$SELECT coalesce(string_agg(user_id::text, ', '), 'none') FROM orion_notifications.notifications WHERE type = 'sec-reference'$$,
 ARRAY[$$DELETE FROM orion_notifications.notifications WHERE type = 'sec-reference'$$],
 'ERROR 23503: user a0000000-0000-4000-8000-00000000dead does not exist', 'none'),
(43, 'check_user_reference: an assignment written directly', 'orion_ab_testing_service', NULL,
 $$WITH i AS (INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
              SELECT $1::pg_catalog.uuid, t.id, 'control' FROM orion_ab_testing.ab_tests t
               WHERE t.key OPERATOR(pg_catalog.=) 'sec-pricing' RETURNING variant)
   SELECT i.variant::pg_catalog.text FROM i$$,
 'a0000000-0000-4000-8000-000000000002',
 $$SELECT count(*)::text FROM orion_ab_testing.ab_test_assignments WHERE user_id = $1::uuid$$,
 ARRAY[$$DELETE FROM orion_ab_testing.ab_test_assignments WHERE user_id = $1::uuid$$],
 'control', '1'),
(44, 'check_user_reference: a notification moved to another user', 'orion_notifications_service',
 ARRAY[$$INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
         VALUES ('a0000000-0000-4000-8000-000000000002', 'sec-moved', 'in_app', 'Hello', 'A message')$$],
 $$WITH u AS (UPDATE orion_notifications.notifications SET user_id = $1::pg_catalog.uuid
               WHERE type OPERATOR(pg_catalog.=) 'sec-moved' RETURNING user_id)
   SELECT u.user_id::pg_catalog.text FROM u$$,
 'a0000000-0000-4000-8000-000000000001',
 $$SELECT string_agg(user_id::text, ', ') FROM orion_notifications.notifications WHERE type = 'sec-moved'$$,
 ARRAY[$$DELETE FROM orion_notifications.notifications WHERE type = 'sec-moved'$$],
 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001'),
(45, 'check_user_reference: a notification moved to nobody', 'orion_notifications_service',
 ARRAY[$$INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
         VALUES ('a0000000-0000-4000-8000-000000000002', 'sec-moved', 'in_app', 'Hello', 'A message')$$],
 $$WITH u AS (UPDATE orion_notifications.notifications SET user_id = $1::pg_catalog.uuid
               WHERE type OPERATOR(pg_catalog.=) 'sec-moved' RETURNING user_id)
   SELECT u.user_id::pg_catalog.text FROM u$$,
 'a0000000-0000-4000-8000-00000000dead',
 $$SELECT string_agg(user_id::text, ', ') FROM orion_notifications.notifications WHERE type = 'sec-moved'$$,
 ARRAY[$$DELETE FROM orion_notifications.notifications WHERE type = 'sec-moved'$$],
 'ERROR 23503: user a0000000-0000-4000-8000-00000000dead does not exist', 'a0000000-0000-4000-8000-000000000002');

-- cleanup_deleted_users: a user with two notifications, an assignment and a
-- conversion is deleted three ways
CREATE TEMP TABLE victim_setup (statement text);
INSERT INTO victim_setup VALUES
    ($$INSERT INTO orion_auth.users (id, email, password_hash)
      VALUES ($1::uuid, 'victim-' || right($1, 2) || '@example.com', '$argon2id$x')$$),
    ($$INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata)
      SELECT $1::uuid, 'sec-victim', 'in_app', 'For the victim', 'A message', '{"k": 1}' FROM generate_series(1, 2)$$),
    ($$INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
      SELECT $1::uuid, id, 'control' FROM orion_ab_testing.ab_tests WHERE key = 'sec-pricing'$$),
    ($$INSERT INTO orion_ab_testing.ab_test_conversions (user_id, test_id, variant, event)
      SELECT $1::uuid, id, 'control', 'purchase' FROM orion_ab_testing.ab_tests WHERE key = 'sec-pricing'$$);
CREATE TEMP TABLE victim_check (check_sql text);
INSERT INTO victim_check VALUES ($$
    SELECT format('notifications %s, anonymised %s, assignments %s, conversions %s; %s',
           (SELECT count(*) FROM orion_notifications.notifications WHERE user_id = $1::uuid),
           (SELECT count(*) FROM orion_notifications.notifications WHERE title = 'For the victim'
               AND user_id = '00000000-0000-0000-0000-000000000000' AND metadata IS NULL),
           (SELECT count(*) FROM orion_ab_testing.ab_test_assignments WHERE user_id = $1::uuid),
           (SELECT count(*) FROM orion_ab_testing.ab_test_conversions WHERE user_id = $1::uuid),
           (SELECT string_agg(format('%s %s by %s%s', action, old_data->>'email', coalesce(user_id::text, 'nobody'),
                                     CASE WHEN old_data ? 'password_hash' THEN ', with the hash!' ELSE '' END), '; ')
              FROM orion_auth.audit_logs WHERE resource_id = $1))$$);
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, check_sql, teardown, expected_result, expected_after)
SELECT c.ord, c.name, c.caller, (SELECT array_agg(statement) FROM victim_setup) || c.more_setup, c.attack, c.arg,
       (SELECT check_sql FROM victim_check),
       c.more_teardown || ARRAY[$$DELETE FROM orion_auth.audit_logs WHERE resource_id = $1$$,
                                $$DELETE FROM orion_notifications.notifications WHERE title = 'For the victim'$$],
       c.expected_result, c.expected_after
  FROM (VALUES
(51, 'cleanup_deleted_users: deleted through orion_user.users', 'orion_user_service'::name, '{}'::text[],
 $$WITH d AS (DELETE FROM orion_user.users WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid RETURNING email)
   SELECT d.email::pg_catalog.text FROM d$$,
 'a0000000-0000-4000-8000-0000000000f1', '{}'::text[], 'victim-f1@example.com',
 'notifications 0, anonymised 0, assignments 0, conversions 0; user.deleted victim-f1@example.com by nobody'),
(52, 'cleanup_deleted_users: deleted from orion_auth.users, anonymised', 'orion_auth_service',
 ARRAY[$$SELECT set_config('orion.user_delete_notifications', 'anonymize', true)$$,
       $$SELECT set_config('orion.actor_id', 'a0000000-0000-4000-8000-000000000001', true)$$],
 $$WITH d AS (DELETE FROM orion_auth.users WHERE id OPERATOR(pg_catalog.=) $1::pg_catalog.uuid RETURNING email)
   SELECT d.email::pg_catalog.text FROM d$$,
 'a0000000-0000-4000-8000-0000000000f2',
 ARRAY[$$SELECT set_config('orion.user_delete_notifications', 'delete', true)$$,
       $$SELECT set_config('orion.actor_id', '', true)$$],
 'victim-f2@example.com',
 'notifications 0, anonymised 2, assignments 0, conversions 0; user.deleted victim-f2@example.com by a0000000-0000-4000-8000-000000000001'),
(53, 'cleanup_deleted_users: deleted by orion.delete_user', 'orion_user_service', '{}',
 $$SELECT orion.delete_user($1::pg_catalog.uuid)::pg_catalog.text$$,
 'a0000000-0000-4000-8000-0000000000f3', '{}', 'true',
 'notifications 0, anonymised 0, assignments 0, conversions 0; user.deleted victim-f3@example.com by nobody')
  ) AS c(ord, name, caller, more_setup, attack, arg, more_teardown, expected_result, expected_after);

-- maintenance, with dead sessions (and, for the whole pass, a stale token,
-- an old read notification and an old audit entry) waiting
CREATE TEMP TABLE dead_sessions_setup (statement text);
INSERT INTO dead_sessions_setup VALUES ($$
    INSERT INTO orion_auth.sessions (id, user_id, token, expires_at)
    SELECT ('d0000000-0000-4000-8000-00000000000' || g)::uuid, 'a0000000-0000-4000-8000-000000000002',
           md5('sec dead ' || g) || md5('sec dead ' || g || '!'), now() - interval '1 hour'
      FROM generate_series(1, 3) AS g$$);
INSERT INTO attack_cases (ord, name, caller, setup, attack, arg, check_sql, teardown, expected_result, expected_after)
SELECT c.ord, c.name, 'orion_admin', (SELECT array_agg(statement) FROM dead_sessions_setup) || c.more_setup,
       c.attack, NULL, c.check_sql,
       c.more_teardown || ARRAY[$$DELETE FROM orion_auth.sessions WHERE id::text LIKE 'd0000000-%'$$],
       c.expected_result, c.expected_after
  FROM (VALUES
(61, 'maintenance_backlog: what a pass would remove', '{}'::text[],
 $$SELECT (b.sessions, b.refresh_tokens, b.one_time_tokens, b.notifications, b.audit_logs)::pg_catalog.text FROM orion.maintenance_backlog() b$$,
 NULL, '{}'::text[], '(3,0,0,0,0)', NULL),
(62, 'maintenance_backlog: through the view orion.status', '{}',
 $$SELECT (s.sessions_to_expire, s.refresh_tokens_to_expire)::pg_catalog.text FROM orion.status s$$,
 NULL, '{}', '(3,0)', NULL),
(63, 'expire_sessions: in batches of 2', '{}',
 $$SELECT orion.expire_sessions(2)::pg_catalog.text$$,
 $$SELECT format('dead sessions %s, sessions of ada %s',
                 (SELECT count(*) FROM orion_auth.sessions WHERE id::text LIKE 'd0000000-%'),
                 (SELECT count(*) FROM orion_auth.sessions WHERE user_id = 'a0000000-0000-4000-8000-000000000001'))$$,
 '{}', '3', 'dead sessions 0, sessions of ada 2'),
(64, 'run_maintenance: every kind, in batches of 2',
 ARRAY[$$INSERT INTO orion_auth.refresh_tokens (user_id, token, expires_at, revoked, revoked_at)
         VALUES ('a0000000-0000-4000-8000-000000000002', md5('sec stale') || md5('sec stale!'),
                 now() + interval '1 day', true, now() - interval '8 days')$$,
       $$INSERT INTO orion_auth.one_time_tokens (user_id, purpose, token, email, expires_at, used_at)
         VALUES ('a0000000-0000-4000-8000-000000000002', 'email_verification', md5('sec used') || md5('sec used!'),
                 'used@example.com', now() - interval '1 hour', now() - interval '1 hour')$$,
       $$INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, read, read_at)
         VALUES ('a0000000-0000-4000-8000-000000000002', 'sec-old', 'in_app', 'Read long ago', 'A message',
                 true, now() - interval '40 days')$$,
       $$INSERT INTO orion_auth.audit_logs (action, resource, created_at)
         VALUES ('sec.old', 'security', now() - interval '400 days')$$,
       $$SELECT set_config('orion.read_notification_retention', '30d', true)$$,
       $$SELECT set_config('orion.audit_retention', '365d', true)$$],
 $$SELECT (m.sessions, m.refresh_tokens, m.one_time_tokens, m.notifications, m.audit_logs)::pg_catalog.text FROM orion.run_maintenance(2) m$$,
 $$SELECT format('last run by %s, ok %s, removed %s; left: dead sessions %s, stale tokens %s, spent one-time tokens %s, old notifications %s, old audit entries %s',
                 m.last_run_by, m.last_run_ok,
                 m.sessions_removed + m.refresh_tokens_removed + m.one_time_tokens_removed
                 + m.notifications_removed + m.audit_logs_removed,
                 (SELECT count(*) FROM orion_auth.sessions WHERE id::text LIKE 'd0000000-%'),
                 (SELECT count(*) FROM orion_auth.refresh_tokens WHERE token = md5('sec stale') || md5('sec stale!')),
                 (SELECT count(*) FROM orion_auth.one_time_tokens WHERE token = md5('sec used') || md5('sec used!')),
                 (SELECT count(*) FROM orion_notifications.notifications WHERE type = 'sec-old'),
                 (SELECT count(*) FROM orion_auth.audit_logs WHERE action = 'sec.old'))
     FROM orion.maintenance_state m$$,
 ARRAY[$$SELECT set_config('orion.read_notification_retention', '0', true)$$,
       $$SELECT set_config('orion.audit_retention', '0', true)$$,
       $$DELETE FROM orion_auth.refresh_tokens WHERE token = md5('sec stale') || md5('sec stale!')$$,
       $$DELETE FROM orion_auth.one_time_tokens WHERE token = md5('sec used') || md5('sec used!')$$,
       $$DELETE FROM orion_notifications.notifications WHERE type = 'sec-old'$$,
       $$DELETE FROM orion_auth.audit_logs WHERE action = 'sec.old'$$],
 '(3,1,1,1,1)',
 'last run by orion_admin, ok t, removed 7; left: dead sessions 0, stale tokens 0, spent one-time tokens 0, old notifications 0, old audit entries 0')
  ) AS c(ord, name, more_setup, attack, check_sql, more_teardown, expected_result, expected_after);

-- what the counters watch: the SECURITY DEFINER functions and the other
-- trigger functions (notify_cache, announce_notification, cache_invalidate:
-- calls, with track_functions = all), and orion's tables and indexes (scans)
SET track_functions = 'all';
CREATE TEMP TABLE watched_functions AS
SELECT p.oid, p.proname::text AS name, p.prosecdef AS definer FROM pg_proc p
 WHERE p.pronamespace = 'orion'::regnamespace AND (p.prosecdef OR p.prorettype = 'trigger'::regtype);
CREATE TEMP TABLE watched_relations AS
SELECT c.oid AS relid, c.relname::text AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE (n.nspname = 'orion' OR n.nspname LIKE 'orion\_%') AND c.relkind IN ('r', 'p')
UNION ALL
SELECT i.indexrelid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE (n.nspname = 'orion' OR n.nspname LIKE 'orion\_%') AND c.relkind IN ('r', 'p');
CREATE TEMP TABLE counter_marks (kind text, oid oid, n bigint);
CREATE TEMP TABLE attack_runs (path_ord int, case_ord int, result text, after text,
                               functions_called text, tables_read text);

-- Runs every case under every path, in one transaction (so that the
-- counters of this transaction hold every call). Between setting the role
-- and path and restoring them, only the attack statement and
-- pg_catalog.set_config() run.
CREATE FUNCTION pg_temp.run_attack_cases() RETURNS void LANGUAGE plpgsql AS $run$
DECLARE
    ordinary CONSTANT text := pg_catalog.current_setting('search_path');
    p record;
    c record;
    statement text;
    attack_statement text;
    attack_caller text;
    attack_path text;
    attack_arg text;
    attack_result text;
    check_result text;
BEGIN
    FOR p IN SELECT * FROM attack_paths ORDER BY ord
    LOOP
        FOR c IN SELECT * FROM attack_cases ORDER BY ord
        LOOP
            FOREACH statement IN ARRAY coalesce(c.setup, '{}')
            LOOP
                EXECUTE statement USING c.arg;
            END LOOP;

            DELETE FROM counter_marks;
            INSERT INTO counter_marks
            SELECT 'call', oid, coalesce(pg_stat_get_xact_function_calls(oid), 0) FROM watched_functions
            UNION ALL
            SELECT 'scan', relid, pg_stat_get_xact_numscans(relid) FROM watched_relations;

            attack_statement := c.attack;
            attack_caller := c.caller;
            attack_path := coalesce(p.path, ordinary);
            attack_arg := c.arg;
            BEGIN
                PERFORM pg_catalog.set_config('role', attack_caller, true);
                PERFORM pg_catalog.set_config('search_path', attack_path, true);
                EXECUTE attack_statement INTO attack_result USING attack_arg;
                PERFORM pg_catalog.set_config('search_path', ordinary, true);
                PERFORM pg_catalog.set_config('role', 'none', true);
                attack_result := coalesce(attack_result, '(null)');
            EXCEPTION WHEN OTHERS THEN
                attack_result := format('ERROR %s: %s', SQLSTATE, SQLERRM);
            END;

            INSERT INTO attack_runs
            SELECT p.ord, c.ord, attack_result, NULL,
                   (SELECT string_agg(d.name, ', ' ORDER BY d.name) FROM watched_functions d JOIN counter_marks m
                       ON m.kind = 'call' AND m.oid = d.oid
                     WHERE coalesce(pg_stat_get_xact_function_calls(d.oid), 0) > m.n),
                   (SELECT string_agg(DISTINCT w.table_name, ', ' ORDER BY w.table_name)
                      FROM watched_relations w JOIN counter_marks m ON m.kind = 'scan' AND m.oid = w.relid
                     WHERE pg_stat_get_xact_numscans(w.relid) > m.n);

            IF c.check_sql IS NOT NULL THEN
                EXECUTE c.check_sql INTO check_result USING c.arg;
                UPDATE attack_runs SET after = check_result
                 WHERE path_ord = p.ord AND case_ord = c.ord;
            END IF;
            FOREACH statement IN ARRAY coalesce(c.teardown, '{}')
            LOOP
                EXECUTE statement USING c.arg;
            END LOOP;
        END LOOP;
    END LOOP;
END
$run$;

SELECT pg_temp.run_attack_cases();

-- Each case under the ordinary search_path: who called, which SECURITY
-- DEFINER and trigger functions of orion ran in the call, and which of
-- orion's tables the call read (a cache refilled, a user looked up) ...
SELECT c.ord, c.name, c.caller, r.functions_called, r.tables_read
  FROM attack_cases c JOIN attack_runs r ON r.case_ord = c.ord AND r.path_ord = 0
 ORDER BY c.ord;
-- ... what it answered, and what it left behind
SELECT c.ord, r.result, r.after
  FROM attack_cases c JOIN attack_runs r ON r.case_ord = c.ord AND r.path_ord = 0
 ORDER BY c.ord;

-- Every run against the README's answer and against the ordinary path's run:
-- a case that differs under any path, in any of these, is listed
SELECT c.ord, c.name, coalesce(p.path, 'ordinary') AS path,
       r.result, c.expected_result, r.after, c.expected_after,
       r.functions_called, o.functions_called AS ordinary_functions_called,
       r.tables_read, o.tables_read AS ordinary_tables_read
  FROM attack_cases c
  JOIN attack_runs r ON r.case_ord = c.ord
  JOIN attack_runs o ON o.case_ord = c.ord AND o.path_ord = 0
  JOIN attack_paths p ON p.ord = r.path_ord
 WHERE r.result IS DISTINCT FROM c.expected_result
    OR r.after IS DISTINCT FROM c.expected_after
    OR r.functions_called IS DISTINCT FROM o.functions_called
    OR r.tables_read IS DISTINCT FROM o.tables_read
 ORDER BY c.ord, p.ord;

-- No look-alike was called, by any case under any path
SELECT last_value, is_called AS any_trojan_called FROM trojan.calls;

-- Every SECURITY DEFINER function ran in some case under each path (a new
-- one without a case is listed with 0 and fails the check below; a call
-- that ends in an error, as in cases 42 and 45, is not counted)
SELECT d.oid::regprocedure AS definer_function,
       count(*) FILTER (WHERE r.path_ord = 0) AS ordinary,
       count(*) FILTER (WHERE r.path_ord = 1) AS trojan_first,
       count(*) FILTER (WHERE r.path_ord = 2) AS pg_temp_first
  FROM watched_functions d
  LEFT JOIN attack_runs r ON d.name = ANY (string_to_array(r.functions_called, ', '))
 WHERE d.definer
 GROUP BY d.oid, d.name ORDER BY d.name;
SELECT d.oid::regprocedure AS definer_function_without_a_case, p.path
  FROM watched_functions d CROSS JOIN attack_paths p
 WHERE d.definer
   AND NOT EXISTS (SELECT FROM attack_runs r
                    WHERE r.path_ord = p.ord AND d.name = ANY (string_to_array(r.functions_called, ', ')));
RESET track_functions;

--
-- 3. The SECURITY DEFINER functions themselves
--

-- Each is owned by the extension's owner and belongs to the extension; none
-- is executable by PUBLIC (the README's "every service role" functions are
-- granted to the five roles, not to PUBLIC); each pins search_path, with a
-- SET clause or, as the README documents for these six, in C around the SQL
-- it runs (a C function: SQL cannot pin itself)
SELECT p.oid::regprocedure AS definer_function,
       p.proowner = e.extowner AS owned_by_extension_owner,
       EXISTS (SELECT FROM pg_depend dep
                WHERE dep.classid = 'pg_proc'::regclass AND dep.objid = p.oid
                  AND dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid
                  AND dep.deptype = 'e') AS in_extension,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute,
       CASE WHEN p.proconfig = ARRAY['search_path=pg_catalog, pg_temp'] THEN 'SET clause'
            WHEN p.proconfig IS NULL AND l.lanname = 'c'
                 AND p.oid IN ('orion.validate_session(text)'::regprocedure,
                               'orion.peek_variant(text,uuid)'::regprocedure,
                               'orion.flag_enabled(text,uuid,jsonb)'::regprocedure,
                               'orion.flag_variant(text,uuid,jsonb)'::regprocedure,
                               'orion.evaluate_flag(text,uuid,jsonb)'::regprocedure,
                               'orion.evaluate_all_flags(uuid,jsonb)'::regprocedure)
                 THEN 'in C (README)'
            ELSE 'NOT PINNED: ' || coalesce(array_to_string(p.proconfig, '; '), 'no SET clause') END AS search_path
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
  CROSS JOIN pg_extension e
 WHERE e.extname = 'orion' AND p.pronamespace = 'orion'::regnamespace AND p.prosecdef
 ORDER BY p.proname;

--
-- Clean up
--
SET client_min_messages = warning;
DROP SCHEMA trojan CASCADE;
RESET client_min_messages;
DELETE FROM orion_ab_testing.ab_tests WHERE key = 'sec-pricing';
DELETE FROM orion_feature_flags.feature_flags WHERE key LIKE 'sec-%';
DELETE FROM orion_feature_flags.segments WHERE id IN (9071, 9072);
DELETE FROM orion_auth.users WHERE email IN ('ada@example.com', 'grace@example.com');
DELETE FROM orion_auth.audit_logs;
DELETE FROM orion.maintenance_state;
DROP ROLE orion_regress_nobody;
