/*-------------------------------------------------------------------------
 *
 * session.c
 *	  Sessions: login, refresh-token rotation, logout and revocation
 *	  (validation is session_validate.c).
 *
 * A session row is one signed-in device. Its token column holds the digest
 * of the current access token; previous_token keeps the one it replaced
 * until that one expires, so that two tabs refreshing at once do not sign
 * each other out. Refresh tokens belong to a session and rotate: each is
 * good for one refresh.
 *
 * Locking: every path that changes a session locks the session row first
 * and its refresh tokens after, so refresh, logout and revocation can race
 * without deadlocking, and whichever comes second sees what the first did.
 *
 * login() and refresh_session() never raise for bad credentials: they return
 * no row, and the failure they record (counts, audit entries) is committed
 * with the caller's transaction instead of being rolled back by an error.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "auth/jwt.h"
#include "auth/one_time_token.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/token.h"
#include "common/audit.h"
#include "common/guc.h"
#include "common/query.h"
#include "common/request.h"

/* Why a refresh token stops working, as stored in revoked_reason. */
#define REASON_ROTATED			"rotated"
#define REASON_REUSED			"refresh_token_reused"
#define REASON_LOGOUT			"logout"

static OrionQuery record_login_success = {
	"UPDATE orion_auth.users SET failed_login_count = 0, locked_until = NULL,"
	" last_login_at = pg_catalog.now(), password_hash = coalesce($2, password_hash) WHERE id = $1",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery insert_session = {
	"INSERT INTO orion_auth.sessions (id, user_id, token, ip_address, user_agent, expires_at)"
	" VALUES ($1, $2, $3, $4, $5, $6)",
	6, {UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID}, NULL
};

/* what a JWT access token says of its user */
static OrionQuery user_claims = {
	"SELECT email::text, coalesce(email_verified, false), role::text FROM orion_auth.users WHERE id = $1",
	1, {UUIDOID}, NULL
};

static OrionQuery rotate_access_token = {
	"UPDATE orion_auth.sessions SET previous_token = token, previous_expires_at = expires_at,"
	" token = $2, expires_at = $3, ip_address = coalesce($4, ip_address),"
	" user_agent = coalesce($5, user_agent) WHERE id = $1",
	5, {UUIDOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID}, NULL
};

static OrionQuery insert_refresh_token = {
	"INSERT INTO orion_auth.refresh_tokens (user_id, session_id, token, expires_at)"
	" VALUES ($1, $2, $3, $4)",
	4, {UUIDOID, UUIDOID, TEXTOID, TIMESTAMPTZOID}, NULL
};

static OrionQuery find_refresh_token = {
	"SELECT id, user_id, session_id FROM orion_auth.refresh_tokens WHERE token = $1",
	1, {TEXTOID}, NULL
};

static OrionQuery lock_user_key = {
	"SELECT 1 FROM orion_auth.users WHERE id = $1 FOR KEY SHARE",
	1, {UUIDOID}, NULL
};

static OrionQuery lock_session = {
	"SELECT revoked_at IS NULL FROM orion_auth.sessions WHERE id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery lock_refresh_token = {
	"SELECT coalesce(revoked, false), revoked_reason, revoked_at, expires_at > pg_catalog.now()"
	" FROM orion_auth.refresh_tokens WHERE id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery revoke_refresh_token_by_id = {
	"UPDATE orion_auth.refresh_tokens SET revoked = true, revoked_reason = $2, revoked_at = pg_catalog.now()"
	" WHERE id = $1",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery revoke_session_row = {
	"UPDATE orion_auth.sessions SET revoked_at = pg_catalog.now(), revoked_reason = $2"
	" WHERE id = $1 AND revoked_at IS NULL RETURNING user_id",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery revoke_session_refresh_tokens = {
	"UPDATE orion_auth.refresh_tokens SET revoked = true, revoked_reason = $2, revoked_at = pg_catalog.now()"
	" WHERE session_id = $1 AND revoked IS NOT TRUE",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery revoke_user_sessions = {
	"UPDATE orion_auth.sessions SET revoked_at = pg_catalog.now(), revoked_reason = $3"
	" WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2",
	3, {UUIDOID, UUIDOID, TEXTOID}, NULL
};

static OrionQuery revoke_user_refresh_tokens = {
	"UPDATE orion_auth.refresh_tokens SET revoked = true, revoked_reason = $3, revoked_at = pg_catalog.now()"
	" WHERE user_id = $1 AND revoked IS NOT TRUE AND session_id IS DISTINCT FROM $2",
	3, {UUIDOID, UUIDOID, TEXTOID}, NULL
};

static OrionQuery revoke_one_refresh_token = {
	"UPDATE orion_auth.refresh_tokens SET revoked = true, revoked_reason = $2, revoked_at = pg_catalog.now()"
	" WHERE token = $1 AND revoked IS NOT TRUE RETURNING user_id, id",
	2, {TEXTOID, TEXTOID}, NULL
};

/* login's columns; refresh_session has all but the last, mfa_challenge */
#define SESSION_RESULT_COLUMNS 7

/* The tokens a login or a refresh hands out. */
typedef struct IssuedTokens
{
	pg_uuid_t	user_id;
	pg_uuid_t	session_id;
	char	   *access_token;
	TimestampTz access_expires_at;
	char	   *refresh_token;
	TimestampTz refresh_expires_at;
} IssuedTokens;

/* now() plus seconds; now() is the transaction's start, as in SQL. */
static TimestampTz
NowPlusSeconds(int seconds)
{
	return GetCurrentTransactionStartTimestamp() + (int64) seconds * USECS_PER_SEC;
}

static Datum
TextDatumOrNull(const char *s, char *null)
{
	*null = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* Copy a uuid out of an SPI result row. */
static void
GetUuid(uint64 row, int col, pg_uuid_t *out)
{
	bool		isnull;
	Datum		d = OrionQueryGet(row, col, &isnull);

	if (isnull)
		memset(out, 0, sizeof(*out));
	else
		memcpy(out, DatumGetUUIDP(d), sizeof(*out));
}

/* A new random (version 4) uuid, so a new session's JWT can name it before the row exists. */
static void
NewSessionId(pg_uuid_t *id)
{
	if (!pg_strong_random(id->data, UUID_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	id->data[6] = (id->data[6] & 0x0f) | 0x40;
	id->data[8] = (id->data[8] & 0x3f) | 0x80;
}

/*
 * The access token of tokens' session, expiring when tokens says (for a
 * JWT, whole seconds: its exp): opaque, or a JWT with the user's claims as
 * orion.access_token_format says.
 */
static void
NewAccessToken(IssuedTokens *tokens)
{
	Datum		values[1];
	bool		isnull;
	char	   *email = NULL;
	char	   *role = NULL;
	bool		email_verified = false;
	Datum		d;

	if (orion_access_token_format != ORION_ACCESS_TOKEN_JWT)
	{
		tokens->access_token = OrionTokenGenerate(ORION_TOKEN_SESSION);
		return;
	}
	tokens->access_expires_at -= tokens->access_expires_at % USECS_PER_SEC;
	values[0] = UUIDPGetDatum(&tokens->user_id);
	if (OrionQueryRun(&user_claims, values, NULL, true, 1) == 1)
	{
		d = OrionQueryGet(0, 1, &isnull);
		email = isnull ? NULL : TextDatumGetCString(d);
		email_verified = DatumGetBool(OrionQueryGet(0, 2, &isnull));
		d = OrionQueryGet(0, 3, &isnull);
		role = isnull ? NULL : TextDatumGetCString(d);
	}
	tokens->access_token = OrionJwtIssue(&tokens->user_id, &tokens->session_id, email,
										 email_verified, role,
										 GetCurrentTransactionStartTimestamp(),
										 tokens->access_expires_at);
}

/*
 * New access and refresh tokens for the session tokens->session_id, or for a
 * new session of tokens->user_id when new_session. Fills the rest of tokens.
 */
static void
IssueTokens(IssuedTokens *tokens, bool new_session, const char *ip, const char *agent)
{
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	Datum		values[6];
	char		nulls[6];

	if (new_session)
		NewSessionId(&tokens->session_id);
	tokens->access_expires_at = NowPlusSeconds(orion_access_token_ttl);
	NewAccessToken(tokens);
	tokens->refresh_token = OrionTokenGenerate(ORION_TOKEN_REFRESH);
	tokens->refresh_expires_at = NowPlusSeconds(orion_refresh_token_ttl);

	OrionTokenDigest(tokens->access_token, strlen(tokens->access_token), digest);
	memset(nulls, ' ', sizeof(nulls));
	if (new_session)
	{
		values[0] = UUIDPGetDatum(&tokens->session_id);
		values[1] = UUIDPGetDatum(&tokens->user_id);
		values[2] = CStringGetTextDatum(digest);
		values[3] = TextDatumOrNull(ip, &nulls[3]);
		values[4] = TextDatumOrNull(agent, &nulls[4]);
		values[5] = TimestampTzGetDatum(tokens->access_expires_at);
		OrionQueryRun(&insert_session, values, nulls, false, 0);
	}
	else
	{
		values[0] = UUIDPGetDatum(&tokens->session_id);
		values[1] = CStringGetTextDatum(digest);
		values[2] = TimestampTzGetDatum(tokens->access_expires_at);
		values[3] = TextDatumOrNull(ip, &nulls[3]);
		values[4] = TextDatumOrNull(agent, &nulls[4]);
		OrionQueryRun(&rotate_access_token, values, nulls, false, 0);
	}

	OrionTokenDigest(tokens->refresh_token, ORION_TOKEN_LEN, digest);
	values[0] = UUIDPGetDatum(&tokens->user_id);
	values[1] = UUIDPGetDatum(&tokens->session_id);
	values[2] = CStringGetTextDatum(digest);
	values[3] = TimestampTzGetDatum(tokens->refresh_expires_at);
	OrionQueryRun(&insert_refresh_token, values, NULL, false, 0);
}

/*
 * The one row of a sign-in or refresh result: user_id, session_id,
 * access_token, access_expires_at, refresh_token, refresh_expires_at and,
 * for the sign-ins, mfa_challenge. Either tokens (and no challenge) or a
 * challenge (and no session or tokens).
 */
static void
EmitResult(FunctionCallInfo fcinfo, const pg_uuid_t *user_id, const IssuedTokens *tokens,
		   const char *challenge)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		values[SESSION_RESULT_COLUMNS];
	bool		nulls[SESSION_RESULT_COLUMNS];
	int			natts = rsinfo->setDesc->natts;

	Assert(natts == SESSION_RESULT_COLUMNS || natts == SESSION_RESULT_COLUMNS - 1);
	memset(nulls, true, sizeof(nulls));
	values[0] = UUIDPGetDatum(user_id);
	nulls[0] = false;
	if (tokens)
	{
		values[1] = UUIDPGetDatum(&tokens->session_id);
		values[2] = CStringGetTextDatum(tokens->access_token);
		values[3] = TimestampTzGetDatum(tokens->access_expires_at);
		values[4] = CStringGetTextDatum(tokens->refresh_token);
		values[5] = TimestampTzGetDatum(tokens->refresh_expires_at);
		memset(nulls + 1, false, 5);
	}
	if (challenge && natts == SESSION_RESULT_COLUMNS)
	{
		values[6] = CStringGetTextDatum(challenge);
		nulls[6] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static void
EmitTokens(FunctionCallInfo fcinfo, const IssuedTokens *tokens)
{
	EmitResult(fcinfo, &tokens->user_id, tokens, NULL);
}

void
OrionSessionEmitChallenge(FunctionCallInfo fcinfo, const pg_uuid_t *user_id, const char *challenge)
{
	EmitResult(fcinfo, user_id, NULL, challenge);
}

/* An audit entry about a session or an account. */
static void
AuditAuth(const pg_uuid_t *user_id, const char *action, const char *resource,
		  const pg_uuid_t *resource_id, Jsonb *new_data, const char *ip, const char *agent)
{
	OrionAuditEntry entry = {0};

	entry.user_id = user_id;
	entry.action = action;
	entry.resource = resource;
	entry.resource_id = resource_id ? OrionUuidText(resource_id) : NULL;
	entry.new_data = new_data;
	entry.ip_address = ip;
	entry.user_agent = agent;
	OrionAuditWrite(&entry);
}

/*
 * End one session and its refresh tokens. Returns whether it was live; sets
 * *user_id to its user when so.
 */
static bool
RevokeSession(const pg_uuid_t *session_id, const char *reason, pg_uuid_t *user_id)
{
	Datum		values[2];

	values[0] = UUIDPGetDatum(session_id);
	values[1] = CStringGetTextDatum(reason);
	if (OrionQueryRun(&revoke_session_row, values, NULL, false, 0) == 0)
		return false;
	GetUuid(0, 1, user_id);
	OrionQueryRun(&revoke_session_refresh_tokens, values, NULL, false, 0);
	return true;
}

uint64
OrionRevokeUserSessions(const pg_uuid_t *user_id, const pg_uuid_t *keep_session, const char *reason)
{
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	uint64		ended;

	values[0] = UUIDPGetDatum(user_id);
	if (keep_session)
		values[1] = UUIDPGetDatum(keep_session);
	else
		nulls[1] = 'n';
	values[2] = CStringGetTextDatum(reason);
	ended = OrionQueryRun(&revoke_user_sessions, values, nulls, false, 0);
	OrionQueryRun(&revoke_user_refresh_tokens, values, nulls, false, 0);
	/* and the ways in that were mailed before: they would open a new session */
	OrionOneTimeTokenRevoke(ORION_TOKEN_PASSWORD_RESET, user_id);
	OrionOneTimeTokenRevoke(ORION_TOKEN_SIGN_IN_LINK, user_id);
	/* and sign-ins waiting for their second factor */
	OrionOneTimeTokenRevoke(ORION_TOKEN_MFA_CHALLENGE, user_id);
	return ended;
}

void
OrionSessionStart(FunctionCallInfo fcinfo, const pg_uuid_t *user_id, const char *method,
				  const char *new_hash, const char *ip, const char *agent)
{
	IssuedTokens tokens;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	const char *keys[] = {"method", "rehashed"};
	const char *data[2];

	values[0] = UUIDPGetDatum(user_id);
	values[1] = TextDatumOrNull(new_hash, &nulls[1]);
	OrionQueryRun(&record_login_success, values, nulls, false, 0);

	memcpy(&tokens.user_id, user_id, sizeof(tokens.user_id));
	IssueTokens(&tokens, true, ip, agent);
	data[0] = OrionJsonString(method);
	data[1] = new_hash ? "true" : "false";
	AuditAuth(user_id, "auth.login", "session", &tokens.session_id,
			  OrionJsonObject(2, keys, data), ip, agent);
	EmitTokens(fcinfo, &tokens);
}

/*
 * orion.refresh_session(refresh_token, ip_address, user_agent)
 *	 returns table (user_id, session_id, access_token, access_expires_at,
 *					refresh_token, refresh_expires_at)
 *
 * Rotates: the presented token is revoked (reason "rotated") and a new
 * access and refresh token are issued in the same session. A rotated token
 * presented again within orion.refresh_reuse_interval gets fresh tokens too
 * (two tabs refreshing at once); after it, reuse means the token was copied,
 * and the whole session is revoked. No row whenever nothing is issued.
 */
PG_FUNCTION_INFO_V1(orion_refresh_session);
Datum
orion_refresh_session(PG_FUNCTION_ARGS)
{
	text	   *token;
	const char *ip;
	const char *agent;
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	IssuedTokens tokens;
	pg_uuid_t	token_id;
	Datum		values[2];
	Datum		d;
	bool		isnull;
	bool		revoked;
	char	   *reason;
	TimestampTz revoked_at;
	bool		unexpired;
	bool		reused_in_grace;

	ORION_REQUIRE_ARG(fcinfo, 0, "refresh_token");
	token = PG_GETARG_TEXT_PP(0);
	ip = OrionClientIp(fcinfo, 1);
	agent = OrionClientUserAgent(fcinfo, 2);

	InitMaterializedSRF(fcinfo, 0);
	if (!OrionTokenIsWellFormed(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), ORION_TOKEN_REFRESH))
		return (Datum) 0;
	OrionTokenDigest(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), digest);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = CStringGetTextDatum(digest);
	if (OrionQueryRun(&find_refresh_token, values, NULL, false, 1) == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}
	GetUuid(0, 1, &token_id);
	GetUuid(0, 2, &tokens.user_id);
	(void) OrionQueryGet(0, 3, &isnull);
	if (isnull)
	{
		/* a token without a session (restored from elsewhere) cannot rotate */
		SPI_finish();
		return (Datum) 0;
	}
	GetUuid(0, 3, &tokens.session_id);

	/*
	 * The user first (as the new token's foreign key would, later), then the
	 * session, then the token: a user's deletion locks the user and then, by
	 * cascade, the sessions, and logout and revocation lock the session
	 * before its tokens. In any other order a refresh racing a deletion
	 * could deadlock. A user deleted meanwhile has nothing to refresh.
	 */
	values[0] = UUIDPGetDatum(&tokens.user_id);
	if (OrionQueryRun(&lock_user_key, values, NULL, false, 1) == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}
	values[0] = UUIDPGetDatum(&tokens.session_id);
	if (OrionQueryRun(&lock_session, values, NULL, false, 1) == 0 ||
		!DatumGetBool(OrionQueryGet(0, 1, &isnull)))
	{
		SPI_finish();
		return (Datum) 0;
	}

	values[0] = UUIDPGetDatum(&token_id);
	if (OrionQueryRun(&lock_refresh_token, values, NULL, false, 1) == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}
	revoked = DatumGetBool(OrionQueryGet(0, 1, &isnull));
	d = OrionQueryGet(0, 2, &isnull);
	reason = isnull ? NULL : TextDatumGetCString(d);
	d = OrionQueryGet(0, 3, &isnull);
	revoked_at = isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
	unexpired = DatumGetBool(OrionQueryGet(0, 4, &isnull));

	if (!unexpired)
	{
		SPI_finish();
		return (Datum) 0;
	}

	if (!revoked)
	{
		values[0] = UUIDPGetDatum(&token_id);
		values[1] = CStringGetTextDatum(REASON_ROTATED);
		OrionQueryRun(&revoke_refresh_token_by_id, values, NULL, false, 0);
	}
	else if (reason == NULL || strcmp(reason, REASON_ROTATED) != 0)
	{
		/* revoked by logout or an administrator: nothing to issue */
		SPI_finish();
		return (Datum) 0;
	}
	else
	{
		reused_in_grace = revoked_at >
			GetCurrentTransactionStartTimestamp() - (int64) orion_refresh_reuse_interval * USECS_PER_SEC;
		if (!reused_in_grace)
		{
			pg_uuid_t	user_id;

			if (RevokeSession(&tokens.session_id, REASON_REUSED, &user_id))
				AuditAuth(&tokens.user_id, "auth.refresh_token_reused", "session",
						  &tokens.session_id, NULL, ip, agent);
			SPI_finish();
			return (Datum) 0;
		}
	}

	IssueTokens(&tokens, false, ip, agent);
	EmitTokens(fcinfo, &tokens);
	SPI_finish();
	return (Datum) 0;
}

/*
 * orion.logout(token) returns boolean
 *
 * Ends the session an access or refresh token belongs to, with all its
 * tokens. True when a live session ended.
 */
PG_FUNCTION_INFO_V1(orion_logout);
Datum
orion_logout(PG_FUNCTION_ARGS)
{
	static OrionQuery find_session_by_any_access_token = {
		"SELECT id FROM orion_auth.sessions WHERE token = $1"
		" UNION ALL SELECT id FROM orion_auth.sessions WHERE previous_token = $1 LIMIT 1",
		1, {TEXTOID}, NULL
	};
	text	   *token;
	const char *t;
	size_t		len;
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	OrionQuery *lookup;
	int			session_col;
	pg_uuid_t	session_id;
	pg_uuid_t	user_id;
	Datum		values[1];
	bool		isnull;
	bool		ended = false;

	ORION_REQUIRE_ARG(fcinfo, 0, "token");
	token = PG_GETARG_TEXT_PP(0);
	t = VARDATA_ANY(token);
	len = VARSIZE_ANY_EXHDR(token);

	if (OrionTokenIsWellFormed(t, len, ORION_TOKEN_SESSION))
		lookup = &find_session_by_any_access_token, session_col = 1;
	else if (OrionTokenIsWellFormed(t, len, ORION_TOKEN_REFRESH))
		lookup = &find_refresh_token, session_col = 3;
	else if (OrionJwtLooksLike(t, len))
	{
		/* a JWT names its session; an expired one may still end it */
		OrionJwtClaims claims;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (OrionJwtVerify(t, len, false, &claims))
		{
			ended = RevokeSession(&claims.session_id, REASON_LOGOUT, &user_id);
			if (ended)
				AuditAuth(&user_id, "auth.logout", "session", &claims.session_id, NULL, NULL, NULL);
		}
		SPI_finish();
		PG_RETURN_BOOL(ended);
	}
	else
		PG_RETURN_BOOL(false);

	OrionTokenDigest(t, len, digest);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(digest);
	if (OrionQueryRun(lookup, values, NULL, false, 1) == 1)
	{
		(void) OrionQueryGet(0, session_col, &isnull);
		if (!isnull)
		{
			GetUuid(0, session_col, &session_id);
			ended = RevokeSession(&session_id, REASON_LOGOUT, &user_id);
			if (ended)
				AuditAuth(&user_id, "auth.logout", "session", &session_id, NULL, NULL, NULL);
		}
	}
	SPI_finish();
	PG_RETURN_BOOL(ended);
}

/* The revocation reason argument: given, not empty, or the default. */
static const char *
ReasonArg(FunctionCallInfo fcinfo, int argno)
{
	char	   *reason;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return "revoked";
	reason = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (reason[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("revocation reason must not be empty")));
	if (strcmp(reason, REASON_ROTATED) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("revocation reason \"%s\" is reserved for refresh-token rotation", reason)));
	return reason;
}

/*
 * orion.revoke_session(session_id, reason) returns boolean
 */
PG_FUNCTION_INFO_V1(orion_revoke_session);
Datum
orion_revoke_session(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *session_id;
	const char *reason;
	pg_uuid_t	user_id;
	bool		ended;

	ORION_REQUIRE_ARG(fcinfo, 0, "session_id");
	session_id = PG_GETARG_UUID_P(0);
	reason = ReasonArg(fcinfo, 1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ended = RevokeSession(session_id, reason, &user_id);
	if (ended)
	{
		const char *keys[] = {"reason", "user_id"};
		const char *data[2];

		data[0] = OrionJsonString(reason);
		data[1] = OrionJsonString(OrionUuidText(&user_id));
		AuditAuth(NULL, "auth.session_revoked", "session", session_id,
				  OrionJsonObject(2, keys, data), NULL, NULL);
	}
	SPI_finish();
	PG_RETURN_BOOL(ended);
}

/*
 * orion.revoke_all_sessions(user_id, reason) returns integer
 *
 * Signs the user out everywhere; returns how many sessions ended.
 */
PG_FUNCTION_INFO_V1(orion_revoke_all_sessions);
Datum
orion_revoke_all_sessions(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	const char *reason;
	uint64		ended;
	const char *keys[] = {"reason", "sessions"};
	const char *data[2];

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	user_id = PG_GETARG_UUID_P(0);
	reason = ReasonArg(fcinfo, 1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ended = OrionRevokeUserSessions(user_id, NULL, reason);
	data[0] = OrionJsonString(reason);
	data[1] = psprintf(UINT64_FORMAT, ended);
	{
		OrionAuditEntry entry = {0};

		entry.action = "auth.sessions_revoked";
		entry.resource = "user";
		entry.resource_id = OrionUuidText(user_id);
		entry.new_data = OrionJsonObject(2, keys, data);
		OrionAuditWrite(&entry);
	}
	SPI_finish();
	PG_RETURN_INT32((int32) ended);
}

/*
 * orion.revoke_refresh_token(token, reason) returns boolean
 *
 * Revokes one refresh token; its session's access token lives on until it
 * expires. True when a live token was revoked.
 */
PG_FUNCTION_INFO_V1(orion_revoke_refresh_token);
Datum
orion_revoke_refresh_token(PG_FUNCTION_ARGS)
{
	text	   *token;
	const char *reason;
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	Datum		values[2];
	bool		revoked = false;

	ORION_REQUIRE_ARG(fcinfo, 0, "refresh_token");
	token = PG_GETARG_TEXT_PP(0);
	reason = ReasonArg(fcinfo, 1);
	if (!OrionTokenIsWellFormed(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), ORION_TOKEN_REFRESH))
		PG_RETURN_BOOL(false);

	OrionTokenDigest(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), digest);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(digest);
	values[1] = CStringGetTextDatum(reason);
	if (OrionQueryRun(&revoke_one_refresh_token, values, NULL, false, 1) == 1)
	{
		OrionAuditEntry entry = {0};
		const char *keys[] = {"reason"};
		const char *data[1];
		pg_uuid_t	token_id;

		GetUuid(0, 2, &token_id);
		data[0] = OrionJsonString(reason);
		entry.action = "auth.refresh_token_revoked";
		entry.resource = "refresh_token";
		entry.resource_id = OrionUuidText(&token_id);
		entry.new_data = OrionJsonObject(1, keys, data);
		OrionAuditWrite(&entry);
		revoked = true;
	}
	SPI_finish();
	PG_RETURN_BOOL(revoked);
}
