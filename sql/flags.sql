--
-- Feature flags: both rollout forms, bucketing, targeting, variants, the
-- user's own attributes, the reasons, the cache, and every way a rollout
-- is refused. (Unleash's specification runs in test/t/006, a differential
-- test of the hashing against npm unleash-client in test/t/007.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS orion CASCADE;
RESET client_min_messages;

--
-- The original platform's form: {"percentage", "targeting", "variants"}
--
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('checkout-25', 'New checkout for a quarter', true, '{"percentage": 25}'),
    ('search-25', 'New search for a quarter', true, '{"percentage": 25}'),
    ('dark-mode', 'Dark mode for everyone', true, NULL),
    ('nobody', 'Zero percent', true, '{"percentage": 0}'),
    ('switched-off', 'Disabled', false, '{"percentage": 100}');
CREATE TEMP TABLE people AS
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id
      FROM generate_series(1, 10000) AS i;
-- 25% of users, within a point
SELECT round(avg(orion.flag_enabled('checkout-25', id)::int) * 100) AS checkout_percent,
       round(avg(orion.flag_enabled('search-25', id)::int) * 100) AS search_percent,
       round(avg((orion.flag_enabled('checkout-25', id) AND orion.flag_enabled('search-25', id))::int) * 100) AS both_percent
  FROM people;
-- stable: the same answer every time for a user
SELECT count(*) AS changed_answers FROM people
 WHERE orion.flag_enabled('checkout-25', id) <> orion.flag_enabled('checkout-25', id);
-- the bucket is Unleash's: groupId = the flag's key
SELECT bool_and(orion.flag_enabled('checkout-25', id) = (orion.flag_bucket('checkout-25', id::text) <= 25)) AS same_as_bucket
  FROM people;
SELECT orion.flag_enabled('dark-mode') AS no_rollout_means_everyone,
       orion.flag_enabled('nobody', (SELECT id FROM people LIMIT 1)) AS zero_percent,
       orion.flag_enabled('switched-off') AS disabled,
       orion.flag_enabled('no-such-flag') AS unknown_flag_is_off;
-- anonymous users are not all in one bucket: the original put every one of
-- them in the same place; a percentage rollout with default stickiness
-- draws a random one for a context with neither userId nor sessionId
SELECT count(DISTINCT orion.flag_enabled('checkout-25')) AS anonymous_answers_vary
  FROM generate_series(1, 200);
SELECT count(*) FILTER (WHERE orion.flag_enabled('checkout-25', NULL, jsonb_build_object('sessionId', 's' || g)))
           BETWEEN 150 AND 350 AS sessions_spread
  FROM generate_series(1, 1000) AS g;

-- targeting: equals, contains, startsWith, endsWith, greaterThan
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('norway', 'Norway only', true, '{"percentage": 100, "targeting": [{"attribute": "country", "operator": "equals", "value": "NO"}]}'),
    ('staff', 'Staff', true, '{"targeting": [{"attribute": "email", "operator": "endsWith", "value": "@orion.example"}]}'),
    ('beta-plan', 'Beta plans', true, '{"targeting": [{"attribute": "plan", "operator": "startsWith", "value": "beta-"}, {"attribute": "plan", "operator": "contains", "value": "pro"}]}'),
    ('big-carts', 'Big carts', true, '{"targeting": [{"attribute": "cartTotal", "operator": "greaterThan", "value": 100}]}');
SELECT orion.flag_enabled('norway', NULL, '{"properties": {"country": "NO"}}') AS norway,
       orion.flag_enabled('norway', NULL, '{"properties": {"country": "SE"}}') AS sweden,
       orion.flag_enabled('norway', NULL, '{"country": "NO"}') AS top_level_field,
       orion.flag_enabled('norway') AS no_country;
SELECT orion.flag_enabled('beta-plan', NULL, '{"properties": {"plan": "beta-pro-2"}}') AS both_rules,
       orion.flag_enabled('beta-plan', NULL, '{"properties": {"plan": "beta-basic"}}') AS one_rule,
       orion.flag_enabled('big-carts', NULL, '{"properties": {"cartTotal": "100.5"}}') AS above,
       orion.flag_enabled('big-carts', NULL, '{"properties": {"cartTotal": 100}}') AS equal,
       orion.flag_enabled('big-carts', NULL, '{"properties": {"cartTotal": "lots"}}') AS not_a_number;
-- one call over many rows remembers the last flag and context between rows:
-- each row still gets the answer of its own key and context
SELECT n, k, c, orion.flag_enabled(k, NULL, c::jsonb) AS enabled
  FROM (VALUES (1, 'norway', '{"properties": {"country": "NO"}}'),
               (2, 'norway', '{"properties": {"country": "NO"}}'),
               (3, 'norway', '{"properties": {"country": "SE"}}'),
               (4, 'norway', '{"country": "NO"}'),
               (5, 'norway', '{}'),
               (6, 'norway', '{"properties": {"country": "NO"}}'),
               (7, 'big-carts', '{"properties": {"country": "NO"}}'),
               (8, 'big-carts', '{"properties": {"cartTotal": 200}}'),
               (9, 'no-such-flag', '{"properties": {"cartTotal": 200}}'),
               (10, 'norway', '{"properties": {"country": "NO", "cartTotal": 200}}')) AS t(n, k, c)
 ORDER BY n;

-- the user's own email, role and emailVerified, without the caller passing them
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;
SELECT orion.register_user('ada@orion.example', 'correct horse battery staple', role => 'admin') AS staff_user \gset
SELECT orion.register_user('bob@example.com', 'correct horse battery staple') AS other_user \gset
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('admins', 'Admins', true, '{"strategies": [{"name": "default", "constraints": [{"contextName": "role", "operator": "IN", "values": ["admin"]}]}]}'),
    ('verified', 'Verified', true, '{"strategies": [{"name": "default", "constraints": [{"contextName": "emailVerified", "operator": "IN", "values": ["true"]}]}]}');
SELECT orion.flag_enabled('staff', :'staff_user') AS staff_by_email,
       orion.flag_enabled('staff', :'other_user') AS other_by_email,
       orion.flag_enabled('admins', :'staff_user') AS staff_by_role,
       orion.flag_enabled('admins', :'other_user') AS other_by_role,
       orion.flag_enabled('admins', '00000000-0000-0000-0000-000000000000') AS unknown_user,
       orion.flag_enabled('verified', :'staff_user') AS not_verified;
UPDATE orion_auth.users SET email_verified = true WHERE id = :'staff_user';
SELECT orion.flag_enabled('verified', :'staff_user') AS verified;
-- what the caller passes wins over what orion looks up
SELECT orion.flag_enabled('admins', :'other_user', '{"properties": {"role": "admin"}}') AS caller_wins;

--
-- Variants: by weight, sticky per user, with payloads
--
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, config, rollout) VALUES
    ('button-color', 'Button color', true, '{"owner": "growth"}',
     '{"percentage": 100, "variants": [{"key": "blue", "weight": 75, "value": "#0000ff"}, {"key": "red", "weight": 25, "value": {"hex": "#ff0000"}}]}');
