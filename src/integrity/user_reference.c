/*-------------------------------------------------------------------------
 *
 * user_reference.c
 *	  Cross-schema integrity: rows of other services that name a user.
 *
 * The seed keeps logical references between services without foreign keys
 * (notifications.user_id, ab_test_assignments.user_id). orion enforces them:
 *
 * - orion.check_user_reference(), BEFORE INSERT OR UPDATE OF user_id FOR
 *	 EACH ROW, refuses a row naming a user that does not exist (with the
 *	 argument 'anonymised', an UPDATE to the nil uuid passes: notifications). It locks the
 *	 user's row FOR KEY SHARE, as a foreign key does, so a delete of that user
 *	 racing the insert waits for it (and then removes the row with the user)
 *	 or, if it came first, makes the insert fail: no orphan either way.
 * - orion.cleanup_deleted_users(), AFTER DELETE ON orion_auth.users FOR EACH
 *	 STATEMENT with the deleted rows as a transition table, removes the users'
 *	 AB assignments and conversions, deletes or anonymises their
 *	 notifications (orion.user_delete_notifications), and writes one audit
 *	 entry per deleted user. Sessions and refresh tokens go by foreign key;
 *	 audit rows keep the event, their user_id set to NULL.
 *
 * Both run as the extension's owner: the services that insert notifications
 * or delete users may not read or write each other's tables.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/integrity/user_reference.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/uuid.h"

#include "common/guc.h"
#include "common/query.h"
#include "common/request.h"

/* an anonymised notification names the nil uuid instead of its user */
static const pg_uuid_t nil_uuid = {{0}};

static OrionQuery lock_user = {
	"SELECT 1 FROM orion_auth.users WHERE id = $1 FOR KEY SHARE",
	1, {UUIDOID}, NULL
};

/*
 * Whether an UPDATE may set user_id to the nil uuid: notifications are
 * anonymised so on their user's deletion. Since 0.7.0 their trigger says so
 * with the argument 'anonymised', and no other table allows it. A trigger of
 * 0.6.0 (no argument, not yet updated) keeps working for notifications.
 */
static bool
AllowsAnonymised(const Trigger *trigger, Relation rel)
{
	if (trigger->tgnargs > 0)
		return strcmp(trigger->tgargs[0], "anonymised") == 0;
	return strcmp(RelationGetRelationName(rel), "notifications") == 0;
}

PG_FUNCTION_INFO_V1(orion_check_user_reference);
Datum
orion_check_user_reference(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	row;
	int			col;
	bool		isnull;
	Datum		user_id;
	bool		found;
	int			nest_level;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.check_user_reference() must be fired BEFORE INSERT OR UPDATE FOR EACH ROW")));

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	row = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	if (!orion_enforce_user_references || OrionLoadingByCopy())
		return PointerGetDatum(row);

	col = SPI_fnumber(tupdesc, "user_id");
	if (col <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("orion.check_user_reference() needs a column \"user_id\" in \"%s\"",
						RelationGetRelationName(trigdata->tg_relation))));
	user_id = SPI_getbinval(row, tupdesc, col, &isnull);
	if (isnull)
		return PointerGetDatum(row);	/* NOT NULL says what is wrong */

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		bool		old_isnull;
		Datum		old_id = SPI_getbinval(trigdata->tg_trigtuple, tupdesc, col, &old_isnull);

		/*
		 * Unchanged; or, where the trigger says so (notifications), the nil
		 * uuid of a row anonymised on its user's deletion.
		 */
		if ((!old_isnull && memcmp(DatumGetUUIDP(old_id), DatumGetUUIDP(user_id), UUID_LEN) == 0) ||
			(AllowsAnonymised(trigdata->tg_trigger, trigdata->tg_relation) &&
			 memcmp(DatumGetUUIDP(user_id), &nil_uuid, UUID_LEN) == 0))
			return PointerGetDatum(row);
	}

	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = OrionQueryRun(&lock_user, &user_id, NULL, false, 1) == 1;
	SPI_finish();
	OrionUnpinSearchPath(nest_level);

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("user %s does not exist",
						DatumGetCString(DirectFunctionCall1(uuid_out, user_id))),
				 errdetail("%s.%s.user_id refers to orion_auth.users.",
						   get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
						   RelationGetRelationName(trigdata->tg_relation)),
				 errhint("Where users live in another database, set orion.enforce_user_references to off.")));
	return PointerGetDatum(row);
}

PG_FUNCTION_INFO_V1(orion_cleanup_deleted_users);
Datum
orion_cleanup_deleted_users(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			argtypes[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			nest_level;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || trigdata->tg_oldtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.cleanup_deleted_users() must be fired AFTER DELETE FOR EACH STATEMENT "
						"REFERENCING OLD TABLE AS orion_deleted_users")));

	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");

	if (SPI_execute("DELETE FROM orion_ab_testing.ab_test_conversions c"
					" USING orion_deleted_users d WHERE c.user_id = d.id", false, 0) < 0 ||
		SPI_execute("DELETE FROM orion_ab_testing.ab_test_assignments a"
					" USING orion_deleted_users d WHERE a.user_id = d.id", false, 0) < 0)
		elog(ERROR, "could not remove the AB testing rows of deleted users");

	if (orion_user_delete_notifications == ORION_USER_DELETE_NOTIFICATIONS_ANONYMIZE)
	{
		if (SPI_execute("UPDATE orion_notifications.notifications n"
						" SET user_id = '00000000-0000-0000-0000-000000000000', metadata = NULL"
						" FROM orion_deleted_users d WHERE n.user_id = d.id", false, 0) < 0)
			elog(ERROR, "could not anonymise the notifications of deleted users");
	}
	else if (SPI_execute("DELETE FROM orion_notifications.notifications n"
						 " USING orion_deleted_users d WHERE n.user_id = d.id", false, 0) < 0)
		elog(ERROR, "could not remove the notifications of deleted users");

	/*
	 * One audit entry per deleted user, never with the password hash. The
	 * actor is orion.actor_id, unless the actor is among the deleted users
	 * (the audit log may not name a user that no longer exists).
	 */
	if (orion_actor_id && orion_actor_id[0])
		values[0] = DirectFunctionCall1(uuid_in, CStringGetDatum(orion_actor_id));
	else
		nulls[0] = 'n';
	if (orion_client_ip && orion_client_ip[0])
		values[1] = CStringGetTextDatum(orion_client_ip);
	else
		nulls[1] = 'n';
	if (orion_client_user_agent && orion_client_user_agent[0])
		values[2] = CStringGetTextDatum(orion_client_user_agent);
	else
		nulls[2] = 'n';
	if (SPI_execute_with_args("INSERT INTO orion_auth.audit_logs"
							  " (user_id, action, resource, resource_id, old_data, ip_address, user_agent)"
							  " SELECT actor.id, 'user.deleted', 'user', d.id::text,"
							  " pg_catalog.to_jsonb(d) - 'password_hash', $2, $3"
							  " FROM orion_deleted_users d,"
							  /* decided once, not per deleted row */
							  " (SELECT CASE WHEN EXISTS (SELECT FROM orion_deleted_users"
							  " WHERE id = $1) THEN NULL ELSE $1 END AS id) actor",
							  3, argtypes, values, nulls, false, 0) < 0)
		elog(ERROR, "could not audit the deletion of users");

	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	return PointerGetDatum(NULL);
}
