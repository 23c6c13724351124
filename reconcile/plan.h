/*
 * plan.h - the changeset that makes a provider's zone hold what the manifests claim
 * (SPEC §6). Desired records vs the PROVIDER's state decide the changes; live DNS decides
 * findings and verification, never the diff.
 *
 * Ownership (docs/ownership.md):
 *  - declaring spf: claims the SPF value at the apex, dmarc: the DMARC value at _dmarc,
 *    each DKIM selector and each CNAME its whole name. A claimed value is recognised by
 *    its role after the stray characters are normalised away, so ` v=spf1 ...` and a
 *    second `v=spf1` record are the values being replaced, never a reason to add one.
 *  - every other value is foreign and is kept byte for byte in the rrset we rewrite.
 *  - every value zonewarden writes is recorded at the provider, readable with dig:
 *        _zonewarden.<name>. TXT "zonewarden-owner=<id>; type=<TYPE>; sha256=<hex>"
 *    (sha256 of the value's bytes: the TXT strings joined, or the canonical target).
 *    policy: sync deletes only values such a record proves this owner wrote.
 *
 * Policies: upsert-only (default) creates and updates claimed values; sync also deletes
 * owned values no manifest claims any more; create-only only creates rrsets that do not
 * exist. Mistakes that duplicate a desired record (its apex-doubled twin) are deleted,
 * labelled as mistakes, under sync, or under any policy but create-only with
 * fix_mistakes; otherwise only reported.
 *
 * Safety rail: a plan that deletes or replaces more than 30 % of the zone's records, or
 * touches the apex NS or SOA, is refused unless forced.
 *
 * The checksum is the sha256 of the canonical JSON of the sorted changes alone (no times,
 * no findings): `apply --plan-checksum` compares it with the reviewed plan.
 */
#ifndef ZW_PLAN_H
#define ZW_PLAN_H

#include <stdio.h>

#include "reconcile/buf.h"
#include "reconcile/desired.h"
#include "reconcile/zonestate.h"

#define ZW_OWNER_PREFIX	  "_zonewarden."
#define ZW_SAFETY_PERCENT 30

enum zw_op { ZW_OP_CREATE, ZW_OP_UPDATE, ZW_OP_DELETE };

struct zw_change {
	enum zw_op op;
	struct zw_rrset before; /* UPDATE, DELETE: the provider's rrset (the prerequisite) */
	struct zw_rrset after;	/* CREATE, UPDATE: the rrset to publish */
	char reasons[96];	/* the finding ids behind it, "TX-01,SP-02"; "ZW-01" missing */
	int mistake;		/* deletes a labelled mistake (the NM-01 twin) */
	int bookkeeping;	/* an ownership record, not a claimed value */
	struct zw_loc loc;	/* the manifest entry that claims it, if any */
	/* filled by apply and verify (not part of the checksum): */
	int result;	      /* enum zw_prov_result; 0 (not applied) until apply */
	char *message;	      /* the provider's word on it, or NULL */
	int visible, servers; /* verify: seen on `visible` of `servers`; -1 before */
};

struct zw_plan_opts {
	const char *owner_id; /* the MailDomain's metadata.name */
	int fix_mistakes;     /* --fix-mistakes */
	int force;	      /* --force: pass the safety rail */
};

struct zw_plan {
	char *domain; /* "example.com" */
	struct zw_change *v;
	size_t n;
	size_t zone_records; /* records in the zone before (bookkeeping excluded) */
	size_t touched;	     /* records deleted or replaced (bookkeeping excluded) */
	int refused;	     /* the safety rail refused it */
	char refusal[256];
	struct zw_findings notes; /* mistakes left in place, with the exact delete */
	/* filled by the pipeline (reconcile.c), for the outputs: */
	char *zone;	      /* the provider's zone apex */
	char *zone_id;	      /* the provider's id for it */
	const char *provider; /* the Provider's name (borrowed) */
	int gated;	      /* no write: a finding says why (DL-01, DL-11, ...) */
	char *error;	      /* the provider failed: one line */
};

int zw_plan_build(struct zw_plan *out, const struct zw_desired *ds, const struct zw_zonestate *zs,
		  const struct zw_plan_opts *opts, struct zw_error *err);
void zw_plan_free(struct zw_plan *p);
/* sha256 hex (64 digits) over the canonical JSON of the sorted changes of all plans. */
int zw_plan_checksum(char out[65], const struct zw_plan *plans, size_t n, struct zw_error *err);
/* The canonical JSON itself (what the checksum is computed over). */
int zw_plan_canonical_json(struct zw_buf *out, const struct zw_plan *plans, size_t n);
const char *zw_op_name(enum zw_op op);

#endif
