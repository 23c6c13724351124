/*
 * log.c - the controller's structured log (log.h): one JSON object per line, written with
 * one write(2) under the logger's mutex, so lines of several threads never interleave.
 *
 * A line is: {"ts":"2026-11-23T12:00:00.123Z","level":"info","msg":...,"component":...,
 * then the caller's pairs in order}. Strings are escaped per RFC 8259: '"' and '\' with a
 * backslash, every control character (and DEL, U+2028, U+2029) as \u00XX / \uXXXX, and
 * every invalid UTF-8 byte replaced by U+FFFD, so the line is always valid JSON and valid
 * UTF-8.
 *
 * Redaction: msg and every value pass through zw_http_redact() with the redactor client
 * (the generic rules when there is none), before anything else is done to them; a value
 * whose key is itself a secret's name (token, password, authorization, ...) is replaced
 * whole. A string that could not be redacted (out of memory) is written as "[redacted]":
 * nothing unredacted ever reaches the fd. Values are cut at VALUE_MAX bytes after
 * redaction (on a character boundary), so a cut never splits a secret the redactor would
 * have recognised; a line is at most LINE_MAX_B bytes, the pairs that do not fit are
 * dropped and "fields_dropped":true says so.
 *
 * Owns: the mutex; borrows the fd and the redactor client (which must outlive the logger).
 */
#include "reconcile/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/http.h"

#define VALUE_MAX     8192	    /* bytes of one value (or msg) after redaction */
#define LINE_MAX_B    (256u * 1024) /* a whole line, whatever the number of pairs */
#define REDACTED      "[redacted]"
#define TRUNCATED     "...[truncated]"
#define DROPPED	      ",\"fields_dropped\":true"
#define WRITE_WAIT_MS 1000 /* a non-blocking fd with a full buffer: wait this long per write */

struct zw_log {
	int fd;
	enum zw_log_level level;
	_Atomic(struct zw_http_client *) redactor;
	pthread_mutex_t mu; /* held only around the write(2) of a finished line */
};

static const char *const level_names[] = {
	[ZW_LOG_DEBUG] = "debug",
	[ZW_LOG_INFO] = "info",
	[ZW_LOG_WARN] = "warn",
	[ZW_LOG_ERROR] = "error",
};

int zw_log_new(struct zw_log **out, int fd, enum zw_log_level level, struct zw_error *err)
{
	*out = NULL;
	if (fd < 0 || (unsigned)level > ZW_LOG_ERROR)
		return zw_error_set(err, ZW_EINVAL, "invalid log descriptor or level");
	struct zw_log *l = zw_calloc(1, sizeof(*l));
	if (!l)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		zw_free(l);
		return zw_error_set(err, ZW_ENOMEM, "cannot create the log mutex");
	}
	l->fd = fd;
	l->level = level;
	atomic_init(&l->redactor, NULL);
	*out = l;
	return 0;
}

void zw_log_free(struct zw_log *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	zw_free(l);
}

void zw_log_set_redactor(struct zw_log *l, struct zw_http_client *c)
{
	if (l)
		atomic_store(&l->redactor, c);
}

int zw_log_level_parse(enum zw_log_level *out, const char *s)
{
	for (size_t i = 0; s && i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum zw_log_level)i;
			return 0;
		}
	}
	return ZW_EINVAL;
}

int zw_log_enabled(const struct zw_log *l, enum zw_log_level level)
{
	return l && level >= l->level && (unsigned)level <= ZW_LOG_ERROR;
}

