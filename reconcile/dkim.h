/*
 * dkim.h - DKIM key records (RFC 6376 §3.2, §3.6; RFC 8301; RFC 8463).
 *
 * zw_dkim_parse() reads the joined TXT value found at <selector>._domainkey.<d> (the
 * strings of ONE RR concatenated, CATALOGUE §B.0) into a struct zw_dkim and reports
 * DK-02..DK-10, DK-12, DK-13 and DK-16 findings. zw_dkim_check_key() validates a key
 * given in a manifest (base64 SubjectPublicKeyInfo or PKCS#1 for RSA, the raw 32 bytes
 * for ed25519). Keys are parsed with OpenSSL.
 *
 * The parser follows the tag-list grammar of RFC 6376 §3.2: tag names are
 * case-sensitive, FWS may surround names, '=' and values, a duplicate tag makes the
 * whole list invalid, unknown tags are ignored and an empty value is not an absent tag.
 * CR and LF are taken as whitespace (the stray-character classifier reports them, TX-02).
 *
 * Ownership: a struct zw_dkim owns every string and byte it points to; zw_dkim_free()
 * releases it. The raw text is kept byte for byte, so zw_dkim_print(zw_dkim_parse(x))
 * gives x back.
 */
#ifndef ZW_DKIM_H
#define ZW_DKIM_H

#include <stddef.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"

/* The k= tag (and the manifest's keyType). */
enum zw_dkim_keytype {
	ZW_DKIM_RSA = 0, /* k=rsa, the default (RFC 6376 §3.6.1) */
	ZW_DKIM_ED25519, /* k=ed25519 (RFC 8463) */
	ZW_DKIM_KEYTYPE_UNKNOWN,
};

/* What the decoded p= bytes turned out to be. */
enum zw_dkim_keykind {
	ZW_DKIM_KEY_NONE = 0,	  /* revoked, absent, or not valid base64 */
	ZW_DKIM_KEY_RSA_SPKI,	  /* SubjectPublicKeyInfo holding an RSA key */
	ZW_DKIM_KEY_RSA_PKCS1,	  /* bare PKCS#1 RSAPublicKey (DK-16) */
	ZW_DKIM_KEY_ED25519,	  /* the raw 32-byte key of RFC 8463 §4.2 */
	ZW_DKIM_KEY_ED25519_SPKI, /* an ed25519 SubjectPublicKeyInfo: not what RFC 8463 publishes */
	ZW_DKIM_KEY_UNKNOWN,	  /* decodes, but is no key we know (DK-05), or k= unknown */
};

/* h= hash algorithms (bits); all of them when h= is absent. */
#define ZW_DKIM_HASH_SHA1   0x1u
#define ZW_DKIM_HASH_SHA256 0x2u

/* t= flags (bits). */
#define ZW_DKIM_FLAG_TESTING 0x1u /* t=y */
#define ZW_DKIM_FLAG_STRICT  0x2u /* t=s: i= must equal d= */

/* zw_dkim_parse_flags() options. */
#define ZW_DKIM_EXPECT_REVOKED 0x1u /* the manifest says revoked: DK-06 is INFO, not ERROR */

struct zw_dkim_key {
	enum zw_dkim_keykind kind;
	unsigned char *der; /* the decoded p= bytes (NULL when none) */
	size_t der_len;
	int bits;		  /* RSA modulus size, 256 for ed25519, 0 when unknown */
	int has_sha256;		  /* sha256 below is set */
	unsigned char sha256[32]; /* see zw_dkim_key_sha256() */
};

/* A colon-separated list value (h=, s=, t=): items with the FWS around them removed. */
struct zw_dkim_list {
	char **v;
	size_t n;
};

struct zw_dkim_tag {
	char *name;    /* as written (tag names are case-sensitive) */
	char *value;   /* FWS before and after removed, FWS inside kept */
	size_t offset; /* byte offset of the name in the record */
};

struct zw_dkim {
	char *raw; /* the record as given, NUL-terminated */
	size_t raw_len;
	struct zw_dkim_tag *tags; /* in order of appearance, no duplicates */
	size_t ntags;

	int has_v;     /* v= present (it is then first and DKIM1) */
	const char *k; /* the k= value, or "rsa" when absent (borrowed) */
	enum zw_dkim_keytype keytype;
	struct zw_dkim_list h, s, t;
	unsigned hashes; /* ZW_DKIM_HASH_* usable with this key */
	unsigned flags;	 /* ZW_DKIM_FLAG_* */
	int email;	 /* s= allows e-mail (absent, '*' or 'email') */
	const char *p;	 /* the p= value as written (borrowed from tags) */
	int revoked;	 /* p= is empty */
	struct zw_dkim_key key;
	int usable; /* a verifier would accept signatures with this key */
};

/*
 * Parse a DKIM key record. On success *out owns the result (findings may still say the
 * key is unusable: see ->usable). A record that verifiers discard - tag-list syntax
 * error, duplicate tag, missing p= (DK-03), a bad or misplaced v= (DK-02) - gives
 * ZW_EINVAL, the findings say why and *out stays NULL. ZW_ENOMEM when out of memory.
 */
int zw_dkim_parse(struct zw_dkim **out, const char *v, size_t len, struct zw_findings *fs,
		  struct zw_error *err);
/* The same with ZW_DKIM_EXPECT_* flags. */
int zw_dkim_parse_flags(struct zw_dkim **out, const char *v, size_t len, unsigned flags,
			struct zw_findings *fs, struct zw_error *err);
void zw_dkim_free(struct zw_dkim *d);

/* The value of tag `name` (exact, case-sensitive), or NULL when absent. Borrowed. */
const char *zw_dkim_tag(const struct zw_dkim *d, const char *name);

/* Append the record as it was parsed (print(parse(x)) == x). */
int zw_dkim_print(struct zw_buf *out, const struct zw_dkim *d);

/*
 * Check a key given in a manifest: base64 (whitespace ignored) of a SubjectPublicKeyInfo
 * or PKCS#1 RSAPublicKey for ZW_DKIM_RSA, of the raw 32 bytes for ZW_DKIM_ED25519.
 * Reports DK-04, DK-05, DK-07 (RSA < 1024 bits), DK-08 (< 2048), DK-10 and DK-16.
 * Returns ZW_EINVAL when the key is refused (any of those at ERROR), with the reason in
 * err; 0 otherwise (warnings may have been added). *out is filled either way as far as
 * the key could be read; release it with zw_dkim_key_clear().
 */
int zw_dkim_check_key(struct zw_dkim_key *out, const char *b64, size_t len, enum zw_dkim_keytype kt,
		      struct zw_findings *fs, struct zw_error *err);
void zw_dkim_key_clear(struct zw_dkim_key *k);

/*
 * The key's fingerprint for DK-15, as 64 lower-case hex digits and a NUL in out[65]:
 * sha256 of the DER SubjectPublicKeyInfo for RSA (so the PKCS#1 and the SPKI spelling
 * of one key hash the same; `openssl pkey -pubin -outform DER | sha256sum`), of the raw
 * 32 bytes for ed25519, of the decoded bytes otherwise. ZW_ENOTFOUND when there is no
 * key (revoked, undecodable).
 */
int zw_dkim_key_sha256(char out[65], const struct zw_dkim_key *k);

const char *zw_dkim_keytype_name(enum zw_dkim_keytype kt);
const char *zw_dkim_keykind_name(enum zw_dkim_keykind kind);

#endif
