/*-------------------------------------------------------------------------
 *
 * orion.h
 *	  The module's entry point and its version (orion.c); what the services
 *	  share is in common/.
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

#endif							/* ORION_H */
