/*
 * test_check.c - unit tests of check.c without a DNS world: the root hints point at a
 * loopback address where nothing listens, so every walk fails at once and the domains
 * come out undelegated-unknown (DL-11). What is tested: the orchestration (targets with
 * and without manifests, batches, progress, statistics), input errors (a bad domain, a
 * bad selector, bad hints), the overall timeout, and an allocation-failure sweep over a
 * whole run. Findings against a real world are tests/integration/check.test's.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "reconcile/check.h"
#include "reconcile/manifest.h"

static char hints_path[64];

static int write_hints(void **state)
{
	(void)state;
	snprintf(hints_path, sizeof(hints_path), "/tmp/zw-test-check-hints.XXXXXX");
	int fd = mkstemp(hints_path);
	assert_true(fd >= 0);
	/* nothing listens on port 53 there: every query is refused at once */
	static const char h[] = ".  3600000 NS a.root.test.\na.root.test. 3600000 A 127.255.255.254\n";
	assert_int_equal(write(fd, h, sizeof(h) - 1), (long)sizeof(h) - 1);
	close(fd);
	return 0;
}

static int remove_hints(void **state)
{
	(void)state;
	unlink(hints_path);
	return 0;
}

static const char manifest[] = "apiVersion: zonewarden.dev/v1alpha1\n"
			       "kind: Provider\n"
			       "metadata: {name: p}\n"
			       "spec: {type: route53, route53: {}}\n"
			       "---\n"
			       "apiVersion: zonewarden.dev/v1alpha1\n"
			       "kind: MailDomain\n"
			       "metadata: {name: a}\n"
			       "spec:\n"
			       "  domain: a.test\n"
			       "  providerRef: p\n"
			       "  spf: {include: [_spf.other.test], all: fail}\n"
			       "  dkim: [{selector: s1, cname: s1.dkim.example.net.}]\n"
			       "---\n"
			       "apiVersion: zonewarden.dev/v1alpha1\n"
			       "kind: MailDomain\n"
			       "metadata: {name: b}\n"
			       "spec:\n"
			       "  domain: b.test\n"
			       "  providerRef: p\n"
			       "  dmarc: {policy: none}\n";

static char *lines(const struct zw_findings *fs, size_t from)
{
	static char out[4096];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = from; i < fs->n && n < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s %s %s %s %s\n",
				      fs->v[i].domain ? fs->v[i].domain : "-", fs->v[i].cls->id,
				      zw_severity_name(fs->v[i].sev), fs->v[i].name ? fs->v[i].name : "-",
				      fs->v[i].type ? fs->v[i].type : "-");
	return out;
}

struct prog {
	size_t calls, last, total;
};

static void on_progress(void *arg, size_t done, size_t total)
{
	struct prog *p = arg;
	p->calls++;
	p->last = done;
	p->total = total;
}

static int run_manifests(struct zw_findings *fs, struct zw_check_stats *st, size_t batch, struct prog *p)
{
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	int rc = zw_manifests_load_buffer(&ms, "t.yaml", manifest, strlen(manifest), &err);
	struct zw_check_target t[3] = {{0}};
	if (rc == 0) {
		for (size_t i = 0; i < 2; i++) {
			t[i].domain = ms->domains[i].domain;
			t[i].spec = &ms->domains[i];
		}
		static const char *const sels[] = {"s1", "s2"};
		t[2].domain = "c.test";
		t[2].selectors = sels;
		t[2].nsel = 2;
		struct zw_check_opts o = {.root_hints = hints_path,
					  .batch = batch,
					  .progress = p ? on_progress : NULL,
					  .progress_arg = p};
		o.dns.timeout_ms = 200;
		o.dns.udp_tries = 1;
		rc = zw_check_run(fs, st, t, 3, &o, &err);
	}
	zw_manifests_free(ms);
	return rc;
}

static void targets_batches_progress(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	struct zw_check_stats st;
	struct prog p = {0};
	assert_int_equal(run_manifests(&fs, &st, 2, &p), 0);
	/* every domain: the delegation is unknown; the mail-auth lookups failed too */
	const char *got = lines(&fs, 0);
	assert_non_null(strstr(got, "a.test DL-07 CRITICAL a.test. NS\n"));
	assert_non_null(strstr(got, "b.test DL-07 CRITICAL b.test. NS\n"));
	assert_non_null(strstr(got, "c.test DL-07 CRITICAL c.test. NS\n"));
	for (size_t i = 0; i < fs.n; i++)
		assert_non_null(fs.v[i].domain);
	assert_int_equal(st.domains, 3);
	assert_int_equal(st.batches, 2);
	assert_int_equal(p.calls, 3);
	assert_int_equal(p.last, 3);
	assert_int_equal(p.total, 3);
	/* a.test: 2 claims and their 2 doubled forms, plus the selector's TXT question */
	assert_true(st.questions >= 4 + 4 + 4);
	assert_true(st.runs >= 1);
	char want[4096];
	snprintf(want, sizeof(want), "%s", got);
	zw_findings_free(&fs);
	/* one batch: the same findings */
	assert_int_equal(run_manifests(&fs, &st, 0, NULL), 0);
	assert_int_equal(st.batches, 1);
	assert_string_equal(lines(&fs, 0), want);
	zw_findings_free(&fs);
}

static void input_errors_and_timeout(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_check_target bad = {"bad..test", NULL, NULL, 0};
	struct zw_check_opts o = {.root_hints = hints_path};
	assert_int_equal(zw_check_run(&fs, NULL, &bad, 1, &o, &err), ZW_EINVAL);
	assert_int_equal(fs.n, 0);
	zw_error_clear(&err);
	static const char *const sel[] = {"bad selector"};
	struct zw_check_target badsel = {"ok.test", NULL, sel, 1};
	assert_int_equal(zw_check_run(&fs, NULL, &badsel, 1, &o, &err), ZW_EINVAL);
	zw_error_clear(&err);
	struct zw_check_opts nohints = {.root_hints = "/nonexistent/hints"};
	struct zw_check_target ok = {"ok.test", NULL, NULL, 0};
	assert_true(zw_check_run(&fs, NULL, &ok, 1, &nohints, &err) < 0);
	zw_error_clear(&err);
	struct zw_check_opts quick = {.root_hints = hints_path, .timeout = 1e-9};
	assert_int_equal(zw_check_run(&fs, NULL, &ok, 1, &quick, &err), ZW_ETRANSIENT);
	assert_string_equal(err.msg, "timed out after 1e-09 s (--timeout): 0 of 1 domains checked");
	zw_findings_free(&fs);
}

static int sweep_once(void)
{
	struct zw_findings fs = {0};
	struct zw_check_stats st;
	int rc = run_manifests(&fs, &st, 2, NULL);
	zw_findings_free(&fs);
	return rc;
}

static void allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(sweep_once());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(targets_batches_progress),
		cmocka_unit_test(input_errors_and_timeout),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests_name("check", tests, write_hints, remove_hints);
}
