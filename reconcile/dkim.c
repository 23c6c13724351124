/*
 * dkim.c - DKIM key records: the RFC 6376 §3.2 tag-list, the §3.6.1 key tags, and the
 * key itself (RFC 8301 sizes, RFC 8463 ed25519), parsed with OpenSSL.
 *
 * Owns: struct zw_dkim and struct zw_dkim_key contents (see dkim.h).
 * Invariants: d->tags holds each tag name at most once, in record order, with offsets
 * into d->raw; d->raw is the input byte for byte. A tag-list that verifiers discard is
 * never handed to the caller. Every finding carries the byte offset in the record it is
 * about. OpenSSL's error queue is left empty.
 *
 * Checking follows CATALOGUE §B.2: the tags are checked in a fixed order (v k h s t p)
 * because the key check needs k=; p= is stripped of WSP/CR/LF, decoded as strict
 * base64, then parsed as SubjectPublicKeyInfo, PKCS#1 RSAPublicKey as a fallback, or the
 * raw 32 bytes of an ed25519 key.
 */
#include "reconcile/dkim.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "reconcile/alloc.h"

#define SHOW_MAX 48 /* bytes of a value quoted in a message */

struct ctx {
	struct zw_findings *fs;
	struct zw_error *err;
	unsigned flags; /* ZW_DKIM_EXPECT_* */
	int discard;	/* the record is discarded (DK-02, DK-03) */
};

static int is_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnumpunc(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* VALCHAR = %x21-3A / %x3C-7E (RFC 6376 §3.2). */
static int is_valchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

/* A printable rendering of s[0..n) for a message: bytes outside 0x20-0x7E as \DDD,
 * cut at SHOW_MAX bytes with "...". */
static const char *show(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == SHOW_MAX) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstsz - o, "\\%03u", c);
	}
	dst[o] = '\0';
	return dst;
}

/* Add a finding with an optional fix; NULL when out of memory. */
static struct zw_finding *note(struct zw_findings *fs, const char *id, long off, const char *fix,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct zw_finding *note(struct zw_findings *fs, const char *id, long off, const char *fix,
			       const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct zw_finding *f = zw_findings_add(fs, id, off, "%s", msg);
	if (f && fix && zw_finding_set(f, ZW_F_FIX, fix))
		return NULL;
	return f;
}

/* ---- base64 (RFC 4648 §4, strict) ------------------------------------------------ */

static int b64_value(unsigned char c)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

enum b64_fault { B64_OK, B64_CHAR, B64_PAD, B64_LENGTH };

/*
 * Decode s[0..n) (no whitespace left in it) strictly: n % 4 == 0, alphabet only, '='
 * only as the last one or two characters. On a fault, *at is the index of the bad
 * character (n for a length fault) and nothing is allocated.
 */
static int b64_decode(unsigned char **out, size_t *outlen, const char *s, size_t n, enum b64_fault *fault,
		      size_t *at)
{
	size_t pad = 0;
	*out = NULL;
	*outlen = 0;
	*fault = B64_OK;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			if (i + 2 < n || (i + 2 == n && s[n - 1] != '=')) {
				*fault = B64_PAD;
				*at = i;
				return ZW_EINVAL;
			}
			pad++;
		} else if (b64_value(c) < 0) {
			*fault = B64_CHAR;
			*at = i;
			return ZW_EINVAL;
		}
	}
	if (n % 4 != 0) {
		*fault = pad ? B64_PAD : B64_LENGTH;
		*at = pad ? n - pad : n;
		return ZW_EINVAL;
	}
	size_t len = n / 4 * 3 - pad;
	unsigned char *b = zw_malloc(len ? len : 1);
	if (!b)
		return ZW_ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		unsigned long q = 0;
		for (size_t j = 0; j < 4; j++)
			q = q << 6 |
			    (unsigned long)(s[i + j] == '=' ? 0 : b64_value((unsigned char)s[i + j]));
		unsigned char t[3] = {(unsigned char)(q >> 16), (unsigned char)(q >> 8), (unsigned char)q};
		for (size_t j = 0; j < 3 && o < len; j++)
			b[o++] = t[j];
	}
	*out = b;
	*outlen = len;
	return 0;
}

/* The offset in the raw value of the k-th character that is not FWS. */
static size_t raw_index(const char *v, size_t k)
{
	size_t i = 0;
	for (;; i++) {
		if (!v[i])
			return i;
		if (is_fws((unsigned char)v[i]))
			continue;
		if (k-- == 0)
			return i;
	}
}

/* The total size a DER SEQUENCE announces, header included; 0 if b does not start one. */
static size_t der_announced(const unsigned char *b, size_t n)
{
	if (n < 2 || b[0] != 0x30)
		return 0;
	if (!(b[1] & 0x80))
		return 2 + (size_t)b[1];
	size_t k = b[1] & 0x7fu;
	if (k == 0 || k > 4 || n < 2 + k)
		return 0;
	size_t len = 0;
	for (size_t i = 0; i < k; i++)
		len = len << 8 | b[2 + i];
	return 2 + k + len;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* Parse der[0..n) with a d2i function; the object must use every byte. */
static EVP_PKEY *parse_spki(const unsigned char *der, size_t n, size_t *used)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)n);
	*used = k ? (size_t)(p - der) : 0;
	return k;
}

