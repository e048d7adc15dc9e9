# orion.validate_session is read-only, so a hot standby can validate the
# sessions of its primary: a live access token gets its row there, and a
# bogus, logged-out or replaced-and-expired one does not. Everything that
# writes (login, refresh, logout) stays on the primary: on the standby it is
# refused as a write in a read-only transaction.
#
# orion.peek_variant works on a hot standby too, and writes nothing there:
# for users assign_variant assigned on the primary it gives their stored
# variant (also after the weights change and new users would get another),
# for an unassigned user the variant computed from the test as replayed,
# the one assign_variant then gives on the primary; a member of
# orion_notifications_service may call it there. assign_variant on the
# standby is refused as a write in a read-only transaction.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
# the key that seals the JWT signing key (the standby gets it with the backup)
use_secret_key($primary);
$primary->start;
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# The extension and its data reach the standby through the WAL.
$primary->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
SELECT orion.register_user('alice@example.com', 'correct horse battery staple');
CREATE ROLE app LOGIN IN ROLE orion_user_service;
});

# login: user_id|session_id|access_token|access_expires_at|refresh_token
sub login
{
	return split /\|/, $primary->safe_psql('postgres', q{
SELECT user_id, session_id, access_token, access_expires_at, refresh_token
  FROM orion.login('alice@example.com', 'correct horse battery staple')});
}

# validate_session on the standby, as a superuser or as connstr's user
sub validate_on_standby
{
	my ($token, $connstr) = @_;
	my $sql = "SELECT user_id, session_id, email, role, expires_at FROM orion.validate_session('$token')";
	return $standby->safe_psql('postgres', $sql) unless $connstr;
	my ($ret, $out, $err) = $standby->psql('postgres', $sql, connstr => $connstr);
	is($ret, 0, 'validate_session runs on the standby as a service role') or diag $err;
	return $out;
}

my ($user_id, $session_id, $access, $access_expires, $refresh) = login();
like($access, qr/^orion_s_[A-Za-z0-9_-]{43}$/, 'login on the primary returns an access token');
$primary->wait_for_catchup($standby);

is(validate_on_standby($access),
	"$user_id|$session_id|alice\@example.com|user|$access_expires",
	'the standby validates a live access token: user, session, email, role and expiry');

# validate_session runs as the extension's owner: a service role that may
# not read the sessions table validates all the same, on the standby too.
my $app = $standby->connstr('postgres') . ' user=app';
is(validate_on_standby($access, $app),
	"$user_id|$session_id|alice\@example.com|user|$access_expires",
	'a service role validates on the standby');
my ($ret, $out, $err) = $standby->psql('postgres', 'SELECT count(*) FROM orion_auth.sessions',
	connstr => $app);
like($err, qr/permission denied/, 'though it may not read the sessions table itself');

is(validate_on_standby('not-a-token'), '', 'a malformed token gets no row on the standby');
is(validate_on_standby('orion_s_' . ('A' x 43)), '', 'a well-formed token never issued gets no row on the standby');
(my $altered = $access) =~ s/^(.{20})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
is(validate_on_standby($altered), '', 'an access token with one character changed gets no row on the standby');
is(validate_on_standby($refresh), '', 'a refresh token is no access token on the standby either');

# Writes are refused on the standby, with the read-only-transaction error.
($ret, $out, $err) = $standby->psql('postgres', q{
\set VERBOSITY verbose
SELECT * FROM orion.login('alice@example.com', 'correct horse battery staple')});
isnt($ret, 0, 'login fails on the standby');
like($err, qr/ERROR:  25006: cannot execute .* in a read-only transaction/,
	'login on the standby is refused as a write in a read-only transaction');
($ret, $out, $err) = $standby->psql('postgres', qq{
\\set VERBOSITY verbose
SELECT orion.logout('$access')});
like($err, qr/ERROR:  25006: .* read-only transaction/, 'logout on the standby is refused too');
($ret, $out, $err) = $standby->psql('postgres', qq{
\\set VERBOSITY verbose
SELECT * FROM orion.refresh_session('$refresh')});
like($err, qr/ERROR:  25006: .* read-only transaction/, 'and so is a refresh');
is(validate_on_standby($access),
	"$user_id|$session_id|alice\@example.com|user|$access_expires",
	'and the session is still live');

