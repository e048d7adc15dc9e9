# No one-time token, access or refresh token (opaque or a JWT's signature), TOTP secret, MFA challenge or
# recovery code appears in the server log or in a NOTIFY payload (the tables are searched by the regress tests, see
# sql/include/search_tokens.sql). Every account flow runs, its error paths
# too, with the server logging at DEBUG1 and every error's statement, while
# the session LISTENs on orion's channels. The tokens live only in
# variables and in a test table outside orion's schemas, so that any copy
# found was made by orion.
#
# A token written as a literal into a statement that fails is logged by
# PostgreSQL itself (log_min_error_statement); the README tells applications
# to pass tokens as bind parameters, which are not logged by default.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $node = PostgreSQL::Test::Cluster->new('token_leaks');
$node->init;
use_secret_key($node);
$node->append_conf('postgresql.conf', qq{
log_min_messages = debug1
log_min_error_statement = error
log_error_verbosity = verbose
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
CREATE TABLE handed (flow text NOT NULL, token text NOT NULL);
});

my $out = $node->safe_psql('postgres', q{
LISTEN orion_notifications;
LISTEN orion_cache_invalidate;
SET orion.argon2_memory_kib = 1024;
SET orion.argon2_iterations = 1;
SET orion.email_request_min_duration = 0;
SET orion.verification_notify = on;
DO $$
DECLARE
	uid uuid := orion.register_user('leak@example.com', 'correct horse battery staple');
	t text;
	r record;
	secret text;
	codes text[];
BEGIN
	t := orion.request_email_verification(uid);
	INSERT INTO handed VALUES ('verification', t);
	PERFORM orion.verify_email(t);
	PERFORM orion.verify_email(t);

	t := orion.request_password_reset('leak@example.com');
	INSERT INTO handed VALUES ('reset', t);
	BEGIN
		PERFORM orion.reset_password(t, 'short');
	EXCEPTION WHEN invalid_parameter_value THEN
		RAISE LOG 'leak test: a weak password was refused';
	END;
	PERFORM orion.reset_password(t, 'a brand new passphrase');
	PERFORM orion.reset_password(t, 'a brand new passphrase');

	t := orion.request_sign_in_link('leak@example.com');
	INSERT INTO handed VALUES ('link', t);
	BEGIN
		PERFORM orion.sign_in_with_link(t, 'not an address');
	EXCEPTION WHEN invalid_parameter_value THEN
		RAISE LOG 'leak test: a bad address was refused';
	END;
	SELECT * INTO r FROM orion.sign_in_with_link(t, '192.0.2.1', 'Leak Test');
	INSERT INTO handed VALUES ('access', r.access_token), ('refresh', r.refresh_token);
	PERFORM orion.sign_in_with_link(t);
	PERFORM orion.validate_session(r.access_token);
	SELECT * INTO r FROM orion.refresh_session(r.refresh_token);
	INSERT INTO handed VALUES ('access', r.access_token), ('refresh', r.refresh_token);
	PERFORM orion.logout(r.access_token);

	-- a JWT sign-in, verified, validated and logged out
	PERFORM orion.rotate_signing_key();
	PERFORM set_config('orion.access_token_format', 'jwt', true);
	SELECT * INTO r FROM orion.login('leak@example.com', 'a brand new passphrase');
	INSERT INTO handed VALUES ('jwt', r.access_token), ('refresh', r.refresh_token);
	PERFORM orion.verify_jwt(r.access_token);
	PERFORM orion.verify_jwt(r.access_token || 'x');
	PERFORM orion.validate_session(r.access_token);
	PERFORM orion.logout(r.access_token);
	PERFORM set_config('orion.access_token_format', 'opaque', true);

	SELECT * INTO r FROM orion.enroll_totp(uid);
	secret := r.secret;
	INSERT INTO handed VALUES ('totp_secret', secret);
	codes := orion.confirm_totp(uid, orion.totp_code(secret));
	INSERT INTO handed SELECT 'recovery', c FROM unnest(codes) c;
	INSERT INTO handed SELECT 'recovery', replace(c, '-', '') FROM unnest(codes) c;
	SELECT mfa_challenge INTO t FROM orion.login('leak@example.com', 'a brand new passphrase');
	INSERT INTO handed VALUES ('challenge', t);
	PERFORM orion.verify_totp(t, CASE orion.totp_code(secret) WHEN '000000' THEN '111111' ELSE '000000' END);
	BEGIN
		PERFORM orion.verify_totp(t, 'not a code');
	EXCEPTION WHEN invalid_parameter_value THEN
		RAISE LOG 'leak test: a malformed code was refused';
	END;
	SELECT * INTO r FROM orion.verify_totp(t, codes[1], '192.0.2.1', 'Leak Test');
	INSERT INTO handed VALUES ('access', r.access_token), ('refresh', r.refresh_token);
	PERFORM orion.verify_totp(t, codes[1]);
	PERFORM orion.regenerate_recovery_codes(uid);
	PERFORM orion.disable_totp(uid);
	PERFORM orion.delete_user(uid);
END
$$;
SELECT flow, count(*) FROM handed GROUP BY flow ORDER BY flow;
});
like($out, qr/^access\|3\nchallenge\|1\njwt\|1\nlink\|1\nrecovery\|20\nrefresh\|4\nreset\|1\ntotp_secret\|1\nverification\|1$/m,
	'every flow handed out its tokens');
my @notes = grep { /Asynchronous notification/ } split /\n/, $out;
ok(scalar(grep { /"type": "email_verification"/ } @notes),
	'the verification email was announced on orion_notifications');
note scalar(@notes) . ' notifications heard';

my @tokens = split /\n/, $node->safe_psql('postgres', 'SELECT token FROM handed');
is(scalar(@tokens), 33, 'thirty-three tokens, secrets and codes to look for');
# a JWT's header and claims are no secret (anyone holding it can read
# them): its signature is what must not leak
@tokens = map { /^eyJ[^.]*\.[^.]*\.(.+)$/ ? $1 : $_ } @tokens;
my $log = slurp_file($node->logfile);
like($log, qr/leak test: a weak password was refused/, 'the server log has the run, error paths included');
like($log, qr/leak test: a malformed code was refused/, 'and the TOTP error path');
foreach my $where (['the server log', $log], ['the NOTIFY payloads', join("\n", @notes)])
{
	my @found = grep { my $t = $_; $t =~ s/^orion_[a-z]_//; index($where->[1], $t) >= 0 } @tokens;
	is(scalar(@found), 0, "no token appears in $where->[0]") or diag "found: @found";
}

# the one place a token is stored by design: the verification email that
# orion.verification_notify queues, until the notification goes (here with
# its user)
is($node->safe_psql('postgres', q{
SELECT count(*) FROM orion_notifications.notifications}), '0', 'the queued email went with its user');

$node->stop;
done_testing();
