/*
 * apply_driver.c - plan, run a shell command, then apply that (now stale) plan: the
 * concurrent-writer test. Usage: apply_driver MANIFEST_DIR 'COMMAND'. Prints each
 * change's result and exits 0 when the apply reported what happened without writing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "reconcile/manifest.h"
#include "reconcile/reconcile.h"

int main(int argc, char **argv)
{
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	struct zw_run run;
	if (argc != 3) {
		fprintf(stderr, "usage: apply_driver MANIFEST_DIR COMMAND\n");
		return 1;
	}
	const char *paths[] = {argv[1]};
	if (zw_manifests_load(&ms, paths, 1, &err)) {
		fprintf(stderr, "load: %s\n", err.msg);
		return 1;
	}
	struct zw_run_opts o = {.verify_timeout = 5};
	if (zw_run_plan(&run, ms, &o, &err)) {
		fprintf(stderr, "plan: %s\n", err.msg);
		return 1;
	}
	printf("planned %zu changes\n", run.plans[0].n);
	fflush(stdout);
	if (system(argv[2]) != 0)
		fprintf(stderr, "the command failed\n");
	int rc = zw_run_apply(&run, ms, &o, &err);
	printf("apply rc=%d failed=%d error=%s\n", rc, run.apply_failed, run.plans[0].error ? run.plans[0].error : "-");
	for (size_t i = 0; i < run.plans[0].n; i++)
		printf("change %zu result=%d\n", i, run.plans[0].v[i].result);
	zw_run_free(&run);
	zw_manifests_free(ms);
	return 0;
}
