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

#include "utils/uuid.h"

/*
 * Revoke every live session of user_id and their refresh tokens, except
 * keep_session (may be NULL), with reason. Returns how many sessions ended.
 * SPI must be connected.
 */
extern uint64 OrionRevokeUserSessions(const pg_uuid_t *user_id,
									  const pg_uuid_t *keep_session,
									  const char *reason);

#endif							/* ORION_SESSION_H */
