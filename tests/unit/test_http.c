/*
 * test_http.c - unit tests of the core HTTP client: the status and libcurl mappings,
 * Retry-After parsing (seconds, the three HTTP-date forms, absent, absurd), the backoff
 * schedule and its jitter bounds, header parsing, redaction, the token buckets on a fake
 * clock, and whole requests against an in-process server on 127.0.0.1 (a thread that
 * answers a script of canned responses, or drops the connection), with the fake clock so
 * that no test sleeps for a backoff. Streams (chunked bodies handed over as they come,
 * error answers buffered, cancellation from another thread), the observe hook and the
 * client certificate options too.
 */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/http.h"

/* ---- the fake clock --------------------------------------------------------------- */

struct fake {
	uint64_t now;
	int64_t wall;
	uint64_t slept[64];
	size_t nslept;
	uint32_t rnd;
	struct zw_buf log;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static int64_t fake_wall(void *ctx)
{
	struct fake *f = ctx;
	return f->wall + (int64_t)(f->now / 1000);
}

static void fake_sleep(void *ctx, uint64_t ms)
{
	struct fake *f = ctx;
	if (f->nslept < 64)
		f->slept[f->nslept++] = ms;
	f->now += ms;
}

static uint32_t fake_random(void *ctx)
{
	return ((struct fake *)ctx)->rnd;
}

static void fake_log(void *ctx, enum zw_http_log level, const char *msg, const char *fields)
{
	struct fake *f = ctx;
	zw_buf_addf(&f->log, "%d %s %s\n", (int)level, msg, fields);
}

static void fake_opts(struct zw_http_opts *o, struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->now = 1000000;
	f->wall = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT at now == 0 */
	f->rnd = UINT32_MAX;
	f->log.max = 1 << 20;
	zw_http_opts_init(o);
	o->hooks.ctx = f;
	o->hooks.now_ms = fake_now;
	o->hooks.wall_s = fake_wall;
	o->hooks.sleep_ms = fake_sleep;
	o->hooks.random = fake_random;
	o->hooks.log = fake_log;
	o->hooks.log_level = ZW_HLOG_DEBUG;
	o->timeout_ms = 5000;
	o->connect_timeout_ms = 2000;
}

/* ---- the in-process server -------------------------------------------------------- */

#define DROP   "DROP"
#define MAXREQ 32

struct srv {
	int fd;
	int port;
	pthread_t th;
	const char *const *script; /* responses in order; the last one repeats */
	size_t n, next;
	atomic_int stop;
	int accepts;
	char req[MAXREQ][1024]; /* each request's head and body, cut */
	size_t nreq;
};

static int wait_readable(struct srv *s, int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	while (!atomic_load(&s->stop)) {
		int r = poll(&p, 1, 20);
		if (r > 0)
			return 1;
		if (r < 0)
			return 0;
	}
	return 0;
}

/* One request off conn into s->req; 0 when the client closed. */
static int read_request(struct srv *s, int conn)
{
	char buf[65536];
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		if (len == sizeof(buf) || !wait_readable(s, conn))
			return 0;
		ssize_t r = read(conn, buf + len, sizeof(buf) - len);
		if (r <= 0)
			return 0;
		len += (size_t)r;
		buf[len < sizeof(buf) ? len : len - 1] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	size_t head = (size_t)(end + 4 - buf), clen = 0;
	const char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl && cl < end)
		clen = strtoul(cl + 17, NULL, 10);
	while (len < head + clen && len < sizeof(buf)) {
		if (!wait_readable(s, conn))
			return 0;
		ssize_t r = read(conn, buf + len, sizeof(buf) - len);
		if (r <= 0)
			return 0;
		len += (size_t)r;
	}
	if (s->nreq < MAXREQ) {
		size_t n = len < 1023 ? len : 1023;
		memcpy(s->req[s->nreq], buf, n);
		s->req[s->nreq][n] = '\0';
		s->nreq++;
	}
	return 1;
}

/* Answer one request on conn; 0 when conn is to be closed. */
static int answer(struct srv *s, int conn)
{
	if (!read_request(s, conn))
		return 0;
	const char *r = s->script[s->next < s->n ? s->next : s->n - 1];
	s->next++;
	if (strcmp(r, DROP) == 0)
		return 0;
	return write(conn, r, strlen(r)) == (ssize_t)strlen(r);
}

static void *serve(void *arg)
{
	struct srv *s = arg;
	struct pollfd p[9];
	size_t n = 1;
	p[0] = (struct pollfd){s->fd, POLLIN, 0};
	while (!atomic_load(&s->stop)) {
		if (poll(p, n, 20) <= 0)
			continue;
		for (size_t i = n; i-- > 1;) {
			if (!p[i].revents || answer(s, p[i].fd))
				continue;
			close(p[i].fd);
			p[i] = p[--n];
		}
		if (p[0].revents & POLLIN) {
			int conn = accept(s->fd, NULL, NULL);
			if (conn >= 0 && n < 9) {
				s->accepts++;
				p[n++] = (struct pollfd){conn, POLLIN, 0};
			} else if (conn >= 0) {
				close(conn);
			}
		}
	}
	for (size_t i = 1; i < n; i++)
		close(p[i].fd);
	return NULL;
}

static void srv_start(struct srv *s, const char *const *script, size_t n)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->script = script;
	s->n = n;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void srv_stop(struct srv *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->fd);
}

static void url(char *out, size_t n, const struct srv *s, const char *path)
{
	snprintf(out, n, "http://127.0.0.1:%d%s", s->port, path);
}

#define OK200	 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
#define R500	 "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"
#define R503RA	 "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
#define R429RA3	 "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n"
#define R429	 "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n"
#define R429LONG "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n"
#define R404	 "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nmissing"
#define R53THROTTLE                                                                                          \
	"HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: 101\r\n\r\n"                  \
	"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"              \
	"</ErrorResponse>"

/* ---- the mappings ------------------------------------------------------------------- */

