# What a client that LISTENs hears from orion, and when. A new notification
# is announced on orion_notifications as {"id", "user_id", "type",
# "channel"}, all strings, exactly those keys, matching the stored row; the
# original platform's cache keys are announced on orion_cache_invalidate:
# user:profile:<userId> when a user changes or goes (a login, a delete),
# user:session:<SHA-256 of the access token> when a session ends,
# feature_flag:<key> when a flag is created, changed (old and new key when
# renamed) or deleted, and ab_test:<testId>:assignment:<userId> when an
# assignment is made or removed with its user.
#
# Both arrive only when the transaction commits, nothing of a transaction
# that rolls back, each cache key once per transaction however often its row
# changed, one event per notification stored (send_notifications: one per
# distinct user), and nothing else: every event the listener receives is
# counted.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('events');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');

# The listener: a psql session that stays open. psql prints what arrived
# after each query it runs.
my $listener = $node->background_psql('postgres');
$listener->query_safe(q{
LISTEN orion_notifications;
LISTEN orion_cache_invalidate;
LISTEN orion_test_marker});

# The actor: another open session, so a transaction can be left open
# between checks. Fast hashing, as a superuser may set it.
my $actor = $node->background_psql('postgres');
$actor->query_safe(q{
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1});
my $actor_pid = $actor->query_safe('SELECT pg_backend_pid()');

# events: every event the listener received since the last call, as
# [channel, payload, pid] in arrival order. A marker NOTIFY is committed now
# from a connection of its own, and the listener runs trivial queries until
# the marker arrives: whatever committed before the marker is queued before
# it, so what precedes it is all there is, with no waiting on chance.
my $round = 0;
my @early;    # events that came after a marker, for the next round
sub events
{
	$round++;
	$node->safe_psql('postgres', "NOTIFY orion_test_marker, 'round $round'");
	my @events = splice @early;
	my $seen = 0;
	for (my $try = 0; $try < 200 && !$seen; $try++)
	{
		usleep(20_000) if $try > 0;
		for my $line (split /\r?\n/, $listener->query_safe('SELECT 1'))
		{
			next if $line eq '1';
			my ($channel, $payload, $pid) = $line =~
			  /^Asynchronous notification "([^"]+)" with payload "(.*)" received from server process with PID (\d+)\.$/
			  or die "unexpected output from the listener: $line";
			if ($channel eq 'orion_test_marker')
			{
				die "marker '$payload' arrived in round $round" unless $payload eq "round $round";
				$seen = 1;
			}
			elsif ($seen)
			{
				push @early, [ $channel, $payload, $pid ];
			}
			else
			{
				push @events, [ $channel, $payload, $pid ];
			}
		}
	}
	die "the marker of round $round never reached the listener" unless $seen;
	return @events;
}

# events_are NAME, EXPECTED...: the events since the last check are exactly
# EXPECTED, "channel payload" strings, in any order.
sub events_are
{
	my ($name, @expected) = @_;
	my @got = map { "$_->[0] $_->[1]" } events();
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return is_deeply([ sort @got ], [ sort @expected ], $name);
}

sub cache { return map { "orion_cache_invalidate $_" } @_ }

# The notification event's payload, canonically re-encoded: only a payload
# whose keys are exactly these and whose values are all JSON strings comes
# out equal to expected_json's.
my $json = JSON::PP->new->canonical;
sub reencoded
{
	my ($payload) = @_;
	my $decoded = eval { $json->decode($payload) };
	return defined $decoded ? $json->encode($decoded) : "not JSON: $payload";
}

sub expected_json
{
	my ($id, $user_id, $type, $channel) = @_;
	return $json->encode({ id => $id, user_id => $user_id, type => $type, channel => $channel });
}

# The notification row as its event should describe it.
sub row_json
{
	my ($id) = @_;
	my ($user_id, $type, $channel) = split /\|/, $node->safe_psql('postgres',
		"SELECT user_id, type, channel FROM orion_notifications.notifications WHERE id = '$id'");
	return expected_json($id, $user_id, $type, $channel);
}

my $password = 'correct horse battery staple';
my %user;
for my $name (qw(alice bob carol))
{
	$user{$name} = $actor->query_safe("SELECT orion.register_user('$name\@example.com', '$password')");
}
events_are('registering users announces nothing');

#
# orion_notifications
#

my $id = $actor->query_safe(
	"SELECT orion.send_notification('$user{alice}', 'welcome', 'email', 'Welcome', 'Hello, Alice')");
