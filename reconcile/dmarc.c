/*
 * dmarc.c - DMARC records: the dmarcbis §4.8 grammar, the tag rules of §4.7, the policy
 * a receiver applies (§4.10.1), and the external destination helpers (7489 §7.1).
 *
 * Owns: struct zw_dmarc and its tags and URI lists (see dmarc.h).
 * Invariants: d->tags[0] is v=DMARC1; each tag name appears once, in lower case, in
 * record order, with its offset in d->raw; d->raw is the input byte for byte. A record
 * receivers ignore is never handed to the caller. Every finding carries the byte offset
 * in the record it is about.
 *
 * Parsing is two passes: split the record into tags at ';' (dmarc-sep = *WSP ";" *WSP),
 * then run each known tag's check from a table; what needs all tags (p present and
 * second, fo without ruf, the DM-04 fallback, the effective policy) comes last.
 */
#include "reconcile/dmarc.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"

#define SHOW_MAX     64 /* bytes of a value quoted in a message */
#define NAME_MAX_LEN 253

struct ctx {
	struct zw_findings *fs;
	struct zw_error *err;
	int discard;			       /* DM-03 / DM-10: the record is ignored */
	const struct zw_dmarc_tag *bad_pol[3]; /* p, sp, np tags with an invalid value */
};

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A printable rendering of s[0..n) for a message (bytes outside 0x20-0x7E as \DDD). */
static const char *show(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == SHOW_MAX) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstsz - o, "\\%03u", c);
	}
	dst[o] = '\0';
	return dst;
}

#define SHOWBUF (SHOW_MAX * 4 + 8)

/* Add a finding with an optional fix; NULL when out of memory. */
static struct zw_finding *note(struct zw_findings *fs, const char *id, long off, const char *fix,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct zw_finding *note(struct zw_findings *fs, const char *id, long off, const char *fix,
			       const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct zw_finding *f = zw_findings_add(fs, id, off, "%s", msg);
	if (f && fix && zw_finding_set(f, ZW_F_FIX, fix))
		return NULL;
	return f;
}

/* Optimal string alignment distance (edits and adjacent swaps), case-insensitive; large
 * for long strings, which never get a suggestion. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), m[17][17];
	if (la > 16 || lb > 16)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		m[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		m[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t v = m[i - 1][j - 1] + cost;
			if (m[i - 1][j] + 1 < v)
				v = m[i - 1][j] + 1;
			if (m[i][j - 1] + 1 < v)
				v = m[i][j - 1] + 1;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && m[i - 2][j - 2] + 1 < v)
				v = m[i - 2][j - 2] + 1;
			m[i][j] = v;
		}
	return m[la][lb];
}

/* The closest of words[] to w (at most `max` edits, and fewer than w has letters). */
static const char *closest(const char *w, const char *const *words, size_t n, size_t max)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX, wl = strlen(w);
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(w, words[i]);
		if (d < bd && d <= max && d < wl) {
			bd = d;
			best = words[i];
		}
	}
	return best;
}

/* ---- values --------------------------------------------------------------------------- */

static const char *const policy_names[] = {"none", "quarantine", "reject"};

static enum zw_dmarc_policy policy_of(const char *v)
{
	for (size_t i = 0; i < 3; i++)
		if (strcasecmp(v, policy_names[i]) == 0)
			return (enum zw_dmarc_policy)(ZW_DMARC_NONE + i);
	return ZW_DMARC_INVALID;
}

const char *zw_dmarc_policy_name(enum zw_dmarc_policy p)
{
	static const char *const names[] = {"unset", "none", "quarantine", "reject", "invalid"};
	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "invalid";
}

/* One of the single-letter choices in `set` (case-insensitive), or -1. */
static int letter_of(const char *v, const char *set)
{
	if (!v[0] || v[1])
		return -1;
	const char *p = strchr(set, lower(v[0]));
	return p && *p ? (int)(p - set) : -1;
}

/*
 * dmarc-fo (dmarcbis §4.8):
 *   ("0" / "1") *(":" afrf) / afrf [":" ("0" / "1")] [":" afrf] / *(afrf ":") ("0" / "1")
 * with afrf = "d" / "s", case-insensitive. No spaces.
 */
static int fo_valid(const char *v)
{
	char tok[64];
	size_t n = 0, len = strlen(v);
	if (len == 0 || len % 2 == 0 || len > 2 * sizeof(tok))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (i % 2) {
			if (v[i] != ':')
				return 0;
			continue;
		}
		char c = lower(v[i]);
		if (!strchr("01ds", c) || !c)
			return 0;
		tok[n++] = c;
	}
#define NUM(c) ((c) == '0' || (c) == '1')
	int ok1 = NUM(tok[0]);
	for (size_t i = 1; ok1 && i < n; i++)
		ok1 = !NUM(tok[i]);
	int ok2 = !NUM(tok[0]) && n <= 3 && (n < 3 ? 1 : NUM(tok[1]) && !NUM(tok[2]));
	int ok3 = NUM(tok[n - 1]);
	for (size_t i = 0; ok3 && i + 1 < n; i++)
		ok3 = !NUM(tok[i]);
#undef NUM
	return ok1 || ok2 || ok3;
}

/* A host name: labels of letters, digits, '-' and '_', 1-63 long, at most 253 in all,
 * an optional trailing dot. */
static int is_hostname(const char *s, size_t n)
{
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static char *lowdup(const char *s, size_t n)
{
	char *d = zw_strndup(s, n);
	for (size_t i = 0; d && d[i]; i++)
		d[i] = lower(d[i]);
	return d;
}

/* RFC 3986 characters allowed after the scheme: unreserved, sub-delims but ',' and '!'
 * (which dmarcbis §4.8 wants percent-encoded), ':' '@' '/' '?' '#' '[' ']'. */
static int is_urichar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("-._~$&'()*+;=:@/?#[]", c));
}

