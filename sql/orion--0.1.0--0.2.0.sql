/* sql/orion--0.1.0--0.2.0.sql: Auth (password hashing, login, sessions, audit) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.2.0'" to load this file. \quit

/*
 * CREATE EXTENSION orion installs 0.1.0 and runs this script after it, so a
 * new installation and an upgraded one are the same by construction.
 */

-------------------------------------------------------------------------------
-- Columns the auth functions need
-------------------------------------------------------------------------------

ALTER TABLE orion_auth.users
    ADD COLUMN failed_login_count integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until timestamptz;

COMMENT ON COLUMN orion_auth.users.failed_login_count IS 'Failed logins in a row; reset by a successful one';
COMMENT ON COLUMN orion_auth.users.locked_until IS 'Logins fail until then (orion.max_failed_logins, orion.lockout_duration)';

/*
 * A session keeps the access token a refresh replaced until that one
 * expires, so that two tabs refreshing at once do not sign each other out.
 */
ALTER TABLE orion_auth.sessions
    ADD COLUMN previous_token varchar(500)
        CONSTRAINT sessions_previous_token_is_sha256 CHECK (previous_token ~ '^[0-9a-f]{64}$'),
    ADD COLUMN previous_expires_at timestamptz,
    ADD COLUMN revoked_at timestamptz,
    ADD COLUMN revoked_reason text;
CREATE INDEX idx_sessions_previous_token ON orion_auth.sessions (previous_token)
    WHERE previous_token IS NOT NULL;

COMMENT ON COLUMN orion_auth.sessions.previous_token IS 'SHA-256 (hex) of the access token the last refresh replaced';
COMMENT ON COLUMN orion_auth.sessions.previous_expires_at IS 'When previous_token stops being accepted';
COMMENT ON COLUMN orion_auth.sessions.revoked_at IS 'When the session was ended (logout, revocation, password change, token reuse)';
COMMENT ON COLUMN orion_auth.sessions.revoked_reason IS 'Why the session was ended';

ALTER TABLE orion_auth.refresh_tokens
    ADD COLUMN session_id uuid REFERENCES orion_auth.sessions (id) ON DELETE CASCADE,
    ADD COLUMN revoked_at timestamptz;
CREATE INDEX idx_refresh_tokens_session_id ON orion_auth.refresh_tokens (session_id);

COMMENT ON COLUMN orion_auth.refresh_tokens.session_id IS 'The session this token refreshes';
COMMENT ON COLUMN orion_auth.refresh_tokens.revoked_at IS 'When the token was revoked (for reuse detection after rotation)';

-------------------------------------------------------------------------------
-- Passwords
-------------------------------------------------------------------------------

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

-------------------------------------------------------------------------------
-- Accounts
-------------------------------------------------------------------------------

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

-------------------------------------------------------------------------------
-- Sessions
-------------------------------------------------------------------------------

CREATE FUNCTION orion.login(email text, password text,
                            ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid,
                   access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz)
    AS 'MODULE_PATHNAME', 'orion_login'
    LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION orion.login(text, text, text, text) IS 'Signs in: one row with new tokens, or no row for a wrong email, password or a locked account';

/*
 * Every service validates sessions; none but auth may read the tables, so
 * this runs as the extension's owner, reads only what it returns, and pins
 * search_path against trojan objects in the caller's schemas.
 */
CREATE FUNCTION orion.validate_session(access_token text)
    RETURNS TABLE (user_id uuid, session_id uuid, email text, role text, expires_at timestamptz)
    AS 'MODULE_PATHNAME', 'orion_validate_session'
    LANGUAGE C STABLE SECURITY DEFINER ROWS 1
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.validate_session(text) IS 'The live session of an access token, or no row';

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
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
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
         ORDER BY s.created_at DESC, s.id
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

-------------------------------------------------------------------------------
-- Audit
-------------------------------------------------------------------------------

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
 */
CREATE FUNCTION orion.audit_role_change()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_audit_role_change'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.audit_role_change() IS 'Trigger: audits changes of orion_auth.users.role';

CREATE TRIGGER audit_role_change
    AFTER UPDATE OF role ON orion_auth.users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION orion.audit_role_change();

-------------------------------------------------------------------------------
-- Privileges
-------------------------------------------------------------------------------

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
    orion.audit(text, text, text, jsonb, jsonb, uuid, text, text),
    orion.validate_session(text),
    orion.audit_role_change()
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
    orion.audit(text, text, text, jsonb, jsonb, uuid, text, text)
    TO orion_auth_service;

GRANT EXECUTE ON FUNCTION orion.validate_session(text)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;
