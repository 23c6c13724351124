/*
 * check.c - `zonewarden check PATH...` and `zonewarden check --domain D [--dkim-selector S]...`:
 * the live diagnosis as the world sees it (SPEC §4, §5), no provider credentials needed.
 *
 * With manifests: input errors are validate's (exit 1, file:line:col lines on stderr);
 * each MailDomain is checked against its desired records. Without: one domain, its SPF,
 * DMARC and the given DKIM selectors, no drift (the SES "why is it pending" user).
 * Exit: 0, 2 with a finding at or above --fail-on, 1 when the check itself failed.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "reconcile/alloc.h"
#include "reconcile/check.h"
#include "reconcile/manifest.h"

#define PROGRESS_MIN_DOMAINS 20

static void progress(void *arg, size_t done, size_t total)
{
	(void)arg;
	fprintf(stderr, "\rzonewarden: checked %zu of %zu domains", done, total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int zw_cmd_check(struct zw_opts *o)
{
	struct zw_manifests *ms = NULL;
	struct zw_check_target *targets = NULL;
	const char **domains = NULL;
	struct zw_findings fs = {0};
	struct zw_check_stats st = {0};
	struct zw_error err = {0};
	size_t n = 0;
	int exit_code = ZW_EXIT_FAILED;

	if (o->domain && o->nargs) {
		zw_cmd_fail("check: give manifest paths or --domain, not both");
		return ZW_EXIT_FAILED;
	}
	if (!o->domain && o->nargs == 0) {
		zw_cmd_fail("check: give at least one manifest file or directory, or --domain D");
		return ZW_EXIT_FAILED;
	}
	if (!o->domain && o->nselectors) {
		zw_cmd_fail("check: --dkim-selector goes with --domain (manifests list their selectors)");
		return ZW_EXIT_FAILED;
	}
	if (o->nargs) {
		if (zw_cmd_load_manifests(&ms, o))
			return ZW_EXIT_FAILED;
		if (ms->nerrors) {
			zw_cmd_print_input_errors(ms);
			if (o->format != ZW_OUT_TEXT) {
				struct zw_report report = {.command = "check",
							   .findings = &fs,
							   .errors = ms->errors,
							   .nerrors = ms->nerrors};
				zw_render(stdout, o->format, &report, o->color);
			}
			goto out;
		}
		n = ms->ndomains;
	} else {
		n = 1;
	}
	targets = zw_calloc(n + 1, sizeof(*targets));
	domains = zw_calloc(n + 1, sizeof(*domains));
	if (!targets || !domains) {
		zw_cmd_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (ms) {
			targets[i].domain = ms->domains[i].domain;
			targets[i].spec = &ms->domains[i];
		} else {
			targets[i].domain = o->domain;
			targets[i].selectors = (const char *const *)o->dkim_selectors;
			targets[i].nsel = (size_t)o->nselectors;
		}
		domains[i] = targets[i].domain;
	}
	struct zw_check_opts co = {
		.root_hints = o->root_hints,
		.timeout = o->timeout,
	};
	if (n > PROGRESS_MIN_DOMAINS && isatty(STDERR_FILENO))
		co.progress = progress;
	double t0 = now_s();
	int rc = zw_check_run(&fs, &st, targets, n, &co, &err);
	if (o->verbose)
		fprintf(stderr,
			"{\"level\":\"info\",\"msg\":\"check "
			"done\",\"domains\":%zu,\"questions\":%zu,\"queries\":%zu,"
			"\"batches\":%zu,\"runs\":%zu,\"seconds\":%.3f}\n",
			st.domains, st.questions, st.queries, st.batches, st.runs, now_s() - t0);
	if (rc < 0) {
		zw_cmd_fail("check: %s", err.msg);
		goto out;
	}
	zw_findings_sort(&fs);
	struct zw_report report = {
		.command = "check",
		.domains = domains,
		.ndomains = n,
		.findings = &fs,
	};
	zw_render(stdout, o->format, &report, o->color);
	exit_code = zw_cmd_exit_for(&fs, o);
out:
	zw_findings_free(&fs);
	zw_free(targets);
	zw_free(domains);
	zw_manifests_free(ms);
	return exit_code;
}
