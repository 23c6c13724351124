/*
 * test_delegation.c - unit tests of delegation.c on observations built by hand: every
 * delegation shape (clean, lame, all lame, NS differing both ways and totally, NXDOMAIN,
 * parent servers disagreeing, NS without address, NS as CNAME, glue mismatch, one NS, one
 * IP, unreachable over UDP and TCP, malformed answers), server consistency (serials,
 * SOA fields, NS sets, a claimed rrset), drift (missing, different, foreign, TTL, a split
 * differing, explained by a more specific finding), the doubled-apex probe and a name
 * below a zone cut; the exact findings, and an allocation-failure sweep.
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "reconcile/delegation.h"
#include "reconcile/desired.h"
#include "reconcile/manifest.h"

/* ---- a hand-made observation of good.test. (two servers, ns1/ns2, glue .1 and .2) ---- */

#define MAXQ 8
#define MAXS 4

struct fake {
	struct zw_obs o;
	struct zw_obs_referral ref[2];
	char *pns[4], *cns[4];
	struct zw_glue glue[4];
	struct zw_obs_nsname nsn[4];
	struct zw_dns_addr nsaddr[4][2];
	struct zw_obs_server srv[MAXS];
	struct zw_obs_question q[MAXQ];
	struct zw_obs_answer at[MAXQ][MAXS];
	struct zw_rr rr[64];
	size_t nrr;
	size_t lens[64][2];
};

static struct zw_dns_addr ip(const char *s)
{
	struct zw_dns_addr a;
	assert_int_equal(zw_dns_addr_parse(&a, s, 53, NULL), 0);
	return a;
}

static struct zw_rr *rr_new(struct fake *f, const char *owner, uint16_t type, uint32_t ttl)
{
	assert_true(f->nrr < 64);
	struct zw_rr *r = &f->rr[f->nrr++];
	memset(r, 0, sizeof(*r));
	r->owner = (char *)owner;
	r->type = type;
	r->ttl = ttl;
	return r;
}

/* A TXT record of one or two strings (s2 may be NULL). */
static struct zw_rr *txt(struct fake *f, const char *owner, uint32_t ttl, const char *data, size_t split)
{
	struct zw_rr *r = rr_new(f, owner, 16, ttl);
	size_t *lens = f->lens[f->nrr - 1];
	size_t len = strlen(data);
	r->txt.data = (char *)data;
	r->txt.len = len;
	r->txt.lens = lens;
	if (split && split < len) {
		lens[0] = split;
		lens[1] = len - split;
		r->txt.n = 2;
	} else {
		lens[0] = len;
		r->txt.n = 1;
	}
	r->text = (char *)data;
	return r;
}

static struct zw_rr *soa(struct fake *f, uint32_t serial, const char *rname)
{
	struct zw_rr *r = rr_new(f, "good.test.", 6, 3600);
	r->soa.mname = "ns1.good.test.";
	r->soa.rname = (char *)rname;
	r->soa.serial = serial;
	r->soa.refresh = 3600;
	r->soa.retry = 900;
	r->soa.expire = 604800;
	r->soa.minimum = 300;
	r->text = (char *)rname;
	return r;
}

static struct zw_rr *target_rr(struct fake *f, const char *owner, uint16_t type, const char *target)
{
	struct zw_rr *r = rr_new(f, owner, type, 300);
	r->target = (char *)target;
	r->text = (char *)target;
	return r;
}

static void data(struct zw_obs_answer *a, struct zw_rr *rrs, size_t n)
{
	memset(a, 0, sizeof(*a));
	a->kind = ZW_OBS_DATA;
	a->aa = 1;
	a->rcode = 0;
	a->rrs = rrs;
	a->n_rrs = n;
}

static void negative(struct zw_obs_answer *a, enum zw_obs_kind kind)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->aa = 1;
	a->soa_in_authority = 1;
	a->rcode = kind == ZW_OBS_NXDOMAIN ? 3 : 0;
}

static void rcode(struct zw_obs_answer *a, int rc)
{
	memset(a, 0, sizeof(*a));
	a->kind = ZW_OBS_RCODE;
	a->rcode = rc;
}

static void failed(struct zw_obs_answer *a, enum zw_dns_status st, enum zw_dns_transport tr, const char *why)
{
	memset(a, 0, sizeof(*a));
	a->kind = ZW_OBS_FAILED;
	a->status = st;
	a->transport = tr;
	a->rcode = -1;
	a->reason = (char *)why;
}

