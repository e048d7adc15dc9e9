/*-------------------------------------------------------------------------
 *
 * flag_value.c
 *	  The values feature-flag constraints compare: numbers, dates, semantic
 *	  versions, regular expressions and IP networks, read as Unleash reads
 *	  them.
 *
 * Unleash's Node client is the reference: Number() for numbers, node-semver
 * for versions, RE2 for regular expressions, ip-address for networks. orion
 * follows their rules where they matter to an answer, and documents where
 * it differs (regular expressions use PostgreSQL's ARE syntax, which agrees
 * with RE2's on everything but back-references and a few escapes).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_value.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/socket.h>

#include "catalog/pg_collation.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "flags/flag_value.h"

/* node-semver refuses longer versions */
#define SEMVER_MAX_LENGTH 256
/* JavaScript's Number.MAX_SAFE_INTEGER, node-semver's bound on each part */
#define SEMVER_MAX_PART 9007199254740991LL

static bool
IsJsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool
FlagJsNumber(const char *s, double *out)
{
	const char *start = s;
	const char *end = s + strlen(s);
	const char *p;
	char	   *copy;
	bool		digits = false;

	while (start < end && IsJsSpace(*start))
		start++;
	while (end > start && IsJsSpace(end[-1]))
		end--;
	if (start == end)
	{
		*out = 0;				/* Number("") is 0 */
		return true;
	}
	copy = pnstrdup(start, end - start);

	if (strcmp(copy, "Infinity") == 0 || strcmp(copy, "+Infinity") == 0)
	{
		*out = INFINITY;
		return true;
	}
	if (strcmp(copy, "-Infinity") == 0)
	{
		*out = -INFINITY;
		return true;
	}
	/* 0x, 0o, 0b integers, unsigned */
	if (copy[0] == '0' && (copy[1] == 'x' || copy[1] == 'X' || copy[1] == 'o' ||
						   copy[1] == 'O' || copy[1] == 'b' || copy[1] == 'B'))
	{
		int			base = (copy[1] == 'x' || copy[1] == 'X') ? 16 :
		(copy[1] == 'o' || copy[1] == 'O') ? 8 : 2;
		int			bits_per_digit = base == 16 ? 4 : base == 8 ? 3 : 1;
		uint64		top = 0;		/* the leading significant bits */
		int			dropped = 0;	/* bits after them */
		bool		sticky = false; /* any of those set */

		if (copy[2] == '\0')
			return false;

		/*
		 * JavaScript rounds the exact value once; rounding at every digit
		 * (v = v * base + d) differs past 53 bits. Keep the first 60 or so
		 * bits exactly, and whether any later bit is set: with that bit
		 * folded into the last kept one, converting to double rounds once,
		 * to the same nearest value.
		 */
		for (p = copy + 2; *p; p++)
		{
			int			d = isdigit((unsigned char) *p) ? *p - '0' :
			isxdigit((unsigned char) *p) ? (tolower((unsigned char) *p) - 'a' + 10) : 99;

			if (d >= base)
				return false;
			if (top >> (64 - bits_per_digit) == 0 && dropped == 0)
				top = top * base + d;
			else
			{
				dropped += bits_per_digit;
				sticky = sticky || d != 0;
			}
		}
		if (sticky)
			top |= 1;
		*out = ldexp((double) top, dropped);
		return true;
	}

	/* decimal: [+-] digits [. digits] [e [+-] digits], or [+-] . digits ... */
	p = copy;
	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char) *p))
		p++, digits = true;
	if (*p == '.')
	{
		p++;
		while (isdigit((unsigned char) *p))
			p++, digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E')
	{
		bool		exp_digits = false;

		p++;
		if (*p == '+' || *p == '-')
			p++;
		while (isdigit((unsigned char) *p))
			p++, exp_digits = true;
		if (!exp_digits)
			return false;
	}
	if (*p != '\0')
		return false;
	*out = strtod(copy, NULL);
	return true;
}

