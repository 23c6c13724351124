/*
 * plan.c - build the changeset of one domain (see plan.h).
 *
 * Method: a list of TARGET rrsets, each starting as a copy of the provider's rrset (or
 * empty) the first time a rule touches it. The rules edit targets in order: claims,
 * mistakes, sync deletions, then the ownership records. At the end each target is
 * compared with the provider's rrset: equal gives no change, otherwise CREATE, UPDATE or
 * DELETE. So two rules touching one rrset (a claim and a sync deletion at the apex) give
 * one change, and a second run over an applied zone gives none.
 * Owns: everything in struct zw_plan.
 */
#include "reconcile/plan.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/names.h"
#include "reconcile/role.h"
#include "reconcile/stray.h"

#define TYPE_NS	   2
#define TYPE_SOA   6
#define TYPE_CNAME 5
#define TYPE_TXT   16

struct target {
	struct zw_rrset rr;	       /* what the rrset should hold; nrd == 0: deleted */
	const struct zw_rrset *before; /* the provider's, or NULL */
	char reasons[96];
	int mistake, bookkeeping;
	struct zw_loc loc;
};

struct ctx {
	const struct zw_desired *ds;
	const struct zw_zonestate *zs;
	const struct zw_plan_opts *opts;
	struct zw_plan *plan;
	struct target *t;
	size_t nt;
	struct zw_error *err;
};

const char *zw_op_name(enum zw_op op)
{
	static const char *const names[] = {"create", "update", "delete"};
	return names[op];
}

static void add_reason(char reasons[96], const char *id)
{
	if (!id[0] || strstr(reasons, id))
		return;
	size_t len = strlen(reasons);
	snprintf(reasons + len, 96 - len, "%s%s", len ? "," : "", id);
}

/* Remove one id from the list (the more specific reason replaces it). */
static void remove_reason(char reasons[96], const char *id)
{
	char kept[96] = "", one[16];
	const char *p = reasons;
	while (*p) {
		size_t n = strcspn(p, ",");
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		if (strcmp(one, id) != 0)
			add_reason(kept, one);
		p += n + (p[n] == ',');
	}
	memcpy(reasons, kept, 96);
}

/* Add each id of a comma-separated list. */
static void add_reasons(char reasons[96], const char *list)
{
	char id[16];
	while (*list) {
		size_t n = strcspn(list, ",");
		snprintf(id, sizeof(id), "%.*s", (int)n, list);
		add_reason(reasons, id);
		list += n + (list[n] == ',');
	}
}

/* The target for (name, type), created from the provider's rrset on first use. */
static struct target *target(struct ctx *c, const char *name, uint16_t type)
{
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].rr.type == type && strcmp(c->t[i].rr.name, name) == 0)
			return &c->t[i];
	struct target *t = zw_realloc(c->t, (c->nt + 1) * sizeof(*t));
	if (!t)
		return NULL;
	c->t = t;
	t = &c->t[c->nt];
	memset(t, 0, sizeof(*t));
	t->before = zw_zonestate_find(c->zs, name, type);
	int rc = t->before ? zw_rrset_copy(&t->rr, t->before) : 0;
	if (!t->before) {
		t->rr.type = type;
		t->rr.ttl = c->ds->domain->ttl;
		rc = (t->rr.name = zw_strdup(name)) ? 0 : ZW_ENOMEM;
	}
	if (rc) {
		zw_rrset_clear(&t->rr);
		return NULL;
	}
	c->nt++;
	return t;
}

static void remove_rd(struct zw_rrset *r, size_t i)
{
	zw_rdata_clear(&r->rd[i]);
	memmove(&r->rd[i], &r->rd[i + 1], (r->nrd - i - 1) * sizeof(r->rd[0]));
	r->nrd--;
}

