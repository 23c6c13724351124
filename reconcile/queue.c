/*
 * queue.c - the controller's work queue (queue.h): client-go's dirty / processing / queue
 * sets, a delay heap for keys that become ready later, per-item exponential backoff and
 * one overall token bucket.
 *
 * Every key has one item in a chained hash table while it is queued, waiting, in progress
 * or remembered for its failures; an item with none of these is removed at once, so the
 * table holds only live keys and memory stays flat however many keys pass through.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/queue.h"

struct item {
	char *key;
	struct item *next_hash;
	struct item *next_fifo;
	int dirty;	   /* wants processing: in the FIFO unless processing */
	int processing;	   /* handed to a worker */
	uint64_t wait_at;  /* ready time when waiting, else 0 */
	unsigned failures; /* since the last forget */
	unsigned inheap;   /* delay-heap entries pointing here (stale ones included) */
	unsigned hash;
};

struct wait_entry {
	uint64_t at;
	struct item *it;
};

struct zw_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct zw_queue_opts o;
	struct item **buckets;
	size_t nbuckets, nitems;
	struct item *head, *tail; /* the FIFO of ready keys */
	size_t nfifo;
	struct wait_entry *heap; /* min-heap on at; stale entries skipped */
	size_t nheap, capheap;
	size_t nwaiting;
	double tokens;
	uint64_t refilled_at;
	int shut;
};

static uint64_t mono_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now(struct zw_queue *q)
{
	return q->o.now_ms(q->o.clock_ctx);
}

static unsigned hash_key(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int zw_queue_new(struct zw_queue **out, const struct zw_queue_opts *o, struct zw_error *err)
{
	struct zw_queue *q = zw_calloc(1, sizeof(*q));
	*out = NULL;
	if (!q)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (o)
		q->o = *o;
	if (!q->o.base_ms)
		q->o.base_ms = 5;
	if (!q->o.max_ms)
		q->o.max_ms = 1000u * 1000u;
	if (q->o.qps <= 0)
		q->o.qps = 10;
	if (!q->o.burst)
		q->o.burst = 100;
	if (!q->o.now_ms)
		q->o.now_ms = mono_ms;
	q->nbuckets = 256;
	if (!(q->buckets = zw_calloc(q->nbuckets, sizeof(*q->buckets)))) {
		zw_free(q);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	q->tokens = q->o.burst;
	q->refilled_at = now(q);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = q;
	return 0;
}

void zw_queue_free(struct zw_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nbuckets; i++)
		for (struct item *it = q->buckets[i], *next; it; it = next) {
			next = it->next_hash;
			zw_free(it->key);
			zw_free(it);
		}
	zw_free(q->buckets);
	zw_free(q->heap);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	zw_free(q);
}

/* ---- the item table ------------------------------------------------------------------- */

static struct item *find(struct zw_queue *q, const char *key, unsigned h)
{
	for (struct item *it = q->buckets[h % q->nbuckets]; it; it = it->next_hash)
		if (it->hash == h && strcmp(it->key, key) == 0)
			return it;
	return NULL;
}

static void grow(struct zw_queue *q)
{
	size_t n = q->nbuckets * 2;
	struct item **b = zw_calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < q->nbuckets; i++)
		for (struct item *it = q->buckets[i], *next; it; it = next) {
			next = it->next_hash;
			it->next_hash = b[it->hash % n];
			b[it->hash % n] = it;
		}
	zw_free(q->buckets);
	q->buckets = b;
	q->nbuckets = n;
}

static struct item *get_item(struct zw_queue *q, const char *key)
{
	unsigned h = hash_key(key);
	struct item *it = find(q, key, h);
	if (it)
		return it;
	if (!(it = zw_calloc(1, sizeof(*it))) || !(it->key = zw_strdup(key))) {
		zw_free(it);
		return NULL;
	}
	it->hash = h;
	it->next_hash = q->buckets[h % q->nbuckets];
	q->buckets[h % q->nbuckets] = it;
	if (++q->nitems > 2 * q->nbuckets)
		grow(q);
	return it;
}

