/*-------------------------------------------------------------------------
 *
 * flag.c
 *	  The SQL functions of feature flags: flag_enabled, flag_variant,
 *	  evaluate_flag, evaluate_all_flags, validate_rollout,
 *	  validate_segment_constraints.
 *
 * They build the evaluation context from their arguments and hand the
 * cached flag to flag_eval.c. flag_enabled is the hot path: a cache lookup
 * and an evaluation, no SPI and no allocation for a plain on/off answer
 * with an empty context. An unknown flag is off, never an error.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "common/key_memo.h"
#include "common/query.h"
#include "common/request.h"
#include "common/validate.h"
#include "flags/flag_cache.h"
#include "flags/flag_eval.h"
#include "flags/flag_parse.h"
#include "flags/flag_types.h"
#include "flags/murmur3.h"

/*
 * The uuid in its text form into out[37], without allocating: two hex
 * digits per byte from a table (this runs once per evaluated row).
 */
static void
UuidText(const pg_uuid_t *uuid, char *out)
{
	static char pairs[256][2];
	static bool pairs_ready = false;
	int			i;
	char	   *p = out;

	if (!pairs_ready)
	{
		static const char hex[] = "0123456789abcdef";

		for (i = 0; i < 256; i++)
		{
			pairs[i][0] = hex[i >> 4];
			pairs[i][1] = hex[i & 0x0F];
		}
		pairs_ready = true;
	}
	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		memcpy(p, pairs[uuid->data[i]], 2);
		p += 2;
	}
	*p = '\0';
}

/*
 * Whether a jsonb datum is the empty object, read from its raw bytes so the
 * common '{}' needs no detoasting copy.
 */
static bool
IsEmptyObject(Datum d)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);
	uint32		header;

	if (VARATT_IS_EXTERNAL(raw) || VARATT_IS_COMPRESSED(raw) ||
		VARSIZE_ANY_EXHDR(raw) != sizeof(uint32))
		return false;
	memcpy(&header, VARDATA_ANY(raw), sizeof(uint32));
	return (header & JB_FOBJECT) != 0 && (header & JB_CMASK) == 0;
}

/*
 * What a call site remembers in fn_extra between calls: the flag it names,
 * looked up once per filling of the flag cache rather than once per row,
 * and the last context object with the fields read from it. The flag
 * pointer is used only while its filling is current, which the generation
 * check proves, and only after the call pinned that filling.
 */
typedef struct FlagMemo
{
	OrionKeyMemo *flag;			/* the flag_key's flag */
	Jsonb	   *context;		/* a copy in fields.mcxt, or NULL */
	JsonbContainer *properties; /* its "properties" object, or NULL */
	FlagFieldMemo fields;
} FlagMemo;

/* the largest context remembered between calls; a bigger one is read each call */
#define CONTEXT_MEMO_MAX_BYTES 8192

static FlagMemo *
GetMemo(FunctionCallInfo fcinfo)
{
	FlagMemo   *memo = (FlagMemo *) fcinfo->flinfo->fn_extra;

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FlagMemo));
		memo->flag = OrionKeyMemoCreate(fcinfo->flinfo->fn_mcxt);
		memo->fields.mcxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
												  "orion flag context memo",
												  ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = memo;
	}
	return memo;
}

/* Forget the remembered context and its fields. */
static void
ForgetContext(FlagMemo *memo)
{
	MemoryContextReset(memo->fields.mcxt);
	memo->fields.nfields = 0;
	memo->context = NULL;
	memo->properties = NULL;
}

/*
 * The flag the flag_key argument names in the pinned cache filling, or
 * NULL when there is none.
 */
static Flag *
LookupFlag(FunctionCallInfo fcinfo, const OrionCacheFilling *flags)
{
	FlagMemo   *memo = GetMemo(fcinfo);
	uint64		generation = flags->generation;
	text	   *key;
	void	   *flag;
	char		buf[ORION_KEY_MAX_BYTES + 1];

	key = PG_GETARG_TEXT_PP(0);
	if (VARSIZE_ANY_EXHDR(key) > ORION_KEY_MAX_BYTES)
		return NULL;			/* no flag has so long a key */
	if (OrionKeyMemoGet(memo->flag, generation, key, &flag))
		return flag;
	if (memo->flag->generation != generation)
		ForgetContext(memo);	/* its field names belonged to the old flags */
	OrionKeyCString(key, buf);
	flag = FlagCacheLookup(flags, buf);
	OrionKeyMemoSet(memo->flag, generation, key, flag);
	return flag;
}

