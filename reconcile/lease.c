/*
 * lease.c - leader election on a coordination.k8s.io/v1 Lease, client-go's
 * tryAcquireOrRenew and LeaderElector (K8S.md "Leader election").
 *
 * Owns: the elector (its options' strings, the observation of the lease, the last Lease
 * object written, the thread, a mutex and a condition variable for stop and state, a
 * private PRNG for the jitter).
 *
 * Invariants: expiry is judged only on local monotonic observation times; a write always
 * carries the resourceVersion of the object read (or last written) so a concurrent writer
 * gets a 409; on_started and on_stopped alternate, called only from the elector's thread;
 * the mutex is never held across a request, a sleep or a callback.
 */
#include "reconcile/lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"

struct zw_lease {
	struct zw_kube *k;
	struct zw_lease_opts o; /* resolved; strings owned */
	char *path;		/* .../leases/NAME */
	char *collection;	/* .../leases */
	struct zw_lease_observation obs;
	cJSON *last;			 /* the Lease object of our last successful write, for the release */
	char last_error[ZW_ERR_MSG_MAX]; /* the last try error reported through on_error */
	uint64_t rng;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state; /* -1 unknown, 0 not leader, 1 leader */
	int stop, release;
	int threaded;
	pthread_t th;
};

/* ---- the pure parts ----------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? zw_strdup(s) : NULL;
}

void zw_lease_record_free(struct zw_lease_record *r)
{
	if (!r)
		return;
	zw_free(r->holder);
	zw_free(r->acquire_time);
	zw_free(r->renew_time);
	memset(r, 0, sizeof(*r));
}

void zw_lease_observation_free(struct zw_lease_observation *o)
{
	if (!o)
		return;
	zw_free(o->raw);
	zw_lease_record_free(&o->rec);
	memset(o, 0, sizeof(*o));
}

static const char *jstr(const cJSON *obj, const char *key)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long jlong(const cJSON *obj, const char *key)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static int record_set(struct zw_lease_record *out, const char *holder, long duration_s, const char *acquire,
		      const char *renew, long transitions, struct zw_error *err)
{
	struct zw_lease_record r = {0};
	r.holder = zw_strdup(holder ? holder : "");
	r.acquire_time = dup_or_null(acquire);
	r.renew_time = dup_or_null(renew);
	r.duration_s = duration_s;
	r.transitions = transitions;
	if (!r.holder || (acquire && !r.acquire_time) || (renew && !r.renew_time)) {
		zw_lease_record_free(&r);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

int zw_lease_record_parse(struct zw_lease_record *out, const cJSON *spec, struct zw_error *err)
{
	memset(out, 0, sizeof(*out));
	if (spec && !cJSON_IsObject(spec))
		return zw_error_set(err, ZW_EINVAL, "lease spec is not an object");
	return record_set(out, jstr(spec, "holderIdentity"), jlong(spec, "leaseDurationSeconds"),
			  jstr(spec, "acquireTime"), jstr(spec, "renewTime"), jlong(spec, "leaseTransitions"),
			  err);
}

cJSON *zw_lease_record_json(const struct zw_lease_record *r)
{
	cJSON *s = cJSON_CreateObject();
	if (!s)
		return NULL;
	if (!cJSON_AddStringToObject(s, "holderIdentity", r->holder ? r->holder : "") ||
	    !cJSON_AddNumberToObject(s, "leaseDurationSeconds", (double)r->duration_s) ||
	    (r->acquire_time && !cJSON_AddStringToObject(s, "acquireTime", r->acquire_time)) ||
	    (r->renew_time && !cJSON_AddStringToObject(s, "renewTime", r->renew_time)) ||
	    !cJSON_AddNumberToObject(s, "leaseTransitions", (double)r->transitions)) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

/* The record's canonical bytes (client-go compares the raw JSON of the record). */
static char *record_raw(const struct zw_lease_record *r)
{
	struct zw_buf b = ZW_BUF_INIT;
	if (zw_buf_addf(&b, "%s\x1f%ld\x1f%s\x1f%s\x1f%ld", r->holder ? r->holder : "", r->duration_s,
			r->acquire_time ? r->acquire_time : "", r->renew_time ? r->renew_time : "",
			r->transitions) < 0) {
		zw_buf_free(&b);
		return NULL;
	}
	return zw_buf_detach(&b);
}

