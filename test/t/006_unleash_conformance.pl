# orion evaluates feature flags as an Unleash client does: it passes the
# official client specification, npm @unleash/client-specification, installed
# at test time. Each file of its specifications/index.json is loaded as
# upstream SDKs load it (state.segments into orion_feature_flags.segments,
# state.features into orion_feature_flags.feature_flags: key = name, enabled =
# enabled, rollout = the whole toggle as the client API returns it) and every
# case is run: "tests" through orion.flag_enabled(toggleName, NULL, context),
# compared with expectedResult, and "variantTests" through
# orion.flag_variant(toggleName, NULL, context), compared with expectedResult
# by jsonb equality (name, enabled, feature_enabled, and payload exactly when
# expected). Each file prints "FILE: N passed, N failed" and lists its failing
# cases; that every case of the file ran is checked too, so a loader that
# loads nothing cannot pass. Files 19 and 20 exercise the delta API (their
# state is a list of events, not of toggles), which orion's tables have no
# use for: they are reported as not applicable and not run.
use strict;
use warnings;

use Encode qw(encode_utf8);
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $spec_version = '6.1.0';
# What version 6.1.0 holds: 22 files, 279 cases, 275 of them outside the
# delta API files.
my $spec_files = 22;
my $spec_cases_run = 275;
my @delta_files = ('19-delta-api-hydration.json', '20-delta-api-events.json');

# Test names and diagnostics hold toggle names and contexts, in UTF-8.
sub say_ok
{
	my ($ok, @name) = @_;
	return ok($ok, encode_utf8(join('', @name)));
}

my $specdir = npm_install('@unleash/client-specification', $spec_version);

my @files = @{ decode_json(slurp_file("$specdir/specifications/index.json")) };
is(scalar(@files), $spec_files, "specifications/index.json lists $spec_files files");

my $node = PostgreSQL::Test::Cluster->new('unleash');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');

# One case: what orion returns, as jsonb, or the error it raised (a case that
# fails must not hide the others of its file).
$node->safe_psql('postgres', q{
CREATE SCHEMA conformance;
CREATE FUNCTION conformance.evaluate(kind text, toggle text, context jsonb,
                                     OUT got jsonb, OUT error text)
    LANGUAGE plpgsql AS $$
BEGIN
    IF kind = 'tests' THEN
        got := to_jsonb(orion.flag_enabled(toggle, NULL, context));
    ELSE
        got := orion.flag_variant(toggle, NULL, context);
    END IF;
EXCEPTION WHEN OTHERS THEN
    error := SQLSTATE || ': ' || SQLERRM;
END
$$;
});

my $json = JSON::PP->new->canonical;
my @delta_seen;
my $cases_run = 0;

