/*
 * zonestate.h - a zone's records as a provider holds them: the input of the plan.
 *
 * The provider's listing (whatever its API) becomes this one shape: rrsets keyed by
 * (name, type), each with its TTL and records. TXT records keep their byte strings
 * (struct zw_txt), so comparisons are on bytes, never on a provider's presentation
 * format; other types keep their presentation text (a CNAME's "target.example.net.").
 * Owns: every rrset and record in it.
 */
#ifndef ZW_ZONESTATE_H
#define ZW_ZONESTATE_H

#include <stdint.h>

#include "reconcile/error.h"
#include "reconcile/txt.h"

struct zw_rdata {
	struct zw_txt txt; /* TXT / SPF (type 99) */
	char *text;	   /* other types: presentation form; CNAME: canonical target */
};

struct zw_rrset {
	char *name; /* canonical: lower case, absolute, trailing dot */
	uint16_t type;
	uint32_t ttl;
	struct zw_rdata *rd;
	size_t nrd;
};

struct zw_zonestate {
	char *zone; /* canonical apex */
	struct zw_rrset *v;
	size_t n;
};

int zw_zonestate_init(struct zw_zonestate *zs, const char *zone, struct zw_error *err);
/* Add one record to the rrset (name, type), creating the rrset on first use. A TXT
 * record is given as `txt` (copied), any other as `text` (copied). A record equal to one
 * the rrset already holds is kept once. The TTL of the last record added wins (RFC 2181
 * §5.2: one TTL per rrset). */
int zw_zonestate_add(struct zw_zonestate *zs, const char *name, uint16_t type, uint32_t ttl,
		     const struct zw_txt *txt, const char *text, struct zw_error *err);
struct zw_rrset *zw_zonestate_find(const struct zw_zonestate *zs, const char *name, uint16_t type);
/* Record count (what the 30 % safety rail counts). */
size_t zw_zonestate_records(const struct zw_zonestate *zs);
int zw_rdata_equal(const struct zw_rdata *a, const struct zw_rdata *b, uint16_t type);
int zw_rdata_copy(struct zw_rdata *out, const struct zw_rdata *in);
void zw_rdata_clear(struct zw_rdata *rd);
int zw_rrset_copy(struct zw_rrset *out, const struct zw_rrset *in);
void zw_rrset_clear(struct zw_rrset *r);
void zw_zonestate_free(struct zw_zonestate *zs);

#endif
