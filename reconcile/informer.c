/*
 * informer.c - list + watch + cache for one Kubernetes resource (see kube.h), the way
 * client-go's reflector does it: LIST (paginated), then WATCH from the list's
 * resourceVersion with bookmarks and a random timeout, re-watch from the last
 * resourceVersion when a watch ends, relist on "too old" (HTTP 410 or an ERROR event with
 * code 410), back off (exponential, capped, jittered) on any other failure.
 *
 * Owns: the thread, the cache (a sorted array of {key, object}; the objects are the
 * parsed API objects), the last resourceVersion, the statistics and the cancellation
 * token that wakes a blocked watch. The mutex guards the cache, the flags and the
 * statistics; only the informer's thread changes the cache, and it never holds the mutex
 * while it calls the handler or waits on the network, so a handler may call
 * zw_kube_informer_get.
 *
 * Also here: the watch stream's pieces (the line splitter and the event decoder).
 */
#include "reconcile/kube.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "reconcile/alloc.h"

#define LINE_MAX_DEFAULT (16u * 1024 * 1024)
#define BACKOFF_BASE_MS	 800
#define BACKOFF_MAX_MS	 30000
#define QUICK_END_MS	 1000 /* a watch that ends sooner without an event is a failure */

/* ---- lines ------------------------------------------------------------------------------ */

void zw_kube_lines_free(struct zw_kube_lines *l)
{
	zw_buf_free(&l->buf);
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static int emit(const char *s, size_t n, int (*on_line)(void *, const char *, size_t), void *arg)
{
	if (n && s[n - 1] == '\r')
		n--;
	return is_blank(s, n) ? 0 : on_line(arg, s, n);
}

int zw_kube_lines_feed(struct zw_kube_lines *l, const char *data, size_t len,
		       int (*on_line)(void *arg, const char *line, size_t len), void *arg)
{
	size_t max = l->max ? l->max : LINE_MAX_DEFAULT;
	l->buf.max = max + 2;
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		if (l->buf.len + n > max)
			return ZW_EINVAL;
		if (!nl)
			return zw_buf_add(&l->buf, data, n);
		int rc;
		if (l->buf.len) {
			if ((rc = zw_buf_add(&l->buf, data, n)))
				return rc;
			rc = emit(l->buf.p, l->buf.len, on_line, arg);
			zw_buf_reset(&l->buf);
		} else {
			rc = emit(data, n, on_line, arg);
		}
		if (rc)
			return rc;
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* ---- events ------------------------------------------------------------------------------- */

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

char *zw_kube_object_key(const cJSON *obj)
{
	const char *name = str_at(obj, "metadata", "name"), *ns = str_at(obj, "metadata", "namespace");
	if (!name || !*name)
		return NULL;
	if (!ns || !*ns)
		return zw_strdup(name);
	struct zw_buf b = ZW_BUF_INIT;
	if (zw_buf_addf(&b, "%s/%s", ns, name)) {
		zw_buf_free(&b);
		return NULL;
	}
	return zw_buf_detach(&b);
}

void zw_kube_watch_event_free(struct zw_kube_watch_event *ev)
{
	cJSON_Delete(ev->root);
	zw_free(ev->key);
	memset(ev, 0, sizeof(*ev));
}

static const struct {
	const char *name;
	enum zw_kube_watch_type type;
} watch_types[] = {
	{"ADDED", ZW_KUBE_W_ADDED},	  {"MODIFIED", ZW_KUBE_W_MODIFIED}, {"DELETED", ZW_KUBE_W_DELETED},
	{"BOOKMARK", ZW_KUBE_W_BOOKMARK}, {"ERROR", ZW_KUBE_W_ERROR},
};

/* Set err, then free ev (msg's arguments may point into it). */
static int refuse(struct zw_kube_watch_event *ev, struct zw_error *err, int code, const char *what,
		  const char *type)
{
	if (code == ZW_ENOMEM)
		zw_error_set(err, ZW_ENOMEM, "out of memory");
	else
		zw_error_set(err, code, "kube watch: a %s event %s", type, what);
	zw_kube_watch_event_free(ev);
	return code;
}

int zw_kube_watch_decode(struct zw_kube_watch_event *ev, const char *line, size_t len, struct zw_error *err)
{
	const char *type;
	size_t i;
	memset(ev, 0, sizeof(*ev));
	if (!(ev->root = cJSON_ParseWithLength(line, len)))
		return zw_error_set(err, ZW_EINVAL, "kube watch: an event is not json");
	type = str_at(ev->root, "type", NULL);
	ev->object = cJSON_GetObjectItemCaseSensitive(ev->root, "object");
	for (i = 0; type && i < sizeof(watch_types) / sizeof(watch_types[0]); i++)
		if (strcmp(type, watch_types[i].name) == 0)
			break;
	if (!type || i == sizeof(watch_types) / sizeof(watch_types[0]))
		return refuse(ev, err, ZW_EINVAL, "of unknown type", "watch");
	type = watch_types[i].name; /* static from here on */
	if (!cJSON_IsObject(ev->object))
		return refuse(ev, err, ZW_EINVAL, "without an object", type);
	ev->type = watch_types[i].type;
	if (ev->type == ZW_KUBE_W_ERROR) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(ev->object, "code");
		const char *reason = str_at(ev->object, "reason", NULL),
			   *msg = str_at(ev->object, "message", NULL);
		ev->code = cJSON_IsNumber(code) ? (long)code->valuedouble : 0;
		ev->reason = reason ? reason : "";
		ev->message = msg ? msg : "";
		ev->expired = ev->code == 410 || strcmp(ev->reason, "Expired") == 0 ||
			      strcmp(ev->reason, "Gone") == 0;
		return 0;
	}
	ev->rv = str_at(ev->object, "metadata", "resourceVersion");
	if (!ev->rv || !*ev->rv)
		return refuse(ev, err, ZW_EINVAL, "without a resourceVersion", type);
	if (ev->type == ZW_KUBE_W_BOOKMARK)
		return 0;
	if (!(ev->key = zw_kube_object_key(ev->object)))
		return refuse(ev, err, str_at(ev->object, "metadata", "name") ? ZW_ENOMEM : ZW_EINVAL,
			      "without a name", type);
	return 0;
}

/* ---- the cache ---------------------------------------------------------------------------- */

struct entry {
	char *key;
	cJSON *obj;
};

struct cache {
	struct entry *e;
	size_t n, cap;
};

static void cache_free(struct cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		zw_free(c->e[i].key);
		cJSON_Delete(c->e[i].obj);
	}
	zw_free(c->e);
	memset(c, 0, sizeof(*c));
}

