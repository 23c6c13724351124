/*
 * test_status.c - unit tests of a MailDomain's status (reconcile/status.c): the three
 * conditions and their reasons for each outcome, lastTransitionTime kept while a status
 * holds and moved when it flips, the findings capped at 20 with the count of all, the
 * last apply time carried over, and every condition valid by metav1.Condition's rules.
 */
#include "tests/unit/unit.h"

#include <regex.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "reconcile/status.h"

static const char *cond(const cJSON *st, const char *type, const char *field)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions"))
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "type");
		if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, field);
			return cJSON_IsString(v) ? v->valuestring : NULL;
		}
	}
	return NULL;
}

/* metav1.Condition (K8S.md): required fields, reason's pattern, status values. */
static void assert_valid_conditions(const cJSON *st)
{
	regex_t reason;
	assert_int_equal(regcomp(&reason, "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", REG_EXTENDED | REG_NOSUB), 0);
	const cJSON *c;
	int n = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions"))
	{
		const char *fields[] = {"type", "status", "lastTransitionTime", "reason", "message"};
		for (size_t i = 0; i < 5; i++)
			assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, fields[i])));
		const char *s = cJSON_GetObjectItemCaseSensitive(c, "status")->valuestring;
		assert_true(!strcmp(s, "True") || !strcmp(s, "False") || !strcmp(s, "Unknown"));
		assert_int_equal(regexec(&reason, cJSON_GetObjectItemCaseSensitive(c, "reason")->valuestring, 0, NULL, 0),
				 0);
		assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "observedGeneration")));
		n++;
	}
	assert_int_equal(n, 3);
	regfree(&reason);
}

static void in_sync(void **state)
{
	(void)state;
	struct zw_status_input in = {.generation = 4};
	cJSON *st = zw_status_build(&in, NULL, "2026-11-23T10:00:00Z");
	assert_non_null(st);
	assert_valid_conditions(st);
	assert_string_equal(cond(st, "Ready", "status"), "True");
	assert_string_equal(cond(st, "InSync", "reason"), "RecordsInSync");
	assert_string_equal(cond(st, "Delegated", "status"), "True");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "observedGeneration")->valuedouble, 4);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "pendingChanges")->valuedouble, 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(st, "lastApplyTime"));
	cJSON_Delete(st);
}

static void outcomes(void **state)
{
	(void)state;
	struct {
		struct zw_status_input in;
		const char *ready, *ready_reason, *deleg, *sync, *sync_reason;
	} cases[] = {
		{{.invalid = "m:1:2: spec.ttl: bad"}, "Unknown", "InvalidSpec", "Unknown", "Unknown", "InvalidSpec"},
		{{.provider_error = "route53: denied"}, "Unknown", "ProviderError", "Unknown", "False", "ProviderError"},
		{{.not_delegated = "the parent delegates elsewhere"}, "False", "NotDelegated", "False", "False",
		 "NotDelegated"},
		{{.pending = 3, .dry_run = 1}, "False", "ChangesPending", "True", "False", "ChangesPending"},
		{{.verify_timed_out = 1}, "False", "VerifyPending", "True", "False", "VerifyPending"},
		{{.deleting = 1}, "False", "Deleting", "True", "True", "RecordsInSync"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *st = zw_status_build(&cases[i].in, NULL, "2026-11-23T10:00:00Z");
		assert_non_null(st);
		assert_valid_conditions(st);
		/* Ready is False whenever something is wrong (Unknown only mirrors a cause) */
		const char *ready = cond(st, "Ready", "status");
		assert_true(strcmp(ready, "True") != 0);
		assert_string_equal(cond(st, "Ready", "reason"), cases[i].ready_reason);
		assert_string_equal(cond(st, "Delegated", "status"), cases[i].deleg);
		assert_string_equal(cond(st, "InSync", "status"), cases[i].sync);
		assert_string_equal(cond(st, "InSync", "reason"), cases[i].sync_reason);
		cJSON_Delete(st);
	}
	struct zw_status_input in = {.pending = 3, .dry_run = 1};
	cJSON *st = zw_status_build(&in, NULL, "2026-11-23T10:00:00Z");
	assert_string_equal(cond(st, "InSync", "message"), "3 changes pending (dry run: nothing is written)");
	cJSON_Delete(st);
}

static void transition_times(void **state)
{
	(void)state;
	struct zw_status_input ok = {.generation = 1}, bad = {.generation = 2, .pending = 1};
	cJSON *s1 = zw_status_build(&ok, NULL, "2026-11-23T10:00:00Z");
	/* the same statuses an hour later: the times hold */
	cJSON *s2 = zw_status_build(&ok, s1, "2026-11-23T11:00:00Z");
	assert_string_equal(cond(s2, "Ready", "lastTransitionTime"), "2026-11-23T10:00:00Z");
	/* InSync flips: its time (and Ready's) moves, Delegated's holds */
	cJSON *s3 = zw_status_build(&bad, s2, "2026-11-23T12:00:00Z");
	assert_string_equal(cond(s3, "InSync", "lastTransitionTime"), "2026-11-23T12:00:00Z");
	assert_string_equal(cond(s3, "Ready", "lastTransitionTime"), "2026-11-23T12:00:00Z");
	assert_string_equal(cond(s3, "Delegated", "lastTransitionTime"), "2026-11-23T10:00:00Z");
	assert_string_equal(zw_status_condition(s3, "InSync"), "False");
	cJSON_Delete(s1);
	cJSON_Delete(s2);
	cJSON_Delete(s3);
}

static void findings_capped(void **state)
{
	(void)state;
	struct zw_findings fs = {0};
	for (int i = 0; i < 30; i++) {
		struct zw_finding *f = zw_findings_add(&fs, i < 2 ? "SP-09" : "DM-12", -1, "finding %d", i);
		assert_non_null(f);
		assert_int_equal(zw_finding_set(f, ZW_F_NAME, "example.com."), 0);
	}
	zw_findings_sort(&fs);
	struct zw_status_input in = {.findings = &fs, .last_apply_time = "2026-11-23T09:00:00Z"};
	cJSON *st = zw_status_build(&in, NULL, "2026-11-23T10:00:00Z");
	cJSON *list = cJSON_GetObjectItemCaseSensitive(st, "findings");
	assert_int_equal(cJSON_GetArraySize(list), ZW_STATUS_MAX_FINDINGS);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "findingsCount")->valuedouble, 30);
	const cJSON *first = cJSON_GetArrayItem(list, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "id")->valuestring, "SP-09");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "code")->valuestring, "SPF_TOO_MANY_LOOKUPS");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "name")->valuestring, "example.com.");
	/* SP-09 is an error: Ready is False and says which */
	assert_string_equal(cond(st, "Ready", "reason"), "FindingsPresent");
	assert_non_null(strstr(cond(st, "Ready", "message"), "SP-09"));
	/* the last apply time is carried when this cycle applied nothing */
	struct zw_status_input later = {0};
	cJSON *st2 = zw_status_build(&later, st, "2026-11-23T11:00:00Z");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st2, "lastApplyTime")->valuestring,
			    "2026-11-23T09:00:00Z");
	cJSON_Delete(st);
	cJSON_Delete(st2);
	zw_findings_free(&fs);
}

static void rfc3339(void **state)
{
	(void)state;
	char out[40];
	zw_rfc3339(out, sizeof(out), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	zw_rfc3339(out, sizeof(out), 1795435200);
	assert_string_equal(out, "2026-11-23T12:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_sync),	    cmocka_unit_test(outcomes), cmocka_unit_test(transition_times),
		cmocka_unit_test(findings_capped), cmocka_unit_test(rfc3339),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