static int record_copy(struct zw_lease_record *out, const struct zw_lease_record *in, struct zw_error *err)
{
	return record_set(out, in->holder, in->duration_s, in->acquire_time, in->renew_time, in->transitions,
			  err);
}

int zw_lease_decide(enum zw_lease_verdict *out, struct zw_lease_observation *obs,
		    const struct zw_lease_record *read, const char *me, uint64_t duration_ms, uint64_t now_ms,
		    struct zw_error *err)
{
	char *raw = record_raw(read);
	if (!raw)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (!obs->raw || strcmp(obs->raw, raw) != 0) {
		struct zw_lease_record rec;
		int rc = record_copy(&rec, read, err);
		if (rc < 0) {
			zw_free(raw);
			return rc;
		}
		zw_free(obs->raw);
		zw_lease_record_free(&obs->rec);
		obs->raw = raw;
		obs->rec = rec;
		obs->observed_ms = now_ms;
	} else {
		zw_free(raw);
	}
	int mine = obs->rec.holder && strcmp(obs->rec.holder, me) == 0;
	if (read->holder && read->holder[0] && obs->observed_ms + duration_ms > now_ms && !mine)
		*out = ZW_LEASE_FOLLOW;
	else
		*out = mine ? ZW_LEASE_RENEW : ZW_LEASE_TAKEOVER;
	return 0;
}

int zw_lease_next(struct zw_lease_record *out, const struct zw_lease_record *read, enum zw_lease_verdict v,
		  const char *me, long duration_s, const char *now_micro, struct zw_error *err)
{
	if (v == ZW_LEASE_FOLLOW)
		return zw_error_set(err, ZW_EINVAL, "a follower writes no lease");
	if (!read)
		return record_set(out, me, duration_s, now_micro, now_micro, 0, err);
	if (v == ZW_LEASE_RENEW)
		return record_set(out, me, duration_s, read->acquire_time ? read->acquire_time : now_micro,
				  now_micro, read->transitions, err);
	return record_set(out, me, duration_s, now_micro, now_micro, read->transitions + 1, err);
}

int zw_lease_release_record(struct zw_lease_record *out, const struct zw_lease_record *cur,
			    const char *now_micro, struct zw_error *err)
{
	return record_set(out, "", 1, now_micro, now_micro, cur ? cur->transitions : 0, err);
}

int zw_lease_observe_own(struct zw_lease_observation *obs, const struct zw_lease_record *rec, uint64_t now_ms,
			 struct zw_error *err)
{
	struct zw_lease_record copy;
	int rc = record_copy(&copy, rec, err);
	if (rc < 0)
		return rc;
	zw_lease_record_free(&obs->rec);
	obs->rec = copy;
	obs->observed_ms = now_ms;
	return 0;
}

int zw_lease_opts_resolve(struct zw_lease_opts *out, const struct zw_lease_opts *in, struct zw_error *err)
{
	*out = *in;
	if (!out->duration_ms)
		out->duration_ms = ZW_LEASE_DEFAULT_DURATION_MS;
	if (!out->renew_deadline_ms)
		out->renew_deadline_ms = ZW_LEASE_DEFAULT_RENEW_MS;
	if (!out->retry_period_ms)
		out->retry_period_ms = ZW_LEASE_DEFAULT_RETRY_MS;
	if (!out->namespace || !out->namespace[0])
		return zw_error_set(err, ZW_EINVAL, "lease namespace is empty");
	if (!out->name || !out->name[0])
		return zw_error_set(err, ZW_EINVAL, "lease name is empty");
	if (!out->identity || !out->identity[0])
		return zw_error_set(err, ZW_EINVAL, "lease identity is empty");
	/* renew deadline > 1.2 * retry period, in integers */
	if ((uint64_t)out->renew_deadline_ms * 5 <= (uint64_t)out->retry_period_ms * 6)
		return zw_error_set(err, ZW_EINVAL,
				    "renew deadline %u ms must exceed 1.2 x retry period %u ms",
				    out->renew_deadline_ms, out->retry_period_ms);
	if (out->duration_ms <= out->renew_deadline_ms)
		return zw_error_set(err, ZW_EINVAL, "lease duration %u ms must exceed renew deadline %u ms",
				    out->duration_ms, out->renew_deadline_ms);
	return 0;
}

