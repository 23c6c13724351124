/*
 * check.c - the orchestration of `zonewarden check` (see check.h).
 *
 * Owns, for one batch at a time: the resolver, and per domain its desired records, its
 * zw_deleg and zw_mailauth objects, its question list and its observation. Each domain's
 * state is freed as soon as its findings are appended; the resolver (and its cache) at
 * the end of the batch. Findings go to the caller's list.
 *
 * Invariant: a domain's objects are only read after the zw_resolver_run that follows the
 * last step which submitted work for it; nothing is freed while the resolver may still
 * write into it (lookups own their memory, so freeing the resolver after a run is safe).
 */
#include "reconcile/check.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/delegation.h"
#include "reconcile/desired.h"
#include "reconcile/inspect.h"
#include "reconcile/mailauth.h"
#include "reconcile/names.h"
#include "reconcile/resolve.h"

struct dom {
	const struct zw_check_target *t;
	struct zw_desired ds;
	int has_ds;
	struct zw_deleg *d;
	struct zw_mailauth *m;
	struct zw_question *qs;
	size_t nq;
	struct zw_obs *obs;
	int m_done, d_done;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dom_free(struct dom *x)
{
	zw_obs_free(x->obs);
	zw_mailauth_free(x->m);
	zw_deleg_free(x->d);
	zw_free(x->qs);
	if (x->has_ds)
		zw_desired_free(&x->ds);
	memset(x, 0, sizeof(*x));
}

/* Append qs to x->qs, skipping (name, type) already there. */
static int merge_questions(struct dom *x, const struct zw_question *qs, size_t n)
{
	struct zw_question *v = zw_realloc(x->qs, (x->nq + n + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	x->qs = v;
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		for (size_t k = 0; k < x->nq && !dup; k++)
			dup = x->qs[k].type == qs[i].type && strcasecmp(x->qs[k].name, qs[i].name) == 0;
		if (!dup)
			x->qs[x->nq++] = qs[i];
	}
	return 0;
}

/* Build a domain's objects and submit its observation. */
static int dom_start(struct dom *x, const struct zw_check_target *t, struct zw_resolver *r,
		     struct zw_mailauth_keys *keys, struct zw_error *err)
{
	const struct zw_question *mq = NULL, *dq = NULL;
	size_t nmq = 0, ndq = 0;
	int rc = 0;

	x->t = t;
	if (t->spec) {
		if ((rc = zw_desired_build(&x->ds, t->spec, err)) < 0)
			return rc;
		x->has_ds = 1;
	}
	rc = zw_mailauth_new(&x->m, t->domain, x->has_ds ? &x->ds : NULL, t->selectors, t->nsel, err);
	if (rc == 0) {
		zw_mailauth_set_keys(x->m, keys);
		rc = zw_mailauth_questions(x->m, &mq, &nmq);
	}
	if (rc == 0)
		rc = zw_deleg_new(&x->d, t->domain, x->has_ds ? &x->ds : NULL, mq, nmq, err);
	if (rc < 0)
		return rc;
	zw_deleg_questions(x->d, &dq, &ndq);
	if (merge_questions(x, dq, ndq) < 0 || merge_questions(x, mq, nmq) < 0)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	return zw_resolver_observe(r, &x->obs, t->domain, x->qs, x->nq, err);
}

/* ---- record-level findings: zw_inspect_owner on what the servers answer ---- */

/* The records of one owner as one server answers them; CNAME targets decoded to their
 * bytes (owned here), as lint reads them from a zone file. */
struct view {
	struct zw_irr *rrs;
	char **targets; /* one per rrs[i], NULL for TXT */
	size_t n, cap;
};

static void view_clear(struct view *v)
{
	for (size_t i = 0; i < v->n; i++)
		zw_free(v->targets[i]);
	v->n = 0;
}

static void view_free(struct view *v)
{
	view_clear(v);
	zw_free(v->rrs);
	zw_free(v->targets);
}

static int view_add(struct view *v, uint16_t type, const struct zw_txt *txt, const char *target)
{
	char dec[ZW_NAME_MAX * 4 + 8];
	if (target)
		zw_deleg_name_decode(dec, sizeof(dec), target);
	for (size_t i = 0; target && i < v->n; i++)
		if (v->rrs[i].type == type && v->targets[i] && strcmp(v->targets[i], dec) == 0)
			return 0; /* the same CNAME seen through two questions */
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 8;
		struct zw_irr *p = zw_realloc(v->rrs, cap * sizeof(*p));
		if (!p)
			return ZW_ENOMEM;
		v->rrs = p;
		char **t = zw_realloc(v->targets, cap * sizeof(*t));
		if (!t)
			return ZW_ENOMEM;
		v->targets = t;
		v->cap = cap;
	}
	char *owned = target ? zw_strdup(dec) : NULL;
	if (target && !owned)
		return ZW_ENOMEM;
	struct zw_irr *ir = &v->rrs[v->n];
	memset(ir, 0, sizeof(*ir));
	ir->type = type;
	ir->txt = txt;
	ir->target = owned;
	v->targets[v->n++] = owned;
	return 0;
}

/* The records at `owner` in server k's authoritative answers. 0, or ZW_ENOMEM. */
static int owner_view(struct view *v, const struct zw_obs *o, const char *owner, size_t k)
{
	view_clear(v);
	for (size_t q = 0; q < o->n_questions; q++) {
		const struct zw_obs_question *oq = &o->questions[q];
		if (!oq->at || strcmp(oq->name, owner) != 0 || !zw_deleg_answer_authoritative(&oq->at[k]))
			continue;
		const struct zw_obs_answer *a = &oq->at[k];
		if (a->n_cnames) {
			if (strcmp(a->cnames[0].owner, owner) == 0 && a->cnames[0].target &&
			    view_add(v, ZW_TYPE_CNAME, NULL, a->cnames[0].target) < 0)
				return ZW_ENOMEM;
			continue;
		}
		for (size_t i = 0; a->kind == ZW_OBS_DATA && i < a->n_rrs; i++) {
			const struct zw_rr *rr = &a->rrs[i];
			int rc = 0;
			if (rr->type == ZW_TYPE_TXT || rr->type == 99)
				rc = view_add(v, rr->type, &rr->txt, NULL);
			else if (rr->type == ZW_TYPE_CNAME && rr->target)
				rc = view_add(v, ZW_TYPE_CNAME, NULL, rr->target);
			if (rc < 0)
				return ZW_ENOMEM;
		}
	}
	return 0;
}

/* Does server k answer any question at `owner` authoritatively with data? */
static int has_view(const struct zw_obs *o, const char *owner, size_t k)
{
	for (size_t q = 0; q < o->n_questions; q++) {
		const struct zw_obs_question *oq = &o->questions[q];
		if (oq->at && strcmp(oq->name, owner) == 0 && zw_deleg_answer_authoritative(&oq->at[k]) &&
		    (oq->at[k].kind == ZW_OBS_DATA || oq->at[k].kind == ZW_OBS_CNAME))
			return 1;
	}
	return 0;
}

/* Do servers j and k answer every question at `owner` the same? */
static int same_view(const struct zw_obs *o, const char *owner, size_t j, size_t k)
{
	for (size_t q = 0; q < o->n_questions; q++) {
		const struct zw_obs_question *oq = &o->questions[q];
		if (oq->at && strcmp(oq->name, owner) == 0 && !zw_deleg_answer_same(&oq->at[j], &oq->at[k]))
			return 0;
	}
	return 1;
}

static int str_eq0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Drop findings [from, n) that repeat one in [start, from) (the same problem seen in two
 * servers' answers). */
static void drop_repeats(struct zw_findings *fs, size_t start, size_t from)
{
	size_t w = from;
	for (size_t i = from; i < fs->n; i++) {
		const struct zw_finding *f = &fs->v[i];
		int dup = 0;
		for (size_t k = start; k < from && !dup; k++) {
			const struct zw_finding *g = &fs->v[k];
			dup = f->cls == g->cls && str_eq0(f->name, g->name) && str_eq0(f->type, g->type) &&
			      str_eq0(f->observed, g->observed) && str_eq0(f->message, g->message);
		}
		if (dup) {
			zw_finding_clear(&fs->v[i]);
			continue;
		}
		fs->v[w++] = fs->v[i];
	}
	fs->n = w;
}

static int inspect_owner(struct zw_findings *fs, const struct zw_obs *o, const char *owner, const char *apex,
			 const char *domain, struct zw_error *err)
{
	size_t *group = zw_calloc(o->n_servers + 1, sizeof(*group)); /* representative of each server */
	struct view v = {0};
	struct zw_buf srv = ZW_BUF_INIT;
	size_t start = fs->n;
	int rc = group ? 0 : ZW_ENOMEM;

	for (size_t k = 0; rc == 0 && k < o->n_servers; k++) {
		group[k] = (size_t)-1;
		if (!has_view(o, owner, k))
			continue;
		for (size_t j = 0; j < k && group[k] == (size_t)-1; j++)
			if (group[j] == j && same_view(o, owner, j, k))
				group[k] = j;
		if (group[k] == (size_t)-1)
			group[k] = k;
	}
	for (size_t k = 0; rc == 0 && k < o->n_servers; k++) {
		if (group[k] != k)
			continue;
		size_t from = fs->n;
		zw_buf_reset(&srv);
		for (size_t j = k; rc == 0 && j < o->n_servers; j++) {
			if (group[j] != k)
				continue;
			char lab[ZW_NAME_MAX + ZW_DNS_ADDR_STRLEN + 4];
			zw_deleg_server_label(lab, sizeof(lab), o->servers[j].name, &o->servers[j].addr);
			rc = zw_buf_addf(&srv, "%s%s", srv.len ? ";" : "", lab);
		}
		if (rc == 0)
			rc = owner_view(&v, o, owner, k);
		if (rc == 0 && v.n) {
			struct zw_owner ow = {owner, v.rrs, v.n};
			rc = zw_inspect_owner(fs, &ow, apex, domain, err);
		}
		for (size_t i = from; rc == 0 && i < fs->n; i++)
			if (!fs->v[i].servers && zw_finding_set(&fs->v[i], ZW_F_SERVERS, zw_buf_str(&srv)))
				rc = ZW_ENOMEM;
		if (rc == 0 && from > start)
			drop_repeats(fs, start, from);
	}
	zw_free(group);
	view_free(&v);
	zw_buf_free(&srv);
	if (rc == ZW_ENOMEM)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	return rc;
}

/* Every claimed owner at or below the apex, once. */
static int inspect_claims(struct zw_findings *fs, const struct dom *x, const char *apex, struct zw_error *err)
{
	const struct zw_question *cq = NULL;
	size_t ncq = 0;
	int rc = 0;
	zw_deleg_claims(x->d, &cq, &ncq);
	for (size_t i = 0; i < ncq && rc == 0; i++) {
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(cq[k].name, cq[i].name) == 0;
		if (seen || !zw_name_is_at_or_below(cq[i].name, apex))
			continue;
		size_t before = fs->n;
		rc = inspect_owner(fs, x->obs, cq[i].name, apex, x->t->domain, err);
		/* point at the manifest entry that claims the owner */
		for (size_t r = 0; rc == 0 && x->has_ds && r < x->ds.n; r++) {
			if (strcmp(x->ds.v[r].name, cq[i].name) != 0)
				continue;
			for (size_t k = before; k < fs->n; k++)
				if (!fs->v[k].loc.file)
					fs->v[k].loc = x->ds.v[r].loc;
			break;
		}
	}
	return rc;
}

/* ---- the most specific finding wins ---- */

static int name_eq(const char *a, const char *b)
{
	size_t n = strlen(a), k = strlen(b);
	n -= n && a[n - 1] == '.';
	k -= k && b[k - 1] == '.';
	return n == k && strncasecmp(a, b, n) == 0;
}

/*
 * A finding that says why something is broken explains the findings that only describe
 * the consequence at the same name; those are dropped:
 *   NM-01    the record sits at the doubled name (its `expected` is the name meant): its
 *            absence there (ZW-01, DK-01, SP-01, DM-01);
 *   DL-01    (per record) it is only at the provider: its absence from the world;
 *   ZW-01    the manifest claims it and says exactly what to create: the generic "no
 *            SPF / no DMARC / no DKIM key" at that name adds nothing;
 *   TX-*, NM-02, SE-02  the value is mangled (stray characters, one record split over
 *            several RRs, the origin appended): the record that does not parse or is not
 *            found (SP-01, DM-01, DK-01..DK-05 of the live key) and the target that does
 *            not resolve (CN-03).
 */
static const char *const absent_effects[] = {"ZW-01", "DK-01", "SP-01", "DM-01", NULL};
static const char *const claim_effects[] = {"DK-01", "SP-01", "DM-01", NULL};
static const char *const mangled_effects[] = {"CN-03", "DK-01", "DK-02", "DK-03", "DK-04",
					      "DK-05", "SP-01", "DM-01", NULL};
static const char *const target_effects[] = {"CN-03", "DK-01", NULL};

static const struct {
	const char *cause; /* a class id, or an id prefix ending in '-' */
	int at_expected;   /* the name is the cause's `expected` (NM-01), else its `name` */
	const char *const *effects;
} explain_table[] = {
	{"NM-01", 1, absent_effects}, {"DL-01", 0, absent_effects}, {"ZW-01", 0, claim_effects},
	{"TX-", 0, mangled_effects},  {"NM-02", 0, target_effects}, {"SE-02", 0, target_effects},
};

/* Is f a consequence that g explains? */
static int explained_by(const struct zw_finding *f, const struct zw_finding *g)
{
	for (size_t t = 0; t < sizeof(explain_table) / sizeof(explain_table[0]); t++) {
		const char *c = explain_table[t].cause;
		size_t cl = strlen(c);
		if (c[cl - 1] == '-' ? strncmp(g->cls->id, c, cl) != 0 : strcmp(g->cls->id, c) != 0)
			continue;
		if (strcmp(c, "DL-01") == 0 && (!g->type || strcmp(g->type, "NS") == 0))
			continue; /* the domain's DL-01, not one record's */
		const char *at = explain_table[t].at_expected ? g->expected : g->name;
		if (!at || !f->name || !name_eq(at, f->name))
			continue;
		for (const char *const *e = explain_table[t].effects; *e; e++)
			if (strcmp(f->cls->id, *e) == 0)
				return 1;
	}
	return 0;
}

static void most_specific(struct zw_findings *fs, size_t from)
{
	size_t w = from;
	for (size_t i = from; i < fs->n; i++) {
		int drop = 0;
		for (size_t k = from; k < fs->n && !drop; k++)
			drop = k != i && explained_by(&fs->v[i], &fs->v[k]);
		if (drop) {
			zw_finding_clear(&fs->v[i]);
			continue;
		}
		fs->v[w++] = fs->v[i];
	}
	fs->n = w;
}

static int dom_findings(struct zw_findings *fs, struct dom *x, struct zw_error *err)
{
	size_t from = fs->n;
	char *apex = NULL;
	int rc = zw_name_canonical(&apex, x->t->domain, err);
	if (rc == 0)
		rc = inspect_claims(fs, x, apex, err);
	if (rc == 0)
		rc = zw_deleg_diagnose(fs, from, x->d, x->obs, err);
	size_t mine = fs->n;
	if (rc == 0)
		rc = zw_mailauth_diagnose(fs, x->m, x->obs, err);
	if (rc == 0)
		zw_mailauth_dedupe(fs, from, mine);
	if (rc == 0) {
		most_specific(fs, from);
		if (zw_findings_context(fs, from, x->t->domain, NULL, NULL, NULL, NULL) < 0)
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	zw_free(apex);
	return rc;
}

/* ---- the batches ---- */

static int timed_out(double deadline, size_t done, size_t total, double timeout, struct zw_error *err)
{
	if (deadline <= 0 || now_s() < deadline)
		return 0;
	return zw_error_set(err, ZW_ETRANSIENT,
			    "timed out after %g s (--timeout): %zu of %zu domains checked", timeout, done,
			    total);
}

static int run_batch(struct zw_findings *fs, struct zw_check_stats *st, const struct zw_roothints *hints,
		     struct zw_mailauth_keys *keys, const struct zw_check_target *t, size_t n, size_t done,
		     size_t total, const struct zw_check_opts *o, double deadline, struct zw_error *err)
{
	struct zw_resolver_opts ro = {.dns = o->dns};
	struct zw_resolver *r = NULL;
	struct dom *x = zw_calloc(n + 1, sizeof(*x));
	int rc = x ? zw_resolver_new(&r, hints, &ro, err) : zw_error_set(err, ZW_ENOMEM, "out of memory");

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = dom_start(&x[i], &t[i], r, keys, err);
		st->questions += x[i].nq;
	}
	for (size_t round = 0; rc == 0; round++) {
		if ((rc = timed_out(deadline, done, total, o->timeout, err)) < 0)
			break;
		rc = zw_resolver_run(r, err);
		st->runs++;
		int more = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (!x[i].m_done) {
				int s = zw_mailauth_step(x[i].m, r, x[i].obs, err);
				if (s ==
				    ZW_ERATE) { /* the question budget: the diagnosis says what is unknown */
					zw_error_clear(err);
					s = 0;
				}
				if (s < 0)
					rc = s;
				x[i].m_done = s == 0;
				more |= s == 1;
			}
			if (rc == 0 && !x[i].d_done) {
				int s = zw_deleg_step(x[i].d, r, x[i].obs, err);
				if (s == ZW_ERATE) {
					zw_error_clear(err);
					s = 0;
				}
				if (s < 0)
					rc = s;
				x[i].d_done = s == 0;
				more |= s == 1;
			}
		}
		if (!more || round + 1 >= ZW_CHECK_MAX_ROUNDS)
			break;
	}
	if (rc == 0 && r) {
		/* the last step may have submitted work past the round bound: finish it */
		rc = zw_resolver_run(r, err);
		st->queries += zw_resolver_queries_sent(r);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = dom_findings(fs, &x[i], err);
		dom_free(&x[i]);
		st->domains++;
		if (rc == 0 && o->progress)
			o->progress(o->progress_arg, done + i + 1, total);
	}
	for (size_t i = 0; x && i < n; i++)
		dom_free(&x[i]);
	zw_free(x);
	zw_resolver_free(r);
	st->batches++;
	return rc;
}

int zw_check_run(struct zw_findings *fs, struct zw_check_stats *st, const struct zw_check_target *targets,
		 size_t n, const struct zw_check_opts *opts, struct zw_error *err)
{
	struct zw_check_stats local = {0};
	struct zw_check_opts o = *opts;
	struct zw_roothints *hints = NULL;
	double deadline = o.timeout > 0 ? now_s() + o.timeout : 0;
	int rc;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (o.batch == 0)
		o.batch = ZW_CHECK_BATCH;
	if (o.timeout > 0 && o.dns.timeout_ms == 0 && o.timeout < 12) {
		/* keep one query's retries well inside the overall limit */
		unsigned ms = (unsigned)(o.timeout * 1000 / 8);
		o.dns.timeout_ms = ms < 100 ? 100 : ms;
	}
	if ((rc = zw_roothints_select(&hints, o.root_hints, err)) < 0)
		return rc;
	/* DKIM key records parsed once for all the domains (an ESP's key behind many) */
	struct zw_mailauth_keys *keys = zw_mailauth_keys_new();
	if (!keys)
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t done = 0; done < n && rc == 0; done += o.batch) {
		size_t k = n - done < o.batch ? n - done : o.batch;
		rc = run_batch(fs, st, hints, keys, targets + done, k, done, n, &o, deadline, err);
	}
	zw_mailauth_keys_free(keys);
	zw_roothints_free(hints);
	return rc;
}
