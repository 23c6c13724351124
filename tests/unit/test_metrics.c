/*
 * test_metrics.c - unit tests of the metrics (reconcile/metrics.c). Every rendering is
 * read back by a small parser of the text exposition format 0.0.4 written here (HELP,
 * TYPE, samples with escaped label values), which also checks the document's rules:
 * every sample belongs to the family declared last, HELP and TYPE once per family before
 * its samples, families sorted by name and series by label values, histogram buckets
 * cumulative in increasing le ending at +Inf equal to _count. Then exact values: counters,
 * gauges, histogram placement, findings summed over domains (replace, remove, allocation
 * failures leave the sum as it was), label escaping round trips, and threads updating
 * while others render.
 */
#include "tests/unit/unit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "reconcile/buf.h"
#include "reconcile/metrics.h"

/* ---- a small exposition parser ------------------------------------------------------- */

#define MAXL 4

struct sample {
	char name[128];
	unsigned nl;
	char lname[MAXL][32];
	char lval[MAXL][256];
	double value;
	int family; /* index in expo.fam */
};

struct family {
	char name[128];
	char type[16];
	int help;
};

struct expo {
	struct family fam[32];
	int nfam;
	struct sample *s;
	size_t ns, cap;
};

static void expo_free(struct expo *e)
{
	zw_free(e->s);
	memset(e, 0, sizeof(*e));
}

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Read a metric or label name at *p into out. */
static void read_name(const char **p, char *out, size_t outsz)
{
	size_t n = 0;
	if (!name_char(**p, 1))
		fail_msg("expected a name at: %.40s", *p);
	while (name_char(**p, n == 0)) {
		assert_true(n + 1 < outsz);
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
}

/* Whether sample name s belongs to family f. */
static int belongs(const struct family *f, const char *s)
{
	if (strcmp(f->type, "histogram") != 0)
		return strcmp(s, f->name) == 0;
	size_t n = strlen(f->name);
	return strncmp(s, f->name, n) == 0 &&
	       (strcmp(s + n, "_bucket") == 0 || strcmp(s + n, "_sum") == 0 || strcmp(s + n, "_count") == 0);
}

static void parse_sample(struct expo *e, const char *line)
{
	if (e->ns == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->s = zw_realloc(e->s, e->cap * sizeof(*e->s));
		assert_non_null(e->s);
	}
	struct sample *s = &e->s[e->ns];
	memset(s, 0, sizeof(*s));
	const char *p = line;
	read_name(&p, s->name, sizeof(s->name));
	if (*p == '{') {
		p++;
		while (*p != '}') {
			assert_true(s->nl < MAXL);
			read_name(&p, s->lname[s->nl], sizeof(s->lname[0]));
			for (unsigned k = 0; k < s->nl; k++)
				assert_string_not_equal(s->lname[k], s->lname[s->nl]);
			assert_int_equal(*p++, '=');
			assert_int_equal(*p++, '"');
			size_t n = 0;
			while (*p != '"') {
				char c = *p++;
				if (c == '\0')
					fail_msg("unterminated label value: %s", line);
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						fail_msg("bad escape \\%c in: %s", c, line);
				}
				assert_true(n + 1 < sizeof(s->lval[0]));
				s->lval[s->nl][n++] = c;
			}
			s->lval[s->nl][n] = '\0';
			p++;
			s->nl++;
			if (*p == ',')
				p++;
			else
				assert_int_equal(*p, '}');
		}
		p++;
	}
	assert_int_equal(*p++, ' ');
	char *end = NULL;
	s->value = strtod(p, &end);
	if (end == p || *end != '\0')
		fail_msg("bad value in: %s", line);
	/* the family declared last, with its TYPE */
	if (e->nfam == 0 || !belongs(&e->fam[e->nfam - 1], s->name))
		fail_msg("sample of no declared family (or out of its block): %s", line);
	s->family = e->nfam - 1;
	e->ns++;
}

