/*-------------------------------------------------------------------------
 *
 * fuzz_jws.c
 *	  libFuzzer harness for src/auth/jws.c (compact JWS, RFC 7515, and the
 *	  strict JSON object reader of its header and payload).
 *
 * A token's header is read before its signature can be checked, so this
 * reader sees attacker-chosen bytes, and what it accepts must be what
 * RFC 8259 (with jws.h's extra strictness) accepts: a member another
 * reader would see differently is a way around a check. The harness
 * checks:
 *
 * - OrionJsonReadObject agrees on accepting or refusing the text with a
 *	 second, recursive-descent reader written here from RFC 8259 and
 *	 RFC 3629 (UTF-8 by its table of byte ranges), with jws.h's rules: the
 *	 text is one object with white space around it; no overlong UTF-8, no
 *	 surrogates D800-DFFF, nothing above U+10FFFF; no \u0000; no unpaired
 *	 surrogate escape; no two top-level members whose names are equal once
 *	 decoded; no container nested deeper than ORION_JSON_MAX_DEPTH (the
 *	 top object is level 1); at most ORION_JSON_MAX_MEMBERS top-level
 *	 members, each name at most ORION_JSON_MAX_NAME bytes decoded;
 * - when it accepts, its members are the reference's, in order: decoded
 *	 names, types, and value spans (inside the text; strings between
 *	 their quotes); OrionJsonFind finds each by its name;
 *	 OrionJsonDecodeString gives the reference's decoding of each string
 *	 value into a buffer of exactly its size (plus the NUL), and refuses
 *	 one byte less; OrionJsonEachString gives the spans of an array's
 *	 leading string elements and is true only when all are strings;
 *	 OrionJsonNumericDate agrees with a reading of the number written here;
 * - a token built from the input (a header object with "alg" and "kid",
 *	 written with escapes, surrogate pairs and white space; a payload; a
 *	 signature of at most 64 bytes), base64url-encoded with
 *	 OrionBase64Encode, is taken apart by OrionJwsParse into exactly those
 *	 parts, alg and kid (ORION_JWS_CRITICAL when the header has "crit"),
 *	 with signing_input_len the length of header.payload. The header may
 *	 also have an "exp" at the limits of a NumericDate, and members that
 *	 put it at a limit or past it (members around ORION_JSON_MAX_MEMBERS,
 *	 a name around ORION_JSON_MAX_NAME bytes, containers nested around
 *	 ORION_JSON_MAX_DEPTH, a second "alg" spelled with escapes): the
 *	 harness knows whether such a header is acceptable, both readers must
 *	 say so, and OrionJwsParse gives ORION_JWS_BAD_HEADER when it is not
 *	 (ORION_JWS_MALFORMED when it is over 1024 bytes); or a string of UTF-8
 *	 and escape edge cases, which the reference judges;
 * - OrionJwsParse on the raw input (an exact-size copy, so ASan sees any
 *	 read past it) gives the result a model written here predicts (too
 *	 long, three parts that decode to 1..1024, 1..8192 and 1..64 bytes,
 *	 a header the reference reader accepts with string alg of at most 15
 *	 bytes and kid of 1..128, no crit), and when it is ORION_JWS_OK, the
 *	 parts the model decoded and signing_input_len the offset of the
 *	 second dot.
 *
 * Input: read whole as JSON text and as a token; and read in order as the
 * recipe of the built token (two bytes of flags, alg, kid, the members at
 * the limits, signature, then the rest as payload).
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_jws.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jws.h"
#include "common/base64.h"
#include "fuzz_check.h"

/* ---- the reference JSON reader */

/* The direct elements of a top-level array member, as the reference reads them. */
typedef struct RefArray
{
	bool		all_strings;
	size_t		nleading;		/* string elements before the first other one */
	size_t	   *off;			/* their spans, between the quotes */
	size_t	   *len;
	size_t		cap;
} RefArray;

typedef struct RefMember
{
	const char *name;			/* decoded, in the arena */
	size_t		name_len;
	OrionJsonType type;
	size_t		value_off;		/* strings: between the quotes */
	size_t		value_len;
	const char *decoded;		/* strings: decoded, in the arena */
	size_t		decoded_len;
	RefArray	array;			/* arrays */
} RefMember;

typedef struct RefDoc
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	char	   *arena;			/* decoded strings: never longer than their text */
	size_t		used;
	int			nmembers;
	RefMember	members[ORION_JSON_MAX_MEMBERS];
} RefDoc;

static bool RefValue(RefDoc *d, int level, OrionJsonType *type, RefArray *array);

static bool
IsSpace(unsigned char c)
{
	return c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D;
}

static void
RefSpace(RefDoc *d)
{
	for (; d->pos < d->len && IsSpace(d->s[d->pos]); d->pos++)
		;
}

static bool
At(RefDoc *d, char c)
{
	return d->pos < d->len && d->s[d->pos] == (unsigned char) c;
}

/* The arena's next bytes: decoded strings are shorter than the text they come from. */
static void
Emit(RefDoc *d, unsigned char c)
{
	FUZZ_CHECK(d->used < d->len, "reference arena overflow (%zu of %zu)", d->used, d->len);
	d->arena[d->used++] = (char) c;
}

static void
EmitUtf8(RefDoc *d, uint32_t cp)
{
	if (cp <= 0x7F)
		Emit(d, (unsigned char) cp);
	else if (cp <= 0x7FF)
	{
		Emit(d, (unsigned char) (0xC0 + cp / 64));
		Emit(d, (unsigned char) (0x80 + cp % 64));
	}
	else if (cp <= 0xFFFF)
	{
		Emit(d, (unsigned char) (0xE0 + cp / 4096));
		Emit(d, (unsigned char) (0x80 + cp / 64 % 64));
		Emit(d, (unsigned char) (0x80 + cp % 64));
	}
	else
	{
		Emit(d, (unsigned char) (0xF0 + cp / 262144));
		Emit(d, (unsigned char) (0x80 + cp / 4096 % 64));
		Emit(d, (unsigned char) (0x80 + cp / 64 % 64));
		Emit(d, (unsigned char) (0x80 + cp % 64));
	}
}

