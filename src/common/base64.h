/*-------------------------------------------------------------------------
 *
 * base64.h
 *	  Unpadded base64, in the standard and the URL-safe alphabet.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/base64.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_BASE64_H
#define ORION_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode len bytes without padding (no terminator). */
#define ORION_BASE64_ENCODED_LEN(len)	(((len) * 4 + 2) / 3)

/*
 * Encode len bytes of src into dst, which must hold
 * ORION_BASE64_ENCODED_LEN(len) + 1 bytes; dst is NUL-terminated. url selects
 * the URL-safe alphabet (RFC 4648 section 5) instead of the standard one.
 */
extern void OrionBase64Encode(const uint8_t *src, size_t len, char *dst, bool url);

/*
 * Decode srclen characters of unpadded base64 into dst (at most dstmax
 * bytes). Returns the number of bytes written, or -1 when src is not
 * canonical unpadded base64 of that alphabet or does not fit.
 */
extern int	OrionBase64Decode(const char *src, size_t srclen, uint8_t *dst, size_t dstmax, bool url);

#endif							/* ORION_BASE64_H */
