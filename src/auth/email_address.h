/*-------------------------------------------------------------------------
 *
 * email_address.h
 *	  What orion accepts as an email address.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/email_address.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_EMAIL_ADDRESS_H
#define ORION_EMAIL_ADDRESS_H

/* The seed's column size of users.email. */
#define ORION_EMAIL_MAX_BYTES		255

/*
 * ERROR (22023) unless email (len bytes) can be an address: registration
 * refuses it, and the flows that start from an address answer the same for
 * every address, so refusing early tells nothing about who has an account.
 */
extern void OrionEmailCheck(const char *email, size_t len);

#endif							/* ORION_EMAIL_ADDRESS_H */
