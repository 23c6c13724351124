/*
 * test_log.c - unit tests of the structured log (reconcile/log.c). Lines are captured
 * through a pipe (a reader thread drains it, so writers never block on a full pipe) and
 * every line is parsed with cJSON: fields and their order, the timestamp's shape, RFC 8259
 * escaping with U+FFFD for invalid UTF-8, raw values, levels, cutting of long values and
 * of full lines, a non-blocking fd,
 * redaction (generic rules, a secret key name, secrets registered on the redactor client,
 * under every allocation failure), and many threads writing long lines at once giving
 * only whole lines.
 */
#include "tests/unit/unit.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/buf.h"
#include "reconcile/http.h"
#include "reconcile/log.h"

/* ---- capture ------------------------------------------------------------------------ */

struct capture {
	int fds[2];
	pthread_t reader;
	struct zw_buf out;
};

static void *drain(void *arg)
{
	struct capture *c = arg;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(c->fds[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		if (zw_buf_add(&c->out, chunk, (size_t)n) != 0)
			abort();
	}
	return NULL;
}

static void capture_start(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->out.max = 512u * 1024 * 1024;
	assert_int_equal(pipe(c->fds), 0);
	assert_int_equal(pthread_create(&c->reader, NULL, drain, c), 0);
}

/* Close the write end, wait for the reader: the captured bytes stay in c->out. */
static const char *capture_end(struct capture *c)
{
	close(c->fds[1]);
	pthread_join(c->reader, NULL);
	close(c->fds[0]);
	return zw_buf_str(&c->out);
}

static struct zw_log *new_log(struct capture *c, enum zw_log_level level)
{
	struct zw_log *l = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_log_new(&l, c->fds[1], level, &err), 0);
	return l;
}

/* The single line of out, parsed; fails unless out is exactly one '\n'-ended line. */
static cJSON *one_line(const char *out)
{
	size_t len = strlen(out);
	assert_true(len > 0);
	assert_int_equal(out[len - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
	for (const char *p = out; p < out + len - 1; p++)
		assert_true((unsigned char)*p >= 0x20); /* no raw control byte */
	cJSON *j = cJSON_Parse(out);
	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	return j;
}

static const char *str_field(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	assert_non_null(v);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* ---- tests -------------------------------------------------------------------------- */

static void fields_in_order(void **state)
{
	(void)state;
	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	time_t before = time(NULL);
	zw_log_write(l, ZW_LOG_WARN, "controller", "reconciled", "domain", "example.com", "result", "ok",
		     "attempt", ZW_LOG_RAW "3", NULL);
	time_t after = time(NULL);
	zw_log_free(l);
	cJSON *j = one_line(capture_end(&c));

	const char *want[] = {"ts", "level", "msg", "component", "domain", "result", "attempt"};
	size_t i = 0;
	for (const cJSON *it = j->child; it; it = it->next, i++) {
		assert_true(i < sizeof(want) / sizeof(want[0]));
		assert_string_equal(it->string, want[i]);
	}
	assert_int_equal(i, sizeof(want) / sizeof(want[0]));
	assert_string_equal(str_field(j, "level"), "warn");
	assert_string_equal(str_field(j, "msg"), "reconciled");
	assert_string_equal(str_field(j, "component"), "controller");
	assert_string_equal(str_field(j, "domain"), "example.com");
	assert_string_equal(str_field(j, "result"), "ok");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "attempt");
	assert_true(cJSON_IsNumber(n));
	assert_int_equal(n->valueint, 3);

	/* 2026-11-23T12:00:00.123Z: UTC, milliseconds, and the time of the call */
	const char *ts = str_field(j, "ts");
	assert_int_equal(strlen(ts), 24);
	const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
	for (size_t k = 0; k < 24; k++) {
		if (shape[k] == 'd')
			assert_true(ts[k] >= '0' && ts[k] <= '9');
		else
			assert_int_equal(ts[k], shape[k]);
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm));
	time_t t = timegm(&tm);
	assert_true(t >= before && t <= after);
	cJSON_Delete(j);
	zw_buf_free(&c.out);
}

static void levels(void **state)
{
	(void)state;
	enum zw_log_level lv;
	assert_int_equal(zw_log_level_parse(&lv, "debug"), 0);
	assert_int_equal(lv, ZW_LOG_DEBUG);
	assert_int_equal(zw_log_level_parse(&lv, "info"), 0);
	assert_int_equal(lv, ZW_LOG_INFO);
	assert_int_equal(zw_log_level_parse(&lv, "warn"), 0);
	assert_int_equal(lv, ZW_LOG_WARN);
	assert_int_equal(zw_log_level_parse(&lv, "error"), 0);
	assert_int_equal(lv, ZW_LOG_ERROR);
	assert_int_equal(zw_log_level_parse(&lv, "warning"), ZW_EINVAL);
	assert_int_equal(zw_log_level_parse(&lv, "INFO"), ZW_EINVAL);
	assert_int_equal(zw_log_level_parse(&lv, ""), ZW_EINVAL);

	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_WARN);
	assert_false(zw_log_enabled(l, ZW_LOG_DEBUG));
	assert_false(zw_log_enabled(l, ZW_LOG_INFO));
	assert_true(zw_log_enabled(l, ZW_LOG_WARN));
	assert_true(zw_log_enabled(l, ZW_LOG_ERROR));
	assert_false(zw_log_enabled(NULL, ZW_LOG_ERROR));
	zw_log_write(l, ZW_LOG_DEBUG, "c", "hidden debug", NULL);
	zw_log_write(l, ZW_LOG_INFO, "c", "hidden info", NULL);
	zw_log_write(l, ZW_LOG_ERROR, "c", "shown", NULL);
	zw_log_write(NULL, ZW_LOG_ERROR, "c", "to nobody", NULL);
	zw_log_free(l);
	zw_log_free(NULL);
	cJSON *j = one_line(capture_end(&c));
	assert_string_equal(str_field(j, "msg"), "shown");
	assert_string_equal(str_field(j, "level"), "error");
	cJSON_Delete(j);
	zw_buf_free(&c.out);

	struct zw_log *bad = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_log_new(&bad, -1, ZW_LOG_INFO, &err), ZW_EINVAL);
	assert_null(bad);
}

