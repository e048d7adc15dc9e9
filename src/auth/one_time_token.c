/*-------------------------------------------------------------------------
 *
 * one_time_token.c
 *	  One-time tokens of the account flows: issued for a user and the
 *	  address they were sent to, used once.
 *
 * A one-time token has the form of every orion token (token.c: a prefix per
 * purpose, 32 random bytes, only the SHA-256 stored). It works once, until
 * its purpose's lifetime has passed, and only while its user still has the
 * email address it was issued for: a link mailed to an old address opens
 * nothing once the address has changed. Issuing a token revokes the user's
 * live ones of the same purpose, so only the newest mail works.
 *
 * A used or revoked token gets expires_at = now(), so that one condition,
 * "expires_at <= now()", tells what maintenance removes.
 *
 * Using a token locks its user's row, then the token's (FOR UPDATE), in the
 * order a deletion of the user takes them, so the two queue instead of
 * deadlocking. Of two sessions presenting one token at once, the second
 * waits for the user, then finds the token used; and the address cannot
 * change between the check and the flow's own update of the user.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/one_time_token.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "auth/account_settings.h"
#include "auth/email_address.h"
#include "auth/one_time_token.h"
#include "common/audit.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"

static OrionQuery revoke_live_tokens = {
	"UPDATE orion_auth.one_time_tokens"
	" SET revoked_at = pg_catalog.now(), expires_at = LEAST(expires_at, pg_catalog.now())"
	" WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery insert_token = {
	"INSERT INTO orion_auth.one_time_tokens (user_id, purpose, token, email, expires_at)"
	" VALUES ($1, $2, $3, $4, $5)",
	5, {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID}, NULL
};

static OrionQuery find_token = {
	"SELECT id, user_id FROM orion_auth.one_time_tokens WHERE token = $1 AND purpose = $2",
	2, {TEXTOID, TEXTOID}, NULL
};

static OrionQuery lock_user_email = {
	"SELECT email FROM orion_auth.users WHERE id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

/* read after the user's lock, so with a snapshot that sees a use committed meanwhile */
static OrionQuery lock_live_token = {
	"SELECT 1 FROM orion_auth.one_time_tokens"
	" WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > pg_catalog.now()"
	"   AND pg_catalog.lower(email) = pg_catalog.lower($2)"
	" FOR UPDATE",
	2, {UUIDOID, TEXTOID}, NULL
};

/*
 * A request never waits for its user's row: a wait would take longer for
 * a known address than for an unknown one, and a request could hold up the
 * user's logins. A row locked meanwhile answers as rate-limited ("busy").
 */
static OrionQuery lock_user_by_email = {
	"SELECT id, email FROM orion_auth.users WHERE pg_catalog.lower(email) = pg_catalog.lower($1)"
	" FOR NO KEY UPDATE SKIP LOCKED",
	1, {TEXTOID}, NULL
};

static OrionQuery find_user_by_email = {
	"SELECT id, email FROM orion_auth.users WHERE pg_catalog.lower(email) = pg_catalog.lower($1)",
	1, {TEXTOID}, NULL
};

/* a live token of the purpose issued since $3 holds back a new request */
static OrionQuery live_token_since = {
	"SELECT 1 FROM orion_auth.one_time_tokens"
	" WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL"
	"   AND created_at > $3 LIMIT 1",
	3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}, NULL
};

static OrionQuery mark_used = {
	"UPDATE orion_auth.one_time_tokens"
	" SET used_at = pg_catalog.now(), expires_at = LEAST(expires_at, pg_catalog.now())"
	" WHERE id = $1",
	1, {UUIDOID}, NULL
};

/* The purpose column's value for a kind of one-time token. */
static const char *
Purpose(OrionTokenKind kind)
{
	switch (kind)
	{
		case ORION_TOKEN_EMAIL_VERIFICATION:
			return "email_verification";
		case ORION_TOKEN_PASSWORD_RESET:
			return "password_reset";
		case ORION_TOKEN_SIGN_IN_LINK:
			return "sign_in_link";
		case ORION_TOKEN_MFA_CHALLENGE:
			return "mfa_challenge";
		case ORION_TOKEN_SESSION:
		case ORION_TOKEN_REFRESH:
			break;
	}
	elog(ERROR, "token kind %d is not a one-time token", (int) kind);
	return NULL;				/* keep the compiler quiet */
}

void
OrionOneTimeTokenRevoke(OrionTokenKind kind, const pg_uuid_t *user_id)
{
	Datum		values[2];

	values[0] = UUIDPGetDatum(user_id);
	values[1] = CStringGetTextDatum(Purpose(kind));
	OrionQueryRun(&revoke_live_tokens, values, NULL, false, 0);
}

char *
OrionOneTimeTokenIssue(OrionTokenKind kind, const pg_uuid_t *user_id, const char *email,
					   int ttl, TimestampTz *expires_at)
{
	char	   *token = OrionTokenGenerate(kind);
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	Datum		values[5];

	OrionOneTimeTokenRevoke(kind, user_id);

	OrionTokenDigest(token, ORION_TOKEN_LEN, digest);
	values[0] = UUIDPGetDatum(user_id);
	values[1] = CStringGetTextDatum(Purpose(kind));
	*expires_at = GetCurrentTransactionStartTimestamp() + (int64) ttl * USECS_PER_SEC;
	values[2] = CStringGetTextDatum(digest);
	values[3] = CStringGetTextDatum(email);
	values[4] = TimestampTzGetDatum(*expires_at);
	OrionQueryRun(&insert_token, values, NULL, false, 0);
	return token;
}

