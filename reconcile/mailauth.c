/*
 * mailauth.c - the live mail-authentication diagnosis of one domain (see mailauth.h).
 *
 * What it owns: copies of the domain and selector names, the question list handed to
 * the observation, and a table of (name, type) -> answer. An entry of the table is
 * either a lookup this object submitted (owned, freed by zw_mailauth_free) or an answer
 * borrowed from the observation of the current call (rebound at every call, never kept
 * across calls). Table names are lower case without the trailing dot.
 *
 * Rounds: every step plans by running the consumers on what the table holds. The SPF
 * plan is zw_spf_evaluate itself, in static mode, with a callback that notes every
 * (name, type) the table lacks and answers it with a temperror: so the plan asks for
 * exactly the names the final walk will query (macros, mx hosts, redirect targets
 * included), one level deeper each round. DMARC, DKIM and CNAME plans are read from the
 * answers the same way. Invariants: a (name, type) is submitted at most once;
 * `submitted` <= ZW_MAILAUTH_MAX_LOOKUPS; `rounds` <= ZW_MAILAUTH_MAX_ROUNDS.
 */
#include "reconcile/mailauth.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"
#include "reconcile/dkim.h"
#include "reconcile/dmarc.h"
#include "reconcile/spf.h"

#define T_A	1
#define T_CNAME 5
#define T_PTR	12
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28

#define NAME_MAX_LEN 253

struct entry {
	char *name; /* lower case, no trailing dot */
	uint16_t type;
	int bad;			  /* a name the resolver refuses: answered as NXDOMAIN */
	int pending;			  /* submitted in this step: not filled before the run */
	struct zw_lookup *own;		  /* submitted by us, or NULL */
	const struct zw_obs_lookup *seen; /* borrowed from the current call's observation */
};

struct selector {
	char *selector;
	char *name;			 /* <sel>._domainkey.<domain>, no trailing dot */
	const struct zw_dkim_spec *spec; /* NULL for check --domain */
	struct zw_loc loc;
};

/* A claimed CNAME: manifest cnames[] and DKIM selectors with a cname. */
struct claim {
	char *name;   /* no trailing dot */
	char *target; /* as claimed, no trailing dot */
	int dkim;     /* a selector: a target without TXT is dangling too */
	struct zw_loc loc;
};

struct zw_mailauth {
	char *domain; /* lower case, no trailing dot */
	const struct zw_desired *ds;
	const struct zw_domain *d; /* ds->domain, or NULL */
	struct selector *sels;
	size_t nsel;
	struct claim *claims;
	size_t nclaims;
	struct zw_question *qs;
	size_t nq;
	struct entry *tab;
	size_t ntab;
	int rounds;
	size_t submitted;
	int bounded;		       /* a bound stopped the planning: some answers are missing */
	struct zw_mailauth_keys *keys; /* borrowed, or NULL */
};

/* ---- parsed keys shared by the domains of a check ---- */

struct keyrec {
	char *text; /* the record's octets */
	size_t len;
	unsigned flags; /* zw_dkim_parse_flags options */
	unsigned hash;
	struct zw_dkim *dk;
};

struct zw_mailauth_keys {
	struct keyrec v[ZW_MAILAUTH_KEYS];
	size_t n;
};

struct zw_mailauth_keys *zw_mailauth_keys_new(void)
{
	return zw_calloc(1, sizeof(struct zw_mailauth_keys));
}

void zw_mailauth_keys_free(struct zw_mailauth_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		zw_free(k->v[i].text);
		zw_dkim_free(k->v[i].dk);
	}
	zw_free(k);
}

void zw_mailauth_set_keys(struct zw_mailauth *m, struct zw_mailauth_keys *k)
{
	m->keys = k;
}

static unsigned key_hash(const char *t, size_t len, unsigned flags)
{
	uint32_t h = 2166136261u ^ flags;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)t[i]) * 16777619u;
	return h;
}

static const struct zw_dkim *keys_find(const struct zw_mailauth_keys *k, const char *t, size_t len,
				       unsigned flags, unsigned h)
{
	for (size_t i = 0; k && i < k->n; i++) {
		const struct keyrec *e = &k->v[i];
		if (e->hash == h && e->len == len && e->flags == flags && memcmp(e->text, t, len) == 0)
			return e->dk;
	}
	return NULL;
}

/* Keep dk for t: 1 when kept (k owns it now), 0 when not (no k, or full), ZW_ENOMEM. */
static int keys_add(struct zw_mailauth_keys *k, const char *t, size_t len, unsigned flags, unsigned h,
		    struct zw_dkim *dk)
{
	if (!k || k->n == ZW_MAILAUTH_KEYS)
		return 0;
	char *c = zw_malloc(len + 1);
	if (!c)
		return ZW_ENOMEM;
	memcpy(c, t, len);
	c[len] = '\0';
	k->v[k->n++] = (struct keyrec){.text = c, .len = len, .flags = flags, .hash = h, .dk = dk};
	return 1;
}

/* ---- small helpers ---- */

static char *lower_nodot(const char *s)
{
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		n--;
	char *o = zw_strndup(s, n);
	for (char *p = o; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return o;
}

/* "name." into a buffer (finding names are absolute). */
static const char *dotted(char *buf, size_t bsz, const char *name)
{
	snprintf(buf, bsz, "%s.", name);
	return buf;
}

/* Labels of 1-63 octets, at most 253 in all, no space or control character. */
static int valid_name(const char *s)
{
	size_t n = strlen(s), lab = 0;
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f)
			return 0;
		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (++lab > 63) {
			return 0;
		}
	}
	return 1;
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* ---- the organizational domain rule ---- */

/* Second-level labels under which registries sell names in many ccTLDs. */
static const char *const second_levels[] = {
	"ac", "co",  "com", "edu", "go", "gob", "gov", "ltd", "mil",
	"ne", "net", "nic", "nom", "or", "org", "plc", "sch",
};

int zw_mailauth_org_domain(char *out, size_t outsz, const char *name)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	size_t starts[3] = {0, 0, 0}, nl = 0; /* the last three label starts, last first */
	for (size_t i = n; i > 0 && nl < 3; i--)
		if (name[i - 1] == '.')
			starts[nl++] = i;
	size_t keep = 2;
	if (nl >= 1 && n - starts[0] == 2 && nl >= 2) {
		size_t sl = starts[0] - 1 - starts[1];
		for (size_t i = 0; i < sizeof(second_levels) / sizeof(second_levels[0]); i++)
			if (strlen(second_levels[i]) == sl &&
			    strncasecmp(name + starts[1], second_levels[i], sl) == 0)
				keep = 3;
	}
	/* labels = nl + 1 when fewer than three dots were found */
	size_t from = nl >= keep ? starts[keep - 1] : 0;
	if (n - from + 1 > outsz)
		return ZW_EINVAL;
	for (size_t i = from; i < n; i++) {
		char c = name[i];
		out[i - from] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n - from] = '\0';
	return 0;
}

static int orgdomain_cb(void *ctx, const char *name, size_t *off)
{
	char org[NAME_MAX_LEN + 2];
	size_t n = strlen(name);
	(void)ctx;
	if (n && name[n - 1] == '.')
		n--;
	if (zw_mailauth_org_domain(org, sizeof(org), name))
		return ZW_EINVAL;
	*off = n - strlen(org);
	return 0;
}