/* The index of key, or where it would go (*found 0). */
static size_t cache_find(const struct cache *c, const char *key, int *found)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(c->e[mid].key, key);
		if (d == 0) {
			*found = 1;
			return mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int cache_insert_at(struct cache *c, size_t i, char *key, cJSON *obj)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct entry *e = zw_realloc(c->e, cap * sizeof(*e));
		if (!e)
			return ZW_ENOMEM;
		c->e = e;
		c->cap = cap;
	}
	memmove(c->e + i + 1, c->e + i, (c->n - i) * sizeof(*c->e));
	c->e[i] = (struct entry){key, obj};
	c->n++;
	return 0;
}

static const char *rv_of(const cJSON *obj)
{
	const char *rv = str_at(obj, "metadata", "resourceVersion");
	return rv ? rv : "";
}

/* ---- the informer ------------------------------------------------------------------------- */

struct zw_kube_informer {
	struct zw_kube *k;
	char *path;
	zw_kube_handler *handler;
	void *arg;
	unsigned limit, wmin, wmax;
	pthread_t th;
	int started;
	struct zw_http_cancel *cancel;
	uint64_t rng; /* the thread's alone */
	char *rv;     /* the thread's alone */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, synced;
	struct cache cache;
	struct zw_kube_informer_stats st;
	void (*on_relist)(void *arg, const char *how);
	void (*on_error)(void *arg, const char *msg);
	char last_error[ZW_ERR_MSG_MAX]; /* what on_error was last told */
};

static int stopping(struct zw_kube_informer *inf)
{
	pthread_mutex_lock(&inf->mu);
	int s = inf->stop;
	pthread_mutex_unlock(&inf->mu);
	return s;
}

