/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  Running a JSON parser for its verdict only, as the CHECK constraints do.
 *
 * The CHECKs on rollouts, segments and AB variants parse the value with the
 * parser the caches use, so that what is accepted on write is exactly what
 * can be evaluated; the structures built are thrown away with the scratch
 * memory context (and with them the compiled regular expressions, which
 * free themselves when their context goes).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "common/validate.h"

char *
OrionParseForVerdict(OrionJsonParser parse, Jsonb *json)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "orion validation",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(scratch);
	char	   *problem = parse(json);

	MemoryContextSwitchTo(old);
	if (problem)
		problem = pstrdup(problem);
	MemoryContextDelete(scratch);
	return problem;
}
