/*
 * http.c - the core HTTP client on libcurl (see http.h for the policy).
 *
 * Owns: the client (options with its own copies of the strings, the pool of idle easy
 * handles, the accounts' token buckets and pauses, the registered secrets, the default
 * PRNG state), all behind one mutex that is never held across a transfer or a sleep.
 *
 * Invariants: every libcurl code is turned into a ZW_E* code by curl_map[] and every
 * HTTP status by status_map[], nowhere else; every log line and every error message
 * naming a URL or a header passes through zw_http_redact(); a bucket's level never
 * exceeds burst * period_ms (one token is period_ms units, time refills n units per
 * millisecond, so the arithmetic stays in integers).
 */
#include "reconcile/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/alloc.h"

#define HEADER_MAX (64u * 1024)
#define SECRET_MIN 4
#define REDACTED   "[redacted]"

struct account {
	char *name;
	struct zw_http_rate rate;
	uint64_t level;	      /* tokens * period_ms, at most burst * period_ms */
	uint64_t last_ms;     /* when level was last refilled */
	uint64_t pause_until; /* monotonic ms; the account waits until then */
	struct account *next;
};

struct zw_http_client {
	struct zw_http_opts o; /* o.ca_file, o.user_agent point to the copies below */
	char *ca_file;
	char *user_agent;
	char *cert_file;
	char *key_file;
	pthread_mutex_t mu;
	CURL **idle;
	size_t nidle;
	struct account *accounts;
	char **secrets;
	size_t nsecrets;
	uint64_t rng; /* xorshift64* state when there is no random hook */
	int global_init;
};

/* ---- the mappings ------------------------------------------------------------------- */

static const struct {
	long lo, hi;
	int code;
} status_map[] = {
	{200, 299, ZW_OK},	  {401, 401, ZW_EAUTH},	     {403, 403, ZW_EAUTH},
	{404, 404, ZW_ENOTFOUND}, {408, 408, ZW_ETRANSIENT}, {409, 409, ZW_ECONFLICT},
	{410, 410, ZW_ENOTFOUND}, {429, 429, ZW_ERATE},	     {500, 599, ZW_ETRANSIENT},
};

int zw_http_status_error(long status)
{
	for (size_t i = 0; i < sizeof(status_map) / sizeof(status_map[0]); i++)
		if (status >= status_map[i].lo && status <= status_map[i].hi)
			return status_map[i].code;
	return ZW_EINVAL;
}

static const struct {
	CURLcode cc;
	int code;
	const char *what;
} curl_map[] = {
	{CURLE_COULDNT_RESOLVE_HOST, ZW_ETRANSIENT, "cannot resolve the host"},
	{CURLE_COULDNT_RESOLVE_PROXY, ZW_ETRANSIENT, "cannot resolve the proxy"},
	{CURLE_COULDNT_CONNECT, ZW_ETRANSIENT, "cannot connect"},
	{CURLE_OPERATION_TIMEDOUT, ZW_ETRANSIENT, "timed out"},
	{CURLE_SEND_ERROR, ZW_ETRANSIENT, "connection broken while sending"},
	{CURLE_RECV_ERROR, ZW_ETRANSIENT, "connection broken while receiving"},
	{CURLE_GOT_NOTHING, ZW_ETRANSIENT, "connection closed without a response"},
	{CURLE_PARTIAL_FILE, ZW_ETRANSIENT, "connection closed in the middle of the response"},
	{CURLE_HTTP2, ZW_ETRANSIENT, "http/2 framing error"},
	{CURLE_HTTP2_STREAM, ZW_ETRANSIENT, "http/2 stream reset"},
	{CURLE_PEER_FAILED_VERIFICATION, ZW_EAUTH, "tls: the server's certificate is not trusted"},
	{CURLE_SSL_CONNECT_ERROR, ZW_EAUTH, "tls handshake failed"},
	{CURLE_SSL_CERTPROBLEM, ZW_EINVAL, "tls: bad client certificate"},
	{CURLE_SSL_CIPHER, ZW_EINVAL, "tls: no usable cipher"},
	{CURLE_SSL_CACERT_BADFILE, ZW_EINVAL, "tls: cannot read the ca file"},
	{CURLE_URL_MALFORMAT, ZW_EINVAL, "malformed url"},
	{CURLE_UNSUPPORTED_PROTOCOL, ZW_EINVAL, "unsupported url scheme (http and https only)"},
	{CURLE_FILESIZE_EXCEEDED, ZW_EINVAL, "response body over the size bound"},
	{CURLE_WRITE_ERROR, ZW_EINVAL, "response over the size bound"},
	{CURLE_WEIRD_SERVER_REPLY, ZW_ETRANSIENT, "malformed response"},
	{CURLE_OUT_OF_MEMORY, ZW_ENOMEM, "out of memory"},
};

int zw_http_curl_error(int curl_code, const char **what)
{
	const char *w = "transfer failed";
	int code = ZW_EIO;
	if (curl_code == CURLE_OK) {
		w = "ok";
		code = ZW_OK;
	}
	for (size_t i = 0; i < sizeof(curl_map) / sizeof(curl_map[0]); i++)
		if ((int)curl_map[i].cc == curl_code) {
			w = curl_map[i].what;
			code = curl_map[i].code;
		}
	if (what)
		*what = w;
	return code;
}

/* ---- Retry-After -------------------------------------------------------------------- */

