/*
 * render.c - findings and input errors in the four output formats (see render.h).
 *
 * Every renderer walks the same sorted list; none of them reorders or filters it, so
 * the formats always agree on what was found. JSON goes through cJSON.
 */
#include "reconcile/render.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/txt.h"

static const char *const format_names[] = {"text", "json", "markdown", "github"};

int zw_format_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, format_names[i]) == 0)
			return i;
	return -1;
}

/* Counts per severity for one domain (NULL: all). */
static void count(const struct zw_findings *fs, const char *domain, size_t counts[5])
{
	memset(counts, 0, 5 * sizeof(counts[0]));
	for (size_t i = 0; i < fs->n; i++)
		if (!domain || (fs->v[i].domain && strcmp(fs->v[i].domain, domain) == 0))
			counts[fs->v[i].sev]++;
}

/* ---- plans, shared ------------------------------------------------------------------------ */

static const struct zw_rrset *change_id(const struct zw_change *c)
{
	return c->after.name ? &c->after : &c->before;
}

static const char *type_str(uint16_t t)
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {{1, "A"},	 {2, "NS"},   {5, "CNAME"}, {6, "SOA"},
		     {15, "MX"}, {16, "TXT"}, {28, "AAAA"}, {99, "SPF"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].n;
	return "RR";
}

/* One record's value for people: TXT in presentation form, others as text. */
static void value_str(struct zw_buf *b, const struct zw_rrset *r, size_t i)
{
	zw_buf_reset(b);
	if (r->type == 16 || r->type == 99)
		zw_txt_print_presentation(b, &r->rd[i].txt);
	else
		zw_buf_adds(b, r->rd[i].text ? r->rd[i].text : "");
}

static int in_rrset(const struct zw_rrset *r, const struct zw_rdata *rd, uint16_t type)
{
	for (size_t i = 0; r->name && i < r->nrd; i++)
		if (zw_rdata_equal(&r->rd[i], rd, type))
			return 1;
	return 0;
}

static const char *result_str(const struct zw_change *c)
{
	static const char *const names[] = {"not applied", "applied", "failed (retryable)", "failed"};
	return c->result >= 0 && c->result <= 3 ? names[c->result] : "?";
}

static size_t plan_changes(const struct zw_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nplans; i++)
		n += r->plans[i].n;
	return n;
}

/* ---- text ---------------------------------------------------------------------------- */

/*
 * A string from a zone or a server, as one safe line: C0 controls and DEL become \DDD
 * (decimal, as in zone files), so a name holding ESC cannot drive the terminal and a
 * value holding LF cannot start a line of its own.
 */
static void put_safe(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\%03u", c);
		else
			fputc(c, out);
	}
}

/* fprintf(out, "<pre>%s<post>", s) with s made safe. */
static void put_field(FILE *out, const char *pre, const char *s, const char *post)
{
	fputs(pre, out);
	put_safe(out, s);
	fputs(post, out);
}

static void text_plans(FILE *out, const struct zw_report *r, int color)
{
	struct zw_buf v = ZW_BUF_INIT;
	static const char *const ops[] = {"+", "~", "-"};
	for (size_t i = 0; i < r->nplans; i++) {
		const struct zw_plan *p = &r->plans[i];
		fprintf(out, "%splan %s%s (zone %s, provider %s): %zu change%s\n", color ? "\033[1m" : "",
			p->domain, color ? "\033[0m" : "", p->zone ? p->zone : "?",
			p->provider ? p->provider : "?", p->n, p->n == 1 ? "" : "s");
		if (p->error)
			put_field(out, "  FAILED: ", p->error, "\n");
		if (p->gated)
			fprintf(out, "  NOT WRITTEN: the delegation does not reach the provider (see the "
				     "findings)\n");
		if (p->refused)
			fprintf(out, "  REFUSED: %s (use --force after review)\n", p->refusal);
		for (size_t k = 0; k < p->n; k++) {
			const struct zw_change *c = &p->v[k];
			const struct zw_rrset *id = change_id(c);
			fprintf(out, "  %s %-6s ", ops[c->op], zw_op_name(c->op));
			put_field(out, "", id->name, " ");
			fputs(type_str(id->type), out);
			if (c->reasons[0])
				fprintf(out, "  [%s]", c->reasons);
			if (c->mistake)
				fputs("  (mistake)", out);
			if (c->bookkeeping)
				fputs("  (ownership record)", out);
			if (c->loc.file)
				fprintf(out, "  %s:%u", c->loc.file, c->loc.line);
			fputc('\n', out);
			for (size_t j = 0; j < c->before.nrd; j++) {
				value_str(&v, &c->before, j);
				int kept = c->op != ZW_OP_DELETE &&
					   in_rrset(&c->after, &c->before.rd[j], id->type);
				fprintf(out, "      %s %s\n", kept ? " " : "-", zw_buf_str(&v));
			}
			for (size_t j = 0; c->op != ZW_OP_DELETE && j < c->after.nrd; j++) {
				if (in_rrset(&c->before, &c->after.rd[j], id->type))
					continue;
				value_str(&v, &c->after, j);
				fprintf(out, "      + %s\n", zw_buf_str(&v));
			}
			if (r->applied) {
				fprintf(out, "      %s", result_str(c));
				if (c->servers >= 0)
					fprintf(out, "; visible on %d/%d servers", c->visible, c->servers);
				if (c->message)
					put_field(out, ": ", c->message, "");
				fputc('\n', out);
			}
		}
	}
	if (r->checksum)
		fprintf(out, "plan checksum: %s\n", r->checksum);
	zw_buf_free(&v);
}

