/*
 * queue.h - the controller's work queue, keyed by a string (a domain's key: "ns/name" in
 * a cluster, the domain name in file mode). client-go's rate-limited work queue
 * (K8S.md "Work queue"):
 *   - a key is queued at most once: adding a queued key does nothing;
 *   - a key being processed is never handed to a second worker: adding it marks it
 *     dirty, and zw_queue_done() queues it again;
 *   - zw_queue_add_rate_limited() waits max(per-item 5 ms x 2^failures capped,
 *     the overall token bucket's reservation) before the key is ready again;
 *     zw_queue_forget() resets the item's failures after a success;
 *   - zw_queue_add_after() makes a key ready after a delay (the resync jitter).
 * Thread-safe (one mutex, one condition variable); no global state. The clock is a hook
 * so the tests never sleep for real.
 */
#ifndef ZW_QUEUE_H
#define ZW_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "reconcile/error.h"

struct zw_queue_opts {
	uint64_t base_ms;	       /* per-item backoff base; 0: 5 */
	uint64_t max_ms;	       /* per-item backoff cap; 0: 1000 s */
	double qps;		       /* overall bucket rate; 0: 10 */
	unsigned burst;		       /* overall bucket size; 0: 100 */
	uint64_t (*now_ms)(void *ctx); /* NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
};

struct zw_queue;

int zw_queue_new(struct zw_queue **out, const struct zw_queue_opts *o, struct zw_error *err);
/* Frees every key still held; call after zw_queue_shutdown and after the workers ended. */
void zw_queue_free(struct zw_queue *q);

int zw_queue_add(struct zw_queue *q, const char *key);
int zw_queue_add_after(struct zw_queue *q, const char *key, uint64_t delay_ms);
/* Returns the delay chosen (ms) through *delay when not NULL. */
int zw_queue_add_rate_limited(struct zw_queue *q, const char *key, uint64_t *delay);
void zw_queue_forget(struct zw_queue *q, const char *key);
/* How many times key failed since it was last forgotten. */
unsigned zw_queue_failures(struct zw_queue *q, const char *key);

/*
 * Wait up to timeout_ms (0: do not wait; UINT64_MAX: forever) for a ready key, then take
 * it and up to max-1 more ready keys at once (a worker reconciles a batch on one
 * resolver). keys[i] are zw_malloc'd copies the caller frees after zw_queue_done().
 * Returns the number taken (0 on timeout), or -1 after zw_queue_shutdown().
 */
long zw_queue_get(struct zw_queue *q, char **keys, size_t max, uint64_t timeout_ms);
/* The worker finished key: a dirty key is queued again. */
void zw_queue_done(struct zw_queue *q, const char *key);
/* Keys queued or waiting (not the ones in progress). */
size_t zw_queue_len(struct zw_queue *q);
/* Wake every waiter; zw_queue_get returns -1 from then on. */
void zw_queue_shutdown(struct zw_queue *q);

#endif
