/*
 * buf.c - the growable byte buffer (see buf.h).
 *
 * Invariant: p == NULL or p[len] == '\0' and len < cap <= max.
 */
#include "reconcile/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/error.h"

static int grow(struct zw_buf *b, size_t need)
{
	size_t max = b->max ? b->max : ZW_BUF_DEFAULT_MAX;
	if (need > max || b->len + need + 1 > max)
		return ZW_EINVAL;
	if (b->len + need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + need + 1)
		cap *= 2;
	if (cap > max)
		cap = max;
	char *p = zw_realloc(b->p, cap);
	if (!p)
		return ZW_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int zw_buf_add(struct zw_buf *b, const void *data, size_t n)
{
	int rc = grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int zw_buf_adds(struct zw_buf *b, const char *s)
{
	return zw_buf_add(b, s, strlen(s));
}

int zw_buf_addc(struct zw_buf *b, char c)
{
	return zw_buf_add(b, &c, 1);
}

int zw_buf_addf(struct zw_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ZW_EINVAL;
	if ((size_t)n < sizeof(small))
		return zw_buf_add(b, small, (size_t)n);
	int rc = grow(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void zw_buf_reset(struct zw_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *zw_buf_detach(struct zw_buf *b)
{
	char *p = b->p;
	if (!p)
		p = zw_strdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void zw_buf_free(struct zw_buf *b)
{
	if (!b)
		return;
	zw_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

const char *zw_buf_str(const struct zw_buf *b)
{
	return b->p ? b->p : "";
}
