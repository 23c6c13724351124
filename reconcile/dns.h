/*
 * dns.h - the DNS transport: many queries at once on one poll() loop.
 *
 * A struct zw_dns_loop sends queries to given server addresses and calls back with the
 * answer. It owns every socket, every query and every answer it received; freeing it
 * releases all of them. It is the per-cycle context of the transport: one reconcile
 * cycle makes one loop, and the loop is also the cycle's cache of questions, so the same
 * (server, name, type) is sent at most once per loop and every later asker is called
 * back with the same answer (SPEC §4.4).
 *
 * How one query goes (RFC 1035 §4.2, RFC 6891, RFC 7766):
 *   - UDP first, RD=0, with EDNS0 and a 1232-octet buffer (no_edns: plain DNS, so an
 *     answer over 512 octets comes back truncated); a random ID, bounded resends
 *     (udp_tries) each waiting timeout_ms;
 *   - an answer is accepted only when it comes from the server's address and port, has
 *     QR=1, our ID and our question (name, type, class). Anything else is ignored and
 *     counted; the reason is kept for the report;
 *   - TC=1 on UDP: the query is asked again over TCP (2-octet length prefix, a
 *     connection of its own), with its own timeout_ms; the answer length is bounded by
 *     the 16-bit prefix;
 *   - FORMERR to an EDNS query without an OPT in the answer: asked once more without
 *     EDNS (RFC 6891 §7);
 *   - an ICMP error (port or protocol unreachable, administratively prohibited) for the
 *     datagram ends the query at once with ZW_DNS_NETWORK.
 * A query ends with one result, never later than udp_tries * timeout_ms plus one TCP
 * timeout_ms after it was started. Hostile answers (compression loops, pointers past
 * the end, lying section counts, short TCP streams) end it with ZW_DNS_MALFORMED and a
 * reason; nothing is read past what was received and nothing waits past a deadline.
 *
 * UDP sockets and RFC 5452: a loop keeps a small pool of unconnected UDP sockets per
 * address family (ZW_DNS_POOL), each bound by the kernel to a random ephemeral port.
 * Every query picks one of them at random and a random ID not in flight on it; several
 * queries share a socket and an answer is matched to its query by (socket, ID), then
 * checked against the server's address and port and the question. A socket carries at
 * most ZW_DNS_SOCKET_USES queries, then is closed once its last one ends and replaced by
 * a new one on a new random port. The trade-off: a socket per query makes an off-path
 * forger guess a fresh port and ID every time; the pool keeps ports random and unknown
 * to him, but each port lives for up to ZW_DNS_SOCKET_USES queries, so one that learns
 * a port (a side channel such as ICMP rate limits, SAD DNS) keeps it for that many
 * queries and then has ID (16 bits) times the chance of landing on the right socket to
 * guess; the question must still match. In exchange a query costs no socket(),
 * connect() and close(), which dominated the transport's cost.
 *
 * Callbacks run from zw_dns_run(), never from zw_dns_query(); a callback may start new
 * queries. At most max_inflight queries are on the wire at once; the rest wait in order.
 * No global state: everything hangs off the loop, which is used by one thread. A
 * struct zw_dns_stats may be shared by loops on several threads: it is only updated with
 * atomic additions.
 */
#ifndef ZW_DNS_H
#define ZW_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "reconcile/error.h"

#define ZW_DNS_PORT	    53
#define ZW_DNS_EDNS_BUFSIZE 1232 /* the DNS Flag Day 2020 value */
#define ZW_DNS_ADDR_STRLEN  64	 /* "ffff:...:ffff#65535" and NUL */
#define ZW_DNS_REASON_MAX   160
#define ZW_DNS_NAME_STRLEN  1024 /* a name in presentation form, every octet escaped, NUL */
#define ZW_DNS_POOL	    8	 /* UDP sockets per address family and loop */
#define ZW_DNS_SOCKET_USES  1024 /* queries sent on one UDP socket before it is replaced */

/* A server address. Every address learned from DNS (hints, glue, A/AAAA) has port 53;
 * a different port only comes from a test that builds the address itself. */
struct zw_dns_addr {
	int family;	      /* AF_INET or AF_INET6 */
	uint16_t port;	      /* host order */
	unsigned char ip[16]; /* 4 or 16 octets used, network order */
};

/* "192.0.2.1" or "2001:db8::1" (no brackets, no port). ZW_EINVAL if neither. */
int zw_dns_addr_parse(struct zw_dns_addr *out, const char *s, uint16_t port, struct zw_error *err);
/* From the rdata of an A (4 octets) or AAAA (16 octets) record; ZW_EINVAL otherwise. */
int zw_dns_addr_from_rdata(struct zw_dns_addr *out, const void *rdata, size_t len);
/* "192.0.2.1", "2001:db8::1"; "#port" is appended when the port is not 53. */
void zw_dns_addr_format(char *out, size_t outsz, const struct zw_dns_addr *a);
/* A total order (IPv4 before IPv6, then octets, then port); 0 when equal. */
int zw_dns_addr_cmp(const struct zw_dns_addr *a, const struct zw_dns_addr *b);

