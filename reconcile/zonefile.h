/*
 * zonefile.h - an RFC 1035 zone file read with ldns, record by record, each with its
 * line number, for `zonewarden lint`.
 *
 * Names are kept DECODED: the label bytes themselves, joined with dots, lower-cased
 * ASCII, with the trailing dot. So `\032x.dkim.amazonses.com.` becomes " x.dkim..." and
 * the stray-character classifier sees the space that a verifier would see.
 */
#ifndef ZW_ZONEFILE_H
#define ZW_ZONEFILE_H

#include <stdint.h>

#include "reconcile/error.h"
#include "reconcile/txt.h"

#define ZW_ZONEFILE_MAX_RECORDS 200000

struct zw_zrr {
	char *owner;   /* decoded, canonical */
	uint16_t type; /* RR type number */
	uint32_t ttl;
	unsigned line;	   /* the last line of the record in the file */
	struct zw_txt txt; /* TXT and SPF (99) */
	char *target;	   /* CNAME, NS, MX exchange: decoded, canonical */
	char *text;	   /* presentation form of the whole record (ldns) */
};

struct zw_zone {
	char *path;
	char *origin; /* the SOA owner, else $ORIGIN, else the origin given */
	struct zw_zrr *v;
	size_t n;
};

/* Read a zone file. `origin` (may be NULL) is the default $ORIGIN. A syntax error is
 * ZW_EINVAL with the file and line in err. */
int zw_zonefile_load(struct zw_zone **out, const char *path, const char *origin, struct zw_error *err);
void zw_zonefile_free(struct zw_zone *z);
/* Decode a wire-format name into the form above; out must hold 256 * 4 bytes. */
void zw_wire_name_decode(char *out, size_t outsz, const uint8_t *wire, size_t len);
const char *zw_rrtype_name(uint16_t type, char *buf, size_t bufsz);

#endif