/*
 * Check the context object and find its "properties"; errors for anything
 * but an object with, if any, an object (or null) as properties.
 */
static void
ReadContextObject(Jsonb *context, FlagContext *ctx)
{
	JsonbValue *properties;

	if (!JB_ROOT_IS_OBJECT(context) || JB_ROOT_IS_SCALAR(context))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("context must be a JSON object"),
				 errdetail("An Unleash context: {\"userId\": ..., \"sessionId\": ..., "
						   "\"properties\": {...}}.")));
	ctx->json = &context->root;
	properties = getKeyJsonValueFromContainer(ctx->json, "properties",
											  strlen("properties"), NULL);
	if (properties != NULL && properties->type != jbvNull)
	{
		if (properties->type != jbvBinary || !JsonContainerIsObject(properties->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("context.properties must be a JSON object")));
		ctx->properties = properties->val.binary.data;
	}
}

/*
 * The context from the user_id and context arguments (argno and argno + 1),
 * evaluated in the pinned flag cache filling flags.
 * With a memo (the call site's, after LookupFlag), a context equal byte for
 * byte to the last one reuses it and the fields already read from it.
 */
static void
BuildContext(FunctionCallInfo fcinfo, int argno, FlagContext *ctx, FlagMemo *memo,
			 const OrionCacheFilling *flags)
{
	Datum		d;
	struct varlena *raw;

	memset(ctx, 0, sizeof(*ctx));
	ctx->flags = flags;
	if (PG_NARGS() > argno && !PG_ARGISNULL(argno))
		UuidText(PG_GETARG_UUID_P(argno), ctx->user_id);
	if (PG_NARGS() <= argno + 1 || PG_ARGISNULL(argno + 1))
		return;
	d = PG_GETARG_DATUM(argno + 1);
	if (IsEmptyObject(d))
		return;

	raw = (struct varlena *) DatumGetPointer(d);
	if (memo == NULL || VARATT_IS_EXTERNAL(raw) || VARATT_IS_COMPRESSED(raw) ||
		VARSIZE_ANY_EXHDR(raw) > CONTEXT_MEMO_MAX_BYTES)
	{
		ReadContextObject(PG_GETARG_JSONB_P(argno + 1), ctx);
		return;
	}
	if (memo->context == NULL ||
		VARSIZE(memo->context) - VARHDRSZ != VARSIZE_ANY_EXHDR(raw) ||
		memcmp(VARDATA(memo->context), VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw)) != 0)
	{
		Jsonb	   *copy;
		FlagContext read;

		ForgetContext(memo);
		copy = MemoryContextAlloc(memo->fields.mcxt, VARSIZE_ANY_EXHDR(raw) + VARHDRSZ);
		SET_VARSIZE(copy, VARSIZE_ANY_EXHDR(raw) + VARHDRSZ);
		memcpy(VARDATA(copy), VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw));
		memset(&read, 0, sizeof(read));
		ReadContextObject(copy, &read);
		memo->context = copy;
		memo->properties = read.properties;
	}
	ctx->json = &memo->context->root;
	ctx->properties = memo->properties;
	ctx->memo = &memo->fields;
}

/* Unleash's variant object: name, enabled, feature_enabled, payload. */
static Jsonb *
VariantJson(const FlagResult *r)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"name\": ");
	escape_json(&buf, r->variant ? r->variant->name : "disabled");
	appendStringInfo(&buf, ", \"enabled\": %s, \"feature_enabled\": %s",
					 r->variant ? "true" : "false", r->enabled ? "true" : "false");
	if (r->variant && r->variant->payload)
	{
		appendStringInfoString(&buf, ", \"payload\": ");
		appendStringInfoString(&buf, JsonbToCString(NULL, &r->variant->payload->root,
													VARSIZE(r->variant->payload)));
	}
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

