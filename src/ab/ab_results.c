/*-------------------------------------------------------------------------
 *
 * ab_results.c
 *	  The results of an AB test: per variant users, conversions, rate, lift
 *	  against the control, a two-proportion z-test, and a sample-ratio
 *	  mismatch check.
 *
 * - conversion rate: users with at least one conversion (of the event
 *	 asked for, or any) over users assigned;
 * - lift: (rate - control rate) / control rate;
 * - p_value: two-sided, two-proportion z-test against the control with the
 *	 pooled proportion: z = (p1 - p0) / sqrt(p(1 - p)(1/n1 + 1/n0));
 * - srm_p_value: Pearson's chi-square test of the users per variant against
 *	 the variants' weights, with (variants - 1) degrees of freedom; a small
 *	 value means the split is not what the weights say, and the results
 *	 should not be trusted (a bug in assignment, bots, a redirect that
 *	 loses users).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_results.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "ab/ab_cache.h"
#include "common/query.h"
#include "common/request.h"

static OrionQuery count_variants = {
	"SELECT a.variant::text, count(*), count(c.user_id)"
	" FROM orion_ab_testing.ab_test_assignments a"
	" LEFT JOIN (SELECT DISTINCT user_id FROM orion_ab_testing.ab_test_conversions"
	"            WHERE test_id = $1 AND ($2::text IS NULL OR event = $2)) c"
	"   ON c.user_id = a.user_id"
	" WHERE a.test_id = $1 GROUP BY a.variant",
	2, {UUIDOID, TEXTOID}, NULL
};

/* P(a, x) by its series, for x < a + 1 (Numerical Recipes' gser). */
static double
GammaPSeries(double a, double x)
{
	double		ap = a;
	double		term = 1.0 / a;
	double		sum = term;
	int			n;

	for (n = 0; n < 10000; n++)
	{
		ap += 1;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-16)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) by its continued fraction, for x >= a + 1 (modified Lentz). */
static double
GammaQFraction(double a, double x)
{
	const double tiny = 1e-300;
	double		b = x + 1 - a;
	double		c = 1 / tiny;
	double		d = 1 / b;
	double		h = d;
	int			i;

	for (i = 1; i < 10000; i++)
	{
		double		an = -i * (i - a);
		double		delta;

		b += 2;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1) < 1e-16)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

/* The chi-square distribution's survival function: P(X >= x). */
static double
ChiSquareSf(double x, int df)
{
	double		a = df / 2.0;
	double		half = x / 2.0;

	if (x <= 0)
		return 1.0;
	return half < a + 1 ? 1.0 - GammaPSeries(a, half) : GammaQFraction(a, half);
}

typedef struct VariantCount
{
	int64		users;
	int64		conversions;
} VariantCount;

/* The test of test_key, from the cache pinned in *tests; ERROR if none. */
static AbTest *
LookUpTest(FunctionCallInfo fcinfo, OrionCacheFilling **tests)
{
	char	   *key;
	AbTest	   *test;

	ORION_REQUIRE_ARG(fcinfo, 0, "test_key");
	key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	*tests = AbCachePin();
	test = AbCacheLookup(*tests, key);
	if (test == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("AB test \"%s\" does not exist", key)));
	return test;
}

/*
 * One row per variant of test, into the function's materialized result:
 * the figures of the file comment, from the users and conversions counted
 * per variant (counts[i] for test->variants[i]).
 */
