/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  Entries of orion_auth.audit_logs.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/audit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_AUDIT_H
#define ORION_AUDIT_H

#include "utils/jsonb.h"
#include "utils/uuid.h"

typedef struct OrionAuditEntry
{
	const pg_uuid_t *user_id;	/* the actor; NULL: orion.actor_id, if set */
	const char *action;			/* e.g. "auth.login" */
	const char *resource;		/* e.g. "session" */
	const char *resource_id;	/* may be NULL */
	Jsonb	   *old_data;		/* may be NULL */
	Jsonb	   *new_data;		/* may be NULL */
	const char *ip_address;		/* NULL: orion.client_ip, if set */
	const char *user_agent;		/* NULL: orion.client_user_agent, if set */
} OrionAuditEntry;

/*
 * Insert one audit row and return its id, palloc'd in the current memory
 * context. SPI must be connected.
 */
extern pg_uuid_t *OrionAuditWrite(const OrionAuditEntry *entry);

/*
 * An entry about user_id's account (resource "user", its id the user's) by
 * actor (NULL: orion.actor_id, if set): what most sign-in and account
 * events are, mostly by the user themselves.
 */
extern void OrionAuditAboutUser(const pg_uuid_t *actor, const pg_uuid_t *user_id, const char *action,
								Jsonb *new_data, const char *ip, const char *agent);

/*
 * A flat JSON object from n keys and values, for an entry's old_data or
 * new_data. Each value is JSON text already: a number, true or false, or a
 * string made with OrionJsonString(); NULL stands for JSON null.
 */
extern Jsonb *OrionJsonObject(int n, const char *const *keys, const char *const *values);

/* s as a JSON string literal, quoted and escaped, palloc'd. */
extern char *OrionJsonString(const char *s);

/* The uuid's text form, palloc'd. */
extern char *OrionUuidText(const pg_uuid_t *uuid);

#endif							/* ORION_AUDIT_H */
