/* sql/orion.sql: the full install script of orion (the Makefile copies it to sql/orion--$(EXTVERSION).sql) */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION orion" to load this file. \quit

/*
 * This file is the one definition of orion that a person edits: CREATE
 * EXTENSION orion runs it alone, and the upgrade scripts
 * sql/orion--A--B.sql bring an older installation to exactly what it
 * creates (the regress test "upgrade" compares the two object by object).
 * A change here needs the same change in a new upgrade script.
 *
 * orion keeps the five service databases of the ORION platform as five
 * schemas of one database, and the API in a sixth. The schema "orion" is the
 * extension's own (orion.control: schema = orion); CREATE EXTENSION makes it.
 * Every object is schema-qualified: the script does not depend on the
 * caller's search_path.
 *
 * Sections, one per service after the shared foundation:
 *   1. foundation and roles     5. feature flags
 *   2. auth                     6. AB testing
 *   3. users                    7. integrity (user references across services)
 *   4. notifications            8. maintenance
 *
 * Tables follow the seed's SQL column by column, and keep its column order
 * with the columns later releases added at the end, where an upgraded
 * installation has them. The deliberate deviations, each explained in
 * README.md ("Deviations from the original platform"):
 *   - every TIMESTAMP is timestamptz;
 *   - email is unique case-insensitively (unique index on lower(email));
 *   - sessions.token and refresh_tokens.token hold the SHA-256 (hex) of the
 *     token, never the token itself, which a CHECK enforces;
 *   - an index that would only duplicate a UNIQUE constraint's own index is
 *     left out (the constraint's index serves the same lookups);
 *   - indexes added where an access path needs them.
 *
 * Every table that holds user data is registered with
 * pg_extension_config_dump, so that pg_dump and pg_restore carry its rows
 * (pg_dump orders the data of registered tables by their foreign keys).
 *
 * Privileges follow the seed's Database-Service Mapping. Objects stay owned
 * by the role that ran CREATE EXTENSION; each service role gets exactly
 * what the mapping grants it:
 *
 *   auth          read/write users, sessions, refresh_tokens; write audit_logs
 *   user          read/write users (through orion_user.users, no password_hash)
 *   notifications read/write notifications
 *   feature flags read/write feature_flags, segments
 *   AB testing    read/write ab_tests, ab_test_assignments, ab_test_conversions
 *
 * orion_admin is a member of all five and may also read the audit log and
 * run maintenance. Functions that change a service's data run as the
 * caller, who needs that service's role; PUBLIC may not call them. Functions
 * every service needs, and trigger functions that write across schemas, are
 * SECURITY DEFINER and pin search_path (with a SET clause, or in their C
 * code around the only SQL they run).
 */

-------------------------------------------------------------------------------
-- 1. Foundation and roles
-------------------------------------------------------------------------------

/*
 * Roles are global objects, not members of the extension: they are created
 * here when missing and left alone by DROP EXTENSION, since other databases
 * of the cluster and the grants of application roles may use them. A role
 * that already exists (orion installed in a second database, or created by
 * a DBA beforehand) is used as it is: README.md, "Roles", says to check its
 * members.
 */
DO $roles$
DECLARE
    services CONSTANT name[] := ARRAY[
        'orion_auth_service', 'orion_user_service',
        'orion_notifications_service', 'orion_feature_flags_service',
        'orion_ab_testing_service'];
    role_name name;
BEGIN
    FOREACH role_name IN ARRAY pg_catalog.array_append(services, 'orion_admin')
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
            -- role_name comes from the constants above, never from input
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        END IF;
    END LOOP;

    -- orion_admin is a member of every service role
    FOREACH role_name IN ARRAY services
    LOOP
        IF NOT pg_catalog.pg_has_role('orion_admin', role_name, 'MEMBER') THEN
            EXECUTE pg_catalog.format('GRANT %I TO orion_admin', role_name);
        END IF;
    END LOOP;
END
$roles$;

CREATE SCHEMA orion_auth;
CREATE SCHEMA orion_user;
CREATE SCHEMA orion_notifications;
CREATE SCHEMA orion_feature_flags;
CREATE SCHEMA orion_ab_testing;

COMMENT ON SCHEMA orion IS 'orion API: functions and views every service calls';
COMMENT ON SCHEMA orion_auth IS 'Auth service: users, sessions, refresh tokens, audit log';
COMMENT ON SCHEMA orion_user IS 'User service: user profiles (a view over orion_auth.users without password_hash)';
COMMENT ON SCHEMA orion_notifications IS 'Notifications service: notifications';
COMMENT ON SCHEMA orion_feature_flags IS 'Feature Flags service: feature flags';
COMMENT ON SCHEMA orion_ab_testing IS 'AB Testing service: tests and assignments';

-- each service role may use its own schema; every role may call the API
GRANT USAGE ON SCHEMA orion TO PUBLIC;
GRANT USAGE ON SCHEMA orion_auth TO orion_auth_service;
GRANT USAGE ON SCHEMA orion_user TO orion_user_service;
GRANT USAGE ON SCHEMA orion_notifications TO orion_notifications_service;
GRANT USAGE ON SCHEMA orion_feature_flags TO orion_feature_flags_service;
GRANT USAGE ON SCHEMA orion_ab_testing TO orion_ab_testing_service;

CREATE FUNCTION orion.version()
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_version'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.version() IS 'Version of the loaded orion library (compare with pg_extension.extversion)';

/*
 * Trigger functions the services share. cache_invalidate (a statement
 * trigger) tells every backend's flag and AB test caches that their table
 * changed; notify_cache sends the original platform's cache key of a
 * changed row (NOTIFY orion_cache_invalidate at commit), for applications
 * that keep a cache of their own. Neither is for calling.
 */
CREATE FUNCTION orion.cache_invalidate()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_cache_invalidate'
    LANGUAGE C;
COMMENT ON FUNCTION orion.cache_invalidate() IS 'Trigger: tells every backend''s orion caches that the table changed';

CREATE FUNCTION orion.notify_cache()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_notify_cache'
    LANGUAGE C;
COMMENT ON FUNCTION orion.notify_cache() IS 'Trigger: NOTIFY orion_cache_invalidate with the row''s cache key, made from the template argument';

REVOKE ALL ON FUNCTION orion.cache_invalidate(), orion.notify_cache() FROM PUBLIC;

-------------------------------------------------------------------------------
-- 2. Auth service (auth_db)
-------------------------------------------------------------------------------

CREATE TABLE orion_auth.users (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    email           varchar(255) NOT NULL,
    password_hash   varchar(255) NOT NULL,
    first_name      varchar(100),
    last_name       varchar(100),
    role            varchar(50) NOT NULL DEFAULT 'user',
    email_verified  boolean DEFAULT false,
    created_at      timestamptz DEFAULT CURRENT_TIMESTAMP,
    updated_at      timestamptz DEFAULT CURRENT_TIMESTAMP,
    last_login_at   timestamptz,
    -- lockout (0.2.0)
    failed_login_count  integer NOT NULL DEFAULT 0,
    locked_until        timestamptz
);
-- The seed's UNIQUE(email), made case-insensitive: Ada@Example.com and
-- ada@example.com are one account.
CREATE UNIQUE INDEX users_email_lower_key ON orion_auth.users (pg_catalog.lower(email));
CREATE INDEX idx_users_email ON orion_auth.users (email);
CREATE INDEX idx_users_role ON orion_auth.users (role);

