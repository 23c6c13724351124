/*
 * txt.c - the TXT data model (see txt.h): building, parsing, printing and displaying
 * lists of byte strings.
 *
 * Owns: a struct zw_txt owns its `data` (len + 1 bytes, NUL-terminated, may hold NULs)
 * and its `lens` (n entries, sum(lens) == len). Every constructor zeroes *out first and
 * fills it only on success, so zw_txt_free(out) is always safe afterwards.
 *
 * Escapes: zone-file presentation is \DDD in decimal (RFC 1035 §5.1); Route 53's API is
 * \ooo in octal. The display form is pure ASCII: printable ASCII as is, `\` as `\\`,
 * named invisible/confusable code points as <U+XXXX NAME> (the names come from the
 * stray-character table, stray.c), every other byte as \DDD.
 */
#include "reconcile/txt.h"

#include <stdint.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/stray.h"

/* Take ownership of a data buffer (len + 1 bytes, NUL at len) and a lens array. */
static void txt_adopt(struct zw_txt *out, char *data, size_t len, size_t *lens, size_t n)
{
	out->data = data;
	out->len = len;
	out->lens = lens;
	out->n = n;
}

int zw_txt_from_strings(struct zw_txt *out, const char *const *strs, const size_t *lens, size_t n)
{
	size_t total = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (total + lens[i] < total)
			return ZW_EINVAL;
		total += lens[i];
	}
	char *data = zw_malloc(total + 1);
	size_t *l = zw_calloc(n ? n : 1, sizeof(*l));
	if (!data || !l) {
		zw_free(data);
		zw_free(l);
		return ZW_ENOMEM;
	}
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (lens[i])
			memcpy(data + at, strs[i], lens[i]);
		at += lens[i];
		l[i] = lens[i];
	}
	data[total] = '\0';
	txt_adopt(out, data, total, l, n);
	return 0;
}

int zw_txt_from_value(struct zw_txt *out, const char *value, size_t len)
{
	memset(out, 0, sizeof(*out));
	size_t n = len ? (len + ZW_TXT_STRING_MAX - 1) / ZW_TXT_STRING_MAX : 1;
	char *data = zw_malloc(len + 1);
	size_t *l = zw_calloc(n, sizeof(*l));
	if (!data || !l) {
		zw_free(data);
		zw_free(l);
		return ZW_ENOMEM;
	}
	if (len)
		memcpy(data, value, len);
	data[len] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t left = len - i * ZW_TXT_STRING_MAX;
		l[i] = left < ZW_TXT_STRING_MAX ? left : ZW_TXT_STRING_MAX;
	}
	txt_adopt(out, data, len, l, n);
	return 0;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int parse_error(struct zw_error *err, size_t at, const char *what)
{
	return zw_error_set_at(err, ZW_EINVAL, NULL, 0, (unsigned)(at + 1), NULL,
			       "%s at column %zu (RFC 1035 §5.1)", what, at + 1);
}

/*
 * Read one escape at s[*i] == '\\' into *byte. \DDD is exactly three decimal digits with
 * a value of at most 255; \X is X for any other byte.
 */
static int read_escape(unsigned char *byte, const char *s, size_t len, size_t *i, struct zw_error *err)
{
	size_t at = *i;
	if (at + 1 >= len)
		return parse_error(err, at, "backslash at the end of the input");
	unsigned char c = (unsigned char)s[at + 1];
	if (!is_digit(c)) {
		*byte = c;
		*i = at + 2;
		return 0;
	}
	if (at + 3 >= len || !is_digit((unsigned char)s[at + 2]) || !is_digit((unsigned char)s[at + 3]))
		return parse_error(err, at, "bad escape: \\DDD needs three decimal digits");
	unsigned v = (unsigned)(s[at + 1] - '0') * 100 + (unsigned)(s[at + 2] - '0') * 10 +
		     (unsigned)(s[at + 3] - '0');
	if (v > 255)
		return parse_error(err, at, "bad escape: \\DDD is over 255");
	*byte = (unsigned char)v;
	*i = at + 4;
	return 0;
}

