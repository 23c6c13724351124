/*
 * test_cloudflare.c - the Cloudflare provider: TXT content quoting and decoding (round
 * trips, legacy unquoted content), record and batch JSON, the error envelope, result_info
 * pagination, and the provider itself over a scripted HTTP table (zones, pending zones,
 * paginated listing, batches of at most batchSize operations, the per-record fallback,
 * 429s that stop sending without failing anything fatally, 403 naming the permission).
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "providers/cloudflare/cf.h"

extern const struct zw_provider zw_provider_cloudflare;

static const struct zw_prov_host host = {
	.abi = ZW_PROVIDER_ABI,
	.alloc = zw_malloc,
	.realloc = zw_realloc,
	.free = zw_free,
};

/* ---- TXT ---------------------------------------------------------------------------------- */

static char *quote(const char *data, const size_t *lens, size_t n)
{
	char *out = NULL;
	assert_int_equal(cf_txt_quote(&out, &host, data, lens, n), 0);
	return out;
}

static void test_quote(void **state)
{
	(void)state;
	size_t l1[] = {11};
	char *q = quote("v=spf1 -all", l1, 1);
	assert_string_equal(q, "\"v=spf1 -all\"");
	zw_free(q);
	size_t l2[] = {4, 3};
	q = quote("a\"b\\c\x01\xff", l2, 2);
	assert_string_equal(q, "\"a\\\"b\\\\\" \"c\\001\\255\"");
	zw_free(q);
	q = quote("", NULL, 0);
	assert_string_equal(q, "\"\"");
	zw_free(q);
	size_t l3[] = {0};
	q = quote("", l3, 1);
	assert_string_equal(q, "\"\"");
	zw_free(q);
	/* a string over 255 bytes is split at 255 */
	char big[300];
	memset(big, 'k', sizeof(big));
	size_t l4[] = {300};
	q = quote(big, l4, 1);
	assert_int_equal(strlen(q), 1 + 255 + 1 + 1 + 1 + 45 + 1);
	assert_int_equal(q[256], '"');
	assert_int_equal(q[257], ' ');
	assert_int_equal(q[258], '"');
	zw_free(q);
}

static void expect_txt(const char *content, size_t n, const size_t *lens, const char *data)
{
	struct cf_txt t;
	assert_int_equal(cf_txt_unquote(&t, &host, content), 0);
	assert_int_equal(t.n, n);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t.lens[i], lens[i]);
		total += lens[i];
	}
	assert_int_equal(t.len, total);
	assert_memory_equal(t.data, data, total);
	cf_txt_free(&host, &t);
}

static void test_unquote(void **state)
{
	(void)state;
	size_t l1[] = {11};
	expect_txt("\"v=spf1 -all\"", 1, l1, "v=spf1 -all");
	/* legacy unquoted content: taken literally, one string */
	expect_txt("v=spf1 -all", 1, l1, "v=spf1 -all");
	size_t l2[] = {4, 3};
	expect_txt("\"a\\\"b\\\\\" \"c\\001\\255\"", 2, l2, "a\"b\\c\x01\xff");
	/* two strings with no space between them, bare words beside quoted ones */
	size_t l3[] = {2, 2, 3};
	expect_txt("\"ab\"\"cd\" efg", 3, l3, "abcdefg");
	/* an unterminated quote: the content is legacy text, quote included */
	size_t l4[] = {4};
	expect_txt("\"abc", 1, l4, "\"abc");
	/* a bad \DDD (over 255): legacy */
	size_t l5[] = {6};
	expect_txt("\"\\300\"", 1, l5, "\"\\300\"");
	size_t l6[] = {0};
	expect_txt("\"\"", 1, l6, "");
	expect_txt("", 1, l6, "");
	/* legacy text over 255 bytes is served split at 255 */
	char big[600];
	memset(big, 'x', 599);
	big[599] = '\0';
	size_t l7[] = {255, 255, 89};
	expect_txt(big, 3, l7, big);
	/* a quoted string over 255 bytes too */
	char qbig[700];
	snprintf(qbig, sizeof(qbig), "\"%s\"", big);
	expect_txt(qbig, 3, l7, big);
}

/* Every byte value, strings of many lengths: quote then unquote gives the same strings. */
static void test_round_trip(void **state)
{
	(void)state;
	unsigned seed = 7;
	for (int round = 0; round < 500; round++) {
		char data[1200];
		size_t lens[6], n = (size_t)(round % 5) + 1, len = 0;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			lens[i] = (seed >> 8) % 256;
			for (size_t k = 0; k < lens[i]; k++) {
				seed = seed * 1103515245u + 12345u;
				data[len + k] = (char)(seed >> 16);
			}
			len += lens[i];
		}
		char *q = quote(data, lens, n);
		assert_int_equal(q[0], '"');
		struct cf_txt t;
		assert_int_equal(cf_txt_unquote(&t, &host, q), 0);
		assert_int_equal(t.n, n);
		assert_int_equal(t.len, len);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(t.lens[i], lens[i]);
		if (len)
			assert_memory_equal(t.data, data, len);
		cf_txt_free(&host, &t);
		zw_free(q);
	}
}

static int quote_unquote_once(void)
{
	size_t lens[] = {3, 2};
	char *q = NULL;
	struct cf_txt t;
	int rc = cf_txt_quote(&q, &host, "a\"bcd", lens, 2);
	if (rc)
		return rc;
	rc = cf_txt_unquote(&t, &host, q);
	zw_free(q);
	if (rc)
		return rc;
	cf_txt_free(&host, &t);
	return cf_txt_unquote(&t, &host, "legacy text") ? -1 : (cf_txt_free(&host, &t), 0);
}

