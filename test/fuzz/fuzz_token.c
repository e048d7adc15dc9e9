/*-------------------------------------------------------------------------
 *
 * fuzz_token.c
 *	  libFuzzer harness for src/auth/token.c: token well-formedness, generation
 *	  and the stored digest.
 *
 * validate_session, refresh_session, logout and verify_email read a token
 * from the client before anything else, so OrionTokenIsWellFormed sees
 * arbitrary text. The harness checks:
 *
 * - OrionTokenIsWellFormed(s, kind) is true exactly for the kind's prefix
 *	 ("orion_s_", "orion_r_", "orion_v_") followed by the 43 characters that
 *	 URL-safe base64 writes for 32 bytes, judged here from the format alone
 *	 (43 characters of the URL alphabet, the last one with its two unused
 *	 low bits zero); never for two kinds;
 * - a token OrionTokenGenerate makes from random bytes the harness chose
 *	 (through the shim's pg_strong_random) is well formed for its kind
 *	 only, and its tail decodes to those bytes; when the random source
 *	 fails, generation raises an ERROR and returns nothing;
 * - OrionTokenDigest is the lower-case hex SHA-256 of the text, compared
 *	 with OpenSSL's SHA-256 called directly.
 *
 * Input: byte 0 picks the kind (modulo the number of kinds), bytes 1-32 are the random bytes (fewer make
 * the source fail); the whole input is also the text to judge and digest.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_token.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

#include <openssl/evp.h>

#include "auth/token.h"

static bool
IsUrlChar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_';
}

static bool
ExpectedWellFormed(const char *s, size_t len, OrionTokenKind kind)
{
	/* written out here, not taken from token.c: a second statement of the format */
	static const char *const prefixes[ORION_TOKEN_KINDS] = {"orion_s_", "orion_r_", "orion_v_", "orion_p_", "orion_m_", "orion_c_"};
	const char *prefix = prefixes[kind];
	size_t		i;

	if (len != 8 + 43 || memcmp(s, prefix, 8) != 0)
		return false;
	for (i = 8; i < len; i++)
		if (!IsUrlChar(s[i]))
			return false;
	/* 43 characters carry 258 bits: the last one's 2 low bits must be 0 */
	return strchr("AEIMQUYcgkosw048", s[len - 1]) != NULL;
}

static void
CheckDigest(const char *s, size_t len)
{
	char		hex[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	char		want[ORION_TOKEN_DIGEST_HEX_LEN + 1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	OrionTokenDigest(s, len, hex);
	FUZZ_CHECK(EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32,
			   "OpenSSL's SHA-256 failed");
	for (i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	FUZZ_CHECK(strlen(hex) == ORION_TOKEN_DIGEST_HEX_LEN && strcmp(hex, want) == 0,
			   "digest of %zu bytes: %s, OpenSSL says %s", len, hex, want);
}

static void
CheckGenerate(const uint8_t *data, size_t size)
{
	OrionTokenKind kind = (OrionTokenKind) (size > 0 ? data[0] % ORION_TOKEN_KINDS : 0);
	int			other;
	size_t		nrandom = size > 1 ? Min(size - 1, ORION_TOKEN_RANDOM_BYTES) : 0;
	char	   *volatile token = NULL;
	volatile bool failed = false;

	FuzzShimSetRandom(data + (size > 0 ? 1 : 0), nrandom);
	PG_TRY();
	{
		token = OrionTokenGenerate(kind);
	}
	PG_CATCH();
	{
		failed = true;
	}
	PG_END_TRY();

	if (nrandom < ORION_TOKEN_RANDOM_BYTES)
	{
		FUZZ_CHECK(failed && token == NULL &&
				   strcmp(FuzzShimLastError(), "could not generate a random token") == 0,
				   "with %zu random bytes, generation %s (%s)", nrandom,
				   failed ? "failed" : "succeeded", FuzzShimLastError());
		return;
	}
	FUZZ_CHECK(!failed, "generation failed: %s", FuzzShimLastError());
	{
		size_t		len = strlen(token);
		uint8_t		decoded[ORION_TOKEN_RANDOM_BYTES];

		FUZZ_CHECK(len == ORION_TOKEN_LEN, "generated token has %zu characters", len);
		FUZZ_CHECK(OrionTokenIsWellFormed(token, len, kind),
				   "generated token \"%s\" is not well formed for its kind", token);
		for (other = 0; other < ORION_TOKEN_KINDS; other++)
			FUZZ_CHECK(other == (int) kind || !OrionTokenIsWellFormed(token, len, (OrionTokenKind) other),
					   "generated token \"%s\" is well formed for kind %d too", token, other);
		FUZZ_CHECK(ExpectedWellFormed(token, len, kind), "generated token \"%s\" breaks the format", token);
		FUZZ_CHECK(OrionBase64Decode(token + ORION_TOKEN_PREFIX_LEN, len - ORION_TOKEN_PREFIX_LEN,
									 decoded, sizeof(decoded), true) == ORION_TOKEN_RANDOM_BYTES &&
				   memcmp(decoded, data + 1, ORION_TOKEN_RANDOM_BYTES) == 0,
				   "generated token \"%s\" does not carry the random bytes", token);
		CheckDigest(token, len);
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size ? size : 1);
	int			kind;
	int			kinds_matched = 0;

	memcpy(text, data, size);
	for (kind = 0; kind < ORION_TOKEN_KINDS; kind++)
	{
		bool		well_formed = OrionTokenIsWellFormed(text, size, (OrionTokenKind) kind);

		FUZZ_CHECK(well_formed == ExpectedWellFormed(text, size, (OrionTokenKind) kind),
				   "\"%.*s\": token of kind %d %d, expected %d", (int) size, text, kind, well_formed,
				   ExpectedWellFormed(text, size, (OrionTokenKind) kind));
		kinds_matched += well_formed;
	}
	FUZZ_CHECK(kinds_matched <= 1, "\"%.*s\" is well formed for %d kinds", (int) size, text, kinds_matched);
	CheckDigest(text, size);
	free(text);

	CheckGenerate(data, size);
	FuzzShimReset();
	return 0;
}
