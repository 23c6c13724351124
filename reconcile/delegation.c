/*
 * delegation.c - the delegation, consistency and drift diagnosis of one domain (see
 * delegation.h).
 *
 * Owns: the claims (name, type, the desired record borrowed from ds, the doubled probe
 * name), the question list handed to the observation, and the provider-view lookups.
 * Reads the observation, never changes it.
 *
 * Invariants: claims are unique by (name, type) and canonical (lower case, trailing
 * dot); questions[0..nc) are the claims in order, the probes follow; the provider view
 * moves PV_IDLE → PV_ADDRS → PV_QUERIES → PV_DONE and never back; pv_ans has one slot
 * per (provider server, claim), NULL when that query could not be submitted.
 *
 * Decisions where the catalogue leaves room (docs in delegation.h, the report):
 *  - DL-01 needs parent NS ∩ provider NS = ∅ (§B.5 step 2); a partial overlap is left to
 *    DL-02/DL-05/CS-01, which name the servers that differ.
 *  - "No working NS": when no delegated server answers SOA authoritatively, every DL-05,
 *    DL-06 and DL-07 of the domain is raised to CRITICAL (Zonemaster B02_NO_WORKING_NS).
 *  - DL-08 follows the catalogue: fewer than two NS names (parent or child), or every
 *    delegated address the same IP.
 *  - DL-14: a glue address the authoritative data does not confirm (an extra address at
 *    the child is Zonemaster's EXTRA_ADDRESS_CHILD, a NOTICE we do not report).
 *  - A TXT value is ours when it has the claimed role (after the stray-character
 *    normalisation); an exact match wins; other values of the role are SP-02/DM-02/DK-14
 *    (zw_inspect_owner); values of another role are foreign (ZW-03).
 */
#include "reconcile/delegation.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/names.h"
#include "reconcile/role.h"
#include "reconcile/stray.h"

#define T_SOA  6
#define T_NS   2
#define T_A    1
#define T_AAAA 28

struct claim {
	char *name;
	uint16_t type;
	const struct zw_record *rec; /* desired record; NULL in --domain mode */
	char *doubled;		     /* `<name><apex>`, or NULL when too long */
};

enum pv_state { PV_IDLE, PV_ADDRS, PV_QUERIES, PV_DONE };

struct pv_server {
	const char *name; /* borrowed from ds */
	struct zw_dns_addr addr;
};

struct zw_deleg {
	char *domain; /* "example.com" */
	char *apex;   /* "example.com." */
	const struct zw_desired *ds;
	struct claim *c;
	size_t nc;
	struct zw_question *qs;
	size_t nq;
	/* the provider view */
	enum pv_state pv;
	int pv_active;		    /* parent NS ∩ provider NS = ∅: DL-01 */
	struct zw_lookup **pv_addr; /* 2 per provider NS name: A, AAAA */
	struct pv_server *ps;
	size_t nps;
	struct zw_lookup **pv_ans; /* nps * nc */
	/* NM-01 when the domain is a name inside its zone: `<name><zone>` asked of one server */
	int stepped;
	char **zdoubled;       /* nc, NULL where it does not fit or is the apex-doubled name */
	struct zw_lookup **zp; /* nc */
};

/* ---- small helpers ---- */

void zw_deleg_server_label(char *out, size_t outsz, const char *name, const struct zw_dns_addr *addr)
{
	char as[ZW_DNS_ADDR_STRLEN];
	size_t n = name ? strlen(name) : 0;
	zw_dns_addr_format(as, sizeof(as), addr);
	if (n > 1 && name[n - 1] == '.')
		n--;
	snprintf(out, outsz, "%.*s/%s", (int)n, name ? name : "", as);
}

static const char *type_str(uint16_t t)
{
	static const struct {
		uint16_t t;
		const char *s;
	} names[] = {{1, "A"},	 {2, "NS"},   {5, "CNAME"}, {6, "SOA"},
		     {15, "MX"}, {16, "TXT"}, {28, "AAAA"}, {99, "SPF"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].s;
	return "TYPE?";
}

/* A name list for people: "ns1.a.test, ns2.a.test" (no trailing dots). */
static int add_names(struct zw_buf *b, char *const *v, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t l = strlen(v[i]);
		rc = zw_buf_addf(b, "%s%.*s", i ? ", " : "", (int)(l > 1 && v[i][l - 1] == '.' ? l - 1 : l),
				 v[i]);
	}
	if (rc == 0 && n == 0)
		rc = zw_buf_adds(b, "(none)");
	return rc;
}

