/*-------------------------------------------------------------------------
 *
 * mfa_challenge.c
 *	  Sign-in in two steps: a first factor passed (password, sign-in
 *	  link) hands out a challenge, and verify_totp turns it into a session.
 *
 * The challenge is a one-time token (orion_c_, one_time_token.c): stored
 * as SHA-256, bound to the user and their address, living
 * orion.mfa_challenge_ttl. Unlike the mailed tokens it survives a wrong
 * code, so that the user can type again; the wrong codes count towards
 * the lockout as wrong passwords do, and a locked account's challenge
 * passes no code. A new sign-in, and everything that ends the user's
 * sessions, revokes it.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/mfa_challenge.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "auth/account_settings.h"
#include "auth/login_failure.h"
#include "auth/mfa_challenge.h"
#include "auth/one_time_token.h"
#include "auth/session.h"
#include "auth/totp.h"
#include "common/audit.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"

static OrionQuery store_hash = {
	"UPDATE orion_auth.users SET password_hash = $2 WHERE id = $1",
	2, {UUIDOID, TEXTOID}, NULL
};

void
OrionSignIn(FunctionCallInfo fcinfo, const pg_uuid_t *user_id, const char *email,
			const char *method, const char *new_hash, const char *ip, const char *agent)
{
	char	   *challenge;
	TimestampTz expires_at;
	const char *keys[] = {"method", "expires_at"};
	const char *data[2];

	if (!OrionTotpActive(user_id))
	{
		OrionSessionStart(fcinfo, user_id, method, new_hash, ip, agent);
		return;
	}

	if (new_hash)
	{
		Datum		values[2];

		values[0] = UUIDPGetDatum(user_id);
		values[1] = CStringGetTextDatum(new_hash);
		OrionQueryRun(&store_hash, values, NULL, false, 0);
	}
	challenge = OrionOneTimeTokenIssue(ORION_TOKEN_MFA_CHALLENGE, user_id, email,
									   orion_mfa_challenge_ttl, &expires_at);
	data[0] = OrionJsonString(method);
	data[1] = OrionJsonString(timestamptz_to_str(expires_at));
	OrionAuditAboutUser(user_id, user_id, "auth.mfa_challenge", OrionJsonObject(2, keys, data), ip, agent);
	OrionSessionEmitChallenge(fcinfo, user_id, challenge);
}

/*
 * orion.verify_totp(challenge, code, ip_address, user_agent)
 *	 returns table (user_id, session_id, access_token, access_expires_at,
 *					refresh_token, refresh_expires_at, mfa_challenge)
 *
 * Completes a sign-in: one row with the tokens when the challenge is live
 * and code is the user's current TOTP code (not used before) or an unused
 * recovery code; no row otherwise. A wrong code counts towards the lockout
 * and leaves the challenge usable.
 */
PG_FUNCTION_INFO_V1(orion_verify_totp);
Datum
orion_verify_totp(PG_FUNCTION_ARGS)
{
	text	   *challenge;
	text	   *code_arg;
	char		code[ORION_RECOVERY_CODE_CHARS + 1];
	OrionFactorCodeKind kind;
	const char *ip;
	const char *agent;
	pg_uuid_t	user_id;
	pg_uuid_t	challenge_id;
	char	   *email;
	OrionLockState state;

	ORION_REQUIRE_ARG(fcinfo, 0, "challenge");
	ORION_REQUIRE_ARG(fcinfo, 1, "code");
	challenge = PG_GETARG_TEXT_PP(0);
	code_arg = PG_GETARG_TEXT_PP(1);
	kind = OrionFactorCodeRead(VARDATA_ANY(code_arg), VARSIZE_ANY_EXHDR(code_arg), true, code);
	ip = OrionClientIp(fcinfo, 2);
	agent = OrionClientUserAgent(fcinfo, 3);

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (OrionOneTimeTokenFind(ORION_TOKEN_MFA_CHALLENGE, VARDATA_ANY(challenge),
							  VARSIZE_ANY_EXHDR(challenge), &user_id, &email, &challenge_id))
	{
		state = OrionLoginLockState(&user_id);
		if (state.locked)
			OrionLoginFailureRecord(&user_id, state, "account_locked", ip, agent);
		else if (!OrionTotpAccept(&user_id, kind, code))
			OrionLoginFailureRecord(&user_id, state, "wrong_code", ip, agent);
		else
		{
			OrionOneTimeTokenMarkUsed(&challenge_id);
			if (kind == ORION_CODE_RECOVERY)
			{
				const char *keys[] = {"remaining"};
				const char *data[1];

				data[0] = psprintf("%d", OrionRecoveryCodesLeft(&user_id));
				OrionAuditAboutUser(&user_id, &user_id, "auth.recovery_code_used",
									OrionJsonObject(1, keys, data), ip, agent);
			}
			OrionSessionStart(fcinfo, &user_id, kind == ORION_CODE_TOTP ? "totp" : "recovery_code",
							  NULL, ip, agent);
		}
	}
	explicit_bzero(code, sizeof(code));
	SPI_finish();
	return (Datum) 0;
}