static const char *sev_color(enum zw_severity s)
{
	static const char *const colors[] = {"\033[2m", "\033[36m", "\033[33m", "\033[31m", "\033[1;31m"};
	return colors[s];
}

static void text_finding(FILE *out, const struct zw_finding *f, int color)
{
	fprintf(out, "  %s%-8s%s %s %s", color ? sev_color(f->sev) : "", zw_severity_name(f->sev),
		color ? "\033[0m" : "", f->cls->id, f->cls->code);
	if (f->name)
		put_field(out, "  ", f->name, f->type ? " " : "");
	if (f->name && f->type)
		fputs(f->type, out);
	put_field(out, "\n           ", f->message, "\n");
	if (f->observed)
		put_field(out, "           observed: ", f->observed, "\n");
	if (f->expected)
		put_field(out, "           expected: ", f->expected, "\n");
	if (f->servers)
		put_field(out, "           servers:  ", f->servers, "\n");
	if (f->fix)
		put_field(out, "           fix:      ", f->fix, "\n");
	if (f->loc.file)
		fprintf(out, "           at %s:%u:%u\n", f->loc.file, f->loc.line, f->loc.col);
}

static void render_text(FILE *out, const struct zw_report *r, int color)
{
	const struct zw_findings *fs = r->findings;
	if (r->plans)
		text_plans(out, r, color);
	const char *last = "\001";
	for (size_t i = 0; i < fs->n; i++) {
		const struct zw_finding *f = &fs->v[i];
		const char *d = f->domain ? f->domain : "(no domain)";
		if (strcmp(d, last) != 0) {
			put_field(out, color ? "\033[1m" : "", d, color ? "\033[0m\n" : "\n");
			last = d;
		}
		text_finding(out, f, color);
	}
	size_t c[5];
	count(fs, NULL, c);
	fprintf(out,
		"%s: %zu domain%s, %zu finding%s (%zu critical, %zu error, %zu warning, %zu notice, %zu "
		"info)",
		r->command, r->ndomains, r->ndomains == 1 ? "" : "s", fs->n, fs->n == 1 ? "" : "s",
		c[ZW_SEV_CRITICAL], c[ZW_SEV_ERROR], c[ZW_SEV_WARNING], c[ZW_SEV_NOTICE], c[ZW_SEV_INFO]);
	if (r->nerrors)
		fprintf(out, ", %zu input error%s", r->nerrors, r->nerrors == 1 ? "" : "s");
	if (r->plans)
		fprintf(out, ", %zu change%s", plan_changes(r), plan_changes(r) == 1 ? "" : "s");
	fputc('\n', out);
}

/* ---- json ---------------------------------------------------------------------------- */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *json_loc(const char *file, unsigned line, unsigned col)
{
	cJSON *l = cJSON_CreateObject();
	if (!l)
		return NULL;
	cJSON_AddStringToObject(l, "file", file);
	cJSON_AddNumberToObject(l, "line", line);
	cJSON_AddNumberToObject(l, "column", col);
	return l;
}