/* Parse text; every rule of the format this renderer must keep is checked on the way. */
static void expo_parse(struct expo *e, const char *text)
{
	memset(e, 0, sizeof(*e));
	const char *p = text;
	assert_true(*text != '\0');
	assert_int_equal(text[strlen(text) - 1], '\n');
	while (*p) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		char line[1024];
		size_t len = (size_t)(nl - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			const char *q = line + 7;
			char name[128];
			read_name(&q, name, sizeof(name));
			assert_int_equal(*q, ' ');
			/* a new family: unseen, after the previous in sorted order */
			for (int i = 0; i < e->nfam; i++)
				assert_string_not_equal(e->fam[i].name, name);
			if (e->nfam > 0 && strcmp(e->fam[e->nfam - 1].name, name) >= 0)
				fail_msg("families out of order: %s after %s", name, e->fam[e->nfam - 1].name);
			assert_true(e->nfam < 32);
			struct family *f = &e->fam[e->nfam++];
			memset(f, 0, sizeof(*f));
			snprintf(f->name, sizeof(f->name), "%s", name);
			f->help = 1;
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			const char *q = line + 7;
			char name[128];
			read_name(&q, name, sizeof(name));
			assert_int_equal(*q++, ' ');
			assert_true(e->nfam > 0);
			struct family *f = &e->fam[e->nfam - 1];
			assert_string_equal(f->name, name); /* right after its HELP */
			assert_string_equal(f->type, "");
			assert_true(strcmp(q, "counter") == 0 || strcmp(q, "gauge") == 0 || strcmp(q, "histogram") == 0);
			snprintf(f->type, sizeof(f->type), "%s", q);
		} else if (line[0] == '#') {
			fail_msg("unexpected comment: %s", line);
		} else {
			assert_true(e->nfam > 0);
			assert_string_not_equal(e->fam[e->nfam - 1].type, "");
			parse_sample(e, line);
		}
	}
}

/* The labels of s without le, joined, for ordering and grouping. */
static void series_key(const struct sample *s, char *out, size_t outsz)
{
	out[0] = '\0';
	size_t n = 0;
	for (unsigned k = 0; k < s->nl; k++) {
		if (strcmp(s->lname[k], "le") == 0)
			continue;
		n += (size_t)snprintf(out + n, outsz - n, "%s\x01", s->lval[k]);
		assert_true(n < outsz);
	}
}

static const char *label(const struct sample *s, const char *name)
{
	for (unsigned k = 0; k < s->nl; k++)
		if (strcmp(s->lname[k], name) == 0)
			return s->lval[k];
	return NULL;
}

/* Series sorted by label values; histograms: _bucket* then _sum, _count per series,
 * le increasing, counts cumulative, +Inf last and equal to _count. */
static void expo_check_structure(const struct expo *e)
{
	for (size_t i = 0; i < e->ns;) {
		const struct family *f = &e->fam[e->s[i].family];
		char key[1024], prev[1024] = "";
		int first = 1;
		size_t j = i;
		while (j < e->ns && e->s[j].family == e->s[i].family) {
			series_key(&e->s[j], key, sizeof(key));
			if (!first && strcmp(prev, key) >= 0)
				fail_msg("series of %s out of order: %s after %s", f->name, key, prev);
			first = 0;
			snprintf(prev, sizeof(prev), "%s", key);
			if (strcmp(f->type, "histogram") != 0) {
				assert_null(label(&e->s[j], "le"));
				j++;
				continue;
			}
			double last_le = -INFINITY, cum = 0;
			int inf = 0;
			char bucket[128];
			snprintf(bucket, sizeof(bucket), "%s_bucket", f->name);
			while (j < e->ns && strcmp(e->s[j].name, bucket) == 0) {
				char k2[1024];
				series_key(&e->s[j], k2, sizeof(k2));
				assert_string_equal(k2, key);
				const char *le = label(&e->s[j], "le");
				assert_non_null(le);
				assert_false(inf); /* nothing after +Inf */
				double l = strtod(le, NULL);
				assert_true(l > last_le);
				last_le = l;
				inf = strcmp(le, "+Inf") == 0;
				assert_true(e->s[j].value >= cum);
				cum = e->s[j].value;
				j++;
			}
			assert_true(inf);
			assert_true(j + 1 < e->ns);
			char want[160];
			snprintf(want, sizeof(want), "%s_sum", f->name);
			assert_string_equal(e->s[j].name, want);
			series_key(&e->s[j], key, sizeof(key));
			assert_string_equal(key, prev);
			j++;
			snprintf(want, sizeof(want), "%s_count", f->name);
			assert_string_equal(e->s[j].name, want);
			series_key(&e->s[j], key, sizeof(key));
			assert_string_equal(key, prev);
			assert_true(e->s[j].value == cum);
			j++;
		}
		i = j;
	}
}