/* "\uXXXX" at d->pos: its value, or -1. Moves past it only when it is one. */
static long
RefEscapeU(RefDoc *d)
{
	static const char digits[] = "0123456789abcdef0123456789ABCDEF";
	long		v = 0;
	int			i;

	if (d->len - d->pos < 6 || d->s[d->pos] != '\\' || d->s[d->pos + 1] != 'u')
		return -1;
	for (i = 2; i < 6; i++)
	{
		const char *hit = d->s[d->pos + i] ? strchr(digits, d->s[d->pos + i]) : NULL;

		if (hit == NULL)
			return -1;
		v = v * 16 + (hit - digits) % 16;
	}
	d->pos += 6;
	return v;
}

/*
 * RFC 3629 section 4, the well-formed byte sequences: the length of the
 * one at d->pos, or 0.
 */
static int
RefUtf8(RefDoc *d)
{
	static const struct
	{
		unsigned char lead_lo, lead_hi, second_lo, second_hi;
		int			n;
	}			table[] = {
		{0x00, 0x7F, 0, 0, 1},
		{0xC2, 0xDF, 0x80, 0xBF, 2},
		{0xE0, 0xE0, 0xA0, 0xBF, 3},
		{0xE1, 0xEC, 0x80, 0xBF, 3},
		{0xED, 0xED, 0x80, 0x9F, 3},
		{0xEE, 0xEF, 0x80, 0xBF, 3},
		{0xF0, 0xF0, 0x90, 0xBF, 4},
		{0xF1, 0xF3, 0x80, 0xBF, 4},
		{0xF4, 0xF4, 0x80, 0x8F, 4},
	};
	const unsigned char *p = d->s + d->pos;
	size_t		left = d->len - d->pos;
	size_t		t;
	int			i;

	for (t = 0; t < sizeof(table) / sizeof(table[0]); t++)
	{
		if (p[0] < table[t].lead_lo || p[0] > table[t].lead_hi)
			continue;
		if (table[t].n == 1)
			return 1;
		if (left < (size_t) table[t].n || p[1] < table[t].second_lo || p[1] > table[t].second_hi)
			return 0;
		for (i = 2; i < table[t].n; i++)
			if (p[i] < 0x80 || p[i] > 0xBF)
				return 0;
		return table[t].n;
	}
	return 0;
}

/* A string at d->pos (its quote): its span and its decoding (into the arena). */
static bool
RefString(RefDoc *d, size_t *off, size_t *len, const char **decoded, size_t *decoded_len)
{
	size_t		start;
	size_t		first = d->used;

	if (!At(d, '"'))
		return false;
	start = ++d->pos;
	for (;;)
	{
		unsigned char c;

		if (d->pos >= d->len)
			return false;
		c = d->s[d->pos];
		if (c == '"')
			break;
		if (c <= 0x1F)
			return false;		/* RFC 8259 section 7: control characters are escaped */
		if (c == '\\')
		{
			static const char from[] = "\"\\/bfnrt";
			static const char to[] = "\"\\/\b\f\n\r\t";
			const char *hit;
			long		hi;
			long		lo;

			if (d->pos + 1 >= d->len)
				return false;
			if (d->s[d->pos + 1] != 'u')
			{
				hit = d->s[d->pos + 1] ? strchr(from, d->s[d->pos + 1]) : NULL;
				if (hit == NULL)
					return false;
				Emit(d, (unsigned char) to[hit - from]);
				d->pos += 2;
				continue;
			}
			hi = RefEscapeU(d);
			if (hi < 0 || hi == 0)
				return false;	/* not four hex digits; \u0000 */
			if (hi >= 0xDC00 && hi <= 0xDFFF)
				return false;	/* a lone low surrogate */
			if (hi >= 0xD800 && hi <= 0xDBFF)
			{
				lo = RefEscapeU(d);
				if (lo < 0xDC00 || lo > 0xDFFF)
					return false;	/* a high surrogate without its low one */
				EmitUtf8(d, 0x10000 + (uint32_t) (hi - 0xD800) * 0x400 + (uint32_t) (lo - 0xDC00));
			}
			else
				EmitUtf8(d, (uint32_t) hi);
			continue;
		}
		{
			int			n = RefUtf8(d);
			int			i;

			if (n == 0)
				return false;
			for (i = 0; i < n; i++)
				Emit(d, d->s[d->pos + i]);
			d->pos += n;
		}
	}
	*off = start;
	*len = d->pos - start;
	*decoded = d->arena + first;
	*decoded_len = d->used - first;
	d->pos++;					/* the closing quote */
	return true;
}

/*
 * RFC 8259 section 6 as a state machine: 0 start, 1 after '-', 2 a leading
 * zero, 3 in the integer, 4 after '.', 5 in the fraction, 6 after 'e', 7
 * after its sign, 8 in the exponent. It takes characters while it can and
 * ends in an accepting state (2, 3, 5, 8) or refuses.
 */
static bool
RefNumber(RefDoc *d)
{
	int			state = 0;

	for (; d->pos < d->len; d->pos++)
	{
		unsigned char c = d->s[d->pos];
		bool		digit = c >= '0' && c <= '9';
		int			next = -1;

		switch (state)
		{
			case 0:
				next = c == '-' ? 1 : c == '0' ? 2 : digit ? 3 : -1;
				break;
			case 1:
				next = c == '0' ? 2 : digit ? 3 : -1;
				break;
			case 2:
				next = c == '.' ? 4 : (c == 'e' || c == 'E') ? 6 : -1;
				break;
			case 3:
				next = digit ? 3 : c == '.' ? 4 : (c == 'e' || c == 'E') ? 6 : -1;
				break;
			case 4:
			case 5:
				next = digit ? 5 : (state == 5 && (c == 'e' || c == 'E')) ? 6 : -1;
				break;
			case 6:
				next = (c == '+' || c == '-') ? 7 : digit ? 8 : -1;
				break;
			case 7:
			case 8:
				next = digit ? 8 : -1;
				break;
		}
		if (next < 0)
			break;
		state = next;
	}
	return state == 2 || state == 3 || state == 5 || state == 8;
}