/* n digits at *p into *out; advances *p. */
static bool
Digits(const char **p, int n, int *out)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) (*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/*
 * ISO 8601, as JavaScript's Date parses it for the values Unleash writes:
 * YYYY[-MM[-DD[(T| )HH:MM[:SS[.fraction]][Z|(+|-)HH[:]MM]]]]. A missing
 * offset means UTC (JavaScript would take the process's local time, which
 * a database server does not have). Like Date, the result keeps
 * milliseconds and drops finer digits.
 */
bool
FlagParseDate(const char *s, TimestampTz *out)
{
	const char *p = s;
	int			year,
				month = 1,
				day = 1,
				hour = 0,
				minute = 0,
				second = 0,
				millis = 0,
				offset = 0;
	int64		days;

	if (!Digits(&p, 4, &year))
		return false;
	if (*p == '-')
	{
		p++;
		if (!Digits(&p, 2, &month))
			return false;
		if (*p == '-')
		{
			p++;
			if (!Digits(&p, 2, &day))
				return false;
			if (*p == 'T' || *p == 't' || *p == ' ')
			{
				p++;
				if (!Digits(&p, 2, &hour) || *p++ != ':' || !Digits(&p, 2, &minute))
					return false;
				if (*p == ':')
				{
					p++;
					if (!Digits(&p, 2, &second))
						return false;
					if (*p == '.')
					{
						int			scale = 100;

						p++;
						if (!isdigit((unsigned char) *p))
							return false;
						for (; isdigit((unsigned char) *p); p++, scale /= 10)
							millis += (*p - '0') * scale;
					}
				}
				if (*p == 'Z' || *p == 'z')
					p++;
				else if (*p == '+' || *p == '-')
				{
					int			sign = *p++ == '-' ? -1 : 1;
					int			oh,
								om;

					if (!Digits(&p, 2, &oh))
						return false;
					if (*p == ':')
						p++;
					if (!Digits(&p, 2, &om) || oh > 23 || om > 59)
						return false;
					offset = sign * (oh * 60 + om);
				}
			}
		}
	}
	if (*p != '\0' || month < 1 || month > 12 || day < 1 ||
		day > day_tab[isleap(year)][month - 1] || hour > 24 || minute > 59 || second > 59 ||
		(hour == 24 && (minute || second || millis)))
		return false;

	days = date2j(year, month, day) - POSTGRES_EPOCH_JDATE;
	*out = days * USECS_PER_DAY +
		((int64) hour * SECS_PER_HOUR + minute * SECS_PER_MINUTE + second - offset * SECS_PER_MINUTE) *
		USECS_PER_SEC + (int64) millis * 1000;
	return true;
}

/* A numeric semver part: digits, no leading zero, at most MAX_SAFE_INTEGER. */
static bool
SemverNumber(const char *s, size_t len, int64 *out)
{
	size_t		i;
	int64		v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > SEMVER_MAX_PART)
			return false;
	}
	*out = v;
	return true;
}

static bool
IsIdentifierChar(char c)
{
	return isalnum((unsigned char) c) || c == '-';
}

void
FlagParseSemver(const char *s, bool allow_v, FlagSemver *out)
{
	const char *p;
	const char *end;
	int64	   *parts[3];
	int			i;

	memset(out, 0, sizeof(*out));
	parts[0] = &out->major;
	parts[1] = &out->minor;
	parts[2] = &out->patch;
	if (strlen(s) > SEMVER_MAX_LENGTH)
		return;

	/* node-semver trims, and reads an optional leading "v" */
	p = s;
	end = s + strlen(s);
	while (p < end && isspace((unsigned char) *p))
		p++;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	if (p < end && (*p == 'v' || *p == 'V'))
	{
		if (!allow_v)
			return;
		p++;
	}

	for (i = 0; i < 3; i++)
	{
		const char *q = p;

		while (q < end && isdigit((unsigned char) *q))
			q++;
		if (!SemverNumber(p, q - p, parts[i]))
			return;
		p = q;
		if (i < 2)
		{
			if (p >= end || *p != '.')
				return;
			p++;
		}
	}

	/* -prerelease: dot-separated identifiers */
	if (p < end && *p == '-')
	{
		List	   *ids = NIL;
		ListCell   *lc;

		p++;
		for (;;)
		{
			const char *q = p;
			bool		numeric = true;
			int64		ignored;

			while (q < end && IsIdentifierChar(*q))
			{
				if (!isdigit((unsigned char) *q))
					numeric = false;
				q++;
			}
			if (q == p || (numeric && !SemverNumber(p, q - p, &ignored)))
				return;
			ids = lappend(ids, pnstrdup(p, q - p));
			p = q;
			if (p < end && *p == '.')
			{
				p++;
				continue;
			}
			break;
		}
		out->nprerelease = list_length(ids);
		out->prerelease = palloc(sizeof(char *) * out->nprerelease);
		i = 0;
		foreach(lc, ids)
			out->prerelease[i++] = lfirst(lc);
	}

	/* +build: dot-separated identifiers, ignored in comparisons */
	if (p < end && *p == '+')
	{
		p++;
		for (;;)
		{
			const char *q = p;

			while (q < end && IsIdentifierChar(*q))
				q++;
			if (q == p)
				return;
			p = q;
			if (p < end && *p == '.')
			{
				p++;
				continue;
			}
			break;
		}
	}
	out->valid = (p == end);
}

