/*-------------------------------------------------------------------------
 *
 * index_probe.c
 *	  Reading one row of a table through a unique btree index, without the
 *	  executor (see index_probe.h).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/index_probe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "common/compat.h"
#include "common/index_probe.h"

/* The column of rel named name, or InvalidAttrNumber. */
static AttrNumber
ColumnNumber(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	return InvalidAttrNumber;
}

/*
 * Whether index is a valid, unique, plain btree of rel on exactly the
 * declared key columns, and if so its equality procedures.
 */
static bool
ReadIndex(OrionIndexProbe *probe, Relation rel, Relation index)
{
	Form_pg_index form = index->rd_index;
	int			i;

	if (form->indrelid != RelationGetRelid(rel) || index->rd_rel->relam != BTREE_AM_OID ||
		!form->indisvalid || !form->indisunique || form->indnkeyatts != probe->nkeys ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL) ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL))
		return false;
	for (i = 0; i < probe->nkeys; i++)
	{
		Oid			type = index->rd_opcintype[i];
		Oid			op = get_opfamily_member(index->rd_opfamily[i], type, type,
											 BTEqualStrategyNumber);

		if (form->indkey.values[i] != ColumnNumber(rel, probe->keys[i]) || !OidIsValid(op))
			return false;
		probe->key_procs[i] = get_opcode(op);
		probe->key_types[i] = type;
		probe->key_collations[i] = index->rd_indcollation[i];
	}
	return true;
}

/* Find the table, the index and the columns again. */
static void
FindProbe(OrionIndexProbe *probe)
{
	uint64		mark = OrionTableCacheBeginFill(&probe->table);
	Relation	rel;
	Relation	index;
	int			i;

	probe->usable = false;
	probe->relid = probe->table.relids[0];
	probe->indexid = OidIsValid(probe->relid) ?
		get_relname_relid(probe->index, get_rel_namespace(probe->relid)) : InvalidOid;
	if (OidIsValid(probe->indexid))
	{
		rel = table_open(probe->relid, AccessShareLock);
		index = index_open(probe->indexid, AccessShareLock);
		probe->usable = !rel->rd_rel->relrowsecurity && ReadIndex(probe, rel, index);
		for (i = 0; i < probe->ncolumns; i++)
		{
			probe->column_numbers[i] = ColumnNumber(rel, probe->columns[i]);
			if (probe->column_numbers[i] == InvalidAttrNumber)
				probe->usable = false;
		}
		index_close(index, NoLock);
		table_close(rel, NoLock);
	}
	OrionTableCacheEndFill(&probe->table, mark);
}

void
OrionIndexProbeRegister(OrionIndexProbe *probe)
{
	for (probe->nkeys = 0; probe->keys[probe->nkeys] != NULL; probe->nkeys++)
		Assert(probe->nkeys < ORION_PROBE_MAX_KEYS);
	for (probe->ncolumns = 0; probe->columns[probe->ncolumns] != NULL; probe->ncolumns++)
		Assert(probe->ncolumns < ORION_PROBE_MAX_COLUMNS);
	OrionTableCacheRegister(&probe->table);
}

/*
 * The probe's table, locked, with the probe found as the table is now; or
 * NULL when the probe is unusable.
 *
 * The probe (OIDs, column numbers, procedures: plain fields, nothing that
 * an invalidation frees) can be older than the lock: when this transaction
 * does not hold one yet, DDL may have dropped or replaced the index, or a
 * column, since this backend last took in invalidations. Taking the lock
 * takes them in, so the probe is checked again after it and found anew if
 * it went stale; found under the lock, it stays right until the transaction
 * ends, as the lock does.
 */
static Relation
OpenProbedTable(OrionIndexProbe *probe)
{
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		Relation	rel;

		if (OrionTableCacheStale(&probe->table))
			FindProbe(probe);
		if (!probe->usable)
			return NULL;
		rel = try_relation_open(probe->relid, AccessShareLock);
		if (rel != NULL && !OrionTableCacheStale(&probe->table))
			return rel;
		if (rel != NULL)
			relation_close(rel, NoLock);
	}
	return NULL;				/* changing under us twice: let the statement read */
}

OrionProbeResult
OrionIndexProbeFetch(OrionIndexProbe *probe, const Datum *keys, Datum *values, bool *nulls)
{
	Relation	rel;
	Relation	index;
	ScanKeyData scankeys[ORION_PROBE_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	OrionProbeResult result = ORION_PROBE_MISS;
	int			i;

	if (!ActiveSnapshotSet())
		return ORION_PROBE_UNUSABLE;
	rel = OpenProbedTable(probe);
	if (rel == NULL)
		return ORION_PROBE_UNUSABLE;
	/* table-level SELECT, as the statement needs; anything finer is the statement's to judge */
	if (pg_class_aclcheck(probe->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		table_close(rel, NoLock);
		return ORION_PROBE_UNUSABLE;
	}
	index = index_open(probe->indexid, AccessShareLock);
	for (i = 0; i < probe->nkeys; i++)
		ScanKeyEntryInitialize(&scankeys[i], 0, i + 1, BTEqualStrategyNumber,
							   probe->key_types[i], probe->key_collations[i],
							   probe->key_procs[i], keys[i]);
	slot = table_slot_create(rel, NULL);
	scan = orion_index_beginscan(rel, index, GetActiveSnapshot(), probe->nkeys, 0);
	index_rescan(scan, scankeys, probe->nkeys, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		result = ORION_PROBE_HIT;
		for (i = 0; i < probe->ncolumns; i++)
		{
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel),
												  probe->column_numbers[i] - 1);
			Datum		d = slot_getattr(slot, probe->column_numbers[i], &nulls[i]);

			if (nulls[i])
				values[i] = (Datum) 0;
			else if (att->attlen == -1)
				values[i] = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));	/* plain, not a TOAST pointer */
			else
				values[i] = datumCopy(d, att->attbyval, att->attlen);
		}
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	/* the locks stay until the transaction ends, as the executor's do */
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return result;
}