static void status_mapping(void **state)
{
	(void)state;
	static const struct {
		long status;
		int code;
	} t[] = {
		{200, 0},
		{204, 0},
		{299, 0},
		{100, ZW_EINVAL},
		{301, ZW_EINVAL},
		{304, ZW_EINVAL},
		{400, ZW_EINVAL},
		{401, ZW_EAUTH},
		{403, ZW_EAUTH},
		{404, ZW_ENOTFOUND},
		{405, ZW_EINVAL},
		{408, ZW_ETRANSIENT},
		{409, ZW_ECONFLICT},
		{410, ZW_ENOTFOUND},
		{422, ZW_EINVAL},
		{429, ZW_ERATE},
		{500, ZW_ETRANSIENT},
		{502, ZW_ETRANSIENT},
		{503, ZW_ETRANSIENT},
		{599, ZW_ETRANSIENT},
		{600, ZW_EINVAL},
		{0, ZW_EINVAL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(zw_http_status_error(t[i].status), t[i].code);
}

static void curl_mapping(void **state)
{
	(void)state;
	static const struct {
		int cc;
		int code;
		const char *what;
	} t[] = {
		{CURLE_OK, 0, "ok"},
		{CURLE_COULDNT_CONNECT, ZW_ETRANSIENT, "cannot connect"},
		{CURLE_COULDNT_RESOLVE_HOST, ZW_ETRANSIENT, "cannot resolve the host"},
		{CURLE_OPERATION_TIMEDOUT, ZW_ETRANSIENT, "timed out"},
		{CURLE_GOT_NOTHING, ZW_ETRANSIENT, "connection closed without a response"},
		{CURLE_RECV_ERROR, ZW_ETRANSIENT, "connection broken while receiving"},
		{CURLE_SEND_ERROR, ZW_ETRANSIENT, "connection broken while sending"},
		{CURLE_PEER_FAILED_VERIFICATION, ZW_EAUTH, "tls: the server's certificate is not trusted"},
		{CURLE_SSL_CONNECT_ERROR, ZW_EAUTH, "tls handshake failed"},
		{CURLE_SSL_CACERT_BADFILE, ZW_EINVAL, "tls: cannot read the ca file"},
		{CURLE_URL_MALFORMAT, ZW_EINVAL, "malformed url"},
		{CURLE_UNSUPPORTED_PROTOCOL, ZW_EINVAL, "unsupported url scheme (http and https only)"},
		{CURLE_FILESIZE_EXCEEDED, ZW_EINVAL, "response body over the size bound"},
		{CURLE_OUT_OF_MEMORY, ZW_ENOMEM, "out of memory"},
		{CURLE_FTP_WEIRD_PASV_REPLY, ZW_EIO, "transfer failed"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *what = NULL;
		assert_int_equal(zw_http_curl_error(t[i].cc, &what), t[i].code);
		assert_string_equal(what, t[i].what);
	}
	assert_int_equal(zw_http_curl_error(CURLE_COULDNT_CONNECT, NULL), ZW_ETRANSIENT);
}

/* ---- Retry-After ------------------------------------------------------------------- */

#define NOW 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

static void retry_after_values(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		int rc;
		uint64_t ms;
	} t[] = {
		{"120", 0, 120000},
		{"0", 0, 0},
		{" 7\t", 0, 7000},
		{"007", 0, 7000},
		{"Sun, 06 Nov 1994 08:50:07 GMT", 0, 30000},	/* IMF-fixdate, 30 s ahead */
		{"Sunday, 06-Nov-94 08:49:47 GMT", 0, 10000},	/* RFC 850 */
		{"Sun Nov  6 08:49:42 1994", 0, 5000},		/* asctime, one-digit day */
		{"Mon, 07 Nov 1994 08:49:37 GMT", 0, 86400000}, /* a day ahead */
		{"Sun, 06 Nov 1994 08:49:36 GMT", 0, 0},	/* the past: now */
		{"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
		{"99999999999999999999999999", 0, UINT64_MAX / 1000 * 1000}, /* absurd: saturates */
		{NULL, ZW_EINVAL, 0},
		{"", ZW_EINVAL, 0},
		{"   ", ZW_EINVAL, 0},
		{"-5", ZW_EINVAL, 0},
		{"+5", ZW_EINVAL, 0},
		{"1.5", ZW_EINVAL, 0},
		{"5s", ZW_EINVAL, 0},
		{"soon", ZW_EINVAL, 0},
		{"0x10", ZW_EINVAL, 0},
		{"Sun, 06 Nov 1994 08:50:07 UTC", ZW_EINVAL, 0},
		{"sun, 06 Nov 1994 08:50:07 GMT", ZW_EINVAL, 0},
		{"Sun, 6 Nov 1994 08:50:07 GMT", ZW_EINVAL, 0},
		{"Sun, 32 Nov 1994 08:50:07 GMT", ZW_EINVAL, 0},
		{"Sun, 06 Nov 1994 24:00:00 GMT", ZW_EINVAL, 0},
		{"Sun, 06 Nov 1994 08:50:07 GMT trailing", ZW_EINVAL, 0},
		{"Sun, 06 Foo 1994 08:50:07 GMT", ZW_EINVAL, 0},
		{"Sun Nov 6 08:49:42 1994", ZW_EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t ms = 12345;
		int rc = zw_http_retry_after(&ms, t[i].v, NOW);
		if (rc != t[i].rc)
			fail_msg("retry-after '%s': rc %d, want %d", t[i].v ? t[i].v : "(null)", rc, t[i].rc);
		if (rc == 0 && ms != t[i].ms)
			fail_msg("retry-after '%s': %llu ms, want %llu", t[i].v, (unsigned long long)ms,
				 (unsigned long long)t[i].ms);
		if (rc != 0)
			assert_int_equal(ms, 12345);
	}
}

static void rfc850_century(void **state)
{
	(void)state;
	uint64_t ms = 0;
	/* now 2026-01-01T00:00:00Z: '26' is this century, '99' is 1999 (in the past: 0) */
	const int64_t now = 1767225600;
	assert_int_equal(zw_http_retry_after(&ms, "Thursday, 01-Jan-26 00:00:09 GMT", now), 0);
	assert_int_equal(ms, 9000);
	assert_int_equal(zw_http_retry_after(&ms, "Friday, 31-Dec-99 23:59:59 GMT", now), 0);
	assert_int_equal(ms, 0);
	/* 2070 is within 50 years and stays ahead */
	assert_int_equal(zw_http_retry_after(&ms, "Wednesday, 01-Jan-70 00:00:00 GMT", now), 0);
	assert_int_equal(ms, (uint64_t)(3155760000LL - 1767225600LL) * 1000);
}

static void resp_hints(void **state)
{
	(void)state;
	struct zw_http_resp r = ZW_HTTP_RESP_INIT;
	struct zw_error err = {0};
	uint64_t ms = 0;
	const char *both = "HTTP/1.1 429 x\r\nRetry-After: 9\r\nretry-after-ms: 1500.2\r\n\r\n";
	assert_int_equal(zw_http_resp_parse_headers(&r, both, strlen(both), &err), 0);
	assert_int_equal(zw_http_resp_retry_after(&ms, &r, NOW), 0);
	assert_int_equal(ms, 1501);
	const char *bad_ms = "HTTP/1.1 429 x\r\nRetry-After-Ms: soon\r\nRETRY-AFTER: 9\r\n\r\n";
	assert_int_equal(zw_http_resp_parse_headers(&r, bad_ms, strlen(bad_ms), &err), 0);
	assert_int_equal(zw_http_resp_retry_after(&ms, &r, NOW), 0);
	assert_int_equal(ms, 9000);
	const char *exact = "HTTP/1.1 429 x\r\nretry-after-ms: 250\r\n\r\n";
	assert_int_equal(zw_http_resp_parse_headers(&r, exact, strlen(exact), &err), 0);
	assert_int_equal(zw_http_resp_retry_after(&ms, &r, NOW), 0);
	assert_int_equal(ms, 250);
	const char *none = "HTTP/1.1 429 x\r\nRatelimit: \"default\";r=0;t=2\r\nRetry-After: later\r\n\r\n";
	assert_int_equal(zw_http_resp_parse_headers(&r, none, strlen(none), &err), 0);
	assert_int_equal(zw_http_resp_retry_after(&ms, &r, NOW), ZW_ENOTFOUND);
	zw_http_resp_free(&r);
}

/* ---- backoff ------------------------------------------------------------------------ */

static void backoff_schedule(void **state)
{
	(void)state;
	/* the cap doubles from the base to the maximum; the top of the jitter reaches it */
	static const uint64_t caps[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		assert_int_equal(zw_http_backoff_ms(500, 8000, i, UINT32_MAX), caps[i]);
		assert_int_equal(zw_http_backoff_ms(500, 8000, i, 0), 0);
		assert_int_equal(zw_http_backoff_ms(500, 8000, i, UINT32_MAX / 2), caps[i] / 2 - 1);
	}
	assert_int_equal(zw_http_backoff_ms(500, 8000, 1000000, UINT32_MAX), 8000);
	assert_int_equal(zw_http_backoff_ms(500, UINT64_MAX, 200, UINT32_MAX), UINT64_MAX);
	assert_int_equal(zw_http_backoff_ms(0, 0, 3, UINT32_MAX), 0);
	assert_int_equal(zw_http_backoff_ms(100, 250, 2, UINT32_MAX), 250);
}

static void jitter_bounds(void **state)
{
	(void)state;
	/* full jitter over 20000 draws: every delay inside [0, cap], the spread covers it */
	uint32_t x = 2463534242u;
	for (unsigned retry = 0; retry < 6; retry++) {
		uint64_t cap = retry < 4 ? 500u << retry : 8000, lo = UINT64_MAX, hi = 0, sum = 0;
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			uint64_t d = zw_http_backoff_ms(500, 8000, retry, x);
			assert_true(d <= cap);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += d;
		}
		assert_true(lo <= cap / 100);
		assert_true(hi >= cap - cap / 100);
		/* the mean of a uniform draw is cap / 2, within 3 % */
		assert_true(sum / 20000 > cap / 2 - cap * 3 / 100 && sum / 20000 < cap / 2 + cap * 3 / 100);
	}
}

/* ---- headers ------------------------------------------------------------------------ */

static int parse_some(void)
{
	struct zw_http_resp r = ZW_HTTP_RESP_INIT;
	struct zw_error err = {0};
	const char *raw = "HTTP/1.1 200 OK\r\nContent-Type:  text/xml \r\nX-Fold: a\r\n b\r\n"
			  "no colon here\r\n: empty name\r\nX-Empty:\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n";
	int rc = zw_http_resp_parse_headers(&r, raw, strlen(raw), &err);
	if (rc == 0) {
		assert_int_equal(r.nheaders, 5);
		assert_string_equal(zw_http_resp_header(&r, "content-type"), "text/xml");
		assert_string_equal(zw_http_resp_header(&r, "CONTENT-TYPE"), "text/xml");
		assert_string_equal(zw_http_resp_header(&r, "x-fold"), "a   b");
		assert_string_equal(zw_http_resp_header(&r, "x-empty"), "");
		assert_string_equal(zw_http_resp_header(&r, "x-dup"), "1");
		assert_string_equal(r.headers[4].name, "X-Dup");
		assert_null(zw_http_resp_header(&r, "content"));
		assert_null(zw_http_resp_header(&r, "no colon here"));
	} else {
		assert_int_equal(rc, ZW_ENOMEM);
	}
	zw_http_resp_free(&r);
	return rc;
}

static void header_parsing(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(parse_some());
	/* bare CRs end lines too and never overflow the array */
	struct zw_http_resp r = ZW_HTTP_RESP_INIT;
	struct zw_error err = {0};
	const char *cr = "a: 1\rb: 2\rc: 3\r\r\r";
	assert_int_equal(zw_http_resp_parse_headers(&r, cr, strlen(cr), &err), 0);
	assert_int_equal(r.nheaders, 3);
	assert_string_equal(zw_http_resp_header(&r, "c"), "3");
	/* a 100 Continue block then the real one: only status lines are skipped here */
	const char *empty = "";
	assert_int_equal(zw_http_resp_parse_headers(&r, empty, 0, &err), 0);
	assert_int_equal(r.nheaders, 0);
	zw_http_resp_free(&r);
	zw_http_resp_free(NULL);
}

/* ---- redaction ---------------------------------------------------------------------- */

static void redact_expect(struct zw_http_client *c, const char *in, const char *want)
{
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_http_redact(&b, c, in), 0);
	if (strcmp(zw_buf_str(&b), want) != 0)
		fail_msg("redact '%s':\n got  '%s'\n want '%s'", in, zw_buf_str(&b), want);
	zw_buf_free(&b);
}

static void redaction(void **state)
{
	(void)state;
	static const char *const t[][2] = {
		{"Authorization: AWS4-HMAC-SHA256 "
		 "Credential=AKIDEXAMPLE/20260101/us-east-1/route53/aws4_request, "
		 "SignedHeaders=host;x-amz-date, "
		 "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924",
		 "Authorization: [redacted]"},
		{"authorization:Bearer abc.def", "authorization:[redacted]"},
		{"header=\"Authorization: Bearer xyz\" next=1",
		 "header=\"Authorization: [redacted]\" next=1"},
		{"Proxy-Authorization: Basic dXNlcjpwYXNz\r\nHost: x",
		 "Proxy-Authorization: [redacted]\r\nHost: x"},
		{"X-Amz-Security-Token: FQoGZXIvYXdzEJr//////////wEaDOPk+abc=",
		 "X-Amz-Security-Token: [redacted]"},
		{"X-Auth-Key: 1234567893feefc5f0q5000bfo0c38d90bbeb", "X-Auth-Key: [redacted]"},
		{"Cookie: a=1; b=2", "Cookie: [redacted]"},
		{"url=https://h.example/p?token=abc&x=1", "url=https://h.example/p?token=[redacted]&x=1"},
		{"GET /?X-Amz-Signature=deadbeef&X-Amz-Date=20260101T000000Z HTTP/1.1",
		 "GET /?X-Amz-Signature=[redacted]&X-Amz-Date=20260101T000000Z HTTP/1.1"},
		{"q?X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2F&X-Amz-Expires=60",
		 "q?X-Amz-Security-Token=[redacted]&X-Amz-Expires=60"},
		{"{\"api_token\":\"abc\\\"def\",\"x\":1}", "{\"api_token\":\"[redacted]\",\"x\":1}"},
		{"client_secret=s3cr3t password=hunter2 user=bob",
		 "client_secret=[redacted] password=[redacted] user=bob"},
		{"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY=[redacted]"},
		{"access_token=ya29.a0; id=3", "access_token=[redacted]; id=3"},
		{"Authorization:", "Authorization:"},
		{"token=", "token="},
		{"method=GET url=https://api.cloudflare.com/client/v4/zones?name=example.com status=200",
		 "method=GET url=https://api.cloudflare.com/client/v4/zones?name=example.com status=200"},
		{"Content-Type: text/xml", "Content-Type: text/xml"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		redact_expect(NULL, t[i][0], t[i][1]);

	struct zw_http_client *c = NULL;
	struct zw_http_opts o;
	struct zw_error err = {0};
	zw_http_opts_init(&o);
	assert_int_equal(zw_http_client_new(&c, &o, &err), 0);
	assert_int_equal(zw_http_secret_add(c, "abc", &err), ZW_EINVAL);
	zw_error_clear(&err);
	assert_int_equal(zw_http_secret_add(c, "cf-token-123", &err), 0);
	assert_int_equal(zw_http_secret_add(c, "cf-token-123456", &err), 0);
	redact_expect(c, "sending cf-token-123 now", "sending [redacted] now");
	redact_expect(c, "a cf-token-123456b", "a [redacted]b");
	redact_expect(c, "cf-token-12", "cf-token-12");
	zw_http_client_free(c);
}

/* ---- options ------------------------------------------------------------------------ */

static void options(void **state)
{
	(void)state;
	struct zw_http_client *c = NULL;
	struct zw_http_opts o;
	struct zw_error err = {0};
	zw_http_opts_init(&o);
	assert_int_equal(o.max_retries, 4);
	assert_int_equal(o.base_backoff_ms, 500);
	assert_int_equal(o.max_backoff_ms, 8000);
	o.timeout_ms = 0;
	assert_int_equal(zw_http_client_new(&c, &o, &err), ZW_EINVAL);
	assert_null(c);
	zw_error_clear(&err);
	zw_http_opts_init(&o);
	o.base_backoff_ms = 9000;
	assert_int_equal(zw_http_client_new(&c, &o, &err), ZW_EINVAL);
	zw_error_clear(&err);
	zw_http_opts_init(&o);
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(zw_http_client_new(&c, &o, &err), ZW_EINVAL);
	assert_string_equal(err.msg, "http: cannot read ca file /nonexistent/ca.pem");
	zw_error_clear(&err);
	zw_http_opts_init(&o);
	o.max_body = 0;
	assert_int_equal(zw_http_client_new(&c, &o, &err), ZW_EINVAL);
	zw_http_client_free(NULL);
}

static int new_and_free(void)
{
	struct zw_http_client *c = NULL;
	struct zw_http_opts o;
	struct zw_error err = {0};
	struct zw_http_rate r = {5, 1000, 5};
	zw_http_opts_init(&o);
	o.ca_file = "/dev/null";
	int rc = zw_http_client_new(&c, &o, &err);
	if (!rc)
		rc = zw_http_budget_set(c, "acct", &r, &err);
	if (!rc)
		rc = zw_http_secret_add(c, "secret-value", &err);
	if (!rc)
		rc = zw_http_budget_pause(c, "other", 10, &err);
	zw_http_client_free(c);
	return rc;
}

static void alloc_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(new_and_free());
}

/* ---- token buckets ------------------------------------------------------------------ */

static void token_bucket(void **state)
{
	(void)state;
	struct fake f;
	struct zw_http_opts o;
	struct zw_http_client *c = NULL;
	struct zw_error err = {0};
	uint64_t wait = 0;
	fake_opts(&o, &f);
	assert_int_equal(zw_http_client_new(&c, &o, &err), 0);

	/* Route 53: 5 per second, burst 5: five at once, then one every 200 ms */
	struct zw_http_rate r53 = {5, 1000, 5};
	assert_int_equal(zw_http_budget_set(c, "aws:AKID", &r53, &err), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(zw_http_budget_take(c, "aws:AKID", &wait, &err), 0);
	assert_int_equal(f.nslept, 0);
	assert_int_equal(zw_http_budget_take(c, "aws:AKID", &wait, &err), 0);
	assert_int_equal(zw_http_budget_take(c, "aws:AKID", &wait, &err), 0);
	assert_int_equal(f.nslept, 2);
	assert_int_equal(f.slept[0], 200);
	assert_int_equal(f.slept[1], 200);
	/* an idle second refills five tokens, never more than the burst */
	f.now += 10000;
	f.nslept = 0;
	for (int i = 0; i < 5; i++)
		assert_int_equal(zw_http_budget_take(c, "aws:AKID", &wait, &err), 0);
	assert_int_equal(f.nslept, 0);
	assert_int_equal(zw_http_budget_take(c, "aws:AKID", &wait, &err), 0);
	assert_int_equal(f.nslept, 1);
	assert_int_equal(f.slept[0], 200);

	/* Cloudflare: 1200 per 300 s, burst 2: one every 250 ms after the burst */
	struct zw_http_rate cf = {1200, 300000, 2};
	assert_int_equal(zw_http_budget_set(c, "cf:token", &cf, &err), 0);
	f.nslept = 0;
	for (int i = 0; i < 4; i++)
		assert_int_equal(zw_http_budget_take(c, "cf:token", &wait, &err), 0);
	assert_int_equal(f.nslept, 2);
	assert_int_equal(f.slept[0], 250);
	assert_int_equal(f.slept[1], 250);

	/* an account with no rate of its own gets the default: no limit */
	f.nslept = 0;
	for (int i = 0; i < 100; i++)
		assert_int_equal(zw_http_budget_take(c, "unknown", &wait, &err), 0);
	assert_int_equal(f.nslept, 0);

	/* a pause holds the whole account, then tokens flow again */
	assert_int_equal(zw_http_budget_pause(c, "unknown", 3000, &err), 0);
	assert_int_equal(zw_http_budget_pause(c, "unknown", 1000, &err), 0); /* shorter: kept */
	assert_int_equal(zw_http_budget_take(c, "unknown", &wait, &err), 0);
	assert_int_equal(f.nslept, 1);
	assert_int_equal(f.slept[0], 3000);

	/* a pause longer than the in-line maximum is not slept: ZW_ERATE with the wait */
	f.nslept = 0;
	assert_int_equal(zw_http_budget_pause(c, "unknown", 120000, &err), 0);
	assert_int_equal(zw_http_budget_take(c, "unknown", &wait, &err), ZW_ERATE);
	assert_int_equal(wait, 120000);
	assert_int_equal(f.nslept, 0);
	assert_string_equal(err.msg, "account rate limited: next request allowed in 120000 ms");
	zw_error_clear(&err);
	/* and a pause is capped at max_pause_ms (600 s) */
	assert_int_equal(zw_http_budget_pause(c, "capped", UINT64_MAX / 2, &err), 0);
	assert_int_equal(zw_http_budget_take(c, "capped", &wait, &err), ZW_ERATE);
	assert_int_equal(wait, 600000);
	zw_error_clear(&err);
	/* other accounts are not affected */
	assert_int_equal(zw_http_budget_take(c, "cf:token", &wait, &err), 0);
	zw_http_client_free(c);
	zw_buf_free(&f.log);
}

static void default_rate(void **state)
{
	(void)state;
	struct fake f;
	struct zw_http_opts o;
	struct zw_http_client *c = NULL;
	struct zw_error err = {0};
	fake_opts(&o, &f);
	o.default_rate = (struct zw_http_rate){2, 1000, 0}; /* burst 0: the rate itself */
	assert_int_equal(zw_http_client_new(&c, &o, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(zw_http_budget_take(c, "x", NULL, &err), 0);
	assert_int_equal(f.nslept, 1);
	assert_int_equal(f.slept[0], 500);
	zw_http_client_free(c);
	zw_buf_free(&f.log);
}

/* ---- requests against the in-process server ---------------------------------------- */

struct env {
	struct fake f;
	struct zw_http_opts o;
	struct zw_http_client *c;
	struct srv s;
	char url[128];
	struct zw_error err;
	struct zw_http_resp resp;
};

static void env_start(struct env *e, const char *const *script, size_t n, const char *path)
{
	memset(e, 0, sizeof(*e));
	fake_opts(&e->o, &e->f);
	e->resp = (struct zw_http_resp)ZW_HTTP_RESP_INIT;
	srv_start(&e->s, script, n);
	url(e->url, sizeof(e->url), &e->s, path);
}

static void env_client(struct env *e)
{
	assert_int_equal(zw_http_client_new(&e->c, &e->o, &e->err), 0);
}

static void env_stop(struct env *e)
{
	zw_http_resp_free(&e->resp);
	zw_http_client_free(e->c);
	srv_stop(&e->s);
	zw_buf_free(&e->f.log);
}

static int do_req(struct env *e, const char *method, const char *body, const char *account)
{
	struct zw_http_req req = {.method = method, .url = e->url, .account = account};
	if (body) {
		req.body = body;
		req.body_len = strlen(body);
	}
	zw_error_clear(&e->err);
	return zw_http_do(e->c, &req, &e->resp, &e->err);
}

static void retry_after_honoured_and_connection_reused(void **state)
{
	(void)state;
	static const char *const script[] = {R429RA3, OK200, OK200};
	struct env e;
	env_start(&e, script, 3, "/zones");
	env_client(&e);
	assert_int_equal(do_req(&e, "GET", NULL, "cf"), 0);
	assert_int_equal(e.resp.status, 200);
	assert_int_equal(e.resp.attempts, 2);
	assert_string_equal(zw_buf_str(&e.resp.body), "ok");
	assert_string_equal(zw_http_resp_header(&e.resp, "content-type"), "text/plain");
	assert_int_equal(e.f.nslept, 1);
	assert_int_equal(e.f.slept[0], 3000);
	assert_int_equal(e.resp.retry_after_ms, 0);
	/* a second request on the same client rides the same connection */
	assert_int_equal(do_req(&e, "GET", NULL, "cf"), 0);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.s.nreq, 3);
	assert_int_equal(e.s.accepts, 1);
	assert_non_null(strstr(e.s.req[0], "GET /zones HTTP/1.1\r\n"));
	assert_non_null(strstr(e.s.req[0], "User-Agent: zonewarden\r\n"));
	env_stop(&e);
}

static void server_errors_back_off(void **state)
{
	(void)state;
	static const char *const script[] = {R500, R500, OK200};
	struct env e;
	env_start(&e, script, 3, "/x");
	env_client(&e);
	assert_int_equal(do_req(&e, "GET", NULL, NULL), 0);
	assert_int_equal(e.resp.attempts, 3);
	assert_int_equal(e.f.nslept, 2);
	assert_int_equal(e.f.slept[0], 500); /* rnd = UINT32_MAX: the top of each window */
	assert_int_equal(e.f.slept[1], 1000);
	/* the log says what happened, one line per attempt and per retry */
	assert_non_null(strstr(zw_buf_str(&e.f.log), "http retry method=GET url="));
	assert_non_null(strstr(zw_buf_str(&e.f.log), "attempt=2 delay_ms=1000"));
	env_stop(&e);
}

static void no_retry_after_long_wait_but_account_paused(void **state)
{
	(void)state;
	static const char *const script[] = {R429LONG, OK200};
	struct env e;
	env_start(&e, script, 2, "/x");
	env_client(&e);
	assert_int_equal(do_req(&e, "GET", NULL, "cf"), ZW_ERATE);
	assert_int_equal(e.resp.status, 429);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.resp.retry_after_ms, 3600000);
	assert_int_equal(e.f.nslept, 0);
	assert_int_equal(e.err.code, ZW_ERATE);
	char want[256];
	snprintf(
		want, sizeof(want),
		"http GET %s: status 429 (rate limited) after 1 attempt, the server asks to wait longer than "
		"allowed",
		e.url);
	assert_string_equal(e.err.msg, want);
	/* the account stays paused (capped at 600 s): the next request fails fast, unsent */
	assert_int_equal(do_req(&e, "GET", NULL, "cf"), ZW_ERATE);
	assert_int_equal(e.resp.attempts, 0);
	assert_int_equal(e.resp.retry_after_ms, 600000);
	assert_int_equal(e.s.nreq, 1);
	/* another account is not held */
	assert_int_equal(do_req(&e, "GET", NULL, "other"), 0);
	env_stop(&e);
}

static void rate_limit_exhausts_retries(void **state)
{
	(void)state;
	static const char *const script[] = {R429};
	struct env e;
	env_start(&e, script, 1, "/x");
	e.o.max_retries = 2;
	env_client(&e);
	assert_int_equal(do_req(&e, "GET", NULL, "acct"), ZW_ERATE);
	assert_int_equal(e.resp.status, 429);
	assert_int_equal(e.resp.attempts, 3);
	assert_int_equal(e.s.nreq, 3);
	/* no Retry-After: the backoff, and the account paused as long */
	assert_int_equal(e.f.nslept, 2);
	assert_int_equal(e.f.slept[0], 500);
	assert_int_equal(e.f.slept[1], 1000);
	assert_int_equal(e.resp.retry_after_ms, 2000);
	assert_non_null(strstr(e.err.msg, "status 429 (rate limited) after 3 attempts, retries exhausted"));
	env_stop(&e);
}

static void ambiguous_post_not_resent(void **state)
{
	(void)state;
	static const char *const script[] = {R500, DROP, OK200};
	struct env e;
	env_start(&e, script, 3, "/rrset/");
	env_client(&e);
	/* a 500 to a POST: it may have been applied */
	assert_int_equal(do_req(&e, "POST", "<x/>", NULL), ZW_ETRANSIENT);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.resp.status, 500);
	assert_string_equal(zw_buf_str(&e.resp.body), "oops");
	assert_non_null(strstr(e.err.msg, "not retried: the request may have been applied and is not "
					  "idempotent"));
	/* a dropped connection after the POST was sent: same */
	assert_int_equal(do_req(&e, "POST", "<x/>", NULL), ZW_ETRANSIENT);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.resp.status, 0);
	assert_int_equal(e.s.nreq, 2);
	/* no form content type and no Expect were added to the POST */
	assert_null(strcasestr(e.s.req[0], "content-type"));
	assert_null(strcasestr(e.s.req[0], "expect"));
	assert_non_null(strstr(e.s.req[0], "\r\n\r\n<x/>"));
	env_stop(&e);
}

static void replay_safe_post_resent(void **state)
{
	(void)state;
	static const char *const script[] = {DROP, R503RA, R500, OK200};
	struct env e;
	env_start(&e, script, 4, "/rrset/");
	env_client(&e);
	const char *h[] = {"Content-Type: text/xml"};
	struct zw_http_req req = {.method = "POST",
				  .url = e.url,
				  .headers = h,
				  .nheaders = 1,
				  .body = "<UPSERT/>",
				  .body_len = 9,
				  .replay_safe = 1};
	assert_int_equal(zw_http_do(e.c, &req, &e.resp, &e.err), 0);
	assert_int_equal(e.resp.attempts, 4);
	assert_int_equal(e.s.nreq, 4);
	assert_int_equal(e.f.nslept, 3);
	assert_int_equal(e.f.slept[0], 500);
	assert_int_equal(e.f.slept[1], 1000); /* 503's Retry-After: 1 */
	assert_int_equal(e.f.slept[2], 2000);
	assert_non_null(strstr(e.s.req[3], "Content-Type: text/xml\r\n"));
	env_stop(&e);
}

static void unsafe_post_resent_when_refused(void **state)
{
	(void)state;
	/* 503 and 429 mean "not processed": any method is resent */
	static const char *const script[] = {R503RA, R429, OK200};
	struct env e;
	env_start(&e, script, 3, "/records");
	env_client(&e);
	assert_int_equal(do_req(&e, "POST", "{}", NULL), 0);
	assert_int_equal(e.resp.attempts, 3);
	env_stop(&e);
}

static int r53_classify(void *ctx, const struct zw_http_resp *resp, uint64_t *retry_after_ms)
{
	(*(int *)ctx)++;
	(void)retry_after_ms;
	if (resp->status == 400 && strstr(zw_buf_str(&resp->body), "<Code>Throttling</Code>"))
		return ZW_ERATE;
	return zw_http_status_error(resp->status);
}

static void classifier_decides(void **state)
{
	(void)state;
	static const char *const script[] = {R53THROTTLE, R53THROTTLE, OK200};
	struct env e;
	int calls = 0;
	env_start(&e, script, 3, "/2013-04-01/hostedzone/Z1/rrset/");
	env_client(&e);
	/* without the classifier a 400 is invalid input, never retried */
	assert_int_equal(do_req(&e, "POST", "<b/>", "aws"), ZW_EINVAL);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.resp.status, 400);
	/* with it, Throttling is rate limiting: retried (any method), the account paused */
	struct zw_http_req req = {.method = "POST",
				  .url = e.url,
				  .body = "<b/>",
				  .body_len = 4,
				  .account = "aws",
				  .classify = r53_classify,
				  .classify_ctx = &calls};
	zw_error_clear(&e.err);
	assert_int_equal(zw_http_do(e.c, &req, &e.resp, &e.err), 0);
	assert_int_equal(e.resp.attempts, 2);
	assert_int_equal(calls, 2);
	assert_int_equal(e.f.nslept, 1);
	assert_int_equal(e.f.slept[0], 500);
	env_stop(&e);
}

static int slow_down(void *ctx, const struct zw_http_resp *resp, uint64_t *retry_after_ms)
{
	(void)ctx;
	/* a body-level hint: Cloudflare's success:false code 971 on a 200 */
	if (strstr(zw_buf_str(&resp->body), "971")) {
		*retry_after_ms = 4000;
		return ZW_ERATE;
	}
	return zw_http_status_error(resp->status);
}

static void classifier_hint(void **state)
{
	(void)state;
	static const char *const script[] = {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n971", OK200};
	struct env e;
	env_start(&e, script, 2, "/x");
	env_client(&e);
	struct zw_http_req req = {.method = "GET", .url = e.url, .classify = slow_down};
	assert_int_equal(zw_http_do(e.c, &req, &e.resp, &e.err), 0);
	assert_int_equal(e.resp.attempts, 2);
	assert_int_equal(e.f.slept[0], 4000);
	env_stop(&e);
}

static void not_found_and_big_body(void **state)
{
	(void)state;
	static const char *const script[] = {
		R404, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n", OK200};
	struct env e;
	env_start(&e, script, 4, "/x");
	e.o.max_body = 7;
	env_client(&e);
	/* an error body is kept for the caller (bounded too) */
	assert_int_equal(do_req(&e, "GET", NULL, NULL), ZW_ENOTFOUND);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.resp.status, 404);
	assert_string_equal(zw_buf_str(&e.resp.body), "missing");
	char want[256];
	snprintf(want, sizeof(want), "http GET %s: status 404 (not found) after 1 attempt", e.url);
	assert_string_equal(e.err.msg, want);
	/* one byte over the bound, announced or chunked: refused, not retried */
	assert_int_equal(do_req(&e, "GET", NULL, NULL), ZW_EINVAL);
	assert_int_equal(e.resp.attempts, 1);
	snprintf(want, sizeof(want), "http GET %s: response body over the size bound after 1 attempt", e.url);
	assert_string_equal(e.err.msg, want);
	assert_int_equal(do_req(&e, "GET", NULL, NULL), ZW_EINVAL);
	assert_int_equal(e.resp.attempts, 1);
	assert_string_equal(e.err.msg, want);
	assert_int_equal(e.s.nreq, 3);
	/* and the client still works */
	assert_int_equal(do_req(&e, "GET", NULL, NULL), 0);
	env_stop(&e);
}

static void connection_refused_retried(void **state)
{
	(void)state;
	static const char *const script[] = {OK200};
	struct env e;
	env_start(&e, script, 1, "/x");
	e.o.max_retries = 2;
	env_client(&e);
	/* a port nobody listens on: closed right after we learn it */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	snprintf(e.url, sizeof(e.url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
	/* never sent, so even a POST is retried */
	assert_int_equal(do_req(&e, "POST", "{}", NULL), ZW_ETRANSIENT);
	assert_int_equal(e.resp.attempts, 3);
	assert_int_equal(e.resp.status, 0);
	assert_int_equal(e.f.nslept, 2);
	assert_non_null(strstr(e.err.msg, ": cannot connect after 3 attempts, retries exhausted"));
	env_stop(&e);
}

static void bad_requests(void **state)
{
	(void)state;
	static const char *const script[] = {OK200};
	struct env e;
	env_start(&e, script, 1, "/x");
	env_client(&e);
	assert_int_equal(do_req(&e, "get", NULL, NULL), ZW_EINVAL);
	const char *inject[] = {"X-A: 1\r\nX-B: 2"};
	struct zw_http_req req = {.method = "GET", .url = e.url, .headers = inject, .nheaders = 1};
	zw_error_clear(&e.err);
	assert_int_equal(zw_http_do(e.c, &req, &e.resp, &e.err), ZW_EINVAL);
	const char *nocolon[] = {"X-A"};
	req.headers = nocolon;
	zw_error_clear(&e.err);
	assert_int_equal(zw_http_do(e.c, &req, &e.resp, &e.err), ZW_EINVAL);
	snprintf(e.url, sizeof(e.url), "ftp://127.0.0.1:%d/x", e.s.port);
	assert_int_equal(do_req(&e, "GET", NULL, NULL), ZW_EINVAL);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.s.nreq, 0);
	env_stop(&e);
}

static void logs_are_redacted(void **state)
{
	(void)state;
	static const char *const script[] = {R500, OK200};
	struct env e;
	env_start(&e, script, 2, "/x?token=tok-in-url&page=1");
	env_client(&e);
	assert_int_equal(zw_http_secret_add(e.c, "sekrit-body-value", &e.err), 0);
	const char *h[] = {"Authorization: Bearer cf-token-abcdef", "X-Note: sekrit-body-value"};
	struct zw_http_req req = {.method = "GET", .url = e.url, .headers = h, .nheaders = 2};
	assert_int_equal(zw_http_do(e.c, &req, &e.resp, &e.err), 0);
	const char *log = zw_buf_str(&e.f.log);
	assert_null(strstr(log, "cf-token-abcdef"));
	assert_null(strstr(log, "tok-in-url"));
	assert_null(strstr(log, "sekrit"));
	assert_non_null(strstr(log, "header=\"Authorization: [redacted]\""));
	assert_non_null(strstr(log, "header=\"X-Note: [redacted]\""));
	assert_non_null(strstr(log, "/x?token=[redacted]&page=1 status=500"));
	/* the header did reach the server */
	assert_non_null(strstr(e.s.req[0], "Authorization: Bearer cf-token-abcdef\r\n"));
	env_stop(&e);
}

static void shared_account_budget(void **state)
{
	(void)state;
	static const char *const script[] = {OK200};
	struct env e;
	env_start(&e, script, 1, "/x");
	env_client(&e);
	struct zw_http_rate one = {1, 1000, 1};
	assert_int_equal(zw_http_budget_set(e.c, "aws:AKID", &one, &e.err), 0);
	/* two "zones" of the same account share one bucket */
	snprintf(e.url, sizeof(e.url), "http://127.0.0.1:%d/hostedzone/Z1/rrset", e.s.port);
	assert_int_equal(do_req(&e, "GET", NULL, "aws:AKID"), 0);
	snprintf(e.url, sizeof(e.url), "http://127.0.0.1:%d/hostedzone/Z2/rrset", e.s.port);
	assert_int_equal(do_req(&e, "GET", NULL, "aws:AKID"), 0);
	assert_int_equal(e.f.nslept, 1);
	assert_int_equal(e.f.slept[0], 1000);
	/* a request without an account is not held by it */
	assert_int_equal(do_req(&e, "GET", NULL, NULL), 0);
	assert_int_equal(e.f.nslept, 1);
	env_stop(&e);
}

struct worker {
	struct zw_http_client *c;
	const char *url;
	int ok;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 5; i++) {
		struct zw_http_resp resp = ZW_HTTP_RESP_INIT;
		struct zw_error err = {0};
		struct zw_http_req req = {.method = "GET", .url = w->url, .account = "shared"};
		if (zw_http_do(w->c, &req, &resp, &err) == 0 && strcmp(zw_buf_str(&resp.body), "ok") == 0)
			w->ok++;
		zw_http_resp_free(&resp);
	}
	return NULL;
}

static void concurrent_workers(void **state)
{
	(void)state;
	static const char *const script[] = {OK200};
	struct env e;
	struct worker w[4];
	pthread_t th[4];
	env_start(&e, script, 1, "/x");
	zw_http_opts_init(&e.o); /* the real hooks: they are thread-safe */
	env_client(&e);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){e.c, e.url, 0};
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 5);
	}
	assert_int_equal(e.s.nreq, 20);
	/* the handles went back to the pool: at most 4 connections were ever opened */
	assert_true(e.s.accepts >= 1 && e.s.accepts <= 4);
	env_stop(&e);
}

