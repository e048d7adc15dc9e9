/*-------------------------------------------------------------------------
 *
 * account.h
 *	  Accounts: registration and password changes.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/account.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_ACCOUNT_H
#define ORION_ACCOUNT_H

#include "utils/uuid.h"

/*
 * A password reset, by an administrator (set_password) or by a reset token
 * (reset_password): store the new password (len bytes, checked by the
 * caller), lift a lockout, revoke every session and refresh token of the
 * user (and their unused reset tokens and sign-in links: see
 * OrionRevokeUserSessions), and audit auth.password_reset with by. The
 * user's row must be locked; SPI must be connected.
 */
extern void OrionAccountResetPassword(const pg_uuid_t *user_id, const char *password,
									  size_t len, const char *by);

#endif							/* ORION_ACCOUNT_H */
