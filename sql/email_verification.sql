--
-- Email verification on one-time tokens: a token per request, stored as
-- SHA-256 only, single use, replaced by a newer one, bound to the address it
-- was issued for, expiring; login under orion.require_verified_email; what
-- maintenance removes; refused input.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

SELECT orion.register_user('Vera@Example.com', 'correct horse battery staple', 'Vera') AS vera \gset
SELECT orion.register_user('walt@example.com', 'correct horse battery staple', 'Walt') AS walt \gset

--
-- A request returns the token; only its digest is stored
--
SELECT orion.request_email_verification(:'vera') AS token1 \gset
SELECT :'token1' ~ '^orion_v_[A-Za-z0-9_-]{43}$' AS token_form;
SELECT purpose, email, token = encode(sha256(convert_to(:'token1', 'UTF8')), 'hex') AS digest_stored,
       expires_at - created_at = interval '24 hours' AS expires_in_a_day, used_at, revoked_at
  FROM orion_auth.one_time_tokens WHERE user_id = :'vera';
SELECT action, resource, resource_id = :'vera' AS about_vera, new_data ? 'expires_at' AS says_until,
       new_data->>'email' AS email
  FROM orion_auth.audit_logs WHERE action = 'auth.email_verification_requested';

-- a second request replaces the first: only the newest mail works
SET orion.email_verification_ttl = '1h';
SELECT orion.request_email_verification(:'vera') AS token2 \gset
SELECT count(*) FILTER (WHERE revoked_at IS NOT NULL AND expires_at <= now()) AS revoked,
       count(*) FILTER (WHERE revoked_at IS NULL AND expires_at - created_at = interval '1 hour') AS live_for_an_hour
  FROM orion_auth.one_time_tokens WHERE user_id = :'vera';
SELECT orion.verify_email(:'token1') AS replaced_token;
SELECT email_verified FROM orion_auth.users WHERE id = :'vera';

-- the newest one verifies the address, once
SELECT orion.verify_email(:'token2') = :'vera' AS verified_vera;
SELECT email_verified FROM orion_auth.users WHERE id = :'vera';
SELECT orion.verify_email(:'token2') AS used_again;
SELECT used_at IS NOT NULL AS used, expires_at <= now() AS spent
  FROM orion_auth.one_time_tokens WHERE user_id = :'vera' AND revoked_at IS NULL;
SELECT action, resource_id = :'vera' AS about_vera, new_data
  FROM orion_auth.audit_logs WHERE action = 'auth.email_verified';

-- a verified address is not verified again (55000; the message names the
-- user, whose id differs from run to run)
\set VERBOSITY sqlstate
SELECT orion.request_email_verification(:'vera');
\set VERBOSITY default

--
-- Bound to the address: a token for an old address stops working
--
SELECT orion.request_email_verification(:'walt') AS walt_old \gset
UPDATE orion_auth.users SET email = 'walter@example.com' WHERE id = :'walt';
SELECT orion.verify_email(:'walt_old') AS for_the_old_address;
-- the letter case of the address does not matter
SELECT orion.request_email_verification(:'walt') AS walt_new \gset
UPDATE orion_auth.users SET email = 'Walter@Example.COM' WHERE id = :'walt';
SELECT orion.verify_email(:'walt_new') = :'walt' AS same_address_other_case;

-- a verified address that changes is not verified any more; a change of
-- letter case is no change, and an UPDATE that sets email_verified wins
UPDATE orion_auth.users SET email = 'walter@example.com' WHERE id = :'walt';
SELECT email_verified AS verified_after_a_case_change FROM orion_auth.users WHERE id = :'walt';
UPDATE orion_auth.users SET email = 'walt@example.net' WHERE id = :'walt';
SELECT email_verified AS verified_after_a_new_address FROM orion_auth.users WHERE id = :'walt';
UPDATE orion_auth.users SET email = 'walt@example.org', email_verified = true WHERE id = :'walt';
SELECT email_verified AS set_in_the_same_update FROM orion_auth.users WHERE id = :'walt';
-- also when it was verified already: setting it to what it was still says so
UPDATE orion_auth.users SET email = 'walt@example.info', email_verified = true WHERE id = :'walt';
SELECT email_verified AS kept_in_the_same_update FROM orion_auth.users WHERE id = :'walt';
UPDATE orion_user.users SET email = 'walt@example.com' WHERE id = :'walt';
SELECT email_verified AS changed_through_the_user_service FROM orion_auth.users WHERE id = :'walt';
UPDATE orion_auth.users SET email = 'walter@example.com', email_verified = true WHERE id = :'walt';

--
-- Expiry: a token works until expires_at
--
SELECT orion.register_user('xena@example.com', 'correct horse battery staple') AS xena \gset
SELECT orion.request_email_verification(:'xena') AS xena_token \gset
UPDATE orion_auth.one_time_tokens SET expires_at = now() - interval '1 second' WHERE user_id = :'xena';
SELECT orion.verify_email(:'xena_token') AS expired;
SELECT email_verified FROM orion_auth.users WHERE id = :'xena';

-- a token of another kind, or of no kind, verifies nothing
SELECT orion.verify_email(replace(:'xena_token', 'orion_v_', 'orion_s_')) AS session_prefix;
SELECT orion.verify_email('orion_v_' || repeat('A', 43)) AS unknown;
SELECT orion.verify_email('') AS empty;
SELECT orion.verify_email(repeat('orion_v_', 100000)) AS huge;