/* Remove it when nothing refers to it any more. */
static void maybe_drop(struct zw_queue *q, struct item *it)
{
	if (it->dirty || it->processing || it->wait_at || it->failures || it->inheap)
		return;
	struct item **pp = &q->buckets[it->hash % q->nbuckets];
	while (*pp != it)
		pp = &(*pp)->next_hash;
	*pp = it->next_hash;
	q->nitems--;
	zw_free(it->key);
	zw_free(it);
}

/* ---- the ready FIFO and the delay heap -------------------------------------------------- */

static void push_fifo(struct zw_queue *q, struct item *it)
{
	it->next_fifo = NULL;
	if (q->tail)
		q->tail->next_fifo = it;
	else
		q->head = it;
	q->tail = it;
	q->nfifo++;
}

static struct item *pop_fifo(struct zw_queue *q)
{
	struct item *it = q->head;
	if (!it)
		return NULL;
	q->head = it->next_fifo;
	if (!q->head)
		q->tail = NULL;
	q->nfifo--;
	return it;
}

/* client-go's Add: once in the dirty set; not queued while processing. */
static void add_locked(struct zw_queue *q, struct item *it)
{
	if (it->wait_at) {
		/* wanted now: the later, delayed add is dropped (its heap entry goes stale) */
		it->wait_at = 0;
		q->nwaiting--;
	}
	if (it->dirty)
		return;
	it->dirty = 1;
	if (it->processing)
		return;
	push_fifo(q, it);
	pthread_cond_signal(&q->cv);
}

static int heap_push(struct zw_queue *q, uint64_t at, struct item *it)
{
	if (q->nheap == q->capheap) {
		size_t cap = q->capheap ? q->capheap * 2 : 64;
		struct wait_entry *h = zw_realloc(q->heap, cap * sizeof(*h));
		if (!h)
			return ZW_ENOMEM;
		q->heap = h;
		q->capheap = cap;
	}
	size_t i = q->nheap++;
	while (i > 0 && q->heap[(i - 1) / 2].at > at) {
		q->heap[i] = q->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->heap[i] = (struct wait_entry){at, it};
	it->inheap++;
	return 0;
}

static struct wait_entry heap_pop(struct zw_queue *q)
{
	struct wait_entry top = q->heap[0], last = q->heap[--q->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->nheap)
			break;
		if (c + 1 < q->nheap && q->heap[c + 1].at < q->heap[c].at)
			c++;
		if (q->heap[c].at >= last.at)
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->nheap)
		q->heap[i] = last;
	return top;
}

/* Move every waiting key whose time has come to the FIFO. Entries whose item was
 * re-scheduled earlier (wait_at differs) are stale and dropped. */
static void promote(struct zw_queue *q, uint64_t t)
{
	while (q->nheap && q->heap[0].at <= t) {
		struct wait_entry e = heap_pop(q);
		e.it->inheap--;
		if (e.it->wait_at != e.at) {
			maybe_drop(q, e.it); /* a stale entry was the last thing holding it */
			continue;
		}
		e.it->wait_at = 0;
		q->nwaiting--;
		add_locked(q, e.it);
	}
}

/* ---- adding ------------------------------------------------------------------------------ */

static int add_after_locked(struct zw_queue *q, const char *key, uint64_t delay_ms)
{
	struct item *it = get_item(q, key);
	if (!it)
		return ZW_ENOMEM;
	if (delay_ms == 0) {
		add_locked(q, it);
		return 0;
	}
	uint64_t at = now(q) + delay_ms;
	if (it->wait_at && it->wait_at <= at)
		return 0; /* already due earlier */
	if (heap_push(q, at, it)) {
		maybe_drop(q, it);
		return ZW_ENOMEM;
	}
	if (!it->wait_at)
		q->nwaiting++;
	it->wait_at = at;
	pthread_cond_signal(&q->cv);
	return 0;
}

