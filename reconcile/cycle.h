/*
 * cycle.h - one reconcile cycle over a set of domains, as `plan`, `apply` and every
 * controller worker run it: plan (provider listing, delegation gate, changes), then apply
 * and verify when asked, then the live diagnosis of the same domains after any write, and
 * every finding gathered in one list (the manifest's value findings of those domains, the
 * gate's and plans' notes, the live check's), without duplicates.
 *
 * The manifests are only read, so several workers may run cycles on one set at once.
 */
#ifndef ZW_CYCLE_H
#define ZW_CYCLE_H

#include "reconcile/check.h"
#include "reconcile/reconcile.h"

struct zw_cycle_opts {
	struct zw_run_opts run;	    /* .selected picks the domains; NULL: all */
	struct zw_check_opts check; /* the live diagnosis */
	int apply;		    /* write and verify */
	const char *plan_checksum;  /* apply only when the plan's checksum is this one */
	/* asked just before writing (the controller: still leading?); NULL: yes */
	int (*may_write)(void *arg);
	void *may_write_arg;
};

struct zw_cycle {
	struct zw_run run;
	struct zw_findings findings; /* unsorted */
	const char **domains;	     /* the selected domains' names (borrowed from ms) */
	size_t ndomains;
	size_t changes; /* changes of plans not gated */
	int applied;	/* apply ran */
};

/* 0, or an error with one line in err: ZW_ECONFLICT when plan_checksum differs (nothing
 * was applied), ZW_ENOMEM, or what planning or the live check failed with. Per-domain
 * provider failures are not errors here: they are in run.plans[i].error. out is always
 * initialised; free it with zw_cycle_free whatever the result. */
int zw_cycle_run(struct zw_cycle *out, const struct zw_manifests *ms, const struct zw_cycle_opts *o,
		 struct zw_error *err);
void zw_cycle_free(struct zw_cycle *c);

#endif