static int request_under_failures(struct env *e)
{
	struct zw_http_client *c = NULL;
	struct zw_error err = {0};
	struct zw_http_resp resp = ZW_HTTP_RESP_INIT;
	const char *h[] = {"Accept: */*"};
	struct zw_http_req req = {.method = "PUT",
				  .url = e->url,
				  .headers = h,
				  .nheaders = 1,
				  .body = "x",
				  .body_len = 1,
				  .account = "a"};
	int rc = zw_http_client_new(&c, &e->o, &err);
	if (!rc)
		rc = zw_http_secret_add(c, "secret-value", &err);
	if (!rc)
		rc = zw_http_do(c, &req, &resp, &err);
	if (!rc && (resp.status != 200 || strcmp(zw_buf_str(&resp.body), "ok") != 0))
		rc = ZW_EIO;
	zw_http_resp_free(&resp);
	zw_http_client_free(c);
	return rc;
}

static void request_alloc_failures(void **state)
{
	(void)state;
	static const char *const script[] = {R500, OK200};
	struct env e;
	env_start(&e, script, 2, "/x");
	e.o.hooks.log = NULL;
	ZW_FOR_EACH_ALLOC_FAILURE(request_under_failures(&e));
	env_stop(&e);
}

/* ---- streams, the observe hook, client certificates --------------------------------- */

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
#define STREAM_DONE  CHUNKED_HEAD "6\r\nhello \r\n6\r\nworld\n\r\n0\r\n\r\n"
#define STREAM_OPEN  CHUNKED_HEAD "6\r\nfirst\n\r\n" /* never ends */
#define R410                                                                                                 \
	"HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: "                            \
	"17\r\n\r\n{\"reason\":\"Gone\"}"

