/*
 * manifest.c - load Provider and MailDomain documents (see manifest.h).
 *
 * Two passes per document: the schema tables below check the YAML tree (unknown keys
 * with a "did you mean", types, enums, bounds, required fields, inline secrets); then,
 * only if the document passed, typed structs are built from it. Cross-document rules
 * (a domain declared twice, a providerRef to no Provider) run when all files are read.
 *
 * Owns: everything in struct zw_manifests. The YAML trees are freed as soon as a file
 * has been turned into structs.
 */
#include "reconcile/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "reconcile/alloc.h"
#include "reconcile/names.h"
#include "reconcile/ytree.h"

/* ---- the schema ------------------------------------------------------------------ */

enum ftype {
	F_STR,		/* a scalar string */
	F_INT,		/* a plain integer within [min, max] */
	F_BOOL,		/* plain true / false */
	F_STRLIST,	/* a sequence of strings */
	F_BOOL_OR_LIST, /* true / false, or a sequence of strings */
	F_MAP,		/* a mapping checked against `sub` */
	F_MAPLIST,	/* a sequence of mappings checked against `sub` */
	F_ANYMAP,	/* a mapping of strings to strings (labels, annotations) */
	F_ANY,		/* anything (status written by the controller) */
};

struct field {
	const char *name;
	enum ftype type;
	int required;
	const char *const *enums; /* NULL-terminated; NULL = any value */
	const struct field *sub;  /* F_MAP / F_MAPLIST */
	long min, max;		  /* F_INT */
	const char *secret_hint;  /* non-NULL: this key is an inline secret, refused */
};