static int is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Read one rua/ruf element s[0..n) into u. *why is NULL when it is a valid URI, else the
 * reason (no_scheme set when the scheme is missing: checkdmarc's message). 0 or ZW_ENOMEM.
 */
static int parse_uri(struct zw_dmarc_uri *u, const char *s, size_t n, const char **why, int *no_scheme)
{
	*why = NULL;
	*no_scheme = 0;
	if (!(u->text = zw_strndup(s, n)))
		return ZW_ENOMEM;
	if (n == 0) {
		*why = "the list holds an empty element";
		return 0;
	}
	const char *bang = memchr(s, '!', n);
	size_t ulen = bang ? (size_t)(bang - s) : n;
	if (bang) {
		size_t i = ulen + 1, digits = 0;
		unsigned long long v = 0;
		while (i < n && is_digit((unsigned char)s[i])) {
			unsigned d = (unsigned)(s[i++] - '0');
			v = v > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : v * 10 + d;
			digits++;
		}
		static const struct {
			char unit;
			unsigned shift;
		} units[] = {{'k', 10}, {'m', 20}, {'g', 30}, {'t', 40}};
		if (i < n) {
			for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
				if (lower(s[i]) == units[k].unit) {
					v = v > (ULLONG_MAX >> units[k].shift) ? ULLONG_MAX
									       : v << units[k].shift;
					i++;
					break;
				}
		}
		if (!digits || i != n) {
			*why = "the size suffix after '!' must be digits and an optional k, m, g or t";
			return 0;
		}
		u->has_size = 1;
		u->max_bytes = v;
	}
	size_t i = 0;
	if (is_alpha((unsigned char)s[0]))
		while (i < ulen && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
				    s[i] == '+' || s[i] == '-' || s[i] == '.'))
			i++;
	if (i == 0 || i == ulen || s[i] != ':') {
		*no_scheme = 1;
		*why = "no scheme";
		return 0;
	}
	size_t rest = i + 1;
	int hashes = 0;
	for (size_t k = rest; k < ulen; k++) {
		unsigned char c = (unsigned char)s[k];
		if (is_wsp(c)) {
			*why = "it contains whitespace; separate URIs with ',' (dmarc-urilist)";
			return 0;
		}
		if (c == '%') {
			if (k + 2 >= ulen || !is_hex((unsigned char)s[k + 1]) ||
			    !is_hex((unsigned char)s[k + 2])) {
				*why = "'%' must start a %XX escape (RFC 3986 §2.1)";
				return 0;
			}
			k += 2;
			continue;
		}
		if (!is_urichar(c)) {
			*why = "it holds a character a URI does not allow (RFC 3986 §2)";
			return 0;
		}
		hashes += c == '#';
	}
	if (hashes > 1) {
		*why = "it holds more than one '#' (RFC 3986 §3.5)";
		return 0;
	}
	if (!(u->scheme = lowdup(s, i)))
		return ZW_ENOMEM;
	const char *r = s + rest;
	size_t rlen = ulen - rest;
	if (strcmp(u->scheme, "mailto") == 0) {
		size_t alen = strcspn(r, "?#");
		if (alen > rlen)
			alen = rlen;
		const char *at = NULL;
		for (size_t k = 0; k < alen; k++)
			if (r[k] == '@')
				at = r + k;
		if (!at || at == r || !is_hostname(at + 1, (size_t)(r + alen - at - 1))) {
			*why = "a mailto: URI needs an address such as mailto:dmarc@example.com";
			return 0;
		}
		if (!(u->address = zw_strndup(r, alen)) ||
		    !(u->host = lowdup(at + 1, (size_t)(r + alen - at - 1))))
			return ZW_ENOMEM;
	} else if (strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "https") == 0) {
		if (rlen < 2 || r[0] != '/' || r[1] != '/') {
			*why = "an http(s) URI needs //host";
			return 0;
		}
		const char *h = r + 2;
		size_t hlen = strcspn(h, "/?#");
		if (hlen > rlen - 2)
			hlen = rlen - 2;
		for (size_t k = hlen; k > 0; k--)
			if (h[k - 1] == '@') {
				hlen -= k;
				h += k;
				break;
			}
		size_t colon = hlen;
		while (colon > 0 && is_digit((unsigned char)h[colon - 1]))
			colon--;
		if (colon > 0 && h[colon - 1] == ':')
			hlen = colon - 1;
		if (!is_hostname(h, hlen) && !(hlen > 2 && h[0] == '[' && h[hlen - 1] == ']')) {
			*why = "an http(s) URI needs a host name";
			return 0;
		}
		if (!(u->host = lowdup(h, hlen)))
			return ZW_ENOMEM;
	}
	u->valid = 1;
	return 0;
}

static void uris_free(struct zw_dmarc_uri *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		zw_free(v[i].text);
		zw_free(v[i].scheme);
		zw_free(v[i].address);
		zw_free(v[i].host);
	}
	zw_free(v);
}

/* ---- tags --------------------------------------------------------------------------- */

static const char *const known_tags[] = {"v",	"p",   "sp", "np",  "adkim", "aspf", "fo",
					 "rua", "ruf", "t",  "psd", "pct",   "rf",   "ri"};
#define NKNOWN (sizeof(known_tags) / sizeof(known_tags[0]))

static int is_known(const char *name)
{
	for (size_t i = 0; i < NKNOWN; i++)
		if (strcmp(name, known_tags[i]) == 0)
			return 1;
	return 0;
}

