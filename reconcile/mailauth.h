/*
 * mailauth.h - the live mail-authentication diagnosis of one domain (`zonewarden check`):
 * SPF evaluated over the resolver, DKIM selectors followed through CNAMEs to the key,
 * DMARC external report authorisation (RFC 7489 §7.1), and the dangling or looping
 * CNAMEs of claimed names (CATALOGUE A.5, A.6, A.7, A.8).
 *
 * How the orchestration (check.c) drives it, for every domain at once:
 *
 *     zw_mailauth_new(&m, domain, ds, selectors, nsel, err);
 *     zw_mailauth_questions(m, &qs, &nq);          add qs to the domain's observation
 *     zw_resolver_observe(r, &obs, domain, qs..);  (with the check's own questions)
 *     zw_resolver_run(r)
 *     loop: for every domain, rc = zw_mailauth_step(m, r, obs, err);
 *           if any rc == 1: zw_resolver_run(r) and loop again
 *     zw_mailauth_diagnose(fs, m, obs, err);       then zw_mailauth_free(m) (after
 *                                                   the findings are used or copied)
 *
 * Each step reads what the previous runs brought (the observation's resolved answers and
 * the lookups this object submitted), and submits the lookups the evaluation needs next:
 * the SPF include/redirect targets and the a/mx/exists/ptr names a static walk queries,
 * the targets of DKIM CNAMEs, the report-authorisation names and the MX of report
 * mailbox domains. Every lookup is zw_resolver_lookup() from the root; the results are
 * kept in a table per (name, type), so a name asked twice is looked up once. Stepping is
 * bounded (ZW_MAILAUTH_MAX_ROUNDS rounds and ZW_MAILAUTH_MAX_LOOKUPS lookups per
 * domain), so a hostile world cannot make it loop: past the bound step returns 0 and the
 * diagnosis reports what was left unknown as a temperror.
 *
 * Ownership: zw_mailauth_new copies what it needs from `domain` and `selectors`; `ds`
 * (and the manifest behind it) is borrowed and must outlive the object (the manifest
 * locations of findings point into it). The observation passed to step/diagnose is
 * borrowed for the call. Every lookup submitted is owned by the object and freed by
 * zw_mailauth_free(); do not free the resolver before zw_resolver_run() has completed the
 * lookups of the last step (freeing the resolver after run is fine: lookups own their
 * memory). No global state.
 */
#ifndef ZW_MAILAUTH_H
#define ZW_MAILAUTH_H

#include <stddef.h>

#include "reconcile/desired.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"
#include "reconcile/resolve.h"
#include "reconcile/spf.h"

#define ZW_MAILAUTH_MAX_ROUNDS                                                                               \
	40			    /* steps that may submit lookups, per domain (an include                 \
				     * chain needs one round per level; spf.c nests 32 deep) */
#define ZW_MAILAUTH_MAX_LOOKUPS 500 /* distinct (name, type) lookups, per domain */

struct zw_mailauth; /* one domain's live mail-auth diagnosis in progress */

/*
 * `domain`: "example.com" or "example.com." (any case). `ds` may be NULL (check --domain):
 * then the DKIM selectors are `selectors[0..nsel)` (nsel may be 0: no DKIM checks), and
 * there are no claimed CNAMEs and no manifest locations. With `ds`, `selectors` is
 * ignored: the DKIM selectors, CNAMEs, bulkSender, DKIM state/expectAbsent/
 * publicKeySha256 come from ds->domain. 0, ZW_EINVAL (a bad domain or selector name),
 * ZW_ENOMEM.
 */
int zw_mailauth_new(struct zw_mailauth **out, const char *domain, const struct zw_desired *ds,
		    const char *const *selectors, size_t nsel, struct zw_error *err);

