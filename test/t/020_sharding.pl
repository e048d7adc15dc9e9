# Sharding on PL/Proxy: one proxy database running orion_proxy and three
# shard databases running orion (on one cluster; the connection strings
# would name three servers just the same). Through the proxy, as the
# service roles: registration and login by address, every per-user call by
# user id, every token back to the shard that made it (opaque tokens carry
# it, JWTs by their sub); the account flows (password reset, email
# verification, sign-in link, TOTP), refresh and reuse detection; flags and
# AB tests written on the source shard, copied by sync_definitions and
# checked by check_definitions (a shard changed by hand is found and
# mended); assignments, conversions and ab_test_results over all shards
# (the sums of the shards' counts); notifications to one user and to many
# across shards; maintenance, find_orphans, delete_user. Then, on the
# shards themselves: every user on exactly one shard, the one its address
# and its id route to, and every row of theirs in every table there.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $node = PostgreSQL::Test::Cluster->new('sharding');
$node->init;
use_secret_key($node);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'orion'\n");
$node->start;

my @shards = map { "shard$_" } 0 .. 2;
my $password = 'correct horse battery staple';
$node->safe_psql('postgres', "CREATE DATABASE $_") for @shards, 'proxy';
for my $db (@shards)
{
	$node->safe_psql($db, qq{
SET client_min_messages = warning;
CREATE EXTENSION orion CASCADE;
ALTER DATABASE $db SET orion.partitioned_user_ids = on;
ALTER DATABASE $db SET orion.argon2_memory_kib = 64;
ALTER DATABASE $db SET orion.argon2_iterations = 1;
ALTER DATABASE $db SET orion.refresh_reuse_interval = 0;
});
}
# the role the proxy logs in to the shards as: every service's privileges
$node->safe_psql('postgres', 'CREATE ROLE orion_shard_link LOGIN IN ROLE orion_admin');
my $host = $node->host;
my $port = $node->port;
$node->safe_psql('proxy', qq{
SET client_min_messages = warning;
CREATE EXTENSION orion_proxy CASCADE;
SELECT orion_proxy.set_shards(ARRAY[@{[ join(', ', map { "'host=$host port=$port dbname=$_ user=orion_shard_link'" } @shards) ]}]);
CREATE ROLE proxy_app LOGIN;
GRANT orion_auth_service, orion_user_service, orion_notifications_service,
      orion_feature_flags_service, orion_ab_testing_service, orion_admin TO proxy_app;
});
is($node->safe_psql('proxy', q{SELECT string_agg(shard || ' ' || partitions, ', ' ORDER BY shard) FROM orion_proxy.shards}),
	'0 [0,21845), 1 [21845,43690), 2 [43690,65536)', 'three shards, an equal range of partitions each');

# psql on the proxy as a service role: its output, or the error's SQLSTATE
sub proxy
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('proxy', "SET ROLE $role;\n$sql",
		connstr => $node->connstr('proxy') . ' user=proxy_app', extra_params => [ '-v', 'VERBOSITY=sqlstate' ]);
	return $ret == 0 ? $out : "ERROR " . (($err =~ /ERROR:\s+([0-9A-Z]{5})/) ? $1 : $err);
}
sub on_shard { my ($i, $sql) = @_; return $node->safe_psql($shards[$i], $sql) }

# --- auth: registration and login by address
my @users;
for my $i (1 .. 60)
{
	my $email = sprintf('User%02d.%s@Example.com', $i, join('', map { ('a' .. 'z')[ rand 26 ] } 1 .. 6));
	my $id = proxy('orion_auth_service', "SELECT orion.register_user('$email', '$password', 'U', '$i')");
	push @users, { email => $email, id => $id };
}
is(scalar(grep { $_->{id} =~ /^[0-9a-f-]{36}$/ } @users), 60, '60 users registered through the proxy');
my %on_shard;
for my $i (0 .. 2)
{
	$on_shard{$_} = $i for split /\n/, on_shard($i, 'SELECT id FROM orion_auth.users');
}
is(scalar(keys %on_shard), 60, 'each is on one shard');
my $routed = 0;
for my $u (@users)
{
	my ($by_id, $by_email) = split /\|/, $node->safe_psql('proxy',
		"SELECT orion_proxy.user_shard('$u->{id}'), orion_proxy.email_shard(lower('$u->{email}'))");
	$routed++ if $by_id == $on_shard{ $u->{id} } && $by_email == $by_id;
	$u->{shard} = $on_shard{ $u->{id} };
}
is($routed, 60, 'the shard its id and its address route to');
ok((3 == grep { my $s = $_; grep { $_->{shard} == $s } @users } 0 .. 2), 'and every shard has users');
is(proxy('orion_auth_service', "SELECT orion.register_user('" . uc($users[0]{email}) . "', '$password')"),
	'ERROR 23505', 'an address registered again, in another case: refused by its shard (23505)');