static void escaping(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want; /* want: the decoded JSON string */
		const char *raw;       /* must appear in the line as written, or NULL */
	} t[] = {
		{"quote \" backslash \\ slash /", "quote \" backslash \\ slash /", "quote \\\" backslash \\\\"},
		{"nl\ncr\rtab\tbell\a", "nl\ncr\rtab\tbell\a", "nl\\u000acr\\u000dtab\\u0009bell\\u0007"},
		{"x\x01\x1f\x7f", "x\x01\x1f\x7f", "x\\u0001\\u001f\\u007f"}, /* a leading 0x01 is ZW_LOG_RAW */
		{"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x93\xa7",
		 "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x93\xa7"},
		{"a\xff" "b", "a\xef\xbf\xbd" "b", NULL},			  /* not UTF-8 at all */
		{"cut \xc3", "cut \xef\xbf\xbd", NULL},				  /* truncated sequence */
		{"over \xc0\xaf", "over \xef\xbf\xbd\xef\xbf\xbd", NULL},		  /* overlong '/' */
		{"sur \xed\xa0\x80!", "sur \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!", NULL}, /* surrogate */
		{"big \xf4\x90\x80\x80", "big \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", NULL},
		{"ls \xe2\x80\xa8 ps \xe2\x80\xa9", "ls \xe2\x80\xa8 ps \xe2\x80\xa9", "ls \\u2028 ps \\u2029"},
		{"", "", NULL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct capture c;
		capture_start(&c);
		struct zw_log *l = new_log(&c, ZW_LOG_DEBUG);
		zw_log_write(l, ZW_LOG_INFO, "comp\"\n", t[i].in, "k\x01", t[i].in, NULL);
		zw_log_free(l);
		const char *out = capture_end(&c);
		cJSON *j = one_line(out);
		if (strcmp(str_field(j, "msg"), t[i].want) != 0 || strcmp(str_field(j, "k\x01"), t[i].want) != 0)
			fail_msg("case %zu: %s", i, out);
		assert_string_equal(str_field(j, "component"), "comp\"\n");
		if (t[i].raw)
			assert_non_null(strstr(out, t[i].raw));
		cJSON_Delete(j);
		zw_buf_free(&c.out);
	}
}

