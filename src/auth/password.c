/*-------------------------------------------------------------------------
 *
 * password.c
 *	  Password hashing (Argon2id) and verification (Argon2id, bcrypt).
 *
 * New hashes are Argon2id through libargon2, the reference implementation,
 * with the cost the orion.argon2_* settings give. libargon2 is driven
 * through argon2id_ctx() with one thread: the lanes (parallelism) change the
 * hash, but no thread is started inside a backend.
 *
 * Hashes from the original Node service are bcrypt ($2a$, $2b$, $2y$; npm
 * bcrypt wrote $2b$12$). They are verified by pgcrypto's crypt(), which knows
 * only the $2a$ prefix and, given $2b$ or $2y$, silently computes a DES hash
 * instead. crypt_blowfish computes $2a$, $2b$ and $2y$ alike for any password
 * in a UTF-8 database (its $2a$ countermeasure concerns only 0xFF bytes,
 * which UTF-8 never contains), so the prefix is mapped to $2a$ first.
 *
 * Every comparison of a computed hash with a stored one is constant-time.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/password.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <argon2.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "auth/password.h"
#include "auth/phc.h"
#include "common/compat.h"
#include "common/guc.h"
#include "common/request.h"
#include "common/timing_safe.h"

static void NewArgon2idAtSettings(OrionArgon2Hash *h);
static void Argon2idCompute(const char *password, size_t len, OrionArgon2Hash *h);
static bool Argon2idVerify(const char *password, size_t len, const char *hash, size_t hashlen);
static bool BcryptVerify(const char *password, size_t len, const char *hash, size_t hashlen);
pg_noreturn static void ReportUnreadableHash(OrionHashParseResult result, const char *what);

/* pgcrypto's crypt(), looked up once per backend. */
static PGFunction pgcrypto_crypt = NULL;

void
OrionPasswordCheckLength(const char *password, size_t len, bool is_new)
{
	if (len > (size_t) orion_password_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too long"),
				 errdetail("Passwords may have at most %d bytes (orion.password_max_bytes).",
						   orion_password_max_bytes)));

	if (is_new && pg_mbstrlen_with_len(password, (int) len) < orion_password_min_length)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("password is too short"),
				 errdetail("Passwords must have at least %d characters (orion.password_min_length).",
						   orion_password_min_length)));
}

/*
 * Set h up for a new hash at the current settings, with a fresh random salt.
 */
