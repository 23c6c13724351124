/*
 * lintzone.c - lint one zone file (see lintzone.h).
 *
 * Records are grouped by owner (a stable sort of indices, so file order is kept within
 * an owner) and each group goes through zw_inspect_owner. Then the rules that need the
 * whole zone: records at or below a delegation (NM-05), only ed25519 DKIM keys (DK-11),
 * an incomplete set of SES Easy DKIM CNAMEs (SE-01). Owns nothing it returns.
 */
#include "reconcile/lintzone.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/dkim.h"
#include "reconcile/inspect.h"
#include "reconcile/names.h"
#include "reconcile/role.h"

struct order {
	const struct zw_zone *z;
	size_t *idx;
};

static int cmp_owner(const struct zw_zone *z, size_t a, size_t b)
{
	int c = strcmp(z->v[a].owner, z->v[b].owner);
	return c ? c : (a > b) - (a < b);
}

/* Merge sort of indices by owner, then file position (stable, no global state). */
static void sort_idx(const struct zw_zone *z, size_t *idx, size_t *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t mid = n / 2;
	sort_idx(z, idx, tmp, mid);
	sort_idx(z, idx + mid, tmp, n - mid);
	size_t i = 0, j = mid, k = 0;
	while (i < mid && j < n)
		tmp[k++] = cmp_owner(z, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
	while (i < mid)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof(*idx));
}

#define TYPE_A	   1
#define TYPE_NS	   2
#define TYPE_CNAME 5
#define TYPE_TXT   16
#define TYPE_AAAA  28
#define TYPE_DS	   43

/* Is the owner `<x>.<apex>.<apex>.` (NM-01)? Then no verifier ever asks for it. -1: ENOMEM. */
static int doubled(const char *owner, const char *apex)
{
	char *fixed = NULL;
	int hit = zw_name_apex_doubled(&fixed, owner, apex);
	zw_free(fixed);
	return hit;
}

