/*-------------------------------------------------------------------------
 *
 * otp.c
 *	  One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), HMAC-SHA-1,
 *	  as authenticator apps make them; and orion.hotp_code and
 *	  orion.totp_code, which make them in SQL (for an application's own
 *	  tests, and to check orion against the RFCs' known answers).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/otp.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hmac.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "auth/otp.h"
#include "common/base32.h"
#include "common/compat.h"
#include "common/request.h"

/* longest secret orion.hotp_code reads, in bytes (RFC 4226 asks 16 at least) */
#define MAX_SECRET_BYTES 128

static const uint32 powers_of_ten[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

uint32
OrionHotp(const uint8 *key, size_t keylen, uint64 counter, int digits)
{
	uint8		message[8];
	uint8		mac[20];
	pg_hmac_ctx *ctx;
	int			offset;
	uint32		binary;
	int			i;

	Assert(digits >= ORION_TOTP_DIGITS && digits <= ORION_OTP_MAX_DIGITS);
	for (i = 7; i >= 0; i--)
	{
		message[i] = (uint8) (counter & 0xff);
		counter >>= 8;
	}
	ctx = pg_hmac_create(PG_SHA1);
	if (ctx == NULL ||
		pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, message, sizeof(message)) < 0 ||
		pg_hmac_final(ctx, mac, sizeof(mac)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute HMAC-SHA-1: %s",
						ctx ? pg_hmac_error(ctx) : "out of memory")));
	pg_hmac_free(ctx);

	/* RFC 4226 5.3: dynamic truncation */
	offset = mac[19] & 0x0f;
	binary = ((uint32) (mac[offset] & 0x7f) << 24) |
		((uint32) mac[offset + 1] << 16) |
		((uint32) mac[offset + 2] << 8) |
		(uint32) mac[offset + 3];
	explicit_bzero(mac, sizeof(mac));
	return binary % powers_of_ten[digits];
}

int64
OrionTotpStep(TimestampTz t)
{
	/* seconds since 1970-01-01, floored also before it */
	int64		unix_us = t + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	int64		period_us = (int64) ORION_TOTP_PERIOD * USECS_PER_SEC;

	return unix_us >= 0 ? unix_us / period_us : -((-unix_us + period_us - 1) / period_us);
}

void
OrionOtpFormat(uint32 value, int digits, char *out)
{
	int			i;

	for (i = digits - 1; i >= 0; i--)
	{
		out[i] = (char) ('0' + value % 10);
		value /= 10;
	}
	out[digits] = '\0';
}

/* The bytes of a base32 secret argument; ERROR unless 16 to 128 of them. */
static uint8 *
SecretArgument(FunctionCallInfo fcinfo, int argno, int *len)
{
	text	   *secret;
	uint8	   *key = palloc(MAX_SECRET_BYTES);

	ORION_REQUIRE_ARG(fcinfo, argno, "secret");
	secret = PG_GETARG_TEXT_PP(argno);
	*len = VARSIZE_ANY_EXHDR(secret) > 2 * MAX_SECRET_BYTES ? -1 :
		OrionBase32Decode(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret), key, MAX_SECRET_BYTES);
	if (*len < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret is not base32 of at most %d bytes", MAX_SECRET_BYTES)));
	if (*len < 10)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("secret must be at least 10 bytes (16 base32 characters)"),
				 errdetail("Authenticator apps take secrets of 80 bits and more; orion's own are 160 (RFC 4226's recommendation).")));
	return key;
}

static int
DigitsArgument(FunctionCallInfo fcinfo, int argno)
{
	int			digits;

	ORION_REQUIRE_ARG(fcinfo, argno, "digits");
	digits = PG_GETARG_INT32(argno);
	if (digits < ORION_TOTP_DIGITS || digits > ORION_OTP_MAX_DIGITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("digits must be between %d and %d", ORION_TOTP_DIGITS, ORION_OTP_MAX_DIGITS)));
	return digits;
}

static Datum
CodeText(uint32 value, int digits)
{
	char		code[ORION_OTP_MAX_DIGITS + 1];

	OrionOtpFormat(value, digits, code);
	return CStringGetTextDatum(code);
}

/*
 * orion.hotp_code(secret text, counter bigint, digits integer DEFAULT 6)
 *	 returns text
 */
PG_FUNCTION_INFO_V1(orion_hotp_code);
Datum
orion_hotp_code(PG_FUNCTION_ARGS)
{
	int			len;
	uint8	   *key = SecretArgument(fcinfo, 0, &len);
	int64		counter;
	int			digits;
	uint32		value;

	ORION_REQUIRE_ARG(fcinfo, 1, "counter");
	counter = PG_GETARG_INT64(1);
	if (counter < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("counter must not be negative")));
	digits = DigitsArgument(fcinfo, 2);
	value = OrionHotp(key, len, (uint64) counter, digits);
	explicit_bzero(key, MAX_SECRET_BYTES);
	return CodeText(value, digits);
}

/*
 * orion.totp_code(secret text, at timestamptz DEFAULT now(), digits integer DEFAULT 6)
 *	 returns text
 *
 * The code an authenticator app shows at that time for that secret.
 */
PG_FUNCTION_INFO_V1(orion_totp_code);
Datum
orion_totp_code(PG_FUNCTION_ARGS)
{
	int			len;
	uint8	   *key = SecretArgument(fcinfo, 0, &len);
	TimestampTz at;
	int64		step;
	int			digits;
	uint32		value;

	ORION_REQUIRE_ARG(fcinfo, 1, "at");
	at = PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at must be a finite time")));
	step = OrionTotpStep(at);
	if (step < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at must not be before 1970-01-01 00:00:00+00")));
	digits = DigitsArgument(fcinfo, 2);
	value = OrionHotp(key, len, (uint64) step, digits);
	explicit_bzero(key, MAX_SECRET_BYTES);
	return CodeText(value, digits);
}
