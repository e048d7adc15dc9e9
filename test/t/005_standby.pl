# orion.validate_session is read-only, so a hot standby can validate the
# sessions of its primary: a live access token gets its row there, and a
# bogus, logged-out or replaced-and-expired one does not. Everything that
# writes (login, refresh, logout) stays on the primary: on the standby it is
# refused as a write in a read-only transaction.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
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

$standby->stop;
$primary->stop;
done_testing();
