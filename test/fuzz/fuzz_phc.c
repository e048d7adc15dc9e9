/*-------------------------------------------------------------------------
 *
 * fuzz_phc.c
 *	  libFuzzer harness for src/auth/phc.c: the Argon2id PHC string and bcrypt
 *	  string parsers, and the PHC formatter.
 *
 * Stored password hashes come from anywhere an account table was filled
 * from (the original Node service, a dump, an UPDATE by hand), so the
 * parsers see arbitrary text. The harness checks:
 *
 * - as text: OrionHashAlgorithmOf and the parsers agree on the algorithm
 *	 (a parser answers UNKNOWN_ALGORITHM exactly when the prefix is not its
 *	 own); an Argon2id string that parses is formatted back to the very same
 *	 text (one hash, one spelling), with every parameter within the bounds
 *	 of phc.h; the bcrypt parser's verdict equals one derived here from the
 *	 format ("$2a$"/"$2b$"/"$2y$", two cost digits, "$", 53 characters of
 *	 bcrypt's base64, the cost within bounds);
 * - as a structure: any OrionArgon2Hash (version, costs, salt and hash of
 *	 0 to 64 bytes) formats to a string that parses back to the same fields
 *	 when it is within bounds, and otherwise to MALFORMED (salt or hash too
 *	 short) or OUT_OF_RANGE (a cost or version outside them), as expected.
 *
 * Input: the text is the whole input; the structure is read from it too.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_phc.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "auth/phc.h"

static bool
IsBcryptChar(char c)
{
	return strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", c) != NULL &&
		c != '\0';
}

static OrionHashParseResult
ExpectedBcrypt(const char *s, size_t len)
{
	size_t		i;
	int			cost;

	if (len < 4 || memcmp(s, "$2", 2) != 0 || strchr("aby", s[2]) == NULL || s[2] == '\0' ||
		s[3] != '$')
		return ORION_PARSE_UNKNOWN_ALGORITHM;
	if (len != 60 || s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
		return ORION_PARSE_MALFORMED;
	for (i = 7; i < len; i++)
		if (!IsBcryptChar(s[i]))
			return ORION_PARSE_MALFORMED;
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	return cost < 4 || cost > 16 ? ORION_PARSE_OUT_OF_RANGE : ORION_PARSE_OK;
}

static void
CheckText(const char *s, size_t len)
{
	OrionHashAlgorithm alg = OrionHashAlgorithmOf(s, len);
	OrionArgon2Hash a;
	OrionBcryptHash b;
	OrionHashParseResult ra = OrionParseArgon2id(s, len, &a);
	OrionHashParseResult rb = OrionParseBcrypt(s, len, &b);
	OrionHashParseResult want_b = ExpectedBcrypt(s, len);

	FUZZ_CHECK((ra == ORION_PARSE_UNKNOWN_ALGORITHM) == (alg != ORION_HASH_ARGON2ID),
			   "Argon2id parser says %d for algorithm %d", ra, alg);
	FUZZ_CHECK((rb == ORION_PARSE_UNKNOWN_ALGORITHM) == (alg != ORION_HASH_BCRYPT),
			   "bcrypt parser says %d for algorithm %d", rb, alg);
	FUZZ_CHECK(rb == want_b, "bcrypt \"%.*s\": parser says %d, expected %d", (int) len, s, rb, want_b);
	if (rb == ORION_PARSE_OK)
		FUZZ_CHECK(b.variant == s[2] && b.cost == (s[4] - '0') * 10 + (s[5] - '0'),
				   "bcrypt \"%.*s\" parsed as $2%c$ cost %d", (int) len, s, b.variant, b.cost);

	if (ra == ORION_PARSE_OK)
	{
		char		again[ORION_PHC_MAX_LEN];
		size_t		n;

		FUZZ_CHECK(a.version == ORION_ARGON2_VERSION &&
				   a.parallelism >= 1 && a.parallelism <= ORION_ARGON2_MAX_PARALLELISM &&
				   a.iterations >= 1 && a.iterations <= ORION_ARGON2_MAX_ITERATIONS &&
				   a.memory_kib >= 8 * a.parallelism && a.memory_kib <= ORION_ARGON2_MAX_MEMORY_KIB &&
				   a.salt_len >= ORION_ARGON2_MIN_SALT_LEN && a.salt_len <= ORION_ARGON2_MAX_SALT_LEN &&
				   a.hash_len >= ORION_ARGON2_MIN_HASH_LEN && a.hash_len <= ORION_ARGON2_MAX_HASH_LEN,
				   "\"%.*s\" parsed to v=%u m=%u t=%u p=%u, salt %zu, hash %zu bytes",
				   (int) len, s, a.version, a.memory_kib, a.iterations, a.parallelism,
				   a.salt_len, a.hash_len);
		n = OrionFormatArgon2id(&a, again);
		FUZZ_CHECK(n == len && strlen(again) == n && memcmp(again, s, len) == 0,
				   "\"%.*s\" parsed, but formats as \"%s\"", (int) len, s, again);
	}
}

/* Little-endian uint32 at data[at], zero past the end. */
static uint32_t
Word(const uint8_t *data, size_t size, size_t at)
{
	uint32_t	v = 0;
	int			i;

	for (i = 0; i < 4; i++)
		if (at + i < size)
			v |= (uint32_t) data[at + i] << (8 * i);
	return v;
}

