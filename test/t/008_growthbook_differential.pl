# orion's GrowthBook bucketing gives what GrowthBook's own SDK gives: npm
# @growthbook/growthbook, installed at test time, computes hash,
# getBucketRanges and chooseVariation (dist/cjs/util.js) for the inputs of
# GrowthBook's shared SDK test suite, edge cases, and at least 10,000 random
# cases each (test/node/growthbook-util.js, seeded: the seed is printed):
# - hash(seed, value, version) for versions 1 and 2, over empty strings, ASCII
#   punctuation, long strings, UUIDs and text outside ASCII up to astral
#   emoji (GrowthBook hashes UTF-16 code units), equals
#   orion.growthbook_hash(seed, value, version) exactly, as a double, and is
#   NULL, as orion's is, for any other version;
# - getBucketRanges(numVariations, coverage, weights), with coverage in and
#   out of [0, 1] and weights null, equal, normalised, not summing to 1 or of
#   the wrong length, equals orion.growthbook_bucket_ranges once both are
#   rounded as GrowthBook's test runner rounds them, floor(x * 1e8) / 1e8,
#   and has its shape, numVariations x 2;
# - chooseVariation(n, ranges), n from hash outputs, range boundaries and the
#   doubles next to them, equals orion.growthbook_choose_variation exactly.
# Every case must agree; the counts compared are printed.
use strict;
use warnings;

use JSON::PP;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib 'test/perl';
use OrionTest;

my $sdk_version = '1.8.0';
my $min_cases = 10000;

my $sdk = npm_install('@growthbook/growthbook', $sdk_version);

my $json = run_or_die('test/node/growthbook-util.js computes hashes, ranges and variations with @growthbook/growthbook',
	'node', 'test/node/growthbook-util.js', $sdk);
my $doc = decode_json($json);
note("growthbook-util.js PRNG seed: $doc->{seed} (node test/node/growthbook-util.js DIR $doc->{seed} reproduces it)");
is($doc->{package}, $sdk_version, "the script used \@growthbook/growthbook $sdk_version");
note("cases from test data shipped in the package: $doc->{vectors}"
	  . ($doc->{vectors} ? '' : ' (it ships none; the script holds the inputs of its cases.json)'));

# What the cases cover.
my @hashes = @{ $doc->{hash} };
my @ranges = @{ $doc->{ranges} };
my @choices = @{ $doc->{choose} };
for my $version (1, 2)
{
	my $count = grep { $_->{version} == $version } @hashes;
	ok($count >= $min_cases, "$count hashes with version $version, at least $min_cases");
}
my @unknown = grep { $_->{version} != 1 && $_->{version} != 2 } @hashes;
ok(@unknown >= 100, scalar(@unknown) . ' hashes with unknown versions, at least 100');
ok(!grep({ defined $_->{hash} } @unknown), 'GrowthBook gives null for every unknown version');
ok(@ranges >= $min_cases, scalar(@ranges) . " bucket range cases, at least $min_cases");
ok(@choices >= $min_cases, scalar(@choices) . " chooseVariation cases, at least $min_cases");

my %has;
for my $h (@hashes)
{
	for my $s ($h->{seed}, $h->{value})
	{
		$has{empty}++ if $s eq '';
		$has{punctuation}++ if $s =~ /^[[:punct:]]+$/a;
		$has{long}++ if length($s) >= 1000;
		$has{uuid}++ if $s =~ /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
		$has{latin1}++ if $s =~ /[\x{80}-\x{ff}]/;
		$has{bmp}++ if $s =~ /[\x{800}-\x{ffff}]/;
		$has{astral}++ if $s =~ /[\x{10000}-\x{10ffff}]/;
		die "a string PostgreSQL cannot hold: " . JSON::PP->new->ascii->encode([$s])
		  if $s =~ /[\x{0}\x{d800}-\x{dfff}]/;
	}
}
my %kinds = (
	empty => 'empty strings',
	punctuation => 'ASCII punctuation',
	long => 'strings of 1,000 characters or more',
	uuid => 'UUIDs',
	latin1 => 'Latin-1 characters',
	bmp => 'characters of 3 UTF-8 bytes',
	astral => 'astral characters (UTF-16 surrogate pairs)');
ok($has{$_}, "the hashed strings include $kinds{$_}") for sort keys %kinds;

