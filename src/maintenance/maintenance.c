/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  The maintenance pass: removing dead sessions, stale refresh tokens,
 *	  spent one-time tokens and, when retention is set, old read
 *	  notifications and audit entries.
 *
 * Every kind of row goes in batches: one DELETE of at most batch_size rows
 * chosen FOR UPDATE SKIP LOCKED, so the pass never waits on a row a login
 * or refresh holds, and a row it holds is held for one batch only when the
 * background worker commits after each batch (OrionMaintenancePass with
 * own_transactions). Called from SQL (orion.expire_sessions,
 * orion.run_maintenance), the batches run in the caller's transaction.
 *
 * A session is dead when its access token has expired and no usable refresh
 * token (not revoked, not expired) is left to renew it. Sessions are walked
 * in (expires_at, id) order with a cursor, so live sessions whose access
 * token has merely expired are read once per pass, not once per batch.
 *
 * The conditions are written once (the *_WHERE macros) and used both to
 * delete and to count what is waiting (orion.maintenance_backlog()).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/maintenance/maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "utils/uuid.h"

#include "common/guc.h"
#include "common/query.h"
#include "common/request.h"
#include "maintenance/maintenance.h"

/* what each kind of maintenance removes, given the parameter holding its retention in seconds */
#define DEAD_SESSION_WHERE \
	"s.expires_at <= now() AND NOT EXISTS (SELECT FROM orion_auth.refresh_tokens r" \
	" WHERE r.session_id = s.id AND NOT r.revoked AND r.expires_at > now())"
#define EXPIRED_TOKEN_WHERE(retention) \
	"r.expires_at <= now() - make_interval(secs => " retention ")"
#define REVOKED_TOKEN_WHERE(retention) \
	"r.revoked AND coalesce(r.revoked_at, r.created_at) <= now() - make_interval(secs => " retention ")"
/* a one-time token that was used or revoked expired at that moment */
#define SPENT_ONE_TIME_TOKEN_WHERE \
	"o.expires_at <= now()"
#define OLD_READ_NOTIFICATION_WHERE(retention) \
	"n.read AND coalesce(n.read_at, n.created_at) <= now() - make_interval(secs => " retention ")"
#define OLD_AUDIT_WHERE(retention) \
	"a.created_at <= now() - make_interval(secs => " retention ")"

/*
 * a batch: $1 retention (seconds), $2 batch size. The ids go through an
 * array so that the delete probes the primary key: a generic plan of
 * "id IN (subquery)" hash-joins a sequential scan of the whole table.
 */
#define BATCH_DELETE(table, alias, where) \
	"DELETE FROM " table " WHERE id = ANY (ARRAY(SELECT " alias ".id FROM " table " " alias \
	" WHERE " where " LIMIT $2 FOR UPDATE SKIP LOCKED))"

static OrionQuery delete_expired_tokens = {
	BATCH_DELETE("orion_auth.refresh_tokens", "r", EXPIRED_TOKEN_WHERE("$1")),
	2, {FLOAT8OID, INT4OID}, NULL
};
static OrionQuery delete_revoked_tokens = {
	BATCH_DELETE("orion_auth.refresh_tokens", "r", REVOKED_TOKEN_WHERE("$1")),
	2, {FLOAT8OID, INT4OID}, NULL
};
static OrionQuery delete_spent_one_time_tokens = {
	BATCH_DELETE("orion_auth.one_time_tokens", "o", SPENT_ONE_TIME_TOKEN_WHERE),
	2, {FLOAT8OID, INT4OID}, NULL
};
static OrionQuery delete_old_read_notifications = {
	BATCH_DELETE("orion_notifications.notifications", "n", OLD_READ_NOTIFICATION_WHERE("$1")),
	2, {FLOAT8OID, INT4OID}, NULL
};
static OrionQuery delete_old_audit = {
	BATCH_DELETE("orion_auth.audit_logs", "a", OLD_AUDIT_WHERE("$1")),
	2, {FLOAT8OID, INT4OID}, NULL
};

/*
 * Dead sessions after the cursor ($2, $3), in cursor order: how many were
 * chosen, how many deleted, and the new cursor (NULL when none was chosen).
 */
