--
-- Sessions: validation, refresh-token rotation and reuse detection, logout,
-- listing and revocation, password changes; and no token stored in clear.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

SELECT orion.register_user('grace@example.com', 'correct horse battery staple', 'Grace', 'Hopper', 'admin') AS grace \gset

-- every token handed out is kept here, to look for it in the tables later
CREATE TEMP TABLE issued (label text PRIMARY KEY, session_id uuid, access_token text, refresh_token text);
CREATE FUNCTION pg_temp.sign_in(label text, email text, password text, agent text DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    WITH t AS (INSERT INTO issued
               SELECT label, session_id, access_token, refresh_token
                 FROM orion.login(email, password, NULL, agent) RETURNING 1)
    SELECT count(*) FROM t
$$;
CREATE FUNCTION pg_temp.refresh(label text, from_label text)
RETURNS bigint LANGUAGE sql AS $$
    WITH t AS (INSERT INTO issued
               SELECT label, session_id, access_token, refresh_token
                 FROM orion.refresh_session((SELECT refresh_token FROM issued WHERE issued.label = from_label))
               RETURNING 1)
    SELECT count(*) FROM t
$$;
CREATE FUNCTION pg_temp.valid(label text) RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM orion.validate_session((SELECT access_token FROM issued WHERE issued.label = valid.label)))
$$;
CREATE FUNCTION pg_temp.token_row(label text)
RETURNS TABLE (revoked boolean, revoked_reason text) LANGUAGE sql AS $$
    SELECT r.revoked, r.revoked_reason FROM orion_auth.refresh_tokens r
     WHERE r.token = encode(sha256(convert_to((SELECT refresh_token FROM issued i WHERE i.label = token_row.label), 'UTF8')), 'hex')
$$;

SELECT pg_temp.sign_in('laptop', 'grace@example.com', 'correct horse battery staple', 'laptop');
SELECT pg_temp.sign_in('phone', 'grace@example.com', 'correct horse battery staple', 'phone');

--
-- validate_session
--
SELECT v.user_id = :'grace' AS grace, v.session_id = i.session_id AS same_session, v.email, v.role
  FROM issued i, orion.validate_session(i.access_token) v WHERE i.label = 'laptop';
-- anything but a live access token: no row, no error
SELECT count(*) AS empty FROM orion.validate_session('');
SELECT count(*) AS prefix_only FROM orion.validate_session('orion_s_');
SELECT count(*) AS refresh_token FROM issued, orion.validate_session(refresh_token) WHERE label = 'laptop';
SELECT count(*) AS upper_case FROM issued, orion.validate_session(upper(access_token)) WHERE label = 'laptop';
SELECT count(*) AS one_more_char FROM issued, orion.validate_session(access_token || 'A') WHERE label = 'laptop';
SELECT count(*) AS stored_digest FROM orion_auth.sessions s, orion.validate_session(s.token);
SELECT count(*) AS sql_text FROM orion.validate_session($$orion_s_' OR '1'='1$$);
SELECT * FROM orion.validate_session(NULL);
-- an expired access token is refused
UPDATE orion_auth.sessions SET expires_at = now() - interval '1 second'
 WHERE id = (SELECT session_id FROM issued WHERE label = 'phone');
SELECT pg_temp.valid('phone') AS expired_phone, pg_temp.valid('laptop') AS laptop;
UPDATE orion_auth.sessions SET expires_at = now() + interval '15 minutes'
 WHERE id = (SELECT session_id FROM issued WHERE label = 'phone');
-- validate_session is read-only, and every service may call it
SELECT provolatile, prosecdef, proconfig FROM pg_proc WHERE oid = 'orion.validate_session'::regproc;
SELECT access_token AS laptop_access FROM issued WHERE label = 'laptop' \gset
SET ROLE orion_notifications_service;
SELECT email AS from_notifications_service FROM orion.validate_session(:'laptop_access');
RESET ROLE;

--
-- refresh_session rotates
--
SELECT pg_temp.refresh('laptop 2', 'laptop') AS rotated;
SELECT a.session_id = b.session_id AS same_session,
       a.access_token <> b.access_token AS new_access_token,
       a.refresh_token <> b.refresh_token AS new_refresh_token
  FROM issued a, issued b WHERE a.label = 'laptop' AND b.label = 'laptop 2';