static int is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Case-sensitive literal, as the HTTP-date grammar is (RFC 9110 §5.6.7). */
static int lit(const char **p, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(*p, s, n) != 0)
		return 0;
	*p += n;
	return 1;
}

static int digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return 0;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return 1;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int one_of(const char **p, const char *const *names, int *idx)
{
	for (int i = 0; names[i]; i++)
		if (lit(p, names[i])) {
			*idx = i;
			return 1;
		}
	return 0;
}

static int month(const char **p, int *m)
{
	for (int i = 0; i < 12; i++)
		if (lit(p, months[i])) {
			*m = i;
			return 1;
		}
	return 0;
}

static int hms(const char **p, struct tm *tm)
{
	return digits(p, 2, &tm->tm_hour) && lit(p, ":") && digits(p, 2, &tm->tm_min) && lit(p, ":") &&
	       digits(p, 2, &tm->tm_sec);
}

/* IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7); *t in seconds since the epoch. */
static int http_date(int64_t *t, const char *s, int64_t now_s)
{
	static const char *const d3[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", NULL};
	static const char *const dl[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					 "Friday", "Saturday", "Sunday",    NULL};
	struct tm tm = {0};
	const char *p = s;
	int wd, yy;
	if (one_of(&p, dl, &wd) && lit(&p, ", ")) {
		/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		if (!(digits(&p, 2, &tm.tm_mday) && lit(&p, "-") && month(&p, &tm.tm_mon) && lit(&p, "-") &&
		      digits(&p, 2, &yy) && lit(&p, " ") && hms(&p, &tm) && lit(&p, " GMT")))
			return ZW_EINVAL;
		/* a two-digit year more than 50 years ahead is in the past century */
		struct tm now_tm;
		time_t now = (time_t)now_s;
		if (!gmtime_r(&now, &now_tm))
			return ZW_EINVAL;
		int year = (now_tm.tm_year + 1900) / 100 * 100 + yy;
		if (year > now_tm.tm_year + 1900 + 50)
			year -= 100;
		tm.tm_year = year - 1900;
	} else if ((p = s, one_of(&p, d3, &wd)) && lit(&p, ", ")) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if (!(digits(&p, 2, &tm.tm_mday) && lit(&p, " ") && month(&p, &tm.tm_mon) && lit(&p, " ") &&
		      digits(&p, 4, &tm.tm_year) && lit(&p, " ") && hms(&p, &tm) && lit(&p, " GMT")))
			return ZW_EINVAL;
		tm.tm_year -= 1900;
	} else if ((p = s, one_of(&p, d3, &wd)) && lit(&p, " ")) {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if (!(month(&p, &tm.tm_mon) && lit(&p, " ")))
			return ZW_EINVAL;
		if (*p == ' ') {
			p++;
			if (!digits(&p, 1, &tm.tm_mday))
				return ZW_EINVAL;
		} else if (!digits(&p, 2, &tm.tm_mday)) {
			return ZW_EINVAL;
		}
		if (!(lit(&p, " ") && hms(&p, &tm) && lit(&p, " ") && digits(&p, 4, &tm.tm_year)))
			return ZW_EINVAL;
		tm.tm_year -= 1900;
	} else {
		return ZW_EINVAL;
	}
	if (*p || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return ZW_EINVAL;
	*t = (int64_t)timegm(&tm);
	return 0;
}

int zw_http_retry_after(uint64_t *ms, const char *value, int64_t now_s)
{
	const uint64_t max_s = UINT64_MAX / 1000;
	if (!value)
		return ZW_EINVAL;
	while (is_ows(*value))
		value++;
	size_t n = strlen(value);
	while (n && is_ows(value[n - 1]))
		n--;
	if (!n)
		return ZW_EINVAL;
	char tmp[64];
	if (n >= sizeof(tmp))
		return ZW_EINVAL;
	memcpy(tmp, value, n);
	tmp[n] = '\0';
	if (tmp[0] >= '0' && tmp[0] <= '9') {
		/* delay-seconds = 1*DIGIT */
		uint64_t s = 0;
		for (size_t i = 0; i < n; i++) {
			if (tmp[i] < '0' || tmp[i] > '9')
				return ZW_EINVAL;
			s = s > max_s / 10 ? max_s : s * 10 + (uint64_t)(tmp[i] - '0');
			if (s > max_s)
				s = max_s;
		}
		*ms = s * 1000;
		return 0;
	}
	int64_t t;
	if (http_date(&t, tmp, now_s))
		return ZW_EINVAL;
	*ms = t <= now_s ? 0 : (uint64_t)(t - now_s) * 1000;
	return 0;
}

/* retry-after-ms: 1*DIGIT [ "." *DIGIT ], the fraction rounded up (Cloudflare's SDK). */
static int retry_after_ms(uint64_t *ms, const char *v)
{
	uint64_t x = 0;
	int any = 0, frac = 0;
	while (is_ows(*v))
		v++;
	for (; *v >= '0' && *v <= '9'; v++, any = 1)
		x = x > UINT64_MAX / 10 - 10 ? UINT64_MAX / 10 : x * 10 + (uint64_t)(*v - '0');
	if (!any)
		return ZW_EINVAL;
	if (*v == '.')
		for (v++; *v >= '0' && *v <= '9'; v++)
			frac |= *v != '0';
	while (is_ows(*v))
		v++;
	if (*v)
		return ZW_EINVAL;
	*ms = x + (uint64_t)frac;
	return 0;
}

int zw_http_resp_retry_after(uint64_t *ms, const struct zw_http_resp *r, int64_t now_s)
{
	const char *v = zw_http_resp_header(r, "retry-after-ms");
	if (v && retry_after_ms(ms, v) == 0)
		return 0;
	v = zw_http_resp_header(r, "retry-after");
	if (v && zw_http_retry_after(ms, v, now_s) == 0)
		return 0;
	return ZW_ENOTFOUND;
}

uint64_t zw_http_backoff_ms(uint64_t base_ms, uint64_t max_ms, unsigned retry, uint32_t rnd)
{
	uint64_t cap = base_ms;
	for (unsigned i = 0; i < retry && cap < max_ms; i++)
		cap = cap > UINT64_MAX / 2 ? UINT64_MAX : cap * 2;
	if (cap > max_ms)
		cap = max_ms;
	/* rnd scaled onto [0, cap]: 0 gives 0, UINT32_MAX gives cap */
	return (uint64_t)(((unsigned __int128)cap * rnd) / UINT32_MAX);
}

/* ---- responses ---------------------------------------------------------------------- */

void zw_http_resp_free(struct zw_http_resp *r)
{
	if (!r)
		return;
	zw_free(r->headers);
	zw_free(r->hraw);
	zw_buf_free(&r->body);
	*r = (struct zw_http_resp)ZW_HTTP_RESP_INIT;
}

static void resp_clear(struct zw_http_resp *r)
{
	zw_free(r->headers);
	zw_free(r->hraw);
	r->headers = NULL;
	r->hraw = NULL;
	r->nheaders = 0;
	r->status = 0;
	r->retry_after_ms = 0;
	zw_buf_reset(&r->body);
}

const char *zw_http_resp_header(const struct zw_http_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

int zw_http_resp_parse_headers(struct zw_http_resp *r, const char *raw, size_t len, struct zw_error *err)
{
	char *s = zw_malloc(len + 1);
	size_t lines = 1;
	if (!s)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	memcpy(s, raw, len);
	s[len] = '\0';
	/* obs-fold: a line break followed by white space becomes spaces (RFC 9112 §5.2) */
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' && i + 1 < len && is_ows(s[i + 1])) {
			s[i] = ' ';
			if (i > 0 && s[i - 1] == '\r')
				s[i - 1] = ' ';
		}
	/* every CR or LF left may end a line */
	for (size_t i = 0; i < len; i++)
		lines += s[i] == '\r' || s[i] == '\n';
	struct zw_http_header *h = zw_calloc(lines, sizeof(*h));
	if (!h) {
		zw_free(s);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(s, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "HTTP/", 5) == 0 || !colon || colon == line)
			continue;
		char *end = colon;
		while (end > line && is_ows(end[-1]))
			end--;
		*end = '\0';
		char *v = colon + 1;
		while (is_ows(*v))
			v++;
		size_t vl = strlen(v);
		while (vl && is_ows(v[vl - 1]))
			v[--vl] = '\0';
		h[n].name = line;
		h[n].value = v;
		n++;
	}
	zw_free(r->headers);
	zw_free(r->hraw);
	r->headers = h;
	r->nheaders = n;
	r->hraw = s;
	return 0;
}

