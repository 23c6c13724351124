/*
 * fuzz_stray.c - libFuzzer target for the stray-character classifier and role
 * recognition (reconcile/stray.c, reconcile/role.c).
 *
 * Input layout: byte 0 picks the mode and the hint (low nibble: hint; 0x10: classify as
 * a name; 0x20: an rrset, RRs separated by 0x1F), byte 1 the length strings are cut at
 * (0: one string), the rest is the value. Properties asserted:
 *  - every finding has a catalogue class, a message, an offset inside the value (or -1);
 *  - foreign text (no role) is never changed;
 *  - the normalised value is a fixed point: classifying it again, as one string and as
 *    the canonical 255-octet split, gives the same bytes and role and no finding that
 *    would change it;
 *  - an rrset's output uses every input RR exactly once, and changed RRs are canonical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/buf.h"
#include "reconcile/finding.h"
#include "reconcile/role.h"
#include "reconcile/stray.h"
#include "reconcile/txt.h"

#define CHECK(c)                                                                                             \
	do {                                                                                                 \
		if (!(c))                                                                                    \
			abort();                                                                             \
	} while (0)
#define MAX_STR 1024

static void check_findings(const struct zw_findings *fs, size_t from, size_t len)
{
	for (size_t i = from; i < fs->n; i++) {
		const struct zw_finding *f = &fs->v[i];
		CHECK(f->cls && f->message && f->message[0]);
		CHECK(f->offset == -1 || (f->offset >= 0 && (size_t)f->offset < (len ? len : 1)));
		CHECK(!strchr(f->message, '\n'));
	}
}

/* Findings that leave the value as it is (reported, not repaired). */
static int keeps_value(const struct zw_finding *f)
{
	return !strcmp(f->cls->id, "TX-08") || !strcmp(f->cls->id, "TX-09") || !strcmp(f->cls->id, "NM-07");
}

static void fixed_point_txt(const struct zw_buf *norm, enum zw_role role, enum zw_role hint)
{
	for (int form = 0; form < 2; form++) {
		struct zw_txt t;
		const char *v = zw_buf_str(norm);
		size_t len = norm->len;
		if (form == 0)
			CHECK(zw_txt_from_strings(&t, &v, &len, 1) == 0);
		else
			CHECK(zw_txt_from_value(&t, v, len) == 0);
		struct zw_findings fs = {0};
		struct zw_buf again = ZW_BUF_INIT;
		enum zw_role r2 = ZW_ROLE_COUNT;
		CHECK(zw_stray_check_txt(&fs, &again, &r2, &t, hint, NULL) == 0);
		CHECK(again.len == len && memcmp(zw_buf_str(&again), v, len) == 0);
		CHECK(r2 == role);
		for (size_t i = 0; i < fs.n; i++)
			CHECK(keeps_value(&fs.v[i]));
		zw_findings_free(&fs);
		zw_buf_free(&again);
		zw_txt_free(&t);
	}
}

static int make_txt(struct zw_txt *t, const char *v, size_t len, size_t cut)
{
	if (!cut)
		return zw_txt_from_strings(t, &v, &len, 1);
	const char *strs[MAX_STR];
	size_t lens[MAX_STR], n = 0;
	for (size_t at = 0; at < len && n < MAX_STR; at += cut) {
		strs[n] = v + at;
		lens[n] = len - at < cut ? len - at : cut;
		n++;
	}
	if (n == MAX_STR)
		return -1;
	if (!n) {
		strs[0] = v;
		lens[0] = 0;
		n = 1;
	}
	return zw_txt_from_strings(t, strs, lens, n);
}

static void one_txt(const char *v, size_t len, size_t cut, enum zw_role hint)
{
	struct zw_txt t;
	if (len > 65535)
		return;
	if (make_txt(&t, v, len, cut))
		return;
	struct zw_findings fs = {0};
	struct zw_buf norm = ZW_BUF_INIT;
	enum zw_role role = ZW_ROLE_COUNT;
	CHECK(zw_stray_check_txt(&fs, &norm, &role, &t, hint, NULL) == 0);
	CHECK(role < ZW_ROLE_COUNT);
	check_findings(&fs, 0, len);
	if (role == ZW_ROLE_NONE)
		CHECK(norm.len == len && memcmp(zw_buf_str(&norm), v, len) == 0);
	fixed_point_txt(&norm, role, hint);
	zw_findings_free(&fs);
	zw_buf_free(&norm);
	zw_txt_free(&t);
}