static int contains(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

void zw_deleg_name_decode(char *out, size_t outsz, const char *pres)
{
	size_t o = 0;
	if (outsz == 0)
		return;
	for (const char *p = pres; *p && o + 1 < outsz; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\\' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' && p[3] >= '0' &&
		    p[3] <= '9') {
			int v = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
			ch = (unsigned char)(v > 255 ? '?' : v);
			p += 3;
		} else if (ch == '\\' && p[1]) {
			ch = (unsigned char)*++p;
		}
		out[o++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	out[o] = '\0';
}

int zw_deleg_answer_authoritative(const struct zw_obs_answer *a)
{
	return a && a->status == ZW_DNS_OK && a->aa &&
	       (a->kind == ZW_OBS_DATA || a->kind == ZW_OBS_NODATA || a->kind == ZW_OBS_NXDOMAIN ||
		a->kind == ZW_OBS_CNAME);
}

static int rr_same(const struct zw_rr *x, const struct zw_rr *y)
{
	if (x->type != y->type)
		return 0;
	if (x->type == ZW_TYPE_TXT || x->type == 99)
		return zw_txt_equal(&x->txt, &y->txt);
	return strcmp(x->text ? x->text : "", y->text ? y->text : "") == 0;
}

int zw_deleg_answer_same(const struct zw_obs_answer *a, const struct zw_obs_answer *b)
{
	if (a->kind != b->kind || a->n_rrs != b->n_rrs || a->n_cnames != b->n_cnames)
		return 0;
	if (a->kind == ZW_OBS_RCODE && a->rcode != b->rcode)
		return 0;
	for (size_t i = 0; i < a->n_cnames; i++)
		if (!rr_same(&a->cnames[i], &b->cnames[i]))
			return 0;
	for (size_t i = 0; i < a->n_rrs; i++)
		if (!rr_same(&a->rrs[i], &b->rrs[i]))
			return 0;
	return 1;
}

const struct zw_obs_question *zw_deleg_find_question(const struct zw_obs *o, const char *name, uint16_t type)
{
	for (size_t i = 0; o && i < o->n_questions; i++)
		if (o->questions[i].type == type && strcmp(o->questions[i].name, name) == 0)
			return &o->questions[i];
	return NULL;
}

/* What an answer says, in a few words, for messages. */
static int describe(struct zw_buf *b, const struct zw_obs_answer *a, uint16_t type)
{
	int rc = 0;
	switch (a->kind) {
	case ZW_OBS_DATA:
		for (size_t i = 0; i < a->n_rrs && rc == 0; i++) {
			if (a->rrs[i].type == ZW_TYPE_TXT)
				rc = zw_txt_print_presentation(b, &a->rrs[i].txt);
			else
				rc = zw_buf_adds(b, a->rrs[i].text ? a->rrs[i].text : "?");
			if (rc == 0 && i + 1 < a->n_rrs)
				rc = zw_buf_adds(b, " | ");
		}
		return rc;
	case ZW_OBS_NODATA: return zw_buf_addf(b, "no %s record (NODATA)", type_str(type));
	case ZW_OBS_NXDOMAIN: return zw_buf_adds(b, "NXDOMAIN");
	case ZW_OBS_CNAME:
		return zw_buf_addf(b, "CNAME to %s", a->n_cnames ? a->cnames[a->n_cnames - 1].target : "?");
	case ZW_OBS_REFERRAL:
		return zw_buf_addf(b, "a referral to %s", a->referral_zone ? a->referral_zone : "?");
	case ZW_OBS_RCODE: return zw_buf_adds(b, zw_rcode_name(a->rcode));
	case ZW_OBS_FAILED: break;
	}
	return zw_buf_addf(b, "no answer (%s%s%s)", zw_dns_status_name(a->status), a->reason ? ": " : "",
			   a->reason ? a->reason : "");
}

/* ---- the object ---- */

static int canon(char **out, const char *name, struct zw_error *err)
{
	int rc = zw_name_canonical(out, name, err);
	return rc;
}

static int add_claim(struct zw_deleg *d, const char *name, uint16_t type, const struct zw_record *rec,
		     struct zw_error *err)
{
	char *n = NULL;
	int rc = canon(&n, name, err);
	if (rc < 0)
		return rc == ZW_EINVAL ? rc : zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->nc; i++)
		if (d->c[i].type == type && strcmp(d->c[i].name, n) == 0) {
			zw_free(n);
			return 0;
		}
	struct claim *v = zw_realloc(d->c, (d->nc + 1) * sizeof(*v));
	if (!v) {
		zw_free(n);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	d->c = v;
	struct claim *c = &d->c[d->nc++];
	memset(c, 0, sizeof(*c));
	c->name = n;
	c->type = type;
	c->rec = rec;
	size_t ln = strlen(n), la = strlen(d->apex);
	if (ln + la - 1 <= ZW_NAME_MAX) { /* the doubled name still fits (253 + its dot) */
		if (!(c->doubled = zw_malloc(ln + la + 1)))
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		memcpy(c->doubled, n, ln);
		memcpy(c->doubled + ln, d->apex, la + 1);
	}
	return 0;
}

static int add_question(struct zw_deleg *d, const char *name, uint16_t type)
{
	for (size_t i = 0; i < d->nq; i++)
		if (d->qs[i].type == type && strcmp(d->qs[i].name, name) == 0)
			return 0;
	d->qs[d->nq].name = name;
	d->qs[d->nq++].type = type;
	return 0;
}

int zw_deleg_new(struct zw_deleg **out, const char *domain, const struct zw_desired *ds,
		 const struct zw_question *names, size_t nnames, struct zw_error *err)
{
	struct zw_deleg *d = zw_calloc(1, sizeof(*d));
	int rc = 0;

	*out = NULL;
	if (!d)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	d->ds = ds;
	rc = canon(&d->apex, domain, err);
	if (rc < 0) {
		if (rc != ZW_EINVAL)
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto fail;
	}
	if (!(d->domain = zw_strndup(d->apex, strlen(d->apex) - (strlen(d->apex) > 1)))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto fail;
	}
	if (ds) {
		for (size_t i = 0; i < ds->n && rc == 0; i++)
			rc = add_claim(d, ds->v[i].name, ds->v[i].type, &ds->v[i], err);
	} else {
		for (size_t i = 0; i < nnames && rc == 0; i++)
			rc = add_claim(d, names[i].name, names[i].type, NULL, err);
	}
	if (rc < 0)
		goto fail;
	if (!(d->qs = zw_calloc(2 * d->nc + 1, sizeof(*d->qs)))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < d->nc; i++)
		add_question(d, d->c[i].name, d->c[i].type);
	for (size_t i = 0; i < d->nc; i++)
		if (d->c[i].doubled)
			add_question(d, d->c[i].doubled, d->c[i].type);
	*out = d;
	return 0;
fail:
	zw_deleg_free(d);
	return rc;
}

void zw_deleg_questions(const struct zw_deleg *d, const struct zw_question **qs, size_t *nq)
{
	*qs = d->qs;
	*nq = d->nq;
}

void zw_deleg_claims(const struct zw_deleg *d, const struct zw_question **qs, size_t *nq)
{
	*qs = d->qs; /* the claims come first, in order */
	*nq = d->nc;
}

void zw_deleg_free(struct zw_deleg *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nc; i++) {
		zw_free(d->c[i].name);
		zw_free(d->c[i].doubled);
	}
	size_t nns = d->ds ? d->ds->domain->nameservers.n : 0;
	for (size_t i = 0; d->pv_addr && i < 2 * nns; i++)
		zw_lookup_free(d->pv_addr[i]);
	for (size_t i = 0; d->pv_ans && i < d->nps * d->nc; i++)
		zw_lookup_free(d->pv_ans[i]);
	for (size_t i = 0; d->zp && i < d->nc; i++)
		zw_lookup_free(d->zp[i]);
	for (size_t i = 0; d->zdoubled && i < d->nc; i++)
		zw_free(d->zdoubled[i]);
	zw_free(d->zp);
	zw_free(d->zdoubled);
	zw_free(d->pv_addr);
	zw_free(d->pv_ans);
	zw_free(d->ps);
	zw_free(d->c);
	zw_free(d->qs);
	zw_free(d->apex);
	zw_free(d->domain);
	zw_free(d);
}

/* ---- the provider view: rounds of lookups ---- */

static const struct zw_strlist *provider_ns(const struct zw_deleg *d)
{
	return d->ds && d->ds->domain && d->ds->domain->nameservers.n ? &d->ds->domain->nameservers : NULL;
}

static int pv_wanted(const struct zw_deleg *d, const struct zw_obs *obs)
{
	const struct zw_strlist *pns = provider_ns(d);
	if (!pns || !obs || obs->delegation != ZW_DELEG_DELEGATED || obs->n_parent_ns == 0)
		return 0;
	for (size_t i = 0; i < pns->n; i++)
		if (contains(obs->parent_ns, obs->n_parent_ns, pns->v[i]))
			return 0;
	return 1;
}

static int pv_add_server(struct zw_deleg *d, const char *name, const struct zw_dns_addr *a)
{
	for (size_t i = 0; i < d->nps; i++)
		if (zw_dns_addr_cmp(&d->ps[i].addr, a) == 0)
			return 0;
	struct pv_server *v = zw_realloc(d->ps, (d->nps + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	d->ps = v;
	d->ps[d->nps].name = name;
	d->ps[d->nps++].addr = *a;
	return 0;
}

/* The domain is a name inside its zone (mail.example.com in example.com): a console that
 * appends the zone makes `<name><zone>`, which the observation did not ask. Ask it of the
 * first server that answers SOA authoritatively. 1 when something was submitted. */
static int zone_probes(struct zw_deleg *d, struct zw_resolver *r, const struct zw_obs *obs,
		       struct zw_error *err)
{
	const struct zw_obs_server *s0 = NULL;
	if (!obs || obs->delegation != ZW_DELEG_DELEGATED || !obs->zone || strcmp(obs->zone, d->apex) == 0 ||
	    strcmp(obs->zone, ".") == 0 || d->nc == 0)
		return 0;
	for (size_t i = 0; i < obs->n_servers && !s0; i++)
		if (obs->servers[i].soa.kind == ZW_OBS_DATA && obs->servers[i].soa.aa)
			s0 = &obs->servers[i];
	if (!s0)
		return 0;
	if (!(d->zdoubled = zw_calloc(d->nc, sizeof(*d->zdoubled))) ||
	    !(d->zp = zw_calloc(d->nc, sizeof(*d->zp))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	int submitted = 0;
	size_t lz = strlen(obs->zone);
	for (size_t i = 0; i < d->nc; i++) {
		size_t ln = strlen(d->c[i].name);
		if (ln + lz - 1 > ZW_NAME_MAX)
			continue;
		if (!(d->zdoubled[i] = zw_malloc(ln + lz + 1)))
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		memcpy(d->zdoubled[i], d->c[i].name, ln);
		memcpy(d->zdoubled[i] + ln, obs->zone, lz + 1);
		int rc = zw_resolver_query(r, &d->zp[i], s0->name, &s0->addr, d->zdoubled[i], d->c[i].type,
					   err);
		if (rc < 0)
			return rc;
		submitted = 1;
	}
	return submitted;
}

static int pv_step(struct zw_deleg *d, struct zw_resolver *r, const struct zw_obs *obs, struct zw_error *err);

int zw_deleg_step(struct zw_deleg *d, struct zw_resolver *r, const struct zw_obs *obs, struct zw_error *err)
{
	int z = 0;
	if (!d->stepped) {
		d->stepped = 1;
		if ((z = zone_probes(d, r, obs, err)) < 0)
			return z;
	}
	int p = pv_step(d, r, obs, err);
	return p < 0 ? p : (p || z);
}

static int pv_step(struct zw_deleg *d, struct zw_resolver *r, const struct zw_obs *obs, struct zw_error *err)
{
	const struct zw_strlist *pns = provider_ns(d);

	switch (d->pv) {
	case PV_IDLE:
		d->pv = PV_DONE;
		if (!(d->pv_active = pv_wanted(d, obs)))
			return 0;
		if (!(d->pv_addr = zw_calloc(2 * pns->n, sizeof(*d->pv_addr))))
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		for (size_t i = 0; i < 2 * pns->n; i++) {
			int rc = zw_resolver_lookup(r, &d->pv_addr[i], pns->v[i / 2], i % 2 ? T_AAAA : T_A,
						    err);
			if (rc < 0)
				return rc;
		}
		d->pv = PV_ADDRS;
		return 1;
	case PV_ADDRS:
		d->pv = PV_DONE;
		for (size_t i = 0; i < 2 * pns->n; i++) {
			const struct zw_obs_answer *a = &d->pv_addr[i]->res.ans;
			for (size_t k = 0; a->kind == ZW_OBS_DATA && k < a->n_rrs; k++)
				if ((a->rrs[k].type == T_A || a->rrs[k].type == T_AAAA) &&
				    pv_add_server(d, pns->v[i / 2], &a->rrs[k].addr) < 0)
					return zw_error_set(err, ZW_ENOMEM, "out of memory");
		}
		if (d->nps == 0 || d->nc == 0)
			return 0;
		if (!(d->pv_ans = zw_calloc(d->nps * d->nc, sizeof(*d->pv_ans))))
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		for (size_t s = 0; s < d->nps; s++)
			for (size_t c = 0; c < d->nc; c++) {
				int rc = zw_resolver_query(r, &d->pv_ans[s * d->nc + c], d->ps[s].name,
							   &d->ps[s].addr, d->c[c].name, d->c[c].type, err);
				if (rc < 0)
					return rc;
			}
		d->pv = PV_QUERIES;
		return 1;
	case PV_QUERIES: d->pv = PV_DONE; return 0;
	case PV_DONE: break;
	}
	return 0;
}

/* ---- findings ---- */

struct dctx {
	struct zw_findings *fs;
	size_t from; /* the domain's record-level findings start here */
	struct zw_deleg *d;
	const struct zw_obs *o;
	const char *zone; /* obs->zone, else the apex */
};

/* Add a finding with its context; NULL when out of memory. */
static struct zw_finding *add(struct dctx *c, const char *id, const char *name, const char *type,
			      const char *servers, const char *msg)
{
	struct zw_finding *f = zw_findings_add(c->fs, id, -1, "%s", msg);
	if (!f)
		return NULL;
	if (zw_finding_set(f, ZW_F_DOMAIN, c->d->domain) || zw_finding_set(f, ZW_F_NAME, name) ||
	    zw_finding_set(f, ZW_F_TYPE, type) ||
	    (servers && *servers && zw_finding_set(f, ZW_F_SERVERS, servers)))
		return NULL;
	return f;
}

/* Append "name/addr" of server i of the observation, with a separator when needed. */
static int add_server_label(struct zw_buf *b, const struct zw_obs_server *s)
{
	char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
	zw_deleg_server_label(lab, sizeof(lab), s->name, &s->addr);
	return zw_buf_addf(b, "%s%s", b->len ? ";" : "", lab);
}

static int all_servers(struct zw_buf *b, const struct zw_obs *o)
{
	int rc = 0;
	for (size_t i = 0; i < o->n_servers && rc == 0; i++)
		rc = add_server_label(b, &o->servers[i]);
	return rc;
}

/* DL-11: the parent says NXDOMAIN, or no parent server could be used at all. */
static int not_delegated(struct dctx *c)
{
	const struct zw_obs *o = c->o;
	struct zw_buf msg = ZW_BUF_INIT, fix = ZW_BUF_INIT, srv = ZW_BUF_INIT;
	const struct zw_strlist *pns = provider_ns(c->d);
	int rc;

	if (o->delegation == ZW_DELEG_NXDOMAIN)
		rc = zw_buf_addf(
			&msg,
			"the parent zone %s answers NXDOMAIN for %s: the domain is not delegated "
			"(expired, on hold, or a typo); nobody can see its records (Zonemaster BASIC01/02)",
			o->parent ? o->parent : "?", o->zone ? o->zone : c->d->apex);
	else
		rc = zw_buf_addf(&msg,
				 "the delegation of %s cannot be determined: %s (Zonemaster BASIC01/02)",
				 c->d->apex, o->walk_error ? o->walk_error : "no parent server answered");
	if (rc == 0)
		rc = zw_buf_addf(&fix, "%s %s at the registrar and set its NS records",
				 o->delegation == ZW_DELEG_NXDOMAIN ? "register or renew"
								    : "check the delegation of",
				 c->d->domain);
	if (rc == 0 && pns) {
		rc = zw_buf_adds(&fix, " to ");
		if (rc == 0)
			rc = add_names(&fix, pns->v, pns->n);
		if (rc == 0)
			rc = zw_buf_adds(&fix, " (the provider's servers)");
	}
	for (size_t i = 0; rc == 0 && i < o->n_referrals; i++) {
		char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
		zw_deleg_server_label(lab, sizeof(lab), o->referrals[i].server, &o->referrals[i].addr);
		rc = zw_buf_addf(&srv, "%s%s", i ? ";" : "", lab);
	}
	/* NXDOMAIN at the parent is DL-11; a parent nobody could ask is DL-07 (unreachable),
	 * never "not delegated": that would send the user to the registrar for a network fault */
	int nx = o->delegation == ZW_DELEG_NXDOMAIN;
	struct zw_finding *f = rc ? NULL
				  : add(c, nx ? "DL-11" : "DL-07", o->zone ? o->zone : c->d->apex, "NS",
					zw_buf_str(&srv), zw_buf_str(&msg));
	if (f && !nx)
		f->sev = ZW_SEV_CRITICAL; /* no server of the domain can be tested at all */
	if (!f || zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&fix);
	zw_buf_free(&srv);
	return rc;
}

/* ZW-05: the parent's servers give different delegations (B01_INCONSISTENT_DELEGATION). */
static int parent_consistency(struct dctx *c)
{
	const struct zw_obs *o = c->o;
	const struct zw_obs_referral *first = NULL;
	int differ = 0, rc = 0;

	for (size_t i = 0; i < o->n_referrals && !differ; i++) {
		const struct zw_obs_referral *r = &o->referrals[i];
		if (r->ans.kind != ZW_OBS_REFERRAL && r->ans.kind != ZW_OBS_NXDOMAIN &&
		    r->ans.kind != ZW_OBS_DATA)
			continue;
		if (!first) {
			first = r;
			continue;
		}
		int nx1 = first->ans.kind == ZW_OBS_NXDOMAIN, nx2 = r->ans.kind == ZW_OBS_NXDOMAIN;
		if (nx1 != nx2 || first->n_ns != r->n_ns)
			differ = 1;
		for (size_t k = 0; !differ && k < r->n_ns; k++)
			differ = strcmp(first->ns[k], r->ns[k]) != 0;
	}
	if (!differ)
		return 0;
	struct zw_buf msg = ZW_BUF_INIT, srv = ZW_BUF_INIT;
	rc = zw_buf_addf(&msg,
			 "the servers of %s give different delegations for %s:", o->parent ? o->parent : "?",
			 o->zone ? o->zone : c->d->apex);
	for (size_t i = 0; i < o->n_referrals && rc == 0; i++) {
		const struct zw_obs_referral *r = &o->referrals[i];
		char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
		zw_deleg_server_label(lab, sizeof(lab), r->server, &r->addr);
		rc = zw_buf_addf(&msg, "%s %s: ", i ? ";" : "", lab);
		if (rc == 0)
			rc = r->n_ns ? add_names(&msg, r->ns, r->n_ns) : describe(&msg, &r->ans, T_NS);
		if (rc == 0)
			rc = zw_buf_addf(&srv, "%s%s", i ? ";" : "", lab);
	}
	if (rc == 0)
		rc = zw_buf_adds(&msg, " (Zonemaster BASIC01 B01_INCONSISTENT_DELEGATION)");
	struct zw_finding *f = rc ? NULL
				  : add(c, "ZW-05", o->zone ? o->zone : c->d->apex, "NS", zw_buf_str(&srv),
					zw_buf_str(&msg));
	if (!f || zw_finding_setf(f, ZW_F_FIX,
				  "the registry's servers for %s are out of sync: report it to the registry "
				  "(or the operator of %s)",
				  o->parent ? o->parent : "the parent zone",
				  o->parent ? o->parent : "the parent zone"))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&srv);
	return rc;
}

/* DL-06, DL-13, DL-14 per NS name; DL-08 for the whole set. */
static int nsnames(struct dctx *c)
{
	const struct zw_obs *o = c->o;
	int rc = 0;

	for (size_t i = 0; i < o->n_nsnames && rc == 0; i++) {
		const struct zw_obs_nsname *n = &o->nsnames[i];
		struct zw_buf msg = ZW_BUF_INIT, fix = ZW_BUF_INIT;
		const char *id = NULL;
		if (n->is_cname) {
			id = "DL-13";
			rc = zw_buf_addf(
				&msg,
				"name server %s is an alias (CNAME): an NS record must name the host itself "
				"(RFC 2181 §10.3; Zonemaster DELEGATION05 NS_IS_CNAME)",
				n->name);
			if (rc == 0)
				rc = zw_buf_addf(
					&fix,
					"replace %s in the NS set (at the registrar and at the apex) by the "
					"name the CNAME points to",
					n->name);
		} else if (n->n_addrs == 0 && n->n_glue == 0) {
			id = "DL-06";
			rc = zw_buf_addf(&msg, "name server %s (listed %s) has no address: A ", n->name,
					 n->in_parent && n->in_child ? "at the parent and the child"
					 : n->in_parent		     ? "at the parent"
								     : "at the child");
			if (rc == 0)
				rc = describe(&msg, &n->a.ans, T_A);
			if (rc == 0)
				rc = zw_buf_adds(&msg, ", AAAA ");
			if (rc == 0)
				rc = describe(&msg, &n->aaaa.ans, T_AAAA);
			if (rc == 0)
				rc = zw_buf_adds(&msg, " (Zonemaster NAMESERVER06 CAN_NOT_BE_RESOLVED)");
			if (rc == 0)
				rc = zw_buf_addf(&fix,
						 "publish an address for %s, or remove it from the NS set",
						 n->name);
		} else if (n->n_glue &&
			   (n->a.ans.kind != ZW_OBS_FAILED || n->aaaa.ans.kind != ZW_OBS_FAILED)) {
			/* glue the authoritative data does not confirm */
			struct zw_buf bad = ZW_BUF_INIT, auth = ZW_BUF_INIT;
			for (size_t g = 0; g < n->n_glue && rc == 0; g++) {
				int found = 0;
				for (size_t k = 0; k < n->n_addrs; k++)
					found |= zw_dns_addr_cmp(&n->glue[g], &n->addrs[k]) == 0;
				if (!found) {
					char as[ZW_DNS_ADDR_STRLEN];
					zw_dns_addr_format(as, sizeof(as), &n->glue[g]);
					rc = zw_buf_addf(&bad, "%s%s", bad.len ? ", " : "", as);
				}
			}
			for (size_t k = 0; k < n->n_addrs && rc == 0; k++) {
				char as[ZW_DNS_ADDR_STRLEN];
				zw_dns_addr_format(as, sizeof(as), &n->addrs[k]);
				rc = zw_buf_addf(&auth, "%s%s", auth.len ? ", " : "", as);
			}
			if (rc == 0 && bad.len) {
				id = "DL-14";
				rc = zw_buf_addf(
					&msg,
					"the parent's glue for %s says %s but its authoritative data says %s "
					"(Zonemaster CONSISTENCY05 %s_BAILIWICK_ADDR_MISMATCH)",
					n->name, zw_buf_str(&bad),
					auth.len ? zw_buf_str(&auth) : "no address",
					n->in_bailiwick ? "IN" : "OUT_OF");
				if (rc == 0)
					rc = zw_buf_addf(&fix, "set the glue of %s at the registrar to %s",
							 n->name,
							 auth.len ? zw_buf_str(&auth) : "its real address");
			}
			zw_buf_free(&bad);
			zw_buf_free(&auth);
		}
		if (rc == 0 && id) {
			struct zw_finding *f = add(c, id, c->zone, "NS", NULL, zw_buf_str(&msg));
			if (!f || zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
			    zw_finding_set(f, ZW_F_OBSERVED, n->name))
				rc = ZW_ENOMEM;
		}
		zw_buf_free(&msg);
		zw_buf_free(&fix);
	}
	if (rc)
		return rc;

	/* DL-08 */
	struct zw_buf msg = ZW_BUF_INIT;
	size_t distinct = 0;
	for (size_t i = 0; i < o->n_servers; i++) {
		int seen = 0;
		for (size_t k = 0; k < i; k++)
			seen |= memcmp(o->servers[k].addr.ip, o->servers[i].addr.ip,
				       sizeof(o->servers[i].addr.ip)) == 0 &&
				o->servers[k].addr.family == o->servers[i].addr.family;
		distinct += !seen;
	}
	if (o->n_parent_ns == 1)
		rc = zw_buf_addf(&msg,
				 "the parent lists one name server for %s (%s): at least two are needed "
				 "(Zonemaster DELEGATION01 NOT_ENOUGH_NS_DEL)",
				 c->zone, o->parent_ns[0]);
	if (rc == 0 && o->n_child_ns == 1)
		rc = zw_buf_addf(&msg,
				 "%sthe child apex lists one name server (%s) (Zonemaster DELEGATION01 "
				 "NOT_ENOUGH_NS_CHILD)",
				 msg.len ? "; " : "", o->child_ns[0]);
	if (rc == 0 && o->n_parent_ns > 1 && distinct == 1) {
		char as[ZW_DNS_ADDR_STRLEN];
		zw_dns_addr_format(as, sizeof(as), &o->servers[0].addr);
		rc = zw_buf_addf(&msg,
				 "%sthe name servers of %s have one address between them, %s: no redundancy "
				 "(Zonemaster DELEGATION01/02 NOT_ENOUGH_IPV4_NS_DEL, DEL_NS_SAME_IP)",
				 msg.len ? "; " : "", c->zone, as);
	}
	if (rc == 0 && msg.len) {
		struct zw_buf srv = ZW_BUF_INIT;
		struct zw_finding *f = all_servers(&srv, o) ? NULL
							    : add(c, "DL-08", c->zone, "NS", zw_buf_str(&srv),
								  zw_buf_str(&msg));
		if (!f || zw_finding_set(f, ZW_F_FIX,
					 "delegate to at least two name servers on different addresses "
					 "(ideally different networks)"))
			rc = ZW_ENOMEM;
		zw_buf_free(&srv);
	}
	zw_buf_free(&msg);
	return rc;
}

static int net_failure(enum zw_dns_status s)
{
	return s == ZW_DNS_TIMEOUT || s == ZW_DNS_NETWORK;
}

/* ZW-04, DL-07, DL-05 per server address; *working counts authoritative SOA answers. */
static int servers(struct dctx *c, size_t *working)
{
	const struct zw_obs *o = c->o;
	int rc = 0;

	for (size_t i = 0; i < o->n_servers && rc == 0; i++) {
		const struct zw_obs_server *s = &o->servers[i];
		struct zw_buf lab = ZW_BUF_INIT, msg = ZW_BUF_INIT;
		const struct zw_obs_answer *bad = NULL, *tcp = NULL;
		const char *badq = NULL, *tcpq = NULL;
		uint16_t badt = 0, tcpt = 0;
		rc = add_server_label(&lab, s);
		/* every answer of the server: malformed ones (ZW-04), TCP failures (DL-07) */
		for (size_t k = 0; k < 2 + o->n_questions; k++) {
			const struct zw_obs_answer *a = k == 0			 ? &s->soa
							: k == 1		 ? &s->ns
							: o->questions[k - 2].at ? &o->questions[k - 2].at[i]
										 : NULL;
			const char *qn = k < 2 ? c->zone : o->questions[k - 2].name;
			uint16_t qt = k == 0 ? T_SOA : k == 1 ? T_NS : o->questions[k - 2].type;
			if (!a)
				continue;
			if (!bad && (a->status == ZW_DNS_MALFORMED || a->status == ZW_DNS_MISMATCH))
				bad = a, badq = qn, badt = qt;
			if (!tcp && a->kind == ZW_OBS_FAILED && a->transport == ZW_DNS_TCP &&
			    net_failure(a->status))
				tcp = a, tcpq = qn, tcpt = qt;
		}
		if (rc == 0 && bad) {
			rc = zw_buf_addf(&msg,
					 "%s sends answers that are malformed or do not match the question "
					 "(%s %s: %s: %s) "
					 "(RFC 1035 §4.1; RFC 5452)",
					 zw_buf_str(&lab), badq, type_str(badt),
					 zw_dns_status_name(bad->status),
					 bad->reason ? bad->reason : "no detail");
			struct zw_finding *f = rc ? NULL
						  : add(c, "ZW-04", c->zone, type_str(badt), zw_buf_str(&lab),
							zw_buf_str(&msg));
			if (!f ||
			    zw_finding_setf(f, ZW_F_FIX,
					    "have the operator of %s fix the server (or remove it from the "
					    "NS set)",
					    zw_buf_str(&lab)))
				rc = ZW_ENOMEM;
			zw_buf_reset(&msg);
		}
		const struct zw_obs_answer *soa = &s->soa;
		int ok = soa->kind == ZW_OBS_DATA && soa->aa && soa->n_rrs > 0;
		*working += ok;
		if (rc == 0 && soa->kind == ZW_OBS_FAILED && net_failure(soa->status)) {
			rc = zw_buf_addf(
				&msg,
				"%s does not answer over %s (%s%s%s) (RFC 7766; Zonemaster CONNECTIVITY0%d "
				"NAMESERVER_NO_%s_53)",
				zw_buf_str(&lab), soa->transport == ZW_DNS_TCP ? "TCP" : "UDP",
				zw_dns_status_name(soa->status), soa->reason ? ": " : "",
				soa->reason ? soa->reason : "", soa->transport == ZW_DNS_TCP ? 2 : 1,
				soa->transport == ZW_DNS_TCP ? "TCP" : "UDP");
			struct zw_finding *f =
				rc ? NULL
				   : add(c, "DL-07", c->zone, "SOA", zw_buf_str(&lab), zw_buf_str(&msg));
			if (!f ||
			    zw_finding_setf(f, ZW_F_FIX,
					    "make %s reachable on port 53 over UDP and TCP, or remove it "
					    "from the NS set",
					    zw_buf_str(&lab)))
				rc = ZW_ENOMEM;
		} else if (rc == 0 && tcp) {
			rc = zw_buf_addf(
				&msg,
				"%s answers over UDP but not over TCP: the answer to %s %s was truncated and "
				"the TCP retry failed (%s%s%s); large TXT records (2048-bit DKIM keys, long "
				"SPF) need "
				"TCP (RFC 7766; Zonemaster CONNECTIVITY02 NAMESERVER_NO_TCP_53)",
				zw_buf_str(&lab), tcpq, type_str(tcpt), zw_dns_status_name(tcp->status),
				tcp->reason ? ": " : "", tcp->reason ? tcp->reason : "");
			struct zw_finding *f =
				rc ? NULL
				   : add(c, "DL-07", c->zone, "SOA", zw_buf_str(&lab), zw_buf_str(&msg));
			if (!f || zw_finding_setf(f, ZW_F_FIX, "open TCP port 53 on %s", zw_buf_str(&lab)))
				rc = ZW_ENOMEM;
		} else if (rc == 0 && !ok && soa->kind != ZW_OBS_FAILED) {
			const char *why = soa->kind == ZW_OBS_RCODE	 ? zw_rcode_name(soa->rcode)
					  : soa->kind == ZW_OBS_NXDOMAIN ? "NXDOMAIN"
					  : soa->kind == ZW_OBS_REFERRAL ? "a referral"
					  : !soa->aa ? "an answer without AA (not authoritative)"
						     : "no SOA record";
			rc = zw_buf_addf(
				&msg,
				"%s answers %s for %s SOA: it is delegated the zone but does not serve it "
				"(lame delegation, RFC 2181 §6.1; Zonemaster BASIC02 NS_FAILED, "
				"CONSISTENCY05 "
				"CHILD_ZONE_LAME)",
				zw_buf_str(&lab), why, c->zone);
			struct zw_finding *f =
				rc ? NULL
				   : add(c, "DL-05", c->zone, "SOA", zw_buf_str(&lab), zw_buf_str(&msg));
			if (!f ||
			    zw_finding_setf(f, ZW_F_FIX,
					    "load the zone %s on %s, or remove %s from the NS set at the "
					    "registrar and at the apex",
					    c->zone, zw_buf_str(&lab), s->name))
				rc = ZW_ENOMEM;
		}
		zw_buf_free(&lab);
		zw_buf_free(&msg);
	}
	return rc;
}

/* No delegated server answers authoritatively: Zonemaster's B02_NO_WORKING_NS raises the
 * DL-05, DL-06 and DL-07 findings made since `first` to CRITICAL. */
static int no_working_ns(struct dctx *c, size_t first)
{
	for (size_t i = first; i < c->fs->n; i++) {
		struct zw_finding *f = &c->fs->v[i];
		const char *id = f->cls->id;
		if (strcmp(id, "DL-05") && strcmp(id, "DL-06") && strcmp(id, "DL-07"))
			continue;
		f->sev = ZW_SEV_CRITICAL;
		if (zw_finding_setf(f, ZW_F_MESSAGE,
				    "%s; no delegated server answers authoritatively, so the domain is "
				    "unreachable: CRITICAL (Zonemaster B02_NO_WORKING_NS)",
				    f->message))
			return ZW_ENOMEM;
	}
	return 0;
}

/* DL-02, DL-03, DL-04: parent NS names against the child apex NS names. */
static int parent_child(struct dctx *c)
{
	const struct zw_obs *o = c->o;
	struct zw_buf pe = ZW_BUF_INIT, ce = ZW_BUF_INIT, msg = ZW_BUF_INIT, fix = ZW_BUF_INIT;
	size_t common = 0, npe = 0, nce = 0;
	int rc = 0;

	if (o->n_child_ns == 0 || o->n_parent_ns == 0)
		return 0;
	for (size_t i = 0; i < o->n_parent_ns && rc == 0; i++) {
		if (contains(o->child_ns, o->n_child_ns, o->parent_ns[i])) {
			common++;
			continue;
		}
		rc = npe++ ? zw_buf_adds(&pe, ", ") : 0;
		if (rc == 0)
			rc = add_names(&pe, &o->parent_ns[i], 1);
	}
	for (size_t i = 0; i < o->n_child_ns && rc == 0; i++) {
		if (contains(o->parent_ns, o->n_parent_ns, o->child_ns[i]))
			continue;
		rc = nce++ ? zw_buf_adds(&ce, ", ") : 0;
		if (rc == 0)
			rc = add_names(&ce, &o->child_ns[i], 1);
	}
	if (rc)
		goto out;
	struct zw_finding *f = NULL;
	if (common == 0) {
		rc = zw_buf_adds(&msg, "none of the name servers the parent lists (");
		if (rc == 0)
			rc = add_names(&msg, o->parent_ns, o->n_parent_ns);
		if (rc == 0)
			rc = zw_buf_adds(&msg, ") is listed at the child apex (");
		if (rc == 0)
			rc = add_names(&msg, o->child_ns, o->n_child_ns);
		if (rc == 0)
			rc = zw_buf_adds(
				&msg,
				"): the delegation and the zone disagree completely (Zonemaster DELEGATION07 "
				"TOTAL_NAME_MISMATCH)");
		if (rc == 0)
			rc = zw_buf_addf(&fix, "decide which servers serve %s: set NS at the registrar to ",
					 c->zone);
		if (rc == 0)
			rc = add_names(&fix, o->child_ns, o->n_child_ns);
		if (rc == 0)
			rc = zw_buf_adds(&fix, ", or set the apex NS of the zone to ");
		if (rc == 0)
			rc = add_names(&fix, o->parent_ns, o->n_parent_ns);
		if (rc == 0 && !(f = add(c, "DL-04", c->zone, "NS", NULL, zw_buf_str(&msg))))
			rc = ZW_ENOMEM;
		if (rc == 0 && zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)))
			rc = ZW_ENOMEM;
		goto out;
	}
	if (npe) {
		rc = zw_buf_addf(
			&msg,
			"the parent has name server%s not listed at the child apex: %s (RIPE-114 §2.3; "
			"Zonemaster DELEGATION07 EXTRA_NAME_PARENT)",
			npe > 1 ? "s" : "", zw_buf_str(&pe));
		if (rc == 0 && !(f = add(c, "DL-02", c->zone, "NS", NULL, zw_buf_str(&msg))))
			rc = ZW_ENOMEM;
		if (rc == 0 &&
		    (zw_finding_setf(f, ZW_F_FIX,
				     "remove %s from the delegation at the registrar, or add %s to "
				     "the apex NS of %s",
				     zw_buf_str(&pe), npe > 1 ? "them" : "it", c->zone) ||
		     zw_finding_set(f, ZW_F_OBSERVED, zw_buf_str(&pe))))
			rc = ZW_ENOMEM;
		zw_buf_reset(&msg);
	}
	if (rc == 0 && nce) {
		rc = zw_buf_addf(&msg,
				 "the child apex has name server%s not listed at the parent: %s (Zonemaster "
				 "DELEGATION07 EXTRA_NAME_CHILD)",
				 nce > 1 ? "s" : "", zw_buf_str(&ce));
		if (rc == 0 && !(f = add(c, "DL-03", c->zone, "NS", NULL, zw_buf_str(&msg))))
			rc = ZW_ENOMEM;
		if (rc == 0 &&
		    (zw_finding_setf(f, ZW_F_FIX,
				     "add %s to the delegation at the registrar, or remove %s from "
				     "the apex NS of %s",
				     zw_buf_str(&ce), nce > 1 ? "them" : "it", c->zone) ||
		     zw_finding_set(f, ZW_F_OBSERVED, zw_buf_str(&ce))))
			rc = ZW_ENOMEM;
	}
out:
	zw_buf_free(&pe);
	zw_buf_free(&ce);
	zw_buf_free(&msg);
	zw_buf_free(&fix);
	return rc;
}

/* CS-02 (serials) and CS-03 (MNAME, RNAME, timers; NS sets) between working servers. */
static int soa_ns_consistency(struct dctx *c)
{
	const struct zw_obs *o = c->o;
	const struct zw_soa *ref = NULL;
	const struct zw_obs_answer *refns = NULL;
	int serial = 0, fields = 0, nsset = 0, rc = 0;
	static const char *const field_names[] = {"MNAME", "RNAME", "timers"};

	for (size_t i = 0; i < o->n_servers; i++) {
		const struct zw_obs_answer *a = &o->servers[i].soa;
		if (a->kind == ZW_OBS_DATA && a->aa && a->n_rrs && a->rrs[0].type == T_SOA) {
			const struct zw_soa *s = &a->rrs[0].soa;
			if (!ref) {
				ref = s;
			} else {
				serial |= s->serial != ref->serial;
				fields |= strcmp(s->mname ? s->mname : "", ref->mname ? ref->mname : "") ? 1
													 : 0;
				fields |= strcmp(s->rname ? s->rname : "", ref->rname ? ref->rname : "") ? 2
													 : 0;
				fields |= s->refresh != ref->refresh || s->retry != ref->retry ||
							  s->expire != ref->expire ||
							  s->minimum != ref->minimum
						  ? 4
						  : 0;
			}
		}
		const struct zw_obs_answer *n = &o->servers[i].ns;
		if (n->kind == ZW_OBS_DATA && n->aa) {
			if (!refns)
				refns = n;
			else
				nsset |= !zw_deleg_answer_same(refns, n);
		}
	}
	for (int pass = 0; pass < 3 && rc == 0; pass++) {
		if ((pass == 0 && !serial) || (pass == 1 && !fields) || (pass == 2 && !nsset))
			continue;
		struct zw_buf msg = ZW_BUF_INIT, srv = ZW_BUF_INIT;
		if (pass == 0) {
			rc = zw_buf_adds(&msg, "the servers give different SOA serials:");
		} else if (pass == 1) {
			rc = zw_buf_adds(&msg, "the servers give different SOA");
			for (int k = 0; k < 3 && rc == 0; k++)
				if (fields & (1 << k))
					rc = zw_buf_addf(&msg, " %s", field_names[k]);
			if (rc == 0)
				rc = zw_buf_adds(&msg, ":");
		} else {
			rc = zw_buf_adds(&msg, "the servers give different NS sets for the apex:");
		}
		for (size_t i = 0; i < o->n_servers && rc == 0; i++) {
			const struct zw_obs_server *s = &o->servers[i];
			const struct zw_obs_answer *a = pass == 2 ? &s->ns : &s->soa;
			if (a->kind != ZW_OBS_DATA || !a->aa || !a->n_rrs)
				continue;
			rc = add_server_label(&srv, s);
			char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
			zw_deleg_server_label(lab, sizeof(lab), s->name, &s->addr);
			if (rc == 0 && pass == 0)
				rc = zw_buf_addf(&msg, " %s %u;", lab, (unsigned)a->rrs[0].soa.serial);
			else if (rc == 0 && pass == 1)
				rc = zw_buf_addf(&msg, " %s %s;", lab, a->rrs[0].text ? a->rrs[0].text : "?");
			else if (rc == 0) {
				rc = zw_buf_addf(&msg, " %s ", lab);
				for (size_t k = 0; k < a->n_rrs && rc == 0; k++)
					rc = zw_buf_addf(&msg, "%s%s", k ? "," : "",
							 a->rrs[k].target ? a->rrs[k].target : "?");
				if (rc == 0)
					rc = zw_buf_addc(&msg, ';');
			}
		}
		if (rc == 0 && msg.len)
			msg.p[--msg.len] = '\0';
		if (rc == 0)
			rc = zw_buf_adds(&msg, pass == 0 ? " (Zonemaster CONSISTENCY01 MULTIPLE_SOA_SERIALS)"
					       : pass == 1 ? " (Zonemaster CONSISTENCY02/03/06)"
							   : " (Zonemaster CONSISTENCY04 MULTIPLE_NS_SET)");
		struct zw_finding *f = rc ? NULL
					  : add(c, pass == 0 ? "CS-02" : "CS-03", c->zone,
						pass == 2 ? "NS" : "SOA", zw_buf_str(&srv), zw_buf_str(&msg));
		if (!f ||
		    zw_finding_set(f, ZW_F_FIX,
				   pass == 0 ? "check that every secondary transfers the zone from the "
					       "primary (NOTIFY, IXFR/AXFR, ACLs), then check again"
					     : "serve one copy of the zone from every server: check the "
					       "zone transfers and the apex records"))
			rc = ZW_ENOMEM;
		zw_buf_free(&msg);
		zw_buf_free(&srv);
	}
	return rc;
}

/* ---- per claim ---- */

/* The first usable authoritative answer, preferring one with data. */
static const struct zw_obs_answer *first_answer(const struct zw_obs *o, const struct zw_obs_question *q,
						size_t *idx)
{
	const struct zw_obs_answer *best = NULL;
	for (size_t i = 0; q && q->at && i < o->n_servers; i++) {
		const struct zw_obs_answer *a = &q->at[i];
		if (!zw_deleg_answer_authoritative(a))
			continue;
		if (a->kind == ZW_OBS_DATA || a->kind == ZW_OBS_CNAME) {
			*idx = i;
			return a;
		}
		if (!best) {
			best = a;
			*idx = i;
		}
	}
	return best;
}

/* NM-05: the servers refer the claimed name to another zone. */
static int below_cut(struct dctx *c, const struct claim *cl, const struct zw_obs_question *q)
{
	const struct zw_obs *o = c->o;
	for (size_t i = 0; q && q->at && i < o->n_servers; i++) {
		const struct zw_obs_answer *a = &q->at[i];
		if (a->kind != ZW_OBS_REFERRAL || !a->referral_zone ||
		    strcmp(a->referral_zone, c->zone) == 0 ||
		    !zw_name_is_at_or_below(a->referral_zone, c->zone))
			continue;
		struct zw_buf msg = ZW_BUF_INIT, ns = ZW_BUF_INIT, lab = ZW_BUF_INIT;
		int rc = add_names(&ns, a->referral_ns, a->n_referral_ns);
		if (rc == 0)
			rc = add_server_label(&lab, &o->servers[i]);
		if (rc == 0)
			rc = zw_buf_addf(
				&msg,
				"%s is below the zone cut %s (NS %s): %s is not authoritative there and "
				"resolvers follow the referral, so a record written in %s is never served "
				"(RFC 1034 §4.2.1, §4.3.2)",
				cl->name, a->referral_zone, zw_buf_str(&ns), c->zone, c->zone);
		struct zw_finding *f = rc ? NULL
					  : add(c, "NM-05", cl->name, type_str(cl->type), zw_buf_str(&lab),
						zw_buf_str(&msg));
		if (!f ||
		    zw_finding_setf(f, ZW_F_FIX, "publish %s %s in the zone %s, at its provider (NS %s)",
				    cl->name, type_str(cl->type), a->referral_zone, zw_buf_str(&ns)))
			rc = ZW_ENOMEM;
		zw_buf_free(&msg);
		zw_buf_free(&ns);
		zw_buf_free(&lab);
		return rc ? rc : 1;
	}
	return 0;
}

/* CS-01: the authoritative answers differ between servers. */
static int servers_disagree(struct dctx *c, const struct claim *cl, const struct zw_obs_question *q)
{
	const struct zw_obs *o = c->o;
	const struct zw_obs_answer *ref = NULL;
	int differ = 0, rc = 0;
	for (size_t i = 0; q && q->at && i < o->n_servers; i++) {
		if (!zw_deleg_answer_authoritative(&q->at[i]))
			continue;
		if (!ref)
			ref = &q->at[i];
		else if (!zw_deleg_answer_same(ref, &q->at[i]))
			differ = 1;
	}
	if (!differ)
		return 0;
	struct zw_buf msg = ZW_BUF_INIT, srv = ZW_BUF_INIT;
	rc = zw_buf_addf(&msg, "the servers disagree on %s %s, so the answer depends on which one is asked:",
			 cl->name, type_str(cl->type));
	for (size_t i = 0; i < o->n_servers && rc == 0; i++) {
		if (!zw_deleg_answer_authoritative(&q->at[i]))
			continue;
		char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
		zw_deleg_server_label(lab, sizeof(lab), o->servers[i].name, &o->servers[i].addr);
		rc = zw_buf_addf(&msg, "%s %s: ", srv.len ? ";" : "", lab);
		if (rc == 0)
			rc = describe(&msg, &q->at[i], cl->type);
		if (rc == 0)
			rc = add_server_label(&srv, &o->servers[i]);
	}
	if (rc == 0)
		rc = zw_buf_adds(&msg, " (Zonemaster ZONE11, generalised)");
	struct zw_finding *f =
		rc ? NULL : add(c, "CS-01", cl->name, type_str(cl->type), zw_buf_str(&srv), zw_buf_str(&msg));
	if (!f || zw_finding_set(f, ZW_F_FIX,
				 "publish the same rrset on every server: re-apply the change, then check "
				 "that the secondaries transferred the zone"))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&srv);
	return rc;
}

/* The presentation of a record for fixes: "TXT \"...\"" or "CNAME target." */
static int rdata_of(struct zw_buf *b, const struct zw_rr *rr)
{
	if (rr->type == ZW_TYPE_TXT)
		return zw_txt_print_presentation(b, &rr->txt);
	return zw_buf_adds(b, rr->target ? rr->target : rr->text ? rr->text : "?");
}

static int desired_rdata(struct zw_buf *b, const struct zw_record *rec)
{
	if (rec->type == ZW_TYPE_TXT)
		return zw_txt_print_presentation(b, &rec->txt);
	return zw_buf_adds(b, rec->target ? rec->target : "?");
}

/* NM-01: the doubled name answers (`<name><apex>`, or `<name><zone>` when the domain is
 * a name inside its zone). Returns 1 when it reported. */
static int doubled(struct dctx *c, size_t ci, const struct zw_obs_answer *live)
{
	const struct claim *cl = &c->d->c[ci];
	const struct zw_obs_question *q =
		cl->doubled ? zw_deleg_find_question(c->o, cl->doubled, cl->type) : NULL;
	size_t idx = 0;
	const char *dname = cl->doubled;
	const struct zw_obs_answer *a = first_answer(c->o, q, &idx);
	char zlab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4] = "";
	if ((!a || a->kind != ZW_OBS_DATA) && c->d->zp && c->d->zp[ci]) {
		const struct zw_lookup *lk = c->d->zp[ci];
		a = zw_deleg_answer_authoritative(&lk->res.ans) ? &lk->res.ans : NULL;
		dname = c->d->zdoubled[ci];
		zw_deleg_server_label(zlab, sizeof(zlab), lk->res.server, &lk->res.addr);
	}
	if (!a || a->kind != ZW_OBS_DATA || a->n_cnames || a->n_rrs == 0)
		return 0;
	struct zw_buf msg = ZW_BUF_INIT, fix = ZW_BUF_INIT, obs = ZW_BUF_INIT, lab = ZW_BUF_INIT;
	int present = live && live->kind == ZW_OBS_DATA && live->n_rrs > 0;
	int rc = zw_buf_addf(
		&msg,
		"%s %s exists: the zone's name was appended to a name that was already qualified; "
		"verifiers ask for %s, which %s",
		dname, type_str(cl->type), cl->name,
		present ? "also has records" : "has no such record (SES and DKIM verifiers stay pending)");
	for (size_t i = 0; i < a->n_rrs && rc == 0; i++) {
		rc = zw_buf_addf(&fix, "%sdelete %s %s ", i ? "; " : "", dname, type_str(cl->type));
		if (rc == 0)
			rc = rdata_of(&fix, &a->rrs[i]);
		if (rc == 0 && i)
			rc = zw_buf_adds(&obs, " | ");
		if (rc == 0)
			rc = rdata_of(&obs, &a->rrs[i]);
	}
	if (rc == 0 && !present) {
		rc = zw_buf_addf(&fix, "; create %s %s ", cl->name, type_str(cl->type));
		if (rc == 0)
			rc = cl->rec ? desired_rdata(&fix, cl->rec) : rdata_of(&fix, &a->rrs[0]);
		if (rc == 0)
			rc = zw_buf_adds(&fix, " (an absolute name: with the trailing dot)");
	}
	if (rc == 0)
		rc = zlab[0] ? zw_buf_adds(&lab, zlab) : add_server_label(&lab, &c->o->servers[idx]);
	struct zw_finding *f =
		rc ? NULL : add(c, "NM-01", dname, type_str(cl->type), zw_buf_str(&lab), zw_buf_str(&msg));
	if (!f || zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
	    zw_finding_set(f, ZW_F_EXPECTED, cl->name) || zw_finding_set(f, ZW_F_OBSERVED, zw_buf_str(&obs)))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&fix);
	zw_buf_free(&obs);
	zw_buf_free(&lab);
	return rc ? rc : 1;
}