static void
WriteResults(FunctionCallInfo fcinfo, const AbTest *test, const VariantCount *counts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[9];
	bool		nulls[9];
	int			i;
	int64		total = 0;
	int			weighted = 0;
	double		chi2 = 0;
	bool		srm_known;
	double		srm = 0;
	const VariantCount *control;
	double		control_rate;

	/* sample-ratio mismatch over the variants that should get users */
	for (i = 0; i < test->nvariants; i++)
		total += counts[i].users;
	for (i = 0; i < test->nvariants; i++)
		if (test->variants[i].weight > 0)
		{
			double		expected = total * test->variants[i].weight;
			double		diff = counts[i].users - expected;

			chi2 += diff * diff / expected;
			weighted++;
		}
	srm_known = total > 0 && weighted >= 2;
	if (srm_known)
		srm = ChiSquareSf(chi2, weighted - 1);

	control = &counts[test->control];
	control_rate = control->users > 0 ? (double) control->conversions / control->users : NAN;

	for (i = 0; i < test->nvariants; i++)
	{
		const VariantCount *c = &counts[i];
		double		rate = c->users > 0 ? (double) c->conversions / c->users : NAN;

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(test->variants[i].key);
		values[1] = BoolGetDatum(i == test->control);
		values[2] = Float8GetDatum(test->variants[i].weight);
		values[3] = Int64GetDatum(c->users);
		values[4] = Int64GetDatum(c->conversions);
		values[5] = Float8GetDatum(rate);
		nulls[5] = isnan(rate);

		/* lift and the z-test compare a variant with the control */
		nulls[6] = nulls[7] = true;
		if (i != test->control && !isnan(rate) && !isnan(control_rate))
		{
			double		pooled = (double) (c->conversions + control->conversions) /
				(c->users + control->users);
			double		se = sqrt(pooled * (1 - pooled) *
								  (1.0 / c->users + 1.0 / control->users));

			if (control_rate > 0)
			{
				values[6] = Float8GetDatum((rate - control_rate) / control_rate);
				nulls[6] = false;
			}
			if (se > 0)
			{
				values[7] = Float8GetDatum(erfc(fabs((rate - control_rate) / se) / M_SQRT2));
				nulls[7] = false;
			}
		}
		values[8] = Float8GetDatum(srm);
		nulls[8] = !srm_known;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * orion.ab_test_results(test_key text, event text)
 *	 returns table (variant, is_control, weight, users, conversions,
 *					conversion_rate, lift, p_value, srm_p_value)
 */
PG_FUNCTION_INFO_V1(orion_ab_test_results);
Datum
orion_ab_test_results(PG_FUNCTION_ARGS)
{
	AbTest	   *test;
	VariantCount *counts;
	Datum		values[2];
	char		qnulls[2] = {' ', ' '};
	uint64		n;
	uint64		r;
	int			i;
	OrionCacheFilling *tests;

	/* pinned across the SPI query below, until the rows are written */
	test = LookUpTest(fcinfo, &tests);
	InitMaterializedSRF(fcinfo, 0);
	counts = palloc0(sizeof(VariantCount) * Max(test->nvariants, 1));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = UUIDPGetDatum(&test->id);
	if (PG_ARGISNULL(1))
		qnulls[1] = 'n';
	else
		values[1] = PG_GETARG_DATUM(1);
	n = OrionQueryRun(&count_variants, values, qnulls, true, 0);
	for (r = 0; r < n; r++)
	{
		bool		isnull;
		char	   *variant = TextDatumGetCString(OrionQueryGet(r, 1, &isnull));

		/* assignments to a variant since removed from the test are left out */
		for (i = 0; i < test->nvariants; i++)
			if (strcmp(test->variants[i].key, variant) == 0)
			{
				counts[i].users = DatumGetInt64(OrionQueryGet(r, 2, &isnull));
				counts[i].conversions = DatumGetInt64(OrionQueryGet(r, 3, &isnull));
			}
	}
	SPI_finish();

	WriteResults(fcinfo, test, counts);
	AbCacheUnpin(tests);
	return (Datum) 0;
}

/*
 * orion.ab_test_statistics(test_key text, variants text[], users bigint[],
 *							conversions bigint[])
 *	 returns the table of ab_test_results
 *
 * The results of test_key for users and conversions counted elsewhere (per
 * variant, by key: the sums over the shards of a sharded installation, say);
 * a variant of the test not among variants counts none. The arrays must be
 * one-dimensional, of one length, without NULLs or negative counts, and
 * name each variant of the test once at most.
 */
PG_FUNCTION_INFO_V1(orion_ab_test_statistics);
Datum
orion_ab_test_statistics(PG_FUNCTION_ARGS)
{
	AbTest	   *test;
	VariantCount *counts;
	OrionCacheFilling *tests;
	Datum	   *keys;
	Datum	   *users;
	Datum	   *conversions;
	bool	   *nulls[3];
	int			n[3];
	bool	   *seen;
	int			a;
	int			i;

	ORION_REQUIRE_ARG(fcinfo, 1, "variants");
	ORION_REQUIRE_ARG(fcinfo, 2, "users");
	ORION_REQUIRE_ARG(fcinfo, 3, "conversions");
	test = LookUpTest(fcinfo, &tests);
	deconstruct_array_builtin(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, &keys, &nulls[0], &n[0]);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &users, &nulls[1], &n[1]);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &conversions, &nulls[2], &n[2]);
	if (ARR_NDIM(PG_GETARG_ARRAYTYPE_P(1)) > 1 || ARR_NDIM(PG_GETARG_ARRAYTYPE_P(2)) > 1 ||
		ARR_NDIM(PG_GETARG_ARRAYTYPE_P(3)) > 1 || n[0] != n[1] || n[0] != n[2])
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("variants, users and conversions must be one-dimensional arrays of one length")));

	counts = palloc0(sizeof(VariantCount) * Max(test->nvariants, 1));
	seen = palloc0(sizeof(bool) * Max(test->nvariants, 1));
	for (a = 0; a < n[0]; a++)
	{
		char	   *key;

		if (nulls[0][a] || nulls[1][a] || nulls[2][a])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("variants, users and conversions must not contain NULLs")));
		key = TextDatumGetCString(keys[a]);
		if (DatumGetInt64(users[a]) < 0 || DatumGetInt64(conversions[a]) < 0 ||
			DatumGetInt64(conversions[a]) > DatumGetInt64(users[a]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the counts of variant \"%s\" are impossible", key),
					 errdetail("Users and conversions are not negative, and no more users convert than were assigned.")));
		for (i = 0; i < test->nvariants; i++)
			if (strcmp(test->variants[i].key, key) == 0)
				break;
		if (i == test->nvariants)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("AB test \"%s\" has no variant \"%s\"", test->key, key)));
		if (seen[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("variant \"%s\" is counted twice", key)));
		seen[i] = true;
		counts[i].users = DatumGetInt64(users[a]);
		counts[i].conversions = DatumGetInt64(conversions[a]);
	}

	InitMaterializedSRF(fcinfo, 0);
	WriteResults(fcinfo, test, counts);
	AbCacheUnpin(tests);
	return (Datum) 0;
}