static int add_rd(struct zw_rrset *r, const struct zw_rdata *rd)
{
	for (size_t i = 0; i < r->nrd; i++)
		if (zw_rdata_equal(&r->rd[i], rd, r->type))
			return 0;
	struct zw_rdata *v = zw_realloc(r->rd, (r->nrd + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	r->rd = v;
	if (zw_rdata_copy(&r->rd[r->nrd], rd))
		return ZW_ENOMEM;
	r->nrd++;
	return 0;
}

/* The role of a provider value after normalisation, and the stray-character classes
 * found in it (the reasons a replacement carries). */
static int value_role(enum zw_role *role, char reasons[96], const struct zw_txt *t, enum zw_role hint,
		      struct zw_error *err)
{
	struct zw_findings tmp = {0};
	struct zw_buf norm = ZW_BUF_INIT;
	int rc = zw_stray_check_txt(&tmp, &norm, role, t, hint, err);
	if (rc == ZW_EINVAL) { /* longer than any mail-auth value: foreign */
		*role = ZW_ROLE_NONE;
		rc = 0;
	}
	for (size_t i = 0; rc == 0 && i < tmp.n; i++)
		add_reason(reasons, tmp.v[i].cls->id);
	zw_findings_free(&tmp);
	zw_buf_free(&norm);
	return rc;
}

/* The stray-character classes of a provider's CNAME target (TX-01 for a leading space). */
static int name_reasons(char reasons[96], const char *target, struct zw_error *err)
{
	struct zw_findings tmp = {0};
	struct zw_buf norm = ZW_BUF_INIT;
	struct zw_txt raw = {0};
	struct zw_error ignored = {0};
	/* a provider may give the target in presentation form (\032 for a space): its bytes */
	int rc = zw_txt_parse_presentation(&raw, target, strlen(target), &ignored) == 0 && raw.n == 1
			 ? zw_stray_check_name(&tmp, &norm, raw.data, raw.len, err)
			 : zw_stray_check_name(&tmp, &norm, target, strlen(target), err);
	zw_txt_free(&raw);
	if (rc == ZW_EINVAL)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < tmp.n; i++)
		add_reason(reasons, tmp.v[i].cls->id);
	zw_findings_free(&tmp);
	zw_buf_free(&norm);
	return rc;
}

static int desired_rdata(struct zw_rdata *rd, const struct zw_record *r)
{
	memset(rd, 0, sizeof(*rd));
	if (r->type == TYPE_TXT)
		return zw_txt_copy(&rd->txt, &r->txt);
	return (rd->text = zw_strdup(r->target)) ? 0 : ZW_ENOMEM;
}

/* One claim: the desired value replaces the values of its role in a shared TXT rrset
 * (SPF at the apex, DMARC at _dmarc), or everything at a claimed name (DKIM selectors and
 * CNAMEs: other types there go too, CN-01). */
static int claim(struct ctx *c, const struct zw_record *r)
{
	static const enum zw_role roles[] = {ZW_ROLE_SPF, ZW_ROLE_DMARC, ZW_ROLE_DKIM, ZW_ROLE_NONE};
	static const char *const multiple[] = {"SP-02", "DM-02", "DK-14", "CN-06"};
	int whole_name = r->claim == ZW_CLAIM_DKIM || r->claim == ZW_CLAIM_CNAME;
	struct zw_rdata want;
	size_t ours = 0;
	int rc, changed = 0;

	if (c->ds->domain->policy == ZW_POLICY_CREATE_ONLY && zw_zonestate_find(c->zs, r->name, r->type))
		return 0; /* create-only never modifies an existing rrset */
	struct target *t = target(c, r->name, r->type);
	if (!t)
		return ZW_ENOMEM;
	t->loc = r->loc;
	if ((rc = desired_rdata(&want, r)))
		return rc;
	for (size_t i = 0; i < t->rr.nrd && rc == 0;) {
		enum zw_role role = ZW_ROLE_NONE;
		char found[96] = "";
		if (r->type == TYPE_TXT)
			rc = value_role(&role, found, &t->rr.rd[i].txt, roles[r->claim], c->err);
		else if (t->rr.rd[i].text)
			rc = name_reasons(found, t->rr.rd[i].text, c->err);
		if (rc || (!whole_name && role != roles[r->claim])) {
			i++; /* a foreign value: kept byte for byte */
			continue;
		}
		ours++;
		if (!zw_rdata_equal(&t->rr.rd[i], &want, r->type)) {
			add_reasons(t->reasons, found);
			changed = 1;
		}
		remove_rd(&t->rr, i);
	}
	if (rc == 0)
		rc = add_rd(&t->rr, &want);
	zw_rdata_clear(&want);
	if (rc)
		return rc;
	if (ours > 1)
		add_reason(t->reasons, multiple[r->claim]);
	if (!t->before)
		add_reason(t->reasons, "ZW-01");
	else if (ours == 0)
		add_reason(t->reasons, r->claim == ZW_CLAIM_SPF	    ? "SP-01"
				       : r->claim == ZW_CLAIM_DMARC ? "DM-01"
								    : "ZW-01");
	else if (changed && !t->reasons[0])
		add_reason(t->reasons, "ZW-02");
	if (t->before && t->rr.ttl != r->ttl)
		add_reason(t->reasons, "TT-02");
	t->rr.ttl = r->ttl;
	if (!whole_name || c->ds->domain->policy == ZW_POLICY_CREATE_ONLY)
		return 0;
	for (size_t i = 0; i < c->zs->n; i++) {
		const struct zw_rrset *o = &c->zs->v[i];
		if (o->type == r->type || strcmp(o->name, r->name) != 0)
			continue;
		struct target *ot = target(c, o->name, o->type);
		if (!ot)
			return ZW_ENOMEM;
		while (ot->rr.nrd)
			remove_rd(&ot->rr, 0);
		add_reason(ot->reasons, "CN-01");
		ot->loc = r->loc;
	}
	return 0;
}

/* NM-01: every rrset at a desired name's apex-doubled twin. */
static int mistakes(struct ctx *c)
{
	const struct zw_domain *d = c->ds->domain;
	int delete =
		d->policy == ZW_POLICY_SYNC || (c->opts->fix_mistakes && d->policy != ZW_POLICY_CREATE_ONLY);
	for (size_t k = 0; k < c->ds->n; k++) {
		const struct zw_record *r = &c->ds->v[k];
		char twin[2 * ZW_NAME_MAX + 8];
		snprintf(twin, sizeof(twin), "%s%s", r->name, d->apex);
		for (size_t i = 0; i < c->zs->n; i++) {
			const struct zw_rrset *o = &c->zs->v[i];
			if (strcmp(o->name, twin) != 0)
				continue;
			/* the desired record is missing because it was written at the twin */
			struct target *want = target(c, r->name, r->type);
			if (!want)
				return ZW_ENOMEM;
			if (!want->before) {
				remove_reason(want->reasons, "ZW-01");
				add_reason(want->reasons, "NM-01");
			}
			if (!delete) {
				struct zw_finding *f = zw_findings_add(
					&c->plan->notes, "NM-01", -1,
					"%s has the apex twice; it duplicates %s and is left in place: "
					"nothing "
					"proves it is ours (rerun with --fix-mistakes, or policy: sync)",
					twin, r->name);
				char ty[16];
				snprintf(ty, sizeof(ty), "%s",
					 o->type == TYPE_TXT	 ? "TXT"
					 : o->type == TYPE_CNAME ? "CNAME"
								 : "RR");
				if (!f || zw_finding_setf(f, ZW_F_FIX, "delete %s %s", twin, ty) ||
				    zw_findings_context(&c->plan->notes, c->plan->notes.n - 1, d->domain,
							twin, ty, NULL, &r->loc))
					return ZW_ENOMEM;
				continue;
			}
			struct target *t = target(c, o->name, o->type);
			if (!t)
				return ZW_ENOMEM;
			while (t->rr.nrd)
				remove_rd(&t->rr, 0);
			t->mistake = 1;
			t->loc = r->loc;
			add_reason(t->reasons, "NM-01");
		}
	}
	return 0;
}

/* The ownership record value of one (type, value). */
static int owner_value(struct zw_buf *out, const char *owner, uint16_t type, const struct zw_rdata *rd)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	const char *data = type == TYPE_TXT ? rd->txt.data : rd->text;
	size_t len = type == TYPE_TXT ? rd->txt.len : strlen(rd->text);
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		return ZW_ENOMEM;
	int rc = zw_buf_addf(out, "zonewarden-owner=%s; type=%s; sha256=", owner,
			     type == TYPE_TXT	  ? "TXT"
			     : type == TYPE_CNAME ? "CNAME"
						  : "RR");
	for (unsigned i = 0; rc == 0 && i < mdlen; i++)
		rc = zw_buf_addf(out, "%02x", md[i]);
	return rc;
}

