# The requests that start from an email address (request_password_reset,
# request_sign_in_link) answer alike for an unknown address, a known one and
# a known one that is rate-limited: NULL, or a token that goes to the auth
# service, not to the person asking. They must take the same time too, or
# the time would tell which addresses have accounts. orion pads each call to
# orion.email_request_min_duration; this test measures that the three kinds
# have the same median time, that the padding holds, and that the work
# itself (measured with the padding off, printed) stays well inside it.
#
# Timed inside the server (clock_timestamp() around each call), kinds
# interleaved in a rotating order, each round committed, medians compared:
# as 004_login_timing does.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rounds = 40;
# how far from 1 a ratio of medians may be
my $tolerance = 0.10;

my $node = PostgreSQL::Test::Cluster->new('request_timing');
$node->init;
$node->start;

my $floor = $node->safe_psql('postgres', q{
CREATE EXTENSION orion CASCADE;
SELECT FROM orion.register_user('known@example.com', 'correct horse battery staple');
SELECT FROM orion.register_user('limited@example.com', 'correct horse battery staple');
CREATE TABLE request_timing (fn text NOT NULL, floor_ms integer NOT NULL, kind text NOT NULL,
                             round integer NOT NULL, got_token boolean NOT NULL, ms float8 NOT NULL);
CREATE FUNCTION timed_request(fn text, email text, intervals text) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	token text;
BEGIN
	PERFORM set_config('orion.reset_request_interval', intervals, true);
	PERFORM set_config('orion.sign_in_link_request_interval', intervals, true);
	t0 := clock_timestamp();
	IF fn = 'reset' THEN
		token := orion.request_password_reset(email);
	ELSE
		token := orion.request_sign_in_link(email);
	END IF;
	RETURN ARRAY[(token IS NOT NULL)::int, extract(epoch FROM clock_timestamp() - t0) * 1000];
END
$$;
CREATE PROCEDURE run_rounds(fn text, floor_ms integer, rounds integer)
LANGUAGE plpgsql AS $$
DECLARE
	kinds text[] := ARRAY['unknown', 'known', 'limited'];
	k text;
	r float8[];
BEGIN
	PERFORM set_config('orion.email_request_min_duration', floor_ms::text, false);
	FOR round IN 0..rounds LOOP
		FOR j IN 0..2 LOOP
			k := kinds[1 + (round + j) % 3];
			CASE k
				WHEN 'unknown' THEN
					r := timed_request(fn, 'nobody' || round || '@example.com', '0');
				WHEN 'known' THEN
					r := timed_request(fn, 'known@example.com', '0');
				WHEN 'limited' THEN
					r := timed_request(fn, 'limited@example.com', '1d');
			END CASE;
			INSERT INTO request_timing VALUES (fn, floor_ms, k, round, r[1]::int::boolean, r[2]);
		END LOOP;
		COMMIT;
	END LOOP;
END
$$;
SHOW orion.email_request_min_duration;
});
is($floor, '25ms', 'the default floor is 25 ms');
$floor = 25;

# the limited account holds a live token of each flow, younger than a day
$node->safe_psql('postgres', q{
SELECT orion.request_password_reset('limited@example.com');
SELECT orion.request_sign_in_link('limited@example.com');
});

foreach my $fn (qw(reset link))
{
	$node->safe_psql('postgres', "CALL run_rounds('$fn', 0, $rounds)");
	$node->safe_psql('postgres', "CALL run_rounds('$fn', $floor, $rounds)");
}

is($node->safe_psql('postgres', q{
SELECT fn, floor_ms, kind, count(*), count(*) FILTER (WHERE got_token)
  FROM request_timing WHERE round > 0 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3}),
	join("\n", map { my $fn = $_; map { ("$fn|$_|known|$rounds|$rounds", "$fn|$_|limited|$rounds|0",
		"$fn|$_|unknown|$rounds|0") } (0, $floor) } qw(link reset)),
	'a known address gets a token, a rate-limited or unknown one NULL, every round');

my %median;
my $stats = $node->safe_psql('postgres', q{
SELECT fn, floor_ms, kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), min(ms), max(ms)
  FROM request_timing WHERE round > 0 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3});
foreach my $line (split /\n/, $stats)
{
	my ($fn, $floor_ms, $kind, $med, $min, $max) = split /\|/, $line;
	$median{$fn}{$floor_ms}{$kind} = $med;
	note sprintf("%-5s floor %2d ms  %-7s median %7.3f ms  min %7.3f ms  max %7.3f ms",
		$fn, $floor_ms, $kind, $med, $min, $max);
}

foreach my $fn (qw(reset link))
{
	my $name = $fn eq 'reset' ? 'request_password_reset' : 'request_sign_in_link';
	my $m = $median{$fn}{$floor};
	my $work = $median{$fn}{0};

	note sprintf("%s without the floor: unknown / known = %.3f (what the floor hides)",
		$name, $work->{unknown} / $work->{known});
	ok($work->{known} < $floor / 5,
		sprintf("%s: the work of a known address (median %.3f ms) is well inside the %d ms floor",
			$name, $work->{known}, $floor));
	foreach my $kind (qw(known unknown limited))
	{
		ok($m->{$kind} >= $floor,
			sprintf("%s: %s takes the floor at least (median %.3f ms)", $name, $kind, $m->{$kind}));
	}
	foreach my $kind (qw(unknown limited))
	{
		my $ratio = $m->{$kind} / $m->{known};
		ok(abs($ratio - 1) <= $tolerance,
			sprintf("%s: %s takes what a known address takes (median ratio %.3f, allowed %.2f..%.2f)",
				$name, $kind, $ratio, 1 - $tolerance, 1 + $tolerance));
	}
	# the sharper measure: what is left of the difference the work makes
	my $work_gap = $work->{known} - $work->{unknown};
	my $gap = $m->{known} - $m->{unknown};
	ok(abs($gap) < $work_gap / 2,
		sprintf("%s: with the floor, known and unknown differ by %.3f ms, under half of the %.3f ms the work makes",
			$name, $gap, $work_gap));
}

# every request is audited, with the reason when nothing was issued
is($node->safe_psql('postgres', q{
SELECT action, coalesce(new_data->>'reason', 'issued'), count(*)
  FROM orion_auth.audit_logs WHERE action LIKE 'auth.%_requested'
 GROUP BY 1, 2 ORDER BY 1, 2}),
	join("\n", map { my $a = $_;
		("$a|issued|" . (2 * ($rounds + 1) + 1), "$a|rate_limited|" . (2 * ($rounds + 1)),
		 "$a|unknown_email|" . (2 * ($rounds + 1))) }
		qw(auth.password_reset_requested auth.sign_in_link_requested)),
	'every request is audited: issued, rate_limited or unknown_email');

$node->stop;
done_testing();
