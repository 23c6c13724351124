/*
 * reconcile.c - the plan/apply/verify pipeline (see reconcile.h).
 *
 * Each Provider manifest is opened once and shared by its domains. The delegation gate
 * and verification use the observation engine (resolve.h) from the root hints, never
 * the system resolver. Owns: everything in struct zw_run.
 */
#include "reconcile/reconcile.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/alloc.h"
#include "reconcile/desired.h"
#include "reconcile/provider.h"
#include "reconcile/resolve.h"

struct conns {
	const struct zw_provider_spec *spec[64];
	struct zw_conn *conn[64];
	char error[64][512];
	size_t n;
};

static struct zw_conn *conn_for(struct conns *cs, const struct zw_registry *reg,
				const struct zw_provider_spec *spec, const struct zw_run_opts *o,
				const char **why)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->spec[i] == spec) {
			*why = cs->error[i];
			return cs->conn[i];
		}
	if (cs->n == 64) {
		*why = "more than 64 providers";
		return NULL;
	}
	struct zw_error e = {0};
	size_t i = cs->n++;
	cs->spec[i] = spec;
	cs->conn[i] = NULL;
	const struct zw_provider *p = zw_registry_find(reg, spec->type);
	/* --wait-insync becomes the provider's waitInsync setting, unless the manifest sets it */
	struct zw_kv extra[65];
	size_t n = 0;
	char secs[32];
	for (size_t k = 0; k < spec->nopts && k < 64; k++)
		extra[n++] = spec->opts[k];
	if (p && o && o->wait_insync > 0 && zw_provider_has_option(p, "waitInsync") &&
	    !zw_kv_get(spec, "waitInsync")) {
		snprintf(secs, sizeof(secs), "%ld", o->wait_insync);
		extra[n++] = (struct zw_kv){"waitInsync", secs, spec->loc};
	}
	int rc = p ? zw_conn_open(&cs->conn[i], reg, p, extra, n, &e)
		   : zw_conn_open_manifest(&cs->conn[i], reg, spec, &e);
	if (rc) {
		char line[ZW_ERR_MSG_MAX + 512];
		zw_error_format(line, sizeof(line), &e);
		snprintf(cs->error[i], sizeof(cs->error[i]), "%s", line);
	} else {
		cs->error[i][0] = '\0';
	}
	*why = cs->error[i];
	return cs->conn[i];
}

/* What a run keeps open from plan to apply: the registry and its connections, so apply
 * writes through the very connection (and provider state) that listed the zone. */
struct zw_run_state {
	struct zw_registry *reg;
	struct conns cs;
};

static void conns_close(struct conns *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		zw_conn_close(cs->conn[i]);
	cs->n = 0;
}

static int set_error(struct zw_plan *p, const char *msg)
{
	zw_free(p->error);
	return (p->error = zw_strdup(msg)) ? 0 : ZW_ENOMEM;
}

/* Is every name of `sub` in `set`? And do they share any? */
static void compare_sets(char **sub, size_t nsub, char **set, size_t nset, int *subset, int *overlap)
{
	*subset = nsub > 0;
	*overlap = 0;
	for (size_t i = 0; i < nsub; i++) {
		int in = 0;
		for (size_t j = 0; j < nset && !in; j++)
			in = strcmp(sub[i], set[j]) == 0;
		*subset &= in;
		*overlap |= in;
	}
}

static int join(char *out, size_t outsz, char **v, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < outsz; i++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%s", i ? " " : "", v[i]);
	return 0;
}

