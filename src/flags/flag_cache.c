/*-------------------------------------------------------------------------
 *
 * flag_cache.c
 *	  The backend-local cache of parsed feature flags and segments.
 *
 * The first evaluation in a backend reads orion_feature_flags.feature_flags
 * and segments once, parses every rollout, and keeps the result in a memory
 * context of its own; later evaluations touch no table and parse no JSON.
 *
 * When it is stale (a change to either table, see table_cache.c), the next
 * evaluation fills it anew.
 *
 * The rule that keeps its memory alive: an SQL entry point pins the
 * current filling (FlagCachePin) before it looks up a flag, hands it to
 * the evaluation in the FlagContext, and unpins it when its answer no
 * longer points into it. Segments, parent flags and evaluate_all_flags'
 * list are read from that filling only, so nothing an evaluation does (SPI
 * for the user's attributes, a nested evaluation) can free what it reads.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "common/key_memo.h"
#include "common/query.h"
#include "common/table_cache.h"
#include "flags/flag_cache.h"
#include "flags/flag_parse.h"


typedef struct FlagEntry
{
	char		key[ORION_KEY_MAX_BYTES + 1];
	Flag	   *flag;
} FlagEntry;

typedef struct SegmentEntry
{
	int			id;
	FlagSegment *segment;
} SegmentEntry;

/* One filling's contents, allocated in the filling's memory context. */
typedef struct FlagCacheContents
{
	HTAB	   *flags_by_key;
	HTAB	   *segments_by_id;
	Flag	  **flags_in_order;
	int			nflags;
} FlagCacheContents;

static void *Fill(MemoryContext cache_context);

static OrionTableCache tables = {
	.schema = "orion_feature_flags",
	.tables = {"feature_flags", "segments", NULL},
	.fill = Fill,
	.name = "orion flag cache"
};

static OrionQuery load_flags = {
	"SELECT key::text, coalesce(enabled, false), rollout, config"
	" FROM orion_feature_flags.feature_flags ORDER BY key",
	0, {InvalidOid}, NULL
};

static OrionQuery load_segments = {
	"SELECT id, constraints FROM orion_feature_flags.segments",
	0, {InvalidOid}, NULL
};

void
FlagCacheInit(void)
{
	OrionTableCacheRegister(&tables);
}

/* Read both tables and parse every rollout into a new filling's memory. */
static void *
Fill(MemoryContext cache_context)
{
	FlagCacheContents *contents = MemoryContextAllocZero(cache_context, sizeof(FlagCacheContents));
	MemoryContext old;
	HASHCTL		ctl;
	HTAB	   *flags_by_key;
	HTAB	   *segments_by_id;
	Flag	  **flags_in_order;
	int			nflags = 0;
	uint64		i;
	uint64		n;
	bool		isnull;
	int			nest_level;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = ORION_KEY_MAX_BYTES + 1;
	ctl.entrysize = sizeof(FlagEntry);
	ctl.hcxt = cache_context;
	flags_by_key = hash_create("orion flags", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int);
	ctl.entrysize = sizeof(SegmentEntry);
	ctl.hcxt = cache_context;
	segments_by_id = hash_create("orion segments", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	n = OrionQueryRun(&load_flags, NULL, NULL, true, 0);
	old = MemoryContextSwitchTo(cache_context);
	flags_in_order = palloc0(sizeof(Flag *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		Flag	   *flag = palloc0(sizeof(Flag));
		Datum		rollout;
		Datum		config;
		FlagEntry  *entry;
		bool		found;

		flag->key = TextDatumGetCString(OrionQueryGet(i, 1, &isnull));
		flag->enabled = DatumGetBool(OrionQueryGet(i, 2, &isnull));
		rollout = OrionQueryGet(i, 3, &isnull);
		/* no rollout: the original platform's "on for everyone when enabled" */
		flag->has_strategies = true;
		if (!isnull)
		{
			/* a stored rollout passed the CHECK; one that still fails is reported per call */
			if (FlagParseRollout(DatumGetJsonbPCopy(rollout), flag->key, flag) != NULL)
				flag->broken = true;
		}
		config = OrionQueryGet(i, 4, &isnull);
		if (!isnull)
			flag->config = DatumGetJsonbPCopy(config);

		if (strlen(flag->key) > ORION_KEY_MAX_BYTES)
			continue;
		entry = hash_search(flags_by_key, flag->key, HASH_ENTER, &found);
		entry->flag = flag;
		flags_in_order[nflags++] = flag;
	}
	MemoryContextSwitchTo(old);

	n = OrionQueryRun(&load_segments, NULL, NULL, true, 0);
	old = MemoryContextSwitchTo(cache_context);
	for (i = 0; i < n; i++)
	{
		FlagSegment *segment = palloc0(sizeof(FlagSegment));
		Datum		constraints;
		SegmentEntry *entry;
		bool		found;

		segment->id = DatumGetInt32(OrionQueryGet(i, 1, &isnull));
		constraints = OrionQueryGet(i, 2, &isnull);
		/* a segment that cannot be read matches nobody */
		if (isnull ||
			FlagParseSegment(DatumGetJsonbPCopy(constraints), segment) != NULL)
			continue;
		entry = hash_search(segments_by_id, &segment->id, HASH_ENTER, &found);
		entry->segment = segment;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	OrionUnpinSearchPath(nest_level);

	contents->flags_by_key = flags_by_key;
	contents->segments_by_id = segments_by_id;
	contents->flags_in_order = flags_in_order;
	contents->nflags = nflags;
	return contents;
}

OrionCacheFilling *
FlagCachePin(void)
{
	return OrionTableCachePin(&tables);
}

void
FlagCacheUnpin(OrionCacheFilling *flags)
{
	OrionTableCacheUnpin(&tables, flags);
}

Flag *
FlagCacheLookup(const OrionCacheFilling *flags, const char *key)
{
	FlagCacheContents *contents = flags->contents;
	FlagEntry  *entry;

	if (strlen(key) > ORION_KEY_MAX_BYTES)
		return NULL;
	entry = hash_search(contents->flags_by_key, key, HASH_FIND, NULL);
	return entry ? entry->flag : NULL;
}

FlagSegment *
FlagCacheSegment(const OrionCacheFilling *flags, int id)
{
	FlagCacheContents *contents = flags->contents;
	SegmentEntry *entry;

	entry = hash_search(contents->segments_by_id, &id, HASH_FIND, NULL);
	return entry ? entry->segment : NULL;
}

Flag **
FlagCacheAll(const OrionCacheFilling *flags, int *count)
{
	FlagCacheContents *contents = flags->contents;

	*count = contents->nflags;
	return contents->flags_in_order;
}
