-- test/demo.sql: the walkthrough that `make demo` runs in psql.
-- Each part says what it shows, then shows it. It grows with every capability.

\set ECHO none
\pset footer off
\pset null '(null)'

\echo
\echo '1. One command installs the whole data layer of the ORION platform.'
\echo '   pgcrypto, which orion needs to verify legacy bcrypt hashes, comes along (CASCADE).'
\echo
\echo '   CREATE EXTENSION orion CASCADE;'
SET client_min_messages = warning;
CREATE EXTENSION orion CASCADE;
RESET client_min_messages;
SELECT extname AS extension, extversion AS version FROM pg_extension
 WHERE extname IN ('orion', 'pgcrypto') ORDER BY 1;
SELECT orion.version() AS "library version";

\echo
\echo '2. The five service databases are now five schemas of one database, and the'
\echo '   API lives in a sixth, "orion":'
SELECT n.nspname AS schema, obj_description(n.oid, 'pg_namespace') AS holds
  FROM pg_namespace n WHERE n.nspname LIKE 'orion%' ORDER BY 1;

\echo
\echo '3. Their tables are the seed''s, column for column:'
SELECT c.relnamespace::regnamespace AS schema, c.relname AS "table",
       CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind,
       string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace::regnamespace::text LIKE 'orion\_%' AND c.relkind IN ('r', 'v')
 GROUP BY 1, 2, 3 ORDER BY 1, 2;

\echo
\echo '4. Each service has a role, as each service had its database. orion_admin'
\echo '   belongs to all five. An application''s login role is granted one of them.'
SELECT r.rolname AS role, r.rolcanlogin AS can_login,
       coalesce(string_agg(m.rolname, ', ' ORDER BY m.rolname), '') AS member_of
  FROM pg_roles r
  LEFT JOIN pg_auth_members am ON am.member = r.oid
  LEFT JOIN pg_roles m ON m.oid = am.roleid
 WHERE r.rolname LIKE 'orion\_%'
 GROUP BY 1, 2 ORDER BY 1;

\echo
\echo '   What each role may do, per the seed''s Database-Service Mapping'
\echo '   (S=SELECT I=INSERT U=UPDATE D=DELETE):'
SELECT r AS role,
       string_agg(t || ' ' || p, ', ' ORDER BY t) AS privileges
  FROM unnest(ARRAY['orion_auth_service', 'orion_user_service', 'orion_notifications_service',
                    'orion_feature_flags_service', 'orion_ab_testing_service']) AS r,
       LATERAL (
           SELECT t, string_agg(letter, '' ORDER BY o) AS p
             FROM unnest(ARRAY['orion_auth.users', 'orion_auth.sessions', 'orion_auth.refresh_tokens',
                               'orion_auth.audit_logs', 'orion_user.users',
                               'orion_notifications.notifications',
                               'orion_feature_flags.feature_flags', 'orion_ab_testing.ab_tests',
                               'orion_ab_testing.ab_test_assignments']) AS t,
                  unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], ARRAY['S', 'I', 'U', 'D'])
                      WITH ORDINALITY AS x(priv, letter, o)
            WHERE has_table_privilege(r, t, priv)
            GROUP BY t) AS granted
 GROUP BY r ORDER BY r;

\echo
\echo '5. The user service sees profiles, never password hashes. An application'
\echo '   that logs in as a member of orion_user_service:'
CREATE ROLE demo_profiles_app LOGIN IN ROLE orion_user_service;
INSERT INTO orion_auth.users (email, password_hash, first_name, last_name)
VALUES ('ada@example.com', '$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$ZGVtbw', 'Ada', 'Lovelace');
SET ROLE demo_profiles_app;
\echo
\echo '   SELECT email, first_name, last_name FROM orion_user.users;'
SELECT email, first_name, last_name FROM orion_user.users;
\echo '   SELECT password_hash FROM orion_auth.users;   -- refused:'
\set ON_ERROR_STOP off
SELECT password_hash FROM orion_auth.users;
\set ON_ERROR_STOP on
RESET ROLE;

