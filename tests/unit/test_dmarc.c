/*
 * test_dmarc.c - unit tests of reconcile/dmarc.c: discovery selection, the dmarcbis
 * §4.8 grammar, each tag's rules, the policy receivers apply, the optional checks
 * (DM-12, DM-18, DM-19), the external destination helpers, and survival of every
 * allocation failure.
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/buf.h"
#include "reconcile/dmarc.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"

static const char *ids(const struct zw_findings *fs)
{
	static char s[512];
	s[0] = '\0';
	for (size_t i = 0; i < fs->n; i++) {
		if (i)
			strncat(s, ",", sizeof(s) - strlen(s) - 1);
		strncat(s, fs->v[i].cls->id, sizeof(s) - strlen(s) - 1);
	}
	return s;
}

static int parse(struct zw_dmarc **d, const char *rec, struct zw_findings *fs)
{
	struct zw_error err = {0};
	return zw_dmarc_parse(d, rec, strlen(rec), fs, &err);
}

static void discovery(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		int is;
	} cases[] = {
		{"v=DMARC1", 1},
		{"v=DMARC1;", 1},
		{"v=DMARC1; p=none", 1},
		{"v = DMARC1 ; p=none", 1},
		{"v=\tDMARC1\t", 1},
		{"V=DMARC1; p=none", 1},
		{"v=dmarc1; p=none", 0},
		{"v=DMARC 1; p=none", 0},
		{"v=DMARC10; p=none", 0},
		{"v=DMARC1 p=none", 0},
		{"v=DMARC1p=none", 0},
		{" v=DMARC1; p=none", 0},
		{"p=reject; v=DMARC1", 0},
		{"vv=DMARC1", 0},
		{"v:DMARC1", 0},
		{"v=DMARC", 0},
		{"v=", 0},
		{"", 0},
		{"v=spf1 -all", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (zw_dmarc_is_record(cases[i].rec, strlen(cases[i].rec)) != cases[i].is)
			fail_msg("case %zu '%s': want %d", i, cases[i].rec, cases[i].is);
}

static void full_record(void **state)
{
	(void)state;
	const char *rec = "v=DMARC1; p=Reject; sp=quarantine; np=reject; adkim=s; aspf=S; "
			  "fo=1:d; rua=mailto:dmarc@Example.com,https://reports.example.net:8443/x?y=1 ; "
			  "ruf = mailto:forensic@ruf.example.org ; psd=n; t=n;";
	struct zw_findings fs = {0};
	struct zw_dmarc *d = NULL;
	assert_int_equal(parse(&d, rec, &fs), 0);
	assert_string_equal(ids(&fs), "");
	assert_int_equal(d->ntags, 11);
	assert_string_equal(d->tags[0].name, "v");
	assert_string_equal(d->tags[0].value, "DMARC1");
	assert_string_equal(d->tags[1].value, "Reject");
	assert_int_equal(d->tags[1].offset, 10);
	assert_int_equal(d->p, ZW_DMARC_REJECT);
	assert_int_equal(d->sp, ZW_DMARC_QUARANTINE);
	assert_int_equal(d->np, ZW_DMARC_REJECT);
	assert_int_equal(d->adkim, ZW_DMARC_STRICT);
	assert_int_equal(d->aspf, ZW_DMARC_STRICT);
	assert_string_equal(d->fo, "1:d");
	assert_int_equal(d->psd, ZW_DMARC_PSD_N);
	assert_false(d->testing);
	assert_int_equal(d->pct, -1);
	assert_int_equal(d->nrua, 2);
	assert_int_equal(d->valid_rua, 2);
	assert_string_equal(d->rua[0].text, "mailto:dmarc@Example.com");
	assert_string_equal(d->rua[0].scheme, "mailto");
	assert_string_equal(d->rua[0].address, "dmarc@Example.com");
	assert_string_equal(d->rua[0].host, "example.com");
	assert_int_equal(d->rua[0].offset, 75);
	assert_string_equal(d->rua[1].scheme, "https");
	assert_null(d->rua[1].address);
	assert_string_equal(d->rua[1].host, "reports.example.net");
	assert_int_equal(d->nruf, 1);
	assert_string_equal(d->ruf[0].host, "ruf.example.org");
	assert_string_equal(zw_dmarc_tag(d, "ruf"), "mailto:forensic@ruf.example.org");
	assert_null(zw_dmarc_tag(d, "pct"));
	assert_true(d->applies);
	assert_int_equal(d->pol_p, ZW_DMARC_REJECT);
	assert_int_equal(d->pol_sp, ZW_DMARC_QUARANTINE);
	assert_int_equal(d->pol_np, ZW_DMARC_REJECT);
	assert_int_equal(d->eff_p, ZW_DMARC_REJECT);
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_dmarc_print(&b, d), 0);
	assert_string_equal(zw_buf_str(&b), rec);
	zw_buf_reset(&b);
	assert_int_equal(zw_dmarc_print_canonical(&b, d), 0);
	assert_string_equal(zw_buf_str(&b),
			    "v=DMARC1; p=Reject; sp=quarantine; np=reject; adkim=s; aspf=S; fo=1:d; "
			    "rua=mailto:dmarc@Example.com,https://reports.example.net:8443/x?y=1; "
			    "ruf=mailto:forensic@ruf.example.org; psd=n; t=n");
	zw_buf_free(&b);
	zw_dmarc_free(d);
	zw_findings_free(&fs);

	/* The smallest policy record and its defaults. */
	assert_int_equal(parse(&d, "v=DMARC1; p=quarantine", &fs), 0);
	assert_string_equal(ids(&fs), "");
	assert_int_equal(d->sp, ZW_DMARC_UNSET);
	assert_int_equal(d->pol_sp, ZW_DMARC_QUARANTINE);
	assert_int_equal(d->pol_np, ZW_DMARC_QUARANTINE);
	assert_int_equal(d->adkim, ZW_DMARC_RELAXED);
	assert_int_equal(d->psd, ZW_DMARC_PSD_U);
	assert_null(d->fo);
	zw_dmarc_free(d);
	zw_findings_free(&fs);
}