--
-- Login with orion.require_verified_email
--
SELECT count(*) AS xena_logs_in FROM orion.login('xena@example.com', 'correct horse battery staple');
SET orion.require_verified_email = on;
SELECT count(*) AS unverified_refused FROM orion.login('xena@example.com', 'correct horse battery staple');
SELECT new_data->>'reason' AS reason FROM orion_auth.audit_logs
 WHERE action = 'auth.login_failed' AND user_id = :'xena' ORDER BY created_at DESC LIMIT 1;
-- not a failure towards the lockout: the password was right
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'xena';
-- a wrong password still counts
SELECT count(*) FROM orion.login('xena@example.com', 'wrong horse battery staple');
SELECT failed_login_count FROM orion_auth.users WHERE id = :'xena';
-- verified accounts log in
SELECT count(*) AS verified_logs_in FROM orion.login('vera@example.com', 'correct horse battery staple');
RESET orion.require_verified_email;

--
-- Maintenance removes expired, used and revoked tokens, and nothing live
--
SELECT orion.request_email_verification(:'xena') AS xena_live \gset
SELECT count(*) AS tokens, count(*) FILTER (WHERE expires_at > now()) AS live
  FROM orion_auth.one_time_tokens;
SELECT one_time_tokens FROM orion.maintenance_backlog();
SELECT one_time_tokens FROM orion.run_maintenance();
SELECT one_time_tokens_removed FROM orion.maintenance_state;
SELECT count(*) AS tokens_left, bool_and(user_id = :'xena' AND expires_at > now()) AS only_the_live_one
  FROM orion_auth.one_time_tokens;
SELECT orion.verify_email(:'xena_live') = :'xena' AS still_works;

--
-- Refused input
--
SELECT orion.request_email_verification(NULL);
SELECT orion.request_email_verification('00000000-0000-4000-8000-000000000000');
SELECT orion.verify_email(NULL);
-- (by SQLSTATE: how the range is worded differs between versions)
\set VERBOSITY sqlstate
SET orion.email_verification_ttl = '59s';
SET orion.email_verification_ttl = 'soon';
\set VERBOSITY default
-- the token table takes digests only (the rows are not shown: their ids and
-- times differ from run to run)
\set VERBOSITY terse
INSERT INTO orion_auth.one_time_tokens (user_id, purpose, token, email, expires_at)
VALUES (:'xena', 'email_verification', :'xena_live', 'xena@example.com', now() + interval '1 hour');
INSERT INTO orion_auth.one_time_tokens (user_id, purpose, token, email, expires_at)
VALUES (:'xena', 'unlock_everything', repeat('a', 64), 'xena@example.com', now() + interval '1 hour');
\set VERBOSITY default

--
-- Privileges: the auth service's, as the other account functions
--
SET ROLE orion_user_service;
SELECT orion.request_email_verification(:'xena');
SELECT orion.verify_email(:'xena_live');
SELECT count(*) FROM orion_auth.one_time_tokens;
RESET ROLE;
SELECT orion.register_user('yuri@example.com', 'correct horse battery staple') AS yuri \gset
SET ROLE orion_auth_service;
SELECT orion.request_email_verification(:'yuri') AS yuri_token \gset
SELECT orion.verify_email(:'yuri_token') = :'yuri' AS auth_service_may;
RESET ROLE;

-- no token handed out above is stored anywhere as itself
CREATE TEMP TABLE handed_out (token text);
INSERT INTO handed_out VALUES (:'token1'), (:'token2'), (:'walt_old'), (:'walt_new'),
    (:'xena_token'), (:'xena_live'), (:'yuri_token');
\i sql/include/search_tokens.sql

--
-- orion.verification_notify: the request also queues an email notification
-- with the token in its metadata, written as the owner of the notifications
-- table (the auth service itself may not write notifications)
--
SELECT orion.register_user('zoe@example.com', 'correct horse battery staple') AS zoe \gset
SET orion.verification_notify = on;
SET ROLE orion_auth_service;
SELECT orion.request_email_verification(:'zoe') AS zoe_token \gset
INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message)
VALUES (:'zoe', 'email_verification', 'email', 'forged', 'forged');
RESET ROLE;
RESET orion.verification_notify;
SELECT type, channel, title, message, status, metadata->>'purpose' AS purpose,
       metadata->>'email' AS email, metadata->>'token' = :'zoe_token' AS carries_the_token,
       (metadata->>'expires_at')::timestamptz = t.expires_at AS until
  FROM orion_notifications.notifications n JOIN orion_auth.one_time_tokens t ON t.user_id = n.user_id
 WHERE n.user_id = :'zoe';
SELECT orion.verify_email(:'zoe_token') = :'zoe' AS the_mailed_token_works;
-- off (the default), nothing is queued
SELECT orion.register_user('amy@example.com', 'correct horse battery staple') AS amy \gset
SELECT orion.request_email_verification(:'amy') IS NOT NULL AS issued;
SELECT count(*) AS queued_for_amy FROM orion_notifications.notifications WHERE user_id = :'amy';

-- deleting a user deletes their tokens
DELETE FROM orion_auth.users WHERE id IN (:'vera', :'walt', :'xena', :'yuri', :'zoe', :'amy');
SELECT count(*) AS notifications_left FROM orion_notifications.notifications WHERE type = 'email_verification';
SELECT count(*) AS tokens_left FROM orion_auth.one_time_tokens;