struct sink {
	struct zw_buf got;
	int calls;
	int stop_after; /* 0: never ask to stop */
	struct zw_http_cancel *cancel;
	atomic_int seen;
};

static int sink_data(void *ctx, const char *data, size_t len)
{
	struct sink *k = ctx;
	k->calls++;
	assert_int_equal(zw_buf_add(&k->got, data, len), 0);
	atomic_store(&k->seen, 1);
	return k->stop_after && k->calls >= k->stop_after;
}

static int do_stream(struct env *e, struct sink *k)
{
	struct zw_http_req req = {.method = "GET", .url = e->url};
	struct zw_http_stream st = {sink_data, k, k->cancel, 0};
	zw_error_clear(&e->err);
	return zw_http_stream(e->c, &req, &st, &e->resp, &e->err);
}

static void stream_delivers_chunks(void **state)
{
	(void)state;
	static const char *const script[] = {STREAM_DONE};
	struct env e;
	struct sink k = {ZW_BUF_INIT, 0, 0, NULL, 0};
	env_start(&e, script, 1, "/watch");
	env_client(&e);
	assert_int_equal(do_stream(&e, &k), 0);
	assert_int_equal(e.resp.status, 200);
	assert_string_equal(zw_buf_str(&k.got), "hello world\n");
	assert_int_equal(e.resp.body.len, 0); /* a 2xx body is not buffered */
	assert_string_equal(zw_http_resp_header(&e.resp, "content-type"), "application/json");
	zw_buf_free(&k.got);
	env_stop(&e);
}