static bool
RefLiteral(RefDoc *d, const char *word)
{
	size_t		n = strlen(word);

	if (d->len - d->pos < n || memcmp(d->s + d->pos, word, n) != 0)
		return false;
	d->pos += n;
	return true;
}

static void
RefArrayAdd(RefArray *a, size_t off, size_t len)
{
	if (a->nleading == a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 8;
		a->off = realloc(a->off, a->cap * sizeof(size_t));
		a->len = realloc(a->len, a->cap * sizeof(size_t));
	}
	a->off[a->nleading] = off;
	a->len[a->nleading] = len;
	a->nleading++;
}

/* An object at d->pos, a container at nesting level `level`; top: the top level. */
static bool
RefObject(RefDoc *d, int level, bool top)
{
	if (level > ORION_JSON_MAX_DEPTH)
		return false;
	d->pos++;					/* '{' */
	RefSpace(d);
	if (At(d, '}'))
	{
		d->pos++;
		return true;
	}
	for (;;)
	{
		size_t		name_off,
					name_span;
		const char *name;
		size_t		name_len;
		RefMember	scratch;
		RefMember  *m = &scratch;
		size_t		value_start;
		int			i;

		RefSpace(d);
		if (!RefString(d, &name_off, &name_span, &name, &name_len))
			return false;
		if (top)
		{
			if (d->nmembers == ORION_JSON_MAX_MEMBERS)
				return false;	/* one member too many */
			if (name_len > ORION_JSON_MAX_NAME)
				return false;
			for (i = 0; i < d->nmembers; i++)
				if (d->members[i].name_len == name_len &&
					memcmp(d->members[i].name, name, name_len) == 0)
					return false;	/* a second member of that name */
			m = &d->members[d->nmembers++];
		}
		memset(m, 0, sizeof(*m));
		m->name = name;
		m->name_len = name_len;
		RefSpace(d);
		if (!At(d, ':'))
			return false;
		d->pos++;
		RefSpace(d);
		value_start = d->pos;
		if (At(d, '"'))
		{
			m->type = ORION_JSON_STRING;
			if (!RefString(d, &m->value_off, &m->value_len, &m->decoded, &m->decoded_len))
				return false;
		}
		else
		{
			if (!RefValue(d, level + 1, &m->type, top ? &m->array : NULL))
				return false;
			m->value_off = value_start;
			m->value_len = d->pos - value_start;
		}
		RefSpace(d);
		if (At(d, ','))
		{
			d->pos++;
			continue;
		}
		if (At(d, '}'))
		{
			d->pos++;
			return true;
		}
		return false;
	}
}

static bool
RefArrayValue(RefDoc *d, int level, RefArray *array)
{
	if (level > ORION_JSON_MAX_DEPTH)
		return false;
	d->pos++;					/* '[' */
	if (array)
		array->all_strings = true;
	RefSpace(d);
	if (At(d, ']'))
	{
		d->pos++;
		return true;
	}
	for (;;)
	{
		OrionJsonType type;
		size_t		start;

		RefSpace(d);
		start = d->pos;
		if (!RefValue(d, level + 1, &type, NULL))
			return false;
		if (array)
		{
			if (type != ORION_JSON_STRING)
				array->all_strings = false;
			else if (array->all_strings)
				RefArrayAdd(array, start + 1, d->pos - start - 2);
		}
		RefSpace(d);
		if (At(d, ','))
		{
			d->pos++;
			continue;
		}
		if (At(d, ']'))
		{
			d->pos++;
			return true;
		}
		return false;
	}
}

static bool
RefValue(RefDoc *d, int level, OrionJsonType *type, RefArray *array)
{
	size_t		off,
				len,
				dlen;
	const char *dec;

	if (d->pos >= d->len)
		return false;
	switch (d->s[d->pos])
	{
		case '{':
			*type = ORION_JSON_OBJECT;
			return RefObject(d, level, false);
		case '[':
			*type = ORION_JSON_ARRAY;
			return RefArrayValue(d, level, array);
		case '"':
			*type = ORION_JSON_STRING;
			return RefString(d, &off, &len, &dec, &dlen);
		case 't':
			*type = ORION_JSON_TRUE;
			return RefLiteral(d, "true");
		case 'f':
			*type = ORION_JSON_FALSE;
			return RefLiteral(d, "false");
		case 'n':
			*type = ORION_JSON_NULL;
			return RefLiteral(d, "null");
		default:
			*type = ORION_JSON_NUMBER;
			return RefNumber(d);
	}
}

static void
RefFree(RefDoc *d)
{
	int			i;

	for (i = 0; i < d->nmembers; i++)
	{
		free(d->members[i].array.off);
		free(d->members[i].array.len);
	}
	free(d->arena);
}

/* The reference's OrionJsonReadObject: one object, white space around it. */
static bool
RefReadObject(const char *text, size_t len, RefDoc *d)
{
	memset(d, 0, sizeof(*d));
	d->s = (const unsigned char *) text;
	d->len = len;
	d->arena = malloc(len ? len : 1);
	RefSpace(d);
	if (!At(d, '{') || !RefObject(d, 1, true))
		return false;
	RefSpace(d);
	return d->pos == d->len;
}

/* A NumericDate read from the number's text: no exponent, |integer part| <= 10^12. */
static bool
RefNumericDate(const char *text, size_t len, int64_t *out)
{
	size_t		i = 0;
	uint64_t	v = 0;
	bool		negative = len > 0 && text[0] == '-';

	if (memchr(text, 'e', len) || memchr(text, 'E', len))
		return false;
	for (i = negative ? 1 : 0; i < len && text[i] != '.'; i++)
	{
		v = v * 10 + (uint64_t) (text[i] - '0');
		if (v > UINT64_C(1000000000000))
			return false;
	}
	*out = negative ? -(int64_t) v : (int64_t) v;
	return true;
}

