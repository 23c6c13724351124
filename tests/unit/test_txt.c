/*
 * test_txt.c - unit tests of the TXT data model (reconcile/txt.c): building, RFC 1035
 * presentation parsing and printing, Route 53 octal decoding, display, and round-trip
 * properties over random byte strings (seeded, deterministic).
 */
#include "tests/unit/unit.h"

#include <stdio.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/txt.h"

/* Parse s, expect success, compare with the expected strings. */
static void expect_parse(const char *s, size_t slen, const char *const *want, const size_t *wl, size_t wn)
{
	struct zw_txt t;
	struct zw_error err = {0};
	assert_int_equal(zw_txt_parse_presentation(&t, s, slen, &err), 0);
	assert_int_equal(t.n, wn);
	size_t at = 0, total = 0;
	for (size_t i = 0; i < wn; i++) {
		assert_int_equal(t.lens[i], wl[i]);
		assert_memory_equal(t.data + at, want[i], wl[i] ? wl[i] : 1);
		at += wl[i];
		total += wl[i];
	}
	assert_int_equal(t.len, total);
	assert_int_equal(t.data[t.len], '\0');
	zw_txt_free(&t);
}

static void expect_parse_error(const char *s, unsigned col, const char *msg_part)
{
	struct zw_txt t;
	struct zw_error err = {0};
	assert_int_equal(zw_txt_parse_presentation(&t, s, strlen(s), &err), ZW_EINVAL);
	assert_int_equal(err.col, col);
	if (!strstr(err.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
	assert_null(t.data);
	assert_int_equal(t.n, 0);
}

static void parse_quoted_and_unquoted(void **state)
{
	(void)state;
	{
		const char *w[] = {"v=spf1 -all"};
		size_t l[] = {11};
		expect_parse("\"v=spf1 -all\"", 13, w, l, 1);
	}
	{
		const char *w[] = {"a", "b c", "d"};
		size_t l[] = {1, 3, 1};
		expect_parse("  a\t\"b c\"\r\n d  ", 15, w, l, 3);
	}
	{
		const char *w[] = {""};
		size_t l[] = {0};
		expect_parse("\"\"", 2, w, l, 1);
	}
	{
		/* \X and \DDD in both forms; (, ) and ; are data here (RFC 1035 §5.1 grouping and
		 * comments belong to the zone-file reader) */
		const char *w[] = {"A\"\\", "x;y(z)", "\x01\xff"};
		size_t l[] = {3, 6, 2};
		expect_parse("\"\\065\\\"\\\\\" x\\;y(z) \\001\\255", 27, w, l, 3);
	}
	{
		/* U+200B in a zone file: decimal bytes */
		const char *w[] = {"_spf.\xe2\x80\x8bwp"};
		size_t l[] = {10};
		expect_parse("\"_spf.\\226\\128\\139wp\"", 21, w, l, 1);
	}
	{
		/* NUL and high bytes are data; input may hold a NUL */
		const char *w[] = {"a\0b"};
		size_t l[] = {3};
		expect_parse("\"a\\000b\"", 8, w, l, 1);
		const char raw[] = {'"', 'a', '\0', 'b', '"'};
		expect_parse(raw, 5, w, l, 1);
	}
}

static void parse_errors_with_column(void **state)
{
	(void)state;
	expect_parse_error("\"abc", 1, "unterminated quoted string");
	expect_parse_error("x \"abc\\\"", 3, "unterminated quoted string");
	expect_parse_error("\"a\"b", 4, "missing space after a closing quote");
	expect_parse_error("ab\"c", 3, "quote inside an unquoted string");
	expect_parse_error("\"\\256\"", 2, "over 255");
	expect_parse_error("\"\\12\"", 2, "three decimal digits");
	expect_parse_error("\\1", 1, "three decimal digits");
	expect_parse_error("abc\\", 4, "backslash at the end");
	expect_parse_error("", 1, "no character-string");
	expect_parse_error("  \t ", 5, "no character-string");

	char long_s[300];
	long_s[0] = ' ';
	long_s[1] = '"';
	memset(long_s + 2, 'a', 256);
	long_s[258] = '"';
	long_s[259] = '\0';
	expect_parse_error(long_s, 2, "character-string of 256 octets");
	/* 255 is fine; escapes count as one octet */
	long_s[257] = '"';
	long_s[258] = '\0';
	struct zw_txt t;
	assert_int_equal(zw_txt_parse_presentation(&t, long_s, strlen(long_s), NULL), 0);
	assert_int_equal(t.lens[0], 255);
	zw_txt_free(&t);
}

static void print_escapes(void **state)
{
	(void)state;
	const char *strs[] = {"v=spf1 \"q\" \\", "\x00\x1f\x7f\x80\xff~ ", ""};
	size_t lens[] = {12, 7, 0};
	struct zw_txt t;
	assert_int_equal(zw_txt_from_strings(&t, strs, lens, 3), 0);
	struct zw_buf b = ZW_BUF_INIT;
	assert_int_equal(zw_txt_print_presentation(&b, &t), 0);
	assert_string_equal(zw_buf_str(&b), "\"v=spf1 \\\"q\\\" \\\\\" \"\\000\\031\\127\\128\\255~ \" \"\"");
	/* and back */
	struct zw_txt back;
	assert_int_equal(zw_txt_parse_presentation(&back, b.p, b.len, NULL), 0);
	assert_true(zw_txt_equal(&t, &back));
	zw_txt_free(&back);
	zw_buf_free(&b);
	zw_txt_free(&t);
}

static void from_value_splits_at_255(void **state)
{
	(void)state;
	static const struct {
		size_t len, n, last;
	} cases[] = {
		{0, 1, 0}, {1, 1, 1}, {255, 1, 255}, {256, 2, 1}, {410, 2, 155}, {510, 2, 255}, {511, 3, 1},
	};
	char v[600];
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (char)('a' + i % 26);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct zw_txt t;
		assert_int_equal(zw_txt_from_value(&t, v, cases[c].len), 0);
		assert_int_equal(t.n, cases[c].n);
		assert_int_equal(t.len, cases[c].len);
		assert_int_equal(t.lens[t.n - 1], cases[c].last);
		for (size_t i = 0; i + 1 < t.n; i++)
			assert_int_equal(t.lens[i], 255);
		if (cases[c].len)
			assert_memory_equal(t.data, v, cases[c].len);
		zw_txt_free(&t);
	}
}

static void equality(void **state)
{
	(void)state;
	const char *a[] = {"v=spf1 ", "-all"};
	const char *b[] = {"v=spf1 -all"};
	const char *c[] = {"v=spf1", " -all"};
	size_t al[] = {7, 4}, bl[] = {11}, cl[] = {6, 5};
	struct zw_txt ta, tb, tc, td;
	assert_int_equal(zw_txt_from_strings(&ta, a, al, 2), 0);
	assert_int_equal(zw_txt_from_strings(&tb, b, bl, 1), 0);
	assert_int_equal(zw_txt_from_strings(&tc, c, cl, 2), 0);
	assert_int_equal(zw_txt_copy(&td, &ta), 0);
	assert_false(zw_txt_equal(&ta, &tb));
	assert_false(zw_txt_equal(&ta, &tc));
	assert_true(zw_txt_equal(&ta, &td));
	assert_true(zw_txt_value_equal(&ta, &tb));
	assert_true(zw_txt_value_equal(&ta, &tc));
	zw_txt_free(&ta);
	zw_txt_free(&tb);
	zw_txt_free(&tc);
	zw_txt_free(&td);
	zw_txt_free(NULL);

	struct zw_txt empty;
	assert_int_equal(zw_txt_from_strings(&empty, NULL, NULL, 0), 0);
	assert_int_equal(empty.n, 0);
	assert_int_equal(empty.len, 0);
	assert_string_equal(empty.data, "");
	zw_txt_free(&empty);
}

static void octal_and_decimal_are_the_same_bytes(void **state)
{
	(void)state;
	/* Route 53 returns U+200B as \342\200\213 (octal); a zone file has \226\128\139 */
	const char *r53 = "v=spf1 include:_spf.\\342\\200\\213wpcloud.com ~all";
	struct zw_buf oct = ZW_BUF_INIT;
	struct zw_error err = {0};
	assert_int_equal(zw_txt_decode_octal(&oct, r53, strlen(r53), &err), 0);
	struct zw_txt dec;
	const char *zone = "\"v=spf1 include:_spf.\\226\\128\\139wpcloud.com ~all\"";
	assert_int_equal(zw_txt_parse_presentation(&dec, zone, strlen(zone), &err), 0);
	assert_int_equal(oct.len, dec.len);
	assert_memory_equal(oct.p, dec.data, dec.len);
	assert_memory_equal(oct.p + 20, "\xe2\x80\x8b", 3);
	zw_txt_free(&dec);

	/* \" and \\ and any \X; the output is appended to */
	zw_buf_reset(&oct);
	assert_int_equal(zw_buf_adds(&oct, ">"), 0);
	assert_int_equal(zw_txt_decode_octal(&oct, "\\\"a\\\\b\\;\\040\\000\\377", 20, &err), 0);
	assert_int_equal(oct.len, 9);
	assert_memory_equal(oct.p, ">\"a\\b; \0\xff", 9);
	zw_buf_free(&oct);
}

static void octal_errors(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		unsigned col;
	} bad[] = {
		{"ab\\400", 3}, {"\\38x", 1}, {"\\12", 1}, {"x\\9", 2}, {"abc\\", 4}, {"\\0a1", 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zw_buf b = ZW_BUF_INIT;
		struct zw_error err = {0};
		assert_int_equal(zw_buf_adds(&b, "keep"), 0);
		assert_int_equal(zw_txt_decode_octal(&b, bad[i].in, strlen(bad[i].in), &err), ZW_EINVAL);
		assert_int_equal(err.col, bad[i].col);
		assert_string_equal(zw_buf_str(&b), "keep");
		zw_buf_free(&b);
	}
}

static void display_names_invisible_code_points(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{"v=spf1 -all", 11, "v=spf1 -all"},
		{"a\\b", 3, "a\\\\b"},
		{"_spf.\xe2\x80\x8bwp", 10, "_spf.<U+200B ZERO WIDTH SPACE>wp"},
		{"v=DMARC1\xef\xbc\x9b p", 13, "v=DMARC1<U+FF1B FULLWIDTH SEMICOLON> p"},
		{"\xef\xbb\xbfv", 4, "<U+FEFF ZERO WIDTH NO-BREAK SPACE>v"},
		{"a\xc2\xa0"
		 "b",
		 4, "a<U+00A0 NO-BREAK SPACE>b"},
		{"\xe3\x80\x80", 3, "<U+3000 IDEOGRAPHIC SPACE>"},
		{"\xe2\x80\x93"
		 "all",
		 6, "<U+2013 EN DASH>all"},
		{"caf\xc3\xa9", 5, "caf\\195\\169"},
		{"\xff\x0a\x00\x7f", 4, "\\255\\010\\000\\127"},
		{"\xc2\x85", 2, "<U+0085 NEXT LINE>"},
		{"\xc2\x81", 2, "\\194\\129"},
		{"\xe2\x80", 2, "\\226\\128"},
		{"\"q\"", 3, "\"q\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_buf b = ZW_BUF_INIT;
		assert_int_equal(zw_txt_display(&b, cases[i].in, cases[i].len), 0);
		assert_string_equal(zw_buf_str(&b), cases[i].want);
		zw_buf_free(&b);
	}
}

/* xorshift64*: a seeded PRNG, so a failure reproduces. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* A random byte, biased towards the characters the syntax cares about. */
static char rnd_byte(uint64_t *s)
{
	static const char special[] = "\"\\ \t\r\n;()0123456789";
	uint64_t r = rnd(s);
	if (r % 4 == 0)
		return special[(r >> 8) % (sizeof(special) - 1)];
	return (char)(r >> 16);
}

static void property_print_parse_round_trip(void **state)
{
	(void)state;
	uint64_t seed = 0x5eed2024u;
	char buf[5 * 255];
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = 1 + rnd(&seed) % 5, lens[5];
		const char *strs[5];
		size_t at = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rnd(&seed);
			lens[i] = r % 3 == 0 ? 255 - (r >> 8) % 3 : (r >> 8) % 256;
			strs[i] = buf + at;
			for (size_t j = 0; j < lens[i]; j++)
				buf[at + j] = rnd_byte(&seed);
			at += lens[i];
		}
		struct zw_txt t, back;
		struct zw_buf p = ZW_BUF_INIT;
		struct zw_error err = {0};
		assert_int_equal(zw_txt_from_strings(&t, strs, lens, n), 0);
		assert_int_equal(zw_txt_print_presentation(&p, &t), 0);
		/* printable ASCII only, so it survives any transport */
		for (size_t i = 0; i < p.len; i++)
			assert_true(p.p[i] >= 0x20 && p.p[i] <= 0x7e);
		if (zw_txt_parse_presentation(&back, p.p, p.len, &err))
			fail_msg("iteration %d: %s at column %u", iter, err.msg, err.col);
		assert_true(zw_txt_equal(&t, &back));
		zw_txt_free(&back);
		zw_buf_free(&p);
		zw_txt_free(&t);
	}
}