\echo
\echo '6. An email is one account, whatever its case:'
\echo '   INSERT INTO orion_auth.users (email, password_hash) VALUES (''ADA@example.com'', ...);'
\set ON_ERROR_STOP off
INSERT INTO orion_auth.users (email, password_hash) VALUES ('ADA@example.com', 'x');
\set ON_ERROR_STOP on

\echo
\echo '7. Session and refresh tokens are stored as their SHA-256 only; a table'
\echo '   dump opens no session. A plaintext token does not even fit:'
\set ON_ERROR_STOP off
\set VERBOSITY terse
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT id, 'orion_s_this-is-a-token', now() + interval '15 minutes' FROM orion_auth.users;
\set VERBOSITY default
\set ON_ERROR_STOP on

\echo
\echo '8. pg_dump keeps the data: every table is registered with the extension.'
SELECT c::regclass AS "dumped with pg_dump"
  FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'orion' ORDER BY c::regclass::text;

\echo
\echo '9. The settings prefix orion. is reserved: a misspelt setting is an error,'
\echo '   not a silently ignored placeholder.'
\echo '   SET orion.acess_token_ttl = ''15min'';'
\set ON_ERROR_STOP off
SET orion.acess_token_ttl = '15min';
\set ON_ERROR_STOP on

DROP ROLE demo_profiles_app;
DELETE FROM orion_auth.users;

\echo
\echo '10. Passwords. New hashes are Argon2id (libargon2, OWASP''s minimum cost):'
SELECT orion.hash_password('correct horse battery staple') AS "orion.hash_password(...)";
\echo '    Hashes the original Node service stored (npm bcrypt, $2b$12$...) verify too;'
\echo '    pgcrypto''s crypt() alone silently computes a DES hash for $2b$:'
SELECT overlay(crypt('hunter2hunter2', gen_salt('bf', 10)) placing '$2b$' from 1 for 4) AS legacy \gset
SELECT :'legacy' AS "a $2b$ hash",
       orion.verify_password('hunter2hunter2', :'legacy') AS "orion verifies it",
       crypt('hunter2hunter2', :'legacy') = :'legacy' AS "pgcrypto alone";

\echo
\echo '11. An application signs users up and in as a member of orion_auth_service:'
CREATE ROLE demo_auth_app LOGIN IN ROLE orion_auth_service;
SET ROLE demo_auth_app;
\echo '    SELECT orion.register_user(''grace@example.com'', ''correct horse battery staple'', ''Grace'', ''Hopper'');'
SELECT orion.register_user('grace@example.com', 'correct horse battery staple', 'Grace', 'Hopper') AS grace \gset
\echo '    SELECT * FROM orion.login(''Grace@Example.com'', ''correct horse battery staple'', ''203.0.113.7'', ''demo'');'
SELECT * FROM orion.login('Grace@Example.com', 'correct horse battery staple', '203.0.113.7', 'demo') \gset
\x on
SELECT :'user_id' AS user_id, :'session_id' AS session_id,
       :'access_token' AS access_token, :'access_expires_at' AS access_expires_at,
       :'refresh_token' AS refresh_token, :'refresh_expires_at' AS refresh_expires_at;
\x off
\echo '    The tables hold only SHA-256 digests of those tokens:'
SELECT token AS "orion_auth.sessions.token" FROM orion_auth.sessions;

\echo
\echo '12. A wrong password, an unknown email: no row, no error, and the same time spent.'
SELECT count(*) AS "rows, wrong password" FROM orion.login('grace@example.com', 'wrong horse');
SELECT count(*) AS "rows, unknown email" FROM orion.login('nobody@example.com', 'wrong horse');
SELECT failed_login_count FROM orion_auth.users;

\echo
\echo '13. Every service validates access tokens (read-only; also on a hot standby):'
SELECT * FROM orion.validate_session(:'access_token');

\echo
\echo '14. Refresh rotates the refresh token, in the same session:'
SELECT session_id = :'session_id' AS same_session, access_token AS new_access_token,
       refresh_token AS new_refresh_token
  FROM orion.refresh_session(:'refresh_token') \gset
