/*-------------------------------------------------------------------------
 *
 * ab.c
 *	  AB testing: deterministic, sticky assignment compatible with
 *	  GrowthBook, conversions, and the validation of a test's variants.
 *
 * A user's variant is GrowthBook's: n = hash(seed, user id, version), and
 * the variant whose bucket range holds n, the ranges coming from the
 * variants' weights and the test's traffic allocation (GrowthBook's
 * coverage trims each variant's slot, so inclusion and the variant do not
 * come from one shared bucket the way the original platform's did).
 *
 * Sticky: the first assignment is stored (one row per user and test, by the
 * unique key), and from then on the stored variant is the answer, whatever
 * the weights become. peek_variant gives the same answer without writing.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "ab/ab_cache.h"
#include "ab/ab_store.h"
#include "ab/ab_test.h"
#include "ab/growthbook.h"
#include "common/key_memo.h"
#include "common/query.h"
#include "common/request.h"
#include "common/validate.h"

static OrionQuery insert_assignment = {
	"INSERT INTO orion_ab_testing.ab_test_assignments (user_id, test_id, variant)"
	" VALUES ($1, $2, $3) ON CONFLICT (user_id, test_id) DO NOTHING RETURNING variant::text",
	3, {UUIDOID, UUIDOID, TEXTOID}, NULL
};

static OrionQuery insert_conversion = {
	"INSERT INTO orion_ab_testing.ab_test_conversions (test_id, user_id, variant, event, value)"
	" VALUES ($1, $2, $3, $4, $5)",
	5, {UUIDOID, UUIDOID, TEXTOID, TEXTOID, NUMERICOID}, NULL
};

/*
 * The test_key argument's test, or NULL when no such test exists, in the
 * AB cache filling pinned into *tests, which the caller unpins once done
 * with the test. The call site remembers the test between calls
 * (key_memo.h), and uses it only while its filling is current.
 */
static AbTest *
TestArg(FunctionCallInfo fcinfo, OrionCacheFilling **tests)
{
	OrionKeyMemo *memo = (OrionKeyMemo *) fcinfo->flinfo->fn_extra;
	uint64		generation;
	text	   *key;
	void	   *test;
	char		buf[ORION_KEY_MAX_BYTES + 1];

	ORION_REQUIRE_ARG(fcinfo, 0, "test_key");
	ORION_REQUIRE_ARG(fcinfo, 1, "user_id");
	*tests = AbCachePin();
	key = PG_GETARG_TEXT_PP(0);
	if (VARSIZE_ANY_EXHDR(key) > ORION_KEY_MAX_BYTES)
		return NULL;			/* no test has so long a key */
	if (memo == NULL)
		memo = fcinfo->flinfo->fn_extra = OrionKeyMemoCreate(fcinfo->flinfo->fn_mcxt);
	generation = (*tests)->generation;
	if (OrionKeyMemoGet(memo, generation, key, &test))
		return test;
	OrionKeyCString(key, buf);
	test = AbCacheLookup(*tests, buf);
	OrionKeyMemoSet(memo, generation, key, test);
	return test;
}

static char *
UserIdText(pg_uuid_t *user_id)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(user_id)));
}

/*
 * The sticky assignment of user_id to a running test: the stored variant,
 * or a new one inserted, or NULL. test is pinned by the caller: the INSERT's
 * triggers may refill the AB cache.
 */
static text *
Assign(const AbTest *test, pg_uuid_t *user_id)
{
	char	   *user_text;
	const AbVariant *chosen;
	text	   *result;
	Datum		values[3];
	bool		isnull;
	bool		inserted;
	Datum		stored = (Datum) 0;

	/* sticky: a stored assignment is the answer */
	result = AbStoredVariant(&test->id, user_id, false);
	if (result != NULL)
		return result;

	user_text = UserIdText(user_id);
	chosen = AbChooseVariant(test, user_text);
	if (chosen == NULL)
		return NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = UUIDPGetDatum(user_id);
	values[1] = UUIDPGetDatum(&test->id);
	values[2] = CStringGetTextDatum(chosen->key);
	inserted = OrionQueryRun(&insert_assignment, values, NULL, false, 1) == 1;
	/* the assignment's NOTIFY comes from orion.notify_cache() on the table */
	if (inserted)
		stored = SPI_datumTransfer(OrionQueryGet(0, 1, &isnull), false, -1);
	SPI_finish();
	/*
	 * Only now: DatumGetTextP may copy a short varlena, and a copy made
	 * while connected would live in SPI's memory, freed by SPI_finish.
	 */
	if (inserted)
		return DatumGetTextP(stored);
	return AbStoredVariant(&test->id, user_id, true);	/* another session's answer stands */
}