static void test_txt_alloc_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(quote_unquote_once());
}

/* ---- records and batches -------------------------------------------------------------------- */

static void test_rec_parse(void **state)
{
	(void)state;
	struct cf_rec r;
	cJSON *j = cJSON_Parse("{\"id\":\"r1\",\"name\":\"Example.TEST\",\"type\":\"TXT\","
			       "\"content\":\"\\\"v=spf1 \\\" \\\"-all\\\"\",\"ttl\":1}");
	assert_int_equal(cf_rec_parse(&r, &host, j), 0);
	assert_string_equal(r.id, "r1");
	assert_string_equal(r.name, "example.test.");
	assert_int_equal(r.type, 16);
	assert_int_equal(r.ttl, 300);
	assert_int_equal(r.txt.n, 2);
	assert_int_equal(r.txt.lens[0], 7);
	assert_memory_equal(r.txt.data, "v=spf1 -all", 11);
	size_t lens[] = {7, 4};
	struct zw_prov_rdata rd = {"v=spf1 -all", 11, lens, 2, NULL};
	assert_true(cf_rec_equal(&r, 16, &rd));
	size_t lens1[] = {11};
	struct zw_prov_rdata one = {"v=spf1 -all", 11, lens1, 1, NULL};
	assert_false(cf_rec_equal(&r, 16, &one)); /* the split matters: bytes on the wire differ */
	cf_rec_free(&host, &r);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"id\":\"r2\",\"name\":\"x.example.test\",\"type\":\"CNAME\",\"content\":\"Target."
			"ESP.test\","
			"\"ttl\":3600,\"proxied\":false}");
	assert_int_equal(cf_rec_parse(&r, &host, j), 0);
	assert_string_equal(r.text, "target.esp.test.");
	assert_int_equal(r.ttl, 3600);
	struct zw_prov_rdata cn = {NULL, 0, NULL, 0, "TARGET.esp.test."};
	assert_true(cf_rec_equal(&r, 5, &cn));
	assert_false(cf_rec_equal(&r, 16, &cn));
	cf_rec_free(&host, &r);
	cJSON_Delete(j);

	j = cJSON_Parse(
		"{\"id\":\"r3\",\"name\":\"example.test\",\"type\":\"MX\",\"content\":\"mx.example.test\","
		"\"priority\":10,\"ttl\":300}");
	assert_int_equal(cf_rec_parse(&r, &host, j), 0);
	assert_string_equal(r.text, "10 mx.example.test.");
	cf_rec_free(&host, &r);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"id\":\"r4\",\"name\":\"example.test\",\"type\":\"WHATEVER\",\"content\":\"x\","
			"\"ttl\":300}");
	assert_int_equal(cf_rec_parse(&r, &host, j), ZW_PROV_EUNSUPPORTED);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"name\":\"example.test\",\"type\":\"TXT\",\"content\":\"x\",\"ttl\":300}");
	assert_int_equal(cf_rec_parse(&r, &host, j), ZW_PROV_EIO);
	cJSON_Delete(j);
}

static char *print(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	cJSON_Delete(j);
	return s;
}

static void test_record_json(void **state)
{
	(void)state;
	const char *why;
	size_t lens[] = {20};
	struct zw_prov_rdata txt = {"v=DMARC1; p=\"reject\"", 20, lens, 1, NULL};
	char *s = print(cf_record_json(&host, NULL, "_dmarc.example.test.", 16, 300, &txt, 1, &why));
	assert_string_equal(s, "{\"type\":\"TXT\",\"name\":\"_dmarc.example.test\",\"content\":"
			       "\"\\\"v=DMARC1; p=\\\\\\\"reject\\\\\\\"\\\"\",\"ttl\":300,"
			       "\"comment\":\"managed by zonewarden\"}");
	cJSON_free(s);
	struct zw_prov_rdata cn = {NULL, 0, NULL, 0, "u1234.links.esp.test."};
	s = print(cf_record_json(&host, "abc", "em1234.example.test.", 5, 0, &cn, 1, &why));
	assert_string_equal(s,
			    "{\"id\":\"abc\",\"type\":\"CNAME\",\"name\":\"em1234.example.test\",\"content\":"
			    "\"u1234.links.esp.test\",\"ttl\":1,\"proxied\":false,\"comment\":\"managed by "
			    "zonewarden\"}");
	cJSON_free(s);
	struct zw_prov_rdata mx = {NULL, 0, NULL, 0, "10 mx.example.test."};
	s = print(cf_record_json(&host, NULL, "example.test.", 15, 100000, &mx, 0, &why));
	assert_string_equal(
		s, "{\"type\":\"MX\",\"name\":\"example.test\",\"content\":\"mx.example.test\",\"ttl\":86400,"
		   "\"priority\":10}"); /* not claimed: no comment */
	cJSON_free(s);
	struct zw_prov_rdata bad = {NULL, 0, NULL, 0, "mx.example.test."};
	assert_null(cf_record_json(&host, NULL, "example.test.", 15, 300, &bad, 1, &why));
	assert_string_equal(why, "an mx record needs 'priority host'");
	struct zw_prov_rdata caa = {NULL, 0, NULL, 0, "0 issue \"ca.test\""};
	assert_null(cf_record_json(&host, NULL, "example.test.", 257, 300, &caa, 1, &why));
	assert_non_null(why);
	assert_int_equal(cf_type_code("aaaa"), 28);
	assert_string_equal(cf_type_name(16), "TXT");
	assert_null(cf_type_name(6));
}

