/*-------------------------------------------------------------------------
 *
 * flag_parse.c
 *	  Reads a feature flag's rollout (JSON) into the structures of flag_types.h,
 *	  and says exactly where and why when it cannot.
 *
 * Two forms are accepted:
 *
 * - Unleash's: {"strategies": [...], "variants": [...], "dependencies":
 *	 [...]}, as Unleash's client API returns a toggle. The remaining fields
 *	 of a toggle (name, enabled, type, ...) may be present and are ignored:
 *	 the key and enabled columns hold those.
 * - the original platform's: {"percentage": 0-100, "targeting": [{"attribute",
 *	 "operator", "value"}], "variants": [{"key", "weight", "value"}]}, which
 *	 becomes one flexibleRollout strategy (grouped by the flag's key) with
 *	 constraints, and feature variants.
 *
 * What Unleash itself evaluates to "off" (an unknown operator or strategy,
 * a regular expression that does not compile, an invalid date or version in
 * a constraint) is accepted, and evaluates to off here too. What cannot be
 * evaluated at all (wrong JSON types, a rollout outside 0..100, negative
 * weights, a variant without a name) is refused, with the JSON path of the
 * offending value: "rollout.strategies[1].parameters.rollout: must be a
 * number from 0 to 100". Array indexes in paths count from 0, as in JSON
 * Path and JavaScript.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>
#include <sys/socket.h>

#include "catalog/pg_collation.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/inet.h"
#include "utils/jsonb.h"

#include "flags/flag_parse.h"
#include "flags/flag_value.h"

/* A message "path: problem", the result of every failed parse. */
static char *
Problem(const char *path, const char *fmt,...) pg_attribute_printf(2, 3);

static char *
Problem(const char *path, const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s: ", path);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	return buf.data;
}

static char *
Child(const char *path, const char *key)
{
	return psprintf("%s.%s", path, key);
}

static char *
Element(const char *path, int i)
{
	return psprintf("%s[%d]", path, i);
}

/* The JSON type of v, for messages. */
static const char *
TypeName(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a JSON value";
	}
}

static bool
IsObject(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
IsArray(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/* The member key of object, or NULL. */
static JsonbValue *
Get(JsonbContainer *object, const char *key)
{
	return getKeyJsonValueFromContainer(object, key, strlen(key), NULL);
}

/*
 * Refuse keys of object that are not in allowed (NULL-terminated): a
 * misspelt key would otherwise be silently ignored.
 */
static char *
CheckKeys(JsonbContainer *object, const char *path, const char *const *allowed)
{
	JsonbIterator *it = JsonbIteratorInit(object);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *const *a;
		bool		known = false;

		if (tok != WJB_KEY)
			continue;
		for (a = allowed; *a; a++)
			if (strlen(*a) == (size_t) v.val.string.len &&
				memcmp(*a, v.val.string.val, v.val.string.len) == 0)
				known = true;
		if (!known)
			return Problem(Child(path, pnstrdup(v.val.string.val, v.val.string.len)),
						   "unknown key");
	}
	return NULL;
}

/*
 * A scalar as Unleash reads it: strings as they are, numbers and booleans
 * in their JSON spelling (String() in JavaScript). Sets *out; returns a
 * problem for null, objects and arrays.
 */
static char *
ScalarText(const JsonbValue *v, const char *path, char **out)
{
	switch (v->type)
	{
		case jbvString:
			*out = pnstrdup(v->val.string.val, v->val.string.len);
			return NULL;
		case jbvNumeric:
			*out = DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
			return NULL;
		case jbvBool:
			*out = pstrdup(v->val.boolean ? "true" : "false");
			return NULL;
		default:
			return Problem(path, "must be a string, not %s", TypeName(v));
	}
}

/* An optional string member; *out stays NULL when absent. */
static char *
OptionalString(JsonbContainer *object, const char *key, const char *path, char **out)
{
	JsonbValue *v = Get(object, key);

	*out = NULL;
	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		return Problem(Child(path, key), "must be a string, not %s", TypeName(v));
	*out = pnstrdup(v->val.string.val, v->val.string.len);
	return NULL;
}

static char *
RequiredString(JsonbContainer *object, const char *key, const char *path, char **out)
{
	char	   *problem = OptionalString(object, key, path, out);

	if (problem)
		return problem;
	if (*out == NULL || (*out)[0] == '\0')
		return Problem(Child(path, key), *out ? "must not be empty" : "is required");
	return NULL;
}

static char *
OptionalBool(JsonbContainer *object, const char *key, const char *path, bool *out, bool dflt)
{
	JsonbValue *v = Get(object, key);

	*out = dflt;
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvBool)
		return Problem(Child(path, key), "must be true or false, not %s", TypeName(v));
	*out = v->val.boolean;
	return NULL;
}