static void raw_values(void **state)
{
	(void)state;
	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	zw_log_write(l, ZW_LOG_INFO, "c", "m", "int", ZW_LOG_RAW "12", "neg", ZW_LOG_RAW "-1.5e3", "zero",
		     ZW_LOG_RAW "0", "t", ZW_LOG_RAW "true", "f", ZW_LOG_RAW "false", "n", ZW_LOG_RAW "null",
		     "lead0", ZW_LOG_RAW "012", "junk", ZW_LOG_RAW "12abc", "nan", ZW_LOG_RAW "NaN", "empty",
		     ZW_LOG_RAW "", "inject", ZW_LOG_RAW "1,\"level\":\"debug\"", "dot", ZW_LOG_RAW "1.",
		     "plain", "12", "none", (const char *)NULL, NULL);
	zw_log_free(l);
	const char *out = capture_end(&c);
	cJSON *j = one_line(out);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "int")));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "int")->valueint, 12);
	assert_true(cJSON_GetObjectItemCaseSensitive(j, "neg")->valuedouble == -1500.0);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "zero")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "t")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "f")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "n")));
	assert_string_equal(str_field(j, "lead0"), "012");
	assert_string_equal(str_field(j, "junk"), "12abc");
	assert_string_equal(str_field(j, "nan"), "NaN");
	assert_string_equal(str_field(j, "empty"), "");
	assert_string_equal(str_field(j, "inject"), "1,\"level\":\"debug\"");
	assert_string_equal(str_field(j, "dot"), "1.");
	assert_string_equal(str_field(j, "plain"), "12");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "none")));
	assert_string_equal(str_field(j, "level"), "info"); /* the injection stayed a string */
	cJSON_Delete(j);
	zw_buf_free(&c.out);
}

static void long_values_cut(void **state)
{
	(void)state;
	size_t n = 20000;
	char *big = zw_malloc(n + 1);
	assert_non_null(big);
	/* two-byte characters, so a cut at an odd byte would split one */
	for (size_t i = 0; i + 1 < n; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[n] = '\0';
	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	zw_log_write(l, ZW_LOG_INFO, "c", "m", "big", big, "after", "still here", NULL);
	zw_log_free(l);
	cJSON *j = one_line(capture_end(&c));
	const char *v = str_field(j, "big");
	size_t len = strlen(v);
	const char *mark = "...[truncated]";
	assert_true(len < n);
	assert_true(len > strlen(mark));
	assert_string_equal(v + len - strlen(mark), mark);
	assert_null(strstr(v, "\xef\xbf\xbd")); /* no character was split */
	assert_string_equal(str_field(j, "after"), "still here");
	cJSON_Delete(j);
	zw_buf_free(&c.out);
	zw_free(big);
}

/* Pairs past the line's maximum are dropped and the line says so; a non-blocking fd
 * whose buffer fills is waited for, so lines stay whole. */
static void full_lines_and_nonblocking_fd(void **state)
{
	(void)state;
	char *v = zw_malloc(8001);
	assert_non_null(v);
	memset(v, 'v', 8000);
	v[8000] = '\0';
	struct capture c;
	capture_start(&c);
	int fl = fcntl(c.fds[1], F_GETFL);
	assert_int_equal(fcntl(c.fds[1], F_SETFL, fl | O_NONBLOCK), 0);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	for (int round = 0; round < 5; round++)
		zw_log_write(l, ZW_LOG_INFO, "c", "wide", "k00", v, "k01", v, "k02", v, "k03", v, "k04", v, "k05", v,
			     "k06", v, "k07", v, "k08", v, "k09", v, "k10", v, "k11", v, "k12", v, "k13", v, "k14", v,
			     "k15", v, "k16", v, "k17", v, "k18", v, "k19", v, "k20", v, "k21", v, "k22", v, "k23", v,
			     "k24", v, "k25", v, "k26", v, "k27", v, "k28", v, "k29", v, "k30", v, "k31", v, "k32", v,
			     "k33", v, "k34", v, "k35", v, "k36", v, "k37", v, "k38", v, "k39", v, NULL);
	zw_log_free(l);
	const char *out = capture_end(&c);
	int lines = 0;
	for (const char *p = out; *p; lines++) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		char *line = zw_strndup(p, (size_t)(nl - p));
		assert_true(strlen(line) <= 256u * 1024 + 64);
		cJSON *j = cJSON_Parse(line);
		assert_non_null(j);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "fields_dropped")));
		assert_string_equal(str_field(j, "k00"), v);
		assert_null(cJSON_GetObjectItemCaseSensitive(j, "k39"));
		assert_string_equal(cJSON_GetArrayItem(j, cJSON_GetArraySize(j) - 1)->string, "fields_dropped");
		cJSON_Delete(j);
		zw_free(line);
		p = nl + 1;
	}
	assert_int_equal(lines, 5);
	zw_buf_free(&c.out);
	zw_free(v);
}

