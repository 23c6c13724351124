/*
 * dns.c - the DNS transport: one poll() loop, non-blocking UDP then TCP, a per-loop cache.
 *
 * Owns: every struct query (one per distinct (server, name, type) asked on the loop,
 * kept in a hash table until the loop is freed: that is the cycle's cache), their
 * sockets, query wires, TCP read buffers and parsed answers, and the callbacks waiting
 * for them. ldns builds and parses the messages; this file only moves octets.
 *
 * Invariants: a query is in exactly one of the states below; it has a socket only in
 * the UDP and TCP states, and at most opts.max_inflight queries do; a query in Q_DONE
 * never changes again; a waiter is either on its query's list (query not done) or on
 * the loop's ready list (to be called back by zw_dns_run), never both; every read is
 * bounded by what was received and by the 16-bit TCP length.
 */
#include "reconcile/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/alloc.h"

#define DEF_TIMEOUT_MS	1500
#define DEF_UDP_TRIES	3
#define DEF_INFLIGHT	64
#define DEF_MAX_QUERIES 50000
#define NBUCKETS	4096
#define UDP_BUFSIZE	65536

enum qstate {
	Q_QUEUED,      /* waiting for a free slot */
	Q_UDP,	       /* datagram sent, waiting for an answer */
	Q_TCP_CONNECT, /* non-blocking connect in progress */
	Q_TCP_WRITE,   /* sending the length-prefixed query */
	Q_TCP_READ,    /* reading the 2-octet length, then the message */
	Q_DONE,
};

struct waiter {
	zw_dns_cb *cb;
	void *arg;
	struct query *q;
	struct waiter *next;
};

struct query {
	struct query *hnext; /* hash chain: every query of the loop */
	struct query *qnext; /* the start queue */
	struct zw_dns_addr server;
	char *qname; /* absolute, lower case */
	uint16_t qtype;
	enum qstate state;
	int fd;
	uint16_t id;
	int no_edns;
	uint8_t *wire;	/* 2-octet TCP length, then the message */
	size_t wirelen; /* message length, without the prefix */
	unsigned tries;
	long long deadline; /* monotonic ms */
	size_t io_off;	    /* TCP: octets written, or read of the current part */
	uint8_t lenbuf[2];
	uint8_t *rbuf; /* TCP answer, rlen octets */
	size_t rlen;
	int have_len;
	char last_ignored[96]; /* why the last ignored answer was ignored */
	char reason[ZW_DNS_REASON_MAX];
	struct zw_dns_result res;
	ldns_pkt *pkt;
	struct waiter *waiters, **wtail;
};

struct zw_dns_loop {
	struct zw_dns_opts o;
	struct query *buckets[NBUCKETS];
	struct query *qhead, *qtail; /* Q_QUEUED, in order */
	struct query **active;	     /* max_inflight slots */
	size_t nactive;
	struct pollfd *pfds;
	struct waiter *rhead, **rtail; /* ready to be called back */
	size_t nqueries;
	size_t nsent;
	int rc; /* sticky: ZW_ENOMEM seen inside the loop */
	uint8_t *udpbuf;
};

/* ---- addresses ---- */

int zw_dns_addr_parse(struct zw_dns_addr *out, const char *s, uint16_t port, struct zw_error *err)
{
	memset(out, 0, sizeof(*out));
	out->port = port;
	if (inet_pton(AF_INET, s, out->ip) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->ip) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return zw_error_set(err, ZW_EINVAL, "'%s' is not an ipv4 or ipv6 address", s);
}

int zw_dns_addr_from_rdata(struct zw_dns_addr *out, const void *rdata, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->port = ZW_DNS_PORT;
	if (len == 4)
		out->family = AF_INET;
	else if (len == 16)
		out->family = AF_INET6;
	else
		return ZW_EINVAL;
	memcpy(out->ip, rdata, len);
	return 0;
}

void zw_dns_addr_format(char *out, size_t outsz, const struct zw_dns_addr *a)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (outsz == 0)
		return;
	if (a->family == AF_INET || a->family == AF_INET6)
		inet_ntop(a->family, a->ip, ip, sizeof(ip));
	if (a->port == ZW_DNS_PORT)
		snprintf(out, outsz, "%s", ip);
	else
		snprintf(out, outsz, "%s#%u", ip, (unsigned)a->port);
}

