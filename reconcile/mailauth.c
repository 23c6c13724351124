/*
 * mailauth.c - the live mail-authentication diagnosis (see mailauth.h).
 * Stub: the interface compiles; the diagnosis is being written.
 */
#include "reconcile/mailauth.h"

#include "reconcile/alloc.h"

struct zw_mailauth {
	int unused;
};

int zw_mailauth_new(struct zw_mailauth **out, const char *domain, const struct zw_desired *ds,
		    const char *const *selectors, size_t nsel, struct zw_error *err)
{
	(void)domain;
	(void)ds;
	(void)selectors;
	(void)nsel;
	*out = zw_calloc(1, sizeof(**out));
	if (!*out)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	return 0;
}

int zw_mailauth_questions(const struct zw_mailauth *m, const struct zw_question **qs, size_t *nq)
{
	(void)m;
	*qs = NULL;
	*nq = 0;
	return 0;
}

int zw_mailauth_step(struct zw_mailauth *m, struct zw_resolver *r, const struct zw_obs *obs,
		     struct zw_error *err)
{
	(void)m;
	(void)r;
	(void)obs;
	(void)err;
	return 0;
}

int zw_mailauth_diagnose(struct zw_findings *fs, struct zw_mailauth *m, const struct zw_obs *obs,
			 struct zw_error *err)
{
	(void)fs;
	(void)m;
	(void)obs;
	(void)err;
	return 0;
}

void zw_mailauth_free(struct zw_mailauth *m)
{
	zw_free(m);
}

int zw_mailauth_org_domain(char *out, size_t outsz, const char *name)
{
	(void)name;
	if (outsz)
		out[0] = 0;
	return 0;
}

enum zw_report_auth zw_mailauth_report_auth(const char *const *exact, const size_t *exact_lens,
					    size_t n_exact, const char *const *wild,
					    const size_t *wild_lens, size_t n_wild, int failed)
{
	(void)exact;
	(void)exact_lens;
	(void)n_exact;
	(void)wild;
	(void)wild_lens;
	(void)n_wild;
	(void)failed;
	return ZW_REPORT_AUTH_UNKNOWN;
}
