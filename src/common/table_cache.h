/*-------------------------------------------------------------------------
 *
 * table_cache.h
 *	  Knowing when a backend-local cache of some tables' contents is stale.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/table_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_TABLE_CACHE_H
#define ORION_TABLE_CACHE_H

#define ORION_TABLE_CACHE_MAX_TABLES 4

/*
 * One filling of a cache with contents: everything it made lives in mcxt
 * (this struct too), which stays allocated while the filling is current or
 * pinned. See "Keeping a filling alive" in table_cache.c.
 */
typedef struct OrionCacheFilling
{
	MemoryContext mcxt;
	uint64		generation;		/* the cache's generation when it was made */
	int			pins;
	void	   *contents;		/* what the cache's fill function returned */
	struct OrionCacheFilling *next; /* in the cache's list of retired fillings */
} OrionCacheFilling;

/*
 * One cache: the tables its contents come from, and the bookkeeping that
 * says whether it still matches them. Declare it static, with schema and
 * tables set, and register it once from _PG_init.
 */
typedef struct OrionTableCache
{
	const char *schema;
	const char *tables[ORION_TABLE_CACHE_MAX_TABLES];	/* NULL-terminated */
	/*
	 * A cache with contents sets fill: it reads the tables (through SPI,
	 * with the snapshot BeginFill sets) and returns its structures,
	 * allocated in mcxt. Caches without (index probes) leave it NULL and
	 * bracket their own lookups with BeginFill and EndFill.
	 */
	void	   *(*fill) (MemoryContext mcxt);
	const char *name;			/* of fill's memory context, for memory dumps */
	/* bookkeeping */
	Oid			relids[ORION_TABLE_CACHE_MAX_TABLES];
	uint64		invalidations;
	uint64		filled_at;
	bool		transient;		/* filled with a snapshot older than the mark */
	bool		pushed_snapshot;	/* a filling pushed its own snapshot */
	OrionCacheFilling *current; /* with fill: the newest filling, or NULL */
	OrionCacheFilling *retired; /* older fillings still pinned */
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

/*
 * For a cache with fill: the current filling, filled first when stale, and
 * pinned. Its memory stays allocated, whatever refill a nested call or an
 * invalidation causes meanwhile, until the matching Unpin, or the end of
 * the transaction when an error skips the Unpin. Every lookup that an
 * evaluation makes reads the filling it pinned at its start, never the
 * cache anew.
 */
extern OrionCacheFilling *OrionTableCachePin(OrionTableCache *cache);
extern void OrionTableCacheUnpin(OrionTableCache *cache, OrionCacheFilling *filling);

/* Which filling is current: changes whenever the cache is filled anew. */
extern uint64 OrionTableCacheGeneration(OrionTableCache *cache);

#endif							/* ORION_TABLE_CACHE_H */
