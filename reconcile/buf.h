/*
 * buf.h - a growable byte buffer with a hard maximum (curl's dynbuf).
 *
 * The content is always NUL-terminated so it can be used as a C string, but it may
 * hold NUL bytes too (TXT data is bytes). Every buffer fed from the network or a file
 * has a maximum; exceeding it fails with ZW_EINVAL and leaves the content as it was.
 */
#ifndef ZW_BUF_H
#define ZW_BUF_H

#include <stddef.h>

struct zw_buf {
	char *p; /* NULL until the first add */
	size_t len;
	size_t cap;
	size_t max; /* 0 means the default, ZW_BUF_DEFAULT_MAX */
};

#define ZW_BUF_DEFAULT_MAX (16u * 1024 * 1024)
#define ZW_BUF_INIT                                                                                          \
	{                                                                                                    \
		NULL, 0, 0, 0                                                                                \
	}

int zw_buf_add(struct zw_buf *b, const void *data, size_t n);
int zw_buf_adds(struct zw_buf *b, const char *s);
int zw_buf_addc(struct zw_buf *b, char c);
int zw_buf_addf(struct zw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zw_buf_reset(struct zw_buf *b);
/* Hand the content to the caller (who frees it with zw_free); the buffer is emptied. */
char *zw_buf_detach(struct zw_buf *b);
void zw_buf_free(struct zw_buf *b);
/* The content as a string; "" when empty. Borrowed. */
const char *zw_buf_str(const struct zw_buf *b);

#endif