/* SE-01: some but not all three `<token>._domainkey` CNAMEs to dkim.amazonses.com. */
static int ses_tokens(struct zw_findings *fs, const struct zw_zone *z, const char *domain)
{
	size_t n = 0, last = 0, seen[3] = {0}; /* the distinct token owners counted so far */
	for (size_t i = 0; i < z->n && n < 3; i++) {
		const char *t = z->v[i].target;
		size_t tl = t ? strlen(t) : 0;
		/* a mangled target (SE-02) is still a published token: SE-02 says what is wrong */
		if (z->v[i].type == TYPE_CNAME && strstr(z->v[i].owner, "._domainkey.") && tl > 15 &&
		    strcmp(t + tl - 15, ".amazonses.com.") == 0) {
			int hit = doubled(z->v[i].owner, z->origin);
			if (hit < 0)
				return ZW_ENOMEM;
			if (hit) /* NM-01 says it: SES never sees that one */
				continue;
			size_t k = 0;
			while (k < n && strcmp(z->v[seen[k]].owner, z->v[i].owner) != 0)
				k++;
			if (k < n) /* a second CNAME at one token is CN-06, not another token */
				continue;
			seen[n++] = i;
			last = i;
		}
	}
	if (n == 0 || n >= 3)
		return 0;
	struct zw_finding *f = zw_findings_add(fs, "SE-01", -1,
					       "%zu of the 3 easy dkim cnames %s published: ses keeps the "
					       "identity pending, then failed after 72 hours",
					       n, n == 1 ? "is" : "are");
	struct zw_loc loc = {z->path, z->v[last].line, 1};
	if (!f || zw_finding_set(f, ZW_F_FIX,
				 "publish all three <token>._domainkey cnames that "
				 "GetEmailIdentity lists (DkimAttributes.Tokens)"))
		return ZW_ENOMEM;
	return zw_findings_context(fs, fs->n - 1, domain, NULL, "CNAME", NULL, &loc);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The delegation `name` is at or below (itself or an ancestor in cuts), or NULL. */
static const char *cut_above(const char *name, const char *const *cuts, size_t n)
{
	for (const char *p = name; n && *p && strcmp(p, ".") != 0;) {
		const char *const *hit = bsearch(&p, cuts, n, sizeof(*cuts), cmp_str);
		if (hit)
			return *hit;
		const char *dot = strchr(p, '.');
		if (!dot)
			break;
		p = dot + 1;
	}
	return NULL;
}

/*
 * NM-05: data at or below a delegation inside this zone (an NS set at another owner than
 * the apex) is occluded: the parent is not authoritative there (RFC 1034 §4.2.1) and
 * resolvers follow the referral. NS and DS belong at the cut, A and AAAA may be glue.
 * The cuts are sorted once and each owner looks its ancestors up: O(n log n).
 */
static int occluded(struct zw_findings *fs, const struct zw_zone *z, const char *domain)
{
	const char **cuts = zw_calloc(z->n + 1, sizeof(*cuts));
	size_t ncuts = 0;
	int rc = cuts ? 0 : ZW_ENOMEM;
	for (size_t i = 0; rc == 0 && i < z->n; i++)
		if (z->v[i].type == TYPE_NS && strcmp(z->v[i].owner, z->origin) != 0)
			cuts[ncuts++] = z->v[i].owner;
	if (rc == 0 && ncuts)
		qsort(cuts, ncuts, sizeof(*cuts), cmp_str);
	for (size_t i = 0; rc == 0 && ncuts && i < z->n; i++) {
		const struct zw_zrr *r = &z->v[i];
		if (r->type == TYPE_NS || r->type == TYPE_DS || r->type == TYPE_A || r->type == TYPE_AAAA)
			continue;
		const char *cut = cut_above(r->owner, cuts, ncuts);
		if (!cut)
			continue;
		char type[16];
		struct zw_loc loc = {z->path, r->line, 1};
		size_t from = fs->n;
		struct zw_finding *f = zw_findings_add(
			fs, "NM-05", -1,
			"%s is at or below the delegation of %s: the parent zone is not "
			"authoritative there and resolvers follow the referral, so it is never served "
			"(RFC 1034 §4.2.1, §4.3.2)",
			r->owner, cut);
		if (!f ||
		    zw_finding_setf(f, ZW_F_FIX,
				    "publish it in the zone %s, at the servers its ns records "
				    "name; delete it here",
				    cut) ||
		    zw_findings_context(fs, from, domain, r->owner,
					zw_rrtype_name(r->type, type, sizeof(type)), NULL, &loc))
			rc = ZW_ENOMEM;
	}
	zw_free(cuts);
	return rc;
}

/* DK-11: the zone's DKIM keys are all ed25519 (a selector CNAME counts as RSA, as SES's). */
static int only_ed25519(struct zw_findings *fs, const struct zw_zone *z, const char *domain)
{
	size_t rsa = 0, ed = 0, first = 0;
	struct zw_findings scratch = {0};
	for (size_t i = 0; i < z->n; i++) {
		const struct zw_zrr *r = &z->v[i];
		if (!strstr(r->owner, "._domainkey."))
			continue;
		if (r->type == TYPE_CNAME) {
			rsa++;
			continue;
		}
		if (r->type != TYPE_TXT ||
		    zw_role_detect(NULL, r->txt.data, r->txt.len, ZW_ROLE_DKIM) != ZW_ROLE_DKIM)
			continue;
		struct zw_dkim *dk = NULL;
		struct zw_error err = {0};
		int rc = zw_dkim_parse(&dk, r->txt.data, r->txt.len, &scratch, &err);
		zw_findings_free(&scratch);
		if (rc == ZW_ENOMEM)
			return ZW_ENOMEM;
		if (rc == 0 && dk && !dk->revoked) {
			if (dk->keytype == ZW_DKIM_ED25519) {
				if (!ed++)
					first = i;
			} else {
				rsa++;
			}
		}
		zw_dkim_free(dk);
	}
	if (!ed || rsa)
		return 0;
	size_t from = fs->n;
	struct zw_loc loc = {z->path, z->v[first].line, 1};
	struct zw_finding *f = zw_findings_add(fs, "DK-11", -1,
					       "only ed25519 dkim keys (%zu): many verifiers are "
					       "rsa-only; sign with an rsa key too (RFC 8463)",
					       ed);
	if (!f || zw_finding_set(f, ZW_F_FIX, "add a selector with a 2048-bit rsa key and sign with both") ||
	    zw_findings_context(fs, from, domain, z->v[first].owner, "TXT", NULL, &loc))
		return ZW_ENOMEM;
	return 0;
}

int zw_lint_zone(struct zw_findings *fs, const struct zw_zone *z, struct zw_error *err)
{
	size_t *idx = zw_calloc(z->n + 1, sizeof(*idx)), *tmp = zw_calloc(z->n + 1, sizeof(*tmp));
	struct zw_irr *rrs = zw_calloc(z->n + 1, sizeof(*rrs));
	char *domain = zw_strndup(z->origin, strlen(z->origin) - (strlen(z->origin) > 1));
	int rc = 0;
	if (!idx || !tmp || !rrs || !domain) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < z->n; i++)
		idx[i] = i;
	sort_idx(z, idx, tmp, z->n);
	for (size_t i = 0; i < z->n && rc == 0;) {
		size_t j = i;
		for (; j < z->n && strcmp(z->v[idx[j]].owner, z->v[idx[i]].owner) == 0; j++) {
			const struct zw_zrr *r = &z->v[idx[j]];
			struct zw_irr *ir = &rrs[j - i];
			ir->type = r->type;
			ir->txt = &r->txt;
			ir->target = r->target;
			ir->loc.file = z->path;
			ir->loc.line = r->line;
			ir->loc.col = 1;
		}
		struct zw_owner o = {z->v[idx[i]].owner, rrs, j - i};
		rc = zw_inspect_owner(fs, &o, z->origin, domain, err);
		i = j;
	}
	if (rc == 0 && (occluded(fs, z, domain) || only_ed25519(fs, z, domain) || ses_tokens(fs, z, domain)))
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
out:
	zw_free(idx);
	zw_free(tmp);
	zw_free(rrs);
	zw_free(domain);
	return rc;
}