static void fake_init(struct fake *f)
{
	static char *ns12[] = {"ns1.good.test.", "ns2.good.test."};
	memset(f, 0, sizeof(*f));
	struct zw_obs *o = &f->o;
	o->domain = "good.test.";
	o->zone = "good.test.";
	o->parent = "test.";
	o->delegation = ZW_DELEG_DELEGATED;
	f->glue[0].name = ns12[0];
	f->glue[0].addr = ip("192.0.2.1");
	f->glue[1].name = ns12[1];
	f->glue[1].addr = ip("192.0.2.2");
	for (int i = 0; i < 2; i++) {
		struct zw_obs_referral *r = &f->ref[i];
		r->server = i ? "b.tld.test." : "a.tld.test.";
		r->addr = ip(i ? "198.51.100.2" : "198.51.100.1");
		r->ans.kind = ZW_OBS_REFERRAL;
		r->ans.referral_zone = "good.test.";
		r->ns = ns12;
		r->n_ns = 2;
		r->glue = f->glue;
		r->n_glue = 2;
	}
	o->referrals = f->ref;
	o->n_referrals = 2;
	f->pns[0] = f->cns[0] = ns12[0];
	f->pns[1] = f->cns[1] = ns12[1];
	o->parent_ns = f->pns;
	o->n_parent_ns = 2;
	o->child_ns = f->cns;
	o->n_child_ns = 2;
	struct zw_rr *nsrr = target_rr(f, "good.test.", 2, ns12[0]);
	target_rr(f, "good.test.", 2, ns12[1]);
	struct zw_rr *soarr = soa(f, 2024010101, "hostmaster.good.test.");
	for (int i = 0; i < 2; i++) {
		struct zw_obs_nsname *n = &f->nsn[i];
		n->name = ns12[i];
		n->in_parent = n->in_child = n->in_bailiwick = 1;
		f->nsaddr[i][0] = f->glue[i].addr;
		n->glue = f->nsaddr[i];
		n->n_glue = 1;
		n->addrs = f->nsaddr[i];
		n->n_addrs = 1;
		n->a.ans.kind = ZW_OBS_DATA;
		n->aaaa.ans.kind = ZW_OBS_NODATA;
		struct zw_obs_server *s = &f->srv[i];
		s->name = ns12[i];
		s->addr = f->glue[i].addr;
		s->from_glue = s->from_lookup = 1;
		data(&s->soa, soarr, 1);
		data(&s->ns, nsrr, 2);
	}
	o->nsnames = f->nsn;
	o->n_nsnames = 2;
	o->servers = f->srv;
	o->n_servers = 2;
	o->questions = f->q;
}

/* Add a question; its answers are set by the caller in f->at[index]. */
static size_t question(struct fake *f, const char *name, uint16_t type)
{
	size_t i = f->o.n_questions++;
	assert_true(i < MAXQ);
	f->q[i].name = (char *)name;
	f->q[i].type = type;
	f->q[i].at = f->at[i];
	for (size_t s = 0; s < MAXS; s++)
		negative(&f->at[i][s], ZW_OBS_NXDOMAIN);
	return i;
}

/* The same answer at both servers. */
static void both(struct fake *f, size_t q, struct zw_rr *rrs, size_t n)
{
	data(&f->at[q][0], rrs, n);
	data(&f->at[q][1], rrs, n);
}

/* ---- the manifest ---- */

static const char manifest[] = "apiVersion: zonewarden.dev/v1alpha1\n"
			       "kind: Provider\n"
			       "metadata: {name: p}\n"
			       "spec: {type: route53, route53: {}}\n"
			       "---\n"
			       "apiVersion: zonewarden.dev/v1alpha1\n"
			       "kind: MailDomain\n"
			       "metadata: {name: g}\n"
			       "spec:\n"
			       "  domain: good.test\n"
			       "  providerRef: p\n"
			       "  ttl: 300\n"
			       "  spf: {include: [_spf.other.test], all: fail}\n"
			       "  dkim: [{selector: s1, cname: s1.dkim.example.net.}]\n"
			       "  dmarc: {policy: reject}\n";

struct fx {
	struct zw_manifests *ms;
	struct zw_desired ds;
	struct fake f;
};

static int setup(void **state)
{
	struct fx *x = zw_calloc(1, sizeof(*x));
	struct zw_error err = {0};
	assert_int_equal(zw_manifests_load_buffer(&x->ms, "t.yaml", manifest, strlen(manifest), &err), 0);
	assert_int_equal(zw_desired_build(&x->ds, &x->ms->domains[0], &err), 0);
	fake_init(&x->f);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	zw_desired_free(&x->ds);
	zw_manifests_free(x->ms);
	zw_free(x);
	return 0;
}

/* The records of the clean world: SPF and a foreign TXT at the apex, DMARC, the DKIM CNAME. */
static void clean_records(struct fake *f, int with_foreign)
{
	static struct zw_rr apex[2];
	size_t q = question(f, "good.test.", 16);
	apex[0] = *txt(f, "good.test.", 300, "google-site-verification=abc123", 0);
	apex[1] = *txt(f, "good.test.", 300, "v=spf1 include:_spf.other.test -all", 0);
	if (with_foreign)
		both(f, q, apex, 2);
	else
		both(f, q, &apex[1], 1);
	q = question(f, "_dmarc.good.test.", 16);
	both(f, q, txt(f, "_dmarc.good.test.", 300, "v=DMARC1; p=reject", 0), 1);
	q = question(f, "s1._domainkey.good.test.", 5);
	both(f, q, target_rr(f, "s1._domainkey.good.test.", 5, "s1.dkim.example.net."), 1);
	question(f, "good.test.good.test.", 16);
	question(f, "_dmarc.good.test.good.test.", 16);
	question(f, "s1._domainkey.good.test.good.test.", 5);
}

