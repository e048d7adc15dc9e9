/*-------------------------------------------------------------------------
 *
 * server_models.c
 *	  Models of the few server functions that src/flags/flag_value.c and
 *	  src/auth/password.c call on the paths the harnesses drive, and stubs that
 *	  abort for the ones no harness reaches.
 *
 * These are written for the harnesses from what the functions are
 * documented to do, not copied from PostgreSQL; the fuzzing targets orion's
 * own code around them:
 *
 * - date2j and day_tab: the Julian day of a proleptic Gregorian date
 *	 (2000-01-01 is POSTGRES_EPOCH_JDATE), computed by the civil-days
 *	 algorithm, not by the server's formula;
 * - pg_inet_net_pton, inet form (size -1, as orion calls it): a dotted IPv4
 *	 mantissa or an IPv6 address (glibc's inet_pton), then an optional
 *	 "/bits". The real parser accepts a few spellings this model does not
 *	 (hex IPv4 parts, classful defaults); orion hands it only four dotted
 *	 decimal octets for IPv4, which the model checks it does;
 * - pg_mbstrlen_with_len: characters of UTF-8 text, the database encoding
 *	 the tests use.
 *
 * A stub that is reached means a harness drove orion somewhere it cannot
 * follow outside the server: that is a harness bug, reported by abort().
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/server_models.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "shim.h"

/* ---- dates ---- */

const int	day_tab[2][13] = {
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

/* Days since 1970-01-01 of a proleptic Gregorian date (astronomical year). */
static int64
DaysFromCivil(int64 y, int m, int d)
{
	int64		era;
	int64		yoe;
	int64		doy;
	int64		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
date2j(int year, int month, int day)
{
	return (int) (DaysFromCivil(year, month, day) + UNIX_EPOCH_JDATE);
}

/* ---- addresses ---- */

/* Decimal digits at *p, at most limit (more is an error): -1 if none or too big. */
static int
Decimal(const char **p, int limit)
{
	int			v = 0;
	const char *start = *p;

	while (**p >= '0' && **p <= '9')
	{
		v = v * 10 + (**p - '0');
		if (v > limit)
			return -1;
		(*p)++;
	}
	return *p == start ? -1 : v;
}

int
pg_inet_net_pton(int af, const char *src, void *dst, size_t size)
{
	unsigned char *out = dst;
	const char *p = src;
	int			bits;

	if (size != (size_t) -1)
	{
		fprintf(stderr, "server_models: pg_inet_net_pton is modelled for the inet form (size -1) only\n");
		abort();
	}
	if (af == PGSQL_AF_INET)
	{
		int			octet;

		for (octet = 0; octet < 4; octet++)
		{
			int			v = Decimal(&p, 255);

			if (v < 0 || (octet < 3 && *p++ != '.'))
				return -1;
			out[octet] = (unsigned char) v;
		}
		bits = 32;
		if (*p == '/')
		{
			p++;
			if ((bits = Decimal(&p, 32)) < 0)
				return -1;
		}
		return *p == '\0' ? bits : -1;
	}
	if (af == PGSQL_AF_INET6)
	{
		char		address[INET6_ADDRSTRLEN + 1];
		const char *slash = strchr(src, '/');
		size_t		len = slash ? (size_t) (slash - src) : strlen(src);

		if (len >= sizeof(address))
			return -1;
		memcpy(address, src, len);
		address[len] = '\0';
		if (inet_pton(AF_INET6, address, out) != 1)
			return -1;
		if (slash == NULL)
			return 128;
		p = slash + 1;
		/* no leading zero, at most 128 */
		if (p[0] == '0' && p[1] != '\0')
			return -1;
		bits = Decimal(&p, 128);
		return bits >= 0 && *p == '\0' ? bits : -1;
	}
	fprintf(stderr, "server_models: pg_inet_net_pton called with family %d\n", af);
	abort();
}

/* ---- text ---- */

int
pg_mbstrlen_with_len(const char *mbstr, int limit)
{
	int			chars = 0;

	while (limit > 0 && *mbstr)
	{
		unsigned char c = (unsigned char) *mbstr;
		int			l = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
		(c & 0xF8) == 0xF0 ? 4 : 1;

		limit -= l;
		mbstr += l;
		chars++;
	}
	return chars;
}

/* ---- what no harness reaches ---- */

static void
Unreachable(const char *name)
{
	fprintf(stderr, "server_models: %s is not available outside the server, "
			"and no harness should reach it\n", name);
	abort();
}

int
pg_regcomp(regex_t *re, const pg_wchar *string, size_t len, int flags, Oid collation)
{
	Unreachable("pg_regcomp");
	return 0;
}

int
pg_regexec(regex_t *re, const pg_wchar *string, size_t len, size_t search_start,
		   rm_detail_t *details, size_t nmatch, regmatch_t pmatch[], int flags)
{
	Unreachable("pg_regexec");
	return 0;
}

void
pg_regfree(regex_t *re)
{
	Unreachable("pg_regfree");
}

int
pg_mb2wchar_with_len(const char *from, pg_wchar *to, int len)
{
	Unreachable("pg_mb2wchar_with_len");
	return 0;
}

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
	Unreachable("MemoryContextRegisterResetCallback");
}

char *
str_tolower(const char *buff, size_t nbytes, Oid collid)
{
	Unreachable("str_tolower");
	return NULL;
}

char *
JsonbToCString(StringInfo out, JsonbContainer *in, int estimated_len)
{
	Unreachable("JsonbToCString");
	return NULL;
}

void
escape_json(StringInfo buf, const char *str)
{
	Unreachable("escape_json");
}

Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	Unreachable("DirectFunctionCall1Coll");
	return (Datum) 0;
}

Datum
numeric_out(PG_FUNCTION_ARGS)
{
	Unreachable("numeric_out");
	return (Datum) 0;
}

Datum
jsonb_in(PG_FUNCTION_ARGS)
{
	Unreachable("jsonb_in");
	return (Datum) 0;
}

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	Unreachable("pg_detoast_datum");
	return NULL;
}
