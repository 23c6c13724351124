/*
 * kube.h - a small Kubernetes REST client on the core HTTP client (reconcile/http.h) and
 * cJSON: configuration (in-cluster or a kubeconfig), plain requests, paginated LIST, a
 * streaming WATCH, and an informer (list + watch + cache) per resource.
 *
 * Conventions followed (../shared/K8S.md, client-go 1.20):
 *   - in-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (IPv6
 *     bracketed), the projected token re-read about every minute and after a 401, the
 *     service account's CA and namespace files;
 *   - outside: a kubeconfig ($KUBECONFIG or --kubeconfig; the current context; users with
 *     a token, a tokenFile, or a client certificate and key, inline `-data` or files;
 *     clusters with certificate-authority(-data)). TLS verification is never off.
 *   - LIST with limit=500 and continue; WATCH with allowWatchBookmarks=true and a random
 *     timeoutSeconds in [300, 600]; re-watch from the last resourceVersion; relist on HTTP
 *     410 and on an ERROR event with code 410 (both forms of "too old"); back off on 429
 *     and 5xx. resourceVersions are opaque strings compared only for equality.
 *   - Secrets are read only by name (GET), never listed.
 *
 * Thread safety: one struct zw_kube serves every thread (the HTTP client is thread-safe;
 * the token is guarded by a mutex). An informer runs its own thread.
 * No global mutable state.
 */
#ifndef ZW_KUBE_H
#define ZW_KUBE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "reconcile/error.h"
#include "reconcile/http.h"

struct zw_kube_config {
	char *server;	  /* "https://127.0.0.1:6443", no trailing slash */
	char *token;	  /* bearer token, or NULL */
	char *token_file; /* re-read about every minute and after a 401; or NULL */
	char *ca_file;	  /* CA bundle path (inline data is written to a private temp file) */
	char *cert_file;  /* client certificate (PEM), or NULL */
	char *key_file;	  /* client key (PEM), or NULL */
	char *namespace;  /* the context's (or the pod's) namespace; "default" when unset */
	int in_cluster;
	/* set by the caller, not the file: one attempt per request, bounded by this many ms
	 * (the Lease's client: a renewal must fail fast, not retry past the renew deadline);
	 * 0: the HTTP client's defaults (30 s, 4 retries) */
	long single_attempt_ms;
	char *tmpdir; /* private: where inline -data was written; removed by _free */
};

/* Load the configuration. kubeconfig: a path, or NULL for $KUBECONFIG, then the
 * in-cluster files, then ~/.kube/config. A one-line error names the file and what is
 * wrong (file:line:col when the YAML itself is bad). */
int zw_kube_config_load(struct zw_kube_config *out, const char *kubeconfig, struct zw_error *err);
void zw_kube_config_free(struct zw_kube_config *c);

struct zw_kube;

/* hooks: NULL for the real ones (see http.h); the client registers the token as a
 * secret for redaction. */
int zw_kube_new(struct zw_kube **out, const struct zw_kube_config *cfg, const struct zw_http_hooks *hooks,
		struct zw_error *err);
void zw_kube_free(struct zw_kube *k);
/* The configuration's namespace (borrowed). */
const char *zw_kube_namespace(const struct zw_kube *k);

/*
 * One request. path starts with "/" ("/apis/zonewarden.dev/v1alpha1/namespaces/ns/
 * maildomains/x/status"); content_type NULL means application/json. A 401 re-reads the
 * token file once and retries. Returns 0 on 2xx; otherwise the http.h code (ZW_ENOTFOUND
 * for 404 and 410, ZW_ECONFLICT for 409, ZW_EAUTH for 401/403, ...) with resp holding
 * the answer (a metav1.Status body) and err one line with the Status message.
 * *out (when out is not NULL) gets the parsed body on success.
 */
int zw_kube_request(struct zw_kube *k, const char *method, const char *path, const char *content_type,
		    const cJSON *body, cJSON **out, long *status, struct zw_error *err);

/* Shorthands. Patches: "application/merge-patch+json" and "application/json-patch+json". */
int zw_kube_get(struct zw_kube *k, const char *path, cJSON **out, struct zw_error *err);
int zw_kube_merge_patch(struct zw_kube *k, const char *path, const cJSON *patch, cJSON **out,
			struct zw_error *err);
int zw_kube_json_patch(struct zw_kube *k, const char *path, const cJSON *ops, cJSON **out,
		       struct zw_error *err);

/*
 * A GET whose 2xx body is streamed to s->on_data (a WATCH): the same URL, headers, token
 * refresh and 401 retry as zw_kube_request, one attempt otherwise (zw_http_stream). On a
 * non-2xx answer err gets the Status message and *status the HTTP status.
 */
int zw_kube_stream(struct zw_kube *k, const char *path, const struct zw_http_stream *s, long *status,
		   struct zw_error *err);