static uint32_t rnd(struct zw_kube_informer *inf)
{
	uint64_t x = inf->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	inf->rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Report a failure (or, with "", a recovery) when it differs from the last one told. */
static void tell(struct zw_kube_informer *inf, const char *msg)
{
	if (!inf->on_error || strcmp(inf->last_error, msg) == 0)
		return;
	snprintf(inf->last_error, sizeof(inf->last_error), "%s", msg);
	inf->on_error(inf->arg, msg);
}

/* Sleep the backoff for this many failures in a row, woken at once by a stop. */
static void backoff(struct zw_kube_informer *inf, unsigned failures)
{
	uint64_t cap = BACKOFF_BASE_MS;
	for (unsigned i = 0; i < failures && cap < BACKOFF_MAX_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	/* half fixed, half jitter: never a tight loop, never in lock step */
	uint64_t ms = cap / 2 + zw_http_backoff_ms(cap / 2, cap / 2, 0, rnd(inf));
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&inf->mu);
	while (!inf->stop && pthread_cond_timedwait(&inf->cv, &inf->mu, &ts) == 0)
		;
	pthread_mutex_unlock(&inf->mu);
}

static void count(struct zw_kube_informer *inf, unsigned long *field)
{
	pthread_mutex_lock(&inf->mu);
	(*field)++;
	pthread_mutex_unlock(&inf->mu);
}

static int set_rv(struct zw_kube_informer *inf, const char *rv)
{
	char *c = zw_strdup(rv);
	if (!c)
		return ZW_ENOMEM;
	zw_free(inf->rv);
	inf->rv = c;
	return 0;
}

/* A relist's result replaces the cache; then DELETED for what vanished, ADDED for what is
 * new, MODIFIED for what changed its resourceVersion. items is consumed. */
static int replace(struct zw_kube_informer *inf, cJSON *items)
{
	struct cache next = {0}, old;
	int rc = 0;
	while (cJSON_GetArraySize(items) > 0) {
		cJSON *obj = cJSON_DetachItemFromArray(items, 0);
		char *key = zw_kube_object_key(obj);
		int found;
		if (!key) {
			cJSON_Delete(obj);
			continue; /* no name: nothing can refer to it */
		}
		size_t i = cache_find(&next, key, &found);
		if (found) { /* a list never repeats a key; keep the later one */
			zw_free(key);
			cJSON_Delete(next.e[i].obj);
			next.e[i].obj = obj;
		} else if ((rc = cache_insert_at(&next, i, key, obj))) {
			zw_free(key);
			cJSON_Delete(obj);
			break;
		}
	}
	cJSON_Delete(items);
	if (rc) {
		cache_free(&next);
		return rc;
	}
	pthread_mutex_lock(&inf->mu);
	old = inf->cache;
	inf->cache = next;
	inf->synced = 1;
	pthread_mutex_unlock(&inf->mu);
	/* only this thread changes the cache: the objects stay valid during the calls */
	for (size_t i = 0; i < old.n; i++) {
		int found;
		cache_find(&next, old.e[i].key, &found);
		if (!found)
			inf->handler(inf->arg, ZW_KUBE_DELETED, old.e[i].key, old.e[i].obj);
	}
	for (size_t i = 0; i < next.n; i++) {
		int found;
		size_t j = cache_find(&old, next.e[i].key, &found);
		if (!found)
			inf->handler(inf->arg, ZW_KUBE_ADDED, next.e[i].key, next.e[i].obj);
		else if (strcmp(rv_of(old.e[j].obj), rv_of(next.e[i].obj)) != 0)
			inf->handler(inf->arg, ZW_KUBE_MODIFIED, next.e[i].key, next.e[i].obj);
	}
	cache_free(&old);
	return 0;
}

/* One watch event into the cache, then the handler. */
static int apply(struct zw_kube_informer *inf, struct zw_kube_watch_event *ev)
{
	int found, rc = 0, call = 1;
	enum zw_kube_event what = ZW_KUBE_ADDED;
	const char *key = ev->key; /* stays valid when the cache takes it over */
	cJSON *gone = NULL;
	const cJSON *shown = ev->object;
	pthread_mutex_lock(&inf->mu);
	size_t i = cache_find(&inf->cache, ev->key, &found);
	if (ev->type == ZW_KUBE_W_DELETED) {
		what = ZW_KUBE_DELETED;
		call = found;
		if (found) {
			gone = inf->cache.e[i].obj;
			zw_free(inf->cache.e[i].key);
			memmove(inf->cache.e + i, inf->cache.e + i + 1,
				(inf->cache.n - i - 1) * sizeof(*inf->cache.e));
			inf->cache.n--;
		}
	} else {
		/* whatever the server calls it, the cache decides between added and modified */
		cJSON *obj = cJSON_DetachItemFromObjectCaseSensitive(ev->root, "object");
		if (found) {
			what = ZW_KUBE_MODIFIED;
			cJSON_Delete(inf->cache.e[i].obj);
			inf->cache.e[i].obj = obj;
		} else if ((rc = cache_insert_at(&inf->cache, i, ev->key, obj)) == 0) {
			ev->key = NULL; /* the cache owns it now */
		} else {
			cJSON_Delete(obj);
			call = 0;
		}
		shown = obj;
	}
	inf->st.events++;
	pthread_mutex_unlock(&inf->mu);
	if (call)
		inf->handler(inf->arg, what, key, shown);
	cJSON_Delete(gone);
	return rc;
}

/* What one watch came to. */
struct watch {
	struct zw_kube_informer *inf;
	struct zw_kube_lines lines;
	int expired; /* a 410 ERROR event: relist */
	int failed;  /* another ERROR event or a bad line: back off, relist */
	int nomem;   /* cache update failed: relist */
	unsigned long seen;
};

static int on_line(void *arg, const char *line, size_t len)
{
	struct watch *w = arg;
	struct zw_kube_watch_event ev;
	struct zw_error err = {0};
	if (zw_kube_watch_decode(&ev, line, len, &err)) {
		w->failed = 1;
		return 1;
	}
	w->seen++;
	int stop = 0;
	switch (ev.type) {
	case ZW_KUBE_W_ERROR:
		if (ev.expired)
			w->expired = 1;
		else
			w->failed = 1;
		stop = 1;
		break;
	case ZW_KUBE_W_BOOKMARK:
		count(w->inf, &w->inf->st.bookmarks);
		if (set_rv(w->inf, ev.rv))
			w->nomem = stop = 1;
		break;
	default:
		if (set_rv(w->inf, ev.rv) || apply(w->inf, &ev))
			w->nomem = stop = 1;
		break;
	}
	zw_kube_watch_event_free(&ev);
	return stop;
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct watch *w = ctx;
	if (stopping(w->inf))
		return 1;
	int rc = zw_kube_lines_feed(&w->lines, data, len, on_line, w);
	if (rc < 0)
		w->failed = 1;
	return rc != 0;
}

static void *run(void *arg)
{
	struct zw_kube_informer *inf = arg;
	unsigned failures = 0;
	int need_list = 1;
	while (!stopping(inf)) {
		struct zw_error err = {0};
		if (need_list) {
			cJSON *items = NULL;
			char *rv = NULL;
			count(inf, &inf->st.lists);
			/* resourceVersion "": a quorum read, as client-go relists after an expiry */
			int rc = zw_kube_list(inf->k, inf->path, inf->limit, &items, &rv, NULL, &err);
			if (!rc && (rc = replace(inf, items)) == 0) {
				zw_free(inf->rv);
				inf->rv = rv;
				rv = NULL;
			}
			zw_free(rv);
			if (rc) {
				count(inf, &inf->st.errors);
				tell(inf, err.msg);
				backoff(inf, failures++);
				continue;
			}
			tell(inf, "");
			need_list = 0;
			failures = 0;
		}
		unsigned span = inf->wmax > inf->wmin ? inf->wmax - inf->wmin : 0;
		unsigned timeout = inf->wmin + (span ? rnd(inf) % (span + 1) : 0);
		char *path = zw_kube_watch_path(inf->path, inf->rv, timeout);
		if (!path) {
			backoff(inf, failures++);
			continue;
		}
		struct watch w = {inf, ZW_KUBE_LINES_INIT, 0, 0, 0, 0};
		struct zw_http_stream s = {on_data, &w, inf->cancel, (long)(timeout + 30) * 1000};
		long status = 0;
		uint64_t t0 = mono_ms();
		count(inf, &inf->st.watches);
		int rc = zw_kube_stream(inf->k, path, &s, &status, &err);
		zw_free(path);
		zw_kube_lines_free(&w.lines);
		if (stopping(inf))
			break;
		if (w.expired || status == 410) {
			/* both forms of "too old": relist at once */
			count(inf, &inf->st.expired);
			if (inf->on_relist)
				inf->on_relist(inf->arg, status == 410 ? "http 410" : "error event 410");
			need_list = 1;
			failures = 0;
		} else if (w.failed || w.nomem) {
			count(inf, &inf->st.errors);
			need_list = 1;
			backoff(inf, failures++);
		} else if (rc) {
			/* 429, 5xx, 403, transport: the resourceVersion is still good */
			count(inf, &inf->st.errors);
			tell(inf, err.msg);
			backoff(inf, failures++);
		} else if (!w.seen && mono_ms() - t0 < QUICK_END_MS) {
			backoff(inf, failures++);
		} else {
			failures = 0; /* a watch that timed out: again from the last resourceVersion */
		}
	}
	return NULL;
}

int zw_kube_informer_start(struct zw_kube_informer **out, struct zw_kube *k,
			   const struct zw_kube_informer_opts *o, struct zw_error *err)
{
	struct zw_kube_informer *inf = NULL;
	pthread_condattr_t ca;
	int rc;
	*out = NULL;
	if (!o->path || o->path[0] != '/' || strchr(o->path, '?') || !o->handler)
		return zw_error_set(err, ZW_EINVAL,
				    "kube informer: a collection path and a handler are needed");
	if (!(inf = zw_calloc(1, sizeof(*inf))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	inf->k = k;
	inf->handler = o->handler;
	inf->arg = o->arg;
	inf->on_error = o->on_error;
	inf->on_relist = o->on_relist;
	inf->limit = o->limit ? o->limit : 500;
	inf->wmin = o->watch_min_s ? o->watch_min_s : 300;
	inf->wmax = o->watch_max_s ? o->watch_max_s : 600;
	if (inf->wmax < inf->wmin)
		inf->wmax = inf->wmin;
	if (getrandom(&inf->rng, sizeof(inf->rng), GRND_NONBLOCK) != (ssize_t)sizeof(inf->rng))
		inf->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)inf;
	inf->rng |= 1;
	if (!(inf->path = zw_strdup(o->path))) {
		zw_free(inf);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	if ((rc = zw_http_cancel_new(&inf->cancel, err))) {
		zw_free(inf->path);
		zw_free(inf);
		return rc;
	}
	pthread_mutex_init(&inf->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&inf->th, NULL, run, inf) != 0) {
		zw_kube_informer_stop(inf);
		return zw_error_set(err, ZW_EIO, "kube informer: cannot start a thread");
	}
	inf->started = 1;
	*out = inf;
	return 0;
}

void zw_kube_informer_stop(struct zw_kube_informer *inf)
{
	if (!inf)
		return;
	pthread_mutex_lock(&inf->mu);
	inf->stop = 1;
	pthread_cond_broadcast(&inf->cv);
	pthread_mutex_unlock(&inf->mu);
	zw_http_cancel_fire(inf->cancel);
	if (inf->started)
		pthread_join(inf->th, NULL);
	cache_free(&inf->cache);
	zw_http_cancel_free(inf->cancel);
	pthread_cond_destroy(&inf->cv);
	pthread_mutex_destroy(&inf->mu);
	zw_free(inf->rv);
	zw_free(inf->path);
	zw_free(inf);
}

int zw_kube_informer_synced(struct zw_kube_informer *inf)
{
	pthread_mutex_lock(&inf->mu);
	int s = inf->synced;
	pthread_mutex_unlock(&inf->mu);
	return s;
}

cJSON *zw_kube_informer_get(struct zw_kube_informer *inf, const char *key)
{
	int found;
	cJSON *copy = NULL;
	pthread_mutex_lock(&inf->mu);
	size_t i = cache_find(&inf->cache, key, &found);
	if (found)
		copy = cJSON_Duplicate(inf->cache.e[i].obj, 1);
	pthread_mutex_unlock(&inf->mu);
	return copy;
}

int zw_kube_informer_keys(struct zw_kube_informer *inf, char ***keys, size_t *n, struct zw_error *err)
{
	char **v = NULL;
	size_t i = 0;
	*keys = NULL;
	*n = 0;
	pthread_mutex_lock(&inf->mu);
	size_t total = inf->cache.n;
	if (total && !(v = zw_calloc(total, sizeof(*v))))
		goto nomem;
	for (; i < total; i++)
		if (!(v[i] = zw_strdup(inf->cache.e[i].key)))
			goto nomem;
	pthread_mutex_unlock(&inf->mu);
	*keys = v;
	*n = total;
	return 0;
nomem:
	pthread_mutex_unlock(&inf->mu);
	zw_strv_free(v, i);
	return zw_error_set(err, ZW_ENOMEM, "out of memory");
}

void zw_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		zw_free(v[i]);
	zw_free(v);
}

void zw_kube_informer_stats(struct zw_kube_informer *inf, struct zw_kube_informer_stats *out)
{
	pthread_mutex_lock(&inf->mu);
	*out = inf->st;
	pthread_mutex_unlock(&inf->mu);
}
