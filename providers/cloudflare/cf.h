/*
 * cf.h - the Cloudflare provider's internal helpers (providers/cloudflare/), shared by
 * cloudflare.c and cfwire.c and exposed to tests/unit/test_cloudflare.c only. Not part of
 * the provider ABI: the engine never includes it.
 *
 * What lives here is pure (no network): TXT content quoting and decoding, the record
 * type table, JSON bodies of records and batches, the response envelope and errors,
 * result_info pagination. Every allocation goes through the host's allocator; cJSON
 * objects are cJSON's own (freed with cJSON_Delete / cJSON_free).
 */
#ifndef ZW_PROVIDERS_CF_H
#define ZW_PROVIDERS_CF_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "providers/provider.h"

#define CF_COMMENT     "managed by zonewarden"
#define CF_MAX_STRING  255   /* one RFC 1035 character-string */
#define CF_MAX_CONTENT 65536 /* a TXT content read or written (the wire caps at 4096) */

/* A TXT record's byte strings: data back to back, lens[i] each (the ABI's model). */
struct cf_txt {
	char *data;
	size_t len;
	size_t *lens;
	size_t n;
};

/* TXT content as Cloudflare expects it: each string quoted, `"` and `\` escaped, bytes
 * outside 0x20..0x7e as \DDD (RFC 1035 §5.1), strings longer than 255 split, strings
 * separated by one space; no strings at all is `""`. *out is allocated with host->alloc. */
int cf_txt_quote(char **out, const struct zw_prov_host *h, const char *data, const size_t *lens, size_t n);

/* Content read back into byte strings: quoted character-strings (\X and \DDD escapes,
 * unquoted words between them as in a zone file), or, when the content does not start
 * with a quote or does not parse, legacy unquoted content taken literally. Strings over
 * 255 bytes are split as Cloudflare serves them. Free with cf_txt_free. */
int cf_txt_unquote(struct cf_txt *out, const struct zw_prov_host *h, const char *content);
void cf_txt_free(const struct zw_prov_host *h, struct cf_txt *t);

/* The record types: Cloudflare's name for a type number, or NULL; the number for a
 * name, or 0. `writable`: types this provider writes from presentation text. */
const char *cf_type_name(uint16_t type);
uint16_t cf_type_code(const char *name);
int cf_type_writable(uint16_t type);

/* One record of a Cloudflare response into the ABI's shape: `name` absolute, lower case,
 * with its trailing dot; TXT decoded into `txt`, other types presentation `text` (names
 * lower case with a trailing dot, MX "PRIO host."). TTL 1 (automatic) reads as 300. */
struct cf_rec {
	char *id;
	char *name;
	uint16_t type;
	uint32_t ttl;
	struct cf_txt txt; /* TXT only */
	char *text;	   /* other types */
};
/* ZW_PROV_EUNSUPPORTED for a type the ABI cannot carry (skipped by the caller),
 * ZW_PROV_EIO for a record without id, name, type or content. */
int cf_rec_parse(struct cf_rec *out, const struct zw_prov_host *h, const cJSON *rec);
void cf_rec_free(const struct zw_prov_host *h, struct cf_rec *r);
/* Whether a parsed record holds the rdata rd (TXT: the same byte strings; others: the
 * same text, ASCII case ignored). */
int cf_rec_equal(const struct cf_rec *r, uint16_t type, const struct zw_prov_rdata *rd);

/* The full record body for POST, PATCH, PUT and batch items: type, name (no trailing
 * dot), content, ttl (0 -> 1 automatic, clamped to 30..86400), priority for MX,
 * proxied:false where the type can be proxied, comment "managed by zonewarden" when
 * `claim` (not on a record of someone else whose ttl alone we align: a PATCH leaves the
 * fields it does not carry as they are); with `id` when not NULL (batch patches).
 * NULL: out of memory; *why says what else failed (an unwritable type, a bad MX). */
cJSON *cf_record_json(const struct zw_prov_host *h, const char *id, const char *name, uint16_t type,
		      uint32_t ttl, const struct zw_prov_rdata *rd, int claim, const char **why);

/* ---- the envelope ------------------------------------------------------------------------ */

/* Every errors[] entry as "CODE message; CODE message" into msg (one line, bounded),
 * or "" when the body is not an envelope or has none. Returns how many there were. */
size_t cf_errors_text(char *msg, size_t msgsz, const cJSON *root);

/* What a response means: 429 whatever the body (and 971 / 10429 in errors[] on any
 * status) is ZW_PROV_ERATE; a non-2xx status maps through status_error; a 2xx whose body
 * is not an object with success:true is ZW_PROV_EINVAL (success:false) or ZW_PROV_EIO
 * (not JSON). */
int cf_envelope_code(long status, const cJSON *root, int (*status_error)(long));

/* Pagination from result_info: 1 when another page follows `page` (page < total_pages),
 * 0 when done; ZW_PROV_EIO when result_info is missing or inconsistent (page not the one
 * asked for, total_pages beyond the bound, a page without results before the end). */
int cf_next_page(const cJSON *root, long page, size_t nresults);

/* ---- batches ----------------------------------------------------------------------------- */

enum cf_op_kind { CF_DELETE, CF_PATCH, CF_POST };

/* One record-level operation of an apply; `body` is the full record (not for deletes). */
struct cf_op {
	enum cf_op_kind kind;
	size_t change; /* index into the changes */
	char *id;      /* delete, patch */
	cJSON *body;   /* patch, post (without id) */
	/* what the op leaves behind, to see whether it landed after an ambiguous failure */
	char *name;
	uint16_t type;
	uint32_t ttl;
	const struct zw_prov_rdata *rd;
	int done; /* 1 applied, -1 failed (result decided), 0 pending */
};

/* The batch body for ops[0..n): {"deletes":[{"id"}],"patches":[{id,...}],"posts":[...]},
 * empty arrays omitted; the caller orders ops deletes, patches, posts. Printed with
 * cJSON_PrintUnformatted into *out (free with cJSON_free). */
int cf_batch_json(char **out, const struct cf_op *ops, size_t n);

#endif
