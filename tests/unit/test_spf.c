/*
 * test_spf.c - unit tests of reconcile/spf.c: selection, the §12 grammar and its finding
 * classes, printing, and check_host() against an in-memory DNS table (lookup and void
 * limits at their boundaries, include/redirect of none, loops, mx with 11 hosts, macros).
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "reconcile/spf.h"

/* ---- helpers ---- */

struct parsed {
	struct zw_spf *spf;
	struct zw_findings fs;
};

static struct parsed parse(const char *rec)
{
	struct parsed p = {0};
	assert_int_equal(zw_spf_parse(&p.spf, rec, strlen(rec), &p.fs, NULL), 0);
	assert_non_null(p.spf);
	return p;
}

static void done(struct parsed *p)
{
	zw_spf_free(p->spf);
	zw_findings_free(&p->fs);
}

/* The ids of the findings, space separated, in order ("SP-05 SP-17"). */
static const char *ids(const struct zw_findings *fs, char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < fs->n && o + 8 < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? " " : "", fs->v[i].cls->id);
	return buf;
}

static const struct zw_finding *find(const struct zw_findings *fs, const char *id)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].cls->id, id) == 0)
			return &fs->v[i];
	return NULL;
}

/* Parse, check permerror and the exact finding ids. */
static void expect(const char *rec, int permerror, const char *want_ids)
{
	char buf[256];
	struct parsed p = parse(rec);
	ids(&p.fs, buf, sizeof(buf));
	if (p.spf->permerror != permerror || strcmp(buf, want_ids) != 0)
		fail_msg("'%s': permerror %d findings '%s', wanted %d '%s'%s%s", rec, p.spf->permerror, buf,
			 permerror, want_ids, p.fs.n ? " first: " : "", p.fs.n ? p.fs.v[0].message : "");
	done(&p);
}

/* ---- selection and version ---- */

static void selection(void **state)
{
	(void)state;
	assert_true(zw_spf_is_record("v=spf1", 6));
	assert_true(zw_spf_is_record("v=spf1 -all", 11));
	assert_true(zw_spf_is_record("V=SPF1 -all", 11));
	assert_false(zw_spf_is_record("v=spf10 -all", 12));
	assert_false(zw_spf_is_record("v=spf1-all", 10));
	assert_false(zw_spf_is_record(" v=spf1 -all", 12));
	assert_false(zw_spf_is_record("spf2.0/pra ip4:192.0.2.0/24 ~all", 32));
	assert_false(zw_spf_is_record("v=spf1\t-all", 11));
	assert_false(zw_spf_is_record("v=spf", 5));

	struct zw_findings fs = {0};
	assert_int_equal(zw_spf_check_sender_id(&fs, "spf2.0/pra ip4:192.0.2.0/24 ~all", 32), 1);
	assert_int_equal(zw_spf_check_sender_id(&fs, "SPF2.0/mfrom,pra -all", 21), 1);
	assert_int_equal(zw_spf_check_sender_id(&fs, "v=spf1 -all", 11), 0);
	assert_int_equal(fs.n, 2);
	assert_string_equal(fs.v[0].cls->id, "SP-21");
	assert_int_equal(fs.v[0].sev, ZW_SEV_NOTICE);
	zw_findings_free(&fs);

	expect("v=spf10 -all", 1, "SP-03");
	expect("v=spf1a -all", 1, "SP-03");
	expect("v=spf 1 -all", 1, "SP-03");
	expect("spf1 -all", 1, "SP-03");
	expect("v=spf1;-all", 1, "SP-03");
	expect(" v=spf1 -all", 1, "SP-03");
	expect("", 1, "SP-03");

	struct parsed p = parse("v=spf1-all");
	assert_int_equal(p.fs.v[0].offset, 6);
	assert_non_null(strstr(p.fs.v[0].message, "v=spf1\xe2\x9e\x9e-all"));
	done(&p);
}

/* ---- the grammar ---- */

static void valid_records(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"v=spf1 -all",
		"V=SPF1 A MX -ALL",
		"v=spf1 ip4:192.0.2.0/24 ip4:0.0.0.0/0 ip4:255.255.255.255 -all",
		"v=spf1 ip6:2001:db8::/32 ip6:::1 ip6::: ip6:1:2:3:4:5:6:7:8 ip6:1:2:3:4:5:6:7:: -all",
		"v=spf1 ip6:::ffff:192.0.2.1 ip6:1::2:3:4:5:6:7 ip6:FE80::1/128 -all",
		"v=spf1 a a:mail.example.com a/24 a//64 a/24//64 a:x.example/0//0 -all",
		"v=spf1 mx mx:example.com mx:example.com/28 mx//127 -all",
		"v=spf1 ptr ptr:example.com ?all",
		"v=spf1 exists:%{i}.%{l1r-}.%{d2}._spf.example.net -all",
		"v=spf1 exists:%{ir}.%{v}._spf.%{d} include:%{d} -all",
		"v=spf1 a:%{H}.example.com a:%%.%_.%-.example.com -all",
		"v=spf1 a:x.example. a:.example a:x.1-2 a:%{d}end.%{o} -all",
		"v=spf1 include:_spf.google.com ~all",
		"v=spf1 redirect=_spf.example.net",
		"v=spf1 -all exp=explain.%{d}",
		"v=spf1 -all MS=ms12345 google-site-verification=abc_DEF-1.2",
		"v=spf1 foo.bar-baz_9=%{c}%{r}%{t}x ~all",
		"v=spf1 exists:%{l15r+-,/_=}.example.com -all",
		"v=spf1 include=_spf.google.com -all",
		"v=spf1   -all   ",
		"v=spf1",
		"v=spf1 ",
		"v=spf1 ?a:%{dR}.x.example ~mx +ptr -all",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct parsed p = parse(ok[i]);
		if (p.spf->permerror)
			fail_msg("'%s' is valid; got: %s", ok[i], p.fs.n ? p.fs.v[0].message : "?");
		struct zw_buf b = ZW_BUF_INIT;
		assert_int_equal(zw_spf_print(&b, p.spf), 0);
		assert_string_equal(zw_buf_str(&b), ok[i]);
		zw_buf_free(&b);
		done(&p);
	}
}