static void stream_error_answer_buffered(void **state)
{
	(void)state;
	static const char *const script[] = {R410};
	struct env e;
	struct sink k = {ZW_BUF_INIT, 0, 0, NULL, 0};
	env_start(&e, script, 1, "/watch");
	env_client(&e);
	assert_int_equal(do_stream(&e, &k), ZW_ENOTFOUND); /* the status map of zw_http_do */
	assert_int_equal(e.resp.status, 410);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(k.calls, 0);
	assert_string_equal(zw_buf_str(&e.resp.body), "{\"reason\":\"Gone\"}");
	assert_non_null(strstr(e.err.msg, "status 410"));
	env_stop(&e);
}

static void stream_not_retried(void **state)
{
	(void)state;
	static const char *const script[] = {R500, STREAM_DONE};
	struct env e;
	struct sink k = {ZW_BUF_INIT, 0, 0, NULL, 0};
	env_start(&e, script, 2, "/watch");
	env_client(&e);
	assert_int_equal(do_stream(&e, &k), ZW_ETRANSIENT);
	assert_int_equal(e.resp.attempts, 1);
	assert_int_equal(e.f.nslept, 0);
	assert_int_equal(k.calls, 0);
	env_stop(&e);
}

static void stream_stopped_by_consumer(void **state)
{
	(void)state;
	static const char *const script[] = {STREAM_OPEN};
	struct env e;
	struct sink k = {ZW_BUF_INIT, 0, 1, NULL, 0};
	env_start(&e, script, 1, "/watch");
	env_client(&e);
	assert_int_equal(do_stream(&e, &k), 0);
	assert_int_equal(k.calls, 1);
	assert_string_equal(zw_buf_str(&k.got), "first\n");
	zw_buf_free(&k.got);
	env_stop(&e);
}

