/*-------------------------------------------------------------------------
 *
 * totp.c
 *	  TOTP two-factor authentication: enrollment, confirmation, the check
 *	  of a code at sign-in, and disabling it.
 *
 * enroll_totp makes a secret (20 random bytes) and returns it, in base32
 * and as the otpauth:// URI an authenticator app scans; the secret is
 * stored only sealed with the key of orion.secret_key_file
 * (common/secret_box.c), bound to the user. Nothing changes at sign-in
 * until confirm_totp receives a code made from it, which proves that the
 * app has the secret; then TOTP is active and the ten recovery codes are
 * handed out, once.
 *
 * A code is accepted once: orion keeps the time step of the last code
 * accepted (last_used_step) and takes only later ones, so a code seen over
 * a shoulder or replayed from a log does not sign in again, even within
 * its 30 seconds. The user's row is locked first by every caller, so two
 * sign-ins racing with one code cannot both see the step unused.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/totp.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "auth/account_settings.h"
#include "auth/one_time_token.h"
#include "auth/otp.h"
#include "auth/recovery_code.h"
#include "auth/totp.h"
#include "common/audit.h"
#include "common/base32.h"
#include "common/compat.h"
#include "common/query.h"
#include "common/request.h"
#include "common/secret_box.h"
#include "common/timing_safe.h"

/* how many factors orion.reseal_secrets() reseals per statement */
#define RESEAL_BATCH 1000

static OrionQuery lock_user = {
	"SELECT email FROM orion_auth.users WHERE id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery lock_factor = {
	"SELECT secret, confirmed_at IS NOT NULL, last_used_step"
	" FROM orion_auth.totp_factors WHERE user_id = $1 FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery factor_active = {
	"SELECT 1 FROM orion_auth.totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL",
	1, {UUIDOID}, NULL
};

static OrionQuery save_pending_factor = {
	"INSERT INTO orion_auth.totp_factors (user_id, secret) VALUES ($1, $2)"
	" ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed_at = NULL,"
	" last_used_step = NULL, created_at = pg_catalog.now()",
	2, {UUIDOID, BYTEAOID}, NULL
};

static OrionQuery activate_factor = {
	"UPDATE orion_auth.totp_factors SET confirmed_at = pg_catalog.now(), last_used_step = $2"
	" WHERE user_id = $1",
	2, {UUIDOID, INT8OID}, NULL
};

static OrionQuery record_step = {
	"UPDATE orion_auth.totp_factors SET last_used_step = $2 WHERE user_id = $1",
	2, {UUIDOID, INT8OID}, NULL
};

static OrionQuery remove_factor = {
	"DELETE FROM orion_auth.totp_factors WHERE user_id = $1 RETURNING confirmed_at IS NOT NULL",
	1, {UUIDOID}, NULL
};

static OrionQuery factors_after = {
	"SELECT user_id, secret FROM orion_auth.totp_factors WHERE $1 IS NULL OR user_id > $1"
	" ORDER BY user_id LIMIT " CppAsString2(RESEAL_BATCH) " FOR UPDATE",
	1, {UUIDOID}, NULL
};

static OrionQuery reseal_factor = {
	"UPDATE orion_auth.totp_factors SET secret = $2 WHERE user_id = $1",
	2, {UUIDOID, BYTEAOID}, NULL
};

/* A user's factor as stored. */
typedef struct Factor
{
	bool		exists;
	bool		active;
	bool		step_known;
	int64		last_used_step;
	bytea	   *sealed;
} Factor;

/* The authenticated data a user's sealed secret is bound to. */
static char *
SealContext(const pg_uuid_t *user_id)
{
	return psprintf("orion totp %s", OrionUuidText(user_id));
}

/* Lock user_id's row (ERROR when there is none); their email. */
static char *
LockUser(const pg_uuid_t *user_id)
{
	Datum		values[1];
	bool		isnull;

	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&lock_user, values, NULL, false, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user %s does not exist", OrionUuidText(user_id))));
	return TextDatumGetCString(OrionQueryGet(0, 1, &isnull));
}