/* Did a record-level finding (inspect) already name this owner and observed value? */
static int explained(const struct dctx *c, const char *name, const char *shown)
{
	for (size_t i = c->from; i < c->fs->n; i++) {
		const struct zw_finding *f = &c->fs->v[i];
		if (f->name && f->observed && strncmp(f->cls->id, "ZW-", 3) != 0 &&
		    strcmp(f->name, name) == 0 && strcmp(f->observed, shown) == 0)
			return 1;
	}
	return 0;
}

/* The record-level finding of class `id` at this owner, or NULL. */
static const struct zw_finding *finding_at(const struct dctx *c, const char *id, const char *name)
{
	for (size_t i = c->from; i < c->fs->n; i++) {
		const struct zw_finding *f = &c->fs->v[i];
		if (f->name && strcmp(f->cls->id, id) == 0 && strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

/* The role of a live TXT value after normalisation, and that normalised value. */
static int live_role(enum zw_role *role, struct zw_buf *norm, const struct zw_txt *t, enum zw_role hint,
		     struct zw_error *err)
{
	struct zw_findings tmp = {0};
	int rc = zw_stray_check_txt(&tmp, norm, role, t, hint, err);
	zw_findings_free(&tmp);
	if (rc == ZW_EINVAL) { /* over 64 KiB: foreign text */
		*role = ZW_ROLE_NONE;
		zw_buf_reset(norm);
		rc = 0;
	}
	return rc;
}

/* Is the claim present at the provider's servers? Sets *where to a server label. */
static int at_provider(const struct dctx *c, size_t ci, enum zw_role role, char *where, size_t wsz)
{
	const struct zw_deleg *d = c->d;
	const struct claim *cl = &d->c[ci];
	for (size_t s = 0; d->pv_ans && s < d->nps; s++) {
		const struct zw_lookup *lk = d->pv_ans[s * d->nc + ci];
		const struct zw_obs_answer *a = lk ? &lk->res.ans : NULL;
		if (!a || a->kind != ZW_OBS_DATA || a->n_cnames)
			continue;
		for (size_t k = 0; k < a->n_rrs; k++) {
			const struct zw_rr *rr = &a->rrs[k];
			int hit = cl->type == ZW_TYPE_CNAME ||
				  (rr->type == ZW_TYPE_TXT &&
				   ((cl->rec && zw_txt_equal(&rr->txt, &cl->rec->txt)) ||
				    zw_role_detect(NULL, rr->txt.data, rr->txt.len,
						   zw_role_of_owner(cl->name)) == role));
			if (hit) {
				zw_deleg_server_label(where, wsz, d->ps[s].name, &d->ps[s].addr);
				return 1;
			}
		}
	}
	return 0;
}

/* DL-01 for one claimed record that only the provider's servers hold. */
static int invisible(struct dctx *c, const struct claim *cl, const char *where)
{
	const struct zw_obs *o = c->o;
	struct zw_buf msg = ZW_BUF_INIT, pns = ZW_BUF_INIT;
	int rc = add_names(&pns, o->parent_ns, o->n_parent_ns);
	if (rc == 0)
		rc = zw_buf_addf(
			&msg,
			"%s %s is present at the provider, invisible to the world: %s has it, but the "
			"registry delegates %s to %s, and resolvers ask only those (RFC 1034 §4.3.2)",
			cl->name, type_str(cl->type), where, c->d->domain, zw_buf_str(&pns));
	struct zw_finding *f =
		rc ? NULL : add(c, "DL-01", cl->name, type_str(cl->type), where, zw_buf_str(&msg));
	if (!f || zw_finding_setf(f, ZW_F_FIX, "fix the delegation of %s (see the DL-01 finding for %s)",
				  c->d->domain, c->zone))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&pns);
	return rc;
}

static int missing(struct dctx *c, size_t ci, const struct zw_obs_answer *live, const char *servers,
		   enum zw_role role)
{
	const struct claim *cl = &c->d->c[ci];
	char where[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
	if (c->d->pv_active && at_provider(c, ci, role, where, sizeof(where)))
		return invisible(c, cl, where);
	struct zw_buf msg = ZW_BUF_INIT, fix = ZW_BUF_INIT, want = ZW_BUF_INIT;
	int rc = zw_buf_addf(&msg, "%s %s claimed by the manifest is absent on the delegated servers (",
			     cl->name, type_str(cl->type));
	if (rc == 0)
		rc = describe(&msg, live, cl->type);
	if (rc == 0)
		rc = zw_buf_addf(&msg, ")%s", c->d->pv_active ? " and at the provider's servers" : "");
	if (rc == 0)
		rc = desired_rdata(&want, cl->rec);
	if (rc == 0)
		rc = zw_buf_addf(&fix, "create %s %u %s %s", cl->name, (unsigned)cl->rec->ttl,
				 type_str(cl->type), zw_buf_str(&want));
	struct zw_finding *f =
		rc ? NULL : add(c, "ZW-01", cl->name, type_str(cl->type), servers, zw_buf_str(&msg));
	if (!f || zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
	    zw_finding_set(f, ZW_F_EXPECTED, zw_buf_str(&want)))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&fix);
	zw_buf_free(&want);
	return rc;
}

static int differs(struct dctx *c, const struct claim *cl, const char *servers, const char *observed,
		   const char *why)
{
	struct zw_buf fix = ZW_BUF_INIT, want = ZW_BUF_INIT;
	int rc = desired_rdata(&want, cl->rec);
	if (rc == 0)
		rc = zw_buf_addf(&fix, "set %s %u %s %s", cl->name, (unsigned)cl->rec->ttl,
				 type_str(cl->type), zw_buf_str(&want));
	struct zw_finding *f = NULL;
	if (rc == 0) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s %s differs from the manifest%s%s", cl->name,
			 type_str(cl->type), why ? ": " : "", why ? why : "");
		f = add(c, "ZW-02", cl->name, type_str(cl->type), servers, msg);
	}
	if (!f || zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
	    zw_finding_set(f, ZW_F_EXPECTED, zw_buf_str(&want)) || zw_finding_set(f, ZW_F_OBSERVED, observed))
		rc = ZW_ENOMEM;
	zw_buf_free(&fix);
	zw_buf_free(&want);
	return rc;
}

