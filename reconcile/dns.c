/*
 * dns.c - the DNS transport: one poll() loop, a pool of UDP sockets, TCP when truncated,
 * a per-loop cache of questions.
 *
 * Owns: every struct query (one per distinct (server, name, type) asked on the loop,
 * kept in a hash table until the loop is freed: that is the cycle's cache), the UDP
 * socket pool, the TCP sockets, TCP wires and read buffers, the parsed answers, and the
 * callbacks waiting for them. Queries are written directly (header, the name's wire
 * form, the OPT record); answers are read into ldns structures, in one block per answer
 * for the common record types (zw_dns_parse_fast), else by ldns (zw_dns_parse).
 *
 * Invariants: a query is in exactly one of the states below; in Q_UDP it sits on one
 * socket of the pool (q->sock) and in the ID table under (q->sock, q->id), and no two
 * queries in flight on one socket have the same ID; it has a TCP socket only in the TCP
 * states; at most opts.max_inflight queries are in the UDP and TCP states; a query in
 * Q_DONE never changes again; a waiter is either on its query's list (query not done)
 * or on the loop's ready list (to be called back by zw_dns_run), never both; a socket's
 * `inflight` counts the queries on it, and a retired socket is closed when it drops to
 * zero; every read is bounded by what was received and by the 16-bit TCP length.
 */
#include "reconcile/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
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
#define MIN_BUCKETS	256
#define IDTAB		256
#define UDP_BUFSIZE	65536
#define RECV_BATCH	8		    /* datagrams per recvmmsg() */
#define QUERY_MAX	(12 + 255 + 4 + 11) /* header, name, type and class, OPT */
#define RND_BUF		256
#define MAX_NAME_PTRS	64 /* compression pointers followed in one name */

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
	struct query *hnext;  /* hash chain: every query of the loop */
	struct query *qnext;  /* the start queue */
	struct query *idnext; /* the ID table's chain (Q_UDP only) */
	struct zw_dns_addr server;
	char *qname;	/* absolute, lower case; stored after the struct */
	uint8_t *wname; /* its wire form, lower case; stored after the struct */
	size_t wlen;
	unsigned hash;
	uint16_t qtype;
	uint16_t id;
	enum qstate state;
	int sock; /* UDP: index in the loop's socket table; -1 when none */
	int fd;	  /* TCP */
	int no_edns;
	unsigned tries;
	long long deadline; /* monotonic ms */
	uint8_t *tcpwire;   /* TCP: 2-octet length, then the message */
	size_t tcplen;	    /* with the prefix */
	size_t io_off;	    /* TCP: octets written, or read of the current part */
	uint8_t lenbuf[2];
	uint8_t *rbuf; /* TCP answer, rlen octets */
	size_t rlen;
	int have_len;
	char last_ignored[96]; /* why the last ignored answer was ignored */
	char reason[ZW_DNS_REASON_MAX];
	struct zw_dns_result res;
	ldns_pkt *pkt;
	int pkt_block; /* pkt is one block from zw_dns_parse_fast */
	struct waiter *waiters, **wtail;
};

struct usock {
	int fd; /* -1: a free slot */
	int family;
	unsigned uses;	   /* queries started on it */
	unsigned inflight; /* queries on it now */
	int retired;	   /* no new queries; closed when inflight is 0 */
};