const char *zw_dmarc_tag(const struct zw_dmarc *d, const char *name)
{
	for (size_t i = 0; d && i < d->ntags; i++)
		if (strcmp(d->tags[i].name, name) == 0)
			return d->tags[i].value;
	return NULL;
}

static const struct zw_dmarc_tag *find_tag(const struct zw_dmarc *d, const char *name)
{
	for (size_t i = 0; i < d->ntags; i++)
		if (strcmp(d->tags[i].name, name) == 0)
			return &d->tags[i];
	return NULL;
}

/* The offset of a tag's value in the record. */
static long value_offset(const struct zw_dmarc *d, const struct zw_dmarc_tag *t)
{
	size_t i = t->offset + strlen(t->name);
	while (i < d->raw_len && d->raw[i] != '=')
		i++;
	i++;
	while (i < d->raw_len && is_wsp((unsigned char)d->raw[i]))
		i++;
	return (long)i;
}

static int add_tag(struct zw_dmarc *d, const char *name, size_t nlen, const char *val, size_t vlen,
		   size_t off)
{
	if ((d->ntags & (d->ntags - 1)) == 0) { /* full at 0, 1, 2, 4, 8, ... */
		size_t cap = d->ntags ? d->ntags * 2 : 1;
		struct zw_dmarc_tag *t = zw_realloc(d->tags, cap * sizeof(*t));
		if (!t)
			return ZW_ENOMEM;
		d->tags = t;
	}
	struct zw_dmarc_tag *t = &d->tags[d->ntags];
	t->offset = off;
	t->name = lowdup(name, nlen);
	t->value = zw_strndup(val, vlen);
	if (!t->name || !t->value) {
		zw_free(t->name);
		zw_free(t->value);
		return ZW_ENOMEM;
	}
	t->known = is_known(t->name);
	d->ntags++;
	return 0;
}

/* DM-03: the record is ignored. */
static int bad_version(struct ctx *c, long off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad_version(struct ctx *c, long off, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->discard = 1;
	zw_error_set(c->err, ZW_EINVAL, "%s", msg);
	return note(c->fs, "DM-03", off, "begin the record with v=DMARC1; (exactly, in upper case)", "%s",
		    msg)
		       ? 0
		       : ZW_ENOMEM;
}

/* A tag name in upper or mixed case: accepted, NOTICE (the DM-09 class, see dmarc.h). */
static int name_case(struct ctx *c, const char *name, size_t nlen, size_t off)
{
	char low[32], fix[64];
	for (size_t i = 0; i < nlen; i++)
		if (name[i] != lower(name[i])) {
			snprintf(low, sizeof(low), "%.*s", (int)(nlen < 31 ? nlen : 31), name);
			for (size_t k = 0; low[k]; k++)
				low[k] = lower(low[k]);
			snprintf(fix, sizeof(fix), "write the tag name as '%s'", low);
			struct zw_finding *f =
				note(c->fs, "DM-09", (long)off, fix,
				     "tag name '%.*s' at offset %zu is not lower case: read as '%s', but RFC "
				     "7489 §6.3 inherits case-sensitive tag names (RFC 6376 §3.2), so some "
				     "receivers ignore it",
				     (int)(nlen < 31 ? nlen : 31), name, off, low);
			if (!f)
				return ZW_ENOMEM;
			f->sev = ZW_SEV_NOTICE;
			return 0;
		}
	return 0;
}

/* The first segment s[a..b) (WSP trimmed) must be v=DMARC1. */
static int version(struct zw_dmarc *d, struct ctx *c, size_t a, size_t b)
{
	const char *s = d->raw;
	char buf[SHOWBUF];
	if (d->raw_len == 0)
		return bad_version(c, 0,
				   "the record is empty: it must begin with v=DMARC1 "
				   "(RFC 9989 §4.7)");
	if (is_wsp((unsigned char)s[0]))
		return bad_version(c, 0,
				   "the record begins with whitespace: it must begin with "
				   "v=DMARC1, or receivers ignore it (RFC 9989 §4.7, §4.8)");
	size_t j = a;
	while (j < b && is_alpha((unsigned char)s[j]))
		j++;
	size_t nlen = j - a, eq = j;
	while (eq < b && is_wsp((unsigned char)s[eq]))
		eq++;
	if (nlen != 1 || lower(s[a]) != 'v' || eq == b || s[eq] != '=') {
		int later = strstr(s, "v=DMARC1") || strstr(s, "V=DMARC1");
		return bad_version(c, 0,
				   "the record begins with '%s', not v=DMARC1: v must be the "
				   "first tag or receivers ignore the record (RFC 9989 §4.7)%s",
				   show(buf, sizeof(buf), s + a, b - a),
				   later ? "; move v=DMARC1 to the front" : "");
	}
	size_t val = eq + 1;
	while (val < b && is_wsp((unsigned char)s[val]))
		val++;
	size_t vlen = b - val;
	if (vlen != 6 || memcmp(s + val, "DMARC1", 6) != 0) {
		if (vlen == 6 && strncasecmp(s + val, "DMARC1", 6) == 0)
			return bad_version(c, (long)val,
					   "v=%.6s: the version is case-sensitive and "
					   "must be DMARC1, or receivers ignore the record "
					   "(RFC 9989 §4.7, §4.8)",
					   s + val);
		if (vlen > 6 && memcmp(s + val, "DMARC1", 6) == 0 && is_wsp((unsigned char)s[val + 6]))
			return bad_version(c, (long)val + 6,
					   "';' is missing after v=DMARC1 at offset "
					   "%zu: the version reads '%s' and receivers ignore the record "
					   "(RFC 9989 §4.8)",
					   val + 6, show(buf, sizeof(buf), s + val, vlen));
		return bad_version(c, (long)val,
				   "v=%s is not DMARC1: receivers ignore the record "
				   "(RFC 9989 §4.7, §4.8)",
				   show(buf, sizeof(buf), s + val, vlen));
	}
	int rc = name_case(c, s + a, 1, a);
	return rc ? rc : add_tag(d, "v", 1, "DMARC1", 6, a);
}

/* One later segment s[a..b) (WSP trimmed); `last` when no ';' follows it. */
static int tag(struct zw_dmarc *d, struct ctx *c, size_t a, size_t b, int last)
{
	const char *s = d->raw;
	char buf[SHOWBUF], fix[96];
	if (a == b) {
		if (last)
			return 0; /* the optional final dmarc-sep */
		return note(c->fs, "DM-09", (long)a, "remove the extra ';'",
			    "empty tag at offset %zu (two ';' in a row): not in the grammar, "
			    "receivers may ignore it (RFC 9989 §4.8)",
			    a)
			       ? 0
			       : ZW_ENOMEM;
	}
	size_t j = a;
	while (j < b && is_alpha((unsigned char)s[j]))
		j++;
	size_t nlen = j - a, eq = j;
	while (eq < b && is_wsp((unsigned char)s[eq]))
		eq++;
	if (nlen == 0 || eq == b || s[eq] != '=')
		return note(c->fs, "DM-09", (long)a, "write each tag as name=value, separated by ';'",
			    "malformed tag '%s' at offset %zu: a tag is letters, '=' and a value, "
			    "so receivers ignore it (RFC 9989 §4.8)",
			    show(buf, sizeof(buf), s + a, b - a), a)
			       ? 0
			       : ZW_ENOMEM;
	size_t val = eq + 1;
	while (val < b && is_wsp((unsigned char)s[val]))
		val++;
	int rc = name_case(c, s + a, nlen, a);
	if (rc)
		return rc;
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)(nlen < 31 ? nlen : 31), s + a);
	for (size_t k = 0; name[k]; k++)
		name[k] = lower(name[k]);
	for (size_t i = 0; i < d->ntags; i++)
		if (strlen(d->tags[i].name) == nlen && strncasecmp(d->tags[i].name, s + a, nlen) == 0) {
			c->discard = 1;
			zw_error_set(c->err, ZW_EINVAL, "duplicate dmarc tag '%s'", name);
			snprintf(fix, sizeof(fix), "keep one '%s' tag", name);
			return note(c->fs, "DM-10", (long)a, fix,
				    "duplicate tag '%s' at offset %zu (first at %zu): a duplicate makes "
				    "the whole tag-list invalid (RFC 6376 §3.2, inherited by RFC 7489 §6.3)",
				    name, a, d->tags[i].offset)
				       ? 0
				       : ZW_ENOMEM;
		}
	if ((rc = add_tag(d, s + a, nlen, s + val, b - val, a)))
		return rc;
	const struct zw_dmarc_tag *t = &d->tags[d->ntags - 1];
	if (t->known)
		return 0;
	const char *hint = closest(t->name, known_tags, NKNOWN, 2);
	if (hint)
		snprintf(fix, sizeof(fix), "rename '%s' to '%s'", t->name, hint);
	char said[SHOWBUF];
	return note(c->fs, "DM-09", (long)a, hint ? fix : "remove the tag",
		    "unknown tag '%s' at offset %zu: receivers ignore it (RFC 9989 §4.7)%s%s%s",
		    show(said, sizeof(said), s + a, nlen), a, hint ? ": did you mean '" : "",
		    hint ? hint : "", hint ? "'?" : "")
		       ? 0
		       : ZW_ENOMEM;
}

