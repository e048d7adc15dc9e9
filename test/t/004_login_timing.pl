# A failed login takes as long whatever the reason: an unknown email costs
# what a wrong password costs (both run one full Argon2id verification, the
# unknown email against a dummy hash), and so does a locked account even
# with the right password. So the time a login takes tells no one which
# emails have accounts, or which accounts are locked.
#
# The attempts are timed inside the server (clock_timestamp() around each
# orion.login call) to leave out the client and the network, the three kinds
# are interleaved in a rotating order so that drift in the machine's load
# falls on all of them alike, and the medians are compared, which a few slow
# outliers on a shared machine do not move.
#
# The first login of a new connection, as without a connection pool, is
# measured apart: nothing may be prepared on the first unknown email that a
# wrong password does not prepare too.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# attempts of each kind
my $rounds = 60;
# how far from 1 a ratio of medians may be
my $tolerance = 0.25;

# the median of a list of numbers
sub median
{
	my @v = sort { $a <=> $b } @_;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

my $node = PostgreSQL::Test::Cluster->new('login_timing');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
SELECT orion.register_user('wrong@example.com', 'correct horse battery staple');
SELECT orion.register_user('locked@example.com', 'correct horse battery staple');
CREATE TABLE login_timing (kind text NOT NULL, round integer NOT NULL, rows bigint NOT NULL, ms float8 NOT NULL);
});

# The right password signs in, so the failures below are not a broken login.
is($node->safe_psql('postgres', q{
SELECT count(*) FROM orion.login('wrong@example.com', 'correct horse battery staple')}),
	'1', 'the right password signs in');

# Lock the second account: three wrong passwords at orion.max_failed_logins = 3.
$node->safe_psql('postgres', q{
SET orion.max_failed_logins = 3;
SET orion.lockout_duration = '1d';
SELECT count(*) FROM orion.login('locked@example.com', 'not the password 1');
SELECT count(*) FROM orion.login('locked@example.com', 'not the password 2');
SELECT count(*) FROM orion.login('locked@example.com', 'not the password 3');
});
is($node->safe_psql('postgres', q{
SELECT failed_login_count, locked_until > now() + interval '23 hours'
  FROM orion_auth.users WHERE email = 'locked@example.com'}),
	'3|t', 'three wrong passwords at max_failed_logins = 3 lock the account for lockout_duration');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM orion_auth.audit_logs a JOIN orion_auth.users u ON u.id = a.user_id
 WHERE u.email = 'locked@example.com' AND a.action = 'auth.account_locked'}),
	'1', 'the lock is audited once');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM orion.login('locked@example.com', 'correct horse battery staple')}),
	'0', 'a locked account does not sign in even with the right password');

# One session runs every attempt, as a pooled connection would. Before the
# timed rounds, one attempt of each kind warms the session up: its first
# unknown email also makes the dummy hash (see the note printed below).
# Each round commits, as separate logins would.
my $timing = $node->safe_psql('postgres', qq{
SET orion.max_failed_logins = 0;
CREATE FUNCTION timed_login(email text, password text) RETURNS float8[]
LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz;
	n bigint;
BEGIN
	t0 := clock_timestamp();
	SELECT count(*) INTO n FROM orion.login(email, password);
	RETURN ARRAY[n, extract(epoch FROM clock_timestamp() - t0) * 1000];
END
\$\$;
DO \$\$
DECLARE
	kinds text[] := ARRAY['unknown', 'wrong', 'locked'];
	k text;
	r float8[];
BEGIN
	FOR round IN 0..$rounds LOOP
		FOR j IN 0..2 LOOP
			-- round 0 is the warm-up; later rounds rotate the order
			k := kinds[1 + (round + j) % 3];
			CASE k
				WHEN 'unknown' THEN
					r := timed_login('nobody' || round || '\@example.com', 'not the password ' || round);
				WHEN 'wrong' THEN
					r := timed_login('wrong\@example.com', 'not the password ' || round);
				WHEN 'locked' THEN
					r := timed_login('locked\@example.com', 'correct horse battery staple');
			END CASE;
			INSERT INTO login_timing VALUES (k, round, r[1]::bigint, r[2]);
		END LOOP;
		COMMIT;
	END LOOP;
END
\$\$;
SELECT string_agg(kind || '=' || round(ms::numeric, 1), ' ' ORDER BY kind)
  FROM login_timing WHERE round = 0;
});
note "untimed warm-up round (ms; unknown ran first, also making the dummy hash): $timing";