static void version_faults(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		long offset;
		const char *msg;
	} cases[] = {
		{"p=reject; v=DMARC1", 0,
		 "the record begins with 'p=reject', not v=DMARC1: v must be the first tag or "
		 "receivers ignore the record (RFC 9989 §4.7); move v=DMARC1 to the front"},
		{"v=dmarc1; p=reject", 2,
		 "v=dmarc1: the version is case-sensitive and must be DMARC1, or receivers ignore "
		 "the record (RFC 9989 §4.7, §4.8)"},
		{"v=DMARC 1; p=reject", 2,
		 "v=DMARC 1 is not DMARC1: receivers ignore the record (RFC 9989 §4.7, §4.8)"},
		{" v=DMARC1; p=none", 0,
		 "the record begins with whitespace: it must begin with v=DMARC1, or receivers "
		 "ignore it (RFC 9989 §4.7, §4.8)"},
		{"v=DMARC1 p=none", 8,
		 "';' is missing after v=DMARC1 at offset 8: the version reads 'DMARC1 p=none' and "
		 "receivers ignore the record (RFC 9989 §4.8)"},
		{"", 0, "the record is empty: it must begin with v=DMARC1 (RFC 9989 §4.7)"},
		{"v=DMARC1\357\274\233 p=reject", 2, NULL},
		{"v=DMARC1; p=none\0", 16, "the record holds a nul byte at offset 16, which no DMARC "
		 "value allows (RFC 9989 §4.8)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_error err = {0};
		struct zw_dmarc *d = (struct zw_dmarc *)&fs;
		size_t len = strlen(cases[i].rec) + (i == 7);
		int rc = zw_dmarc_parse(&d, cases[i].rec, len, &fs, &err);
		if (rc != ZW_EINVAL || strcmp(ids(&fs), "DM-03") != 0)
			fail_msg("case %zu: rc %d ids '%s'", i, rc, ids(&fs));
		assert_null(d);
		assert_int_equal(err.code, ZW_EINVAL);
		assert_int_equal(fs.v[0].offset, cases[i].offset);
		if (cases[i].msg) {
			assert_string_equal(fs.v[0].message, cases[i].msg);
			assert_string_equal(err.msg, cases[i].msg);
		}
		zw_findings_free(&fs);
	}
}

