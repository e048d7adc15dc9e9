/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The maintenance background worker: a launcher, and one worker per
 *	  database.
 *
 * With orion in shared_preload_libraries, a static launcher starts one
 * dynamic worker for each database of orion.maintenance_databases, stops
 * the worker of a database taken off the list (at SIGHUP), and starts a
 * worker again when it has exited (after orion.maintenance_naptime, so a
 * database that cannot be served is not retried in a tight loop). After a
 * crash the postmaster restarts the launcher, which starts the workers.
 *
 * A worker runs the maintenance pass (maintenance.c) every
 * orion.maintenance_naptime, each batch in a transaction of its own, and
 * records each pass in orion.maintenance_state. A database without orion
 * (or with an orion older than the pass needs) is skipped, said once in the
 * log. An error in a pass is logged and recorded; the next pass goes on.
 * SIGHUP reloads the settings, SIGTERM ends the worker, and so does the
 * postmaster's death.
 *
 * A worker holds a session advisory lock in its database while it runs,
 * so a database has one worker however it was started; a second one exits.
 *
 * orion.start_maintenance_worker() starts a worker without the launcher
 * (and without preloading); orion.stop_maintenance_worker() is SQL.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/maintenance/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/backend_status.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "common/guc.h"
#include "common/query.h"
#include "common/request.h"
#include "maintenance/maintenance.h"
#include "maintenance/worker.h"

#define LAUNCHER_TYPE "orion maintenance launcher"
#define WORKER_TYPE "orion maintenance"

/*
 * One worker per database: the worker holds this session advisory lock
 * (pg_locks: locktype advisory, classid 1869769070 "orio", objid 1,
 * objsubid 2) in its database while it runs.
 */
#define WORKER_LOCK_KEY1 1869769070
#define WORKER_LOCK_KEY2 1

/* how long start_maintenance_worker waits for its worker to take the lock (ms) */
#define START_TIMEOUT_MS 10000L

/* how often the launcher looks at its workers, at the latest (ms) */
#define LAUNCHER_NAPTIME_MS 5000L

PGDLLEXPORT void OrionMaintenanceLauncherMain(Datum main_arg);
PGDLLEXPORT void OrionMaintenanceWorkerMain(Datum main_arg);

/* a database the launcher serves */
typedef struct ManagedWorker
{
	char		dbname[NAMEDATALEN];
	BackgroundWorkerHandle *handle; /* NULL while none runs */
	TimestampTz next_start;		/* no new worker before this */
	bool		seen;			/* still listed (SyncWorkers' bookkeeping) */
} ManagedWorker;

static ManagedWorker managed[ORION_MAX_MAINTENANCE_DATABASES];
static int	nmanaged = 0;

/*
 * Register the launcher. Only while shared_preload_libraries is processed:
 * loaded later, orion works without it.
 */
void
OrionWorkerInit(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "orion", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "OrionMaintenanceLauncherMain", BGW_MAXLEN);
	strlcpy(worker.bgw_name, LAUNCHER_TYPE, BGW_MAXLEN);
	strlcpy(worker.bgw_type, LAUNCHER_TYPE, BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* Ask the postmaster for a worker for dbname; false when no slot is free. */
static bool
RegisterWorker(const char *dbname, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "orion", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "OrionMaintenanceWorkerMain", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, WORKER_TYPE " of database %s", dbname);
	strlcpy(worker.bgw_type, WORKER_TYPE, BGW_MAXLEN);
	strlcpy(worker.bgw_extra, dbname, BGW_EXTRALEN);
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

static void
WarnNoSlot(const char *dbname)
{
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("no background worker slot is free for the orion maintenance worker of database \"%s\"",
					dbname),
			 errhint("Raise max_worker_processes (a restart is needed).")));
}