/* An optional array member: its container, or NULL when absent or null. */
static char *
OptionalArray(JsonbContainer *object, const char *key, const char *path, JsonbContainer **out)
{
	JsonbValue *v = Get(object, key);

	*out = NULL;
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (!IsArray(v))
		return Problem(Child(path, key), "must be an array, not %s", TypeName(v));
	*out = v->val.binary.data;
	return NULL;
}

/* An array of strings (numbers and booleans taken as text). */
static char *
StringArray(JsonbContainer *array, const char *path, int *n, char ***out)
{
	int			count = JsonContainerSize(array);
	int			i;

	*n = count;
	*out = palloc0(sizeof(char *) * Max(count, 1));
	for (i = 0; i < count; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(array, i);
		char	   *problem = ScalarText(v, Element(path, i), &(*out)[i]);

		if (problem)
			return problem;
	}
	return NULL;
}

/*
 * A percentage parameter: a number, or a string holding one, from 0 to 100
 * (Unleash sends strings).
 */
static char *
Percentage(JsonbContainer *params, const char *key, const char *path, double *out)
{
	JsonbValue *v = params ? Get(params, key) : NULL;
	char	   *text;
	char	   *problem;

	if (v == NULL)
		return Problem(Child(path, key), "is required");
	/* Number("") is 0 to JavaScript; an empty percentage is a mistake here */
	if ((problem = ScalarText(v, Child(path, key), &text)) != NULL ||
		v->type == jbvBool || strspn(text, " \t\n\r") == strlen(text) ||
		!FlagJsNumber(text, out) || isnan(*out) || *out < 0 || *out > 100)
		return Problem(Child(path, key), "must be a number from 0 to 100");
	return NULL;
}

/*
 * Split a parameter list the way Unleash does (split(/\s*,\s*\/)): on commas,
 * with the white space around each comma dropped.
 */
static void
SplitList(const char *s, int *n, char ***out)
{
	List	   *items = NIL;
	const char *start = s;
	ListCell   *lc;
	int			i = 0;

	for (;;)
	{
		const char *comma = strchr(start, ',');
		const char *end = comma ? comma : start + strlen(start);
		const char *item_end = end;

		if (comma)
			while (item_end > start && isspace((unsigned char) item_end[-1]))
				item_end--;
		items = lappend(items, pnstrdup(start, item_end - start));
		if (!comma)
			break;
		start = comma + 1;
		while (isspace((unsigned char) *start))
			start++;
	}
	*n = list_length(items);
	*out = palloc(sizeof(char *) * *n);
	foreach(lc, items)
		(*out)[i++] = lfirst(lc);
}

