/*-------------------------------------------------------------------------
 *
 * totp.h
 *	  TOTP two-factor authentication: enrollment, confirmation, the check
 *	  of a code at sign-in, and disabling it.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/totp.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_TOTP_H
#define ORION_TOTP_H

#include "postgres.h"

#include "auth/recovery_code.h"
#include "utils/uuid.h"

/* What a typed second-factor code is. */
typedef enum OrionFactorCodeKind
{
	ORION_CODE_TOTP,			/* six digits from an authenticator app */
	ORION_CODE_RECOVERY			/* one of the recovery codes */
} OrionFactorCodeKind;

/* longest code the check reads, spaces and hyphens included */
#define ORION_FACTOR_CODE_MAX_BYTES 64

/*
 * Read a typed code (len bytes) as an authenticator app's or a recovery
 * code, ignoring spaces, hyphens and letter case; its normal form into out
 * (ORION_RECOVERY_CODE_CHARS + 1 bytes). ERROR for anything else, and for a
 * recovery code when !recovery_allowed.
 */
extern OrionFactorCodeKind OrionFactorCodeRead(const char *s, size_t len, bool recovery_allowed,
											   char *out);

/* Whether user_id has TOTP active (confirmed). SPI must be connected. */
extern bool OrionTotpActive(const pg_uuid_t *user_id);

/*
 * Check a code read by OrionFactorCodeRead against user_id's active TOTP,
 * whose user row the caller has locked: a TOTP code of a time step within
 * orion.totp_skew of now and later than the last one accepted (so a code
 * works once), or an unused recovery code. True, and the code used up, or
 * false. SPI must be connected.
 */
extern bool OrionTotpAccept(const pg_uuid_t *user_id, OrionFactorCodeKind kind, const char *code);

#endif							/* ORION_TOTP_H */
