/*-------------------------------------------------------------------------
 *
 * timing_safe.h
 *	  Comparing secrets in time that tells nothing about them.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/timing_safe.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_TIMING_SAFE_H
#define ORION_TIMING_SAFE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Compare len bytes in time that depends on len only, so the time a
 * mismatch takes tells nothing about where it is.
 */
static inline bool
OrionTimingSafeEqual(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a;
	const volatile unsigned char *y = b;
	unsigned char diff = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

#endif							/* ORION_TIMING_SAFE_H */
