/*
 * txt.h - the TXT data model: one rdata is a list of byte strings (RFC 1035 §3.3.14).
 *
 * The strings are stored back to back in `data` (so the semantic value of SPF, DKIM and
 * DMARC, the strings joined with no separator, RFC 7208 §3.3 / RFC 6376 §3.6.2.2, is
 * simply data[0..len)), with each string's length in lens[]. A string longer than 255
 * octets cannot be on the wire, but a provider API or a paste can carry one, so the model
 * can hold it and the classifier reports it (TX-09).
 *
 * Two escape syntaxes exist and are never mixed up (CATALOGUE §B.0): zone-file
 * presentation format uses \DDD in *decimal* (RFC 1035 §5.1); Route 53's API uses \ooo
 * in *octal*. Each has its own clearly named function.
 */
#ifndef ZW_TXT_H
#define ZW_TXT_H

#include <stddef.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"

#define ZW_TXT_STRING_MAX 255

struct zw_txt {
	char *data;   /* all strings back to back, NUL-terminated (may hold NULs) */
	size_t len;   /* total octets */
	size_t *lens; /* length of each string */
	size_t n;     /* number of strings (0 only for an empty struct) */
};

/* Build from explicit strings (copied). */
int zw_txt_from_strings(struct zw_txt *out, const char *const *strs, const size_t *lens, size_t n);
/* Build the canonical write form of a value: split into strings of at most 255 octets
 * (an empty value gives one empty string). */
int zw_txt_from_value(struct zw_txt *out, const char *value, size_t len);
/* Parse RFC 1035 presentation format: one or more <character-string>s, quoted or not,
 * with \X and \DDD (decimal). A string over 255 octets, a bad escape or an unclosed quote
 * is ZW_EINVAL with the column in err->col. */
int zw_txt_parse_presentation(struct zw_txt *out, const char *s, size_t len, struct zw_error *err);
/* Print presentation format: each string quoted, `"` and `\` escaped, bytes outside
 * 0x20-0x7E as \DDD decimal; strings separated by one space. */
int zw_txt_print_presentation(struct zw_buf *out, const struct zw_txt *t);
/* Decode Route 53's API form of ONE string body: \ooo is OCTAL, \X is X. (Quote handling
 * belongs to the Route 53 provider.) */
int zw_txt_decode_octal(struct zw_buf *out, const char *s, size_t len, struct zw_error *err);
/* Equal as lists of byte strings (the drift comparison). */
int zw_txt_equal(const struct zw_txt *a, const struct zw_txt *b);
/* Equal as joined values (the meaning comparison). */
int zw_txt_value_equal(const struct zw_txt *a, const struct zw_txt *b);
/* Display a value for people: printable ASCII as is, other bytes as \DDD, invisible or
 * confusable code points as <U+200B ZERO WIDTH SPACE>. */
int zw_txt_display(struct zw_buf *out, const char *v, size_t len);
int zw_txt_copy(struct zw_txt *out, const struct zw_txt *in);
void zw_txt_free(struct zw_txt *t);

#endif
