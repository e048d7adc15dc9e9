/*-------------------------------------------------------------------------
 *
 * account_settings.c
 *	  Settings of the account flows: email verification, password reset,
 *	  sign-in links, two-factor authentication.
 *
 * Defined beside the flows that read them, as pgvector's hnsw.c defines
 * the hnsw.* settings, rather than in common/guc.c. Lifetimes and
 * intervals are superuser-only, as the other security settings: a role
 * that could lengthen them for its own session would weaken them for the
 * tokens it issues.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/account_settings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "auth/account_settings.h"

int			orion_email_verification_ttl = 24 * 60 * 60;
int			orion_password_reset_ttl = 60 * 60;
int			orion_sign_in_link_ttl = 15 * 60;
int			orion_mfa_challenge_ttl = 5 * 60;
int			orion_reset_request_interval = 60;
int			orion_sign_in_link_request_interval = 60;
int			orion_email_request_min_duration = 25;
bool		orion_require_verified_email = false;
bool		orion_verification_notify = false;
bool		orion_partitioned_user_ids = false;
int			orion_totp_skew = 1;
char	   *orion_totp_issuer = NULL;

/* A token lifetime: one minute at least, so a mail can arrive. */
static void
DefineLifetime(const char *name, const char *description, int *variable, int boot_value)
{
	DefineCustomIntVariable(name, description, NULL, variable, boot_value, 60, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
}

void
OrionAccountSettingsInit(void)
{
	DefineLifetime("orion.email_verification_ttl",
				   "Lifetime of an email verification token.",
				   &orion_email_verification_ttl, 24 * 60 * 60);
	DefineLifetime("orion.password_reset_ttl",
				   "Lifetime of a password reset token.",
				   &orion_password_reset_ttl, 60 * 60);
	DefineLifetime("orion.sign_in_link_ttl",
				   "Lifetime of a sign-in link token.",
				   &orion_sign_in_link_ttl, 15 * 60);
	DefineLifetime("orion.mfa_challenge_ttl",
				   "How long a sign-in waits for its second factor (verify_totp).",
				   &orion_mfa_challenge_ttl, 5 * 60);

	DefineCustomIntVariable("orion.reset_request_interval",
							"Least time between two password reset tokens for one user; 0 for no limit.",
							"A request within it, while the last token is unused, issues nothing "
							"and answers as for an unknown address.",
							&orion_reset_request_interval,
							60, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("orion.sign_in_link_request_interval",
							"Least time between two sign-in links for one user; 0 for no limit.",
							"A request within it, while the last link is unused, issues nothing "
							"and answers as for an unknown address.",
							&orion_sign_in_link_request_interval,
							60, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("orion.email_request_min_duration",
							"Least time request_password_reset and request_sign_in_link take.",
							"Known address or not, so that the time tells no one which addresses "
							"have accounts. It must exceed what the longer answer takes.",
							&orion_email_request_min_duration,
							25, 0, 10 * 1000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomBoolVariable("orion.require_verified_email",
							 "Whether login refuses accounts whose email address is not verified.",
							 "A refused login returns no row and is audited as auth.login_failed "
							 "with reason email_not_verified; it does not count towards the lockout.",
							 &orion_require_verified_email,
							 false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("orion.verification_notify",
							 "Whether request_email_verification also queues an email notification with the token.",
							 "The token is then stored in that notification's metadata until it is removed.",
							 &orion_verification_notify,
							 false,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("orion.partitioned_user_ids",
							 "Whether register_user begins user ids with their email address's partition.",
							 "The first 16 bits of a new user id are then those of the SHA-256 of the "
							 "lower-case address: the partition a sharding proxy (orion_proxy) routes "
							 "the address and the id to.",
							 &orion_partitioned_user_ids,
							 false,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("orion.totp_skew",
							"TOTP time steps (30 s) accepted before and after the current one.",
							"For clocks that drift and codes typed late; each step adds two codes "
							"a guess may hit.",
							&orion_totp_skew,
							1, 0, 10,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("orion.totp_issuer",
							   "The issuer that enroll_totp's otpauth:// URI names: what authenticator apps show.",
							   NULL,
							   &orion_totp_issuer,
							   "orion",
							   PGC_SUSET, 0, NULL, NULL, NULL);
}
