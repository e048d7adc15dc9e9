# Evaluations while the caches they read are refilled under them.
#
# Four connections evaluate flags whose strategies read the user's email
# (SPI), segments, dependencies and variants, every flag at once, and AB
# assignments and peeks, while three others insert, update and delete flags,
# segments and tests, and run DISCARD ALL, temporary-table DDL and ANALYZE
# (each a burst of invalidations). Every answer is checked where it is made:
# an invalid one raises an error, which ends that pgbench client and fails
# the run. At the end, the server log must show no crashed backend, and a
# new connection must agree with the final tables. 0.7.0 crashed here: an
# evaluation read the email, took in an invalidation, refilled the flag
# cache for a segment lookup, and used the flag it had just freed.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seconds = $ENV{ORION_CHURN_SECONDS} // 20;

my $node = PostgreSQL::Test::Cluster->new('churn');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'orion'
restart_after_crash = off
max_connections = 30
});
$node->start;

# JSON written once here, so that each script reads plainly
my $email_segment_rollout = q{{"strategies": [{"name": "flexibleRollout",
  "parameters": {"rollout": "70", "stickiness": "default", "groupId": "g"},
  "constraints": [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com"]}],
  "segments": [1, 2]}]}};
my $variants_rollout = q{{"strategies": [{"name": "default",
  "constraints": [{"contextName": "role", "operator": "IN", "values": ["user", "admin"]}]}],
  "variants": [{"name": "red", "weight": 500, "stickiness": "default"},
               {"name": "blue", "weight": 500, "stickiness": "default"}]}};

$node->safe_psql('postgres', qq{
SET client_min_messages = warning;
CREATE EXTENSION orion CASCADE;
-- VOLATILE, so that the planner never folds it into a constant error
CREATE FUNCTION churn_invalid(script text, u uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
    RAISE EXCEPTION '% gave an invalid answer for user %', script, u;
END
\$\$;
INSERT INTO orion_auth.users (id, email, password_hash, role)
SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       CASE WHEN g % 3 = 0 THEN 'u' || g || '\@other.org' ELSE 'u' || g || '\@example.com' END,
       'x', CASE WHEN g % 5 = 0 THEN 'admin' ELSE 'user' END
  FROM generate_series(1, 50) AS g;
INSERT INTO orion_feature_flags.segments (id, name, constraints) VALUES
  (1, 'has email', '[{"contextName": "email", "operator": "STR_CONTAINS", "values": ["\@"]}]'),
  (2, 'verified or not', '[{"contextName": "emailVerified", "operator": "IN", "values": ["true", "false"]}]');
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
  ('seg-email', 'Segments and email', true, '$email_segment_rollout'),
  ('variants', 'Variants', true, '$variants_rollout'),
  ('email-parent', 'Parent', true, '$email_segment_rollout'),
  ('dep-child', 'Child', true,
   '{"strategies": [{"name": "default"}],
     "dependencies": [{"feature": "email-parent"}, {"feature": "churn-1"}, {"feature": "variants", "variants": ["red"]}]}');
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout)
SELECT 'churn-' || g, 'Churn', true, '$email_segment_rollout' FROM generate_series(1, 10) AS g;
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
  ('exp', 'Experiment', '[{"key": "control"}, {"key": "treatment"}]', true);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
my $user = q{(SELECT ('00000000-0000-4000-8000-' || lpad((:u)::text, 12, '0'))::uuid AS u) AS who};
my %scripts = (
	# one flag each, the answers checked
	read_flags => qq{\\set u random(1, 50)
SELECT CASE WHEN orion.flag_enabled('seg-email', u) IS NOT NULL
             AND orion.flag_variant('variants', u)->>'name' IN ('red', 'blue', 'disabled')
             AND orion.evaluate_flag('dep-child', u)->>'reason' IN ('DISABLED', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT')
             AND orion.flag_enabled('churn-' || (:u % 12), u) IS NOT NULL
        THEN 1 ELSE churn_invalid('read_flags', u) END FROM $user;
},
	read_all => qq{\\set u random(1, 50)
SELECT CASE WHEN count(*) >= 4 AND bool_and(f.flag_key IS NOT NULL AND f.enabled IS NOT NULL
                                            AND f.variant->>'name' IS NOT NULL)
        THEN 1 ELSE churn_invalid('read_all', u) END
  FROM $user, orion.evaluate_all_flags(u) AS f GROUP BY u;
},
	read_ab => qq{\\set u random(1, 50)
SELECT CASE WHEN coalesce(orion.assign_variant('exp', u), 'control') IN ('control', 'treatment')
             AND coalesce(orion.peek_variant('exp', u), 'control') IN ('control', 'treatment')
        THEN 1 ELSE churn_invalid('read_ab', u) END FROM $user;
},
	read_discard => qq{DISCARD ALL;
},
	# one row per statement: writers never deadlock one another
	write_flags => qq{\\set k random(1, 12)
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout)
VALUES ('churn-' || :k, 'Churn', true, '$email_segment_rollout')
ON CONFLICT (key) DO UPDATE SET enabled = NOT orion_feature_flags.feature_flags.enabled;
DELETE FROM orion_feature_flags.feature_flags WHERE key = 'churn-' || ((:k * 7) % 12);
UPDATE orion_feature_flags.feature_flags SET enabled = random() < 0.8 WHERE key = 'email-parent';
},
	write_segments_tests => qq{\\set s random(1, 2)
UPDATE orion_feature_flags.segments SET name = 'segment ' || :s || ' ' || random() WHERE id = :s;
UPDATE orion_ab_testing.ab_tests SET name = 'Experiment ' || random() WHERE key = 'exp';
UPDATE orion_feature_flags.feature_flags SET rollout = '$variants_rollout', enabled = true WHERE key = 'variants';
},
	write_ddl => qq{DISCARD ALL;
CREATE TEMP TABLE churn_scratch (x integer);
DROP TABLE churn_scratch;
ANALYZE orion_feature_flags.feature_flags;
},
);
for my $name (keys %scripts)
{
	open my $fh, '>', "$dir/$name.sql" or die "$dir/$name.sql: $!";
	print $fh $scripts{$name};
	close $fh;
}

my $pgbench = $node->installed_command('pgbench');
my @connect = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($readers_out, $readers_err, $writers_out, $writers_err) = ('', '', '', '');
my $readers = IPC::Run::start(
	[ $pgbench, '-n', '-c', '4', '-j', '2', '-T', $seconds,
	  '-f', "$dir/read_flags.sql\@6", '-f', "$dir/read_all.sql\@2",
	  '-f', "$dir/read_ab.sql\@3", '-f', "$dir/read_discard.sql\@1", @connect ],
	'>', \$readers_out, '2>', \$readers_err);
my $writers = IPC::Run::start(
	[ $pgbench, '-n', '-c', '3', '-j', '1', '-T', $seconds,
	  '-f', "$dir/write_flags.sql\@4", '-f', "$dir/write_segments_tests.sql\@3",
	  '-f', "$dir/write_ddl.sql\@1", @connect ],
	'>', \$writers_out, '2>', \$writers_err);
my $readers_ok = $readers->finish;
my $writers_ok = $writers->finish;

ok($readers_ok, 'the evaluating connections ran to the end, every answer valid')
  or diag("readers: $readers_out\n$readers_err");
ok($writers_ok, 'the changing connections ran to the end')
  or diag("writers: $writers_out\n$writers_err");
my ($evaluations) = $readers_out =~ /number of transactions actually processed: (\d+)/;
my ($changes) = $writers_out =~ /number of transactions actually processed: (\d+)/;
cmp_ok($evaluations // 0, '>', 100, 'evaluations ran: ' . ($evaluations // 'none'));
cmp_ok($changes // 0, '>', 20, 'changes ran: ' . ($changes // 'none'));

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC/, 'no backend crashed');

# after the churn, a new connection sees the tables as they are
my $expected = $node->safe_psql('postgres', q{
SELECT string_agg(key, ',' ORDER BY key) FROM orion_feature_flags.feature_flags});
my $seen = $node->safe_psql('postgres', q{
SELECT string_agg(flag_key, ',' ORDER BY flag_key)
  FROM orion.evaluate_all_flags('00000000-0000-4000-8000-000000000001')});
is($seen, $expected, 'evaluate_all_flags lists exactly the flags in the table');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM orion_ab_testing.ab_test_assignments a
 WHERE a.variant NOT IN ('control', 'treatment')
    OR a.variant IS DISTINCT FROM orion.peek_variant('exp', a.user_id)}),
   '0', 'every assignment made under the churn is one of the test\'s variants and stays');

$node->stop;
done_testing();
