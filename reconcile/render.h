/*
 * render.h - the output formats of every command (SPEC §5, §6, §10).
 *
 *   text      people at a terminal (colour only on a terminal; NO_COLOR honoured)
 *   json      machines: versioned, schema in docs/json-output.md
 *   markdown  a pull-request comment: a summary table, then details per domain
 *   github    workflow annotations (::error file=...,line=...,col=...::) on manifest lines
 *
 * Results go to stdout in the format asked for; nothing else goes there.
 */
#ifndef ZW_RENDER_H
#define ZW_RENDER_H

#include <stdio.h>

#include "reconcile/error.h"
#include "reconcile/finding.h"
#include "reconcile/plan.h"

#define ZW_JSON_SCHEMA "zonewarden.dev/report/v1"

enum zw_format { ZW_OUT_TEXT, ZW_OUT_JSON, ZW_OUT_MARKDOWN, ZW_OUT_GITHUB };

struct zw_report {
	const char *command;	    /* "validate", "lint", "check", ... */
	const char *const *domains; /* every domain looked at, even with no finding */
	size_t ndomains;
	const struct zw_findings *findings;
	const struct zw_error *errors; /* input errors (manifest load, zone file syntax) */
	size_t nerrors;
	/* plan and apply: */
	const struct zw_plan *plans;
	size_t nplans;
	const char *checksum; /* sha256 of the changes (zw_plan_checksum) */
	int applied;	      /* the report is about an apply (results, visibility) */
};

/* -1 if the name is unknown. */
int zw_format_parse(const char *s);
int zw_render(FILE *out, enum zw_format fmt, const struct zw_report *r, int color);

#endif