int zw_dns_addr_cmp(const struct zw_dns_addr *a, const struct zw_dns_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	int c = memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16);
	if (c)
		return c < 0 ? -1 : 1;
	return (a->port > b->port) - (a->port < b->port);
}

static socklen_t to_sockaddr(struct sockaddr_storage *ss, const struct zw_dns_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->ip, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->ip, 16);
	return sizeof(*sin6);
}

static int same_source(const struct sockaddr_storage *ss, const struct zw_dns_addr *a)
{
	if (ss->ss_family != a->family)
		return 0;
	if (a->family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		return ntohs(sin->sin_port) == a->port && memcmp(&sin->sin_addr, a->ip, 4) == 0;
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	return ntohs(sin6->sin6_port) == a->port && memcmp(&sin6->sin6_addr, a->ip, 16) == 0;
}

/* ---- names and messages ---- */

const char *zw_dns_status_name(enum zw_dns_status s)
{
	static const char *const names[] = {
		[ZW_DNS_OK] = "ok",
		[ZW_DNS_TIMEOUT] = "timeout",
		[ZW_DNS_NETWORK] = "network",
		[ZW_DNS_MISMATCH] = "mismatch",
		[ZW_DNS_MALFORMED] = "malformed",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *zw_dns_transport_name(enum zw_dns_transport t)
{
	return t == ZW_DNS_TCP ? "tcp" : "udp";
}

char *zw_dns_dname_str(const ldns_rdf *dname)
{
	char *s = NULL;
	ldns_buffer *b;

	if (!dname || ldns_rdf_get_type(dname) != LDNS_RDF_TYPE_DNAME)
		return NULL;
	b = ldns_buffer_new(256);
	if (!b)
		return NULL;
	if (ldns_rdf2buffer_str_dname(b, dname) == LDNS_STATUS_OK && ldns_buffer_status_ok(b)) {
		size_t n = ldns_buffer_position(b);
		s = zw_strndup((const char *)ldns_buffer_begin(b), n);
		for (size_t i = 0; s && i < n; i++)
			if (s[i] >= 'A' && s[i] <= 'Z')
				s[i] = (char)(s[i] - 'A' + 'a');
	}
	ldns_buffer_free(b);
	return s;
}

/* Lower-case absolute copy of a presentation-form name ("" and "." are the root). */
static char *absolute_lower(const char *name)
{
	size_t n = strlen(name);
	int dot = n > 0 && name[n - 1] == '.' && !(n > 1 && name[n - 2] == '\\');
	char *s = zw_malloc(n + 2);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
	if (!dot)
		s[n++] = '.';
	s[n] = '\0';
	if (strcmp(s, "..") == 0)
		s[1] = '\0';
	return s;
}

int zw_dns_build_query(uint8_t **out, size_t *outlen, const char *qname, uint16_t qtype, uint16_t id,
		       int no_edns, struct zw_error *err)
{
	int rc = 0;
	ldns_pkt *pkt = NULL;
	ldns_buffer *b = NULL;
	ldns_rdf *dn = ldns_dname_new_frm_str(qname);

	*out = NULL;
	*outlen = 0;
	if (!dn || ldns_rdf_get_type(dn) != LDNS_RDF_TYPE_DNAME) {
		ldns_rdf_deep_free(dn);
		return zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", qname);
	}
	pkt = ldns_pkt_query_new(dn, (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, 0);
	b = ldns_buffer_new(512);
	if (!pkt || !b) {
		if (!pkt)
			ldns_rdf_deep_free(dn);
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_rd(pkt, false);
	if (!no_edns)
		ldns_pkt_set_edns_udp_size(pkt, ZW_DNS_EDNS_BUFSIZE);
	if (ldns_pkt2buffer_wire(b, pkt) != LDNS_STATUS_OK) {
		rc = zw_error_set(err, ZW_EINVAL, "cannot build a query for '%s'", qname);
		goto out;
	}
	*out = zw_memdup(ldns_buffer_begin(b), ldns_buffer_position(b));
	if (!*out) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	*outlen = ldns_buffer_position(b);
out:
	ldns_buffer_free(b);
	ldns_pkt_free(pkt);
	return rc;
}

struct section {
	ldns_pkt_section sec;
	const char *name;
};

static const struct section sections[] = {
	{LDNS_SECTION_QUESTION, "question"},
	{LDNS_SECTION_ANSWER, "answer"},
	{LDNS_SECTION_AUTHORITY, "authority"},
	{LDNS_SECTION_ADDITIONAL, "additional"},
};

static ldns_rr_list *section_list(ldns_pkt *p, ldns_pkt_section sec)
{
	switch (sec) {
	case LDNS_SECTION_QUESTION: return ldns_pkt_question(p);
	case LDNS_SECTION_ANSWER: return ldns_pkt_answer(p);
	case LDNS_SECTION_AUTHORITY: return ldns_pkt_authority(p);
	default: return ldns_pkt_additional(p);
	}
}

int zw_dns_parse(ldns_pkt **out, const uint8_t *wire, size_t len, struct zw_error *err)
{
	ldns_pkt *p;
	size_t pos = LDNS_HEADER_SIZE;
	unsigned counts[4];
	int have_opt = 0;

	*out = NULL;
	if (len < LDNS_HEADER_SIZE)
		return zw_error_set(err, ZW_EINVAL, "message of %zu octets is shorter than a header", len);
	p = ldns_pkt_new();
	if (!p)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	ldns_pkt_set_id(p, LDNS_ID_WIRE(wire));
	ldns_pkt_set_qr(p, LDNS_QR_WIRE(wire) != 0);
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)LDNS_OPCODE_WIRE(wire));
	ldns_pkt_set_aa(p, LDNS_AA_WIRE(wire) != 0);
	ldns_pkt_set_tc(p, LDNS_TC_WIRE(wire) != 0);
	ldns_pkt_set_rd(p, LDNS_RD_WIRE(wire) != 0);
	ldns_pkt_set_ra(p, LDNS_RA_WIRE(wire) != 0);
	ldns_pkt_set_ad(p, LDNS_AD_WIRE(wire) != 0);
	ldns_pkt_set_cd(p, LDNS_CD_WIRE(wire) != 0);
	ldns_pkt_set_rcode(p, LDNS_RCODE_WIRE(wire));
	counts[0] = LDNS_QDCOUNT(wire);
	counts[1] = LDNS_ANCOUNT(wire);
	counts[2] = LDNS_NSCOUNT(wire);
	counts[3] = LDNS_ARCOUNT(wire);

	for (size_t s = 0; s < 4; s++) {
		unsigned kept = 0;
		for (unsigned i = 0; i < counts[s]; i++) {
			ldns_rr *rr = NULL;
			ldns_status st = ldns_wire2rr(&rr, wire, len, &pos, sections[s].sec);
			if (st != LDNS_STATUS_OK) {
				ldns_pkt_free(p);
				return zw_error_set(err, ZW_EINVAL, "%s section, record %u of %u: %s",
						    sections[s].name, i + 1, counts[s],
						    ldns_get_errorstr_by_id(st));
			}
			if (sections[s].sec == LDNS_SECTION_ADDITIONAL &&
			    ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
				if (have_opt) {
					ldns_rr_free(rr);
					ldns_pkt_free(p);
					return zw_error_set(err, ZW_EINVAL,
							    "more than one opt record (rfc 6891 §6.1.1)");
				}
				uint32_t ttl = ldns_rr_ttl(rr);
				have_opt = 1;
				ldns_pkt_set_edns_udp_size(p, ldns_rr_get_class(rr));
				ldns_pkt_set_edns_extended_rcode(p, (uint8_t)(ttl >> 24));
				ldns_pkt_set_edns_version(p, (uint8_t)(ttl >> 16));
				ldns_pkt_set_edns_z(p, (uint16_t)ttl);
				ldns_rr_free(rr);
				continue;
			}
			if (!ldns_rr_list_push_rr(section_list(p, sections[s].sec), rr)) {
				ldns_rr_free(rr);
				ldns_pkt_free(p);
				return zw_error_set(err, ZW_ENOMEM, "out of memory");
			}
			kept++;
		}
		switch (sections[s].sec) {
		case LDNS_SECTION_QUESTION: ldns_pkt_set_qdcount(p, (uint16_t)kept); break;
		case LDNS_SECTION_ANSWER: ldns_pkt_set_ancount(p, (uint16_t)kept); break;
		case LDNS_SECTION_AUTHORITY: ldns_pkt_set_nscount(p, (uint16_t)kept); break;
		default: ldns_pkt_set_arcount(p, (uint16_t)kept); break;
		}
	}
	ldns_pkt_set_size(p, len);
	*out = p;
	return 0;
}

int zw_dns_match(const ldns_pkt *pkt, uint16_t id, const char *qname, uint16_t qtype, char *why, size_t whysz)
{
	const char *r = NULL;
	ldns_rdf *want = NULL;

	if (ldns_pkt_id(pkt) != id)
		r = "wrong id";
	else if (!ldns_pkt_qr(pkt))
		r = "not a response (qr=0)";
	else if (ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY)
		r = "wrong opcode";
	else if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) == 0) {
		/* Some servers drop the question in FORMERR (old EDNS-unaware ones). */
		if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_FORMERR)
			r = "no question section";
	} else if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1) {
		r = "more than one question";
	} else {
		const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
		want = ldns_dname_new_frm_str(qname);
		if (!want)
			r = "out of memory";
		else if (ldns_rr_get_type(q) != qtype || ldns_rr_get_class(q) != LDNS_RR_CLASS_IN ||
			 ldns_dname_compare(ldns_rr_owner(q), want) != 0)
			r = "wrong question";
	}
	ldns_rdf_deep_free(want);
	if (!r)
		return 0;
	if (why && whysz)
		snprintf(why, whysz, "%s", r);
	return -1;
}

