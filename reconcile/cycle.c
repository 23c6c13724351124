/*
 * cycle.c - one reconcile cycle (cycle.h): plan, apply and verify, the live diagnosis,
 * the findings in one list.
 */
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/cycle.h"

int zw_cycle_run(struct zw_cycle *out, const struct zw_manifests *ms, const struct zw_cycle_opts *o,
		 struct zw_error *err)
{
	const unsigned char *sel = o->run.selected;
	struct zw_check_target *targets = NULL;
	struct zw_findings live = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(targets = zw_calloc(ms->ndomains + 1, sizeof(*targets))) ||
	    !(out->domains = zw_calloc(ms->ndomains + 1, sizeof(*out->domains)))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	/* the value findings of the selected domains (all of them when none is selected) */
	if (!sel) {
		rc = zw_findings_copy(&out->findings, &ms->findings, NULL);
	} else {
		rc = 0;
		for (size_t i = 0; i < ms->ndomains && rc == 0; i++)
			if (sel[i])
				rc = zw_findings_copy(&out->findings, &ms->findings, ms->domains[i].domain);
	}
	if (rc) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = zw_run_plan(&out->run, ms, &o->run, err)))
		goto out;
	if (o->apply && o->plan_checksum && strcmp(o->plan_checksum, out->run.checksum) != 0) {
		rc = zw_error_set(
			err, ZW_ECONFLICT,
			"apply: the plan changed since it was reviewed (checksum %s, now %s); nothing was "
			"applied",
			o->plan_checksum, out->run.checksum);
		goto out;
	}
	if (o->apply && (!o->may_write || o->may_write(o->may_write_arg))) {
		if ((rc = zw_run_apply(&out->run, ms, &o->run, err)))
			goto out;
		out->applied = 1;
	}
	/* the live diagnosis of the same domains, after any apply: what remains */
	for (size_t i = 0; i < ms->ndomains; i++) {
		if (sel && !sel[i])
			continue;
		targets[out->ndomains].domain = ms->domains[i].domain;
		targets[out->ndomains].spec = &ms->domains[i];
		out->domains[out->ndomains++] = ms->domains[i].domain;
	}
	struct zw_check_stats st = {0};
	if ((rc = zw_check_run(&live, &st, targets, out->ndomains, &o->check, err)))
		goto out;
	if (zw_findings_merge(&out->findings, &live) ||
	    zw_findings_merge(&out->findings, &out->run.findings)) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < out->run.n; i++)
		if (!out->run.plans[i].gated)
			out->changes += out->run.plans[i].n;
out:
	zw_findings_free(&live);
	zw_free(targets);
	return rc;
}

void zw_cycle_free(struct zw_cycle *c)
{
	zw_run_free(&c->run);
	zw_findings_free(&c->findings);
	zw_free(c->domains);
	memset(c, 0, sizeof(*c));
}