static const struct zw_dmarc_orgrule org_rule = {.orgdomain = orgdomain_cb};

/* ---- the report authorisation decision ---- */

static size_t count_dmarc1(const char *const *v, const size_t *lens, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += zw_dmarc_is_record(v[i], lens[i]) ? 1 : 0;
	return k;
}

enum zw_report_auth zw_mailauth_report_auth(const char *const *exact, const size_t *exact_lens,
					    size_t n_exact, const char *const *wild, const size_t *wild_lens,
					    size_t n_wild, int failed)
{
	size_t k = count_dmarc1(exact, exact_lens, n_exact);
	if (k == 0)
		k = count_dmarc1(wild, wild_lens, n_wild);
	if (k == 1)
		return ZW_REPORT_AUTH_OK;
	if (k > 1)
		return ZW_REPORT_AUTH_SEVERAL;
	return failed ? ZW_REPORT_AUTH_UNKNOWN : ZW_REPORT_AUTH_NONE;
}

/* ---- the table ---- */

static struct entry *tab_find(struct zw_mailauth *m, const char *name, uint16_t type)
{
	for (size_t i = 0; i < m->ntab; i++)
		if (m->tab[i].type == type && strcasecmp(m->tab[i].name, name) == 0)
			return &m->tab[i];
	return NULL;
}

