/*
 * test_queue.c - unit tests of the controller's work queue (reconcile/queue.c) on a fake
 * clock: deduplication, a key in progress never handed out twice (dirty re-queue on done),
 * delays, per-item backoff 5 ms x 2^n capped, the overall token bucket, forget, batches,
 * shutdown waking a blocked worker, and many threads adding and taking at once.
 */
#include "tests/unit/unit.h"

#include <pthread.h>
#include <stdio.h>

#include "reconcile/queue.h"

static uint64_t fake_now(void *ctx)
{
	return *(uint64_t *)ctx;
}

static struct zw_queue *new_queue(uint64_t *clock)
{
	struct zw_queue_opts o = {.now_ms = fake_now, .clock_ctx = clock};
	struct zw_queue *q = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_queue_new(&q, &o, &err), 0);
	return q;
}

/* Take exactly one key without waiting; NULL when none is ready. */
static char *take(struct zw_queue *q)
{
	char *k = NULL;
	long n = zw_queue_get(q, &k, 1, 0);
	assert_true(n == 0 || n == 1);
	return n == 1 ? k : NULL;
}

/* Take the next key, which must be `want`, and finish it as a worker would. */
static void finish(struct zw_queue *q, const char *want)
{
	char *k = take(q);
	assert_non_null(k);
	assert_string_equal(k, want);
	zw_queue_done(q, k);
	zw_free(k);
}

static void dedup(void **state)
{
	(void)state;
	uint64_t clock = 1000;
	struct zw_queue *q = new_queue(&clock);
	assert_int_equal(zw_queue_add(q, "a"), 0);
	assert_int_equal(zw_queue_add(q, "b"), 0);
	assert_int_equal(zw_queue_add(q, "a"), 0);
	assert_int_equal(zw_queue_len(q), 2);
	finish(q, "a");
	finish(q, "b");
	assert_null(take(q));
	zw_queue_free(q);
}

static void in_progress_not_twice(void **state)
{
	(void)state;
	uint64_t clock = 1000;
	struct zw_queue *q = new_queue(&clock);
	zw_queue_add(q, "a");
	char *k = take(q);
	assert_string_equal(k, "a");
	/* added while in progress: marked dirty, not handed to a second worker */
	zw_queue_add(q, "a");
	zw_queue_add(q, "a");
	assert_null(take(q));
	zw_queue_done(q, k);
	zw_free(k);
	/* done: queued once more, exactly once */
	finish(q, "a");
	assert_null(take(q));
	zw_queue_free(q);
}

static void delays(void **state)
{
	(void)state;
	uint64_t clock = 1000;
	struct zw_queue *q = new_queue(&clock);
	zw_queue_add_after(q, "late", 500);
	zw_queue_add_after(q, "early", 100);
	assert_int_equal(zw_queue_len(q), 2);
	assert_null(take(q));
	clock += 100;
	finish(q, "early");
	assert_null(take(q));
	/* re-scheduling earlier wins; the stale later entry is skipped */
	zw_queue_add_after(q, "late", 50);
	clock += 50;
	finish(q, "late");
	clock += 1000;
	assert_null(take(q));
	assert_int_equal(zw_queue_len(q), 0);
	zw_queue_free(q);
}

/* A key re-scheduled earlier leaves a stale heap entry; the key is processed and
 * forgotten before the stale entry comes due: the item must outlive the entry (this was a
 * use-after-free found in review; run under ASan by make test-asan). */
static void stale_entry_outlives_item(void **state)
{
	(void)state;
	uint64_t clock = 1000;
	struct zw_queue *q = new_queue(&clock);
	zw_queue_add_after(q, "a", 500);
	zw_queue_add_after(q, "a", 50);
	clock += 50;
	char *k = take(q);
	assert_string_equal(k, "a");
	zw_queue_done(q, k);
	zw_queue_forget(q, k);
	zw_free(k);
	clock += 1000; /* the stale entry comes due: skipped, nothing queued */
	assert_null(take(q));
	assert_int_equal(zw_queue_len(q), 0);
	/* and the key still works */
	zw_queue_add(q, "a");
	finish(q, "a");
	zw_queue_free(q);
}

/* A key waiting for a delay and added now is queued once, counted once, and the delayed
 * add does not bring it back. */
static void add_now_cancels_delay(void **state)
{
	(void)state;
	uint64_t clock = 1000;
	struct zw_queue *q = new_queue(&clock);
	zw_queue_add_after(q, "a", 500);
	zw_queue_add(q, "a");
	assert_int_equal(zw_queue_len(q), 1);
	finish(q, "a");
	clock += 1000;
	assert_null(take(q));
	assert_int_equal(zw_queue_len(q), 0);
	zw_queue_free(q);
}