static void *canceller(void *arg)
{
	struct sink *k = arg;
	while (!atomic_load(&k->seen)) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	zw_http_cancel_fire(k->cancel);
	return NULL;
}

static void stream_cancelled_from_another_thread(void **state)
{
	(void)state;
	static const char *const script[] = {STREAM_OPEN};
	struct env e;
	struct sink k = {ZW_BUF_INIT, 0, 0, NULL, 0};
	pthread_t th;
	assert_int_equal(zw_http_cancel_new(&k.cancel, &e.err), 0);
	env_start(&e, script, 1, "/watch");
	env_client(&e);
	assert_int_equal(pthread_create(&th, NULL, canceller, &k), 0);
	/* the server never ends this stream: only the token can */
	assert_int_equal(do_stream(&e, &k), ZW_ETRANSIENT);
	pthread_join(th, NULL);
	assert_true(zw_http_cancel_fired(k.cancel));
	assert_non_null(strstr(e.err.msg, "cancelled"));
	assert_string_equal(zw_buf_str(&k.got), "first\n");
	/* a fired token stays fired: the next stream ends before it starts */
	k.calls = 0;
	assert_int_equal(do_stream(&e, &k), ZW_ETRANSIENT);
	assert_int_equal(k.calls, 0);
	zw_buf_free(&k.got);
	zw_http_cancel_free(k.cancel);
	env_stop(&e);
}