static cJSON *json_counts(const size_t c[5])
{
	cJSON *o = cJSON_CreateObject();
	for (int s = ZW_SEV_CRITICAL; o && s >= ZW_SEV_INFO; s--)
		cJSON_AddNumberToObject(o, zw_severity_name((enum zw_severity)s), (double)c[s]);
	return o;
}

static cJSON *json_values(const struct zw_rrset *r)
{
	if (!r->name)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject(), *vals = cJSON_CreateArray();
	struct zw_buf v = ZW_BUF_INIT;
	for (size_t i = 0; o && vals && i < r->nrd; i++) {
		value_str(&v, r, i);
		cJSON_AddItemToArray(vals, cJSON_CreateString(zw_buf_str(&v)));
	}
	zw_buf_free(&v);
	if (o) {
		cJSON_AddNumberToObject(o, "ttl", r->ttl);
		cJSON_AddItemToObject(o, "values", vals);
	} else {
		cJSON_Delete(vals);
	}
	return o;
}

/* One plan as a JSON object (NULL when out of memory). */
static cJSON *json_plan(const struct zw_report *r, const struct zw_plan *p)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "domain", p->domain);
	add_str(o, "zone", p->zone);
	add_str(o, "provider", p->provider);
	cJSON_AddBoolToObject(o, "gated", p->gated);
	cJSON_AddBoolToObject(o, "refused", p->refused);
	add_str(o, "refusal", p->refused ? p->refusal : NULL);
	add_str(o, "error", p->error);
	cJSON_AddNumberToObject(o, "zone_records", (double)p->zone_records);
	cJSON_AddNumberToObject(o, "touched", (double)p->touched);
	cJSON *list = cJSON_AddArrayToObject(o, "changes");
	for (size_t k = 0; list && k < p->n; k++) {
		const struct zw_change *c = &p->v[k];
		cJSON *co = cJSON_CreateObject();
		if (!co) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToArray(list, co);
		cJSON_AddStringToObject(co, "op", zw_op_name(c->op));
		cJSON_AddStringToObject(co, "name", change_id(c)->name);
		cJSON_AddStringToObject(co, "type", type_str(change_id(c)->type));
		cJSON_AddItemToObject(co, "before", json_values(&c->before));
		cJSON_AddItemToObject(co, "after",
				      c->op == ZW_OP_DELETE ? cJSON_CreateNull() : json_values(&c->after));
		add_str(co, "reasons", c->reasons[0] ? c->reasons : NULL);
		cJSON_AddBoolToObject(co, "mistake", c->mistake);
		cJSON_AddBoolToObject(co, "ownership_record", c->bookkeeping);
		if (c->loc.file)
			cJSON_AddItemToObject(co, "manifest", json_loc(c->loc.file, c->loc.line, c->loc.col));
		if (r->applied) {
			cJSON_AddStringToObject(co, "result", result_str(c));
			add_str(co, "message", c->message);
			if (c->servers >= 0) {
				cJSON_AddNumberToObject(co, "visible", c->visible);
				cJSON_AddNumberToObject(co, "servers", c->servers);
			}
		}
	}
	return o;
}

/*
 * The report is written member by member, and each array item as soon as it is built,
 * one per line: memory stays bounded by one item, not by the whole document (10 000
 * domains and their plans are several megabytes of JSON).
 */
struct jw {
	FILE *out;
	int members; /* top-level members written */
	int items;   /* items written in the open array */
	int rc;
};

static void jw_value(struct jw *w, cJSON *v)
{
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;
	cJSON_Delete(v);
	if (!s) {
		w->rc = ZW_ENOMEM;
		fputs("null", w->out);
		return;
	}
	fputs(s, w->out);
	cJSON_free(s);
}

static void jw_member(struct jw *w, const char *key, cJSON *v)
{
	fprintf(w->out, "%s\"%s\": ", w->members++ ? ",\n" : "{\n", key);
	jw_value(w, v);
}

static void jw_array(struct jw *w, const char *key)
{
	fprintf(w->out, "%s\"%s\": [", w->members++ ? ",\n" : "{\n", key);
	w->items = 0;
}

static void jw_item(struct jw *w, cJSON *v)
{
	fputs(w->items++ ? ",\n  " : "\n  ", w->out);
	jw_value(w, v);
}

static void jw_end_array(struct jw *w)
{
	fputs(w->items ? "\n]" : "]", w->out);
}