static int ttl_drift(struct dctx *c, const struct claim *cl, const char *servers, uint32_t ttl)
{
	if (ttl == cl->rec->ttl)
		return 0;
	char msg[512];
	snprintf(msg, sizeof(msg), "%s %s has ttl %u on the servers, %u in the manifest", cl->name,
		 type_str(cl->type), (unsigned)ttl, (unsigned)cl->rec->ttl);
	struct zw_finding *f = add(c, "TT-02", cl->name, type_str(cl->type), servers, msg);
	if (!f || zw_finding_setf(f, ZW_F_OBSERVED, "%u", (unsigned)ttl) ||
	    zw_finding_setf(f, ZW_F_EXPECTED, "%u", (unsigned)cl->rec->ttl) ||
	    zw_finding_setf(f, ZW_F_FIX, "set the ttl of %s %s to %u", cl->name, type_str(cl->type),
			    (unsigned)cl->rec->ttl))
		return ZW_ENOMEM;
	return 0;
}

/* A CNAME target that, once its stray characters or the appended origin are removed, is the claimed one. */
static int target_explained(const struct dctx *c, const char *t, const char *want, struct zw_error *err)
{
	struct zw_findings tmp = {0};
	struct zw_buf norm = ZW_BUF_INIT;
	char *fixed = NULL;
	int hit = 0;
	int rc = zw_stray_check_name(&tmp, &norm, t, strlen(t), err);
	if (rc == 0 && norm.len) {
		/* canonical comparison: case-insensitive, trailing dot optional */
		size_t n = norm.len;
		const char *s = zw_buf_str(&norm);
		hit = strncasecmp(s, want, n) == 0 &&
		      (want[n] == '\0' || (want[n] == '.' && want[n + 1] == '\0'));
		t = s;
	}
	if (rc == 0 && !hit) {
		int r = zw_name_origin_appended(&fixed, t, c->d->apex);
		if (r == 0)
			r = zw_name_apex_doubled(&fixed, t, c->d->apex);
		if (r < 0)
			rc = ZW_ENOMEM;
		else if (r == 1)
			hit = strcasecmp(fixed, want) == 0;
	}
	zw_free(fixed);
	zw_buf_free(&norm);
	zw_findings_free(&tmp);
	if (rc == ZW_EINVAL)
		rc = 0;
	return rc < 0 ? rc : hit;
}

