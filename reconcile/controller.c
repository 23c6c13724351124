/*
 * controller.c - `zonewarden run` (controller.h): the sources, the work queue, the
 * workers, leadership, the endpoints and the signals.
 *
 * Threads: the calling thread runs the main loop (signals through a signalfd, inotify
 * for the file source, the resync timer); N workers take keys from the queue; the
 * informers and the elector run their own threads (reconcile/informer.c, lease.c); the
 * endpoint server runs libmicrohttpd's. Everything shared is in struct ctl, guarded by
 * ctl.mu, and the queue has its own lock.
 *
 * One worker cycle:
 *   file mode   a batch of up to 64 domain names, planned together against the current
 *               manifest snapshot (a reference-counted, immutable set);
 *   Kubernetes  one MailDomain key: the custom resource and its Provider become a
 *               manifest document (the same loader and rules as files), its Secret is
 *               read by name, the cycle runs, the status, events and finalizer follow.
 * Either way a key that failed is re-queued with backoff; a success forgets its failures.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h> /* malloc_trim */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/controller.h"
#include "reconcile/desired.h"
#include "reconcile/dns.h"
#include "reconcile/http.h"
#include "reconcile/kube.h"
#include "reconcile/metrics.h"
#include "reconcile/queue.h"
#include "reconcile/status.h"
#include "reconcile/values.h"
#include "providers/provider.h"

#define BATCH	     64
#define FINALIZER    "zonewarden.dev/cleanup"
#define API_GROUP    "/apis/zonewarden.dev/v1alpha1"
#define PROVIDER_KEY "provider:" /* queue keys of Providers: "provider:ns/name" */
/* A cleanup that keeps failing gives up the records (and removes the finalizer) once it
 * has been tried this often AND the deletion is this old: a transient outage is ridden
 * out, a dead provider never blocks deletion for ever. */
#define CLEANUP_TRIES	  5
#define CLEANUP_GIVE_UP_S 600
#define VERSION		  "0.1.0"

/* An immutable manifest set shared by the workers (file mode). */
struct snap {
	int refs;
	struct zw_manifests *ms;
	uint64_t *fp; /* a fingerprint per domain: what a write depends on */
};

struct ctl {
	const struct zw_controller_opts *o;
	struct zw_log *log;
	struct zw_metrics *metrics;
	struct zw_serve *serve;
	struct zw_queue *queue;

	pthread_mutex_t mu;
	pthread_cond_t lead_cv;
	struct snap *snap; /* file mode: the last good set */
	int files_loaded;  /* file mode: one load was attempted */
	int leading;	   /* workers may run */
	int stopping;

	struct zw_kube_config kcfg; /* lives as long as the client: it owns the CA file */
	struct zw_kube *kube;
	struct zw_kube *lease_kube; /* the Lease's own client: one short attempt per request */
	struct zw_kube_informer *domains, *providers;
	struct zw_lease *lease;
	struct zw_events *events;
	char identity[256];

	pthread_t *workers;
	unsigned nworkers;

	/* what the cycles count, turned into metrics after each cycle */
	struct zw_dns_stats dns;      /* updated atomically by every loop */
	struct zw_dns_stats dns_seen; /* what the metrics have (under mu) */
	struct zw_http_hooks hooks;   /* observe: provider requests by status */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t rnd32(void)
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)now_ms() * 2654435761u;
	return r;
}

static void num(char *out, size_t outsz, double v)
{
	snprintf(out, outsz, ZW_LOG_RAW "%.15g", v);
}

/* ---- leadership -------------------------------------------------------------------------- */

static int is_leading(void *arg)
{
	struct ctl *c = arg;
	pthread_mutex_lock(&c->mu);
	int l = c->leading && !c->stopping;
	pthread_mutex_unlock(&c->mu);
	return l;
}

static void set_leading(struct ctl *c, int leading)
{
	pthread_mutex_lock(&c->mu);
	c->leading = leading;
	pthread_cond_broadcast(&c->lead_cv);
	pthread_mutex_unlock(&c->mu);
	zw_metrics_leader(c->metrics, leading);
	zw_log_write(c->log, ZW_LOG_INFO, "leader",
		     leading ? "leading: workers started" : "not leading: workers stopped", "identity",
		     c->identity, ZW_LOG_END);
}

static void resync_kube(struct ctl *c);

/* A new leader reconciles everything at once: keys seen while not leading were dropped. */
static void lease_started(void *arg)
{
	set_leading(arg, 1);
	resync_kube(arg);
}

static void lease_stopped(void *arg)
{
	set_leading(arg, 0);
}

static void lease_error(void *arg, const char *msg)
{
	struct ctl *c = arg;
	zw_log_write(c->log, ZW_LOG_WARN, "leader", "lease not taken", "error", msg, ZW_LOG_END);
}

/* ---- readiness ------------------------------------------------------------------------------ */

static int ready(void *arg, char *why, size_t whysz)
{
	struct ctl *c = arg;
	if (c->o->manifests_dir) {
		pthread_mutex_lock(&c->mu);
		int loaded = c->files_loaded;
		pthread_mutex_unlock(&c->mu);
		if (!loaded) {
			snprintf(why, whysz, "the manifest directory has not been read yet");
			return 0;
		}
	}
	if (c->domains && (!zw_kube_informer_synced(c->domains) || !zw_kube_informer_synced(c->providers))) {
		snprintf(why, whysz, "the custom resources are not listed yet");
		return 0;
	}
	if (c->lease && zw_lease_state(c->lease) < 0) {
		snprintf(why, whysz, "the lease state is not known yet");
		return 0;
	}
	return 1;
}

/* ---- the file source ----------------------------------------------------------------------- */

static void fnv(uint64_t *h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ p[i]) * 1099511628211ull;
	*h = (*h ^ 0xff) * 1099511628211ull; /* a separator, so "ab","c" differs from "a","bc" */
}

static void fnv_s(uint64_t *h, const char *s)
{
	fnv(h, s ? s : "", s ? strlen(s) : 0);
}

/* What a domain's cycle depends on: its desired records, its provider's settings, and
 * the expectations the diagnosis compares against. Equal fingerprints: nothing to redo. */
static uint64_t fingerprint(const struct zw_manifests *ms, const struct zw_domain *d)
{
	uint64_t h = 1469598103934665603ull;
	struct zw_desired ds;
	struct zw_error err = {0};
	char tmp[64];
	fnv_s(&h, d->domain);
	fnv_s(&h, d->meta_name);
	fnv_s(&h, d->provider_ref);
	snprintf(tmp, sizeof(tmp), "%u/%d/%d/%d/%d/%d/%d", d->ttl, (int)d->policy, (int)d->deletion,
		 d->parked, d->bulk_sender, d->fix_delegation, (int)d->ndkim);
	fnv_s(&h, tmp);
	for (size_t i = 0; i < d->nameservers.n; i++)
		fnv_s(&h, d->nameservers.v[i]);
	for (size_t i = 0; i < d->ndkim; i++) {
		snprintf(tmp, sizeof(tmp), "%d/%d/%d", d->dkim[i].expect_absent, d->dkim[i].revoked,
			 d->dkim[i].testing);
		fnv_s(&h, tmp);
		fnv_s(&h, d->dkim[i].selector);
		fnv_s(&h, d->dkim[i].public_key_sha256);
	}
	const struct zw_provider_spec *p = zw_manifests_provider(ms, d->provider_ref);
	if (p) {
		fnv_s(&h, p->type);
		for (size_t i = 0; i < p->nopts; i++) {
			fnv_s(&h, p->opts[i].key);
			fnv_s(&h, p->opts[i].value);
		}
	}
	if (zw_desired_build(&ds, d, &err) == 0) {
		for (size_t i = 0; i < ds.n; i++) {
			const struct zw_record *r = &ds.v[i];
			snprintf(tmp, sizeof(tmp), "%u/%u", (unsigned)r->type, (unsigned)r->ttl);
			fnv_s(&h, r->name);
			fnv_s(&h, tmp);
			fnv(&h, r->txt.data ? r->txt.data : "", r->txt.len);
			for (size_t k = 0; k < r->txt.n; k++)
				fnv(&h, &r->txt.lens[k], sizeof(r->txt.lens[k]));
			fnv_s(&h, r->target);
		}
		zw_desired_free(&ds);
	} else {
		h ^= 0x5555; /* cannot happen for a set that loaded; differ from any real one */
	}
	return h;
}

