/*-------------------------------------------------------------------------
 *
 * sign_in_link.c
 *	  Passwordless sign-in: a one-time token for the account's address, and
 *	  its use, which starts a session as login does.
 *
 * request_sign_in_link answers as request_password_reset does: the token or
 * NULL, in the same time whether or not the address has an account.
 * sign_in_with_link returns login's row. The link proves the address for
 * this sign-in, so orion.require_verified_email does not stand in its way,
 * but it does not mark the address verified: whoever registered the
 * address first chose the password, and a verified address would let that
 * password in too (account pre-hijacking). verify_email, or a reset that
 * replaces the password, verifies it.
 *
 * A locked account stays locked: the lockout answers guessed passwords, and
 * the link's holder may be the one guessing; the refusal uses the link up
 * and is audited as login's is.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/sign_in_link.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "auth/account_settings.h"
#include "auth/mfa_challenge.h"
#include "auth/one_time_token.h"
#include "common/audit.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"

static OrionQuery not_locked = {
	"SELECT 1 FROM orion_auth.users"
	" WHERE id = $1 AND coalesce(locked_until <= pg_catalog.now(), true)",
	1, {UUIDOID}, NULL
};

/*
 * orion.request_sign_in_link(email) returns text
 *
 * A sign-in link token (orion_m_) for the account with that address, or
 * NULL: no such account, or one was sent less than
 * orion.sign_in_link_request_interval ago and is unused.
 */
PG_FUNCTION_INFO_V1(orion_request_sign_in_link);
Datum
orion_request_sign_in_link(PG_FUNCTION_ARGS)
{
	return OrionOneTimeTokenRequest(fcinfo, ORION_TOKEN_SIGN_IN_LINK,
									orion_sign_in_link_ttl, orion_sign_in_link_request_interval,
									"auth.sign_in_link_requested");
}

/*
 * orion.sign_in_with_link(token, ip_address, user_agent)
 *	 returns table (user_id, session_id, access_token, access_expires_at,
 *					refresh_token, refresh_expires_at, mfa_challenge)
 *
 * One row, a new session (with TOTP active, an MFA challenge instead),
 * when the token works and the account is not locked; no row otherwise.
 */
PG_FUNCTION_INFO_V1(orion_sign_in_with_link);
Datum
orion_sign_in_with_link(PG_FUNCTION_ARGS)
{
	text	   *token;
	const char *ip;
	const char *agent;
	pg_uuid_t	user_id;
	char	   *email;
	Datum		values[1];

	ORION_REQUIRE_ARG(fcinfo, 0, "token");
	token = PG_GETARG_TEXT_PP(0);
	ip = OrionClientIp(fcinfo, 1);
	agent = OrionClientUserAgent(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (OrionOneTimeTokenUse(ORION_TOKEN_SIGN_IN_LINK, VARDATA_ANY(token),
							 VARSIZE_ANY_EXHDR(token), &user_id, &email))
	{
		values[0] = UUIDPGetDatum(&user_id);
		if (OrionQueryRun(&not_locked, values, NULL, false, 1) > 0)
			OrionSignIn(fcinfo, &user_id, email, "sign_in_link", NULL, ip, agent);
		else
		{
			const char *keys[] = {"method", "reason"};
			const char *data[2];

			data[0] = OrionJsonString("sign_in_link");
			data[1] = OrionJsonString("account_locked");
			OrionAuditAboutUser(&user_id, &user_id, "auth.login_failed", OrionJsonObject(2, keys, data),
								ip, agent);
		}
	}
	SPI_finish();
	return (Datum) 0;
}
