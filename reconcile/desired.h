/*
 * desired.h - the desired state: the records one MailDomain claims (SPEC §3, §6).
 *
 * SPF TXT at the apex, the DMARC TXT at _dmarc, each DKIM selector's TXT or CNAME, each
 * CNAME. Values are byte-exact: SPF is built in a canonical term order, DMARC and DKIM in
 * a fixed tag order, and a TXT value longer than 255 octets becomes several strings.
 * Each record remembers the manifest line that claims it, and for SPF which byte span of
 * the value came from which manifest entry, so a problem in the value points at the line.
 */
#ifndef ZW_DESIRED_H
#define ZW_DESIRED_H

#include <stdint.h>

#include "reconcile/manifest.h"
#include "reconcile/txt.h"

#define ZW_TYPE_CNAME 5
#define ZW_TYPE_TXT   16

enum zw_claim { ZW_CLAIM_SPF, ZW_CLAIM_DMARC, ZW_CLAIM_DKIM, ZW_CLAIM_CNAME };

/* Which bytes [off, next span's off) of a value came from which manifest entry. */
struct zw_span {
	size_t off;
	struct zw_loc loc;
};

struct zw_record {
	char *name;    /* canonical owner */
	uint16_t type; /* ZW_TYPE_TXT or ZW_TYPE_CNAME */
	uint32_t ttl;
	struct zw_txt txt; /* TXT: the value as strings */
	char *target;	   /* CNAME: canonical target */
	enum zw_claim claim;
	const char *selector;  /* DKIM: borrowed from the manifest */
	struct zw_loc loc;     /* the manifest entry that claims it */
	struct zw_span *spans; /* SPF: per-term locations */
	size_t nspans;
};

struct zw_desired {
	const struct zw_domain *domain; /* borrowed */
	struct zw_record *v;
	size_t n;
};

int zw_desired_build(struct zw_desired *out, const struct zw_domain *d, struct zw_error *err);
void zw_desired_free(struct zw_desired *ds);
/* The manifest location of byte `off` of a record's value (the record's own if unknown). */
struct zw_loc zw_record_loc_at(const struct zw_record *r, long off);
const char *zw_type_name(uint16_t type);
const char *zw_claim_name(enum zw_claim c);

#endif