/* Does the ownership rrset of `name` hold this owner's record for (type, value)? */
static int owned(const struct zw_zonestate *zs, const char *owner, const char *name, uint16_t type,
		 const struct zw_rdata *rd, int *yes)
{
	char oname[ZW_NAME_MAX + 32];
	struct zw_buf v = ZW_BUF_INIT;
	*yes = 0;
	snprintf(oname, sizeof(oname), "%s%s", ZW_OWNER_PREFIX, name);
	const struct zw_rrset *o = zw_zonestate_find(zs, oname, TYPE_TXT);
	if (!o)
		return 0;
	int rc = owner_value(&v, owner, type, rd);
	for (size_t i = 0; rc == 0 && i < o->nrd && !*yes; i++)
		*yes = o->rd[i].txt.len == v.len && memcmp(o->rd[i].txt.data, v.p, v.len) == 0;
	zw_buf_free(&v);
	return rc;
}

static int is_desired(const struct zw_desired *ds, const char *name, uint16_t type, const struct zw_rdata *rd)
{
	for (size_t k = 0; k < ds->n; k++) {
		struct zw_rdata d = {0};
		const struct zw_record *r = &ds->v[k];
		if (r->type != type || strcmp(r->name, name) != 0)
			continue;
		if (type == TYPE_TXT)
			d.txt = r->txt;
		else
			d.text = r->target;
		if (zw_rdata_equal(&d, rd, type))
			return 1;
	}
	return 0;
}

