/*
 * desired.c - build the records a MailDomain claims (see desired.h).
 *
 * Canonical SPF term order: v=spf1, ip4, ip6, a, mx, include, exists, then all or
 * redirect; free terms first so that a receiver stops early, lookups after. DMARC tag
 * order: v, p, sp, np, pct, adkim, aspf, fo, rua, ruf, t. DKIM: v, k, t, p.
 * Owns: every record, name and value in struct zw_desired.
 */
#include "reconcile/desired.h"

#include <stdio.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/names.h"

struct builder {
	struct zw_buf value;
	struct zw_span *spans;
	size_t nspans;
	int rc;
};

static void term(struct builder *b, const struct zw_loc *loc, const char *fmt, const char *arg)
{
	if (b->rc)
		return;
	if (loc) {
		struct zw_span *s = zw_realloc(b->spans, (b->nspans + 1) * sizeof(*s));
		if (!s) {
			b->rc = ZW_ENOMEM;
			return;
		}
		b->spans = s;
		s[b->nspans].off = b->value.len + (b->value.len ? 1 : 0);
		s[b->nspans++].loc = *loc;
	}
	if (b->value.len && zw_buf_addc(&b->value, ' '))
		b->rc = ZW_ENOMEM;
	else if (zw_buf_addf(&b->value, fmt, arg))
		b->rc = ZW_ENOMEM;
}

static void terms(struct builder *b, const struct zw_strlist *l, const char *fmt)
{
	for (size_t i = 0; i < l->n; i++)
		term(b, &l->loc[i], fmt, l->v[i]);
}

static struct zw_record *add_record(struct zw_desired *ds, const char *name, uint16_t type, uint32_t ttl,
				    enum zw_claim claim, const struct zw_loc *loc)
{
	struct zw_record *v = zw_realloc(ds->v, (ds->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	ds->v = v;
	struct zw_record *r = &ds->v[ds->n];
	memset(r, 0, sizeof(*r));
	if (!(r->name = zw_strdup(name)))
		return NULL;
	ds->n++;
	r->type = type;
	r->ttl = ttl;
	r->claim = claim;
	r->loc = *loc;
	return r;
}

static int add_txt(struct zw_desired *ds, const char *name, enum zw_claim claim, const struct zw_loc *loc,
		   struct builder *b)
{
	if (b->rc)
		return b->rc;
	struct zw_record *r = add_record(ds, name, ZW_TYPE_TXT, ds->domain->ttl, claim, loc);
	if (!r)
		return ZW_ENOMEM;
	r->spans = b->spans;
	r->nspans = b->nspans;
	b->spans = NULL;
	b->nspans = 0;
	return zw_txt_from_value(&r->txt, zw_buf_str(&b->value), b->value.len);
}

static int build_spf(struct zw_desired *ds, const struct zw_domain *d)
{
	const struct zw_spf_spec *s = &d->spf;
	struct builder b = {ZW_BUF_INIT, NULL, 0, 0};
	static const struct {
		const char *word, *qual;
	} alls[] = {{"fail", "-all"}, {"softfail", "~all"}, {"neutral", "?all"}};

	term(&b, &s->loc, "%s", "v=spf1");
	terms(&b, &s->ip4, "ip4:%s");
	terms(&b, &s->ip6, "ip6:%s");
	if (s->a)
		term(&b, &s->a_loc, "%s", "a");
	terms(&b, &s->a_names, "a:%s");
	if (s->mx)
		term(&b, &s->mx_loc, "%s", "mx");
	terms(&b, &s->mx_names, "mx:%s");
	terms(&b, &s->include, "include:%s");
	terms(&b, &s->exists, "exists:%s");
	for (size_t i = 0; s->all && i < sizeof(alls) / sizeof(alls[0]); i++)
		if (strcmp(s->all, alls[i].word) == 0)
			term(&b, &s->all_loc, "%s", alls[i].qual);
	if (s->redirect)
		term(&b, &s->redirect_loc, "redirect=%s", s->redirect);
	int rc = add_txt(ds, d->apex, ZW_CLAIM_SPF, &s->loc, &b);
	zw_buf_free(&b.value);
	zw_free(b.spans);
	return rc;
}

static int build_dmarc(struct zw_desired *ds, const struct zw_domain *d)
{
	const struct zw_dmarc_spec *m = &d->dmarc;
	struct zw_buf v = ZW_BUF_INIT;
	char name[ZW_NAME_MAX + 16];
	int rc = 0;
	snprintf(name, sizeof(name), "_dmarc.%s", d->apex);

	rc |= zw_buf_adds(&v, "v=DMARC1");
	if (m->policy)
		rc |= zw_buf_addf(&v, "; p=%s", m->policy);
	if (m->subdomain_policy)
		rc |= zw_buf_addf(&v, "; sp=%s", m->subdomain_policy);
	if (m->nonexistent_policy)
		rc |= zw_buf_addf(&v, "; np=%s", m->nonexistent_policy);
	if (m->percent >= 0)
		rc |= zw_buf_addf(&v, "; pct=%d", m->percent);
	if (m->align_dkim)
		rc |= zw_buf_addf(&v, "; adkim=%c", m->align_dkim[0] == 's' ? 's' : 'r');
	if (m->align_spf)
		rc |= zw_buf_addf(&v, "; aspf=%c", m->align_spf[0] == 's' ? 's' : 'r');
	if (m->failure_options)
		rc |= zw_buf_addf(&v, "; fo=%s", m->failure_options);
	const struct zw_strlist *lists[] = {&m->rua, &m->ruf};
	const char *tags[] = {"rua", "ruf"};
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < lists[k]->n; i++) {
			rc |= i ? zw_buf_addc(&v, ',') : zw_buf_addf(&v, "; %s=", tags[k]);
			rc |= zw_buf_adds(&v, lists[k]->v[i]);
		}
	}
	if (m->testing)
		rc |= zw_buf_adds(&v, "; t=y");
	if (rc == 0) {
		struct zw_record *r = add_record(ds, name, ZW_TYPE_TXT, d->ttl, ZW_CLAIM_DMARC, &m->loc);
		rc = r ? zw_txt_from_value(&r->txt, zw_buf_str(&v), v.len) : ZW_ENOMEM;
	}
	zw_buf_free(&v);
	return rc ? ZW_ENOMEM : 0;
}