/* Render m, parse, check. */
static void scrape(struct zw_metrics *m, struct expo *e)
{
	struct zw_buf b = ZW_BUF_INIT;
	struct zw_error err = {0};
	assert_int_equal(zw_metrics_render(m, &b, &err), 0);
	expo_parse(e, zw_buf_str(&b));
	expo_check_structure(e);
	zw_buf_free(&b);
}

/* The value of the sample name{l1=v1,l2=v2...}; NAN when absent. */
static double value(const struct expo *e, const char *name, const char *l1, const char *v1, const char *l2,
		    const char *v2)
{
	for (size_t i = 0; i < e->ns; i++) {
		const struct sample *s = &e->s[i];
		if (strcmp(s->name, name) != 0)
			continue;
		unsigned want = (l1 != NULL) + (l2 != NULL);
		if (s->nl != want)
			continue;
		if (l1 && (!label(s, l1) || strcmp(label(s, l1), v1) != 0))
			continue;
		if (l2 && (!label(s, l2) || strcmp(label(s, l2), v2) != 0))
			continue;
		return s->value;
	}
	return NAN;
}

static size_t count_samples(const struct expo *e, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < e->ns; i++)
		n += strcmp(e->s[i].name, name) == 0;
	return n;
}

static struct zw_metrics *new_metrics(const char *version)
{
	struct zw_metrics *m = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_metrics_new(&m, version, &err), 0);
	return m;
}

/* ---- tests -------------------------------------------------------------------------- */

static void families_declared(void **state)
{
	(void)state;
	struct zw_metrics *m = new_metrics("1.2.3");
	struct expo e;
	scrape(m, &e);
	static const char *const want[][2] = {
		{"zonewarden_build_info", "gauge"},
		{"zonewarden_dns_queries_total", "counter"},
		{"zonewarden_domains", "gauge"},
		{"zonewarden_findings", "gauge"},
		{"zonewarden_leader", "gauge"},
		{"zonewarden_provider_requests_total", "counter"},
		{"zonewarden_queue_depth", "gauge"},
		{"zonewarden_reconcile_duration_seconds", "histogram"},
		{"zonewarden_reconcile_total", "counter"},
	};
	assert_int_equal(e.nfam, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < e.nfam; i++) {
		assert_string_equal(e.fam[i].name, want[i][0]);
		assert_string_equal(e.fam[i].type, want[i][1]);
		assert_true(e.fam[i].help);
	}
	assert_true(value(&e, "zonewarden_build_info", "version", "1.2.3", NULL, NULL) == 1);
	assert_true(value(&e, "zonewarden_domains", NULL, NULL, NULL, NULL) == 0);
	assert_true(value(&e, "zonewarden_leader", NULL, NULL, NULL, NULL) == 0);
	assert_true(value(&e, "zonewarden_queue_depth", NULL, NULL, NULL, NULL) == 0);
	/* the known results exist from the start */
	const char *results[] = {"ok", "error", "requeued", "skipped"};
	for (size_t i = 0; i < 4; i++) {
		assert_true(value(&e, "zonewarden_reconcile_total", "result", results[i], NULL, NULL) == 0);
		assert_true(value(&e, "zonewarden_reconcile_duration_seconds_count", "result", results[i], NULL,
				  NULL) == 0);
	}
	assert_int_equal(count_samples(&e, "zonewarden_findings"), 0);
	expo_free(&e);
	zw_metrics_free(m);

	m = new_metrics(NULL);
	scrape(m, &e);
	assert_true(value(&e, "zonewarden_build_info", "version", "unknown", NULL, NULL) == 1);
	expo_free(&e);
	zw_metrics_free(m);
	zw_metrics_free(NULL);
}