static void backoff_and_forget(void **state)
{
	(void)state;
	uint64_t clock = 1000, d = 0;
	struct zw_queue *q = new_queue(&clock);
	uint64_t want[] = {5, 10, 20, 40, 80, 160};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(zw_queue_add_rate_limited(q, "a", &d), 0);
		assert_int_equal(d, want[i]);
		clock += d;
		char *k = take(q);
		assert_string_equal(k, "a");
		zw_queue_done(q, k);
		zw_free(k);
	}
	assert_int_equal(zw_queue_failures(q, "a"), 6);
	zw_queue_forget(q, "a");
	assert_int_equal(zw_queue_failures(q, "a"), 0);
	assert_int_equal(zw_queue_add_rate_limited(q, "a", &d), 0);
	assert_int_equal(d, 5);
	/* the cap: 1000 s */
	for (int i = 0; i < 40; i++)
		zw_queue_add_rate_limited(q, "a", &d);
	assert_int_equal(d, 1000u * 1000u);
	zw_queue_free(q);
}

static void token_bucket(void **state)
{
	(void)state;
	uint64_t clock = 1000, d = 0;
	struct zw_queue *q = new_queue(&clock);
	char key[32];
	/* burst 100 at once: the per-item 5 ms decides */
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		zw_queue_add_rate_limited(q, key, &d);
		assert_int_equal(d, 5);
	}
	/* then 10 per second: 100 ms, 200 ms, ... */
	zw_queue_add_rate_limited(q, "x1", &d);
	assert_int_equal(d, 100);
	zw_queue_add_rate_limited(q, "x2", &d);
	assert_int_equal(d, 200);
	clock += 100; /* one token back, two owed: the third waits 200 ms */
	zw_queue_add_rate_limited(q, "x3", &d);
	assert_int_equal(d, 200);
	clock += 2000; /* twenty back: only the per-item delay again */
	zw_queue_add_rate_limited(q, "x4", &d);
	assert_int_equal(d, 5);
	zw_queue_free(q);
}

static void batches(void **state)
{
	(void)state;
	uint64_t clock = 1000;
	struct zw_queue *q = new_queue(&clock);
	char *keys[8];
	zw_queue_add(q, "a");
	zw_queue_add(q, "b");
	zw_queue_add(q, "c");
	long n = zw_queue_get(q, keys, 2, 0);
	assert_int_equal(n, 2);
	assert_string_equal(keys[0], "a");
	assert_string_equal(keys[1], "b");
	assert_int_equal(zw_queue_len(q), 1);
	for (long i = 0; i < n; i++) {
		zw_queue_done(q, keys[i]);
		zw_free(keys[i]);
	}
	n = zw_queue_get(q, keys, 8, 0);
	assert_int_equal(n, 1);
	zw_queue_done(q, keys[0]);
	zw_free(keys[0]);
	zw_queue_free(q);
}

static void *blocked_get(void *arg)
{
	char *k = NULL;
	long n = zw_queue_get(arg, &k, 1, UINT64_MAX);
	return (void *)(intptr_t)n;
}

static void shutdown_wakes(void **state)
{
	(void)state;
	struct zw_queue *q = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_queue_new(&q, NULL, &err), 0);
	pthread_t t;
	pthread_create(&t, NULL, blocked_get, q);
	zw_queue_shutdown(q);
	void *ret;
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, -1);
	assert_int_equal(zw_queue_add(q, "a"), 0); /* ignored after shutdown */
	char *k;
	assert_int_equal(zw_queue_get(q, &k, 1, 0), -1);
	zw_queue_free(q);
}

/* Many adders and takers: every key taken is in progress once at most. */
struct shared {
	struct zw_queue *q;
	pthread_mutex_t mu;
	int busy[16];
	int overlap;
	long taken;
};

static void *worker(void *arg)
{
	struct shared *s = arg;
	char *k;
	long n;
	while ((n = zw_queue_get(s->q, &k, 1, UINT64_MAX)) >= 0) {
		if (n == 0)
			continue;
		int i = k[0] - 'a';
		pthread_mutex_lock(&s->mu);
		if (s->busy[i]++)
			s->overlap = 1;
		s->taken++;
		pthread_mutex_unlock(&s->mu);
		zw_queue_add(s->q, k); /* dirty while in progress */
		pthread_mutex_lock(&s->mu);
		s->busy[i]--;
		pthread_mutex_unlock(&s->mu);
		zw_queue_done(s->q, k);
		zw_free(k);
		if (s->taken > 20000)
			zw_queue_shutdown(s->q);
	}
	return NULL;
}

static void threads(void **state)
{
	(void)state;
	struct shared s = {0};
	struct zw_error err = {0};
	pthread_mutex_init(&s.mu, NULL);
	assert_int_equal(zw_queue_new(&s.q, NULL, &err), 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &s);
	for (int i = 0; i < 16; i++) {
		char key[2] = {(char)('a' + i), 0};
		zw_queue_add(s.q, key);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(s.overlap, 0);
	assert_true(s.taken > 20000);
	zw_queue_free(s.q);
	pthread_mutex_destroy(&s.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dedup),	      cmocka_unit_test(in_progress_not_twice),
		cmocka_unit_test(delays),	      cmocka_unit_test(backoff_and_forget),
		cmocka_unit_test(token_bucket),	      cmocka_unit_test(batches),
		cmocka_unit_test(shutdown_wakes),     cmocka_unit_test(threads),
		cmocka_unit_test(stale_entry_outlives_item), cmocka_unit_test(add_now_cancels_delay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
