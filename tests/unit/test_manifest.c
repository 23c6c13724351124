/*
 * test_manifest.c - unit tests of ytree, manifest, names and desired: the loader's rules
 * (SPEC §3), exact error positions and messages, the desired records byte for byte, and
 * an allocation-failure sweep over one whole load.
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/desired.h"
#include "reconcile/manifest.h"
#include "reconcile/names.h"

static const char good[] =
	"apiVersion: zonewarden.dev/v1alpha1\n"
	"kind: Provider\n"
	"metadata: {name: aws}\n"
	"spec:\n"
	"  type: route53\n"
	"  route53: {region: us-east-1}\n"
	"---\n"
	"apiVersion: zonewarden.dev/v1alpha1\n"
	"kind: MailDomain\n"
	"metadata: {name: example-com}\n"
	"spec:\n"
	"  domain: Example.COM\n"
	"  providerRef: aws\n"
	"  ttl: 300\n"
	"  spf:\n"
	"    include: [amazonses.com, _spf.google.com]\n"
	"    ip4: [192.0.2.0/24]\n"
	"    mx: true\n"
	"    all: fail\n"
	"  dkim:\n"
	"    - selector: abc123\n"
	"      cname: abc123.dkim.amazonses.com.\n"
	"  dmarc:\n"
	"    policy: reject\n"
	"    subdomainPolicy: quarantine\n"
	"    rua: [mailto:dmarc@example.com, mailto:x@example.net]\n"
	"    alignment: {dkim: strict}\n"
	"  cnames:\n"
	"    - name: em1234\n"
	"      target: u1234.wl.sendgrid.net\n";

static struct zw_manifests *load(const char *text, int expect_rc)
{
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	int rc = zw_manifests_load_buffer(&ms, "t.yaml", text, strlen(text), &err);
	if (rc != expect_rc) {
		for (size_t i = 0; ms && i < ms->nerrors; i++)
			print_message("error: %u:%u %s: %s\n", ms->errors[i].line, ms->errors[i].col,
				      ms->errors[i].path, ms->errors[i].msg);
		fail_msg("load returned %d, expected %d (%s) for:\n%s", rc, expect_rc, err.msg, text);
	}
	return ms;
}

static void loads_a_good_file(void **state)
{
	(void)state;
	struct zw_manifests *ms = load(good, 0);
	assert_int_equal(ms->nproviders, 1);
	assert_int_equal(ms->ndomains, 1);
	const struct zw_domain *d = &ms->domains[0];
	assert_string_equal(d->domain, "example.com");
	assert_string_equal(d->apex, "example.com.");
	assert_int_equal(d->ttl, 300);
	assert_int_equal(d->spf.include.n, 2);
	assert_int_equal(d->spf.include.loc[1].line, 16);
	assert_true(d->spf.mx);
	assert_string_equal(d->cnames[0].name, "em1234.example.com.");
	assert_string_equal(d->cnames[0].target, "u1234.wl.sendgrid.net.");
	assert_string_equal(zw_kv_get(&ms->providers[0], "region"), "us-east-1");

	struct zw_desired ds;
	struct zw_error err = {0};
	assert_int_equal(zw_desired_build(&ds, d, &err), 0);
	assert_int_equal(ds.n, 4);
	assert_string_equal(ds.v[0].name, "example.com.");
	assert_string_equal(ds.v[0].txt.data,
			    "v=spf1 ip4:192.0.2.0/24 mx include:amazonses.com include:_spf.google.com -all");
	/* the span of include:_spf.google.com points at its manifest line */
	long off = (long)(strstr(ds.v[0].txt.data, "include:_spf") - ds.v[0].txt.data);
	assert_int_equal(zw_record_loc_at(&ds.v[0], off).line, 16);
	assert_int_equal(zw_record_loc_at(&ds.v[0], off).col, 30);
	assert_int_equal(zw_record_loc_at(&ds.v[0], 3).line, 16);
	assert_string_equal(ds.v[1].name, "_dmarc.example.com.");
	assert_string_equal(ds.v[1].txt.data, "v=DMARC1; p=reject; sp=quarantine; adkim=s; "
					      "rua=mailto:dmarc@example.com,mailto:x@example.net");
	assert_string_equal(ds.v[2].name, "abc123._domainkey.example.com.");
	assert_int_equal(ds.v[2].type, ZW_TYPE_CNAME);
	assert_string_equal(ds.v[2].target, "abc123.dkim.amazonses.com.");
	assert_string_equal(ds.v[3].name, "em1234.example.com.");
	zw_desired_free(&ds);
	zw_manifests_free(ms);
}

