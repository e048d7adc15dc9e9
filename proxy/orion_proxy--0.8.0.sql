/*
 * orion_proxy: orion's API in a proxy database, routed to shard databases
 * that each run orion, with PL/Proxy (README, "Sharding on PL/Proxy").
 *
 * Users are partitioned by the SHA-256 of their lower-case email address:
 * its first 16 bits are the user's partition (0 to 65535), and each shard
 * holds a range of partitions (orion_proxy.shards). Shards run with
 * orion.partitioned_user_ids = on, so a user id begins with the same 16
 * bits: a call that names a user goes to the shard of the id's partition,
 * one that names an address to the shard of the address's. The tokens a
 * shard hands out (session, refresh, one-time, MFA challenge) leave the
 * proxy with ".<shard>" after them, and come back to that shard; a JWT is
 * left as it is (its signature covers it) and goes to the shard of its
 * "sub". Flags, segments and AB tests are written on shard 0, the source,
 * and copied to the others by orion.sync_definitions().
 *
 * Each remote call runs on its shard in a transaction of its own
 * (PL/Proxy's autocommit), as the login role of the shard's connection
 * string: the API functions here are SECURITY DEFINER, so that only they
 * reach the shards, and each is granted to the service roles orion grants
 * it to.
 */

\echo Use "CREATE EXTENSION orion_proxy CASCADE" to load this file. \quit

-- the service roles, as orion makes them (a proxy server may have no orion)
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
    FOREACH role_name IN ARRAY services
    LOOP
        IF NOT pg_catalog.pg_has_role('orion_admin', role_name, 'MEMBER') THEN
            EXECUTE pg_catalog.format('GRANT %I TO orion_admin', role_name);
        END IF;
    END LOOP;
END
$roles$;

CREATE SCHEMA orion_proxy;
COMMENT ON SCHEMA orion_proxy IS 'The shard map and the remote calls of orion_proxy; the extension owner''s alone';
REVOKE ALL ON SCHEMA orion_proxy FROM PUBLIC;
GRANT USAGE ON SCHEMA orion TO PUBLIC;

CREATE DOMAIN orion.notification_channel AS text
    CONSTRAINT notification_channel_known
    CHECK (VALUE IN ('email', 'sms', 'push', 'in_app', 'webhook', 'slack', 'discord'));

-- ---------------------------------------------------------------------------
-- The shard map
-- ---------------------------------------------------------------------------

CREATE TABLE orion_proxy.shards (
    shard       integer PRIMARY KEY CONSTRAINT shards_shard_number CHECK (shard >= 0),
    connstr     text NOT NULL,
    partitions  int4range NOT NULL
                CONSTRAINT shards_partitions_range
                CHECK (NOT pg_catalog.isempty(partitions) AND pg_catalog.lower(partitions) >= 0
                       AND pg_catalog.upper(partitions) <= 65536),
    CONSTRAINT shards_partitions_disjoint EXCLUDE USING gist (partitions WITH &&)
);
COMMENT ON TABLE orion_proxy.shards IS 'The shard databases: a libpq connection string (with the login role orion_proxy connects as) and the range of user partitions each holds';
SELECT pg_catalog.pg_extension_config_dump('orion_proxy.shards', '');

-- A user's partition: the first 16 bits of the SHA-256 of the lower-case address.
CREATE FUNCTION orion_proxy.email_partition(email text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('x' || pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(
               pg_catalog.convert_to(pg_catalog.lower(email), 'UTF8')), 'hex'), 4))::bit(16)::integer;

-- ... which its id begins with
CREATE FUNCTION orion_proxy.user_partition(user_id uuid) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('x' || pg_catalog.left(user_id::text, 4))::bit(16)::integer;

CREATE FUNCTION orion_proxy.partition_shard(part integer) RETURNS integer
    LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        found integer;
    BEGIN
        SELECT s.shard INTO found FROM orion_proxy.shards s WHERE s.partitions @> part;
        IF found IS NULL THEN
            RAISE EXCEPTION 'no shard holds partition %', part
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'orion_proxy.shards must cover the partitions 0 to 65535: see orion_proxy.set_shards().';
        END IF;
        RETURN found;
    END
    $$;

-- The shard of an address, a user id or a token. One that routes nowhere
-- (NULL, a token no shard made) goes to the first shard, which answers as
-- orion does: with its error, or no row.
CREATE FUNCTION orion_proxy.first_shard() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    RETURN (SELECT min(s.shard) FROM orion_proxy.shards s);