my (%coverage, %weights);
for my $r (@ranges)
{
	my $c = $r->{coverage};
	$coverage{ $c < 0 ? 'below 0' : $c > 1 ? 'above 1' : $c == 0 ? '0' : $c == 1 ? '1' : 'inside' }++;
	$weights{ (split m{/}, $r->{kind})[-1] }++;
}
ok($coverage{$_}, "the coverages include $_") for ('0', '1', 'below 0', 'above 1', 'inside');
ok($weights{$_}, "the weights include $_ ones")
  for qw(null equal normalised rounded unnormalised near_bounds zero_or_negative wrong_length);

my (%n_kind, %index);
for my $c (@choices)
{
	$n_kind{ (split m{/}, $c->{kind})[-1] }++;
	$index{ $c->{index} < 0 ? 'no variation' : 'a variation' }++;
}
ok($n_kind{$_}, "n includes $_ values") for qw(hash boundary next_to_boundary edge);
ok($index{'no variation'} && $index{'a variation'}, 'chooseVariation gives both -1 and an index');

my $node = PostgreSQL::Test::Cluster->new('growthbook');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');

# The document goes into SQL as base64: no string is ever spelt in SQL.
my $b64 = encode_base64($json, '');
my $result = decode_json($node->safe_psql('postgres', qq{
CREATE TEMP TABLE doc AS
SELECT convert_from(decode('$b64', 'base64'), 'UTF8')::jsonb AS doc;

-- GrowthBook's test runner compares ranges after this rounding.
CREATE FUNCTION pg_temp.gb_round(a double precision[]) RETURNS double precision[]
    LANGUAGE sql IMMUTABLE
    RETURN ARRAY(SELECT floor(x * 1e8::float8) / 1e8::float8 FROM unnest(a) WITH ORDINALITY AS u(x, i) ORDER BY i);

CREATE TEMP TABLE hashes AS
SELECT no, e->>'kind' AS kind, e->>'seed' AS seed, e->>'value' AS value, (e->>'version')::integer AS version,
       (e->>'hash')::float8 AS node
  FROM doc, jsonb_array_elements(doc->'hash') WITH ORDINALITY AS t(e, no);
ALTER TABLE hashes ADD orion float8;
UPDATE hashes SET orion = orion.growthbook_hash(seed, value, version);

CREATE TEMP TABLE ranges AS
SELECT no, e->>'kind' AS kind, (e->>'numVariations')::integer AS num_variations,
       (e->>'coverage')::float8 AS coverage,
       CASE WHEN jsonb_typeof(e->'weights') = 'array'
            THEN ARRAY(SELECT w::float8 FROM jsonb_array_elements_text(e->'weights') WITH ORDINALITY AS u(w, i)
                        ORDER BY i) END AS weights,
       ARRAY(SELECT x::float8
               FROM jsonb_array_elements(e->'ranges') WITH ORDINALITY AS r(pair, i),
                    jsonb_array_elements_text(pair) WITH ORDINALITY AS p(x, j)
              ORDER BY i, j) AS node,
       jsonb_array_length(e->'ranges') AS node_pairs,
       NOT EXISTS (SELECT FROM jsonb_array_elements(e->'ranges') AS r(pair)
                    WHERE jsonb_array_length(pair) <> 2) AS node_pairs_of_2
  FROM doc, jsonb_array_elements(doc->'ranges') WITH ORDINALITY AS t(e, no);
ALTER TABLE ranges ADD orion float8[];
UPDATE ranges SET orion = orion.growthbook_bucket_ranges(num_variations, coverage, weights);

CREATE TEMP TABLE choices AS
SELECT no, e->>'kind' AS kind, (e->>'n')::float8 AS n,
       coalesce((SELECT array_agg(ARRAY[(pair->>0)::float8, (pair->>1)::float8] ORDER BY i)
                   FROM jsonb_array_elements(e->'ranges') WITH ORDINALITY AS r(pair, i)),
                '{}') AS ranges,
       (e->>'index')::integer AS node
  FROM doc, jsonb_array_elements(doc->'choose') WITH ORDINALITY AS t(e, no);
ALTER TABLE choices ADD orion integer;
UPDATE choices SET orion = orion.growthbook_choose_variation(n, ranges);

-- The differing cases, doubles as text (shortest exact: to_jsonb would round them).
CREATE TEMP VIEW hash_bad AS
SELECT no, kind, seed, value, version, node::text AS node, orion::text AS orion
  FROM hashes WHERE orion IS DISTINCT FROM node;

-- Shape: numVariations x 2 (an empty array for none); then the rounded values.
CREATE TEMP VIEW range_bad AS
SELECT no, kind, num_variations, coverage::text AS coverage, weights::text AS weights,
       node::text AS node, orion::text AS orion
  FROM ranges
 WHERE NOT node_pairs_of_2
    OR (node_pairs = 0 AND cardinality(orion) <> 0)
    OR (node_pairs > 0 AND (array_ndims(orion) IS DISTINCT FROM 2
                            OR array_length(orion, 1) IS DISTINCT FROM node_pairs
                            OR array_length(orion, 2) IS DISTINCT FROM 2))
    OR pg_temp.gb_round(ARRAY(SELECT unnest(orion))) IS DISTINCT FROM pg_temp.gb_round(node);

CREATE TEMP VIEW choice_bad AS
SELECT no, kind, n::text AS n, ranges::text AS ranges, node, orion
  FROM choices WHERE orion IS DISTINCT FROM node;

SELECT jsonb_build_object(
         'hashes', (SELECT count(*) FROM hashes),
         'hashes_by_version', (SELECT jsonb_object_agg(v, c) FROM (
                                 SELECT CASE WHEN version IN (1, 2) THEN version::text ELSE 'other' END AS v,
                                        count(*) AS c
                                   FROM hashes GROUP BY 1) AS g),
         'hash_mismatches', (SELECT count(*) FROM hash_bad),
         'hash_bad', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.no), '[]')
                        FROM (SELECT * FROM hash_bad ORDER BY no LIMIT 20) AS m),
         'ranges', (SELECT count(*) FROM ranges),
         'range_mismatches', (SELECT count(*) FROM range_bad),
         'ranges_exact', (SELECT count(*) FROM ranges WHERE ARRAY(SELECT unnest(orion)) = node),
         'range_bad', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.no), '[]')
                         FROM (SELECT * FROM range_bad ORDER BY no LIMIT 20) AS m),
         'choices', (SELECT count(*) FROM choices),
         'choice_mismatches', (SELECT count(*) FROM choice_bad),
         'choice_bad', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.no), '[]')
                          FROM (SELECT * FROM choice_bad ORDER BY no LIMIT 20) AS m));
}));