static void test_batch_json(void **state)
{
	(void)state;
	const char *why;
	size_t lens[] = {3};
	struct zw_prov_rdata rd = {"abc", 3, lens, 1, NULL};
	struct cf_op ops[3] = {
		{CF_DELETE, 0, "d1", NULL, NULL, 16, 300, NULL, 0},
		{CF_PATCH, 1, "p1", cf_record_json(&host, NULL, "a.example.test.", 16, 300, &rd, 1, &why),
		 NULL, 16, 300, &rd, 0},
		{CF_POST, 2, NULL, cf_record_json(&host, NULL, "b.example.test.", 16, 300, &rd, 1, &why),
		 NULL, 16, 300, &rd, 0},
	};
	char *s = NULL;
	assert_int_equal(cf_batch_json(&s, ops, 3), 0);
	assert_string_equal(
		s, "{\"deletes\":[{\"id\":\"d1\"}],"
		   "\"patches\":[{\"type\":\"TXT\",\"name\":\"a.example.test\",\"content\":\"\\\"abc\\\"\","
		   "\"ttl\":300,\"comment\":\"managed by zonewarden\",\"id\":\"p1\"}],"
		   "\"posts\":[{\"type\":\"TXT\",\"name\":\"b.example.test\",\"content\":\"\\\"abc\\\"\","
		   "\"ttl\":300,\"comment\":\"managed by zonewarden\"}]}");
	cJSON_free(s);
	assert_int_equal(cf_batch_json(&s, ops + 2, 1), 0);
	assert_non_null(strstr(s, "\"posts\""));
	assert_null(strstr(s, "\"deletes\""));
	cJSON_free(s);
	cJSON_Delete(ops[1].body);
	cJSON_Delete(ops[2].body);
}

static int status_error(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	if (status == 401 || status == 403)
		return ZW_PROV_EAUTH;
	if (status == 404)
		return ZW_PROV_ENOTFOUND;
	if (status == 429)
		return ZW_PROV_ERATE;
	if (status >= 500)
		return ZW_PROV_ETRANSIENT;
	return ZW_PROV_EINVAL;
}

static void test_envelope(void **state)
{
	(void)state;
	char msg[256];
	cJSON *ok = cJSON_Parse("{\"success\":true,\"errors\":[],\"messages\":[],\"result\":[]}");
	cJSON *bad = cJSON_Parse(
		"{\"success\":false,\"errors\":[{\"code\":81057,\"message\":\"The record already exists.\"},"
		"{\"code\":1004,\"message\":\"DNS Validation Error\"}],\"messages\":[],\"result\":null}");
	cJSON *r971 =
		cJSON_Parse("{\"success\":false,\"errors\":[{\"code\":971,\"message\":\"Please wait\"}],"
			    "\"messages\":[],\"result\":null}");
	cJSON *r10429 = cJSON_Parse("{\"success\":false,\"errors\":[{\"code\":10429,\"message\":\"x\"}],"
				    "\"messages\":[],\"result\":null}");
	assert_int_equal(cf_envelope_code(200, ok, status_error), 0);
	assert_int_equal(cf_envelope_code(200, bad, status_error),
			 ZW_PROV_EINVAL); /* success:false on a 200 */
	assert_int_equal(cf_envelope_code(400, bad, status_error), ZW_PROV_EINVAL);
	assert_int_equal(cf_envelope_code(429, NULL, status_error), ZW_PROV_ERATE);
	assert_int_equal(cf_envelope_code(429, bad, status_error), ZW_PROV_ERATE);
	assert_int_equal(cf_envelope_code(400, r10429, status_error), ZW_PROV_ERATE);
	assert_int_equal(cf_envelope_code(200, r971, status_error), ZW_PROV_ERATE);
	assert_int_equal(cf_envelope_code(500, NULL, status_error), ZW_PROV_ETRANSIENT);
	assert_int_equal(cf_envelope_code(403, bad, status_error), ZW_PROV_EAUTH);
	assert_int_equal(cf_envelope_code(200, NULL, status_error), ZW_PROV_EIO);
	assert_int_equal(cf_errors_text(msg, sizeof(msg), bad), 2);
	assert_string_equal(msg, "81057 The record already exists.; 1004 DNS Validation Error");
	assert_int_equal(cf_errors_text(msg, sizeof(msg), ok), 0);
	assert_string_equal(msg, "");
	assert_int_equal(cf_errors_text(msg, 10, bad), 2);
	assert_string_equal(msg, "81057 The");
	cJSON_Delete(ok);
	cJSON_Delete(bad);
	cJSON_Delete(r971);
	cJSON_Delete(r10429);
}

static void test_next_page(void **state)
{
	(void)state;
	cJSON *p1 =
		cJSON_Parse("{\"result_info\":{\"page\":1,\"per_page\":100,\"count\":100,\"total_count\":250,"
			    "\"total_pages\":3}}");
	cJSON *p3 =
		cJSON_Parse("{\"result_info\":{\"page\":3,\"per_page\":100,\"count\":50,\"total_pages\":3}}");
	cJSON *none = cJSON_Parse("{\"result\":[]}");
	cJSON *empty = cJSON_Parse("{\"result_info\":{\"page\":1,\"total_pages\":0}}");
	assert_int_equal(cf_next_page(p1, 1, 100), 1);
	assert_int_equal(cf_next_page(p1, 2, 100), ZW_PROV_EIO); /* not the page asked for */
	assert_int_equal(cf_next_page(p1, 1, 0), ZW_PROV_EIO);	 /* an empty page before the end */
	assert_int_equal(cf_next_page(p3, 3, 50), 0);
	assert_int_equal(cf_next_page(none, 1, 0), ZW_PROV_EIO);
	assert_int_equal(cf_next_page(empty, 1, 0), 0);
	cJSON_Delete(p1);
	cJSON_Delete(p3);
	cJSON_Delete(none);
	cJSON_Delete(empty);
}

