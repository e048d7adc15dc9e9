/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Entries of orion_auth.audit_logs.
 *
 * Every entry carries the actor, the action, the resource, old and new data,
 * and the client's IP address and user agent. What the caller does not pass
 * comes from the per-request settings orion.actor_id, orion.client_ip and
 * orion.client_user_agent, which an application sets with SET LOCAL at the
 * start of a request's transaction.
 *
 * A trigger records role changes however they are made: through orion, an
 * UPDATE of orion_auth.users, or the user service's view.
 *
 * orion's own entries never contain a password, a hash or a token. Entries
 * written through orion.audit() have such keys removed from the top level
 * of old_data and new_data, so that a careless caller cannot leak one into
 * the log either.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/audit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "common/audit.h"
#include "common/guc.h"
#include "common/query.h"
#include "common/request.h"

/* Top-level keys that never reach the audit log. */
static const char *const secret_keys[] = {
	"password", "password_hash", "passwordHash", "current_password", "new_password",
	"token", "access_token", "accessToken", "refresh_token", "refreshToken", "secret"
};

static OrionQuery insert_entry = {
	"INSERT INTO orion_auth.audit_logs"
	" (id, user_id, action, resource, resource_id, old_data, new_data, ip_address, user_agent)"
	" VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8)",
	9, {UUIDOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, TEXTOID, UUIDOID}, NULL
};

static Jsonb *WithoutSecrets(Jsonb *data);

/* The setting's value, or NULL when it is empty. */
static const char *
SettingOrNull(const char *value)
{
	return (value != NULL && value[0] != '\0') ? value : NULL;
}

pg_uuid_t *
OrionAuditWrite(const OrionAuditEntry *entry)
{
	Datum		values[9];
	char		nulls[9];
	Datum		id;
	const char *ip = entry->ip_address ? entry->ip_address : SettingOrNull(orion_client_ip);
	const char *agent = entry->user_agent ? entry->user_agent : SettingOrNull(orion_client_user_agent);
	const char *actor = SettingOrNull(orion_actor_id);

	memset(nulls, ' ', sizeof(nulls));

	if (entry->user_id != NULL)
		values[0] = UUIDPGetDatum(entry->user_id);
	else if (actor != NULL)
		values[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(actor));
	else
		nulls[0] = 'n';

	values[1] = CStringGetTextDatum(entry->action);
	values[2] = CStringGetTextDatum(entry->resource);
	if (entry->resource_id)
		values[3] = CStringGetTextDatum(entry->resource_id);
	else
		nulls[3] = 'n';
	if (entry->old_data)
		values[4] = JsonbPGetDatum(entry->old_data);
	else
		nulls[4] = 'n';
	if (entry->new_data)
		values[5] = JsonbPGetDatum(entry->new_data);
	else
		nulls[5] = 'n';
	if (ip)
		values[6] = CStringGetTextDatum(ip);
	else
		nulls[6] = 'n';
	if (agent)
		values[7] = CStringGetTextDatum(agent);
	else
		nulls[7] = 'n';

	/*
	 * The id is made here rather than returned by the INSERT: RETURNING would
	 * need SELECT on the table, which the auth service, which only appends to
	 * the log, does not have.
	 */
	/* gen_random_uuid() takes no argument; the one passed is ignored */
	id = DirectFunctionCall1(gen_random_uuid, (Datum) 0);
	values[8] = id;

	OrionQueryRun(&insert_entry, values, nulls, false, 0);
	return DatumGetUUIDP(id);
}

void
OrionAuditAboutUser(const pg_uuid_t *actor, const pg_uuid_t *user_id, const char *action,
					Jsonb *new_data, const char *ip, const char *agent)
{
	OrionAuditEntry entry = {0};

	entry.user_id = actor;
	entry.action = action;
	entry.resource = "user";
	entry.resource_id = OrionUuidText(user_id);
	entry.new_data = new_data;
	entry.ip_address = ip;
	entry.user_agent = agent;
	OrionAuditWrite(&entry);
}

Jsonb *
OrionJsonObject(int n, const char *const *keys, const char *const *values)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, keys[i]);
		appendStringInfoString(&buf, ": ");
		appendStringInfoString(&buf, values[i] ? values[i] : "null");
	}
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

char *
OrionJsonString(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

char *
OrionUuidText(const pg_uuid_t *uuid)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(uuid)));
}

