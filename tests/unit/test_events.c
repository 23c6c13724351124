/*
 * test_events.c - unit tests of the event recorder's pure parts (reconcile/events.h): the
 * deduplication key, series counting in the bounded cache (window, eviction), the
 * per-object Warning token bucket on a fake clock, the note's cleaning and cutting at a
 * UTF-8 boundary, the event name and the two request bodies. The recorder against a real
 * API server is tests/integration/lease.test.
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/error.h"
#include "reconcile/events.h"

static void dedup_key(void **state)
{
	(void)state;
	char *a = zw_events_key("u1", "Warning", "ProviderError", "Apply", "boom");
	char *b = zw_events_key("u1", "Warning", "ProviderError", "Apply", "boom");
	assert_string_equal(a, b);
	/* each field counts */
	const char *f[][5] = {
		{"u2", "Warning", "ProviderError", "Apply", "boom"},
		{"u1", "Normal", "ProviderError", "Apply", "boom"},
		{"u1", "Warning", "RecordsInSync", "Apply", "boom"},
		{"u1", "Warning", "ProviderError", "Verify", "boom"},
		{"u1", "Warning", "ProviderError", "Apply", "boom!"},
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char *k = zw_events_key(f[i][0], f[i][1], f[i][2], f[i][3], f[i][4]);
		assert_string_not_equal(a, k);
		zw_free(k);
	}
	/* moving text between fields never makes the same key */
	char *c = zw_events_key("u1", "Warning", "ProviderErrorApply", "", "boom");
	char *d = zw_events_key("u1", "Warning", "ProviderError", "Apply", "boom");
	assert_string_not_equal(c, d);
	char *e = zw_events_key("u1", "Warning", "Provider", "ErrorApply", "boom");
	assert_string_not_equal(c, e);
	assert_string_equal(a, "2:u17:Warning13:ProviderError5:Apply4:boom");
	zw_free(a);
	zw_free(b);
	zw_free(c);
	zw_free(d);
	zw_free(e);
}

static void series_counting(void **state)
{
	(void)state;
	struct zw_events_cache *c = NULL;
	struct zw_error err = {0};
	unsigned count = 0;
	char *name = NULL;
	assert_int_equal(zw_events_cache_new(&c, 3, &err), 0);

	/* first: new, count 1; then within 10 minutes: the same name, 2, 3 */
	assert_int_equal(zw_events_cache_seen(c, "k1", "md.0001", 1000, &count, &name, &err), 0);
	assert_int_equal(count, 1);
	assert_null(name);
	assert_int_equal(zw_events_cache_seen(c, "k1", "md.0002", 2000, &count, &name, &err), 1);
	assert_int_equal(count, 2);
	assert_string_equal(name, "md.0001");
	zw_free(name);
	assert_int_equal(
		zw_events_cache_seen(c, "k1", "md.0003", 2000 + ZW_EVENTS_DEDUP_MS - 1, &count, &name, &err),
		1);
	assert_int_equal(count, 3);
	assert_string_equal(name, "md.0001");
	zw_free(name);

	/* the window slides from the last occurrence: 10 minutes of silence start a new one */
	uint64_t t = 2000 + ZW_EVENTS_DEDUP_MS - 1 + ZW_EVENTS_DEDUP_MS;
	assert_int_equal(zw_events_cache_seen(c, "k1", "md.0004", t, &count, &name, &err), 0);
	assert_int_equal(count, 1);
	assert_null(name);
	assert_int_equal(zw_events_cache_seen(c, "k1", "md.0005", t + 1, &count, &name, &err), 1);
	assert_string_equal(name, "md.0004");
	assert_int_equal(count, 2);
	zw_free(name);

	/* bounded: a fourth key evicts the least recently seen (k2) */
	assert_int_equal(zw_events_cache_seen(c, "k2", "b.1", t + 2, &count, &name, &err), 0);
	assert_int_equal(zw_events_cache_seen(c, "k3", "c.1", t + 3, &count, &name, &err), 0);
	assert_int_equal(zw_events_cache_seen(c, "k1", "x", t + 4, &count, &name, &err), 1);
	zw_free(name);
	assert_int_equal(zw_events_cache_seen(c, "k4", "d.1", t + 5, &count, &name, &err), 0);
	size_t ns, nb;
	zw_events_cache_sizes(c, &ns, &nb);
	assert_int_equal(ns, 3);
	assert_int_equal(zw_events_cache_seen(c, "k1", "x", t + 6, &count, &name, &err), 1);
	assert_int_equal(count, 4);
	zw_free(name);
	assert_int_equal(zw_events_cache_seen(c, "k3", "x", t + 7, &count, &name, &err), 1);
	zw_free(name);
	assert_int_equal(zw_events_cache_seen(c, "k2", "b.2", t + 8, &count, &name, &err),
			 0); /* was evicted */

	/* forget: the next one is created again */
	zw_events_cache_forget(c, "k2");
	zw_events_cache_forget(c, "nope");
	assert_int_equal(zw_events_cache_seen(c, "k2", "b.3", t + 9, &count, &name, &err), 0);
	assert_int_equal(count, 1);
	zw_events_cache_free(c);
}

