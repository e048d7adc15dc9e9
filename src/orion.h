/*-------------------------------------------------------------------------
 *
 * orion.h
 *	  Declarations shared by every part of the orion extension.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/orion.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_H
#define ORION_H

/*
 * The library's version. The Makefile passes it from orion.control, the one
 * place the version is written, so the library and the SQL script it serves
 * cannot disagree without the build noticing.
 */
#ifndef ORION_VERSION
#error "ORION_VERSION must be defined by the build (see Makefile)"
#endif

extern PGDLLEXPORT void _PG_init(void);

/*
 * Whether the running statement is a COPY, as pg_restore and psql load a
 * dump: orion's triggers neither audit, notify nor check references then
 * (change_trigger.c).
 */
extern bool OrionLoadingByCopy(void);

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

#endif							/* ORION_H */
