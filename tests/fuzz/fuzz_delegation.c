/*
 * fuzz_delegation.c - the delegation, consistency and drift diagnosis fed observations
 * built from arbitrary octets. The first octets choose the shape (delegation outcome,
 * number of servers, which NS names the parent and the child list, CNAME flags, glue and
 * addresses, desired records or none); the rest is a sequence of DNS messages (two-octet
 * length, then the message) turned into observed answers with zw_obs_answer_from_pkt, as
 * the resolver does, and handed out in order to the referrals, each server's SOA and NS,
 * and every question at every server. zw_deleg_diagnose must not crash, read out of
 * bounds or leak, whatever the answers say; the findings' strings are walked.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "reconcile/alloc.h"
#include "reconcile/delegation.h"
#include "reconcile/desired.h"
#include "reconcile/dns.h"
#include "reconcile/manifest.h"
#include "reconcile/resolve.h"

#define MAXS 4

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
			       "  dmarc: {policy: reject}\n"
			       "  cnames: [{name: em, target: u1.wl.example.net.}]\n";

static char *names[] = {"ns1.good.test.", "ns2.good.test.", "ns3.good.test.", "ns.other.test."};

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned byte(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* The next message as an observed answer to (qname, qtype); FAILED when none is left or
 * it does not parse. */
static void answer(struct zw_obs_answer *a, struct zw_arena *ar, struct input *in, const char *qname,
		   uint16_t qtype)
{
	memset(a, 0, sizeof(*a));
	a->kind = ZW_OBS_FAILED;
	a->rcode = -1;
	a->status = ZW_DNS_TIMEOUT;
	if (in->n < 2)
		return;
	size_t len = (size_t)byte(in) << 8;
	len |= byte(in);
	if (len > in->n)
		len = in->n;
	ldns_pkt *pkt = NULL;
	if (zw_dns_parse(&pkt, in->p, len, NULL) == 0) {
		a->status = ZW_DNS_OK;
		zw_obs_answer_from_pkt(a, ar, pkt, qname, qtype);
		ldns_pkt_free(pkt);
	} else if (len & 1) {
		a->status = ZW_DNS_MALFORMED;
		a->reason = "fuzzed";
	}
	in->p += len;
	in->n -= len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct zw_manifests *ms = NULL;
	struct zw_desired ds = {0};
	struct zw_deleg *d = NULL;
	struct zw_arena *ar = NULL;
	struct zw_findings fs = {0};
	const struct zw_question *qs = NULL;
	size_t nq = 0;

	unsigned shape = byte(&in), ns = byte(&in), flags = byte(&in);
	int with_ds = shape & 4;
	if (with_ds && (zw_manifests_load_buffer(&ms, "f.yaml", manifest, sizeof(manifest) - 1, NULL) != 0 ||
			zw_desired_build(&ds, &ms->domains[0], NULL) != 0))
		goto out;
	const struct zw_question dq[] = {
		{"good.test.", 16}, {"_dmarc.good.test.", 16}, {"s1._domainkey.good.test.", 5}};
	if (zw_deleg_new(&d, "good.test", with_ds ? &ds : NULL, dq, 3, NULL) != 0 || zw_arena_new(&ar) != 0)
		goto out;
	zw_deleg_questions(d, &qs, &nq);

	struct zw_obs o = {0};
	struct zw_obs_referral ref[2] = {{0}};
	char *pns[4], *cns[4];
	struct zw_obs_nsname nsn[4] = {{0}};
	struct zw_dns_addr addrs[4][2], glue[4];
	struct zw_obs_server srv[MAXS] = {{0}};
	struct zw_obs_question q[16] = {{0}};
	struct zw_obs_answer at[16][MAXS];
	size_t npn = 0, ncn = 0;

	o.domain = "good.test.";
	o.zone = shape & 8 ? "good.test." : NULL;
	o.parent = "test.";
	o.delegation = (enum zw_obs_delegation)((shape & 3) % 3);
	o.walk_error = shape & 16 ? "fuzzed walk error" : NULL;
	for (int i = 0; i < 4; i++) {
		if (ns & (1u << i))
			pns[npn++] = names[i];
		if (ns & (16u << i))
			cns[ncn++] = names[i];
		memset(addrs[i], 0, sizeof(addrs[i]));
		addrs[i][0].family = AF_INET;
		addrs[i][0].port = 53;
		addrs[i][0].ip[0] = 192;
		addrs[i][0].ip[3] = (unsigned char)byte(&in);
		addrs[i][1] = addrs[i][0];
		addrs[i][1].ip[3] = (unsigned char)byte(&in);
		glue[i] = addrs[i][byte(&in) & 1];
		nsn[i].name = names[i];
		nsn[i].in_parent = (ns >> i) & 1;
		nsn[i].in_child = (ns >> (4 + i)) & 1;
		nsn[i].in_bailiwick = i < 3;
		nsn[i].is_cname = (flags >> i) & 1;
		nsn[i].glue = &glue[i];
		nsn[i].n_glue = (flags >> (4 + i)) & 1;
		nsn[i].addrs = addrs[i];
		nsn[i].n_addrs = byte(&in) % 3;
		answer(&nsn[i].a.ans, ar, &in, names[i], 1);
		answer(&nsn[i].aaaa.ans, ar, &in, names[i], 28);
	}
	o.parent_ns = pns;
	o.n_parent_ns = npn;
	o.child_ns = cns;
	o.n_child_ns = ncn;
	o.nsnames = nsn;
	o.n_nsnames = 4;
	for (int i = 0; i < 2; i++) {
		ref[i].server = i ? "b.nic.test." : "a.nic.test.";
		ref[i].addr = addrs[i][0];
		answer(&ref[i].ans, ar, &in, "good.test.", 2);
		ref[i].ns = ref[i].ans.referral_ns;
		ref[i].n_ns = ref[i].ans.n_referral_ns;
	}
	o.referrals = ref;
	o.n_referrals = 2;
	size_t nsrv = 1 + byte(&in) % MAXS;
	for (size_t s = 0; s < nsrv; s++) {
		srv[s].name = names[s % 4];
		srv[s].addr = addrs[s % 4][s / 4];
		answer(&srv[s].soa, ar, &in, "good.test.", 6);
		answer(&srv[s].ns, ar, &in, "good.test.", 2);
	}
	o.servers = srv;
	o.n_servers = nsrv;
	for (size_t k = 0; k < nq && k < 16; k++) {
		q[k].name = (char *)qs[k].name;
		q[k].type = qs[k].type;
		q[k].at = at[k];
		for (size_t s = 0; s < nsrv; s++)
			answer(&at[k][s], ar, &in, qs[k].name, qs[k].type);
	}
	o.questions = q;
	o.n_questions = nq < 16 ? nq : 16;

	if (zw_deleg_diagnose(&fs, 0, d, &o, NULL) == 0) {
		size_t total = 0;
		for (size_t i = 0; i < fs.n; i++)
			total += strlen(fs.v[i].message) + (fs.v[i].fix ? strlen(fs.v[i].fix) : 0) +
				 (fs.v[i].servers ? strlen(fs.v[i].servers) : 0);
		(void)total;
	}
out:
	zw_findings_free(&fs);
	zw_arena_free(ar);
	zw_deleg_free(d);
	if (with_ds)
		zw_desired_free(&ds);
	zw_manifests_free(ms);
	return 0;
}
