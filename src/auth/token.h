/*-------------------------------------------------------------------------
 *
 * token.h
 *	  Tokens: generation and the digest that is stored, for sessions,
 *	  refresh and the one-time tokens of the account flows.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/token.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_TOKEN_H
#define ORION_TOKEN_H

#include "common/base64.h"

#define ORION_TOKEN_RANDOM_BYTES	32
#define ORION_TOKEN_PREFIX_LEN		8	/* "orion_s_", "orion_r_", ... */
#define ORION_TOKEN_LEN \
	(ORION_TOKEN_PREFIX_LEN + ORION_BASE64_ENCODED_LEN(ORION_TOKEN_RANDOM_BYTES))
#define ORION_TOKEN_DIGEST_HEX_LEN	64	/* SHA-256 in lower-case hex */

typedef enum OrionTokenKind
{
	ORION_TOKEN_SESSION,		/* orion_s_: an access token */
	ORION_TOKEN_REFRESH,		/* orion_r_: a refresh token */
	ORION_TOKEN_EMAIL_VERIFICATION,	/* orion_v_: verifies an email address once */
	ORION_TOKEN_PASSWORD_RESET, /* orion_p_: sets a new password once */
	ORION_TOKEN_SIGN_IN_LINK,	/* orion_m_: signs in once, without a password */
	ORION_TOKEN_MFA_CHALLENGE	/* orion_c_: a first factor passed, awaiting the second */
} OrionTokenKind;

#define ORION_TOKEN_KINDS	(ORION_TOKEN_MFA_CHALLENGE + 1)

/* The kind's readable prefix, ORION_TOKEN_PREFIX_LEN bytes. */
extern const char *OrionTokenPrefix(OrionTokenKind kind);

/* A new token of that kind, palloc'd, NUL-terminated. */
extern char *OrionTokenGenerate(OrionTokenKind kind);

/* Whether s (len bytes) has the exact shape of a token of that kind. */
extern bool OrionTokenIsWellFormed(const char *s, size_t len, OrionTokenKind kind);

/* SHA-256 of s in lower-case hex into hex[ORION_TOKEN_DIGEST_HEX_LEN + 1]. */
extern void OrionTokenDigest(const char *s, size_t len, char *hex);

#endif							/* ORION_TOKEN_H */
