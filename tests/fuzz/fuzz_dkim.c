/*
 * fuzz_dkim.c - libFuzzer target for reconcile/dkim.c.
 *
 * Feeds the input to zw_dkim_parse (flags from the first byte's low bit) and to
 * zw_dkim_check_key as both key types, and checks the invariants: a parsed record prints
 * back byte for byte, every tag sits at its offset, a usable record has a key of the
 * right kind, failures leave *out NULL, and errors always come with a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/buf.h"
#include "reconcile/dkim.h"

static void check_record(const char *v, size_t len, unsigned flags)
{
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim *d = (struct zw_dkim *)&fs;
	int rc = zw_dkim_parse_flags(&d, v, len, flags, &fs, &err);
	if (rc != 0) {
		if (d || rc != ZW_EINVAL || fs.n == 0 || err.code != ZW_EINVAL)
			abort();
		zw_findings_free(&fs);
		return;
	}
	struct zw_buf b = ZW_BUF_INIT;
	if (zw_dkim_print(&b, d) || b.len != len || memcmp(b.p, v, len) != 0)
		abort();
	zw_buf_free(&b);
	for (size_t i = 0; i < d->ntags; i++) {
		size_t n = strlen(d->tags[i].name);
		if (d->tags[i].offset + n > len || memcmp(v + d->tags[i].offset, d->tags[i].name, n))
			abort();
		if (zw_dkim_tag(d, d->tags[i].name) != d->tags[i].value)
			abort();
	}
	if (d->usable) {
		int rsa = d->key.kind == ZW_DKIM_KEY_RSA_SPKI || d->key.kind == ZW_DKIM_KEY_RSA_PKCS1;
		if (d->revoked || !d->p || !(d->hashes & ZW_DKIM_HASH_SHA256) || !d->email ||
		    (d->keytype == ZW_DKIM_RSA && (!rsa || d->key.bits < 1024)) ||
		    (d->keytype == ZW_DKIM_ED25519 && d->key.der_len != 32))
			abort();
	}
	char hex[65];
	int hr = zw_dkim_key_sha256(hex, &d->key);
	if ((hr == 0) != (d->key.has_sha256 != 0) || (hr == 0 && strlen(hex) != 64))
		abort();
	if (d->revoked && (d->key.der || d->usable))
		abort();
	zw_dkim_free(d);
	zw_findings_free(&fs);
}

static void check_key(const char *v, size_t len, enum zw_dkim_keytype kt)
{
	struct zw_findings fs = {0};
	struct zw_error err = {0};
	struct zw_dkim_key k;
	int rc = zw_dkim_check_key(&k, v, len, kt, &fs, &err);
	if (rc != 0 && rc != ZW_EINVAL)
		abort();
	if (rc == ZW_EINVAL && err.msg[0] == '\0')
		abort();
	if (rc == 0 && k.kind != (kt == ZW_DKIM_RSA ? k.kind : ZW_DKIM_KEY_ED25519))
		abort();
	zw_dkim_key_clear(&k);
	zw_findings_free(&fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	const char *v = (const char *)data;
	unsigned flags = size && (data[0] & 1) ? ZW_DKIM_EXPECT_REVOKED : 0;
	check_record(v, size, flags);
	check_key(v, size, ZW_DKIM_RSA);
	check_key(v, size, ZW_DKIM_ED25519);
	return 0;
}
