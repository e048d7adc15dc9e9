/*-------------------------------------------------------------------------
 *
 * query.h
 *	  SQL statements run through SPI with $n parameters, planned once per
 *	  backend.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/query.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_QUERY_H
#define ORION_QUERY_H

#include "executor/spi.h"

#define ORION_QUERY_MAX_ARGS 10

/*
 * A statement and its parameter types. Declare one as a static variable
 * next to the code that runs it; its plan is made on first use and kept
 * (SPI_keepplan). The plan cache checks a kept plan before each run and
 * replans after DDL on what it reads, so a kept plan never outlives the
 * tables it was made for.
 */
typedef struct OrionQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[ORION_QUERY_MAX_ARGS];
	SPIPlanPtr	plan;
} OrionQuery;

/*
 * Run q with values and nulls (SPI's convention: 'n' for NULL, ' ' for not;
 * nulls may be NULL when none is). SPI must be connected. Returns the number
 * of rows processed; the rows are in SPI_tuptable.
 */
extern uint64 OrionQueryRun(OrionQuery *q, Datum *values, const char *nulls,
							bool read_only, long max_rows);

/*
 * Pin search_path to "pg_catalog, pg_temp" until OrionUnpinSearchPath()
 * (or the end of the transaction, on error). For SECURITY DEFINER functions
 * that run SQL only now and then: a SET clause on the function would pay
 * for the switch on every call.
 */
extern int	OrionPinSearchPath(void);
extern void OrionUnpinSearchPath(int nest_level);

/* Column col (1-based) of row of SPI_tuptable. */
extern Datum OrionQueryGet(uint64 row, int col, bool *isnull);

#endif							/* ORION_QUERY_H */