/* ---- the loop ---- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int random_id(uint16_t *id)
{
	uint16_t v;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return -1;
	*id = v;
	return 0;
}

int zw_dns_loop_new(struct zw_dns_loop **out, const struct zw_dns_opts *opts, struct zw_error *err)
{
	struct zw_dns_loop *l = zw_calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (opts)
		l->o = *opts;
	if (!l->o.timeout_ms)
		l->o.timeout_ms = DEF_TIMEOUT_MS;
	if (!l->o.udp_tries)
		l->o.udp_tries = DEF_UDP_TRIES;
	if (!l->o.max_inflight)
		l->o.max_inflight = DEF_INFLIGHT;
	if (!l->o.max_queries)
		l->o.max_queries = DEF_MAX_QUERIES;
	l->rtail = &l->rhead;
	l->active = zw_calloc(l->o.max_inflight, sizeof(*l->active));
	l->pfds = zw_calloc(l->o.max_inflight, sizeof(*l->pfds));
	l->udpbuf = zw_malloc(UDP_BUFSIZE);
	if (!l->active || !l->pfds || !l->udpbuf) {
		zw_dns_loop_free(l);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

static void query_close(struct query *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

void zw_dns_loop_free(struct zw_dns_loop *l)
{
	if (!l)
		return;
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct query *q = l->buckets[b];
		while (q) {
			struct query *next = q->hnext;
			struct waiter *w = q->waiters;
			while (w) {
				struct waiter *wn = w->next;
				zw_free(w);
				w = wn;
			}
			query_close(q);
			ldns_pkt_free(q->pkt);
			zw_free(q->rbuf);
			zw_free(q->wire);
			zw_free(q->qname);
			zw_free(q);
			q = next;
		}
	}
	struct waiter *w = l->rhead;
	while (w) {
		struct waiter *wn = w->next;
		zw_free(w);
		w = wn;
	}
	zw_free(l->active);
	zw_free(l->pfds);
	zw_free(l->udpbuf);
	zw_free(l);
}

size_t zw_dns_sent(const struct zw_dns_loop *l)
{
	return l->nsent;
}

static unsigned hash_key(const struct zw_dns_addr *a, const char *qname, uint16_t qtype)
{
	uint32_t h = 2166136261u;
	const unsigned char *p = a->ip;
	for (int i = 0; i < 16; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ a->port) * 16777619u;
	for (const char *s = qname; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h = (h ^ qtype) * 16777619u;
	return h % NBUCKETS;
}

static void make_ready(struct zw_dns_loop *l, struct waiter *w)
{
	w->next = NULL;
	*l->rtail = w;
	l->rtail = &w->next;
}

/* The query ends: fill the result, hand its waiters to the ready list. */
static void finish(struct zw_dns_loop *l, struct query *q, enum zw_dns_status st, enum zw_dns_transport tr,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finish(struct zw_dns_loop *l, struct query *q, enum zw_dns_status st, enum zw_dns_transport tr,
		   const char *fmt, ...)
{
	query_close(q);
	zw_free(q->rbuf);
	q->rbuf = NULL;
	q->state = Q_DONE;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(q->reason, sizeof(q->reason), fmt, ap);
		va_end(ap);
	}
	q->res.status = st;
	q->res.transport = tr;
	q->res.reason = q->reason;
	q->res.pkt = st == ZW_DNS_OK ? q->pkt : NULL;
	q->res.server = &q->server;
	q->res.qname = q->qname;
	q->res.qtype = q->qtype;
	struct waiter *w = q->waiters;
	while (w) {
		struct waiter *wn = w->next;
		make_ready(l, w);
		w = wn;
	}
	q->waiters = NULL;
	q->wtail = &q->waiters;
}

