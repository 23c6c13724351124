/*
 * finding.h - the finding model: the catalogue of classes and the list of findings.
 *
 * A class (struct zw_class) is one row of CATALOGUE.md §A (or our documented ZW- range):
 * its id (`SP-09`), our stable symbolic code (`SPF_TOO_MANY_LOOKUPS`), the default
 * severity and the document that explains it. The table lives in catalogue.c and is the
 * single source of the findings reference in docs/.
 *
 * A finding is one occurrence: a class, a severity, where (domain, owner name, type,
 * servers, manifest file:line:col, byte offset in the value), what was observed and
 * expected (byte-exact), a one-line message and the fix.
 */
#ifndef ZW_FINDING_H
#define ZW_FINDING_H

#include <stddef.h>

enum zw_severity {
	ZW_SEV_INFO = 0,
	ZW_SEV_NOTICE,
	ZW_SEV_WARNING,
	ZW_SEV_ERROR,
	ZW_SEV_CRITICAL,
};

struct zw_class {
	const char *id;		   /* "SP-09" */
	const char *code;	   /* "SPF_TOO_MANY_LOOKUPS" */
	enum zw_severity severity; /* the default level */
	const char *ref;	   /* "RFC 7208 §4.6.4" */
	const char *title;	   /* what is wrong, one line */
};

/* Where in a manifest something was written; file is borrowed from the manifest set. */
struct zw_loc {
	const char *file;
	unsigned line, col;
};

struct zw_finding {
	const struct zw_class *cls;
	enum zw_severity sev;
	char *domain;	/* "example.com" (no trailing dot), or NULL */
	char *name;	/* owner name, absolute with trailing dot, or NULL */
	char *type;	/* "TXT", "CNAME", ... or NULL */
	char *servers;	/* "ns1.example.net/192.0.2.1;..." or NULL */
	char *observed; /* display form of the value seen, or NULL */
	char *expected; /* display form of the value wanted, or NULL */
	char *message;	/* one line */
	char *fix;	/* the planned change, or the manual step; NULL if none */
	long offset;	/* byte offset in the value the message is about; -1 if none */
	struct zw_loc loc;
};

struct zw_findings {
	struct zw_finding *v;
	size_t n, cap;
};

/* The catalogue. */
const struct zw_class *zw_class_find(const char *id_or_code);
const struct zw_class *zw_class_table(size_t *count);
const char *zw_severity_name(enum zw_severity sev);
/* Parse "critical|error|warning|notice|info" (any case); -1 if unknown. */
int zw_severity_parse(const char *s);

/*
 * Append a finding of class `id` (an id such as "SP-05" or a code; an unknown one is a
 * programming error) with its default severity and a printf message. Returns the new
 * finding, whose other fields the caller may fill with zw_finding_set(); NULL when out of
 * memory (the list is unchanged).
 */
struct zw_finding *zw_findings_add(struct zw_findings *fs, const char *id, long offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

enum zw_finding_field {
	ZW_F_DOMAIN,
	ZW_F_NAME,
	ZW_F_TYPE,
	ZW_F_SERVERS,
	ZW_F_OBSERVED,
	ZW_F_EXPECTED,
	ZW_F_MESSAGE,
	ZW_F_FIX,
};
/* Replace one string field with a copy of s (NULL clears it). 0 or ZW_ENOMEM. */
int zw_finding_set(struct zw_finding *f, enum zw_finding_field field, const char *s);
int zw_finding_setf(struct zw_finding *f, enum zw_finding_field field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Fill the context fields of findings [from, fs->n) that are still empty: what a
 * parser could not know (domain, owner, type, observed value, manifest location).
 * Any argument may be NULL. 0 or ZW_ENOMEM.
 */
int zw_findings_context(struct zw_findings *fs, size_t from, const char *domain, const char *name,
			const char *type, const char *observed, const struct zw_loc *loc);

/* Remove findings [from, n) whose class id equals `id` (used when a more specific one wins). */
void zw_findings_drop(struct zw_findings *fs, size_t from, const char *id);
/* Does [from, n) hold a finding of this class id? */
int zw_findings_has(const struct zw_findings *fs, size_t from, const char *id);
/* The highest severity in the list; -1 when empty. */
int zw_findings_max(const struct zw_findings *fs);
/* Stable sort: domain, then severity (high first), then id, name. */
void zw_findings_sort(struct zw_findings *fs);
/* Move every finding of `from` to the end of `to`, except one `to` already holds (same
 * class and owner name); `from` is left empty. 0 or ZW_ENOMEM. */
int zw_findings_merge(struct zw_findings *to, struct zw_findings *from);
/* Append deep copies of the findings of `from` about `domain` (NULL: all) to `to`. The
 * manifest locations are shared (they point into the manifests' file names). */
int zw_findings_copy(struct zw_findings *to, const struct zw_findings *from, const char *domain);
/* Free one finding's strings (the finding itself belongs to its list). */
void zw_finding_clear(struct zw_finding *f);
void zw_findings_free(struct zw_findings *fs);

#endif