/* node-semver's compareIdentifiers: numbers below words, numbers by value. */
static int
CompareIdentifiers(const char *a, const char *b)
{
	bool		anum = strspn(a, "0123456789") == strlen(a);
	bool		bnum = strspn(b, "0123456789") == strlen(b);

	if (anum && bnum)
	{
		int64		x = strtoll(a, NULL, 10);
		int64		y = strtoll(b, NULL, 10);

		return x < y ? -1 : x > y ? 1 : 0;
	}
	if (anum)
		return -1;
	if (bnum)
		return 1;
	return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0 ? 1 : 0;
}

int
FlagSemverCompare(const FlagSemver *a, const FlagSemver *b)
{
	int			i;

	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	/* a version with a prerelease is lower than the same without */
	if (a->nprerelease == 0 || b->nprerelease == 0)
		return (a->nprerelease == 0) - (b->nprerelease == 0);
	for (i = 0; i < a->nprerelease && i < b->nprerelease; i++)
	{
		int			c = CompareIdentifiers(a->prerelease[i], b->prerelease[i]);

		if (c != 0)
			return c;
	}
	return (a->nprerelease > b->nprerelease) - (a->nprerelease < b->nprerelease);
}

/* PostgreSQL's regex library allocates with malloc: free with the context. */
static void
FreeRegexCallback(void *arg)
{
	pg_regfree((regex_t *) arg);
}

/*
 * Rewrite an RE2 pattern (Unleash's REGEX operator) as a PostgreSQL ARE
 * with the same meaning, setting flags. Returns NULL for what RE2 refuses
 * (look-around, back-references, \Z, unknown flags), which Unleash
 * evaluates to false. Differences that remain: inline (?i) and (?m) apply
 * to the whole pattern, not from where they stand; \p{...} classes and
 * repetition counts above 255 are refused.
 */