/* ---- JSON strings ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, min = 0x80, c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, min = 0x800, c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Append s (n bytes) as a quoted JSON string. */
static int add_json_string(struct zw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	int rc = zw_buf_addc(b, '"');
	size_t i = 0;
	while (rc == 0 && i < n) {
		/* copy a run of plain characters at once */
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			rc = zw_buf_add(b, p + i, run - i);
			i = run;
			continue;
		}
		unsigned cp = 0;
		size_t len = utf8_len(p + i, n - i, &cp);
		if (len == 0) {
			rc = zw_buf_add(b, "\xef\xbf\xbd", 3); /* U+FFFD for the invalid byte */
			i++;
		} else if (cp == '"' || cp == '\\') {
			char e[2] = {'\\', (char)cp};
			rc = zw_buf_add(b, e, 2);
			i++;
		} else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
			char e[6] = {'\\',
				     'u',
				     hex[(cp >> 12) & 15],
				     hex[(cp >> 8) & 15],
				     hex[(cp >> 4) & 15],
				     hex[cp & 15]};
			rc = zw_buf_add(b, e, 6);
			i += len;
		} else {
			rc = zw_buf_add(b, p + i, len);
			i += len;
		}
	}
	return rc ? rc : zw_buf_addc(b, '"');
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? | true | false | null */
static int json_scalar(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 || strcmp(s, "null") == 0)
		return 1;
	const char *p = s;
	if (*p == '-')
		p++;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
	} else {
		return 0;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* The length of s cut to at most max bytes on a UTF-8 character boundary. */
static size_t cut_len(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Append s redacted, escaped and cut as a JSON string. */
static int add_redacted(struct zw_buf *line, struct zw_http_client *c, const char *s)
{
	struct zw_buf r = ZW_BUF_INIT;
	r.max = LINE_MAX_B;
	int rc;
	if (zw_http_redact(&r, c, s) != 0) {
		rc = add_json_string(line, REDACTED, strlen(REDACTED));
	} else {
		size_t n = cut_len(zw_buf_str(&r), r.len, VALUE_MAX);
		if (n < r.len) {
			/* escape the kept part, then the marker, inside one string */
			rc = add_json_string(line, zw_buf_str(&r), n);
			if (rc == 0 && line->len > 0) {
				line->len--; /* reopen the string: drop the closing quote */
				rc = zw_buf_adds(line, TRUNCATED "\"");
			}
		} else {
			rc = add_json_string(line, zw_buf_str(&r), r.len);
		}
	}
	zw_buf_free(&r);
	return rc;
}

/* Whether key names a secret (token, password, authorization...): the redactor's generic
 * rules are asked about "key=x", so the rules stay in one place. */
static int key_is_secret(const char *key)
{
	struct zw_buf probe = ZW_BUF_INIT, r = ZW_BUF_INIT;
	int secret = 1; /* over-redaction is preferred to a leak */
	if (zw_buf_adds(&probe, key) == 0 && zw_buf_adds(&probe, "=x") == 0 &&
	    zw_http_redact(&r, NULL, zw_buf_str(&probe)) == 0)
		secret = strcmp(zw_buf_str(&r), zw_buf_str(&probe)) != 0;
	zw_buf_free(&probe);
	zw_buf_free(&r);
	return secret;
}

static int add_value(struct zw_buf *line, struct zw_http_client *c, const char *key, const char *v)
{
	if (!v)
		return zw_buf_adds(line, "null");
	if (key_is_secret(key))
		return add_json_string(line, REDACTED, strlen(REDACTED));
	if (v[0] == ZW_LOG_RAW[0]) {
		v++;
		if (json_scalar(v)) {
			/* a registered secret may be all digits: raw only when untouched */
			struct zw_buf r = ZW_BUF_INIT;
			int rc = zw_http_redact(&r, c, v);
			if (rc == 0 && strcmp(zw_buf_str(&r), v) == 0)
				rc = zw_buf_adds(line, v);
			else
				rc = add_json_string(line, REDACTED, strlen(REDACTED));
			zw_buf_free(&r);
			return rc;
		}
	}
	return add_redacted(line, c, v);
}

static int add_ts(struct zw_buf *b)
{
	struct timespec ts;
	struct tm tm;
	char out[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	return zw_buf_addf(b, "{\"ts\":\"%s\"", out);
}

static void write_line(struct zw_log *l, const char *p, size_t n)
{
	pthread_mutex_lock(&l->mu);
	while (n > 0) {
		ssize_t w = write(l->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* a non-blocking fd: wait for room a while, never spin */
			struct pollfd pfd = {.fd = l->fd, .events = POLLOUT};
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && poll(&pfd, 1, WRITE_WAIT_MS) > 0)
				continue;
			break; /* nowhere to report it: the log is the report */
		}
		p += w;
		n -= (size_t)w;
	}
	pthread_mutex_unlock(&l->mu);
}

void zw_log_write(struct zw_log *l, enum zw_log_level level, const char *component, const char *msg, ...)
{
	if (!zw_log_enabled(l, level))
		return;
	struct zw_http_client *c = atomic_load(&l->redactor);
	struct zw_buf line = ZW_BUF_INIT;
	line.max = LINE_MAX_B;
	int rc = add_ts(&line);
	if (rc == 0)
		rc = zw_buf_addf(&line, ",\"level\":\"%s\",\"msg\":", level_names[level]);
	if (rc == 0)
		rc = add_redacted(&line, c, msg ? msg : "");
	if (rc == 0)
		rc = zw_buf_adds(&line, ",\"component\":");
	if (rc == 0)
		rc = add_json_string(&line, component ? component : "", component ? strlen(component) : 0);

	va_list ap;
	va_start(ap, msg);
	for (const char *key = va_arg(ap, const char *); rc == 0 && key; key = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		size_t before = line.len;
		rc = zw_buf_addc(&line, ',');
		if (rc == 0)
			rc = add_json_string(&line, key, strlen(key));
		if (rc == 0)
			rc = zw_buf_addc(&line, ':');
		if (rc == 0)
			rc = add_value(&line, c, key, v);
		if (rc == ZW_EINVAL) {
			/* the line is full: drop this pair and the rest, say so */
			line.len = before;
			line.p[before] = '\0';
			line.max = LINE_MAX_B + sizeof(DROPPED) + 2;
			rc = zw_buf_adds(&line, DROPPED);
			break;
		}
	}
	va_end(ap);
	if (rc == 0)
		rc = zw_buf_adds(&line, "}\n");
	if (rc == 0)
		write_line(l, line.p, line.len);
	zw_buf_free(&line);
}
