/*
 * test_role.c - unit tests of role recognition and the owner checks (reconcile/role.c):
 * exact and near recognition, the hint, reserved owners, NM-03, NM-04 and BI-02 with
 * their expected owners, and near-miss negatives for each.
 */
#include "tests/unit/unit.h"

#include "reconcile/finding.h"
#include "reconcile/role.h"

static void expect_role(const char *v, enum zw_role hint, enum zw_role want, int want_near)
{
	int near = -1;
	enum zw_role got = zw_role_detect(&near, v, strlen(v), hint);
	if (got != want || near != want_near)
		fail_msg("'%s' (hint %s): got %s near %d, want %s near %d", v, zw_role_name(hint),
			 zw_role_name(got), near, zw_role_name(want), want_near);
}

static void exact_selection_rules(void **state)
{
	(void)state;
	expect_role("v=spf1", ZW_ROLE_NONE, ZW_ROLE_SPF, 0);
	expect_role("v=spf1 include:_spf.google.com ~all", ZW_ROLE_NONE, ZW_ROLE_SPF, 0);
	expect_role("V=SPF1 -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 0); /* RFC 7208 §12: any case */
	expect_role("spf2.0/mfrom,pra -all", ZW_ROLE_NONE, ZW_ROLE_SENDER_ID, 0);
	expect_role("v=DMARC1; p=reject", ZW_ROLE_NONE, ZW_ROLE_DMARC, 0);
	expect_role("v=DMARC1", ZW_ROLE_NONE, ZW_ROLE_DMARC, 0);
	expect_role("v = DMARC1 ; p=none", ZW_ROLE_NONE, ZW_ROLE_DMARC, 0); /* equals = *WSP "=" *WSP */
	expect_role("V=DMARC1; p=none", ZW_ROLE_NONE, ZW_ROLE_DMARC, 0);    /* "v" is case-insensitive ABNF */
	expect_role("v=DMARC1; rua=mailto:a@b.example", ZW_ROLE_DMARC_REPORT, ZW_ROLE_DMARC_REPORT, 0);
	expect_role("v=DKIM1; k=rsa; p=MIGf", ZW_ROLE_NONE, ZW_ROLE_DKIM, 0);
	expect_role(" v=DKIM1;p=MIGf", ZW_ROLE_NONE, ZW_ROLE_DKIM, 0); /* tag-spec [FWS] */
	expect_role("k=rsa; p=MIGf", ZW_ROLE_DKIM, ZW_ROLE_DKIM, 0);   /* v= is optional */
	expect_role("V=DKIM1; p=MIGf", ZW_ROLE_DKIM, ZW_ROLE_DKIM, 0); /* V is an unknown tag */
	expect_role("v=STSv1; id=20240501", ZW_ROLE_NONE, ZW_ROLE_STS, 0);
	expect_role("v=TLSRPTv1; rua=mailto:tls@example.com", ZW_ROLE_NONE, ZW_ROLE_TLSRPT, 0);
	expect_role("v=BIMI1; l=https://example.com/l.svg", ZW_ROLE_NONE, ZW_ROLE_BIMI, 0);
	expect_role("google-site-verification=abc123", ZW_ROLE_NONE, ZW_ROLE_VERIFICATION, 0);
	expect_role("MS=ms12345678", ZW_ROLE_NONE, ZW_ROLE_VERIFICATION, 0);
}

static void near_recognition(void **state)
{
	(void)state;
	expect_role(" v=spf1 include:amazonses.com -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1);
	expect_role("\"v=spf1 -all\"", ZW_ROLE_NONE, ZW_ROLE_SPF, 1);
	expect_role("v=spf1\xef\xbc\x9b -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1); /* v=spf1； */
	expect_role("v=spf1;-all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1);
	expect_role("v=spf1include:_spf.example.net -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1); /* TX-10 */
	expect_role("v=dmarc1; p=reject", ZW_ROLE_NONE, ZW_ROLE_DMARC, 1);		  /* %s"DMARC1" */
	expect_role("v=DMARC1 p=reject", ZW_ROLE_NONE, ZW_ROLE_DMARC, 1);		  /* no ';' */
	expect_role("\tv=DMARC1; p=reject", ZW_ROLE_NONE, ZW_ROLE_DMARC, 1);
	expect_role("V=DKIM1; k=rsa; p=MIGf", ZW_ROLE_NONE, ZW_ROLE_DKIM, 1);
	expect_role("v=dkim1; p=MIGf", ZW_ROLE_NONE, ZW_ROLE_DKIM, 1);
	expect_role("\"k=rsa; p=MIGf\"", ZW_ROLE_DKIM, ZW_ROLE_DKIM, 1);
	expect_role("v=STSv1 id=1", ZW_ROLE_NONE, ZW_ROLE_STS, 1);
	expect_role("v=stsv1; id=1", ZW_ROLE_NONE, ZW_ROLE_STS, 1);
	expect_role("V=TLSRPTv1; rua=mailto:x@example.com", ZW_ROLE_NONE, ZW_ROLE_TLSRPT, 1);
	expect_role(" google-site-verification=abc", ZW_ROLE_NONE, ZW_ROLE_VERIFICATION, 1);
}

static void not_a_role(void **state)
{
	(void)state;
	expect_role("", ZW_ROLE_NONE, ZW_ROLE_NONE, 0);
	expect_role("spf1-all", ZW_ROLE_NONE, ZW_ROLE_NONE, 0);
	expect_role("v=DMARC10; p=none", ZW_ROLE_NONE, ZW_ROLE_NONE, 0);
	expect_role("p=reject; v=DMARC1", ZW_ROLE_NONE, ZW_ROLE_NONE, 0); /* v must be first */
	expect_role("k=rsa; p=MIGf", ZW_ROLE_NONE, ZW_ROLE_NONE, 0);	  /* needs the _domainkey hint */
	expect_role("k=rsa; s=email", ZW_ROLE_DKIM, ZW_ROLE_NONE, 0);	  /* no p tag */
	expect_role("P=MIGf", ZW_ROLE_DKIM, ZW_ROLE_NONE, 0);		  /* tag names are case-sensitive */
	expect_role("hello world", ZW_ROLE_DMARC, ZW_ROLE_NONE, 0);
	expect_role("verification", ZW_ROLE_NONE, ZW_ROLE_NONE, 0);
	expect_role("spf2.0/ -all", ZW_ROLE_NONE, ZW_ROLE_NONE, 0);
	enum zw_role r = zw_role_detect(NULL, "v=spf1", 6, ZW_ROLE_NONE);
	assert_int_equal(r, ZW_ROLE_SPF);
}

/* Not SPF or DMARC by the RFC's selection, but a broken version of it (SP-03, DM-03): the
 * grammar reports it and the plan replaces it instead of adding a second record. */
static void broken_versions_are_near(void **state)
{
	(void)state;
	expect_role("v=spf10 -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1); /* another version, RFC 7208 §4.5 */
	expect_role("v=spf", ZW_ROLE_NONE, ZW_ROLE_SPF, 1);
	expect_role("v=spf 1 -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1);
	expect_role("spf1 -all", ZW_ROLE_NONE, ZW_ROLE_SPF, 1);
	expect_role("p=reject; v=DMARC1", ZW_ROLE_DMARC, ZW_ROLE_DMARC, 1); /* v not first, at _dmarc */
	expect_role("v=DMARC 1; p=reject", ZW_ROLE_DMARC, ZW_ROLE_DMARC, 1);
	expect_role("v=DMARC 1; p=reject", ZW_ROLE_NONE, ZW_ROLE_NONE, 0); /* elsewhere: foreign */
}

static void info_table(void **state)
{
	(void)state;
	for (int r = 0; r < ZW_ROLE_COUNT; r++) {
		assert_int_equal(zw_role_info((enum zw_role)r)->role, r);
		assert_non_null(zw_role_name((enum zw_role)r));
	}
	assert_string_equal(zw_role_info(ZW_ROLE_SPF)->version, "v=spf1");
	assert_string_equal(zw_role_name(ZW_ROLE_DMARC), "dmarc");
	assert_int_equal(zw_role_info(ZW_ROLE_COUNT)->role, ZW_ROLE_NONE);
}

static void reserved_owners(void **state)
{
	(void)state;
	static const struct {
		const char *owner;
		enum zw_role role;
	} cases[] = {
		{"_dmarc.example.com", ZW_ROLE_DMARC},
		{"_DMARC.Example.COM.", ZW_ROLE_DMARC},
		{"s1._domainkey.example.com.", ZW_ROLE_DKIM},
		{"a.b._domainkey.example.com", ZW_ROLE_DKIM},
		{"example.com._report._dmarc.vendor.example", ZW_ROLE_DMARC_REPORT},
		{"_mta-sts.example.com", ZW_ROLE_STS},
		{"_smtp._tls.example.com", ZW_ROLE_TLSRPT},
		{"default._bimi.example.com", ZW_ROLE_BIMI},
		{"example.com", ZW_ROLE_NONE},
		{"_domainkey.example.com", ZW_ROLE_NONE}, /* no selector */
		{"mta-sts.example.com", ZW_ROLE_NONE},
		{"x._dmarc.example.com", ZW_ROLE_NONE},
		{"", ZW_ROLE_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (zw_role_of_owner(cases[i].owner) != cases[i].role)
			fail_msg("%s: got %s", cases[i].owner,
				 zw_role_name(zw_role_of_owner(cases[i].owner)));
}

/* Check one owner; want_id NULL means no finding. */
static void expect_owner(const char *owner, const char *apex, enum zw_role role, const char *want_id,
			 const char *want_expected, const char *msg_part)
{
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	assert_int_equal(zw_role_check_owner(&fs, owner, apex, role, &err), 0);
	if (!want_id) {
		if (fs.n)
			fail_msg("%s (%s): unexpected %s: %s", owner, zw_role_name(role), fs.v[0].cls->id,
				 fs.v[0].message);
		zw_findings_free(&fs);
		return;
	}
	if (fs.n != 1)
		fail_msg("%s (%s): %zu findings", owner, zw_role_name(role), fs.n);
	assert_string_equal(fs.v[0].cls->id, want_id);
	assert_string_equal(fs.v[0].expected, want_expected);
	assert_int_equal(fs.v[0].offset, -1);
	assert_int_equal(fs.v[0].sev, zw_class_find(want_id)->severity);
	assert_non_null(fs.v[0].fix);
	if (msg_part && !strstr(fs.v[0].message, msg_part))
		fail_msg("message '%s' lacks '%s'", fs.v[0].message, msg_part);
	zw_findings_free(&fs);
}

static void nm03_wrong_owner(void **state)
{
	(void)state;
	expect_owner("example.com.", "example.com", ZW_ROLE_DMARC, "NM-03", "_dmarc.example.com.",
		     "dmarc record at example.com.: the owner has no _dmarc label, receivers look for "
		     "it at _dmarc.example.com. (RFC 7489 §6.1)");
	expect_owner("www.example.com", "example.com.", ZW_ROLE_DMARC, "NM-03", "_dmarc.www.example.com.",
		     NULL);
	expect_owner("s1.example.com.", "example.com.", ZW_ROLE_DKIM, "NM-03", "s1._domainkey.example.com.",
		     "(RFC 6376 §3.6.2.1)");
	expect_owner("example.com.", "example.com.", ZW_ROLE_DKIM, "NM-03",
		     "<selector>._domainkey.example.com.", NULL);
	expect_owner("_domainkey.example.com.", "example.com.", ZW_ROLE_DKIM, "NM-03",
		     "<selector>._domainkey.example.com.", "has no selector");
	expect_owner("mta-sts.example.com.", "example.com.", ZW_ROLE_STS, "NM-03", "_mta-sts.example.com.",
		     "policy web host");
	expect_owner("example.com.", "example.com.", ZW_ROLE_TLSRPT, "NM-03", "_smtp._tls.example.com.",
		     "no _smtp._tls label");
	expect_owner("s1._domainkey.example.com.", "example.com.", ZW_ROLE_DMARC, "NM-03",
		     "_dmarc.example.com.", NULL);
	expect_owner("_dmarc.example.com.", "example.com.", ZW_ROLE_SPF, "NM-03", "example.com.",
		     "reserved for the dmarc record");
	expect_owner("_dmarc.example.com.", "example.com.", ZW_ROLE_DKIM, "NM-03",
		     "<selector>._domainkey.example.com.", NULL);
	/* the zone is itself named dmarc.*: the relative part is empty, so this is NM-03 */
	expect_owner("dmarc.example.com.", "dmarc.example.com.", ZW_ROLE_DMARC, "NM-03",
		     "_dmarc.dmarc.example.com.", NULL);
	expect_owner("example.com.", "example.com.", ZW_ROLE_BIMI, "NM-03", "default._bimi.example.com.",
		     NULL);
	/* an empty apex: the whole owner is relative */
	expect_owner("example.com.", "", ZW_ROLE_DMARC, "NM-03", "_dmarc.example.com.", NULL);
	expect_owner("_dmarc.example.com.", ".", ZW_ROLE_SPF, "NM-03", "example.com.", NULL);
	expect_owner("_dmarc.", ".", ZW_ROLE_SPF, "NM-03", ".", NULL);
}

static void nm04_underscore_lost(void **state)
{
	(void)state;
	expect_owner("dmarc.example.com.", "example.com.", ZW_ROLE_DMARC, "NM-04", "_dmarc.example.com.",
		     "the label 'dmarc' lost or changed its underscore");
	expect_owner("-DMARC.Example.com", "example.com", ZW_ROLE_DMARC, "NM-04", "_dmarc.example.com.",
		     NULL);
	expect_owner("s1.domainkey.example.com.", "example.com.", ZW_ROLE_DKIM, "NM-04",
		     "s1._domainkey.example.com.", "'domainkey'");
	expect_owner("s1._domain_key.example.com.", "example.com.", ZW_ROLE_DKIM, "NM-04",
		     "s1._domainkey.example.com.", NULL);
	expect_owner("domainkey.example.com.", "example.com.", ZW_ROLE_DKIM, "NM-04",
		     "<selector>._domainkey.example.com.", NULL);
	expect_owner("_mta_sts.example.com.", "example.com.", ZW_ROLE_STS, "NM-04", "_mta-sts.example.com.",
		     NULL);
	expect_owner("smtp._tls.example.com.", "example.com.", ZW_ROLE_TLSRPT, "NM-04",
		     "_smtp._tls.example.com.", "'smtp._tls'");
	expect_owner("_smtp_tls.example.com.", "example.com.", ZW_ROLE_TLSRPT, "NM-04",
		     "_smtp._tls.example.com.", NULL);
	expect_owner("default.bimi.example.com.", "example.com.", ZW_ROLE_BIMI, "NM-04",
		     "default._bimi.example.com.", NULL);
	expect_owner("example.com.report._dmarc.vendor.example.", "vendor.example.", ZW_ROLE_DMARC_REPORT,
		     "NM-04", "example.com._report._dmarc.vendor.example.", NULL);
}

static void bi02_no_selector(void **state)
{
	(void)state;
	expect_owner("_bimi.example.com.", "example.com.", ZW_ROLE_BIMI, "BI-02",
		     "default._bimi.example.com.", "has no selector");
}

static void owners_that_are_right(void **state)
{
	(void)state;
	expect_owner("_dmarc.example.com.", "example.com.", ZW_ROLE_DMARC, NULL, NULL, NULL);
	expect_owner("_DMARC.EXAMPLE.COM", "example.com.", ZW_ROLE_DMARC, NULL, NULL, NULL);
	expect_owner("_dmarc.mail.example.com.", "example.com.", ZW_ROLE_DMARC, NULL, NULL, NULL);
	expect_owner("s1._domainkey.example.com.", "example.com.", ZW_ROLE_DKIM, NULL, NULL, NULL);
	expect_owner("a.b._domainkey.example.com.", "example.com.", ZW_ROLE_DKIM, NULL, NULL, NULL);
	expect_owner("_mta-sts.example.com.", "example.com.", ZW_ROLE_STS, NULL, NULL, NULL);
	expect_owner("_smtp._tls.example.com.", "example.com.", ZW_ROLE_TLSRPT, NULL, NULL, NULL);
	expect_owner("default._bimi.example.com.", "example.com.", ZW_ROLE_BIMI, NULL, NULL, NULL);
	expect_owner("example.com._report._dmarc.vendor.example.", "vendor.example.", ZW_ROLE_DMARC_REPORT,
		     NULL, NULL, NULL);
	expect_owner("example.com.", "example.com.", ZW_ROLE_SPF, NULL, NULL, NULL);
	expect_owner("_spf.example.com.", "example.com.", ZW_ROLE_SPF, NULL, NULL, NULL);
	expect_owner("mail.example.com.", "example.com.", ZW_ROLE_SPF, NULL, NULL, NULL);
	/* roles without a fixed owner */
	expect_owner("dmarc.example.com.", "example.com.", ZW_ROLE_NONE, NULL, NULL, NULL);
	expect_owner("x.example.com.", "example.com.", ZW_ROLE_VERIFICATION, NULL, NULL, NULL);
	/* dmarc as an ordinary label further left is not a lost underscore */
	expect_owner("dmarc.www.example.com.", "example.com.", ZW_ROLE_DMARC, "NM-04",
		     "_dmarc.www.example.com.", NULL);
	expect_owner("www.dmarc.example.com.", "example.com.", ZW_ROLE_DMARC, "NM-03",
		     "_dmarc.www.dmarc.example.com.", NULL);
}

static void owner_errors(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	assert_int_equal(zw_role_check_owner(&fs, "_dmarc.example.net.", "example.com.", ZW_ROLE_DMARC, &err),
			 ZW_EINVAL);
	assert_string_equal(err.msg, "owner _dmarc.example.net. is not in the zone example.com.");
	zw_error_clear(&err);
	assert_int_equal(zw_role_check_owner(&fs, "xexample.com", "example.com", ZW_ROLE_DMARC, &err),
			 ZW_EINVAL);
	assert_int_equal(fs.n, 0);
}

static int alloc_body(void)
{
	struct zw_findings fs = {0};
	int rc = zw_role_check_owner(&fs, "s1.domainkey.example.com.", "example.com.", ZW_ROLE_DKIM, NULL);
	if (!rc)
		rc = zw_role_check_owner(&fs, "example.com.", "example.com.", ZW_ROLE_DMARC, NULL);
	if (!rc)
		rc = zw_role_check_owner(&fs, "_bimi.example.com.", "example.com.", ZW_ROLE_BIMI, NULL);
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
		cmocka_unit_test(exact_selection_rules),
		cmocka_unit_test(near_recognition),
		cmocka_unit_test(not_a_role),
		cmocka_unit_test(broken_versions_are_near),
		cmocka_unit_test(info_table),
		cmocka_unit_test(reserved_owners),
		cmocka_unit_test(nm03_wrong_owner),
		cmocka_unit_test(nm04_underscore_lost),
		cmocka_unit_test(bi02_no_selector),
		cmocka_unit_test(owners_that_are_right),
		cmocka_unit_test(owner_errors),
		cmocka_unit_test(survives_allocation_failures),
	};
	return cmocka_run_group_tests_name("role", tests, NULL, NULL);
}
