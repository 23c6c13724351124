/*
 * lease_driver.c - drives leader election (reconcile/lease.c) and the event recorder
 * (reconcile/events.c) through the real Kubernetes client (reconcile/kube.c) for
 * tests/integration/lease.test and bench/lease, with the real clock, against a real
 * kube-apiserver.
 *
 *   lease_driver --kubeconfig F lease --namespace NS --name N --identity ID
 *                [--duration-ms N --renew-ms N --retry-ms N]
 *       Runs the elector until SIGTERM or SIGINT, then stops it with release. Prints
 *       (flushed) "started ID WALL_MS" and "stopped ID WALL_MS" from the callbacks, and
 *       "exit ID WALL_MS" last; WALL_MS is milliseconds since the epoch.
 *
 *   lease_driver --kubeconfig F events --namespace NS --kind K --name N --uid U
 *                --type T --reason R --action A --note TEXT --count N [--distinct]
 *       Records the event N times through one recorder (--distinct appends " #i" to
 *       the note, so each is a different event). Prints "recorded=N errors=N dropped=N"
 *       and the first error, if any.
 *
 * Instead of --kubeconfig F: --server URL --token-file F (the test's plain-http proxy).
 * Exits 0 on success, 2 when a call failed, 1 on a usage error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/kube.h"

static long long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_started(void *arg)
{
	printf("started %s %lld\n", (const char *)arg, wall_ms());
	fflush(stdout);
}

static void on_stopped(void *arg)
{
	printf("stopped %s %lld\n", (const char *)arg, wall_ms());
	fflush(stdout);
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return def;
}

static int flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

static unsigned num(const char *s)
{
	return s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

static int run_lease(struct zw_kube *k, int argc, char **argv)
{
	const char *id = opt(argc, argv, "--identity", NULL);
	struct zw_lease_opts o = {
		.namespace = opt(argc, argv, "--namespace", "default"),
		.name = opt(argc, argv, "--name", "zonewarden"),
		.identity = id,
		.duration_ms = num(opt(argc, argv, "--duration-ms", NULL)),
		.renew_deadline_ms = num(opt(argc, argv, "--renew-ms", NULL)),
		.retry_period_ms = num(opt(argc, argv, "--retry-ms", NULL)),
		.on_started = on_started,
		.on_stopped = on_stopped,
		.arg = (void *)id,
	};
	/* the signals are taken by sigwait in this thread only */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct zw_error err = {0};
	struct zw_lease *l = NULL;
	if (zw_lease_start(&l, k, &o, &err) < 0) {
		fprintf(stderr, "lease: %s\n", err.msg);
		return 2;
	}
	int sig = 0;
	sigwait(&set, &sig);
	zw_lease_stop(l, 1);
	printf("exit %s %lld\n", id ? id : "", wall_ms());
	fflush(stdout);
	return 0;
}

static int run_events(struct zw_kube *k, int argc, char **argv)
{
	struct zw_kube_ref ref = {
		.api_version = opt(argc, argv, "--api-version", "zonewarden.dev/v1alpha1"),
		.kind = opt(argc, argv, "--kind", "MailDomain"),
		.namespace = opt(argc, argv, "--namespace", "default"),
		.name = opt(argc, argv, "--name", NULL),
		.uid = opt(argc, argv, "--uid", NULL),
	};
	const char *type = opt(argc, argv, "--type", "Normal");
	const char *reason = opt(argc, argv, "--reason", "RecordsInSync");
	const char *action = opt(argc, argv, "--action", "Reconcile");
	const char *note = opt(argc, argv, "--note", "");
	unsigned count = num(opt(argc, argv, "--count", "1"));
	int distinct = flag(argc, argv, "--distinct");
	struct zw_error err = {0};
	struct zw_events *e = NULL;
	if (zw_events_new(&e, k, "zonewarden.dev/controller", opt(argc, argv, "--instance", "lease-driver_0"),
			  &err) < 0) {
		fprintf(stderr, "events: %s\n", err.msg);
		return 2;
	}
	unsigned recorded = 0, errors = 0;
	char first[ZW_ERR_MSG_MAX] = "";
	for (unsigned i = 0; i < count; i++) {
		struct zw_buf n = ZW_BUF_INIT;
		if (distinct)
			zw_buf_addf(&n, "%s #%u", note, i);
		else
			zw_buf_adds(&n, note);
		struct zw_error e1 = {0};
		if (zw_events_record(e, &ref, type, reason, action, zw_buf_str(&n), &e1) < 0) {
			if (!errors++)
				snprintf(first, sizeof(first), "%s", e1.msg);
		} else {
			recorded++;
		}
		zw_buf_free(&n);
	}
	printf("recorded=%u errors=%u dropped=%lu\n", recorded, errors, zw_events_dropped(e));
	if (errors)
		printf("error: %s\n", first);
	zw_events_free(e);
	return errors ? 2 : 0;
}

int main(int argc, char **argv)
{
	const char *kc = opt(argc, argv, "--kubeconfig", NULL);
	const char *mode = NULL;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "lease") == 0 || strcmp(argv[i], "events") == 0) {
			mode = argv[i];
			break;
		}
	if (!mode) {
		fprintf(stderr, "usage: lease_driver --kubeconfig F lease|events [options]\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct zw_kube_config cfg = {0};
	struct zw_kube *k = NULL;
	struct zw_error err = {0};
	const char *server = opt(argc, argv, "--server", NULL);
	int rc = 0;
	if (server) { /* a plain-http test proxy (events_proxy.py), which a kubeconfig refuses */
		cfg.server = zw_strdup(server);
		cfg.token_file = zw_strdup(opt(argc, argv, "--token-file", ""));
		cfg.namespace = zw_strdup("default");
		if (!cfg.server || !cfg.token_file || !cfg.namespace)
			rc = zw_error_set(&err, ZW_ENOMEM, "out of memory");
	} else {
		rc = zw_kube_config_load(&cfg, kc, &err);
	}
	if (rc < 0 || zw_kube_new(&k, &cfg, NULL, &err) < 0) {
		fprintf(stderr, "kube: %s\n", err.msg);
		zw_kube_config_free(&cfg);
		return 2;
	}
	rc = strcmp(mode, "lease") == 0 ? run_lease(k, argc, argv) : run_events(k, argc, argv);
	zw_kube_free(k);
	zw_kube_config_free(&cfg);
	return rc;
}
