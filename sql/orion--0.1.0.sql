/* sql/orion--0.1.0.sql: the install script of orion 0.1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION orion CASCADE" to load this file. \quit

/*
 * orion keeps the five service databases of the ORION platform as five
 * schemas of one database, and the API in a sixth. The schema "orion" is the
 * extension's own (orion.control: schema = orion); CREATE EXTENSION makes it.
 *
 * Every object is schema-qualified: the script does not depend on the
 * caller's search_path.
 *
 * Tables follow the seed's SQL column by column. The deliberate deviations,
 * each explained in README.md ("Deviations from the original platform"):
 *   - every TIMESTAMP is timestamptz;
 *   - email is unique case-insensitively (unique index on lower(email));
 *   - sessions.token and refresh_tokens.token hold the SHA-256 (hex) of the
 *     token, never the token itself, which a CHECK enforces;
 *   - an index that would only duplicate a UNIQUE constraint's own index is
 *     left out (the constraint's index serves the same lookups);
 *   - notifications get the partial index the unread list needs.
 */

-------------------------------------------------------------------------------
-- Roles
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

-------------------------------------------------------------------------------
-- Schemas
-------------------------------------------------------------------------------

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

-------------------------------------------------------------------------------
-- Auth service (auth_db)
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
    last_login_at   timestamptz
);
-- The seed's UNIQUE(email), made case-insensitive: Ada@Example.com and
-- ada@example.com are one account.
CREATE UNIQUE INDEX users_email_lower_key ON orion_auth.users (pg_catalog.lower(email));
CREATE INDEX idx_users_email ON orion_auth.users (email);
CREATE INDEX idx_users_role ON orion_auth.users (role);

COMMENT ON TABLE orion_auth.users IS 'Accounts; password_hash is readable by orion_auth_service only';
COMMENT ON COLUMN orion_auth.users.email IS 'Unique case-insensitively (users_email_lower_key)';
COMMENT ON COLUMN orion_auth.users.password_hash IS 'Argon2id or bcrypt hash string, never a password';

