/* sql/orion--0.7.1--0.8.0.sql: one full install script; comments on every object */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.8.0'" to load this file. \quit

/*
 * From 0.8.0 on, CREATE EXTENSION orion runs one script, sql/orion.sql
 * (installed as orion--0.8.0.sql), instead of 0.1.0's and every upgrade
 * after it. It creates the same objects as that chain, and adds a comment
 * to every column, index, constraint and trigger that had none: this step
 * adds the same comments to an installation being updated. It also
 * corrects two comments of earlier releases: audit_change notifies only
 * given a cache key prefix, and cleanup_deleted_users anonymises only
 * notifications. And the four flag evaluators become VOLATILE, and
 * email verification arrives with the one-time tokens it is built on (both
 * at the end of this file).
 */

-- 2. Auth service (auth_db)
COMMENT ON COLUMN orion_auth.users.id IS 'The user''s id, which every service refers to';
COMMENT ON COLUMN orion_auth.users.first_name IS 'Given name';
COMMENT ON COLUMN orion_auth.users.last_name IS 'Family name';
COMMENT ON COLUMN orion_auth.users.role IS 'Application role, ''user'' by default; changes are audited (trigger audit_role_change)';
COMMENT ON COLUMN orion_auth.users.email_verified IS 'Whether the email address has been verified';
COMMENT ON COLUMN orion_auth.users.created_at IS 'When the account was created';
COMMENT ON COLUMN orion_auth.users.updated_at IS 'When the account was last changed (orion sets it on password changes)';
COMMENT ON COLUMN orion_auth.users.last_login_at IS 'When the last successful login was';
COMMENT ON INDEX orion_auth.users_pkey IS 'Primary key: a user by id';
COMMENT ON INDEX orion_auth.users_email_lower_key IS 'One account per email address, case-insensitively; serves lookups by lower(email)';
COMMENT ON INDEX orion_auth.idx_users_email IS 'The seed''s index: lookups by email as written';
COMMENT ON INDEX orion_auth.idx_users_role IS 'The seed''s index: users by role';
COMMENT ON CONSTRAINT users_pkey ON orion_auth.users IS 'Each user has one id, which sessions, refresh tokens, the audit log and the other services'' rows refer to';
COMMENT ON COLUMN orion_auth.sessions.id IS 'The session''s id (login and refresh_session return it)';
COMMENT ON COLUMN orion_auth.sessions.user_id IS 'The signed-in user; the session goes when the user does';
COMMENT ON COLUMN orion_auth.sessions.ip_address IS 'Client IP address at login, or at the last refresh that gave one';
COMMENT ON COLUMN orion_auth.sessions.user_agent IS 'Client user agent at login, or at the last refresh that gave one';
COMMENT ON COLUMN orion_auth.sessions.expires_at IS 'When the current access token expires (orion.access_token_ttl)';
COMMENT ON COLUMN orion_auth.sessions.created_at IS 'When the session began (the login)';
COMMENT ON INDEX orion_auth.sessions_pkey IS 'Primary key: a session by id';
COMMENT ON INDEX orion_auth.sessions_token_key IS 'One session per access token digest; validate_session probes it';
COMMENT ON INDEX orion_auth.idx_sessions_user_id IS 'The seed''s index: a user''s sessions (list_sessions, revoke_all_sessions)';
COMMENT ON INDEX orion_auth.idx_sessions_expires_at IS 'Maintenance walks expired sessions in this order, in batches';
COMMENT ON INDEX orion_auth.idx_sessions_previous_token IS 'validate_session finds a session by the access token a refresh just replaced';
COMMENT ON CONSTRAINT sessions_pkey ON orion_auth.sessions IS 'Each session has one id, by which refresh tokens belong to it and it is revoked';
COMMENT ON CONSTRAINT sessions_user_id_fkey ON orion_auth.sessions IS 'A session belongs to an existing user; deleting the user deletes their sessions (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT sessions_token_key ON orion_auth.sessions IS 'An access token digest opens one session at most; its index is the one validate_session probes';
COMMENT ON CONSTRAINT sessions_token_is_sha256 ON orion_auth.sessions IS 'token is a lower-case hex SHA-256 digest, never the access token itself: a stolen dump or backup opens no session';
COMMENT ON CONSTRAINT sessions_previous_token_is_sha256 ON orion_auth.sessions IS 'previous_token, when set, is a lower-case hex SHA-256 digest too, never the replaced access token itself';
COMMENT ON COLUMN orion_auth.refresh_tokens.id IS 'The refresh token''s id';
COMMENT ON COLUMN orion_auth.refresh_tokens.user_id IS 'The token''s user; the token goes when the user does';
COMMENT ON COLUMN orion_auth.refresh_tokens.expires_at IS 'When the token expires (orion.refresh_token_ttl after it was issued)';
COMMENT ON COLUMN orion_auth.refresh_tokens.revoked IS 'Whether the token was revoked (rotated by a refresh, logout, revocation)';
COMMENT ON COLUMN orion_auth.refresh_tokens.revoked_reason IS 'Why the token was revoked, e.g. rotated';
COMMENT ON COLUMN orion_auth.refresh_tokens.created_at IS 'When the token was issued';
COMMENT ON INDEX orion_auth.refresh_tokens_pkey IS 'Primary key: a refresh token by id';
COMMENT ON INDEX orion_auth.refresh_tokens_token_key IS 'One row per refresh token digest; refresh_session and logout look tokens up by it';
COMMENT ON INDEX orion_auth.idx_refresh_tokens_user_id IS 'The seed''s index: a user''s refresh tokens';
COMMENT ON INDEX orion_auth.idx_refresh_tokens_session_id IS 'A session''s refresh tokens (revocation, list_sessions)';
COMMENT ON INDEX orion_auth.idx_refresh_tokens_expires_at IS 'Maintenance finds expired refresh tokens by it, in batches';
COMMENT ON INDEX orion_auth.idx_refresh_tokens_revoked IS 'Maintenance finds revoked refresh tokens past orion.revoked_token_retention by it';
COMMENT ON CONSTRAINT refresh_tokens_pkey ON orion_auth.refresh_tokens IS 'Each refresh token has one id';
COMMENT ON CONSTRAINT refresh_tokens_user_id_fkey ON orion_auth.refresh_tokens IS 'A refresh token belongs to an existing user; deleting the user deletes their tokens (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT refresh_tokens_session_id_fkey ON orion_auth.refresh_tokens IS 'session_id, when set, names an existing session; deleting the session deletes its refresh tokens (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT refresh_tokens_token_key ON orion_auth.refresh_tokens IS 'A refresh token digest is stored once, so a token finds one row to rotate, revoke or detect the reuse of';
COMMENT ON CONSTRAINT refresh_tokens_token_is_sha256 ON orion_auth.refresh_tokens IS 'token is a lower-case hex SHA-256 digest, never the refresh token itself: a stolen dump or backup renews no session';
COMMENT ON COLUMN orion_auth.audit_logs.id IS 'The entry''s id';
COMMENT ON COLUMN orion_auth.audit_logs.user_id IS 'The actor (an argument, or orion.actor_id); NULL when unknown or since deleted';
COMMENT ON COLUMN orion_auth.audit_logs.action IS 'What happened, e.g. auth.login, auth.login_failed, feature_flag.updated, user.deleted';
COMMENT ON COLUMN orion_auth.audit_logs.resource IS 'The kind of object acted on, e.g. user, session, feature_flag';
COMMENT ON COLUMN orion_auth.audit_logs.resource_id IS 'The id or key of the object acted on';
COMMENT ON COLUMN orion_auth.audit_logs.old_data IS 'The object before the change (never a password hash)';
COMMENT ON COLUMN orion_auth.audit_logs.new_data IS 'The object after the change (never a password hash)';
COMMENT ON COLUMN orion_auth.audit_logs.ip_address IS 'Client IP address (an argument, or orion.client_ip)';
COMMENT ON COLUMN orion_auth.audit_logs.user_agent IS 'Client user agent (an argument, or orion.client_user_agent)';
COMMENT ON COLUMN orion_auth.audit_logs.created_at IS 'When it happened; maintenance removes entries older than orion.audit_retention when that is set (0, the default, keeps them)';
COMMENT ON INDEX orion_auth.audit_logs_pkey IS 'Primary key: an audit entry by id';
COMMENT ON INDEX orion_auth.idx_audit_logs_user_id IS 'The seed''s index: a user''s audit entries';
COMMENT ON INDEX orion_auth.idx_audit_logs_action IS 'The seed''s index: audit entries by action';
COMMENT ON INDEX orion_auth.idx_audit_logs_resource IS 'The seed''s index: audit entries by resource';
COMMENT ON INDEX orion_auth.idx_audit_logs_created_at IS 'The seed''s index: audit entries by time; maintenance removes old ones by it';
COMMENT ON CONSTRAINT audit_logs_pkey ON orion_auth.audit_logs IS 'Each audit entry has one id';
COMMENT ON CONSTRAINT audit_logs_user_id_fkey ON orion_auth.audit_logs IS 'user_id names an existing user or is NULL; deleting the user keeps the entry and sets its user_id to NULL (ON DELETE SET NULL)';
COMMENT ON TRIGGER audit_role_change ON orion_auth.users IS 'Writes a user.role_changed audit entry when a user''s role changes';
COMMENT ON TRIGGER notify_cache ON orion_auth.users IS 'Sends the cache key user:profile:<id> of a changed or deleted user (NOTIFY orion_cache_invalidate)';
COMMENT ON TRIGGER notify_cache ON orion_auth.sessions IS 'Sends the cache key user:session:<token digest> of a changed or deleted session (NOTIFY orion_cache_invalidate); not for the sessions maintenance removes';
COMMENT ON FUNCTION orion.audit_change() IS 'Trigger: audits a row change (<resource>.created, .updated, .deleted) and, given a cache key prefix, sends NOTIFY orion_cache_invalidate with the row''s key';

-- 3. User service (user_db): the profile view
COMMENT ON COLUMN orion_user.users.id IS 'orion_auth.users.id';
COMMENT ON COLUMN orion_user.users.email IS 'orion_auth.users.email (unique case-insensitively)';
COMMENT ON COLUMN orion_user.users.first_name IS 'orion_auth.users.first_name';
COMMENT ON COLUMN orion_user.users.last_name IS 'orion_auth.users.last_name';
COMMENT ON COLUMN orion_user.users.role IS 'orion_auth.users.role (changes are audited)';
COMMENT ON COLUMN orion_user.users.email_verified IS 'orion_auth.users.email_verified';
COMMENT ON COLUMN orion_user.users.created_at IS 'orion_auth.users.created_at';
COMMENT ON COLUMN orion_user.users.updated_at IS 'orion_auth.users.updated_at';
COMMENT ON COLUMN orion_user.users.last_login_at IS 'orion_auth.users.last_login_at';

-- 4. Notifications service (notifications_db)
COMMENT ON CONSTRAINT notification_channel_known ON DOMAIN orion.notification_channel IS 'The original platform''s seven channels: the API refuses an unknown one (23514) before it is stored and never delivered';
COMMENT ON COLUMN orion_notifications.notifications.id IS 'The notification''s id (send_notification returns it)';
COMMENT ON COLUMN orion_notifications.notifications.user_id IS 'The recipient, an orion_auth.users id (trigger check_user_reference); the nil uuid once anonymised';
COMMENT ON COLUMN orion_notifications.notifications.type IS 'The application''s kind of notification, e.g. welcome';
COMMENT ON COLUMN orion_notifications.notifications.channel IS 'How it is delivered: email, sms, push, in_app, webhook, slack or discord';
COMMENT ON COLUMN orion_notifications.notifications.title IS 'Title shown to the user';
COMMENT ON COLUMN orion_notifications.notifications.message IS 'Body shown to the user';
COMMENT ON COLUMN orion_notifications.notifications.metadata IS 'The application''s data for the notification (NULL once anonymised)';
COMMENT ON COLUMN orion_notifications.notifications.read IS 'Whether the user has read it (mark_read, mark_all_read)';
COMMENT ON COLUMN orion_notifications.notifications.read_at IS 'When it was marked read';
COMMENT ON COLUMN orion_notifications.notifications.created_at IS 'When it was stored; the lists are newest first';
COMMENT ON INDEX orion_notifications.notifications_pkey IS 'Primary key: a notification by id (mark_read, report_delivery, keyset cursors)';
COMMENT ON INDEX orion_notifications.idx_notifications_user_id IS 'The seed''s index: a user''s notifications';
COMMENT ON INDEX orion_notifications.idx_notifications_type IS 'The seed''s index: notifications by type';
COMMENT ON INDEX orion_notifications.idx_notifications_read IS 'The seed''s index: notifications by read state';
COMMENT ON INDEX orion_notifications.idx_notifications_created_at IS 'The seed''s index: notifications by time';
COMMENT ON INDEX orion_notifications.idx_notifications_unread IS 'A user''s unread notifications, newest first (list_notifications unread_only, unread_count)';
COMMENT ON INDEX orion_notifications.idx_notifications_user_created IS 'A user''s notifications, newest first, in keyset order (list_notifications)';
COMMENT ON INDEX orion_notifications.idx_notifications_pending IS 'The delivery queue of each channel, oldest first (claim_notifications)';
COMMENT ON INDEX orion_notifications.idx_notifications_read_at IS 'Maintenance finds read notifications past orion.read_notification_retention by it';
COMMENT ON CONSTRAINT notifications_pkey ON orion_notifications.notifications IS 'Each notification has one id, by which mark_read, report_delivery and the list cursors name it';
COMMENT ON CONSTRAINT notifications_channel_known ON orion_notifications.notifications IS 'channel is one of the original platform''s seven, also when written without the API: a misspelt channel would be stored and never delivered';
COMMENT ON CONSTRAINT notifications_status_known ON orion_notifications.notifications IS 'status is a delivery state: pending, sending (claimed), delivered or failed';
COMMENT ON TRIGGER announce_notification ON orion_notifications.notifications IS 'Sends NOTIFY orion_notifications with each new notification''s id, user_id, type and channel';

-- 5. Feature Flags service (feature_flags_db)
COMMENT ON COLUMN orion_feature_flags.feature_flags.id IS 'The flag''s id';
COMMENT ON COLUMN orion_feature_flags.feature_flags.key IS 'The unique key flags are evaluated by';
COMMENT ON COLUMN orion_feature_flags.feature_flags.name IS 'Display name';
COMMENT ON COLUMN orion_feature_flags.feature_flags.description IS 'What the flag is for';
COMMENT ON COLUMN orion_feature_flags.feature_flags.enabled IS 'The flag''s switch: off for everyone while false';
COMMENT ON COLUMN orion_feature_flags.feature_flags.config IS 'The application''s configuration, returned with the flag (evaluate_flag, evaluate_all_flags)';
COMMENT ON COLUMN orion_feature_flags.feature_flags.rollout IS 'Who gets the flag: the original platform''s form or Unleash''s strategies, variants and dependencies (validate_rollout); NULL: everyone';
COMMENT ON COLUMN orion_feature_flags.feature_flags.created_at IS 'When the flag was created';
COMMENT ON COLUMN orion_feature_flags.feature_flags.updated_at IS 'When the flag was last changed (set by the application)';
COMMENT ON INDEX orion_feature_flags.feature_flags_pkey IS 'Primary key: a flag by id';
COMMENT ON INDEX orion_feature_flags.feature_flags_key_key IS 'One flag per key; flags are evaluated by key';
COMMENT ON INDEX orion_feature_flags.idx_feature_flags_enabled IS 'The seed''s index: flags by switch';
COMMENT ON CONSTRAINT feature_flags_pkey ON orion_feature_flags.feature_flags IS 'Each flag has one id';
COMMENT ON CONSTRAINT feature_flags_key_key ON orion_feature_flags.feature_flags IS 'One flag per key: flags are evaluated by key';
COMMENT ON CONSTRAINT feature_flags_rollout_valid ON orion_feature_flags.feature_flags IS 'A rollout orion cannot evaluate is refused when written, naming its JSON path (validate_rollout), instead of failing at evaluation; NULL passes';
COMMENT ON COLUMN orion_feature_flags.segments.id IS 'The id strategies name the segment by (Unleash''s segment id)';
COMMENT ON COLUMN orion_feature_flags.segments.name IS 'Display name';
COMMENT ON COLUMN orion_feature_flags.segments.constraints IS 'Unleash constraints, all of which a context must meet (validate_segment_constraints)';
COMMENT ON INDEX orion_feature_flags.segments_pkey IS 'Primary key: a segment by the id strategies name';
COMMENT ON CONSTRAINT segments_pkey ON orion_feature_flags.segments IS 'One segment per id: strategies name segments by id';
COMMENT ON CONSTRAINT segments_constraints_valid ON orion_feature_flags.segments IS 'Constraints orion cannot evaluate are refused when written, naming their JSON path (validate_segment_constraints)';
COMMENT ON TRIGGER cache_invalidate ON orion_feature_flags.feature_flags IS 'Invalidates every backend''s flag cache when flags change';
COMMENT ON TRIGGER cache_invalidate ON orion_feature_flags.segments IS 'Invalidates every backend''s flag cache when segments change';
COMMENT ON TRIGGER audit_change ON orion_feature_flags.feature_flags IS 'Audits each flag change (feature_flag.created, .updated, .deleted) and sends its cache key feature_flag:<key>';
COMMENT ON TRIGGER audit_change ON orion_feature_flags.segments IS 'Audits each segment change (segment.created, .updated, .deleted)';

-- 6. AB Testing service (ab_testing_db)
COMMENT ON COLUMN orion_ab_testing.ab_tests.id IS 'The test''s id';
COMMENT ON COLUMN orion_ab_testing.ab_tests.key IS 'The unique key variants are assigned by';
COMMENT ON COLUMN orion_ab_testing.ab_tests.name IS 'Display name';
COMMENT ON COLUMN orion_ab_testing.ab_tests.description IS 'What the test is for';
COMMENT ON COLUMN orion_ab_testing.ab_tests.variants IS 'The variants: key, name, weight, isControl, config (validate_variants)';
COMMENT ON COLUMN orion_ab_testing.ab_tests.active IS 'The test''s switch: variants are assigned only while it is true, and within start_date and end_date';
COMMENT ON COLUMN orion_ab_testing.ab_tests.start_date IS 'No assignment before then; NULL: from the start';
COMMENT ON COLUMN orion_ab_testing.ab_tests.end_date IS 'No assignment from then on; NULL: no end';
COMMENT ON COLUMN orion_ab_testing.ab_tests.created_at IS 'When the test was created';
COMMENT ON COLUMN orion_ab_testing.ab_tests.updated_at IS 'When the test was last changed (set by the application)';
COMMENT ON INDEX orion_ab_testing.ab_tests_pkey IS 'Primary key: a test by id';
COMMENT ON INDEX orion_ab_testing.ab_tests_key_key IS 'One test per key; variants are assigned by key';
COMMENT ON INDEX orion_ab_testing.idx_ab_tests_active IS 'The seed''s index: tests by running state';
COMMENT ON CONSTRAINT ab_tests_pkey ON orion_ab_testing.ab_tests IS 'Each test has one id, which its assignments and conversions refer to';
COMMENT ON CONSTRAINT ab_tests_key_key ON orion_ab_testing.ab_tests IS 'One test per key: variants are assigned and conversions tracked by key';
COMMENT ON CONSTRAINT ab_tests_traffic_allocation_range ON orion_ab_testing.ab_tests IS 'traffic_allocation is a share of users, from 0 to 1 (GrowthBook''s coverage)';
COMMENT ON CONSTRAINT ab_tests_hash_version_known ON orion_ab_testing.ab_tests IS 'hash_version is a GrowthBook hash version orion computes: 1 or 2';
COMMENT ON CONSTRAINT ab_tests_variants_valid ON orion_ab_testing.ab_tests IS 'Variants orion cannot assign are refused when written, naming the problem (validate_variants)';
COMMENT ON COLUMN orion_ab_testing.ab_test_assignments.id IS 'The assignment''s id';
COMMENT ON COLUMN orion_ab_testing.ab_test_assignments.user_id IS 'The assigned user, an orion_auth.users id (trigger check_user_reference)';
COMMENT ON COLUMN orion_ab_testing.ab_test_assignments.test_id IS 'The test; its assignments go when it does';
COMMENT ON COLUMN orion_ab_testing.ab_test_assignments.variant IS 'Key of the variant the user got, kept whatever the weights become';
COMMENT ON COLUMN orion_ab_testing.ab_test_assignments.assigned_at IS 'When the variant was assigned';
COMMENT ON INDEX orion_ab_testing.ab_test_assignments_pkey IS 'Primary key: an assignment by id';
COMMENT ON INDEX orion_ab_testing.ab_test_assignments_user_id_test_id_key IS 'One assignment per user and test; assign_variant and peek_variant probe it';
COMMENT ON INDEX orion_ab_testing.idx_ab_test_assignments_user_id IS 'The seed''s index: a user''s assignments';
COMMENT ON INDEX orion_ab_testing.idx_ab_test_assignments_test_id IS 'A test''s assignments (results); with user_id, so any plan for one assignment probes one row';
COMMENT ON CONSTRAINT ab_test_assignments_pkey ON orion_ab_testing.ab_test_assignments IS 'Each assignment has one id';
COMMENT ON CONSTRAINT ab_test_assignments_test_id_fkey ON orion_ab_testing.ab_test_assignments IS 'An assignment belongs to an existing test; deleting the test deletes its assignments (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT ab_test_assignments_user_id_test_id_key ON orion_ab_testing.ab_test_assignments IS 'One assignment per user and test: the variant is sticky, and two sessions assigning one user at once store one row';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.id IS 'The conversion''s id';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.test_id IS 'The test; its conversions go when it does';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.user_id IS 'The converting user, an orion_auth.users id (trigger check_user_reference)';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.variant IS 'The variant the user was assigned';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.event IS 'The conversion event, e.g. purchase';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.value IS 'The event''s value, if any (e.g. an amount)';
COMMENT ON COLUMN orion_ab_testing.ab_test_conversions.created_at IS 'When the conversion was tracked';
COMMENT ON INDEX orion_ab_testing.ab_test_conversions_pkey IS 'Primary key: a conversion by id';
COMMENT ON INDEX orion_ab_testing.idx_ab_test_conversions_test_event IS 'A test''s conversions by event and user (ab_test_results)';
COMMENT ON INDEX orion_ab_testing.idx_ab_test_conversions_user_id IS 'A user''s conversions (cleanup when the user is deleted)';
COMMENT ON CONSTRAINT ab_test_conversions_pkey ON orion_ab_testing.ab_test_conversions IS 'Each conversion has one id';
COMMENT ON CONSTRAINT ab_test_conversions_test_id_fkey ON orion_ab_testing.ab_test_conversions IS 'A conversion belongs to an existing test; deleting the test deletes its conversions (ON DELETE CASCADE)';
COMMENT ON TRIGGER cache_invalidate ON orion_ab_testing.ab_tests IS 'Invalidates every backend''s AB test cache when tests change';
COMMENT ON TRIGGER audit_change ON orion_ab_testing.ab_tests IS 'Audits each test change (ab_test.created, .updated, .deleted)';
COMMENT ON TRIGGER notify_cache ON orion_ab_testing.ab_test_assignments IS 'Sends the cache key ab_test:<test id>:assignment:<user id> of a new, changed or removed assignment (NOTIFY orion_cache_invalidate)';

-- 7. Integrity: user references across services, cleanup on delete
COMMENT ON TRIGGER check_user_reference ON orion_notifications.notifications IS 'Refuses a notification for a user that does not exist (the nil uuid of an anonymised one passes)';
COMMENT ON TRIGGER check_user_reference ON orion_ab_testing.ab_test_assignments IS 'Refuses an assignment for a user that does not exist';
COMMENT ON TRIGGER check_user_reference ON orion_ab_testing.ab_test_conversions IS 'Refuses a conversion for a user that does not exist';
COMMENT ON TRIGGER cleanup_deleted_users ON orion_auth.users IS 'Removes the deleted users'' AB assignments and conversions, removes or anonymises their notifications (orion.user_delete_notifications), and audits each deletion (user.deleted)';
COMMENT ON FUNCTION orion.cleanup_deleted_users() IS 'Trigger: removes deleted users'' AB assignments and conversions, removes or anonymises their notifications (orion.user_delete_notifications), audits each deletion';

-- 8. Maintenance: expiry, retention, the worker, pg_cron, status
COMMENT ON COLUMN orion.maintenance_state.id IS 'Always true: the table has at most one row';
COMMENT ON COLUMN orion.maintenance_state.last_run_at IS 'When the last pass ran';
COMMENT ON COLUMN orion.maintenance_state.last_run_by IS 'Who ran it: the maintenance worker, or the role that called run_maintenance';
COMMENT ON COLUMN orion.maintenance_state.last_duration IS 'How long the last pass took';
COMMENT ON COLUMN orion.maintenance_state.last_run_ok IS 'Whether the last pass finished without an error';
COMMENT ON COLUMN orion.maintenance_state.sessions_removed IS 'Sessions the last pass removed';
COMMENT ON COLUMN orion.maintenance_state.refresh_tokens_removed IS 'Refresh tokens the last pass removed';
COMMENT ON COLUMN orion.maintenance_state.notifications_removed IS 'Read notifications the last pass removed';
COMMENT ON COLUMN orion.maintenance_state.audit_logs_removed IS 'Audit entries the last pass removed';
COMMENT ON COLUMN orion.maintenance_state.runs IS 'How many passes have been recorded';
COMMENT ON COLUMN orion.maintenance_state.total_removed IS 'Rows removed by all recorded passes';
COMMENT ON COLUMN orion.maintenance_state.last_error IS 'The message of the last failed pass';
COMMENT ON COLUMN orion.maintenance_state.last_error_at IS 'When the last failed pass ran';
COMMENT ON INDEX orion.maintenance_state_pkey IS 'Primary key on the constant true: at most one row';
COMMENT ON CONSTRAINT maintenance_state_pkey ON orion.maintenance_state IS 'With maintenance_state_one_row, the table holds at most one row: the last pass of this database';
COMMENT ON CONSTRAINT maintenance_state_one_row ON orion.maintenance_state IS 'id can only be true, so the primary key allows one row';
COMMENT ON COLUMN orion.status.users IS 'Rows in orion_auth.users';
COMMENT ON COLUMN orion.status.sessions IS 'Rows in orion_auth.sessions';
COMMENT ON COLUMN orion.status.refresh_tokens IS 'Rows in orion_auth.refresh_tokens';
COMMENT ON COLUMN orion.status.notifications IS 'Rows in orion_notifications.notifications';
COMMENT ON COLUMN orion.status.audit_logs IS 'Rows in orion_auth.audit_logs';
COMMENT ON COLUMN orion.status.feature_flags IS 'Rows in orion_feature_flags.feature_flags';
COMMENT ON COLUMN orion.status.ab_tests IS 'Rows in orion_ab_testing.ab_tests';
COMMENT ON COLUMN orion.status.ab_test_assignments IS 'Rows in orion_ab_testing.ab_test_assignments';
COMMENT ON COLUMN orion.status.sessions_to_expire IS 'Sessions the next pass would remove';
COMMENT ON COLUMN orion.status.refresh_tokens_to_expire IS 'Refresh tokens the next pass would remove';
COMMENT ON COLUMN orion.status.notifications_to_expire IS 'Read notifications the next pass would remove';
COMMENT ON COLUMN orion.status.audit_logs_to_expire IS 'Audit entries the next pass would remove';
COMMENT ON COLUMN orion.status.worker_pid IS 'Process id of this database''s maintenance worker; NULL when none runs';
COMMENT ON COLUMN orion.status.last_run_at IS 'When the last pass ran (orion.maintenance_state)';
COMMENT ON COLUMN orion.status.last_run_by IS 'Who ran the last pass';
COMMENT ON COLUMN orion.status.last_run_ok IS 'Whether the last pass finished without an error';
COMMENT ON COLUMN orion.status.last_duration IS 'How long the last pass took';
COMMENT ON COLUMN orion.status.last_run_removed IS 'Rows the last pass removed, all kinds together';
COMMENT ON COLUMN orion.status.runs IS 'How many passes have been recorded';
COMMENT ON COLUMN orion.status.total_removed IS 'Rows removed by all recorded passes';
COMMENT ON COLUMN orion.status.last_error IS 'The message of the last failed pass';
COMMENT ON COLUMN orion.status.last_error_at IS 'When the last failed pass ran';

-- The flag evaluators draw at random for a context with neither userId nor
-- sessionId (Unleash's random stickiness and gradualRolloutRandom), so two
-- calls in one statement may answer differently: VOLATILE, not STABLE.
-- Labelled STABLE, PostgreSQL 17's planner treats a call with constant
-- arguments as one value for the whole statement, and a count(DISTINCT
-- flag_enabled('f')) over many rows counted its answers wrongly.
ALTER FUNCTION orion.flag_enabled(text, uuid, jsonb) VOLATILE;
ALTER FUNCTION orion.flag_variant(text, uuid, jsonb) VOLATILE;
ALTER FUNCTION orion.evaluate_flag(text, uuid, jsonb) VOLATILE;
ALTER FUNCTION orion.evaluate_all_flags(uuid, jsonb) VOLATILE;

-- One-time tokens and email verification (issue: account flows). The
-- table, its functions, and the maintenance pass that removes spent tokens.

CREATE TABLE orion_auth.one_time_tokens (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    purpose     text NOT NULL
                CONSTRAINT one_time_tokens_purpose_known CHECK (purpose IN ('email_verification', 'password_reset', 'sign_in_link', 'mfa_challenge')),
    token       varchar(64) UNIQUE NOT NULL
                CONSTRAINT one_time_tokens_token_is_sha256 CHECK (token ~ '^[0-9a-f]{64}$'),
    email       varchar(255) NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    used_at     timestamptz,
    revoked_at  timestamptz
);
-- issuing a token revokes the user's live ones of its purpose
CREATE INDEX idx_one_time_tokens_user_purpose ON orion_auth.one_time_tokens (user_id, purpose)
    WHERE used_at IS NULL AND revoked_at IS NULL;
-- what maintenance removes: a used or revoked token expires at that moment
CREATE INDEX idx_one_time_tokens_expires_at ON orion_auth.one_time_tokens (expires_at);

COMMENT ON TABLE orion_auth.one_time_tokens IS 'Single-use tokens of the account flows (email verification, password reset, sign-in links, MFA challenges), stored as SHA-256 only';
COMMENT ON COLUMN orion_auth.one_time_tokens.id IS 'The token''s id';
COMMENT ON COLUMN orion_auth.one_time_tokens.user_id IS 'The user the token acts for; the token goes when the user does';
COMMENT ON COLUMN orion_auth.one_time_tokens.purpose IS 'What the token does: email_verification, password_reset, sign_in_link or mfa_challenge';
COMMENT ON COLUMN orion_auth.one_time_tokens.token IS 'SHA-256 (lower-case hex) of the token; the token itself is never stored';
COMMENT ON COLUMN orion_auth.one_time_tokens.email IS 'The address the token was issued for: it stops working when the user''s address changes';
COMMENT ON COLUMN orion_auth.one_time_tokens.expires_at IS 'When the token stops working (its purpose''s lifetime setting; set to the moment of use or revocation)';
COMMENT ON COLUMN orion_auth.one_time_tokens.created_at IS 'When the token was issued';
COMMENT ON COLUMN orion_auth.one_time_tokens.used_at IS 'When the token was used; a token works once';
COMMENT ON COLUMN orion_auth.one_time_tokens.revoked_at IS 'When a newer token of the same purpose replaced it';
COMMENT ON INDEX orion_auth.one_time_tokens_pkey IS 'Primary key: a one-time token by id';
COMMENT ON INDEX orion_auth.one_time_tokens_token_key IS 'One row per token digest; a presented token is looked up by it';
COMMENT ON INDEX orion_auth.idx_one_time_tokens_user_purpose IS 'A user''s live tokens of one purpose, which a new one revokes';
COMMENT ON INDEX orion_auth.idx_one_time_tokens_expires_at IS 'Maintenance finds expired, used and revoked tokens by it, in batches';
COMMENT ON CONSTRAINT one_time_tokens_pkey ON orion_auth.one_time_tokens IS 'Each one-time token has one id';
COMMENT ON CONSTRAINT one_time_tokens_user_id_fkey ON orion_auth.one_time_tokens IS 'A one-time token belongs to an existing user; deleting the user deletes their tokens (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT one_time_tokens_purpose_known ON orion_auth.one_time_tokens IS 'purpose is one orion knows, so a token of one flow is never accepted by another';
COMMENT ON CONSTRAINT one_time_tokens_token_key ON orion_auth.one_time_tokens IS 'A token digest is stored once, so a presented token finds one row';
COMMENT ON CONSTRAINT one_time_tokens_token_is_sha256 ON orion_auth.one_time_tokens IS 'token is a lower-case hex SHA-256 digest, never the token itself: a stolen dump or backup verifies nothing';

SELECT pg_catalog.pg_extension_config_dump('orion_auth.one_time_tokens', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON orion_auth.one_time_tokens TO orion_auth_service;

CREATE FUNCTION orion.request_email_verification(user_id uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_request_email_verification'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.request_email_verification(uuid) IS 'A one-time token (orion_v_) that verifies the user''s current email address; revokes older ones';

CREATE FUNCTION orion.verify_email(token text)
    RETURNS uuid
    AS 'MODULE_PATHNAME', 'orion_verify_email'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.verify_email(text) IS 'Uses an email verification token: marks the address verified and returns the user, or NULL for a token that does not work';

CREATE FUNCTION orion.request_password_reset(email text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_request_password_reset'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.request_password_reset(text) IS 'A one-time token (orion_p_) that sets a new password, or NULL (no such account, or rate-limited), in the same time either way';

CREATE FUNCTION orion.reset_password(token text, new_password text)
    RETURNS uuid
    AS 'MODULE_PATHNAME', 'orion_reset_password'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.reset_password(text, text) IS 'Uses a password reset token: sets the password, revokes every session, lifts a lockout; returns the user, or NULL for a token that does not work';

CREATE FUNCTION orion.request_sign_in_link(email text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_request_sign_in_link'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.request_sign_in_link(text) IS 'A one-time token (orion_m_) that signs in without a password, or NULL (no such account, or rate-limited), in the same time either way';

CREATE FUNCTION orion.sign_in_with_link(token text, ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    AS 'MODULE_PATHNAME', 'orion_sign_in_with_link'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.sign_in_with_link(text, text, text) IS 'Uses a sign-in link token: a new session (with TOTP active, an mfa_challenge), the row login returns; no row for a token that does not work or a locked account';

REVOKE ALL ON FUNCTION
    orion.request_email_verification(uuid),
    orion.verify_email(text),
    orion.request_password_reset(text),
    orion.reset_password(text, text),
    orion.request_sign_in_link(text),
    orion.sign_in_with_link(text, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.request_email_verification(uuid),
    orion.verify_email(text),
    orion.request_password_reset(text),
    orion.reset_password(text, text),
    orion.request_sign_in_link(text),
    orion.sign_in_with_link(text, text, text)
    TO orion_auth_service;

-- Two-factor authentication (TOTP). login and sign_in_with_link gain a
-- last column, mfa_challenge: login is made again (its result type changes).

CREATE TABLE orion_auth.totp_factors (
    user_id         uuid PRIMARY KEY REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    secret          bytea NOT NULL
                    CONSTRAINT totp_factors_secret_sealed
                    CHECK (pg_catalog.octet_length(secret) = 57 AND pg_catalog.get_byte(secret, 0) = 1),
    confirmed_at    timestamptz,
    last_used_step  bigint,
    created_at      timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE orion_auth.totp_factors IS 'TOTP second factors (RFC 6238): one per user, pending until confirmed';
COMMENT ON COLUMN orion_auth.totp_factors.user_id IS 'The user; the factor goes when the user does';
COMMENT ON COLUMN orion_auth.totp_factors.secret IS 'The 20-byte secret sealed with orion.secret_key_file (AES-256-GCM, bound to the user), never in plain text';
COMMENT ON COLUMN orion_auth.totp_factors.confirmed_at IS 'When confirm_totp activated it; NULL while pending (sign-in asks no code)';
COMMENT ON COLUMN orion_auth.totp_factors.last_used_step IS 'Time step (Unix time / 30) of the last code accepted: a code of that step or earlier is refused, so each works once';
COMMENT ON COLUMN orion_auth.totp_factors.created_at IS 'When enroll_totp made the secret';
COMMENT ON INDEX orion_auth.totp_factors_pkey IS 'Primary key: one factor per user';
COMMENT ON CONSTRAINT totp_factors_pkey ON orion_auth.totp_factors IS 'A user has one TOTP factor at most';
COMMENT ON CONSTRAINT totp_factors_user_id_fkey ON orion_auth.totp_factors IS 'A factor belongs to an existing user; deleting the user deletes it (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT totp_factors_secret_sealed ON orion_auth.totp_factors IS 'secret has the shape of a sealed 20-byte secret (version 1), never a plain one';

CREATE TABLE orion_auth.recovery_codes (
    user_id     uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    code        varchar(64) NOT NULL
                CONSTRAINT recovery_codes_code_is_sha256 CHECK (code ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    used_at     timestamptz,
    PRIMARY KEY (user_id, code)
);
COMMENT ON TABLE orion_auth.recovery_codes IS 'Recovery codes of TOTP users, each usable once instead of a code, stored as SHA-256 only';
COMMENT ON COLUMN orion_auth.recovery_codes.user_id IS 'The user; the codes go when the user does';
COMMENT ON COLUMN orion_auth.recovery_codes.code IS 'SHA-256 (lower-case hex) of the code without hyphens; the code itself is never stored';
COMMENT ON COLUMN orion_auth.recovery_codes.created_at IS 'When confirm_totp or regenerate_recovery_codes made it';
COMMENT ON COLUMN orion_auth.recovery_codes.used_at IS 'When it completed a sign-in; a code works once';
COMMENT ON INDEX orion_auth.recovery_codes_pkey IS 'Primary key: a user''s code by digest';
COMMENT ON CONSTRAINT recovery_codes_pkey ON orion_auth.recovery_codes IS 'A code digest is stored once per user';
COMMENT ON CONSTRAINT recovery_codes_user_id_fkey ON orion_auth.recovery_codes IS 'A code belongs to an existing user; deleting the user deletes it (ON DELETE CASCADE)';
COMMENT ON CONSTRAINT recovery_codes_code_is_sha256 ON orion_auth.recovery_codes IS 'code is a lower-case hex SHA-256 digest, never the code itself';

SELECT pg_catalog.pg_extension_config_dump('orion_auth.totp_factors', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.recovery_codes', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON orion_auth.totp_factors, orion_auth.recovery_codes TO orion_auth_service;

DROP FUNCTION orion.login(text, text, text, text);
CREATE FUNCTION orion.login(email text, password text,
                            ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid,
                   access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz,
                   mfa_challenge text)
    AS 'MODULE_PATHNAME', 'orion_login'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.login(text, text, text, text) IS 'Signs in: one row with new tokens (with TOTP active, only an mfa_challenge for verify_totp), or no row for a wrong email, password or a locked account';
REVOKE ALL ON FUNCTION orion.login(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.login(text, text, text, text) TO orion_auth_service;

CREATE FUNCTION orion.enroll_totp(user_id uuid)
    RETURNS TABLE (secret text, uri text)
    AS 'MODULE_PATHNAME', 'orion_enroll_totp'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.enroll_totp(uuid) IS 'A new TOTP secret (base32) and its otpauth:// URI for an authenticator app; pending until confirm_totp';

CREATE FUNCTION orion.confirm_totp(user_id uuid, code text)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'orion_confirm_totp'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.confirm_totp(uuid, text) IS 'Activates a pending TOTP with a current code; returns the ten recovery codes (shown once), or NULL for a wrong code';

CREATE FUNCTION orion.disable_totp(user_id uuid)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_disable_totp'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.disable_totp(uuid) IS 'Removes the user''s TOTP and recovery codes; whether TOTP was active';

CREATE FUNCTION orion.regenerate_recovery_codes(user_id uuid)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'orion_regenerate_recovery_codes'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.regenerate_recovery_codes(uuid) IS 'Ten new recovery codes for a user with TOTP active; the old ones stop working';

CREATE FUNCTION orion.verify_totp(challenge text, code text,
                                  ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    AS 'MODULE_PATHNAME', 'orion_verify_totp'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.verify_totp(text, text, text, text) IS 'Completes a sign-in that returned an mfa_challenge: the tokens for a current TOTP code or an unused recovery code; no row otherwise (a wrong code counts towards the lockout)';

-- the one-time password algorithms themselves touch no table: public, for
-- an application's own tests and for checking against the RFCs
CREATE FUNCTION orion.hotp_code(secret text, counter bigint, digits integer DEFAULT 6)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_hotp_code'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION orion.hotp_code(text, bigint, integer) IS 'The HOTP value (RFC 4226, HMAC-SHA-1) of a base32 secret at a counter';

CREATE FUNCTION orion.totp_code(secret text, at timestamptz DEFAULT pg_catalog.now(), digits integer DEFAULT 6)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_totp_code'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION orion.totp_code(text, timestamptz, integer) IS 'The TOTP code (RFC 6238: SHA-1, 30 s) an authenticator app shows for a base32 secret at a time';

-- run by the DBA during a key rotation; it reads secrets it has no business
-- handing out, so nobody but the owner runs it
CREATE FUNCTION orion.reseal_secrets()
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'orion_reseal_secrets'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.reseal_secrets() IS 'Seals every TOTP secret still sealed with orion.previous_secret_key_file with orion.secret_key_file; how many';

REVOKE ALL ON FUNCTION
    orion.enroll_totp(uuid),
    orion.confirm_totp(uuid, text),
    orion.disable_totp(uuid),
    orion.regenerate_recovery_codes(uuid),
    orion.verify_totp(text, text, text, text),
    orion.reseal_secrets()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.enroll_totp(uuid),
    orion.confirm_totp(uuid, text),
    orion.disable_totp(uuid),
    orion.regenerate_recovery_codes(uuid),
    orion.verify_totp(text, text, text, text)
    TO orion_auth_service;

-- a changed address is not verified (a change of letter case is no change,
-- as for the tokens; an UPDATE that sets email_verified itself wins: the
-- trigger function sees which columns it sets)
CREATE FUNCTION orion.unverify_changed_email()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_unverify_changed_email'
    LANGUAGE C;
COMMENT ON FUNCTION orion.unverify_changed_email() IS 'Trigger: clears email_verified when a user''s address changes';
REVOKE ALL ON FUNCTION orion.unverify_changed_email() FROM PUBLIC;

CREATE TRIGGER unverify_changed_email
    BEFORE UPDATE OF email ON orion_auth.users
    FOR EACH ROW
    WHEN (pg_catalog.lower(OLD.email) IS DISTINCT FROM pg_catalog.lower(NEW.email))
    EXECUTE FUNCTION orion.unverify_changed_email();
COMMENT ON TRIGGER unverify_changed_email ON orion_auth.users IS 'Clears email_verified when the address changes (other than in letter case) and the UPDATE does not set it';

-- maintenance counts the one-time tokens it removes: a column of the
-- record, and of run_maintenance, maintenance_backlog and the status view,
-- which are made again (their result types change)
ALTER TABLE orion.maintenance_state ADD COLUMN one_time_tokens_removed bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN orion.maintenance_state.one_time_tokens_removed IS 'One-time tokens (expired, used or revoked) the last pass removed';

DROP VIEW orion.status;
DROP FUNCTION orion.run_maintenance(integer);
DROP FUNCTION orion.maintenance_backlog();

CREATE FUNCTION orion.run_maintenance(batch_size integer DEFAULT 10000,
                                      OUT sessions bigint, OUT refresh_tokens bigint,
                                      OUT one_time_tokens bigint,
                                      OUT notifications bigint, OUT audit_logs bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'orion_run_maintenance'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.run_maintenance(integer) IS 'The maintenance pass: expired sessions, refresh and one-time tokens, and read notifications and audit entries past their retention; recorded in orion.maintenance_state';

CREATE FUNCTION orion.maintenance_backlog(OUT sessions bigint, OUT refresh_tokens bigint,
                                          OUT one_time_tokens bigint,
                                          OUT notifications bigint, OUT audit_logs bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'orion_maintenance_backlog'
    LANGUAGE C STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.maintenance_backlog() IS 'What the next maintenance pass would remove, per kind';

CREATE VIEW orion.status AS
SELECT (SELECT count(*) FROM orion_auth.users) AS users,
       (SELECT count(*) FROM orion_auth.sessions) AS sessions,
       (SELECT count(*) FROM orion_auth.refresh_tokens) AS refresh_tokens,
       (SELECT count(*) FROM orion_auth.one_time_tokens) AS one_time_tokens,
       (SELECT count(*) FROM orion_notifications.notifications) AS notifications,
       (SELECT count(*) FROM orion_auth.audit_logs) AS audit_logs,
       (SELECT count(*) FROM orion_feature_flags.feature_flags) AS feature_flags,
       (SELECT count(*) FROM orion_ab_testing.ab_tests) AS ab_tests,
       (SELECT count(*) FROM orion_ab_testing.ab_test_assignments) AS ab_test_assignments,
       b.sessions AS sessions_to_expire,
       b.refresh_tokens AS refresh_tokens_to_expire,
       b.one_time_tokens AS one_time_tokens_to_expire,
       b.notifications AS notifications_to_expire,
       b.audit_logs AS audit_logs_to_expire,
       (SELECT pid FROM pg_stat_activity
         WHERE backend_type = 'orion maintenance' AND datname = current_database() LIMIT 1) AS worker_pid,
       m.last_run_at, m.last_run_by, m.last_run_ok, m.last_duration,
       m.sessions_removed + m.refresh_tokens_removed + m.one_time_tokens_removed
           + m.notifications_removed + m.audit_logs_removed AS last_run_removed,
       m.runs, m.total_removed, m.last_error, m.last_error_at
  FROM orion.maintenance_backlog() AS b
  LEFT JOIN orion.maintenance_state AS m ON true;
COMMENT ON VIEW orion.status IS 'Row counts, what maintenance has yet to remove, and the last maintenance pass of this database';
COMMENT ON COLUMN orion.status.users IS 'Rows in orion_auth.users';
COMMENT ON COLUMN orion.status.sessions IS 'Rows in orion_auth.sessions';
COMMENT ON COLUMN orion.status.refresh_tokens IS 'Rows in orion_auth.refresh_tokens';
COMMENT ON COLUMN orion.status.one_time_tokens IS 'Rows in orion_auth.one_time_tokens';
COMMENT ON COLUMN orion.status.notifications IS 'Rows in orion_notifications.notifications';
COMMENT ON COLUMN orion.status.audit_logs IS 'Rows in orion_auth.audit_logs';
COMMENT ON COLUMN orion.status.feature_flags IS 'Rows in orion_feature_flags.feature_flags';
COMMENT ON COLUMN orion.status.ab_tests IS 'Rows in orion_ab_testing.ab_tests';
COMMENT ON COLUMN orion.status.ab_test_assignments IS 'Rows in orion_ab_testing.ab_test_assignments';
COMMENT ON COLUMN orion.status.sessions_to_expire IS 'Sessions the next pass would remove';
COMMENT ON COLUMN orion.status.refresh_tokens_to_expire IS 'Refresh tokens the next pass would remove';
COMMENT ON COLUMN orion.status.one_time_tokens_to_expire IS 'One-time tokens (expired, used or revoked) the next pass would remove';
COMMENT ON COLUMN orion.status.notifications_to_expire IS 'Read notifications the next pass would remove';
COMMENT ON COLUMN orion.status.audit_logs_to_expire IS 'Audit entries the next pass would remove';
COMMENT ON COLUMN orion.status.worker_pid IS 'Process id of this database''s maintenance worker; NULL when none runs';
COMMENT ON COLUMN orion.status.last_run_at IS 'When the last pass ran (orion.maintenance_state)';
COMMENT ON COLUMN orion.status.last_run_by IS 'Who ran the last pass';
COMMENT ON COLUMN orion.status.last_run_ok IS 'Whether the last pass finished without an error';
COMMENT ON COLUMN orion.status.last_duration IS 'How long the last pass took';
COMMENT ON COLUMN orion.status.last_run_removed IS 'Rows the last pass removed, all kinds together';
COMMENT ON COLUMN orion.status.runs IS 'How many passes have been recorded';
COMMENT ON COLUMN orion.status.total_removed IS 'Rows removed by all recorded passes';
COMMENT ON COLUMN orion.status.last_error IS 'The message of the last failed pass';
COMMENT ON COLUMN orion.status.last_error_at IS 'When the last failed pass ran';

REVOKE ALL ON orion.status FROM PUBLIC;
GRANT SELECT ON orion.status TO orion_admin;
REVOKE ALL ON FUNCTION orion.run_maintenance(integer), orion.maintenance_backlog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.run_maintenance(integer), orion.maintenance_backlog() TO orion_admin;

-- Signed access tokens (JWT). The signing keys are the extension owner's
-- alone: their private parts are sealed with orion.secret_key_file, and
-- even the public ones are handed out only through orion.jwks().

CREATE TABLE orion_auth.signing_keys (
    kid           text PRIMARY KEY
                  CONSTRAINT signing_keys_kid_shape CHECK (kid ~ '^[A-Za-z0-9_-]{1,64}$'),
    algorithm     text NOT NULL
                  CONSTRAINT signing_keys_algorithm_known CHECK (algorithm IN ('EdDSA', 'ES256', 'HS256')),
    public_key    bytea,
    private_key   bytea NOT NULL
                  CONSTRAINT signing_keys_private_key_sealed CHECK (pg_catalog.get_byte(private_key, 0) = 1),
    created_at    timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    retired_at    timestamptz,
    verify_until  timestamptz,
    CONSTRAINT signing_keys_public_key_asymmetric
        CHECK ((public_key IS NULL) = (algorithm = 'HS256')),
    CONSTRAINT signing_keys_retired_verify_until
        CHECK ((retired_at IS NULL) = (verify_until IS NULL))
);
-- one key signs
CREATE UNIQUE INDEX signing_keys_one_current ON orion_auth.signing_keys ((true)) WHERE retired_at IS NULL;
COMMENT ON TABLE orion_auth.signing_keys IS 'Keys that sign JWT access tokens (orion.rotate_signing_key); the extension owner''s alone';
COMMENT ON COLUMN orion_auth.signing_keys.kid IS 'The key id, the kid of the tokens it signs and of its JWK in orion.jwks()';
COMMENT ON COLUMN orion_auth.signing_keys.algorithm IS 'EdDSA (Ed25519), ES256 (ECDSA P-256, SHA-256) or HS256 (HMAC-SHA-256 with a shared secret): the only alg its tokens may carry';
COMMENT ON COLUMN orion_auth.signing_keys.public_key IS 'DER SubjectPublicKeyInfo of an EdDSA or ES256 key; NULL for HS256';
COMMENT ON COLUMN orion_auth.signing_keys.private_key IS 'The private key (DER) or the HS256 secret, sealed with orion.secret_key_file (AES-256-GCM, bound to the kid)';
COMMENT ON COLUMN orion_auth.signing_keys.created_at IS 'When rotate_signing_key made or imported it';
COMMENT ON COLUMN orion_auth.signing_keys.retired_at IS 'When a rotation replaced it for signing; NULL for the current key';
COMMENT ON COLUMN orion_auth.signing_keys.verify_until IS 'Until when tokens it signed verify (its rotation plus orion.access_token_ttl and a minute): the last of them has expired by then';
COMMENT ON INDEX orion_auth.signing_keys_pkey IS 'Primary key: a key by kid, as verification looks it up';
COMMENT ON INDEX orion_auth.signing_keys_one_current IS 'At most one current (signing) key';
COMMENT ON CONSTRAINT signing_keys_pkey ON orion_auth.signing_keys IS 'A kid names one key';
COMMENT ON CONSTRAINT signing_keys_kid_shape ON orion_auth.signing_keys IS 'kid is 1 to 64 base64url characters';
COMMENT ON CONSTRAINT signing_keys_algorithm_known ON orion_auth.signing_keys IS 'algorithm is one orion signs with; never none';
COMMENT ON CONSTRAINT signing_keys_private_key_sealed ON orion_auth.signing_keys IS 'private_key is sealed (version 1), never a plain key';
COMMENT ON CONSTRAINT signing_keys_public_key_asymmetric ON orion_auth.signing_keys IS 'EdDSA and ES256 keys have a public key; HS256 secrets have none';
COMMENT ON CONSTRAINT signing_keys_retired_verify_until ON orion_auth.signing_keys IS 'A retired key has a verify_until, the current key none';
SELECT pg_catalog.pg_extension_config_dump('orion_auth.signing_keys', '');
CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_auth.signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();
COMMENT ON TRIGGER cache_invalidate ON orion_auth.signing_keys IS 'Invalidates every backend''s signing key cache when keys change';

-- a gateway's deny list: the sessions revoked since a time
CREATE INDEX idx_sessions_revoked_at ON orion_auth.sessions (revoked_at) WHERE revoked_at IS NOT NULL;
COMMENT ON INDEX orion_auth.idx_sessions_revoked_at IS 'revoked_sessions finds the sessions revoked since a time by it';

CREATE FUNCTION orion.rotate_signing_key(algorithm text DEFAULT NULL, key text DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_rotate_signing_key'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.rotate_signing_key(text, text) IS 'A new current JWT signing key (EdDSA, ES256 or HS256; generated, or imported from a PEM private key or an HS256 secret); the old one verifies for orion.access_token_ttl more. Returns its kid';

CREATE FUNCTION orion.jwks()
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'orion_jwks'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION orion.jwks() IS 'The public keys that verify JWT access tokens now, as a JWK Set (RFC 7517) for gateways; HS256 secrets are never listed';

CREATE FUNCTION orion.verify_jwt(token text)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'orion_verify_jwt'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION orion.verify_jwt(text) IS 'The claims of a JWT access token whose signature, iss, aud, exp and nbf hold, without checking its session; NULL otherwise';

CREATE FUNCTION orion.revoked_sessions(since timestamptz)
    RETURNS TABLE (session_id uuid, user_id uuid, revoked_at timestamptz, expires_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF revoked_sessions.since IS NULL THEN
            RAISE EXCEPTION 'since must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RETURN QUERY
            SELECT s.id, s.user_id, s.revoked_at, s.expires_at
              FROM orion_auth.sessions s
             WHERE s.revoked_at >= revoked_sessions.since
               AND s.expires_at > pg_catalog.now()
             ORDER BY s.revoked_at;
    END
    $$;
COMMENT ON FUNCTION orion.revoked_sessions(timestamptz) IS 'Sessions revoked at or after since whose last access token has not expired: the deny list of a gateway that verifies JWTs itself';

REVOKE ALL ON FUNCTION orion.rotate_signing_key(text, text), orion.verify_jwt(text),
    orion.revoked_sessions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.verify_jwt(text), orion.revoked_sessions(timestamptz)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;

COMMENT ON FUNCTION orion.validate_session(text) IS 'The live session of an access token (opaque, or a JWT whose signature and claims hold), or no row';

-- the figures of ab_test_results from counts made elsewhere (orion_proxy sums them over shards)
CREATE FUNCTION orion.ab_test_statistics(test_key text, variants text[], users bigint[], conversions bigint[])
    RETURNS TABLE (variant text, is_control boolean, weight double precision, users bigint,
                   conversions bigint, conversion_rate double precision, lift double precision,
                   p_value double precision, srm_p_value double precision)
    AS 'MODULE_PATHNAME', 'orion_ab_test_statistics'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION orion.ab_test_statistics(text, text[], bigint[], bigint[]) IS 'The figures of ab_test_results for users and conversions per variant counted elsewhere (summed over shards)';
REVOKE ALL ON FUNCTION orion.ab_test_statistics(text, text[], bigint[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.ab_test_statistics(text, text[], bigint[], bigint[]) TO orion_ab_testing_service;

-- ---------------------------------------------------------------------------
-- Definitions: flags, segments and AB tests as one document (0.8.0), to copy
-- between installations: staging to production, or a sharded installation's
-- source to every shard (orion_proxy's sync_definitions)
-- ---------------------------------------------------------------------------

CREATE FUNCTION orion.definitions() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pg_catalog.jsonb_build_object(
        'feature_flags', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(f) ORDER BY f.id), '[]')
                            FROM orion_feature_flags.feature_flags f),
        'segments', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(s) ORDER BY s.id), '[]')
                       FROM orion_feature_flags.segments s),
        'ab_tests', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) ORDER BY t.id), '[]')
                       FROM orion_ab_testing.ab_tests t));
END;
COMMENT ON FUNCTION orion.definitions() IS 'The feature flags, segments and AB tests as one jsonb document: {"feature_flags": [...], "segments": [...], "ab_tests": [...]}, rows by id';

CREATE FUNCTION orion.load_definitions(definitions jsonb) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed bigint := 0;
        n bigint;
    BEGIN
        IF definitions IS NULL THEN
            RAISE EXCEPTION 'definitions must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF pg_catalog.jsonb_typeof(definitions) <> 'object'
           OR pg_catalog.jsonb_typeof(definitions -> 'feature_flags') IS DISTINCT FROM 'array'
           OR pg_catalog.jsonb_typeof(definitions -> 'segments') IS DISTINCT FROM 'array'
           OR pg_catalog.jsonb_typeof(definitions -> 'ab_tests') IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION 'definitions must be an object of the arrays feature_flags, segments and ab_tests'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'orion.definitions() makes one.';
        END IF;
        -- in an order that keeps every step valid: what is gone first (an AB
        -- test's assignments go with it), segments before the flags that use
        -- them, and segments no flag may use any more last
        DELETE FROM orion_feature_flags.feature_flags f
         WHERE f.id NOT IN (SELECT x.id FROM pg_catalog.jsonb_populate_recordset(NULL::orion_feature_flags.feature_flags, definitions -> 'feature_flags') x);
        GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;
        DELETE FROM orion_ab_testing.ab_tests t
         WHERE t.id NOT IN (SELECT x.id FROM pg_catalog.jsonb_populate_recordset(NULL::orion_ab_testing.ab_tests, definitions -> 'ab_tests') x);
        GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;
        INSERT INTO orion_feature_flags.segments AS s
        SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::orion_feature_flags.segments, definitions -> 'segments')
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, constraints = excluded.constraints
         WHERE (s.name, s.constraints) IS DISTINCT FROM (excluded.name, excluded.constraints);
        GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;
        INSERT INTO orion_feature_flags.feature_flags AS f
        SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::orion_feature_flags.feature_flags, definitions -> 'feature_flags')
        ON CONFLICT (id) DO UPDATE SET key = excluded.key, name = excluded.name, description = excluded.description,
            enabled = excluded.enabled, config = excluded.config, rollout = excluded.rollout,
            created_at = excluded.created_at, updated_at = excluded.updated_at
         WHERE f IS DISTINCT FROM excluded;
        GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;
        INSERT INTO orion_ab_testing.ab_tests AS t
        SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::orion_ab_testing.ab_tests, definitions -> 'ab_tests')
        ON CONFLICT (id) DO UPDATE SET key = excluded.key, name = excluded.name, description = excluded.description,
            variants = excluded.variants, active = excluded.active, start_date = excluded.start_date,
            end_date = excluded.end_date, created_at = excluded.created_at, updated_at = excluded.updated_at,
            traffic_allocation = excluded.traffic_allocation, hash_seed = excluded.hash_seed,
            hash_version = excluded.hash_version
         WHERE t IS DISTINCT FROM excluded;
        GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;
        DELETE FROM orion_feature_flags.segments s
         WHERE s.id NOT IN (SELECT x.id FROM pg_catalog.jsonb_populate_recordset(NULL::orion_feature_flags.segments, definitions -> 'segments') x);
        GET DIAGNOSTICS n = ROW_COUNT; changed := changed + n;
        RETURN changed;
    END
    $$;
COMMENT ON FUNCTION orion.load_definitions(jsonb) IS 'Makes the feature flags, segments and AB tests those of a document orion.definitions() made, in one transaction, keeping their ids; returns the rows inserted, updated or deleted';

REVOKE ALL ON FUNCTION orion.definitions(), orion.load_definitions(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.definitions(), orion.load_definitions(jsonb) TO orion_admin;
