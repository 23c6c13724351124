/*
 * alloc.c - the allocation wrapper (see alloc.h).
 *
 * Owns: the per-thread failure-injection counter, nothing else. The wrappers add no
 * header to the block, so memory from zw_malloc can be handed to libraries that call
 * free() (and the reverse is never done).
 */
#include "reconcile/alloc.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local long fail_at; /* 0: never fail */
static _Thread_local long count;   /* allocations since zw_alloc_fail_at() */
static _Thread_local int failed;   /* an injected failure happened */

void zw_alloc_fail_at(long n)
{
	fail_at = n;
	count = 0;
	failed = 0;
}

long zw_alloc_count(void)
{
	return count;
}

int zw_alloc_failed(void)
{
	return failed;
}

static int should_fail(void)
{
	count++;
	if (fail_at > 0 && count == fail_at) {
		failed = 1;
		return 1;
	}
	return 0;
}

void *zw_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *zw_calloc(size_t count_, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count_ ? count_ : 1, size ? size : 1);
}

void *zw_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void *zw_memdup(const void *p, size_t n)
{
	char *q = zw_malloc(n + 1);
	if (!q)
		return NULL;
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

char *zw_strndup(const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);
	return zw_memdup(s, end ? (size_t)(end - s) : n);
}

char *zw_strdup(const char *s)
{
	return s ? zw_memdup(s, strlen(s)) : NULL;
}

void zw_free(void *p)
{
	free(p);
}