struct zw_dns_loop {
	struct zw_dns_opts o;
	struct query **buckets; /* nbuckets, a power of two */
	size_t nbuckets;
	struct query *qhead, *qtail; /* Q_QUEUED, in order */
	struct query **active;	     /* max_inflight slots */
	size_t nactive;
	struct query *idtab[IDTAB]; /* Q_UDP queries by (sock, id) */
	struct usock *socks;	    /* the UDP sockets, nsocks slots */
	size_t nsocks;
	int pool[2][ZW_DNS_POOL]; /* [AF_INET, AF_INET6]: indices in socks, -1: none yet */
	struct pollfd *pfds;	  /* nsocks + max_inflight */
	int *pf_sock;		  /* per pollfd: the socket index, or -1 for pf_q */
	struct query **pf_q;	  /* per pollfd: the TCP query */
	size_t npfds_cap;
	struct waiter *rhead, **rtail; /* ready to be called back */
	size_t nqueries;
	size_t nsent;
	size_t stray; /* datagrams no query could be blamed for */
	int rc;	      /* sticky: ZW_ENOMEM seen inside the loop */
	uint8_t rnd[RND_BUF];
	size_t rndpos;
	uint8_t qbuf[QUERY_MAX];
	/* first sends of the queries started by start_queued, sent by flush_sends with one
	 * sendmmsg() per socket; max_inflight of each */
	struct query **outq, **sq;
	size_t noutq;
	struct mmsghdr *smsg;
	struct iovec *siov;
	struct sockaddr_storage *sto;
	uint8_t *sbuf; /* QUERY_MAX each */
	/* recvmmsg(): RECV_BATCH buffers of UDP_BUFSIZE (pages are only touched as used) */
	struct mmsghdr rmsg[RECV_BATCH];
	struct iovec riov[RECV_BATCH];
	struct sockaddr_storage rfrom[RECV_BATCH];
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

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
	char tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

void zw_dns_addr_format(char *out, size_t outsz, const struct zw_dns_addr *a)
{
	char buf[ZW_DNS_ADDR_STRLEN] = "?";
	char *p = buf + 1;

	if (outsz == 0)
		return;
	if (a->family == AF_INET) {
		p = buf;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_uint(p, a->ip[i]);
		}
	} else if (a->family == AF_INET6 && inet_ntop(AF_INET6, a->ip, buf, INET6_ADDRSTRLEN)) {
		p = buf + strlen(buf);
	}
	if (a->port != ZW_DNS_PORT) {
		*p++ = '#';
		p = put_uint(p, a->port);
	}
	*p = '\0';
	size_t n = (size_t)(p - buf);
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
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

static int addr_eq(const struct zw_dns_addr *a, const struct zw_dns_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0;
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

/* 0, or -1 when the family is neither. */
static int from_sockaddr(struct zw_dns_addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		a->family = AF_INET;
		a->port = ntohs(sin->sin_port);
		memcpy(a->ip, &sin->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		a->family = AF_INET6;
		a->port = ntohs(sin6->sin6_port);
		memcpy(a->ip, &sin6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* ---- statistics ---- */

void zw_dns_stats_read(struct zw_dns_stats *out, const struct zw_dns_stats *s)
{
	for (size_t i = 0; i < ZW_DNS_RCODES; i++)
		out->rcode[i] = __atomic_load_n(&s->rcode[i], __ATOMIC_RELAXED);
	out->rcode_other = __atomic_load_n(&s->rcode_other, __ATOMIC_RELAXED);
	out->timeout = __atomic_load_n(&s->timeout, __ATOMIC_RELAXED);
	out->network = __atomic_load_n(&s->network, __ATOMIC_RELAXED);
	out->malformed = __atomic_load_n(&s->malformed, __ATOMIC_RELAXED);
	out->mismatch = __atomic_load_n(&s->mismatch, __ATOMIC_RELAXED);
}

const char *zw_dns_rcode_name(unsigned i)
{
	static const char *const unnamed[] = {"RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15"};
	if (i < ZW_DNS_RCODES) {
		const ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, (int)i);
		if (t && t->name)
			return t->name;
		return i >= 11 ? unnamed[i - 11] : "RCODE?";
	}
	return i == ZW_DNS_RCODES ? "OTHER" : NULL;
}

static void count(struct zw_dns_loop *l, const struct query *q, enum zw_dns_status st)
{
	struct zw_dns_stats *s = l->o.stats;
	uint64_t *c;

	if (!s)
		return;
	switch (st) {
	case ZW_DNS_OK: {
		unsigned rc = q->pkt ? (unsigned)ldns_pkt_get_rcode(q->pkt) : 0;
		if (q->pkt && ldns_pkt_edns(q->pkt))
			rc |= (unsigned)ldns_pkt_edns_extended_rcode(q->pkt) << 4;
		c = rc < ZW_DNS_RCODES ? &s->rcode[rc] : &s->rcode_other;
		break;
	}
	case ZW_DNS_TIMEOUT: c = &s->timeout; break;
	case ZW_DNS_NETWORK: c = &s->network; break;
	case ZW_DNS_MALFORMED: c = &s->malformed; break;
	default: c = &s->mismatch; break;
	}
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* ---- names ---- */

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

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * ldns_str2rdf_dname, octet for octet (the same limits, checked at the same places), into
 * out[256], lower-cased. Returns the wire length or -1.
 */
int zw_dns_name_wire(uint8_t *out, const char *str)
{
	size_t n = strlen(str);
	uint8_t *q = out + 1, *pq = out, *end = out + 255;
	unsigned label = 0;
	size_t len = 0;

	if (n > 255 * 4 || n == 0)
		return -1;
	if (n == 1 && str[0] == '.') {
		out[0] = 0;
		return 1;
	}
	for (const char *s = str; *s; s++, q++) {
		if (q >= end)
			return -1;
		if ((uint8_t)*s > '\\') { /* lower-case letters, '_' and above: as they are */
			*q = (uint8_t)*s;
			label++;
		} else if (*s == '.') {
			if (label > 63 || label == 0)
				return -1;
			len += label + 1;
			*pq = (uint8_t)label;
			*q = 0; /* the root label, unless another label follows */
			label = 0;
			pq = q;
		} else if (*s == '\\') {
			s++;
			if (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2])) {
				unsigned v = (unsigned)(s[0] - '0') * 100 + (unsigned)(s[1] - '0') * 10 +
					     (unsigned)(s[2] - '0');
				if (v > 255)
					return -1;
				*q = lower((uint8_t)v);
				s += 2;
			} else if (s[0] && !is_digit(s[0])) {
				*q = lower((uint8_t)s[0]);
			} else {
				return -1;
			}
			label++;
		} else {
			*q = lower((uint8_t)*s);
			label++;
		}
	}
	if (label) {
		if (q >= end || label > 63)
			return -1;
		len += label + 1;
		*pq = (uint8_t)label;
		*q = 0;
	}
	return (int)(len + 1);
}

ldns_rdf *zw_dns_dname_new(const char *name)
{
	uint8_t w[256];
	int n = zw_dns_name_wire(w, name);
	return n < 0 ? NULL : ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, (size_t)n, w);
}

/* Is d[0..n) a well-formed uncompressed name ending at its root label at n - 1? */
static int wire_name_ok(const uint8_t *d, size_t n)
{
	size_t p = 0;
	if (n == 0 || n > 255)
		return 0;
	while (p < n && d[p]) {
		if (d[p] > 63)
			return 0;
		p += (size_t)d[p] + 1;
	}
	return p == n - 1;
}

/* ldns_rdf2buffer_str_dname of a well-formed name d[0..n) into out[ZW_DNS_NAME_STRLEN],
 * lower-cased or not; returns the length. */
static size_t dname_text(char *out, const uint8_t *d, size_t n, int lc)
{
	size_t p = 0;
	char *o = out;

	if (n == 1) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (d[p]) {
		size_t len = d[p++];
		for (size_t i = 0; i < len; i++, p++) {
			uint8_t c = d[p];
			if (c == '.' || c == ';' || c == '(' || c == ')' || c == '\\') {
				*o++ = '\\';
				*o++ = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				*o++ = '\\';
				*o++ = (char)('0' + c / 100);
				*o++ = (char)('0' + c / 10 % 10);
				*o++ = (char)('0' + c % 10);
			} else {
				*o++ = (char)(lc ? lower(c) : c);
			}
		}
		*o++ = '.';
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* ldns's rdf accessors, read in place (the struct is public in ldns/rdata.h): the name
 * helpers below run on every record of every answer. */
#define RDF_TYPE(r) ((r)->_type)
#define RDF_SIZE(r) ((r)->_size)
#define RDF_DATA(r) ((const uint8_t *)(r)->_data)

int zw_dns_dname_format(char *out, const ldns_rdf *dname)
{
	if (!dname || RDF_TYPE(dname) != LDNS_RDF_TYPE_DNAME ||
	    !wire_name_ok(RDF_DATA(dname), RDF_SIZE(dname)))
		return -1;
	return (int)dname_text(out, RDF_DATA(dname), RDF_SIZE(dname), 1);
}

/* A bounded writer: counts every octet, stores those that fit. */
struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->p + o->len, s, n < o->cap - o->len ? n : o->cap - o->len);
	o->len += n;
}

/* ldns_rdf2buffer_str itself, for the types not written here. */
static int rdf_text_ldns(struct out *o, const ldns_rdf *rdf)
{
	ldns_buffer *b = ldns_buffer_new(256);

	if (!b)
		return -1;
	ldns_rdf2buffer_str(b, rdf); /* on an error, what was written stays, as before */
	int ok = ldns_buffer_status_ok(b);
	if (ok)
		put(o, (const char *)ldns_buffer_begin(b), ldns_buffer_position(b));
	ldns_buffer_free(b);
	return ok ? 0 : -1;
}

long zw_dns_rdf_text(char *out, size_t cap, const ldns_rdf *rdf)
{
	const uint8_t *d = RDF_DATA(rdf);
	size_t n = RDF_SIZE(rdf), k = 0;
	char tmp[ZW_DNS_NAME_STRLEN];
	struct out o = {out, cap, 0};

	switch (RDF_TYPE(rdf)) {
	case LDNS_RDF_TYPE_DNAME:
		if (!wire_name_ok(d, n))
			goto slow;
		k = dname_text(tmp, d, n, 0);
		break;
	case LDNS_RDF_TYPE_INT8:
		if (n != 1)
			goto slow;
		k = (size_t)(put_uint(tmp, d[0]) - tmp);
		break;
	case LDNS_RDF_TYPE_INT16:
		if (n != 2)
			goto slow;
		k = (size_t)(put_uint(tmp, (unsigned)(d[0] << 8 | d[1])) - tmp);
		break;
	case LDNS_RDF_TYPE_INT32:
	case LDNS_RDF_TYPE_PERIOD:
		if (n != 4)
			goto slow;
		k = (size_t)(put_uint(tmp, (unsigned)d[0] << 24 | (unsigned)d[1] << 16 | (unsigned)d[2] << 8 |
						   d[3]) -
			     tmp);
		break;
	case LDNS_RDF_TYPE_A:
	case LDNS_RDF_TYPE_AAAA: {
		struct zw_dns_addr a;
		if (n != (RDF_TYPE(rdf) == LDNS_RDF_TYPE_A ? 4u : 16u) ||
		    zw_dns_addr_from_rdata(&a, d, n) < 0)
			goto slow;
		zw_dns_addr_format(tmp, sizeof(tmp), &a); /* port 53: no suffix */
		k = strlen(tmp);
		break;
	}
	case LDNS_RDF_TYPE_STR:
		/* ldns_characters2buffer_str: printable ASCII and tab as they are, quote and
		 * backslash escaped, every other octet as \DDD; a bad length prints nothing */
		if (n < 1 || n < (size_t)d[0] + 1)
			return 0;
		tmp[k++] = '"';
		for (size_t i = 1; i <= d[0]; i++) {
			uint8_t c = d[i];
			if (k + 5 > sizeof(tmp)) {
				put(&o, tmp, k);
				k = 0;
			}
			if ((c >= 0x20 && c < 0x7f) || c == '\t') {
				if (c == '"' || c == '\\')
					tmp[k++] = '\\';
				tmp[k++] = (char)c;
			} else {
				tmp[k++] = '\\';
				tmp[k++] = (char)('0' + c / 100);
				tmp[k++] = (char)('0' + c / 10 % 10);
				tmp[k++] = (char)('0' + c % 10);
			}
		}
		tmp[k++] = '"';
		break;
	default: goto slow;
	}
	put(&o, tmp, k);
	return (long)o.len;
slow:
	return rdf_text_ldns(&o, rdf) < 0 ? -1 : (long)o.len;
}

const ldns_rdf *zw_dns_dname_init(struct zw_dname *d, const char *name)
{
	int n = zw_dns_name_wire(d->wire, name);
	if (n < 0)
		return NULL;
	ldns_rdf_set_type(&d->rdf, LDNS_RDF_TYPE_DNAME);
	ldns_rdf_set_size(&d->rdf, (size_t)n);
	ldns_rdf_set_data(&d->rdf, d->wire);
	return &d->rdf;
}

char *zw_dns_dname_str(const ldns_rdf *dname)
{
	char buf[ZW_DNS_NAME_STRLEN];
	int n = zw_dns_dname_format(buf, dname);
	return n < 0 ? NULL : zw_strndup(buf, (size_t)n);
}

static int wire_name_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i] && lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

int zw_dns_dname_eq(const ldns_rdf *a, const ldns_rdf *b)
{
	if (!a || !b || RDF_TYPE(a) != LDNS_RDF_TYPE_DNAME || RDF_TYPE(b) != LDNS_RDF_TYPE_DNAME)
		return 0;
	size_t n = RDF_SIZE(a);
	/* Octet for octet, letters folded: a label length (at most 63) is never a letter,
	 * so two names are equal exactly when their octets are. */
	return n == RDF_SIZE(b) && n >= 1 && n <= 255 && wire_name_eq(RDF_DATA(a), RDF_DATA(b), n);
}

int zw_dns_dname_at_or_below(const ldns_rdf *sub, const ldns_rdf *zone)
{
	if (!sub || !zone || RDF_TYPE(sub) != LDNS_RDF_TYPE_DNAME || RDF_TYPE(zone) != LDNS_RDF_TYPE_DNAME)
		return 0;
	const uint8_t *s = RDF_DATA(sub), *z = RDF_DATA(zone);
	size_t sn = RDF_SIZE(sub), zn = RDF_SIZE(zone), p = 0;
	if (!wire_name_ok(s, sn) || !wire_name_ok(z, zn) || zn > sn)
		return 0;
	/* step over whole labels of sub until what is left is as long as zone */
	while (sn - p > zn)
		p += (size_t)s[p] + 1;
	return sn - p == zn && wire_name_eq(s + p, z, zn);
}

/* Lower-case absolute copy of a presentation-form name ("" and "." are the root). */
static char *absolute_lower(char *s, const char *name, size_t n)
{
	int dot = n > 0 && name[n - 1] == '.' && !(n > 1 && name[n - 2] == '\\');
	for (size_t i = 0; i < n; i++)
		s[i] = (char)lower((uint8_t)name[i]);
	if (!dot)
		s[n++] = '.';
	s[n] = '\0';
	if (strcmp(s, "..") == 0)
		s[1] = '\0';
	return s;
}

/* The query message into out[QUERY_MAX]; returns its length. */
static size_t write_query(uint8_t *out, uint16_t id, const uint8_t *wname, size_t wlen, uint16_t qtype,
			  int no_edns)
{
	size_t p = 12;
	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[5] = 1;		   /* QDCOUNT; opcode QUERY, RD=0, every flag 0 */
	out[11] = no_edns ? 0 : 1; /* ARCOUNT: the OPT */
	memcpy(out + p, wname, wlen);
	p += wlen;
	out[p++] = (uint8_t)(qtype >> 8);
	out[p++] = (uint8_t)qtype;
	out[p++] = 0;
	out[p++] = LDNS_RR_CLASS_IN;
	if (!no_edns) {
		/* root owner, type OPT, class = our buffer size, TTL 0 (version 0, no DO), no rdata */
		static const uint8_t opt[11] = {
			0, 0, 41, ZW_DNS_EDNS_BUFSIZE >> 8, ZW_DNS_EDNS_BUFSIZE & 0xff, 0, 0, 0, 0, 0, 0};
		memcpy(out + p, opt, sizeof(opt));
		p += sizeof(opt);
	}
	return p;
}

int zw_dns_build_query(uint8_t **out, size_t *outlen, const char *qname, uint16_t qtype, uint16_t id,
		       int no_edns, struct zw_error *err)
{
	uint8_t w[256], msg[QUERY_MAX];
	int wl = zw_dns_name_wire(w, qname);

	*out = NULL;
	*outlen = 0;
	if (wl < 0)
		return zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", qname);
	size_t n = write_query(msg, id, w, (size_t)wl, qtype, no_edns);
	*out = zw_memdup(msg, n);
	if (!*out)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	*outlen = n;
	return 0;
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

/* The header's flags, id and rcode into p (the counts are read by the callers). */
static void fp_header(ldns_pkt *p, const uint8_t *wire)
{
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
	fp_header(p, wire);
	counts[0] = LDNS_QDCOUNT(wire);
	counts[1] = LDNS_ANCOUNT(wire);
	counts[2] = LDNS_NSCOUNT(wire);
	counts[3] = LDNS_ARCOUNT(wire);

	for (size_t s = 0; s < 4; s++) {
		unsigned kept = 0;
		for (unsigned i = 0; i < counts[s]; i++) {
			ldns_rr *rr = NULL;
			if (sections[s].sec == LDNS_SECTION_ADDITIONAL && pos + 11 <= len && wire[pos] == 0 &&
			    wire[pos + 1] == 0 && wire[pos + 2] == LDNS_RR_TYPE_OPT &&
			    pos + 11 + (((size_t)wire[pos + 9] << 8) | wire[pos + 10]) <= len) {
				/* The OPT record (root owner, wholly inside the message): read in place,
				 * as ldns would read it, without building a record only to free it. */
				if (have_opt) {
					ldns_pkt_free(p);
					return zw_error_set(err, ZW_EINVAL,
							    "more than one opt record (rfc 6891 §6.1.1)");
				}
				have_opt = 1;
				ldns_pkt_set_edns_udp_size(p,
							   (uint16_t)((wire[pos + 3] << 8) | wire[pos + 4]));
				ldns_pkt_set_edns_extended_rcode(p, wire[pos + 5]);
				ldns_pkt_set_edns_version(p, wire[pos + 6]);
				ldns_pkt_set_edns_z(p, (uint16_t)((wire[pos + 7] << 8) | wire[pos + 8]));
				pos += 11 + (((size_t)wire[pos + 9] << 8) | wire[pos + 10]);
				continue;
			}
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

/* ---- the fast reading of an answer: zw_dns_parse's result in one block ---- */

/*
 * What one pass over the message counts (sizing) or fills (building). The block is laid
 * out as: the packet, its header, four lists, the record pointers, the records, the
 * field pointers, the fields, then the octets of every name and field.
 */
struct fp {
	const uint8_t *w;
	size_t len;
	size_t nrr, nrdf, nbytes; /* counted (sizing) or used so far (building) */
	ldns_rr **rrp;		  /* building: the next free slot of each kind */
	ldns_rr *rr;
	ldns_rdf **rdfp;
	ldns_rdf *rdf;
	uint8_t *bytes;
	ldns_rr *rr_end; /* building: the ends of the slots (records, fields, octets) */
	ldns_rdf *rdf_end;
	uint8_t *bytes_end;
	int full; /* building ran out of slots (the scratch): size it instead */
};

/* The scratch a message is first built in (on the stack): most answers fit; a larger
 * one is sized first, then built in its block. */
#define FP_RRS	 48
#define FP_RDFS	 160
#define FP_BYTES 4096
struct fp_scratch {
	ldns_pkt pkt;
	ldns_hdr hdr;
	ldns_rr_list lists[4];
	ldns_rr *rrp[FP_RRS];
	ldns_rr rr[FP_RRS];
	ldns_rdf *rdfp[FP_RDFS];
	ldns_rdf rdf[FP_RDFS];
	uint8_t bytes[FP_BYTES];
};

/*
 * ldns_wire2dname as it accepts a name, octet for octet; -1 for anything it would refuse
 * and for more than MAX_NAME_PTRS pointers (the slow path decides those). out[255]
 * receives the name (case kept) unless NULL; returns its length.
 */
static int fp_name(const uint8_t *w, size_t max, size_t *pos, uint8_t *out)
{
	size_t p = *pos, o = 0, after = 0;
	unsigned ptrs = 0;

	if (p >= max)
		return -1;
	for (;;) {
		uint8_t c = w[p];
		while (c >= 192) {
			if (!after)
				after = p + 2;
			if (p + 2 > max || ++ptrs > MAX_NAME_PTRS)
				return -1;
			size_t t = ((size_t)(c & 63) << 8) | w[p + 1];
			if (t == 0 || t >= max)
				return -1;
			p = t;
			c = w[p];
		}
		if (c == 0)
			break;
		if (c > 63 || p + 1 + c > max || o + 1 + c > 254)
			return -1;
		if (out) {
			out[o] = c;
			memcpy(out + o + 1, w + p + 1, c);
		}
		o += 1 + (size_t)c;
		p += 1 + (size_t)c;
		if (p >= max)
			return -1;
	}
	if (out)
		out[o] = 0;
	o++;
	*pos = after ? after : p + 1;
	return (int)o;
}

/* One rdf of `size` octets copied from src; when sizing, only counted (NULL). */
static ldns_rdf *fp_rdf(struct fp *f, ldns_rdf_type t, const uint8_t *src, size_t size)
{
	if (!f->rdf) {
		f->nrdf++;
		f->nbytes += size;
		return NULL;
	}
	if (f->rdf == f->rdf_end || size > (size_t)(f->bytes_end - f->bytes)) {
		f->full = 1;
		return NULL;
	}
	ldns_rdf *r = f->rdf++;
	r->_size = size;
	r->_type = t;
	r->_data = f->bytes;
	memcpy(f->bytes, src, size);
	f->bytes += size;
	return r;
}

/* The octet length of a field of type t at w[pos] as ldns_wire2rdf takes it; 0 for a
 * name, -1 for a type this reader leaves to ldns (the types of A, AAAA, NS, CNAME, PTR,
 * DNAME, MX, SRV, SOA and TXT are read here). */
static long fp_field_len(ldns_rdf_type t, const uint8_t *w, size_t pos)
{
	switch (t) {
	case LDNS_RDF_TYPE_DNAME: return 0;
	case LDNS_RDF_TYPE_INT16: return 2;
	case LDNS_RDF_TYPE_INT32:
	case LDNS_RDF_TYPE_A:
	case LDNS_RDF_TYPE_PERIOD: return 4;
	case LDNS_RDF_TYPE_AAAA: return 16;
	case LDNS_RDF_TYPE_STR: return (long)w[pos] + 1;
	default: return -1;
	}
}

#define FP_VARIABLE 65535 /* ldns_rr_descriptor_maximum of a type with a variable part */

/*
 * The rdata fields ldns's descriptor gives the types read here (ldns_rr_descript):
 * how many at most (FP_VARIABLE: any number of the one type, as TXT), their types in
 * *ft. 0 for the other types, left to ldns.
 */
static size_t fp_fields(uint16_t type, const ldns_rdf_type **ft)
{
	static const ldns_rdf_type a[] = {LDNS_RDF_TYPE_A}, aaaa[] = {LDNS_RDF_TYPE_AAAA},
				   name[] = {LDNS_RDF_TYPE_DNAME}, str[] = {LDNS_RDF_TYPE_STR},
				   mx[] = {LDNS_RDF_TYPE_INT16, LDNS_RDF_TYPE_DNAME},
				   srv[] = {LDNS_RDF_TYPE_INT16, LDNS_RDF_TYPE_INT16, LDNS_RDF_TYPE_INT16,
					    LDNS_RDF_TYPE_DNAME},
				   soa[] = {LDNS_RDF_TYPE_DNAME,  LDNS_RDF_TYPE_DNAME,	LDNS_RDF_TYPE_INT32,
					    LDNS_RDF_TYPE_PERIOD, LDNS_RDF_TYPE_PERIOD, LDNS_RDF_TYPE_PERIOD,
					    LDNS_RDF_TYPE_PERIOD};
	switch (type) {
	case LDNS_RR_TYPE_A: *ft = a; return 1;
	case LDNS_RR_TYPE_AAAA: *ft = aaaa; return 1;
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_CNAME:
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_DNAME: *ft = name; return 1;
	case LDNS_RR_TYPE_MX: *ft = mx; return 2;
	case LDNS_RR_TYPE_SRV: *ft = srv; return 4;
	case LDNS_RR_TYPE_SOA: *ft = soa; return 7;
	case LDNS_RR_TYPE_TXT:
	case LDNS_RR_TYPE_SPF: *ft = str; return FP_VARIABLE;
	default: return 0;
	}
}

/* One record as ldns_wire2rr reads it (a question: owner, type, class); its type, or -1
 * to leave it to ldns. Building: *out is the record. */
static long fp_rr(struct fp *f, size_t *pos, int question, ldns_rr **out)
{
	uint8_t buf[256], *name = f->rr ? buf : NULL;
	const uint8_t *w = f->w;
	size_t max = f->len;
	int nl = fp_name(w, max, pos, name);
	if (nl < 0 || *pos + 4 > max)
		return -1;
	uint16_t type = (uint16_t)((w[*pos] << 8) | w[*pos + 1]);
	uint16_t cls = (uint16_t)((w[*pos + 2] << 8) | w[*pos + 3]);
	*pos += 4;
	ldns_rr *rr = NULL;
	if (f->rr) {
		if (f->rr == f->rr_end) {
			f->full = 1;
			return -1;
		}
		rr = f->rr++;
		memset(rr, 0, sizeof(*rr));
		rr->_rr_type = (ldns_rr_type)type;
		rr->_rr_class = (ldns_rr_class)cls;
		rr->_ttl = LDNS_DEFAULT_TTL;
		rr->_rr_question = question ? true : false;
	} else {
		f->nrr++;
	}
	ldns_rdf *owner = fp_rdf(f, LDNS_RDF_TYPE_DNAME, name, (size_t)nl);
	if (f->full)
		return -1;
	if (rr)
		rr->_owner = owner;
	*out = rr;
	if (question)
		return type;
	if (*pos + 6 > max)
		return -1;
	uint32_t ttl = ((uint32_t)w[*pos] << 24) | ((uint32_t)w[*pos + 1] << 16) |
		       ((uint32_t)w[*pos + 2] << 8) | w[*pos + 3];
	size_t rdlen = ((size_t)w[*pos + 4] << 8) | w[*pos + 5];
	*pos += 6;
	if (*pos + rdlen > max)
		return -1;
	size_t end = *pos + rdlen;
	const ldns_rdf_type *ft;
	size_t maxf = fp_fields(type, &ft), nf = 0;
	if (!maxf)
		return -1;
	ldns_rdf **fields = f->rdfp;
	while (*pos < end && nf < maxf) {
		/* as ldns_wire2rdf: fields while the rdata and the type's fields last */
		ldns_rdf_type t = ft[maxf == FP_VARIABLE ? 0 : nf];
		long fl = fp_field_len(t, w, *pos);
		ldns_rdf *r;
		if (fl < 0)
			return -1;
		if (fl == 0) {
			nl = fp_name(w, max, pos, name);
			if (nl < 0 || *pos > end)
				return -1;
			r = fp_rdf(f, LDNS_RDF_TYPE_DNAME, name, (size_t)nl);
		} else {
			if (*pos + (size_t)fl > end)
				return -1;
			r = fp_rdf(f, t, w + *pos, (size_t)fl);
			*pos += (size_t)fl;
		}
		if (f->full)
			return -1;
		if (f->rdfp)
			*f->rdfp++ = r;
		nf++;
	}
	if (*pos != end)
		return -1;
	if (rr) {
		rr->_ttl = ttl;
		rr->_rd_count = nf;
		rr->_rdata_fields = nf ? fields : NULL;
	}
	return type;
}

/* One pass over the message: sizing when f->rr is NULL, else building into p. 0, or -1
 * to leave the message to zw_dns_parse. */
static int fp_pass(struct fp *f, ldns_pkt *p)
{
	const uint8_t *w = f->w;
	size_t len = f->len, pos = LDNS_HEADER_SIZE;
	unsigned counts[4] = {LDNS_QDCOUNT(w), LDNS_ANCOUNT(w), LDNS_NSCOUNT(w), LDNS_ARCOUNT(w)};
	int have_opt = 0;

	for (size_t s = 0; s < 4; s++) {
		ldns_rr_list *list = p ? section_list(p, sections[s].sec) : NULL;
		if (list)
			list->_rrs = f->rrp;
		for (unsigned i = 0; i < counts[s]; i++) {
			if (s == 3 && pos + 11 <= len && w[pos] == 0 && w[pos + 1] == 0 &&
			    w[pos + 2] == LDNS_RR_TYPE_OPT &&
			    pos + 11 + (((size_t)w[pos + 9] << 8) | w[pos + 10]) <= len) {
				/* the OPT record in place, as zw_dns_parse reads it */
				if (have_opt)
					return -1;
				have_opt = 1;
				if (p) {
					ldns_pkt_set_edns_udp_size(
						p, (uint16_t)((w[pos + 3] << 8) | w[pos + 4]));
					ldns_pkt_set_edns_extended_rcode(p, w[pos + 5]);
					ldns_pkt_set_edns_version(p, w[pos + 6]);
					ldns_pkt_set_edns_z(p, (uint16_t)((w[pos + 7] << 8) | w[pos + 8]));
				}
				pos += 11 + (((size_t)w[pos + 9] << 8) | w[pos + 10]);
				continue;
			}
			ldns_rr *rr = NULL;
			long type = fp_rr(f, &pos, s == 0, &rr);
			if (type < 0 || (s == 3 && type == LDNS_RR_TYPE_OPT))
				return -1;
			if (list) {
				*f->rrp++ = rr;
				list->_rr_count++;
			}
		}
		if (list) {
			list->_rr_capacity = list->_rr_count;
			if (!list->_rr_count)
				list->_rrs = NULL;
		}
	}
	return 0;
}

/* The block's layout for nrr records, nrdf fields and nbytes octets: the packet, the
 * lists, the record pointers, the records, the field pointers, the fields (all 8-aligned
 * sizes), then the header and the octets. Returns the block's size. */
struct fp_layout {
	size_t lists, rrp, rr, rdfp, rdf, hdr, bytes, size;
};

static void fp_layout(struct fp_layout *o, size_t nrr, size_t nrdf, size_t nbytes)
{
	o->lists = sizeof(ldns_pkt);
	o->rrp = o->lists + 4 * sizeof(ldns_rr_list);
	o->rr = o->rrp + nrr * sizeof(ldns_rr *);
	o->rdfp = o->rr + nrr * sizeof(ldns_rr);
	o->rdf = o->rdfp + nrdf * sizeof(ldns_rdf *);
	o->hdr = o->rdf + nrdf * sizeof(ldns_rdf);
	o->bytes = o->hdr + sizeof(ldns_hdr);
	o->size = o->bytes + nbytes;
}

static void fp_counts(ldns_pkt *p, size_t len)
{
	ldns_pkt_set_qdcount(p, (uint16_t)ldns_rr_list_rr_count(p->_question));
	ldns_pkt_set_ancount(p, (uint16_t)ldns_rr_list_rr_count(p->_answer));
	ldns_pkt_set_nscount(p, (uint16_t)ldns_rr_list_rr_count(p->_authority));
	ldns_pkt_set_arcount(p, (uint16_t)ldns_rr_list_rr_count(p->_additional));
	ldns_pkt_set_size(p, len);
}

/* A message too large for the scratch: sized by a first pass, built in its block. */
static int fp_sized(ldns_pkt **out, const uint8_t *wire, size_t len)
{
	struct fp f = {.w = wire, .len = len};
	struct fp_layout lo;

	if (fp_pass(&f, NULL) < 0)
		return 0;
	fp_layout(&lo, f.nrr, f.nrdf, f.nbytes);
	char *m = zw_malloc(lo.size);
	if (!m)
		return -1;
	/* zeroed as ldns_pkt_new leaves them; records and fields are written whole */
	memset(m, 0, lo.rrp);
	memset(m + lo.hdr, 0, sizeof(ldns_hdr));
	ldns_pkt *p = (ldns_pkt *)(void *)m;
	ldns_rr_list *lists = (ldns_rr_list *)(void *)(m + lo.lists);
	p->_header = (ldns_hdr *)(void *)(m + lo.hdr);
	p->_question = &lists[0];
	p->_answer = &lists[1];
	p->_authority = &lists[2];
	p->_additional = &lists[3];
	fp_header(p, wire);
	f.rrp = (ldns_rr **)(void *)(m + lo.rrp);
	f.rr = (ldns_rr *)(void *)(m + lo.rr);
	f.rr_end = f.rr + f.nrr;
	f.rdfp = (ldns_rdf **)(void *)(m + lo.rdfp);
	f.rdf = (ldns_rdf *)(void *)(m + lo.rdf);
	f.rdf_end = f.rdf + f.nrdf;
	f.bytes = (uint8_t *)(m + lo.bytes);
	f.bytes_end = f.bytes + f.nbytes;
	if (fp_pass(&f, p) < 0) {
		zw_free(m);
		return 0;
	}
	fp_counts(p, len);
	*out = p;
	return 1;
}

int zw_dns_parse_fast(ldns_pkt **out, const uint8_t *wire, size_t len)
{
	struct fp_scratch s;
	struct fp_layout lo;

	*out = NULL;
	if (len < LDNS_HEADER_SIZE)
		return 0;
	/* One pass into the scratch, then one copy into a block of the exact size. */
	memset(&s.pkt, 0, sizeof(s.pkt));
	memset(&s.hdr, 0, sizeof(s.hdr));
	memset(s.lists, 0, sizeof(s.lists));
	s.pkt._header = &s.hdr;
	s.pkt._question = &s.lists[0];
	s.pkt._answer = &s.lists[1];
	s.pkt._authority = &s.lists[2];
	s.pkt._additional = &s.lists[3];
	fp_header(&s.pkt, wire);
	struct fp f = {.w = wire,
		       .len = len,
		       .rrp = s.rrp,
		       .rr = s.rr,
		       .rdfp = s.rdfp,
		       .rdf = s.rdf,
		       .bytes = s.bytes,
		       .rr_end = s.rr + FP_RRS,
		       .rdf_end = s.rdf + FP_RDFS,
		       .bytes_end = s.bytes + FP_BYTES};
	if (fp_pass(&f, &s.pkt) < 0)
		return f.full ? fp_sized(out, wire, len) : 0;
	size_t nrr = (size_t)(f.rr - s.rr), nrdf = (size_t)(f.rdf - s.rdf), nrdfp = (size_t)(f.rdfp - s.rdfp),
	       nbytes = (size_t)(f.bytes - s.bytes);
	fp_layout(&lo, nrr, nrdf, nbytes);
	char *m = zw_malloc(lo.size);
	if (!m)
		return -1;
	ldns_pkt *p = (ldns_pkt *)(void *)m;
	ldns_rr_list *lists = (ldns_rr_list *)(void *)(m + lo.lists);
	ldns_rr **rrp = (ldns_rr **)(void *)(m + lo.rrp);
	ldns_rr *rr = (ldns_rr *)(void *)(m + lo.rr);
	ldns_rdf **rdfp = (ldns_rdf **)(void *)(m + lo.rdfp);
	ldns_rdf *rdf = (ldns_rdf *)(void *)(m + lo.rdf);
	uint8_t *bytes = (uint8_t *)(m + lo.bytes);
	/* copy, then move every pointer from the scratch to the block */
	memcpy(p, &s.pkt, sizeof(*p));
	memcpy(lists, s.lists, sizeof(s.lists));
	memcpy(m + lo.hdr, &s.hdr, sizeof(s.hdr));
	memcpy(bytes, s.bytes, nbytes);
	p->_header = (ldns_hdr *)(void *)(m + lo.hdr);
	p->_question = &lists[0];
	p->_answer = &lists[1];
	p->_authority = &lists[2];
	p->_additional = &lists[3];
	for (size_t k = 0; k < 4; k++)
		if (lists[k]._rrs)
			lists[k]._rrs = rrp + (lists[k]._rrs - s.rrp);
	for (size_t i = 0; i < nrr; i++) {
		rrp[i] = rr + (s.rrp[i] - s.rr);
		rr[i] = s.rr[i];
		rr[i]._owner = rdf + (s.rr[i]._owner - s.rdf);
		if (rr[i]._rdata_fields)
			rr[i]._rdata_fields = rdfp + (s.rr[i]._rdata_fields - s.rdfp);
	}
	for (size_t i = 0; i < nrdfp; i++)
		rdfp[i] = rdf + (s.rdfp[i] - s.rdf);
	for (size_t i = 0; i < nrdf; i++) {
		rdf[i] = s.rdf[i];
		rdf[i]._data = bytes + ((const uint8_t *)s.rdf[i]._data - s.bytes);
	}
	fp_counts(p, len);
	*out = p;
	return 1;
}

static int rdf_same(const ldns_rdf *a, const ldns_rdf *b)
{
	if (!a || !b)
		return a == b;
	return ldns_rdf_size(a) == ldns_rdf_size(b) && ldns_rdf_get_type(a) == ldns_rdf_get_type(b) &&
	       memcmp(ldns_rdf_data(a), ldns_rdf_data(b), ldns_rdf_size(a)) == 0;
}

int zw_dns_pkt_same(const ldns_pkt *a, const ldns_pkt *b)
{
	if (ldns_pkt_id(a) != ldns_pkt_id(b) || ldns_pkt_qr(a) != ldns_pkt_qr(b) ||
	    ldns_pkt_get_opcode(a) != ldns_pkt_get_opcode(b) || ldns_pkt_aa(a) != ldns_pkt_aa(b) ||
	    ldns_pkt_tc(a) != ldns_pkt_tc(b) || ldns_pkt_rd(a) != ldns_pkt_rd(b) ||
	    ldns_pkt_ra(a) != ldns_pkt_ra(b) || ldns_pkt_ad(a) != ldns_pkt_ad(b) ||
	    ldns_pkt_cd(a) != ldns_pkt_cd(b) || ldns_pkt_get_rcode(a) != ldns_pkt_get_rcode(b) ||
	    ldns_pkt_qdcount(a) != ldns_pkt_qdcount(b) || ldns_pkt_ancount(a) != ldns_pkt_ancount(b) ||
	    ldns_pkt_nscount(a) != ldns_pkt_nscount(b) || ldns_pkt_arcount(a) != ldns_pkt_arcount(b) ||
	    ldns_pkt_size(a) != ldns_pkt_size(b) || ldns_pkt_edns(a) != ldns_pkt_edns(b) ||
	    ldns_pkt_edns_udp_size(a) != ldns_pkt_edns_udp_size(b) ||
	    ldns_pkt_edns_extended_rcode(a) != ldns_pkt_edns_extended_rcode(b) ||
	    ldns_pkt_edns_version(a) != ldns_pkt_edns_version(b) ||
	    ldns_pkt_edns_z(a) != ldns_pkt_edns_z(b) ||
	    !rdf_same(ldns_pkt_edns_data(a), ldns_pkt_edns_data(b)) || ldns_pkt_tsig(a) || ldns_pkt_tsig(b) ||
	    ldns_pkt_answerfrom(a) || ldns_pkt_answerfrom(b) ||
	    ldns_pkt_querytime(a) != ldns_pkt_querytime(b))
		return 0;
	for (size_t s = 0; s < 4; s++) {
		const ldns_rr_list *la = section_list((ldns_pkt *)a, sections[s].sec);
		const ldns_rr_list *lb = section_list((ldns_pkt *)b, sections[s].sec);
		size_t n = ldns_rr_list_rr_count(la);
		if (n != ldns_rr_list_rr_count(lb))
			return 0;
		for (size_t i = 0; i < n; i++) {
			const ldns_rr *x = ldns_rr_list_rr(la, i), *y = ldns_rr_list_rr(lb, i);
			size_t nf = ldns_rr_rd_count(x);
			if (ldns_rr_get_type(x) != ldns_rr_get_type(y) ||
			    ldns_rr_get_class(x) != ldns_rr_get_class(y) ||
			    ldns_rr_ttl(x) != ldns_rr_ttl(y) ||
			    ldns_rr_is_question(x) != ldns_rr_is_question(y) || nf != ldns_rr_rd_count(y) ||
			    !rdf_same(ldns_rr_owner(x), ldns_rr_owner(y)))
				return 0;
			for (size_t k = 0; k < nf; k++)
				if (!rdf_same(ldns_rr_rdf(x, k), ldns_rr_rdf(y, k)))
					return 0;
		}
	}
	return 1;
}

/* zw_dns_match with the question name in wire form (lower case). */
static const char *match_wire(const ldns_pkt *pkt, uint16_t id, const uint8_t *wname, size_t wlen,
			      uint16_t qtype)
{
	if (ldns_pkt_id(pkt) != id)
		return "wrong id";
	if (!ldns_pkt_qr(pkt))
		return "not a response (qr=0)";
	if (ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY)
		return "wrong opcode";
	size_t nq = ldns_rr_list_rr_count(ldns_pkt_question(pkt));
	if (nq == 0) {
		/* Some servers drop the question in FORMERR (old EDNS-unaware ones). */
		return ldns_pkt_get_rcode(pkt) == LDNS_RCODE_FORMERR ? NULL : "no question section";
	}
	if (nq != 1)
		return "more than one question";
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	const ldns_rdf *owner = ldns_rr_owner(q);
	if (ldns_rr_get_type(q) != qtype || ldns_rr_get_class(q) != LDNS_RR_CLASS_IN || !owner ||
	    ldns_rdf_size(owner) != wlen || !wire_name_eq(ldns_rdf_data(owner), wname, wlen))
		return "wrong question";
	return NULL;
}

int zw_dns_match(const ldns_pkt *pkt, uint16_t id, const char *qname, uint16_t qtype, char *why, size_t whysz)
{
	uint8_t w[256];
	int wl = zw_dns_name_wire(w, qname);
	const char *r = wl < 0 ? "wrong question" : match_wire(pkt, id, w, (size_t)wl, qtype);

	if (!r)
		return 0;
	if (why && whysz)
		snprintf(why, whysz, "%s", r);
	return -1;
}

/*
 * The first question of message m[0..n): its name in wire form, lower case, into
 * out[256] (compression pointers followed, at most MAX_NAME_PTRS), and its type.
 * Returns the name's length, or -1 when there is no readable question.
 */
static int read_question(uint8_t *out, uint16_t *qtype, const uint8_t *m, size_t n)
{
	size_t p = LDNS_HEADER_SIZE, o = 0, end = 0;
	unsigned ptrs = 0;

	if (n < LDNS_HEADER_SIZE || LDNS_QDCOUNT(m) < 1)
		return -1;
	for (;;) {
		if (p >= n)
			return -1;
		uint8_t c = m[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= n || ++ptrs > MAX_NAME_PTRS)
				return -1;
			if (!end)
				end = p + 2;
			p = ((size_t)(c & 0x3f) << 8) | m[p + 1];
			continue;
		}
		if (c & 0xc0)
			return -1;
		if (p + 1 + c > n || o + 1 + c > 255)
			return -1;
		out[o++] = c;
		for (size_t i = 0; i < c; i++)
			out[o++] = lower(m[p + 1 + i]);
		p += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	if (!end)
		end = p;
	if (end + 4 > n)
		return -1;
	*qtype = (uint16_t)((m[end] << 8) | m[end + 1]);
	return (int)o;
}

/* ---- the loop ---- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n random octets from the loop's buffer of getrandom() output. 0 or -1. */
static int rnd(struct zw_dns_loop *l, void *out, size_t n)
{
	if (l->rndpos + n > RND_BUF) {
		if (getrandom(l->rnd, RND_BUF, 0) != (ssize_t)RND_BUF)
			return -1;
		l->rndpos = 0;
	}
	memcpy(out, l->rnd + l->rndpos, n);
	l->rndpos += n;
	return 0;
}

static int ensure_pfds(struct zw_dns_loop *l)
{
	size_t need = l->nsocks + l->o.max_inflight;
	if (need <= l->npfds_cap)
		return 0;
	struct pollfd *p = zw_realloc(l->pfds, need * sizeof(*p));
	if (p)
		l->pfds = p;
	int *ps = zw_realloc(l->pf_sock, need * sizeof(*ps));
	if (ps)
		l->pf_sock = ps;
	struct query **pq = zw_realloc(l->pf_q, need * sizeof(*pq));
	if (pq)
		l->pf_q = pq;
	if (!p || !ps || !pq)
		return -1;
	l->npfds_cap = need;
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
	l->rndpos = RND_BUF;
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < ZW_DNS_POOL; i++)
			l->pool[f][i] = -1;
	l->nbuckets = MIN_BUCKETS;
	l->buckets = zw_calloc(l->nbuckets, sizeof(*l->buckets));
	l->active = zw_calloc(l->o.max_inflight, sizeof(*l->active));
	l->udpbuf = zw_malloc((size_t)RECV_BATCH * UDP_BUFSIZE);
	l->outq = zw_calloc(l->o.max_inflight, sizeof(*l->outq));
	l->sq = zw_calloc(l->o.max_inflight, sizeof(*l->sq));
	l->smsg = zw_calloc(l->o.max_inflight, sizeof(*l->smsg));
	l->siov = zw_calloc(l->o.max_inflight, sizeof(*l->siov));
	l->sto = zw_calloc(l->o.max_inflight, sizeof(*l->sto));
	l->sbuf = zw_malloc((size_t)l->o.max_inflight * QUERY_MAX);
	if (!l->buckets || !l->active || !l->udpbuf || !l->outq || !l->sq || !l->smsg || !l->siov ||
	    !l->sto || !l->sbuf || ensure_pfds(l) < 0) {
		zw_dns_loop_free(l);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

/* Free an answer from zw_dns_parse_fast (block) or zw_dns_parse. */
static void pkt_release(ldns_pkt *p, int block)
{
	if (block)
		zw_free(p);
	else
		ldns_pkt_free(p);
}

void zw_dns_loop_free(struct zw_dns_loop *l)
{
	if (!l)
		return;
	for (size_t b = 0; b < l->nbuckets && l->buckets; b++) {
		struct query *q = l->buckets[b];
		while (q) {
			struct query *next = q->hnext;
			struct waiter *w = q->waiters;
			while (w) {
				struct waiter *wn = w->next;
				zw_free(w);
				w = wn;
			}
			if (q->fd >= 0)
				close(q->fd);
			pkt_release(q->pkt, q->pkt_block);
			zw_free(q->rbuf);
			zw_free(q->tcpwire);
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
	for (size_t i = 0; i < l->nsocks; i++)
		if (l->socks[i].fd >= 0)
			close(l->socks[i].fd);
	zw_free(l->socks);
	zw_free(l->buckets);
	zw_free(l->active);
	zw_free(l->pfds);
	zw_free(l->pf_sock);
	zw_free(l->pf_q);
	zw_free(l->udpbuf);
	zw_free(l->outq);
	zw_free(l->sq);
	zw_free(l->smsg);
	zw_free(l->siov);
	zw_free(l->sto);
	zw_free(l->sbuf);
	zw_free(l);
}

size_t zw_dns_sent(const struct zw_dns_loop *l)
{
	return l->nsent;
}

/* ---- the cache ---- */

static unsigned hash_key(const struct zw_dns_addr *a, const uint8_t *wname, size_t wlen, uint16_t qtype)
{
	uint32_t h = 2166136261u;
	size_t n = a->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		h = (h ^ a->ip[i]) * 16777619u;
	h = (h ^ a->port) * 16777619u;
	for (size_t i = 0; i < wlen; i++)
		h = (h ^ wname[i]) * 16777619u;
	h = (h ^ qtype) * 16777619u;
	return h ^ (h >> 15);
}

static struct query *cache_find(struct zw_dns_loop *l, unsigned h, const struct zw_dns_addr *server,
				const uint8_t *wname, size_t wlen, uint16_t qtype)
{
	for (struct query *q = l->buckets[h & (l->nbuckets - 1)]; q; q = q->hnext)
		if (q->hash == h && q->qtype == qtype && q->wlen == wlen && addr_eq(&q->server, server) &&
		    memcmp(q->wname, wname, wlen) == 0)
			return q;
	return NULL;
}

/* Double the table (when it is full). 0 or -1. */
static int cache_grow(struct zw_dns_loop *l)
{
	size_t nb = l->nbuckets * 2;
	struct query **b = zw_calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < l->nbuckets; i++) {
		struct query *q = l->buckets[i];
		while (q) {
			struct query *next = q->hnext;
			q->hnext = b[q->hash & (nb - 1)];
			b[q->hash & (nb - 1)] = q;
			q = next;
		}
	}
	zw_free(l->buckets);
	l->buckets = b;
	l->nbuckets = nb;
	return 0;
}

/* ---- the UDP sockets and the ID table ---- */

static struct query **id_slot(struct zw_dns_loop *l, int sock, uint16_t id)
{
	return &l->idtab[(id ^ (unsigned)sock * 37u) & (IDTAB - 1)];
}

static struct query *id_find(struct zw_dns_loop *l, int sock, uint16_t id)
{
	for (struct query *q = *id_slot(l, sock, id); q; q = q->idnext)
		if (q->sock == sock && q->id == id)
			return q;
	return NULL;
}

static void id_insert(struct zw_dns_loop *l, struct query *q)
{
	struct query **s = id_slot(l, q->sock, q->id);
	q->idnext = *s;
	*s = q;
}

static void id_remove(struct zw_dns_loop *l, struct query *q)
{
	for (struct query **p = id_slot(l, q->sock, q->id); *p; p = &(*p)->idnext)
		if (*p == q) {
			*p = q->idnext;
			break;
		}
	q->idnext = NULL;
}

static void sock_close(struct zw_dns_loop *l, int si)
{
	struct usock *s = &l->socks[si];
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->retired = 0;
	s->uses = 0;
	s->inflight = 0;
}

/* A socket of the pool for a new query (a random one, opened or replaced as needed);
 * its index, or -1 with errno set. */
static int sock_pick(struct zw_dns_loop *l, int family)
{
	int fi = family == AF_INET6;
	uint8_t r;

	if (rnd(l, &r, 1) < 0)
		return -1;
	int *slot = &l->pool[fi][r % ZW_DNS_POOL];
	if (*slot >= 0 && l->socks[*slot].uses >= ZW_DNS_SOCKET_USES) {
		l->socks[*slot].retired = 1;
		if (l->socks[*slot].inflight == 0)
			sock_close(l, *slot);
		*slot = -1;
	}
	if (*slot >= 0)
		return *slot;
	size_t si = 0;
	while (si < l->nsocks && l->socks[si].fd >= 0)
		si++;
	if (si == l->nsocks) {
		struct usock *v = zw_realloc(l->socks, (l->nsocks + 1) * sizeof(*v));
		if (!v) {
			l->rc = ZW_ENOMEM;
			errno = ENOMEM;
			return -1;
		}
		l->socks = v;
		l->socks[l->nsocks++].fd = -1;
		if (ensure_pfds(l) < 0) {
			l->nsocks--;
			l->rc = ZW_ENOMEM;
			errno = ENOMEM;
			return -1;
		}
	}
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* ICMP errors to the error queue, with the datagram they are about */
	int one = 1;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	memset(&l->socks[si], 0, sizeof(l->socks[si]));
	l->socks[si].fd = fd;
	l->socks[si].family = family;
	*slot = (int)si;
	return (int)si;
}

/* The query leaves its UDP socket (answered, failed, or on to TCP). */
static void sock_leave(struct zw_dns_loop *l, struct query *q)
{
	if (q->sock < 0)
		return;
	int si = q->sock;
	id_remove(l, q);
	q->sock = -1;
	if (l->socks[si].inflight)
		l->socks[si].inflight--;
	if (l->socks[si].retired && l->socks[si].inflight == 0)
		sock_close(l, si);
}

/* A random ID not in flight on the query's socket; 0 or -1. */
static int pick_id(struct zw_dns_loop *l, struct query *q)
{
	for (int i = 0; i < 64; i++) {
		uint8_t b[2];
		if (rnd(l, b, 2) < 0)
			return -1;
		uint16_t id = (uint16_t)((b[0] << 8) | b[1]);
		if (!id_find(l, q->sock, id)) {
			q->id = id;
			return 0;
		}
	}
	return -1;
}

/* ---- one query ---- */

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
	sock_leave(l, q);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	zw_free(q->rbuf);
	q->rbuf = NULL;
	zw_free(q->tcpwire);
	q->tcpwire = NULL;
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
	count(l, q, st);
	struct waiter *w = q->waiters;
	while (w) {
		struct waiter *wn = w->next;
		make_ready(l, w);
		w = wn;
	}
	q->waiters = NULL;
	q->wtail = &q->waiters;
}

static void drain_errors(struct zw_dns_loop *l, int si);

/* Send the query's datagram now, on its own. */
static void udp_emit(struct zw_dns_loop *l, struct query *q)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&ss, &q->server);
	size_t n = write_query(l->qbuf, q->id, q->wname, q->wlen, q->qtype, q->no_edns);

	for (int attempt = 0; attempt < 2; attempt++) {
		if (sendto(l->socks[q->sock].fd, l->qbuf, n, 0, (struct sockaddr *)&ss, sl) >= 0)
			return;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return; /* as good as lost: sent again at the deadline */
		/* The error may be an earlier datagram's ICMP error reported late: hand those
		 * to their queries, then try once more. */
		int si = q->sock;
		drain_errors(l, si);
		if (q->state != Q_UDP)
			return;
	}
	finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: send: %s", strerror(errno));
}

/* One more try: a resend at the deadline, or the query again without EDNS. */
static void udp_send(struct zw_dns_loop *l, struct query *q)
{
	q->tries++;
	q->res.udp_sent++;
	q->deadline = now_ms() + l->o.timeout_ms;
	udp_emit(l, q);
}

/* The first sends queued by start_udp: grouped by socket, one sendmmsg() per group. A
 * message the kernel refuses goes through udp_emit, which reports it. */
static void flush_sends(struct zw_dns_loop *l)
{
	size_t n = l->noutq;

	l->noutq = 0;
	for (size_t i = 1; i < n; i++) {
		struct query *q = l->outq[i];
		size_t j = i;
		for (; j > 0 && l->outq[j - 1]->sock > q->sock; j--)
			l->outq[j] = l->outq[j - 1];
		l->outq[j] = q;
	}
	for (size_t a = 0, b; a < n; a = b) {
		int si = l->outq[a]->sock;
		size_t k = 0;
		for (b = a; b < n && l->outq[b]->sock == si; b++) {
			struct query *q = l->outq[b];
			if (q->state != Q_UDP || si < 0)
				continue;
			uint8_t *buf = l->sbuf + k * QUERY_MAX;
			memset(&l->smsg[k], 0, sizeof(l->smsg[k]));
			l->siov[k].iov_base = buf;
			l->siov[k].iov_len = write_query(buf, q->id, q->wname, q->wlen, q->qtype, q->no_edns);
			l->smsg[k].msg_hdr.msg_name = &l->sto[k];
			l->smsg[k].msg_hdr.msg_namelen = to_sockaddr(&l->sto[k], &q->server);
			l->smsg[k].msg_hdr.msg_iov = &l->siov[k];
			l->smsg[k].msg_hdr.msg_iovlen = 1;
			l->sq[k++] = q;
		}
		if (k == 0)
			continue;
		int fd = l->socks[si].fd;
		for (size_t i = 0; i < k && l->socks[si].fd == fd;) {
			int r = sendmmsg(fd, l->smsg + i, (unsigned)(k - i), 0);
			if (r > 0) {
				i += (size_t)r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break; /* the rest are as good as lost: sent again at their deadlines */
			if (l->sq[i]->state == Q_UDP && l->sq[i]->sock == si)
				udp_emit(l, l->sq[i]);
			i++;
		}
	}
}

static void start_udp(struct zw_dns_loop *l, struct query *q, long long now)
{
	int si = sock_pick(l, q->server.family);
	if (si < 0) {
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: socket: %s", strerror(errno));
		return;
	}
	q->sock = si;
	if (pick_id(l, q) < 0) {
		q->sock = -1;
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "cannot pick a query id");
		return;
	}
	id_insert(l, q);
	l->socks[si].uses++;
	l->socks[si].inflight++;
	q->state = Q_UDP;
	q->tries = 1;
	q->res.udp_sent++;
	q->deadline = now + l->o.timeout_ms;
	l->outq[l->noutq++] = q; /* sent by flush_sends */
}

static void start_tcp(struct zw_dns_loop *l, struct query *q)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&ss, &q->server);
	uint8_t msg[QUERY_MAX];

	sock_leave(l, q);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->io_off = 0;
	q->have_len = 0;
	q->deadline = now_ms() + l->o.timeout_ms;
	size_t n = write_query(msg, q->id, q->wname, q->wlen, q->qtype, q->no_edns);
	zw_free(q->tcpwire);
	q->tcpwire = zw_malloc(n + 2);
	if (!q->tcpwire) {
		l->rc = ZW_ENOMEM;
		finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: out of memory");
		return;
	}
	q->tcpwire[0] = (uint8_t)(n >> 8);
	q->tcpwire[1] = (uint8_t)n;
	memcpy(q->tcpwire + 2, msg, n);
	q->tcplen = n + 2;
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
 * A message came from the server's address (and on UDP, with the query's ID to its
 * socket). On UDP, one that is not ours is ignored (it may be forged or late); on TCP
 * the connection is ours alone, so it ends the query.
 */
static void take_answer(struct zw_dns_loop *l, struct query *q, const uint8_t *m, size_t n,
			enum zw_dns_transport tr)
{
	const char *tn = zw_dns_transport_name(tr);
	struct zw_error perr = {0};
	const char *why;
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
		uint8_t w[256];
		uint16_t qt = 0;
		int wl = LDNS_QDCOUNT(m) == 1 ? read_question(w, &qt, m, n) : -1;
		if (wl < 0 || (size_t)wl != q->wlen || qt != q->qtype || memcmp(w, q->wname, q->wlen) != 0) {
			ignore(q, "truncated answer to another question");
			return;
		}
		q->res.truncated = 1;
		start_tcp(l, q);
		return;
	}
	int block = zw_dns_parse_fast(&pkt, m, n);
	int prc = block > 0 ? 0 : block < 0 ? ZW_ENOMEM : zw_dns_parse(&pkt, m, n, &perr);
	if (prc == ZW_ENOMEM) {
		l->rc = ZW_ENOMEM;
		finish(l, q, ZW_DNS_MALFORMED, tr, "%s: out of memory", tn);
		return;
	}
	if (prc < 0) {
		finish(l, q, ZW_DNS_MALFORMED, tr, "%s: malformed answer: %s", tn, perr.msg);
		return;
	}
	if ((why = match_wire(pkt, q->id, q->wname, q->wlen, q->qtype)) != NULL) {
		pkt_release(pkt, block);
		if (tr == ZW_DNS_UDP) {
			ignore(q, why);
			return;
		}
		finish(l, q, ZW_DNS_MISMATCH, tr, "tcp: answer ignored: %s", why);
		return;
	}
	if (!q->no_edns && ldns_pkt_get_rcode(pkt) == LDNS_RCODE_FORMERR && !ldns_pkt_edns(pkt)) {
		pkt_release(pkt, block);
		q->no_edns = 1;
		q->res.edns_fallback = 1;
		if (tr == ZW_DNS_UDP) {
			/* a new ID on the same socket */
			uint16_t old = q->id;
			id_remove(l, q);
			int idrc = pick_id(l, q);
			if (idrc < 0)
				q->id = old;
			id_insert(l, q);
			if (idrc < 0)
				finish(l, q, ZW_DNS_NETWORK, tr, "cannot pick a query id");
			else
				udp_send(l, q);
		} else {
			start_tcp(l, q);
		}
		return;
	}
	pkt_release(q->pkt, q->pkt_block);
	q->pkt = pkt;
	q->pkt_block = block;
	if (tr == ZW_DNS_TCP && ldns_pkt_tc(pkt))
		finish(l, q, ZW_DNS_OK, tr, "tcp answer has tc=1");
	else if (q->res.ignored)
		finish(l, q, ZW_DNS_OK, tr, "%u answers ignored before this one (last: %s)", q->res.ignored,
		       q->last_ignored);
	else
		finish(l, q, ZW_DNS_OK, tr, NULL);
}

/*
 * A datagram on socket si that no query in flight there owns by (ID, source): the query
 * it was most likely meant for, to count it as ignored there. The one asking that
 * source this question on this socket, else the oldest one asking that source on it.
 */
static struct query *blame(struct zw_dns_loop *l, int si, const struct zw_dns_addr *src, const uint8_t *m,
			   size_t n)
{
	uint8_t w[256];
	uint16_t qt = 0;
	int wl = read_question(w, &qt, m, n);
	if (wl > 0) {
		struct query *q = cache_find(l, hash_key(src, w, (size_t)wl, qt), src, w, (size_t)wl, qt);
		if (q && q->state == Q_UDP && q->sock == si)
			return q;
	}
	for (size_t i = 0; i < l->nactive; i++) {
		struct query *q = l->active[i];
		if (q->state == Q_UDP && q->sock == si && addr_eq(&q->server, src))
			return q;
	}
	return NULL;
}

static void dispatch(struct zw_dns_loop *l, int si, const struct sockaddr_storage *from, const uint8_t *m,
		     size_t n)
{
	struct zw_dns_addr src;
	struct query *q = NULL;

	if (from_sockaddr(&src, from) < 0) {
		l->stray++;
		return;
	}
	if (n >= 2)
		q = id_find(l, si, (uint16_t)((m[0] << 8) | m[1]));
	if (q && !addr_eq(&q->server, &src)) {
		/* our ID from somebody else: a forgery, or a server answering from another
		 * address or port */
		ignore(q, "answer from another address");
		return;
	}
	if (q) {
		take_answer(l, q, m, n, ZW_DNS_UDP);
		return;
	}
	q = blame(l, si, &src, m, n);
	if (q)
		ignore(q, n < LDNS_HEADER_SIZE ? "datagram shorter than a header" : "wrong id");
	else
		l->stray++;
}

/* Is this ICMP error one a connected socket would have reported (a "hard" error: port
 * or protocol unreachable, administratively prohibited...; the kernel's icmp_err_convert
 * and icmpv6_err_convert tables)? Soft ones (no route, TTL exceeded) are left to the
 * resends and the deadline, as before. */
static int hard_error(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP)
		return ee->ee_type == 3 &&
		       (ee->ee_code == 2 || ee->ee_code == 3 || ee->ee_code == 6 || ee->ee_code == 7 ||
			ee->ee_code == 8 || ee->ee_code == 9 || ee->ee_code == 10 || ee->ee_code == 13);
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6)
		return (ee->ee_type == 1 &&
			(ee->ee_code == 1 || ee->ee_code == 4 || ee->ee_code == 5 || ee->ee_code == 6)) ||
		       ee->ee_type == 4;
	return 0;
}

