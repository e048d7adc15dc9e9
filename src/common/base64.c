/*-------------------------------------------------------------------------
 *
 * base64.c
 *	  Unpadded base64, in the standard and the URL-safe alphabet.
 *
 * PHC password hash strings use the standard alphabet without padding;
 * tokens use the URL-safe one, so they can travel in URLs and headers
 * unescaped. PostgreSQL's own encoder pads, hence this small one. Pure C,
 * no server calls, so it can be fuzzed on its own.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/base64.c
 *
 *-------------------------------------------------------------------------
 */
#include "common/base64.h"

static const char standard_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
OrionBase64Encode(const uint8_t *src, size_t len, char *dst, bool url)
{
	const char *alphabet = url ? url_alphabet : standard_alphabet;
	size_t		i;
	char	   *p = dst;

	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8) | src[i + 2];

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
		*p++ = alphabet[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) src[i] << 16;

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8);

		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = alphabet[(v >> 6) & 63];
	}
	*p = '\0';
}

/* The 6-bit value of c in the alphabet, or -1. */
static int
DecodeChar(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int
OrionBase64Decode(const char *src, size_t srclen, uint8_t *dst, size_t dstmax, bool url)
{
	size_t		outlen;
	size_t		i;
	size_t		o = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	/* one leftover character cannot encode a byte */
	if (srclen % 4 == 1)
		return -1;
	outlen = srclen / 4 * 3 + (srclen % 4 == 0 ? 0 : srclen % 4 - 1);
	if (outlen > dstmax)
		return -1;

	for (i = 0; i < srclen; i++)
	{
		int			v = DecodeChar(src[i], url);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			dst[o++] = (uint8_t) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* canonical form: the unused low bits of the last character are zero */
	if (acc != 0)
		return -1;
	return (int) o;
}
