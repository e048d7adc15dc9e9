/*-------------------------------------------------------------------------
 *
 * ab_test.h
 *	  AB tests: the parsed form of a test.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_test.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_AB_TEST_H
#define ORION_AB_TEST_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

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
 * The variant a user gets, before stickiness: NULL when the test is not
 * running now or the user falls outside its traffic allocation.
 */
extern const AbVariant *AbChooseVariant(const AbTest *test, const char *user_id_text);

/* Whether the test is running at the current transaction's time. */
extern bool AbTestRunning(const AbTest *test);

#endif							/* ORION_AB_TEST_H */
