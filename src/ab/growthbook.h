/*-------------------------------------------------------------------------
 *
 * growthbook.h
 *	  GrowthBook's deterministic bucketing: hash, bucket ranges, variation.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/growthbook.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_GROWTHBOOK_H
#define ORION_GROWTHBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a 32-bit over the UTF-16 code units of UTF-8 text, as JavaScript. */
extern uint32_t OrionFnv1a32(const char *utf8, size_t len);

/*
 * GrowthBook's hash(seed, value, version) in [0, 1): version 1 is
 * fnv1a32(value + seed) % 1000 / 1000, version 2 is
 * fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000. False for another
 * version (GrowthBook returns null: no assignment).
 */
extern bool OrionGrowthbookHash(const char *seed, size_t seedlen,
								const char *value, size_t valuelen,
								int version, double *out);

/*
 * getBucketRanges(n, coverage, weights): n [start, end) ranges into ranges
 * (2 doubles each). weights (may be NULL) fall back to equal weights when
 * their count is not n or their sum is outside [0.99, 1.01].
 */
extern void OrionGrowthbookBucketRanges(int n, double coverage,
										const double *weights, int nweights,
										double *ranges);

/* chooseVariation: the first range holding hash, or -1. */
extern int	OrionGrowthbookChooseVariation(double hash, const double *ranges, int n);

#endif							/* ORION_GROWTHBOOK_H */