static EVP_PKEY *parse_pkcs1(const unsigned char *der, size_t n, size_t *used)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)n);
	*used = k ? (size_t)(p - der) : 0;
	return k;
}

static int sha256(unsigned char out[32], const unsigned char *b, size_t n)
{
	unsigned int len = 0;
	return EVP_Digest(b, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : ZW_ENOMEM;
}

/* The fingerprint of an RSA key: sha256 of its DER SubjectPublicKeyInfo. */
static int rsa_fingerprint(struct zw_dkim_key *key, EVP_PKEY *pk)
{
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(pk, &spki);
	if (n <= 0)
		return ZW_ENOMEM;
	int rc = sha256(key->sha256, spki, (size_t)n);
	OPENSSL_free(spki);
	key->has_sha256 = rc == 0;
	return rc;
}

static const char *pkey_name(EVP_PKEY *pk)
{
	static const struct {
		int id;
		const char *name;
	} names[] = {
		{EVP_PKEY_RSA, "rsa"},	     {EVP_PKEY_RSA_PSS, "rsa-pss"}, {EVP_PKEY_ED25519, "ed25519"},
		{EVP_PKEY_ED448, "ed448"},   {EVP_PKEY_EC, "ec"},	    {EVP_PKEY_DSA, "dsa"},
		{EVP_PKEY_X25519, "x25519"},
	};
	int id = EVP_PKEY_get_base_id(pk);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].id == id)
			return names[i].name;
	return "non-dkim";
}

/* DK-07 / DK-08 for an RSA key. *refused is set below 1024 bits. */
static int rsa_size(struct zw_dkim_key *key, long off, struct zw_findings *fs, int *refused)
{
	if (key->bits < 1024) {
		*refused = 1;
		return note(fs, "DK-07", off,
			    "generate a key of 2048 bits or more on a new selector, switch the signer, "
			    "then revoke this one",
			    "rsa key of %d bits: verifiers must not accept signatures made with keys "
			    "under 1024 bits (RFC 8301 §3.2)",
			    key->bits)
			       ? 0
			       : ZW_ENOMEM;
	}
	if (key->bits < 2048)
		return note(fs, "DK-08", off, "rotate to a key of 2048 bits or more on a new selector",
			    "rsa key of %d bits: signers should use keys of at least 2048 bits "
			    "(RFC 8301 §3.2)",
			    key->bits)
			       ? 0
			       : ZW_ENOMEM;
	return 0;
}

/*
 * The fast path for the common case, an RSA SubjectPublicKeyInfo, read with OpenSSL's
 * ASN.1 primitives alone: SEQUENCE { AlgorithmIdentifier rsaEncryption, BIT STRING
 * { SEQUENCE { INTEGER n, INTEGER e } } }, every byte used. OpenSSL 3's d2i_PUBKEY goes
 * through the provider decoders, about 100 us a key; this takes about 1 us, which is
 * what lets `validate` check 10 000 keys in well under a second (bench/validate).
 * Returns the modulus size in bits, or 0 when der is anything else: the general path
 * below then reads it and says what is wrong.
 */
static int rsa_spki_bits(const unsigned char *der, size_t n)
{
	const unsigned char *p = der, *end = der + n, *q, *qend;
	const ASN1_OBJECT *oid = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bs = NULL;
	ASN1_INTEGER *mod = NULL, *exp = NULL;
	BIGNUM *bn = NULL;
	long len;
	int tag, cls, bits = 0;

	if (n == 0 || n > 65536)
		return 0;
	if ((ASN1_get_object(&p, &len, &tag, &cls, (long)n) & 0x80) || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL || len != end - p)
		goto out;
	if (!(alg = d2i_X509_ALGOR(NULL, &p, end - p)))
		goto out;
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	if (OBJ_obj2nid(oid) != NID_rsaEncryption)
		goto out;
	if (!(bs = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) || p != end || (bs->flags & 0x07))
		goto out;
	q = bs->data;
	qend = q + bs->length;
	if ((ASN1_get_object(&q, &len, &tag, &cls, bs->length) & 0x80) || tag != V_ASN1_SEQUENCE ||
	    len != qend - q)
		goto out;
	if (!(mod = d2i_ASN1_INTEGER(NULL, &q, qend - q)) || !(exp = d2i_ASN1_INTEGER(NULL, &q, qend - q)) ||
	    q != qend || ASN1_STRING_type(mod) != V_ASN1_INTEGER || ASN1_STRING_type(exp) != V_ASN1_INTEGER)
		goto out;
	if ((bn = ASN1_INTEGER_to_BN(mod, NULL)))
		bits = BN_num_bits(bn);
out:
	BN_free(bn);
	ASN1_INTEGER_free(exp);
	ASN1_INTEGER_free(mod);
	ASN1_BIT_STRING_free(bs);
	X509_ALGOR_free(alg);
	ERR_clear_error();
	return bits;
}

