/*
 * run.c - `zonewarden run`: the controller (SPEC §9). Turns the flags into
 * struct zw_controller_opts; the work happens in reconcile/controller.c.
 */
#include <string.h>

#include "cmd/cmd.h"
#include "reconcile/controller.h"

int zw_cmd_run(struct zw_opts *o)
{
	struct zw_error err = {0};
	enum zw_log_level level = ZW_LOG_INFO;
	if (o->nargs) {
		zw_cmd_fail("run: unexpected argument '%s' (give the directory with --manifests)",
			    o->args[0]);
		return ZW_EXIT_FAILED;
	}
	if (o->log_level && zw_log_level_parse(&level, o->log_level)) {
		zw_cmd_fail("--log-level: '%s' is not one of debug, info, warn, error", o->log_level);
		return ZW_EXIT_FAILED;
	}
	struct zw_controller_opts co = {
		.manifests_dir = o->manifests_dir,
		.kubernetes = o->kubernetes,
		.kubeconfig = o->kubeconfig,
		.namespace = o->namespace,
		.workers = o->workers,
		.resync_s = o->resync_s,
		.metrics_addr = o->metrics_addr,
		.leader_elect = o->kubernetes && !o->no_leader_elect,
		.lease_name = o->lease_name,
		.lease_namespace = o->lease_namespace,
		.identity = o->identity,
		.lease_duration_ms = o->lease_ms[0],
		.renew_deadline_ms = o->lease_ms[1],
		.retry_period_ms = o->lease_ms[2],
		.dry_run = o->dry_run,
		.log_level = level,
		.run =
			{
				.root_hints = o->root_hints,
				.plugin_dir = o->plugin_dir,
				.verify_timeout = o->verify_timeout,
			},
		.check_timeout = o->timeout,
	};
	if (zw_controller_run(&co, &err)) {
		zw_cmd_fail("%s", err.msg);
		return ZW_EXIT_FAILED;
	}
	return ZW_EXIT_OK;
}
