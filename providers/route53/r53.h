/*
 * r53.h - the Route 53 provider's internal interface, shared by its files and its unit
 * test (tests/unit/test_route53.c). Not part of the provider ABI: the core sees only
 * `zw_provider_route53`.
 *
 *   sigv4.c  the AWS Signature Version 4 signer (OpenSSL SHA-256 and HMAC), no allocation;
 *   codec.c  TXT values and names (quote, escape, split at 255, decode \ooo), the
 *            ChangeBatch body, and libxml2 parsing of every response Route 53 and STS send;
 *   creds.c  the credential chain's pure parts (environment, shared ini files);
 *   route53.c the provider table: HTTP through the core, batching, pagination, STS.
 *
 * Allocation goes through the host's allocator (struct zw_prov_host), so the core's
 * failure injection reaches it; libxml2 allocates on its own and is always released
 * before a function returns.
 */
#ifndef ZW_R53_H
#define ZW_R53_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "providers/provider.h"

#define R53_NS	       "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_MAX_RRS    1000  /* ResourceRecord elements per request (UPSERT twice) */
#define R53_MAX_CHARS  32000 /* Value characters per request (UPSERT twice) */
#define R53_MAX_STRING 255   /* octets per TXT character-string */

/* ---- a growable buffer on the host's allocator; errors are sticky ---------------------- */

struct r53_buf {
	const struct zw_prov_host *h;
	char *p; /* NUL-terminated when non-NULL */
	size_t len, cap, max;
	int oom; /* an add failed (memory or max): every later add fails too */
};