uint64_t zw_lease_jitter_ms(uint64_t period_ms, double factor, uint32_t rnd)
{
	return period_ms + (uint64_t)((double)rnd / 4294967296.0 * factor * (double)period_ms);
}

void zw_lease_microtime(char out[ZW_LEASE_MICROTIME_LEN], int64_t sec, long usec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	/* the moduli bound every field, so the output always fits (27 bytes) */
	snprintf(out, ZW_LEASE_MICROTIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%06luZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u, (unsigned long)usec % 1000000ul);
}

/* ---- clock and state ---------------------------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_ms(struct zw_lease *l)
{
	return l->o.now_ms ? l->o.now_ms(l->o.clock_ctx) : mono_ms();
}

static void wall_micro(char out[ZW_LEASE_MICROTIME_LEN])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	zw_lease_microtime(out, (int64_t)ts.tv_sec, ts.tv_nsec / 1000);
}

static uint32_t rnd32(struct zw_lease *l)
{
	/* xorshift64* */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return (uint32_t)((l->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void set_state(struct zw_lease *l, int s)
{
	pthread_mutex_lock(&l->mu);
	l->state = s;
	pthread_mutex_unlock(&l->mu);
}

int zw_lease_state(struct zw_lease *l)
{
	pthread_mutex_lock(&l->mu);
	int s = l->state;
	pthread_mutex_unlock(&l->mu);
	return s;
}

static int stopping(struct zw_lease *l)
{
	pthread_mutex_lock(&l->mu);
	int s = l->stop;
	pthread_mutex_unlock(&l->mu);
	return s;
}

/* Sleep ms or until stopped; 1 when stop was asked. */
static int wait_ms(struct zw_lease *l, uint64_t ms)
{
	if (l->o.sleep_ms) {
		if (stopping(l))
			return 1;
		l->o.sleep_ms(l->o.clock_ctx, ms);
		return stopping(l);
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT)
			break;
	}
	int s = l->stop;
	pthread_mutex_unlock(&l->mu);
	return s;
}

/* ---- one try ------------------------------------------------------------------------ */

static long duration_s(const struct zw_lease *l)
{
	return (long)((l->o.duration_ms + 999) / 1000);
}

/* Write rec into obj (a copy of the read object, or a new one) with method; on success
 * remember the answer and observe our own record. */
static int write_lease(struct zw_lease *l, const char *method, const char *path, cJSON *obj,
		       const struct zw_lease_record *rec, struct zw_error *err)
{
	cJSON *spec = zw_lease_record_json(rec);
	if (!spec)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(obj, "spec"))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, "spec", spec);
	else
		cJSON_AddItemToObject(obj, "spec", spec);
	cJSON *ans = NULL;
	long status = 0;
	int rc = zw_kube_request(l->k, method, path, NULL, obj, &ans, &status, err);
	if (rc < 0)
		return rc;
	rc = zw_lease_observe_own(&l->obs, rec, now_ms(l), err);
	if (rc < 0) {
		cJSON_Delete(ans);
		return rc;
	}
	cJSON_Delete(l->last);
	l->last = ans;
	return 0;
}

static int try_create(struct zw_lease *l, int *leader, struct zw_error *err)
{
	char now[ZW_LEASE_MICROTIME_LEN];
	wall_micro(now);
	struct zw_lease_record rec = {0};
	cJSON *obj = NULL;
	int rc = zw_lease_next(&rec, NULL, ZW_LEASE_TAKEOVER, l->o.identity, duration_s(l), now, err);
	if (rc < 0)
		goto out;
	obj = cJSON_CreateObject();
	cJSON *md = obj ? cJSON_AddObjectToObject(obj, "metadata") : NULL;
	if (!md || !cJSON_AddStringToObject(obj, "apiVersion", "coordination.k8s.io/v1") ||
	    !cJSON_AddStringToObject(obj, "kind", "Lease") ||
	    !cJSON_AddStringToObject(md, "name", l->o.name) ||
	    !cJSON_AddStringToObject(md, "namespace", l->o.namespace)) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	rc = write_lease(l, "POST", l->collection, obj, &rec, err);
	if (rc == ZW_ECONFLICT) { /* another candidate created it first */
		*leader = 0;
		set_state(l, 0);
		rc = 0;
	} else if (rc == 0) {
		*leader = 1;
		set_state(l, 1);
	}
out:
	cJSON_Delete(obj);
	zw_lease_record_free(&rec);
	return rc;
}