my ($ada, $bob, $cy) = @users;
my ($uid, $sid, $access, $refresh) = split /\|/, proxy('orion_auth_service',
	"SELECT user_id, session_id, access_token, refresh_token FROM orion.login('" . uc($ada->{email}) . "', '$password')");
is($uid, $ada->{id}, 'login by address, in any case, on the shard of the address');
like($access, qr/^orion_s_[A-Za-z0-9_-]{43}\.$ada->{shard}$/, 'the access token carries its shard');
like($refresh, qr/^orion_r_[A-Za-z0-9_-]{43}\.$ada->{shard}$/, 'so does the refresh token');
is(proxy('orion_auth_service', "SELECT orion.login('$ada->{email}', 'wrong password')"), '', 'a wrong password: no row');
is(proxy('orion_notifications_service', "SELECT user_id, session_id FROM orion.validate_session('$access')"),
	"$ada->{id}|$sid", 'validate_session goes to the token\'s shard');
for my $bad ('garbage', "orion_s_" . ('A' x 43), "$access" =~ s/\.\d$/.7/r, "$access" =~ s/\.\d$/.${\ (($ada->{shard} + 1) % 3)}/r)
{
	is(proxy('orion_user_service', "SELECT count(*) FROM orion.validate_session('$bad')"), '0',
		"a token no shard knows opens nothing: " . substr($bad, -12));
}
is(proxy('orion_user_service', 'SELECT orion.validate_session(NULL)'), 'ERROR 22004',
	'NULL: the shard\'s own error, with its SQLSTATE');
my ($access2, $refresh2) = split /\|/, proxy('orion_auth_service',
	"SELECT access_token, refresh_token FROM orion.refresh_session('$refresh', '203.0.113.9', 'proxy-test')");
like($refresh2, qr/\.$ada->{shard}$/, 'refresh_session rotates on the shard, and tags the new tokens');
is(proxy('orion_auth_service', "SELECT count(*) FROM orion.validate_session('$access2')"), '1', 'the new token validates');
is(proxy('orion_auth_service', "SELECT count(*) FROM orion.refresh_session('$refresh')"), '0',
	'the rotated token presented again: reuse, no tokens');
is(proxy('orion_auth_service', "SELECT count(*) FROM orion.validate_session('$access2')"), '0',
	'and its session is revoked on its shard');
is(on_shard($ada->{shard}, "SELECT revoked_reason FROM orion_auth.sessions WHERE id = '$sid'"), 'refresh_token_reused',
	'as reuse');
my ($bob_access) = split /\|/, proxy('orion_auth_service', "SELECT access_token FROM orion.login('$bob->{email}', '$password')");
is(proxy('orion_auth_service', "SELECT orion.logout('$bob_access')"), 't', 'logout on the token\'s shard');
is(proxy('orion_auth_service', "SELECT count(*) FROM orion.list_sessions('$bob->{id}')"), '0', 'list_sessions by user: none live');

# --- account flows: tokens come back to their shard
my $reset = proxy('orion_auth_service', "SELECT orion.request_password_reset('$cy->{email}')");
like($reset, qr/\.$cy->{shard}$/, 'a password reset token carries its shard');
is(proxy('orion_auth_service', "SELECT orion.reset_password('$reset', 'a brand new passphrase')"), $cy->{id},
	'reset_password on its shard');
is(proxy('orion_auth_service', "SELECT count(*) FROM orion.login('$cy->{email}', 'a brand new passphrase')"), '1',
	'the new password signs in');