SELECT v->>'name' AS variant, round(count(*) / 100.0) AS percent
  FROM people, orion.flag_variant('button-color', id) AS v
 GROUP BY 1 ORDER BY 1;
SELECT orion.flag_variant('button-color', id) = orion.flag_variant('button-color', id) AS sticky,
       orion.flag_variant('button-color', id) - 'name' AS shape
  FROM people WHERE orion.flag_variant('button-color', id)->>'name' = 'red' LIMIT 1;
SELECT orion.flag_variant('dark-mode') AS enabled_without_variants,
       orion.flag_variant('switched-off') AS disabled,
       orion.flag_variant('no-such-flag') AS unknown;

--
-- evaluate_flag: value, variant, config and an OpenFeature reason
--
SELECT k, e - 'variant' AS evaluation
  FROM unnest(ARRAY['dark-mode', 'switched-off', 'norway', 'no-such-flag']) AS k,
       orion.evaluate_flag(k, NULL, '{"properties": {"country": "NO"}}') AS e
 ORDER BY k;
SELECT orion.evaluate_flag('button-color', id) - 'variant' AS evaluation
  FROM people LIMIT 1;
SELECT orion.evaluate_flag('checkout-25', id)->>'reason' AS reason, count(*)
  FROM people GROUP BY 1 ORDER BY 1;
