/*
 * test_plan.c - unit tests of zonestate and plan: claims replace only their role's
 * values, foreign values survive byte for byte, mistakes follow the policy, sync deletes
 * only what an ownership record proves, the safety rail, an applied zone plans nothing,
 * and the checksum depends on the changes alone.
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/manifest.h"
#include "reconcile/plan.h"

#define HEAD                                                                                  \
	"apiVersion: zonewarden.dev/v1alpha1\nkind: Provider\nmetadata: {name: p}\n"          \
	"spec: {type: rfc2136, rfc2136: {server: 192.0.2.1}}\n---\n"                          \
	"apiVersion: zonewarden.dev/v1alpha1\nkind: MailDomain\nmetadata: {name: ex}\nspec:\n" \
	"  domain: example.com\n  providerRef: p\n  ttl: 300\n"

struct fixture {
	struct zw_manifests *ms;
	struct zw_desired ds;
	struct zw_zonestate zs;
	struct zw_plan plan;
};

static void load(struct fixture *fx, const char *spec)
{
	char text[4096];
	struct zw_error err = {0};
	snprintf(text, sizeof(text), HEAD "%s", spec);
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(zw_manifests_load_buffer(&fx->ms, "t.yaml", text, strlen(text), &err), 0);
	assert_int_equal(zw_desired_build(&fx->ds, &fx->ms->domains[0], &err), 0);
	assert_int_equal(zw_zonestate_init(&fx->zs, "example.com.", &err), 0);
	/* every zone has these: they keep the safety rail's denominator realistic */
	zw_zonestate_add(&fx->zs, "example.com.", 6, 300, NULL, "ns1.example.net. h.example.com. 1 7200 3600 1209600 300", &err);
	zw_zonestate_add(&fx->zs, "example.com.", 2, 300, NULL, "ns1.example.net.", &err);
	zw_zonestate_add(&fx->zs, "example.com.", 2, 300, NULL, "ns2.example.net.", &err);
	zw_zonestate_add(&fx->zs, "www.example.com.", 1, 300, NULL, "192.0.2.80", &err);
	zw_zonestate_add(&fx->zs, "mail.example.com.", 1, 300, NULL, "192.0.2.25", &err);
	zw_zonestate_add(&fx->zs, "example.com.", 15, 300, NULL, "10 mail.example.com.", &err);
}

/* Add a TXT record given in presentation format. */
static void txt(struct fixture *fx, const char *name, const char *pres)
{
	struct zw_txt t = {0};
	struct zw_error err = {0};
	assert_int_equal(zw_txt_parse_presentation(&t, pres, strlen(pres), &err), 0);
	assert_int_equal(zw_zonestate_add(&fx->zs, name, 16, 300, &t, NULL, &err), 0);
	zw_txt_free(&t);
}

static void plan(struct fixture *fx, int fix_mistakes, int force)
{
	struct zw_plan_opts o = {"ex", fix_mistakes, force};
	struct zw_error err = {0};
	assert_int_equal(zw_plan_build(&fx->plan, &fx->ds, &fx->zs, &o, &err), 0);
}

static void done(struct fixture *fx)
{
	zw_plan_free(&fx->plan);
	zw_zonestate_free(&fx->zs);
	zw_desired_free(&fx->ds);
	zw_manifests_free(fx->ms);
}

/* The change at (name, type), or NULL. */
static const struct zw_change *change(const struct zw_plan *p, const char *name, uint16_t type)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct zw_rrset *r = p->v[i].after.name ? &p->v[i].after : &p->v[i].before;
		if (r->type == type && strcmp(r->name, name) == 0)
			return &p->v[i];
	}
	return NULL;
}

static int has_value(const struct zw_rrset *r, const char *joined)
{
	for (size_t i = 0; i < r->nrd; i++)
		if (r->rd[i].txt.len == strlen(joined) && memcmp(r->rd[i].txt.data, joined, r->rd[i].txt.len) == 0)
			return 1;
	return 0;
}

