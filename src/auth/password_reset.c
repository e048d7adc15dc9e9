/*-------------------------------------------------------------------------
 *
 * password_reset.c
 *	  Self-service password reset: a one-time token for the account's
 *	  address, and its use, which sets a new password.
 *
 * request_password_reset answers the same whether or not the address has
 * an account (the token, or NULL, goes to the auth service that mails it,
 * not to the person asking), and in the same time: see
 * OrionOneTimeTokenRequest. reset_password is the administrator's reset
 * (set_password) reached by a token: every session and refresh token of
 * the user is revoked and a lockout is lifted. The token arrived by mail
 * at the account's address, so the address is verified too.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/password_reset.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "auth/account.h"
#include "auth/account_settings.h"
#include "auth/one_time_token.h"
#include "auth/password.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"

/*
 * orion.request_password_reset(email) returns text
 *
 * A password reset token (orion_p_) for the account with that address, or
 * NULL: no such account, or one was sent less than
 * orion.reset_request_interval ago and is unused.
 */
PG_FUNCTION_INFO_V1(orion_request_password_reset);
Datum
orion_request_password_reset(PG_FUNCTION_ARGS)
{
	return OrionOneTimeTokenRequest(fcinfo, ORION_TOKEN_PASSWORD_RESET,
									orion_password_reset_ttl, orion_reset_request_interval,
									"auth.password_reset_requested");
}

/*
 * orion.reset_password(token, new_password) returns uuid
 *
 * Uses the token: the new password is set (refused, changing nothing, when
 * the policy of hash_password refuses it), and the user's id is the answer.
 * NULL, changing nothing, when the token does not work.
 */
PG_FUNCTION_INFO_V1(orion_reset_password);
Datum
orion_reset_password(PG_FUNCTION_ARGS)
{
	static OrionQuery set_verified = {
		"UPDATE orion_auth.users SET email_verified = true WHERE id = $1 AND email_verified IS NOT TRUE",
		1, {UUIDOID}, NULL
	};
	text	   *token;
	text	   *new_password;
	pg_uuid_t	user_id;
	pg_uuid_t  *result;
	char	   *email;
	Datum		values[1];
	bool		used;

	ORION_REQUIRE_ARG(fcinfo, 0, "token");
	ORION_REQUIRE_ARG(fcinfo, 1, "new_password");
	token = PG_GETARG_TEXT_PP(0);
	new_password = PG_GETARG_TEXT_PP(1);
	OrionPasswordCheckLength(VARDATA_ANY(new_password), VARSIZE_ANY_EXHDR(new_password), true);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	used = OrionOneTimeTokenUse(ORION_TOKEN_PASSWORD_RESET, VARDATA_ANY(token),
								VARSIZE_ANY_EXHDR(token), &user_id, &email);
	if (used)
	{
		OrionAccountResetPassword(&user_id, VARDATA_ANY(new_password),
								  VARSIZE_ANY_EXHDR(new_password), "token");
		values[0] = UUIDPGetDatum(&user_id);
		OrionQueryRun(&set_verified, values, NULL, false, 0);
	}
	SPI_finish();
	if (!used)
		PG_RETURN_NULL();

	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &user_id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}
