/*
 * test_lease.c - unit tests of leader election's pure parts (reconcile/lease.h): the
 * decision of tryAcquireOrRenew on a fake monotonic clock (a fresh lease, a lease held
 * by another and not expired, one expired by local observation only, a renewal, a
 * takeover, a released lease), the records written, the option checks, the jitter and
 * the MicroTime format. The elector against a real API server is tests/integration/
 * lease.test.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "reconcile/error.h"
#include "reconcile/lease.h"

#define DUR 15000u

static struct zw_lease_record rec(const char *holder, long dur, const char *acq, const char *renew, long tr)
{
	struct zw_lease_record r = {0};
	r.holder = zw_strdup(holder);
	r.duration_s = dur;
	r.acquire_time = acq ? zw_strdup(acq) : NULL;
	r.renew_time = renew ? zw_strdup(renew) : NULL;
	r.transitions = tr;
	return r;
}

static enum zw_lease_verdict decide(struct zw_lease_observation *obs, const struct zw_lease_record *r,
				    const char *me, uint64_t now)
{
	enum zw_lease_verdict v;
	struct zw_error err = {0};
	assert_int_equal(zw_lease_decide(&v, obs, r, me, DUR, now, &err), 0);
	return v;
}

static void fresh_lease(void **state)
{
	(void)state;
	struct zw_lease_record out = {0};
	struct zw_error err = {0};
	/* 404 -> POST: holder me, both times now, transitions 0 */
	assert_int_equal(
		zw_lease_next(&out, NULL, ZW_LEASE_TAKEOVER, "me_1", 15, "2026-11-23T12:00:00.000001Z", &err),
		0);
	assert_string_equal(out.holder, "me_1");
	assert_int_equal(out.duration_s, 15);
	assert_string_equal(out.acquire_time, "2026-11-23T12:00:00.000001Z");
	assert_string_equal(out.renew_time, "2026-11-23T12:00:00.000001Z");
	assert_int_equal(out.transitions, 0);
	zw_lease_record_free(&out);

	/* a lease that exists with no holder (created empty, or released) is taken at once */
	struct zw_lease_observation obs = {0};
	struct zw_lease_record empty = rec("", 0, NULL, NULL, 0);
	assert_int_equal(decide(&obs, &empty, "me_1", 100), ZW_LEASE_TAKEOVER);
	assert_int_equal(obs.observed_ms, 100);
	zw_lease_record_free(&empty);
	zw_lease_observation_free(&obs);

	/* a follower writes nothing */
	assert_int_equal(zw_lease_next(&out, NULL, ZW_LEASE_FOLLOW, "me_1", 15, "x", &err), ZW_EINVAL);
}

static void held_by_another_not_expired(void **state)
{
	(void)state;
	struct zw_lease_observation obs = {0};
	struct zw_lease_record r =
		rec("other_9", 15, "2026-11-23T11:00:00.000000Z", "2026-11-23T11:00:10.000000Z", 2);
	assert_int_equal(decide(&obs, &r, "me_1", 1000), ZW_LEASE_FOLLOW);
	assert_int_equal(obs.observed_ms, 1000);
	assert_string_equal(obs.rec.holder, "other_9");
	/* the same record read again: the observation time stays where it was */
	assert_int_equal(decide(&obs, &r, "me_1", 5000), ZW_LEASE_FOLLOW);
	assert_int_equal(decide(&obs, &r, "me_1", 1000 + DUR - 1), ZW_LEASE_FOLLOW);
	assert_int_equal(obs.observed_ms, 1000);

	/* the holder renews (renewTime changes): observed again, the wait starts over */
	struct zw_lease_record r2 =
		rec("other_9", 15, "2026-11-23T11:00:00.000000Z", "2026-11-23T11:00:12.000000Z", 2);
	assert_int_equal(decide(&obs, &r2, "me_1", 1000 + DUR - 1), ZW_LEASE_FOLLOW);
	assert_int_equal(obs.observed_ms, 1000 + DUR - 1);
	assert_int_equal(decide(&obs, &r2, "me_1", 1000 + DUR + 5000), ZW_LEASE_FOLLOW);

	/* a renewTime years in the past (a skewed clock) means nothing: the record was only
	 * just observed, so it is not expired */
	struct zw_lease_observation obs2 = {0};
	struct zw_lease_record old =
		rec("other_9", 15, "2001-01-01T00:00:00.000000Z", "2001-01-01T00:00:00.000000Z", 0);
	assert_int_equal(decide(&obs2, &old, "me_1", 7), ZW_LEASE_FOLLOW);

	zw_lease_record_free(&r);
	zw_lease_record_free(&r2);
	zw_lease_record_free(&old);
	zw_lease_observation_free(&obs);
	zw_lease_observation_free(&obs2);
}