/* ZW-01/02/03 and TT-02 for one claim with a desired record. */
static int drift(struct dctx *c, size_t ci, const struct zw_obs_answer *live, size_t idx, int probe_hit,
		 struct zw_error *err)
{
	const struct claim *cl = &c->d->c[ci];
	const struct zw_record *rec = cl->rec;
	struct zw_buf lab = ZW_BUF_INIT;
	int rc = add_server_label(&lab, &c->o->servers[idx]);
	const char *servers = zw_buf_str(&lab);
	enum zw_role hint = zw_role_of_owner(cl->name);
	enum zw_role want = rec->type == ZW_TYPE_TXT ? zw_role_detect(NULL, rec->txt.data, rec->txt.len, hint)
						     : ZW_ROLE_NONE;

	if (rc)
		goto out;
	if (live->kind == ZW_OBS_NXDOMAIN || live->kind == ZW_OBS_NODATA) {
		if (!probe_hit)
			rc = missing(c, ci, live, servers, want);
		goto out;
	}
	/* the owner is an alias */
	const struct zw_rr *cn =
		live->n_cnames && strcmp(live->cnames[0].owner, cl->name) == 0 ? &live->cnames[0] : NULL;
	if (rec->type == ZW_TYPE_CNAME) {
		const struct zw_rr *rr = cn;
		for (size_t k = 0; !rr && k < live->n_rrs; k++)
			if (live->rrs[k].type == ZW_TYPE_CNAME)
				rr = &live->rrs[k];
		if (!rr || !rr->target) {
			rc = missing(c, ci, live, servers, want);
			goto out;
		}
		char live_t[ZW_NAME_MAX * 4 + 8];
		zw_deleg_name_decode(live_t, sizeof(live_t), rr->target);
		if (strcasecmp(live_t, rec->target) != 0) {
			int ex = target_explained(c, live_t, rec->target, err);
			if (ex < 0)
				rc = ex;
			else if (!ex)
				rc = differs(c, cl, servers, rr->target, "the cname points elsewhere");
		}
		if (rc == 0)
			rc = ttl_drift(c, cl, servers, rr->ttl);
		goto out;
	}
	if (cn) {
		char why[600];
		snprintf(why, sizeof(why), "a CNAME to %s sits where the manifest claims a TXT record",
			 cn->target ? cn->target : "?");
		rc = differs(c, cl, servers, cn->target ? cn->target : "?", why);
		goto out;
	}
	/* TXT: an exact value, else the first value of the claimed role, else absent. One record
	 * published as several RRs (TX-12, inspect's) is judged by the record its fix publishes:
	 * its parts are not foreign values, and it is no drift when that record is the claim. */
	const struct zw_finding *split = finding_at(c, "TX-12", cl->name);
	const struct zw_rr *exact = NULL, *same = NULL;
	struct zw_buf same_norm = ZW_BUF_INIT;
	if (split && split->expected) {
		struct zw_buf want_shown = ZW_BUF_INIT;
		rc = zw_txt_display(&want_shown, rec->txt.data, rec->txt.len);
		int meant = rc == 0 && strcmp(zw_buf_str(&want_shown), split->expected) == 0;
		zw_buf_free(&want_shown);
		if (rc)
			goto out;
		if (meant) {
			for (size_t k = 0; k < live->n_rrs && rc == 0; k++)
				if (live->rrs[k].type == ZW_TYPE_TXT)
					rc = ttl_drift(c, cl, servers, live->rrs[k].ttl);
			goto out; /* one TT-02 at most: ttl_drift of equal TTLs says nothing */
		}
	}
	for (size_t k = 0; k < live->n_rrs && rc == 0; k++) {
		const struct zw_rr *rr = &live->rrs[k];
		if (rr->type != ZW_TYPE_TXT)
			continue;
		if (zw_txt_equal(&rr->txt, &rec->txt)) {
			exact = rr;
			continue;
		}
		struct zw_buf norm = ZW_BUF_INIT, shown = ZW_BUF_INIT;
		enum zw_role role = ZW_ROLE_NONE;
		rc = live_role(&role, &norm, &rr->txt, hint, err);
		if (rc == 0)
			rc = zw_txt_display(&shown, rr->txt.data, rr->txt.len);
		if (rc == 0 && role == want && !same) {
			same = rr;
			rc = zw_buf_add(&same_norm, zw_buf_str(&norm), norm.len);
		} else if (rc == 0 && role != want && !(split && role == ZW_ROLE_NONE) &&
			   !explained(c, cl->name, zw_buf_str(&shown))) {
			/* ZW-03: a value of another role, kept */
			struct zw_buf pres = ZW_BUF_INIT;
			char msg[1024];
			rc = zw_txt_print_presentation(&pres, &rr->txt);
			snprintf(msg, sizeof(msg),
				 "%s TXT also holds a value the manifest does not claim (%s); it is kept",
				 cl->name, role == ZW_ROLE_NONE ? "foreign text" : zw_role_name(role));
			struct zw_finding *f = rc ? NULL : add(c, "ZW-03", cl->name, "TXT", servers, msg);
			if (!f || zw_finding_set(f, ZW_F_OBSERVED, zw_buf_str(&pres)) ||
			    zw_finding_set(f, ZW_F_FIX, "nothing: foreign values are kept (SPEC §6)"))
				rc = ZW_ENOMEM;
			zw_buf_free(&pres);
		}
		zw_buf_free(&norm);
		zw_buf_free(&shown);
	}
	if (rc == 0 && exact) {
		rc = ttl_drift(c, cl, servers, exact->ttl);
	} else if (rc == 0 && same) {
		struct zw_buf shown = ZW_BUF_INIT, pres = ZW_BUF_INIT;
		rc = zw_txt_display(&shown, same->txt.data, same->txt.len);
		if (rc == 0)
			rc = zw_txt_print_presentation(&pres, &same->txt);
		int norm_is_wanted = same_norm.len == rec->txt.len &&
				     memcmp(zw_buf_str(&same_norm), rec->txt.data, rec->txt.len) == 0;
		if (rc == 0 && !(norm_is_wanted && explained(c, cl->name, zw_buf_str(&shown))))
			rc = differs(c, cl, servers, zw_buf_str(&pres),
				     same->txt.len == rec->txt.len &&
						     memcmp(same->txt.data, rec->txt.data, rec->txt.len) == 0
					     ? "the same text, split into other strings (drift is compared "
					       "string by string)"
					     : NULL);
		if (rc == 0)
			rc = ttl_drift(c, cl, servers, same->ttl);
		zw_buf_free(&shown);
		zw_buf_free(&pres);
	} else if (rc == 0 && !probe_hit) {
		rc = missing(c, ci, live, servers, want);
	}
	zw_buf_free(&same_norm);
out:
	zw_buf_free(&lab);
	return rc;
}