is($node->safe_psql('postgres', q{
SELECT kind, count(*), sum(rows) FROM login_timing WHERE round > 0 GROUP BY kind ORDER BY kind}),
	"locked|$rounds|0\nunknown|$rounds|0\nwrong|$rounds|0",
	"$rounds timed attempts of each kind, and none returned a row");

my %median;
my $stats = $node->safe_psql('postgres', q{
SELECT kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), min(ms), max(ms)
  FROM login_timing WHERE round > 0 GROUP BY kind ORDER BY kind});
foreach my $line (split /\n/, $stats)
{
	my ($kind, $med, $min, $max) = split /\|/, $line;
	$median{$kind} = $med;
	note sprintf("%-7s median %7.2f ms  min %7.2f ms  max %7.2f ms", $kind, $med, $min, $max);
}

foreach my $kind (qw(unknown locked))
{
	my $ratio = $median{$kind} / $median{wrong};
	note sprintf("median(%s) / median(wrong) = %.3f", $kind, $ratio);
	ok(abs($ratio - 1) <= $tolerance,
		sprintf("an attempt with %s costs what a wrong password costs (median ratio %.3f, allowed %.2f..%.2f)",
			$kind eq 'unknown' ? 'an unknown email' : 'a locked account',
			$ratio, 1 - $tolerance, 1 + $tolerance))
	  or diag sprintf("medians (ms): unknown %.2f, wrong %.2f, locked %.2f",
		$median{unknown}, $median{wrong}, $median{locked});
}

# Every attempt was recorded, each with its reason. The wrong-password
# account never locked (max_failed_logins = 0); the locked one stayed locked.
my $attempts = $rounds + 1;
is($node->safe_psql('postgres', q{
SELECT new_data->>'reason', count(*), count(DISTINCT new_data->>'email')
  FROM orion_auth.audit_logs WHERE action = 'auth.login_failed' AND user_id IS NULL
 GROUP BY 1 ORDER BY 1}),
	"unknown_email|$attempts|$attempts", 'every unknown email is audited with its address');
is($node->safe_psql('postgres', q{
SELECT u.email, a.new_data->>'reason', count(*)
  FROM orion_auth.audit_logs a JOIN orion_auth.users u ON u.id = a.user_id
 WHERE a.action = 'auth.login_failed'
 GROUP BY 1, 2 ORDER BY 1, 2}),
	"locked\@example.com|account_locked|" . ($attempts + 1) . "\n"
	  . "locked\@example.com|wrong_password|3\n"
	  . "wrong\@example.com|wrong_password|$attempts",
	'every failure of an account is audited with its reason');
is($node->safe_psql('postgres', q{
SELECT email, failed_login_count, locked_until IS NULL, locked_until > now()
  FROM orion_auth.users ORDER BY email}),
	"locked\@example.com|" . ($attempts + 4) . "|f|t\n"
	  . "wrong\@example.com|$attempts|t|",
	'failures are counted; only the locked account is locked');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM orion_auth.audit_logs WHERE action = 'auth.account_locked'}),
	'1', 'no account locked while max_failed_logins = 0');

# The first login of a new connection, as without a connection pool. Each
# attempt is the only one of its backend; the kinds alternate.
my $fresh_rounds = 15;
my %fresh;
for my $round (1 .. $fresh_rounds)
{
	foreach my $kind (qw(unknown wrong))
	{
		my $email = $kind eq 'unknown' ? "fresh$round\@example.com" : 'wrong@example.com';
		my ($rows, $ms) = split /\|/, $node->safe_psql('postgres', qq{
SET orion.max_failed_logins = 0;
SELECT r[1], r[2] FROM timed_login('$email', 'not the password') AS r});
		push @{ $fresh{$kind} }, $rows == 0 ? $ms : -1;
	}
}
my %fresh_median = map { $_ => median(@{ $fresh{$_} }) } keys %fresh;
my $fresh_ratio = $fresh_median{unknown} / $fresh_median{wrong};
note sprintf("first login of a connection: median unknown %.2f ms, wrong %.2f ms, ratio %.3f",
	$fresh_median{unknown}, $fresh_median{wrong}, $fresh_ratio);
ok(!grep({ $_ < 0 } map { @$_ } values %fresh), 'no first login of a connection returned a row');
ok(abs($fresh_ratio - 1) <= $tolerance,
	sprintf("the first login of a connection: an unknown email costs what a wrong password costs (median ratio %.3f)",
		$fresh_ratio));

$node->stop;
done_testing();