/* An RSA key under k=rsa: SPKI, else PKCS#1, else 32 raw bytes, else not a key. */
static int read_rsa(struct zw_dkim_key *key, long off, struct zw_findings *fs, int *refused)
{
	size_t used = 0;
	int rc = 0;
	int fast = rsa_spki_bits(key->der, key->der_len);
	if (fast) {
		key->kind = ZW_DKIM_KEY_RSA_SPKI;
		key->bits = fast;
		if ((rc = sha256(key->sha256, key->der, key->der_len)))
			return rc;
		key->has_sha256 = 1;
		return rsa_size(key, off, fs, refused);
	}
	EVP_PKEY *pk = parse_spki(key->der, key->der_len, &used);
	int pkcs1 = 0;
	if (!pk && (pk = parse_pkcs1(key->der, key->der_len, &used)))
		pkcs1 = 1;
	ERR_clear_error();
	if (pk && used != key->der_len) {
		*refused = 1;
		key->kind = ZW_DKIM_KEY_UNKNOWN;
		rc = note(fs, "DK-05", off, "publish the key alone, exactly as the signer's tool prints it",
			  "p= holds a key followed by %zu stray bytes (%zu of %zu bytes used): not a "
			  "DER key, so verification fails (RFC 6376 §3.6.1, §6.1.2)",
			  key->der_len - used, used, key->der_len)
			     ? 0
			     : ZW_ENOMEM;
		goto out;
	}
	if (!pk) {
		*refused = 1;
		key->kind = ZW_DKIM_KEY_UNKNOWN;
		size_t want = der_announced(key->der, key->der_len);
		if (key->der_len == 32)
			rc = note(fs, "DK-10", off, "set k=ed25519, or publish the rsa key",
				  "k=rsa but p= is 32 raw bytes, the form of an ed25519 key (RFC 8463 "
				  "§4.2): verifiers fail with an inappropriate key algorithm "
				  "(RFC 6376 §6.1.2)")
				     ? 0
				     : ZW_ENOMEM;
		else if (want > key->der_len)
			rc = note(fs, "DK-05", off,
				  "publish the whole key (split it into strings of "
				  "at most 255 bytes, RFC 1035 §3.3)",
				  "p= is cut short: its DER header announces %zu bytes but it holds only "
				  "%zu, so the key does not parse (RFC 6376 §6.1.2)",
				  want, key->der_len)
				     ? 0
				     : ZW_ENOMEM;
		else
			rc = note(fs, "DK-05", off, "publish the signer's public key",
				  "p= decodes to %zu bytes that are neither a SubjectPublicKeyInfo nor an "
				  "RSAPublicKey, so the key does not parse (RFC 6376 §3.6.1, §6.1.2)",
				  key->der_len)
				     ? 0
				     : ZW_ENOMEM;
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		*refused = 1;
		int ed = EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519;
		key->kind = ed ? ZW_DKIM_KEY_ED25519_SPKI : ZW_DKIM_KEY_UNKNOWN;
		key->bits = EVP_PKEY_get_bits(pk);
		rc = note(fs, "DK-10", off,
			  ed ? "set k=ed25519 and publish the raw 32-byte key" : "publish an rsa key",
			  "k=rsa but p= holds a %s key: verifiers fail with an inappropriate key "
			  "algorithm (RFC 6376 §6.1.2)%s",
			  pkey_name(pk), ed ? "; an ed25519 p= is the raw 32-byte key (RFC 8463 §4.2)" : "")
			     ? 0
			     : ZW_ENOMEM;
		goto out;
	}
	key->kind = pkcs1 ? ZW_DKIM_KEY_RSA_PKCS1 : ZW_DKIM_KEY_RSA_SPKI;
	key->bits = EVP_PKEY_get_bits(pk);
	if ((rc = rsa_fingerprint(key, pk)))
		goto out;
	if (pkcs1 && !note(fs, "DK-16", off, "publish the SubjectPublicKeyInfo form (MIIB... / MIGf...)",
			   "p= is a bare PKCS#1 RSAPublicKey, not a SubjectPublicKeyInfo: RFC 6376 "
			   "§3.6.1 names it, but tools publish SPKI and some verifiers accept only that")) {
		rc = ZW_ENOMEM;
		goto out;
	}
	rc = rsa_size(key, off, fs, refused);
out:
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

/* An ed25519 key: the raw 32 bytes (RFC 8463 §4.2). */
static int read_ed25519(struct zw_dkim_key *key, long off, struct zw_findings *fs, int *refused)
{
	int rc = 0;
	size_t used = 0;
	if (key->der_len == 32) {
		key->kind = ZW_DKIM_KEY_ED25519;
		key->bits = 256;
		key->has_sha256 = 1;
		return sha256(key->sha256, key->der, key->der_len);
	}
	*refused = 1;
	EVP_PKEY *pk = parse_spki(key->der, key->der_len, &used);
	if (!pk)
		pk = parse_pkcs1(key->der, key->der_len, &used);
	ERR_clear_error();
	if (pk && used == key->der_len && EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		unsigned char raw[32];
		size_t rawlen = sizeof(raw);
		char b64[48] = "";
		if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) == 1 && rawlen == 32) {
			EVP_EncodeBlock((unsigned char *)b64, raw, 32);
			key->has_sha256 = sha256(key->sha256, raw, 32) == 0;
		}
		key->kind = ZW_DKIM_KEY_ED25519_SPKI;
		key->bits = 256;
		char fix[96];
		snprintf(fix, sizeof(fix), "publish the raw key: p=%s", b64);
		rc = note(fs, "DK-10", off, fix,
			  "k=ed25519 but p= is a %zu-byte SubjectPublicKeyInfo: RFC 8463 §4.2 "
			  "publishes the raw 32-byte key, so verifiers cannot use it",
			  key->der_len)
			     ? 0
			     : ZW_ENOMEM;
	} else if (pk && used == key->der_len && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		key->kind = ZW_DKIM_KEY_UNKNOWN;
		key->bits = EVP_PKEY_get_bits(pk);
		rc = note(fs, "DK-10", off, "set k=rsa, or publish the ed25519 key",
			  "k=ed25519 but p= holds a %d-bit rsa key: verifiers fail with an "
			  "inappropriate key algorithm (RFC 6376 §6.1.2)",
			  key->bits)
			     ? 0
			     : ZW_ENOMEM;
	} else {
		key->kind = ZW_DKIM_KEY_UNKNOWN;
		rc = note(fs, "DK-05", off, "publish the 32-byte ed25519 public key, base64-encoded",
			  "k=ed25519 needs exactly 32 key bytes but p= decodes to %zu (RFC 8463 §4.2)",
			  key->der_len)
			     ? 0
			     : ZW_ENOMEM;
	}
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

