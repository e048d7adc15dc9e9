/*-------------------------------------------------------------------------
 *
 * flag_user.h
 *	  The user attributes a flag's constraints may read.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/flags/flag_user.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_FLAG_USER_H
#define ORION_FLAG_USER_H

#include "flags/flag_types.h"

/* The user's email, role and emailVerified into ctx. */
extern void FlagLoadUserAttributes(FlagContext *ctx);

#endif							/* ORION_FLAG_USER_H */
