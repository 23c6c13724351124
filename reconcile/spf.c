/*
 * spf.c - SPF (RFC 7208): selection, the §12 grammar, lint, printing, and check_host()
 * with lookup accounting (see spf.h).
 *
 * Owns: struct zw_spf (a copy of the record text and the term array; every pointer in a
 * term points into that text) and struct zw_spf_result (all its strings).
 * Invariants: parsing never fails on input, only on memory; a record with
 * permerror == 0 matches the ABNF of §12 exactly and zw_spf_print() reproduces any input.
 * Evaluation keeps no state outside its struct eval: it is re-entrant, and every DNS
 * answer, parsed record and expanded name it makes is freed before it returns.
 */
#include "reconcile/spf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reconcile/alloc.h"

/* ------------------------------------------------------------------------------------ */
/* character classes and small helpers */

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}
static int is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}
static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}
static int is_name_char(int c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* s[0..n) equals the NUL-terminated word, ignoring case. */
static int eq_ci(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static int starts_ci(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);
	return n >= w && strncasecmp(s, word, w) == 0;
}

/* Display a piece of input in a message: printable ASCII as is, other bytes as \DDD
 * (decimal, RFC 1035 §5.1), cut with "..." past `max` bytes. */
static const char *show(char *dst, size_t dsz, const char *s, size_t n, size_t max)
{
	size_t o = 0, i;
	for (i = 0; i < n && i < max && o + 5 < dsz; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dsz - o, "\\%03u", c);
	}
	if (i < n && o + 4 < dsz) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o < dsz ? o : dsz - 1] = '\0';
	return dst;
}

/* Optimal string alignment distance of two short lower-cased words (for "did you mean"). */
static int edit_distance(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	int d[34][34];
	if (an > 32 || bn > 32)
		return 99;
	for (size_t i = 0; i <= an; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= bn; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= an; i++) {
		for (size_t j = 1; j <= bn; j++) {
			int cost = lower(a[i - 1]) != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == b[j - 2] && lower(a[i - 2]) == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[an][bn];
}

/* ------------------------------------------------------------------------------------ */
/* the term tables */

enum arg_shape { ARG_NONE, ARG_DOMAIN, ARG_DOMAIN_OPT, ARG_DOMAIN_CIDR, ARG_IP4, ARG_IP6 };

static const struct mech_def {
	const char *name;
	enum zw_spf_kind kind;
	enum arg_shape args;
	int lookup; /* counts toward the limit of 10 (§4.6.4) */
} mechs[] = {
	{"all", ZW_SPF_ALL, ARG_NONE, 0},	{"include", ZW_SPF_INCLUDE, ARG_DOMAIN, 1},
	{"a", ZW_SPF_A, ARG_DOMAIN_CIDR, 1},	{"mx", ZW_SPF_MX, ARG_DOMAIN_CIDR, 1},
	{"ptr", ZW_SPF_PTR, ARG_DOMAIN_OPT, 1}, {"ip4", ZW_SPF_IP4, ARG_IP4, 0},
	{"ip6", ZW_SPF_IP6, ARG_IP6, 0},	{"exists", ZW_SPF_EXISTS, ARG_DOMAIN, 1},
};
#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

static const char *const kind_names[] = {
	[ZW_SPF_ALL] = "all", [ZW_SPF_INCLUDE] = "include",   [ZW_SPF_A] = "a",
	[ZW_SPF_MX] = "mx",   [ZW_SPF_PTR] = "ptr",	      [ZW_SPF_IP4] = "ip4",
	[ZW_SPF_IP6] = "ip6", [ZW_SPF_EXISTS] = "exists",     [ZW_SPF_REDIRECT] = "redirect",
	[ZW_SPF_EXP] = "exp", [ZW_SPF_MODIFIER] = "modifier", [ZW_SPF_BAD] = "invalid",
};

const char *zw_spf_kind_name(enum zw_spf_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[kind];
}

static const char qual_chars[] = {
	[ZW_SPF_Q_PASS] = '+', [ZW_SPF_Q_FAIL] = '-', [ZW_SPF_Q_SOFTFAIL] = '~', [ZW_SPF_Q_NEUTRAL] = '?'};

static int qualifier_of(int c, enum zw_spf_qualifier *q)
{
	for (size_t i = 0; i < sizeof(qual_chars); i++) {
		if (qual_chars[i] == c) {
			*q = (enum zw_spf_qualifier)i;
			return 1;
		}
	}
	return 0;
}

static const struct mech_def *mech_find(const char *s, size_t n)
{
	for (size_t i = 0; i < N_MECHS; i++)
		if (eq_ci(s, n, mechs[i].name))
			return &mechs[i];
	return NULL;
}

/* The nearest term name, with the separator it takes ("ip4:", "redirect="), or NULL. */
static const char *suggest(const char *s, size_t n, char *buf, size_t bsz)
{
	static const char *const mods[] = {"redirect", "exp"};
	int best = 99;
	const char *name = NULL, *sep = ":";
	for (size_t i = 0; i < N_MECHS; i++) {
		int d = edit_distance(s, n, mechs[i].name);
		int limit = strlen(mechs[i].name) <= 3 ? 1 : 2;
		if (d <= limit && d < best) {
			best = d;
			name = mechs[i].name;
			sep = mechs[i].args == ARG_NONE ? "" : ":";
		}
	}
	for (size_t i = 0; i < 2; i++) {
		int d = edit_distance(s, n, mods[i]);
		int limit = strlen(mods[i]) <= 3 ? 1 : 2;
		if (d <= limit && d < best) {
			best = d;
			name = mods[i];
			sep = "=";
		}
	}
	if (!name)
		return NULL;
	snprintf(buf, bsz, "%s%s", name, sep);
	return buf;
}

/* ------------------------------------------------------------------------------------ */
/* problems: what is wrong with one term (no allocation, so sub-parses can be silent) */

struct problem {
	const char *id; /* catalogue class */
	size_t off;	/* absolute byte offset */
	char msg[600];
};

static int fail(struct problem *pb, const char *id, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct problem *pb, const char *id, size_t off, const char *fmt, ...)
{
	if (pb) {
		va_list ap;
		pb->id = id;
		pb->off = off;
		va_start(ap, fmt);
		vsnprintf(pb->msg, sizeof(pb->msg), fmt, ap);
		va_end(ap);
	}
	return 1;
}

/* ------------------------------------------------------------------------------------ */
/* macro-string and domain-spec (§7.1, §12) */

enum ms_ctx { MS_DOMAIN, MS_MODIFIER, MS_EXPTEXT };
enum ms_err { MS_OK, MS_BAD_CHAR, MS_BAD_MACRO, MS_CRT, MS_ZERO };

struct ms_info {
	int has_macro;
	size_t tail;	 /* start of the literal text after the last macro-expand */
	int ends_expand; /* the string ends with a macro-expand */
	size_t err_at;
	char letter;
};

static int is_macro_letter(int c)
{
	return c && strchr("slodiphcrtv", lower(c)) != NULL;
}
static int is_delimiter(int c)
{
	return c && strchr(".-+,/_=", c) != NULL;
}

/* Scan one macro-expand at s[i] == '%'; returns its length, or 0 when malformed. */
static size_t macro_len(const char *s, size_t n, size_t i, int *zero)
{
	*zero = 0;
	if (i + 1 >= n)
		return 0;
	if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-')
		return 2;
	if (s[i + 1] != '{' || i + 2 >= n || !is_macro_letter(s[i + 2]))
		return 0;
	size_t j = i + 3, d0 = j;
	int nonzero = 0;
	while (j < n && is_digit(s[j])) {
		if (s[j] != '0')
			nonzero = 1;
		j++;
	}
	if (j > d0 && !nonzero)
		*zero = 1;
	if (j < n && (s[j] == 'r' || s[j] == 'R'))
		j++;
	while (j < n && is_delimiter(s[j]))
		j++;
	if (j >= n || s[j] != '}')
		return 0;
	return j + 1 - i;
}

static enum ms_err scan_macro_string(const char *s, size_t n, enum ms_ctx ctx, struct ms_info *mi)
{
	memset(mi, 0, sizeof(*mi));
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int zero;
			size_t m = macro_len(s, n, i, &zero);
			mi->err_at = i;
			if (!m)
				return MS_BAD_MACRO;
			if (zero)
				return MS_ZERO;
			if (m > 2 && ctx == MS_DOMAIN && strchr("crt", lower(s[i + 2]))) {
				mi->letter = s[i + 2];
				return MS_CRT;
			}
			mi->has_macro = 1;
			i += m;
			mi->tail = i;
			continue;
		}
		if ((c >= 0x21 && c <= 0x7e) || (c == ' ' && ctx == MS_EXPTEXT)) {
			i++;
			continue;
		}
		mi->err_at = i;
		return MS_BAD_CHAR;
	}
	mi->ends_expand = n > 0 && mi->tail == n;
	return MS_OK;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int valid_toplabel(const char *s, size_t n)
{
	int alpha = 0, hyphen = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (is_alpha(s[i]))
			alpha = 1;
		else if (s[i] == '-')
			hyphen = 1;
		else if (!is_digit(s[i]))
			return 0;
	}
	if (hyphen)
		return is_alnum(s[0]) && is_alnum(s[n - 1]);
	return alpha;
}

static int all_digits_dots(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return 0;
	return n > 0;
}

/*
 * domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand.
 * `what` names the term for messages; off is the absolute offset of s.
 */
static int check_domain_spec(const char *s, size_t n, size_t off, const char *what, int *has_macro,
			     struct problem *pb)
{
	struct ms_info mi;
	char d[128];
	if (n == 0)
		return fail(pb, "SP-05", off, "%s needs a domain after ':' at offset %zu (RFC 7208 §12)",
			    what, off);
	switch (scan_macro_string(s, n, MS_DOMAIN, &mi)) {
	case MS_OK: break;
	case MS_BAD_CHAR:
		return fail(pb, "SP-05", off + mi.err_at,
			    "byte '%s' at offset %zu is not allowed in the domain of %s (RFC 7208 §12)",
			    show(d, sizeof(d), s + mi.err_at, 1, 1), off + mi.err_at, what);
	case MS_BAD_MACRO:
		return fail(pb, "SP-08", off + mi.err_at,
			    "invalid macro '%s' at offset %zu in %s: a macro is "
			    "%%{letter[digits][r][delimiters]}, %%%%, %%_ or %%- (RFC 7208 §7.1)",
			    show(d, sizeof(d), s + mi.err_at, n - mi.err_at, 12), off + mi.err_at, what);
	case MS_ZERO:
		return fail(pb, "SP-08", off + mi.err_at,
			    "invalid macro '%s' at offset %zu in %s: the digit transformer must be nonzero "
			    "(RFC 7208 §7.3)",
			    show(d, sizeof(d), s + mi.err_at, n - mi.err_at, 12), off + mi.err_at, what);
	case MS_CRT:
		return fail(pb, "SP-08", off + mi.err_at,
			    "macro letter '%c' at offset %zu in %s is only allowed in explanation text (RFC "
			    "7208 §7.3)",
			    mi.letter, off + mi.err_at, what);
	}
	if (has_macro)
		*has_macro = mi.has_macro;
	if (mi.ends_expand)
		return 0;
	/* the literal tail after the last macro: [...] "." toplabel [ "." ] */
	size_t end = n;
	if (end > mi.tail && s[end - 1] == '.')
		end--;
	size_t dot = end;
	while (dot > mi.tail && s[dot - 1] != '.')
		dot--;
	if (dot > mi.tail && valid_toplabel(s + dot, end - dot))
		return 0;
	if (all_digits_dots(s, n))
		return fail(pb, "SP-07", off,
			    "%s takes a domain, not the address '%s' (RFC 7208 §12): did you mean 'ip4:%s'?",
			    what, show(d, sizeof(d), s, n, 60), show(d + 64, sizeof(d) - 64, s, n, 60));
	return fail(pb, "SP-05", off,
		    "invalid domain '%s' in %s at offset %zu: it must end in a macro or a top label with a "
		    "letter (RFC 7208 §12)",
		    show(d, sizeof(d), s, n, 80), what, off);
}