static void snap_release(struct ctl *c, struct snap *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&c->mu);
	int last = --s->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last) {
		zw_manifests_free(s->ms);
		zw_free(s->fp);
		zw_free(s);
	}
}

static struct snap *snap_acquire(struct ctl *c)
{
	pthread_mutex_lock(&c->mu);
	struct snap *s = c->snap;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* Watch every directory under dir (new ones appear after a reload). */
static void watch_tree(int ifd, const char *dir, int depth)
{
	if (ifd < 0 || depth > 16)
		return;
	inotify_add_watch(ifd, dir,
			  IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				  IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			watch_tree(ifd, path, depth + 1);
	}
	closedir(d);
}

/*
 * Read the directory again. A set with errors is reported and dropped: the last good one
 * stays. Domains that are new or whose fingerprint changed are queued; with `all`, every
 * domain is (the resync).
 */
/* Queue every domain of the current set (the resync, also while the files are broken). */
static void queue_all_files(struct ctl *c)
{
	struct snap *s = snap_acquire(c);
	for (size_t i = 0; s && i < s->ms->ndomains; i++)
		zw_queue_add(c->queue, s->ms->domains[i].domain);
	snap_release(c, s);
}

static void load_files(struct ctl *c, int ifd, int all)
{
	const char *paths[] = {c->o->manifests_dir};
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	struct snap *s = NULL;
	int rc = zw_manifests_load(&ms, paths, 1, &err);
	if (rc == 0 && zw_values_check_all(ms, &err) == ZW_ENOMEM)
		rc = ZW_ENOMEM;
	watch_tree(ifd, c->o->manifests_dir, 0);
	pthread_mutex_lock(&c->mu);
	c->files_loaded = 1;
	pthread_mutex_unlock(&c->mu);
	if (rc == ZW_ENOMEM || !ms) {
		zw_log_write(c->log, ZW_LOG_ERROR, "source", "manifests not read: the last good set stays",
			     "error", err.msg, ZW_LOG_END);
		goto out;
	}
	if (ms->nerrors) {
		char line[ZW_ERR_MSG_MAX + ZW_ERR_FILE_MAX + ZW_ERR_PATH_MAX + 32], n[32];
		for (size_t i = 0; i < ms->nerrors; i++) {
			zw_error_format(line, sizeof(line), &ms->errors[i]);
			zw_log_write(c->log, ZW_LOG_ERROR, "source", "manifest error", "error", line,
				     ZW_LOG_END);
		}
		num(n, sizeof(n), (double)ms->nerrors);
		zw_log_write(c->log, ZW_LOG_ERROR, "source",
			     "the manifests are invalid: the last good set stays", "dir", c->o->manifests_dir,
			     "errors", n, ZW_LOG_END);
		goto out;
	}
	if (!(s = zw_calloc(1, sizeof(*s))) || !(s->fp = zw_calloc(ms->ndomains + 1, sizeof(*s->fp)))) {
		zw_log_write(c->log, ZW_LOG_ERROR, "source", "out of memory: the last good set stays",
			     ZW_LOG_END);
		zw_free(s);
		goto out;
	}
	s->refs = 1;
	s->ms = ms;
	ms = NULL;
	for (size_t i = 0; i < s->ms->ndomains; i++)
		s->fp[i] = fingerprint(s->ms, &s->ms->domains[i]);

	pthread_mutex_lock(&c->mu);
	struct snap *old = c->snap;
	c->snap = s;
	pthread_mutex_unlock(&c->mu);
	size_t queued = 0;
	for (size_t i = 0; i < s->ms->ndomains; i++) {
		int changed = 1;
		for (size_t k = 0; old && k < old->ms->ndomains && changed; k++)
			if (strcmp(old->ms->domains[k].domain, s->ms->domains[i].domain) == 0)
				changed = old->fp[k] != s->fp[i];
		if ((changed || all) && zw_queue_add(c->queue, s->ms->domains[i].domain) == 0)
			queued++;
	}
	for (size_t k = 0; old && k < old->ms->ndomains; k++) {
		int gone = 1;
		for (size_t i = 0; i < s->ms->ndomains && gone; i++)
			gone = strcmp(old->ms->domains[k].domain, s->ms->domains[i].domain) != 0;
		if (gone) {
			zw_metrics_findings(c->metrics, old->ms->domains[k].domain, NULL, NULL, 0);
			zw_log_write(c->log, ZW_LOG_INFO, "source",
				     "domain no longer declared: forgotten, records kept", "domain",
				     old->ms->domains[k].domain, ZW_LOG_END);
		}
	}
	char nd[32], nq[32];
	num(nd, sizeof(nd), (double)s->ms->ndomains);
	num(nq, sizeof(nq), (double)queued);
	zw_metrics_domains(c->metrics, s->ms->ndomains);
	zw_log_write(c->log, all ? ZW_LOG_DEBUG : ZW_LOG_INFO, "source", "manifests loaded", "dir",
		     c->o->manifests_dir, "domains", nd, "queued", nq, ZW_LOG_END);
	snap_release(c, old);
	zw_manifests_free(ms);
	return;
out:
	/* the set was not taken: the resync still covers the last good one */
	if (all)
		queue_all_files(c);
	zw_manifests_free(ms);
}

/* ---- one cycle, and what it tells ---------------------------------------------------------- */

/* A provider request ended: provider_requests_total{provider, status}. The account is
 * "route53:..." or "cloudflare:...": the provider is what comes before the colon. */
static void observe_http(void *ctx, const char *method, const char *account, long status)
{
	struct ctl *c = ctx;
	char provider[32] = "unknown";
	(void)method;
	if (account) {
		size_t n = strcspn(account, ":");
		snprintf(provider, sizeof(provider), "%.*s",
			 (int)(n < sizeof(provider) ? n : sizeof(provider) - 1), account);
	}
	zw_metrics_provider_request(c->metrics, provider, status);
}

/* The DNS queries counted since the last call, into dns_queries_total{rcode}. */
static void flush_dns(struct ctl *c)
{
	struct zw_dns_stats now;
	zw_dns_stats_read(&now, &c->dns);
	pthread_mutex_lock(&c->mu);
	for (unsigned i = 0; i < ZW_DNS_RCODES; i++) {
		if (now.rcode[i] > c->dns_seen.rcode[i])
			zw_metrics_dns_query(c->metrics, zw_dns_rcode_name(i),
					     (unsigned long)(now.rcode[i] - c->dns_seen.rcode[i]));
	}
	const struct {
		const char *name;
		uint64_t now, seen;
	} other[] = {
		{zw_dns_rcode_name(ZW_DNS_RCODES), now.rcode_other, c->dns_seen.rcode_other},
		{"timeout", now.timeout, c->dns_seen.timeout},
		{"network", now.network, c->dns_seen.network},
		{"malformed", now.malformed, c->dns_seen.malformed},
		{"mismatch", now.mismatch, c->dns_seen.mismatch},
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (other[i].now > other[i].seen)
			zw_metrics_dns_query(c->metrics, other[i].name,
					     (unsigned long)(other[i].now - other[i].seen));
	c->dns_seen = now;
	pthread_mutex_unlock(&c->mu);
}

static void cycle_opts(struct ctl *c, struct zw_cycle_opts *co, const unsigned char *sel, int apply)
{
	memset(co, 0, sizeof(*co));
	co->run = c->o->run;
	co->run.selected = sel;
	co->run.dns_stats = &c->dns;
	co->run.http_hooks = &c->hooks;
	co->check.dns.stats = &c->dns;
	co->check.root_hints = c->o->run.root_hints;
	co->check.timeout = c->o->check_timeout;
	co->apply = apply && !c->o->dry_run;
	co->may_write = is_leading;
	co->may_write_arg = c;
}

/* The plan of `domain` in a cycle, or NULL. */
static const struct zw_plan *plan_of(const struct zw_cycle *cy, const char *domain)
{
	for (size_t i = 0; i < cy->run.n; i++)
		if (cy->run.plans[i].domain && strcmp(cy->run.plans[i].domain, domain) == 0)
			return &cy->run.plans[i];
	return NULL;
}

/* What one domain's cycle came to. */
struct outcome {
	const struct zw_plan *plan;
	struct zw_findings findings; /* this domain's, sorted */
	size_t pending;		     /* changes not applied */
	size_t applied;		     /* changes applied and accepted */
	int failed;		     /* provider error, refused plan, or a change failed */
	const char *error;	     /* the line to report */
	const char *gate;	     /* the delegation finding's message */
};

static int outcome_of(struct outcome *out, const struct zw_cycle *cy, const char *domain)
{
	memset(out, 0, sizeof(*out));
	out->plan = plan_of(cy, domain);
	if (zw_findings_copy(&out->findings, &cy->findings, domain))
		return ZW_ENOMEM;
	zw_findings_sort(&out->findings);
	for (size_t i = 0; i < out->findings.n; i++) {
		const char *id = out->findings.v[i].cls->id;
		if (!out->gate && (!strcmp(id, "DL-01") || !strcmp(id, "DL-07") || !strcmp(id, "DL-11")))
			out->gate = out->findings.v[i].message;
	}
	const struct zw_plan *p = out->plan;
	if (!p)
		return 0;
	if (p->error) {
		out->failed = 1;
		out->error = p->error;
	} else if (p->refused) {
		out->failed = 1;
		out->error = p->refusal;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (cy->applied && !p->gated && !p->refused && p->v[i].result == ZW_PROV_APPLIED)
			out->applied++;
		else
			out->pending++;
		if (cy->applied && !p->gated && !p->refused && p->v[i].result > ZW_PROV_APPLIED) {
			out->failed = 1;
			if (!out->error)
				out->error = p->v[i].message && p->v[i].message[0] ? p->v[i].message
										   : "a change failed";
		}
	}
	if (!out->gate && p->gated)
		out->gate = "the parent does not delegate to the provider";
	return 0;
}

static void report(struct ctl *c, const char *key, const char *domain, const struct outcome *oc, double secs,
		   const char *result)
{
	const char *codes[ZW_STATUS_MAX_FINDINGS * 8], *sevs[ZW_STATUS_MAX_FINDINGS * 8];
	size_t n = 0;
	for (size_t i = 0; i < oc->findings.n && n < sizeof(codes) / sizeof(codes[0]); i++, n++) {
		codes[n] = oc->findings.v[i].cls->code;
		sevs[n] = zw_severity_name(oc->findings.v[i].sev);
	}
	zw_metrics_findings(c->metrics, key, codes, sevs, n); /* by key: what DELETED clears */
	zw_metrics_reconcile(c->metrics, result, secs);
	char nf[32], np[32], na[32], dur[32];
	num(nf, sizeof(nf), (double)oc->findings.n);
	num(np, sizeof(np), (double)oc->pending);
	num(na, sizeof(na), (double)oc->applied);
	num(dur, sizeof(dur), secs);
	zw_log_write(c->log, strcmp(result, "ok") == 0 ? ZW_LOG_INFO : ZW_LOG_WARN, "worker", "reconciled",
		     "key", key, "domain", domain, "result", result, "findings", nf, "pending", np, "applied",
		     na, "seconds", dur, "error", oc->error, "delegation", oc->gate, ZW_LOG_END);
}

/* A failed key comes back with backoff; a good one forgets its failures. */
static void settle(struct ctl *c, const char *key, int failed)
{
	if (failed) {
		uint64_t d = 0;
		zw_queue_add_rate_limited(c->queue, key, &d);
	} else {
		zw_queue_forget(c->queue, key);
	}
}

/* File mode: a batch of domain names against the current snapshot. */
static void work_files(struct ctl *c, char **keys, size_t n)
{
	struct snap *s = snap_acquire(c);
	unsigned char *sel = NULL;
	struct zw_cycle cy;
	struct zw_error err = {0};
	size_t found = 0;
	memset(&cy, 0, sizeof(cy));
	if (!s)
		goto out;
	if (!(sel = zw_calloc(s->ms->ndomains + 1, 1)))
		goto fail_all;
	for (size_t k = 0; k < n; k++) {
		int here = 0;
		for (size_t i = 0; i < s->ms->ndomains; i++)
			if (strcmp(s->ms->domains[i].domain, keys[k]) == 0) {
				here = 1;
				found += !sel[i];
				sel[i] = 1;
			}
		if (!here) /* no longer declared: nothing to retry */
			zw_queue_forget(c->queue, keys[k]);
	}
	if (!found)
		goto out;
	struct zw_cycle_opts co;
	cycle_opts(c, &co, sel, 1);
	uint64_t t0 = now_ms();
	int rc = zw_cycle_run(&cy, s->ms, &co, &err);
	double secs = (double)(now_ms() - t0) / 1000.0 / (double)found;
	if (rc) {
		zw_log_write(c->log, ZW_LOG_ERROR, "worker", "cycle failed", "error", err.msg, ZW_LOG_END);
		goto fail_all;
	}
	for (size_t k = 0; k < n; k++) {
		struct outcome oc;
		if (outcome_of(&oc, &cy, keys[k]) == 0 && oc.plan) {
			report(c, keys[k], keys[k], &oc, secs, oc.failed ? "error" : "ok");
			settle(c, keys[k], oc.failed);
		}
		zw_findings_free(&oc.findings);
	}
	goto out;
fail_all:
	for (size_t k = 0; k < n; k++) {
		zw_metrics_reconcile(c->metrics, "error", 0);
		settle(c, keys[k], 1);
	}
out:
	zw_cycle_free(&cy);
	zw_free(sel);
	snap_release(c, s);
}

/* ---- the Kubernetes source ------------------------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void split_key(const char *key, char *ns, size_t nssz, char *name, size_t namesz)
{
	const char *slash = strchr(key, '/');
	if (slash) {
		snprintf(ns, nssz, "%.*s", (int)(slash - key), key);
		snprintf(name, namesz, "%s", slash + 1);
	} else {
		snprintf(ns, nssz, "%s", "default");
		snprintf(name, namesz, "%s", key);
	}
}

static void event(struct ctl *c, const cJSON *obj, const char *type, const char *reason, const char *action,
		  const char *note)
{
	if (!c->events || !is_leading(c))
		return;
	struct zw_kube_ref ref = {"zonewarden.dev/v1alpha1", "MailDomain", jstr(obj, "metadata", "namespace"),
				  jstr(obj, "metadata", "name"), jstr(obj, "metadata", "uid")};
	struct zw_error err = {0};
	if (zw_events_record(c->events, &ref, type, reason, action, note, &err))
		zw_log_write(c->log, ZW_LOG_DEBUG, "events", "event not recorded", "error", err.msg,
			     ZW_LOG_END);
}

/* One manifest document from a custom resource: apiVersion, kind, metadata.name and the
 * spec, as JSON (a YAML flow document), so the loader applies every rule it applies to
 * files. */
static int add_doc(struct zw_buf *b, const cJSON *obj, const char *kind)
{
	cJSON *doc = cJSON_CreateObject(), *meta = NULL;
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	int rc = ZW_ENOMEM;
	if (!doc || !cJSON_AddStringToObject(doc, "apiVersion", ZW_API_VERSION) ||
	    !cJSON_AddStringToObject(doc, "kind", kind) ||
	    !(meta = cJSON_AddObjectToObject(doc, "metadata")) ||
	    !cJSON_AddStringToObject(meta, "name",
				     jstr(obj, "metadata", "name") ? jstr(obj, "metadata", "name") : ""))
		goto out;
	if (spec && !cJSON_AddItemToObject(doc, "spec", cJSON_Duplicate(spec, 1)))
		goto out;
	char *text = cJSON_PrintUnformatted(doc);
	if (!text)
		goto out;
	rc = zw_buf_adds(b, "---\n") || zw_buf_adds(b, text) || zw_buf_adds(b, "\n") ? ZW_ENOMEM : 0;
	cJSON_free(text);
out:
	cJSON_Delete(doc);
	return rc;
}

/* The Secret's value for apiTokenSecretRef, read by name (never listed). */
static int read_secret(struct ctl *c, const char *ns, const char *name, const char *key, char **out,
		       struct zw_error *err)
{
	char path[600];
	cJSON *sec = NULL;
	*out = NULL;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/secrets/%s", ns, name);
	int rc = zw_kube_get(c->kube, path, &sec, err);
	if (rc)
		return rc;
	const char *b64 = jstr(cJSON_GetObjectItemCaseSensitive(sec, "data"), key ? key : "token", NULL);
	if (!b64) {
		rc = zw_error_set(err, ZW_ENOTFOUND, "secret %s/%s has no key %s", ns, name,
				  key ? key : "token");
	} else {
		size_t len = strlen(b64);
		unsigned char *v = zw_malloc(len + 4);
		int n = v ? EVP_DecodeBlock(v, (const unsigned char *)b64, (int)len) : -1;
		if (n < 0) {
			zw_free(v);
			rc = v ? zw_error_set(err, ZW_EINVAL, "secret %s/%s key %s is not base64", ns, name,
					      key)
			       : zw_error_set(err, ZW_ENOMEM, "out of memory");
		} else {
			/* EVP_DecodeBlock counts the padding as zero bytes */
			while (len && b64[len - 1] == '=' && n > 0) {
				len--;
				n--;
			}
			v[n] = '\0';
			*out = (char *)v;
		}
	}
	cJSON_Delete(sec);
	return rc;
}

/*
 * The MailDomain `obj` and its Provider as a manifest set. *invalid gets the first input
 * error (the spec is wrong: no retry until it changes); other failures return an error.
 * strip: the records are dropped and policy becomes sync (the cleanup plan).
 */
static int kube_manifests(struct ctl *c, const cJSON *obj, int strip, struct zw_manifests **out,
			  char *invalid, size_t invalidsz, struct zw_error *err)
{
	const char *ns = jstr(obj, "metadata", "namespace"), *name = jstr(obj, "metadata", "name");
	const char *ref = jstr(obj, "spec", "providerRef");
	struct zw_buf b = ZW_BUF_INIT;
	cJSON *prov = NULL, *copy = NULL;
	char key[512], file[512], *token = NULL;
	int rc = 0;
	*out = NULL;
	invalid[0] = '\0';
	if (!ns || !name)
		return zw_error_set(err, ZW_EINVAL, "the object has no namespace or name");
	snprintf(key, sizeof(key), "%s/%s", ns, ref ? ref : "");
	if (ref && !(prov = zw_kube_informer_get(c->providers, key))) {
		snprintf(invalid, invalidsz, "spec.providerRef: no Provider %s in namespace %s", ref, ns);
		return 0;
	}
	if (!(copy = cJSON_Duplicate(obj, 1))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	if (strip) {
		cJSON *spec = cJSON_GetObjectItemCaseSensitive(copy, "spec");
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "spf");
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "dkim");
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "dmarc");
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "cnames");
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "policy");
		if (!cJSON_AddStringToObject(spec, "policy", "sync")) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((prov && add_doc(&b, prov, "Provider")) || add_doc(&b, copy, "MailDomain")) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(file, sizeof(file), "maildomain %s/%s", ns, name);
	rc = zw_manifests_load_buffer(out, file, zw_buf_str(&b), b.len, err);
	if (rc == 0 && zw_values_check_all(*out, err) == ZW_ENOMEM)
		rc = ZW_ENOMEM;
	if (rc == ZW_EINVAL || (rc == 0 && (*out)->nerrors)) {
		zw_error_format(invalid, invalidsz, &(*out)->errors[0]);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	/* the Provider's token Secret, read by name, handed to the provider as apiToken */
	const char *sname = jstr(cJSON_GetObjectItemCaseSensitive(
					 cJSON_GetObjectItemCaseSensitive(prov, "spec"), "cloudflare"),
				 "apiTokenSecretRef", "name");
	if (sname && (*out)->nproviders == 1) {
		const char *skey = jstr(cJSON_GetObjectItemCaseSensitive(
						cJSON_GetObjectItemCaseSensitive(prov, "spec"), "cloudflare"),
					"apiTokenSecretRef", "key");
		if ((rc = read_secret(c, ns, sname, skey, &token, err)))
			goto out;
		struct zw_provider_spec *p = &(*out)->providers[0];
		struct zw_kv *v = zw_realloc(p->opts, (p->nopts + 1) * sizeof(*v));
		if (!v) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			goto out;
		}
		p->opts = v;
		memset(&v[p->nopts], 0, sizeof(v[p->nopts]));
		if (!(v[p->nopts].key = zw_strdup("apiToken"))) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			goto out;
		}
		v[p->nopts].value = token;
		token = NULL;
		p->nopts++;
	}
