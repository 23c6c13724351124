/*
 * status.h - a MailDomain's status as the controller writes it (K8S.md "Status and
 * conditions"): observedGeneration, the conditions Ready, Delegated and InSync
 * (metav1.Condition: lastTransitionTime changes only when a status flips), a capped list
 * of findings, their count, the pending change count and the last apply time.
 * Pure: the controller passes what a cycle found and the previous status.
 */
#ifndef ZW_STATUS_H
#define ZW_STATUS_H

#include <cjson/cJSON.h>

#include "reconcile/finding.h"

#define ZW_STATUS_MAX_FINDINGS 20

struct zw_status_input {
	long long generation;
	const char *invalid;	    /* the spec did not load: the first error line, else NULL */
	const char *provider_error; /* the provider failed: its line, else NULL */
	const char *not_delegated;  /* the gate's finding message, else NULL */
	size_t pending;		    /* changes planned and not (yet) applied */
	int dry_run;		    /* pending because of --dry-run */
	int verify_timed_out;
	int deleting;			    /* deletionTimestamp is set */
	const struct zw_findings *findings; /* this domain's, sorted; may be NULL */
	const char *last_apply_time;	    /* RFC 3339 when this cycle applied, else NULL */
};

/* The whole status object. prev: the object's current status (or NULL); now: RFC 3339.
 * NULL when out of memory. */
cJSON *zw_status_build(const struct zw_status_input *in, const cJSON *prev, const char *now);

/* Find a condition's status ("True", "False", "Unknown") in a status object; NULL. */
const char *zw_status_condition(const cJSON *status, const char *type);

/* "2026-11-23T12:00:00Z" for t (seconds since the epoch) into out (at least 32 bytes). */
void zw_rfc3339(char *out, size_t outsz, long long t);

#endif