static const char *
ReasonName(FlagReason reason)
{
	switch (reason)
	{
		case FLAG_REASON_DISABLED:
			return "DISABLED";
		case FLAG_REASON_TARGETING_MATCH:
			return "TARGETING_MATCH";
		case FLAG_REASON_SPLIT:
			return "SPLIT";
		case FLAG_REASON_DEFAULT:
			return "DEFAULT";
		case FLAG_REASON_ERROR:
			break;
	}
	return "ERROR";
}

/*
 * orion.flag_enabled(flag_key text, user_id uuid, context jsonb) returns boolean
 */
PG_FUNCTION_INFO_V1(orion_flag_enabled);
Datum
orion_flag_enabled(PG_FUNCTION_ARGS)
{
	FlagContext ctx;
	FlagResult	result;
	OrionCacheFilling *flags;
	Flag	   *flag;

	ORION_REQUIRE_ARG(fcinfo, 0, "flag_key");
	flags = FlagCachePin();
	flag = LookupFlag(fcinfo, flags);
	result.enabled = false;
	if (flag != NULL)
	{
		BuildContext(fcinfo, 1, &ctx, GetMemo(fcinfo), flags);
		FlagEvaluate(flag, &ctx, false, &result);
	}
	FlagCacheUnpin(flags);
	PG_RETURN_BOOL(result.enabled);
}

/*
 * orion.flag_variant(flag_key text, user_id uuid, context jsonb) returns jsonb
 */
PG_FUNCTION_INFO_V1(orion_flag_variant);
Datum
orion_flag_variant(PG_FUNCTION_ARGS)
{
	FlagContext ctx;
	FlagResult	result;
	OrionCacheFilling *flags;
	Flag	   *flag;
	Jsonb	   *variant;

	ORION_REQUIRE_ARG(fcinfo, 0, "flag_key");
	flags = FlagCachePin();
	flag = LookupFlag(fcinfo, flags);
	memset(&result, 0, sizeof(result));
	if (flag != NULL)
	{
		BuildContext(fcinfo, 1, &ctx, GetMemo(fcinfo), flags);
		FlagEvaluate(flag, &ctx, true, &result);
	}
	variant = VariantJson(&result);	/* a copy: result.variant is the filling's */
	FlagCacheUnpin(flags);
	PG_RETURN_JSONB_P(variant);
}

/*
 * orion.evaluate_flag(flag_key text, user_id uuid, context jsonb) returns jsonb
 *
 * {"key", "enabled", "variant", "config", "reason"} and, with reason ERROR,
 * "errorCode" (FLAG_NOT_FOUND, PARSE_ERROR), in OpenFeature's terms.
 */
PG_FUNCTION_INFO_V1(orion_evaluate_flag);
Datum
orion_evaluate_flag(PG_FUNCTION_ARGS)
{
	FlagContext ctx;
	FlagResult	result;
	OrionCacheFilling *flags;
	Flag	   *flag;
	StringInfoData buf;

	ORION_REQUIRE_ARG(fcinfo, 0, "flag_key");
	flags = FlagCachePin();
	flag = LookupFlag(fcinfo, flags);
	memset(&result, 0, sizeof(result));
	if (flag != NULL)
	{
		BuildContext(fcinfo, 1, &ctx, GetMemo(fcinfo), flags);
		FlagEvaluate(flag, &ctx, true, &result);
	}
	else
	{
		result.reason = FLAG_REASON_ERROR;
		result.error_code = "FLAG_NOT_FOUND";
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"key\": ");
	escape_json(&buf, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	appendStringInfo(&buf, ", \"enabled\": %s, \"variant\": %s, \"config\": %s, \"reason\": \"%s\"",
					 result.enabled ? "true" : "false",
					 JsonbToCString(NULL, &VariantJson(&result)->root, 64),
					 (flag && flag->config) ? JsonbToCString(NULL, &flag->config->root,
															 VARSIZE(flag->config)) : "null",
					 ReasonName(result.reason));
	if (result.error_code)
		appendStringInfo(&buf, ", \"errorCode\": \"%s\"", result.error_code);
	appendStringInfoChar(&buf, '}');
	/* buf holds copies of everything read from the filling */
	FlagCacheUnpin(flags);
	PG_RETURN_JSONB_P(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data))));
}

