/*
 * dmarc.h - DMARC policy records (RFC 7489; RFC 9989 = dmarcbis-41) and the helpers of
 * the external report destination check (RFC 7489 §7.1, RFC 9990).
 *
 * zw_dmarc_is_record() is the discovery selection (the record begins with the tag
 * v=DMARC1); zw_dmarc_parse() reads the joined TXT value at _dmarc.<d> following the
 * dmarcbis §4.8 grammar and reports DM-03..DM-06, DM-09..DM-11, DM-13, DM-16, DM-17.
 * The checks that need context the record does not carry are separate functions the
 * caller chooses to run: weak policy (DM-12), parked domain (DM-18), psd=y on an
 * ordinary domain (DM-19).
 *
 * Case: the value DMARC1 is case-sensitive; other literal values are not (RFC 5234
 * §2.3). Tag names are accepted in any case with a NOTICE and stored in lower case
 * (CATALOGUE §B.3 "our policy").
 *
 * Ownership: a struct zw_dmarc owns every string it points to; zw_dmarc_free() releases
 * it. The raw text is kept byte for byte: zw_dmarc_print(zw_dmarc_parse(x)) == x.
 */
#ifndef ZW_DMARC_H
#define ZW_DMARC_H

#include <stddef.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"

enum zw_dmarc_policy {
	ZW_DMARC_UNSET = 0, /* the tag is absent (or, in pol_*, no DMARC processing) */
	ZW_DMARC_NONE,
	ZW_DMARC_QUARANTINE,
	ZW_DMARC_REJECT,
	ZW_DMARC_INVALID, /* present with a value that is none of the three (DM-04) */
};

enum zw_dmarc_align {
	ZW_DMARC_RELAXED = 0, /* r, the default */
	ZW_DMARC_STRICT,      /* s */
};

enum zw_dmarc_psd {
	ZW_DMARC_PSD_U = 0, /* u, the default */
	ZW_DMARC_PSD_Y,
	ZW_DMARC_PSD_N,
};

/* One element of a rua= or ruf= list. */
struct zw_dmarc_uri {
	char *text;		      /* as written, with any !size suffix */
	char *scheme;		      /* lower case; NULL when there is no scheme */
	char *address;		      /* mailto: the addr-spec (before any '?'); else NULL */
	char *host;		      /* lower case: the domain of a mailto: address, the host
				       * of an http(s) URI; NULL for other schemes */
	unsigned long long max_bytes; /* the obsolete !size limit in bytes (DM-17) */
	int has_size;
	int valid;     /* a URI with a scheme (RFC 3986); DM-06 when 0 */
	size_t offset; /* in the record */
};

struct zw_dmarc_tag {
	char *name;    /* lower case */
	char *value;   /* WSP around removed */
	size_t offset; /* of the name, in the record */
	int known;     /* one of the tags RFC 7489 / RFC 9989 define */
};

struct zw_dmarc {
	char *raw; /* the record as given, NUL-terminated */
	size_t raw_len;
	struct zw_dmarc_tag *tags; /* record order, no duplicates; tags[0] is v */
	size_t ntags;

	/* The tags as written (defaults where absent or invalid, see each). */
	enum zw_dmarc_policy p, sp, np; /* UNSET, a policy, or INVALID */
	enum zw_dmarc_align adkim, aspf;
	int testing; /* t=y */
	enum zw_dmarc_psd psd;
	const char *fo; /* a valid fo= value (borrowed), NULL otherwise */
	int pct;	/* 0-100, or -1 when absent or not such a number */
	struct zw_dmarc_uri *rua, *ruf;
	size_t nrua, nruf;
	size_t valid_rua; /* syntactically valid rua URIs */

	/*
	 * What receivers apply (RFC 9989 §4.7, §4.10.1). An invalid p, sp or np makes the
	 * record act as p=none when rua holds a valid URI; otherwise there is no DMARC
	 * processing at all (applies = 0, pol_* and eff_* UNSET). A missing p is none.
	 */
	int applies;
	enum zw_dmarc_policy pol_p, pol_sp, pol_np; /* after defaults and that fallback */
	enum zw_dmarc_policy eff_p, eff_sp, eff_np; /* one level lower under t=y (DM-13) */
};

