/*-------------------------------------------------------------------------
 *
 * otp.h
 *	  One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), HMAC-SHA-1,
 *	  as authenticator apps make them.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/otp.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_OTP_H
#define ORION_OTP_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define ORION_TOTP_PERIOD		30	/* seconds a code is good for */
#define ORION_TOTP_DIGITS		6
#define ORION_TOTP_SECRET_BYTES 20	/* RFC 4226's recommended 160 bits */
#define ORION_OTP_MAX_DIGITS	8

/* The HOTP value of counter under key, digits (6 to 8) long. */
extern uint32 OrionHotp(const uint8 *key, size_t keylen, uint64 counter, int digits);

/* The TOTP time step that t falls in: whole periods since the Unix epoch. */
extern int64 OrionTotpStep(TimestampTz t);

/* Write value as exactly digits decimal digits, zero-padded, NUL-terminated. */
extern void OrionOtpFormat(uint32 value, int digits, char *out);

#endif							/* ORION_OTP_H */
