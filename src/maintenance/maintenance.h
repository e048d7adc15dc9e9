/*-------------------------------------------------------------------------
 *
 * maintenance.h
 *	  The maintenance pass, shared by the SQL functions and the worker.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/maintenance/maintenance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_MAINTENANCE_H
#define ORION_MAINTENANCE_H

#include "datatype/timestamp.h"

/* rows a pass removed, per kind */
typedef struct OrionMaintenanceCounts
{
	int64		sessions;
	int64		refresh_tokens;
	int64		one_time_tokens;
	int64		notifications;
	int64		audit_logs;
} OrionMaintenanceCounts;

/*
 * Run the pass. With own_transactions (the worker, outside a transaction)
 * each batch commits on its own; otherwise SPI must be connected and the
 * batches run in the caller's transaction.
 */
extern void OrionMaintenancePass(int batch_size, bool own_transactions,
								 OrionMaintenanceCounts *counts);

/*
 * Whether a maintenance pass is removing rows in this backend: its deletes
 * announce no cache keys (cache_event.c).
 */
extern bool OrionMaintenanceRunning(void);

/*
 * A transaction of its own, outside any (the worker's): started with a
 * snapshot, search_path pinned and SPI connected, and committed.
 */
extern int	OrionStartWorkerTransaction(void);
extern void OrionCommitWorkerTransaction(int nest_level);

/* Record a run in orion.maintenance_state (SPI connected); error NULL on success. */
extern void OrionRecordMaintenanceRun(TimestampTz started, const char *by,
									  const OrionMaintenanceCounts *counts,
									  const char *error);

#endif							/* ORION_MAINTENANCE_H */
