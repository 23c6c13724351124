/*
 * lint.c - `zonewarden lint ZONEFILE...`: every record of an RFC 1035 zone file through
 * the same classifiers as `check`, offline. For zone exports pasted from a registrar or a
 * provider, and for the SES user whose verification is stuck "pending".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "reconcile/alloc.h"
#include "reconcile/inspect.h"
#include "reconcile/lintzone.h"
#include "reconcile/zonefile.h"

/*
 * ldns refuses a quoted string longer than 255 octets with a bare "could not parse the RR's
 * rdata". That is TX-09, the mistake of a DKIM key pasted as one string: find the string on
 * the failing line and say so. Octets are counted as RFC 1035 §5.1 reads them (\DDD and \X
 * are one each).
 */
static void explain_long_string(struct zw_error *err)
{
	if (err->code != ZW_EINVAL || err->line == 0 || !strstr(err->msg, "rdata"))
		return;
	FILE *fp = fopen(err->file, "r");
	if (!fp)
		return;
	unsigned line = 1, col = 0, start = 0, max_col = 0;
	size_t n = 0, max = 0;
	int in = 0, esc = 0, c;
	while ((c = getc(fp)) != EOF && line <= err->line) {
		col++;
		if (c == '\n') {
			line++;
			col = 0;
			in = esc = 0;
			continue;
		}
		if (line != err->line)
			continue;
		if (!in) {
			if (c == ';')
				break; /* a comment */
			if (c == '"')
				in = 1, n = 0, start = col;
		} else if (esc == 1) {
			esc = c >= '0' && c <= '9' ? 2 : 0; /* \DDD: two digits to go; \X: one octet */
			n += esc == 0;
		} else if (esc >= 2) {
			if (++esc == 4)
				esc = 0, n++;
		} else if (c == '\\') {
			esc = 1;
		} else if (c == '"') {
			in = 0;
			if (n > max)
				max = n, max_col = start;
		} else {
			n++;
		}
	}
	fclose(fp);
	if (max <= 255)
		return;
	char file[sizeof(err->file)];
	unsigned at = err->line;
	memcpy(file, err->file, sizeof(file));
	zw_error_clear(err);
	zw_error_set_at(err, ZW_EINVAL, file, at, max_col, NULL,
			"zone file: a quoted string of %zu octets: a character-string holds at most 255 "
			"(RFC 1035 §3.3), so split it into several quoted strings (TX-09)",
			max);
}

/* Is the zone `origin` (absolute, trailing dot) already among the domains (no dot)? */
static int listed(const char *const *domains, size_t n, const char *origin)
{
	size_t len = strlen(origin) - 1;
	for (size_t k = 0; k < n; k++)
		if (strlen(domains[k]) == len && strncmp(domains[k], origin, len) == 0)
			return 1;
	return 0;
}

int zw_cmd_lint(struct zw_opts *o)
{
	struct zw_findings fs = {0};
	struct zw_error *errors = NULL;
	const char **domains = NULL;
	char **owned = NULL;
	struct zw_zone **zones = NULL; /* kept until the report is out: findings point at paths */
	size_t nerrors = 0, ndomains = 0;
	int exit_code = ZW_EXIT_FAILED;

	if (o->nargs == 0) {
		zw_cmd_fail("lint: give at least one zone file");
		return ZW_EXIT_FAILED;
	}
	errors = zw_calloc((size_t)o->nargs, sizeof(*errors));
	domains = zw_calloc((size_t)o->nargs, sizeof(*domains));
	owned = zw_calloc((size_t)o->nargs, sizeof(*owned));
	zones = zw_calloc((size_t)o->nargs, sizeof(*zones));
	if (!errors || !domains || !owned || !zones) {
		zw_cmd_fail("out of memory");
		goto out;
	}
	for (int i = 0; i < o->nargs; i++) {
		struct zw_zone *z = NULL;
		struct zw_error err = {0};
		struct stat st;
		/* a directory opens and then never reaches end of file: refuse it up front */
		int rc = stat(o->args[i], &st) == 0 && S_ISDIR(st.st_mode)
				 ? zw_error_set_at(&err, ZW_EINVAL, o->args[i], 0, 0, NULL,
						   "is a directory: lint takes zone files (validate takes "
						   "directories)")
				 : zw_zonefile_load(&z, o->args[i], o->domain, &err);
		if (rc == 0 && !z->origin) {
			zw_error_set_at(&err, ZW_EINVAL, o->args[i], 1, 1, NULL,
					"no soa and no $ORIGIN: give the zone with --domain");
			rc = ZW_EINVAL;
		}
		if (rc == 0) {
			rc = zw_lint_zone(&fs, z, &err);
			/* two files of one zone are one domain in the report (its counts are per domain) */
			if (rc == 0 && !listed(domains, ndomains, z->origin) &&
			    (owned[ndomains] = zw_strndup(z->origin, strlen(z->origin) - 1)))
				domains[ndomains] = owned[ndomains], ndomains++;
		}
		zones[i] = z;
		if (rc == ZW_ENOMEM) {
			zw_cmd_fail("%s", err.msg);
			goto out;
		}
		if (rc) {
			char line[ZW_ERR_MSG_MAX + ZW_ERR_FILE_MAX + 32];
			explain_long_string(&err);
			zw_error_format(line, sizeof(line), &err);
			fprintf(stderr, "%s\n", line);
			errors[nerrors++] = err;
		}
	}
	zw_findings_sort(&fs);
	struct zw_report report = {
		.command = "lint",
		.domains = domains,
		.ndomains = ndomains,
		.findings = &fs,
		.errors = errors,
		.nerrors = nerrors,
	};
	zw_render(stdout, o->format, &report, o->color);
	exit_code = nerrors ? ZW_EXIT_FAILED : zw_cmd_exit_for(&fs, o);
out:
	for (int i = 0; zones && i < o->nargs; i++)
		zw_zonefile_free(zones[i]);
	zw_free(zones);
	for (size_t i = 0; owned && i < ndomains; i++)
		zw_free(owned[i]);
	zw_free(owned);
	zw_free(domains);
	zw_free(errors);
	zw_findings_free(&fs);
	return exit_code;
}
