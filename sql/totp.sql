--
-- TOTP two-factor authentication: the RFCs' known answers; enrollment,
-- confirmation, sign-in in two steps (login and sign-in links), a code
-- accepted once, recovery codes, wrong codes towards the lockout, secrets
-- sealed and bound to their user, disabling; refused input.
--
-- Codes depend on the time: every one used here is made with
-- orion.totp_code at the statement's time, and the tests that lean on the
-- edge of the window first wait until the current 30-second step has more
-- than 5 seconds left.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;
SET orion.email_request_min_duration = 0;
SET orion.max_failed_logins = 5;

--
-- RFC 4226 Appendix D: HOTP of the secret "12345678901234567890" (ASCII,
-- base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ), counters 0 to 9
--
SELECT c AS counter, orion.hotp_code('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', c) AS hotp
  FROM generate_series(0, 9) c;

-- RFC 6238 Appendix B, the SHA-1 rows (8 digits)
SELECT t AS unix_time, orion.totp_code('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', to_timestamp(t), 8) AS totp
  FROM unnest(ARRAY[59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000]) t;

-- a secret is read as an app reads a typed one: either case, spaces, padding
SELECT orion.totp_code('gezdgnbvgy3tqojqgezdgnbvgy3tqojq', to_timestamp(59), 8) AS lower_case,
       orion.totp_code('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ', to_timestamp(59), 8) AS spaced,
       orion.hotp_code('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1, 6) AS six_digits,
       orion.hotp_code('MFRGGZDFMZTWQ2LK', 0) AS ten_byte_secret,
       orion.hotp_code('MFRGGZDFMZTWQ2LKNM======', 0) AS padded;

-- refused input
SELECT orion.hotp_code(NULL, 0);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJQ', NULL);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJQ', -1);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJQ', 0, 5);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJQ', 0, 9);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJQ', 0, NULL);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJ1', 0);
SELECT orion.hotp_code('GEZDGNBVGY3TQOJ', 0);
SELECT orion.hotp_code('GEZDGNBV', 0);
SELECT orion.hotp_code('GEZD=GNBVGY3TQOJQ', 0);
SELECT orion.hotp_code(repeat('A', 300), 0);
SELECT orion.totp_code('GEZDGNBVGY3TQOJQ', NULL);
SELECT orion.totp_code('GEZDGNBVGY3TQOJQ', 'infinity');
SELECT orion.totp_code('GEZDGNBVGY3TQOJQ', '1969-12-31 23:59:59+00');

--
-- Enrollment: a secret, an otpauth:// URI; nothing changes at sign-in until
-- it is confirmed
--
SELECT orion.register_user('Ada@Example.com', 'correct horse battery staple', 'Ada') AS ada \gset
SELECT orion.register_user('bo@example.com', 'correct horse battery staple', 'Bo') AS bo \gset
SELECT * FROM orion.enroll_totp(:'ada') \gset
SELECT :'secret' ~ '^[A-Z2-7]{32}$' AS secret_is_160_bit_base32,
       replace(:'uri', :'secret', 'SECRET') AS uri;
SELECT octet_length(secret) AS sealed_bytes, get_byte(secret, 0) AS version,
       confirmed_at IS NULL AS pending, last_used_step IS NULL AS no_step_yet
  FROM orion_auth.totp_factors WHERE user_id = :'ada';
SELECT access_token IS NOT NULL AS pending_signs_in_alone, mfa_challenge IS NULL AS no_challenge
  FROM orion.login('ada@example.com', 'correct horse battery staple');
-- a new enrollment replaces a pending one
SELECT secret AS old_secret FROM orion.enroll_totp(:'ada') \gset
SELECT * FROM orion.enroll_totp(:'ada') \gset
SELECT orion.confirm_totp(:'ada', orion.totp_code(:'old_secret')) AS old_secret_confirms;

