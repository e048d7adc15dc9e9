/*-------------------------------------------------------------------------
 *
 * table_cache.c
 *	  Knowing when a backend-local cache of some tables' contents is stale.
 *
 * orion keeps parsed feature flags and AB tests in backend memory. Their
 * tables carry a statement-level trigger, orion.cache_invalidate(), that
 * sends a relcache invalidation for the table: every backend receives it
 * when the changing transaction commits, the changing backend at its next
 * command, and an aborted change reaches the changing backend too. The one
 * relcache callback here marks every cache built from that table stale.
 *
 * Invalidations reach a backend when it takes a lock it did not hold, and
 * at transaction start; inside a transaction that already holds the
 * tables' locks, nothing would bring them in. So the first check of a new
 * statement takes them in (AcceptInvalidationMessages), and a change
 * committed by another session is seen at the next statement, in a
 * transaction block too.
 *
 * A filling locks the tables first, then takes the mark, then reads with a
 * snapshot taken after both: every change whose invalidation came before
 * the mark is in what it reads, and any later one marks the cache stale
 * again. (Reading with the statement's older snapshot, a filling could
 * consume an invalidation without seeing its change, and be trusted.)
 * Under REPEATABLE READ or SERIALIZABLE, and in a parallel worker, the
 * filling reads with the transaction's snapshot, which may predate changes
 * already committed; such a cache is marked stale when the transaction
 * ends.
 *
 * Keeping a filling alive. A cache with contents (flags, AB tests) keeps
 * each filling in a memory context of its own. An evaluation pins the
 * current filling at its SQL entry point and does every lookup in it until
 * it unpins: a nested lookup during the evaluation (a segment, a parent
 * flag) never refills, and a refill made by anything else meanwhile (an
 * SPI statement whose first lock takes in an invalidation, then a nested
 * call of another evaluator, from a trigger or a row-level security
 * policy) makes a new filling and retires the old one, which is freed only
 * when its last pin goes. 0.7.0 reset the one context instead, and an
 * evaluation that read the user's email and then looked up a segment used
 * freed memory. A filling is built in a child of the caller's memory
 * context and moved under CacheMemoryContext only when complete, so one
 * that fails midway is freed with the statement. Pins do not outlive the
 * transaction: no evaluation spans a transaction's end, so at its end
 * every pin left by an error is dropped and the retired fillings freed.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/table_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "common/compat.h"
#include "common/table_cache.h"

static OrionTableCache *caches = NULL;

static void
RelcacheCallback(Datum arg, Oid relid)
{
	OrionTableCache *c;
	int			i;

	for (c = caches; c != NULL; c = c->next)
		for (i = 0; i < ORION_TABLE_CACHE_MAX_TABLES && c->tables[i] != NULL; i++)
			if (relid == InvalidOid || relid == c->relids[i])
			{
				c->invalidations++;
				break;
			}
}

/* Free a filling nobody pins any more, or keep it in the retired list. */
static void
Retire(OrionTableCache *cache, OrionCacheFilling *filling)
{
	if (filling == NULL)
		return;
	if (filling->pins > 0)
	{
		filling->next = cache->retired;
		cache->retired = filling;
	}
	else
		MemoryContextDelete(filling->mcxt);
}

/* End of transaction: every pin is gone, with the evaluations that took them. */
static void
DropPins(OrionTableCache *cache)
{
	OrionCacheFilling *f = cache->retired;

	cache->retired = NULL;
	while (f != NULL)
	{
		OrionCacheFilling *next = f->next;

		MemoryContextDelete(f->mcxt);
		f = next;
	}
	if (cache->current != NULL)
		cache->current->pins = 0;
}

static void
TransactionEnd(XactEvent event, void *arg)
{
	OrionTableCache *c;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	for (c = caches; c != NULL; c = c->next)
	{
		if (c->transient)
		{
			c->invalidations++;
			c->transient = false;
		}
		DropPins(c);
	}
}

void
OrionTableCacheRegister(OrionTableCache *cache)
{
	if (caches == NULL)
	{
		CacheRegisterRelcacheCallback(RelcacheCallback, (Datum) 0);
		RegisterXactCallback(TransactionEnd, NULL);
	}
	cache->filled_at = PG_UINT64_MAX;
	cache->next = caches;
	caches = cache;
}

