/*
 * role.h - what a TXT value is for (its role), and where a record of that role must live.
 *
 * Recognition runs on the logical value (the strings of one RR joined), normally AFTER the
 * stray-character classifier has normalised it (stray.h), so that ` v=spf1 …` or
 * `v=DMARC1；p=reject` is still recognised as the broken SPF or DMARC record it was meant
 * to be and the plan replaces it instead of adding a second one.
 *
 * Two levels:
 *  - exact: the selection rule of the RFC (SPF: `v=spf1` then SP or the end, any case,
 *    RFC 7208 §4.5; DMARC: first tag `v` = `DMARC1`, RFC 9989 §4.8; DKIM: first tag
 *    `v=DKIM1`, or, at a _domainkey owner (hint), any tag-list with a `p` tag, RFC 6376
 *    §3.6.1; STS/TLS-RPT/BIMI: their version tag first, case-sensitive);
 *  - near: what a human meant (leading blanks or quotes, any case, blanks around `=`, a
 *    missing separator after the version): `*near` is set to 1.
 *
 * The owner checks report NM-03 (record at the wrong owner) and NM-04 (underscore label
 * lost or altered), plus BI-02 for a BIMI record without a selector.
 */
#ifndef ZW_ROLE_H
#define ZW_ROLE_H

#include <stddef.h>

#include "reconcile/error.h"
#include "reconcile/finding.h"

enum zw_role {
	ZW_ROLE_NONE = 0,     /* foreign or unknown text */
	ZW_ROLE_SPF,	      /* v=spf1 (RFC 7208) */
	ZW_ROLE_SENDER_ID,    /* spf2.0/<scopes> (RFC 4406, historic) */
	ZW_ROLE_DKIM,	      /* DKIM key record (RFC 6376 §3.6.1) */
	ZW_ROLE_DMARC,	      /* DMARC policy record (RFC 9989) */
	ZW_ROLE_DMARC_REPORT, /* report authorisation, <d>._report._dmarc.<dest> (RFC 9990) */
	ZW_ROLE_STS,	      /* v=STSv1 (RFC 8461 §3.1) */
	ZW_ROLE_TLSRPT,	      /* v=TLSRPTv1 (RFC 8460 §3) */
	ZW_ROLE_BIMI,	      /* v=BIMI1 (draft-brand-indicators-for-message-identification) */
	ZW_ROLE_VERIFICATION, /* a site verification token: google-site-verification=, MS=ms… */
	ZW_ROLE_COUNT
};

struct zw_role_info {
	enum zw_role role;
	const char *name;      /* "spf", "dkim", ... */
	const char *version;   /* the version tag as it must be written: "v=spf1" */
	const char *grammar;   /* where the record grammar is: "RFC 7208 §12" */
	const char *owner_ref; /* where its owner name is fixed: "RFC 7489 §6.1" */
	int tag_list;	       /* 1: tag=value pairs separated by ';' */
};

/* The row of a role (never NULL for a valid role). */
const struct zw_role_info *zw_role_info(enum zw_role role);
const char *zw_role_name(enum zw_role role);

/*
 * Recognise the role of a value. `hint` is the role expected at the owner (see
 * zw_role_of_owner): with ZW_ROLE_DKIM a tag-list holding a `p` tag is a DKIM key even
 * without `v=DKIM1`, and with ZW_ROLE_DMARC_REPORT a DMARC record is a report
 * authorisation. `near` (may be NULL) is set to 1 when only the lenient rules matched.
 */
enum zw_role zw_role_detect(int *near, const char *v, size_t len, enum zw_role hint);

/*
 * The role an owner name is reserved for: _dmarc.<d> gives DMARC, <s>._domainkey.<d>
 * DKIM, <d>._report._dmarc.<h> DMARC_REPORT, _mta-sts.<d> STS, _smtp._tls.<d> TLSRPT,
 * <s>._bimi.<d> BIMI; anything else NONE. Names are compared case-insensitively, with or
 * without the trailing dot.
 */
enum zw_role zw_role_of_owner(const char *owner);

/*
 * Check that a record of `role` sits at an owner where receivers look for it. `owner`
 * must be `apex` or below it (else ZW_EINVAL). Appends at most one finding: NM-04 when
 * the service label lost or changed its underscore (`dmarc.example.com.`,
 * `s1.domainkey.example.com.`), NM-03 when the record is elsewhere (`example.com.` for
 * DMARC, `s1.example.com.` for DKIM, `mta-sts.example.com.` for STS), BI-02 for a BIMI
 * record at `_bimi.<d>` without a selector. The finding's `expected` is the owner where
 * the record belongs (absolute, trailing dot). 0, ZW_EINVAL or ZW_ENOMEM.
 */
int zw_role_check_owner(struct zw_findings *fs, const char *owner, const char *apex, enum zw_role role,
			struct zw_error *err);

#endif