/* "ID SEVERITY name type" lines of the findings, sorted by position. */
static char *lines(const struct zw_findings *fs)
{
	static char out[4096];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < fs->n && n < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s %s %s %s\n", fs->v[i].cls->id,
				      zw_severity_name(fs->v[i].sev), fs->v[i].name ? fs->v[i].name : "-",
				      fs->v[i].type ? fs->v[i].type : "-");
	return out;
}

static int diagnose(struct zw_findings *fs, const struct zw_desired *ds, const struct zw_obs *o, size_t from)
{
	struct zw_deleg *d = NULL;
	struct zw_error err = {0};
	int rc = zw_deleg_new(&d, "Good.Test", ds, NULL, 0, &err);
	if (rc == 0)
		rc = zw_deleg_diagnose(fs, from, d, o, &err);
	zw_deleg_free(d);
	return rc;
}

static const char *run(struct fx *x, struct zw_findings *fs)
{
	assert_int_equal(diagnose(fs, &x->ds, &x->f.o, fs->n), 0);
	return lines(fs);
}

/* ---- the tests ---- */

static void questions_and_probes(void **state)
{
	struct fx *x = *state;
	struct zw_deleg *d = NULL;
	const struct zw_question *qs;
	size_t nq;
	char got[1024] = "";
	assert_int_equal(zw_deleg_new(&d, "good.test.", &x->ds, NULL, 0, NULL), 0);
	zw_deleg_questions(d, &qs, &nq);
	for (size_t i = 0; i < nq; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s %u\n", qs[i].name, qs[i].type);
	assert_string_equal(got, "good.test. 16\n_dmarc.good.test. 16\ns1._domainkey.good.test. 5\n"
				 "good.test.good.test. 16\n_dmarc.good.test.good.test. 16\n"
				 "s1._domainkey.good.test.good.test. 5\n");
	zw_deleg_claims(d, &qs, &nq);
	assert_int_equal(nq, 3);
	zw_deleg_free(d);
	/* without manifests: the names given, unique, canonical */
	const struct zw_question names[] = {{"Good.Test", 16}, {"_dmarc.good.test.", 16}, {"good.test.", 16}};
	assert_int_equal(zw_deleg_new(&d, "good.test", NULL, names, 3, NULL), 0);
	zw_deleg_questions(d, &qs, &nq);
	assert_int_equal(nq, 4);
	assert_string_equal(qs[3].name, "_dmarc.good.test.good.test.");
	zw_deleg_free(d);
	struct zw_error err = {0};
	const struct zw_question bad[] = {{"a..b", 16}};
	assert_int_equal(zw_deleg_new(&d, "good.test", NULL, bad, 1, &err), ZW_EINVAL);
	assert_null(d);
	assert_int_equal(zw_deleg_new(&d, "bad..test", NULL, NULL, 0, &err), ZW_EINVAL);
}

static void clean_world_no_findings(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	assert_string_equal(run(x, &fs), "");
	zw_findings_free(&fs);
}

static void foreign_value_is_info(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 1);
	assert_string_equal(run(x, &fs), "ZW-03 INFO good.test. TXT\n");
	assert_string_equal(fs.v[0].observed, "\"google-site-verification=abc123\"");
	assert_string_equal(fs.v[0].servers, "ns1.good.test/192.0.2.1");
	zw_findings_free(&fs);
}

static void lame_one_and_all(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	rcode(&x->f.srv[1].soa, 5);
	rcode(&x->f.srv[1].ns, 5);
	for (size_t q = 0; q < x->f.o.n_questions; q++)
		rcode(&x->f.at[q][1], 5);
	assert_string_equal(run(x, &fs), "DL-05 ERROR good.test. SOA\n");
	assert_string_equal(
		fs.v[0].message,
		"ns2.good.test/192.0.2.2 answers REFUSED for good.test. SOA: it is delegated the zone but "
		"does "
		"not serve it (lame delegation, RFC 2181 §6.1; Zonemaster BASIC02 NS_FAILED, CONSISTENCY05 "
		"CHILD_ZONE_LAME)");
	assert_string_equal(fs.v[0].servers, "ns2.good.test/192.0.2.2");
	assert_string_equal(fs.v[0].loc.file, "t.yaml");
	assert_int_equal(fs.v[0].loc.line, 10);
	zw_findings_free(&fs);
	/* both lame (the first without AA): CRITICAL, and nothing about the records */
	x->f.srv[0].soa.aa = 0;
	x->f.srv[0].ns.aa = 0;
	for (size_t q = 0; q < x->f.o.n_questions; q++)
		x->f.at[q][0].aa = 0;
	assert_string_equal(run(x, &fs), "DL-05 CRITICAL good.test. SOA\nDL-05 CRITICAL good.test. SOA\n");
	assert_non_null(strstr(fs.v[0].message, "an answer without AA (not authoritative)"));
	assert_non_null(strstr(fs.v[1].message,
			       "no delegated server answers authoritatively, so the domain is "
			       "unreachable: CRITICAL (Zonemaster B02_NO_WORKING_NS)"));
	zw_findings_free(&fs);
}

