/*
 * events.c - the event recorder: events.k8s.io/v1 Events (core/v1 when the API group is
 * missing), deduplicated into series, Warnings rate-limited per object (K8S.md "Events",
 * client-go's tools/events recorder and EventSourceObjectSpamFilter).
 *
 * Owns: the recorder (its strings, the cache of recent events and of the Warning token
 * buckets, both bounded, the count of dropped Warnings, a mutex) - never the client.
 *
 * Invariants: the mutex guards the cache, the counters and the API choice, and is never
 * held across a request; a note sent is redacted, one line and at most 1 KiB ending on a
 * UTF-8 boundary; an event's name is fixed before its POST, so a concurrent duplicate
 * patches the same object.
 */
#include "reconcile/events.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/http.h"
#include "reconcile/lease.h"

/* ---- the key, the note, the name --------------------------------------------------- */

char *zw_events_key(const char *uid, const char *type, const char *reason, const char *action,
		    const char *note)
{
	const char *f[5] = {uid, type, reason, action, note};
	struct zw_buf b = ZW_BUF_INIT;
	for (int i = 0; i < 5; i++) {
		const char *s = f[i] ? f[i] : "";
		if (zw_buf_addf(&b, "%zu:", strlen(s)) < 0 || zw_buf_adds(&b, s) < 0) {
			zw_buf_free(&b);
			return NULL;
		}
	}
	return zw_buf_detach(&b);
}

size_t zw_events_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	/* back over the continuation bytes at the cut, then the lead byte they belong to
	 * if its sequence does not fit entirely */
	size_t i = n;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

int zw_events_note(struct zw_buf *out, const char *note, struct zw_error *err)
{
	struct zw_buf r = ZW_BUF_INIT;
	int rc = zw_http_redact(&r, NULL, note ? note : "");
	if (rc < 0) {
		zw_buf_free(&r);
		return zw_error_set(err, rc, "out of memory");
	}
	char *p = r.p ? r.p : (char *)"";
	size_t len = r.len;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			p[i] = ' ';
	len = zw_events_utf8_cut(p, len, ZW_EVENTS_NOTE_MAX);
	rc = zw_buf_add(out, p, len);
	zw_buf_free(&r);
	return rc < 0 ? zw_error_set(err, rc, "out of memory") : 0;
}

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

int zw_events_name(struct zw_buf *out, const char *regarding_name, uint64_t stamp)
{
	size_t n = strlen(regarding_name);
	if (n > 253 - 17)
		n = 253 - 17;
	while (n > 0 && !alnum(regarding_name[n - 1]))
		n--;
	if (zw_buf_add(out, regarding_name, n) < 0 ||
	    zw_buf_addf(out, "%s%016llx", n ? "." : "", (unsigned long long)stamp) < 0)
		return ZW_ENOMEM;
	return 0;
}

/* ---- the cache ---------------------------------------------------------------------- */

struct series {
	char *key;
	uint32_t hash;
	char *name;
	unsigned count;
	uint64_t last_ms;
};

struct bucket {
	char *object;
	uint32_t hash;
	uint64_t level; /* tokens * ZW_EVENTS_REFILL_MS */
	uint64_t last_ms;
};

