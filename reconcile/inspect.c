/*
 * inspect.c - the diagnosis of one owner's records (see inspect.h).
 *
 * Order of work for each TXT RR: stray characters first (they produce the normalised
 * value), then the role of the normalised value, then that role's grammar on the
 * normalised value. So ` v=spf1 -all` is one TX-01 finding, not also an SPF syntax error,
 * and a DMARC with U+FF1B is one TX-06, not DM-03. A record split over several RRs (TX-12)
 * is judged by its grammar as the parts joined, so the cut head is not also DK-05 or
 * SP-17. Owns nothing.
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
#define ZW_TYPE_TXT   16
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

static struct zw_finding *add(struct ctx *c, const char *id, const char *fmt, const char *a, const char *b)
{
	return zw_findings_add(c->fs, id, -1, fmt, a, b);
}

/* The classifiers' fixes that mean "publish `expected`": they become the exact record. */
static const char *const generic_fixes[] = {
	"replace the value with the expected one",
	"replace the name with the expected one",
	"split the value into strings of at most 255 octets",
};

static int fix_is_generic(const char *fix)
{
	for (size_t i = 0; fix && i < sizeof(generic_fixes) / sizeof(generic_fixes[0]); i++)
		if (strcmp(fix, generic_fixes[i]) == 0)
			return 1;
	return 0;
}

/* The fix of a grammar finding that came without one (CATALOGUE §A, column "fix"). */
static const struct {
	const char *id, *fix;
} fallback_fixes[] = {
	{"SP-03", "begin the record with 'v=spf1' followed by a space (RFC 7208 §4.5)"},
	{"SP-05",
	 "replace the term with a mechanism or modifier of RFC 7208 §12 (the message names the likely one)"},
	{"SP-06", "separate the terms with a space"},
	{"SP-07", "write ip4 as four numbers 0-255 without leading zeros and ip6 as RFC 4291 §2.2, "
		  "with a prefix of /0-32 or /0-128 (RFC 7208 §5.6)"},
	{"SP-08", "write macros as %{letter[digits][r][delimiters]}, %%, %_ or %-, and only in a "
		  "domain-spec (RFC 7208 §7.1)"},
	{"SP-09", "remove unused senders, replace a and mx by ip4 and ip6, or move senders to subdomains"},
	{"SP-12", "remove redirect=, or remove the 'all' term if the redirect is meant"},
	{"SP-14", "keep one redirect= and one exp= at most"},
	{"SP-16", "end the record with '-all' or '~all'"},
	{"SP-17", "end the record with '-all' or '~all'"},
	{"SP-18", "replace ptr by the ip4, ip6, a or mx terms of the senders"},
	{"SP-19", "remove unused senders, or move some of them to an include on a subdomain"},
	{"SP-20", "move the terms in front of 'all' (a verification token to a txt record of its own), or "
		  "delete them"},
	{"SP-21", "delete this record (if it is yours): sender id is historic and spf is v=spf1"},
	{"SP-23", "remove the repeated include"},
};

static int add_fallback_fixes(struct zw_findings *fs, size_t from)
{
	for (size_t i = from; i < fs->n; i++) {
		struct zw_finding *f = &fs->v[i];
		for (size_t k = 0; !f->fix && k < sizeof(fallback_fixes) / sizeof(fallback_fixes[0]); k++)
			if (strcmp(f->cls->id, fallback_fixes[k].id) == 0 &&
			    zw_finding_set(f, ZW_F_FIX, fallback_fixes[k].fix))
				return ZW_ENOMEM;
	}
	return 0;
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
		/* the record alone already costs more than the limit: no DNS needed to say so */
		if (rc == 0 && spf && !spf->permerror && spf->lookups > ZW_SPF_MAX_LOOKUPS &&
		    !zw_findings_add(c->fs, "SP-09", -1,
				     "the record itself has %d dns-querying terms "
				     "(include, a, mx, ptr, exists, redirect), more than %d before any "
				     "include is followed: check_host gives permerror (RFC 7208 §4.6.4)",
				     spf->lookups, ZW_SPF_MAX_LOOKUPS))
			rc = ZW_ENOMEM;
		zw_spf_free(spf);
	} else if (role == ZW_ROLE_DMARC) {
		struct zw_dmarc *dm = NULL;
		rc = zw_dmarc_parse(&dm, v, len, c->fs, c->err);
		/* an invalid or missing p acts as none: DM-04 / DM-05 already say so */
		if (rc == 0 && dm && dm->p != ZW_DMARC_UNSET && dm->p != ZW_DMARC_INVALID &&
		    dm->sp != ZW_DMARC_INVALID && dm->np != ZW_DMARC_INVALID)
			rc = zw_dmarc_check_weak(dm, c->fs);
		/* the zone linted is an organizational domain, not a public suffix */
		if (rc == 0 && dm)
			rc = zw_dmarc_check_psd(dm, 0, c->fs);
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
	int exact; /* the value as published has the role (nothing to repair first: TX-xx, DM-03, SP-03) */
};

