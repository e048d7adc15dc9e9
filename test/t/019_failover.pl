# Failover without loss: a primary and a synchronous standby
# (synchronous_commit = on, synchronous_standby_names naming it). A client
# (test/node/failover-client.js, npm pg, four connections) signs in,
# refreshes, assigns variants and sends notifications, writing down every
# call the server acknowledged; the primary is killed with SIGKILL, its
# postmaster and every backend at once, as a machine that loses power, in
# the middle of those calls; the standby is promoted (pg_ctl promote, the
# procedure the README gives). Then, on the new primary:
#  - every acknowledged login's session, every acknowledged rotation (the
#    old refresh token revoked, the new one stored in its session), every
#    acknowledged assignment (with the variant the client was told) and
#    every acknowledged notification is there;
#  - the last tokens rotated before the crash: presented again, a rotated
#    token is detected as reused (no tokens, the session revoked); the
#    token that replaced it refreshes;
#  - the maintenance worker, absent on the standby, runs on the new primary
#    and removes a dead session.
# What an asynchronous standby would lose is said in the README ("Scale
# out"), not tested: its loss depends on the replication lag at the crash.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

use lib 'test/perl';
use OrionTest;

my $pg_version = '8.13.1';
my $pg_dir = npm_install('pg', $pg_version);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
use_secret_key($primary);
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'orion'
orion.maintenance_databases = 'postgres'
orion.maintenance_naptime = '1s'
orion.refresh_reuse_interval = 0
orion.argon2_memory_kib = 64
orion.argon2_iterations = 1
synchronous_commit = on
synchronous_standby_names = 'standby'
});
$primary->start;
$primary->backup('backup');

# the standby's walreceiver connects as application_name 'standby'
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
ok($primary->poll_query_until('postgres',
		"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'", 'sync'),
	'the standby replicates synchronously');

