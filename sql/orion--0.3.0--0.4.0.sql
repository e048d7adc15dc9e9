/* sql/orion--0.3.0--0.4.0.sql: AB testing (GrowthBook-compatible assignment, results) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION orion UPDATE TO '0.4.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- GrowthBook's bucketing, exposed for checking and debugging
-------------------------------------------------------------------------------

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

-------------------------------------------------------------------------------
-- Tables
-------------------------------------------------------------------------------

/*
 * Existing tests are checked here: an update over variants orion cannot
 * assign stops with the error naming the problem, to be fixed first.
 */
ALTER TABLE orion_ab_testing.ab_tests
    ADD COLUMN traffic_allocation double precision NOT NULL DEFAULT 1
        CONSTRAINT ab_tests_traffic_allocation_range CHECK (traffic_allocation >= 0 AND traffic_allocation <= 1),
    ADD COLUMN hash_seed text,
    ADD COLUMN hash_version smallint NOT NULL DEFAULT 2
        CONSTRAINT ab_tests_hash_version_known CHECK (hash_version IN (1, 2)),
    ADD CONSTRAINT ab_tests_variants_valid CHECK (orion.validate_variants(variants));

COMMENT ON COLUMN orion_ab_testing.ab_tests.traffic_allocation IS 'Share of users in the test, 0 to 1 (GrowthBook''s coverage)';
COMMENT ON COLUMN orion_ab_testing.ab_tests.hash_seed IS 'The hash seed; NULL: the key';
COMMENT ON COLUMN orion_ab_testing.ab_tests.hash_version IS 'GrowthBook hash version, 1 or 2';

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

SELECT pg_catalog.pg_extension_config_dump('orion_ab_testing.ab_test_conversions', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON orion_ab_testing.ab_test_conversions TO orion_ab_testing_service;

-- the test cache follows changes; changes to tests are audited
CREATE TRIGGER cache_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orion_ab_testing.ab_tests
    FOR EACH STATEMENT EXECUTE FUNCTION orion.cache_invalidate();
CREATE TRIGGER audit_change
    AFTER INSERT OR UPDATE OR DELETE ON orion_ab_testing.ab_tests
    FOR EACH ROW EXECUTE FUNCTION orion.audit_change('ab_test', 'key');

-------------------------------------------------------------------------------
-- Assignment, conversions, results
-------------------------------------------------------------------------------

CREATE FUNCTION orion.assign_variant(test_key text, user_id uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_assign_variant'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orion.assign_variant(text, uuid) IS 'The user''s variant in an AB test, assigned once and kept; NULL when the test is not running or the user is outside its allocation';

/*
 * Every service may ask which variant a user has or would get. The
 * function runs as the extension's owner and only reads.
 */
CREATE FUNCTION orion.peek_variant(test_key text, user_id uuid)
    RETURNS text
    AS 'MODULE_PATHNAME', 'orion_peek_variant'
    LANGUAGE C STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
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

REVOKE ALL ON FUNCTION
    orion.assign_variant(text, uuid),
    orion.peek_variant(text, uuid),
    orion.track_conversion(text, uuid, text, numeric),
    orion.ab_test_results(text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    orion.assign_variant(text, uuid),
    orion.track_conversion(text, uuid, text, numeric),
    orion.ab_test_results(text, text)
    TO orion_ab_testing_service;
GRANT EXECUTE ON FUNCTION orion.peek_variant(text, uuid)
    TO orion_auth_service, orion_user_service, orion_notifications_service,
       orion_feature_flags_service, orion_ab_testing_service;