INSERT INTO orion_auth.users (id, email, password_hash, role, email_verified)
VALUES ('00000000-0000-4000-8000-0000000000ca', 'carol@orion.example', '$argon2id$x', 'admin', true);
SELECT flag_key, enabled, variant->>'name' AS variant, config
  FROM orion.evaluate_all_flags('00000000-0000-4000-8000-0000000000ca', '{"properties": {"country": "NO"}}')
 ORDER BY flag_key;

-- bad calls are errors; an unknown flag never is
SELECT orion.flag_enabled(NULL);
SELECT orion.flag_enabled('norway', NULL, '[]');
SELECT orion.flag_enabled('norway', NULL, '"NO"');
SELECT orion.flag_enabled('norway', NULL, '{"properties": ["NO"]}');
SELECT orion.flag_enabled(repeat('x', 10000)) AS very_long_unknown_key;
SELECT orion.flag_enabled('norway', NULL, NULL) AS null_context_is_empty;
SELECT orion.flag_bucket('g', 'u', 0);
SELECT orion.flag_bucket('g', 'u', 100, -1);

--
-- Unleash's form, with what Unleash evaluates to off accepted as such
--
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('odd-but-valid', 'Odd', true, '{"strategies": [
        {"name": "myCustomStrategy", "parameters": {"x": "1"}},
        {"name": "default", "constraints": [{"contextName": "v", "operator": "NOT_A_VALID_OPERATOR", "values": ["1"]}]},
        {"name": "default", "constraints": [{"contextName": "v", "operator": "REGEX", "value": "(unclosed"}]},
        {"name": "default", "constraints": [{"contextName": "v", "operator": "DATE_AFTER", "value": "not a date"}]},
        {"name": "default", "constraints": [{"contextName": "v", "operator": "SEMVER_GT", "value": "one.two"}]},
        {"name": "default", "disabled": true}]}');
SELECT orion.flag_enabled('odd-but-valid', NULL, '{"properties": {"v": "1"}}') AS odd_but_valid;

