/*
 * resolve.c - the iterative walk from the root and the observation of a domain.
 *
 * Owns: the resolver (hints, one dns loop, the lists of jobs and walks in progress), the
 * walks (temporary, zw_malloc'd, freed when their owner has read them), the observation
 * jobs (temporary), and, through their arenas, the observations and lookups it hands out.
 *
 * Two kinds of work run on the loop, as callbacks, for any number of domains at once:
 *   - a walk asks one server at a time, starting at the root hints, RD=0, follows
 *     referrals down (only to a zone strictly below the one asked and at or above the
 *     name), resolves NS names that came without glue through walks of their own (at
 *     most ZW_RESOLVE_MAX_NEST deep), and follows CNAMEs by starting again at the root
 *     (lookup mode), or stops at the parent's answer for a zone (delegation mode);
 *   - an observation job runs the phases of CATALOGUE §B.5 for one domain: find the
 *     parent, ask every address of every parent server, resolve every NS name, ask every
 *     address of every delegated server for SOA, NS and the questions, resolve the
 *     questions from the root, then resolve the NS names only the child lists.
 * Invariants: a walk has at most one query or one group of sub-walks outstanding; an
 * observation job counts what it waits for in `pending` and moves to its next phase
 * when that count reaches zero (a guard of one is held while a phase starts its work, so
 * a synchronous completion cannot re-enter); everything a result needs is copied into
 * the result's arena, so the loop's cache can go away before the results do.
 */
#include "reconcile/resolve.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"

#define MAX_WALK_QUERIES  96 /* queries one walk may send (referral loops, lame sets) */
#define MAX_ANSWER_CNAMES 16 /* CNAMEs followed inside one answer */
#define MAX_REFERRAL_NS	  64 /* NS names taken from one referral or NS answer */
#define ARENA_CHUNK	  8192

/* ---- arena ---- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct zw_arena {
	struct chunk *head;
};

int zw_arena_new(struct zw_arena **out)
{
	*out = zw_calloc(1, sizeof(**out));
	return *out ? 0 : ZW_ENOMEM;
}

void zw_arena_free(struct zw_arena *a)
{
	if (!a)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		zw_free(c);
		c = n;
	}
	zw_free(a);
}

static void *aalloc(struct zw_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (n == 0)
		n = sizeof(max_align_t);
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		struct chunk *c = zw_malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = (char *)a->head->data + a->head->used;
	a->head->used += n;
	memset(p, 0, n);
	return p;
}

static void *amemdup(struct zw_arena *a, const void *p, size_t n)
{
	char *d = aalloc(a, n + 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

static char *astrdup(struct zw_arena *a, const char *s)
{
	return s ? amemdup(a, s, strlen(s)) : NULL;
}

/* ---- names ---- */

const char *zw_obs_kind_name(enum zw_obs_kind k)
{
	static const char *const names[] = {
		[ZW_OBS_FAILED] = "failed",	[ZW_OBS_DATA] = "data",		[ZW_OBS_NODATA] = "nodata",
		[ZW_OBS_NXDOMAIN] = "nxdomain", [ZW_OBS_REFERRAL] = "referral", [ZW_OBS_CNAME] = "cname",
		[ZW_OBS_RCODE] = "rcode",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

const char *zw_obs_delegation_name(enum zw_obs_delegation d)
{
	static const char *const names[] = {
		[ZW_DELEG_UNKNOWN] = "unknown",
		[ZW_DELEG_DELEGATED] = "delegated",
		[ZW_DELEG_NXDOMAIN] = "nxdomain",
	};
	return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

const char *zw_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
	};
	if (rcode < 0)
		return "-";
	if ((size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	return "RCODE?";
}

/* A dname rdf in presentation form, lower case, in the arena. */
static char *adname(struct zw_arena *a, const ldns_rdf *rdf)
{
	char tmp[ZW_DNS_NAME_STRLEN];
	int n = zw_dns_dname_format(tmp, rdf);
	return n < 0 ? NULL : amemdup(a, tmp, (size_t)n);
}

/* Names compare without regard to ASCII case (RFC 4343), on their wire forms. */
static int name_eq(const ldns_rdf *x, const ldns_rdf *y)
{
	return zw_dns_dname_eq(x, y);
}

/* Is `sub` at or below `zone` (both presentation, absolute)? */
static int str_under(const char *sub, const char *zone)
{
	ldns_rdf *s = zw_dns_dname_new(sub), *z = zw_dns_dname_new(zone);
	int r = zw_dns_dname_at_or_below(s, z);
	ldns_rdf_deep_free(s);
	ldns_rdf_deep_free(z);
	return r;
}

static int rdf_under(const ldns_rdf *sub, const ldns_rdf *zone)
{
	return zw_dns_dname_at_or_below(sub, zone);
}

/* ---- records ---- */

static const ldns_rdf *rdf_of(const ldns_rr *rr, size_t i, ldns_rdf_type t)
{
	const ldns_rdf *r = i < ldns_rr_rd_count(rr) ? ldns_rr_rdf(rr, i) : NULL;
	return r && ldns_rdf_get_type(r) == t ? r : NULL;
}

static uint32_t rdf_u32(const ldns_rdf *r)
{
	if (!r || ldns_rdf_size(r) != 4)
		return 0;
	return ldns_rdf2native_int32(r);
}

/* The rdata in presentation form (ldns's text), in the arena: written to a stack
 * buffer, and written again to the arena when it did not fit. */
static char *rdata_text(struct zw_arena *a, const ldns_rr *rr)
{
	char stack[2048], *heap = NULL, *s = stack;
	size_t cap = sizeof(stack), len = 0;

	for (int pass = 0; pass < 2; pass++) {
		len = 0;
		for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
			if (i && len++ < cap)
				s[len - 1] = ' ';
			long n = zw_dns_rdf_text(s + (len < cap ? len : cap), len < cap ? cap - len : 0,
						 ldns_rr_rdf(rr, i));
			if (n < 0)
				return NULL;
			len += (size_t)n;
		}
		if (len <= cap)
			break;
		cap = len;
		if (!(s = heap = aalloc(a, cap + 1)))
			return NULL;
	}
	return heap ? heap : amemdup(a, stack, len);
}

static int conv_txt(struct zw_arena *a, struct zw_txt *t, const ldns_rr *rr)
{
	size_t n = ldns_rr_rd_count(rr), total = 0;

	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *r = ldns_rr_rdf(rr, i);
		if (ldns_rdf_size(r) >= 1)
			total += ldns_rdf_size(r) - 1;
	}
	t->data = aalloc(a, total + 1);
	t->lens = aalloc(a, (n ? n : 1) * sizeof(*t->lens));
	if (!t->data || !t->lens)
		return ZW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ldns_rdf *r = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(r);
		size_t sz = ldns_rdf_size(r), len = 0;
		if (sz >= 1) {
			len = d[0];
			if (len > sz - 1)
				len = sz - 1;
			memcpy(t->data + t->len, d + 1, len);
		}
		t->lens[t->n++] = len;
		t->len += len;
	}
	return 0;
}

static int conv_rr(struct zw_arena *a, struct zw_rr *out, const ldns_rr *rr)
{
	const ldns_rdf *r;

	out->owner = adname(a, ldns_rr_owner(rr));
	out->type = (uint16_t)ldns_rr_get_type(rr);
	out->ttl = ldns_rr_ttl(rr);
	out->text = rdata_text(a, rr);
	if (!out->owner || !out->text)
		return ZW_ENOMEM;
	switch (out->type) {
	case LDNS_RR_TYPE_TXT:
	case LDNS_RR_TYPE_SPF: return conv_txt(a, &out->txt, rr);
	case LDNS_RR_TYPE_CNAME:
	case LDNS_RR_TYPE_DNAME:
	case LDNS_RR_TYPE_NS:
	case LDNS_RR_TYPE_PTR:
		if ((r = rdf_of(rr, 0, LDNS_RDF_TYPE_DNAME)) && !(out->target = adname(a, r)))
			return ZW_ENOMEM;
		return 0;
	case LDNS_RR_TYPE_MX:
		if ((r = rdf_of(rr, 0, LDNS_RDF_TYPE_INT16)) && ldns_rdf_size(r) == 2)
			out->pref = ldns_rdf2native_int16(r);
		if ((r = rdf_of(rr, 1, LDNS_RDF_TYPE_DNAME)) && !(out->target = adname(a, r)))
			return ZW_ENOMEM;
		return 0;
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_AAAA:
		r = ldns_rr_rd_count(rr) ? ldns_rr_rdf(rr, 0) : NULL;
		if (r)
			zw_dns_addr_from_rdata(&out->addr, ldns_rdf_data(r), ldns_rdf_size(r));
		return 0;
	case LDNS_RR_TYPE_SOA:
		if ((r = rdf_of(rr, 0, LDNS_RDF_TYPE_DNAME)) && !(out->soa.mname = adname(a, r)))
			return ZW_ENOMEM;
		if ((r = rdf_of(rr, 1, LDNS_RDF_TYPE_DNAME)) && !(out->soa.rname = adname(a, r)))
			return ZW_ENOMEM;
		out->soa.serial = rdf_u32(ldns_rr_rd_count(rr) > 2 ? ldns_rr_rdf(rr, 2) : NULL);
		out->soa.refresh = rdf_u32(ldns_rr_rd_count(rr) > 3 ? ldns_rr_rdf(rr, 3) : NULL);
		out->soa.retry = rdf_u32(ldns_rr_rd_count(rr) > 4 ? ldns_rr_rdf(rr, 4) : NULL);
		out->soa.expire = rdf_u32(ldns_rr_rd_count(rr) > 5 ? ldns_rr_rdf(rr, 5) : NULL);
		out->soa.minimum = rdf_u32(ldns_rr_rd_count(rr) > 6 ? ldns_rr_rdf(rr, 6) : NULL);
		return 0;
	default: return 0;
	}
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_rr(const void *x, const void *y)
{
	const struct zw_rr *a = x, *b = y;
	return strcmp(a->text, b->text);
}

static int cmp_addr(const void *x, const void *y)
{
	return zw_dns_addr_cmp(x, y);
}

/* Sort and remove duplicates from an array of strings; returns the new count. */
static size_t sort_unique(char **v, size_t n)
{
	size_t k = 0;
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	return k;
}

static size_t addr_unique(struct zw_dns_addr *v, size_t n)
{
	size_t k = 0;
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_addr);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || zw_dns_addr_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	return k;
}

