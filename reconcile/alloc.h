/*
 * alloc.h - the one allocation wrapper of zonewarden.
 *
 * Every allocation in the engine, the commands and the tests' code under test goes
 * through these functions, so that a test can make the Nth allocation fail and check
 * that nothing crashes or leaks (curl's torture tests, libgit2's failing allocator).
 * Raw malloc/calloc/realloc/strdup/free are banned elsewhere (make lint checks).
 */
#ifndef ZW_ALLOC_H
#define ZW_ALLOC_H

#include <stddef.h>

void *zw_malloc(size_t n);
void *zw_calloc(size_t count, size_t size);
void *zw_realloc(void *p, size_t n);
char *zw_strdup(const char *s);
char *zw_strndup(const char *s, size_t n);
void *zw_memdup(const void *p, size_t n);
void zw_free(void *p);

/*
 * Test hook: make allocation number `n` (counting from 1, from this call on) fail,
 * and every one after it succeed again. n = 0 switches injection off. The counter is
 * per thread. zw_alloc_count() returns how many allocations were made since the last
 * zw_alloc_fail_at() call, so a test can first count, then fail each in turn.
 */
void zw_alloc_fail_at(long n);
long zw_alloc_count(void);
int zw_alloc_failed(void);

#endif
