/*
 * test_dns.c - unit tests of the DNS transport (reconcile/dns.c): addresses, query
 * building, parsing hostile messages, answer matching, and the poll loop against an
 * in-process responder thread on 127.0.0.1 (an ephemeral port, UDP and TCP).
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/dns.h"

/* ---- addresses ---- */

static void addr_parse_format_cmp(void **state)
{
	(void)state;
	struct zw_dns_addr a, b, c;
	struct zw_error err = {0};
	char s[ZW_DNS_ADDR_STRLEN];

	assert_int_equal(zw_dns_addr_parse(&a, "192.0.2.1", 53, &err), 0);
	zw_dns_addr_format(s, sizeof(s), &a);
	assert_string_equal(s, "192.0.2.1");
	assert_int_equal(zw_dns_addr_parse(&b, "2001:db8::1", 5353, &err), 0);
	zw_dns_addr_format(s, sizeof(s), &b);
	assert_string_equal(s, "2001:db8::1#5353");
	assert_true(zw_dns_addr_cmp(&a, &b) < 0);
	assert_true(zw_dns_addr_cmp(&b, &a) > 0);
	c = a;
	assert_int_equal(zw_dns_addr_cmp(&a, &c), 0);
	c.port = 54;
	assert_true(zw_dns_addr_cmp(&a, &c) < 0);
	assert_int_equal(zw_dns_addr_parse(&c, "ns1.example.", 53, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "'ns1.example.' is not an ipv4 or ipv6 address");
	unsigned char v4[4] = {198, 51, 100, 7};
	assert_int_equal(zw_dns_addr_from_rdata(&c, v4, 4), 0);
	zw_dns_addr_format(s, sizeof(s), &c);
	assert_string_equal(s, "198.51.100.7");
	assert_int_equal(zw_dns_addr_from_rdata(&c, v4, 3), ZW_EINVAL);
}

/* ---- building and parsing ---- */

static void build_query_edns_and_plain(void **state)
{
	(void)state;
	uint8_t *w = NULL;
	size_t n = 0;
	ldns_pkt *p = NULL;
	struct zw_error err = {0};

	assert_int_equal(zw_dns_build_query(&w, &n, "Example.TEST.", LDNS_RR_TYPE_TXT, 0x1234, 0, &err), 0);
	assert_int_equal(w[0], 0x12);
	assert_int_equal(w[1], 0x34);
	assert_int_equal(w[2] & 0x01, 0); /* RD=0 */
	assert_int_equal(zw_dns_parse(&p, w, n, &err), 0);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	assert_int_equal(ldns_pkt_arcount(p), 0); /* the OPT is not counted as additional */
	ldns_pkt_free(p);
	zw_free(w);

	assert_int_equal(zw_dns_build_query(&w, &n, "example.test", LDNS_RR_TYPE_A, 7, 1, &err), 0);
	assert_int_equal(w[11], 0); /* ARCOUNT low octet: no OPT */
	assert_int_equal(w[10], 0);
	zw_free(w);

	assert_int_equal(zw_dns_build_query(&w, &n, "a..b", LDNS_RR_TYPE_A, 7, 1, &err), ZW_EINVAL);
	assert_null(w);
}

/* A response header: ID 0xabcd, QR AA, counts as given. */
static size_t hdr(uint8_t *m, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	const uint8_t h[12] = {0xab, 0xcd,	  0x84, 0x00,	     0, (uint8_t)qd,
			       0,    (uint8_t)an, 0,	(uint8_t)ns, 0, (uint8_t)ar};
	memcpy(m, h, 12);
	return 12;
}

static const uint8_t q_x_txt[] = {1, 'x', 0, 0, 16, 0, 1}; /* x. TXT IN */

static void parse_hostile_messages(void **state)
{
	(void)state;
	uint8_t m[256] = {0};
	size_t n;
	ldns_pkt *p = NULL;
	struct zw_error err = {0};

	/* shorter than a header */
	assert_int_equal(zw_dns_parse(&p, m, 5, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "message of 5 octets is shorter than a header");
	assert_null(p);

	/* a compression pointer to itself */
	n = hdr(m, 1, 1, 0, 0);
	memcpy(m + n, q_x_txt, sizeof(q_x_txt));
	n += sizeof(q_x_txt);
	m[n] = 0xc0, m[n + 1] = (uint8_t)n;
	n += 2;
	memcpy(m + n, "\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x02\x01x", 12);
	n += 12;
	zw_error_clear(&err);
	assert_int_equal(zw_dns_parse(&p, m, n, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "answer section, record 1 of 1: Invalid compression pointer");

	/* a pointer past the end */
	m[19] = 0xcf, m[20] = 0xff;
	zw_error_clear(&err);
	assert_int_equal(zw_dns_parse(&p, m, n, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "answer section, record 1 of 1: Invalid compression pointer");

	/* a valid one, then lying counts and a cut record */
	m[19] = 0xc0, m[20] = 12;
	zw_error_clear(&err);
	assert_int_equal(zw_dns_parse(&p, m, n, &err), 0);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_true(ldns_pkt_aa(p));
	ldns_pkt_free(p);
	m[7] = 9;
	zw_error_clear(&err);
	assert_int_equal(zw_dns_parse(&p, m, n, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "answer section, record 2 of 9: Packet size overflow");
	m[7] = 1;
	zw_error_clear(&err);
	assert_int_equal(zw_dns_parse(&p, m, n - 3, &err), ZW_EINVAL);

	/* two OPT records */
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	m[11] = 2;
	memcpy(m + n, opt, sizeof(opt));
	memcpy(m + n + sizeof(opt), opt, sizeof(opt));
	zw_error_clear(&err);
	assert_int_equal(zw_dns_parse(&p, m, n + 2 * sizeof(opt), &err), ZW_EINVAL);
	assert_string_equal(err.msg, "more than one opt record (rfc 6891 §6.1.1)");
	/* one OPT is EDNS */
	m[11] = 1;
	assert_int_equal(zw_dns_parse(&p, m, n + sizeof(opt), &err), 0);
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);

	/* two TSIG records are kept as additional data (ldns alone would leak one) */
	static const uint8_t tsig[] = {0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
	m[11] = 2;
	memcpy(m + n, tsig, sizeof(tsig));
	memcpy(m + n + sizeof(tsig), tsig, sizeof(tsig));
	assert_int_equal(zw_dns_parse(&p, m, n + 2 * sizeof(tsig), &err), 0);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_additional(p)), 2);
	ldns_pkt_free(p);
}

static void match_rules(void **state)
{
	(void)state;
	uint8_t m[64] = {0};
	size_t n = hdr(m, 1, 0, 0, 0);
	ldns_pkt *p = NULL;
	char why[64];

	memcpy(m + n, q_x_txt, sizeof(q_x_txt));
	n += sizeof(q_x_txt);
	assert_int_equal(zw_dns_parse(&p, m, n, NULL), 0);
	assert_int_equal(zw_dns_match(p, 0xabcd, "X.", LDNS_RR_TYPE_TXT, why, sizeof(why)), 0);
	assert_int_equal(zw_dns_match(p, 0xabce, "x.", LDNS_RR_TYPE_TXT, why, sizeof(why)), -1);
	assert_string_equal(why, "wrong id");
	assert_int_equal(zw_dns_match(p, 0xabcd, "y.", LDNS_RR_TYPE_TXT, why, sizeof(why)), -1);
	assert_string_equal(why, "wrong question");
	assert_int_equal(zw_dns_match(p, 0xabcd, "x.", LDNS_RR_TYPE_A, why, sizeof(why)), -1);
	assert_string_equal(why, "wrong question");
	ldns_pkt_set_qr(p, false);
	assert_int_equal(zw_dns_match(p, 0xabcd, "x.", LDNS_RR_TYPE_TXT, why, sizeof(why)), -1);
	assert_string_equal(why, "not a response (qr=0)");
	ldns_pkt_free(p);

	/* FORMERR without a question is accepted (old servers drop it); NOERROR is not */
	n = hdr(m, 0, 0, 0, 0);
	m[3] = 1;
	assert_int_equal(zw_dns_parse(&p, m, n, NULL), 0);
	assert_int_equal(zw_dns_match(p, 0xabcd, "x.", LDNS_RR_TYPE_TXT, why, sizeof(why)), 0);
	ldns_pkt_free(p);
	m[3] = 0;
	assert_int_equal(zw_dns_parse(&p, m, n, NULL), 0);
	assert_int_equal(zw_dns_match(p, 0xabcd, "x.", LDNS_RR_TYPE_TXT, why, sizeof(why)), -1);
	assert_string_equal(why, "no question section");
	ldns_pkt_free(p);
}

/* ---- an in-process responder ---- */

struct responder {
	int udp, tcp;
	uint16_t port;
	volatile int stop;
	volatile int udp_seen; /* datagrams received */
	pthread_t th;
};

/*
 * Answers by the first label: "silent" nothing; "badid" a wrong ID; "tc" TC=1 over UDP
 * and the full answer over TCP; "refused" REFUSED; anything else one A 192.0.2.1.
 */
static size_t respond(uint8_t *out, size_t cap, const uint8_t *q, size_t qn, int tcp)
{
	ldns_pkt *in = NULL, *ans = NULL;
	ldns_buffer *b = NULL;
	ldns_rr *rr = NULL;
	size_t n = 0;
	char label[64] = "";

	if (ldns_wire2pkt(&in, q, qn) != LDNS_STATUS_OK)
		return 0;
	const ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(in), 0);
	const ldns_rdf *qname = ldns_rr_owner(qr);
	if (ldns_rdf_size(qname) > 1) {
		size_t l = ldns_rdf_data(qname)[0];
		memcpy(label, ldns_rdf_data(qname) + 1, l < 63 ? l : 63);
	}
	if (strcmp(label, "silent") == 0)
		goto out;
	ans = ldns_pkt_new();
	ldns_pkt_set_id(ans, strcmp(label, "badid") == 0 ? (uint16_t)(ldns_pkt_id(in) + 1) : ldns_pkt_id(in));
	ldns_pkt_set_qr(ans, true);
	ldns_pkt_set_aa(ans, true);
	ldns_pkt_push_rr(ans, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	if (strcmp(label, "refused") == 0) {
		ldns_pkt_set_rcode(ans, LDNS_RCODE_REFUSED);
	} else if (strcmp(label, "tc") == 0 && !tcp) {
		ldns_pkt_set_tc(ans, true);
	} else {
		char *owner = ldns_rdf2str(qname);
		char line[512];
		snprintf(line, sizeof(line), "%s 60 IN A 192.0.2.1", owner);
		ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
		ldns_pkt_push_rr(ans, LDNS_SECTION_ANSWER, rr);
		LDNS_FREE(owner);
	}
	b = ldns_buffer_new(512);
	if (ldns_pkt2buffer_wire(b, ans) == LDNS_STATUS_OK && ldns_buffer_position(b) <= cap) {
		n = ldns_buffer_position(b);
		memcpy(out, ldns_buffer_begin(b), n);
	}
out:
	ldns_buffer_free(b);
	ldns_pkt_free(ans);
	ldns_pkt_free(in);
	return n;
}

static void *responder_main(void *arg)
{
	struct responder *r = arg;
	uint8_t in[4096], out[4096];

	while (!r->stop) {
		struct pollfd p[2] = {{r->udp, POLLIN, 0}, {r->tcp, POLLIN, 0}};
		if (poll(p, 2, 20) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(r->udp, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
			if (n > 0) {
				r->udp_seen++;
				size_t an = respond(out, sizeof(out), in, (size_t)n, 0);
				if (an)
					sendto(r->udp, out, an, 0, (struct sockaddr *)&from, fl);
			}
		}
		if (p[1].revents & POLLIN) {
			int c = accept(r->tcp, NULL, NULL);
			uint8_t len[2];
			if (c >= 0 && recv(c, len, 2, MSG_WAITALL) == 2) {
				size_t ql = ((size_t)len[0] << 8) | len[1];
				if (recv(c, in, ql, MSG_WAITALL) == (ssize_t)ql) {
					size_t an = respond(out + 2, sizeof(out) - 2, in, ql, 1);
					out[0] = (uint8_t)(an >> 8), out[1] = (uint8_t)an;
					if (an)
						send(c, out, an + 2, MSG_NOSIGNAL);
				}
			}
			if (c >= 0)
				close(c);
		}
	}
	return NULL;
}

static int responder_start(void **state)
{
	struct responder *r = zw_calloc(1, sizeof(*r));
	int one = 1;
	if (!r)
		return -1;
	/* UDP and TCP on one port: an ephemeral UDP port whose TCP twin may be taken by
	 * another process's connection, so try a few */
	for (int attempt = 0; attempt < 20; attempt++) {
		struct sockaddr_in sin = {0};
		socklen_t sl = sizeof(sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r->udp = socket(AF_INET, SOCK_DGRAM, 0);
		r->tcp = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(r->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (r->udp >= 0 && r->tcp >= 0 && bind(r->udp, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    getsockname(r->udp, (struct sockaddr *)&sin, &sl) == 0 &&
		    bind(r->tcp, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(r->tcp, 8) == 0) {
			r->port = ntohs(sin.sin_port);
			pthread_create(&r->th, NULL, responder_main, r);
			*state = r;
			return 0;
		}
		if (r->udp >= 0)
			close(r->udp);
		if (r->tcp >= 0)
			close(r->tcp);
	}
	zw_free(r);
	return -1;
}

static int responder_stop(void **state)
{
	struct responder *r = *state;
	r->stop = 1;
	pthread_join(r->th, NULL);
	close(r->udp);
	close(r->tcp);
	zw_free(r);
	return 0;
}

struct got {
	int calls;
	enum zw_dns_status status;
	enum zw_dns_transport transport;
	int truncated;
	int rcode;
	size_t an;
	char reason[ZW_DNS_REASON_MAX];
	struct zw_dns_loop *loop; /* for the callback that asks again */
	const struct zw_dns_addr *again;
};

static void on_result(void *arg, const struct zw_dns_result *res)
{
	struct got *g = arg;
	g->calls++;
	g->status = res->status;
	g->transport = res->transport;
	g->truncated = res->truncated;
	g->rcode = res->pkt ? (int)ldns_pkt_get_rcode(res->pkt) : -1;
	g->an = res->pkt ? ldns_rr_list_rr_count(ldns_pkt_answer(res->pkt)) : 0;
	snprintf(g->reason, sizeof(g->reason), "%s", res->reason);
	if (g->again) {
		const struct zw_dns_addr *a = g->again;
		g->again = NULL;
		assert_int_equal(zw_dns_query(g->loop, a, "second.test.", LDNS_RR_TYPE_A, on_result, g, NULL),
				 0);
	}
}

static struct zw_dns_addr local(const struct responder *r)
{
	struct zw_dns_addr a;
	assert_int_equal(zw_dns_addr_parse(&a, "127.0.0.1", r->port, NULL), 0);
	return a;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void loop_answers_and_cache(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	struct zw_dns_opts o = {.timeout_ms = 300, .udp_tries = 2};
	struct zw_dns_loop *l = NULL;
	struct got g1 = {0}, g2 = {0}, g3 = {0};

	assert_int_equal(zw_dns_loop_new(&l, &o, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "www.test", LDNS_RR_TYPE_A, on_result, &g1, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "WWW.test.", LDNS_RR_TYPE_A, on_result, &g2, NULL), 0);
	assert_int_equal(g1.calls, 0); /* never called from zw_dns_query */
	assert_int_equal(zw_dns_run(l, NULL), 0);
	assert_int_equal(g1.calls, 1);
	assert_int_equal(g2.calls, 1);
	assert_int_equal(g1.status, ZW_DNS_OK);
	assert_int_equal(g1.an, 1);
	assert_int_equal(g2.an, 1);
	assert_int_equal(zw_dns_sent(l), 1);
	/* asked again after the answer: from the cache, nothing sent */
	int seen = r->udp_seen;
	assert_int_equal(zw_dns_query(l, &a, "www.test.", LDNS_RR_TYPE_A, on_result, &g3, NULL), 0);
	assert_int_equal(zw_dns_run(l, NULL), 0);
	assert_int_equal(g3.calls, 1);
	assert_int_equal(g3.an, 1);
	assert_int_equal(r->udp_seen, seen);
	assert_int_equal(zw_dns_sent(l), 1);
	zw_dns_loop_free(l);
}

static void loop_tc_refused_timeout_badid(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	struct zw_dns_opts o = {.timeout_ms = 200, .udp_tries = 2};
	struct zw_dns_loop *l = NULL;
	struct got tc = {0}, refused = {0}, silent = {0}, badid = {0};

	assert_int_equal(zw_dns_loop_new(&l, &o, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "tc.test.", LDNS_RR_TYPE_A, on_result, &tc, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "refused.test.", LDNS_RR_TYPE_A, on_result, &refused, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "silent.test.", LDNS_RR_TYPE_A, on_result, &silent, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "badid.test.", LDNS_RR_TYPE_A, on_result, &badid, NULL), 0);
	long long t0 = mono_ms();
	assert_int_equal(zw_dns_run(l, NULL), 0);
	long long took = mono_ms() - t0;
	assert_int_equal(tc.status, ZW_DNS_OK);
	assert_int_equal(tc.transport, ZW_DNS_TCP);
	assert_int_equal(tc.truncated, 1);
	assert_int_equal(tc.an, 1);
	assert_int_equal(refused.status, ZW_DNS_OK);
	assert_int_equal(refused.rcode, LDNS_RCODE_REFUSED);
	assert_int_equal(silent.status, ZW_DNS_TIMEOUT);
	assert_string_equal(silent.reason, "udp: no answer to 2 tries of 200 ms");
	assert_int_equal(badid.status, ZW_DNS_MISMATCH);
	assert_string_equal(badid.reason, "udp: no matching answer to 2 tries; 2 ignored (last: wrong id)");
	/* in parallel: the whole run takes about two timeouts, not four or eight */
	assert_true(took >= 380);
	assert_true(took < 1000);
	zw_dns_loop_free(l);
}

static void loop_inflight_budget_and_callbacks(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	struct zw_dns_opts o = {.timeout_ms = 300, .max_inflight = 1, .max_queries = 6};
	struct zw_dns_loop *l = NULL;
	struct got g[6];
	struct zw_error err = {0};
	char name[32];

	memset(g, 0, sizeof(g));
	assert_int_equal(zw_dns_loop_new(&l, &o, NULL), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d.test.", i);
		assert_int_equal(zw_dns_query(l, &a, name, LDNS_RR_TYPE_A, on_result, &g[i], NULL), 0);
	}
	g[0].loop = l;
	g[0].again = &a; /* its callback asks second.test.: the sixth question */
	assert_int_equal(zw_dns_run(l, NULL), 0);
	assert_int_equal(g[0].calls, 2);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].an, 1);
	}
	assert_int_equal(zw_dns_sent(l), 6);
	assert_int_equal(zw_dns_query(l, &a, "seventh.test.", LDNS_RR_TYPE_A, on_result, &g[5], &err),
			 ZW_ERATE);
	assert_string_equal(err.msg, "query budget of 6 questions spent");
	zw_error_clear(&err);
	assert_int_equal(zw_dns_query(l, &a, "bad..name", LDNS_RR_TYPE_A, on_result, &g[5], &err), ZW_EINVAL);
	zw_dns_loop_free(l);
}

static void loop_refused_port(void **state)
{
	(void)state;
	/* A port nobody listens on: ICMP port unreachable ends the query at once. */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = {0};
	socklen_t sl = sizeof(sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	close(s);
	struct zw_dns_addr a;
	assert_int_equal(zw_dns_addr_parse(&a, "127.0.0.1", ntohs(sin.sin_port), NULL), 0);
	struct zw_dns_loop *l = NULL;
	struct zw_dns_opts o = {.timeout_ms = 2000};
	struct got g = {0};
	assert_int_equal(zw_dns_loop_new(&l, &o, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "x.test.", LDNS_RR_TYPE_A, on_result, &g, NULL), 0);
	long long t0 = mono_ms();
	assert_int_equal(zw_dns_run(l, NULL), 0);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(g.status, ZW_DNS_NETWORK);
	assert_string_equal(g.reason, "udp: Connection refused");
	zw_dns_loop_free(l);
}

static int one_exchange(const struct zw_dns_addr *a)
{
	struct zw_dns_opts o = {.timeout_ms = 300};
	struct zw_dns_loop *l = NULL;
	struct got g = {0};
	int rc = zw_dns_loop_new(&l, &o, NULL);
	if (rc == 0)
		rc = zw_dns_query(l, a, "tc.test.", LDNS_RR_TYPE_A, on_result, &g, NULL);
	if (rc == 0)
		rc = zw_dns_query(l, a, "tc.test.", LDNS_RR_TYPE_A, on_result, &g, NULL);
	if (rc == 0)
		rc = zw_dns_run(l, NULL);
	zw_dns_loop_free(l);
	return rc;
}

static void loop_allocation_failures(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	ZW_FOR_EACH_ALLOC_FAILURE(one_exchange(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addr_parse_format_cmp),
		cmocka_unit_test(build_query_edns_and_plain),
		cmocka_unit_test(parse_hostile_messages),
		cmocka_unit_test(match_rules),
		cmocka_unit_test_setup_teardown(loop_answers_and_cache, responder_start, responder_stop),
		cmocka_unit_test_setup_teardown(loop_tc_refused_timeout_badid, responder_start,
						responder_stop),
		cmocka_unit_test_setup_teardown(loop_inflight_budget_and_callbacks, responder_start,
						responder_stop),
		cmocka_unit_test(loop_refused_port),
		cmocka_unit_test_setup_teardown(loop_allocation_failures, responder_start, responder_stop),
	};
	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