SELECT :'same_session' AS same_session, :'new_access_token' AS new_access_token;
\echo '    Presenting the old refresh token again after orion.refresh_reuse_interval'
\echo '    means it was copied: the whole session is revoked.'
RESET ROLE;
SET orion.refresh_reuse_interval = 0;
SET ROLE demo_auth_app;
SELECT count(*) AS "rows, reused refresh token" FROM orion.refresh_session(:'refresh_token');
SELECT count(*) AS "rows, validate new access token" FROM orion.validate_session(:'new_access_token');
RESET ROLE;
RESET orion.refresh_reuse_interval;

\echo
\echo '15. Logout ends a session and all its tokens:'
SET ROLE demo_auth_app;
SELECT access_token, refresh_token FROM orion.login('grace@example.com', 'correct horse battery staple') \gset
SELECT orion.logout(:'access_token') AS logged_out;
SELECT count(*) AS "rows, validate after logout" FROM orion.validate_session(:'access_token');
SELECT count(*) AS "rows, refresh after logout" FROM orion.refresh_session(:'refresh_token');
RESET ROLE;

\echo
\echo '16. Email verification: a one-time token (orion_v_) for the address, which the'
\echo '    application mails; used once, it marks the address verified. With'
\echo '    orion.require_verified_email on, login refuses unverified addresses.'
SET ROLE demo_auth_app;
SELECT orion.request_email_verification(:'grace') AS verification_token \gset
SELECT :'verification_token' AS "token to mail (only its SHA-256 is stored)";
SELECT orion.verify_email(:'verification_token') = :'grace' AS verified;
SELECT orion.verify_email(:'verification_token') AS "used again";
RESET ROLE;
SELECT email, email_verified FROM orion_auth.users;

\echo
\echo '17. Password reset: request_password_reset answers the same for every address,'
\echo '    a token or NULL, in the same time (orion.email_request_min_duration); the'
\echo '    application mails the token. Used once, it sets the new password, ends'
\echo '    every session and lifts a lockout.'
SET ROLE demo_auth_app;
SELECT access_token FROM orion.login('grace@example.com', 'correct horse battery staple') \gset
SELECT orion.request_password_reset('grace@example.com') AS reset_token \gset
SELECT :'reset_token' AS "reset token to mail", orion.request_password_reset('nobody@example.com') AS "for an unknown address";
SELECT orion.request_password_reset('grace@example.com') AS "asked again within orion.reset_request_interval";
SELECT orion.reset_password(:'reset_token', 'a fresh passphrase for grace') = :'grace' AS "password reset";
SELECT count(*) AS "rows, validate a session from before the reset" FROM orion.validate_session(:'access_token');
SELECT count(*) AS "rows, login with the new password" FROM orion.login('grace@example.com', 'a fresh passphrase for grace');
RESET ROLE;

\echo
\echo '18. Sign-in links: the same request, a token (orion_m_) that signs in once,'
\echo '    without a password, and returns what login returns.'
SET ROLE demo_auth_app;
SELECT orion.request_sign_in_link('grace@example.com') AS link_token \gset
SELECT user_id = :'grace' AS "signed in as grace", left(access_token, 8) || '...' AS access_token
  FROM orion.sign_in_with_link(:'link_token', '198.51.100.4', 'Mail client');
SELECT count(*) AS "rows, the same link again" FROM orion.sign_in_with_link(:'link_token');
RESET ROLE;

\echo
\echo '19. Two-factor authentication (TOTP, RFC 6238, as every authenticator app):'
\echo '    enroll_totp gives a secret and the otpauth:// URI to show as a QR code; the'
\echo '    secret is stored only sealed with the key in orion.secret_key_file.'
\echo '    confirm_totp with the app''s current code turns it on and hands out ten'
\echo '    recovery codes, once. Then login hands out a challenge instead of tokens,'
\echo '    and verify_totp(challenge, code) completes the sign-in. (orion.totp_code'
\echo '    stands in for the phone here.)'
SET ROLE demo_auth_app;
SELECT secret, uri FROM orion.enroll_totp(:'grace') \gset
SELECT :'uri' AS "otpauth URI for the QR code";
SELECT orion.confirm_totp(:'grace', orion.totp_code(:'secret')) AS recovery_codes \gset
SELECT :'recovery_codes' AS "ten recovery codes, shown once";
RESET ROLE;
SELECT octet_length(secret) AS "bytes stored: the 20-byte secret sealed (key id, nonce, AES-256-GCM, tag)",
       confirmed_at IS NOT NULL AS active
  FROM orion_auth.totp_factors;
