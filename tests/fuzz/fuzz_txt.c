/*
 * fuzz_txt.c - libFuzzer target for the TXT data model (reconcile/txt.c).
 *
 * The input is used four ways, each with a property that must hold:
 *  - as presentation text: if it parses, printing and parsing again gives equal data,
 *    every string is at most 255 octets, and the printed form is printable ASCII;
 *  - as a value: zw_txt_from_value joins back to it with every string at most 255;
 *  - cut into strings (the first byte picks the cut length): print then parse gives
 *    the same list back;
 *  - as a Route 53 string body: octal decoding never grows the data; display is ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/buf.h"
#include "reconcile/txt.h"

#define CHECK(c)                                                                                             \
	do {                                                                                                 \
		if (!(c))                                                                                    \
			abort();                                                                             \
	} while (0)

static void printable(const struct zw_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		CHECK(b->p[i] >= 0x20 && b->p[i] <= 0x7e);
}

/* print(t) parses back to t */
static void round_trip(const struct zw_txt *t)
{
	struct zw_buf p = ZW_BUF_INIT;
	struct zw_txt back;
	struct zw_error err = {0};
	CHECK(zw_txt_print_presentation(&p, t) == 0);
	printable(&p);
	if (t->n == 0) {
		zw_buf_free(&p);
		return;
	}
	CHECK(zw_txt_parse_presentation(&back, zw_buf_str(&p), p.len, &err) == 0);
	CHECK(zw_txt_equal(t, &back));
	zw_txt_free(&back);
	zw_buf_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct zw_txt t;
	struct zw_error err = {0};

	if (zw_txt_parse_presentation(&t, s, size, &err) == 0) {
		CHECK(t.n >= 1);
		size_t total = 0;
		for (size_t i = 0; i < t.n; i++) {
			CHECK(t.lens[i] <= 255);
			total += t.lens[i];
		}
		CHECK(total == t.len);
		CHECK(t.len <= size);
		round_trip(&t);
		zw_txt_free(&t);
	} else {
		CHECK(err.code == ZW_EINVAL);
		CHECK(err.col >= 1 && err.col <= size + 1);
		CHECK(t.data == NULL && t.n == 0);
	}

	CHECK(zw_txt_from_value(&t, s, size) == 0);
	CHECK(t.len == size && t.n == (size ? (size + 254) / 255 : 1));
	for (size_t i = 0, at = 0; i < t.n; at += t.lens[i], i++) {
		CHECK(t.lens[i] <= 255);
		CHECK(memcmp(t.data + at, s + at, t.lens[i]) == 0);
	}
	round_trip(&t);
	zw_txt_free(&t);

	if (size > 1) {
		size_t cut = data[0] % 64 + 1, n = 0;
		const char *strs[4096];
		size_t lens[4096];
		for (size_t at = 1; at < size && n < 4096; at += cut) {
			strs[n] = s + at;
			lens[n] = size - at < cut ? size - at : cut;
			n++;
		}
		CHECK(zw_txt_from_strings(&t, strs, lens, n) == 0);
		struct zw_txt copy;
		CHECK(zw_txt_copy(&copy, &t) == 0);
		CHECK(zw_txt_equal(&t, &copy) && zw_txt_value_equal(&t, &copy));
		round_trip(&t);
		zw_txt_free(&copy);
		zw_txt_free(&t);
	}

	struct zw_buf b = ZW_BUF_INIT;
	if (zw_txt_decode_octal(&b, s, size, &err) == 0)
		CHECK(b.len <= size);
	else
		CHECK(b.len == 0);
	zw_buf_free(&b);

	CHECK(zw_txt_display(&b, s, size) == 0);
	printable(&b);
	zw_buf_free(&b);
	return 0;
}
