/*
 * inspect.c - the diagnosis of one owner's records (see inspect.h).
 *
 * Order of work for each TXT RR: stray characters first (they produce the normalised
 * value), then the role of the normalised value, then that role's grammar on the
 * normalised value. So ` v=spf1 -all` is one TX-01 finding, not also an SPF syntax error,
 * and a DMARC with U+FF1B is one TX-06, not DM-03. Owns nothing.
 */
#include "reconcile/inspect.h"

#include <stdio.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/dkim.h"
#include "reconcile/dmarc.h"
#include "reconcile/names.h"
#include "reconcile/role.h"
#include "reconcile/spf.h"
#include "reconcile/stray.h"

#define ZW_TYPE_CNAME 5
#define ZW_TYPE_TXT 16
#define ZW_TYPE_SPF99 99

static const char *type_name(uint16_t t)
{
	return t == ZW_TYPE_TXT ? "TXT" : t == ZW_TYPE_CNAME ? "CNAME" : t == ZW_TYPE_SPF99 ? "SPF" : NULL;
}

struct ctx {
	struct zw_findings *fs;
	const struct zw_owner *o;
	const char *apex, *domain;
	struct zw_error *err;
};

/* Give findings [from, n) the owner, type, domain and location they lack. */
static int finish(struct ctx *c, size_t from, const char *type, const struct zw_loc *loc,
		  const char *observed)
{
	return zw_findings_context(c->fs, from, c->domain, c->o->owner, type, observed, loc);
}

static struct zw_finding *add(struct ctx *c, const char *id, const char *fmt, const char *a,
			      const char *b)
{
	return zw_findings_add(c->fs, id, -1, fmt, a, b);
}

/* The presentation form of a TXT value split canonically, for fixes. */
static int txt_presentation(struct zw_buf *out, const char *v, size_t len)
{
	struct zw_txt t = {0};
	int rc = zw_txt_from_value(&t, v, len);
	if (rc == 0)
		rc = zw_txt_print_presentation(out, &t);
	zw_txt_free(&t);
	return rc;
}

/* Run the grammar of `role` over a (normalised) value. */
static int grammar(struct ctx *c, enum zw_role role, const char *v, size_t len)
{
	int rc = 0;
	if (role == ZW_ROLE_SPF) {
		struct zw_spf *spf = NULL;
		rc = zw_spf_parse(&spf, v, len, c->fs, c->err);
		zw_spf_free(spf);
	} else if (role == ZW_ROLE_DMARC) {
		struct zw_dmarc *dm = NULL;
		rc = zw_dmarc_parse(&dm, v, len, c->fs, c->err);
		if (rc == 0 && dm)
			rc = zw_dmarc_check_weak(dm, c->fs);
		zw_dmarc_free(dm);
	} else if (role == ZW_ROLE_DKIM) {
		struct zw_dkim *dk = NULL;
		rc = zw_dkim_parse(&dk, v, len, c->fs, c->err);
		zw_dkim_free(dk);
	} else if (role == ZW_ROLE_SENDER_ID) {
		rc = zw_spf_check_sender_id(c->fs, v, len) < 0 ? ZW_ENOMEM : 0;
	}
	return rc == ZW_ENOMEM ? ZW_ENOMEM : 0; /* EINVAL: the findings say why */
}

struct txt_seen {
	enum zw_role role;
	const struct zw_irr *rr;
};