/* data without the secret keys at its top level. */
static Jsonb *
WithoutSecrets(Jsonb *data)
{
	Datum		keys[lengthof(secret_keys)];
	ArrayType  *key_array;
	int			i;

	if (!JB_ROOT_IS_OBJECT(data))
		return data;

	for (i = 0; i < (int) lengthof(secret_keys); i++)
		keys[i] = CStringGetTextDatum(secret_keys[i]);
	key_array = construct_array(keys, lengthof(secret_keys), TEXTOID, -1, false, TYPALIGN_INT);
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_delete_array,
											  JsonbPGetDatum(data),
											  PointerGetDatum(key_array)));
}

/*
 * orion.audit(action, resource, resource_id, old_data, new_data, actor_id,
 *			   ip_address, user_agent) returns uuid
 *
 * Writes one entry; what is NULL comes from the orion.* request settings.
 */
PG_FUNCTION_INFO_V1(orion_audit);
Datum
orion_audit(PG_FUNCTION_ARGS)
{
	OrionAuditEntry entry;
	pg_uuid_t  *written;
	pg_uuid_t  *id;

	ORION_REQUIRE_ARG(fcinfo, 0, "action");
	ORION_REQUIRE_ARG(fcinfo, 1, "resource");

	memset(&entry, 0, sizeof(entry));
	entry.action = text_to_cstring(PG_GETARG_TEXT_PP(0));
	entry.resource = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (entry.action[0] == '\0' || entry.resource[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("action and resource must not be empty")));
	if (!PG_ARGISNULL(2))
		entry.resource_id = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!PG_ARGISNULL(3))
		entry.old_data = WithoutSecrets(PG_GETARG_JSONB_P(3));
	if (!PG_ARGISNULL(4))
		entry.new_data = WithoutSecrets(PG_GETARG_JSONB_P(4));
	if (!PG_ARGISNULL(5))
		entry.user_id = PG_GETARG_UUID_P(5);
	/* checked as login's are; NULL: the request settings */
	entry.ip_address = OrionClientIp(fcinfo, 6);
	entry.user_agent = OrionClientUserAgent(fcinfo, 7);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	written = OrionAuditWrite(&entry);
	/* copy the id out of SPI's memory before SPI_finish frees it */
	id = SPI_palloc(sizeof(pg_uuid_t));
	memcpy(id, written, sizeof(pg_uuid_t));
	SPI_finish();

	PG_RETURN_UUID_P(id);
}

/*
 * Trigger orion.audit_role_change(), AFTER UPDATE OF role ON
 * orion_auth.users FOR EACH ROW: one entry per changed role. It runs as the
 * extension's owner, since the user service that may change a role through
 * its view may not write the audit log itself.
 */
PG_FUNCTION_INFO_V1(orion_audit_role_change);
Datum
orion_audit_role_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	int			role_col;
	int			id_col;
	char	   *old_role;
	char	   *new_role;
	const char *keys[] = {"role"};
	const char *old_value[1];
	const char *new_value[1];
	OrionAuditEntry entry = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.audit_role_change() must be fired AFTER UPDATE FOR EACH ROW")));

	tupdesc = trigdata->tg_relation->rd_att;
	role_col = SPI_fnumber(tupdesc, "role");
	id_col = SPI_fnumber(tupdesc, "id");
	if (role_col <= 0 || id_col <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.audit_role_change() needs columns \"id\" and \"role\"")));

	old_role = SPI_getvalue(trigdata->tg_trigtuple, tupdesc, role_col);
	new_role = SPI_getvalue(trigdata->tg_newtuple, tupdesc, role_col);
	if (old_role != NULL && new_role != NULL && strcmp(old_role, new_role) == 0)
		return PointerGetDatum(NULL);

	old_value[0] = old_role ? OrionJsonString(old_role) : NULL;
	new_value[0] = new_role ? OrionJsonString(new_role) : NULL;
	entry.action = "user.role_changed";
	entry.resource = "user";
	entry.resource_id = SPI_getvalue(trigdata->tg_newtuple, tupdesc, id_col);
	entry.old_data = OrionJsonObject(1, keys, old_value);
	entry.new_data = OrionJsonObject(1, keys, new_value);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	OrionAuditWrite(&entry);
	SPI_finish();

	return PointerGetDatum(NULL);
}