/*
 * Discovery (RFC 9989 §4.10, 7489 §6.6.3): does the value begin with the tag v=DMARC1?
 * "v" in any case, *WSP around '=', the value exactly DMARC1, then *WSP and ';' or the
 * end. A leading space does not match (TX-01).
 */
int zw_dmarc_is_record(const char *v, size_t len);

/*
 * Parse a DMARC record. On success *out owns the result. A record receivers ignore -
 * v=DMARC1 not first or misspelled (DM-03), a duplicate tag (DM-10), a NUL byte - gives
 * ZW_EINVAL, the findings say why, and *out stays NULL. ZW_ENOMEM when out of memory.
 */
int zw_dmarc_parse(struct zw_dmarc **out, const char *v, size_t len, struct zw_findings *fs,
		   struct zw_error *err);
void zw_dmarc_free(struct zw_dmarc *d);

/* The value of tag `name` (lower case), or NULL when absent. Borrowed. */
const char *zw_dmarc_tag(const struct zw_dmarc *d, const char *name);

/* Append the record as it was parsed (print(parse(x)) == x). */
int zw_dmarc_print(struct zw_buf *out, const struct zw_dmarc *d);
/* Append the canonical form: lower-case tag names, "; " between tags, record order. */
int zw_dmarc_print_canonical(struct zw_buf *out, const struct zw_dmarc *d);

/* DM-12: sp=none or np=none under an enforcing p, or p=none. 0 or ZW_ENOMEM. */
int zw_dmarc_check_weak(const struct zw_dmarc *d, struct zw_findings *fs);
/* DM-18: a parked domain (parked != 0) should have p=reject and sp=reject. */
int zw_dmarc_check_parked(const struct zw_dmarc *d, int parked, struct zw_findings *fs);
/* DM-19: psd=y on a domain the caller knows is not a public suffix domain (is_psd == 0). */
int zw_dmarc_check_psd(const struct zw_dmarc *d, int is_psd, struct zw_findings *fs);

const char *zw_dmarc_policy_name(enum zw_dmarc_policy p);

/*
 * The authorisation query names for an external report destination (RFC 7489 §7.1,
 * RFC 9990): "<policy-domain>._report._dmarc.<dest-host>" and
 * "*._report._dmarc.<dest-host>", lower case, without a trailing dot (one on the inputs
 * is ignored). Either out pointer may be NULL; the caller frees with zw_free. ZW_EINVAL
 * when an input is not a domain name or the result exceeds 253 characters or a label 63.
 */
int zw_dmarc_report_auth_names(char **name, char **wildcard, const char *policy_domain, const char *dest_host,
			       struct zw_error *err);

/*
 * How to find a name's organizational domain. Give either a callback or a list of
 * public suffixes (lower case, no leading or trailing dot: "com", "co.uk").
 *  - callback: orgdomain(ctx, name, &off) sets off to where the organizational domain
 *    starts in name (it is a suffix of name); it returns 0, or a negative error.
 *  - list: the organizational domain is the longest listed suffix of the name (at a
 *    label boundary) plus one label; with no listed suffix, the last label counts as the
 *    suffix (the Public Suffix List's implicit "*" rule). A name that is itself a listed
 *    suffix is its own organizational domain.
 * Comparison ignores case and a trailing dot.
 */
struct zw_dmarc_orgrule {
	const char *const *suffixes;
	size_t nsuffixes;
	int (*orgdomain)(void *ctx, const char *name, size_t *off);
	void *ctx;
};

/* Set *off to where name's organizational domain starts. 0, or the callback's error. */
int zw_dmarc_orgdomain(size_t *off, const char *name, const struct zw_dmarc_orgrule *rule);
/* 1 when a and b share an organizational domain, 0 when not, negative on error. */
int zw_dmarc_same_orgdomain(const char *a, const char *b, const struct zw_dmarc_orgrule *rule);
/* 1 when the URI's host needs an authorisation record for policy_domain, 0 when not
 * (same organizational domain, or no host), negative on error. */
int zw_dmarc_uri_is_external(const struct zw_dmarc_uri *u, const char *policy_domain,
			     const struct zw_dmarc_orgrule *rule);

#endif