int zw_lease_try(struct zw_lease *l, int *leader, struct zw_error *err)
{
	cJSON *obj = NULL;
	long status = 0;
	struct zw_lease_record read = {0}, next = {0};
	enum zw_lease_verdict v;
	*leader = 0;
	int rc = zw_kube_request(l->k, "GET", l->path, NULL, NULL, &obj, &status, err);
	if (rc == ZW_ENOTFOUND && status == 404) {
		zw_error_clear(err);
		return try_create(l, leader, err);
	}
	if (rc < 0)
		goto out;
	rc = zw_lease_record_parse(&read, cJSON_GetObjectItemCaseSensitive(obj, "spec"), err);
	if (rc < 0)
		goto out;
	rc = zw_lease_decide(&v, &l->obs, &read, l->o.identity, l->o.duration_ms, now_ms(l), err);
	if (rc < 0)
		goto out;
	if (v == ZW_LEASE_FOLLOW) {
		set_state(l, 0);
		goto out;
	}
	char now[ZW_LEASE_MICROTIME_LEN];
	wall_micro(now);
	rc = zw_lease_next(&next, &read, v, l->o.identity, duration_s(l), now, err);
	if (rc < 0)
		goto out;
	rc = write_lease(l, "PUT", l->path, obj, &next, err);
	if (rc == ZW_ECONFLICT) /* someone wrote between our read and our write: lost */
		set_state(l, 0);
	else if (rc == 0) {
		*leader = 1;
		set_state(l, 1);
	}
out:
	zw_lease_record_free(&read);
	zw_lease_record_free(&next);
	cJSON_Delete(obj);
	return rc;
}

/* PUT the release on the last object we wrote (its resourceVersion: a 409 means someone
 * else wrote since, and then there is nothing of ours to release). */
static int release(struct zw_lease *l, struct zw_error *err)
{
	if (!l->last)
		return 0;
	char now[ZW_LEASE_MICROTIME_LEN];
	wall_micro(now);
	struct zw_lease_record rec = {0};
	int rc = zw_lease_release_record(&rec, &l->obs.rec, now, err);
	if (rc == 0) {
		cJSON *obj = cJSON_Duplicate(l->last, 1);
		rc = obj ? write_lease(l, "PUT", l->path, obj, &rec, err)
			 : zw_error_set(err, ZW_ENOMEM, "out of memory");
		cJSON_Delete(obj);
	}
	zw_lease_record_free(&rec);
	return rc;
}

/* ---- the elector -------------------------------------------------------------------- */

/* The renew loop: returns 1 when stopped while leading, 0 when leadership was lost. */
static int renew_loop(struct zw_lease *l)
{
	for (;;) {
		if (wait_ms(l, l->o.retry_period_ms))
			return 1;
		uint64_t start = now_ms(l);
		for (;;) {
			int leader = 0;
			struct zw_error e = {0};
			int rc = zw_lease_try(l, &leader, &e);
			uint64_t t = now_ms(l);
			if (rc == 0 && leader) {
				if (t - start > l->o.renew_deadline_ms)
					return 0; /* renewed, but later than the deadline */
				break;
			}
			if ((rc == 0 && !leader) || rc == ZW_ECONFLICT)
				return 0; /* another holds it, or wrote before us */
			if (t - start >= l->o.renew_deadline_ms)
				return 0;
			if (wait_ms(l, l->o.retry_period_ms))
				return 1;
			if (now_ms(l) - start >= l->o.renew_deadline_ms)
				return 0;
		}
	}
}

/*
 * How long a follower waits before its next try. While another holds the lease, every
 * retry period exactly (no jitter), and never past the moment the lease expires by our
 * observation: the dead holder's last renewal is seen at most a retry period late, and
 * the lease is taken the moment it expires, so a takeover after a crash is bounded by
 * duration + retry period (client-go's jittered poll can be 2.2 retry periods late). A
 * failed try, or the first, uses client-go's jitter (1.2) so replicas do not stampede.
 */
