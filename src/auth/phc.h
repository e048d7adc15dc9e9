/*-------------------------------------------------------------------------
 *
 * phc.h
 *	  Parsing and formatting of password hash strings: Argon2id in the PHC
 *	  string format, and bcrypt ($2a$, $2b$, $2y$).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/phc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_PHC_H
#define ORION_PHC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/argon2_limits.h"

/*
 * Bounds on the parameters orion computes with (the costs' upper bounds are
 * in common/argon2_limits.h). A stored hash outside them is refused rather
 * than verified: a hash string with an absurd memory or time cost would
 * otherwise let whoever wrote it stall or exhaust the server.
 */
#define ORION_ARGON2_VERSION		19		/* 0x13, the only current one */
#define ORION_ARGON2_SALT_LEN		16		/* bytes, for new hashes */
#define ORION_ARGON2_HASH_LEN		32		/* bytes, for new hashes */
#define ORION_ARGON2_MIN_SALT_LEN	8
#define ORION_ARGON2_MAX_SALT_LEN	64
#define ORION_ARGON2_MIN_HASH_LEN	16
#define ORION_ARGON2_MAX_HASH_LEN	64

#define ORION_BCRYPT_MIN_COST		4
#define ORION_BCRYPT_MAX_COST		16		/* 2^16 rounds: seconds per verify */
#define ORION_BCRYPT_HASH_LEN		60		/* "$2b$12$" + 22 salt + 31 hash */

/* Longest Argon2id PHC string orion formats or accepts, with terminator. */
#define ORION_PHC_MAX_LEN			256

typedef enum OrionHashAlgorithm
{
	ORION_HASH_UNKNOWN = 0,
	ORION_HASH_ARGON2ID,
	ORION_HASH_BCRYPT
} OrionHashAlgorithm;

typedef enum OrionHashParseResult
{
	ORION_PARSE_OK = 0,
	ORION_PARSE_UNKNOWN_ALGORITHM,	/* not a format orion knows */
	ORION_PARSE_MALFORMED,		/* the right prefix, but not well formed */
	ORION_PARSE_OUT_OF_RANGE	/* well formed, a cost outside the bounds */
} OrionHashParseResult;

typedef struct OrionArgon2Hash
{
	uint32_t	version;
	uint32_t	memory_kib;
	uint32_t	iterations;
	uint32_t	parallelism;
	uint8_t		salt[ORION_ARGON2_MAX_SALT_LEN];
	size_t		salt_len;
	uint8_t		hash[ORION_ARGON2_MAX_HASH_LEN];
	size_t		hash_len;
} OrionArgon2Hash;

typedef struct OrionBcryptHash
{
	char		variant;		/* 'a', 'b' or 'y' */
	int			cost;
} OrionBcryptHash;

/* Which algorithm a stored hash string names, by its prefix. */
extern OrionHashAlgorithm OrionHashAlgorithmOf(const char *s, size_t len);

extern OrionHashParseResult OrionParseArgon2id(const char *s, size_t len, OrionArgon2Hash *out);
extern OrionHashParseResult OrionParseBcrypt(const char *s, size_t len, OrionBcryptHash *out);

/*
 * Write h as a PHC string into dst (at least ORION_PHC_MAX_LEN bytes).
 * Returns its length.
 */
extern size_t OrionFormatArgon2id(const OrionArgon2Hash *h, char *dst);

#endif							/* ORION_PHC_H */
