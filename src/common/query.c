/*-------------------------------------------------------------------------
 *
 * query.c
 *	  SQL statements run through SPI with $n parameters, planned once per
 *	  backend.
 *
 * Every value reaches SQL as a parameter, never as text pasted into a
 * statement. Plans are kept for the life of the backend (SPI_keepplan); the
 * plan cache replans them when the tables change, including after DROP and
 * CREATE EXTENSION, since every statement names its tables schema-qualified.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/query.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/guc.h"

#include "common/query.h"

uint64
OrionQueryRun(OrionQuery *q, Datum *values, const char *nulls, bool read_only, long max_rows)
{
	int			rc;

	if (q->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(q->sql, q->nargs, q->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		q->plan = plan;
	}

	rc = SPI_execute_plan(q->plan, values, nulls, read_only, max_rows);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 q->sql, SPI_result_code_string(rc));
	return SPI_processed;
}

Datum
OrionQueryGet(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

int
OrionPinSearchPath(void)
{
	int			nest_level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest_level;
}

void
OrionUnpinSearchPath(int nest_level)
{
	AtEOXact_GUC(true, nest_level);
}