/* DL-01 / DL-11: may this zone be written? */
static int gate(struct zw_run *run, struct zw_plan *p, const struct zw_domain *d, const struct zw_obs *obs,
		char **pns, size_t npns)
{
	char parent[1024], provider[1024];
	struct zw_finding *f = NULL;
	join(provider, sizeof(provider), pns, npns);
	join(parent, sizeof(parent), obs->parent_ns, obs->n_parent_ns);
	size_t from = run->findings.n;
	if (obs->delegation == ZW_DELEG_NXDOMAIN) {
		f = zw_findings_add(
			&run->findings, "DL-11", -1,
			"the parent zone %s says %s does not exist: nothing is written until it is delegated",
			obs->parent ? obs->parent : "?", p->zone);
		if (f &&
		    zw_finding_setf(f, ZW_F_FIX, "register or renew %s and set its NS at the registrar to %s",
				    p->zone, provider))
			return ZW_ENOMEM;
	} else if (obs->delegation != ZW_DELEG_DELEGATED) {
		f = zw_findings_add(&run->findings, "DL-07", -1,
				    "cannot see how the parent delegates %s (%s): nothing is written",
				    p->zone, obs->walk_error ? obs->walk_error : "no parent server answered");
	} else {
		int subset, overlap;
		compare_sets(obs->parent_ns, obs->n_parent_ns, pns, npns, &subset, &overlap);
		if (subset)
			return 0;
		f = zw_findings_add(
			&run->findings, "DL-01", -1,
			overlap ? "split delegation: the parent delegates %s to {%s}, of which only some are "
				  "the provider's {%s}; nothing is written"
				: "the parent delegates %s to {%s}, not to the provider's {%s}: records "
				  "written there are invisible to the world; nothing is written",
			p->zone, parent, provider);
		if (f && zw_finding_setf(
				 f, ZW_F_FIX,
				 "The registry delegates %s to {%s}. Change NS at the registrar to {%s}, or "
				 "point the manifest at the provider that holds {%s}",
				 p->zone, parent, provider, parent))
			return ZW_ENOMEM;
	}
	if (!f)
		return ZW_ENOMEM;
	p->gated = 1;
	if (zw_finding_set(f, ZW_F_SERVERS, parent[0] ? parent : NULL))
		return ZW_ENOMEM;
	return zw_findings_context(&run->findings, from, d->domain, p->zone, "NS", NULL, &d->domain_loc);
}

static int resolver_new(struct zw_resolver **r, const struct zw_run_opts *o, struct zw_error *err)
{
	struct zw_roothints *hints = NULL;
	struct zw_resolver_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.dns.timeout_ms = o->dns_timeout_ms;
	ro.dns.stats = o->dns_stats;
	int rc = zw_roothints_select(&hints, o->root_hints, err);
	if (rc == 0)
		rc = zw_resolver_new(r, hints, &ro, err);
	zw_roothints_free(hints);
	return rc;
}

/* One batch of domains [first, last): list, plan, then every delegation at once on one
 * resolver, then the gate. Batches keep memory flat for thousands of domains: a
 * resolver's cache and observations live only for its batch. */