static OrionQuery delete_dead_sessions = {
	"WITH doomed AS ("
	" SELECT s.id, s.expires_at FROM orion_auth.sessions s"
	"  WHERE " DEAD_SESSION_WHERE " AND (s.expires_at, s.id) > ($2, $3)"
	"  ORDER BY s.expires_at, s.id LIMIT $1 FOR UPDATE OF s SKIP LOCKED),"
	" gone AS (DELETE FROM orion_auth.sessions s"
	"  WHERE s.id = ANY (ARRAY(SELECT d.id FROM doomed d)) RETURNING 1),"
	" last AS (SELECT d.expires_at, d.id FROM doomed d ORDER BY d.expires_at DESC, d.id DESC LIMIT 1)"
	" SELECT (SELECT count(*) FROM doomed), (SELECT count(*) FROM gone),"
	"        (SELECT expires_at FROM last), (SELECT id FROM last)",
	3, {INT4OID, TIMESTAMPTZOID, UUIDOID}, NULL
};

static OrionQuery count_backlog = {
	"SELECT (SELECT count(*) FROM orion_auth.sessions s WHERE " DEAD_SESSION_WHERE "),"
	" (SELECT count(*) FROM orion_auth.refresh_tokens r WHERE " EXPIRED_TOKEN_WHERE("$1")
	"   OR " REVOKED_TOKEN_WHERE("$1") "),"
	" (SELECT count(*) FROM orion_auth.one_time_tokens o WHERE " SPENT_ONE_TIME_TOKEN_WHERE "),"
	" CASE WHEN $2 > 0 THEN (SELECT count(*) FROM orion_notifications.notifications n"
	"   WHERE " OLD_READ_NOTIFICATION_WHERE("$2") ") ELSE 0 END,"
	" CASE WHEN $3 > 0 THEN (SELECT count(*) FROM orion_auth.audit_logs a"
	"   WHERE " OLD_AUDIT_WHERE("$3") ") ELSE 0 END",
	3, {FLOAT8OID, FLOAT8OID, FLOAT8OID}, NULL
};

static OrionQuery record_run = {
	"INSERT INTO orion.maintenance_state AS m (id, last_run_at, last_run_by, last_duration, last_run_ok,"
	"  sessions_removed, refresh_tokens_removed, notifications_removed, audit_logs_removed,"
	"  runs, total_removed, last_error, last_error_at, one_time_tokens_removed)"
	" VALUES (true, $1, $2, clock_timestamp() - $1, $7 IS NULL, $3, $4, $5, $6, 1, $3 + $4 + $5 + $6 + $8, $7,"
	"         CASE WHEN $7 IS NOT NULL THEN clock_timestamp() END, $8)"
	" ON CONFLICT (id) DO UPDATE SET last_run_at = excluded.last_run_at,"
	"  last_run_by = excluded.last_run_by, last_duration = excluded.last_duration,"
	"  last_run_ok = excluded.last_run_ok,"
	"  sessions_removed = excluded.sessions_removed,"
	"  refresh_tokens_removed = excluded.refresh_tokens_removed,"
	"  notifications_removed = excluded.notifications_removed,"
	"  audit_logs_removed = excluded.audit_logs_removed,"
	"  one_time_tokens_removed = excluded.one_time_tokens_removed, runs = m.runs + 1,"
	"  total_removed = m.total_removed + excluded.total_removed,"
	"  last_error = coalesce(excluded.last_error, m.last_error),"
	"  last_error_at = coalesce(excluded.last_error_at, m.last_error_at)",
	8, {TIMESTAMPTZOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID, INT8OID}, NULL
};

/* where the session walk has got to */
typedef struct SessionCursor
{
	TimestampTz expires_at;
	pg_uuid_t	id;
} SessionCursor;

/* One batch of one kind: rows chosen (the batch is full when this equals batch_size). */
typedef int64 (*BatchFunction) (OrionQuery *q, double retention, int batch_size,
								SessionCursor *cursor, int64 *removed);

static int64
RunRetentionBatch(OrionQuery *q, double retention, int batch_size,
				  SessionCursor *cursor, int64 *removed)
{
	Datum		values[2] = {Float8GetDatum(retention), Int32GetDatum(batch_size)};
	uint64		n = OrionQueryRun(q, values, NULL, false, 0);

	*removed += n;
	return n;
}