static int tokenize(struct zw_dmarc *d, struct ctx *c)
{
	const char *s = d->raw;
	size_t n = d->raw_len, i = 0;
	for (int first = 1;; first = 0) {
		size_t e = i;
		while (e < n && s[e] != ';')
			e++;
		size_t a = i, b = e;
		while (a < b && is_wsp((unsigned char)s[a]))
			a++;
		while (b > a && is_wsp((unsigned char)s[b - 1]))
			b--;
		int rc = first ? version(d, c, a, b) : tag(d, c, a, b, e == n);
		if (rc || (first && c->discard))
			return rc;
		if (e == n)
			return 0;
		i = e + 1;
	}
}

/* ---- the checks of each tag (dmarcbis §4.7) -------------------------------------------- */

/*
 * p, sp, np. A value that is none of the three is DM-04 and triggers the §4.10.1
 * fallback in finish(). An empty value is not a dmarc-tag at all (1*dmarc-value,
 * §4.8): the tag is ignored and the default applies, still reported as DM-04.
 */
static int check_policy(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c, int which)
{
	static const char *const dflt[] = {"p=none", "sp follows p", "np follows sp, else p"};
	char fix[64];
	if (t->value[0] == '\0') {
		snprintf(fix, sizeof(fix), "set %s to none, quarantine or reject", t->name);
		return note(c->fs, "DM-04", value_offset(d, t), fix,
			    "%s= has no value, so it is not a valid tag and receivers ignore it "
			    "(RFC 9989 §4.8): the default applies, %s",
			    t->name, dflt[which])
			       ? 0
			       : ZW_ENOMEM;
	}
	enum zw_dmarc_policy v = policy_of(t->value);
	enum zw_dmarc_policy *slot[] = {&d->p, &d->sp, &d->np};
	*slot[which] = v;
	if (v == ZW_DMARC_INVALID)
		c->bad_pol[which] = t;
	return 0;
}

static int check_p(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	return check_policy(d, t, c, 0);
}

static int check_sp(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	return check_policy(d, t, c, 1);
}

