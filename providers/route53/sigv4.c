/*
 * sigv4.c - AWS Signature Version 4 for the Route 53 provider (and STS, Route 53 Domains).
 *
 * canonical request = METHOD \n path \n sorted-encoded-query \n headers \n signed \n
 * hex(sha256(body)); string to sign = AWS4-HMAC-SHA256 \n date \n scope \n
 * hex(sha256(canonical)); key = HMAC chain "AWS4"+secret -> date -> region -> service ->
 * "aws4_request". Signed headers: content-type (with a body), host, x-amz-date and
 * x-amz-security-token (with session credentials) and x-amz-target (JSON protocols:
 * Route 53 Domains): exactly what route53.c sends.
 * Matches botocore byte for byte (tests/unit/test_route53.c has vectors from it).
 *
 * Everything lives in fixed stack buffers: no allocation, nothing to leak; a secret is
 * wiped from them before returning.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/route53/r53.h"

#define R53_CANON_MAX 8192
#define MAX_PAIRS     16

struct fixbuf {
	char *p;
	size_t len, cap;
	int over;
};

static void fb_add(struct fixbuf *b, const char *s, size_t n)
{
	if (b->over || b->len + n + 1 > b->cap) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void fb_adds(struct fixbuf *b, const char *s)
{
	fb_add(b, s, strlen(s));
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.' || c == '~';
}

static void fb_encode(struct fixbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3] = {'%', hex[c >> 4], hex[c & 15]};
		if (unreserved(c))
			fb_add(b, (const char *)&s[i], 1);
		else
			fb_add(b, e, 3);
	}
}

int r53_uri_encode(struct r53_buf *b, const char *s)
{
	char tmp[4096];
	struct fixbuf f = {tmp, 0, sizeof(tmp), 0};
	tmp[0] = '\0';
	fb_encode(&f, s, strlen(s));
	if (f.over)
		return ZW_PROV_EINVAL;
	return r53_buf_add(b, tmp, f.len);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out (also '+' stays '+': AWS queries are RFC 3986). */
static int pct_decode(char *out, size_t outsz, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

struct pair {
	char k[64], v[1100];
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c ? c : strcmp(x->v, y->v);
}

/* The canonical query of q (no leading '?'): pairs decoded, re-encoded, sorted. */
static int canonical_query(struct fixbuf *out, const char *q)
{
	struct pair pairs[MAX_PAIRS];
	memset(pairs, 0, sizeof(pairs));
	size_t n = 0;
	int rc = 0;
	const char *p = q;
	while (*p && rc == 0) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (n == MAX_PAIRS) {
			rc = ZW_PROV_EINVAL;
			break;
		}
		if (end > p) {
			const char *kend = eq ? eq : end;
			if (pct_decode(pairs[n].k, sizeof(pairs[n].k), p, (size_t)(kend - p)) ||
			    pct_decode(pairs[n].v, sizeof(pairs[n].v), eq ? eq + 1 : end,
				       eq ? (size_t)(end - eq - 1) : 0))
				rc = ZW_PROV_EINVAL;
			n++;
		}
		p = amp ? amp + 1 : end;
	}
	if (rc == 0) {
		qsort(pairs, n, sizeof(*pairs), cmp_pair);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fb_add(out, "&", 1);
			fb_encode(out, pairs[i].k, strlen(pairs[i].k));
			fb_add(out, "=", 1);
			fb_encode(out, pairs[i].v, strlen(pairs[i].v));
		}
	}
	return rc;
}

static void hex_of(char *out, const unsigned char *d, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(char out[65], const void *d, size_t n)
{
	unsigned char md[32];
	unsigned int len = 0;
	if (!EVP_Digest(d, n, md, &len, EVP_sha256(), NULL) || len != 32)
		return ZW_PROV_EIO;
	hex_of(out, md, 32);
	return 0;
}

static int hmac(unsigned char out[32], const void *key, size_t keylen, const char *msg)
{
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &len) ||
	    len != 32)
		return ZW_PROV_EIO;
	return 0;
}

