/*-------------------------------------------------------------------------
 *
 * account_settings.h
 *	  Settings of the account flows: email verification, password reset,
 *	  sign-in links, two-factor authentication.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/account_settings.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_ACCOUNT_SETTINGS_H
#define ORION_ACCOUNT_SETTINGS_H

/* lifetimes of the one-time tokens (seconds) */
extern int	orion_email_verification_ttl;
extern int	orion_password_reset_ttl;
extern int	orion_sign_in_link_ttl;
extern int	orion_mfa_challenge_ttl;

/* how often a user may be sent a token of a flow that starts from an address (seconds) */
extern int	orion_reset_request_interval;
extern int	orion_sign_in_link_request_interval;

/* the least time such a request takes, known address or not (milliseconds) */
extern int	orion_email_request_min_duration;

extern bool orion_require_verified_email;
extern bool orion_verification_notify;
/* user ids begin with their email's partition, for sharding (orion_proxy) */
extern bool orion_partitioned_user_ids;

/* TOTP: time steps accepted either side of now; the issuer apps show */
extern int	orion_totp_skew;
extern char *orion_totp_issuer;

/* Define them; from _PG_init, before the orion. prefix is reserved. */
extern void OrionAccountSettingsInit(void);

#endif							/* ORION_ACCOUNT_SETTINGS_H */