static Factor
LockFactor(const pg_uuid_t *user_id)
{
	Factor		f = {0};
	Datum		values[1];
	bool		isnull;
	Datum		d;

	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&lock_factor, values, NULL, false, 1) == 0)
		return f;
	f.exists = true;
	f.sealed = DatumGetByteaPCopy(OrionQueryGet(0, 1, &isnull));
	f.active = DatumGetBool(OrionQueryGet(0, 2, &isnull));
	d = OrionQueryGet(0, 3, &isnull);
	f.step_known = !isnull;
	f.last_used_step = isnull ? 0 : DatumGetInt64(d);
	return f;
}

OrionFactorCodeKind
OrionFactorCodeRead(const char *s, size_t len, bool recovery_allowed, char *out)
{
	size_t		n = 0;
	size_t		digits = 0;
	size_t		i;
	uint8		decoded[ORION_RECOVERY_CODE_CHARS];

	if (len > ORION_FACTOR_CODE_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("code must be at most %d bytes", ORION_FACTOR_CODE_MAX_BYTES)));
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c == ' ' || c == '-')
			continue;
		if (n == ORION_RECOVERY_CODE_CHARS)
		{
			n++;
			break;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c >= '0' && c <= '9')
			digits++;
		out[n++] = c;
	}
	out[Min(n, ORION_RECOVERY_CODE_CHARS)] = '\0';

	if (n == ORION_TOTP_DIGITS && digits == n)
		return ORION_CODE_TOTP;
	if (recovery_allowed && n == ORION_RECOVERY_CODE_CHARS &&
		OrionBase32Decode(out, n, decoded, sizeof(decoded)) == 10)
		return ORION_CODE_RECOVERY;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 recovery_allowed ?
			 errmsg("code must be %d digits or a recovery code", ORION_TOTP_DIGITS) :
			 errmsg("code must be %d digits", ORION_TOTP_DIGITS)));
	return ORION_CODE_TOTP;		/* keep the compiler quiet */
}

/*
 * The time step within orion.totp_skew of now, later than the factor's
 * last one, whose code is code; -1 when none. Every step of the window is
 * computed and compared, matching or not, in time that says nothing.
 */
static int64
MatchingStep(const pg_uuid_t *user_id, const Factor *f, const char *code)
{
	size_t		keylen;
	uint8	   *key = OrionSecretOpen(f->sealed, SealContext(user_id), &keylen);
	int64		now = OrionTotpStep(GetCurrentTimestamp());
	int64		matched = -1;
	int64		step;

	for (step = now - orion_totp_skew; step <= now + orion_totp_skew; step++)
	{
		char		expected[ORION_OTP_MAX_DIGITS + 1];
		bool		equal;

		OrionOtpFormat(OrionHotp(key, keylen, (uint64) step, ORION_TOTP_DIGITS),
					   ORION_TOTP_DIGITS, expected);
		equal = OrionTimingSafeEqual(expected, code, ORION_TOTP_DIGITS);
		explicit_bzero(expected, sizeof(expected));
		if (equal && matched < 0 && (!f->step_known || step > f->last_used_step))
			matched = step;
	}
	explicit_bzero(key, keylen);
	return matched;
}

static void
RecordStep(OrionQuery *q, const pg_uuid_t *user_id, int64 step)
{
	Datum		values[2];

	values[0] = UUIDPGetDatum(user_id);
	values[1] = Int64GetDatum(step);
	OrionQueryRun(q, values, NULL, false, 0);
}

bool
OrionTotpActive(const pg_uuid_t *user_id)
{
	Datum		values[1];

	values[0] = UUIDPGetDatum(user_id);
	return OrionQueryRun(&factor_active, values, NULL, false, 1) > 0;
}

bool
OrionTotpAccept(const pg_uuid_t *user_id, OrionFactorCodeKind kind, const char *code)
{
	Factor		f = LockFactor(user_id);
	int64		step;

	if (!f.active)
		return false;
	if (kind == ORION_CODE_RECOVERY)
		return OrionRecoveryCodeUse(user_id, code);
	step = MatchingStep(user_id, &f, code);
	if (step < 0)
		return false;
	RecordStep(&record_step, user_id, step);
	return true;
}