/*
 * The (name, type) questions to add to the domain's observation: TXT at the apex,
 * TXT at _dmarc.<domain>, TXT and CNAME at <sel>._domainkey.<domain> for each selector,
 * CNAME at every claimed CNAME name. Names are absolute, lower case. The array and its
 * strings belong to `m` (valid until zw_mailauth_free). Returns 0.
 */
int zw_mailauth_questions(const struct zw_mailauth *m, const struct zw_question **qs, size_t *nq);

/*
 * After zw_resolver_run(): submit on `r` the follow-up lookups the diagnosis needs next.
 * Returns 1 when it submitted lookups (run the resolver again, then step every domain
 * again), 0 when it has all it needs (or reached its bounds), <0 on error (ZW_ENOMEM, or
 * what zw_resolver_lookup returns; a name it refuses is answered as NXDOMAIN). `obs` is the domain's
 * observation filled by the run (it may be NULL: then the apex, _dmarc and selector
 * answers are looked up from the root by the first step instead).
 */
int zw_mailauth_step(struct zw_mailauth *m, struct zw_resolver *r, const struct zw_obs *obs,
		     struct zw_error *err);

/*
 * Append the findings of the live diagnosis to fs, each with domain, owner name, type
 * and (when the value comes from the manifest) the manifest location:
 *   SPF   SP-01 (no SPF; ERROR for a bulk sender), SP-09 SP-10 SP-11 SP-12 SP-13 SP-15
 *         from zw_spf_evaluate's static walk over the looked-up answers (with the
 *         chain, e.g. "requires 11/10"), the ERROR-level grammar findings and SP-02 of
 *         records met on the way (include/redirect targets, named by their owner),
 *         SP-15 WARNING when the walk gives temperror or lacked an answer (said so),
 *         SP-16 (+all) and SP-18 (ptr) from the live apex record;
 *   DKIM  DK-01 (no key: NXDOMAIN/NODATA, at the name or the end of its CNAMEs), what
 *         zw_dkim_parse gives for the live key (DK-02..DK-13, DK-16; DK-06 at INFO when
 *         the manifest says state: revoked or expectAbsent), DK-14 for several keys at
 *         a CNAME target, DK-15 (publicKeySha256 differs), ZW-02 for a usable key at
 *         an expectAbsent selector (a revoked record there is fine: DK-06 INFO);
 *   DMARC DM-01 (no record at _dmarc.<domain> nor at its organizational domain; ERROR
 *         for a bulk sender), DM-07 (external rua/ruf mailto: host without exactly one
 *         v=DMARC1 authorisation record, checkdmarc's "Authorization record not found:
 *         <name> IN TXT "v=DMARC1"" in the fix), DM-08 (rua mailbox domain without MX);
 *   CNAME CN-03 (dangling: the end of the chain is NXDOMAIN, or has no TXT for a DKIM
 *         selector; or a claimed target that does not exist), CN-04 (loop, or cut after
 *         ZW_RESOLVE_MAX_CNAMES: ERROR; more than 2 hops: NOTICE) for every claimed
 *         CNAME and every selector reached through CNAMEs;
 *   SES   SE-01 when some of the manifest's <token>.dkim.amazonses.com CNAMEs are not
 *         live and resolving to a key.
 * Failed lookups give no verdict (the delegation findings say why). Stray characters,
 * SP-02/DM-02/DK-14 at the domain's own owners and the grammar of the apex SPF and the
 * DMARC record are zw_inspect_owner's, not repeated here (see zw_mailauth_dedupe for
 * the overlap that is). 0 or ZW_ENOMEM.
 */
int zw_mailauth_diagnose(struct zw_findings *fs, struct zw_mailauth *m, const struct zw_obs *obs,
			 struct zw_error *err);

/*
 * The static SPF walk of the domain over what the steps looked up, as diagnose runs it:
 * the verdict for a client address no term lists (permerror when a limit or an error is
 * met anywhere), the lookup and void-lookup counts, the record tree. For `check
 * --domain` output and the differential test. Free with zw_spf_result_free(). 0,
 * ZW_EINVAL (a domain the evaluator refuses), ZW_ENOMEM. *missing (may be NULL) is the
 * number of answers the table lacked (answered as temperror; 0 unless a bound was hit).
 */