/* ---- property 1 and 2: OrionJsonReadObject against the reference */

typedef struct Spans
{
	size_t		n;
	size_t		cap;
	const char **value;
	size_t	   *len;
} Spans;

static bool
CollectSpan(const char *value, size_t value_len, void *arg)
{
	Spans	   *s = arg;

	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 8;
		s->value = realloc(s->value, s->cap * sizeof(*s->value));
		s->len = realloc(s->len, s->cap * sizeof(*s->len));
	}
	s->value[s->n] = value;
	s->len[s->n] = value_len;
	s->n++;
	return true;
}

static void
CheckString(const OrionJsonMember *m, const RefMember *ref, const char *what)
{
	char	   *dst = malloc(ref->decoded_len + 1);
	int			n = OrionJsonDecodeString(m->value, m->value_len, dst, ref->decoded_len + 1);

	FUZZ_CHECK(n == (int) ref->decoded_len && memcmp(dst, ref->decoded, ref->decoded_len) == 0 &&
			   dst[n] == '\0',
			   "%s \"%.*s\": DecodeString gave %d bytes, the reference %zu%s", what,
			   (int) m->name_len, m->name, n, ref->decoded_len,
			   n == (int) ref->decoded_len ? " that differ (or no NUL)" : "");
	free(dst);
	/* one byte less: no room for the NUL; an exact buffer, so ASan sees an overrun */
	dst = malloc(ref->decoded_len ? ref->decoded_len : 1);
	n = OrionJsonDecodeString(m->value, m->value_len, dst, ref->decoded_len);
	FUZZ_CHECK(n == -1, "%s \"%.*s\": DecodeString into %zu bytes for %zu gave %d, not -1", what,
			   (int) m->name_len, m->name, ref->decoded_len, ref->decoded_len, n);
	free(dst);
}

/* Check OrionJsonReadObject on text (len bytes) against the reference; its verdict. */
static bool
CheckJson(const char *text, size_t len, const char *what)
{
	OrionJsonMembers *out = malloc(sizeof(OrionJsonMembers));
	RefDoc	   *ref = malloc(sizeof(RefDoc));
	bool		got = OrionJsonReadObject(text, len, out);
	bool		want = RefReadObject(text, len, ref);
	int			i;

	FUZZ_CHECK(got == want, "%s of %zu bytes \"%.*s\": OrionJsonReadObject says %s, the reference %s",
			   what, len, (int) (len > 200 ? 200 : len), text,
			   got ? "accepted" : "refused", want ? "accepted" : "refused");
	if (got)
	{
		FUZZ_CHECK(out->nmembers == ref->nmembers, "%s: %d members, the reference %d", what,
				   out->nmembers, ref->nmembers);
		for (i = 0; i < out->nmembers; i++)
		{
			const OrionJsonMember *m = &out->members[i];
			const RefMember *r = &ref->members[i];

			FUZZ_CHECK(m->name_len == r->name_len && memcmp(m->name, r->name, r->name_len) == 0 &&
					   m->name[m->name_len] == '\0',
					   "%s: member %d is named \"%.*s\" (%zu bytes), the reference \"%.*s\" (%zu)",
					   what, i, (int) m->name_len, m->name, m->name_len,
					   (int) r->name_len, r->name, r->name_len);
			FUZZ_CHECK(m->type == r->type, "%s: member \"%s\" has type %d, the reference %d",
					   what, m->name, (int) m->type, (int) r->type);
			FUZZ_CHECK(m->value >= text && m->value_len <= len &&
					   (size_t) (m->value - text) <= len - m->value_len,
					   "%s: member \"%s\": value span [%td, +%zu) outside the %zu bytes",
					   what, m->name, m->value - text, m->value_len, len);
			FUZZ_CHECK((size_t) (m->value - text) == r->value_off && m->value_len == r->value_len,
					   "%s: member \"%s\": value span [%td, +%zu), the reference [%zu, +%zu)",
					   what, m->name, m->value - text, m->value_len, r->value_off, r->value_len);
			FUZZ_CHECK(OrionJsonFind(out, m->name) == m, "%s: OrionJsonFind(\"%s\") is not member %d",
					   what, m->name, i);

			if (m->type == ORION_JSON_STRING)
				CheckString(m, r, what);
			else if (m->type == ORION_JSON_ARRAY)
			{
				Spans		spans = {0};
				bool		each = OrionJsonEachString(m, CollectSpan, &spans);
				size_t		k;

				FUZZ_CHECK(each == r->array.all_strings,
						   "%s: member \"%s\": EachString says %d, all strings: %d",
						   what, m->name, (int) each, (int) r->array.all_strings);
				FUZZ_CHECK(spans.n == r->array.nleading,
						   "%s: member \"%s\": EachString gave %zu elements, the reference %zu",
						   what, m->name, spans.n, r->array.nleading);
				for (k = 0; k < spans.n; k++)
					FUZZ_CHECK((size_t) (spans.value[k] - text) == r->array.off[k] &&
							   spans.len[k] == r->array.len[k],
							   "%s: member \"%s\": element %zu at [%td, +%zu), the reference [%zu, +%zu)",
							   what, m->name, k, spans.value[k] - text, spans.len[k],
							   r->array.off[k], r->array.len[k]);
				free(spans.value);
				free(spans.len);
			}
			else if (m->type == ORION_JSON_NUMBER)
			{
				int64_t		v = 0,
							rv = 0;
				bool		ok = OrionJsonNumericDate(m, &v);
				bool		rok = RefNumericDate(text + r->value_off, r->value_len, &rv);

				FUZZ_CHECK(ok == rok && (!ok || v == rv),
						   "%s: member \"%s\" = %.*s: NumericDate %d (%lld), the reference %d (%lld)",
						   what, m->name, (int) m->value_len, m->value, (int) ok, (long long) v,
						   (int) rok, (long long) rv);
			}
			if (m->type != ORION_JSON_NUMBER)
			{
				int64_t		v;

				FUZZ_CHECK(!OrionJsonNumericDate(m, &v), "%s: NumericDate of a non-number", what);
			}
		}
	}
	RefFree(ref);
	free(ref);
	free(out);
	return got;
}

