/*-------------------------------------------------------------------------
 *
 * base32.c
 *	  Base32 (RFC 4648 section 6), as authenticator apps read secrets.
 *
 * TOTP secrets travel as base32 in otpauth:// URIs and are typed by hand
 * when a QR code cannot be scanned; recovery codes use its lower-case
 * alphabet, which has no 0/O or 1/l to confuse. Pure C, no server calls.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/base32.c
 *
 *-------------------------------------------------------------------------
 */
#include "common/base32.h"

static const char upper_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char lower_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

void
OrionBase32Encode(const uint8_t *src, size_t len, char *dst, bool lower)
{
	const char *alphabet = lower ? lower_alphabet : upper_alphabet;
	uint32_t	buffer = 0;
	int			bits = 0;
	size_t		i;
	char	   *p = dst;

	for (i = 0; i < len; i++)
	{
		buffer = (buffer << 8) | src[i];
		bits += 8;
		while (bits >= 5)
		{
			bits -= 5;
			*p++ = alphabet[(buffer >> bits) & 31];
		}
	}
	if (bits > 0)
		*p++ = alphabet[(buffer << (5 - bits)) & 31];
	*p = '\0';
}

/* The value of one base32 character, or -1. */
static int
Base32Value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int
OrionBase32Decode(const char *src, size_t srclen, uint8_t *dst, size_t dstmax)
{
	uint32_t	buffer = 0;
	int			bits = 0;
	size_t		out = 0;
	size_t		i;
	bool		padding = false;

	for (i = 0; i < srclen; i++)
	{
		int			v;

		if (src[i] == ' ')
			continue;
		if (src[i] == '=')
		{
			padding = true;
			continue;
		}
		v = Base32Value(src[i]);
		if (v < 0 || padding)
			return -1;
		buffer = (buffer << 5) | (uint32_t) v;
		bits += 5;
		if (bits >= 8)
		{
			bits -= 8;
			if (out >= dstmax)
				return -1;
			dst[out++] = (uint8_t) (buffer >> bits);
		}
	}
	/* what is left over must be the zero fill of the last character */
	if ((buffer & ((1u << bits) - 1)) != 0)
		return -1;
	return (int) out;
}
