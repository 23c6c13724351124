/*
 * resolve.h - DNS as the world sees it: the iterative walk from the root, and the
 * observed state of a domain (SPEC §4, CATALOGUE §B.5 steps 1, 3 and 4).
 *
 * A struct zw_resolver is one cycle's resolver: the root hints, one transport loop
 * (dns.h, whose cache makes every (server, name, type) asked once per cycle) and the
 * work in progress. Submit any number of domains (zw_resolver_observe) and plain
 * lookups (zw_resolver_lookup), then zw_resolver_run() drives them all concurrently on
 * the one loop. Nothing goes through the system resolver: every name, including an
 * out-of-bailiwick NS name, is resolved by walking down from the root hints, RD=0.
 *
 * What the diagnosis receives in a struct zw_obs, in the order of CATALOGUE §B.5:
 *   1. the walk: the zone cut holding the domain (`zone`), the zone that delegates it
 *      (`parent`), and one zw_obs_referral per address of every parent server: what
 *      that server answered to (zone, NS): its NS names and glue, or NXDOMAIN (DL-11),
 *      or a failure with the reason (B01 inconsistencies: compare the referrals);
 *   2. `parent_ns` and `child_ns`: the NS sets as sorted unique name lists (DL-02/03/04),
 *      and one zw_obs_nsname per name of either set: where it is listed, the parent's
 *      glue for it, its A and AAAA resolved from the root, whether it is a CNAME (DL-06,
 *      DL-08, DL-13, DL-14);
 *   3. one zw_obs_server per address of every NS name the parent lists (glue and
 *      resolved addresses, deduplicated), with its answers to (zone, SOA) and (zone, NS):
 *      rcode, AA, transport, failure reason (DL-05, DL-07, CS-02, CS-03);
 *   4. one zw_obs_question per asked (name, type): the answer of every server in the
 *      order of `servers` (CS-01, drift, NM-01 probes), plus the question resolved from
 *      the root with CNAMEs followed across zones (CN-03, CN-04).
 * Every answer is a struct zw_obs_answer: the transport outcome, the DNS outcome as one
 * enum (`kind`: DATA, NODATA, NXDOMAIN, REFERRAL, CNAME, RCODE, FAILED), the CNAMEs it
 * followed, and the records, each with typed views (TXT as byte strings, names, SOA
 * fields, addresses) next to its presentation text.
 *
 * Memory: an observation (and a lookup) owns everything it points to, in its own arena;
 * zw_obs_free() releases it in one call. Names are absolute, lower case, in
 * presentation form ("ns1.example.net."). Arrays are sorted so that two observations
 * compare with memcmp-like loops: names by strcmp, addresses by zw_dns_addr_cmp,
 * records by their presentation text. No global state.
 */
#ifndef ZW_RESOLVE_H
#define ZW_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "reconcile/buf.h"
#include "reconcile/dns.h"
#include "reconcile/error.h"
#include "reconcile/txt.h"

/* ---- root hints (roothints.c) ---- */

struct zw_roothint {
	char *name;		   /* "a.root-servers.net." */
	struct zw_dns_addr *addrs; /* at least one */
	size_t n_addrs;
};

struct zw_roothints {
	struct zw_roothint *v;
	size_t n; /* at least one */
};

#define ZW_ROOT_HINTS_ENV "ZONEWARDEN_ROOT_HINTS"

/* IANA's named.root (April 2024), built in. */
int zw_roothints_builtin(struct zw_roothints **out, struct zw_error *err);
/* A hints file in zone-file format (NS records at "." and A/AAAA for their names),
 * parsed with ldns. Names without an address are dropped; none left is ZW_EINVAL. */
int zw_roothints_load(struct zw_roothints **out, const char *path, struct zw_error *err);
/* What the command uses: `path` (--root-hints) when not NULL, else $ZONEWARDEN_ROOT_HINTS
 * when set and not empty, else the built-in hints. */