static const char *const kinds[] = {"Provider", "MailDomain", NULL};
static const char *const api_versions[] = {ZW_API_VERSION, NULL};
static const char *const provider_types[] = {"route53", "cloudflare", "rfc2136", NULL};
static const char *const policies[] = {"upsert-only", "sync", "create-only", NULL};
static const char *const deletions[] = {"Retain", "Delete", NULL};
static const char *const spf_alls[] = {"fail", "softfail", "neutral", NULL};
static const char *const key_types[] = {"rsa", "ed25519", NULL};
static const char *const dkim_states[] = {"active", "revoked", NULL};
static const char *const dmarc_policies[] = {"none", "quarantine", "reject", NULL};
static const char *const alignments[] = {"relaxed", "strict", NULL};
static const char *const tsig_algorithms[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512", NULL};

#define END                                                                                                  \
	{                                                                                                    \
		NULL, F_STR, 0, NULL, NULL, 0, 0, NULL                                                       \
	}

static const struct field metadata_fields[] = {
	{"name", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"namespace", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"labels", F_ANYMAP, 0, NULL, NULL, 0, 0, NULL},
	{"annotations", F_ANYMAP, 0, NULL, NULL, 0, 0, NULL},
	{"uid", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"resourceVersion", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"generation", F_INT, 0, NULL, NULL, 0, 9223372036854775807L, NULL},
	{"creationTimestamp", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"finalizers", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	/* what the API server adds, so `kubectl get -o yaml` output validates as it is */
	{"generateName", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"selfLink", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"deletionTimestamp", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"deletionGracePeriodSeconds", F_ANY, 0, NULL, NULL, 0, 0, NULL},
	{"ownerReferences", F_ANY, 0, NULL, NULL, 0, 0, NULL},
	{"managedFields", F_ANY, 0, NULL, NULL, 0, 0, NULL},
	END,
};

static const struct field route53_fields[] = {
	{"region", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"assumeRoleArn", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"hostedZoneId", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"waitInsync", F_INT, 0, NULL, NULL, 0, 3600, NULL},
	{"accessKeyId", F_STR, 0, NULL, NULL, 0, 0,
	 "use the AWS credential chain (AWS_ACCESS_KEY_ID, web identity, shared files)"},
	{"secretAccessKey", F_STR, 0, NULL, NULL, 0, 0,
	 "use the AWS credential chain (AWS_SECRET_ACCESS_KEY, web identity, shared files)"},
	{"sessionToken", F_STR, 0, NULL, NULL, 0, 0, "use the AWS credential chain"},
	END,
};

static const struct field secret_ref_fields[] = {
	{"name", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"key", F_STR, 1, NULL, NULL, 0, 0, NULL},
	END,
};

static const struct field cloudflare_fields[] = {
	{"apiTokenFile", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"apiTokenSecretRef", F_MAP, 0, NULL, secret_ref_fields, 0, 0, NULL},
	{"accountId", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"perPage", F_INT, 0, NULL, NULL, 5, 5000000, NULL},
	{"batchSize", F_INT, 0, NULL, NULL, 1, 3500, NULL},
	{"apiToken", F_STR, 0, NULL, NULL, 0, 0,
	 "use apiTokenFile, apiTokenSecretRef or CLOUDFLARE_API_TOKEN"},
	{"apiKey", F_STR, 0, NULL, NULL, 0, 0, "use apiTokenFile, apiTokenSecretRef or CLOUDFLARE_API_TOKEN"},
	END,
};

static const struct field rfc2136_fields[] = {
	{"server", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"port", F_INT, 0, NULL, NULL, 1, 65535, NULL},
	{"tsigKeyName", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"tsigAlgorithm", F_STR, 0, tsig_algorithms, NULL, 0, 0, NULL},
	{"tsigSecretFile", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"tsigSecret", F_STR, 0, NULL, NULL, 0, 0,
	 "use tsigSecretFile (a file holding the base64 secret alone)"},
	END,
};

static const struct field provider_spec[] = {
	{"type", F_STR, 1, provider_types, NULL, 0, 0, NULL},
	{"route53", F_MAP, 0, NULL, route53_fields, 0, 0, NULL},
	{"cloudflare", F_MAP, 0, NULL, cloudflare_fields, 0, 0, NULL},
	{"rfc2136", F_MAP, 0, NULL, rfc2136_fields, 0, 0, NULL},
	END,
};

static const struct field spf_fields[] = {
	{"include", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"ip4", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"ip6", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"a", F_BOOL_OR_LIST, 0, NULL, NULL, 0, 0, NULL},
	{"mx", F_BOOL_OR_LIST, 0, NULL, NULL, 0, 0, NULL},
	{"exists", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"redirect", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"all", F_STR, 0, spf_alls, NULL, 0, 0, NULL},
	END,
};

static const struct field dkim_fields[] = {
	{"selector", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"cname", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"publicKey", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"keyType", F_STR, 0, key_types, NULL, 0, 0, NULL},
	{"state", F_STR, 0, dkim_states, NULL, 0, 0, NULL},
	{"testing", F_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"publicKeySha256", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"expectAbsent", F_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"privateKey", F_STR, 0, NULL, NULL, 0, 0,
	 "the private key never belongs in a manifest; publish publicKey only"},
	END,
};

static const struct field alignment_fields[] = {
	{"dkim", F_STR, 0, alignments, NULL, 0, 0, NULL},
	{"spf", F_STR, 0, alignments, NULL, 0, 0, NULL},
	END,
};

static const struct field dmarc_fields[] = {
	{"policy", F_STR, 0, dmarc_policies, NULL, 0, 0, NULL},
	{"subdomainPolicy", F_STR, 0, dmarc_policies, NULL, 0, 0, NULL},
	{"nonexistentPolicy", F_STR, 0, dmarc_policies, NULL, 0, 0, NULL},
	{"percent", F_INT, 0, NULL, NULL, 0, 99, NULL},
	{"rua", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"ruf", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"failureOptions", F_STR, 0, NULL, NULL, 0, 0, NULL},
	{"alignment", F_MAP, 0, NULL, alignment_fields, 0, 0, NULL},
	{"testing", F_BOOL, 0, NULL, NULL, 0, 0, NULL},
	END,
};

static const struct field cname_fields[] = {
	{"name", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"target", F_STR, 1, NULL, NULL, 0, 0, NULL},
	END,
};

static const struct field domain_spec[] = {
	{"domain", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"providerRef", F_STR, 1, NULL, NULL, 0, 0, NULL},
	{"ttl", F_INT, 0, NULL, NULL, 1, 2147483647L, NULL},
	{"policy", F_STR, 0, policies, NULL, 0, 0, NULL},
	{"deletionPolicy", F_STR, 0, deletions, NULL, 0, 0, NULL},
	{"nameservers", F_STRLIST, 0, NULL, NULL, 0, 0, NULL},
	{"parked", F_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"bulkSender", F_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"fixDelegation", F_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"spf", F_MAP, 0, NULL, spf_fields, 0, 0, NULL},
	{"dkim", F_MAPLIST, 0, NULL, dkim_fields, 0, 0, NULL},
	{"dmarc", F_MAP, 0, NULL, dmarc_fields, 0, 0, NULL},
	{"cnames", F_MAPLIST, 0, NULL, cname_fields, 0, 0, NULL},
	END,
};

/* The top of a document; spec is checked against the table of its kind. */
static const struct field doc_fields[] = {
	{"apiVersion", F_STR, 1, api_versions, NULL, 0, 0, NULL},
	{"kind", F_STR, 1, kinds, NULL, 0, 0, NULL},
	{"metadata", F_MAP, 1, NULL, metadata_fields, 0, 0, NULL},
	{"spec", F_MAP, 1, NULL, NULL, 0, 0, NULL},
	{"status", F_ANY, 0, NULL, NULL, 0, 0, NULL},
	END,
};

/* ---- errors ---------------------------------------------------------------------- */

struct loader {
	struct zw_manifests *ms;
	const char *file; /* borrowed from ms->files */
	int nomem;
	size_t doc_errors; /* errors in the current document */
};

static void add_errorv(struct loader *ld, unsigned line, unsigned col, const char *path, const char *fmt,
		       va_list ap)
{
	struct zw_manifests *ms = ld->ms;
	ld->doc_errors++;
	if (ms->nerrors >= ZW_MANIFEST_MAX_ERRORS) {
		ms->errors_dropped++;
		return;
	}
	if (!ms->errors) {
		ms->errors = zw_calloc(ZW_MANIFEST_MAX_ERRORS, sizeof(*ms->errors));
		if (!ms->errors) {
			ld->nomem = 1;
			return;
		}
	}
	struct zw_error *e = &ms->errors[ms->nerrors++];
	char msg[ZW_ERR_MSG_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	zw_error_set_at(e, ZW_EINVAL, ld->file, line, col, path, "%s", msg);
}

static void add_error(struct loader *ld, const struct zw_ynode *n, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add_error(struct loader *ld, const struct zw_ynode *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_errorv(ld, n ? n->line : 1, n ? n->col : 1, path, fmt, ap);
	va_end(ap);
}

static void add_load_error(struct zw_manifests *ms, const struct zw_error *e)
{
	if (ms->nerrors >= ZW_MANIFEST_MAX_ERRORS) {
		ms->errors_dropped++;
		return;
	}
	if (!ms->errors && !(ms->errors = zw_calloc(ZW_MANIFEST_MAX_ERRORS, sizeof(*ms->errors)))) {
		ms->oom = 1;
		return;
	}
	ms->errors[ms->nerrors++] = *e;
}

/* ---- the schema walk --------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = strncasecmp(a + i - 1, b + j - 1, 1) != 0;
			size_t m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			d[i][j] = m;
		}
	return d[la][lb];
}

/* The nearest of `names` to `s` when it is near enough to be a typo; NULL otherwise. */
static const char *nearest(const char *s, const char *const *names, size_t stride)
{
	const char *best = NULL;
	size_t best_d = 99;
	for (const char *const *p = names; *p; p = (const char *const *)((const char *)p + stride)) {
		size_t d = edit_distance(s, *p);
		if (d < best_d) {
			best_d = d;
			best = *p;
		}
	}
	size_t len = strlen(s);
	size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	return best_d <= limit ? best : NULL;
}

static const char *nearest_field(const char *s, const struct field *fields)
{
	return nearest(s, &fields[0].name, sizeof(struct field));
}

static const char *type_name(enum ftype t)
{
	static const char *const names[] = {
		"a string",
		"an integer",
		"a boolean (true or false)",
		"a list of strings",
		"true, false or a list of names",
		"a mapping",
		"a list of mappings",
		"a mapping of strings",
		"any value",
	};
	return names[t];
}

static int is_bool(const struct zw_ynode *n)
{
	return n->kind == ZW_Y_SCALAR && n->plain &&
	       (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0);
}

static int is_null(const struct zw_ynode *n)
{
	return n->kind == ZW_Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0);
}

static void check_map(struct loader *ld, const struct zw_ynode *map, const struct field *fields,
		      const char *path);

static void join_path(char *out, size_t outsz, const char *path, const char *key)
{
	if (path[0])
		snprintf(out, outsz, "%s.%s", path, key);
	else
		snprintf(out, outsz, "%s", key);
}

static void check_string(struct loader *ld, const struct zw_ynode *n, const struct field *f, const char *path)
{
	if (n->kind != ZW_Y_SCALAR || is_null(n)) {
		add_error(ld, n, path, "expected %s", type_name(F_STR));
		return;
	}
	if (n->plain && f->enums == NULL && (is_bool(n))) {
		add_error(ld, n, path, "expected a string, got the boolean %s; quote it if you mean the text",
			  n->value);
		return;
	}
	if (!f->enums)
		return;
	for (const char *const *e = f->enums; *e; e++)
		if (strcmp(n->value, *e) == 0)
			return;
	char allowed[256] = "";
	size_t used = 0;
	for (const char *const *e = f->enums; *e && used < sizeof(allowed); e++)
		used += (size_t)snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
					 e == f->enums ? "" : ", ", *e);
	const char *near = nearest(n->value, f->enums, sizeof(char *));
	if (strcmp(f->name, "all") == 0 && strcmp(n->value, "pass") == 0)
		add_error(ld, n, path,
			  "SPF_PASS_ALL (SP-16): all: pass (+all) authorises every host on the internet "
			  "(RFC 7208 §5.1); use fail, softfail or neutral");
	else if (near)
		add_error(ld, n, path, "'%.60s' is not one of %s: did you mean '%s'?", n->value, allowed,
			  near);
	else
		add_error(ld, n, path, "'%.60s' is not one of %s", n->value, allowed);
}

static void check_value(struct loader *ld, const struct zw_ynode *n, const struct field *f, const char *path)
{
	char sub[ZW_ERR_PATH_MAX];
	switch (f->type) {
	case F_STR: check_string(ld, n, f, path); break;
	case F_INT: {
		char *end = NULL;
		errno = 0;
		long v = n->kind == ZW_Y_SCALAR && n->plain && n->len ? strtol(n->value, &end, 10) : 0;
		if (n->kind != ZW_Y_SCALAR || !n->plain || !n->len || *end || errno) {
			add_error(ld, n, path, "expected %s", type_name(F_INT));
		} else if (v < f->min || v > f->max) {
			if (strcmp(f->name, "percent") == 0 && v == 100)
				add_error(ld, n, path,
					  "percent: 100 is the default; omit it (RFC 9989 removed pct)");
			else
				add_error(ld, n, path, "%ld is out of range %ld..%ld", v, f->min, f->max);
		}
		break;
	}
	case F_BOOL:
		if (!is_bool(n))
			add_error(ld, n, path, "expected %s", type_name(F_BOOL));
		break;
	case F_BOOL_OR_LIST:
		if (is_bool(n))
			break;
		/* fall through */
	case F_STRLIST:
		if (n->kind != ZW_Y_SEQ) {
			add_error(ld, n, path, "expected %s", type_name(f->type));
			break;
		}
		for (size_t i = 0; i < n->n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (n->items[i]->kind != ZW_Y_SCALAR || is_null(n->items[i]))
				add_error(ld, n->items[i], sub, "expected a string");
		}
		break;
	case F_MAP:
		if (n->kind != ZW_Y_MAP) {
			add_error(ld, n, path, "expected %s", type_name(F_MAP));
			break;
		}
		if (f->sub)
			check_map(ld, n, f->sub, path);
		break;
	case F_MAPLIST:
		if (n->kind != ZW_Y_SEQ) {
			add_error(ld, n, path, "expected %s", type_name(F_MAPLIST));
			break;
		}
		for (size_t i = 0; i < n->n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (n->items[i]->kind != ZW_Y_MAP)
				add_error(ld, n->items[i], sub, "expected a mapping");
			else
				check_map(ld, n->items[i], f->sub, sub);
		}
		break;
	case F_ANYMAP:
		if (n->kind != ZW_Y_MAP) {
			add_error(ld, n, path, "expected %s", type_name(F_ANYMAP));
			break;
		}
		for (size_t i = 0; i < n->n; i++) {
			join_path(sub, sizeof(sub), path, n->keys[i]->value);
			if (n->items[i]->kind != ZW_Y_SCALAR)
				add_error(ld, n->items[i], sub, "expected a string");
		}
		break;
	case F_ANY: break;
	}
}

static void check_map(struct loader *ld, const struct zw_ynode *map, const struct field *fields,
		      const char *path)
{
	char sub[ZW_ERR_PATH_MAX];
	for (size_t i = 0; i < map->n; i++) {
		const struct zw_ynode *key = map->keys[i];
		const struct field *f = fields;
		while (f->name && strcmp(f->name, key->value) != 0)
			f++;
		join_path(sub, sizeof(sub), path, key->value);
		if (!f->name) {
			const char *near = nearest_field(key->value, fields);
			if (near)
				add_error(ld, key, sub, "unknown field '%.60s': did you mean '%s'?",
					  key->value, near);
			else
				add_error(ld, key, sub, "unknown field '%.60s'", key->value);
			continue;
		}
		if (f->secret_hint) {
			add_error(ld, key, sub, "credentials are never written inline: %s", f->secret_hint);
			continue;
		}
		check_value(ld, map->items[i], f, sub);
	}
	for (const struct field *f = fields; f->name; f++) {
		if (f->required && !zw_ynode_get(map, f->name)) {
			join_path(sub, sizeof(sub), path, f->name);
			add_error(ld, map, sub, "missing required field '%s'", f->name);
		}
	}
}

/* ---- building the typed structs ------------------------------------------------------ */

static char *dup_or_flag(struct loader *ld, const char *s)
{
	char *d = zw_strdup(s);
	if (!d)
		ld->nomem = 1;
	return d;
}

static struct zw_loc loc_of(const struct loader *ld, const struct zw_ynode *n)
{
	struct zw_loc l = {ld->file, n ? n->line : 0, n ? n->col : 0};
	return l;
}

static const char *str_at(const struct zw_ynode *map, const char *key)
{
	const struct zw_ynode *n = zw_ynode_get(map, key);
	return n && n->kind == ZW_Y_SCALAR ? n->value : NULL;
}

static int bool_at(const struct zw_ynode *map, const char *key)
{
	const char *v = str_at(map, key);
	return v && strcmp(v, "true") == 0;
}

static void strlist_at(struct loader *ld, struct zw_strlist *out, const struct zw_ynode *map, const char *key)
{
	const struct zw_ynode *n = zw_ynode_get(map, key);
	if (!n || n->kind != ZW_Y_SEQ || n->n == 0)
		return;
	out->v = zw_calloc(n->n, sizeof(*out->v));
	out->loc = zw_calloc(n->n, sizeof(*out->loc));
	if (!out->v || !out->loc) {
		ld->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		out->v[i] = dup_or_flag(ld, n->items[i]->value);
		out->loc[i] = loc_of(ld, n->items[i]);
		out->n = i + 1;
	}
}

static void strlist_free(struct zw_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		zw_free(l->v[i]);
	zw_free(l->v);
	zw_free(l->loc);
	memset(l, 0, sizeof(*l));
}

/* Resolve a name relative to the domain; an error is reported at node n. */
static char *resolve_name(struct loader *ld, const struct zw_ynode *n, const char *path, const char *rel,
			  const char *domain)
{
	struct zw_error e = {0};
	char *out = NULL;
	int rc = zw_name_resolve(&out, rel, domain, &e);
	if (rc == ZW_ENOMEM)
		ld->nomem = 1;
	else if (rc)
		add_error(ld, n, path, "%s", e.msg);
	return out;
}

/* A target is always absolute (a trailing dot is optional): appending the origin to a
 * target is the NM-02 mistake, never what a mail-auth CNAME means. */
static char *resolve_target(struct loader *ld, const struct zw_ynode *n, const char *path, const char *target,
			    const char *apex)
{
	struct zw_error e = {0};
	char *out = NULL;
	int rc = zw_name_canonical(&out, target, &e);
	if (rc == ZW_ENOMEM) {
		ld->nomem = 1;
		return NULL;
	}
	if (rc) {
		add_error(ld, n, path, "invalid target '%.80s': %s", target, e.msg);
		return NULL;
	}
	char *fixed = NULL;
	rc = zw_name_apex_doubled(&fixed, out, apex);
	if (rc == 0)
		rc = zw_name_origin_appended(&fixed, out, apex);
	if (rc < 0) {
		ld->nomem = 1;
	} else if (rc == 1) {
		add_error(ld, n, path,
			  "TARGET_ORIGIN_APPENDED (NM-02): target '%s' is a complete name with the domain "
			  "appended; did you mean '%s'?",
			  out, fixed);
		zw_free(out);
		out = NULL;
	}
	zw_free(fixed);
	return out;
}

static void build_provider(struct loader *ld, const struct zw_ynode *doc)
{
	const struct zw_ynode *spec = zw_ynode_get(doc, "spec");
	const struct zw_ynode *meta = zw_ynode_get(doc, "metadata");
	const char *type = str_at(spec, "type");
	/* exactly one settings block, the one named after the type */
	for (const char *const *t = provider_types; *t; t++) {
		const struct zw_ynode *blk = zw_ynode_get(spec, *t);
		if (blk && strcmp(*t, type) != 0) {
			char path[64];
			snprintf(path, sizeof(path), "spec.%s", *t);
			add_error(ld, blk, path,
				  "settings for '%s' in a provider of type '%s': move them to a "
				  "provider of type %s, or remove them",
				  *t, type, *t);
		}
	}
	const struct zw_ynode *blk = zw_ynode_get(spec, type);
	if (!blk && strcmp(type, "rfc2136") == 0)
		add_error(ld, spec, "spec.rfc2136", "missing required field 'rfc2136' (server is required)");
	if (ld->doc_errors)
		return;

	struct zw_manifests *ms = ld->ms;
	struct zw_provider_spec *np = zw_realloc(ms->providers, (ms->nproviders + 1) * sizeof(*np));
	if (!np) {
		ld->nomem = 1;
		return;
	}
	ms->providers = np;
	struct zw_provider_spec *p = &ms->providers[ms->nproviders++];
	memset(p, 0, sizeof(*p));
	p->name = dup_or_flag(ld, str_at(meta, "name"));
	p->type = dup_or_flag(ld, type);
	p->loc = loc_of(ld, doc);
	if (!blk || blk->kind != ZW_Y_MAP)
		return;
	/* flatten one level of nesting (apiTokenSecretRef.name) */
	size_t total = 0;
	for (size_t i = 0; i < blk->n; i++)
		total += blk->items[i]->kind == ZW_Y_MAP ? blk->items[i]->n : 1;
	if (!total || !(p->opts = zw_calloc(total, sizeof(*p->opts)))) {
		if (total)
			ld->nomem = 1;
		return;
	}
	for (size_t i = 0; i < blk->n; i++) {
		const struct zw_ynode *v = blk->items[i];
		if (v->kind == ZW_Y_MAP) {
			for (size_t j = 0; j < v->n; j++) {
				struct zw_kv *kv = &p->opts[p->nopts++];
				char key[128];
				snprintf(key, sizeof(key), "%s.%s", blk->keys[i]->value, v->keys[j]->value);
				kv->key = dup_or_flag(ld, key);
				kv->value = dup_or_flag(ld, v->items[j]->value);
				kv->loc = loc_of(ld, v->items[j]);
			}
		} else {
			struct zw_kv *kv = &p->opts[p->nopts++];
			kv->key = dup_or_flag(ld, blk->keys[i]->value);
			kv->value = dup_or_flag(ld, v->value);
			kv->loc = loc_of(ld, v);
		}
	}
}

/* SPF terms are separated by spaces (RFC 7208 §12): a value holding white space would
 * become two terms, so it is refused here with its own position. */
static void spf_no_blanks(struct loader *ld, const struct zw_ynode *n, const char *key)
{
	const struct zw_ynode *v = zw_ynode_get(n, key);
	size_t count = v && v->kind == ZW_Y_SEQ ? v->n : v ? 1 : 0;
	for (size_t i = 0; i < count; i++) {
		const struct zw_ynode *item = v->kind == ZW_Y_SEQ ? v->items[i] : v;
		if (item->kind != ZW_Y_SCALAR || !strpbrk(item->value, " \t\r\n"))
			continue;
		char path[64];
		if (v->kind == ZW_Y_SEQ)
			snprintf(path, sizeof(path), "spec.spf.%s[%zu]", key, i);
		else
			snprintf(path, sizeof(path), "spec.spf.%s", key);
		add_error(ld, item, path,
			  "'%.80s' contains white space: spf terms are separated by spaces "
			  "(RFC 7208 §12), so it would become two terms",
			  item->value);
	}
}

static void build_spf(struct loader *ld, struct zw_spf_spec *spf, const struct zw_ynode *n)
{
	static const char *const keys[] = {"include", "ip4", "ip6", "a", "mx", "exists", "redirect"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		spf_no_blanks(ld, n, keys[i]);
	spf->present = 1;
	spf->loc = loc_of(ld, n);
	strlist_at(ld, &spf->include, n, "include");
	strlist_at(ld, &spf->ip4, n, "ip4");
	strlist_at(ld, &spf->ip6, n, "ip6");
	strlist_at(ld, &spf->exists, n, "exists");
	const struct zw_ynode *a = zw_ynode_get(n, "a"), *mx = zw_ynode_get(n, "mx");
	if (a) {
		spf->a_loc = loc_of(ld, a);
		if (a->kind == ZW_Y_SEQ)
			strlist_at(ld, &spf->a_names, n, "a");
		else
			spf->a = bool_at(n, "a");
	}
	if (mx) {
		spf->mx_loc = loc_of(ld, mx);
		if (mx->kind == ZW_Y_SEQ)
			strlist_at(ld, &spf->mx_names, n, "mx");
		else
			spf->mx = bool_at(n, "mx");
	}
	if (str_at(n, "redirect")) {
		spf->redirect = dup_or_flag(ld, str_at(n, "redirect"));
		spf->redirect_loc = loc_of(ld, zw_ynode_get(n, "redirect"));
	}
	if (str_at(n, "all")) {
		spf->all = dup_or_flag(ld, str_at(n, "all"));
		spf->all_loc = loc_of(ld, zw_ynode_get(n, "all"));
	}
	if (spf->all && spf->redirect)
		add_error(ld, zw_ynode_get(n, "redirect"), "spec.spf.redirect",
			  "SPF_REDIRECT_PROBLEM (SP-12): give all or redirect, not both: redirect is ignored "
			  "when all is present (RFC 7208 §6.1)");
}

/* Remove white space from a base64 value (YAML folded scalars, pasted keys). */
static char *squeeze_base64(struct loader *ld, const char *s)
{
	char *out = zw_malloc(strlen(s) + 1);
	size_t j = 0;
	if (!out) {
		ld->nomem = 1;
		return NULL;
	}
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			out[j++] = *s;
	out[j] = '\0';
	return out;
}

static void build_dkim(struct loader *ld, struct zw_domain *d, const struct zw_ynode *seq)
{
	if (!seq || seq->kind != ZW_Y_SEQ || seq->n == 0)
		return;
	if (!(d->dkim = zw_calloc(seq->n, sizeof(*d->dkim)))) {
		ld->nomem = 1;
		return;
	}
	for (size_t i = 0; i < seq->n; i++) {
		const struct zw_ynode *n = seq->items[i];
		struct zw_dkim_spec *k = &d->dkim[d->ndkim++];
		char path[64];
		const char *sel = str_at(n, "selector");
		snprintf(path, sizeof(path), "spec.dkim[%zu].selector", i);
		k->loc = loc_of(ld, n);
		const struct zw_ynode *seln = zw_ynode_get(n, "selector");
		if (strstr(sel, "_domainkey")) {
			add_error(ld, seln, path,
				  "selector '%.80s' contains '_domainkey': write the selector alone (e.g. "
				  "'s1'); "
				  "the name becomes <selector>._domainkey.%s",
				  sel, d->domain);
		} else {
			/* the owner must resolve cleanly (APEX_DUPLICATED, label syntax) */
			char owner[ZW_ERR_MSG_MAX];
			snprintf(owner, sizeof(owner), "%s._domainkey", sel);
			struct zw_error e = {0};
			char *abs = NULL;
			/* the selector alone must not end with the domain (s1.example.com), and the
			 * whole owner must resolve cleanly */
			int rc = strlen(sel) && sel[strlen(sel) - 1] == '.'
					 ? zw_error_set(&e, ZW_EINVAL,
							"a selector is relative: remove the trailing dot")
					 : zw_name_resolve(&abs, sel, d->domain, &e);
			zw_free(abs);
			abs = NULL;
			if (rc == 0)
				rc = zw_name_resolve(&abs, owner, d->domain, &e);
			if (rc == ZW_ENOMEM)
				ld->nomem = 1;
			else if (rc == ZW_EINVAL && strstr(e.msg, "APEX_DUPLICATED"))
				add_error(ld, seln, path,
					  "APEX_DUPLICATED (NM-01): selector '%s' already ends with the "
					  "domain, so "
					  "the record would be '%s._domainkey.%s.'; write the selector alone",
					  sel, sel, d->domain);
			else if (rc)
				add_error(ld, seln, path, "%s", e.msg);
			zw_free(abs);
		}
		k->selector = dup_or_flag(ld, sel);
		const char *cname = str_at(n, "cname"), *key = str_at(n, "publicKey");
		const char *state = str_at(n, "state");
		k->revoked = state && strcmp(state, "revoked") == 0;
		k->testing = bool_at(n, "testing");
		k->expect_absent = bool_at(n, "expectAbsent");
		k->key_type = dup_or_flag(ld, str_at(n, "keyType") ? str_at(n, "keyType") : "rsa");
		if (str_at(n, "publicKeySha256"))
			k->public_key_sha256 = dup_or_flag(ld, str_at(n, "publicKeySha256"));
		snprintf(path, sizeof(path), "spec.dkim[%zu]", i);
		int sources = (cname != NULL) + (key != NULL);
		if (k->expect_absent) {
			if (sources || k->revoked)
				add_error(ld, n, path,
					  "expectAbsent: true takes no cname, publicKey or state");
		} else if (k->revoked) {
			if (cname)
				add_error(ld, zw_ynode_get(n, "cname"), path,
					  "a revoked selector publishes an empty key (p=): remove cname");
		} else if (sources != 1) {
			add_error(ld, n, path, "give exactly one of cname or publicKey");
		}
		if (cname) {
			snprintf(path, sizeof(path), "spec.dkim[%zu].cname", i);
			k->cname_loc = loc_of(ld, zw_ynode_get(n, "cname"));
			k->cname = resolve_target(ld, zw_ynode_get(n, "cname"), path, cname, d->apex);
		}
		if (key) {
			k->key_loc = loc_of(ld, zw_ynode_get(n, "publicKey"));
			k->public_key = squeeze_base64(ld, key);
		}
	}
}

static void build_dmarc(struct loader *ld, struct zw_dmarc_spec *dm, const struct zw_ynode *n)
{
	dm->present = 1;
	dm->loc = loc_of(ld, n);
	dm->percent = -1;
	if (str_at(n, "policy"))
		dm->policy = dup_or_flag(ld, str_at(n, "policy"));
	if (str_at(n, "subdomainPolicy"))
		dm->subdomain_policy = dup_or_flag(ld, str_at(n, "subdomainPolicy"));
	if (str_at(n, "nonexistentPolicy"))
		dm->nonexistent_policy = dup_or_flag(ld, str_at(n, "nonexistentPolicy"));
	if (str_at(n, "percent"))
		dm->percent = (int)strtol(str_at(n, "percent"), NULL, 10);
	strlist_at(ld, &dm->rua, n, "rua");
	strlist_at(ld, &dm->ruf, n, "ruf");
	if (zw_ynode_get(n, "rua"))
		dm->rua_loc = loc_of(ld, zw_ynode_get(n, "rua"));
	if (zw_ynode_get(n, "ruf"))
		dm->ruf_loc = loc_of(ld, zw_ynode_get(n, "ruf"));
	if (str_at(n, "failureOptions")) {
		dm->failure_options = dup_or_flag(ld, str_at(n, "failureOptions"));
		dm->fo_loc = loc_of(ld, zw_ynode_get(n, "failureOptions"));
	}
	const struct zw_ynode *al = zw_ynode_get(n, "alignment");
	if (str_at(al, "dkim"))
		dm->align_dkim = dup_or_flag(ld, str_at(al, "dkim"));
	if (str_at(al, "spf"))
		dm->align_spf = dup_or_flag(ld, str_at(al, "spf"));
	dm->testing = bool_at(n, "testing");
	if (!dm->policy)
		add_error(
			ld, n, "spec.dmarc.policy",
			"missing required field 'policy' (none, quarantine or reject; RFC 7489 requires p)");
}

static void build_cnames(struct loader *ld, struct zw_domain *d, const struct zw_ynode *seq)
{
	if (!seq || seq->kind != ZW_Y_SEQ || seq->n == 0)
		return;
	if (!(d->cnames = zw_calloc(seq->n, sizeof(*d->cnames)))) {
		ld->nomem = 1;
		return;
	}
	for (size_t i = 0; i < seq->n; i++) {
		const struct zw_ynode *n = seq->items[i];
		struct zw_cname_spec *c = &d->cnames[d->ncnames++];
		char path[64];
		c->loc = loc_of(ld, n);
		snprintf(path, sizeof(path), "spec.cnames[%zu].name", i);
		const struct zw_ynode *nn = zw_ynode_get(n, "name");
		c->name = resolve_name(ld, nn, path, str_at(n, "name"), d->domain);
		if (c->name && !zw_name_is_at_or_below(c->name, d->apex)) {
			add_error(ld, nn, path, "'%s' is outside the domain %s", c->name, d->domain);
		} else if (c->name && strcmp(c->name, d->apex) == 0) {
			add_error(ld, nn, path,
				  "CNAME_AT_APEX (CN-02): a CNAME cannot sit at the zone apex beside SOA and "
				  "NS "
				  "(RFC 1034 §3.6.2); use a Route 53 alias or Cloudflare flattening");
		}
		snprintf(path, sizeof(path), "spec.cnames[%zu].target", i);
		c->target_loc = loc_of(ld, zw_ynode_get(n, "target"));
		c->target = resolve_target(ld, zw_ynode_get(n, "target"), path, str_at(n, "target"), d->apex);
	}
}

/*
 * A cnames[] entry at a name that another claim already holds: a DKIM selector (its CNAME:
 * CN-06; its key TXT: CN-01) or _dmarc (CN-01). A CNAME is a singleton and takes no other
 * data beside it (RFC 1034 §3.6.2, RFC 2181 §10.1), so the plan could never satisfy both.
 */
static void cname_clashes(struct loader *ld, const struct zw_domain *d)
{
	char other[ZW_NAME_MAX + 32], path[64];
	for (size_t i = 0; i < d->ncnames; i++) {
		const struct zw_cname_spec *c = &d->cnames[i];
		const char *why = NULL;
		if (!c->name || !d->apex)
			continue;
		snprintf(other, sizeof(other), "_dmarc.%s", d->apex);
		if (d->dmarc.present && strcasecmp(c->name, other) == 0)
			why = "CNAME_WITH_OTHER_DATA (CN-01): '%s' also holds the dmarc record of "
			      "spec.dmarc; "
			      "no other data may sit beside a CNAME (RFC 1034 §3.6.2, RFC 2181 §10.1)";
		for (size_t k = 0; !why && k < d->ndkim; k++) {
			const struct zw_dkim_spec *dk = &d->dkim[k];
			if (!dk->selector || dk->expect_absent)
				continue;
			snprintf(other, sizeof(other), "%s._domainkey.%s", dk->selector, d->apex);
			if (strcasecmp(c->name, other) != 0)
				continue;
			why = dk->cname
				      ? "CNAME_MULTIPLE (CN-06): '%s' is also a dkim selector of spec.dkim "
					"with "
					"its own cname (a CNAME is a singleton, RFC 2181 §10.1)"
				      : "CNAME_WITH_OTHER_DATA (CN-01): '%s' also holds a dkim key of "
					"spec.dkim; no "
					"other data may sit beside a CNAME (RFC 1034 §3.6.2, RFC 2181 §10.1)";
		}
		if (!why)
			continue;
		snprintf(path, sizeof(path), "spec.cnames[%zu].name", i);
		struct zw_ynode at = {.line = c->loc.line, .col = c->loc.col};
		add_error(ld, &at, path, why, c->name);
	}
}

static void build_domain(struct loader *ld, const struct zw_ynode *doc)
{
	const struct zw_ynode *spec = zw_ynode_get(doc, "spec");
	const struct zw_ynode *meta = zw_ynode_get(doc, "metadata");
	const struct zw_ynode *dn = zw_ynode_get(spec, "domain");
	struct zw_manifests *ms = ld->ms;
	struct zw_domain *nd = zw_realloc(ms->domains, (ms->ndomains + 1) * sizeof(*nd));
	if (!nd) {
		ld->nomem = 1;
		return;
	}
	ms->domains = nd;
	struct zw_domain *d = &ms->domains[ms->ndomains++];
	memset(d, 0, sizeof(*d));
	d->loc = loc_of(ld, doc);
	d->domain_loc = loc_of(ld, dn);
	d->meta_name = dup_or_flag(ld, str_at(meta, "name"));
	d->provider_ref = dup_or_flag(ld, str_at(spec, "providerRef"));

	struct zw_error e = {0};
	const char *domain = dn->value;
	int rc = zw_name_canonical(&d->apex, domain, &e);
	if (rc == ZW_ENOMEM) {
		ld->nomem = 1;
		return;
	}
	if (rc) {
		add_error(ld, dn, "spec.domain", "invalid domain '%.80s': %s", domain, e.msg);
		return;
	}
	if (zw_name_labels(d->apex) < 2) {
		add_error(ld, dn, "spec.domain", "'%s' is a top-level domain; give the registered domain",
			  domain);
		return;
	}
	d->domain = zw_strndup(d->apex, strlen(d->apex) - 1);
	if (!d->domain) {
		ld->nomem = 1;
		return;
	}
	d->ttl = str_at(spec, "ttl") ? (unsigned)strtoul(str_at(spec, "ttl"), NULL, 10) : 3600;
	const char *pol = str_at(spec, "policy");
	d->policy = !pol || strcmp(pol, "upsert-only") == 0 ? ZW_POLICY_UPSERT_ONLY
		    : strcmp(pol, "sync") == 0		    ? ZW_POLICY_SYNC
							    : ZW_POLICY_CREATE_ONLY;
	const char *del = str_at(spec, "deletionPolicy");
	d->deletion = del && strcmp(del, "Delete") == 0 ? ZW_DELETION_DELETE : ZW_DELETION_RETAIN;
	d->parked = bool_at(spec, "parked");
	d->bulk_sender = bool_at(spec, "bulkSender");
	d->fix_delegation = bool_at(spec, "fixDelegation");

	const struct zw_ynode *ns = zw_ynode_get(spec, "nameservers");
	strlist_at(ld, &d->nameservers, spec, "nameservers");
	for (size_t i = 0; i < d->nameservers.n && !ld->nomem; i++) {
		char path[64], *canon = NULL;
		zw_error_clear(&e);
		snprintf(path, sizeof(path), "spec.nameservers[%zu]", i);
		rc = zw_name_canonical(&canon, d->nameservers.v[i], &e);
		if (rc == ZW_ENOMEM)
			ld->nomem = 1;
		else if (rc)
			add_error(ld, ns->items[i], path, "invalid name server '%.80s': %s",
				  d->nameservers.v[i], e.msg);
		if (canon) {
			zw_free(d->nameservers.v[i]);
			d->nameservers.v[i] = canon;
		}
	}

	if (zw_ynode_get(spec, "spf"))
		build_spf(ld, &d->spf, zw_ynode_get(spec, "spf"));
	build_dkim(ld, d, zw_ynode_get(spec, "dkim"));
	if (zw_ynode_get(spec, "dmarc"))
		build_dmarc(ld, &d->dmarc, zw_ynode_get(spec, "dmarc"));
	build_cnames(ld, d, zw_ynode_get(spec, "cnames"));

	/* two claims on one owner */
	for (size_t i = 0; i < d->ncnames; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!d->cnames[i].name || !d->cnames[j].name ||
			    strcmp(d->cnames[i].name, d->cnames[j].name) != 0)
				continue;
			char path[64];
			snprintf(path, sizeof(path), "spec.cnames[%zu].name", i);
			struct zw_ynode at = {.line = d->cnames[i].loc.line, .col = d->cnames[i].loc.col};
			add_error(ld, &at, path,
				  "CNAME_MULTIPLE (CN-06): '%s' is declared twice (a CNAME is a singleton, "
				  "RFC 2181 §10.1)",
				  d->cnames[i].name);
			break;
		}
	}
	for (size_t i = 0; i < d->ndkim; i++)
		for (size_t j = 0; j < i; j++)
			if (d->dkim[i].selector && d->dkim[j].selector && /* NULL: out of memory, flagged */
			    strcasecmp(d->dkim[i].selector, d->dkim[j].selector) == 0) {
				char path[64];
				snprintf(path, sizeof(path), "spec.dkim[%zu].selector", i);
				struct zw_ynode fake = {.line = d->dkim[i].loc.line,
							.col = d->dkim[i].loc.col};
				add_error(ld, &fake, path, "selector '%s' is declared twice",
					  d->dkim[i].selector);
				break;
			}
	cname_clashes(ld, d);
}

static void load_doc(struct loader *ld, const struct zw_ydoc *doc)
{
	const struct zw_ynode *root = doc->root;
	ld->doc_errors = 0;
	if (root->kind != ZW_Y_MAP) {
		add_error(ld, root, "",
			  "a manifest document must be a mapping with apiVersion, kind, metadata and spec");
		return;
	}
	check_map(ld, root, doc_fields, "");
	if (ld->doc_errors)
		return;
	const char *kind = str_at(root, "kind");
	const struct zw_ynode *spec = zw_ynode_get(root, "spec");
	int is_provider = strcmp(kind, "Provider") == 0;
	check_map(ld, spec, is_provider ? provider_spec : domain_spec, "spec");
	if (ld->doc_errors)
		return;
	if (is_provider)
		build_provider(ld, root);
	else
		build_domain(ld, root);
}

/* ---- files and directories -------------------------------------------------------- */

static int has_yaml_suffix(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(struct zw_manifests *ms, const char *path, const char *data, size_t len)
{
	struct zw_error e = {0};
	struct zw_yfile *yf = NULL;
	char **files = zw_realloc(ms->files, (ms->nfiles + 1) * sizeof(*files));
	if (!files)
		return ZW_ENOMEM;
	ms->files = files;
	if (!(ms->files[ms->nfiles] = zw_strdup(path)))
		return ZW_ENOMEM;
	struct loader ld = {.ms = ms, .file = ms->files[ms->nfiles++]};
	int rc = zw_ytree_load(&yf, path, data, len, &e);
	if (rc == ZW_ENOMEM)
		return rc;
	if (rc) {
		snprintf(e.file, sizeof(e.file), "%s", ld.file);
		add_load_error(ms, &e);
		return 0;
	}
	for (size_t i = 0; i < yf->ndocs && !ld.nomem; i++)
		load_doc(&ld, &yf->docs[i]);
	zw_ytree_free(yf);
	return ld.nomem ? ZW_ENOMEM : 0;
}

static int walk(struct zw_manifests *ms, const char *path, int depth, int explicit_file)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		struct zw_error e = {0};
		zw_error_set_at(&e, ZW_EIO, path, 0, 0, NULL, "%s", strerror(errno));
		add_load_error(ms, &e);
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return explicit_file || has_yaml_suffix(path) ? load_file(ms, path, NULL, 0) : 0;
	if (!S_ISDIR(st.st_mode) || depth > 32)
		return 0;
	DIR *dir = opendir(path);
	if (!dir) {
		struct zw_error e = {0};
		zw_error_set_at(&e, ZW_EIO, path, 0, 0, NULL, "%s", strerror(errno));
		add_load_error(ms, &e);
		return 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = zw_realloc(names, cap * sizeof(*nn));
			if (!nn) {
				rc = ZW_ENOMEM;
				break;
			}
			names = nn;
		}
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		if (!(names[n] = zw_malloc(len))) {
			rc = ZW_ENOMEM;
			break;
		}
		snprintf(names[n], len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
		n++;
	}
	closedir(dir);
	if (rc == 0 && n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = walk(ms, names[i], depth + 1, 0);
	for (size_t i = 0; i < n; i++)
		zw_free(names[i]);
	zw_free(names);
	return rc;
}

/* ---- cross-document rules ----------------------------------------------------------- */

/* By apex, then by order of appearance (domains[] is in file order). */
static int cmp_domain_apex(const void *a, const void *b)
{
	const struct zw_domain *x = *(const struct zw_domain *const *)a,
			       *y = *(const struct zw_domain *const *)b;
	int c = strcmp(x->apex, y->apex);
	return c ? c : (x > y) - (x < y);
}

static int cross_check(struct zw_manifests *ms)
{
	for (size_t i = 0; i < ms->nproviders; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(ms->providers[i].name, ms->providers[j].name) == 0) {
				struct zw_error e = {0};
				const struct zw_loc *l = &ms->providers[i].loc, *f = &ms->providers[j].loc;
				zw_error_set_at(&e, ZW_EINVAL, l->file, l->line, l->col, "metadata.name",
						"provider '%s' is declared twice (first at %s:%u)",
						ms->providers[i].name, f->file, f->line);
				add_load_error(ms, &e);
				break;
			}
	/* a domain declared twice: sort by apex (then by position), compare neighbours */
	struct zw_domain **byname = ms->ndomains ? zw_calloc(ms->ndomains, sizeof(*byname)) : NULL;
	size_t nb = 0;
	if (ms->ndomains && !byname)
		return ZW_ENOMEM;
	for (size_t i = 0; byname && i < ms->ndomains; i++)
		if (ms->domains[i].apex)
			byname[nb++] = &ms->domains[i];
	if (nb)
		qsort(byname, nb, sizeof(*byname), cmp_domain_apex);
	for (size_t i = 1; i < nb; i++) {
		struct zw_domain *d = byname[i];
		const struct zw_domain *first = byname[i - 1];
		size_t k = i - 1;
		if (strcmp(d->apex, first->apex) != 0)
			continue;
		while (k > 0 && strcmp(byname[k - 1]->apex, d->apex) == 0)
			k--;
		first = byname[k];
		struct zw_error e = {0};
		const struct zw_loc *f = &first->domain_loc;
		zw_error_set_at(&e, ZW_EINVAL, d->domain_loc.file, d->domain_loc.line, d->domain_loc.col,
				"spec.domain", "domain '%s' is declared twice (first at %s:%u:%u)", d->domain,
				f->file, f->line, f->col);
		add_load_error(ms, &e);
	}
	zw_free(byname);
	for (size_t i = 0; i < ms->ndomains; i++) {
		struct zw_domain *d = &ms->domains[i];
		if (d->provider_ref && !zw_manifests_provider(ms, d->provider_ref)) {
			struct zw_error e = {0};
			const char *near = NULL;
			size_t best = 99;
			for (size_t k = 0; k < ms->nproviders; k++) {
				size_t dist = edit_distance(d->provider_ref, ms->providers[k].name);
				if (dist < best && dist <= 3) {
					best = dist;
					near = ms->providers[k].name;
				}
			}
			zw_error_set_at(&e, ZW_EINVAL, d->loc.file, d->loc.line, d->loc.col,
					"spec.providerRef", "no Provider named '%s' in the manifests%s%s%s",
					d->provider_ref, near ? ": did you mean '" : "", near ? near : "",
					near ? "'?" : "");
			add_load_error(ms, &e);
		}
	}
	return 0;
}

/* Errors are reported in file, line, column order, whatever order they were found in. */
static int cmp_error(const void *a, const void *b)
{
	const struct zw_error *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static int finish(struct zw_manifests **out, struct zw_manifests *ms, int rc, struct zw_error *err)
{
	if (rc == 0 && ms->oom)
		rc = ZW_ENOMEM;
	if (rc == 0) {
		rc = cross_check(ms);
		if (rc == 0 && ms->oom)
			rc = ZW_ENOMEM;
		if (ms->nerrors)
			qsort(ms->errors, ms->nerrors, sizeof(*ms->errors), cmp_error);
	}
	if (rc) {
		zw_manifests_free(ms);
		*out = NULL;
		return zw_error_set(err, rc, "out of memory while loading manifests");
	}
	*out = ms;
	if (ms->nerrors) {
		const struct zw_error *first = &ms->errors[0];
		char line[ZW_ERR_MSG_MAX + 512];
		zw_error_format(line, sizeof(line), first);
		return zw_error_set(err, ZW_EINVAL, "%zu error(s) in the manifests; first: %s",
				    ms->nerrors + ms->errors_dropped, line);
	}
	return 0;
}

int zw_manifests_load(struct zw_manifests **out, const char *const *paths, size_t npaths,
		      struct zw_error *err)
{
	struct zw_manifests *ms = zw_calloc(1, sizeof(*ms));
	int rc = 0;
	*out = NULL;
	if (!ms)
		return zw_error_set(err, ZW_ENOMEM, "out of memory while loading manifests");
	for (size_t i = 0; i < npaths && rc == 0; i++)
		rc = walk(ms, paths[i], 0, 1);
	if (rc == 0 && ms->nfiles == 0 && ms->nerrors == 0) {
		struct zw_error e = {0};
		zw_error_set_at(&e, ZW_EINVAL, npaths ? paths[0] : "", 0, 0, NULL,
				"no *.yaml or *.yml files found");
		add_load_error(ms, &e);
	}
	return finish(out, ms, rc, err);
}

int zw_manifests_load_buffer(struct zw_manifests **out, const char *name, const char *data, size_t len,
			     struct zw_error *err)
{
	struct zw_manifests *ms = zw_calloc(1, sizeof(*ms));
	*out = NULL;
	if (!ms)
		return zw_error_set(err, ZW_ENOMEM, "out of memory while loading manifests");
	return finish(out, ms, load_file(ms, name, data, len), err);
}

const struct zw_provider_spec *zw_manifests_provider(const struct zw_manifests *ms, const char *name)
{
	for (size_t i = 0; i < ms->nproviders; i++)
		if (ms->providers[i].name && strcmp(ms->providers[i].name, name) == 0)
			return &ms->providers[i];
	return NULL;
}

const char *zw_kv_get(const struct zw_provider_spec *p, const char *key)
{
	for (size_t i = 0; i < p->nopts; i++)
		if (p->opts[i].key && strcmp(p->opts[i].key, key) == 0)
			return p->opts[i].value;
	return NULL;
}

static void domain_free(struct zw_domain *d)
{
	zw_free(d->meta_name);
	zw_free(d->domain);
	zw_free(d->apex);
	zw_free(d->provider_ref);
	strlist_free(&d->nameservers);
	struct zw_spf_spec *s = &d->spf;
	strlist_free(&s->include);
	strlist_free(&s->ip4);
	strlist_free(&s->ip6);
	strlist_free(&s->a_names);
	strlist_free(&s->mx_names);
	strlist_free(&s->exists);
	zw_free(s->redirect);
	zw_free(s->all);
	for (size_t i = 0; i < d->ndkim; i++) {
		struct zw_dkim_spec *k = &d->dkim[i];
		zw_free(k->selector);
		zw_free(k->cname);
		zw_free(k->public_key);
		zw_free(k->key_type);
		zw_free(k->public_key_sha256);
	}
	zw_free(d->dkim);
	struct zw_dmarc_spec *m = &d->dmarc;
	zw_free(m->policy);
	zw_free(m->subdomain_policy);
	zw_free(m->nonexistent_policy);
	strlist_free(&m->rua);
	strlist_free(&m->ruf);
	zw_free(m->failure_options);
	zw_free(m->align_dkim);
	zw_free(m->align_spf);
	for (size_t i = 0; i < d->ncnames; i++) {
		zw_free(d->cnames[i].name);
		zw_free(d->cnames[i].target);
	}
	zw_free(d->cnames);
}

void zw_manifests_free(struct zw_manifests *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->nproviders; i++) {
		struct zw_provider_spec *p = &ms->providers[i];
		zw_free(p->name);
		zw_free(p->type);
		for (size_t j = 0; j < p->nopts; j++) {
			zw_free(p->opts[j].key);
			zw_free(p->opts[j].value);
		}
		zw_free(p->opts);
	}
	zw_free(ms->providers);
	for (size_t i = 0; i < ms->ndomains; i++)
		domain_free(&ms->domains[i]);
	zw_free(ms->domains);
	for (size_t i = 0; i < ms->nfiles; i++)
		zw_free(ms->files[i]);
	zw_free(ms->files);
	zw_free(ms->errors);
	zw_findings_free(&ms->findings);
	zw_free(ms);
}
