/*
 * test_dns.c - unit tests of the DNS transport (reconcile/dns.c): addresses, query
 * building, names and rdata text against ldns, parsing hostile messages, answer
 * matching, and the poll loop against an in-process responder thread on 127.0.0.1 (an
 * ephemeral port, UDP and TCP): the cache, TC, timeouts, the socket pool's
 * demultiplexing (answers out of order, an answer from another port), statistics.
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
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

/* ---- names and text, the same as ldns's ---- */

static void names_as_ldns_reads_them(void **state)
{
	(void)state;
	uint8_t w[256];
	struct zw_dname d;

	assert_int_equal(zw_dns_name_wire(w, "."), 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(zw_dns_name_wire(w, "Ab.C"), 6);
	assert_memory_equal(w, "\2ab\1c\0", 6);
	assert_int_equal(zw_dns_name_wire(w, "a\\.b\\065."), 6);
	assert_memory_equal(w, "\4a.ba\0", 6);
	assert_int_equal(zw_dns_name_wire(w, "a..b"), -1);
	assert_int_equal(zw_dns_name_wire(w, ""), -1);
	assert_int_equal(zw_dns_name_wire(w, "a\\256"), -1);
	assert_int_equal(zw_dns_name_wire(w, "a\\1"), -1);
	assert_non_null(zw_dns_dname_init(&d, "WWW.Example.TEST"));
	assert_null(zw_dns_dname_init(&d, "a..b"));

	/* random strings: the same verdict and octets (folded) as ldns_dname_new_frm_str */
	srand(5452);
	for (int it = 0; it < 50000; it++) {
		char s[320];
		int n = rand() % (it % 9 == 0 ? 300 : 40);
		for (int i = 0; i < n; i++) {
			int r = rand() % 100;
			s[i] = r < 70	? "abcXYZ-_"[rand() % 8]
			       : r < 85 ? '.'
			       : r < 92 ? '\\'
			       : r < 99 ? (char)('0' + rand() % 10)
					: (char)(rand() % 255 + 1);
		}
		s[n] = '\0';
		ldns_rdf *r = ldns_dname_new_frm_str(s);
		int k = zw_dns_name_wire(w, s);
		assert_int_equal(r != NULL, k >= 0);
		if (r) {
			assert_int_equal((size_t)k, ldns_rdf_size(r));
			for (int i = 0; i < k; i++) {
				uint8_t c = ldns_rdf_data(r)[i];
				assert_int_equal(c >= 'A' && c <= 'Z' ? c + 32 : c, w[i]);
			}
		}
		ldns_rdf_deep_free(r);
	}
}

static void text_as_ldns_writes_it(void **state)
{
	(void)state;
	char mine[2048];

	srand(6891);
	for (int it = 0; it < 20000; it++) {
		uint8_t d[300];
		size_t p = 0;
		int labels = rand() % 5;
		for (int k = 0; k < labels; k++) {
			int len = 1 + rand() % 20;
			d[p++] = (uint8_t)len;
			for (int i = 0; i < len; i++)
				d[p++] = (uint8_t)(rand() % 256);
		}
		d[p++] = 0;
		ldns_rdf *r = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, p, d);
		char *want = ldns_rdf2str(r);
		long n = zw_dns_rdf_text(mine, sizeof(mine), r);
		assert_true(n >= 0 && (size_t)n < sizeof(mine));
		mine[n] = '\0';
		assert_string_equal(mine, want);
		/* zw_dns_dname_str: the same, lower case */
		for (char *c = want; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		char *low = zw_dns_dname_str(r);
		assert_string_equal(low, want);
		zw_free(low);
		free(want);
		ldns_rdf_deep_free(r);

		d[0] = (uint8_t)(rand() % 256);
		for (int i = 1; i <= d[0]; i++)
			d[i] = (uint8_t)(rand() % 256);
		r = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, (size_t)d[0] + 1, d);
		want = ldns_rdf2str(r);
		n = zw_dns_rdf_text(mine, sizeof(mine), r);
		assert_true(n >= 0 && (size_t)n < sizeof(mine));
		mine[n] = '\0';
		assert_string_equal(mine, want);
		/* a buffer too small: the length still, and only what fits */
		assert_int_equal(zw_dns_rdf_text(mine, 3, r), n);
		free(want);
		ldns_rdf_deep_free(r);

		static const ldns_rdf_type types[] = {LDNS_RDF_TYPE_INT32, LDNS_RDF_TYPE_PERIOD,
						      LDNS_RDF_TYPE_A,	   LDNS_RDF_TYPE_INT16,
						      LDNS_RDF_TYPE_INT8,  LDNS_RDF_TYPE_AAAA};
		static const size_t sizes[] = {4, 4, 4, 2, 1, 16};
		for (size_t t = 0; t < 6; t++) {
			for (size_t i = 0; i < sizes[t]; i++)
				d[i] = (uint8_t)(rand() % 256);
			r = ldns_rdf_new_frm_data(types[t], sizes[t], d);
			want = ldns_rdf2str(r);
			n = zw_dns_rdf_text(mine, sizeof(mine), r);
			mine[n] = '\0';
			assert_string_equal(mine, want);
			free(want);
			ldns_rdf_deep_free(r);
		}
	}
}

