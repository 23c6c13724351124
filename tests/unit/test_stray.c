/*
 * test_stray.c - unit tests of the stray-character classifier (reconcile/stray.c).
 *
 * Every class TX-01..TX-13 (and NM-07 for names) has positive cases with the exact
 * offset, code point, name, severity and normalised value, and near-miss negatives.
 * Every case also checks the fixed point: classifying the normalised value again
 * changes nothing.
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"
#include "reconcile/role.h"
#include "reconcile/stray.h"
#include "reconcile/txt.h"

/* A 2048-bit RSA SubjectPublicKeyInfo, base64 (392 characters). */
static const char key2048[] =
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA28bYnmSPS5fSIO8pjMDVsMhJCVr86BGdJWWl/AovSNW6Hvk/"
	"la+DELxJSOnsl2OlyIkN5GijTjUbI5T5y/VV4cVz9mlB4Vceb1HNug4lhJwY0ltt3/h9/"
	"IGFgKhNpXYiAe1ioVAwQQtCY2t6sbcjRlDXXMutlW8keXCbgfbOsSgZDCWi4Nqf47e6Ey78psr3q+CtQUGyYLimDoHQaObCe7+"
	"OwiXb2Sh2FpLyg2rEaof7GGMD9SFkcTDLFVDDQuvhYnz83cI5+h8fwQ3k6d8qZEQMCtE925zxhBFdPkk4I7RfcBJDHRsvaE+"
	"ZOtWSmGgqDL8dag9yG/Oy3px99QmcRQIDAQAB";

struct res {
	struct zw_findings fs;
	struct zw_buf norm;
	enum zw_role role;
};

static void res_free(struct res *r)
{
	zw_findings_free(&r->fs);
	zw_buf_free(&r->norm);
}

/* Classifying the normalised value again (as one string, and split at 255) changes
 * nothing and reports nothing that would change it. */
static void check_fixed_point(const struct res *r, enum zw_role hint)
{
	for (int form = 0; form < 2; form++) {
		struct zw_txt t;
		const char *v = zw_buf_str(&r->norm);
		size_t len = r->norm.len;
		if (form == 0)
			assert_int_equal(zw_txt_from_strings(&t, &v, &len, 1), 0);
		else
			assert_int_equal(zw_txt_from_value(&t, v, len), 0);
		struct res again = {0};
		assert_int_equal(zw_stray_check_txt(&again.fs, &again.norm, &again.role, &t, hint, NULL), 0);
		assert_int_equal(again.norm.len, r->norm.len);
		assert_memory_equal(zw_buf_str(&again.norm), v, len + 1);
		assert_int_equal(again.role, r->role);
		for (size_t i = 0; i < again.fs.n; i++) {
			const char *id = again.fs.v[i].cls->id;
			if (strcmp(id, "TX-08") && strcmp(id, "TX-09"))
				fail_msg("fixed point of '%s' reports %s: %s", v, id, again.fs.v[i].message);
		}
		res_free(&again);
		zw_txt_free(&t);
	}
}

static void classify_txt(struct res *r, const struct zw_txt *t, enum zw_role hint)
{
	struct zw_error err = {0};
	memset(r, 0, sizeof(*r));
	if (zw_stray_check_txt(&r->fs, &r->norm, &r->role, t, hint, &err))
		fail_msg("check_txt: %s", err.msg);
	for (size_t i = 0; i < r->fs.n; i++) {
		assert_non_null(r->fs.v[i].observed);
		assert_non_null(r->fs.v[i].expected);
	}
	check_fixed_point(r, hint);
}

/* Classify a value given in zone-file presentation form. */
static void classify(struct res *r, const char *pres, enum zw_role hint)
{
	struct zw_txt t;
	struct zw_error err = {0};
	if (zw_txt_parse_presentation(&t, pres, strlen(pres), &err))
		fail_msg("bad test input %s: %s", pres, err.msg);
	classify_txt(r, &t, hint);
	zw_txt_free(&t);
}

static void expect_norm(const struct res *r, const char *want, size_t wlen)
{
	if (r->norm.len != wlen || memcmp(zw_buf_str(&r->norm), want, wlen) != 0)
		fail_msg("normalised '%s', want '%.*s'", zw_buf_str(&r->norm), (int)wlen, want);
}

/* Finding i has this class, offset, severity, and the message contains msg. */
static void expect_finding(const struct res *r, size_t i, const char *id, long off, enum zw_severity sev,
			   const char *msg)
{
	if (i >= r->fs.n)
		fail_msg("no finding %zu (want %s), %zu findings", i, id, r->fs.n);
	const struct zw_finding *f = &r->fs.v[i];
	if (strcmp(f->cls->id, id) != 0)
		fail_msg("finding %zu is %s (%s), want %s", i, f->cls->id, f->message, id);
	assert_int_equal(f->offset, off);
	assert_int_equal(f->sev, sev);
	if (msg && !strstr(f->message, msg))
		fail_msg("message '%s' lacks '%s'", f->message, msg);
}

/* One finding, and the normalised value. */
static void one(const char *pres, enum zw_role hint, const char *id, long off, enum zw_severity sev,
		const char *msg, const char *norm)
{
	struct res r;
	classify(&r, pres, hint);
	if (r.fs.n != 1)
		fail_msg("%s: %zu findings, want 1 (%s)", pres, r.fs.n, r.fs.n ? r.fs.v[0].message : "");
	expect_finding(&r, 0, id, off, sev, msg);
	expect_norm(&r, norm, strlen(norm));
	res_free(&r);
}

/* No finding, and the value is unchanged. */
static void clean(const char *pres, enum zw_role hint, enum zw_role want_role)
{
	struct res r;
	struct zw_txt t;
	assert_int_equal(zw_txt_parse_presentation(&t, pres, strlen(pres), NULL), 0);
	classify_txt(&r, &t, hint);
	if (r.fs.n)
		fail_msg("%s: unexpected %s: %s", pres, r.fs.v[0].cls->id, r.fs.v[0].message);
	expect_norm(&r, t.data, t.len);
	assert_int_equal(r.role, want_role);
	res_free(&r);
	zw_txt_free(&t);
}