--
-- Refused rollouts: each names the JSON path and the problem
--
CREATE FUNCTION pg_temp.try_rollout(rollout jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orion.validate_rollout(rollout);
    RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN SQLERRM;
END
$$;
SELECT n, label, pg_temp.try_rollout(rollout::jsonb) AS result
  FROM (VALUES
(1, 'array instead of object', '[]'),
(2, 'string', '"on"'),
(3, 'number', '42'),
(4, 'true', 'true'),
(5, 'null inside', '{"strategies": null, "variants": 5}'),
(6, 'unknown top-level key', '{"strategys": []}'),
(7, 'strategies is an object', '{"strategies": {}}'),
(8, 'strategies is a string', '{"strategies": "default"}'),
(9, 'variants is an object', '{"strategies": [], "variants": {}}'),
(10, 'dependencies is a string', '{"strategies": [], "dependencies": "parent"}'),
(11, 'mixed forms', '{"strategies": [], "percentage": 10}'),
(12, 'strategy is a string', '{"strategies": ["default"]}'),
(13, 'strategy is null', '{"strategies": [null]}'),
(14, 'strategy without name', '{"strategies": [{}]}'),
(15, 'strategy name empty', '{"strategies": [{"name": ""}]}'),
(16, 'strategy name a number', '{"strategies": [{"name": 7}]}'),
(17, 'unknown strategy key', '{"strategies": [{"name": "default", "params": {}}]}'),
(18, 'parameters an array', '{"strategies": [{"name": "default", "parameters": []}]}'),
(19, 'parameters a string', '{"strategies": [{"name": "default", "parameters": "x"}]}'),
(20, 'parameter an object', '{"strategies": [{"name": "default", "parameters": {"x": {}}}]}'),
(21, 'parameter an array', '{"strategies": [{"name": "default", "parameters": {"x": [1]}}]}'),
(22, 'parameter null', '{"strategies": [{"name": "default", "parameters": {"x": null}}]}'),
(23, 'disabled not boolean', '{"strategies": [{"name": "default", "disabled": "yes"}]}'),
(24, 'flexibleRollout rollout ''150''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "150"}}]}'),
(25, 'flexibleRollout rollout ''-1''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "-1"}}]}'),
(26, 'flexibleRollout rollout ''abc''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "abc"}}]}'),
(27, 'flexibleRollout rollout ''''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": ""}}]}'),
(28, 'flexibleRollout rollout ''50%''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50%"}}]}'),
(29, 'flexibleRollout rollout ''1e3''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "1e3"}}]}'),
(30, 'flexibleRollout rollout ''NaN''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "NaN"}}]}'),
(31, 'flexibleRollout rollout ''Infinity''', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "Infinity"}}]}'),
(32, 'flexibleRollout rollout 101 as number', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": 101}}]}'),
(33, 'flexibleRollout rollout true', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": true}}]}'),
(34, 'flexibleRollout without rollout', '{"strategies": [{"name": "flexibleRollout", "parameters": {"stickiness": "default"}}]}'),
(35, 'flexibleRollout without parameters', '{"strategies": [{"name": "flexibleRollout"}]}'),
(36, 'second strategy bad', '{"strategies": [{"name": "default"}, {"name": "flexibleRollout", "parameters": {"rollout": "200"}}]}'),
(37, 'gradualRolloutUserId percentage 101', '{"strategies": [{"name": "gradualRolloutUserId", "parameters": {"percentage": "101"}}]}'),
(38, 'gradualRolloutUserId without percentage', '{"strategies": [{"name": "gradualRolloutUserId", "parameters": {}}]}'),
(39, 'gradualRolloutSessionId percentage 101', '{"strategies": [{"name": "gradualRolloutSessionId", "parameters": {"percentage": "101"}}]}'),
(40, 'gradualRolloutSessionId without percentage', '{"strategies": [{"name": "gradualRolloutSessionId", "parameters": {}}]}'),
(41, 'gradualRolloutRandom percentage 101', '{"strategies": [{"name": "gradualRolloutRandom", "parameters": {"percentage": "101"}}]}'),
(42, 'gradualRolloutRandom without percentage', '{"strategies": [{"name": "gradualRolloutRandom", "parameters": {}}]}'),
(43, 'userWithId userIds an array', '{"strategies": [{"name": "userWithId", "parameters": {"userIds": ["1"]}}]}'),
(44, 'remoteAddress IPs an object', '{"strategies": [{"name": "remoteAddress", "parameters": {"IPs": {"a": 1}}}]}'),
(45, 'groupId an array', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "5", "groupId": ["g"]}}]}'),
(46, 'constraints an object', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": {}}]}'),
(47, 'constraints a string', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": "x"}]}'),
(48, 'constraint a string', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": ["country IN (NO)"]}]}'),
(49, 'constraint null', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [null]}]}'),
(50, 'constraint without contextName', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"operator": "IN", "values": ["a"]}]}]}'),
(51, 'constraint contextName empty', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "", "operator": "IN", "values": ["a"]}]}]}'),
(52, 'constraint contextName a number', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": 5, "operator": "IN", "values": ["a"]}]}]}'),
(53, 'constraint without operator', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "values": ["a"]}]}]}'),
(54, 'constraint operator a number', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": 1, "values": ["a"]}]}]}'),
(55, 'constraint operator empty', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "", "values": ["a"]}]}]}'),
(56, 'constraint values a string', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": "NO"}]}]}'),
(57, 'constraint values an object', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": {"a": 1}}]}]}'),
(58, 'constraint value an object', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "n", "operator": "NUM_EQ", "value": {"x": 1}}]}]}'),
(59, 'constraint value an array', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "n", "operator": "NUM_EQ", "value": [1]}]}]}'),
(60, 'constraint values holding an object', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": [{"a": 1}]}]}]}'),
(61, 'constraint values holding null', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": [null]}]}]}'),
(62, 'constraint values holding an array', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": [["NO"]]}]}]}'),
(63, 'constraint inverted a string', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO"], "inverted": "true"}]}]}'),
(64, 'constraint inverted a number', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO"], "inverted": 1}]}]}'),
(65, 'constraint caseInsensitive a string', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "STR_CONTAINS", "values": ["no"], "caseInsensitive": "yes"}]}]}'),
(66, 'constraint unknown key', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO"], "negate": true}]}]}'),
(67, 'second constraint bad', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "constraints": [{"contextName": "a", "operator": "IN", "values": ["x"]}, {"contextName": "b", "values": ["x"]}]}]}'),
(68, 'segments an object', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "segments": {}}]}'),
(69, 'segment id a string', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "segments": ["1"]}]}'),
(70, 'segment id fractional', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "segments": [1.5]}]}'),
(71, 'segment id null', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "segments": [null]}]}'),
(72, 'segment id too large', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "segments": [10000000000]}]}'),
(73, 'variant a string', '{"strategies": [], "variants": ["a"]}'),
(74, 'variant null', '{"strategies": [], "variants": [null]}'),
(75, 'variant without name', '{"strategies": [], "variants": [{"weight": 1}]}'),
(76, 'variant name empty', '{"strategies": [{"name": "default"}], "variants": [{"name": "", "weight": 500}]}'),
(77, 'variant name a number', '{"strategies": [{"name": "default"}], "variants": [{"name": 3, "weight": 500}]}'),
(78, 'variant without weight', '{"strategies": [], "variants": [{"name": "a"}]}'),
(79, 'variant weight negative', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": -1}]}'),
(80, 'variant weight fractional', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 0.5}]}'),
(81, 'variant weight a word', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": "heavy"}]}'),
(82, 'variant weight too large', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 1000001}]}'),
(83, 'variant weight true', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": true}]}'),
(84, 'variant weight null', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": null}]}'),
(85, 'variant stickiness a number', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "stickiness": 1}]}'),
(86, 'variant payload a string', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "payload": "x"}]}'),
(87, 'variant payload without type', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "payload": {"value": "x"}}]}'),
(88, 'variant payload without value', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "payload": {"type": "string"}}]}'),
(89, 'variant payload value an object', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "payload": {"type": "json", "value": {"a": 1}}}]}'),
(90, 'variant payload type a number', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "payload": {"type": 1, "value": "x"}}]}'),
(91, 'variant overrides an object', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "overrides": {}}]}'),
(92, 'variant override a string', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "overrides": ["x"]}]}'),
(93, 'variant override without contextName', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "overrides": [{"values": ["1"]}]}]}'),
(94, 'variant override without values', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "overrides": [{"contextName": "userId"}]}]}'),
(95, 'variant override values a string', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "overrides": [{"contextName": "userId", "values": "1"}]}]}'),
(96, 'variant unknown key', '{"strategies": [{"name": "default"}], "variants": [{"name": "a", "weight": 500, "color": "red"}]}'),
(97, 'strategy variant bad weight', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "variants": [{"name": "a", "weight": -5}]}]}'),
(98, 'strategy variants an object', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50"}, "variants": {}}]}'),
(99, 'dependency a string', '{"strategies": [], "dependencies": ["parent"]}'),
(100, 'dependency without feature', '{"strategies": [], "dependencies": [{"enabled": true}]}'),
(101, 'dependency feature empty', '{"strategies": [], "dependencies": [{"feature": ""}]}'),
(102, 'dependency feature a number', '{"strategies": [], "dependencies": [{"feature": 1}]}'),
(103, 'dependency enabled a string', '{"strategies": [], "dependencies": [{"feature": "p", "enabled": "no"}]}'),
(104, 'dependency variants a string', '{"strategies": [], "dependencies": [{"feature": "p", "variants": "v"}]}'),
(105, 'dependency unknown key', '{"strategies": [], "dependencies": [{"feature": "p", "optional": true}]}'),
(106, 'original percentage 101', '{"percentage": 101}'),
(107, 'original percentage negative', '{"percentage": -5}'),
(108, 'original percentage a word', '{"percentage": "half"}'),
(109, 'original percentage null', '{"percentage": null}'),
(110, 'original unknown key', '{"percentage": 10, "rules": []}'),
(111, 'original targeting an object', '{"percentage": 10, "targeting": {}}'),
(112, 'original rule a string', '{"targeting": ["country = NO"]}'),
(113, 'original rule without attribute', '{"targeting": [{"operator": "equals", "value": "NO"}]}'),
(114, 'original rule without operator', '{"targeting": [{"attribute": "country", "value": "NO"}]}'),
(115, 'original rule unknown operator', '{"targeting": [{"attribute": "country", "operator": "lessThan", "value": "5"}]}'),
(116, 'original rule without value', '{"targeting": [{"attribute": "country", "operator": "equals"}]}'),
(117, 'original rule value an object', '{"targeting": [{"attribute": "country", "operator": "equals", "value": {"a": 1}}]}'),
(118, 'original rule unknown key', '{"targeting": [{"attribute": "country", "operator": "equals", "value": "NO", "negate": true}]}'),
(119, 'original variant without key', '{"percentage": 50, "variants": [{"weight": 50}]}'),
(120, 'original variant negative weight', '{"percentage": 50, "variants": [{"key": "a", "weight": -50}]}'),
(121, 'original variant fractional weight', '{"percentage": 50, "variants": [{"key": "a", "weight": 0.5}]}'),
(122, 'original variant unknown key', '{"percentage": 50, "variants": [{"key": "a", "weight": 50, "config": {}}]}')
) AS bad(n, label, rollout)
 ORDER BY n;
