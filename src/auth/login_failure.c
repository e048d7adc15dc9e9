/*-------------------------------------------------------------------------
 *
 * login_failure.c
 *	  Failed sign-ins: the count towards the lockout, the lock, their audit.
 *
 * A wrong password and a wrong second-factor code count alike: a guesser
 * who has the password must not get unlimited tries at the code. A locked
 * account keeps its lock while the count goes on; an expired lock starts a
 * new count.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/login_failure.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "auth/login_failure.h"
#include "common/audit.h"
#include "common/guc.h"
#include "common/query.h"

static OrionQuery lock_state = {
	"SELECT failed_login_count, coalesce(locked_until > pg_catalog.now(), false),"
	" coalesce(locked_until <= pg_catalog.now(), false)"
	" FROM orion_auth.users WHERE id = $1",
	1, {UUIDOID}, NULL
};

static OrionQuery count_failure = {
	"UPDATE orion_auth.users SET failed_login_count = $2 WHERE id = $1",
	2, {UUIDOID, INT4OID}, NULL
};

static OrionQuery count_failure_and_lock = {
	"UPDATE orion_auth.users SET failed_login_count = $2, locked_until = $3 WHERE id = $1",
	3, {UUIDOID, INT4OID, TIMESTAMPTZOID}, NULL
};

OrionLockState
OrionLoginLockState(const pg_uuid_t *user_id)
{
	OrionLockState state = {0};
	Datum		values[1];
	bool		isnull;

	values[0] = UUIDPGetDatum(user_id);
	if (OrionQueryRun(&lock_state, values, NULL, false, 1) > 0)
	{
		state.failures = DatumGetInt32(OrionQueryGet(0, 1, &isnull));
		state.locked = DatumGetBool(OrionQueryGet(0, 2, &isnull));
		state.lock_expired = DatumGetBool(OrionQueryGet(0, 3, &isnull));
	}
	return state;
}

void
OrionLoginFailureRecord(const pg_uuid_t *user_id, OrionLockState state,
						const char *reason, const char *ip, const char *agent)
{
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			failures;
	bool		locks_now;
	const char *keys[] = {"reason"};
	const char *data[1];

	failures = (state.lock_expired ? 0 : state.failures) + 1;
	locks_now = !state.locked && orion_max_failed_logins > 0 && failures >= orion_max_failed_logins;

	values[0] = UUIDPGetDatum(user_id);
	values[1] = Int32GetDatum(failures);
	if (state.locked)
	{
		/* a locked account keeps its lock: only the count changes */
		OrionQueryRun(&count_failure, values, NULL, false, 0);
	}
	else
	{
		/* lock now, or clear an expired lock */
		if (locks_now)
			values[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp() +
											(int64) orion_lockout_duration * USECS_PER_SEC);
		else
			nulls[2] = 'n';
		OrionQueryRun(&count_failure_and_lock, values, nulls, false, 0);
	}

	data[0] = OrionJsonString(state.locked ? "account_locked" : reason);
	OrionAuditAboutUser(user_id, user_id, "auth.login_failed", OrionJsonObject(1, keys, data),
						ip, agent);
	if (locks_now)
	{
		const char *lock_keys[] = {"failed_logins"};
		const char *lock_values[1];

		lock_values[0] = psprintf("%d", failures);
		OrionAuditAboutUser(user_id, user_id, "auth.account_locked",
							OrionJsonObject(1, lock_keys, lock_values), ip, agent);
	}
}