static char *
TranslateRe2(const char *p, int *flags)
{
	StringInfoData out;
	bool		dotall = false;
	size_t		len = strlen(p);
	size_t		i = 0;

	initStringInfo(&out);
	while (i < len)
	{
		char		c = p[i];

		if (c == '[')
		{
			/* a bracket expression, copied as it is: ARE and RE2 agree inside */
			appendStringInfoChar(&out, p[i++]);
			if (i < len && p[i] == '^')
				appendStringInfoChar(&out, p[i++]);
			if (i < len && p[i] == ']')
				appendStringInfoChar(&out, p[i++]);
			while (i < len && p[i] != ']')
			{
				if (p[i] == '[' && i + 1 < len && p[i + 1] == ':')
				{
					const char *close = strstr(p + i + 2, ":]");

					if (close == NULL)
						return NULL;
					appendBinaryStringInfo(&out, p + i, close + 2 - (p + i));
					i = close + 2 - p;
					continue;
				}
				if (p[i] == '\\' && i + 1 < len)
					appendStringInfoChar(&out, p[i++]);
				appendStringInfoChar(&out, p[i++]);
			}
			if (i >= len)
				return NULL;
			appendStringInfoChar(&out, p[i++]);
			continue;
		}
		if (c == '\\')
		{
			char		n;

			if (i + 1 >= len)
				return NULL;
			n = p[i + 1];
			i += 2;
			switch (n)
			{
				case 'b':
					/* RE2's word boundary is ASCII: é is not a word character */
					appendStringInfoString(&out, "(?:(?<![0-9A-Za-z_])(?=[0-9A-Za-z_])|"
										   "(?<=[0-9A-Za-z_])(?![0-9A-Za-z_]))");
					break;
				case 'B':
					appendStringInfoString(&out, "(?:(?<=[0-9A-Za-z_])(?=[0-9A-Za-z_])|"
										   "(?<![0-9A-Za-z_])(?![0-9A-Za-z_]))");
					break;
				case 'd':
					/* RE2's classes are ASCII */
					appendStringInfoString(&out, "[0-9]");
					break;
				case 'D':
					appendStringInfoString(&out, "[^0-9]");
					break;
				case 'w':
					appendStringInfoString(&out, "[0-9A-Za-z_]");
					break;
				case 'W':
					appendStringInfoString(&out, "[^0-9A-Za-z_]");
					break;
				case 's':
					appendStringInfoString(&out, "[\\t\\n\\f\\r ]");
					break;
				case 'S':
					appendStringInfoString(&out, "[^\\t\\n\\f\\r ]");
					break;
				case 'z':
					appendStringInfoString(&out, "\\Z");	/* end of text */
					break;
				case 'Z':
				case 'C':
				case 'p':
				case 'P':
					return NULL;
				case 'Q':
					{
						/* \Q...\E: literal text */
						const char *e = strstr(p + i, "\\E");
						size_t		stop = e ? (size_t) (e - p) : len;

						for (; i < stop; i++)
						{
							if (!isalnum((unsigned char) p[i]) && !IS_HIGHBIT_SET(p[i]))
								appendStringInfoChar(&out, '\\');
							appendStringInfoChar(&out, p[i]);
						}
						if (e)
							i += 2;
						break;
					}
				default:
					if (n >= '1' && n <= '9')
						return NULL;	/* back-references */
					appendStringInfoChar(&out, '\\');
					appendStringInfoChar(&out, n);
					break;
			}
			continue;
		}
		if (c == '(' && i + 1 < len && p[i + 1] == '?')
		{
			size_t		j = i + 2;

			if (j < len && (p[j] == '=' || p[j] == '!'))
				return NULL;	/* look-ahead */
			if (j + 1 < len && p[j] == '<' && (p[j + 1] == '=' || p[j + 1] == '!'))
				return NULL;	/* look-behind */
			if (j < len && (p[j] == '<' || (p[j] == 'P' && j + 1 < len && p[j + 1] == '<')))
			{
				/* a named group becomes a plain one */
				const char *gt = strchr(p + j, '>');

				if (gt == NULL)
					return NULL;
				appendStringInfoChar(&out, '(');
				i = gt + 1 - p;
				continue;
			}
			if (j < len && p[j] == ':')
			{
				appendStringInfoString(&out, "(?:");
				i = j + 1;
				continue;
			}
			/* flags: (?ims-ims) or (?ims-ims:...) */
			{
				bool		negate = false;

				for (; j < len && p[j] != ')' && p[j] != ':'; j++)
				{
					switch (p[j])
					{
						case '-':
							negate = true;
							break;
						case 'i':
							if (!negate)
								*flags |= REG_ICASE;
							break;
						case 'm':
							if (!negate)
								*flags |= REG_NLANCH;
							break;
						case 's':
							dotall = !negate;
							break;
						default:
							return NULL;
					}
				}
				if (j >= len)
					return NULL;
				if (p[j] == ':')
					appendStringInfoString(&out, "(?:");
				i = j + 1;
				continue;
			}
		}
		if (c == '.' && !dotall)
		{
			/* RE2's dot does not match a newline unless (?s) */
			appendStringInfoString(&out, "[^\\n]");
			i++;
			continue;
		}
		appendStringInfoChar(&out, c);
		i++;
	}
	return out.data;
}