SET ROLE demo_auth_app;
SELECT user_id = :'grace' AS "password right", access_token IS NULL AS "no tokens yet",
       left(mfa_challenge, 12) || '...' AS mfa_challenge
  FROM orion.login('grace@example.com', 'a fresh passphrase for grace');
SELECT mfa_challenge FROM orion.login('grace@example.com', 'a fresh passphrase for grace') \gset
SELECT count(*) AS "rows, a wrong code (counts towards the lockout)"
  FROM orion.verify_totp(:'mfa_challenge', CASE orion.totp_code(:'secret') WHEN '000000' THEN '111111' ELSE '000000' END);
SELECT user_id = :'grace' AS "signed in as grace", left(access_token, 8) || '...' AS access_token
  FROM orion.verify_totp(:'mfa_challenge', orion.totp_code(:'secret', now() + interval '30 s'), '198.51.100.4', 'Phone');
SELECT mfa_challenge FROM orion.login('grace@example.com', 'a fresh passphrase for grace') \gset
SELECT count(*) AS "rows, the same code again (a code works once)"
  FROM orion.verify_totp(:'mfa_challenge', orion.totp_code(:'secret', now() + interval '30 s'));
SELECT count(*) AS "rows, a recovery code instead" FROM orion.verify_totp(:'mfa_challenge', (:'recovery_codes'::text[])[1]);
SELECT orion.disable_totp(:'grace') AS "TOTP turned off";
RESET ROLE;

\echo
\echo '20. Signed access tokens (JWT), for gateways that check a request without the'
\echo '    database: a signing key (Ed25519, sealed like the TOTP secrets), then'
\echo '    orion.access_token_format = jwt. A gateway verifies with orion.jwks();'
\echo '    validate_session checks the session too, so a logout holds there at once.'
SELECT orion.rotate_signing_key() IS NOT NULL AS "signing key made";
SELECT k->>'alg' AS alg, k->>'kty' AS kty, k->>'crv' AS crv FROM jsonb_array_elements(orion.jwks()->'keys') k;
SET ROLE demo_auth_app;
SET orion.access_token_format = jwt;
SELECT access_token AS jwt FROM orion.login('grace@example.com', 'a fresh passphrase for grace') \gset
RESET orion.access_token_format;
SELECT left(:'jwt', 48) || '...' AS "a JWT access token";
SELECT orion.verify_jwt(:'jwt') - '{sub,sid,iat,exp,jti}'::text[] AS "its claims (sub, sid, iat, exp, jti left out)";
SELECT email, role FROM orion.validate_session(:'jwt');
SELECT orion.logout(:'jwt') AS "logged out";
SELECT count(*) AS "validate_session rows after the logout" FROM orion.validate_session(:'jwt');
SELECT orion.verify_jwt(:'jwt') IS NOT NULL AS "a gateway alone would accept it until exp",
       (SELECT count(*) FROM orion.revoked_sessions(now() - interval '1 minute')) AS "so it polls revoked_sessions";
RESET ROLE;

\echo
\echo '21. All of it is in the audit log (the auth service may append, not read):'
SELECT action, resource, new_data, ip_address, user_agent
  FROM orion_auth.audit_logs ORDER BY created_at, action;
DROP ROLE demo_auth_app;


\echo
\echo '22. Feature flags. The original admin UI''s form: 25% of users, stable per user.'
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('new-checkout', 'New checkout', true, '{"percentage": 25}'),
    ('norway-beta', 'Norway beta', true,
     '{"percentage": 100, "targeting": [{"attribute": "country", "operator": "equals", "value": "NO"}]}'),
    ('button-color', 'Button color', true,
     '{"percentage": 100, "variants": [{"key": "blue", "weight": 75, "value": "#0000ff"}, {"key": "red", "weight": 25, "value": "#ff0000"}]}');