for my $file (@files)
{
	# The file's bytes go into SQL as they are, as base64: no value from it
	# is ever spelt in SQL.
	my $raw = slurp_file("$specdir/specifications/$file");
	my $spec = decode_json($raw);
	my $state = $spec->{state} // {};
	# [kind, position in its list (from 1), case]
	my @cases;
	for my $kind (qw(tests variantTests))
	{
		my $n = 0;
		push @cases, map { [ $kind, ++$n, $_ ] } @{ $spec->{$kind} // [] };
	}

	if (exists $state->{events})
	{
		push @delta_seen, $file;
		note(sprintf('%s: not applicable (delta API: state.events, not a toggle list), %d case%s not run',
				$file, scalar(@cases), @cases == 1 ? '' : 's'));
		next;
	}

	my $features = scalar(@{ $state->{features} // [] });
	my $segments = scalar(@{ $state->{segments} // [] });
	ok(@cases > 0 && $features > 0, "$file: has cases and features");

	# Empty both tables, load the file's state, then, in a later statement of
	# the same session (the flag cache must see the change), run every case.
	my $b64 = encode_base64($raw, '');
	my ($out, $err) = ('', '');
	my $rc = $node->psql('postgres', qq{
CREATE TEMP TABLE spec_file AS
SELECT convert_from(decode('$b64', 'base64'), 'UTF8')::jsonb AS doc;

DELETE FROM orion_feature_flags.feature_flags;
DELETE FROM orion_feature_flags.segments;

INSERT INTO orion_feature_flags.segments (id, name, constraints)
SELECT (s->>'id')::integer, s->>'name', coalesce(s->'constraints', '[]')
  FROM spec_file, jsonb_array_elements(coalesce(doc->'state'->'segments', '[]')) AS s;

INSERT INTO orion_feature_flags.feature_flags (key, name, description, enabled, rollout)
SELECT f->>'name', f->>'name', f->>'description', (f->>'enabled')::boolean, f
  FROM spec_file, jsonb_array_elements(doc->'state'->'features') AS f;

SELECT jsonb_build_object(
         'features', (SELECT count(*) FROM orion_feature_flags.feature_flags),
         'segments', (SELECT count(*) FROM orion_feature_flags.segments),
         'results', coalesce(jsonb_agg(jsonb_build_object(
                                 'kind', c.kind, 'n', c.n, 'got', r.got, 'error', r.error,
                                 'passed', coalesce(r.got = c.e->'expectedResult', false))
                               ORDER BY c.kind, c.n), '[]'))
  FROM (SELECT 'tests', n, e
          FROM spec_file, jsonb_array_elements(coalesce(doc->'tests', '[]')) WITH ORDINALITY AS t(e, n)
        UNION ALL
        SELECT 'variantTests', n, e
          FROM spec_file, jsonb_array_elements(coalesce(doc->'variantTests', '[]')) WITH ORDINALITY AS t(e, n))
       AS c(kind, n, e),
       LATERAL conformance.evaluate(c.kind, c.e->>'toggleName', coalesce(c.e->'context', '{}')) AS r;
}, stdout => \$out, stderr => \$err);

	my $got = $rc == 0 ? eval { decode_json($out) } : undef;
	unless (say_ok(defined $got, "$file: the state loads into feature_flags and segments"))
	{
		diag(encode_utf8("$file: psql exit status $rc\n$err"));
		note("$file: 0 passed, " . scalar(@cases) . ' failed (not loaded)');
		is(0, scalar(@cases), "$file: all " . scalar(@cases) . ' cases ran');
		is(scalar(@cases), 0, "$file: every case passes");
		next;
	}
	is_deeply([ $got->{features}, $got->{segments} ], [ $features, $segments ],
		"$file: $features features and $segments segments loaded");

	# Results come back sorted by kind ("tests" < "variantTests") and
	# position: the order of @cases.
	my @results = @{ $got->{results} };
	is(scalar(@results), scalar(@cases), "$file: all " . scalar(@cases) . ' cases ran');
	$cases_run += @results;

	my ($passed, $failed) = (0, 0);
	for my $i (0 .. $#cases)
	{
		my ($kind, $n, $case) = @{ $cases[$i] };
		my $r = $results[$i];
		$r = undef unless $r && $r->{kind} eq $kind && $r->{n} == $n;
		if ($r && $r->{passed})
		{
			$passed++;
			next;
		}
		$failed++;
		my $function = $kind eq 'tests' ? 'flag_enabled' : 'flag_variant';
		my $shown = !$r ? 'no result'
		  : defined $r->{error} ? "ERROR $r->{error}"
		  : defined $r->{got} ? $json->encode($r->{got})
		  : 'NULL';
		diag(encode_utf8(join("\n",
			"$file: $kind\[$n\] failed",
			"  description: $case->{description}",
			"  toggle:      $case->{toggleName}",
			"  context:     " . $json->encode($case->{context} // {}),
			"  expected:    " . $json->encode($case->{expectedResult}),
			"  got:         $function() = $shown")));
	}
	note("$file: $passed passed, $failed failed");
	is($failed, 0, "$file: every case passes");
}

is_deeply([ sort @delta_seen ], \@delta_files,
	'only files 19 and 20 use the delta API (state.events), and are not run');
is($cases_run, $spec_cases_run,
	"$spec_cases_run cases ran over the files that hold toggle lists");

$node->stop;
done_testing();
