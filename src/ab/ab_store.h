/*-------------------------------------------------------------------------
 *
 * ab_store.h
 *	  Reading a user's stored AB assignment.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/ab/ab_store.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_AB_STORE_H
#define ORION_AB_STORE_H

#include "utils/uuid.h"

/*
 * The variant stored for the user in the test, or NULL, palloc'd in the
 * current memory context. fresh reads with a new snapshot (READ COMMITTED),
 * to see a row another session committed during this statement; otherwise
 * the caller's snapshot, through a direct index probe where it can.
 */
extern text *AbStoredVariant(const pg_uuid_t *test_id, const pg_uuid_t *user_id, bool fresh);

extern void AbStoreInit(void);

#endif							/* ORION_AB_STORE_H */