/* Append one string length to a growable lens array. */
static int push_len(size_t **lens, size_t *n, size_t *cap, size_t len)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		size_t *p = zw_realloc(*lens, c * sizeof(*p));
		if (!p)
			return ZW_ENOMEM;
		*lens = p;
		*cap = c;
	}
	(*lens)[(*n)++] = len;
	return 0;
}

/* Parse one <character-string> starting at s[*i] (not whitespace) into data. */
static int parse_string(struct zw_buf *data, size_t *slen, const char *s, size_t len, size_t *i,
			struct zw_error *err)
{
	size_t start = *i, at = *i, before = data->len;
	int quoted = s[at] == '"';
	int rc;
	if (quoted)
		at++;
	for (;;) {
		if (at >= len) {
			if (quoted)
				return parse_error(err, start, "unterminated quoted string");
			break;
		}
		unsigned char c = (unsigned char)s[at];
		if (quoted && c == '"') {
			at++;
			if (at < len && !is_space((unsigned char)s[at]))
				return parse_error(err, at, "missing space after a closing quote");
			break;
		}
		if (!quoted && is_space(c))
			break;
		if (!quoted && c == '"')
			return parse_error(err, at, "quote inside an unquoted string (escape it as \\\")");
		if (c == '\\') {
			unsigned char b = 0;
			if ((rc = read_escape(&b, s, len, &at, err)))
				return rc;
			c = b;
		} else {
			at++;
		}
		if ((rc = zw_buf_addc(data, (char)c)))
			return rc == ZW_ENOMEM ? rc : zw_error_set(err, rc, "txt value too long");
	}
	*slen = data->len - before;
	if (*slen > ZW_TXT_STRING_MAX)
		return zw_error_set_at(err, ZW_EINVAL, NULL, 0, (unsigned)(start + 1), NULL,
				       "character-string of %zu octets at column %zu is over 255 "
				       "(RFC 1035 §3.3)",
				       *slen, start + 1);
	*i = at;
	return 0;
}

int zw_txt_parse_presentation(struct zw_txt *out, const char *s, size_t len, struct zw_error *err)
{
	struct zw_buf data = ZW_BUF_INIT;
	size_t *lens = NULL, n = 0, cap = 0, i = 0;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	for (;;) {
		while (i < len && is_space((unsigned char)s[i]))
			i++;
		if (i >= len)
			break;
		size_t slen = 0;
		if ((rc = parse_string(&data, &slen, s, len, &i, err)))
			goto out;
		if ((rc = push_len(&lens, &n, &cap, slen)))
			goto out;
	}
	if (n == 0) {
		rc = zw_error_set_at(err, ZW_EINVAL, NULL, 0, (unsigned)(len + 1), NULL,
				     "no character-string in the txt data (RFC 1035 §3.3.14)");
		goto out;
	}
	if (!data.p && (rc = zw_buf_add(&data, "", 0)))
		goto out;
	txt_adopt(out, data.p, data.len, lens, n);
	return 0;
out:
	zw_buf_free(&data);
	zw_free(lens);
	return rc;
}

