/*
 * inspect.h - the record-level diagnosis of one owner name, shared by `lint` (records
 * from a zone file) and `check` (records seen on the authoritative servers).
 *
 * Given every TXT and CNAME record at one owner, and the zone apex, it reports: stray
 * characters (A.1, through stray.c) with the normalised value to publish; each value's
 * role and its grammar (SPF, DKIM, DMARC, after normalisation, so the most specific
 * finding wins); records at the wrong owner (NM-03/04), the doubled apex (NM-01), an
 * origin appended to a target (NM-02); more than one SPF / DMARC / DKIM record (SP-02,
 * DM-02, DK-14); one record split over several RRs (TX-12); unrelated TXT at _dmarc
 * (DM-15); CNAME beside other data, at the apex, or twice (CN-01/02/06); SES Easy DKIM
 * targets mangled (SE-02); SPF only as type 99 (SP-04); wildcards answering mail names
 * (NM-06). Every finding has a fix.
 */
#ifndef ZW_INSPECT_H
#define ZW_INSPECT_H

#include <stdint.h>

#include "reconcile/finding.h"
#include "reconcile/txt.h"

struct zw_irr {
	uint16_t type;		  /* 16 TXT, 5 CNAME, 99 SPF, or another type */
	const struct zw_txt *txt; /* TXT / SPF */
	const char *target;	  /* CNAME: decoded canonical target */
	struct zw_loc loc;	  /* where it was written (lint), or none */
};

struct zw_owner {
	const char *owner; /* decoded canonical */
	const struct zw_irr *rrs;
	size_t n;
};

int zw_inspect_owner(struct zw_findings *fs, const struct zw_owner *o, const char *apex, const char *domain,
		     struct zw_error *err);

#endif