static int build_dkim(struct zw_desired *ds, const struct zw_domain *d, const struct zw_dkim_spec *k)
{
	char name[ZW_NAME_MAX + 32];
	snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector, d->apex);
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (k->expect_absent)
		return 0;
	if (k->cname) {
		struct zw_record *r = add_record(ds, name, ZW_TYPE_CNAME, d->ttl, ZW_CLAIM_DKIM, &k->loc);
		if (!r || !(r->target = zw_strdup(k->cname)))
			return ZW_ENOMEM;
		r->selector = k->selector;
		return 0;
	}
	struct zw_buf v = ZW_BUF_INIT;
	int rc = zw_buf_addf(&v, "v=DKIM1; k=%s", k->key_type);
	if (k->testing)
		rc |= zw_buf_adds(&v, "; t=y");
	rc |= zw_buf_addf(&v, "; p=%s", k->revoked ? "" : k->public_key);
	if (rc == 0) {
		struct zw_record *r = add_record(ds, name, ZW_TYPE_TXT, d->ttl, ZW_CLAIM_DKIM, &k->loc);
		rc = r ? zw_txt_from_value(&r->txt, zw_buf_str(&v), v.len) : ZW_ENOMEM;
		if (r)
			r->selector = k->selector;
	}
	zw_buf_free(&v);
	return rc ? ZW_ENOMEM : 0;
}

int zw_desired_build(struct zw_desired *out, const struct zw_domain *d, struct zw_error *err)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	out->domain = d;
	if (d->spf.present)
		rc = build_spf(out, d);
	if (rc == 0 && d->dmarc.present)
		rc = build_dmarc(out, d);
	for (size_t i = 0; rc == 0 && i < d->ndkim; i++)
		rc = build_dkim(out, d, &d->dkim[i]);
	for (size_t i = 0; rc == 0 && i < d->ncnames; i++) {
		const struct zw_cname_spec *c = &d->cnames[i];
		struct zw_record *r =
			add_record(out, c->name, ZW_TYPE_CNAME, d->ttl, ZW_CLAIM_CNAME, &c->loc);
		if (!r || !(r->target = zw_strdup(c->target)))
			rc = ZW_ENOMEM;
	}
	if (rc) {
		zw_desired_free(out);
		return zw_error_set(err, rc, "out of memory building the desired records");
	}
	return 0;
}

void zw_desired_free(struct zw_desired *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->n; i++) {
		zw_free(ds->v[i].name);
		zw_free(ds->v[i].target);
		zw_free(ds->v[i].spans);
		zw_txt_free(&ds->v[i].txt);
	}
	zw_free(ds->v);
	ds->v = NULL;
	ds->n = 0;
}

struct zw_loc zw_record_loc_at(const struct zw_record *r, long off)
{
	struct zw_loc loc = r->loc;
	for (size_t i = 0; off >= 0 && i < r->nspans; i++)
		if ((size_t)off >= r->spans[i].off)
			loc = r->spans[i].loc;
	return loc;
}

const char *zw_type_name(uint16_t type)
{
	return type == ZW_TYPE_TXT ? "TXT" : type == ZW_TYPE_CNAME ? "CNAME" : "?";
}

const char *zw_claim_name(enum zw_claim c)
{
	static const char *const names[] = {"spf", "dmarc", "dkim", "cname"};
	return names[c];
}
