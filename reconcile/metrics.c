/*
 * metrics.c - the controller's metrics (metrics.h) and their rendering in the Prometheus
 * text exposition format 0.0.4. The endpoint server is reconcile/serve.c.
 *
 * Owns, under one mutex: one sorted series table per family, keyed by its label values
 * (strcmp order, label by label), and the findings of every domain (a table sorted by
 * domain name). zonewarden_findings{code,severity} is kept as a running sum: replacing a
 * domain's findings subtracts what it contributed and adds the new pairs, and a series
 * that falls to 0 is dropped, so a scrape costs the number of series, not of domains.
 *
 * Invariants: families are rendered in the sorted order of their names, series in the
 * order of their label values; histogram buckets are stored per bucket and rendered
 * cumulatively, the +Inf bucket equal to _count; a family never holds more than
 * SERIES_MAX series (a new label set past it is dropped, so a caller passing unbounded
 * values cannot exhaust memory); label values are valid UTF-8 once rendered (an invalid
 * byte becomes U+FFFD) and escaped as the format says (backslash, quote, newline).
 */
#include "reconcile/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"

#define SERIES_MAX 4096
#define NLABELS	   2

static const double buckets[] = {.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	char *lv[NLABELS];	       /* label values; NULL past the family's label count */
	uint64_t count;		       /* counter value, findings count, histogram _count */
	uint64_t bucket[NBUCKETS + 1]; /* histograms: observations per bucket, the last +Inf */
	double sum;		       /* histograms: _sum */
};

struct table {
	struct series *s;
	size_t n, cap;
};

struct domain {
	char *name;
	size_t n;
	char **codes, **sevs;
};

struct zw_metrics {
	pthread_mutex_t mu;
	char *version;
	struct table reconcile_total;	 /* {result} */
	struct table reconcile_duration; /* {result} */
	struct table findings;		 /* {code, severity}: the sum over domains */
	struct table provider_requests;	 /* {provider, status} */
	struct table dns_queries;	 /* {rcode} */
	size_t queue_depth, ndomains;
	int leader;
	struct domain *domains; /* sorted by name */
	size_t ndom, capdom;
};

/* ---- series tables ------------------------------------------------------------------ */

static int lv_cmp(char *const *a, const char *const *b, unsigned nl)
{
	for (unsigned i = 0; i < nl; i++) {
		int c = strcmp(a[i], b[i]);
		if (c)
			return c;
	}
	return 0;
}

/* Index of the series with label values lv, or where it would be inserted (*found 0). */
/* Binary search over n sorted entries: cmp(ctx, i) compares entry i with the key. The
 * index of the key (*found = 1) or where it would be inserted. */
static size_t lower_bound(size_t n, int (*cmp)(const void *ctx, size_t i), const void *ctx, int *found)
{
	size_t lo = 0, hi = n;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp(ctx, mid);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct series_key {
	const struct table *t;
	const char *const *lv;
	unsigned nl;
};

static int series_cmp(const void *ctx, size_t i)
{
	const struct series_key *k = ctx;
	return lv_cmp(k->t->s[i].lv, k->lv, k->nl);
}

static size_t table_find(const struct table *t, const char *const *lv, unsigned nl, int *found)
{
	struct series_key k = {t, lv, nl};
	return lower_bound(t->n, series_cmp, &k, found);
}

/* The series with label values lv, created (zero) when missing; NULL when out of memory
 * or when the family already holds SERIES_MAX series. */
static struct series *table_get(struct table *t, const char *const *lv, unsigned nl)
{
	int found;
	size_t at = table_find(t, lv, nl, &found);
	if (found)
		return &t->s[at];
	if (t->n >= SERIES_MAX)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct series *s = zw_realloc(t->s, cap * sizeof(*s));
		if (!s)
			return NULL;
		t->s = s;
		t->cap = cap;
	}
	struct series ns;
	memset(&ns, 0, sizeof(ns));
	for (unsigned i = 0; i < nl; i++) {
		ns.lv[i] = zw_strdup(lv[i]);
		if (!ns.lv[i]) {
			for (unsigned j = 0; j < i; j++)
				zw_free(ns.lv[j]);
			return NULL;
		}
	}
	memmove(t->s + at + 1, t->s + at, (t->n - at) * sizeof(*t->s));
	t->s[at] = ns;
	t->n++;
	return &t->s[at];
}

