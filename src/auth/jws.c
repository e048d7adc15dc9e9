/*-------------------------------------------------------------------------
 *
 * jws.c
 *	  Reading a JWS in compact serialization (RFC 7515) and the JSON objects
 *	  of its header and payload, before anything about it is trusted.
 *
 * The header is read before the signature can be checked (it names the
 * key), so this reader sees attacker-chosen bytes: every loop is bounded
 * by the input's end, every copy by its buffer, and recursion by
 * ORION_JSON_MAX_DEPTH. It decides nothing about trust: jwt.c checks the
 * signature with the key the kid names, in that key's own algorithm.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/jws.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "auth/jws.h"
#include "common/base64.h"
#include "common/hex.h"

typedef struct Reader
{
	const char *p;
	const char *end;
} Reader;

static bool ReadValue(Reader *r, int depth, OrionJsonType *type);

static void
SkipSpace(Reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Four hex digits at p (at least four bytes there): the value, or -1. */
static long
Hex4(const char *p)
{
	long		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			d = OrionHexDigit(p[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * One UTF-8 character at p (before end), shortest form, no surrogates: its
 * length, or 0 when the bytes are not one.
 */
static int
Utf8Length(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	int			n;
	unsigned long cp;
	int			i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (end - p < n)
		return 0;
	for (i = 1; i < n; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/*
 * A string, r->p at its opening quote: its span between the quotes. The
 * escapes are checked here as DecodeString reads them.
 */
static bool
ReadString(Reader *r, const char **start, size_t *len)
{
	r->p++;						/* the quote */
	*start = r->p;
	while (r->p < r->end)
	{
		unsigned char c = (unsigned char) *r->p;

		if (c == '"')
		{
			*len = (size_t) (r->p - *start);
			r->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\')
		{
			if (r->end - r->p < 2)
				return false;
			switch (r->p[1])
			{
				case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
					r->p += 2;
					continue;
				case 'u':
					{
						long		u;

						if (r->end - r->p < 6 || (u = Hex4(r->p + 2)) < 0 || u == 0)
							return false;
						r->p += 6;
						if (u >= 0xDC00 && u <= 0xDFFF)
							return false;	/* a low surrogate first */
						if (u >= 0xD800 && u <= 0xDBFF)
						{
							long		low;

							if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
								(low = Hex4(r->p + 2)) < 0xDC00 || low > 0xDFFF)
								return false;
							r->p += 6;
						}
						continue;
					}
				default:
					return false;
			}
		}
		else
		{
			int			n = Utf8Length((const unsigned char *) r->p, (const unsigned char *) r->end);

			if (n == 0)
				return false;
			r->p += n;
		}
	}
	return false;
}

static bool
ReadDigits(Reader *r)
{
	const char *start = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > start;
}

/* A number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
ReadNumber(Reader *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!ReadDigits(r))
		return false;
	if (r->p < r->end && *r->p == '.')
	{
		r->p++;
		if (!ReadDigits(r))
			return false;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
	{
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!ReadDigits(r))
			return false;
	}
	return true;
}

static bool
ReadWord(Reader *r, const char *word)
{
	size_t		n = strlen(word);

	if ((size_t) (r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return false;
	r->p += n;
	return true;
}

/*
 * The members of an object, r->p at its '{'; into out (names decoded, no
 * name twice) when out is not NULL, the top level.
 */
static bool
ReadObject(Reader *r, int depth, OrionJsonMembers *out)
{
	if (depth > ORION_JSON_MAX_DEPTH)
		return false;
	r->p++;						/* the brace */
	if (out)
		out->nmembers = 0;
	SkipSpace(r);
	if (r->p < r->end && *r->p == '}')
	{
		r->p++;
		return true;
	}
	for (;;)
	{
		const char *name;
		size_t		name_len;
		OrionJsonType type;
		const char *value;

		SkipSpace(r);
		if (r->p >= r->end || *r->p != '"' || !ReadString(r, &name, &name_len))
			return false;
		SkipSpace(r);
		if (r->p >= r->end || *r->p != ':')
			return false;
		r->p++;
		SkipSpace(r);
		value = r->p;
		if (!ReadValue(r, depth + 1, &type))
			return false;
		if (out)
		{
			OrionJsonMember *m;
			int			decoded;
			int			i;

			if (out->nmembers == ORION_JSON_MAX_MEMBERS)
				return false;
			m = &out->members[out->nmembers];
			decoded = OrionJsonDecodeString(name, name_len, m->name, sizeof(m->name));
			if (decoded < 0)
				return false;
			m->name_len = (size_t) decoded;
			for (i = 0; i < out->nmembers; i++)
				if (out->members[i].name_len == m->name_len &&
					memcmp(out->members[i].name, m->name, m->name_len) == 0)
					return false;
			m->type = type;
			if (type == ORION_JSON_STRING)
			{
				m->value = value + 1;
				m->value_len = (size_t) (r->p - value) - 2;
			}
			else
			{
				m->value = value;
				m->value_len = (size_t) (r->p - value);
			}
			out->nmembers++;
		}
		SkipSpace(r);
		if (r->p < r->end && *r->p == ',')
		{
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}')
		{
			r->p++;
			return true;
		}
		return false;
	}
}

static bool
ReadArray(Reader *r, int depth)
{
	OrionJsonType type;

	if (depth > ORION_JSON_MAX_DEPTH)
		return false;
	r->p++;						/* the bracket */
	SkipSpace(r);
	if (r->p < r->end && *r->p == ']')
	{
		r->p++;
		return true;
	}
	for (;;)
	{
		SkipSpace(r);
		if (!ReadValue(r, depth + 1, &type))
			return false;
		SkipSpace(r);
		if (r->p < r->end && *r->p == ',')
		{
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']')
		{
			r->p++;
			return true;
		}
		return false;
	}
}

static bool
ReadValue(Reader *r, int depth, OrionJsonType *type)
{
	const char *s;
	size_t		n;

	if (r->p >= r->end)
		return false;
	switch (*r->p)
	{
		case '{':
			*type = ORION_JSON_OBJECT;
			return ReadObject(r, depth, NULL);
		case '[':
			*type = ORION_JSON_ARRAY;
			return ReadArray(r, depth);
		case '"':
			*type = ORION_JSON_STRING;
			return ReadString(r, &s, &n);
		case 't':
			*type = ORION_JSON_TRUE;
			return ReadWord(r, "true");
		case 'f':
			*type = ORION_JSON_FALSE;
			return ReadWord(r, "false");
		case 'n':
			*type = ORION_JSON_NULL;
			return ReadWord(r, "null");
		default:
			*type = ORION_JSON_NUMBER;
			return ReadNumber(r);
	}
}

bool
OrionJsonReadObject(const char *text, size_t len, OrionJsonMembers *out)
{
	Reader		r = {text, text + len};

	SkipSpace(&r);
	if (r.p >= r.end || *r.p != '{' || !ReadObject(&r, 1, out))
		return false;
	SkipSpace(&r);
	return r.p == r.end;
}

const OrionJsonMember *
OrionJsonFind(const OrionJsonMembers *object, const char *name)
{
	size_t		len = strlen(name);
	int			i;

	for (i = 0; i < object->nmembers; i++)
		if (object->members[i].name_len == len && memcmp(object->members[i].name, name, len) == 0)
			return &object->members[i];
	return NULL;
}

/* Append code point cp as UTF-8 at dst[*n]; false when it does not fit. */
static bool
PutUtf8(char *dst, size_t dstmax, size_t *n, unsigned long cp)
{
	unsigned char buf[4];
	size_t		len;

	if (cp < 0x80)
		buf[0] = (unsigned char) cp, len = 1;
	else if (cp < 0x800)
		buf[0] = 0xC0 | (cp >> 6), buf[1] = 0x80 | (cp & 0x3F), len = 2;
	else if (cp < 0x10000)
		buf[0] = 0xE0 | (cp >> 12), buf[1] = 0x80 | ((cp >> 6) & 0x3F),
			buf[2] = 0x80 | (cp & 0x3F), len = 3;
	else
		buf[0] = 0xF0 | (cp >> 18), buf[1] = 0x80 | ((cp >> 12) & 0x3F),
			buf[2] = 0x80 | ((cp >> 6) & 0x3F), buf[3] = 0x80 | (cp & 0x3F), len = 4;
	if (*n + len >= dstmax)
		return false;
	memcpy(dst + *n, buf, len);
	*n += len;
	return true;
}

/* The span was checked by ReadString; this trusts it only as far as it must. */
int
OrionJsonDecodeString(const char *value, size_t value_len, char *dst, size_t dstmax)
{
	size_t		i = 0;
	size_t		n = 0;

	if (dstmax == 0)
		return -1;
	while (i < value_len)
	{
		char		c = value[i];
		unsigned long cp;

		if (c != '\\')
		{
			if (c == '\0' || n + 1 >= dstmax)
				return -1;
			dst[n++] = c;
			i++;
			continue;
		}
		if (i + 1 >= value_len)
			return -1;
		switch (value[i + 1])
		{
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				{
					long		u;

					if (i + 6 > value_len || (u = Hex4(value + i + 2)) <= 0 ||
						(u >= 0xDC00 && u <= 0xDFFF))
						return -1;
					cp = (unsigned long) u;
					if (u >= 0xD800 && u <= 0xDBFF)
					{
						long		low;

						if (i + 12 > value_len || value[i + 6] != '\\' || value[i + 7] != 'u' ||
							(low = Hex4(value + i + 8)) < 0xDC00 || low > 0xDFFF)
							return -1;
						cp = 0x10000 + (((unsigned long) u - 0xD800) << 10) + ((unsigned long) low - 0xDC00);
						i += 6;
					}
					if (!PutUtf8(dst, dstmax, &n, cp))
						return -1;
					i += 6;
					continue;
				}
			default:
				return -1;
		}
		if (n + 1 >= dstmax)
			return -1;
		dst[n++] = (char) cp;
		i += 2;
	}
	dst[n] = '\0';
	return (int) n;
}

bool
OrionJsonNumericDate(const OrionJsonMember *member, int64_t *out)
{
	const char *p;
	const char *end;
	bool		negative = false;
	int64_t		v = 0;

	if (member == NULL || member->type != ORION_JSON_NUMBER)
		return false;
	p = member->value;
	end = p + member->value_len;
	if (p < end && *p == '-')
		negative = true, p++;
	if (p >= end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
	{
		v = v * 10 + (*p - '0');
		if (v > INT64_C(1000000000000))
			return false;
	}
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			;
	if (p != end)
		return false;			/* an exponent */
	*out = negative ? -v : v;
	return true;
}

bool
OrionJsonEachString(const OrionJsonMember *member,
					bool (*fn) (const char *value, size_t value_len, void *arg), void *arg)
{
	Reader		r = {member->value, member->value + member->value_len};

	if (member->type != ORION_JSON_ARRAY)
		return false;
	r.p++;						/* the bracket; ReadValue checked the rest */
	for (;;)
	{
		const char *s;
		size_t		n;

		SkipSpace(&r);
		if (r.p >= r.end)
			return false;
		if (*r.p == ']')
			return true;
		if (*r.p == ',')
		{
			r.p++;
			continue;
		}
		if (*r.p != '"' || !ReadString(&r, &s, &n) || !fn(s, n, arg))
			return false;
	}
}

/* Decode one base64url part into dst; its length, or -1. */
static int
DecodePart(const char *part, size_t len, void *dst, size_t dstmax)
{
	if (len > ORION_BASE64_ENCODED_LEN(dstmax))
		return -1;
	return OrionBase64Decode(part, len, dst, dstmax, true);
}

OrionJwsResult
OrionJwsParse(const char *token, size_t len, OrionJws *jws)
{
	const char *dot1;
	const char *dot2;
	const char *end = token + len;
	int			n;
	const OrionJsonMember *alg;
	const OrionJsonMember *kid;

	if (len > ORION_JWS_MAX_LEN)
		return ORION_JWS_TOO_LONG;
	dot1 = memchr(token, '.', len);
	if (dot1 == NULL)
		return ORION_JWS_MALFORMED;
	dot2 = memchr(dot1 + 1, '.', (size_t) (end - dot1 - 1));
	if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t) (end - dot2 - 1)) != NULL)
		return ORION_JWS_MALFORMED;
	jws->signing_input_len = (size_t) (dot2 - token);

	n = DecodePart(token, (size_t) (dot1 - token), jws->header, ORION_JWS_MAX_HEADER);
	if (n <= 0)
		return ORION_JWS_MALFORMED;
	jws->header_len = (size_t) n;
	jws->header[n] = '\0';
	n = DecodePart(dot1 + 1, (size_t) (dot2 - dot1 - 1), jws->payload, ORION_JWS_MAX_LEN);
	if (n <= 0)
		return ORION_JWS_MALFORMED;
	jws->payload_len = (size_t) n;
	jws->payload[n] = '\0';
	n = DecodePart(dot2 + 1, (size_t) (end - dot2 - 1), jws->signature, ORION_JWS_MAX_SIGNATURE);
	if (n <= 0)
		return ORION_JWS_MALFORMED;
	jws->signature_len = (size_t) n;

	if (!OrionJsonReadObject(jws->header, jws->header_len, &jws->header_object))
		return ORION_JWS_BAD_HEADER;
	alg = OrionJsonFind(&jws->header_object, "alg");
	kid = OrionJsonFind(&jws->header_object, "kid");
	if (alg == NULL || alg->type != ORION_JSON_STRING ||
		OrionJsonDecodeString(alg->value, alg->value_len, jws->alg, sizeof(jws->alg)) < 0 ||
		kid == NULL || kid->type != ORION_JSON_STRING ||
		OrionJsonDecodeString(kid->value, kid->value_len, jws->kid, sizeof(jws->kid)) <= 0)
		return ORION_JWS_BAD_HEADER;
	/* RFC 7515 4.1.11: an extension the reader does not know must fail */
	if (OrionJsonFind(&jws->header_object, "crit") != NULL)
		return ORION_JWS_CRITICAL;
	return ORION_JWS_OK;
}

const char *
OrionJwsResultText(OrionJwsResult result)
{
	switch (result)
	{
		case ORION_JWS_OK:
			return "well formed";
		case ORION_JWS_TOO_LONG:
			return "longer than 8192 bytes";
		case ORION_JWS_MALFORMED:
			return "not three base64url parts";
		case ORION_JWS_BAD_HEADER:
			return "header is not a JSON object with string alg and kid";
		case ORION_JWS_CRITICAL:
			return "header has crit extensions";
	}
	return "unknown";
}