/*
 * orion.assign_variant(test_key text, user_id uuid) returns text
 */
PG_FUNCTION_INFO_V1(orion_assign_variant);
Datum
orion_assign_variant(PG_FUNCTION_ARGS)
{
	OrionCacheFilling *tests;
	AbTest	   *test = TestArg(fcinfo, &tests);
	text	   *result = NULL;

	if (test != NULL && AbTestRunning(test))
		result = Assign(test, PG_GETARG_UUID_P(1));
	AbCacheUnpin(tests);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}

/*
 * orion.peek_variant(test_key text, user_id uuid) returns text
 *
 * assign_variant's answer, without writing: the stored variant, or the one
 * the user would get.
 */
PG_FUNCTION_INFO_V1(orion_peek_variant);
Datum
orion_peek_variant(PG_FUNCTION_ARGS)
{
	OrionCacheFilling *tests;
	AbTest	   *test = TestArg(fcinfo, &tests);
	pg_uuid_t  *user_id = PG_GETARG_UUID_P(1);
	const AbVariant *chosen;
	text	   *result = NULL;

	if (test != NULL && AbTestRunning(test))
	{
		result = AbStoredVariant(&test->id, user_id, false);
		if (result == NULL)
		{
			chosen = AbChooseVariant(test, UserIdText(user_id));
			if (chosen != NULL)
				result = cstring_to_text(chosen->key);
		}
	}
	AbCacheUnpin(tests);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}

/*
 * orion.track_conversion(test_key text, user_id uuid, event text,
 *						  value numeric) returns boolean
 *
 * Records a conversion of an assigned user, under the variant they were
 * assigned. False, recording nothing, for an unknown test or a user the
 * test never assigned.
 */
PG_FUNCTION_INFO_V1(orion_track_conversion);
Datum
orion_track_conversion(PG_FUNCTION_ARGS)
{
	OrionCacheFilling *tests;
	AbTest	   *test = TestArg(fcinfo, &tests);
	pg_uuid_t  *user_id = PG_GETARG_UUID_P(1);
	pg_uuid_t	test_id;
	text	   *event;
	text	   *variant;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	ORION_REQUIRE_ARG(fcinfo, 2, "event");
	event = PG_GETARG_TEXT_PP(2);
	if (VARSIZE_ANY_EXHDR(event) == 0 ||
		pg_mbstrlen_with_len(VARDATA_ANY(event), VARSIZE_ANY_EXHDR(event)) > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event must have from 1 to 100 characters")));
	/* only the id is needed: a copy, so the filling is unpinned at once */
	if (test != NULL)
		test_id = test->id;
	AbCacheUnpin(tests);
	if (test == NULL)
		PG_RETURN_BOOL(false);

	variant = AbStoredVariant(&test_id, user_id, false);
	if (variant == NULL)
		PG_RETURN_BOOL(false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = UUIDPGetDatum(&test_id);
	values[1] = UUIDPGetDatum(user_id);
	values[2] = PointerGetDatum(variant);
	values[3] = PointerGetDatum(event);
	if (PG_ARGISNULL(3))
		nulls[4] = 'n';
	else
		values[4] = PG_GETARG_DATUM(3);
	OrionQueryRun(&insert_conversion, values, nulls, false, 0);
	SPI_finish();
	PG_RETURN_BOOL(true);
}

static char *
ParseVariants(Jsonb *json)
{
	AbTest		parsed;

	memset(&parsed, 0, sizeof(parsed));
	return AbParseVariants(json, &parsed);
}

/*
 * orion.validate_variants(variants jsonb) returns boolean
 *
 * True, or an ERROR naming the problem. The CHECK of ab_tests.variants
 * calls it.
 */
PG_FUNCTION_INFO_V1(orion_validate_variants);
Datum
orion_validate_variants(PG_FUNCTION_ARGS)
{
	char	   *problem = OrionParseForVerdict(ParseVariants, PG_GETARG_JSONB_P(0));

	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid AB test variants: %s", problem),
				 errhint("Variants are [{\"key\", \"name\", \"weight\", \"isControl\", \"config\"}, ...].")));
	PG_RETURN_BOOL(true);
}

