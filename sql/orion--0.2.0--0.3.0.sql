/* sql/orion--0.2.0--0.3.0.sql: Feature flags (an Unleash-conformant engine) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.3.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- Validation of what the tables hold
-------------------------------------------------------------------------------

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

/*
 * Existing rollouts are checked here: an upgrade over one orion cannot
 * evaluate stops with the error naming it, to be fixed and run again.
 */
ALTER TABLE orion_feature_flags.feature_flags
    ADD CONSTRAINT feature_flags_rollout_valid CHECK (orion.validate_rollout(rollout));

-------------------------------------------------------------------------------
-- Segments: constraints shared by strategies
-------------------------------------------------------------------------------

CREATE TABLE orion_feature_flags.segments (
    id          integer PRIMARY KEY,
    name        text,
    constraints jsonb NOT NULL DEFAULT '[]'
                CONSTRAINT segments_constraints_valid CHECK (orion.validate_segment_constraints(constraints))
);
COMMENT ON TABLE orion_feature_flags.segments IS 'Unleash segments: constraints that strategies name by id';

SELECT pg_catalog.pg_extension_config_dump('orion_feature_flags.segments', '');

GRANT SELECT, INSERT, UPDATE, DELETE ON orion_feature_flags.segments TO orion_feature_flags_service;

-------------------------------------------------------------------------------
-- Triggers: cache invalidation, audit, notification
-------------------------------------------------------------------------------

CREATE FUNCTION orion.cache_invalidate()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_cache_invalidate'
    LANGUAGE C;
COMMENT ON FUNCTION orion.cache_invalidate() IS 'Trigger: tells every backend''s orion caches that the table changed';

CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_feature_flags.feature_flags
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();
CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_feature_flags.segments
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();

/*
 * Audit entries are written as the extension's owner: the feature flags
 * service changes flags but may not write the audit log itself.
 */
CREATE FUNCTION orion.audit_change()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'orion_audit_change'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION orion.audit_change() IS 'Trigger: audits a row change and notifies orion_cache_invalidate';

CREATE TRIGGER audit_change
    AFTER INSERT OR UPDATE OR DELETE ON orion_feature_flags.feature_flags
    FOR EACH ROW EXECUTE FUNCTION orion.audit_change('feature_flag', 'key', 'feature_flag:');
CREATE TRIGGER audit_change
    AFTER INSERT OR UPDATE OR DELETE ON orion_feature_flags.segments
    FOR EACH ROW EXECUTE FUNCTION orion.audit_change('segment', 'id');

-------------------------------------------------------------------------------
-- Evaluation
-------------------------------------------------------------------------------

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
    LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.flag_enabled(text, uuid, jsonb) IS 'Whether a feature flag is on for a user and an Unleash context; an unknown flag is off';

CREATE FUNCTION orion.flag_variant(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'orion_flag_variant'
    LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.flag_variant(text, uuid, jsonb) IS 'The Unleash variant of a feature flag for a user and context';

CREATE FUNCTION orion.evaluate_flag(flag_key text, user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'orion_evaluate_flag'
    LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION orion.evaluate_flag(text, uuid, jsonb) IS 'A feature flag''s value, variant, config and OpenFeature reason';

CREATE FUNCTION orion.evaluate_all_flags(user_id uuid DEFAULT NULL, context jsonb DEFAULT '{}')
    RETURNS TABLE (flag_key text, enabled boolean, variant jsonb, config jsonb)
    AS 'MODULE_PATHNAME', 'orion_evaluate_all_flags'
    LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
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
    orion.evaluate_all_flags(uuid, jsonb),
    orion.cache_invalidate(),
    orion.audit_change()
    FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    orion.flag_enabled(text, uuid, jsonb),
    orion.flag_variant(text, uuid, jsonb),
    orion.evaluate_flag(text, uuid, jsonb),
    orion.evaluate_all_flags(uuid, jsonb)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;