/* One line through a logger whose redactor is c (may be NULL), returned parsed. */
static cJSON *log_redacted(struct zw_http_client *hc, char **raw)
{
	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	zw_log_set_redactor(l, hc);
	zw_log_write(l, ZW_LOG_ERROR, "http", "request failed: Authorization: Bearer abc123xyzSECRET", "url",
		     "https://api.example/v4/zones?token=tok-0123456789&page=2", "header",
		     "Authorization: Bearer abc123xyzSECRET", "api_token", "plain words here", "note",
		     "the key is hunter2-registered, see", "pin", ZW_LOG_RAW "98765432", "count", ZW_LOG_RAW "7",
		     NULL);
	zw_log_free(l);
	*raw = zw_strdup(capture_end(&c));
	zw_buf_free(&c.out);
	return one_line(*raw);
}

static void redaction(void **state)
{
	(void)state;
	/* the generic rules, without a client */
	char *raw = NULL;
	cJSON *j = log_redacted(NULL, &raw);
	assert_null(strstr(raw, "abc123xyzSECRET"));
	assert_null(strstr(raw, "tok-0123456789"));
	assert_null(strstr(raw, "plain words"));
	assert_string_equal(str_field(j, "msg"), "request failed: Authorization: [redacted]");
	assert_string_equal(str_field(j, "url"), "https://api.example/v4/zones?token=[redacted]&page=2");
	assert_string_equal(str_field(j, "header"), "Authorization: [redacted]");
	assert_string_equal(str_field(j, "api_token"), "[redacted]");
	/* not registered yet */
	assert_string_equal(str_field(j, "note"), "the key is hunter2-registered, see");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "pin")->valueint, 98765432);
	cJSON_Delete(j);
	zw_free(raw);

	/* registered secrets, wherever they appear, raw numbers included */
	struct zw_http_client *hc = NULL;
	struct zw_http_opts o;
	struct zw_error err = {0};
	zw_http_opts_init(&o);
	assert_int_equal(zw_http_client_new(&hc, &o, &err), 0);
	assert_int_equal(zw_http_secret_add(hc, "hunter2-registered", &err), 0);
	assert_int_equal(zw_http_secret_add(hc, "98765432", &err), 0);
	j = log_redacted(hc, &raw);
	assert_null(strstr(raw, "hunter2"));
	assert_null(strstr(raw, "98765432"));
	assert_null(strstr(raw, "abc123xyzSECRET"));
	assert_string_equal(str_field(j, "note"), "the key is [redacted], see");
	assert_string_equal(str_field(j, "pin"), "[redacted]");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "count")->valueint, 7);
	cJSON_Delete(j);
	zw_free(raw);
	zw_http_client_free(hc);
}