/* Apply a plan to the zone state, the way a provider would. */
static void apply(struct fixture *fx)
{
	struct zw_error err = {0};
	for (size_t i = 0; i < fx->plan.n; i++) {
		const struct zw_change *c = &fx->plan.v[i];
		const struct zw_rrset *id = c->after.name ? &c->after : &c->before;
		struct zw_rrset *r = zw_zonestate_find(&fx->zs, id->name, id->type);
		if (r) {
			while (r->nrd)
				zw_rdata_clear(&r->rd[--r->nrd]);
		}
		for (size_t k = 0; c->op != ZW_OP_DELETE && k < c->after.nrd; k++)
			assert_int_equal(zw_zonestate_add(&fx->zs, c->after.name, c->after.type, c->after.ttl,
							  &c->after.rd[k].txt, c->after.rd[k].text, &err), 0);
	}
	/* drop the rrsets the plan emptied */
	size_t w = 0;
	for (size_t i = 0; i < fx->zs.n; i++) {
		if (fx->zs.v[i].nrd == 0) {
			zw_rrset_clear(&fx->zs.v[i]);
			continue;
		}
		fx->zs.v[w++] = fx->zs.v[i];
	}
	fx->zs.n = w;
	zw_plan_free(&fx->plan);
}

static void creates_into_an_empty_zone(void **state)
{
	(void)state;
	struct fixture fx;
	load(&fx, "  spf: {include: [amazonses.com], all: fail}\n  dmarc: {policy: reject}\n"
		  "  cnames:\n    - {name: em1, target: u1.wl.sendgrid.net.}\n");
	plan(&fx, 0, 0);
	const struct zw_change *spf = change(&fx.plan, "example.com.", 16);
	assert_non_null(spf);
	assert_int_equal(spf->op, ZW_OP_CREATE);
	assert_string_equal(spf->reasons, "ZW-01");
	assert_true(has_value(&spf->after, "v=spf1 include:amazonses.com -all"));
	assert_int_equal(change(&fx.plan, "em1.example.com.", 5)->op, ZW_OP_CREATE);
	/* one ownership record per claimed value, readable with dig */
	const struct zw_change *own = change(&fx.plan, "_zonewarden.example.com.", 16);
	assert_non_null(own);
	assert_true(own->bookkeeping);
	assert_int_equal(own->after.nrd, 1);
	assert_memory_equal(own->after.rd[0].txt.data, "zonewarden-owner=ex; type=TXT; sha256=", 38);
	assert_int_equal(fx.plan.touched, 0);
	assert_false(fx.plan.refused);
	/* applied, the same manifests plan nothing */
	apply(&fx);
	plan(&fx, 0, 0);
	assert_int_equal(fx.plan.n, 0);
	done(&fx);
}

static void replaces_broken_values_and_keeps_foreign_ones(void **state)
{
	(void)state;
	struct fixture fx;
	load(&fx, "  spf: {include: [amazonses.com], all: fail}\n");
	txt(&fx, "example.com.", "\"google-site-verification=abc\"");
	txt(&fx, "example.com.", "\" v=spf1 include:amazonses.com -all\"");
	txt(&fx, "example.com.", "\"v=spf1 include:_spf.google.com ~all\"");
	plan(&fx, 0, 0);
	const struct zw_change *c = change(&fx.plan, "example.com.", 16);
	assert_non_null(c);
	assert_int_equal(c->op, ZW_OP_UPDATE);
	assert_int_equal(c->before.nrd, 3);
	assert_int_equal(c->after.nrd, 2);
	assert_true(has_value(&c->after, "google-site-verification=abc"));
	assert_true(has_value(&c->after, "v=spf1 include:amazonses.com -all"));
	assert_non_null(strstr(c->reasons, "TX-01"));
	assert_non_null(strstr(c->reasons, "SP-02"));
	assert_int_equal(fx.plan.touched, 2);
	done(&fx);
}