/*
 * One TXT RR. `joined` is set when the RR heads a record split over several RRs (TX-12):
 * then the grammar and the owner rules judge the parts joined. `part` is set for the
 * RRs that continue such a head: they are not records of their own.
 */
static int inspect_txt(struct ctx *c, const struct zw_irr *rr, enum zw_role hint, const struct zw_txt *joined,
		       int part, struct txt_seen *seen)
{
	struct zw_buf norm = ZW_BUF_INIT, shown = ZW_BUF_INIT;
	enum zw_role role = ZW_ROLE_NONE;
	size_t from = c->fs->n;
	int misplaced = 0;
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
		/* the classifier's "publish the expected value" becomes the exact record */
		struct zw_buf fix = ZW_BUF_INIT;
		if (!fix_is_generic(c->fs->v[i].fix))
			continue;
		rc = zw_buf_addf(&fix, "set %s TXT ", c->o->owner);
		if (rc == 0)
			rc = txt_presentation(&fix, zw_buf_str(&norm), norm.len);
		if (rc == 0)
			rc = zw_finding_set(&c->fs->v[i], ZW_F_FIX, zw_buf_str(&fix));
		zw_buf_free(&fix);
	}
	if (rc == 0 && joined) {
		struct zw_findings scratch = {0}; /* the parts' stray findings came per RR */
		rc = zw_stray_check_txt(&scratch, &norm, &role, joined, hint, c->err);
		zw_findings_free(&scratch);
		if (rc == ZW_EINVAL) { /* too large to judge joined: the parts stand as they are */
			rc = 0;
			role = ZW_ROLE_NONE;
		}
	}
	if (part)
		role = ZW_ROLE_NONE;
	if (rc == 0)
		rc = grammar(c, role, zw_buf_str(&norm), norm.len);
	if (rc == 0)
		rc = add_fallback_fixes(c->fs, from);
	if (rc == 0 && role != ZW_ROLE_NONE && role != ZW_ROLE_VERIFICATION) {
		size_t before = c->fs->n;
		struct zw_error ownerr = {0};
		rc = zw_role_check_owner(c->fs, c->o->owner, c->apex, role, &ownerr);
		if (rc == ZW_EINVAL)
			rc = 0; /* owner outside the apex: not this zone's business */
		misplaced = c->fs->n > before;
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
	/* a misplaced record of another role is NM-03 already: the most specific wins */
	if (rc == 0 && hint == ZW_ROLE_DMARC && role != ZW_ROLE_DMARC && !part && !misplaced) {
		struct zw_finding *f = add(
			c, "DM-15",
			"txt at %s is not a dmarc record%s: some receivers do not "
			"expect unrelated records at _dmarc",
			c->o->owner, role == ZW_ROLE_SPF ? " (an spf record sits where dmarc should)" : "");
		if (!f ||
		    zw_finding_setf(f, ZW_F_FIX, "delete this record from %s (if it is yours)", c->o->owner))
			rc = ZW_ENOMEM;
	}
	if (rc == 0)
		rc = finish(c, from, rr->type == ZW_TYPE_SPF99 ? "SPF" : "TXT", &rr->loc, zw_buf_str(&shown));
	seen->role = role;
	seen->rr = rr;
	if (role != ZW_ROLE_NONE) {
		int near = 0;
		const struct zw_txt *raw = joined ? joined : rr->txt;
		seen->exact = zw_role_detect(&near, raw->data, raw->len, hint) == role && !near;
	}
	zw_buf_free(&norm);
	zw_buf_free(&shown);
	return rc;
}