/* Bring the running workers in line with orion.maintenance_databases. */
static void
SyncWorkers(void)
{
	char	   *list = pstrdup(orion_maintenance_databases ? orion_maintenance_databases : "");
	List	   *names = NIL;
	ListCell   *cell;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	(void) SplitIdentifierString(list, ',', &names);	/* checked when set */

	for (i = 0; i < nmanaged; i++)
		managed[i].seen = false;
	foreach(cell, names)
	{
		const char *name = lfirst(cell);

		for (i = 0; i < nmanaged; i++)
			if (strcmp(managed[i].dbname, name) == 0)
				break;
		if (i == nmanaged)
		{
			if (nmanaged == ORION_MAX_MAINTENANCE_DATABASES)
				break;
			memset(&managed[i], 0, sizeof(ManagedWorker));
			strlcpy(managed[i].dbname, name, NAMEDATALEN);
			nmanaged++;
		}
		managed[i].seen = true;
	}

	for (i = 0; i < nmanaged; i++)
	{
		ManagedWorker *w = &managed[i];
		pid_t		pid;

		if (w->handle != NULL && GetBackgroundWorkerPid(w->handle, &pid) == BGWH_STOPPED)
		{
			pfree(w->handle);
			w->handle = NULL;
			w->next_start = TimestampTzPlusMilliseconds(now, orion_maintenance_naptime * 1000L);
		}

		if (!w->seen)
		{
			if (w->handle != NULL)
			{
				TerminateBackgroundWorker(w->handle);
				pfree(w->handle);
			}
			ereport(LOG,
					(errmsg("orion maintenance launcher: database \"%s\" is no longer served", w->dbname)));
			managed[i--] = managed[--nmanaged];
			continue;
		}

		if (w->handle == NULL && now >= w->next_start)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
			bool		ok = RegisterWorker(w->dbname, &w->handle);

			MemoryContextSwitchTo(old);
			if (!ok)
			{
				w->handle = NULL;
				w->next_start = TimestampTzPlusMilliseconds(now, 60 * 1000L);
				WarnNoSlot(w->dbname);
			}
		}
	}
}

void
OrionMaintenanceLauncherMain(Datum main_arg)
{
	MemoryContext loop_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* no database: connected only to show in pg_stat_activity */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	loop_context = AllocSetContextCreate(TopMemoryContext, "orion maintenance launcher",
										 ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("orion maintenance launcher started")));

	for (;;)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		old = MemoryContextSwitchTo(loop_context);
		SyncWorkers();
		MemoryContextSwitchTo(old);
		MemoryContextReset(loop_context);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAPTIME_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

static OrionQuery take_worker_lock = {
	"SELECT pg_catalog.pg_try_advisory_lock($1, $2)",
	2, {INT4OID, INT4OID}, NULL
};

/* pg_locks is read anew on every call, unlike pg_stat_activity within a transaction */
static OrionQuery worker_of_database = {
	"SELECT l.pid FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_database d ON d.oid = l.database"
	" WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid"
	"   AND l.objsubid = 2 AND l.granted AND d.datname = $3",
	3, {INT4OID, INT4OID, NAMEOID}, NULL
};

/* Take the worker lock of this database; false if another worker holds it. */
static bool
TakeWorkerLock(void)
{
	Datum		values[2] = {Int32GetDatum(WORKER_LOCK_KEY1), Int32GetDatum(WORKER_LOCK_KEY2)};
	int			nest_level = OrionStartWorkerTransaction();
	bool		isnull;
	bool		taken;

	OrionQueryRun(&take_worker_lock, values, NULL, false, 1);
	taken = DatumGetBool(OrionQueryGet(0, 1, &isnull));
	OrionCommitWorkerTransaction(nest_level);
	return taken;
}

/* The pid of the worker serving dbname, or 0. SPI connected. */
static pid_t
WorkerOfDatabase(Name dbname)
{
	Datum		values[3] = {Int32GetDatum(WORKER_LOCK_KEY1), Int32GetDatum(WORKER_LOCK_KEY2),
	NameGetDatum(dbname)};
	bool		isnull;

	if (OrionQueryRun(&worker_of_database, values, NULL, true, 1) != 1)
		return 0;
	return DatumGetInt32(OrionQueryGet(0, 1, &isnull));
}

/*
 * Whether this database has an orion the pass can run in. What is missing
 * is logged once, until it is there.
 */
