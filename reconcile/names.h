/*
 * names.h - domain names as the manifests and the plan use them (RFC 1035 §2.3.4, §5.1).
 *
 * Canonical form: lower case, absolute, with the trailing dot ("example.com.").
 * Manifest names are relative to spec.domain unless they end with a dot. A relative
 * name that already ends with the domain is refused (APEX_DUPLICATED, NM-01): that is
 * exactly how `sel._domainkey.example.com.example.com` is born.
 */
#ifndef ZW_NAMES_H
#define ZW_NAMES_H

#include <stddef.h>

#include "reconcile/error.h"

#define ZW_NAME_MAX  253 /* presentation form without the trailing dot */
#define ZW_LABEL_MAX 63

/* Syntax of a presentation name (absolute or relative, no escapes): labels of 1-63
 * octets of letters, digits, '-' and '_', at most 253 octets. 0 if valid, else
 * ZW_EINVAL with the reason (and the offset of the problem in err->col, 1-based). */
int zw_name_check(const char *name, struct zw_error *err);
/* A copy in canonical form (lower case, trailing dot). */
int zw_name_canonical(char **out, const char *name, struct zw_error *err);
/* Resolve a manifest name relative to `domain` ("" and "@" mean the apex). A name with a
 * trailing dot is absolute. APEX_DUPLICATED is ZW_EINVAL with err->msg showing both
 * spellings. The result is canonical. */
int zw_name_resolve(char **out, const char *rel, const char *domain, struct zw_error *err);
/* Is `name` equal to or below `zone`? Both canonical. */
int zw_name_is_at_or_below(const char *name, const char *zone);
/* If `name` is `<x>.<apex>.<apex>.` (the apex appended to an already qualified name),
 * return 1 and the intended name `<x>.<apex>.` in *fixed (caller frees); else 0. Both
 * canonical. Negative on allocation failure. */
int zw_name_apex_doubled(char **fixed, const char *name, const char *apex);
/* If a target below `apex` looks like a fully qualified name that lost its trailing dot
 * and got the origin appended (`tok.dkim.amazonses.com.example.com.`: NM-02), return 1
 * and the intended target in *fixed (caller frees); else 0; negative on allocation
 * failure. A heuristic on the label before the origin (a common top-level domain). */
int zw_name_origin_appended(char **fixed, const char *target, const char *apex);
/* Label count of a canonical name ("." has 0). */
int zw_name_labels(const char *name);

#endif