static void table_remove(struct table *t, size_t at)
{
	for (unsigned i = 0; i < NLABELS; i++)
		zw_free(t->s[at].lv[i]);
	memmove(t->s + at, t->s + at + 1, (t->n - at - 1) * sizeof(*t->s));
	t->n--;
}

static void table_free(struct table *t)
{
	while (t->n > 0)
		table_remove(t, t->n - 1);
	zw_free(t->s);
	t->s = NULL;
	t->cap = 0;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static const char *const results[] = {"error", "ok", "requeued", "skipped"};

int zw_metrics_new(struct zw_metrics **out, const char *version, struct zw_error *err)
{
	*out = NULL;
	struct zw_metrics *m = zw_calloc(1, sizeof(*m));
	if (!m)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		zw_free(m);
		return zw_error_set(err, ZW_ENOMEM, "cannot create the metrics mutex");
	}
	m->version = zw_strdup(version && *version ? version : "unknown");
	int ok = m->version != NULL;
	/* the known results exist from the start, so rate() sees their first increase */
	for (size_t i = 0; ok && i < sizeof(results) / sizeof(results[0]); i++) {
		const char *lv[1] = {results[i]};
		ok = table_get(&m->reconcile_total, lv, 1) && table_get(&m->reconcile_duration, lv, 1);
	}
	if (!ok) {
		zw_metrics_free(m);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	*out = m;
	return 0;
}

static void domain_clear(struct domain *d)
{
	for (size_t i = 0; i < d->n; i++) {
		zw_free(d->codes[i]);
		zw_free(d->sevs[i]);
	}
	zw_free(d->codes);
	zw_free(d->sevs);
	d->codes = d->sevs = NULL;
	d->n = 0;
}

void zw_metrics_free(struct zw_metrics *m)
{
	if (!m)
		return;
	table_free(&m->reconcile_total);
	table_free(&m->reconcile_duration);
	table_free(&m->findings);
	table_free(&m->provider_requests);
	table_free(&m->dns_queries);
	for (size_t i = 0; i < m->ndom; i++) {
		domain_clear(&m->domains[i]);
		zw_free(m->domains[i].name);
	}
	zw_free(m->domains);
	zw_free(m->version);
	pthread_mutex_destroy(&m->mu);
	zw_free(m);
}

/* ---- updates ------------------------------------------------------------------------ */

void zw_metrics_reconcile(struct zw_metrics *m, const char *result, double seconds)
{
	if (!m || !result)
		return;
	if (!(seconds >= 0)) /* negative or NaN: a clock step, count it as instant */
		seconds = 0;
	const char *lv[1] = {result};
	pthread_mutex_lock(&m->mu);
	struct series *c = table_get(&m->reconcile_total, lv, 1);
	if (c)
		c->count++;
	struct series *h = table_get(&m->reconcile_duration, lv, 1);
	if (h) {
		size_t b = 0;
		while (b < NBUCKETS && seconds > buckets[b])
			b++;
		h->bucket[b]++;
		h->count++;
		h->sum += seconds;
	}
	pthread_mutex_unlock(&m->mu);
}

static void counter_add(struct zw_metrics *m, struct table *t, const char *const *lv, unsigned nl, uint64_t n)
{
	pthread_mutex_lock(&m->mu);
	struct series *s = table_get(t, lv, nl);
	if (s)
		s->count += n;
	pthread_mutex_unlock(&m->mu);
}

void zw_metrics_provider_request(struct zw_metrics *m, const char *provider, long status)
{
	if (!m || !provider)
		return;
	char st[24];
	if (status > 0)
		snprintf(st, sizeof(st), "%ld", status);
	else
		snprintf(st, sizeof(st), "error");
	const char *lv[2] = {provider, st};
	counter_add(m, &m->provider_requests, lv, 2, 1);
}

void zw_metrics_dns_query(struct zw_metrics *m, const char *rcode, unsigned long count)
{
	if (!m || !rcode || count == 0)
		return;
	const char *lv[1] = {rcode};
	counter_add(m, &m->dns_queries, lv, 1, count);
}

void zw_metrics_queue_depth(struct zw_metrics *m, size_t depth)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->queue_depth = depth;
	pthread_mutex_unlock(&m->mu);
}

