/*-------------------------------------------------------------------------
 *
 * flag_eval.c
 *	  Evaluates a parsed feature flag in a context, as Unleash's client
 *	  specification says.
 *
 * The order is Unleash's (unleash-client 6, client.js): a flag whose
 * dependencies are not satisfied, or that is disabled, is off; a flag with
 * no strategies is on; otherwise the first strategy whose constraints (its
 * own and its segments') hold and whose own rule lets the context in turns
 * the flag on, and its variants, if any, pick the variant. Else the flag's
 * variants do, grouped by the flag's name.
 *
 * Bucketing: murmur3_x86_32("groupId:id") % 100 + 1 against a percentage
 * (seed 0), and % total weight + 1 against the cumulative weights of the
 * variants (seed 86028157), over the UTF-8 bytes of the string, as Unleash's
 * Rust engine does. Nothing here reads a table or parses JSON but the
 * caller's context, and nothing is allocated for a plain on/off answer.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_eval.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access/xact.h"
#include "common/pg_prng.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/jsonb.h"

#include "flags/flag_cache.h"
#include "flags/flag_eval.h"
#include "flags/flag_user.h"
#include "flags/flag_value.h"
#include "flags/murmur3.h"

/* how deep dependencies may nest before orion calls it a cycle */
#define MAX_DEPENDENCY_DEPTH 8

static bool ConstraintsHold(FlagConstraint *constraints, int n, FlagContext *ctx);

/* the name this file passes for userId: TopLevel knows it by its address */
static const char UserIdField[] = "userId";

/*
 * A scalar of the caller's context as Unleash's String() gives it; NULL for
 * null or absent.
 */
static const char *
JsonScalarText(JsonbValue *v)
{
	if (v == NULL)
		return NULL;
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return v->val.boolean ? "true" : "false";
		case jbvBinary:
			return JsonbToCString(NULL, v->val.binary.data, 64);
		default:
			return NULL;
	}
}

/*
 * context[key] (top) or context.properties[key] as text, through the memo
 * of fields already read when the caller keeps one.
 */
static const char *
ContextField(FlagContext *ctx, bool top, const char *key)
{
	JsonbContainer *object = top ? ctx->json : ctx->properties;
	FlagFieldMemo *memo = ctx->memo;
	MemoryContext old;
	const char *value;
	int			i;

	if (object == NULL)
		return NULL;
	if (memo == NULL)
		return JsonScalarText(getKeyJsonValueFromContainer(object, key, strlen(key), NULL));
	for (i = 0; i < memo->nfields; i++)
		if (memo->fields[i].name == key && memo->fields[i].top == top)
			return memo->fields[i].value;
	old = MemoryContextSwitchTo(memo->mcxt);
	value = JsonScalarText(getKeyJsonValueFromContainer(object, key, strlen(key), NULL));
	MemoryContextSwitchTo(old);
	if (memo->nfields < FLAG_FIELD_MEMO_SIZE)
	{
		memo->fields[memo->nfields].name = key;
		memo->fields[memo->nfields].top = top;
		memo->fields[memo->nfields].value = value;
		memo->nfields++;
	}
	return value;
}

/*
 * A top-level context field (context[key] in Unleash). userId falls back to
 * the user_id argument.
 */
static const char *
TopLevel(FlagContext *ctx, const char *key)
{
	const char *v = ContextField(ctx, true, key);

	if (v != NULL)
		return v;
	/* the address, or else the first character, spares a strcmp on the hot path */
	if (ctx->user_id[0] != '\0' &&
		(key == UserIdField || (key[0] == 'u' && strcmp(key, UserIdField) == 0)))
		return ctx->user_id;
	return NULL;
}

/*
 * Unleash's resolveContextValue: context[field], else
 * context.properties[field]; then what orion knows of the user.
 */
static const char *
Resolve(FlagContext *ctx, const char *field)
{
	const char *v = TopLevel(ctx, field);

	if (v == NULL)
		v = ContextField(ctx, false, field);
	if (v == NULL && ctx->user_id[0] != '\0' && (field[0] == 'e' || field[0] == 'r') &&
		(strcmp(field, "email") == 0 || strcmp(field, "role") == 0 ||
		 strcmp(field, "emailVerified") == 0))
	{
		if (!ctx->user_loaded)
			FlagLoadUserAttributes(ctx);
		if (ctx->user_found)
			v = field[0] == 'r' ? ctx->user_role :
				strcmp(field, "email") == 0 ? ctx->user_email :
				ctx->user_email_verified ? "true" : "false";
	}
	return v;
}

