/*
 * fuzz_route53.c - the Route 53 provider's readers over arbitrary bytes: the first byte
 * picks the reader (error bodies of both shapes, zone lists, GetHostedZone, record
 * pages, STS credentials, ChangeInfo, a TXT value, a name, an ini file), the rest is the
 * input. What a reader decodes is encoded again where the codec has both directions
 * (TXT: decode then encode then decode gives the same strings; names likewise).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "providers/route53/r53.h"
#include "reconcile/alloc.h"

static void *h_alloc(size_t n)
{
	return zw_malloc(n);
}
static void *h_realloc(void *p, size_t n)
{
	return zw_realloc(p, n);
}
static void h_free(void *p)
{
	zw_free(p);
}

static const struct zw_prov_host host = {ZW_PROVIDER_ABI, NULL, h_alloc, h_realloc, h_free, NULL, NULL};

static int take(void *ctx, const struct r53_set *s)
{
	size_t *n = ctx;
	*n += s->nvalues + strlen(s->name);
	return 0;
}

static void txt_roundtrip(const char *value)
{
	struct r53_buf d, l, e, d2, l2;
	r53_buf_init(&d, &host, 1 << 20);
	r53_buf_init(&l, &host, 1 << 20);
	r53_buf_init(&e, &host, 1 << 22);
	r53_buf_init(&d2, &host, 1 << 20);
	r53_buf_init(&l2, &host, 1 << 20);
	if (r53_txt_decode(&d, &l, value) == 0 && l.len) {
		size_t n = l.len / sizeof(size_t);
		if (r53_txt_encode(&e, d.p ? d.p : "", (const size_t *)(void *)l.p, n) == 0) {
			if (r53_txt_decode(&d2, &l2, e.p) != 0 || d2.len != d.len || l2.len != l.len ||
			    (d.len && memcmp(d.p, d2.p, d.len)) || memcmp(l.p, l2.p, l.len))
				__builtin_trap();
		}
	}
	r53_buf_free(&d);
	r53_buf_free(&l);
	r53_buf_free(&e);
	r53_buf_free(&d2);
	r53_buf_free(&l2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[8192], a[512], b[512];
	struct r53_zone zones[8];
	char ns[8][256];
	size_t n = 0;
	int trunc;
	struct zw_prov_error err = {0};
	struct r53_next next;
	struct r53_creds c;
	if (size < 1 || size > sizeof(text))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	const char *body = text;
	size_t len = size - 1;
	switch (data[0] % 9) {
	case 0: r53_parse_error(a, sizeof(a), b, sizeof(b), body, len); break;
	case 1: r53_parse_zones(zones, 8, &n, &trunc, body, len); break;
	case 2: r53_parse_hosted_zone(zones, ns, 8, &n, body, len); break;
	case 3: r53_parse_rrsets(body, len, take, &n, &next, &err); break;
	case 4: r53_parse_sts(&c, body, len, &err); break;
	case 5: r53_parse_change_info(a, sizeof(a), b, sizeof(b), body, len); break;
	case 6: txt_roundtrip(text); break;
	case 7: r53_name_decode(a, sizeof(a), text); break;
	case 8:
		r53_ini_get(a, sizeof(a), text, "default", "aws_access_key_id");
		r53_creds_from_ini(&c, text, text, "prod");
		break;
	}
	return 0;
}