/* DK-04 for a p= that is not strict base64, or DK-05 when it is plainly a cut key. */
static int bad_base64(const char *v, const char *s, size_t n, enum b64_fault fault, size_t at, long off,
		      struct zw_findings *fs)
{
	char buf[16];
	if (fault == B64_LENGTH) {
		/* A DER header announcing more than the text holds: the key was cut short. */
		unsigned char *prefix = NULL;
		size_t plen = 0, dummy;
		enum b64_fault f2;
		int rc = b64_decode(&prefix, &plen, s, n / 4 * 4, &f2, &dummy);
		if (rc == ZW_ENOMEM)
			return rc;
		size_t want = rc ? 0 : der_announced(prefix, plen);
		zw_free(prefix);
		if (want > plen + 2)
			return note(fs, "DK-05", off,
				    "publish the whole key (split it into strings of at most 255 bytes, "
				    "RFC 1035 §3.3)",
				    "p= is cut short: %zu base64 characters, while its DER header announces "
				    "a %zu-byte key (about %zu characters), so the key does not parse "
				    "(RFC 6376 §6.1.2)",
				    n, want, (want + 2) / 3 * 4)
				       ? 0
				       : ZW_ENOMEM;
		return note(fs, "DK-04", off, "publish the key's base64 text exactly, with its '=' padding",
			    "p= is not valid base64: %zu characters is not a multiple of 4, is '=' "
			    "padding missing or the key cut? (RFC 6376 §2.10; RFC 4648 §3.2)",
			    n)
			       ? 0
			       : ZW_ENOMEM;
	}
	long where = off + (long)raw_index(v, at);
	if (fault == B64_CHAR)
		return note(fs, "DK-04", where, "publish the key's base64 text exactly",
			    "p= is not valid base64: '%s' at offset %ld is not in the base64 alphabet "
			    "(RFC 6376 §2.10; RFC 4648 §4)",
			    show(buf, sizeof(buf), s + at, 1), where)
			       ? 0
			       : ZW_ENOMEM;
	return note(fs, "DK-04", where, "publish the key's base64 text exactly",
		    "p= is not valid base64: '=' padding at offset %ld is misplaced; it may only end "
		    "a text whose length is a multiple of 4 (RFC 6376 §2.10; RFC 4648 §3.2)",
		    where)
		       ? 0
		       : ZW_ENOMEM;
}

/*
 * Read the key in the p= value v (FWS allowed inside; v is not empty after removing it).
 * off is the offset of v in the record. *refused is set for anything verifiers reject.
 */
static int read_key(struct zw_dkim_key *key, const char *v, long off, enum zw_dkim_keytype kt,
		    struct zw_findings *fs, int *refused)
{
	size_t vlen = strlen(v), n = 0;
	enum b64_fault fault;
	size_t at = 0;
	char *s = zw_malloc(vlen + 1);
	if (!s)
		return ZW_ENOMEM;
	for (size_t i = 0; i < vlen; i++)
		if (!is_fws((unsigned char)v[i]))
			s[n++] = v[i];
	s[n] = '\0';
	int rc = b64_decode(&key->der, &key->der_len, s, n, &fault, &at);
	if (rc == ZW_EINVAL) {
		*refused = 1;
		rc = bad_base64(v, s, n, fault, at, off, fs);
		goto out;
	}
	if (rc)
		goto out;
	if (kt == ZW_DKIM_RSA)
		rc = read_rsa(key, off, fs, refused);
	else if (kt == ZW_DKIM_ED25519)
		rc = read_ed25519(key, off, fs, refused);
	else {
		key->kind = ZW_DKIM_KEY_UNKNOWN;
		key->has_sha256 = 1;
		rc = sha256(key->sha256, key->der, key->der_len);
	}
out:
	zw_free(s);
	return rc;
}