static void rate_limiter(void **state)
{
	(void)state;
	struct zw_events_cache *c = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_events_cache_new(&c, 2, &err), 0);
	uint64_t t = 50000;
	/* a burst of 20 at one instant: 5 pass */
	int passed = 0;
	for (int i = 0; i < 20; i++)
		passed += zw_events_cache_allow(c, "uid-a", t, &err);
	assert_int_equal(passed, ZW_EVENTS_BURST);
	/* another object has its own bucket */
	assert_int_equal(zw_events_cache_allow(c, "uid-b", t, &err), 1);
	/* one more token every 30 s */
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + ZW_EVENTS_REFILL_MS - 1, &err), 0);
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + ZW_EVENTS_REFILL_MS, &err), 1);
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + ZW_EVENTS_REFILL_MS, &err), 0);
	t += ZW_EVENTS_REFILL_MS;
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + 2 * ZW_EVENTS_REFILL_MS, &err), 1);
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + 2 * ZW_EVENTS_REFILL_MS, &err), 1);
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + 2 * ZW_EVENTS_REFILL_MS, &err), 0);
	/* an hour of quiet refills to the burst, not beyond */
	t += 3600 * 1000;
	passed = 0;
	for (int i = 0; i < 20; i++)
		passed += zw_events_cache_allow(c, "uid-a", t, &err);
	assert_int_equal(passed, ZW_EVENTS_BURST);
	/* a clock that does not move refills nothing; a clock going back does not break it */
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t - 100000, &err), 0);
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + ZW_EVENTS_REFILL_MS - 1, &err), 0);
	assert_int_equal(zw_events_cache_allow(c, "uid-a", t + ZW_EVENTS_REFILL_MS, &err), 1);
	/* bounded: a third object evicts the least recently used bucket */
	assert_int_equal(zw_events_cache_allow(c, "uid-c", t, &err), 1);
	size_t ns, nb;
	zw_events_cache_sizes(c, &ns, &nb);
	assert_int_equal(nb, 2);
	zw_events_cache_free(c);
}

static void note_cut_at_utf8_boundary(void **state)
{
	(void)state;
	/* "é" is 2 bytes, "€" 3, "𝄞" 4 */
	assert_int_equal(zw_events_utf8_cut("abc", 3, 3), 3);
	assert_int_equal(zw_events_utf8_cut("abcd", 4, 3), 3);
	assert_int_equal(zw_events_utf8_cut("ab\xc3\xa9", 4, 3), 2);	    /* é would be cut */
	assert_int_equal(zw_events_utf8_cut("ab\xc3\xa9x", 5, 4), 4);	    /* é fits */
	assert_int_equal(zw_events_utf8_cut("a\xe2\x82\xac", 4, 2), 1);	    /* € cut after its lead */
	assert_int_equal(zw_events_utf8_cut("a\xe2\x82\xac", 4, 3), 1);	    /* € cut inside */
	assert_int_equal(zw_events_utf8_cut("a\xf0\x9d\x84\x9e", 5, 4), 1); /* 𝄞 cut */
	assert_int_equal(zw_events_utf8_cut("a\xf0\x9d\x84\x9e", 5, 5), 5);

	/* a long note of 3-byte characters: cut to at most 1024 bytes, whole characters */
	struct zw_buf in = ZW_BUF_INIT, out = ZW_BUF_INIT;
	struct zw_error err = {0};
	zw_buf_adds(&in, "x");
	for (int i = 0; i < 600; i++)
		zw_buf_adds(&in, "\xe2\x82\xac");
	assert_int_equal(zw_events_note(&out, zw_buf_str(&in), &err), 0);
	assert_int_equal(out.len, 1 + 341 * 3); /* 1024 would split the 342nd */
	assert_int_equal((unsigned char)out.p[out.len - 3], 0xe2);
	zw_buf_free(&in);
	zw_buf_reset(&out);

	/* one line: CR, LF, TAB and other controls become spaces */
	assert_int_equal(zw_events_note(&out,
					"a\r\nb\tc\x01"
					"d",
					&err),
			 0);
	assert_string_equal(zw_buf_str(&out), "a  b c d");
	zw_buf_reset(&out);

	/* redacted */
	assert_int_equal(zw_events_note(&out, "call failed: Authorization: Bearer abcdef123456", &err), 0);
	assert_null(strstr(zw_buf_str(&out), "abcdef123456"));
	assert_non_null(strstr(zw_buf_str(&out), "[redacted]"));
	zw_buf_reset(&out);
	assert_int_equal(zw_events_note(&out, "GET /x?api_token=s3cr3tvalue&y=1", &err), 0);
	assert_null(strstr(zw_buf_str(&out), "s3cr3tvalue"));
	zw_buf_reset(&out);
	assert_int_equal(zw_events_note(&out, NULL, &err), 0);
	assert_string_equal(zw_buf_str(&out), "");
	zw_buf_free(&out);
}

