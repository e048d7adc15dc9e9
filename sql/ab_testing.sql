--
-- AB testing: variants validated on write, GrowthBook's bucketing with a
-- traffic allocation, sticky assignment, peek, conversions, and results
-- checked against a worked example. (GrowthBook's SDK itself is compared in
-- test/t/008, the concurrent first assignment in test/isolation.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

CREATE TEMP TABLE people AS
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id
      FROM generate_series(1, 10000) AS i;
-- assignments name existing users (orion.enforce_user_references)
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT id, id || '@example.com', '$argon2id$x' FROM people;

--
-- Variants: [{"key", "name", "weight", "isControl", "config"}]
--
CREATE FUNCTION pg_temp.try_variants(variants jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orion.validate_variants(variants);
    RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN SQLERRM;
END
$$;
SELECT label, pg_temp.try_variants(v::jsonb) AS result FROM (VALUES
    ('two, equal weights',     '[{"key": "a"}, {"key": "b"}]'),
    ('weights and a control',  '[{"key": "a", "name": "A", "weight": 70, "isControl": true, "config": {"price": 9}}, {"key": "b", "weight": 30}]'),
    ('a zero weight',          '[{"key": "a", "weight": 1}, {"key": "b", "weight": 0}]'),
    ('an object',              '{"key": "a"}'),
    ('one variant',            '[{"key": "a"}]'),
    ('none',                   '[]'),
    ('a string',               '["a", "b"]'),
    ('no key',                 '[{"name": "A"}, {"key": "b"}]'),
    ('empty key',              '[{"key": ""}, {"key": "b"}]'),
    ('numeric key',            '[{"key": 1}, {"key": "b"}]'),
    ('key too long',           '[{"key": "' || repeat('k', 101) || '"}, {"key": "b"}]'),
    ('duplicate keys',         '[{"key": "a"}, {"key": "b"}, {"key": "a"}]'),
    ('unknown member',         '[{"key": "a", "share": 50}, {"key": "b"}]'),
    ('name a number',          '[{"key": "a", "name": 5}, {"key": "b"}]'),
    ('weight a string',        '[{"key": "a", "weight": "50"}, {"key": "b", "weight": 50}]'),
    ('negative weight',        '[{"key": "a", "weight": -1}, {"key": "b", "weight": 2}]'),
    ('all weights zero',       '[{"key": "a", "weight": 0}, {"key": "b", "weight": 0}]'),
    ('some weights missing',   '[{"key": "a", "weight": 50}, {"key": "b"}]'),
    ('isControl a string',     '[{"key": "a", "isControl": "yes"}, {"key": "b"}]'),
    ('two controls',           '[{"key": "a", "isControl": true}, {"key": "b", "isControl": true}]')
) AS t(label, v);
-- the table refuses them, and its other columns are checked too (terse: the
-- failing row's generated id and timestamps differ from run to run)
\set VERBOSITY terse
INSERT INTO orion_ab_testing.ab_tests (key, name, variants) VALUES ('bad', 'Bad', '[{"key": "a"}]');
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, traffic_allocation)
VALUES ('bad', 'Bad', '[{"key": "a"}, {"key": "b"}]', 1.5);
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, hash_version)
VALUES ('bad', 'Bad', '[{"key": "a"}, {"key": "b"}]', 3);
\set VERBOSITY default

--
-- Inclusion and variant do not share one bucket: with 50% allocation and a
-- 50/50 split, half the users are in the test and both variants get users
--
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active, traffic_allocation) VALUES
    ('checkout', 'Checkout', '[{"key": "control", "isControl": true}, {"key": "one-page"}]', true, 0.5);
SELECT coalesce(orion.assign_variant('checkout', id), '(not in the test)') AS variant, count(*) AS users
  FROM people GROUP BY 1 ORDER BY 1;
SELECT count(*) AS stored_assignments FROM orion_ab_testing.ab_test_assignments;
-- GrowthBook's answer, computed independently of assign_variant
SELECT count(*) AS disagreements FROM people p, orion_ab_testing.ab_tests t
 WHERE t.key = 'checkout'
   AND orion.peek_variant('checkout', p.id) IS DISTINCT FROM
       (SELECT CASE WHEN i >= 0 THEN t.variants -> i ->> 'key' END
          FROM orion.growthbook_choose_variation(orion.growthbook_hash('checkout', p.id::text, 2),
                                                 orion.growthbook_bucket_ranges(2, 0.5)) AS i);

