/*-------------------------------------------------------------------------
 *
 * token.c
 *	  Tokens: generation and the digest that is stored.
 *
 * A token is 32 bytes from pg_strong_random in URL-safe base64 behind a
 * readable prefix, "orion_s_" for access tokens, "orion_r_" for refresh
 * tokens and "orion_v_" for email verification, so secret scanners can
 * recognise a leaked one and a token of one kind is never taken for another. The tables store
 * only the SHA-256 of the whole token: a dump of them opens no session.
 * Looking a token up by its digest through a unique index is also what keeps
 * the comparison free of timing leaks: nothing secret is compared byte by
 * byte.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/token.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"

#include "auth/token.h"

const char *
OrionTokenPrefix(OrionTokenKind kind)
{
	switch (kind)
	{
		case ORION_TOKEN_SESSION:
			return "orion_s_";
		case ORION_TOKEN_REFRESH:
			return "orion_r_";
		case ORION_TOKEN_EMAIL_VERIFICATION:
			return "orion_v_";
		case ORION_TOKEN_PASSWORD_RESET:
			return "orion_p_";
		case ORION_TOKEN_SIGN_IN_LINK:
			return "orion_m_";
		case ORION_TOKEN_MFA_CHALLENGE:
			return "orion_c_";
	}
	elog(ERROR, "unknown token kind %d", (int) kind);
	return NULL;				/* keep the compiler quiet */
}

char *
OrionTokenGenerate(OrionTokenKind kind)
{
	uint8		random_bytes[ORION_TOKEN_RANDOM_BYTES];
	char	   *token = palloc(ORION_TOKEN_LEN + 1);

	if (!pg_strong_random(random_bytes, sizeof(random_bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token")));

	memcpy(token, OrionTokenPrefix(kind), ORION_TOKEN_PREFIX_LEN);
	OrionBase64Encode(random_bytes, sizeof(random_bytes), token + ORION_TOKEN_PREFIX_LEN, true);
	explicit_bzero(random_bytes, sizeof(random_bytes));
	return token;
}

bool
OrionTokenIsWellFormed(const char *s, size_t len, OrionTokenKind kind)
{
	uint8		decoded[ORION_TOKEN_RANDOM_BYTES];

	if (len != ORION_TOKEN_LEN || memcmp(s, OrionTokenPrefix(kind), ORION_TOKEN_PREFIX_LEN) != 0)
		return false;
	return OrionBase64Decode(s + ORION_TOKEN_PREFIX_LEN, len - ORION_TOKEN_PREFIX_LEN,
							 decoded, sizeof(decoded), true) == ORION_TOKEN_RANDOM_BYTES;
}

void
OrionTokenDigest(const char *s, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	int			i;

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) s, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 digest: %s",
						pg_cryptohash_error(ctx))));
	pg_cryptohash_free(ctx);

	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	hex[ORION_TOKEN_DIGEST_HEX_LEN] = '\0';
}
