/*
 * http.h - the core HTTP client every HTTP provider (Route 53, Cloudflare) and the
 * Kubernetes client use. Built on libcurl; providers never call libcurl themselves.
 *
 * What one client owns:
 *   - a small pool of libcurl easy handles, each keeping its connections alive between
 *     requests (connection reuse);
 *   - the rate budgets: one token bucket per account string (an AWS access key, a
 *     Cloudflare token's id), shared by every request of the client whatever the zone,
 *     and a pause per account that a 429 or a throttling answer sets until its
 *     Retry-After has passed;
 *   - the secrets registered for redaction.
 *
 * Thread safety: one client serves every worker of the controller. zw_http_do and every
 * other function taking a client may be called from several threads at once; a mutex
 * guards the handle pool, the budgets and the secrets, and is never held while a
 * request runs or while a caller sleeps. The hooks must then be thread-safe too.
 *
 * Policy (SPEC §7):
 *   - TLS verification is always on (peer and host name); opts.ca_file only changes which
 *     CAs are trusted (a test CA instead of the system store). Only http and https, no
 *     redirects followed.
 *   - Every response body is bounded by opts.max_body, the header block by 64 KiB.
 *   - HTTP statuses map to ZW_E* codes in one place (zw_http_status_error), libcurl's
 *     codes in one place (zw_http_curl_error); a per-request classifier may override the
 *     status mapping (Route 53's HTTP 400 `Throttling` is ZW_ERATE).
 *   - Only ZW_ERATE and ZW_ETRANSIENT outcomes are retried, at most opts.max_retries
 *     times, after the server's Retry-After (retry-after-ms, Retry-After in seconds or an
 *     HTTP-date) or else an exponential backoff with full jitter:
 *     uniform in [0, min(max_backoff_ms, base_backoff_ms * 2^retry)].
 *   - A wait longer than opts.max_retry_after_ms is never slept in-line: the call
 *     returns ZW_ERATE with resp->retry_after_ms set, so the controller requeues.
 *   - A request whose outcome is ambiguous (no answer after it may have reached the
 *     server: dropped connection, timeout after sending, or a 5xx other than 503) is
 *     retried only when it is idempotent (GET, HEAD, PUT, DELETE, OPTIONS: RFC 9110
 *     §9.2.2) or the caller set req.replay_safe (a Route 53 ChangeBatch made only of
 *     UPSERTs). A 429, a 503, a 408 and a classifier's ZW_ERATE mean "not processed"
 *     and are retried for any method.
 *   - A 429 never aborts anything: it is an error code like any other.
 */
#ifndef ZW_HTTP_H
#define ZW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"

struct zw_http_client;

enum zw_http_log { ZW_HLOG_DEBUG, ZW_HLOG_INFO, ZW_HLOG_WARN, ZW_HLOG_ERROR };

/* Hooks; any NULL function means the real one (monotonic clock, time(), nanosleep,
 * a per-client PRNG seeded from getrandom, no log). Unit tests pass a fake clock whose
 * sleep advances it, so backoff and budgets are tested without sleeping. */
struct zw_http_hooks {
	void *ctx;
	uint64_t (*now_ms)(void *ctx); /* monotonic milliseconds */
	int64_t (*wall_s)(void *ctx);  /* seconds since the epoch (Retry-After dates) */
	void (*sleep_ms)(void *ctx, uint64_t ms);
	uint32_t (*random)(void *ctx); /* 32 uniform bits, for jitter */
	/* One line per event, already redacted: msg a constant phrase, fields
	 * "key=value" pairs separated by spaces (the provider ABI's log shape). */
	void (*log)(void *ctx, enum zw_http_log level, const char *msg, const char *fields);
	enum zw_http_log log_level; /* lines below it are not even formatted */
	/* Called once per attempt (retries and streams included) with the HTTP status, 0
	 * when no response arrived; account is the request's (may be NULL). For metrics. */
	void (*observe)(void *ctx, const char *method, const char *account, long status);
};

/* A token bucket: n requests per period_ms, at most burst at once. n == 0: no limit
 * (the account can still be paused by a 429). */
struct zw_http_rate {
	unsigned n;
	uint64_t period_ms;
	unsigned burst;
};

struct zw_http_opts {
	long timeout_ms; /* one attempt, connect to last byte */
	long connect_timeout_ms;
	unsigned max_retries; /* retries after the first attempt */
	uint64_t base_backoff_ms;
	uint64_t max_backoff_ms;
	uint64_t max_retry_after_ms; /* longest wait slept in-line (server hint or budget) */
	uint64_t max_pause_ms;	     /* longest an account is paused by one throttling answer */
	size_t max_body;	     /* bound on every response body */
	unsigned max_idle_handles;   /* easy handles kept for reuse */
	const char *ca_file;	     /* CAs to trust instead of the system store (test CAs) */
	const char *user_agent;
	const char *cert_file;		  /* client certificate (PEM) for TLS client auth, or NULL */
	const char *key_file;		  /* its private key (PEM), or NULL; both or neither */
	struct zw_http_rate default_rate; /* for accounts never given zw_http_budget_set */
	struct zw_http_hooks hooks;
};