/* The socket's error queue: ICMP errors about datagrams we sent. A hard one ends the
 * query the datagram was (its destination and ID; every query to that destination on
 * the socket when the ICMP message did not quote our ID). */
static void drain_errors(struct zw_dns_loop *l, int si)
{
	for (int i = 0; i < 64 && l->socks[si].fd >= 0; i++) {
		uint8_t payload[64];
		union {
			char buf[512];
			struct cmsghdr align;
		} ctrl;
		struct sockaddr_storage dst;
		struct iovec iov = {payload, sizeof(payload)};
		struct msghdr mh;
		memset(&mh, 0, sizeof(mh));
		memset(&dst, 0, sizeof(dst));
		mh.msg_name = &dst;
		mh.msg_namelen = sizeof(dst);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof(ctrl.buf);
		ssize_t n = recvmsg(l->socks[si].fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		const struct sock_extended_err *ee = NULL;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
				ee = (const struct sock_extended_err *)CMSG_DATA(c);
		struct zw_dns_addr to;
		if (!ee || !hard_error(ee) || from_sockaddr(&to, &dst) < 0)
			continue;
		if (n >= 2) {
			struct query *q = id_find(l, si, (uint16_t)((payload[0] << 8) | payload[1]));
			if (q && addr_eq(&q->server, &to))
				finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: %s",
				       strerror((int)ee->ee_errno));
			continue;
		}
		for (size_t k = 0; k < l->nactive; k++) {
			struct query *q = l->active[k];
			if (q->state == Q_UDP && q->sock == si && addr_eq(&q->server, &to))
				finish(l, q, ZW_DNS_NETWORK, ZW_DNS_UDP, "udp: %s",
				       strerror((int)ee->ee_errno));
		}
	}
}