bool
OrionOneTimeTokenFind(OrionTokenKind kind, const char *s, size_t len,
					  pg_uuid_t *user_id, char **email, pg_uuid_t *token_id)
{
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	Datum		values[2];
	bool		isnull;

	if (!OrionTokenIsWellFormed(s, len, kind))
		return false;
	OrionTokenDigest(s, len, digest);
	values[0] = CStringGetTextDatum(digest);
	values[1] = CStringGetTextDatum(Purpose(kind));
	if (OrionQueryRun(&find_token, values, NULL, false, 1) == 0)
		return false;
	memcpy(token_id, DatumGetUUIDP(OrionQueryGet(0, 1, &isnull)), sizeof(*token_id));
	memcpy(user_id, DatumGetUUIDP(OrionQueryGet(0, 2, &isnull)), sizeof(*user_id));

	/* the user may have been deleted since: the token went with them */
	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&lock_user_email, values, NULL, false, 1) == 0)
		return false;
	*email = TextDatumGetCString(OrionQueryGet(0, 1, &isnull));

	values[0] = UUIDPGetDatum(token_id);
	values[1] = CStringGetTextDatum(*email);
	return OrionQueryRun(&lock_live_token, values, NULL, false, 1) > 0;
}

void
OrionOneTimeTokenMarkUsed(const pg_uuid_t *token_id)
{
	Datum		values[1];

	values[0] = UUIDPGetDatum(token_id);
	OrionQueryRun(&mark_used, values, NULL, false, 0);
}

bool
OrionOneTimeTokenUse(OrionTokenKind kind, const char *s, size_t len,
					 pg_uuid_t *user_id, char **email)
{
	pg_uuid_t	token_id;

	if (!OrionOneTimeTokenFind(kind, s, len, user_id, email, &token_id))
		return false;
	OrionOneTimeTokenMarkUsed(&token_id);
	return true;
}

/*
 * Sleep until end, to the microsecond: whole milliseconds interruptibly on
 * the latch (rounded down, not up as TimestampDifferenceMilliseconds does,
 * which would let the work before it show in the end time), the rest of a
 * millisecond in pg_usleep.
 */
static void
WaitUntil(TimestampTz end)
{
	TimestampTz now;

	while ((now = GetCurrentTimestamp()) < end)
	{
		int64		us = end - now;

		if (us >= 1000)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 us / 1000, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		else
			pg_usleep((long) us);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
AuditRequest(const char *action, const pg_uuid_t *user_id, const pg_uuid_t *about,
			 const char *email, const char *reason, const char *expires_at)
{
	OrionAuditEntry entry = {0};
	const char *keys[] = {"email", reason ? "reason" : "expires_at"};
	const char *values[2];

	values[0] = OrionJsonString(email);
	values[1] = OrionJsonString(reason ? reason : expires_at);
	entry.user_id = user_id;
	entry.action = action;
	entry.resource = "user";
	entry.resource_id = about ? OrionUuidText(about) : NULL;
	entry.new_data = OrionJsonObject(2, keys, values);
	OrionAuditWrite(&entry);
}

Datum
OrionOneTimeTokenRequest(FunctionCallInfo fcinfo, OrionTokenKind kind, int ttl, int interval,
						 const char *action)
{
	TimestampTz started = GetCurrentTimestamp();
	text	   *email_arg;
	char	   *email;
	Datum		values[3];
	bool		isnull;
	pg_uuid_t	user_id;
	char	   *user_email;
	char	   *token;
	text	   *result = NULL;
	MemoryContext caller = CurrentMemoryContext;
	TimestampTz expires_at;

	ORION_REQUIRE_ARG(fcinfo, 0, "email");
	email_arg = PG_GETARG_TEXT_PP(0);
	OrionEmailCheck(VARDATA_ANY(email_arg), VARSIZE_ANY_EXHDR(email_arg));
	email = text_to_cstring(email_arg);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(email);
	if (OrionQueryRun(&lock_user_by_email, values, NULL, false, 1) == 0)
	{
		/* unknown, or its row locked by a login, a token use or a request */
		if (OrionQueryRun(&find_user_by_email, values, NULL, false, 1) == 0)
			AuditRequest(action, NULL, NULL, email, "unknown_email", NULL);
		else
		{
			/*
			 * Audited about the user, not as them: audit_logs.user_id
			 * would take a key-share lock on the held row, and wait.
			 */
			memcpy(&user_id, DatumGetUUIDP(OrionQueryGet(0, 1, &isnull)), sizeof(user_id));
			AuditRequest(action, NULL, &user_id, TextDatumGetCString(OrionQueryGet(0, 2, &isnull)),
						 "busy", NULL);
		}
	}
	else
	{
		memcpy(&user_id, DatumGetUUIDP(OrionQueryGet(0, 1, &isnull)), sizeof(user_id));
		user_email = TextDatumGetCString(OrionQueryGet(0, 2, &isnull));

		values[0] = UUIDPGetDatum(&user_id);
		values[1] = CStringGetTextDatum(Purpose(kind));
		values[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp() -
										(int64) interval * USECS_PER_SEC);
		if (interval > 0 && OrionQueryRun(&live_token_since, values, NULL, false, 1) > 0)
			AuditRequest(action, &user_id, &user_id, user_email, "rate_limited", NULL);
		else
		{
			MemoryContext spi;

			token = OrionOneTimeTokenIssue(kind, &user_id, user_email, ttl, &expires_at);
			AuditRequest(action, &user_id, &user_id, user_email, NULL, timestamptz_to_str(expires_at));
			/* the answer must outlive SPI_finish, which frees SPI's memory */
			spi = MemoryContextSwitchTo(caller);
			result = cstring_to_text(token);
			MemoryContextSwitchTo(spi);
		}
	}

	SPI_finish();
	WaitUntil(TimestampTzPlusMilliseconds(started, orion_email_request_min_duration));
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}