static void mistakes_follow_the_policy(void **state)
{
	(void)state;
	struct fixture fx;
	const char *spec = "  dkim:\n    - {selector: s1, cname: s1.dkim.amazonses.com.}\n";
	load(&fx, spec);
	struct zw_error err = {0};
	zw_zonestate_add(&fx.zs, "s1._domainkey.example.com.example.com.", 5, 300, NULL, "s1.dkim.amazonses.com.", &err);
	plan(&fx, 0, 0);
	assert_null(change(&fx.plan, "s1._domainkey.example.com.example.com.", 5));
	assert_int_equal(fx.plan.notes.n, 1);
	assert_string_equal(fx.plan.notes.v[0].cls->id, "NM-01");
	assert_string_equal(fx.plan.notes.v[0].fix, "delete s1._domainkey.example.com.example.com. CNAME");
	zw_plan_free(&fx.plan);
	plan(&fx, 1, 0);
	const struct zw_change *c = change(&fx.plan, "s1._domainkey.example.com.example.com.", 5);
	assert_non_null(c);
	assert_int_equal(c->op, ZW_OP_DELETE);
	assert_true(c->mistake);
	assert_string_equal(c->reasons, "NM-01");
	assert_int_equal(change(&fx.plan, "s1._domainkey.example.com.", 5)->op, ZW_OP_CREATE);
	/* the missing selector is explained by its twin, not reported as plain drift */
	assert_string_equal(change(&fx.plan, "s1._domainkey.example.com.", 5)->reasons, "NM-01");
	done(&fx);

	/* a CNAME target with a leading space, as a provider presents it: replaced for TX-01 */
	load(&fx, "  cnames:\n    - {name: em1, target: u1.links.example.net.}\n");
	zw_zonestate_add(&fx.zs, "em1.example.com.", 5, 300, NULL, "\\032u1.links.example.net.", &err);
	plan(&fx, 0, 0);
	assert_string_equal(change(&fx.plan, "em1.example.com.", 5)->reasons, "TX-01");
	done(&fx);

	load(&fx, "  policy: create-only\n  spf: {all: fail}\n");
	txt(&fx, "example.com.", "\"v=spf1 ~all\"");
	plan(&fx, 1, 0);
	assert_null(change(&fx.plan, "example.com.", 16)); /* create-only never modifies */
	done(&fx);
}

static void sync_deletes_only_what_it_owns(void **state)
{
	(void)state;
	struct fixture fx;
	load(&fx, "  policy: sync\n  dkim:\n    - {selector: new, cname: new.dkim.example.net.}\n"
		  "    - {selector: old, cname: old.dkim.example.net.}\n"
		  "  cnames:\n    - {name: foreign, target: keep.example.net.}\n");
	plan(&fx, 0, 0);
	apply(&fx);
	/* a later manifest drops `old`: its value is ours (owned), so sync deletes it; a
	 * record someone else made at another name stays */
	struct zw_error err = {0};
	zw_zonestate_add(&fx.zs, "other._domainkey.example.com.", 5, 300, NULL, "x.example.org.", &err);
	zw_desired_free(&fx.ds);
	zw_manifests_free(fx.ms);
	char text[1024];
	snprintf(text, sizeof(text), HEAD "  policy: sync\n  dkim:\n    - {selector: new, cname: new.dkim.example.net.}\n"
					 "  cnames:\n    - {name: foreign, target: keep.example.net.}\n");
	assert_int_equal(zw_manifests_load_buffer(&fx.ms, "t.yaml", text, strlen(text), &err), 0);
	assert_int_equal(zw_desired_build(&fx.ds, &fx.ms->domains[0], &err), 0);
	plan(&fx, 0, 0);
	const struct zw_change *c = change(&fx.plan, "old._domainkey.example.com.", 5);
	assert_non_null(c);
	assert_int_equal(c->op, ZW_OP_DELETE);
	assert_null(change(&fx.plan, "other._domainkey.example.com.", 5));
	assert_int_equal(change(&fx.plan, "_zonewarden.old._domainkey.example.com.", 16)->op, ZW_OP_DELETE);
	done(&fx);
}

static void a_claimed_name_holds_only_the_claim(void **state)
{
	(void)state;
	struct fixture fx;
	load(&fx, "  dkim:\n    - {selector: s1, cname: s1.dkim.amazonses.com.}\n");
	txt(&fx, "s1._domainkey.example.com.", "\"v=DKIM1; p=\"");
	plan(&fx, 0, 0);
	const struct zw_change *c = change(&fx.plan, "s1._domainkey.example.com.", 16);
	assert_non_null(c);
	assert_int_equal(c->op, ZW_OP_DELETE);
	assert_string_equal(c->reasons, "CN-01");
	done(&fx);
}

static void the_safety_rail(void **state)
{
	(void)state;
	struct fixture fx;
	load(&fx, "  spf: {all: fail}\n  dmarc: {policy: reject}\n");
	txt(&fx, "example.com.", "\"v=spf1 ~all\"");
	txt(&fx, "example.com.", "\"v=spf1 -all include:x.example.net\"");
	txt(&fx, "_dmarc.example.com.", "\"v=DMARC1; p=none\"");
	plan(&fx, 0, 0);
	/* 3 of 9 records replaced: over 30 % */
	assert_int_equal(fx.plan.touched, 3);
	assert_int_equal(fx.plan.zone_records, 9);
	assert_true(fx.plan.refused);
	assert_non_null(strstr(fx.plan.refusal, "3 of the zone's 9 records"));
	zw_plan_free(&fx.plan);
	plan(&fx, 0, 1);
	assert_false(fx.plan.refused);
	done(&fx);
}

