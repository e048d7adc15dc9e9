--
-- Registration and login: accounts, failure counting, lockout, and the
-- transparent upgrade of old password hashes.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

-- cheaper hashes for this file; password.sql covers the default cost
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

--
-- Registration
--
SELECT orion.register_user('Ada@Example.com', 'correct horse battery staple', 'Ada', 'Lovelace') AS ada \gset
SELECT email, first_name, last_name, role, email_verified, failed_login_count, locked_until,
       password_hash ~ '^\$argon2id\$v=19\$m=1024,t=1,p=1\$' AS argon2id_hash
  FROM orion_auth.users WHERE id = :'ada';
SELECT action, resource, resource_id = :'ada' AS about_ada, new_data
  FROM orion_auth.audit_logs WHERE action = 'user.registered';
-- one account per mailbox, whatever the letter case
SELECT orion.register_user('ada@example.COM', 'another password');
-- what cannot be registered
SELECT orion.register_user(NULL, 'correct horse');
SELECT orion.register_user('bob@example.com', NULL);
SELECT orion.register_user('', 'correct horse');
SELECT orion.register_user('bob.example.com', 'correct horse');
SELECT orion.register_user('bob@@example.com', 'correct horse');
SELECT orion.register_user('@example.com', 'correct horse');
SELECT orion.register_user('bob@localhost', 'correct horse');
SELECT orion.register_user('bob @example.com', 'correct horse');
SELECT orion.register_user('bob@example.com.', 'correct horse');
SELECT orion.register_user('"bob"@example.com', 'correct horse');
SELECT orion.register_user(E'bob\n@example.com', 'correct horse');
SELECT orion.register_user(repeat('b', 65) || '@example.com', 'correct horse');
SELECT orion.register_user('b@' || repeat('e', 250) || '.com', 'correct horse');
SELECT orion.register_user('bob@example.com', 'short');
SELECT orion.register_user('bob@example.com', 'correct horse', repeat('x', 101));
SELECT orion.register_user('bob@example.com', 'correct horse', role => repeat('r', 51));
SELECT count(*) AS accounts FROM orion_auth.users;

--
-- Login
--
BEGIN;
SELECT count(*) AS rows,
       bool_and(user_id = :'ada') AS ada,
       bool_and(access_token ~ '^orion_s_[A-Za-z0-9_-]{43}$') AS access_token_format,
       bool_and(refresh_token ~ '^orion_r_[A-Za-z0-9_-]{43}$') AS refresh_token_format,
       bool_and(access_expires_at = now() + interval '15 minutes') AS access_ttl,
       bool_and(refresh_expires_at = now() + interval '7 days') AS refresh_ttl
  FROM orion.login('ADA@example.com', 'correct horse battery staple', '203.0.113.7', 'regress/1.0');
SELECT last_login_at = now() AS last_login_now FROM orion_auth.users WHERE id = :'ada';
SELECT ip_address, user_agent, expires_at = now() + interval '15 minutes' AS expires
  FROM orion_auth.sessions WHERE user_id = :'ada';
COMMIT;

-- the token lifetimes come from the settings
SET orion.access_token_ttl = '5min';
SET orion.refresh_token_ttl = '1d';
BEGIN;
SELECT access_expires_at = now() + interval '5 minutes' AS access_ttl,
       refresh_expires_at = now() + interval '1 day' AS refresh_ttl
  FROM orion.login('ada@example.com', 'correct horse battery staple');
COMMIT;
RESET orion.access_token_ttl;
RESET orion.refresh_token_ttl;

-- IP address and user agent from the request settings when not passed
BEGIN;
SET LOCAL orion.client_ip = '2001:db8::1';
SET LOCAL orion.client_user_agent = 'Mozilla/5.0 (regress)';
SELECT session_id FROM orion.login('ada@example.com', 'correct horse battery staple') \gset
SELECT ip_address, user_agent FROM orion_auth.sessions WHERE id = :'session_id';
COMMIT;

--
-- Failures: no row, whatever the reason, and each one recorded
--
SET orion.max_failed_logins = 3;
SET orion.lockout_duration = '1h';
SELECT count(*) AS wrong_password FROM orion.login('ada@example.com', 'wrong horse battery staple');
SELECT count(*) AS unknown_email FROM orion.login('nobody@example.com', 'correct horse battery staple');
SELECT count(*) AS not_an_email FROM orion.login('not an email', 'correct horse battery staple');
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'ada';
-- a success resets the count
SELECT count(*) AS success FROM orion.login('ada@example.com', 'correct horse battery staple');
SELECT failed_login_count FROM orion_auth.users WHERE id = :'ada';
-- three failures in a row lock the account for orion.lockout_duration
SELECT count(*) AS failure_1 FROM orion.login('ada@example.com', 'wrong 1');
SELECT count(*) AS failure_2 FROM orion.login('ada@example.com', 'wrong 2');
SELECT count(*) AS failure_3 FROM orion.login('ada@example.com', 'wrong 3');
SELECT failed_login_count, locked_until BETWEEN now() + interval '59 minutes' AND now() + interval '1 hour' AS locked_for_an_hour
  FROM orion_auth.users WHERE id = :'ada';
