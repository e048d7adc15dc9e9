/*-------------------------------------------------------------------------
 *
 * index_probe.h
 *	  Reading one row of a table through a unique btree index, without the
 *	  executor.
 *
 * The hot paths (a session check, a repeat AB assignment) read one row by
 * its key. Run as a statement through SPI, the executor's start-up costs
 * more than the index probe itself; a probe declared here is a btree scan
 * under the caller's active snapshot and nothing else. It reports itself
 * unusable, so that the caller runs its statement instead, whenever the
 * plain probe would not read what the statement reads: row-level security
 * on the table, no table-level SELECT privilege (the statement decides,
 * by its column privileges), or a table or index not shaped as declared.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/index_probe.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_INDEX_PROBE_H
#define ORION_INDEX_PROBE_H

#include "access/attnum.h"
#include "common/table_cache.h"

#define ORION_PROBE_MAX_KEYS 2
#define ORION_PROBE_MAX_COLUMNS 6

/*
 * Declare one static, with table, index, keys and columns set, and
 * register it once from _PG_init. The rest is found on first use and
 * again after a relcache invalidation of the table (DDL, GRANT, ANALYZE).
 */
typedef struct OrionIndexProbe
{
	OrionTableCache table;		/* schema and table */
	const char *index;			/* a unique btree index in the same schema */
	const char *keys[ORION_PROBE_MAX_KEYS + 1];	/* its key columns, in order; NULL-terminated */
	const char *columns[ORION_PROBE_MAX_COLUMNS + 1];	/* the columns read; NULL-terminated */
	/* found */
	bool		usable;
	Oid			relid;
	Oid			indexid;
	int			nkeys;
	int			ncolumns;
	AttrNumber	column_numbers[ORION_PROBE_MAX_COLUMNS];
	RegProcedure key_procs[ORION_PROBE_MAX_KEYS];
	Oid			key_types[ORION_PROBE_MAX_KEYS];
	Oid			key_collations[ORION_PROBE_MAX_KEYS];
} OrionIndexProbe;

typedef enum OrionProbeResult
{
	ORION_PROBE_UNUSABLE,		/* run the statement instead */
	ORION_PROBE_MISS,
	ORION_PROBE_HIT
} OrionProbeResult;

extern void OrionIndexProbeRegister(OrionIndexProbe *probe);

/*
 * The row whose keys equal keys[] (of the index's key types), its columns
 * copied into values/nulls in the current memory context, under the
 * active snapshot and the current user's privileges.
 */
extern OrionProbeResult OrionIndexProbeFetch(OrionIndexProbe *probe, const Datum *keys,
											 Datum *values, bool *nulls);

#endif							/* ORION_INDEX_PROBE_H */
