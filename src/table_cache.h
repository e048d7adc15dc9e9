/*-------------------------------------------------------------------------
 *
 * table_cache.h
 *	  Knowing when a backend-local cache of some tables' contents is stale.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/table_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_TABLE_CACHE_H
#define ORION_TABLE_CACHE_H

#define ORION_TABLE_CACHE_MAX_TABLES 4

/*
 * One cache: the tables its contents come from, and the bookkeeping that
 * says whether it still matches them. Declare it static, with schema and
 * tables set, and register it once from _PG_init.
 */
typedef struct OrionTableCache
{
	const char *schema;
	const char *tables[ORION_TABLE_CACHE_MAX_TABLES];	/* NULL-terminated */
	/* bookkeeping */
	Oid			relids[ORION_TABLE_CACHE_MAX_TABLES];
	uint64		invalidations;
	uint64		filled_at;
	bool		transient;		/* filled with a snapshot older than the mark */
	bool		pushed_snapshot;	/* a filling pushed its own snapshot */
	struct OrionTableCache *next;
} OrionTableCache;

extern void OrionTableCacheRegister(OrionTableCache *cache);

/* Whether the cache must be filled (again) before use. */
extern bool OrionTableCacheStale(OrionTableCache *cache);

/*
 * Bracket a filling: Begin looks the tables up, locks them, and makes a
 * snapshot taken now the active one for the filling's reads (see
 * table_cache.c); it returns a mark that End takes. An invalidation
 * arriving in between leaves the cache stale.
 */
extern uint64 OrionTableCacheBeginFill(OrionTableCache *cache);
extern void OrionTableCacheEndFill(OrionTableCache *cache, uint64 mark);

/* Which filling is current: changes whenever the cache is filled anew. */
extern uint64 OrionTableCacheGeneration(OrionTableCache *cache);

#endif							/* ORION_TABLE_CACHE_H */