static void udp_readable(struct zw_dns_loop *l, int si, short revents)
{
	int fd = l->socks[si].fd;

	if (revents & POLLERR)
		drain_errors(l, si);
	/* Bounded: a few batches at a time, the rest on the next poll. */
	for (int round = 0; round < 8 && l->socks[si].fd == fd; round++) {
		for (size_t k = 0; k < RECV_BATCH; k++) {
			memset(&l->rmsg[k], 0, sizeof(l->rmsg[k]));
			l->riov[k].iov_base = l->udpbuf + k * UDP_BUFSIZE;
			l->riov[k].iov_len = UDP_BUFSIZE;
			l->rmsg[k].msg_hdr.msg_name = &l->rfrom[k];
			l->rmsg[k].msg_hdr.msg_namelen = sizeof(l->rfrom[k]);
			l->rmsg[k].msg_hdr.msg_iov = &l->riov[k];
			l->rmsg[k].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fd, l->rmsg, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno != EINTR)
				drain_errors(l, si); /* an ICMP error reported here */
			continue;
		}
		for (int k = 0; k < n && l->socks[si].fd == fd; k++)
			dispatch(l, si, &l->rfrom[k], l->riov[k].iov_base, l->rmsg[k].msg_len);
		if (n < RECV_BATCH)
			return;
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
		ssize_t n = send(q->fd, q->tcpwire + q->io_off, q->tcplen - q->io_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				finish(l, q, ZW_DNS_NETWORK, ZW_DNS_TCP, "tcp: send: %s", strerror(errno));
			return;
		}
		q->io_off += (size_t)n;
		if (q->io_off == q->tcplen) {
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
	uint8_t wname[256];
	char name[255 * 4 + 2];
	size_t n = strlen(qname);
	struct waiter *w;
	struct query *q;
	int wl;

	if (server->family != AF_INET && server->family != AF_INET6)
		return zw_error_set(err, ZW_EINVAL, "bad server address family");
	/* the name as the result shows it; its wire form keys the cache */
	if (n > 255 * 4)
		return zw_error_set(err, ZW_EINVAL, "'%.64s...' is not a domain name", qname);
	absolute_lower(name, qname, n);
	wl = zw_dns_name_wire(wname, name);
	if (wl < 0)
		return zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", qname);
	unsigned h = hash_key(server, wname, (size_t)wl, qtype);
	q = cache_find(l, h, server, wname, (size_t)wl, qtype);
	if (!q && l->nqueries >= l->o.max_queries)
		return zw_error_set(err, ZW_ERATE, "query budget of %u questions spent", l->o.max_queries);
	w = zw_calloc(1, sizeof(*w));
	if (!w)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	w->cb = cb;
	w->arg = arg;
	if (q) {
		w->q = q;
		if (q->state == Q_DONE) {
			make_ready(l, w);
		} else {
			*q->wtail = w;
			q->wtail = &w->next;
		}
		return 0;
	}
	size_t nl = strlen(name);
	if (l->nqueries >= l->nbuckets && cache_grow(l) < 0) {
		zw_free(w);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	q = zw_calloc(1, sizeof(*q) + nl + 1 + (size_t)wl);
	if (!q) {
		zw_free(w);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	q->qname = (char *)(q + 1);
	memcpy(q->qname, name, nl + 1);
	q->wname = (uint8_t *)q->qname + nl + 1;
	memcpy(q->wname, wname, (size_t)wl);
	q->wlen = (size_t)wl;
	q->hash = h;
	q->server = *server;
	q->qtype = qtype;
	q->fd = -1;
	q->sock = -1;
	q->no_edns = l->o.no_edns;
	q->state = Q_QUEUED;
	q->wtail = &q->waiters;
	w->q = q;
	*q->wtail = w;
	q->wtail = &w->next;
	q->hnext = l->buckets[h & (l->nbuckets - 1)];
	l->buckets[h & (l->nbuckets - 1)] = q;
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
	long long now = l->qhead ? now_ms() : 0;

	while (l->qhead && l->nactive < l->o.max_inflight) {
		struct query *q = l->qhead;
		l->qhead = q->qnext;
		if (!l->qhead)
			l->qtail = NULL;
		q->qnext = NULL;
		l->nsent++;
		start_udp(l, q, now);
		if (q->state != Q_DONE)
			l->active[l->nactive++] = q;
	}
	flush_sends(l);
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

static short tcp_events(const struct query *q)
{
	switch (q->state) {
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
		size_t np = 0;
		for (size_t i = 0; i < l->nsocks; i++) {
			if (l->socks[i].fd < 0 || l->socks[i].inflight == 0)
				continue;
			l->pfds[np].fd = l->socks[i].fd;
			l->pfds[np].events = POLLIN;
			l->pfds[np].revents = 0;
			l->pf_sock[np++] = (int)i;
		}
		for (size_t i = 0; i < l->nactive; i++) {
			struct query *q = l->active[i];
			if (q->deadline < next)
				next = q->deadline;
			if (q->state == Q_UDP)
				continue;
			l->pfds[np].fd = q->fd;
			l->pfds[np].events = tcp_events(q);
			l->pfds[np].revents = 0;
			l->pf_sock[np] = -1;
			l->pf_q[np++] = q;
		}
		int wait = next > now ? (int)(next - now) : 0;
		int n = poll(l->pfds, np, wait);
		if (n < 0 && errno != EINTR)
			return zw_error_set(err, ZW_EIO, "poll: %s", strerror(errno));
		for (size_t i = 0; n > 0 && i < np; i++) {
			short re = l->pfds[i].revents;
			if (!re)
				continue;
			if (l->pf_sock[i] >= 0) {
				if (l->socks[l->pf_sock[i]].fd == l->pfds[i].fd)
					udp_readable(l, l->pf_sock[i], re);
			} else if (l->pf_q[i]->state != Q_DONE && l->pf_q[i]->state != Q_UDP) {
				tcp_io(l, l->pf_q[i], re);
			}
		}
		now = now_ms();
		for (size_t i = 0; i < l->nactive; i++) {
			struct query *q = l->active[i];
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
