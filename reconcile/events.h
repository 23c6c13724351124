/*
 * events.h - the pure parts of the event recorder (reconcile/events.c), split out of
 * kube.h so the unit tests can drive them with a fake clock and no API server: the
 * deduplication key, the bounded cache of recent events (series counting) and of the
 * per-object Warning token buckets, the note's cleaning and cutting, and the two request
 * bodies (events.k8s.io/v1 and the core/v1 fallback).
 *
 * The recorder itself (zw_events_new/_record/_dropped/_free) is declared in kube.h.
 */
#ifndef ZW_EVENTS_H
#define ZW_EVENTS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/kube.h"

#define ZW_EVENTS_CACHE_MAX 4096u		/* entries per table, the oldest evicted */
#define ZW_EVENTS_DEDUP_MS  (10u * 60u * 1000u) /* the same event within this: a series */
#define ZW_EVENTS_BURST	    5u			/* Warnings per object at once */
#define ZW_EVENTS_REFILL_MS 30000u		/* then one per this */
#define ZW_EVENTS_NOTE_MAX  1024u		/* bytes of a note (events.k8s.io's limit) */

/* The deduplication key of (regarding uid, type, reason, action, note): each field
 * length-prefixed, so different tuples never share a key. NULL on no memory. */
char *zw_events_key(const char *uid, const char *type, const char *reason, const char *action,
		    const char *note);

/* The longest prefix of s[0..len) of at most max bytes that does not end inside a UTF-8
 * sequence (continuation bytes of a cut sequence are dropped with its lead byte). */
size_t zw_events_utf8_cut(const char *s, size_t len, size_t max);

/* The note as it is sent: redacted (zw_http_redact, no client), every control character
 * (CR, LF, TAB included) turned into a space, cut to ZW_EVENTS_NOTE_MAX bytes at a UTF-8
 * boundary. Appended to out. */
int zw_events_note(struct zw_buf *out, const char *note, struct zw_error *err);

struct zw_events_cache;

int zw_events_cache_new(struct zw_events_cache **out, size_t max_entries, struct zw_error *err);
void zw_events_cache_free(struct zw_events_cache *c);

/* Take a token from object's Warning bucket (burst ZW_EVENTS_BURST, one more every
 * ZW_EVENTS_REFILL_MS): 1 allowed, 0 to drop, or a negative error. */
int zw_events_cache_allow(struct zw_events_cache *c, const char *object, uint64_t now_ms,
			  struct zw_error *err);

/*
 * The series of key. When key was seen within ZW_EVENTS_DEDUP_MS of now_ms: its count
 * is raised, *count gets it, *name a copy of the event's name (zw_free), and 1 is
 * returned. Otherwise key is (re)entered with name and count 1, *count = 1, *name = NULL,
 * and 0 is returned. The least recently seen entry is evicted when the table is full.
 */
int zw_events_cache_seen(struct zw_events_cache *c, const char *key, const char *name, uint64_t now_ms,
			 unsigned *count, char **name_out, struct zw_error *err);
/* Forget key (its creation failed or the event is gone). */
void zw_events_cache_forget(struct zw_events_cache *c, const char *key);
/* Entries in the dedup table and in the bucket table (for tests). */
void zw_events_cache_sizes(const struct zw_events_cache *c, size_t *series, size_t *buckets);

/* What one event says; note already cleaned. */
struct zw_events_msg {
	const struct zw_kube_ref *regarding;
	const char *type, *reason, *action, *note;
	const char *controller, *instance;
	const char *name;      /* metadata.name */
	const char *namespace; /* metadata.namespace */
	const char *now_micro; /* MicroTime */
	const char *now_rfc3339;
};

/* events.k8s.io/v1 Event and core/v1 Event bodies; NULL on no memory. */
cJSON *zw_events_body_v1(const struct zw_events_msg *m);
cJSON *zw_events_body_core(const struct zw_events_msg *m);

/* The event's name: "<regarding name>.<16 hex digits of stamp>", the name part cut so
 * the whole stays a DNS subdomain of at most 253 bytes. */
int zw_events_name(struct zw_buf *out, const char *regarding_name, uint64_t stamp);

#endif