# Logout on the primary ends the session on the standby once replayed.
is($primary->safe_psql('postgres', "SELECT orion.logout('$access')"), 't', 'logout on the primary');
$primary->wait_for_catchup($standby);
is(validate_on_standby($access), '', 'after logout and replay the standby gives no row');

# A refresh on the primary: the new access token validates on the standby.
# The one it replaced stays valid until it expires (two tabs refreshing at
# once), so it validates too, until it expires.
my (undef, $session2, $access2, $access2_expires, $refresh2) = login();
my ($new_access, $new_expires) = split /\|/, $primary->safe_psql('postgres', qq{
SELECT access_token, access_expires_at FROM orion.refresh_session('$refresh2')});
like($new_access, qr/^orion_s_[A-Za-z0-9_-]{43}$/, 'refresh on the primary returns a new access token');
isnt($new_access, $access2, 'a different one');
$primary->wait_for_catchup($standby);
is(validate_on_standby($new_access),
	"$user_id|$session2|alice\@example.com|user|$new_expires",
	'the refreshed access token validates on the standby, in the same session');
is(validate_on_standby($access2),
	"$user_id|$session2|alice\@example.com|user|$access2_expires",
	'the replaced one still validates there until its own expiry');

# Once the replaced token's time is up (moved back on the primary), only
# the new one validates on the standby.
$primary->safe_psql('postgres', qq{
UPDATE orion_auth.sessions SET previous_expires_at = now() - interval '1 second' WHERE id = '$session2'});
$primary->wait_for_catchup($standby);
is(validate_on_standby($access2), '', 'the replaced token expired: no row on the standby');
is(validate_on_standby($new_access),
	"$user_id|$session2|alice\@example.com|user|$new_expires",
	'the new one still validates');

# An expired access token: no row on the standby.
$primary->safe_psql('postgres', qq{
UPDATE orion_auth.sessions SET expires_at = now() - interval '1 second' WHERE id = '$session2'});
$primary->wait_for_catchup($standby);
is(validate_on_standby($new_access), '', 'an expired access token gets no row on the standby');

# AB tests: peek_variant on the standby. Six users are assigned on the
# primary at 50/50; later the control's weight goes to 0, so new users get
# "b" while assigned users keep what they have.
my @assigned = map { sprintf('00000000-0000-4000-8000-%012d', $_) } 1 .. 6;
my ($newcomer, $latecomer) = ('00000000-0000-4000-8000-000000000099', '00000000-0000-4000-8000-000000000098');
my $uuids = join(', ', map { "'$_'::uuid" } @assigned);
# assignments name existing users (orion.enforce_user_references)
$primary->safe_psql('postgres', qq{
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT u, u || '\@example.com', 'x' FROM unnest(ARRAY[$uuids, '$newcomer'::uuid, '$latecomer'::uuid]) AS u});
$primary->safe_psql('postgres', q{
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active, start_date)
VALUES ('checkout', 'Checkout', '[{"key": "control", "isControl": true, "weight": 50}, {"key": "b", "weight": 50}]',
        true, now() - interval '1 day');
CREATE ROLE notifier LOGIN IN ROLE orion_notifications_service;
});
my %stored = map { split /\|/ } split /\n/, $primary->safe_psql('postgres', qq{
SELECT u, orion.assign_variant('checkout', u) FROM unnest(ARRAY[$uuids]) AS u});
is(scalar(keys %stored), scalar(@assigned), 'assign_variant on the primary assigns ' . scalar(@assigned) . ' users');
ok((grep { $_ eq 'control' } values %stored) && (grep { $_ eq 'b' } values %stored),
	'some of them get control, some b: ' . join(', ', map { $stored{$_} } @assigned));
is($primary->safe_psql('postgres', q{
SELECT string_agg(a.user_id || '|' || a.variant, ',' ORDER BY a.user_id)
  FROM orion_ab_testing.ab_test_assignments a JOIN orion_ab_testing.ab_tests t ON t.id = a.test_id
 WHERE t.key = 'checkout'}),
	join(',', map { "$_|$stored{$_}" } sort @assigned),
	'and stores one row per user, with the variant it returned');
$primary->wait_for_catchup($standby);

