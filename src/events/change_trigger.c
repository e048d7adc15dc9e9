/*-------------------------------------------------------------------------
 *
 * change_trigger.c
 *	  The row trigger that audits changes to a service's definitions (flags,
 *	  segments, AB tests) and tells application caches about them.
 *
 *	  CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON table
 *	  FOR EACH ROW EXECUTE FUNCTION orion.audit_change(resource, key_column
 *	  [, cache_key_prefix])
 *
 * writes one audit entry per row ("<resource>.created", ".updated",
 * ".deleted") with the row before and after as JSON and the actor from
 * orion.actor_id, and, given a cache key prefix, sends
 * NOTIFY orion_cache_invalidate, '<prefix><key>' (delivered at commit, so a
 * rolled-back change notifies nobody).
 *
 * Rows loaded by COPY, as pg_restore and psql load a dump, are neither
 * audited nor notified: the dump carries the audit log as it was, and a
 * restore is not a change anyone made.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/events/change_trigger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/rel.h"

#include "common/audit.h"
#include "common/request.h"

/* the channel applications that keep their own caches listen on */
#define CACHE_CHANNEL "orion_cache_invalidate"

/* The row as a JSON object. SPI must be connected. */
static Jsonb *
RowJson(Relation rel, HeapTuple tuple)
{
	Oid			argtypes[1];
	Datum		values[1];

	if (tuple == NULL)
		return NULL;
	argtypes[0] = rel->rd_rel->reltype;
	values[0] = heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel));
	if (SPI_execute_with_args("SELECT pg_catalog.to_jsonb($1)", 1, argtypes, values, NULL,
							  true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not turn a row of \"%s\" into JSON", RelationGetRelationName(rel));
	{
		bool		isnull;

		return DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											&isnull));
	}
}

PG_FUNCTION_INFO_V1(orion_audit_change);
Datum
orion_audit_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	HeapTuple	old_row = NULL;
	HeapTuple	new_row = NULL;
	const char *verb;
	int			key_col;
	char	   *old_key = NULL;
	char	   *new_key = NULL;
	OrionAuditEntry entry = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.audit_change() must be fired AFTER ... FOR EACH ROW")));
	trigger = trigdata->tg_trigger;
	if (trigger->tgnargs < 2 || trigger->tgnargs > 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.audit_change() takes a resource name, a key column and an optional cache key prefix")));
	if (OrionLoadingByCopy())
		return PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		verb = "created";
		new_row = trigdata->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		verb = "updated";
		old_row = trigdata->tg_trigtuple;
		new_row = trigdata->tg_newtuple;
	}
	else
	{
		verb = "deleted";
		old_row = trigdata->tg_trigtuple;
	}

	key_col = SPI_fnumber(RelationGetDescr(rel), trigger->tgargs[1]);
	if (key_col <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of orion.audit_change() does not exist in \"%s\"",
						trigger->tgargs[1], RelationGetRelationName(rel))));
	if (old_row)
		old_key = SPI_getvalue(old_row, RelationGetDescr(rel), key_col);
	if (new_row)
		new_key = SPI_getvalue(new_row, RelationGetDescr(rel), key_col);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	entry.action = psprintf("%s.%s", trigger->tgargs[0], verb);
	entry.resource = trigger->tgargs[0];
	entry.resource_id = new_key ? new_key : old_key;
	entry.old_data = RowJson(rel, old_row);
	entry.new_data = RowJson(rel, new_row);
	OrionAuditWrite(&entry);
	SPI_finish();

	if (trigger->tgnargs == 3)
	{
		if (old_key)
			Async_Notify(CACHE_CHANNEL, psprintf("%s%s", trigger->tgargs[2], old_key));
		if (new_key && (old_key == NULL || strcmp(old_key, new_key) != 0))
			Async_Notify(CACHE_CHANNEL, psprintf("%s%s", trigger->tgargs[2], new_key));
	}
	return PointerGetDatum(NULL);
}
