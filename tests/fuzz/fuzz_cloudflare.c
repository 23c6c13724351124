/*
 * fuzz_cloudflare.c - libFuzzer target for the Cloudflare provider's wire formats
 * (providers/cloudflare/cfwire.c).
 *
 * The first byte picks how the rest is used, each with a property that must hold:
 *  0: as TXT content read back: it decodes (every string at most 255 bytes, lengths
 *     summing to the data), and quoting then decoding again gives the same strings;
 *  1: as a JSON record: parsing never crashes, and a record that parses yields an
 *     absolute lower-case name, and a body built from it decodes back to the same rdata;
 *  2: as a response envelope: the code is one of the ABI's, pagination answers 0, 1 or
 *     ZW_PROV_EIO, the errors text is one bounded line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/cloudflare/cf.h"
#include "reconcile/alloc.h"

#define CHECK(c)                                                                                             \
	do {                                                                                                 \
		if (!(c))                                                                                    \
			abort();                                                                             \
	} while (0)

static const struct zw_prov_host host = {
	.abi = ZW_PROVIDER_ABI,
	.alloc = zw_malloc,
	.realloc = zw_realloc,
	.free = zw_free,
};

static int status_error(long status)
{
	return status >= 200 && status < 300 ? 0 : status >= 500 ? ZW_PROV_ETRANSIENT : ZW_PROV_EINVAL;
}

static void valid_txt(const struct cf_txt *t)
{
	size_t sum = 0;
	CHECK(t->n >= 1);
	for (size_t i = 0; i < t->n; i++) {
		CHECK(t->lens[i] <= CF_MAX_STRING);
		sum += t->lens[i];
	}
	CHECK(sum == t->len);
}

static void txt_case(const char *s)
{
	struct cf_txt t, back;
	char *q = NULL;
	if (cf_txt_unquote(&t, &host, s))
		return;
	valid_txt(&t);
	CHECK(cf_txt_quote(&q, &host, t.data, t.lens, t.n) == 0);
	CHECK(q[0] == '"');
	for (const char *p = q; *p; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e);
	CHECK(cf_txt_unquote(&back, &host, q) == 0);
	CHECK(back.n == t.n && back.len == t.len);
	CHECK(memcmp(back.lens, t.lens, t.n * sizeof(size_t)) == 0);
	CHECK(t.len == 0 || memcmp(back.data, t.data, t.len) == 0);
	cf_txt_free(&host, &back);
	zw_free(q);
	cf_txt_free(&host, &t);
}

static void rec_case(const char *s)
{
	cJSON *j = cJSON_Parse(s);
	struct cf_rec r, back;
	const char *why;
	if (!j)
		return;
	if (cf_rec_parse(&r, &host, j) == 0) {
		size_t n = strlen(r.name);
		CHECK(n > 0 && r.name[n - 1] == '.');
		for (size_t i = 0; i < n; i++)
			CHECK(!(r.name[i] >= 'A' && r.name[i] <= 'Z'));
		struct zw_prov_rdata rd = {r.txt.data, r.txt.len, r.txt.lens, r.txt.n, r.text};
		cJSON *body = cf_record_json(&host, r.id, r.name, r.type, r.ttl, &rd, 1, &why);
		if (body && r.type == 16) {
			/* what we would send reads back as what we read */
			CHECK(cf_rec_parse(&back, &host, body) == 0);
			CHECK(cf_rec_equal(&back, r.type, &rd));
			cf_rec_free(&host, &back);
		}
		cJSON_Delete(body);
		cf_rec_free(&host, &r);
	}
	cJSON_Delete(j);
}

static void envelope_case(const char *s, uint8_t sel)
{
	static const long statuses[] = {200, 400, 403, 429, 500, 503};
	cJSON *j = cJSON_Parse(s);
	char msg[128];
	int rc = cf_envelope_code(statuses[sel % 6], j, status_error);
	CHECK(rc <= 0 && rc >= ZW_PROV_EIO);
	cf_errors_text(msg, sizeof(msg), j);
	CHECK(strlen(msg) < sizeof(msg) && !strchr(msg, '\n'));
	int more = cf_next_page(j, 1 + sel % 3, sel % 2);
	CHECK(more == 0 || more == 1 || more == ZW_PROV_EIO);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 70000)
		return 0;
	char *s = zw_malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0: txt_case(s); break;
	case 1: rec_case(s); break;
	default: envelope_case(s, data[0]);
	}
	zw_free(s);
	return 0;
}