/* More than one record of one role at the owner: SP-02, DM-02, DK-14. */
static int count_roles(struct ctx *c, const struct txt_seen *seen, size_t n)
{
	static const struct {
		enum zw_role role;
		const char *id, *what, *why, *then;
	} rules[] = {
		{ZW_ROLE_SPF, "SP-02", "spf",
		 "more than one v=spf1 record: check_host gives permerror (RFC 7208 §4.5)",
		 "check_host gives permerror (RFC 7208 §4.5)"},
		{ZW_ROLE_DMARC, "DM-02", "dmarc",
		 "more than one dmarc record: receivers discard all of them (RFC 7489 §6.6.3)",
		 "receivers discard all of them (RFC 7489 §6.6.3)"},
		{ZW_ROLE_DKIM, "DK-14", "dkim",
		 "more than one dkim key record at one selector: results are undefined (RFC 6376 §3.6.2.2)",
		 "results are undefined (RFC 6376 §3.6.2.2)"},
	};
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
		size_t count = 0, exact = 0;
		const struct zw_irr *last = NULL;
		for (size_t i = 0; i < n; i++)
			if (seen[i].role == rules[r].role) {
				count++;
				exact += seen[i].exact;
				last = seen[i].rr;
			}
		if (count < 2)
			continue;
		size_t from = c->fs->n;
		/* receivers select on the published value: a broken copy (TX-xx) is not one of theirs,
		 * so "permerror" / "discard all" is only true once it is repaired as it stands */
		struct zw_finding *f =
			exact >= 2 ? zw_findings_add(c->fs, rules[r].id, -1, "%zu records: %s", count,
						     rules[r].why)
				   : zw_findings_add(c->fs, rules[r].id, -1,
						     "%zu %s records once the broken ones are repaired, %zu "
						     "as receivers "
						     "select them today: repaired as they stand, %s",
						     count, rules[r].what, exact, rules[r].then);
		if (!f || zw_finding_setf(f, ZW_F_FIX,
					  "keep exactly one %s record at %s: merge the wanted terms into one "
					  "and delete the others",
					  rules[r].what, c->o->owner))
			return ZW_ENOMEM;
		if (finish(c, from, "TXT", &last->loc, NULL))
			return ZW_ENOMEM;
	}
	return 0;
}

/*
 * TX-12: one record published as several RRs. The groups come from the classifier
 * (zw_stray_check_rrset) before the RRs are inspected, so that a head is judged joined.
 */
struct split {
	struct zw_stray_rrset groups;
	struct zw_findings found;     /* the classifier's findings: only TX-12 is kept */
	const struct zw_txt **joined; /* per TXT RR: the joined record it heads, or NULL */
	int *part;		      /* per TXT RR: 1 when it continues a head */
};

static void split_free(struct split *sp)
{
	zw_stray_rrset_free(&sp->groups);
	zw_findings_free(&sp->found);
	zw_free(sp->joined);
	zw_free(sp->part);
}

static int split_find(struct split *sp, struct ctx *c, const struct zw_irr *const *txts, size_t n,
		      enum zw_role hint)
{
	memset(sp, 0, sizeof(*sp));
	sp->joined = zw_calloc(n + 1, sizeof(*sp->joined));
	sp->part = zw_calloc(n + 1, sizeof(*sp->part));
	if (!sp->joined || !sp->part)
		return ZW_ENOMEM;
	if (n < 2)
		return 0;
	struct zw_txt *rrs = zw_calloc(n, sizeof(*rrs));
	if (!rrs)
		return ZW_ENOMEM;
	for (size_t i = 0; i < n; i++)
		rrs[i] = *txts[i]->txt; /* a shallow view: not freed below */
	int rc = zw_stray_check_rrset(&sp->found, &sp->groups, rrs, n, hint, c->err);
	zw_free(rrs);
	if (rc == ZW_EINVAL) { /* too large to judge: every RR stands alone */
		zw_stray_rrset_free(&sp->groups);
		return 0;
	}
	for (size_t g = 0; rc == 0 && g < sp->groups.n; g++) {
		const struct zw_stray_rr *rr = &sp->groups.v[g];
		if (rr->nsrcs < 2)
			continue;
		sp->joined[rr->srcs[0]] = &rr->txt;
		for (size_t k = 1; k < rr->nsrcs; k++)
			sp->part[rr->srcs[k]] = 1;
	}
	return rc;
}