static void stream_needs_a_callback(void **state)
{
	(void)state;
	static const char *const script[] = {OK200};
	struct env e;
	env_start(&e, script, 1, "/x");
	env_client(&e);
	struct zw_http_req req = {.method = "GET", .url = e.url};
	struct zw_http_stream st = {NULL, NULL, NULL, 0};
	assert_int_equal(zw_http_stream(e.c, &req, &st, &e.resp, &e.err), ZW_EINVAL);
	assert_int_equal(e.s.nreq, 0);
	env_stop(&e);
}

struct seen {
	char line[256];
	size_t len;
};

static void record_observe(void *ctx, const char *method, const char *account, long status)
{
	struct seen *s = ctx;
	s->len += (size_t)snprintf(s->line + s->len, sizeof(s->line) - s->len, "%s %s %ld;", method,
				   account ? account : "-", status);
}

static void observe_each_attempt(void **state)
{
	(void)state;
	static const char *const script[] = {R429, R500, OK200, R404};
	struct env e;
	struct seen s = {{0}, 0};
	env_start(&e, script, 4, "/x");
	e.o.hooks.observe = record_observe;
	e.o.hooks.ctx = &s; /* the other fake hooks share ctx: give them theirs back */
	e.o.hooks.now_ms = NULL;
	e.o.hooks.wall_s = NULL;
	e.o.hooks.sleep_ms = NULL;
	e.o.hooks.random = NULL;
	e.o.hooks.log = NULL;
	e.o.base_backoff_ms = 1;
	e.o.max_backoff_ms = 2;
	env_client(&e);
	assert_int_equal(do_req(&e, "GET", NULL, "acct"), 0);
	assert_int_equal(do_req(&e, "DELETE", NULL, NULL), ZW_ENOTFOUND);
	assert_string_equal(s.line, "GET acct 429;GET acct 500;GET acct 200;DELETE - 404;");
	env_stop(&e);
	/* no answer at all: status 0 */
	struct zw_http_opts o;
	struct zw_http_client *c;
	struct zw_http_resp resp = ZW_HTTP_RESP_INIT;
	struct zw_error err = {0};
	struct seen s2 = {{0}, 0};
	zw_http_opts_init(&o);
	o.max_retries = 0;
	o.hooks.observe = record_observe;
	o.hooks.ctx = &s2;
	assert_int_equal(zw_http_client_new(&c, &o, &err), 0);
	struct zw_http_req req = {.method = "GET", .url = "http://127.0.0.1:1/"};
	assert_int_equal(zw_http_do(c, &req, &resp, &err), ZW_ETRANSIENT);
	assert_string_equal(s2.line, "GET - 0;");
	zw_http_resp_free(&resp);
	zw_http_client_free(c);
}

