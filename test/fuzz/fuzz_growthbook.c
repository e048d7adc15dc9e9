/*-------------------------------------------------------------------------
 *
 * fuzz_growthbook.c
 *	  libFuzzer harness for src/ab/growthbook.c: FNV-1a over UTF-16, GrowthBook's
 *	  hash (versions 1 and 2), bucket ranges and chooseVariation.
 *
 * An AB test assigns the variant a GrowthBook SDK would, so each piece must
 * agree with GrowthBook's JavaScript to the last bit. The harness checks:
 *
 * - OrionFnv1a32 equals a second FNV-1a written here, which decodes UTF-8
 *	 strictly, encodes UTF-16 and folds each unit (for valid UTF-8; other
 *	 bytes only must not crash);
 * - OrionGrowthbookHash equals fnv1a32(value + seed) % 1000 / 1000 (v1) and
 *	 fnv1a32(String(fnv1a32(seed + value))) % 10000 / 10000 (v2) computed
 *	 from that second FNV-1a, lies in [0, 1), and other versions give none;
 * - the bucket ranges follow getBucketRanges' rules (coverage clamped to
 *	 [0, 1]; equal weights when none, a count that is not n, or a sum
 *	 outside [0.99, 1.01]), are contiguous slots in order, each trimmed to
 *	 coverage, and with full coverage and equal weights every hash lands;
 * - chooseVariation answers the first range holding the hash, or -1 when
 *	 none does;
 * - at start-up, GrowthBook's published hash test cases.
 *
 * Input: [n-1 and weight mode][coverage][8 weight bytes] seed 0xFF value
 * (0xFF never occurs in UTF-8, so it separates the two strings).
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_growthbook.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_check.h"
#include "ab/growthbook.h"

#define MAX_VARIATIONS 8

/*
 * Strict UTF-8 to code points: no overlong forms, no surrogates, nothing
 * above U+10FFFF. Returns the number of code points, or -1 if invalid.
 */
