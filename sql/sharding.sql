--
-- What a sharded installation (orion_proxy, README "Sharding on PL/Proxy")
-- stands on, in one database: user ids that begin with their address's
-- partition (orion.partitioned_user_ids), AB results from counts made
-- elsewhere (orion.ab_test_statistics, equal to ab_test_results for the
-- same counts), and flags, segments and tests as one document that another
-- installation loads (orion.definitions, orion.load_definitions). The
-- proxy itself runs in test/t/020_sharding.pl.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;

-- partitioned user ids: the first 16 bits are those of the SHA-256 of the
-- lower-case address, the rest random, a version 4 uuid all the same
SET orion.partitioned_user_ids = on;
SELECT orion.register_user('Shard.Ada@Example.com', 'correct horse battery staple') AS ada \gset
SELECT orion.register_user('shard.grace@example.com', 'correct horse battery staple') AS grace \gset
SELECT left(replace(id::text, '-', ''), 4) = left(encode(sha256(convert_to(lower(email), 'UTF8')), 'hex'), 4) AS partition_prefix,
       substr(id::text, 15, 1) AS version, substr(id::text, 20, 1) IN ('8', '9', 'a', 'b') AS variant_bits
  FROM orion_auth.users WHERE id IN (:'ada', :'grace') ORDER BY email;
-- two users of one address's partition share the prefix, nothing more
SELECT count(DISTINCT id) AS ids, count(DISTINCT left(id::text, 4)) AS prefixes
  FROM (SELECT orion.register_user('shard.twin' || i || '@example.com', 'correct horse battery staple') AS id
          FROM generate_series(1, 3) i) r;
RESET orion.partitioned_user_ids;
SELECT orion.register_user('shard.random@example.com', 'correct horse battery staple') AS random_id \gset
SELECT left(replace(id::text, '-', ''), 4) = left(encode(sha256(convert_to(lower(email), 'UTF8')), 'hex'), 4) AS off_is_random
  FROM orion_auth.users WHERE id = :'random_id';
-- the setting is the superuser's
CREATE ROLE shard_app LOGIN IN ROLE orion_auth_service;
SET ROLE shard_app;
SET orion.partitioned_user_ids = on;
RESET ROLE;

-- ab_test_statistics: the figures of ab_test_results from given counts
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('shard-test', 'Sharded', '[{"key": "control", "isControl": true, "weight": 1}, {"key": "b", "weight": 1}, {"key": "c", "weight": 2}]', true);
SELECT count(orion.assign_variant('shard-test', id)) AS assigned FROM orion_auth.users;
SELECT count(*) FILTER (WHERE orion.track_conversion('shard-test', id, 'buy')) AS converted
  FROM orion_auth.users WHERE email LIKE 'shard.%';
-- the counts ab_test_results made, given back: the same rows
SELECT count(*) AS rows, bool_and(r IS NOT DISTINCT FROM s) AS equal
  FROM orion.ab_test_results('shard-test', 'buy') r
  JOIN orion.ab_test_statistics('shard-test',
         (SELECT array_agg(variant) FROM orion.ab_test_results('shard-test', 'buy')),
         (SELECT array_agg(users) FROM orion.ab_test_results('shard-test', 'buy')),
         (SELECT array_agg(conversions) FROM orion.ab_test_results('shard-test', 'buy'))) s USING (variant);
-- two shards' counts summed: a worked example (control 1000/100, b 1000/130,
-- c 2000/220), worked by hand: b against the control, pooled 0.115, z = 2.103,
-- two-sided p = 0.0355; c: z = 0.836, p = 0.4029, lift 0.1; the split exactly
-- the weights 1:1:2, SRM p = 1
SELECT variant, is_control, round(weight::numeric, 4) AS weight, users, conversions,
       round(conversion_rate::numeric, 4) AS rate, round(lift::numeric, 4) AS lift,
       round(p_value::numeric, 4) AS p, round(srm_p_value::numeric, 4) AS srm
  FROM orion.ab_test_statistics('shard-test', ARRAY['c', 'control', 'b'],
                                ARRAY[2000, 1000, 1000]::bigint[], ARRAY[220, 100, 130]::bigint[])
 ORDER BY variant;
-- a variant left out counts none
SELECT variant, users FROM orion.ab_test_statistics('shard-test', ARRAY['b'], ARRAY[5]::bigint[], ARRAY[1]::bigint[])
 ORDER BY variant;