/* policy: sync: values an ownership record proves we wrote, no longer claimed, go. */
static int sync_deletions(struct ctx *c)
{
	if (c->ds->domain->policy != ZW_POLICY_SYNC)
		return 0;
	for (size_t i = 0; i < c->zs->n; i++) {
		const struct zw_rrset *o = &c->zs->v[i];
		if (strncmp(o->name, ZW_OWNER_PREFIX, strlen(ZW_OWNER_PREFIX)) == 0)
			continue;
		for (size_t k = 0; k < o->nrd; k++) {
			int yes = 0;
			int rc = owned(c->zs, c->opts->owner_id, o->name, o->type, &o->rd[k], &yes);
			if (rc)
				return rc;
			if (!yes || is_desired(c->ds, o->name, o->type, &o->rd[k]))
				continue;
			struct target *t = target(c, o->name, o->type);
			if (!t)
				return ZW_ENOMEM;
			for (size_t j = 0; j < t->rr.nrd; j++)
				if (zw_rdata_equal(&t->rr.rd[j], &o->rd[k], o->type)) {
					remove_rd(&t->rr, j);
					add_reason(t->reasons, "ZW-03");
					break;
				}
		}
	}
	return 0;
}

/* Ownership records: for every claimed name, ours list exactly our values there. */
static int bookkeeping(struct ctx *c)
{
	size_t nclaims = c->nt;
	for (size_t i = 0; i < nclaims; i++) {
		/* copy what we need: target() may move c->t */
		char name[ZW_NAME_MAX + 2];
		uint16_t type = c->t[i].rr.type;
		snprintf(name, sizeof(name), "%s", c->t[i].rr.name);
		if (c->t[i].mistake || strncmp(name, ZW_OWNER_PREFIX, strlen(ZW_OWNER_PREFIX)) == 0)
			continue;
		char oname[ZW_NAME_MAX + 32];
		snprintf(oname, sizeof(oname), "%s%s", ZW_OWNER_PREFIX, name);
		struct target *ot = target(c, oname, TYPE_TXT);
		if (!ot)
			return ZW_ENOMEM;
		ot->bookkeeping = 1;
		const struct target *t = &c->t[i];
		/* drop our records of this type that no longer match a value there */
		struct zw_buf prefix = ZW_BUF_INIT;
		int rc = zw_buf_addf(&prefix, "zonewarden-owner=%s; type=%s; ", c->opts->owner_id,
				     type == TYPE_TXT	  ? "TXT"
				     : type == TYPE_CNAME ? "CNAME"
							  : "RR");
		for (size_t j = 0; rc == 0 && j < ot->rr.nrd;) {
			const struct zw_txt *v = &ot->rr.rd[j].txt;
			int mine = v->len >= prefix.len && memcmp(v->data, prefix.p, prefix.len) == 0;
			int keep = !mine;
			for (size_t k = 0; mine && k < t->rr.nrd && !keep; k++) {
				struct zw_buf want = ZW_BUF_INIT;
				rc = owner_value(&want, c->opts->owner_id, type, &t->rr.rd[k]);
				keep = rc == 0 && want.len == v->len &&
				       memcmp(want.p, v->data, v->len) == 0 &&
				       is_desired(c->ds, name, type, &t->rr.rd[k]);
				zw_buf_free(&want);
			}
			if (keep)
				j++;
			else
				remove_rd(&ot->rr, j);
		}
		/* and add one for each claimed value */
		for (size_t k = 0; rc == 0 && k < t->rr.nrd; k++) {
			if (!is_desired(c->ds, name, type, &t->rr.rd[k]))
				continue;
			struct zw_buf want = ZW_BUF_INIT;
			struct zw_rdata rd = {0};
			rc = owner_value(&want, c->opts->owner_id, type, &t->rr.rd[k]);
			if (rc == 0)
				rc = zw_txt_from_value(&rd.txt, want.p, want.len);
			if (rc == 0)
				rc = add_rd(&ot->rr, &rd);
			zw_rdata_clear(&rd);
			zw_buf_free(&want);
		}
		zw_buf_free(&prefix);
		if (rc)
			return rc;
		ot->rr.ttl = c->ds->domain->ttl;
	}
	return 0;
}

