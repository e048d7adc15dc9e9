/*-------------------------------------------------------------------------
 *
 * growthbook.c
 *	  GrowthBook's deterministic bucketing: hash, bucket ranges, variation.
 *
 * Written from GrowthBook's SDK (packages/sdk-js/src/util.ts) so that a user
 * assigned in the database gets the variation a GrowthBook SDK gives: the
 * same FNV-1a over UTF-16 code units, the same double arithmetic in the same
 * order. Pure C, no server calls, so it can be fuzzed on its own.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/growthbook.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "ab/growthbook.h"

#define FNV_OFFSET	0x811c9dc5u
#define FNV_PRIME	0x01000193u

/* Fold one UTF-16 code unit into h. */
static inline uint32_t
Fold(uint32_t h, uint32_t unit)
{
	return (h ^ unit) * FNV_PRIME;
}

/*
 * FNV-1a over the UTF-16 code units of s, continuing from h. JavaScript
 * strings are UTF-16: a code point above U+FFFF is two units (a surrogate
 * pair), and each unit is XORed whole. Input is valid UTF-8 (the database
 * checked it); a stray byte counts as one unit.
 */
static uint32_t
FoldUtf8(uint32_t h, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		uint32_t	cp;
		int			extra;

		if (*p < 0x80)
			cp = *p, extra = 0;
		else if ((*p & 0xE0) == 0xC0)
			cp = *p & 0x1F, extra = 1;
		else if ((*p & 0xF0) == 0xE0)
			cp = *p & 0x0F, extra = 2;
		else if ((*p & 0xF8) == 0xF0)
			cp = *p & 0x07, extra = 3;
		else
			cp = *p, extra = 0;
		p++;
		while (extra-- > 0 && p < end)
			cp = (cp << 6) | (*p++ & 0x3F);

		if (cp >= 0x10000)
		{
			cp -= 0x10000;
			h = Fold(h, 0xD800 + (cp >> 10));
			h = Fold(h, 0xDC00 + (cp & 0x3FF));
		}
		else
			h = Fold(h, cp);
	}
	return h;
}

uint32_t
OrionFnv1a32(const char *utf8, size_t len)
{
	return FoldUtf8(FNV_OFFSET, utf8, len);
}

bool
OrionGrowthbookHash(const char *seed, size_t seedlen, const char *value, size_t valuelen,
					int version, double *out)
{
	if (version == 1)
	{
		/* fnv1a32(value + seed) */
		uint32_t	h = FoldUtf8(FoldUtf8(FNV_OFFSET, value, valuelen), seed, seedlen);

		*out = (double) (h % 1000) / 1000.0;
		return true;
	}
	if (version == 2)
	{
		/* fnv1a32(String(fnv1a32(seed + value))) */
		uint32_t	inner = FoldUtf8(FoldUtf8(FNV_OFFSET, seed, seedlen), value, valuelen);
		char		digits[16];
		int			n = snprintf(digits, sizeof(digits), "%u", (unsigned) inner);
		uint32_t	h = FoldUtf8(FNV_OFFSET, digits, (size_t) n);

		*out = (double) (h % 10000) / 10000.0;
		return true;
	}
	return false;
}

void
OrionGrowthbookBucketRanges(int n, double coverage, const double *weights, int nweights,
							double *ranges)
{
	double		cumulative = 0;
	double		total = 0;
	bool		equal = (weights == NULL || nweights != n);
	int			i;

	if (coverage < 0)
		coverage = 0;
	else if (coverage > 1)
		coverage = 1;

	if (!equal)
	{
		for (i = 0; i < n; i++)
			total += weights[i];
		if (total < 0.99 || total > 1.01)
			equal = true;
	}
	for (i = 0; i < n; i++)
	{
		double		w = equal ? 1.0 / n : weights[i];
		double		start = cumulative;

		cumulative += w;
		ranges[2 * i] = start;
		ranges[2 * i + 1] = start + coverage * w;
	}
}

int
OrionGrowthbookChooseVariation(double hash, const double *ranges, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (hash >= ranges[2 * i] && hash < ranges[2 * i + 1])
			return i;
	return -1;
}
