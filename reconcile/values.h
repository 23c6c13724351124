/*
 * values.h - the offline checks of every desired value (SPEC §3 "Values are checked at
 * load"; CATALOGUE "M" checks).
 *
 * For each MailDomain the desired records are built and each value goes through the
 * record grammars (SPF, DKIM, DMARC, names). A problem at ERROR or above makes the
 * manifest invalid: it becomes an input error at the manifest line that wrote the value
 * (`file:line:col: spec.spf: SP-07 SPF_BAD_NETWORK: ...`), so `validate` exits 1 and
 * nothing is ever planned from it. Lower levels stay findings with that location.
 */
#ifndef ZW_VALUES_H
#define ZW_VALUES_H

#include "reconcile/desired.h"
#include "reconcile/manifest.h"

/* Check one domain's desired records; findings get domain, name, type and location. */
int zw_values_check(struct zw_findings *fs, const struct zw_desired *ds, struct zw_error *err);
/* The domain as a whole, never an input error: SP-01/DM-01 (missing; ERROR for bulk
 * senders), DM-14 (enforcing without DKIM), DK-11, SP-22/DM-18 (parked), DM-12 (weak). */
int zw_values_check_policy(struct zw_findings *fs, const struct zw_desired *ds, struct zw_error *err);
/* Check every domain of a loaded set (without input errors), moving findings at ERROR or
 * above into ms->errors and the rest into ms->findings. 0, or ZW_ENOMEM. */
int zw_values_check_all(struct zw_manifests *ms, struct zw_error *err);

#endif