static void
NewArgon2idAtSettings(OrionArgon2Hash *h)
{
	if ((uint32) orion_argon2_memory_kib < 8 * (uint32) orion_argon2_parallelism)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("orion.argon2_memory_kib must be at least 8 kB per lane"),
				 errdetail("orion.argon2_parallelism is %d, so at least %d kB are needed.",
						   orion_argon2_parallelism, 8 * orion_argon2_parallelism)));

	memset(h, 0, sizeof(*h));
	h->version = ORION_ARGON2_VERSION;
	h->memory_kib = (uint32) orion_argon2_memory_kib;
	h->iterations = (uint32) orion_argon2_iterations;
	h->parallelism = (uint32) orion_argon2_parallelism;
	h->salt_len = ORION_ARGON2_SALT_LEN;
	h->hash_len = ORION_ARGON2_HASH_LEN;
	if (!pg_strong_random(h->salt, h->salt_len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random salt")));
}

char *
OrionPasswordHash(const char *password, size_t len)
{
	OrionArgon2Hash h;
	char	   *phc = palloc(ORION_PHC_MAX_LEN);

	NewArgon2idAtSettings(&h);
	Argon2idCompute(password, len, &h);
	OrionFormatArgon2id(&h, phc);
	explicit_bzero(&h, sizeof(h));
	return phc;
}

bool
OrionPasswordVerify(const char *password, size_t len, const char *hash, size_t hashlen)
{
	switch (OrionHashAlgorithmOf(hash, hashlen))
	{
		case ORION_HASH_ARGON2ID:
			return Argon2idVerify(password, len, hash, hashlen);
		case ORION_HASH_BCRYPT:
			return BcryptVerify(password, len, hash, hashlen);
		case ORION_HASH_UNKNOWN:
			break;
	}
	ReportUnreadableHash(ORION_PARSE_UNKNOWN_ALGORITHM, "password hash");
}

bool
OrionPasswordNeedsRehash(const char *hash, size_t hashlen)
{
	OrionArgon2Hash h;
	OrionBcryptHash b;
	OrionHashParseResult result;

	switch (OrionHashAlgorithmOf(hash, hashlen))
	{
		case ORION_HASH_ARGON2ID:
			result = OrionParseArgon2id(hash, hashlen, &h);
			if (result != ORION_PARSE_OK)
				ReportUnreadableHash(result, "Argon2id hash");
			return h.memory_kib != (uint32) orion_argon2_memory_kib ||
				h.iterations != (uint32) orion_argon2_iterations ||
				h.parallelism != (uint32) orion_argon2_parallelism ||
				h.hash_len != ORION_ARGON2_HASH_LEN;
		case ORION_HASH_BCRYPT:
			result = OrionParseBcrypt(hash, hashlen, &b);
			if (result != ORION_PARSE_OK)
				ReportUnreadableHash(result, "bcrypt hash");
			return true;
		case ORION_HASH_UNKNOWN:
			break;
	}
	ReportUnreadableHash(ORION_PARSE_UNKNOWN_ALGORITHM, "password hash");
}

void
OrionPasswordDummyVerify(const char *password, size_t len)
{
	OrionArgon2Hash h;
	uint8		zeros[ORION_ARGON2_HASH_LEN] = {0};

	/*
	 * One Argon2id computation at the current settings, exactly what
	 * verifying a current hash costs, compared like one. Nothing is prepared
	 * beforehand: a dummy hash made on first use would make the first unknown
	 * email of every connection cost twice as much, and so tell it apart.
	 */
	NewArgon2idAtSettings(&h);
	Argon2idCompute(password, len, &h);
	(void) OrionTimingSafeEqual(h.hash, zeros, sizeof(zeros));
	explicit_bzero(&h, sizeof(h));
}

/* Fill h->hash (h->hash_len bytes) from password, h's salt and costs. */
static void
Argon2idCompute(const char *password, size_t len, OrionArgon2Hash *h)
{
	argon2_context ctx;
	int			rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.out = h->hash;
	ctx.outlen = (uint32_t) h->hash_len;
	ctx.pwd = (uint8_t *) unconstify(char *, password);
	ctx.pwdlen = (uint32_t) len;
	ctx.salt = h->salt;
	ctx.saltlen = (uint32_t) h->salt_len;
	ctx.t_cost = h->iterations;
	ctx.m_cost = h->memory_kib;
	ctx.lanes = h->parallelism;
	ctx.threads = 1;
	ctx.version = ARGON2_VERSION_13;
	ctx.flags = ARGON2_DEFAULT_FLAGS;

	rc = argon2id_ctx(&ctx);
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory computing an Argon2id hash"),
				 errdetail("The hash needs %u kB.", h->memory_kib)));
	if (rc != ARGON2_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute an Argon2id hash: %s", argon2_error_message(rc))));
}

static bool
Argon2idVerify(const char *password, size_t len, const char *hash, size_t hashlen)
{
	OrionArgon2Hash stored;
	OrionArgon2Hash computed;
	OrionHashParseResult result;
	bool		match;

	result = OrionParseArgon2id(hash, hashlen, &stored);
	if (result != ORION_PARSE_OK)
		ReportUnreadableHash(result, "Argon2id hash");

	computed = stored;
	Argon2idCompute(password, len, &computed);
	match = OrionTimingSafeEqual(computed.hash, stored.hash, stored.hash_len);
	explicit_bzero(&computed, sizeof(computed));
	return match;
}