/*
 * A paginated LIST of a collection path (no query): pages of `limit` (0: 500) with
 * `continue`, resourceVersion "" (a quorum read, served from etcd, so pages are honoured).
 * *items gets a cJSON array of every object, *rv (zw_malloc'd) the list's
 * resourceVersion, *pages (may be NULL) how many requests it took. An expired continue
 * token (410) is ZW_ENOTFOUND: start again.
 */
int zw_kube_list(struct zw_kube *k, const char *path, unsigned limit, cJSON **items, char **rv,
		 unsigned *pages, struct zw_error *err);

/*
 * A resource path into out: "/apis/<group>/<version>" (group NULL or "": "/api/<version>"),
 * then "/namespaces/<ns>" when ns is not NULL, "/<plural>", "/<name>" and "/<sub>" when
 * given. Every segment must be lower-case letters, digits, '-' or '.' (a DNS-1123 name),
 * else ZW_EINVAL; ZW_EINVAL too when out is too small.
 */
int zw_kube_path(char *out, size_t outsz, const char *group, const char *version, const char *ns,
		 const char *plural, const char *name, const char *sub);

/* ---- informer: list + watch + cache for one resource --------------------------------- */

enum zw_kube_event { ZW_KUBE_ADDED, ZW_KUBE_MODIFIED, ZW_KUBE_DELETED };

/* Called from the informer's thread for every change of the cache, after the cache is
 * updated; obj is borrowed for the call (zw_kube_informer_get returns a copy). key is
 * "namespace/name" (or "name" for cluster-scoped). After a relist, objects that vanished
 * get DELETED and the others MODIFIED only when their resourceVersion changed. */
typedef void zw_kube_handler(void *arg, enum zw_kube_event ev, const char *key, const cJSON *obj);

struct zw_kube_informer_opts {
	const char *path; /* collection: "/apis/zonewarden.dev/v1alpha1/maildomains" or
			   * ".../namespaces/ns/maildomains" */
	zw_kube_handler *handler;
	void *arg;
	unsigned limit;	      /* page size; 0: 500 */
	unsigned watch_min_s; /* 0: 300 */
	unsigned watch_max_s; /* 0: 600 */
	/* Called from the informer's thread when a LIST or WATCH fails with a message unlike
	 * the last one, and with "" when one succeeds again after failing (may be NULL). */
	void (*on_error)(void *arg, const char *msg);
	/* Called from the informer's thread when a watch expired (HTTP 410, or an ERROR event
	 * with 410 / Expired / Gone) and a relist follows; how says which form (may be NULL). */
	void (*on_relist)(void *arg, const char *how);
};

struct zw_kube_informer;

/* Start the thread (list, then watch forever). Every LIST is a quorum read
 * (resourceVersion "", pages of opts.limit), so the first one and every relist after a 410
 * see the latest state, as client-go relists after an expiry. Failures back off from
 * 0.4-0.8 s, doubling to 15-30 s, reset by a success. */
int zw_kube_informer_start(struct zw_kube_informer **out, struct zw_kube *k,
			   const struct zw_kube_informer_opts *o, struct zw_error *err);
/* Stop the thread (it is woken from a watch at once) and free the cache. NULL is fine. */
void zw_kube_informer_stop(struct zw_kube_informer *inf);
/* 1 once the first LIST has completed (the cache is synced), else 0. */
int zw_kube_informer_synced(struct zw_kube_informer *inf);
/* A deep copy of the cached object for key, or NULL. Caller frees with cJSON_Delete. */
cJSON *zw_kube_informer_get(struct zw_kube_informer *inf, const char *key);
/* Every cached key, sorted; *keys is zw_malloc'd, each string too (zw_strv_free). */
int zw_kube_informer_keys(struct zw_kube_informer *inf, char ***keys, size_t *n, struct zw_error *err);
void zw_strv_free(char **v, size_t n);
/* Statistics for tests and metrics: how many LISTs (relists included) and WATCHes were
 * started, and how many 410s were seen. */
struct zw_kube_informer_stats {
	unsigned long lists, watches, expired, events, bookmarks;
	unsigned long errors; /* failed LISTs and WATCHes (each followed by a backoff) */
};
void zw_kube_informer_stats(struct zw_kube_informer *inf, struct zw_kube_informer_stats *out);

/* ---- the watch stream's pieces (informer.c; exposed for the unit tests) --------------- */

/* Splits a byte stream into lines. */
struct zw_kube_lines {
	struct zw_buf buf; /* the unfinished line */
	size_t max;	   /* longest line; 0: 16 MiB */
};
#define ZW_KUBE_LINES_INIT                                                                                   \
	{                                                                                                    \
		ZW_BUF_INIT, 0                                                                               \
	}

/* Feed one chunk: on_line gets every complete line that is not blank (without its "\n"
 * or "\r\n"); a partial line waits for the next chunk. A non-zero return of on_line
 * stops the feed and is returned; a line over max is ZW_EINVAL, memory ZW_ENOMEM. */
int zw_kube_lines_feed(struct zw_kube_lines *l, const char *data, size_t len,
		       int (*on_line)(void *arg, const char *line, size_t len), void *arg);
void zw_kube_lines_free(struct zw_kube_lines *l);