/* DL-01 for the domain: the registry delegates elsewhere than the provider's servers. */
static int provider_view(struct dctx *c)
{
	const struct zw_obs *o = c->o;
	const struct zw_strlist *pns = provider_ns(c->d);
	struct zw_buf msg = ZW_BUF_INIT, fix = ZW_BUF_INIT, par = ZW_BUF_INIT, prov = ZW_BUF_INIT,
		      srv = ZW_BUF_INIT;
	size_t serving = 0;
	int rc = add_names(&par, o->parent_ns, o->n_parent_ns);
	if (rc == 0)
		rc = add_names(&prov, pns->v, pns->n);
	for (size_t s = 0; s < c->d->nps && rc == 0; s++) {
		char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
		zw_deleg_server_label(lab, sizeof(lab), c->d->ps[s].name, &c->d->ps[s].addr);
		rc = zw_buf_addf(&srv, "%s%s", s ? ";" : "", lab);
		for (size_t k = 0; c->d->pv_ans && k < c->d->nc; k++) {
			const struct zw_lookup *lk = c->d->pv_ans[s * c->d->nc + k];
			if (lk && zw_deleg_answer_authoritative(&lk->res.ans)) {
				serving++;
				break;
			}
		}
	}
	if (rc == 0)
		rc = zw_buf_addf(&msg,
				 "the registry delegates %s to %s, but the manifest's provider serves it on "
				 "%s: records "
				 "written at the provider are invisible to the world (RFC 1034 §4.3.2)",
				 c->d->domain, zw_buf_str(&par), zw_buf_str(&prov));
	if (rc == 0 && c->d->nps == 0)
		rc = zw_buf_adds(&msg,
				 "; the provider's servers have no address, so they could not be asked");
	else if (rc == 0 && serving == 0)
		rc = zw_buf_adds(&msg, "; the provider's servers do not answer for the zone either");
	if (rc == 0)
		rc = zw_buf_addf(
			&fix,
			"The registry delegates %s to {%s}. Change NS at the registrar to {%s}, or point the "
			"manifest at the provider that holds {%s}",
			c->d->domain, zw_buf_str(&par), zw_buf_str(&prov), zw_buf_str(&par));
	struct zw_finding *f = rc ? NULL : add(c, "DL-01", c->zone, "NS", zw_buf_str(&srv), zw_buf_str(&msg));
	if (!f || zw_finding_set(f, ZW_F_FIX, zw_buf_str(&fix)) ||
	    zw_finding_set(f, ZW_F_OBSERVED, zw_buf_str(&par)) ||
	    zw_finding_set(f, ZW_F_EXPECTED, zw_buf_str(&prov)))
		rc = ZW_ENOMEM;
	zw_buf_free(&msg);
	zw_buf_free(&fix);
	zw_buf_free(&par);
	zw_buf_free(&prov);
	zw_buf_free(&srv);
	return rc;
}