COMMENT ON TABLE orion_auth.users IS 'Accounts; password_hash is readable by orion_auth_service only';
COMMENT ON COLUMN orion_auth.users.id IS 'The user''s id, which every service refers to';
COMMENT ON COLUMN orion_auth.users.email IS 'Unique case-insensitively (users_email_lower_key)';
COMMENT ON COLUMN orion_auth.users.password_hash IS 'Argon2id or bcrypt hash string, never a password';
COMMENT ON COLUMN orion_auth.users.first_name IS 'Given name';
COMMENT ON COLUMN orion_auth.users.last_name IS 'Family name';
COMMENT ON COLUMN orion_auth.users.role IS 'Application role, ''user'' by default; changes are audited (trigger audit_role_change)';
COMMENT ON COLUMN orion_auth.users.email_verified IS 'Whether the email address has been verified';
COMMENT ON COLUMN orion_auth.users.created_at IS 'When the account was created';
COMMENT ON COLUMN orion_auth.users.updated_at IS 'When the account was last changed (orion sets it on password changes)';
COMMENT ON COLUMN orion_auth.users.last_login_at IS 'When the last successful login was';
COMMENT ON COLUMN orion_auth.users.failed_login_count IS 'Failed logins in a row; reset by a successful one';
COMMENT ON COLUMN orion_auth.users.locked_until IS 'Logins fail until then (orion.max_failed_logins, orion.lockout_duration)';
COMMENT ON INDEX orion_auth.users_pkey IS 'Primary key: a user by id';
COMMENT ON INDEX orion_auth.users_email_lower_key IS 'One account per email address, case-insensitively; serves lookups by lower(email)';
COMMENT ON INDEX orion_auth.idx_users_email IS 'The seed''s index: lookups by email as written';
COMMENT ON INDEX orion_auth.idx_users_role IS 'The seed''s index: users by role';
COMMENT ON CONSTRAINT users_pkey ON orion_auth.users IS 'Each user has one id, which sessions, refresh tokens, the audit log and the other services'' rows refer to';