/* ---- reading one answer ---- */

struct ana {
	enum zw_obs_kind kind;
	const ldns_rr *cn[MAX_ANSWER_CNAMES];
	size_t ncn;
	int loop;
	const ldns_rdf *end; /* the name the data is at (qname or the last target) */
	int soa_auth;
	const ldns_rdf *ref_zone; /* REFERRAL: owner of the first NS in authority */
};

static void analyze(struct ana *o, const ldns_pkt *pkt, const ldns_rdf *qname, uint16_t qtype)
{
	const ldns_rr_list *an = ldns_pkt_answer(pkt), *au = ldns_pkt_authority(pkt);
	int rcode = ldns_pkt_get_rcode(pkt);
	size_t ndata = 0;

	memset(o, 0, sizeof(*o));
	o->end = qname;
	for (size_t i = 0; i < ldns_rr_list_rr_count(au); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(au, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			o->soa_auth = 1;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS && !o->ref_zone)
			o->ref_zone = ldns_rr_owner(rr);
	}
	while (qtype != LDNS_RR_TYPE_CNAME && !o->loop) {
		const ldns_rr *next = NULL;
		for (size_t i = 0; i < ldns_rr_list_rr_count(an) && !next; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    name_eq(ldns_rr_owner(rr), o->end) && rdf_of(rr, 0, LDNS_RDF_TYPE_DNAME))
				next = rr;
		}
		if (!next)
			break;
		if (o->ncn == MAX_ANSWER_CNAMES) {
			o->loop = 1; /* a chain this long inside one answer is treated as a loop */
			break;
		}
		const ldns_rdf *t = ldns_rr_rdf(next, 0);
		o->cn[o->ncn++] = next;
		if (name_eq(t, qname))
			o->loop = 1;
		for (size_t k = 0; k + 1 < o->ncn; k++)
			if (name_eq(t, ldns_rr_owner(o->cn[k])))
				o->loop = 1;
		o->end = t;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == qtype && name_eq(ldns_rr_owner(rr), o->end))
			ndata++;
	}
	if (rcode == LDNS_RCODE_NXDOMAIN)
		o->kind = ZW_OBS_NXDOMAIN;
	else if (rcode != LDNS_RCODE_NOERROR)
		o->kind = ZW_OBS_RCODE;
	else if (ndata && !o->loop)
		o->kind = ZW_OBS_DATA;
	else if (o->ncn && o->loop)
		o->kind = ZW_OBS_CNAME;
	else if (o->ncn)
		o->kind = o->soa_auth ? ZW_OBS_NODATA : ZW_OBS_CNAME;
	else if (o->ref_zone && !ldns_pkt_aa(pkt) && !o->soa_auth)
		o->kind = ZW_OBS_REFERRAL;
	else
		o->kind = ZW_OBS_NODATA;
}

static int is_data(const struct ana *o, const ldns_rr *rr, uint16_t qtype)
{
	return ldns_rr_get_type(rr) == qtype && name_eq(ldns_rr_owner(rr), o->end);
}

/* The NS names of the authority section with owner `zone`, sorted, unique. */
static int ns_names(struct zw_arena *a, char ***out, size_t *n, const ldns_rr_list *l, const ldns_rdf *zone)
{
	size_t cnt = ldns_rr_list_rr_count(l), k = 0;
	char **v = aalloc(a, (cnt ? cnt : 1) * sizeof(*v));

	if (!v)
		return ZW_ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		const ldns_rdf *t = rdf_of(rr, 0, LDNS_RDF_TYPE_DNAME);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || !t || !name_eq(ldns_rr_owner(rr), zone))
			continue;
		if (!(v[k++] = adname(a, t)))
			return ZW_ENOMEM;
	}
	*out = v;
	*n = sort_unique(v, k);
	return 0;
}

int zw_obs_answer_from_pkt(struct zw_obs_answer *out, struct zw_arena *a, const ldns_pkt *pkt,
			   const char *qname, uint16_t qtype)
{
	struct ana o;
	struct zw_dname qd;
	const ldns_rdf *q = zw_dns_dname_init(&qd, qname);
	const ldns_rr_list *an = ldns_pkt_answer(pkt);
	int rc = ZW_ENOMEM;
	size_t k = 0;

	if (!q)
		return ZW_ENOMEM;
	analyze(&o, pkt, q, qtype);
	out->kind = o.kind;
	out->aa = ldns_pkt_aa(pkt) ? 1 : 0;
	out->rcode = ldns_pkt_get_rcode(pkt);
	out->soa_in_authority = o.soa_auth;
	out->cname_loop = o.loop;
	out->cnames = aalloc(a, (o.ncn ? o.ncn : 1) * sizeof(*out->cnames));
	out->rrs = aalloc(a, (ldns_rr_list_rr_count(an) + 1) * sizeof(*out->rrs));
	if (!out->cnames || !out->rrs)
		goto out;
	for (size_t i = 0; i < o.ncn; i++)
		if (conv_rr(a, &out->cnames[out->n_cnames++], o.cn[i]) < 0)
			goto out;
	if (!o.loop) {
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (is_data(&o, rr, qtype) && conv_rr(a, &out->rrs[k++], rr) < 0)
				goto out;
		}
	}
	out->n_rrs = k;
	qsort(out->rrs, k, sizeof(*out->rrs), cmp_rr);
	if (o.kind == ZW_OBS_REFERRAL) {
		out->referral_zone = adname(a, o.ref_zone);
		if (!out->referral_zone || ns_names(a, &out->referral_ns, &out->n_referral_ns,
						    ldns_pkt_authority(pkt), o.ref_zone) < 0)
			goto out;
	}
	rc = 0;
out:
	return rc;
}

/* Record a transport result (and, when there is one, the answer) for (qname, qtype). */
static int conv_answer(struct zw_arena *a, struct zw_obs_answer *out, const struct zw_dns_result *res,
		       const char *qname, uint16_t qtype)
{
	memset(out, 0, sizeof(*out));
	out->status = res->status;
	out->transport = res->transport;
	out->truncated = res->truncated ? 1 : 0;
	out->rcode = -1;
	if (res->reason && *res->reason && !(out->reason = astrdup(a, res->reason)))
		return ZW_ENOMEM;
	if (res->status != ZW_DNS_OK || !res->pkt) {
		out->kind = ZW_OBS_FAILED;
		return 0;
	}
	return zw_obs_answer_from_pkt(out, a, res->pkt, qname, qtype);
}

/* ---- servers being asked ---- */

struct srv {
	char *name;
	struct zw_dns_addr *addrs;
	size_t n;
	size_t tried;  /* addresses asked so far, in order */
	int looked_up; /* sub-walks for its addresses were started */
};

struct srvlist {
	struct srv *v;
	size_t n;
};

static void srvlist_free(struct srvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		zw_free(l->v[i].name);
		zw_free(l->v[i].addrs);
	}
	zw_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static struct srv *srv_find(struct srvlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* Add `name` (taking it) unless present; NULL when out of memory. */
static struct srv *srv_add(struct srvlist *l, char *name)
{
	struct srv *s = srv_find(l, name);
	if (s) {
		zw_free(name);
		return s;
	}
	struct srv *v = zw_realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		zw_free(name);
		return NULL;
	}
	l->v = v;
	s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->name = name;
	return s;
}