static int build_wire(struct query *q)
{
	uint8_t *msg = NULL;
	size_t len = 0;

	if (random_id(&q->id) < 0 ||
	    zw_dns_build_query(&msg, &len, q->qname, q->qtype, q->id, q->no_edns, NULL) < 0)
		return -1;
	uint8_t *w = zw_malloc(len + 2);
	if (!w) {
		zw_free(msg);
		return -1;
	}
	w[0] = (uint8_t)(len >> 8);
	w[1] = (uint8_t)len;
	memcpy(w + 2, msg, len);
	zw_free(msg);
	zw_free(q->wire);
	q->wire = w;
	q->wirelen = len;
	return 0;
}

static void udp_send(struct zw_dns_loop *l, struct query *q)
{
	q->tries++;
	q->res.udp_sent++;
	q->deadline = now_ms() + l->o.timeout_ms;
	if (send(q->fd, q->wire + 2, q->wirelen, 0) < 0 && errno != EAGAIN && errno != EINTR)
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: send: %s", strerror(errno));
}

static void start_udp(struct zw_dns_loop *l, struct query *q)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&ss, &q->server);

	if (build_wire(q) < 0) {
		l->rc = ZW_ENOMEM;
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "cannot build the query");
		return;
	}
	q->fd = socket(q->server.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: socket: %s", strerror(errno));
		return;
	}
	if (connect(q->fd, (struct sockaddr *)&ss, sl) < 0) {
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: connect: %s", strerror(errno));
		return;
	}
	q->state = Q_UDP;
	q->tries = 0;
	udp_send(l, q);
}

