/*-------------------------------------------------------------------------
 *
 * orion.c
 *	  Entry point of the orion extension: module initialisation and the
 *	  version function.
 *
 * orion works whether or not it is listed in shared_preload_libraries: the
 * library is then loaded by the first call of one of its functions. Only
 * parts that need the postmaster (a static background worker, shared
 * memory) depend on preloading, and they register themselves from here
 * only while shared_preload_libraries is being processed.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/orion.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "ab/ab_cache.h"
#include "ab/ab_store.h"
#include "auth/account_settings.h"
#include "auth/jwt.h"
#include "auth/session_validate.h"
#include "auth/signing_key.h"
#include "common/guc.h"
#include "common/secret_box.h"
#include "flags/flag_cache.h"
#include "maintenance/worker.h"
#include "orion.h"

PG_MODULE_MAGIC;

/*
 * Module load callback.
 */
void
_PG_init(void)
{
	/*
	 * pg_upgrade loads every library to check that it exists; nothing should
	 * be registered while the new cluster is being built.
	 */
	if (IsBinaryUpgrade)
		return;

	OrionGucInit();
	OrionAccountSettingsInit();
	OrionSecretBoxInit();
	FlagCacheInit();
	AbCacheInit();
	AbStoreInit();
	OrionSessionValidateInit();
	OrionJwtInit();
	OrionSigningKeyInit();
	OrionWorkerInit();
	OrionGucReservePrefix();
}

/*
 * orion.version() returns the version this library was built as.
 *
 * Compared with pg_extension.extversion it tells whether the installed SQL
 * objects and the loaded library belong together (after a package upgrade
 * and before ALTER EXTENSION orion UPDATE they may not).
 */
PG_FUNCTION_INFO_V1(orion_version);
Datum
orion_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ORION_VERSION));
}