SELECT * FROM pg_temp.token_row('laptop');
SELECT * FROM pg_temp.token_row('laptop 2');
-- the replaced access token lives on until it expires, so another tab keeps working
SELECT pg_temp.valid('laptop') AS old_access_token, pg_temp.valid('laptop 2') AS new_access_token;
-- search_path cannot hijack validate_session (SECURITY DEFINER): the probe of
-- a current token resolves nothing by name, and the statements it runs
-- otherwise (a replaced token; a table the probe steps aside for, here one
-- with row security) run with search_path pinned to pg_catalog, pg_temp
CREATE SCHEMA trojan;
CREATE FUNCTION trojan.text_eq(varchar, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trojan operator called';
END
$$;
CREATE OPERATOR trojan.= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = trojan.text_eq);
CREATE FUNCTION trojan.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trojan operator called';
END
$$;
CREATE OPERATOR trojan.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = trojan.uuid_eq);
GRANT USAGE ON SCHEMA trojan TO PUBLIC;
SET search_path = trojan, pg_catalog, pg_temp;
SELECT pg_temp.valid('laptop 2') AS probed, pg_temp.valid('laptop') AS replaced_token;
ALTER TABLE orion_auth.sessions ENABLE ROW LEVEL SECURITY;
SELECT pg_temp.valid('laptop 2') AS by_the_statement;
ALTER TABLE orion_auth.sessions DISABLE ROW LEVEL SECURITY;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA trojan CASCADE;
RESET client_min_messages;
-- two tabs refreshing with the same token within orion.refresh_reuse_interval:
-- both get tokens, in the same session
SELECT pg_temp.refresh('laptop tab 2', 'laptop') AS second_tab;
SELECT count(DISTINCT session_id) AS sessions FROM issued WHERE label LIKE 'laptop%';
SELECT pg_temp.valid('laptop 2') AS first_tab, pg_temp.valid('laptop tab 2') AS second_tab;
-- after that interval, a rotated token presented again was copied: the whole
-- session is revoked and the reuse audited
SET orion.refresh_reuse_interval = 0;
SELECT pg_temp.refresh('laptop stolen', 'laptop') AS reuse_after_interval;
RESET orion.refresh_reuse_interval;
SELECT revoked_at IS NOT NULL AS revoked, revoked_reason
  FROM orion_auth.sessions WHERE id = (SELECT session_id FROM issued WHERE label = 'laptop');
SELECT pg_temp.valid('laptop 2') AS laptop_2, pg_temp.valid('laptop tab 2') AS laptop_tab_2,
       pg_temp.refresh('laptop 3', 'laptop 2') AS refresh_laptop_2;
SELECT revoked, revoked_reason, count(*) FROM orion_auth.refresh_tokens
 WHERE session_id = (SELECT session_id FROM issued WHERE label = 'laptop')
 GROUP BY 1, 2 ORDER BY 2;
SELECT action, resource, resource_id::uuid = (SELECT session_id FROM issued WHERE label = 'laptop') AS that_session
  FROM orion_auth.audit_logs WHERE action = 'auth.refresh_token_reused';
-- the phone's session is another device and lives on
SELECT pg_temp.valid('phone') AS phone;
-- an expired refresh token rotates nothing
UPDATE orion_auth.refresh_tokens SET expires_at = now() - interval '1 second'
 WHERE session_id = (SELECT session_id FROM issued WHERE label = 'phone');
SELECT pg_temp.refresh('phone 2', 'phone') AS expired_refresh_token;
UPDATE orion_auth.refresh_tokens SET expires_at = now() + interval '7 days'
 WHERE session_id = (SELECT session_id FROM issued WHERE label = 'phone');
-- not refresh tokens
SELECT count(*) AS access_token FROM issued, orion.refresh_session(access_token) WHERE label = 'phone';
SELECT count(*) AS garbage FROM orion.refresh_session('orion_r_garbage');
SELECT * FROM orion.refresh_session(NULL);

