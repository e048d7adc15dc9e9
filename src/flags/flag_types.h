/*-------------------------------------------------------------------------
 *
 * flag_types.h
 *	  Feature flags: the parsed form of a rollout, and what evaluating one
 *	  reads and gives.
 *
 * A rollout (feature_flags.rollout) is parsed once into these structures,
 * kept in the backend's flag cache (flag_cache.c), and evaluated per call
 * against a context (flag_eval.c) without touching JSON or tables again.
 * The functions are declared in flag_parse.h, flag_cache.h, flag_eval.h
 * and flag_user.h.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_types.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FLAG_TYPES_H
#define ORION_FLAG_TYPES_H

#include "datatype/timestamp.h"
#include "regex/regex.h"
#include "utils/jsonb.h"

#include "common/table_cache.h"

/* Unleash buckets strategies with seed 0 and variants with this seed. */
#define ORION_FLAG_VARIANT_SEED 86028157

typedef enum FlagOperator
{
	FLAG_OP_UNKNOWN = 0,		/* an operator this engine does not know: false */
	FLAG_OP_IN,
	FLAG_OP_NOT_IN,
	FLAG_OP_STR_CONTAINS,
	FLAG_OP_STR_STARTS_WITH,
	FLAG_OP_STR_ENDS_WITH,
	FLAG_OP_NUM_EQ,
	FLAG_OP_NUM_GT,
	FLAG_OP_NUM_GTE,
	FLAG_OP_NUM_LT,
	FLAG_OP_NUM_LTE,
	FLAG_OP_DATE_AFTER,
	FLAG_OP_DATE_BEFORE,
	FLAG_OP_SEMVER_EQ,
	FLAG_OP_SEMVER_GT,
	FLAG_OP_SEMVER_GTE,
	FLAG_OP_SEMVER_LT,
	FLAG_OP_SEMVER_LTE,
	FLAG_OP_REGEX,
	FLAG_OP_IN_CIDR
} FlagOperator;

/* A semantic version, as node-semver reads it. */
typedef struct FlagSemver
{
	bool		valid;
	int64		major;
	int64		minor;
	int64		patch;
	int			nprerelease;
	char	  **prerelease;		/* identifiers, as written */
} FlagSemver;

/* An IPv4 or IPv6 network: family, address bytes, prefix length. */
typedef struct FlagCidr
{
	int			family;			/* PGSQL_AF_INET or PGSQL_AF_INET6; 0: invalid */
	int			bits;
	unsigned char addr[16];
} FlagCidr;

typedef struct FlagConstraint
{
	char	   *context_name;
	FlagOperator op;
	bool		inverted;
	bool		case_insensitive;
	int			nvalues;
	char	  **values;			/* cleaned: empty ones dropped, trimmed */
	char	  **lower_values;	/* lower-cased, when case_insensitive */
	char	   *value;			/* the single value, or NULL */
	/* the single value, prepared once for its operator */
	bool		number_valid;
	double		number;
	bool		date_valid;
	TimestampTz date;
	FlagSemver	semver;
	regex_t    *regex;			/* NULL when it does not compile */
	FlagCidr   *cidrs;			/* one per value, for IN_CIDR */
} FlagConstraint;

typedef struct FlagOverride
{
	char	   *context_name;
	int			nvalues;
	char	  **values;
} FlagOverride;

typedef struct FlagVariant
{
	char	   *name;
	int			weight;
	char	   *stickiness;		/* NULL: not given */
	Jsonb	   *payload;		/* {"type", "value"}, or NULL */
	int			noverrides;
	FlagOverride *overrides;
} FlagVariant;

typedef enum FlagStrategyKind
{
	FLAG_STRATEGY_UNKNOWN = 0,	/* a custom strategy: never enabled here */
	FLAG_STRATEGY_DEFAULT,
	FLAG_STRATEGY_USER_WITH_ID,
	FLAG_STRATEGY_GRADUAL_USER_ID,
	FLAG_STRATEGY_GRADUAL_SESSION_ID,
	FLAG_STRATEGY_GRADUAL_RANDOM,
	FLAG_STRATEGY_REMOTE_ADDRESS,
	FLAG_STRATEGY_FLEXIBLE_ROLLOUT,
	FLAG_STRATEGY_APPLICATION_HOSTNAME
} FlagStrategyKind;