static void counters_and_gauges(void **state)
{
	(void)state;
	struct zw_metrics *m = new_metrics("v");
	zw_metrics_provider_request(m, "cloudflare", 200);
	zw_metrics_provider_request(m, "cloudflare", 200);
	zw_metrics_provider_request(m, "cloudflare", 429);
	zw_metrics_provider_request(m, "cloudflare", 0);
	zw_metrics_provider_request(m, "route53", -1);
	zw_metrics_dns_query(m, "NOERROR", 5);
	zw_metrics_dns_query(m, "NOERROR", 2);
	zw_metrics_dns_query(m, "timeout", 1);
	zw_metrics_dns_query(m, "NXDOMAIN", 0);
	zw_metrics_queue_depth(m, 17);
	zw_metrics_leader(m, 5);
	zw_metrics_domains(m, 1000);
	struct expo e;
	scrape(m, &e);
	const char *pr = "zonewarden_provider_requests_total";
	assert_true(value(&e, pr, "provider", "cloudflare", "status", "200") == 2);
	assert_true(value(&e, pr, "provider", "cloudflare", "status", "429") == 1);
	assert_true(value(&e, pr, "provider", "cloudflare", "status", "error") == 1);
	assert_true(value(&e, pr, "provider", "route53", "status", "error") == 1);
	assert_int_equal(count_samples(&e, pr), 4);
	assert_true(value(&e, "zonewarden_dns_queries_total", "rcode", "NOERROR", NULL, NULL) == 7);
	assert_true(value(&e, "zonewarden_dns_queries_total", "rcode", "timeout", NULL, NULL) == 1);
	assert_int_equal(count_samples(&e, "zonewarden_dns_queries_total"), 2);
	assert_true(value(&e, "zonewarden_queue_depth", NULL, NULL, NULL, NULL) == 17);
	assert_true(value(&e, "zonewarden_leader", NULL, NULL, NULL, NULL) == 1);
	assert_true(value(&e, "zonewarden_domains", NULL, NULL, NULL, NULL) == 1000);
	expo_free(&e);
	zw_metrics_leader(m, 0);
	scrape(m, &e);
	assert_true(value(&e, "zonewarden_leader", NULL, NULL, NULL, NULL) == 0);
	expo_free(&e);
	zw_metrics_free(m);
}

static void histogram(void **state)
{
	(void)state;
	struct zw_metrics *m = new_metrics("v");
	zw_metrics_reconcile(m, "ok", 0.01); /* le is inclusive */
	zw_metrics_reconcile(m, "ok", 0.3);
	zw_metrics_reconcile(m, "ok", 100);
	zw_metrics_reconcile(m, "ok", -4); /* a clock step: counted as 0 */
	zw_metrics_reconcile(m, "error", 2.5);
	struct expo e;
	scrape(m, &e);
	const char *b = "zonewarden_reconcile_duration_seconds_bucket";
	static const struct {
		const char *le;
		double ok, error;
	} want[] = {
		{"0.01", 2, 0}, {"0.05", 2, 0}, {"0.1", 2, 0}, {"0.25", 2, 0}, {"0.5", 3, 0}, {"1", 3, 0},
		{"2.5", 3, 1},	{"5", 3, 1},	{"10", 3, 1},  {"30", 3, 1},   {"60", 3, 1},  {"+Inf", 4, 1},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(value(&e, b, "result", "ok", "le", want[i].le) == want[i].ok);
		assert_true(value(&e, b, "result", "error", "le", want[i].le) == want[i].error);
	}
	assert_int_equal(count_samples(&e, b), 4 * 12);
	assert_true(value(&e, "zonewarden_reconcile_duration_seconds_count", "result", "ok", NULL, NULL) == 4);
	assert_true(value(&e, "zonewarden_reconcile_duration_seconds_sum", "result", "ok", NULL, NULL) == 100.31);
	assert_true(value(&e, "zonewarden_reconcile_duration_seconds_sum", "result", "error", NULL, NULL) == 2.5);
	assert_true(value(&e, "zonewarden_reconcile_total", "result", "ok", NULL, NULL) == 4);
	assert_true(value(&e, "zonewarden_reconcile_total", "result", "error", NULL, NULL) == 1);
	assert_true(value(&e, "zonewarden_reconcile_total", "result", "skipped", NULL, NULL) == 0);
	expo_free(&e);
	zw_metrics_free(m);
}

static void label_escaping(void **state)
{
	(void)state;
	static const char *const names[] = {
		"back\\slash", "quo\"te", "new\nline", "all\\\"\n\\n", "tab\tok", "caf\xc3\xa9", "{x=\"y\"},z",
	};
	struct zw_metrics *m = new_metrics("v\"1\\\n");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		zw_metrics_provider_request(m, names[i], 200);
	zw_metrics_provider_request(m, "bad\xff" "utf8", 500);
	struct expo e;
	scrape(m, &e);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_true(value(&e, "zonewarden_provider_requests_total", "provider", names[i], "status", "200") == 1);
	assert_true(value(&e, "zonewarden_provider_requests_total", "provider", "bad\xef\xbf\xbdutf8", "status",
			  "500") == 1);
	assert_true(value(&e, "zonewarden_build_info", "version", "v\"1\\\n", NULL, NULL) == 1);
	expo_free(&e);
	zw_metrics_free(m);
}