int zw_queue_add(struct zw_queue *q, const char *key)
{
	return zw_queue_add_after(q, key, 0);
}

int zw_queue_add_after(struct zw_queue *q, const char *key, uint64_t delay_ms)
{
	pthread_mutex_lock(&q->mu);
	int rc = q->shut ? 0 : add_after_locked(q, key, delay_ms);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* The overall bucket: reserve one token, return how long until it is there. */
static uint64_t bucket_reserve(struct zw_queue *q)
{
	uint64_t t = now(q);
	q->tokens += (double)(t - q->refilled_at) * q->o.qps / 1000.0;
	if (q->tokens > q->o.burst)
		q->tokens = q->o.burst;
	q->refilled_at = t;
	q->tokens -= 1;
	return q->tokens >= 0 ? 0 : (uint64_t)ceil(-q->tokens * 1000.0 / q->o.qps);
}

int zw_queue_add_rate_limited(struct zw_queue *q, const char *key, uint64_t *delay)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = q->shut ? NULL : get_item(q, key);
	int rc = 0;
	uint64_t d = 0;
	if (it) {
		unsigned n = it->failures++;
		d = n >= 63 ? q->o.max_ms : q->o.base_ms << n;
		if (n >= 63 || d / q->o.base_ms != (1ull << n) || d > q->o.max_ms)
			d = q->o.max_ms;
		uint64_t b = bucket_reserve(q);
		if (b > d)
			d = b;
		rc = add_after_locked(q, key, d);
	} else if (!q->shut) {
		rc = ZW_ENOMEM;
	}
	pthread_mutex_unlock(&q->mu);
	if (delay)
		*delay = d;
	return rc;
}

void zw_queue_forget(struct zw_queue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = find(q, key, hash_key(key));
	if (it) {
		it->failures = 0;
		maybe_drop(q, it);
	}
	pthread_mutex_unlock(&q->mu);
}

unsigned zw_queue_failures(struct zw_queue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = find(q, key, hash_key(key));
	unsigned n = it ? it->failures : 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* ---- taking -------------------------------------------------------------------------------- */

long zw_queue_get(struct zw_queue *q, char **keys, size_t max, uint64_t timeout_ms)
{
	long n = 0;
	pthread_mutex_lock(&q->mu);
	uint64_t start = now(q);
	for (;;) {
		if (q->shut) {
			n = -1;
			break;
		}
		uint64_t t = now(q);
		promote(q, t);
		if (q->head)
			break;
		uint64_t waited = t - start;
		if (timeout_ms != UINT64_MAX && waited >= timeout_ms)
			break;
		uint64_t wait = timeout_ms == UINT64_MAX ? 60000 : timeout_ms - waited;
		if (q->nheap && q->heap[0].at - t < wait)
			wait = q->heap[0].at > t ? q->heap[0].at - t : 0;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	}
	while (n >= 0 && (size_t)n < max && q->head) {
		struct item *it = q->head;
		char *copy = zw_strdup(it->key);
		if (!copy)
			break; /* the key stays queued for the next get */
		pop_fifo(q);
		it->dirty = 0;
		it->processing = 1;
		keys[n++] = copy;
	}
	pthread_mutex_unlock(&q->mu);
	return n;
}

void zw_queue_done(struct zw_queue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = find(q, key, hash_key(key));
	if (it) {
		it->processing = 0;
		if (it->dirty && !q->shut) {
			push_fifo(q, it);
			pthread_cond_signal(&q->cv);
		} else {
			it->dirty = 0;
			maybe_drop(q, it);
		}
	}
	pthread_mutex_unlock(&q->mu);
}

size_t zw_queue_len(struct zw_queue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->nfifo + q->nwaiting;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void zw_queue_shutdown(struct zw_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->shut = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