CREATE TEMP TABLE demo_users AS SELECT gen_random_uuid() AS id FROM generate_series(1, 10000);
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT id, id || '@demo.example', '(demo user: no password)' FROM demo_users;
SELECT count(*) AS users,
       count(*) FILTER (WHERE orion.flag_enabled('new-checkout', id)) AS "got new-checkout",
       round(100.0 * count(*) FILTER (WHERE orion.flag_enabled('new-checkout', id)) / count(*), 1) AS percent
  FROM demo_users;

\echo
\echo '23. Targeting: only users whose context says country NO.'
SELECT c AS context, orion.flag_enabled('norway-beta', NULL, c) AS enabled
  FROM unnest(ARRAY['{"properties": {"country": "NO"}}', '{"properties": {"country": "SE"}}']::jsonb[]) AS c;

\echo
\echo '24. Variants split by weight, each user always in the same one:'
SELECT v->>'name' AS variant, v->'payload'->>'value' AS payload, count(*) AS users
  FROM demo_users, orion.flag_variant('button-color', id) AS v
 GROUP BY 1, 2 ORDER BY 1;

\echo
\echo '25. The same engine speaks Unleash: strategies, constraints, segments, variants,'
\echo '    dependencies, exactly as Unleash''s client API returns a toggle.'
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('mobile-v2', 'Mobile v2', true, '{"strategies": [{"name": "flexibleRollout",
        "parameters": {"rollout": "50", "stickiness": "default", "groupId": "mobile-v2"},
        "constraints": [{"contextName": "appVersion", "operator": "SEMVER_GTE", "value": "2.0.0"}]}]}');
SELECT ctx->'properties'->>'appVersion' AS "app version", ctx->>'userId' AS "user",
       e->>'enabled' AS enabled, e->>'reason' AS reason
  FROM unnest(ARRAY['{"userId": "7", "properties": {"appVersion": "2.1.0"}}',
                    '{"userId": "8", "properties": {"appVersion": "2.1.0"}}',
                    '{"userId": "7", "properties": {"appVersion": "1.9.9"}}']::jsonb[]) AS ctx,
       orion.evaluate_flag('mobile-v2', NULL, ctx) AS e;
\echo '    An unknown flag is off, never an error:'
SELECT orion.evaluate_flag('no-such-flag') AS "evaluate_flag('no-such-flag')";

\echo
\echo '26. A rollout orion cannot evaluate is refused when written, with its JSON path:'
\set ON_ERROR_STOP off
UPDATE orion_feature_flags.feature_flags
   SET rollout = '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "150"}}]}'
 WHERE key = 'mobile-v2';
\set ON_ERROR_STOP on


\echo
\echo '27. AB testing. A pricing test with 80% of traffic, 50/50, and a control:'
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active, traffic_allocation) VALUES
    ('pricing-page', 'Pricing page', '[{"key": "control", "name": "Current price", "isControl": true},
                                      {"key": "cheaper", "name": "Lower price"}]', true, 0.8);
SELECT coalesce(orion.assign_variant('pricing-page', id), '(not in the test)') AS variant, count(*) AS users
  FROM demo_users GROUP BY 1 ORDER BY 1;
\echo '    The same user always gets the same answer; the database stores it once:'
SELECT id AS a_user, orion.assign_variant('pricing-page', id) AS first,
       orion.assign_variant('pricing-page', id) AS again,
       orion.peek_variant('pricing-page', id) AS peek,
       orion.growthbook_hash('pricing-page', id::text) AS "GrowthBook hash"
  FROM demo_users LIMIT 1;

\echo
\echo '28. Conversions come in (here: 10% of control users buy, 12% of the others):'
SELECT count(*) FILTER (WHERE orion.track_conversion('pricing-page', id, 'purchase', 19.90)) AS conversions_tracked
  FROM demo_users
 WHERE random() < CASE orion.peek_variant('pricing-page', id) WHEN 'control' THEN 0.10 ELSE 0.12 END;
