/*-------------------------------------------------------------------------
 *
 * shim.c
 *	  Backend services over libc, so that orion's server-side C files link
 *	  into a libFuzzer harness: memory, errors, StringInfo, List and
 *	  pg_strong_random. See shim.h for what each does and why.
 *
 * Written for the harnesses, not taken from PostgreSQL: only the types and
 * macros of the server headers (pg_config --includedir-server) are shared,
 * so the structures orion sees are laid out as in the server.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/shim.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"

#include "common/compat.h"
#include "shim.h"

/* ---- memory: one malloc per palloc, all freed by FuzzShimReset ---- */

MemoryContext CurrentMemoryContext = NULL;

static void **blocks = NULL;
static size_t nblocks = 0;
static size_t maxblocks = 0;

static void
Remember(void *p)
{
	if (nblocks == maxblocks)
	{
		maxblocks = maxblocks ? maxblocks * 2 : 256;
		blocks = realloc(blocks, maxblocks * sizeof(void *));
		if (blocks == NULL)
			abort();
	}
	blocks[nblocks++] = p;
}

/* The index of p among the live blocks; aborts if it is not one. */
static size_t
Find(void *p)
{
	size_t		i = nblocks;

	while (i-- > 0)
		if (blocks[i] == p)
			return i;
	fprintf(stderr, "shim: pfree/repalloc of %p, which palloc did not return (or was freed)\n", p);
	abort();
}

static void *
Alloc(Size size, bool zero)
{
	void	   *p;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	p = zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	Remember(p);
	return p;
}

void *
palloc(Size size)
{
	return Alloc(size, false);
}

void *
palloc0(Size size)
{
	return Alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return Alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return Alloc(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return Alloc(size, true);
}

void
pfree(void *pointer)
{
	size_t		i = Find(pointer);

	blocks[i] = blocks[--nblocks];
	free(pointer);
}

void *
repalloc(void *pointer, Size size)
{
	size_t		i = Find(pointer);
	void	   *p;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	p = realloc(pointer, size ? size : 1);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	blocks[i] = p;
	return p;
}

char *
pstrdup(const char *in)
{
	return pnstrdup(in, strlen(in));
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
psprintf(const char *fmt,...)
{
	size_t		len = 128;

	for (;;)
	{
		char	   *buf = palloc(len);
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = vsnprintf(buf, len, fmt, args);
		va_end(args);
		if (needed < 0)
			elog(ERROR, "vsnprintf failed");
		if ((size_t) needed < len)
			return buf;
		pfree(buf);
		len = (size_t) needed + 1;
	}
}

void
FuzzShimReset(void)
{
	while (nblocks > 0)
		free(blocks[--nblocks]);
}

size_t
FuzzShimLiveBlocks(void)
{
	return nblocks;
}

/* ---- errors: an ERROR longjmps to the innermost PG_TRY ---- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

static int	current_level;
static int	current_code;
static char last_error[1024];
static int	last_code;

bool
errstart(int elevel, const char *domain)
{
	/* below ERROR nothing happens: a WARNING is no outcome for a harness */
	if (elevel < ERROR)
		return false;
	current_level = elevel;
	current_code = ERRCODE_INTERNAL_ERROR;
	last_error[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	current_code = sqlerrcode;
	return 0;
}

static void
SetMessage(const char *fmt, va_list args)
{
	vsnprintf(last_error, sizeof(last_error), fmt, args);
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	SetMessage(fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	SetMessage(fmt, args);
	va_end(args);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	return 0;
}

int
errhint(const char *fmt,...)
{
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	last_code = current_code;
	if (current_level >= FATAL)
	{
		fprintf(stderr, "shim: FATAL or PANIC at %s:%d (%s): %s\n",
				filename, lineno, funcname, last_error);
		abort();
	}
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "shim: ERROR outside PG_TRY at %s:%d (%s): %s\n",
				filename, lineno, funcname, last_error);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "shim: ERROR re-thrown outside PG_TRY: %s\n", last_error);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

const char *
FuzzShimLastError(void)
{
	return last_error;
}

int
FuzzShimLastErrorCode(void)
{
	return last_code;
}

/* ---- StringInfo ---- */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 256;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	Size		want;

	if (needed < 0 || (Size) needed >= MaxAllocSize - (Size) str->len)
		elog(ERROR, "cannot enlarge string buffer containing %d bytes by %d more bytes",
			 str->len, needed);
	want = (Size) str->len + needed + 1;
	if (want <= (Size) str->maxlen)
		return;
	while (want > (Size) str->maxlen)
		str->maxlen = Min((Size) str->maxlen * 2, MaxAllocSize);
	str->data = repalloc(str->data, str->maxlen);
}

void
appendBinaryStringInfo(StringInfo str, OrionBinaryData data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, (int) strlen(s));
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	appendBinaryStringInfo(str, &ch, 1);
}

/* ---- List: lappend on PostgreSQL 15's array-based List ---- */

#define INITIAL_CELLS 4

List *
lappend(List *list, void *datum)
{
	if (list == NIL)
	{
		list = palloc(offsetof(List, initial_elements) + INITIAL_CELLS * sizeof(ListCell));
		list->type = T_List;
		list->length = 0;
		list->max_length = INITIAL_CELLS;
		list->elements = list->initial_elements;
	}
	else if (list->length == list->max_length)
	{
		ListCell   *cells = palloc(sizeof(ListCell) * list->max_length * 2);

		memcpy(cells, list->elements, sizeof(ListCell) * list->length);
		if (list->elements != list->initial_elements)
			pfree(list->elements);
		list->elements = cells;
		list->max_length *= 2;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

/* ---- pg_strong_random: the bytes the harness chose ---- */

static uint8 random_bytes[4096];
static size_t random_len = 0;
static size_t random_pos = 0;

void
FuzzShimSetRandom(const void *buf, size_t len)
{
	if (len > sizeof(random_bytes))
		len = sizeof(random_bytes);
	memcpy(random_bytes, buf, len);
	random_len = len;
	random_pos = 0;
}

bool
pg_strong_random(void *buf, size_t len)
{
	if (len > random_len - random_pos)
		return false;
	memcpy(buf, random_bytes + random_pos, len);
	random_pos += len;
	return true;
}
