/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Defines the orion.* configuration settings and reserves the prefix.
 *
 * Each setting is defined here, next to its check hook, so the README's
 * settings section and this file can be read side by side. Later modules add
 * their settings to OrionGucInit() rather than defining them elsewhere.
 *
 * Contexts are chosen on purpose: what weakens security (hash cost, token
 * lifetimes, lockout) is PGC_SUSET, so an application role cannot lower it
 * for itself; the per-request audit context is PGC_USERSET, meant for
 * SET LOCAL.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>

#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "common/argon2_limits.h"
#include "common/guc.h"

/* Least memory for new Argon2id hashes; the upper bounds are in argon2_limits.h. */
#define ORION_ARGON2_MIN_MEMORY_KIB	64

/* Longest user agent kept in the audit log, in bytes. */
#define ORION_USER_AGENT_MAX_BYTES	1024

/* Longest textual IP address (an IPv4-mapped IPv6 address), as in the seed. */
#define ORION_IP_MAX_CHARS			45

int			orion_argon2_memory_kib = 19456;
int			orion_argon2_iterations = 2;
int			orion_argon2_parallelism = 1;
int			orion_password_min_length = 8;
int			orion_password_max_bytes = 1024;

int			orion_access_token_ttl = 15 * 60;
int			orion_refresh_token_ttl = 7 * 24 * 60 * 60;
int			orion_refresh_reuse_interval = 10;

int			orion_max_failed_logins = 5;
int			orion_lockout_duration = 15 * 60;

int			orion_maintenance_naptime = 60;
int			orion_maintenance_batch_delay = 0;
int			orion_maintenance_batch_size = ORION_DEFAULT_BATCH_SIZE;
char	   *orion_maintenance_databases = NULL;
int			orion_revoked_token_retention = 7 * 24 * 60 * 60;
int			orion_read_notification_retention = 0;
int			orion_audit_retention = 0;

int			orion_user_delete_notifications = ORION_USER_DELETE_NOTIFICATIONS_DELETE;
bool		orion_enforce_user_references = true;

static const struct config_enum_entry user_delete_notifications_options[] = {
	{"delete", ORION_USER_DELETE_NOTIFICATIONS_DELETE, false},
	{"anonymize", ORION_USER_DELETE_NOTIFICATIONS_ANONYMIZE, false},
	{"anonymise", ORION_USER_DELETE_NOTIFICATIONS_ANONYMIZE, true},
	{NULL, 0, false}
};

char	   *orion_actor_id = NULL;
char	   *orion_client_ip = NULL;
char	   *orion_client_user_agent = NULL;

static bool CheckActorId(char **newval, void **extra, GucSource source);
static bool CheckClientIp(char **newval, void **extra, GucSource source);
static bool CheckClientUserAgent(char **newval, void **extra, GucSource source);
static bool CheckDatabaseList(char **newval, void **extra, GucSource source);

/*
 * Define every orion.* setting, then reserve the prefix. Reserving it turns
 * a misspelt orion.* name (in postgresql.conf, ALTER SYSTEM, SET) into an
 * error instead of a placeholder that silently does nothing.
 */