regex_t *
FlagCompileRegex(const char *pattern, bool case_insensitive)
{
	int			flags = REG_ADVANCED | REG_NOSUB | (case_insensitive ? REG_ICASE : 0);
	char	   *are = TranslateRe2(pattern, &flags);
	size_t		len;
	pg_wchar   *wide;
	int			wlen;
	regex_t    *re;
	MemoryContextCallback *cb;
	int			rc;

	if (are == NULL)
		return NULL;
	len = strlen(are);
	wide = palloc((len + 1) * sizeof(pg_wchar));
	wlen = pg_mb2wchar_with_len(are, wide, (int) len);
	re = palloc(sizeof(regex_t));
	rc = pg_regcomp(re, wide, wlen, flags, DEFAULT_COLLATION_OID);
	pfree(wide);
	if (rc != REG_OKAY)
	{
		pfree(re);
		return NULL;
	}
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = FreeRegexCallback;
	cb->arg = re;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	return re;
}

bool
FlagRegexMatch(regex_t *re, const char *s)
{
	size_t		len = strlen(s);
	pg_wchar   *wide = palloc((len + 1) * sizeof(pg_wchar));
	int			wlen = pg_mb2wchar_with_len(s, wide, (int) len);
	int			rc = pg_regexec(re, wide, wlen, 0, NULL, 0, NULL, 0);

	pfree(wide);
	return rc == REG_OKAY;
}

/*
 * An IPv4 address written as ip-address accepts it: four decimal octets
 * without leading zeros, then an optional /prefix.
 */
static bool
StrictIPv4(const char *s)
{
	int			octet;

	for (octet = 0; octet < 4; octet++)
	{
		const char *start = s;

		while (isdigit((unsigned char) *s))
			s++;
		if (s == start || s - start > 3 || (s - start > 1 && *start == '0'))
			return false;
		if (octet < 3 && *s++ != '.')
			return false;
	}
	if (*s == '/')
	{
		s++;
		if (!isdigit((unsigned char) *s))
			return false;
		while (isdigit((unsigned char) *s))
			s++;
	}
	return *s == '\0';
}

void
FlagParseCidr(const char *s, FlagCidr *out)
{
	int			family = strchr(s, ':') ? PGSQL_AF_INET6 : PGSQL_AF_INET;
	int			bits;

	memset(out, 0, sizeof(*out));
	if (strlen(s) > 64 || (family == PGSQL_AF_INET && !StrictIPv4(s)))
		return;
	bits = pg_inet_net_pton(family, s, out->addr, -1);
	if (bits < 0 || bits > (family == PGSQL_AF_INET ? 32 : 128))
		return;
	out->family = family;
	out->bits = bits;
}

bool
FlagCidrContains(const FlagCidr *network, const FlagCidr *address)
{
	int			whole = network->bits / 8;
	int			rest = network->bits % 8;

	/* an address with a prefix is a network: it must lie within */
	if (network->family == 0 || network->family != address->family ||
		address->bits < network->bits)
		return false;
	if (memcmp(network->addr, address->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((network->addr[whole] ^ address->addr[whole]) & (0xFF << (8 - rest))) == 0;
}

char *
FlagLower(const char *s)
{
	return str_tolower(s, strlen(s), DEFAULT_COLLATION_OID);
}

Jsonb *
FlagPayloadFromValue(JsonbValue *value)
{
	StringInfoData buf;
	const char *type;
	char	   *text;

	switch (value->type)
	{
		case jbvString:
			type = "string";
			text = pnstrdup(value->val.string.val, value->val.string.len);
			break;
		case jbvNumeric:
			type = "number";
			text = DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(value->val.numeric)));
			break;
		case jbvBool:
			type = "string";
			text = pstrdup(value->val.boolean ? "true" : "false");
			break;
		default:
			type = "json";
			text = JsonbToCString(NULL, value->val.binary.data, 64);
			break;
	}
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"type\": ");
	escape_json(&buf, type);
	appendStringInfoString(&buf, ", \"value\": ");
	escape_json(&buf, text);
	appendStringInfoChar(&buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