# peek_variant on the standby, as a superuser or as connstr's user:
# "user|variant,..." in user order
sub peek_on_standby
{
	my ($connstr, @users) = @_;
	my $list = join(', ', map { "'$_'::uuid" } @users);
	my $sql = qq{
SELECT string_agg(u || '|' || coalesce(orion.peek_variant('checkout', u), 'NULL'), ',' ORDER BY u)
  FROM unnest(ARRAY[$list]) AS u};
	return $standby->safe_psql('postgres', $sql) unless $connstr;
	my ($ret, $out, $err) = $standby->psql('postgres', $sql, connstr => $connstr);
	is($ret, 0, 'peek_variant runs on the standby as a member of orion_notifications_service') or diag $err;
	return $out;
}
my $stored_list = sub { join(',', map { "$_|$stored{$_}" } sort keys %stored) };
my $assignments_sql = 'SELECT count(*) FROM orion_ab_testing.ab_test_assignments';
my $assignments = $standby->safe_psql('postgres', $assignments_sql);
is($assignments, scalar(@assigned), 'the assignments reached the standby');

is(peek_on_standby(undef, @assigned), $stored_list->(),
	'peek_variant on the standby gives each assigned user the stored variant');
my $notifier = $standby->connstr('postgres') . ' user=notifier';
is(peek_on_standby($notifier, @assigned), $stored_list->(),
	'and so it does for a member of orion_notifications_service');
my ($computed) = peek_on_standby(undef, $newcomer) =~ /^\Q$newcomer\E\|(control|b)$/;
ok(defined $computed, 'peek_variant on the standby computes a variant for an unassigned user: '
	  . ($computed // 'none'));
is(peek_on_standby($notifier, $newcomer), "$newcomer|" . ($computed // ''),
	'the same for a member of orion_notifications_service');
is($standby->safe_psql('postgres', $assignments_sql), $assignments, 'peek_variant wrote no assignment on the standby');

# assign_variant is refused on the standby.
($ret, $out, $err) = $standby->psql('postgres', qq{
\\set VERBOSITY verbose
SELECT orion.assign_variant('checkout', '$newcomer')});
isnt($ret, 0, 'assign_variant fails on the standby');
like($err, qr/ERROR:  25006: .* read-only transaction/,
	'assign_variant on the standby is refused as a write in a read-only transaction');

# On the primary the unassigned user gets what the standby computed.
$stored{$newcomer} = $primary->safe_psql('postgres', "SELECT orion.assign_variant('checkout', '$newcomer')");
is($stored{$newcomer}, $computed, 'assign_variant on the primary then gives that user the variant the standby computed');
$primary->wait_for_catchup($standby);
is(peek_on_standby(undef, $newcomer), "$newcomer|$computed", 'which the standby then finds stored');
is($standby->safe_psql('postgres', $assignments_sql), $assignments + 1,
	'one more assignment on the standby, the one made on the primary');

# New weights, control 0 and b 100, replayed: assigned users keep theirs,
# an unassigned one gets b on the standby and then on the primary.
$primary->safe_psql('postgres', q{
UPDATE orion_ab_testing.ab_tests
   SET variants = '[{"key": "control", "isControl": true, "weight": 0}, {"key": "b", "weight": 100}]'
 WHERE key = 'checkout'});
$primary->wait_for_catchup($standby);
is(peek_on_standby(undef, sort keys %stored), $stored_list->(),
	'after the weights change the standby still gives assigned users their stored variant, control too');
is(peek_on_standby(undef, $latecomer), "$latecomer|b",
	'and gives an unassigned user b, from the weights as replayed');
is(peek_on_standby($notifier, $latecomer), "$latecomer|b", 'so it does for a member of orion_notifications_service');
is($primary->safe_psql('postgres', "SELECT orion.assign_variant('checkout', '$latecomer')"), 'b',
	'assign_variant on the primary gives that user b too');

# A JWT access token validates on the standby too: the signing keys reach
# it through the WAL, and verification reads them there
$primary->safe_psql('postgres', 'SELECT orion.rotate_signing_key()');
my ($jwt_session, $jwt) = split /\|/, $primary->safe_psql('postgres', q{
SET orion.access_token_format = jwt;
SELECT session_id, access_token FROM orion.login('alice@example.com', 'correct horse battery staple')});
$primary->wait_for_catchup($standby);
like(validate_on_standby($jwt, $app), qr/^$user_id\|$jwt_session\|alice\@example\.com\|user\|/,
	'a JWT validates on the standby, as a service role');
is($standby->safe_psql('postgres', "SELECT orion.verify_jwt('$jwt') ->> 'sid'"), $jwt_session,
	'and verify_jwt reads its claims there');

$standby->stop;
$primary->stop;
done_testing();