my $enc = JSON::PP->new->canonical->ascii;
sub diag_bad
{
	my ($what, $count, $rows) = @_;
	diag("first differing $what (of $count):\n" . join("\n", map { $enc->encode($_) } @$rows))
	  if @$rows;
}

is($result->{hashes}, scalar(@hashes), "every hash case was compared: $result->{hashes}");
note("hashes compared: version 1: $result->{hashes_by_version}{1}, version 2: $result->{hashes_by_version}{2}, "
	  . "others: $result->{hashes_by_version}{other}; $result->{hash_mismatches} differ");
is($result->{hash_mismatches}, 0,
	"orion.growthbook_hash(seed, value, version) = hash(seed, value, version), as doubles, NULL for unknown versions, for all $result->{hashes}");
diag_bad('hashes', $result->{hash_mismatches}, $result->{hash_bad});

is($result->{ranges}, scalar(@ranges), "every bucket range case was compared: $result->{ranges}");
note("bucket ranges compared: $result->{ranges}; $result->{range_mismatches} differ after rounding; "
	  . "$result->{ranges_exact} are equal without rounding");
is($result->{range_mismatches}, 0,
	"orion.growthbook_bucket_ranges(n, coverage, weights) = getBucketRanges(n, coverage, weights), n x 2, to 1e-8, for all $result->{ranges}");
diag_bad('bucket ranges', $result->{range_mismatches}, $result->{range_bad});

is($result->{choices}, scalar(@choices), "every chooseVariation case was compared: $result->{choices}");
note("chooseVariation compared: $result->{choices}; $result->{choice_mismatches} differ");
is($result->{choice_mismatches}, 0,
	"orion.growthbook_choose_variation(n, ranges) = chooseVariation(n, ranges) for all $result->{choices}");
diag_bad('chooseVariation cases', $result->{choice_mismatches}, $result->{choice_bad});

$node->stop;
done_testing();