/* ---- redaction ---------------------------------------------------------------------- */

/* Header names whose whole value (spaces included) is secret. */
static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "x-amz-security-token", "x-auth-key", "x-api-key",
	"cookie",	 "set-cookie",
};

/* Parameter names (query, fields, JSON keys) are secret when they end with one of the
 * first list or contain one of the second. */
static const char *const secret_suffixes[] = {"token", "signature", "password", "passwd"};
static const char *const secret_parts[] = {"secret", "api_key", "apikey", "api-key", "credentials"};

static int name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

static int ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

static int icontains(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b);
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(a + i, b, m) == 0)
			return 1;
	return 0;
}

/* 0: not secret; 1: the value runs to the end of the line (a header); 2: a token. */
static int secret_kind(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(secret_headers) / sizeof(secret_headers[0]); i++)
		if (ieq(name, n, secret_headers[i]))
			return 1;
	for (size_t i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]); i++) {
		size_t m = strlen(secret_suffixes[i]);
		if (n >= m && strncasecmp(name + n - m, secret_suffixes[i], m) == 0)
			return 2;
	}
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++)
		if (icontains(name, n, secret_parts[i]))
			return 2;
	return 0;
}

/* The name that ends just before in[i] (':' or '='), skipping one closing quote. */
static int kind_before(const char *in, size_t i)
{
	size_t end = i;
	while (end > 0 && is_ows(in[end - 1]))
		end--;
	if (end > 0 && in[end - 1] == '"')
		end--;
	size_t start = end;
	while (start > 0 && name_char(in[start - 1]))
		start--;
	return start < end ? secret_kind(in + start, end - start) : 0;
}

static size_t secret_at(char *const *secrets, size_t n, const char *p)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(secrets[i]);
		if (strncmp(p, secrets[i], l) == 0)
			return l;
	}
	return 0;
}

