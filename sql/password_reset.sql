--
-- Self-service password reset on one-time tokens: a request answers alike
-- for known and unknown addresses (the time is 015_request_timing's), is
-- rate-limited per user, and the token sets a new password once, revoking
-- every session and lifting a lockout; refused input; privileges.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;
-- the floor's time is measured by 015_request_timing; here it only slows
SET orion.email_request_min_duration = 0;

SELECT orion.register_user('Pat@Example.com', 'correct horse battery staple', 'Pat') AS pat \gset
SELECT orion.register_user('quinn@example.com', 'correct horse battery staple', 'Quinn') AS quinn \gset

-- Pat is signed in twice, then locked out by wrong passwords
SELECT refresh_token AS pat_refresh FROM orion.login('pat@example.com', 'correct horse battery staple') \gset
SELECT count(*) FROM orion.login('pat@example.com', 'correct horse battery staple');
SET orion.max_failed_logins = 2;
SELECT count(*) FROM orion.login('pat@example.com', 'not the password');
SELECT count(*) FROM orion.login('pat@example.com', 'not the password');
SELECT failed_login_count, locked_until > now() AS locked FROM orion_auth.users WHERE id = :'pat';
RESET orion.max_failed_logins;

--
-- A request returns the token for a known address (in any letter case),
-- NULL for an unknown one; only the digest is stored
--
SELECT orion.request_password_reset('PAT@example.com') AS reset1 \gset
SELECT :'reset1' ~ '^orion_p_[A-Za-z0-9_-]{43}$' AS token_form;
SELECT purpose, email, token = encode(sha256(convert_to(:'reset1', 'UTF8')), 'hex') AS digest_stored,
       expires_at - created_at = interval '1 hour' AS expires_in_an_hour
  FROM orion_auth.one_time_tokens WHERE user_id = :'pat';
SELECT orion.request_password_reset('nobody@example.com') AS unknown_address;

-- within orion.reset_request_interval (60 s) a second request issues
-- nothing and answers as for an unknown address; the first token stays
SELECT orion.request_password_reset('pat@example.com') AS rate_limited;
SELECT count(*) AS pat_tokens FROM orion_auth.one_time_tokens WHERE user_id = :'pat';
SELECT user_id = :'pat' AS about_pat, resource_id = :'pat' AS resource_pat, new_data->>'email' AS email,
       new_data->>'reason' AS reason, new_data ? 'expires_at' AS says_until
  FROM orion_auth.audit_logs WHERE action = 'auth.password_reset_requested' ORDER BY created_at, id;

-- without the limit a new request replaces the older token
SET orion.reset_request_interval = 0;
SELECT orion.request_password_reset('pat@example.com') AS reset2 \gset
SELECT orion.reset_password(:'reset1', 'a brand new passphrase') AS replaced_token;

--
-- The token sets the password, under hash_password's policy
--
SELECT orion.reset_password(:'reset2', 'short');
SELECT count(*) AS still_live FROM orion_auth.one_time_tokens
 WHERE user_id = :'pat' AND used_at IS NULL AND revoked_at IS NULL;
SELECT orion.reset_password(:'reset2', 'a brand new passphrase') = :'pat' AS reset_pat;
SELECT failed_login_count, locked_until, email_verified FROM orion_auth.users WHERE id = :'pat';
SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live_sessions,
       count(*) FILTER (WHERE revoked_reason = 'password_reset') AS revoked_by_reset
  FROM orion_auth.sessions WHERE user_id = :'pat';
SELECT count(*) FILTER (WHERE revoked IS NOT TRUE) AS live_refresh_tokens
  FROM orion_auth.refresh_tokens WHERE user_id = :'pat';
SELECT count(*) AS refresh_after_reset FROM orion.refresh_session(:'pat_refresh');
SELECT action, resource_id = :'pat' AS about_pat, new_data
  FROM orion_auth.audit_logs WHERE action = 'auth.password_reset';
SELECT count(*) AS old_password FROM orion.login('pat@example.com', 'correct horse battery staple');
SELECT count(*) AS new_password FROM orion.login('pat@example.com', 'a brand new passphrase');
-- once
SELECT orion.reset_password(:'reset2', 'another new passphrase') AS used_again;

--
-- Tokens that do not work: expired, for an old address, of another flow
--
SELECT orion.request_password_reset('quinn@example.com') AS quinn_reset \gset
UPDATE orion_auth.one_time_tokens SET expires_at = now() - interval '1 second' WHERE user_id = :'quinn';
SELECT orion.reset_password(:'quinn_reset', 'a brand new passphrase') AS expired;
SELECT orion.request_password_reset('quinn@example.com') AS quinn_reset \gset
UPDATE orion_auth.users SET email = 'quinn@example.org' WHERE id = :'quinn';
SELECT orion.reset_password(:'quinn_reset', 'a brand new passphrase') AS for_the_old_address;
SELECT orion.request_password_reset('quinn@example.org') AS quinn_reset \gset
SELECT orion.verify_email(:'quinn_reset') AS reset_token_verifies_nothing;
UPDATE orion_auth.users SET email_verified = false WHERE id = :'quinn';
SELECT orion.request_email_verification(:'quinn') AS quinn_verify \gset
SELECT orion.reset_password(:'quinn_verify', 'a brand new passphrase') AS verification_token_resets_nothing;
SELECT orion.reset_password(replace(:'quinn_reset', 'orion_p_', 'orion_m_'), 'a brand new passphrase') AS link_prefix;
SELECT orion.reset_password(repeat('orion_p_', 100000), 'a brand new passphrase') AS huge;
SELECT orion.reset_password(:'quinn_reset', 'a brand new passphrase') = :'quinn' AS the_right_one_works;

--
-- Refused input: the same error for every address, so it tells nothing
--
SELECT orion.request_password_reset(NULL);
SELECT orion.request_password_reset('not an address');
SELECT orion.request_password_reset(repeat('a', 250) || '@example.com');
SELECT orion.reset_password(NULL, 'a brand new passphrase');
SELECT orion.reset_password(:'quinn_reset', NULL);
SELECT orion.reset_password(:'quinn_reset', repeat('x', 100000));
\set VERBOSITY sqlstate
SET orion.password_reset_ttl = '59s';
SET orion.reset_request_interval = '-1';
SET orion.email_request_min_duration = '11s';
\set VERBOSITY default

--
-- Privileges: the auth service's
--
SET ROLE orion_user_service;
SELECT orion.request_password_reset('quinn@example.org');
SELECT orion.reset_password(:'quinn_reset', 'a brand new passphrase');
RESET ROLE;
SET ROLE orion_auth_service;
SELECT orion.request_password_reset('quinn@example.org') AS quinn_by_service \gset
SELECT orion.reset_password(:'quinn_by_service', 'yet another passphrase') = :'quinn' AS auth_service_may;
RESET ROLE;

-- no token handed out above is stored anywhere as itself
CREATE TEMP TABLE handed_out (token text);
INSERT INTO handed_out VALUES (:'reset1'), (:'reset2'), (:'quinn_reset'), (:'quinn_verify'),
    (:'quinn_by_service');
\i sql/include/search_tokens.sql

DELETE FROM orion_auth.users WHERE id IN (:'pat', :'quinn');
SELECT count(*) AS tokens_left FROM orion_auth.one_time_tokens;
-- the audit entries of this test go with it (privileges lists the log)
DELETE FROM orion_auth.audit_logs;
