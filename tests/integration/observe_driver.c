/*
 * observe_driver.c - drive the DNS engine from the integration tests.
 *
 *   observe_driver [OPTS] observe DOMAIN [NAME/TYPE...]  one observation, dumped
 *   observe_driver [OPTS] many DOMAIN...                 observed at once on one loop
 *   observe_driver [OPTS] lookup NAME TYPE                resolved from the root
 *   observe_driver [OPTS] query ADDR NAME TYPE            one transport exchange
 *   observe_driver [OPTS] sweep DOMAIN [NAME/TYPE...]    fail each allocation in turn
 * OPTS: --hints FILE (else $ZONEWARDEN_ROOT_HINTS), --timeout MS, --tries N,
 *       --no-edns, --inflight N, --stats (print the number of queries sent)
 * Output is the engine's own dump format (zw_obs_dump); exit status 0 unless the engine
 * returned an error (or, for sweep, an allocation failure was reported as success).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/resolve.h"

struct opts {
	const char *hints;
	struct zw_resolver_opts ro;
	int stats;
};

static int parse_type(const char *s, uint16_t *t)
{
	ldns_rr_type ty = ldns_get_rr_type_by_name(s);
	if (ty == 0) {
		fprintf(stderr, "unknown type %s\n", s);
		return -1;
	}
	*t = (uint16_t)ty;
	return 0;
}

static int parse_questions(struct zw_question **out, char **argv, int argc)
{
	struct zw_question *qs = zw_calloc((size_t)argc + 1, sizeof(*qs));
	if (!qs)
		return -1;
	for (int i = 0; i < argc; i++) {
		char *slash = strrchr(argv[i], '/');
		if (!slash || parse_type(slash + 1, &qs[i].type) < 0) {
			fprintf(stderr, "bad question %s (want NAME/TYPE)\n", argv[i]);
			zw_free(qs);
			return -1;
		}
		*slash = '\0';
		qs[i].name = argv[i];
	}
	*out = qs;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One observation of `domains` (each with the questions), dumped to `out` if given. */
static int observe(const struct opts *o, char **domains, int nd, const struct zw_question *qs, size_t nq,
		   struct zw_buf *out, struct zw_error *err)
{
	struct zw_roothints *h = NULL;
	struct zw_resolver *r = NULL;
	struct zw_obs **obs = zw_calloc((size_t)nd + 1, sizeof(*obs));
	int rc;

	if (!obs)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	rc = zw_roothints_select(&h, o->hints, err);
	if (rc == 0)
		rc = zw_resolver_new(&r, h, &o->ro, err);
	for (int i = 0; rc == 0 && i < nd; i++)
		rc = zw_resolver_observe(r, &obs[i], domains[i], qs, nq, err);
	if (rc == 0)
		rc = zw_resolver_run(r, err);
	for (int i = 0; rc == 0 && out && i < nd; i++) {
		if (nd > 1)
			rc = zw_buf_addf(out, "==== %s\n", domains[i]);
		if (rc == 0)
			rc = zw_obs_dump(out, obs[i]);
	}
	if (rc == 0 && out && o->stats)
		rc = zw_buf_addf(out, "queries %zu\n", zw_resolver_queries_sent(r));
	for (int i = 0; i < nd; i++)
		zw_obs_free(obs[i]);
	zw_free(obs);
	zw_resolver_free(r);
	zw_roothints_free(h);
	return rc;
}

static void on_query(void *arg, const struct zw_dns_result *res)
{
	struct zw_buf *b = arg;
	size_t an = res->pkt ? ldns_rr_list_rr_count(ldns_pkt_answer(res->pkt)) : 0;
	zw_buf_addf(b,
		    "status=%s transport=%s tc=%d edns-fallback=%d udp-sent=%u ignored=%u rcode=%s an=%zu "
		    "reason=%s\n",
		    zw_dns_status_name(res->status), zw_dns_transport_name(res->transport), res->truncated,
		    res->edns_fallback, res->udp_sent, res->ignored,
		    res->pkt ? zw_rcode_name(ldns_pkt_get_rcode(res->pkt)) : "-", an,
		    res->reason[0] ? res->reason : "-");
}

static int query(const struct opts *o, const char *addr, const char *name, const char *type,
		 struct zw_buf *out, struct zw_error *err)
{
	struct zw_dns_loop *l = NULL;
	struct zw_dns_addr a;
	uint16_t t;
	int rc;

	if (parse_type(type, &t) < 0)
		return ZW_EINVAL;
	rc = zw_dns_addr_parse(&a, addr, ZW_DNS_PORT, err);
	if (rc == 0)
		rc = zw_dns_loop_new(&l, &o->ro.dns, err);
	if (rc == 0)
		rc = zw_dns_query(l, &a, name, t, on_query, out, err);
	if (rc == 0)
		rc = zw_dns_run(l, err);
	zw_dns_loop_free(l);
	return rc;
}

