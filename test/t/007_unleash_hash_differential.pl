# orion.flag_bucket buckets ids exactly as Unleash clients do: npm
# unleash-client, installed at test time, computes normalizedStrategyValue
# and normalizedVariantValue for at least 10,000 random (groupId, userId)
# pairs of printable ASCII (empty strings, spaces, colons, digits only, UUIDs,
# up to 2,000 characters) with random normalizers from 1 to 10,000
# (test/node/unleash-normalized.js, seeded: the seed is printed), and every
# one equals orion.flag_bucket(groupId, userId) and
# orion.flag_bucket(groupId, userId, N, 86028157). Outside ASCII the two
# differ, on purpose: the Node client hashes the low byte of each UTF-16 code
# unit, orion hashes the UTF-8 bytes, as Unleash's Rust engine (Yggdrasil)
# does; for "g" and "ø" orion gives 36 where the Node client gives 52.
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

my $client_version = '6.12.1';
my $min_pairs = 10000;
my $variant_seed = 86028157;

# Test names and diagnostics hold ids outside ASCII, in UTF-8.
sub say_is
{
	my ($got, $expected, @name) = @_;
	return is($got, $expected, encode_utf8(join('', @name)));
}

my $client = npm_install('unleash-client', $client_version);

my $json = run_or_die('test/node/unleash-normalized.js computes normalized values with unleash-client',
	'node', 'test/node/unleash-normalized.js', $client);
my $doc = decode_json($json);
my @cases = @{ $doc->{cases} };
note("unleash-normalized.js PRNG seed: $doc->{seed} (node test/node/unleash-normalized.js DIR $doc->{seed} reproduces it)");
is($doc->{package}, $client_version, "the script used unleash-client $client_version");
is($doc->{variant_seed}, $variant_seed, "unleash-client's variant seed is $variant_seed");
ok(@cases >= $min_pairs, scalar(@cases) . " pairs, at least $min_pairs");

# What the pairs cover: each kind of string, as a group or an id.
my %has;
for my $c (@cases)
{
	for my $s ($c->{group}, $c->{id})
	{
		$has{empty}++ if $s eq '';
		$has{space}++ if $s =~ / /;
		$has{colon}++ if $s =~ /:/;
		$has{digits}++ if $s =~ /^[0-9]+$/;
		$has{long}++ if length($s) >= 1000;
	}
	die "not printable ASCII: group \"$c->{group}\", id \"$c->{id}\""
	  unless "$c->{group}$c->{id}" =~ /^[\x20-\x7e]*$/;
	$has{normalizer_1}++ if $c->{normalizer} == 1;
	$has{normalizer_big}++ if $c->{normalizer} > 5000;
}
my %kinds = (
	empty => 'empty strings',
	space => 'strings with spaces',
	colon => 'strings with colons',
	digits => 'digits-only strings',
	long => 'strings of 1,000 characters or more');
ok($has{$_}, "the pairs include $kinds{$_}") for sort keys %kinds;
ok($has{normalizer_1} && $has{normalizer_big}, 'the normalizers include 1 and numbers over 5000');

my $node = PostgreSQL::Test::Cluster->new('unleash_hash');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION orion CASCADE');