out:
	if (token) {
		memset(token, 0, strlen(token));
		zw_free(token);
	}
	if (invalid[0] || rc) {
		zw_manifests_free(*out);
		*out = NULL;
	}
	zw_buf_free(&b);
	cJSON_Delete(prov);
	cJSON_Delete(copy);
	return rc;
}

static int has_finalizer(const cJSON *obj)
{
	const cJSON *f, *list = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers");
	cJSON_ArrayForEach(f, list) if (cJSON_IsString(f) && strcmp(f->valuestring, FINALIZER) == 0) return 1;
	return 0;
}

/* Add or remove our finalizer: a merge patch of the whole list built from the object
 * read, with its resourceVersion, so a concurrent change is a 409 and a retry. */
static int set_finalizer(struct ctl *c, const char *path, const cJSON *obj, int on, struct zw_error *err)
{
	const cJSON *f, *list = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers");
	cJSON *patch = NULL, *meta = NULL, *nl = NULL;
	int rc = ZW_ENOMEM;
	if (!is_leading(c))
		return zw_error_set(err, ZW_ECONFLICT, "not leading: the finalizer is left to the leader");
	patch = cJSON_CreateObject();
	if (!patch || !(meta = cJSON_AddObjectToObject(patch, "metadata")) ||
	    !(nl = cJSON_AddArrayToObject(meta, "finalizers")) ||
	    !cJSON_AddStringToObject(
		    meta, "resourceVersion",
		    jstr(obj, "metadata", "resourceVersion") ? jstr(obj, "metadata", "resourceVersion") : ""))
		goto out;
	cJSON_ArrayForEach(f, list)
	{
		if (cJSON_IsString(f) && strcmp(f->valuestring, FINALIZER) == 0)
			continue;
		if (!cJSON_AddItemToArray(nl, cJSON_Duplicate(f, 1)))
			goto out;
	}
	if (on && !cJSON_AddItemToArray(nl, cJSON_CreateString(FINALIZER)))
		goto out;
	rc = zw_kube_merge_patch(c->kube, path, patch, NULL, err);
out:
	if (rc == ZW_ENOMEM && !err->msg[0])
		zw_error_set(err, ZW_ENOMEM, "out of memory");
	cJSON_Delete(patch);
	return rc;
}