--
-- Sticky: after the weights change, assigned users keep their variant and
-- new users follow the new weights
--
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('pricing', 'Pricing', '[{"key": "control", "weight": 50}, {"key": "cheaper", "weight": 50}]', true);
SELECT orion.assign_variant('pricing', id) AS variant, count(*) FROM people WHERE id < '00000000-0000-4000-8000-000000001000' GROUP BY 1 ORDER BY 1;
UPDATE orion_ab_testing.ab_tests SET variants = '[{"key": "control", "weight": 0}, {"key": "cheaper", "weight": 100}]' WHERE key = 'pricing';
SELECT orion.assign_variant('pricing', id) AS variant, count(*) FROM people WHERE id < '00000000-0000-4000-8000-000000001000' GROUP BY 1 ORDER BY 1;
SELECT orion.assign_variant('pricing', id) AS new_users_variant, count(*) FROM people WHERE id >= '00000000-0000-4000-8000-000000002000' GROUP BY 1 ORDER BY 1;
SELECT orion.peek_variant('pricing', '00000000-0000-4000-8000-000000000001') AS peek_keeps_the_stored_one;

--
-- Not running: inactive, not started, ended; unknown test; no row written
--
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active, start_date, end_date) VALUES
    ('inactive', 'Inactive', '[{"key": "a"}, {"key": "b"}]', false, NULL, NULL),
    ('future', 'Future', '[{"key": "a"}, {"key": "b"}]', true, now() + interval '1 day', NULL),
    ('over', 'Over', '[{"key": "a"}, {"key": "b"}]', true, now() - interval '2 days', now() - interval '1 day'),
    ('running', 'Running', '[{"key": "a"}, {"key": "b"}]', true, now() - interval '1 day', now() + interval '1 day'),
    ('nobody', 'Zero allocation', '[{"key": "a"}, {"key": "b"}]', true, NULL, NULL);
UPDATE orion_ab_testing.ab_tests SET traffic_allocation = 0 WHERE key = 'nobody';
SELECT count(*) AS rows_before FROM orion_ab_testing.ab_test_assignments \gset
SELECT k AS test, orion.assign_variant(k, '00000000-0000-4000-8000-000000000001') AS assigned,
       orion.peek_variant(k, '00000000-0000-4000-8000-000000000002') AS peeked
  FROM unnest(ARRAY['inactive', 'future', 'over', 'nobody', 'no-such-test']) AS k;
SELECT count(*) - :rows_before AS rows_written FROM orion_ab_testing.ab_test_assignments;
SELECT orion.assign_variant('running', '00000000-0000-4000-8000-000000000001') IS NOT NULL AS running_assigns;
-- a stopped test answers NULL even for users it assigned
UPDATE orion_ab_testing.ab_tests SET active = false WHERE key = 'pricing';
SELECT orion.assign_variant('pricing', '00000000-0000-4000-8000-000000000001') AS stopped,
       orion.peek_variant('pricing', '00000000-0000-4000-8000-000000000001') AS stopped_peek;
UPDATE orion_ab_testing.ab_tests SET active = true WHERE key = 'pricing';
-- peek writes nothing
SELECT count(*) AS rows_before FROM orion_ab_testing.ab_test_assignments \gset
SELECT count(orion.peek_variant('checkout', ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid)) > 0 AS peeked
  FROM generate_series(1, 1000) AS i;
SELECT count(*) - :rows_before AS rows_written_by_peek FROM orion_ab_testing.ab_test_assignments;

-- the seed and the hash version are the test's
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active, hash_seed, hash_version) VALUES
    ('seeded-v1', 'Seeded', '[{"key": "a"}, {"key": "b"}]', true, 'shared-seed', 1);
SELECT count(*) AS disagreements FROM people
 WHERE orion.peek_variant('seeded-v1', id) <>
       CASE WHEN orion.growthbook_hash('shared-seed', id::text, 1) < 0.5 THEN 'a' ELSE 'b' END;

-- bad calls
SELECT orion.assign_variant(NULL, '00000000-0000-4000-8000-000000000001');
SELECT orion.assign_variant('checkout', NULL);
SELECT orion.growthbook_hash('s', 'v', 3) AS unknown_version_is_null;
SELECT orion.growthbook_bucket_ranges(-1);
SELECT orion.growthbook_bucket_ranges(2, 'NaN');
SELECT orion.growthbook_choose_variation(0.5, '{0.1, 0.2}');

