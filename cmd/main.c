/*
 * main.c - zonewarden's entry point: the subcommand table, the common flags, --help.
 *
 * No logic lives here; each command's run function loads, calls the engine and maps the
 * outcome to an exit code (SPEC §10: 0 nothing to do, 2 changes pending or findings at or
 * above --fail-on, 1 the command failed).
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "reconcile/alloc.h"
#include "reconcile/manifest.h"
#include "reconcile/values.h"

static const struct zw_command commands[] = {
	{"validate", "PATH...", "offline: schema and record syntax of manifests, no network",
	 "Loads every *.yaml/*.yml under each PATH, checks the schema and every value\n"
	 "(SPF terms, DKIM keys, DMARC tags, names) and prints the findings.\n"
	 "Exit: 0 valid, 2 findings at or above --fail-on, 1 invalid manifests.",
	 zw_cmd_validate},
	{"lint", "ZONEFILE...", "offline: every record of an RFC 1035 zone file through the classifiers",
	 "Reads each zone file (ldns) and runs every TXT and CNAME record through the same\n"
	 "classifiers as `check`: stray characters, roles, SPF/DKIM/DMARC grammars, names.\n"
	 "The zone is the SOA owner, else $ORIGIN, else --domain.\n"
	 "Exit: 0 clean, 2 findings at or above --fail-on, 1 unreadable input.\n\n"
	 "      --domain D          the zone's origin when the file has no SOA or $ORIGIN",
	 zw_cmd_lint},
	{"check", "PATH... | --domain D [--dkim-selector S]...",
	 "live: delegation, servers, records and mail auth as the world sees them",
	 "Walks from the root to each domain's delegation, asks every delegated server for\n"
	 "every claimed record (and its doubled-apex form), follows SPF includes, DKIM CNAMEs\n"
	 "and DMARC report destinations, and compares what it sees with the manifests.\n"
	 "Without manifests (--domain), checks one domain's SPF, DMARC and the given DKIM\n"
	 "selectors (no drift). No provider credentials are needed.\n"
	 "Exit: 0 clean, 2 findings at or above --fail-on, 1 the check failed.\n\n"
	 "      --domain D          check this domain without manifests\n"
	 "      --dkim-selector S   with --domain: a DKIM selector to check (repeatable)",
	 zw_cmd_check},
	{"plan", "PATH...", "dry run: findings and the changes each provider would get",
	 "Lists each domain's zone at its provider, checks that the parent delegates to it, and\n"
	 "prints the changes (create, update, delete, each with the findings behind it) and the\n"
	 "plan checksum. Nothing is written. Exit: 0 nothing to do, 2 changes pending or findings\n"
	 "at or above --fail-on, 1 failed.\n\n"
	 "      --fix-mistakes      also delete the apex-doubled twins of desired records\n"
	 "      --force             pass the safety rail (over 30 % of a zone, apex NS/SOA)",
	 zw_cmd_plan},
	{"apply", "PATH...", "plan, apply, then verify on every delegated server",
	 "Plans as `plan` does, writes the changes through each provider, then polls every\n"
	 "delegated server until each change is visible there. Exit: 0 applied and verified with\n"
	 "no finding at or above --fail-on, 2 findings remain or verification timed out, 1 a\n"
	 "change failed.\n\n"
	 "      --plan-checksum X   refuse unless the plan's checksum is X (the reviewed plan)\n"
	 "      --verify-timeout S  seconds to wait for every server to show the changes (120)\n"
	 "      --wait-insync S     Route 53: wait up to S seconds for each change batch to be INSYNC\n"
	 "      --fix-delegation    where the parent delegates elsewhere and the registrar is Route 53\n"
	 "                          Domains, point the delegation at the zone (like fixDelegation: true)\n"
	 "      --fix-mistakes, --force   as for plan",
	 zw_cmd_apply},
	{"run", "--manifests DIR | --kubernetes",
	 "the controller: reconcile continuously (files or custom resources)",
	 "Keeps every domain in sync: a work queue keyed by domain, N workers, backoff, a\n"
	 "resync with jitter. The file source re-reads DIR on change; a broken file keeps the\n"
	 "last good set. The Kubernetes source lists and watches MailDomain and Provider\n"
	 "resources, writes status, events and the cleanup finalizer, and elects a leader with a\n"
	 "Lease. /healthz, /readyz and /metrics on --metrics-addr; JSON logs on stderr.\n"
	 "SIGTERM drains and exits 0 (the lease is released); SIGHUP reloads.\n\n"
	 "      --manifests DIR       the file source\n"
	 "      --kubernetes          the Kubernetes source (MailDomain, Provider)\n"
	 "      --kubeconfig FILE     outside a cluster (else $KUBECONFIG, in-cluster, ~/.kube/config)\n"
	 "      --namespace NS        watch only NS (default: every namespace)\n"
	 "      --workers N           workers (4)\n"
	 "      --resync SECONDS      resync every key this often, 10 % jitter (300)\n"
	 "      --metrics-addr ADDR   /healthz /readyz /metrics (127.0.0.1:8080; 0.0.0.0:8080 in a cluster)\n"
	 "      --no-leader-elect     do not take the Lease (one replica only)\n"
	 "      --lease-name NAME     (zonewarden)\n"
	 "      --lease-namespace NS  (the pod's namespace, else the kubeconfig's)\n"
	 "      --identity ID         ($POD_NAME or the host name, plus a random suffix)\n"
	 "      --lease-timings D,R,P lease duration, renew deadline, retry period in ms (15000,10000,2000)\n"
	 "      --dry-run             observe, diagnose, plan, write status; never write to a provider\n"
	 "      --log-level LEVEL     debug, info (default), warn, error\n"
	 "      --verify-timeout S    as for apply",
	 zw_cmd_run},
	{"findings", "", "print the findings reference (every id, code and level) as markdown", "",
	 zw_cmd_findings},
	{"version", "", "print the version", "", zw_cmd_version},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void zw_cmd_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("zonewarden: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int zw_cmd_load_manifests(struct zw_manifests **out, const struct zw_opts *o)
{
	struct zw_error err = {0};
	int rc = zw_manifests_load(out, (const char *const *)o->args, (size_t)o->nargs, &err);
	if (rc == 0 && zw_values_check_all(*out, &err) == ZW_ENOMEM)
		rc = ZW_ENOMEM;
	if (rc == ZW_ENOMEM) {
		zw_cmd_fail("%s", err.msg);
		zw_manifests_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

void zw_cmd_print_input_errors(const struct zw_manifests *ms)
{
	char line[ZW_ERR_MSG_MAX + ZW_ERR_FILE_MAX + ZW_ERR_PATH_MAX + 32];
	for (size_t i = 0; i < ms->nerrors; i++) {
		zw_error_format(line, sizeof(line), &ms->errors[i]);
		fprintf(stderr, "%s\n", line);
	}
	if (ms->errors_dropped)
		fprintf(stderr, "zonewarden: %zu more errors not shown\n", ms->errors_dropped);
}

int zw_cmd_exit_for(const struct zw_findings *fs, const struct zw_opts *o)
{
	return zw_findings_max(fs) >= o->fail_on ? ZW_EXIT_PENDING : ZW_EXIT_OK;
}

static const char common_help[] =
	"Common flags:\n"
	"  -o, --output FORMAT     text (default), json, markdown, github\n"
	"      --fail-on LEVEL     critical, error (default), warning, notice: exit 2 at or above it\n"
	"      --root-hints FILE   root hints for the DNS walk (or ZONEWARDEN_ROOT_HINTS)\n"
	"      --plugin-dir DIR    load provider plugins from DIR\n"
	"      --changed-since REF plan only the manifests changed since a git ref\n"
	"      --timeout SECONDS   overall time limit for network work\n"
	"  -v, --verbose           more detail on stderr\n"
	"  -h, --help              this help\n";

static void usage(FILE *out)
{
	fputs("usage: zonewarden COMMAND [flags] [args]\n\nCommands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'zonewarden COMMAND --help' for a command's flags.\n", out);
}

static void command_help(const struct zw_command *c)
{
	printf("usage: zonewarden %s [flags] %s\n\n%s\n%s%s", c->name, c->usage, c->summary,
	       c->help[0] ? c->help : "", c->help[0] ? "\n\n" : "\n");
	fputs(common_help, stdout);
}

enum {
	OPT_ROOT_HINTS = 256,
	OPT_PLUGIN_DIR,
	OPT_CHANGED_SINCE,
	OPT_FAIL_ON,
	OPT_TIMEOUT,
	OPT_DOMAIN,
	OPT_SELECTOR,
	OPT_FIX_MISTAKES,
	OPT_FORCE,
	OPT_PLAN_CHECKSUM,
	OPT_VERIFY_TIMEOUT,
	OPT_FIX_DELEGATION,
	OPT_WAIT_INSYNC,
	OPT_MANIFESTS,
	OPT_KUBERNETES,
	OPT_KUBECONFIG,
	OPT_NAMESPACE,
	OPT_WORKERS,
	OPT_RESYNC,
	OPT_METRICS_ADDR,
	OPT_NO_LEADER_ELECT,
	OPT_LEASE_NAME,
	OPT_LEASE_NAMESPACE,
	OPT_IDENTITY,
	OPT_LEASE_TIMINGS,
	OPT_DRY_RUN,
	OPT_LOG_LEVEL
};

/* A whole number in [min, max] from a flag's argument; -1 after a one-line reason. */
static int uint_arg(unsigned *out, const char *flag, const char *arg, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);
	if (!*arg || *end || *arg == '-' || v < min || v > max) {
		zw_cmd_fail("%s: '%s' is not a whole number in %lu..%lu", flag, arg, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse(const struct zw_command *c, int argc, char **argv, struct zw_opts *o)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"fail-on", required_argument, NULL, OPT_FAIL_ON},
		{"root-hints", required_argument, NULL, OPT_ROOT_HINTS},
		{"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
		{"changed-since", required_argument, NULL, OPT_CHANGED_SINCE},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"domain", required_argument, NULL, OPT_DOMAIN},
		{"dkim-selector", required_argument, NULL, OPT_SELECTOR},
		{"fix-mistakes", no_argument, NULL, OPT_FIX_MISTAKES},
		{"fix-delegation", no_argument, NULL, OPT_FIX_DELEGATION},
		{"wait-insync", required_argument, NULL, OPT_WAIT_INSYNC},
		{"force", no_argument, NULL, OPT_FORCE},
		{"plan-checksum", required_argument, NULL, OPT_PLAN_CHECKSUM},
		{"verify-timeout", required_argument, NULL, OPT_VERIFY_TIMEOUT},
		{"manifests", required_argument, NULL, OPT_MANIFESTS},
		{"kubernetes", no_argument, NULL, OPT_KUBERNETES},
		{"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
		{"namespace", required_argument, NULL, OPT_NAMESPACE},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"resync", required_argument, NULL, OPT_RESYNC},
		{"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
		{"no-leader-elect", no_argument, NULL, OPT_NO_LEADER_ELECT},
		{"lease-name", required_argument, NULL, OPT_LEASE_NAME},
		{"lease-namespace", required_argument, NULL, OPT_LEASE_NAMESPACE},
		{"identity", required_argument, NULL, OPT_IDENTITY},
		{"lease-timings", required_argument, NULL, OPT_LEASE_TIMINGS},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, f;
	char *end;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if ((f = zw_format_parse(optarg)) < 0) {
				zw_cmd_fail("--output: unknown format '%s' (text, json, markdown, github)",
					    optarg);
				return -1;
			}
			o->format = (enum zw_format)f;
			break;
		case OPT_FAIL_ON:
			if ((f = zw_severity_parse(optarg)) < ZW_SEV_NOTICE) {
				zw_cmd_fail("--fail-on: '%s' is not one of critical, error, warning, notice",
					    optarg);
				return -1;
			}
			o->fail_on = f;
			break;
		case OPT_ROOT_HINTS: o->root_hints = optarg; break;
		case OPT_PLUGIN_DIR: o->plugin_dir = optarg; break;
		case OPT_CHANGED_SINCE: o->changed_since = optarg; break;
		case OPT_TIMEOUT:
			o->timeout = strtod(optarg, &end);
			if (*end || o->timeout <= 0) {
				zw_cmd_fail("--timeout: '%s' is not a positive number of seconds", optarg);
				return -1;
			}
			break;
		case OPT_DOMAIN: o->domain = optarg; break;
		case OPT_FIX_MISTAKES: o->fix_mistakes = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_FIX_DELEGATION: o->fix_delegation = 1; break;
		case OPT_WAIT_INSYNC:
			o->wait_insync = strtol(optarg, &end, 10);
			if (*end || o->wait_insync <= 0 || o->wait_insync > 3600) {
				zw_cmd_fail("--wait-insync: '%s' is not a number of seconds in 1..3600",
					    optarg);
				return -1;
			}
			break;
		case OPT_PLAN_CHECKSUM: o->plan_checksum = optarg; break;
		case OPT_VERIFY_TIMEOUT:
			o->verify_timeout = strtod(optarg, &end);
			if (*end || o->verify_timeout < 0) {
				zw_cmd_fail("--verify-timeout: '%s' is not a number of seconds", optarg);
				return -1;
			}
			break;
		case OPT_SELECTOR:
			if (o->nselectors ==
			    (int)(sizeof(o->dkim_selectors) / sizeof(o->dkim_selectors[0]))) {
				zw_cmd_fail("--dkim-selector: at most 32");
				return -1;
			}
			o->dkim_selectors[o->nselectors++] = optarg;
			break;
		case OPT_MANIFESTS: o->manifests_dir = optarg; break;
		case OPT_KUBERNETES: o->kubernetes = 1; break;
		case OPT_KUBECONFIG: o->kubeconfig = optarg; break;
		case OPT_NAMESPACE: o->namespace = optarg; break;
		case OPT_WORKERS:
			if (uint_arg(&o->workers, "--workers", optarg, 1, 64))
				return -1;
			break;
		case OPT_RESYNC:
			if (uint_arg(&o->resync_s, "--resync", optarg, 1, 86400))
				return -1;
			break;
		case OPT_METRICS_ADDR: o->metrics_addr = optarg; break;
		case OPT_NO_LEADER_ELECT: o->no_leader_elect = 1; break;
		case OPT_LEASE_NAME: o->lease_name = optarg; break;
		case OPT_LEASE_NAMESPACE: o->lease_namespace = optarg; break;
		case OPT_IDENTITY: o->identity = optarg; break;
		case OPT_LEASE_TIMINGS: {
			char part[3][32];
			if (sscanf(optarg, "%31[0-9],%31[0-9],%31[0-9]", part[0], part[1], part[2]) != 3 ||
			    uint_arg(&o->lease_ms[0], "--lease-timings", part[0], 100, 3600000) ||
			    uint_arg(&o->lease_ms[1], "--lease-timings", part[1], 100, 3600000) ||
			    uint_arg(&o->lease_ms[2], "--lease-timings", part[2], 10, 3600000)) {
				zw_cmd_fail("--lease-timings: give DURATION,RENEW,RETRY in milliseconds");
				return -1;
			}
			break;
		}
		case OPT_DRY_RUN: o->dry_run = 1; break;
		case OPT_LOG_LEVEL: o->log_level = optarg; break;
		case 'v': o->verbose++; break;
		case 'h': command_help(c); return 1;
		default:
			zw_cmd_fail("%s: unknown flag '%s' (see 'zonewarden %s --help')", c->name,
				    argv[optind - 1], c->name);
			return -1;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

int main(int argc, char **argv)
{
	cJSON_Hooks hooks = {zw_malloc, zw_free};
	cJSON_InitHooks(&hooks);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? ZW_EXIT_FAILED : ZW_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		argv[1] = "version";
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		struct zw_opts o = {0};
		o.format = ZW_OUT_TEXT;
		o.fail_on = ZW_SEV_ERROR;
		o.timeout = 120;
		o.verify_timeout = 120;
		o.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
		int rc = parse(&commands[i], argc - 1, argv + 1, &o);
		if (rc)
			return rc > 0 ? ZW_EXIT_OK : ZW_EXIT_FAILED;
		if (!o.root_hints)
			o.root_hints = getenv("ZONEWARDEN_ROOT_HINTS");
		return commands[i].run(&o);
	}
	zw_cmd_fail("unknown command '%s' (see 'zonewarden --help')", argv[1]);
	return ZW_EXIT_FAILED;
}
