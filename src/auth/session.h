/*-------------------------------------------------------------------------
 *
 * session.h
 *	  Sessions: login, validation, refresh-token rotation, logout and
 *	  revocation.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/session.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_SESSION_H
#define ORION_SESSION_H

#include "fmgr.h"
#include "utils/uuid.h"

/*
 * Revoke every live session of user_id and their refresh tokens, except
 * keep_session (may be NULL), with reason, and the user's unused password
 * reset tokens and sign-in links, which would open new ones. Returns how
 * many sessions ended. SPI must be connected.
 */
extern uint64 OrionRevokeUserSessions(const pg_uuid_t *user_id,
									  const pg_uuid_t *keep_session,
									  const char *reason);

/*
 * Sign user_id in: a new session with its access and refresh tokens, put as
 * the one row of fcinfo's result (a materialized set of login's columns);
 * the failure count and lock cleared, last_login_at set, new_hash stored
 * when not NULL, and audited as auth.login with method ("password",
 * "sign_in_link"). The user's row must be locked; SPI must be connected.
 */
extern void OrionSessionStart(FunctionCallInfo fcinfo, const pg_uuid_t *user_id,
							  const char *method, const char *new_hash,
							  const char *ip, const char *agent);

/*
 * Put a sign-in's row that has no session yet, only the challenge of its
 * second factor (and user_id).
 */
extern void OrionSessionEmitChallenge(FunctionCallInfo fcinfo, const pg_uuid_t *user_id,
									  const char *challenge);

#endif							/* ORION_SESSION_H */