void zw_metrics_leader(struct zw_metrics *m, int leader)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->leader = leader != 0;
	pthread_mutex_unlock(&m->mu);
}

void zw_metrics_domains(struct zw_metrics *m, size_t n)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->ndomains = n;
	pthread_mutex_unlock(&m->mu);
}

/* ---- findings ----------------------------------------------------------------------- */

struct domain_key {
	const struct zw_metrics *m;
	const char *name;
};

static int domain_cmp(const void *ctx, size_t i)
{
	const struct domain_key *k = ctx;
	return strcmp(k->m->domains[i].name, k->name);
}

static size_t domain_find(const struct zw_metrics *m, const char *name, int *found)
{
	struct domain_key k = {m, name};
	return lower_bound(m->ndom, domain_cmp, &k, found);
}

/* Add delta (+1 or -1) to every pair of d in the findings sum; a pair's series exists
 * (created before the first add). Series that fall to 0 are dropped by the caller. */
static void findings_apply(struct zw_metrics *m, const struct domain *d, int delta)
{
	for (size_t i = 0; i < d->n; i++) {
		const char *lv[2] = {d->codes[i], d->sevs[i]};
		int found;
		size_t at = table_find(&m->findings, lv, 2, &found);
		if (!found)
			continue; /* cannot happen: created before the add */
		if (delta > 0)
			m->findings.s[at].count++;
		else if (m->findings.s[at].count > 0)
			m->findings.s[at].count--;
	}
}

static void findings_prune(struct zw_metrics *m)
{
	for (size_t i = m->findings.n; i > 0; i--)
		if (m->findings.s[i - 1].count == 0)
			table_remove(&m->findings, i - 1);
}

int zw_metrics_findings(struct zw_metrics *m, const char *domain, const char *const *codes,
			const char *const *severities, size_t n)
{
	if (!m || !domain || (n > 0 && (!codes || !severities)))
		return ZW_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!codes[i] || !severities[i])
			return ZW_EINVAL;

	/* copies first, so the tables change only once nothing can fail */
	struct domain nd = {.name = NULL, .n = 0, .codes = NULL, .sevs = NULL};
	int rc = 0;
	if (n > 0) {
		nd.codes = zw_calloc(n, sizeof(char *));
		nd.sevs = zw_calloc(n, sizeof(char *));
		if (!nd.codes || !nd.sevs) {
			zw_free(nd.codes);
			zw_free(nd.sevs);
			return ZW_ENOMEM;
		}
		for (; nd.n < n; nd.n++) {
			nd.codes[nd.n] = zw_strdup(codes[nd.n]);
			nd.sevs[nd.n] = zw_strdup(severities[nd.n]);
			if (!nd.codes[nd.n] || !nd.sevs[nd.n]) {
				nd.n++;
				domain_clear(&nd);
				return ZW_ENOMEM;
			}
		}
	}

	pthread_mutex_lock(&m->mu);
	int found;
	size_t at = domain_find(m, domain, &found);
	if (!found && n > 0) {
		nd.name = zw_strdup(domain);
		if (!nd.name) {
			rc = ZW_ENOMEM;
			goto out;
		}
		if (m->ndom == m->capdom) {
			size_t cap = m->capdom ? m->capdom * 2 : 16;
			struct domain *d = zw_realloc(m->domains, cap * sizeof(*d));
			if (!d) {
				rc = ZW_ENOMEM;
				goto out;
			}
			m->domains = d;
			m->capdom = cap;
		}
	}
	/* every new pair's series exists before anything is counted */
	for (size_t i = 0; i < nd.n; i++) {
		const char *lv[2] = {nd.codes[i], nd.sevs[i]};
		if (!table_get(&m->findings, lv, 2)) {
			rc = m->findings.n >= SERIES_MAX ? ZW_EINVAL : ZW_ENOMEM;
			goto out;
		}
	}
	if (found) {
		struct domain *d = &m->domains[at];
		findings_apply(m, d, -1);
		domain_clear(d);
		if (n == 0) {
			zw_free(d->name);
			memmove(m->domains + at, m->domains + at + 1, (m->ndom - at - 1) * sizeof(*d));
			m->ndom--;
		} else {
			d->codes = nd.codes;
			d->sevs = nd.sevs;
			d->n = nd.n;
			findings_apply(m, d, +1);
		}
	} else if (n > 0) {
		memmove(m->domains + at + 1, m->domains + at, (m->ndom - at) * sizeof(*m->domains));
		m->domains[at] = nd;
		m->ndom++;
		findings_apply(m, &m->domains[at], +1);
	}
	nd = (struct domain){.name = NULL, .n = 0, .codes = NULL, .sevs = NULL};
