-- test/demo-sharded.sql: the walkthrough that `make demo-sharded` runs in
-- psql, in the proxy database, with three shard databases beside it.

\set ECHO none
\pset footer off
\pset null '(null)'

\echo
\echo '1. Three shard databases, each an ordinary orion whose user ids begin with'
\echo '   their address''s partition, and a role the proxy connects to them as.'
\echo
SET client_min_messages = warning;
\c shard0
SET client_min_messages = warning;
CREATE EXTENSION orion CASCADE;
ALTER DATABASE shard0 SET orion.partitioned_user_ids = on;
\c shard1
SET client_min_messages = warning;
CREATE EXTENSION orion CASCADE;
ALTER DATABASE shard1 SET orion.partitioned_user_ids = on;
\c shard2
SET client_min_messages = warning;
CREATE EXTENSION orion CASCADE;
ALTER DATABASE shard2 SET orion.partitioned_user_ids = on;
CREATE ROLE orion_shard_link LOGIN IN ROLE orion_admin;

\echo '2. The proxy database: orion_proxy (it brings PL/Proxy), and the shard map.'
\echo '   Each shard holds a third of the 65,536 partitions.'
\c proxy
SET client_min_messages = warning;
CREATE EXTENSION orion_proxy CASCADE;
SELECT orion_proxy.set_shards(ARRAY[
    format('host=%s port=%s dbname=shard0 user=orion_shard_link', :'host', :'port'),
    format('host=%s port=%s dbname=shard1 user=orion_shard_link', :'host', :'port'),
    format('host=%s port=%s dbname=shard2 user=orion_shard_link', :'host', :'port')]);
SELECT shard, partitions, split_part(connstr, ' ', 3) AS database FROM orion_proxy.shards ORDER BY shard;

\echo
\echo '3. The same API as one server. Registration goes to the shard of the'
\echo '   address''s partition; the user id begins with that partition.'
SELECT email, orion.register_user(email, 'correct horse battery staple') AS user_id,
       orion_proxy.email_shard(email) AS shard
  FROM unnest(ARRAY['ada@example.com', 'grace@example.com', 'linus@example.com', 'hedy@example.com']) email;

\echo
\echo '4. A login''s tokens carry their shard (".2" at the end), so a session check'
\echo '   goes straight to it.'
SELECT access_token, refresh_token FROM orion.login('grace@example.com', 'correct horse battery staple') \gset
SELECT :'access_token' AS access_token;
SELECT email, role FROM orion.validate_session(:'access_token');

\echo
\echo '5. Flags and AB tests are written on the first shard and copied to the'
\echo '   others; check_definitions says whether every shard has the same.'
\c shard0
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('new-checkout', 'New checkout', true, '{"percentage": 50}');
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('pricing', 'Pricing', '[{"key": "control", "isControl": true}, {"key": "cheaper"}]', true);
\c proxy
SELECT * FROM orion.check_definitions();
SELECT * FROM orion.sync_definitions();
SELECT * FROM orion.check_definitions();

\echo
\echo '6. Per-user calls go to the user''s shard; results add up every shard.'
SELECT u.email, orion.flag_enabled('new-checkout', u.id) AS new_checkout,
       orion.assign_variant('pricing', u.id) AS pricing
  FROM (SELECT email, orion.register_user(email, 'correct horse battery staple') AS id
          FROM unnest(ARRAY['alan@example.com', 'barbara@example.com', 'ken@example.com']) email) u;
SELECT variant, users, conversions FROM orion.ab_test_results('pricing');

\echo
\echo '7. Each user''s rows are on one shard only:'
\c shard0
SELECT 'shard0' AS shard, count(*) AS users, (SELECT count(*) FROM orion_ab_testing.ab_test_assignments) AS assignments FROM orion_auth.users;
\c shard1
SELECT 'shard1' AS shard, count(*) AS users, (SELECT count(*) FROM orion_ab_testing.ab_test_assignments) AS assignments FROM orion_auth.users;
\c shard2
SELECT 'shard2' AS shard, count(*) AS users, (SELECT count(*) FROM orion_ab_testing.ab_test_assignments) AS assignments FROM orion_auth.users;
