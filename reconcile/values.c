/*
 * values.c - run every desired value through the grammars (see values.h).
 *
 * Owns nothing: findings go to the caller's list, input errors to the manifest set.
 */
#include "reconcile/values.h"

#include <stdio.h>
#include <string.h>

#include <strings.h>

#include "reconcile/alloc.h"
#include "reconcile/dkim.h"
#include "reconcile/dmarc.h"
#include "reconcile/names.h"
#include "reconcile/spf.h"

/* Fill the context of findings [from, n) that one record's value produced. */
static int context(struct zw_findings *fs, size_t from, const struct zw_desired *ds,
		   const struct zw_record *r)
{
	struct zw_buf shown = ZW_BUF_INIT;
	int rc = r->type == ZW_TYPE_TXT ? zw_txt_display(&shown, r->txt.data, r->txt.len)
					: zw_buf_adds(&shown, r->target);
	for (size_t i = from; rc == 0 && i < fs->n; i++) {
		struct zw_loc loc = zw_record_loc_at(r, fs->v[i].offset);
		rc = zw_findings_context(fs, i, ds->domain->domain, r->name, zw_type_name(r->type),
					 zw_buf_str(&shown), &loc);
	}
	zw_buf_free(&shown);
	return rc;
}

/* The grammar of one TXT value: SPF, DMARC or a DKIM key record. */
static int check_txt(struct zw_findings *fs, const struct zw_desired *ds, const struct zw_record *r,
		     struct zw_error *err)
{
	const char *v = r->txt.data;
	size_t len = r->txt.len;
	int rc = 0;
	if (r->claim == ZW_CLAIM_SPF) {
		struct zw_spf *spf = NULL;
		rc = zw_spf_parse(&spf, v, len, fs, err);
		/* the record alone costs more than the limit: permerror before any include (lint says so too)
		 */
		if (rc == 0 && spf && !spf->permerror && spf->lookups > ZW_SPF_MAX_LOOKUPS &&
		    !zw_findings_add(fs, "SP-09", -1,
				     "the record itself has %d dns-querying terms "
				     "(include, a, mx, ptr, exists, redirect), more than %d before any "
				     "include is followed: check_host gives permerror (RFC 7208 §4.6.4)",
				     spf->lookups, ZW_SPF_MAX_LOOKUPS))
			rc = ZW_ENOMEM;
		zw_spf_free(spf);
	} else if (r->claim == ZW_CLAIM_DMARC) {
		struct zw_dmarc *dm = NULL;
		rc = zw_dmarc_parse(&dm, v, len, fs, err);
		zw_dmarc_free(dm);
	} else if (r->claim == ZW_CLAIM_DKIM) {
		const struct zw_dkim_spec *k = NULL;
		for (size_t i = 0; i < ds->domain->ndkim; i++)
			if (ds->domain->dkim[i].selector == r->selector)
				k = &ds->domain->dkim[i];
		struct zw_dkim *dk = NULL;
		rc = zw_dkim_parse_flags(&dk, v, len, k && k->revoked ? ZW_DKIM_EXPECT_REVOKED : 0, fs, err);
		char hex[65];
		if (rc == 0 && k && k->public_key_sha256 && zw_dkim_key_sha256(hex, &dk->key) == 0 &&
		    strcasecmp(hex, k->public_key_sha256) != 0) {
			struct zw_finding *f =
				zw_findings_add(fs, "DK-15", -1,
						"publicKey does not match publicKeySha256: the signer's key "
						"is another key, so "
						"every signature would fail (RFC 6376 §6.1.3)");
			if (!f || zw_finding_set(f, ZW_F_EXPECTED, k->public_key_sha256) ||
			    zw_finding_setf(f, ZW_F_OBSERVED, "sha256 %s", hex))
				rc = ZW_ENOMEM;
			else
				f->loc = k->key_loc;
		}
		zw_dkim_free(dk);
	}
	return rc == ZW_ENOMEM ? zw_error_set(err, ZW_ENOMEM, "out of memory") : 0;
}

int zw_values_check(struct zw_findings *fs, const struct zw_desired *ds, struct zw_error *err)
{
	for (size_t i = 0; i < ds->n; i++) {
		const struct zw_record *r = &ds->v[i];
		size_t from = fs->n;
		int rc = r->type == ZW_TYPE_TXT ? check_txt(fs, ds, r, err) : 0;
		if (rc == 0 && context(fs, from, ds, r))
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		if (rc)
			return rc;
	}
	return 0;
}

/* A finding about the domain as a whole, at a manifest location. */
static int domain_finding(struct zw_findings *fs, const struct zw_domain *d, const char *id, int raise,
			  const struct zw_loc *loc, const char *name, const char *msg)
{
	struct zw_finding *f = zw_findings_add(fs, id, -1, "%s", msg);
	if (!f)
		return ZW_ENOMEM;
	if (raise && f->sev < ZW_SEV_ERROR)
		f->sev = ZW_SEV_ERROR;
	f->loc = *loc;
	if (zw_finding_set(f, ZW_F_DOMAIN, d->domain) || zw_finding_set(f, ZW_F_NAME, name) ||
	    zw_finding_set(f, ZW_F_TYPE, "TXT"))
		return ZW_ENOMEM;
	return 0;
}