static void invalid_records(void **state)
{
	(void)state;
	/* SP-05: unknown or misspelled terms, wrong separators */
	expect("v=spf1 ipv4:192.0.2.1 -all", 1, "SP-05");
	expect("v=spf1 foo -all", 1, "SP-05");
	expect("v=spf1 -all foo", 1, "SP-20"); /* the most specific finding alone */
	expect("v=spf1 =a -all", 1, "SP-05");
	expect("v=spf1 +-all", 1, "SP-05");
	expect("v=spf1 all:x", 1, "SP-05");
	expect("v=spf1 include -all", 1, "SP-05");
	expect("v=spf1 include: -all", 1, "SP-05");
	expect("v=spf1 exists -all", 1, "SP-05");
	expect("v=spf1 a: -all", 1, "SP-05");
	expect("v=spf1 ptr/24 -all", 1, "SP-05");
	expect("v=spf1 a:foo -all", 1, "SP-05");
	expect("v=spf1 a:foo.c_m -all", 1, "SP-05");
	expect("v=spf1 a:foo.com.. -all", 1, "SP-05");
	expect("v=spf1 a:%{d}. -all", 1, "SP-05");
	expect("v=spf1 a:foo.-bar -all", 1, "SP-05");
	expect("v=spf1 redirect= ", 1, "SP-05");
	expect("v=spf1 include:a.example, -all", 1, "SP-05");
	expect("v=spf1 include:a.example,include:b.example -all", 0, "SP-05");
	expect("v=spf1 a:caf\xc3\xa9.example -all", 1, "SP-05");
	/* SP-06: glued terms */
	expect("v=spf1 ip4:192.0.2.7~all", 1, "SP-06");
	expect("v=spf1 include:_spf.example.net~all", 1, "SP-06");
	expect("v=spf1 mx-all", 1, "SP-06");
	expect("v=spf1 ip4:192.0.2.0/24include:_spf.example.net -all", 1, "SP-06");
	/* SP-07: addresses and prefix lengths */
	expect("v=spf1 ip4:192.0.2.300 -all", 1, "SP-07");
	expect("v=spf1 ip4:192.0.2.0/33 -all", 1, "SP-07");
	expect("v=spf1 ip4:192.168 -all", 1, "SP-07");
	expect("v=spf1 ip4:192.0.2.01 -all", 1, "SP-07");
	expect("v=spf1 ip6:192.0.2.1 -all", 1, "SP-07");
	expect("v=spf1 ip4:2001:db8::1 -all", 1, "SP-07");
	expect("v=spf1 ip4:192.0.2.0/024 -all", 1, "SP-07");
	expect("v=spf1 ip4:192.0.2.0//24 -all", 1, "SP-07");
	expect("v=spf1 ip4 -all", 1, "SP-07");
	expect("v=spf1 ip6:2001:db8::/129 -all", 1, "SP-07");
	expect("v=spf1 ip6:1::2::3 -all", 1, "SP-07");
	expect("v=spf1 ip6:1:2:3:4:5:6:7:8:9 -all", 1, "SP-07");
	expect("v=spf1 ip6:1:2:3:4:5:6:7 -all", 1, "SP-07");
	expect("v=spf1 ip6:1:2:3:4:5:6:7:8:: -all", 1, "SP-07");
	expect("v=spf1 ip6:12345::1 -all", 1, "SP-07");
	expect("v=spf1 ip6:::1.2.3.04 -all", 1, "SP-07");
	expect("v=spf1 ip6:1.2.3.4:: -all", 1, "SP-07");
	expect("v=spf1 ip6:fe80::1%eth0 -all", 1, "SP-07");
	expect("v=spf1 a/33 -all", 1, "SP-07");
	expect("v=spf1 a//129 -all", 1, "SP-07");
	expect("v=spf1 mx:example.com/24/64 -all", 1, "SP-07");
	expect("v=spf1 a:192.0.2.1 -all", 1, "SP-07");
	/* SP-08: macros */
	expect("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d -all", 1, "SP-08");
	expect("v=spf1 a:%{x}.example.com -all", 1, "SP-08");
	expect("v=spf1 a:%{d0}.example.com -all", 1, "SP-08");
	expect("v=spf1 a:%{c}.example.com -all", 1, "SP-08");
	expect("v=spf1 exp=%{r}.example.com -all", 1, "SP-08");
	expect("v=spf1 a:100%.example.com -all", 1, "SP-08");
	expect("v=spf1 a:%{d2x}.example.com -all", 1, "SP-08");
	expect("v=spf1 foo=%{ -all", 1, "SP-08");
	/* SP-14 */
	expect("v=spf1 redirect=a.example redirect=b.example", 1, "SP-14");
	expect("v=spf1 -all exp=a.example EXP=b.example", 1, "SP-14");

	/* exact offset and message of the SP-06 marker */
	struct parsed p = parse("v=spf1 ip4:192.0.2.7~all");
	assert_int_equal(p.fs.v[0].offset, 20);
	assert_string_equal(p.fs.v[0].message,
			    "expected a space before '~all' at offset 20 (marked with \xe2\x9e\x9e) in: "
			    "v=spf1 ip4:192.0.2.7\xe2\x9e\x9e~all (RFC 7208 §12)");
	done(&p);
	p = parse("v=spf1 ipv4:192.0.2.1 -all");
	assert_int_equal(p.fs.v[0].offset, 7);
	assert_string_equal(p.fs.v[0].message,
			    "unknown mechanism 'ipv4' at offset 7 (RFC 7208 §12): did you mean 'ip4:'?");
	done(&p);
	p = parse("v=spf1 inclde:_spf.google.com -all");
	assert_non_null(strstr(p.fs.v[0].message, "did you mean 'include:'?"));
	done(&p);
}

static void lint_classes(void **state)
{
	(void)state;
	/* include= is an unknown modifier by the ABNF: the record stays valid, but it is an ERROR */
	struct parsed p = parse("v=spf1 include=_spf.google.com -all");
	assert_int_equal(p.spf->permerror, 0);
	assert_string_equal(p.fs.v[0].cls->id, "SP-05");
	assert_int_equal(p.fs.v[0].sev, ZW_SEV_ERROR);
	assert_int_equal(p.fs.v[0].offset, 7);
	done(&p);

	expect("v=spf1 redirct=_spf.example.net -all", 0, "SP-05");
	expect("v=spf1 +all", 0, "SP-16");
	expect("v=spf1 all", 0, "SP-16");
	expect("v=spf1 ?all", 0, "SP-17");
	expect("v=spf1 include:_spf.google.com", 0, "SP-17");
	expect("v=spf1 ptr -all", 0, "SP-18");
	expect("v=spf1 -all include:_spf.google.com", 0, "SP-20");
	expect("v=spf1 ip4:%{i} -all", 1, "SP-08"); /* macros only in a domain-spec (RFC 7208 §7.1) */
	expect("v=spf1 -all MS=abc", 0, "SP-20");
	expect("v=spf1 -all exp=x.example", 0, "");
	expect("v=spf1 include:a.example include:A.example. -all", 0, "SP-23");
	expect("v=spf1 include:spf.example.com-all", 0, "SP-06 SP-17");

	p = parse("v=spf1 -all redirect=_spf.example.net");
	assert_int_equal(p.spf->permerror, 0);
	assert_string_equal(p.fs.v[0].cls->id, "SP-12");
	assert_int_equal(p.fs.v[0].sev, ZW_SEV_WARNING);
	assert_int_equal(p.spf->lookups, 0); /* the redirect is ignored */
	done(&p);

	p = parse("v=spf1 -all foo");
	assert_int_equal(p.fs.n, 1);
	assert_int_equal(p.fs.v[0].sev, ZW_SEV_ERROR);
	assert_string_equal(p.fs.v[0].cls->id, "SP-20");
	done(&p);

	/* SP-19: sizes */
	char big[600];
	memcpy(big, "v=spf1", 6);
	size_t o = 6;
	while (o < 470)
		o += (size_t)snprintf(big + o, sizeof(big) - o, " ip4:192.0.2.%zu", o % 250);
	snprintf(big + o, sizeof(big) - o, " -all");
	p = parse(big);
	assert_int_equal(p.spf->permerror, 0);
	assert_non_null(find(&p.fs, "SP-19"));
	assert_non_null(strstr(find(&p.fs, "SP-19")->message, "450"));
	done(&p);
	while (o < 530)
		o += (size_t)snprintf(big + o, sizeof(big) - o, " ip4:192.0.2.%zu", o % 250);
	p = parse(big);
	assert_non_null(strstr(find(&p.fs, "SP-19")->message, "over 512"));
	done(&p);
}

