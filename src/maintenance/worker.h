/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The maintenance background worker.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/maintenance/worker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_WORKER_H
#define ORION_WORKER_H

/* Register the launcher, when loaded by shared_preload_libraries. */
extern void OrionWorkerInit(void);

#endif							/* ORION_WORKER_H */
