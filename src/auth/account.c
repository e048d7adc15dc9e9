/*-------------------------------------------------------------------------
 *
 * account.c
 *	  Accounts: registration and password changes.
 *
 * A password change revokes the user's other sessions: whoever knew the old
 * password may hold one. An administrator's reset revokes all of them and
 * lifts a lockout.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/account.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "auth/account.h"
#include "auth/account_settings.h"
#include "auth/email_address.h"
#include "auth/password.h"
#include "auth/session.h"
#include "common/audit.h"
#include "common/query.h"
#include "common/request.h"

/* The seed's column sizes. */
#define NAME_MAX_CHARS			100
#define ROLE_MAX_CHARS			50

static OrionQuery email_taken = {
	"SELECT 1 FROM orion_auth.users WHERE pg_catalog.lower(email) = pg_catalog.lower($1)",
	1, {TEXTOID}, NULL
};

/*
 * With orion.partitioned_user_ids ($6), the id's first 16 bits are those of
 * the SHA-256 of the lower-case address, as orion_proxy computes them: its
 * partition. The rest stays random (version 4 and variant bits included).
 */
static OrionQuery insert_user = {
	"INSERT INTO orion_auth.users (id, email, password_hash, first_name, last_name, role)"
	" VALUES (CASE WHEN $6 THEN pg_catalog.overlay(pg_catalog.replace(pg_catalog.gen_random_uuid()::pg_catalog.text, '-', ''),"
	"                 pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.lower($1), 'UTF8')), 'hex'), 4),"
	"                 1)::pg_catalog.uuid"
	"          ELSE pg_catalog.gen_random_uuid() END,"
	"         $1, $2, $3, $4, $5) RETURNING id",
	6, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID}, NULL
};

static OrionQuery lock_user_hash = {
	"SELECT password_hash FROM orion_auth.users WHERE id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery update_hash = {
	"UPDATE orion_auth.users SET password_hash = $2, updated_at = pg_catalog.now() WHERE id = $1",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery reset_hash = {
	"UPDATE orion_auth.users SET password_hash = $2, updated_at = pg_catalog.now(),"
	" failed_login_count = 0, locked_until = NULL WHERE id = $1",
	2, {UUIDOID, TEXTOID}, NULL
};

/* An optional text argument, checked against a length in characters. */
static char *
OptionalText(FunctionCallInfo fcinfo, int argno, const char *name, int max_chars)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		return NULL;
	t = PG_GETARG_TEXT_PP(argno);
	if (pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) > max_chars)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", name),
				 errdetail("It may have at most %d characters.", max_chars)));
	return text_to_cstring(t);
}

static Datum
TextOrNull(const char *s, char *null)
{
	*null = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* Lock the user's row and return its password hash; ERROR if no such user. */
static char *
LockUser(const pg_uuid_t *user_id)
{
	Datum		values[1];
	bool		isnull;

	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&lock_user_hash, values, NULL, false, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user %s does not exist", OrionUuidText(user_id))));
	return TextDatumGetCString(OrionQueryGet(0, 1, &isnull));
}

void
OrionAccountResetPassword(const pg_uuid_t *user_id, const char *password, size_t len,
						  const char *by)
{
	Datum		values[2];
	uint64		revoked;
	const char *keys[] = {"sessions_revoked", "by"};
	const char *data[2];

	values[0] = UUIDPGetDatum(user_id);
	values[1] = CStringGetTextDatum(OrionPasswordHash(password, len));
	OrionQueryRun(&reset_hash, values, NULL, false, 0);
	revoked = OrionRevokeUserSessions(user_id, NULL, "password_reset");
	data[0] = psprintf(UINT64_FORMAT, revoked);
	data[1] = OrionJsonString(by);
	OrionAuditAboutUser(NULL, user_id, "auth.password_reset", OrionJsonObject(2, keys, data),
						NULL, NULL);
}

/*
 * orion.register_user(email, password, first_name, last_name, role)
 *	 returns uuid
 */
PG_FUNCTION_INFO_V1(orion_register_user);
Datum
orion_register_user(PG_FUNCTION_ARGS)
{
	text	   *email;
	text	   *password;
	char	   *first_name;
	char	   *last_name;
	char	   *role;
	char	   *hash;
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	pg_uuid_t	user_id;
	pg_uuid_t  *result;

	ORION_REQUIRE_ARG(fcinfo, 0, "email");
	ORION_REQUIRE_ARG(fcinfo, 1, "password");
	email = PG_GETARG_TEXT_PP(0);
	password = PG_GETARG_TEXT_PP(1);
	OrionEmailCheck(VARDATA_ANY(email), VARSIZE_ANY_EXHDR(email));
	first_name = OptionalText(fcinfo, 2, "first_name", NAME_MAX_CHARS);
	last_name = OptionalText(fcinfo, 3, "last_name", NAME_MAX_CHARS);
	role = OptionalText(fcinfo, 4, "role", ROLE_MAX_CHARS);
	if (role == NULL || role[0] == '\0')
		role = "user";
	OrionPasswordCheckLength(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password), true);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = PointerGetDatum(email);
	if (OrionQueryRun(&email_taken, values, NULL, false, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("email address is already registered"),
				 errhint("Email addresses are compared without regard to letter case.")));

	hash = OrionPasswordHash(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password));
	values[1] = CStringGetTextDatum(hash);
	values[2] = TextOrNull(first_name, &nulls[2]);
	values[3] = TextOrNull(last_name, &nulls[3]);
	values[4] = CStringGetTextDatum(role);
	values[5] = BoolGetDatum(orion_partitioned_user_ids);
	OrionQueryRun(&insert_user, values, nulls, false, 0);
	memcpy(&user_id, DatumGetUUIDP(OrionQueryGet(0, 1, &isnull)), sizeof(user_id));

	{
		const char *keys[] = {"email", "role"};
		const char *data[2];

		data[0] = OrionJsonString(text_to_cstring(email));
		data[1] = OrionJsonString(role);
		OrionAuditAboutUser(&user_id, &user_id, "user.registered", OrionJsonObject(2, keys, data),
							NULL, NULL);
	}
	SPI_finish();

	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &user_id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}

