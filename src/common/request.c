/*-------------------------------------------------------------------------
 *
 * request.c
 *	  The call orion is serving: the client's IP address and user agent,
 *	  and whether the statement loads a dump.
 *
 * Sessions (auth/session.c) and audit entries (common/audit.c) both take
 * the client from here, and the triggers of events/ and integrity/ ask
 * whether a dump is being restored.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/request.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"

#include "common/guc.h"
#include "common/request.h"

/* Longest user agent kept, in bytes (as for orion.client_user_agent). */
#define USER_AGENT_MAX_BYTES	1024

const char *
OrionClientIp(FunctionCallInfo fcinfo, int argno)
{
	char	   *ip;

	if (PG_ARGISNULL(argno))
		return (orion_client_ip && orion_client_ip[0]) ? orion_client_ip : NULL;

	ip = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!OrionLooksLikeIpAddress(ip))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid IP address \"%s\"", ip),
				 errdetail("An IP address is an IPv4 or IPv6 address of at most 45 characters.")));
	return ip;
}

const char *
OrionClientUserAgent(FunctionCallInfo fcinfo, int argno)
{
	text	   *agent;

	if (PG_ARGISNULL(argno))
		return (orion_client_user_agent && orion_client_user_agent[0]) ? orion_client_user_agent : NULL;

	agent = PG_GETARG_TEXT_PP(argno);
	if (VARSIZE_ANY_EXHDR(agent) > USER_AGENT_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("user agent is too long"),
				 errdetail("A user agent may have at most %d bytes.", USER_AGENT_MAX_BYTES)));
	return text_to_cstring(agent);
}

/* Whether the statement running is a COPY (a dump being loaded). */
bool
OrionLoadingByCopy(void)
{
	return ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY;
}