static int srv_add_addr(struct srv *s, const struct zw_dns_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (zw_dns_addr_cmp(&s->addrs[i], a) == 0)
			return 0;
	struct zw_dns_addr *v = zw_realloc(s->addrs, (s->n + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	s->addrs = v;
	s->addrs[s->n++] = *a;
	return 0;
}

static int cmp_srv(const void *x, const void *y)
{
	return strcmp(((const struct srv *)x)->name, ((const struct srv *)y)->name);
}

/*
 * The servers of a referral (or an NS answer) in `pkt` for `zone`: the NS names, with
 * the A/AAAA of the additional section for them. Glue is taken only for names at or
 * below `bailiwick` (the zone of the server that sent it), the classic rule against
 * cache poisoning.
 */
static int srvlist_from_pkt(struct srvlist *out, const ldns_pkt *pkt, const ldns_rr_list *nsl,
			    const ldns_rdf *zone, const ldns_rdf *bailiwick)
{
	const ldns_rr_list *ad = ldns_pkt_additional(pkt);

	for (size_t i = 0; i < ldns_rr_list_rr_count(nsl); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(nsl, i);
		const ldns_rdf *t = rdf_of(rr, 0, LDNS_RDF_TYPE_DNAME);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || !t || !name_eq(ldns_rr_owner(rr), zone))
			continue;
		if (out->n == MAX_REFERRAL_NS)
			break;
		char *name = zw_dns_dname_str(t);
		struct srv *s = name ? srv_add(out, name) : NULL;
		if (!s)
			return ZW_ENOMEM;
		if (!rdf_under(t, bailiwick))
			continue;
		for (size_t j = 0; j < ldns_rr_list_rr_count(ad); j++) {
			const ldns_rr *g = ldns_rr_list_rr(ad, j);
			ldns_rr_type gt = ldns_rr_get_type(g);
			struct zw_dns_addr addr;
			if ((gt != LDNS_RR_TYPE_A && gt != LDNS_RR_TYPE_AAAA) ||
			    !name_eq(ldns_rr_owner(g), t) || ldns_rr_rd_count(g) < 1)
				continue;
			const ldns_rdf *r = ldns_rr_rdf(g, 0);
			if (zw_dns_addr_from_rdata(&addr, ldns_rdf_data(r), ldns_rdf_size(r)) == 0 &&
			    srv_add_addr(s, &addr) < 0)
				return ZW_ENOMEM;
		}
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_srv);
	return 0;
}

/* ---- the resolver and its asks ---- */

struct walk;
struct obsjob;

struct zw_resolver {
	struct zw_dns_loop *loop;
	struct srvlist hints;
	int rc;		     /* sticky ZW_ENOMEM */
	struct walk *walks;  /* every walk alive (for zw_resolver_free) */
	struct obsjob *jobs; /* observation jobs not started or not finished */
	struct lkjob *lookups;
};

struct ask {
	struct zw_resolver *r;
	void (*fn)(struct ask *a, const struct zw_dns_result *res);
	void *p;
	size_t i, j;
};

static void on_dns(void *arg, const struct zw_dns_result *res)
{
	struct ask *a = arg;
	a->fn(a, res);
	zw_free(a);
}

static int set_oom(struct zw_resolver *r)
{
	r->rc = ZW_ENOMEM;
	return ZW_ENOMEM;
}

/* Send a question; 0 when fn will be called, else ZW_ENOMEM or ZW_ERATE (no call). */
static int ask(struct zw_resolver *r, const struct zw_dns_addr *addr, const char *qname, uint16_t qtype,
	       void (*fn)(struct ask *, const struct zw_dns_result *), void *p, size_t i, size_t j)
{
	if (r->rc)
		return r->rc;
	struct ask *a = zw_malloc(sizeof(*a));
	if (!a)
		return set_oom(r);
	a->r = r;
	a->fn = fn;
	a->p = p;
	a->i = i;
	a->j = j;
	int rc = zw_dns_query(r->loop, addr, qname, qtype, on_dns, a, NULL);
	if (rc < 0) {
		zw_free(a);
		if (rc == ZW_ENOMEM)
			set_oom(r);
		return rc;
	}
	return 0;
}

/* ---- walks ---- */

enum walk_mode {
	W_LOOKUP, /* resolve (qname, qtype), following CNAMEs */
	W_DELEG,  /* stop at the answer of the zone above qname to (qname, NS) */
};

struct walk {
	struct zw_resolver *r;
	struct walk *prev, *next; /* the resolver's list */
	enum walk_mode mode;
	unsigned nest;
	char *orig;  /* the name asked */
	char *qname; /* the name asked now (the end of the CNAMEs so far) */
	uint16_t qtype;
	char *zone; /* whose servers are asked */
	/* qname and zone as dname rdfs (NULL for a bad name), set with them */
	struct zw_dname qd, zd;
	const ldns_rdf *qrdf, *zrdf;
	struct srvlist srv;
	unsigned asked, referrals;
	ldns_rr_list *chain; /* CNAMEs followed in earlier answers (clones) */
	char **visited;	     /* orig and every CNAME target so far */
	size_t nvisited;
	int loop, too_long;
	unsigned subs; /* sub-walks outstanding */
	/* the outcome */
	const struct zw_dns_result *final; /* borrowed from the loop's cache */
	char *final_server;
	struct zw_dns_addr final_addr;
	char reason[ZW_DNS_REASON_MAX + 96];
	enum zw_dns_status last_status; /* of the last failed exchange */
	enum zw_dns_transport last_transport;
	/* the owner's continuation; it must free the walk */
	void (*on_done)(struct walk *w);
	void *owner;
	size_t oi, oj;
};

static void walk_free(struct walk *w)
{
	if (!w)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else if (w->r && w->r->walks == w)
		w->r->walks = w->next;
	if (w->next)
		w->next->prev = w->prev;
	srvlist_free(&w->srv);
	ldns_rr_list_deep_free(w->chain);
	for (size_t i = 0; w->visited && i < ZW_RESOLVE_MAX_CNAMES + 2; i++)
		zw_free(w->visited[i]); /* calloc'd: unused slots are NULL */
	zw_free(w->visited);
	zw_free(w->orig);
	zw_free(w->qname);
	zw_free(w->zone);
	zw_free(w->final_server);
	zw_free(w);
}

static void walk_advance(struct walk *w);

static void walk_note(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void walk_note(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->reason, sizeof(w->reason), fmt, ap);
	va_end(ap);
}

static void walk_finish(struct walk *w)
{
	w->on_done(w);
}

/* Start at the root hints. */
static int walk_to_root(struct walk *w)
{
	char *root = zw_strdup(".");
	if (!root)
		return set_oom(w->r);
	zw_free(w->zone);
	w->zone = root;
	w->zrdf = zw_dns_dname_init(&w->zd, root);
	srvlist_free(&w->srv);
	for (size_t i = 0; i < w->r->hints.n; i++) {
		const struct srv *h = &w->r->hints.v[i];
		char *name = zw_strdup(h->name);
		struct srv *s = name ? srv_add(&w->srv, name) : NULL;
		if (!s)
			return set_oom(w->r);
		for (size_t k = 0; k < h->n; k++)
			if (srv_add_addr(s, &h->addrs[k]) < 0)
				return set_oom(w->r);
	}
	return 0;
}

static struct walk *walk_new(struct zw_resolver *r, enum walk_mode mode, const char *name, uint16_t qtype,
			     unsigned nest, void (*on_done)(struct walk *), void *owner, size_t oi, size_t oj)
{
	struct walk *w = zw_calloc(1, sizeof(*w));
	if (!w) {
		set_oom(r);
		return NULL;
	}
	w->r = r;
	w->next = r->walks;
	if (r->walks)
		r->walks->prev = w;
	r->walks = w;
	w->mode = mode;
	w->nest = nest;
	w->qtype = qtype;
	w->on_done = on_done;
	w->owner = owner;
	w->oi = oi;
	w->oj = oj;
	w->orig = zw_strdup(name);
	w->qname = zw_strdup(name);
	w->qrdf = w->qname ? zw_dns_dname_init(&w->qd, w->qname) : NULL;
	w->visited = zw_calloc(ZW_RESOLVE_MAX_CNAMES + 2, sizeof(*w->visited));
	w->chain = ldns_rr_list_new();
	if (!w->orig || !w->qname || !w->visited || !w->chain || !(w->visited[0] = zw_strdup(name)) ||
	    walk_to_root(w) < 0) {
		set_oom(r);
		walk_free(w);
		return NULL;
	}
	w->nvisited = 1;
	return w;
}

static void walk_on_answer(struct ask *a, const struct zw_dns_result *res);
static void walk_sub_done(struct walk *sub);

/*
 * Start a walk: it calls on_done exactly once, maybe before this returns (then the
 * caller's guard keeps it from moving on too early). Returns -1 when it could not even
 * be made (out of memory: r->rc is set and on_done is not called).
 */
static int walk_start(struct zw_resolver *r, enum walk_mode mode, const char *name, uint16_t qtype,
		      unsigned nest, void (*on_done)(struct walk *), void *owner, size_t oi, size_t oj)
{
	struct walk *w = walk_new(r, mode, name, qtype, nest, on_done, owner, oi, oj);
	if (!w)
		return -1;
	walk_advance(w);
	return 0;
}

static void walk_advance(struct walk *w)
{
	struct zw_resolver *r = w->r;

	for (;;) {
		if (r->rc) {
			walk_note(w, "out of memory");
			walk_finish(w);
			return;
		}
		if (w->asked >= MAX_WALK_QUERIES) {
			walk_note(w, "gave up after %u queries", w->asked);
			walk_finish(w);
			return;
		}
		struct srv *s = NULL;
		for (size_t i = 0; i < w->srv.n && !s; i++)
			if (w->srv.v[i].tried < w->srv.v[i].n)
				s = &w->srv.v[i];
		if (s) {
			size_t si = (size_t)(s - w->srv.v);
			const struct zw_dns_addr *addr = &s->addrs[s->tried++];
			w->asked++;
			int rc = ask(r, addr, w->qname, w->mode == W_DELEG ? LDNS_RR_TYPE_NS : w->qtype,
				     walk_on_answer, w, si, s->tried - 1);
			if (rc == 0)
				return;
			if (rc == ZW_ERATE) {
				walk_note(w, "the cycle's query budget is spent");
				walk_finish(w);
				return;
			}
			continue;
		}
		/* Every known address was tried: resolve the names that came without one. */
		unsigned started = 0;
		if (w->nest < ZW_RESOLVE_MAX_NEST) {
			w->subs = 1; /* guard */
			for (size_t i = 0; i < w->srv.n; i++) {
				struct srv *t = &w->srv.v[i];
				if (t->looked_up || t->n)
					continue;
				t->looked_up = 1;
				for (int k = 0; k < 2; k++) {
					uint16_t ty = k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A;
					w->subs++;
					if (walk_start(r, W_LOOKUP, t->name, ty, w->nest + 1, walk_sub_done,
						       w, i, 0) < 0)
						w->subs--;
					else
						started++;
				}
			}
			w->subs--;
			if (started) {
				if (w->subs == 0)
					continue; /* they all finished already */
				return;
			}
		}
		if (!w->reason[0])
			walk_note(w, "no server of zone %s has an address", w->zone);
		walk_finish(w);
		return;
	}
}

static void walk_sub_done(struct walk *sub)
{
	struct walk *w = sub->owner;
	const struct zw_dns_result *res = sub->final;

	if (res && res->pkt && !w->r->rc) {
		const ldns_rdf *q = sub->qrdf;
		struct ana o;
		if (!q) {
			set_oom(w->r);
		} else {
			analyze(&o, res->pkt, q, sub->qtype);
			const ldns_rr_list *an = ldns_pkt_answer(res->pkt);
			for (size_t i = 0; o.kind == ZW_OBS_DATA && i < ldns_rr_list_rr_count(an); i++) {
				const ldns_rr *rr = ldns_rr_list_rr(an, i);
				struct zw_dns_addr addr;
				if (!is_data(&o, rr, sub->qtype) || ldns_rr_rd_count(rr) < 1)
					continue;
				const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
				if (zw_dns_addr_from_rdata(&addr, ldns_rdf_data(rd), ldns_rdf_size(rd)) ==
					    0 &&
				    srv_add_addr(&w->srv.v[sub->oi], &addr) < 0)
					set_oom(w->r);
			}
		}
	}
	walk_free(sub);
	if (--w->subs == 0)
		walk_advance(w);
}

/* Does every name in the new part of the chain differ from those visited? */
static int chain_loops(struct walk *w, const struct ana *o)
{
	for (size_t i = 0; i < o->ncn; i++) {
		const ldns_rdf *t = ldns_rr_rdf(o->cn[i], 0);
		for (size_t k = 0; k < w->nvisited; k++) {
			ldns_rdf *v = zw_dns_dname_new(w->visited[k]);
			int same = v && name_eq(v, t);
			ldns_rdf_deep_free(v);
			if (same)
				return 1;
		}
	}
	return 0;
}

/* The address as text in buf[ZW_DNS_ADDR_STRLEN], for a note (only formatted when one is
 * written). */
static const char *addr_str(char *buf, const struct zw_dns_addr *addr)
{
	zw_dns_addr_format(buf, ZW_DNS_ADDR_STRLEN, addr);
	return buf;
}

static void walk_on_answer(struct ask *a, const struct zw_dns_result *res)
{
	struct walk *w = a->p;
	struct srv *s = &w->srv.v[a->i];
	const struct zw_dns_addr *addr = &s->addrs[a->j];
	char as[ZW_DNS_ADDR_STRLEN];
	uint16_t qtype = w->mode == W_DELEG ? LDNS_RR_TYPE_NS : w->qtype;
	const ldns_rdf *q = NULL, *zone = NULL;
	struct ana o;

	if (res->status != ZW_DNS_OK) {
		w->last_status = res->status;
		w->last_transport = res->transport;
		walk_note(w, "%s (%s) for zone %s: %s: %s", s->name, addr_str(as, addr), w->zone,
			  zw_dns_status_name(res->status), res->reason);
		goto next;
	}
	q = w->qrdf;
	zone = w->zrdf;
	if (!q || !zone) {
		set_oom(w->r);
		goto next;
	}
	analyze(&o, res->pkt, q, qtype);
	if (o.kind == ZW_OBS_RCODE) {
		w->last_status = ZW_DNS_OK;
		walk_note(w, "%s (%s) for zone %s answered %s", s->name, addr_str(as, addr), w->zone,
			  zw_rcode_name(ldns_pkt_get_rcode(res->pkt)));
		goto next;
	}
	if (o.kind == ZW_OBS_REFERRAL) {
		const ldns_rdf *rz = o.ref_zone;
		if (name_eq(rz, zone) || !rdf_under(rz, zone) || !rdf_under(q, rz)) {
			char *rzs = zw_dns_dname_str(rz);
			walk_note(w, "%s (%s) for zone %s sent a bad referral to %s", s->name,
				  addr_str(as, addr), w->zone, rzs ? rzs : "?");
			zw_free(rzs);
			goto next;
		}
		if (w->mode == W_DELEG && name_eq(rz, q))
			goto done;
		if (++w->referrals > ZW_RESOLVE_MAX_REFERRALS) {
			walk_note(w, "more than %d referrals", ZW_RESOLVE_MAX_REFERRALS);
			goto done_failed;
		}
		struct srvlist next = {0};
		char *nz = zw_dns_dname_str(rz);
		if (!nz || srvlist_from_pkt(&next, res->pkt, ldns_pkt_authority(res->pkt), rz, zone) < 0) {
			zw_free(nz);
			srvlist_free(&next);
			set_oom(w->r);
			goto next;
		}
		srvlist_free(&w->srv);
		w->srv = next;
		zw_free(w->zone);
		w->zone = nz;
		w->zrdf = zw_dns_dname_init(&w->zd, nz);
		goto next;
	}
	if (!ldns_pkt_aa(res->pkt)) {
		walk_note(w, "%s (%s) for zone %s answered without aa", s->name, addr_str(as, addr), w->zone);
		goto next;
	}
	if (w->mode == W_DELEG || o.kind != ZW_OBS_CNAME)
		goto done;
	/* A CNAME leaving this zone: follow it from the root. */
	if (o.loop || chain_loops(w, &o)) {
		w->loop = 1;
		goto done;
	}
	if (ldns_rr_list_rr_count(w->chain) + o.ncn > ZW_RESOLVE_MAX_CNAMES) {
		w->too_long = 1;
		goto done;
	}
	for (size_t i = 0; i < o.ncn; i++) {
		ldns_rr *c = ldns_rr_clone(o.cn[i]);
		char *t = zw_dns_dname_str(ldns_rr_rdf(o.cn[i], 0));
		if (!c || !t || !ldns_rr_list_push_rr(w->chain, c)) {
			ldns_rr_free(c);
			zw_free(t);
			set_oom(w->r);
			goto next;
		}
		w->visited[w->nvisited++] = t;
	}
	char *nq = zw_strdup(w->visited[w->nvisited - 1]);
	if (!nq) {
		set_oom(w->r);
		goto next;
	}
	zw_free(w->qname);
	w->qname = nq;
	w->qrdf = zw_dns_dname_init(&w->qd, nq);
	if (walk_to_root(w) < 0)
		goto next;
	w->reason[0] = '\0';
	goto next;

done:
	w->final = res;
	w->final_addr = *addr;
	w->final_server = zw_strdup(s->name);
	if (!w->final_server)
		set_oom(w->r);
	w->reason[0] = '\0';
done_failed:
	walk_finish(w);
	return;
next:
	walk_advance(w);
}

/* The outcome of a lookup walk, into `out` (arena a). */
static int conv_lookup(struct zw_arena *a, struct zw_obs_lookup *out, const struct walk *w)
{
	memset(out, 0, sizeof(*out));
	out->name = astrdup(a, w->orig);
	out->type = w->qtype;
	out->too_long = w->too_long ? 1 : 0;
	if (!out->name)
		return ZW_ENOMEM;
	if (!w->final) {
		out->ans.kind = ZW_OBS_FAILED;
		out->ans.status = w->last_status;
		out->ans.transport = w->last_transport;
		out->ans.rcode = -1;
		out->ans.reason = astrdup(a, w->reason[0] ? w->reason : "no server answered");
		return out->ans.reason ? 0 : ZW_ENOMEM;
	}
	if (conv_answer(a, &out->ans, w->final, w->qname, w->qtype) < 0)
		return ZW_ENOMEM;
	out->zone = astrdup(a, w->zone);
	out->server = astrdup(a, w->final_server);
	out->addr = w->final_addr;
	if (!out->zone || !out->server)
		return ZW_ENOMEM;
	if (w->loop)
		out->ans.cname_loop = 1;
	size_t prev = ldns_rr_list_rr_count(w->chain);
	if (prev) {
		struct zw_rr *all = aalloc(a, (prev + out->ans.n_cnames) * sizeof(*all));
		if (!all)
			return ZW_ENOMEM;
		for (size_t i = 0; i < prev; i++)
			if (conv_rr(a, &all[i], ldns_rr_list_rr(w->chain, i)) < 0)
				return ZW_ENOMEM;
		if (out->ans.n_cnames)
			memcpy(all + prev, out->ans.cnames, out->ans.n_cnames * sizeof(*all));
		out->ans.cnames = all;
		out->ans.n_cnames += prev;
	}
	return 0;
}

/* ---- observation jobs ---- */

enum phase {
	PH_WALK,	 /* find the parent */
	PH_PARENT_ADDRS, /* resolve parent servers without an address */
	PH_PARENT_ASK,	 /* ask every parent address for (zone, NS) */
	PH_NSNAMES,	 /* resolve every delegated NS name */
	PH_SERVERS,	 /* ask every delegated address; resolve the questions */
	PH_CHILD_NS,	 /* resolve NS names only the child lists */
	PH_FINISH,	 /* sort what is left */
	PH_DONE,
};

struct obsjob {
	struct zw_resolver *r;
	struct obsjob *next;
	struct zw_obs *o;
	struct zw_arena *a;
	enum phase phase;
	unsigned pending;
	int started;
	char *target;	     /* the zone whose delegation is sought */
	int restarted;	     /* the domain was inside a zone: looked for that zone */
	struct srvlist psrv; /* the parent's servers */
};

static void job_step(struct obsjob *j);

static void job_dec(struct obsjob *j)
{
	if (--j->pending == 0)
		job_step(j);
}

static void job_fail(struct obsjob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(struct obsjob *j, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!j->o->walk_error && !(j->o->walk_error = astrdup(j->a, msg)))
		set_oom(j->r);
	j->phase = PH_DONE;
}

static void deleg_done(struct walk *w)
{
	struct obsjob *j = w->owner;
	struct zw_obs *o = j->o;
	const struct zw_dns_result *res = w->final;

	if (!res) {
		job_fail(j, "cannot reach the parent of %s: %s", j->target,
			 w->reason[0] ? w->reason : "no answer");
		goto out;
	}
	struct zw_obs_answer ans;
	if (conv_answer(j->a, &ans, res, j->target, LDNS_RR_TYPE_NS) < 0) {
		set_oom(j->r);
		job_fail(j, "out of memory");
		goto out;
	}
	if ((ans.kind == ZW_OBS_NODATA || ans.kind == ZW_OBS_CNAME) && !j->restarted) {
		/* The domain is a name inside zone w->zone, not a zone itself. */
		if (strcmp(w->zone, ".") == 0) {
			job_fail(j, "%s is a name in the root zone", o->domain);
			goto out;
		}
		char *t = zw_strdup(w->zone);
		if (!t) {
			set_oom(j->r);
			job_fail(j, "out of memory");
			goto out;
		}
		zw_free(j->target);
		j->target = t;
		j->restarted = 1;
		j->phase = PH_WALK;
		j->pending++;
		if (walk_start(j->r, W_DELEG, j->target, LDNS_RR_TYPE_NS, 0, deleg_done, j, 0, 0) < 0) {
			j->pending--;
			job_fail(j, "out of memory");
		}
		goto out;
	}
	o->zone = astrdup(j->a, j->target);
	o->parent = astrdup(j->a, w->zone);
	if (!o->zone || !o->parent) {
		set_oom(j->r);
		job_fail(j, "out of memory");
		goto out;
	}
	j->psrv = w->srv;
	w->srv.v = NULL;
	w->srv.n = 0;
	j->phase = PH_PARENT_ADDRS;
out:
	walk_free(w);
	job_dec(j);
}

static void parent_addr_done(struct walk *sub)
{
	struct obsjob *j = sub->owner;
	const struct zw_dns_result *res = sub->final;

	if (res && res->pkt && !j->r->rc) {
		struct zw_obs_lookup lk;
		struct zw_arena *tmp = NULL;
		if (zw_arena_new(&tmp) < 0 || conv_lookup(tmp, &lk, sub) < 0) {
			set_oom(j->r);
		} else {
			for (size_t i = 0; lk.ans.kind == ZW_OBS_DATA && i < lk.ans.n_rrs; i++)
				if (srv_add_addr(&j->psrv.v[sub->oi], &lk.ans.rrs[i].addr) < 0)
					set_oom(j->r);
		}
		zw_arena_free(tmp);
	}
	walk_free(sub);
	job_dec(j);
}

static void referral_answer(struct ask *a, const struct zw_dns_result *res)
{
	struct obsjob *j = a->p;
	struct zw_obs_referral *ref = &j->o->referrals[a->i];
	const struct zw_obs_answer *an = &ref->ans;

	if (conv_answer(j->a, &ref->ans, res, j->target, LDNS_RR_TYPE_NS) < 0) {
		set_oom(j->r);
		goto out;
	}
	int deleg = (an->kind == ZW_OBS_REFERRAL && an->referral_zone &&
		     strcmp(an->referral_zone, j->target) == 0);
	int served = an->kind == ZW_OBS_DATA;
	if (!deleg && !served)
		goto out;
	/* The NS names and their glue, straight from the message. */
	ldns_rdf *zone = zw_dns_dname_new(j->target);
	ldns_rdf *bail = zw_dns_dname_new(j->o->parent);
	struct srvlist l = {0};
	if (!zone || !bail ||
	    srvlist_from_pkt(&l, res->pkt, deleg ? ldns_pkt_authority(res->pkt) : ldns_pkt_answer(res->pkt),
			     zone, served ? zone : bail) < 0) {
		set_oom(j->r);
	} else {
		size_t ng = 0;
		for (size_t i = 0; i < l.n; i++)
			ng += l.v[i].n;
		ref->ns = aalloc(j->a, (l.n + 1) * sizeof(*ref->ns));
		ref->glue = aalloc(j->a, (ng + 1) * sizeof(*ref->glue));
		if (!ref->ns || !ref->glue)
			set_oom(j->r);
		for (size_t i = 0; ref->ns && ref->glue && i < l.n; i++) {
			if (!(ref->ns[ref->n_ns++] = astrdup(j->a, l.v[i].name))) {
				set_oom(j->r);
				break;
			}
			for (size_t k = 0; k < l.v[i].n; k++) {
				ref->glue[ref->n_glue].name = ref->ns[ref->n_ns - 1];
				ref->glue[ref->n_glue++].addr = l.v[i].addrs[k];
			}
		}
	}
	srvlist_free(&l);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(bail);
out:
	job_dec(j);
}

static int add_unique(char **v, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i], s) == 0)
			return 0;
	v[(*n)++] = s;
	return 1;
}