-- confirm: a wrong code is NULL (still pending); a right one activates it
-- and hands out the ten recovery codes, once
SELECT orion.confirm_totp(:'ada', CASE orion.totp_code(:'secret') WHEN '000000' THEN '111111' ELSE '000000' END) AS wrong_code;
SELECT confirmed_at IS NULL AS still_pending FROM orion_auth.totp_factors WHERE user_id = :'ada';
SELECT orion.confirm_totp(:'ada', orion.totp_code(:'secret')) AS recovery \gset
SELECT cardinality(:'recovery'::text[]) AS recovery_codes,
       (SELECT bool_and(c ~ '^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$') FROM unnest(:'recovery'::text[]) c) AS code_form,
       (SELECT count(DISTINCT c) FROM unnest(:'recovery'::text[]) c) AS distinct_codes;
SELECT count(*) AS stored, bool_and(code ~ '^[0-9a-f]{64}$') AS as_sha256,
       count(*) FILTER (WHERE code IN (SELECT encode(sha256(convert_to(replace(c, '-', ''), 'UTF8')), 'hex')
                                          FROM unnest(:'recovery'::text[]) c)) AS digests_of_the_codes
  FROM orion_auth.recovery_codes WHERE user_id = :'ada';
SELECT confirmed_at IS NOT NULL AS active, last_used_step IS NOT NULL AS confirming_code_used
  FROM orion_auth.totp_factors WHERE user_id = :'ada';
SELECT action FROM orion_auth.audit_logs WHERE user_id = :'ada' AND action LIKE 'auth.totp%' ORDER BY created_at, action;

-- active: enrolling again or confirming again is refused (55000; the
-- message names the user, whose id differs from run to run)
\set VERBOSITY sqlstate
SELECT * FROM orion.enroll_totp(:'ada');
SELECT orion.confirm_totp(:'ada', '123456');
\set VERBOSITY default
-- the confirming code does not sign in afterwards (it is used)
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT count(*) AS confirming_code_replayed FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret'));
SELECT failed_login_count AS a_replay_is_a_failure FROM orion_auth.users WHERE id = :'ada';
UPDATE orion_auth.users SET failed_login_count = 0 WHERE id = :'ada';

--
-- Sign-in in two steps
--
SELECT pg_sleep(CASE WHEN extract(epoch FROM clock_timestamp())::numeric % 30 > 25
                     THEN 30.2 - extract(epoch FROM clock_timestamp())::numeric % 30 ELSE 0 END) AS waited_for_a_fresh_step \gset
SELECT user_id = :'ada' AS is_ada, session_id IS NULL AS no_session, access_token IS NULL AS no_access,
       refresh_token IS NULL AS no_refresh, mfa_challenge ~ '^orion_c_[A-Za-z0-9_-]{43}$' AS challenge_form
  FROM orion.login('ada@example.com', 'correct horse battery staple');
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT purpose, expires_at - created_at = interval '5 minutes' AS lives_5_minutes,
       token = encode(sha256(convert_to(:'challenge', 'UTF8')), 'hex') AS digest_stored
  FROM orion_auth.one_time_tokens WHERE user_id = :'ada' AND purpose = 'mfa_challenge' AND revoked_at IS NULL;
SELECT count(*) AS older_challenges_revoked FROM orion_auth.one_time_tokens
 WHERE user_id = :'ada' AND purpose = 'mfa_challenge' AND revoked_at IS NOT NULL;

-- a wrong code: no row, a failure towards the lockout; the challenge stays
SELECT count(*) AS wrong_code FROM orion.verify_totp(:'challenge',
    CASE orion.totp_code(:'secret') WHEN '000000' THEN '111111' ELSE '000000' END);
SELECT failed_login_count FROM orion_auth.users WHERE id = :'ada';
-- the right password does not clear it while the code is due
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT failed_login_count AS after_password FROM orion_auth.users WHERE id = :'ada';
-- a code from two steps ago, or two ahead, is outside the window (skew 1)
SELECT count(*) AS two_steps_ago FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret', now() - interval '60 s'));
SELECT failed_login_count FROM orion_auth.users WHERE id = :'ada';
UPDATE orion_auth.users SET failed_login_count = 0 WHERE id = :'ada';
-- the next step's code (the app's clock a little ahead; the current step
-- may be the confirming code's), typed with a space: the tokens, and the
-- count cleared
SELECT user_id = :'ada' AS is_ada, session_id IS NOT NULL AS has_session,
       access_token ~ '^orion_s_' AS access, refresh_token ~ '^orion_r_' AS refresh, mfa_challenge IS NULL AS no_challenge
  FROM orion.verify_totp(:'challenge', overlay(orion.totp_code(:'secret', now() + interval '30 s') placing ' ' from 4 for 0),
                         '192.0.2.9', 'Phone') \gset
