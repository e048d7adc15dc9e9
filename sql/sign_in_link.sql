--
-- Passwordless sign-in on one-time tokens: a request answers alike for
-- known and unknown addresses, is rate-limited per user; the token signs in
-- once, with login's row, verifying the address; a locked account stays
-- locked; refused input; privileges.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;
SET orion.email_request_min_duration = 0;

SELECT orion.register_user('Lena@Example.com', 'correct horse battery staple', 'Lena') AS lena \gset
SELECT orion.register_user('mo@example.com', 'correct horse battery staple', 'Mo') AS mo \gset

--
-- A request returns the token for a known address, NULL otherwise
--
SELECT orion.request_sign_in_link('lena@EXAMPLE.com') AS link1 \gset
SELECT :'link1' ~ '^orion_m_[A-Za-z0-9_-]{43}$' AS token_form;
SELECT purpose, email, token = encode(sha256(convert_to(:'link1', 'UTF8')), 'hex') AS digest_stored,
       expires_at - created_at = interval '15 minutes' AS expires_in_15_minutes
  FROM orion_auth.one_time_tokens WHERE user_id = :'lena';
SELECT orion.request_sign_in_link('nobody@example.com') AS unknown_address;
SELECT orion.request_sign_in_link('lena@example.com') AS rate_limited;
SELECT new_data->>'reason' AS reason, user_id = :'lena' AS about_lena
  FROM orion_auth.audit_logs WHERE action = 'auth.sign_in_link_requested' ORDER BY created_at, id;

--
-- The link signs in once, with login's columns, also under
-- orion.require_verified_email, without marking the address verified: the
-- password someone set when registering it is not let in by the link
--
SET orion.require_verified_email = on;
SELECT count(*) AS password_refused_unverified FROM orion.login('lena@example.com', 'correct horse battery staple');
SELECT user_id = :'lena' AS is_lena, session_id IS NOT NULL AS has_session,
       access_token ~ '^orion_s_' AS access, refresh_token ~ '^orion_r_' AS refresh,
       access_expires_at > now() AND refresh_expires_at > access_expires_at AS expiries,
       access_token AS lena_access
  FROM orion.sign_in_with_link(:'link1', '192.0.2.7', 'Link Browser') \gset
SELECT :'is_lena' AS is_lena, :'has_session' AS has_session, :'access' AS access,
       :'refresh' AS refresh, :'expiries' AS expiries;
SELECT user_id = :'lena' AS valid_session FROM orion.validate_session(:'lena_access');
SELECT ip_address, user_agent FROM orion_auth.sessions WHERE user_id = :'lena';
SELECT email_verified, last_login_at IS NOT NULL AS last_login FROM orion_auth.users WHERE id = :'lena';
SELECT new_data, ip_address, user_agent FROM orion_auth.audit_logs
 WHERE action = 'auth.login' AND user_id = :'lena';
SELECT count(*) AS used_again FROM orion.sign_in_with_link(:'link1');
SELECT count(*) AS password_still_refused FROM orion.login('lena@example.com', 'correct horse battery staple');
RESET orion.require_verified_email;

--
-- A locked account stays locked: no row, audited, the link used up
--
SET orion.reset_request_interval = 0;
SET orion.sign_in_link_request_interval = 0;
SET orion.max_failed_logins = 1;
SELECT count(*) FROM orion.login('mo@example.com', 'not the password');
RESET orion.max_failed_logins;
SELECT orion.request_sign_in_link('mo@example.com') AS mo_link \gset
SELECT count(*) AS locked_refused FROM orion.sign_in_with_link(:'mo_link');
SELECT new_data FROM orion_auth.audit_logs
 WHERE action = 'auth.login_failed' AND user_id = :'mo' ORDER BY created_at DESC, id LIMIT 1;