static bool
OrionReady(const char *dbname, bool *said)
{
	bool		installed;
	bool		current;

	StartTransactionCommand();
	installed = OidIsValid(get_extension_oid("orion", true));
	current = installed &&
		OidIsValid(get_relname_relid("maintenance_state", get_namespace_oid("orion", true)));
	CommitTransactionCommand();

	if (current)
		*said = false;
	else if (!*said)
	{
		if (!installed)
			ereport(LOG,
					(errmsg("orion is not installed in database \"%s\"; its maintenance worker waits",
							dbname)));
		else
			ereport(LOG,
					(errmsg("orion in database \"%s\" predates its maintenance; its worker waits",
							dbname),
					 errhint("Run ALTER EXTENSION orion UPDATE in that database.")));
		*said = true;
	}
	return current;
}

/* Record a pass in a transaction of its own. */
static void
RecordPass(TimestampTz started, const OrionMaintenanceCounts *counts, const char *error)
{
	int			nest_level = OrionStartWorkerTransaction();

	OrionRecordMaintenanceRun(started, "worker", counts, error);
	OrionCommitWorkerTransaction(nest_level);
}

/* One pass; an error is logged and recorded, and the worker goes on. */
static void
RunPass(const char *dbname, MemoryContext pass_context)
{
	TimestampTz started = GetCurrentTimestamp();
	OrionMaintenanceCounts counts;

	memset(&counts, 0, sizeof(counts));
	pgstat_report_activity(STATE_RUNNING, "orion maintenance pass");
	PG_TRY();
	{
		OrionMaintenancePass(orion_maintenance_batch_size, true, &counts);
		RecordPass(started, &counts, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(pass_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();

		ereport(LOG,
				(errmsg("orion maintenance pass in database \"%s\" failed: %s",
						dbname, edata->message)));
		RecordPass(started, &counts, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

void
OrionMaintenanceWorkerMain(Datum main_arg)
{
	char		dbname[BGW_EXTRALEN];
	bool		said_not_ready = false;
	MemoryContext pass_context;

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, sizeof(dbname));

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname(WORKER_TYPE);

	pass_context = AllocSetContextCreate(TopMemoryContext, "orion maintenance pass",
										 ALLOCSET_DEFAULT_SIZES);
	if (!TakeWorkerLock())
	{
		ereport(LOG,
				(errmsg("another orion maintenance worker serves database \"%s\"; this one exits",
						dbname)));
		proc_exit(0);
	}
	ereport(LOG, (errmsg("orion maintenance worker started for database \"%s\"", dbname)));
	/* a new process's latch is set: the first wait after the first pass must wait */
	ResetLatch(MyLatch);

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(pass_context);
		if (OrionReady(dbname, &said_not_ready))
			RunPass(dbname, pass_context);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(pass_context);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 orion_maintenance_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * orion.start_maintenance_worker(database) starts a worker for a database
 * (this one by default) and returns its pid, or the pid of the one already
 * running there; NULL, with a warning, when no slot is free.
 */
PG_FUNCTION_INFO_V1(orion_start_maintenance_worker);
Datum
orion_start_maintenance_worker(PG_FUNCTION_ARGS)
{
	Name		dbname;
	BackgroundWorkerHandle *handle;
	pid_t		pid = 0;
	pid_t		serving;
	long		waited;

	ORION_REQUIRE_ARG(fcinfo, 0, "database");
	dbname = PG_GETARG_NAME(0);
	(void) get_database_oid(NameStr(*dbname), false);	/* 3D000 if there is none */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	serving = WorkerOfDatabase(dbname);
	if (serving == 0)
	{
		if (!RegisterWorker(NameStr(*dbname), &handle))
		{
			SPI_finish();
			WarnNoSlot(NameStr(*dbname));
			PG_RETURN_NULL();
		}
		if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("the orion maintenance worker of database \"%s\" did not start",
							NameStr(*dbname)),
					 errhint("The server log says why.")));

		/*
		 * Wait until a worker holds the database's lock: ours, or one started
		 * at the same moment (ours then exits).
		 */
		for (waited = 0; waited < START_TIMEOUT_MS; waited += 10)
		{
			pid_t		unused;

			if ((serving = WorkerOfDatabase(dbname)) != 0 ||
				GetBackgroundWorkerPid(handle, &unused) == BGWH_STOPPED)
				break;
			CHECK_FOR_INTERRUPTS();
			pg_usleep(10000L);
		}
	}
	SPI_finish();
	if (serving != 0)
		PG_RETURN_INT32(serving);
	PG_RETURN_INT32(pid);
}