\echo :is_ada :has_session :access :refresh :no_challenge
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'ada';
SELECT s.ip_address, s.user_agent FROM orion_auth.sessions s WHERE s.user_id = :'ada' AND s.revoked_at IS NULL
 ORDER BY s.ip_address NULLS FIRST;
SELECT new_data FROM orion_auth.audit_logs WHERE user_id = :'ada' AND action = 'auth.login' ORDER BY created_at DESC LIMIT 1;
-- the challenge is used; the same code on a new challenge is a replay
SELECT count(*) AS challenge_reused FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret'));
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT count(*) AS code_replayed FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret', now() + interval '30 s'));
-- and a code of an earlier step than the last one accepted
SELECT count(*) AS current_step_after_next FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret'));
UPDATE orion_auth.users SET failed_login_count = 0 WHERE id = :'ada';

--
-- Recovery codes: each once, in any case, with or without hyphens
--
SELECT count(*) AS recovery_code FROM orion.verify_totp(:'challenge', upper((:'recovery'::text[])[1]));
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT count(*) AS recovery_code_again FROM orion.verify_totp(:'challenge', (:'recovery'::text[])[1]);
SELECT count(*) AS second_code_no_hyphens FROM orion.verify_totp(:'challenge', replace((:'recovery'::text[])[2], '-', ''));
SELECT new_data FROM orion_auth.audit_logs WHERE user_id = :'ada' AND action = 'auth.recovery_code_used' ORDER BY created_at;
SELECT count(*) FILTER (WHERE used_at IS NULL) AS unused, count(used_at) AS used
  FROM orion_auth.recovery_codes WHERE user_id = :'ada';
-- new codes replace the old
SELECT orion.regenerate_recovery_codes(:'ada') AS recovery \gset
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT count(*) AS an_old_code FROM orion.verify_totp(:'challenge', 'aaaa-aaaa-aaaa-aaaa');
SELECT count(*) AS a_new_code FROM orion.verify_totp(:'challenge', (:'recovery'::text[])[10]);
SELECT count(*) AS codes_now, count(used_at) AS used FROM orion_auth.recovery_codes WHERE user_id = :'ada';
UPDATE orion_auth.users SET failed_login_count = 0 WHERE id = :'ada';

--
-- Wrong codes lock the account (orion.max_failed_logins, 3 here); then
-- not even the right code passes
--
SET orion.max_failed_logins = 3;
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
\set wrong_code 'CASE orion.totp_code(:''secret'') WHEN ''000000'' THEN ''111111'' ELSE ''000000'' END'
SELECT count(*) AS wrong_1 FROM orion.verify_totp(:'challenge', :wrong_code);
SELECT count(*) AS wrong_2 FROM orion.verify_totp(:'challenge', :wrong_code);
SELECT count(*) AS wrong_3 FROM orion.verify_totp(:'challenge', :wrong_code);
SELECT failed_login_count, locked_until > now() AS locked FROM orion_auth.users WHERE id = :'ada';
SELECT count(*) AS right_code_while_locked FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret'));
SELECT new_data->>'reason' AS reason, count(*) FROM orion_auth.audit_logs
 WHERE user_id = :'ada' AND action = 'auth.login_failed' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS account_locked_entries FROM orion_auth.audit_logs WHERE user_id = :'ada' AND action = 'auth.account_locked';
UPDATE orion_auth.users SET failed_login_count = 0, locked_until = NULL WHERE id = :'ada';
RESET orion.max_failed_logins;

