/*-------------------------------------------------------------------------
 *
 * fuzz_password.c
 *	  libFuzzer harness for src/auth/password.c: hashing, verification and the
 *	  rehash decision, around the parsers of src/auth/phc.c.
 *
 * password.c is linked whole, with the real libargon2; pgcrypto's crypt(),
 * which bcrypt verification calls through load_external_function, is
 * replaced by a fake here that records the setting it is given and answers
 * "match" only for the password the harness chose. The harness checks:
 *
 * - a stored hash that is not one orion can verify (unknown prefix,
 *	 malformed, costs out of bounds) raises the ERROR that phc.c's verdict
 *	 calls for, from both OrionPasswordVerify and OrionPasswordNeedsRehash,
 *	 never a crash, a mismatch, or a computation;
 * - a valid bcrypt string reaches crypt() as the same 60 characters with
 *	 "$2a$" for its prefix (pgcrypto knows no other), and verification is
 *	 true exactly when crypt() reproduces the setting; it always needs a
 *	 rehash;
 * - at small Argon2id settings chosen from the input (so that a run stays
 *	 fast), OrionPasswordHash gives a PHC string that parses, carries those
 *	 settings and the salt pg_strong_random gave, verifies for its password
 *	 and not for another, needs no rehash at those settings and needs one
 *	 when any setting changes; when the random source fails, hashing raises
 *	 an ERROR;
 * - OrionPasswordCheckLength refuses exactly the passwords longer than
 *	 orion.password_max_bytes, and, for new ones, shorter than
 *	 orion.password_min_length characters.
 *
 * Input: 4 bytes of settings, 16 bytes of salt, then "password 0xFF stored
 * hash" (0xFF never occurs in UTF-8).
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_password.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "common/compat.h"
#include "common/guc.h"
#include "auth/password.h"
#include "auth/phc.h"

/* The settings password.c reads (guc.c is not linked). */
int			orion_argon2_memory_kib = 19456;
int			orion_argon2_iterations = 2;
int			orion_argon2_parallelism = 1;
int			orion_password_min_length = 8;
int			orion_password_max_bytes = 1024;

/* ---- text datums and a direct call, as fmgr does them ---- */

text *
cstring_to_text_with_len(const char *s, int len)
{
	text	   *t = palloc(len + VARHDRSZ);

	SET_VARSIZE(t, len + VARHDRSZ);
	memcpy(VARDATA(t), s, len);
	return t;
}

text *
cstring_to_text(const char *s)
{
	return cstring_to_text_with_len(s, (int) strlen(s));
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	FUZZ_CHECK(!VARATT_IS_EXTENDED(datum), "a toasted datum outside the server");
	return datum;
}

Datum
DirectFunctionCall2Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 2, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function returned NULL");
	return result;
}

/* ---- pgcrypto's crypt(), faked ---- */

static char expected_setting[ORION_BCRYPT_HASH_LEN + 1];
static char right_password[256];
static size_t right_len;
static int	crypt_calls;

static Datum
FakeCrypt(PG_FUNCTION_ARGS)
{
	text	   *password = (text *) PG_GETARG_POINTER(0);
	text	   *setting = (text *) PG_GETARG_POINTER(1);
	size_t		plen = VARSIZE(password) - VARHDRSZ;
	size_t		slen = VARSIZE(setting) - VARHDRSZ;
	char	   *answer;

	crypt_calls++;
	FUZZ_CHECK(slen == ORION_BCRYPT_HASH_LEN &&
			   memcmp(VARDATA(setting), expected_setting, ORION_BCRYPT_HASH_LEN) == 0,
			   "crypt() got setting \"%.*s\", expected \"%s\"", (int) slen,
			   (char *) VARDATA(setting), expected_setting);
	answer = pnstrdup(VARDATA(setting), slen);
	/* a match reproduces the setting; anything else differs in the hash part */
	if (plen != right_len || memcmp(VARDATA(password), right_password, plen) != 0)
		answer[slen - 1] = answer[slen - 1] == 'a' ? 'b' : 'a';
	PG_RETURN_TEXT_P(cstring_to_text(answer));
}

void *
load_external_function(const char *filename, const char *funcname, bool signalNotFound,
					   void **filehandle)
{
	FUZZ_CHECK(strcmp(filename, "$libdir/pgcrypto") == 0 && strcmp(funcname, "pg_crypt") == 0,
			   "load_external_function(\"%s\", \"%s\")", filename, funcname);
	return (void *) FakeCrypt;
}

/* ---- helpers ---- */

typedef enum Outcome
{
	OUTCOME_FALSE,
	OUTCOME_TRUE,
	OUTCOME_ERROR
} Outcome;

static Outcome
Verify(const char *password, size_t len, const char *hash, size_t hashlen)
{
	volatile Outcome outcome = OUTCOME_ERROR;

	PG_TRY();
	{
		outcome = OrionPasswordVerify(password, len, hash, hashlen) ? OUTCOME_TRUE : OUTCOME_FALSE;
	}
	PG_CATCH();
	{
		outcome = OUTCOME_ERROR;
	}
	PG_END_TRY();
	return outcome;
}

