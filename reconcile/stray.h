/*
 * stray.h - the stray-character classifier (CATALOGUE §A.1, TX-01..TX-13).
 *
 * Input: one TXT value (struct zw_txt) and the role expected at its owner, or all TXT
 * values of one owner (TX-12), or a name (an owner or a CNAME target). Output: findings,
 * one per problem, each with the byte offset in the joined value, the code point
 * (U+XXXX) and its Unicode name, and the catalogue severity; and the normalised value
 * the plan would write.
 *
 * The normalised value is byte-exact, deterministic and a fixed point: classifying it
 * again (as one string) changes nothing. Values whose role cannot be recognised even
 * after normalisation are foreign text: they are never changed and only TX-09 (a string
 * over 255 octets) is reported for them.
 *
 * Decisions (where the catalogue leaves room):
 *  - Mojibake (UTF-8 read as Windows-1252 or Latin-1 and encoded again, `â€‹` for U+200B)
 *    is reported under the class of the character that was meant (TX-05 for U+200B,
 *    TX-07 for U+00A0) and normalised like it; the message says "mojibake of".
 *  - Valid UTF-8 that is not in the table (`é`) is TX-08 (these roles allow ASCII only)
 *    and is kept: no safe ASCII guess exists. Invalid UTF-8 bytes are TX-08 and removed.
 *  - DKIM allows WSP and folding (RFC 6376 §3.2): a leading blank (TX-01) or CRLF
 *    folding (TX-02) in a DKIM record is reported at WARNING, not ERROR; a TAB between
 *    DKIM tags is left alone, and so is a TAB next to `;` or `=` in DMARC, STS, TLS-RPT
 *    and BIMI (their separators allow *WSP).
 *  - A trailing SP is valid in SPF (`*SP`) and harmless elsewhere: kept.
 *  - TX-10 is reported where a string boundary falls between two complete SPF terms
 *    with no space on either side, and only after a string shorter than 255 octets: a
 *    split at 255 is the forced canonical split (zw_txt_from_value), whose joined bytes
 *    are the value meant, so it never glues anything by itself.
 */
#ifndef ZW_STRAY_H
#define ZW_STRAY_H

#include <stddef.h>
#include <stdint.h>

#include "reconcile/buf.h"
#include "reconcile/error.h"
#include "reconcile/finding.h"
#include "reconcile/role.h"
#include "reconcile/txt.h"

/* The `fix` of findings whose repair is the normalised value (callers may match them
 * and write the exact record instead). */
#define ZW_STRAY_FIX_VALUE "replace the value with the expected one"
#define ZW_STRAY_FIX_NAME  "replace the name with the expected one"
#define ZW_STRAY_FIX_SPLIT "split the value into strings of at most 255 octets"

/* One row of the table of known stray code points. */
struct zw_stray_char {
	uint32_t cp;
	const char *cls; /* "TX-05" (invisible), "TX-06" (full-width), "TX-07" (look-alike),
			    "TX-02" (control), "TX-08" (U+FFFD) */
	char name[64];	 /* Unicode name (or formal alias for controls): "ZERO WIDTH SPACE" */
	char repl[2];	 /* the ASCII character meant; "" when the character is removed */
	int named;	 /* 1: displayed by name (<U+200B ZERO WIDTH SPACE>) */
};

/*
 * Decode one UTF-8 sequence at s (strict: no overlong forms, no surrogates, at most
 * U+10FFFF). Returns its length (1-4) and sets *cp, or 0 when s does not start a valid
 * sequence (or len is 0).
 */
size_t zw_stray_utf8(uint32_t *cp, const char *s, size_t len);

/* Look a code point up in the table. 1 and *out filled when known, else 0. */
int zw_stray_lookup(struct zw_stray_char *out, uint32_t cp);

/*
 * Classify one TXT value. Appends findings to fs, replaces the content of `normalised`
 * with the value to publish (the strings joined; split it with zw_txt_from_value) and
 * sets *role (may be NULL) to the role recognised after normalisation. `hint` is the
 * role expected at the owner (zw_role_of_owner). Every finding gets `observed` and
 * `expected` (display forms of the value and of the normalised value) and a `fix` when
 * the normalisation changes something. On error, fs is as it was.
 * 0, ZW_ENOMEM, or ZW_EINVAL for a value over 65535 octets.
 */
int zw_stray_check_txt(struct zw_findings *fs, struct zw_buf *normalised, enum zw_role *role,
		       const struct zw_txt *t, enum zw_role hint, struct zw_error *err);

/* One RR of the rrset to publish (zw_stray_check_rrset). */
struct zw_stray_rr {
	struct zw_txt txt; /* canonical split (zw_txt_from_value) when changed, else a copy */
	enum zw_role role; /* its role after normalisation */
	int changed;	   /* 1 when txt differs from the input RR (as a list of strings) */
	size_t *srcs;	   /* the input RRs it replaces: one, or head + parts for TX-12 */
	size_t nsrcs;
};

struct zw_stray_rrset {
	struct zw_stray_rr *v;
	size_t n;
};

/*
 * Classify all TXT RRs of one owner: every RR as zw_stray_check_txt does, plus TX-12,
 * one logical record published as several RRs (RFC 6376 §3.6.2.2: RRs are never joined).
 * A TX-12 group is one RR of a role (the head) and RRs of no role that continue it (the
 * rest of a DKIM key in base64, the rest of a tag-list, SPF terms ending in `all` or
 * `redirect=` after a head without them); it becomes one RR, head first, parts in the
 * order given. Foreign RRs are copied untouched. *out is owned by the caller
 * (zw_stray_rrset_free); on error it is empty and fs is as it was.
 */
int zw_stray_check_rrset(struct zw_findings *fs, struct zw_stray_rrset *out, const struct zw_txt *rrs,
			 size_t n, enum zw_role hint, struct zw_error *err);
void zw_stray_rrset_free(struct zw_stray_rrset *s);

/*
 * Classify a name: an owner or a CNAME target, in presentation form. Leading blanks
 * (TX-01), trailing blanks and control characters (TX-02), wrapping quotes (TX-03),
 * invisible (TX-05), full-width (TX-06, `．` and `。` mean `.`) and look-alike (TX-07)
 * characters, bytes that are not UTF-8 (TX-08, removed) or not ASCII (TX-08, kept: write
 * the A-label), a blank inside the name (NM-07, kept). Replaces `normalised` with the
 * repaired name. 0, ZW_ENOMEM or ZW_EINVAL (over 1024 octets).
 */
int zw_stray_check_name(struct zw_findings *fs, struct zw_buf *normalised, const char *name, size_t len,
			struct zw_error *err);

#endif
