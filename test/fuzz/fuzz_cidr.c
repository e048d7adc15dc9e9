/*-------------------------------------------------------------------------
 *
 * fuzz_cidr.c
 *	  libFuzzer harness for FlagParseCidr and FlagCidrContains in
 *	  src/flags/flag_value.c: the IN_CIDR constraint operator and the
 *	  remoteAddress strategy.
 *
 * Addresses come from the caller's context and networks from a flag's
 * rollout. The server's pg_inet_net_pton is replaced by a model
 * (server_models.c), so what is fuzzed is orion's own part: the strict
 * IPv4 form it insists on, the length and prefix bounds, and the
 * containment test. The harness checks:
 *
 * - an IPv4 string (no ':') is accepted only in the form ip-address takes:
 *	 four dotted decimal octets of 1 to 3 digits without leading zeros,
 *	 each at most 255, then an optional "/" and a prefix of at most 32;
 *	 anything over 64 characters is refused; a parsed prefix never exceeds
 *	 the family's width;
 * - FlagCidrContains equals a bit-by-bit comparison written here (same
 *	 family, the address's prefix at least the network's, the network's
 *	 leading bits equal); every network contains itself, and containment is
 *	 transitive on every triple of the input's networks;
 * - a parsed network, printed by PostgreSQL's own pg_inet_net_ntop
 *	 (libpgport), parses back to the same family, prefix and bytes.
 *
 * Input: up to three addresses or networks, one per line.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_cidr.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

#include <sys/socket.h>

#include "utils/inet.h"

#include "flags/flag_value.h"

/* The IPv4 form orion documents, judged here independently. */
static bool
ExpectedIPv4(const char *s)
{
	const char *p = s;
	int			octet;

	if (strlen(s) > 64)
		return false;
	for (octet = 0; octet < 4; octet++)
	{
		int			digits = 0;
		int			value = 0;

		while (p[digits] >= '0' && p[digits] <= '9')
		{
			value = value * 10 + (p[digits] - '0');
			if (++digits > 3)
				return false;
		}
		if (digits == 0 || (digits > 1 && p[0] == '0') || value > 255)
			return false;
		p += digits;
		if (octet < 3 && *p++ != '.')
			return false;
	}
	if (*p == '/')
	{
		int			bits = 0;
		int			digits = 0;

		p++;
		while (*p >= '0' && *p <= '9')
		{
			bits = Min(bits * 10 + (*p - '0'), 1000);
			p++;
			digits++;
		}
		if (digits == 0 || bits > 32)
			return false;
	}
	return *p == '\0';
}

static bool
Bit(const unsigned char *addr, int i)
{
	return (addr[i / 8] >> (7 - i % 8)) & 1;
}

static bool
ExpectedContains(const FlagCidr *network, const FlagCidr *address)
{
	int			i;

	if (network->family == 0 || network->family != address->family ||
		address->bits < network->bits)
		return false;
	for (i = 0; i < network->bits; i++)
		if (Bit(network->addr, i) != Bit(address->addr, i))
			return false;
	return true;
}

static bool
Same(const FlagCidr *a, const FlagCidr *b)
{
	int			nbytes = a->family == PGSQL_AF_INET ? 4 : 16;

	return a->family == b->family && a->bits == b->bits &&
		memcmp(a->addr, b->addr, nbytes) == 0;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FlagCidr	nets[3];
	int			n = 0;
	size_t		start = 0;
	int			i,
				j,
				k;

	while (n < 3 && start <= size)
	{
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t		end = nl ? (size_t) (nl - data) : size;
		char	   *s = pnstrdup((const char *) data + start, end - start);
		FlagCidr   *c = &nets[n];

		FlagParseCidr(s, c);
		FUZZ_CHECK(c->family == 0 || c->family == PGSQL_AF_INET || c->family == PGSQL_AF_INET6,
				   "\"%s\": family %d", s, c->family);
		if (c->family != 0)
			FUZZ_CHECK(strlen(s) <= 64 && c->bits >= 0 &&
					   c->bits <= (c->family == PGSQL_AF_INET ? 32 : 128),
					   "\"%s\" parsed with prefix %d", s, c->bits);
		if (strchr(s, ':') == NULL)
			FUZZ_CHECK((c->family == PGSQL_AF_INET) == ExpectedIPv4(s),
					   "\"%s\": orion %s, the strict IPv4 form %s", s,
					   c->family ? "accepts" : "refuses", ExpectedIPv4(s) ? "accepts" : "refuses");
		else
			FUZZ_CHECK(c->family != PGSQL_AF_INET, "\"%s\" parsed as IPv4", s);

		if (c->family != 0)
		{
			char		text[128];
			FlagCidr	back;

			FUZZ_CHECK(pg_inet_net_ntop(c->family, c->addr, c->bits, text, sizeof(text)) != NULL,
					   "pg_inet_net_ntop refused what \"%s\" parsed to", s);
			FlagParseCidr(text, &back);
			FUZZ_CHECK(Same(&back, c), "\"%s\" prints as \"%s\", which parses differently", s, text);
		}
		n++;
		if (!nl)
			break;
		start = end + 1;
	}

	for (i = 0; i < n; i++)
	{
		if (nets[i].family != 0)
			FUZZ_CHECK(FlagCidrContains(&nets[i], &nets[i]), "network %d does not contain itself", i);
		for (j = 0; j < n; j++)
		{
			bool		ij = FlagCidrContains(&nets[i], &nets[j]);

			FUZZ_CHECK(ij == ExpectedContains(&nets[i], &nets[j]),
					   "contains(%d, %d) = %d, bit by bit %d", i, j, ij,
					   ExpectedContains(&nets[i], &nets[j]));
			for (k = 0; k < n; k++)
				if (ij && FlagCidrContains(&nets[j], &nets[k]))
					FUZZ_CHECK(FlagCidrContains(&nets[i], &nets[k]),
							   "%d contains %d contains %d, but not %d contains %d", i, j, k, i, k);
		}
	}
	FuzzShimReset();
	return 0;
}
