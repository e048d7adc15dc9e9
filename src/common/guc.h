/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The orion.* configuration settings.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_GUC_H
#define ORION_GUC_H

/* The prefix every orion setting carries, reserved once they are defined. */
#define ORION_GUC_PREFIX "orion"

/* passwords */
extern int	orion_argon2_memory_kib;
extern int	orion_argon2_iterations;
extern int	orion_argon2_parallelism;
extern int	orion_password_min_length;
extern int	orion_password_max_bytes;

/* sessions and tokens (seconds) */
extern int	orion_access_token_ttl;
extern int	orion_refresh_token_ttl;
extern int	orion_refresh_reuse_interval;

/* lockout */
extern int	orion_max_failed_logins;
extern int	orion_lockout_duration;

/* per-request context for the audit log; empty when not set */
extern char *orion_actor_id;
extern char *orion_client_ip;
extern char *orion_client_user_agent;

/* maintenance (durations in seconds; a retention of 0 keeps rows) */
/* orion.expire_sessions' default batch size, and the worker's by default */
#define ORION_DEFAULT_BATCH_SIZE 10000
#define ORION_MAX_BATCH_SIZE 1000000
#define ORION_MAX_MAINTENANCE_DATABASES 32
extern int	orion_maintenance_naptime;
extern int	orion_maintenance_batch_delay;
extern int	orion_maintenance_batch_size;
extern char *orion_maintenance_databases;
extern int	orion_revoked_token_retention;
extern int	orion_read_notification_retention;
extern int	orion_audit_retention;

/* cross-schema integrity */
typedef enum OrionUserDeleteNotifications
{
	ORION_USER_DELETE_NOTIFICATIONS_DELETE,
	ORION_USER_DELETE_NOTIFICATIONS_ANONYMIZE
} OrionUserDeleteNotifications;

extern int	orion_user_delete_notifications;
extern bool orion_enforce_user_references;

extern void OrionGucInit(void);

/* Reserve the orion. prefix; call once every service has defined its settings. */
extern void OrionGucReservePrefix(void);
extern bool OrionLooksLikeIpAddress(const char *s);

#endif							/* ORION_GUC_H */