-- the CHECK on the table refuses them the same way, and nothing is stored
SELECT count(*) AS flags_before FROM orion_feature_flags.feature_flags \gset
INSERT INTO orion_feature_flags.feature_flags (key, name, rollout)
VALUES ('broken', 'Broken', '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "150"}}]}');
UPDATE orion_feature_flags.feature_flags SET rollout = '{"percentage": "half"}' WHERE key = 'checkout-25';
SELECT (SELECT count(*) FROM orion_feature_flags.feature_flags) = :flags_before AS nothing_stored,
       (SELECT rollout FROM orion_feature_flags.feature_flags WHERE key = 'checkout-25') AS unchanged;
-- segments are checked too
INSERT INTO orion_feature_flags.segments (id, name, constraints) VALUES (1, 'bad', '{"contextName": "x"}');
INSERT INTO orion_feature_flags.segments (id, name, constraints) VALUES (1, 'bad', '[{"operator": "IN"}]');

--
-- The cache: evaluation reads no table once filled, and sees changes
--
BEGIN;
SELECT orion.flag_enabled('norway') AS fill_cache;
SELECT pg_stat_get_xact_numscans('orion_feature_flags.feature_flags'::regclass) AS flag_scans,
       pg_stat_get_xact_numscans('orion_feature_flags.segments'::regclass) AS segment_scans \gset
