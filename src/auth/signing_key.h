/*-------------------------------------------------------------------------
 *
 * signing_key.h
 *	  The keys that sign and verify JWT access tokens: EdDSA (Ed25519),
 *	  ES256 (P-256) and HS256, in orion_auth.signing_keys, private parts
 *	  sealed (secret_box.h).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/signing_key.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_SIGNING_KEY_H
#define ORION_SIGNING_KEY_H

#include "datatype/timestamp.h"
#include "common/table_cache.h"

typedef enum OrionJwtAlgorithm
{
	ORION_JWT_EDDSA,
	ORION_JWT_ES256,
	ORION_JWT_HS256
} OrionJwtAlgorithm;

/* a signature's bytes at most (Ed25519, and ES256's r || s) */
#define ORION_SIGNATURE_MAX 64

typedef struct OrionSigningKey OrionSigningKey;

/* The JWS "alg" name of an algorithm. */
extern const char *OrionJwtAlgorithmName(OrionJwtAlgorithm alg);

/*
 * The keys, read from the table as its owner (the callers that sign run as
 * the auth service, which may not read it), pinned as table_cache.h says.
 */
extern OrionCacheFilling *OrionSigningKeysPin(void);
extern void OrionSigningKeysUnpin(OrionCacheFilling *keys);

/* The key new tokens are signed with; ERROR when there is none. */
extern OrionSigningKey *OrionSigningKeyCurrent(OrionCacheFilling *keys);

/*
 * The key of that kid, still verifying at time now (current, or retired
 * and before its verify_until), or NULL.
 */
extern OrionSigningKey *OrionSigningKeyFind(OrionCacheFilling *keys, const char *kid,
											TimestampTz now);

extern const char *OrionSigningKeyId(const OrionSigningKey *key);
extern OrionJwtAlgorithm OrionSigningKeyAlgorithm(const OrionSigningKey *key);

/* Sign len bytes of message: the signature's length, into sig[ORION_SIGNATURE_MAX]. */
extern size_t OrionSigningKeySign(OrionSigningKey *key, const uint8 *message, size_t len,
								  uint8 *sig);

/* Whether sig is the key's signature of message, in the key's algorithm. */
extern bool OrionSigningKeyVerify(OrionSigningKey *key, const uint8 *message, size_t len,
								  const uint8 *sig, size_t sig_len);

/* Register the key cache; from _PG_init. */
extern void OrionSigningKeyInit(void);

#endif							/* ORION_SIGNING_KEY_H */
