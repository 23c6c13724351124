/*
 * validate.c - `zonewarden validate PATH...` and `zonewarden version`.
 *
 * Offline: loads the manifests, builds each domain's desired records and checks every
 * value with the record grammars. Input errors (exit 1) go to stderr one per line as
 * file:line:col: path: message, and into the report for json, markdown and github.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "reconcile/alloc.h"
#include "reconcile/desired.h"
#include "reconcile/manifest.h"

int zw_cmd_version(struct zw_opts *o)
{
	(void)o;
	printf("zonewarden %s\n", ZW_VERSION);
	return ZW_EXIT_OK;
}

int zw_cmd_validate(struct zw_opts *o)
{
	struct zw_manifests *ms = NULL;
	const char **domains = NULL;
	int exit_code = ZW_EXIT_FAILED;

	if (o->nargs == 0) {
		zw_cmd_fail("validate: give at least one manifest file or directory");
		return ZW_EXIT_FAILED;
	}
	if (zw_cmd_load_manifests(&ms, o))
		return ZW_EXIT_FAILED;
	zw_cmd_print_input_errors(ms);
	if (ms->ndomains && !(domains = zw_calloc(ms->ndomains, sizeof(*domains)))) {
		zw_cmd_fail("out of memory");
		goto out;
	}
	for (size_t i = 0; i < ms->ndomains; i++)
		domains[i] = ms->domains[i].domain ? ms->domains[i].domain : ms->domains[i].meta_name;
	zw_findings_sort(&ms->findings);
	struct zw_report report = {
		.command = "validate",
		.domains = domains,
		.ndomains = ms->ndomains,
		.findings = &ms->findings,
		.errors = ms->errors,
		.nerrors = ms->nerrors,
	};
	if (o->format != ZW_OUT_TEXT || ms->nerrors == 0 || ms->findings.n)
		zw_render(stdout, o->format, &report, o->color);
	if (ms->nerrors)
		exit_code = ZW_EXIT_FAILED;
	else
		exit_code = zw_cmd_exit_for(&ms->findings, o);
out:
	zw_free(domains);
	zw_manifests_free(ms);
	return exit_code;
}
