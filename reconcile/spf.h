/*
 * spf.h - SPF (RFC 7208): record selection, parsing, lint, and check_host() evaluation
 * with lookup accounting.
 *
 * Parsing never fails on bad input: a broken record is a successful parse with
 * spf->permerror set and findings (SP-03, SP-05..SP-08, SP-14, SP-20) that say where and
 * why. Only running out of memory is an error. The parsed record keeps the input bytes
 * and every term's offset, so zw_spf_print() gives the input back byte for byte.
 *
 * Evaluation runs against an abstract DNS callback (struct zw_spf_dns), so the live
 * `check` plugs in its resolver and the tests an in-memory table. It works in two modes:
 * with a client IP it gives the RFC result of check_host() (§4); without one it is a
 * static walk of every term of the record tree (like checkdmarc) that reports the
 * worst-case lookup and void-lookup counts.
 */
#ifndef ZW_SPF_H
#define ZW_SPF_H

#include <stddef.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"

#define ZW_SPF_MAX_LOOKUPS   10 /* RFC 7208 §4.6.4 */
#define ZW_SPF_MAX_VOID	     2	/* RFC 7208 §4.6.4 */
#define ZW_SPF_MAX_MX_HOSTS  10 /* address lookups per mx, §4.6.4 */
#define ZW_SPF_MAX_PTR_NAMES 10 /* names used per ptr, §4.6.4 */

enum zw_spf_kind {
	ZW_SPF_ALL,
	ZW_SPF_INCLUDE,
	ZW_SPF_A,
	ZW_SPF_MX,
	ZW_SPF_PTR,
	ZW_SPF_IP4,
	ZW_SPF_IP6,
	ZW_SPF_EXISTS,
	ZW_SPF_REDIRECT,
	ZW_SPF_EXP,
	ZW_SPF_MODIFIER, /* an unknown modifier: name=macro-string, ignored (§6) */
	ZW_SPF_BAD,	 /* a term with a syntax error (the record is permerror) */
};

enum zw_spf_qualifier { ZW_SPF_Q_PASS, ZW_SPF_Q_FAIL, ZW_SPF_Q_SOFTFAIL, ZW_SPF_Q_NEUTRAL };

/*
 * One term. All pointers are borrowed from the owning struct zw_spf (its text) and are
 * not NUL-terminated: use the lengths.
 */
struct zw_spf_term {
	enum zw_spf_kind kind;
	enum zw_spf_qualifier qualifier; /* mechanisms; ZW_SPF_Q_PASS when omitted */
	int explicit_qualifier;		 /* 1 when a qualifier character was written */
	size_t offset, len;		 /* the raw term: text[offset .. offset+len) */
	size_t sep;			 /* number of spaces before the term */
	const char *name;		 /* mechanism or modifier name as written */
	size_t name_len;
	const char *domain;   /* domain-spec (or an unknown modifier's value); */
	size_t domain_len;    /* NULL when absent (a, mx, ptr default to <domain>) */
	int has_macro;	      /* domain contains a macro-expand */
	unsigned char ip[16]; /* ip4 (first 4 bytes) / ip6 network as written */
	int cidr4, cidr6;     /* prefix lengths written, -1 when absent */
	int after_all;	      /* the term follows an `all` (never evaluated) */
};

struct zw_spf {
	char *text; /* copy of the record, NUL-terminated */
	size_t len;
	size_t version_len; /* bytes of the first token ("v=spf1" when valid) */
	size_t trailing;    /* spaces after the last term */
	struct zw_spf_term *terms;
	size_t n;
	int permerror;		 /* a syntax error anywhere (§4.6): check_host gives permerror */
	int lookups;		 /* DNS-querying terms this record costs itself (§4.6.4):
				    include a mx ptr exists before the first all, plus redirect
				    when it is not ignored */
	long redirect, exp, all; /* index of the (first) redirect / exp / all term; -1 if none */
};

/* §4.5 selection: begins with "v=spf1" (any case) followed by SP or the end. */
int zw_spf_is_record(const char *v, size_t len);

/* A leftover Sender ID record (RFC 4406, "spf2.0/..."): adds SP-21 and returns 1; 0 when
 * the value is not one; ZW_ENOMEM. fs may be NULL (then only the answer). */
int zw_spf_check_sender_id(struct zw_findings *fs, const char *v, size_t len);

/*
 * Parse a joined TXT value. *out is always set on success (free with zw_spf_free), even
 * for a record that is not SPF at all (SP-03, permerror). Findings carry the byte offset
 * in v; fs may be NULL. Returns 0 or ZW_ENOMEM.
 */
int zw_spf_parse(struct zw_spf **out, const char *v, size_t len, struct zw_findings *fs,
		 struct zw_error *err);
void zw_spf_free(struct zw_spf *spf);

/* Append the record exactly as it was parsed (print(parse(x)) == x, always). */
int zw_spf_print(struct zw_buf *out, const struct zw_spf *spf);
/* Append the canonical form: "v=spf1", single spaces, lower-case names, no "+", default
 * CIDR lengths dropped, addresses in their shortest form. ZW_EINVAL on a permerror record. */