static void terms_exposed(void **state)
{
	(void)state;
	struct parsed p = parse(
		"v=spf1 -ip4:192.0.2.0/24 a:%{d}.example//64 ~include:x.example mx -all redirect=r.example");
	struct zw_spf *s = p.spf;
	assert_int_equal(s->n, 6);
	assert_int_equal(s->terms[0].kind, ZW_SPF_IP4);
	assert_int_equal(s->terms[0].qualifier, ZW_SPF_Q_FAIL);
	assert_int_equal(s->terms[0].cidr4, 24);
	assert_memory_equal(s->terms[0].ip, "\xc0\x00\x02\x00", 4);
	assert_int_equal(s->terms[0].offset, 7);
	assert_int_equal(s->terms[1].kind, ZW_SPF_A);
	assert_int_equal(s->terms[1].domain_len, 12);
	assert_memory_equal(s->terms[1].domain, "%{d}.example", 12);
	assert_true(s->terms[1].has_macro);
	assert_int_equal(s->terms[1].cidr4, -1);
	assert_int_equal(s->terms[1].cidr6, 64);
	assert_int_equal(s->terms[2].qualifier, ZW_SPF_Q_SOFTFAIL);
	assert_int_equal(s->terms[3].domain, NULL);
	assert_int_equal(s->terms[4].kind, ZW_SPF_ALL);
	assert_int_equal(s->terms[5].kind, ZW_SPF_REDIRECT);
	assert_int_equal(s->all, 4);
	assert_int_equal(s->redirect, 5);
	assert_int_equal(s->lookups, 3); /* a include mx; the redirect is ignored */
	done(&p);

	p = parse("v=spf1 include:a.example redirect=b.example");
	assert_int_equal(p.spf->lookups, 2);
	done(&p);
}

static void printing(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"V=SPF1 +A:Example.COM/32 IP4:192.0.2.1/32 ip6:2001:DB8:0:0::1/128 -ALL",
		 "v=spf1 a:Example.COM ip4:192.0.2.1 ip6:2001:db8::1 -all"},
		{"v=spf1   mx/24//64   ~all  Redirect=x.example", "v=spf1 mx/24//64 ~all redirect=x.example"},
		{"v=spf1 ip6:::ffff:1.2.3.4/96 MS=x", "v=spf1 ip6:::ffff:1.2.3.4/96 MS=x"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p = parse(cases[i][0]);
		struct zw_buf b = ZW_BUF_INIT, c = ZW_BUF_INIT;
		assert_int_equal(zw_spf_print(&b, p.spf), 0);
		assert_string_equal(zw_buf_str(&b), cases[i][0]);
		assert_int_equal(zw_spf_print_canonical(&c, p.spf), 0);
		assert_string_equal(zw_buf_str(&c), cases[i][1]);
		zw_buf_free(&b);
		zw_buf_free(&c);
		done(&p);
	}
	/* a broken record still prints back exactly; it has no canonical form */
	struct parsed p = parse(" v=spf1  ipv4:1.2.3.4 ~all ");
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_spf_print(&b, p.spf), 0);
	assert_string_equal(zw_buf_str(&b), " v=spf1  ipv4:1.2.3.4 ~all ");
	assert_int_equal(zw_spf_print_canonical(&b, p.spf), ZW_EINVAL);
	zw_buf_free(&b);
	done(&p);
	/* NUL bytes survive */
	struct zw_spf *s;
	assert_int_equal(zw_spf_parse(&s, "v=spf1 a\0b -all", 15, NULL, NULL), 0);
	assert_int_equal(s->permerror, 1);
	assert_int_equal(zw_spf_print(&b, s), 0);
	assert_int_equal(b.len, 15);
	assert_memory_equal(b.p, "v=spf1 a\0b -all", 15);
	zw_buf_free(&b);
	zw_spf_free(s);
}

static int parse_all(void)
{
	static const char *const recs[] = {
		"v=spf1 ip4:192.0.2.7~all",
		"v=spf1 include:a.example include:a.example ptr +all redirect=x.example foo=bar",
		"v=spf1-all",
		"v=spf1 ipv4:1.2.3.4 include=x.example -all junk",
	};
	for (size_t i = 0; i < 4; i++) {
		struct zw_findings fs = {0};
		struct zw_spf *s = NULL;
		int rc = zw_spf_parse(&s, recs[i], strlen(recs[i]), &fs, NULL);
		struct zw_buf b = ZW_BUF_INIT;
		if (!rc)
			rc = zw_spf_print(&b, s);
		zw_buf_free(&b);
		zw_spf_free(s);
		zw_findings_free(&fs);
		if (rc)
			return rc;
	}
	return 0;
}

static void parse_alloc_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(parse_all());
}

/* ---- evaluation against an in-memory DNS ---- */

struct rr {
	const char *name;
	enum zw_spf_qtype type;
	const char *data; /* TXT value, address text, MX/PTR name; NULL: rcode only */
	int rcode;	  /* 2 SERVFAIL, -1 timeout */
};

struct world {
	const struct rr *rrs;
	size_t n;
	int queries;
};