/*
 * orion.evaluate_all_flags(user_id uuid, context jsonb)
 *	 returns table (flag_key text, enabled boolean, variant jsonb, config jsonb)
 *
 * Every flag for one user, to bootstrap a client in one round trip.
 */
PG_FUNCTION_INFO_V1(orion_evaluate_all_flags);
Datum
orion_evaluate_all_flags(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FlagContext ctx;
	OrionCacheFilling *pinned;
	Flag	  **flags;
	int			n;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	pinned = FlagCachePin();
	BuildContext(fcinfo, 0, &ctx, NULL, pinned);
	flags = FlagCacheAll(pinned, &n);
	for (i = 0; i < n; i++)
	{
		FlagResult	result;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		FlagEvaluate(flags[i], &ctx, true, &result);
		values[0] = CStringGetTextDatum(flags[i]->key);
		values[1] = BoolGetDatum(result.enabled);
		values[2] = JsonbPGetDatum(VariantJson(&result));
		if (flags[i]->config)
			values[3] = JsonbPGetDatum(flags[i]->config);
		else
			nulls[3] = true;
		/* copied into the tuplestore */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	FlagCacheUnpin(pinned);
	return (Datum) 0;
}

static char *
ParseRollout(Jsonb *json)
{
	Flag		parsed;

	memset(&parsed, 0, sizeof(parsed));
	return FlagParseRollout(json, "", &parsed);
}

static char *
ParseSegment(Jsonb *json)
{
	FlagSegment parsed;

	memset(&parsed, 0, sizeof(parsed));
	return FlagParseSegment(json, &parsed);
}

/*
 * orion.validate_rollout(rollout jsonb) returns boolean
 *
 * True, or an ERROR naming the JSON path and the problem. The CHECK of
 * feature_flags.rollout calls it.
 */
PG_FUNCTION_INFO_V1(orion_validate_rollout);
Datum
orion_validate_rollout(PG_FUNCTION_ARGS)
{
	char	   *problem = OrionParseForVerdict(ParseRollout, PG_GETARG_JSONB_P(0));

	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid rollout: %s", problem),
				 errhint("See \"Feature flags\" in orion's README for the two forms a rollout takes.")));
	PG_RETURN_BOOL(true);
}

/*
 * orion.validate_segment_constraints(constraints jsonb) returns boolean
 */
PG_FUNCTION_INFO_V1(orion_validate_segment_constraints);
Datum
orion_validate_segment_constraints(PG_FUNCTION_ARGS)
{
	char	   *problem = OrionParseForVerdict(ParseSegment, PG_GETARG_JSONB_P(0));

	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid segment: %s", problem)));
	PG_RETURN_BOOL(true);
}

/*
 * orion.flag_bucket(group_id text, id text, normalizer integer, seed bigint)
 *	 returns integer
 *
 * Unleash's normalized value: murmur3("group_id:id", seed) % normalizer + 1,
 * over UTF-8 bytes. With the defaults (100, seed 0) it is the bucket a
 * percentage rollout compares; variants use seed 86028157 and the total of
 * their weights.
 */
PG_FUNCTION_INFO_V1(orion_flag_bucket);
Datum
orion_flag_bucket(PG_FUNCTION_ARGS)
{
	text	   *group_id = PG_GETARG_TEXT_PP(0);
	text	   *id = PG_GETARG_TEXT_PP(1);
	int32		normalizer = PG_GETARG_INT32(2);
	int64		seed = PG_GETARG_INT64(3);
	StringInfoData key;

	if (normalizer < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("normalizer must be at least 1")));
	if (seed < 0 || seed > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seed must be from 0 to 4294967295")));
	initStringInfo(&key);
	appendBinaryStringInfo(&key, VARDATA_ANY(group_id), VARSIZE_ANY_EXHDR(group_id));
	appendStringInfoChar(&key, ':');
	appendBinaryStringInfo(&key, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id));
	PG_RETURN_INT32((int32) (OrionMurmur3(key.data, key.len, (uint32) seed) % (uint32) normalizer) + 1);
}