static void names_and_bodies(void **state)
{
	(void)state;
	struct zw_buf n = ZW_BUF_INIT;
	assert_int_equal(zw_events_name(&n, "example-com", 0x1873abcdef012345ULL), 0);
	assert_string_equal(zw_buf_str(&n), "example-com.1873abcdef012345");
	zw_buf_reset(&n);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[235] = '-'; /* the cut lands after a dash: it is dropped too */
	assert_int_equal(zw_events_name(&n, longname, 1), 0);
	assert_int_equal(n.len, 235 + 17);
	assert_int_equal(n.p[234], 'a');
	assert_int_equal(n.p[235], '.');
	zw_buf_free(&n);

	struct zw_kube_ref ref = {.api_version = "zonewarden.dev/v1alpha1",
				  .kind = "MailDomain",
				  .namespace = "mail",
				  .name = "example-com",
				  .uid = "0b1c"};
	struct zw_events_msg m = {.regarding = &ref,
				  .type = "Warning",
				  .reason = "ProviderError",
				  .action = "Apply",
				  .note = "route53 refused",
				  .controller = "zonewarden.dev/controller",
				  .instance = "pod_ab12",
				  .name = "example-com.1",
				  .namespace = "mail",
				  .now_micro = "2026-11-23T12:00:00.000001Z",
				  .now_rfc3339 = "2026-11-23T12:00:00Z"};
	cJSON *v1 = zw_events_body_v1(&m);
	char *s = cJSON_PrintUnformatted(v1);
	assert_string_equal(
		s, "{\"metadata\":{\"name\":\"example-com.1\",\"namespace\":\"mail\"},"
		   "\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\","
		   "\"regarding\":{\"apiVersion\":\"zonewarden.dev/v1alpha1\",\"kind\":\"MailDomain\","
		   "\"namespace\":\"mail\",\"name\":\"example-com\",\"uid\":\"0b1c\"},"
		   "\"eventTime\":\"2026-11-23T12:00:00.000001Z\","
		   "\"reportingController\":\"zonewarden.dev/controller\",\"reportingInstance\":\"pod_ab12\","
		   "\"action\":\"Apply\",\"reason\":\"ProviderError\",\"type\":\"Warning\","
		   "\"note\":\"route53 refused\"}");
	cJSON_free(s);
	cJSON_Delete(v1);
	cJSON *core = zw_events_body_core(&m);
	s = cJSON_PrintUnformatted(core);
	assert_string_equal(
		s, "{\"metadata\":{\"name\":\"example-com.1\",\"namespace\":\"mail\"},"
		   "\"apiVersion\":\"v1\",\"kind\":\"Event\","
		   "\"involvedObject\":{\"apiVersion\":\"zonewarden.dev/v1alpha1\",\"kind\":\"MailDomain\","
		   "\"namespace\":\"mail\",\"name\":\"example-com\",\"uid\":\"0b1c\"},"
		   "\"source\":{\"component\":\"zonewarden.dev/controller\"},\"reason\":\"ProviderError\","
		   "\"message\":\"route53 refused\",\"type\":\"Warning\","
		   "\"firstTimestamp\":\"2026-11-23T12:00:00Z\",\"lastTimestamp\":\"2026-11-23T12:00:00Z\","
		   "\"count\":1,\"action\":\"Apply\",\"reportingComponent\":\"zonewarden.dev/controller\","
		   "\"reportingInstance\":\"pod_ab12\"}");
	cJSON_free(s);
	cJSON_Delete(core);
}

static int alloc_body(void)
{
	struct zw_events_cache *c = NULL;
	struct zw_error err = {0};
	unsigned count;
	char *name = NULL;
	int rc = zw_events_cache_new(&c, 4, &err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 3 && rc >= 0; i++)
		rc = zw_events_cache_allow(c, i == 1 ? "b" : "a", 10, &err);
	for (int i = 0; i < 3 && rc >= 0; i++) {
		rc = zw_events_cache_seen(c, "k", "n", 10 + (uint64_t)i, &count, &name, &err);
		zw_free(name);
		name = NULL;
	}
	char *k = rc >= 0 ? zw_events_key("u", "Normal", "R", "A", "n") : NULL;
	if (rc >= 0 && !k)
		rc = ZW_ENOMEM;
	zw_free(k);
	struct zw_buf b = ZW_BUF_INIT;
	if (rc >= 0)
		rc = zw_events_note(&b, "a note\nwith token=abcdef", &err);
	zw_buf_free(&b);
	zw_events_cache_free(c);
	return rc < 0 ? rc : 0;
}

static void allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(alloc_body());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dedup_key),	    cmocka_unit_test(series_counting),
		cmocka_unit_test(rate_limiter),	    cmocka_unit_test(note_cut_at_utf8_boundary),
		cmocka_unit_test(names_and_bodies), cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
