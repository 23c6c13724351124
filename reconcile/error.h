/*
 * error.h - the error codes and the error detail struct (libgit2 style).
 *
 * A function that can fail returns int: 0 on success, a negative ZW_E* code on failure.
 * The detail (a one-line, lower-case message, and where in the input it was found)
 * travels in a struct zw_error passed last; it is set once, where the problem is found,
 * and never overwritten on the way up.
 */
#ifndef ZW_ERROR_H
#define ZW_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum zw_errcode {
	ZW_OK = 0,
	ZW_ENOMEM = -1,	      /* out of memory: give up this cycle */
	ZW_EINVAL = -2,	      /* invalid input: fix the input */
	ZW_ENOTFOUND = -3,    /* no such thing: create it or report it */
	ZW_EAUTH = -4,	      /* credentials missing or refused: fix credentials */
	ZW_ERATE = -5,	      /* rate limited: retry after the given delay */
	ZW_ETRANSIENT = -6,   /* timeout, 5xx, dropped connection: retry with backoff */
	ZW_ECONFLICT = -7,    /* someone else changed it: re-plan */
	ZW_EUNSUPPORTED = -8, /* the provider cannot do this: report it */
	ZW_EIO = -9,	      /* a local file or system call failed */
};

#define ZW_ERR_MSG_MAX	512
#define ZW_ERR_PATH_MAX 128
#define ZW_ERR_FILE_MAX 256

struct zw_error {
	int code;		    /* ZW_OK until set */
	char file[ZW_ERR_FILE_MAX]; /* input file, "" if none */
	unsigned line, col;	    /* 1-based; 0 when unknown */
	char path[ZW_ERR_PATH_MAX]; /* field path, e.g. spec.dkim[1].selector */
	char msg[ZW_ERR_MSG_MAX];   /* one line, lower case */
};

/* Set err (if not NULL and not set yet); returns code so callers can `return zw_error_set(...)`. */
int zw_error_set(struct zw_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int zw_error_setv(struct zw_error *err, int code, const char *fmt, va_list ap);
/* Same, with a location in an input file. */
int zw_error_set_at(struct zw_error *err, int code, const char *file, unsigned line, unsigned col,
		    const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void zw_error_clear(struct zw_error *err);
/* "file:line:col: path: message", or just the message when there is no location. */
void zw_error_format(char *out, size_t outsz, const struct zw_error *err);
/* The one predicate that decides whether an error is worth retrying. */
int zw_error_retryable(int code);
const char *zw_error_name(int code);

#endif