/* One error expected: its line, column, path and a piece of its message. */
static void expect_error(const char *text, unsigned line, unsigned col, const char *path,
			 const char *msg_part)
{
	struct zw_manifests *ms = load(text, ZW_EINVAL);
	assert_non_null(ms);
	assert_true(ms->nerrors >= 1);
	const struct zw_error *e = &ms->errors[0];
	if (e->line != line || e->col != col || strcmp(e->path, path) != 0 || !strstr(e->msg, msg_part))
		fail_msg("got %u:%u %s: %s", e->line, e->col, e->path, e->msg);
	zw_manifests_free(ms);
}

#define DOM_HEAD                                                                               \
	"apiVersion: zonewarden.dev/v1alpha1\nkind: Provider\nmetadata: {name: p}\n"              \
	"spec: {type: route53}\n---\n"                                                           \
	"apiVersion: zonewarden.dev/v1alpha1\nkind: MailDomain\nmetadata: {name: d}\nspec:\n" \
	"  domain: example.com\n  providerRef: p\n"

static void reports_errors_with_positions(void **state)
{
	(void)state;
	expect_error(DOM_HEAD "  dmarc:\n    policy: reject\n    subdomainPolcy: none\n", 14, 5,
		     "spec.dmarc.subdomainPolcy", "did you mean 'subdomainPolicy'?");
	expect_error(DOM_HEAD "  ttl: \"300\"\n", 12, 8, "spec.ttl", "expected an integer");
	expect_error(DOM_HEAD "  ttl: 300\n  ttl: 400\n", 13, 3, "", "duplicate key 'ttl' (first at line 12)");
	expect_error(DOM_HEAD "  dkim:\n    - cname: x.example.net.\n", 13, 7, "spec.dkim[0].selector",
		     "missing required field 'selector'");
	expect_error(DOM_HEAD "  cnames:\n    - name: abc._domainkey.example.com\n      target: x.example.net.\n", 13, 13, "spec.cnames[0].name", "APEX_DUPLICATED");
	expect_error(DOM_HEAD "  dkim:\n    - selector: s1.example.com\n      cname: x.example.net.\n", 13,
		     17, "spec.dkim[0].selector", "APEX_DUPLICATED");
	expect_error(DOM_HEAD "  spf: {all: pass}\n", 12, 14, "spec.spf.all", "SP-16");
	expect_error(DOM_HEAD "  policy: synch\n", 12, 11, "spec.policy", "did you mean 'sync'?");
	expect_error(DOM_HEAD "  cnames:\n    - name: \"a b\"\n      target: x.example.net.\n", 13, 13,
		     "spec.cnames[0].name", "space in name");
	expect_error(DOM_HEAD "  cnames:\n    - name: x\n      target: t.example.net.example.com.\n", 14, 15,
		     "spec.cnames[0].target", "NM-02");
	expect_error("apiVersion: zonewarden.dev/v1alpha1\nkind: Provider\nmetadata: {name: p}\n"
		     "spec:\n  type: route53\n  cloudflare: {apiTokenFile: /x}\n",
		     6, 15, "spec.cloudflare", "settings for 'cloudflare' in a provider of type 'route53'");
	expect_error("apiVersion: zonewarden.dev/v1alpha1\nkind: Provider\nmetadata: {name: p}\n"
		     "spec:\n  type: cloudflare\n  cloudflare: {apiToken: abc}\n",
		     6, 16, "spec.cloudflare.apiToken", "never written inline");
	expect_error("a: &x 1\nb: *x\n", 1, 4, "", "anchors are not allowed");
	expect_error("---\n---\nkind: x\n", 1, 1, "", "empty document");
	expect_error("kind: \"\x80\"\n", 1, 8, "", "not utf-8");
	expect_error(DOM_HEAD "  ttl: 300\n" "---\n"
		     "apiVersion: zonewarden.dev/v1alpha1\nkind: MailDomain\nmetadata: {name: d2}\n"
		     "spec:\n  domain: EXAMPLE.com.\n  providerRef: p\n", 18, 11, "spec.domain",
		     "declared twice (first at t.yaml:10:11)");
}

