/*-------------------------------------------------------------------------
 *
 * ab_cache.c
 *	  The backend-local cache of AB tests.
 *
 * Assignment is on the hot path of every page view: the test's definition
 * (variants, weights, allocation, seed, dates) is read and parsed once per
 * backend, with its bucket ranges computed, and read again only after
 * orion_ab_testing.ab_tests changes (see table_cache.c).
 *
 * The rule that keeps its memory alive: an SQL entry point pins the
 * current filling (AbCachePin) before it looks a test up and unpins it when
 * nothing it returns points into it. Between the two it runs SPI (the
 * assignment's INSERT, whose triggers may call other evaluators) and an
 * index probe, either of which may refill the cache: the pinned filling
 * stays allocated.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "ab/ab_cache.h"
#include "ab/ab_test.h"
#include "ab/growthbook.h"
#include "common/key_memo.h"
#include "common/query.h"
#include "common/table_cache.h"


typedef struct AbEntry
{
	char		key[ORION_KEY_MAX_BYTES + 1];
	AbTest	   *test;
} AbEntry;

static void *Fill(MemoryContext cache_context);

static OrionTableCache tables = {
	.schema = "orion_ab_testing",
	.tables = {"ab_tests", NULL},
	.fill = Fill,
	.name = "orion AB test cache"
};

static OrionQuery load_tests = {
	"SELECT key::text, id, coalesce(active, false), start_date, end_date,"
	" traffic_allocation, coalesce(hash_seed, key::text), hash_version, variants"
	" FROM orion_ab_testing.ab_tests",
	0, {InvalidOid}, NULL
};

void
AbCacheInit(void)
{
	OrionTableCacheRegister(&tables);
}

/* Read ab_tests into a new filling's memory: the tests, by key. */
static void *
Fill(MemoryContext cache_context)
{
	MemoryContext old;
	HASHCTL		ctl;
	HTAB	   *tests_by_key;
	uint64		n;
	uint64		i;
	bool		isnull;
	int			nest_level;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = ORION_KEY_MAX_BYTES + 1;
	ctl.entrysize = sizeof(AbEntry);
	ctl.hcxt = cache_context;
	tests_by_key = hash_create("orion AB tests", 32, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = OrionQueryRun(&load_tests, NULL, NULL, true, 0);
	old = MemoryContextSwitchTo(cache_context);
	for (i = 0; i < n; i++)
	{
		AbTest	   *t = palloc0(sizeof(AbTest));
		Datum		d;
		AbEntry    *entry;
		bool		found;

		t->key = TextDatumGetCString(OrionQueryGet(i, 1, &isnull));
		memcpy(&t->id, DatumGetUUIDP(OrionQueryGet(i, 2, &isnull)), sizeof(pg_uuid_t));
		t->active = DatumGetBool(OrionQueryGet(i, 3, &isnull));
		d = OrionQueryGet(i, 4, &isnull);
		t->has_start = !isnull;
		if (!isnull)
			t->start_date = DatumGetTimestampTz(d);
		d = OrionQueryGet(i, 5, &isnull);
		t->has_end = !isnull;
		if (!isnull)
			t->end_date = DatumGetTimestampTz(d);
		t->traffic_allocation = DatumGetFloat8(OrionQueryGet(i, 6, &isnull));
		t->seed = TextDatumGetCString(OrionQueryGet(i, 7, &isnull));
		t->hash_version = DatumGetInt16(OrionQueryGet(i, 8, &isnull));
		d = OrionQueryGet(i, 9, &isnull);
		/* variants passed the CHECK; a test whose variants do not parse assigns nobody */
		if (isnull || AbParseVariants(DatumGetJsonbPCopy(d), t) != NULL)
			t->nvariants = 0;
		else
		{
			double	   *weights = palloc(sizeof(double) * t->nvariants);
			int			v;

			for (v = 0; v < t->nvariants; v++)
				weights[v] = t->variants[v].weight;
			t->ranges = palloc(sizeof(double) * 2 * t->nvariants);
			OrionGrowthbookBucketRanges(t->nvariants, t->traffic_allocation, weights,
										t->nvariants, t->ranges);
		}
		if (strlen(t->key) > ORION_KEY_MAX_BYTES)
			continue;
		entry = hash_search(tests_by_key, t->key, HASH_ENTER, &found);
		entry->test = t;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	return tests_by_key;
}

OrionCacheFilling *
AbCachePin(void)
{
	return OrionTableCachePin(&tables);
}

void
AbCacheUnpin(OrionCacheFilling *tests)
{
	OrionTableCacheUnpin(&tables, tests);
}

AbTest *
AbCacheLookup(const OrionCacheFilling *tests, const char *key)
{
	AbEntry    *entry;

	if (strlen(key) > ORION_KEY_MAX_BYTES)
		return NULL;
	entry = hash_search((HTAB *) tests->contents, key, HASH_FIND, NULL);
	return entry ? entry->test : NULL;
}