static FlagOperator
OperatorByName(const char *name)
{
	static const struct
	{
		const char *name;
		FlagOperator op;
	}			ops[] = {
		{"IN", FLAG_OP_IN}, {"NOT_IN", FLAG_OP_NOT_IN},
		{"STR_CONTAINS", FLAG_OP_STR_CONTAINS}, {"STR_STARTS_WITH", FLAG_OP_STR_STARTS_WITH},
		{"STR_ENDS_WITH", FLAG_OP_STR_ENDS_WITH},
		{"NUM_EQ", FLAG_OP_NUM_EQ}, {"NUM_GT", FLAG_OP_NUM_GT}, {"NUM_GTE", FLAG_OP_NUM_GTE},
		{"NUM_LT", FLAG_OP_NUM_LT}, {"NUM_LTE", FLAG_OP_NUM_LTE},
		{"DATE_AFTER", FLAG_OP_DATE_AFTER}, {"DATE_BEFORE", FLAG_OP_DATE_BEFORE},
		{"SEMVER_EQ", FLAG_OP_SEMVER_EQ}, {"SEMVER_GT", FLAG_OP_SEMVER_GT},
		{"SEMVER_GTE", FLAG_OP_SEMVER_GTE}, {"SEMVER_LT", FLAG_OP_SEMVER_LT},
		{"SEMVER_LTE", FLAG_OP_SEMVER_LTE},
		{"REGEX", FLAG_OP_REGEX}, {"IN_CIDR", FLAG_OP_IN_CIDR}
	};
	int			i;

	for (i = 0; i < (int) lengthof(ops); i++)
		if (strcmp(ops[i].name, name) == 0)
			return ops[i].op;
	return FLAG_OP_UNKNOWN;
}

/*
 * Prepare a constraint's value(s) for its operator, once, so evaluation
 * does no parsing. A value the operator cannot use makes the constraint
 * false at evaluation, as in Unleash, not an error here.
 */
static void
PrepareConstraint(FlagConstraint *c)
{
	int			i;

	if (c->case_insensitive && c->nvalues > 0)
	{
		c->lower_values = palloc(sizeof(char *) * c->nvalues);
		for (i = 0; i < c->nvalues; i++)
			c->lower_values[i] = FlagLower(c->values[i]);
	}

	switch (c->op)
	{
		case FLAG_OP_NUM_EQ:
		case FLAG_OP_NUM_GT:
		case FLAG_OP_NUM_GTE:
		case FLAG_OP_NUM_LT:
		case FLAG_OP_NUM_LTE:
			c->number_valid = c->value != NULL && FlagJsNumber(c->value, &c->number) &&
				!isnan(c->number);
			break;
		case FLAG_OP_DATE_AFTER:
		case FLAG_OP_DATE_BEFORE:
			c->date_valid = c->value != NULL && FlagParseDate(c->value, &c->date);
			break;
		case FLAG_OP_SEMVER_EQ:
		case FLAG_OP_SEMVER_GT:
		case FLAG_OP_SEMVER_GTE:
		case FLAG_OP_SEMVER_LT:
		case FLAG_OP_SEMVER_LTE:
			if (c->value != NULL)
				FlagParseSemver(c->value, true, &c->semver);
			break;
		case FLAG_OP_REGEX:
			if (c->value != NULL)
				c->regex = FlagCompileRegex(c->value, c->case_insensitive);
			break;
		case FLAG_OP_IN_CIDR:
			c->cidrs = palloc0(sizeof(FlagCidr) * Max(c->nvalues, 1));
			for (i = 0; i < c->nvalues; i++)
				FlagParseCidr(c->values[i], &c->cidrs[i]);
			break;
		default:
			break;
	}
}

/*
 * Keep the values Unleash keeps (cleanValues: non-empty ones, trimmed).
 */
static void
CleanValues(FlagConstraint *c)
{
	int			i;
	int			kept = 0;

	for (i = 0; i < c->nvalues; i++)
	{
		char	   *v = c->values[i];
		char	   *end;

		if (v[0] == '\0')
			continue;
		while (isspace((unsigned char) *v))
			v++;
		end = v + strlen(v);
		while (end > v && isspace((unsigned char) end[-1]))
			*--end = '\0';
		c->values[kept++] = v;
	}
	c->nvalues = kept;
}