int zw_values_check_policy(struct zw_findings *fs, const struct zw_desired *ds, struct zw_error *err)
{
	const struct zw_domain *d = ds->domain;
	char dmarc_name[ZW_NAME_MAX + 16];
	int rc = 0, bulk = d->bulk_sender;
	snprintf(dmarc_name, sizeof(dmarc_name), "_dmarc.%s", d->apex);
	const struct zw_record *spf = NULL, *dmarc = NULL;
	size_t rsa = 0, ed = 0, active = 0, first_ed = 0;
	for (size_t i = 0; i < ds->n; i++) {
		if (ds->v[i].claim == ZW_CLAIM_SPF)
			spf = &ds->v[i];
		if (ds->v[i].claim == ZW_CLAIM_DMARC)
			dmarc = &ds->v[i];
	}
	for (size_t i = 0; i < d->ndkim; i++) {
		const struct zw_dkim_spec *k = &d->dkim[i];
		if (k->revoked || k->expect_absent)
			continue;
		active++;
		if (k->public_key && strcmp(k->key_type, "ed25519") == 0 && !ed++)
			first_ed = i;
		else
			rsa++; /* an RSA key, or a CNAME to a provider's (SES, Google: RSA) */
	}

	if (d->parked) {
		if (!spf || strcmp(spf->txt.data, "v=spf1 -all") != 0)
			rc = domain_finding(
				fs, d, "SP-22", 0, spf ? &spf->loc : &d->loc, d->apex,
				"a parked domain should publish exactly \"v=spf1 -all\" so that no "
				"host may send as it");
		if (rc == 0 && (!d->dmarc.present || strcmp(d->dmarc.policy, "reject") != 0))
			rc = domain_finding(fs, d, "DM-18", 0, d->dmarc.present ? &d->dmarc.loc : &d->loc,
					    dmarc_name,
					    "a parked domain should publish a DMARC policy of reject");
	} else {
		if (!spf)
			rc = domain_finding(
				fs, d, "SP-01", bulk, &d->loc, d->apex,
				bulk ? "no spf: bulk senders must publish SPF and DKIM (Google/Yahoo 2024)"
				     : "no spf declared: receivers get 'none' for this domain (RFC 7208 "
				       "§4.5)");
		if (rc == 0 && !dmarc)
			rc = domain_finding(
				fs, d, "DM-01", bulk, &d->loc, dmarc_name,
				bulk ? "no dmarc: bulk senders must publish DMARC, p=none at least"
				     : "no dmarc declared: receivers apply no policy to forged mail");
		if (rc == 0 && dmarc && active == 0 && strcmp(d->dmarc.policy, "none") != 0)
			rc = domain_finding(
				fs, d, "DM-14", 0, &d->dmarc.loc, dmarc_name,
				"dmarc enforces with only spf to align: forwarded mail breaks spf and is "
				"then quarantined or rejected (RFC 7960); enable dkim before "
				"p=quarantine/reject");
		if (rc == 0 && bulk && active == 0)
			rc = domain_finding(fs, d, "DM-14", 1, &d->loc, dmarc_name,
					    "bulk senders must sign with dkim aligned to the from domain");
	}
	if (rc == 0 && ed && !rsa) {
		/* about the selectors: name the first ed25519 one, as lint does */
		char sel_name[ZW_NAME_MAX + 32];
		snprintf(sel_name, sizeof(sel_name), "%s._domainkey.%s", d->dkim[first_ed].selector, d->apex);
		for (char *p = sel_name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		rc = domain_finding(
			fs, d, "DK-11", 0, &d->dkim[first_ed].loc, sel_name,
			"only ed25519 dkim keys: many verifiers are rsa-only; sign with an rsa key "
			"too (RFC 8463)");
	}
	if (rc == 0 && dmarc) {
		struct zw_dmarc *dm = NULL;
		struct zw_findings tmp = {0};
		size_t from = fs->n;
		if (zw_dmarc_parse(&dm, dmarc->txt.data, dmarc->txt.len, &tmp, err) == 0 && dm)
			rc = zw_dmarc_check_weak(dm, fs);
		zw_findings_free(&tmp);
		zw_dmarc_free(dm);
		if (rc == 0)
			rc = context(fs, from, ds, dmarc);
	}
	return rc ? zw_error_set(err, ZW_ENOMEM, "out of memory") : 0;
}

static const char *claim_path(const struct zw_record *r, const struct zw_domain *d, char *buf, size_t bufsz)
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
static void promote(struct zw_manifests *ms, struct zw_findings *fs, size_t from, const struct zw_desired *ds)
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
		if (rc == 0)
			rc = zw_values_check_policy(&ms->findings, &ds, err);
		zw_desired_free(&ds);
		if (rc)
			return rc;
	}
	return 0;
}