void r53_amzdate(char out[17], time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int r53_sigv4(char *out, size_t outsz, const struct r53_sigreq *r)
{
	char canon[R53_CANON_MAX], sts[512], host[256], path[2048], hash[65], sig[65], date[9], scope[128];
	char ksecret[160];
	unsigned char k[32];
	struct fixbuf c = {canon, 0, sizeof(canon), 0};
	int has_body = r->body && r->body_len > 0, has_token = r->token && *r->token, rc;
	int has_target = r->target && *r->target;
	canon[0] = '\0';

	/* split the URL: scheme://host[:port]/path?query */
	const char *u = strstr(r->url, "://");
	if (!u || strlen(r->amzdate) != 16)
		return ZW_PROV_EINVAL;
	u += 3;
	size_t hl = strcspn(u, "/?");
	if (hl == 0 || hl >= sizeof(host))
		return ZW_PROV_EINVAL;
	memcpy(host, u, hl);
	host[hl] = '\0';
	u += hl;
	size_t pl = strcspn(u, "?");
	if (pl >= sizeof(path))
		return ZW_PROV_EINVAL;
	if (pl == 0)
		snprintf(path, sizeof(path), "/");
	else {
		memcpy(path, u, pl);
		path[pl] = '\0';
	}
	const char *query = u[pl] == '?' ? u + pl + 1 : "";

	fb_adds(&c, r->method);
	fb_adds(&c, "\n");
	fb_adds(&c, path);
	fb_adds(&c, "\n");
	if ((rc = canonical_query(&c, query)))
		return rc;
	fb_adds(&c, "\n");
	if (has_body) {
		fb_adds(&c, "content-type:");
		fb_adds(&c, r->content_type ? r->content_type : "");
		fb_adds(&c, "\n");
	}
	fb_adds(&c, "host:");
	fb_adds(&c, host);
	fb_adds(&c, "\nx-amz-date:");
	fb_adds(&c, r->amzdate);
	fb_adds(&c, "\n");
	if (has_token) {
		fb_adds(&c, "x-amz-security-token:");
		fb_adds(&c, r->token);
		fb_adds(&c, "\n");
	}
	if (has_target) {
		fb_adds(&c, "x-amz-target:");
		fb_adds(&c, r->target);
		fb_adds(&c, "\n");
	}
	char signed_headers[96];
	snprintf(signed_headers, sizeof(signed_headers), "%shost;x-amz-date%s%s",
		 has_body ? "content-type;" : "", has_token ? ";x-amz-security-token" : "",
		 has_target ? ";x-amz-target" : "");
	fb_adds(&c, "\n");
	fb_adds(&c, signed_headers);
	fb_adds(&c, "\n");
	if ((rc = sha256_hex(hash, has_body ? r->body : "", has_body ? r->body_len : 0)))
		return rc;
	fb_adds(&c, hash);
	if (c.over)
		return ZW_PROV_EINVAL;

	memcpy(date, r->amzdate, 8);
	date[8] = '\0';
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, r->region, r->service);
	if ((rc = sha256_hex(hash, canon, c.len)))
		return rc;
	snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amzdate, scope, hash);

	int n = snprintf(ksecret, sizeof(ksecret), "AWS4%s", r->secret);
	if (n < 0 || (size_t)n >= sizeof(ksecret))
		return ZW_PROV_EINVAL;
	rc = hmac(k, ksecret, (size_t)n, date);
	OPENSSL_cleanse(ksecret, sizeof(ksecret));
	if (rc || (rc = hmac(k, k, 32, r->region)) || (rc = hmac(k, k, 32, r->service)) ||
	    (rc = hmac(k, k, 32, "aws4_request")) || (rc = hmac(k, k, 32, sts))) {
		OPENSSL_cleanse(k, sizeof(k));
		return rc;
	}
	hex_of(sig, k, 32);
	OPENSSL_cleanse(k, sizeof(k));
	n = snprintf(out, outsz, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", r->akid,
		     scope, signed_headers, sig);
	return n < 0 || (size_t)n >= outsz ? ZW_PROV_EINVAL : 0;
}