static void expired_by_local_observation(void **state)
{
	(void)state;
	struct zw_lease_observation obs = {0};
	/* renewTime in the future (a skewed clock) does not keep it alive either */
	struct zw_lease_record r =
		rec("other_9", 15, "2099-01-01T00:00:00.000000Z", "2099-01-01T00:00:00.000000Z", 4);
	assert_int_equal(decide(&obs, &r, "me_1", 2000), ZW_LEASE_FOLLOW);
	assert_int_equal(decide(&obs, &r, "me_1", 2000 + DUR - 1), ZW_LEASE_FOLLOW);
	/* unchanged for the whole duration: observed + duration > now is false */
	assert_int_equal(decide(&obs, &r, "me_1", 2000 + DUR), ZW_LEASE_TAKEOVER);
	assert_int_equal(decide(&obs, &r, "me_1", 2000 + DUR + 60000), ZW_LEASE_TAKEOVER);
	assert_int_equal(obs.observed_ms, 2000);

	/* a second candidate that starts watching late must wait its own full duration */
	struct zw_lease_observation late = {0};
	assert_int_equal(decide(&late, &r, "me_2", 2000 + DUR), ZW_LEASE_FOLLOW);
	assert_int_equal(decide(&late, &r, "me_2", 2000 + 2 * DUR), ZW_LEASE_TAKEOVER);
	zw_lease_record_free(&r);
	zw_lease_observation_free(&obs);
	zw_lease_observation_free(&late);
}

static void renewal_keeps_acquire_and_transitions(void **state)
{
	(void)state;
	struct zw_error err = {0};
	struct zw_lease_observation obs = {0};
	struct zw_lease_record mine =
		rec("me_1", 15, "2026-11-23T12:00:00.000000Z", "2026-11-23T12:00:00.000000Z", 3);
	/* we wrote it (observe_own), then read it back */
	assert_int_equal(zw_lease_observe_own(&obs, &mine, 500, &err), 0);
	assert_int_equal(obs.observed_ms, 500);
	assert_int_equal(decide(&obs, &mine, "me_1", 2500), ZW_LEASE_RENEW);
	/* our own lease is renewed even long after the duration (we are the holder) */
	assert_int_equal(decide(&obs, &mine, "me_1", 2500 + 10 * DUR), ZW_LEASE_RENEW);

	struct zw_lease_record next = {0};
	assert_int_equal(
		zw_lease_next(&next, &mine, ZW_LEASE_RENEW, "me_1", 15, "2026-11-23T12:00:02.000000Z", &err),
		0);
	assert_string_equal(next.holder, "me_1");
	assert_string_equal(next.acquire_time, "2026-11-23T12:00:00.000000Z");
	assert_string_equal(next.renew_time, "2026-11-23T12:00:02.000000Z");
	assert_int_equal(next.transitions, 3);
	assert_int_equal(next.duration_s, 15);

	/* someone else wrote the lease meanwhile: not ours any more */
	struct zw_lease_record theirs =
		rec("other_9", 15, "2026-11-23T12:00:03.000000Z", "2026-11-23T12:00:03.000000Z", 4);
	assert_int_equal(decide(&obs, &theirs, "me_1", 2600), ZW_LEASE_FOLLOW);
	zw_lease_record_free(&mine);
	zw_lease_record_free(&next);
	zw_lease_record_free(&theirs);
	zw_lease_observation_free(&obs);
}