struct zw_events_cache {
	size_t max;
	struct series *s;
	size_t ns;
	struct bucket *b;
	size_t nb;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int zw_events_cache_new(struct zw_events_cache **out, size_t max_entries, struct zw_error *err)
{
	struct zw_events_cache *c = zw_calloc(1, sizeof(*c));
	if (c) {
		c->max = max_entries ? max_entries : ZW_EVENTS_CACHE_MAX;
		c->s = zw_calloc(c->max, sizeof(*c->s));
		c->b = zw_calloc(c->max, sizeof(*c->b));
	}
	if (!c || !c->s || !c->b) {
		zw_events_cache_free(c);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

void zw_events_cache_free(struct zw_events_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ns; i++) {
		zw_free(c->s[i].key);
		zw_free(c->s[i].name);
	}
	for (size_t i = 0; i < c->nb; i++)
		zw_free(c->b[i].object);
	zw_free(c->s);
	zw_free(c->b);
	zw_free(c);
}

void zw_events_cache_sizes(const struct zw_events_cache *c, size_t *series, size_t *buckets)
{
	*series = c->ns;
	*buckets = c->nb;
}

int zw_events_cache_allow(struct zw_events_cache *c, const char *object, uint64_t now_ms,
			  struct zw_error *err)
{
	const uint64_t full = (uint64_t)ZW_EVENTS_BURST * ZW_EVENTS_REFILL_MS;
	uint32_t h = fnv1a(object);
	struct bucket *b = NULL;
	for (size_t i = 0; i < c->nb; i++)
		if (c->b[i].hash == h && strcmp(c->b[i].object, object) == 0) {
			b = &c->b[i];
			break;
		}
	if (!b) {
		char *o = zw_strdup(object);
		if (!o)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		if (c->nb < c->max) {
			b = &c->b[c->nb++];
		} else { /* evict the least recently used */
			b = &c->b[0];
			for (size_t i = 1; i < c->nb; i++)
				if (c->b[i].last_ms < b->last_ms)
					b = &c->b[i];
			zw_free(b->object);
		}
		b->object = o;
		b->hash = h;
		b->level = full;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) { /* a clock going back refills nothing */
		uint64_t add = now_ms - b->last_ms;
		b->level = b->level + add > full ? full : b->level + add;
		b->last_ms = now_ms;
	}
	if (b->level < ZW_EVENTS_REFILL_MS)
		return 0;
	b->level -= ZW_EVENTS_REFILL_MS;
	return 1;
}

static struct series *series_find(struct zw_events_cache *c, const char *key, uint32_t h)
{
	for (size_t i = 0; i < c->ns; i++)
		if (c->s[i].hash == h && strcmp(c->s[i].key, key) == 0)
			return &c->s[i];
	return NULL;
}

int zw_events_cache_seen(struct zw_events_cache *c, const char *key, const char *name, uint64_t now_ms,
			 unsigned *count, char **name_out, struct zw_error *err)
{
	uint32_t h = fnv1a(key);
	struct series *s = series_find(c, key, h);
	*name_out = NULL;
	if (s && (now_ms <= s->last_ms || now_ms - s->last_ms < ZW_EVENTS_DEDUP_MS)) {
		char *n = zw_strdup(s->name);
		if (!n)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		s->count++;
		if (now_ms > s->last_ms)
			s->last_ms = now_ms;
		*count = s->count;
		*name_out = n;
		return 1;
	}
	char *k = s ? NULL : zw_strdup(key);
	char *n = zw_strdup(name);
	if ((!s && !k) || !n) {
		zw_free(k);
		zw_free(n);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	if (!s) {
		if (c->ns < c->max) {
			s = &c->s[c->ns++];
		} else {
			s = &c->s[0];
			for (size_t i = 1; i < c->ns; i++)
				if (c->s[i].last_ms < s->last_ms)
					s = &c->s[i];
			zw_free(s->key);
			zw_free(s->name);
		}
		s->key = k;
		s->hash = h;
	} else {
		zw_free(s->name);
	}
	s->name = n;
	s->count = 1;
	s->last_ms = now_ms;
	*count = 1;
	return 0;
}

void zw_events_cache_forget(struct zw_events_cache *c, const char *key)
{
	struct series *s = series_find(c, key, fnv1a(key));
	if (!s)
		return;
	zw_free(s->key);
	zw_free(s->name);
	*s = c->s[--c->ns];
	memset(&c->s[c->ns], 0, sizeof(c->s[c->ns]));
}

/* ---- the bodies --------------------------------------------------------------------- */

static int add_str(cJSON *o, const char *k, const char *v)
{
	return !v || !v[0] || cJSON_AddStringToObject(o, k, v) != NULL;
}

static cJSON *ref_json(const struct zw_kube_ref *r)
{
	cJSON *o = cJSON_CreateObject();
	if (o && add_str(o, "apiVersion", r->api_version) && add_str(o, "kind", r->kind) &&
	    add_str(o, "namespace", r->namespace) && add_str(o, "name", r->name) && add_str(o, "uid", r->uid))
		return o;
	cJSON_Delete(o);
	return NULL;
}

static cJSON *body_head(const struct zw_events_msg *m, const char *api_version, const char *ref_field)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *md = o ? cJSON_AddObjectToObject(o, "metadata") : NULL;
	cJSON *ref = ref_json(m->regarding);
	if (!md || !ref || !cJSON_AddStringToObject(o, "apiVersion", api_version) ||
	    !cJSON_AddStringToObject(o, "kind", "Event") || !add_str(md, "name", m->name) ||
	    !add_str(md, "namespace", m->namespace) || !cJSON_AddItemToObject(o, ref_field, ref)) {
		cJSON_Delete(ref);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *zw_events_body_v1(const struct zw_events_msg *m)
{
	cJSON *o = body_head(m, "events.k8s.io/v1", "regarding");
	if (o && add_str(o, "eventTime", m->now_micro) && add_str(o, "reportingController", m->controller) &&
	    add_str(o, "reportingInstance", m->instance) && add_str(o, "action", m->action) &&
	    add_str(o, "reason", m->reason) && add_str(o, "type", m->type) &&
	    cJSON_AddStringToObject(o, "note", m->note ? m->note : ""))
		return o;
	cJSON_Delete(o);
	return NULL;
}

cJSON *zw_events_body_core(const struct zw_events_msg *m)
{
	cJSON *o = body_head(m, "v1", "involvedObject");
	cJSON *src = o ? cJSON_AddObjectToObject(o, "source") : NULL;
	if (src && add_str(src, "component", m->controller) && add_str(o, "reason", m->reason) &&
	    cJSON_AddStringToObject(o, "message", m->note ? m->note : "") && add_str(o, "type", m->type) &&
	    add_str(o, "firstTimestamp", m->now_rfc3339) && add_str(o, "lastTimestamp", m->now_rfc3339) &&
	    cJSON_AddNumberToObject(o, "count", 1) && add_str(o, "action", m->action) &&
	    add_str(o, "reportingComponent", m->controller) && add_str(o, "reportingInstance", m->instance))
		return o;
	cJSON_Delete(o);
	return NULL;
}

/* ---- the recorder ------------------------------------------------------------------- */

struct zw_events {
	struct zw_kube *k;
	char *controller, *instance;
	pthread_mutex_t mu;
	struct zw_events_cache *cache;
	int core; /* 1 once events.k8s.io/v1 was found missing */
	unsigned long dropped;
	uint64_t stamp; /* the last name stamp (wall nanoseconds, strictly increasing) */
};

int zw_events_new(struct zw_events **out, struct zw_kube *k, const char *reporting_controller,
		  const char *instance, struct zw_error *err)
{
	if (!reporting_controller || !reporting_controller[0] || !instance || !instance[0])
		return zw_error_set(err, ZW_EINVAL, "events need a reporting controller and instance");
	struct zw_events *e = zw_calloc(1, sizeof(*e));
	if (!e)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	e->k = k;
	e->controller = zw_strdup(reporting_controller);
	/* reportingInstance is at most 128 bytes */
	e->instance = zw_strndup(instance, 128);
	int rc = (e->controller && e->instance) ? zw_events_cache_new(&e->cache, ZW_EVENTS_CACHE_MAX, err)
						: zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (rc < 0) {
		zw_free(e->controller);
		zw_free(e->instance);
		zw_free(e);
		return rc;
	}
	pthread_mutex_init(&e->mu, NULL);
	*out = e;
	return 0;
}

void zw_events_free(struct zw_events *e)
{
	if (!e)
		return;
	zw_events_cache_free(e->cache);
	pthread_mutex_destroy(&e->mu);
	zw_free(e->controller);
	zw_free(e->instance);
	zw_free(e);
}

unsigned long zw_events_dropped(struct zw_events *e)
{
	pthread_mutex_lock(&e->mu);
	unsigned long d = e->dropped;
	pthread_mutex_unlock(&e->mu);
	return d;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void times(char micro[ZW_LEASE_MICROTIME_LEN], char rfc[ZW_LEASE_MICROTIME_LEN], uint64_t *ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	zw_lease_microtime(micro, (int64_t)ts.tv_sec, ts.tv_nsec / 1000);
	/* RFC 3339 in seconds: the MicroTime without its fraction */
	snprintf(rfc, ZW_LEASE_MICROTIME_LEN, "%.19sZ", micro);
	*ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int events_path(struct zw_buf *b, int core, const char *ns, const char *name)
{
	int rc = core ? zw_buf_addf(b, "/api/v1/namespaces/%s/events", ns)
		      : zw_buf_addf(b, "/apis/events.k8s.io/v1/namespaces/%s/events", ns);
	if (rc == 0 && name)
		rc = zw_buf_addf(b, "/%s", name);
	return rc;
}

/* POST the event (v1, then core when the group is missing). */
static int create(struct zw_events *e, struct zw_events_msg *m, struct zw_error *err)
{
	pthread_mutex_lock(&e->mu);
	int core = e->core;
	pthread_mutex_unlock(&e->mu);
	for (;;) {
		struct zw_buf path = ZW_BUF_INIT;
		cJSON *body = core ? zw_events_body_core(m) : zw_events_body_v1(m);
		int rc = body && events_path(&path, core, m->namespace, NULL) == 0
				 ? 0
				 : zw_error_set(err, ZW_ENOMEM, "out of memory");
		long status = 0;
		if (rc == 0)
			rc = zw_kube_request(e->k, "POST", zw_buf_str(&path), NULL, body, NULL, &status, err);
		cJSON_Delete(body);
		zw_buf_free(&path);
		if (core || rc != ZW_ENOTFOUND || status != 404)
			return rc;
		/* a 404: the namespace, or the whole group? */
		long gstatus = 0;
		struct zw_error gerr = {0};
		int grc = zw_kube_request(e->k, "GET", "/apis/events.k8s.io/v1", NULL, NULL, NULL, &gstatus,
					  &gerr);
		if (!(grc == ZW_ENOTFOUND && gstatus == 404))
			return rc;
		zw_error_clear(err);
		core = 1;
		pthread_mutex_lock(&e->mu);
		e->core = 1;
		pthread_mutex_unlock(&e->mu);
	}
}

static int patch_series(struct zw_events *e, const struct zw_events_msg *m, const char *name, unsigned count,
			struct zw_error *err)
{
	pthread_mutex_lock(&e->mu);
	int core = e->core;
	pthread_mutex_unlock(&e->mu);
	struct zw_buf path = ZW_BUF_INIT;
	cJSON *p = cJSON_CreateObject();
	int ok;
	if (core) {
		ok = p && cJSON_AddNumberToObject(p, "count", count) &&
		     cJSON_AddStringToObject(p, "lastTimestamp", m->now_rfc3339);
	} else {
		cJSON *s = p ? cJSON_AddObjectToObject(p, "series") : NULL;
		ok = s && cJSON_AddNumberToObject(s, "count", count) &&
		     cJSON_AddStringToObject(s, "lastObservedTime", m->now_micro);
	}
	int rc = ok && events_path(&path, core, m->namespace, name) == 0
			 ? 0
			 : zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (rc == 0)
		rc = zw_kube_merge_patch(e->k, zw_buf_str(&path), p, NULL, err);
	cJSON_Delete(p);
	zw_buf_free(&path);
	return rc;
}

static int is_type(const char *t)
{
	return t && (strcmp(t, "Normal") == 0 || strcmp(t, "Warning") == 0);
}

int zw_events_record(struct zw_events *e, const struct zw_kube_ref *regarding, const char *type,
		     const char *reason, const char *action, const char *note, struct zw_error *err)
{
	if (!regarding || !regarding->name || !regarding->name[0] || !regarding->kind || !regarding->kind[0])
		return zw_error_set(err, ZW_EINVAL, "event needs a regarding object with kind and name");
	if (!is_type(type))
		return zw_error_set(err, ZW_EINVAL, "event type must be normal or warning");
	if (!reason || !reason[0] || strlen(reason) > 128 || !action || !action[0] || strlen(action) > 128)
		return zw_error_set(err, ZW_EINVAL, "event reason and action must have 1 to 128 bytes");

	struct zw_buf clean = ZW_BUF_INIT, name = ZW_BUF_INIT, obj = ZW_BUF_INIT;
	char *key = NULL, *existing = NULL;
	char micro[ZW_LEASE_MICROTIME_LEN], rfc[ZW_LEASE_MICROTIME_LEN];
	uint64_t ns;
	unsigned count = 0;
	int rc = zw_events_note(&clean, note, err);
	if (rc < 0)
		goto out;
	const char *uid = regarding->uid && regarding->uid[0] ? regarding->uid : NULL;
	if (zw_buf_addf(&obj, "%s/%s/%s", regarding->kind, regarding->namespace ? regarding->namespace : "",
			regarding->name) < 0) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	key = zw_events_key(uid ? uid : zw_buf_str(&obj), type, reason, action, zw_buf_str(&clean));
	if (!key) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	times(micro, rfc, &ns);

	pthread_mutex_lock(&e->mu);
	if (ns <= e->stamp)
		ns = e->stamp + 1;
	e->stamp = ns;
	rc = 1;
	if (strcmp(type, "Warning") == 0) {
		rc = zw_events_cache_allow(e->cache, uid ? uid : zw_buf_str(&obj), mono_ms(), err);
		if (rc == 0)
			e->dropped++;
	}
	if (rc == 1)
		rc = zw_events_name(&name, regarding->name, ns) < 0
			     ? zw_error_set(err, ZW_ENOMEM, "out of memory")
			     : zw_events_cache_seen(e->cache, key, zw_buf_str(&name), mono_ms(), &count,
						    &existing, err);
	else if (rc == 0)
		rc = 2; /* dropped */
	pthread_mutex_unlock(&e->mu);
	if (rc < 0)
		goto out;
	if (rc == 2) {
		rc = 0;
		goto out;
	}

	struct zw_events_msg m = {
		.regarding = regarding,
		.type = type,
		.reason = reason,
		.action = action,
		.note = zw_buf_str(&clean),
		.controller = e->controller,
		.instance = e->instance,
		.name = existing ? existing : zw_buf_str(&name),
		.namespace =
			regarding->namespace && regarding->namespace[0] ? regarding->namespace : "default",
		.now_micro = micro,
		.now_rfc3339 = rfc,
	};
	if (existing) {
		rc = patch_series(e, &m, existing, count, err);
		if (rc != ZW_ENOTFOUND)
			goto out;
		/* the event is gone (its TTL passed): start a new series */
		zw_error_clear(err);
		pthread_mutex_lock(&e->mu);
		zw_events_cache_forget(e->cache, key);
		zw_free(existing);
		existing = NULL;
		rc = zw_events_cache_seen(e->cache, key, zw_buf_str(&name), mono_ms(), &count, &existing,
					  err);
		pthread_mutex_unlock(&e->mu);
		if (rc < 0)
			goto out;
		m.name = zw_buf_str(&name);
	}
	rc = create(e, &m, err);
	if (rc < 0) {
		pthread_mutex_lock(&e->mu);
		zw_events_cache_forget(e->cache, key);
		pthread_mutex_unlock(&e->mu);
	}
out:
	zw_free(existing);
	zw_free(key);
	zw_buf_free(&clean);
	zw_buf_free(&name);
	zw_buf_free(&obj);
	return rc;
}
