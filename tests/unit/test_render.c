/*
 * test_render.c - unit tests of the four output formats: exact text for a small report,
 * escaping that no content can break (markdown tables, github workflow commands), and
 * json that parses back with cJSON and carries every field.
 */
#include "tests/unit/unit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "reconcile/render.h"

static char *render(enum zw_format fmt, const struct zw_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(zw_render(f, fmt, r, 0), 0);
	fclose(f);
	return buf;
}

static void one_finding(struct zw_findings *fs)
{
	struct zw_finding *f = zw_findings_add(fs, "TX-06", 8, "full-width ; at offset 8");
	assert_non_null(f);
	zw_finding_set(f, ZW_F_DOMAIN, "example.com");
	zw_finding_set(f, ZW_F_NAME, "_dmarc.example.com.");
	zw_finding_set(f, ZW_F_TYPE, "TXT");
	zw_finding_set(f, ZW_F_OBSERVED, "v=DMARC1<U+FF1B FULLWIDTH SEMICOLON> p=reject|`x`");
	zw_finding_set(f, ZW_F_FIX, "set _dmarc.example.com. TXT \"v=DMARC1; p=reject\"");
	f->loc.file = "m/a,b:c.yaml";
	f->loc.line = 12;
	f->loc.col = 5;
}

static void text_and_counts(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	one_finding(&fs);
	const char *domains[] = {"example.com"};
	struct zw_report r = {.command = "lint", .domains = domains, .ndomains = 1, .findings = &fs};
	char *out = render(ZW_OUT_TEXT, &r);
	assert_string_equal(out,
		"example.com\n"
		"  ERROR    TX-06 TXT_FULLWIDTH_CHARACTER  _dmarc.example.com. TXT\n"
		"           full-width ; at offset 8\n"
		"           observed: v=DMARC1<U+FF1B FULLWIDTH SEMICOLON> p=reject|`x`\n"
		"           fix:      set _dmarc.example.com. TXT \"v=DMARC1; p=reject\"\n"
		"           at m/a,b:c.yaml:12:5\n"
		"lint: 1 domain, 1 finding (0 critical, 1 error, 0 warning, 0 notice, 0 info)\n");
	free(out);
	zw_findings_free(&fs);
}

static void github_escapes_properties_and_data(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	one_finding(&fs);
	zw_finding_set(&fs.v[0], ZW_F_MESSAGE, "100% wrong\nsecond line");
	struct zw_report r = {.command = "lint", .findings = &fs};
	char *out = render(ZW_OUT_GITHUB, &r);
	assert_non_null(strstr(out, "::error file=m/a%2Cb%3Ac.yaml,line=12,col=5,title=TX-06 TXT_FULLWIDTH_CHARACTER::"));
	assert_non_null(strstr(out, "100%25 wrong%0Asecond line"));
	size_t lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1); /* the message's newline cannot start a new command */
	free(out);
	zw_findings_free(&fs);
}

static void markdown_cannot_break_the_table(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	one_finding(&fs);
	const char *domains[] = {"example.com"};
	struct zw_report r = {.command = "plan", .domains = domains, .ndomains = 1, .findings = &fs};
	char *out = render(ZW_OUT_MARKDOWN, &r);
	assert_non_null(strstr(out, "| `example.com` | 0 | 1 | 0 | 0 | 0 |\n"));
	/* the pipe and the backticks of the observed value are neutralised */
	assert_non_null(strstr(out, "  - observed: `v=DMARC1<U+FF1B FULLWIDTH SEMICOLON> p=reject\\|'x'`\n"));
	assert_non_null(strstr(out, "(`m/a,b:c.yaml:12`)"));
	free(out);
	zw_findings_free(&fs);
}

static void json_round_trips(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	one_finding(&fs);
	struct zw_error e = {0};
	zw_error_set_at(&e, ZW_EINVAL, "m/d.yaml", 3, 4, "spec.ttl", "expected an integer");
	const char *domains[] = {"example.com", "example.org"};
	struct zw_report r = {.command = "validate", .domains = domains, .ndomains = 2, .findings = &fs, .errors = &e, .nerrors = 1};
	char *out = render(ZW_OUT_JSON, &r);
	cJSON *root = cJSON_Parse(out);
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "schema")->valuestring, ZW_JSON_SCHEMA);
	cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "findings"), 0);
	assert_string_equal(cJSON_GetObjectItem(f, "id")->valuestring, "TX-06");
	assert_string_equal(cJSON_GetObjectItem(f, "code")->valuestring, "TXT_FULLWIDTH_CHARACTER");
	assert_int_equal(cJSON_GetObjectItem(f, "offset")->valueint, 8);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "manifest"), "line")->valueint, 12);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "servers")));
	cJSON *d1 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "domains"), 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(d1, "level_counts"), "ERROR")->valueint, 0);
	cJSON *err = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "errors"), 0);
	assert_string_equal(cJSON_GetObjectItem(err, "path")->valuestring, "spec.ttl");
	cJSON_Delete(root);
	free(out);
	zw_findings_free(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_and_counts),
		cmocka_unit_test(github_escapes_properties_and_data),
		cmocka_unit_test(markdown_cannot_break_the_table),
		cmocka_unit_test(json_round_trips),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