static char *
ParseConstraint(JsonbValue *v, const char *path, FlagConstraint *c)
{
	static const char *const keys[] = {
		"contextName", "operator", "value", "values", "inverted", "caseInsensitive", NULL
	};
	JsonbContainer *obj;
	JsonbContainer *values;
	JsonbValue *value;
	char	   *operator_name;
	char	   *problem;

	if (!IsObject(v))
		return Problem(path, "must be an object, not %s", TypeName(v));
	obj = v->val.binary.data;
	memset(c, 0, sizeof(*c));
	if ((problem = CheckKeys(obj, path, keys)) ||
		(problem = RequiredString(obj, "contextName", path, &c->context_name)) ||
		(problem = RequiredString(obj, "operator", path, &operator_name)) ||
		(problem = OptionalBool(obj, "inverted", path, &c->inverted, false)) ||
		(problem = OptionalBool(obj, "caseInsensitive", path, &c->case_insensitive, false)) ||
		(problem = OptionalArray(obj, "values", path, &values)))
		return problem;
	if (values && (problem = StringArray(values, Child(path, "values"), &c->nvalues, &c->values)))
		return problem;
	value = Get(obj, "value");
	if (value && value->type != jbvNull &&
		(problem = ScalarText(value, Child(path, "value"), &c->value)))
		return problem;

	c->op = OperatorByName(operator_name);
	CleanValues(c);
	PrepareConstraint(c);
	return NULL;
}

static char *
ParseConstraints(JsonbContainer *array, const char *path, int *n, FlagConstraint **out)
{
	int			i;

	*n = array ? JsonContainerSize(array) : 0;
	*out = palloc0(sizeof(FlagConstraint) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		char	   *problem = ParseConstraint(getIthJsonbValueFromContainer(array, i),
											  Element(path, i), &(*out)[i]);

		if (problem)
			return problem;
	}
	return NULL;
}

/* A whole, non-negative number of at most 1000000, as a variant weight. */
static char *
Weight(JsonbValue *v, const char *path, int *out)
{
	char	   *text;
	double		d;

	if (v == NULL)
		return Problem(path, "is required");
	if (ScalarText(v, path, &text) != NULL || v->type == jbvBool ||
		!FlagJsNumber(text, &d) || isnan(d) || d < 0 || d > 1000000 || d != floor(d))
		return Problem(path, "must be a whole number from 0 to 1000000");
	*out = (int) d;
	return NULL;
}

static char *
ParseOverride(JsonbValue *v, const char *path, FlagOverride *o)
{
	static const char *const keys[] = {"contextName", "values", NULL};
	JsonbContainer *obj;
	JsonbContainer *values;
	char	   *problem;

	if (!IsObject(v))
		return Problem(path, "must be an object, not %s", TypeName(v));
	obj = v->val.binary.data;
	if ((problem = CheckKeys(obj, path, keys)) ||
		(problem = RequiredString(obj, "contextName", path, &o->context_name)) ||
		(problem = OptionalArray(obj, "values", path, &values)))
		return problem;
	if (values == NULL)
		return Problem(Child(path, "values"), "is required");
	return StringArray(values, Child(path, "values"), &o->nvalues, &o->values);
}

/* An Unleash variant: name, weight, stickiness, payload, overrides. */
static char *
ParseVariant(JsonbValue *v, const char *path, FlagVariant *variant)
{
	static const char *const keys[] = {
		"name", "weight", "weightType", "stickiness", "payload", "overrides", NULL
	};
	JsonbContainer *obj;
	JsonbContainer *overrides;
	JsonbValue *payload;
	char	   *problem;
	int			i;

	if (!IsObject(v))
		return Problem(path, "must be an object, not %s", TypeName(v));
	obj = v->val.binary.data;
	memset(variant, 0, sizeof(*variant));
	if ((problem = CheckKeys(obj, path, keys)) ||
		(problem = RequiredString(obj, "name", path, &variant->name)) ||
		(problem = Weight(Get(obj, "weight"), Child(path, "weight"), &variant->weight)) ||
		(problem = OptionalString(obj, "stickiness", path, &variant->stickiness)) ||
		(problem = OptionalArray(obj, "overrides", path, &overrides)))
		return problem;

	payload = Get(obj, "payload");
	if (payload && payload->type != jbvNull)
	{
		JsonbValue *type;
		JsonbValue *value;

		if (!IsObject(payload))
			return Problem(Child(path, "payload"), "must be an object, not %s", TypeName(payload));
		type = Get(payload->val.binary.data, "type");
		value = Get(payload->val.binary.data, "value");
		if (type == NULL || type->type != jbvString)
			return Problem(Child(Child(path, "payload"), "type"), "must be a string");
		if (value == NULL || value->type != jbvString)
			return Problem(Child(Child(path, "payload"), "value"), "must be a string");
		variant->payload = JsonbValueToJsonb(payload);
	}

	variant->noverrides = overrides ? JsonContainerSize(overrides) : 0;
	variant->overrides = palloc0(sizeof(FlagOverride) * Max(variant->noverrides, 1));
	for (i = 0; i < variant->noverrides; i++)
		if ((problem = ParseOverride(getIthJsonbValueFromContainer(overrides, i),
									 Element(Child(path, "overrides"), i),
									 &variant->overrides[i])))
			return problem;
	return NULL;
}