/* Whatever allocation fails, a line is whole or absent, and never holds a secret. */
static void redaction_under_alloc_failure(void **state)
{
	(void)state;
	struct zw_http_client *hc = NULL;
	struct zw_http_opts o;
	struct zw_error err = {0};
	zw_http_opts_init(&o);
	assert_int_equal(zw_http_client_new(&hc, &o, &err), 0);
	assert_int_equal(zw_http_secret_add(hc, "hunter2-registered", &err), 0);
	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	zw_log_set_redactor(l, hc);

	zw_alloc_fail_at(0);
	zw_log_write(l, ZW_LOG_INFO, "c", "sent hunter2-registered", "v", "x hunter2-registered y", "w",
		     "token=hunter2-registered", NULL);
	long total = zw_alloc_count();
	assert_true(total > 0);
	for (long i = 1; i <= total; i++) {
		zw_alloc_fail_at(i);
		zw_log_write(l, ZW_LOG_INFO, "c", "sent hunter2-registered", "v", "x hunter2-registered y", "w",
			     "token=hunter2-registered", NULL);
		zw_alloc_fail_at(0);
	}
	zw_log_free(l);
	const char *out = capture_end(&c);
	assert_null(strstr(out, "hunter2"));
	/* every line is whole; a value that could not be redacted is replaced whole */
	long lines = 0;
	for (const char *p = out; *p; lines++) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		char *line = zw_strndup(p, (size_t)(nl - p));
		cJSON *j = cJSON_Parse(line);
		assert_non_null(j);
		const char *v = str_field(j, "v");
		assert_true(strcmp(v, "x [redacted] y") == 0 || strcmp(v, "[redacted]") == 0);
		cJSON_Delete(j);
		zw_free(line);
		p = nl + 1;
	}
	assert_true(lines >= 1 && lines <= total + 1);
	zw_buf_free(&c.out);
	zw_http_client_free(hc);
}

/* ---- threads ------------------------------------------------------------------------ */

#define THREADS 8
#define LINES	400
#define PAD	6000 /* longer than PIPE_BUF: the kernel alone would not keep lines whole */

struct writer {
	struct zw_log *l;
	int id;
	const char *pad;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	char id[16], seq[16];
	snprintf(id, sizeof(id), "%d", w->id);
	for (int i = 0; i < LINES; i++) {
		snprintf(seq, sizeof(seq), "%c%d", ZW_LOG_RAW[0], i);
		zw_log_write(w->l, ZW_LOG_INFO, "worker", "tick", "thread", id, "seq", seq, "pad", w->pad, NULL);
	}
	return NULL;
}

static void threads_whole_lines(void **state)
{
	(void)state;
	char *pad = zw_malloc(PAD + 1);
	assert_non_null(pad);
	for (size_t i = 0; i < PAD; i++)
		pad[i] = (char)('a' + i % 26);
	pad[PAD] = '\0';
	struct capture c;
	capture_start(&c);
	struct zw_log *l = new_log(&c, ZW_LOG_INFO);
	pthread_t th[THREADS];
	struct writer w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct writer){l, i, pad};
		assert_int_equal(pthread_create(&th[i], NULL, write_many, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	zw_log_free(l);
	const char *out = capture_end(&c);

	int next[THREADS] = {0};
	size_t lines = 0;
	for (const char *p = out; *p; lines++) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		char *line = zw_strndup(p, (size_t)(nl - p));
		cJSON *j = cJSON_Parse(line);
		if (!j)
			fail_msg("line %zu is not whole JSON: %.80s", lines, line);
		int id = (int)strtol(str_field(j, "thread"), NULL, 10);
		assert_true(id >= 0 && id < THREADS);
		/* each thread's lines arrive in its own order */
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "seq")->valueint, next[id]);
		next[id]++;
		assert_string_equal(str_field(j, "pad"), pad);
		cJSON_Delete(j);
		zw_free(line);
		p = nl + 1;
	}
	assert_int_equal(lines, THREADS * LINES);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(next[i], LINES);
	zw_buf_free(&c.out);
	zw_free(pad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fields_in_order),
		cmocka_unit_test(levels),
		cmocka_unit_test(escaping),
		cmocka_unit_test(raw_values),
		cmocka_unit_test(long_values_cut),
		cmocka_unit_test(full_lines_and_nonblocking_fd),
		cmocka_unit_test(redaction),
		cmocka_unit_test(redaction_under_alloc_failure),
		cmocka_unit_test(threads_whole_lines),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
