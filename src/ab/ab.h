/*-------------------------------------------------------------------------
 *
 * ab.h
 *	  AB tests: the parsed form of a test, and its cache.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_AB_H
#define ORION_AB_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "common/table_cache.h"

typedef struct AbVariant
{
	char	   *key;
	double		weight;			/* normalised: the weights sum to 1 */
	bool		is_control;
} AbVariant;

typedef struct AbTest
{
	char	   *key;			/* hash key: must stay first */
	pg_uuid_t	id;
	bool		active;
	bool		has_start;
	TimestampTz start_date;
	bool		has_end;
	TimestampTz end_date;
	double		traffic_allocation;
	char	   *seed;			/* hash_seed, or the key */
	int			hash_version;
	int			nvariants;
	AbVariant  *variants;
	int			control;		/* index of the control variant */
	double	   *ranges;			/* GrowthBook bucket ranges, 2 per variant */
} AbTest;

/*
 * Parse a variants array into test->variants, normalising weights and
 * finding the control. Returns NULL, or a message naming the problem.
 */
extern char *AbParseVariants(Jsonb *variants, AbTest *test);

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

/*
 * The variant a user gets, before stickiness: NULL when the test is not
 * running now or the user falls outside its traffic allocation.
 */
extern const AbVariant *AbChooseVariant(const AbTest *test, const char *user_id_text);

/* Whether the test is running at the current transaction's time. */
extern bool AbTestRunning(const AbTest *test);

#endif							/* ORION_AB_H */
