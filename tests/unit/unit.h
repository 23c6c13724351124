/*
 * unit.h - what every unit test program includes: cmocka and a few helpers.
 *
 * Each program in tests/unit/ tests one engine module and ends with cmocka's summary
 * line, which CI reads.
 */
#ifndef ZW_UNIT_H
#define ZW_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/alloc.h"

/*
 * Run `body` once to count its allocations, then once per allocation with that one
 * failing. `body` must return 0 on success or a negative error, and free everything it
 * allocated either way; run the program under ASan/valgrind to see leaks.
 */
#define ZW_FOR_EACH_ALLOC_FAILURE(body)                                                \
	do {                                                                           \
		zw_alloc_fail_at(0);                                                   \
		assert_int_equal((body), 0);                                           \
		long total_ = zw_alloc_count();                                        \
		for (long i_ = 1; i_ <= total_; i_++) {                                \
			zw_alloc_fail_at(i_);                                          \
			int rc_ = (body);                                              \
			int failed_ = zw_alloc_failed();                               \
			zw_alloc_fail_at(0);                                           \
			if (failed_ && rc_ == 0)                                       \
				fail_msg("allocation %ld of %ld failed but the call "  \
					 "reported success",                           \
					 i_, total_);                                  \
		}                                                                      \
	} while (0)

#endif