static void set_findings(struct zw_metrics *m, const char *domain, const char *const *pairs, size_t n)
{
	const char *codes[8], *sevs[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		codes[i] = pairs[2 * i];
		sevs[i] = pairs[2 * i + 1];
	}
	assert_int_equal(zw_metrics_findings(m, domain, codes, sevs, n), 0);
}

static double finding(const struct expo *e, const char *code, const char *sev)
{
	return value(e, "zonewarden_findings", "code", code, "severity", sev);
}

static void findings_sum(void **state)
{
	(void)state;
	struct zw_metrics *m = new_metrics("v");
	const char *a[] = {"SPF001", "error", "DKIM002", "warning", "SPF001", "error"};
	const char *b[] = {"SPF001", "error", "DMARC003", "info"};
	set_findings(m, "a.example", a, 3);
	set_findings(m, "b.example", b, 2);
	struct expo e;
	scrape(m, &e);
	assert_true(finding(&e, "SPF001", "error") == 3);
	assert_true(finding(&e, "DKIM002", "warning") == 1);
	assert_true(finding(&e, "DMARC003", "info") == 1);
	assert_int_equal(count_samples(&e, "zonewarden_findings"), 3);
	expo_free(&e);

	/* replacing a domain's findings replaces its contribution */
	const char *a2[] = {"CNAME004", "error"};
	set_findings(m, "a.example", a2, 1);
	scrape(m, &e);
	assert_true(finding(&e, "SPF001", "error") == 1);
	assert_true(isnan(finding(&e, "DKIM002", "warning"))); /* gone, not 0 */
	assert_true(finding(&e, "CNAME004", "error") == 1);
	assert_int_equal(count_samples(&e, "zonewarden_findings"), 3);
	expo_free(&e);

	/* removal, of a domain that has findings and of one that never had */
	assert_int_equal(zw_metrics_findings(m, "b.example", NULL, NULL, 0), 0);
	assert_int_equal(zw_metrics_findings(m, "never.example", NULL, NULL, 0), 0);
	scrape(m, &e);
	assert_true(isnan(finding(&e, "SPF001", "error")));
	assert_true(finding(&e, "CNAME004", "error") == 1);
	assert_int_equal(count_samples(&e, "zonewarden_findings"), 1);
	expo_free(&e);
	assert_int_equal(zw_metrics_findings(m, "a.example", NULL, NULL, 0), 0);
	scrape(m, &e);
	assert_int_equal(count_samples(&e, "zonewarden_findings"), 0);
	expo_free(&e);

	const char *codes[] = {"X", NULL}, *sevs[] = {"error", "error"};
	assert_int_equal(zw_metrics_findings(m, "c.example", codes, sevs, 2), ZW_EINVAL);
	assert_int_equal(zw_metrics_findings(m, NULL, codes, sevs, 1), ZW_EINVAL);
	assert_int_equal(zw_metrics_findings(m, "c.example", NULL, sevs, 1), ZW_EINVAL);
	zw_metrics_free(m);
}

static void findings_many_domains(void **state)
{
	(void)state;
	struct zw_metrics *m = new_metrics("v");
	char name[64];
	const char *pairs[] = {"SPF001", "error", "DKIM002", "warning"};
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "d%04d.example", (i * 7919) % 1000); /* not in order */
		set_findings(m, name, pairs, i % 3 == 0 ? 2 : 1);
	}
	struct expo e;
	scrape(m, &e);
	assert_true(finding(&e, "SPF001", "error") == 1000);
	assert_true(finding(&e, "DKIM002", "warning") == 334);
	expo_free(&e);
	for (int i = 0; i < 1000; i += 2) {
		snprintf(name, sizeof(name), "d%04d.example", i);
		assert_int_equal(zw_metrics_findings(m, name, NULL, NULL, 0), 0);
	}
	scrape(m, &e);
	assert_true(finding(&e, "SPF001", "error") == 500);
	expo_free(&e);
	zw_metrics_free(m);
}