static int inspect_txt(struct ctx *c, const struct zw_irr *rr, enum zw_role hint, struct txt_seen *seen)
{
	struct zw_buf norm = ZW_BUF_INIT, shown = ZW_BUF_INIT;
	enum zw_role role = ZW_ROLE_NONE;
	size_t from = c->fs->n;
	int rc = zw_stray_check_txt(c->fs, &norm, &role, rr->txt, hint, c->err);
	if (rc == ZW_EINVAL) { /* over 64 KiB: nothing sensible to say about its role */
		rc = 0;
		role = ZW_ROLE_NONE;
		zw_buf_reset(&norm);
		rc = zw_buf_add(&norm, rr->txt->data, rr->txt->len);
	}
	if (rc == 0)
		rc = zw_txt_display(&shown, rr->txt->data, rr->txt->len);
	for (size_t i = from; rc == 0 && i < c->fs->n; i++) {
		/* the classifier's fix in words becomes the exact record to publish */
		struct zw_buf fix = ZW_BUF_INIT;
		if (!c->fs->v[i].fix)
			continue;
		rc = zw_buf_addf(&fix, "set %s TXT ", c->o->owner);
		if (rc == 0)
			rc = txt_presentation(&fix, zw_buf_str(&norm), norm.len);
		if (rc == 0)
			rc = zw_finding_set(&c->fs->v[i], ZW_F_FIX, zw_buf_str(&fix));
		zw_buf_free(&fix);
	}
	if (rc == 0)
		rc = grammar(c, role, zw_buf_str(&norm), norm.len);
	if (rc == 0 && role != ZW_ROLE_NONE && role != ZW_ROLE_VERIFICATION) {
		size_t before = c->fs->n;
		struct zw_error ownerr = {0};
		rc = zw_role_check_owner(c->fs, c->o->owner, c->apex, role, &ownerr);
		if (rc == ZW_EINVAL)
			rc = 0; /* owner outside the apex: not this zone's business */
		for (size_t i = before; rc == 0 && i < c->fs->n; i++) {
			struct zw_finding *f = &c->fs->v[i];
			struct zw_buf fix = ZW_BUF_INIT;
			rc = zw_buf_addf(&fix, "create %s TXT ", f->expected ? f->expected : "?");
			if (rc == 0)
				rc = txt_presentation(&fix, zw_buf_str(&norm), norm.len);
			if (rc == 0)
				rc = zw_buf_addf(&fix, "; delete %s TXT (the misplaced copy)", c->o->owner);
			if (rc == 0)
				rc = zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix));
			zw_buf_free(&fix);
		}
	}
	if (rc == 0 && hint == ZW_ROLE_DMARC && role != ZW_ROLE_DMARC) {
		struct zw_finding *f = add(c, "DM-15", "txt at %s is not a dmarc record%s: some receivers do not "
					   "expect unrelated records at _dmarc", c->o->owner,
					   role == ZW_ROLE_SPF ? " (an spf record sits where dmarc should)" : "");
		if (!f || zw_finding_setf(f, ZW_F_FIX, "delete this record from %s (if it is yours)", c->o->owner))
			rc = ZW_ENOMEM;
	}
	if (rc == 0)
		rc = finish(c, from, rr->type == ZW_TYPE_SPF99 ? "SPF" : "TXT", &rr->loc, zw_buf_str(&shown));
	seen->role = role;
	seen->rr = rr;
	zw_buf_free(&norm);
	zw_buf_free(&shown);
	return rc;
}

/* More than one record of one role at the owner: SP-02, DM-02, DK-14. */
static int count_roles(struct ctx *c, const struct txt_seen *seen, size_t n)
{
	static const struct {
		enum zw_role role;
		const char *id, *what, *why;
	} rules[] = {
		{ZW_ROLE_SPF, "SP-02", "spf", "more than one v=spf1 record: check_host gives permerror (RFC 7208 §4.5)"},
		{ZW_ROLE_DMARC, "DM-02", "dmarc", "more than one dmarc record: receivers discard all of them (RFC 7489 §6.6.3)"},
		{ZW_ROLE_DKIM, "DK-14", "dkim", "more than one dkim key record at one selector: results are undefined (RFC 6376 §3.6.2.2)"},
	};
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
		size_t count = 0;
		const struct zw_irr *last = NULL;
		for (size_t i = 0; i < n; i++)
			if (seen[i].role == rules[r].role) {
				count++;
				last = seen[i].rr;
			}
		if (count < 2)
			continue;
		size_t from = c->fs->n;
		struct zw_finding *f = zw_findings_add(c->fs, rules[r].id, -1, "%zu records: %s", count, rules[r].why);
		if (!f || zw_finding_setf(f, ZW_F_FIX, "keep exactly one %s record at %s: merge the wanted terms into one "
					  "and delete the others", rules[r].what, c->o->owner))
			return ZW_ENOMEM;
		if (finish(c, from, "TXT", &last->loc, NULL))
			return ZW_ENOMEM;
	}
	return 0;
}

/* TX-12 needs the whole rrset; only its TX-12 findings are kept (the rest came per RR). */
static int split_records(struct ctx *c, const struct zw_irr *const *txts, size_t n, enum zw_role hint)
{
	if (n < 2)
		return 0;
	struct zw_txt *rrs = zw_calloc(n, sizeof(*rrs));
	struct zw_findings tmp = {0};
	struct zw_stray_rrset out = {0};
	int rc = rrs ? 0 : ZW_ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rrs[i] = *txts[i]->txt; /* a shallow view: not freed below */
	if (rc == 0)
		rc = zw_stray_check_rrset(&tmp, &out, rrs, n, hint, c->err);
	for (size_t i = 0; rc == 0 && i < tmp.n; i++) {
		if (strcmp(tmp.v[i].cls->id, "TX-12") != 0)
			continue;
		size_t from = c->fs->n;
		struct zw_finding *f = zw_findings_add(c->fs, "TX-12", tmp.v[i].offset, "%s", tmp.v[i].message);
		if (!f || zw_finding_set(f, ZW_F_FIX, tmp.v[i].fix) ||
		    zw_finding_set(f, ZW_F_OBSERVED, tmp.v[i].observed) ||
		    zw_finding_set(f, ZW_F_EXPECTED, tmp.v[i].expected) ||
		    finish(c, from, "TXT", &txts[0]->loc, NULL))
			rc = ZW_ENOMEM;
	}
	zw_stray_rrset_free(&out);
	zw_findings_free(&tmp);
	zw_free(rrs);
	return rc == ZW_EINVAL ? 0 : rc;
}

