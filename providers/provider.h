/*
 * provider.h - the provider ABI: the only header a provider includes.
 *
 * A provider is one versioned table of operations (struct zw_provider), compiled in or
 * loaded from a shared object in --plugin-dir that exports `zw_provider_entry`. The core
 * checks the ABI version, the name and duplicates when loading, checks the settings
 * against the provider's option table before `open`, and calls the operations only
 * through wrappers that turn an empty slot into "not supported".
 *
 * Memory never crosses the boundary the wrong way: a provider allocates its own state
 * through host->alloc/free and frees it in `close`; what it reports (zones, name
 * servers, records, per-change results) it hands to callbacks that copy, and what the
 * core hands it (settings, changes) it only reads during the call.
 *
 * Errors: operations return 0 or a negative ZW_PROV_E* code (the same numbers as the
 * engine's ZW_E* codes) and describe the problem in struct zw_prov_error, one line,
 * lower case, never containing a secret.
 */
#ifndef ZW_PROVIDER_H
#define ZW_PROVIDER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ZW_PROVIDER_ABI 2

enum {
	ZW_PROV_OK = 0,
	ZW_PROV_ENOMEM = -1,
	ZW_PROV_EINVAL = -2,
	ZW_PROV_ENOTFOUND = -3,
	ZW_PROV_EAUTH = -4,
	ZW_PROV_ERATE = -5,
	ZW_PROV_ETRANSIENT = -6,
	ZW_PROV_ECONFLICT = -7,
	ZW_PROV_EUNSUPPORTED = -8,
	ZW_PROV_EIO = -9,
};

struct zw_prov_error {
	int code;
	char msg[512];
};