/* A failed update leaves the rendering exactly as it was. */
static struct zw_metrics *alloc_m;
static char *alloc_before;

static int findings_update(void)
{
	const char *codes[] = {"NEW1", "SPF001", "NEW2"}, *sevs[] = {"error", "error", "info"};
	int rc = zw_metrics_findings(alloc_m, "fresh.example", codes, sevs, 3);
	if (rc == 0) /* a removal allocates nothing: back to the state before */
		return zw_metrics_findings(alloc_m, "fresh.example", NULL, NULL, 0);
	/* the injected failure is behind us: rendering allocates freely */
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_metrics_render(alloc_m, &b, NULL), 0);
	assert_string_equal(zw_buf_str(&b), alloc_before);
	zw_buf_free(&b);
	return rc;
}

static void findings_alloc_failure(void **state)
{
	(void)state;
	alloc_m = new_metrics("v");
	const char *pairs[] = {"SPF001", "error"};
	set_findings(alloc_m, "a.example", pairs, 1);
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_metrics_render(alloc_m, &b, NULL), 0);
	alloc_before = zw_buf_detach(&b);
	ZW_FOR_EACH_ALLOC_FAILURE(findings_update());
	zw_free(alloc_before);
	zw_metrics_free(alloc_m);
}

/* ---- threads ------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS	2000

struct worker {
	struct zw_metrics *m;
	int id;
};

static void *update_many(void *arg)
{
	struct worker *w = arg;
	char dom[32];
	snprintf(dom, sizeof(dom), "w%d.example", w->id);
	const char *codes[] = {"SPF001", "DKIM002"}, *sevs[] = {"error", "warning"};
	for (int i = 0; i < ROUNDS; i++) {
		zw_metrics_reconcile(w->m, i % 2 ? "ok" : "error", 0.2);
		zw_metrics_provider_request(w->m, "cloudflare", 200);
		zw_metrics_dns_query(w->m, "NOERROR", 3);
		zw_metrics_queue_depth(w->m, (size_t)i);
		if (zw_metrics_findings(w->m, dom, codes, sevs, (size_t)(i % 3)) != 0)
			abort();
	}
	return NULL;
}

static void *render_many(void *arg)
{
	struct zw_metrics *m = arg;
	for (int i = 0; i < 200; i++) {
		struct expo e;
		scrape(m, &e);
		expo_free(&e);
	}
	return NULL;
}

static void threads(void **state)
{
	(void)state;
	struct zw_metrics *m = new_metrics("v");
	pthread_t th[THREADS + 1];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){m, i};
		assert_int_equal(pthread_create(&th[i], NULL, update_many, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&th[THREADS], NULL, render_many, m), 0);
	for (int i = 0; i <= THREADS; i++)
		pthread_join(th[i], NULL);
	struct expo e;
	scrape(m, &e);
	assert_true(value(&e, "zonewarden_reconcile_total", "result", "ok", NULL, NULL) == THREADS * ROUNDS / 2);
	assert_true(value(&e, "zonewarden_reconcile_total", "result", "error", NULL, NULL) == THREADS * ROUNDS / 2);
	assert_true(value(&e, "zonewarden_reconcile_duration_seconds_count", "result", "ok", NULL, NULL) ==
		    THREADS * ROUNDS / 2);
	assert_true(value(&e, "zonewarden_provider_requests_total", "provider", "cloudflare", "status", "200") ==
		    THREADS * ROUNDS);
	assert_true(value(&e, "zonewarden_dns_queries_total", "rcode", "NOERROR", NULL, NULL) == 3.0 * THREADS * ROUNDS);
	/* the last round of each worker set (ROUNDS - 1) % 3 == 1 pair */
	assert_int_equal((ROUNDS - 1) % 3, 1);
	assert_true(finding(&e, "SPF001", "error") == THREADS);
	assert_true(isnan(finding(&e, "DKIM002", "warning")));
	expo_free(&e);
	zw_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(families_declared),
		cmocka_unit_test(counters_and_gauges),
		cmocka_unit_test(histogram),
		cmocka_unit_test(label_escaping),
		cmocka_unit_test(findings_sum),
		cmocka_unit_test(findings_many_domains),
		cmocka_unit_test(findings_alloc_failure),
		cmocka_unit_test(threads),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