/* The defaults: 30 s / 10 s timeouts, 4 retries, backoff 500 ms doubling to 8 s
 * (Cloudflare's SDK policy), in-line waits up to 60 s, pauses up to 10 min, bodies up to
 * 8 MiB, 4 idle handles, user agent "zonewarden", no default rate limit, real hooks. */
void zw_http_opts_init(struct zw_http_opts *o);

/* Strings in opts are copied. ZW_EINVAL for a zero timeout, base > max backoff, a
 * zero max_body or an unreadable ca_file. */
int zw_http_client_new(struct zw_http_client **out, const struct zw_http_opts *opts, struct zw_error *err);
void zw_http_client_free(struct zw_http_client *c);

/* ---- requests ------------------------------------------------------------------------ */

struct zw_http_header {
	const char *name;
	const char *value;
};

struct zw_http_resp {
	long status;			/* 0 when no response arrived */
	struct zw_http_header *headers; /* the final response's, in order */
	size_t nheaders;
	struct zw_buf body;	 /* bounded by opts.max_body; NUL-terminated */
	unsigned attempts;	 /* how many times the request was sent */
	uint64_t retry_after_ms; /* with ZW_ERATE: the wait the server or the budget
				  * asked for, when known; else 0 */
	char *hraw;		 /* private: what the header pointers point into */
};

#define ZW_HTTP_RESP_INIT                                                                                    \
	{                                                                                                    \
		0, NULL, 0, ZW_BUF_INIT, 0, 0, NULL                                                          \
	}

/*
 * The per-request classifier: what a response means for the caller's API. Returns 0
 * for success or a ZW_E* code (ZW_ERATE and ZW_ETRANSIENT are retried), and may set
 * *retry_after_ms to a wait the body asks for (it starts as the headers' hint, 0 when
 * none). It is called for every response, 2xx included (Cloudflare's success:false on
 * a 200). A classifier that only knows special cases returns zw_http_status_error().
 */
typedef int (*zw_http_classify_fn)(void *ctx, const struct zw_http_resp *resp, uint64_t *retry_after_ms);

struct zw_http_req {
	const char *method;	    /* "GET", "POST", ... */
	const char *url;	    /* http:// or https:// */
	const char *const *headers; /* "Name: value"; no CR or LF */
	size_t nheaders;
	const void *body; /* NULL: none */
	size_t body_len;
	const char *account;	      /* rate budget key; NULL: no budget */
	int replay_safe;	      /* non-idempotent but safe to resend after an
				       * ambiguous failure (Route 53 UPSERT-only batch) */
	zw_http_classify_fn classify; /* NULL: zw_http_status_error(status) */
	void *classify_ctx;
};

/*
 * Send req, retrying as the policy above says. Returns 0 when the classifier (or the
 * status map) says success. On an HTTP failure resp still holds the last response
 * (status, headers, body) so the caller can read the error body; on a transport
 * failure resp->status is 0. resp is reset first; free it with zw_http_resp_free
 * whatever the result. err gets one line naming the method, the redacted URL and the
 * outcome.
 */
int zw_http_do(struct zw_http_client *c, const struct zw_http_req *req, struct zw_http_resp *resp,
	       struct zw_error *err);

/* ---- streams ------------------------------------------------------------------------- */

/*
 * A cancellation token for streams: fired from any thread (or a signal handler), it
 * ends the stream it is given to at once (the transfer polls the token's pipe beside
 * its socket). Once fired it stays fired.
 */
struct zw_http_cancel;
int zw_http_cancel_new(struct zw_http_cancel **out, struct zw_error *err);
void zw_http_cancel_fire(struct zw_http_cancel *x);
int zw_http_cancel_fired(const struct zw_http_cancel *x);
void zw_http_cancel_free(struct zw_http_cancel *x);

/* Called with each piece of a 2xx body as it arrives; non-zero ends the transfer (the
 * stream then returns 0: the caller asked for it). */
typedef int (*zw_http_data_fn)(void *ctx, const char *data, size_t len);

struct zw_http_stream {
	zw_http_data_fn on_data;
	void *ctx;
	struct zw_http_cancel *cancel; /* NULL: cannot be cancelled */
	long timeout_ms;	       /* whole transfer; 0: none (the server ends it) */
};

/*
 * zw_http_do for an endless body (a Kubernetes WATCH): the same checks, TLS
 * verification, budget, redaction, status mapping, logging and observe hook, but one
 * attempt only (the caller owns the retry policy: a stream may already have delivered
 * data), and a 2xx body goes to s->on_data instead of resp->body (a non-2xx body is
 * buffered in resp->body as usual, bounded by max_body). Returns 0 when the server ended
 * a 2xx stream or on_data stopped it; a cancelled stream returns ZW_ETRANSIENT with
 * "cancelled" in err (check the token).
 */
int zw_http_stream(struct zw_http_client *c, const struct zw_http_req *req, const struct zw_http_stream *s,
		   struct zw_http_resp *resp, struct zw_error *err);