static int write_status(struct ctl *c, const char *path, const cJSON *obj, const struct zw_status_input *in,
			struct zw_error *err)
{
	char now[40], spath[700];
	if (!is_leading(c))
		return 0; /* a replica that lost the lease writes nothing, status included */
	zw_rfc3339(now, sizeof(now), (long long)time(NULL));
	cJSON *st = zw_status_build(in, cJSON_GetObjectItemCaseSensitive(obj, "status"), now);
	cJSON *patch = st ? cJSON_CreateObject() : NULL;
	int rc;
	if (!patch || !cJSON_AddItemToObject(patch, "status", st)) {
		if (!patch)
			cJSON_Delete(st);
		cJSON_Delete(patch);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	snprintf(spath, sizeof(spath), "%s/status", path);
	rc = zw_kube_merge_patch(c->kube, spath, patch, NULL, err);
	cJSON_Delete(patch);
	return rc;
}

static long long generation(const cJSON *obj)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
							  "generation");
	return cJSON_IsNumber(g) ? (long long)g->valuedouble : 0;
}

/* Deletion: remove the owned records (deletionPolicy: Delete), then our finalizer. A
 * cleanup that keeps failing is given up after CLEANUP_TRIES, with a Warning: deletion is
 * never blocked for ever. */
static int kube_delete(struct ctl *c, const char *key, const char *path, const cJSON *obj, int delete_records)
{
	struct zw_error err = {0};
	struct zw_manifests *ms = NULL;
	struct zw_cycle cy;
	char invalid[1024];
	int failed = 0;
	memset(&cy, 0, sizeof(cy));
	if (delete_records) {
		if (!is_leading(c) || c->o->dry_run) {
			zw_log_write(c->log, ZW_LOG_INFO, "worker",
				     c->o->dry_run ? "dry run: owned records kept, finalizer kept"
						   : "not leading",
				     "key", key, ZW_LOG_END);
			return 0;
		}
		int rc = kube_manifests(c, obj, 1, &ms, invalid, sizeof(invalid), &err);
		if (rc == 0 && !invalid[0]) {
			struct zw_cycle_opts co;
			cycle_opts(c, &co, NULL, 1);
			co.run.force = 1; /* removing everything owned is the point */
			rc = zw_cycle_run(&cy, ms, &co, &err);
		}
		struct outcome oc;
		memset(&oc, 0, sizeof(oc));
		if (rc == 0 && !invalid[0])
			outcome_of(&oc, &cy, cy.ndomains ? cy.domains[0] : "");
		failed = rc || invalid[0] || oc.failed || oc.gate || !cy.applied;
		const char *why = rc	       ? err.msg
				  : invalid[0] ? invalid
				  : oc.error   ? oc.error
				  : oc.gate    ? oc.gate
					       : "not applied";
		zw_findings_free(&oc.findings);
		if (failed) {
			/* the status says why the resource stays (K8S.md: never silently stuck) */
			struct zw_status_input in = {
				.generation = generation(obj), .deleting = 1, .provider_error = why};
			struct zw_error serr = {0};
			if (write_status(c, path, obj, &in, &serr))
				zw_log_write(c->log, ZW_LOG_WARN, "worker", "status not written", "key", key,
					     "error", serr.msg, ZW_LOG_END);
			unsigned tries = zw_queue_failures(c->queue, key) + 1;
			struct tm tm;
			memset(&tm, 0, sizeof(tm));
			const char *ts = jstr(obj, "metadata", "deletionTimestamp");
			long long age = ts && strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm)
						? (long long)time(NULL) - (long long)timegm(&tm)
						: 0;
			if (tries < CLEANUP_TRIES || age < CLEANUP_GIVE_UP_S) {
				event(c, obj, "Warning", "CleanupFailed", "Cleanup", why);
				zw_log_write(c->log, ZW_LOG_WARN, "worker", "cleanup failed: will retry",
					     "key", key, "error", why, ZW_LOG_END);
				zw_cycle_free(&cy);
				zw_manifests_free(ms);
				return -1;
			}
			event(c, obj, "Warning", "CleanupAbandoned", "Cleanup", why);
			zw_log_write(c->log, ZW_LOG_ERROR, "worker",
				     "cleanup keeps failing: finalizer removed, records may remain", "key",
				     key, "error", why, ZW_LOG_END);
		} else {
			event(c, obj, "Normal", "CleanedUp", "Cleanup", "owned records removed");
		}
		zw_cycle_free(&cy);
		zw_manifests_free(ms);
	}
	if (set_finalizer(c, path, obj, 0, &err)) {
		zw_log_write(c->log, ZW_LOG_WARN, "worker", "finalizer not removed", "key", key, "error",
			     err.msg, ZW_LOG_END);
		return -1;
	}
	zw_log_write(c->log, ZW_LOG_INFO, "worker", "finalizer removed", "key", key, ZW_LOG_END);
	return 0;
}

