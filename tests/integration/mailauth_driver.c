/*
 * mailauth_driver.c - drives reconcile/mailauth.c against a real DNS world, the way
 * `zonewarden check --domain` does: every domain observed on one resolver, stepped in
 * rounds until no domain needs more lookups, then diagnosed.
 *
 * Usage: mailauth_driver [--hints FILE] [--timeout MS] [--tries N] [--selector S]...
 *                        DOMAIN...
 * Prints, per domain in the order given:
 *     spf DOMAIN verdict=V lookups=N voids=N missing=N
 *     finding DOMAIN ID SEVERITY NAME TYPE | MESSAGE
 * then "rounds N". Exit 0, or 1 on an error (printed on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/mailauth.h"

#define MAX_DOMAINS 256
#define MAX_SEL	    16

int main(int argc, char **argv)
{
	const char *hints = NULL, *sels[MAX_SEL];
	char *domains[MAX_DOMAINS];
	size_t nsel = 0, nd = 0;
	struct zw_resolver_opts ro = {0};
	struct zw_error err = {0};
	struct zw_roothints *h = NULL;
	struct zw_resolver *r = NULL;
	struct zw_mailauth *m[MAX_DOMAINS] = {0};
	struct zw_obs *obs[MAX_DOMAINS] = {0};
	int rc = 0, rounds = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hints") && i + 1 < argc)
			hints = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			ro.dns.timeout_ms = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--tries") && i + 1 < argc)
			ro.dns.udp_tries = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--selector") && i + 1 < argc && nsel < MAX_SEL)
			sels[nsel++] = argv[++i];
		else if (nd < MAX_DOMAINS)
			domains[nd++] = argv[i];
	}
	if (!nd) {
		fprintf(stderr, "usage: mailauth_driver [--hints FILE] [--selector S]... DOMAIN...\n");
		return 1;
	}
	if ((rc = zw_roothints_select(&h, hints, &err)) || (rc = zw_resolver_new(&r, h, &ro, &err)))
		goto out;
	for (size_t i = 0; i < nd; i++) {
		const struct zw_question *qs;
		size_t nq;
		if ((rc = zw_mailauth_new(&m[i], domains[i], NULL, sels, nsel, &err)))
			goto out;
		zw_mailauth_questions(m[i], &qs, &nq);
		if ((rc = zw_resolver_observe(r, &obs[i], domains[i], qs, nq, &err)))
			goto out;
	}
	if ((rc = zw_resolver_run(r, &err)))
		goto out;
	for (int more = 1; more;) {
		more = 0;
		rounds++;
		for (size_t i = 0; i < nd; i++) {
			int s = zw_mailauth_step(m[i], r, obs[i], &err);
			if (s < 0) {
				rc = s;
				goto out;
			}
			more |= s;
		}
		if (more && (rc = zw_resolver_run(r, &err)))
			goto out;
	}
	for (size_t i = 0; i < nd; i++) {
		struct zw_spf_result res;
		struct zw_findings fs = {0};
		size_t missing = 0;
		if ((rc = zw_mailauth_spf_result(&res, &missing, m[i], obs[i], &err)))
			goto out;
		printf("spf %s verdict=%s lookups=%d voids=%d missing=%zu\n", domains[i],
		       zw_spf_verdict_name(res.verdict), res.lookups, res.void_lookups, missing);
		zw_spf_result_free(&res);
		if ((rc = zw_mailauth_diagnose(&fs, m[i], obs[i], &err))) {
			zw_findings_free(&fs);
			goto out;
		}
		for (size_t k = 0; k < fs.n; k++) {
			const struct zw_finding *f = &fs.v[k];
			printf("finding %s %s %s %s %s | %s\n", domains[i], f->cls->id,
			       zw_severity_name(f->sev), f->name ? f->name : "-", f->type ? f->type : "-",
			       f->message ? f->message : "");
			if (f->fix)
				printf("fix %s %s | %s\n", domains[i], f->cls->id, f->fix);
		}
		zw_findings_free(&fs);
	}
	printf("rounds %d\n", rounds);
out:
	if (rc)
		fprintf(stderr, "mailauth_driver: %s (%s)\n", err.msg, zw_error_name(rc));
	for (size_t i = 0; i < nd; i++) {
		zw_mailauth_free(m[i]);
		zw_obs_free(obs[i]);
	}
	zw_resolver_free(r);
	zw_roothints_free(h);
	return rc ? 1 : 0;
}