/* Take in other sessions' invalidations once per statement. */
static void
TakeInCommittedChanges(void)
{
	static LocalTransactionId checked_lxid = InvalidLocalTransactionId;
	static TimestampTz checked_statement = 0;
	TimestampTz statement = GetCurrentStatementStartTimestamp();

	if (ORION_MY_LXID != checked_lxid || statement != checked_statement)
	{
		checked_lxid = ORION_MY_LXID;
		checked_statement = statement;
		AcceptInvalidationMessages();
	}
}

bool
OrionTableCacheStale(OrionTableCache *cache)
{
	TakeInCommittedChanges();
	return cache->filled_at != cache->invalidations;
}

uint64
OrionTableCacheBeginFill(OrionTableCache *cache)
{
	Oid			namespace = get_namespace_oid(cache->schema, false);
	int			i;

	cache->filled_at = PG_UINT64_MAX;
	for (i = 0; i < ORION_TABLE_CACHE_MAX_TABLES && cache->tables[i] != NULL; i++)
	{
		cache->relids[i] = get_relname_relid(cache->tables[i], namespace);
		/* what the filling's statement would lock; taking it brings invalidations in */
		if (OidIsValid(cache->relids[i]))
			LockRelationOid(cache->relids[i], AccessShareLock);
	}
	AcceptInvalidationMessages();
	cache->transient = IsolationUsesXactSnapshot() || IsInParallelMode();
	cache->pushed_snapshot = !cache->transient;
	if (cache->pushed_snapshot)
		PushActiveSnapshot(GetLatestSnapshot());
	return cache->invalidations;
}

void
OrionTableCacheEndFill(OrionTableCache *cache, uint64 mark)
{
	if (cache->pushed_snapshot)
		PopActiveSnapshot();
	cache->pushed_snapshot = false;
	/* valid unless an invalidation arrived while filling */
	cache->filled_at = mark;
}

/* Read the tables into a new filling, which becomes the current one. */
static void
Refill(OrionTableCache *cache)
{
	MemoryContext mcxt = AllocSetContextCreate(CurrentMemoryContext, "orion table cache",
											   ALLOCSET_DEFAULT_SIZES);
	OrionCacheFilling *filling;
	uint64		mark;

	MemoryContextSetIdentifier(mcxt, cache->name);
	filling = MemoryContextAllocZero(mcxt, sizeof(OrionCacheFilling));
	filling->mcxt = mcxt;
	mark = OrionTableCacheBeginFill(cache);
	filling->contents = cache->fill(mcxt);
	OrionTableCacheEndFill(cache, mark);
	filling->generation = cache->filled_at;
	/* complete: from now on it lives as long as it is current or pinned */
	MemoryContextSetParent(mcxt, CacheMemoryContext);
	Retire(cache, cache->current);
	cache->current = filling;
}

OrionCacheFilling *
OrionTableCachePin(OrionTableCache *cache)
{
	Assert(cache->fill != NULL);
	if (OrionTableCacheStale(cache) || cache->current == NULL)
		Refill(cache);
	cache->current->pins++;
	return cache->current;
}

void
OrionTableCacheUnpin(OrionTableCache *cache, OrionCacheFilling *filling)
{
	OrionCacheFilling **link;

	Assert(filling->pins > 0);
	if (--filling->pins > 0 || filling == cache->current)
		return;
	for (link = &cache->retired; *link != NULL; link = &(*link)->next)
		if (*link == filling)
		{
			*link = filling->next;
			MemoryContextDelete(filling->mcxt);
			return;
		}
	elog(ERROR, "orion: unpinned a cache filling that is neither current nor retired");
}

uint64
OrionTableCacheGeneration(OrionTableCache *cache)
{
	return cache->filled_at;
}

/*
 * Trigger orion.cache_invalidate(), FOR EACH STATEMENT on the tables orion
 * caches: tell every backend that the table changed.
 */
PG_FUNCTION_INFO_V1(orion_cache_invalidate);
Datum
orion_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.cache_invalidate() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