my $verify = proxy('orion_auth_service', "SELECT orion.request_email_verification('$bob->{id}')");
is(proxy('orion_auth_service', "SELECT orion.verify_email('$verify')"), $bob->{id}, 'email verification by user, then by token');
my $link = proxy('orion_auth_service', "SELECT orion.request_sign_in_link('$bob->{email}')");
is(proxy('orion_auth_service', "SELECT user_id FROM orion.sign_in_with_link('$link')"), $bob->{id}, 'a sign-in link');
my $dan = $users[3];
my ($secret) = split /\|/, proxy('orion_auth_service', "SELECT secret FROM orion.enroll_totp('$dan->{id}')");
my $code = on_shard(0, "SELECT orion.totp_code('$secret')");
is(proxy('orion_auth_service', "SELECT cardinality(orion.confirm_totp('$dan->{id}', '$code'))"), '10', 'TOTP enrolled and confirmed by user');
my $challenge = proxy('orion_auth_service', "SELECT mfa_challenge FROM orion.login('$dan->{email}', '$password')");
like($challenge, qr/^orion_c_.*\.$dan->{shard}$/, 'a login with TOTP active: a challenge that carries its shard');
my $next = on_shard(0, "SELECT orion.totp_code('$secret', now() + interval '30 s')");
like(proxy('orion_auth_service', "SELECT access_token FROM orion.verify_totp('$challenge', '$next')"), qr/\.$dan->{shard}$/,
	'verify_totp on the challenge\'s shard signs in');
is(proxy('orion_auth_service', "SELECT orion.disable_totp('$dan->{id}')"), 't', 'disable_totp by user');

# --- flags and AB tests: written on the source, copied, checked
on_shard(0, q{
INSERT INTO orion_feature_flags.segments (id, name, constraints) VALUES
    (1, 'admins', '[{"contextName": "role", "operator": "IN", "values": ["admin"]}]');
INSERT INTO orion_feature_flags.feature_flags (key, name, enabled, rollout) VALUES
    ('half', 'Half', true, '{"strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "50", "stickiness": "default", "groupId": "half"}}]}'),
    ('admins', 'Admins', true, '{"strategies": [{"name": "default", "segments": [1]}]}');
INSERT INTO orion_ab_testing.ab_tests (key, name, variants, active) VALUES
    ('checkout', 'Checkout', '[{"key": "control", "isControl": true}, {"key": "one-page"}]', true);
});
is(proxy('orion_admin', q{SELECT string_agg(shard || ':' || same_as_source, ' ' ORDER BY shard) FROM orion.check_definitions()}),
	'0:true 1:false 2:false', 'before a sync, the other shards differ from the source');
is($node->safe_psql('proxy', q{SELECT string_agg(shard || ':' || changed, ' ' ORDER BY shard) FROM orion.sync_definitions()}),
	'1:4 2:4', 'sync_definitions copies a segment, two flags and a test to each other shard');
is(proxy('orion_admin', 'SELECT bool_and(same_as_source) FROM orion.check_definitions()'), 't', 'then every shard has the source\'s');
is(proxy('orion_admin', 'SELECT orion.sync_definitions()'), 'ERROR 42501', 'sync_definitions is the owner\'s');
on_shard(2, "UPDATE orion_feature_flags.feature_flags SET enabled = false WHERE key = 'half'");
is(proxy('orion_admin', q{SELECT string_agg(shard::text, ' ') FROM orion.check_definitions() WHERE NOT same_as_source}),
	'2', 'a flag changed on a shard by hand is found');
is($node->safe_psql('proxy', q{SELECT string_agg(shard || ':' || changed, ' ' ORDER BY shard) FROM orion.sync_definitions()}),
	'1:0 2:1', 'and mended by the next sync, changing only that row');
my $admin = $users[5];
on_shard($admin->{shard}, "UPDATE orion_auth.users SET role = 'admin' WHERE id = '$admin->{id}'");
my $flags_ok = 0;
for my $u (@users)
{
	my $want = on_shard($u->{shard}, "SELECT orion.flag_enabled('half', '$u->{id}')") . '|'
	  . ($u == $admin ? 't' : 'f');
	$flags_ok++ if proxy('orion_feature_flags_service',
		"SELECT orion.flag_enabled('half', '$u->{id}'), orion.flag_enabled('admins', '$u->{id}')") eq $want;
}
is($flags_ok, 60, 'flag_enabled through the proxy: the user\'s shard\'s answer, the user\'s own attributes (role) included');
is(proxy('orion_feature_flags_service', "SELECT string_agg(flag_key || ':' || enabled, ' ' ORDER BY flag_key) FROM orion.evaluate_all_flags('$admin->{id}')"),
	'admins:true half:' . on_shard($admin->{shard}, "SELECT orion.flag_enabled('half', '$admin->{id}')::text"), 'evaluate_all_flags too');

