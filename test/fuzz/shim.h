/*-------------------------------------------------------------------------
 *
 * shim.h
 *	  What orion's server-side C files need from PostgreSQL, outside the
 *	  server, for the libFuzzer harnesses.
 *
 * shim.c gives src/auth/token.c, src/flags/flag_value.c and src/auth/password.c the few
 * backend services they call on the paths the harnesses drive:
 *
 * - palloc and friends over malloc, every block remembered so that
 *	 FuzzShimReset() frees them all, as resetting a memory context does
 *	 (each block is its own malloc, so AddressSanitizer sees its exact
 *	 bounds, and LeakSanitizer stays quiet about what a context would free);
 * - ereport and elog: an ERROR longjmps through PG_exception_stack, so a
 *	 harness catches it with PG_TRY / PG_CATCH as backend code does. An
 *	 ERROR on bad input is a correct outcome, not a finding; an ERROR that
 *	 no PG_TRY catches aborts (the harness did not expect it);
 * - StringInfo, lappend, and pg_strong_random, whose bytes the harness
 *	 chooses (FuzzShimSetRandom) so that generated tokens and salts are
 *	 reproducible from the fuzz input.
 *
 * server_models.c holds the rest: small models of server functions
 * (date2j, pg_inet_net_pton, ...) and stubs that abort for those the
 * harnesses never reach.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/shim.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FUZZ_SHIM_H
#define ORION_FUZZ_SHIM_H

#include "postgres.h"

#include "fuzz_check.h"

/* Free every block palloc'd since the last reset. */
extern void FuzzShimReset(void);

/* Blocks palloc'd and not yet freed, for harnesses that count them. */
extern size_t FuzzShimLiveBlocks(void);

/*
 * What pg_strong_random hands out next: the bytes of buf (copied), then
 * failure once they run out, as if the kernel's source had failed.
 */
extern void FuzzShimSetRandom(const void *buf, size_t len);

/* The message of the last ERROR raised, or "" (valid until the next one). */
extern const char *FuzzShimLastError(void);
/* Its SQLSTATE, as errcode() set it (ERRCODE_INTERNAL_ERROR if none). */
extern int	FuzzShimLastErrorCode(void);

#endif							/* ORION_FUZZ_SHIM_H */
