/*
 * lease.h - the pure parts of leader election (reconcile/lease.c), split out of kube.h so
 * the unit tests can drive them with a fake clock and no API server: the lease record,
 * the observation (client-go's observedRawRecord and observedTime), the decision of one
 * tryAcquireOrRenew (K8S.md steps 2-3), the record to write (step 4, and the release),
 * the option checks and the acquire loop's jitter.
 *
 * The elector itself (zw_lease_new/_start/_try/_state/_stop) is declared in kube.h.
 * Option values of 0 mean client-go's defaults: duration 15000, renew deadline 10000,
 * retry period 2000 ms.
 */
#ifndef ZW_LEASE_H
#define ZW_LEASE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "reconcile/error.h"
#include "reconcile/kube.h"

#define ZW_LEASE_DEFAULT_DURATION_MS 15000u
#define ZW_LEASE_DEFAULT_RENEW_MS    10000u
#define ZW_LEASE_DEFAULT_RETRY_MS    2000u
#define ZW_LEASE_JITTER		     1.2
#define ZW_LEASE_MICROTIME_LEN	     32

/* A coordination.k8s.io/v1 Lease spec, as client-go's LeaderElectionRecord. */
struct zw_lease_record {
	char *holder;	    /* "" when free or released; never NULL once parsed */
	long duration_s;    /* leaseDurationSeconds */
	char *acquire_time; /* MicroTime, or NULL */
	char *renew_time;   /* MicroTime, or NULL */
	long transitions;   /* leaseTransitions */
};

/* What this candidate last saw, and when (local monotonic time). */
struct zw_lease_observation {
	char *raw;		    /* the record's canonical bytes when it last changed; NULL at first */
	uint64_t observed_ms;	    /* when raw last changed, or when we last wrote */
	struct zw_lease_record rec; /* the observed record (ours after a successful write) */
};

enum zw_lease_verdict {
	ZW_LEASE_FOLLOW,   /* held by another and not expired by our observation: not leader */
	ZW_LEASE_RENEW,	   /* we hold it: write keeping acquireTime and leaseTransitions */
	ZW_LEASE_TAKEOVER, /* free, released or expired: write with transitions + 1, new times */
};

/* spec may be NULL or lack fields (they read as "", 0, NULL, 0). */
int zw_lease_record_parse(struct zw_lease_record *out, const cJSON *spec, struct zw_error *err);
/* A spec object with the five fields (NULL times omitted); NULL on no memory. */
cJSON *zw_lease_record_json(const struct zw_lease_record *r);
void zw_lease_record_free(struct zw_lease_record *r);
void zw_lease_observation_free(struct zw_lease_observation *o);

/*
 * Steps 2 and 3 of tryAcquireOrRenew for a record just read: when its canonical bytes
 * differ from obs->raw, obs takes it and observed_ms = now_ms. Then: holder non-empty,
 * observed_ms + duration_ms > now_ms and the observed holder is not me -> FOLLOW; else
 * RENEW when the observed holder is me, TAKEOVER otherwise. Expiry is judged only on
 * local observation times, never by comparing the record's times with a clock.
 */
int zw_lease_decide(enum zw_lease_verdict *out, struct zw_lease_observation *obs,
		    const struct zw_lease_record *read, const char *me, uint64_t duration_ms, uint64_t now_ms,
		    struct zw_error *err);

/* Step 4: the record to write. RENEW keeps acquireTime and leaseTransitions of read;
 * TAKEOVER uses read's transitions + 1 and acquireTime = now; both set holder = me,
 * renewTime = now, leaseDurationSeconds = duration_s. read NULL: a new lease (POST,
 * transitions 0). */
int zw_lease_next(struct zw_lease_record *out, const struct zw_lease_record *read, enum zw_lease_verdict v,
		  const char *me, long duration_s, const char *now_micro, struct zw_error *err);
/* The release (client-go's release()): holder "", leaseDurationSeconds 1, acquireTime =
 * renewTime = now, leaseTransitions kept. */
int zw_lease_release_record(struct zw_lease_record *out, const struct zw_lease_record *cur,
			    const char *now_micro, struct zw_error *err);

/* After our own successful write: the observed record is rec, observed now (raw kept,
 * as client-go does, so the next read refreshes the observation). */
int zw_lease_observe_own(struct zw_lease_observation *obs, const struct zw_lease_record *rec, uint64_t now_ms,
			 struct zw_error *err);

/* Options with 0s replaced by the defaults, then checked: namespace, name and identity
 * non-empty, retry > 0, renew deadline > 1.2 * retry, duration > renew deadline. */
int zw_lease_opts_resolve(struct zw_lease_opts *out, const struct zw_lease_opts *in, struct zw_error *err);

/* wait.Jitter: period + rnd/2^32 * factor * period. */
uint64_t zw_lease_jitter_ms(uint64_t period_ms, double factor, uint32_t rnd);

/* MicroTime "2006-01-02T15:04:05.000000Z" of (sec, usec) since the epoch, UTC. */
void zw_lease_microtime(char out[ZW_LEASE_MICROTIME_LEN], int64_t sec, long usec);

#endif