\echo '    and the results: rate, lift against the control, significance, and the'
\echo '    sample-ratio check (a small srm_p_value would mean the split is broken):'
SELECT variant, is_control, users, conversions, round(conversion_rate::numeric, 4) AS rate,
       round(lift::numeric, 3) AS lift, round(p_value::numeric, 4) AS p_value,
       round(srm_p_value::numeric, 4) AS srm_p_value
  FROM orion.ab_test_results('pricing-page', 'purchase');

\echo
\echo '29. Notifications, as a member of orion_notifications_service. in_app ones are'
\echo '    delivered by being stored; the others wait for a delivery worker.'
SELECT array_agg(id) AS some_users FROM (SELECT id FROM demo_users LIMIT 3) AS u \gset
CREATE ROLE demo_notify_app LOGIN IN ROLE orion_notifications_service;
SET ROLE demo_notify_app;
SELECT orion.send_notification(:'grace', 'welcome', 'in_app', 'Welcome, Grace', 'Your account is ready.') AS welcome \gset
SELECT orion.send_notification(:'grace', 'receipt', 'email', 'Your receipt', 'Thank you for your order.',
                               '{"order": 1042}') AS receipt \gset
SELECT orion.send_notifications(:'some_users', 'maintenance', 'push', 'Maintenance tonight', 'From 2 to 3 am.') AS "sent to 3 users";
SELECT title, channel, status, read FROM orion.list_notifications(:'grace');
SELECT orion.unread_count(:'grace') AS unread;
SELECT orion.mark_read(:'welcome') AS marked_read;
SELECT orion.unread_count(:'grace') AS unread;
\echo '    A worker claims pending email (FOR UPDATE SKIP LOCKED, so workers never'
\echo '    collide), sends it, and reports back:'
SELECT id, title, attempts FROM orion.claim_notifications('email', 10);
SELECT orion.report_delivery(:'receipt', true) AS reported;
SELECT title, status, delivered_at IS NOT NULL AS delivered FROM orion_notifications.notifications
 WHERE user_id = :'grace' ORDER BY created_at;
\set ON_ERROR_STOP off
\echo '    A notification for a user that does not exist is refused:'
SELECT orion.send_notification(gen_random_uuid(), 'x', 'email', 'Hi', 'Nobody reads this');
\set ON_ERROR_STOP on
RESET ROLE;

\echo
\echo '30. Applications can LISTEN instead of polling: new notifications on'
\echo '    orion_notifications, and the original platform''s Redis keys on'
\echo '    orion_cache_invalidate, both sent at commit (psql prints them as they come):'
LISTEN orion_notifications;
LISTEN orion_cache_invalidate;
SELECT orion.send_notification(:'grace', 'tip', 'in_app', 'Did you know?', 'Flags evaluate in the database.') IS NOT NULL AS sent;
UPDATE orion_feature_flags.feature_flags SET rollout = '{"percentage": 30}' WHERE key = 'new-checkout';
UNLISTEN *;

\echo
\echo '31. Deleting a user takes everything of theirs, in every service, in one'
\echo '    statement: sessions and tokens, notifications, AB assignments and'
\echo '    conversions. The audit log keeps its entries, and records the deletion.'
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('onboarding-tour', 'Onboarding tour', '[{"key": "off", "isControl": true}, {"key": "on"}]', true);
SELECT orion.assign_variant('onboarding-tour', :'grace') AS "grace's onboarding-tour variant";
CREATE TEMP TABLE demo_grace AS SELECT :'grace'::uuid AS id;
CREATE FUNCTION pg_temp.grace_rows() RETURNS TABLE ("table" text, rows bigint) LANGUAGE sql AS $$
    SELECT 'orion_auth.sessions', count(*) FROM orion_auth.sessions WHERE user_id = (SELECT id FROM demo_grace)
    UNION ALL SELECT 'orion_auth.refresh_tokens', count(*) FROM orion_auth.refresh_tokens WHERE user_id = (SELECT id FROM demo_grace)
    UNION ALL SELECT 'orion_notifications.notifications', count(*) FROM orion_notifications.notifications WHERE user_id = (SELECT id FROM demo_grace)
    UNION ALL SELECT 'orion_ab_testing.ab_test_assignments', count(*) FROM orion_ab_testing.ab_test_assignments WHERE user_id = (SELECT id FROM demo_grace)
    UNION ALL SELECT 'orion_auth.audit_logs naming her', count(*) FROM orion_auth.audit_logs WHERE user_id = (SELECT id FROM demo_grace)
