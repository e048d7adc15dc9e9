/*-------------------------------------------------------------------------
 *
 * recovery_code.h
 *	  Recovery codes: the way past a lost authenticator, each usable once.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/recovery_code.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_RECOVERY_CODE_H
#define ORION_RECOVERY_CODE_H

#include "utils/array.h"
#include "utils/uuid.h"

#define ORION_RECOVERY_CODES		10
#define ORION_RECOVERY_CODE_CHARS	16	/* base32 of 10 random bytes: 80 bits */

/*
 * New recovery codes for user_id, replacing any they had; returned as a
 * text[] of ORION_RECOVERY_CODES codes, shown as xxxx-xxxx-xxxx-xxxx, and
 * stored only as SHA-256. SPI must be connected; the array is in the
 * memory context that was current before SPI_connect (it outlives
 * SPI_finish).
 */
extern ArrayType *OrionRecoveryCodesIssue(const pg_uuid_t *user_id, MemoryContext result_context);

/*
 * Use one of user_id's recovery codes: code is ORION_RECOVERY_CODE_CHARS
 * lower-case base32 characters (no hyphens). True, and the code used up,
 * when it is one of theirs and unused. SPI must be connected.
 */
extern bool OrionRecoveryCodeUse(const pg_uuid_t *user_id, const char *code);

/* How many unused recovery codes user_id has. SPI must be connected. */
extern int	OrionRecoveryCodesLeft(const pg_uuid_t *user_id);

/* Remove user_id's recovery codes. SPI must be connected. */
extern void OrionRecoveryCodesRemove(const pg_uuid_t *user_id);

#endif							/* ORION_RECOVERY_CODE_H */