static void client_certificate_options(void **state)
{
	(void)state;
	struct zw_http_opts o;
	struct zw_http_client *c = NULL;
	struct zw_error err = {0};
	char dir[] = "/tmp/zw-http-cert-XXXXXX", crt[64], key[64];
	assert_non_null(mkdtemp(dir));
	snprintf(crt, sizeof(crt), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	FILE *f = fopen(crt, "w");
	assert_non_null(f);
	fclose(f);
	zw_http_opts_init(&o);
	o.cert_file = crt; /* no key */
	assert_int_equal(zw_http_client_new(&c, &o, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "both"));
	o.key_file = key; /* does not exist */
	zw_error_clear(&err);
	assert_int_equal(zw_http_client_new(&c, &o, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "cannot read key file"));
	f = fopen(key, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(zw_http_client_new(&c, &o, &err), 0);
	zw_http_client_free(c);
	unlink(crt);
	unlink(key);
	rmdir(dir);
}

int main(void)
{
	/* the tests talk to 127.0.0.1 directly */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_mapping),
		cmocka_unit_test(curl_mapping),
		cmocka_unit_test(retry_after_values),
		cmocka_unit_test(rfc850_century),
		cmocka_unit_test(resp_hints),
		cmocka_unit_test(backoff_schedule),
		cmocka_unit_test(jitter_bounds),
		cmocka_unit_test(header_parsing),
		cmocka_unit_test(redaction),
		cmocka_unit_test(options),
		cmocka_unit_test(alloc_failures),
		cmocka_unit_test(token_bucket),
		cmocka_unit_test(default_rate),
		cmocka_unit_test(retry_after_honoured_and_connection_reused),
		cmocka_unit_test(server_errors_back_off),
		cmocka_unit_test(no_retry_after_long_wait_but_account_paused),
		cmocka_unit_test(rate_limit_exhausts_retries),
		cmocka_unit_test(ambiguous_post_not_resent),
		cmocka_unit_test(replay_safe_post_resent),
		cmocka_unit_test(unsafe_post_resent_when_refused),
		cmocka_unit_test(classifier_decides),
		cmocka_unit_test(classifier_hint),
		cmocka_unit_test(not_found_and_big_body),
		cmocka_unit_test(connection_refused_retried),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(logs_are_redacted),
		cmocka_unit_test(shared_account_budget),
		cmocka_unit_test(concurrent_workers),
		cmocka_unit_test(request_alloc_failures),
		cmocka_unit_test(stream_delivers_chunks),
		cmocka_unit_test(stream_error_answer_buffered),
		cmocka_unit_test(stream_not_retried),
		cmocka_unit_test(stream_stopped_by_consumer),
		cmocka_unit_test(stream_cancelled_from_another_thread),
		cmocka_unit_test(stream_needs_a_callback),
		cmocka_unit_test(observe_each_attempt),
		cmocka_unit_test(client_certificate_options),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