static cJSON *json_finding(const struct zw_finding *f)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "id", f->cls->id);
	cJSON_AddStringToObject(o, "code", f->cls->code);
	cJSON_AddStringToObject(o, "severity", zw_severity_name(f->sev));
	add_str(o, "domain", f->domain);
	add_str(o, "name", f->name);
	add_str(o, "type", f->type);
	add_str(o, "servers", f->servers);
	add_str(o, "observed", f->observed);
	add_str(o, "expected", f->expected);
	add_str(o, "message", f->message);
	add_str(o, "ref", f->cls->ref);
	add_str(o, "fix", f->fix);
	if (f->offset >= 0)
		cJSON_AddNumberToObject(o, "offset", (double)f->offset);
	else
		cJSON_AddNullToObject(o, "offset");
	if (f->loc.file)
		cJSON_AddItemToObject(o, "manifest", json_loc(f->loc.file, f->loc.line, f->loc.col));
	else
		cJSON_AddNullToObject(o, "manifest");
	return o;
}

static cJSON *json_error(const struct zw_error *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (e->file[0] && e->line)
		cJSON_AddItemToObject(o, "location", json_loc(e->file, e->line, e->col));
	else if (e->file[0])
		cJSON_AddStringToObject(o, "file", e->file);
	add_str(o, "path", e->path[0] ? e->path : NULL);
	cJSON_AddStringToObject(o, "message", e->msg);
	return o;
}

static int render_json(FILE *out, const struct zw_report *r)
{
	const struct zw_findings *fs = r->findings;
	struct jw w = {out, 0, 0, 0};
	size_t c[5];
	jw_member(&w, "schema", cJSON_CreateString(ZW_JSON_SCHEMA));
	jw_member(&w, "command", cJSON_CreateString(r->command));
	count(fs, NULL, c);
	cJSON *summary = cJSON_CreateObject();
	if (summary) {
		cJSON_AddNumberToObject(summary, "domains", (double)r->ndomains);
		cJSON_AddNumberToObject(summary, "findings", (double)fs->n);
		cJSON_AddNumberToObject(summary, "errors", (double)r->nerrors);
		cJSON_AddItemToObject(summary, "level_counts", json_counts(c));
	}
	jw_member(&w, "summary", summary);
	jw_array(&w, "domains");
	for (size_t i = 0; i < r->ndomains; i++) {
		cJSON *d = cJSON_CreateObject();
		if (d) {
			cJSON_AddStringToObject(d, "domain", r->domains[i]);
			count(fs, r->domains[i], c);
			cJSON_AddItemToObject(d, "level_counts", json_counts(c));
		}
		jw_item(&w, d);
	}
	jw_end_array(&w);
	jw_array(&w, "findings");
	for (size_t i = 0; i < fs->n; i++)
		jw_item(&w, json_finding(&fs->v[i]));
	jw_end_array(&w);
	jw_array(&w, "errors");
	for (size_t i = 0; i < r->nerrors; i++)
		jw_item(&w, json_error(&r->errors[i]));
	jw_end_array(&w);
	if (r->plans) {
		jw_array(&w, "plans");
		for (size_t i = 0; i < r->nplans; i++)
			jw_item(&w, json_plan(r, &r->plans[i]));
		jw_end_array(&w);
		jw_member(&w, "checksum", r->checksum ? cJSON_CreateString(r->checksum) : cJSON_CreateNull());
	}
	fputs("\n}\n", out);
	return w.rc;
}

/* ---- markdown ------------------------------------------------------------------------- */