--
-- Conversions: only for assigned users, under their variant
--
SELECT orion.track_conversion('checkout', id, 'purchase', 19.99) AS tracked
  FROM people WHERE orion.peek_variant('checkout', id) IS NOT NULL LIMIT 1;
SELECT orion.track_conversion('checkout', id, 'purchase') AS unassigned_user
  FROM people WHERE orion.peek_variant('checkout', id) IS NULL LIMIT 1;
SELECT orion.track_conversion('no-such-test', '00000000-0000-4000-8000-000000000001', 'purchase') AS unknown_test;
SELECT orion.track_conversion('checkout', '00000000-0000-4000-8000-000000000001', '');
SELECT orion.track_conversion('checkout', '00000000-0000-4000-8000-000000000001', repeat('e', 101));
SELECT orion.track_conversion('checkout', '00000000-0000-4000-8000-000000000001', NULL);

--
-- Results, against worked examples computed independently of orion: with
-- Python 3.11's math module from the textbook formulas (two-proportion
-- z-test with the pooled proportion, two-sided p = erfc(|z|/sqrt 2);
-- Pearson's chi-square, whose survival function is erfc(sqrt(x/2)) for one
-- degree of freedom and exp(-x/2) for two), rounded to 6 places:
--   A: control 100/1000, treatment 136/1050, 50/50:
--      rates 0.1 and 0.129524, lift 0.295238, z 2.093482, p 0.036306,
--      SRM chi-square 1.219512, p 0.269456
--   B: weights 1/1/2, users 1000/980/2020, converted 50/60/90:
--      rates 0.05, 0.061224, 0.044554; lifts 0.22449, -0.108911;
--      p 0.275637, 0.50297; SRM chi-square 0.6, p 0.740818
--
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('example-a', 'Example A', '[{"key": "control", "isControl": true}, {"key": "treatment"}]', true),
    ('example-b', 'Example B', '[{"key": "control", "weight": 1}, {"key": "b", "weight": 1}, {"key": "c", "weight": 2}]', true);
CREATE FUNCTION pg_temp.load_example(test_key text, variant_key text, users int, converted int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE example_users AS
        SELECT gen_random_uuid() AS user_id, g FROM generate_series(1, users) AS g;
    INSERT INTO orion_auth.users (id, email, password_hash)
        SELECT user_id, user_id || '@example.com', '$argon2id$x' FROM example_users;
    INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)
        SELECT u.user_id, t.id, variant_key FROM example_users u, orion_ab_testing.ab_tests t WHERE t.key = test_key;
    INSERT INTO orion_ab_testing.ab_test_conversions (test_id, user_id, variant, event)
        SELECT t.id, u.user_id, variant_key, 'purchase' FROM example_users u, orion_ab_testing.ab_tests t
         WHERE t.key = test_key AND u.g <= converted;
    DROP TABLE example_users;
END
$$;
SELECT pg_temp.load_example('example-a', 'control', 1000, 100),
       pg_temp.load_example('example-a', 'treatment', 1050, 136),
       pg_temp.load_example('example-b', 'control', 1000, 50),
       pg_temp.load_example('example-b', 'b', 980, 60),
       pg_temp.load_example('example-b', 'c', 2020, 90);
SELECT variant, is_control, weight, users, conversions,
       round(conversion_rate::numeric, 6) AS rate, round(lift::numeric, 6) AS lift,
       round(p_value::numeric, 6) AS p_value, round(srm_p_value::numeric, 6) AS srm_p_value
  FROM orion.ab_test_results('example-a');
SELECT variant, is_control, weight, users, conversions,
       round(conversion_rate::numeric, 6) AS rate, round(lift::numeric, 6) AS lift,
       round(p_value::numeric, 6) AS p_value, round(srm_p_value::numeric, 6) AS srm_p_value
  FROM orion.ab_test_results('example-b');
-- a conversion counts a user once, and an event can be chosen
INSERT INTO orion_ab_testing.ab_test_conversions (test_id, user_id, variant, event)
SELECT test_id, user_id, variant, 'signup' FROM orion_ab_testing.ab_test_conversions
 WHERE test_id = (SELECT id FROM orion_ab_testing.ab_tests WHERE key = 'example-a');