/* ------------------------------------------------------------------------------------ */
/* addresses and prefix lengths (§5.6, §12, RFC 4291 §2.2) */

/* ip4-network = qnum "." qnum "." qnum "." qnum, qnum 0-255 without leading zeros */
static int parse_ip4(const char *s, size_t n, unsigned char out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		size_t st = i;
		unsigned v = 0;
		while (i < n && is_digit(s[i]) && i - st < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == st || i - st > 3 || v > 255 || (i - st > 1 && s[st] == '0'))
			return 0;
		out[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

/* RFC 4291 §2.2 text forms (the IPv6address rule of RFC 3986): 8 groups, or fewer
 * around one "::"; an IPv4 dotted quad may stand for the last two groups. */
static int parse_ip6(const char *s, size_t n, unsigned char out[16])
{
	char tmp[64];
	size_t groups = 0, i = 0;
	int dbl = 0;
	if (n < 2 || n >= sizeof(tmp))
		return 0;
	if (s[0] == ':') {
		if (s[1] != ':')
			return 0;
		dbl = 1;
		i = 2;
	}
	while (i < n) {
		size_t st = i;
		while (i < n && is_hex(s[i]) && i - st < 5)
			i++;
		if (i < n && s[i] == '.') { /* embedded IPv4: must be the end */
			unsigned char v4[4];
			if (!parse_ip4(s + st, n - st, v4))
				return 0;
			groups += 2;
			i = n;
			break;
		}
		if (i == st || i - st > 4)
			return 0;
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return 0;
		i++;
		if (i < n && s[i] == ':') {
			if (dbl)
				return 0;
			dbl = 1;
			i++;
		} else if (i == n) {
			return 0; /* a single trailing ':' */
		}
	}
	if (dbl ? groups > 7 : groups != 8)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1;
}

/* "/" ( "0" / %x31-39 0*1DIGIT ) for ip4 (max 32), 0*2DIGIT for ip6 (max 128). */
static int parse_cidr(const char *s, size_t n, int max, int *out)
{
	size_t maxdig = max > 99 ? 3 : 2;
	int v = 0;
	if (n == 0 || n > maxdig || (n > 1 && s[0] == '0'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return 0;
	*out = v;
	return 1;
}

/*
 * Split a trailing dual-cidr-length off s[0..n): sets *cut to where it starts and the
 * digit runs of its two parts (NULL when absent). Only the shape "/D" "//D" "/D//D" at
 * the very end is taken: a domain-spec can never end in "/" DIGIT (domain-end).
 */
static void split_dual_cidr(const char *s, size_t n, size_t *cut, const char **c4, size_t *c4n,
			    const char **c6, size_t *c6n)
{
	size_t k = n, j;
	*c4 = *c6 = NULL;
	*c4n = *c6n = 0;
	j = k;
	while (j > 0 && is_digit(s[j - 1]))
		j--;
	if (j < k && j >= 2 && s[j - 1] == '/' && s[j - 2] == '/') {
		*c6 = s + j;
		*c6n = k - j;
		k = j - 2;
	}
	j = k;
	while (j > 0 && is_digit(s[j - 1]))
		j--;
	if (j < k && j >= 1 && s[j - 1] == '/' && !(j >= 2 && s[j - 2] == '/')) {
		*c4 = s + j;
		*c4n = k - j;
		k = j - 1;
	}
	*cut = k;
}

static int check_dual_cidr(struct zw_spf_term *t, const char *c4, size_t c4n, const char *c6, size_t c6n,
			   size_t off4, size_t off6, const char *what, struct problem *pb)
{
	char d[64];
	if (c4 && !parse_cidr(c4, c4n, 32, &t->cidr4))
		return fail(pb, "SP-07", off4,
			    "invalid ip4 prefix length '/%s' in %s at offset %zu: it is 0-32 without leading "
			    "zeros (RFC 7208 §5.6, §12)",
			    show(d, sizeof(d), c4, c4n, 20), what, off4);
	if (c6 && !parse_cidr(c6, c6n, 128, &t->cidr6))
		return fail(pb, "SP-07", off6,
			    "invalid ip6 prefix length '//%s' in %s at offset %zu: it is 0-128 without "
			    "leading zeros (RFC 7208 §5.6, §12)",
			    show(d, sizeof(d), c6, c6n, 20), what, off6);
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* one term */

/* Is s[0..n) a modifier, i.e. name "=" ...? Sets the name length. */
static int modifier_form(const char *s, size_t n, size_t *name_len)
{
	size_t i = 0;
	if (n == 0 || !is_alpha(s[0]))
		return 0;
	while (i < n && is_name_char(s[i]))
		i++;
	if (i < n && s[i] == '=') {
		*name_len = i;
		return 1;
	}
	return 0;
}

static int parse_args(struct zw_spf_term *t, const struct mech_def *m, const char *r, size_t rn, size_t roff,
		      struct problem *pb)
{
	char what[24], d[128];
	snprintf(what, sizeof(what), "'%s'", m->name);
	switch (m->args) {
	case ARG_NONE:
		if (rn)
			return fail(pb, "SP-05", roff,
				    "'all' takes no argument, found '%s' at offset %zu (RFC 7208 §5.1)",
				    show(d, sizeof(d), r, rn, 40), roff);
		return 0;
	case ARG_DOMAIN:
		if (rn == 0 || r[0] != ':')
			return fail(pb, "SP-05", roff, "%s needs ':domain' at offset %zu (RFC 7208 §12)",
				    what, roff);
		t->domain = r + 1;
		t->domain_len = rn - 1;
		return check_domain_spec(r + 1, rn - 1, roff + 1, what, &t->has_macro, pb);
	case ARG_DOMAIN_OPT:
		if (rn == 0)
			return 0;
		if (r[0] != ':')
			return fail(pb, "SP-05", roff,
				    "unexpected '%s' after %s at offset %zu: it takes only ':domain' (RFC "
				    "7208 §5.5)",
				    show(d, sizeof(d), r, rn, 40), what, roff);
		t->domain = r + 1;
		t->domain_len = rn - 1;
		return check_domain_spec(r + 1, rn - 1, roff + 1, what, &t->has_macro, pb);
	case ARG_DOMAIN_CIDR: {
		const char *c4, *c6;
		size_t c4n, c6n, cut;
		if (rn == 0)
			return 0;
		if (r[0] != ':' && r[0] != '/')
			return fail(pb, "SP-05", roff,
				    "unexpected '%s' after %s at offset %zu (RFC 7208 §12)",
				    show(d, sizeof(d), r, rn, 40), what, roff);
		size_t b = r[0] == ':' ? 1 : 0;
		split_dual_cidr(r + b, rn - b, &cut, &c4, &c4n, &c6, &c6n);
		if (b) {
			t->domain = r + 1;
			t->domain_len = cut;
			if (cut == 0)
				return fail(pb, "SP-05", roff + 1,
					    "%s needs a domain after ':' at offset %zu (RFC 7208 §12)", what,
					    roff + 1);
			if (check_domain_spec(r + 1, cut, roff + 1, what, &t->has_macro, NULL)) {
				/* "a:x.example/2x": a good domain before a bad prefix length */
				const char *slash = memchr(r + 1, '/', cut);
				size_t sl = slash ? (size_t)(slash - (r + 1)) : 0;
				if (slash && sl > 0 &&
				    !check_domain_spec(r + 1, sl, roff + 1, what, NULL, NULL))
					return fail(pb, "SP-07", roff + 1 + sl,
						    "invalid prefix length '%s' in %s at offset %zu: it is "
						    "/0-32 and //0-128 (RFC 7208 §5.6, §12)",
						    show(d, sizeof(d), slash, cut - sl, 40), what,
						    roff + 1 + sl);
				return check_domain_spec(r + 1, cut, roff + 1, what, &t->has_macro, pb);
			}
		} else if (cut != 0) {
			return fail(pb, "SP-07", roff,
				    "invalid prefix length '%s' after %s at offset %zu: it is /0-32 and "
				    "//0-128 (RFC 7208 §5.6, §12)",
				    show(d, sizeof(d), r, rn, 40), what, roff);
		}
		return check_dual_cidr(t, c4, c4n, c6, c6n, roff + b + (size_t)(c4 ? c4 - (r + b) : 0),
				       roff + b + (size_t)(c6 ? c6 - (r + b) : 0), what, pb);
	}
	case ARG_IP4:
	case ARG_IP6: {
		int six = m->args == ARG_IP6;
		if (rn == 0 || r[0] != ':')
			return fail(pb, "SP-07", roff, "%s needs ':address' at offset %zu (RFC 7208 §5.6)",
				    what, roff);
		const char *a = r + 1, *slash = memchr(a, '/', rn - 1);
		size_t an = slash ? (size_t)(slash - a) : rn - 1;
		const char *pct = memchr(a, '%', rn - 1);
		if (pct && pct + 1 < r + rn && strchr("{%_-", pct[1]))
			return fail(pb, "SP-08", roff + 1,
				    "macro in %s at offset %zu: macros are allowed only in a domain-spec, "
				    "never in "
				    "an address (RFC 7208 §7.1, §12)",
				    what, roff + 1);
		int ok = six ? parse_ip6(a, an, t->ip) : parse_ip4(a, an, t->ip);
		if (!ok) {
			unsigned char other[16];
			int swapped = six ? parse_ip4(a, an, other) : parse_ip6(a, an, other);
			return fail(pb, "SP-07", roff + 1,
				    "invalid %s address '%s' at offset %zu (RFC 7208 §5.6, §12)%s",
				    six ? "ip6" : "ip4", show(d, sizeof(d), a, an, 60), roff + 1,
				    swapped ? (six ? ": did you mean 'ip4:'?" : ": did you mean 'ip6:'?")
					    : (six ? "" : ": four numbers 0-255 without leading zeros"));
		}
		if (slash) {
			int *c = six ? &t->cidr6 : &t->cidr4;
			size_t cn = rn - 1 - an - 1;
			if (!parse_cidr(slash + 1, cn, six ? 128 : 32, c))
				return fail(
					pb, "SP-07", roff + 1 + an,
					"invalid prefix length '%s' at offset %zu: %s (RFC 7208 §5.6, §12)",
					show(d, sizeof(d), slash, cn + 1, 20), roff + 1 + an,
					six ? "/0-128 without leading zeros" : "/0-32 without leading zeros");
		}
		return 0;
	}
	}
	return 0;
}

/*
 * Parse one term s[0..n) at absolute offset off into t. 0 when valid; 1 with pb filled
 * (if not NULL) when not. Pure: no allocation, no findings.
 */
static int parse_term(struct zw_spf_term *t, const char *s, size_t n, size_t off, struct problem *pb)
{
	char d[128], sg[24];
	size_t nl, i = 0;
	t->kind = ZW_SPF_BAD;
	t->qualifier = ZW_SPF_Q_PASS;
	t->cidr4 = t->cidr6 = -1;
	if (modifier_form(s, n, &nl)) {
		t->name = s;
		t->name_len = nl;
		t->domain = s + nl + 1;
		t->domain_len = n - nl - 1;
		if (eq_ci(s, nl, "redirect") || eq_ci(s, nl, "exp")) {
			int redirect = eq_ci(s, nl, "redirect");
			if (check_domain_spec(s + nl + 1, n - nl - 1, off + nl + 1,
					      redirect ? "'redirect='" : "'exp='", &t->has_macro, pb))
				return 1;
			t->kind = redirect ? ZW_SPF_REDIRECT : ZW_SPF_EXP;
			return 0;
		}
		struct ms_info mi;
		enum ms_err e = scan_macro_string(s + nl + 1, n - nl - 1, MS_MODIFIER, &mi);
		if (e == MS_BAD_CHAR)
			return fail(pb, "SP-05", off + nl + 1 + mi.err_at,
				    "byte '%s' at offset %zu is not allowed in the value of modifier '%s' "
				    "(RFC 7208 §12)",
				    show(d, sizeof(d), s + nl + 1 + mi.err_at, 1, 1),
				    off + nl + 1 + mi.err_at, show(sg, sizeof(sg), s, nl, 20));
		if (e != MS_OK)
			return fail(pb, "SP-08", off + nl + 1 + mi.err_at,
				    "invalid macro '%s' at offset %zu in modifier '%s' (RFC 7208 §7.1, §7.3)",
				    show(d, sizeof(d), s + nl + 1 + mi.err_at, n - nl - 1 - mi.err_at, 12),
				    off + nl + 1 + mi.err_at, show(sg, sizeof(sg), s, nl, 20));
		t->has_macro = mi.has_macro;
		t->kind = ZW_SPF_MODIFIER;
		return 0;
	}
	if (n > 0 && qualifier_of(s[0], &t->qualifier)) {
		t->explicit_qualifier = 1;
		i = 1;
	}
	size_t st = i;
	while (i < n && is_name_char(s[i]))
		i++;
	t->name = s + st;
	t->name_len = i - st;
	const struct mech_def *m = mech_find(s + st, i - st);
	if (!m) {
		const char *hint = suggest(s + st, i - st, sg, sizeof(sg));
		if (i == st)
			return fail(pb, "SP-05", off, "unknown term '%s' at offset %zu (RFC 7208 §12)",
				    show(d, sizeof(d), s, n, 60), off);
		return fail(pb, "SP-05", off + st,
			    "unknown mechanism '%s' at offset %zu (RFC 7208 §12)%s%s%s",
			    show(d, sizeof(d), s + st, i - st, 40), off + st, hint ? ": did you mean '" : "",
			    hint ? hint : "", hint ? "'?" : "");
	}
	if (parse_args(t, m, s + i, n - i, off + i, pb))
		return 1;
	t->kind = m->kind;
	return 0;
}

/* Does s start like a term (qualifier, then a known name and ':' '/' or the end, or a
 * known modifier with '=')? */
static int starts_term(const char *s, size_t n)
{
	size_t i = 0;
	if (starts_ci(s, n, "redirect=") || starts_ci(s, n, "exp="))
		return 1;
	enum zw_spf_qualifier q;
	if (n > 0 && qualifier_of(s[0], &q))
		i = 1;
	for (size_t k = 0; k < N_MECHS; k++) {
		size_t l = strlen(mechs[k].name);
		if (starts_ci(s + i, n - i, mechs[k].name) &&
		    (i + l == n || s[i + l] == ':' || s[i + l] == '/'))
			return 1;
	}
	return 0;
}

/*
 * A bad token that is two good terms glued together ("ip4:192.0.2.7~all"), or joined
 * with ',' or ';'. Returns the position where the second term starts (0: not found);
 * *sep is the separator character, or 0 when the terms touch.
 */
static size_t find_glue(const char *s, size_t n, int depth, char *sep)
{
	struct zw_spf_term t;
	size_t tried = 0;
	if (depth > 3 || n > 2048)
		return 0;
	for (size_t p = 1; p < n && tried < 64; p++) {
		int has_sep = s[p - 1] == ',' || s[p - 1] == ';';
		if (!starts_term(s + p, n - p) && !(has_sep && p == n))
			continue;
		tried++;
		size_t plen = has_sep ? p - 1 : p;
		memset(&t, 0, sizeof(t));
		if (plen == 0 || parse_term(&t, s, plen, 0, NULL))
			continue;
		char sub;
		memset(&t, 0, sizeof(t));
		if (parse_term(&t, s + p, n - p, 0, NULL) && !find_glue(s + p, n - p, depth + 1, &sub))
			continue;
		*sep = has_sep ? s[p - 1] : 0;
		return p;
	}
	/* "include:a.example," at the end of a record */
	if (n > 1 && (s[n - 1] == ',' || s[n - 1] == ';')) {
		memset(&t, 0, sizeof(t));
		if (!parse_term(&t, s, n - 1, 0, NULL)) {
			*sep = s[n - 1];
			return n;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* the record */

void zw_spf_free(struct zw_spf *spf)
{
	if (!spf)
		return;
	zw_free(spf->terms);
	zw_free(spf->text);
	zw_free(spf);
}

int zw_spf_is_record(const char *v, size_t len)
{
	return v && len >= 6 && strncasecmp(v, "v=spf1", 6) == 0 && (len == 6 || v[6] == ' ');
}

int zw_spf_check_sender_id(struct zw_findings *fs, const char *v, size_t len)
{
	char d[128];
	if (!v || !starts_ci(v, len, "spf2.0/"))
		return 0;
	if (fs && !zw_findings_add(fs, "SP-21", 0,
				   "leftover sender id record '%s': rfc 4406 is historic and receivers "
				   "ignore it; delete it (RFC 7208 §1.1.2)",
				   show(d, sizeof(d), v, len, 60)))
		return ZW_ENOMEM;
	return 1;
}

/* A window of the record around `at`, with checkdmarc's marker: "...ip4:192.0.2.7➞~all". */
static void marked(char *dst, size_t dsz, const char *v, size_t len, size_t at)
{
	char a[200], b[200];
	size_t from = at > 60 ? at - 60 : 0;
	show(a, sizeof(a), v + from, at - from, 60);
	show(b, sizeof(b), v + at, len - at, 60);
	snprintf(dst, dsz, "%s%s\xe2\x9e\x9e%s", from ? "..." : "", a, b);
}

static struct zw_finding *add(struct zw_findings *fs, const char *id, long off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct zw_finding *add(struct zw_findings *fs, const char *id, long off, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return zw_findings_add(fs, id, off, "%s", msg);
}

#define ADD(...)                                                                                             \
	do {                                                                                                 \
		if (fs && !add(fs, __VA_ARGS__))                                                             \
			return ZW_ENOMEM;                                                                    \
	} while (0)

#define ADD_SEV(level_, ...)                                                                                 \
	do {                                                                                                 \
		struct zw_finding *f_;                                                                       \
		if (fs) {                                                                                    \
			if (!(f_ = add(fs, __VA_ARGS__)))                                                    \
				return ZW_ENOMEM;                                                            \
			f_->sev = (level_);                                                                  \
		}                                                                                            \
	} while (0)

static int check_version(struct zw_spf *spf, struct zw_findings *fs)
{
	const char *v = spf->text;
	size_t n = spf->version_len, len = spf->len;
	char d[128], mk[512];
	struct zw_spf_term t;
	int glued;
	if (zw_spf_is_record(v, len))
		return 0;
	spf->permerror = 1;
	memset(&t, 0, sizeof(t));
	glued = starts_ci(v, n, "v=spf1") && n > 6 && !parse_term(&t, v + 6, n - 6, 6, NULL);
	if (starts_ci(v, len, "spf2.0/"))
		ADD("SP-03", 0,
		    "'%s' is a sender id record (rfc 4406), not spf: an spf record begins with 'v=spf1' (RFC "
		    "7208 §4.5)",
		    show(d, sizeof(d), v, n, 40));
	else if (starts_ci(v, n, "v=spf1") && n > 6 && is_digit(v[6]))
		ADD("SP-03", 6,
		    "version '%s' is not 'v=spf1': the record is ignored and the result is none (RFC 7208 "
		    "§4.5)",
		    show(d, sizeof(d), v, n, 40));
	else if (glued) {
		marked(mk, sizeof(mk), v, len, 6);
		ADD("SP-03", 6,
		    "expected a space after 'v=spf1' at offset 6 (marked with \xe2\x9e\x9e): %s; the record "
		    "is ignored and the result is none (RFC 7208 §4.5)",
		    mk);
	} else if (starts_ci(v, n, "v=spf1"))
		ADD("SP-03", 6,
		    "'v=spf1' must be followed by a space or the end of the record, found '%s': the record "
		    "is ignored (RFC 7208 §4.5)",
		    show(d, sizeof(d), v + 6, n - 6, 1));
	else if (n == 0)
		ADD("SP-03", 0,
		    "the record begins with a space, so it does not begin with 'v=spf1' and is ignored (RFC "
		    "7208 §4.5)");
	else
		ADD("SP-03", 0,
		    "version '%s' is not 'v=spf1': the record is ignored and the result is none (RFC 7208 "
		    "§4.5)",
		    show(d, sizeof(d), v, n, 40));
	return 0;
}

/* The bad term's finding: glued terms (SP-06) or wrong separators beat the plain error. */
static int report_bad(struct zw_spf *spf, struct zw_spf_term *t, const struct problem *pb,
		      struct zw_findings *fs)
{
	const char *s = spf->text + t->offset;
	char sep = 0, mk[512], a[128], b[128];
	size_t p = find_glue(s, t->len, 0, &sep);
	size_t at = t->offset + p;
	if (t->after_all) {
		/* the most specific finding: a broken term after all (SP-20), not also SP-05 */
		ADD_SEV(ZW_SEV_ERROR, "SP-20", (long)t->offset,
			"'%s' after 'all' at offset %zu is a syntax error: the whole record is permerror, "
			"not just ignored (RFC 7208 §4.6, §5.1)",
			show(a, sizeof(a), s, t->len, 60), t->offset);
		return 0;
	}
	if (p && sep) {
		size_t plen = p - 1;
		show(a, sizeof(a), s, plen, 60);
		show(b, sizeof(b), s + p, t->len - p, 60);
		if (p == t->len)
			ADD("SP-05", (long)(at - 1),
			    "stray '%c' after '%s' at offset %zu: terms are separated by spaces only (RFC "
			    "7208 §12)",
			    sep, a, at - 1);
		else
			ADD("SP-05", (long)(at - 1),
			    "'%c' between '%s' and '%s' at offset %zu: terms are separated by spaces, not "
			    "'%c' (RFC 7208 §12)",
			    sep, a, b, at - 1, sep);
	} else if (p) {
		marked(mk, sizeof(mk), spf->text, spf->len, at);
		ADD("SP-06", (long)at,
		    "expected a space before '%s' at offset %zu (marked with \xe2\x9e\x9e) in: %s (RFC 7208 "
		    "§12)",
		    show(b, sizeof(b), s + p, t->len - p, 40), at, mk);
	} else {
		ADD(pb->id, (long)pb->off, "%s", pb->msg);
	}
	return 0;
}

/* Same domain-spec, ignoring case and a trailing dot. */
static int same_domain(const char *a, size_t an, const char *b, size_t bn)
{
	if (an && a[an - 1] == '.')
		an--;
	if (bn && b[bn - 1] == '.')
		bn--;
	return an == bn && strncasecmp(a, b, an) == 0;
}

static int lint(struct zw_spf *spf, struct zw_findings *fs)
{
	char a[128], b[128];
	long all = -1;
	int has_all = 0, has_bad = 0;
	for (size_t i = 0; i < spf->n; i++) {
		has_all |= spf->terms[i].kind == ZW_SPF_ALL;
		has_bad |= spf->terms[i].kind == ZW_SPF_BAD;
	}
	for (size_t i = 0; i < spf->n; i++) {
		struct zw_spf_term *t = &spf->terms[i];
		const char *raw = spf->text + t->offset;
		show(a, sizeof(a), raw, t->len, 60);
		switch (t->kind) {
		case ZW_SPF_ALL:
			if (all < 0)
				all = (long)i;
			if (t->qualifier == ZW_SPF_Q_PASS)
				ADD("SP-16", (long)t->offset,
				    "'%s' at offset %zu authorises every host on the internet: forged mail "
				    "passes spf (RFC 7208 §5.1); use '-all' or '~all'",
				    a, t->offset);
			else if (t->qualifier == ZW_SPF_Q_NEUTRAL)
				ADD("SP-17", (long)t->offset,
				    "'?all' at offset %zu gives neutral for unlisted hosts, which protects "
				    "nothing (RFC 7208 §4.7, §8.2); use '-all' or '~all'",
				    t->offset);
			break;
		case ZW_SPF_PTR:
			ADD("SP-18", (long)t->offset,
			    "the ptr mechanism at offset %zu should not be used: it is slow and unreliable "
			    "(RFC 7208 §5.5)",
			    t->offset);
			break;
		case ZW_SPF_INCLUDE:
			for (size_t j = 0; j < i; j++) {
				const struct zw_spf_term *u = &spf->terms[j];
				if (u->kind == ZW_SPF_INCLUDE &&
				    same_domain(u->domain, u->domain_len, t->domain, t->domain_len)) {
					ADD("SP-23", (long)t->offset,
					    "duplicate include: %s at offset %zu repeats the one at offset "
					    "%zu and wastes a dns lookup (RFC 7208 §4.6.4)",
					    show(b, sizeof(b), t->domain, t->domain_len, 60), t->offset,
					    u->offset);
					break;
				}
			}
			break;
		case ZW_SPF_REDIRECT:
		case ZW_SPF_EXP: {
			long *slot = t->kind == ZW_SPF_REDIRECT ? &spf->redirect : &spf->exp;
			if (*slot >= 0) {
				spf->permerror = 1;
				ADD("SP-14", (long)t->offset,
				    "'%s=' appears twice (offsets %zu and %zu): each may appear at most "
				    "once, so the record is permerror (RFC 7208 §4.6.3)",
				    zw_spf_kind_name(t->kind), spf->terms[*slot].offset, t->offset);
			} else {
				*slot = (long)i;
			}
			if (t->kind == ZW_SPF_REDIRECT && has_all)
				ADD_SEV(ZW_SEV_WARNING, "SP-12", (long)t->offset,
					"'%s' at offset %zu is ignored because the record has an 'all' "
					"mechanism (RFC 7208 §5.1, §6.1)",
					a, t->offset);
			break;
		}
		case ZW_SPF_MODIFIER: {
			const struct mech_def *m = mech_find(t->name, t->name_len);
			char sg[24];
			const char *hint = m ? NULL : suggest(t->name, t->name_len, sg, sizeof(sg));
			if (m)
				ADD("SP-05", (long)t->offset,
				    "'%s' at offset %zu is read as an unknown modifier and ignored, so this "
				    "%s never happens (RFC 7208 §6, §12): did you mean '%s:'?",
				    a, t->offset, m->name, m->name);
			else if (hint && hint[strlen(hint) - 1] == '=')
				ADD("SP-05", (long)t->offset,
				    "unknown modifier '%s' at offset %zu is ignored (RFC 7208 §6): did you "
				    "mean '%s'?",
				    show(b, sizeof(b), t->name, t->name_len, 40), t->offset, hint);
			break;
		}
		default: break;
		}
		/* "include:a.example,include:b.example" is one (odd) domain by the ABNF */
		char sep = 0;
		if (t->domain && t->kind != ZW_SPF_MODIFIER &&
		    (memchr(t->domain, ',', t->domain_len) || memchr(t->domain, ';', t->domain_len)) &&
		    find_glue(raw, t->len, 0, &sep) && sep)
			ADD_SEV(ZW_SEV_WARNING, "SP-05", (long)t->offset,
				"'%s' at offset %zu reads as one domain containing '%c': terms are separated "
				"by spaces (RFC 7208 §12)",
				a, t->offset, sep);
		/* "include:_spf.example.com-all" is valid syntax, but surely meant two terms */
		if (t->domain && t->kind != ZW_SPF_MODIFIER && t->domain_len > 4 &&
		    strncasecmp(t->domain + t->domain_len - 4, "-all", 4) == 0)
			ADD_SEV(ZW_SEV_WARNING, "SP-06", (long)(t->offset + t->len - 4),
				"'%s' at offset %zu ends in '-all': probably a missing space before '-all' "
				"(RFC 7208 §12)",
				a, t->offset);
		if (t->after_all && t->kind != ZW_SPF_EXP && t->kind != ZW_SPF_REDIRECT &&
		    t->kind != ZW_SPF_BAD)
			ADD("SP-20", (long)t->offset,
			    t->kind == ZW_SPF_MODIFIER
				    ? "modifier '%s' after 'all' at offset %zu is ignored; verification "
				      "tokens belong in their own txt record (RFC 7208 §5.1, §6)"
				    : "'%s' after 'all' at offset %zu is never evaluated (RFC 7208 §5.1)",
			    a, t->offset);
	}
	spf->all = all;
	if (all < 0 && spf->redirect < 0 && !has_bad)
		ADD("SP-17", -1,
		    "no 'all' and no 'redirect=': a host the record does not list gets neutral (RFC 7208 "
		    "§4.7); end with '-all' or '~all'");
	if (spf->len > 512)
		ADD("SP-19", -1,
		    "the record is %zu bytes: over 512 the answer may need tcp and some receivers fail it; "
		    "keep it near 450 (RFC 7208 §3.4)",
		    spf->len);
	else if (spf->len > 450)
		ADD("SP-19", -1,
		    "the record is %zu bytes, over the 450 recommended to keep the dns answer under 512 "
		    "bytes (RFC 7208 §3.4)",
		    spf->len);
	return 0;
}

int zw_spf_parse(struct zw_spf **out, const char *v, size_t len, struct zw_findings *fs, struct zw_error *err)
{
	struct zw_spf *spf = NULL;
	int rc = ZW_ENOMEM;
	*out = NULL;
	if (!v)
		len = 0;
	if (!(spf = zw_calloc(1, sizeof(*spf))))
		goto out;
	spf->redirect = spf->exp = spf->all = -1;
	if (!(spf->text = zw_malloc(len + 1)))
		goto out;
	if (len)
		memcpy(spf->text, v, len);
	spf->text[len] = '\0';
	spf->len = len;
	v = spf->text;

	size_t i = 0, count = 0;
	while (i < len && v[i] != ' ')
		i++;
	spf->version_len = i;
	for (size_t j = i; j < len;) {
		while (j < len && v[j] == ' ')
			j++;
		if (j < len)
			count++;
		while (j < len && v[j] != ' ')
			j++;
	}
	if (count && !(spf->terms = zw_calloc(count, sizeof(*spf->terms))))
		goto out;
	while (i < len) {
		size_t sp = i;
		while (i < len && v[i] == ' ')
			i++;
		if (i == len) {
			spf->trailing = i - sp;
			break;
		}
		struct zw_spf_term *t = &spf->terms[spf->n++];
		t->sep = i - sp;
		t->offset = i;
		while (i < len && v[i] != ' ')
			i++;
		t->len = i - t->offset;
		t->kind = ZW_SPF_BAD;
		t->cidr4 = t->cidr6 = -1;
	}

	if ((rc = check_version(spf, fs)))
		goto out;
	rc = ZW_ENOMEM;
	if (!spf->permerror) {
		int seen_all = 0;
		for (size_t k = 0; k < spf->n; k++) {
			struct zw_spf_term *t = &spf->terms[k];
			struct problem pb;
			size_t off = t->offset, tl = t->len, sep = t->sep;
			t->after_all = seen_all;
			if (parse_term(t, v + off, tl, off, &pb)) {
				memset(t, 0, sizeof(*t));
				t->offset = off;
				t->len = tl;
				t->sep = sep;
				t->after_all = seen_all;
				t->kind = ZW_SPF_BAD;
				t->cidr4 = t->cidr6 = -1;
				spf->permerror = 1;
				if (report_bad(spf, t, &pb, fs))
					goto out;
			}
			if (t->kind == ZW_SPF_ALL)
				seen_all = 1;
		}
		if (lint(spf, fs))
			goto out;
		for (size_t k = 0; k < spf->n; k++) {
			const struct zw_spf_term *t = &spf->terms[k];
			if ((long)k < spf->all || spf->all < 0)
				for (size_t m = 0; m < N_MECHS; m++)
					if (mechs[m].kind == t->kind && mechs[m].lookup)
						spf->lookups++;
		}
		if (spf->redirect >= 0 && spf->all < 0)
			spf->lookups++;
	}
	*out = spf;
	spf = NULL;
	rc = 0;
out:
	zw_spf_free(spf);
	if (rc)
		zw_error_set(err, rc, "out of memory parsing an spf record");
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* printing */

int zw_spf_print(struct zw_buf *out, const struct zw_spf *spf)
{
	int rc = zw_buf_add(out, spf->text, spf->version_len);
	for (size_t i = 0; !rc && i < spf->n; i++) {
		const struct zw_spf_term *t = &spf->terms[i];
		for (size_t s = 0; !rc && s < t->sep; s++)
			rc = zw_buf_addc(out, ' ');
		if (!rc)
			rc = zw_buf_add(out, spf->text + t->offset, t->len);
	}
	for (size_t s = 0; !rc && s < spf->trailing; s++)
		rc = zw_buf_addc(out, ' ');
	return rc;
}

static int print_term(struct zw_buf *out, const struct zw_spf_term *t)
{
	char ip[INET6_ADDRSTRLEN];
	int rc = 0;
	if (t->kind == ZW_SPF_MODIFIER) {
		rc = zw_buf_add(out, t->name, t->name_len);
		if (!rc)
			rc = zw_buf_addc(out, '=');
		return rc ? rc : zw_buf_add(out, t->domain, t->domain_len);
	}
	if (t->kind == ZW_SPF_REDIRECT || t->kind == ZW_SPF_EXP) {
		rc = zw_buf_addf(out, "%s=", zw_spf_kind_name(t->kind));
		return rc ? rc : zw_buf_add(out, t->domain, t->domain_len);
	}
	if (t->qualifier != ZW_SPF_Q_PASS)
		rc = zw_buf_addc(out, qual_chars[t->qualifier]);
	if (!rc)
		rc = zw_buf_adds(out, zw_spf_kind_name(t->kind));
	if (!rc && t->domain) {
		rc = zw_buf_addc(out, ':');
		if (!rc)
			rc = zw_buf_add(out, t->domain, t->domain_len);
	}
	if (!rc && (t->kind == ZW_SPF_IP4 || t->kind == ZW_SPF_IP6)) {
		inet_ntop(t->kind == ZW_SPF_IP4 ? AF_INET : AF_INET6, t->ip, ip, sizeof(ip));
		rc = zw_buf_addf(out, ":%s", ip);
	}
	if (!rc && t->cidr4 >= 0 && t->cidr4 != 32)
		rc = zw_buf_addf(out, "/%d", t->cidr4);
	if (!rc && t->cidr6 >= 0 && t->cidr6 != 128)
		rc = zw_buf_addf(out, t->kind == ZW_SPF_IP6 ? "/%d" : "//%d", t->cidr6);
	return rc;
}

int zw_spf_print_canonical(struct zw_buf *out, const struct zw_spf *spf)
{
	if (spf->permerror)
		return ZW_EINVAL;
	int rc = zw_buf_adds(out, "v=spf1");
	for (size_t i = 0; !rc && i < spf->n; i++) {
		rc = zw_buf_addc(out, ' ');
		if (!rc)
			rc = print_term(out, &spf->terms[i]);
	}
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* evaluation: check_host() (§4) with the limits of §4.6.4 */

static const char *const verdict_names[] = {
	[ZW_SPF_NONE] = "none",		  [ZW_SPF_NEUTRAL] = "neutral",	  [ZW_SPF_PASS] = "pass",
	[ZW_SPF_FAIL] = "fail",		  [ZW_SPF_SOFTFAIL] = "softfail", [ZW_SPF_TEMPERROR] = "temperror",
	[ZW_SPF_PERMERROR] = "permerror",
};

const char *zw_spf_verdict_name(enum zw_spf_verdict v)
{
	if ((unsigned)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "?";
	return verdict_names[v];
}

static const enum zw_spf_verdict qual_verdict[] = {
	[ZW_SPF_Q_PASS] = ZW_SPF_PASS,
	[ZW_SPF_Q_FAIL] = ZW_SPF_FAIL,
	[ZW_SPF_Q_SOFTFAIL] = ZW_SPF_SOFTFAIL,
	[ZW_SPF_Q_NEUTRAL] = ZW_SPF_NEUTRAL,
};

int zw_spf_answer_add(struct zw_spf_answer *a, const void *data, size_t len)
{
	if (a->n >= ZW_SPF_ANSWER_MAX)
		return ZW_EINVAL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		char **v = zw_realloc(a->v, cap * sizeof(*v));
		if (!v)
			return ZW_ENOMEM;
		a->v = v;
		size_t *l = zw_realloc(a->lens, cap * sizeof(*l));
		if (!l)
			return ZW_ENOMEM;
		a->lens = l;
		a->cap = cap;
	}
	char *c = zw_malloc(len + 1);
	if (!c)
		return ZW_ENOMEM;
	if (len)
		memcpy(c, data, len);
	c[len] = '\0';
	a->v[a->n] = c;
	a->lens[a->n++] = len;
	return 0;
}

static void answer_free(struct zw_spf_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		zw_free(a->v[i]);
	zw_free(a->v);
	zw_free(a->lens);
	memset(a, 0, sizeof(*a));
}

void zw_spf_result_free(struct zw_spf_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_nodes; i++) {
		zw_free(r->nodes[i].domain);
		zw_free(r->nodes[i].record);
	}
	zw_free(r->nodes);
	zw_free(r->record);
	zw_free(r->mechanism);
	zw_free(r->explanation);
	zw_free(r->problem);
	memset(r, 0, sizeof(*r));
}

#define MAX_DEPTH    32
#define MAX_NODES    256
#define NAME_MAX_LEN 253

enum outcome { Q_OK, Q_VOID, Q_ERR };
/* what a mechanism gives (§4.6.2, §5) */
enum match { M_NOMATCH, M_MATCH, M_TEMP, M_PERM };

struct frame {
	const char *domain; /* borrowed from the caller's frame */
	const char *term;   /* the term being evaluated there */
	size_t term_len;
};

struct eval {
	const struct zw_spf_dns *dns;
	const struct zw_spf_eval_opts *opts;
	struct zw_findings *fs;
	struct zw_spf_result *res;
	int with_ip, family; /* family: 4 or 6 */
	unsigned char ip[16];
	char ip_i[80], ip_c[64]; /* %{i} and %{c} */
	const char *helo, *receiver;
	char *sender;	     /* <sender>, local@domain */
	size_t local_len;    /* %{l} = sender[0..local_len) */
	const char *sdomain; /* %{o} */
	long long now;
	int max_lookups, max_void, walk_cap;
	int lookups, voids;
	int perm, temp;	   /* static walk: an error was met somewhere */
	int stopped;	   /* static walk: walk_cap reached */
	char *limit_chain; /* where the first lookup over the limit happened */
	char *void_chain;
	struct frame stack[MAX_DEPTH];
	int depth;
};

static int set_problem(struct eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_problem(struct eval *ev, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	if (ev->res->problem)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return (ev->res->problem = zw_strdup(msg)) ? 0 : ZW_ENOMEM;
}

/* "a.example: include:b.example > b.example: a:gone.example" */
static int chain(struct eval *ev, const char *d, const char *term, size_t tn, char **out)
{
	struct zw_buf b = ZW_BUF_INIT;
	char s[128];
	int rc = 0;
	if (*out)
		return 0;
	for (int i = 0; !rc && i < ev->depth; i++)
		rc = zw_buf_addf(&b, "%s: %s > ", ev->stack[i].domain,
				 show(s, sizeof(s), ev->stack[i].term, ev->stack[i].term_len, 80));
	if (!rc)
		rc = zw_buf_addf(&b, "%s: %s", d, show(s, sizeof(s), term, tn, 80));
	if (rc) {
		zw_buf_free(&b);
		return ZW_ENOMEM;
	}
	*out = zw_buf_detach(&b);
	return *out ? 0 : ZW_ENOMEM;
}

/* A name we may send to the DNS: labels of 1-63 octets, at most 253 in all. */
static int valid_name(const char *s, int need_dot)
{
	size_t n = strlen(s), lab = 0;
	int dots = 0;
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			dots++;
		} else if (++lab > 63) {
			return 0;
		}
	}
	return lab > 0 && (!need_dot || dots > 0);
}

static int dns_query(struct eval *ev, const char *name, enum zw_spf_qtype type, struct zw_spf_answer *ans,
		     enum outcome *oc)
{
	int rcode = 0, rc;
	answer_free(ans);
	*oc = Q_VOID;
	if (!valid_name(name, 0))
		return 0; /* a malformed name answers like NXDOMAIN (§4.3) */
	rc = ev->dns->query(ev->dns->ctx, name, type, ans, &rcode);
	if (rc == ZW_ENOMEM)
		return rc;
	if (rc || (rcode != 0 && rcode != 3)) {
		*oc = Q_ERR;
		return set_problem(ev, "dns error looking up %s (rcode %d): temperror (RFC 7208 §2.6.6)",
				   name, rc ? -1 : rcode);
	}
	if (rcode == 3)
		return 0;
	/* keep only well-formed answers of the type asked */
	for (size_t i = 0; i < ans->n; i++) {
		size_t want = type == ZW_SPF_QA ? 4 : type == ZW_SPF_QAAAA ? 16 : 0;
		if (!want || ans->lens[i] == want) {
			*oc = Q_OK;
			return 0;
		}
	}
	return 0;
}

/* ---- macro expansion (§7) ---- */

static int url_escape(struct zw_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc = (is_alnum(c) || strchr("-._~", c)) && c ? zw_buf_addc(out, (char)c)
								 : zw_buf_addf(out, "%%%02X", c);
		if (rc)
			return rc;
	}
	return 0;
}

/* Apply transformers and delimiters (§7.3) to value, append to out. */
static int transform(struct zw_buf *out, const char *val, size_t vn, unsigned long digits, int reverse,
		     const char *delims, size_t dn, int upper)
{
	size_t nparts = 1, k = 0;
	int rc = 0;
	for (size_t i = 0; i < vn; i++)
		if (memchr(dn ? delims : ".", val[i], dn ? dn : 1))
			nparts++;
	size_t *st = zw_malloc(nparts * 2 * sizeof(size_t));
	if (!st)
		return ZW_ENOMEM;
	st[0] = 0;
	for (size_t i = 0; i < vn; i++) {
		if (memchr(dn ? delims : ".", val[i], dn ? dn : 1)) {
			st[2 * k + 1] = i;
			k++;
			st[2 * k] = i + 1;
		}
	}
	st[2 * k + 1] = vn;
	size_t count = nparts;
	if (digits && digits < count)
		count = (size_t)digits;
	struct zw_buf tmp = ZW_BUF_INIT;
	for (size_t j = 0; !rc && j < count; j++) {
		/* the rightmost `count` parts, after an optional reversal */
		size_t idx = nparts - count + j;
		size_t p = reverse ? nparts - 1 - idx : idx;
		if (j)
			rc = zw_buf_addc(&tmp, '.');
		if (!rc)
			rc = zw_buf_add(&tmp, val + st[2 * p], st[2 * p + 1] - st[2 * p]);
	}
	if (!rc)
		rc = upper ? url_escape(out, tmp.p ? tmp.p : "", tmp.len) : zw_buf_add(out, tmp.p, tmp.len);
	zw_buf_free(&tmp);
	zw_free(st);
	return rc;
}

/* %{p}: a validated name of the client (§7.3), or "unknown". Not a counted term. */
static int validated_names(struct eval *ev, char **names, size_t *n, enum outcome *ptr_oc);

static int macro_p(struct eval *ev, const char *d, struct zw_buf *val)
{
	char *names[ZW_SPF_MAX_PTR_NAMES];
	size_t n = 0, pick = (size_t)-1, dl = strlen(d);
	enum outcome oc;
	int rc = validated_names(ev, names, &n, &oc);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && pick == (size_t)-1; i++)
		if (strcasecmp(names[i], d) == 0)
			pick = i;
	for (size_t i = 0; i < n && pick == (size_t)-1; i++) {
		size_t l = strlen(names[i]);
		if (l > dl && names[i][l - dl - 1] == '.' && strcasecmp(names[i] + l - dl, d) == 0)
			pick = i;
	}
	if (pick == (size_t)-1 && n)
		pick = 0;
	rc = zw_buf_adds(val, pick == (size_t)-1 ? "unknown" : names[pick]);
	for (size_t i = 0; i < n; i++)
		zw_free(names[i]);
	return rc;
}

/*
 * Expand a macro-string (already validated) for current domain d. *unknown is set (and
 * nothing expanded) in the static walk when the string needs the client's address.
 */
static int expand(struct eval *ev, const char *d, const char *s, size_t n, struct zw_buf *out, int *unknown)
{
	int rc = 0;
	*unknown = 0;
	for (size_t i = 0; !rc && i < n;) {
		if (s[i] != '%') {
			rc = zw_buf_addc(out, s[i++]);
			continue;
		}
		int zero;
		size_t m = macro_len(s, n, i, &zero);
		if (!m)
			return ZW_EINVAL;
		if (m == 2) {
			static const char *const lit[] = {"%", " ", "%20"};
			rc = zw_buf_adds(out, lit[s[i + 1] == '%' ? 0 : s[i + 1] == '_' ? 1 : 2]);
			i += 2;
			continue;
		}
		char letter = (char)lower(s[i + 2]);
		int upper = s[i + 2] != letter;
		size_t j = i + 3;
		unsigned long digits = 0;
		while (is_digit(s[j])) {
			if (digits < 100000)
				digits = digits * 10 + (unsigned long)(s[j] - '0');
			j++;
		}
		int reverse = s[j] == 'r' || s[j] == 'R';
		if (reverse)
			j++;
		size_t ds = j;
		while (s[j] != '}')
			j++;
		if (!ev->with_ip && strchr("ipvc", letter)) {
			*unknown = 1;
			return 0;
		}
		struct zw_buf val = ZW_BUF_INIT;
		char tbuf[32];
		switch (letter) {
		case 's': rc = zw_buf_adds(&val, ev->sender); break;
		case 'l': rc = zw_buf_add(&val, ev->sender, ev->local_len); break;
		case 'o': rc = zw_buf_adds(&val, ev->sdomain); break;
		case 'd': rc = zw_buf_adds(&val, d); break;
		case 'i': rc = zw_buf_adds(&val, ev->ip_i); break;
		case 'p': rc = macro_p(ev, d, &val); break;
		case 'v': rc = zw_buf_adds(&val, ev->family == 6 ? "ip6" : "in-addr"); break;
		case 'h': rc = zw_buf_adds(&val, ev->helo); break;
		case 'c': rc = zw_buf_adds(&val, ev->ip_c); break;
		case 'r': rc = zw_buf_adds(&val, ev->receiver); break;
		default:
			snprintf(tbuf, sizeof(tbuf), "%lld", ev->now);
			rc = zw_buf_adds(&val, tbuf);
			break;
		}
		if (!rc)
			rc = transform(out, val.p ? val.p : "", val.len, digits, reverse, s + ds, j - ds,
				       upper);
		zw_buf_free(&val);
		i = j + 1;
	}
	return rc;
}

/* Expand a domain-spec into a name to query (§7.3): no trailing dot, at most 253 octets
 * (leftmost labels dropped). *out is NULL when the walk cannot know it. */
static int expand_name(struct eval *ev, const char *d, const char *s, size_t n, char **out)
{
	struct zw_buf b = ZW_BUF_INIT;
	int unknown, rc;
	*out = NULL;
	rc = expand(ev, d, s, n, &b, &unknown);
	if (rc || unknown) {
		zw_buf_free(&b);
		return rc == ZW_EINVAL ? 0 : rc;
	}
	if (!b.p && (rc = zw_buf_adds(&b, "")))
		return rc;
	if (b.len && b.p[b.len - 1] == '.')
		b.p[--b.len] = '\0';
	size_t from = 0;
	while (b.len - from > NAME_MAX_LEN) {
		char *dot = memchr(b.p + from, '.', b.len - from);
		if (!dot) {
			from = b.len - NAME_MAX_LEN;
			break;
		}
		from = (size_t)(dot - b.p) + 1;
	}
	*out = zw_strdup(b.p + from);
	zw_buf_free(&b);
	return *out ? 0 : ZW_ENOMEM;
}

/* ---- address matching ---- */

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* Does any answer (A or AAAA bytes) match the client within the prefix? */
static int addr_match(struct eval *ev, const struct zw_spf_answer *ans, int cidr)
{
	size_t want = ev->family == 4 ? 4 : 16;
	for (size_t i = 0; i < ans->n; i++)
		if (ans->lens[i] == want && prefix_match((const unsigned char *)ans->v[i], ev->ip, cidr))
			return 1;
	return 0;
}

static int term_cidr(struct eval *ev, const struct zw_spf_term *t)
{
	if (ev->family == 4)
		return t->cidr4 >= 0 ? t->cidr4 : 32;
	return t->cidr6 >= 0 ? t->cidr6 : 128;
}

/* The PTR name of the client (§5.5): d.c.b.a.in-addr.arpa or 32 nibbles .ip6.arpa. */
static void reverse_name(struct eval *ev, char *out, size_t osz)
{
	size_t o = 0;
	static const char hex[] = "0123456789abcdef";
	if (ev->family == 4) {
		snprintf(out, osz, "%u.%u.%u.%u.in-addr.arpa", ev->ip[3], ev->ip[2], ev->ip[1], ev->ip[0]);
		return;
	}
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[ev->ip[i] & 15];
		out[o++] = '.';
		out[o++] = hex[ev->ip[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, osz - o, "ip6.arpa");
}

static int name_from_answer(const char *s, size_t n, char **out)
{
	if (n && s[n - 1] == '.')
		n--;
	*out = zw_strndup(s, n);
	return *out ? 0 : ZW_ENOMEM;
}

/* §5.5: the client's PTR names (the first 10) whose addresses include the client. */
static int validated_names(struct eval *ev, char **names, size_t *n, enum outcome *ptr_oc)
{
	struct zw_spf_answer ptr = {0}, addr = {0};
	char rev[128];
	enum outcome oc;
	int rc;
	*n = 0;
	reverse_name(ev, rev, sizeof(rev));
	if ((rc = dns_query(ev, rev, ZW_SPF_QPTR, &ptr, ptr_oc)))
		goto out;
	for (size_t i = 0; *ptr_oc == Q_OK && i < ptr.n && i < ZW_SPF_MAX_PTR_NAMES; i++) {
		char *name;
		if ((rc = name_from_answer(ptr.v[i], ptr.lens[i], &name)))
			goto out;
		if ((rc = dns_query(ev, name, ev->family == 4 ? ZW_SPF_QA : ZW_SPF_QAAAA, &addr, &oc))) {
			zw_free(name);
			goto out;
		}
		if (oc == Q_OK && addr_match(ev, &addr, ev->family == 4 ? 32 : 128))
			names[(*n)++] = name;
		else
			zw_free(name);
	}
out:
	if (rc) {
		for (size_t i = 0; i < *n; i++)
			zw_free(names[i]);
		*n = 0;
	}
	answer_free(&ptr);
	answer_free(&addr);
	return rc;
}

/* ---- accounting ---- */

/* Count one DNS-querying term (§4.6.4). *m becomes M_PERM when it is over the limit
 * (with an IP), and the walk stops at walk_cap. Returns 1 when the term must not run. */
static int count_lookup(struct eval *ev, const char *d, const struct zw_spf_term *t, const struct zw_spf *spf,
			enum match *m, int *rc)
{
	*rc = 0;
	if (!ev->with_ip && ev->lookups >= ev->walk_cap) {
		ev->stopped = 1;
		*m = M_NOMATCH;
		return 1;
	}
	ev->lookups++;
	if (ev->lookups <= ev->max_lookups)
		return 0;
	if ((*rc = chain(ev, d, spf->text + t->offset, t->len, &ev->limit_chain)))
		return 1;
	ev->perm = 1;
	if (!ev->with_ip)
		return 0;
	*m = M_PERM;
	*rc = set_problem(ev, "more than %d dns-querying terms (RFC 7208 §4.6.4)", ev->max_lookups);
	return 1;
}

/* A term's query came back empty or NXDOMAIN (§4.6.4). Returns M_PERM past the limit. */
static enum match count_void(struct eval *ev, const char *d, const struct zw_spf_term *t, const char *text,
			     int *rc)
{
	ev->voids++;
	*rc = 0;
	if (ev->voids <= ev->max_void)
		return M_NOMATCH;
	/* the term is on top of the stack already (pushed by eval_mech): name it once */
	ev->depth--;
	*rc = chain(ev, d, text + t->offset, t->len, &ev->void_chain);
	ev->depth++;
	if (*rc)
		return M_PERM;
	ev->perm = 1;
	if (ev->with_ip)
		*rc = set_problem(ev, "more than %d void lookups (RFC 7208 §4.6.4)", ev->max_void);
	return ev->with_ip ? M_PERM : M_NOMATCH;
}

/* ---- check_host ---- */

static int check_host(struct eval *ev, const char *domain, enum zw_spf_kind via, int in_include,
		      enum zw_spf_verdict *out);

struct mctx {
	struct eval *ev;
	const struct zw_spf *spf;
	const struct zw_spf_term *t;
	const char *d; /* current <domain> */
	int in_include;
	char *target; /* the expanded domain-spec, or d */
};

typedef int (*mech_fn)(struct mctx *c, enum match *m);

static int target_name(struct mctx *c, char **out)
{
	if (!c->t->domain) {
		*out = zw_strdup(c->d);
		return *out ? 0 : ZW_ENOMEM;
	}
	return expand_name(c->ev, c->d, c->t->domain, c->t->domain_len, out);
}

static int m_all(struct mctx *c, enum match *m)
{
	(void)c;
	*m = M_MATCH;
	return 0;
}

static int m_ip(struct mctx *c, enum match *m)
{
	struct eval *ev = c->ev;
	int six = c->t->kind == ZW_SPF_IP6;
	*m = M_NOMATCH;
	if (ev->with_ip && ev->family == (six ? 6 : 4) &&
	    prefix_match(c->t->ip, ev->ip,
			 six ? (c->t->cidr6 >= 0 ? c->t->cidr6 : 128)
			     : (c->t->cidr4 >= 0 ? c->t->cidr4 : 32)))
		*m = M_MATCH;
	return 0;
}

static struct zw_finding *fadd(struct eval *ev, const char *id, enum zw_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct zw_finding *fadd(struct eval *ev, const char *id, enum zw_severity sev, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct zw_finding *f = zw_findings_add(ev->fs, id, -1, "%s", msg);
	if (f)
		f->sev = sev;
	return f;
}

#define FADD(...)                                                                                            \
	do {                                                                                                 \
		if (ev->fs && !fadd(ev, __VA_ARGS__))                                                        \
			return ZW_ENOMEM;                                                                    \
	} while (0)

static int on_void(struct mctx *c, enum match *m, const char *what)
{
	struct eval *ev = c->ev;
	char s[128];
	int rc;
	if (what)
		FADD("SP-15", ZW_SEV_WARNING, "%s in %s: %s has no %s: a void lookup (RFC 7208 §4.6.4)",
		     show(s, sizeof(s), c->spf->text + c->t->offset, c->t->len, 80), c->d, c->target, what);
	*m = count_void(ev, c->d, c->t, c->spf->text, &rc);
	return rc;
}

/* a, and one address family of it (§5.3). */
static int addresses(struct mctx *c, const char *name, struct zw_spf_answer *ans, enum outcome *oc)
{
	struct eval *ev = c->ev;
	int rc;
	if (ev->with_ip)
		return dns_query(ev, name, ev->family == 4 ? ZW_SPF_QA : ZW_SPF_QAAAA, ans, oc);
	enum outcome o4, o6;
	struct zw_spf_answer a6 = {0};
	if ((rc = dns_query(ev, name, ZW_SPF_QA, ans, &o4)))
		return rc;
	rc = dns_query(ev, name, ZW_SPF_QAAAA, &a6, &o6);
	answer_free(&a6);
	*oc = (o4 == Q_ERR || o6 == Q_ERR) ? Q_ERR : (o4 == Q_OK || o6 == Q_OK) ? Q_OK : Q_VOID;
	return rc;
}

static int m_a(struct mctx *c, enum match *m)
{
	struct zw_spf_answer ans = {0};
	enum outcome oc;
	int rc = addresses(c, c->target, &ans, &oc);
	*m = M_NOMATCH;
	if (!rc) {
		if (oc == Q_ERR)
			*m = M_TEMP;
		else if (oc == Q_VOID)
			rc = on_void(c, m,
				     !c->ev->with_ip	  ? "address"
				     : c->ev->family == 4 ? "A record"
							  : "AAAA record");
		else if (c->ev->with_ip && addr_match(c->ev, &ans, term_cidr(c->ev, c->t)))
			*m = M_MATCH;
	}
	answer_free(&ans);
	return rc;
}

static int m_mx(struct mctx *c, enum match *m)
{
	struct eval *ev = c->ev;
	struct zw_spf_answer mx = {0}, ans = {0};
	enum outcome oc;
	char s[128];
	size_t hosts = 0;
	int rc = dns_query(ev, c->target, ZW_SPF_QMX, &mx, &oc);
	*m = M_NOMATCH;
	if (rc)
		goto out;
	if (oc == Q_ERR) {
		*m = M_TEMP;
		goto out;
	}
	if (oc == Q_VOID) {
		rc = on_void(c, m, "mx record");
		goto out;
	}
	for (size_t i = 0; i < mx.n; i++)
		hosts += !(mx.lens[i] == 0 || (mx.lens[i] == 1 && mx.v[i][0] == '.'));
	if (hosts > ZW_SPF_MAX_MX_HOSTS) {
		show(s, sizeof(s), c->spf->text + c->t->offset, c->t->len, 80);
		if (ev->fs && !fadd(ev, "SP-15", ZW_SEV_ERROR,
				    "%s in %s: %s has %zu mx hosts, more than the %d address lookups an mx "
				    "may cause: permerror (RFC 7208 §4.6.4)",
				    s, c->d, c->target, hosts, ZW_SPF_MAX_MX_HOSTS)) {
			rc = ZW_ENOMEM;
			goto out;
		}
		ev->perm = 1;
		*m = M_PERM;
		rc = set_problem(ev, "%s: more than %d mx hosts (RFC 7208 §4.6.4)", c->target,
				 ZW_SPF_MAX_MX_HOSTS);
		goto out;
	}
	for (size_t i = 0; i < mx.n && *m == M_NOMATCH; i++) {
		char *host;
		if (mx.lens[i] == 0 || (mx.lens[i] == 1 && mx.v[i][0] == '.'))
			continue; /* null MX (RFC 7505) */
		if ((rc = name_from_answer(mx.v[i], mx.lens[i], &host)))
			goto out;
		rc = addresses(c, host, &ans, &oc);
		if (!rc && oc == Q_ERR)
			*m = M_TEMP;
		else if (!rc && oc == Q_OK && ev->with_ip && addr_match(ev, &ans, term_cidr(ev, c->t)))
			*m = M_MATCH;
		else if (!rc && oc == Q_VOID && ev->fs &&
			 !fadd(ev, "SP-15", ZW_SEV_WARNING,
			       "%s in %s: mx host %s has no address (RFC 7208 §5.4)",
			       show(s, sizeof(s), c->spf->text + c->t->offset, c->t->len, 80), c->d, host))
			rc = ZW_ENOMEM;
		zw_free(host);
		if (rc)
			goto out;
	}
out:
	answer_free(&mx);
	answer_free(&ans);
	return rc;
}

static int m_ptr(struct mctx *c, enum match *m)
{
	struct eval *ev = c->ev;
	char *names[ZW_SPF_MAX_PTR_NAMES];
	size_t n = 0, tl = strlen(c->target);
	enum outcome oc;
	*m = M_NOMATCH;
	if (!ev->with_ip)
		return 0;
	int rc = validated_names(ev, names, &n, &oc);
	if (rc)
		return rc;
	if (oc == Q_VOID)
		rc = on_void(c, m, NULL);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (*m == M_NOMATCH &&
		    (strcasecmp(names[i], c->target) == 0 || (l > tl && names[i][l - tl - 1] == '.' &&
							      strcasecmp(names[i] + l - tl, c->target) == 0)))
			*m = M_MATCH;
		zw_free(names[i]);
	}
	return rc; /* a DNS error on the PTR lookup is no match (§5.5) */
}

static int m_exists(struct mctx *c, enum match *m)
{
	struct zw_spf_answer ans = {0};
	enum outcome oc;
	int rc = dns_query(c->ev, c->target, ZW_SPF_QA, &ans, &oc);
	*m = M_NOMATCH;
	if (!rc) {
		if (oc == Q_ERR)
			*m = M_TEMP;
		else if (oc == Q_VOID)
			rc = on_void(c, m, NULL);
		else if (c->ev->with_ip)
			*m = M_MATCH;
	}
	answer_free(&ans);
	return rc;
}

/* Is `target` already being evaluated further up? Then it is a loop (SP-13). */
static int loop_check(struct mctx *c, const char *what, int *loop)
{
	struct eval *ev = c->ev;
	*loop = 0;
	for (int i = 0; i < ev->depth; i++) {
		if (strcasecmp(ev->stack[i].domain, c->target) == 0) {
			struct zw_buf b = ZW_BUF_INIT;
			int rc = 0;
			for (int j = i; !rc && j < ev->depth; j++)
				rc = zw_buf_addf(&b, "%s > ", ev->stack[j].domain);
			if (!rc)
				rc = zw_buf_adds(&b, c->target);
			if (!rc && ev->fs &&
			    !fadd(ev, "SP-13", ZW_SEV_ERROR,
				  "%s loop: %s; it ends in the lookup limit's permerror (RFC 7208 §4.6.4)",
				  what, zw_buf_str(&b)))
				rc = ZW_ENOMEM;
			if (!rc)
				rc = set_problem(ev, "%s loop: %s", what, zw_buf_str(&b));
			zw_buf_free(&b);
			ev->perm = 1;
			*loop = 1;
			return rc;
		}
	}
	return 0;
}

static int m_include(struct mctx *c, enum match *m)
{
	struct eval *ev = c->ev;
	enum zw_spf_verdict sub;
	char s[128];
	int loop, rc = loop_check(c, "include", &loop);
	*m = M_NOMATCH;
	if (rc || loop) {
		*m = loop ? M_PERM : M_NOMATCH;
		return rc;
	}
	if ((rc = check_host(ev, c->target, ZW_SPF_INCLUDE, 1, &sub)))
		return rc;
	static const enum match map[] = {
		[ZW_SPF_NONE] = M_PERM,	     [ZW_SPF_NEUTRAL] = M_NOMATCH,  [ZW_SPF_PASS] = M_MATCH,
		[ZW_SPF_FAIL] = M_NOMATCH,   [ZW_SPF_SOFTFAIL] = M_NOMATCH, [ZW_SPF_TEMPERROR] = M_TEMP,
		[ZW_SPF_PERMERROR] = M_PERM,
	};
	*m = map[sub];
	if (sub == ZW_SPF_NONE) {
		ev->perm = 1;
		FADD("SP-11", ZW_SEV_ERROR,
		     "%s in %s: %s has no spf record, so the include is a permerror, not a non-match (RFC "
		     "7208 §5.2)",
		     show(s, sizeof(s), c->spf->text + c->t->offset, c->t->len, 80), c->d, c->target);
		return set_problem(ev, "include of %s, which has no spf record (RFC 7208 §5.2)", c->target);
	}
	return 0;
}

static const mech_fn handlers[] = {
	[ZW_SPF_ALL] = m_all, [ZW_SPF_INCLUDE] = m_include, [ZW_SPF_A] = m_a,	 [ZW_SPF_MX] = m_mx,
	[ZW_SPF_PTR] = m_ptr, [ZW_SPF_IP4] = m_ip,	    [ZW_SPF_IP6] = m_ip, [ZW_SPF_EXISTS] = m_exists,
};

static int eval_mech(struct mctx *c, enum match *m)
{
	struct eval *ev = c->ev;
	const struct zw_spf_term *t = c->t;
	int rc = 0, counted = 0;
	*m = M_NOMATCH;
	c->target = NULL;
	for (size_t i = 0; i < N_MECHS; i++)
		if (mechs[i].kind == t->kind)
			counted = mechs[i].lookup;
	if (counted && count_lookup(ev, c->d, t, c->spf, m, &rc))
		return rc;
	if (counted) {
		if ((rc = target_name(c, &c->target)))
			return rc;
		if (!c->target)
			return 0; /* the walk cannot expand a macro that needs the client */
	}
	ev->stack[ev->depth].domain = c->d;
	ev->stack[ev->depth].term = c->spf->text + t->offset;
	ev->stack[ev->depth].term_len = t->len;
	ev->depth++;
	rc = handlers[t->kind](c, m);
	ev->depth--;
	zw_free(c->target);
	c->target = NULL;
	return rc;
}

static int add_node(struct eval *ev, const char *domain, const char *rec, size_t len, enum zw_spf_kind via,
		    size_t *idx)
{
	struct zw_spf_result *r = ev->res;
	*idx = (size_t)-1;
	if (r->n_nodes >= MAX_NODES)
		return 0;
	struct zw_spf_node *v = zw_realloc(r->nodes, (r->n_nodes + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	r->nodes = v;
	struct zw_spf_node *nd = &v[r->n_nodes];
	memset(nd, 0, sizeof(*nd));
	nd->depth = ev->depth;
	nd->via = via;
	if (!(nd->domain = zw_strdup(domain)))
		return ZW_ENOMEM;
	if (rec && !(nd->record = zw_strndup(rec, len))) {
		zw_free(nd->domain);
		return ZW_ENOMEM;
	}
	*idx = r->n_nodes++;
	return 0;
}

/* §6.2: the explanation for a fail, or nothing on any problem. */
static int explain(struct eval *ev, const struct zw_spf *spf, const char *d)
{
	const struct zw_spf_term *t = &spf->terms[spf->exp];
	struct zw_spf_answer ans = {0};
	struct zw_buf b = ZW_BUF_INIT;
	struct ms_info mi;
	enum outcome oc;
	char *name = NULL;
	int unknown, rc = expand_name(ev, d, t->domain, t->domain_len, &name);
	if (rc || !name)
		goto out;
	if ((rc = dns_query(ev, name, ZW_SPF_QTXT, &ans, &oc)) || oc != Q_OK || ans.n != 1)
		goto out;
	if (scan_macro_string(ans.v[0], ans.lens[0], MS_EXPTEXT, &mi) != MS_OK)
		goto out;
	rc = expand(ev, d, ans.v[0], ans.lens[0], &b, &unknown);
	if (rc == ZW_EINVAL)
		rc = 0;
	else if (!rc && !(ev->res->explanation = zw_strdup(zw_buf_str(&b))))
		rc = ZW_ENOMEM;
out:
	zw_free(name);
	zw_buf_free(&b);
	answer_free(&ans);
	return rc;
}

/* No record at a name: say why when a TXT there nearly is one (SP-03, SP-21). */
static int near_misses(struct eval *ev, const struct zw_spf_answer *ans, const char *domain, int top)
{
	for (size_t i = 0; i < ans->n; i++) {
		size_t from = ev->fs ? ev->fs->n : 0;
		int rc = zw_spf_check_sender_id(ev->fs, ans->v[i], ans->lens[i]);
		if (rc < 0)
			return rc;
		if (!rc && starts_ci(ans->v[i], ans->lens[i], "v=spf")) {
			struct zw_spf *bad = NULL;
			if ((rc = zw_spf_parse(&bad, ans->v[i], ans->lens[i], ev->fs, NULL)))
				return rc;
			zw_spf_free(bad);
		}
		if (ev->fs && !top) {
			char name[260];
			snprintf(name, sizeof(name), "%s.", domain);
			if (zw_findings_context(ev->fs, from, NULL, name, "TXT", NULL, NULL))
				return ZW_ENOMEM;
		}
	}
	return 0;
}

static int check_host(struct eval *ev, const char *domain, enum zw_spf_kind via, int in_include,
		      enum zw_spf_verdict *out)
{
	struct zw_spf_answer ans = {0};
	struct zw_spf *spf = NULL;
	enum outcome oc;
	size_t node, pick = 0, nspf = 0, from;
	int rc, top = via == ZW_SPF_ALL, matched = 0;
	char name[260];
	*out = ZW_SPF_NONE;
	if (!valid_name(domain, 1))
		return 0; /* §4.3: a malformed <domain> gives none */
	if (ev->depth >= MAX_DEPTH - 1) {
		*out = ZW_SPF_PERMERROR;
		ev->perm = 1;
		return set_problem(ev, "includes nested deeper than %d", MAX_DEPTH);
	}
	if ((rc = dns_query(ev, domain, ZW_SPF_QTXT, &ans, &oc)))
		goto out;
	if (oc == Q_ERR) {
		*out = ZW_SPF_TEMPERROR;
		ev->temp = 1;
		goto out;
	}
	for (size_t i = 0; i < ans.n; i++) {
		if (zw_spf_is_record(ans.v[i], ans.lens[i])) {
			if (!nspf++)
				pick = i;
		}
	}
	if (oc == Q_VOID && !top) {
		/* the include/redirect term's own query came back empty */
		const struct frame *f = &ev->stack[ev->depth - 1];
		struct zw_spf_term t = {0};
		t.offset = 0;
		t.len = f->term_len;
		if (count_void(ev, f->domain, &t, f->term, &rc) == M_PERM && ev->with_ip) {
			*out = ZW_SPF_PERMERROR;
			goto out;
		}
		if (rc)
			goto out;
	}
	if ((rc = add_node(ev, domain, nspf == 1 ? ans.v[pick] : NULL, nspf == 1 ? ans.lens[pick] : 0, via,
			   &node)))
		goto out;
	if (nspf == 0) {
		if (top && ev->fs &&
		    !fadd(ev, "SP-01", ZW_SEV_WARNING,
			  "no spf record at %s: check_host gives none, so spf cannot pass (RFC 7208 §4.5)",
			  domain)) {
			rc = ZW_ENOMEM;
			goto out;
		}
		rc = near_misses(ev, &ans, domain, top);
		goto out;
	}
	if (nspf > 1) {
		*out = ZW_SPF_PERMERROR;
		ev->perm = 1;
		if (ev->fs && !fadd(ev, "SP-02", ZW_SEV_ERROR,
				    "%s has %zu v=spf1 records: check_host gives permerror; merge them into "
				    "one (RFC 7208 §3.2, §4.5)",
				    domain, nspf)) {
			rc = ZW_ENOMEM;
			goto out;
		}
		rc = set_problem(ev, "%s has %zu spf records (RFC 7208 §3.2)", domain, nspf);
		goto out;
	}
	if (top && !(ev->res->record = zw_strndup(ans.v[pick], ans.lens[pick]))) {
		rc = ZW_ENOMEM;
		goto out;
	}
	from = ev->fs ? ev->fs->n : 0;
	if ((rc = zw_spf_parse(&spf, ans.v[pick], ans.lens[pick], ev->fs, NULL)))
		goto out;
	if (ev->fs && !top) {
		if (via == ZW_SPF_INCLUDE)
			zw_findings_drop(ev->fs, from, "SP-17"); /* an include needs no all */
		snprintf(name, sizeof(name), "%s.", domain);
		if ((rc = zw_findings_context(ev->fs, from, NULL, name, "TXT", spf->text, NULL)))
			goto out;
	}
	answer_free(&ans);
	if (spf->permerror) {
		*out = ZW_SPF_PERMERROR;
		ev->perm = 1;
		rc = set_problem(ev, "syntax error in the spf record of %s (RFC 7208 §4.6)", domain);
		goto out;
	}

	struct mctx c = {.ev = ev, .spf = spf, .d = domain, .in_include = in_include};
	for (size_t i = 0; i < spf->n && !ev->stopped; i++) {
		const struct zw_spf_term *t = &spf->terms[i];
		enum match m;
		if (t->kind == ZW_SPF_REDIRECT || t->kind == ZW_SPF_EXP || t->kind == ZW_SPF_MODIFIER)
			continue;
		c.t = t;
		if ((rc = eval_mech(&c, &m)))
			goto out;
		if (m == M_MATCH && !matched) {
			matched = 1;
			*out = qual_verdict[t->qualifier];
			if (!in_include && !ev->res->mechanism &&
			    !(ev->res->mechanism = zw_strndup(spf->text + t->offset, t->len))) {
				rc = ZW_ENOMEM;
				goto out;
			}
		} else if (m == M_TEMP || m == M_PERM) {
			ev->temp |= m == M_TEMP;
			ev->perm |= m == M_PERM;
			if (ev->with_ip) {
				*out = m == M_TEMP ? ZW_SPF_TEMPERROR : ZW_SPF_PERMERROR;
				goto done;
			}
		}
		if ((matched && ev->with_ip) || t->kind == ZW_SPF_ALL)
			break;
	}
	if (!matched && spf->redirect >= 0 && spf->all < 0 && !ev->stopped) {
		const struct zw_spf_term *t = &spf->terms[spf->redirect];
		enum match m = M_NOMATCH;
		c.t = t;
		if (count_lookup(ev, domain, t, spf, &m, &rc)) {
			if (!rc)
				*out = m == M_PERM ? ZW_SPF_PERMERROR : ZW_SPF_NEUTRAL;
			goto done;
		}
		if ((rc = expand_name(ev, domain, t->domain, t->domain_len, &c.target)))
			goto out;
		if (!c.target) {
			*out = ZW_SPF_NEUTRAL; /* the walk cannot expand it */
			goto done;
		}
		int loop;
		ev->stack[ev->depth].domain = domain;
		ev->stack[ev->depth].term = spf->text + t->offset;
		ev->stack[ev->depth].term_len = t->len;
		ev->depth++;
		if (!(rc = loop_check(&c, "redirect", &loop)) && !loop)
			rc = check_host(ev, c.target, ZW_SPF_REDIRECT, in_include, out);
		ev->depth--;
		if (!rc && loop) {
			zw_free(c.target);
			*out = ZW_SPF_PERMERROR;
			goto done;
		}
		if (!rc && *out == ZW_SPF_NONE) {
			*out = ZW_SPF_PERMERROR;
			ev->perm = 1;
			char s[128];
			if (ev->fs &&
			    !fadd(ev, "SP-12", ZW_SEV_ERROR,
				  "%s in %s: %s has no spf record, so the redirect gives permerror (RFC 7208 "
				  "§6.1)",
				  show(s, sizeof(s), spf->text + t->offset, t->len, 80), domain, c.target))
				rc = ZW_ENOMEM;
			if (!rc)
				rc = set_problem(ev,
						 "redirect to %s, which has no spf record (RFC 7208 §6.1)",
						 c.target);
		}
		zw_free(c.target);
		if (rc)
			goto out;
	} else if (!matched) {
		*out = ZW_SPF_NEUTRAL; /* §4.7 */
	}
	if (matched && *out == ZW_SPF_FAIL && ev->with_ip && !in_include && spf->exp >= 0 &&
	    !ev->opts->no_exp && !ev->res->explanation)
		rc = explain(ev, spf, domain);
done:
	if (node != (size_t)-1)
		ev->res->nodes[node].verdict = *out;
out:
	answer_free(&ans);
	zw_spf_free(spf);
	return rc;
}

static int setup_client(struct eval *ev, const char *ip)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(ip), o = 0;
	static const char hex[] = "0123456789abcdef";
	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, ip, n + 1);
	if (inet_pton(AF_INET, tmp, ev->ip) == 1) {
		ev->family = 4;
	} else if (inet_pton(AF_INET6, tmp, ev->ip) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		ev->family = 6;
		if (memcmp(ev->ip, mapped, 12) == 0) { /* ::ffff:a.b.c.d is IPv4 */
			memmove(ev->ip, ev->ip + 12, 4);
			ev->family = 4;
		}
	} else {
		return 0;
	}
	if (ev->family == 4) {
		snprintf(ev->ip_i, sizeof(ev->ip_i), "%u.%u.%u.%u", ev->ip[0], ev->ip[1], ev->ip[2],
			 ev->ip[3]);
		memcpy(ev->ip_c, ev->ip_i, strlen(ev->ip_i) + 1);
	} else {
		for (int i = 0; i < 16; i++) {
			ev->ip_i[o++] = hex[ev->ip[i] >> 4];
			ev->ip_i[o++] = '.';
			ev->ip_i[o++] = hex[ev->ip[i] & 15];
			ev->ip_i[o++] = i < 15 ? '.' : '\0';
		}
		inet_ntop(AF_INET6, ev->ip, ev->ip_c, sizeof(ev->ip_c));
	}
	return 1;
}

int zw_spf_evaluate(struct zw_spf_result *out, const char *domain, const struct zw_spf_dns *dns,
		    const struct zw_spf_eval_opts *opts, struct zw_findings *fs, struct zw_error *err)
{
	static const struct zw_spf_eval_opts defaults = {0};
	struct eval ev;
	char *top = NULL;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	memset(&ev, 0, sizeof(ev));
	if (!opts)
		opts = &defaults;
	if (!domain || !dns || !dns->query)
		return zw_error_set(err, ZW_EINVAL, "spf evaluation needs a domain and a resolver");
	size_t dl = strlen(domain);
	if (dl && domain[dl - 1] == '.')
		dl--;
	if (!(top = zw_strndup(domain, dl)))
		return zw_error_set(err, ZW_ENOMEM, "out of memory evaluating spf");
	ev.dns = dns;
	ev.opts = opts;
	ev.fs = fs;
	ev.res = out;
	ev.with_ip = opts->ip != NULL;
	ev.max_lookups = opts->max_lookups > 0 ? opts->max_lookups : ZW_SPF_MAX_LOOKUPS;
	ev.max_void = opts->max_void > 0 ? opts->max_void : ZW_SPF_MAX_VOID;
	ev.walk_cap = opts->walk_cap > 0 ? opts->walk_cap : 100;
	ev.helo = opts->helo ? opts->helo : "unknown";
	ev.receiver = opts->receiver ? opts->receiver : "unknown";
	ev.now = opts->now ? opts->now : (long long)time(NULL);
	if (ev.with_ip && !setup_client(&ev, opts->ip)) {
		rc = zw_error_set(err, ZW_EINVAL, "'%s' is not an ip address", opts->ip);
		goto out;
	}
	/* §4.3: <sender> without a local-part is postmaster@<domain> */
	const char *snd = opts->sender, *at = snd ? strrchr(snd, '@') : NULL;
	struct zw_buf sb = ZW_BUF_INIT;
	if (!snd || !*snd)
		rc = zw_buf_addf(&sb, "postmaster@%s", top);
	else if (!at)
		rc = zw_buf_addf(&sb, "postmaster@%s", snd);
	else if (at == snd)
		rc = zw_buf_addf(&sb, "postmaster%s", snd);
	else
		rc = zw_buf_adds(&sb, snd);
	if (rc || !(ev.sender = zw_buf_detach(&sb))) {
		zw_buf_free(&sb);
		rc = ZW_ENOMEM;
		goto out;
	}
	ev.local_len = (size_t)(strrchr(ev.sender, '@') - ev.sender);
	ev.sdomain = ev.sender + ev.local_len + 1;

	if ((rc = check_host(&ev, top, ZW_SPF_ALL, 0, &out->verdict)))
		goto out;
	if (!ev.with_ip)
		out->verdict = ev.perm ? ZW_SPF_PERMERROR : ev.temp ? ZW_SPF_TEMPERROR : out->verdict;
	out->lookups = ev.lookups;
	out->void_lookups = ev.voids;
	out->capped = ev.stopped;
	if (ev.lookups > ev.max_lookups && fs) {
		struct zw_finding *f =
			ev.with_ip ? zw_findings_add(fs, "SP-09", -1,
						     "spf evaluation of %s needs more than %d dns lookups: "
						     "the %dth is %s (RFC 7208 §4.6.4)",
						     top, ev.max_lookups, ev.max_lookups + 1, ev.limit_chain)
				   : zw_findings_add(fs, "SP-09", -1,
						     "the spf record of %s requires %s%d/%d maximum dns "
						     "lookups (RFC 7208 §4.6.4); the %dth is %s",
						     top, ev.stopped ? "at least " : "", ev.lookups,
						     ev.max_lookups, ev.max_lookups + 1, ev.limit_chain);
		if (!f) {
			rc = ZW_ENOMEM;
			goto out;
		}
		if (zw_finding_set(
			    f, ZW_F_FIX,
			    "remove unused senders; replace a/mx by ip4/ip6; move esps to subdomains")) {
			rc = ZW_ENOMEM;
			goto out;
		}
	}
	if (ev.voids > ev.max_void && fs &&
	    !zw_findings_add(
		    fs, "SP-10", -1,
		    "the spf record of %s causes %d void lookups, more than %s%.0d (the one over the "
		    "limit is %s): permerror (RFC 7208 §4.6.4)",
		    top, ev.voids, ev.max_void == 2 ? "two" : "", ev.max_void == 2 ? 0 : ev.max_void,
		    ev.void_chain)) {
		rc = ZW_ENOMEM;
		goto out;
	}
	if (out->verdict == ZW_SPF_PERMERROR && !out->problem)
		rc = set_problem(&ev, "permerror");
out:
	zw_free(ev.sender);
	zw_free(ev.limit_chain);
	zw_free(ev.void_chain);
	zw_free(top);
	if (rc) {
		zw_spf_result_free(out);
		if (rc == ZW_ENOMEM)
			zw_error_set(err, rc, "out of memory evaluating spf");
	}
	return rc;
}