int zw_roothints_select(struct zw_roothints **out, const char *path, struct zw_error *err);
void zw_roothints_free(struct zw_roothints *h);

/* ---- observed records ---- */

struct zw_soa {
	char *mname;
	char *rname;
	uint32_t serial, refresh, retry, expire, minimum;
};

struct zw_rr {
	char *owner;   /* absolute, lower case */
	uint16_t type; /* LDNS_RR_TYPE_* */
	uint32_t ttl;
	char *text; /* the rdata in presentation form (ldns), for display */
	/* Typed views, filled for the types named (zeroed otherwise): */
	struct zw_txt txt;	 /* TXT, SPF: the strings. Owned by the observation: copy
				  * it with zw_txt_copy, never zw_txt_free it. */
	char *target;		 /* CNAME, DNAME, NS, PTR: the name; MX: the exchange */
	uint16_t pref;		 /* MX preference */
	struct zw_dns_addr addr; /* A, AAAA (port 53) */
	struct zw_soa soa;	 /* SOA */
};

enum zw_obs_kind {
	ZW_OBS_FAILED = 0, /* no usable answer: see status and reason (DL-05/DL-07) */
	ZW_OBS_DATA,	   /* NOERROR with records of the type (after the CNAMEs in `cnames`) */
	ZW_OBS_NODATA,	   /* NOERROR, the name exists without that type (RFC 2308 §2.2) */
	ZW_OBS_NXDOMAIN,   /* NXDOMAIN: the name (or the end of the CNAME chain) does not exist */
	ZW_OBS_REFERRAL,   /* NOERROR, AA=0, NS in authority: the server sends us elsewhere */
	ZW_OBS_CNAME,	   /* the CNAME chain leaves what this server can answer: follow it */
	ZW_OBS_RCODE,	   /* another rcode: REFUSED, SERVFAIL, NOTIMP, FORMERR... */
};

/*
 * One server's answer to one question (or the final answer of a walk).
 * kind is FAILED when status != ZW_DNS_OK; for a walk (zw_obs_lookup) also when no
 * server gave a usable answer, and then status is that of the last failed exchange, or
 * ZW_DNS_OK when the servers answered uselessly (REFUSED, no AA, a bad referral); reason
 * says which server and why.
 * A NODATA or NXDOMAIN should carry the zone's SOA in authority (soa_in_authority); a
 * DATA/NODATA/NXDOMAIN with aa=0 is a non-authoritative (lame) answer.
 */
struct zw_obs_answer {
	enum zw_obs_kind kind;
	enum zw_dns_status status;	 /* the transport outcome */
	enum zw_dns_transport transport; /* UDP, or TCP after a truncated UDP answer */
	unsigned truncated : 1;		 /* the UDP answer had TC=1 */
	unsigned aa : 1;
	unsigned soa_in_authority : 1;
	unsigned cname_loop : 1; /* the CNAMEs come back to a name already seen */
	int rcode;		 /* LDNS_RCODE_*; -1 when there was no answer */
	char *reason;		 /* one line, lower case; NULL when nothing to say */
	struct zw_rr *cnames;	 /* CNAMEs followed from the asked name, in order */
	size_t n_cnames;
	struct zw_rr *rrs; /* the asked type at the end of the chain, sorted */
	size_t n_rrs;
	char *referral_zone; /* REFERRAL: the owner of the NS in authority */
	char **referral_ns;  /* REFERRAL: those NS names, sorted, unique */
	size_t n_referral_ns;
};

/* The question resolved from the root, as a resolver would, CNAMEs followed across
 * zones (at most ZW_RESOLVE_MAX_CNAMES). `ans.cnames` is the whole chain. */