static int redact(struct zw_buf *out, const char *in, char *const *secrets, size_t nsecrets)
{
	size_t n = strlen(in), i = 0;
	int rc = 0;
	while (i < n && !rc) {
		size_t l = secret_at(secrets, nsecrets, in + i);
		if (l) {
			rc = zw_buf_adds(out, REDACTED);
			i += l;
			continue;
		}
		char sep = in[i];
		int kind = (sep == ':' || sep == '=') ? kind_before(in, i) : 0;
		if ((rc = zw_buf_addc(out, in[i++])) || !kind)
			continue;
		while (i < n && is_ows(in[i]))
			if ((rc = zw_buf_addc(out, in[i++])))
				return rc;
		size_t j = i;
		if (i < n && in[i] == '"') {
			/* a quoted value: to the closing quote, \" skipped */
			for (j = i + 1; j < n && in[j] != '"'; j++)
				if (in[j] == '\\' && j + 1 < n)
					j++;
			if ((rc = zw_buf_addc(out, '"')))
				return rc;
			i++;
		} else if (kind == 1) {
			/* a header's value, spaces and all; as a query parameter, to the '&' */
			while (j < n && in[j] != '\r' && in[j] != '\n' && in[j] != '"' &&
			       !(sep == '=' && in[j] == '&'))
				j++;
		} else {
			while (j < n && !strchr("&\"'; ,#\t\r\n<>", in[j]))
				j++;
		}
		if (j > i)
			rc = zw_buf_adds(out, REDACTED);
		i = j;
	}
	return rc;
}