static char *
ParseVariants(JsonbContainer *array, const char *path, int *n, FlagVariant **out)
{
	int			i;

	*n = array ? JsonContainerSize(array) : 0;
	*out = palloc0(sizeof(FlagVariant) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		char	   *problem = ParseVariant(getIthJsonbValueFromContainer(array, i),
										   Element(path, i), &(*out)[i]);

		if (problem)
			return problem;
	}
	return NULL;
}

static FlagStrategyKind
StrategyKindByName(const char *name)
{
	if (strcmp(name, "default") == 0)
		return FLAG_STRATEGY_DEFAULT;
	if (strcmp(name, "userWithId") == 0)
		return FLAG_STRATEGY_USER_WITH_ID;
	if (strcmp(name, "gradualRolloutUserId") == 0)
		return FLAG_STRATEGY_GRADUAL_USER_ID;
	if (strcmp(name, "gradualRolloutSessionId") == 0)
		return FLAG_STRATEGY_GRADUAL_SESSION_ID;
	if (strcmp(name, "gradualRolloutRandom") == 0)
		return FLAG_STRATEGY_GRADUAL_RANDOM;
	if (strcmp(name, "remoteAddress") == 0)
		return FLAG_STRATEGY_REMOTE_ADDRESS;
	if (strcmp(name, "flexibleRollout") == 0)
		return FLAG_STRATEGY_FLEXIBLE_ROLLOUT;
	if (strcmp(name, "applicationHostname") == 0)
		return FLAG_STRATEGY_APPLICATION_HOSTNAME;
	return FLAG_STRATEGY_UNKNOWN;
}

/* What a flexibleRollout's stickiness means ("" or absent: default). */
static FlagStickinessKind
StickinessKind(const char *stickiness)
{
	if (stickiness == NULL || stickiness[0] == '\0' || strcmp(stickiness, "default") == 0)
		return FLAG_STICKINESS_DEFAULT;
	if (strcmp(stickiness, "random") == 0)
		return FLAG_STICKINESS_RANDOM;
	return FLAG_STICKINESS_FIELD;
}

/* An optional text parameter of a strategy; NULL when absent. */
static char *
Parameter(JsonbContainer *params, const char *key, const char *path, char **out)
{
	JsonbValue *v = params ? Get(params, key) : NULL;

	*out = NULL;
	if (v == NULL || v->type == jbvNull)
		return NULL;
	return ScalarText(v, Child(path, key), out);
}

