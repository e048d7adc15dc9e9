/*-------------------------------------------------------------------------
 *
 * fuzz_base32.c
 *	  libFuzzer harness for src/common/base32.c (RFC 4648 base32, as
 *	  authenticator apps read TOTP secrets; recovery codes in its lower-case
 *	  alphabet).
 *
 * A secret orion.totp_code reads must mean what an app reads, and a
 * recovery code must have one spelling. The harness checks:
 *
 * - decode(encode(x)) == x for both letter cases, and encode writes
 *	 exactly ORION_BASE32_ENCODED_LEN(len) characters of its alphabet;
 * - decode agrees with a second, bit-by-bit decoder written here from RFC
 *	 4648 (letters in either case, spaces anywhere and '=' at the end
 *	 ignored, the bits after the last whole byte zero), on whether it
 *	 accepts the text and on the bytes it gives;
 * - decode respects dstmax: the output buffer is exactly dstmax bytes, so
 *	 ASan sees any overrun, and one byte less than needed is refused.
 *
 * Input: the first byte chooses the letter case and a dstmax slack; the
 * rest is used both as bytes to encode and as text to decode.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_base32.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base32.h"
#include "fuzz_check.h"

/* The reference: RFC 4648's rules, one bit at a time. -1 when refused. */
static int
ReferenceDecode(const char *src, size_t srclen, uint8_t *dst, size_t dstmax)
{
	size_t		bits = 0;
	size_t		i;
	bool		padding = false;
	size_t		out;

	memset(dst, 0, dstmax);
	for (i = 0; i < srclen; i++)
	{
		char		c = src[i];
		int			v;
		int			b;

		if (c == ' ')
			continue;
		if (c == '=')
		{
			padding = true;
			continue;
		}
		if (padding)
			return -1;
		if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		for (b = 4; b >= 0; b--, bits++)
		{
			if ((v >> b) & 1)
			{
				if (bits / 8 >= dstmax)
					return -1;	/* a set bit that would not fit, or a stray one */
				dst[bits / 8] |= (uint8_t) (0x80 >> (bits % 8));
			}
		}
	}
	out = bits / 8;
	/* the bits of a partial last byte must be zero, and the whole bytes fit */
	if (out > dstmax)
		return -1;
	if (out < dstmax && bits % 8 != 0 && dst[out] != 0)
		return -1;
	return (int) out;
}

static bool
InAlphabet(char c, bool lower)
{
	return (c >= (lower ? 'a' : 'A') && c <= (lower ? 'z' : 'Z')) || (c >= '2' && c <= '7');
}

static void
RoundTrip(const uint8_t *bytes, size_t len, bool lower)
{
	size_t		enclen = ORION_BASE32_ENCODED_LEN(len);
	char	   *text = malloc(enclen + 1);
	uint8_t    *back = malloc(len ? len : 1);
	size_t		i;
	int			n;

	OrionBase32Encode(bytes, len, text, lower);
	FUZZ_CHECK(strlen(text) == enclen, "encode of %zu bytes wrote %zu characters, not %zu",
			   len, strlen(text), enclen);
	for (i = 0; i < enclen; i++)
		FUZZ_CHECK(InAlphabet(text[i], lower), "encode wrote '%c' (0x%02x)", text[i],
				   (unsigned char) text[i]);
	n = OrionBase32Decode(text, enclen, back, len);
	FUZZ_CHECK(n == (int) len && memcmp(back, bytes, len) == 0,
			   "decode(encode(%zu bytes)) gave %d bytes%s", len, n,
			   n == (int) len ? " that differ" : "");
	if (len > 0)
		FUZZ_CHECK(OrionBase32Decode(text, enclen, back, len - 1) == -1,
				   "decode into %zu bytes of %zu did not refuse", len - 1, len);
	free(text);
	free(back);
}

static void
DecodeText(const char *src, size_t srclen, size_t slack)
{
	size_t		room = srclen * 5 / 8 + 1;
	size_t		dstmax = room > slack ? room - slack : 0;
	uint8_t    *dst = malloc(dstmax ? dstmax : 1);
	uint8_t    *ref = malloc(dstmax ? dstmax : 1);
	int			n = OrionBase32Decode(src, srclen, dst, dstmax);
	int			r = ReferenceDecode(src, srclen, ref, dstmax);

	/* the reference cannot tell a stray bit from one that does not fit when dstmax is short */
	if (slack == 0)
		FUZZ_CHECK(n == r, "decode of \"%.*s\" gave %d, the reference %d", (int) srclen, src, n, r);
	if (n >= 0 && r >= 0)
		FUZZ_CHECK(n == r && memcmp(dst, ref, (size_t) n) == 0,
				   "decode of \"%.*s\" gave other bytes than the reference", (int) srclen, src);
	if (n >= 0)
		FUZZ_CHECK((size_t) n <= dstmax, "decode wrote %d bytes into %zu", n, dstmax);
	free(dst);
	free(ref);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool		lower;
	size_t		slack;
	const uint8_t *rest;
	size_t		len;
	char	   *text;

	if (size < 1)
		return -1;
	lower = data[0] & 1;
	slack = (data[0] >> 1) & 3;
	rest = data + 1;
	len = size - 1;

	RoundTrip(rest, len, lower);

	/* the same bytes as text: an exact-size copy, no terminator to lean on */
	text = malloc(len ? len : 1);
	memcpy(text, rest, len);
	DecodeText(text, len, slack);
	DecodeText(text, len, 0);
	free(text);
	return 0;
}
