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
 * A value that starts with ZW_LOG_RAW (the byte 0x01) is written raw (the rest of it)
 * when the rest is a JSON number, true, false or null: ZW_LOG_RAW "12"; otherwise the rest
 * is written as a string. Everything else is a JSON string (RFC 8259: control characters
 * as \u00XX, invalid UTF-8 bytes as U+FFFD), a NULL value is null. A pair whose key names
 * a secret (token, password, secret, api_key, authorization...; the redactor's generic
 * rules decide) has its value replaced whole by "[redacted]". A value or msg longer than
 * 8 KiB after redaction is cut and ends with "...[truncated]". Keys are the caller's
 * constants: they are escaped, never checked against ts/level/msg/component.
 * l may be NULL (nothing is written).
 */
void zw_log_write(struct zw_log *l, enum zw_log_level level, const char *component, const char *msg, ...)
	__attribute__((sentinel));
#define ZW_LOG_RAW "\x01"
/* The end of the pairs: a typed null pointer (a bare NULL may be an int in varargs). */
#define ZW_LOG_END ((const char *)NULL)

#endif