static Outcome
NeedsRehash(const char *hash, size_t hashlen)
{
	volatile Outcome outcome = OUTCOME_ERROR;

	PG_TRY();
	{
		outcome = OrionPasswordNeedsRehash(hash, hashlen) ? OUTCOME_TRUE : OUTCOME_FALSE;
	}
	PG_CATCH();
	{
		outcome = OUTCOME_ERROR;
	}
	PG_END_TRY();
	return outcome;
}

static bool
LengthAccepted(const char *password, size_t len, bool is_new)
{
	volatile bool accepted = false;

	PG_TRY();
	{
		OrionPasswordCheckLength(password, len, is_new);
		accepted = true;
	}
	PG_CATCH();
	{
		accepted = false;
	}
	PG_END_TRY();
	return accepted;
}

/* The ERROR message password.c gives for a stored hash phc.c refuses. */
static const char *
ExpectedError(OrionHashAlgorithm alg, OrionHashParseResult result)
{
	const char *what = alg == ORION_HASH_ARGON2ID ? "Argon2id hash" : "bcrypt hash";

	switch (result)
	{
		case ORION_PARSE_UNKNOWN_ALGORITHM:
			return "unsupported password hash format";
		case ORION_PARSE_MALFORMED:
			return psprintf("malformed %s", what);
		case ORION_PARSE_OUT_OF_RANGE:
			return psprintf("%s parameters are out of range", what);
		default:
			return NULL;
	}
}

/* An arbitrary stored hash. */
static void
CheckStoredHash(const char *password, size_t plen, const char *hash, size_t hashlen)
{
	OrionHashAlgorithm alg = OrionHashAlgorithmOf(hash, hashlen);
	OrionArgon2Hash a;
	OrionBcryptHash b;
	OrionHashParseResult result = alg == ORION_HASH_ARGON2ID ? OrionParseArgon2id(hash, hashlen, &a) :
	alg == ORION_HASH_BCRYPT ? OrionParseBcrypt(hash, hashlen, &b) : ORION_PARSE_UNKNOWN_ALGORITHM;
	const char *error = ExpectedError(alg, result);
	Outcome		outcome;

	if (error != NULL)
	{
		crypt_calls = 0;
		outcome = Verify(password, plen, hash, hashlen);
		FUZZ_CHECK(outcome == OUTCOME_ERROR && strcmp(FuzzShimLastError(), error) == 0 && crypt_calls == 0,
				   "verify against \"%.*s\": outcome %d (%s), expected the ERROR \"%s\"",
				   (int) hashlen, hash, outcome, FuzzShimLastError(), error);
		outcome = NeedsRehash(hash, hashlen);
		FUZZ_CHECK(outcome == OUTCOME_ERROR && strcmp(FuzzShimLastError(), error) == 0,
				   "needs_rehash of \"%.*s\": outcome %d (%s), expected the ERROR \"%s\"",
				   (int) hashlen, hash, outcome, FuzzShimLastError(), error);
		return;
	}
	if (alg == ORION_HASH_BCRYPT)
	{
		bool		right = plen < sizeof(right_password) && plen % 2 == 0;

		memcpy(expected_setting, hash, ORION_BCRYPT_HASH_LEN);
		expected_setting[2] = 'a';
		expected_setting[ORION_BCRYPT_HASH_LEN] = '\0';
		/* the fake's right password is this one, or one it cannot be */
		if (right)
		{
			memcpy(right_password, password, plen);
			right_len = plen;
		}
		else
		{
			/* longer than any password given here */
			memset(right_password, 'x', sizeof(right_password));
			right_len = sizeof(right_password);
		}
		crypt_calls = 0;
		outcome = Verify(password, plen, hash, hashlen);
		FUZZ_CHECK(outcome == (right ? OUTCOME_TRUE : OUTCOME_FALSE) && crypt_calls == 1,
				   "bcrypt verify against \"%.*s\": outcome %d (%s), crypt() called %d times",
				   (int) hashlen, hash, outcome, FuzzShimLastError(), crypt_calls);
		FUZZ_CHECK(NeedsRehash(hash, hashlen) == OUTCOME_TRUE, "bcrypt \"%.*s\" needs no rehash",
				   (int) hashlen, hash);
		return;
	}
	/* a valid Argon2id string: verify only if it is cheap to compute */
	if (a.memory_kib <= 256 && a.iterations <= 2)
	{
		outcome = Verify(password, plen, hash, hashlen);
		FUZZ_CHECK(outcome != OUTCOME_ERROR, "verify against \"%.*s\": ERROR %s",
				   (int) hashlen, hash, FuzzShimLastError());
	}
	FUZZ_CHECK(NeedsRehash(hash, hashlen) != OUTCOME_ERROR, "needs_rehash of \"%.*s\": ERROR %s",
			   (int) hashlen, hash, FuzzShimLastError());
}