static void dname_eq_and_below(void **state)
{
	(void)state;
	struct zw_dname a, b, c, root;
	const ldns_rdf *x = zw_dns_dname_init(&a, "Mail.Example.test.");
	const ldns_rdf *y = zw_dns_dname_init(&b, "mail.example.TEST");
	const ldns_rdf *z = zw_dns_dname_init(&c, "example.test");
	const ldns_rdf *r = zw_dns_dname_init(&root, ".");

	assert_true(zw_dns_dname_eq(x, y));
	assert_false(zw_dns_dname_eq(x, z));
	assert_true(zw_dns_dname_at_or_below(x, z));
	assert_true(zw_dns_dname_at_or_below(z, z));
	assert_true(zw_dns_dname_at_or_below(z, r));
	assert_false(zw_dns_dname_at_or_below(z, x));
	/* a label that only ends like the zone is not below it */
	struct zw_dname d;
	assert_false(zw_dns_dname_at_or_below(zw_dns_dname_init(&d, "badexample.test"), z));
	assert_false(zw_dns_dname_eq(x, NULL));
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

/* zw_dns_parse_fast against zw_dns_parse: on real-looking answers (compressed names, every
 * type it reads: SOA, MX, SRV, TXT of several strings, SPF, A/AAAA glue, NS, CNAME, PTR,
 * DNAME; OPT; types left to ldns) and on 200 000
 * mutations of them, the fast reading accepts only what zw_dns_parse accepts and reads
 * it the same. */
static uint8_t *answer_wire(size_t *n, const char *const *rrs, size_t nrrs, int edns)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = NULL;
	uint8_t *w = NULL;
	assert_int_equal(ldns_rr_new_question_frm_str(&q, "b00001.test. IN TXT", NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
	for (size_t i = 0; i < nrrs; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i] + 2, 300, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_section sec = rrs[i][0] == 'n'	  ? LDNS_SECTION_ANSWER
				       : rrs[i][0] == 'u' ? LDNS_SECTION_AUTHORITY
							  : LDNS_SECTION_ADDITIONAL;
		ldns_pkt_push_rr(p, sec, rr);
	}
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_id(p, 4242);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 1232);
	assert_int_equal(ldns_pkt2wire(&w, p, n), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return w;
}

static int fast_vs_ldns(const uint8_t *w, size_t n)
{
	ldns_pkt *a = NULL, *b = NULL;
	int fast = zw_dns_parse_fast(&b, w, n);
	int rc = zw_dns_parse(&a, w, n, NULL);
	assert_true(fast >= 0);
	if (rc != 0)
		assert_int_equal(fast, 0);
	else if (fast)
		assert_int_equal(zw_dns_pkt_same(a, b), 1);
	ldns_pkt_free(a);
	zw_free(b);
	return fast;
}

static void parse_fast_as_ldns(void **state)
{
	(void)state;
	static const char *const world[] = {
		"n b00001.test. 300 IN TXT \"v=spf1 include:_spf.esp.test -all\" \"second\" \"\"",
		"n b00001.test. 300 IN MX 10 mx.esp.test.",
		"n b00001.test. 300 IN A 192.0.2.1",
		"n b00001.test. 300 IN AAAA 2001:db8::1",
		"n s1._domainkey.b00001.test. 300 IN CNAME s1.dkim.esp.test.",
		"u b00001.test. 300 IN SOA ns1.benchhost.test. hostmaster.benchhost.test. 1 3600 900 604800 "
		"300",
		"u b00001.test. 300 IN NS ns1.benchhost.test.",
		"u b00001.test. 300 IN NS ns2.benchhost.test.",
		"d ns1.benchhost.test. 300 IN A 127.0.0.5",
		"d ns2.benchhost.test. 300 IN AAAA ::1",
		"d b00001.test. 300 IN SRV 1 2 3 sip.b00001.test.",
		"d 1.2.0.192.in-addr.arpa. 300 IN PTR b00001.test.",
		"d sub.b00001.test. 300 IN DNAME other.test.",
		"d b00001.test. 300 IN SPF \"v=spf1 -all\"",
	};
	static const char *const other[] = {
		"n b00001.test. 300 IN CAA 0 issue \"ca.example\"",
		"n b00001.test. 300 IN DS 1 8 2 "
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	size_t n = 0, m = 0;
	uint8_t *w = answer_wire(&n, world, sizeof(world) / sizeof(world[0]), 1);
	uint8_t *o = answer_wire(&m, other, sizeof(other) / sizeof(other[0]), 0);
	uint8_t buf[1024];
	unsigned seed = 12345, accepted = 0;

	assert_int_equal(fast_vs_ldns(w, n), 1); /* the common types: read fast */
	assert_int_equal(fast_vs_ldns(o, m), 0); /* CAA, DS: left to ldns */
	/* larger than the scratch (records, then octets): sized first, read the same */
	char many[64][64], big[5200];
	const char *manyp[64], *bigp[1] = {big};
	for (size_t i = 0; i < 64; i++) {
		snprintf(many[i], sizeof(many[i]), "n h%zu.b00001.test. 300 IN A 192.0.2.%zu", i, i);
		manyp[i] = many[i];
	}
	size_t bo = (size_t)snprintf(big, sizeof(big), "n b00001.test. 300 IN TXT");
	for (size_t i = 0; i < 20; i++) {
		bo += (size_t)snprintf(big + bo, sizeof(big) - bo, " \"");
		memset(big + bo, 'a' + (int)i, 250);
		bo += 250;
		bo += (size_t)snprintf(big + bo, sizeof(big) - bo, "\"");
	}
	size_t n1 = 0, n2 = 0;
	uint8_t *w1 = answer_wire(&n1, manyp, 64, 1), *w2 = answer_wire(&n2, bigp, 1, 1);
	assert_int_equal(fast_vs_ldns(w1, n1), 1);
	assert_int_equal(fast_vs_ldns(w2, n2), 1);
	free(w1);
	free(w2);
	for (unsigned i = 0; i < 200000; i++) {
		const uint8_t *src = i % 8 == 7 ? o : w;
		size_t len = i % 8 == 7 ? m : n;
		memcpy(buf, src, len);
		unsigned k = 1 + rand_r(&seed) % 4;
		for (unsigned j = 0; j < k; j++) {
			unsigned r = (unsigned)rand_r(&seed);
			size_t at = (size_t)r % len;
			switch ((r >> 16) % 4) {
			case 0: buf[at] = (uint8_t)(r >> 8); break;
			case 1: buf[at] ^= (uint8_t)(1u << ((r >> 8) % 8)); break;
			case 2: buf[at] = (uint8_t)(0xc0 | ((r >> 8) & 1)); break;
			default: len = at > LDNS_HEADER_SIZE ? at : len; break;
			}
		}
		accepted += (unsigned)fast_vs_ldns(buf, len);
	}
	assert_true(accepted > 1000); /* the mutations do reach the fast reading */
	free(w);
	free(o);
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

#define HOLD_MAX 32

struct responder {
	int udp, tcp;
	int udp2; /* another port on the same address */
	uint16_t port;
	volatile int stop;
	volatile int udp_seen; /* datagrams received */
	/* "hold" queries: kept until hold_n have come, then answered last first */
	int hold_n;
	int nheld;
	struct {
		uint8_t q[512];
		size_t n;
		struct sockaddr_in from;
	} held[HOLD_MAX];
	volatile uint16_t held_port[HOLD_MAX]; /* their source ports, in arrival order */
	pthread_t th;
};

/* One query's first label (lower case as sent). */
static void first_label(char *label, size_t cap, const ldns_rdf *qname)
{
	label[0] = '\0';
	if (ldns_rdf_size(qname) > 1) {
		size_t l = ldns_rdf_data(qname)[0];
		if (l > cap - 1)
			l = cap - 1;
		memcpy(label, ldns_rdf_data(qname) + 1, l);
		label[l] = '\0';
	}
}

/*
 * Answers by the first label: "silent" nothing; "badid" a wrong ID; "tc" TC=1 over UDP
 * and the full answer over TCP; "refused" REFUSED; "nx" NXDOMAIN; "holdN" one A
 * 192.0.2.N; anything else one A 192.0.2.1 (or `addr` when not NULL).
 */
static size_t respond(uint8_t *out, size_t cap, const uint8_t *q, size_t qn, int tcp, const char *addr)
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
	first_label(label, sizeof(label), qname);
	if (strcmp(label, "silent") == 0)
		goto out;
	ans = ldns_pkt_new();
	ldns_pkt_set_id(ans, strcmp(label, "badid") == 0 ? (uint16_t)(ldns_pkt_id(in) + 1) : ldns_pkt_id(in));
	ldns_pkt_set_qr(ans, true);
	ldns_pkt_set_aa(ans, true);
	ldns_pkt_push_rr(ans, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	if (strcmp(label, "refused") == 0) {
		ldns_pkt_set_rcode(ans, LDNS_RCODE_REFUSED);
	} else if (strcmp(label, "nx") == 0) {
		ldns_pkt_set_rcode(ans, LDNS_RCODE_NXDOMAIN);
	} else if (strcmp(label, "tc") == 0 && !tcp) {
		ldns_pkt_set_tc(ans, true);
	} else {
		char *owner = ldns_rdf2str(qname);
		char line[512], a[32] = "192.0.2.1";
		if (strncmp(label, "hold", 4) == 0)
			snprintf(a, sizeof(a), "192.0.2.%ld", strtol(label + 4, NULL, 10) & 0xff);
		snprintf(line, sizeof(line), "%s 60 IN A %s", owner, addr ? addr : a);
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
			char label[64] = "";
			if (n > 12 && (size_t)in[12] < sizeof(label) && 13 + (size_t)in[12] <= (size_t)n) {
				memcpy(label, in + 13, in[12]);
				label[in[12]] = '\0';
			}
			if (n > 0 && strncmp(label, "hold", 4) == 0 && r->nheld < HOLD_MAX &&
			    (size_t)n <= 512) {
				/* keep it; when hold_n have come, answer them last first */
				r->udp_seen++;
				memcpy(r->held[r->nheld].q, in, (size_t)n);
				r->held[r->nheld].n = (size_t)n;
				r->held[r->nheld].from = from;
				r->held_port[r->nheld] = ntohs(from.sin_port);
				if (++r->nheld == r->hold_n) {
					for (int k = r->nheld - 1; k >= 0; k--) {
						size_t an = respond(out, sizeof(out), r->held[k].q,
								    r->held[k].n, 0, NULL);
						sendto(r->udp, out, an, 0,
						       (struct sockaddr *)&r->held[k].from,
						       sizeof(r->held[k].from));
					}
				}
			} else if (n > 0) {
				r->udp_seen++;
				if (strcmp(label, "wrongport") == 0) {
					/* our answer, with our ID and question, from another port first */
					size_t an =
						respond(out, sizeof(out), in, (size_t)n, 0, "198.51.100.66");
					sendto(r->udp2, out, an, 0, (struct sockaddr *)&from, fl);
					usleep(20000);
				}
				size_t an = respond(out, sizeof(out), in, (size_t)n, 0, NULL);
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
					size_t an = respond(out + 2, sizeof(out) - 2, in, ql, 1, NULL);
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
			struct sockaddr_in other = sin;
			other.sin_port = 0;
			r->udp2 = socket(AF_INET, SOCK_DGRAM, 0);
			assert_int_equal(bind(r->udp2, (struct sockaddr *)&other, sizeof(other)), 0);
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
	close(r->udp2);
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
	unsigned ignored;
	char a[64]; /* the first answer record's rdata */
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
	g->ignored = res->ignored;
	g->a[0] = '\0';
	if (g->an) {
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(res->pkt), 0);
		char *t = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		snprintf(g->a, sizeof(g->a), "%s", t ? t : "");
		free(t);
	}
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
	/* no timing assertion (they flake on a loaded machine): the reasons above say how
	 * many tries each query made; the time is only printed */
	print_message("four queries in parallel, two of them timing out twice: %lld ms\n", took);
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

/*
 * More queries than the pool has sockets, all held by the responder and answered last
 * first: some socket carries several queries at once and gets their answers out of
 * order; each query still gets its own answer (the address encodes the name).
 */
static void loop_pool_answers_out_of_order(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	struct zw_dns_opts o = {.timeout_ms = 3000, .udp_tries = 1};
	struct zw_dns_loop *l = NULL;
	enum { N = 2 * ZW_DNS_POOL };
	struct got g[N];
	char name[32], want[32];

	memset(g, 0, sizeof(g));
	r->hold_n = N;
	assert_int_equal(zw_dns_loop_new(&l, &o, NULL), 0);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "hold%d.test.", i + 1);
		assert_int_equal(zw_dns_query(l, &a, name, LDNS_RR_TYPE_A, on_result, &g[i], NULL), 0);
	}
	assert_int_equal(zw_dns_run(l, NULL), 0);
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "192.0.2.%d", i + 1);
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].status, ZW_DNS_OK);
		assert_int_equal(g[i].ignored, 0);
		assert_string_equal(g[i].a, want);
	}
	/* more queries than sockets: at least two shared a source port (and were answered
	 * in the reverse of the order they were sent) */
	assert_int_equal(r->nheld, N);
	int shared = 0;
	for (int i = 0; i < N; i++)
		for (int k = i + 1; k < N; k++)
			shared += r->held_port[i] == r->held_port[k];
	assert_true(shared > 0);
	zw_dns_loop_free(l);
}