/* ---- property 3: tokens */

/* A growing byte buffer of the harness. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

static void
Put(Buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
PutS(Buf *b, const char *s)
{
	Put(b, s, strlen(s));
}

typedef struct Recipe
{
	const uint8_t *p;
	const uint8_t *end;
} Recipe;

static uint8_t
Take(Recipe *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

static size_t
Utf8Len(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static void
PutUtf8(Buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t		n = Utf8Len(cp);

	if (n == 1)
		u[0] = (unsigned char) cp;
	else if (n == 2)
		u[0] = 0xC0 | (cp >> 6), u[1] = 0x80 | (cp & 0x3F);
	else if (n == 3)
		u[0] = 0xE0 | (cp >> 12), u[1] = 0x80 | ((cp >> 6) & 0x3F), u[2] = 0x80 | (cp & 0x3F);
	else
		u[0] = 0xF0 | (cp >> 18), u[1] = 0x80 | ((cp >> 12) & 0x3F),
			u[2] = 0x80 | ((cp >> 6) & 0x3F), u[3] = 0x80 | (cp & 0x3F);
	Put(b, u, n);
}

static void
PutEscapeU(Buf *b, uint32_t cp, bool upper)
{
	char		s[16];

	if (cp >= 0x10000)
	{
		PutEscapeU(b, 0xD800 + ((cp - 0x10000) >> 10), upper);
		PutEscapeU(b, 0xDC00 + ((cp - 0x10000) & 0x3FF), upper);
		return;
	}
	snprintf(s, sizeof(s), upper ? "\\u%04X" : "\\u%04x", (unsigned) cp);
	PutS(b, s);
}

/*
 * A JSON string from the recipe: at most max_cps code points and max_bytes
 * bytes decoded, at least min_bytes (padded with 'k'), each written raw, as
 * a short escape or as \u (surrogate pairs above U+FFFF). Its text into
 * text (with the quotes), its decoding into decoded.
 */
static void
MakeString(Recipe *r, size_t max_cps, size_t max_bytes, size_t min_bytes, Buf *text, Buf *decoded)
{
	static const char shorts[] = "\"\\/\b\f\n\r\t";
	static const char letters[] = "\"\\/bfnrt";
	size_t		ncps = Take(r) % (max_cps + 1);
	size_t		i;

	PutS(text, "\"");
	for (i = 0; i < ncps; i++)
	{
		uint8_t		b0 = Take(r);
		int			style = (b0 >> 2) & 3;
		uint32_t	cp;
		uint32_t	v;
		const char *sh;
		bool		raw_ok;

		switch (b0 & 3)
		{
			case 0:
				cp = Take(r) & 0x7F;
				if (cp == 0)
					cp = '"';
				break;
			case 1:
				v = (uint32_t) Take(r) << 8;
				v |= Take(r);
				cp = 0x80 + v % (0x800 - 0x80);
				break;
			case 2:
				v = (uint32_t) Take(r) << 8;
				v |= Take(r);
				cp = 0x800 + v % (0x10000 - 0x800);
				if (cp >= 0xD800 && cp <= 0xDFFF)
					cp += 0x800;
				break;
			default:
				v = (uint32_t) Take(r) << 16;
				v |= (uint32_t) Take(r) << 8;
				v |= Take(r);
				cp = 0x10000 + v % 0x100000;
				break;
		}
		if (decoded->len + Utf8Len(cp) > max_bytes)
			break;
		PutUtf8(decoded, cp);

		sh = cp < 0x80 && cp != 0 ? strchr(shorts, (int) cp) : NULL;
		raw_ok = cp >= 0x20 && cp != '"' && cp != '\\';
		if (style == 1 || style == 2)
			PutEscapeU(text, cp, style == 2);
		else if (style == 3 && sh)
		{
			char		e[2] = {'\\', letters[sh - shorts]};

			Put(text, e, 2);
		}
		else if (raw_ok)
			PutUtf8(text, cp);
		else if (sh)
		{
			char		e[2] = {'\\', letters[sh - shorts]};

			Put(text, e, 2);
		}
		else
			PutEscapeU(text, cp, false);
	}
	while (decoded->len < min_bytes)
	{
		PutS(decoded, "k");
		PutS(text, "k");
	}
	PutS(text, "\"");
}

static void
PutSpace(Buf *b, int style, int *turn)
{
	static const char *const mixed[] = {"", " ", "\n\t", "\r\n ", "\t"};

	if (style == 1)
		PutS(b, " ");
	else if (style >= 2)
		PutS(b, mixed[(*turn)++ % 5]);
}

static void
PutMember(Buf *b, const char *name, const char *value, int space, int *turn)
{
	PutSpace(b, space, turn);
	PutS(b, name);
	PutSpace(b, space, turn);
	PutS(b, ":");
	PutSpace(b, space, turn);
	PutS(b, value);
	PutSpace(b, space, turn);
}

static void
Encode(Buf *token, const void *bytes, size_t len)
{
	char	   *s = malloc(ORION_BASE64_ENCODED_LEN(len) + 1);

	OrionBase64Encode(bytes, len, s, true);
	PutS(token, s);
	free(s);
}

/*
 * A string of edge cases from the recipe, valid or not: UTF-8 sequences at
 * the edges of RFC 3629's ranges, \u escapes at the surrogates' edges and
 * \u0000, pairs in either order, malformed escapes, control characters.
 */