static void property_from_value_joins_back(void **state)
{
	(void)state;
	uint64_t seed = 0xfeedbeefu;
	static char v[2000];
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = rnd(&seed) % sizeof(v);
		for (size_t i = 0; i < len; i++)
			v[i] = rnd_byte(&seed);
		struct zw_txt t;
		assert_int_equal(zw_txt_from_value(&t, v, len), 0);
		size_t total = 0;
		for (size_t i = 0; i < t.n; i++) {
			assert_true(t.lens[i] <= 255);
			if (i + 1 < t.n)
				assert_int_equal(t.lens[i], 255);
			total += t.lens[i];
		}
		assert_int_equal(total, len);
		assert_int_equal(t.len, len);
		assert_int_equal(t.n, len ? (len + 254) / 255 : 1);
		if (len)
			assert_memory_equal(t.data, v, len);
		/* display is pure printable ASCII */
		struct zw_buf d = ZW_BUF_INIT;
		assert_int_equal(zw_txt_display(&d, v, len), 0);
		for (size_t i = 0; i < d.len; i++)
			assert_true(d.p[i] >= 0x20 && d.p[i] <= 0x7e);
		zw_buf_free(&d);
		zw_txt_free(&t);
	}
}

static int alloc_body(void)
{
	const char *in = "\"v=DKIM1; p=MIIB\" \"kqh\\226\\128\\139\" unq\\;uoted";
	struct zw_txt t = {0}, c = {0}, v = {0};
	struct zw_buf b = ZW_BUF_INIT;
	int rc = zw_txt_parse_presentation(&t, in, strlen(in), NULL);
	if (!rc)
		rc = zw_txt_print_presentation(&b, &t);
	if (!rc)
		rc = zw_txt_copy(&c, &t);
	if (!rc)
		rc = zw_txt_from_value(&v, t.data, t.len);
	if (!rc)
		rc = zw_txt_display(&b, t.data, t.len);
	if (!rc)
		rc = zw_txt_decode_octal(&b, "\\342\\200\\213", 12, NULL);
	zw_txt_free(&t);
	zw_txt_free(&c);
	zw_txt_free(&v);
	zw_buf_free(&b);
	return rc;
}

static void survives_allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(alloc_body());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_quoted_and_unquoted),
		cmocka_unit_test(parse_errors_with_column),
		cmocka_unit_test(print_escapes),
		cmocka_unit_test(from_value_splits_at_255),
		cmocka_unit_test(equality),
		cmocka_unit_test(octal_and_decimal_are_the_same_bytes),
		cmocka_unit_test(octal_errors),
		cmocka_unit_test(display_names_invisible_code_points),
		cmocka_unit_test(property_print_parse_round_trip),
		cmocka_unit_test(property_from_value_joins_back),
		cmocka_unit_test(survives_allocation_failures),
	};
	return cmocka_run_group_tests_name("txt", tests, NULL, NULL);
}