/* A new hash at small settings. */
static void
CheckNewHash(const uint8_t *settings, const uint8_t *salt, size_t salt_bytes,
			 const char *password, size_t plen)
{
	char	   *volatile phc = NULL;
	OrionArgon2Hash parsed;
	size_t		len;

	orion_argon2_parallelism = 1 + settings[0] % 4;
	orion_argon2_memory_kib = 8 * orion_argon2_parallelism + settings[1] % 57;
	orion_argon2_iterations = 1 + settings[2] % 3;

	FuzzShimSetRandom(salt, salt_bytes);
	PG_TRY();
	{
		phc = OrionPasswordHash(password, plen);
	}
	PG_CATCH();
	{
		phc = NULL;
	}
	PG_END_TRY();
	if (salt_bytes < ORION_ARGON2_SALT_LEN)
	{
		FUZZ_CHECK(phc == NULL && strcmp(FuzzShimLastError(), "could not generate a random salt") == 0,
				   "hashing with %zu random bytes: %s", salt_bytes, phc ? phc : FuzzShimLastError());
		return;
	}
	FUZZ_CHECK(phc != NULL, "hashing failed: %s", FuzzShimLastError());
	len = strlen(phc);
	FUZZ_CHECK(OrionParseArgon2id(phc, len, &parsed) == ORION_PARSE_OK &&
			   parsed.memory_kib == (uint32) orion_argon2_memory_kib &&
			   parsed.iterations == (uint32) orion_argon2_iterations &&
			   parsed.parallelism == (uint32) orion_argon2_parallelism &&
			   parsed.salt_len == ORION_ARGON2_SALT_LEN &&
			   memcmp(parsed.salt, salt, ORION_ARGON2_SALT_LEN) == 0 &&
			   parsed.hash_len == ORION_ARGON2_HASH_LEN,
			   "new hash \"%s\" does not carry the settings and salt", phc);
	FUZZ_CHECK(Verify(password, plen, phc, len) == OUTCOME_TRUE, "\"%s\" does not verify its password", phc);
	{
		/* not psprintf("%.*s!"): it would stop at a NUL in the password, and
		 * Verify would read plen + 1 bytes past the shorter copy */
		char	   *other = palloc(plen + 2);

		memcpy(other, password, plen);
		other[plen] = '!';
		other[plen + 1] = '\0';

		FUZZ_CHECK(Verify(other, plen + 1, phc, len) == OUTCOME_FALSE,
				   "\"%s\" verifies another password", phc);
	}
	FUZZ_CHECK(NeedsRehash(phc, len) == OUTCOME_FALSE, "a hash at the current settings needs a rehash");
	orion_argon2_iterations++;
	FUZZ_CHECK(NeedsRehash(phc, len) == OUTCOME_TRUE, "a change of iterations needs no rehash");
	orion_argon2_iterations--;
	orion_argon2_memory_kib++;
	FUZZ_CHECK(NeedsRehash(phc, len) == OUTCOME_TRUE, "a change of memory needs no rehash");
	orion_argon2_memory_kib--;
	orion_argon2_parallelism = orion_argon2_parallelism % 4 + 1;
	FUZZ_CHECK(NeedsRehash(phc, len) == OUTCOME_TRUE, "a change of parallelism needs no rehash");
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest;
	size_t		rest_len;
	const uint8_t *sep;
	char	   *password;
	size_t		plen;
	char	   *hash;
	size_t		hashlen;
	size_t		salt_bytes;

	if (size < 4)
		return -1;
	salt_bytes = Min(size - 4, ORION_ARGON2_SALT_LEN);
	rest = data + 4 + salt_bytes;
	rest_len = size - 4 - salt_bytes;
	sep = memchr(rest, 0xFF, rest_len);
	plen = sep ? (size_t) (sep - rest) : rest_len;
	hashlen = sep ? rest_len - plen - 1 : 0;
	/* exact-size copies: both travel with a length, never a terminator */
	password = palloc(plen ? plen : 1);
	memcpy(password, rest, plen);
	hash = palloc(hashlen ? hashlen : 1);
	memcpy(hash, sep ? sep + 1 : rest, hashlen);

	/* length limits, at settings from the input */
	orion_password_min_length = data[3] % 16;
	orion_password_max_bytes = 8 + data[3];
	FUZZ_CHECK(LengthAccepted(password, plen, false) == (plen <= (size_t) orion_password_max_bytes),
			   "%zu bytes against a maximum of %d", plen, orion_password_max_bytes);
	FUZZ_CHECK(LengthAccepted(password, plen, true) ==
			   (plen <= (size_t) orion_password_max_bytes &&
				pg_mbstrlen_with_len(password, (int) plen) >= orion_password_min_length),
			   "new password of %zu bytes against %d to %d", plen, orion_password_min_length,
			   orion_password_max_bytes);

	CheckStoredHash(password, plen, hash, hashlen);
	CheckNewHash(data, data + 4, salt_bytes, password, plen);
	FuzzShimReset();
	return 0;
}