static long
DecodeUtf8(const uint8_t *s, size_t len, uint32_t *out)
{
	size_t		i = 0;
	long		n = 0;

	while (i < len)
	{
		uint32_t	c = s[i];
		int			more;
		uint32_t	min;
		int			k;

		if (c < 0x80)
			more = 0, min = 0;
		else if (c >= 0xC2 && c <= 0xDF)
			more = 1, min = 0x80, c &= 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			more = 2, min = 0x800, c &= 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			more = 3, min = 0x10000, c &= 0x07;
		else
			return -1;
		if (len - i - 1 < (size_t) more)
			return -1;
		for (k = 1; k <= more; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return -1;
			c = (c << 6) | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return -1;
		out[n++] = c;
		i += 1 + more;
	}
	return n;
}

/* FNV-1a 32 over the UTF-16 code units of code points, continuing from h. */
static uint32_t
ReferenceFnv(uint32_t h, const uint32_t *cps, long n)
{
	long		i;

	for (i = 0; i < n; i++)
	{
		uint16_t	units[2];
		int			nunits = 1;
		int			u;

		if (cps[i] >= 0x10000)
		{
			units[0] = (uint16_t) (0xD800 | ((cps[i] - 0x10000) >> 10));
			units[1] = (uint16_t) (0xDC00 | ((cps[i] - 0x10000) & 0x3FF));
			nunits = 2;
		}
		else
			units[0] = (uint16_t) cps[i];
		for (u = 0; u < nunits; u++)
		{
			h ^= units[u];
			h *= 16777619u;
		}
	}
	return h;
}

#define FNV_BASIS 2166136261u

/* getBucketRanges written again from GrowthBook's rules, same arithmetic order. */
static void
ReferenceRanges(int n, double coverage, const double *weights, int nweights, double *ranges)
{
	double		sum = 0;
	double		cumulative = 0;
	bool		given = weights != NULL && nweights == n;
	int			i;

	coverage = coverage < 0 ? 0 : coverage > 1 ? 1 : coverage;
	if (given)
	{
		for (i = 0; i < n; i++)
			sum += weights[i];
		given = sum >= 0.99 && sum <= 1.01;
	}
	for (i = 0; i < n; i++)
	{
		double		w = given ? weights[i] : 1.0 / n;

		ranges[2 * i] = cumulative;
		ranges[2 * i + 1] = cumulative + coverage * w;
		cumulative += w;
	}
}

static void
CheckChoice(double hash, const double *ranges, int n)
{
	int			got = OrionGrowthbookChooseVariation(hash, ranges, n);
	int			want = -1;
	int			i;

	for (i = 0; i < n && want < 0; i++)
		if (ranges[2 * i] <= hash && hash < ranges[2 * i + 1])
			want = i;
	FUZZ_CHECK(got == want, "chooseVariation(%.17g) over %d ranges: %d, expected %d",
			   hash, n, got, want);
}

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* GrowthBook's hash test cases (its SDKs' shared cases.json) */
	static const struct
	{
		const char *seed;
		const char *value;
		int			version;
		double		hash;
	}			cases[] = {
		{"", "a", 1, 0.22},
		{"", "b", 1, 0.077},
		{"b", "a", 1, 0.946},
		{"ef", "d", 1, 0.652},
		{"", "8952klfjas09ujkasdf", 1, 0.549},
		{"", "123", 1, 0.011},
		{"", "___)((*\":&", 1, 0.563},
		{"seed", "a", 2, 0.0505},
		{"seed", "b", 2, 0.2696},
		{"foo", "ab", 2, 0.2575},
		{"foo", "def", 2, 0.2019},
		{"89123klj", "8952klfjas09ujkasdf", 2, 0.124},
		{"90850943850283058242805", "123", 2, 0.7516},
		{"()**(%$##$%#$#", "___)((*\":&", 2, 0.0128},
	};
	size_t		i;
	double		h;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		bool		ok = OrionGrowthbookHash(cases[i].seed, strlen(cases[i].seed),
											 cases[i].value, strlen(cases[i].value),
											 cases[i].version, &h);

		FUZZ_CHECK(ok && h == cases[i].hash, "hash(\"%s\", \"%s\", %d) = %.17g, expected %.17g",
				   cases[i].seed, cases[i].value, cases[i].version, ok ? h : -1.0, cases[i].hash);
	}
	FUZZ_CHECK(!OrionGrowthbookHash("", 0, "a", 1, 99, &h), "version 99 must give no hash");
	FUZZ_CHECK(OrionFnv1a32("", 0) == 0x811c9dc5u && OrionFnv1a32("a", 1) == 0xe40c292cu &&
			   OrionFnv1a32("foobar", 6) == 0xbf9cf968u, "FNV-1a 32 test vectors");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t seed_cps[4096];
	static uint32_t value_cps[4096];
	const uint8_t *strings;
	const uint8_t *sep;
	size_t		strings_len;
	size_t		seed_len;
	size_t		value_len;
	char	   *seed;
	char	   *value;
	long		nseed;
	long		nvalue;
	int			n;
	int			mode;
	double		coverage;
	double		weights[MAX_VARIATIONS + 1];
	int			nweights;
	double		ranges[2 * MAX_VARIATIONS];
	double		want_ranges[2 * MAX_VARIATIONS];
	double		hashes[2];
	int			version;
	int			i;

	if (size < 10 || size - 10 > 4096)
		return -1;
	n = 1 + (data[0] & 7);
	mode = (data[0] >> 3) & 3;
	coverage = data[1] / 200.0 - 0.1;	/* -0.1 .. 1.175: the clamps too */
	strings = data + 10;
	strings_len = size - 10;
	sep = memchr(strings, 0xFF, strings_len);
	seed_len = sep ? (size_t) (sep - strings) : strings_len;
	value_len = sep ? strings_len - seed_len - 1 : 0;

	/* exact-size copies: a read past either string is an ASan report */
	seed = malloc(seed_len + 1);
	value = malloc(value_len + 1);
	memcpy(seed, strings, seed_len);
	memcpy(value, sep ? sep + 1 : strings, value_len);

	/* FNV-1a against the reference, for valid UTF-8 */
	nseed = DecodeUtf8((const uint8_t *) seed, seed_len, seed_cps);
	nvalue = DecodeUtf8((const uint8_t *) value, value_len, value_cps);
	if (nseed >= 0)
		FUZZ_CHECK(OrionFnv1a32(seed, seed_len) == ReferenceFnv(FNV_BASIS, seed_cps, nseed),
				   "FNV-1a of %zu bytes of valid UTF-8: 0x%08x, reference 0x%08x", seed_len,
				   OrionFnv1a32(seed, seed_len), ReferenceFnv(FNV_BASIS, seed_cps, nseed));
	else
		(void) OrionFnv1a32(seed, seed_len);

	/* hash(seed, value, version) */
	for (version = 1; version <= 2; version++)
	{
		double		h = -1;

		FUZZ_CHECK(OrionGrowthbookHash(seed, seed_len, value, value_len, version, &h),
				   "version %d gave no hash", version);
		FUZZ_CHECK(h >= 0 && h < 1, "hash %.17g outside [0, 1)", h);
		hashes[version - 1] = h;
		if (nseed >= 0 && nvalue >= 0)
		{
			double		want;

			if (version == 1)
				want = (double) (ReferenceFnv(ReferenceFnv(FNV_BASIS, value_cps, nvalue),
											  seed_cps, nseed) % 1000) / 1000.0;
			else
			{
				char		digits[16];
				uint32_t	inner = ReferenceFnv(ReferenceFnv(FNV_BASIS, seed_cps, nseed),
												 value_cps, nvalue);
				uint32_t	cps[16];
				int			k;
				int			nd = snprintf(digits, sizeof(digits), "%u", (unsigned) inner);

				for (k = 0; k < nd; k++)
					cps[k] = (uint8_t) digits[k];
				want = (double) (ReferenceFnv(FNV_BASIS, cps, nd) % 10000) / 10000.0;
			}
			FUZZ_CHECK(h == want, "hash version %d: %.17g, reference %.17g", version, h, want);
		}
	}
	{
		double		h;

		FUZZ_CHECK(!OrionGrowthbookHash(seed, seed_len, value, value_len, data[0] >> 5 == 0 ? 0 : 3 + data[0], &h),
				   "an unknown version must give no hash");
	}

	/* bucket ranges */
	nweights = n;
	switch (mode)
	{
		case 0:					/* no weights: equal */
			nweights = 0;
			break;
		case 1:					/* normalised weights: used as given */
			{
				double		sum = 0;

				for (i = 0; i < n; i++)
					sum += data[2 + i];
				for (i = 0; i < n; i++)
					weights[i] = sum > 0 ? data[2 + i] / sum : 1.0 / n;
				break;
			}
		case 2:					/* raw weights: often a sum outside [0.99, 1.01] */
			for (i = 0; i < n; i++)
				weights[i] = data[2 + i] / 255.0;
			break;
		default:				/* a count that is not n */
			nweights = n + 1;
			for (i = 0; i <= n; i++)
				weights[i] = 1.0 / (n + 1);
			break;
	}
	OrionGrowthbookBucketRanges(n, coverage, nweights ? weights : NULL, nweights, ranges);
	ReferenceRanges(n, coverage, nweights ? weights : NULL, nweights, want_ranges);
	for (i = 0; i < 2 * n; i++)
		FUZZ_CHECK(ranges[i] == want_ranges[i], "range bound %d: %.17g, reference %.17g",
				   i, ranges[i], want_ranges[i]);
	for (i = 0; i < n; i++)
	{
		FUZZ_CHECK(ranges[2 * i] <= ranges[2 * i + 1], "range %d is reversed", i);
		FUZZ_CHECK(i == 0 ? ranges[0] == 0 : ranges[2 * i] >= ranges[2 * i - 1],
				   "range %d overlaps its predecessor", i);
	}

	/* chooseVariation, for both hashes and the range bounds themselves */
	CheckChoice(hashes[0], ranges, n);
	CheckChoice(hashes[1], ranges, n);
	for (i = 0; i < 2 * n; i++)
		CheckChoice(ranges[i], ranges, n);

	/* full coverage, equal weights: every hash gets a variation */
	OrionGrowthbookBucketRanges(n, 1.0, NULL, 0, ranges);
	FUZZ_CHECK(OrionGrowthbookChooseVariation(hashes[0], ranges, n) >= 0 &&
			   OrionGrowthbookChooseVariation(hashes[1], ranges, n) >= 0,
			   "with full coverage and %d equal weights, hash %.17g or %.17g got no variation",
			   n, hashes[0], hashes[1]);

	free(seed);
	free(value);
	return 0;
}