static uint32_t
Pick(uint32_t w, uint32_t edge)
{
	/* mostly near the bound, sometimes anywhere */
	switch (w & 3)
	{
		case 0:
			return w >> 2;
		case 1:
			return edge + ((w >> 2) & 7) - 4;
		default:
			return 1 + (w >> 2) % edge;
	}
}

static void
CheckStructure(const uint8_t *data, size_t size)
{
	OrionArgon2Hash h;
	OrionArgon2Hash back;
	char		text[ORION_PHC_MAX_LEN];
	size_t		n;
	size_t		i;
	OrionHashParseResult want;
	OrionHashParseResult got;

	memset(&h, 0, sizeof(h));
	h.version = (Word(data, size, 0) & 7) == 0 ? Word(data, size, 0) >> 3 : ORION_ARGON2_VERSION;
	h.memory_kib = Pick(Word(data, size, 4), ORION_ARGON2_MAX_MEMORY_KIB);
	h.iterations = Pick(Word(data, size, 8), ORION_ARGON2_MAX_ITERATIONS);
	h.parallelism = Pick(Word(data, size, 12), ORION_ARGON2_MAX_PARALLELISM);
	h.salt_len = size > 16 ? data[16] % (ORION_ARGON2_MAX_SALT_LEN + 1) : 16;
	h.hash_len = size > 17 ? data[17] % (ORION_ARGON2_MAX_HASH_LEN + 1) : 32;
	for (i = 0; i < h.salt_len; i++)
		h.salt[i] = (uint8_t) (size > 18 ? data[18 + i % (size - 18)] : i);
	for (i = 0; i < h.hash_len; i++)
		h.hash[i] = (uint8_t) (size > 18 ? data[18 + (i * 7 + 3) % (size - 18)] : 255 - i);

	n = OrionFormatArgon2id(&h, text);
	FUZZ_CHECK(n < ORION_PHC_MAX_LEN && strlen(text) == n, "format wrote %zu characters", n);

	if (h.salt_len < ORION_ARGON2_MIN_SALT_LEN || h.hash_len < ORION_ARGON2_MIN_HASH_LEN)
		want = ORION_PARSE_MALFORMED;
	else if (h.version != ORION_ARGON2_VERSION ||
			 h.parallelism < 1 || h.parallelism > ORION_ARGON2_MAX_PARALLELISM ||
			 h.iterations < 1 || h.iterations > ORION_ARGON2_MAX_ITERATIONS ||
			 h.memory_kib < 8 * h.parallelism || h.memory_kib > ORION_ARGON2_MAX_MEMORY_KIB)
		want = ORION_PARSE_OUT_OF_RANGE;
	else
		want = ORION_PARSE_OK;

	got = OrionParseArgon2id(text, n, &back);
	FUZZ_CHECK(got == want, "\"%s\": parser says %d, expected %d", text, got, want);
	if (got == ORION_PARSE_OK)
		FUZZ_CHECK(back.version == h.version && back.memory_kib == h.memory_kib &&
				   back.iterations == h.iterations && back.parallelism == h.parallelism &&
				   back.salt_len == h.salt_len && memcmp(back.salt, h.salt, h.salt_len) == 0 &&
				   back.hash_len == h.hash_len && memcmp(back.hash, h.hash, h.hash_len) == 0,
				   "\"%s\" does not parse back to what was formatted", text);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: the parsers get a length, never a terminator */
	char	   *text = malloc(size ? size : 1);

	memcpy(text, data, size);
	CheckText(text, size);
	free(text);
	CheckStructure(data, size);
	return 0;
}