void zw_dkim_key_clear(struct zw_dkim_key *k)
{
	if (!k)
		return;
	zw_free(k->der);
	memset(k, 0, sizeof(*k));
}

int zw_dkim_check_key(struct zw_dkim_key *out, const char *b64, size_t len, enum zw_dkim_keytype kt,
		      struct zw_findings *fs, struct zw_error *err)
{
	int refused = 0, rc = 0, blank = 1;
	char *v = NULL;
	memset(out, 0, sizeof(*out));
	if (kt != ZW_DKIM_RSA && kt != ZW_DKIM_ED25519)
		return zw_error_set(err, ZW_EINVAL, "unknown dkim key type (rsa or ed25519)");
	if (!(v = zw_strndup(b64, len)))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++)
		if (!is_fws((unsigned char)b64[i]))
			blank = 0;
	if (blank || strlen(v) != len) {
		rc = zw_error_set(err, ZW_EINVAL, "dkim public key %s",
				  blank ? "is empty" : "holds a nul byte");
		goto out;
	}
	if (strstr(v, "-----BEGIN")) {
		rc = note(fs, "DK-04", (long)(strstr(v, "-----BEGIN") - v),
			  "keep only the base64 lines between BEGIN and END",
			  "the public key is in PEM form: give only the base64 text between the "
			  "-----BEGIN and -----END lines (RFC 6376 §3.6.1)")
			     ? ZW_EINVAL
			     : ZW_ENOMEM;
		zw_error_set(err, rc,
			     "dkim public key is pem: give only the base64 between the "
			     "begin and end lines");
		goto out;
	}
	size_t from = fs->n;
	if ((rc = read_key(out, v, 0, kt, fs, &refused))) {
		zw_error_set(err, rc, "out of memory");
		goto out;
	}
	if (refused) {
		const char *why = "dkim public key refused";
		for (size_t i = from; i < fs->n; i++)
			if (fs->v[i].sev >= ZW_SEV_ERROR) {
				why = fs->v[i].message;
				break;
			}
		rc = zw_error_set(err, ZW_EINVAL, "%s", why);
	}
out:
	zw_free(v);
	return rc;
}

int zw_dkim_key_sha256(char out[65], const struct zw_dkim_key *k)
{
	static const char hex[] = "0123456789abcdef";
	out[0] = '\0';
	if (!k || !k->has_sha256)
		return ZW_ENOTFOUND;
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[k->sha256[i] >> 4];
		out[2 * i + 1] = hex[k->sha256[i] & 0xf];
	}
	out[64] = '\0';
	return 0;
}

/* ---- the tag-list ------------------------------------------------------------------- */

const char *zw_dkim_tag(const struct zw_dkim *d, const char *name)
{
	for (size_t i = 0; d && i < d->ntags; i++)
		if (strcmp(d->tags[i].name, name) == 0)
			return d->tags[i].value;
	return NULL;
}

static const struct zw_dkim_tag *find_tag(const struct zw_dkim *d, const char *name)
{
	for (size_t i = 0; i < d->ntags; i++)
		if (strcmp(d->tags[i].name, name) == 0)
			return &d->tags[i];
	return NULL;
}

