/*
 * test_resolve.c - unit tests of reconcile/resolve.c and reconcile/roothints.c: how one
 * answer becomes an observed answer (DATA, NODATA, NXDOMAIN, REFERRAL, CNAME chains and
 * loops, typed views of TXT, SOA, MX, A), the dump format, the root hints (built in, from
 * a file, from the environment), and the resolver's own failure paths. The walk against
 * real servers is tested in tests/integration/ (Knot worlds).
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reconcile/resolve.h"

/* A response built from zone-file lines; NULL-terminated lists. */
static ldns_pkt *mkpkt(const char *qname, uint16_t qtype, int rcode, int aa, const char *const *an,
		       const char *const *au)
{
	ldns_pkt *p =
		ldns_pkt_query_new(ldns_dname_new_frm_str(qname), (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, 0);
	ldns_rr *rr;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, aa);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (size_t i = 0; an && an[i]; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, an[i], 3600, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; au && au[i]; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, au[i], 3600, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	return p;
}

static const char *const soa_auth[] = {
	"ex.test. 300 IN SOA ns1.ex.test. hostmaster.ex.test. 2024010105 3600 900 604800 300", NULL};

static char *dump(const struct zw_obs_answer *a)
{
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_obs_answer_dump(&b, a), 0);
	return zw_buf_detach(&b);
}

static void answer_txt_data(void **state)
{
	(void)state;
	static const char *const an[] = {
		"ex.test. 300 IN TXT \"v=spf1 -all\"",
		"ex.test. 300 IN TXT \"v=DKIM1; p=\" \"AB\\000C\" \"\\226\\128\\139\"",
		"other.ex.test. 300 IN TXT \"not ours\"", NULL};
	ldns_pkt *p = mkpkt("ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, an, NULL);
	struct zw_arena *a = NULL;
	struct zw_obs_answer ans = {0};

	assert_int_equal(zw_arena_new(&a), 0);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "EX.test.", LDNS_RR_TYPE_TXT), 0);
	assert_int_equal(ans.kind, ZW_OBS_DATA);
	assert_int_equal(ans.aa, 1);
	assert_int_equal(ans.rcode, LDNS_RCODE_NOERROR);
	assert_int_equal(ans.n_rrs, 2);
	assert_int_equal(ans.n_cnames, 0);
	/* sorted by presentation text */
	assert_string_equal(ans.rrs[0].text, "\"v=DKIM1; p=\" \"AB\\000C\" \"\\226\\128\\139\"");
	assert_string_equal(ans.rrs[0].owner, "ex.test.");
	assert_int_equal(ans.rrs[0].ttl, 300);
	assert_int_equal(ans.rrs[0].txt.n, 3);
	assert_int_equal(ans.rrs[0].txt.lens[0], 11);
	assert_int_equal(ans.rrs[0].txt.lens[1], 4);
	assert_int_equal(ans.rrs[0].txt.lens[2], 3);
	assert_int_equal(ans.rrs[0].txt.len, 18);
	assert_memory_equal(ans.rrs[0].txt.data, "v=DKIM1; p=AB\0C\xe2\x80\x8b", 18);
	assert_string_equal(ans.rrs[1].text, "\"v=spf1 -all\"");
	assert_int_equal(ans.rrs[1].txt.n, 1);
	char *d = dump(&ans);
	assert_string_equal(d, "data udp NOERROR aa rrs: \"v=DKIM1; p=\" \"AB\\000C\" \"\\226\\128\\139\" | "
			       "\"v=spf1 -all\"");
	zw_free(d);
	zw_arena_free(a);
	ldns_pkt_free(p);
}