/* Set err (one line) and return its code: `return zw_prov_fail(err, ZW_PROV_EAUTH, ...);` */
static inline int zw_prov_fail(struct zw_prov_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int zw_prov_fail(struct zw_prov_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

/* ---- HTTP lent by the core (struct zw_prov_host.http) ------------------------------------ */

/* A response, owned by the core: valid until http->release(http->ctx, resp), which the
 * provider calls after every request, failed or not. */
struct zw_prov_http_resp {
	long status;	  /* 0 when no response arrived */
	const char *body; /* NUL-terminated ("" when none); bounded by the core */
	size_t body_len;
	unsigned attempts;	 /* how many times the request was sent */
	uint64_t retry_after_ms; /* with ZW_PROV_ERATE: the wait asked for, when known; else 0 */
	void *impl;		 /* the core's */
};

/* What a response means for the provider's API: ZW_PROV_OK or a ZW_PROV_E* code
 * (ZW_PROV_ERATE and ZW_PROV_ETRANSIENT are retried by the core); may set *retry_after_ms
 * (it starts as the Retry-After headers' hint, 0 when none). Called for every response,
 * 2xx included; http->status_error(status) is the default mapping. */
typedef int (*zw_prov_http_classify_fn)(void *cctx, const struct zw_prov_http_resp *resp,
					uint64_t *retry_after_ms);

struct zw_prov_http_req {
	const char *method;	    /* "GET", "POST", ... */
	const char *url;	    /* http:// or https:// */
	const char *const *headers; /* "Name: value", no CR or LF */
	size_t nheaders;
	const void *body; /* NULL: none */
	size_t body_len;
	const char *account;		   /* rate-budget key shared by every zone of the account */
	int replay_safe;		   /* not idempotent, but safe to resend after an
					    * ambiguous failure (a Route 53 UPSERT-only batch) */
	zw_prov_http_classify_fn classify; /* NULL: status_error(status) */
	void *classify_ctx;
};

/* Retries with backoff and jitter, Retry-After, the per-account rate budget, TLS always
 * verified and redaction of registered secrets are the core's; a provider only says
 * what a response means. */
struct zw_prov_http {
	void *ctx; /* pass back to request, release, budget, secret */
	int (*request)(void *ctx, const struct zw_prov_http_req *req, struct zw_prov_http_resp *resp,
		       struct zw_prov_error *err);
	void (*release)(void *ctx, struct zw_prov_http_resp *resp);
	const char *(*header)(const struct zw_prov_http_resp *resp, const char *name);
	int (*status_error)(long status);
	/* the account's budget: n requests per period_ms, bursts of `burst` */
	int (*budget)(void *ctx, const char *account, unsigned n, uint64_t period_ms, unsigned burst,
		      struct zw_prov_error *err);
	/* a value never to appear in any log line or error (a token, a secret key) */
	int (*secret)(void *ctx, const char *secret, struct zw_prov_error *err);
};

/* ---- what the core lends ------------------------------------------------------------- */

enum zw_prov_log { ZW_PLOG_DEBUG, ZW_PLOG_INFO, ZW_PLOG_WARN, ZW_PLOG_ERROR };

struct zw_prov_host {
	unsigned abi;		  /* ZW_PROVIDER_ABI */
	void *ctx;		  /* pass back to every callback */
	void *(*alloc)(size_t n); /* the core's allocator (failure injection) */
	void *(*realloc)(void *p, size_t n);
	void (*free)(void *p);
	/* msg is a constant phrase; fields "key=value" pairs separated by spaces (redacted) */
	void (*log)(void *ctx, enum zw_prov_log level, const char *msg, const char *fields);
	/* HTTP for providers that speak it; NULL where the core has none. */
	const struct zw_prov_http *http;
};

/* ---- settings ---------------------------------------------------------------------------- */

enum zw_prov_opt_type { ZW_POPT_STRING, ZW_POPT_INT, ZW_POPT_BOOL, ZW_POPT_PATH };

/* One row of a provider's option table; the table ends with a row whose name is NULL. */
struct zw_prov_option {
	const char *name; /* "server", "apiTokenSecretRef.name" */
	enum zw_prov_opt_type type;
	const char *def; /* default as text, or NULL (absent) */
	long min, max;	 /* ZW_POPT_INT bounds */
	int required;
};

/* The checked settings: every option of the table, default applied, or NULL if absent. */
struct zw_prov_settings {
	const char *(*get)(const struct zw_prov_settings *s, const char *name);
	const void *impl;
};

/* ---- records ------------------------------------------------------------------------------ */

/* One record's data: TXT (and type 99) as byte strings back to back in `data` with each
 * string's length in lens[]; any other type as `text` in presentation form (a CNAME's
 * absolute target "x.example.net."). */
struct zw_prov_rdata {
	const char *data;
	size_t len;
	const size_t *lens;
	size_t n;
	const char *text;
};

struct zw_prov_rrset {
	const char *name; /* absolute, lower case, trailing dot */
	uint16_t type;
	uint32_t ttl;
	const struct zw_prov_rdata *rd;
	size_t nrd;
};

enum zw_prov_op { ZW_PROV_CREATE, ZW_PROV_UPDATE, ZW_PROV_DELETE };

enum zw_prov_result {
	ZW_PROV_NOT_APPLIED = 0, /* not attempted (an earlier failure stopped the batch) */
	ZW_PROV_APPLIED,
	ZW_PROV_RETRYABLE, /* failed; the same change may succeed later */
	ZW_PROV_PERMANENT, /* failed; retrying the same change will not help */
};

/* One rrset-level change. `before` is what the plan saw at the provider (UPDATE, DELETE:
 * a provider that can, checks it as a prerequisite, so a change made by someone else
 * between plan and apply fails cleanly); `after` is what to publish (CREATE, UPDATE). */
struct zw_prov_change {
	enum zw_prov_op op;
	const struct zw_prov_rrset *before;
	const struct zw_prov_rrset *after;
	/* written by the provider: */
	enum zw_prov_result result;
	char message[256];
};

/* ---- the table --------------------------------------------------------------------------- */

struct zw_provider {
	unsigned abi;	  /* ZW_PROVIDER_ABI */
	const char *name; /* "rfc2136", the Provider's spec.type */
	const struct zw_prov_option *options;
	int (*open)(void **state, const struct zw_prov_host *host, const struct zw_prov_settings *s,
		    struct zw_prov_error *err);
	void (*close)(void *state);
	/* The zone holding `domain`: its apex and the provider's id for it (copied by emit). */
	int (*find_zone)(void *state, const char *domain,
			 int (*emit)(void *ctx, const char *zone_apex, const char *zone_id), void *ctx,
			 struct zw_prov_error *err);
	/* The name servers the provider assigns to the zone (DL-01 compares the parent's). */
	int (*nameservers)(void *state, const char *zone_id, int (*emit)(void *ctx, const char *ns),
			   void *ctx, struct zw_prov_error *err);
	/* Every record of the zone, one rrset per emit call. */
	int (*list)(void *state, const char *zone_id,
		    int (*emit)(void *ctx, const struct zw_prov_rrset *rrset), void *ctx,
		    struct zw_prov_error *err);
	/* Apply the changes of one zone, atomically when the provider can; every change's
	 * result says what happened. Returns 0 when every change was applied. */
	int (*apply)(void *state, const char *zone_id, struct zw_prov_change *changes, size_t n,
		     struct zw_prov_error *err);
	/* Optional (ABI 2): point the registrar's delegation of `domain` at the zone's name
	 * servers (Route 53 Domains UpdateDomainNameservers); `operation` gets the
	 * registrar's operation id. Called only by apply, only when the user opts in. */
	int (*fix_delegation)(void *state, const char *domain, const char *zone_id, char *operation,
			      size_t opsz, struct zw_prov_error *err);
};

/* What a plugin (.so) exports. */
typedef const struct zw_provider *(*zw_provider_entry_fn)(void);
#define ZW_PROVIDER_ENTRY "zw_provider_entry"

#endif