static struct zw_obs_nsname *nsname_find(struct zw_obs *o, const char *name)
{
	for (size_t i = 0; i < o->n_nsnames; i++)
		if (strcmp(o->nsnames[i].name, name) == 0)
			return &o->nsnames[i];
	return NULL;
}

static void nsname_done(struct walk *w)
{
	struct obsjob *j = w->owner;
	struct zw_obs_nsname *n = &j->o->nsnames[w->oi];
	struct zw_obs_lookup *lk = w->oj ? &n->aaaa : &n->a;

	if (conv_lookup(j->a, lk, w) < 0)
		set_oom(j->r);
	if (lk->ans.n_cnames)
		n->is_cname = 1;
	walk_free(w);
	job_dec(j);
}

static void start_nsname_lookups(struct obsjob *j, size_t from)
{
	for (size_t i = from; i < j->o->n_nsnames; i++)
		for (size_t k = 0; k < 2; k++) {
			j->pending++;
			if (walk_start(j->r, W_LOOKUP, j->o->nsnames[i].name,
				       k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, 1, nsname_done, j, i, k) < 0)
				j->pending--;
		}
}

static void server_answer(struct ask *a, const struct zw_dns_result *res)
{
	struct obsjob *j = a->p;
	struct zw_obs_server *s = &j->o->servers[a->i];
	struct zw_obs_answer *dst;
	const char *qname;
	uint16_t qtype;

	if (a->j == 0) {
		dst = &s->soa, qname = j->o->zone, qtype = LDNS_RR_TYPE_SOA;
	} else if (a->j == 1) {
		dst = &s->ns, qname = j->o->zone, qtype = LDNS_RR_TYPE_NS;
	} else {
		struct zw_obs_question *q = &j->o->questions[a->j - 2];
		dst = &q->at[a->i], qname = q->name, qtype = q->type;
	}
	if (conv_answer(j->a, dst, res, qname, qtype) < 0)
		set_oom(j->r);
	job_dec(j);
}