void
OrionGucInit(void)
{
	DefineCustomIntVariable("orion.argon2_memory_kib",
							"Memory cost of new Argon2id password hashes.",
							"OWASP's minimum is 19 MiB (19456 kB).",
							&orion_argon2_memory_kib,
							19456,
							ORION_ARGON2_MIN_MEMORY_KIB,
							ORION_ARGON2_MAX_MEMORY_KIB,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.argon2_iterations",
							"Time cost (passes over memory) of new Argon2id password hashes.",
							NULL,
							&orion_argon2_iterations,
							2,
							1,
							ORION_ARGON2_MAX_ITERATIONS,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.argon2_parallelism",
							"Lanes of new Argon2id password hashes.",
							"Lanes are computed one after another in the backend; the setting "
							"changes the hash, not the number of threads.",
							&orion_argon2_parallelism,
							1,
							1,
							ORION_ARGON2_MAX_PARALLELISM,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.password_min_length",
							"Fewest characters a new password may have.",
							NULL,
							&orion_password_min_length,
							8,
							1,
							1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.password_max_bytes",
							"Most bytes a password may have.",
							"Longer passwords are refused rather than hashed, so that a "
							"huge input cannot be used to waste server time.",
							&orion_password_max_bytes,
							1024,
							72,
							1024 * 1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.access_token_ttl",
							"Lifetime of an access (session) token.",
							NULL,
							&orion_access_token_ttl,
							15 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.refresh_token_ttl",
							"Lifetime of a refresh token.",
							NULL,
							&orion_refresh_token_ttl,
							7 * 24 * 60 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.refresh_reuse_interval",
							"How long a rotated refresh token may be presented again.",
							"Within it, a second refresh with the same token (two tabs at "
							"once) gets a fresh token; after it, reuse revokes the session.",
							&orion_refresh_reuse_interval,
							10,
							0,
							60 * 60,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.max_failed_logins",
							"Failed logins in a row that lock an account (0: never lock).",
							NULL,
							&orion_max_failed_logins,
							5,
							0,
							1000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.lockout_duration",
							"How long a locked account stays locked.",
							NULL,
							&orion_lockout_duration,
							15 * 60,
							1,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("orion.actor_id",
							   "Who acts, for the audit log: a user id (uuid), or empty.",
							   "Set it per request with SET LOCAL.",
							   &orion_actor_id,
							   "",
							   PGC_USERSET,
							   0,
							   CheckActorId, NULL, NULL);

	DefineCustomStringVariable("orion.client_ip",
							   "The client's IP address, for the audit log and new sessions.",
							   "Set it per request with SET LOCAL.",
							   &orion_client_ip,
							   "",
							   PGC_USERSET,
							   0,
							   CheckClientIp, NULL, NULL);

	DefineCustomStringVariable("orion.client_user_agent",
							   "The client's user agent, for the audit log and new sessions.",
							   "Set it per request with SET LOCAL.",
							   &orion_client_user_agent,
							   "",
							   PGC_USERSET,
							   0,
							   CheckClientUserAgent, NULL, NULL);

	DefineCustomEnumVariable("orion.user_delete_notifications",
							 "What becomes of a deleted user's notifications: delete or anonymize.",
							 "anonymize keeps them, without the user's id and metadata, for counts.",
							 &orion_user_delete_notifications,
							 ORION_USER_DELETE_NOTIFICATIONS_DELETE,
							 user_delete_notifications_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("orion.enforce_user_references",
							 "Refuse notifications and AB assignments for users that do not exist.",
							 "Turn off only where the users live in another database.",
							 &orion_enforce_user_references,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("orion.maintenance_naptime",
							"Time between two maintenance passes of the background worker.",
							NULL,
							&orion_maintenance_naptime,
							60, 1, 24 * 60 * 60,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.maintenance_batch_delay",
							"Pause between two batches of a maintenance pass.",
							"Leaves the application CPU and I/O during a long purge, "
							"as autovacuum's cost delay does; 0: no pause.",
							&orion_maintenance_batch_delay,
							0, 0, 10000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.maintenance_batch_size",
							"Rows the background worker removes per batch, each batch a transaction.",
							"Smaller batches with orion.maintenance_batch_delay throttle a long purge "
							"more evenly; the SQL functions take batch_size as an argument.",
							&orion_maintenance_batch_size,
							ORION_DEFAULT_BATCH_SIZE, 1, ORION_MAX_BATCH_SIZE,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("orion.maintenance_databases",
							   "Databases the maintenance worker serves, comma-separated.",
							   "Empty: none. Needs orion in shared_preload_libraries.",
							   &orion_maintenance_databases,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   CheckDatabaseList, NULL, NULL);

	DefineCustomIntVariable("orion.revoked_token_retention",
							"How long expired or revoked refresh tokens are kept before maintenance removes them.",
							"While kept, a revoked token presented again is recognised as reuse.",
							&orion_revoked_token_retention,
							7 * 24 * 60 * 60, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.read_notification_retention",
							"How long read notifications are kept before maintenance removes them; 0 keeps them.",
							NULL,
							&orion_read_notification_retention,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("orion.audit_retention",
							"How long audit entries are kept before maintenance removes them; 0 keeps them.",
							NULL,
							&orion_audit_retention,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

}

/*
 * After every service has defined its settings: from now on an unknown
 * orion.* name is refused instead of becoming a placeholder. Settings
 * defined after it would lose a value set in postgresql.conf.
 */
void
OrionGucReservePrefix(void)
{
	MarkGUCPrefixReserved(ORION_GUC_PREFIX);
}

/*
 * orion.maintenance_databases: a list of names, as search_path is (quote a
 * name with capitals or commas). At most ORION_MAX_MAINTENANCE_DATABASES.
 */
static bool
CheckDatabaseList(char **newval, void **extra, GucSource source)
{
	char	   *copy;
	List	   *names;
	bool		ok;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	copy = pstrdup(*newval);
	ok = SplitIdentifierString(copy, ',', &names);
	if (!ok)
		GUC_check_errdetail("orion.maintenance_databases must be a comma-separated list of database names.");
	else if (list_length(names) > ORION_MAX_MAINTENANCE_DATABASES)
	{
		GUC_check_errdetail("orion.maintenance_databases names at most %d databases.",
							ORION_MAX_MAINTENANCE_DATABASES);
		ok = false;
	}
	list_free(names);
	pfree(copy);
	return ok;
}

/* orion.actor_id: empty, or a uuid in its usual 8-4-4-4-12 form. */
static bool
CheckActorId(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	int			i;

	if (s == NULL || s[0] == '\0')
		return true;

	for (i = 0; i < 36; i++)
	{
		bool		dash = (i == 8 || i == 13 || i == 18 || i == 23);

		if (s[i] == '\0' ||
			(dash ? s[i] != '-' : !isxdigit((unsigned char) s[i])))
			break;
	}
	if (i == 36 && s[36] == '\0')
		return true;

	GUC_check_errdetail("orion.actor_id must be empty or a uuid such as 2f1c6c9e-8a53-4a4e-9c1e-4b3f0e8d9a10.");
	return false;
}

/* orion.client_ip: empty, or what an IPv4 or IPv6 address is made of. */
static bool
CheckClientIp(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;

	if (s == NULL || s[0] == '\0')
		return true;

	if (OrionLooksLikeIpAddress(s))
		return true;

	GUC_check_errdetail("orion.client_ip must be empty or an IPv4 or IPv6 address of at most %d characters.",
						ORION_IP_MAX_CHARS);
	return false;
}

/* orion.client_user_agent: anything up to a bound. */
static bool
CheckClientUserAgent(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || strlen(*newval) <= ORION_USER_AGENT_MAX_BYTES)
		return true;

	GUC_check_errdetail("orion.client_user_agent must be at most %d bytes.",
						ORION_USER_AGENT_MAX_BYTES);
	return false;
}

/*
 * Whether s is an IPv4 address in dotted-quad form or an IPv6 address, as
 * inet_pton reads them, fitting the seed's varchar(45).
 */
bool
OrionLooksLikeIpAddress(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	size_t		len = strlen(s);

	return len > 0 && len <= ORION_IP_MAX_CHARS &&
		(inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1);
}