$primary->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
SELECT orion.register_user('failover' || i || '@example.com', 'correct horse battery staple') FROM generate_series(1, 40) i;
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('failover-test', 'Failover', '[{"key": "control", "isControl": true}, {"key": "a"}, {"key": "b"}]', true);
});
# a session dead by the time the new primary runs: for its maintenance worker
my $dead_session = $primary->safe_psql('postgres', q{
SET orion.access_token_ttl = 1;
SET orion.refresh_token_ttl = 1;
SELECT session_id FROM orion.login('failover1@example.com', 'correct horse battery staple');
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'orion maintenance'"),
	'0', 'no maintenance worker on the standby');

# the client, until the primary goes
my $acks_file = PostgreSQL::Test::Utils::tempdir . '/acks.jsonl';
my $seed = int(rand(1_000_000));
note("client seed $seed");
my ($out, $err) = ('', '');
my $client;
{
	local $ENV{PGHOST} = $primary->host;
	local $ENV{PGPORT} = $primary->port;
	local $ENV{PGDATABASE} = 'postgres';
	local $ENV{PGUSER} = $ENV{USER} // scalar getpwuid($<);
	$client = IPC::Run::start(
		[ 'node', 'test/node/failover-client.js', $pg_dir, $acks_file, '4', $seed ],
		'<', \undef, '>', \$out, '2>', \$err);
}

# the lines written so far (the last may be half written while it runs)
sub acks
{
	return () unless -e $acks_file;
	return map { my $l = $_; eval { decode_json($l) } // () } grep { /\S/ } split /\n/, slurp_file($acks_file);
}

# kill once every kind of call has been acknowledged many times over
my $timeout = time + 120;
my %kinds;
while (time < $timeout)
{
	%kinds = ();
	$kinds{ $_->{kind} }++ for grep { defined $_->{ack} } acks();
	last if 4 == grep { ($kinds{$_} // 0) >= 150 } qw(login refresh assign send);
	usleep(100_000);
}
ok((4 == grep { ($kinds{$_} // 0) >= 150 } qw(login refresh assign send)),
	'the client made at least 150 calls of each kind before the crash')
  or diag(explain(\%kinds), $err);

# the postmaster and all of its children in one go
my ($postmaster) = split /\n/, slurp_file($primary->data_dir . '/postmaster.pid');
my @children = map { /^\s*(\d+)/ ? $1 : () } split /\n/, `ps -o pid= --ppid $postmaster`;
kill 'KILL', $postmaster, @children;
note('killed the primary: postmaster ' . $postmaster . ' and ' . scalar(@children) . ' children');
$primary->{_pid} = undef;

ok($client->finish, 'the client stopped when the primary went') or diag($err);
my @acks = acks();
my @errors = grep { defined $_->{error} } @acks;
is(scalar(@errors), 0, 'no call failed but for the connection going') or diag(explain(\@errors));

# The procedure: promote the synchronous standby; then, as it has no
# standby of its own yet, stop it waiting for one (else every commit
# waits for a standby named 'standby' that is gone).
$standby->promote;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the standby is promoted');
my $new = $standby;
$new->safe_psql('postgres', "ALTER SYSTEM SET synchronous_standby_names = ''");
$new->safe_psql('postgres', 'SELECT pg_reload_conf()');

# every acknowledged call's effect, in one query per kind
my %acked;
push @{ $acked{ $_->{kind} } }, $_ for grep { defined $_->{ack} } @acks;
note(join(', ', map { scalar(@{ $acked{$_} }) . " $_" } sort keys %acked) . ' acknowledged');
my $json = JSON::PP->new->canonical;
is($new->safe_psql('postgres', sprintf(q{
SELECT count(*) FROM jsonb_array_elements('%s'::jsonb) a
 WHERE NOT EXISTS (SELECT FROM orion_auth.sessions s WHERE s.id = (a->>'session')::uuid)},
		$json->encode($acked{login}))), '0',
	scalar(@{ $acked{login} }) . ' acknowledged logins: every session is on the new primary');
is($new->safe_psql('postgres', sprintf(q{
SELECT count(*) FROM jsonb_array_elements('%s'::jsonb) a
 WHERE NOT EXISTS (SELECT FROM orion_auth.refresh_tokens r
                    WHERE r.token = encode(sha256(convert_to(a->>'new', 'UTF8')), 'hex')
                      AND r.session_id = (a->>'session')::uuid)},
		$json->encode($acked{refresh}))), '0',
	scalar(@{ $acked{refresh} }) . ' acknowledged rotations: every new refresh token is stored in its session');
is($new->safe_psql('postgres', sprintf(q{
SELECT count(*) FROM jsonb_array_elements('%s'::jsonb) a
 WHERE NOT EXISTS (SELECT FROM orion_auth.refresh_tokens r
                    WHERE r.token = encode(sha256(convert_to(a->>'old', 'UTF8')), 'hex')
                      AND r.revoked_at IS NOT NULL)},
		$json->encode($acked{refresh}))),
	'0', 'and every token they replaced is revoked');
is($new->safe_psql('postgres', sprintf(q{
SELECT count(*) FROM jsonb_array_elements('%s'::jsonb) a
 WHERE NOT EXISTS (SELECT FROM orion_ab_testing.ab_test_assignments x
                     JOIN orion_ab_testing.ab_tests t ON t.id = x.test_id AND t.key = 'failover-test'
                    WHERE x.user_id = (a->>'user')::uuid AND x.variant = a->>'variant')},
		$json->encode($acked{assign}))), '0',
	scalar(@{ $acked{assign} }) . ' acknowledged assignments: each is stored with the variant the client was told');
is($new->safe_psql('postgres', sprintf(q{
SELECT count(*) FROM jsonb_array_elements('%s'::jsonb) a
 WHERE NOT EXISTS (SELECT FROM orion_notifications.notifications n
                    WHERE n.id = (a->>'id')::uuid AND n.user_id = (a->>'user')::uuid)},
		$json->encode($acked{send}))), '0',
	scalar(@{ $acked{send} }) . ' acknowledged notifications: every one is there');

# The last rotations before the crash, of sessions with no call in flight:
# the rotated token presented again is reuse (nothing, the session
# revoked); in every other one of them, the token that replaced it works.
my %calls = map { $_->{call} => $_ } grep { defined $_->{call} } @acks;
delete $calls{ $_->{ack} } for grep { defined $_->{ack} } @acks;
my %busy = map { ($_->{session} // '') => 1 } values %calls;
note(scalar(keys %calls) . ' calls were in flight at the crash (committed or not: not checked)');
my %last;
$last{ $_->{session} } = $_ for @{ $acked{refresh} };
my @latest = grep { !$busy{ $_->{session} } } sort { $a->{ack} <=> $b->{ack} } values %last;
@latest = @latest[ -20 .. -1 ] if @latest > 20;
ok(@latest >= 4, scalar(@latest) . ' sessions whose last rotation came just before the crash');
my ($reused, $revoked, $refreshed) = (0, 0, 0);
for my $i (0 .. $#latest)
{
	my $r = $latest[$i];
	if ($i % 2 == 0)
	{
		$reused++ if $new->safe_psql('postgres',
			"SELECT count(*) FROM orion.refresh_session('$r->{old}')") eq '0';
		$revoked++ if $new->safe_psql('postgres',
			"SELECT revoked_at IS NOT NULL FROM orion_auth.sessions WHERE id = '$r->{session}'") eq 't';
	}
	else
	{
		$refreshed++ if $new->safe_psql('postgres',
			"SELECT count(*) FROM orion.refresh_session('$r->{new}')") eq '1';
	}
}
my $half = int((@latest + 1) / 2);
is($reused, $half, "$half rotated tokens presented again: none gets tokens");
is($revoked, $half, 'and each of their sessions is revoked as reused');
is($refreshed, @latest - $half, (@latest - $half) . ' tokens that replaced them refresh on the new primary');

# the maintenance worker starts on the new primary, and works
ok($new->poll_query_until('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'orion maintenance'", '1'),
	'the maintenance worker runs on the new primary');
ok($new->poll_query_until('postgres',
		"SELECT count(*) FROM orion_auth.sessions WHERE id = '$dead_session'", '0'),
	'and removes the session that died meanwhile');

is($new->safe_psql('postgres',
		q{SELECT count(*) FROM orion.login('failover2@example.com', 'correct horse battery staple')}),
	'1', 'the new primary signs in');

$new->stop;
done_testing();