/* Our ID and question from the server's address but another port: ignored, and the
 * real answer (from the right port, just after) is the one taken. */
static void loop_answer_from_another_port(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	struct zw_dns_opts o = {.timeout_ms = 2000, .udp_tries = 1};
	struct zw_dns_loop *l = NULL;
	struct got g = {0};

	assert_int_equal(zw_dns_loop_new(&l, &o, NULL), 0);
	assert_int_equal(zw_dns_query(l, &a, "wrongport.test.", LDNS_RR_TYPE_A, on_result, &g, NULL), 0);
	assert_int_equal(zw_dns_run(l, NULL), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, ZW_DNS_OK);
	assert_string_equal(g.a, "192.0.2.1");
	assert_int_equal(g.ignored, 1);
	assert_string_equal(g.reason,
			    "1 answers ignored before this one (last: answer from another address)");
	zw_dns_loop_free(l);
}

static void stats_names(void **state)
{
	(void)state;
	assert_string_equal(zw_dns_rcode_name(0), "NOERROR");
	assert_string_equal(zw_dns_rcode_name(1), "FORMERR");
	assert_string_equal(zw_dns_rcode_name(2), "SERVFAIL");
	assert_string_equal(zw_dns_rcode_name(3), "NXDOMAIN");
	assert_string_equal(zw_dns_rcode_name(4), "NOTIMPL");
	assert_string_equal(zw_dns_rcode_name(5), "REFUSED");
	assert_string_equal(zw_dns_rcode_name(10), "NOTZONE");
	assert_string_equal(zw_dns_rcode_name(11), "RCODE11");
	assert_string_equal(zw_dns_rcode_name(15), "RCODE15");
	assert_string_equal(zw_dns_rcode_name(ZW_DNS_RCODES), "OTHER");
	assert_null(zw_dns_rcode_name(ZW_DNS_RCODES + 1));
}

