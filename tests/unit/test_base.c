/*
 * test_base.c - unit tests of the base modules: alloc, error, buf, finding/catalogue.
 */
#include "tests/unit/unit.h"

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"

static void alloc_failure_injection(void **state)
{
	(void)state;
	zw_alloc_fail_at(2);
	void *a = zw_malloc(8);
	void *b = zw_malloc(8);
	void *c = zw_malloc(8);
	assert_non_null(a);
	assert_null(b);
	assert_non_null(c);
	assert_true(zw_alloc_failed());
	assert_int_equal(zw_alloc_count(), 3);
	zw_alloc_fail_at(0);
	zw_free(a);
	zw_free(c);
}

static void error_set_once(void **state)
{
	(void)state;
	struct zw_error err = {0};
	assert_int_equal(zw_error_set(&err, ZW_EINVAL, "first %d", 1), ZW_EINVAL);
	assert_int_equal(zw_error_set(&err, ZW_ENOMEM, "second"), ZW_ENOMEM);
	assert_string_equal(err.msg, "first 1");
	assert_int_equal(err.code, ZW_EINVAL);
	zw_error_clear(&err);
	zw_error_set_at(&err, ZW_EINVAL, "a.yaml", 3, 7, "spec.domain", "bad\nname");
	char line[1024];
	zw_error_format(line, sizeof(line), &err);
	assert_string_equal(line, "a.yaml:3:7: spec.domain: bad name");
	assert_true(zw_error_retryable(ZW_ERATE));
	assert_true(zw_error_retryable(ZW_ETRANSIENT));
	assert_false(zw_error_retryable(ZW_EINVAL));
}

static void buf_grows_and_caps(void **state)
{
	(void)state;
	struct zw_buf b = ZW_BUF_INIT;
	for (int i = 0; i < 100; i++)
		assert_int_equal(zw_buf_addf(&b, "%03d", i), 0);
	assert_int_equal(b.len, 300);
	assert_memory_equal(b.p + 297, "099", 3);
	zw_buf_free(&b);

	struct zw_buf small = {NULL, 0, 0, 8};
	assert_int_equal(zw_buf_adds(&small, "1234567"), 0);
	assert_int_equal(zw_buf_adds(&small, "8"), ZW_EINVAL);
	assert_string_equal(zw_buf_str(&small), "1234567");
	zw_buf_free(&small);

	struct zw_buf big = ZW_BUF_INIT;
	char long_s[600];
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	assert_int_equal(zw_buf_addf(&big, "<%s>", long_s), 0);
	assert_int_equal(big.len, 601);
	char *d = zw_buf_detach(&big);
	assert_int_equal(strlen(d), 601);
	zw_free(d);
}

static void catalogue_is_complete(void **state)
{
	(void)state;
	size_t n;
	const struct zw_class *t = zw_class_table(&n);
	assert_true(n >= 136);
	for (size_t i = 0; i < n; i++) {
		/* ids and codes are unique */
		for (size_t j = i + 1; j < n; j++) {
			assert_string_not_equal(t[i].id, t[j].id);
			assert_string_not_equal(t[i].code, t[j].code);
		}
		assert_ptr_equal(zw_class_find(t[i].id), &t[i]);
		assert_ptr_equal(zw_class_find(t[i].code), &t[i]);
	}
	assert_string_equal(zw_class_find("SP-09")->code, "SPF_TOO_MANY_LOOKUPS");
	assert_int_equal(zw_class_find("DL-01")->severity, ZW_SEV_CRITICAL);
	assert_int_equal(zw_severity_parse("Warning"), ZW_SEV_WARNING);
	assert_int_equal(zw_severity_parse("bogus"), -1);
}

static void findings_list(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	assert_non_null(zw_findings_add(&fs, "DM-05", -1, "p absent"));
	assert_non_null(zw_findings_add(&fs, "TX-01", 0, "leading space"));
	struct zw_loc loc = {"m.yaml", 4, 5};
	assert_int_equal(zw_findings_context(&fs, 1, "example.com", "_dmarc.example.com.", "TXT",
					     " v=DMARC1", &loc), 0);
	assert_null(fs.v[0].domain);
	assert_string_equal(fs.v[1].domain, "example.com");
	assert_int_equal(fs.v[1].loc.line, 4);
	assert_int_equal(zw_findings_max(&fs), ZW_SEV_ERROR);
	zw_findings_sort(&fs);
	assert_string_equal(fs.v[0].cls->id, "DM-05"); /* no domain sorts first */
	assert_true(zw_findings_has(&fs, 0, "TX-01"));
	zw_findings_drop(&fs, 0, "TX-01");
	assert_int_equal(fs.n, 1);
	zw_findings_free(&fs);
}

static int add_three(void)
{
	struct zw_findings fs = {0};
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		struct zw_finding *f = zw_findings_add(&fs, "SP-02", -1, "two records");
		if (!f || zw_finding_setf(f, ZW_F_FIX, "delete %d", i))
			rc = ZW_ENOMEM;
	}
	zw_findings_free(&fs);
	return rc;
}

static void findings_alloc_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(add_three());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alloc_failure_injection),
		cmocka_unit_test(error_set_once),
		cmocka_unit_test(buf_grows_and_caps),
		cmocka_unit_test(catalogue_is_complete),
		cmocka_unit_test(findings_list),
		cmocka_unit_test(findings_alloc_failures),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
