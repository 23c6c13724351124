/*
 * controller.h - `zonewarden run`: the long-running, operator-style reconciler (SPEC §9).
 *
 * Sources feed a work queue keyed by domain (reconcile/queue.h); N workers take keys in
 * batches and run one reconcile cycle each (reconcile/cycle.h): observe, diagnose, plan,
 * apply and verify (never apply with dry_run, and only while leading).
 *   - file source: a manifest directory, loaded whole, re-read when inotify reports a
 *     change and on every resync. A set with errors is reported and ignored: the last good
 *     set stays in force, so nothing is ever deleted because a file failed to parse.
 *     A domain that leaves the files is forgotten, never cleaned up (only the Kubernetes
 *     finalizer deletes records).
 *   - Kubernetes source: MailDomain and Provider custom resources through informers (list
 *     + watch), status with conditions Ready / Delegated / InSync, events, the finalizer
 *     zonewarden.dev/cleanup for deletionPolicy: Delete, and a Lease when leader_elect.
 * Per-item backoff on failure (5 ms x 2^n capped), an overall token bucket, a resync of
 * every key with 10 % jitter. /healthz, /readyz and /metrics on metrics_addr; JSON logs.
 * SIGTERM or SIGINT drain the workers, release the lease and return 0; SIGHUP reloads.
 * All state hangs off one struct per call: no global mutable state.
 */
#ifndef ZW_CONTROLLER_H
#define ZW_CONTROLLER_H

#include "reconcile/cycle.h"
#include "reconcile/log.h"

struct zw_controller_opts {
	const char *manifests_dir; /* file source, or NULL */
	int kubernetes;		   /* Kubernetes source */
	const char *kubeconfig;	   /* NULL: $KUBECONFIG, in-cluster, ~/.kube/config */
	const char *namespace;	   /* NULL: every namespace */
	unsigned workers;	   /* 0: 4 */
	unsigned resync_s;	   /* 0: 300 */
	const char *metrics_addr;  /* NULL: 127.0.0.1:8080, or 0.0.0.0:8080 in a cluster */
	int leader_elect;	   /* with kubernetes */
	const char *lease_name;	   /* NULL: zonewarden */
	const char *lease_namespace;
	const char *identity; /* NULL: $POD_NAME or the host name, plus a random suffix */
	unsigned lease_duration_ms, renew_deadline_ms, retry_period_ms; /* 0: 15 s, 10 s, 2 s */
	int dry_run;
	enum zw_log_level log_level;
	struct zw_run_opts run; /* root hints, plugin dir, verify timeout (selected unused) */
	double check_timeout;	/* the live diagnosis' limit per cycle, seconds; 0: none */
};

/* Runs until SIGTERM/SIGINT (blocked in the calling thread and every thread it starts,
 * read through a signalfd). 0 after a clean drain; an error when the controller could
 * not start (bad address, no kubeconfig, ...), with one line in err. */
int zw_controller_run(const struct zw_controller_opts *o, struct zw_error *err);

#endif