int zw_spf_print_canonical(struct zw_buf *out, const struct zw_spf *spf);

const char *zw_spf_kind_name(enum zw_spf_kind kind);

/* ---- evaluation ---- */

enum zw_spf_verdict {
	ZW_SPF_NONE,
	ZW_SPF_NEUTRAL,
	ZW_SPF_PASS,
	ZW_SPF_FAIL,
	ZW_SPF_SOFTFAIL,
	ZW_SPF_TEMPERROR,
	ZW_SPF_PERMERROR,
};
const char *zw_spf_verdict_name(enum zw_spf_verdict v);

enum zw_spf_qtype { ZW_SPF_QTXT, ZW_SPF_QA, ZW_SPF_QAAAA, ZW_SPF_QMX, ZW_SPF_QPTR };

/* What a DNS callback hands back: one entry per answer record. */
struct zw_spf_answer {
	char **v;
	size_t *lens;
	size_t n, cap;
};
#define ZW_SPF_ANSWER_MAX 1024

/*
 * Add one answer: a TXT record's joined value (RFC 7208 §3.3), 4 bytes for A, 16 for
 * AAAA, the exchange name for MX, the target name for PTR (names with or without the
 * trailing dot). ZW_EINVAL past ZW_SPF_ANSWER_MAX answers, ZW_ENOMEM.
 */
int zw_spf_answer_add(struct zw_spf_answer *a, const void *data, size_t len);

/*
 * The resolver. query() looks up `name` (no trailing dot) of `type`, adds every answer
 * of that type (CNAMEs already followed) with zw_spf_answer_add(), sets *rcode to the DNS
 * RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...) and returns 0. It returns ZW_ETRANSIENT
 * on a timeout (temperror) and ZW_ENOMEM when out of memory (evaluation stops with it);
 * any other negative code is a temperror too.
 */
struct zw_spf_dns {
	void *ctx;
	int (*query)(void *ctx, const char *name, enum zw_spf_qtype type, struct zw_spf_answer *out,
		     int *rcode);
};

struct zw_spf_eval_opts {
	const char *ip;	      /* client address (IPv4 or IPv6 text); NULL: static walk */
	const char *sender;   /* MAIL FROM; NULL: postmaster@<domain> (§4.3) */
	const char *helo;     /* HELO/EHLO name (%{h}); NULL: "unknown" */
	const char *receiver; /* %{r}; NULL: "unknown" */
	long long now;	      /* %{t}; 0: the current time */
	int max_lookups;      /* 0: 10 */
	int max_void;	      /* 0: 2 */
	int walk_cap;	      /* static walk: stop following after this many lookups (0: 100) */
	int no_exp;	      /* do not fetch the explanation on fail */
};

/* One record visited during evaluation (checkdmarc's nested view, flattened). */
struct zw_spf_node {
	char *domain;	      /* no trailing dot */
	char *record;	      /* the selected record, NULL when none */
	int depth;	      /* 0 for the domain asked about */
	enum zw_spf_kind via; /* ZW_SPF_INCLUDE or ZW_SPF_REDIRECT; ZW_SPF_ALL for the top */
	enum zw_spf_verdict verdict;
};

struct zw_spf_result {
	enum zw_spf_verdict verdict;
	int lookups; /* DNS-querying terms counted (static: the whole tree) */
	int void_lookups;
	int capped;	   /* static walk stopped at walk_cap: counts are lower bounds */
	char *record;	   /* the top record, NULL when none */
	char *mechanism;   /* with an IP: the matching term of the top (redirect) chain */
	char *explanation; /* with an IP, on fail: the expanded exp= text, or NULL */
	char *problem;	   /* one line: why permerror or temperror; NULL otherwise */
	struct zw_spf_node *nodes;
	size_t n_nodes;
};

/*
 * check_host(<ip>, <domain>, <sender>) (RFC 7208 §4), or the static walk when opts->ip is
 * NULL: every term up to `all` is visited, every include and the redirect followed, and
 * the verdict is permerror if any limit or error was met anywhere, temperror on a DNS
 * failure, else the result for an address no ip4/ip6/a/mx/ptr/exists term lists.
 * Findings: SP-01 SP-02 SP-03 SP-09 SP-10 SP-11 SP-12 SP-13 SP-15 SP-21 plus the parse
 * findings of every record visited (those of other names carry their owner in `name`).
 * Returns 0 (the verdict is in *out, free with zw_spf_result_free), ZW_EINVAL for a bad
 * opts->ip or domain, ZW_ENOMEM.
 */
int zw_spf_evaluate(struct zw_spf_result *out, const char *domain, const struct zw_spf_dns *dns,
		    const struct zw_spf_eval_opts *opts, struct zw_findings *fs, struct zw_error *err);
void zw_spf_result_free(struct zw_spf_result *r);

#endif