int zw_http_redact(struct zw_buf *out, struct zw_http_client *c, const char *line)
{
	int rc;
	if (!c)
		return redact(out, line, NULL, 0);
	pthread_mutex_lock(&c->mu);
	rc = redact(out, line, c->secrets, c->nsecrets);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int zw_http_secret_add(struct zw_http_client *c, const char *secret, struct zw_error *err)
{
	if (!secret || strlen(secret) < SECRET_MIN)
		return zw_error_set(err, ZW_EINVAL, "a secret to redact must be at least %d bytes",
				    SECRET_MIN);
	char *copy = zw_strdup(secret);
	if (!copy)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	pthread_mutex_lock(&c->mu);
	char **s = zw_realloc(c->secrets, (c->nsecrets + 1) * sizeof(*s));
	if (s) {
		/* longest first, so a secret containing another is replaced whole */
		size_t at = 0, len = strlen(copy);
		while (at < c->nsecrets && strlen(s[at]) >= len)
			at++;
		memmove(s + at + 1, s + at, (c->nsecrets - at) * sizeof(*s));
		s[at] = copy;
		c->secrets = s;
		c->nsecrets++;
	}
	pthread_mutex_unlock(&c->mu);
	if (!s) {
		zw_free(copy);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- hooks and logging -------------------------------------------------------------- */

static uint64_t now_ms(struct zw_http_client *c)
{
	if (c->o.hooks.now_ms)
		return c->o.hooks.now_ms(c->o.hooks.ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t wall_s(struct zw_http_client *c)
{
	if (c->o.hooks.wall_s)
		return c->o.hooks.wall_s(c->o.hooks.ctx);
	return (int64_t)time(NULL);
}

static void sleep_ms(struct zw_http_client *c, uint64_t ms)
{
	if (c->o.hooks.sleep_ms) {
		c->o.hooks.sleep_ms(c->o.hooks.ctx, ms);
		return;
	}
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static uint32_t random32(struct zw_http_client *c)
{
	if (c->o.hooks.random)
		return c->o.hooks.random(c->o.hooks.ctx);
	pthread_mutex_lock(&c->mu);
	uint64_t x = c->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	pthread_mutex_unlock(&c->mu);
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static void logf_(struct zw_http_client *c, enum zw_http_log level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void logf_(struct zw_http_client *c, enum zw_http_log level, const char *msg, const char *fmt, ...)
{
	if (!c->o.hooks.log || level < c->o.hooks.log_level)
		return;
	char raw[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	struct zw_buf b = ZW_BUF_INIT;
	b.max = 4 * sizeof(raw);
	/* never log what could not be redacted */
	if (zw_http_redact(&b, c, raw) == 0)
		c->o.hooks.log(c->o.hooks.ctx, level, msg, zw_buf_str(&b));
	zw_buf_free(&b);
}

/* The URL as it may appear in a message: redacted, cut to fit. */
static int safe_url(struct zw_http_client *c, char *out, size_t outsz, const char *url)
{
	struct zw_buf b = ZW_BUF_INIT;
	int rc = zw_http_redact(&b, c, url);
	if (!rc)
		snprintf(out, outsz, "%s", zw_buf_str(&b));
	zw_buf_free(&b);
	return rc;
}

/* ---- the client --------------------------------------------------------------------- */

void zw_http_opts_init(struct zw_http_opts *o)
{
	*o = (struct zw_http_opts){
		.timeout_ms = 30000,
		.connect_timeout_ms = 10000,
		.max_retries = 4,
		.base_backoff_ms = 500,
		.max_backoff_ms = 8000,
		.max_retry_after_ms = 60000,
		.max_pause_ms = 600000,
		.max_body = 8u * 1024 * 1024,
		.max_idle_handles = 4,
		.user_agent = "zonewarden",
		.hooks = {.log_level = ZW_HLOG_INFO},
	};
}

int zw_http_client_new(struct zw_http_client **out, const struct zw_http_opts *opts, struct zw_error *err)
{
	struct zw_http_client *c = NULL;
	*out = NULL;
	if (opts->timeout_ms <= 0 || opts->connect_timeout_ms <= 0)
		return zw_error_set(err, ZW_EINVAL, "http: timeouts must be positive");
	if (opts->base_backoff_ms > opts->max_backoff_ms)
		return zw_error_set(err, ZW_EINVAL, "http: base backoff above the maximum backoff");
	if (!opts->max_body || opts->max_body > ZW_BUF_DEFAULT_MAX * 16)
		return zw_error_set(err, ZW_EINVAL, "http: max body must be between 1 and %u bytes",
				    ZW_BUF_DEFAULT_MAX * 16);
	if (opts->ca_file && access(opts->ca_file, R_OK) != 0)
		return zw_error_set(err, ZW_EINVAL, "http: cannot read ca file %s", opts->ca_file);
	if (!opts->cert_file != !opts->key_file)
		return zw_error_set(err, ZW_EINVAL,
				    "http: a client certificate needs both cert_file and key_file");
	if (opts->cert_file && access(opts->cert_file, R_OK) != 0)
		return zw_error_set(err, ZW_EINVAL, "http: cannot read certificate file %s", opts->cert_file);
	if (opts->key_file && access(opts->key_file, R_OK) != 0)
		return zw_error_set(err, ZW_EINVAL, "http: cannot read key file %s", opts->key_file);
	if (!(c = zw_calloc(1, sizeof(*c))))
		goto nomem;
	c->o = *opts;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		zw_free(c);
		return zw_error_set(err, ZW_EIO, "http: cannot create a mutex");
	}
	if (opts->ca_file && !(c->ca_file = zw_strdup(opts->ca_file)))
		goto nomem;
	if (!(c->user_agent = zw_strdup(opts->user_agent ? opts->user_agent : "zonewarden")))
		goto nomem;
	if (opts->cert_file &&
	    (!(c->cert_file = zw_strdup(opts->cert_file)) || !(c->key_file = zw_strdup(opts->key_file))))
		goto nomem;
	c->o.ca_file = c->ca_file;
	c->o.user_agent = c->user_agent;
	c->o.cert_file = c->cert_file;
	c->o.key_file = c->key_file;
	if (opts->max_idle_handles && !(c->idle = zw_calloc(opts->max_idle_handles, sizeof(*c->idle))))
		goto nomem;
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != (ssize_t)sizeof(c->rng))
		c->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
	c->rng |= 1;
	/* reference-counted and thread-safe in this libcurl (CURL_VERSION_THREADSAFE) */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		zw_http_client_free(c);
		return zw_error_set(err, ZW_EIO, "http: libcurl initialisation failed");
	}
	c->global_init = 1;
	*out = c;
	return 0;
nomem:
	zw_http_client_free(c);
	return zw_error_set(err, ZW_ENOMEM, "out of memory");
}

void zw_http_client_free(struct zw_http_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	zw_free(c->idle);
	for (struct account *a = c->accounts, *next; a; a = next) {
		next = a->next;
		zw_free(a->name);
		zw_free(a);
	}
	for (size_t i = 0; i < c->nsecrets; i++)
		zw_free(c->secrets[i]);
	zw_free(c->secrets);
	zw_free(c->ca_file);
	zw_free(c->user_agent);
	zw_free(c->cert_file);
	zw_free(c->key_file);
	pthread_mutex_destroy(&c->mu);
	if (c->global_init)
		curl_global_cleanup();
	zw_free(c);
}

/* ---- rate budgets (called with c->mu held) ------------------------------------------ */

static void bucket_fill(struct account *a, const struct zw_http_rate *r, uint64_t now)
{
	a->rate = *r;
	if (!a->rate.burst)
		a->rate.burst = a->rate.n ? a->rate.n : 1;
	if (!a->rate.period_ms)
		a->rate.period_ms = 1000;
	a->level = (uint64_t)a->rate.burst * a->rate.period_ms;
	a->last_ms = now;
}

static struct account *account_get(struct zw_http_client *c, const char *name, uint64_t now)
{
	for (struct account *a = c->accounts; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	struct account *a = zw_calloc(1, sizeof(*a));
	if (!a || !(a->name = zw_strdup(name))) {
		zw_free(a);
		return NULL;
	}
	bucket_fill(a, &c->o.default_rate, now);
	a->next = c->accounts;
	c->accounts = a;
	return a;
}

static void refill(struct account *a, uint64_t now)
{
	uint64_t cap = (uint64_t)a->rate.burst * a->rate.period_ms;
	if (now <= a->last_ms)
		return;
	uint64_t dt = now - a->last_ms;
	a->last_ms = now;
	if (dt >= (cap - a->level + a->rate.n - 1) / a->rate.n)
		a->level = cap;
	else
		a->level += dt * a->rate.n;
}

/* 0 and a token taken, or the milliseconds to wait before asking again. */
static uint64_t bucket_take(struct account *a, uint64_t now)
{
	if (a->pause_until > now)
		return a->pause_until - now;
	if (!a->rate.n)
		return 0;
	refill(a, now);
	if (a->level >= a->rate.period_ms) {
		a->level -= a->rate.period_ms;
		return 0;
	}
	return (a->rate.period_ms - a->level + a->rate.n - 1) / a->rate.n;
}

int zw_http_budget_set(struct zw_http_client *c, const char *account, const struct zw_http_rate *rate,
		       struct zw_error *err)
{
	if (rate->n && rate->period_ms > UINT64_MAX / 2 / (rate->burst ? rate->burst : rate->n))
		return zw_error_set(err, ZW_EINVAL, "http: rate period too long");
	uint64_t now = now_ms(c);
	pthread_mutex_lock(&c->mu);
	struct account *a = account_get(c, account, now);
	if (a)
		bucket_fill(a, rate, now);
	pthread_mutex_unlock(&c->mu);
	return a ? 0 : zw_error_set(err, ZW_ENOMEM, "out of memory");
}

int zw_http_budget_take(struct zw_http_client *c, const char *account, uint64_t *wait_ms,
			struct zw_error *err)
{
	uint64_t waited = 0;
	if (wait_ms)
		*wait_ms = 0;
	for (;;) {
		uint64_t now = now_ms(c), wait;
		pthread_mutex_lock(&c->mu);
		struct account *a = account_get(c, account, now);
		wait = a ? bucket_take(a, now) : 0;
		pthread_mutex_unlock(&c->mu);
		if (!a)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		if (!wait)
			return 0;
		if (waited + wait > c->o.max_retry_after_ms) {
			if (wait_ms)
				*wait_ms = wait;
			return zw_error_set(err, ZW_ERATE,
					    "account rate limited: next request allowed in %llu ms",
					    (unsigned long long)wait);
		}
		logf_(c, ZW_HLOG_DEBUG, "http rate budget wait", "wait_ms=%llu", (unsigned long long)wait);
		sleep_ms(c, wait);
		waited += wait;
	}
}

int zw_http_budget_pause(struct zw_http_client *c, const char *account, uint64_t ms, struct zw_error *err)
{
	if (ms > c->o.max_pause_ms)
		ms = c->o.max_pause_ms;
	uint64_t now = now_ms(c);
	pthread_mutex_lock(&c->mu);
	struct account *a = account_get(c, account, now);
	if (a && a->pause_until < now + ms)
		a->pause_until = now + ms;
	pthread_mutex_unlock(&c->mu);
	return a ? 0 : zw_error_set(err, ZW_ENOMEM, "out of memory");
}

/* ---- one transfer ------------------------------------------------------------------- */

static CURL *handle_get(struct zw_http_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->nidle)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->mu);
	return h ? h : curl_easy_init();
}

static void handle_put(struct zw_http_client *c, CURL *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->nidle < c->o.max_idle_handles) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	if (h)
		curl_easy_cleanup(h);
}

struct xfer {
	struct zw_buf hdr;
	struct zw_buf *body;
	int too_large; /* which bound: 1 body, 2 headers */
	int nomem;
	/* streams only */
	const struct zw_http_stream *stream;
	CURL *h;
	int mode;    /* 0 not known yet, 1 a 2xx body streamed, 2 another body buffered */
	int stopped; /* on_data asked to stop */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	if (x->stream && !x->mode) {
		long st = 0;
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
		x->mode = st >= 200 && st <= 299 ? 1 : 2;
	}
	if (x->mode == 1) {
		if (x->stream->on_data(x->stream->ctx, p, size * n)) {
			x->stopped = 1;
			return 0;
		}
		return size * n;
	}
	int rc = zw_buf_add(x->body, p, size * n);
	if (rc == ZW_EINVAL)
		x->too_large = 1;
	else if (rc)
		x->nomem = 1;
	return rc ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	/* a new status line starts a new header block (after a 1xx) */
	if (size * n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		zw_buf_reset(&x->hdr);
	int rc = zw_buf_add(&x->hdr, p, size * n);
	if (rc == ZW_EINVAL)
		x->too_large = 2;
	else if (rc)
		x->nomem = 1;
	return rc ? 0 : size * n;
}

/* What one attempt came to. */
struct outcome {
	int code;	  /* 0 or ZW_E* */
	int ambiguous;	  /* the request may have been applied */
	uint64_t hint_ms; /* the server's wait; 0 none */
	const char *what; /* transport failure phrase, or NULL for an HTTP answer */
};

static int set_method(CURL *h, const struct zw_http_req *req)
{
	CURLcode rc = CURLE_OK;
	if (strcmp(req->method, "GET") == 0 && !req->body)
		return curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(req->method, "HEAD") == 0)
		return curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (req->body || strcmp(req->method, "POST") == 0) {
		rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				      (curl_off_t)(req->body ? req->body_len : 0));
		if (!rc)
			rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS,
					      req->body ? (const char *)req->body : "");
	}
	if (!rc && strcmp(req->method, "POST") != 0)
		rc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	return rc;
}

static int setup(struct zw_http_client *c, CURL *h, const struct zw_http_req *req, int safe,
		 struct curl_slist *hdrs, struct xfer *x, const struct zw_http_stream *stream)
{
	CURLcode rc = CURLE_OK;
	curl_easy_reset(h);
#define SET(opt, val)                                                                                        \
	do {                                                                                                 \
		if (!rc)                                                                                     \
			rc = curl_easy_setopt(h, opt, val);                                                  \
	} while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, stream ? stream->timeout_ms : c->o.timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	/* verification is never turned off; a CA file only changes whom to trust */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		SET(CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file) {
		SET(CURLOPT_SSLCERT, c->cert_file);
		SET(CURLOPT_SSLKEY, c->key_file);
	}
	SET(CURLOPT_USERAGENT, c->user_agent);
	SET(CURLOPT_HTTPHEADER, hdrs);
	/* a stream's 2xx body is endless: its consumer bounds what it keeps */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(stream ? 0 : c->o.max_body));
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
#undef SET
	/* libcurl silently resends a request once when a reused connection turns out dead;
	 * a request that is not safe to replay gets a connection of its own instead */
	if (!rc && !safe)
		rc = curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	if (!rc)
		rc = set_method(h, req);
	return rc;
}

/* ---- cancellation tokens (streams) -------------------------------------------------- */

struct zw_http_cancel {
	atomic_int fired;
	int fds[2]; /* a pipe: fire writes one byte, the transfer polls the read end */
};

int zw_http_cancel_new(struct zw_http_cancel **out, struct zw_error *err)
{
	struct zw_http_cancel *x = zw_calloc(1, sizeof(*x));
	*out = NULL;
	if (!x)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (pipe2(x->fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		zw_free(x);
		return zw_error_set(err, ZW_EIO, "http: cannot create a pipe: %s", strerror(errno));
	}
	atomic_init(&x->fired, 0);
	*out = x;
	return 0;
}

void zw_http_cancel_fire(struct zw_http_cancel *x)
{
	if (x && !atomic_exchange(&x->fired, 1)) {
		ssize_t w = write(x->fds[1], "x", 1);
		(void)w; /* the flag alone still stops the transfer within the poll period */
	}
}

int zw_http_cancel_fired(const struct zw_http_cancel *x)
{
	return x && atomic_load(&((struct zw_http_cancel *)x)->fired);
}

void zw_http_cancel_free(struct zw_http_cancel *x)
{
	if (!x)
		return;
	close(x->fds[0]);
	close(x->fds[1]);
	zw_free(x);
}

/* Run a stream's transfer on a multi handle, polling the cancellation pipe beside the
 * socket; CURLE_ABORTED_BY_CALLBACK when cancelled. */
static CURLcode perform_stream(CURL *h, struct zw_http_cancel *cancel)
{
	CURLM *m = curl_multi_init();
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	int running = 1;
	if (!m)
		return cc;
	if (curl_multi_add_handle(m, h) != CURLM_OK) {
		curl_multi_cleanup(m);
		return cc;
	}
	cc = CURLE_OK;
	while (running) {
		if (zw_http_cancel_fired(cancel)) {
			cc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			cc = CURLE_OUT_OF_MEMORY;
			break;
		}
		if (!running)
			break;
		struct curl_waitfd w = {cancel ? cancel->fds[0] : -1, CURL_WAIT_POLLIN, 0};
		if (curl_multi_poll(m, cancel ? &w : NULL, cancel ? 1 : 0, 1000, NULL) != CURLM_OK) {
			cc = CURLE_OUT_OF_MEMORY;
			break;
		}
	}
	if (cc == CURLE_OK) {
		int left;
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
				cc = msg->data.result;
	}
	curl_multi_remove_handle(m, h);
	curl_multi_cleanup(m);
	return cc;
}

static void attempt(struct zw_http_client *c, CURL *h, const struct zw_http_req *req, int safe,
		    struct curl_slist *hdrs, const struct zw_http_stream *stream, struct zw_http_resp *resp,
		    struct outcome *out)
{
	struct xfer x = {ZW_BUF_INIT, &resp->body, 0, 0, stream, h, 0, 0};
	struct zw_error perr = {0};
	CURLcode cc;
	x.hdr.max = HEADER_MAX;
	resp->body.max = c->o.max_body + 1;
	*out = (struct outcome){0};
	cc = setup(c, h, req, safe, hdrs, &x, stream);
	if (cc == CURLE_OK)
		cc = stream ? perform_stream(h, stream->cancel) : curl_easy_perform(h);
	if (x.stopped && cc == CURLE_WRITE_ERROR)
		cc = CURLE_OK; /* the consumer ended the stream */
	if (cc == CURLE_ABORTED_BY_CALLBACK && stream) {
		*out = (struct outcome){ZW_ETRANSIENT, 0, 0, "cancelled"};
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	} else if (x.nomem || cc == CURLE_OUT_OF_MEMORY) {
		*out = (struct outcome){ZW_ENOMEM, 0, 0, "out of memory"};
	} else if (x.too_large == 1 || cc == CURLE_FILESIZE_EXCEEDED) {
		*out = (struct outcome){ZW_EINVAL, 0, 0, "response body over the size bound"};
	} else if (x.too_large == 2) {
		*out = (struct outcome){ZW_EINVAL, 0, 0, "response headers over 64 KiB"};
	} else if (cc != CURLE_OK) {
		long sent = 0;
		out->code = zw_http_curl_error((int)cc, &out->what);
		curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
		out->ambiguous = sent > 0 && out->code == ZW_ETRANSIENT;
	} else if (zw_http_resp_parse_headers(resp, zw_buf_str(&x.hdr), x.hdr.len, &perr)) {
		*out = (struct outcome){perr.code, 0, 0, "out of memory"};
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		if (zw_http_resp_retry_after(&out->hint_ms, resp, wall_s(c)) != 0)
			out->hint_ms = 0;
		out->code = req->classify ? req->classify(req->classify_ctx, resp, &out->hint_ms)
					  : zw_http_status_error(resp->status);
		/* a 5xx other than 503 may come after the work was done; 429, 503, 408 and
		 * whatever the classifier calls throttling were refused before it */
		out->ambiguous = out->code == ZW_ETRANSIENT && resp->status >= 500 && resp->status != 503;
	}
	zw_buf_free(&x.hdr);
}

/* ---- the request loop --------------------------------------------------------------- */

static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"};

static int check_req(const struct zw_http_req *req, struct zw_error *err)
{
	if (!req->method || !req->url)
		return zw_error_set(err, ZW_EINVAL, "http: a request needs a method and a url");
	size_t ml = strlen(req->method);
	if (!ml || ml > 16 || strspn(req->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ml)
		return zw_error_set(err, ZW_EINVAL, "http: bad method");
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *hd = req->headers[i];
		const char *colon = hd ? strchr(hd, ':') : NULL;
		if (!colon || colon == hd || strpbrk(hd, "\r\n"))
			return zw_error_set(err, ZW_EINVAL, "http: header %zu is not one 'name: value' line",
					    i);
	}
	return 0;
}

static int has_header(const struct zw_http_req *req, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < req->nheaders; i++)
		if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':')
			return 1;
	return 0;
}