static void policies(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		const char *ids;
		int applies;
		enum zw_dmarc_policy p, sp, np, eff_p, eff_sp;
	} cases[] = {
		/* DM-04 with a valid rua URI: acts as p=none */
		{"v=DMARC1; p=rejected; rua=mailto:d@example.com", "DM-04", 1, ZW_DMARC_NONE,
		 ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE},
		/* without one: no DMARC processing */
		{"v=DMARC1; p=rejected", "DM-04", 0, ZW_DMARC_UNSET, ZW_DMARC_UNSET, ZW_DMARC_UNSET,
		 ZW_DMARC_UNSET, ZW_DMARC_UNSET},
		{"v=DMARC1; p=rejected; rua=d@example.com", "DM-06,DM-04", 0, ZW_DMARC_UNSET,
		 ZW_DMARC_UNSET, ZW_DMARC_UNSET, ZW_DMARC_UNSET, ZW_DMARC_UNSET},
		/* a bad sp or np counts too (§4.10.1) */
		{"v=DMARC1; p=reject; sp=foo", "DM-04", 0, ZW_DMARC_UNSET, ZW_DMARC_UNSET,
		 ZW_DMARC_UNSET, ZW_DMARC_UNSET, ZW_DMARC_UNSET},
		{"v=DMARC1; p=reject; np=foo; rua=mailto:a@b.example", "DM-04", 1, ZW_DMARC_NONE,
		 ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE},
		/* an empty value is no tag (1*dmarc-value): ignored, the default applies */
		{"v=DMARC1; p=reject; np=", "DM-04", 1, ZW_DMARC_REJECT, ZW_DMARC_REJECT,
		 ZW_DMARC_REJECT, ZW_DMARC_REJECT, ZW_DMARC_REJECT},
		{"v=DMARC1; p=; sp=quarantine", "DM-04", 1, ZW_DMARC_NONE, ZW_DMARC_QUARANTINE,
		 ZW_DMARC_QUARANTINE, ZW_DMARC_NONE, ZW_DMARC_QUARANTINE},
		/* missing p is none (RFC 9989) */
		{"v=DMARC1; rua=mailto:d@example.com", "DM-05", 1, ZW_DMARC_NONE, ZW_DMARC_NONE,
		 ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE},
		{"v=DMARC1", "DM-05", 1, ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE,
		 ZW_DMARC_NONE},
		{"v=DMARC1; sp=reject", "DM-05", 1, ZW_DMARC_NONE, ZW_DMARC_REJECT, ZW_DMARC_REJECT,
		 ZW_DMARC_NONE, ZW_DMARC_REJECT},
		/* p not second */
		{"v=DMARC1; adkim=s; p=reject", "DM-05", 1, ZW_DMARC_REJECT, ZW_DMARC_REJECT,
		 ZW_DMARC_REJECT, ZW_DMARC_REJECT, ZW_DMARC_REJECT},
		/* np defaults to sp, then p */
		{"v=DMARC1; p=reject; sp=none", "", 1, ZW_DMARC_REJECT, ZW_DMARC_NONE, ZW_DMARC_NONE,
		 ZW_DMARC_REJECT, ZW_DMARC_NONE},
		{"v=DMARC1; p=none; np=REJECT", "", 1, ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_REJECT,
		 ZW_DMARC_NONE, ZW_DMARC_NONE},
		/* t=y: one level lower */
		{"v=DMARC1; p=reject; sp=quarantine; t=y", "DM-13", 1, ZW_DMARC_REJECT,
		 ZW_DMARC_QUARANTINE, ZW_DMARC_QUARANTINE, ZW_DMARC_QUARANTINE, ZW_DMARC_NONE},
		{"v=DMARC1; p=none; t=Y", "DM-13", 1, ZW_DMARC_NONE, ZW_DMARC_NONE, ZW_DMARC_NONE,
		 ZW_DMARC_NONE, ZW_DMARC_NONE},
		{"v=DMARC1; p=reject; t=yes", "DM-09", 1, ZW_DMARC_REJECT, ZW_DMARC_REJECT,
		 ZW_DMARC_REJECT, ZW_DMARC_REJECT, ZW_DMARC_REJECT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_dmarc *d = NULL;
		int rc = parse(&d, cases[i].rec, &fs);
		if (rc != 0 || strcmp(ids(&fs), cases[i].ids) != 0)
			fail_msg("case %zu: rc %d ids '%s'", i, rc, ids(&fs));
		if (d->applies != cases[i].applies || d->pol_p != cases[i].p ||
		    d->pol_sp != cases[i].sp || d->pol_np != cases[i].np ||
		    d->eff_p != cases[i].eff_p || d->eff_sp != cases[i].eff_sp)
			fail_msg("case %zu: applies %d p %s sp %s np %s eff %s/%s", i, d->applies,
				 zw_dmarc_policy_name(d->pol_p), zw_dmarc_policy_name(d->pol_sp),
				 zw_dmarc_policy_name(d->pol_np), zw_dmarc_policy_name(d->eff_p),
				 zw_dmarc_policy_name(d->eff_sp));
		zw_dmarc_free(d);
		zw_findings_free(&fs);
	}
	struct zw_findings fs = {0};
	struct zw_dmarc *d = NULL;
	assert_int_equal(parse(&d, "v=DMARC1; p=rejected; rua=mailto:d@example.com", &fs), 0);
	assert_int_equal(d->p, ZW_DMARC_INVALID);
	assert_int_equal(fs.v[0].offset, 12);
	assert_int_equal(fs.v[0].sev, ZW_SEV_ERROR);
	assert_string_equal(fs.v[0].message,
			    "invalid p value 'rejected' (RFC 9989 §4.7: none, quarantine or reject; did "
			    "you mean 'reject'?): rua holds a valid URI, so receivers act as if p=none "
			    "(RFC 9989 §4.10.1; RFC 7489 §6.6.3)");
	assert_string_equal(fs.v[0].fix, "set p=reject");
	zw_dmarc_free(d);
	zw_findings_free(&fs);

	assert_int_equal(parse(&d, "v=DMARC1; p=reject; sp=", &fs), 0);
	assert_int_equal(d->sp, ZW_DMARC_UNSET);
	assert_int_equal(fs.v[0].offset, 23);
	assert_string_equal(fs.v[0].message, "sp= has no value, so it is not a valid tag and "
			    "receivers ignore it (RFC 9989 §4.8): the default applies, sp follows p");
	zw_dmarc_free(d);
	zw_findings_free(&fs);

	assert_int_equal(parse(&d, "v=DMARC1; rua=mailto:d@example.com", &fs), 0);
	assert_int_equal(fs.v[0].sev, ZW_SEV_WARNING);
	assert_string_equal(fs.v[0].message,
			    "a missing p tag is equivalent to p=none in RFC 9989, but a p tag is "
			    "required in older versions of DMARC (RFC 9989 §4.7; RFC 7489 §6.3)");
	zw_dmarc_free(d);
	zw_findings_free(&fs);
}