static void start_tcp(struct zw_dns_loop *l, struct query *q)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&ss, &q->server);

	query_close(q);
	q->io_off = 0;
	q->have_len = 0;
	q->deadline = now_ms() + l->o.timeout_ms;
	q->fd = socket(q->server.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: socket: %s", strerror(errno));
		return;
	}
	if (connect(q->fd, (struct sockaddr *)&ss, sl) == 0) {
		q->state = Q_TCP_WRITE;
	} else if (errno == EINPROGRESS) {
		q->state = Q_TCP_CONNECT;
	} else {
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: connect: %s", strerror(errno));
	}
}

static void ignore(struct query *q, const char *why)
{
	q->res.ignored++;
	snprintf(q->last_ignored, sizeof(q->last_ignored), "%s", why);
}

/*
 * A message came from the server's address. On UDP, one that is not ours is ignored
 * (it may be forged or late); on TCP the connection is ours alone, so it ends the query.
 */
static void take_answer(struct zw_dns_loop *l, struct query *q, const uint8_t *m, size_t n,
			enum zw_dns_transport tr)
{
	const char *tn = zw_dns_transport_name(tr);
	struct zw_error perr = {0};
	char why[64];
	ldns_pkt *pkt = NULL;

	if (n < LDNS_HEADER_SIZE) {
		if (tr == ZW_DNS_UDP) {
			ignore(q, "datagram shorter than a header");
			return;
		}
		finish(l, q, ZW_DNS_MALFORMED, tr, "tcp: message of %zu octets is shorter than a header", n);
		return;
	}
	if (LDNS_ID_WIRE(m) != q->id) {
		if (tr == ZW_DNS_UDP) {
			ignore(q, "wrong id");
			return;
		}
		finish(l, q, ZW_DNS_MISMATCH, tr, "tcp: answer with a wrong id");
		return;
	}
	if (tr == ZW_DNS_UDP && LDNS_TC_WIRE(m) && LDNS_QR_WIRE(m)) {
		/* A truncated answer may be cut anywhere: only its question must be right. */
		size_t pos = LDNS_HEADER_SIZE;
		ldns_rr *qrr = NULL;
		int ok = LDNS_QDCOUNT(m) == 1 &&
			 ldns_wire2rr(&qrr, m, n, &pos, LDNS_SECTION_QUESTION) == LDNS_STATUS_OK;
		ldns_rdf *want = ok ? ldns_dname_new_frm_str(q->qname) : NULL;
		ok = ok && want && ldns_rr_get_type(qrr) == q->qtype &&
		     ldns_dname_compare(ldns_rr_owner(qrr), want) == 0;
		ldns_rr_free(qrr);
		ldns_rdf_deep_free(want);
		if (!ok) {
			ignore(q, "truncated answer to another question");
			return;
		}
		q->res.truncated = 1;
		start_tcp(l, q);
		return;
	}
	int prc = zw_dns_parse(&pkt, m, n, &perr);
	if (prc == ZW_ENOMEM) {
		l->rc = ZW_ENOMEM;
		finish(l, q, ZW_DNS_MALFORMED, tr, "%s: out of memory", tn);
		return;
	}
	if (prc < 0) {
		finish(l, q, ZW_DNS_MALFORMED, tr, "%s: malformed answer: %s", tn, perr.msg);
		return;
	}
	if (zw_dns_match(pkt, q->id, q->qname, q->qtype, why, sizeof(why)) < 0) {
		ldns_pkt_free(pkt);
		if (tr == ZW_DNS_UDP) {
			ignore(q, why);
			return;
		}
		finish(l, q, ZW_DNS_MISMATCH, tr, "tcp: answer ignored: %s", why);
		return;
	}
	if (!q->no_edns && ldns_pkt_get_rcode(pkt) == LDNS_RCODE_FORMERR && !ldns_pkt_edns(pkt)) {
		ldns_pkt_free(pkt);
		q->no_edns = 1;
		q->res.edns_fallback = 1;
		if (build_wire(q) < 0) {
			l->rc = ZW_ENOMEM;
			finish(l, q, ZW_DNS_NETWORK, tr, "cannot build the query");
			return;
		}
		if (tr == ZW_DNS_UDP) {
			udp_send(l, q);
		} else {
			start_tcp(l, q);
		}
		return;
	}
	ldns_pkt_free(q->pkt);
	q->pkt = pkt;
	if (tr == ZW_DNS_TCP && ldns_pkt_tc(pkt))
		finish(l, q, ZW_DNS_OK, tr, "tcp answer has tc=1");
	else if (q->res.ignored)
		finish(l, q, ZW_DNS_OK, tr, "%u answers ignored before this one (last: %s)", q->res.ignored,
		       q->last_ignored);
	else
		finish(l, q, ZW_DNS_OK, tr, NULL);
}