/* ---- the provider over a scripted HTTP table ------------------------------------------------ */

#define MAX_SEEN 64

struct script {
	/* answers, matched by method and a substring of the url, in order of the table */
	struct {
		const char *method, *url_has;
		long status;
		const char *body;
		int times; /* 0: always */
	} v[16];
	size_t n;
	/* what was asked */
	char seen[MAX_SEEN][160];
	size_t batch_ops[MAX_SEEN];
	size_t nseen;
	char secret[64];
};

static size_t count_ops(const char *body)
{
	cJSON *j = cJSON_Parse(body);
	size_t n = 0;
	const char *keys[] = {"deletes", "patches", "puts", "posts"};
	for (size_t k = 0; k < 4; k++)
		n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(j, keys[k]));
	cJSON_Delete(j);
	return n;
}

static int fake_request(void *ctx, const struct zw_prov_http_req *req, struct zw_prov_http_resp *resp,
			struct zw_prov_error *err)
{
	struct script *s = ctx;
	memset(resp, 0, sizeof(*resp));
	resp->body = "";
	assert_true(s->nseen < MAX_SEEN);
	const char *path = strstr(req->url, "/client/v4");
	snprintf(s->seen[s->nseen], sizeof(s->seen[0]), "%s %s", req->method, path ? path + 10 : req->url);
	s->batch_ops[s->nseen] = req->body && strstr(req->url, "/batch") ? count_ops(req->body) : 0;
	s->nseen++;
	assert_string_equal(req->headers[0], "Authorization: Bearer test-token-123");
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].method, req->method) != 0 || !strstr(req->url, s->v[i].url_has))
			continue;
		if (s->v[i].times < 0)
			continue;
		if (s->v[i].times > 0 && --s->v[i].times == 0)
			s->v[i].times = -1;
		if (s->v[i].status == 0) { /* no answer: the connection dropped */
			err->code = ZW_PROV_ETRANSIENT;
			snprintf(err->msg, sizeof(err->msg), "%s %s: connection closed without a response",
				 req->method, req->url);
			return ZW_PROV_ETRANSIENT;
		}
		resp->status = s->v[i].status;
		resp->body = s->v[i].body;
		resp->body_len = strlen(s->v[i].body);
		resp->attempts = 1;
		uint64_t ra = 0;
		int rc = req->classify(req->classify_ctx, resp, &ra);
		if (rc) {
			err->code = rc;
			snprintf(err->msg, sizeof(err->msg), "%s %s: http %ld", req->method, req->url,
				 resp->status);
		}
		return rc;
	}
	err->code = ZW_PROV_ETRANSIENT;
	snprintf(err->msg, sizeof(err->msg), "no answer scripted");
	return ZW_PROV_ETRANSIENT;
}

static void fake_release(void *ctx, struct zw_prov_http_resp *resp)
{
	(void)ctx;
	memset(resp, 0, sizeof(*resp));
}

static int fake_budget(void *ctx, const char *account, unsigned n, uint64_t period_ms, unsigned burst,
		       struct zw_prov_error *err)
{
	(void)ctx;
	(void)err;
	assert_string_equal(account, "cloudflare:acct1");
	assert_int_equal(n, 1200);
	assert_int_equal(period_ms, 300000);
	assert_int_equal(burst, 100);
	return 0;
}

static int fake_secret(void *ctx, const char *secret, struct zw_prov_error *err)
{
	struct script *s = ctx;
	(void)err;
	snprintf(s->secret, sizeof(s->secret), "%s", secret);
	return 0;
}

struct opt {
	const char *name, *value;
};
struct settings {
	struct opt v[8];
};

static const char *get(const struct zw_prov_settings *s, const char *name)
{
	const struct settings *st = s->impl;
	for (size_t i = 0; i < 8 && st->v[i].name; i++)
		if (strcmp(st->v[i].name, name) == 0)
			return st->v[i].value;
	return NULL;
}

struct world {
	struct script s;
	struct zw_prov_http http;
	struct zw_prov_host host;
	struct settings set;
	struct zw_prov_settings settings;
	void *state;
};

static void world_open(struct world *w, const char *per_page, const char *batch)
{
	w->http = (struct zw_prov_http){.ctx = &w->s,
					.request = fake_request,
					.release = fake_release,
					.status_error = status_error,
					.budget = fake_budget,
					.secret = fake_secret};
	w->host = host;
	w->host.http = &w->http;
	w->set = (struct settings){{{"accountId", "acct1"}, {"perPage", per_page}, {"batchSize", batch}}};
	w->settings = (struct zw_prov_settings){get, &w->set};
	setenv("CLOUDFLARE_API_TOKEN", "test-token-123", 1);
	setenv("CLOUDFLARE_API_BASE_URL", "http://127.0.0.1:9/client/v4/", 1);
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.open(&w->state, &w->host, &w->settings, &e), 0);
	assert_string_equal(w->s.secret, "test-token-123");
}

static void answer(struct world *w, const char *method, const char *url_has, long status, const char *body,
		   int times)
{
	w->s.v[w->s.n].method = method;
	w->s.v[w->s.n].url_has = url_has;
	w->s.v[w->s.n].status = status;
	w->s.v[w->s.n].body = body;
	w->s.v[w->s.n].times = times;
	w->s.n++;
}