--
-- A sign-in link asks for the code too
--
SELECT orion.request_sign_in_link('ada@example.com') AS link \gset
SELECT access_token IS NULL AS no_access, mfa_challenge IS NOT NULL AS challenge
  FROM orion.sign_in_with_link(:'link') \gset
\echo :no_access :challenge
SELECT new_data->>'method' AS method FROM orion_auth.audit_logs
 WHERE user_id = :'ada' AND action = 'auth.mfa_challenge' ORDER BY created_at DESC LIMIT 1;

--
-- Ending every session ends the sign-ins waiting for a code too
--
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT orion.revoke_all_sessions(:'ada') >= 0 AS revoked;
SELECT count(*) AS challenge_after_revoke_all FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret', now() + interval '30 s'));

--
-- The sealed secret is bound to its user: copied to another row it does
-- not open
--
SELECT * FROM orion.enroll_totp(:'bo') \gset bo_
UPDATE orion_auth.totp_factors SET secret = (SELECT secret FROM orion_auth.totp_factors WHERE user_id = :'ada')
 WHERE user_id = :'bo';
SELECT orion.confirm_totp(:'bo', '123456');
-- a plain secret does not fit the column, nor a sealed one of another version
\set VERBOSITY terse
UPDATE orion_auth.totp_factors SET secret = decode(repeat('ab', 20), 'hex') WHERE user_id = :'bo';
UPDATE orion_auth.totp_factors SET secret = set_byte(secret, 0, 2) WHERE user_id = :'bo';
\set VERBOSITY default
-- a changed byte does not authenticate
UPDATE orion_auth.totp_factors SET secret = set_byte(secret, 40, get_byte(secret, 40) # 1) WHERE user_id = :'ada';
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT count(*) FROM orion.verify_totp(:'challenge', orion.totp_code(:'secret'));
SELECT orion.disable_totp(:'bo') AS bo_was_active;
-- a skew of 0 takes the current step only
SELECT * FROM orion.enroll_totp(:'bo') \gset bo_
SELECT cardinality(orion.confirm_totp(:'bo', orion.totp_code(:'bo_secret'))) AS bo_active;
SET orion.totp_skew = 0;
SELECT pg_sleep(CASE WHEN extract(epoch FROM clock_timestamp())::numeric % 30 > 25
                     THEN 30.2 - extract(epoch FROM clock_timestamp())::numeric % 30 ELSE 0 END) AS waited_for_a_fresh_step \gset
SELECT mfa_challenge AS challenge FROM orion.login('bo@example.com', 'correct horse battery staple') \gset
SELECT count(*) AS next_step_skew_0 FROM orion.verify_totp(:'challenge', orion.totp_code(:'bo_secret', now() + interval '30 s'));
RESET orion.totp_skew;
UPDATE orion_auth.users SET failed_login_count = 0 WHERE id = :'bo';

--
-- Disabling: sign-in is one step again; pending challenges end
--
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT orion.disable_totp(:'ada') AS was_active;
SELECT orion.disable_totp(:'ada') AS again;
SELECT count(*) AS factors, (SELECT count(*) FROM orion_auth.recovery_codes WHERE user_id = :'ada') AS codes
  FROM orion_auth.totp_factors WHERE user_id = :'ada';
SELECT count(*) AS challenge_after_disable FROM orion.verify_totp(:'challenge', (:'recovery'::text[])[1]);
SELECT access_token IS NOT NULL AS signs_in_alone FROM orion.login('ada@example.com', 'correct horse battery staple');
\set VERBOSITY sqlstate
SELECT orion.regenerate_recovery_codes(:'ada');
SELECT orion.confirm_totp(:'ada', '123456');
\set VERBOSITY default

--
-- Refused input
--
SELECT * FROM orion.enroll_totp(NULL);
SELECT * FROM orion.enroll_totp('00000000-0000-0000-0000-000000000000');
SELECT orion.confirm_totp('00000000-0000-0000-0000-000000000000', '123456');
SELECT orion.confirm_totp(:'bo', NULL);
SELECT orion.confirm_totp(NULL, '123456');
SELECT orion.confirm_totp(:'bo', '12345');
SELECT orion.confirm_totp(:'bo', '1234567');
SELECT orion.confirm_totp(:'bo', 'abcdef');
SELECT orion.confirm_totp(:'bo', (:'recovery'::text[])[1]);
SELECT orion.confirm_totp(:'bo', repeat('1', 65));
SELECT orion.disable_totp(NULL);
SELECT orion.disable_totp('00000000-0000-0000-0000-000000000000');
SELECT orion.regenerate_recovery_codes(NULL);
SELECT * FROM orion.verify_totp(NULL, '123456');
SELECT * FROM orion.verify_totp('orion_c_x', NULL);
SELECT * FROM orion.verify_totp('orion_c_x', '12 34');
SELECT * FROM orion.verify_totp('orion_c_x', 'aaaa-aaaa-aaaa-aaa1');
SELECT * FROM orion.verify_totp('orion_c_x', 'aaaa-aaaa-aaaa-aaaa-a');
-- a challenge that is not one is no row, not an error
SELECT count(*) AS not_a_challenge FROM orion.verify_totp('orion_c_x', '123456');
SELECT count(*) AS a_link_token FROM orion.verify_totp(orion.request_sign_in_link('bo@example.com'), '123456');
SELECT orion.reseal_secrets() AS resealed_with_the_one_key;

--
-- Deleting a user deletes their factor and codes
--
DELETE FROM orion_auth.users WHERE id = :'bo';
SELECT count(*) AS bo_left FROM orion_auth.totp_factors WHERE user_id = :'bo';

--
-- Privileges: the auth service, as the other auth functions; the code
-- functions are public; reseal_secrets is the owner's
--
SET ROLE orion_auth_service;
SELECT * FROM orion.enroll_totp(:'ada') \gset
SELECT orion.confirm_totp(:'ada', orion.totp_code(:'secret')) AS recovery \gset
SELECT cardinality(:'recovery'::text[]) AS confirmed_as_auth_service;
SELECT mfa_challenge AS challenge FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT access_token, refresh_token FROM orion.verify_totp(:'challenge', (:'recovery'::text[])[3]) \gset
SELECT orion.reseal_secrets();
RESET ROLE;
SET ROLE orion_user_service;
SELECT * FROM orion.enroll_totp(:'ada');
SELECT * FROM orion.verify_totp('orion_c_x', '123456');
SELECT orion.totp_code('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', to_timestamp(59)) AS anyone_computes_codes;
RESET ROLE;

--
-- No secret, code or challenge is stored anywhere: every text, JSON and
-- bytea column of every orion table is searched for them (the secret as
-- base32 and as its 20 raw bytes, the recovery codes with and without
-- hyphens)
--
CREATE FUNCTION pg_temp.base32_decode(s text) RETURNS bytea LANGUAGE sql AS $$
    SELECT decode(string_agg(lpad(to_hex(substr(bits, 8 * i + 1, 8)::bit(8)::integer), 2, '0'), '' ORDER BY i), 'hex')
      FROM (SELECT string_agg((strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', c) - 1)::bit(5)::text, '' ORDER BY o) AS bits
              FROM regexp_split_to_table(s, '') WITH ORDINALITY AS t(c, o)) b,
           generate_series(0, length(bits) / 8 - 1) i
$$;
SELECT pg_temp.base32_decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ') = '12345678901234567890'::bytea AS decoder_works;
CREATE TEMP TABLE handed_out (token text);
INSERT INTO handed_out VALUES (:'secret'), (:'challenge'), (:'access_token'), (:'refresh_token');
INSERT INTO handed_out SELECT c FROM unnest(:'recovery'::text[]) c;
INSERT INTO handed_out SELECT replace(c, '-', '') FROM unnest(:'recovery'::text[]) c;
CREATE TEMP TABLE handed_out_bytes AS SELECT pg_temp.base32_decode(:'secret') AS raw;
SELECT octet_length(raw) AS raw_secret_bytes FROM handed_out_bytes;
\i sql/include/search_tokens.sql
