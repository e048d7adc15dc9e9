/*-------------------------------------------------------------------------
 *
 * key_memo.c
 *	  Remembering, per call site, which cached object a key argument names.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/key_memo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/key_memo.h"

OrionKeyMemo *
OrionKeyMemoCreate(MemoryContext mcxt)
{
	OrionKeyMemo *memo = MemoryContextAllocZero(mcxt, sizeof(OrionKeyMemo));

	memo->generation = PG_UINT64_MAX;
	return memo;
}

void
OrionKeyMemoSet(OrionKeyMemo *memo, uint64 generation, const text *key, void *value)
{
	int			keylen = VARSIZE_ANY_EXHDR(key);

	Assert(keylen <= ORION_KEY_MAX_BYTES);
	memo->generation = generation;
	memo->keylen = keylen;
	memcpy(memo->key, VARDATA_ANY(key), keylen);
	memo->value = value;
}

void
OrionKeyCString(const text *key, char *buf)
{
	int			keylen = VARSIZE_ANY_EXHDR(key);

	Assert(keylen <= ORION_KEY_MAX_BYTES);
	memcpy(buf, VARDATA_ANY(key), keylen);
	buf[keylen] = '\0';			/* text never holds a NUL byte */
}
