/*-------------------------------------------------------------------------
 *
 * jwt.h
 *	  JWT access tokens (RFC 7519, signed as RFC 7515 JWS): issuing them
 *	  for a session and verifying them.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/jwt.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_JWT_H
#define ORION_JWT_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* orion.access_token_format */
typedef enum OrionAccessTokenFormat
{
	ORION_ACCESS_TOKEN_OPAQUE,
	ORION_ACCESS_TOKEN_JWT
} OrionAccessTokenFormat;

extern int	orion_access_token_format;

/* What a verified token says that orion acts on. */
typedef struct OrionJwtClaims
{
	pg_uuid_t	user_id;		/* sub */
	pg_uuid_t	session_id;		/* sid */
	TimestampTz expires_at;		/* exp */
	char	   *payload;		/* the claims as JSON text, palloc'd */
} OrionJwtClaims;

/*
 * A signed access token for a session, expiring at expires_at (whole
 * seconds), with the user's email, email_verified and role; palloc'd.
 * SPI must be connected (the signing keys may be read).
 */
extern char *OrionJwtIssue(const pg_uuid_t *user_id, const pg_uuid_t *session_id,
						   const char *email, bool email_verified, const char *user_role,
						   TimestampTz issued_at, TimestampTz expires_at);

/* Whether s has the shape of a JWS (three parts); says nothing of its trust. */
extern bool OrionJwtLooksLike(const char *s, size_t len);

/*
 * Whether the token is one orion signed (or a holder of an HS256 secret),
 * with a signing key that verifies now, in that key's algorithm, for
 * orion.jwt_issuer and orion.jwt_audience, not before nbf and, when
 * check_expiry, before exp. The claims into *claims when so; why not at
 * DEBUG1 otherwise.
 */
extern bool OrionJwtVerify(const char *token, size_t len, bool check_expiry,
						   OrionJwtClaims *claims);

/* Define the orion.access_token_format and orion.jwt_* settings; from _PG_init. */
extern void OrionJwtInit(void);

#endif							/* ORION_JWT_H */