static void
MakeHostileString(Recipe *r, Buf *text)
{
	static const char *const bytes[] = {
		"\xC0\x80", "\xC1\xBF", "\xC2\x80", "\xDF\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF",
		"\xE0\xA0\x80", "\xED\x9F\xBF", "\xED\xA0\x80", "\xED\xBF\xBF", "\xEE\x80\x80",
		"\xEF\xBF\xBF", "\xF0\x8F\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",
		"\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFF", "\x80",
		"\xBF", "\xE2\x82", "\xC3", "\xF0\x9F\x98", "\x7F", "\x01", "\x1F", "\t", " ",
		"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
	};
	static const unsigned edges[] = {
		0x0000, 0x0001, 0x001F, 0x0020, 0x007F, 0x0080, 0x07FF, 0x0800, 0xD7FF, 0xD800,
		0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFFFE, 0xFFFF,
	};
	static const char *const bad[] = {
		"\\x", "\\u12", "\\U0041", "\\", "\\u00g0", "\\u 041", "\\'", "\\0", "\\\\", "\\/",
		"\\\"", "\\u0041",
	};
	size_t		nitems = Take(r) % 9;
	size_t		i;

	PutS(text, "\"");
	for (i = 0; i < nitems; i++)
	{
		uint8_t		b = Take(r);
		char		e[16];
		unsigned	v;

		switch (b % 4)
		{
			case 0:
				PutS(text, bytes[Take(r) % (sizeof(bytes) / sizeof(bytes[0]))]);
				break;
			case 1:
				if (b & 4)
					v = edges[Take(r) % (sizeof(edges) / sizeof(edges[0]))];
				else
				{
					v = (unsigned) Take(r) << 8;
					v |= Take(r);
				}
				snprintf(e, sizeof(e), (b & 8) ? "\\u%04X" : "\\u%04x", v);
				PutS(text, e);
				break;
			case 2:
				v = 0xD800 + Take(r) % 0x800;	/* a surrogate, high or low */
				snprintf(e, sizeof(e), "\\u%04x", v);
				PutS(text, e);
				v = (b & 4) ? 0xD800 + Take(r) % 0x800 : edges[Take(r) % (sizeof(edges) / sizeof(edges[0]))];
				snprintf(e, sizeof(e), "\\u%04x", v);
				PutS(text, e);
				break;
			default:
				PutS(text, bad[Take(r) % (sizeof(bad) / sizeof(bad[0]))]);
				break;
		}
	}
	PutS(text, "\"");
}

#define BUILT_MAX_MEMBERS	(ORION_JSON_MAX_MEMBERS + 16)