struct zone_seen {
	char apex[64], id[64];
};
static int emit_zone(void *ctx, const char *apex, const char *id)
{
	struct zone_seen *z = ctx;
	snprintf(z->apex, sizeof(z->apex), "%s", apex);
	snprintf(z->id, sizeof(z->id), "%s", id);
	return 0;
}
static int emit_ns(void *ctx, const char *ns)
{
	char *all = ctx;
	size_t used = strlen(all);
	snprintf(all + used, 256 - used, "%s ", ns);
	return 0;
}
static int emit_count(void *ctx, const struct zw_prov_rrset *set)
{
	size_t *n = ctx;
	assert_int_equal(set->nrd, 1);
	assert_int_equal(set->name[strlen(set->name) - 1], '.');
	(*n)++;
	return 0;
}

#define ZID "023e105f4ecef8ad9ca31a8372d0c353"
#define ZONES_OK                                                                                             \
	"{\"success\":true,\"errors\":[],\"messages\":[],\"result\":[{\"id\":\"" ZID                         \
	"\",\"name\":\"example.test\","                                                                      \
	"\"status\":\"active\",\"name_servers\":[\"Ada.ns.cloudflare.test\",\"bob.ns.cloudflare.test\"]}],"  \
	"\"result_info\":{\"page\":1,\"per_page\":20,\"total_pages\":1,\"count\":1,\"total_count\":1}}"

static void test_zones(void **state)
{
	(void)state;
	struct world w;
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "/zones?name=mail.example.test", 200,
	       "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":[],\"result_info\":{\"page\":1,"
	       "\"total_pages\":0}}",
	       0);
	answer(&w, "GET", "/zones?name=example.test", 200, ZONES_OK, 0);
	struct zone_seen z;
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.find_zone(w.state, "mail.example.test.", emit_zone, &z, &e),
			 0);
	assert_string_equal(z.apex, "example.test.");
	assert_string_equal(z.id, ZID);
	assert_int_equal(w.s.nseen, 2);
	char ns[256] = "";
	assert_int_equal(zw_provider_cloudflare.nameservers(w.state, ZID, emit_ns, ns, &e), 0);
	assert_string_equal(ns, "ada.ns.cloudflare.test. bob.ns.cloudflare.test. ");
	assert_int_equal(w.s.nseen, 2); /* kept from the zone lookup: no second call */
	zw_provider_cloudflare.close(w.state);

	/* a pending zone: DL-10 with the name servers to set */
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "/zones?name=example.test", 200,
	       "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":[{\"id\":\"" ZID
	       "\",\"name\":\"example.test\","
	       "\"status\":\"pending\",\"name_servers\":[\"ada.ns.cloudflare.test\",\"bob.ns.cloudflare."
	       "test\"]}]}",
	       0);
	assert_int_equal(zw_provider_cloudflare.find_zone(w.state, "example.test", emit_zone, &z, &e),
			 ZW_PROV_EINVAL);
	assert_string_equal(
		e.msg, "DL-10 zone example.test is pending at cloudflare, not active: set its name servers "
		       "at the registrar to {ada.ns.cloudflare.test bob.ns.cloudflare.test}");
	zw_provider_cloudflare.close(w.state);

	/* a token without Zone Read: one line naming the permission */
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "/zones?name=example.test", 403,
	       "{\"success\":false,\"errors\":[{\"code\":9109,\"message\":\"Unauthorized to access requested "
	       "resource\"}],"
	       "\"messages\":[],\"result\":null}",
	       0);
	assert_int_equal(zw_provider_cloudflare.find_zone(w.state, "example.test", emit_zone, &z, &e),
			 ZW_PROV_EAUTH);
	assert_string_equal(
		e.msg, "cloudflare refused GET /zones?name=example.test (http 403): the api token lacks the "
		       "'Zone Read' permission: 9109 Unauthorized to access requested resource");
	assert_null(strstr(e.msg, "test-token-123"));
	zw_provider_cloudflare.close(w.state);
}

/* page N of a listing: `n` TXT records named rN.example.test */
static char *page_body(int page, int per_page, int total)
{
	static char buf[3][65536];
	char *b = buf[page % 3];
	size_t used = 0;
	int first = (page - 1) * per_page, last = first + per_page < total ? first + per_page : total;
	used += (size_t)snprintf(b + used, sizeof(buf[0]) - used,
				 "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":[");
	for (int i = first; i < last; i++)
		used += (size_t)snprintf(b + used, sizeof(buf[0]) - used,
					 "%s{\"id\":\"id%d\",\"name\":\"r%d.example.test\",\"type\":\"TXT\","
					 "\"content\":\"\\\"v%d\\\"\",\"ttl\":300}",
					 i > first ? "," : "", i, i, i);
	snprintf(b + used, sizeof(buf[0]) - used,
		 "],\"result_info\":{\"page\":%d,\"per_page\":%d,\"count\":%d,\"total_count\":%d,\"total_"
		 "pages\":%d}}",
		 page, per_page, last - first, total, (total + per_page - 1) / per_page);
	return b;
}

static void test_list_pages(void **state)
{
	(void)state;
	struct world w;
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "page=1&per_page=100", 200, page_body(1, 100, 250), 0);
	answer(&w, "GET", "page=2&per_page=100", 200, page_body(2, 100, 250), 0);
	answer(&w, "GET", "page=3&per_page=100", 200, page_body(3, 100, 250), 0);
	size_t n = 0;
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), 0);
	assert_int_equal(n, 250);
	assert_int_equal(w.s.nseen, 3);
	assert_string_equal(w.s.seen[2], "GET /zones/" ZID "/dns_records?page=3&per_page=100");
	/* a server that claims more pages but gives an empty one: an error, not a loop */
	w.s.n = 0;
	answer(&w, "GET", "page=1&", 200,
	       "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":[],\"result_info\":{\"page\":1,"
	       "\"total_pages\":9}}",
	       0);
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), ZW_PROV_EIO);
	assert_string_equal(e.msg, "cloudflare listing of zone " ZID ": bad result_info on page 1");
	assert_int_equal(zw_provider_cloudflare.list(w.state, "../x", emit_count, &n, &e), ZW_PROV_EINVAL);
	zw_provider_cloudflare.close(w.state);
}