static void udp_readable(struct zw_dns_loop *l, struct query *q)
{
	/* Bounded: the socket buffer holds finitely many datagrams. */
	for (int i = 0; i < 64 && q->state == Q_UDP; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(q->fd, l->udpbuf, UDP_BUFSIZE, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: %s", strerror(errno));
			return;
		}
		if (!same_source(&from, &q->server)) {
			ignore(q, "answer from another address");
			continue;
		}
		take_answer(l, q, l->udpbuf, (size_t)n, ZW_DNS_UDP);
	}
}

static void tcp_io(struct zw_dns_loop *l, struct query *q, short revents)
{
	if (q->state == Q_TCP_CONNECT) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e) {
			finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: connect: %s", strerror(e));
			return;
		}
		q->state = Q_TCP_WRITE;
		q->io_off = 0;
	}
	if (q->state == Q_TCP_WRITE) {
		size_t total = q->wirelen + 2;
		ssize_t n = send(q->fd, q->wire + q->io_off, total - q->io_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: send: %s", strerror(errno));
			return;
		}
		q->io_off += (size_t)n;
		if (q->io_off == total) {
			q->state = Q_TCP_READ;
			q->io_off = 0;
		}
		return;
	}
	if (q->state != Q_TCP_READ || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	uint8_t *dst = q->have_len ? q->rbuf : q->lenbuf;
	size_t want = q->have_len ? q->rlen : 2;
	ssize_t n = recv(q->fd, dst + q->io_off, want - q->io_off, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		if (q->have_len)
			finish(l, q, ZW_DNS_MALFORMED, ZW_DNS_TCP,
			       "tcp: connection closed after %zu of the %zu octets announced", q->io_off,
			       q->rlen);
		else
			finish(l, q, ZW_DNS_MALFORMED, ZW_DNS_TCP,
			       "tcp: connection closed before a complete length prefix");
		return;
	}
	q->io_off += (size_t)n;
	if (q->io_off < want)
		return;
	if (!q->have_len) {
		q->rlen = ((size_t)q->lenbuf[0] << 8) | q->lenbuf[1];
		if (q->rlen < LDNS_HEADER_SIZE) {
			finish(l, q, ZW_DNS_MALFORMED, ZW_DNS_TCP,
			       "tcp: length prefix %zu is shorter than a header", q->rlen);
			return;
		}
		q->rbuf = zw_malloc(q->rlen);
		if (!q->rbuf) {
			l->rc = ZW_ENOMEM;
			finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: out of memory");
			return;
		}
		q->have_len = 1;
		q->io_off = 0;
		return;
	}
	take_answer(l, q, q->rbuf, q->rlen, ZW_DNS_TCP);
}