/* A value only JavaScript truthiness would take: not absent, not empty. */
static bool
Truthy(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Unleash's random fallback ids: an integer as text. */
static const char *
RandomId(int max)
{
	return psprintf("%d", (int) pg_prng_uint64_range(&pg_global_prng_state, 1, max));
}

/* murmur3("groupId:id", seed) % modulus + 1 */
static inline uint32
Normalized(const char *group_id, const char *id, uint32 modulus, uint32 seed)
{
	char		stack[256];
	size_t		glen = strlen(group_id);
	size_t		ilen = strlen(id);
	size_t		len = glen + 1 + ilen;
	char	   *buf = len <= sizeof(stack) ? stack : palloc(len);
	uint32		h;

	memcpy(buf, group_id, glen);
	buf[glen] = ':';
	memcpy(buf + glen + 1, id, ilen);
	h = OrionMurmur3(buf, len, seed);
	if (buf != stack)
		pfree(buf);
	return h % modulus + 1;
}

static bool
InValues(const char *v, char **values, int n)
{
	int			i;

	/* the first byte spares most strcmp calls */
	for (i = 0; i < n; i++)
		if (values[i][0] == v[0] && strcmp(values[i], v) == 0)
			return true;
	return false;
}

static bool
StringOperator(FlagConstraint *c, const char *value)
{
	char	  **values = c->case_insensitive ? c->lower_values : c->values;
	size_t		vlen;
	int			i;

	if (value == NULL)
		return false;
	if (c->case_insensitive)
		value = FlagLower(value);
	vlen = strlen(value);
	for (i = 0; i < c->nvalues; i++)
	{
		const char *x = values[i];
		size_t		xlen = strlen(x);

		switch (c->op)
		{
			case FLAG_OP_STR_CONTAINS:
				if (strstr(value, x) != NULL)
					return true;
				break;
			case FLAG_OP_STR_STARTS_WITH:
				if (xlen <= vlen && memcmp(value, x, xlen) == 0)
					return true;
				break;
			default:			/* FLAG_OP_STR_ENDS_WITH */
				if (xlen <= vlen && memcmp(value + vlen - xlen, x, xlen) == 0)
					return true;
				break;
		}
	}
	return false;
}

/* The operator alone, before "inverted" is applied. */
static bool
ConstraintMatches(FlagConstraint *c, FlagContext *ctx)
{
	const char *value;
	double		number;
	FlagSemver	version;
	int			cmp;
	int			i;

	switch (c->op)
	{
		case FLAG_OP_IN:
		case FLAG_OP_NOT_IN:
			value = Resolve(ctx, c->context_name);
			{
				bool		in = value != NULL && InValues(value, c->values, c->nvalues);

				return c->op == FLAG_OP_IN ? in : !in;
			}

		case FLAG_OP_STR_CONTAINS:
		case FLAG_OP_STR_STARTS_WITH:
		case FLAG_OP_STR_ENDS_WITH:
			return StringOperator(c, Resolve(ctx, c->context_name));

		case FLAG_OP_NUM_EQ:
		case FLAG_OP_NUM_GT:
		case FLAG_OP_NUM_GTE:
		case FLAG_OP_NUM_LT:
		case FLAG_OP_NUM_LTE:
			value = Resolve(ctx, c->context_name);
			if (!c->number_valid || value == NULL || !FlagJsNumber(value, &number) || isnan(number))
				return false;
			switch (c->op)
			{
				case FLAG_OP_NUM_EQ:
					return number == c->number;
				case FLAG_OP_NUM_GT:
					return number > c->number;
				case FLAG_OP_NUM_GTE:
					return number >= c->number;
				case FLAG_OP_NUM_LT:
					return number < c->number;
				default:
					return number <= c->number;
			}

		case FLAG_OP_DATE_AFTER:
		case FLAG_OP_DATE_BEFORE:
			{
				TimestampTz now;

				value = TopLevel(ctx, "currentTime");
				if (Truthy(value))
				{
					if (!FlagParseDate(value, &now))
						return false;
				}
				else
					now = GetCurrentTransactionStartTimestamp();
				if (!c->date_valid)
					return false;
				return c->op == FLAG_OP_DATE_AFTER ? now > c->date : now < c->date;
			}

		case FLAG_OP_SEMVER_EQ:
		case FLAG_OP_SEMVER_GT:
		case FLAG_OP_SEMVER_GTE:
		case FLAG_OP_SEMVER_LT:
		case FLAG_OP_SEMVER_LTE:
			value = Resolve(ctx, c->context_name);
			if (!Truthy(value) || !c->semver.valid)
				return false;
			FlagParseSemver(value, false, &version);
			if (!version.valid)
				return false;
			cmp = FlagSemverCompare(&version, &c->semver);
			switch (c->op)
			{
				case FLAG_OP_SEMVER_EQ:
					return cmp == 0;
				case FLAG_OP_SEMVER_GT:
					return cmp > 0;
				case FLAG_OP_SEMVER_GTE:
					return cmp >= 0;
				case FLAG_OP_SEMVER_LT:
					return cmp < 0;
				default:
					return cmp <= 0;
			}

		case FLAG_OP_REGEX:
			value = Resolve(ctx, c->context_name);
			return value != NULL && c->regex != NULL && FlagRegexMatch(c->regex, value);

		case FLAG_OP_IN_CIDR:
			{
				FlagCidr	address;

				value = Resolve(ctx, c->context_name);
				if (value == NULL)
					return false;
				FlagParseCidr(value, &address);
				if (address.family == 0)
					return false;
				for (i = 0; i < c->nvalues; i++)
					if (FlagCidrContains(&c->cidrs[i], &address))
						return true;
				return false;
			}

		case FLAG_OP_UNKNOWN:
			break;
	}
	return false;
}

static bool
ConstraintsHold(FlagConstraint *constraints, int n, FlagContext *ctx)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		FlagConstraint *c = &constraints[i];

		/* an unknown operator is false, inverted or not */
		if (c->op == FLAG_OP_UNKNOWN)
			return false;
		if (ConstraintMatches(c, ctx) == c->inverted)
			return false;
	}
	return true;
}

