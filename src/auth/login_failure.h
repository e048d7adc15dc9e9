/*-------------------------------------------------------------------------
 *
 * login_failure.h
 *	  Failed sign-ins: the count towards the lockout, the lock, their audit.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/login_failure.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_LOGIN_FAILURE_H
#define ORION_LOGIN_FAILURE_H

#include "utils/uuid.h"

/* Where an account stands towards the lockout. */
typedef struct OrionLockState
{
	int			failures;		/* failed sign-ins in a row */
	bool		locked;			/* locked until a time still to come */
	bool		lock_expired;	/* was locked, and the lock is over */
} OrionLockState;

/* The lock state of user_id, whose row the caller has locked. SPI connected. */
extern OrionLockState OrionLoginLockState(const pg_uuid_t *user_id);

/*
 * Record a failed sign-in of an existing account in state: the failure
 * count, and a lock once it reaches orion.max_failed_logins; audited as
 * auth.login_failed with reason (or "account_locked" when it was locked),
 * and auth.account_locked when it locks now. SPI must be connected.
 */
extern void OrionLoginFailureRecord(const pg_uuid_t *user_id, OrionLockState state,
									const char *reason, const char *ip, const char *agent);

#endif							/* ORION_LOGIN_FAILURE_H */
