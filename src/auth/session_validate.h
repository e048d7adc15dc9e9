/*-------------------------------------------------------------------------
 *
 * session_validate.h
 *	  orion.validate_session: the live session of an access token.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/session_validate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_SESSION_VALIDATE_H
#define ORION_SESSION_VALIDATE_H

/* Register validate_session's index probes. */
extern void OrionSessionValidateInit(void);

#endif							/* ORION_SESSION_VALIDATE_H */
