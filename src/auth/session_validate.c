/*-------------------------------------------------------------------------
 *
 * session_validate.c
 *	  orion.validate_session: the live session of an access token.
 *
 * Every authenticated request of every service calls it, so the common
 * case, a current access token, is two index probes (index_probe.h): the
 * session by the token's digest, then its user by id, with no statement
 * planned or started. A token that was just replaced by a refresh (still
 * good until its old expiry, see session.c) and anything the probes cannot
 * read as a statement would go through SPI. A JWT access token is
 * verified first (jwt.c) and then looked up the same way, by its digest.
 *
 * The function is SECURITY DEFINER without a SET search_path clause: the
 * probes resolve nothing by name through search_path, and the statements
 * run with search_path pinned to pg_catalog, pg_temp (query.h), so the
 * clause's cost, a tenth of the call, buys nothing.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/session_validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "auth/jwt.h"
#include "auth/session_validate.h"
#include "auth/token.h"
#include "common/index_probe.h"
#include "common/query.h"
#include "common/request.h"

/* the columns validate_session returns */
#define RESULT_COLUMNS 5

static OrionIndexProbe session_by_token = {
	.table = {.schema = "orion_auth", .tables = {"sessions", NULL}},
	.index = "sessions_token_key",
	.keys = {"token", NULL},
	.columns = {"user_id", "id", "expires_at", "revoked_at", NULL}
};

enum
{
	SESSION_USER_ID, SESSION_ID, SESSION_EXPIRES_AT, SESSION_REVOKED_AT
};

static OrionIndexProbe user_by_id = {
	.table = {.schema = "orion_auth", .tables = {"users", NULL}},
	.index = "users_pkey",
	.keys = {"id", NULL},
	.columns = {"email", "role", NULL}
};

static OrionQuery find_session_by_access_token = {
	"SELECT s.user_id, s.id, u.email::text, u.role::text, s.expires_at"
	" FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id"
	" WHERE s.token = $1 AND s.revoked_at IS NULL AND s.expires_at > pg_catalog.now()"
	" UNION ALL"
	" SELECT s.user_id, s.id, u.email::text, u.role::text, s.previous_expires_at"
	" FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id"
	" WHERE s.previous_token = $1 AND s.revoked_at IS NULL AND s.previous_expires_at > pg_catalog.now()"
	" LIMIT 1",
	1, {TEXTOID}, NULL
};

static OrionQuery find_session_by_previous_token = {
	"SELECT s.user_id, s.id, u.email::text, u.role::text, s.previous_expires_at"
	" FROM orion_auth.sessions s JOIN orion_auth.users u ON u.id = s.user_id"
	" WHERE s.previous_token = $1 AND s.revoked_at IS NULL AND s.previous_expires_at > pg_catalog.now()"
	" LIMIT 1",
	1, {TEXTOID}, NULL
};

void
OrionSessionValidateInit(void)
{
	OrionIndexProbeRegister(&session_by_token);
	OrionIndexProbeRegister(&user_by_id);
}

/*
 * The live session whose current token has this digest, by the probes:
 * true with the result row filled, false when there is none, and
 * ORION_PROBE_UNUSABLE in *outcome when the probes cannot tell.
 */
static bool
ProbeCurrentToken(Datum digest, Datum *row, bool *nulls, OrionProbeResult *outcome)
{
	Datum		session[4];
	bool		session_nulls[4];
	Datum		user[2];
	bool		user_nulls[2];

	*outcome = OrionIndexProbeFetch(&session_by_token, &digest, session, session_nulls);
	if (*outcome != ORION_PROBE_HIT)
		return false;
	/* revoked_at IS NULL AND expires_at > now(), as the statement says */
	if (!session_nulls[SESSION_REVOKED_AT] ||
		DatumGetTimestampTz(session[SESSION_EXPIRES_AT]) <= GetCurrentTransactionStartTimestamp())
		return false;
	*outcome = OrionIndexProbeFetch(&user_by_id, &session[SESSION_USER_ID], user, user_nulls);
	if (*outcome != ORION_PROBE_HIT)
		return false;
	row[0] = session[SESSION_USER_ID];
	row[1] = session[SESSION_ID];
	row[2] = user[0];			/* varchar, returned as text: the same bytes */
	row[3] = user[1];
	row[4] = session[SESSION_EXPIRES_AT];
	nulls[0] = nulls[1] = nulls[4] = false;
	nulls[2] = user_nulls[0];
	nulls[3] = user_nulls[1];
	return true;
}

/* The same through SPI (one of the statements above), the row into rsinfo. */
static bool
QueryToken(OrionQuery *query, Datum digest, ReturnSetInfo *rsinfo)
{
	Datum		row[RESULT_COLUMNS];
	bool		nulls[RESULT_COLUMNS];
	bool		found;
	int			i;
	int			nest_level = OrionPinSearchPath();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = OrionQueryRun(query, &digest, NULL, true, 1) == 1;
	if (found)
	{
		for (i = 0; i < RESULT_COLUMNS; i++)
			row[i] = OrionQueryGet(0, i + 1, &nulls[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	return found;
}

/*
 * orion.validate_session(access_token)
 *	 returns table (user_id, session_id, email, role, expires_at)
 *
 * One row while the access token is live: its session not revoked, the
 * token not expired. Read-only, so it runs on a hot standby.
 */
PG_FUNCTION_INFO_V1(orion_validate_session);
Datum
orion_validate_session(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *token;
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	Datum		digest_text;
	Datum		row[RESULT_COLUMNS];
	bool		nulls[RESULT_COLUMNS];
	OrionProbeResult outcome;

	ORION_REQUIRE_ARG(fcinfo, 0, "access_token");
	token = PG_GETARG_TEXT_PP(0);

	/* the executor's expected row type spares building it from pg_proc per call */
	InitMaterializedSRF(fcinfo, rsinfo != NULL && rsinfo->expectedDesc != NULL ?
						MAT_SRF_USE_EXPECTED_DESC : 0);
	/*
	 * A JWT's signature and claims first; then, as for an opaque token, its
	 * session by its digest: it must still be the session's current access
	 * token, or the one a refresh just replaced, so a JWT ends with its
	 * session, and is replaced by a refresh, exactly as an opaque one.
	 */
	if (OrionJwtLooksLike(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token)))
	{
		OrionJwtClaims claims;

		if (!OrionJwtVerify(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), true, &claims))
			return (Datum) 0;
	}
	else if (!OrionTokenIsWellFormed(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), ORION_TOKEN_SESSION))
		return (Datum) 0;

	OrionTokenDigest(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), digest);
	digest_text = CStringGetTextDatum(digest);
	if (ProbeCurrentToken(digest_text, row, nulls, &outcome))
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	else if (outcome == ORION_PROBE_UNUSABLE)
		QueryToken(&find_session_by_access_token, digest_text, rsinfo);
	else
		QueryToken(&find_session_by_previous_token, digest_text, rsinfo);
	return (Datum) 0;
}
