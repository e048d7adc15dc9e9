--
-- The audit log: orion.audit() and the per-request settings that fill in
-- actor, IP address and user agent.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

SELECT orion.register_user('linus@example.com', 'correct horse battery staple') AS linus \gset

-- an entry with everything passed
SELECT orion.audit('flag.updated', 'feature_flag', 'new-checkout',
                   '{"enabled": false}', '{"enabled": true}',
                   :'linus', '198.51.100.23', 'admin-ui/2.1') AS id \gset
SELECT user_id = :'linus' AS actor, action, resource, resource_id, old_data, new_data,
       ip_address, user_agent
  FROM orion_auth.audit_logs WHERE id = :'id';

-- actor, IP address and user agent from the request settings
BEGIN;
SET LOCAL orion.actor_id = :'linus';
SET LOCAL orion.client_ip = '2001:db8::42';
SET LOCAL orion.client_user_agent = 'Mozilla/5.0 (X11; Linux x86_64)';
SELECT orion.audit('user.exported', 'user', :'linus') AS id \gset
COMMIT;
SELECT user_id = :'linus' AS actor, action, ip_address, user_agent
  FROM orion_auth.audit_logs WHERE id = :'id';
-- and the settings are gone with the transaction
SELECT orion.audit('user.viewed', 'user') AS id \gset
SELECT user_id, ip_address, user_agent FROM orion_auth.audit_logs WHERE id = :'id';
-- arguments win over settings
BEGIN;
SET LOCAL orion.client_ip = '192.0.2.1';
SELECT orion.audit('user.viewed', 'user', NULL, NULL, NULL, NULL, '192.0.2.99') AS id \gset
COMMIT;
SELECT ip_address FROM orion_auth.audit_logs WHERE id = :'id';

-- secrets never reach the log, even when a caller passes them
SELECT orion.audit('user.updated', 'user', :'linus',
                   '{"email": "old@example.com", "password_hash": "$argon2id$...", "password": "hunter2"}',
                   '{"email": "new@example.com", "token": "orion_s_x", "refresh_token": "orion_r_y", "accessToken": "z"}') AS id \gset
SELECT old_data, new_data FROM orion_auth.audit_logs WHERE id = :'id';
-- nested or non-object data is kept as given
SELECT orion.audit('batch.imported', 'user', NULL, NULL, '[1, 2, 3]') AS id \gset
SELECT new_data FROM orion_auth.audit_logs WHERE id = :'id';

-- a role change is audited however it is made: here by the user service,
-- through its view, with the actor from the request settings
CREATE ROLE regress_profiles_app IN ROLE orion_user_service;
SET ROLE regress_profiles_app;
BEGIN;
SET LOCAL orion.actor_id = :'linus';
UPDATE orion_user.users SET role = 'admin' WHERE id = :'linus';
UPDATE orion_user.users SET first_name = 'Linus' WHERE id = :'linus';
COMMIT;
RESET ROLE;
DROP ROLE regress_profiles_app;
SELECT user_id = :'linus' AS actor, action, resource_id = :'linus' AS about_linus, old_data, new_data
  FROM orion_auth.audit_logs WHERE action = 'user.role_changed';

-- refused
SELECT orion.audit(NULL, 'user');
SELECT orion.audit('user.viewed', NULL);
SELECT orion.audit('', 'user');
SELECT orion.audit('user.viewed', 'user', ip_address => 'localhost');
SELECT orion.audit(repeat('a', 101), 'user');
SELECT orion.audit('user.viewed', 'user', actor_id => '00000000-0000-0000-0000-000000000000');
SET orion.actor_id = 'linus';
SET orion.actor_id = '00000000-0000-0000-0000-00000000000';
SET orion.client_ip = 'example.com';
SET orion.client_ip = '1.2.3.4</script>';
SELECT set_config('orion.client_user_agent', repeat('x', 1025), false);
-- what anyone may set, and what only superusers may
SELECT name, context FROM pg_settings WHERE name LIKE 'orion.%' ORDER BY name;
SET ROLE orion_user_service;
SET orion.client_ip = '203.0.113.1';
SET orion.access_token_ttl = '1y';
SELECT orion.audit('user.viewed', 'user');
RESET ROLE;
RESET orion.client_ip;

DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