/* One TX-12 finding per group (the classifier emits them in group order). */
static int split_report(struct ctx *c, const struct split *sp, const struct zw_irr *const *txts)
{
	size_t g = 0;
	for (size_t i = 0; i < sp->found.n; i++) {
		const struct zw_finding *t = &sp->found.v[i];
		if (strcmp(t->cls->id, "TX-12") != 0)
			continue;
		while (g < sp->groups.n && sp->groups.v[g].nsrcs < 2)
			g++;
		if (g >= sp->groups.n)
			break;
		const struct zw_stray_rr *rr = &sp->groups.v[g++];
		size_t from = c->fs->n;
		struct zw_buf fix = ZW_BUF_INIT;
		struct zw_finding *f = zw_findings_add(c->fs, "TX-12", t->offset, "%s", t->message);
		int rc = !f || zw_finding_set(f, ZW_F_OBSERVED, t->observed) ||
			 zw_finding_set(f, ZW_F_EXPECTED, t->expected) ||
			 zw_buf_addf(&fix, "replace the %zu rrs with one: %s TXT ", rr->nsrcs, c->o->owner) ||
			 zw_txt_print_presentation(&fix, &rr->txt) ||
			 zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
			 finish(c, from, "TXT", &txts[rr->srcs[0]]->loc, NULL);
		zw_buf_free(&fix);
		if (rc)
			return ZW_ENOMEM;
	}
	return 0;
}

/*
 * A name finding whose `expected` is the observed name unchanged (a non-ascii label, which
 * only the user can turn into its a-label) says nothing with it: drop it.
 */
static void drop_unchanged_expected(struct zw_findings *fs, size_t from)
{
	for (size_t i = from; i < fs->n; i++) {
		struct zw_finding *f = &fs->v[i];
		if (f->expected && f->observed && strcmp(f->expected, f->observed) == 0)
			zw_finding_set(f, ZW_F_EXPECTED, NULL); /* clearing allocates nothing */
	}
}

/* SES Easy DKIM: <token>._domainkey.<d> CNAME <token>.dkim.amazonses.com. */
/*
 * `<region>.amazonses.com.`: the Easy DKIM domain of an opt-in region
 * (`tok.dkim.af-south-1.amazonses.com.`), a label of [a-z0-9-] with a '-' that ends in a digit.
 */