/*
 * orion.growthbook_hash(seed text, value text, version integer)
 *	 returns double precision
 */
PG_FUNCTION_INFO_V1(orion_growthbook_hash);
Datum
orion_growthbook_hash(PG_FUNCTION_ARGS)
{
	text	   *seed = PG_GETARG_TEXT_PP(0);
	text	   *value = PG_GETARG_TEXT_PP(1);
	double		n;

	if (!OrionGrowthbookHash(VARDATA_ANY(seed), VARSIZE_ANY_EXHDR(seed),
							 VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
							 PG_GETARG_INT32(2), &n))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(n);
}

/*
 * orion.growthbook_bucket_ranges(num_variations integer, coverage double
 *	 precision, weights double precision[]) returns double precision[]
 *
 * A num_variations x 2 array of [start, end) ranges.
 */
PG_FUNCTION_INFO_V1(orion_growthbook_bucket_ranges);
Datum
orion_growthbook_bucket_ranges(PG_FUNCTION_ARGS)
{
	int			n;
	double		coverage;
	double	   *weights = NULL;
	int			nweights = 0;
	double	   *ranges;
	Datum	   *elems;
	int			dims[2];
	int			lbs[2] = {1, 1};
	int			i;

	ORION_REQUIRE_ARG(fcinfo, 0, "num_variations");
	ORION_REQUIRE_ARG(fcinfo, 1, "coverage");
	n = PG_GETARG_INT32(0);
	coverage = PG_GETARG_FLOAT8(1);
	if (n < 0 || n > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("num_variations must be from 0 to 1000")));
	if (isnan(coverage))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coverage must be a number")));
	if (!PG_ARGISNULL(2))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(2);
		Datum	   *wd;
		bool	   *wnulls;

		if (ARR_NDIM(a) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weights must be a one-dimensional array")));
		deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &wd, &wnulls, &nweights);
		weights = palloc(sizeof(double) * Max(nweights, 1));
		for (i = 0; i < nweights; i++)
		{
			if (wnulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("weights must not contain NULL")));
			weights[i] = DatumGetFloat8(wd[i]);
		}
	}

	if (n == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(FLOAT8OID));
	ranges = palloc(sizeof(double) * 2 * n);
	OrionGrowthbookBucketRanges(n, coverage, weights, nweights, ranges);
	elems = palloc(sizeof(Datum) * 2 * n);
	for (i = 0; i < 2 * n; i++)
		elems[i] = Float8GetDatum(ranges[i]);
	dims[0] = n;
	dims[1] = 2;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, NULL, 2, dims, lbs, FLOAT8OID, 8,
											 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * orion.growthbook_choose_variation(n double precision, ranges double
 *	 precision[]) returns integer
 *
 * The 0-based index of the first [start, end) range holding n, or -1.
 */
PG_FUNCTION_INFO_V1(orion_growthbook_choose_variation);
Datum
orion_growthbook_choose_variation(PG_FUNCTION_ARGS)
{
	double		n = PG_GETARG_FLOAT8(0);
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	double	   *ranges;
	int			i;

	if (ARR_NDIM(a) == 0)
		PG_RETURN_INT32(-1);
	if (ARR_NDIM(a) != 2 || ARR_DIMS(a)[1] != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ranges must be an array of [start, end] pairs")));
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &count);
	ranges = palloc(sizeof(double) * Max(count, 1));
	for (i = 0; i < count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ranges must not contain NULL")));
		ranges[i] = DatumGetFloat8(elems[i]);
	}
	PG_RETURN_INT32(OrionGrowthbookChooseVariation(n, ranges, count / 2));
}