static void parent_child_both_ways_and_total(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	static char *parent[] = {"ns1.good.test.", "ns2.good.test.", "ns3.good.test."};
	static char *child[] = {"ns1.good.test.", "ns2.good.test.", "ns4.good.test."};
	x->f.o.parent_ns = parent;
	x->f.o.n_parent_ns = 3;
	x->f.o.child_ns = child;
	x->f.o.n_child_ns = 3;
	assert_string_equal(run(x, &fs), "DL-02 ERROR good.test. NS\nDL-03 NOTICE good.test. NS\n");
	assert_string_equal(fs.v[0].message,
			    "the parent has name server not listed at the child apex: ns3.good.test "
			    "(RIPE-114 §2.3; Zonemaster DELEGATION07 EXTRA_NAME_PARENT)");
	assert_string_equal(fs.v[1].fix,
			    "add ns4.good.test to the delegation at the registrar, or remove it from the "
			    "apex NS of good.test.");
	zw_findings_free(&fs);
	static char *other[] = {"ada.ns.cf.test.", "bob.ns.cf.test."};
	x->f.o.child_ns = other;
	x->f.o.n_child_ns = 2;
	assert_string_equal(run(x, &fs), "DL-04 ERROR good.test. NS\n");
	assert_string_equal(fs.v[0].fix, "decide which servers serve good.test.: set NS at the registrar to "
					 "ada.ns.cf.test, bob.ns.cf.test, or set the apex NS of the zone to "
					 "ns1.good.test, ns2.good.test, ns3.good.test");
	zw_findings_free(&fs);
}

static void not_delegated_and_unknown(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	x->f.o.delegation = ZW_DELEG_NXDOMAIN;
	assert_string_equal(run(x, &fs), "DL-11 CRITICAL good.test. NS\n");
	assert_string_equal(fs.v[0].servers, "a.tld.test/198.51.100.1;b.tld.test/198.51.100.2");
	assert_string_equal(fs.v[0].fix,
			    "register or renew good.test at the registrar and set its NS records");
	zw_findings_free(&fs);
	x->f.o.delegation = ZW_DELEG_UNKNOWN;
	x->f.o.zone = NULL;
	x->f.o.walk_error = "cannot reach the parent of good.test.: timeout";
	/* unreachable is DL-07, never "not delegated" (that would send the user to the registrar) */
	assert_string_equal(run(x, &fs), "DL-07 CRITICAL good.test. NS\n");
	assert_string_equal(fs.v[0].message,
			    "the delegation of good.test. cannot be determined: cannot reach the parent "
			    "of good.test.: timeout (Zonemaster BASIC01/02)");
	zw_findings_free(&fs);
}

static void parent_servers_disagree(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	x->f.ref[1].ans.kind = ZW_OBS_NXDOMAIN;
	x->f.ref[1].n_ns = 0;
	assert_string_equal(run(x, &fs), "ZW-05 ERROR good.test. NS\n");
	assert_string_equal(
		fs.v[0].message,
		"the servers of test. give different delegations for good.test.: "
		"a.tld.test/198.51.100.1: ns1.good.test, ns2.good.test; "
		"b.tld.test/198.51.100.2: NXDOMAIN (Zonemaster BASIC01 B01_INCONSISTENT_DELEGATION)");
	zw_findings_free(&fs);
}

static void nsnames_problems(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	/* ns2: glue 192.0.2.2 but the zone says 192.0.2.9 */
	static struct zw_dns_addr nine;
	nine = ip("192.0.2.9");
	x->f.nsn[1].addrs = &nine;
	assert_string_equal(run(x, &fs), "DL-14 ERROR good.test. NS\n");
	assert_string_equal(fs.v[0].message,
			    "the parent's glue for ns2.good.test. says 192.0.2.2 but its authoritative "
			    "data says 192.0.2.9 (Zonemaster CONSISTENCY05 IN_BAILIWICK_ADDR_MISMATCH)");
	assert_string_equal(fs.v[0].fix, "set the glue of ns2.good.test. at the registrar to 192.0.2.9");
	zw_findings_free(&fs);
	/* ns2 without any address, ns1 a CNAME */
	x->f.nsn[1].n_addrs = 0;
	x->f.nsn[1].n_glue = 0;
	x->f.nsn[1].a.ans.kind = ZW_OBS_NXDOMAIN;
	x->f.nsn[1].aaaa.ans.kind = ZW_OBS_NXDOMAIN;
	x->f.nsn[0].is_cname = 1;
	assert_string_equal(run(x, &fs), "DL-13 ERROR good.test. NS\nDL-06 ERROR good.test. NS\n");
	assert_string_equal(
		fs.v[1].message,
		"name server ns2.good.test. (listed at the parent and the child) has no "
		"address: A NXDOMAIN, AAAA NXDOMAIN (Zonemaster NAMESERVER06 CAN_NOT_BE_RESOLVED)");
	zw_findings_free(&fs);
}