/* A tag-list fault: DK-03, the record is discarded. */
static int syntax(struct ctx *c, long off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int syntax(struct ctx *c, long off, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->discard = 1;
	zw_error_set(c->err, ZW_EINVAL, "%s", msg);
	return note(c->fs, "DK-03", off,
		    "publish the record as v=DKIM1; k=...; p=... with one "
		    "name=value per tag, separated by ';'",
		    "%s", msg)
		       ? 0
		       : ZW_ENOMEM;
}

static int add_tag(struct zw_dkim *d, const char *name, size_t nlen, const char *val, size_t vlen, size_t off)
{
	if ((d->ntags & (d->ntags - 1)) == 0) { /* full at 0, 1, 2, 4, 8, ... */
		size_t cap = d->ntags ? d->ntags * 2 : 1;
		struct zw_dkim_tag *t = zw_realloc(d->tags, cap * sizeof(*t));
		if (!t)
			return ZW_ENOMEM;
		d->tags = t;
	}
	struct zw_dkim_tag *t = &d->tags[d->ntags];
	t->offset = off;
	t->name = zw_strndup(name, nlen);
	t->value = zw_strndup(val, vlen);
	if (!t->name || !t->value) {
		zw_free(t->name);
		zw_free(t->value);
		return ZW_ENOMEM;
	}
	d->ntags++;
	return 0;
}

/* Split d->raw into tags (RFC 6376 §3.2). Faults are DK-03; scanning resumes at the next ';'. */
static int tokenize(struct zw_dkim *d, struct ctx *c)
{
	const char *s = d->raw;
	size_t n = d->raw_len, i = 0;
	char buf[SHOW_MAX * 4 + 8];
	int rc;
	for (;;) {
		while (i < n && is_fws((unsigned char)s[i]))
			i++;
		if (i == n)
			return 0; /* end, possibly after a final ';' */
		size_t name = i;
		if (s[i] == ';') {
			if ((rc = syntax(c, (long)i,
					 "empty tag-spec at offset %zu: ';' must separate "
					 "tags (RFC 6376 §3.2)",
					 i)))
				return rc;
			i++;
			continue;
		}
		if (!is_alpha((unsigned char)s[i])) {
			rc = syntax(c, (long)i,
				    "tag name at offset %zu must begin with a letter, not "
				    "'%s' (RFC 6376 §3.2)",
				    i, show(buf, sizeof(buf), s + i, 1));
			goto skip;
		}
		while (i < n && is_alnumpunc((unsigned char)s[i]))
			i++;
		size_t nlen = i - name;
		while (i < n && is_fws((unsigned char)s[i]))
			i++;
		if (i == n || s[i] != '=') {
			rc = syntax(c, (long)name,
				    "tag-spec '%s' at offset %zu has no '=' after the "
				    "name (RFC 6376 §3.2)",
				    show(buf, sizeof(buf), s + name, strcspn(s + name, ";")), name);
			goto skip;
		}
		i++;
		while (i < n && is_fws((unsigned char)s[i]))
			i++;
		size_t val = i;
		int bad = 0;
		while (i < n && s[i] != ';') {
			unsigned char ch = (unsigned char)s[i];
			if (!bad && !is_valchar(ch) && !is_fws(ch)) {
				bad = 1;
				if ((rc = syntax(c, (long)i,
						 "byte %s at offset %zu in tag '%.*s' is not "
						 "allowed in a tag value (RFC 6376 §3.2 VALCHAR)",
						 show(buf, sizeof(buf), s + i, 1), i, (int)nlen, s + name)))
					return rc;
			}
			i++;
		}
		size_t end = i;
		while (end > val && is_fws((unsigned char)s[end - 1]))
			end--;
		const struct zw_dkim_tag *dup = NULL;
		for (size_t k = 0; k < d->ntags && !dup; k++)
			if (strlen(d->tags[k].name) == nlen && memcmp(d->tags[k].name, s + name, nlen) == 0)
				dup = &d->tags[k];
		if (dup) {
			if ((rc = syntax(c, (long)name,
					 "duplicate tag '%s' at offset %zu (first at %zu): "
					 "the whole tag-list is invalid (RFC 6376 §3.2)",
					 dup->name, name, dup->offset)))
				return rc;
		} else if ((rc = add_tag(d, s + name, nlen, s + val, end - val, name))) {
			return rc;
		}
		if (i == n)
			return 0;
		i++; /* ';' */
		continue;
	skip:
		if (rc)
			return rc;
		while (i < n && s[i] != ';')
			i++;
		if (i == n)
			return 0;
		i++;
	}
}

/* Split a colon list (h=, s=, t=): FWS around items removed, empty items skipped. */
static int split_list(struct zw_dkim_list *l, const char *v)
{
	size_t cap = 1;
	for (const char *p = v; *p; p++)
		cap += *p == ':';
	if (!(l->v = zw_calloc(cap, sizeof(*l->v))))
		return ZW_ENOMEM;
	while (*v) {
		size_t len = strcspn(v, ":");
		size_t a = 0, b = len;
		while (a < b && is_fws((unsigned char)v[a]))
			a++;
		while (b > a && is_fws((unsigned char)v[b - 1]))
			b--;
		if (b > a && !(l->v[l->n++] = zw_strndup(v + a, b - a)))
			return ZW_ENOMEM;
		v += len + (v[len] == ':');
	}
	return 0;
}

static int list_has(const struct zw_dkim_list *l, const char *item)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], item) == 0)
			return 1;
	return 0;
}

