/*
 * check.h - `zonewarden check`: the live diagnosis of any number of domains (SPEC §4,
 * §5), as the world sees them, with no provider credentials.
 *
 * For every domain: the desired records (zw_desired_build, when a MailDomain is given),
 * the questions (each claimed name and type, its doubled form `<name><apex>` for the
 * NM-01 probe, and zw_mailauth_questions), one observation per domain on one resolver
 * loop (zw_resolver_observe for all of them, then zw_resolver_run), then rounds of
 * follow-up lookups (zw_mailauth_step, zw_deleg_step over every domain until none
 * submits), then the findings of each domain:
 *   1. zw_inspect_owner on each claimed owner's records as the delegated servers answer
 *      them: the first authoritative answer, and every other answer only when the
 *      servers differ (so nothing is reported once per server);
 *   2. zw_deleg_diagnose (delegation, consistency, drift, provider view);
 *   3. zw_mailauth_diagnose (SPF evaluation, DKIM keys through CNAMEs, DMARC reports);
 *   4. the most specific finding wins: a record found at the doubled name (NM-01) or only
 *      at the provider (DL-01) explains its absence, so ZW-01, DK-01, SP-01 and DM-01 at
 *      that name are dropped.
 * Domains are processed in batches of `batch` on a fresh resolver each (its cache holds
 * every answer until it is freed), and each domain's observation and state are freed as
 * soon as its findings are out: memory stays flat for thousands of domains.
 */
#ifndef ZW_CHECK_H
#define ZW_CHECK_H

#include <stddef.h>

#include "reconcile/dns.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"
#include "reconcile/manifest.h"

#define ZW_CHECK_BATCH	    128 /* domains on one resolver at once: about 120 KiB each in flight */
#define ZW_CHECK_MAX_ROUNDS 32	/* follow-up rounds per batch */

/* One domain to check: a MailDomain, or (check --domain) a name and DKIM selectors. */
struct zw_check_target {
	const char *domain;	      /* "example.com" */
	const struct zw_domain *spec; /* borrowed; NULL without manifests */
	const char *const *selectors; /* without manifests: the DKIM selectors */
	size_t nsel;
};

struct zw_check_opts {
	const char *root_hints; /* --root-hints; NULL: $ZONEWARDEN_ROOT_HINTS, else built in */
	double timeout;		/* overall limit in seconds; 0: none */
	size_t batch;		/* 0: ZW_CHECK_BATCH */
	struct zw_dns_opts dns; /* the transport; zeros are its defaults */
	/* Called after each domain's findings are out (may be NULL). */
	void (*progress)(void *arg, size_t done, size_t total);
	void *progress_arg;
};

struct zw_check_stats {
	size_t domains;	  /* checked */
	size_t queries;	  /* sent on the wire, over every batch */
	size_t questions; /* asked of the delegated servers: (name, type) per domain */
	size_t batches;
	size_t runs; /* zw_resolver_run calls */
};

/*
 * Check targets[0..n) and append every finding to fs (domain, name, type filled).
 * `st` may be NULL. 0; ZW_EINVAL (a bad domain or selector, bad root hints: err says
 * which); ZW_ETRANSIENT when opts->timeout ran out (err says how far it got); ZW_ENOMEM.
 */
int zw_check_run(struct zw_findings *fs, struct zw_check_stats *st, const struct zw_check_target *targets,
		 size_t n, const struct zw_check_opts *opts, struct zw_error *err);

#endif
