/*-------------------------------------------------------------------------
 *
 * fuzz_number.c
 *	  libFuzzer harness for FlagJsNumber in src/flags/flag_value.c: JavaScript's
 *	  Number(s), which the NUM_* constraint operators, rollout percentages,
 *	  variant weights and segment ids are read with.
 *
 * The harness checks, for any text:
 *
 * - acceptance equals a recognizer written here from ECMAScript's
 *	 StringNumericLiteral grammar (white space, an optional sign, decimal
 *	 digits with a fraction and exponent, "Infinity", or unsigned 0x / 0o /
 *	 0b integers; empty is 0), for ASCII text, where orion's white space and
 *	 JavaScript's agree;
 * - the value equals JavaScript's: the decimal literal correctly rounded
 *	 (strtod), +-Infinity, and a 0x / 0o / 0b integer rounded once to the
 *	 nearest double (computed here exactly, through a hexadecimal strtod);
 * - white space around an accepted literal changes nothing;
 * - every finite double printed with 17 significant digits reads back as
 *	 the same double, and the two infinities as themselves.
 *
 * Input: the text; its first 8 bytes are also a double to print and read.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_number.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

#include <math.h>

#include "flags/flag_value.h"

static bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
SameDouble(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof(double)) == 0;
}

/*
 * ECMAScript's StringNumericLiteral over ASCII: whether s is one, and its
 * value. Written from the grammar, independently of flag_value.c.
 */
static bool
ReferenceNumber(const char *s, double *out)
{
	size_t		len = strlen(s);
	size_t		a = 0;
	size_t		b = len;
	char	   *t;
	size_t		n;
	size_t		i;

	while (a < b && IsSpace(s[a]))
		a++;
	while (b > a && IsSpace(s[b - 1]))
		b--;
	if (a == b)
	{
		*out = 0;
		return true;
	}
	t = pnstrdup(s + a, b - a);
	n = b - a;

	/* NonDecimalIntegerLiteral */
	if (n >= 2 && t[0] == '0' && strchr("xXoObB", t[1]) != NULL)
	{
		int			bits_per_digit = (t[1] == 'x' || t[1] == 'X') ? 4 : (t[1] == 'o' || t[1] == 'O') ? 3 : 1;
		int			base = 1 << bits_per_digit;
		char	   *bits = palloc(n * 4 + 8);
		size_t		nbits = 0;
		char	   *hex;
		size_t		h;
		size_t		first;

		if (n == 2)
			return false;
		for (i = 2; i < n; i++)
		{
			int			d;
			int			k;

			if (t[i] >= '0' && t[i] <= '9')
				d = t[i] - '0';
			else if (t[i] >= 'a' && t[i] <= 'f')
				d = t[i] - 'a' + 10;
			else if (t[i] >= 'A' && t[i] <= 'F')
				d = t[i] - 'A' + 10;
			else
				return false;
			if (d >= base)
				return false;
			for (k = bits_per_digit - 1; k >= 0; k--)
				bits[nbits++] = (d >> k) & 1;
		}
		/* the exact value in hexadecimal, rounded once by strtod */
		for (first = 0; first < nbits && bits[first] == 0; first++)
			;
		hex = palloc((nbits - first) / 4 + 8);
		strcpy(hex, "0x0");
		h = 3;
		{
			size_t		lead = (nbits - first) % 4;
			size_t		pos = first;
			int			nibble = 0;

			for (i = 0; i < lead; i++)
				nibble = (nibble << 1) | bits[pos++];
			if (lead)
				hex[h++] = "0123456789abcdef"[nibble];
			while (pos < nbits)
			{
				nibble = bits[pos] << 3 | bits[pos + 1] << 2 | bits[pos + 2] << 1 | bits[pos + 3];
				hex[h++] = "0123456789abcdef"[nibble];
				pos += 4;
			}
		}
		hex[h] = '\0';
		*out = strtod(hex, NULL);
		return true;
	}

	/* StrDecimalLiteral */
	i = 0;
	if (t[0] == '+' || t[0] == '-')
		i++;
	if (strcmp(t + i, "Infinity") == 0)
	{
		*out = t[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	{
		size_t		int_digits = 0;
		size_t		frac_digits = 0;

		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++, int_digits++;
		if (i < n && t[i] == '.')
		{
			i++;
			while (i < n && t[i] >= '0' && t[i] <= '9')
				i++, frac_digits++;
		}
		if (int_digits + frac_digits == 0)
			return false;
		if (i < n && (t[i] == 'e' || t[i] == 'E'))
		{
			size_t		exp_digits = 0;

			i++;
			if (i < n && (t[i] == '+' || t[i] == '-'))
				i++;
			while (i < n && t[i] >= '0' && t[i] <= '9')
				i++, exp_digits++;
			if (exp_digits == 0)
				return false;
		}
		if (i != n)
			return false;
	}
	*out = strtod(t, NULL);
	return true;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = pnstrdup((const char *) data, size);
	bool		ascii = true;
	double		got = 0;
	double		want = 0;
	bool		ok;
	size_t		i;

	for (i = 0; s[i]; i++)
		if ((unsigned char) s[i] >= 0x80)
			ascii = false;

	ok = FlagJsNumber(s, &got);
	if (ascii)
	{
		bool		want_ok = ReferenceNumber(s, &want);

		FUZZ_CHECK(ok == want_ok, "Number(\"%s\"): orion %s, ECMAScript %s", s,
				   ok ? "accepts" : "refuses", want_ok ? "accepts" : "refuses");
		if (ok)
			FUZZ_CHECK(SameDouble(got, want), "Number(\"%s\"): orion %.17g, ECMAScript %.17g",
					   s, got, want);
	}
	if (ok)
	{
		double		padded;

		FUZZ_CHECK(FlagJsNumber(psprintf(" \t\n%s\r\f\v ", s), &padded) && SameDouble(padded, got),
				   "Number(\"%s\") changes with white space around it", s);
	}

	if (size >= 8)
	{
		double		d;
		double		back;
		char	   *text;

		memcpy(&d, data, sizeof(d));
		if (isnan(d))
			d = 0;
		text = isinf(d) ? pstrdup(d > 0 ? "Infinity" : "-Infinity") : psprintf("%.17g", d);
		FUZZ_CHECK(FlagJsNumber(text, &back) && SameDouble(back, d),
				   "\"%s\" reads back as %.17g", text, back);
	}
	FuzzShimReset();
	return 0;
}
