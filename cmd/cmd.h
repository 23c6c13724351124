/*
 * cmd.h - what the subcommands share: the parsed common flags and the exit codes.
 *
 * cmd/ holds entry points only: argument parsing, the subcommand table, exit codes. The
 * work happens in reconcile/.
 */
#ifndef ZW_CMD_H
#define ZW_CMD_H

#include "reconcile/finding.h"
#include "reconcile/render.h"

#define ZW_VERSION "0.1.0"

/* SPEC §10 */
enum { ZW_EXIT_OK = 0, ZW_EXIT_FAILED = 1, ZW_EXIT_PENDING = 2 };

struct zw_opts {
	enum zw_format format;
	int fail_on; /* severity at or above which the exit is 2 */
	int verbose;
	int color; /* colour on: stdout is a terminal and NO_COLOR is unset */
	const char *root_hints;
	const char *plugin_dir;
	const char *changed_since;
	double timeout; /* seconds */
	char **args;	/* positional arguments (borrowed from argv) */
	int nargs;
	/* command-specific flags, collected but only used by the commands that take them */
	const char *domain;
	const char *dkim_selectors[32];
	int nselectors;
	int fix_mistakes;
	int force;
	const char *plan_checksum;
	double verify_timeout; /* seconds */
	int fix_delegation;
	long wait_insync; /* seconds; 0: no */
	/* run */
	const char *manifests_dir;
	int kubernetes;
	const char *kubeconfig;
	const char *namespace;
	unsigned workers;
	unsigned resync_s;
	const char *metrics_addr;
	int no_leader_elect;
	const char *lease_name, *lease_namespace, *identity;
	unsigned lease_ms[3]; /* duration, renew deadline, retry period; 0: defaults */
	int dry_run;
	const char *log_level;
};

struct zw_command {
	const char *name;
	const char *usage;   /* "PATH..." */
	const char *summary; /* one line */
	const char *help;    /* the rest of --help */
	int (*run)(struct zw_opts *o);
};

/* Exit code for a finished report: 2 when a finding is at or above --fail-on. */
int zw_cmd_exit_for(const struct zw_findings *fs, const struct zw_opts *o);
struct zw_manifests;
/* Load the manifests named by o->args and check every value (SPEC §3). 0 with *out set
 * (its errors list may hold input errors), or -1 after a one-line reason (out of memory). */
int zw_cmd_load_manifests(struct zw_manifests **out, const struct zw_opts *o);
/* The manifests' input errors on stderr, one `file:line:col: path: message` line each. */
void zw_cmd_print_input_errors(const struct zw_manifests *ms);
/* Print one line "zonewarden: <msg>" on stderr. */
void zw_cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int zw_cmd_validate(struct zw_opts *o);
int zw_cmd_version(struct zw_opts *o);
int zw_cmd_findings(struct zw_opts *o);
int zw_cmd_lint(struct zw_opts *o);
int zw_cmd_plan(struct zw_opts *o);
int zw_cmd_apply(struct zw_opts *o);
int zw_cmd_check(struct zw_opts *o);
int zw_cmd_run(struct zw_opts *o);

#endif