static void list_free(struct zw_dkim_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		zw_free(l->v[i]);
	zw_free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The value's offset in the record (the tag offset plus the name, FWS and '='). */
static long value_offset(const struct zw_dkim *d, const struct zw_dkim_tag *t)
{
	size_t i = t->offset + strlen(t->name);
	while (i < d->raw_len && d->raw[i] != '=')
		i++;
	i++;
	while (i < d->raw_len && is_fws((unsigned char)d->raw[i]))
		i++;
	return (long)i;
}

/* v=: optional, but first and exactly "DKIM1" when present (RFC 6376 §3.6.1). */
static int check_v(struct zw_dkim *d, const struct zw_dkim_tag *t, struct ctx *c)
{
	char buf[SHOW_MAX * 4 + 8];
	if (!t)
		return 0;
	d->has_v = 1;
	const char *fix = "start the record with v=DKIM1; or leave v= out";
	if (t != &d->tags[0]) {
		c->discard = 1;
		zw_error_set(c->err, ZW_EINVAL, "v= must be the first tag of a dkim key record");
		if (!note(c->fs, "DK-02", (long)t->offset, fix,
			  "v= at offset %zu is not the first tag: verifiers discard the record "
			  "(RFC 6376 §3.6.1)",
			  t->offset))
			return ZW_ENOMEM;
	}
	if (strcmp(t->value, "DKIM1") != 0) {
		c->discard = 1;
		zw_error_set(c->err, ZW_EINVAL, "dkim key record version is not DKIM1");
		if (!note(c->fs, "DK-02", value_offset(d, t), fix,
			  "v=%s is not DKIM1: the version is compared as a string and any other "
			  "value discards the record (RFC 6376 §3.6.1)",
			  show(buf, sizeof(buf), t->value, strlen(t->value))))
			return ZW_ENOMEM;
	}
	return 0;
}

/* k=: rsa (default) or ed25519; values are case-sensitive (RFC 6376 §3.2). */
static int check_k(struct zw_dkim *d, const struct zw_dkim_tag *t, struct ctx *c)
{
	static const struct {
		const char *name;
		enum zw_dkim_keytype kt;
	} types[] = {{"rsa", ZW_DKIM_RSA}, {"ed25519", ZW_DKIM_ED25519}};
	char buf[SHOW_MAX * 4 + 8];
	d->k = t ? t->value : "rsa";
	d->keytype = ZW_DKIM_KEYTYPE_UNKNOWN;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(d->k, types[i].name) == 0)
			d->keytype = types[i].kt;
	if (d->keytype != ZW_DKIM_KEYTYPE_UNKNOWN)
		return 0;
	return note(c->fs, "DK-10", value_offset(d, t), "set k=rsa or k=ed25519 (lower case)",
		    "unknown key type k=%s: verifiers know rsa (RFC 6376 §3.6.1) and ed25519 "
		    "(RFC 8463) and fail with an inappropriate key algorithm (RFC 6376 §6.1.2)",
		    show(buf, sizeof(buf), d->k, strlen(d->k)))
		       ? 0
		       : ZW_ENOMEM;
}

/* h=: acceptable hashes; unknown ones ignored; sha256 must remain (RFC 8301 §3.1). */
static int check_h(struct zw_dkim *d, const struct zw_dkim_tag *t, struct ctx *c)
{
	char buf[SHOW_MAX * 4 + 8];
	d->hashes = ZW_DKIM_HASH_SHA1 | ZW_DKIM_HASH_SHA256;
	if (!t)
		return 0;
	if (split_list(&d->h, t->value))
		return ZW_ENOMEM;
	d->hashes = (list_has(&d->h, "sha1") ? ZW_DKIM_HASH_SHA1 : 0) |
		    (list_has(&d->h, "sha256") ? ZW_DKIM_HASH_SHA256 : 0);
	if (d->hashes & ZW_DKIM_HASH_SHA256)
		return 0;
	const char *fix = "remove h= or set h=sha256";
	if (d->hashes == ZW_DKIM_HASH_SHA1)
		return note(c->fs, "DK-09", value_offset(d, t), fix,
			    "h=%s allows only sha1, which signers must not use (RFC 8301 §3.1): every "
			    "signature fails with an inappropriate hash algorithm (RFC 6376 §6.1.2)",
			    show(buf, sizeof(buf), t->value, strlen(t->value)))
			       ? 0
			       : ZW_ENOMEM;
	return note(c->fs, "DK-09", value_offset(d, t), fix,
		    "h=%s lists no hash algorithm verifiers use (sha256; names are case-sensitive): "
		    "every signature fails with an inappropriate hash algorithm (RFC 6376 §3.6.1, "
		    "§6.1.2)",
		    show(buf, sizeof(buf), t->value, strlen(t->value)))
		       ? 0
		       : ZW_ENOMEM;
}

/* s=: service types; must contain '*' or 'email' (RFC 6376 §3.6.1). */
static int check_s(struct zw_dkim *d, const struct zw_dkim_tag *t, struct ctx *c)
{
	char buf[SHOW_MAX * 4 + 8];
	d->email = 1;
	if (!t)
		return 0;
	if (split_list(&d->s, t->value))
		return ZW_ENOMEM;
	d->email = list_has(&d->s, "*") || list_has(&d->s, "email");
	if (d->email)
		return 0;
	return note(c->fs, "DK-13", value_offset(d, t), "remove s= or set s=email",
		    "s=%s does not include email or '*': e-mail verifiers must ignore this key "
		    "(RFC 6376 §3.6.1)",
		    show(buf, sizeof(buf), t->value, strlen(t->value)))
		       ? 0
		       : ZW_ENOMEM;
}

/* t=: flags y (testing) and s (strict); unknown flags ignored (RFC 6376 §3.6.1). */
static int check_t(struct zw_dkim *d, const struct zw_dkim_tag *t, struct ctx *c)
{
	if (!t)
		return 0;
	if (split_list(&d->t, t->value))
		return ZW_ENOMEM;
	d->flags = (list_has(&d->t, "y") ? ZW_DKIM_FLAG_TESTING : 0) |
		   (list_has(&d->t, "s") ? ZW_DKIM_FLAG_STRICT : 0);
	if (!(d->flags & ZW_DKIM_FLAG_TESTING))
		return 0;
	return note(c->fs, "DK-12", value_offset(d, t), "remove the y flag from t= once tests are done",
		    "t=y marks the domain as testing DKIM: verifiers must not treat its signed mail "
		    "differently from unsigned mail (RFC 6376 §3.6.1)")
		       ? 0
		       : ZW_ENOMEM;
}