static int world_query(void *ctx, const char *name, enum zw_spf_qtype type, struct zw_spf_answer *out,
		       int *rcode)
{
	struct world *w = ctx;
	int exists = 0;
	w->queries++;
	if (getenv("SPF_TRACE"))
		fprintf(stderr, "q %d %s\n", (int)type, name);
	*rcode = 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct rr *r = &w->rrs[i];
		if (strcasecmp(r->name, name) != 0)
			continue;
		exists = 1;
		if (r->type != type)
			continue;
		if (r->rcode < 0)
			return ZW_ETRANSIENT;
		if (r->rcode) {
			*rcode = r->rcode;
			return 0;
		}
		if (!r->data)
			continue;
		unsigned char ip[16];
		int rc;
		if (type == ZW_SPF_QA && inet_pton(AF_INET, r->data, ip) == 1)
			rc = zw_spf_answer_add(out, ip, 4);
		else if (type == ZW_SPF_QAAAA && inet_pton(AF_INET6, r->data, ip) == 1)
			rc = zw_spf_answer_add(out, ip, 16);
		else
			rc = zw_spf_answer_add(out, r->data, strlen(r->data));
		if (rc)
			return rc;
	}
	if (!exists)
		*rcode = 3;
	return 0;
}

struct run {
	struct zw_spf_result res;
	struct zw_findings fs;
	struct world w;
};

static void run(struct run *r, const struct rr *rrs, size_t n, const char *domain, const char *ip,
		const char *sender)
{
	struct zw_spf_dns dns = {.ctx = &r->w, .query = world_query};
	struct zw_spf_eval_opts o = {.ip = ip, .sender = sender, .helo = "mx.example.org", .now = 1700000000};
	memset(r, 0, sizeof(*r));
	r->w.rrs = rrs;
	r->w.n = n;
	assert_int_equal(zw_spf_evaluate(&r->res, domain, &dns, &o, &r->fs, NULL), 0);
}

static void run_free(struct run *r)
{
	zw_spf_result_free(&r->res);
	zw_findings_free(&r->fs);
}

#define RUN(r, rrs, domain, ip) run((r), (rrs), sizeof(rrs) / sizeof((rrs)[0]), (domain), (ip), NULL)

static void expect_eval(const struct rr *rrs, size_t n, const char *domain, const char *ip,
			enum zw_spf_verdict v, int lookups, int voids, const char *want_ids)
{
	struct run r;
	char buf[256];
	run(&r, rrs, n, domain, ip, NULL);
	ids(&r.fs, buf, sizeof(buf));
	if (r.res.verdict != v || r.res.lookups != lookups || r.res.void_lookups != voids ||
	    strcmp(buf, want_ids) != 0)
		fail_msg("%s ip %s: %s lookups %d voids %d findings '%s'; wanted %s %d %d '%s' (%s)", domain,
			 ip ? ip : "-", zw_spf_verdict_name(r.res.verdict), r.res.lookups, r.res.void_lookups,
			 buf, zw_spf_verdict_name(v), lookups, voids, want_ids,
			 r.res.problem ? r.res.problem : "");
	run_free(&r);
}

#define EXPECT(rrs, domain, ip, v, l, vo, f)                                                                 \
	expect_eval((rrs), sizeof(rrs) / sizeof((rrs)[0]), (domain), (ip), (v), (l), (vo), (f))

static const struct rr basic[] = {
	{"example.com", ZW_SPF_QTXT, "google-site-verification=abc", 0},
	{"example.com", ZW_SPF_QTXT,
	 "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a:web.example.com mx include:_spf.esp.example "
	 "exists:%{ir}.%{v}._spf.%{d} -all exp=exp.example.com",
	 0},
	{"web.example.com", ZW_SPF_QA, "198.51.100.10", 0},
	{"web.example.com", ZW_SPF_QAAAA, "2001:db9::10", 0},
	{"example.com", ZW_SPF_QMX, "mx1.example.com.", 0},
	{"mx1.example.com", ZW_SPF_QA, "198.51.100.20", 0},
	{"_spf.esp.example", ZW_SPF_QTXT, "v=spf1 ip4:203.0.113.0/25 ?all", 0},
	{"130.113.0.203.in-addr._spf.example.com", ZW_SPF_QA, "127.0.0.2", 0},
	{"exp.example.com", ZW_SPF_QTXT, "%{i} is not one of %{d}'s senders; see %{c} %{h} %%", 0},
};