static int build_headers(struct curl_slist **out, const struct zw_http_req *req)
{
	struct curl_slist *l = NULL, *t;
	for (size_t i = 0; i < req->nheaders; i++) {
		if (!(t = curl_slist_append(l, req->headers[i])))
			goto fail;
		l = t;
	}
	/* no 100-continue round trip; no form content type the caller did not ask for
	 * (moto answers 500 to it) */
	if (!(t = curl_slist_append(l, "Expect:")))
		goto fail;
	l = t;
	if (!has_header(req, "content-type")) {
		if (!(t = curl_slist_append(l, "Content-Type:")))
			goto fail;
		l = t;
	}
	*out = l;
	return 0;
fail:
	curl_slist_free_all(l);
	return ZW_ENOMEM;
}

static void log_request_headers(struct zw_http_client *c, const struct zw_http_req *req)
{
	if (!c->o.hooks.log || c->o.hooks.log_level > ZW_HLOG_DEBUG)
		return;
	for (size_t i = 0; i < req->nheaders; i++)
		logf_(c, ZW_HLOG_DEBUG, "http request header", "header=\"%s\"", req->headers[i]);
}

static int run(struct zw_http_client *c, const struct zw_http_req *req, const struct zw_http_stream *stream,
	       struct zw_http_resp *resp, struct zw_error *err)
{
	struct curl_slist *hdrs = NULL;
	CURL *h = NULL;
	struct outcome oc = {0};
	char url[512];
	int rc, safe = req->replay_safe;

