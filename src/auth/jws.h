/*-------------------------------------------------------------------------
 *
 * jws.h
 *	  Reading a JWS in compact serialization (RFC 7515) and the JSON objects
 *	  of its header and payload, before anything about it is trusted.
 *
 * Plain C without the backend, so that test/fuzz/fuzz_jws.c runs it under
 * the sanitizers: a token is the most hostile input orion reads. No
 * allocation: everything goes into the caller's OrionJws.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/jws.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_JWS_H
#define ORION_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a token longer than this is refused unread (orion's are under 1 kB) */
#define ORION_JWS_MAX_LEN			8192
#define ORION_JWS_MAX_HEADER		1024	/* decoded header bytes */
#define ORION_JWS_MAX_SIGNATURE		64	/* Ed25519 and ES256 (r || s); HS256 is 32 */
/* members of one object, and the decoded length of a member's name */
#define ORION_JSON_MAX_MEMBERS		64
#define ORION_JSON_MAX_NAME			128
#define ORION_JSON_MAX_DEPTH		16

typedef enum OrionJsonType
{
	ORION_JSON_STRING,
	ORION_JSON_NUMBER,
	ORION_JSON_TRUE,
	ORION_JSON_FALSE,
	ORION_JSON_NULL,
	ORION_JSON_OBJECT,
	ORION_JSON_ARRAY
} OrionJsonType;

/* One member of an object: its decoded name, and its value as written. */
typedef struct OrionJsonMember
{
	char		name[ORION_JSON_MAX_NAME + 1];
	size_t		name_len;
	OrionJsonType type;
	const char *value;			/* strings: between the quotes, escapes undecoded */
	size_t		value_len;
} OrionJsonMember;

typedef struct OrionJsonMembers
{
	int			nmembers;
	OrionJsonMember members[ORION_JSON_MAX_MEMBERS];
} OrionJsonMembers;

/*
 * Read text as exactly one JSON object (RFC 8259, with white space around
 * it): true with its top-level members in *out, false when it is anything
 * else. Stricter than RFC 8259 where a lenient reader is an attack: bytes
 * that are not UTF-8, \u0000 and unpaired surrogates (jsonb refuses them),
 * two members of one name at the top level (readers disagree on which one
 * counts), nesting deeper than ORION_JSON_MAX_DEPTH.
 */
extern bool OrionJsonReadObject(const char *text, size_t len, OrionJsonMembers *out);

/* The top-level member of that name, or NULL. */
extern const OrionJsonMember *OrionJsonFind(const OrionJsonMembers *object, const char *name);

/*
 * The decoded bytes of a string value (or of one element of an array,
 * given its span) into dst, NUL-terminated: the length, or -1 when it does
 * not fit dstmax bytes with the NUL or contains a NUL.
 */
extern int	OrionJsonDecodeString(const char *value, size_t value_len, char *dst, size_t dstmax);

/*
 * A NumericDate (RFC 7519: seconds since the epoch): a JSON number with no
 * exponent, its fraction dropped; false when it is not one or is beyond
 * +-10^12.
 */
extern bool OrionJsonNumericDate(const OrionJsonMember *member, int64_t *out);

/*
 * Call fn for each element of an array member (their spans, as for a
 * member's value); false when an element is not a string or fn says so.
 */
extern bool OrionJsonEachString(const OrionJsonMember *member,
								bool (*fn) (const char *value, size_t value_len, void *arg),
								void *arg);

/* A token, taken apart. */
typedef struct OrionJws
{
	size_t		signing_input_len;	/* header.payload: the token's first bytes */
	char		header[ORION_JWS_MAX_HEADER + 1];
	size_t		header_len;
	char		payload[ORION_JWS_MAX_LEN + 1];
	size_t		payload_len;
	uint8_t		signature[ORION_JWS_MAX_SIGNATURE];
	size_t		signature_len;
	OrionJsonMembers header_object;
	char		alg[16];
	char		kid[ORION_JSON_MAX_NAME + 1];
} OrionJws;

typedef enum OrionJwsResult
{
	ORION_JWS_OK,
	ORION_JWS_TOO_LONG,			/* over ORION_JWS_MAX_LEN */
	ORION_JWS_MALFORMED,		/* not three base64url parts, or a part too long */
	ORION_JWS_BAD_HEADER,		/* not a JSON object, or alg or kid missing or not strings */
	ORION_JWS_CRITICAL			/* "crit" names extensions orion does not implement */
} OrionJwsResult;

/*
 * Take a token apart: the three parts decoded, the header read, its alg
 * and kid copied out. Checks no signature and reads no claim; the payload
 * is left for OrionJsonReadObject once the signature holds.
 */
extern OrionJwsResult OrionJwsParse(const char *token, size_t len, OrionJws *jws);

/* What each result means, for messages. */
extern const char *OrionJwsResultText(OrionJwsResult result);

#endif							/* ORION_JWS_H */