my %variant;
for my $u (@users)
{
	$variant{ $u->{id} } = proxy('orion_ab_testing_service', "SELECT orion.assign_variant('checkout', '$u->{id}')");
}
is(scalar(grep { /^(control|one-page)$/ } values %variant), 60, 'assign_variant for every user, through the proxy');
my $sticky = grep { proxy('orion_notifications_service', "SELECT orion.peek_variant('checkout', '$_->{id}')") eq $variant{ $_->{id} } } @users[0 .. 9];
is($sticky, 10, 'peek_variant gives the stored variant');
my $converted = 0;
for my $u (@users[0 .. 29])
{
	$converted++ if proxy('orion_ab_testing_service', "SELECT orion.track_conversion('checkout', '$u->{id}', 'buy', 10)") eq 't';
}
is($converted, 30, '30 conversions tracked');
my %count;
for my $i (0 .. 2)
{
	for (split /\n/, on_shard($i, q{SELECT variant || '|' || users || '|' || conversions FROM orion.ab_test_results('checkout', 'buy')}))
	{
		my ($v, $n, $c) = split /\|/;
		$count{$v}[0] += $n;
		$count{$v}[1] += $c;
	}
}
my $results = proxy('orion_ab_testing_service',
	q{SELECT string_agg(variant || ':' || users || ':' || conversions, ' ' ORDER BY variant) FROM orion.ab_test_results('checkout', 'buy')});
is($results, join(' ', map { "$_:$count{$_}[0]:$count{$_}[1]" } sort keys %count),
	"ab_test_results over every shard: the sums of the shards' counts ($results)");
my $expected_stats = on_shard(1, sprintf(q{SELECT string_agg(concat_ws(':', variant, lift, p_value, srm_p_value), ' ' ORDER BY variant)
  FROM orion.ab_test_statistics('checkout', ARRAY['control', 'one-page'], ARRAY[%d, %d]::bigint[], ARRAY[%d, %d]::bigint[])},
	$count{control}[0], $count{'one-page'}[0], $count{control}[1], $count{'one-page'}[1]));
is(proxy('orion_ab_testing_service',
		q{SELECT string_agg(concat_ws(':', variant, lift, p_value, srm_p_value), ' ' ORDER BY variant) FROM orion.ab_test_results('checkout', 'buy')}),
	$expected_stats, 'with the figures of those sums');

# --- notifications
my $sent = proxy('orion_notifications_service', "SELECT orion.send_notification('$ada->{id}', 'welcome', 'in_app', 'Hello', 'Welcome')");
like($sent, qr/^[0-9a-f-]{36}$/, 'send_notification on the user\'s shard');
is(proxy('orion_notifications_service', sprintf(q{SELECT orion.send_notifications(ARRAY[%s]::uuid[], 'news', 'email', 'News', 'All of you')},
			join(', ', map { "'$_->{id}'" } @users))), '60', 'send_notifications to users of every shard: 60 sent');
is(proxy('orion_notifications_service', "SELECT orion.unread_count('$ada->{id}')"), '2', 'unread_count by user');
is(proxy('orion_notifications_service', "SELECT string_agg(type, ',' ORDER BY type) FROM orion.list_notifications('$ada->{id}')"),
	'news,welcome', 'list_notifications by user');
is(proxy('orion_notifications_service', "SELECT orion.mark_read('$sent')"), 't', 'mark_read finds the notification\'s shard');
is(proxy('orion_notifications_service', "SELECT orion.mark_read('00000000-0000-4000-8000-000000000000')"), 'f',
	'and answers false for one no shard has');
is(proxy('orion_notifications_service', "SELECT orion.mark_all_read('$ada->{id}')"), '1', 'mark_all_read by user');
is(proxy('orion_notifications_service', "SELECT orion.send_notification('$ada->{id}', 'x', 'pigeon', 'T', 'M')"), 'ERROR 23514',
	'an unknown channel, refused at the proxy as at a shard');