/* ---- Providers: kept while a MailDomain still needs them for its cleanup ---------------- */

static void queue_provider(struct ctl *c, const char *key)
{
	char pkey[700];
	snprintf(pkey, sizeof(pkey), PROVIDER_KEY "%s", key);
	zw_queue_add(c->queue, pkey);
}

/* Does a MailDomain with deletionPolicy: Delete in ns still name this Provider? */
static int provider_needed(struct ctl *c, const char *ns, const char *name)
{
	char **keys = NULL;
	size_t n = 0;
	struct zw_error err = {0};
	int needed = 0;
	if (zw_kube_informer_keys(c->domains, &keys, &n, &err))
		return 1; /* cannot tell: keep it */
	for (size_t i = 0; i < n && !needed; i++) {
		cJSON *d = zw_kube_informer_get(c->domains, keys[i]);
		const char *dns = jstr(d, "metadata", "namespace"), *ref = jstr(d, "spec", "providerRef");
		const char *policy = jstr(d, "spec", "deletionPolicy");
		needed = dns && ref && policy && !strcmp(dns, ns) && !strcmp(ref, name) &&
			 !strcmp(policy, "Delete");
		cJSON_Delete(d);
	}
	zw_strv_free(keys, n);
	return needed;
}

/* The Provider a Delete-policy MailDomain names carries our finalizer too, so deleting a
 * namespace (or both at once) cannot remove the Provider before the cleanup used it. */