--
-- logout
--
SELECT orion.logout(access_token) AS logged_out FROM issued WHERE label = 'phone';
SELECT orion.logout(access_token) AS again FROM issued WHERE label = 'phone';
SELECT pg_temp.valid('phone') AS phone, pg_temp.refresh('phone 3', 'phone') AS refresh_after_logout;
SELECT pg_temp.sign_in('tablet', 'grace@example.com', 'correct horse battery staple', 'tablet');
SELECT orion.logout(refresh_token) AS by_refresh_token FROM issued WHERE label = 'tablet';
SELECT pg_temp.valid('tablet') AS tablet;
SELECT orion.logout('') AS empty, orion.logout('orion_s_nope') AS unknown;
SELECT orion.logout(NULL);
SELECT action, count(*) FROM orion_auth.audit_logs WHERE action = 'auth.logout' GROUP BY 1;

--
-- list_sessions, revoke_session, revoke_all_sessions, revoke_refresh_token
--
SELECT pg_temp.sign_in('desktop', 'grace@example.com', 'correct horse battery staple', 'desktop');
SELECT pg_temp.sign_in('watch', 'grace@example.com', 'correct horse battery staple', 'watch');
SELECT user_agent, ip_address, access_expires_at > now() AS access_live, refresh_expires_at > now() AS refresh_live
  FROM orion.list_sessions(:'grace') ORDER BY user_agent;
SELECT orion.revoke_session(session_id, 'lost device') AS revoked FROM issued WHERE label = 'watch';
SELECT orion.revoke_session(session_id) AS again FROM issued WHERE label = 'watch';
SELECT orion.revoke_session('00000000-0000-0000-0000-000000000000') AS unknown;
SELECT user_agent FROM orion.list_sessions(:'grace');
SELECT revoked_reason FROM orion_auth.sessions WHERE id = (SELECT session_id FROM issued WHERE label = 'watch');
SELECT orion.revoke_session(NULL);
SELECT orion.revoke_session(session_id, '') FROM issued WHERE label = 'desktop';
SELECT orion.revoke_session(session_id, 'rotated') FROM issued WHERE label = 'desktop';
-- one refresh token
SELECT orion.revoke_refresh_token(refresh_token, 'suspicious') AS revoked FROM issued WHERE label = 'desktop';
SELECT orion.revoke_refresh_token(refresh_token) AS again FROM issued WHERE label = 'desktop';
SELECT orion.revoke_refresh_token('orion_r_nope') AS unknown;
SELECT pg_temp.refresh('desktop 2', 'desktop') AS refresh_revoked_token, pg_temp.valid('desktop') AS access_lives_on;
-- everywhere
SELECT pg_temp.sign_in('kiosk', 'grace@example.com', 'correct horse battery staple', 'kiosk');
SELECT orion.revoke_all_sessions(:'grace', 'security review') AS sessions_ended;
SELECT count(*) AS live_sessions FROM orion.list_sessions(:'grace');
SELECT pg_temp.valid('desktop') AS desktop, pg_temp.valid('kiosk') AS kiosk;
SELECT count(*) AS live_refresh_tokens FROM orion_auth.refresh_tokens
 WHERE user_id = :'grace' AND revoked IS NOT TRUE;
SELECT orion.revoke_all_sessions(NULL);
SELECT action, new_data - 'user_id' AS new_data FROM orion_auth.audit_logs
 WHERE action IN ('auth.session_revoked', 'auth.sessions_revoked', 'auth.refresh_token_revoked')
 ORDER BY created_at, action;
SELECT new_data->>'user_id' = :'grace' AS revoked_session_names_its_user
  FROM orion_auth.audit_logs WHERE action = 'auth.session_revoked';

--
-- change_password keeps the current session and ends the others
--
SELECT pg_temp.sign_in('home', 'grace@example.com', 'correct horse battery staple');
SELECT pg_temp.sign_in('work', 'grace@example.com', 'correct horse battery staple');
SELECT orion.change_password(:'grace', 'wrong password', 'new horse battery staple') AS wrong_current;
SELECT pg_temp.valid('home') AS home, pg_temp.valid('work') AS work;
SELECT orion.change_password(:'grace', 'correct horse battery staple', 'new horse battery staple',
                             (SELECT session_id FROM issued WHERE label = 'home')) AS changed;