static int64
RunSessionBatch(OrionQuery *q, double retention, int batch_size,
				SessionCursor *cursor, int64 *removed)
{
	Datum		values[3] = {Int32GetDatum(batch_size), TimestampTzGetDatum(cursor->expires_at),
	UUIDPGetDatum(&cursor->id)};
	bool		isnull;
	int64		chosen;

	OrionQueryRun(q, values, NULL, false, 1);
	chosen = DatumGetInt64(OrionQueryGet(0, 1, &isnull));
	*removed += DatumGetInt64(OrionQueryGet(0, 2, &isnull));
	if (chosen > 0)
	{
		cursor->expires_at = DatumGetTimestampTz(OrionQueryGet(0, 3, &isnull));
		memcpy(&cursor->id, DatumGetUUIDP(OrionQueryGet(0, 4, &isnull)), UUID_LEN);
	}
	return chosen;
}

int
OrionStartWorkerTransaction(void)
{
	int			nest_level;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	nest_level = OrionPinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return nest_level;
}

void
OrionCommitWorkerTransaction(int nest_level)
{
	SPI_finish();
	OrionUnpinSearchPath(nest_level);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * orion.maintenance_batch_delay between two batches. The latch may be set
 * already (a new process starts with it set, a reload sets it), so wait
 * until the whole delay has passed; a cancel or termination still ends it.
 */
static void
PauseBetweenBatches(void)
{
	TimestampTz until;
	long		remaining;

	if (orion_maintenance_batch_delay <= 0)
		return;
	until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), orion_maintenance_batch_delay);
	while ((remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until)) > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Run batches of one kind until one comes back short. With own_transactions
 * each batch is a transaction of its own (the worker, outside any), else
 * they share the caller's, whose SPI connection is open.
 */
static int64
RunBatches(BatchFunction batch, OrionQuery *q, double retention, int batch_size,
		   bool own_transactions)
{
	SessionCursor cursor = {DT_NOBEGIN, {{0}}};
	int64		removed = 0;
	int64		chosen;

	do
	{
		CHECK_FOR_INTERRUPTS();
		if (own_transactions)
		{
			int			nest_level = OrionStartWorkerTransaction();

			chosen = batch(q, retention, batch_size, &cursor, &removed);
			OrionCommitWorkerTransaction(nest_level);
		}
		else
			chosen = batch(q, retention, batch_size, &cursor, &removed);
		if (chosen >= batch_size)
			PauseBetweenBatches();
	} while (chosen >= batch_size);

	return removed;
}

static int64
ExpireSessions(int batch_size, bool own_transactions, int64 *tokens_removed)
{
	double		retention = orion_revoked_token_retention;

	*tokens_removed = RunBatches(RunRetentionBatch, &delete_expired_tokens, retention,
								 batch_size, own_transactions);
	*tokens_removed += RunBatches(RunRetentionBatch, &delete_revoked_tokens, retention,
								  batch_size, own_transactions);
	return RunBatches(RunSessionBatch, &delete_dead_sessions, 0, batch_size, own_transactions);
}

static bool maintenance_running = false;

bool
OrionMaintenanceRunning(void)
{
	return maintenance_running;
}

static void
ExpireSessionsQuietly(int batch_size, bool own_transactions, OrionMaintenanceCounts *counts)
{
	maintenance_running = true;
	PG_TRY();
	{
		counts->sessions = ExpireSessions(batch_size, own_transactions, &counts->refresh_tokens);
	}
	PG_FINALLY();
	{
		maintenance_running = false;
	}
	PG_END_TRY();
}

void
OrionMaintenancePass(int batch_size, bool own_transactions, OrionMaintenanceCounts *counts)
{
	memset(counts, 0, sizeof(*counts));
	ExpireSessionsQuietly(batch_size, own_transactions, counts);
	counts->one_time_tokens = RunBatches(RunRetentionBatch, &delete_spent_one_time_tokens, 0,
										 batch_size, own_transactions);
	if (orion_read_notification_retention > 0)
		counts->notifications = RunBatches(RunRetentionBatch, &delete_old_read_notifications,
										   orion_read_notification_retention,
										   batch_size, own_transactions);
	if (orion_audit_retention > 0)
		counts->audit_logs = RunBatches(RunRetentionBatch, &delete_old_audit,
										orion_audit_retention, batch_size, own_transactions);
}