static void expire(struct zw_dns_loop *l, struct query *q)
{
	if (q->state == Q_UDP) {
		if (q->tries < l->o.udp_tries) {
			udp_send(l, q);
			return;
		}
		if (q->res.ignored)
			finish(l, q, ZW_DNS_MISMATCH, ZW_DNS_UDP,
			       "udp: no matching answer to %u tries; %u ignored (last: %s)", q->tries,
			       q->res.ignored, q->last_ignored);
		else
			finish(l, q, ZW_DNS_TIMEOUT, ZW_DNS_UDP, "udp: no answer to %u tries of %u ms",
			       q->tries, l->o.timeout_ms);
		return;
	}
	if (q->state == Q_TCP_CONNECT)
		finish(l, q, ZW_DNS_TIMEOUT, ZW_DNS_TCP, "tcp: connect timed out after %u ms",
		       l->o.timeout_ms);
	else if (q->state == Q_TCP_WRITE)
		finish(l, q, ZW_DNS_TIMEOUT, ZW_DNS_TCP, "tcp: send timed out after %u ms", l->o.timeout_ms);
	else if (q->have_len)
		finish(l, q, ZW_DNS_TIMEOUT, ZW_DNS_TCP, "tcp: %zu of the %zu octets announced came in %u ms",
		       q->io_off, q->rlen, l->o.timeout_ms);
	else
		finish(l, q, ZW_DNS_TIMEOUT, ZW_DNS_TCP, "tcp: no answer in %u ms", l->o.timeout_ms);
}