static int hold_provider(struct ctl *c, const char *ns, const char *name, struct zw_error *err)
{
	char key[600], path[800];
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	cJSON *prov = zw_kube_informer_get(c->providers, key);
	int rc = 0;
	if (prov && !has_finalizer(prov) && !jstr(prov, "metadata", "deletionTimestamp")) {
		snprintf(path, sizeof(path), API_GROUP "/namespaces/%s/providers/%s", ns, name);
		rc = set_finalizer(c, path, prov, 1, err);
	}
	cJSON_Delete(prov);
	return rc;
}

/* A Provider being deleted: let it go once no Delete-policy MailDomain names it. */
static void work_provider(struct ctl *c, const char *qkey, const char *key)
{
	char ns[256], name[256], path[800];
	struct zw_error err = {0};
	cJSON *prov = zw_kube_informer_get(c->providers, key);
	int failed = 0;
	split_key(key, ns, sizeof(ns), name, sizeof(name));
	if (prov && jstr(prov, "metadata", "deletionTimestamp") && has_finalizer(prov) && is_leading(c) &&
	    !c->o->dry_run && !provider_needed(c, ns, name)) {
		snprintf(path, sizeof(path), API_GROUP "/namespaces/%s/providers/%s", ns, name);
		if ((failed = set_finalizer(c, path, prov, 0, &err) != 0))
			zw_log_write(c->log, ZW_LOG_WARN, "worker", "provider finalizer not removed", "key",
				     key, "error", err.msg, ZW_LOG_END);
		else
			zw_log_write(c->log, ZW_LOG_INFO, "worker",
				     "provider released: no MailDomain needs it", "key", key, ZW_LOG_END);
	}
	cJSON_Delete(prov);
	settle(c, qkey, failed);
}

static void work_kube(struct ctl *c, const char *key)
{
	char ns[256], name[256], path[700], invalid[1024], applied_at[40];
	struct zw_error err = {0};
	struct zw_manifests *ms = NULL;
	struct zw_cycle cy;
	struct outcome oc;
	int failed = 0;
	uint64_t t0 = now_ms();
	memset(&cy, 0, sizeof(cy));
	memset(&oc, 0, sizeof(oc));
	if (!zw_kube_informer_synced(c->providers)) {
		/* a Provider not listed yet is not a missing one: wait for the list (with backoff,
		 * in case listing keeps failing) */
		zw_queue_add_rate_limited(c->queue, key, NULL);
		return;
	}
	split_key(key, ns, sizeof(ns), name, sizeof(name));
	snprintf(path, sizeof(path), API_GROUP "/namespaces/%s/maildomains/%s", ns, name);
	cJSON *obj = zw_kube_informer_get(c->domains, key);
	if (!obj) { /* gone: the finalizer did any cleanup before */
		zw_metrics_findings(c->metrics, key, NULL, NULL, 0);
		zw_queue_forget(c->queue, key);
		return;
	}
	const char *policy = jstr(obj, "spec", "deletionPolicy");
	int delete_records = policy && strcmp(policy, "Delete") == 0;
	int fin = has_finalizer(obj);
	if (jstr(obj, "metadata", "deletionTimestamp")) {
		if (fin)
			failed = kube_delete(c, key, path, obj, delete_records) != 0;
		settle(c, key, failed);
		goto out;
	}
	if (delete_records != fin && is_leading(c) && !c->o->dry_run) {
		/* the finalizer goes on before any record is created, off when Retain */
		if (set_finalizer(c, path, obj, delete_records, &err)) {
			zw_log_write(c->log, ZW_LOG_WARN, "worker", "finalizer not updated", "key", key,
				     "error", err.msg, ZW_LOG_END);
			settle(c, key, 1);
			goto out;
		}
		settle(c, key, 0);
		goto out; /* the watch brings the updated object back */
	}
	const char *ref = jstr(obj, "spec", "providerRef");
	if (delete_records && ref && is_leading(c) && !c->o->dry_run && hold_provider(c, ns, ref, &err)) {
		zw_log_write(c->log, ZW_LOG_WARN, "worker", "provider finalizer not added", "key", key,
			     "error", err.msg, ZW_LOG_END);
		settle(c, key, 1);
		goto out;
	}
	struct zw_status_input in = {.generation = generation(obj), .dry_run = c->o->dry_run};
	int rc = kube_manifests(c, obj, 0, &ms, invalid, sizeof(invalid), &err);
	if (rc) {
		in.provider_error = err.msg;
		failed = 1;
	} else if (invalid[0]) {
		in.invalid = invalid;
		event(c, obj, "Warning", "InvalidSpec", "Validate", invalid);
	} else {
		struct zw_cycle_opts co;
		cycle_opts(c, &co, NULL, 1);
		if ((rc = zw_cycle_run(&cy, ms, &co, &err))) {
			in.provider_error = err.msg;
			failed = 1;
		} else if (outcome_of(&oc, &cy, ms->domains[0].domain) == 0) {
			failed = oc.failed;
			in.provider_error = oc.error;
			in.not_delegated = oc.gate;
			in.pending = oc.pending;
			in.verify_timed_out = cy.run.verify_timed_out;
			in.findings = &oc.findings;
			if (oc.applied) {
				zw_rfc3339(applied_at, sizeof(applied_at), (long long)time(NULL));
				in.last_apply_time = applied_at;
				char note[160];
				snprintf(note, sizeof(note), "%zu change%s applied%s", oc.applied,
					 oc.applied == 1 ? "" : "s",
					 cy.run.verify_timed_out ? ", not yet visible everywhere"
								 : " and verified");
				event(c, obj, "Normal", "Applied", "Apply", note);
			}
			if (oc.error)
				event(c, obj, "Warning", "ProviderError", "Apply", oc.error);
			else if (oc.gate)
				event(c, obj, "Warning", "NotDelegated", "Plan", oc.gate);
		}
		if (rc)
			event(c, obj, "Warning", "ProviderError", "Plan", err.msg);
	}
	struct zw_error serr = {0};
	if (write_status(c, path, obj, &in, &serr)) {
		zw_log_write(c->log, ZW_LOG_WARN, "worker", "status not written", "key", key, "error",
			     serr.msg, ZW_LOG_END);
		failed = 1;
	}
	report(c, key, ms && ms->ndomains ? ms->domains[0].domain : key, &oc,
	       (double)(now_ms() - t0) / 1000.0,
	       failed	    ? "error"
	       : in.invalid ? "invalid"
			    : "ok");
	settle(c, key, failed);
out:
	zw_findings_free(&oc.findings);
	zw_cycle_free(&cy);
	zw_manifests_free(ms);
	cJSON_Delete(obj);
}

/* Does this MODIFIED event carry nothing to do? Our own status write comes back as one:
 * the spec's generation is the one observed, nothing is being deleted, and the finalizer
 * is as the deletion policy wants it. The resync still visits every key. */
static int nothing_new(const cJSON *obj)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
	const cJSON *og = cJSON_GetObjectItemCaseSensitive(st, "observedGeneration");
	const char *policy = jstr(obj, "spec", "deletionPolicy");
	int want_fin = policy && strcmp(policy, "Delete") == 0;
	return cJSON_IsNumber(og) && (long long)og->valuedouble == generation(obj) &&
	       !jstr(obj, "metadata", "deletionTimestamp") && has_finalizer(obj) == want_fin;
}