/* Build a token from the input and take it apart. */
static void
RoundTrip(const uint8_t *data, size_t size)
{
	Recipe		r = {data, data + size};
	uint8_t		flags = Take(&r);
	uint8_t		more = Take(&r);
	int			space = (flags >> 4) & 3;
	int			turn = 0;
	Buf			header = {0},
				alg_text = {0},
				alg = {0},
				kid_text = {0},
				kid = {0},
				token = {0};
	Buf			names[BUILT_MAX_MEMBERS] = {{0}};
	Buf			values[BUILT_MAX_MEMBERS] = {{0}};
	int			nmembers = 0;
	bool		hostile = more & 8;
	bool		json_ok = true; /* what the harness expects, hostile parts aside */
	uint8_t		signature[ORION_JWS_MAX_SIGNATURE];
	size_t		signature_len;
	const uint8_t *payload;
	size_t		payload_len;
	size_t		signing_input_len;
	bool		crit = flags & 8;
	bool		accepted;
	char	   *exact;
	OrionJws   *jws;
	OrionJwsResult result;
	OrionJwsResult expected;
	size_t		i;
	int			k;

	MakeString(&r, 15, 15, 0, &alg_text, &alg);
	MakeString(&r, 64, ORION_JSON_MAX_NAME, 1, &kid_text, &kid);

	/* the members, in an order the flags choose; names spelled with escapes or not */
	PutS(&names[nmembers], (flags & 2) ? "\"\\u0061lg\"" : "\"alg\"");
	PutS(&values[nmembers++], alg_text.data);
	PutS(&names[nmembers], (flags & 2) ? "\"k\\u0069\\u0064\"" : "\"kid\"");
	PutS(&values[nmembers++], kid_text.data);
	if (flags & 1)
	{
		Buf			t = names[0];

		names[0] = names[1], names[1] = t;
		t = values[0], values[0] = values[1], values[1] = t;
	}
	if (flags & 4)
	{
		PutS(&names[nmembers], "\"typ\"");
		PutS(&values[nmembers++], "\"JWT\"");
	}
	if (flags & 0x40)
	{
		PutS(&names[nmembers], "\"x\\ud83d\\ude00\"");
		PutS(&values[nmembers++],
			 "{\"alg\":[1,-2.5e+3,0.0,true,false,null,\"\\ud834\\udd1e\",[[{}]]],\"kid\":{},\"kid\":1}");
	}
	/* a NumericDate at its limits, or not one */
	if (flags & 0x80)
	{
		static const char *const dates[] = {
			"1000000000000", "-1000000000000", "1000000000001", "-1000000000001",
			"999999999999.999", "1000000000000.5", "-1000000000000.9", "1000000000000e0",
			"1700000000", "-0", "0.0", "1e3", "12345678901234567890", "0.000001E-7",
		};
		char		date[32];
		uint8_t		b = Take(&r);

		if (b & 1)
			snprintf(date, sizeof(date), "%s", dates[(b >> 1) % (sizeof(dates) / sizeof(dates[0]))]);
		else
		{
			uint16_t	v = (uint16_t) (Take(&r) << 8);

			v |= Take(&r);
			snprintf(date, sizeof(date), "%lld", (long long) (int16_t) v * 100000000LL);
		}
		PutS(&names[nmembers], "\"exp\"");
		PutS(&values[nmembers++], date);
	}
	if (crit)
	{
		PutS(&names[nmembers], "\"crit\"");
		PutS(&values[nmembers++], "[\"exp\"]");
	}
	/* around the limit of members, and a second alg spelled otherwise */
	if ((more & 3) == 1 || (more & 3) == 2)
	{
		int			extra = (more & 3) == 1 ? Take(&r) % 8 : 58 + Take(&r) % 10;

		for (k = 0; k < extra; k++)
		{
			char		name[16];

			snprintf(name, sizeof(name), (k & 1) ? "\"m%d\"" : "\"\\u006d%d\"", k);
			PutS(&names[nmembers], name);
			PutS(&values[nmembers++], (k & 2) ? "0" : "\"\"");
		}
	}
	else if ((more & 3) == 3)
	{
		PutS(&names[nmembers], "\"\\u0061\\u006C\\u0067\"");
		PutS(&values[nmembers++], "null");
		json_ok = false;
	}
	/* a name of about ORION_JSON_MAX_NAME bytes decoded: 'n', written raw or escaped */
	if (more & 4)
	{
		size_t		name_len = ORION_JSON_MAX_NAME - 8 + Take(&r) % 16;
		uint8_t		bits = 0;

		PutS(&names[nmembers], "\"");
		for (i = 0; i < name_len; i++)
		{
			if (i % 8 == 0)
				bits = Take(&r);
			PutS(&names[nmembers], (bits >> (i % 8)) & 1 ? "\\u006E" : "n");
		}
		PutS(&names[nmembers], "\"");
		PutS(&values[nmembers++], "true");
		if (name_len > ORION_JSON_MAX_NAME)
			json_ok = false;
	}
	if (hostile)
	{
		PutS(&names[nmembers], "\"h\"");
		MakeHostileString(&r, &values[nmembers++]);
	}
	/* containers nested to about ORION_JSON_MAX_DEPTH (the top object is level 1) */
	if (more & 0x10)
	{
		int			depth = Take(&r) % (ORION_JSON_MAX_DEPTH + 4);
		uint8_t		bits = 0;
		char		close[ORION_JSON_MAX_DEPTH + 4];

		PutS(&names[nmembers], "\"d\"");
		for (k = 0; k < depth; k++)
		{
			if (k % 8 == 0)
				bits = Take(&r);
			if ((bits >> (k % 8)) & 1)
				PutS(&values[nmembers], "[1,"), close[k] = ']';
			else
				PutS(&values[nmembers], "{\"a\":"), close[k] = '}';
		}
		PutS(&values[nmembers], "\"leaf\"");
		for (k = depth - 1; k >= 0; k--)
			Put(&values[nmembers], &close[k], 1);
		nmembers++;
		if (depth + 1 > ORION_JSON_MAX_DEPTH)
			json_ok = false;
	}
	if (nmembers > ORION_JSON_MAX_MEMBERS)
		json_ok = false;

	signature_len = 1 + Take(&r) % ORION_JWS_MAX_SIGNATURE;
	for (i = 0; i < signature_len; i++)
		signature[i] = Take(&r);
	payload = r.p;
	payload_len = (size_t) (r.end - r.p);
	if (payload_len == 0)
		payload = (const uint8_t *) "{}", payload_len = 2;

	PutSpace(&header, space, &turn);
	PutS(&header, "{");
	for (k = 0; k < nmembers; k++)
	{
		if (k > 0)
			PutS(&header, ",");
		PutMember(&header, names[k].data, values[k].data, space, &turn);
	}
	PutS(&header, "}");
	PutSpace(&header, space, &turn);

	/* the header as JSON, for properties 1 and 2; the harness's own verdict when it has one */
	accepted = CheckJson(header.data, header.len, "built header");
	if (!hostile)
		FUZZ_CHECK(accepted == json_ok, "the built header \"%s\" was %s", header.data,
				   accepted ? "accepted" : "refused");

	Encode(&token, header.data, header.len);
	PutS(&token, ".");
	Encode(&token, payload, payload_len);
	signing_input_len = token.len;
	PutS(&token, ".");
	Encode(&token, signature, signature_len);

	exact = malloc(token.len);
	memcpy(exact, token.data, token.len);
	jws = malloc(sizeof(OrionJws));
	result = OrionJwsParse(exact, token.len, jws);
	expected = token.len > ORION_JWS_MAX_LEN ? ORION_JWS_TOO_LONG :
		header.len > ORION_JWS_MAX_HEADER ? ORION_JWS_MALFORMED :
		!accepted ? ORION_JWS_BAD_HEADER :
		crit ? ORION_JWS_CRITICAL : ORION_JWS_OK;
	FUZZ_CHECK(result == expected, "built token (header %s, %zu payload bytes, %zu signature bytes): "
			   "OrionJwsParse gave %d (%s), not %d", header.data, payload_len, signature_len,
			   (int) result, OrionJwsResultText(result), (int) expected);
	if (result == ORION_JWS_OK)
	{
		FUZZ_CHECK(jws->signing_input_len == signing_input_len, "signing_input_len %zu, not %zu",
				   jws->signing_input_len, signing_input_len);
		FUZZ_CHECK(jws->header_len == header.len && memcmp(jws->header, header.data, header.len) == 0,
				   "header \"%.*s\", not \"%s\"", (int) jws->header_len, jws->header, header.data);
		FUZZ_CHECK(jws->payload_len == payload_len && memcmp(jws->payload, payload, payload_len) == 0,
				   "payload of %zu bytes, not the %zu encoded", jws->payload_len, payload_len);
		FUZZ_CHECK(jws->signature_len == signature_len &&
				   memcmp(jws->signature, signature, signature_len) == 0,
				   "signature of %zu bytes, not the %zu encoded", jws->signature_len, signature_len);
		FUZZ_CHECK(strlen(jws->alg) == alg.len && memcmp(jws->alg, alg.data ? alg.data : "", alg.len) == 0,
				   "alg \"%s\", not \"%.*s\" (from %s)", jws->alg, (int) alg.len,
				   alg.data ? alg.data : "", alg_text.data);
		FUZZ_CHECK(strlen(jws->kid) == kid.len && memcmp(jws->kid, kid.data, kid.len) == 0,
				   "kid \"%s\", not \"%s\" (from %s)", jws->kid, kid.data, kid_text.data);
		FUZZ_CHECK(jws->header_object.nmembers == nmembers,
				   "header object of %d members, not %d", jws->header_object.nmembers, nmembers);
	}
	free(jws);
	free(exact);
	free(token.data);
	free(header.data);
	for (k = 0; k < nmembers; k++)
	{
		free(names[k].data);
		free(values[k].data);
	}
	free(alg_text.data);
	free(alg.data);
	free(kid_text.data);
	free(kid.data);
}

