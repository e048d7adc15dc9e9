/*-------------------------------------------------------------------------
 *
 * password.h
 *	  Password hashing (Argon2id) and verification (Argon2id, bcrypt).
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/auth/password.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_PASSWORD_H
#define ORION_PASSWORD_H

/*
 * Refuse a password longer than orion.password_max_bytes, and a new one
 * shorter than orion.password_min_length characters.
 */
extern void OrionPasswordCheckLength(const char *password, size_t len, bool is_new);

/* A new Argon2id PHC string at the current settings, palloc'd. */
extern char *OrionPasswordHash(const char *password, size_t len);

/*
 * Whether password matches hash. A hash orion cannot read (unknown format,
 * malformed, costs out of bounds) is an ERROR, not a mismatch.
 */
extern bool OrionPasswordVerify(const char *password, size_t len,
								const char *hash, size_t hashlen);

/* Whether hash is anything but Argon2id at the current settings. */
extern bool OrionPasswordNeedsRehash(const char *hash, size_t hashlen);

/*
 * Spend what verifying password against a hash at the current settings
 * costs, for a login whose email matched no account.
 */
extern void OrionPasswordDummyVerify(const char *password, size_t len);

#endif							/* ORION_PASSWORD_H */