typedef enum FlagStickinessKind
{
	FLAG_STICKINESS_DEFAULT,	/* userId, then sessionId, then random */
	FLAG_STICKINESS_RANDOM,
	FLAG_STICKINESS_FIELD		/* a context field named by stickiness */
} FlagStickinessKind;

typedef struct FlagStrategy
{
	FlagStrategyKind kind;
	char	   *name;
	bool		disabled;		/* kept in the toggle, never evaluated */
	double		percentage;		/* rollout / percentage; NaN: not a number */
	char	   *group_id;		/* parameters.groupId, or NULL */
	char	   *stickiness;		/* parameters.stickiness, or NULL */
	FlagStickinessKind stickiness_kind;	/* what stickiness means, decided once */
	int			nlist;
	char	  **list;			/* userIds, IPs or hostNames, split */
	int			nconstraints;
	FlagConstraint *constraints;
	int			nsegments;
	int		   *segments;		/* segment ids */
	int			nvariants;
	FlagVariant *variants;
} FlagStrategy;

typedef struct FlagDependency
{
	char	   *feature;
	bool		enabled;		/* false: the parent must be off */
	int			nvariants;
	char	  **variants;
} FlagDependency;

typedef struct Flag
{
	char	   *key;			/* hash key: must stay first */
	bool		enabled;
	bool		broken;			/* the stored rollout could not be parsed */
	bool		has_strategies; /* false: the rollout has no strategies list */
	int			nstrategies;
	FlagStrategy *strategies;
	int			nvariants;
	FlagVariant *variants;
	int			ndependencies;
	FlagDependency *dependencies;
	Jsonb	   *config;
} Flag;

typedef struct FlagSegment
{
	int			id;				/* hash key: must stay first */
	int			nconstraints;
	FlagConstraint *constraints;
} FlagSegment;

/*
 * The context a flag is evaluated in: the caller's Unleash context (a JSON
 * object, maybe empty) and what orion adds: the user id, and the user's
 * email, role and emailVerified fetched on first use.
 */
/*
 * Fields already read from the caller's context object, kept by flag.c
 * across calls that pass the same context, so that a query evaluating a
 * flag for many users with one context reads its JSON once. Names are
 * matched by address: they are the cached flag's strings or string
 * constants, both stable while the call's pinned filling of the flag cache
 * lives, and the memo is emptied when the generation of the filling a call
 * pins differs from the last one, or the context changes.
 */
#define FLAG_FIELD_MEMO_SIZE 16

typedef struct FlagFieldMemo
{
	MemoryContext mcxt;			/* holds the values; reset when emptied */
	int			nfields;
	struct
	{
		const char *name;
		bool		top;		/* context[name], else context.properties[name] */
		const char *value;		/* NULL: absent or null */
	}			fields[FLAG_FIELD_MEMO_SIZE];
} FlagFieldMemo;

typedef struct FlagContext
{
	JsonbContainer *json;		/* the caller's context object, or NULL */
	JsonbContainer *properties; /* its "properties" object, or NULL */
	FlagFieldMemo *memo;		/* fields read so far, or NULL: read each time */
	const OrionCacheFilling *flags; /* the pinned flag cache: segments, parents */
	char		user_id[37];	/* the user_id argument as text, or "" */
	bool		user_loaded;
	bool		user_found;
	char	   *user_email;
	char	   *user_role;
	bool		user_email_verified;
} FlagContext;

/* What evaluating one flag gives. */
typedef enum FlagReason
{
	FLAG_REASON_DISABLED,		/* the flag, or a dependency, is off */
	FLAG_REASON_TARGETING_MATCH,	/* a strategy with targeting matched */
	FLAG_REASON_SPLIT,			/* a percentage rollout let the user in */
	FLAG_REASON_DEFAULT,		/* on for everyone, or no strategy matched */
	FLAG_REASON_ERROR			/* unknown flag, or a rollout that cannot be read */
} FlagReason;

typedef struct FlagResult
{
	bool		enabled;
	FlagReason	reason;
	const char *error_code;		/* with FLAG_REASON_ERROR: FLAG_NOT_FOUND, PARSE_ERROR */
	const FlagVariant *variant; /* the chosen variant, or NULL */
} FlagResult;

#endif							/* ORION_FLAG_TYPES_H */