#define OKBATCH "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":{}}"
#define OKONE	"{\"success\":true,\"errors\":[],\"messages\":[],\"result\":{\"id\":\"x\"}}"

/* changes: 250 CREATEs of TXT records, plus an UPDATE and a DELETE of listed records */
struct changeset {
	struct zw_prov_change ch[260];
	struct zw_prov_rrset sets[260][2];
	struct zw_prov_rdata rd[260][2];
	size_t lens[260][2];
	char names[260][64], data[260][2][16];
	size_t n;
};

static void make_changes(struct changeset *c, size_t creates)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < creates; i++) {
		snprintf(c->names[i], sizeof(c->names[i]), "new%zu.example.test.", i);
		snprintf(c->data[i][1], sizeof(c->data[i][1]), "n%zu", i);
		c->lens[i][1] = strlen(c->data[i][1]);
		c->rd[i][1] = (struct zw_prov_rdata){c->data[i][1], c->lens[i][1], &c->lens[i][1], 1, NULL};
		c->sets[i][1] = (struct zw_prov_rrset){c->names[i], 16, 300, &c->rd[i][1], 1};
		c->ch[i] = (struct zw_prov_change){ZW_PROV_CREATE, NULL, &c->sets[i][1], 0, ""};
	}
	/* update r1 from "v1" to "v1-new", delete r2 */
	size_t u = creates, d = creates + 1;
	snprintf(c->names[u], sizeof(c->names[u]), "r1.example.test.");
	snprintf(c->data[u][0], 16, "v1");
	snprintf(c->data[u][1], 16, "v1-new");
	for (int k = 0; k < 2; k++) {
		c->lens[u][k] = strlen(c->data[u][k]);
		c->rd[u][k] = (struct zw_prov_rdata){c->data[u][k], c->lens[u][k], &c->lens[u][k], 1, NULL};
		c->sets[u][k] = (struct zw_prov_rrset){c->names[u], 16, 300, &c->rd[u][k], 1};
	}
	c->ch[u] = (struct zw_prov_change){ZW_PROV_UPDATE, &c->sets[u][0], &c->sets[u][1], 0, ""};
	snprintf(c->names[d], sizeof(c->names[d]), "r2.example.test.");
	snprintf(c->data[d][0], 16, "v2");
	c->lens[d][0] = 2;
	c->rd[d][0] = (struct zw_prov_rdata){c->data[d][0], 2, &c->lens[d][0], 1, NULL};
	c->sets[d][0] = (struct zw_prov_rrset){c->names[d], 16, 300, &c->rd[d][0], 1};
	c->ch[d] = (struct zw_prov_change){ZW_PROV_DELETE, &c->sets[d][0], NULL, 0, ""};
	c->n = creates + 2;
}

static void test_apply_batches(void **state)
{
	(void)state;
	static struct world w;
	static struct changeset c;
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "page=1&", 200, page_body(1, 100, 5), 0);
	answer(&w, "POST", "/dns_records/batch", 200, OKBATCH, 0);
	size_t n = 0;
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), 0);
	make_changes(&c, 250);
	assert_int_equal(zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e), 0);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.ch[i].result, ZW_PROV_APPLIED);
	/* 1 list, then ceil(252 / 200) = 2 batches, none over 200 operations */
	assert_int_equal(w.s.nseen, 3);
	assert_string_equal(w.s.seen[1], "POST /zones/" ZID "/dns_records/batch");
	assert_int_equal(w.s.batch_ops[1], 200);
	assert_int_equal(w.s.batch_ops[2], 52);
	zw_provider_cloudflare.close(w.state);
}

static void test_apply_fallback(void **state)
{
	(void)state;
	static struct world w;
	static struct changeset c;
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "page=1&", 200, page_body(1, 100, 5), 0);
	/* the batch is refused (HTTP 200, success:false): one call per record, each reported */
	answer(&w, "POST", "/dns_records/batch", 200,
	       "{\"success\":false,\"errors\":[{\"code\":81058,\"message\":\"An identical record already "
	       "exists.\"}],"
	       "\"messages\":[],\"result\":null}",
	       0);
	answer(&w, "POST", "/dns_records", 400,
	       "{\"success\":false,\"errors\":[{\"code\":81058,\"message\":\"An identical record already "
	       "exists.\"}],"
	       "\"messages\":[],\"result\":null}",
	       1);
	answer(&w, "POST", "/dns_records", 200, OKONE, 0);
	answer(&w, "PATCH", "/dns_records/id1", 200, OKONE, 0);
	answer(&w, "DELETE", "/dns_records/id2", 200, OKONE, 0);
	size_t n = 0;
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), 0);
	make_changes(&c, 3);
	assert_int_not_equal(zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e), 0);
	/* order: the batch, then the delete, the patch, the posts */
	assert_int_equal(w.s.nseen, 1 + 1 + 5);
	assert_string_equal(w.s.seen[2], "DELETE /zones/" ZID "/dns_records/id2");
	assert_string_equal(w.s.seen[3], "PATCH /zones/" ZID "/dns_records/id1");
	assert_string_equal(w.s.seen[4], "POST /zones/" ZID "/dns_records");
	assert_int_equal(c.ch[0].result, ZW_PROV_PERMANENT);
	assert_non_null(strstr(c.ch[0].message, "81058 An identical record already exists."));
	assert_int_equal(c.ch[1].result, ZW_PROV_APPLIED);
	assert_string_equal(c.ch[1].message, "applied record by record");
	assert_int_equal(c.ch[2].result, ZW_PROV_APPLIED);
	assert_int_equal(c.ch[3].result, ZW_PROV_APPLIED); /* the update */
	assert_int_equal(c.ch[4].result, ZW_PROV_APPLIED); /* the delete */
	zw_provider_cloudflare.close(w.state);
}

