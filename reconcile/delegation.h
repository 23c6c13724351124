/*
 * delegation.h - the live diagnosis of one domain's delegation, its authoritative servers
 * and its claimed records (CATALOGUE §A.3, §A.4, §B.5; drift against the manifest).
 *
 * It reads a struct zw_obs (resolve.h) the way resolve.h's opening comment lays it out:
 *   the walk and the referrals   DL-11 (not delegated), ZW-05 (parent servers disagree);
 *   parent_ns / child_ns          DL-02 (ERROR), DL-03 (NOTICE), DL-04 (ERROR);
 *   nsnames                       DL-06 (no address), DL-08 (fewer than 2, one IP),
 *                                 DL-13 (NS is a CNAME), DL-14 (glue differs);
 *   servers (SOA, NS)             DL-05 (lame; all lame: CRITICAL, Zonemaster
 *                                 B02_NO_WORKING_NS), DL-07 (unreachable, over UDP or TCP),
 *                                 ZW-04 (malformed answers), CS-02 (serials), CS-03 (NS set,
 *                                 MNAME, RNAME, timers);
 *   questions                     CS-01 (servers disagree on a claimed rrset, TXT compared
 *                                 as byte-string lists), NM-05 (a claimed name below a zone
 *                                 cut), NM-01 (the doubled name `<name>.<apex>` exists),
 *                                 and the drift against the desired records: ZW-01 (absent),
 *                                 ZW-02 (differs, unless a more specific finding explains
 *                                 it), ZW-03 (INFO: each foreign value at a claimed name),
 *                                 TT-02 (TTL differs).
 * The provider's view (SPEC §4 step 2): when the MailDomain lists spec.nameservers and
 * none of them is in the parent's NS set, those servers are asked too (their addresses
 * resolved from the root, then each claimed question asked of each address directly),
 * giving DL-01 (CRITICAL) with the registrar instruction, and one DL-01 per claimed record
 * that is "present at the provider, invisible to the world".
 *
 * How check.c drives it, beside zw_mailauth (same rounds):
 *     zw_deleg_new(&d, domain, ds, names, nnames, err);
 *     zw_deleg_questions(d, &qs, &nq);        add qs to the domain's observation
 *     ... zw_resolver_run(r) ...
 *     while (zw_deleg_step(d, r, obs, err) == 1) zw_resolver_run(r) (with the others)
 *     zw_deleg_diagnose(fs, from, d, obs, err);
 *     zw_deleg_free(d);
 *
 * Ownership: `ds` (and the manifest behind it) is borrowed and must outlive the object;
 * everything else is copied. Lookups submitted by step are owned by the object. No
 * global state.
 */
#ifndef ZW_DELEGATION_H
#define ZW_DELEGATION_H

#include <stddef.h>
#include <stdint.h>

#include "reconcile/desired.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"
#include "reconcile/resolve.h"

struct zw_deleg;

/*
 * `domain`: "example.com" (any case, trailing dot or not). With `ds`, the claims are the
 * desired records and `names` is ignored; without it (check --domain) the claims are the
 * questions `names[0..nnames)` (judged for consistency and probed for a doubled apex, with
 * no drift). 0, ZW_EINVAL (a bad domain or name), ZW_ENOMEM.
 */
int zw_deleg_new(struct zw_deleg **out, const char *domain, const struct zw_desired *ds,
		 const struct zw_question *names, size_t nnames, struct zw_error *err);

/* The questions to add to the observation: every claim and its doubled form
 * `<name><apex>` (NM-01 probe), unique. Owned by d. */
void zw_deleg_questions(const struct zw_deleg *d, const struct zw_question **qs, size_t *nq);

/* The claims (name, type): what check.c inspects record by record. Owned by d. */
void zw_deleg_claims(const struct zw_deleg *d, const struct zw_question **qs, size_t *nq);

/*
 * After zw_resolver_run(): submit the provider-view lookups when they are needed (first
 * the addresses of spec.nameservers, then every claim at every address). 1 when it
 * submitted lookups (run the resolver again, then step again), 0 when done, <0 on error.
 */
int zw_deleg_step(struct zw_deleg *d, struct zw_resolver *r, const struct zw_obs *obs, struct zw_error *err);

/*
 * Append the findings listed above to fs, each with domain, owner name, type, the servers
 * involved, observed and expected values and a fix. Findings [from, fs->n) are this
 * domain's record-level findings already made (zw_inspect_owner on the same answers): a
 * drift one of them explains is not reported again (the most specific finding wins), and
 * a foreign value one of them names is not reported as ZW-03. 0 or ZW_ENOMEM.
 */
int zw_deleg_diagnose(struct zw_findings *fs, size_t from, struct zw_deleg *d, const struct zw_obs *obs,
		      struct zw_error *err);

void zw_deleg_free(struct zw_deleg *d);

/* ---- helpers shared with check.c (and the tests) ---- */

/* The question (name, type) of an observation; NULL if it was not asked. `name` canonical. */
const struct zw_obs_question *zw_deleg_find_question(const struct zw_obs *o, const char *name, uint16_t type);
/* A usable authoritative answer: transport OK, AA=1, DATA, NODATA, NXDOMAIN or CNAME. */
int zw_deleg_answer_authoritative(const struct zw_obs_answer *a);
/* Two answers say the same: kind, rcode, CNAME chain, and the records (TXT compared as
 * lists of byte strings with zw_txt_equal, others by presentation). TTLs are ignored. */
int zw_deleg_answer_same(const struct zw_obs_answer *a, const struct zw_obs_answer *b);
/* A name in presentation form ("\\032u1.example.net.", as ldns prints it) decoded to its
 * label bytes joined by dots, lower case ASCII, as lint reads zone files (" u1.example.net."):
 * so that the stray-character checks see the bytes that were published. */
void zw_deleg_name_decode(char *out, size_t outsz, const char *pres);
/* "ns1.example.net/192.0.2.1" (the Zonemaster ns argument form, no trailing dot). */
void zw_deleg_server_label(char *out, size_t outsz, const char *name, const struct zw_dns_addr *addr);

#endif