my @events = events();
is(scalar(@events), 1, 'a committed send_notification gives one event');
is($events[0][0], 'orion_notifications', 'on orion_notifications');
is(reencoded($events[0][1]), expected_json($id, $user{alice}, 'welcome', 'email'),
	'its payload is a JSON object of exactly id, user_id, type and channel, as strings, with the new id');
is(reencoded($events[0][1]), row_json($id), 'and it matches the stored row');
is($events[0][2], $actor_pid, 'sent by the backend that committed it');

$actor->query_safe(q{BEGIN});
$actor->query_safe("SELECT orion.send_notification('$user{alice}', 'lost', 'sms', 'Lost', 'Never sent')");
$actor->query_safe(q{ROLLBACK});
events_are('a send_notification rolled back announces nothing');
is($node->safe_psql('postgres', q{SELECT count(*) FROM orion_notifications.notifications WHERE type = 'lost'}),
	'0', 'and stored nothing');

# A type that JSON must escape: a double quote and a backslash.
my $odd_type = 'order "shipped" \\ today';
(my $odd_sql = $odd_type) =~ s/'/''/g;
$actor->query_safe(q{BEGIN});
$id = $actor->query_safe(
	"SELECT orion.send_notification('$user{bob}', '$odd_sql', 'push', 'Shipped', 'On its way')");
events_are('a send_notification in an open transaction announces nothing before COMMIT');
$actor->query_safe(q{COMMIT});
@events = events();
is(scalar(@events), 1, 'after COMMIT: one event');
is($events[0][0], 'orion_notifications', 'on orion_notifications');
is(reencoded($events[0][1]), expected_json($id, $user{bob}, $odd_type, 'push'),
	'naming the notification committed, its type with a quote and a backslash escaped');
is(reencoded($events[0][1]), row_json($id), 'and matching the stored row');

is($actor->query_safe(
		"SELECT orion.send_notifications(ARRAY['$user{alice}', '$user{bob}', '$user{carol}', '$user{alice}']::uuid[],"
		  . " 'digest', 'in_app', 'Digest', 'This week')"),
	'3', 'send_notifications to 3 users, one named twice, stores 3');
@events = events();
is(scalar(@events), 3, 'and gives 3 events');
is(scalar(grep { $_->[0] eq 'orion_notifications' } @events), 3, 'all on orion_notifications');
my @rows = split /\n/, $node->safe_psql('postgres',
	q{SELECT id FROM orion_notifications.notifications WHERE type = 'digest' ORDER BY id});
is_deeply([ sort map { reencoded($_->[1]) } @events ], [ sort map { row_json($_) } @rows ],
	'one per stored row, each matching its row');
is_deeply([ sort map { $json->decode($_->[1])->{user_id} } @events ],
	[ sort @user{qw(alice bob carol)} ], 'one for each user');

#
# orion_cache_invalidate: users and sessions
#

sub login
{
	my ($name) = @_;
	my ($user_id, $session_id, $access) = split /\|/, $actor->query_safe(
		"SELECT user_id, session_id, access_token FROM orion.login('$name\@example.com', '$password')");
	return $access;
}

my $alice_access = login('alice');
like($alice_access, qr/^orion_s_/, 'alice logs in');
events_are('a login announces the user\'s profile key (last_login_at changed)',
	cache("user:profile:$user{alice}"));

$actor->query_safe(q{BEGIN});
my $alice_access2 = login('alice');
my $alice_access3 = login('alice');
$actor->query_safe(qq{UPDATE orion_auth.users SET first_name = 'Alice' WHERE id = '$user{alice}'});
events_are('two logins and an update of one user in an open transaction: nothing before COMMIT');
$actor->query_safe(q{COMMIT});
events_are('after COMMIT the profile key once', cache("user:profile:$user{alice}"));

$actor->query_safe(q{BEGIN});
$actor->query_safe(qq{UPDATE orion_auth.users SET first_name = 'Nobody' WHERE id = '$user{alice}'});
$actor->query_safe(q{ROLLBACK});
events_are('a user update rolled back announces nothing');

my $session_hash = sha256_hex($alice_access);
is($node->safe_psql('postgres', "SELECT encode(sha256(convert_to('$alice_access', 'UTF8')), 'hex')"),
	$session_hash, 'the session key names the SHA-256 of the access token as the database computes it');

$actor->query_safe(q{BEGIN});
is($actor->query_safe("SELECT orion.logout('$alice_access')"), 't', 'logout in a transaction');
events_are('announces nothing before COMMIT');
$actor->query_safe(q{ROLLBACK});
events_are('nor after a ROLLBACK');

is($actor->query_safe("SELECT orion.logout('$alice_access')"), 't', 'logout');
events_are('announces the session key: user:session:<sha256 of the access token>',
	cache("user:session:$session_hash"));