static void on_domain(void *arg, enum zw_kube_event ev, const char *key, const cJSON *obj)
{
	struct ctl *c = arg;
	if (ev == ZW_KUBE_DELETED) {
		zw_metrics_findings(c->metrics, key, NULL, NULL, 0);
		/* its Provider may have been waiting for it to go */
		const char *ns = jstr(obj, "metadata", "namespace"), *ref = jstr(obj, "spec", "providerRef");
		if (ns && ref) {
			char pkey[600];
			snprintf(pkey, sizeof(pkey), "%s/%s", ns, ref);
			queue_provider(c, pkey);
		}
		return;
	}
	if (ev == ZW_KUBE_MODIFIED && nothing_new(obj))
		return;
	zw_queue_add(c->queue, key);
}

/* A Provider changed: every MailDomain of its namespace is reconciled again. */
static void on_provider(void *arg, enum zw_kube_event ev, const char *key, const cJSON *obj)
{
	struct ctl *c = arg;
	char **keys = NULL;
	size_t n = 0;
	struct zw_error err = {0};
	const char *slash = strchr(key, '/');
	size_t nslen = slash ? (size_t)(slash - key) + 1 : 0;
	if (ev != ZW_KUBE_DELETED && jstr(obj, "metadata", "deletionTimestamp"))
		queue_provider(c, key);
	if (!c->domains || zw_kube_informer_keys(c->domains, &keys, &n, &err))
		return;
	for (size_t i = 0; i < n; i++)
		if (strncmp(keys[i], key, nslen) == 0)
			zw_queue_add(c->queue, keys[i]);
	zw_strv_free(keys, n);
}

static void informer_error(void *arg, const char *msg)
{
	struct ctl *c = arg;
	if (msg[0])
		zw_log_write(c->log, ZW_LOG_WARN, "source", "list or watch failed: retrying with backoff",
			     "error", msg, ZW_LOG_END);
	else
		zw_log_write(c->log, ZW_LOG_INFO, "source", "list and watch work again", ZW_LOG_END);
}

static void informer_relist(void *arg, const char *how)
{
	struct ctl *c = arg;
	zw_log_write(c->log, ZW_LOG_INFO, "source", "watch expired: relisting", "how", how, ZW_LOG_END);
}

static void resync_kube(struct ctl *c)
{
	char **keys = NULL;
	size_t n = 0;
	struct zw_error err = {0};
	if (!c->domains || zw_kube_informer_keys(c->domains, &keys, &n, &err))
		return;
	for (size_t i = 0; i < n; i++)
		zw_queue_add(c->queue, keys[i]);
	zw_metrics_domains(c->metrics, n);
	zw_strv_free(keys, n);
	if (!c->providers || zw_kube_informer_keys(c->providers, &keys, &n, &err))
		return;
	for (size_t i = 0; i < n; i++)
		queue_provider(c, keys[i]);
	zw_strv_free(keys, n);
}

/* ---- workers ------------------------------------------------------------------------------------ */

static void *worker(void *arg)
{
	struct ctl *c = arg;
	char *keys[BATCH];
	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (!c->leading && !c->stopping)
			pthread_cond_wait(&c->lead_cv, &c->mu);
		int stop = c->stopping;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
		long n = zw_queue_get(c->queue, keys, c->kube ? 1 : BATCH, 500);
		if (n < 0)
			break;
		zw_metrics_queue_depth(c->metrics, zw_queue_len(c->queue));
		if (n == 0)
			continue;
		if (c->kube && strncmp(keys[0], PROVIDER_KEY, strlen(PROVIDER_KEY)) == 0)
			work_provider(c, keys[0], keys[0] + strlen(PROVIDER_KEY));
		else if (c->kube)
			work_kube(c, keys[0]);
		else
			work_files(c, keys, (size_t)n);
		for (long i = 0; i < n; i++) {
			zw_queue_done(c->queue, keys[i]);
			zw_free(keys[i]);
		}
		flush_dns(c);
		size_t left = zw_queue_len(c->queue);
		zw_metrics_queue_depth(c->metrics, left);
#ifdef __GLIBC__
		/* The queue drained: hand the cycles' freed memory back to the system. glibc
		 * keeps it in the workers' arenas otherwise (1 000 domains, 4 workers: 43 MB
		 * idle instead of 19 MB; bench/controller). */
		if (left == 0)
			malloc_trim(0);
#endif
	}
	return NULL;
}

/* ---- start, main loop, stop ----------------------------------------------------------------------- */

static void make_identity(struct ctl *c)
{
	char host[200] = "";
	const char *pod = getenv("POD_NAME");
	if (c->o->identity) {
		snprintf(c->identity, sizeof(c->identity), "%s", c->o->identity);
		return;
	}
	if (!pod || !*pod) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			snprintf(host, sizeof(host), "zonewarden");
		pod = host;
	}
	snprintf(c->identity, sizeof(c->identity), "%s_%08x", pod, rnd32());
}

static int start_kube(struct ctl *c, struct zw_error *err)
{
	struct zw_kube_config *cfg = &c->kcfg;
	char path[600];
	int rc;
	if ((rc = zw_kube_config_load(cfg, c->o->kubeconfig, err)))
		return rc;
	rc = zw_kube_new(&c->kube, cfg, NULL, err);
	const char *lease_ns = c->o->lease_namespace				     ? c->o->lease_namespace
			       : getenv("POD_NAMESPACE") && *getenv("POD_NAMESPACE") ? getenv("POD_NAMESPACE")
										     : NULL;
	char nsbuf[256];
	snprintf(nsbuf, sizeof(nsbuf), "%s",
		 lease_ns	  ? lease_ns
		 : cfg->namespace ? cfg->namespace
				  : "default");
	if (rc)
		return rc;
	if ((rc = zw_events_new(&c->events, c->kube, "zonewarden.dev/controller", c->identity, err)))
		return rc;
	if (c->o->namespace)
		snprintf(path, sizeof(path), API_GROUP "/namespaces/%s/providers", c->o->namespace);
	else
		snprintf(path, sizeof(path), API_GROUP "/providers");
	struct zw_kube_informer_opts io = {.path = path,
					   .handler = on_provider,
					   .arg = c,
					   .on_error = informer_error,
					   .on_relist = informer_relist};
	if ((rc = zw_kube_informer_start(&c->providers, c->kube, &io, err)))
		return rc;
	if (c->o->namespace)
		snprintf(path, sizeof(path), API_GROUP "/namespaces/%s/maildomains", c->o->namespace);
	else
		snprintf(path, sizeof(path), API_GROUP "/maildomains");
	io = (struct zw_kube_informer_opts){.path = path,
					    .handler = on_domain,
					    .arg = c,
					    .on_error = informer_error,
					    .on_relist = informer_relist};
	if ((rc = zw_kube_informer_start(&c->domains, c->kube, &io, err)))
		return rc;
	if (c->o->leader_elect) {
		struct zw_lease_opts lo = {
			.namespace = nsbuf,
			.name = c->o->lease_name ? c->o->lease_name : "zonewarden",
			.identity = c->identity,
			.duration_ms = c->o->lease_duration_ms ? c->o->lease_duration_ms : 15000,
			.renew_deadline_ms = c->o->renew_deadline_ms ? c->o->renew_deadline_ms : 10000,
			.retry_period_ms = c->o->retry_period_ms ? c->o->retry_period_ms : 2000,
			.on_started = lease_started,
			.on_stopped = lease_stopped,
			.on_error = lease_error,
			.arg = c,
		};
		zw_log_write(c->log, ZW_LOG_INFO, "leader", "leader election", "lease", lo.name, "namespace",
			     nsbuf, "identity", c->identity, ZW_LOG_END);
		/* A renewal must end within the renew deadline: one attempt of at most a retry
		 * period, so a lost leader stops before another can take over (duration > renew
		 * deadline + retry period). */
		struct zw_kube_config lc = *cfg;
		lc.single_attempt_ms = (long)lo.retry_period_ms;
		if ((rc = zw_kube_new(&c->lease_kube, &lc, NULL, err)) ||
		    (rc = zw_lease_start(&c->lease, c->lease_kube, &lo, err)))
			return rc;
	} else {
		set_leading(c, 1);
	}
	return 0;
}