static bool
BcryptVerify(const char *password, size_t len, const char *hash, size_t hashlen)
{
	OrionBcryptHash parsed;
	OrionHashParseResult result;
	char		setting[ORION_BCRYPT_HASH_LEN + 1];
	text	   *computed;
	bool		match;

	result = OrionParseBcrypt(hash, hashlen, &parsed);
	if (result != ORION_PARSE_OK)
		ReportUnreadableHash(result, "bcrypt hash");

	/* pgcrypto knows $2a$ only; it computes $2b$ and $2y$ the same way */
	memcpy(setting, hash, ORION_BCRYPT_HASH_LEN);
	setting[2] = 'a';
	setting[ORION_BCRYPT_HASH_LEN] = '\0';

	if (pgcrypto_crypt == NULL)
		pgcrypto_crypt = load_external_function("$libdir/pgcrypto", "pg_crypt", true, NULL);

	computed = DatumGetTextPP(DirectFunctionCall2(pgcrypto_crypt,
												  PointerGetDatum(cstring_to_text_with_len(password, (int) len)),
												  PointerGetDatum(cstring_to_text(setting))));
	match = VARSIZE_ANY_EXHDR(computed) == ORION_BCRYPT_HASH_LEN &&
		OrionTimingSafeEqual(VARDATA_ANY(computed), setting, ORION_BCRYPT_HASH_LEN);
	pfree(computed);
	return match;
}

/* The ERROR for a stored hash orion cannot verify. */
static void
ReportUnreadableHash(OrionHashParseResult result, const char *what)
{
	switch (result)
	{
		case ORION_PARSE_UNKNOWN_ALGORITHM:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unsupported password hash format"),
					 errdetail("orion verifies Argon2id ($argon2id$) and bcrypt ($2a$, $2b$, $2y$) hashes.")));
			break;
		case ORION_PARSE_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed %s", what)));
			break;
		case ORION_PARSE_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s parameters are out of range", what),
					 errdetail("orion verifies Argon2id version 19 with m <= %d kB, t <= %d, p <= %d, "
							   "and bcrypt with a cost from %d to %d.",
							   ORION_ARGON2_MAX_MEMORY_KIB, ORION_ARGON2_MAX_ITERATIONS,
							   ORION_ARGON2_MAX_PARALLELISM,
							   ORION_BCRYPT_MIN_COST, ORION_BCRYPT_MAX_COST)));
			break;
		case ORION_PARSE_OK:
			break;
	}
	elog(ERROR, "password hash reported unreadable without a reason");
}

/*
 * orion.hash_password(password text) returns text
 */
PG_FUNCTION_INFO_V1(orion_hash_password);
Datum
orion_hash_password(PG_FUNCTION_ARGS)
{
	text	   *password;

	ORION_REQUIRE_ARG(fcinfo, 0, "password");
	password = PG_GETARG_TEXT_PP(0);

	OrionPasswordCheckLength(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password), true);
	PG_RETURN_TEXT_P(cstring_to_text(OrionPasswordHash(VARDATA_ANY(password),
													   VARSIZE_ANY_EXHDR(password))));
}

/*
 * orion.verify_password(password text, hash text) returns boolean
 */
PG_FUNCTION_INFO_V1(orion_verify_password);
Datum
orion_verify_password(PG_FUNCTION_ARGS)
{
	text	   *password;
	text	   *hash;

	ORION_REQUIRE_ARG(fcinfo, 0, "password");
	ORION_REQUIRE_ARG(fcinfo, 1, "hash");
	password = PG_GETARG_TEXT_PP(0);
	hash = PG_GETARG_TEXT_PP(1);

	OrionPasswordCheckLength(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password), false);
	PG_RETURN_BOOL(OrionPasswordVerify(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password),
									   VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)));
}

/*
 * orion.password_needs_rehash(hash text) returns boolean
 */
PG_FUNCTION_INFO_V1(orion_password_needs_rehash);
Datum
orion_password_needs_rehash(PG_FUNCTION_ARGS)
{
	text	   *hash;

	ORION_REQUIRE_ARG(fcinfo, 0, "hash");
	hash = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(OrionPasswordNeedsRehash(VARDATA_ANY(hash), VARSIZE_ANY_EXHDR(hash)));
}
