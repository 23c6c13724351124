/*
 * kube_driver.c - drives reconcile/kube.c and informer.c against a real kube-apiserver for
 * tests/integration/kube.test. One subcommand per run; results on stdout, one line each:
 *
 *   kube_driver KUBECONFIG config                 server, namespace, auth kind
 *   kube_driver KUBECONFIG get PATH               the object, compact JSON
 *   kube_driver KUBECONFIG req METHOD PATH [JSON] "status=N" then the answer (or the error)
 *   kube_driver KUBECONFIG merge PATH JSON        merge patch; the answer
 *   kube_driver KUBECONFIG jpatch PATH JSON       JSON patch; the answer
 *   kube_driver KUBECONFIG list PATH LIMIT        "pages=N items=M names=a,b,..."
 *   kube_driver KUBECONFIG tokenswap FILE TOKEN GETPATH
 *                                                 write TOKEN into FILE after the client read
 *                                                 it, then GET; prints the statuses observed
 *   kube_driver KUBECONFIG rotate FILE TOKEN GETPATH
 *                                                 GET; write TOKEN into FILE; GET; move the
 *                                                 client's clock 61 s on; GET: the statuses
 *   kube_driver KUBECONFIG informer PATH STOPFILE [LIMIT [WMIN WMAX]]
 *                                                 run an informer (watches of WMIN-WMAX
 *                                                 seconds, default 2-4) and print every
 *                                                 event "EV ADDED ns/name rv" as it comes; when
 *                                                 STOPFILE exists: stop, then print the cache
 *                                                 ("KEY ns/name rv") and "STATS lists=..".
 * Exit status: 0 done, 2 a clean failure (the error on stderr), 1 a usage error.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/kube.h"

static int fail(const struct zw_error *err)
{
	fprintf(stderr, "error: %s: %s\n", zw_error_name(err->code), err->msg);
	return 2;
}

static void print_json(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	printf("%s\n", s ? s : "null");
	cJSON_free(s);
}

struct observed {
	char line[512];
	size_t len;
	uint64_t skew_ms; /* added to the monotonic clock the client sees */
};

static uint64_t skewed_now(void *ctx)
{
	const struct observed *o = ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + o->skew_ms;
}

static void observe(void *ctx, const char *method, const char *account, long status)
{
	struct observed *o = ctx;
	(void)account;
	if (o->len < sizeof(o->line) - 32)
		o->len += (size_t)snprintf(o->line + o->len, sizeof(o->line) - o->len, "%s%s:%ld",
					   o->len ? " " : "", method, status);
}

static const char *rv_of(const cJSON *obj)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(m, "resourceVersion");
	return cJSON_IsString(rv) ? rv->valuestring : "?";
}

static void on_event(void *arg, enum zw_kube_event ev, const char *key, const cJSON *obj)
{
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED"};
	(void)arg;
	printf("EV %s %s %s\n", names[ev], key, rv_of(obj));
	fflush(stdout);
}