SELECT variant, conversions FROM orion.ab_test_results('example-a');
SELECT variant, conversions FROM orion.ab_test_results('example-a', 'signup');
SELECT variant, conversions FROM orion.ab_test_results('example-a', 'refund');
SELECT variant, users, conversion_rate, lift, p_value, srm_p_value FROM orion.ab_test_results('nobody');
SELECT * FROM orion.ab_test_results('no-such-test');

--
-- Changes to tests are audited (assignments' NOTIFY is shown in the
-- isolation spec ab_assign)
--
SELECT action, count(*) FROM orion_auth.audit_logs WHERE resource = 'ab_test' GROUP BY action ORDER BY action;
SELECT old_data->>'active' AS was_active, new_data->>'active' AS now_active
  FROM orion_auth.audit_logs WHERE resource = 'ab_test' AND resource_id = 'pricing' AND action = 'ab_test.updated'
 ORDER BY created_at;

--
-- Who may do what
--
SET ROLE orion_ab_testing_service;
SELECT orion.assign_variant('running', '00000000-0000-4000-8000-000000000003') IS NOT NULL AS ab_service_assigns;
SELECT count(*) > 0 AS ab_service_reads_results FROM orion.ab_test_results('running');
RESET ROLE;
SET ROLE orion_notifications_service;
SELECT orion.peek_variant('running', '00000000-0000-4000-8000-000000000003') IS NOT NULL AS other_services_peek;
SELECT orion.assign_variant('running', '00000000-0000-4000-8000-000000000004');
RESET ROLE;

-- A stored assignment is read by probing the (user_id, test_id) index, which
-- reads what the SELECT would. With row security on the table the probe
-- steps aside and the policy decides: here the service may see variant a
-- only, so a user stored with b is not answered from the index (the
-- statement's insert then meets the policy, as it would without orion).
SELECT count(*) FILTER (WHERE variant = 'a') > 0 AND count(*) FILTER (WHERE variant = 'b') > 0 AS both_variants
  FROM people, orion.assign_variant('running', id) AS variant
 WHERE id <= '00000000-0000-4000-8000-000000000040';
SELECT min(user_id::text) FILTER (WHERE variant = 'a') AS user_a, min(user_id::text) FILTER (WHERE variant = 'b') AS user_b
  FROM orion_ab_testing.ab_test_assignments
 WHERE test_id = (SELECT id FROM orion_ab_testing.ab_tests WHERE key = 'running') \gset
ALTER TABLE orion_ab_testing.ab_test_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_a ON orion_ab_testing.ab_test_assignments FOR SELECT TO orion_ab_testing_service
    USING (variant = 'a');
CREATE POLICY may_insert ON orion_ab_testing.ab_test_assignments FOR INSERT TO orion_ab_testing_service
    WITH CHECK (true);
SET ROLE orion_ab_testing_service;
SELECT orion.assign_variant('running', :'user_a') AS visible_a;
SELECT orion.assign_variant('running', :'user_b') AS hidden_b;
RESET ROLE;
DROP POLICY only_a ON orion_ab_testing.ab_test_assignments;
DROP POLICY may_insert ON orion_ab_testing.ab_test_assignments;
ALTER TABLE orion_ab_testing.ab_test_assignments DISABLE ROW LEVEL SECURITY;
SET ROLE orion_ab_testing_service;
SELECT orion.assign_variant('running', :'user_b') AS b_again;
RESET ROLE;

-- search_path cannot hijack peek_variant (SECURITY DEFINER): the probe
-- resolves nothing by name, and its statement (when the probe steps aside)
-- runs with search_path pinned to pg_catalog, pg_temp
CREATE SCHEMA trojan;
CREATE FUNCTION trojan.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trojan operator called';
END
$$;
CREATE OPERATOR trojan.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = trojan.uuid_eq);
GRANT USAGE ON SCHEMA trojan TO PUBLIC;
SET search_path = trojan, pg_catalog;
SELECT orion.peek_variant('running', '00000000-0000-4000-8000-000000000003') IS NOT NULL AS probed;
ALTER TABLE orion_ab_testing.ab_test_assignments ENABLE ROW LEVEL SECURITY;
SELECT orion.peek_variant('running', '00000000-0000-4000-8000-000000000003') IS NOT NULL AS by_the_statement;
ALTER TABLE orion_ab_testing.ab_test_assignments DISABLE ROW LEVEL SECURITY;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA trojan CASCADE;
RESET client_min_messages;

DELETE FROM orion_ab_testing.ab_tests;
DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