static void question_done(struct walk *w)
{
	struct obsjob *j = w->owner;
	if (conv_lookup(j->a, &j->o->questions[w->oi].resolved, w) < 0)
		set_oom(j->r);
	walk_free(w);
	job_dec(j);
}

static int cmp_referral(const void *x, const void *y)
{
	const struct zw_obs_referral *a = x, *b = y;
	int c = strcmp(a->server, b->server);
	return c ? c : zw_dns_addr_cmp(&a->addr, &b->addr);
}

static int cmp_server(const void *x, const void *y)
{
	const struct zw_obs_server *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	return c ? c : zw_dns_addr_cmp(&a->addr, &b->addr);
}

static int cmp_nsname(const void *x, const void *y)
{
	return strcmp(((const struct zw_obs_nsname *)x)->name, ((const struct zw_obs_nsname *)y)->name);
}

/* PH_PARENT_ASK: one referral slot per parent address, asked in parallel. */
static void phase_parent_ask(struct obsjob *j)
{
	struct zw_obs *o = j->o;
	size_t n = 0;

	for (size_t i = 0; i < j->psrv.n; i++)
		n += j->psrv.v[i].n ? j->psrv.v[i].n : 1;
	o->referrals = aalloc(j->a, (n + 1) * sizeof(*o->referrals));
	if (!o->referrals) {
		set_oom(j->r);
		return;
	}
	for (size_t i = 0; i < j->psrv.n; i++) {
		const struct srv *s = &j->psrv.v[i];
		for (size_t k = 0; k < (s->n ? s->n : 1); k++) {
			struct zw_obs_referral *ref = &o->referrals[o->n_referrals];
			if (!(ref->server = astrdup(j->a, s->name))) {
				set_oom(j->r);
				return;
			}
			ref->ans.rcode = -1;
			if (!s->n) {
				ref->ans.kind = ZW_OBS_FAILED;
				ref->ans.status = ZW_DNS_NETWORK;
				ref->ans.reason = astrdup(j->a, "no address for this parent server");
				o->n_referrals++;
				continue;
			}
			ref->addr = s->addrs[k];
			j->pending++;
			if (ask(j->r, &ref->addr, j->target, LDNS_RR_TYPE_NS, referral_answer, j,
				o->n_referrals, 0) < 0) {
				j->pending--;
				ref->ans.kind = ZW_OBS_FAILED;
				ref->ans.reason = astrdup(j->a, "not asked: query budget or memory");
			}
			o->n_referrals++;
		}
	}
}

