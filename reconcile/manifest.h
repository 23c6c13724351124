/*
 * manifest.h - the manifests (SPEC §3): Provider and MailDomain documents, loaded from
 * files and directory trees into typed structs, every value with its file:line:col.
 *
 * Loading is all-or-nothing per run: every error found in every file is collected (up to
 * ZW_MANIFEST_MAX_ERRORS), each reading `file:line:col: field.path: message`, and a set
 * with errors is never used to plan. Value quality below ERROR (a 1024-bit key, t=y, ...)
 * is not an error but a finding, kept in `findings` with the manifest location.
 */
#ifndef ZW_MANIFEST_H
#define ZW_MANIFEST_H

#include <stddef.h>

#include "reconcile/error.h"
#include "reconcile/finding.h"

#define ZW_MANIFEST_MAX_ERRORS 100
#define ZW_API_VERSION	       "zonewarden.dev/v1alpha1"

struct zw_strlist {
	char **v;
	struct zw_loc *loc;
	size_t n;
};

/* One setting of a provider block, flattened ("apiTokenSecretRef.name"). */
struct zw_kv {
	char *key;
	char *value;
	struct zw_loc loc;
};

struct zw_provider_spec {
	char *name;
	char *type;	    /* route53 | cloudflare | rfc2136 */
	struct zw_kv *opts; /* the block named after the type */
	size_t nopts;
	struct zw_loc loc;
};

enum zw_policy { ZW_POLICY_UPSERT_ONLY, ZW_POLICY_SYNC, ZW_POLICY_CREATE_ONLY };
enum zw_deletion { ZW_DELETION_RETAIN, ZW_DELETION_DELETE };

struct zw_spf_spec {
	int present;
	struct zw_strlist include, ip4, ip6, a_names, mx_names, exists;
	int a, mx; /* `a: true` / `mx: true` */
	char *redirect;
	char *all; /* fail | softfail | neutral | NULL */
	struct zw_loc loc, all_loc, redirect_loc, a_loc, mx_loc;
};

struct zw_dkim_spec {
	char *selector;
	char *cname;	  /* canonical target, or NULL */
	char *public_key; /* base64 as written (white space removed), or NULL */
	char *key_type;	  /* rsa | ed25519 */
	int revoked;	  /* state: revoked */
	int testing;
	char *public_key_sha256;
	int expect_absent;
	struct zw_loc loc, key_loc, cname_loc;
};

struct zw_dmarc_spec {
	int present;
	char *policy, *subdomain_policy, *nonexistent_policy;
	int percent; /* -1 when absent */
	struct zw_strlist rua, ruf;
	char *failure_options;
	char *align_dkim, *align_spf; /* relaxed | strict | NULL */
	int testing;
	struct zw_loc loc, rua_loc, ruf_loc, fo_loc;
};

struct zw_cname_spec {
	char *name;   /* canonical owner */
	char *target; /* canonical target */
	struct zw_loc loc, target_loc;
};

struct zw_domain {
	char *meta_name;
	char *domain; /* "example.com" as written, lower case, no trailing dot */
	char *apex;   /* "example.com." */
	char *provider_ref;
	unsigned ttl;
	enum zw_policy policy;
	enum zw_deletion deletion;
	struct zw_strlist nameservers; /* canonical */
	int parked, bulk_sender, fix_delegation;
	struct zw_spf_spec spf;
	struct zw_dkim_spec *dkim;
	size_t ndkim;
	struct zw_dmarc_spec dmarc;
	struct zw_cname_spec *cnames;
	size_t ncnames;
	struct zw_loc loc, domain_loc;
};

struct zw_manifests {
	char **files; /* every file read, in order; locs point into these */
	size_t nfiles;
	struct zw_provider_spec *providers;
	size_t nproviders;
	struct zw_domain *domains;
	size_t ndomains;
	struct zw_error *errors;
	size_t nerrors;
	size_t errors_dropped;	     /* beyond ZW_MANIFEST_MAX_ERRORS */
	int oom;		     /* an error could not be recorded: the load failed */
	struct zw_findings findings; /* value quality below ERROR, with manifest locations */
};

/*
 * Load every *.yaml / *.yml file under each path (directories walked recursively in
 * sorted order; hidden entries skipped). Returns 0 when everything is valid; ZW_EINVAL
 * when (*out)->errors lists problems; ZW_ENOMEM (with *out NULL) when memory ran out.
 * With ZW_EINVAL the set is still returned so the caller can print the errors.
 */
int zw_manifests_load(struct zw_manifests **out, const char *const *paths, size_t npaths,
		      struct zw_error *err);
/* Same for one in-memory buffer (fuzzing, tests). */
int zw_manifests_load_buffer(struct zw_manifests **out, const char *name, const char *data, size_t len,
			     struct zw_error *err);
void zw_manifests_free(struct zw_manifests *ms);

const struct zw_provider_spec *zw_manifests_provider(const struct zw_manifests *ms, const char *name);
const char *zw_kv_get(const struct zw_provider_spec *p, const char *key);

#endif
