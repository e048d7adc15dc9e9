/*-------------------------------------------------------------------------
 *
 * cache_event.c
 *	  Events for application caches, and for applications that push new
 *	  notifications.
 *
 * orion.notify_cache(key_template), AFTER INSERT OR UPDATE OR DELETE FOR EACH
 * ROW, sends NOTIFY orion_cache_invalidate with the original platform's
 * Redis key of the row, made from the template: 'user:profile:{id}' becomes
 * 'user:profile:2f1c...'. An UPDATE names the key of the row before and, if
 * it differs, after. NOTIFY is delivered at commit, once per distinct key
 * and transaction, and not at all for a transaction that rolls back.
 *
 * orion.announce_notification(), AFTER INSERT ON notifications FOR EACH ROW,
 * sends NOTIFY orion_notifications with {"id", "user_id", "type",
 * "channel"}, so an application can push a new notification without
 * polling.
 *
 * Rows loaded by COPY (a dump being restored) send nothing, and neither do
 * rows the maintenance pass removes: expired sessions, which no cache keeps
 * past their expiry. (Announcing a million of them would also make every
 * login wait for the notification queue's lock behind the purge.)
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/events/cache_event.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/json.h"
#include "utils/rel.h"

#include "common/request.h"
#include "maintenance/maintenance.h"

/* The template with each {column} replaced by the row's value; NULL if one is NULL. */
static char *
ExpandKey(const char *template, HeapTuple row, TupleDesc tupdesc)
{
	StringInfoData key;
	const char *p = template;

	initStringInfo(&key);
	while (*p)
	{
		const char *open = strchr(p, '{');
		const char *close;
		char	   *column;
		int			col;
		char	   *value;

		if (open == NULL || (close = strchr(open, '}')) == NULL)
		{
			appendStringInfoString(&key, p);
			break;
		}
		appendBinaryStringInfo(&key, p, open - p);
		column = pnstrdup(open + 1, close - open - 1);
		col = SPI_fnumber(tupdesc, column);
		if (col <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of the cache key template \"%s\" does not exist",
							column, template)));
		value = SPI_getvalue(row, tupdesc, col);
		if (value == NULL)
			return NULL;
		appendStringInfoString(&key, value);
		p = close + 1;
	}
	return key.data;
}

PG_FUNCTION_INFO_V1(orion_notify_cache);
Datum
orion_notify_cache(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	const char *template;
	char	   *old_key = NULL;
	char	   *new_key = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) || trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.notify_cache(key_template) must be fired AFTER ... FOR EACH ROW")));
	if (OrionLoadingByCopy() || OrionMaintenanceRunning())
		return PointerGetDatum(NULL);

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	template = trigdata->tg_trigger->tgargs[0];
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		old_key = ExpandKey(template, trigdata->tg_trigtuple, tupdesc);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		new_key = ExpandKey(template, trigdata->tg_trigtuple, tupdesc);
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		new_key = ExpandKey(template, trigdata->tg_newtuple, tupdesc);

	if (old_key)
		Async_Notify("orion_cache_invalidate", old_key);
	if (new_key && (old_key == NULL || strcmp(old_key, new_key) != 0))
		Async_Notify("orion_cache_invalidate", new_key);
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(orion_announce_notification);
Datum
orion_announce_notification(PG_FUNCTION_ARGS)
{
	static const char *const fields[] = {"id", "user_id", "type", "channel"};
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	StringInfoData payload;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.announce_notification() must be fired AFTER INSERT FOR EACH ROW")));
	if (OrionLoadingByCopy())
		return PointerGetDatum(NULL);

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	initStringInfo(&payload);
	appendStringInfoChar(&payload, '{');
	for (i = 0; i < (int) lengthof(fields); i++)
	{
		int			col = SPI_fnumber(tupdesc, fields[i]);
		char	   *value = col > 0 ? SPI_getvalue(trigdata->tg_trigtuple, tupdesc, col) : NULL;

		if (i > 0)
			appendStringInfoString(&payload, ", ");
		escape_json(&payload, fields[i]);
		appendStringInfoString(&payload, ": ");
		if (value)
			escape_json(&payload, value);
		else
			appendStringInfoString(&payload, "null");
	}
	appendStringInfoChar(&payload, '}');
	Async_Notify("orion_notifications", payload.data);
	return PointerGetDatum(NULL);
}