static int check_np(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	return check_policy(d, t, c, 2);
}

/* A single-letter tag (adkim, aspf, t, psd) with a bad value: DM-09, the default applies. */
static int bad_letter(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c, const char *allowed,
		      const char *dflt)
{
	char buf[SHOWBUF], fix[64];
	snprintf(fix, sizeof(fix), "set %s to one of %s", t->name, allowed);
	return note(c->fs, "DM-09", value_offset(d, t), fix,
		    "invalid %s value '%s' (allowed: %s): receivers fall back to the default, %s "
		    "(RFC 9989 §4.7, §4.8)",
		    t->name, show(buf, sizeof(buf), t->value, strlen(t->value)), allowed, dflt)
		       ? 0
		       : ZW_ENOMEM;
}

static int check_adkim(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	int v = letter_of(t->value, "rs");
	if (v < 0)
		return bad_letter(d, t, c, "r, s", "relaxed alignment (r)");
	d->adkim = (enum zw_dmarc_align)v;
	return 0;
}

static int check_aspf(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	int v = letter_of(t->value, "rs");
	if (v < 0)
		return bad_letter(d, t, c, "r, s", "relaxed alignment (r)");
	d->aspf = (enum zw_dmarc_align)v;
	return 0;
}

static int check_t(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	int v = letter_of(t->value, "ny");
	if (v < 0)
		return bad_letter(d, t, c, "y, n", "n (not testing)");
	d->testing = v == 1;
	if (!d->testing)
		return 0;
	return note(c->fs, "DM-13", value_offset(d, t), "remove t=y once the policy is final",
		    "t=y asks receivers to apply the policy one level lower: reject acts as "
		    "quarantine and quarantine as none (RFC 9989 §4.7)")
		       ? 0
		       : ZW_ENOMEM;
}

static int check_psd(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	int v = letter_of(t->value, "uyn");
	if (v < 0)
		return bad_letter(d, t, c, "y, n, u", "u");
	d->psd = (enum zw_dmarc_psd)v;
	return 0;
}

static int check_fo(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	char buf[SHOWBUF];
	if (fo_valid(t->value)) {
		d->fo = t->value;
		return 0;
	}
	struct zw_finding *f =
		note(c->fs, "DM-16", value_offset(d, t), "use fo=0, 1, d or s (or a ':' list of them)",
		     "invalid fo value '%s': allowed are 0, 1, d and s joined by ':', "
		     "so receivers use the default fo=0 (RFC 9989 §4.7, §4.8 dmarc-fo)",
		     show(buf, sizeof(buf), t->value, strlen(t->value)));
	if (!f)
		return ZW_ENOMEM;
	f->sev = ZW_SEV_ERROR;
	return 0;
}

/* rua= / ruf=: a comma list of URIs (dmarc-urilist); DM-06 and DM-17. */
static int check_uris(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c,
		      struct zw_dmarc_uri **list, size_t *count)
{
	char buf[SHOWBUF], fix[SHOWBUF + 32];
	const char *v = t->value;
	long voff = value_offset(d, t);
	size_t cap = 1;
	for (const char *p = v; *p; p++)
		cap += *p == ',';
	if (!(*list = zw_calloc(cap, sizeof(**list))))
		return ZW_ENOMEM;
	if (v[0] == '\0') {
		(*count)++;
		(*list)[0].offset = (size_t)voff;
		if (!((*list)[0].text = zw_strdup("")))
			return ZW_ENOMEM;
		return note(c->fs, "DM-06", voff,
			    "add a URI such as mailto:dmarc@example.com, or "
			    "remove the tag",
			    "%s= is empty: receivers send no %s reports "
			    "(RFC 9989 §4.7, §4.8)",
			    t->name, strcmp(t->name, "rua") == 0 ? "aggregate" : "failure")
			       ? 0
			       : ZW_ENOMEM;
	}
	size_t i = 0;
	for (;;) {
		size_t e = i + strcspn(v + i, ",");
		size_t a = i, b = e;
		while (a < b && is_wsp((unsigned char)v[a]))
			a++;
		while (b > a && is_wsp((unsigned char)v[b - 1]))
			b--;
		struct zw_dmarc_uri *u = &(*list)[(*count)++];
		const char *why;
		int no_scheme;
		u->offset = (size_t)voff + a;
		if (parse_uri(u, v + a, b - a, &why, &no_scheme))
			return ZW_ENOMEM;
		show(buf, sizeof(buf), v + a, b - a);
		if (why && no_scheme) {
			snprintf(fix, sizeof(fix), "write mailto:%s", buf);
			if (!note(c->fs, "DM-06", (long)u->offset, strchr(buf, '@') ? fix : NULL,
				  "%s is not a valid DMARC report URI - please make sure that the URI "
				  "begins with a schema such as mailto: (%s=, RFC 9989 §4.8)",
				  buf, t->name))
				return ZW_ENOMEM;
		} else if (why) {
			if (!note(c->fs, "DM-06", (long)u->offset,
				  "write comma-separated URIs such as "
				  "mailto:dmarc@example.com",
				  "%s is not a valid DMARC report URI: %s (%s=, RFC 9989 §4.8)",
				  b > a ? buf : "''", why, t->name))
				return ZW_ENOMEM;
		} else if (u->has_size && !note(c->fs, "DM-17", (long)u->offset, "drop the !size suffix",
						"the size limit in %s is obsolete syntax (obs-dmarc-uri, "
						"RFC 9989 §4.8)",
						buf)) {
			return ZW_ENOMEM;
		}
		if (v[e] == '\0')
			break;
		i = e + 1;
	}
	if (*count > 2 && !note(c->fs, "DM-17", voff, "keep at most two URIs",
				"%s= lists %zu URIs: some DMARC reporters might not send to more than "
				"two (RFC 9989 §4.7 requires receivers to support only two)",
				t->name, *count))
		return ZW_ENOMEM;
	return 0;
}