$actor->query_safe(q{BEGIN});
$actor->query_safe("SELECT orion.logout('$alice_access2')");
$actor->query_safe(
	"UPDATE orion_auth.sessions SET user_agent = 'changed' WHERE token = '" . sha256_hex($alice_access3) . "'");
$actor->query_safe(
	"UPDATE orion_auth.sessions SET user_agent = 'changed again' WHERE token = '" . sha256_hex($alice_access3) . "'");
$actor->query_safe(q{COMMIT});
events_are('a logout and one session changed twice in a transaction: each session key once',
	cache('user:session:' . sha256_hex($alice_access2), 'user:session:' . sha256_hex($alice_access3)));

#
# orion_cache_invalidate: feature flags
#

$actor->query_safe(
	q{INSERT INTO orion_feature_flags.feature_flags (key, name, enabled) VALUES ('new-checkout', 'New checkout', true)});
events_are('creating a flag announces feature_flag:<key>', cache('feature_flag:new-checkout'));

$actor->query_safe(q{BEGIN});
$actor->query_safe(q{UPDATE orion_feature_flags.feature_flags SET enabled = false WHERE key = 'new-checkout'});
$actor->query_safe(q{UPDATE orion_feature_flags.feature_flags SET name = 'Checkout' WHERE key = 'new-checkout'});
events_are('a flag updated twice in an open transaction: nothing before COMMIT');
$actor->query_safe(q{COMMIT});
events_are('after COMMIT its key once', cache('feature_flag:new-checkout'));

$actor->query_safe(q{BEGIN});
$actor->query_safe(q{UPDATE orion_feature_flags.feature_flags SET enabled = true WHERE key = 'new-checkout'});
$actor->query_safe(q{ROLLBACK});
events_are('a flag update rolled back announces nothing');

$actor->query_safe(q{UPDATE orion_feature_flags.feature_flags SET key = 'checkout-v2' WHERE key = 'new-checkout'});
events_are('renaming a flag announces the old key and the new',
	cache('feature_flag:new-checkout', 'feature_flag:checkout-v2'));

$actor->query_safe(q{DELETE FROM orion_feature_flags.feature_flags WHERE key = 'checkout-v2'});
events_are('deleting a flag announces its key', cache('feature_flag:checkout-v2'));

#
# orion_cache_invalidate: AB assignments, and deleting a user
#

$actor->query_safe(
	q{INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES ('t', 'T', '[{"key":"a"},{"key":"b"}]', true)});
events_are('creating an AB test announces nothing');
my $test_id = $node->safe_psql('postgres', q{SELECT id FROM orion_ab_testing.ab_tests WHERE key = 't'});

$actor->query_safe(q{BEGIN});
like($actor->query_safe("SELECT orion.assign_variant('t', '$user{carol}')"), qr/^[ab]$/,
	'an assignment in a transaction');
$actor->query_safe(q{ROLLBACK});
events_are('rolled back, announces nothing');

my $variant = $actor->query_safe("SELECT orion.assign_variant('t', '$user{bob}')");
like($variant, qr/^[ab]$/, "bob is assigned a variant: $variant");
events_are('the assignment announces ab_test:<testId>:assignment:<userId>',
	cache("ab_test:$test_id:assignment:$user{bob}"));
is($actor->query_safe("SELECT orion.assign_variant('t', '$user{bob}')"), $variant,
	'asking again gives the stored variant');
events_are('and announces nothing');

# bob has notifications, an assignment and a live session.
my $bob_access = login('bob');
events_are('bob logs in: his profile key', cache("user:profile:$user{bob}"));

$actor->query_safe(q{BEGIN});
is($actor->query_safe("SELECT orion.delete_user('$user{bob}')"), 't', 'delete_user in a transaction');
events_are('announces nothing before COMMIT');
$actor->query_safe(q{ROLLBACK});
events_are('nor after a ROLLBACK');

is($actor->query_safe("SELECT orion.delete_user('$user{bob}')"), 't', 'delete_user');
events_are('announces the profile key, the live session\'s key and the assignment\'s key, once each',
	cache("user:profile:$user{bob}", 'user:session:' . sha256_hex($bob_access),
		"ab_test:$test_id:assignment:$user{bob}"));
is($node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM orion_notifications.notifications WHERE user_id = '$user{bob}')
     + (SELECT count(*) FROM orion_ab_testing.ab_test_assignments WHERE user_id = '$user{bob}')}),
	'0', 'and bob\'s notifications and assignment are gone');

events_are('nothing more arrives');

$actor->quit;
$listener->quit;
$node->stop;
done_testing();
