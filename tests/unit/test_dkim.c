/*
 * test_dkim.c - unit tests of reconcile/dkim.c: the RFC 6376 §3.2 tag-list, the §3.6.1
 * key tags, the key checks (RFC 8301 sizes, RFC 8463 ed25519), the manifest key check,
 * fingerprints, and survival of every allocation failure.
 *
 * The keys below are public keys made with openssl genpkey; K512 is CATALOGUE DK-07's
 * example and ED_RFC is the key of RFC 8463 §A.2.
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/buf.h"
#include "reconcile/dkim.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"

#define K512 "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANtWa4M8tINJ2bo8t9FLVM+zoT/JT+0lzh/krJuIqKu8lsChDSrk0dvh3bT2/ByX348zfJrmxTP6ipPvZLsXez0CAwEAAQ=="
#define K1024 "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDPk2Hn20Iz2VqdIrc0dcv16SIWaMae/HL8sZbjsJQqOCP34sYPzKAtzOMlacrAUsFBzgBV8c6WxhteyQEAAyq0xia2/Q/NBUISHGlCDUOeSiYMn6Mv1uvr+opDoaYeqG3kIWSPTNqAfUAeZHT5MJGWldvp3FAAKI8LWamg3LHT3QIDAQAB"
#define K1024_PKCS1 "MIGJAoGBAM+TYefbQjPZWp0itzR1y/XpIhZoxp78cvyxluOwlCo4I/fixg/MoC3M4yVpysBSwUHOAFXxzpbGG17JAQADKrTGJrb9D80FQhIcaUINQ55KJgyfoy/W6+v6ikOhph6obeQhZI9M2oB9QB5kdPkwkZaV2+ncUAAojwtZqaDcsdPdAgMBAAE="
#define K1024_SHA "53d47e6b5300a1f02dc008a06a99f9dd02c3705ebdbfc1ae1ebe4da434797d52"
#define K2048 "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4KDnB6HvlvFqPhhgInoWS1SK/ML6+kIUG7qhD5iVNRwoGZn/SFuSmM1LQItVd9Lmgx2Hkl2qP1Itdd6pc2k+4PnFhA1DdWDGQLrNINl/PDvVUVHKnyMeRKD40QQd/1tYf0se3wf4idCo34Hb/f7hpj510Mt0+ZMwCL8yL0pdErXINTLBOcWqKauLvdiit7ouULmxwlqd1RXVPfTyV+MkiBPD6+06Kcu+8U7co+XQjfAguHso3qdGEORECHyXK/5eZ+ujHHwbLr0pmdnETMXEuMb8TxwV1QKepdnQQOZ7BSGBZRFwdCg0PqF5jkzW7dGy5tlnr4wbyNEQUKuxGXLqUwIDAQAB"
#define K2048_SHA "74f6473f61171fc61a529ab205a0b7cb965bd77397b7c805c20722c02bb50fa9"
#define ED_RAW "oedH0Zmnut4iIn2tj5eWy0GxFITkHheCiFaQ7SEovuY="
#define ED_SPKI "MCowBQYDK2VwAyEAoedH0Zmnut4iIn2tj5eWy0GxFITkHheCiFaQ7SEovuY="
#define ED_SHA "9aabd2072ef92921b029d4c2ac574db82a0a11067340edb35b7e8fc49a6ee5e2"
#define ED_RFC "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define EC_P256 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErDNs0HiunspLBlo+HPLLwxf3x4+auZz/J+ANWcMEj/OdkN5KYQ+D2/aBXmhyp3AT/XtB6Jh1bI3LlSuWEsAWtQ=="

/* The finding classes in fs, joined with ',' ("" when none). */
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

/* Parse a C string; returns rc, leaves the record in *d and findings in fs. */
static int parse(struct zw_dkim **d, const char *rec, struct zw_findings *fs)
{
	struct zw_error err = {0};
	return zw_dkim_parse(d, rec, strlen(rec), fs, &err);
}