struct stats_run {
	const struct zw_dns_addr *a;
	struct zw_dns_stats *stats;
	int rc;
};

/* One loop: two answered, one NXDOMAIN, one REFUSED, one silent, one with a wrong ID;
 * the first asked twice (from the cache the second time: counted once). */
static void *stats_loop(void *arg)
{
	struct stats_run *sr = arg;
	struct zw_dns_opts o = {.timeout_ms = 200, .udp_tries = 1, .stats = sr->stats};
	struct zw_dns_loop *l = NULL;
	struct got g[7];
	static const char *const names[] = {"a.test.",	     "a.test.",	     "b.test.",	   "nx.test.",
					    "refused.test.", "silent.test.", "badid.test."};

	memset(g, 0, sizeof(g));
	sr->rc = zw_dns_loop_new(&l, &o, NULL);
	for (int i = 0; sr->rc == 0 && i < 7; i++)
		sr->rc = zw_dns_query(l, sr->a, names[i], LDNS_RR_TYPE_A, on_result, &g[i], NULL);
	if (sr->rc == 0)
		sr->rc = zw_dns_run(l, NULL);
	zw_dns_loop_free(l);
	return NULL;
}

static void loop_stats_shared_by_threads(void **state)
{
	struct responder *r = *state;
	struct zw_dns_addr a = local(r);
	struct zw_dns_stats st, snap;
	struct stats_run runs[3];
	pthread_t th[3];

	memset(&st, 0, sizeof(st));
	/* one loop first, then three at once on threads, all into the same counters */
	runs[0] = (struct stats_run){&a, &st, -1};
	stats_loop(&runs[0]);
	assert_int_equal(runs[0].rc, 0);
	zw_dns_stats_read(&snap, &st);
	assert_int_equal(snap.rcode[LDNS_RCODE_NOERROR], 2);
	assert_int_equal(snap.rcode[LDNS_RCODE_NXDOMAIN], 1);
	assert_int_equal(snap.rcode[LDNS_RCODE_REFUSED], 1);
	assert_int_equal(snap.timeout, 1);
	assert_int_equal(snap.mismatch, 1);
	assert_int_equal(snap.network + snap.malformed + snap.rcode_other, 0);

	for (int i = 0; i < 3; i++) {
		runs[i] = (struct stats_run){&a, &st, -1};
		assert_int_equal(pthread_create(&th[i], NULL, stats_loop, &runs[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(runs[i].rc, 0);
	}
	zw_dns_stats_read(&snap, &st);
	assert_int_equal(snap.rcode[LDNS_RCODE_NOERROR], 8);
	assert_int_equal(snap.rcode[LDNS_RCODE_NXDOMAIN], 4);
	assert_int_equal(snap.rcode[LDNS_RCODE_REFUSED], 4);
	assert_int_equal(snap.timeout, 4);
	assert_int_equal(snap.mismatch, 4);
	uint64_t total = snap.rcode_other + snap.timeout + snap.network + snap.malformed + snap.mismatch;
	for (int i = 0; i < ZW_DNS_RCODES; i++)
		total += snap.rcode[i];
	assert_int_equal(total, 24);
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
	assert_int_equal(zw_dns_run(l, NULL), 0);
	/* ended by the ICMP error, not by the 2 s timeout: the status says which */
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
		cmocka_unit_test(names_as_ldns_reads_them),
		cmocka_unit_test(text_as_ldns_writes_it),
		cmocka_unit_test(dname_eq_and_below),
		cmocka_unit_test(stats_names),
		cmocka_unit_test(parse_hostile_messages),
		cmocka_unit_test(parse_fast_as_ldns),
		cmocka_unit_test(match_rules),
		cmocka_unit_test_setup_teardown(loop_answers_and_cache, responder_start, responder_stop),
		cmocka_unit_test_setup_teardown(loop_tc_refused_timeout_badid, responder_start,
						responder_stop),
		cmocka_unit_test_setup_teardown(loop_inflight_budget_and_callbacks, responder_start,
						responder_stop),
		cmocka_unit_test_setup_teardown(loop_pool_answers_out_of_order, responder_start,
						responder_stop),
		cmocka_unit_test_setup_teardown(loop_answer_from_another_port, responder_start,
						responder_stop),
		cmocka_unit_test_setup_teardown(loop_stats_shared_by_threads, responder_start,
						responder_stop),
		cmocka_unit_test(loop_refused_port),
		cmocka_unit_test_setup_teardown(loop_allocation_failures, responder_start, responder_stop),
	};
	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