/* SES Easy DKIM: <token>._domainkey.<d> CNAME <token>.dkim.amazonses.com. */
static int ses_target(struct ctx *c, const char *t)
{
	const char *owner = c->o->owner;
	const char *dk = strstr(owner, "._domainkey.");
	size_t tl = strlen(t);
	if (!dk || tl < 15 || strcmp(t + tl - 14, "amazonses.com.") != 0)
		return 0;
	char want[300];
	snprintf(want, sizeof(want), "%.*s.dkim.amazonses.com.", (int)(dk - owner), owner);
	if (strcmp(t, want) == 0)
		return 0;
	struct zw_finding *f = add(c, "SE-02", "easy dkim target '%s' is not '%s': ses stays pending", t, want);
	if (!f || zw_finding_set(f, ZW_F_EXPECTED, want) ||
	    zw_finding_setf(f, ZW_F_FIX, "set %s CNAME %s", owner, want))
		return ZW_ENOMEM;
	return 0;
}

static int inspect_cname(struct ctx *c, const struct zw_irr *rr, size_t ncname, int other_data)
{
	struct zw_buf norm = ZW_BUF_INIT;
	size_t from = c->fs->n;
	const char *t = rr->target;
	int rc = zw_stray_check_name(c->fs, &norm, t, strlen(t), c->err);
	if (rc == ZW_EINVAL)
		rc = 0;
	for (size_t i = from; rc == 0 && i < c->fs->n; i++)
		rc = zw_finding_setf(&c->fs->v[i], ZW_F_FIX, "set %s CNAME %s", c->o->owner, zw_buf_str(&norm));
	if (rc == 0 && norm.len)
		t = zw_buf_str(&norm); /* the rules below judge what was meant */
	char *fixed = NULL;
	int hit = rc ? 0 : zw_name_apex_doubled(&fixed, t, c->apex);
	if (hit == 0)
		hit = zw_name_origin_appended(&fixed, t, c->apex);
	if (hit < 0)
		rc = ZW_ENOMEM;
	if (rc == 0 && hit == 1) {
		struct zw_finding *f = add(c, "NM-02", "target '%s' has the zone's origin appended: it means '%s'", t, fixed);
		if (!f || zw_finding_set(f, ZW_F_EXPECTED, fixed) ||
		    zw_finding_setf(f, ZW_F_FIX, "set %s CNAME %s (with the trailing dot)", c->o->owner, fixed))
			rc = ZW_ENOMEM;
	}
	zw_free(fixed);
	if (rc == 0 && ncname > 1 && rr == &c->o->rrs[0]) {
		struct zw_finding *f = add(c, "CN-06", "%s has more than one cname: a cname is a singleton (RFC 2181 §10.1)%s",
					   c->o->owner, "");
		if (!f || zw_finding_set(f, ZW_F_FIX, "keep one cname target and delete the others"))
			rc = ZW_ENOMEM;
	}
	if (rc == 0 && strcmp(c->o->owner, c->apex) == 0) {
		struct zw_finding *f = add(c, "CN-02", "cname at the zone apex %s%s: the apex holds soa and ns (RFC 1034 §3.6.2)",
					   c->apex, "");
		if (!f || zw_finding_set(f, ZW_F_FIX, "use a route 53 alias or cloudflare flattening instead"))
			rc = ZW_ENOMEM;
	} else if (rc == 0 && other_data) {
		struct zw_finding *f = add(c, "CN-01", "%s has a cname and other data: no other data may sit beside a "
					   "cname (RFC 1034 §3.6.2, RFC 2181 §10.1)%s", c->o->owner, "");
		if (!f || zw_finding_set(f, ZW_F_FIX, "keep the cname (or the other records) and delete the rest"))
			rc = ZW_ENOMEM;
	}
	if (rc == 0)
		rc = ses_target(c, t);
	if (rc == 0)
		rc = finish(c, from, "CNAME", &rr->loc, rr->target);
	zw_buf_free(&norm);
	return rc;
}