static int rrset_equal(const struct zw_rrset *a, const struct zw_rrset *b)
{
	if (a->nrd != b->nrd || a->ttl != b->ttl)
		return 0;
	for (size_t i = 0; i < a->nrd; i++) {
		size_t j = 0;
		while (j < b->nrd && !zw_rdata_equal(&a->rd[i], &b->rd[j], a->type))
			j++;
		if (j == b->nrd)
			return 0;
	}
	return 1;
}

/* Records of `before` that `after` no longer holds (deleted or replaced). */
static size_t removed(const struct zw_rrset *before, const struct zw_rrset *after)
{
	size_t n = 0;
	for (size_t i = 0; before && i < before->nrd; i++) {
		size_t j = 0;
		while (j < after->nrd && !zw_rdata_equal(&before->rd[i], &after->rd[j], before->type))
			j++;
		n += j == after->nrd;
	}
	return n;
}

/* Turn the targets into changes. */
static int diff(struct ctx *c)
{
	struct zw_plan *p = c->plan;
	for (size_t i = 0; i < c->zs->n; i++)
		if (strncmp(c->zs->v[i].name, ZW_OWNER_PREFIX, strlen(ZW_OWNER_PREFIX)) != 0)
			p->zone_records += c->zs->v[i].nrd;
	if (c->nt && !(p->v = zw_calloc(c->nt, sizeof(*p->v))))
		return ZW_ENOMEM;
	for (size_t i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		if (t->before ? rrset_equal(&t->rr, t->before) : t->rr.nrd == 0)
			continue;
		struct zw_change *ch = &p->v[p->n];
		ch->op = !t->before ? ZW_OP_CREATE : t->rr.nrd ? ZW_OP_UPDATE : ZW_OP_DELETE;
		if (t->before && zw_rrset_copy(&ch->before, t->before))
			return ZW_ENOMEM;
		if (ch->op != ZW_OP_DELETE) {
			ch->after = t->rr; /* moved */
			memset(&t->rr, 0, sizeof(t->rr));
		}
		snprintf(ch->reasons, sizeof(ch->reasons), "%s", t->reasons);
		ch->mistake = t->mistake;
		ch->visible = ch->servers = -1;
		ch->bookkeeping = t->bookkeeping;
		ch->loc = t->loc;
		static const struct zw_rrset nothing = {0};
		if (!t->bookkeeping)
			p->touched += removed(t->before, ch->op == ZW_OP_DELETE ? &nothing : &ch->after);
		if ((ch->before.name && strcmp(ch->before.name, c->zs->zone) == 0 &&
		     (ch->before.type == TYPE_NS || ch->before.type == TYPE_SOA))) {
			p->refused = 1;
			snprintf(p->refusal, sizeof(p->refusal), "the plan touches the apex %s",
				 ch->before.type == TYPE_NS ? "NS" : "SOA");
		}
		p->n++;
	}
	if (!p->refused && p->touched * 100 > (size_t)ZW_SAFETY_PERCENT * p->zone_records) {
		p->refused = 1;
		snprintf(p->refusal, sizeof(p->refusal),
			 "the plan deletes or replaces %zu of the zone's %zu records (over %d %%)",
			 p->touched, p->zone_records, ZW_SAFETY_PERCENT);
	}
	if (p->refused && c->opts->force) {
		p->refused = 0;
		p->refusal[0] = '\0';
	}
	return 0;
}

