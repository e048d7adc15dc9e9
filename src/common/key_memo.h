/*-------------------------------------------------------------------------
 *
 * key_memo.h
 *	  Remembering, per call site, which cached object a key argument names.
 *
 * A query that calls flag_enabled or assign_variant for many rows passes
 * the same key every time. The call site keeps the key's bytes and what
 * it named in fn_extra, with the cache's generation: the next call with
 * the same key costs a memcmp instead of a copy and a hash lookup.
 *
 * The value is a pointer into one filling of the cache (table_cache.h), and
 * the memo does not keep that filling alive: a caller passes the generation
 * of the filling it has pinned for this call, so a value from any other
 * filling, freed or not, is never returned.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/key_memo.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_KEY_MEMO_H
#define ORION_KEY_MEMO_H

#include "common/compat.h"

/* flag and test keys are varchar(100): at most 400 bytes of UTF-8 */
#define ORION_KEY_MAX_BYTES 400

typedef struct OrionKeyMemo
{
	uint64		generation;		/* of the cache; PG_UINT64_MAX: nothing yet */
	void	   *value;			/* what the key named, maybe NULL */
	int			keylen;
	char		key[ORION_KEY_MAX_BYTES];
} OrionKeyMemo;

/* An empty memo in fn_extra-lifetime memory. */
extern OrionKeyMemo *OrionKeyMemoCreate(MemoryContext mcxt);

/*
 * Whether memo holds key for generation; if so *value is what it named.
 * key must be no longer than ORION_KEY_MAX_BYTES.
 */
static inline bool
OrionKeyMemoGet(const OrionKeyMemo *memo, uint64 generation, const text *key, void **value)
{
	int			keylen = VARSIZE_ANY_EXHDR(key);

	if (memo->generation != generation || memo->keylen != keylen ||
		memcmp(memo->key, VARDATA_ANY(key), keylen) != 0)
		return false;
	*value = memo->value;
	return true;
}

/* Remember that key names value in generation. */
extern void OrionKeyMemoSet(OrionKeyMemo *memo, uint64 generation, const text *key, void *value);

/* key, no longer than ORION_KEY_MAX_BYTES, as a C string in buf[ORION_KEY_MAX_BYTES + 1]. */
extern void OrionKeyCString(const text *key, char *buf);

#endif							/* ORION_KEY_MEMO_H */