static void one_name(const char *v, size_t len, enum zw_role hint)
{
	if (len > 1024)
		return;
	/* the owner checks on the same bytes, as a name in example.com */
	char owner[1100];
	memcpy(owner, v, len);
	owner[len] = '\0';
	struct zw_findings of = {0};
	int rc = zw_role_check_owner(&of, owner, "example.com.", hint, NULL);
	CHECK(rc == 0 || rc == ZW_EINVAL);
	CHECK(of.n <= 1 && (rc == 0 || of.n == 0));
	if (of.n)
		CHECK(of.v[0].expected && of.v[0].expected[strlen(of.v[0].expected) - 1] == '.');
	CHECK(zw_role_of_owner(owner) < ZW_ROLE_COUNT);
	zw_findings_free(&of);

	struct zw_findings fs = {0}, again = {0};
	struct zw_buf norm = ZW_BUF_INIT, norm2 = ZW_BUF_INIT;
	CHECK(zw_stray_check_name(&fs, &norm, v, len, NULL) == 0);
	check_findings(&fs, 0, len);
	CHECK(zw_stray_check_name(&again, &norm2, zw_buf_str(&norm), norm.len, NULL) == 0);
	CHECK(norm2.len == norm.len && memcmp(zw_buf_str(&norm2), zw_buf_str(&norm), norm.len) == 0);
	for (size_t i = 0; i < again.n; i++)
		CHECK(keeps_value(&again.v[i]));
	zw_findings_free(&fs);
	zw_findings_free(&again);
	zw_buf_free(&norm);
	zw_buf_free(&norm2);
}

static void one_rrset(const char *v, size_t len, size_t cut, enum zw_role hint)
{
	struct zw_txt rrs[16];
	size_t n = 0, at = 0;
	while (n < 16) {
		const char *end = memchr(v + at, 0x1f, len - at);
		size_t l = end ? (size_t)(end - (v + at)) : len - at;
		if (make_txt(&rrs[n], v + at, l, cut))
			break;
		n++;
		if (!end)
			break;
		at += l + 1;
	}
	struct zw_findings fs = {0};
	struct zw_stray_rrset out;
	CHECK(zw_stray_check_rrset(&fs, &out, rrs, n, hint, NULL) == 0);
	check_findings(&fs, 0, len);
	size_t used[16] = {0}, total = 0;
	for (size_t i = 0; i < out.n; i++) {
		const struct zw_stray_rr *rr = &out.v[i];
		CHECK(rr->nsrcs >= 1);
		for (size_t k = 0; k < rr->nsrcs; k++) {
			CHECK(rr->srcs[k] < n);
			used[rr->srcs[k]]++;
			total++;
		}
		if (rr->changed)
			for (size_t k = 0; k < rr->txt.n; k++)
				CHECK(rr->txt.lens[k] <= 255);
		else
			CHECK(rr->nsrcs == 1 && zw_txt_equal(&rr->txt, &rrs[rr->srcs[0]]));
	}
	CHECK(total == n);
	for (size_t i = 0; i < n; i++)
		CHECK(used[i] == 1);
	zw_stray_rrset_free(&out);
	zw_findings_free(&fs);
	for (size_t i = 0; i < n; i++)
		zw_txt_free(&rrs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum zw_role hint = (enum zw_role)((data[0] & 0x0f) % ZW_ROLE_COUNT);
	size_t cut = data[1];
	const char *v = (const char *)data + 2;
	size_t len = size - 2;

	/* recognition alone never reads out of bounds and is stable under the hint */
	int near = -1;
	CHECK(zw_role_detect(&near, v, len, hint) < ZW_ROLE_COUNT && (near == 0 || near == 1));

	if (data[0] & 0x10)
		one_name(v, len, hint);
	else if (data[0] & 0x20)
		one_rrset(v, len, cut, hint);
	else
		one_txt(v, len, cut, hint);
	return 0;
}