int zw_plan_build(struct zw_plan *out, const struct zw_desired *ds, const struct zw_zonestate *zs,
		  const struct zw_plan_opts *opts, struct zw_error *err)
{
	struct ctx c = {ds, zs, opts, out, NULL, 0, err};
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!(out->domain = zw_strdup(ds->domain->domain)))
		rc = ZW_ENOMEM;
	for (size_t i = 0; rc == 0 && i < ds->n; i++)
		rc = claim(&c, &ds->v[i]);
	if (rc == 0)
		rc = mistakes(&c);
	if (rc == 0)
		rc = sync_deletions(&c);
	if (rc == 0)
		rc = bookkeeping(&c);
	if (rc == 0)
		rc = diff(&c);
	for (size_t i = 0; i < c.nt; i++)
		zw_rrset_clear(&c.t[i].rr);
	zw_free(c.t);
	if (rc) {
		zw_plan_free(out);
		return rc == ZW_ENOMEM ? zw_error_set(err, rc, "out of memory while planning") : rc;
	}
	return 0;
}

void zw_plan_free(struct zw_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		zw_rrset_clear(&p->v[i].before);
		zw_rrset_clear(&p->v[i].after);
		zw_free(p->v[i].message);
	}
	zw_free(p->v);
	zw_free(p->domain);
	zw_free(p->zone);
	zw_free(p->zone_id);
	zw_free(p->error);
	zw_findings_free(&p->notes);
	memset(p, 0, sizeof(*p));
}

/* ---- the checksum ---------------------------------------------------------------------- */

