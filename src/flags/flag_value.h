/*-------------------------------------------------------------------------
 *
 * flag_value.h
 *	  The values feature-flag constraints compare: numbers, dates, semantic
 *	  versions, regular expressions and IP networks, read as Unleash reads
 *	  them.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_value.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FLAG_VALUE_H
#define ORION_FLAG_VALUE_H

#include "flags/flag_types.h"

/* JavaScript's Number(s): false when it is NaN. */
extern bool FlagJsNumber(const char *s, double *out);

/* A date as Unleash's constraint values write them (ISO 8601). */
extern bool FlagParseDate(const char *s, TimestampTz *out);

/*
 * A semantic version as node-semver reads it; allow_v accepts a leading "v"
 * (constraint values may have one; context values may not).
 */
extern void FlagParseSemver(const char *s, bool allow_v, FlagSemver *out);
/* <0, 0, >0 as a is lower, equal, higher than b; both valid. */
extern int	FlagSemverCompare(const FlagSemver *a, const FlagSemver *b);

/*
 * A compiled regular expression, or NULL when it does not compile. What the
 * regex library allocates outside memory contexts is freed when the current
 * memory context is reset or deleted.
 */
extern regex_t *FlagCompileRegex(const char *pattern, bool case_insensitive);
/* Whether re matches anywhere in s. */
extern bool FlagRegexMatch(regex_t *re, const char *s);

/* An IPv4 or IPv6 address or network ("10.0.0.0/8"); family 0 if invalid. */
extern void FlagParseCidr(const char *s, FlagCidr *out);
/* Whether address lies in network (both parsed, same family). */
extern bool FlagCidrContains(const FlagCidr *network, const FlagCidr *address);

/* s lower-cased, as toLocaleLowerCase() does for the database's locale. */
extern char *FlagLower(const char *s);

/* An original-form variant value as an Unleash payload {"type", "value"}. */
extern Jsonb *FlagPayloadFromValue(JsonbValue *value);

#endif							/* ORION_FLAG_VALUE_H */
