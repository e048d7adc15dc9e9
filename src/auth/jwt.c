/*-------------------------------------------------------------------------
 *
 * jwt.c
 *	  JWT access tokens (RFC 7519, signed as RFC 7515 JWS): issuing them
 *	  for a session and verifying them.
 *
 * With orion.access_token_format = jwt, a session's access token is a JWS
 * that a gateway or service verifies with the public keys of orion.jwks(),
 * without asking the database. The session row stays what it is: its token
 * column holds the SHA-256 of the JWT as it holds that of an opaque token,
 * so refresh, logout and revocation work unchanged, and validate_session
 * checks the session as well as the signature: it accepts a JWT only while
 * it is its session's current access token (or the one a refresh just
 * replaced), so a token minted elsewhere with the HS256 secret, naming a
 * live session, opens nothing.
 *
 * Verification trusts nothing the token says about how to verify it: the
 * kid picks a key orion holds, and the token's alg must equal that key's
 * algorithm (no "none", no HS256 made with a public key as the secret).
 *
 * The claims: iss (orion.jwt_issuer), aud (orion.jwt_audience), sub (the
 * user id), sid (the session id), role (orion.jwt_role: the database role
 * PostgREST switches to, the same for every signed-in user; the user's
 * application role, which any user administrator can change, goes in
 * user_role and is never a database role), email, email_verified, iat, exp
 * and jti (random).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/jwt.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "auth/jws.h"
#include "auth/jwt.h"
#include "auth/signing_key.h"
#include "common/audit.h"
#include "common/base64.h"
#include "common/compat.h"
#include "common/hex.h"
#include "common/request.h"

#define JTI_RANDOM_BYTES	16
#define UUID_TEXT_LEN		36

int			orion_access_token_format = ORION_ACCESS_TOKEN_OPAQUE;
static char *orion_jwt_issuer = NULL;
static char *orion_jwt_audience = NULL;
static char *orion_jwt_role = NULL;

static const struct config_enum_entry access_token_format_options[] = {
	{"opaque", ORION_ACCESS_TOKEN_OPAQUE, false},
	{"jwt", ORION_ACCESS_TOKEN_JWT, false},
	{NULL, 0, false}
};

void
OrionJwtInit(void)
{
	DefineCustomEnumVariable("orion.access_token_format",
							 "The access tokens sign-ins and refreshes hand out: opaque or jwt.",
							 "jwt: a signed JWT that gateways verify with orion.jwks(); opaque: orion_s_ tokens.",
							 &orion_access_token_format,
							 ORION_ACCESS_TOKEN_OPAQUE,
							 access_token_format_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("orion.jwt_issuer",
							   "The iss claim of JWT access tokens, and the only one accepted.",
							   NULL,
							   &orion_jwt_issuer,
							   "orion",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("orion.jwt_audience",
							   "The aud claim of JWT access tokens, which a token must carry to be accepted.",
							   NULL,
							   &orion_jwt_audience,
							   "orion",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("orion.jwt_role",
							   "The role claim of JWT access tokens: the database role PostgREST switches to.",
							   "The same for every signed-in user; the user's own role goes in user_role.",
							   &orion_jwt_role,
							   "authenticated",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
}

/* Seconds since the Unix epoch, and back. */
static int64
UnixSeconds(TimestampTz t)
{
	return t / USECS_PER_SEC + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

static TimestampTz
FromUnixSeconds(int64 s)
{
	return (s - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * USECS_PER_SEC;
}

static void
AppendBase64url(StringInfo buf, const uint8 *bytes, size_t len)
{
	enlargeStringInfo(buf, (int) ORION_BASE64_ENCODED_LEN(len) + 1);
	OrionBase64Encode(bytes, len, buf->data + buf->len, true);
	buf->len += (int) ORION_BASE64_ENCODED_LEN(len);
}

static void
AppendClaim(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, ",\"%s\":", name);
	escape_json(buf, value);
}

char *
OrionJwtIssue(const pg_uuid_t *user_id, const pg_uuid_t *session_id,
			  const char *email, bool email_verified, const char *user_role,
			  TimestampTz issued_at, TimestampTz expires_at)
{
	OrionCacheFilling *keys = OrionSigningKeysPin();
	OrionSigningKey *key = OrionSigningKeyCurrent(keys);
	StringInfoData header;
	StringInfoData claims;
	StringInfoData token;
	uint8		jti[JTI_RANDOM_BYTES];
	char		jti_text[ORION_BASE64_ENCODED_LEN(JTI_RANDOM_BYTES) + 1];
	uint8		sig[ORION_SIGNATURE_MAX];
	size_t		sig_len;

	initStringInfo(&header);
	appendStringInfo(&header, "{\"alg\":\"%s\",\"kid\":",
					 OrionJwtAlgorithmName(OrionSigningKeyAlgorithm(key)));
	escape_json(&header, OrionSigningKeyId(key));
	appendStringInfoString(&header, ",\"typ\":\"JWT\"}");

	if (!pg_strong_random(jti, sizeof(jti)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	OrionBase64Encode(jti, sizeof(jti), jti_text, true);
	initStringInfo(&claims);
	appendStringInfoString(&claims, "{\"iss\":");
	escape_json(&claims, orion_jwt_issuer);
	AppendClaim(&claims, "aud", orion_jwt_audience);
	AppendClaim(&claims, "sub", OrionUuidText(user_id));
	AppendClaim(&claims, "sid", OrionUuidText(session_id));
	AppendClaim(&claims, "role", orion_jwt_role);
	AppendClaim(&claims, "user_role", user_role ? user_role : "");
	AppendClaim(&claims, "email", email ? email : "");
	appendStringInfo(&claims, ",\"email_verified\":%s,\"iat\":" INT64_FORMAT ",\"exp\":" INT64_FORMAT,
					 email_verified ? "true" : "false", UnixSeconds(issued_at), UnixSeconds(expires_at));
	AppendClaim(&claims, "jti", jti_text);
	appendStringInfoChar(&claims, '}');

	initStringInfo(&token);
	AppendBase64url(&token, (const uint8 *) header.data, header.len);
	appendStringInfoChar(&token, '.');
	AppendBase64url(&token, (const uint8 *) claims.data, claims.len);
	sig_len = OrionSigningKeySign(key, (const uint8 *) token.data, token.len, sig);
	OrionSigningKeysUnpin(keys);
	appendStringInfoChar(&token, '.');
	AppendBase64url(&token, sig, sig_len);
	return token.data;
}

bool
OrionJwtLooksLike(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);

	return dot != NULL && memchr(dot + 1, '.', len - (size_t) (dot - s) - 1) != NULL;
}

/* A uuid in its canonical text form (as orion writes sub and sid), strictly. */
static bool
ParseUuid(const char *s, pg_uuid_t *out)
{
	int			i;
	int			n = 0;

	if (strlen(s) != UUID_TEXT_LEN)
		return false;
	for (i = 0; i < UUID_TEXT_LEN; i += 2)
	{
		int			hi;
		int			lo;

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
			i--;				/* the loop's += 2 moves past the dash */
			continue;
		}
		hi = OrionHexDigit(s[i]);
		lo = OrionHexDigit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out->data[n++] = (unsigned char) (hi << 4 | lo);
	}
	return n == UUID_LEN;
}

static bool
Refuse(const char *why)
{
	ereport(DEBUG1,
			(errmsg_internal("orion: JWT refused: %s", why)));
	return false;
}

/* A string claim, decoded into a palloc'd string, or NULL when absent or not a string. */
static char *
StringClaim(const OrionJsonMembers *claims, const char *name)
{
	const OrionJsonMember *m = OrionJsonFind(claims, name);
	char	   *s;

	if (m == NULL || m->type != ORION_JSON_STRING)
		return NULL;
	s = palloc(m->value_len + 1);
	if (OrionJsonDecodeString(m->value, m->value_len, s, m->value_len + 1) < 0)
		return NULL;
	return s;
}

static bool
IsAudience(const char *value, size_t value_len, void *found)
{
	char	   *s = palloc(value_len + 1);

	if (OrionJsonDecodeString(value, value_len, s, value_len + 1) >= 0 &&
		strcmp(s, orion_jwt_audience) == 0)
		*(bool *) found = true;
	return true;
}

/* Whether aud is orion.jwt_audience, or an array that holds it (RFC 7519 4.1.3). */
static bool
AudienceMatches(const OrionJsonMembers *claims)
{
	const OrionJsonMember *aud = OrionJsonFind(claims, "aud");
	bool		found = false;
	char	   *s;

	if (aud == NULL)
		return false;
	if (aud->type == ORION_JSON_ARRAY)
		return OrionJsonEachString(aud, IsAudience, &found) && found;
	s = StringClaim(claims, "aud");
	return s != NULL && strcmp(s, orion_jwt_audience) == 0;
}

bool
OrionJwtVerify(const char *token, size_t len, bool check_expiry, OrionJwtClaims *out)
{
	OrionJws   *jws = palloc(sizeof(OrionJws));
	OrionJsonMembers *claims = palloc(sizeof(OrionJsonMembers));
	OrionJwsResult parsed = OrionJwsParse(token, len, jws);
	const OrionJsonMember *typ;
	OrionCacheFilling *keys;
	OrionSigningKey *key;
	bool		signed_by_key;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int64		now_seconds = UnixSeconds(now);
	int64		exp;
	int64		nbf;
	int64		iat;
	char	   *s;

	if (parsed != ORION_JWS_OK)
		return Refuse(OrionJwsResultText(parsed));
	typ = OrionJsonFind(&jws->header_object, "typ");
	if (typ != NULL)
	{
		char		t[16];

		if (typ->type != ORION_JSON_STRING ||
			OrionJsonDecodeString(typ->value, typ->value_len, t, sizeof(t)) < 0 ||
			(pg_strcasecmp(t, "JWT") != 0 && pg_strcasecmp(t, "at+jwt") != 0))
			return Refuse("typ is neither JWT nor at+jwt");
	}

	keys = OrionSigningKeysPin();
	key = OrionSigningKeyFind(keys, jws->kid, now);
	if (key == NULL)
	{
		OrionSigningKeysUnpin(keys);
		return Refuse("no signing key of that kid verifies now");
	}
	if (strcmp(jws->alg, OrionJwtAlgorithmName(OrionSigningKeyAlgorithm(key))) != 0)
	{
		OrionSigningKeysUnpin(keys);
		return Refuse("alg is not the algorithm of the key its kid names");
	}
	signed_by_key = OrionSigningKeyVerify(key, (const uint8 *) token, jws->signing_input_len,
										  jws->signature, jws->signature_len);
	OrionSigningKeysUnpin(keys);
	if (!signed_by_key)
		return Refuse("bad signature");

	if (!OrionJsonReadObject(jws->payload, jws->payload_len, claims))
		return Refuse("claims are not a JSON object");
	s = StringClaim(claims, "iss");
	if (s == NULL || strcmp(s, orion_jwt_issuer) != 0)
		return Refuse("iss is not orion.jwt_issuer");
	if (!AudienceMatches(claims))
		return Refuse("aud does not name orion.jwt_audience");
	if (!OrionJsonNumericDate(OrionJsonFind(claims, "exp"), &exp))
		return Refuse("exp is missing or not a NumericDate");
	if (check_expiry && now_seconds >= exp)
		return Refuse("expired");
	if (OrionJsonFind(claims, "nbf") != NULL &&
		(!OrionJsonNumericDate(OrionJsonFind(claims, "nbf"), &nbf) || now_seconds < nbf))
		return Refuse("not valid yet (nbf)");
	if (OrionJsonFind(claims, "iat") != NULL && !OrionJsonNumericDate(OrionJsonFind(claims, "iat"), &iat))
		return Refuse("iat is not a NumericDate");
	s = StringClaim(claims, "sub");
	if (s == NULL || !ParseUuid(s, &out->user_id))
		return Refuse("sub is not a user id");
	s = StringClaim(claims, "sid");
	if (s == NULL || !ParseUuid(s, &out->session_id))
		return Refuse("sid is not a session id");
	out->expires_at = FromUnixSeconds(exp);
	out->payload = jws->payload;
	return true;
}

/*
 * orion.verify_jwt(token text) returns jsonb
 *
 * The claims of a JWT access token whose signature, issuer, audience and
 * times hold, without asking whether its session is still live (that is
 * validate_session); NULL for any other token. Why a token was refused is
 * logged at DEBUG1.
 */
PG_FUNCTION_INFO_V1(orion_verify_jwt);
Datum
orion_verify_jwt(PG_FUNCTION_ARGS)
{
	text	   *token;
	OrionJwtClaims claims;

	ORION_REQUIRE_ARG(fcinfo, 0, "token");
	token = PG_GETARG_TEXT_PP(0);
	if (!OrionJwtVerify(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), true, &claims))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(claims.payload)));
}
