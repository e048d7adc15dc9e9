/*-------------------------------------------------------------------------
 *
 * fuzz_semver.c
 *	  libFuzzer harness for the semantic versions of src/flags/flag_value.c
 *	  (FlagParseSemver, FlagSemverCompare), which the SEMVER_* constraint
 *	  operators of feature flags use.
 *
 * Constraint values come from a flag's rollout and context values from the
 * caller, so both parsers see arbitrary text, and a comparison that is not
 * a total order would let a flag answer differently depending on which of
 * two equivalent versions it was given. The harness checks:
 *
 * - validity and the parsed fields equal those of a recognizer written
 *	 here from the rules orion documents (node-semver's): optional white
 *	 space, a leading "v" only where allowed, three numeric parts without
 *	 leading zeros and at most 2^53-1, dot-separated prerelease identifiers
 *	 ([0-9A-Za-z-], numeric ones without leading zeros), build metadata
 *	 ignored, 256 characters at most;
 * - anything valid without the "v" allowance is valid with it, the same;
 * - parse(format(v)) gives v back, and adding "+build" changes nothing;
 * - the comparison is reflexive, antisymmetric and transitive on every
 *	 triple of the input's versions, and its sign equals SemVer 2.0's
 *	 precedence computed here independently.
 *
 * Input: up to three versions, one per line.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_semver.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

#include "flags/flag_value.h"

#define MAX_SAFE 9007199254740991LL

typedef struct RefVersion
{
	bool		valid;
	long long	part[3];
	int			nids;
	char		ids[128][257];
} RefVersion;

static bool
AllDigits(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* A numeric part or identifier: digits, no leading zero, at most MAX_SAFE. */
static bool
NumericPart(const char *s, size_t len, long long *out)
{
	long long	v = 0;
	size_t		i;

	if (!AllDigits(s, len) || (len > 1 && s[0] == '0') || len > 16)
		return false;
	for (i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	if (v > MAX_SAFE)
		return false;
	*out = v;
	return true;
}

static bool
IdentifierChars(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			  (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
			return false;
	return len > 0;
}

/* Split s[0..len) on '.', calling each piece; false if any piece is refused. */
static bool
Pieces(const char *s, size_t len, bool prerelease, RefVersion *v)
{
	size_t		start = 0;

	for (;;)
	{
		const char *dot = memchr(s + start, '.', len - start);
		size_t		end = dot ? (size_t) (dot - s) : len;
		long long	ignored;

		if (!IdentifierChars(s + start, end - start))
			return false;
		if (prerelease)
		{
			if (AllDigits(s + start, end - start) && !NumericPart(s + start, end - start, &ignored))
				return false;
			memcpy(v->ids[v->nids], s + start, end - start);
			v->ids[v->nids][end - start] = '\0';
			v->nids++;
		}
		if (!dot)
			return true;
		start = end + 1;
	}
}

static void
ReferenceParse(const char *s, bool allow_v, RefVersion *v)
{
	size_t		len = strlen(s);
	const char *p = s;
	const char *plus;
	const char *dash;
	const char *end;
	const char *dot1;
	const char *dot2;

	memset(v, 0, sizeof(*v));
	if (len > 256)
		return;
	while (*p && isspace((unsigned char) *p))
		p++;
	end = s + len;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	if (p < end && (*p == 'v' || *p == 'V'))
	{
		if (!allow_v)
			return;
		p++;
	}
	plus = memchr(p, '+', end - p);
	if (plus && !Pieces(plus + 1, end - plus - 1, false, v))
		return;
	if (plus)
		end = plus;
	dash = memchr(p, '-', end - p);
	if (dash && !Pieces(dash + 1, end - dash - 1, true, v))
		return;
	if (dash)
		end = dash;
	dot1 = memchr(p, '.', end - p);
	dot2 = dot1 ? memchr(dot1 + 1, '.', end - dot1 - 1) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', end - dot2 - 1) ||
		!NumericPart(p, dot1 - p, &v->part[0]) ||
		!NumericPart(dot1 + 1, dot2 - dot1 - 1, &v->part[1]) ||
		!NumericPart(dot2 + 1, end - dot2 - 1, &v->part[2]))
		return;
	v->valid = true;
}

static int
Sign(long long x)
{
	return (x > 0) - (x < 0);
}

/* SemVer 2.0 precedence, section 11. */
static int
ReferenceCompare(const RefVersion *a, const RefVersion *b)
{
	int			i;

	for (i = 0; i < 3; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	if (a->nids == 0 || b->nids == 0)
		return (b->nids > 0) - (a->nids > 0);
	for (i = 0; i < a->nids && i < b->nids; i++)
	{
		bool		anum = AllDigits(a->ids[i], strlen(a->ids[i]));
		bool		bnum = AllDigits(b->ids[i], strlen(b->ids[i]));

		if (anum && bnum)
		{
			long long	x = atoll(a->ids[i]);
			long long	y = atoll(b->ids[i]);

			if (x != y)
				return x < y ? -1 : 1;
		}
		else if (anum != bnum)
			return anum ? -1 : 1;
		else if (strcmp(a->ids[i], b->ids[i]) != 0)
			return Sign(strcmp(a->ids[i], b->ids[i]));
	}
	return Sign(a->nids - b->nids);
}

static bool
SameFields(const FlagSemver *x, const RefVersion *r)
{
	int			i;

	if (x->valid != r->valid)
		return false;
	if (!x->valid)
		return true;
	if (x->major != r->part[0] || x->minor != r->part[1] || x->patch != r->part[2] ||
		x->nprerelease != r->nids)
		return false;
	for (i = 0; i < r->nids; i++)
		if (strcmp(x->prerelease[i], r->ids[i]) != 0)
			return false;
	return true;
}

static bool
SameVersion(const FlagSemver *x, const FlagSemver *y)
{
	int			i;

	if (x->valid != y->valid || x->major != y->major || x->minor != y->minor ||
		x->patch != y->patch || x->nprerelease != y->nprerelease)
		return false;
	for (i = 0; i < x->nprerelease; i++)
		if (strcmp(x->prerelease[i], y->prerelease[i]) != 0)
			return false;
	return true;
}

static char *
Format(const FlagSemver *v)
{
	char	   *s = psprintf("%lld.%lld.%lld", (long long) v->major, (long long) v->minor,
							 (long long) v->patch);
	int			i;

	for (i = 0; i < v->nprerelease; i++)
		s = psprintf("%s%c%s", s, i == 0 ? '-' : '.', v->prerelease[i]);
	return s;
}

static RefVersion refs[3];

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FlagSemver	with_v[3];
	int			n = 0;
	size_t		start = 0;
	int			i,
				j,
				k;

	while (n < 3 && start <= size)
	{
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t		end = nl ? (size_t) (nl - data) : size;
		char	   *s = palloc(end - start + 1);
		FlagSemver	without_v;

		memcpy(s, data + start, end - start);
		s[end - start] = '\0';

		FlagParseSemver(s, true, &with_v[n]);
		FlagParseSemver(s, false, &without_v);
		ReferenceParse(s, true, &refs[n]);
		FUZZ_CHECK(SameFields(&with_v[n], &refs[n]),
				   "\"%s\" (v allowed): orion says %s, the reference %s", s,
				   with_v[n].valid ? "valid" : "invalid", refs[n].valid ? "valid" : "invalid");
		{
			RefVersion	strict;

			ReferenceParse(s, false, &strict);
			FUZZ_CHECK(SameFields(&without_v, &strict),
					   "\"%s\" (no v): orion says %s, the reference %s", s,
					   without_v.valid ? "valid" : "invalid", strict.valid ? "valid" : "invalid");
		}
		if (without_v.valid)
			FUZZ_CHECK(SameVersion(&without_v, &with_v[n]), "\"%s\" differs with the v allowance", s);

		if (with_v[n].valid)
		{
			char	   *formatted = Format(&with_v[n]);
			FlagSemver	again;

			FlagParseSemver(formatted, false, &again);
			FUZZ_CHECK(SameVersion(&again, &with_v[n]) && FlagSemverCompare(&again, &with_v[n]) == 0,
					   "\"%s\" formats as \"%s\", which parses differently", s, formatted);
			if (strlen(formatted) + 8 <= 256)
			{
				FlagSemver	built;

				FlagParseSemver(psprintf("%s+b.1-x", formatted), false, &built);
				FUZZ_CHECK(SameVersion(&built, &with_v[n]),
						   "\"%s+b.1-x\": build metadata changed the version", formatted);
			}
		}
		n++;
		if (!nl)
			break;
		start = end + 1;
	}

	for (i = 0; i < n; i++)
	{
		if (!with_v[i].valid)
			continue;
		FUZZ_CHECK(FlagSemverCompare(&with_v[i], &with_v[i]) == 0, "version %d is not equal to itself", i);
		for (j = 0; j < n; j++)
		{
			int			ij;

			if (!with_v[j].valid)
				continue;
			ij = FlagSemverCompare(&with_v[i], &with_v[j]);
			FUZZ_CHECK(Sign(ij) == -Sign(FlagSemverCompare(&with_v[j], &with_v[i])),
					   "compare(%d, %d) and compare(%d, %d) are not opposite", i, j, j, i);
			FUZZ_CHECK(Sign(ij) == ReferenceCompare(&refs[i], &refs[j]),
					   "compare(%d, %d) = %d, SemVer precedence says %d", i, j, ij,
					   ReferenceCompare(&refs[i], &refs[j]));
			for (k = 0; k < n; k++)
			{
				int			jk;
				int			ik;

				if (!with_v[k].valid)
					continue;
				jk = FlagSemverCompare(&with_v[j], &with_v[k]);
				ik = FlagSemverCompare(&with_v[i], &with_v[k]);
				if (ij <= 0 && jk <= 0)
					FUZZ_CHECK(ik <= 0, "%d <= %d <= %d but not %d <= %d", i, j, k, i, k);
				if (ij < 0 && jk < 0)
					FUZZ_CHECK(ik < 0, "%d < %d < %d but not %d < %d", i, j, k, i, k);
			}
		}
	}
	FuzzShimReset();
	return 0;
}