CREATE TABLE orion_auth.sessions (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    token       varchar(500) UNIQUE NOT NULL
                CONSTRAINT sessions_token_is_sha256 CHECK (token ~ '^[0-9a-f]{64}$'),
    ip_address  varchar(45),
    user_agent  text,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz DEFAULT CURRENT_TIMESTAMP,
    -- a session keeps the access token a refresh replaced until that one
    -- expires, so that two tabs refreshing at once do not sign each other
    -- out (0.2.0)
    previous_token      varchar(500)
                        CONSTRAINT sessions_previous_token_is_sha256 CHECK (previous_token ~ '^[0-9a-f]{64}$'),
    previous_expires_at timestamptz,
    revoked_at          timestamptz,
    revoked_reason      text
);
CREATE INDEX idx_sessions_user_id ON orion_auth.sessions (user_id);
-- maintenance walks sessions in (expires_at, id) order: the id breaks ties
-- between sessions created together (the seed's index had expires_at alone)
CREATE INDEX idx_sessions_expires_at ON orion_auth.sessions (expires_at, id);
CREATE INDEX idx_sessions_previous_token ON orion_auth.sessions (previous_token)
    WHERE previous_token IS NOT NULL;

COMMENT ON TABLE orion_auth.sessions IS 'One row per signed-in device';
COMMENT ON COLUMN orion_auth.sessions.id IS 'The session''s id (login and refresh_session return it)';
COMMENT ON COLUMN orion_auth.sessions.user_id IS 'The signed-in user; the session goes when the user does';
COMMENT ON COLUMN orion_auth.sessions.token IS 'SHA-256 (lower-case hex) of the access token; the token itself is never stored';
COMMENT ON COLUMN orion_auth.sessions.ip_address IS 'Client IP address at login, or at the last refresh that gave one';
COMMENT ON COLUMN orion_auth.sessions.user_agent IS 'Client user agent at login, or at the last refresh that gave one';
COMMENT ON COLUMN orion_auth.sessions.expires_at IS 'When the current access token expires (orion.access_token_ttl)';
COMMENT ON COLUMN orion_auth.sessions.created_at IS 'When the session began (the login)';
COMMENT ON COLUMN orion_auth.sessions.previous_token IS 'SHA-256 (hex) of the access token the last refresh replaced';
COMMENT ON COLUMN orion_auth.sessions.previous_expires_at IS 'When previous_token stops being accepted';
COMMENT ON COLUMN orion_auth.sessions.revoked_at IS 'When the session was ended (logout, revocation, password change, token reuse)';
COMMENT ON COLUMN orion_auth.sessions.revoked_reason IS 'Why the session was ended';
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

CREATE TABLE orion_auth.refresh_tokens (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    token           varchar(500) UNIQUE NOT NULL
                    CONSTRAINT refresh_tokens_token_is_sha256 CHECK (token ~ '^[0-9a-f]{64}$'),
    expires_at      timestamptz NOT NULL,
    revoked         boolean DEFAULT false,
    revoked_reason  text,
    created_at      timestamptz DEFAULT CURRENT_TIMESTAMP,
    -- refresh tokens belong to a session (0.2.0)
    session_id      uuid REFERENCES orion_auth.sessions (id) ON DELETE CASCADE,
    revoked_at      timestamptz
);
CREATE INDEX idx_refresh_tokens_user_id ON orion_auth.refresh_tokens (user_id);
CREATE INDEX idx_refresh_tokens_session_id ON orion_auth.refresh_tokens (session_id);
-- what maintenance removes: expired tokens, and revoked ones past
-- orion.revoked_token_retention
CREATE INDEX idx_refresh_tokens_expires_at ON orion_auth.refresh_tokens (expires_at);
CREATE INDEX idx_refresh_tokens_revoked ON orion_auth.refresh_tokens
    ((coalesce(revoked_at, created_at))) WHERE revoked;

COMMENT ON TABLE orion_auth.refresh_tokens IS 'Refresh tokens; revoked ones are kept for reuse detection';
COMMENT ON COLUMN orion_auth.refresh_tokens.id IS 'The refresh token''s id';
COMMENT ON COLUMN orion_auth.refresh_tokens.user_id IS 'The token''s user; the token goes when the user does';
COMMENT ON COLUMN orion_auth.refresh_tokens.token IS 'SHA-256 (lower-case hex) of the refresh token; the token itself is never stored';
COMMENT ON COLUMN orion_auth.refresh_tokens.expires_at IS 'When the token expires (orion.refresh_token_ttl after it was issued)';
COMMENT ON COLUMN orion_auth.refresh_tokens.revoked IS 'Whether the token was revoked (rotated by a refresh, logout, revocation)';
COMMENT ON COLUMN orion_auth.refresh_tokens.revoked_reason IS 'Why the token was revoked, e.g. rotated';
COMMENT ON COLUMN orion_auth.refresh_tokens.created_at IS 'When the token was issued';
COMMENT ON COLUMN orion_auth.refresh_tokens.session_id IS 'The session this token refreshes';
COMMENT ON COLUMN orion_auth.refresh_tokens.revoked_at IS 'When the token was revoked (for reuse detection after rotation)';
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

CREATE TABLE orion_auth.audit_logs (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id      uuid REFERENCES orion_auth.users (id) ON DELETE SET NULL,
    action       varchar(100) NOT NULL,
    resource     varchar(100) NOT NULL,
    resource_id  varchar(100),
    old_data     jsonb,
    new_data     jsonb,
    ip_address   varchar(45),
    user_agent   text,
    created_at   timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_audit_logs_user_id ON orion_auth.audit_logs (user_id);
CREATE INDEX idx_audit_logs_action ON orion_auth.audit_logs (action);
CREATE INDEX idx_audit_logs_resource ON orion_auth.audit_logs (resource);
CREATE INDEX idx_audit_logs_created_at ON orion_auth.audit_logs (created_at);

COMMENT ON TABLE orion_auth.audit_logs IS 'Append-only audit trail; the auth service may insert, orion_admin may read';
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

SELECT pg_catalog.pg_extension_config_dump('orion_auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.refresh_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.one_time_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.totp_factors', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.recovery_codes', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.audit_logs', '');

GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_auth.users, orion_auth.sessions, orion_auth.refresh_tokens, orion_auth.one_time_tokens,
       orion_auth.totp_factors, orion_auth.recovery_codes
    TO orion_auth_service;
GRANT INSERT ON orion_auth.audit_logs TO orion_auth_service;
GRANT SELECT ON orion_auth.audit_logs TO orion_admin;

-- Passwords: primitives that touch no table, for every role

CREATE FUNCTION orion.hash_password(password text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_hash_password'
    LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION orion.hash_password(text) IS 'A new Argon2id PHC hash of password at the orion.argon2_* settings';

CREATE FUNCTION orion.verify_password(password text, hash text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_verify_password'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION orion.verify_password(text, text) IS 'Whether password matches an Argon2id or bcrypt ($2a$, $2b$, $2y$) hash';

CREATE FUNCTION orion.password_needs_rehash(hash text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_password_needs_rehash'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION orion.password_needs_rehash(text) IS 'Whether hash is anything but Argon2id at the current settings';

-- Accounts

CREATE FUNCTION orion.register_user(email text, password text,
                                    first_name text DEFAULT NULL, last_name text DEFAULT NULL,
                                    role text DEFAULT 'user')
    RETURNS uuid
    AS 'MODULE_PATHNAME', 'orion_register_user'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.register_user(text, text, text, text, text) IS 'Creates an account with an Argon2id password hash; returns its id';

CREATE FUNCTION orion.change_password(user_id uuid, current_password text, new_password text,
                                      current_session_id uuid DEFAULT NULL)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_change_password'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.change_password(uuid, text, text, uuid) IS 'Changes a password after checking the current one; revokes every other session';

CREATE FUNCTION orion.set_password(user_id uuid, new_password text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'orion_set_password'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.set_password(uuid, text) IS 'Administrator reset: new password, lockout lifted, every session revoked';

-- Sessions

CREATE FUNCTION orion.login(email text, password text,
                            ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid,
                   access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz,
                   mfa_challenge text)
    AS 'MODULE_PATHNAME', 'orion_login'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.login(text, text, text, text) IS 'Signs in: one row with new tokens (with TOTP active, only an mfa_challenge for verify_totp), or no row for a wrong email, password or a locked account';

/*
 * Every service validates sessions; none but auth may read the tables, so
 * this runs as the extension's owner and reads only what it returns. It
 * probes the session's unique index directly and pins search_path itself
 * around the statements it still runs (a SET clause would switch settings
 * on every call).
 */
CREATE FUNCTION orion.validate_session(access_token text)
    RETURNS TABLE (user_id uuid, session_id uuid, email text, role text, expires_at timestamptz)
    AS 'MODULE_PATHNAME', 'orion_validate_session'
    LANGUAGE C STABLE SECURITY DEFINER ROWS 1;
COMMENT ON FUNCTION orion.validate_session(text) IS 'The live session of an access token (opaque, or a JWT whose signature and claims hold), or no row';

CREATE FUNCTION orion.refresh_session(refresh_token text,
                                      ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid,
                   access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz)
    AS 'MODULE_PATHNAME', 'orion_refresh_session'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.refresh_session(text, text, text) IS 'Rotates a refresh token: new tokens in the same session, or no row';

CREATE FUNCTION orion.logout(token text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_logout'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.logout(text) IS 'Ends the session of an access or refresh token';

CREATE FUNCTION orion.list_sessions(user_id uuid)
    RETURNS TABLE (session_id uuid, ip_address text, user_agent text, created_at timestamptz,
                   access_expires_at timestamptz, refresh_expires_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF list_sessions.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RETURN QUERY
        SELECT s.id, s.ip_address::text, s.user_agent, s.created_at, s.expires_at, r.refresh_expires_at
          FROM orion_auth.sessions s
          LEFT JOIN LATERAL (
                SELECT max(t.expires_at) AS refresh_expires_at
                  FROM orion_auth.refresh_tokens t
                 WHERE t.session_id = s.id AND t.revoked IS NOT TRUE AND t.expires_at > now()
               ) r ON true
         WHERE s.user_id = list_sessions.user_id
           AND s.revoked_at IS NULL
           AND (s.expires_at > now() OR r.refresh_expires_at IS NOT NULL)
         ORDER BY s.created_at DESC, s.id;
    END
    $$;
COMMENT ON FUNCTION orion.list_sessions(uuid) IS 'The live sessions (signed-in devices) of a user, newest first';

CREATE FUNCTION orion.revoke_session(session_id uuid, reason text DEFAULT 'revoked')
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_revoke_session'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.revoke_session(uuid, text) IS 'Ends one session and its refresh tokens';

CREATE FUNCTION orion.revoke_all_sessions(user_id uuid, reason text DEFAULT 'revoked')
    RETURNS integer
    AS 'MODULE_PATHNAME', 'orion_revoke_all_sessions'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.revoke_all_sessions(uuid, text) IS 'Signs a user out everywhere; returns how many sessions ended';

CREATE FUNCTION orion.revoke_refresh_token(refresh_token text, reason text DEFAULT 'revoked')
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_revoke_refresh_token'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.revoke_refresh_token(text, text) IS 'Revokes one refresh token';

-- Account flows: one-time tokens

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

-- Two-factor authentication (TOTP)

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

-- Audit

CREATE FUNCTION orion.audit(action text, resource text, resource_id text DEFAULT NULL,
                            old_data jsonb DEFAULT NULL, new_data jsonb DEFAULT NULL,
                            actor_id uuid DEFAULT NULL,
                            ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS uuid
    AS 'MODULE_PATHNAME', 'orion_audit'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.audit(text, text, text, jsonb, jsonb, uuid, text, text) IS 'Writes an audit entry; actor, IP and user agent default to the orion.* request settings';

/*
 * Role changes are audited however they are made (orion, a plain UPDATE, the
 * user service's view). The trigger writes as the extension's owner because
 * the user service may change a role but not write the audit log.
 * audit_change does the same for the flags and AB tests of sections 5 and 6.
 */
CREATE FUNCTION orion.audit_role_change()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_audit_role_change'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.audit_role_change() IS 'Trigger: audits changes of orion_auth.users.role';

CREATE FUNCTION orion.audit_change()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_audit_change'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.audit_change() IS 'Trigger: audits a row change (<resource>.created, .updated, .deleted) and, given a cache key prefix, sends NOTIFY orion_cache_invalidate with the row''s key';

CREATE TRIGGER audit_role_change
    AFTER UPDATE OF role ON orion_auth.users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION orion.audit_role_change();
COMMENT ON TRIGGER audit_role_change ON orion_auth.users IS 'Writes a user.role_changed audit entry when a user''s role changes';

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

-- the original platform's cache keys of a user's profile and of a session
-- (it cached sessions by token; orion stores only its SHA-256)
CREATE TRIGGER notify_cache
    AFTER UPDATE OR DELETE ON orion_auth.users
    FOR EACH ROW EXECUTE FUNCTION orion.notify_cache('user:profile:{id}');
COMMENT ON TRIGGER notify_cache ON orion_auth.users IS 'Sends the cache key user:profile:<id> of a changed or deleted user (NOTIFY orion_cache_invalidate)';
CREATE TRIGGER notify_cache
    AFTER UPDATE OR DELETE ON orion_auth.sessions
    FOR EACH ROW EXECUTE FUNCTION orion.notify_cache('user:session:{token}');
COMMENT ON TRIGGER notify_cache ON orion_auth.sessions IS 'Sends the cache key user:session:<token digest> of a changed or deleted session (NOTIFY orion_cache_invalidate); not for the sessions maintenance removes';

/*
 * The functions that change auth data run as the caller, who needs the auth
 * service's role; PUBLIC may not even call them. validate_session is for
 * every service. The password primitives touch no table and stay public.
 */
REVOKE ALL ON FUNCTION
    orion.register_user(text, text, text, text, text),
    orion.change_password(uuid, text, text, uuid),
    orion.set_password(uuid, text),
    orion.login(text, text, text, text),
    orion.refresh_session(text, text, text),
    orion.logout(text),
    orion.list_sessions(uuid),
    orion.revoke_session(uuid, text),
    orion.revoke_all_sessions(uuid, text),
    orion.revoke_refresh_token(text, text),
    orion.request_email_verification(uuid),
    orion.verify_email(text),
    orion.request_password_reset(text),
    orion.reset_password(text, text),
    orion.request_sign_in_link(text),
    orion.sign_in_with_link(text, text, text),
    orion.enroll_totp(uuid),
    orion.confirm_totp(uuid, text),
    orion.disable_totp(uuid),
    orion.regenerate_recovery_codes(uuid),
    orion.verify_totp(text, text, text, text),
    orion.audit(text, text, text, jsonb, jsonb, uuid, text, text),
    orion.validate_session(text),
    orion.reseal_secrets(),
    orion.audit_role_change(),
    orion.audit_change()
    FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    orion.register_user(text, text, text, text, text),
    orion.change_password(uuid, text, text, uuid),
    orion.set_password(uuid, text),
    orion.login(text, text, text, text),
    orion.refresh_session(text, text, text),
    orion.logout(text),
    orion.list_sessions(uuid),
    orion.revoke_session(uuid, text),
    orion.revoke_all_sessions(uuid, text),
    orion.revoke_refresh_token(text, text),
    orion.request_email_verification(uuid),
    orion.verify_email(text),
    orion.request_password_reset(text),
    orion.reset_password(text, text),
    orion.request_sign_in_link(text),
    orion.sign_in_with_link(text, text, text),
    orion.enroll_totp(uuid),
    orion.confirm_totp(uuid, text),
    orion.disable_totp(uuid),
    orion.regenerate_recovery_codes(uuid),
    orion.verify_totp(text, text, text, text),
    orion.audit(text, text, text, jsonb, jsonb, uuid, text, text)
    TO orion_auth_service;

GRANT EXECUTE ON FUNCTION orion.validate_session(text)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;

-------------------------------------------------------------------------------
-- 3. User service (user_db): the profile view
-------------------------------------------------------------------------------

/*
 * The user service reads and writes the same users as the auth service, but
 * never sees password_hash. The view runs with its owner's rights, so
 * orion_user_service needs no privilege on orion_auth.users; it is simple
 * enough to be automatically updatable (UPDATE and DELETE pass through).
 */
CREATE VIEW orion_user.users AS
    SELECT id, email, first_name, last_name, role, email_verified,
           created_at, updated_at, last_login_at
      FROM orion_auth.users;

COMMENT ON VIEW orion_user.users IS 'User profiles: orion_auth.users without password_hash (auto-updatable)';
COMMENT ON COLUMN orion_user.users.id IS 'orion_auth.users.id';
COMMENT ON COLUMN orion_user.users.email IS 'orion_auth.users.email (unique case-insensitively)';
COMMENT ON COLUMN orion_user.users.first_name IS 'orion_auth.users.first_name';
COMMENT ON COLUMN orion_user.users.last_name IS 'orion_auth.users.last_name';
COMMENT ON COLUMN orion_user.users.role IS 'orion_auth.users.role (changes are audited)';
COMMENT ON COLUMN orion_user.users.email_verified IS 'orion_auth.users.email_verified';
COMMENT ON COLUMN orion_user.users.created_at IS 'orion_auth.users.created_at';
COMMENT ON COLUMN orion_user.users.updated_at IS 'orion_auth.users.updated_at';
COMMENT ON COLUMN orion_user.users.last_login_at IS 'orion_auth.users.last_login_at';

GRANT SELECT, UPDATE, DELETE ON orion_user.users TO orion_user_service;

/*
 * Through the user service's view, so the user service may call it; the
 * cleanup trigger of section 7 does the rest.
 */
CREATE FUNCTION orion.delete_user(id uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF delete_user.id IS NULL THEN
            RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        DELETE FROM orion_user.users u WHERE u.id = delete_user.id;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed > 0;
    END
    $$;
COMMENT ON FUNCTION orion.delete_user(uuid) IS 'Deletes a user and, by orion''s triggers and foreign keys, everything that names them';

REVOKE ALL ON FUNCTION orion.delete_user(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.delete_user(uuid) TO orion_user_service;

-------------------------------------------------------------------------------
-- 4. Notifications service (notifications_db)
-------------------------------------------------------------------------------

CREATE DOMAIN orion.notification_channel AS text
    CONSTRAINT notification_channel_known
    CHECK (VALUE IN ('email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord'));
COMMENT ON DOMAIN orion.notification_channel IS 'The original platform''s channels: email, sms, push, in_app, webhook, slack, discord';
COMMENT ON CONSTRAINT notification_channel_known ON DOMAIN orion.notification_channel IS 'The original platform''s seven channels: the API refuses an unknown one (23514) before it is stored and never delivered';

CREATE TABLE orion_notifications.notifications (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL,
    type        varchar(50) NOT NULL,
    channel     varchar(50) NOT NULL,
    title       varchar(255) NOT NULL,
    message     text NOT NULL,
    metadata    jsonb,
    read        boolean DEFAULT false,
    read_at     timestamptz,
    created_at  timestamptz DEFAULT CURRENT_TIMESTAMP,
    -- delivery state (0.5.0)
    status        varchar(20) NOT NULL DEFAULT 'pending'
                  CONSTRAINT notifications_status_known CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text,
    claimed_at    timestamptz,
    delivered_at  timestamptz,
    CONSTRAINT notifications_channel_known
        CHECK (channel IN ('email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord'))
);
CREATE INDEX idx_notifications_user_id ON orion_notifications.notifications (user_id);
CREATE INDEX idx_notifications_type ON orion_notifications.notifications (type);
CREATE INDEX idx_notifications_read ON orion_notifications.notifications (read);
CREATE INDEX idx_notifications_created_at ON orion_notifications.notifications (created_at);
/*
 * The lists, newest first, in the order keyset pagination reads them (the
 * id breaks ties between notifications created at the same moment): the
 * seed's unread list (WHERE user_id = $1 AND read = false ORDER BY
 * created_at DESC LIMIT n) and unread counts read only the first.
 */
CREATE INDEX idx_notifications_unread ON orion_notifications.notifications
    (user_id, created_at DESC, id DESC) WHERE NOT read;
CREATE INDEX idx_notifications_user_created ON orion_notifications.notifications
    (user_id, created_at DESC, id DESC);
-- what delivery workers claim
CREATE INDEX idx_notifications_pending ON orion_notifications.notifications (channel, created_at)
    WHERE status IN ('pending', 'sending');
-- what maintenance removes past orion.read_notification_retention
CREATE INDEX idx_notifications_read_at ON orion_notifications.notifications
    ((coalesce(read_at, created_at))) WHERE read;

COMMENT ON TABLE orion_notifications.notifications IS 'Notifications; user_id refers to orion_auth.users logically (no foreign key across services)';
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
COMMENT ON COLUMN orion_notifications.notifications.status IS 'pending, sending (claimed by a worker), delivered or failed; in_app ones are delivered when sent';
COMMENT ON COLUMN orion_notifications.notifications.attempts IS 'How many times a worker claimed it';
COMMENT ON COLUMN orion_notifications.notifications.last_error IS 'What the last failed delivery reported';
COMMENT ON COLUMN orion_notifications.notifications.claimed_at IS 'When a worker claimed it';
COMMENT ON COLUMN orion_notifications.notifications.delivered_at IS 'When it was delivered';
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

SELECT pg_catalog.pg_extension_config_dump('orion_notifications.notifications', '');

GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_notifications.notifications TO orion_notifications_service;

CREATE FUNCTION orion.announce_notification()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_announce_notification'
    LANGUAGE C;
COMMENT ON FUNCTION orion.announce_notification() IS 'Trigger: NOTIFY orion_notifications with a new notification''s id, user_id, type and channel';

CREATE TRIGGER announce_notification
    AFTER INSERT ON orion_notifications.notifications
    FOR EACH ROW EXECUTE FUNCTION orion.announce_notification();
COMMENT ON TRIGGER announce_notification ON orion_notifications.notifications IS 'Sends NOTIFY orion_notifications with each new notification''s id, user_id, type and channel';

REVOKE ALL ON FUNCTION orion.announce_notification() FROM PUBLIC;

CREATE FUNCTION orion.send_notification(user_id uuid, type text, channel orion.notification_channel,
                                        title text, message text, metadata jsonb DEFAULT NULL)
    RETURNS uuid
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, status)
        VALUES (send_notification.user_id, send_notification.type, send_notification.channel,
                send_notification.title, send_notification.message, send_notification.metadata,
                CASE WHEN send_notification.channel = 'in_app' THEN 'delivered' ELSE 'pending' END)
        RETURNING id
    $$;
COMMENT ON FUNCTION orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb) IS 'Stores a notification (in_app ones as delivered, others pending for a worker); returns its id';

CREATE FUNCTION orion.send_notifications(user_ids uuid[], type text, channel orion.notification_channel,
                                         title text, message text, metadata jsonb DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        sent integer;
    BEGIN
        IF send_notifications.user_ids IS NULL THEN
            RAISE EXCEPTION 'user_ids must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        -- NULL elements are skipped; the other NULL fields meet the table's NOT NULL
        INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, status)
        SELECT DISTINCT u, send_notifications.type, send_notifications.channel,
               send_notifications.title, send_notifications.message, send_notifications.metadata,
               CASE WHEN send_notifications.channel = 'in_app' THEN 'delivered' ELSE 'pending' END
          FROM unnest(send_notifications.user_ids) AS u
         WHERE u IS NOT NULL;
        GET DIAGNOSTICS sent = ROW_COUNT;
        RETURN sent;
    END
    $$;
COMMENT ON FUNCTION orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb) IS 'One notification to many users in one statement (each user once); returns how many were stored';

CREATE FUNCTION orion.mark_read(id uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF mark_read.id IS NULL THEN
            RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        UPDATE orion_notifications.notifications n SET read = true, read_at = now()
         WHERE n.id = mark_read.id AND n.read IS NOT TRUE;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed > 0;
    END
    $$;
COMMENT ON FUNCTION orion.mark_read(uuid) IS 'Marks one notification read; false if it was already, or does not exist';

CREATE FUNCTION orion.mark_all_read(user_id uuid)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF mark_all_read.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        UPDATE orion_notifications.notifications n SET read = true, read_at = now()
         WHERE n.user_id = mark_all_read.user_id AND n.read IS NOT TRUE;
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed;
    END
    $$;
COMMENT ON FUNCTION orion.mark_all_read(uuid) IS 'Marks all of a user''s notifications read; returns how many were unread';

CREATE FUNCTION orion.unread_count(user_id uuid)
    RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF unread_count.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RETURN (SELECT count(*) FROM orion_notifications.notifications n
                 WHERE n.user_id = unread_count.user_id AND n.read = false);
    END
    $$;
COMMENT ON FUNCTION orion.unread_count(uuid) IS 'How many of a user''s notifications are unread';

/*
 * Keyset pagination: newest first, and the next page starts after the last
 * notification of the previous one (before => its id), so a page never
 * repeats or skips a row when new ones arrive. Four static queries, so each
 * is planned on the index that serves it.
 */
CREATE FUNCTION orion.list_notifications(user_id uuid, unread_only boolean DEFAULT false,
                                         max_rows integer DEFAULT 20, before uuid DEFAULT NULL)
    RETURNS SETOF orion_notifications.notifications
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        cursor_at timestamptz;
        cursor_id uuid;
    BEGIN
        IF list_notifications.user_id IS NULL THEN
            RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF unread_only IS NULL THEN
            RAISE EXCEPTION 'unread_only must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows IS NULL THEN
            RAISE EXCEPTION 'max_rows must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows < 1 OR max_rows > 1000 THEN
            RAISE EXCEPTION 'max_rows must be from 1 to 1000'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF before IS NOT NULL THEN
            SELECT n.created_at, n.id INTO cursor_at, cursor_id
              FROM orion_notifications.notifications n
             WHERE n.id = list_notifications.before AND n.user_id = list_notifications.user_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'notification % is not one of this user''s', before
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Pass the id of the last notification of the previous page.';
            END IF;
        END IF;

        IF unread_only AND before IS NULL THEN
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id AND n.read = false
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        ELSIF unread_only THEN
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id AND n.read = false
                AND (n.created_at, n.id) < (cursor_at, cursor_id)
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        ELSIF before IS NULL THEN
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        ELSE
            RETURN QUERY SELECT n.* FROM orion_notifications.notifications n
              WHERE n.user_id = list_notifications.user_id
                AND (n.created_at, n.id) < (cursor_at, cursor_id)
              ORDER BY n.created_at DESC, n.id DESC LIMIT max_rows;
        END IF;
    END
    $$;
COMMENT ON FUNCTION orion.list_notifications(uuid, boolean, integer, uuid) IS 'A user''s notifications, newest first, a page at a time (keyset pagination)';

/*
 * External delivery: a worker claims pending notifications of its channel
 * (skipping rows another worker holds), delivers them, and reports. A claim
 * that was never reported is claimable again after 5 minutes.
 */
CREATE FUNCTION orion.claim_notifications(channel orion.notification_channel, max_rows integer DEFAULT 100)
    RETURNS SETOF orion_notifications.notifications
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF claim_notifications.channel IS NULL THEN
            RAISE EXCEPTION 'channel must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows IS NULL THEN
            RAISE EXCEPTION 'max_rows must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF max_rows < 1 OR max_rows > 1000 THEN
            RAISE EXCEPTION 'max_rows must be from 1 to 1000'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN QUERY
        UPDATE orion_notifications.notifications n
           SET status = 'sending', claimed_at = now(), attempts = n.attempts + 1
         WHERE n.id IN (SELECT c.id FROM orion_notifications.notifications c
                         WHERE c.channel = claim_notifications.channel
                           AND (c.status = 'pending'
                                OR (c.status = 'sending' AND c.claimed_at < now() - interval '5 minutes'))
                         ORDER BY c.created_at
                         LIMIT claim_notifications.max_rows
                         FOR UPDATE SKIP LOCKED)
        RETURNING n.*;
    END
    $$;
COMMENT ON FUNCTION orion.claim_notifications(orion.notification_channel, integer) IS 'Claims up to max_rows pending notifications of a channel for a delivery worker (FOR UPDATE SKIP LOCKED)';

CREATE FUNCTION orion.report_delivery(id uuid, delivered boolean, error text DEFAULT NULL,
                                      retry boolean DEFAULT true)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        changed integer;
    BEGIN
        IF report_delivery.id IS NULL THEN
            RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF report_delivery.delivered IS NULL THEN
            RAISE EXCEPTION 'delivered must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF report_delivery.retry IS NULL THEN
            RAISE EXCEPTION 'retry must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        UPDATE orion_notifications.notifications n
           SET status = CASE WHEN report_delivery.delivered THEN 'delivered'
                             WHEN report_delivery.retry THEN 'pending' ELSE 'failed' END,
               delivered_at = CASE WHEN report_delivery.delivered THEN now() END,
               last_error = CASE WHEN report_delivery.delivered THEN NULL ELSE report_delivery.error END,
               claimed_at = NULL
         WHERE n.id = report_delivery.id AND n.status = 'sending';
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed > 0;
    END
    $$;
COMMENT ON FUNCTION orion.report_delivery(uuid, boolean, text, boolean) IS 'A worker''s report on a claimed notification: delivered, or failed (back to pending to retry, or failed for good)';

REVOKE ALL ON FUNCTION
    orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb),
    orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb),
    orion.mark_read(uuid), orion.mark_all_read(uuid), orion.unread_count(uuid),
    orion.list_notifications(uuid, boolean, integer, uuid),
    orion.claim_notifications(orion.notification_channel, integer),
    orion.report_delivery(uuid, boolean, text, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb),
    orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb),
    orion.mark_read(uuid), orion.mark_all_read(uuid), orion.unread_count(uuid),
    orion.list_notifications(uuid, boolean, integer, uuid),
    orion.claim_notifications(orion.notification_channel, integer),
    orion.report_delivery(uuid, boolean, text, boolean)
    TO orion_notifications_service;

-------------------------------------------------------------------------------
-- 5. Feature Flags service (feature_flags_db)
-------------------------------------------------------------------------------

-- what the tables may hold: checked when a row is written
CREATE FUNCTION orion.validate_rollout(rollout jsonb)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_validate_rollout'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.validate_rollout(jsonb) IS 'True for a rollout orion can evaluate; otherwise an error naming the JSON path and the problem';

CREATE FUNCTION orion.validate_segment_constraints(constraints jsonb)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_validate_segment_constraints'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.validate_segment_constraints(jsonb) IS 'True for a segment''s constraints orion can evaluate; otherwise an error naming the JSON path';

CREATE TABLE orion_feature_flags.feature_flags (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    key          varchar(100) UNIQUE NOT NULL,
    name         varchar(255) NOT NULL,
    description  text,
    enabled      boolean DEFAULT false,
    config       jsonb,
    rollout      jsonb,
    created_at   timestamptz DEFAULT CURRENT_TIMESTAMP,
    updated_at   timestamptz DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT feature_flags_rollout_valid CHECK (orion.validate_rollout(rollout))
);
CREATE INDEX idx_feature_flags_enabled ON orion_feature_flags.feature_flags (enabled);

COMMENT ON TABLE orion_feature_flags.feature_flags IS 'Feature flags and their rollout rules';
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

/*
 * Segments: Unleash's constraints shared by strategies, named by id.
 */
CREATE TABLE orion_feature_flags.segments (
    id          integer PRIMARY KEY,
    name        text,
    constraints jsonb NOT NULL DEFAULT '[]'
                CONSTRAINT segments_constraints_valid CHECK (orion.validate_segment_constraints(constraints))
);
COMMENT ON TABLE orion_feature_flags.segments IS 'Unleash segments: constraints that strategies name by id';
COMMENT ON COLUMN orion_feature_flags.segments.id IS 'The id strategies name the segment by (Unleash''s segment id)';
COMMENT ON COLUMN orion_feature_flags.segments.name IS 'Display name';
COMMENT ON COLUMN orion_feature_flags.segments.constraints IS 'Unleash constraints, all of which a context must meet (validate_segment_constraints)';
COMMENT ON INDEX orion_feature_flags.segments_pkey IS 'Primary key: a segment by the id strategies name';
COMMENT ON CONSTRAINT segments_pkey ON orion_feature_flags.segments IS 'One segment per id: strategies name segments by id';
COMMENT ON CONSTRAINT segments_constraints_valid ON orion_feature_flags.segments IS 'Constraints orion cannot evaluate are refused when written, naming their JSON path (validate_segment_constraints)';

SELECT pg_catalog.pg_extension_config_dump('orion_feature_flags.feature_flags', '');
SELECT pg_catalog.pg_extension_config_dump('orion_feature_flags.segments', '');

GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_feature_flags.feature_flags TO orion_feature_flags_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON orion_feature_flags.segments TO orion_feature_flags_service;

-- the flag cache follows changes; changes are audited
CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_feature_flags.feature_flags
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();
COMMENT ON TRIGGER cache_invalidate ON orion_feature_flags.feature_flags IS 'Invalidates every backend''s flag cache when flags change';
CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_feature_flags.segments
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();
COMMENT ON TRIGGER cache_invalidate ON orion_feature_flags.segments IS 'Invalidates every backend''s flag cache when segments change';
CREATE TRIGGER audit_change
    AFTER INSERT OR UPDATE OR DELETE ON orion_feature_flags.feature_flags
    FOR EACH ROW EXECUTE FUNCTION orion.audit_change('feature_flag', 'key', 'feature_flag:');
COMMENT ON TRIGGER audit_change ON orion_feature_flags.feature_flags IS 'Audits each flag change (feature_flag.created, .updated, .deleted) and sends its cache key feature_flag:<key>';
CREATE TRIGGER audit_change
    AFTER INSERT OR UPDATE OR DELETE ON orion_feature_flags.segments
    FOR EACH ROW EXECUTE FUNCTION orion.audit_change('segment', 'id');
COMMENT ON TRIGGER audit_change ON orion_feature_flags.segments IS 'Audits each segment change (segment.created, .updated, .deleted)';

/*
 * Every service evaluates flags; only the feature flags service may read
 * the tables. The evaluators run as the extension's owner and read only the
 * flag cache, and a user's email, role and emailVerified when a constraint
 * asks. They pin search_path to pg_catalog, pg_temp themselves around the
 * only SQL they run (filling the cache, that user lookup), rather than with
 * a SET clause, which would switch settings on every call of a function
 * meant to run once per row over millions of rows.
 */
CREATE FUNCTION orion.flag_enabled(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_flag_enabled'
    LANGUAGE C VOLATILE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.flag_enabled(text, uuid, jsonb) IS 'Whether a feature flag is on for a user and an Unleash context; an unknown flag is off';

CREATE FUNCTION orion.flag_variant(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'orion_flag_variant'
    LANGUAGE C VOLATILE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.flag_variant(text, uuid, jsonb) IS 'The Unleash variant of a feature flag for a user and context';

CREATE FUNCTION orion.evaluate_flag(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'orion_evaluate_flag'
    LANGUAGE C VOLATILE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.evaluate_flag(text, uuid, jsonb) IS 'A feature flag''s value, variant, config and OpenFeature reason';

CREATE FUNCTION orion.evaluate_all_flags(user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS TABLE (flag_key text, enabled boolean, variant jsonb, config jsonb)
    AS 'MODULE_PATHNAME', 'orion_evaluate_all_flags'
    LANGUAGE C VOLATILE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.evaluate_all_flags(uuid, jsonb) IS 'Every feature flag for a user and context, to bootstrap a client';

CREATE FUNCTION orion.flag_bucket(group_id text, id text, normalizer integer DEFAULT 100,
                                  seed bigint DEFAULT 0)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'orion_flag_bucket'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.flag_bucket(text, text, integer, bigint) IS 'Unleash''s normalized value of an id in a group: murmur3 over UTF-8, modulo normalizer, plus 1';

REVOKE ALL ON FUNCTION
    orion.flag_enabled(text, uuid, jsonb),
    orion.flag_variant(text, uuid, jsonb),
    orion.evaluate_flag(text, uuid, jsonb),
    orion.evaluate_all_flags(uuid, jsonb)
    FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    orion.flag_enabled(text, uuid, jsonb),
    orion.flag_variant(text, uuid, jsonb),
    orion.evaluate_flag(text, uuid, jsonb),
    orion.evaluate_all_flags(uuid, jsonb)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;

-------------------------------------------------------------------------------
-- 6. AB Testing service (ab_testing_db)
-------------------------------------------------------------------------------

-- GrowthBook's bucketing, exposed for checking and debugging
CREATE FUNCTION orion.growthbook_hash(seed text, value text, version integer DEFAULT 2)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'orion_growthbook_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.growthbook_hash(text, text, integer) IS 'GrowthBook''s hash(seed, value, version) in [0, 1); NULL for an unknown version';

CREATE FUNCTION orion.growthbook_bucket_ranges(num_variations integer, coverage double precision DEFAULT 1,
                                               weights double precision[] DEFAULT NULL)
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'orion_growthbook_bucket_ranges'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION orion.growthbook_bucket_ranges(integer, double precision, double precision[]) IS 'GrowthBook''s getBucketRanges: [start, end) per variation';

CREATE FUNCTION orion.growthbook_choose_variation(n double precision, ranges double precision[])
    RETURNS integer
    AS 'MODULE_PATHNAME', 'orion_growthbook_choose_variation'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.growthbook_choose_variation(double precision, double precision[]) IS 'GrowthBook''s chooseVariation: the 0-based index of the range holding n, or -1';

CREATE FUNCTION orion.validate_variants(variants jsonb)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_validate_variants'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION orion.validate_variants(jsonb) IS 'True for an AB test''s variants orion can assign; otherwise an error naming the problem';

CREATE TABLE orion_ab_testing.ab_tests (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    key          varchar(100) UNIQUE NOT NULL,
    name         varchar(255) NOT NULL,
    description  text,
    variants     jsonb NOT NULL,
    active       boolean DEFAULT false,
    start_date   timestamptz,
    end_date     timestamptz,
    created_at   timestamptz DEFAULT CURRENT_TIMESTAMP,
    updated_at   timestamptz DEFAULT CURRENT_TIMESTAMP,
    -- GrowthBook's assignment (0.4.0)
    traffic_allocation  double precision NOT NULL DEFAULT 1
                        CONSTRAINT ab_tests_traffic_allocation_range CHECK (traffic_allocation >= 0 AND traffic_allocation <= 1),
    hash_seed           text,
    hash_version        smallint NOT NULL DEFAULT 2
                        CONSTRAINT ab_tests_hash_version_known CHECK (hash_version IN (1, 2)),
    CONSTRAINT ab_tests_variants_valid CHECK (orion.validate_variants(variants))
);
CREATE INDEX idx_ab_tests_active ON orion_ab_testing.ab_tests (active);

COMMENT ON TABLE orion_ab_testing.ab_tests IS 'AB tests and their variants';
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
COMMENT ON COLUMN orion_ab_testing.ab_tests.traffic_allocation IS 'Share of users in the test, 0 to 1 (GrowthBook''s coverage)';
COMMENT ON COLUMN orion_ab_testing.ab_tests.hash_seed IS 'The hash seed; NULL: the key';
COMMENT ON COLUMN orion_ab_testing.ab_tests.hash_version IS 'GrowthBook hash version, 1 or 2';
COMMENT ON INDEX orion_ab_testing.ab_tests_pkey IS 'Primary key: a test by id';
COMMENT ON INDEX orion_ab_testing.ab_tests_key_key IS 'One test per key; variants are assigned by key';
COMMENT ON INDEX orion_ab_testing.idx_ab_tests_active IS 'The seed''s index: tests by running state';
COMMENT ON CONSTRAINT ab_tests_pkey ON orion_ab_testing.ab_tests IS 'Each test has one id, which its assignments and conversions refer to';
COMMENT ON CONSTRAINT ab_tests_key_key ON orion_ab_testing.ab_tests IS 'One test per key: variants are assigned and conversions tracked by key';
COMMENT ON CONSTRAINT ab_tests_traffic_allocation_range ON orion_ab_testing.ab_tests IS 'traffic_allocation is a share of users, from 0 to 1 (GrowthBook''s coverage)';
COMMENT ON CONSTRAINT ab_tests_hash_version_known ON orion_ab_testing.ab_tests IS 'hash_version is a GrowthBook hash version orion computes: 1 or 2';
COMMENT ON CONSTRAINT ab_tests_variants_valid ON orion_ab_testing.ab_tests IS 'Variants orion cannot assign are refused when written, naming the problem (validate_variants)';

CREATE TABLE orion_ab_testing.ab_test_assignments (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id      uuid NOT NULL,
    test_id      uuid NOT NULL REFERENCES orion_ab_testing.ab_tests (id) ON DELETE CASCADE,
    variant      varchar(100) NOT NULL,
    assigned_at  timestamptz DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (user_id, test_id)
);
CREATE INDEX idx_ab_test_assignments_user_id ON orion_ab_testing.ab_test_assignments (user_id);
/*
 * A user's assignment is looked up by (user_id, test_id). Before the table
 * has statistics the planner rates the unique index and the seed's index on
 * test_id alike, and a plan on test_id alone made each lookup read every
 * assignment of the test (quadratic in a batch). With user_id in both
 * indexes, either plan probes one row; test_id stays the leading column.
 */
CREATE INDEX idx_ab_test_assignments_test_id ON orion_ab_testing.ab_test_assignments (test_id, user_id);

COMMENT ON TABLE orion_ab_testing.ab_test_assignments IS 'One sticky variant per user and test';
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

CREATE TABLE orion_ab_testing.ab_test_conversions (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    test_id     uuid NOT NULL REFERENCES orion_ab_testing.ab_tests (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    variant     varchar(100) NOT NULL,
    event       varchar(100) NOT NULL,
    value       numeric,
    created_at  timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_ab_test_conversions_test_event ON orion_ab_testing.ab_test_conversions (test_id, event, user_id);
CREATE INDEX idx_ab_test_conversions_user_id ON orion_ab_testing.ab_test_conversions (user_id);

COMMENT ON TABLE orion_ab_testing.ab_test_conversions IS 'Conversion events of assigned users, under the variant they were assigned';
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

SELECT pg_catalog.pg_extension_config_dump('orion_ab_testing.ab_tests', '');
SELECT pg_catalog.pg_extension_config_dump('orion_ab_testing.ab_test_assignments', '');
SELECT pg_catalog.pg_extension_config_dump('orion_ab_testing.ab_test_conversions', '');

GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_ab_testing.ab_tests, orion_ab_testing.ab_test_assignments
    TO orion_ab_testing_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON orion_ab_testing.ab_test_conversions TO orion_ab_testing_service;

-- the test cache follows changes; changes to tests are audited; a new or
-- removed assignment sends the original platform's cache key
CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_ab_testing.ab_tests
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();
COMMENT ON TRIGGER cache_invalidate ON orion_ab_testing.ab_tests IS 'Invalidates every backend''s AB test cache when tests change';
CREATE TRIGGER audit_change
    AFTER INSERT OR UPDATE OR DELETE ON orion_ab_testing.ab_tests
    FOR EACH ROW EXECUTE FUNCTION orion.audit_change('ab_test', 'key');
COMMENT ON TRIGGER audit_change ON orion_ab_testing.ab_tests IS 'Audits each test change (ab_test.created, .updated, .deleted)';
CREATE TRIGGER notify_cache
    AFTER INSERT OR UPDATE OR DELETE ON orion_ab_testing.ab_test_assignments
    FOR EACH ROW EXECUTE FUNCTION orion.notify_cache('ab_test:{test_id}:assignment:{user_id}');
COMMENT ON TRIGGER notify_cache ON orion_ab_testing.ab_test_assignments IS 'Sends the cache key ab_test:<test id>:assignment:<user id> of a new, changed or removed assignment (NOTIFY orion_cache_invalidate)';

CREATE FUNCTION orion.assign_variant(test_key text, user_id uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_assign_variant'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.assign_variant(text, uuid) IS 'The user''s variant in an AB test, assigned once and kept; NULL when the test is not running or the user is outside its allocation';

/*
 * Every service may ask which variant a user has or would get. The
 * function runs as the extension's owner and only reads; like
 * validate_session it probes the unique index directly and pins
 * search_path itself around the statements it still runs.
 */
CREATE FUNCTION orion.peek_variant(test_key text, user_id uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_peek_variant'
    LANGUAGE C STABLE SECURITY DEFINER;
COMMENT ON FUNCTION orion.peek_variant(text, uuid) IS 'assign_variant''s answer without writing (works on a hot standby)';

CREATE FUNCTION orion.track_conversion(test_key text, user_id uuid, event text, value numeric DEFAULT NULL)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'orion_track_conversion'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.track_conversion(text, uuid, text, numeric) IS 'Records a conversion of an assigned user; false for an unknown test or an unassigned user';

CREATE FUNCTION orion.ab_test_results(test_key text, event text DEFAULT NULL)
    RETURNS TABLE (variant text, is_control boolean, weight double precision, users bigint,
                   conversions bigint, conversion_rate double precision, lift double precision,
                   p_value double precision, srm_p_value double precision)
    AS 'MODULE_PATHNAME', 'orion_ab_test_results'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION orion.ab_test_results(text, text) IS 'Per variant: users, conversions, rate, lift against the control, two-proportion z-test p-value, sample-ratio-mismatch p-value';
CREATE FUNCTION orion.ab_test_statistics(test_key text, variants text[], users bigint[], conversions bigint[])
    RETURNS TABLE (variant text, is_control boolean, weight double precision, users bigint,
                   conversions bigint, conversion_rate double precision, lift double precision,
                   p_value double precision, srm_p_value double precision)
    AS 'MODULE_PATHNAME', 'orion_ab_test_statistics'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION orion.ab_test_statistics(text, text[], bigint[], bigint[]) IS 'The figures of ab_test_results for users and conversions per variant counted elsewhere (summed over shards)';

REVOKE ALL ON FUNCTION
    orion.assign_variant(text, uuid),
    orion.peek_variant(text, uuid),
    orion.track_conversion(text, uuid, text, numeric),
    orion.ab_test_results(text, text),
    orion.ab_test_statistics(text, text[], bigint[], bigint[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.assign_variant(text, uuid),
    orion.track_conversion(text, uuid, text, numeric),
    orion.ab_test_results(text, text),
    orion.ab_test_statistics(text, text[], bigint[], bigint[])
    TO orion_ab_testing_service;
GRANT EXECUTE ON FUNCTION orion.peek_variant(text, uuid)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;

-------------------------------------------------------------------------------
-- 7. Integrity: user references across services, cleanup on delete
-------------------------------------------------------------------------------

/*
 * The original services referred to users across databases by id with
 * nothing to check them. Here a trigger refuses a notification, assignment
 * or conversion naming a user that does not exist (locking the user as a
 * foreign key does; off with orion.enforce_user_references), and deleting
 * users removes what names them, however they are deleted. Only
 * notifications may be anonymised (user_id set to the nil uuid) on their
 * user's deletion: their trigger says so with the argument 'anonymised'.
 */
CREATE FUNCTION orion.check_user_reference()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_check_user_reference'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.check_user_reference() IS 'Trigger: refuses a row naming a user that does not exist, locking the user as a foreign key does';

CREATE FUNCTION orion.cleanup_deleted_users()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_cleanup_deleted_users'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.cleanup_deleted_users() IS 'Trigger: removes deleted users'' AB assignments and conversions, removes or anonymises their notifications (orion.user_delete_notifications), audits each deletion';

CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_notifications.notifications
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference('anonymised');
COMMENT ON TRIGGER check_user_reference ON orion_notifications.notifications IS 'Refuses a notification for a user that does not exist (the nil uuid of an anonymised one passes)';
CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_ab_testing.ab_test_assignments
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference();
COMMENT ON TRIGGER check_user_reference ON orion_ab_testing.ab_test_assignments IS 'Refuses an assignment for a user that does not exist';
CREATE TRIGGER check_user_reference
    BEFORE INSERT OR UPDATE OF user_id ON orion_ab_testing.ab_test_conversions
    FOR EACH ROW EXECUTE FUNCTION orion.check_user_reference();
COMMENT ON TRIGGER check_user_reference ON orion_ab_testing.ab_test_conversions IS 'Refuses a conversion for a user that does not exist';

CREATE TRIGGER cleanup_deleted_users
    AFTER DELETE ON orion_auth.users
    REFERENCING OLD TABLE AS orion_deleted_users
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cleanup_deleted_users();
COMMENT ON TRIGGER cleanup_deleted_users ON orion_auth.users IS 'Removes the deleted users'' AB assignments and conversions, removes or anonymises their notifications (orion.user_delete_notifications), and audits each deletion (user.deleted)';

REVOKE ALL ON FUNCTION orion.check_user_reference(), orion.cleanup_deleted_users() FROM PUBLIC;

-- repair: rows from before enforcement, with it off, or from a restored dump
CREATE FUNCTION orion.find_orphans()
    RETURNS TABLE (table_name text, orphans bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT 'orion_notifications.notifications', count(*)
          FROM orion_notifications.notifications n
         WHERE n.user_id <> '00000000-0000-0000-0000-000000000000'
           AND NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = n.user_id)
        UNION ALL
        SELECT 'orion_ab_testing.ab_test_assignments', count(*)
          FROM orion_ab_testing.ab_test_assignments a
         WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = a.user_id)
        UNION ALL
        SELECT 'orion_ab_testing.ab_test_conversions', count(*)
          FROM orion_ab_testing.ab_test_conversions c
         WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = c.user_id)
    $$;
COMMENT ON FUNCTION orion.find_orphans() IS 'Rows naming a user that does not exist, per table (from before enforcement, or with it off)';

CREATE FUNCTION orion.purge_orphans()
    RETURNS TABLE (table_name text, removed bigint)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH n AS (
            DELETE FROM orion_notifications.notifications n
             WHERE n.user_id <> '00000000-0000-0000-0000-000000000000'
               AND NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = n.user_id)
            RETURNING 1),
        c AS (
            DELETE FROM orion_ab_testing.ab_test_conversions c
             WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = c.user_id)
            RETURNING 1),
        a AS (
            DELETE FROM orion_ab_testing.ab_test_assignments a
             WHERE NOT EXISTS (SELECT FROM orion_auth.users u WHERE u.id = a.user_id)
            RETURNING 1)
        SELECT 'orion_notifications.notifications', (SELECT count(*) FROM n)
        UNION ALL SELECT 'orion_ab_testing.ab_test_assignments', (SELECT count(*) FROM a)
        UNION ALL SELECT 'orion_ab_testing.ab_test_conversions', (SELECT count(*) FROM c)
    $$;
COMMENT ON FUNCTION orion.purge_orphans() IS 'Removes the rows find_orphans() reports; returns how many per table';

REVOKE ALL ON FUNCTION orion.find_orphans(), orion.purge_orphans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.find_orphans(), orion.purge_orphans() TO orion_admin;

-------------------------------------------------------------------------------
-- 8. Maintenance: expiry, retention, the worker, pg_cron, status
-------------------------------------------------------------------------------

-- the last pass, whoever ran it (the worker, pg_cron, a person)
CREATE TABLE orion.maintenance_state (
    id                      boolean PRIMARY KEY DEFAULT true CONSTRAINT maintenance_state_one_row CHECK (id),
    last_run_at             timestamptz NOT NULL,
    last_run_by             text NOT NULL,
    last_duration           interval NOT NULL,
    last_run_ok             boolean NOT NULL,
    sessions_removed        bigint NOT NULL,
    refresh_tokens_removed  bigint NOT NULL,
    notifications_removed   bigint NOT NULL,
    audit_logs_removed      bigint NOT NULL,
    runs                    bigint NOT NULL,
    total_removed           bigint NOT NULL,
    last_error              text,
    last_error_at           timestamptz,
    -- one-time tokens (0.8.0)
    one_time_tokens_removed bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE orion.maintenance_state IS 'The last maintenance pass of this database: when, by whom (worker or a role), what it removed, the last error';
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
COMMENT ON COLUMN orion.maintenance_state.one_time_tokens_removed IS 'One-time tokens (expired, used or revoked) the last pass removed';
COMMENT ON INDEX orion.maintenance_state_pkey IS 'Primary key on the constant true: at most one row';
COMMENT ON CONSTRAINT maintenance_state_pkey ON orion.maintenance_state IS 'With maintenance_state_one_row, the table holds at most one row: the last pass of this database';
COMMENT ON CONSTRAINT maintenance_state_one_row ON orion.maintenance_state IS 'id can only be true, so the primary key allows one row';

-- the pass
CREATE FUNCTION orion.expire_sessions(batch_size integer DEFAULT 10000)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'orion_expire_sessions'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.expire_sessions(integer) IS 'Removes dead sessions and refresh tokens past orion.revoked_token_retention, in batches (SKIP LOCKED); returns how many rows went';

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

-- the background worker
CREATE FUNCTION orion.start_maintenance_worker(database name DEFAULT current_database())
    RETURNS integer
    AS 'MODULE_PATHNAME', 'orion_start_maintenance_worker'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.start_maintenance_worker(name) IS 'Starts a maintenance worker for a database (no restart needed); returns its pid, or the running one''s';

CREATE FUNCTION orion.stop_maintenance_worker(database name DEFAULT current_database())
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF stop_maintenance_worker.database IS NULL THEN
            RAISE EXCEPTION 'database must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        -- materialized: the planner must not call pg_terminate_backend on other rows
        RETURN (WITH worker AS MATERIALIZED (
                    SELECT pid FROM pg_stat_activity
                     WHERE backend_type = 'orion maintenance' AND datname = stop_maintenance_worker.database)
                SELECT (count(*) FILTER (WHERE pg_terminate_backend(pid)))::integer FROM worker);
    END
    $$;
COMMENT ON FUNCTION orion.stop_maintenance_worker(name) IS 'Stops the maintenance worker of a database; returns how many stopped (the launcher starts workers of orion.maintenance_databases again)';

-- pg_cron
CREATE FUNCTION orion.schedule_maintenance(schedule text DEFAULT '* * * * *')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        cron_database text := current_setting('cron.database_name', true);
        job text := 'orion-maintenance-' || current_database();
    BEGIN
        IF schedule IS NULL THEN
            RAISE EXCEPTION 'schedule must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
            RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
                USING ERRCODE = 'undefined_object',
                      HINT = CASE
                        WHEN cron_database IS NOT NULL AND cron_database <> current_database() THEN
                            format('pg_cron runs in database "%s". There, run: SELECT cron.schedule_in_database(%L, %L, ''SELECT orion.run_maintenance()'', %L). Or use orion''s own worker (orion.maintenance_databases).',
                                   cron_database, job, schedule, current_database())
                        ELSE
                            'Add pg_cron to shared_preload_libraries, restart, and CREATE EXTENSION pg_cron here; or use orion''s own worker (orion.maintenance_databases).'
                        END;
        END IF;
        RETURN cron.schedule(job, schedule, 'SELECT orion.run_maintenance()');
    END
    $$;
COMMENT ON FUNCTION orion.schedule_maintenance(text) IS 'Schedules the maintenance pass with pg_cron as job orion-maintenance-<database> (again: a new schedule); returns the job id';

CREATE FUNCTION orion.unschedule_maintenance()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
            RETURN false;
        END IF;
        RETURN EXISTS (SELECT FROM cron.job WHERE jobname = 'orion-maintenance-' || current_database()
                                                 AND username = current_user)
               AND cron.unschedule('orion-maintenance-' || current_database());
    END
    $$;
COMMENT ON FUNCTION orion.unschedule_maintenance() IS 'Removes the pg_cron job orion-maintenance-<database>; false when there was none';

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

-- maintenance is the administrators'; starting workers the superuser's
REVOKE ALL ON orion.maintenance_state, orion.status FROM PUBLIC;
GRANT SELECT ON orion.maintenance_state, orion.status TO orion_admin;

REVOKE ALL ON FUNCTION
    orion.expire_sessions(integer), orion.run_maintenance(integer), orion.maintenance_backlog(),
    orion.start_maintenance_worker(name), orion.stop_maintenance_worker(name),
    orion.schedule_maintenance(text), orion.unschedule_maintenance()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.expire_sessions(integer), orion.run_maintenance(integer), orion.maintenance_backlog(),
    orion.schedule_maintenance(text), orion.unschedule_maintenance()
    TO orion_admin;

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