CREATE FUNCTION orion_proxy.email_shard(email text) RETURNS integer
    LANGUAGE sql STABLE
    RETURN coalesce(orion_proxy.partition_shard(orion_proxy.email_partition(email)), orion_proxy.first_shard());

CREATE FUNCTION orion_proxy.user_shard(user_id uuid) RETURNS integer
    LANGUAGE sql STABLE
    RETURN coalesce(orion_proxy.partition_shard(orion_proxy.user_partition(user_id)), orion_proxy.first_shard());

CREATE FUNCTION orion_proxy.connstr(shard integer) RETURNS text
    LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        found text;
    BEGIN
        SELECT s.connstr INTO found FROM orion_proxy.shards s WHERE s.shard = connstr.shard;
        IF found IS NULL THEN
            RAISE EXCEPTION 'shard % does not exist', shard USING ERRCODE = 'no_data_found';
        END IF;
        RETURN found;
    END
    $$;

CREATE FUNCTION orion_proxy.set_shards(connstrs text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        n integer := pg_catalog.cardinality(connstrs);
    BEGIN
        IF n IS NULL OR n = 0 OR n > 65536 THEN
            RAISE EXCEPTION 'set_shards needs from 1 to 65536 connection strings'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        DELETE FROM orion_proxy.shards;
        INSERT INTO orion_proxy.shards (shard, connstr, partitions)
        SELECT i - 1, connstrs[i], pg_catalog.int4range((i - 1) * 65536 / n, i * 65536 / n)
          FROM pg_catalog.generate_subscripts(connstrs, 1) i;
    END
    $$;
COMMENT ON FUNCTION orion_proxy.set_shards(text[]) IS 'A new shard map: shard i (from 0) at connstrs[i + 1], holding an equal share of the partitions; for an empty installation (moving users is another matter: README)';

-- The shards in order; ERROR when the map leaves a partition uncovered.
CREATE FUNCTION orion_proxy.all_shards() RETURNS SETOF integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        covered bigint;
    BEGIN
        SELECT coalesce(sum(pg_catalog.upper(partitions) - pg_catalog.lower(partitions)), 0)
          INTO covered FROM orion_proxy.shards;
        IF covered <> 65536 THEN
            RAISE EXCEPTION 'the shards hold % of the 65536 partitions', covered
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'orion_proxy.shards must cover the partitions 0 to 65535: see orion_proxy.set_shards().';
        END IF;
        RETURN QUERY SELECT s.shard FROM orion_proxy.shards s ORDER BY s.shard;
    END
    $$;

-- ---------------------------------------------------------------------------
-- Tokens that carry their shard
-- ---------------------------------------------------------------------------

CREATE FUNCTION orion_proxy.is_jwt(token text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT
    RETURN token ~ '^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$';

CREATE FUNCTION orion_proxy.tag(token text, shard integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN CASE WHEN orion_proxy.is_jwt(token) THEN token ELSE token || '.' || shard END;

-- The shard a token came from, or NULL for one no shard made.
CREATE FUNCTION orion_proxy.tagged_shard(token text) RETURNS integer
    LANGUAGE plpgsql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        payload text;
        sub text;
    BEGIN
        IF orion_proxy.is_jwt(token) THEN
            payload := pg_catalog.translate(pg_catalog.split_part(token, '.', 2), '-_', '+/');
            payload := payload || pg_catalog.repeat('=', (4 - pg_catalog.length(payload) % 4) % 4);
            BEGIN
                sub := pg_catalog.convert_from(pg_catalog.decode(payload, 'base64'), 'UTF8')::jsonb ->> 'sub';
                RETURN orion_proxy.user_shard(sub::uuid);
            EXCEPTION WHEN data_exception OR invalid_text_representation OR character_not_in_repertoire THEN
                RETURN NULL;
            END;
        END IF;
        IF pg_catalog.length(token) > 520 OR token !~ '^[A-Za-z0-9_-]+\.[0-9]{1,5}$' THEN
            RETURN NULL;
        END IF;
        RETURN pg_catalog.split_part(token, '.', 2)::integer;
    END
    $$;

CREATE FUNCTION orion_proxy.token_shard(token text) RETURNS integer
    LANGUAGE sql STABLE
    RETURN coalesce((SELECT s.shard FROM orion_proxy.shards s WHERE s.shard = orion_proxy.tagged_shard(token)),
                    orion_proxy.first_shard());

-- The token as its shard made it: without the tag. A tag that names no
-- shard stays on, so that the first shard, where token_shard sends it,
-- knows no such token (it must not find one its own without the tag).
CREATE FUNCTION orion_proxy.untag(token text) RETURNS text
    LANGUAGE sql STABLE STRICT
    RETURN CASE WHEN NOT orion_proxy.is_jwt(token)
                     AND EXISTS (SELECT FROM orion_proxy.shards s WHERE s.shard = orion_proxy.tagged_shard(token))
                THEN pg_catalog.split_part(token, '.', 1) ELSE token END;

-- ---------------------------------------------------------------------------
-- Remote calls: one per orion function, on the shard given
-- ---------------------------------------------------------------------------

CREATE FUNCTION orion_proxy.register_user_on(shard integer, email text, password text, first_name text, last_name text, role text)
    RETURNS uuid LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.register_user(email, password, first_name, last_name, role);
$$;

CREATE FUNCTION orion_proxy.login_on(shard integer, email text, password text, ip_address text, user_agent text)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.login(email, password, ip_address, user_agent);
$$;

CREATE FUNCTION orion_proxy.validate_session_on(shard integer, access_token text)
    RETURNS TABLE (user_id uuid, session_id uuid, email text, role text, expires_at timestamptz)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.validate_session(access_token);
$$;

CREATE FUNCTION orion_proxy.refresh_session_on(shard integer, refresh_token text, ip_address text, user_agent text)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.refresh_session(refresh_token, ip_address, user_agent);
$$;

CREATE FUNCTION orion_proxy.logout_on(shard integer, token text) RETURNS boolean
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.logout(token);
$$;

CREATE FUNCTION orion_proxy.list_sessions_on(shard integer, user_id uuid)
    RETURNS TABLE (session_id uuid, ip_address text, user_agent text, created_at timestamptz,
                   access_expires_at timestamptz, refresh_expires_at timestamptz)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.list_sessions(user_id);
$$;

CREATE FUNCTION orion_proxy.revoke_all_sessions_on(shard integer, user_id uuid, reason text) RETURNS integer
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.revoke_all_sessions(user_id, reason);
$$;

CREATE FUNCTION orion_proxy.change_password_on(shard integer, user_id uuid, current_password text, new_password text, current_session_id uuid)
    RETURNS boolean LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.change_password(user_id, current_password, new_password, current_session_id);
$$;

CREATE FUNCTION orion_proxy.request_email_verification_on(shard integer, user_id uuid) RETURNS text
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.request_email_verification(user_id);
$$;

CREATE FUNCTION orion_proxy.verify_email_on(shard integer, token text) RETURNS uuid
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.verify_email(token);
$$;

CREATE FUNCTION orion_proxy.request_password_reset_on(shard integer, email text) RETURNS text
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.request_password_reset(email);
$$;

CREATE FUNCTION orion_proxy.reset_password_on(shard integer, token text, new_password text) RETURNS uuid
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.reset_password(token, new_password);
$$;

CREATE FUNCTION orion_proxy.request_sign_in_link_on(shard integer, email text) RETURNS text
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.request_sign_in_link(email);
$$;

CREATE FUNCTION orion_proxy.sign_in_with_link_on(shard integer, token text, ip_address text, user_agent text)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.sign_in_with_link(token, ip_address, user_agent);
$$;

CREATE FUNCTION orion_proxy.verify_jwt_on(shard integer, token text) RETURNS jsonb
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.verify_jwt(token);
$$;

CREATE FUNCTION orion_proxy.jwks_on(shard integer) RETURNS jsonb
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.jwks();
$$;

CREATE FUNCTION orion_proxy.set_password_on(shard integer, user_id uuid, new_password text) RETURNS void
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.set_password(user_id, new_password);
$$;

CREATE FUNCTION orion_proxy.revoke_session_on(shard integer, session_id uuid, reason text) RETURNS boolean
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.revoke_session(session_id, reason);
$$;

CREATE FUNCTION orion_proxy.revoked_sessions_on(shard integer, since timestamptz)
    RETURNS TABLE (session_id uuid, user_id uuid, revoked_at timestamptz, expires_at timestamptz)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.revoked_sessions(since);
$$;

CREATE FUNCTION orion_proxy.enroll_totp_on(shard integer, user_id uuid) RETURNS TABLE (secret text, uri text)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.enroll_totp(user_id);
$$;

CREATE FUNCTION orion_proxy.confirm_totp_on(shard integer, user_id uuid, code text) RETURNS text[]
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.confirm_totp(user_id, code);
$$;

CREATE FUNCTION orion_proxy.verify_totp_on(shard integer, challenge text, code text, ip_address text, user_agent text)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.verify_totp(challenge, code, ip_address, user_agent);
$$;

CREATE FUNCTION orion_proxy.disable_totp_on(shard integer, user_id uuid) RETURNS boolean
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.disable_totp(user_id);
$$;

CREATE FUNCTION orion_proxy.evaluate_flag_on(shard integer, flag_key text, user_id uuid, context jsonb) RETURNS jsonb
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.evaluate_flag(flag_key, user_id, context);
$$;

CREATE FUNCTION orion_proxy.flag_enabled_on(shard integer, flag_key text, user_id uuid, context jsonb) RETURNS boolean
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.flag_enabled(flag_key, user_id, context);
$$;

CREATE FUNCTION orion_proxy.flag_variant_on(shard integer, flag_key text, user_id uuid, context jsonb) RETURNS jsonb
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.flag_variant(flag_key, user_id, context);
$$;

CREATE FUNCTION orion_proxy.evaluate_all_flags_on(shard integer, user_id uuid, context jsonb)
    RETURNS TABLE (flag_key text, enabled boolean, variant jsonb, config jsonb)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.evaluate_all_flags(user_id, context);
$$;

CREATE FUNCTION orion_proxy.assign_variant_on(shard integer, test_key text, user_id uuid) RETURNS text
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.assign_variant(test_key, user_id);
$$;

CREATE FUNCTION orion_proxy.peek_variant_on(shard integer, test_key text, user_id uuid) RETURNS text
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.peek_variant(test_key, user_id);
$$;

CREATE FUNCTION orion_proxy.track_conversion_on(shard integer, test_key text, user_id uuid, event text, value numeric)
    RETURNS boolean LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.track_conversion(test_key, user_id, event, value);
$$;

CREATE FUNCTION orion_proxy.ab_test_results_on(shard integer, test_key text, event text)
    RETURNS TABLE (variant text, is_control boolean, weight double precision, users bigint,
                   conversions bigint, conversion_rate double precision, lift double precision,
                   p_value double precision, srm_p_value double precision)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.ab_test_results(test_key, event);
$$;

CREATE FUNCTION orion_proxy.ab_test_statistics_on(shard integer, test_key text, variants text[], users bigint[], conversions bigint[])
    RETURNS TABLE (variant text, is_control boolean, weight double precision, users bigint,
                   conversions bigint, conversion_rate double precision, lift double precision,
                   p_value double precision, srm_p_value double precision)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.ab_test_statistics(test_key, variants, users, conversions);
$$;

CREATE FUNCTION orion_proxy.send_notification_on(shard integer, user_id uuid, type text, channel text, title text, message text, metadata jsonb)
    RETURNS uuid LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.send_notification(user_id, type, channel::orion.notification_channel, title, message, metadata);
$$;

CREATE FUNCTION orion_proxy.send_notifications_on(shard integer, user_ids uuid[], type text, channel text, title text, message text, metadata jsonb)
    RETURNS integer LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.send_notifications(user_ids, type, channel::orion.notification_channel, title, message, metadata);
$$;

CREATE FUNCTION orion_proxy.list_notifications_on(shard integer, user_id uuid, unread_only boolean, max_rows integer, before uuid)
    RETURNS TABLE (id uuid, user_id uuid, type text, channel text, title text, message text, metadata jsonb,
                   read boolean, read_at timestamptz, created_at timestamptz, status text, attempts integer,
                   last_error text, claimed_at timestamptz, delivered_at timestamptz)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT n.id, n.user_id, n.type::text AS type, n.channel::text AS channel, n.title::text AS title, n.message,
           n.metadata, n.read, n.read_at, n.created_at, n.status::text AS status, n.attempts, n.last_error,
           n.claimed_at, n.delivered_at
      FROM orion.list_notifications(user_id, unread_only, max_rows, before) n;
$$;

CREATE FUNCTION orion_proxy.unread_count_on(shard integer, user_id uuid) RETURNS bigint
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.unread_count(user_id);
$$;

CREATE FUNCTION orion_proxy.mark_read_on(shard integer, id uuid) RETURNS boolean
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.mark_read(id);
$$;

CREATE FUNCTION orion_proxy.mark_all_read_on(shard integer, user_id uuid) RETURNS integer
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.mark_all_read(user_id);
$$;

CREATE FUNCTION orion_proxy.delete_user_on(shard integer, id uuid) RETURNS boolean
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.delete_user(id);
$$;

CREATE FUNCTION orion_proxy.run_maintenance_on(shard integer, batch_size integer,
    OUT sessions bigint, OUT refresh_tokens bigint, OUT one_time_tokens bigint,
    OUT notifications bigint, OUT audit_logs bigint)
    RETURNS SETOF record LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.run_maintenance(batch_size);
$$;

CREATE FUNCTION orion_proxy.find_orphans_on(shard integer) RETURNS TABLE (table_name text, orphans bigint)
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT * FROM orion.find_orphans();
$$;

-- A shard's flags, segments and AB tests (orion.definitions), and loading
-- those of another (orion.load_definitions: one transaction there)
CREATE FUNCTION orion_proxy.definitions_on(shard integer) RETURNS jsonb
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.definitions();
$$;

CREATE FUNCTION orion_proxy.load_definitions_on(shard integer, definitions jsonb) RETURNS bigint
    LANGUAGE plproxy AS $$
    CONNECT orion_proxy.connstr(shard);
    SELECT orion.load_definitions(definitions);
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA orion_proxy FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The API, as orion names it: each call to the shard of its user, address
-- or token; the tokens handed out tagged with their shard
-- ---------------------------------------------------------------------------

-- Auth: by address
CREATE FUNCTION orion.register_user(email text, password text, first_name text DEFAULT NULL,
                                    last_name text DEFAULT NULL, role text DEFAULT 'user')
    RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.register_user_on(orion_proxy.email_shard(email), email, password, first_name, last_name, role);

CREATE FUNCTION orion.login(email text, password text, ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT l.user_id, l.session_id, orion_proxy.tag(l.access_token, s.shard), l.access_expires_at,
           orion_proxy.tag(l.refresh_token, s.shard), l.refresh_expires_at, orion_proxy.tag(l.mfa_challenge, s.shard)
      FROM (SELECT orion_proxy.email_shard(login.email) AS shard) s,
           LATERAL orion_proxy.login_on(s.shard, login.email, login.password, login.ip_address, login.user_agent) l;
END;

CREATE FUNCTION orion.request_password_reset(email text) RETURNS text
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN (SELECT orion_proxy.tag(orion_proxy.request_password_reset_on(s.shard, request_password_reset.email), s.shard)
              FROM (SELECT orion_proxy.email_shard(request_password_reset.email) AS shard) s);

CREATE FUNCTION orion.request_sign_in_link(email text) RETURNS text
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN (SELECT orion_proxy.tag(orion_proxy.request_sign_in_link_on(s.shard, request_sign_in_link.email), s.shard)
              FROM (SELECT orion_proxy.email_shard(request_sign_in_link.email) AS shard) s);

-- Auth: by token
CREATE FUNCTION orion.validate_session(access_token text)
    RETURNS TABLE (user_id uuid, session_id uuid, email text, role text, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM orion_proxy.validate_session_on(orion_proxy.token_shard(validate_session.access_token),
                                                  orion_proxy.untag(validate_session.access_token));
END;

CREATE FUNCTION orion.refresh_session(refresh_token text, ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT r.user_id, r.session_id, orion_proxy.tag(r.access_token, s.shard), r.access_expires_at,
           orion_proxy.tag(r.refresh_token, s.shard), r.refresh_expires_at
      FROM (SELECT orion_proxy.token_shard(refresh_session.refresh_token) AS shard) s,
           LATERAL orion_proxy.refresh_session_on(s.shard, orion_proxy.untag(refresh_session.refresh_token),
                                                  refresh_session.ip_address, refresh_session.user_agent) r;
END;

CREATE FUNCTION orion.logout(token text) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.logout_on(orion_proxy.token_shard(token), orion_proxy.untag(token));

CREATE FUNCTION orion.verify_email(token text) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.verify_email_on(orion_proxy.token_shard(token), orion_proxy.untag(token));

CREATE FUNCTION orion.reset_password(token text, new_password text) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.reset_password_on(orion_proxy.token_shard(token), orion_proxy.untag(token), new_password);

CREATE FUNCTION orion.sign_in_with_link(token text, ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT l.user_id, l.session_id, orion_proxy.tag(l.access_token, s.shard), l.access_expires_at,
           orion_proxy.tag(l.refresh_token, s.shard), l.refresh_expires_at, orion_proxy.tag(l.mfa_challenge, s.shard)
      FROM (SELECT orion_proxy.token_shard(sign_in_with_link.token) AS shard) s,
           LATERAL orion_proxy.sign_in_with_link_on(s.shard, orion_proxy.untag(sign_in_with_link.token),
                                                    sign_in_with_link.ip_address, sign_in_with_link.user_agent) l;
END;

CREATE FUNCTION orion.verify_jwt(token text) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.verify_jwt_on(orion_proxy.token_shard(token), token);

-- every shard's keys: a gateway verifies the JWTs of all of them
CREATE FUNCTION orion.jwks() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN (SELECT pg_catalog.jsonb_build_object('keys', coalesce(pg_catalog.jsonb_agg(k ORDER BY sh.shard), '[]'))
              FROM orion_proxy.all_shards() sh(shard),
                   LATERAL pg_catalog.jsonb_array_elements(orion_proxy.jwks_on(sh.shard) -> 'keys') k);

-- Auth: by user
CREATE FUNCTION orion.list_sessions(user_id uuid)
    RETURNS TABLE (session_id uuid, ip_address text, user_agent text, created_at timestamptz,
                   access_expires_at timestamptz, refresh_expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM orion_proxy.list_sessions_on(orion_proxy.user_shard(list_sessions.user_id), list_sessions.user_id);
END;

CREATE FUNCTION orion.revoke_all_sessions(user_id uuid, reason text DEFAULT 'revoked') RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.revoke_all_sessions_on(orion_proxy.user_shard(user_id), user_id, reason);

CREATE FUNCTION orion.change_password(user_id uuid, current_password text, new_password text,
                                      current_session_id uuid DEFAULT NULL)
    RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.change_password_on(orion_proxy.user_shard(user_id), user_id, current_password, new_password,
                                          current_session_id);

CREATE FUNCTION orion.request_email_verification(user_id uuid) RETURNS text
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN (SELECT orion_proxy.tag(orion_proxy.request_email_verification_on(s.shard, request_email_verification.user_id), s.shard)
              FROM (SELECT orion_proxy.user_shard(request_email_verification.user_id) AS shard) s);

CREATE FUNCTION orion.set_password(user_id uuid, new_password text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.set_password_on(orion_proxy.user_shard(user_id), user_id, new_password);

-- a session id names no shard: each is asked until one has it
CREATE FUNCTION orion.revoke_session(session_id uuid, reason text DEFAULT 'revoked') RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        sh integer;
    BEGIN
        FOR sh IN SELECT * FROM orion_proxy.all_shards() LOOP
            IF orion_proxy.revoke_session_on(sh, revoke_session.session_id, revoke_session.reason) THEN
                RETURN true;
            END IF;
        END LOOP;
        RETURN false;
    END
    $$;

CREATE FUNCTION orion.revoked_sessions(since timestamptz)
    RETURNS TABLE (session_id uuid, user_id uuid, revoked_at timestamptz, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT r.* FROM orion_proxy.all_shards() sh(shard), LATERAL orion_proxy.revoked_sessions_on(sh.shard, revoked_sessions.since) r
     ORDER BY r.revoked_at;
END;

CREATE FUNCTION orion.enroll_totp(user_id uuid) RETURNS TABLE (secret text, uri text)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM orion_proxy.enroll_totp_on(orion_proxy.user_shard(enroll_totp.user_id), enroll_totp.user_id);
END;

CREATE FUNCTION orion.confirm_totp(user_id uuid, code text) RETURNS text[]
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.confirm_totp_on(orion_proxy.user_shard(user_id), user_id, code);

CREATE FUNCTION orion.verify_totp(challenge text, code text, ip_address text DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, session_id uuid, access_token text, access_expires_at timestamptz,
                   refresh_token text, refresh_expires_at timestamptz, mfa_challenge text)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT l.user_id, l.session_id, orion_proxy.tag(l.access_token, s.shard), l.access_expires_at,
           orion_proxy.tag(l.refresh_token, s.shard), l.refresh_expires_at, orion_proxy.tag(l.mfa_challenge, s.shard)
      FROM (SELECT orion_proxy.token_shard(verify_totp.challenge) AS shard) s,
           LATERAL orion_proxy.verify_totp_on(s.shard, orion_proxy.untag(verify_totp.challenge), verify_totp.code,
                                              verify_totp.ip_address, verify_totp.user_agent) l;
END;

CREATE FUNCTION orion.disable_totp(user_id uuid) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.disable_totp_on(orion_proxy.user_shard(user_id), user_id);

CREATE FUNCTION orion.delete_user(id uuid) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.delete_user_on(orion_proxy.user_shard(id), id);

-- Feature flags: on the shard of the user (its attributes are there), the
-- first one for no user
CREATE FUNCTION orion.flag_enabled(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.flag_enabled_on(orion_proxy.user_shard(user_id), flag_key, user_id, context);

CREATE FUNCTION orion.flag_variant(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.flag_variant_on(orion_proxy.user_shard(user_id), flag_key, user_id, context);

CREATE FUNCTION orion.evaluate_flag(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.evaluate_flag_on(orion_proxy.user_shard(user_id), flag_key, user_id, context);

CREATE FUNCTION orion.evaluate_all_flags(user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS TABLE (flag_key text, enabled boolean, variant jsonb, config jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM orion_proxy.evaluate_all_flags_on(orion_proxy.user_shard(evaluate_all_flags.user_id),
                                                    evaluate_all_flags.user_id, evaluate_all_flags.context);
END;

-- AB testing: by user; results over every shard
CREATE FUNCTION orion.assign_variant(test_key text, user_id uuid) RETURNS text
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.assign_variant_on(orion_proxy.user_shard(user_id), test_key, user_id);

CREATE FUNCTION orion.peek_variant(test_key text, user_id uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.peek_variant_on(orion_proxy.user_shard(user_id), test_key, user_id);

CREATE FUNCTION orion.track_conversion(test_key text, user_id uuid, event text, value numeric DEFAULT NULL)
    RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.track_conversion_on(orion_proxy.user_shard(user_id), test_key, user_id, event, value);

-- the users and conversions of every shard summed, and the figures
-- computed from the sums by the first shard, as one server would
CREATE FUNCTION orion.ab_test_results(test_key text, event text DEFAULT NULL)
    RETURNS TABLE (variant text, is_control boolean, weight double precision, users bigint,
                   conversions bigint, conversion_rate double precision, lift double precision,
                   p_value double precision, srm_p_value double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH counts AS (
        SELECT r.variant, sum(r.users)::bigint AS users, sum(r.conversions)::bigint AS conversions
          FROM orion_proxy.all_shards() sh(shard),
               LATERAL orion_proxy.ab_test_results_on(sh.shard, ab_test_results.test_key, ab_test_results.event) r
         GROUP BY r.variant)
    SELECT st.* FROM orion_proxy.ab_test_statistics_on(orion_proxy.first_shard(), ab_test_results.test_key,
        (SELECT array_agg(c.variant ORDER BY c.variant) FROM counts c),
        (SELECT array_agg(c.users ORDER BY c.variant) FROM counts c),
        (SELECT array_agg(c.conversions ORDER BY c.variant) FROM counts c)) st;
END;

-- Notifications: by user; a notification's id names no shard, so mark_read
-- asks each until one has it
CREATE FUNCTION orion.send_notification(user_id uuid, type text, channel orion.notification_channel, title text,
                                        message text, metadata jsonb DEFAULT NULL)
    RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.send_notification_on(orion_proxy.user_shard(user_id), user_id, type, channel, title, message, metadata);

CREATE FUNCTION orion.send_notifications(user_ids uuid[], type text, channel orion.notification_channel, title text,
                                         message text, metadata jsonb DEFAULT NULL)
    RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN (SELECT coalesce(sum(orion_proxy.send_notifications_on(g.shard, g.ids, send_notifications.type,
                send_notifications.channel, send_notifications.title, send_notifications.message,
                send_notifications.metadata)), 0)::integer
              FROM (SELECT orion_proxy.user_shard(u) AS shard, array_agg(u) AS ids
                      FROM unnest(send_notifications.user_ids) u GROUP BY 1) g);

CREATE FUNCTION orion.list_notifications(user_id uuid, unread_only boolean DEFAULT false, max_rows integer DEFAULT 20,
                                         before uuid DEFAULT NULL)
    RETURNS TABLE (id uuid, user_id uuid, type text, channel text, title text, message text, metadata jsonb,
                   read boolean, read_at timestamptz, created_at timestamptz, status text, attempts integer,
                   last_error text, claimed_at timestamptz, delivered_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM orion_proxy.list_notifications_on(orion_proxy.user_shard(list_notifications.user_id),
        list_notifications.user_id, list_notifications.unread_only, list_notifications.max_rows, list_notifications.before);
END;

CREATE FUNCTION orion.unread_count(user_id uuid) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.unread_count_on(orion_proxy.user_shard(user_id), user_id);

CREATE FUNCTION orion.mark_read(id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        sh integer;
    BEGIN
        FOR sh IN SELECT * FROM orion_proxy.all_shards() LOOP
            IF orion_proxy.mark_read_on(sh, mark_read.id) THEN
                RETURN true;
            END IF;
        END LOOP;
        RETURN false;
    END
    $$;

CREATE FUNCTION orion.mark_all_read(user_id uuid) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN orion_proxy.mark_all_read_on(orion_proxy.user_shard(user_id), user_id);

-- Maintenance and integrity: on every shard
CREATE FUNCTION orion.run_maintenance(batch_size integer DEFAULT 10000,
    OUT sessions bigint, OUT refresh_tokens bigint, OUT one_time_tokens bigint,
    OUT notifications bigint, OUT audit_logs bigint)
    RETURNS record LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT sum(m.sessions)::bigint, sum(m.refresh_tokens)::bigint, sum(m.one_time_tokens)::bigint,
           sum(m.notifications)::bigint, sum(m.audit_logs)::bigint
      FROM orion_proxy.all_shards() sh(shard), LATERAL orion_proxy.run_maintenance_on(sh.shard, run_maintenance.batch_size) m;
END;

CREATE FUNCTION orion.find_orphans() RETURNS TABLE (table_name text, orphans bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT o.table_name, sum(o.orphans)::bigint
      FROM orion_proxy.all_shards() sh(shard), LATERAL orion_proxy.find_orphans_on(sh.shard) o
     GROUP BY o.table_name ORDER BY o.table_name;
END;

-- ---------------------------------------------------------------------------
-- Flags, segments and AB tests: one source, the same everywhere
-- ---------------------------------------------------------------------------

CREATE FUNCTION orion.sync_definitions() RETURNS TABLE (shard integer, changed bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        source integer := orion_proxy.first_shard();
        defs jsonb := orion_proxy.definitions_on(source);
        sh integer;
    BEGIN
        FOR sh IN SELECT s FROM orion_proxy.all_shards() s WHERE s <> source LOOP
            shard := sh;
            changed := orion_proxy.load_definitions_on(sh, defs);
            RETURN NEXT;
        END LOOP;
    END
    $$;
COMMENT ON FUNCTION orion.sync_definitions() IS 'Copies the flags, segments and AB tests of the first shard (the source) to every other shard; returns the rows each inserted, updated or deleted';

CREATE FUNCTION orion.check_definitions() RETURNS TABLE (shard integer, digest text, same_as_source boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH d AS (SELECT sh.shard, pg_catalog.md5(orion_proxy.definitions_on(sh.shard)::text) AS digest
                 FROM orion_proxy.all_shards() sh(shard))
    SELECT d.shard, d.digest, d.digest = (SELECT d0.digest FROM d d0 WHERE d0.shard = orion_proxy.first_shard())
      FROM d ORDER BY d.shard;
END;
COMMENT ON FUNCTION orion.check_definitions() IS 'The digest of each shard''s flags, segments and AB tests, and whether it is the source''s (the first shard''s)';

-- ---------------------------------------------------------------------------
-- Privileges: as orion grants the functions
-- ---------------------------------------------------------------------------

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA orion FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orion.jwks() TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.register_user(text, text, text, text, text), orion.login(text, text, text, text),
    orion.request_password_reset(text), orion.request_sign_in_link(text),
    orion.refresh_session(text, text, text), orion.logout(text), orion.verify_email(text),
    orion.reset_password(text, text), orion.sign_in_with_link(text, text, text),
    orion.list_sessions(uuid), orion.revoke_all_sessions(uuid, text),
    orion.change_password(uuid, text, text, uuid), orion.request_email_verification(uuid),
    orion.set_password(uuid, text), orion.revoke_session(uuid, text),
    orion.enroll_totp(uuid), orion.confirm_totp(uuid, text), orion.verify_totp(text, text, text, text),
    orion.disable_totp(uuid)
    TO orion_auth_service;
GRANT EXECUTE ON FUNCTION
    orion.validate_session(text), orion.verify_jwt(text), orion.revoked_sessions(timestamptz),
    orion.flag_enabled(text, uuid, jsonb), orion.flag_variant(text, uuid, jsonb), orion.evaluate_flag(text, uuid, jsonb),
    orion.evaluate_all_flags(uuid, jsonb), orion.peek_variant(text, uuid)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;
GRANT EXECUTE ON FUNCTION
    orion.assign_variant(text, uuid), orion.track_conversion(text, uuid, text, numeric),
    orion.ab_test_results(text, text)
    TO orion_ab_testing_service;
GRANT EXECUTE ON FUNCTION
    orion.send_notification(uuid, text, orion.notification_channel, text, text, jsonb),
    orion.send_notifications(uuid[], text, orion.notification_channel, text, text, jsonb),
    orion.list_notifications(uuid, boolean, integer, uuid), orion.unread_count(uuid),
    orion.mark_read(uuid), orion.mark_all_read(uuid)
    TO orion_notifications_service;
GRANT EXECUTE ON FUNCTION orion.delete_user(uuid) TO orion_user_service;
GRANT EXECUTE ON FUNCTION orion.run_maintenance(integer), orion.find_orphans(),
    orion.check_definitions() TO orion_admin;
-- sync_definitions writes every shard's definitions: the owner's alone
