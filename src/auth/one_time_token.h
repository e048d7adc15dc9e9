/*-------------------------------------------------------------------------
 *
 * one_time_token.h
 *	  One-time tokens of the account flows: issued for a user and the
 *	  address they were sent to, used once.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/one_time_token.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_ONE_TIME_TOKEN_H
#define ORION_ONE_TIME_TOKEN_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/uuid.h"

#include "auth/token.h"

/*
 * A new token of kind for user_id, bound to email, that works for ttl
 * seconds; the user's live tokens of the same kind are revoked. Returns the
 * token (palloc'd) and sets *expires_at. SPI must be connected.
 */
extern char *OrionOneTimeTokenIssue(OrionTokenKind kind, const pg_uuid_t *user_id,
									const char *email, int ttl, TimestampTz *expires_at);

/* Revoke the user's live tokens of kind. SPI must be connected. */
extern void OrionOneTimeTokenRevoke(OrionTokenKind kind, const pg_uuid_t *user_id);

/*
 * Use a token: when s (len bytes) is a live token of kind whose user still
 * has the address it was issued for, mark it used, set *user_id and
 * *email (palloc'd) and return true, with the user's row locked FOR UPDATE
 * until the end of the transaction. False, changing nothing, for anything
 * else. SPI must be connected.
 */
extern bool OrionOneTimeTokenUse(OrionTokenKind kind, const char *s, size_t len,
								 pg_uuid_t *user_id, char **email);

/*
 * Find a token for a use that may not happen (an MFA challenge stays
 * usable while wrong codes are tried): as OrionOneTimeTokenUse, with the
 * user's row and the token's locked, but the token left unused; its id in
 * *token_id for OrionOneTimeTokenMarkUsed.
 */
extern bool OrionOneTimeTokenFind(OrionTokenKind kind, const char *s, size_t len,
								  pg_uuid_t *user_id, char **email, pg_uuid_t *token_id);

/* Mark a token that OrionOneTimeTokenFind found used. */
extern void OrionOneTimeTokenMarkUsed(const pg_uuid_t *token_id);

/*
 * The body of a function that starts a flow from an email address, its
 * one argument (request_password_reset, request_sign_in_link): a new token
 * of kind for the user who has that address, unless a live one of theirs is
 * younger than interval seconds (0: no limit). Audited as action either
 * way, with the reason when no token is issued (unknown_email,
 * rate_limited). Returns the token as text, or NULL; takes at least
 * orion.email_request_min_duration whatever the answer, so that neither the
 * answer nor its time tells whether the address has an account. A NULL or
 * malformed address is refused first, alike for every address.
 */
extern Datum OrionOneTimeTokenRequest(FunctionCallInfo fcinfo, OrionTokenKind kind, int ttl,
									  int interval, const char *action);

#endif							/* ORION_ONE_TIME_TOKEN_H */
