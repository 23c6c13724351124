/*
 * plan.c - `zonewarden plan PATH...` and `zonewarden apply PATH...`.
 *
 * plan: the findings (every value checked, the live diagnosis of `check`) and the changes
 * each provider would get, with the plan checksum; nothing is written. apply: the same
 * plan, refused when --plan-checksum differs, then written and verified on every
 * delegated server. --changed-since REF keeps only the domains whose manifest file
 * changed since that git ref (the pull-request mode).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "reconcile/alloc.h"
#include "reconcile/cycle.h"
#include "reconcile/manifest.h"
#include "reconcile/reconcile.h"

/* The files git says changed since `ref` (committed or not), as real paths. */
static int changed_files(char ***out, size_t *n, const char *ref)
{
	char cmd[PATH_MAX + 128], line[PATH_MAX], top[PATH_MAX];
	*out = NULL;
	*n = 0;
	for (const char *p = ref; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-~^@{}", *p)) {
			zw_cmd_fail("--changed-since: '%s' is not a git ref", ref);
			return -1;
		}
	FILE *f = popen("git rev-parse --show-toplevel 2>/dev/null", "r");
	if (!f || !fgets(top, sizeof(top), f)) {
		if (f)
			pclose(f);
		zw_cmd_fail("--changed-since: not inside a git repository");
		return -1;
	}
	pclose(f);
	top[strcspn(top, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "git diff --name-only '%s' -- 2>&1; git ls-files --others --exclude-standard", ref);
	if (!(f = popen(cmd, "r"))) {
		zw_cmd_fail("--changed-since: cannot run git");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "fatal:", 6) == 0) {
			pclose(f);
			zw_cmd_fail("--changed-since %s: %s", ref, line);
			return -1;
		}
		char full[2 * PATH_MAX + 2], real[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%s", top, line);
		char **v = zw_realloc(*out, (*n + 1) * sizeof(*v));
		if (!v)
			break;
		*out = v;
		(*out)[*n] = zw_strdup(realpath(full, real) ? real : full);
		if ((*out)[*n])
			(*n)++;
	}
	if (pclose(f) != 0 && *n == 0) {
		zw_cmd_fail("--changed-since %s: git diff failed", ref);
		return -1;
	}
	return 0;
}

static int file_in(const char *file, char **v, size_t n)
{
	char real[PATH_MAX];
	if (!realpath(file, real))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], real) == 0)
			return 1;
	return 0;
}

static int run(struct zw_opts *o, int apply)
{
	const char *name = apply ? "apply" : "plan";
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	struct zw_cycle cy;
	unsigned char *selected = NULL;
	char **changed = NULL;
	size_t nchanged = 0;
	int exit_code = ZW_EXIT_FAILED;

	memset(&cy, 0, sizeof(cy));
	if (o->nargs == 0) {
		zw_cmd_fail("%s: give at least one manifest file or directory", name);
		return ZW_EXIT_FAILED;
	}
	if (zw_cmd_load_manifests(&ms, o))
		goto out;
	if (ms->nerrors) {
		zw_cmd_print_input_errors(ms);
		zw_cmd_fail("%s: the manifests are invalid; nothing was planned", name);
		goto out;
	}
	if (o->changed_since) {
		if (changed_files(&changed, &nchanged, o->changed_since))
			goto out;
		if (!(selected = zw_calloc(ms->ndomains + 1, 1))) {
			zw_cmd_fail("out of memory");
			goto out;
		}
		for (size_t i = 0; i < ms->ndomains; i++)
			selected[i] = file_in(ms->domains[i].loc.file, changed, nchanged);
	}

	struct zw_cycle_opts co = {
		.run =
			{
				.fix_mistakes = o->fix_mistakes,
				.force = o->force,
				.root_hints = o->root_hints,
				.plugin_dir = o->plugin_dir,
				.verify_timeout = o->verify_timeout,
				.fix_delegation = o->fix_delegation,
				.wait_insync = o->wait_insync,
				.selected = selected,
			},
		.check = {.root_hints = o->root_hints, .timeout = o->timeout},
		.apply = apply,
		.plan_checksum = o->plan_checksum,
	};
	if (zw_cycle_run(&cy, ms, &co, &err)) {
		zw_cmd_fail("%s", err.msg);
		goto out;
	}
	zw_findings_sort(&cy.findings);
	struct zw_report report = {
		.command = name,
		.domains = cy.domains,
		.ndomains = cy.ndomains,
		.findings = &cy.findings,
		.plans = cy.run.plans,
		.nplans = cy.run.n,
		.checksum = cy.run.checksum,
		.applied = apply,
	};
	zw_render(stdout, o->format, &report, o->color);

	int failed = 0;
	for (size_t i = 0; i < cy.run.n; i++)
		failed |= cy.run.plans[i].error != NULL || (apply && cy.run.plans[i].refused);
	if (failed || (apply && cy.run.apply_failed)) {
		for (size_t i = 0; i < cy.run.n; i++)
			if (cy.run.plans[i].error)
				zw_cmd_fail("%s: %s", cy.run.plans[i].domain, cy.run.plans[i].error);
			else if (apply && cy.run.plans[i].refused)
				zw_cmd_fail("%s: %s (use --force after review)", cy.run.plans[i].domain,
					    cy.run.plans[i].refusal);
		exit_code = ZW_EXIT_FAILED;
	} else if (apply) {
		exit_code = cy.run.verify_timed_out ? ZW_EXIT_PENDING : zw_cmd_exit_for(&cy.findings, o);
	} else {
		exit_code = cy.changes ? ZW_EXIT_PENDING : zw_cmd_exit_for(&cy.findings, o);
	}
out:
	zw_cycle_free(&cy);
	for (size_t i = 0; i < nchanged; i++)
		zw_free(changed[i]);
	zw_free(changed);
	zw_free(selected);
	zw_manifests_free(ms);
	return exit_code;
}

int zw_cmd_plan(struct zw_opts *o)
{
	return run(o, 0);
}

int zw_cmd_apply(struct zw_opts *o)
{
	return run(o, 1);
}
