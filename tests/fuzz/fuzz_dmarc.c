/*
 * fuzz_dmarc.c - libFuzzer target for reconcile/dmarc.c.
 *
 * Feeds the input to zw_dmarc_parse and checks the invariants: a parsed record prints
 * back byte for byte and was selected by zw_dmarc_is_record; its canonical form parses
 * again to the same policy; tags sit at their offsets; the effective policy follows the
 * §4.10.1 rules; failures leave *out NULL and come with a finding. It also runs the
 * optional checks and the authorisation-name and org-domain helpers on every URI host.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/dmarc.h"

static void same_policy(const struct zw_dmarc *a, const struct zw_dmarc *b)
{
	if (a->applies != b->applies || a->pol_p != b->pol_p || a->pol_sp != b->pol_sp ||
	    a->pol_np != b->pol_np || a->eff_p != b->eff_p || a->adkim != b->adkim ||
	    a->aspf != b->aspf || a->testing != b->testing || a->psd != b->psd ||
	    a->nrua != b->nrua || a->valid_rua != b->valid_rua || a->nruf != b->nruf)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	const char *v = (const char *)data;
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dmarc *d = (struct zw_dmarc *)&fs;
	int sel = zw_dmarc_is_record(v, size);
	int rc = zw_dmarc_parse(&d, v, size, &fs, &err);
	if (rc != 0) {
		if (d || rc != ZW_EINVAL || fs.n == 0 || err.code != ZW_EINVAL)
			abort();
		zw_findings_free(&fs);
		return 0;
	}
	if (!sel || d->ntags == 0 || strcmp(d->tags[0].name, "v") != 0)
		abort();
	struct zw_buf b = ZW_BUF_INIT;
	if (zw_dmarc_print(&b, d) || b.len != size || memcmp(b.p, v, size) != 0)
		abort();
	for (size_t i = 0; i < d->ntags; i++) {
		size_t n = strlen(d->tags[i].name);
		if (d->tags[i].offset + n > size || strncasecmp(v + d->tags[i].offset, d->tags[i].name, n))
			abort();
	}
	/* effective policy */
	if (d->applies) {
		if (d->pol_p < ZW_DMARC_NONE || d->pol_p > ZW_DMARC_REJECT || d->eff_p > d->pol_p)
			abort();
	} else if (d->valid_rua || d->pol_p != ZW_DMARC_UNSET) {
		abort();
	}
	/* the canonical form means the same */
	zw_buf_reset(&b);
	if (zw_dmarc_print_canonical(&b, d))
		abort();
	struct zw_findings fs2 = {0};
	struct zw_dmarc *d2 = NULL;
	if (zw_dmarc_parse(&d2, b.p, b.len, &fs2, &err) != 0)
		abort();
	same_policy(d, d2);
	zw_dmarc_free(d2);
	zw_findings_free(&fs2);
	zw_buf_free(&b);
	/* the optional checks and the destination helpers */
	if (zw_dmarc_check_weak(d, &fs) || zw_dmarc_check_parked(d, 1, &fs) ||
	    zw_dmarc_check_psd(d, 0, &fs))
		abort();
	static const char *const psl[] = {"com", "co.uk", "example"};
	struct zw_dmarc_orgrule rule = {psl, 3, NULL, NULL};
	for (size_t i = 0; i < d->nrua + d->nruf; i++) {
		const struct zw_dmarc_uri *u = i < d->nrua ? &d->rua[i] : &d->ruf[i - d->nrua];
		if ((u->valid && !u->scheme) || (u->host && !u->valid))
			abort();
		if (!u->host)
			continue;
		char *name = NULL, *wild = NULL;
		struct zw_error e2 = {0};
		if (zw_dmarc_report_auth_names(&name, &wild, "example.com", u->host, &e2) == 0 &&
		    (!name || !wild || strlen(name) > 253))
			abort();
		zw_free(name);
		zw_free(wild);
		if (zw_dmarc_uri_is_external(u, "example.com", &rule) < 0)
			abort();
	}
	zw_dmarc_free(d);
	zw_findings_free(&fs);
	return 0;
}
