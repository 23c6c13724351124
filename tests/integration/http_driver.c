/*
 * http_driver.c - drives the core HTTP client (reconcile/http.c) for
 * tests/integration/http.test, with the real clock, against the upstream and the fault
 * proxy on loopback.
 *
 *   http_driver [options] METHOD URL...
 *     --retries N  --base-ms N  --max-backoff-ms N  --max-retry-after-ms N  --timeout-ms N
 *     --max-body N  --ca FILE  --account A  --rate N/PERIOD_MS/BURST  --classify r53
 *     --safe  --header "Name: value"  --body TEXT  --secret TEXT  --verbose
 *     --parallel STAGGER_MS   (one thread per URL, the i-th starting i * STAGGER_MS late)
 *
 * One request per URL, all through one client (so they share its budgets). Prints, per
 * URL in order, "I rc=NAME status=N attempts=N retry_after_ms=N elapsed_ms=N" (elapsed
 * from the driver's start to that request's end) and "I err=MESSAGE" on failure; with
 * --verbose the client's log lines go to stderr. Exits 0 when every request succeeded,
 * 2 when one failed (a clean failure), 1 on a usage error.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/http.h"

#define MAXURL 16
#define MAXHDR 8

struct job {
	struct zw_http_client *c;
	const struct zw_http_req *tmpl;
	const char *url;
	uint64_t delay_ms;
	int rc;
	struct zw_http_resp resp;
	struct zw_error err;
	uint64_t end_ms;
};

static uint64_t t0;

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *rc_name(int rc)
{
	static const char *const names[] = {"ok",   "nomem",	 "invalid",  "notfound",    "auth",
					    "rate", "transient", "conflict", "unsupported", "io"};
	return rc <= 0 && -rc < (int)(sizeof(names) / sizeof(names[0])) ? names[-rc] : "unknown";
}

/* Route 53's error codes that come back as HTTP 400 but mean "slow down" (PROVIDERS.md §1.4). */
static int r53_classify(void *ctx, const struct zw_http_resp *resp, uint64_t *retry_after_ms)
{
	(void)ctx;
	(void)retry_after_ms;
	const char *b = zw_buf_str(&resp->body);
	if (resp->status == 400 &&
	    (strstr(b, "<Code>Throttling</Code>") || strstr(b, "<Code>PriorRequestNotComplete</Code>")))
		return ZW_ERATE;
	return zw_http_status_error(resp->status);
}

static void log_stderr(void *ctx, enum zw_http_log level, const char *msg, const char *fields)
{
	(void)ctx;
	fprintf(stderr, "log level=%d msg=\"%s\" %s\n", (int)level, msg, fields);
}

static void *run(void *arg)
{
	struct job *j = arg;
	struct zw_http_req req = *j->tmpl;
	struct timespec d = {(time_t)(j->delay_ms / 1000), (long)(j->delay_ms % 1000) * 1000000};
	if (j->delay_ms)
		nanosleep(&d, NULL);
	req.url = j->url;
	j->rc = zw_http_do(j->c, &req, &j->resp, &j->err);
	j->end_ms = mono_ms() - t0;
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: http_driver [options] METHOD URL...\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct zw_http_opts o;
	struct zw_http_client *c = NULL;
	struct zw_error err = {0};
	struct zw_http_req req = {0};
	struct zw_http_rate rate = {0};
	const char *headers[MAXHDR], *secret = NULL;
	struct job jobs[MAXURL];
	pthread_t th[MAXURL];
	long stagger = -1;
	unsigned long period = 0;
	int i = 1, nurl = 0, status = 0;

	t0 = mono_ms();
	zw_http_opts_init(&o);
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--safe") == 0) {
			req.replay_safe = 1;
			continue;
		}
		if (strcmp(a, "--verbose") == 0) {
			o.hooks.log = log_stderr;
			o.hooks.log_level = ZW_HLOG_DEBUG;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (strcmp(a, "--retries") == 0)
			o.max_retries = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--base-ms") == 0)
			o.base_backoff_ms = strtoull(v, NULL, 10);
		else if (strcmp(a, "--max-backoff-ms") == 0)
			o.max_backoff_ms = strtoull(v, NULL, 10);
		else if (strcmp(a, "--max-retry-after-ms") == 0)
			o.max_retry_after_ms = strtoull(v, NULL, 10);
		else if (strcmp(a, "--timeout-ms") == 0)
			o.timeout_ms = strtol(v, NULL, 10);
		else if (strcmp(a, "--max-body") == 0)
			o.max_body = strtoul(v, NULL, 10);
		else if (strcmp(a, "--ca") == 0)
			o.ca_file = v;
		else if (strcmp(a, "--account") == 0)
			req.account = v;
		else if (strcmp(a, "--rate") == 0 &&
			 sscanf(v, "%u/%lu/%u", &rate.n, &period, &rate.burst) == 3)
			rate.period_ms = period;
		else if (strcmp(a, "--classify") == 0 && strcmp(v, "r53") == 0)
			req.classify = r53_classify;
		else if (strcmp(a, "--header") == 0 && req.nheaders < MAXHDR)
			headers[req.nheaders++] = v;
		else if (strcmp(a, "--body") == 0) {
			req.body = v;
			req.body_len = strlen(v);
		} else if (strcmp(a, "--secret") == 0)
			secret = v;
		else if (strcmp(a, "--parallel") == 0)
			stagger = strtol(v, NULL, 10);
		else
			return usage();
	}
	if (argc - i < 2 || argc - i - 1 > MAXURL)
		return usage();
	req.method = argv[i++];
	req.headers = headers;
	if (zw_http_client_new(&c, &o, &err) ||
	    (req.account && rate.n && zw_http_budget_set(c, req.account, &rate, &err)) ||
	    (secret && zw_http_secret_add(c, secret, &err))) {
		fprintf(stderr, "http_driver: %s\n", err.msg);
		zw_http_client_free(c);
		return 1;
	}
	for (; i < argc; i++, nurl++) {
		jobs[nurl] = (struct job){.c = c, .tmpl = &req, .url = argv[i], .resp = ZW_HTTP_RESP_INIT};
		if (stagger >= 0) {
			jobs[nurl].delay_ms = (uint64_t)(stagger * nurl);
			if (pthread_create(&th[nurl], NULL, run, &jobs[nurl]) != 0) {
				fprintf(stderr, "http_driver: cannot start a thread\n");
				return 1;
			}
		} else {
			run(&jobs[nurl]);
		}
	}
	for (int k = 0; k < nurl; k++) {
		struct job *j = &jobs[k];
		if (stagger >= 0)
			pthread_join(th[k], NULL);
		printf("%d rc=%s status=%ld attempts=%u retry_after_ms=%llu elapsed_ms=%llu\n", k,
		       rc_name(j->rc), j->resp.status, j->resp.attempts,
		       (unsigned long long)j->resp.retry_after_ms, (unsigned long long)j->end_ms);
		if (j->rc) {
			printf("%d err=%s\n", k, j->err.msg);
			status = 2;
		} else {
			printf("%d body=%.60s\n", k, zw_buf_str(&j->resp.body));
		}
		zw_http_resp_free(&j->resp);
	}
	zw_http_client_free(c);
	return status;
}
