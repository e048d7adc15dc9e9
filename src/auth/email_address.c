/*-------------------------------------------------------------------------
 *
 * email_address.c
 *	  What orion accepts as an email address.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/email_address.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "auth/email_address.h"

#define EMAIL_LOCAL_MAX_BYTES	64

/*
 * Refuse what cannot be an email address: it must fit the seed's column,
 * have one "@" with a local part of 1 to 64 bytes before it and a dotted
 * domain after it, and no spaces, control characters or the characters
 * that need quoting in an address. Deliberately not RFC 5322 in full:
 * quoted local parts and address literals are refused.
 */
void
OrionEmailCheck(const char *email, size_t len)
{
	const char *at = memchr(email, '@', len);
	const char *domain;
	size_t		i;
	bool		ok = len > 0 && len <= ORION_EMAIL_MAX_BYTES && at != NULL;

	if (ok)
	{
		domain = at + 1;
		ok = at > email && (size_t) (at - email) <= EMAIL_LOCAL_MAX_BYTES &&
			memchr(domain, '@', len - (domain - email)) == NULL &&
			memchr(domain, '.', len - (domain - email)) != NULL &&
			domain[0] != '.' && email[len - 1] != '.' && email[0] != '.' && at[-1] != '.';
	}
	for (i = 0; ok && i < len; i++)
	{
		unsigned char c = (unsigned char) email[i];

		if (c <= ' ' || c == 0x7f || strchr("\"(),:;<>[\\]", c) != NULL)
			ok = false;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid email address \"%s\"", pnstrdup(email, Min(len, ORION_EMAIL_MAX_BYTES))),
				 errdetail("An email address has a local part, \"@\" and a domain with a dot, "
						   "at most %d bytes, without spaces or quotes.", ORION_EMAIL_MAX_BYTES)));
}
