/*-------------------------------------------------------------------------
 *
 * fuzz_regex.c
 *	  libFuzzer harness for TranslateRe2 in src/flags/flag_value.c: the rewriting
 *	  of a REGEX constraint's RE2 pattern into a PostgreSQL ARE.
 *
 * The pattern comes from a flag's rollout, and the translator walks it with
 * indexes and strstr/strchr look-aheads, the kind of code where an
 * off-by-one reads past the pattern. The regex engine itself (pg_regcomp)
 * is the server's and is not linked: what is fuzzed is the translation.
 * TranslateRe2 is static, so this file includes flag_value.c. The harness
 * checks:
 *
 * - no read or write outside the pattern and the output (ASan);
 * - text with none of the characters the translator rewrites ("[", "\\",
 *	 "(", ".") comes out unchanged, with no flag set;
 * - "\Q" followed by text without "\E" comes out as that text, every ASCII
 *	 character that is not a letter or digit escaped with a backslash;
 * - the translator only ever adds the flags REG_ICASE and REG_NLANCH.
 *
 * Input: the pattern.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_regex.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

/* the file under test, for its static TranslateRe2 */
#include "flags/flag_value.c"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *pattern = pnstrdup((const char *) data, size);
	int			flags = 0;
	char	   *are = TranslateRe2(pattern, &flags);
	bool		plain = strpbrk(pattern, "[\\(.") == NULL;

	FUZZ_CHECK((flags & ~(REG_ICASE | REG_NLANCH)) == 0, "\"%s\" set flags 0x%x", pattern, flags);
	if (plain)
		FUZZ_CHECK(are != NULL && strcmp(are, pattern) == 0 && flags == 0,
				   "plain \"%s\" became \"%s\" (flags 0x%x)", pattern, are ? are : "(null)", flags);

	/* \Q...: the rest literally */
	if (strstr(pattern, "\\E") == NULL)
	{
		char	   *quoted = psprintf("\\Q%s", pattern);
		char	   *want = palloc(2 * strlen(pattern) + 1);
		char	   *w = want;
		const char *p;

		for (p = pattern; *p; p++)
		{
			if (!isalnum((unsigned char) *p) && !IS_HIGHBIT_SET(*p))
				*w++ = '\\';
			*w++ = *p;
		}
		*w = '\0';
		flags = 0;
		are = TranslateRe2(quoted, &flags);
		FUZZ_CHECK(are != NULL && strcmp(are, want) == 0 && flags == 0,
				   "\"%s\" became \"%s\", expected \"%s\"", quoted, are ? are : "(null)", want);
	}
	FuzzShimReset();
	return 0;
}