int zw_txt_print_presentation(struct zw_buf *out, const struct zw_txt *t)
{
	size_t at = 0;
	int rc;
	for (size_t i = 0; i < t->n; i++) {
		if (i && (rc = zw_buf_addc(out, ' ')))
			return rc;
		if ((rc = zw_buf_addc(out, '"')))
			return rc;
		for (size_t j = 0; j < t->lens[i]; j++) {
			unsigned char c = (unsigned char)t->data[at + j];
			if (c == '"' || c == '\\')
				rc = zw_buf_addf(out, "\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				rc = zw_buf_addf(out, "\\%03u", c);
			else
				rc = zw_buf_addc(out, (char)c);
			if (rc)
				return rc;
		}
		if ((rc = zw_buf_addc(out, '"')))
			return rc;
		at += t->lens[i];
	}
	return 0;
}

static int is_octal(unsigned char c)
{
	return c >= '0' && c <= '7';
}

int zw_txt_decode_octal(struct zw_buf *out, const char *s, size_t len, struct zw_error *err)
{
	size_t i = 0, before = out->len;
	int rc = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (i + 1 >= len) {
				rc = zw_error_set_at(err, ZW_EINVAL, NULL, 0, (unsigned)(i + 1), NULL,
						     "backslash at the end of the value at column %zu",
						     i + 1);
				goto fail;
			}
			unsigned char d = (unsigned char)s[i + 1];
			if (is_digit(d)) {
				if (i + 3 >= len || d > '3' || !is_octal(d) ||
				    !is_octal((unsigned char)s[i + 2]) ||
				    !is_octal((unsigned char)s[i + 3])) {
					rc = zw_error_set_at(err, ZW_EINVAL, NULL, 0, (unsigned)(i + 1), NULL,
							     "bad octal escape at column %zu: route 53 "
							     "writes \\ooo with three octal digits, "
							     "at most \\377",
							     i + 1);
					goto fail;
				}
				c = (unsigned char)((d - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
				i += 4;
			} else {
				c = d;
				i += 2;
			}
		} else {
			i++;
		}
		if ((rc = zw_buf_addc(out, (char)c)))
			goto fail;
	}
	return 0;
fail:
	/* leave out as it was */
	out->len = before;
	if (out->p)
		out->p[before] = '\0';
	return rc;
}

int zw_txt_equal(const struct zw_txt *a, const struct zw_txt *b)
{
	if (a->n != b->n || a->len != b->len)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->lens[i] != b->lens[i])
			return 0;
	return a->len == 0 || memcmp(a->data, b->data, a->len) == 0;
}

int zw_txt_value_equal(const struct zw_txt *a, const struct zw_txt *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Is this code point one the display shows by name (invisible or confusable)? */
static int display_by_name(struct zw_stray_char *c, uint32_t cp)
{
	return zw_stray_lookup(c, cp) && c->named;
}

int zw_txt_display(struct zw_buf *out, const char *v, size_t len)
{
	size_t i = 0;
	int rc = 0;
	while (i < len && !rc) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\\') {
			rc = zw_buf_add(out, "\\\\", 2);
			i++;
			continue;
		}
		if (c >= 0x20 && c <= 0x7e) {
			rc = zw_buf_addc(out, (char)c);
			i++;
			continue;
		}
		uint32_t cp;
		struct zw_stray_char sc;
		size_t n = zw_stray_utf8(&cp, v + i, len - i);
		if (n > 1 && display_by_name(&sc, cp)) {
			rc = zw_buf_addf(out, "<U+%04X %s>", (unsigned)cp, sc.name);
			i += n;
			continue;
		}
		if (n == 0)
			n = 1;
		for (size_t j = 0; j < n && !rc; j++)
			rc = zw_buf_addf(out, "\\%03u", (unsigned char)v[i + j]);
		i += n;
	}
	return rc;
}

int zw_txt_copy(struct zw_txt *out, const struct zw_txt *in)
{
	memset(out, 0, sizeof(*out));
	char *data = zw_malloc(in->len + 1);
	size_t *l = zw_calloc(in->n ? in->n : 1, sizeof(*l));
	if (!data || !l) {
		zw_free(data);
		zw_free(l);
		return ZW_ENOMEM;
	}
	if (in->len)
		memcpy(data, in->data, in->len);
	data[in->len] = '\0';
	if (in->n)
		memcpy(l, in->lens, in->n * sizeof(*l));
	txt_adopt(out, data, in->len, l, in->n);
	return 0;
}

void zw_txt_free(struct zw_txt *t)
{
	if (!t)
		return;
	zw_free(t->data);
	zw_free(t->lens);
	memset(t, 0, sizeof(*t));
}