static int check_rua(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	int rc = check_uris(d, t, c, &d->rua, &d->nrua);
	for (size_t i = 0; i < d->nrua; i++)
		d->valid_rua += d->rua[i].valid;
	return rc;
}

static int check_ruf(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	return check_uris(d, t, c, &d->ruf, &d->nruf);
}

/* pct, rf, ri: removed by RFC 9989; noted, not validated strictly (CATALOGUE §B.3). */
static int check_removed(struct zw_dmarc *d, const struct zw_dmarc_tag *t, struct ctx *c)
{
	char buf[SHOWBUF], extra[160] = "";
	if (strcmp(t->name, "pct") == 0) {
		const char *v = t->value;
		size_t n = strlen(v);
		int num = n > 0 && n <= 3 && strspn(v, "0123456789") == n;
		long pct = num ? strtol(v, NULL, 10) : -1;
		d->pct = pct >= 0 && pct <= 100 ? (int)pct : -1;
		if (d->pct < 0)
			snprintf(extra, sizeof(extra), "; '%s' is not a number from 0 to 100",
				 show(buf, sizeof(buf), v, n));
		else if (d->pct < 100)
			snprintf(extra, sizeof(extra),
				 "; RFC 7489 receivers apply the policy to only "
				 "%d%% of failing mail, RFC 9989 receivers to all of it",
				 d->pct);
	}
	return note(c->fs, "DM-11", (long)t->offset, "remove the tag",
		    "support for the %s tag was removed in RFC 9989 (§4.7), while RFC 7489 "
		    "receivers still honour it%s",
		    t->name, extra)
		       ? 0
		       : ZW_ENOMEM;
}

/* ---- after the tags ---------------------------------------------------------------------- */

static enum zw_dmarc_policy one_lower(enum zw_dmarc_policy p)
{
	return p == ZW_DMARC_REJECT ? ZW_DMARC_QUARANTINE : p == ZW_DMARC_QUARANTINE ? ZW_DMARC_NONE : p;
}

static int finish(struct zw_dmarc *d, struct ctx *c)
{
	char buf[SHOWBUF];
	const struct zw_dmarc_tag *p = find_tag(d, "p");
	if (!p && !note(c->fs, "DM-05", -1, "add p=none (or quarantine, reject) right after v=DMARC1",
			"a missing p tag is equivalent to p=none in RFC 9989, but a p tag is "
			"required in older versions of DMARC (RFC 9989 §4.7; RFC 7489 §6.3)"))
		return ZW_ENOMEM;
	if (p && p != &d->tags[1] &&
	    !note(c->fs, "DM-05", (long)p->offset, "move p= right after v=DMARC1",
		  "p= is not the tag right after v=DMARC1: RFC 7489 §6.4 places it second and some "
		  "receivers expect it there"))
		return ZW_ENOMEM;
	const struct zw_dmarc_tag *fo = find_tag(d, "fo");
	if (fo && !find_tag(d, "ruf") &&
	    !note(c->fs, "DM-16", (long)fo->offset,
		  "add ruf= or remove fo=", "fo= is ignored without ruf= (RFC 9989 §4.7)"))
		return ZW_ENOMEM;
	int bad = 0;
	for (size_t i = 0; i < 3; i++) {
		const struct zw_dmarc_tag *t = c->bad_pol[i];
		if (!t)
			continue;
		bad = 1;
		const char *hint = closest(t->value, policy_names, 3, 3);
		char fix[64];
		if (hint)
			snprintf(fix, sizeof(fix), "set %s=%s", t->name, hint);
		else
			snprintf(fix, sizeof(fix), "set %s to none, quarantine or reject", t->name);
		if (!note(c->fs, "DM-04", value_offset(d, t), fix,
			  "invalid %s value '%s' (RFC 9989 §4.7: none, quarantine or reject%s%s%s): %s "
			  "(RFC 9989 §4.10.1; RFC 7489 §6.6.3)",
			  t->name, show(buf, sizeof(buf), t->value, strlen(t->value)),
			  hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "",
			  d->valid_rua ? "rua holds a valid URI, so receivers act as if p=none"
				       : "with no valid rua URI, receivers apply no DMARC at all"))
			return ZW_ENOMEM;
	}
	if (bad) {
		d->applies = d->valid_rua > 0;
		enum zw_dmarc_policy v = d->applies ? ZW_DMARC_NONE : ZW_DMARC_UNSET;
		d->pol_p = d->pol_sp = d->pol_np = v;
	} else {
		d->applies = 1;
		d->pol_p = d->p == ZW_DMARC_UNSET ? ZW_DMARC_NONE : d->p;
		d->pol_sp = d->sp == ZW_DMARC_UNSET ? d->pol_p : d->sp;
		d->pol_np = d->np == ZW_DMARC_UNSET ? d->pol_sp : d->np;
	}
	d->eff_p = d->testing ? one_lower(d->pol_p) : d->pol_p;
	d->eff_sp = d->testing ? one_lower(d->pol_sp) : d->pol_sp;
	d->eff_np = d->testing ? one_lower(d->pol_np) : d->pol_np;
	return 0;
}

void zw_dmarc_free(struct zw_dmarc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ntags; i++) {
		zw_free(d->tags[i].name);
		zw_free(d->tags[i].value);
	}
	zw_free(d->tags);
	uris_free(d->rua, d->nrua);
	uris_free(d->ruf, d->nruf);
	zw_free(d->raw);
	zw_free(d);
}