static void valid_rsa_2048(void **state)
{
	(void)state;
	const char *rec = "v=DKIM1; k=rsa; p=" K2048;
	struct zw_findings fs = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, rec, &fs), 0);
	assert_string_equal(ids(&fs), "");
	assert_true(d->has_v);
	assert_string_equal(d->k, "rsa");
	assert_int_equal(d->keytype, ZW_DKIM_RSA);
	assert_int_equal(d->key.kind, ZW_DKIM_KEY_RSA_SPKI);
	assert_int_equal(d->key.bits, 2048);
	assert_int_equal(d->key.der_len, 294);
	assert_int_equal(d->hashes, ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256);
	assert_true(d->email);
	assert_int_equal(d->flags, 0);
	assert_false(d->revoked);
	assert_true(d->usable);
	assert_string_equal(d->p, K2048);
	assert_int_equal(d->ntags, 3);
	assert_string_equal(d->tags[1].name, "k");
	assert_int_equal(d->tags[1].offset, 9);
	assert_string_equal(zw_dkim_tag(d, "k"), "rsa");
	assert_null(zw_dkim_tag(d, "K"));
	char hex[65];
	assert_int_equal(zw_dkim_key_sha256(hex, &d->key), 0);
	assert_string_equal(hex, K2048_SHA);
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_dkim_print(&b, d), 0);
	assert_string_equal(zw_buf_str(&b), rec);
	zw_buf_free(&b);
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void tag_list_grammar(void **state)
{
	(void)state;
	/* FWS around names, '=' and values; CRLF folding inside p=; unknown tags; v absent;
	 * a final ';' followed by whitespace. */
	const char *rec = " k = rsa ;\tn=notes here; x_1=; p=" "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4KDnB6HvlvFqPhhgInoWS1SK/ML6+kIUG7qhD5iVNRwoGZn/SFuSmM1LQItVd9Lmgx2Hkl2qP1Itdd6pc2k+4PnFhA1DdWDGQLrNINl/PDvVUVHKnyMeRKD40QQd/1tYf0se3wf4idCo34Hb/f7hpj510Mt0+ZMwCL8yL0pdErXINTLBOcWqKa"
			  "\r\n uLvdiit7ouULmxwlqd1RXVPfTyV+MkiBPD6+06Kcu+8U7co+XQjfAguHso3qdGEORECHyXK/5eZ+ujHHwbLr0pmdnETMXEuMb8TxwV1QKepdnQQOZ7BSGBZRFwdCg0PqF5jkzW7dGy5tlnr4wbyNEQUKuxGXLqUwIDAQAB ; ";
	struct zw_findings fs = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, rec, &fs), 0);
	assert_string_equal(ids(&fs), "");
	assert_false(d->has_v);
	assert_int_equal(d->ntags, 4);
	assert_string_equal(d->tags[0].name, "k");
	assert_int_equal(d->tags[0].offset, 1);
	assert_string_equal(d->tags[0].value, "rsa");
	assert_string_equal(zw_dkim_tag(d, "n"), "notes here");
	assert_string_equal(zw_dkim_tag(d, "x_1"), ""); /* empty, not absent */
	assert_int_equal(d->key.bits, 2048);
	assert_true(d->usable);
	char hex[65];
	assert_int_equal(zw_dkim_key_sha256(hex, &d->key), 0);
	assert_string_equal(hex, K2048_SHA);
	zw_dkim_free(d);
	zw_findings_free(&fs);

	/* V is an unknown tag (names are case-sensitive), so v is absent and the record valid. */
	d = NULL;
	assert_int_equal(parse(&d, "V=DKIM1; k=rsa; p=" K2048, &fs), 0);
	assert_false(d->has_v);
	assert_true(d->usable);
	assert_string_equal(zw_dkim_tag(d, "V"), "DKIM1");
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void tag_list_faults(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		const char *ids;
		long offset; /* of the first finding */
		const char *msg;
	} cases[] = {
		{"v=DKIM1; p=" K1024 "; p=" K2048, "DK-03", 229,
		 "duplicate tag 'p' at offset 229 (first at 9): the whole tag-list is invalid "
		 "(RFC 6376 §3.2)"},
		{"v=DKIM1; k=rsa; pMIGfMA0G", "DK-03", 16,
		 "tag-spec 'pMIGfMA0G' at offset 16 has no '=' after the name (RFC 6376 §3.2)"},
		{"v=DKIM1;; p=" K2048, "DK-03", 8,
		 "empty tag-spec at offset 8: ';' must separate tags (RFC 6376 §3.2)"},
		{"v=DKIM1; 1p=x; p=" K2048, "DK-03", 9,
		 "tag name at offset 9 must begin with a letter, not '1' (RFC 6376 §3.2)"},
		{"v=DKIM1; p-x=1; p=" K2048, "DK-03", 9,
		 "tag-spec 'p-x=1' at offset 9 has no '=' after the name (RFC 6376 §3.2)"},
		{"v=DKIM1; n=caf\303\251; p=" K2048, "DK-03", 14,
		 "byte \\195 at offset 14 in tag 'n' is not allowed in a tag value (RFC 6376 §3.2 "
		 "VALCHAR)"},
		{"v=DKIM1; k=rsa", "DK-03", -1,
		 "the required tag p= is missing, so the record is not a key (RFC 6376 §3.6.1, §6.1.2)"},
		{"", "DK-03", -1,
		 "the required tag p= is missing, so the record is not a key (RFC 6376 §3.6.1, §6.1.2)"},
		{"k=rsa; v=DKIM1; p=" K2048, "DK-02", 7,
		 "v= at offset 7 is not the first tag: verifiers discard the record (RFC 6376 §3.6.1)"},
		{"v=DKIM1.0; k=rsa; p=" K2048, "DK-02", 2,
		 "v=DKIM1.0 is not DKIM1: the version is compared as a string and any other value "
		 "discards the record (RFC 6376 §3.6.1)"},
		{"v=dkim1; p=" K2048, "DK-02", 2, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_error err = {0};
		struct zw_dkim *d = (struct zw_dkim *)&fs; /* must be reset to NULL */
		int rc = zw_dkim_parse(&d, cases[i].rec, strlen(cases[i].rec), &fs, &err);
		if (rc != ZW_EINVAL || strcmp(ids(&fs), cases[i].ids) != 0)
			fail_msg("case %zu: rc %d ids '%s', want '%s'", i, rc, ids(&fs), cases[i].ids);
		assert_null(d);
		assert_int_equal(err.code, ZW_EINVAL);
		assert_int_equal(fs.v[0].offset, cases[i].offset);
		assert_int_equal(fs.v[0].sev, ZW_SEV_ERROR);
		if (cases[i].msg)
			assert_string_equal(fs.v[0].message, cases[i].msg);
		zw_findings_free(&fs);
	}
	/* A NUL byte inside the value. */
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(zw_dkim_parse(&d, "v=DKIM1; p=\0AAAA", 16, &fs, &err), ZW_EINVAL);
	assert_string_equal(ids(&fs), "DK-03");
	assert_int_equal(fs.v[0].offset, 11);
	assert_string_equal(err.msg, "dkim key record holds a nul byte");
	zw_findings_free(&fs);
}

