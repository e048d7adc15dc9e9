/*-------------------------------------------------------------------------
 *
 * flag_cache.h
 *	  The backend-local cache of flags and segments.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FLAG_CACHE_H
#define ORION_FLAG_CACHE_H

#include "common/table_cache.h"
#include "flags/flag_types.h"

/*
 * The backend's flag cache (flag_cache.c): pin its current filling (filled
 * first if stale) at an SQL entry point, look up in that filling only, and
 * unpin it once nothing returned points into it (table_cache.h).
 */
extern OrionCacheFilling *FlagCachePin(void);
extern void FlagCacheUnpin(OrionCacheFilling *flags);
extern Flag *FlagCacheLookup(const OrionCacheFilling *flags, const char *key);
extern FlagSegment *FlagCacheSegment(const OrionCacheFilling *flags, int id);
/* Every cached flag, for evaluate_all_flags; sets *count. */
extern Flag **FlagCacheAll(const OrionCacheFilling *flags, int *count);
extern void FlagCacheInit(void);

#endif							/* ORION_FLAG_CACHE_H */