/* NM-01: the owner is <x>.<apex>.<apex>.; NM-06: a wildcard that answers mail names. */
static int inspect_name(struct ctx *c)
{
	char *fixed = NULL;
	const struct zw_irr *first = &c->o->rrs[0];
	size_t from = c->fs->n;
	int hit = zw_name_apex_doubled(&fixed, c->o->owner, c->apex);
	if (hit < 0)
		return ZW_ENOMEM;
	if (hit == 1) {
		struct zw_finding *f = add(c, "NM-01", "owner '%s' has the apex twice: verifiers ask for '%s' and get nxdomain",
					   c->o->owner, fixed);
		int rc = !f || zw_finding_set(f, ZW_F_EXPECTED, fixed) ||
			 zw_finding_setf(f, ZW_F_FIX, "create the same record at %s (absolute, with the trailing dot); "
						      "delete %s", fixed, c->o->owner);
		zw_free(fixed);
		if (rc)
			return ZW_ENOMEM;
	}
	if (strncmp(c->o->owner, "*.", 2) == 0) {
		for (size_t i = 0; i < c->o->n; i++) {
			const struct zw_irr *rr = &c->o->rrs[i];
			int mail = rr->type == ZW_TYPE_CNAME ||
				   (rr->type == ZW_TYPE_TXT && zw_role_detect(NULL, rr->txt->data, rr->txt->len,
									    ZW_ROLE_NONE) != ZW_ROLE_NONE);
			if (!mail)
				continue;
			struct zw_finding *f = add(c, "NM-06", "wildcard %s also answers _dmarc and _domainkey names that "
					      "do not exist (RFC 4592)%s", c->o->owner, "");
			if (!f || zw_finding_set(f, ZW_F_FIX, "publish explicit _dmarc and selector records; avoid "
						 "wildcard txt and cname"))
				return ZW_ENOMEM;
			break;
		}
	}
	return finish(c, from, type_name(first->type), &first->loc, NULL);
}

/* SP-04: SPF published only as RR type 99. */
static int spf99_only(struct ctx *c, int has_spf_txt)
{
	for (size_t i = 0; i < c->o->n; i++) {
		const struct zw_irr *rr = &c->o->rrs[i];
		if (rr->type != ZW_TYPE_SPF99 || has_spf_txt)
			continue;
		size_t from = c->fs->n;
		struct zw_buf fix = ZW_BUF_INIT;
		struct zw_finding *f = add(c, "SP-04", "spf published only as type spf (99): receivers query txt only "
					   "(RFC 7208 §3.1, §14.1)%s%s", "", "");
		int rc = !f || zw_buf_addf(&fix, "create %s TXT ", c->o->owner) ||
			 zw_txt_print_presentation(&fix, rr->txt) ||
			 zw_buf_addf(&fix, "; delete %s SPF", c->o->owner) ||
			 zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) || finish(c, from, "SPF", &rr->loc, NULL);
		zw_buf_free(&fix);
		return rc ? ZW_ENOMEM : 0;
	}
	return 0;
}

int zw_inspect_owner(struct zw_findings *fs, const struct zw_owner *o, const char *apex,
		     const char *domain, struct zw_error *err)
{
	struct ctx c = {fs, o, apex, domain, err};
	struct txt_seen *seen = NULL;
	const struct zw_irr **txts = NULL;
	size_t ntxt = 0, ncname = 0, nother = 0;
	int rc = 0, has_spf_txt = 0;
	if (o->n == 0)
		return 0;
	if (!(seen = zw_calloc(o->n, sizeof(*seen))) || !(txts = zw_calloc(o->n, sizeof(*txts)))) {
		rc = ZW_ENOMEM;
		goto out;
	}
	enum zw_role hint = zw_role_of_owner(o->owner);
	if ((rc = inspect_name(&c)))
		goto out;
	for (size_t i = 0; i < o->n; i++) {
		uint16_t t = o->rrs[i].type;
		ncname += t == ZW_TYPE_CNAME;
		nother += t != ZW_TYPE_CNAME;
	}
	for (size_t i = 0; i < o->n && rc == 0; i++) {
		const struct zw_irr *rr = &o->rrs[i];
		if (rr->type == ZW_TYPE_TXT) {
			rc = inspect_txt(&c, rr, hint, &seen[ntxt]);
			has_spf_txt |= seen[ntxt].role == ZW_ROLE_SPF;
			txts[ntxt++] = rr;
		} else if (rr->type == ZW_TYPE_CNAME) {
			rc = inspect_cname(&c, rr, ncname, nother > 0);
		}
	}
	if (rc == 0)
		rc = count_roles(&c, seen, ntxt);
	if (rc == 0)
		rc = split_records(&c, txts, ntxt, hint);
	if (rc == 0)
		rc = spf99_only(&c, has_spf_txt);
out:
	zw_free(seen);
	zw_free(txts);
	return rc == ZW_ENOMEM ? zw_error_set(err, ZW_ENOMEM, "out of memory") : rc;
}
