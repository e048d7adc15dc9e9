/*-------------------------------------------------------------------------
 *
 * recovery_code.c
 *	  Recovery codes: the way past a lost authenticator, each usable once.
 *
 * Ten codes of 80 random bits each, in base32's lower-case alphabet
 * (no 0/O, 1/l to misread), shown in groups of four. They are random
 * enough that a plain SHA-256 is all their storage needs (as for tokens):
 * there is no dictionary to try.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/recovery_code.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "auth/recovery_code.h"
#include "auth/token.h"
#include "common/base32.h"
#include "common/query.h"

#define RANDOM_BYTES	10
#define GROUP_CHARS		4

static OrionQuery remove_codes = {
	"DELETE FROM orion_auth.recovery_codes WHERE user_id = $1",
	1, {UUIDOID}, NULL
};

static OrionQuery insert_code = {
	"INSERT INTO orion_auth.recovery_codes (user_id, code) VALUES ($1, $2)",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery use_code = {
	"UPDATE orion_auth.recovery_codes SET used_at = pg_catalog.now()"
	" WHERE user_id = $1 AND code = $2 AND used_at IS NULL",
	2, {UUIDOID, TEXTOID}, NULL
};

static OrionQuery codes_left = {
	"SELECT pg_catalog.count(*)::integer FROM orion_auth.recovery_codes"
	" WHERE user_id = $1 AND used_at IS NULL",
	1, {UUIDOID}, NULL
};

void
OrionRecoveryCodesRemove(const pg_uuid_t *user_id)
{
	Datum		values[1];

	values[0] = UUIDPGetDatum(user_id);
	OrionQueryRun(&remove_codes, values, NULL, false, 0);
}

ArrayType *
OrionRecoveryCodesIssue(const pg_uuid_t *user_id, MemoryContext result_context)
{
	Datum		shown[ORION_RECOVERY_CODES];
	Datum		values[2];
	MemoryContext spi;
	ArrayType  *result;
	int			i;

	OrionRecoveryCodesRemove(user_id);
	values[0] = UUIDPGetDatum(user_id);
	for (i = 0; i < ORION_RECOVERY_CODES; i++)
	{
		uint8		random_bytes[RANDOM_BYTES];
		char		code[ORION_RECOVERY_CODE_CHARS + 1];
		char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
		char		grouped[ORION_RECOVERY_CODE_CHARS + ORION_RECOVERY_CODE_CHARS / GROUP_CHARS];
		char	   *p = grouped;
		int			c;

		if (!pg_strong_random(random_bytes, sizeof(random_bytes)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random bytes")));
		OrionBase32Encode(random_bytes, sizeof(random_bytes), code, true);
		explicit_bzero(random_bytes, sizeof(random_bytes));

		OrionTokenDigest(code, ORION_RECOVERY_CODE_CHARS, digest);
		values[1] = CStringGetTextDatum(digest);
		OrionQueryRun(&insert_code, values, NULL, false, 0);

		for (c = 0; c < ORION_RECOVERY_CODE_CHARS; c++)
		{
			if (c > 0 && c % GROUP_CHARS == 0)
				*p++ = '-';
			*p++ = code[c];
		}
		*p = '\0';
		explicit_bzero(code, sizeof(code));
		spi = MemoryContextSwitchTo(result_context);
		shown[i] = CStringGetTextDatum(grouped);
		MemoryContextSwitchTo(spi);
		explicit_bzero(grouped, sizeof(grouped));
	}

	spi = MemoryContextSwitchTo(result_context);
	result = construct_array(shown, ORION_RECOVERY_CODES, TEXTOID, -1, false, TYPALIGN_INT);
	MemoryContextSwitchTo(spi);
	return result;
}

bool
OrionRecoveryCodeUse(const pg_uuid_t *user_id, const char *code)
{
	char		digest[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	Datum		values[2];

	OrionTokenDigest(code, ORION_RECOVERY_CODE_CHARS, digest);
	values[0] = UUIDPGetDatum(user_id);
	values[1] = CStringGetTextDatum(digest);
	return OrionQueryRun(&use_code, values, NULL, false, 0) > 0;
}

int
OrionRecoveryCodesLeft(const pg_uuid_t *user_id)
{
	Datum		values[1];
	bool		isnull;

	values[0] = UUIDPGetDatum(user_id);
	OrionQueryRun(&codes_left, values, NULL, false, 1);
	return DatumGetInt32(OrionQueryGet(0, 1, &isnull));
}