static void revoked(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, "v=DKIM1; k=rsa; p=", &fs), 0);
	assert_true(d->revoked);
	assert_false(d->usable);
	assert_string_equal(d->p, "");
	assert_int_equal(d->key.kind, ZW_DKIM_KEY_NONE);
	assert_string_equal(ids(&fs), "DK-06");
	assert_int_equal(fs.v[0].sev, ZW_SEV_ERROR);
	assert_int_equal(fs.v[0].offset, 18);
	assert_string_equal(fs.v[0].message, "p= is empty: the key is revoked and every signature "
			    "with this selector fails (RFC 6376 §3.6.1, §6.1.2)");
	char hex[65];
	assert_int_equal(zw_dkim_key_sha256(hex, &d->key), ZW_ENOTFOUND);
	assert_string_equal(hex, "");
	zw_dkim_free(d);
	zw_findings_free(&fs);

	/* The manifest says revoked: the same finding, as INFO, with no fix. */
	assert_int_equal(zw_dkim_parse_flags(&d, "v=DKIM1; p= ", 12, ZW_DKIM_EXPECT_REVOKED, &fs,
					     &err), 0);
	assert_true(d->revoked);
	assert_string_equal(ids(&fs), "DK-06");
	assert_int_equal(fs.v[0].sev, ZW_SEV_INFO);
	assert_null(fs.v[0].fix);
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void base64_faults(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		const char *id;
		long offset;
		const char *msg;
	} cases[] = {
		{"v=DKIM1; p=MIGfMA0-GCSq", "DK-04", 18,
		 "p= is not valid base64: '-' at offset 18 is not in the base64 alphabet "
		 "(RFC 6376 §2.10; RFC 4648 §4)"},
		{"v=DKIM1; p=MIGf MA=A", "DK-04", 18,
		 "p= is not valid base64: '=' padding at offset 18 is misplaced; it may only end a "
		 "text whose length is a multiple of 4 (RFC 6376 §2.10; RFC 4648 §3.2)"},
		{"v=DKIM1; k=ed25519; p=lrB/8jWMhriT3NyCEX7DcLbC8aqocUZydb4EIf5+CiU", "DK-04", 22,
		 "p= is not valid base64: 43 characters is not a multiple of 4, is '=' padding "
		 "missing or the key cut? (RFC 6376 §2.10; RFC 4648 §3.2)"},
		{"v=DKIM1; p=MIGfMA0GCS=", "DK-04", 21, NULL},
		{"v=DKIM1; p=MIGfMA0GC=A=", "DK-04", 20, NULL},
		/* cut at a multiple of 4: decodes, but the DER is short */
		{"v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4KDnB6HvlvFqPhhgInoWS1SK",
		 "DK-05", 11,
		 "p= is cut short: its DER header announces 294 bytes but it holds only 51, so the "
		 "key does not parse (RFC 6376 §6.1.2)"},
		{"v=DKIM1; p=AAAAAAAA", "DK-05", 11,
		 "p= decodes to 6 bytes that are neither a SubjectPublicKeyInfo nor an RSAPublicKey, "
		 "so the key does not parse (RFC 6376 §3.6.1, §6.1.2)"},
		{"v=DKIM1; p=" K1024 "AAAA", "DK-05", 11,
		 "p= holds a key followed by 3 stray bytes (162 of 165 bytes used): not a DER key, so "
		 "verification fails (RFC 6376 §3.6.1, §6.1.2)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_dkim *d = NULL;
		int rc = parse(&d, cases[i].rec, &fs);
		if (rc != 0 || strcmp(ids(&fs), cases[i].id) != 0)
			fail_msg("case %zu: rc %d ids '%s'", i, rc, ids(&fs));
		assert_false(d->usable);
		assert_false(d->revoked);
		assert_int_equal(fs.v[0].offset, cases[i].offset);
		if (cases[i].msg)
			assert_string_equal(fs.v[0].message, cases[i].msg);
		zw_dkim_free(d);
		zw_findings_free(&fs);
	}
	/* The first 255 characters of a record with a 2048-bit key (one string, cut). */
	char rec[256];
	memcpy(rec, "v=DKIM1; k=rsa; p=" K2048, 255);
	rec[255] = '\0';
	struct zw_findings fs = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, rec, &fs), 0);
	assert_string_equal(ids(&fs), "DK-05");
	assert_int_equal(fs.v[0].offset, 18);
	assert_string_equal(fs.v[0].message,
			    "p= is cut short: 237 base64 characters, while its DER header announces a "
			    "294-byte key (about 392 characters), so the key does not parse (RFC 6376 "
			    "§6.1.2)");
	assert_false(d->usable);
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void key_sizes(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, "v=DKIM1; k=rsa; p=" K512, &fs), 0);
	assert_int_equal(d->key.bits, 512);
	assert_false(d->usable);
	assert_string_equal(ids(&fs), "DK-07");
	assert_int_equal(fs.v[0].sev, ZW_SEV_ERROR);
	assert_string_equal(fs.v[0].message, "rsa key of 512 bits: verifiers must not accept "
			    "signatures made with keys under 1024 bits (RFC 8301 §3.2)");
	assert_non_null(fs.v[0].fix);
	zw_dkim_free(d);
	zw_findings_free(&fs);

	assert_int_equal(parse(&d, "v=DKIM1; p=" K1024, &fs), 0);
	assert_int_equal(d->key.bits, 1024);
	assert_true(d->usable);
	assert_string_equal(ids(&fs), "DK-08");
	assert_int_equal(fs.v[0].sev, ZW_SEV_WARNING);
	zw_dkim_free(d);
	zw_findings_free(&fs);

	/* PKCS#1 is accepted with a NOTICE and hashes like its SPKI form. */
	assert_int_equal(parse(&d, "v=DKIM1; p=" K1024_PKCS1, &fs), 0);
	assert_int_equal(d->key.kind, ZW_DKIM_KEY_RSA_PKCS1);
	assert_int_equal(d->key.bits, 1024);
	assert_true(d->usable);
	assert_string_equal(ids(&fs), "DK-16,DK-08");
	assert_int_equal(fs.v[0].sev, ZW_SEV_NOTICE);
	char hex[65];
	assert_int_equal(zw_dkim_key_sha256(hex, &d->key), 0);
	assert_string_equal(hex, K1024_SHA);
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void key_types(void **state)
{
	(void)state;
	static const struct {
		const char *rec;
		const char *ids;
		enum zw_dkim_keytype kt;
		enum zw_dkim_keykind kind;
		int bits, usable;
		const char *msg;
	} cases[] = {
		{"v=DKIM1; k=ed25519; p=" ED_RAW, "", ZW_DKIM_ED25519, ZW_DKIM_KEY_ED25519, 256, 1, NULL},
		{"v=DKIM1; k=ed25519; p=" ED_RFC, "", ZW_DKIM_ED25519, ZW_DKIM_KEY_ED25519, 256, 1, NULL},
		{"v=DKIM1; k=rsa; p=lrB/8jWMhriT3NyCEX7DcLbC8aqocUZydb4EIf5+CiU=", "DK-10", ZW_DKIM_RSA,
		 ZW_DKIM_KEY_UNKNOWN, 0, 0,
		 "k=rsa but p= is 32 raw bytes, the form of an ed25519 key (RFC 8463 §4.2): "
		 "verifiers fail with an inappropriate key algorithm (RFC 6376 §6.1.2)"},
		{"v=DKIM1; k=ed25519; p=" ED_SPKI, "DK-10", ZW_DKIM_ED25519, ZW_DKIM_KEY_ED25519_SPKI, 256,
		 0, "k=ed25519 but p= is a 44-byte SubjectPublicKeyInfo: RFC 8463 §4.2 publishes the "
		 "raw 32-byte key, so verifiers cannot use it"},
		{"v=DKIM1; k=rsa; p=" ED_SPKI, "DK-10", ZW_DKIM_RSA, ZW_DKIM_KEY_ED25519_SPKI, 256, 0,
		 "k=rsa but p= holds a ed25519 key: verifiers fail with an inappropriate key algorithm "
		 "(RFC 6376 §6.1.2); an ed25519 p= is the raw 32-byte key (RFC 8463 §4.2)"},
		{"v=DKIM1; k=ed25519; p=" K2048, "DK-10", ZW_DKIM_ED25519, ZW_DKIM_KEY_UNKNOWN, 2048, 0,
		 "k=ed25519 but p= holds a 2048-bit rsa key: verifiers fail with an inappropriate key "
		 "algorithm (RFC 6376 §6.1.2)"},
		{"v=DKIM1; k=ed25519; p=AAAA", "DK-05", ZW_DKIM_ED25519, ZW_DKIM_KEY_UNKNOWN, 0, 0,
		 "k=ed25519 needs exactly 32 key bytes but p= decodes to 3 (RFC 8463 §4.2)"},
		{"v=DKIM1; p=" EC_P256, "DK-10", ZW_DKIM_RSA, ZW_DKIM_KEY_UNKNOWN, 256, 0,
		 "k=rsa but p= holds a ec key: verifiers fail with an inappropriate key algorithm "
		 "(RFC 6376 §6.1.2)"},
		{"v=DKIM1; k=RSA; p=" K2048, "DK-10", ZW_DKIM_KEYTYPE_UNKNOWN, ZW_DKIM_KEY_UNKNOWN, 0, 0,
		 "unknown key type k=RSA: verifiers know rsa (RFC 6376 §3.6.1) and ed25519 (RFC 8463) "
		 "and fail with an inappropriate key algorithm (RFC 6376 §6.1.2)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_dkim *d = NULL;
		int rc = parse(&d, cases[i].rec, &fs);
		if (rc != 0 || strcmp(ids(&fs), cases[i].ids) != 0)
			fail_msg("case %zu: rc %d ids '%s'", i, rc, ids(&fs));
		assert_int_equal(d->keytype, cases[i].kt);
		assert_int_equal(d->key.kind, cases[i].kind);
		assert_int_equal(d->key.bits, cases[i].bits);
		assert_int_equal(d->usable, cases[i].usable);
		if (cases[i].msg)
			assert_string_equal(fs.v[0].message, cases[i].msg);
		zw_dkim_free(d);
		zw_findings_free(&fs);
	}
	/* The DK-10 fix for an ed25519 SPKI gives the raw key to publish. */
	struct zw_findings fs = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, "k=ed25519; p=" ED_SPKI, &fs), 0);
	assert_string_equal(fs.v[0].fix, "publish the raw key: p=" ED_RAW);
	char hex[65];
	assert_int_equal(zw_dkim_key_sha256(hex, &d->key), 0);
	assert_string_equal(hex, ED_SHA);
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void hash_service_flags(void **state)
{
	(void)state;
	static const struct {
		const char *tags;
		const char *ids;
		unsigned hashes, flags;
		int email, usable;
	} cases[] = {
		{"h=sha1; ", "DK-09", ZW_DKIM_HASH_SHA1, 0, 1, 0},
		{"h=sha256; ", "", ZW_DKIM_HASH_SHA256, 0, 1, 1},
		{"h= sha1 : sha256 ; ", "", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, 0, 1, 1},
		{"h=sha512:SHA256; ", "DK-09", 0, 0, 1, 0},
		{"h=sha256:foo; ", "", ZW_DKIM_HASH_SHA256, 0, 1, 1},
		{"s=tls; ", "DK-13", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, 0, 0, 0},
		{"s=email:tlsrpt; ", "", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, 0, 1, 1},
		{"s=*; ", "", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, 0, 1, 1},
		{"s=Email; ", "DK-13", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, 0, 0, 0},
		{"t=y; ", "DK-12", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, ZW_DKIM_FLAG_TESTING, 1, 1},
		{"t=s; ", "", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, ZW_DKIM_FLAG_STRICT, 1, 1},
		{"t=y:s:x; ", "DK-12", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256,
		 ZW_DKIM_FLAG_TESTING | ZW_DKIM_FLAG_STRICT, 1, 1},
		{"t=Y; ", "", ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256, 0, 1, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rec[600];
		snprintf(rec, sizeof(rec), "v=DKIM1; %sp=%s", cases[i].tags, K2048);
		struct zw_findings fs = {0};
		struct zw_dkim *d = NULL;
		int rc = parse(&d, rec, &fs);
		if (rc != 0 || strcmp(ids(&fs), cases[i].ids) != 0)
			fail_msg("case %zu: rc %d ids '%s'", i, rc, ids(&fs));
		assert_int_equal(d->hashes, cases[i].hashes);
		assert_int_equal(d->flags, cases[i].flags);
		assert_int_equal(d->email, cases[i].email);
		assert_int_equal(d->usable, cases[i].usable);
		zw_dkim_free(d);
		zw_findings_free(&fs);
	}
	struct zw_findings fs = {0};
	struct zw_dkim *d = NULL;
	assert_int_equal(parse(&d, "v=DKIM1; h=sha1; k=rsa; p=" K2048, &fs), 0);
	assert_int_equal(d->h.n, 1);
	assert_string_equal(d->h.v[0], "sha1");
	assert_int_equal(fs.v[0].offset, 11);
	assert_string_equal(fs.v[0].message, "h=sha1 allows only sha1, which signers must not use "
			    "(RFC 8301 §3.1): every signature fails with an inappropriate hash algorithm "
			    "(RFC 6376 §6.1.2)");
	assert_string_equal(fs.v[0].fix, "remove h= or set h=sha256");
	zw_dkim_free(d);
	zw_findings_free(&fs);

	assert_int_equal(parse(&d, "v=DKIM1; s=tls; k=rsa; p=" K2048, &fs), 0);
	assert_int_equal(d->s.n, 1);
	assert_string_equal(fs.v[0].message, "s=tls does not include email or '*': e-mail "
			    "verifiers must ignore this key (RFC 6376 §3.6.1)");
	zw_dkim_free(d);
	zw_findings_free(&fs);

	assert_int_equal(parse(&d, "v=DKIM1; t=y; k=rsa; p=" K2048, &fs), 0);
	assert_int_equal(d->t.n, 1);
	assert_int_equal(fs.v[0].sev, ZW_SEV_WARNING);
	assert_int_equal(fs.v[0].offset, 11);
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void manifest_keys(void **state)
{
	(void)state;
	static const struct {
		const char *b64;
		enum zw_dkim_keytype kt;
		int rc;
		const char *ids;
		enum zw_dkim_keykind kind;
		int bits;
		const char *err;
	} cases[] = {
		{K2048, ZW_DKIM_RSA, 0, "", ZW_DKIM_KEY_RSA_SPKI, 2048, ""},
		{"  MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4KDnB6HvlvFqPhhgInoWS1SK/ML6+kIUG7qhD5iVNRwoGZn/SFuSmM1LQItVd9Lmgx2Hkl2qP1Itdd6pc2k+4PnFhA1DdWDGQLrNINl/PDvVUVHKnyMeRKD40QQd/1tYf0se3wf4idCo34Hb/f7hpj510Mt0+ZMwCL8yL0pdErXINTLBOcWqKauLvdiit7ouULmxwlqd1RXVPfTyV+MkiBPD6+06Kcu+8U7co+XQjfAguHso3qdGEORECHyXK/5eZ+ujHHwbLr0pmdnETMXEuMb8TxwV1QKepdnQQOZ7BSGBZRFwdCg0\n"
		 "PqF5jkzW7dGy5tlnr4wbyNEQUKuxGXLqUwIDAQAB\n", ZW_DKIM_RSA, 0, "", ZW_DKIM_KEY_RSA_SPKI, 2048, ""},
		{K1024, ZW_DKIM_RSA, 0, "DK-08", ZW_DKIM_KEY_RSA_SPKI, 1024, ""},
		{K1024_PKCS1, ZW_DKIM_RSA, 0, "DK-16,DK-08", ZW_DKIM_KEY_RSA_PKCS1, 1024, ""},
		{K512, ZW_DKIM_RSA, ZW_EINVAL, "DK-07", ZW_DKIM_KEY_RSA_SPKI, 512,
		 "rsa key of 512 bits: verifiers must not accept signatures made with keys under 1024 "
		 "bits (RFC 8301 §3.2)"},
		{ED_RAW, ZW_DKIM_ED25519, 0, "", ZW_DKIM_KEY_ED25519, 256, ""},
		{ED_SPKI, ZW_DKIM_ED25519, ZW_EINVAL, "DK-10", ZW_DKIM_KEY_ED25519_SPKI, 256, NULL},
		{K2048, ZW_DKIM_ED25519, ZW_EINVAL, "DK-10", ZW_DKIM_KEY_UNKNOWN, 2048, NULL},
		{ED_RAW, ZW_DKIM_RSA, ZW_EINVAL, "DK-10", ZW_DKIM_KEY_UNKNOWN, 0, NULL},
		{"MIGfMA0-GCSq", ZW_DKIM_RSA, ZW_EINVAL, "DK-04", ZW_DKIM_KEY_NONE, 0, NULL},
		{"-----BEGIN PUBLIC KEY-----\n" K2048 "\n-----END PUBLIC KEY-----\n", ZW_DKIM_RSA, ZW_EINVAL,
		 "DK-04", ZW_DKIM_KEY_NONE, 0,
		 "dkim public key is pem: give only the base64 between the begin and end lines"},
		{" \n", ZW_DKIM_RSA, ZW_EINVAL, "", ZW_DKIM_KEY_NONE, 0, "dkim public key is empty"},
		{K2048, ZW_DKIM_KEYTYPE_UNKNOWN, ZW_EINVAL, "", ZW_DKIM_KEY_NONE, 0,
		 "unknown dkim key type (rsa or ed25519)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_findings fs = {0};
		struct zw_error err = {0};
		struct zw_dkim_key k;
		int rc = zw_dkim_check_key(&k, cases[i].b64, strlen(cases[i].b64), cases[i].kt, &fs, &err);
		if (rc != cases[i].rc || strcmp(ids(&fs), cases[i].ids) != 0)
			fail_msg("case %zu: rc %d ids '%s' err '%s'", i, rc, ids(&fs), err.msg);
		assert_int_equal(k.kind, cases[i].kind);
		assert_int_equal(k.bits, cases[i].bits);
		if (cases[i].err)
			assert_string_equal(err.msg, cases[i].err);
		zw_dkim_key_clear(&k);
		zw_findings_free(&fs);
	}
	/* The manifest's key and the live one hash the same, whatever their spelling. */
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim_key a, b;
	char ha[65], hb[65];
	assert_int_equal(zw_dkim_check_key(&a, K1024, strlen(K1024), ZW_DKIM_RSA, &fs, &err), 0);
	assert_int_equal(zw_dkim_check_key(&b, K1024_PKCS1, strlen(K1024_PKCS1), ZW_DKIM_RSA, &fs, &err), 0);
	assert_int_equal(zw_dkim_key_sha256(ha, &a), 0);
	assert_int_equal(zw_dkim_key_sha256(hb, &b), 0);
	assert_string_equal(ha, K1024_SHA);
	assert_string_equal(hb, K1024_SHA);
	zw_dkim_key_clear(&a);
	zw_dkim_key_clear(&b);
	zw_findings_free(&fs);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(zw_dkim_keytype_name(ZW_DKIM_ED25519), "ed25519");
	assert_string_equal(zw_dkim_keykind_name(ZW_DKIM_KEY_RSA_PKCS1), "pkcs1-rsa");
	assert_string_equal(zw_dkim_keykind_name((enum zw_dkim_keykind)99), "unknown");
}

static int parse_body(const char *rec, unsigned flags)
{
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim *d = NULL;
	int rc = zw_dkim_parse_flags(&d, rec, strlen(rec), flags, &fs, &err);
	if (rc == 0) {
		struct zw_buf b = ZW_BUF_INIT;
		rc = zw_dkim_print(&b, d);
		if (!rc && strcmp(zw_buf_str(&b), rec) != 0)
			rc = ZW_EINVAL;
		zw_buf_free(&b);
	}
	zw_dkim_free(d);
	zw_findings_free(&fs);
	return rc == ZW_EINVAL ? ZW_EINVAL : rc;
}

static int check_key_body(const char *b64, enum zw_dkim_keytype kt)
{
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim_key k;
	int rc = zw_dkim_check_key(&k, b64, strlen(b64), kt, &fs, &err);
	zw_dkim_key_clear(&k);
	zw_findings_free(&fs);
	return rc;
}

static void allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body("v=DKIM1; h=sha1:sha256; s=email:*; t=y:s; n=x; k=rsa; p=" K1024_PKCS1, 0));
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body("v=DKIM1; p=", ZW_DKIM_EXPECT_REVOKED));
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body("v=DKIM1; k=ed25519; p=" ED_SPKI, 0));
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body("v=DKIM1; p=" K512, 0));
	ZW_FOR_EACH_ALLOC_FAILURE(parse_body("v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4KDnB6Hvl", 0));
	/* bodies that fail with ZW_EINVAL on success: count on a valid record, then check
	 * that every failure is either that or ZW_ENOMEM */
	for (long i = 1; i < 40; i++) {
		zw_alloc_fail_at(i);
		int rc = parse_body("k=rsa; v=DKIM1; p=a; p=b; x", 0);
		zw_alloc_fail_at(0);
		assert_true(rc == ZW_EINVAL || rc == ZW_ENOMEM);
	}
	ZW_FOR_EACH_ALLOC_FAILURE(check_key_body(K2048, ZW_DKIM_RSA));
	ZW_FOR_EACH_ALLOC_FAILURE(check_key_body(K1024_PKCS1, ZW_DKIM_RSA));
	for (long i = 1; i < 20; i++) {
		zw_alloc_fail_at(i);
		int rc = check_key_body(K512, ZW_DKIM_RSA);
		zw_alloc_fail_at(0);
		assert_true(rc == ZW_EINVAL || rc == ZW_ENOMEM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_rsa_2048),
		cmocka_unit_test(tag_list_grammar),
		cmocka_unit_test(tag_list_faults),
		cmocka_unit_test(revoked),
		cmocka_unit_test(base64_faults),
		cmocka_unit_test(key_sizes),
		cmocka_unit_test(key_types),
		cmocka_unit_test(hash_service_flags),
		cmocka_unit_test(manifest_keys),
		cmocka_unit_test(names),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests_name("dkim", tests, NULL, NULL);
}