/* Percent-encode s into buf as a URI component (RFC 3986 unreserved kept). */
static void
AppendUriComponent(StringInfo buf, const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~')
			appendStringInfoChar(buf, (char) c);
		else
			appendStringInfo(buf, "%%%02X", c);
	}
}

static void
AuditFactor(const pg_uuid_t *user_id, const char *action)
{
	OrionAuditAboutUser(user_id, user_id, action, NULL, NULL, NULL);
}

/*
 * orion.enroll_totp(user_id uuid) returns table (secret text, uri text)
 *
 * A new TOTP secret for the user, pending until confirm_totp; an earlier
 * pending one is replaced. Refused while TOTP is active.
 */
PG_FUNCTION_INFO_V1(orion_enroll_totp);
Datum
orion_enroll_totp(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t  *user_id;
	char	   *email;
	uint8		secret[ORION_TOTP_SECRET_BYTES];
	char		encoded[ORION_BASE32_ENCODED_LEN(ORION_TOTP_SECRET_BYTES) + 1];
	StringInfoData uri;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext spi;

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	user_id = PG_GETARG_UUID_P(0);
	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	email = LockUser(user_id);
	if (LockFactor(user_id).active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("user %s has TOTP active already", OrionUuidText(user_id)),
				 errhint("Call orion.disable_totp first to enroll a new authenticator.")));

	if (!pg_strong_random(secret, sizeof(secret)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	values[0] = UUIDPGetDatum(user_id);
	values[1] = PointerGetDatum(OrionSecretSeal(secret, sizeof(secret), SealContext(user_id)));
	OrionQueryRun(&save_pending_factor, values, NULL, false, 0);
	AuditFactor(user_id, "auth.totp_enrolled");

	OrionBase32Encode(secret, sizeof(secret), encoded, false);
	explicit_bzero(secret, sizeof(secret));

	/* Google Authenticator's Key Uri Format: issuer:account, then the parameters */
	spi = MemoryContextSwitchTo(caller);
	initStringInfo(&uri);
	appendStringInfoString(&uri, "otpauth://totp/");
	AppendUriComponent(&uri, orion_totp_issuer);
	appendStringInfoChar(&uri, ':');
	AppendUriComponent(&uri, email);
	appendStringInfo(&uri, "?secret=%s&issuer=", encoded);
	AppendUriComponent(&uri, orion_totp_issuer);
	appendStringInfo(&uri, "&algorithm=SHA1&digits=%d&period=%d", ORION_TOTP_DIGITS, ORION_TOTP_PERIOD);
	values[0] = CStringGetTextDatum(encoded);
	values[1] = CStringGetTextDatum(uri.data);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	explicit_bzero(uri.data, uri.len);
	MemoryContextSwitchTo(spi);
	explicit_bzero(encoded, sizeof(encoded));
	SPI_finish();
	return (Datum) 0;
}

/*
 * orion.confirm_totp(user_id uuid, code text) returns text[]
 *
 * Activates the pending TOTP of the user when code is the authenticator's
 * current one, and returns the ten recovery codes (shown this once); NULL
 * for a wrong code, the enrollment still pending.
 */
PG_FUNCTION_INFO_V1(orion_confirm_totp);
Datum
orion_confirm_totp(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	text	   *code_arg;
	char		code[ORION_RECOVERY_CODE_CHARS + 1];
	Factor		f;
	int64		step;
	ArrayType  *codes = NULL;
	MemoryContext caller = CurrentMemoryContext;

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	ORION_REQUIRE_ARG(fcinfo, 1, "code");
	user_id = PG_GETARG_UUID_P(0);
	code_arg = PG_GETARG_TEXT_PP(1);
	(void) OrionFactorCodeRead(VARDATA_ANY(code_arg), VARSIZE_ANY_EXHDR(code_arg), false, code);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LockUser(user_id);
	f = LockFactor(user_id);
	if (!f.exists)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("user %s has no TOTP enrollment to confirm", OrionUuidText(user_id)),
				 errhint("Call orion.enroll_totp first.")));
	if (f.active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("user %s has TOTP active already", OrionUuidText(user_id))));

	step = MatchingStep(user_id, &f, code);
	if (step >= 0)
	{
		RecordStep(&activate_factor, user_id, step);
		codes = OrionRecoveryCodesIssue(user_id, caller);
		AuditFactor(user_id, "auth.totp_enabled");
	}
	explicit_bzero(code, sizeof(code));
	SPI_finish();
	if (codes == NULL)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(codes);
}