# --- privileges: the proxy grants as orion does
is(proxy('orion_ab_testing_service', "SELECT orion.login('$ada->{email}', '$password')"), 'ERROR 42501',
	'the AB service may not log in users through the proxy either');
is(proxy('orion_auth_service', "SELECT * FROM orion_proxy.login_on(0, '$ada->{email}', '$password', NULL, NULL)"), 'ERROR 42501',
	'nor call a shard directly through orion_proxy');
is(proxy('orion_auth_service', 'SELECT connstr FROM orion_proxy.shards'), 'ERROR 42501', 'nor read the shard map');

# --- JWTs: routed by their sub
for my $i (0 .. 2)
{
	$node->safe_psql($shards[$i], "ALTER DATABASE $shards[$i] SET orion.access_token_format = 'jwt'; SELECT orion.rotate_signing_key('EdDSA')");
}
my ($jwt) = split /\|/, proxy('orion_auth_service', "SELECT access_token FROM orion.login('$bob->{email}', '$password')");
like($jwt, qr/^eyJ[^.]+\.[^.]+\.[A-Za-z0-9_-]+$/, 'a JWT comes back as its shard signed it');
is(proxy('orion_user_service', "SELECT user_id FROM orion.validate_session('$jwt')"), $bob->{id}, 'validate_session routes it by its sub');
is(proxy('orion_user_service', "SELECT orion.verify_jwt('$jwt') ->> 'sub'"), $bob->{id}, 'so does verify_jwt');
is(proxy('orion_user_service', "SELECT jsonb_array_length(orion.jwks() -> 'keys')"), '3', 'jwks() lists the keys of every shard');
is(proxy('orion_user_service', "SELECT count(*) FROM orion.revoked_sessions('-infinity')"),
	on_shard(0, "SELECT count(*) FROM orion.revoked_sessions('-infinity')") + on_shard(1, "SELECT count(*) FROM orion.revoked_sessions('-infinity')")
	  + on_shard(2, "SELECT count(*) FROM orion.revoked_sessions('-infinity')"), 'revoked_sessions of every shard');

# --- maintenance, integrity, deletion
like(proxy('orion_admin', 'SELECT sessions IS NOT NULL FROM orion.run_maintenance()'), qr/^t$/, 'run_maintenance on every shard');
is(proxy('orion_admin', 'SELECT coalesce(sum(orphans), 0) FROM orion.find_orphans()'), '0', 'find_orphans over every shard: none');
is(proxy('orion_user_service', "SELECT orion.delete_user('$cy->{id}')"), 't', 'delete_user on the user\'s shard');
is(on_shard($cy->{shard}, "SELECT count(*) FROM orion_auth.users WHERE id = '$cy->{id}'"), '0', 'gone from it');

# --- every user's rows on exactly the user's shard
my @tables = ('orion_auth.sessions', 'orion_auth.refresh_tokens', 'orion_auth.one_time_tokens', 'orion_auth.totp_factors',
	'orion_auth.recovery_codes', 'orion_notifications.notifications', 'orion_ab_testing.ab_test_assignments',
	'orion_ab_testing.ab_test_conversions');
my ($rows, $misplaced) = (0, 0);
for my $i (0 .. 2)
{
	my $range = $node->safe_psql('proxy', "SELECT partitions FROM orion_proxy.shards WHERE shard = $i");
	for my $t (@tables)
	{
		my ($n, $bad) = split /\|/, on_shard($i, "SELECT count(*), count(*) FILTER (WHERE NOT ('$range'::int4range @> ('x' || left(user_id::text, 4))::bit(16)::integer)) FROM $t");
		$rows += $n;
		$misplaced += $bad;
	}
	$misplaced += on_shard($i, "SELECT count(*) FROM orion_auth.users WHERE NOT ('$range'::int4range @> ('x' || left(id::text, 4))::bit(16)::integer)");
}
ok($rows > 150, "$rows rows of users' sessions, tokens, factors, notifications, assignments and conversions on the shards");
is($misplaced, 0, 'every one of them, and every user, on the shard of the user\'s partition');

done_testing();