static int claims(struct dctx *c, struct zw_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < c->d->nc && rc == 0; i++) {
		const struct claim *cl = &c->d->c[i];
		const struct zw_obs_question *q = zw_deleg_find_question(c->o, cl->name, cl->type);
		size_t before = c->fs->n;
		if (!q)
			continue;
		int cut = below_cut(c, cl, q);
		if (cut < 0)
			return cut;
		if (cut == 0) {
			size_t idx = 0;
			const struct zw_obs_answer *live = first_answer(c->o, q, &idx);
			rc = servers_disagree(c, cl, q);
			int hit = 0;
			if (rc == 0)
				hit = doubled(c, i, live);
			if (hit < 0)
				rc = hit;
			if (rc == 0 && cl->rec && live)
				rc = drift(c, i, live, idx, hit, err);
		}
		/* a claimed record's findings point at the manifest entry that claims it */
		for (size_t k = before; cl->rec && k < c->fs->n; k++)
			if (!c->fs->v[k].loc.file)
				c->fs->v[k].loc = cl->rec->loc;
	}
	return rc;
}

int zw_deleg_diagnose(struct zw_findings *fs, size_t from, struct zw_deleg *d, const struct zw_obs *obs,
		      struct zw_error *err)
{
	struct dctx c = {fs, from, d, obs, obs->zone ? obs->zone : d->apex};
	size_t start = fs->n;
	int rc;

