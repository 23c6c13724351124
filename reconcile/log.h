/*
 * log.h - the controller's structured log: one JSON object per line on a file
 * descriptor (stderr), fields `ts` (RFC 3339 UTC with milliseconds), `level`, `msg`,
 * `component`, then the caller's fields in order (SPEC §9).
 *
 * Every string goes through zw_http_redact() (reconcile/http.h) before it is written, so
 * a token or a secret key never reaches the log even when a caller passes one by mistake.
 * A line is written with one write(2), so lines of several threads never interleave.
 * Thread-safe; no global state: the logger is passed to whoever logs.
 */
#ifndef ZW_LOG_H
#define ZW_LOG_H

#include "reconcile/error.h"

struct zw_http_client;

enum zw_log_level { ZW_LOG_DEBUG, ZW_LOG_INFO, ZW_LOG_WARN, ZW_LOG_ERROR };

struct zw_log;

/* fd: where lines go (2); level: lines below it are not formatted; redact: the client
 * whose registered secrets are also redacted (may be NULL, and set later). */
int zw_log_new(struct zw_log **out, int fd, enum zw_log_level level, struct zw_error *err);
void zw_log_free(struct zw_log *l);
void zw_log_set_redactor(struct zw_log *l, struct zw_http_client *c);
/* "debug" | "info" | "warn" | "error" -> level; ZW_EINVAL otherwise. */
int zw_log_level_parse(enum zw_log_level *out, const char *s);
int zw_log_enabled(const struct zw_log *l, enum zw_log_level level);

/*
 * Write one line. After msg come key/value string pairs ending with a NULL key:
 *   zw_log_write(l, ZW_LOG_INFO, "controller", "reconciled", "domain", "example.com",
 *                "result", "ok", NULL);
 * A value that starts with the byte 0x01 is written as a raw JSON number/bool (the rest
 * of it), so callers can pass ZW_LOG_NUM("12"); everything else is a JSON string with
 * every control character escaped. l may be NULL (nothing is written).
 */
void zw_log_write(struct zw_log *l, enum zw_log_level level, const char *component, const char *msg, ...)
	__attribute__((sentinel));
#define ZW_LOG_RAW "\x01"

#endif
