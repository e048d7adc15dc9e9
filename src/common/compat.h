/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL versions orion builds on
 *	  (15, 16, 17 and 18), in one place.
 *
 * Code calls the names defined here instead of the version's own, so that a
 * PG_VERSION_NUM test appears nowhere else (as pgvector and pg_cron keep
 * theirs). Include it after postgres.h, and after the header that declares
 * what a macro here wraps.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_COMPAT_H
#define ORION_COMPAT_H

#include "storage/proc.h"

/* 16 moved the varlena macros (VARSIZE_ANY_EXHDR, VARDATA_ANY) out of postgres.h */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * 16 made appendBinaryStringInfo's data a const void * (orion calls it with
 * char pointers, which convert to either; the fuzz shim defines it)
 */
#if PG_VERSION_NUM >= 160000
typedef const void *OrionBinaryData;
#else
typedef const char *OrionBinaryData;
#endif

/*
 * 18 replaced pg_attribute_noreturn(), written after a declaration, with
 * pg_noreturn, written before it (C11 _Noreturn). orion writes pg_noreturn
 * first, which GCC's and Clang's attribute also allow.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/* 17 put the local transaction id into PGPROC's vxid */
#if PG_VERSION_NUM >= 170000
#define ORION_MY_LXID (MyProc->vxid.lxid)
#else
#define ORION_MY_LXID (MyProc->lxid)
#endif

/* 18 added scan instrumentation to index_beginscan (NULL: none) */
#if PG_VERSION_NUM >= 180000
#define orion_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan(heap, index, snapshot, NULL, nkeys, norderbys)
#else
#define orion_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan(heap, index, snapshot, nkeys, norderbys)
#endif

#endif							/* ORION_COMPAT_H */