static int plan_batch(struct zw_run *run, const struct zw_manifests *ms, const struct zw_run_opts *o,
		      const struct zw_registry *reg, struct conns *cs, size_t first, size_t last,
		      struct zw_error *err)
{
	struct zw_resolver *res = NULL;
	size_t cap = last - first, base = run->n;
	struct zw_obs **obs = zw_calloc(cap + 1, sizeof(*obs));
	char ***pns = zw_calloc(cap + 1, sizeof(*pns));
	size_t *npns = zw_calloc(cap + 1, sizeof(*npns));
	const struct zw_domain **doms = zw_calloc(cap + 1, sizeof(*doms));
	int rc = 0;
	if (!obs || !pns || !npns || !doms) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = resolver_new(&res, o, err)))
		goto out;
	for (size_t i = first; i < last && rc == 0; i++) {
		const struct zw_domain *d = &ms->domains[i];
		if (o->selected && !o->selected[i])
			continue;
		size_t j = run->n - base;
		struct zw_plan *p = &run->plans[run->n];
		const struct zw_provider_spec *spec = zw_manifests_provider(ms, d->provider_ref);
		const char *why = "";
		struct zw_conn *c = spec ? conn_for(cs, reg, spec, o, &why) : NULL;
		struct zw_desired ds;
		struct zw_zonestate zs;
		char *zone_id = NULL;
		struct zw_error e = {0};
		memset(&zs, 0, sizeof(zs));
		doms[j] = d;
		if ((rc = zw_desired_build(&ds, d, err)))
			break;
		struct zw_plan_opts po = {d->meta_name, o->fix_mistakes, o->force};
		int prc = !c ? ZW_EINVAL : zw_conn_find_zone(c, d->domain, &p->zone, &zone_id, &e);
		if (prc == 0)
			prc = zw_zonestate_init(&zs, p->zone, &e);
		if (prc == 0)
			prc = zw_conn_list(c, zone_id, &zs, &e);
		if (prc == 0)
			prc = zw_conn_nameservers(c, zone_id, &pns[j], &npns[j], &e);
		if (prc == 0) {
			char *zone = p->zone;
			p->zone = NULL;
			prc = zw_plan_build(p, &ds, &zs, &po, &e);
			p->zone = zone;
		}
		if (prc == 0)
			prc = zw_resolver_observe(res, &obs[j], p->zone, NULL, 0, &e);
		if (prc == ZW_ENOMEM) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		} else if (prc) {
			char line[ZW_ERR_MSG_MAX + 512];
			zw_error_format(line, sizeof(line), &e);
			if (!p->domain)
				p->domain = zw_strdup(d->domain);
			rc = set_error(p, c ? line : why);
		}
		p->provider = d->provider_ref;
		p->zone_id = zone_id;
		zw_zonestate_free(&zs);
		zw_desired_free(&ds);
		run->n++;
	}
	if (rc == 0)
		rc = zw_resolver_run(res, err);
	for (size_t j = 0; rc == 0 && j < run->n - base; j++) {
		struct zw_plan *p = &run->plans[base + j];
		if (!p->error && obs[j])
			rc = gate(run, p, doms[j], obs[j], pns[j], npns[j]);
		for (size_t k = 0; rc == 0 && k < p->notes.n; k++) {
			struct zw_finding *n = &p->notes.v[k];
			struct zw_finding *f =
				zw_findings_add(&run->findings, n->cls->id, -1, "%s", n->message);
			if (!f || zw_finding_set(f, ZW_F_DOMAIN, n->domain) ||
			    zw_finding_set(f, ZW_F_NAME, n->name) || zw_finding_set(f, ZW_F_TYPE, n->type) ||
			    zw_finding_set(f, ZW_F_FIX, n->fix))
				rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			else
				f->loc = n->loc;
		}
	}
out:
	for (size_t j = 0; j < cap; j++) {
		if (obs)
			zw_obs_free(obs[j]);
		for (size_t k = 0; pns && k < npns[j]; k++)
			zw_free(pns[j][k]);
		if (pns)
			zw_free(pns[j]);
	}
	zw_free(obs);
	zw_free(pns);
	zw_free(npns);
	zw_free(doms);
	zw_resolver_free(res);
	return rc;
}

#define PLAN_BATCH 256