struct zw_obs_lookup {
	char *name; /* as asked */
	uint16_t type;
	struct zw_obs_answer ans; /* the last answer; kind FAILED if the walk failed */
	char *zone;		  /* the zone that gave the last answer; NULL if none */
	char *server;		  /* the server name that gave it; NULL if none */
	struct zw_dns_addr addr;  /* and its address */
	unsigned too_long : 1;	  /* the chain was cut at ZW_RESOLVE_MAX_CNAMES */
};

struct zw_glue {
	char *name;
	struct zw_dns_addr addr;
};

/* What one address of one parent server answered to (zone, NS), RD=0. */
struct zw_obs_referral {
	char *server; /* the parent's NS name */
	struct zw_dns_addr addr;
	struct zw_obs_answer ans; /* REFERRAL to the zone; NXDOMAIN: not delegated;
				   * DATA with aa: this server also serves the child */
	char **ns;		  /* the delegation's NS names, sorted, unique (empty
				   * unless ans is a REFERRAL to the zone or DATA) */
	size_t n_ns;
	struct zw_glue *glue; /* A/AAAA in the additional section for those names */
	size_t n_glue;
};

struct zw_obs_nsname {
	char *name;
	unsigned in_parent : 1;	   /* in some parent server's referral */
	unsigned in_child : 1;	   /* in some child server's apex NS answer */
	unsigned in_bailiwick : 1; /* at or below the zone: only glue can reach it */
	unsigned is_cname : 1;	   /* resolving it met a CNAME (RFC 2181 §10.3) */
	struct zw_dns_addr *glue;  /* the parent's glue for it (all referrals), sorted */
	size_t n_glue;
	struct zw_obs_lookup a, aaaa; /* resolved from the root */
	struct zw_dns_addr *addrs;    /* the A and AAAA found, sorted, unique */
	size_t n_addrs;
};

/* One address of one NS name the parent lists: the delegated servers. */
struct zw_obs_server {
	char *name;
	struct zw_dns_addr addr;
	unsigned from_glue : 1;	  /* the parent gave this address as glue */
	unsigned from_lookup : 1; /* resolving the name gave this address */
	struct zw_obs_answer soa; /* (zone, SOA) */
	struct zw_obs_answer ns;  /* (zone, NS) */
};

struct zw_question {
	const char *name; /* absolute or not; made absolute */
	uint16_t type;
};

struct zw_obs_question {
	char *name;
	uint16_t type;
	struct zw_obs_answer *at;      /* one per server, in the order of zw_obs.servers */
	struct zw_obs_lookup resolved; /* from the root, CNAMEs followed */
};

enum zw_obs_delegation {
	ZW_DELEG_UNKNOWN = 0, /* no parent server answered usefully: see walk_error */
	ZW_DELEG_DELEGATED,   /* some parent server refers to the zone (or serves it) */
	ZW_DELEG_NXDOMAIN,    /* the parent says the name does not exist (DL-11) */
};

struct zw_arena;

struct zw_obs {
	char *domain; /* as asked */
	char *zone;   /* the zone cut holding the domain (the domain itself
		       * when it is delegated); NULL when unknown */
	char *parent; /* the zone that delegates `zone`; NULL when unknown */
	enum zw_obs_delegation delegation;
	char *walk_error;		   /* why the walk stopped early; NULL if it did not */
	struct zw_obs_referral *referrals; /* every address of every parent server, sorted */
	size_t n_referrals;
	char **parent_ns; /* union of the referrals' NS names, sorted */
	size_t n_parent_ns;
	char **child_ns; /* union of the servers' apex NS answers, sorted */
	size_t n_child_ns;
	struct zw_obs_nsname *nsnames; /* parent_ns ∪ child_ns, sorted by name */
	size_t n_nsnames;
	struct zw_obs_server *servers; /* sorted by (name, addr) */
	size_t n_servers;
	struct zw_obs_question *questions; /* in the order asked */
	size_t n_questions;
	struct zw_arena *arena; /* owns all of the above */
};