int zw_dns_query(struct zw_dns_loop *l, const struct zw_dns_addr *server, const char *qname, uint16_t qtype,
		 zw_dns_cb *cb, void *arg, struct zw_error *err)
{
	char *name = absolute_lower(qname);
	struct waiter *w = NULL;
	struct query *q;
	unsigned h;

	if (!name)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (server->family != AF_INET && server->family != AF_INET6) {
		zw_free(name);
		return zw_error_set(err, ZW_EINVAL, "bad server address family");
	}
	h = hash_key(server, name, qtype);
	for (q = l->buckets[h]; q; q = q->hnext)
		if (q->qtype == qtype && zw_dns_addr_cmp(&q->server, server) == 0 &&
		    strcmp(q->qname, name) == 0)
			break;
	w = zw_calloc(1, sizeof(*w));
	if (!w) {
		zw_free(name);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	w->cb = cb;
	w->arg = arg;
	if (q) {
		zw_free(name);
		w->q = q;
		if (q->state == Q_DONE) {
			make_ready(l, w);
		} else {
			*q->wtail = w;
			q->wtail = &w->next;
		}
		return 0;
	}
	/* Validate the name once, before anything is queued. */
	ldns_rdf *dn = ldns_dname_new_frm_str(name);
	int bad = !dn || ldns_rdf_get_type(dn) != LDNS_RDF_TYPE_DNAME;
	ldns_rdf_deep_free(dn);
	if (bad) {
		zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", qname);
		zw_free(name);
		zw_free(w);
		return ZW_EINVAL;
	}
	if (l->nqueries >= l->o.max_queries) {
		zw_free(name);
		zw_free(w);
		return zw_error_set(err, ZW_ERATE, "query budget of %u questions spent", l->o.max_queries);
	}
	q = zw_calloc(1, sizeof(*q));
	if (!q) {
		zw_free(name);
		zw_free(w);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	q->server = *server;
	q->qname = name;
	q->qtype = qtype;
	q->fd = -1;
	q->no_edns = l->o.no_edns;
	q->state = Q_QUEUED;
	q->wtail = &q->waiters;
	w->q = q;
	*q->wtail = w;
	q->wtail = &w->next;
	q->hnext = l->buckets[h];
	l->buckets[h] = q;
	if (l->qtail)
		l->qtail->qnext = q;
	else
		l->qhead = q;
	l->qtail = q;
	l->nqueries++;
	return 0;
}

/* Start queued queries while there are free slots. */
static void start_queued(struct zw_dns_loop *l)
{
	while (l->qhead && l->nactive < l->o.max_inflight) {
		struct query *q = l->qhead;
		l->qhead = q->qnext;
		if (!l->qhead)
			l->qtail = NULL;
		q->qnext = NULL;
		l->nsent++;
		start_udp(l, q);
		if (q->state != Q_DONE)
			l->active[l->nactive++] = q;
	}
}

static void deliver_ready(struct zw_dns_loop *l)
{
	while (l->rhead) {
		struct waiter *w = l->rhead;
		l->rhead = w->next;
		if (!l->rhead)
			l->rtail = &l->rhead;
		w->cb(w->arg, &w->q->res);
		zw_free(w);
	}
}

static short wanted_events(const struct query *q)
{
	switch (q->state) {
	case Q_UDP:
	case Q_TCP_READ: return POLLIN;
	case Q_TCP_CONNECT:
	case Q_TCP_WRITE: return POLLOUT;
	default: return 0;
	}
}

int zw_dns_run(struct zw_dns_loop *l, struct zw_error *err)
{
	for (;;) {
		deliver_ready(l);
		start_queued(l);
		if (l->rhead)
			continue;
		if (l->nactive == 0)
			break;

		long long now = now_ms(), next = now + l->o.timeout_ms;
		for (size_t i = 0; i < l->nactive; i++) {
			l->pfds[i].fd = l->active[i]->fd;
			l->pfds[i].events = wanted_events(l->active[i]);
			l->pfds[i].revents = 0;
			if (l->active[i]->deadline < next)
				next = l->active[i]->deadline;
		}
		int wait = next > now ? (int)(next - now) : 0;
		int n = poll(l->pfds, l->nactive, wait);
		if (n < 0 && errno != EINTR)
			return zw_error_set(err, ZW_EIO, "poll: %s", strerror(errno));
		now = now_ms();
		for (size_t i = 0; i < l->nactive; i++) {
			struct query *q = l->active[i];
			short re = n > 0 ? l->pfds[i].revents : 0;
			if (re && q->state == Q_UDP)
				udp_readable(l, q);
			else if (re)
				tcp_io(l, q, re);
			if (q->state != Q_DONE && now >= q->deadline)
				expire(l, q);
		}
		size_t kept = 0;
		for (size_t i = 0; i < l->nactive; i++)
			if (l->active[i]->state != Q_DONE)
				l->active[kept++] = l->active[i];
		l->nactive = kept;
	}
	if (l->rc) {
		int rc = l->rc;
		l->rc = 0;
		return zw_error_set(err, rc, "out of memory in the dns loop");
	}
	return 0;
}