enum zw_dns_transport {
	ZW_DNS_UDP = 0,
	ZW_DNS_TCP = 1,
};

enum zw_dns_status {
	ZW_DNS_OK = 0,	  /* a well-formed answer to our question (any rcode) */
	ZW_DNS_TIMEOUT,	  /* nothing came back in time */
	ZW_DNS_NETWORK,	  /* the socket failed: refused, unreachable, reset */
	ZW_DNS_MISMATCH,  /* answers came, none with our ID and question (all ignored) */
	ZW_DNS_MALFORMED, /* the server's answer is not a valid DNS message */
};

/*
 * Query statistics for the controller's metrics (dns_queries_total{rcode}): one count per
 * query that ended (a question answered from the loop's cache is not counted again).
 * Shared by loops on several threads: the transport only adds with __atomic_fetch_add;
 * read it with zw_dns_stats_read.
 */
#define ZW_DNS_RCODES 16
struct zw_dns_stats {
	uint64_t rcode[ZW_DNS_RCODES]; /* ended with an answer (ZW_DNS_OK), by its RCODE */
	uint64_t rcode_other;	       /* an extended RCODE (EDNS) of 16 or more */
	uint64_t timeout;	       /* ZW_DNS_TIMEOUT */
	uint64_t network;	       /* ZW_DNS_NETWORK */
	uint64_t malformed;	       /* ZW_DNS_MALFORMED */
	uint64_t mismatch;	       /* ZW_DNS_MISMATCH: only unmatched answers came */
};

/* A consistent-enough copy (each counter read atomically) for a metrics scrape. */
void zw_dns_stats_read(struct zw_dns_stats *out, const struct zw_dns_stats *s);
/* The label of rcode counter i: ldns's name of the RCODE ("NOERROR", "FORMERR",
 * "SERVFAIL", "NXDOMAIN", "NOTIMPL", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
 * "NOTAUTH", "NOTZONE"), "RCODE11".."RCODE15" for those ldns does not name, "OTHER" for
 * i == ZW_DNS_RCODES (rcode_other); NULL beyond. */
const char *zw_dns_rcode_name(unsigned i);

struct zw_dns_opts {
	unsigned timeout_ms;	    /* per UDP send and for the TCP exchange; 0: 1500 */
	unsigned udp_tries;	    /* UDP sends before giving up; 0: 3 */
	unsigned max_inflight;	    /* queries on the wire at once; 0: 64 */
	unsigned max_queries;	    /* distinct questions per loop (the cycle budget); 0: 50000 */
	int no_edns;		    /* 1: no OPT record, answers over 512 octets are truncated */
	struct zw_dns_stats *stats; /* NULL, or counted into (borrowed; outlives the loop) */
};

struct zw_dns_result {
	enum zw_dns_status status;
	enum zw_dns_transport transport; /* where the final answer (or failure) came */
	int truncated;			 /* the UDP answer had TC=1; TCP was used */
	int edns_fallback;		 /* FORMERR to EDNS; asked again without */
	unsigned udp_sent;		 /* datagrams sent (1 when the first was answered) */
	unsigned ignored;		 /* answers thrown away (wrong ID, question, source) */
	const char *reason;		 /* one line, lower case; "" when nothing to say */
	const ldns_pkt *pkt;		 /* the answer when status is ZW_DNS_OK; borrowed */
	const struct zw_dns_addr *server;
	const char *qname; /* absolute, lower case */
	uint16_t qtype;
};

struct zw_dns_loop;

/* Called once per zw_dns_query(), from zw_dns_run(). Everything in res is borrowed and
 * valid until the loop is freed (the loop keeps answers as its cache). */
typedef void zw_dns_cb(void *arg, const struct zw_dns_result *res);

int zw_dns_loop_new(struct zw_dns_loop **out, const struct zw_dns_opts *opts, struct zw_error *err);
void zw_dns_loop_free(struct zw_dns_loop *l);

/*
 * Ask `server` for (qname, qtype, IN), RD=0. qname is a domain name in presentation form
 * (a missing trailing dot is added; case does not matter). The answer comes through
 * cb(arg, result) during zw_dns_run(). When the same question to the same address was
 * already asked on this loop, nothing is sent and cb gets that answer.
 * ZW_EINVAL for a bad name, ZW_ERATE when the loop's max_queries is spent, ZW_ENOMEM.
 */