SELECT failed_login_count, locked_until > now() AS locked, email_verified FROM orion_auth.users WHERE id = :'mo';
SELECT used_at IS NOT NULL AS used FROM orion_auth.one_time_tokens WHERE user_id = :'mo';
UPDATE orion_auth.users SET locked_until = now() - interval '1 second' WHERE id = :'mo';
SELECT count(*) AS used_up FROM orion.sign_in_with_link(:'mo_link');
SELECT orion.request_sign_in_link('mo@example.com') AS mo_link \gset
SELECT count(*) AS after_the_lock FROM orion.sign_in_with_link(:'mo_link');

--
-- Tokens that do not work: expired, of another flow, malformed
--
SELECT orion.request_sign_in_link('mo@example.com') AS mo_link \gset
SELECT orion.request_password_reset('mo@example.com') AS mo_reset \gset
SELECT count(*) AS reset_token_signs_nothing_in FROM orion.sign_in_with_link(:'mo_reset');
SELECT orion.reset_password(:'mo_link', 'a brand new passphrase') AS link_resets_nothing;
UPDATE orion_auth.one_time_tokens SET expires_at = now() - interval '1 second'
 WHERE user_id = :'mo' AND purpose = 'sign_in_link';
SELECT count(*) AS expired FROM orion.sign_in_with_link(:'mo_link');
SELECT count(*) AS empty FROM orion.sign_in_with_link('');
SELECT count(*) AS huge FROM orion.sign_in_with_link(repeat('orion_m_', 100000));

--
-- Refused input
--
SELECT orion.request_sign_in_link(NULL);
SELECT orion.request_sign_in_link('mo at example.com');
SELECT * FROM orion.sign_in_with_link(NULL);
SELECT orion.request_sign_in_link('mo@example.com') AS mo_link \gset
SELECT * FROM orion.sign_in_with_link(:'mo_link', 'not an address');
SELECT * FROM orion.sign_in_with_link(:'mo_link', NULL, repeat('a', 2000));
\set VERBOSITY sqlstate
SET orion.sign_in_link_ttl = '59s';
SET orion.sign_in_link_request_interval = '-1';
\set VERBOSITY default
-- the refusals changed nothing: the link still works
SELECT count(*) AS still_works FROM orion.sign_in_with_link(:'mo_link');

-- a password reset ends the links mailed before it
SELECT orion.request_sign_in_link('mo@example.com') AS mo_old_link \gset
SELECT orion.set_password(:'mo', 'an administrator''s new passphrase');
SELECT revoked_at IS NOT NULL AS revoked FROM orion_auth.one_time_tokens
 WHERE token = encode(sha256(convert_to(:'mo_old_link', 'UTF8')), 'hex');
SELECT count(*) AS link_after_reset FROM orion.sign_in_with_link(:'mo_old_link');
-- so does signing out everywhere
SELECT orion.request_sign_in_link('mo@example.com') AS mo_old_link \gset
SELECT orion.revoke_all_sessions(:'mo') >= 0 AS signed_out;
SELECT count(*) AS link_after_sign_out FROM orion.sign_in_with_link(:'mo_old_link');

--
-- Privileges: the auth service's
--
SET ROLE orion_user_service;
SELECT orion.request_sign_in_link('mo@example.com');
SELECT * FROM orion.sign_in_with_link(:'mo_link');
RESET ROLE;
SET ROLE orion_auth_service;
SELECT orion.request_sign_in_link('mo@example.com') AS mo_by_service \gset
SELECT user_id = :'mo' AS auth_service_may FROM orion.sign_in_with_link(:'mo_by_service');
RESET ROLE;

-- no token handed out above is stored anywhere as itself
CREATE TEMP TABLE handed_out (token text);
INSERT INTO handed_out VALUES (:'link1'), (:'mo_link'), (:'mo_reset'), (:'mo_by_service'), (:'lena_access');
\i sql/include/search_tokens.sql

DELETE FROM orion_auth.users WHERE id IN (:'lena', :'mo');
SELECT count(*) AS tokens_left FROM orion_auth.one_time_tokens;
-- the audit entries of this test go with it (privileges lists the log)
DELETE FROM orion_auth.audit_logs;