/* While draining: a second SIGTERM or SIGINT exits at once (the lease is not released;
 * it expires). */
struct watchdog {
	struct ctl *c;
	int sfd;
	int done; /* under c->mu */
	pthread_t th;
};

static void *watchdog(void *arg)
{
	struct watchdog *w = arg;
	for (;;) {
		struct pollfd p = {w->sfd, POLLIN, 0};
		pthread_mutex_lock(&w->c->mu);
		int done = w->done;
		pthread_mutex_unlock(&w->c->mu);
		if (done)
			return NULL;
		if (poll(&p, 1, 200) <= 0 || !(p.revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		while (read(w->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				zw_log_write(w->c->log, ZW_LOG_WARN, "controller",
					     "second signal: exiting without draining", ZW_LOG_END);
				_exit(1);
			}
	}
}

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0)
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static uint64_t next_resync(const struct ctl *c)
{
	uint64_t base = (uint64_t)(c->o->resync_s ? c->o->resync_s : 300) * 1000u;
	uint64_t jitter = base / 10;
	return now_ms() + base - jitter + (jitter ? rnd32() % (2 * jitter + 1) : 0);
}

int zw_controller_run(const struct zw_controller_opts *o, struct zw_error *err)
{
	struct ctl c;
	sigset_t set;
	int rc = 0, sfd = -1, ifd = -1, wd_started = 0;
	struct watchdog wd;
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.hooks.ctx = &c;
	c.hooks.observe = observe_http;
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.lead_cv, NULL);
	if (!o->manifests_dir && !o->kubernetes) {
		rc = zw_error_set(err, ZW_EINVAL, "run: give --manifests DIR, --kubernetes, or both");
		goto out;
	}
	if (o->manifests_dir && o->kubernetes) {
		rc = zw_error_set(
			err, ZW_EINVAL,
			"run: --manifests and --kubernetes together are not supported: run one controller "
			"per source");
		goto out;
	}
	if ((sfd = block_signals(&set)) < 0) {
		rc = zw_error_set(err, ZW_EIO, "run: cannot take the signals: %s", strerror(errno));
		goto out;
	}
	make_identity(&c);
	struct zw_queue_opts qo = {0};
	if ((rc = zw_log_new(&c.log, 2, o->log_level, err)) ||
	    (rc = zw_metrics_new(&c.metrics, VERSION, err)) || (rc = zw_queue_new(&c.queue, &qo, err)))
		goto out;
	const char *addr = o->metrics_addr		       ? o->metrics_addr
			   : getenv("KUBERNETES_SERVICE_HOST") ? "0.0.0.0:8080"
							       : "127.0.0.1:8080";
	if ((rc = zw_serve_start(&c.serve, addr, c.metrics, ready, &c, err)))
		goto out;
	char port[32];
	num(port, sizeof(port), zw_serve_port(c.serve));
	zw_log_write(c.log, ZW_LOG_INFO, "controller", "starting", "version", VERSION, "identity", c.identity,
		     "source", o->kubernetes ? "kubernetes" : "files", "dry_run",
		     o->dry_run ? ZW_LOG_RAW "true" : ZW_LOG_RAW "false", "metrics_addr", addr,
		     "metrics_port", port, ZW_LOG_END);
	zw_metrics_leader(c.metrics, 0);
	if (o->kubernetes) {
		if ((rc = start_kube(&c, err)))
			goto out;
	} else {
		ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		load_files(&c, ifd, 1);
		set_leading(&c, 1);
	}
	c.nworkers = o->workers ? o->workers : 4;
	if (!(c.workers = zw_calloc(c.nworkers, sizeof(*c.workers)))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < c.nworkers; i++)
		if (pthread_create(&c.workers[i], NULL, worker, &c) != 0) {
			c.nworkers = i;
			rc = zw_error_set(err, ZW_EIO, "run: cannot start a worker");
			goto out;
		}

	uint64_t resync_at = next_resync(&c), reload_at = 0;
	for (;;) {
		uint64_t t = now_ms(), until = resync_at;
		if (reload_at && reload_at < until)
			until = reload_at;
		struct pollfd pfd[2] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}};
		int timeout = until > t ? (int)(until - t < 1000 ? until - t : 1000) : 0;
		if (poll(pfd, ifd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			int stop = 0;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					zw_log_write(c.log, ZW_LOG_INFO, "controller", "SIGHUP: reloading",
						     ZW_LOG_END);
					reload_at = now_ms();
				} else {
					stop = 1;
				}
			}
			if (stop)
				break;
		}
		if (ifd >= 0 && (pfd[1].revents & POLLIN)) {
			char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
			if (!reload_at)
				reload_at = now_ms() + 200; /* let an editor finish writing */
		}
		t = now_ms();
		if (reload_at && t >= reload_at) {
			reload_at = 0;
			if (o->manifests_dir)
				load_files(&c, ifd, 0);
			else
				resync_kube(&c);
		}
		if (t >= resync_at) {
			zw_log_write(c.log, ZW_LOG_DEBUG, "controller", "resync", ZW_LOG_END);
			if (o->manifests_dir)
				load_files(&c, ifd, 1);
			else
				resync_kube(&c);
			resync_at = next_resync(&c);
		}
		zw_metrics_queue_depth(c.metrics, zw_queue_len(c.queue));
	}
	zw_log_write(c.log, ZW_LOG_INFO, "controller",
		     "stopping: draining the workers (a second signal exits at once)", ZW_LOG_END);
	wd = (struct watchdog){.c = &c, .sfd = sfd};
	wd_started = pthread_create(&wd.th, NULL, watchdog, &wd) == 0;
out:
	/* the endpoints go first: /readyz reads the lease and the informers */
	zw_serve_stop(c.serve);
	c.serve = NULL;
	pthread_mutex_lock(&c.mu);
	c.stopping = 1;
	pthread_cond_broadcast(&c.lead_cv);
	pthread_mutex_unlock(&c.mu);
	if (c.queue)
		zw_queue_shutdown(c.queue);
	for (unsigned i = 0; i < c.nworkers; i++)
		pthread_join(c.workers[i], NULL);
	zw_free(c.workers);
	if (c.lease)
		zw_lease_stop(c.lease, 1);
	/* providers first: their handler reads the domains' informer */
	zw_kube_informer_stop(c.providers);
	zw_kube_informer_stop(c.domains);
	zw_events_free(c.events);
	zw_kube_free(c.lease_kube);
	zw_kube_free(c.kube);
	zw_kube_config_free(&c.kcfg);
	if (rc == 0 && wd_started) {
		pthread_mutex_lock(&c.mu);
		wd.done = 1;
		pthread_mutex_unlock(&c.mu);
		pthread_join(wd.th, NULL);
	}
	if (c.snap)
		snap_release(&c, c.snap);
	zw_queue_free(c.queue);
	if (rc == 0)
		zw_log_write(c.log, ZW_LOG_INFO, "controller", "stopped", ZW_LOG_END);
	zw_metrics_free(c.metrics);
	zw_log_free(c.log);
	if (ifd >= 0)
		close(ifd);
	if (sfd >= 0)
		close(sfd);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.lead_cv);
	return rc;
}