/* One base64url part decoded by the model: its length, or -1 when it is not 1..cap bytes. */
static int
ModelPart(const char *part, size_t len, uint8_t *dst, size_t cap)
{
	int			n = OrionBase64Decode(part, len, dst, len, true);

	return n >= 1 && (size_t) n <= cap ? n : -1;
}

/* The decoded string of a reference member into a fixed buffer: fits (with NUL) and no NUL. */
static bool
ModelString(const RefMember *m, size_t min, size_t max, char *dst)
{
	if (m == NULL || m->type != ORION_JSON_STRING || m->decoded_len < min || m->decoded_len > max ||
		memchr(m->decoded, '\0', m->decoded_len))
		return false;
	memcpy(dst, m->decoded, m->decoded_len);
	dst[m->decoded_len] = '\0';
	return true;
}

static const RefMember *
RefFind(const RefDoc *d, const char *name)
{
	int			i;

	for (i = 0; i < d->nmembers; i++)
		if (d->members[i].name_len == strlen(name) && memcmp(d->members[i].name, name, strlen(name)) == 0)
			return &d->members[i];
	return NULL;
}

/* OrionJwsParse on the raw input against the model. */
static void
ParseRaw(const uint8_t *data, size_t size)
{
	char	   *token = malloc(size ? size : 1);
	OrionJws   *jws = malloc(sizeof(OrionJws));
	const char *dots[3];
	int			ndots = 0;
	size_t		i;
	OrionJwsResult result;
	OrionJwsResult expected;
	uint8_t    *header = NULL,
			   *payload = NULL,
			   *signature = NULL;
	int			header_len = -1,
				payload_len = -1,
				signature_len = -1;
	char		alg[16],
				kid[ORION_JSON_MAX_NAME + 1];

	memcpy(token, data, size);
	result = OrionJwsParse(token, size, jws);

	for (i = 0; i < size && ndots < 3; i++)
		if (token[i] == '.')
			dots[ndots++] = token + i;
	if (size > ORION_JWS_MAX_LEN)
		expected = ORION_JWS_TOO_LONG;
	else if (ndots != 2)
		expected = ORION_JWS_MALFORMED;
	else
	{
		size_t		hlen = (size_t) (dots[0] - token);
		size_t		plen = (size_t) (dots[1] - dots[0] - 1);
		size_t		slen = size - (size_t) (dots[1] - token) - 1;

		header = malloc(hlen + 1);
		payload = malloc(plen + 1);
		signature = malloc(slen + 1);
		header_len = ModelPart(token, hlen, header, ORION_JWS_MAX_HEADER);
		payload_len = ModelPart(dots[0] + 1, plen, payload, ORION_JWS_MAX_LEN);
		signature_len = ModelPart(dots[1] + 1, slen, signature, ORION_JWS_MAX_SIGNATURE);
		if (header_len < 0 || payload_len < 0 || signature_len < 0)
			expected = ORION_JWS_MALFORMED;
		else
		{
			RefDoc	   *ref = malloc(sizeof(RefDoc));

			if (!RefReadObject((const char *) header, (size_t) header_len, ref) ||
				!ModelString(RefFind(ref, "alg"), 0, sizeof(alg) - 1, alg) ||
				!ModelString(RefFind(ref, "kid"), 1, sizeof(kid) - 1, kid))
				expected = ORION_JWS_BAD_HEADER;
			else if (RefFind(ref, "crit"))
				expected = ORION_JWS_CRITICAL;
			else
				expected = ORION_JWS_OK;
			RefFree(ref);
			free(ref);
			/* and the decoded header as JSON, for properties 1 and 2 */
			CheckJson((const char *) header, (size_t) header_len, "decoded header");
		}
	}
	FUZZ_CHECK(result == expected, "token of %zu bytes \"%.*s\": OrionJwsParse gave %d (%s), the model %d (%s)",
			   size, (int) (size > 200 ? 200 : size), token, (int) result, OrionJwsResultText(result),
			   (int) expected, OrionJwsResultText(expected));
	if (result == ORION_JWS_OK)
	{
		FUZZ_CHECK(jws->signing_input_len == (size_t) (dots[1] - token),
				   "signing_input_len %zu, the second dot at %td", jws->signing_input_len, dots[1] - token);
		FUZZ_CHECK(jws->header_len == (size_t) header_len && memcmp(jws->header, header, header_len) == 0 &&
				   jws->header[header_len] == '\0',
				   "header of %zu bytes, the model %d", jws->header_len, header_len);
		FUZZ_CHECK(jws->payload_len == (size_t) payload_len &&
				   memcmp(jws->payload, payload, payload_len) == 0 && jws->payload[payload_len] == '\0',
				   "payload of %zu bytes, the model %d", jws->payload_len, payload_len);
		FUZZ_CHECK(jws->signature_len == (size_t) signature_len &&
				   memcmp(jws->signature, signature, signature_len) == 0,
				   "signature of %zu bytes, the model %d", jws->signature_len, signature_len);
		FUZZ_CHECK(strcmp(jws->alg, alg) == 0 && strcmp(jws->kid, kid) == 0,
				   "alg \"%s\" and kid \"%s\", the model \"%s\" and \"%s\"", jws->alg, jws->kid, alg, kid);
	}
	free(header);
	free(payload);
	free(signature);
	free(jws);
	free(token);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, no terminator to lean on */
	char	   *text = malloc(size ? size : 1);

	memcpy(text, data, size);
	CheckJson(text, size, "input");
	free(text);

	ParseRaw(data, size);
	RoundTrip(data, size);
	return 0;
}