static void eval_basic(void **state)
{
	(void)state;
	static const struct {
		const char *ip;
		enum zw_spf_verdict v;
		const char *mech;
	} cases[] = {
		{"192.0.2.55", ZW_SPF_PASS, "ip4:192.0.2.0/24"},
		{"::ffff:192.0.2.55", ZW_SPF_PASS, "ip4:192.0.2.0/24"},
		{"2001:db8::1", ZW_SPF_PASS, "ip6:2001:db8::/32"},
		{"198.51.100.10", ZW_SPF_PASS, "a:web.example.com"},
		{"2001:db9::10", ZW_SPF_PASS, "a:web.example.com"},
		{"198.51.100.20", ZW_SPF_PASS, "mx"},
		{"203.0.113.100", ZW_SPF_PASS, "include:_spf.esp.example"},
		{"203.0.113.130", ZW_SPF_PASS, "exists:%{ir}.%{v}._spf.%{d}"},
		{"203.0.113.200", ZW_SPF_FAIL, "-all"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		RUN(&r, basic, "example.com", cases[i].ip);
		if (r.res.verdict != cases[i].v)
			fail_msg("%s: %s (%s)", cases[i].ip, zw_spf_verdict_name(r.res.verdict),
				 r.res.problem ? r.res.problem : "");
		assert_string_equal(r.res.mechanism, cases[i].mech);
		run_free(&r);
	}
	/* the explanation, with c, h and %% expanded (§6.2, §7) */
	struct run r;
	RUN(&r, basic, "example.com", "203.0.113.200");
	assert_string_equal(
		r.res.explanation,
		"203.0.113.200 is not one of example.com's senders; see 203.0.113.200 mx.example.org %");
	assert_int_equal(r.res.lookups, 4);
	assert_int_equal(r.res.void_lookups, 1); /* the exists */
	assert_string_equal(r.res.record, basic[1].data);
	run_free(&r);

	/* static walk: every term, worst case counts */
	RUN(&r, basic, "example.com", NULL);
	assert_int_equal(r.res.verdict, ZW_SPF_FAIL);
	assert_int_equal(r.res.lookups, 4);
	assert_int_equal(r.res.void_lookups, 0); /* the exists needs the client: not queried */
	assert_int_equal(r.res.n_nodes, 2);
	assert_string_equal(r.res.nodes[1].domain, "_spf.esp.example");
	assert_int_equal(r.res.nodes[1].via, ZW_SPF_INCLUDE);
	assert_int_equal(r.res.nodes[1].depth, 1);
	assert_int_equal(r.fs.n, 0);
	run_free(&r);
}

/* A chain of `n` includes, each costing one lookup, ending in "-all". */
static void include_chain(struct rr *rrs, char names[][32], char recs[][400], int n, int nested)
{
	for (int i = 0; i <= n; i++) {
		snprintf(names[i], 32, i ? "s%d.example" : "top.example", i);
		rrs[i].name = names[i];
		rrs[i].type = ZW_SPF_QTXT;
		rrs[i].data = recs[i];
		rrs[i].rcode = 0;
	}
	if (nested) {
		for (int i = 0; i < n; i++)
			snprintf(recs[i], 400, "v=spf1 include:s%d.example -all", i + 1);
		snprintf(recs[n], 400, "v=spf1 ip4:192.0.2.1 -all");
	} else {
		size_t o = (size_t)snprintf(recs[0], 400, "v=spf1");
		for (int i = 1; i <= n; i++)
			o += (size_t)snprintf(recs[0] + o, 400 - o, " include:s%d.example", i);
		snprintf(recs[0] + o, 400 - o, " -all");
		for (int i = 1; i <= n; i++)
			snprintf(recs[i], 400, "v=spf1 ip4:192.0.2.%d -all", i);
	}
}

static void eval_lookup_limit(void **state)
{
	(void)state;
	struct rr rrs[16];
	char names[16][32], recs[16][400];
	/* flat: 10 includes are fine, 11 are permerror (check before the 11th) */
	include_chain(rrs, names, recs, 10, 0);
	expect_eval(rrs, 11, "top.example", "192.0.2.10", ZW_SPF_PASS, 10, 0, "");
	expect_eval(rrs, 11, "top.example", "198.51.100.1", ZW_SPF_FAIL, 10, 0, "");
	expect_eval(rrs, 11, "top.example", NULL, ZW_SPF_FAIL, 10, 0, "");
	include_chain(rrs, names, recs, 11, 0);
	expect_eval(rrs, 12, "top.example", "192.0.2.10", ZW_SPF_PASS, 10, 0, "");
	expect_eval(rrs, 12, "top.example", "192.0.2.11", ZW_SPF_PERMERROR, 11, 0, "SP-09");
	expect_eval(rrs, 12, "top.example", "198.51.100.1", ZW_SPF_PERMERROR, 11, 0, "SP-09");
	expect_eval(rrs, 12, "top.example", NULL, ZW_SPF_PERMERROR, 11, 0, "SP-09");

	/* nested: a chain 10 deep passes, 11 deep is permerror */
	include_chain(rrs, names, recs, 10, 1);
	expect_eval(rrs, 11, "top.example", "192.0.2.1", ZW_SPF_PASS, 10, 0, "");
	include_chain(rrs, names, recs, 11, 1);
	struct run r;
	run(&r, rrs, 12, "top.example", "192.0.2.1", NULL);
	assert_int_equal(r.res.verdict, ZW_SPF_PERMERROR);
	assert_int_equal(r.res.lookups, 11);
	assert_string_equal(r.fs.v[0].cls->id, "SP-09");
	assert_non_null(strstr(r.fs.v[0].message, "top.example: include:s1.example > s1.example: "
						  "include:s2.example > "));
	assert_non_null(strstr(r.fs.v[0].message, "s10.example: include:s11.example"));
	run_free(&r);
	run(&r, rrs, 12, "top.example", NULL, NULL);
	assert_int_equal(r.res.verdict, ZW_SPF_PERMERROR);
	assert_non_null(strstr(r.fs.v[0].message, "requires 11/10 maximum dns lookups"));
	run_free(&r);

	/* catalogue SP-09: 5 includes of 1 lookup each + a + mx + redirect ... static count */
	static const struct rr twelve[] = {
		{"example.com", ZW_SPF_QTXT,
		 "v=spf1 include:g.example include:o.example include:s.example include:m.example "
		 "include:c.example a mx -all",
		 0},
		{"g.example", ZW_SPF_QTXT,
		 "v=spf1 include:g1.example include:g2.example include:g3.example ~all", 0},
		{"g3.example", ZW_SPF_QTXT, "v=spf1 ip4:10.9.0.0/16 ~all", 0},
		{"g1.example", ZW_SPF_QTXT, "v=spf1 ip4:10.0.0.0/16 ~all", 0},
		{"g2.example", ZW_SPF_QTXT, "v=spf1 ip4:10.1.0.0/16 ~all", 0},
		{"o.example", ZW_SPF_QTXT, "v=spf1 include:o1.example include:o2.example -all", 0},
		{"o2.example", ZW_SPF_QTXT, "v=spf1 ip4:10.8.0.0/16 -all", 0},
		{"o1.example", ZW_SPF_QTXT, "v=spf1 ip4:10.2.0.0/16 -all", 0},
		{"s.example", ZW_SPF_QTXT, "v=spf1 ip4:10.3.0.0/16 -all", 0},
		{"m.example", ZW_SPF_QTXT, "v=spf1 ip4:10.4.0.0/16 -all", 0},
		{"c.example", ZW_SPF_QTXT, "v=spf1 ip4:10.5.0.0/16 -all", 0},
		{"example.com", ZW_SPF_QA, "192.0.2.1", 0},
		{"example.com", ZW_SPF_QMX, "mx.example.com", 0},
		{"mx.example.com", ZW_SPF_QA, "192.0.2.2", 0},
	};
	run(&r, twelve, sizeof(twelve) / sizeof(twelve[0]), "example.com", NULL, NULL);
	assert_int_equal(r.res.verdict, ZW_SPF_PERMERROR);
	assert_int_equal(r.res.lookups, 12);
	assert_non_null(strstr(find(&r.fs, "SP-09")->message,
			       "the spf record of example.com requires 12/10 maximum dns lookups "
			       "(RFC 7208 §4.6.4); the 11th is example.com: a"));
	run_free(&r);
	/* with an address it stops at the 11th: an address in the 10th lookup still passes */
	run(&r, twelve, sizeof(twelve) / sizeof(twelve[0]), "example.com", "10.5.0.1", NULL);
	assert_int_equal(r.res.verdict, ZW_SPF_PASS);
	assert_int_equal(r.res.lookups, 10);
	run_free(&r);
	run(&r, twelve, sizeof(twelve) / sizeof(twelve[0]), "example.com", "192.0.2.1", NULL);
	assert_int_equal(r.res.verdict, ZW_SPF_PERMERROR);
	assert_int_equal(r.res.lookups, 11);
	run_free(&r);
}

static void eval_void_limit(void **state)
{
	(void)state;
	static const struct rr two[] = {
		{"example.com", ZW_SPF_QTXT, "v=spf1 a:gone1.example a:gone2.example ip4:192.0.2.1 -all", 0},
		{"gone2.example", ZW_SPF_QA, NULL, 0}, /* NOERROR, no data */
		{"gone2.example", ZW_SPF_QTXT, "unrelated", 0},
	};
	EXPECT(two, "example.com", "192.0.2.1", ZW_SPF_PASS, 2, 2, "SP-15 SP-15");
	EXPECT(two, "example.com", "192.0.2.9", ZW_SPF_FAIL, 2, 2, "SP-15 SP-15");
	EXPECT(two, "example.com", NULL, ZW_SPF_FAIL, 2, 2, "SP-15 SP-15");
	static const struct rr three[] = {
		{"example.com", ZW_SPF_QTXT,
		 "v=spf1 a:gone1.example a:gone2.example include:old-esp.example ip4:192.0.2.1 -all", 0},
	};
	EXPECT(three, "example.com", "192.0.2.1", ZW_SPF_PERMERROR, 3, 3, "SP-15 SP-15 SP-10");
	EXPECT(three, "example.com", NULL, ZW_SPF_PERMERROR, 3, 3, "SP-15 SP-15 SP-11 SP-10");
	struct run r;
	RUN(&r, three, "example.com", NULL);
	const struct zw_finding *f = find(&r.fs, "SP-10");
	assert_non_null(strstr(f->message, "3 void lookups, more than two"));
	assert_non_null(strstr(f->message, "example.com: include:old-esp.example"));
	assert_int_equal(find(&r.fs, "SP-15")->sev, ZW_SEV_WARNING);
	run_free(&r);
}

static void eval_include_redirect(void **state)
{
	(void)state;
	static const struct rr w[] = {
		{"inc-none.example", ZW_SPF_QTXT, "v=spf1 include:nospf.example -all", 0},
		{"nospf.example", ZW_SPF_QTXT, "just text", 0},
		{"redir-none.example", ZW_SPF_QTXT, "v=spf1 redirect=nospf.example", 0},
		{"redir.example", ZW_SPF_QTXT, "v=spf1 ip4:192.0.2.1 redirect=target.example", 0},
		{"target.example", ZW_SPF_QTXT, "v=spf1 ip4:198.51.100.0/24 ~all exp=e.example", 0},
		{"e.example", ZW_SPF_QTXT, "nope", 0},
		{"loop-a.example", ZW_SPF_QTXT, "v=spf1 include:loop-b.example -all", 0},
		{"loop-b.example", ZW_SPF_QTXT, "v=spf1 include:loop-a.example -all", 0},
		{"self.example", ZW_SPF_QTXT, "v=spf1 ip4:192.0.2.1 redirect=self.example", 0},
		{"two.example", ZW_SPF_QTXT, "v=spf1 -all", 0},
		{"two.example", ZW_SPF_QTXT, "v=spf1 +all", 0},
		{"inc-two.example", ZW_SPF_QTXT, "v=spf1 include:two.example -all", 0},
		{"servfail.example", ZW_SPF_QTXT, NULL, 2},
		{"timeout.example", ZW_SPF_QTXT, NULL, -1},
		{"inc-fail.example", ZW_SPF_QTXT, "v=spf1 include:servfail.example -all", 0},
		{"inc-bad.example", ZW_SPF_QTXT, "v=spf1 include:bad.example -all", 0},
		{"bad.example", ZW_SPF_QTXT, "v=spf1 ipv4:1.2.3.4 -all", 0},
		{"inc-pass-all.example", ZW_SPF_QTXT, "v=spf1 include:open.example -all", 0},
		{"open.example", ZW_SPF_QTXT, "v=spf1 +all", 0},
		{"near.example", ZW_SPF_QTXT, "v=spf10 -all", 0},
		{"near.example", ZW_SPF_QTXT, "spf2.0/pra -all", 0},
	};
	EXPECT(w, "inc-none.example", "192.0.2.1", ZW_SPF_PERMERROR, 1, 0, "SP-11");
	EXPECT(w, "inc-none.example", NULL, ZW_SPF_PERMERROR, 1, 0, "SP-11");
	EXPECT(w, "redir-none.example", "192.0.2.1", ZW_SPF_PERMERROR, 1, 0, "SP-12");
	EXPECT(w, "redir.example", "192.0.2.1", ZW_SPF_PASS, 0, 0, "");
	EXPECT(w, "redir.example", "198.51.100.7", ZW_SPF_PASS, 1, 0, "");
	EXPECT(w, "redir.example", "203.0.113.1", ZW_SPF_SOFTFAIL, 1, 0, "");
	EXPECT(w, "redir.example", NULL, ZW_SPF_SOFTFAIL, 1, 0, "");
	EXPECT(w, "loop-a.example", "192.0.2.1", ZW_SPF_PERMERROR, 2, 0, "SP-13");
	EXPECT(w, "loop-a.example", NULL, ZW_SPF_PERMERROR, 2, 0, "SP-13");
	EXPECT(w, "self.example", "192.0.2.1", ZW_SPF_PASS, 0, 0, "");
	EXPECT(w, "self.example", "192.0.2.2", ZW_SPF_PERMERROR, 1, 0, "SP-13");
	EXPECT(w, "two.example", "192.0.2.1", ZW_SPF_PERMERROR, 0, 0, "SP-02");
	EXPECT(w, "inc-two.example", "192.0.2.1", ZW_SPF_PERMERROR, 1, 0, "SP-02");
	EXPECT(w, "servfail.example", "192.0.2.1", ZW_SPF_TEMPERROR, 0, 0, "");
	EXPECT(w, "timeout.example", "192.0.2.1", ZW_SPF_TEMPERROR, 0, 0, "");
	EXPECT(w, "inc-fail.example", "192.0.2.1", ZW_SPF_TEMPERROR, 1, 0, "");
	EXPECT(w, "inc-fail.example", NULL, ZW_SPF_TEMPERROR, 1, 0, "");
	EXPECT(w, "inc-bad.example", "192.0.2.1", ZW_SPF_PERMERROR, 1, 0, "SP-05");
	EXPECT(w, "inc-pass-all.example", "203.0.113.9", ZW_SPF_PASS, 1, 0, "SP-16");
	EXPECT(w, "nowhere.example", "192.0.2.1", ZW_SPF_NONE, 0, 0, "SP-01");
	EXPECT(w, "near.example", "192.0.2.1", ZW_SPF_NONE, 0, 0, "SP-01 SP-03 SP-21");

	/* the loop message names the cycle; the nested parse finding names its owner */
	struct run r;
	RUN(&r, w, "loop-a.example", NULL);
	assert_string_equal(r.fs.v[0].message,
			    "include loop: loop-a.example > loop-b.example > loop-a.example; it ends in "
			    "the lookup limit's permerror (RFC 7208 §4.6.4)");
	run_free(&r);
	RUN(&r, w, "inc-bad.example", "192.0.2.1");
	assert_string_equal(r.fs.v[0].name, "bad.example.");
	assert_string_equal(r.fs.v[0].observed, "v=spf1 ipv4:1.2.3.4 -all");
	run_free(&r);
	/* the redirected record's exp applies, and a non-explanation leaves it empty */
	RUN(&r, w, "redir.example", "203.0.113.1");
	assert_null(r.res.explanation);
	assert_string_equal(r.res.mechanism, "~all");
	run_free(&r);
}

static void eval_mx_ptr(void **state)
{
	(void)state;
	static const struct rr w[] = {
		{"many.example", ZW_SPF_QTXT, "v=spf1 mx -all", 0},
		{"many.example", ZW_SPF_QMX, "m1.example", 0},
		{"many.example", ZW_SPF_QMX, "m2.example", 0},
		{"many.example", ZW_SPF_QMX, "m3.example", 0},
		{"many.example", ZW_SPF_QMX, "m4.example", 0},
		{"many.example", ZW_SPF_QMX, "m5.example", 0},
		{"many.example", ZW_SPF_QMX, "m6.example", 0},
		{"many.example", ZW_SPF_QMX, "m7.example", 0},
		{"many.example", ZW_SPF_QMX, "m8.example", 0},
		{"many.example", ZW_SPF_QMX, "m9.example", 0},
		{"many.example", ZW_SPF_QMX, "m10.example", 0},
		{"many.example", ZW_SPF_QMX, "m11.example", 0},
		{"ten.example", ZW_SPF_QTXT, "v=spf1 mx:many.example/24 mx -all", 0},
		{"ten.example", ZW_SPF_QMX, "m1.example", 0},
		{"ten.example", ZW_SPF_QMX, "m2.example", 0},
		{"ten.example", ZW_SPF_QMX, "m3.example", 0},
		{"ten.example", ZW_SPF_QMX, "m4.example", 0},
		{"ten.example", ZW_SPF_QMX, "m5.example", 0},
		{"ten.example", ZW_SPF_QMX, "m6.example", 0},
		{"ten.example", ZW_SPF_QMX, "m7.example", 0},
		{"ten.example", ZW_SPF_QMX, "m8.example", 0},
		{"ten.example", ZW_SPF_QMX, "m9.example", 0},
		{"ten.example", ZW_SPF_QMX, "m10.example", 0},
		{"m1.example", ZW_SPF_QA, "192.0.2.1", 0},
		{"m2.example", ZW_SPF_QA, "192.0.2.2", 0},
		{"m3.example", ZW_SPF_QA, "192.0.2.3", 0},
		{"m4.example", ZW_SPF_QA, "192.0.2.4", 0},
		{"m5.example", ZW_SPF_QA, "192.0.2.5", 0},
		{"m6.example", ZW_SPF_QA, "192.0.2.6", 0},
		{"m7.example", ZW_SPF_QA, "192.0.2.7", 0},
		{"m8.example", ZW_SPF_QA, "192.0.2.8", 0},
		{"m9.example", ZW_SPF_QA, "192.0.2.9", 0},
		{"m10.example", ZW_SPF_QA, "192.0.2.10", 0},
		{"m11.example", ZW_SPF_QA, "192.0.2.11", 0},
		{"ptr.example", ZW_SPF_QTXT, "v=spf1 ptr -all", 0},
		{"ptr2.example", ZW_SPF_QTXT, "v=spf1 ptr:other.example -all", 0},
		{"1.2.0.192.in-addr.arpa", ZW_SPF_QPTR, "host.ptr.example.", 0},
		{"1.2.0.192.in-addr.arpa", ZW_SPF_QPTR, "forged.other.example.", 0},
		{"host.ptr.example", ZW_SPF_QA, "192.0.2.1", 0},
		{"forged.other.example", ZW_SPF_QA, "198.51.100.1", 0},
		{"mac.example", ZW_SPF_QTXT,
		 "v=spf1 exists:%{l}.%{o}.%{d2}.%{p}.%{ir}.%{v}.%{L}.x.example -all", 0},
		{"mac6.example", ZW_SPF_QTXT, "v=spf1 exists:%{i}.%{v}.%{h}.%{l1r-}.x.example -all", 0},
	};
	EXPECT(w, "many.example", "192.0.2.1", ZW_SPF_PERMERROR, 1, 0, "SP-15");
	EXPECT(w, "many.example", NULL, ZW_SPF_PERMERROR, 1, 0, "SP-15");
	EXPECT(w, "ten.example", "192.0.2.200", ZW_SPF_PERMERROR, 1, 0, "SP-15");
	static const struct rr ten_only[] = {
		{"ten.example", ZW_SPF_QTXT, "v=spf1 mx -all", 0},
		{"ten.example", ZW_SPF_QMX, "m1.example", 0},
		{"ten.example", ZW_SPF_QMX, "m2.example", 0},
		{"ten.example", ZW_SPF_QMX, "m3.example", 0},
		{"ten.example", ZW_SPF_QMX, "m4.example", 0},
		{"ten.example", ZW_SPF_QMX, "m5.example", 0},
		{"ten.example", ZW_SPF_QMX, "m6.example", 0},
		{"ten.example", ZW_SPF_QMX, "m7.example", 0},
		{"ten.example", ZW_SPF_QMX, "m8.example", 0},
		{"ten.example", ZW_SPF_QMX, "m9.example", 0},
		{"ten.example", ZW_SPF_QMX, "m10.example", 0},
		{"m10.example", ZW_SPF_QA, "192.0.2.10", 0},
	};
	EXPECT(ten_only, "ten.example", "192.0.2.10", ZW_SPF_PASS, 1, 0,
	       "SP-15 SP-15 SP-15 SP-15 SP-15 SP-15 SP-15 SP-15 SP-15");
	EXPECT(ten_only, "ten.example", NULL, ZW_SPF_FAIL, 1, 0,
	       "SP-15 SP-15 SP-15 SP-15 SP-15 SP-15 SP-15 SP-15 SP-15");
	EXPECT(w, "ptr.example", "192.0.2.1", ZW_SPF_PASS, 1, 0, "SP-18");
	EXPECT(w, "ptr.example", "192.0.2.2", ZW_SPF_FAIL, 1, 1, "SP-18");
	EXPECT(w, "ptr2.example", "192.0.2.1", ZW_SPF_FAIL, 1, 0, "SP-18");
	EXPECT(w, "ptr.example", NULL, ZW_SPF_FAIL, 1, 0, "SP-18");

	/* macros: l o d2 p ir v, an upper-case letter url-escapes */
	static const struct rr m[] = {
		{"mac.example", ZW_SPF_QTXT,
		 "v=spf1 exists:%{l}.%{o}.%{d1}.%{p}.%{ir}.%{v}.%{L}.x.example -all", 0},
		{"1.2.0.192.in-addr.arpa", ZW_SPF_QPTR, "host.mac.example.", 0},
		{"host.mac.example", ZW_SPF_QA, "192.0.2.1", 0},
		{"john%2Bx.sender.example.example.host.mac.example.1.2.0.192.in-addr.john%2Bx.x.example",
		 ZW_SPF_QA, NULL, 0},
		{"john+x.sender.example.example.host.mac.example.1.2.0.192.in-addr.john%2Bx.x.example",
		 ZW_SPF_QA, "127.0.0.2", 0},
		{"mac6.example", ZW_SPF_QTXT, "v=spf1 exists:%{i}.%{v}.%{h}.%{l1r-}.x.example -all", 0},
		{"2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.ip6.mx.example.org.x.x."
		 "example",
		 ZW_SPF_QA, "127.0.0.2", 0},
	};
	struct run r;
	run(&r, m, sizeof(m) / sizeof(m[0]), "mac.example", "192.0.2.1", "john+x@sender.example");
	assert_int_equal(r.res.verdict, ZW_SPF_PASS);
	run_free(&r);
	run(&r, m, sizeof(m) / sizeof(m[0]), "mac6.example", "2001:db8::1", "x-y@sender.example");
	assert_int_equal(r.res.verdict, ZW_SPF_PASS);
	run_free(&r);
}

static void eval_more(void **state)
{
	(void)state;
	static const struct rr w[] = {
		/* the redirect target's exp applies, the original's does not (§6.1, §6.2) */
		{"r.example", ZW_SPF_QTXT, "v=spf1 ip4:192.0.2.1 redirect=t.example exp=old.example", 0},
		{"t.example", ZW_SPF_QTXT, "v=spf1 -all exp=new.example", 0},
		{"old.example", ZW_SPF_QTXT, "old text", 0},
		{"new.example", ZW_SPF_QTXT, "%{o} does not send from %{i} (%{d})", 0},
		/* two exp records: no explanation */
		{"e2.example", ZW_SPF_QTXT, "v=spf1 -all exp=two.example", 0},
		{"two.example", ZW_SPF_QTXT, "a", 0},
		{"two.example", ZW_SPF_QTXT, "b", 0},
		/* ptr for an IPv6 client, and %{p} */
		{"p6.example", ZW_SPF_QTXT, "v=spf1 ptr exists:%{p}.v.example -all", 0},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", ZW_SPF_QPTR,
		 "mail.p6.example", 0},
		{"mail.p6.example", ZW_SPF_QAAAA, "2001:db8::1", 0},
		{"unknown.v.example", ZW_SPF_QA, "127.0.0.2", 0},
	};
	struct run r;
	RUN(&r, w, "r.example", "192.0.2.9");
	assert_int_equal(r.res.verdict, ZW_SPF_FAIL);
	assert_string_equal(r.res.explanation, "r.example does not send from 192.0.2.9 (t.example)");
	run_free(&r);
	RUN(&r, w, "e2.example", "192.0.2.9");
	assert_int_equal(r.res.verdict, ZW_SPF_FAIL);
	assert_null(r.res.explanation);
	run_free(&r);
	RUN(&r, w, "p6.example", "2001:db8::1");
	assert_int_equal(r.res.verdict, ZW_SPF_PASS);
	assert_string_equal(r.res.mechanism, "ptr");
	run_free(&r);
	/* no validated name: %{p} is "unknown" (§7.3) */
	RUN(&r, w, "p6.example", "2001:db8::2");
	assert_int_equal(r.res.verdict, ZW_SPF_PASS);
	assert_string_equal(r.res.mechanism, "exists:%{p}.v.example");
	run_free(&r);

	/* the static walk stops at walk_cap and says its counts are lower bounds */
	struct rr rrs[16];
	char names[16][32], recs[16][400];
	include_chain(rrs, names, recs, 12, 0);
	struct world wd = {rrs, 13, 0};
	struct zw_spf_dns dns = {.ctx = &wd, .query = world_query};
	struct zw_spf_eval_opts o = {.walk_cap = 11};
	struct zw_spf_result res;
	struct zw_findings fs = {0};
	assert_int_equal(zw_spf_evaluate(&res, "top.example.", &dns, &o, &fs, NULL), 0);
	assert_int_equal(res.verdict, ZW_SPF_PERMERROR);
	assert_int_equal(res.lookups, 11);
	assert_true(res.capped);
	assert_non_null(strstr(fs.v[0].message, "requires at least 11/10"));
	assert_string_equal(fs.v[0].fix,
			    "remove unused senders; replace a/mx by ip4/ip6; move esps to subdomains");
	zw_spf_result_free(&res);
	zw_findings_free(&fs);
}