	if (obs->delegation != ZW_DELEG_DELEGATED) {
		rc = not_delegated(&c);
		goto out;
	}
	size_t mark = fs->n, working = 0;
	rc = parent_consistency(&c);
	mark = fs->n;
	if (rc == 0)
		rc = nsnames(&c);
	if (rc == 0)
		rc = servers(&c, &working);
	if (rc == 0 && working == 0)
		rc = no_working_ns(&c, mark);
	if (rc == 0)
		rc = parent_child(&c);
	if (rc == 0)
		rc = soa_ns_consistency(&c);
	if (rc == 0 && d->pv_active)
		rc = provider_view(&c);
	if (rc == 0)
		rc = claims(&c, err);
out:
	/* the domain's findings point at its MailDomain (DL-01 at spec.nameservers) */
	for (size_t k = start; rc == 0 && d->ds && k < fs->n; k++) {
		struct zw_finding *f = &fs->v[k];
		const struct zw_domain *dom = d->ds->domain;
		if (f->loc.file || !f->domain || strcmp(f->domain, d->domain) != 0)
			continue;
		f->loc = strcmp(f->cls->id, "DL-01") == 0 && dom->nameservers.n ? dom->nameservers.loc[0]
										: dom->domain_loc;
	}
	if (rc == ZW_ENOMEM)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	return rc;
}