int zw_dmarc_is_record(const char *v, size_t len)
{
	size_t i = 1;
	if (len < 1 || (v[0] != 'v' && v[0] != 'V'))
		return 0;
	while (i < len && is_wsp((unsigned char)v[i]))
		i++;
	if (i == len || v[i++] != '=')
		return 0;
	while (i < len && is_wsp((unsigned char)v[i]))
		i++;
	if (len - i < 6 || memcmp(v + i, "DMARC1", 6) != 0)
		return 0;
	i += 6;
	while (i < len && is_wsp((unsigned char)v[i]))
		i++;
	return i == len || v[i] == ';';
}

int zw_dmarc_parse(struct zw_dmarc **out, const char *v, size_t len, struct zw_findings *fs,
		   struct zw_error *err)
{
	static const struct {
		const char *name;
		int (*check)(struct zw_dmarc *, const struct zw_dmarc_tag *, struct ctx *);
	} rules[] = {
		{"p", check_p},	       {"sp", check_sp},   {"np", check_np},	   {"adkim", check_adkim},
		{"aspf", check_aspf},  {"fo", check_fo},   {"rua", check_rua},	   {"ruf", check_ruf},
		{"t", check_t},	       {"psd", check_psd}, {"pct", check_removed}, {"rf", check_removed},
		{"ri", check_removed},
	};
	struct ctx c = {fs, err, 0, {NULL, NULL, NULL}};
	struct zw_dmarc *d = NULL;
	int rc;
	assert(fs);
	*out = NULL;
	if (!(d = zw_calloc(1, sizeof(*d))) || !(d->raw = zw_strndup(v, len))) {
		rc = ZW_ENOMEM;
		goto fail;
	}
	d->raw_len = len;
	d->pct = -1;
	const char *nul = memchr(v, '\0', len);
	if (nul) {
		rc = bad_version(&c, (long)(nul - v),
				 "the record holds a nul byte at offset %zu, "
				 "which no DMARC value allows (RFC 9989 §4.8)",
				 (size_t)(nul - v));
		rc = rc ? rc : ZW_EINVAL;
		goto fail;
	}
	if ((rc = tokenize(d, &c)))
		goto fail;
	if (d->ntags == 0) { /* DM-03: nothing else to say */
		rc = ZW_EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < d->ntags; i++)
		for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
			if (strcmp(d->tags[i].name, rules[k].name) == 0 &&
			    (rc = rules[k].check(d, &d->tags[i], &c)))
				goto fail;
	if ((rc = finish(d, &c)))
		goto fail;
	if (c.discard) { /* DM-10 */
		rc = ZW_EINVAL;
		goto fail;
	}
	*out = d;
	return 0;
fail:
	if (rc == ZW_ENOMEM)
		zw_error_set(err, ZW_ENOMEM, "out of memory");
	zw_dmarc_free(d);
	return rc;
}

int zw_dmarc_print(struct zw_buf *out, const struct zw_dmarc *d)
{
	return zw_buf_add(out, d->raw, d->raw_len);
}

int zw_dmarc_print_canonical(struct zw_buf *out, const struct zw_dmarc *d)
{
	for (size_t i = 0; i < d->ntags; i++) {
		int rc = zw_buf_addf(out, "%s%s=%s", i ? "; " : "", d->tags[i].name, d->tags[i].value);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- checks the caller chooses ---------------------------------------------------------- */

int zw_dmarc_check_weak(const struct zw_dmarc *d, struct zw_findings *fs)
{
	if (!d->applies)
		return 0;
	const char *fix = "move to p=quarantine, then p=reject, once aggregate reports show that "
			  "legitimate mail is aligned";
	if (d->pol_p == ZW_DMARC_NONE)
		return note(fs, "DM-12", -1, fix,
			    "p=none only monitors: mail that fails DMARC is delivered as usual "
			    "(RFC 9989 §4.7)")
			       ? 0
			       : ZW_ENOMEM;
	const char *p = zw_dmarc_policy_name(d->pol_p);
	if (d->sp == ZW_DMARC_NONE &&
	    !note(fs, "DM-12", -1, "remove sp= or set it to quarantine or reject",
		  "an sp tag value of none makes DMARC unenforced on email sent as a subdomain, "
		  "under p=%s (RFC 9989 §4.7)",
		  p))
		return ZW_ENOMEM;
	if (d->np == ZW_DMARC_NONE &&
	    !note(fs, "DM-12", -1, "remove np= or set it to quarantine or reject",
		  "an np tag value of none makes DMARC unenforced on email sent as a non-existent "
		  "subdomain, under p=%s (RFC 9989 §4.7)",
		  p))
		return ZW_ENOMEM;
	return 0;
}

int zw_dmarc_check_parked(const struct zw_dmarc *d, int parked, struct zw_findings *fs)
{
	if (!parked)
		return 0;
	if (d->pol_p != ZW_DMARC_REJECT &&
	    !note(fs, "DM-18", -1, "set p=reject",
		  "policy (p=) should be reject for parked domains: the domain sends no mail, "
		  "so everything claiming it is forged (now %s)",
		  zw_dmarc_policy_name(d->pol_p)))
		return ZW_ENOMEM;
	if (d->pol_sp != ZW_DMARC_REJECT && d->sp != ZW_DMARC_UNSET &&
	    !note(fs, "DM-18", -1, "set sp=reject or remove sp=",
		  "subdomain policy (sp=) should be reject for parked domains (now %s)",
		  zw_dmarc_policy_name(d->pol_sp)))
		return ZW_ENOMEM;
	if (d->pol_np != ZW_DMARC_REJECT && d->np != ZW_DMARC_UNSET &&
	    !note(fs, "DM-18", -1, "set np=reject or remove np=",
		  "non-existent subdomain policy (np=) should be reject for parked domains (now %s)",
		  zw_dmarc_policy_name(d->pol_np)))
		return ZW_ENOMEM;
	return 0;
}

int zw_dmarc_check_psd(const struct zw_dmarc *d, int is_psd, struct zw_findings *fs)
{
	const struct zw_dmarc_tag *t = find_tag(d, "psd");
	if (is_psd || d->psd != ZW_DMARC_PSD_Y || !t)
		return 0;
	return note(fs, "DM-19", value_offset(d, t), "remove psd=y",
		    "psd=y declares a public suffix domain, which changes the organizational domain "
		    "of every name below it (RFC 9989 §4.7, §4.10.2)")
		       ? 0
		       : ZW_ENOMEM;
}

/* ---- external destinations ---------------------------------------------------------------- */

/* Append name (lower case, one trailing dot dropped) checking it is a domain name. */
static int add_name(struct zw_buf *b, const char *name, struct zw_error *err)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || name[i] == '.') {
			if (label == 0 || label > 63)
				return zw_error_set(err, ZW_EINVAL,
						    "'%.*s' is not a domain name "
						    "(empty label or label over 63 octets)",
						    (int)(n < 255 ? n : 255), name);
			label = 0;
			if (i < n && zw_buf_addc(b, '.'))
				return zw_error_set(err, ZW_ENOMEM, "out of memory");
			continue;
		}
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f)
			return zw_error_set(err, ZW_EINVAL, "'%.*s' is not a domain name (byte %u)",
					    (int)(n < 255 ? n : 255), name, c);
		label++;
		if (zw_buf_addc(b, lower((char)c)))
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	return 0;
}

