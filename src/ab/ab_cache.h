/*-------------------------------------------------------------------------
 *
 * ab_cache.h
 *	  The backend-local cache of AB tests.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_AB_CACHE_H
#define ORION_AB_CACHE_H

#include "ab/ab_test.h"
#include "common/table_cache.h"

/*
 * The backend's AB test cache (ab_cache.c): pin its current filling
 * (filled first if stale), look tests up in it, and unpin it once nothing
 * returned points into it (table_cache.h).
 */
extern OrionCacheFilling *AbCachePin(void);
extern void AbCacheUnpin(OrionCacheFilling *tests);
/* The test of that key in the pinned filling, or NULL. */
extern AbTest *AbCacheLookup(const OrionCacheFilling *tests, const char *key);
extern void AbCacheInit(void);

#endif							/* ORION_AB_CACHE_H */
