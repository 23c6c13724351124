/*
 * test_mailauth.c - unit tests of reconcile/mailauth.c: the organizational-domain rule,
 * the report authorisation decision, the questions, the planning of a step, and the
 * diagnosis over a hand-built observation (the table answering zw_spf_evaluate, DKIM
 * through CNAMEs, DMARC, CN-03/CN-04, expectAbsent, revoked, DK-15, SE-01), the overlap
 * removal, and every allocation failing. The live proof against real servers is
 * tests/integration/spfref.test.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "reconcile/desired.h"
#include "reconcile/mailauth.h"
#include "reconcile/manifest.h"

/* ---- a hand-built observation ---- */

#define MAXQ  24
#define MAXRR 48

struct fake {
	struct zw_obs obs;
	struct zw_obs_question q[MAXQ];
	struct zw_rr rr[MAXRR];
	size_t lens[MAXRR];
	size_t nrr;
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->obs.questions = f->q;
}

static struct zw_obs_lookup *fake_q(struct fake *f, const char *name, uint16_t type, enum zw_obs_kind kind)
{
	assert_true(f->obs.n_questions < MAXQ);
	struct zw_obs_question *q = &f->q[f->obs.n_questions++];
	q->name = (char *)name;
	q->type = type;
	q->resolved.name = (char *)name;
	q->resolved.type = type;
	q->resolved.ans.kind = kind;
	q->resolved.ans.rcode = kind == ZW_OBS_NXDOMAIN ? 3 : 0;
	return &q->resolved;
}

static struct zw_rr *fake_rr(struct fake *f)
{
	assert_true(f->nrr < MAXRR);
	return &f->rr[f->nrr++];
}

/* A TXT answer with one record of one string (or none when txt is NULL). */
static struct zw_obs_lookup *fake_txt(struct fake *f, const char *name, enum zw_obs_kind kind,
				      const char *txt)
{
	struct zw_obs_lookup *lk = fake_q(f, name, ZW_TYPE_TXT, kind);
	if (txt) {
		struct zw_rr *rr = fake_rr(f);
		rr->owner = (char *)name;
		rr->type = ZW_TYPE_TXT;
		rr->txt.data = (char *)txt;
		rr->txt.len = strlen(txt);
		f->lens[f->nrr - 1] = rr->txt.len;
		rr->txt.lens = &f->lens[f->nrr - 1];
		rr->txt.n = 1;
		lk->ans.rrs = rr;
		lk->ans.n_rrs = 1;
	}
	return lk;
}

/* Prepend a chain of CNAMEs (targets given, the owner of the first is the name). */
static void fake_chain(struct fake *f, struct zw_obs_lookup *lk, const char *const *targets, size_t n)
{
	struct zw_rr *first = NULL;
	for (size_t i = 0; i < n; i++) {
		struct zw_rr *rr = fake_rr(f);
		if (!first)
			first = rr;
		rr->owner = i ? (char *)targets[i - 1] : lk->name;
		rr->type = ZW_TYPE_CNAME;
		rr->target = (char *)targets[i];
	}
	lk->ans.cnames = first;
	lk->ans.n_cnames = n;
}

/* ---- helpers ---- */

/* "ID SEV name" per finding, one per line. */
static const char *list(const struct zw_findings *fs, char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < fs->n && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s %s %s\n", fs->v[i].cls->id,
				      zw_severity_name(fs->v[i].sev), fs->v[i].name ? fs->v[i].name : "-");
	return buf;
}

static const struct zw_finding *find(const struct zw_findings *fs, const char *id, size_t nth)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].cls->id, id) == 0 && nth-- == 0)
			return &fs->v[i];
	return NULL;
}

/* ---- the organizational domain ---- */

static void org_domain_rule(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"mail.example.com", "example.com"},
		{"example.com", "example.com"},
		{"EXAMPLE.COM.", "example.com"},
		{"a.b.c.example.net.", "example.net"},
		{"com", "com"},
		{"reports.example.co.uk", "example.co.uk"},
		{"example.co.uk", "example.co.uk"},
		{"a.b.foo.com.au", "foo.com.au"},
		{"x.example.de", "example.de"},
		{"foo.co.com", "co.com"}, /* the TLD is not a country code */
		{"mail.foo.ac.jp", "foo.ac.jp"},
		{"co.uk", "co.uk"},
	};
	char out[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(zw_mailauth_org_domain(out, sizeof(out), cases[i][0]), 0);
		assert_string_equal(out, cases[i][1]);
	}
	assert_int_equal(zw_mailauth_org_domain(out, 5, "mail.example.com"), ZW_EINVAL);
	assert_int_equal(zw_mailauth_org_domain(out, 12, "mail.example.com"), 0);
	assert_string_equal(out, "example.com");
}