static void answer_cname_chain_loop_and_exit(void **state)
{
	(void)state;
	static const char *const chain[] = {"c1.ex.test. 300 IN CNAME c2.ex.test.",
					    "c2.ex.test. 300 IN CNAME c3.ex.test.",
					    "c3.ex.test. 300 IN TXT \"end\"", NULL};
	static const char *const loop[] = {"l1.ex.test. 300 IN CNAME l2.ex.test.",
					   "l2.ex.test. 300 IN CNAME l1.ex.test.", NULL};
	static const char *const out[] = {"o.ex.test. 300 IN CNAME t.other.test.", NULL};
	struct zw_arena *a = NULL;
	struct zw_obs_answer ans = {0};
	ldns_pkt *p;
	char *d;

	assert_int_equal(zw_arena_new(&a), 0);
	p = mkpkt("c1.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, chain, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "c1.ex.test.", LDNS_RR_TYPE_TXT), 0);
	d = dump(&ans);
	assert_string_equal(
		d, "data udp NOERROR aa cnames=c1.ex.test.>c2.ex.test. c2.ex.test.>c3.ex.test. rrs: \"end\"");
	zw_free(d);
	assert_string_equal(ans.cnames[1].target, "c3.ex.test.");
	ldns_pkt_free(p);

	/* asking for the CNAME itself does not follow it */
	memset(&ans, 0, sizeof(ans));
	p = mkpkt("c1.ex.test.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR, 1, chain, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "c1.ex.test.", LDNS_RR_TYPE_CNAME), 0);
	assert_int_equal(ans.kind, ZW_OBS_DATA);
	assert_int_equal(ans.n_cnames, 0);
	assert_int_equal(ans.n_rrs, 1);
	assert_string_equal(ans.rrs[0].target, "c2.ex.test.");
	ldns_pkt_free(p);

	memset(&ans, 0, sizeof(ans));
	p = mkpkt("l1.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, loop, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "l1.ex.test.", LDNS_RR_TYPE_TXT), 0);
	d = dump(&ans);
	assert_string_equal(
		d, "cname udp NOERROR aa loop cnames=l1.ex.test.>l2.ex.test. l2.ex.test.>l1.ex.test.");
	zw_free(d);
	ldns_pkt_free(p);

	memset(&ans, 0, sizeof(ans));
	p = mkpkt("o.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, out, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "o.ex.test.", LDNS_RR_TYPE_TXT), 0);
	assert_int_equal(ans.kind, ZW_OBS_CNAME);
	assert_int_equal(ans.cname_loop, 0);
	ldns_pkt_free(p);

	/* the target is in the zone but has no TXT: NODATA after the chain */
	memset(&ans, 0, sizeof(ans));
	p = mkpkt("o.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, out, soa_auth);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "o.ex.test.", LDNS_RR_TYPE_TXT), 0);
	assert_int_equal(ans.kind, ZW_OBS_NODATA);
	ldns_pkt_free(p);

	/* the target does not exist: NXDOMAIN with the chain (RFC 6604) */
	memset(&ans, 0, sizeof(ans));
	p = mkpkt("o.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NXDOMAIN, 1, out, soa_auth);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "o.ex.test.", LDNS_RR_TYPE_TXT), 0);
	d = dump(&ans);
	assert_string_equal(d, "nxdomain udp NXDOMAIN aa soa cnames=o.ex.test.>t.other.test.");
	zw_free(d);
	ldns_pkt_free(p);
	zw_arena_free(a);
}

static void answer_negative_referral_rcode(void **state)
{
	(void)state;
	static const char *const ref[] = {"ex.test. 3600 IN NS ns2.ex.test.",
					  "ex.test. 3600 IN NS NS1.ex.test.",
					  "ex.test. 3600 IN NS ns1.ex.test.", NULL};
	struct zw_arena *a = NULL;
	struct zw_obs_answer ans = {0};
	ldns_pkt *p;
	char *d;

	assert_int_equal(zw_arena_new(&a), 0);
	p = mkpkt("www.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, NULL, soa_auth);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "www.ex.test.", LDNS_RR_TYPE_TXT), 0);
	d = dump(&ans);
	assert_string_equal(d, "nodata udp NOERROR aa soa");
	zw_free(d);
	ldns_pkt_free(p);

	/* NODATA without the SOA proof, and without AA: a lame answer */
	memset(&ans, 0, sizeof(ans));
	p = mkpkt("www.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 0, NULL, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "www.ex.test.", LDNS_RR_TYPE_TXT), 0);
	assert_int_equal(ans.kind, ZW_OBS_NODATA);
	assert_int_equal(ans.soa_in_authority, 0);
	assert_int_equal(ans.aa, 0);
	ldns_pkt_free(p);

	memset(&ans, 0, sizeof(ans));
	p = mkpkt("nope.ex.test.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NXDOMAIN, 1, NULL, soa_auth);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "nope.ex.test.", LDNS_RR_TYPE_TXT), 0);
	assert_int_equal(ans.kind, ZW_OBS_NXDOMAIN);
	assert_int_equal(ans.soa_in_authority, 1);
	ldns_pkt_free(p);

	memset(&ans, 0, sizeof(ans));
	p = mkpkt("ex.test.", LDNS_RR_TYPE_NS, LDNS_RCODE_NOERROR, 0, NULL, ref);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "ex.test.", LDNS_RR_TYPE_NS), 0);
	d = dump(&ans);
	assert_string_equal(d, "referral udp NOERROR ref=ex.test. ns=ns1.ex.test.,ns2.ex.test.");
	zw_free(d);
	assert_int_equal(ans.n_referral_ns, 2);
	ldns_pkt_free(p);

	memset(&ans, 0, sizeof(ans));
	p = mkpkt("ex.test.", LDNS_RR_TYPE_SOA, LDNS_RCODE_REFUSED, 0, NULL, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "ex.test.", LDNS_RR_TYPE_SOA), 0);
	d = dump(&ans);
	assert_string_equal(d, "rcode udp REFUSED");
	zw_free(d);
	ldns_pkt_free(p);
	zw_arena_free(a);
}

static void answer_typed_views(void **state)
{
	(void)state;
	static const char *const soa[] = {
		"ex.test. 300 IN SOA ns1.ex.test. Host\\.Master.ex.test. 2024010105 3600 900 604800 300",
		NULL};
	static const char *const mx[] = {"ex.test. 300 IN MX 10 MX.ex.test.", NULL};
	static const char *const aaaa[] = {"ns.ex.test. 300 IN AAAA 2001:db8::53", NULL};
	struct zw_arena *a = NULL;
	struct zw_obs_answer ans = {0};
	char s[ZW_DNS_ADDR_STRLEN];
	ldns_pkt *p;

	assert_int_equal(zw_arena_new(&a), 0);
	p = mkpkt("ex.test.", LDNS_RR_TYPE_SOA, 0, 1, soa, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "ex.test.", LDNS_RR_TYPE_SOA), 0);
	assert_string_equal(ans.rrs[0].soa.mname, "ns1.ex.test.");
	assert_string_equal(ans.rrs[0].soa.rname, "host\\.master.ex.test.");
	assert_int_equal(ans.rrs[0].soa.serial, 2024010105u);
	assert_int_equal(ans.rrs[0].soa.refresh, 3600);
	assert_int_equal(ans.rrs[0].soa.retry, 900);
	assert_int_equal(ans.rrs[0].soa.expire, 604800);
	assert_int_equal(ans.rrs[0].soa.minimum, 300);
	ldns_pkt_free(p);
	memset(&ans, 0, sizeof(ans));
	p = mkpkt("ex.test.", LDNS_RR_TYPE_MX, 0, 1, mx, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "ex.test.", LDNS_RR_TYPE_MX), 0);
	assert_int_equal(ans.rrs[0].pref, 10);
	assert_string_equal(ans.rrs[0].target, "mx.ex.test.");
	ldns_pkt_free(p);
	memset(&ans, 0, sizeof(ans));
	p = mkpkt("ns.ex.test.", LDNS_RR_TYPE_AAAA, 0, 1, aaaa, NULL);
	assert_int_equal(zw_obs_answer_from_pkt(&ans, a, p, "ns.ex.test.", LDNS_RR_TYPE_AAAA), 0);
	zw_dns_addr_format(s, sizeof(s), &ans.rrs[0].addr);
	assert_string_equal(s, "2001:db8::53");
	ldns_pkt_free(p);
	zw_arena_free(a);
}

static int convert_once(const ldns_pkt *p)
{
	struct zw_arena *a = NULL;
	struct zw_obs_answer ans = {0};
	int rc = zw_arena_new(&a);
	if (rc == 0)
		rc = zw_obs_answer_from_pkt(&ans, a, p, "c1.ex.test.", LDNS_RR_TYPE_TXT);
	zw_arena_free(a);
	return rc;
}

static void answer_allocation_failures(void **state)
{
	(void)state;
	static const char *const an[] = {"c1.ex.test. 300 IN CNAME c2.ex.test.",
					 "c2.ex.test. 300 IN TXT \"a\" \"b\"", "c2.ex.test. 300 IN TXT \"c\"",
					 NULL};
	ldns_pkt *p = mkpkt("c1.ex.test.", LDNS_RR_TYPE_TXT, 0, 1, an, soa_auth);
	ZW_FOR_EACH_ALLOC_FAILURE(convert_once(p));
	ldns_pkt_free(p);
}

/* ---- root hints ---- */

static void hints_builtin(void **state)
{
	(void)state;
	struct zw_roothints *h = NULL;
	char s[ZW_DNS_ADDR_STRLEN];

	assert_int_equal(zw_roothints_builtin(&h, NULL), 0);
	assert_int_equal(h->n, 13);
	assert_string_equal(h->v[0].name, "a.root-servers.net.");
	assert_int_equal(h->v[0].n_addrs, 2);
	zw_dns_addr_format(s, sizeof(s), &h->v[0].addrs[0]);
	assert_string_equal(s, "198.41.0.4");
	zw_dns_addr_format(s, sizeof(s), &h->v[0].addrs[1]);
	assert_string_equal(s, "2001:503:ba3e::2:30");
	assert_string_equal(h->v[12].name, "m.root-servers.net.");
	zw_dns_addr_format(s, sizeof(s), &h->v[12].addrs[0]);
	assert_string_equal(s, "202.12.27.33");
	assert_int_equal(h->v[1].addrs[0].port, 53);
	zw_roothints_free(h);
}

static char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/zw-hints-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void hints_file_and_env(void **state)
{
	(void)state;
	struct zw_roothints *h = NULL;
	struct zw_error err = {0};
	char s[ZW_DNS_ADDR_STRLEN];
	char *path = write_tmp("; a test world\n$TTL 3600\n$ORIGIN root-servers.test.\n"
			       ". NS a\n. NS b\n. NS nowhere\n"
			       "b A 127.9.9.2\na A 127.9.9.1\na AAAA ::1\n"
			       "x A 127.9.9.3 ; not a root server name\n");

	assert_int_equal(zw_roothints_load(&h, path, &err), 0);
	assert_int_equal(h->n, 2); /* nowhere has no address: dropped */
	assert_string_equal(h->v[0].name, "a.root-servers.test.");
	assert_int_equal(h->v[0].n_addrs, 2);
	assert_string_equal(h->v[1].name, "b.root-servers.test.");
	zw_dns_addr_format(s, sizeof(s), &h->v[1].addrs[0]);
	assert_string_equal(s, "127.9.9.2");
	zw_roothints_free(h);

	/* the explicit path wins over the environment, which wins over the built-in set */
	setenv(ZW_ROOT_HINTS_ENV, "/nonexistent/hints", 1);
	assert_int_equal(zw_roothints_select(&h, path, NULL), 0);
	assert_int_equal(h->n, 2);
	zw_roothints_free(h);
	assert_int_equal(zw_roothints_select(&h, NULL, &err), ZW_EIO);
	assert_string_equal(err.msg,
			    "cannot open root hints '/nonexistent/hints': No such file or directory");
	setenv(ZW_ROOT_HINTS_ENV, "", 1);
	assert_int_equal(zw_roothints_select(&h, NULL, NULL), 0);
	assert_int_equal(h->n, 13);
	zw_roothints_free(h);
	unsetenv(ZW_ROOT_HINTS_ENV);
	unlink(path);

	path = write_tmp(". NS a.test.\na.test. A 127.0.0.1\n. NS\n");
	zw_error_clear(&err);
	assert_int_equal(zw_roothints_load(&h, path, &err), ZW_EINVAL);
	assert_null(h);
	assert_int_equal(err.line, 3);
	unlink(path);
	path = write_tmp(". NS a.test.\n");
	zw_error_clear(&err);
	assert_int_equal(zw_roothints_load(&h, path, &err), ZW_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s: no root server with an address", path);
	assert_string_equal(err.msg, want);
	unlink(path);
}

static int builtin_once(void)
{
	struct zw_roothints *h = NULL;
	int rc = zw_roothints_builtin(&h, NULL);
	zw_roothints_free(h);
	return rc;
}

static void hints_allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(builtin_once());
}

/* ---- the resolver's own paths ---- */

/* Hints pointing at a loopback port nobody listens on: every query is refused at once. */
static struct zw_roothints *dead_hints(void)
{
	static struct zw_dns_addr addr;
	static struct zw_roothint hint;
	static struct zw_roothints h;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {0};
	socklen_t sl = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	close(s);
	assert_int_equal(zw_dns_addr_parse(&addr, "127.0.0.1", ntohs(sin.sin_port), NULL), 0);
	hint.name = "a.root.test.";
	hint.addrs = &addr;
	hint.n_addrs = 1;
	h.v = &hint;
	h.n = 1;
	return &h;
}

static int observe_dead(const struct zw_roothints *h, char **dumped)
{
	struct zw_resolver *r = NULL;
	struct zw_obs *o = NULL;
	struct zw_lookup *lk = NULL;
	struct zw_buf b = ZW_BUF_INIT;
	const struct zw_question q[] = {{"www.example.test", LDNS_RR_TYPE_TXT}};
	int rc = zw_resolver_new(&r, h, NULL, NULL);
	if (rc == 0)
		rc = zw_resolver_observe(r, &o, "Example.Test", q, 1, NULL);
	if (rc == 0)
		rc = zw_resolver_lookup(r, &lk, "x.test", LDNS_RR_TYPE_A, NULL);
	if (rc == 0)
		rc = zw_resolver_run(r, NULL);
	if (rc == 0)
		rc = zw_obs_dump(&b, o);
	if (rc == 0)
		rc = zw_obs_lookup_dump(&b, &lk->res);
	if (rc == 0 && dumped)
		*dumped = zw_buf_detach(&b);
	zw_buf_free(&b);
	zw_obs_free(o);
	zw_lookup_free(lk);
	zw_resolver_free(r);
	return rc;
}

static void resolver_unreachable_root(void **state)
{
	(void)state;
	struct zw_roothints *h = dead_hints();
	char *d = NULL;
	char want[1024], as[ZW_DNS_ADDR_STRLEN];

	assert_int_equal(observe_dead(h, &d), 0);
	zw_dns_addr_format(as, sizeof(as), &h->v[0].addrs[0]);
	snprintf(want, sizeof(want),
		 "domain example.test.\nzone -\nparent -\ndelegation unknown\n"
		 "walk-error cannot reach the parent of example.test.: a.root.test. (%s) for zone .: "
		 "network: udp: Connection refused\n"
		 "question www.example.test. TXT\n"
		 "  lookup www.example.test. TXT: failed (not asked: the walk stopped before)\n"
		 "lookup x.test. A: failed network udp (a.root.test. (%s) for zone .: network: udp: "
		 "Connection refused)\n",
		 as, as);
	assert_string_equal(d, want);
	zw_free(d);
	ZW_FOR_EACH_ALLOC_FAILURE(observe_dead(h, NULL));
}

/* zw_resolver_query: one server asked directly, no walk (the provider's own servers). */
static int query_dead(const struct zw_roothints *h, char **dumped)
{
	struct zw_resolver *r = NULL;
	struct zw_lookup *lk = NULL, *lk2 = NULL;
	struct zw_buf b = ZW_BUF_INIT;
	int rc = zw_resolver_new(&r, h, NULL, NULL);
	if (rc == 0)
		rc = zw_resolver_query(r, &lk, "ns1.provider.test.", &h->v[0].addrs[0],
				       "Sel._domainkey.Example.Test", LDNS_RR_TYPE_CNAME, NULL);
	if (rc == 0)
		rc = zw_resolver_query(r, &lk2, NULL, &h->v[0].addrs[0], "example.test", LDNS_RR_TYPE_TXT,
				       NULL);
	if (rc == 0)
		rc = zw_resolver_run(r, NULL);
	if (rc == 0)
		rc = zw_obs_lookup_dump(&b, &lk->res);
	if (rc == 0)
		rc = zw_obs_lookup_dump(&b, &lk2->res);
	if (rc == 0 && dumped)
		*dumped = zw_buf_detach(&b);
	zw_buf_free(&b);
	zw_lookup_free(lk);
	zw_lookup_free(lk2);
	zw_resolver_free(r);
	return rc;
}

static void resolver_direct_query(void **state)
{
	(void)state;
	struct zw_roothints *h = dead_hints();
	struct zw_resolver *r = NULL;
	struct zw_lookup *lk = NULL;
	struct zw_error err = {0};
	char *d = NULL;
	char want[1024];

	assert_int_equal(query_dead(h, &d), 0);
	snprintf(want, sizeof(want),
		 "lookup sel._domainkey.example.test. CNAME: failed network udp (udp: Connection refused)\n"
		 "lookup example.test. TXT: failed network udp (udp: Connection refused)\n");
	assert_string_equal(d, want);
	zw_free(d);
	ZW_FOR_EACH_ALLOC_FAILURE(query_dead(h, NULL));
	/* the server name and address are kept; a bad name is refused */
	assert_int_equal(zw_resolver_new(&r, h, NULL, &err), 0);
	assert_int_equal(
		zw_resolver_query(r, &lk, "ns.p.test.", &h->v[0].addrs[0], "a..b", LDNS_RR_TYPE_TXT, &err),
		ZW_EINVAL);
	assert_null(lk);
	assert_int_equal(
		zw_resolver_query(r, &lk, "ns.p.test.", &h->v[0].addrs[0], "a.test", LDNS_RR_TYPE_TXT, &err),
		0);
	assert_string_equal(lk->res.server, "ns.p.test.");
	assert_int_equal(zw_dns_addr_cmp(&lk->res.addr, &h->v[0].addrs[0]), 0);
	assert_null(lk->res.zone);
	zw_resolver_free(r); /* submitted, never run: freeing is still clean */
	zw_lookup_free(lk);
}

static void resolver_bad_input(void **state)
{
	(void)state;
	struct zw_roothints *h = NULL;
	struct zw_resolver *r = NULL;
	struct zw_obs *o = NULL;
	struct zw_lookup *lk = NULL;
	struct zw_error err = {0};
	const struct zw_question bad[] = {{"a..b", LDNS_RR_TYPE_TXT}};

	assert_int_equal(zw_roothints_builtin(&h, NULL), 0);
	assert_int_equal(zw_resolver_new(&r, h, NULL, &err), 0);
	assert_int_equal(zw_resolver_observe(r, &o, ".", NULL, 0, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "cannot observe the root zone");
	zw_error_clear(&err);
	assert_int_equal(zw_resolver_observe(r, &o, "ex..test", NULL, 0, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "'ex..test' is not a domain name");
	zw_error_clear(&err);
	assert_int_equal(zw_resolver_observe(r, &o, "ex.test", bad, 1, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "'a..b' is not a domain name");
	zw_error_clear(&err);
	assert_int_equal(zw_resolver_lookup(r, &lk, "", LDNS_RR_TYPE_A, &err), ZW_EINVAL);
	assert_null(o);
	assert_null(lk);
	/* submitted, never run: freeing is still clean */
	assert_int_equal(zw_resolver_observe(r, &o, "ex.test", NULL, 0, &err), 0);
	zw_resolver_free(r);
	zw_obs_free(o);
	zw_roothints_free(h);
	assert_string_equal(zw_rcode_name(5), "REFUSED");
	assert_string_equal(zw_rcode_name(-1), "-");
	assert_string_equal(zw_obs_kind_name(ZW_OBS_REFERRAL), "referral");
	assert_string_equal(zw_obs_delegation_name(ZW_DELEG_NXDOMAIN), "nxdomain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answer_txt_data),
		cmocka_unit_test(answer_cname_chain_loop_and_exit),
		cmocka_unit_test(answer_negative_referral_rcode),
		cmocka_unit_test(answer_typed_views),
		cmocka_unit_test(answer_allocation_failures),
		cmocka_unit_test(hints_builtin),
		cmocka_unit_test(hints_file_and_env),
		cmocka_unit_test(hints_allocation_failures),
		cmocka_unit_test(resolver_unreachable_root),
		cmocka_unit_test(resolver_bad_input),
		cmocka_unit_test(resolver_direct_query),
	};
	return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}
