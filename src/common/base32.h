/*-------------------------------------------------------------------------
 *
 * base32.h
 *	  Base32 (RFC 4648 section 6), as authenticator apps read secrets.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/base32.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_BASE32_H
#define ORION_BASE32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode len bytes without padding (no terminator). */
#define ORION_BASE32_ENCODED_LEN(len)	(((len) * 8 + 4) / 5)

/*
 * Encode len bytes of src into dst, which must hold
 * ORION_BASE32_ENCODED_LEN(len) + 1 bytes, NUL-terminated, unpadded; upper
 * case unless lower.
 */
extern void OrionBase32Encode(const uint8_t *src, size_t len, char *dst, bool lower);

/*
 * Decode srclen characters of base32 into dst (at most dstmax bytes), as an
 * authenticator app reads a typed secret: either letter case, '=' padding
 * at the end and spaces anywhere ignored. Returns the number of bytes
 * written, or -1 when src holds anything else, leaves set bits after the
 * last whole byte, or does not fit.
 */
extern int	OrionBase32Decode(const char *src, size_t srclen, uint8_t *dst, size_t dstmax);

#endif							/* ORION_BASE32_H */