static void one_ns_and_one_ip(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	x->f.srv[1].addr = x->f.srv[0].addr;
	x->f.nsaddr[1][0] = x->f.nsaddr[0][0];
	x->f.glue[1].addr = x->f.glue[0].addr;
	assert_string_equal(run(x, &fs), "DL-08 ERROR good.test. NS\n");
	assert_string_equal(
		fs.v[0].message,
		"the name servers of good.test. have one address between them, 192.0.2.1: "
		"no redundancy (Zonemaster DELEGATION01/02 NOT_ENOUGH_IPV4_NS_DEL, DEL_NS_SAME_IP)");
	zw_findings_free(&fs);
	x->f.o.n_parent_ns = 1;
	x->f.o.n_child_ns = 1;
	x->f.o.n_servers = 1;
	x->f.o.n_nsnames = 1;
	assert_string_equal(run(x, &fs), "DL-08 ERROR good.test. NS\n");
	assert_string_equal(
		fs.v[0].message,
		"the parent lists one name server for good.test. (ns1.good.test.): at least "
		"two are needed (Zonemaster DELEGATION01 NOT_ENOUGH_NS_DEL); the child apex "
		"lists one name server (ns1.good.test.) (Zonemaster DELEGATION01 NOT_ENOUGH_NS_CHILD)");
	zw_findings_free(&fs);
}