/* ---- the report authorisation decision ---- */

static void report_auth_decision(void **state)
{
	(void)state;
	const char *one[] = {"v=DMARC1"};
	size_t one_l[] = {8};
	const char *two[] = {"v=DMARC1", "v=DMARC1; rua=mailto:x@example.net"};
	size_t two_l[] = {8, 34};
	const char *other[] = {"hello", "v=DMARC1x", "v=dmarc1"};
	size_t other_l[] = {5, 9, 8};
	const char *mixed[] = {"google-site-verification=x", "v=DMARC1;"};
	size_t mixed_l[] = {26, 9};

	assert_int_equal(zw_mailauth_report_auth(NULL, NULL, 0, NULL, NULL, 0, 0), ZW_REPORT_AUTH_NONE);
	assert_int_equal(zw_mailauth_report_auth(one, one_l, 1, NULL, NULL, 0, 0), ZW_REPORT_AUTH_OK);
	assert_int_equal(zw_mailauth_report_auth(two, two_l, 2, NULL, NULL, 0, 0), ZW_REPORT_AUTH_SEVERAL);
	assert_int_equal(zw_mailauth_report_auth(NULL, NULL, 0, one, one_l, 1, 0), ZW_REPORT_AUTH_OK);
	assert_int_equal(zw_mailauth_report_auth(NULL, NULL, 0, two, two_l, 2, 0), ZW_REPORT_AUTH_SEVERAL);
	/* the exact name wins over the wildcard */
	assert_int_equal(zw_mailauth_report_auth(one, one_l, 1, two, two_l, 2, 0), ZW_REPORT_AUTH_OK);
	/* not v=DMARC1 (case-sensitive, whole word) */
	assert_int_equal(zw_mailauth_report_auth(other, other_l, 3, NULL, NULL, 0, 0), ZW_REPORT_AUTH_NONE);
	assert_int_equal(zw_mailauth_report_auth(mixed, mixed_l, 2, NULL, NULL, 0, 0), ZW_REPORT_AUTH_OK);
	/* a failed lookup: no verdict unless something was found */
	assert_int_equal(zw_mailauth_report_auth(NULL, NULL, 0, NULL, NULL, 0, 1), ZW_REPORT_AUTH_UNKNOWN);
	assert_int_equal(zw_mailauth_report_auth(NULL, NULL, 0, one, one_l, 1, 1), ZW_REPORT_AUTH_OK);
}

/* ---- construction and questions ---- */