/* Inline code that survives any content: backticks and pipes cannot break the table. */
static void md_code(FILE *out, const char *s)
{
	fputc('`', out);
	for (; *s; s++) {
		if (*s == '`')
			fputc('\'', out);
		else if (*s == '|')
			fputs("\\|", out);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(out, "\\%03u", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('`', out);
}

static void md_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\\\%03u", (unsigned char)*s); /* markdown shows one backslash */
			continue;
		}
		if (strchr("|*_<>[]`", *s))
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void md_plans(FILE *out, const struct zw_report *r)
{
	struct zw_buf v = ZW_BUF_INIT;
	fputs("### Changes\n\n", out);
	if (r->checksum)
		fprintf(out, "Plan checksum: `%s`\n\n", r->checksum);
	for (size_t i = 0; i < r->nplans; i++) {
		const struct zw_plan *p = &r->plans[i];
		fprintf(out, "**%s** (zone `%s`, provider `%s`): %zu change%s", p->domain,
			p->zone ? p->zone : "?", p->provider ? p->provider : "?", p->n, p->n == 1 ? "" : "s");
		if (p->error) {
			fputs(" — **failed**: ", out);
			md_text(out, p->error);
		}
		if (p->gated)
			fputs(" — **not written**: the delegation does not reach the provider", out);
		if (p->refused) {
			fputs(" — **refused**: ", out);
			md_text(out, p->refusal);
		}
		fputs("\n\n", out);
		if (p->n == 0)
			continue;
		fputs("| | name | type | removed | added | why | manifest |\n|---|---|---|---|---|---|---|\n",
		      out);
		for (size_t k = 0; k < p->n; k++) {
			const struct zw_change *c = &p->v[k];
			const struct zw_rrset *id = change_id(c);
			fprintf(out, "| %s | ", zw_op_name(c->op));
			md_code(out, id->name);
			fprintf(out, " | %s | ", type_str(id->type));
			for (size_t j = 0, first = 1; j < c->before.nrd; j++) {
				if (c->op != ZW_OP_DELETE && in_rrset(&c->after, &c->before.rd[j], id->type))
					continue;
				value_str(&v, &c->before, j);
				fputs(first ? "" : "<br>", out);
				md_code(out, zw_buf_str(&v));
				first = 0;
			}
			fputs(" | ", out);
			for (size_t j = 0, first = 1; c->op != ZW_OP_DELETE && j < c->after.nrd; j++) {
				if (in_rrset(&c->before, &c->after.rd[j], id->type))
					continue;
				value_str(&v, &c->after, j);
				fputs(first ? "" : "<br>", out);
				md_code(out, zw_buf_str(&v));
				first = 0;
			}
			fprintf(out, " | %s%s%s | ", c->reasons, c->mistake ? " (mistake)" : "",
				c->bookkeeping ? " ownership" : "");
			if (c->loc.file)
				fprintf(out, "`%s:%u`", c->loc.file, c->loc.line);
			fputs(" |\n", out);
		}
		fputc('\n', out);
	}
	zw_buf_free(&v);
}

static void render_markdown(FILE *out, const struct zw_report *r)
{
	const struct zw_findings *fs = r->findings;
	size_t c[5];
	count(fs, NULL, c);
	fprintf(out, "## zonewarden %s\n\n", r->command);
	fprintf(out, "%zu domain%s, %zu finding%s", r->ndomains, r->ndomains == 1 ? "" : "s", fs->n,
		fs->n == 1 ? "" : "s");
	if (r->nerrors)
		fprintf(out, ", **%zu input error%s**", r->nerrors, r->nerrors == 1 ? "" : "s");
	fputs(".\n\n", out);
	if (r->nerrors) {
		fputs("### Input errors\n\n", out);
		for (size_t i = 0; i < r->nerrors; i++) {
			char line[ZW_ERR_MSG_MAX + 512];
			zw_error_format(line, sizeof(line), &r->errors[i]);
			fputs("- ", out);
			md_code(out, line);
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	if (r->ndomains) {
		fputs("| Domain | Critical | Error | Warning | Notice | Info |\n", out);
		fputs("|---|---:|---:|---:|---:|---:|\n", out);
		for (size_t i = 0; i < r->ndomains; i++) {
			count(fs, r->domains[i], c);
			fputs("| ", out);
			md_code(out, r->domains[i]);
			fprintf(out, " | %zu | %zu | %zu | %zu | %zu |\n", c[ZW_SEV_CRITICAL],
				c[ZW_SEV_ERROR], c[ZW_SEV_WARNING], c[ZW_SEV_NOTICE], c[ZW_SEV_INFO]);
		}
		fputc('\n', out);
	}
	if (r->plans)
		md_plans(out, r);
	const char *last = "\001";
	for (size_t i = 0; i < fs->n; i++) {
		const struct zw_finding *f = &fs->v[i];
		const char *d = f->domain ? f->domain : "(no domain)";
		if (strcmp(d, last) != 0) {
			fprintf(out, "### %s\n\n", d);
			last = d;
		}
		fprintf(out, "- **%s** `%s` %s", zw_severity_name(f->sev), f->cls->id, f->cls->code);
		if (f->name) {
			fputs(" ", out);
			md_code(out, f->name);
			if (f->type)
				fprintf(out, " %s", f->type);
		}
		fputs(": ", out);
		md_text(out, f->message);
		if (f->loc.file)
			fprintf(out, " (`%s:%u`)", f->loc.file, f->loc.line);
		fputc('\n', out);
		const char *labels[] = {"observed", "expected", "servers", "fix"};
		const char *vals[] = {f->observed, f->expected, f->servers, f->fix};
		for (int k = 0; k < 4; k++) {
			if (!vals[k])
				continue;
			fprintf(out, "  - %s: ", labels[k]);
			md_code(out, vals[k]);
			fputc('\n', out);
		}
	}
	if (fs->n == 0 && r->nerrors == 0)
		fputs("No findings.\n", out);
}

/* ---- github --------------------------------------------------------------------------- */

/* Escape a workflow command's data (message) or, with prop, a property value. */
static void gh_escape(FILE *out, const char *s, int prop)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': fputs("%25", out); break;
		case '\r': fputs("%0D", out); break;
		case '\n': fputs("%0A", out); break;
		case ':': prop ? fputs("%3A", out) : fputc(':', out); break;
		case ',': prop ? fputs("%2C", out) : fputc(',', out); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fprintf(out, "\\%03u", (unsigned char)*s);
			else
				fputc(*s, out);
		}
	}
}