void
OrionRecordMaintenanceRun(TimestampTz started, const char *by,
						  const OrionMaintenanceCounts *counts, const char *error)
{
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = TimestampTzGetDatum(started);
	values[1] = CStringGetTextDatum(by);
	values[2] = Int64GetDatum(counts->sessions);
	values[3] = Int64GetDatum(counts->refresh_tokens);
	values[4] = Int64GetDatum(counts->notifications);
	values[5] = Int64GetDatum(counts->audit_logs);
	if (error)
		values[6] = CStringGetTextDatum(error);
	else
		nulls[6] = 'n';
	values[7] = Int64GetDatum(counts->one_time_tokens);
	OrionQueryRun(&record_run, values, nulls, false, 0);
}

static int
BatchSizeArg(FunctionCallInfo fcinfo)
{
	int			batch_size;

	ORION_REQUIRE_ARG(fcinfo, 0, "batch_size");
	batch_size = PG_GETARG_INT32(0);
	if (batch_size < 1 || batch_size > ORION_MAX_BATCH_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be from 1 to %d", ORION_MAX_BATCH_SIZE)));
	return batch_size;
}

/*
 * orion.expire_sessions(batch_size) removes dead sessions and refresh tokens
 * past orion.revoked_token_retention; returns how many rows went.
 */
PG_FUNCTION_INFO_V1(orion_expire_sessions);
Datum
orion_expire_sessions(PG_FUNCTION_ARGS)
{
	int			batch_size = BatchSizeArg(fcinfo);

	OrionMaintenanceCounts counts;

	memset(&counts, 0, sizeof(counts));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ExpireSessionsQuietly(batch_size, false, &counts);
	SPI_finish();
	PG_RETURN_INT64(counts.sessions + counts.refresh_tokens);
}

/* the kinds a pass removes, as the columns of run_maintenance and maintenance_backlog */
#define MAINTENANCE_KINDS 5

/* MAINTENANCE_KINDS bigint columns from counts, as a row of fcinfo's result type. */
static Datum
CountsRow(FunctionCallInfo fcinfo, const int64 *counts)
{
	TupleDesc	tupdesc;
	Datum		values[MAINTENANCE_KINDS];
	bool		nulls[MAINTENANCE_KINDS] = {false};
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != MAINTENANCE_KINDS)
		elog(ERROR, "return type must be a row type of %d columns", MAINTENANCE_KINDS);
	for (i = 0; i < MAINTENANCE_KINDS; i++)
		values[i] = Int64GetDatum(counts[i]);
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/*
 * orion.run_maintenance(batch_size) runs the whole pass in the caller's
 * transaction, records it in orion.maintenance_state, and returns what it
 * removed. This is what pg_cron schedules.
 */
PG_FUNCTION_INFO_V1(orion_run_maintenance);
Datum
orion_run_maintenance(PG_FUNCTION_ARGS)
{
	int			batch_size = BatchSizeArg(fcinfo);
	TimestampTz started = GetCurrentTimestamp();
	OrionMaintenanceCounts counts;
	int64		row[MAINTENANCE_KINDS];

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	OrionMaintenancePass(batch_size, false, &counts);
	/* the role that called, not the owner this SECURITY DEFINER function runs as */
	OrionRecordMaintenanceRun(started, GetUserNameFromId(GetOuterUserId(), false), &counts, NULL);
	SPI_finish();

	row[0] = counts.sessions;
	row[1] = counts.refresh_tokens;
	row[2] = counts.one_time_tokens;
	row[3] = counts.notifications;
	row[4] = counts.audit_logs;
	PG_RETURN_DATUM(CountsRow(fcinfo, row));
}

/* orion.maintenance_backlog(): what the next pass would remove, per kind. */
PG_FUNCTION_INFO_V1(orion_maintenance_backlog);
Datum
orion_maintenance_backlog(PG_FUNCTION_ARGS)
{
	Datum		values[3] = {Float8GetDatum(orion_revoked_token_retention),
		Float8GetDatum(orion_read_notification_retention),
	Float8GetDatum(orion_audit_retention)};
	int64		row[MAINTENANCE_KINDS];
	int			i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	OrionQueryRun(&count_backlog, values, NULL, true, 1);
	for (i = 0; i < MAINTENANCE_KINDS; i++)
	{
		bool		isnull;

		row[i] = DatumGetInt64(OrionQueryGet(0, i + 1, &isnull));
	}
	SPI_finish();
	PG_RETURN_DATUM(CountsRow(fcinfo, row));
}