/* remoteAddress: an exact match, or an IPv4 network holding the address. */
static bool
RemoteAddressMatches(FlagStrategy *s, FlagContext *ctx)
{
	const char *remote = TopLevel(ctx, "remoteAddress");
	FlagCidr	address;
	int			i;

	if (s->nlist == 0)
		return false;
	if (remote != NULL)
		FlagParseCidr(remote, &address);
	for (i = 0; i < s->nlist; i++)
	{
		FlagCidr	range;

		if (remote != NULL && strcmp(s->list[i], remote) == 0)
			return true;
		if (remote == NULL || address.family != PGSQL_AF_INET)
			continue;
		FlagParseCidr(s->list[i], &range);
		if (range.family == PGSQL_AF_INET && FlagCidrContains(&range, &address))
			return true;
	}
	return false;
}

static bool
HostnameMatches(FlagStrategy *s)
{
	char		host[256];
	char	   *lower;
	int			i;

	if (gethostname(host, sizeof(host)) != 0)
		return false;
	host[sizeof(host) - 1] = '\0';
	lower = FlagLower(host);
	for (i = 0; i < s->nlist; i++)
		if (strcmp(s->list[i], lower) == 0)
			return true;
	return false;
}

/* A strategy's own rule, after its constraints held. */
static bool
StrategyRule(Flag *flag, FlagStrategy *s, FlagContext *ctx)
{
	const char *id;

	switch (s->kind)
	{
		case FLAG_STRATEGY_DEFAULT:
			return true;

		case FLAG_STRATEGY_USER_WITH_ID:
			id = TopLevel(ctx, UserIdField);
			return id != NULL && InValues(id, s->list, s->nlist);

		case FLAG_STRATEGY_GRADUAL_USER_ID:
		case FLAG_STRATEGY_GRADUAL_SESSION_ID:
			id = TopLevel(ctx, s->kind == FLAG_STRATEGY_GRADUAL_USER_ID ? UserIdField : "sessionId");
			if (!Truthy(id))
				return false;
			return s->percentage > 0 &&
				Normalized(s->group_id ? s->group_id : "", id, 100, 0) <= s->percentage;

		case FLAG_STRATEGY_GRADUAL_RANDOM:
			return s->percentage >= (double) pg_prng_uint64_range(&pg_global_prng_state, 1, 100);

		case FLAG_STRATEGY_REMOTE_ADDRESS:
			return RemoteAddressMatches(s, ctx);

		case FLAG_STRATEGY_FLEXIBLE_ROLLOUT:
			{
				/* Unleash's Node client groups by "" when groupId is missing */
				const char *group = Truthy(s->group_id) ? s->group_id : "";

				switch (s->stickiness_kind)
				{
					case FLAG_STICKINESS_DEFAULT:
						id = TopLevel(ctx, UserIdField);
						if (!Truthy(id))
							id = TopLevel(ctx, "sessionId");
						if (!Truthy(id))
							id = RandomId(10001);
						break;
					case FLAG_STICKINESS_RANDOM:
						id = RandomId(10001);
						break;
					default:
						id = Resolve(ctx, s->stickiness);
						break;
				}
				if (!Truthy(id))
					return false;
				return s->percentage > 0 && Normalized(group, id, 100, 0) <= s->percentage;
			}

		case FLAG_STRATEGY_APPLICATION_HOSTNAME:
			return HostnameMatches(s);

		case FLAG_STRATEGY_UNKNOWN:
			break;
	}
	return false;
}