static char *
ParseStrategy(JsonbValue *v, const char *path, FlagStrategy *s)
{
	static const char *const keys[] = {
		"name", "parameters", "constraints", "segments", "variants",
		"id", "title", "sortOrder", "disabled", NULL
	};
	JsonbContainer *obj;
	JsonbContainer *params = NULL;
	JsonbContainer *constraints;
	JsonbContainer *segments;
	JsonbContainer *variants;
	JsonbValue *pv;
	char	   *ppath = Child(path, "parameters");
	char	   *list = NULL;
	char	   *problem;
	int			i;

	if (!IsObject(v))
		return Problem(path, "must be an object, not %s", TypeName(v));
	obj = v->val.binary.data;
	memset(s, 0, sizeof(*s));
	s->percentage = NAN;
	if ((problem = CheckKeys(obj, path, keys)) ||
		(problem = RequiredString(obj, "name", path, &s->name)) ||
		(problem = OptionalBool(obj, "disabled", path, &s->disabled, false)) ||
		(problem = OptionalArray(obj, "constraints", path, &constraints)) ||
		(problem = OptionalArray(obj, "segments", path, &segments)) ||
		(problem = OptionalArray(obj, "variants", path, &variants)))
		return problem;

	pv = Get(obj, "parameters");
	if (pv && pv->type != jbvNull)
	{
		JsonbIterator *it;
		JsonbValue	item;
		JsonbIteratorToken tok;

		if (!IsObject(pv))
			return Problem(ppath, "must be an object, not %s", TypeName(pv));
		params = pv->val.binary.data;
		/* every parameter value is text to Unleash */
		it = JsonbIteratorInit(params);
		while ((tok = JsonbIteratorNext(&it, &item, true)) != WJB_DONE)
		{
			char	   *key;

			if (tok != WJB_KEY)
				continue;
			key = pnstrdup(item.val.string.val, item.val.string.len);
			tok = JsonbIteratorNext(&it, &item, true);
			if (item.type != jbvString && item.type != jbvNumeric && item.type != jbvBool)
				return Problem(Child(ppath, key), "must be a string, not %s", TypeName(&item));
		}
	}

	s->kind = StrategyKindByName(s->name);
	if ((problem = Parameter(params, "groupId", ppath, &s->group_id)) ||
		(problem = Parameter(params, "stickiness", ppath, &s->stickiness)))
		return problem;
	s->stickiness_kind = StickinessKind(s->stickiness);

	switch (s->kind)
	{
		case FLAG_STRATEGY_FLEXIBLE_ROLLOUT:
			problem = Percentage(params, "rollout", ppath, &s->percentage);
			break;
		case FLAG_STRATEGY_GRADUAL_USER_ID:
		case FLAG_STRATEGY_GRADUAL_SESSION_ID:
		case FLAG_STRATEGY_GRADUAL_RANDOM:
			problem = Percentage(params, "percentage", ppath, &s->percentage);
			break;
		case FLAG_STRATEGY_USER_WITH_ID:
			problem = Parameter(params, "userIds", ppath, &list);
			break;
		case FLAG_STRATEGY_REMOTE_ADDRESS:
			problem = Parameter(params, "IPs", ppath, &list);
			break;
		case FLAG_STRATEGY_APPLICATION_HOSTNAME:
			problem = Parameter(params, "hostNames", ppath, &list);
			if (list)
				list = FlagLower(list);
			break;
		default:
			break;
	}
	if (problem)
		return problem;
	if (list != NULL && list[0] != '\0')
		SplitList(list, &s->nlist, &s->list);

	if ((problem = ParseConstraints(constraints, Child(path, "constraints"),
									&s->nconstraints, &s->constraints)) ||
		(problem = ParseVariants(variants, Child(path, "variants"), &s->nvariants, &s->variants)))
		return problem;

	s->nsegments = segments ? JsonContainerSize(segments) : 0;
	s->segments = palloc0(sizeof(int) * Max(s->nsegments, 1));
	for (i = 0; i < s->nsegments; i++)
	{
		JsonbValue *seg = getIthJsonbValueFromContainer(segments, i);
		char	   *text;
		double		d;

		if (seg->type != jbvNumeric ||
			ScalarText(seg, Element(Child(path, "segments"), i), &text) != NULL ||
			!FlagJsNumber(text, &d) || d != floor(d) || d < INT_MIN || d > INT_MAX)
			return Problem(Element(Child(path, "segments"), i), "must be a segment id (a whole number)");
		s->segments[i] = (int) d;
	}
	return NULL;
}

static char *
ParseDependency(JsonbValue *v, const char *path, FlagDependency *d)
{
	static const char *const keys[] = {"feature", "enabled", "variants", NULL};
	JsonbContainer *obj;
	JsonbContainer *variants;
	char	   *problem;

	if (!IsObject(v))
		return Problem(path, "must be an object, not %s", TypeName(v));
	obj = v->val.binary.data;
	if ((problem = CheckKeys(obj, path, keys)) ||
		(problem = RequiredString(obj, "feature", path, &d->feature)) ||
		(problem = OptionalBool(obj, "enabled", path, &d->enabled, true)) ||
		(problem = OptionalArray(obj, "variants", path, &variants)))
		return problem;
	if (variants)
		return StringArray(variants, Child(path, "variants"), &d->nvariants, &d->variants);
	return NULL;
}