int zw_run_plan(struct zw_run *run, const struct zw_manifests *ms, const struct zw_run_opts *o,
		struct zw_error *err)
{
	int rc;
	memset(run, 0, sizeof(*run));
	if (!(run->state = zw_calloc(1, sizeof(*run->state))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	struct zw_run_state *st = run->state;
	if ((rc = zw_registry_new(&st->reg, err)))
		return rc;
	if (o->http_hooks)
		zw_registry_set_http_hooks(st->reg, o->http_hooks);
	if (o->plugin_dir && (rc = zw_registry_load_dir(st->reg, o->plugin_dir, err)))
		return rc;
	if (!(run->plans = zw_calloc(ms->ndomains + 1, sizeof(*run->plans))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t b = 0; b < ms->ndomains && rc == 0; b += PLAN_BATCH)
		rc = plan_batch(run, ms, o, st->reg, &st->cs, b,
				b + PLAN_BATCH < ms->ndomains ? b + PLAN_BATCH : ms->ndomains, err);
	if (rc == 0)
		rc = zw_plan_checksum(run->checksum, run->plans, run->n, err);
	return rc;
}

/* ---- apply ------------------------------------------------------------------------------ */

/* Does one server's answer show the change? */
static int shows(const struct zw_change *c, const struct zw_obs_answer *a)
{
	const struct zw_rrset *want = &c->after;
	if (c->op == ZW_OP_DELETE)
		return a->kind == ZW_OBS_NXDOMAIN || a->kind == ZW_OBS_NODATA ||
		       (a->kind == ZW_OBS_DATA && a->n_cnames > 0 && c->before.type != 5) ||
		       a->kind == ZW_OBS_CNAME;
	if (a->kind != ZW_OBS_DATA || a->n_cnames > 0 || a->n_rrs != want->nrd)
		return 0;
	for (size_t i = 0; i < a->n_rrs; i++) {
		const struct zw_rr *rr = &a->rrs[i];
		int found = 0;
		for (size_t k = 0; k < want->nrd && !found; k++) {
			if (want->type == 16 || want->type == 99)
				found = zw_txt_equal(&rr->txt, &want->rd[k].txt);
			else if (want->type == 5)
				found = rr->target && want->rd[k].text &&
					strcmp(rr->target, want->rd[k].text) == 0;
			else
				found = rr->text && want->rd[k].text &&
					strcmp(rr->text, want->rd[k].text) == 0;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* One round of verification: ask every delegated server; returns how many applied
 * changes are not yet visible everywhere. */
static int verify_round(struct zw_run *run, const struct zw_run_opts *o, size_t *pending,
			struct zw_error *err)
{
	struct zw_resolver *res = NULL;
	struct zw_obs **obs = zw_calloc(run->n + 1, sizeof(*obs));
	int rc = obs ? resolver_new(&res, o, err) : zw_error_set(err, ZW_ENOMEM, "out of memory");
	*pending = 0;
	for (size_t i = 0; rc == 0 && i < run->n; i++) {
		struct zw_plan *p = &run->plans[i];
		size_t nq = 0;
		struct zw_question *qs = zw_calloc(p->n + 1, sizeof(*qs));
		if (!qs) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; k < p->n; k++) {
			const struct zw_change *c = &p->v[k];
			if (c->result != ZW_PROV_APPLIED)
				continue;
			const struct zw_rrset *id = c->after.name ? &c->after : &c->before;
			qs[nq].name = id->name;
			qs[nq].type = id->type;
			nq++;
		}
		if (nq)
			rc = zw_resolver_observe(res, &obs[i], p->zone, qs, nq, err);
		zw_free(qs);
	}
	if (rc == 0)
		rc = zw_resolver_run(res, err);
	for (size_t i = 0; rc == 0 && i < run->n; i++) {
		struct zw_plan *p = &run->plans[i];
		size_t q = 0;
		for (size_t k = 0; obs[i] && k < p->n; k++) {
			struct zw_change *c = &p->v[k];
			if (c->result != ZW_PROV_APPLIED)
				continue;
			const struct zw_obs_question *oq = &obs[i]->questions[q++];
			c->servers = (int)obs[i]->n_servers;
			c->visible = 0;
			for (size_t s = 0; s < obs[i]->n_servers; s++)
				c->visible += shows(c, &oq->at[s]);
			if (c->servers == 0 || c->visible < c->servers)
				(*pending)++;
		}
	}
	for (size_t i = 0; obs && i < run->n; i++)
		zw_obs_free(obs[i]);
	zw_free(obs);
	zw_resolver_free(res);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct zw_domain *domain_of(const struct zw_manifests *ms, const struct zw_plan *p)
{
	for (size_t k = 0; p->domain && k < ms->ndomains; k++)
		if (ms->domains[k].domain && strcmp(ms->domains[k].domain, p->domain) == 0)
			return &ms->domains[k];
	return NULL;
}

/* The opt-in delegation fix of a gated plan (SPEC §8, route53): the provider asks the
 * registrar to delegate the domain to the zone's name servers. Nothing is written to
 * the zone in this run: the gate holds until the parent serves the new delegation. */
static int fix_delegation(struct zw_run *run, const struct zw_manifests *ms, const struct zw_run_opts *o,
			  struct zw_plan *p, struct zw_error *err)
{
	const struct zw_domain *d = domain_of(ms, p);
	if (!d || !(d->fix_delegation || o->fix_delegation) || !p->zone_id)
		return 0;
	const char *why = "";
	struct zw_conn *c = conn_for(&run->state->cs, run->state->reg,
				     zw_manifests_provider(ms, d->provider_ref), o, &why);
	struct zw_error e = {0};
	char op[128];
	int rc = c ? zw_conn_fix_delegation(c, d->domain, p->zone_id, op, sizeof(op), &e)
		   : zw_error_set(&e, ZW_EINVAL, "%s", why);
	if (rc == ZW_ENOMEM)
		return zw_error_set(err, rc, "out of memory");
	struct zw_finding *f =
		rc ? zw_findings_add(&run->findings, "DL-01", -1, "the delegation fix for %s failed: %s",
				     d->domain, e.msg)
		   : zw_findings_add(&run->findings, "DL-01", -1,
				     "asked the registrar to delegate %s to the provider's name servers "
				     "(operation %s); "
				     "zonewarden writes the records once the parent serves them",
				     d->domain, op[0] ? op : "?");
	if (!f || zw_findings_context(&run->findings, run->findings.n - 1, d->domain, p->zone, "NS", NULL,
				      &d->domain_loc))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (rc == 0)
		f->sev = ZW_SEV_NOTICE;
	else
		run->apply_failed = 1;
	return 0;
}

int zw_run_apply(struct zw_run *run, const struct zw_manifests *ms, const struct zw_run_opts *o,
		 struct zw_error *err)
{
	int rc = 0, any = 0;
	if (!run->state)
		return zw_error_set(err, ZW_EINVAL, "apply without a plan");
	struct zw_registry *reg = run->state->reg;
	struct conns *cs = &run->state->cs;
	for (size_t i = 0; i < run->n && rc == 0; i++) {
		struct zw_plan *p = &run->plans[i];
		if (p->error) {
			run->apply_failed = 1;
			continue;
		}
		if (p->gated) {
			if ((rc = fix_delegation(run, ms, o, p, err)))
				break;
			continue;
		}
		if (p->n == 0)
			continue;
		if (p->refused) {
			run->apply_failed = 1;
			continue;
		}
		const struct zw_domain *d = domain_of(ms, p);
		const char *why = "";
		struct zw_conn *c =
			d ? conn_for(cs, reg, zw_manifests_provider(ms, d->provider_ref), o, &why) : NULL;
		enum zw_prov_result *results = zw_calloc(p->n, sizeof(*results));
		char **messages = zw_calloc(p->n, sizeof(*messages));
		struct zw_error e = {0};
		if (!results || !messages) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		} else if (!c) {
			rc = set_error(p, why);
			run->apply_failed = 1;
		} else {
			int arc = zw_conn_apply(c, p->zone_id, p, results, messages, &e);
			for (size_t k = 0; k < p->n; k++) {
				p->v[k].result = (int)results[k];
				p->v[k].message = messages[k];
				any |= results[k] == ZW_PROV_APPLIED;
			}
			if (arc) {
				char line[ZW_ERR_MSG_MAX + 512];
				zw_error_format(line, sizeof(line), &e);
				rc = set_error(p, line);
				run->apply_failed = 1;
			}
		}
		zw_free(results);
		zw_free(messages);
	}
	if (rc || !any)
		return rc;
	/* verify: poll the delegated servers until every change is visible everywhere */
	double end = now_s() + o->verify_timeout;
	for (;;) {
		size_t pending = 0;
		if ((rc = verify_round(run, o, &pending, err)))
			return rc;
		if (pending == 0)
			return 0;
		if (now_s() >= end) {
			run->verify_timed_out = 1;
			return 0;
		}
		usleep(500 * 1000);
	}
}

void zw_run_free(struct zw_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->n; i++)
		zw_plan_free(&run->plans[i]);
	zw_free(run->plans);
	zw_findings_free(&run->findings);
	if (run->state) {
		conns_close(&run->state->cs);
		zw_registry_free(run->state->reg);
		zw_free(run->state);
	}
	memset(run, 0, sizeof(*run));
}