static bool
StrategyEnabled(Flag *flag, FlagStrategy *s, FlagContext *ctx)
{
	int			i;

	if (!ConstraintsHold(s->constraints, s->nconstraints, ctx))
		return false;
	for (i = 0; i < s->nsegments; i++)
	{
		FlagSegment *segment = FlagCacheSegment(ctx->flags, s->segments[i]);

		/* a strategy naming a segment that does not exist never matches */
		if (segment == NULL || !ConstraintsHold(segment->constraints, segment->nconstraints, ctx))
			return false;
	}
	return StrategyRule(flag, s, ctx);
}

/* Unleash's getSeed: the stickiness field, else userId, sessionId, remoteAddress. */
static const char *
VariantSeed(FlagContext *ctx, const char *stickiness)
{
	static const char *const fields[] = {UserIdField, "sessionId", "remoteAddress"};
	int			i;

	if (stickiness != NULL && strcmp(stickiness, "default") != 0)
	{
		const char *v = Resolve(ctx, stickiness);

		return Truthy(v) ? v : RandomId(100000);
	}
	for (i = 0; i < (int) lengthof(fields); i++)
	{
		const char *v = TopLevel(ctx, fields[i]);

		if (Truthy(v))
			return v;
	}
	return RandomId(100000);
}

/* Unleash's selectVariantDefinition. */
static const FlagVariant *
SelectVariant(const char *group_id, const char *stickiness, FlagVariant *variants, int n,
			  FlagContext *ctx)
{
	int64		total = 0;
	int64		counter = 0;
	uint32		target;
	int			i;
	int			j;
	int			k;

	for (i = 0; i < n; i++)
		total += variants[i].weight;
	if (total <= 0)
		return NULL;

	/* an override naming the context wins */
	for (i = 0; i < n; i++)
		for (j = 0; j < variants[i].noverrides; j++)
		{
			FlagOverride *o = &variants[i].overrides[j];
			const char *v = Resolve(ctx, o->context_name);

			if (v != NULL)
				for (k = 0; k < o->nvalues; k++)
					if (strcmp(o->values[k], v) == 0)
						return &variants[i];
		}

	target = Normalized(group_id, VariantSeed(ctx, stickiness), (uint32) total,
						ORION_FLAG_VARIANT_SEED);
	for (i = 0; i < n; i++)
	{
		if (variants[i].weight == 0)
			continue;
		counter += variants[i].weight;
		if (counter >= target)
			return &variants[i];
	}
	return NULL;
}