/* A standalone lookup (SPF include targets, DKIM CNAMEs...): owns its memory. */
struct zw_lookup {
	struct zw_obs_lookup res;
	struct zw_arena *arena;
};

#define ZW_RESOLVE_MAX_CNAMES	 8  /* CNAME hops followed before too_long */
#define ZW_RESOLVE_MAX_REFERRALS 16 /* referrals followed in one walk */
#define ZW_RESOLVE_MAX_NEST	 4  /* NS names resolved to resolve an NS name... */

struct zw_resolver_opts {
	struct zw_dns_opts dns; /* timeouts, retries, in-flight bound, EDNS, and dns.stats:
				 * the query counters (dns_queries_total), may be NULL */
};

struct zw_resolver;

int zw_resolver_new(struct zw_resolver **out, const struct zw_roothints *hints,
		    const struct zw_resolver_opts *opts, struct zw_error *err);
/* Frees the loop and its cache; observations already handed out stay valid. */
void zw_resolver_free(struct zw_resolver *r);

/*
 * Submit a domain: *out is the caller's at once and is filled by zw_resolver_run()
 * (do not read or free it before). `qs` (copied) are the (name, type) questions to ask
 * every delegated server and to resolve from the root.
 */
int zw_resolver_observe(struct zw_resolver *r, struct zw_obs **out, const char *domain,
			const struct zw_question *qs, size_t nq, struct zw_error *err);
/* Submit one lookup from the root; filled by zw_resolver_run(). */
int zw_resolver_lookup(struct zw_resolver *r, struct zw_lookup **out, const char *name, uint16_t type,
		       struct zw_error *err);
/*
 * Submit one question asked of one server directly (RD=0, no walk, no CNAME followed
 * beyond what the server answers): the provider's own servers, which the parent may not
 * delegate to (SPEC §4 step 2). Filled by zw_resolver_run(): res.ans is that server's
 * answer, res.server a copy of `server_name` (may be NULL), res.addr the address, res.zone
 * NULL. ZW_EINVAL for a bad name, ZW_ENOMEM.
 */
int zw_resolver_query(struct zw_resolver *r, struct zw_lookup **out, const char *server_name,
		      const struct zw_dns_addr *server, const char *name, uint16_t type,
		      struct zw_error *err);
/* Drive every submitted observation and lookup to its end. ZW_ENOMEM (then the
 * submitted results are incomplete, and must only be freed), or ZW_EIO. */
int zw_resolver_run(struct zw_resolver *r, struct zw_error *err);
/* The transport's count of questions sent (the cache's effect is visible here). */
size_t zw_resolver_queries_sent(const struct zw_resolver *r);

void zw_obs_free(struct zw_obs *o);
void zw_lookup_free(struct zw_lookup *lk);

/* A stable text form, one fact per line, for tests and `--debug` output. */
int zw_obs_dump(struct zw_buf *out, const struct zw_obs *o);
int zw_obs_lookup_dump(struct zw_buf *out, const struct zw_obs_lookup *lk);
int zw_obs_answer_dump(struct zw_buf *out, const struct zw_obs_answer *a);

/* Names of the enums, for dumps and messages. */
const char *zw_obs_kind_name(enum zw_obs_kind k);
const char *zw_obs_delegation_name(enum zw_obs_delegation d);
/* "NOERROR", "REFUSED"...; "-" for -1. */
const char *zw_rcode_name(int rcode);

/*
 * Turn one ldns answer to (qname, qtype) into an observed answer in `a` (the arena of
 * an observation or lookup). Exposed for the unit tests and the fuzz target; the
 * resolver uses it for every answer it records. 0 or ZW_ENOMEM.
 */
int zw_obs_answer_from_pkt(struct zw_obs_answer *out, struct zw_arena *a, const ldns_pkt *pkt,
			   const char *qname, uint16_t qtype);
int zw_arena_new(struct zw_arena **out);
void zw_arena_free(struct zw_arena *a);

#endif