SELECT pg_temp.valid('home') AS home, pg_temp.valid('work') AS work;
SELECT pg_temp.sign_in('old password', 'grace@example.com', 'correct horse battery staple') AS old_password,
       pg_temp.sign_in('new password', 'grace@example.com', 'new horse battery staple') AS new_password;
SELECT orion.change_password(:'grace', 'new horse battery staple', 'short');
SELECT orion.change_password(:'grace', NULL, 'new horse battery staple');
SELECT orion.change_password('00000000-0000-0000-0000-000000000000', 'x', 'new horse battery staple');

--
-- set_password: an administrator's reset lifts a lockout and ends every session
--
UPDATE orion_auth.users SET failed_login_count = 5, locked_until = now() + interval '1 hour' WHERE id = :'grace';
SELECT orion.set_password(:'grace', 'reset horse battery staple');
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'grace';
SELECT pg_temp.valid('home') AS home, pg_temp.valid('new password') AS new_password;
SELECT pg_temp.sign_in('after reset', 'grace@example.com', 'reset horse battery staple') AS after_reset;
SELECT orion.set_password(:'grace', 'short');
SELECT orion.set_password('00000000-0000-0000-0000-000000000000', 'reset horse battery staple');
SELECT action, new_data FROM orion_auth.audit_logs
 WHERE action LIKE 'auth.password%' ORDER BY created_at, action;

--
-- No token is stored anywhere: every text and JSON column of every orion
-- table is searched for every token handed out above.
--
CREATE TEMP TABLE handed_out AS
    SELECT access_token AS token FROM issued UNION ALL SELECT refresh_token FROM issued;
\i sql/include/search_tokens.sql

-- the auth functions are the auth service's; validate_session is everyone's
SELECT p.oid::regprocedure AS function,
       string_agg(r, ', ' ORDER BY r) FILTER (WHERE has_function_privilege(r, p.oid, 'EXECUTE')) AS callers
  FROM pg_proc p,
       unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service', 'public']) AS r
 WHERE p.pronamespace = 'orion'::regnamespace
 GROUP BY p.oid ORDER BY p.oid::regprocedure::text;

--
-- The whole flow once more as an application's login role that is a member
-- of orion_auth_service, as in production: no step may need more than the
-- auth service's grants (it cannot read the audit log, for one).
--
CREATE ROLE regress_auth_app LOGIN IN ROLE orion_auth_service;
SET ROLE regress_auth_app;
SELECT orion.register_user('app@example.com', 'correct horse battery staple') AS app \gset
SELECT session_id AS app_session, access_token AS app_access, refresh_token AS app_refresh
  FROM orion.login('app@example.com', 'correct horse battery staple') \gset
SELECT count(*) AS wrong_password FROM orion.login('app@example.com', 'wrong horse battery staple');
SELECT count(*) AS unknown_email FROM orion.login('nobody@example.com', 'wrong horse battery staple');
SELECT email FROM orion.validate_session(:'app_access');
SELECT access_token AS app_access2, refresh_token AS app_refresh2 FROM orion.refresh_session(:'app_refresh') \gset
SELECT count(*) AS two_tabs FROM orion.refresh_session(:'app_refresh');
SELECT count(*) AS live_sessions FROM orion.list_sessions(:'app');
SELECT orion.revoke_refresh_token(:'app_refresh2') AS revoked_refresh_token;
SELECT orion.change_password(:'app', 'correct horse battery staple', 'new horse battery staple', :'app_session') AS changed;
SELECT orion.revoke_session(:'app_session') AS revoked_session;
SELECT orion.logout(:'app_access2') AS logout_after_revoke;
SELECT orion.set_password(:'app', 'reset horse battery staple');
SELECT orion.revoke_all_sessions(:'app') AS ended;
SELECT orion.audit('app.checked', 'user', :'app') IS NOT NULL AS audited;
-- what the auth service may not do
SELECT count(*) FROM orion_auth.audit_logs;
RESET ROLE;
SELECT action, count(*) FROM orion_auth.audit_logs WHERE user_id = :'app' OR resource_id = :'app'::text
 GROUP BY action ORDER BY action;
DROP ROLE regress_auth_app;

DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
