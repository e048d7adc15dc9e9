/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Defines the orion.* configuration settings and reserves the prefix.
 *
 * Each setting is defined here, next to its check hook, so the README's
 * settings section and this file can be read side by side. Later modules add
 * their settings to OrionGucInit() rather than defining them elsewhere.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "guc.h"

/*
 * Define every orion.* setting, then reserve the prefix. Reserving it turns
 * a misspelt orion.* name (in postgresql.conf, ALTER SYSTEM, SET) into an
 * error instead of a placeholder that silently does nothing.
 */
void
OrionGucInit(void)
{
	MarkGUCPrefixReserved(ORION_GUC_PREFIX);
}