SELECT count(*) FILTER (WHERE orion.flag_enabled('checkout-25', id)) > 0 AS evaluated FROM people;
SELECT pg_stat_get_xact_numscans('orion_feature_flags.feature_flags'::regclass) - :flag_scans AS flag_scans_during_10000_evaluations,
       pg_stat_get_xact_numscans('orion_feature_flags.segments'::regclass) - :segment_scans AS segment_scans_during;
COMMIT;
-- a change is seen at the next statement, also inside the changing transaction
BEGIN;
UPDATE orion_feature_flags.feature_flags SET enabled = false WHERE key = 'dark-mode';
SELECT orion.flag_enabled('dark-mode') AS after_update_in_transaction;
ROLLBACK;
SELECT orion.flag_enabled('dark-mode') AS after_rollback;
UPDATE orion_feature_flags.feature_flags SET rollout = '{"percentage": 0}' WHERE key = 'dark-mode';
SELECT orion.flag_enabled('dark-mode') AS after_commit;
-- segments too
INSERT INTO orion_feature_flags.segments (id, name, constraints)
VALUES (7, 'beta testers', '[{"contextName": "beta", "operator": "IN", "values": ["yes"]}]');
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout)
VALUES ('beta-segment', 'Beta segment', true, '{"strategies": [{"name": "default", "segments": [7]}]}');
SELECT orion.flag_enabled('beta-segment', NULL, '{"properties": {"beta": "yes"}}') AS in_segment;
UPDATE orion_feature_flags.segments SET constraints = '[{"contextName": "beta", "operator": "IN", "values": ["sure"]}]' WHERE id = 7;
SELECT orion.flag_enabled('beta-segment', NULL, '{"properties": {"beta": "yes"}}') AS after_segment_change;
DELETE FROM orion_feature_flags.segments WHERE id = 7;
SELECT orion.flag_enabled('beta-segment', NULL, '{"properties": {"beta": "sure"}}') AS missing_segment;