	zw_http_resp_free(resp);
	if ((rc = check_req(req, err)))
		return rc;
	for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
		safe |= strcmp(req->method, idempotent[i]) == 0;
	if (safe_url(c, url, sizeof(url), req->url) || build_headers(&hdrs, req) || !(h = handle_get(c))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	log_request_headers(c, req);
	for (unsigned retry = 0;; retry++) {
		uint64_t wait = 0;
		if (req->account && (rc = zw_http_budget_take(c, req->account, &wait, err))) {
			resp->retry_after_ms = wait;
			goto out;
		}
		resp_clear(resp);
		attempt(c, h, req, safe, hdrs, stream, resp, &oc);
		resp->attempts++;
		if (c->o.hooks.observe)
			c->o.hooks.observe(c->o.hooks.ctx, req->method, req->account, resp->status);
		logf_(c, oc.code ? ZW_HLOG_INFO : ZW_HLOG_DEBUG, "http response",
		      "method=%s url=%s status=%ld attempt=%u result=%s%s%s", req->method, url, resp->status,
		      resp->attempts, oc.code ? zw_error_name(oc.code) : "ok", oc.what ? " error=" : "",
		      oc.what ? oc.what : "");
		if (!oc.code) {
			rc = 0;
			goto out;
		}
		const char *stop = NULL;
		if (!zw_error_retryable(oc.code) || stream)
			stop = "";
		else if (oc.ambiguous && !safe)
			stop = ", not retried: the request may have been applied and is not idempotent";
		else if (retry >= c->o.max_retries)
			stop = ", retries exhausted";
		uint64_t delay = oc.hint_ms ? oc.hint_ms
					    : zw_http_backoff_ms(c->o.base_backoff_ms, c->o.max_backoff_ms,
								 retry, random32(c));
		if (oc.code == ZW_ERATE) {
			resp->retry_after_ms = delay;
			if (req->account && (rc = zw_http_budget_pause(c, req->account, delay, err)))
				goto out;
		}
		if (!stop && delay > c->o.max_retry_after_ms) {
			stop = ", the server asks to wait longer than allowed";
			resp->retry_after_ms = delay;
		}
		if (stop) {
			char what[96];
			if (oc.what)
				snprintf(what, sizeof(what), "%s", oc.what);
			else
				snprintf(what, sizeof(what), "status %ld (%s)", resp->status,
					 zw_error_name(oc.code));
			rc = zw_error_set(err, oc.code, "http %s %s: %s after %u attempt%s%s", req->method,
					  url, what, resp->attempts, resp->attempts == 1 ? "" : "s", stop);
			goto out;
		}
		logf_(c, ZW_HLOG_INFO, "http retry", "method=%s url=%s attempt=%u delay_ms=%llu", req->method,
		      url, resp->attempts, (unsigned long long)delay);
		sleep_ms(c, delay);
	}
out:
	handle_put(c, h);
	curl_slist_free_all(hdrs);
	return rc;
}

int zw_http_do(struct zw_http_client *c, const struct zw_http_req *req, struct zw_http_resp *resp,
	       struct zw_error *err)
{
	return run(c, req, NULL, resp, err);
}

int zw_http_stream(struct zw_http_client *c, const struct zw_http_req *req, const struct zw_http_stream *s,
		   struct zw_http_resp *resp, struct zw_error *err)
{
	if (!s || !s->on_data || s->timeout_ms < 0) {
		zw_http_resp_free(resp);
		return zw_error_set(err, ZW_EINVAL, "http: a stream needs a data callback");
	}
	return run(c, req, s, resp, err);
}
