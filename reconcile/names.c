/*
 * names.c - domain name syntax, canonical form and apex duplication (see names.h).
 *
 * Owns nothing beyond the strings it returns. All comparisons are on canonical names,
 * so case never matters (RFC 4343).
 */
#include "reconcile/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"

static int is_name_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

int zw_name_check(const char *name, struct zw_error *err)
{
	size_t len = strlen(name);
	size_t body = len && name[len - 1] == '.' ? len - 1 : len;
	if (body == 0)
		return zw_error_set(err, ZW_EINVAL, "empty name");
	if (body > ZW_NAME_MAX)
		return zw_error_set(err, ZW_EINVAL,
				    "name is %zu octets long; the limit is %d (RFC 1035 §2.3.4)", body,
				    ZW_NAME_MAX);
	size_t label = 0;
	for (size_t i = 0; i < body; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0) {
				zw_error_set(err, ZW_EINVAL, "empty label at offset %zu", i);
				if (err)
					err->col = (unsigned)i + 1;
				return ZW_EINVAL;
			}
			label = 0;
			continue;
		}
		if (!is_name_char(c)) {
			if (c == ' ' || c == '\t')
				zw_error_set(err, ZW_EINVAL, "space in name at offset %zu", i);
			else if (c >= 0x80)
				zw_error_set(err, ZW_EINVAL,
					     "non-ascii character in name at offset %zu: use the idna "
					     "a-label (xn--...)",
					     i);
			else
				zw_error_set(err, ZW_EINVAL,
					     "character '%c' not allowed in a name at offset %zu",
					     c >= 0x20 && c < 0x7f ? c : '?', i);
			if (err)
				err->col = (unsigned)i + 1;
			return ZW_EINVAL;
		}
		if (++label > ZW_LABEL_MAX) {
			zw_error_set(err, ZW_EINVAL,
				     "label longer than %d octets at offset %zu (RFC 1035 §2.3.4)",
				     ZW_LABEL_MAX, i);
			if (err)
				err->col = (unsigned)i + 1;
			return ZW_EINVAL;
		}
	}
	return 0;
}

int zw_name_canonical(char **out, const char *name, struct zw_error *err)
{
	*out = NULL;
	int rc = zw_name_check(name, err);
	if (rc)
		return rc;
	size_t len = strlen(name);
	int dot = name[len - 1] == '.';
	char *s = zw_malloc(len + 2);
	if (!s)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)name[i]);
	if (!dot)
		s[len++] = '.';
	s[len] = '\0';
	*out = s;
	return 0;
}

int zw_name_is_at_or_below(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	if (strcmp(zone, ".") == 0)
		return 1;
	if (n < z || strcmp(name + n - z, zone) != 0)
		return 0;
	return n == z || name[n - z - 1] == '.';
}

/* Does relative `rel` (no trailing dot) end with the domain (no trailing dot)? */
static int ends_with_domain(const char *rel, const char *domain)
{
	size_t r = strlen(rel), d = strlen(domain);
	if (r < d || strncasecmp(rel + r - d, domain, d) != 0)
		return 0;
	return r == d || rel[r - d - 1] == '.';
}