int zw_mailauth_spf_result(struct zw_spf_result *out, size_t *missing, struct zw_mailauth *m,
			   const struct zw_obs *obs, struct zw_error *err);

void zw_mailauth_free(struct zw_mailauth *m);

/*
 * Parsed DKIM key records shared by the domains of one check, so that a record many
 * domains publish (an ESP's key behind every selector's CNAME) is parsed once. Only a
 * record that parses with no finding is kept, keyed by its octets and the expectation
 * (revoked or not): the same key gives the same result. At most ZW_MAILAUTH_KEYS
 * records; later ones are parsed every time. Owned by the caller, used by one thread,
 * freed after every zw_mailauth that uses it. NULL when out of memory.
 */
#define ZW_MAILAUTH_KEYS 256
struct zw_mailauth_keys;
struct zw_mailauth_keys *zw_mailauth_keys_new(void);
void zw_mailauth_keys_free(struct zw_mailauth_keys *k);
/* Let m's diagnosis use k (NULL: parse every key). */
void zw_mailauth_set_keys(struct zw_mailauth *m, struct zw_mailauth_keys *k);

/*
 * Overlap with zw_inspect_owner. When check also runs zw_inspect_owner on what the
 * servers answer, that reports SP-16 and SP-18 at the apex and the DKIM key classes
 * (DK-02..DK-10, DK-12, DK-13, DK-16) of a selector published in the zone itself, which
 * mailauth reports too, with the manifest's context (DK-06 at INFO for state: revoked or
 * expectAbsent). Append inspect's findings at [from, mine) and mailauth's at [mine, n),
 * then call this: it removes from [from, mine) every finding of those classes whose
 * (id, owner name) mailauth also reported. Order of the rest is kept.
 */
void zw_mailauth_dedupe(struct zw_findings *fs, size_t from, size_t mine);

/* ---- pure parts, exposed for the tests ---- */

/*
 * The organizational domain used to decide whether a report destination is external:
 * the last two labels of `name`, or the last three when the second-to-last label is one
 * of the common second-level registry labels (co, com, net, org, gov, edu, ac, ...) and
 * the last label is a two-letter country code ("mail.example.co.uk" → "example.co.uk").
 * This is the simple documented rule, not the Public Suffix List. Writes the result,
 * lower case, without a trailing dot, to out (outsz bytes). 0, or ZW_EINVAL when it
 * does not fit.
 */
int zw_mailauth_org_domain(char *out, size_t outsz, const char *name);

enum zw_report_auth {
	ZW_REPORT_AUTH_OK,	/* exactly one record starting with "v=DMARC1" */
	ZW_REPORT_AUTH_NONE,	/* no such record at the name nor at the wildcard */
	ZW_REPORT_AUTH_SEVERAL, /* more than one at the name used */
	ZW_REPORT_AUTH_UNKNOWN, /* the lookups failed (temperror): no verdict */
};

/*
 * RFC 7489 §7.1 decision from the TXT values found at <policy>._report._dmarc.<host>
 * (`exact`, n_exact values) and at *._report._dmarc.<host> (`wild`): the exact name is
 * used when it holds any v=DMARC1 record, else the wildcard. A value counts when it
 * begins with "v=DMARC1" (case-insensitive) followed by ';', space or the end.
 * `failed` is 1 when a lookup failed (no answer): then UNKNOWN unless one name already
 * gives a verdict.
 */
enum zw_report_auth zw_mailauth_report_auth(const char *const *exact, const size_t *exact_lens,
					    size_t n_exact, const char *const *wild, const size_t *wild_lens,
					    size_t n_wild, int failed);

#endif