static void checksum_depends_on_the_changes_alone(void **state)
{
	(void)state;
	struct fixture a, b;
	char ca[65], cb[65];
	struct zw_error err = {0};
	load(&a, "  spf: {all: fail}\n  dmarc: {policy: reject}\n");
	load(&b, "  dmarc: {policy: reject}\n  spf: {all: fail}\n");
	plan(&a, 0, 0);
	plan(&b, 0, 0);
	assert_int_equal(zw_plan_checksum(ca, &a.plan, 1, &err), 0);
	assert_int_equal(zw_plan_checksum(cb, &b.plan, 1, &err), 0);
	assert_string_equal(ca, cb);
	assert_int_equal(strlen(ca), 64);
	done(&b);
	load(&b, "  spf: {all: softfail}\n  dmarc: {policy: reject}\n");
	plan(&b, 0, 0);
	assert_int_equal(zw_plan_checksum(cb, &b.plan, 1, &err), 0);
	assert_string_not_equal(ca, cb);
	struct zw_buf json = ZW_BUF_INIT;
	assert_int_equal(zw_plan_canonical_json(&json, &b.plan, 1), 0);
	assert_non_null(strstr(json.p, "{\"op\":\"create\",\"name\":\"_dmarc.example.com.\",\"type\":16,\"before\":null,"
				       "\"after\":{\"ttl\":300,\"values\":[[\"v=DMARC1; p=reject\"]]}}"));
	zw_buf_free(&json);
	done(&a);
	done(&b);
}

static int plan_once(void)
{
	struct fixture fx;
	load(&fx, "  spf: {include: [amazonses.com], all: fail}\n  dmarc: {policy: reject}\n");
	txt(&fx, "example.com.", "\"google-site-verification=abc\"");
	txt(&fx, "example.com.", "\" v=spf1 -all\"");
	struct zw_plan_opts o = {"ex", 1, 0};
	struct zw_error err = {0};
	int rc = zw_plan_build(&fx.plan, &fx.ds, &fx.zs, &o, &err);
	char sum[65];
	if (rc == 0)
		rc = zw_plan_checksum(sum, &fx.plan, 1, &err);
	done(&fx);
	return rc;
}

static void survives_allocation_failures(void **state)
{
	(void)state;
	/* only the planning is swept: the fixture's own loading must succeed */
	struct fixture fx;
	load(&fx, "  spf: {include: [amazonses.com], all: fail}\n  dmarc: {policy: reject}\n");
	txt(&fx, "example.com.", "\"google-site-verification=abc\"");
	txt(&fx, "example.com.", "\" v=spf1 -all\"");
	struct zw_plan_opts o = {"ex", 1, 0};
	struct zw_error err = {0};
	zw_alloc_fail_at(0);
	assert_int_equal(zw_plan_build(&fx.plan, &fx.ds, &fx.zs, &o, &err), 0);
	long total = zw_alloc_count();
	zw_plan_free(&fx.plan);
	for (long i = 1; i <= total; i++) {
		zw_alloc_fail_at(i);
		zw_error_clear(&err);
		int rc = zw_plan_build(&fx.plan, &fx.ds, &fx.zs, &o, &err);
		int failed = zw_alloc_failed();
		zw_alloc_fail_at(0);
		if (failed && rc == 0)
			fail_msg("allocation %ld of %ld failed but planning succeeded", i, total);
		zw_plan_free(&fx.plan);
	}
	done(&fx);
	assert_int_equal(plan_once(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(creates_into_an_empty_zone),
		cmocka_unit_test(replaces_broken_values_and_keeps_foreign_ones),
		cmocka_unit_test(mistakes_follow_the_policy),
		cmocka_unit_test(sync_deletes_only_what_it_owns),
		cmocka_unit_test(a_claimed_name_holds_only_the_claim),
		cmocka_unit_test(the_safety_rail),
		cmocka_unit_test(checksum_depends_on_the_changes_alone),
		cmocka_unit_test(survives_allocation_failures),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