/*
 * orion.change_password(user_id, current_password, new_password,
 *						 current_session_id) returns boolean
 *
 * False, changing nothing, when current_password is wrong. Otherwise the
 * new password is stored and every session of the user but
 * current_session_id is revoked.
 */
PG_FUNCTION_INFO_V1(orion_change_password);
Datum
orion_change_password(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	text	   *current;
	text	   *new_password;
	pg_uuid_t  *keep_session = NULL;
	char	   *stored;
	Datum		values[2];
	uint64		revoked;

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	ORION_REQUIRE_ARG(fcinfo, 1, "current_password");
	ORION_REQUIRE_ARG(fcinfo, 2, "new_password");
	user_id = PG_GETARG_UUID_P(0);
	current = PG_GETARG_TEXT_PP(1);
	new_password = PG_GETARG_TEXT_PP(2);
	if (!PG_ARGISNULL(3))
		keep_session = PG_GETARG_UUID_P(3);
	OrionPasswordCheckLength(VARDATA_ANY(current), VARSIZE_ANY_EXHDR(current), false);
	OrionPasswordCheckLength(VARDATA_ANY(new_password), VARSIZE_ANY_EXHDR(new_password), true);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	stored = LockUser(user_id);
	if (!OrionPasswordVerify(VARDATA_ANY(current), VARSIZE_ANY_EXHDR(current),
							 stored, strlen(stored)))
	{
		OrionAuditAboutUser(user_id, user_id, "auth.password_change_failed", NULL, NULL, NULL);
		SPI_finish();
		PG_RETURN_BOOL(false);
	}

	values[0] = UUIDPGetDatum(user_id);
	values[1] = CStringGetTextDatum(OrionPasswordHash(VARDATA_ANY(new_password),
													  VARSIZE_ANY_EXHDR(new_password)));
	OrionQueryRun(&update_hash, values, NULL, false, 0);
	revoked = OrionRevokeUserSessions(user_id, keep_session, "password_changed");
	{
		const char *keys[] = {"sessions_revoked"};
		const char *data[1];

		data[0] = psprintf(UINT64_FORMAT, revoked);
		OrionAuditAboutUser(user_id, user_id, "auth.password_changed", OrionJsonObject(1, keys, data),
							NULL, NULL);
	}
	SPI_finish();
	PG_RETURN_BOOL(true);
}

/*
 * orion.set_password(user_id, new_password) returns void
 *
 * An administrator's reset: stores the new password, lifts a lockout and
 * revokes every session of the user. The actor is orion.actor_id.
 */
PG_FUNCTION_INFO_V1(orion_set_password);
Datum
orion_set_password(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	text	   *new_password;
	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	ORION_REQUIRE_ARG(fcinfo, 1, "new_password");
	user_id = PG_GETARG_UUID_P(0);
	new_password = PG_GETARG_TEXT_PP(1);
	OrionPasswordCheckLength(VARDATA_ANY(new_password), VARSIZE_ANY_EXHDR(new_password), true);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	(void) LockUser(user_id);
	OrionAccountResetPassword(user_id, VARDATA_ANY(new_password), VARSIZE_ANY_EXHDR(new_password),
							  "administrator");
	SPI_finish();
	PG_RETURN_VOID();
}