void r53_buf_init(struct r53_buf *b, const struct zw_prov_host *h, size_t max);
int r53_buf_add(struct r53_buf *b, const void *s, size_t n);
int r53_buf_adds(struct r53_buf *b, const char *s);
int r53_buf_addf(struct r53_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void r53_buf_free(struct r53_buf *b);

/* ---- SigV4 ------------------------------------------------------------------------------ */

struct r53_sigreq {
	const char *method; /* "GET", "POST" */
	const char *url;    /* http(s)://host[:port]/path[?query] */
	const void *body;   /* NULL or body_len 0: none */
	size_t body_len;
	const char *content_type;	   /* signed when there is a body */
	const char *amzdate;		   /* "YYYYMMDDTHHMMSSZ" */
	const char *akid, *secret, *token; /* token NULL or "": none */
	const char *region, *service;
	const char *target; /* X-Amz-Target (JSON 1.1 APIs), signed; NULL: none */
};

/* The Authorization header's value into out. ZW_PROV_EINVAL when the URL cannot be
 * canonicalised or a fixed bound (8 KiB canonical request) is exceeded. */
int r53_sigv4(char *out, size_t outsz, const struct r53_sigreq *r);

/* "YYYYMMDDTHHMMSSZ" of t (UTC). */
void r53_amzdate(char out[17], time_t t);

/* RFC 3986 encoding of s (unreserved kept, every other octet %XX) appended to b. */
int r53_uri_encode(struct r53_buf *b, const char *s);

/* ---- TXT values and names --------------------------------------------------------------- */

/* One Route 53 Value from byte strings (data, lens[n]): each string quoted, `"` and `\`
 * escaped, octets < 0x20 and >= 0x7f as \ooo, strings over 255 octets split at 255
 * (counted in octets before escaping), pieces joined by one space. */
int r53_txt_encode(struct r53_buf *out, const char *data, const size_t *lens, size_t n);

/* The byte strings of one Value: quoted strings ("\"", "\\", "\ooo", "\X") separated by
 * white space; an unquoted token (moto stores them verbatim) is one string. Appends the
 * octets to data and each string's length to lens (a buffer of size_t). ZW_PROV_EINVAL
 * for an unterminated quote, a bad escape or a string over 255 octets. */
int r53_txt_decode(struct r53_buf *data, struct r53_buf *lens, const char *value);

/* A name as Route 53 returns it (\ooo escapes, \052 for a wildcard) to the engine's
 * form: lower case, trailing dot; octets that are not printable, `.` inside a label or
 * `\` stay escaped as \DDD (decimal, the presentation form). ZW_PROV_EINVAL when it
 * does not fit or an escape is bad. */
int r53_name_decode(char *out, size_t outsz, const char *in);

/* The reverse for requests: the engine's \DDD (decimal) and \X escapes to Route 53's
 * \ooo (octal) for octets outside the printable range, `\` and a dot inside a label;
 * anything else (a leading `*` included) as is. ZW_PROV_EINVAL when it does not fit. */
int r53_name_encode(char *out, size_t outsz, const char *in);

/* RR type name <-> number for the types Route 53 knows; NULL / 0 otherwise. */
const char *r53_type_name(uint16_t type);
uint16_t r53_type_number(const char *name);

/* ---- requests --------------------------------------------------------------------------- */

enum r53_action { R53_CREATE, R53_DELETE, R53_UPSERT };

/* One Change of a batch: the rrset and its Values already encoded. */
struct r53_change {
	enum r53_action action;
	const char *name;
	uint16_t type;
	uint32_t ttl;
	const char *const *values;
	size_t nvalues;
};

/* The ChangeResourceRecordSetsRequest body, elements in the model's order. */
int r53_batch_xml(struct r53_buf *out, const struct r53_change *c, size_t n);

/* What one change costs against the per-request limits (UPSERT counts twice). */
void r53_change_cost(const struct r53_change *c, size_t *rrs, size_t *chars);

/* ---- responses (libxml2) ---------------------------------------------------------------- */

/* The error of a response body: ErrorResponse (Error/Code, Error/Message) or Route 53's
 * own InvalidChangeBatch (every Messages/Message, joined with "; "). code gets "" when
 * the body is neither; msg is one line. */
void r53_parse_error(char *code, size_t codesz, char *msg, size_t msgsz, const char *body, size_t len);

/* One hosted zone of ListHostedZonesByName. */
struct r53_zone {
	char id[64];	/* bare: "/hostedzone/" stripped */
	char name[256]; /* decoded, lower case, trailing dot */
	int private_zone;
};

/* Every HostedZone of a ListHostedZonesByName body, at most max; *truncated from
 * IsTruncated. ZW_PROV_EIO when the body is not that response. */
int r53_parse_zones(struct r53_zone *out, size_t max, size_t *n, int *truncated, const char *body,
		    size_t len);

/* GetHostedZone: the zone (id, name, private) and its DelegationSet name servers, each
 * lower case with a trailing dot, into ns[max][256]. */
int r53_parse_hosted_zone(struct r53_zone *z, char (*ns)[256], size_t max, size_t *n, const char *body,
			  size_t len);

/* One ResourceRecordSet of a list page, borrowed for the callback's duration. */
struct r53_set {
	const char *name; /* decoded */
	uint16_t type;	  /* 0: a type this provider does not know */
	uint32_t ttl;
	const char *const *values;
	size_t nvalues;
	int alias;		    /* an AliasTarget: no values */
	const char *set_identifier; /* routing policies; NULL when absent */
};

/* Where the next page starts; has_next == 0 at the end. */
struct r53_next {
	int has_next;
	char name[1024]; /* as Route 53 sends it (still escaped) */
	char type[16];
	char identifier[256];
};

/* Every rrset of one ListResourceRecordSets page through fn, then the next page. */
int r53_parse_rrsets(const char *body, size_t len, int (*fn)(void *ctx, const struct r53_set *s), void *ctx,
		     struct r53_next *next, struct zw_prov_error *err);

/* STS credentials: AssumeRoleWithWebIdentity's or AssumeRole's Credentials. */
struct r53_creds {
	char akid[128];
	char secret[128];
	char token[4096];
	time_t expires;	 /* 0: never */
	char source[64]; /* "environment", "web identity", "shared file <profile>" */
};

int r53_parse_sts(struct r53_creds *c, const char *body, size_t len, struct zw_prov_error *err);

/* The ChangeInfo of ChangeResourceRecordSets or GetChange: id (bare) and status. */
int r53_parse_change_info(char *id, size_t idsz, char *status, size_t statussz, const char *body, size_t len);

/* ---- Route 53 Domains ------------------------------------------------------------------- */

/* The UpdateDomainNameservers body: {"DomainName":"example.com","Nameservers":[{"Name":
 * "ns-1.awsdns-01.org"},...]}, trailing dots dropped. */
int r53_domains_body(struct r53_buf *out, const char *domain, const char (*ns)[256], size_t n);

/* Point the registration of domain (at Route 53 Domains) at the DelegationSet of hosted
 * zone zone_id; operation gets the OperationId to poll with GetOperationDetail. state is
 * the provider's (from zw_provider_route53.open). Waiting for an ABI operation (the
 * manifest's fixDelegation, --fix-delegation) to be called; until then only the tests
 * call it. */
int r53_fix_delegation(void *state, const char *domain, const char *zone_id, char *operation, size_t opsz,
		       struct zw_prov_error *err);

/* ---- credentials ------------------------------------------------------------------------ */

/* The value of key in [section] of an ini text (the ~/.aws files): white space around
 * names and values trimmed, '#' and ';' comment lines skipped. ZW_PROV_ENOTFOUND when
 * absent. */
int r53_ini_get(char *out, size_t outsz, const char *text, const char *section, const char *key);

/* The shared-file credentials of profile: first the credentials file's [profile], then
 * the config file's [profile name] ([default] for "default"). Either text may be NULL.
 * ZW_PROV_ENOTFOUND when neither has both keys. */
int r53_creds_from_ini(struct r53_creds *c, const char *credentials, const char *config, const char *profile);

/* ISO 8601 UTC ("2026-11-23T12:00:00Z", fractions allowed) to seconds; -1 if invalid. */
time_t r53_parse_time(const char *s);

#endif