/*
 * The original platform's form: one flexibleRollout strategy grouped by the
 * flag's key, its targeting rules as constraints, and feature variants.
 */
static char *
ParseOriginal(JsonbContainer *obj, const char *flag_key, Flag *flag)
{
	static const char *const keys[] = {"percentage", "targeting", "variants", NULL};
	static const char *const rule_keys[] = {"attribute", "operator", "value", NULL};
	JsonbContainer *targeting;
	JsonbContainer *variants;
	FlagStrategy *s;
	char	   *problem;
	int			i;

	if ((problem = CheckKeys(obj, "rollout", keys)) ||
		(problem = OptionalArray(obj, "targeting", "rollout", &targeting)) ||
		(problem = OptionalArray(obj, "variants", "rollout", &variants)))
		return problem;

	flag->has_strategies = true;
	flag->nstrategies = 1;
	flag->strategies = s = palloc0(sizeof(FlagStrategy));
	s->kind = FLAG_STRATEGY_FLEXIBLE_ROLLOUT;
	s->name = "flexibleRollout";
	s->group_id = pstrdup(flag_key);
	s->stickiness = "default";
	s->stickiness_kind = FLAG_STICKINESS_DEFAULT;
	if (Get(obj, "percentage") != NULL)
	{
		if ((problem = Percentage(obj, "percentage", "rollout", &s->percentage)))
			return problem;
	}
	else
		s->percentage = 100;

	s->nconstraints = targeting ? JsonContainerSize(targeting) : 0;
	s->constraints = palloc0(sizeof(FlagConstraint) * Max(s->nconstraints, 1));
	for (i = 0; i < s->nconstraints; i++)
	{
		JsonbValue *rule = getIthJsonbValueFromContainer(targeting, i);
		char	   *path = Element("rollout.targeting", i);
		FlagConstraint *c = &s->constraints[i];
		JsonbValue *value;
		char	   *operator_name;

		if (!IsObject(rule))
			return Problem(path, "must be an object, not %s", TypeName(rule));
		if ((problem = CheckKeys(rule->val.binary.data, path, rule_keys)) ||
			(problem = RequiredString(rule->val.binary.data, "attribute", path, &c->context_name)) ||
			(problem = RequiredString(rule->val.binary.data, "operator", path, &operator_name)))
			return problem;
		value = Get(rule->val.binary.data, "value");
		if (value == NULL)
			return Problem(Child(path, "value"), "is required");
		c->nvalues = 1;
		c->values = palloc(sizeof(char *));
		if ((problem = ScalarText(value, Child(path, "value"), &c->values[0])))
			return problem;
		c->value = c->values[0];

		if (strcmp(operator_name, "equals") == 0)
			c->op = FLAG_OP_IN;
		else if (strcmp(operator_name, "contains") == 0)
			c->op = FLAG_OP_STR_CONTAINS;
		else if (strcmp(operator_name, "startsWith") == 0)
			c->op = FLAG_OP_STR_STARTS_WITH;
		else if (strcmp(operator_name, "endsWith") == 0)
			c->op = FLAG_OP_STR_ENDS_WITH;
		else if (strcmp(operator_name, "greaterThan") == 0)
			c->op = FLAG_OP_NUM_GT;
		else
			return Problem(Child(path, "operator"),
						   "must be one of equals, contains, startsWith, endsWith, greaterThan");
		PrepareConstraint(c);
	}

	/* variants {"key", "weight", "value"}: value becomes the payload */
	flag->nvariants = variants ? JsonContainerSize(variants) : 0;
	flag->variants = palloc0(sizeof(FlagVariant) * Max(flag->nvariants, 1));
	for (i = 0; i < flag->nvariants; i++)
	{
		static const char *const variant_keys[] = {"key", "weight", "value", NULL};
		JsonbValue *v = getIthJsonbValueFromContainer(variants, i);
		char	   *path = Element("rollout.variants", i);
		FlagVariant *fv = &flag->variants[i];
		JsonbValue *value;

		if (!IsObject(v))
			return Problem(path, "must be an object, not %s", TypeName(v));
		if ((problem = CheckKeys(v->val.binary.data, path, variant_keys)) ||
			(problem = RequiredString(v->val.binary.data, "key", path, &fv->name)) ||
			(problem = Weight(Get(v->val.binary.data, "weight"), Child(path, "weight"), &fv->weight)))
			return problem;
		value = Get(v->val.binary.data, "value");
		if (value != NULL && value->type != jbvNull)
			fv->payload = FlagPayloadFromValue(value);
	}
	return NULL;
}