static void unreachable_and_malformed(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	failed(&x->f.srv[1].soa, ZW_DNS_TIMEOUT, ZW_DNS_UDP, "3 datagrams, no answer");
	failed(&x->f.srv[1].ns, ZW_DNS_TIMEOUT, ZW_DNS_UDP, NULL);
	for (size_t q = 0; q < x->f.o.n_questions; q++)
		failed(&x->f.at[q][1], ZW_DNS_TIMEOUT, ZW_DNS_UDP, NULL);
	/* ns1: the DKIM answer truncated, then TCP refused; and one malformed answer */
	failed(&x->f.at[5][0], ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: connection refused");
	failed(&x->f.at[4][0], ZW_DNS_MALFORMED, ZW_DNS_UDP, "compression pointer loop");
	assert_string_equal(run(x, &fs), "ZW-04 ERROR good.test. TXT\nDL-07 ERROR good.test. SOA\n"
					 "DL-07 ERROR good.test. SOA\n");
	assert_string_equal(fs.v[0].message,
			    "ns1.good.test/192.0.2.1 sends answers that are malformed or do not match "
			    "the question (_dmarc.good.test.good.test. TXT: malformed: compression pointer "
			    "loop) (RFC 1035 §4.1; RFC 5452)");
	assert_non_null(strstr(fs.v[1].message, "answers over UDP but not over TCP: the answer to "
						"s1._domainkey.good.test.good.test. CNAME was truncated"));
	assert_string_equal(fs.v[2].message,
			    "ns2.good.test/192.0.2.2 does not answer over UDP (timeout: 3 datagrams, no "
			    "answer) (RFC 7766; Zonemaster CONNECTIVITY01 NAMESERVER_NO_UDP_53)");
	zw_findings_free(&fs);
}

static void serials_fields_and_ns_sets(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	struct zw_rr *s2 = soa(&x->f, 2024010105, "dns.good.test.");
	data(&x->f.srv[1].soa, s2, 1);
	struct zw_rr *ns = target_rr(&x->f, "good.test.", 2, "ns1.good.test.");
	data(&x->f.srv[1].ns, ns, 1);
	assert_string_equal(run(x, &fs), "CS-02 WARNING good.test. SOA\nCS-03 NOTICE good.test. SOA\n"
					 "CS-03 NOTICE good.test. NS\n");
	assert_string_equal(
		fs.v[0].message,
		"the servers give different SOA serials: ns1.good.test/192.0.2.1 2024010101; "
		"ns2.good.test/192.0.2.2 2024010105 (Zonemaster CONSISTENCY01 MULTIPLE_SOA_SERIALS)");
	assert_string_equal(fs.v[1].message,
			    "the servers give different SOA RNAME: ns1.good.test/192.0.2.1 "
			    "hostmaster.good.test.; ns2.good.test/192.0.2.2 dns.good.test. (Zonemaster "
			    "CONSISTENCY02/03/06)");
	assert_string_equal(fs.v[2].message,
			    "the servers give different NS sets for the apex: ns1.good.test/192.0.2.1 "
			    "ns1.good.test.,ns2.good.test.; ns2.good.test/192.0.2.2 ns1.good.test. "
			    "(Zonemaster CONSISTENCY04 MULTIPLE_NS_SET)");
	zw_findings_free(&fs);
}

static void servers_disagree_on_a_claim(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	data(&x->f.at[0][1], txt(&x->f, "good.test.", 300, "v=spf1 include:old-esp.test -all", 0), 1);
	assert_string_equal(run(x, &fs), "CS-01 ERROR good.test. TXT\n");
	assert_string_equal(
		fs.v[0].message,
		"the servers disagree on good.test. TXT, so the answer depends on which one is "
		"asked: ns1.good.test/192.0.2.1: \"v=spf1 include:_spf.other.test -all\"; "
		"ns2.good.test/192.0.2.2: \"v=spf1 include:old-esp.test -all\" (Zonemaster ZONE11, "
		"generalised)");
	zw_findings_free(&fs);
	/* the same bytes split differently are a different rrset (byte-string lists) */
	data(&x->f.at[0][1], txt(&x->f, "good.test.", 300, "v=spf1 include:_spf.other.test -all", 10), 1);
	assert_string_equal(run(x, &fs), "CS-01 ERROR good.test. TXT\n");
	zw_findings_free(&fs);
}

static void drift_missing_differs_ttl(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	negative(&x->f.at[1][0], ZW_OBS_NXDOMAIN); /* _dmarc absent */
	negative(&x->f.at[1][1], ZW_OBS_NXDOMAIN);
	both(&x->f, 0, txt(&x->f, "good.test.", 86400, "v=spf1 include:_spf.other.test ~all", 0), 1);
	both(&x->f, 2, target_rr(&x->f, "s1._domainkey.good.test.", 5, "s1.dkim.elsewhere.net."), 1);
	assert_string_equal(
		run(x, &fs),
		"ZW-02 ERROR good.test. TXT\nTT-02 NOTICE good.test. TXT\n"
		"ZW-01 ERROR _dmarc.good.test. TXT\nZW-02 ERROR s1._domainkey.good.test. CNAME\n");
	assert_string_equal(fs.v[0].observed, "\"v=spf1 include:_spf.other.test ~all\"");
	assert_string_equal(fs.v[0].expected, "\"v=spf1 include:_spf.other.test -all\"");
	assert_string_equal(fs.v[0].fix, "set good.test. 300 TXT \"v=spf1 include:_spf.other.test -all\"");
	/* drift points at the manifest entry of the claim (spf: line 13), a domain's finding at spec.domain */
	assert_string_equal(fs.v[0].loc.file, "t.yaml");
	assert_int_equal(fs.v[0].loc.line, 13);
	assert_string_equal(fs.v[1].message,
			    "good.test. TXT has ttl 86400 on the servers, 300 in the manifest");
	assert_string_equal(fs.v[2].message,
			    "_dmarc.good.test. TXT claimed by the manifest is absent on the delegated "
			    "servers (NXDOMAIN)");
	assert_string_equal(fs.v[2].fix, "create _dmarc.good.test. 300 TXT \"v=DMARC1; p=reject\"");
	assert_string_equal(fs.v[3].message,
			    "s1._domainkey.good.test. CNAME differs from the manifest: the cname points "
			    "elsewhere");
	zw_findings_free(&fs);
	/* the same text split differently is drift, said so */
	both(&x->f, 0, txt(&x->f, "good.test.", 300, "v=spf1 include:_spf.other.test -all", 6), 1);
	both(&x->f, 2, target_rr(&x->f, "s1._domainkey.good.test.", 5, "s1.dkim.example.net."), 1);
	both(&x->f, 1, txt(&x->f, "_dmarc.good.test.", 300, "v=DMARC1; p=reject", 0), 1);
	assert_string_equal(run(x, &fs), "ZW-02 ERROR good.test. TXT\n");
	assert_string_equal(fs.v[0].message,
			    "good.test. TXT differs from the manifest: the same text, split into other "
			    "strings (drift is compared string by string)");
	zw_findings_free(&fs);
}

static void drift_explained_by_a_specific_finding(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	/* a leading space: inspect says TX-01 about that value, so no ZW-02 */
	both(&x->f, 1, txt(&x->f, "_dmarc.good.test.", 300, " v=DMARC1; p=reject", 0), 1);
	struct zw_finding *f = zw_findings_add(&fs, "TX-01", 0, "whitespace before the version tag");
	assert_non_null(f);
	assert_int_equal(zw_finding_set(f, ZW_F_NAME, "_dmarc.good.test."), 0);
	assert_int_equal(zw_finding_set(f, ZW_F_OBSERVED, " v=DMARC1; p=reject"), 0);
	assert_int_equal(diagnose(&fs, &x->ds, &x->f.o, 0), 0);
	assert_string_equal(lines(&fs), "TX-01 ERROR _dmarc.good.test. -\n");
	zw_findings_free(&fs);
	/* without the specific finding, it is drift */
	assert_string_equal(run(x, &fs), "ZW-02 ERROR _dmarc.good.test. TXT\n");
	zw_findings_free(&fs);
	/* a CNAME target with a stray space or the origin appended is the target meant */
	both(&x->f, 1, txt(&x->f, "_dmarc.good.test.", 300, "v=DMARC1; p=reject", 0), 1);
	both(&x->f, 2, target_rr(&x->f, "s1._domainkey.good.test.", 5, "s1.dkim.example.net.good.test."), 1);
	assert_string_equal(run(x, &fs), "");
	zw_findings_free(&fs);
}

static void doubled_apex_probe(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	negative(&x->f.at[2][0], ZW_OBS_NXDOMAIN);
	negative(&x->f.at[2][1], ZW_OBS_NXDOMAIN);
	both(&x->f, 5, target_rr(&x->f, "s1._domainkey.good.test.good.test.", 5, "s1.dkim.example.net."), 1);
	assert_string_equal(run(x, &fs), "NM-01 ERROR s1._domainkey.good.test.good.test. CNAME\n");
	assert_string_equal(fs.v[0].expected, "s1._domainkey.good.test.");
	assert_string_equal(fs.v[0].fix,
			    "delete s1._domainkey.good.test.good.test. CNAME s1.dkim.example.net.; create "
			    "s1._domainkey.good.test. CNAME s1.dkim.example.net. (an absolute name: with the "
			    "trailing dot)");
	assert_string_equal(
		fs.v[0].message,
		"s1._domainkey.good.test.good.test. CNAME exists: the zone's name was appended "
		"to a name that was already qualified; verifiers ask for s1._domainkey.good.test., "
		"which has no such record (SES and DKIM verifiers stay pending)");
	zw_findings_free(&fs);
}

static void below_a_zone_cut(void **state)
{
	struct fx *x = *state;
	struct zw_findings fs = {0};
	clean_records(&x->f, 0);
	static char *ns[] = {"ns.other.test."};
	for (int s = 0; s < 2; s++) {
		struct zw_obs_answer *a = &x->f.at[1][s];
		memset(a, 0, sizeof(*a));
		a->kind = ZW_OBS_REFERRAL;
		a->referral_zone = "_dmarc.good.test.";
		a->referral_ns = ns;
		a->n_referral_ns = 1;
	}
	assert_string_equal(run(x, &fs), "NM-05 ERROR _dmarc.good.test. TXT\n");
	assert_string_equal(
		fs.v[0].fix,
		"publish _dmarc.good.test. TXT in the zone _dmarc.good.test., at its provider (NS "
		"ns.other.test)");
	zw_findings_free(&fs);
}

static void provider_view_without_addresses(void **state)
{
	/* spec.nameservers outside the parent's set: DL-01, whose servers had no address here
	 * (the resolver points at a dead port, so every lookup fails) */
	struct fx *x = *state;
	static const char m2[] = "apiVersion: zonewarden.dev/v1alpha1\n"
				 "kind: Provider\n"
				 "metadata: {name: p}\n"
				 "spec: {type: route53, route53: {}}\n"
				 "---\n"
				 "apiVersion: zonewarden.dev/v1alpha1\n"
				 "kind: MailDomain\n"
				 "metadata: {name: g}\n"
				 "spec:\n"
				 "  domain: good.test\n"
				 "  providerRef: p\n"
				 "  ttl: 300\n"
				 "  nameservers: [ada.ns.cf.test, bob.ns.cf.test]\n"
				 "  dmarc: {policy: reject}\n";
	struct zw_manifests *ms = NULL;
	struct zw_desired ds;
	struct zw_deleg *d = NULL;
	struct zw_resolver *r = NULL;
	struct zw_findings fs = {0};
	struct zw_roothint hint = {"a.root.test.", NULL, 1};
	struct zw_dns_addr dead = ip("127.0.0.1");
	dead.port = 9; /* discard: nothing listens (connection refused) */
	hint.addrs = &dead;
	struct zw_roothints h = {&hint, 1};
	clean_records(&x->f, 0);
	assert_int_equal(zw_manifests_load_buffer(&ms, "t.yaml", m2, strlen(m2), NULL), 0);
	assert_int_equal(zw_desired_build(&ds, &ms->domains[0], NULL), 0);
	assert_int_equal(zw_deleg_new(&d, "good.test", &ds, NULL, 0, NULL), 0);
	assert_int_equal(zw_resolver_new(&r, &h, NULL, NULL), 0);
	assert_int_equal(zw_deleg_step(d, r, &x->f.o, NULL), 1);
	assert_int_equal(zw_resolver_run(r, NULL), 0);
	assert_int_equal(zw_deleg_step(d, r, &x->f.o, NULL), 0);
	assert_int_equal(zw_deleg_diagnose(&fs, 0, d, &x->f.o, NULL), 0);
	assert_string_equal(lines(&fs), "DL-01 CRITICAL good.test. NS\n");
	assert_string_equal(
		fs.v[0].fix,
		"The registry delegates good.test to {ns1.good.test, ns2.good.test}. Change NS at "
		"the registrar to {ada.ns.cf.test, bob.ns.cf.test}, or point the manifest at the "
		"provider that holds {ns1.good.test, ns2.good.test}");
	assert_non_null(strstr(fs.v[0].message,
			       "the provider's servers have no address, so they could not be asked"));
	zw_findings_free(&fs);
	zw_deleg_free(d);
	zw_resolver_free(r);
	zw_desired_free(&ds);
	zw_manifests_free(ms);
}

static int sweep_once(struct fx *x)
{
	struct zw_findings fs = {0};
	int rc = diagnose(&fs, &x->ds, &x->f.o, 0);
	zw_findings_free(&fs);
	return rc;
}

static void allocation_failures(void **state)
{
	struct fx *x = *state;
	/* a world with nearly every finding at once */
	clean_records(&x->f, 1);
	static char *parent[] = {"ns1.good.test.", "ns2.good.test.", "ns3.good.test."};
	x->f.o.parent_ns = parent;
	x->f.o.n_parent_ns = 3;
	x->f.ref[1].ans.kind = ZW_OBS_NXDOMAIN;
	x->f.nsn[0].is_cname = 1;
	data(&x->f.srv[1].soa, soa(&x->f, 7, "x.good.test."), 1);
	negative(&x->f.at[1][0], ZW_OBS_NXDOMAIN);
	both(&x->f, 2, target_rr(&x->f, "s1._domainkey.good.test.", 5, "elsewhere.test."), 1);
	both(&x->f, 5, target_rr(&x->f, "s1._domainkey.good.test.good.test.", 5, "s1.dkim.example.net."), 1);
	data(&x->f.at[0][1], txt(&x->f, "good.test.", 60, "v=spf1 -all", 0), 1);
	ZW_FOR_EACH_ALLOC_FAILURE(sweep_once(x));
	struct zw_findings fs = {0};
	assert_int_equal(diagnose(&fs, &x->ds, &x->f.o, 0), 0);
	assert_string_equal(
		lines(&fs),
		"ZW-05 ERROR good.test. NS\nDL-13 ERROR good.test. NS\nDL-02 ERROR good.test. NS\n"
		"CS-02 WARNING good.test. SOA\nCS-03 NOTICE good.test. SOA\n"
		"CS-01 ERROR good.test. TXT\nZW-03 INFO good.test. TXT\n"
		"CS-01 ERROR _dmarc.good.test. TXT\n"
		"NM-01 ERROR s1._domainkey.good.test.good.test. CNAME\n"
		"ZW-02 ERROR s1._domainkey.good.test. CNAME\n");
	zw_findings_free(&fs);
}

static void helpers(void **state)
{
	(void)state;
	char lab[64];
	struct zw_dns_addr a = ip("2001:db8::1");
	zw_deleg_server_label(lab, sizeof(lab), "ns1.example.net.", &a);
	assert_string_equal(lab, "ns1.example.net/2001:db8::1");
	struct zw_obs_answer x, y;
	negative(&x, ZW_OBS_NODATA);
	negative(&y, ZW_OBS_NODATA);
	assert_true(zw_deleg_answer_same(&x, &y));
	assert_true(zw_deleg_answer_authoritative(&x));
	y.aa = 0;
	assert_false(zw_deleg_answer_authoritative(&y));
	rcode(&x, 5);
	rcode(&y, 2);
	assert_false(zw_deleg_answer_same(&x, &y));
	assert_null(zw_deleg_find_question(NULL, "a.", 16));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(questions_and_probes),
		T(clean_world_no_findings),
		T(foreign_value_is_info),
		T(lame_one_and_all),
		T(parent_child_both_ways_and_total),
		T(not_delegated_and_unknown),
		T(parent_servers_disagree),
		T(nsnames_problems),
		T(one_ns_and_one_ip),
		T(unreachable_and_malformed),
		T(serials_fields_and_ns_sets),
		T(servers_disagree_on_a_claim),
		T(drift_missing_differs_ttl),
		T(drift_explained_by_a_specific_finding),
		T(doubled_apex_probe),
		T(below_a_zone_cut),
		T(provider_view_without_addresses),
		T(allocation_failures),
		cmocka_unit_test(helpers),
	};
	return cmocka_run_group_tests_name("delegation", tests, NULL, NULL);
}
