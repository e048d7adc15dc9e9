/*-------------------------------------------------------------------------
 *
 * email_verification.c
 *	  Email verification: a one-time token for the user's address, and its
 *	  use, which marks the address verified.
 *
 * orion never sends mail: request_email_verification returns the token for
 * the application to put in a link. verify_email answers NULL for a token
 * that does not work (unknown, malformed, expired, used, replaced by a newer
 * one, or issued for an address the user no longer has) without saying
 * which, as logout answers false. A changed address is not verified
 * (unverify_changed_email).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/email_verification.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/acl.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "auth/account_settings.h"
#include "auth/one_time_token.h"
#include "common/audit.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"

static OrionQuery lock_user_email = {
	"SELECT email, coalesce(email_verified, false) FROM orion_auth.users WHERE id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery set_verified = {
	"UPDATE orion_auth.users SET email_verified = true, updated_at = pg_catalog.now() WHERE id = $1",
	1, {UUIDOID}, NULL
};

static void
AuditVerification(const char *action, const pg_uuid_t *user_id, const char *email,
				  const char *expires_at)
{
	OrionAuditEntry entry = {0};
	const char *keys[] = {"email", "expires_at"};
	const char *values[2];

	values[0] = OrionJsonString(email);
	values[1] = expires_at ? OrionJsonString(expires_at) : NULL;
	entry.user_id = user_id;
	entry.action = action;
	entry.resource = "user";
	entry.resource_id = OrionUuidText(user_id);
	entry.new_data = OrionJsonObject(expires_at ? 2 : 1, keys, values);
	OrionAuditWrite(&entry);
}

/*
 * The email notification that carries the token, queued as the
 * notifications service (orion_notifications_service, which may insert
 * notifications): the auth service may not write notifications, and must
 * not gain the right to write any notification by this. The insert runs as
 * a security-restricted operation, as PostgreSQL's own foreign key checks
 * do, and with search_path pinned, so that no trigger on the table runs
 * with the caller's search_path.
 */
static void
QueueVerificationEmail(const pg_uuid_t *user_id, const char *email, const char *token,
					   const char *expires_at)
{
	static OrionQuery insert_notification = {
		"INSERT INTO orion_notifications.notifications (user_id, type, channel, title, message, metadata, status)"
		" VALUES ($1, 'email_verification', 'email', 'Verify your email address', $2, $3, 'pending')",
		3, {UUIDOID, TEXTOID, JSONBOID}, NULL
	};
	const char *keys[] = {"purpose", "email", "token", "expires_at"};
	const char *data[4];
	Datum		values[3];
	Oid			service = get_role_oid("orion_notifications_service", false);
	Oid			save_userid;
	int			save_sec_context;
	int			pinned;

	data[0] = OrionJsonString("email_verification");
	data[1] = OrionJsonString(email);
	data[2] = OrionJsonString(token);
	data[3] = OrionJsonString(expires_at);
	values[0] = UUIDPGetDatum(user_id);
	values[1] = CStringGetTextDatum(psprintf("Confirm that %s is your address.", email));
	values[2] = JsonbPGetDatum(OrionJsonObject(4, keys, data));

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(service, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	pinned = OrionPinSearchPath();
	OrionQueryRun(&insert_notification, values, NULL, false, 0);
	OrionUnpinSearchPath(pinned);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * orion.request_email_verification(user_id) returns text
 *
 * A new email verification token for the user's current address; the
 * user's older ones stop working. Refused for an unknown user and for an
 * address that is verified already.
 */
PG_FUNCTION_INFO_V1(orion_request_email_verification);
Datum
orion_request_email_verification(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	Datum		values[1];
	bool		isnull;
	char	   *email;
	char	   *token;
	text	   *result;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext spi;
	TimestampTz expires_at;

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	user_id = PG_GETARG_UUID_P(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&lock_user_email, values, NULL, false, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user %s does not exist", OrionUuidText(user_id))));
	email = TextDatumGetCString(OrionQueryGet(0, 1, &isnull));
	if (DatumGetBool(OrionQueryGet(0, 2, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the email address of user %s is verified already", OrionUuidText(user_id))));

	token = OrionOneTimeTokenIssue(ORION_TOKEN_EMAIL_VERIFICATION, user_id, email,
								   orion_email_verification_ttl, &expires_at);
	AuditVerification("auth.email_verification_requested", user_id, email,
					  timestamptz_to_str(expires_at));
	if (orion_verification_notify)
		QueueVerificationEmail(user_id, email, token, timestamptz_to_str(expires_at));
	/* the answer must outlive SPI_finish, which frees SPI's memory */
	spi = MemoryContextSwitchTo(caller);
	result = cstring_to_text(token);
	MemoryContextSwitchTo(spi);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

/*
 * orion.verify_email(token) returns uuid
 *
 * Uses the token: the user's address is verified, and the user's id is the
 * answer. NULL, changing nothing, when the token does not work.
 */
PG_FUNCTION_INFO_V1(orion_verify_email);
Datum
orion_verify_email(PG_FUNCTION_ARGS)
{
	text	   *token;
	pg_uuid_t	user_id;
	pg_uuid_t  *result;
	char	   *email;
	Datum		values[1];
	bool		used;

	ORION_REQUIRE_ARG(fcinfo, 0, "token");
	token = PG_GETARG_TEXT_PP(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	used = OrionOneTimeTokenUse(ORION_TOKEN_EMAIL_VERIFICATION, VARDATA_ANY(token),
								VARSIZE_ANY_EXHDR(token), &user_id, &email);
	if (used)
	{
		values[0] = UUIDPGetDatum(&user_id);
		OrionQueryRun(&set_verified, values, NULL, false, 0);
		AuditVerification("auth.email_verified", &user_id, email, NULL);
	}
	SPI_finish();
	if (!used)
		PG_RETURN_NULL();

	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &user_id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}

/*
 * Trigger orion.unverify_changed_email(), BEFORE UPDATE OF email ON
 * orion_auth.users FOR EACH ROW, fired (by its WHEN clause) when the address
 * changes other than in letter case: a new address is not verified until a
 * token sent to it is used, as the old address's tokens stop working. An
 * UPDATE that sets email_verified itself (even to the value it had) wins.
 */
PG_FUNCTION_INFO_V1(orion_unverify_changed_email);
Datum
orion_unverify_changed_email(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int			column;
	Datum		value = BoolGetDatum(false);
	bool		isnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.unverify_changed_email() must be fired BEFORE UPDATE FOR EACH ROW")));

	column = SPI_fnumber(trigdata->tg_relation->rd_att, "email_verified");
	if (column <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("orion.unverify_changed_email() needs a column \"email_verified\"")));

	/* an UPDATE that sets email_verified itself says what it is */
	if (bms_is_member(column - FirstLowInvalidHeapAttributeNumber, trigdata->tg_updatedcols))
		return PointerGetDatum(trigdata->tg_newtuple);

	return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_newtuple,
													 trigdata->tg_relation->rd_att,
													 1, &column, &value, &isnull));
}