static struct entry *tab_add(struct zw_mailauth *m, const char *name, uint16_t type)
{
	struct entry *v = zw_realloc(m->tab, (m->ntab + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->tab = v;
	struct entry *e = &v[m->ntab];
	memset(e, 0, sizeof(*e));
	if (!(e->name = lower_nodot(name)))
		return NULL;
	e->type = type;
	m->ntab++;
	return e;
}

/* Forget the borrowed answers, then borrow those of this observation. */
static int tab_seed(struct zw_mailauth *m, const struct zw_obs *obs)
{
	for (size_t i = 0; i < m->ntab; i++) {
		m->tab[i].seen = NULL;
		m->tab[i].pending = 0; /* a step or diagnose comes after zw_resolver_run() */
	}
	for (size_t i = 0; obs && i < obs->n_questions; i++) {
		const struct zw_obs_question *q = &obs->questions[i];
		char *name = lower_nodot(q->name);
		if (!name)
			return ZW_ENOMEM;
		struct entry *e = tab_find(m, name, q->type);
		if (!e)
			e = tab_add(m, name, q->type);
		zw_free(name);
		if (!e)
			return ZW_ENOMEM;
		e->seen = &q->resolved;
	}
	return 0;
}

/* The answer for (name, type): NULL when not asked yet (or a refused name). */
static const struct zw_obs_lookup *tab_get(struct zw_mailauth *m, const char *name, uint16_t type, int *known)
{
	struct entry *e = tab_find(m, name, type);
	*known = e != NULL && !e->pending && (e->bad || e->seen || e->own);
	if (!e || e->bad || e->pending)
		return NULL;
	return e->own ? &e->own->res : e->seen;
}

/* Submit (name, type) unless the table has it. 1 when submitted, 0 when not needed. */
static int need(struct zw_mailauth *m, struct zw_resolver *r, const char *name, uint16_t type, int *submitted,
		struct zw_error *err)
{
	struct zw_error lerr = {0};
	char abs[NAME_MAX_LEN + 3];
	if (tab_find(m, name, type))
		return 0;
	if (m->submitted >= ZW_MAILAUTH_MAX_LOOKUPS) {
		m->bounded = 1;
		return 0;
	}
	struct entry *e = tab_add(m, name, type);
	if (!e)
		return zw_error_set(err, ZW_ENOMEM, "out of memory planning mail-auth lookups");
	if (!valid_name(e->name)) {
		e->bad = 1;
		return 0;
	}
	snprintf(abs, sizeof(abs), "%s.", e->name);
	int rc = zw_resolver_lookup(r, &e->own, abs, type, &lerr);
	if (rc == ZW_EINVAL) {
		e->bad = 1;
		e->own = NULL;
		return 0;
	}
	if (rc) {
		e->own = NULL;
		return zw_error_set(err, rc, "%s", lerr.msg);
	}
	e->pending = 1;
	m->submitted++;
	*submitted = 1;
	return 0;
}

/* ---- the answers as the SPF evaluator wants them ---- */

static const uint16_t spf_types[] = {
	[ZW_SPF_QTXT] = T_TXT, [ZW_SPF_QA] = T_A,     [ZW_SPF_QAAAA] = T_AAAA,
	[ZW_SPF_QMX] = T_MX,   [ZW_SPF_QPTR] = T_PTR,
};

static const char *const spf_type_names[] = {
	[ZW_SPF_QTXT] = "TXT", [ZW_SPF_QA] = "A",     [ZW_SPF_QAAAA] = "AAAA",
	[ZW_SPF_QMX] = "MX",   [ZW_SPF_QPTR] = "PTR",
};

struct spfctx {
	struct zw_mailauth *m;
	struct zw_resolver *r; /* plan mode: submit what is missing */
	struct zw_error *err;
	int submitted;
	int rc;		/* plan mode: the first error of a submission */
	size_t missing; /* final mode: answers the table lacks */
	char first[NAME_MAX_LEN + 16];
};

/* Fill an SPF answer from an observed lookup: 0 with *rcode, or ZW_ETRANSIENT. */
static int spf_answer_from(const struct zw_obs_lookup *lk, uint16_t type, struct zw_spf_answer *out,
			   int *rcode)
{
	const struct zw_obs_answer *a = &lk->ans;
	*rcode = 0;
	if (a->cname_loop || lk->too_long)
		return ZW_ETRANSIENT;
	switch (a->kind) {
	case ZW_OBS_NXDOMAIN: *rcode = 3; return 0;
	case ZW_OBS_NODATA: return 0;
	case ZW_OBS_RCODE: *rcode = a->rcode > 0 && a->rcode != 3 ? a->rcode : 2; return 0;
	case ZW_OBS_DATA: break;
	default: return ZW_ETRANSIENT; /* failed, referral, unfinished cname chain */
	}
	for (size_t i = 0; i < a->n_rrs; i++) {
		const struct zw_rr *rr = &a->rrs[i];
		int rc = 0;
		if (rr->type != type)
			continue;
		if (type == T_TXT)
			rc = zw_spf_answer_add(out, rr->txt.data ? rr->txt.data : "", rr->txt.len);
		else if (type == T_A)
			rc = zw_spf_answer_add(out, rr->addr.ip, 4);
		else if (type == T_AAAA)
			rc = zw_spf_answer_add(out, rr->addr.ip, 16);
		else if (rr->target)
			rc = zw_spf_answer_add(out, rr->target, strlen(rr->target));
		if (rc == ZW_ENOMEM)
			return rc;
		if (rc)
			break; /* past ZW_SPF_ANSWER_MAX: the rest is dropped */
	}
	return 0;
}

static int spf_query(void *vctx, const char *name, enum zw_spf_qtype qt, struct zw_spf_answer *out,
		     int *rcode)
{
	struct spfctx *c = vctx;
	uint16_t type = spf_types[qt];
	int known;
	const struct zw_obs_lookup *lk = tab_get(c->m, name, type, &known);
	*rcode = 0;
	if (known && !lk) {
		*rcode = 3; /* a name no server can be asked: like NXDOMAIN (RFC 7208 §4.3) */
		return 0;
	}
	if (lk)
		return spf_answer_from(lk, type, out, rcode);
	if (c->r) {
		int rc = need(c->m, c->r, name, type, &c->submitted, c->err);
		if (rc && !c->rc)
			c->rc = rc;
		return rc == ZW_ENOMEM ? rc : ZW_ETRANSIENT;
	}
	if (!c->missing++)
		snprintf(c->first, sizeof(c->first), "%s %s", name, spf_type_names[qt]);
	return ZW_ETRANSIENT;
}

/* ---- DMARC record at a name ---- */

/* The one DMARC record at `name` parsed, or NULL (none, several, failed). *found is the
 * number of v=DMARC1 records; *failed 1 when the lookup had no usable answer. */
static int dmarc_at(struct zw_mailauth *m, const char *name, struct zw_dmarc **out, size_t *found,
		    int *failed, int *known)
{
	const struct zw_obs_lookup *lk = tab_get(m, name, T_TXT, known);
	size_t pick = 0;
	*out = NULL;
	*found = 0;
	*failed = 0;
	if (!lk) {
		*failed = !*known;
		return 0;
	}
	if (lk->ans.kind != ZW_OBS_DATA && lk->ans.kind != ZW_OBS_NODATA && lk->ans.kind != ZW_OBS_NXDOMAIN) {
		*failed = 1;
		return 0;
	}
	for (size_t i = 0; i < lk->ans.n_rrs; i++) {
		const struct zw_txt *t = &lk->ans.rrs[i].txt;
		if (lk->ans.rrs[i].type == T_TXT && zw_dmarc_is_record(t->data ? t->data : "", t->len) &&
		    !(*found)++)
			pick = i;
	}
	if (*found != 1)
		return 0;
	struct zw_findings scratch = {0};
	const struct zw_txt *t = &lk->ans.rrs[pick].txt;
	int rc = zw_dmarc_parse(out, t->data ? t->data : "", t->len, &scratch, NULL);
	zw_findings_free(&scratch);
	return rc == ZW_ENOMEM ? rc : 0;
}

/* The URIs whose host is external to the policy domain (mailto only: the report
 * authorisation and the MX check are about mailboxes). */
static int uri_external(const struct zw_dmarc_uri *u, const char *policy)
{
	if (!u->valid || !u->scheme || strcmp(u->scheme, "mailto") != 0 || !u->host || !*u->host)
		return 0;
	return zw_dmarc_uri_is_external(u, policy, &org_rule) == 1;
}

static int is_mailto(const struct zw_dmarc_uri *u)
{
	return u->valid && u->scheme && strcmp(u->scheme, "mailto") == 0 && u->host && *u->host;
}

/* ---- construction ---- */

static int add_question(struct zw_mailauth *m, const char *name, uint16_t type)
{
	char *abs = NULL;
	size_t n = strlen(name);
	if (!(abs = zw_malloc(n + 2)))
		return ZW_ENOMEM;
	memcpy(abs, name, n);
	abs[n] = '.';
	abs[n + 1] = '\0';
	struct zw_question *v = zw_realloc(m->qs, (m->nq + 1) * sizeof(*v));
	if (!v) {
		zw_free(abs);
		return ZW_ENOMEM;
	}
	m->qs = v;
	v[m->nq].name = abs;
	v[m->nq].type = type;
	m->nq++;
	return 0;
}

static int add_selector(struct zw_mailauth *m, const char *sel, const struct zw_dkim_spec *spec)
{
	char name[NAME_MAX_LEN * 2 + 16];
	snprintf(name, sizeof(name), "%s._domainkey.%s", sel, m->domain);
	if (!valid_name(name) || !*sel)
		return ZW_EINVAL;
	struct selector *v = zw_realloc(m->sels, (m->nsel + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	m->sels = v;
	struct selector *s = &v[m->nsel];
	memset(s, 0, sizeof(*s));
	s->spec = spec;
	if (spec)
		s->loc = spec->loc;
	if (!(s->selector = lower_nodot(sel)) || !(s->name = lower_nodot(name))) {
		zw_free(s->selector);
		zw_free(s->name);
		return ZW_ENOMEM;
	}
	m->nsel++;
	return 0;
}

static int add_claim(struct zw_mailauth *m, const char *name, const char *target, int dkim, struct zw_loc loc)
{
	struct claim *v = zw_realloc(m->claims, (m->nclaims + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	m->claims = v;
	struct claim *c = &v[m->nclaims];
	memset(c, 0, sizeof(*c));
	c->dkim = dkim;
	c->loc = loc;
	if (!(c->name = lower_nodot(name)) || !(c->target = lower_nodot(target))) {
		zw_free(c->name);
		zw_free(c->target);
		return ZW_ENOMEM;
	}
	m->nclaims++;
	return 0;
}

static int build(struct zw_mailauth *m, const char *const *selectors, size_t nsel)
{
	char name[NAME_MAX_LEN + 16];
	int rc = 0;
	if (m->d) {
		for (size_t i = 0; !rc && i < m->d->ndkim; i++) {
			const struct zw_dkim_spec *k = &m->d->dkim[i];
			rc = add_selector(m, k->selector, k);
			if (!rc && k->cname && !k->expect_absent)
				rc = add_claim(m, m->sels[m->nsel - 1].name, k->cname, 1,
					       k->cname_loc.file ? k->cname_loc : k->loc);
		}
		for (size_t i = 0; !rc && i < m->d->ncnames; i++)
			rc = add_claim(m, m->d->cnames[i].name, m->d->cnames[i].target, 0,
				       m->d->cnames[i].target_loc.file ? m->d->cnames[i].target_loc
								       : m->d->cnames[i].loc);
	} else {
		for (size_t i = 0; !rc && i < nsel; i++)
			rc = add_selector(m, selectors[i], NULL);
	}
	if (rc)
		return rc;
	rc = add_question(m, m->domain, T_TXT);
	snprintf(name, sizeof(name), "_dmarc.%s", m->domain);
	if (!rc)
		rc = add_question(m, name, T_TXT);
	for (size_t i = 0; !rc && i < m->nsel; i++) {
		rc = add_question(m, m->sels[i].name, T_TXT);
		if (!rc)
			rc = add_question(m, m->sels[i].name, T_CNAME);
	}
	for (size_t i = 0; !rc && i < m->nclaims; i++)
		if (!m->claims[i].dkim)
			rc = add_question(m, m->claims[i].name, T_CNAME);
	return rc;
}

int zw_mailauth_new(struct zw_mailauth **out, const char *domain, const struct zw_desired *ds,
		    const char *const *selectors, size_t nsel, struct zw_error *err)
{
	struct zw_mailauth *m;
	*out = NULL;
	if (!domain || !valid_name(domain) || strlen(domain) > NAME_MAX_LEN)
		return zw_error_set(err, ZW_EINVAL, "'%s' is not a domain name", domain ? domain : "");
	if (!(m = zw_calloc(1, sizeof(*m))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory starting the mail-auth check");
	m->ds = ds;
	m->d = ds ? ds->domain : NULL;
	int rc = (m->domain = lower_nodot(domain)) ? build(m, selectors, nsel) : ZW_ENOMEM;
	if (rc) {
		zw_mailauth_free(m);
		if (rc == ZW_EINVAL)
			return zw_error_set(err, rc, "a dkim selector of %s does not make a domain name",
					    domain);
		return zw_error_set(err, rc, "out of memory starting the mail-auth check");
	}
	*out = m;
	return 0;
}

int zw_mailauth_questions(const struct zw_mailauth *m, const struct zw_question **qs, size_t *nq)
{
	*qs = m->qs;
	*nq = m->nq;
	return 0;
}

void zw_mailauth_free(struct zw_mailauth *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ntab; i++) {
		zw_free(m->tab[i].name);
		zw_lookup_free(m->tab[i].own);
	}
	zw_free(m->tab);
	for (size_t i = 0; i < m->nsel; i++) {
		zw_free(m->sels[i].selector);
		zw_free(m->sels[i].name);
	}
	zw_free(m->sels);
	for (size_t i = 0; i < m->nclaims; i++) {
		zw_free(m->claims[i].name);
		zw_free(m->claims[i].target);
	}
	zw_free(m->claims);
	for (size_t i = 0; i < m->nq; i++)
		zw_free((char *)m->qs[i].name);
	zw_free(m->qs);
	zw_free(m->domain);
	zw_free(m);
}

/* ---- planning ---- */

static int plan_spf(struct zw_mailauth *m, struct zw_resolver *r, int *submitted, struct zw_error *err)
{
	struct spfctx c = {.m = m, .r = r, .err = err};
	struct zw_spf_dns dns = {.ctx = &c, .query = spf_query};
	struct zw_spf_result res;
	struct zw_error lerr = {0};
	int rc = zw_spf_evaluate(&res, m->domain, &dns, NULL, NULL, &lerr);
	if (rc == 0)
		zw_spf_result_free(&res);
	if (c.submitted)
		*submitted = 1;
	if (c.rc)
		return c.rc;
	if (rc == ZW_ENOMEM)
		return zw_error_set(err, rc, "out of memory planning the spf evaluation");
	return 0; /* ZW_EINVAL: a domain the evaluator refuses has nothing to plan */
}

static int plan_dmarc(struct zw_mailauth *m, struct zw_resolver *r, int *submitted, struct zw_error *err)
{
	char name[NAME_MAX_LEN + 16], org[NAME_MAX_LEN + 2];
	struct zw_dmarc *dm = NULL;
	size_t found;
	int failed, known, rc;
	snprintf(name, sizeof(name), "_dmarc.%s", m->domain);
	if ((rc = need(m, r, name, T_TXT, submitted, err)))
		return rc;
	if ((rc = dmarc_at(m, name, &dm, &found, &failed, &known)))
		return zw_error_set(err, rc, "out of memory reading the dmarc record");
	if (!known)
		return 0;
	if (!failed && found == 0 && !zw_mailauth_org_domain(org, sizeof(org), m->domain) &&
	    strcmp(org, m->domain) != 0) {
		snprintf(name, sizeof(name), "_dmarc.%s", org);
		return need(m, r, name, T_TXT, submitted, err);
	}
	for (int k = 0; !rc && dm && k < 2; k++) {
		const struct zw_dmarc_uri *v = k ? dm->ruf : dm->rua;
		size_t n = k ? dm->nruf : dm->nrua;
		for (size_t i = 0; !rc && i < n; i++) {
			if (!k && is_mailto(&v[i]))
				rc = need(m, r, v[i].host, T_MX, submitted, err);
			if (rc || !uri_external(&v[i], m->domain))
				continue;
			char *exact = NULL, *wild = NULL;
			struct zw_error lerr = {0};
			int nrc = zw_dmarc_report_auth_names(&exact, &wild, m->domain, v[i].host, &lerr);
			if (nrc == ZW_ENOMEM)
				rc = zw_error_set(err, nrc, "out of memory naming the report authorisation");
			if (!nrc) {
				rc = need(m, r, exact, T_TXT, submitted, err);
				if (!rc)
					rc = need(m, r, wild, T_TXT, submitted, err);
			}
			zw_free(exact);
			zw_free(wild);
		}
	}
	zw_dmarc_free(dm);
	return rc;
}

static int plan_cnames(struct zw_mailauth *m, struct zw_resolver *r, int *submitted, struct zw_error *err)
{
	int rc = 0, known;
	for (size_t i = 0; !rc && i < m->nsel; i++)
		rc = need(m, r, m->sels[i].name, T_TXT, submitted, err);
	for (size_t i = 0; !rc && i < m->nclaims; i++) {
		const struct claim *c = &m->claims[i];
		if ((rc = need(m, r, c->name, T_TXT, submitted, err)))
			break;
		const struct zw_obs_lookup *lk = tab_get(m, c->name, T_TXT, &known);
		if (lk && lk->ans.kind != ZW_OBS_FAILED && lk->ans.n_cnames == 0)
			rc = need(m, r, c->target, T_TXT, submitted, err);
	}
	return rc;
}

int zw_mailauth_step(struct zw_mailauth *m, struct zw_resolver *r, const struct zw_obs *obs,
		     struct zw_error *err)
{
	int submitted = 0, rc;
	if (m->rounds >= ZW_MAILAUTH_MAX_ROUNDS) {
		m->bounded = 1;
		return 0;
	}
	m->rounds++;
	if ((rc = tab_seed(m, obs)))
		return zw_error_set(err, rc, "out of memory reading the observation");
	if (!(rc = plan_spf(m, r, &submitted, err)) && !(rc = plan_dmarc(m, r, &submitted, err)))
		rc = plan_cnames(m, r, &submitted, err);
	if (rc)
		return rc;
	return submitted;
}

/* ---- diagnosis ---- */

struct diag {
	struct zw_mailauth *m;
	struct zw_findings *fs;
};

static const struct zw_record *desired(const struct zw_mailauth *m, enum zw_claim claim, const char *name)
{
	for (size_t i = 0; m->ds && i < m->ds->n; i++) {
		const struct zw_record *r = &m->ds->v[i];
		size_t n = strlen(name);
		if (r->claim == claim && strncasecmp(r->name, name, n) == 0 &&
		    (!r->name[n] || !strcmp(r->name + n, ".")))
			return r;
	}
	return NULL;
}

/* Set the context of [from, n): our domain, the owner (made absolute), the type. */
static int context(struct diag *g, size_t from, const char *name, const char *type, const char *observed,
		   const struct zw_loc *loc)
{
	char abs[NAME_MAX_LEN + 8];
	const struct zw_loc *l = loc && loc->file ? loc : NULL;
	return zw_findings_context(g->fs, from, g->m->domain, name ? dotted(abs, sizeof(abs), name) : NULL,
				   type, observed, l);
}

/* A value for people (invisible and non-ASCII bytes made visible). */
static char *display(const char *v, size_t len)
{
	struct zw_buf b = ZW_BUF_INIT;
	if (zw_txt_display(&b, v, len) || (!b.p && zw_buf_adds(&b, ""))) {
		zw_buf_free(&b);
		return NULL;
	}
	return zw_buf_detach(&b);
}

/* Append a copy of f to fs. */
static int copy_finding(struct zw_findings *fs, const struct zw_finding *f)
{
	struct zw_finding *n = zw_findings_add(fs, f->cls->id, f->offset, "%s", f->message ? f->message : "");
	if (!n)
		return ZW_ENOMEM;
	n->sev = f->sev;
	n->loc = f->loc;
	const struct {
		enum zw_finding_field field;
		const char *s;
	} fields[] = {
		{ZW_F_DOMAIN, f->domain},   {ZW_F_NAME, f->name},	  {ZW_F_TYPE, f->type},
		{ZW_F_SERVERS, f->servers}, {ZW_F_OBSERVED, f->observed}, {ZW_F_EXPECTED, f->expected},
		{ZW_F_FIX, f->fix},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].s && zw_finding_set(n, fields[i].field, fields[i].s))
			return ZW_ENOMEM;
	return 0;
}

/* Which of zw_spf_evaluate's findings the live check reports (the rest is inspect's). */
static int spf_keep(const struct zw_finding *f, const char *top)
{
	static const char *const walk_ids[] = {"SP-09", "SP-10", "SP-11", "SP-13", "SP-15"};
	const char *id = f->cls->id;
	if (f->name) /* a record met on the way (include or redirect target) */
		return f->sev >= ZW_SEV_ERROR;
	for (size_t i = 0; i < sizeof(walk_ids) / sizeof(walk_ids[0]); i++)
		if (strcmp(id, walk_ids[i]) == 0)
			return 1;
	if (strcmp(id, "SP-12") == 0)
		return f->sev >= ZW_SEV_ERROR; /* the walk's; the lint's WARNING is inspect's */
	if (strcmp(id, "SP-02") == 0) {	       /* several records at a target, not at the top */
		size_t n = strlen(top);
		return !f->message || strncasecmp(f->message, top, n) != 0 || f->message[n] != ' ';
	}
	return 0;
}

static int diagnose_spf(struct diag *g)
{
	struct zw_mailauth *m = g->m;
	struct spfctx c = {.m = m};
	struct zw_spf_dns dns = {.ctx = &c, .query = spf_query};
	struct zw_spf_result res;
	struct zw_findings tmp = {0};
	struct zw_error lerr = {0};
	const struct zw_record *want = desired(m, ZW_CLAIM_SPF, m->domain);
	const struct zw_loc *loc = want ? &want->loc : NULL;
	int known, rc;
	size_t from = g->fs->n;
	char *obs = NULL;

	const struct zw_obs_lookup *apex = tab_get(m, m->domain, T_TXT, &known);
	if (!apex || apex->ans.kind == ZW_OBS_FAILED || apex->ans.kind == ZW_OBS_RCODE ||
	    apex->ans.kind == ZW_OBS_REFERRAL)
		return 0; /* the apex cannot be read: the delegation findings say why */
	rc = zw_spf_evaluate(&res, m->domain, &dns, NULL, &tmp, &lerr);
	if (rc == ZW_EINVAL) {
		zw_findings_free(&tmp);
		return 0;
	}
	if (rc)
		goto out;
	if (res.record) {
		/* SP-16 and SP-18 of the live record */
		struct zw_spf *spf = NULL;
		struct zw_findings lint = {0};
		if ((rc = zw_spf_parse(&spf, res.record, strlen(res.record), &lint, NULL)) == 0)
			for (size_t i = 0; !rc && i < lint.n; i++)
				if (!strcmp(lint.v[i].cls->id, "SP-16") ||
				    !strcmp(lint.v[i].cls->id, "SP-18"))
					rc = copy_finding(g->fs, &lint.v[i]);
		zw_spf_free(spf);
		zw_findings_free(&lint);
	} else if (apex->ans.kind != ZW_OBS_DATA || !zw_findings_has(&tmp, 0, "SP-02")) {
		int bulk = m->d && m->d->bulk_sender;
		struct zw_finding *f = zw_findings_add(
			g->fs, "SP-01", -1,
			"no spf record at %s: check_host gives none, so spf cannot pass%s (RFC 7208 §4.5)",
			m->domain, bulk ? "; bulk senders need spf and dkim (google sender guidelines)" : "");
		rc = f ? 0 : ZW_ENOMEM;
		if (f && bulk)
			f->sev = ZW_SEV_ERROR;
		if (f && !rc)
			rc = zw_finding_setf(f, ZW_F_FIX,
					     "publish \"v=spf1 ... -all\" listing the senders of %s",
					     m->domain);
	}
	for (size_t i = 0; !rc && i < tmp.n; i++)
		if (spf_keep(&tmp.v[i], m->domain))
			rc = copy_finding(g->fs, &tmp.v[i]);
	if (!rc && c.missing) {
		struct zw_finding *f =
			zw_findings_add(g->fs, "SP-15", -1,
					"spf evaluation of %s is incomplete: %zu answers were not looked up "
					"(first: %s)%s; counts are lower "
					"bounds and the verdict is temperror",
					m->domain, c.missing, c.first,
					m->bounded ? " because the check's lookup bound was reached"
						   : ", which is a bug in the planning");
		rc = f ? 0 : ZW_ENOMEM;
	} else if (!rc && res.verdict == ZW_SPF_TEMPERROR) {
		struct zw_finding *f = zw_findings_add(
			g->fs, "SP-15", -1, "spf evaluation of %s gives temperror: %s (RFC 7208 §2.6.6)",
			m->domain, res.problem ? res.problem : "a dns error");
		rc = f ? 0 : ZW_ENOMEM;
	}
	if (!rc && res.record && !(obs = display(res.record, strlen(res.record))))
		rc = ZW_ENOMEM;
	if (!rc)
		rc = context(g, from, m->domain, "TXT", obs, loc);
	zw_free(obs);
	zw_spf_result_free(&res);
out:
	zw_findings_free(&tmp);
	return rc;
}

/* CN-03 / CN-04 of one resolved chain. `dkim`: no TXT at the end is dangling too. */
static int cname_chain(struct diag *g, const char *name, const struct zw_obs_lookup *lk, int dkim,
		       int *dangling, const struct zw_loc *loc)
{
	const struct zw_obs_answer *a = &lk->ans;
	size_t from = g->fs->n;
	struct zw_finding *f = NULL;
	struct zw_buf chain = ZW_BUF_INIT;
	int rc = zw_buf_adds(&chain, name);
	*dangling = 0;
	for (size_t i = 0; !rc && i < a->n_cnames; i++)
		rc = zw_buf_addf(&chain, " -> %s", a->cnames[i].target ? a->cnames[i].target : "?");
	if (rc)
		goto out;
	if (a->cname_loop) {
		f = zw_findings_add(g->fs, "CN-04", -1,
				    "cname loop: %s: resolvers answer servfail (RFC 1034 §3.6.2)",
				    zw_buf_str(&chain));
		if (f && zw_finding_setf(f, ZW_F_FIX, "point %s. at a name that holds the data", name))
			f = NULL;
		*dangling = 1;
	} else if (lk->too_long) {
		f = zw_findings_add(
			g->fs, "CN-04", -1,
			"cname chain from %s is longer than %d hops: resolvers give up (RFC 1034 §3.6.2)",
			name, ZW_RESOLVE_MAX_CNAMES);
		*dangling = 1;
	} else if (a->n_cnames && (a->kind == ZW_OBS_NXDOMAIN || (dkim && a->kind == ZW_OBS_NODATA))) {
		const char *end = a->cnames[a->n_cnames - 1].target;
		f = zw_findings_add(g->fs, "CN-03", -1, "dangling cname: %s: %s %s (RFC 1034 §3.6.2%s)",
				    zw_buf_str(&chain), end ? end : "?",
				    a->kind == ZW_OBS_NXDOMAIN ? "does not exist" : "has no txt record",
				    dkim ? "; RFC 6376 §6.1.2: no key" : "");
		if (f && zw_finding_set(f, ZW_F_FIX,
					"target gone: re-provision it at the service, or remove the cname"))
			f = NULL;
		*dangling = 1;
	} else if (a->n_cnames > 2) {
		f = zw_findings_add(g->fs, "CN-04", -1,
				    "cname chain of %zu hops: %s: every hop costs a lookup (RFC 1034 §3.6.2)",
				    a->n_cnames, zw_buf_str(&chain));
		if (f)
			f->sev = ZW_SEV_NOTICE;
	} else {
		goto out;
	}
	rc = f ? context(g, from, name, "CNAME", NULL, loc) : ZW_ENOMEM;
out:
	zw_buf_free(&chain);
	return rc;
}

/* A claimed CNAME not live: does its claimed target exist at all? */
static int claimed_target(struct diag *g, const struct claim *c)
{
	int known;
	const struct zw_obs_lookup *lk = tab_get(g->m, c->target, T_TXT, &known);
	size_t from = g->fs->n;
	if (!lk || lk->ans.n_cnames || lk->too_long || lk->ans.cname_loop)
		return 0;
	if (lk->ans.kind != ZW_OBS_NXDOMAIN && !(c->dkim && lk->ans.kind == ZW_OBS_NODATA))
		return 0;
	struct zw_finding *f = zw_findings_add(
		g->fs, "CN-03", -1,
		"the manifest's cname target %s %s: publishing %s. would leave a dangling cname (RFC 1034 "
		"§3.6.2)",
		c->target, lk->ans.kind == ZW_OBS_NXDOMAIN ? "does not exist" : "has no txt record", c->name);
	if (!f || zw_finding_set(f, ZW_F_FIX, "check the target with the service that issued it"))
		return ZW_ENOMEM;
	return context(g, from, c->name, "CNAME", NULL, &c->loc);
}

static int diagnose_cnames(struct diag *g)
{
	int rc = 0, known, dangling;
	for (size_t i = 0; !rc && i < g->m->nclaims; i++) {
		const struct claim *c = &g->m->claims[i];
		const struct zw_obs_lookup *lk = tab_get(g->m, c->name, T_TXT, &known);
		if (!lk || lk->ans.kind == ZW_OBS_FAILED)
			continue;
		if (c->dkim)
			continue; /* the selector's chain is judged with its key (diagnose_dkim) */
		if (lk->ans.n_cnames == 0 && !lk->ans.cname_loop && !lk->too_long)
			rc = claimed_target(g, c);
		else
			rc = cname_chain(g, c->name, lk, 0, &dangling, &c->loc);
	}
	return rc;
}

static const struct claim *claim_of(const struct zw_mailauth *m, const char *name)
{
	for (size_t i = 0; i < m->nclaims; i++)
		if (m->claims[i].dkim && strcmp(m->claims[i].name, name) == 0)
			return &m->claims[i];
	return NULL;
}

/* One live key: parse, revoked state, expectAbsent, DK-15. */
static int dkim_key(struct diag *g, const struct selector *s, const struct zw_obs_answer *a,
		    const char *owner)
{
	const struct zw_dkim_spec *k = s->spec;
	const struct zw_txt *t = NULL;
	size_t from = g->fs->n, nkeys = 0;
	struct zw_dkim *dk = NULL;
	const struct zw_dkim *kept = NULL;
	struct zw_error lerr = {0};
	char *obs = NULL;
	int rc = 0;
	for (size_t i = 0; i < a->n_rrs; i++)
		if (a->rrs[i].type == T_TXT && !nkeys++)
			t = &a->rrs[i].txt;
	if (!t)
		return 0;
	if (nkeys > 1 && a->n_cnames) {
		/* at the selector's own owner this is inspect's DK-14 */
		if (!zw_findings_add(
			    g->fs, "DK-14", -1,
			    "%zu txt records at %s (reached through the cname of %s): results are undefined "
			    "(RFC 6376 §3.6.2.2)",
			    nkeys, owner, s->name))
			return ZW_ENOMEM;
		return context(g, from, s->name, "TXT", NULL, &s->loc);
	}
	if (!(obs = display(t->data ? t->data : "", t->len)))
		return ZW_ENOMEM;
	unsigned flags = (k && (k->revoked || k->expect_absent)) ? ZW_DKIM_EXPECT_REVOKED : 0;
	const char *text = t->data ? t->data : "";
	unsigned h = g->m->keys ? key_hash(text, t->len, flags) : 0;
	if (!(kept = keys_find(g->m->keys, text, t->len, flags, h))) {
		size_t before = g->fs->n;
		rc = zw_dkim_parse_flags(&dk, text, t->len, flags, g->fs, &lerr);
		if (rc == ZW_EINVAL)
			rc = 0; /* the findings say why verifiers discard it */
		else if (rc == 0 && dk && g->fs->n == before) {
			/* no finding: the next domain with this record reuses it */
			int kr = keys_add(g->m->keys, text, t->len, flags, h, dk);
			if (kr < 0)
				rc = kr;
			else if (kr)
				kept = dk, dk = NULL;
		}
		if (dk)
			kept = dk;
	}
	if (!rc && k && k->expect_absent && (!kept || !kept->revoked)) {
		struct zw_finding *f = zw_findings_add(
			g->fs, "ZW-02", -1,
			"the manifest says %s must not exist (expectAbsent), but it publishes a %s: a "
			"retired key that "
			"still verifies keeps old or stolen signing keys valid (RFC 6376 §3.6.1)",
			s->name, kept ? "usable key" : "key record");
		if (!f ||
		    zw_finding_setf(f, ZW_F_FIX,
				    "delete the txt record at %s. (or revoke it with an empty p=)",
				    s->name) ||
		    zw_finding_set(f, ZW_F_EXPECTED, "(no record)"))
			rc = ZW_ENOMEM;
	}
	if (!rc && kept && k && k->public_key_sha256 && !k->expect_absent) {
		char hex[65];
		if (zw_dkim_key_sha256(hex, &kept->key) == 0 && strcasecmp(hex, k->public_key_sha256) != 0) {
			struct zw_finding *f =
				zw_findings_add(g->fs, "DK-15", -1,
						"the live key at %s (sha256 %s) is not the signer's key "
						"(publicKeySha256 %s): every "
						"signature fails verification (RFC 6376 §6.1.3)",
						s->name, hex, k->public_key_sha256);
			if (!f || zw_finding_set(f, ZW_F_EXPECTED, k->public_key_sha256) ||
			    zw_finding_set(f, ZW_F_FIX, "publish the signer's public key at this selector"))
				rc = ZW_ENOMEM;
		}
	}
	if (!rc)
		rc = context(g, from, s->name, "TXT", obs, &s->loc);
	zw_free(obs);
	zw_dkim_free(dk);
	return rc == ZW_EINVAL ? 0 : rc;
}

static int diagnose_dkim(struct diag *g)
{
	int rc = 0, known;
	for (size_t i = 0; !rc && i < g->m->nsel; i++) {
		const struct selector *s = &g->m->sels[i];
		const struct zw_obs_lookup *lk = tab_get(g->m, s->name, T_TXT, &known);
		const struct claim *c = claim_of(g->m, s->name);
		const struct zw_loc *loc = c ? &c->loc : &s->loc;
		int absent = s->spec && s->spec->expect_absent, dangling = 0;
		size_t from = g->fs->n;
		if (!lk || lk->ans.kind == ZW_OBS_FAILED || lk->ans.kind == ZW_OBS_RCODE ||
		    lk->ans.kind == ZW_OBS_REFERRAL)
			continue; /* no verdict from a failed lookup (TEMPFAIL, RFC 6376 §6.1.2) */
		const struct zw_obs_answer *a = &lk->ans;
		if (a->n_cnames || a->cname_loop || lk->too_long) {
			if ((rc = cname_chain(g, s->name, lk, 1, &dangling, loc)))
				break;
		}
		if (a->cname_loop || lk->too_long)
			continue;
		if (a->kind == ZW_OBS_DATA) {
			const char *owner = a->n_cnames ? a->cnames[a->n_cnames - 1].target : s->name;
			rc = dkim_key(g, s, a, owner ? owner : s->name);
			continue;
		}
		if (a->kind != ZW_OBS_NXDOMAIN && a->kind != ZW_OBS_NODATA)
			continue;
		if (absent)
			continue; /* the selector is gone, as the manifest says */
		struct zw_finding *f =
			zw_findings_add(g->fs, "DK-01", -1,
					"no dkim key at %s: %s%s, so verifiers fail with no key for "
					"signature (RFC 6376 §6.1.2)",
					s->name, a->kind == ZW_OBS_NXDOMAIN ? "nxdomain" : "no txt record",
					a->n_cnames ? " at the end of its cname" : "");
		if (!f || zw_finding_setf(f, ZW_F_FIX, "publish the key of selector '%s' at %s.", s->selector,
					  s->name)) {
			rc = ZW_ENOMEM;
			break;
		}
		rc = context(g, from, s->name, "TXT", NULL, loc);
		if (!rc && c && a->n_cnames == 0)
			rc = claimed_target(g, c);
	}
	return rc;
}

/* SE-01: SES Easy DKIM wants its three token CNAMEs live and resolving to a key. */
static int diagnose_ses(struct diag *g)
{
	struct zw_buf missing = ZW_BUF_INIT;
	size_t claimed = 0, live = 0, from = g->fs->n;
	int rc = 0, known;
	for (size_t i = 0; i < g->m->nclaims; i++) {
		const struct claim *c = &g->m->claims[i];
		if (!c->dkim || !ends_with_ci(c->target, ".dkim.amazonses.com"))
			continue;
		claimed++;
		const struct zw_obs_lookup *lk = tab_get(g->m, c->name, T_TXT, &known);
		if (!lk || lk->ans.kind == ZW_OBS_FAILED)
			continue; /* unknown: no verdict */
		const char *t = lk->ans.n_cnames ? lk->ans.cnames[0].target : NULL;
		size_t tl = t ? strlen(t) : 0;
		if (t && tl && t[tl - 1] == '.')
			tl--;
		if (t && tl == strlen(c->target) && strncasecmp(t, c->target, tl) == 0 &&
		    lk->ans.kind == ZW_OBS_DATA)
			live++;
		else
			rc = zw_buf_addf(&missing, "%s%s", missing.len ? ", " : "", c->name);
		if (rc)
			break;
	}
	if (!rc && claimed && missing.len) {
		struct zw_finding *f = zw_findings_add(g->fs, "SE-01", -1,
						       "easy dkim: %zu of the %zu token cnames resolve to "
						       "their key (not live: %s); ses keeps the "
						       "identity pending, then fails it after 72 hours",
						       live, claimed, zw_buf_str(&missing));
		if (!f || zw_finding_set(f, ZW_F_FIX,
					 "publish every <token>._domainkey cname ses lists for the identity"))
			rc = ZW_ENOMEM;
		if (!rc)
			rc = context(g, from, NULL, "CNAME", NULL, NULL);
	}
	zw_buf_free(&missing);
	return rc;
}

static int report_auth(struct diag *g, const struct zw_dmarc_uri *u, const char *dmarc_name,
		       const struct zw_loc *loc)
{
	char *exact = NULL, *wild = NULL;
	struct zw_error lerr = {0};
	const char *ev[ZW_SPF_ANSWER_MAX], *wv[ZW_SPF_ANSWER_MAX];
	size_t el[ZW_SPF_ANSWER_MAX], wl[ZW_SPF_ANSWER_MAX], ne = 0, nw = 0;
	int known, failed = 0, rc;
	size_t from = g->fs->n;
	if ((rc = zw_dmarc_report_auth_names(&exact, &wild, g->m->domain, u->host, &lerr)))
		return rc == ZW_ENOMEM ? rc : 0;
	const char *names[2] = {exact, wild};
	for (int k = 0; k < 2; k++) {
		const struct zw_obs_lookup *lk = tab_get(g->m, names[k], T_TXT, &known);
		if (!lk && known)
			continue; /* a name no server can be asked: nothing there */
		if (!lk || (lk->ans.kind != ZW_OBS_DATA && lk->ans.kind != ZW_OBS_NODATA &&
			    lk->ans.kind != ZW_OBS_NXDOMAIN)) {
			failed = 1;
			continue;
		}
		for (size_t i = 0; i < lk->ans.n_rrs; i++) {
			const struct zw_txt *t = &lk->ans.rrs[i].txt;
			if (lk->ans.rrs[i].type != T_TXT)
				continue;
			if (k == 0 && ne < ZW_SPF_ANSWER_MAX) {
				ev[ne] = t->data ? t->data : "";
				el[ne++] = t->len;
			} else if (k == 1 && nw < ZW_SPF_ANSWER_MAX) {
				wv[nw] = t->data ? t->data : "";
				wl[nw++] = t->len;
			}
		}
	}
	enum zw_report_auth v = zw_mailauth_report_auth(ev, el, ne, wv, wl, nw, failed);
	if (v == ZW_REPORT_AUTH_NONE || v == ZW_REPORT_AUTH_SEVERAL) {
		struct zw_finding *f =
			zw_findings_add(g->fs, "DM-07", -1,
					"%s does not indicate that it accepts dmarc reports about %s: %s at "
					"%s (or %s); receivers ignore %s "
					"(RFC 7489 §7.1)",
					u->host, g->m->domain,
					v == ZW_REPORT_AUTH_NONE ? "no v=DMARC1 authorisation record"
								 : "several v=DMARC1 records",
					exact, wild, u->text);
		if (!f ||
		    zw_finding_setf(f, ZW_F_FIX,
				    "Authorization record not found: %s IN TXT \"v=DMARC1\" (publish exactly "
				    "one such record "
				    "in the zone of %s, or remove the uri)",
				    exact, u->host) ||
		    zw_finding_setf(f, ZW_F_EXPECTED, "%s. IN TXT \"v=DMARC1\"", exact))
			rc = ZW_ENOMEM;
		if (!rc)
			rc = context(g, from, dmarc_name, "TXT", NULL, loc);
	}
	zw_free(exact);
	zw_free(wild);
	return rc;
}

static int report_mx(struct diag *g, const struct zw_dmarc_uri *u, const char *dmarc_name,
		     const struct zw_loc *loc)
{
	int known;
	size_t from = g->fs->n;
	const struct zw_obs_lookup *lk = tab_get(g->m, u->host, T_MX, &known);
	if (lk && lk->ans.kind != ZW_OBS_NXDOMAIN && lk->ans.kind != ZW_OBS_NODATA)
		return 0;
	if (!lk && !known)
		return 0;
	struct zw_finding *f =
		zw_findings_add(g->fs, "DM-08", -1,
				"the domain for rua email address %s has no mx records%s: aggregate reports "
				"are undeliverable (RFC 7489 "
				"§7.1)",
				u->address ? u->address : u->host,
				lk && lk->ans.kind == ZW_OBS_NXDOMAIN ? " (it does not exist)" : "");
	if (!f || zw_finding_setf(f, ZW_F_FIX, "give %s an mx record, or use another rua address", u->host))
		return ZW_ENOMEM;
	return context(g, from, dmarc_name, "TXT", NULL, loc);
}

static int diagnose_dmarc(struct diag *g)
{
	struct zw_mailauth *m = g->m;
	char name[NAME_MAX_LEN + 16], org[NAME_MAX_LEN + 2];
	struct zw_dmarc *dm = NULL;
	size_t found, from = g->fs->n;
	int failed, known, rc;
	snprintf(name, sizeof(name), "_dmarc.%s", m->domain);
	const struct zw_record *want = desired(m, ZW_CLAIM_DMARC, name);
	const struct zw_loc *loc = want ? &want->loc : NULL;
	if ((rc = dmarc_at(m, name, &dm, &found, &failed, &known)))
		return rc;
	if (failed || !known)
		return 0;
	if (found == 0) {
		char oname[NAME_MAX_LEN + 16];
		struct zw_dmarc *odm = NULL;
		size_t ofound = 0;
		int ofailed = 0, oknown = 0;
		if (!zw_mailauth_org_domain(org, sizeof(org), m->domain) && strcmp(org, m->domain) != 0) {
			snprintf(oname, sizeof(oname), "_dmarc.%s", org);
			if ((rc = dmarc_at(m, oname, &odm, &ofound, &ofailed, &oknown)))
				return rc;
			zw_dmarc_free(odm);
			if (ofound == 1 || ofailed)
				return 0; /* the organizational domain's policy applies (RFC 7489 §6.6.3) */
		}
		int bulk = m->d && m->d->bulk_sender;
		struct zw_finding *f = zw_findings_add(
			g->fs, "DM-01", -1,
			"no dmarc record at %s: receivers apply no policy and send no reports%s", name,
			bulk ? "; bulk senders must publish one, p=none at least (google sender guidelines)"
			     : " (RFC 7489 §6.6.3)");
		if (f && bulk)
			f->sev = ZW_SEV_ERROR;
		if (!f ||
		    zw_finding_setf(f, ZW_F_FIX, "publish \"v=DMARC1; p=none; rua=mailto:...\" at %s.", name))
			return ZW_ENOMEM;
		return context(g, from, name, "TXT", NULL, loc);
	}
	for (int k = 0; !rc && dm && k < 2; k++) {
		const struct zw_dmarc_uri *v = k ? dm->ruf : dm->rua;
		size_t n = k ? dm->nruf : dm->nrua;
		for (size_t i = 0; !rc && i < n; i++) {
			int dup = 0;
			for (size_t j = 0; !k && j < i; j++)
				dup |= is_mailto(&v[j]) && v[j].host &&
				       strcasecmp(v[j].host, v[i].host ? v[i].host : "") == 0;
			if (!k && !dup && is_mailto(&v[i]))
				rc = report_mx(g, &v[i], name, loc);
			if (!rc && uri_external(&v[i], m->domain))
				rc = report_auth(g, &v[i], name, loc);
		}
	}
	zw_dmarc_free(dm);
	return rc;
}

int zw_mailauth_spf_result(struct zw_spf_result *out, size_t *missing, struct zw_mailauth *m,
			   const struct zw_obs *obs, struct zw_error *err)
{
	struct spfctx c = {.m = m};
	struct zw_spf_dns dns = {.ctx = &c, .query = spf_query};
	int rc = tab_seed(m, obs);
	if (rc) {
		memset(out, 0, sizeof(*out));
		return zw_error_set(err, rc, "out of memory reading the observation");
	}
	rc = zw_spf_evaluate(out, m->domain, &dns, NULL, NULL, err);
	if (missing)
		*missing = c.missing;
	for (size_t i = 0; i < m->ntab; i++)
		m->tab[i].seen = NULL;
	return rc;
}

int zw_mailauth_diagnose(struct zw_findings *fs, struct zw_mailauth *m, const struct zw_obs *obs,
			 struct zw_error *err)
{
	struct diag g = {.m = m, .fs = fs};
	int rc = tab_seed(m, obs);
	if (!rc)
		rc = diagnose_spf(&g);
	if (!rc)
		rc = diagnose_dkim(&g);
	if (!rc)
		rc = diagnose_ses(&g);
	if (!rc)
		rc = diagnose_dmarc(&g);
	if (!rc)
		rc = diagnose_cnames(&g);
	for (size_t i = 0; i < m->ntab; i++)
		m->tab[i].seen = NULL; /* the observation is only borrowed for the call */
	if (rc)
		return zw_error_set(err, rc, "out of memory diagnosing %s", m->domain);
	return 0;
}

/* ---- overlap with inspect ---- */

static const char *const overlap_ids[] = {
	"SP-16", "SP-18", "DK-02", "DK-03", "DK-04", "DK-05", "DK-06",
	"DK-07", "DK-08", "DK-09", "DK-10", "DK-12", "DK-13", "DK-16",
};

static int same_name(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	size_t n = strlen(a), k = strlen(b);
	if (n && a[n - 1] == '.')
		n--;
	if (k && b[k - 1] == '.')
		k--;
	return n == k && strncasecmp(a, b, n) == 0;
}

void zw_mailauth_dedupe(struct zw_findings *fs, size_t from, size_t mine)
{
	size_t w = from;
	for (size_t i = from; i < fs->n; i++) {
		int drop = 0;
		if (i < mine) {
			for (size_t k = 0; !drop && k < sizeof(overlap_ids) / sizeof(overlap_ids[0]); k++) {
				if (strcmp(fs->v[i].cls->id, overlap_ids[k]) != 0)
					continue;
				for (size_t j = mine; !drop && j < fs->n; j++)
					drop = strcmp(fs->v[j].cls->id, overlap_ids[k]) == 0 &&
					       same_name(fs->v[j].name, fs->v[i].name);
			}
		}
		if (drop)
			zw_finding_clear(&fs->v[i]);
		else
			fs->v[w++] = fs->v[i];
	}
	fs->n = w;
}
