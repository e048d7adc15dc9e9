/*-------------------------------------------------------------------------
 *
 * request.h
 *	  The call orion is serving: its required arguments, the client's IP
 *	  address and user agent, and whether the statement loads a dump.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/request.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_REQUEST_H
#define ORION_REQUEST_H

#include "fmgr.h"

/*
 * Refuse a NULL argument with a clear error. orion's functions are not
 * STRICT where a NULL would otherwise pass for an answer (a NULL from
 * login() would read as "no such user").
 */
#define ORION_REQUIRE_ARG(fcinfo, n, name) \
	do { \
		if (PG_ARGISNULL(n)) \
			ereport(ERROR, \
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), \
					 errmsg("%s must not be null", (name)))); \
	} while (0)

/*
 * The client's IP address and user agent for a new session or an audit
 * entry: the argument when given (validated), else the orion.client_*
 * setting, else NULL.
 */
extern const char *OrionClientIp(FunctionCallInfo fcinfo, int argno);
extern const char *OrionClientUserAgent(FunctionCallInfo fcinfo, int argno);

/*
 * Whether the running statement is a COPY, as pg_restore and psql load a
 * dump: orion's triggers neither audit, notify nor check references then.
 */
extern bool OrionLoadingByCopy(void);

#endif							/* ORION_REQUEST_H */