static void takeover_increments_transitions(void **state)
{
	(void)state;
	struct zw_error err = {0};
	struct zw_lease_record old =
		rec("other_9", 15, "2026-11-23T11:00:00.000000Z", "2026-11-23T11:00:05.000000Z", 6);
	struct zw_lease_record next = {0};
	assert_int_equal(
		zw_lease_next(&next, &old, ZW_LEASE_TAKEOVER, "me_1", 3, "2026-11-23T12:00:00.123456Z", &err),
		0);
	assert_string_equal(next.holder, "me_1");
	assert_int_equal(next.transitions, 7);
	assert_string_equal(next.acquire_time, "2026-11-23T12:00:00.123456Z");
	assert_string_equal(next.renew_time, "2026-11-23T12:00:00.123456Z");
	assert_int_equal(next.duration_s, 3);

	/* the JSON written carries the five fields */
	cJSON *j = zw_lease_record_json(&next);
	assert_non_null(j);
	char *s = cJSON_PrintUnformatted(j);
	assert_string_equal(s,
			    "{\"holderIdentity\":\"me_1\",\"leaseDurationSeconds\":3,\"acquireTime\":"
			    "\"2026-11-23T12:00:00.123456Z\",\"renewTime\":\"2026-11-23T12:00:00.123456Z\","
			    "\"leaseTransitions\":7}");
	/* and reads back the same */
	struct zw_lease_record back = {0};
	assert_int_equal(zw_lease_record_parse(&back, j, &err), 0);
	assert_string_equal(back.holder, "me_1");
	assert_int_equal(back.transitions, 7);
	assert_int_equal(back.duration_s, 3);
	assert_string_equal(back.acquire_time, next.acquire_time);
	cJSON_free(s);
	cJSON_Delete(j);
	zw_lease_record_free(&back);
	zw_lease_record_free(&old);
	zw_lease_record_free(&next);

	/* a spec without fields reads as a free lease */
	struct zw_lease_record none = {0};
	assert_int_equal(zw_lease_record_parse(&none, NULL, &err), 0);
	assert_string_equal(none.holder, "");
	assert_null(none.renew_time);
	zw_lease_record_free(&none);
	cJSON *arr = cJSON_CreateArray();
	assert_int_equal(zw_lease_record_parse(&none, arr, &err), ZW_EINVAL);
	cJSON_Delete(arr);
}

static void release_record(void **state)
{
	(void)state;
	struct zw_error err = {0};
	struct zw_lease_record cur =
		rec("me_1", 15, "2026-11-23T12:00:00.000000Z", "2026-11-23T12:00:10.000000Z", 5);
	struct zw_lease_record rel = {0};
	assert_int_equal(zw_lease_release_record(&rel, &cur, "2026-11-23T12:00:11.000000Z", &err), 0);
	assert_string_equal(rel.holder, "");
	assert_int_equal(rel.duration_s, 1);
	assert_int_equal(rel.transitions, 5);
	assert_string_equal(rel.acquire_time, "2026-11-23T12:00:11.000000Z");
	assert_string_equal(rel.renew_time, "2026-11-23T12:00:11.000000Z");

	/* a follower that saw the old holder a moment ago takes a released lease at once */
	struct zw_lease_observation obs = {0};
	assert_int_equal(decide(&obs, &cur, "other_9", 1000), ZW_LEASE_FOLLOW);
	assert_int_equal(decide(&obs, &rel, "other_9", 1001), ZW_LEASE_TAKEOVER);
	struct zw_lease_record next = {0};
	assert_int_equal(zw_lease_next(&next, &rel, ZW_LEASE_TAKEOVER, "other_9", 15, "t", &err), 0);
	assert_int_equal(next.transitions, 6);
	zw_lease_record_free(&cur);
	zw_lease_record_free(&rel);
	zw_lease_record_free(&next);
	zw_lease_observation_free(&obs);
}

