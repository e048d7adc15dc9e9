/*-------------------------------------------------------------------------
 *
 * phc.c
 *	  Parsing and formatting of password hash strings.
 *
 * Argon2id hashes are PHC strings, as libargon2 and every Argon2 library
 * write them:
 *
 *	  $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
 *
 * with salt and hash in unpadded standard base64. bcrypt hashes are what the
 * original Node service stored (npm bcrypt): "$2b$12$" followed by 53
 * characters of bcrypt's own base64. Parsing is strict (no leading zeros, no
 * extra fields, canonical base64) so that one hash has one spelling, and
 * bounded (see phc.h). Pure C, no server calls, so it can be fuzzed alone.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/phc.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "auth/phc.h"

#define ARGON2ID_PREFIX "$argon2id$"

OrionHashAlgorithm
OrionHashAlgorithmOf(const char *s, size_t len)
{
	if (len >= strlen(ARGON2ID_PREFIX) && memcmp(s, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) == 0)
		return ORION_HASH_ARGON2ID;
	if (len >= 4 && s[0] == '$' && s[1] == '2' &&
		(s[2] == 'a' || s[2] == 'b' || s[2] == 'y') && s[3] == '$')
		return ORION_HASH_BCRYPT;
	return ORION_HASH_UNKNOWN;
}

/*
 * Read "name=<decimal>" at *p, ending before stop; advance *p past it.
 * Decimal means no sign, no leading zero, at most 10 digits.
 */
static bool
ReadParam(const char **p, const char *end, const char *name, uint64_t *value)
{
	size_t		nlen = strlen(name);
	const char *q = *p;
	int			digits = 0;
	uint64_t	v = 0;

	if ((size_t) (end - q) < nlen + 2 || memcmp(q, name, nlen) != 0 || q[nlen] != '=')
		return false;
	q += nlen + 1;
	if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9')
		return false;
	while (q < end && *q >= '0' && *q <= '9')
	{
		if (++digits > 10)
			return false;
		v = v * 10 + (uint64_t) (*q - '0');
		q++;
	}
	if (digits == 0)
		return false;
	*value = v;
	*p = q;
	return true;
}

/* Expect the character c at *p and step over it. */
static bool
Expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

OrionHashParseResult
OrionParseArgon2id(const char *s, size_t len, OrionArgon2Hash *out)
{
	const char *p = s;
	const char *end = s + len;
	const char *field;
	uint64_t	v,
				m,
				t,
				par;
	int			n;

	if (OrionHashAlgorithmOf(s, len) != ORION_HASH_ARGON2ID)
		return ORION_PARSE_UNKNOWN_ALGORITHM;
	if (len >= ORION_PHC_MAX_LEN)
		return ORION_PARSE_MALFORMED;
	p += strlen(ARGON2ID_PREFIX);

	if (!ReadParam(&p, end, "v", &v) || !Expect(&p, end, '$') ||
		!ReadParam(&p, end, "m", &m) || !Expect(&p, end, ',') ||
		!ReadParam(&p, end, "t", &t) || !Expect(&p, end, ',') ||
		!ReadParam(&p, end, "p", &par) || !Expect(&p, end, '$'))
		return ORION_PARSE_MALFORMED;

	/* salt, up to the next '$' */
	field = p;
	while (p < end && *p != '$')
		p++;
	n = OrionBase64Decode(field, (size_t) (p - field), out->salt, sizeof(out->salt), false);
	if (n < ORION_ARGON2_MIN_SALT_LEN || !Expect(&p, end, '$'))
		return ORION_PARSE_MALFORMED;
	out->salt_len = (size_t) n;

	/* hash, to the end */
	n = OrionBase64Decode(p, (size_t) (end - p), out->hash, sizeof(out->hash), false);
	if (n < ORION_ARGON2_MIN_HASH_LEN)
		return ORION_PARSE_MALFORMED;
	out->hash_len = (size_t) n;

	if (v != ORION_ARGON2_VERSION ||
		par < 1 || par > ORION_ARGON2_MAX_PARALLELISM ||
		t < 1 || t > ORION_ARGON2_MAX_ITERATIONS ||
		m < 8 * par || m > ORION_ARGON2_MAX_MEMORY_KIB)
		return ORION_PARSE_OUT_OF_RANGE;

	out->version = (uint32_t) v;
	out->memory_kib = (uint32_t) m;
	out->iterations = (uint32_t) t;
	out->parallelism = (uint32_t) par;
	return ORION_PARSE_OK;
}

/* bcrypt's base64 alphabet: "./A-Za-z0-9". */
static bool
IsBcryptBase64(char c)
{
	return c == '.' || c == '/' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

OrionHashParseResult
OrionParseBcrypt(const char *s, size_t len, OrionBcryptHash *out)
{
	size_t		i;
	int			cost;

	if (OrionHashAlgorithmOf(s, len) != ORION_HASH_BCRYPT)
		return ORION_PARSE_UNKNOWN_ALGORITHM;
	if (len != ORION_BCRYPT_HASH_LEN ||
		s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
		return ORION_PARSE_MALFORMED;
	for (i = 7; i < len; i++)
		if (!IsBcryptBase64(s[i]))
			return ORION_PARSE_MALFORMED;

	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < ORION_BCRYPT_MIN_COST || cost > ORION_BCRYPT_MAX_COST)
		return ORION_PARSE_OUT_OF_RANGE;

	out->variant = s[2];
	out->cost = cost;
	return ORION_PARSE_OK;
}

size_t
OrionFormatArgon2id(const OrionArgon2Hash *h, char *dst)
{
	char		salt[ORION_BASE64_ENCODED_LEN(ORION_ARGON2_MAX_SALT_LEN) + 1];
	char		hash[ORION_BASE64_ENCODED_LEN(ORION_ARGON2_MAX_HASH_LEN) + 1];
	int			n;

	OrionBase64Encode(h->salt, h->salt_len, salt, false);
	OrionBase64Encode(h->hash, h->hash_len, hash, false);
	n = snprintf(dst, ORION_PHC_MAX_LEN, "%sv=%u$m=%u,t=%u,p=%u$%s$%s",
				 ARGON2ID_PREFIX, (unsigned) h->version, (unsigned) h->memory_kib,
				 (unsigned) h->iterations, (unsigned) h->parallelism, salt, hash);
	return (size_t) n;
}