static void uris(void **state)
{
	(void)state;
	static const struct {
		const char *rua;
		const char *ids;
		size_t valid;
		const char *msg; /* of the first finding */
	} cases[] = {
		{"dmarc@example.com", "DM-06", 0,
		 "dmarc@example.com is not a valid DMARC report URI - please make sure that the URI "
		 "begins with a schema such as mailto: (rua=, RFC 9989 §4.8)"},
		{"mailto:a@example.com mailto:b@example.com", "DM-06", 0,
		 "mailto:a@example.com mailto:b@example.com is not a valid DMARC report URI: it "
		 "contains whitespace; separate URIs with ',' (dmarc-urilist) (rua=, RFC 9989 §4.8)"},
		{"mailto:a@example.com , mailto:b@example.com", "", 2, NULL},
		{"mailto:a@example.com!10m", "DM-17", 1,
		 "the size limit in mailto:a@example.com!10m is obsolete syntax (obs-dmarc-uri, "
		 "RFC 9989 §4.8)"},
		{"mailto:a@example.com!10x", "DM-06", 0,
		 "mailto:a@example.com!10x is not a valid DMARC report URI: the size suffix after '!' "
		 "must be digits and an optional k, m, g or t (rua=, RFC 9989 §4.8)"},
		{"mailto:a@x.example,mailto:b@x.example,mailto:c@x.example", "DM-17", 3,
		 "rua= lists 3 URIs: some DMARC reporters might not send to more than two (RFC 9989 "
		 "§4.7 requires receivers to support only two)"},
		{"mailto:", "DM-06", 0, NULL},
		{"mailto:dmarc", "DM-06", 0, NULL},
		{"mailto:@example.com", "DM-06", 0, NULL},
		{"mailto:a@exa mple.com", "DM-06", 0, NULL},
		{"mailto:a@example.com%2", "DM-06", 0, NULL},
		{"mailto:a%40b@example.com", "", 1, NULL},
		{"mailto:a@example.com?subject=dmarc", "", 1, NULL},
		{"mailto:a@example.com,", "DM-06", 1, NULL},
		{"", "DM-06", 0, "rua= is empty: receivers send no aggregate reports (RFC 9989 §4.7, §4.8)"},
		{"http://", "DM-06", 0, NULL},
		{"https://[2001:db8::1]/r", "", 1, NULL},
		{"ftp://reports.example.com/", "", 1, NULL},
		{"1mailto:a@example.com", "DM-06", 0, NULL},
		{"mailto:a@example.com#x#y", "DM-06", 0, NULL},
		{"mailto:a@ex\"ample.com", "DM-06", 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rec[256];
		snprintf(rec, sizeof(rec), "v=DMARC1; p=reject; rua=%s", cases[i].rua);
		struct zw_findings fs = {0};
		struct zw_dmarc *d = NULL;
		int rc = parse(&d, rec, &fs);
		if (rc != 0 || strcmp(ids(&fs), cases[i].ids) != 0 || d->valid_rua != cases[i].valid)
			fail_msg("case %zu: rc %d ids '%s' valid %zu", i, rc, ids(&fs),
				 d ? d->valid_rua : 0);
		if (cases[i].msg)
			assert_string_equal(fs.v[0].message, cases[i].msg);
		zw_dmarc_free(d);
		zw_findings_free(&fs);
	}
	struct zw_findings fs = {0};
	struct zw_dmarc *d = NULL;
	assert_int_equal(parse(&d, "v=DMARC1; p=none; rua=mailto:a@example.com!10m,"
			       "mailto:b@example.com!2048; ruf=dmarc@example.com", &fs), 0);
	assert_string_equal(ids(&fs), "DM-17,DM-17,DM-06");
	assert_true(d->rua[0].has_size);
	assert_int_equal(d->rua[0].max_bytes, 10ull << 20);
	assert_int_equal(d->rua[1].max_bytes, 2048);
	assert_string_equal(d->rua[0].host, "example.com");
	assert_int_equal(d->rua[1].offset, 47);
	assert_false(d->ruf[0].valid);
	assert_null(d->ruf[0].scheme);
	assert_string_equal(fs.v[2].fix, "write mailto:dmarc@example.com");
	assert_int_equal(fs.v[2].sev, ZW_SEV_WARNING);
	zw_dmarc_free(d);
	zw_findings_free(&fs);
}

static void tags(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		const char *ids;
		enum zw_severity sev; /* of the first finding */
		const char *msg;
	} cases[] = {
		{"v=DMARC1; p=reject; rau=mailto:d@example.com; adkim=strict", "DM-09,DM-09",
		 ZW_SEV_WARNING,
		 "unknown tag 'rau' at offset 20: receivers ignore it (RFC 9989 §4.7): did you mean "
		 "'rua'?"},
		{"v=DMARC1; p=reject; adkim=strict", "DM-09", ZW_SEV_WARNING,
		 "invalid adkim value 'strict' (allowed: r, s): receivers fall back to the default, "
		 "relaxed alignment (r) (RFC 9989 §4.7, §4.8)"},
		{"v=DMARC1; p=reject; xyz=bar", "DM-09", ZW_SEV_WARNING,
		 "unknown tag 'xyz' at offset 20: receivers ignore it (RFC 9989 §4.7)"},
		{"v=DMARC1; p=reject; foo=bar", "DM-09", ZW_SEV_WARNING,
		 "unknown tag 'foo' at offset 20: receivers ignore it (RFC 9989 §4.7): did you mean "
		 "'fo'?"},
		{"v=DMARC1; p=reject; psd=x", "DM-09", ZW_SEV_WARNING, NULL},
		{"v=DMARC1; p=reject; aspf=", "DM-09", ZW_SEV_WARNING, NULL},
		{"V=DMARC1; P=reject", "DM-09,DM-09", ZW_SEV_NOTICE,
		 "tag name 'V' at offset 0 is not lower case: read as 'v', but RFC 7489 §6.3 inherits "
		 "case-sensitive tag names (RFC 6376 §3.2), so some receivers ignore it"},
		{"v=DMARC1;;p=none", "DM-09", ZW_SEV_WARNING,
		 "empty tag at offset 9 (two ';' in a row): not in the grammar, receivers may ignore "
		 "it (RFC 9989 §4.8)"},
		{"v=DMARC1; p reject", "DM-09,DM-05", ZW_SEV_WARNING,
		 "malformed tag 'p reject' at offset 10: a tag is letters, '=' and a value, so "
		 "receivers ignore it (RFC 9989 §4.8)"},
		{"v=DMARC1; p=reject; r-ua=x", "DM-09", ZW_SEV_WARNING, NULL},
		{"v=DMARC1; p=quarantine; pct=10", "DM-11", ZW_SEV_NOTICE,
		 "support for the pct tag was removed in RFC 9989 (§4.7), while RFC 7489 receivers "
		 "still honour it; RFC 7489 receivers apply the policy to only 10% of failing mail, "
		 "RFC 9989 receivers to all of it"},
		{"v=DMARC1; p=quarantine; pct=abc", "DM-11", ZW_SEV_NOTICE,
		 "support for the pct tag was removed in RFC 9989 (§4.7), while RFC 7489 receivers "
		 "still honour it; 'abc' is not a number from 0 to 100"},
		{"v=DMARC1; p=reject; pct=100; rf=afrf; ri=86400", "DM-11,DM-11,DM-11", ZW_SEV_NOTICE,
		 "support for the pct tag was removed in RFC 9989 (§4.7), while RFC 7489 receivers "
		 "still honour it"},
		{"v=DMARC1; p=none; fo=1", "DM-16", ZW_SEV_NOTICE,
		 "fo= is ignored without ruf= (RFC 9989 §4.7)"},
		{"v=DMARC1; p=none; fo=2; ruf=mailto:x@example.com", "DM-16", ZW_SEV_ERROR,
		 "invalid fo value '2': allowed are 0, 1, d and s joined by ':', so receivers use the "
		 "default fo=0 (RFC 9989 §4.7, §4.8 dmarc-fo)"},
		{"v=DMARC1; p=none; fo=2", "DM-16,DM-16", ZW_SEV_ERROR, NULL},
		{"v=DMARC1; p=reject; psd=y", "", ZW_SEV_INFO, NULL},
		{"v=DMARC1; p=reject; p=none", "DM-10", ZW_SEV_ERROR, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_dmarc *d = NULL;
		int rc = parse(&d, cases[i].rec, &fs);
		int want = strstr(cases[i].ids, "DM-10") ? ZW_EINVAL : 0;
		if (rc != want || strcmp(ids(&fs), cases[i].ids) != 0)
			fail_msg("case %zu: rc %d ids '%s'", i, rc, ids(&fs));
		if (fs.n)
			assert_int_equal(fs.v[0].sev, cases[i].sev);
		if (cases[i].msg)
			assert_string_equal(fs.v[0].message, cases[i].msg);
		zw_dmarc_free(d);
		zw_findings_free(&fs);
	}
}

static void fo_grammar(void **state)
{
	(void)state;
	static const struct {
		const char *fo;
		int valid;
	} cases[] = {
		{"0", 1}, {"1", 1}, {"d", 1}, {"s", 1}, {"D", 1}, {"1:d", 1}, {"1:d:s", 1},
		{"0:s:d:s", 1}, {"d:1", 1}, {"d:1:s", 1}, {"d:s", 1}, {"d:s:1", 1}, {"s:d:0", 1},
		{"0:1", 0}, {"1:0", 0}, {"2", 0}, {"1 : d", 0}, {"1:", 0}, {":1", 0}, {"1d", 0},
		{"d:s:d:s", 0}, {"d:1:s:d", 0}, {"", 0}, {"x", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rec[128];
		snprintf(rec, sizeof(rec), "v=DMARC1; p=none; fo=%s; ruf=mailto:f@example.com",
			 cases[i].fo);
		struct zw_findings fs = {0};
		struct zw_dmarc *d = NULL;
		assert_int_equal(parse(&d, rec, &fs), 0);
		if ((d->fo != NULL) != cases[i].valid || zw_findings_has(&fs, 0, "DM-16") == cases[i].valid)
			fail_msg("fo=%s: want valid=%d", cases[i].fo, cases[i].valid);
		zw_dmarc_free(d);
		zw_findings_free(&fs);
	}
}

static void optional_checks(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		const char *weak, *parked, *psd;
	} cases[] = {
		{"v=DMARC1; p=reject", "", "", ""},
		{"v=DMARC1; p=none", "DM-12", "DM-18", ""},
		{"v=DMARC1; p=reject; sp=none", "DM-12", "DM-18", ""},
		{"v=DMARC1; p=quarantine; sp=reject; np=none", "DM-12", "DM-18,DM-18", ""},
		{"v=DMARC1; p=reject; sp=quarantine", "", "DM-18", ""},
		{"v=DMARC1; p=reject; psd=y", "", "", "DM-19"},
		{"v=DMARC1; p=rejected", "", "DM-18", ""},
		{"v=DMARC1; rua=mailto:a@example.com", "DM-12", "DM-18", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0}, weak = {0}, parked = {0}, psd = {0}, none = {0};
		struct zw_dmarc *d = NULL;
		assert_int_equal(parse(&d, cases[i].rec, &fs), 0);
		assert_int_equal(zw_dmarc_check_weak(d, &weak), 0);
		assert_int_equal(zw_dmarc_check_parked(d, 1, &parked), 0);
		assert_int_equal(zw_dmarc_check_parked(d, 0, &none), 0);
		assert_int_equal(zw_dmarc_check_psd(d, 0, &psd), 0);
		assert_int_equal(zw_dmarc_check_psd(d, 1, &none), 0);
		if (strcmp(ids(&weak), cases[i].weak) || strcmp(ids(&parked), cases[i].parked) ||
		    strcmp(ids(&psd), cases[i].psd) || none.n)
			fail_msg("case %zu: weak '%s' parked '%s'", i, ids(&weak), ids(&parked));
		zw_dmarc_free(d);
		zw_findings_free(&fs);
		zw_findings_free(&weak);
		zw_findings_free(&parked);
		zw_findings_free(&psd);
	}
	struct zw_findings fs = {0};
	struct zw_dmarc *d = NULL;
	assert_int_equal(parse(&d, "v=DMARC1; p=reject; sp=none", &fs), 0);
	assert_int_equal(zw_dmarc_check_weak(d, &fs), 0);
	assert_int_equal(fs.v[0].sev, ZW_SEV_WARNING);
	assert_string_equal(fs.v[0].message, "an sp tag value of none makes DMARC unenforced on "
			    "email sent as a subdomain, under p=reject (RFC 9989 §4.7)");
	assert_int_equal(zw_dmarc_check_parked(d, 1, &fs), 0);
	assert_int_equal(fs.v[1].sev, ZW_SEV_NOTICE);
	assert_string_equal(fs.v[1].message, "subdomain policy (sp=) should be reject for parked "
			    "domains (now none)");
	zw_dmarc_free(d);
	zw_findings_free(&fs);
}

static void auth_names(void **state)
{
	(void)state;
	struct zw_error err = {0};
	char *name = NULL, *wild = NULL;
	assert_int_equal(zw_dmarc_report_auth_names(&name, &wild, "Example.COM.",
						    "reports.vendor.example", &err), 0);
	assert_string_equal(name, "example.com._report._dmarc.reports.vendor.example");
	assert_string_equal(wild, "*._report._dmarc.reports.vendor.example");
	zw_free(name);
	zw_free(wild);
	assert_int_equal(zw_dmarc_report_auth_names(&name, NULL, "a.example", "b.example.", &err), 0);
	assert_string_equal(name, "a.example._report._dmarc.b.example");
	zw_free(name);

	assert_int_equal(zw_dmarc_report_auth_names(&name, &wild, "a..example", "b.example", &err),
			 ZW_EINVAL);
	assert_string_equal(err.msg, "'a..example' is not a domain name (empty label or label over "
			    "63 octets)");
	zw_error_clear(&err);
	assert_int_equal(zw_dmarc_report_auth_names(&name, &wild, "a.example", "b ex", &err), ZW_EINVAL);
	zw_error_clear(&err);
	char big[300];
	memset(big, 'a', sizeof(big));
	for (size_t i = 60; i < 240; i += 61)
		big[i] = '.';
	big[240] = '\0';
	assert_int_equal(zw_dmarc_report_auth_names(&name, &wild, "example.com", big, &err), ZW_EINVAL);
	assert_int_equal(err.code, ZW_EINVAL);
}

static int org_cb(void *ctx, const char *name, size_t *off)
{
	/* Everything under "corp.example" belongs to it; the rest: the whole name. */
	(void)ctx;
	const char *p = strstr(name, "corp.example");
	*off = p ? (size_t)(p - name) : 0;
	return strcmp(name, "fail.example") == 0 ? ZW_EINVAL : 0;
}

static void org_domains(void **state)
{
	(void)state;
	static const char *const psl[] = {"com", "uk", "co.uk", "example"};
	struct zw_dmarc_orgrule rule = {psl, 4, NULL, NULL};
	size_t off;
	assert_int_equal(zw_dmarc_orgdomain(&off, "mail.shop.example.co.uk", &rule), 0);
	assert_string_equal("mail.shop.example.co.uk" + off, "example.co.uk");
	assert_int_equal(zw_dmarc_orgdomain(&off, "co.uk", &rule), 0);
	assert_int_equal(off, 0);
	assert_int_equal(zw_dmarc_orgdomain(&off, "a.b.example.org.", NULL), 0);
	assert_string_equal("a.b.example.org." + off, "example.org.");
	assert_int_equal(zw_dmarc_same_orgdomain("a.example.co.uk", "B.Example.CO.UK.", &rule), 1);
	/* the last two labels would say yes; the list knows co.uk is a suffix */
	assert_int_equal(zw_dmarc_same_orgdomain("a.co.uk", "b.co.uk", &rule), 0);
	assert_int_equal(zw_dmarc_same_orgdomain("x.example.com", "example.com", &rule), 1);
	assert_int_equal(zw_dmarc_same_orgdomain("example.com", "example.net", &rule), 0);

	struct zw_dmarc_orgrule cb = {NULL, 0, org_cb, NULL};
	assert_int_equal(zw_dmarc_same_orgdomain("a.corp.example", "b.c.corp.example", &cb), 1);
	assert_int_equal(zw_dmarc_same_orgdomain("a.corp.example", "corp2.example", &cb), 0);
	assert_int_equal(zw_dmarc_same_orgdomain("a.corp.example", "fail.example", &cb), ZW_EINVAL);

	struct zw_findings fs = {0};
	struct zw_dmarc *d = NULL;
	assert_int_equal(parse(&d, "v=DMARC1; p=none; rua=mailto:a@dmarc.example.com,"
			       "mailto:b@reports.vendor.example,ftp://x.example.net/", &fs), 0);
	assert_int_equal(zw_dmarc_uri_is_external(&d->rua[0], "example.com", &rule), 0);
	assert_int_equal(zw_dmarc_uri_is_external(&d->rua[1], "example.com", &rule), 1);
	assert_int_equal(zw_dmarc_uri_is_external(&d->rua[2], "example.com", &rule), 0);
	zw_dmarc_free(d);
	zw_findings_free(&fs);
}

static int parse_body(const char *rec)
{
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dmarc *d = NULL;
	int rc = zw_dmarc_parse(&d, rec, strlen(rec), &fs, &err);
	if (rc == 0) {
		struct zw_buf b = ZW_BUF_INIT;
		rc = zw_dmarc_print_canonical(&b, d);
		if (!rc)
			rc = zw_dmarc_check_weak(d, &fs);
		if (!rc)
			rc = zw_dmarc_check_parked(d, 1, &fs);
		if (!rc)
			rc = zw_dmarc_check_psd(d, 0, &fs);
		zw_buf_free(&b);
	}
	zw_dmarc_free(d);
	zw_findings_free(&fs);
	return rc;
}

static int auth_body(void)
{
	struct zw_error err = {0};
	char *a = NULL, *w = NULL;
	int rc = zw_dmarc_report_auth_names(&a, &w, "example.com", "reports.example.net", &err);
	zw_free(a);
	zw_free(w);
	return rc;
}

static void allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body(
		"V=DMARC1; P=rejected; sp=none; np=bad; adkim=x; aspf=s; fo=2; rau=x; "
		"rua=mailto:a@example.com!10m,https://r.example.net/,x,mailto:b@c.example; "
		"ruf=; t=y; psd=y; pct=10; rf=afrf; ri=1;; junk"));
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body("v=DMARC1"));
	for (long i = 1; i < 40; i++) {
		zw_alloc_fail_at(i);
		int rc = parse_body("v=DMARC1; p=none; rua=mailto:a@b.example; p=reject");
		zw_alloc_fail_at(0);
		assert_true(rc == ZW_EINVAL || rc == ZW_ENOMEM);
	}
	ZW_FOR_EACH_ALLOC_FAILURE(auth_body());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discovery),
		cmocka_unit_test(full_record),
		cmocka_unit_test(version_faults),
		cmocka_unit_test(policies),
		cmocka_unit_test(uris),
		cmocka_unit_test(tags),
		cmocka_unit_test(fo_grammar),
		cmocka_unit_test(optional_checks),
		cmocka_unit_test(auth_names),
		cmocka_unit_test(org_domains),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests_name("dmarc", tests, NULL, NULL);
}
