/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The orion.* configuration settings.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_GUC_H
#define ORION_GUC_H

/* The prefix every orion setting carries, reserved once they are defined. */
#define ORION_GUC_PREFIX "orion"

extern void OrionGucInit(void);

#endif							/* ORION_GUC_H */