static void gh_line(FILE *out, const char *level, const char *file, unsigned line, unsigned col,
		    const char *title, const char *msg)
{
	fprintf(out, "::%s", level);
	const char *sep = " ";
	if (file && file[0]) {
		fputs(" file=", out);
		gh_escape(out, file, 1);
		if (line)
			fprintf(out, ",line=%u,col=%u", line, col);
		sep = ",";
	}
	fprintf(out, "%stitle=", sep);
	gh_escape(out, title, 1);
	fputs("::", out);
	gh_escape(out, msg, 0);
	fputc('\n', out);
}

static void render_github(FILE *out, const struct zw_report *r)
{
	for (size_t i = 0; i < r->nplans; i++) {
		for (size_t k = 0; k < r->plans[i].n; k++) {
			const struct zw_change *c = &r->plans[i].v[k];
			char msg[512];
			if (c->bookkeeping)
				continue;
			snprintf(msg, sizeof(msg), "%s %s %s%s%s", zw_op_name(c->op), change_id(c)->name,
				 type_str(change_id(c)->type), c->reasons[0] ? " because of " : "",
				 c->reasons);
			gh_line(out, "notice", c->loc.file, c->loc.line, c->loc.col, "zonewarden plan", msg);
		}
	}
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct zw_error *e = &r->errors[i];
		char msg[ZW_ERR_MSG_MAX + ZW_ERR_PATH_MAX + 4];
		snprintf(msg, sizeof(msg), "%s%s%s", e->path, e->path[0] ? ": " : "", e->msg);
		gh_line(out, "error", e->file, e->line, e->col, "zonewarden: invalid input", msg);
	}
	for (size_t i = 0; i < r->findings->n; i++) {
		const struct zw_finding *f = &r->findings->v[i];
		const char *level = f->sev >= ZW_SEV_ERROR     ? "error"
				    : f->sev == ZW_SEV_WARNING ? "warning"
							       : "notice";
		char title[128], msg[2048];
		snprintf(title, sizeof(title), "%s %s", f->cls->id, f->cls->code);
		snprintf(msg, sizeof(msg), "%s%s%s%s%s%s%s", f->domain ? f->domain : "",
			 f->domain ? ": " : "", f->message, f->fix ? " Fix: " : "", f->fix ? f->fix : "",
			 f->observed ? " Observed: " : "", f->observed ? f->observed : "");
		gh_line(out, level, f->loc.file, f->loc.line, f->loc.col, title, msg);
	}
}

int zw_render(FILE *out, enum zw_format fmt, const struct zw_report *r, int color)
{
	switch (fmt) {
	case ZW_OUT_TEXT: render_text(out, r, color); return 0;
	case ZW_OUT_JSON: return render_json(out, r);
	case ZW_OUT_MARKDOWN: render_markdown(out, r); return 0;
	case ZW_OUT_GITHUB: render_github(out, r); return 0;
	}
	return ZW_EINVAL;
}
