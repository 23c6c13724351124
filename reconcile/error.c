/*
 * error.c - setting and formatting struct zw_error (see error.h).
 *
 * Invariant: once err->code is non-zero, nothing overwrites it; the first (deepest)
 * cause wins, which is the one that names the real problem.
 */
#include "reconcile/error.h"

#include <stdio.h>
#include <string.h>

int zw_error_setv(struct zw_error *err, int code, const char *fmt, va_list ap)
{
	if (!err || err->code != ZW_OK)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	/* one line: fold any newline that came from the input */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return code;
}

int zw_error_set(struct zw_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	zw_error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int zw_error_set_at(struct zw_error *err, int code, const char *file, unsigned line, unsigned col,
		    const char *path, const char *fmt, ...)
{
	va_list ap;
	if (!err || err->code != ZW_OK)
		return code;
	va_start(ap, fmt);
	zw_error_setv(err, code, fmt, ap);
	va_end(ap);
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	err->line = line;
	err->col = col;
	return code;
}

void zw_error_clear(struct zw_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

void zw_error_format(char *out, size_t outsz, const struct zw_error *err)
{
	if (err->file[0] && err->line == 0)
		snprintf(out, outsz, "%s: %s", err->file, err->msg);
	else if (err->file[0] && err->path[0])
		snprintf(out, outsz, "%s:%u:%u: %s: %s", err->file, err->line, err->col, err->path, err->msg);
	else if (err->file[0])
		snprintf(out, outsz, "%s:%u:%u: %s", err->file, err->line, err->col, err->msg);
	else
		snprintf(out, outsz, "%s", err->msg);
}

int zw_error_retryable(int code)
{
	return code == ZW_ERATE || code == ZW_ETRANSIENT;
}

const char *zw_error_name(int code)
{
	static const char *const names[] = {
		"ok",		"out of memory", "invalid input", "not found",	 "authentication",
		"rate limited", "transient",	 "conflict",	  "unsupported", "i/o",
	};
	int i = -code;
	if (i < 0 || i >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[i];
}