static void options(void **state)
{
	(void)state;
	struct zw_lease_opts in = {.namespace = "ns", .name = "zonewarden", .identity = "pod_x"}, out;
	struct zw_error err = {0};
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), 0);
	assert_int_equal(out.duration_ms, 15000);
	assert_int_equal(out.renew_deadline_ms, 10000);
	assert_int_equal(out.retry_period_ms, 2000);

	in.duration_ms = 3000;
	in.renew_deadline_ms = 2000;
	in.retry_period_ms = 500;
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), 0);

	/* renew deadline must be strictly more than 1.2 x retry */
	in.renew_deadline_ms = 600;
	zw_error_clear(&err);
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "1.2"));
	in.renew_deadline_ms = 601;
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), 0);

	/* duration must be more than the renew deadline */
	in.duration_ms = 601;
	zw_error_clear(&err);
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "duration"));

	in.duration_ms = 3000;
	in.identity = "";
	zw_error_clear(&err);
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), ZW_EINVAL);
	in.identity = "pod_x";
	in.namespace = NULL;
	assert_int_equal(zw_lease_opts_resolve(&out, &in, &err), ZW_EINVAL);
}

static void jitter_and_time(void **state)
{
	(void)state;
	assert_int_equal(zw_lease_jitter_ms(2000, 1.2, 0), 2000);
	assert_int_equal(zw_lease_jitter_ms(2000, 1.2, 0x80000000u), 3200);
	uint64_t top = zw_lease_jitter_ms(2000, 1.2, 0xFFFFFFFFu);
	assert_true(top >= 4399 && top < 4400);

	char buf[ZW_LEASE_MICROTIME_LEN];
	zw_lease_microtime(buf, 1136214245, 7); /* Go's reference time */
	assert_string_equal(buf, "2006-01-02T15:04:05.000007Z");
	zw_lease_microtime(buf, 0, 999999);
	assert_string_equal(buf, "1970-01-01T00:00:00.999999Z");
}

static int alloc_body(void)
{
	struct zw_error err = {0};
	struct zw_lease_observation obs = {0};
	struct zw_lease_record r = {0}, next = {0};
	enum zw_lease_verdict v;
	int rc = zw_lease_next(&r, NULL, ZW_LEASE_TAKEOVER, "other", 15, "t0", &err);
	if (rc == 0)
		rc = zw_lease_decide(&v, &obs, &r, "me", DUR, 10, &err);
	if (rc == 0)
		rc = zw_lease_decide(&v, &obs, &r, "me", DUR, 10 + DUR, &err);
	if (rc == 0 && v != ZW_LEASE_TAKEOVER)
		rc = ZW_EINVAL;
	if (rc == 0)
		rc = zw_lease_next(&next, &r, v, "me", 15, "t1", &err);
	if (rc == 0)
		rc = zw_lease_observe_own(&obs, &next, 20 + DUR, &err);
	zw_lease_record_free(&r);
	zw_lease_record_free(&next);
	zw_lease_observation_free(&obs);
	return rc;
}

static void allocation_failures(void **state)
{
	(void)state;
	ZW_FOR_EACH_ALLOC_FAILURE(alloc_body());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fresh_lease),
		cmocka_unit_test(held_by_another_not_expired),
		cmocka_unit_test(expired_by_local_observation),
		cmocka_unit_test(renewal_keeps_acquire_and_transitions),
		cmocka_unit_test(takeover_increments_transitions),
		cmocka_unit_test(release_record),
		cmocka_unit_test(options),
		cmocka_unit_test(jitter_and_time),
		cmocka_unit_test(allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
