/*-------------------------------------------------------------------------
 *
 * login.c
 *	  orion.login: signing in with an email address and a password.
 *
 * login() never raises for bad credentials: it returns no row, and the
 * failure it records (counts, audit entries) is committed with the
 * caller's transaction instead of being rolled back by an error. Every
 * answer costs one full password verification, so the time tells no one
 * whether the address has an account or the account is locked.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/login.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "auth/account_settings.h"
#include "auth/login_failure.h"
#include "auth/mfa_challenge.h"
#include "auth/password.h"
#include "common/audit.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"

/* Longest email the audit log keeps of a failed login, in bytes. */
#define AUDIT_EMAIL_MAX_BYTES	255

static OrionQuery find_login_user = {
	"SELECT id, password_hash, failed_login_count,"
	" coalesce(locked_until > pg_catalog.now(), false),"
	" coalesce(locked_until <= pg_catalog.now(), false), coalesce(email_verified, false), email"
	" FROM orion_auth.users WHERE pg_catalog.lower(email) = pg_catalog.lower($1) FOR UPDATE",
	1, {TEXTOID}, NULL
};

/* The attempt on an address that has no account, after a dummy verify. */
static void
AuditUnknownEmail(text *email, const char *ip, const char *agent)
{
	OrionAuditEntry entry = {0};
	const char *keys[] = {"email", "reason"};
	const char *data[2];
	int			elen = VARSIZE_ANY_EXHDR(email);

	data[0] = OrionJsonString(pnstrdup(VARDATA_ANY(email),
									   pg_mbcliplen(VARDATA_ANY(email), elen,
													Min(elen, AUDIT_EMAIL_MAX_BYTES))));
	data[1] = OrionJsonString("unknown_email");
	entry.action = "auth.login_failed";
	entry.resource = "user";
	entry.new_data = OrionJsonObject(2, keys, data);
	entry.ip_address = ip;
	entry.user_agent = agent;
	OrionAuditWrite(&entry);
}

/*
 * orion.login(email, password, ip_address, user_agent)
 *	 returns table (user_id, session_id, access_token, access_expires_at,
 *					refresh_token, refresh_expires_at, mfa_challenge)
 *
 * One row with tokens on success, or with TOTP active one row with only
 * user_id and mfa_challenge (orion.verify_totp completes it); no row for
 * an unknown email, a wrong password, a locked account or (with
 * orion.require_verified_email) an unverified address alike, each after
 * one full password verification.
 */
PG_FUNCTION_INFO_V1(orion_login);
Datum
orion_login(PG_FUNCTION_ARGS)
{
	text	   *email;
	text	   *password;
	const char *pw;
	size_t		pwlen;
	const char *ip;
	const char *agent;
	pg_uuid_t	user_id;
	bool		isnull;
	char	   *stored_hash;
	char	   *user_email;
	OrionLockState state;
	bool		verified;
	bool		match;
	Datum		values[1];

	ORION_REQUIRE_ARG(fcinfo, 0, "email");
	ORION_REQUIRE_ARG(fcinfo, 1, "password");
	email = PG_GETARG_TEXT_PP(0);
	password = PG_GETARG_TEXT_PP(1);
	pw = VARDATA_ANY(password);
	pwlen = VARSIZE_ANY_EXHDR(password);
	OrionPasswordCheckLength(pw, pwlen, false);
	ip = OrionClientIp(fcinfo, 2);
	agent = OrionClientUserAgent(fcinfo, 3);

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = PointerGetDatum(email);
	if (OrionQueryRun(&find_login_user, values, NULL, false, 1) == 0)
	{
		/* cost what a wrong password costs, then record the attempt */
		OrionPasswordDummyVerify(pw, pwlen);
		AuditUnknownEmail(email, ip, agent);
		SPI_finish();
		return (Datum) 0;
	}

	memcpy(&user_id, DatumGetUUIDP(OrionQueryGet(0, 1, &isnull)), sizeof(user_id));
	stored_hash = TextDatumGetCString(OrionQueryGet(0, 2, &isnull));
	state.failures = DatumGetInt32(OrionQueryGet(0, 3, &isnull));
	state.locked = DatumGetBool(OrionQueryGet(0, 4, &isnull));
	state.lock_expired = DatumGetBool(OrionQueryGet(0, 5, &isnull));
	verified = DatumGetBool(OrionQueryGet(0, 6, &isnull));
	user_email = TextDatumGetCString(OrionQueryGet(0, 7, &isnull));

	/* a locked account is verified all the same, so it takes as long */
	match = OrionPasswordVerify(pw, pwlen, stored_hash, strlen(stored_hash));
	if (state.locked || !match)
	{
		OrionLoginFailureRecord(&user_id, state, "wrong_password", ip, agent);
		SPI_finish();
		return (Datum) 0;
	}

	/*
	 * The right password of an unverified address: refused, and audited, but
	 * not a failure towards the lockout (the password is not being guessed)
	 */
	if (orion_require_verified_email && !verified)
	{
		const char *keys[] = {"reason"};
		const char *reason[1];

		reason[0] = OrionJsonString("email_not_verified");
		OrionAuditAboutUser(&user_id, &user_id, "auth.login_failed", OrionJsonObject(1, keys, reason),
							ip, agent);
		SPI_finish();
		return (Datum) 0;
	}

	/* upgrade an old-format or weaker hash while the password is at hand */
	OrionSignIn(fcinfo, &user_id, user_email, "password",
				OrionPasswordNeedsRehash(stored_hash, strlen(stored_hash)) ?
				OrionPasswordHash(pw, pwlen) : NULL,
				ip, agent);
	SPI_finish();
	return (Datum) 0;
}