static int run_informer(struct zw_kube *k, const char *path, const char *stopfile, unsigned limit,
			unsigned wmin, unsigned wmax)
{
	struct zw_kube_informer *inf = NULL;
	struct zw_error err = {0};
	struct zw_kube_informer_opts o = {
		.path = path, .handler = on_event, .limit = limit, .watch_min_s = wmin, .watch_max_s = wmax};
	int rc = zw_kube_informer_start(&inf, k, &o, &err), synced = 0;
	if (rc)
		return fail(&err);
	while (access(stopfile, F_OK) != 0) {
		if (!synced && zw_kube_informer_synced(inf)) {
			synced = 1;
			printf("SYNCED\n");
			fflush(stdout);
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	char **keys = NULL;
	size_t n = 0;
	if ((rc = zw_kube_informer_keys(inf, &keys, &n, &err))) {
		zw_kube_informer_stop(inf);
		return fail(&err);
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *obj = zw_kube_informer_get(inf, keys[i]);
		printf("KEY %s %s\n", keys[i], rv_of(obj));
		cJSON_Delete(obj);
	}
	zw_strv_free(keys, n);
	struct zw_kube_informer_stats st;
	zw_kube_informer_stats(inf, &st);
	zw_kube_informer_stop(inf);
	printf("STATS lists=%lu watches=%lu expired=%lu events=%lu bookmarks=%lu\n", st.lists, st.watches,
	       st.expired, st.events, st.bookmarks);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", text);
	return fclose(f);
}

int main(int argc, char **argv)
{
	struct zw_kube_config cfg;
	struct zw_kube *k = NULL;
	struct zw_error err = {0};
	struct observed obs = {{0}, 0, 0};
	struct zw_http_hooks hooks = {
		.log_level = ZW_HLOG_ERROR, .ctx = &obs, .observe = observe, .now_ms = skewed_now};
	cJSON *out = NULL, *body = NULL;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: kube_driver KUBECONFIG COMMAND ARGS...\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argv[2];
	if ((rc = zw_kube_config_load(&cfg, strcmp(argv[1], "-") ? argv[1] : NULL, &err)))
		return fail(&err);
	if (strcmp(cmd, "config") == 0) {
		printf("server=%s namespace=%s in_cluster=%d auth=%s ca=%s\n", cfg.server, cfg.namespace,
		       cfg.in_cluster,
		       cfg.token_file  ? "tokenFile"
		       : cfg.token     ? "token"
		       : cfg.cert_file ? "certificate"
				       : "none",
		       cfg.ca_file ? "yes" : "no");
		zw_kube_config_free(&cfg);
		return 0;
	}
	if ((rc = zw_kube_new(&k, &cfg, &hooks, &err))) {
		zw_kube_config_free(&cfg);
		return fail(&err);
	}
	rc = 1;
	if (strcmp(cmd, "get") == 0 && argc == 4) {
		rc = zw_kube_get(k, argv[3], &out, &err) ? fail(&err) : (print_json(out), 0);
	} else if (strcmp(cmd, "req") == 0 && (argc == 5 || argc == 6)) {
		long status = 0;
		if (argc == 6 && !(body = cJSON_Parse(argv[5]))) {
			fprintf(stderr, "bad json\n");
		} else {
			int r = zw_kube_request(k, argv[3], argv[4], NULL, body, &out, &status, &err);
			printf("status=%ld\n", status);
			rc = r ? fail(&err) : (print_json(out), 0);
		}
	} else if ((strcmp(cmd, "merge") == 0 || strcmp(cmd, "jpatch") == 0) && argc == 5) {
		if (!(body = cJSON_Parse(argv[4]))) {
			fprintf(stderr, "bad json\n");
		} else {
			int r = strcmp(cmd, "merge") == 0 ? zw_kube_merge_patch(k, argv[3], body, &out, &err)
							  : zw_kube_json_patch(k, argv[3], body, &out, &err);
			rc = r ? fail(&err) : (print_json(out), 0);
		}
	} else if (strcmp(cmd, "list") == 0 && argc == 5) {
		char *rv = NULL;
		unsigned pages = 0;
		if (zw_kube_list(k, argv[3], (unsigned)strtoul(argv[4], NULL, 10), &out, &rv, &pages, &err)) {
			rc = fail(&err);
		} else {
			printf("pages=%u items=%d names=", pages, cJSON_GetArraySize(out));
			const cJSON *it;
			int first = 1;
			cJSON_ArrayForEach(it, out)
			{
				const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "metadata");
				const cJSON *nm = cJSON_GetObjectItemCaseSensitive(m, "name");
				printf("%s%s", first ? "" : ",", cJSON_IsString(nm) ? nm->valuestring : "?");
				first = 0;
			}
			printf(" rv=%s\n", rv[0] ? "set" : "empty");
			zw_free(rv);
			rc = 0;
		}
	} else if (strcmp(cmd, "tokenswap") == 0 && argc == 6) {
		if (write_file(argv[3], argv[4]) != 0) {
			fprintf(stderr, "cannot write %s\n", argv[3]);
		} else {
			int r = zw_kube_get(k, argv[5], &out, &err);
			printf("observed=%s\n", obs.line);
			rc = r ? fail(&err) : 0;
		}
	} else if (strcmp(cmd, "rotate") == 0 && argc == 6) {
		/* statuses only: the second user may be refused, which is the point */
		long st[3] = {0, 0, 0};
		zw_kube_request(k, "GET", argv[5], NULL, NULL, NULL, &st[0], &err);
		if (write_file(argv[3], argv[4]) == 0) {
			zw_error_clear(&err);
			zw_kube_request(k, "GET", argv[5], NULL, NULL, NULL, &st[1], &err);
			obs.skew_ms = 61000;
			zw_error_clear(&err);
			zw_kube_request(k, "GET", argv[5], NULL, NULL, NULL, &st[2], &err);
			printf("statuses=%ld,%ld,%ld observed=%s\n", st[0], st[1], st[2], obs.line);
			rc = 0;
		}
	} else if (strcmp(cmd, "informer") == 0 && (argc == 5 || argc == 6 || argc == 8)) {
		rc = run_informer(k, argv[3], argv[4], argc >= 6 ? (unsigned)strtoul(argv[5], NULL, 10) : 0,
				  argc == 8 ? (unsigned)strtoul(argv[6], NULL, 10) : 2,
				  argc == 8 ? (unsigned)strtoul(argv[7], NULL, 10) : 4);
	} else {
		fprintf(stderr, "usage: unknown command or wrong arguments: %s\n", cmd);
	}
	cJSON_Delete(out);
	cJSON_Delete(body);
	zw_kube_free(k);
	zw_kube_config_free(&cfg);
	return rc;
}