CREATE TABLE orion_auth.sessions (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    token       varchar(500) UNIQUE NOT NULL
                CONSTRAINT sessions_token_is_sha256 CHECK (token ~ '^[0-9a-f]{64}$'),
    ip_address  varchar(45),
    user_agent  text,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_sessions_user_id ON orion_auth.sessions (user_id);
CREATE INDEX idx_sessions_expires_at ON orion_auth.sessions (expires_at);

COMMENT ON TABLE orion_auth.sessions IS 'One row per signed-in device';
COMMENT ON COLUMN orion_auth.sessions.token IS 'SHA-256 (lower-case hex) of the access token; the token itself is never stored';

CREATE TABLE orion_auth.refresh_tokens (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES orion_auth.users (id) ON DELETE CASCADE,
    token           varchar(500) UNIQUE NOT NULL
                    CONSTRAINT refresh_tokens_token_is_sha256 CHECK (token ~ '^[0-9a-f]{64}$'),
    expires_at      timestamptz NOT NULL,
    revoked         boolean DEFAULT false,
    revoked_reason  text,
    created_at      timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_refresh_tokens_user_id ON orion_auth.refresh_tokens (user_id);

COMMENT ON TABLE orion_auth.refresh_tokens IS 'Refresh tokens; revoked ones are kept for reuse detection';
COMMENT ON COLUMN orion_auth.refresh_tokens.token IS 'SHA-256 (lower-case hex) of the refresh token; the token itself is never stored';

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

-------------------------------------------------------------------------------
-- User service (user_db): the profile view
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

-------------------------------------------------------------------------------
-- Notifications service (notifications_db)
-------------------------------------------------------------------------------

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
    created_at  timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_notifications_user_id ON orion_notifications.notifications (user_id);
CREATE INDEX idx_notifications_type ON orion_notifications.notifications (type);
CREATE INDEX idx_notifications_read ON orion_notifications.notifications (read);
CREATE INDEX idx_notifications_created_at ON orion_notifications.notifications (created_at);
-- The seed's unread list (WHERE user_id = $1 AND read = false ORDER BY
-- created_at DESC LIMIT n) and unread counts per user read only this index.
CREATE INDEX idx_notifications_unread ON orion_notifications.notifications
    (user_id, created_at DESC) WHERE NOT read;

COMMENT ON TABLE orion_notifications.notifications IS 'Notifications; user_id refers to orion_auth.users logically (no foreign key across services)';

-------------------------------------------------------------------------------
-- Feature Flags service (feature_flags_db)
-------------------------------------------------------------------------------

CREATE TABLE orion_feature_flags.feature_flags (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    key          varchar(100) UNIQUE NOT NULL,
    name         varchar(255) NOT NULL,
    description  text,
    enabled      boolean DEFAULT false,
    config       jsonb,
    rollout      jsonb,
    created_at   timestamptz DEFAULT CURRENT_TIMESTAMP,
    updated_at   timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_feature_flags_enabled ON orion_feature_flags.feature_flags (enabled);

COMMENT ON TABLE orion_feature_flags.feature_flags IS 'Feature flags and their rollout rules';

-------------------------------------------------------------------------------
-- AB Testing service (ab_testing_db)
-------------------------------------------------------------------------------

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
    updated_at   timestamptz DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_ab_tests_active ON orion_ab_testing.ab_tests (active);

COMMENT ON TABLE orion_ab_testing.ab_tests IS 'AB tests and their variants';

CREATE TABLE orion_ab_testing.ab_test_assignments (
    id           uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id      uuid NOT NULL,
    test_id      uuid NOT NULL REFERENCES orion_ab_testing.ab_tests (id) ON DELETE CASCADE,
    variant      varchar(100) NOT NULL,
    assigned_at  timestamptz DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (user_id, test_id)
);
CREATE INDEX idx_ab_test_assignments_user_id ON orion_ab_testing.ab_test_assignments (user_id);
CREATE INDEX idx_ab_test_assignments_test_id ON orion_ab_testing.ab_test_assignments (test_id);

COMMENT ON TABLE orion_ab_testing.ab_test_assignments IS 'One sticky variant per user and test';

-------------------------------------------------------------------------------
-- pg_dump keeps the data
-------------------------------------------------------------------------------

/*
 * Tables created by an extension are not dumped unless registered: this is
 * what makes pg_dump/pg_restore carry the rows. pg_dump orders the data of
 * registered tables by their foreign keys.
 */
SELECT pg_catalog.pg_extension_config_dump('orion_auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.refresh_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('orion_auth.audit_logs', '');
SELECT pg_catalog.pg_extension_config_dump('orion_notifications.notifications', '');
SELECT pg_catalog.pg_extension_config_dump('orion_feature_flags.feature_flags', '');
SELECT pg_catalog.pg_extension_config_dump('orion_ab_testing.ab_tests', '');
SELECT pg_catalog.pg_extension_config_dump('orion_ab_testing.ab_test_assignments', '');

-------------------------------------------------------------------------------
-- Privileges: the seed's Database-Service Mapping
-------------------------------------------------------------------------------

/*
 * Objects stay owned by the role that ran CREATE EXTENSION: an owner could
 * ALTER or DROP what orion manages, and read every column. Each service role
 * gets exactly what the mapping grants it:
 *
 *   auth          read/write users, sessions, refresh_tokens; write audit_logs
 *   user          read/write users (through orion_user.users, no password_hash)
 *   notifications read/write notifications
 *   feature flags read/write feature_flags
 *   AB testing    read/write ab_tests, ab_test_assignments
 *
 * orion_admin is a member of all five and may also read the audit log.
 */
GRANT USAGE ON SCHEMA orion TO PUBLIC;

GRANT USAGE ON SCHEMA orion_auth TO orion_auth_service;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_auth.users, orion_auth.sessions, orion_auth.refresh_tokens
    TO orion_auth_service;
GRANT INSERT ON orion_auth.audit_logs TO orion_auth_service;
GRANT SELECT ON orion_auth.audit_logs TO orion_admin;

GRANT USAGE ON SCHEMA orion_user TO orion_user_service;
GRANT SELECT, UPDATE, DELETE ON orion_user.users TO orion_user_service;

GRANT USAGE ON SCHEMA orion_notifications TO orion_notifications_service;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_notifications.notifications TO orion_notifications_service;

GRANT USAGE ON SCHEMA orion_feature_flags TO orion_feature_flags_service;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_feature_flags.feature_flags TO orion_feature_flags_service;

GRANT USAGE ON SCHEMA orion_ab_testing TO orion_ab_testing_service;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON orion_ab_testing.ab_tests, orion_ab_testing.ab_test_assignments
    TO orion_ab_testing_service;

-------------------------------------------------------------------------------
-- API
-------------------------------------------------------------------------------

CREATE FUNCTION orion.version()
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_version'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION orion.version() IS 'Version of the loaded orion library (compare with pg_extension.extversion)';
