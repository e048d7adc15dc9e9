/*-------------------------------------------------------------------------
 *
 * argon2_limits.h
 *	  The largest Argon2id costs orion computes with: the upper bounds of
 *	  the orion.argon2_* settings (guc.c) and of a stored hash that the PHC
 *	  parser accepts (auth/phc.c), kept in one place so the settings can
 *	  never produce a hash the parser refuses.
 *
 * A stored hash outside them is refused rather than verified: a hash string
 * with an absurd memory or time cost would otherwise let whoever wrote it
 * stall or exhaust the server.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/argon2_limits.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_ARGON2_LIMITS_H
#define ORION_ARGON2_LIMITS_H

#define ORION_ARGON2_MAX_MEMORY_KIB	(1024 * 1024)	/* 1 GiB */
#define ORION_ARGON2_MAX_ITERATIONS	64
#define ORION_ARGON2_MAX_PARALLELISM	16

#endif							/* ORION_ARGON2_LIMITS_H */