/* Release what resp holds and make it empty again (ZW_HTTP_RESP_INIT). */
void zw_http_resp_free(struct zw_http_resp *r);

/* The value of the first header called name (ASCII case-insensitive), or NULL. Borrowed. */
const char *zw_http_resp_header(const struct zw_http_resp *r, const char *name);

/* Parse a raw header block ("HTTP/1.1 200 OK\r\nName: value\r\n...", status lines and
 * the blank line skipped, obs-fold joined with a space) into r->headers. */
int zw_http_resp_parse_headers(struct zw_http_resp *r, const char *raw, size_t len, struct zw_error *err);

/* ---- the mappings (each in one place) ------------------------------------------------ */

/* 2xx -> 0; 401, 403 -> ZW_EAUTH; 404, 410 -> ZW_ENOTFOUND; 408 -> ZW_ETRANSIENT;
 * 409 -> ZW_ECONFLICT; 429 -> ZW_ERATE; 5xx -> ZW_ETRANSIENT; anything else (other
 * 4xx, 1xx, 3xx: redirects are not followed) -> ZW_EINVAL. */
int zw_http_status_error(long status);

/* A libcurl CURLcode -> ZW_E*: connection refused, unresolvable host, timeouts, resets,
 * empty replies -> ZW_ETRANSIENT; certificate not trusted, TLS handshake failure ->
 * ZW_EAUTH; a bad URL, an unreadable CA file, a body over the bound -> ZW_EINVAL;
 * out of memory -> ZW_ENOMEM; anything else -> ZW_EIO. *what gets a one-line phrase. */
int zw_http_curl_error(int curl_code, const char **what);

/* ---- retry timing (pure: the client and the tests use these) ------------------------ */

/* The server's wait from one Retry-After value: delay-seconds or an HTTP-date (IMF,
 * RFC 850 or asctime; RFC 9110 §10.2.3), relative to now_s. A date in the past is 0.
 * ZW_EINVAL when value is NULL, empty or not one of those; huge values saturate at
 * UINT64_MAX / 1000 seconds. */
int zw_http_retry_after(uint64_t *ms, const char *value, int64_t now_s);

/* The response's hint: retry-after-ms (milliseconds, fraction rounded up) first, then
 * Retry-After. ZW_ENOTFOUND when neither header is there or parses. */
int zw_http_resp_retry_after(uint64_t *ms, const struct zw_http_resp *r, int64_t now_s);

/* The backoff before retry number `retry` (0 for the first retry), full jitter:
 * rnd scaled into [0, min(max_ms, base_ms * 2^retry)]. */
uint64_t zw_http_backoff_ms(uint64_t base_ms, uint64_t max_ms, unsigned retry, uint32_t rnd);

/* ---- rate budgets -------------------------------------------------------------------- */

/* Give account its own bucket (replacing any earlier one, full). Route 53: {5, 1000, 5};
 * Cloudflare: {1200, 300000, 100}. */
int zw_http_budget_set(struct zw_http_client *c, const char *account, const struct zw_http_rate *rate,
		       struct zw_error *err);
/* Take one token from account's bucket, sleeping (through the hook) while the bucket
 * is empty or the account is paused. A wait longer than opts.max_retry_after_ms is not
 * slept: ZW_ERATE, and *wait_ms (if not NULL) gets the wait that would have been needed. */
int zw_http_budget_take(struct zw_http_client *c, const char *account, uint64_t *wait_ms,
			struct zw_error *err);
/* Pause account for ms (capped at opts.max_pause_ms) from now; a longer pause already
 * set stays. What the client does itself on 429 and throttling answers. */
int zw_http_budget_pause(struct zw_http_client *c, const char *account, uint64_t ms, struct zw_error *err);

/* ---- redaction ----------------------------------------------------------------------- */

/* Register a secret (a token, a secret key) so that it never appears in a log line or an
 * error message of this client. Secrets shorter than 4 bytes are refused (ZW_EINVAL):
 * they would mangle every line. */
int zw_http_secret_add(struct zw_http_client *c, const char *secret, struct zw_error *err);

/*
 * Append line to out with every secret replaced by "[redacted]":
 *   - the value of the headers Authorization, Proxy-Authorization, X-Amz-Security-Token,
 *     X-Auth-Key, X-Api-Key, Cookie and Set-Cookie, after ':' (to the end of the line or
 *     a closing quote) or '=' (also to a '&');
 *   - the value of any parameter, field or JSON key whose name ends with "token",
 *     "signature", "password" or "passwd", or contains "secret", "api_key", "apikey",
 *     "api-key" or "credentials" (token=, X-Amz-Signature=, client_secret=,
 *     "api_token":"..."), up to '&', white space, a quote, ';', ',', '#', '<' or '>';
 *   - every secret registered on c (c may be NULL), wherever it appears.
 * Over-redaction is preferred to a leak. The one function every log line and every error
 * message of the client goes through.
 */
int zw_http_redact(struct zw_buf *out, struct zw_http_client *c, const char *line);

#endif