SELECT count(*) AS no_counts FROM orion.ab_test_statistics('shard-test', '{}', '{}', '{}');
-- refused
\set VERBOSITY sqlstate
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY['b', 'c'], ARRAY[1]::bigint[], ARRAY[0]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY[['b'], ['c']], ARRAY[[1], [1]]::bigint[], ARRAY[[0], [0]]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY['b', NULL], ARRAY[1, 1]::bigint[], ARRAY[0, 0]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY['nope'], ARRAY[1]::bigint[], ARRAY[0]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY['b', 'b'], ARRAY[1, 1]::bigint[], ARRAY[0, 0]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY['b'], ARRAY[-1]::bigint[], ARRAY[0]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', ARRAY['b'], ARRAY[1]::bigint[], ARRAY[2]::bigint[]);
SELECT * FROM orion.ab_test_statistics('shard-test', NULL, ARRAY[1]::bigint[], ARRAY[0]::bigint[]);
SELECT * FROM orion.ab_test_statistics('no-such-test', ARRAY['b'], ARRAY[1]::bigint[], ARRAY[0]::bigint[]);
\set VERBOSITY default

-- definitions: a document of flags, segments and tests, loaded elsewhere
INSERT INTO orion_feature_flags.segments (id, name, constraints) VALUES
    (901, 'shard-users', '[{"contextName": "role", "operator": "IN", "values": ["user"]}]');
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('shard-flag', 'Sharded flag', true, '{"strategies": [{"name": "default", "segments": [901]}]}');
SELECT orion.definitions() AS defs \gset
SELECT jsonb_array_length(:'defs'::jsonb -> 'feature_flags') > 0 AS has_flags,
       :'defs'::jsonb -> 'segments' @> '[{"id": 901}]' AS has_segment,
       :'defs'::jsonb -> 'ab_tests' @> '[{"key": "shard-test"}]' AS has_test;
-- the same document again changes nothing
SELECT orion.load_definitions(:'defs') AS changed_by_the_same;
-- changed here, then loaded back: as it was, with the same ids (the
-- assignments of the test deleted here went with it)
SELECT id AS test_id FROM orion_ab_testing.ab_tests WHERE key = 'shard-test' \gset
UPDATE orion_feature_flags.feature_flags SET enabled = false WHERE key = 'shard-flag';
DELETE FROM orion_ab_testing.ab_tests WHERE key = 'shard-test';
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled) VALUES ('shard-extra', 'Not in the document', true);
SELECT orion.load_definitions(:'defs') AS changed;
SELECT orion.definitions() = :'defs'::jsonb AS same_as_the_document,
       (SELECT id FROM orion_ab_testing.ab_tests WHERE key = 'shard-test') = :'test_id' AS same_test_id,
       (SELECT count(*) FROM orion_ab_testing.ab_test_assignments WHERE test_id = :'test_id') AS assignments;
SELECT orion.flag_enabled('shard-flag', :'ada') AS flag_back_on,
       (SELECT count(*) FROM orion_feature_flags.feature_flags WHERE key = 'shard-extra') AS extra_flags;
-- a segment the document lacks goes after the flags that used it
SELECT orion.load_definitions(jsonb_set(jsonb_set(:'defs', '{segments}', '[]'), '{feature_flags}',
    (SELECT coalesce(jsonb_agg(f), '[]') FROM jsonb_array_elements(:'defs'::jsonb -> 'feature_flags') f
      WHERE f->>'key' <> 'shard-flag'))) AS changed;
SELECT count(*) AS segments_left FROM orion_feature_flags.segments WHERE id = 901;
-- refused, changing nothing
\set VERBOSITY sqlstate
SELECT orion.load_definitions(NULL);
SELECT orion.load_definitions('[]');
SELECT orion.load_definitions('{"feature_flags": [], "segments": []}');
SELECT orion.load_definitions('{"feature_flags": {}, "segments": [], "ab_tests": []}');
SELECT orion.load_definitions(jsonb_set(:'defs', '{feature_flags}',
    '[{"id": "00000000-0000-4000-8000-000000000901", "key": "shard-bad", "name": "Bad", "rollout": {"strategies": "none"}}]'));
\set VERBOSITY default
SELECT count(*) AS flags_unchanged FROM orion_feature_flags.feature_flags WHERE key = 'shard-bad';
-- the administrators' alone
SET ROLE orion_feature_flags_service;
\set VERBOSITY sqlstate
SELECT orion.definitions();
SELECT orion.load_definitions(:'defs');
\set VERBOSITY default
RESET ROLE;

-- clean up: the tests share one database
DELETE FROM orion_feature_flags.feature_flags WHERE key LIKE 'shard-%';
DELETE FROM orion_feature_flags.segments WHERE id = 901;
DELETE FROM orion_ab_testing.ab_tests WHERE key = 'shard-test';
DELETE FROM orion_auth.users WHERE email ILIKE 'shard.%';
DROP ROLE shard_app;
