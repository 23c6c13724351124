/*
 * metrics.h - the controller's metrics, and the HTTP endpoints that serve them
 * (libmicrohttpd): /healthz, /readyz and /metrics in the Prometheus text exposition
 * format 0.0.4 (SPEC §9).
 *
 * Families (all prefixed zonewarden_):
 *   reconcile_total{result}                 counter   result: ok | error | requeued | skipped
 *   reconcile_duration_seconds{result}      histogram buckets .01 .05 .1 .25 .5 1 2.5 5 10 30 60
 *   findings{code,severity}                 gauge     the sum over domains of their last cycle
 *   provider_requests_total{provider,status} counter  status: HTTP status, or "error"
 *   dns_queries_total{rcode}                counter   NOERROR, NXDOMAIN, ..., or timeout|network|malformed
 *   queue_depth                             gauge
 *   leader                                  gauge     1 leading, 0 not
 *   domains                                 gauge     domains known to the controller
 *   build_info{version}                     gauge     1
 * Label values are escaped as the format says (backslash, quote, newline).
 * Thread-safe (one mutex); no global state.
 */
#ifndef ZW_METRICS_H
#define ZW_METRICS_H

#include <stddef.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"

struct zw_metrics;

int zw_metrics_new(struct zw_metrics **out, const char *version, struct zw_error *err);
void zw_metrics_free(struct zw_metrics *m);

void zw_metrics_reconcile(struct zw_metrics *m, const char *result, double seconds);
/* Replace what domain contributes to zonewarden_findings: n (code, severity) pairs.
 * n == 0 removes the domain. */
int zw_metrics_findings(struct zw_metrics *m, const char *domain, const char *const *codes,
			const char *const *severities, size_t n);
void zw_metrics_provider_request(struct zw_metrics *m, const char *provider, long status);
void zw_metrics_dns_query(struct zw_metrics *m, const char *rcode, unsigned long count);
void zw_metrics_queue_depth(struct zw_metrics *m, size_t depth);
void zw_metrics_leader(struct zw_metrics *m, int leader);
void zw_metrics_domains(struct zw_metrics *m, size_t n);

/* The whole exposition, appended to out. */
int zw_metrics_render(struct zw_metrics *m, struct zw_buf *out, struct zw_error *err);

/* ---- the endpoint server ---------------------------------------------------------------- */

struct zw_serve;

/* ready(arg) is asked on every /readyz, from the server's thread (so it must be
 * thread-safe): 1 ready (200 "ok"), 0 not (503 with the reason it writes into why, one
 * line). /healthz answers 200 "ok" while the process runs. An unknown path: 404 whatever
 * the method; GET and HEAD only on the three paths, any other method 405 with
 * "Allow: GET, HEAD". addr "127.0.0.1:8080", "[::1]:8080" or "0.0.0.0:8080": a numeric
 * host (a name or an empty host is ZW_EINVAL), IPv6 in brackets (bound v6-only); port 0
 * picks a free one (zw_serve_port tells which). ZW_EIO with the reason when the address
 * cannot be bound. m, ready and arg must outlive zw_serve_stop(). (reconcile/serve.c) */
int zw_serve_start(struct zw_serve **out, const char *addr, struct zw_metrics *m,
		   int (*ready)(void *arg, char *why, size_t whysz), void *arg, struct zw_error *err);
unsigned zw_serve_port(const struct zw_serve *s);
void zw_serve_stop(struct zw_serve *s);

#endif