/* PH_NSNAMES: the delegation's verdict, the parent NS set, one nsname per name. */
static void phase_nsnames(struct obsjob *j)
{
	struct zw_obs *o = j->o;
	size_t total = 0, nxd = 0, deleg = 0;

	qsort(o->referrals, o->n_referrals, sizeof(*o->referrals), cmp_referral);
	for (size_t i = 0; i < o->n_referrals; i++) {
		total += o->referrals[i].n_ns;
		deleg += o->referrals[i].n_ns > 0;
		nxd += o->referrals[i].ans.kind == ZW_OBS_NXDOMAIN;
	}
	o->delegation = deleg ? ZW_DELEG_DELEGATED : nxd ? ZW_DELEG_NXDOMAIN : ZW_DELEG_UNKNOWN;
	if (!deleg) {
		if (!nxd)
			job_fail(j, "no server of %s gave a referral for %s", o->parent, o->zone);
		j->phase = PH_DONE;
		return;
	}
	o->parent_ns = aalloc(j->a, (total + 1) * sizeof(char *));
	o->nsnames = aalloc(j->a, (total + 1) * sizeof(*o->nsnames));
	if (!o->parent_ns || !o->nsnames) {
		set_oom(j->r);
		return;
	}
	for (size_t i = 0; i < o->n_referrals; i++)
		for (size_t k = 0; k < o->referrals[i].n_ns; k++)
			add_unique(o->parent_ns, &o->n_parent_ns, o->referrals[i].ns[k]);
	o->n_parent_ns = sort_unique(o->parent_ns, o->n_parent_ns);
	for (size_t i = 0; i < o->n_parent_ns; i++) {
		struct zw_obs_nsname *n = &o->nsnames[o->n_nsnames++];
		size_t ng = 0;
		n->name = o->parent_ns[i];
		n->in_parent = 1;
		n->in_bailiwick = str_under(n->name, o->zone) ? 1 : 0;
		for (size_t r = 0; r < o->n_referrals; r++)
			ng += o->referrals[r].n_glue;
		n->glue = aalloc(j->a, (ng + 1) * sizeof(*n->glue));
		if (!n->glue) {
			set_oom(j->r);
			return;
		}
		for (size_t r = 0; r < o->n_referrals; r++)
			for (size_t g = 0; g < o->referrals[r].n_glue; g++)
				if (strcmp(o->referrals[r].glue[g].name, n->name) == 0)
					n->glue[n->n_glue++] = o->referrals[r].glue[g].addr;
		n->n_glue = addr_unique(n->glue, n->n_glue);
	}
	start_nsname_lookups(j, 0);
}

static int add_server(struct obsjob *j, const char *name, const struct zw_dns_addr *addr, int glue,
		      int lookup)
{
	struct zw_obs *o = j->o;
	for (size_t i = 0; i < o->n_servers; i++) {
		struct zw_obs_server *s = &o->servers[i];
		if (strcmp(s->name, name) == 0 && zw_dns_addr_cmp(&s->addr, addr) == 0) {
			s->from_glue |= glue;
			s->from_lookup |= lookup;
			return 0;
		}
	}
	struct zw_obs_server *s = &o->servers[o->n_servers++];
	s->name = (char *)name;
	s->addr = *addr;
	s->from_glue = glue;
	s->from_lookup = lookup;
	return 0;
}

/* PH_SERVERS: every address of every delegated name; ask it everything. */
static void phase_servers(struct obsjob *j)
{
	struct zw_obs *o = j->o;
	size_t cap = 0;

	for (size_t i = 0; i < o->n_nsnames; i++) {
		struct zw_obs_nsname *n = &o->nsnames[i];
		size_t na = n->a.ans.kind == ZW_OBS_DATA ? n->a.ans.n_rrs : 0;
		size_t n6 = n->aaaa.ans.kind == ZW_OBS_DATA ? n->aaaa.ans.n_rrs : 0;
		n->addrs = aalloc(j->a, (na + n6 + 1) * sizeof(*n->addrs));
		if (!n->addrs) {
			set_oom(j->r);
			return;
		}
		for (size_t k = 0; k < na; k++)
			n->addrs[n->n_addrs++] = n->a.ans.rrs[k].addr;
		for (size_t k = 0; k < n6; k++)
			n->addrs[n->n_addrs++] = n->aaaa.ans.rrs[k].addr;
		n->n_addrs = addr_unique(n->addrs, n->n_addrs);
		cap += n->n_addrs + n->n_glue;
	}
	o->servers = aalloc(j->a, (cap + 1) * sizeof(*o->servers));
	if (!o->servers) {
		set_oom(j->r);
		return;
	}
	for (size_t i = 0; i < o->n_nsnames; i++) {
		struct zw_obs_nsname *n = &o->nsnames[i];
		for (size_t k = 0; k < n->n_glue; k++)
			add_server(j, n->name, &n->glue[k], 1, 0);
		for (size_t k = 0; k < n->n_addrs; k++)
			add_server(j, n->name, &n->addrs[k], 0, 1);
	}
	qsort(o->servers, o->n_servers, sizeof(*o->servers), cmp_server);
	for (size_t q = 0; q < o->n_questions; q++) {
		o->questions[q].at = aalloc(j->a, (o->n_servers + 1) * sizeof(*o->questions[q].at));
		if (!o->questions[q].at) {
			set_oom(j->r);
			return;
		}
	}
	for (size_t i = 0; i < o->n_servers; i++) {
		struct zw_obs_server *s = &o->servers[i];
		for (size_t k = 0; k < 2 + o->n_questions; k++) {
			const char *name = k < 2 ? o->zone : o->questions[k - 2].name;
			uint16_t type = k == 0	 ? LDNS_RR_TYPE_SOA
					: k == 1 ? LDNS_RR_TYPE_NS
						 : o->questions[k - 2].type;
			struct zw_obs_answer *dst = k == 0   ? &s->soa
						    : k == 1 ? &s->ns
							     : &o->questions[k - 2].at[i];
			j->pending++;
			if (ask(j->r, &s->addr, name, type, server_answer, j, i, k) < 0) {
				j->pending--;
				dst->kind = ZW_OBS_FAILED;
				dst->rcode = -1;
				dst->reason = astrdup(j->a, "not asked: query budget or memory");
			}
		}
	}
	for (size_t q = 0; q < o->n_questions; q++) {
		j->pending++;
		if (walk_start(j->r, W_LOOKUP, o->questions[q].name, o->questions[q].type, 0, question_done,
			       j, q, 0) < 0)
			j->pending--;
	}
}

/* PH_CHILD_NS: the child's NS set; resolve the names only the child lists. */
static void phase_child_ns(struct obsjob *j)
{
	struct zw_obs *o = j->o;
	size_t total = 0;

	for (size_t i = 0; i < o->n_servers; i++)
		if (o->servers[i].ns.kind == ZW_OBS_DATA)
			total += o->servers[i].ns.n_rrs;
	o->child_ns = aalloc(j->a, (total + 1) * sizeof(char *));
	if (!o->child_ns) {
		set_oom(j->r);
		return;
	}
	for (size_t i = 0; i < o->n_servers; i++)
		if (o->servers[i].ns.kind == ZW_OBS_DATA)
			for (size_t k = 0; k < o->servers[i].ns.n_rrs; k++)
				if (o->servers[i].ns.rrs[k].target)
					add_unique(o->child_ns, &o->n_child_ns,
						   o->servers[i].ns.rrs[k].target);
	o->n_child_ns = sort_unique(o->child_ns, o->n_child_ns);
	size_t extra = 0;
	for (size_t i = 0; i < o->n_child_ns; i++) {
		struct zw_obs_nsname *n = nsname_find(o, o->child_ns[i]);
		if (n)
			n->in_child = 1;
		else
			extra++;
	}
	if (!extra)
		return;
	struct zw_obs_nsname *v = aalloc(j->a, (o->n_nsnames + extra) * sizeof(*v));
	if (!v) {
		set_oom(j->r);
		return;
	}
	memcpy(v, o->nsnames, o->n_nsnames * sizeof(*v));
	size_t from = o->n_nsnames;
	o->nsnames = v;
	for (size_t i = 0; i < o->n_child_ns; i++) {
		if (nsname_find(o, o->child_ns[i]))
			continue;
		struct zw_obs_nsname *n = &o->nsnames[o->n_nsnames++];
		n->name = o->child_ns[i];
		n->in_child = 1;
		n->in_bailiwick = str_under(n->name, o->zone) ? 1 : 0;
	}
	start_nsname_lookups(j, from);
}

static void phase_finish(struct obsjob *j)
{
	struct zw_obs *o = j->o;

	for (size_t i = 0; i < o->n_nsnames; i++) {
		struct zw_obs_nsname *n = &o->nsnames[i];
		if (n->addrs || (n->a.ans.kind != ZW_OBS_DATA && n->aaaa.ans.kind != ZW_OBS_DATA))
			continue;
		size_t na = n->a.ans.kind == ZW_OBS_DATA ? n->a.ans.n_rrs : 0;
		size_t n6 = n->aaaa.ans.kind == ZW_OBS_DATA ? n->aaaa.ans.n_rrs : 0;
		n->addrs = aalloc(j->a, (na + n6 + 1) * sizeof(*n->addrs));
		if (!n->addrs) {
			set_oom(j->r);
			return;
		}
		for (size_t k = 0; k < na; k++)
			n->addrs[n->n_addrs++] = n->a.ans.rrs[k].addr;
		for (size_t k = 0; k < n6; k++)
			n->addrs[n->n_addrs++] = n->aaaa.ans.rrs[k].addr;
		n->n_addrs = addr_unique(n->addrs, n->n_addrs);
	}
	qsort(o->nsnames, o->n_nsnames, sizeof(*o->nsnames), cmp_nsname);
}