static void Evaluate(Flag *flag, FlagContext *ctx, bool with_variant, FlagResult *result,
					 int depth);

/* Unleash's isParentDependencySatisfied. */
static bool
DependenciesSatisfied(Flag *flag, FlagContext *ctx, int depth)
{
	int			i;

	for (i = 0; i < flag->ndependencies; i++)
	{
		FlagDependency *d = &flag->dependencies[i];
		Flag	   *parent = FlagCacheLookup(ctx->flags, d->feature);
		FlagResult	r;

		/* a missing parent, or one with parents of its own, is not satisfied */
		if (parent == NULL || parent->ndependencies > 0 || depth >= MAX_DEPENDENCY_DEPTH)
			return false;
		if (!d->enabled)
		{
			Evaluate(parent, ctx, false, &r, depth + 1);
			if (r.enabled)
				return false;
			continue;
		}
		Evaluate(parent, ctx, d->nvariants > 0, &r, depth + 1);
		if (!r.enabled)
			return false;
		/* an enabled parent without a variant has the variant "disabled" */
		if (d->nvariants > 0 &&
			!InValues(r.variant ? r.variant->name : "disabled", d->variants, d->nvariants))
			return false;
	}
	return true;
}

static bool
HasTargeting(FlagStrategy *s)
{
	return s->nconstraints > 0 || s->nsegments > 0 ||
		s->kind == FLAG_STRATEGY_USER_WITH_ID || s->kind == FLAG_STRATEGY_REMOTE_ADDRESS ||
		s->kind == FLAG_STRATEGY_APPLICATION_HOSTNAME;
}

static void
Evaluate(Flag *flag, FlagContext *ctx, bool with_variant, FlagResult *result, int depth)
{
	FlagStrategy *matched = NULL;
	const FlagVariant *strategy_variant = NULL;
	int			i;

	memset(result, 0, sizeof(*result));
	if (flag->broken)
	{
		result->reason = FLAG_REASON_ERROR;
		result->error_code = "PARSE_ERROR";
		return;
	}
	if (!DependenciesSatisfied(flag, ctx, depth) || !flag->enabled)
	{
		result->reason = FLAG_REASON_DISABLED;
		return;
	}

	if (!flag->has_strategies)
	{
		/* Unleash: a toggle without a strategies list is off */
		result->reason = FLAG_REASON_DEFAULT;
		return;
	}
	if (flag->nstrategies == 0)
	{
		/* an empty list: on for everyone */
		result->enabled = true;
		result->reason = FLAG_REASON_DEFAULT;
	}
	else
	{
		for (i = 0; i < flag->nstrategies && matched == NULL; i++)
			if (!flag->strategies[i].disabled &&
				StrategyEnabled(flag, &flag->strategies[i], ctx))
				matched = &flag->strategies[i];
		if (matched == NULL)
		{
			result->reason = FLAG_REASON_DEFAULT;
			return;
		}
		result->enabled = true;
		result->reason = HasTargeting(matched) ? FLAG_REASON_TARGETING_MATCH :
			(!isnan(matched->percentage) && matched->percentage < 100) ? FLAG_REASON_SPLIT :
			FLAG_REASON_DEFAULT;
		if (with_variant && matched->nvariants > 0)
		{
			const char *stickiness = matched->variants[0].stickiness ?
				matched->variants[0].stickiness : matched->stickiness;

			/* JavaScript writes a missing groupId as "undefined" */
			strategy_variant = SelectVariant(matched->group_id ? matched->group_id : "undefined",
											 stickiness, matched->variants,
											 matched->nvariants, ctx);
		}
	}

	if (!with_variant)
		return;
	if (strategy_variant != NULL)
		result->variant = strategy_variant;
	else if (flag->nvariants > 0)
	{
		result->variant = SelectVariant(flag->key, flag->variants[0].stickiness,
										flag->variants, flag->nvariants, ctx);
		if (result->variant != NULL && result->reason == FLAG_REASON_DEFAULT)
			result->reason = FLAG_REASON_SPLIT;
	}
}

void
FlagEvaluate(Flag *flag, FlagContext *ctx, bool with_variant, FlagResult *result)
{
	Evaluate(flag, ctx, with_variant, result, 0);
}