static int auth_name(char **out, const char *first, const char *policy_domain, const char *dest_host,
		     struct zw_error *err)
{
	struct zw_buf b = ZW_BUF_INIT;
	int rc = 0;
	if (first) {
		if (zw_buf_adds(&b, first))
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
	} else {
		rc = add_name(&b, policy_domain, err);
	}
	if (!rc && zw_buf_adds(&b, "._report._dmarc."))
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (!rc)
		rc = add_name(&b, dest_host, err);
	if (!rc && b.len > NAME_MAX_LEN)
		rc = zw_error_set(err, ZW_EINVAL,
				  "the authorisation name for %s at %s is longer "
				  "than 253 characters",
				  policy_domain, dest_host);
	if (rc) {
		zw_buf_free(&b);
		return rc;
	}
	*out = zw_buf_detach(&b);
	return 0;
}

int zw_dmarc_report_auth_names(char **name, char **wildcard, const char *policy_domain, const char *dest_host,
			       struct zw_error *err)
{
	char *a = NULL, *w = NULL;
	int rc = auth_name(&a, NULL, policy_domain, dest_host, err);
	if (!rc)
		rc = auth_name(&w, "*", policy_domain, dest_host, err);
	if (rc) {
		zw_free(a);
		zw_free(w);
		return rc;
	}
	if (name)
		*name = a;
	else
		zw_free(a);
	if (wildcard)
		*wildcard = w;
	else
		zw_free(w);
	return 0;
}

/* Does name[0..n) end with suffix (case-insensitive) at a label boundary? */
static int ends_with_label(const char *name, size_t n, const char *suffix, size_t sl)
{
	if (sl == 0 || sl > n || strncasecmp(name + n - sl, suffix, sl) != 0)
		return 0;
	return sl == n || name[n - sl - 1] == '.';
}

int zw_dmarc_orgdomain(size_t *off, const char *name, const struct zw_dmarc_orgrule *rule)
{
	if (rule && rule->orgdomain) {
		size_t o = 0;
		int rc = rule->orgdomain(rule->ctx, name, &o);
		if (rc)
			return rc;
		*off = o <= strlen(name) ? o : 0;
		return 0;
	}
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	size_t best = 0; /* length of the longest public suffix */
	for (size_t i = 0; rule && i < rule->nsuffixes; i++) {
		size_t sl = strlen(rule->suffixes[i]);
		if (sl > best && ends_with_label(name, n, rule->suffixes[i], sl))
			best = sl;
	}
	if (best == 0) { /* the implicit "*" rule: the last label */
		const char *dot = NULL;
		for (size_t i = 0; i < n; i++)
			if (name[i] == '.')
				dot = name + i;
		best = dot ? n - (size_t)(dot - name) - 1 : n;
	}
	if (best >= n) {
		*off = 0;
		return 0;
	}
	size_t start = n - best - 1; /* the dot before the suffix */
	while (start > 0 && name[start - 1] != '.')
		start--;
	*off = start;
	return 0;
}

int zw_dmarc_same_orgdomain(const char *a, const char *b, const struct zw_dmarc_orgrule *rule)
{
	size_t oa, ob;
	int rc = zw_dmarc_orgdomain(&oa, a, rule);
	if (!rc)
		rc = zw_dmarc_orgdomain(&ob, b, rule);
	if (rc)
		return rc;
	const char *x = a + oa, *y = b + ob;
	size_t lx = strlen(x), ly = strlen(y);
	if (lx && x[lx - 1] == '.')
		lx--;
	if (ly && y[ly - 1] == '.')
		ly--;
	return lx == ly && strncasecmp(x, y, lx) == 0;
}

int zw_dmarc_uri_is_external(const struct zw_dmarc_uri *u, const char *policy_domain,
			     const struct zw_dmarc_orgrule *rule)
{
	if (!u->valid || !u->host)
		return 0;
	int rc = zw_dmarc_same_orgdomain(u->host, policy_domain, rule);
	return rc < 0 ? rc : !rc;
}
