/*-------------------------------------------------------------------------
 *
 * secret_box.h
 *	  Secrets orion must read back (TOTP secrets), sealed at rest with the
 *	  DBA's key, in the file orion.secret_key_file names.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/secret_box.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_SECRET_BOX_H
#define ORION_SECRET_BOX_H

#include "postgres.h"

/* version, key id, nonce, then the ciphertext and the tag */
#define ORION_SEALED_VERSION		1
#define ORION_SEALED_OVERHEAD		(1 + 8 + 12 + 16)
#define ORION_SEALED_LEN(plain_len)	(ORION_SEALED_OVERHEAD + (plain_len))

/*
 * Seal len bytes of plain with the current key (orion.secret_key_file;
 * AES-256-GCM, a random nonce), bound to context: a sealed value opens only
 * with the same context (say, its row's user id), so it cannot be moved to
 * another row. ERROR when there is no usable key.
 */
extern bytea *OrionSecretSeal(const uint8 *plain, size_t len, const char *context);

/*
 * Open a sealed value with the current or the previous key
 * (orion.previous_secret_key_file), whichever sealed it; the plain bytes (palloc'd; wipe them after use) and
 * their number in *len. ERROR when neither key sealed it, and when it does
 * not authenticate (changed, or moved from another context).
 */
extern uint8 *OrionSecretOpen(const bytea *sealed, const char *context, size_t *len);

/* Whether sealed was sealed with the current key. */
extern bool OrionSecretSealedWithCurrentKey(const bytea *sealed);

/* Define orion.secret_key_file and orion.previous_secret_key_file; from _PG_init. */
extern void OrionSecretBoxInit(void);

#endif							/* ORION_SECRET_BOX_H */