static void questions_for_domain_form(void **state)
{
	(void)state;
	struct zw_mailauth *m = NULL;
	struct zw_error err = {0};
	const char *sels[] = {"s1", "Sel.Two"};
	const struct zw_question *qs;
	size_t nq;
	assert_int_equal(zw_mailauth_new(&m, "Example.COM.", NULL, sels, 2, &err), 0);
	assert_int_equal(zw_mailauth_questions(m, &qs, &nq), 0);
	assert_int_equal(nq, 6);
	static const struct zw_question want[] = {
		{"example.com.", 16},
		{"_dmarc.example.com.", 16},
		{"s1._domainkey.example.com.", 16},
		{"s1._domainkey.example.com.", 5},
		{"sel.two._domainkey.example.com.", 16},
		{"sel.two._domainkey.example.com.", 5},
	};
	for (size_t i = 0; i < nq; i++) {
		assert_string_equal(qs[i].name, want[i].name);
		assert_int_equal(qs[i].type, want[i].type);
	}
	zw_mailauth_free(m);

	assert_int_equal(zw_mailauth_new(&m, "bad name.example", NULL, NULL, 0, &err), ZW_EINVAL);
	assert_null(m);
	const char *bad[] = {"a b"};
	zw_error_clear(&err);
	assert_int_equal(zw_mailauth_new(&m, "example.com", NULL, bad, 1, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "a dkim selector of example.com does not make a domain name");
	assert_null(m);
	zw_mailauth_free(NULL);
}

static const char manifest_yaml[] = "apiVersion: zonewarden.dev/v1alpha1\n"
				    "kind: Provider\n"
				    "metadata: {name: p}\n"
				    "spec:\n"
				    "  type: route53\n"
				    "  route53: {}\n"
				    "---\n"
				    "apiVersion: zonewarden.dev/v1alpha1\n"
				    "kind: MailDomain\n"
				    "metadata: {name: example-com}\n"
				    "spec:\n"
				    "  domain: example.com\n"
				    "  providerRef: p\n"
				    "  bulkSender: true\n"
				    "  dkim:\n"
				    "    - selector: tok1\n"
				    "      cname: tok1.dkim.amazonses.com.\n"
				    "    - selector: tok2\n"
				    "      cname: tok2.dkim.amazonses.com.\n"
				    "    - selector: old\n"
				    "      expectAbsent: true\n"
				    "  cnames:\n"
				    "    - name: em1\n"
				    "      target: u1.wl.sendgrid.net.\n";

struct loaded {
	struct zw_manifests *ms;
	struct zw_desired ds;
};

static void load(struct loaded *l)
{
	struct zw_error err = {0};
	memset(l, 0, sizeof(*l));
	assert_int_equal(
		zw_manifests_load_buffer(&l->ms, "m.yaml", manifest_yaml, strlen(manifest_yaml), &err), 0);
	assert_int_equal(l->ms->ndomains, 1);
	assert_int_equal(zw_desired_build(&l->ds, &l->ms->domains[0], &err), 0);
}

static void unload(struct loaded *l)
{
	zw_desired_free(&l->ds);
	zw_manifests_free(l->ms);
}

static void questions_from_manifest(void **state)
{
	(void)state;
	struct loaded l;
	struct zw_mailauth *m = NULL;
	const struct zw_question *qs;
	size_t nq;
	load(&l);
	assert_int_equal(zw_mailauth_new(&m, "example.com", &l.ds, NULL, 0, NULL), 0);
	zw_mailauth_questions(m, &qs, &nq);
	static const char *const want[] = {
		"example.com. 16",
		"_dmarc.example.com. 16",
		"tok1._domainkey.example.com. 16",
		"tok1._domainkey.example.com. 5",
		"tok2._domainkey.example.com. 16",
		"tok2._domainkey.example.com. 5",
		"old._domainkey.example.com. 16",
		"old._domainkey.example.com. 5",
		"em1.example.com. 5",
	};
	assert_int_equal(nq, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < nq; i++) {
		char got[128];
		snprintf(got, sizeof(got), "%s %u", qs[i].name, qs[i].type);
		assert_string_equal(got, want[i]);
	}
	zw_mailauth_free(m);
	unload(&l);
}

/* ---- diagnosis over a complete observation (no lookup needed) ---- */

static int diagnose_fake(struct zw_findings *fs, const char *domain, const struct zw_desired *ds,
			 const char *const *sels, size_t nsel, const struct fake *f)
{
	struct zw_mailauth *m = NULL;
	struct zw_error err = {0};
	int rc = zw_mailauth_new(&m, domain, ds, sels, nsel, &err);
	if (!rc)
		rc = zw_mailauth_diagnose(fs, m, &f->obs, &err);
	zw_mailauth_free(m);
	return rc;
}

static const char key1024[] =
	"v=DKIM1; k=rsa; p="
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCtFXw5au/lDKBegWLukblWmHBwSLVv800Ls+SPWl5ifbVKOyHasRLS3T24KsE/"
	"9O1xnD8cCbRVSkB88+0Iu8anGZz0IOgHJspq4YBNAR575Tae6m7PhVtj5sJyHUi3fFgfCLZcS/DDfpK0Sm4xql7p3xdSsFi64qzA"
	"6PsVY8jafwIDAQAB";

static void diagnose_spf_dkim_dmarc(void **state)
{
	(void)state;
	struct fake f;
	struct zw_findings fs = {0};
	char buf[2048];
	const char *sels[] = {"gone", "dangle", "loop", "long", "rev", "small"};
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 ip4:192.0.2.1 ptr +all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "gone._domainkey.example.com.", ZW_OBS_NXDOMAIN, NULL);
	static const char *const dangle[] = {"x.esp.example."};
	fake_chain(&f, fake_txt(&f, "dangle._domainkey.example.com.", ZW_OBS_NXDOMAIN, NULL), dangle, 1);
	static const char *const loop[] = {"a.esp.example.", "b.esp.example.", "a.esp.example."};
	struct zw_obs_lookup *lk = fake_txt(&f, "loop._domainkey.example.com.", ZW_OBS_CNAME, NULL);
	fake_chain(&f, lk, loop, 3);
	lk->ans.cname_loop = 1;
	static const char *const hops[] = {"h1.example.", "h2.example.", "h3.example."};
	fake_chain(&f, fake_txt(&f, "long._domainkey.example.com.", ZW_OBS_DATA, key1024), hops, 3);
	fake_txt(&f, "rev._domainkey.example.com.", ZW_OBS_DATA, "v=DKIM1; k=rsa; p=");
	fake_txt(&f, "small._domainkey.example.com.", ZW_OBS_DATA, key1024);

	assert_int_equal(diagnose_fake(&fs, "example.com", NULL, sels, 6, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "SP-18 WARNING example.com.\n"
							 "SP-16 ERROR example.com.\n"
							 "DK-01 ERROR gone._domainkey.example.com.\n"
							 "CN-03 ERROR dangle._domainkey.example.com.\n"
							 "DK-01 ERROR dangle._domainkey.example.com.\n"
							 "CN-04 ERROR loop._domainkey.example.com.\n"
							 "CN-04 NOTICE long._domainkey.example.com.\n"
							 "DK-08 WARNING long._domainkey.example.com.\n"
							 "DK-06 ERROR rev._domainkey.example.com.\n"
							 "DK-08 WARNING small._domainkey.example.com.\n"
							 "DM-01 WARNING _dmarc.example.com.\n");
	const struct zw_finding *sp16 = find(&fs, "SP-16", 0);
	assert_string_equal(sp16->domain, "example.com");
	assert_string_equal(sp16->type, "TXT");
	assert_string_equal(sp16->observed, "v=spf1 ip4:192.0.2.1 ptr +all");
	assert_int_equal(sp16->offset, 25);
	assert_string_equal(find(&fs, "CN-03", 0)->message,
			    "dangling cname: dangle._domainkey.example.com -> x.esp.example.: x.esp.example. "
			    "does not exist "
			    "(RFC 1034 §3.6.2; RFC 6376 §6.1.2: no key)");
	assert_string_equal(find(&fs, "CN-04", 0)->message,
			    "cname loop: loop._domainkey.example.com -> a.esp.example. -> b.esp.example. -> "
			    "a.esp.example.: "
			    "resolvers answer servfail (RFC 1034 §3.6.2)");
	assert_string_equal(find(&fs, "CN-04", 1)->message,
			    "cname chain of 3 hops: long._domainkey.example.com -> h1.example. -> "
			    "h2.example. -> h3.example.: "
			    "every hop costs a lookup (RFC 1034 §3.6.2)");
	assert_string_equal(find(&fs, "DK-01", 1)->message,
			    "no dkim key at dangle._domainkey.example.com: nxdomain at the end of its cname, "
			    "so verifiers "
			    "fail with no key for signature (RFC 6376 §6.1.2)");
	assert_string_equal(find(&fs, "DM-01", 0)->fix,
			    "publish \"v=DMARC1; p=none; rua=mailto:...\" at _dmarc.example.com.");
	zw_findings_free(&fs);
}

/* Keys shared by the domains of a check: the same findings with and without, and a
 * key record with no finding is parsed once (fewer allocations the second time). */
static const char key2048[] =
	"v=DKIM1; k=rsa; "
	"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAo34/hyiEhmN/i0qZYWAFvJzRZQ/"
	"nurk7b1TyJ2zegE2bwYmIfibFkdwt"
	"KMZlnVWB5ib3QlTOlH4l+IqwgQGGcs9lFICbRymFHGRXxEAK4vHl7tpD4jeVPXM06s9cCXAjrTQjcCMJj2+txgYkn8eSAigCRGLB"
	"OWUGb6fEc8nhXOMFaScTJRlz0hadgYGY6paeqdkiKLFpfmkuAzk4LCbCI0OZG3lU32ovvSooRQpQNIPyJyw0Tg638wqfnoy2PcIH"
	"WRFkQ+helJ6F1ii9H/9ObhX3MX4RJSljg/osN0gDE+mGtZw9ulA9iKiF5scG+BCe7X2o911UjJY38tp2tMPUeQIDAQAB";

static int diagnose_keys(struct zw_findings *fs, const struct fake *f, struct zw_mailauth_keys *keys,
			 long *allocs)
{
	static const char *const sels[] = {"big", "small", "rev", "big2"};
	struct zw_mailauth *m = NULL;
	struct zw_error err = {0};
	int rc = zw_mailauth_new(&m, "example.com", NULL, sels, 4, &err);
	if (!rc) {
		zw_mailauth_set_keys(m, keys);
		zw_alloc_fail_at(0);
		rc = zw_mailauth_diagnose(fs, m, &f->obs, &err);
		*allocs = zw_alloc_count();
	}
	zw_mailauth_free(m);
	return rc;
}

static void diagnose_shared_keys(void **state)
{
	(void)state;
	struct fake f;
	struct zw_findings fs[3] = {{0}};
	char want[2048], got[2048];
	long plain = 0, first = 0, again = 0;
	struct zw_mailauth_keys *keys = zw_mailauth_keys_new();
	assert_non_null(keys);
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=reject");
	fake_txt(&f, "big._domainkey.example.com.", ZW_OBS_DATA, key2048);
	fake_txt(&f, "small._domainkey.example.com.", ZW_OBS_DATA, key1024);
	fake_txt(&f, "rev._domainkey.example.com.", ZW_OBS_DATA, "v=DKIM1; k=rsa; p=");
	static const char *const esp[] = {"s1.dkim.esp.example."};
	fake_chain(&f, fake_txt(&f, "big2._domainkey.example.com.", ZW_OBS_DATA, key2048), esp, 1);

	assert_int_equal(diagnose_keys(&fs[0], &f, NULL, &plain), 0);
	assert_int_equal(diagnose_keys(&fs[1], &f, keys, &first), 0);
	assert_int_equal(diagnose_keys(&fs[2], &f, keys, &again), 0);
	list(&fs[0], want, sizeof(want));
	assert_non_null(strstr(want, "DK-06")); /* the revoked key: a finding, never kept */
	assert_string_equal(list(&fs[1], got, sizeof(got)), want);
	assert_string_equal(list(&fs[2], got, sizeof(got)), want);
	for (size_t k = 1; k < 3; k++)
		for (size_t i = 0; i < fs[0].n; i++)
			assert_string_equal(fs[k].v[i].message ? fs[k].v[i].message : "",
					    fs[0].v[i].message ? fs[0].v[i].message : "");
	assert_true(again < plain); /* the 2048-bit key came from the cache */
	for (size_t k = 0; k < 3; k++)
		zw_findings_free(&fs[k]);
	zw_mailauth_keys_free(keys);
}

static void diagnose_spf_walk_from_table(void **state)
{
	(void)state;
	struct fake f;
	struct zw_findings fs = {0};
	char buf[1024];
	fake_init(&f);
	/* the answers a walk of three void lookups needs, all in the observation */
	fake_txt(&f, "example.com.", ZW_OBS_DATA,
		 "v=spf1 a:g1.example.com a:g2.example.com exists:g3.example.com include:n.example.com -all");
	fake_q(&f, "g1.example.com.", 1, ZW_OBS_NXDOMAIN);
	fake_q(&f, "g1.example.com.", 28, ZW_OBS_NXDOMAIN);
	fake_q(&f, "g2.example.com.", 1, ZW_OBS_NODATA);
	fake_q(&f, "g2.example.com.", 28, ZW_OBS_NODATA);
	fake_q(&f, "g3.example.com.", 1, ZW_OBS_NXDOMAIN);
	fake_txt(&f, "n.example.com.", ZW_OBS_DATA, "not spf");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=reject");

	struct zw_mailauth *m = NULL;
	struct zw_spf_result res;
	size_t missing = 99;
	assert_int_equal(zw_mailauth_new(&m, "example.com", NULL, NULL, 0, NULL), 0);
	assert_int_equal(zw_mailauth_step(m, NULL, &f.obs, NULL), 0); /* nothing to look up */
	assert_int_equal(zw_mailauth_spf_result(&res, &missing, m, &f.obs, NULL), 0);
	assert_int_equal(res.verdict, ZW_SPF_PERMERROR);
	assert_int_equal(res.lookups, 4);
	assert_int_equal(res.void_lookups, 3);
	assert_int_equal(missing, 0);
	zw_spf_result_free(&res);
	assert_int_equal(zw_mailauth_diagnose(&fs, m, &f.obs, NULL), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "SP-15 WARNING example.com.\n"
							 "SP-15 WARNING example.com.\n"
							 "SP-11 ERROR example.com.\n"
							 "SP-10 ERROR example.com.\n");
	assert_string_equal(
		find(&fs, "SP-10", 0)->message,
		"the spf record of example.com causes 3 void lookups, more than two (the one over the limit "
		"is example.com: exists:g3.example.com): permerror (RFC 7208 §4.6.4)");
	zw_findings_free(&fs);

	/* an answer the planning did not fetch is said, not guessed */
	f.obs.n_questions = 2; /* only the apex TXT and g1 A */
	assert_int_equal(zw_mailauth_diagnose(&fs, m, &f.obs, NULL), 0);
	const struct zw_finding *inc = find(&fs, "SP-15", 0);
	assert_non_null(inc);
	assert_string_equal(
		inc->message,
		"spf evaluation of example.com is incomplete: 5 answers were not looked up (first: "
		"g1.example.com AAAA), which is a bug in the planning; counts are lower bounds and the "
		"verdict "
		"is temperror");
	zw_findings_free(&fs);
	zw_mailauth_free(m);
}

static void diagnose_no_spf_bulk(void **state)
{
	(void)state;
	struct loaded l;
	struct fake f;
	struct zw_findings fs = {0};
	char buf[2048];
	load(&l);
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_NODATA, NULL);
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_NXDOMAIN, NULL);
	static const char *const t1[] = {"tok1.dkim.amazonses.com."};
	fake_chain(&f, fake_txt(&f, "tok1._domainkey.example.com.", ZW_OBS_DATA, key1024), t1, 1);
	fake_txt(&f, "tok2._domainkey.example.com.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "tok2.dkim.amazonses.com.", ZW_OBS_DATA, key1024);
	fake_txt(&f, "old._domainkey.example.com.", ZW_OBS_DATA, key1024);
	static const char *const em[] = {"u1.wl.sendgrid.net."};
	fake_chain(&f, fake_txt(&f, "em1.example.com.", ZW_OBS_NXDOMAIN, NULL), em, 1);
	assert_int_equal(diagnose_fake(&fs, "example.com", &l.ds, NULL, 0, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "SP-01 ERROR example.com.\n"
							 "DK-08 WARNING tok1._domainkey.example.com.\n"
							 "DK-01 ERROR tok2._domainkey.example.com.\n"
							 "DK-08 WARNING old._domainkey.example.com.\n"
							 "ZW-02 ERROR old._domainkey.example.com.\n"
							 "SE-01 ERROR -\n"
							 "DM-01 ERROR _dmarc.example.com.\n"
							 "CN-03 ERROR em1.example.com.\n");
	/* manifest locations: the cname line of tok2, the selector of old */
	const struct zw_finding *dk01 = find(&fs, "DK-01", 0);
	assert_string_equal(dk01->loc.file, "m.yaml");
	assert_int_equal(dk01->loc.line, 19);
	const struct zw_finding *zw02 = find(&fs, "ZW-02", 0);
	assert_int_equal(zw02->loc.line, 20);
	assert_string_equal(zw02->expected, "(no record)");
	assert_string_equal(find(&fs, "SE-01", 0)->message,
			    "easy dkim: 1 of the 2 token cnames resolve to their key (not live: "
			    "tok2._domainkey.example.com); "
			    "ses keeps the identity pending, then fails it after 72 hours");
	assert_string_equal(find(&fs, "SE-01", 0)->domain, "example.com");
	assert_int_equal(find(&fs, "CN-03", 0)->loc.line, 24);
	zw_findings_free(&fs);
	unload(&l);
}

static void diagnose_revoked_and_absent(void **state)
{
	(void)state;
	static const char yaml[] =
		"apiVersion: zonewarden.dev/v1alpha1\n"
		"kind: Provider\n"
		"metadata: {name: p}\n"
		"spec: {type: route53, route53: {}}\n"
		"---\n"
		"apiVersion: zonewarden.dev/v1alpha1\n"
		"kind: MailDomain\n"
		"metadata: {name: example-com}\n"
		"spec:\n"
		"  domain: example.com\n"
		"  providerRef: p\n"
		"  dkim:\n"
		"    - selector: old\n"
		"      state: revoked\n"
		"    - selector: gone\n"
		"      expectAbsent: true\n"
		"    - selector: k\n"
		"      publicKey: "
		"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCtFXw5au/lDKBegWLukblWmHBwSLVv800Ls+SPWl5ifbVKOyHasR"
		"LS3T24KsE/9O1xnD8cCbRVSkB88+0Iu8anGZz0IOgHJspq4YBNAR575Tae6m7PhVtj5sJyHUi3fFgfCLZcS/DDfpK0"
		"Sm4xql7p3xdSsFi64qzA6PsVY8jafwIDAQAB\n"
		"      publicKeySha256: "
		"0000000000000000000000000000000000000000000000000000000000000000\n";
	struct zw_manifests *ms = NULL;
	struct zw_desired ds;
	struct zw_error err = {0};
	struct fake f;
	struct zw_findings fs = {0};
	char buf[1024];
	assert_int_equal(zw_manifests_load_buffer(&ms, "r.yaml", yaml, strlen(yaml), &err), 0);
	assert_int_equal(zw_desired_build(&ds, &ms->domains[0], &err), 0);
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=reject");
	fake_txt(&f, "old._domainkey.example.com.", ZW_OBS_DATA, "v=DKIM1; k=rsa; p=");
	fake_txt(&f, "gone._domainkey.example.com.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "k._domainkey.example.com.", ZW_OBS_DATA, key1024);
	assert_int_equal(diagnose_fake(&fs, "example.com", &ds, NULL, 0, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "DK-06 INFO old._domainkey.example.com.\n"
							 "DK-08 WARNING k._domainkey.example.com.\n"
							 "DK-15 ERROR k._domainkey.example.com.\n");
	assert_string_equal(find(&fs, "DK-15", 0)->expected,
			    "0000000000000000000000000000000000000000000000000000000000000000");
	zw_findings_free(&fs);

	/* a revoked record at an expectAbsent selector is a fine way to retire it */
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=reject");
	fake_txt(&f, "gone._domainkey.example.com.", ZW_OBS_DATA, "v=DKIM1; p=");
	fake_txt(&f, "old._domainkey.example.com.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "k._domainkey.example.com.", ZW_OBS_FAILED, NULL);
	assert_int_equal(diagnose_fake(&fs, "example.com", &ds, NULL, 0, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "DK-01 ERROR old._domainkey.example.com.\n"
							 "DK-06 INFO gone._domainkey.example.com.\n");
	zw_findings_free(&fs);
	zw_desired_free(&ds);
	zw_manifests_free(ms);
}

static void diagnose_dmarc_org_domain(void **state)
{
	(void)state;
	struct fake f;
	struct zw_findings fs = {0};
	char buf[512];
	/* no record at the subdomain, one at the organizational domain: no DM-01 */
	fake_init(&f);
	fake_txt(&f, "mail.example.com.", ZW_OBS_DATA, "v=spf1 -all");
	fake_txt(&f, "_dmarc.mail.example.com.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=reject");
	assert_int_equal(diagnose_fake(&fs, "mail.example.com", NULL, NULL, 0, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "");
	zw_findings_free(&fs);
	/* none at either */
	f.q[2].resolved.ans.kind = ZW_OBS_NXDOMAIN;
	f.q[2].resolved.ans.n_rrs = 0;
	assert_int_equal(diagnose_fake(&fs, "mail.example.com", NULL, NULL, 0, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "DM-01 WARNING _dmarc.mail.example.com.\n");
	zw_findings_free(&fs);
}

static void diagnose_report_authorisation(void **state)
{
	(void)state;
	struct fake f;
	struct zw_findings fs = {0};
	char buf[512];
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA,
		 "v=DMARC1; p=none; "
		 "rua=mailto:a@rep.example.net,mailto:b@wild.example.org,mailto:c@example.com, "
		 "https://x.example.net/r; ruf=mailto:f@two.example.net");
	fake_txt(&f, "example.com._report._dmarc.rep.example.net.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "*._report._dmarc.rep.example.net.", ZW_OBS_NXDOMAIN, NULL);
	fake_q(&f, "rep.example.net.", 15, ZW_OBS_DATA);
	fake_txt(&f, "example.com._report._dmarc.wild.example.org.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "*._report._dmarc.wild.example.org.", ZW_OBS_DATA, "v=DMARC1");
	fake_q(&f, "wild.example.org.", 15, ZW_OBS_NODATA);
	fake_q(&f, "example.com.", 15, ZW_OBS_DATA);
	struct zw_obs_lookup *two =
		fake_txt(&f, "example.com._report._dmarc.two.example.net.", ZW_OBS_DATA, "v=DMARC1");
	struct zw_rr *r2 = fake_rr(&f);
	*r2 = two->ans.rrs[0];
	two->ans.n_rrs = 2; /* rrs[0] and the copy next to it */
	fake_txt(&f, "*._report._dmarc.two.example.net.", ZW_OBS_NXDOMAIN, NULL);
	assert_int_equal(diagnose_fake(&fs, "example.com", NULL, NULL, 0, &f), 0);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "DM-07 WARNING _dmarc.example.com.\n"
							 "DM-08 WARNING _dmarc.example.com.\n"
							 "DM-07 WARNING _dmarc.example.com.\n");
	const struct zw_finding *a = find(&fs, "DM-07", 0);
	assert_string_equal(
		a->fix, "Authorization record not found: example.com._report._dmarc.rep.example.net IN TXT "
			"\"v=DMARC1\" (publish exactly one such record in the zone of rep.example.net, or "
			"remove the uri)");
	assert_string_equal(a->expected, "example.com._report._dmarc.rep.example.net. IN TXT \"v=DMARC1\"");
	assert_string_equal(find(&fs, "DM-08", 0)->message,
			    "the domain for rua email address b@wild.example.org has no mx records: "
			    "aggregate reports are "
			    "undeliverable (RFC 7489 §7.1)");
	assert_non_null(strstr(find(&fs, "DM-07", 1)->message, "several v=DMARC1 records"));
	zw_findings_free(&fs);
}

/* ---- planning: what a step submits ---- */

static void step_plans_and_bounds(void **state)
{
	(void)state;
	struct zw_roothints *h = NULL;
	struct zw_resolver *r = NULL;
	struct zw_mailauth *m = NULL;
	struct zw_error err = {0};
	struct fake f;
	assert_int_equal(zw_roothints_builtin(&h, &err), 0);
	assert_int_equal(zw_resolver_new(&r, h, NULL, &err), 0);
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 include:_spf.example.net mx -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=none");
	assert_int_equal(zw_mailauth_new(&m, "example.com", NULL, NULL, 0, &err), 0);
	/* the include's TXT and the apex MX are needed: submitted, not yet run */
	assert_int_equal(zw_mailauth_step(m, r, &f.obs, &err), 1);
	zw_mailauth_free(m);

	/* no observation: the first step asks the base questions itself */
	assert_int_equal(zw_mailauth_new(&m, "example.com", NULL, NULL, 0, &err), 0);
	assert_int_equal(zw_mailauth_step(m, r, NULL, &err), 1);
	zw_mailauth_free(m);

	/* the round bound: after ZW_MAILAUTH_MAX_ROUNDS steps, step says done */
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=none");
	assert_int_equal(zw_mailauth_new(&m, "example.com", NULL, NULL, 0, &err), 0);
	for (int i = 0; i < ZW_MAILAUTH_MAX_ROUNDS; i++)
		assert_int_equal(zw_mailauth_step(m, r, &f.obs, &err), 0);
	assert_int_equal(zw_mailauth_step(m, NULL, &f.obs, &err), 0);
	zw_mailauth_free(m);
	zw_resolver_free(r);
	zw_roothints_free(h);
}

/* ---- overlap with inspect ---- */

static void dedupe_overlap(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	struct zw_finding *f;
	char buf[512];
	/* inspect's */
	f = zw_findings_add(&fs, "DK-06", 3, "revoked");
	zw_finding_set(f, ZW_F_NAME, "old._domainkey.example.com.");
	f = zw_findings_add(&fs, "SP-16", 3, "+all");
	zw_finding_set(f, ZW_F_NAME, "example.com.");
	f = zw_findings_add(&fs, "TX-01", 0, "space");
	zw_finding_set(f, ZW_F_NAME, "example.com.");
	f = zw_findings_add(&fs, "DK-08", 0, "1024");
	zw_finding_set(f, ZW_F_NAME, "other._domainkey.example.com.");
	/* mailauth's */
	f = zw_findings_add(&fs, "DK-06", 3, "revoked, as the manifest says");
	f->sev = ZW_SEV_INFO;
	zw_finding_set(f, ZW_F_NAME, "OLD._domainkey.example.com");
	f = zw_findings_add(&fs, "SP-16", 3, "+all");
	zw_finding_set(f, ZW_F_NAME, "example.com.");
	zw_mailauth_dedupe(&fs, 0, 4);
	assert_string_equal(list(&fs, buf, sizeof(buf)), "TX-01 ERROR example.com.\n"
							 "DK-08 WARNING other._domainkey.example.com.\n"
							 "DK-06 INFO OLD._domainkey.example.com\n"
							 "SP-16 ERROR example.com.\n");
	zw_findings_free(&fs);
}

/* ---- every allocation failing ---- */

static int alloc_body(void)
{
	struct fake f;
	struct zw_findings fs = {0};
	const char *sels[] = {"dangle", "s"};
	fake_init(&f);
	fake_txt(&f, "example.com.", ZW_OBS_DATA, "v=spf1 a:g1.example.com include:n.example.com ptr +all");
	fake_q(&f, "g1.example.com.", 1, ZW_OBS_NXDOMAIN);
	fake_q(&f, "g1.example.com.", 28, ZW_OBS_DATA);
	fake_txt(&f, "n.example.com.", ZW_OBS_DATA, "v=spf1 ip4:192.0.2.1 -all");
	fake_txt(&f, "_dmarc.example.com.", ZW_OBS_DATA, "v=DMARC1; p=none; rua=mailto:a@rep.example.net");
	fake_txt(&f, "example.com._report._dmarc.rep.example.net.", ZW_OBS_NXDOMAIN, NULL);
	fake_txt(&f, "*._report._dmarc.rep.example.net.", ZW_OBS_NXDOMAIN, NULL);
	fake_q(&f, "rep.example.net.", 15, ZW_OBS_NODATA);
	static const char *const dangle[] = {"x.esp.example.", "y.esp.example.", "z.esp.example."};
	fake_chain(&f, fake_txt(&f, "dangle._domainkey.example.com.", ZW_OBS_NXDOMAIN, NULL), dangle, 3);
	fake_txt(&f, "s._domainkey.example.com.", ZW_OBS_DATA, key1024);
	int rc = diagnose_fake(&fs, "example.com", NULL, sels, 2, &f);
	size_t n = fs.n;
	zw_findings_free(&fs);
	return rc ? rc : n == 8 ? 0 : -100; /* CN-03 wins over the chain's CN-04 notice */
}

static void survives_allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(alloc_body());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(org_domain_rule),
		cmocka_unit_test(report_auth_decision),
		cmocka_unit_test(questions_for_domain_form),
		cmocka_unit_test(questions_from_manifest),
		cmocka_unit_test(diagnose_spf_dkim_dmarc),
		cmocka_unit_test(diagnose_shared_keys),
		cmocka_unit_test(diagnose_spf_walk_from_table),
		cmocka_unit_test(diagnose_no_spf_bulk),
		cmocka_unit_test(diagnose_revoked_and_absent),
		cmocka_unit_test(diagnose_dmarc_org_domain),
		cmocka_unit_test(diagnose_report_authorisation),
		cmocka_unit_test(step_plans_and_bounds),
		cmocka_unit_test(dedupe_overlap),
		cmocka_unit_test(survives_allocation_failures),
	};
	return cmocka_run_group_tests_name("mailauth", tests, NULL, NULL);
}