-- locked: even the right password gets no row, and counts as a failure
SELECT count(*) AS locked_out FROM orion.login('ada@example.com', 'correct horse battery staple');
SELECT failed_login_count FROM orion_auth.users WHERE id = :'ada';
-- when the lock has run out, the right password works and clears it
UPDATE orion_auth.users SET locked_until = now() - interval '1 second' WHERE id = :'ada';
SELECT count(*) AS after_lockout FROM orion.login('ada@example.com', 'correct horse battery staple');
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'ada';
-- after an expired lock a failure starts a new count
UPDATE orion_auth.users SET failed_login_count = 7, locked_until = now() - interval '1 second' WHERE id = :'ada';
SELECT count(*) FROM orion.login('ada@example.com', 'wrong again');
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'ada';
-- orion.max_failed_logins = 0 never locks
SET orion.max_failed_logins = 0;
SELECT count(*) AS rows FROM generate_series(1, 5) AS g, LATERAL orion.login('ada@example.com', 'wrong ' || g);
SELECT failed_login_count, locked_until FROM orion_auth.users WHERE id = :'ada';
SELECT count(*) AS success FROM orion.login('ada@example.com', 'correct horse battery staple');
RESET orion.max_failed_logins;
RESET orion.lockout_duration;

-- the audit trail of all that: who, what, why; never a password
SELECT action, resource, user_id = :'ada' AS ada, new_data, count(*)
  FROM orion_auth.audit_logs
 WHERE action IN ('auth.login', 'auth.login_failed', 'auth.account_locked')
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4::text;
SELECT count(*) AS audit_rows_with_a_password
  FROM orion_auth.audit_logs
 WHERE concat_ws(' ', old_data, new_data) ~ '(horse|wrong |\$argon2|\$2[aby]\$)';

--
-- Old hashes are upgraded at the next successful login
--
INSERT INTO orion_auth.users (email, password_hash)
VALUES ('legacy@example.com', overlay(crypt('legacy password', gen_salt('bf', 4)) placing '$2b$' from 1 for 4));
SELECT count(*) AS wrong_password FROM orion.login('legacy@example.com', 'not the password');
SELECT left(password_hash, 7) AS still_bcrypt FROM orion_auth.users WHERE email = 'legacy@example.com';
SELECT count(*) AS bcrypt_login FROM orion.login('legacy@example.com', 'legacy password');
SELECT substring(password_hash from '^\$argon2id\$v=19\$[^$]+') AS rehashed_as
  FROM orion_auth.users WHERE email = 'legacy@example.com';
-- stronger settings upgrade weaker Argon2id hashes the same way
SET orion.argon2_iterations = 2;
SELECT count(*) AS argon2_login FROM orion.login('legacy@example.com', 'legacy password');
SELECT substring(password_hash from '^\$argon2id\$v=19\$[^$]+') AS rehashed_as
  FROM orion_auth.users WHERE email = 'legacy@example.com';
SELECT count(*) AS unchanged_login FROM orion.login('legacy@example.com', 'legacy password');
SELECT new_data->'rehashed' AS rehashed
  FROM orion_auth.audit_logs a JOIN orion_auth.users u ON u.id = a.user_id
 WHERE u.email = 'legacy@example.com' AND action = 'auth.login'
 ORDER BY a.created_at;
RESET orion.argon2_iterations;

--
-- Bad input is an error, not a failed login
--
SELECT * FROM orion.login(NULL, 'x');
SELECT * FROM orion.login('ada@example.com', NULL);
SELECT * FROM orion.login('ada@example.com', repeat('x', 1025));
SELECT * FROM orion.login('ada@example.com', 'x', 'not an address');
SELECT * FROM orion.login('ada@example.com', 'x', '203.0.113.7', repeat('x', 1025));
SET orion.client_ip = '10.0.0.1; DROP TABLE x';
SET orion.actor_id = 'ada';
SELECT set_config('orion.client_user_agent', repeat('x', 1025), false);
-- a stored hash orion cannot read is reported, not taken for a wrong password
INSERT INTO orion_auth.users (email, password_hash) VALUES ('broken@example.com', 'plaintext');
SELECT * FROM orion.login('broken@example.com', 'plaintext');

-- only the auth service may sign users in
SET ROLE orion_user_service;
SELECT * FROM orion.login('ada@example.com', 'correct horse battery staple');
SELECT orion.register_user('eve@example.com', 'correct horse battery staple');
RESET ROLE;
SET ROLE orion_auth_service;
SELECT count(*) AS auth_service_login FROM orion.login('ada@example.com', 'correct horse battery staple');
RESET ROLE;

DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
