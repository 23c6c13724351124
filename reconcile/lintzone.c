/*
 * lintzone.c - lint one zone file (see lintzone.h).
 *
 * Records are grouped by owner (a stable sort of indices, so file order is kept within
 * an owner) and each group goes through zw_inspect_owner. Owns nothing it returns.
 */
#include "reconcile/lintzone.h"

#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/inspect.h"

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

/* SE-01: some but not all three `<token>._domainkey` CNAMEs to dkim.amazonses.com. */
static int ses_tokens(struct zw_findings *fs, const struct zw_zone *z, const char *domain)
{
	size_t n = 0, last = 0;
	for (size_t i = 0; i < z->n; i++) {
		const char *t = z->v[i].target;
		size_t tl = t ? strlen(t) : 0;
		if (z->v[i].type == 5 && strstr(z->v[i].owner, "._domainkey.") && tl > 20 &&
		    strcmp(t + tl - 20, ".dkim.amazonses.com.") == 0) {
			n++;
			last = i;
		}
	}
	if (n == 0 || n >= 3)
		return 0;
	struct zw_finding *f = zw_findings_add(fs, "SE-01", -1,
					       "%zu of the 3 easy dkim cnames are published: ses keeps the "
					       "identity pending, then failed after 72 hours", n);
	struct zw_loc loc = {z->path, z->v[last].line, 1};
	if (!f || zw_finding_set(f, ZW_F_FIX, "publish all three <token>._domainkey cnames that "
				 "GetEmailIdentity lists (DkimAttributes.Tokens)"))
		return ZW_ENOMEM;
	return zw_findings_context(fs, fs->n - 1, domain, NULL, "CNAME", NULL, &loc);
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
	if (rc == 0 && ses_tokens(fs, z, domain))
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
out:
	zw_free(idx);
	zw_free(tmp);
	zw_free(rrs);
	zw_free(domain);
	return rc;
}