static int json_string(struct zw_buf *b, const char *s, size_t len)
{
	int rc = zw_buf_addc(b, '"');
	for (size_t i = 0; rc == 0 && i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			rc = zw_buf_addf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			rc = zw_buf_addf(b, "\\u%04x", ch); /* a byte, never a code point */
		else
			rc = zw_buf_addc(b, (char)ch);
	}
	return rc ? rc : zw_buf_addc(b, '"');
}

static int json_rrset(struct zw_buf *b, const struct zw_rrset *r)
{
	if (!r->name)
		return zw_buf_adds(b, "null");
	int rc = zw_buf_addf(b, "{\"ttl\":%u,\"values\":[", r->ttl);
	for (size_t i = 0; rc == 0 && i < r->nrd; i++) {
		const struct zw_rdata *rd = &r->rd[i];
		rc = zw_buf_adds(b, i ? ",[" : "[");
		if (r->type == TYPE_TXT || r->type == 99) {
			size_t off = 0;
			for (size_t k = 0; rc == 0 && k < rd->txt.n; k++) {
				rc = (k ? zw_buf_addc(b, ',') : 0) ||
				     json_string(b, rd->txt.data + off, rd->txt.lens[k]);
				off += rd->txt.lens[k];
			}
		} else {
			rc = json_string(b, rd->text, strlen(rd->text));
		}
		if (rc == 0)
			rc = zw_buf_addc(b, ']');
	}
	return rc ? rc : zw_buf_adds(b, "]}");
}

static int cmp_change(const void *a, const void *b)
{
	const struct zw_change *x = *(const struct zw_change *const *)a,
			       *y = *(const struct zw_change *const *)b;
	const char *nx = x->after.name ? x->after.name : x->before.name;
	const char *ny = y->after.name ? y->after.name : y->before.name;
	int c = strcmp(nx, ny);
	if (c)
		return c;
	uint16_t tx = x->after.name ? x->after.type : x->before.type;
	uint16_t ty = y->after.name ? y->after.type : y->before.type;
	return tx != ty ? (tx < ty ? -1 : 1) : (int)x->op - (int)y->op;
}

int zw_plan_canonical_json(struct zw_buf *out, const struct zw_plan *plans, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += plans[i].n;
	const struct zw_change **v = zw_calloc(total + 1, sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < plans[i].n; j++)
			v[k++] = &plans[i].v[j];
	qsort(v, total, sizeof(*v), cmp_change);
	int rc = zw_buf_addc(out, '[');
	for (size_t i = 0; rc == 0 && i < total; i++) {
		const struct zw_change *ch = v[i];
		const struct zw_rrset *id = ch->after.name ? &ch->after : &ch->before;
		rc = zw_buf_addf(out, "%s{\"op\":\"%s\",\"name\":", i ? "," : "", zw_op_name(ch->op));
		if (rc == 0)
			rc = json_string(out, id->name, strlen(id->name));
		if (rc == 0)
			rc = zw_buf_addf(out, ",\"type\":%u,\"before\":", id->type);
		if (rc == 0)
			rc = json_rrset(out, &ch->before);
		if (rc == 0)
			rc = zw_buf_adds(out, ",\"after\":");
		if (rc == 0)
			rc = json_rrset(out, &ch->after);
		if (rc == 0)
			rc = zw_buf_addc(out, '}');
	}
	if (rc == 0)
		rc = zw_buf_addc(out, ']');
	zw_free(v);
	return rc;
}

int zw_plan_checksum(char out[65], const struct zw_plan *plans, size_t n, struct zw_error *err)
{
	struct zw_buf b = ZW_BUF_INIT;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int rc = zw_plan_canonical_json(&b, plans, n);
	if (rc == 0 && !EVP_Digest(zw_buf_str(&b), b.len, md, &mdlen, EVP_sha256(), NULL))
		rc = ZW_ENOMEM;
	zw_buf_free(&b);
	if (rc)
		return zw_error_set(err, rc, "cannot compute the plan checksum");
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