# The document goes into SQL as base64: no id is ever spelt in SQL.
my $b64 = encode_base64($json, '');
my $result = decode_json($node->safe_psql('postgres', qq{
CREATE TEMP TABLE doc AS
SELECT convert_from(decode('$b64', 'base64'), 'UTF8')::jsonb AS doc;

CREATE TEMP TABLE pairs AS
SELECT n, e->>'group' AS group_id, e->>'id' AS id, (e->>'normalizer')::integer AS normalizer,
       (e->>'strategy')::integer AS node_strategy, (e->>'variant')::integer AS node_variant
  FROM doc, jsonb_array_elements(doc->'cases') WITH ORDINALITY AS t(e, n);

WITH r AS (
    SELECT p.*, orion.flag_bucket(group_id, id) AS orion_strategy,
           orion.flag_bucket(group_id, id, normalizer, $variant_seed) AS orion_variant
      FROM pairs p)
SELECT jsonb_build_object(
         'compared', (SELECT count(*) FROM r),
         'strategy_mismatches', (SELECT count(*) FROM r WHERE orion_strategy IS DISTINCT FROM node_strategy),
         'variant_mismatches', (SELECT count(*) FROM r WHERE orion_variant IS DISTINCT FROM node_variant),
         'first_mismatches', (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.n), '[]')
                                FROM (SELECT * FROM r
                                       WHERE orion_strategy IS DISTINCT FROM node_strategy
                                          OR orion_variant IS DISTINCT FROM node_variant
                                       ORDER BY n LIMIT 20) AS m),
         'non_ascii', (SELECT jsonb_agg(jsonb_build_object('n', n, 'orion',
                                  orion.flag_bucket(e->>'group', e->>'id', (e->>'normalizer')::integer,
                                                    (e->>'seed')::bigint)) ORDER BY n)
                         FROM doc, jsonb_array_elements(doc->'non_ascii') WITH ORDINALITY AS t(e, n)));
}));

is($result->{compared}, scalar(@cases), 'every pair was compared: ' . scalar(@cases));
note("compared $result->{compared} pairs: $result->{strategy_mismatches} strategy and "
	  . "$result->{variant_mismatches} variant values differ");
is($result->{strategy_mismatches}, 0,
	"orion.flag_bucket(groupId, userId) = normalizedStrategyValue(userId, groupId) for all $result->{compared} pairs");
is($result->{variant_mismatches}, 0,
	"orion.flag_bucket(groupId, userId, N, $variant_seed) = normalizedVariantValue(userId, groupId, N) for all $result->{compared} pairs");
if (@{ $result->{first_mismatches} })
{
	my $enc = JSON::PP->new->canonical;
	diag("first differing pairs (of $result->{strategy_mismatches} strategy, $result->{variant_mismatches} variant):\n"
		  . join("\n", map { $enc->encode($_) } @{ $result->{first_mismatches} }));
}

# Outside ASCII: orion gives murmur3 of the UTF-8 bytes, not the Node value.
my @non_ascii = @{ $doc->{non_ascii} };
is(scalar(@{ $result->{non_ascii} }), scalar(@non_ascii), 'every key outside ASCII was bucketed by orion');
for my $i (0 .. $#non_ascii)
{
	my $k = $non_ascii[$i];
	my $orion = $result->{non_ascii}[$i]{orion};
	my $what = "\"$k->{group}:$k->{id}\" (seed $k->{seed}, normalizer $k->{normalizer})";
	say_is($orion, $k->{utf8}, "$what: orion hashes the UTF-8 bytes, as Unleash's Rust engine does: $k->{utf8}");
	ok($orion != $k->{node},
		encode_utf8("$what: unleash-client, hashing the low byte of each UTF-16 code unit, gives $k->{node}, not orion's $orion"));
}

# The documented case, in numbers: "g" and "ø", normalizer 100, seed 0.
my ($i_oslash) = grep { $non_ascii[$_]{group} eq 'g' && $non_ascii[$_]{id} eq "\x{f8}" && $non_ascii[$_]{seed} == 0 }
  0 .. $#non_ascii;
die 'unleash-normalized.js does not bucket "g:ø" with seed 0' unless defined $i_oslash;
say_is($result->{non_ascii}[$i_oslash]{orion}, 36,
	"orion.flag_bucket('g', '\x{f8}') is 36: orion hashes UTF-8 bytes, as Unleash's Rust engine does");
say_is($non_ascii[$i_oslash]{node}, 52,
	"unleash-client's normalizedStrategyValue('\x{f8}', 'g') is 52 in this run: the Node client differs exactly there");

$node->stop;
done_testing();