static void tx01_leading_whitespace(void **state)
{
	(void)state;
	one("\" v=spf1 include:amazonses.com -all\"", ZW_ROLE_NONE, "TX-01", 0, ZW_SEV_ERROR,
	    "leading whitespace (U+0020 SPACE) at offset 0 before the spf version tag (RFC 7208 §12): "
	    "the record must begin with 'v=spf1'",
	    "v=spf1 include:amazonses.com -all");
	one("\"\\009  v=DMARC1; p=reject\"", ZW_ROLE_DMARC, "TX-01", 0, ZW_SEV_ERROR,
	    "leading whitespace (U+0009 CHARACTER TABULATION) at offset 0 before the dmarc version tag "
	    "(RFC 9989 §4.8)",
	    "v=DMARC1; p=reject");
	/* valid FWS in DKIM (RFC 6376 §3.2): fragile, so a warning */
	one("\" v=DKIM1; p=MIGf\"", ZW_ROLE_DKIM, "TX-01", 0, ZW_SEV_WARNING, "valid dkim fws, but fragile",
	    "v=DKIM1; p=MIGf");
	one("\" google-site-verification=abc\"", ZW_ROLE_NONE, "TX-01", 0, ZW_SEV_ERROR,
	    "before the verification token", "google-site-verification=abc");
	/* near misses: a trailing SP is valid SPF (*SP); a space after the tag is not leading */
	clean("\"v=spf1 -all \"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	clean("\"v=spf1  -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	/* foreign text is never touched */
	clean("\" hello\"", ZW_ROLE_NONE, ZW_ROLE_NONE);
}

static void tx02_control_characters(void **state)
{
	(void)state;
	one("\"v=spf1 -all\\010\"", ZW_ROLE_NONE, "TX-02", 11, ZW_SEV_ERROR,
	    "control character U+000A LINE FEED at offset 11 (RFC 7208 §12): it is removed", "v=spf1 -all");
	one("\"v=spf1\\009a -all\"", ZW_ROLE_NONE, "TX-02", 6, ZW_SEV_ERROR,
	    "control character U+0009 CHARACTER TABULATION at offset 6 (RFC 7208 §12): it is turned "
	    "into a space",
	    "v=spf1 a -all");
	one("\"v=spf1 -all\\000\"", ZW_ROLE_NONE, "TX-02", 11, ZW_SEV_ERROR,
	    "control character U+0000 NULL at offset 11", "v=spf1 -all");
	one("\"v=spf1 a\\027 -all\"", ZW_ROLE_NONE, "TX-02", 8, ZW_SEV_ERROR, "U+001B ESCAPE",
	    "v=spf1 a -all");
	one("\"v=spf1 a\\194\\133-all\"", ZW_ROLE_NONE, "TX-02", 8, ZW_SEV_ERROR,
	    "control character U+0085 NEXT LINE at offset 8 (RFC 7208 §12): a space was meant",
	    "v=spf1 a -all");
	one("\"v=DMARC1; p=none \\010 \"", ZW_ROLE_NONE, "TX-02", 17, ZW_SEV_ERROR,
	    "U+000A LINE FEED at offset 17", "v=DMARC1; p=none  ");
	/* CRLF then WSP is DKIM folding (RFC 6376 §2.8): valid, fragile */
	struct res r;
	classify(&r, "\"v=DKIM1;\\013\\010 k=rsa; p=MIGf\"", ZW_ROLE_DKIM);
	assert_int_equal(r.fs.n, 2);
	expect_finding(&r, 0, "TX-02", 8, ZW_SEV_WARNING,
		       "control character U+000D CARRIAGE RETURN at offset 8 (RFC 6376 §3.2): it is "
		       "removed; dkim folding is valid (RFC 6376 §2.8) but fragile");
	expect_finding(&r, 1, "TX-02", 9, ZW_SEV_WARNING, "U+000A LINE FEED at offset 9");
	expect_norm(&r, "v=DKIM1; k=rsa; p=MIGf", 22);
	res_free(&r);
	/* a bare LF in DKIM is no folding */
	one("\"v=DKIM1;\\010k=rsa; p=MIGf\"", ZW_ROLE_DKIM, "TX-02", 8, ZW_SEV_ERROR,
	    "it is turned into a space", "v=DKIM1; k=rsa; p=MIGf");
	/* near misses: TAB is WSP in DKIM, and next to ';' in DMARC */
	clean("\"v=DKIM1;\\009k=rsa; p=MIGf\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM);
	clean("\"v=DMARC1;\\009p=none\"", ZW_ROLE_DMARC, ZW_ROLE_DMARC);
	one("\"v=DMARC1; p=none\\009\"", ZW_ROLE_DMARC, "TX-02", 16, ZW_SEV_ERROR,
	    "U+0009 CHARACTER TABULATION at offset 16", "v=DMARC1; p=none");
}

static void tx03_literal_quotes(void **state)
{
	(void)state;
	one("\"\\\"v=spf1 -all\\\"\"", ZW_ROLE_NONE, "TX-03", 0, ZW_SEV_ERROR,
	    "literal quotes around the value at offset 0 (RFC 7208 §12): the value starts with '\"' "
	    "instead of 'v=spf1'; they are removed",
	    "v=spf1 -all");
	one("\"\\\"v=DMARC1; p=none\"", ZW_ROLE_NONE, "TX-03", 0, ZW_SEV_ERROR, "(RFC 9989 §4.8)",
	    "v=DMARC1; p=none");
	one("\"v=spf1 -all\\\"\"", ZW_ROLE_NONE, "TX-03", 11, ZW_SEV_ERROR,
	    "literal quote at the end of the value at offset 11 (RFC 7208 §12): the quote is data and "
	    "breaks the last term; it is removed",
	    "v=spf1 -all");
	one("\"\\\"\\\"v=spf1 -all\\\"\\\"\"", ZW_ROLE_NONE, "TX-03", 0, ZW_SEV_ERROR, NULL, "v=spf1 -all");
	/* a quote inside the value is not wrapping */
	clean("\"v=spf1 a:\\\"x\\\".example.com -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
}

static void tx04_pasted_multi_string(void **state)
{
	(void)state;
	one("\"v=DKIM1; k=rsa; p=MIIBIjANBg\\\" \\\"kqhkiG9w0BAQEFAAOC\"", ZW_ROLE_DKIM, "TX-04", 28,
	    ZW_SEV_ERROR,
	    "multi-string notation '\" \"' pasted into one string at offset 28 (RFC 6376 §6.1.2): the "
	    "quotes and blanks are data; they are removed and the parts joined",
	    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC");
	/* the whole presentation form pasted: the outer quotes are part of the same problem */
	one("\"\\\"v=DKIM1; p=MIIB\\\"  \\\"kqh\\\"\"", ZW_ROLE_DKIM, "TX-04", 16, ZW_SEV_ERROR, NULL,
	    "v=DKIM1; p=MIIBkqh");
	/* SPF pasted split at a term boundary: the junction is a boundary for TX-10 */
	struct res r;
	classify(&r, "\"\\\"v=spf1 ip4:192.0.2.0/24\\\" \\\"include:_spf.example.net -all\\\"\"",
		 ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 2);
	expect_finding(&r, 0, "TX-04", 24, ZW_SEV_ERROR, NULL);
	expect_finding(&r, 1, "TX-10", 27, ZW_SEV_ERROR,
		       "glue 'ip4:192.0.2.0/24' to 'include:_spf.example.net'");
	expect_norm(&r, "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all", 53);
	res_free(&r);
	/* near miss: two real strings */
	clean("\"v=DKIM1; k=rsa; p=MIIBIjANBg\" \"kqhkiG9w0BAQEFAAOC\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM);
}

static void tx05_invisible(void **state)
{
	(void)state;
	one("\"v=spf1 include:_spf.\\226\\128\\139wpcloud.com ~all\"", ZW_ROLE_NONE, "TX-05", 20,
	    ZW_SEV_ERROR,
	    "invisible character U+200B ZERO WIDTH SPACE at offset 20 (RFC 7208 §12): it is removed",
	    "v=spf1 include:_spf.wpcloud.com ~all");
	/* a BOM at the start is TX-05 only, not TX-01 too */
	one("\"\\239\\187\\191v=spf1 -all\"", ZW_ROLE_NONE, "TX-05", 0, ZW_SEV_ERROR,
	    "U+FEFF ZERO WIDTH NO-BREAK SPACE at offset 0", "v=spf1 -all");
	one("\"v=DMARC1; p=re\\194\\173ject\"", ZW_ROLE_NONE, "TX-05", 14, ZW_SEV_ERROR,
	    "U+00AD SOFT HYPHEN at offset 14", "v=DMARC1; p=reject");
	one("\"v=spf1 a\\226\\129\\160 -all\"", ZW_ROLE_NONE, "TX-05", 8, ZW_SEV_ERROR,
	    "U+2060 WORD JOINER at offset 8", "v=spf1 a -all");
	/* near miss: foreign text keeps its joiners (emoji sequences use U+200D) */
	clean("\"hello\\226\\128\\139world\"", ZW_ROLE_NONE, ZW_ROLE_NONE);
	clean("\"v=spf1 include:_spf.wpcloud.com ~all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
}

static void tx06_fullwidth(void **state)
{
	(void)state;
	one("\"v=DMARC1\\239\\188\\155 p=reject\\239\\188\\155 rua=mailto:dmarc@example.com\"", ZW_ROLE_DMARC,
	    "TX-06", 8, ZW_SEV_ERROR,
	    "full-width character U+FF1B FULLWIDTH SEMICOLON at offset 8 (and 1 more) (RFC 9989 "
	    "§4.8): ascii ';' was meant",
	    "v=DMARC1; p=reject; rua=mailto:dmarc@example.com");
	one("\"\\227\\128\\128v=spf1 -all\"", ZW_ROLE_NONE, "TX-06", 0, ZW_SEV_ERROR,
	    "U+3000 IDEOGRAPHIC SPACE at offset 0 (RFC 7208 §12): a space was meant", "v=spf1 -all");
	one("\"\\239\\189\\150=spf1 -all\"", ZW_ROLE_NONE, "TX-06", 0, ZW_SEV_ERROR,
	    "U+FF56 FULLWIDTH LATIN SMALL LETTER V at offset 0", "v=spf1 -all");
	one("\"v=spf1 include\\239\\188\\154_spf.example.net -all\"", ZW_ROLE_NONE, "TX-06", 14, ZW_SEV_ERROR,
	    "U+FF1A FULLWIDTH COLON", "v=spf1 include:_spf.example.net -all");
	one("\"v\\239\\188\\157DMARC1; p=none\"", ZW_ROLE_NONE, "TX-06", 1, ZW_SEV_ERROR,
	    "U+FF1D FULLWIDTH EQUALS SIGN", "v=DMARC1; p=none");
	clean("\"v=DMARC1; p=reject; rua=mailto:dmarc@example.com\"", ZW_ROLE_DMARC, ZW_ROLE_DMARC);
}

static void tx07_lookalikes(void **state)
{
	(void)state;
	one("\"v=spf1 ip4:192.0.2.1 \\226\\128\\147all\"", ZW_ROLE_NONE, "TX-07", 21, ZW_SEV_ERROR,
	    "typographic look-alike U+2013 EN DASH at offset 21 (RFC 7208 §12): ascii '-' was meant",
	    "v=spf1 ip4:192.0.2.1 -all");
	one("\"v=spf1\\194\\160-all\"", ZW_ROLE_NONE, "TX-07", 6, ZW_SEV_ERROR,
	    "U+00A0 NO-BREAK SPACE at offset 6 (RFC 7208 §12): a space was meant", "v=spf1 -all");
	/* a trailing NBSP goes entirely */
	one("\"v=spf1 -all\\194\\160\"", ZW_ROLE_NONE, "TX-07", 11, ZW_SEV_ERROR, NULL, "v=spf1 -all");
	/* smart quotes around the value: TX-07 (the quotes are then dropped, no TX-03 too) */
	struct res r;
	classify(&r, "\"\\226\\128\\156v=spf1 -all\\226\\128\\157\"", ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 2);
	expect_finding(&r, 0, "TX-07", 0, ZW_SEV_ERROR, "U+201C LEFT DOUBLE QUOTATION MARK at offset 0");
	expect_finding(&r, 1, "TX-07", 14, ZW_SEV_ERROR, "U+201D RIGHT DOUBLE QUOTATION MARK at offset 14");
	expect_norm(&r, "v=spf1 -all", 11);
	res_free(&r);
	clean("\"v=spf1 ip4:192.0.2.1 -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
}

static void tx08_not_utf8(void **state)
{
	(void)state;
	one("\"v=spf1 \\255 -all\"", ZW_ROLE_NONE, "TX-08", 7, ZW_SEV_ERROR,
	    "byte \\255 at offset 7 is not utf-8 (RFC 7208 §12): it is removed", "v=spf1  -all");
	one("\"v=spf1 \\226\\128 -all\"", ZW_ROLE_NONE, "TX-08", 7, ZW_SEV_ERROR,
	    "byte \\226 at offset 7 is not utf-8 (and 1 more)", "v=spf1  -all");
	one("\"v=spf1 -all\\239\\191\\189\"", ZW_ROLE_NONE, "TX-08", 11, ZW_SEV_ERROR,
	    "U+FFFD REPLACEMENT CHARACTER at offset 11", "v=spf1 -all");
	/* valid UTF-8 outside the table: reported, kept (no safe ascii guess) */
	struct res r;
	classify(&r, "\"v=spf1 include:b\\195\\188cher.\\195\\169xample -all\"", ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 1);
	expect_finding(&r, 0, "TX-08", 16, ZW_SEV_ERROR,
		       "non-ascii character U+00FC at offset 16 (and 1 more): a spf record allows ascii "
		       "only (RFC 7208 §12)");
	assert_string_equal(r.fs.v[0].fix, "rewrite the value in ascii");
	expect_norm(&r,
		    "v=spf1 include:b\xc3\xbc"
		    "cher.\xc3\xa9xample -all",
		    36);
	res_free(&r);
	clean("\"v=spf1 -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
}

static void mojibake(void **state)
{
	(void)state;
	/* U+200B's bytes read as windows-1252 and encoded again: reported as the character meant */
	one("\"v=spf1 include:_spf.\\195\\162\\226\\130\\172\\226\\128\\185wpcloud.com ~all\"", ZW_ROLE_NONE,
	    "TX-05", 20, ZW_SEV_ERROR,
	    "mojibake (utf-8 read as windows-1252 and encoded again) of the invisible character U+200B "
	    "ZERO WIDTH SPACE at offset 20 (RFC 7208 §12): it is removed",
	    "v=spf1 include:_spf.wpcloud.com ~all");
	/* and read as latin-1 */
	one("\"v=spf1 a\\195\\162\\194\\128\\194\\139 -all\"", ZW_ROLE_NONE, "TX-05", 8, ZW_SEV_ERROR,
	    "mojibake", "v=spf1 a -all");
	/* "Â " in front of a space: an NBSP mangled */
	one("\"v=spf1\\195\\130\\194\\160-all\"", ZW_ROLE_NONE, "TX-07", 6, ZW_SEV_ERROR,
	    "of the typographic look-alike U+00A0 NO-BREAK SPACE at offset 6", "v=spf1 -all");
	/* near miss: a lone U+00E2 is just non-ascii */
	one("\"v=spf1 \\195\\162 -all\"", ZW_ROLE_NONE, "TX-08", 7, ZW_SEV_ERROR,
	    "non-ascii character U+00E2", "v=spf1 \xc3\xa2 -all");
}

static void tx09_string_too_long(void **state)
{
	(void)state;
	char v[400];
	memcpy(v, "v=spf1", 6);
	size_t len = 6;
	while (len + 14 < 300) {
		memcpy(v + len, " ip4:192.0.2.1", 14);
		len += 14;
	}
	const char *s = v;
	struct zw_txt t;
	assert_int_equal(zw_txt_from_strings(&t, &s, &len, 1), 0);
	struct res r;
	classify_txt(&r, &t, ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 1);
	expect_finding(&r, 0, "TX-09", 0, ZW_SEV_ERROR,
		       "string 1 is 286 octets at offset 0, over the 255 of one character-string "
		       "(RFC 1035 §3.3): split it at 255 octets");
	expect_norm(&r, v, len);
	res_free(&r);
	zw_txt_free(&t);
	/* foreign text too: the wire limit holds for any value */
	char x[300];
	memset(x, 'x', sizeof(x));
	const char *strs[] = {"a", x};
	size_t lens[] = {1, 300};
	assert_int_equal(zw_txt_from_strings(&t, strs, lens, 2), 0);
	classify_txt(&r, &t, ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 1);
	expect_finding(&r, 0, "TX-09", 1, ZW_SEV_ERROR, "string 2 is 300 octets at offset 1");
	res_free(&r);
	zw_txt_free(&t);
	/* near miss: 255 */
	len = 255;
	assert_int_equal(zw_txt_from_strings(&t, &s, &len, 1), 0);
	classify_txt(&r, &t, ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 0);
	res_free(&r);
	zw_txt_free(&t);
}

static void tx10_spf_split_without_space(void **state)
{
	(void)state;
	one("\"v=spf1 ip4:192.0.2.0/24\" \"include:_spf.example.net -all\"", ZW_ROLE_NONE, "TX-10", 23,
	    ZW_SEV_ERROR,
	    "spf strings joined at offset 23 glue 'ip4:192.0.2.0/24' to 'include:_spf.example.net' "
	    "(RFC 7208 §3.3): strings are concatenated with no space, so a space is added",
	    "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all");
	one("\"v=spf1\" \"include:_spf.example.net -all\"", ZW_ROLE_NONE, "TX-10", 6, ZW_SEV_ERROR,
	    "glue 'v=spf1' to 'include:_spf.example.net'", "v=spf1 include:_spf.example.net -all");
	one("\"v=spf1 include:_spf.example.net\" \"-all\"", ZW_ROLE_NONE, "TX-10", 31, ZW_SEV_ERROR,
	    "to '-all'", "v=spf1 include:_spf.example.net -all");
	/* near misses: a split inside a term, a space kept at the seam, a DKIM key */
	clean("\"v=spf1 include:_spf.goo\" \"gle.com -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	clean("\"v=spf1 ip4:192.0.2.0/24 \" \"include:_spf.example.net -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	clean("\"v=spf1 ip4:192.0.2.0/24\" \" include:_spf.example.net -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	clean("\"v=spf1 a\" \"ll\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	clean("\"v=DKIM1; p=ab\" \"all\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM);
	/* after a 255-octet string the split is the forced canonical one: its bytes are meant */
	char s1[300];
	for (size_t cut = 255; cut >= 254; cut--) {
		size_t w = cut - 15 - 9;
		memcpy(s1, "v=spf1 include:", 15);
		memset(s1 + 15, 'w', w);
		memcpy(s1 + 15 + w, "x.example", 9);
		const char *strs[] = {s1, "include:y.example -all"};
		size_t lens[] = {cut, 22};
		struct zw_txt t;
		struct res r;
		assert_int_equal(zw_txt_from_strings(&t, strs, lens, 2), 0);
		classify_txt(&r, &t, ZW_ROLE_NONE);
		if (cut == 255) {
			assert_int_equal(r.fs.n, 0);
		} else {
			/* the same at 254: a chosen split, so TX-10 */
			assert_int_equal(r.fs.n, 1);
			expect_finding(&r, 0, "TX-10", 254, ZW_SEV_ERROR, "to 'include:y.example'");
		}
		res_free(&r);
		zw_txt_free(&t);
	}
}

/* The 2048-bit DKIM record "v=DKIM1; k=rsa; p=<392>" is 410 octets: 255 + 155. */
static void tx11_dkim_key_whitespace(void **state)
{
	(void)state;
	char rec[420], s2[200];
	snprintf(rec, sizeof(rec), "v=DKIM1; k=rsa; p=%s", key2048);
	assert_int_equal(strlen(rec), 410);
	const char *strs[] = {rec, rec + 255};
	size_t lens[] = {255, 155};
	struct zw_txt t;
	struct res r;
	assert_int_equal(zw_txt_from_strings(&t, strs, lens, 2), 0);
	classify_txt(&r, &t, ZW_ROLE_DKIM);
	assert_int_equal(r.fs.n, 0);
	assert_int_equal(r.role, ZW_ROLE_DKIM);
	expect_norm(&r, rec, 410);
	res_free(&r);
	zw_txt_free(&t);

	/* the same with a space at the seam: valid, fragile, republished without it */
	s2[0] = ' ';
	memcpy(s2 + 1, rec + 255, 155);
	strs[1] = s2;
	lens[1] = 156;
	assert_int_equal(zw_txt_from_strings(&t, strs, lens, 2), 0);
	classify_txt(&r, &t, ZW_ROLE_DKIM);
	assert_int_equal(r.fs.n, 1);
	expect_finding(&r, 0, "TX-11", 255, ZW_SEV_WARNING,
		       "whitespace inside the dkim p= key at offset 255 (RFC 6376 §3.6.1): valid, but some "
		       "verifiers fail on it; it is removed");
	expect_norm(&r, rec, 410);
	res_free(&r);
	zw_txt_free(&t);

	/* blanks a panel added inside the key, and a TAB */
	one("\"v=DKIM1; p=MIGf MA0G\\009CSqG\"", ZW_ROLE_DKIM, "TX-11", 15, ZW_SEV_WARNING,
	    "at offset 15 (and 1 more)", "v=DKIM1; p=MIGfMA0GCSqG");
	/* near misses: FWS around the value and blanks in other tags are fine */
	clean("\"v=DKIM1; k=rsa; p= MIGfMA0G ; t=y\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM);
	clean("\"v=DKIM1; n=hello world; p=MIGf\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM);
	clean("\"v=DKIM1; p=\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM);
}

static void tx13_zone_file_escapes(void **state)
{
	(void)state;
	/* the value holds backslashes: "v=DKIM1\\; k=rsa\\; p=MIGf" in zone-file form */
	one("\"v=DKIM1\\\\; k=rsa\\\\; p=MIGf\"", ZW_ROLE_DKIM, "TX-13", 7, ZW_SEV_ERROR,
	    "zone-file escape '\\;' at offset 7 (and 1 more): through an api the backslash is data "
	    "(RFC 6376 §3.2); the escapes are undone",
	    "v=DKIM1; k=rsa; p=MIGf");
	/* escaped quotes pasted: TX-13 only, the quotes are part of it */
	one("\"\\\\\\\"v=spf1 -all\\\\\\\"\"", ZW_ROLE_NONE, "TX-13", 0, ZW_SEV_ERROR, "'\\\"'",
	    "v=spf1 -all");
	/* a decimal escape pasted: the escape, and the invisible character it spells */
	struct res r;
	classify(&r, "\"v=spf1 include:_spf.\\\\226\\\\128\\\\139x.example -all\"", ZW_ROLE_NONE);
	assert_int_equal(r.fs.n, 2);
	expect_finding(&r, 0, "TX-13", 20, ZW_SEV_ERROR, "'\\226' at offset 20 (and 2 more)");
	expect_finding(&r, 1, "TX-05", 20, ZW_SEV_ERROR, "U+200B ZERO WIDTH SPACE at offset 20");
	expect_norm(&r, "v=spf1 include:_spf.x.example -all", 34);
	res_free(&r);
	/* \<TAB> is an escape too (RFC 1035 §5.1 \X); the TAB it spells is then a blank */
	one("\"v=spf1\\\\\\009-all\"", ZW_ROLE_NONE, "TX-13", 6, ZW_SEV_ERROR,
	    "zone-file escape '\\<U+0009>' at offset 6", "v=spf1 -all");
	/* near misses: a backslash that escapes nothing */
	clean("\"v=spf1 -all\\\\\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
	clean("\"v=spf1 exp=a\\\\12.example\"", ZW_ROLE_NONE, ZW_ROLE_SPF);
}

static void decimal_and_octal_classify_alike(void **state)
{
	(void)state;
	/* \226\128\139 in a zone file (decimal) and \342\200\213 from Route 53 (octal) */
	const char *r53 = "v=spf1 include:_spf.\\342\\200\\213wpcloud.com ~all";
	struct zw_buf oct = ZW_BUF_INIT;
	assert_int_equal(zw_txt_decode_octal(&oct, r53, strlen(r53), NULL), 0);
	struct zw_txt t;
	assert_int_equal(zw_txt_from_value(&t, oct.p, oct.len), 0);
	struct res a, b;
	classify_txt(&a, &t, ZW_ROLE_NONE);
	classify(&b, "\"v=spf1 include:_spf.\\226\\128\\139wpcloud.com ~all\"", ZW_ROLE_NONE);
	assert_int_equal(a.fs.n, 1);
	assert_int_equal(b.fs.n, 1);
	assert_string_equal(a.fs.v[0].message, b.fs.v[0].message);
	assert_string_equal(a.fs.v[0].observed,
			    "v=spf1 include:_spf.<U+200B ZERO WIDTH SPACE>wpcloud.com ~all");
	assert_string_equal(a.fs.v[0].expected, "v=spf1 include:_spf.wpcloud.com ~all");
	assert_string_equal(a.fs.v[0].fix, "replace the value with the expected one");
	assert_string_equal(a.fs.v[0].fix, ZW_STRAY_FIX_VALUE);
	assert_int_equal(a.norm.len, b.norm.len);
	assert_memory_equal(a.norm.p, b.norm.p, a.norm.len);
	res_free(&a);
	res_free(&b);
	zw_txt_free(&t);
	zw_buf_free(&oct);
}

static void several_problems_one_finding_each(void **state)
{
	(void)state;
	struct res r;
	classify(&r, "\"\\\" v=DMARC1\\239\\188\\155 p=re\\226\\128\\139ject\\010\\\"\"", ZW_ROLE_DMARC);
	assert_int_equal(r.fs.n, 5);
	expect_finding(&r, 0, "TX-03", 0, ZW_SEV_ERROR, NULL);
	expect_finding(&r, 1, "TX-01", 1, ZW_SEV_ERROR, NULL);
	expect_finding(&r, 2, "TX-06", 10, ZW_SEV_ERROR, "U+FF1B");
	expect_finding(&r, 3, "TX-05", 18, ZW_SEV_ERROR, "U+200B");
	expect_finding(&r, 4, "TX-02", 25, ZW_SEV_ERROR, "U+000A");
	expect_norm(&r, "v=DMARC1; p=reject", 18);
	assert_int_equal(r.role, ZW_ROLE_DMARC);
	res_free(&r);
}

static void roles_after_normalisation(void **state)
{
	(void)state;
	struct res r;
	classify(&r, "\"v=spf1\\239\\188\\155 -all\"", ZW_ROLE_NONE);
	assert_int_equal(r.role, ZW_ROLE_SPF);
	res_free(&r);
	classify(&r, "\"k=rsa; p=MIGf MA0G\"", ZW_ROLE_DKIM);
	assert_int_equal(r.role, ZW_ROLE_DKIM);
	assert_int_equal(r.fs.n, 1);
	res_free(&r);
	/* without the _domainkey hint the same tag-list is foreign text */
	clean("\"k=rsa; p=MIGf MA0G\"", ZW_ROLE_NONE, ZW_ROLE_NONE);
	classify(&r, "\"v=DMARC1; rua=mailto:x@example.com \\010\"", ZW_ROLE_DMARC_REPORT);
	assert_int_equal(r.role, ZW_ROLE_DMARC_REPORT);
	res_free(&r);
}

/* ---- rrsets (TX-12) --------------------------------------------------------------- */

static void rrset_of(struct zw_txt *rrs, const char *const *pres, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(zw_txt_parse_presentation(&rrs[i], pres[i], strlen(pres[i]), NULL), 0);
}

static void rrset_free_all(struct zw_txt *rrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zw_txt_free(&rrs[i]);
}

static void tx12_dkim_split_across_rrs(void **state)
{
	(void)state;
	char rec[420], p1[300], p2[200];
	snprintf(rec, sizeof(rec), "v=DKIM1; k=rsa; p=%s", key2048);
	snprintf(p1, sizeof(p1), "\"%.255s\"", rec);
	snprintf(p2, sizeof(p2), "\"%s\"", rec + 255);
	const char *pres[] = {p2, p1}; /* the order DNS gives is arbitrary */
	struct zw_txt rrs[2];
	rrset_of(rrs, pres, 2);
	struct zw_findings fs = {0};
	struct zw_stray_rrset out;
	assert_int_equal(zw_stray_check_rrset(&fs, &out, rrs, 2, ZW_ROLE_DKIM, NULL), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0].cls->id, "TX-12");
	assert_string_equal(fs.v[0].message,
			    "one dkim record is published as 2 rrs (RFC 6376 §3.6.2.2): rrs are never "
			    "joined, so receivers see a cut record; publish one rr with the parts as its "
			    "strings");
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].role, ZW_ROLE_DKIM);
	assert_int_equal(out.v[0].changed, 1);
	assert_int_equal(out.v[0].nsrcs, 2);
	assert_int_equal(out.v[0].srcs[0], 1);
	assert_int_equal(out.v[0].srcs[1], 0);
	assert_int_equal(out.v[0].txt.n, 2);
	assert_int_equal(out.v[0].txt.lens[0], 255);
	assert_int_equal(out.v[0].txt.lens[1], 155);
	assert_memory_equal(out.v[0].txt.data, rec, 410);
	zw_stray_rrset_free(&out);
	zw_findings_free(&fs);
	rrset_free_all(rrs, 2);
}

static void tx12_spf_and_dmarc(void **state)
{
	(void)state;
	/* SPF cut into two RRs at a term boundary: TX-12, and TX-10 at the seam */
	const char *spf[] = {"\"v=spf1 include:_spf.google.com\"", "\"include:amazonses.com -all\"",
			     "\"google-site-verification=abc\""};
	struct zw_txt rrs[3];
	rrset_of(rrs, spf, 3);
	struct zw_findings fs = {0};
	struct zw_stray_rrset out;
	assert_int_equal(zw_stray_check_rrset(&fs, &out, rrs, 3, ZW_ROLE_NONE, NULL), 0);
	assert_int_equal(fs.n, 2);
	assert_string_equal(fs.v[0].cls->id, "TX-10");
	assert_int_equal(fs.v[0].offset, 30);
	assert_string_equal(fs.v[1].cls->id, "TX-12");
	assert_true(strstr(fs.v[1].message, "one spf record is published as 2 rrs (RFC 7208 §3.3)") != NULL);
	assert_string_equal(fs.v[1].observed, "v=spf1 include:_spf.google.com + include:amazonses.com -all");
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0].txt.data, "v=spf1 include:_spf.google.com include:amazonses.com -all");
	assert_int_equal(out.v[0].txt.n, 1);
	assert_int_equal(out.v[1].changed, 0);
	assert_int_equal(out.v[1].role, ZW_ROLE_VERIFICATION);
	assert_true(zw_txt_equal(&out.v[1].txt, &rrs[2]));
	assert_int_equal(out.v[1].srcs[0], 2);
	zw_stray_rrset_free(&out);
	zw_findings_free(&fs);
	rrset_free_all(rrs, 3);

	const char *dmarc[] = {"\"v=DMARC1; p=reject;\"", "\" rua=mailto:d@example.com\""};
	rrset_of(rrs, dmarc, 2);
	assert_int_equal(zw_stray_check_rrset(&fs, &out, rrs, 2, ZW_ROLE_DMARC, NULL), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0].cls->id, "TX-12");
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0].txt.data, "v=DMARC1; p=reject; rua=mailto:d@example.com");
	zw_stray_rrset_free(&out);
	zw_findings_free(&fs);
	rrset_free_all(rrs, 2);
}

static void tx12_near_misses(void **state)
{
	(void)state;
	static const char *const sets[][2] = {
		/* the apex rrset: SPF and a verification token, both kept */
		{"\"v=spf1 include:_spf.google.com -all\"", "\"google-site-verification=abc\""},
		/* two complete SPF records: that is SP-02, not a split */
		{"\"v=spf1 -all\"", "\"v=spf1 include:x.example -all\""},
		/* a head without all and foreign text */
		{"\"v=spf1 include:_spf.google.com\"", "\"hello world\""},
		/* a head without all and terms not ending in all/redirect */
		{"\"v=spf1 include:_spf.google.com\"", "\"include:amazonses.com\""},
		/* a DKIM key and something that is not base64 */
		{"\"v=DKIM1; p=MIGf\"", "\"not base64!\""},
		/* a DMARC record and a tag DMARC does not have */
		{"\"v=DMARC1; p=reject;\"", "\"foo=bar\""},
	};
	for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		struct zw_txt rrs[2];
		rrset_of(rrs, sets[k], 2);
		struct zw_findings fs = {0};
		struct zw_stray_rrset out;
		enum zw_role hint = k == 4 ? ZW_ROLE_DKIM : k == 5 ? ZW_ROLE_DMARC : ZW_ROLE_NONE;
		assert_int_equal(zw_stray_check_rrset(&fs, &out, rrs, 2, hint, NULL), 0);
		if (fs.n)
			fail_msg("set %zu: unexpected %s: %s", k, fs.v[0].cls->id, fs.v[0].message);
		assert_int_equal(out.n, 2);
		for (size_t i = 0; i < 2; i++) {
			assert_int_equal(out.v[i].changed, 0);
			assert_true(zw_txt_equal(&out.v[i].txt, &rrs[i]));
			assert_int_equal(out.v[i].nsrcs, 1);
			assert_int_equal(out.v[i].srcs[0], i);
		}
		zw_stray_rrset_free(&out);
		zw_findings_free(&fs);
		rrset_free_all(rrs, 2);
	}
}

static void rrset_normalises_each_rr(void **state)
{
	(void)state;
	char long_v[300];
	memset(long_v, 'y', sizeof(long_v));
	const char *strs[] = {long_v};
	size_t lens[] = {300};
	struct zw_txt rrs[3];
	const char *pres[] = {"\" v=spf1 -all\"", "\"MS=ms123\""};
	rrset_of(rrs, pres, 2);
	assert_int_equal(zw_txt_from_strings(&rrs[2], strs, lens, 1), 0);
	struct zw_findings fs = {0};
	struct zw_stray_rrset out;
	assert_int_equal(zw_stray_check_rrset(&fs, &out, rrs, 3, ZW_ROLE_NONE, NULL), 0);
	assert_int_equal(fs.n, 2);
	assert_string_equal(fs.v[0].cls->id, "TX-01");
	assert_string_equal(fs.v[1].cls->id, "TX-09");
	assert_int_equal(out.n, 3);
	assert_int_equal(out.v[0].changed, 1);
	assert_string_equal(out.v[0].txt.data, "v=spf1 -all");
	assert_int_equal(out.v[1].changed, 0);
	/* a foreign value too long for one string is re-split, its bytes unchanged */
	assert_int_equal(out.v[2].changed, 1);
	assert_int_equal(out.v[2].txt.n, 2);
	assert_int_equal(out.v[2].txt.len, 300);
	zw_stray_rrset_free(&out);
	zw_findings_free(&fs);
	rrset_free_all(rrs, 3);

	assert_int_equal(zw_stray_check_rrset(&fs, &out, NULL, 0, ZW_ROLE_NONE, NULL), 0);
	assert_int_equal(out.n, 0);
	zw_stray_rrset_free(&out);
	zw_stray_rrset_free(NULL);
}

/* ---- names ------------------------------------------------------------------------ */

static void name_one(const char *name, size_t len, const char *id, long off, const char *msg,
		     const char *norm)
{
	struct zw_findings fs = {0};
	struct zw_buf nb = ZW_BUF_INIT;
	assert_int_equal(zw_stray_check_name(&fs, &nb, name, len, NULL), 0);
	if (!id) {
		if (fs.n)
			fail_msg("%s: unexpected %s: %s", name, fs.v[0].cls->id, fs.v[0].message);
	} else {
		if (fs.n != 1)
			fail_msg("%s: %zu findings", name, fs.n);
		assert_string_equal(fs.v[0].cls->id, id);
		assert_int_equal(fs.v[0].offset, off);
		if (msg && !strstr(fs.v[0].message, msg))
			fail_msg("message '%s' lacks '%s'", fs.v[0].message, msg);
	}
	assert_string_equal(zw_buf_str(&nb), norm);
	/* fixed point */
	struct zw_findings again = {0};
	struct zw_buf nb2 = ZW_BUF_INIT;
	assert_int_equal(zw_stray_check_name(&again, &nb2, zw_buf_str(&nb), nb.len, NULL), 0);
	assert_string_equal(zw_buf_str(&nb2), norm);
	zw_findings_free(&again);
	zw_buf_free(&nb2);
	zw_findings_free(&fs);
	zw_buf_free(&nb);
}

static void names_and_cname_targets(void **state)
{
	(void)state;
	name_one(" s1.dkim.example.net.", 21, "TX-01", 0,
		 "leading whitespace (U+0020 SPACE) at offset 0 in a name (RFC 1035 §2.3.1): it is removed",
		 "s1.dkim.example.net.");
	name_one("s1.dkim.example.net. ", 21, "TX-02", 20, "trailing whitespace at offset 20 in a name",
		 "s1.dkim.example.net.");
	name_one("s3\xe2\x80\x8b.dkim.example.net.", 23, "TX-05", 2,
		 "invisible character U+200B ZERO WIDTH SPACE at offset 2 (RFC 1035 §2.3.1): it is removed",
		 "s3.dkim.example.net.");
	name_one("\"tok.dkim.amazonses.com.\"", 25, "TX-03", 0, NULL, "tok.dkim.amazonses.com.");
	name_one("s1\xef\xbc\x8e"
		 "dkim.example.net.",
		 22, "TX-06", 2, "U+FF0E FULLWIDTH FULL STOP at offset 2", "s1.dkim.example.net.");
	name_one("s1\xe3\x80\x82"
		 "dkim.example.net.",
		 22, "TX-06", 2, "U+3002 IDEOGRAPHIC FULL STOP", "s1.dkim.example.net.");
	name_one("s1 ._domainkey.example.com.", 27, "NM-07", 2,
		 "whitespace inside the name at offset 2 (RFC 1035 §2.3.1)", "s1 ._domainkey.example.com.");
	name_one("b\xc3\xbc"
		 "cher.example.",
		 16, "TX-08", 1, "write the a-label",
		 "b\xc3\xbc"
		 "cher.example.");
	name_one("s1.dkim.example.net.", 20, NULL, 0, NULL, "s1.dkim.example.net.");
	name_one("\\052.example.com.", 17, NULL, 0, NULL, "\\052.example.com.");
	name_one("", 0, NULL, 0, NULL, "");
}

/* ---- the table and the decoder ------------------------------------------------------ */

static void table_and_utf8(void **state)
{
	(void)state;
	struct zw_stray_char c;
	assert_true(zw_stray_lookup(&c, 0xFF1B));
	assert_string_equal(c.cls, "TX-06");
	assert_string_equal(c.name, "FULLWIDTH SEMICOLON");
	assert_string_equal(c.repl, ";");
	assert_true(c.named);
	assert_true(zw_stray_lookup(&c, 0xFF56));
	assert_string_equal(c.name, "FULLWIDTH LATIN SMALL LETTER V");
	assert_string_equal(c.repl, "v");
	assert_true(zw_stray_lookup(&c, 0xFF10));
	assert_string_equal(c.name, "FULLWIDTH DIGIT ZERO");
	assert_true(zw_stray_lookup(&c, 0x200B));
	assert_string_equal(c.cls, "TX-05");
	assert_string_equal(c.repl, "");
	assert_true(zw_stray_lookup(&c, 0x0A));
	assert_string_equal(c.name, "LINE FEED");
	assert_false(c.named);
	assert_true(zw_stray_lookup(&c, 0x90));
	assert_string_equal(c.name, "<control>");
	assert_false(c.named);
	assert_true(zw_stray_lookup(&c, 0x2013));
	assert_string_equal(c.cls, "TX-07");
	assert_false(zw_stray_lookup(&c, 'a'));
	assert_false(zw_stray_lookup(&c, 0xE9));
	assert_false(zw_stray_lookup(&c, 0x1F600));

	uint32_t cp = 0;
	assert_int_equal(zw_stray_utf8(&cp, "a", 1), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(zw_stray_utf8(&cp, "\xe2\x80\x8b", 3), 3);
	assert_int_equal(cp, 0x200B);
	assert_int_equal(zw_stray_utf8(&cp, "\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(zw_stray_utf8(&cp, "\xc0\x80", 2), 0);		/* overlong */
	assert_int_equal(zw_stray_utf8(&cp, "\xe0\x80\xaf", 3), 0);	/* overlong */
	assert_int_equal(zw_stray_utf8(&cp, "\xed\xa0\x80", 3), 0);	/* surrogate */
	assert_int_equal(zw_stray_utf8(&cp, "\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	assert_int_equal(zw_stray_utf8(&cp, "\xe2\x80", 2), 0);		/* cut */
	assert_int_equal(zw_stray_utf8(&cp, "\x80", 1), 0);
	assert_int_equal(zw_stray_utf8(&cp, "", 0), 0);
}

static void refuses_huge_values(void **state)
{
	(void)state;
	static char big[70000];
	memset(big, 'a', sizeof(big));
	struct zw_txt t;
	assert_int_equal(zw_txt_from_value(&t, big, sizeof(big)), 0);
	struct zw_findings fs = {0};
	struct zw_buf nb = ZW_BUF_INIT;
	struct zw_error err = {0};
	assert_int_equal(zw_stray_check_txt(&fs, &nb, NULL, &t, ZW_ROLE_NONE, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "txt value of 70000 octets is over 65535 (RFC 1035 §3.2.1)");
	assert_int_equal(fs.n, 0);
	zw_txt_free(&t);
	assert_int_equal(zw_stray_check_name(&fs, &nb, big, 2000, &err), ZW_EINVAL);
	zw_buf_free(&nb);
}

/* ---- allocation failures ------------------------------------------------------------ */

static int alloc_body(void)
{
	static const char v[] = "\" v=DMARC1\xef\xbc\x9b p=re\xe2\x80\x8bject\n\\;\" \" x\"";
	static const char *const rrs_v[] = {"v=spf1 include:_spf.google.com", "include:x.example -all",
					    "MS=ms1"};
	struct zw_findings fs = {0};
	struct zw_buf nb = ZW_BUF_INIT;
	struct zw_txt t = {0}, rrs[3] = {{0}};
	struct zw_stray_rrset out = {0};
	int rc = 0;
	/* a finding already in the list must survive a failed call */
	if (!zw_findings_add(&fs, "TX-09", 0, "before")) {
		rc = ZW_ENOMEM;
		goto out;
	}
	if ((rc = zw_txt_from_value(&t, v, sizeof(v) - 1)))
		goto out;
	for (size_t i = 0; i < 3; i++)
		if ((rc = zw_txt_from_value(&rrs[i], rrs_v[i], strlen(rrs_v[i]))))
			goto out;
	rc = zw_stray_check_txt(&fs, &nb, NULL, &t, ZW_ROLE_DMARC, NULL);
	if (rc) {
		assert_int_equal(fs.n, 1);
		goto out;
	}
	size_t n = fs.n;
	rc = zw_stray_check_rrset(&fs, &out, rrs, 3, ZW_ROLE_NONE, NULL);
	if (rc) {
		assert_int_equal(fs.n, n);
		assert_int_equal(out.n, 0);
		goto out;
	}
	n = fs.n;
	rc = zw_stray_check_name(&fs, &nb, " s1\xe2\x80\x8b.example.", 15, NULL);
	if (rc)
		assert_int_equal(fs.n, n);
out:
	zw_stray_rrset_free(&out);
	for (size_t i = 0; i < 3; i++)
		zw_txt_free(&rrs[i]);
	zw_txt_free(&t);
	zw_buf_free(&nb);
	zw_findings_free(&fs);
	return rc;
}

static void survives_allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(alloc_body());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tx01_leading_whitespace),
		cmocka_unit_test(tx02_control_characters),
		cmocka_unit_test(tx03_literal_quotes),
		cmocka_unit_test(tx04_pasted_multi_string),
		cmocka_unit_test(tx05_invisible),
		cmocka_unit_test(tx06_fullwidth),
		cmocka_unit_test(tx07_lookalikes),
		cmocka_unit_test(tx08_not_utf8),
		cmocka_unit_test(mojibake),
		cmocka_unit_test(tx09_string_too_long),
		cmocka_unit_test(tx10_spf_split_without_space),
		cmocka_unit_test(tx11_dkim_key_whitespace),
		cmocka_unit_test(tx12_dkim_split_across_rrs),
		cmocka_unit_test(tx12_spf_and_dmarc),
		cmocka_unit_test(tx12_near_misses),
		cmocka_unit_test(rrset_normalises_each_rr),
		cmocka_unit_test(tx13_zone_file_escapes),
		cmocka_unit_test(decimal_and_octal_classify_alike),
		cmocka_unit_test(several_problems_one_finding_each),
		cmocka_unit_test(roles_after_normalisation),
		cmocka_unit_test(names_and_cname_targets),
		cmocka_unit_test(table_and_utf8),
		cmocka_unit_test(refuses_huge_values),
		cmocka_unit_test(survives_allocation_failures),
	};
	return cmocka_run_group_tests_name("stray", tests, NULL, NULL);
}