static int eval_all(void)
{
	struct zw_spf_dns dns;
	struct world w = {basic, sizeof(basic) / sizeof(basic[0]), 0};
	static const char *const ips[] = {NULL, "203.0.113.200", "203.0.113.130", "2001:db9::10"};
	dns.ctx = &w;
	dns.query = world_query;
	for (size_t i = 0; i < 4; i++) {
		struct zw_spf_eval_opts o = {.ip = ips[i], .now = 1};
		struct zw_spf_result res;
		struct zw_findings fs = {0};
		int rc = zw_spf_evaluate(&res, "example.com", &dns, &o, &fs, NULL);
		zw_spf_result_free(&res);
		zw_findings_free(&fs);
		if (rc)
			return rc;
	}
	return 0;
}

static void eval_alloc_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(eval_all());
}

static void eval_bad_args(void **state)
{
	(void)state;
	struct world w = {basic, 1, 0};
	struct zw_spf_dns dns = {.ctx = &w, .query = world_query};
	struct zw_spf_eval_opts o = {.ip = "192.0.2.300"};
	struct zw_spf_result res;
	struct zw_error err = {0};
	assert_int_equal(zw_spf_evaluate(&res, "example.com", &dns, &o, NULL, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "'192.0.2.300' is not an ip address");
	assert_int_equal(zw_spf_evaluate(&res, NULL, &dns, NULL, NULL, NULL), ZW_EINVAL);
	/* a malformed domain is none (§4.3), without asking the DNS */
	assert_int_equal(zw_spf_evaluate(&res, "bad..example", &dns, NULL, NULL, NULL), 0);
	assert_int_equal(res.verdict, ZW_SPF_NONE);
	assert_int_equal(w.queries, 0);
	zw_spf_result_free(&res);
	assert_string_equal(zw_spf_verdict_name(ZW_SPF_SOFTFAIL), "softfail");
	assert_string_equal(zw_spf_kind_name(ZW_SPF_EXISTS), "exists");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(selection),
		cmocka_unit_test(valid_records),
		cmocka_unit_test(invalid_records),
		cmocka_unit_test(lint_classes),
		cmocka_unit_test(terms_exposed),
		cmocka_unit_test(printing),
		cmocka_unit_test(parse_alloc_failures),
		cmocka_unit_test(eval_basic),
		cmocka_unit_test(eval_lookup_limit),
		cmocka_unit_test(eval_void_limit),
		cmocka_unit_test(eval_include_redirect),
		cmocka_unit_test(eval_mx_ptr),
		cmocka_unit_test(eval_more),
		cmocka_unit_test(eval_alloc_failures),
		cmocka_unit_test(eval_bad_args),
	};
	return cmocka_run_group_tests_name("spf", tests, NULL, NULL);
}
