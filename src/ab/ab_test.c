/*-------------------------------------------------------------------------
 *
 * ab_test.c
 *	  An AB test's parsed form: reading its variants, whether it is
 *	  running, and the variant a user falls in.
 *
 * The cache (ab_cache.c) parses each test once with AbParseVariants, and
 * validate_variants (ab.c) parses what it is given; assignment (ab.c) asks
 * the parsed test for a user's variant.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_test.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "ab/ab_test.h"
#include "ab/growthbook.h"

/* ab_test_assignments.variant is varchar(100) */
#define VARIANT_KEY_MAX_CHARS 100

static char *
Problem(const char *path, const char *message)
{
	return psprintf("%s: %s", path, message);
}

static JsonbValue *
Member(JsonbContainer *object, const char *key)
{
	return getKeyJsonValueFromContainer(object, key, strlen(key), NULL);
}

char *
AbParseVariants(Jsonb *variants, AbTest *test)
{
	static const char *const allowed[] = {"key", "name", "weight", "isControl", "config", NULL};
	int			n;
	int			i;
	int			j;
	int			with_weight = 0;
	int			controls = 0;
	double		total = 0;

	if (!JB_ROOT_IS_ARRAY(variants) || JB_ROOT_IS_SCALAR(variants))
		return Problem("variants", "must be an array of variants");
	n = JB_ROOT_COUNT(variants);
	if (n < 2)
		return Problem("variants", "an AB test needs at least two variants");

	test->nvariants = n;
	test->variants = palloc0(sizeof(AbVariant) * n);
	test->control = 0;
	for (i = 0; i < n; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(&variants->root, i);
		char	   *path = psprintf("variants[%d]", i);
		JsonbContainer *obj;
		JsonbValue *key;
		JsonbValue *weight;
		JsonbValue *control;
		JsonbValue *name;
		JsonbIterator *it;
		JsonbValue	item;
		JsonbIteratorToken tok;

		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			return Problem(path, "must be an object {\"key\", \"name\", \"weight\", \"isControl\", \"config\"}");
		obj = v->val.binary.data;

		it = JsonbIteratorInit(obj);
		while ((tok = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
		{
			const char *const *a;
			bool		known = false;

			if (tok != WJB_KEY)
				continue;
			for (a = allowed; *a; a++)
				if (strlen(*a) == (size_t) item.val.string.len &&
					memcmp(*a, item.val.string.val, item.val.string.len) == 0)
					known = true;
			if (!known)
				return Problem(psprintf("%s.%s", path,
										pnstrdup(item.val.string.val, item.val.string.len)),
							   "unknown key");
		}

		key = Member(obj, "key");
		if (key == NULL)
			return Problem(psprintf("%s.key", path), "is required");
		if (key->type != jbvString || key->val.string.len == 0)
			return Problem(psprintf("%s.key", path), "must be a non-empty string");
		if (pg_mbstrlen_with_len(key->val.string.val, key->val.string.len) > VARIANT_KEY_MAX_CHARS)
			return Problem(psprintf("%s.key", path), "must have at most 100 characters");
		test->variants[i].key = pnstrdup(key->val.string.val, key->val.string.len);
		for (j = 0; j < i; j++)
			if (strcmp(test->variants[j].key, test->variants[i].key) == 0)
				return Problem(psprintf("%s.key", path),
							   psprintf("\"%s\" is the key of variants[%d] too", test->variants[i].key, j));

		name = Member(obj, "name");
		if (name != NULL && name->type != jbvString && name->type != jbvNull)
			return Problem(psprintf("%s.name", path), "must be a string");

		weight = Member(obj, "weight");
		if (weight != NULL && weight->type != jbvNull)
		{
			double		w;

			if (weight->type != jbvNumeric)
				return Problem(psprintf("%s.weight", path), "must be a number");
			/* through text: numeric_float8 raises 22003 for 1e400 instead of naming the path */
			w = strtod(DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(weight->val.numeric))),
					   NULL);
			if (!(w >= 0) || isinf(w))
				return Problem(psprintf("%s.weight", path), "must be a number of at least 0");
			test->variants[i].weight = w;
			total += w;
			with_weight++;
		}

		control = Member(obj, "isControl");
		if (control != NULL && control->type != jbvNull)
		{
			if (control->type != jbvBool)
				return Problem(psprintf("%s.isControl", path), "must be true or false");
			if (control->val.boolean)
			{
				test->variants[i].is_control = true;
				test->control = i;
				controls++;
			}
		}
	}

	if (with_weight != 0 && with_weight != n)
		return Problem("variants", "give every variant a weight, or none (equal weights)");
	if (with_weight == n && total <= 0)
		return Problem("variants", "the weights must not all be zero");
	if (isinf(total))
		return Problem("variants", "the weights are too large to add up");
	if (controls > 1)
		return Problem("variants", psprintf("exactly one variant may be the control, %d are", controls));

	/* weights are relative: normalise them to sum to 1 */
	for (i = 0; i < n; i++)
		test->variants[i].weight = with_weight ? test->variants[i].weight / total : 1.0 / n;
	if (controls == 0)
		test->variants[0].is_control = true;
	return NULL;
}

bool
AbTestRunning(const AbTest *test)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	return test->active && test->nvariants > 0 &&
		(!test->has_start || now >= test->start_date) &&
		(!test->has_end || now < test->end_date);
}

const AbVariant *
AbChooseVariant(const AbTest *test, const char *user_id_text)
{
	double		n;
	int			i;

	if (!AbTestRunning(test) ||
		!OrionGrowthbookHash(test->seed, strlen(test->seed), user_id_text, strlen(user_id_text),
							 test->hash_version, &n))
		return NULL;
	i = OrionGrowthbookChooseVariation(n, test->ranges, test->nvariants);
	return i < 0 ? NULL : &test->variants[i];
}