out:
	findings_prune(m);
	pthread_mutex_unlock(&m->mu);
	domain_clear(&nd);
	zw_free(nd.name);
	return rc;
}

/* ---- rendering ---------------------------------------------------------------------- */

/* Shortest of %.15g / %.17g that reads back as v; Prometheus' spellings of the rest. */
static void fmt_double(char *out, size_t outsz, double v)
{
	if (isnan(v)) {
		snprintf(out, outsz, "NaN");
	} else if (isinf(v)) {
		snprintf(out, outsz, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(out, outsz, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, outsz, "%.17g", v);
	}
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0], cp;
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int add_label_value(struct zw_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;
	while (rc == 0 && *p) {
		size_t len = utf8_len(p);
		if (*p == '\\')
			rc = zw_buf_add(b, "\\\\", 2);
		else if (*p == '"')
			rc = zw_buf_add(b, "\\\"", 2);
		else if (*p == '\n')
			rc = zw_buf_add(b, "\\n", 2);
		else if (len == 0)
			rc = zw_buf_add(b, "\xef\xbf\xbd", 3);
		else
			rc = zw_buf_add(b, p, len);
		p += len ? len : 1;
	}
	return rc;
}

/* name{l1="v1",l2="v2"[,le="x"]} value\n */
static int add_sample(struct zw_buf *b, const char *name, const char *suffix, const char *const *lnames,
		      char *const *lv, unsigned nl, const char *le, const char *value)
{
	int rc = zw_buf_adds(b, name);
	if (rc == 0 && suffix)
		rc = zw_buf_adds(b, suffix);
	if (rc == 0 && (nl > 0 || le))
		rc = zw_buf_addc(b, '{');
	for (unsigned i = 0; rc == 0 && i < nl; i++) {
		rc = zw_buf_addf(b, "%s%s=\"", i ? "," : "", lnames[i]);
		if (rc == 0)
			rc = add_label_value(b, lv[i]);
		if (rc == 0)
			rc = zw_buf_addc(b, '"');
	}
	if (rc == 0 && le)
		rc = zw_buf_addf(b, "%sle=\"%s\"", nl ? "," : "", le);
	if (rc == 0 && (nl > 0 || le))
		rc = zw_buf_addc(b, '}');
	if (rc == 0)
		rc = zw_buf_addf(b, " %s\n", value);
	return rc;
}

enum kind { COUNTER, GAUGE, HISTOGRAM };
static const char *const kind_names[] = {[COUNTER] = "counter", [GAUGE] = "gauge", [HISTOGRAM] = "histogram"};

/* One family: HELP, TYPE, then its samples (a table, or one unlabelled value). */
struct family {
	const char *name, *help;
	enum kind kind;
	const char *lnames[NLABELS];
	unsigned nl;
	const struct table *t; /* NULL: one sample, value */
	uint64_t value;
};

static int add_family(struct zw_buf *b, const struct family *f)
{
	char v[40];
	int rc = zw_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
			     kind_names[f->kind]);
	if (!f->t) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)f->value);
		return rc ? rc : add_sample(b, f->name, NULL, NULL, NULL, 0, NULL, v);
	}
	for (size_t i = 0; rc == 0 && i < f->t->n; i++) {
		const struct series *s = &f->t->s[i];
		if (f->kind != HISTOGRAM) {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)s->count);
			rc = add_sample(b, f->name, NULL, f->lnames, s->lv, f->nl, NULL, v);
			continue;
		}
		uint64_t cum = 0;
		for (size_t k = 0; rc == 0 && k <= NBUCKETS; k++) {
			char le[40];
			cum += s->bucket[k];
			if (k < NBUCKETS)
				fmt_double(le, sizeof(le), buckets[k]);
			else
				snprintf(le, sizeof(le), "+Inf");
			snprintf(v, sizeof(v), "%llu", (unsigned long long)cum);
			rc = add_sample(b, f->name, "_bucket", f->lnames, s->lv, f->nl, le, v);
		}
		fmt_double(v, sizeof(v), s->sum);
		if (rc == 0)
			rc = add_sample(b, f->name, "_sum", f->lnames, s->lv, f->nl, NULL, v);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)s->count);
		if (rc == 0)
			rc = add_sample(b, f->name, "_count", f->lnames, s->lv, f->nl, NULL, v);
	}
	return rc;
}