--
-- Changes are audited (the NOTIFY to application caches is in the
-- isolation spec flag_cache, which can show it without a process id)
--
BEGIN;
SET LOCAL orion.actor_id = :'staff_user';
UPDATE orion_feature_flags.feature_flags SET enabled = false WHERE key = 'norway';
COMMIT;
SELECT user_id = :'staff_user' AS actor, action, resource_id,
       old_data->>'enabled' AS was_enabled, new_data->>'enabled' AS now_enabled
  FROM orion_auth.audit_logs WHERE action LIKE 'feature_flag.%' AND resource_id = 'norway'
 ORDER BY created_at;
SELECT action, count(*) FROM orion_auth.audit_logs
 WHERE resource IN ('feature_flag', 'segment') GROUP BY action ORDER BY action;

--
-- Who may do what
--
SET ROLE orion_notifications_service;
SELECT orion.flag_enabled('dark-mode') AS any_service_evaluates;
SELECT count(*) FROM orion_feature_flags.feature_flags;
RESET ROLE;
SET ROLE orion_feature_flags_service;
UPDATE orion_feature_flags.feature_flags SET description = 'by the service' WHERE key = 'dark-mode';
INSERT INTO orion_feature_flags.segments (id, constraints) VALUES (8, '[]');
SELECT count(*) FROM orion_auth.audit_logs;
RESET ROLE;

--
-- search_path cannot hijack the evaluators: they run as the extension's
-- owner, and the SQL they run (filling the cache, looking up a user) runs
-- with search_path pinned to pg_catalog, pg_temp whatever the caller set
--
CREATE SCHEMA trojan;
CREATE FUNCTION trojan.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trojan operator called';
END
$$;
CREATE OPERATOR trojan.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = trojan.uuid_eq);
CREATE FUNCTION trojan.coalesce(boolean, boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trojan function called';
END
$$;
GRANT USAGE ON SCHEMA trojan TO PUBLIC;
SET search_path = trojan, pg_catalog;
UPDATE orion_feature_flags.feature_flags SET description = 'refill the cache' WHERE key = 'admins';
SELECT orion.flag_enabled('admins', '00000000-0000-4000-8000-0000000000ca') AS trojans_not_called;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA trojan CASCADE;
RESET client_min_messages;

DELETE FROM orion_feature_flags.feature_flags;
DELETE FROM orion_feature_flags.segments;
DELETE FROM orion_auth.users;
DELETE FROM orion_auth.audit_logs;