#define LANDED                                                                                               \
	"{\"success\":true,\"errors\":[],\"messages\":[],\"result\":["                                       \
	"{\"id\":\"id0\",\"name\":\"r0.example.test\",\"type\":\"TXT\",\"content\":\"\\\"v0\\\"\",\"ttl\":"  \
	"300},"                                                                                              \
	"{\"id\":\"id1\",\"name\":\"r1.example.test\",\"type\":\"TXT\",\"content\":\"\\\"v1-new\\\"\","      \
	"\"ttl\":300},"                                                                                      \
	"{\"id\":\"n0\",\"name\":\"new0.example.test\",\"type\":\"TXT\",\"content\":\"\\\"n0\\\"\",\"ttl\":" \
	"300}],"                                                                                             \
	"\"result_info\":{\"page\":1,\"per_page\":100,\"total_pages\":1}}"

/* A batch whose answer never came: the zone is listed again; what landed is not resent. */
static void test_apply_unknown_outcome(void **state)
{
	(void)state;
	static struct world w;
	static struct changeset c;
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "200");
	answer(&w, "GET", "page=1&", 200, page_body(1, 100, 3), 1);
	answer(&w, "GET", "page=1&", 200, LANDED, 0);
	answer(&w, "POST", "/dns_records/batch", 0, "", 0);
	size_t n = 0;
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), 0);
	make_changes(&c, 1);
	assert_int_equal(zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e), 0);
	assert_int_equal(w.s.nseen, 3); /* list, the batch, the list that settles it: nothing resent */
	assert_string_equal(w.s.seen[2], "GET /zones/" ZID "/dns_records?page=1&per_page=100");
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.ch[i].result, ZW_PROV_APPLIED);

	/* the same, but nothing landed: each op once more, on its own */
	memset(&w.s, 0, sizeof(w.s));
	answer(&w, "GET", "page=1&", 200, page_body(1, 100, 3), 0);
	answer(&w, "POST", "/dns_records/batch", 0, "", 0);
	answer(&w, "POST", "/dns_records", 200, OKONE, 0);
	answer(&w, "PATCH", "/dns_records/id1", 200, OKONE, 0);
	answer(&w, "DELETE", "/dns_records/id2", 404,
	       "{\"success\":false,\"errors\":[{\"code\":81044,\"message\":\"Record does not exist.\"}],"
	       "\"messages\":[],\"result\":null}",
	       0);
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), 0);
	assert_int_equal(zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e), 0);
	assert_int_equal(w.s.nseen, 6); /* list, batch, list, delete, patch, post */
	assert_string_equal(w.s.seen[3], "DELETE /zones/" ZID "/dns_records/id2");
	assert_string_equal(w.s.seen[5], "POST /zones/" ZID "/dns_records");
	/* a record already gone is what the delete wanted */
	assert_int_equal(c.ch[2].result, ZW_PROV_APPLIED);
	zw_provider_cloudflare.close(w.state);
}

static void test_apply_rate_and_conflict(void **state)
{
	(void)state;
	static struct world w;
	static struct changeset c;
	memset(&w, 0, sizeof(w));
	world_open(&w, "100", "2");
	answer(&w, "GET", "page=1&", 200, page_body(1, 100, 5), 0);
	answer(&w, "POST", "/dns_records/batch", 200, OKBATCH, 1);
	answer(&w, "POST", "/dns_records/batch", 429,
	       "{\"success\":false,\"errors\":[{\"code\":971,\"message\":\"Please wait and consider "
	       "throttling your request "
	       "speed\"}],\"messages\":[],\"result\":null}",
	       0);
	size_t n = 0;
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e), 0);
	make_changes(&c, 4);
	/* 6 ops in batches of 2: the first lands, the second meets a 429, the third is never sent */
	assert_int_equal(zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e), ZW_PROV_ETRANSIENT);
	assert_int_equal(w.s.nseen, 3);
	size_t applied = 0, retryable = 0;
	for (size_t i = 0; i < c.n; i++) {
		applied += c.ch[i].result == ZW_PROV_APPLIED;
		retryable += c.ch[i].result == ZW_PROV_RETRYABLE;
	}
	assert_int_equal(applied, 2);
	assert_int_equal(retryable, 4);
	assert_int_equal(c.ch[4].result, ZW_PROV_APPLIED); /* the update and the delete went first */
	assert_int_equal(c.ch[5].result, ZW_PROV_APPLIED);
	assert_non_null(strstr(c.ch[3].message, "cloudflare rate limit (http 429: 971 Please wait"));

	/* the zone changed since the plan: the record the plan saw is gone */
	w.s.n = 0;
	answer(&w, "GET", "page=1&", 200, page_body(1, 100, 1), 0); /* only r0 left */
	answer(&w, "POST", "/dns_records/batch", 200, OKBATCH, 0);
	make_changes(&c, 1);
	assert_int_not_equal(zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e), 0);
	assert_int_equal(c.ch[0].result, ZW_PROV_APPLIED);
	assert_int_equal(c.ch[1].result, ZW_PROV_RETRYABLE);
	assert_string_equal(c.ch[1].message, "the zone changed since the plan (a record of r1.example.test. "
					     "is no longer at cloudflare): re-plan");
	zw_provider_cloudflare.close(w.state);
}