$$;
SELECT * FROM pg_temp.grace_rows();
CREATE TEMP TABLE demo_grace_audit AS SELECT id FROM orion_auth.audit_logs WHERE user_id = :'grace';
\echo '    The user service deletes her (orion.delete_user, or DELETE on its view):'
CREATE ROLE demo_profile_app LOGIN IN ROLE orion_user_service;
SET ROLE demo_profile_app;
SELECT orion.delete_user(:'grace') AS deleted;
RESET ROLE;
SELECT * FROM pg_temp.grace_rows();
SELECT count(*) AS "her audit entries, kept", count(user_id) AS "still naming her"
  FROM orion_auth.audit_logs WHERE id IN (SELECT id FROM demo_grace_audit);
SELECT action, resource_id, old_data->>'email' AS email, old_data ? 'password_hash' AS has_password_hash
  FROM orion_auth.audit_logs WHERE action = 'user.deleted' AND resource_id = :'grace';
SELECT * FROM orion.find_orphans();
DROP ROLE demo_notify_app, demo_profile_app;

\echo
\echo '32. Maintenance. Expired sessions and stale tokens are removed in batches that'
\echo '    never wait on a login. Here, 1,000 sessions whose access tokens expired a'
\echo '    minute ago, and 100 that are live:'
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT id, encode(sha256(convert_to(id::text, 'UTF8')), 'hex'),
       now() + CASE WHEN row_number() OVER () <= 1000 THEN interval '-1 minute' ELSE interval '15 minutes' END
  FROM (SELECT id FROM demo_users LIMIT 1100) AS u;
SELECT sessions, sessions_to_expire, refresh_tokens, refresh_tokens_to_expire FROM orion.status;
\echo '    A background worker does it every orion.maintenance_naptime (started here'
\echo '    without a restart; in production name the databases in orion.maintenance_databases):'
SELECT orion.start_maintenance_worker() IS NOT NULL AS worker_started \gset
SELECT :'worker_started' AS worker_started;
DO $$
BEGIN
    FOR i IN 1..40 LOOP     -- its first pass comes at once; wait up to 10 s for it
        EXIT WHEN EXISTS (SELECT FROM orion.maintenance_state);
        PERFORM pg_sleep(0.25);
    END LOOP;
END
$$;
SELECT sessions, sessions_to_expire, last_run_by, last_run_ok, total_removed FROM orion.status;
SELECT orion.stop_maintenance_worker() AS workers_stopped;
\echo '    or pg_cron, with orion.schedule_maintenance(), or anyone: orion.run_maintenance().'
\echo '    On a busy server, orion.maintenance_batch_delay pauses between batches, so a'
\echo '    long purge leaves the application its CPU (here 10 ms between batches of 200;'
\echo '    the worker takes its batch size from orion.maintenance_batch_size):'
SET orion.maintenance_batch_delay = '10ms';
INSERT INTO orion_auth.sessions (user_id, token, expires_at)
SELECT id, encode(sha256(convert_to('again ' || id::text, 'UTF8')), 'hex'), now() - interval '1 minute'
  FROM (SELECT id FROM demo_users LIMIT 1000) AS u;
SELECT * FROM orion.run_maintenance(batch_size => 200);
RESET orion.maintenance_batch_delay;

\echo
\echo 'That is orion 0.8.0: the foundation, Auth, Feature flags, AB testing, Notifications, cross-service integrity and maintenance, with the hot paths probing their indexes directly. See README.md for every function and setting, and its Testing section for what proves it.'