static int lookup(const struct opts *o, const char *name, const char *type, struct zw_buf *out,
		  struct zw_error *err)
{
	struct zw_roothints *h = NULL;
	struct zw_resolver *r = NULL;
	struct zw_lookup *lk = NULL;
	uint16_t t;
	int rc;

	if (parse_type(type, &t) < 0)
		return ZW_EINVAL;
	rc = zw_roothints_select(&h, o->hints, err);
	if (rc == 0)
		rc = zw_resolver_new(&r, h, &o->ro, err);
	if (rc == 0)
		rc = zw_resolver_lookup(r, &lk, name, t, err);
	if (rc == 0)
		rc = zw_resolver_run(r, err);
	if (rc == 0)
		rc = zw_obs_lookup_dump(out, &lk->res);
	zw_lookup_free(lk);
	zw_resolver_free(r);
	zw_roothints_free(h);
	return rc;
}

/* Fail allocation 1, 2, ... of a whole observation; each run must fail cleanly. */
static int sweep(const struct opts *o, char **domains, const struct zw_question *qs, size_t nq)
{
	struct zw_error err = {0};
	long total, bad = 0, failed_runs = 0, step;

	zw_alloc_fail_at(0);
	if (observe(o, domains, 1, qs, nq, NULL, &err) != 0) {
		fprintf(stderr, "sweep: the clean run failed: %s\n", err.msg);
		return 1;
	}
	total = zw_alloc_count();
	step = total > 400 ? total / 400 : 1;
	for (long i = 1; i <= total; i += step) {
		zw_error_clear(&err);
		zw_alloc_fail_at(i);
		int rc = observe(o, domains, 1, qs, nq, NULL, &err);
		int failed = zw_alloc_failed();
		zw_alloc_fail_at(0);
		if (failed) {
			failed_runs++;
			if (rc == 0) {
				fprintf(stderr, "sweep: allocation %ld failed but the run succeeded\n", i);
				bad++;
			}
		}
	}
	printf("sweep allocations=%ld step=%ld failed-runs=%ld bad=%ld\n", total, step, failed_runs, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct zw_buf out = ZW_BUF_INIT;
	struct zw_error err = {0};
	struct zw_question *qs = NULL;
	int i = 1, rc = ZW_EINVAL;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--hints") == 0 && i + 1 < argc)
			o.hints = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			o.ro.dns.timeout_ms = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--tries") == 0 && i + 1 < argc)
			o.ro.dns.udp_tries = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc)
			o.ro.dns.max_inflight = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--no-edns") == 0)
			o.ro.dns.no_edns = 1;
		else if (strcmp(argv[i], "--stats") == 0)
			o.stats = 1;
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: observe_driver [OPTS] observe|many|lookup|query|sweep ...\n");
		return 2;
	}
	const char *cmd = argv[i++];
	long long t0 = now_ms();
	if (strcmp(cmd, "observe") == 0 && i < argc) {
		if (parse_questions(&qs, argv + i + 1, argc - i - 1) < 0)
			return 2;
		rc = observe(&o, argv + i, 1, qs, (size_t)(argc - i - 1), &out, &err);
	} else if (strcmp(cmd, "many") == 0 && i < argc) {
		rc = observe(&o, argv + i, argc - i, NULL, 0, &out, &err);
	} else if (strcmp(cmd, "lookup") == 0 && i + 2 == argc) {
		rc = lookup(&o, argv[i], argv[i + 1], &out, &err);
	} else if (strcmp(cmd, "query") == 0 && i + 3 == argc) {
		rc = query(&o, argv[i], argv[i + 1], argv[i + 2], &out, &err);
	} else if (strcmp(cmd, "sweep") == 0 && i < argc) {
		if (parse_questions(&qs, argv + i + 1, argc - i - 1) < 0)
			return 2;
		rc = sweep(&o, argv + i, qs, (size_t)(argc - i - 1));
		zw_free(qs);
		return rc;
	} else {
		fprintf(stderr, "bad command line\n");
		return 2;
	}
	fwrite(zw_buf_str(&out), 1, out.len, stdout);
	if (getenv("ZW_DRIVER_TIME"))
		fprintf(stderr, "elapsed %lld ms\n", now_ms() - t0);
	zw_buf_free(&out);
	zw_free(qs);
	if (rc) {
		char line[1024];
		zw_error_format(line, sizeof(line), &err);
		fprintf(stderr, "error: %s\n", line);
		return 1;
	}
	return 0;
}