static void test_open_errors(void **state)
{
	(void)state;
	struct world w;
	memset(&w, 0, sizeof(w));
	w.http = (struct zw_prov_http){.ctx = &w.s,
				       .request = fake_request,
				       .release = fake_release,
				       .status_error = status_error,
				       .budget = fake_budget,
				       .secret = fake_secret};
	w.host = host;
	w.host.http = &w.http;
	w.set = (struct settings){{{"apiTokenSecretRef.name", "cf"}, {"apiTokenSecretRef.key", "token"}}};
	w.settings = (struct zw_prov_settings){get, &w.set};
	unsetenv("CLOUDFLARE_API_TOKEN");
	struct zw_prov_error e = {0};
	assert_int_equal(zw_provider_cloudflare.open(&w.state, &w.host, &w.settings, &e), ZW_PROV_EAUTH);
	assert_string_equal(e.msg,
			    "apiTokenSecretRef names a kubernetes secret, readable only in a cluster: give "
			    "apiTokenFile or set CLOUDFLARE_API_TOKEN");
	w.set = (struct settings){{{"apiTokenFile", "/nonexistent/token"}}};
	assert_int_equal(zw_provider_cloudflare.open(&w.state, &w.host, &w.settings, &e), ZW_PROV_EAUTH);
	assert_non_null(strstr(e.msg, "apiTokenFile /nonexistent/token: "));
	w.set = (struct settings){{{NULL, NULL}}};
	assert_int_equal(zw_provider_cloudflare.open(&w.state, &w.host, &w.settings, &e), ZW_PROV_EAUTH);
	assert_string_equal(e.msg, "no api token: give apiTokenFile or set CLOUDFLARE_API_TOKEN");
}

/* The whole road (open, zone, name servers, list over 2 pages, apply in 2 batches with
 * one refused and redone record by record, close) with each allocation failing in turn. */
static int road_once(void)
{
	static struct world w;
	static struct changeset c;
	struct zone_seen z;
	char ns[256] = "";
	size_t n = 0;
	struct zw_prov_error e = {0};
	memset(&w, 0, sizeof(w));
	w.http = (struct zw_prov_http){.ctx = &w.s,
				       .request = fake_request,
				       .release = fake_release,
				       .status_error = status_error,
				       .budget = fake_budget,
				       .secret = fake_secret};
	w.host = host;
	w.host.http = &w.http;
	w.set = (struct settings){{{"accountId", "acct1"}, {"perPage", "3"}, {"batchSize", "3"}}};
	w.settings = (struct zw_prov_settings){get, &w.set};
	answer(&w, "GET", "/zones?name=example.test", 200, ZONES_OK, 0);
	answer(&w, "GET", "page=1&", 200, page_body(1, 3, 5), 0);
	answer(&w, "GET", "page=2&", 200, page_body(2, 3, 5), 0);
	answer(&w, "POST", "/dns_records/batch", 400,
	       "{\"success\":false,\"errors\":[{\"code\":1004,\"message\":\"x\"}],\"messages\":[],\"result\":"
	       "null}",
	       1);
	answer(&w, "POST", "/dns_records/batch", 200, OKBATCH, 0);
	answer(&w, "POST", "/dns_records", 200, OKONE, 0);
	answer(&w, "PATCH", "/dns_records/", 200, OKONE, 0);
	answer(&w, "DELETE", "/dns_records/", 200, OKONE, 0);
	int rc = zw_provider_cloudflare.open(&w.state, &w.host, &w.settings, &e);
	if (rc)
		return rc;
	if ((rc = zw_provider_cloudflare.find_zone(w.state, "example.test", emit_zone, &z, &e)) == 0 &&
	    (rc = zw_provider_cloudflare.nameservers(w.state, ZID, emit_ns, ns, &e)) == 0 &&
	    (rc = zw_provider_cloudflare.list(w.state, ZID, emit_count, &n, &e)) == 0) {
		make_changes(&c, 3);
		rc = zw_provider_cloudflare.apply(w.state, ZID, c.ch, c.n, &e);
	}
	zw_provider_cloudflare.close(w.state);
	return rc;
}

static void test_alloc_failures(void **state)
{
	(void)state;
	setenv("CLOUDFLARE_API_TOKEN", "test-token-123", 1);
	setenv("CLOUDFLARE_API_BASE_URL", "http://127.0.0.1:9/client/v4/", 1);
	ZW_FOR_EACH_ALLOC_FAILURE(road_once());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_txt_alloc_failures),
		cmocka_unit_test(test_rec_parse),
		cmocka_unit_test(test_record_json),
		cmocka_unit_test(test_batch_json),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_next_page),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_apply_batches),
		cmocka_unit_test(test_apply_fallback),
		cmocka_unit_test(test_apply_unknown_outcome),
		cmocka_unit_test(test_apply_rate_and_conflict),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests_name("cloudflare", tests, NULL, NULL);
}