int zw_metrics_render(struct zw_metrics *m, struct zw_buf *out, struct zw_error *err)
{
	if (!m || !out)
		return zw_error_set(err, ZW_EINVAL, "no metrics to render");
	pthread_mutex_lock(&m->mu);
	struct table build = {0};
	char *bv[NLABELS] = {m->version, NULL};
	struct series bs = {.lv = {bv[0], bv[1]}, .count = 1};
	build.s = &bs;
	build.n = 1;
	/* sorted by name */
	const struct family fams[] = {
		{.name = "zonewarden_build_info",
		 .help = "The controller's version; the value is always 1.",
		 .kind = GAUGE,
		 .lnames = {"version"},
		 .nl = 1,
		 .t = &build},
		{.name = "zonewarden_dns_queries_total",
		 .help = "DNS queries sent, by response code or failure.",
		 .kind = COUNTER,
		 .lnames = {"rcode"},
		 .nl = 1,
		 .t = &m->dns_queries},
		{.name = "zonewarden_domains",
		 .help = "Domains known to the controller.",
		 .kind = GAUGE,
		 .value = m->ndomains},
		{.name = "zonewarden_findings",
		 .help = "Findings of the last cycle of every domain, summed over domains.",
		 .kind = GAUGE,
		 .lnames = {"code", "severity"},
		 .nl = 2,
		 .t = &m->findings},
		{.name = "zonewarden_leader",
		 .help = "1 while this replica leads, else 0.",
		 .kind = GAUGE,
		 .value = (uint64_t)m->leader},
		{.name = "zonewarden_provider_requests_total",
		 .help = "Provider API requests, by HTTP status or error.",
		 .kind = COUNTER,
		 .lnames = {"provider", "status"},
		 .nl = 2,
		 .t = &m->provider_requests},
		{.name = "zonewarden_queue_depth",
		 .help = "Keys waiting in the work queue.",
		 .kind = GAUGE,
		 .value = m->queue_depth},
		{.name = "zonewarden_reconcile_duration_seconds",
		 .help = "Duration of reconcile cycles, by result.",
		 .kind = HISTOGRAM,
		 .lnames = {"result"},
		 .nl = 1,
		 .t = &m->reconcile_duration},
		{.name = "zonewarden_reconcile_total",
		 .help = "Reconcile cycles, by result.",
		 .kind = COUNTER,
		 .lnames = {"result"},
		 .nl = 1,
		 .t = &m->reconcile_total},
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(fams) / sizeof(fams[0]); i++)
		rc = add_family(out, &fams[i]);
	pthread_mutex_unlock(&m->mu);
	if (rc)
		return zw_error_set(
			err, rc, rc == ZW_ENOMEM ? "out of memory" : "metrics exceed the buffer's maximum");
	return 0;
}