static uint64_t follow_wait_ms(struct zw_lease *l, int observed)
{
	uint64_t retry = l->o.retry_period_ms;
	if (!observed || !l->obs.rec.holder || !l->obs.rec.holder[0])
		return zw_lease_jitter_ms(retry, ZW_LEASE_JITTER, rnd32(l));
	uint64_t now = now_ms(l), expiry = l->obs.observed_ms + l->o.duration_ms;
	uint64_t until = expiry > now ? expiry - now + 1 : 1;
	return until < retry ? until : retry;
}

static void *elector(void *arg)
{
	struct zw_lease *l = arg;
	for (;;) {
		for (;;) {
			if (stopping(l))
				return NULL;
			int leader = 0;
			struct zw_error e = {0};
			int rc = zw_lease_try(l, &leader, &e);
			if (rc == 0 && leader)
				break;
			if (rc == 0)
				l->last_error[0] = '\0';
			else if (l->o.on_error && strcmp(l->last_error, e.msg) != 0) {
				snprintf(l->last_error, sizeof(l->last_error), "%s", e.msg);
				l->o.on_error(l->o.arg, e.msg);
			}
			if (wait_ms(l, follow_wait_ms(l, rc == 0)))
				return NULL;
		}
		if (l->o.on_started)
			l->o.on_started(l->o.arg);
		int stopped = renew_loop(l);
		if (stopped) {
			pthread_mutex_lock(&l->mu);
			int rel = l->release;
			pthread_mutex_unlock(&l->mu);
			struct zw_error e = {0};
			if (rel)
				release(l, &e);
		}
		set_state(l, 0);
		if (l->o.on_stopped)
			l->o.on_stopped(l->o.arg);
		if (stopped)
			return NULL;
	}
}

/* The lease's own strings and itself (what zw_lease_new allocates before any thread). */
static void lease_free(struct zw_lease *l)
{
	zw_free((char *)l->o.namespace);
	zw_free((char *)l->o.name);
	zw_free((char *)l->o.identity);
	zw_free(l->collection);
	zw_free(l->path);
	zw_free(l);
}

int zw_lease_new(struct zw_lease **out, struct zw_kube *k, const struct zw_lease_opts *o,
		 struct zw_error *err)
{
	struct zw_lease_opts r;
	int rc = zw_lease_opts_resolve(&r, o, err);
	if (rc < 0)
		return rc;
	struct zw_lease *l = zw_calloc(1, sizeof(*l));
	if (!l)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	l->k = k;
	l->o = r;
	l->state = -1;
	l->o.namespace = zw_strdup(r.namespace);
	l->o.name = zw_strdup(r.name);
	l->o.identity = zw_strdup(r.identity);
	struct zw_buf b = ZW_BUF_INIT;
	if (l->o.namespace &&
	    zw_buf_addf(&b, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", r.namespace) == 0)
		l->collection = zw_strdup(zw_buf_str(&b));
	if (l->collection && zw_buf_addf(&b, "/%s", r.name) == 0)
		l->path = zw_strdup(zw_buf_str(&b));
	zw_buf_free(&b);
	if (!l->o.namespace || !l->o.name || !l->o.identity || !l->collection || !l->path) {
		lease_free(l);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	if (getrandom(&l->rng, sizeof(l->rng), GRND_NONBLOCK) != (ssize_t)sizeof(l->rng) || !l->rng)
		l->rng = mono_ms() * 0x9E3779B97F4A7C15ULL + (uint64_t)(uintptr_t)l;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = l;
	return 0;
}

int zw_lease_start(struct zw_lease **out, struct zw_kube *k, const struct zw_lease_opts *o,
		   struct zw_error *err)
{
	struct zw_lease *l = NULL;
	int rc = zw_lease_new(&l, k, o, err);
	if (rc < 0)
		return rc;
	if (pthread_create(&l->th, NULL, elector, l) != 0) {
		zw_lease_stop(l, 0);
		return zw_error_set(err, ZW_EIO, "cannot start the leader election thread");
	}
	l->threaded = 1;
	*out = l;
	return 0;
}

void zw_lease_stop(struct zw_lease *l, int release_it)
{
	if (!l)
		return;
	if (l->threaded) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		l->release = release_it;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->th, NULL);
	} else if (release_it && l->state == 1) {
		struct zw_error e = {0};
		release(l, &e);
	}
	zw_lease_observation_free(&l->obs);
	cJSON_Delete(l->last);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	lease_free(l);
}