int zw_name_resolve(char **out, const char *rel, const char *domain, struct zw_error *err)
{
	char *dom = NULL;
	int rc;
	*out = NULL;
	if ((rc = zw_name_canonical(&dom, domain, err)))
		return rc;
	size_t dl = strlen(dom);
	if (rel[0] == '\0' || strcmp(rel, "@") == 0) {
		*out = dom;
		return 0;
	}
	size_t rl = strlen(rel);
	if (rel[rl - 1] == '.') {
		zw_free(dom);
		return zw_name_canonical(out, rel, err);
	}
	char bare[ZW_NAME_MAX + 2];
	snprintf(bare, sizeof(bare), "%.*s", (int)(dl - 1), dom);
	if (ends_with_domain(rel, bare)) {
		/* the relative spelling of the domain itself is '@' (RFC 1035 §5.1) */
		rc = rl > dl ? zw_error_set(err, ZW_EINVAL,
					    "APEX_DUPLICATED (NM-01): '%s' already ends with the domain, so "
					    "it would "
					    "become '%s.%s'; write '%.*s' (relative) or '%s.' (absolute)",
					    rel, rel, bare, (int)(rl - dl), rel, rel)
			     : zw_error_set(err, ZW_EINVAL,
					    "APEX_DUPLICATED (NM-01): '%s' is the domain itself, so it would "
					    "become '%s.%s'; write '@' (relative) or '%s.' (absolute)",
					    rel, rel, bare, rel);
		zw_free(dom);
		return rc;
	}
	if ((rc = zw_name_check(rel, err))) {
		zw_free(dom);
		return rc;
	}
	char *s = zw_malloc(rl + 1 + dl + 1);
	if (!s) {
		zw_free(dom);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rl; i++)
		s[i] = (char)tolower((unsigned char)rel[i]);
	s[rl] = '.';
	memcpy(s + rl + 1, dom, dl + 1);
	zw_free(dom);
	if (rl + 1 + dl - 1 > ZW_NAME_MAX) {
		zw_free(s);
		return zw_error_set(err, ZW_EINVAL, "name is longer than %d octets with the domain appended",
				    ZW_NAME_MAX);
	}
	*out = s;
	return 0;
}

int zw_name_apex_doubled(char **fixed, const char *name, const char *apex)
{
	size_t n = strlen(name), a = strlen(apex);
	*fixed = NULL;
	if (strcmp(apex, ".") == 0 || n < 2 * a)
		return 0;
	/* name = <x>.<apex-without-dot>.<apex> or <apex-without-dot>.<apex> */
	if (strcmp(name + n - a, apex) != 0)
		return 0;
	size_t head = n - a; /* name[0..head) ends with '.' */
	if (head < a || strncmp(name + head - a, apex, a) != 0)
		return 0;
	if (head > a && name[head - a - 1] != '.')
		return 0;
	*fixed = zw_strndup(name, head);
	return *fixed ? 1 : ZW_ENOMEM;
}

int zw_name_labels(const char *name)
{
	if (strcmp(name, ".") == 0)
		return 0;
	int n = 0;
	for (const char *p = name; *p; p++)
		if (*p == '.')
			n++;
	return name[strlen(name) - 1] == '.' ? n : n + 1;
}

/* Top-level labels that, right before the origin, betray a target written as an FQDN
 * without its trailing dot. Two-letter country codes count only with 3+ labels before. */
static const char *const common_tlds[] = {
	"com",	"net",	"org", "io", "info", "biz", "co", "app", "dev", "cloud", "email", "online",
	"site", "tech", "xyz", "me", "us",   "eu",  "uk", "de",	 "fr",	"jp",	 "nl",	  NULL,
};

int zw_name_origin_appended(char **fixed, const char *target, const char *apex)
{
	size_t t = strlen(target), a = strlen(apex);
	*fixed = NULL;
	if (strcmp(apex, ".") == 0 || t <= a + 1 || strcmp(target + t - a, apex) != 0 ||
	    target[t - a - 1] != '.')
		return 0;
	size_t head = t - a - 1; /* target[0..head) is what came before ".<apex>" */
	const char *last = target;
	int labels = 1;
	for (size_t i = 0; i < head; i++)
		if (target[i] == '.') {
			last = target + i + 1;
			labels++;
		}
	size_t ll = (size_t)(target + head - last);
	if (labels < 2)
		return 0;
	for (const char *const *p = common_tlds; *p; p++) {
		if (strlen(*p) != ll || strncmp(last, *p, ll) != 0)
			continue;
		if (ll == 2 && labels < 3 && strcmp(*p, "co") != 0 && strcmp(*p, "io") != 0 &&
		    strcmp(*p, "me") != 0 && strcmp(*p, "us") != 0)
			return 0;
		char *s = zw_malloc(head + 2);
		if (!s)
			return ZW_ENOMEM;
		memcpy(s, target, head);
		s[head] = '.';
		s[head + 1] = '\0';
		*fixed = s;
		return 1;
	}
	return 0;
}
