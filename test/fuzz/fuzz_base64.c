/*-------------------------------------------------------------------------
 *
 * fuzz_base64.c
 *	  libFuzzer harness for src/common/base64.c (unpadded base64, standard and
 *	  URL-safe alphabets).
 *
 * Tokens and PHC salts and hashes go through these functions, and orion
 * relies on one value having one spelling (a token is looked up by the
 * digest of its text). The harness checks, for both alphabets:
 *
 * - decode(encode(x)) == x, and encode writes exactly
 *	 ORION_BASE64_ENCODED_LEN(len) characters of its alphabet;
 * - decode accepts only what encode produces: when it accepts s,
 *	 encode(decode(s)) == s, and its length is the one promised;
 * - decode respects dstmax: it refuses rather than writes past it (the
 *	 output buffer is exactly dstmax bytes, so ASan sees any overrun);
 * - a string with one character of the other alphabet (+/ against -_) is
 *	 refused.
 *
 * Input: the first byte chooses the alphabet and a dstmax slack; the rest
 * is used both as bytes to encode and as text to decode.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_base64.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/base64.h"
#include "fuzz_check.h"

static bool
InAlphabet(char c, bool url)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == (url ? '-' : '+') || c == (url ? '_' : '/');
}

static void
RoundTrip(const uint8_t *bytes, size_t len, bool url)
{
	size_t		enclen = ORION_BASE64_ENCODED_LEN(len);
	char	   *text = malloc(enclen + 1);
	uint8_t    *back = malloc(len ? len : 1);
	size_t		i;
	int			n;

	OrionBase64Encode(bytes, len, text, url);
	FUZZ_CHECK(strlen(text) == enclen, "encode of %zu bytes wrote %zu characters, not %zu",
			   len, strlen(text), enclen);
	for (i = 0; i < enclen; i++)
		FUZZ_CHECK(InAlphabet(text[i], url), "encode wrote '%c' (0x%02x)", text[i],
				   (unsigned char) text[i]);
	n = OrionBase64Decode(text, enclen, back, len, url);
	FUZZ_CHECK(n == (int) len && memcmp(back, bytes, len) == 0,
			   "decode(encode(%zu bytes)) gave %d bytes%s", len, n,
			   n == (int) len ? " that differ" : "");
	/* one byte less room must be refused, not overrun */
	if (len > 0)
		FUZZ_CHECK(OrionBase64Decode(text, enclen, back, len - 1, url) == -1,
				   "decode into %zu bytes of %zu did not refuse", len - 1, len);
	free(text);
	free(back);
}

static void
DecodeText(const char *src, size_t srclen, size_t slack, bool url)
{
	size_t		dstmax = srclen * 3 / 4 + 1 > slack ? srclen * 3 / 4 + 1 - slack : 0;
	uint8_t    *dst = malloc(dstmax ? dstmax : 1);
	int			n = OrionBase64Decode(src, srclen, dst, dstmax, url);

	if (n >= 0)
	{
		char	   *again = malloc(ORION_BASE64_ENCODED_LEN((size_t) n) + 1);

		FUZZ_CHECK((size_t) n <= dstmax, "decode wrote %d bytes into %zu", n, dstmax);
		FUZZ_CHECK(ORION_BASE64_ENCODED_LEN((size_t) n) == srclen,
				   "%zu characters decoded to %d bytes", srclen, n);
		OrionBase64Encode(dst, (size_t) n, again, url);
		FUZZ_CHECK(strlen(again) == srclen && memcmp(again, src, srclen) == 0,
				   "decode accepted \"%.*s\", which encode spells \"%s\"", (int) srclen, src, again);
		free(again);
	}
	free(dst);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool		url;
	size_t		slack;
	const uint8_t *rest;
	size_t		len;
	char	   *text;
	size_t		i;

	if (size < 1)
		return -1;
	url = data[0] & 1;
	slack = (data[0] >> 1) & 3;
	rest = data + 1;
	len = size - 1;

	RoundTrip(rest, len, url);
	RoundTrip(rest, len, !url);

	/* the same bytes as text: an exact-size copy, no terminator to lean on */
	text = malloc(len ? len : 1);
	memcpy(text, rest, len);
	DecodeText(text, len, slack, url);
	DecodeText(text, len, slack, !url);

	/* the other alphabet's characters are refused */
	for (i = 0; i < len; i++)
	{
		uint8_t		dummy[4096];
		char		c = text[i];

		if (c == '+' || c == '/' || c == '-' || c == '_')
		{
			bool		this_url = (c == '-' || c == '_');

			if (len <= 4096)
				FUZZ_CHECK(OrionBase64Decode(text, len, dummy, sizeof(dummy), !this_url) == -1,
						   "'%c' accepted by the %s alphabet", c, this_url ? "standard" : "URL-safe");
			break;
		}
	}
	free(text);
	return 0;
}