/* Move to the next phase; called when nothing is pending. */
static void job_step(struct obsjob *j)
{
	while (j->pending == 0 && j->phase != PH_DONE) {
		if (j->r->rc) {
			j->phase = PH_DONE;
			break;
		}
		j->pending = 1; /* guard: completions inside a phase's start cannot re-enter */
		switch (j->phase) {
		case PH_WALK:
			j->pending++;
			if (walk_start(j->r, W_DELEG, j->target, LDNS_RR_TYPE_NS, 0, deleg_done, j, 0, 0) <
			    0) {
				j->pending--;
				job_fail(j, "out of memory");
			}
			break;
		case PH_PARENT_ADDRS:
			j->phase = PH_PARENT_ASK;
			for (size_t i = 0; i < j->psrv.n; i++) {
				if (j->psrv.v[i].n)
					continue;
				for (size_t k = 0; k < 2; k++) {
					j->pending++;
					if (walk_start(j->r, W_LOOKUP, j->psrv.v[i].name,
						       k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, 1,
						       parent_addr_done, j, i, k) < 0)
						j->pending--;
				}
			}
			break;
		case PH_PARENT_ASK:
			j->phase = PH_NSNAMES;
			phase_parent_ask(j);
			break;
		case PH_NSNAMES:
			j->phase = PH_SERVERS;
			phase_nsnames(j);
			break;
		case PH_SERVERS:
			j->phase = PH_CHILD_NS;
			phase_servers(j);
			break;
		case PH_CHILD_NS:
			j->phase = PH_FINISH;
			phase_child_ns(j);
			break;
		default:
			phase_finish(j);
			j->phase = PH_DONE;
			break;
		}
		j->pending--;
	}
}

/* ---- the resolver ---- */

int zw_resolver_new(struct zw_resolver **out, const struct zw_roothints *hints,
		    const struct zw_resolver_opts *opts, struct zw_error *err)
{
	struct zw_resolver *r = zw_calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	rc = zw_dns_loop_new(&r->loop, opts ? &opts->dns : NULL, err);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < hints->n; i++) {
		char *name = zw_strdup(hints->v[i].name);
		struct srv *s = name ? srv_add(&r->hints, name) : NULL;
		if (!s)
			goto oom;
		for (size_t k = 0; k < hints->v[i].n_addrs; k++)
			if (srv_add_addr(s, &hints->v[i].addrs[k]) < 0)
				goto oom;
	}
	if (r->hints.n == 0) {
		rc = zw_error_set(err, ZW_EINVAL, "no root hints");
		goto fail;
	}
	*out = r;
	return 0;
oom:
	rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
fail:
	zw_resolver_free(r);
	return rc;
}

struct lkjob {
	struct lkjob *next;
	struct zw_lookup *lk;
	char *name;
	uint16_t type;
	int started;
	int direct; /* zw_resolver_query: ask `addr` only */
	struct zw_dns_addr addr;
};

void zw_resolver_free(struct zw_resolver *r)
{
	if (!r)
		return;
	while (r->walks)
		walk_free(r->walks);
	struct obsjob *j = r->jobs;
	while (j) {
		struct obsjob *n = j->next;
		srvlist_free(&j->psrv);
		zw_free(j->target);
		zw_free(j);
		j = n;
	}
	struct lkjob *l = r->lookups;
	while (l) {
		struct lkjob *n = l->next;
		zw_free(l->name);
		zw_free(l);
		l = n;
	}
	srvlist_free(&r->hints);
	zw_dns_loop_free(r->loop);
	zw_free(r);
}

size_t zw_resolver_queries_sent(const struct zw_resolver *r)
{
	return zw_dns_sent(r->loop);
}

void zw_obs_free(struct zw_obs *o)
{
	if (o)
		zw_arena_free(o->arena);
}

void zw_lookup_free(struct zw_lookup *lk)
{
	if (lk)
		zw_arena_free(lk->arena);
}

/* *out = name made absolute, lower case, validated by ldns; zw_malloc'd.
 * ZW_EINVAL for a bad name, ZW_ENOMEM. */
static int norm_name(char **out, const char *name)
{
	size_t n = strlen(name);
	ldns_rdf *d = NULL;

	*out = NULL;
	if (n == 0 || n > 1024)
		return ZW_EINVAL;
	char *tmp = zw_malloc(n + 2);
	if (!tmp)
		return ZW_ENOMEM;
	memcpy(tmp, name, n);
	if (name[n - 1] != '.' || (n > 1 && name[n - 2] == '\\'))
		tmp[n++] = '.';
	tmp[n] = '\0';
	if (ldns_str2rdf_dname(&d, tmp) != LDNS_STATUS_OK) {
		zw_free(tmp);
		return ZW_EINVAL;
	}
	zw_free(tmp);
	*out = zw_dns_dname_str(d);
	ldns_rdf_deep_free(d);
	return *out ? 0 : ZW_ENOMEM;
}

int zw_resolver_observe(struct zw_resolver *r, struct zw_obs **out, const char *domain,
			const struct zw_question *qs, size_t nq, struct zw_error *err)
{
	struct zw_arena *a = NULL;
	struct zw_obs *o;
	struct obsjob *j = NULL;
	char *d = NULL;

	*out = NULL;
	if (zw_arena_new(&a) < 0)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	int nrc = norm_name(&d, domain);
	if (nrc == ZW_EINVAL) {
		zw_arena_free(a);
		return zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", domain);
	}
	o = aalloc(a, sizeof(*o));
	j = zw_calloc(1, sizeof(*j));
	if (!o || !j || !d)
		goto fail;
	if (strcmp(d, ".") == 0) {
		zw_free(d);
		zw_free(j);
		zw_arena_free(a);
		return zw_error_set(err, ZW_EINVAL, "cannot observe the root zone");
	}
	o->arena = a;
	o->domain = astrdup(a, d);
	o->questions = aalloc(a, (nq + 1) * sizeof(*o->questions));
	if (!o->domain || !o->questions)
		goto fail;
	for (size_t i = 0; i < nq; i++) {
		char *qn = NULL;
		nrc = norm_name(&qn, qs[i].name);
		if (nrc == ZW_EINVAL) {
			zw_free(d);
			zw_free(j);
			zw_arena_free(a);
			return zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", qs[i].name);
		}
		if (nrc < 0)
			goto fail;
		struct zw_obs_question *q = &o->questions[i];
		q->name = astrdup(a, qn);
		q->type = qs[i].type;
		zw_free(qn);
		/* Until the walk gets to it (it may stop before): not asked. */
		q->resolved.name = q->name;
		q->resolved.type = q->type;
		q->resolved.ans.rcode = -1;
		q->resolved.ans.reason = astrdup(a, "not asked: the walk stopped before");
		if (!q->name || !q->resolved.ans.reason)
			goto fail;
	}
	o->n_questions = nq;
	j->r = r;
	j->o = o;
	j->a = a;
	j->target = d;
	j->phase = PH_WALK;
	j->next = r->jobs;
	r->jobs = j;
	*out = o;
	return 0;
fail:
	zw_free(d);
	zw_free(j);
	zw_arena_free(a);
	return zw_error_set(err, ZW_ENOMEM, "out of memory");
}

static void lookup_done(struct walk *w)
{
	struct lkjob *l = w->owner;
	if (conv_lookup(l->lk->arena, &l->lk->res, w) < 0)
		set_oom(w->r);
	walk_free(w);
}

int zw_resolver_lookup(struct zw_resolver *r, struct zw_lookup **out, const char *name, uint16_t type,
		       struct zw_error *err)
{
	struct zw_arena *a = NULL;
	struct zw_lookup *lk;
	struct lkjob *l = NULL;
	char *n = NULL;