/*
 * orion.disable_totp(user_id uuid) returns boolean
 *
 * Removes the user's TOTP (active or pending) and recovery codes, and ends
 * sign-ins waiting for a code; whether TOTP was active.
 */
PG_FUNCTION_INFO_V1(orion_disable_totp);
Datum
orion_disable_totp(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	Datum		values[1];
	bool		isnull;
	bool		was_active = false;

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	user_id = PG_GETARG_UUID_P(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LockUser(user_id);
	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&remove_factor, values, NULL, false, 0) > 0)
		was_active = DatumGetBool(OrionQueryGet(0, 1, &isnull));
	OrionRecoveryCodesRemove(user_id);
	OrionOneTimeTokenRevoke(ORION_TOKEN_MFA_CHALLENGE, user_id);
	if (was_active)
		AuditFactor(user_id, "auth.totp_disabled");
	SPI_finish();
	PG_RETURN_BOOL(was_active);
}

/*
 * orion.regenerate_recovery_codes(user_id uuid) returns text[]
 *
 * Ten new recovery codes for a user with TOTP active; the old ones stop
 * working.
 */
PG_FUNCTION_INFO_V1(orion_regenerate_recovery_codes);
Datum
orion_regenerate_recovery_codes(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *user_id;
	ArrayType  *codes;
	MemoryContext caller = CurrentMemoryContext;

	ORION_REQUIRE_ARG(fcinfo, 0, "user_id");
	user_id = PG_GETARG_UUID_P(0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LockUser(user_id);
	if (!LockFactor(user_id).active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("user %s does not have TOTP active", OrionUuidText(user_id))));
	codes = OrionRecoveryCodesIssue(user_id, caller);
	AuditFactor(user_id, "auth.recovery_codes_regenerated");
	SPI_finish();
	PG_RETURN_ARRAYTYPE_P(codes);
}

/*
 * orion.reseal_secrets() returns bigint
 *
 * Seals every TOTP secret not sealed with orion.secret_key_file with it (the
 * others open with orion.previous_secret_key_file); how many it resealed. The
 * step of a key rotation between setting the new key and removing the old.
 */
PG_FUNCTION_INFO_V1(orion_reseal_secrets);
Datum
orion_reseal_secrets(PG_FUNCTION_ARGS)
{
	pg_uuid_t	after;
	bool		first = true;
	int64		resealed = 0;
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	do
	{
		Datum		values[2];
		SPITupleTable *batch;
		uint64		i;

		values[0] = UUIDPGetDatum(&after);
		rows = OrionQueryRun(&factors_after, values, first ? "n" : " ", false, 0);
		first = false;
		batch = SPI_tuptable;
		SPI_tuptable = NULL;
		for (i = 0; i < rows; i++)
		{
			bool		isnull;
			pg_uuid_t	user_id;
			bytea	   *sealed;

			memcpy(&user_id, DatumGetUUIDP(SPI_getbinval(batch->vals[i], batch->tupdesc, 1, &isnull)),
				   sizeof(user_id));
			sealed = DatumGetByteaPP(SPI_getbinval(batch->vals[i], batch->tupdesc, 2, &isnull));
			if (!OrionSecretSealedWithCurrentKey(sealed))
			{
				char	   *context = SealContext(&user_id);
				size_t		len;
				uint8	   *plain = OrionSecretOpen(sealed, context, &len);

				values[0] = UUIDPGetDatum(&user_id);
				values[1] = PointerGetDatum(OrionSecretSeal(plain, len, context));
				explicit_bzero(plain, len);
				OrionQueryRun(&reseal_factor, values, NULL, false, 0);
				resealed++;
			}
			memcpy(&after, &user_id, sizeof(after));
		}
		SPI_freetuptable(batch);
	} while (rows == RESEAL_BATCH);
	SPI_finish();
	PG_RETURN_INT64(resealed);
}