static int regional_ses(const char *rest)
{
	const char *dot = strchr(rest, '.');
	if (!dot || dot == rest || strcmp(dot, ".amazonses.com.") != 0 ||
	    !memchr(rest, '-', (size_t)(dot - rest)) || dot[-1] < '0' || dot[-1] > '9')
		return 0;
	for (const char *p = rest; p < dot; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

static int ses_target(struct ctx *c, const char *t)
{
	const char *owner = c->o->owner;
	const char *dk = strstr(owner, "._domainkey.");
	size_t tl = strlen(t);
	if (!dk || tl < 15 || strcmp(t + tl - 14, "amazonses.com.") != 0)
		return 0;
	char want[300];
	snprintf(want, sizeof(want), "%.*s.dkim.", (int)(dk - owner), owner);
	size_t wl = strlen(want);
	if (strncmp(t, want, wl) == 0 && regional_ses(t + wl))
		return 0;
	snprintf(want, sizeof(want), "%.*s.dkim.amazonses.com.", (int)(dk - owner), owner);
	if (strcmp(t, want) == 0)
		return 0;
	struct zw_finding *f =
		add(c, "SE-02", "easy dkim target '%s' is not '%s': ses stays pending", t, want);
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
	drop_unchanged_expected(c->fs, from);
	for (size_t i = from; rc == 0 && i < c->fs->n; i++)
		if (fix_is_generic(c->fs->v[i].fix))
			rc = zw_finding_setf(&c->fs->v[i], ZW_F_FIX, "set %s CNAME %s", c->o->owner,
					     zw_buf_str(&norm));
	if (rc == 0 && norm.len)
		t = zw_buf_str(&norm); /* the rules below judge what was meant */
	char *fixed = NULL;
	int hit = rc ? 0 : zw_name_apex_doubled(&fixed, t, c->apex);
	if (hit == 0)
		hit = zw_name_origin_appended(&fixed, t, c->apex);
	if (hit < 0)
		rc = ZW_ENOMEM;
	if (rc == 0 && hit == 1) {
		struct zw_finding *f = add(
			c, "NM-02", "target '%s' has the zone's origin appended: it means '%s'", t, fixed);
		if (!f || zw_finding_set(f, ZW_F_EXPECTED, fixed) ||
		    zw_finding_setf(f, ZW_F_FIX, "set %s CNAME %s (with the trailing dot)", c->o->owner,
				    fixed))
			rc = ZW_ENOMEM;
	}
	zw_free(fixed);
	const struct zw_irr *first = c->o->rrs;
	while (first->type != ZW_TYPE_CNAME) /* rr is a CNAME, so this stops at rr at the latest */
		first++;
	if (rc == 0 && ncname > 1 && rr == first) { /* once per owner, on its first cname */
		struct zw_finding *f = add(
			c, "CN-06", "%s has more than one cname: a cname is a singleton (RFC 2181 §10.1)%s",
			c->o->owner, "");
		if (!f || zw_finding_set(f, ZW_F_FIX, "keep one cname target and delete the others"))
			rc = ZW_ENOMEM;
	}
	if (rc == 0 && rr == first && strcmp(c->o->owner, c->apex) == 0) {
		struct zw_finding *f =
			add(c, "CN-02",
			    "cname at the zone apex %s%s: the apex holds soa and ns (RFC 1034 §3.6.2)",
			    c->apex, "");
		if (!f ||
		    zw_finding_set(f, ZW_F_FIX, "use a route 53 alias or cloudflare flattening instead"))
			rc = ZW_ENOMEM;
	} else if (rc == 0 && rr == first && other_data) {
		struct zw_finding *f = add(c, "CN-01",
					   "%s has a cname and other data: no other data may sit beside a "
					   "cname (RFC 1034 §3.6.2, RFC 2181 §10.1)%s",
					   c->o->owner, "");
		if (!f ||
		    zw_finding_set(f, ZW_F_FIX, "keep the cname (or the other records) and delete the rest"))
			rc = ZW_ENOMEM;
	}
	if (rc == 0)
		rc = ses_target(c, t);
	if (rc == 0)
		rc = finish(c, from, "CNAME", &rr->loc, rr->target);
	zw_buf_free(&norm);
	return rc;
}

/* Stray characters in the owner name itself (a space, U+200B, ...): TX-xx or NM-07. */
static int owner_chars(struct ctx *c)
{
	struct zw_buf norm = ZW_BUF_INIT;
	size_t from = c->fs->n;
	const char *owner = c->o->owner;
	int rc = zw_stray_check_name(c->fs, &norm, owner, strlen(owner), c->err);
	if (rc == ZW_EINVAL)
		rc = 0;
	drop_unchanged_expected(c->fs, from);
	for (size_t i = from; rc == 0 && i < c->fs->n; i++)
		if (fix_is_generic(c->fs->v[i].fix))
			rc = zw_finding_setf(&c->fs->v[i], ZW_F_FIX,
					     "create the same records at %s; delete %s", zw_buf_str(&norm),
					     owner);
	zw_buf_free(&norm);
	return rc;
}

/*
 * NM-06: a wildcard whose records are mail records answers _dmarc and _domainkey names
 * that do not exist. A wildcard below an underscore label (*._report._dmarc.<d>, the
 * report authorisation of RFC 9990) answers only the names it is meant for.
 */
static int wildcard(struct ctx *c)
{
	if (strncmp(c->o->owner, "*.", 2) != 0 || c->o->owner[2] == '_')
		return 0;
	for (size_t i = 0; i < c->o->n; i++) {
		const struct zw_irr *rr = &c->o->rrs[i];
		int mail = rr->type == ZW_TYPE_CNAME ||
			   (rr->type == ZW_TYPE_TXT &&
			    zw_role_detect(NULL, rr->txt->data, rr->txt->len, ZW_ROLE_NONE) != ZW_ROLE_NONE);
		if (!mail)
			continue;
		struct zw_finding *f = add(c, "NM-06",
					   "wildcard %s also answers _dmarc and _domainkey names that "
					   "do not exist (RFC 4592)%s",
					   c->o->owner, "");
		if (!f || zw_finding_set(f, ZW_F_FIX,
					 "publish explicit _dmarc and selector records; avoid "
					 "wildcard txt and cname"))
			return ZW_ENOMEM;
		break;
	}
	return 0;
}

/* The owner name: its characters, NM-01 (the owner is <x>.<apex>.<apex>.), NM-06. */
static int inspect_name(struct ctx *c)
{
	char *fixed = NULL;
	const struct zw_irr *first = &c->o->rrs[0];
	size_t from = c->fs->n;
	int rc = owner_chars(c);
	int hit = rc ? 0 : zw_name_apex_doubled(&fixed, c->o->owner, c->apex);
	if (hit < 0)
		rc = ZW_ENOMEM;
	if (rc == 0 && hit == 1) {
		struct zw_finding *f = add(
			c, "NM-01", "owner '%s' has the apex twice: verifiers ask for '%s' and get nxdomain",
			c->o->owner, fixed);
		if (!f || zw_finding_set(f, ZW_F_EXPECTED, fixed) ||
		    zw_finding_setf(f, ZW_F_FIX,
				    "create the same record at %s (absolute, with the trailing dot); "
				    "delete %s",
				    fixed, c->o->owner))
			rc = ZW_ENOMEM;
	}
	zw_free(fixed);
	if (rc == 0)
		rc = wildcard(c);
	if (rc == 0)
		rc = finish(c, from, type_name(first->type), &first->loc, NULL);
	return rc;
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
		struct zw_finding *f = add(c, "SP-04",
					   "spf published only as type spf (99): receivers query txt only "
					   "(RFC 7208 §3.1, §14.1)%s%s",
					   "", "");
		int rc = !f || zw_buf_addf(&fix, "create %s TXT ", c->o->owner) ||
			 zw_txt_print_presentation(&fix, rr->txt) ||
			 zw_buf_addf(&fix, "; delete %s SPF", c->o->owner) ||
			 zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
			 finish(c, from, "SPF", &rr->loc, NULL);
		zw_buf_free(&fix);
		return rc ? ZW_ENOMEM : 0;
	}
	return 0;
}

int zw_inspect_owner(struct zw_findings *fs, const struct zw_owner *o, const char *apex, const char *domain,
		     struct zw_error *err)
{
	struct ctx c = {fs, o, apex, domain, err};
	struct txt_seen *seen = NULL;
	const struct zw_irr **txts = NULL;
	struct split sp = {0};
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
		if (t == ZW_TYPE_TXT)
			txts[ntxt++] = &o->rrs[i];
	}
	if ((rc = split_find(&sp, &c, txts, ntxt, hint)))
		goto out;
	for (size_t i = 0, t = 0; i < o->n && rc == 0; i++) {
		const struct zw_irr *rr = &o->rrs[i];
		if (rr->type == ZW_TYPE_TXT) {
			rc = inspect_txt(&c, rr, hint, sp.joined[t], sp.part[t], &seen[t]);
			has_spf_txt |= seen[t].role == ZW_ROLE_SPF;
			t++;
		} else if (rr->type == ZW_TYPE_CNAME) {
			rc = inspect_cname(&c, rr, ncname, nother > 0);
		}
	}
	if (rc == 0)
		rc = count_roles(&c, seen, ntxt);
	if (rc == 0)
		rc = split_report(&c, &sp, txts);
	if (rc == 0)
		rc = spf99_only(&c, has_spf_txt);
out:
	split_free(&sp);
	zw_free(seen);
	zw_free(txts);
	return rc == ZW_ENOMEM ? zw_error_set(err, ZW_ENOMEM, "out of memory") : rc;
}