	*out = NULL;
	int nrc = norm_name(&n, name);
	if (nrc < 0)
		return nrc == ZW_EINVAL ? zw_error_set(err, nrc, "'%s' is not a domain name", name)
					: zw_error_set(err, nrc, "out of memory");
	if (zw_arena_new(&a) < 0) {
		zw_free(n);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	lk = aalloc(a, sizeof(*lk));
	l = zw_calloc(1, sizeof(*l));
	if (!lk || !l || !(lk->res.name = astrdup(a, n))) {
		zw_free(n);
		zw_free(l);
		zw_arena_free(a);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	lk->arena = a;
	lk->res.type = type;
	lk->res.ans.rcode = -1;
	l->lk = lk;
	l->name = n;
	l->type = type;
	l->next = r->lookups;
	r->lookups = l;
	*out = lk;
	return 0;
}

static void direct_answer(struct ask *a, const struct zw_dns_result *res)
{
	struct zw_lookup *lk = a->p;
	if (conv_answer(lk->arena, &lk->res.ans, res, lk->res.name, lk->res.type) < 0)
		set_oom(a->r);
}

int zw_resolver_query(struct zw_resolver *r, struct zw_lookup **out, const char *server_name,
		      const struct zw_dns_addr *server, const char *name, uint16_t type, struct zw_error *err)
{
	int rc = zw_resolver_lookup(r, out, name, type, err);
	if (rc < 0)
		return rc;
	struct zw_lookup *lk = *out;
	struct lkjob *l = r->lookups; /* the job zw_resolver_lookup just added */
	if (server_name && !(lk->res.server = astrdup(lk->arena, server_name))) {
		r->lookups = l->next;
		zw_free(l->name);
		zw_free(l);
		zw_lookup_free(lk);
		*out = NULL;
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	lk->res.addr = *server;
	l->direct = 1;
	l->addr = *server;
	return 0;
}

int zw_resolver_run(struct zw_resolver *r, struct zw_error *err)
{
	for (struct lkjob *l = r->lookups; l; l = l->next) {
		if (l->started)
			continue;
		l->started = 1;
		if (!l->direct) {
			walk_start(r, W_LOOKUP, l->name, l->type, 0, lookup_done, l, 0, 0);
		} else if (ask(r, &l->addr, l->name, l->type, direct_answer, l->lk, 0, 0) < 0) {
			l->lk->res.ans.kind = ZW_OBS_FAILED;
			l->lk->res.ans.reason = astrdup(l->lk->arena, "not asked: query budget or memory");
			if (!l->lk->res.ans.reason)
				set_oom(r);
		}
	}
	for (struct obsjob *j = r->jobs; j; j = j->next) {
		if (j->started)
			continue;
		j->started = 1;
		job_step(j);
	}
	int rc = zw_dns_run(r->loop, err);
	/* Every job is over now: release their temporary state. */
	struct obsjob *j = r->jobs;
	while (j) {
		struct obsjob *n = j->next;
		srvlist_free(&j->psrv);
		zw_free(j->target);
		zw_free(j);
		j = n;
	}
	r->jobs = NULL;
	struct lkjob *l = r->lookups;
	while (l) {
		struct lkjob *n = l->next;
		zw_free(l->name);
		zw_free(l);
		l = n;
	}
	r->lookups = NULL;
	if (rc < 0)
		return rc;
	if (r->rc) {
		rc = r->rc;
		r->rc = 0;
		return zw_error_set(err, rc, "out of memory while resolving");
	}
	return 0;
}

/* ---- dumps ---- */

static int dump_rr_list(struct zw_buf *b, const struct zw_rr *v, size_t n, const char *sep)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = zw_buf_addf(b, "%s%s", i ? sep : "", v[i].text ? v[i].text : "?");
	return rc;
}

int zw_obs_answer_dump(struct zw_buf *b, const struct zw_obs_answer *a)
{
	int rc;

	if (a->kind == ZW_OBS_FAILED) {
		if (a->status == ZW_DNS_OK)
			rc = zw_buf_adds(b, "failed");
		else
			rc = zw_buf_addf(b, "failed %s %s%s", zw_dns_status_name(a->status),
					 zw_dns_transport_name(a->transport), a->truncated ? "+tc" : "");
	} else {
		rc = zw_buf_addf(b, "%s %s%s %s%s%s%s", zw_obs_kind_name(a->kind),
				 zw_dns_transport_name(a->transport), a->truncated ? "+tc" : "",
				 zw_rcode_name(a->rcode), a->aa ? " aa" : "",
				 a->soa_in_authority ? " soa" : "", a->cname_loop ? " loop" : "");
	}
	for (size_t i = 0; !rc && i < a->n_cnames; i++)
		rc = zw_buf_addf(b, "%s%s>%s", i ? " " : " cnames=", a->cnames[i].owner,
				 a->cnames[i].target ? a->cnames[i].target : "?");
	if (!rc && a->referral_zone)
		rc = zw_buf_addf(b, " ref=%s", a->referral_zone);
	for (size_t i = 0; !rc && i < a->n_referral_ns; i++)
		rc = zw_buf_addf(b, "%s%s", i ? "," : " ns=", a->referral_ns[i]);
	if (!rc && a->n_rrs) {
		rc = zw_buf_adds(b, " rrs: ");
		if (!rc)
			rc = dump_rr_list(b, a->rrs, a->n_rrs, " | ");
	}
	if (!rc && a->reason)
		rc = zw_buf_addf(b, " (%s)", a->reason);
	return rc;
}

static const char *type_name(uint16_t t, char *buf, size_t n)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(t);
	if (d && d->_name)
		snprintf(buf, n, "%s", d->_name);
	else
		snprintf(buf, n, "TYPE%u", (unsigned)t);
	return buf;
}

int zw_obs_lookup_dump(struct zw_buf *b, const struct zw_obs_lookup *lk)
{
	char as[ZW_DNS_ADDR_STRLEN], tn[16];
	int rc = zw_buf_addf(b, "lookup %s %s", lk->name ? lk->name : "?",
			     type_name(lk->type, tn, sizeof(tn)));
	if (!rc && lk->zone) {
		zw_dns_addr_format(as, sizeof(as), &lk->addr);
		rc = zw_buf_addf(b, " zone=%s from=%s/%s", lk->zone, lk->server ? lk->server : "?", as);
	}
	if (!rc && lk->too_long)
		rc = zw_buf_adds(b, " too-long");
	if (!rc)
		rc = zw_buf_adds(b, ": ");
	if (!rc)
		rc = zw_obs_answer_dump(b, &lk->ans);
	return rc ? rc : zw_buf_addc(b, '\n');
}

int zw_obs_dump(struct zw_buf *b, const struct zw_obs *o)
{
	char as[ZW_DNS_ADDR_STRLEN], tn[16];
	int rc = zw_buf_addf(b, "domain %s\nzone %s\nparent %s\ndelegation %s\n", o->domain,
			     o->zone ? o->zone : "-", o->parent ? o->parent : "-",
			     zw_obs_delegation_name(o->delegation));
	if (!rc && o->walk_error)
		rc = zw_buf_addf(b, "walk-error %s\n", o->walk_error);
	for (size_t i = 0; !rc && i < o->n_referrals; i++) {
		const struct zw_obs_referral *r = &o->referrals[i];
		zw_dns_addr_format(as, sizeof(as), &r->addr);
		rc = zw_buf_addf(b, "referral %s/%s: ", r->server, as);
		if (!rc)
			rc = zw_obs_answer_dump(b, &r->ans);
		for (size_t k = 0; !rc && k < r->n_ns; k++)
			rc = zw_buf_addf(b, "%s%s", k ? "," : " | ns=", r->ns[k]);
		for (size_t k = 0; !rc && k < r->n_glue; k++) {
			zw_dns_addr_format(as, sizeof(as), &r->glue[k].addr);
			rc = zw_buf_addf(b, "%s%s/%s", k ? "," : " glue=", r->glue[k].name, as);
		}
		if (!rc)
			rc = zw_buf_addc(b, '\n');
	}
	if (!rc && o->n_parent_ns)
		rc = zw_buf_adds(b, "parent-ns");
	for (size_t i = 0; !rc && i < o->n_parent_ns; i++)
		rc = zw_buf_addf(b, " %s%s", o->parent_ns[i], i + 1 == o->n_parent_ns ? "\n" : "");
	if (!rc && o->n_child_ns)
		rc = zw_buf_adds(b, "child-ns");
	for (size_t i = 0; !rc && i < o->n_child_ns; i++)
		rc = zw_buf_addf(b, " %s%s", o->child_ns[i], i + 1 == o->n_child_ns ? "\n" : "");
	for (size_t i = 0; !rc && i < o->n_nsnames; i++) {
		const struct zw_obs_nsname *n = &o->nsnames[i];
		rc = zw_buf_addf(b, "nsname %s%s%s%s%s", n->name, n->in_parent ? " parent" : "",
				 n->in_child ? " child" : "", n->in_bailiwick ? " in-bailiwick" : "",
				 n->is_cname ? " cname" : "");
		for (size_t k = 0; !rc && k < n->n_glue; k++) {
			zw_dns_addr_format(as, sizeof(as), &n->glue[k]);
			rc = zw_buf_addf(b, "%s%s", k ? "," : " glue=", as);
		}
		for (size_t k = 0; !rc && k < n->n_addrs; k++) {
			zw_dns_addr_format(as, sizeof(as), &n->addrs[k]);
			rc = zw_buf_addf(b, "%s%s", k ? "," : " addrs=", as);
		}
		if (!rc)
			rc = zw_buf_adds(b, "\n  a: ");
		if (!rc)
			rc = zw_obs_answer_dump(b, &n->a.ans);
		if (!rc)
			rc = zw_buf_adds(b, "\n  aaaa: ");
		if (!rc)
			rc = zw_obs_answer_dump(b, &n->aaaa.ans);
		if (!rc)
			rc = zw_buf_addc(b, '\n');
	}
	for (size_t i = 0; !rc && i < o->n_servers; i++) {
		const struct zw_obs_server *s = &o->servers[i];
		zw_dns_addr_format(as, sizeof(as), &s->addr);
		rc = zw_buf_addf(b, "server %s/%s%s%s\n  soa: ", s->name, as, s->from_glue ? " glue" : "",
				 s->from_lookup ? " lookup" : "");
		if (!rc)
			rc = zw_obs_answer_dump(b, &s->soa);
		if (!rc)
			rc = zw_buf_adds(b, "\n  ns: ");
		if (!rc)
			rc = zw_obs_answer_dump(b, &s->ns);
		if (!rc)
			rc = zw_buf_addc(b, '\n');
	}
	for (size_t i = 0; !rc && i < o->n_questions; i++) {
		const struct zw_obs_question *q = &o->questions[i];
		rc = zw_buf_addf(b, "question %s %s\n  ", q->name, type_name(q->type, tn, sizeof(tn)));
		if (!rc)
			rc = zw_obs_lookup_dump(b, &q->resolved);
		for (size_t k = 0; !rc && q->at && k < o->n_servers; k++) {
			zw_dns_addr_format(as, sizeof(as), &o->servers[k].addr);
			rc = zw_buf_addf(b, "  @%s/%s: ", o->servers[k].name, as);
			if (!rc)
				rc = zw_obs_answer_dump(b, &q->at[k]);
			if (!rc)
				rc = zw_buf_addc(b, '\n');
		}
	}
	return rc;
}