/* p=: required; empty means revoked; else the key (CATALOGUE §B.2 "checking p="). */
static int check_p(struct zw_dkim *d, const struct zw_dkim_tag *t, struct ctx *c)
{
	if (c->discard) /* verifiers already discard the record (DK-02/DK-03): that is the finding */
		return 0;
	if (!t) {
		c->discard = 1;
		zw_error_set(c->err, ZW_EINVAL, "dkim key record has no p= tag");
		return note(c->fs, "DK-03", -1, "add p= with the public key",
			    "the required tag p= is missing, so the record is not a key "
			    "(RFC 6376 §3.6.1, §6.1.2)")
			       ? 0
			       : ZW_ENOMEM;
	}
	d->p = t->value;
	long off = value_offset(d, t);
	if (t->value[0] == '\0') {
		d->revoked = 1;
		struct zw_finding *f =
			note(c->fs, "DK-06", off, "publish the active key, or retire the selector",
			     "p= is empty: the key is revoked and every signature with this "
			     "selector fails (RFC 6376 §3.6.1, §6.1.2)");
		if (!f)
			return ZW_ENOMEM;
		if (c->flags & ZW_DKIM_EXPECT_REVOKED) {
			f->sev = ZW_SEV_INFO;
			if (zw_finding_set(f, ZW_F_FIX, NULL))
				return ZW_ENOMEM;
		}
		return 0;
	}
	int refused = 0;
	return read_key(&d->key, t->value, off, d->keytype, c->fs, &refused);
}

static int key_fits(const struct zw_dkim *d)
{
	switch (d->keytype) {
	case ZW_DKIM_RSA:
		return (d->key.kind == ZW_DKIM_KEY_RSA_SPKI || d->key.kind == ZW_DKIM_KEY_RSA_PKCS1) &&
		       d->key.bits >= 1024;
	case ZW_DKIM_ED25519: return d->key.kind == ZW_DKIM_KEY_ED25519;
	default: return 0;
	}
}

void zw_dkim_free(struct zw_dkim *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ntags; i++) {
		zw_free(d->tags[i].name);
		zw_free(d->tags[i].value);
	}
	zw_free(d->tags);
	list_free(&d->h);
	list_free(&d->s);
	list_free(&d->t);
	zw_dkim_key_clear(&d->key);
	zw_free(d->raw);
	zw_free(d);
}

int zw_dkim_parse_flags(struct zw_dkim **out, const char *v, size_t len, unsigned flags,
			struct zw_findings *fs, struct zw_error *err)
{
	static int (*const checks[])(struct zw_dkim *, const struct zw_dkim_tag *, struct ctx *) = {
		check_v, check_k, check_h, check_s, check_t, check_p,
	};
	static const char *const names[] = {"v", "k", "h", "s", "t", "p"};
	struct ctx c = {fs, err, flags, 0};
	struct zw_dkim *d = NULL;
	int rc;
	assert(fs);
	*out = NULL;
	if (!(d = zw_calloc(1, sizeof(*d))) || !(d->raw = zw_strndup(v, len))) {
		rc = ZW_ENOMEM;
		goto fail;
	}
	d->raw_len = len;
	if (memchr(v, '\0', len)) {
		zw_error_set(err, ZW_EINVAL, "dkim key record holds a nul byte");
		rc = note(fs, "DK-03", (long)((const char *)memchr(v, '\0', len) - v), NULL,
			  "the record holds a nul byte, which no tag value allows (RFC 6376 §3.2)")
			     ? ZW_EINVAL
			     : ZW_ENOMEM;
		goto fail;
	}
	if ((rc = tokenize(d, &c)))
		goto fail;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if ((rc = checks[i](d, find_tag(d, names[i]), &c)))
			goto fail;
	if (c.discard) {
		rc = ZW_EINVAL;
		goto fail;
	}
	d->usable = !d->revoked && key_fits(d) && (d->hashes & ZW_DKIM_HASH_SHA256) && d->email;
	*out = d;
	return 0;
fail:
	if (rc == ZW_ENOMEM)
		zw_error_set(err, ZW_ENOMEM, "out of memory");
	zw_dkim_free(d);
	return rc;
}

int zw_dkim_parse(struct zw_dkim **out, const char *v, size_t len, struct zw_findings *fs,
		  struct zw_error *err)
{
	return zw_dkim_parse_flags(out, v, len, 0, fs, err);
}

int zw_dkim_print(struct zw_buf *out, const struct zw_dkim *d)
{
	return zw_buf_add(out, d->raw, d->raw_len);
}

const char *zw_dkim_keytype_name(enum zw_dkim_keytype kt)
{
	static const char *const names[] = {"rsa", "ed25519", "unknown"};
	return (unsigned)kt < sizeof(names) / sizeof(names[0]) ? names[kt] : "unknown";
}

const char *zw_dkim_keykind_name(enum zw_dkim_keykind kind)
{
	static const char *const names[] = {"none",    "spki-rsa",     "pkcs1-rsa",
					    "ed25519", "spki-ed25519", "unknown"};
	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}
