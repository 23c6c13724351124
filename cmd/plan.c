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
#include "reconcile/check.h"
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
	snprintf(cmd, sizeof(cmd), "git diff --name-only '%s' -- 2>&1; git ls-files --others --exclude-standard", ref);
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

/* Is there a finding of this class about this name already? */
static int known(const struct zw_findings *fs, const struct zw_finding *f)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].cls == f->cls && fs->v[i].name && f->name && strcmp(fs->v[i].name, f->name) == 0)
			return 1;
	return 0;
}

/* Move every finding of `from` to the end of `to`, but one that `to` already has (the
 * plan's note about a doubled apex left in place repeats the live check's NM-01). */
static int move_findings(struct zw_findings *to, struct zw_findings *from)
{
	for (size_t i = 0; i < from->n; i++) {
		if (known(to, &from->v[i])) {
			zw_finding_clear(&from->v[i]);
			continue;
		}
		if (to->n == to->cap) {
			size_t cap = to->cap ? to->cap * 2 : 16;
			struct zw_finding *v = zw_realloc(to->v, cap * sizeof(*v));
			if (!v)
				return ZW_ENOMEM;
			to->v = v;
			to->cap = cap;
		}
		to->v[to->n++] = from->v[i];
	}
	zw_free(from->v);
	memset(from, 0, sizeof(*from));
	return 0;
}

static int run(struct zw_opts *o, int apply)
{
	const char *name = apply ? "apply" : "plan";
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	struct zw_run run;
	unsigned char *selected = NULL;
	char **changed = NULL;
	size_t nchanged = 0;
	const char **domains = NULL;
	struct zw_check_target *targets = NULL;
	int exit_code = ZW_EXIT_FAILED, rc;

	memset(&run, 0, sizeof(run));
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
		if (!(selected = zw_calloc(ms->ndomains + 1, 1)))
			goto oom;
		for (size_t i = 0; i < ms->ndomains; i++)
			selected[i] = file_in(ms->domains[i].loc.file, changed, nchanged);
		/* the value findings of domains not planned are not this run's business */
		size_t w = 0;
		for (size_t i = 0; i < ms->findings.n; i++) {
			int keep = 0;
			for (size_t k = 0; k < ms->ndomains && !keep; k++)
				keep = selected[k] && ms->findings.v[i].domain && ms->domains[k].domain &&
				       strcmp(ms->findings.v[i].domain, ms->domains[k].domain) == 0;
			if (keep)
				ms->findings.v[w++] = ms->findings.v[i];
			else
				zw_finding_clear(&ms->findings.v[i]);
		}
		ms->findings.n = w;
	}

	struct zw_run_opts ro = {
		.fix_mistakes = o->fix_mistakes,
		.force = o->force,
		.root_hints = o->root_hints,
		.plugin_dir = o->plugin_dir,
		.verify_timeout = o->verify_timeout,
		.fix_delegation = o->fix_delegation,
		.wait_insync = o->wait_insync,
		.selected = selected,
	};
	if ((rc = zw_run_plan(&run, ms, &ro, &err))) {
		zw_cmd_fail("%s", err.msg);
		goto out;
	}
	if (apply && o->plan_checksum && strcmp(o->plan_checksum, run.checksum) != 0) {
		zw_cmd_fail("apply: the plan changed since it was reviewed (checksum %s, now %s); nothing was applied",
			    o->plan_checksum, run.checksum);
		goto out;
	}
	if (apply && (rc = zw_run_apply(&run, ms, &ro, &err))) {
		zw_cmd_fail("%s", err.msg);
		goto out;
	}
	/* the live diagnosis of the same domains, after any apply: what remains */
	if (!(targets = zw_calloc(ms->ndomains + 1, sizeof(*targets))) ||
	    !(domains = zw_calloc(ms->ndomains + 1, sizeof(*domains))))
		goto oom;
	size_t nt = 0;
	for (size_t i = 0; i < ms->ndomains; i++) {
		if (selected && !selected[i])
			continue;
		targets[nt].domain = ms->domains[i].domain;
		targets[nt].spec = &ms->domains[i];
		domains[nt++] = ms->domains[i].domain;
	}
	struct zw_check_opts co = {.root_hints = o->root_hints, .timeout = o->timeout};
	struct zw_check_stats st = {0};
	struct zw_findings live = {0};
	rc = zw_check_run(&live, &st, targets, nt, &co, &err);
	if (rc == 0)
		rc = move_findings(&ms->findings, &live);
	zw_findings_free(&live);
	if (rc) {
		zw_cmd_fail("%s", err.msg);
		goto out;
	}

	if (move_findings(&ms->findings, &run.findings))
		goto oom;
	zw_findings_sort(&ms->findings);
	struct zw_report report = {
		.command = name,
		.domains = domains,
		.ndomains = nt,
		.findings = &ms->findings,
		.plans = run.plans,
		.nplans = run.n,
		.checksum = run.checksum,
		.applied = apply,
	};
	zw_render(stdout, o->format, &report, o->color);

	int failed = 0;
	size_t changes = 0;
	for (size_t i = 0; i < run.n; i++) {
		failed |= run.plans[i].error != NULL || (apply && run.plans[i].refused);
		if (!run.plans[i].gated)
			changes += run.plans[i].n;
	}
	if (failed || (apply && run.apply_failed)) {
		for (size_t i = 0; i < run.n; i++)
			if (run.plans[i].error)
				zw_cmd_fail("%s: %s", run.plans[i].domain, run.plans[i].error);
			else if (apply && run.plans[i].refused)
				zw_cmd_fail("%s: %s (use --force after review)", run.plans[i].domain, run.plans[i].refusal);
		exit_code = ZW_EXIT_FAILED;
	} else if (apply) {
		exit_code = run.verify_timed_out ? ZW_EXIT_PENDING : zw_cmd_exit_for(&ms->findings, o);
	} else {
		exit_code = changes ? ZW_EXIT_PENDING : zw_cmd_exit_for(&ms->findings, o);
	}
	goto out;
oom:
	zw_cmd_fail("out of memory");
out:
	zw_run_free(&run);
	for (size_t i = 0; i < nchanged; i++)
		zw_free(changed[i]);
	zw_free(changed);
	zw_free(selected);
	zw_free(targets);
	zw_free(domains);
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