static void refuses_deep_nesting(void **state)
{
	(void)state;
	char deep[300];
	size_t n = 0;
	for (int i = 0; i < 70; i++)
		deep[n++] = '[';
	for (int i = 0; i < 70; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	expect_error(deep, 1, 65, "", "nesting deeper than 64");
	char big_name[] = "x";
	(void)big_name;
}

static void names(void **state)
{
	(void)state;
	char *s = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_name_resolve(&s, "@", "Example.com", &err), 0);
	assert_string_equal(s, "example.com.");
	zw_free(s);
	assert_int_equal(zw_name_resolve(&s, "Sel._domainkey", "example.com", &err), 0);
	assert_string_equal(s, "sel._domainkey.example.com.");
	zw_free(s);
	assert_int_equal(zw_name_resolve(&s, "x.other.net.", "example.com", &err), 0);
	assert_string_equal(s, "x.other.net.");
	zw_free(s);
	assert_int_equal(zw_name_resolve(&s, "example.com", "example.com", &err), ZW_EINVAL);
	assert_null(s);
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	zw_error_clear(&err);
	assert_int_equal(zw_name_check(label, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "label longer than 63"));
	char longname[300];
	for (int i = 0; i < 127; i++) {
		longname[2 * i] = 'a';
		longname[2 * i + 1] = '.';
	}
	longname[254] = '\0'; /* 254 octets without a trailing dot's meaning: 127 labels */
	zw_error_clear(&err);
	assert_int_equal(zw_name_check(longname, &err), 0); /* ends with '.', 253 octets */
	longname[253] = 'b';
	zw_error_clear(&err);
	assert_int_equal(zw_name_check(longname, &err), ZW_EINVAL);

	char *fixed = NULL;
	assert_int_equal(zw_name_apex_doubled(&fixed, "s._domainkey.example.com.example.com.", "example.com."), 1);
	assert_string_equal(fixed, "s._domainkey.example.com.");
	zw_free(fixed);
	assert_int_equal(zw_name_apex_doubled(&fixed, "s._domainkey.example.com.", "example.com."), 0);
	assert_int_equal(zw_name_apex_doubled(&fixed, "s.myexample.com.example.com.", "example.com."), 0);
	assert_int_equal(zw_name_apex_doubled(&fixed, "example.com.example.com.", "example.com."), 1);
	assert_string_equal(fixed, "example.com.");
	zw_free(fixed);
	assert_true(zw_name_is_at_or_below("a.example.com.", "example.com."));
	assert_false(zw_name_is_at_or_below("aexample.com.", "example.com."));
	assert_int_equal(zw_name_labels("a.example.com."), 3);
}

static int load_and_build(void)
{
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	int rc = zw_manifests_load_buffer(&ms, "t.yaml", good, strlen(good), &err);
	if (rc == 0) {
		struct zw_desired ds;
		rc = zw_desired_build(&ds, &ms->domains[0], &err);
		if (rc == 0)
			zw_desired_free(&ds);
	}
	zw_manifests_free(ms);
	return rc;
}

static void survives_every_allocation_failure(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(load_and_build());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_a_good_file),
		cmocka_unit_test(reports_errors_with_positions),
		cmocka_unit_test(refuses_deep_nesting),
		cmocka_unit_test(names),
		cmocka_unit_test(survives_every_allocation_failure),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
