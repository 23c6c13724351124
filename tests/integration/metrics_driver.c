/*
 * metrics_driver.c - the endpoint server (reconcile/serve.c) and the metrics
 * (reconcile/metrics.c) in a process of their own, for tests/integration/metrics.test.
 *
 *   metrics_driver ADDR [DOMAINS]
 *
 * Fills the metrics with a known content (below; the test computes what to expect from
 * DOMAINS, default 1000), starts the server on ADDR, prints "port N" on stdout once it
 * listens, then waits for signals: SIGUSR1 makes /readyz ready, SIGUSR2 removes every
 * domain's findings, SIGTERM or SIGINT stop the server and exit 0. A server that cannot
 * start prints its error on stderr and exits 2.
 *
 * Content: domain i (d00000.example ...) has SPF_TOO_MANY_LOOKUPS/error, plus
 * DKIM_KEY_WEAK/warning when i % 2 == 0, plus DMARC_POLICY_NONE/info when i % 5 == 0;
 * reconciles ok 0.05 s x3, error 2 s, requeued 100 s; provider requests cloudflare 200 x2,
 * cloudflare 429, route53 no response, and 500 from a provider named with a quote, a
 * backslash and a newline; DNS NOERROR 10, NXDOMAIN 2, timeout 1; queue depth 7, leader 1,
 * domains DOMAINS, version "test-1.0".
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/metrics.h"

struct readiness {
	atomic_int ready;
};

static int ready_cb(void *arg, char *why, size_t whysz)
{
	struct readiness *r = arg;
	if (atomic_load(&r->ready))
		return 1;
	snprintf(why, whysz, "waiting for the first sync");
	return 0;
}

static int fill(struct zw_metrics *m, unsigned long domains)
{
	for (unsigned long i = 0; i < domains; i++) {
		char name[32];
		const char *codes[3], *sevs[3];
		size_t n = 0;
		snprintf(name, sizeof(name), "d%05lu.example", i);
		codes[n] = "SPF_TOO_MANY_LOOKUPS", sevs[n++] = "error";
		if (i % 2 == 0)
			codes[n] = "DKIM_KEY_WEAK", sevs[n++] = "warning";
		if (i % 5 == 0)
			codes[n] = "DMARC_POLICY_NONE", sevs[n++] = "info";
		if (zw_metrics_findings(m, name, codes, sevs, n) != 0)
			return -1;
	}
	for (int i = 0; i < 3; i++)
		zw_metrics_reconcile(m, "ok", 0.05);
	zw_metrics_reconcile(m, "error", 2);
	zw_metrics_reconcile(m, "requeued", 100);
	zw_metrics_provider_request(m, "cloudflare", 200);
	zw_metrics_provider_request(m, "cloudflare", 200);
	zw_metrics_provider_request(m, "cloudflare", 429);
	zw_metrics_provider_request(m, "route53", 0);
	zw_metrics_provider_request(m, "we\"ird\\name\nx", 500);
	zw_metrics_dns_query(m, "NOERROR", 10);
	zw_metrics_dns_query(m, "NXDOMAIN", 2);
	zw_metrics_dns_query(m, "timeout", 1);
	zw_metrics_queue_depth(m, 7);
	zw_metrics_leader(m, 1);
	zw_metrics_domains(m, domains);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: metrics_driver ADDR [DOMAINS]\n");
		return 2;
	}
	unsigned long domains = argc == 3 ? strtoul(argv[2], NULL, 10) : 1000;
	struct zw_error err = {0};
	struct zw_metrics *m = NULL;
	struct zw_serve *s = NULL;
	struct readiness r;
	atomic_init(&r.ready, 0);

	/* blocked here, so the server's thread inherits the mask; read with sigwait */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (zw_metrics_new(&m, "test-1.0", &err) != 0 || fill(m, domains) != 0) {
		fprintf(stderr, "metrics_driver: cannot fill the metrics\n");
		zw_metrics_free(m);
		return 1;
	}
	if (zw_serve_start(&s, argv[1], m, ready_cb, &r, &err) != 0) {
		fprintf(stderr, "metrics_driver: %s\n", err.msg);
		zw_metrics_free(m);
		return 2;
	}
	printf("port %u\n", zw_serve_port(s));
	fflush(stdout);

	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			atomic_store(&r.ready, 1);
		} else if (sig == SIGUSR2) {
			for (unsigned long i = 0; i < domains; i++) {
				char name[32];
				snprintf(name, sizeof(name), "d%05lu.example", i);
				zw_metrics_findings(m, name, NULL, NULL, 0);
			}
		} else {
			break;
		}
	}
	zw_serve_stop(s);
	zw_metrics_free(m);
	return 0;
}
