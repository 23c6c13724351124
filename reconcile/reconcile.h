/*
 * reconcile.h - one pass of the pipeline for `plan` and `apply`, over every domain of a
 * manifest set: provider listing → delegation gate → plan → (apply → verify).
 *
 * Writes happen only in a zone that is managed AND delegated: the parent's NS set must
 * be the provider's (DL-01 otherwise: a split delegation names both sets; DL-11 when the
 * parent does not delegate at all), and only for plans that passed the safety rail.
 * Verify polls every delegated server until each change is visible there or the verify
 * timeout ends, and records "visible on N/M servers" in each change.
 */
#ifndef ZW_RECONCILE_H
#define ZW_RECONCILE_H

#include "reconcile/manifest.h"
#include "reconcile/plan.h"

struct zw_dns_stats;
struct zw_http_hooks;

struct zw_run_opts {
	int fix_mistakes;
	int force;
	const char *root_hints; /* NULL: $ZONEWARDEN_ROOT_HINTS, else the built-in hints */
	const char *plugin_dir;
	double verify_timeout;	 /* seconds */
	unsigned dns_timeout_ms; /* per query; 0: the transport's default */
	int fix_delegation;	 /* --fix-delegation: apply asks the registrar (Route 53 Domains) */
	long wait_insync;	 /* --wait-insync SECONDS for providers that offer it; 0: no */
	/* only these domains (indices into ms->domains are kept when selected[i]); NULL: all */
	const unsigned char *selected;
	struct zw_dns_stats *dns_stats;		/* NULL, or the DNS queries are counted there (dns.h) */
	const struct zw_http_hooks *http_hooks; /* NULL, or hooks for the providers' HTTP client */
};

struct zw_run_state; /* the providers opened while planning, reused by apply */

struct zw_run {
	struct zw_plan *plans; /* one per planned domain */
	size_t n;
	struct zw_findings findings; /* gate findings and the plans' notes */
	char checksum[65];
	int verify_timed_out;
	int apply_failed; /* some change failed or a provider call failed */
	struct zw_run_state *state;
};

/* Plan every (selected) domain. A provider that cannot be opened or listed is a failed
 * plan with its error (the other domains are still planned). 0 or ZW_ENOMEM. */
int zw_run_plan(struct zw_run *out, const struct zw_manifests *ms, const struct zw_run_opts *o,
		struct zw_error *err);
/* Apply the plans that are not gated, refused or failed, then verify. A plan gated by
 * the delegation, whose MailDomain says fixDelegation (or --fix-delegation), asks the
 * provider to fix the delegation at the registrar instead (a finding says the outcome). */
int zw_run_apply(struct zw_run *run, const struct zw_manifests *ms, const struct zw_run_opts *o,
		 struct zw_error *err);
void zw_run_free(struct zw_run *run);

#endif