int zw_dns_query(struct zw_dns_loop *l, const struct zw_dns_addr *server, const char *qname, uint16_t qtype,
		 zw_dns_cb *cb, void *arg, struct zw_error *err);

/* Run until every query has been answered or has failed and every callback has run.
 * Returns 0, or ZW_EIO when poll() itself fails. */
int zw_dns_run(struct zw_dns_loop *l, struct zw_error *err);

/* How many distinct questions were sent on this loop (for tests and statistics). */
size_t zw_dns_sent(const struct zw_dns_loop *l);

/*
 * Parse a wire-format DNS message with ldns, refusing what ldns would accept but a
 * response must not carry (more than one OPT record). TSIG records are kept in the
 * additional section. *out is freed with ldns_pkt_free. Exposed for the fuzz target and
 * the tests. Returns 0, or ZW_EINVAL with the ldns reason in err.
 */
int zw_dns_parse(ldns_pkt **out, const uint8_t *wire, size_t len, struct zw_error *err);

/*
 * The same reading of a message as zw_dns_parse, built in one zw_malloc'd block: the
 * ldns structures are filled in place, no allocation per record or field. *out is freed
 * with zw_free, never ldns_pkt_free. Only for a message zw_dns_parse accepts whose records
 * have common field types (names, integers, A/AAAA, character strings) and at most
 * 64 compression pointers per name: returns 1 with *out set, 0 for anything else
 * (then zw_dns_parse gives the answer or the error), -1 when out of memory. The fuzz
 * target and test_dns check that both agree (zw_dns_pkt_same).
 */
int zw_dns_parse_fast(ldns_pkt **out, const uint8_t *wire, size_t len);
/* Do two parsed messages have the same header, counts, EDNS fields and records (owner,
 * type, class, TTL, every field's type and octets)? 1 if so. */
int zw_dns_pkt_same(const ldns_pkt *a, const ldns_pkt *b);

/* Build the wire form of a query (RD=0; EDNS0 with a 1232-octet buffer unless no_edns).
 * *out is zw_malloc'd. Exposed for the tests. */
int zw_dns_build_query(uint8_t **out, size_t *outlen, const char *qname, uint16_t qtype, uint16_t id,
		       int no_edns, struct zw_error *err);

/* Does `pkt` answer the question (id, qname, qtype)? 0 if it does, else a reason
 * ("wrong id", "not a response", "wrong question"...) is written to why. */
int zw_dns_match(const ldns_pkt *pkt, uint16_t id, const char *qname, uint16_t qtype, char *why,
		 size_t whysz);

/* A domain name rdf in presentation form, lower case, absolute ("." for the root), as a
 * zw_malloc'd string; NULL when out of memory or not a name. The text is ldns's
 * (ldns_rdf2buffer_str_dname), lower-cased. */
char *zw_dns_dname_str(const ldns_rdf *dname);
/* The same into out[ZW_DNS_NAME_STRLEN]; returns the length, or -1 when not a name. */
int zw_dns_dname_format(char *out, const ldns_rdf *dname);
/* Are two dname rdfs the same name (ASCII case ignored)? 0 when either is not a name. */
int zw_dns_dname_eq(const ldns_rdf *a, const ldns_rdf *b);
/* Is `sub` the name `zone` or below it? 0 when either is not a name. */
int zw_dns_dname_at_or_below(const ldns_rdf *sub, const ldns_rdf *zone);
/*
 * A presentation-form name (as ldns_dname_new_frm_str reads it: \X and \DDD escapes,
 * a missing trailing dot is implied) to its wire form in out[256], ASCII lower-cased.
 * Returns the wire length, or -1 when ldns would refuse the name.
 */
int zw_dns_name_wire(uint8_t *out, const char *name);
/* The same as an ldns dname rdf (lower case); NULL for a bad name or out of memory. */
ldns_rdf *zw_dns_dname_new(const char *name);
/* A dname rdf with its octets on the caller's storage: no allocation, never freed. */
struct zw_dname {
	ldns_rdf rdf;
	uint8_t wire[256];
};
/* Fill d from a presentation-form name (as zw_dns_name_wire); &d->rdf, or NULL for a bad
 * name. */
const ldns_rdf *zw_dns_dname_init(struct zw_dname *d, const char *name);
/*
 * The presentation form of one rdata field, exactly as ldns_rdf2buffer_str writes it
 * (case kept): names, numbers, addresses and strings written here, the rest by ldns.
 * Like snprintf: stores at most cap octets (no NUL) and returns the full length, or -1
 * when out of memory.
 */
long zw_dns_rdf_text(char *out, size_t cap, const ldns_rdf *rdf);

const char *zw_dns_status_name(enum zw_dns_status s);
const char *zw_dns_transport_name(enum zw_dns_transport t);

#endif
