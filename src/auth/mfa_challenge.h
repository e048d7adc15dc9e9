/*-------------------------------------------------------------------------
 *
 * mfa_challenge.h
 *	  Sign-in in two steps: a first factor passed (password, sign-in
 *	  link) hands out a challenge, and verify_totp turns it into a session.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/mfa_challenge.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_MFA_CHALLENGE_H
#define ORION_MFA_CHALLENGE_H

#include "fmgr.h"
#include "utils/uuid.h"

/*
 * user_id (whose row is locked, at address email) passed a first factor,
 * method ("password", "sign_in_link"): a session (OrionSessionStart), or,
 * with TOTP active, a row with only an MFA challenge, which
 * orion.verify_totp completes; new_hash is stored either way. Failures
 * are not cleared until the second factor passes: the password does not
 * buy more tries at the code. SPI must be connected.
 */
extern void OrionSignIn(FunctionCallInfo fcinfo, const pg_uuid_t *user_id, const char *email,
						const char *method, const char *new_hash, const char *ip, const char *agent);

#endif							/* ORION_MFA_CHALLENGE_H */