enum zw_kube_watch_type {
	ZW_KUBE_W_ADDED,
	ZW_KUBE_W_MODIFIED,
	ZW_KUBE_W_DELETED,
	ZW_KUBE_W_BOOKMARK,
	ZW_KUBE_W_ERROR
};

/* One decoded watch event {"type": ..., "object": ...}. */
struct zw_kube_watch_event {
	enum zw_kube_watch_type type;
	cJSON *root;	     /* the whole line, owned */
	const cJSON *object; /* borrowed from root */
	const char *rv;	     /* object.metadata.resourceVersion (not for ERROR), borrowed */
	char *key;	     /* "ns/name" or "name" (ADDED, MODIFIED, DELETED), owned */
	long code;	     /* ERROR: the Status code (0 when absent) */
	const char *reason;  /* ERROR: the Status reason, or "" */
	const char *message; /* ERROR: the Status message, or "" */
	int expired;	     /* ERROR with code 410 or reason Expired or Gone: relist */
};

/* ZW_EINVAL (with a one-line err) for a line that is not a watch event: not JSON, an
 * unknown type, an object without metadata.name or resourceVersion. */
int zw_kube_watch_decode(struct zw_kube_watch_event *ev, const char *line, size_t len, struct zw_error *err);
void zw_kube_watch_event_free(struct zw_kube_watch_event *ev);

/* The cache key of an object: "namespace/name", or "name" without a namespace; NULL when
 * metadata.name is missing. zw_malloc'd. */
char *zw_kube_object_key(const cJSON *obj);

/* The WATCH path for a collection: path?watch=1&resourceVersion=RV&allowWatchBookmarks=true
 * &timeoutSeconds=T (RV percent-encoded; omitted when NULL or ""). zw_malloc'd, or NULL. */
char *zw_kube_watch_path(const char *path, const char *rv, unsigned timeout_s);

/* ---- leader election (lease.c) -------------------------------------------------------- */

struct zw_lease_opts {
	const char *namespace;
	const char *name;	    /* "zonewarden" */
	const char *identity;	    /* pod name + random suffix */
	unsigned duration_ms;	    /* 15000 */
	unsigned renew_deadline_ms; /* 10000; must be > 1.2 * retry_period */
	unsigned retry_period_ms;   /* 2000 */
	/* Called from the elector's thread when leadership starts and when it ends (renew
	 * deadline passed, a 409, or release). */
	void (*on_started)(void *arg);
	void (*on_stopped)(void *arg);
	/* Called from the elector's thread when a try fails with a message unlike the last
	 * one (may be NULL): the controller logs it. */
	void (*on_error)(void *arg, const char *msg);
	void *arg;
	/* clock hooks for the unit tests; NULL: monotonic clock and nanosleep */
	uint64_t (*now_ms)(void *ctx);
	void (*sleep_ms)(void *ctx, uint64_t ms);
	void *clock_ctx;
};

struct zw_lease;

/* One tryAcquireOrRenew (K8S.md): *leader gets 1 when this identity holds the lease now. */
int zw_lease_try(struct zw_lease *l, int *leader, struct zw_error *err);
/* Start the elector thread: acquire loop (retry period, jitter 1.2), then renew loop. */
int zw_lease_start(struct zw_lease **out, struct zw_kube *k, const struct zw_lease_opts *o,
		   struct zw_error *err);
/* Create without a thread (for zw_lease_try in tests). */
int zw_lease_new(struct zw_lease **out, struct zw_kube *k, const struct zw_lease_opts *o,
		 struct zw_error *err);
/* 1 leader, 0 not, -1 not known yet (no try finished). */
int zw_lease_state(struct zw_lease *l);
/* Stop the thread; when leading, release (holderIdentity "", leaseDurationSeconds 1). */
void zw_lease_stop(struct zw_lease *l, int release);

/* ---- events (events.c) ---------------------------------------------------------------- */

struct zw_kube_ref {
	const char *api_version, *kind, *namespace, *name, *uid;
};

struct zw_events;

/* reporting_controller "zonewarden.dev/controller", instance the pod identity. */
int zw_events_new(struct zw_events **out, struct zw_kube *k, const char *reporting_controller,
		  const char *instance, struct zw_error *err);
void zw_events_free(struct zw_events *e);
/*
 * Record an event (type "Normal" or "Warning"; reason CamelCase; action CamelCase; note
 * one line, redacted, cut to 1 KiB). events.k8s.io/v1 first, core/v1 when the API group
 * is missing. The same (regarding uid, type, reason, action, note) within 10 minutes is
 * not created again: its series {count, lastObservedTime} is patched. Warnings are
 * rate-limited per object (a token bucket, burst 5, one per 30 s after); what is dropped is
 * counted. Errors are returned but callers may ignore them (events are best effort).
 */
int zw_events_record(struct zw_events *e, const struct zw_kube_ref *regarding, const char *type,
		     const char *reason, const char *action, const char *note, struct zw_error *err);
unsigned long zw_events_dropped(struct zw_events *e);

#endif