char *
FlagParseRollout(Jsonb *rollout, const char *flag_key, Flag *flag)
{
	static const char *const keys[] = {
		"strategies", "variants", "dependencies",
		/* the rest of an Unleash toggle, ignored */
		"name", "enabled", "description", "type", "project", "stale",
		"impressionData", "createdAt", "lastSeenAt", "segments", NULL
	};
	JsonbContainer *obj;
	JsonbContainer *strategies;
	JsonbContainer *variants;
	JsonbContainer *dependencies;
	char	   *problem;
	int			i;

	flag->has_strategies = false;
	if (!JB_ROOT_IS_OBJECT(rollout) || JB_ROOT_IS_SCALAR(rollout))
		return Problem("rollout", "must be an object");
	obj = &rollout->root;

	/* the original platform's form */
	if (Get(obj, "percentage") != NULL || Get(obj, "targeting") != NULL)
	{
		if (Get(obj, "strategies") != NULL)
			return Problem("rollout", "mixes Unleash strategies with the original form's percentage and targeting");
		return ParseOriginal(obj, flag_key, flag);
	}
	if (Get(obj, "variants") != NULL && Get(obj, "strategies") == NULL)
	{
		JsonbValue *vs = Get(obj, "variants");

		if (IsArray(vs) && JsonContainerSize(vs->val.binary.data) > 0)
		{
			JsonbValue *first = getIthJsonbValueFromContainer(vs->val.binary.data, 0);

			if (IsObject(first) && Get(first->val.binary.data, "key") != NULL &&
				Get(first->val.binary.data, "name") == NULL)
				return ParseOriginal(obj, flag_key, flag);
		}
	}

	if ((problem = CheckKeys(obj, "rollout", keys)) ||
		(problem = OptionalArray(obj, "strategies", "rollout", &strategies)) ||
		(problem = OptionalArray(obj, "variants", "rollout", &variants)) ||
		(problem = OptionalArray(obj, "dependencies", "rollout", &dependencies)))
		return problem;

	flag->has_strategies = strategies != NULL;
	flag->nstrategies = strategies ? JsonContainerSize(strategies) : 0;
	flag->strategies = palloc0(sizeof(FlagStrategy) * Max(flag->nstrategies, 1));
	for (i = 0; i < flag->nstrategies; i++)
		if ((problem = ParseStrategy(getIthJsonbValueFromContainer(strategies, i),
									 Element("rollout.strategies", i),
									 &flag->strategies[i])))
			return problem;

	if ((problem = ParseVariants(variants, "rollout.variants", &flag->nvariants, &flag->variants)))
		return problem;

	flag->ndependencies = dependencies ? JsonContainerSize(dependencies) : 0;
	flag->dependencies = palloc0(sizeof(FlagDependency) * Max(flag->ndependencies, 1));
	for (i = 0; i < flag->ndependencies; i++)
		if ((problem = ParseDependency(getIthJsonbValueFromContainer(dependencies, i),
									   Element("rollout.dependencies", i),
									   &flag->dependencies[i])))
			return problem;
	return NULL;
}

char *
FlagParseSegment(Jsonb *constraints, FlagSegment *segment)
{
	if (!JB_ROOT_IS_ARRAY(constraints) || JB_ROOT_IS_SCALAR(constraints))
		return Problem("constraints", "must be an array");
	return ParseConstraints(&constraints->root, "constraints", &segment->nconstraints,
							&segment->constraints);
}
