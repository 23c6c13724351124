/*
 * stray.c - the stray-character classifier (see stray.h).
 *
 * How it works. The joined value becomes a *track*: one entry per byte with the offset
 * of the byte it came from in the original value and a flag saying a finding already
 * covers it. Passes rewrite the track in order of specificity, each noting what it
 * found; notes of one kind and code point are merged (first offset, count) and become
 * findings at the end, sorted by offset:
 *
 *   group 1, repeated until nothing changes (every change shrinks the track):
 *     escapes  TX-13  `\;` `\"` `\DDD` pasted into an API field are undone
 *     chars    TX-02/05/06/07/08  the code point table, mojibake, invalid UTF-8
 *     pasted   TX-04  `" "` inside one string is removed (the junction is a boundary)
 *     quotes   TX-03  literal quotes around the value are removed
 *   group 2:
 *     key TX-11 (DKIM p=), blanks TX-01/TX-02, glued TX-10 (SPF)
 *   both groups again until a whole round changes nothing (so the result is a fixed
 *   point of every pass), then non-ascii TX-08 (reported, kept).
 *
 * A pass never reports bytes another finding already covers (the `fixed` flag): a
 * U+3000 at the start is TX-06, not TX-06 and TX-01. Owns nothing beyond one call.
 */
#include "reconcile/stray.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"

#define VALUE_MAX     65535u /* RDLENGTH is 16 bits (RFC 1035 §3.2.1) */
#define NAME_TEXT_MAX 1024u
#define TOKEN_MAX     255u /* the longest SPF term TX-10 looks at */
#define ROUNDS_MAX    64   /* passes repeat until nothing changes (run_passes) */

/* ---- the table of code points ----------------------------------------------------- */

struct cp_row {
	uint32_t lo, hi;
	const char *cls;
	const char *name; /* NULL: computed (C0 aliases, FULLWIDTH <ascii name>) */
	const char *repl; /* NULL: the ASCII character cp - 0xFEE0 */
};

/* Sorted by lo; ranges never overlap. */
static const struct cp_row table[] = {
	{0x0000, 0x001F, "TX-02", NULL, ""},
	{0x007F, 0x007F, "TX-02", "DELETE", ""},
	{0x0080, 0x0084, "TX-02", "<control>", ""},
	{0x0085, 0x0085, "TX-02", "NEXT LINE", " "},
	{0x0086, 0x009F, "TX-02", "<control>", ""},
	{0x00A0, 0x00A0, "TX-07", "NO-BREAK SPACE", " "},
	{0x00AD, 0x00AD, "TX-05", "SOFT HYPHEN", ""},
	{0x034F, 0x034F, "TX-05", "COMBINING GRAPHEME JOINER", ""},
	{0x061C, 0x061C, "TX-05", "ARABIC LETTER MARK", ""},
	{0x115F, 0x115F, "TX-05", "HANGUL CHOSEONG FILLER", ""},
	{0x1160, 0x1160, "TX-05", "HANGUL JUNGSEONG FILLER", ""},
	{0x180E, 0x180E, "TX-05", "MONGOLIAN VOWEL SEPARATOR", ""},
	{0x2000, 0x2000, "TX-07", "EN QUAD", " "},
	{0x2001, 0x2001, "TX-07", "EM QUAD", " "},
	{0x2002, 0x2002, "TX-07", "EN SPACE", " "},
	{0x2003, 0x2003, "TX-07", "EM SPACE", " "},
	{0x2004, 0x2004, "TX-07", "THREE-PER-EM SPACE", " "},
	{0x2005, 0x2005, "TX-07", "FOUR-PER-EM SPACE", " "},
	{0x2006, 0x2006, "TX-07", "SIX-PER-EM SPACE", " "},
	{0x2007, 0x2007, "TX-07", "FIGURE SPACE", " "},
	{0x2008, 0x2008, "TX-07", "PUNCTUATION SPACE", " "},
	{0x2009, 0x2009, "TX-07", "THIN SPACE", " "},
	{0x200A, 0x200A, "TX-07", "HAIR SPACE", " "},
	{0x200B, 0x200B, "TX-05", "ZERO WIDTH SPACE", ""},
	{0x200C, 0x200C, "TX-05", "ZERO WIDTH NON-JOINER", ""},
	{0x200D, 0x200D, "TX-05", "ZERO WIDTH JOINER", ""},
	{0x200E, 0x200E, "TX-05", "LEFT-TO-RIGHT MARK", ""},
	{0x200F, 0x200F, "TX-05", "RIGHT-TO-LEFT MARK", ""},
	{0x2010, 0x2010, "TX-07", "HYPHEN", "-"},
	{0x2011, 0x2011, "TX-07", "NON-BREAKING HYPHEN", "-"},
	{0x2012, 0x2012, "TX-07", "FIGURE DASH", "-"},
	{0x2013, 0x2013, "TX-07", "EN DASH", "-"},
	{0x2014, 0x2014, "TX-07", "EM DASH", "-"},
	{0x2015, 0x2015, "TX-07", "HORIZONTAL BAR", "-"},
	{0x2018, 0x2018, "TX-07", "LEFT SINGLE QUOTATION MARK", "'"},
	{0x2019, 0x2019, "TX-07", "RIGHT SINGLE QUOTATION MARK", "'"},
	{0x201A, 0x201A, "TX-07", "SINGLE LOW-9 QUOTATION MARK", "'"},
	{0x201B, 0x201B, "TX-07", "SINGLE HIGH-REVERSED-9 QUOTATION MARK", "'"},
	{0x201C, 0x201C, "TX-07", "LEFT DOUBLE QUOTATION MARK", "\""},
	{0x201D, 0x201D, "TX-07", "RIGHT DOUBLE QUOTATION MARK", "\""},
	{0x201E, 0x201E, "TX-07", "DOUBLE LOW-9 QUOTATION MARK", "\""},
	{0x201F, 0x201F, "TX-07", "DOUBLE HIGH-REVERSED-9 QUOTATION MARK", "\""},
	{0x2028, 0x2028, "TX-02", "LINE SEPARATOR", " "},
	{0x2029, 0x2029, "TX-02", "PARAGRAPH SEPARATOR", " "},
	{0x202A, 0x202A, "TX-05", "LEFT-TO-RIGHT EMBEDDING", ""},
	{0x202B, 0x202B, "TX-05", "RIGHT-TO-LEFT EMBEDDING", ""},
	{0x202C, 0x202C, "TX-05", "POP DIRECTIONAL FORMATTING", ""},
	{0x202D, 0x202D, "TX-05", "LEFT-TO-RIGHT OVERRIDE", ""},
	{0x202E, 0x202E, "TX-05", "RIGHT-TO-LEFT OVERRIDE", ""},
	{0x202F, 0x202F, "TX-07", "NARROW NO-BREAK SPACE", " "},
	{0x2032, 0x2032, "TX-07", "PRIME", "'"},
	{0x2033, 0x2033, "TX-07", "DOUBLE PRIME", "\""},
	{0x205F, 0x205F, "TX-07", "MEDIUM MATHEMATICAL SPACE", " "},
	{0x2060, 0x2060, "TX-05", "WORD JOINER", ""},
	{0x2061, 0x2061, "TX-05", "FUNCTION APPLICATION", ""},
	{0x2062, 0x2062, "TX-05", "INVISIBLE TIMES", ""},
	{0x2063, 0x2063, "TX-05", "INVISIBLE SEPARATOR", ""},
	{0x2064, 0x2064, "TX-05", "INVISIBLE PLUS", ""},
	{0x2066, 0x2066, "TX-05", "LEFT-TO-RIGHT ISOLATE", ""},
	{0x2067, 0x2067, "TX-05", "RIGHT-TO-LEFT ISOLATE", ""},
	{0x2068, 0x2068, "TX-05", "FIRST STRONG ISOLATE", ""},
	{0x2069, 0x2069, "TX-05", "POP DIRECTIONAL ISOLATE", ""},
	{0x2212, 0x2212, "TX-07", "MINUS SIGN", "-"},
	{0x3000, 0x3000, "TX-06", "IDEOGRAPHIC SPACE", " "},
	{0x3001, 0x3001, "TX-06", "IDEOGRAPHIC COMMA", ","},
	{0x3002, 0x3002, "TX-06", "IDEOGRAPHIC FULL STOP", "."},
	{0x3164, 0x3164, "TX-05", "HANGUL FILLER", ""},
	{0xFE63, 0xFE63, "TX-07", "SMALL HYPHEN-MINUS", "-"},
	{0xFEFF, 0xFEFF, "TX-05", "ZERO WIDTH NO-BREAK SPACE", ""},
	{0xFF01, 0xFF5E, "TX-06", NULL, NULL},
	{0xFF61, 0xFF61, "TX-06", "HALFWIDTH IDEOGRAPHIC FULL STOP", "."},
	{0xFFA0, 0xFFA0, "TX-05", "HALFWIDTH HANGUL FILLER", ""},
	{0xFFFD, 0xFFFD, "TX-08", "REPLACEMENT CHARACTER", ""},
};

/* Formal name aliases of the C0 controls (Unicode NameAliases.txt). */
static const char *const c0_names[32] = {
	"NULL",
	"START OF HEADING",
	"START OF TEXT",
	"END OF TEXT",
	"END OF TRANSMISSION",
	"ENQUIRY",
	"ACKNOWLEDGE",
	"ALERT",
	"BACKSPACE",
	"CHARACTER TABULATION",
	"LINE FEED",
	"LINE TABULATION",
	"FORM FEED",
	"CARRIAGE RETURN",
	"SHIFT OUT",
	"SHIFT IN",
	"DATA LINK ESCAPE",
	"DEVICE CONTROL ONE",
	"DEVICE CONTROL TWO",
	"DEVICE CONTROL THREE",
	"DEVICE CONTROL FOUR",
	"NEGATIVE ACKNOWLEDGE",
	"SYNCHRONOUS IDLE",
	"END OF TRANSMISSION BLOCK",
	"CANCEL",
	"END OF MEDIUM",
	"SUBSTITUTE",
	"ESCAPE",
	"INFORMATION SEPARATOR FOUR",
	"INFORMATION SEPARATOR THREE",
	"INFORMATION SEPARATOR TWO",
	"INFORMATION SEPARATOR ONE",
};

/* Names of ASCII punctuation 0x21-0x7E (letters and digits are computed). */
static const struct {
	char c;
	const char *name;
} punct_names[] = {
	{'!', "EXCLAMATION MARK"},
	{'"', "QUOTATION MARK"},
	{'#', "NUMBER SIGN"},
	{'$', "DOLLAR SIGN"},
	{'%', "PERCENT SIGN"},
	{'&', "AMPERSAND"},
	{'\'', "APOSTROPHE"},
	{'(', "LEFT PARENTHESIS"},
	{')', "RIGHT PARENTHESIS"},
	{'*', "ASTERISK"},
	{'+', "PLUS SIGN"},
	{',', "COMMA"},
	{'-', "HYPHEN-MINUS"},
	{'.', "FULL STOP"},
	{'/', "SOLIDUS"},
	{':', "COLON"},
	{';', "SEMICOLON"},
	{'<', "LESS-THAN SIGN"},
	{'=', "EQUALS SIGN"},
	{'>', "GREATER-THAN SIGN"},
	{'?', "QUESTION MARK"},
	{'@', "COMMERCIAL AT"},
	{'[', "LEFT SQUARE BRACKET"},
	{'\\', "REVERSE SOLIDUS"},
	{']', "RIGHT SQUARE BRACKET"},
	{'^', "CIRCUMFLEX ACCENT"},
	{'_', "LOW LINE"},
	{'`', "GRAVE ACCENT"},
	{'{', "LEFT CURLY BRACKET"},
	{'|', "VERTICAL LINE"},
	{'}', "RIGHT CURLY BRACKET"},
	{'~', "TILDE"},
};

static const char *const digit_names[10] = {
	"ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE",
};

static void ascii_name(char *out, size_t outsz, unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		snprintf(out, outsz, "LATIN CAPITAL LETTER %c", c);
		return;
	}
	if (c >= 'a' && c <= 'z') {
		snprintf(out, outsz, "LATIN SMALL LETTER %c", c - 'a' + 'A');
		return;
	}
	if (c >= '0' && c <= '9') {
		snprintf(out, outsz, "DIGIT %s", digit_names[c - '0']);
		return;
	}
	for (size_t i = 0; i < sizeof(punct_names) / sizeof(punct_names[0]); i++) {
		if (punct_names[i].c == (char)c) {
			snprintf(out, outsz, "%s", punct_names[i].name);
			return;
		}
	}
	snprintf(out, outsz, "<unnamed>");
}

int zw_stray_lookup(struct zw_stray_char *out, uint32_t cp)
{
	size_t lo = 0, hi = sizeof(table) / sizeof(table[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < table[mid].lo)
			hi = mid;
		else if (cp > table[mid].hi)
			lo = mid + 1;
		else {
			const struct cp_row *r = &table[mid];
			memset(out, 0, sizeof(*out));
			out->cp = cp;
			out->cls = r->cls;
			if (r->name)
				snprintf(out->name, sizeof(out->name), "%s", r->name);
			else if (cp < 0x20)
				snprintf(out->name, sizeof(out->name), "%s", c0_names[cp]);
			else {
				char a[48];
				ascii_name(a, sizeof(a), (unsigned char)(cp - 0xFEE0));
				snprintf(out->name, sizeof(out->name), "FULLWIDTH %s", a);
			}
			if (r->repl)
				snprintf(out->repl, sizeof(out->repl), "%s", r->repl);
			else
				out->repl[0] = (char)(cp - 0xFEE0);
			out->named = cp >= 0x80 && out->name[0] != '<';
			return 1;
		}
	}
	return 0;
}

size_t zw_stray_utf8(uint32_t *cp, const char *s, size_t len)
{
	if (!len)
		return 0;
	const unsigned char *u = (const unsigned char *)s;
	size_t need;
	uint32_t v, min;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] < 0xC2)
		return 0;
	if (u[0] < 0xE0) {
		need = 1, v = u[0] & 0x1F, min = 0x80;
	} else if (u[0] < 0xF0) {
		need = 2, v = u[0] & 0x0F, min = 0x800;
	} else if (u[0] < 0xF5) {
		need = 3, v = u[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < need + 1)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (u[i] & 0x3F);
	}
	if (v < min || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
		return 0;
	*cp = v;
	return need + 1;
}

/* Windows-1252 bytes 0x80-0x9F that are not the C1 controls (for mojibake). */
static const struct {
	uint32_t cp;
	unsigned char byte;
} cp1252[] = {
	{0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85}, {0x2020, 0x86},
	{0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A}, {0x2039, 0x8B}, {0x0152, 0x8C},
	{0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92}, {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95},
	{0x2013, 0x96}, {0x2014, 0x97}, {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B},
	{0x0153, 0x9C}, {0x017E, 0x9E}, {0x0178, 0x9F},
};

/* The byte a code point was decoded from by Windows-1252 or Latin-1; -1 if none. */
static int legacy_byte(uint32_t cp)
{
	if (cp >= 0x80 && cp <= 0xFF)
		return (int)cp;
	for (size_t i = 0; i < sizeof(cp1252) / sizeof(cp1252[0]); i++)
		if (cp1252[i].cp == cp)
			return cp1252[i].byte;
	return -1;
}

/* ---- tracks and notes ------------------------------------------------------------- */

enum { F_FIXED = 1, F_DROP = 2 };

struct tb {
	unsigned char c;
	unsigned char flags;
	size_t off; /* offset of the original byte it comes from */
};

struct track {
	struct tb *v;
	size_t n, cap;
};

enum note_kind {
	N_CHAR,	    /* a table code point (TX-02/05/06/07/08) */
	N_MOJIBAKE, /* a table code point, mojibake-encoded */
	N_INVALID,  /* bytes that are not UTF-8 (TX-08) */
	N_NONASCII, /* valid UTF-8 outside the table (TX-08) */
	N_LEADING,  /* TX-01 */
	N_CONTROL,  /* TAB/CR/LF in place (TX-02) */
	N_TRAILING, /* trailing blanks of a name (TX-02) */
	N_QUOTES,   /* TX-03 */
	N_PASTED,   /* TX-04 */
	N_ESCAPE,   /* TX-13 */
	N_TOO_LONG, /* TX-09 */
	N_GLUED,    /* TX-10 */
	N_KEY_WSP,  /* TX-11 */
	N_NAME_WSP, /* NM-07 */
};

enum { ACT_REMOVED = 1, ACT_SPACE = 2 };

struct note {
	enum note_kind kind;
	const char *cls;
	uint32_t cp; /* the code point, or a key (string number, boundary number) */
	size_t off, count;
	enum zw_severity sev;
	unsigned acts; /* ACT_* for TX-02 */
	unsigned seq;
	size_t len;	  /* TX-09: string length; TX-08: first bad byte or code point */
	char detail[160]; /* kind-specific text: the escape, the glued tokens, ... */
};

struct notes {
	struct note *v;
	size_t n, cap;
	unsigned seq;
};

enum mode { MODE_TXT, MODE_NAME };

struct run {
	enum zw_role role;
	enum mode mode;
	struct track a, b; /* a is current; a pass writes b, then they swap */
	struct notes notes;
	size_t *bounds; /* string boundaries and TX-04 junctions (original offsets) */
	size_t nbounds, capbounds;
	int pasted; /* TX-04 fired: the wrapping quotes are part of it */
};

static int push(struct track *t, unsigned char c, unsigned char flags, size_t off)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tb *v = zw_realloc(t->v, cap * sizeof(*v));
		if (!v)
			return ZW_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].c = c;
	t->v[t->n].flags = flags & F_FIXED;
	t->v[t->n].off = off;
	t->n++;
	return 0;
}

static int push_tb(struct track *t, const struct tb *b)
{
	return push(t, b->c, b->flags, b->off);
}

static void begin(struct run *r)
{
	r->b.n = 0;
}

static void finish(struct run *r)
{
	struct track t = r->a;
	r->a = r->b;
	r->b = t;
}

/* Kinds whose key is unique (a string or boundary number): never merged. */
static int unique_key(enum note_kind kind)
{
	return kind == N_TOO_LONG || kind == N_GLUED;
}

/* Record a problem; notes of the same kind, class and key merge. The keys of mergeable
 * kinds are few (table code points, control bytes, one per value), so the search is
 * short. */
static struct note *note_add(struct run *r, enum note_kind kind, const char *cls, uint32_t cp, size_t off)
{
	struct notes *ns = &r->notes;
	for (size_t i = 0; i < ns->n && !unique_key(kind); i++) {
		struct note *n = &ns->v[i];
		if (n->kind == kind && n->cp == cp && strcmp(n->cls, cls) == 0) {
			n->count++;
			if (off < n->off)
				n->off = off;
			return n;
		}
	}
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 8;
		struct note *v = zw_realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ns->v = v;
		ns->cap = cap;
	}
	struct note *n = &ns->v[ns->n++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->cls = cls;
	n->cp = cp;
	n->off = off;
	n->count = 1;
	n->sev = zw_class_find(cls)->severity;
	n->seq = ns->seq++;
	return n;
}

static int add_bound(struct run *r, size_t off)
{
	if (r->nbounds == r->capbounds) {
		size_t cap = r->capbounds ? r->capbounds * 2 : 8;
		size_t *v = zw_realloc(r->bounds, cap * sizeof(*v));
		if (!v)
			return ZW_ENOMEM;
		r->bounds = v;
		r->capbounds = cap;
	}
	r->bounds[r->nbounds++] = off;
	return 0;
}

static void run_free(struct run *r)
{
	zw_free(r->a.v);
	zw_free(r->b.v);
	zw_free(r->notes.v);
	zw_free(r->bounds);
	memset(r, 0, sizeof(*r));
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decode the UTF-8 sequence starting at track entry i. */
static size_t decode_at(uint32_t *cp, const struct track *t, size_t i)
{
	char tmp[4];
	size_t n = 0;
	while (n < 4 && i + n < t->n) {
		tmp[n] = (char)t->v[i + n].c;
		n++;
	}
	return zw_stray_utf8(cp, tmp, n);
}

/* Write bytes for a message: printable ASCII as is, anything else as <U+XXXX> (for a
 * C0 control) or \DDD, so a message stays one line of ASCII. */
static void safe_text(char *out, size_t outsz, const unsigned char *s, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && at + 9 < outsz; i++) {
		int w;
		if (s[i] >= 0x20 && s[i] <= 0x7e)
			w = snprintf(out + at, outsz - at, "%c", s[i]);
		else if (s[i] < 0x20)
			w = snprintf(out + at, outsz - at, "<U+%04X>", s[i]);
		else
			w = snprintf(out + at, outsz - at, "\\%03u", s[i]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

/* ---- group 1 ---------------------------------------------------------------------- */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* TX-13: zone-file escapes in a value that went through an API. */
static int pass_escapes(struct run *r, int *changed)
{
	const struct track *in = &r->a;
	begin(r);
	size_t i = 0;
	while (i < in->n) {
		const struct tb *b = &in->v[i];
		size_t used = 0;
		unsigned val = 0;
		if (b->c == '\\' && i + 1 < in->n) {
			unsigned char d = in->v[i + 1].c;
			if (is_digit(d)) {
				if (i + 3 < in->n && is_digit(in->v[i + 2].c) && is_digit(in->v[i + 3].c)) {
					val = (unsigned)(d - '0') * 100 +
					      (unsigned)(in->v[i + 2].c - '0') * 10 +
					      (unsigned)(in->v[i + 3].c - '0');
					if (val <= 255)
						used = 4;
				}
			} else if ((d >= 0x20 && d <= 0x7e) || d == '\t' || d == '\r' || d == '\n') {
				val = d;
				used = 2;
			}
		}
		if (!used) {
			if (push_tb(&r->b, b))
				return ZW_ENOMEM;
			i++;
			continue;
		}
		struct note *n = note_add(r, N_ESCAPE, "TX-13", 0, b->off);
		if (!n)
			return ZW_ENOMEM;
		if (n->off == b->off && !n->detail[0]) {
			unsigned char esc[4];
			for (size_t k = 0; k < used; k++)
				esc[k] = in->v[i + k].c;
			safe_text(n->detail, sizeof(n->detail), esc, used);
		}
		if (push(&r->b, (unsigned char)val, F_FIXED, b->off))
			return ZW_ENOMEM;
		i += used;
		*changed = 1;
	}
	finish(r);
	return 0;
}

/* Is the sequence at i the mojibake of a table code point? Sets *cp and *len. */
static int mojibake_at(uint32_t *cp, size_t *len, const struct track *t, size_t i)
{
	uint32_t lead;
	size_t l = decode_at(&lead, t, i);
	if (l != 2 || lead < 0xC2 || lead > 0xF4)
		return 0;
	size_t k = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
	char bytes[4];
	size_t pos = i + l;
	bytes[0] = (char)lead;
	for (size_t j = 1; j <= k; j++) {
		uint32_t c;
		size_t cl = decode_at(&c, t, pos);
		int b = cl ? legacy_byte(c) : -1;
		if (b < 0x80 || b > 0xBF)
			return 0;
		bytes[j] = (char)b;
		pos += cl;
	}
	struct zw_stray_char sc;
	uint32_t meant;
	if (zw_stray_utf8(&meant, bytes, k + 1) != k + 1 || !zw_stray_lookup(&sc, meant))
		return 0;
	*cp = meant;
	*len = pos - i;
	return 1;
}

/* TX-02/05/06/07/08: the code point table, mojibake, invalid UTF-8, C0 controls. */
static int pass_chars(struct run *r, int *changed)
{
	const struct track *in = &r->a;
	begin(r);
	size_t i = 0;
	while (i < in->n) {
		const struct tb *b = &in->v[i];
		if (b->c < 0x80 && (b->c >= 0x20 || b->c == '\t' || b->c == '\r' || b->c == '\n') &&
		    b->c != 0x7f) {
			if (push_tb(&r->b, b))
				return ZW_ENOMEM;
			i++;
			continue;
		}
		uint32_t cp;
		size_t len = decode_at(&cp, in, i);
		enum note_kind kind = N_CHAR;
		struct zw_stray_char sc;
		if (len == 0) {
			struct note *n = note_add(r, N_INVALID, "TX-08", 0, b->off);
			if (!n)
				return ZW_ENOMEM;
			if (n->off == b->off)
				n->len = b->c; /* the first bad byte, for the message */
			i++;
			*changed = 1;
			continue;
		}
		size_t mlen;
		uint32_t meant;
		if (len > 1 && mojibake_at(&meant, &mlen, in, i)) {
			kind = N_MOJIBAKE;
			cp = meant;
			len = mlen;
		}
		if (!zw_stray_lookup(&sc, cp)) {
			/* valid UTF-8 outside the table: kept, noted after group 1 */
			for (size_t k = 0; k < len; k++)
				if (push_tb(&r->b, &in->v[i + k]))
					return ZW_ENOMEM;
			i += len;
			continue;
		}
		if (!note_add(r, kind, sc.cls, cp, b->off))
			return ZW_ENOMEM;
		if (sc.repl[0] && push(&r->b, (unsigned char)sc.repl[0], F_FIXED, b->off))
			return ZW_ENOMEM;
		i += len;
		*changed = 1;
	}
	finish(r);
	return 0;
}

/* TX-04: `"` *blank `"` inside the value: multi-string notation pasted into one field.
 * Only inside: `""v=spf1 -all""` is double quoting (TX-03). */
static int pass_pasted(struct run *r, int *changed)
{
	const struct track *in = &r->a;
	size_t first = 0, last = in->n;
	while (first < in->n && is_ws(in->v[first].c))
		first++;
	while (last > first && is_ws(in->v[last - 1].c))
		last--;
	begin(r);
	size_t i = 0;
	while (i < in->n) {
		if (in->v[i].c == '"' && i > first) {
			size_t j = i + 1;
			while (j < in->n && is_ws(in->v[j].c))
				j++;
			if (j + 1 < last && in->v[j].c == '"') {
				if (!((in->v[i].flags & F_FIXED) && (in->v[j].flags & F_FIXED)) &&
				    !note_add(r, N_PASTED, "TX-04", 0, in->v[i].off))
					return ZW_ENOMEM;
				if (j + 1 < in->n && add_bound(r, in->v[j + 1].off))
					return ZW_ENOMEM;
				r->pasted = 1;
				*changed = 1;
				i = j + 1;
				continue;
			}
		}
		if (push_tb(&r->b, &in->v[i]))
			return ZW_ENOMEM;
		i++;
	}
	finish(r);
	return 0;
}

/* TX-03: literal quotes around the value (after any blanks). */
static int pass_quotes(struct run *r, int *changed)
{
	struct track *in = &r->a;
	size_t i = 0, e = in->n, first = (size_t)-1;
	int unfixed = 0, removed = 0, leading = 0;
	for (;;) {
		while (i < e && is_ws(in->v[i].c))
			i++;
		if (i >= e || in->v[i].c != '"')
			break;
		in->v[i].flags |= F_DROP;
		unfixed |= !(in->v[i].flags & F_FIXED);
		leading = 1;
		if (first == (size_t)-1)
			first = in->v[i].off;
		removed++;
		i++;
	}
	for (;;) {
		while (e > i && is_ws(in->v[e - 1].c))
			e--;
		if (e <= i || in->v[e - 1].c != '"')
			break;
		in->v[e - 1].flags |= F_DROP;
		unfixed |= !(in->v[e - 1].flags & F_FIXED);
		if (first == (size_t)-1)
			first = in->v[e - 1].off;
		removed++;
		e--;
	}
	if (!removed)
		return 0;
	if (unfixed && !r->pasted) {
		struct note *n = note_add(r, N_QUOTES, "TX-03", 0, first);
		if (!n)
			return ZW_ENOMEM;
		if (leading)
			n->detail[0] = 'L';
	}
	begin(r);
	for (size_t k = 0; k < in->n; k++)
		if (!(in->v[k].flags & F_DROP) && push_tb(&r->b, &in->v[k]))
			return ZW_ENOMEM;
	finish(r);
	*changed = 1;
	return 0;
}

/* TX-08 for what the passes kept: valid UTF-8 outside the table; one note per value,
 * naming the first code point. */
static int note_nonascii(struct run *r)
{
	const struct track *t = &r->a;
	struct note *n = NULL;
	for (size_t i = 0; i < t->n;) {
		uint32_t cp = 0;
		size_t len = t->v[i].c < 0x80 ? 1 : decode_at(&cp, t, i);
		if (len > 1) {
			if (n)
				n->count++;
			else if (!(n = note_add(r, N_NONASCII, "TX-08", 0, t->v[i].off)))
				return ZW_ENOMEM;
			else
				n->len = cp;
		}
		i += len ? len : 1;
	}
	return 0;
}

/* ---- group 2 ---------------------------------------------------------------------- */

/* TX-11: blanks between the base64 characters of a DKIM p= tag. */
static int pass_key(struct run *r, int *changed)
{
	struct track *in = &r->a;
	size_t i = 0, removed = 0;
	while (i < in->n) {
		size_t seg_end = i;
		while (seg_end < in->n && in->v[seg_end].c != ';')
			seg_end++;
		size_t k = i;
		while (k < seg_end && is_ws(in->v[k].c))
			k++;
		if (k < seg_end && in->v[k].c == 'p') {
			size_t eq = k + 1;
			while (eq < seg_end && is_ws(in->v[eq].c))
				eq++;
			if (eq < seg_end && in->v[eq].c == '=') {
				size_t a = eq + 1, z = seg_end;
				while (a < z && is_ws(in->v[a].c))
					a++;
				while (z > a && is_ws(in->v[z - 1].c))
					z--;
				for (size_t m = a; m < z; m++) {
					if (!is_ws(in->v[m].c))
						continue;
					in->v[m].flags |= F_DROP;
					removed++;
					if (!(in->v[m].flags & F_FIXED)) {
						struct note *n =
							note_add(r, N_KEY_WSP, "TX-11", 0, in->v[m].off);
						if (!n)
							return ZW_ENOMEM;
					}
				}
			}
		}
		i = seg_end + 1;
	}
	if (!removed)
		return 0;
	begin(r);
	for (size_t k = 0; k < in->n; k++)
		if (!(in->v[k].flags & F_DROP) && push_tb(&r->b, &in->v[k]))
			return ZW_ENOMEM;
	finish(r);
	*changed = 1;
	return 0;
}

/* May a TAB stay in this run of blanks [s, e) of the track? (Only where the role's
 * grammar has WSP: anywhere in DKIM, next to ';' or '=' in the other tag-lists.) */
static int tab_ok(const struct run *r, const struct track *t, size_t s, size_t e)
{
	if (r->mode == MODE_NAME)
		return 0;
	if (r->role == ZW_ROLE_DKIM)
		return 1;
	if (!zw_role_info(r->role)->tag_list)
		return 0;
	unsigned char before = s > 0 ? t->v[s - 1].c : 0, after = e < t->n ? t->v[e].c : 0;
	return before == ';' || before == '=' || after == ';' || after == '=';
}

static int note_control(struct run *r, const struct tb *b, int fold, unsigned act)
{
	if (b->flags & F_FIXED)
		return 0;
	struct note *n = note_add(r, N_CONTROL, "TX-02", b->c, b->off);
	if (!n)
		return ZW_ENOMEM;
	/* DKIM folding (CRLF then WSP) is valid FWS (RFC 6376 §2.8): fragile, not broken */
	enum zw_severity sev = fold ? ZW_SEV_WARNING : ZW_SEV_ERROR;
	if (n->count == 1 || sev > n->sev)
		n->sev = sev;
	n->acts |= act;
	return 0;
}

/* TX-01 leading blanks, TX-02 control characters and trailing junk, NM-07 for names. */
static int pass_blanks(struct run *r, int *changed)
{
	struct track *in = &r->a;
	size_t n = in->n, s = 0, e = n;
	int dkim = r->role == ZW_ROLE_DKIM && r->mode == MODE_TXT;

	/* leading */
	struct note *lead = NULL;
	while (s < n && is_ws(in->v[s].c)) {
		if (!(in->v[s].flags & F_FIXED)) {
			if (lead) {
				lead->count++;
			} else {
				if (!(lead = note_add(r, N_LEADING, "TX-01", 0, in->v[s].off)))
					return ZW_ENOMEM;
				lead->detail[0] = (char)in->v[s].c;
				if (dkim)
					lead->sev = ZW_SEV_WARNING;
			}
		}
		s++;
	}
	/* trailing: control characters and blanks a finding already covers go; an original
	 * SP stays in a value (SPF allows *SP), never in a name */
	while (e > s && is_ws(in->v[e - 1].c)) {
		const struct tb *b = &in->v[e - 1];
		if (r->mode == MODE_TXT) {
			if (b->c == ' ' && !(b->flags & F_FIXED))
				break;
			if (b->c == '\t' && tab_ok(r, in, e - 1, e))
				break;
			if (b->c != ' ' && note_control(r, b, 0, ACT_REMOVED))
				return ZW_ENOMEM;
		} else if (!(b->flags & F_FIXED) && !note_add(r, N_TRAILING, "TX-02", 0, b->off)) {
			return ZW_ENOMEM;
		}
		e--;
	}
	begin(r);
	size_t i = s;
	while (i < e) {
		if (!is_ws(in->v[i].c)) {
			if (push_tb(&r->b, &in->v[i]))
				return ZW_ENOMEM;
			i++;
			continue;
		}
		size_t j = i;
		while (j < e && is_ws(in->v[j].c))
			j++;
		if (r->mode == MODE_NAME) {
			/* a blank inside a name has no safe repair: report, keep */
			for (size_t k = i; k < j; k++)
				if (push_tb(&r->b, &in->v[k]))
					return ZW_ENOMEM;
			if (!note_add(r, N_NAME_WSP, "NM-07", 0, in->v[i].off))
				return ZW_ENOMEM;
			i = j;
			continue;
		}
		size_t kept = 0, dropped = 0;
		for (size_t k = i; k < j; k++) {
			unsigned char c = in->v[k].c;
			if (c == ' ' || (c == '\t' && tab_ok(r, in, i, j))) {
				if (push_tb(&r->b, &in->v[k]))
					return ZW_ENOMEM;
				kept++;
			} else {
				dropped++;
			}
		}
		if (dropped) {
			/* a lone control character between two words becomes a space */
			int fold = 0;
			for (size_t k = i; k < j; k++) {
				unsigned char c = in->v[k].c;
				if (c == ' ' || (c == '\t' && tab_ok(r, in, i, j)))
					continue;
				fold = dkim && (c == '\r' || c == '\n');
				if (fold) {
					fold = 0;
					for (size_t m = k + 1; m < j; m++)
						if (in->v[m].c == ' ' || in->v[m].c == '\t')
							fold = 1;
				}
				if (note_control(r, &in->v[k], fold, kept ? ACT_REMOVED : ACT_SPACE))
					return ZW_ENOMEM;
			}
			if (!kept && push(&r->b, ' ', F_FIXED, in->v[i].off))
				return ZW_ENOMEM;
			*changed = 1;
		}
		i = j;
	}
	if (s > 0 || e < n)
		*changed = 1;
	finish(r);
	return 0;
}

/* SPF terms, for TX-10 and TX-12 (RFC 7208 §12): the shape, not the full grammar. */
static const struct {
	const char *name;
	int arg; /* 0 none, 1 optional (':' or '/'), 2 required ':' */
} spf_mechs[] = {
	{"all", 0}, {"include", 2}, {"a", 1}, {"mx", 1}, {"ptr", 1}, {"ip4", 2}, {"ip6", 2}, {"exists", 2},
};

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int spf_directive(const char *s, size_t n)
{
	size_t i = 0;
	if (n && strchr("+-~?", s[0]))
		i = 1;
	for (size_t k = 0; k < sizeof(spf_mechs) / sizeof(spf_mechs[0]); k++) {
		size_t l = strlen(spf_mechs[k].name);
		if (n - i < l || strncasecmp(s + i, spf_mechs[k].name, l) != 0)
			continue;
		size_t j = i + l;
		switch (spf_mechs[k].arg) {
		case 0:
			if (j == n)
				return 1;
			break;
		case 1:
			if (j == n || ((s[j] == ':' || s[j] == '/') && j + 1 < n))
				return 1;
			break;
		default:
			if (j + 1 < n && s[j] == ':')
				return 1;
			break;
		}
	}
	return 0;
}

/* name "=" value; known_only: redirect= and exp= only. */
static int spf_modifier(const char *s, size_t n, int known_only)
{
	size_t i = 0;
	if (!n || !is_alpha((unsigned char)s[0]))
		return 0;
	while (i < n && s[i] != '=') {
		unsigned char c = (unsigned char)s[i];
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_' && c != '.')
			return 0;
		i++;
	}
	if (i >= n || i + 1 >= n)
		return 0;
	if (!known_only)
		return 1;
	return (i == 8 && strncasecmp(s, "redirect", 8) == 0) || (i == 3 && strncasecmp(s, "exp", 3) == 0);
}

static int spf_is_end(const char *s, size_t n)
{
	size_t i = (n && strchr("+-~?", s[0])) ? 1 : 0;
	return (n - i == 3 && strncasecmp(s + i, "all", 3) == 0) ||
	       (n > 9 && strncasecmp(s, "redirect=", 9) == 0);
}

/* Copy the track range [s, e) to a small text buffer (for tokens). */
static size_t track_text(char *out, size_t outsz, const struct track *t, size_t s, size_t e)
{
	size_t n = 0;
	for (size_t i = s; i < e && n + 1 < outsz; i++)
		out[n++] = (char)t->v[i].c;
	out[n] = '\0';
	return n;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* TX-10: a string boundary between two complete SPF terms with no space on either side. */
static int pass_glued(struct run *r, int *changed)
{
	const struct track *in = &r->a;
	if (r->nbounds)
		qsort(r->bounds, r->nbounds, sizeof(r->bounds[0]), cmp_size);
	begin(r);
	size_t bi = 0;
	for (size_t i = 0; i < in->n; i++) {
		if (push_tb(&r->b, &in->v[i]))
			return ZW_ENOMEM;
		if (i + 1 >= in->n)
			break;
		size_t lo = in->v[i].off, hi = in->v[i + 1].off;
		while (bi < r->nbounds && r->bounds[bi] <= lo)
			bi++;
		if (bi >= r->nbounds || r->bounds[bi] > hi)
			continue;
		/* a space after a backslash would be an escape (TX-13) */
		if (in->v[i].c == ' ' || in->v[i + 1].c == ' ' || in->v[i].c == '\\')
			continue;
		/* the tokens on both sides, at most TOKEN_MAX long (a longer one is no term) */
		size_t ls = i + 1, re = i + 1;
		while (ls > 0 && i + 1 - ls <= TOKEN_MAX && in->v[ls - 1].c != ' ')
			ls--;
		while (re < in->n && re - (i + 1) <= TOKEN_MAX && in->v[re].c != ' ')
			re++;
		if (i + 1 - ls > TOKEN_MAX || re - (i + 1) > TOKEN_MAX)
			continue;
		char left[TOKEN_MAX + 1], right[TOKEN_MAX + 1], sl[64], sr[64];
		size_t ll = track_text(left, sizeof(left), in, ls, i + 1);
		size_t rl = track_text(right, sizeof(right), in, i + 1, re);
		if (!(spf_directive(left, ll) || spf_modifier(left, ll, 0)) ||
		    !(spf_directive(right, rl) || spf_modifier(right, rl, 1)))
			continue;
		struct note *n = note_add(r, N_GLUED, "TX-10", (uint32_t)i, in->v[i + 1].off);
		if (!n)
			return ZW_ENOMEM;
		safe_text(sl, sizeof(sl), (const unsigned char *)left, ll);
		safe_text(sr, sizeof(sr), (const unsigned char *)right, rl);
		snprintf(n->detail, sizeof(n->detail), "'%s' to '%s'", sl, sr);
		if (push(&r->b, ' ', F_FIXED, in->v[i + 1].off))
			return ZW_ENOMEM;
		*changed = 1;
	}
	finish(r);
	return 0;
}

/* ---- running the passes ----------------------------------------------------------- */

static int run_passes(struct run *r, const char *v, size_t len, const size_t *lens, size_t nstr,
		      enum zw_role role, enum mode mode)
{
	int rc;
	r->role = role;
	r->mode = mode;
	for (size_t i = 0; i < len; i++)
		if ((rc = push(&r->a, (unsigned char)v[i], 0, i)))
			return rc;
	/* TX-10 looks at chosen splits only: after a string of 255 octets (or more) the
	 * split was forced by the wire limit and the joined bytes are the value meant */
	size_t at = 0;
	for (size_t i = 0; i + 1 < nstr; i++) {
		at += lens[i];
		if (lens[i] < ZW_TXT_STRING_MAX && at > 0 && at < len && (rc = add_bound(r, at)))
			return rc;
	}
	/* Until nothing changes, so that the result is a fixed point of every pass. Group 1
	 * only shrinks the track; group 2 shrinks it or adds at most one space per boundary,
	 * so this ends; ROUNDS_MAX is a guard, not a limit ever reached. */
	int changed = 1;
	for (int round = 0; changed && round < ROUNDS_MAX; round++) {
		do {
			changed = 0;
			if (mode == MODE_TXT && (rc = pass_escapes(r, &changed)))
				return rc;
			if ((rc = pass_chars(r, &changed)))
				return rc;
			if (mode == MODE_TXT && (rc = pass_pasted(r, &changed)))
				return rc;
			if ((rc = pass_quotes(r, &changed)))
				return rc;
		} while (changed);
		if (mode == MODE_TXT && role == ZW_ROLE_DKIM && (rc = pass_key(r, &changed)))
			return rc;
		if ((rc = pass_blanks(r, &changed)))
			return rc;
		if (mode == MODE_TXT && role == ZW_ROLE_SPF && (rc = pass_glued(r, &changed)))
			return rc;
	}
	return note_nonascii(r);
}

static int note_too_long(struct run *r, const struct zw_txt *t)
{
	size_t at = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->lens[i] > ZW_TXT_STRING_MAX) {
			struct note *n = note_add(r, N_TOO_LONG, "TX-09", (uint32_t)i, at);
			if (!n)
				return ZW_ENOMEM;
			n->len = t->lens[i];
		}
		at += t->lens[i];
	}
	return 0;
}

/* ---- findings --------------------------------------------------------------------- */

static const char *class_phrase(const char *cls)
{
	static const struct {
		const char *cls, *phrase;
	} phrases[] = {
		{"TX-02", "control character"},		  {"TX-05", "invisible character"},
		{"TX-06", "full-width character"},	  {"TX-07", "typographic look-alike"},
		{"TX-08", "broken-conversion character"},
	};
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strcmp(phrases[i].cls, cls) == 0)
			return phrases[i].phrase;
	return "character";
}

static void more(char *out, size_t outsz, size_t count)
{
	if (count > 1)
		snprintf(out, outsz, " (and %zu more)", count - 1);
	else
		out[0] = '\0';
}

static void char_action(char *out, size_t outsz, const struct zw_stray_char *sc)
{
	if (!sc->repl[0])
		snprintf(out, outsz, "it is removed");
	else if (sc->repl[0] == ' ')
		snprintf(out, outsz, "a space was meant");
	else
		snprintf(out, outsz, "ascii '%c' was meant", sc->repl[0]);
}

static void message(char *msg, size_t sz, const struct note *n, const struct run *r)
{
	const struct zw_role_info *info = zw_role_info(r->role);
	const char *ref = r->mode == MODE_NAME ? "RFC 1035 §2.3.1" : info->grammar;
	char m[48], act[64];
	struct zw_stray_char sc;
	memset(&sc, 0, sizeof(sc));
	more(m, sizeof(m), n->count);
	switch (n->kind) {
	case N_CHAR:
	case N_MOJIBAKE:
		zw_stray_lookup(&sc, n->cp);
		char_action(act, sizeof(act), &sc);
		snprintf(msg, sz, "%s%s U+%04X %s at offset %zu%s (%s): %s",
			 n->kind == N_MOJIBAKE
				 ? "mojibake (utf-8 read as windows-1252 and encoded again) of the "
				 : "",
			 class_phrase(n->cls), (unsigned)n->cp, sc.name, n->off, m, ref, act);
		break;
	case N_INVALID:
		snprintf(msg, sz, "byte \\%03zu at offset %zu is not utf-8%s (%s): it is removed", n->len,
			 n->off, m, ref);
		break;
	case N_NONASCII:
		if (r->mode == MODE_NAME)
			snprintf(msg, sz,
				 "non-ascii character U+%04X at offset %zu%s in a name "
				 "(RFC 5890 §2.3.2.1): write the a-label (xn--...)",
				 (unsigned)n->len, n->off, m);
		else
			snprintf(msg, sz,
				 "non-ascii character U+%04X at offset %zu%s: a %s record "
				 "allows ascii only (%s)",
				 (unsigned)n->len, n->off, m, info->name, ref);
		break;
	case N_LEADING:
		zw_stray_lookup(&sc, (unsigned char)n->detail[0]);
		if (r->mode == MODE_NAME)
			snprintf(msg, sz,
				 "leading whitespace (U+%04X %s) at offset %zu in a name (%s): "
				 "it is removed",
				 (unsigned)(unsigned char)n->detail[0],
				 n->detail[0] == ' ' ? "SPACE" : sc.name, n->off, ref);
		else if (info->version[0])
			snprintf(msg, sz,
				 "leading whitespace (U+%04X %s) at offset %zu before the "
				 "%s version tag (%s): the record must begin with '%s'%s",
				 (unsigned)(unsigned char)n->detail[0],
				 n->detail[0] == ' ' ? "SPACE" : sc.name, n->off, info->name, ref,
				 info->version,
				 r->role == ZW_ROLE_DKIM ? "; valid dkim fws, but fragile" : "");
		else
			snprintf(msg, sz,
				 "leading whitespace (U+%04X %s) at offset %zu before the %s "
				 "(%s): it is removed",
				 (unsigned)(unsigned char)n->detail[0],
				 n->detail[0] == ' ' ? "SPACE" : sc.name, n->off, info->name, ref);
		break;
	case N_CONTROL:
		zw_stray_lookup(&sc, n->cp);
		snprintf(msg, sz, "control character U+%04X %s at offset %zu%s (%s): %s%s", (unsigned)n->cp,
			 sc.name, n->off, m, ref,
			 n->acts == ACT_SPACE	  ? "it is turned into a space"
			 : n->acts == ACT_REMOVED ? "it is removed"
						  : "it is removed or turned into a space",
			 n->sev == ZW_SEV_WARNING ? "; dkim folding is valid (RFC 6376 §2.8) but fragile"
						  : "");
		break;
	case N_TRAILING:
		snprintf(msg, sz, "trailing whitespace at offset %zu%s in a name (%s): it is removed", n->off,
			 m, ref);
		break;
	case N_QUOTES:
		if (n->detail[0] == 'L')
			snprintf(msg, sz,
				 "literal quotes around the value at offset %zu (%s): the "
				 "value starts with '\"'%s%s%s; they are removed",
				 n->off, ref, info->version[0] ? " instead of '" : "", info->version,
				 info->version[0] ? "'" : "");
		else
			snprintf(msg, sz,
				 "literal quote at the end of the value at offset %zu (%s): "
				 "the quote is data and breaks the last term; it is removed",
				 n->off, ref);
		break;
	case N_PASTED:
		snprintf(msg, sz,
			 "multi-string notation '\" \"' pasted into one string at offset "
			 "%zu%s (%s): the quotes and blanks are data; they are removed and the parts "
			 "joined",
			 n->off, m, r->role == ZW_ROLE_DKIM ? "RFC 6376 §6.1.2" : ref);
		break;
	case N_ESCAPE:
		snprintf(msg, sz,
			 "zone-file escape '%s' at offset %zu%s: through an api the "
			 "backslash is data (%s); the escapes are undone",
			 n->detail, n->off, m, ref);
		break;
	case N_TOO_LONG:
		snprintf(msg, sz,
			 "string %u is %zu octets at offset %zu, over the 255 of one "
			 "character-string (RFC 1035 §3.3): split it at 255 octets",
			 (unsigned)n->cp + 1, n->len, n->off);
		break;
	case N_GLUED:
		snprintf(msg, sz,
			 "spf strings joined at offset %zu glue %s (RFC 7208 §3.3): strings "
			 "are concatenated with no space, so a space is added",
			 n->off, n->detail);
		break;
	case N_KEY_WSP:
		snprintf(msg, sz,
			 "whitespace inside the dkim p= key at offset %zu%s (RFC 6376 "
			 "§3.6.1): valid, but some verifiers fail on it; it is removed",
			 n->off, m);
		break;
	case N_NAME_WSP:
		snprintf(msg, sz,
			 "whitespace inside the name at offset %zu%s (RFC 1035 §2.3.1): "
			 "not a valid host name",
			 n->off, m);
		break;
	}
}

static int cmp_note(const void *a, const void *b)
{
	const struct note *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Remove findings [from, n) again (the call failed). */
static void findings_truncate(struct zw_findings *fs, size_t from)
{
	while (fs->n > from)
		zw_findings_drop(fs, from, fs->v[fs->n - 1].cls->id);
}

static int display(char **out, const char *v, size_t len)
{
	struct zw_buf b = ZW_BUF_INIT;
	if (zw_txt_display(&b, v, len) || !(*out = zw_buf_detach(&b))) {
		zw_buf_free(&b);
		return ZW_ENOMEM;
	}
	return 0;
}

/* Turn notes into findings with observed/expected/fix. */
static int emit(struct zw_findings *fs, struct run *r, const char *orig, size_t olen, const char *norm,
		size_t nlen)
{
	char *obs = NULL, *exp = NULL;
	int rc = 0, changed = olen != nlen || (olen && memcmp(orig, norm, olen) != 0);
	if (!r->notes.n)
		return 0;
	qsort(r->notes.v, r->notes.n, sizeof(r->notes.v[0]), cmp_note);
	if ((rc = display(&obs, orig, olen)) || (rc = display(&exp, norm, nlen)))
		goto out;
	for (size_t i = 0; i < r->notes.n; i++) {
		const struct note *n = &r->notes.v[i];
		char msg[768];
		message(msg, sizeof(msg), n, r);
		struct zw_finding *f = zw_findings_add(fs, n->cls, (long)n->off, "%s", msg);
		if (!f) {
			rc = ZW_ENOMEM;
			goto out;
		}
		f->sev = n->sev;
		const char *fix = NULL;
		if (n->kind == N_TOO_LONG)
			fix = ZW_STRAY_FIX_SPLIT;
		else if (n->kind == N_NONASCII)
			fix = r->mode == MODE_NAME ? "write the name with a-labels (xn--...)"
						   : "rewrite the value in ascii";
		else if (n->kind == N_NAME_WSP)
			fix = "remove the whitespace from the name";
		else if (changed)
			fix = r->mode == MODE_NAME ? ZW_STRAY_FIX_NAME : ZW_STRAY_FIX_VALUE;
		if (zw_finding_set(f, ZW_F_OBSERVED, obs) || zw_finding_set(f, ZW_F_EXPECTED, exp) ||
		    zw_finding_set(f, ZW_F_FIX, fix)) {
			rc = ZW_ENOMEM;
			goto out;
		}
	}
out:
	zw_free(obs);
	zw_free(exp);
	return rc;
}

static int set_buf(struct zw_buf *b, const struct track *t)
{
	zw_buf_reset(b);
	int rc = zw_buf_add(b, "", 0);
	for (size_t i = 0; i < t->n && !rc; i++)
		rc = zw_buf_addc(b, (char)t->v[i].c);
	return rc;
}

/* The role of a value: the generic normalisation first, then recognition. */
static int detect(enum zw_role *role, const struct zw_txt *t, enum zw_role hint)
{
	struct run g = {0};
	int rc = run_passes(&g, t->data, t->len, t->lens, t->n, ZW_ROLE_NONE, MODE_TXT);
	if (!rc) {
		char *tmp = zw_malloc(g.a.n + 1);
		if (!tmp) {
			rc = ZW_ENOMEM;
		} else {
			for (size_t i = 0; i < g.a.n; i++)
				tmp[i] = (char)g.a.v[i].c;
			*role = zw_role_detect(NULL, tmp, g.a.n, hint);
			zw_free(tmp);
		}
	}
	run_free(&g);
	return rc;
}

static int nomem(struct zw_error *err, int rc)
{
	if (rc == ZW_ENOMEM)
		return zw_error_set(err, rc, "out of memory");
	return rc;
}

int zw_stray_check_txt(struct zw_findings *fs, struct zw_buf *normalised, enum zw_role *role,
		       const struct zw_txt *t, enum zw_role hint, struct zw_error *err)
{
	struct run r = {0};
	enum zw_role found = ZW_ROLE_NONE;
	size_t from = fs->n;
	int rc;
	if (t->len > VALUE_MAX)
		return zw_error_set(err, ZW_EINVAL, "txt value of %zu octets is over 65535 (RFC 1035 §3.2.1)",
				    t->len);
	if ((rc = detect(&found, t, hint)))
		goto out;
	if (found == ZW_ROLE_NONE) {
		/* foreign text: never changed; only a string too long for the wire is reported */
		r.role = ZW_ROLE_NONE;
		for (size_t i = 0; i < t->len; i++)
			if ((rc = push(&r.a, (unsigned char)t->data[i], 0, i)))
				goto out;
	} else if ((rc = run_passes(&r, t->data, t->len, t->lens, t->n, found, MODE_TXT))) {
		goto out;
	}
	if ((rc = note_too_long(&r, t)) || (rc = set_buf(normalised, &r.a)))
		goto out;
	rc = emit(fs, &r, t->data, t->len, normalised->p, normalised->len);
	if (!rc && role)
		*role = found;
out:
	if (rc)
		findings_truncate(fs, from);
	run_free(&r);
	return nomem(err, rc);
}

int zw_stray_check_name(struct zw_findings *fs, struct zw_buf *normalised, const char *name, size_t len,
			struct zw_error *err)
{
	struct run r = {0};
	size_t from = fs->n;
	int rc;
	if (len > NAME_TEXT_MAX)
		return zw_error_set(err, ZW_EINVAL, "name of %zu octets is too long", len);
	if ((rc = run_passes(&r, name, len, NULL, 0, ZW_ROLE_NONE, MODE_NAME)) ||
	    (rc = set_buf(normalised, &r.a)))
		goto out;
	rc = emit(fs, &r, name, len, normalised->p, normalised->len);
out:
	if (rc)
		findings_truncate(fs, from);
	run_free(&r);
	return nomem(err, rc);
}

/* ---- TX-12: one record split across RRs ------------------------------------------- */

static int is_b64(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=';
}

/* The known tags of each tag-list role that may start a continuation. */
static const struct {
	enum zw_role role;
	const char *tags; /* space-separated */
} cont_tags[] = {
	{ZW_ROLE_DMARC, "p sp np adkim aspf fo rua ruf t psd pct rf ri"},
	{ZW_ROLE_DMARC_REPORT, "rua ruf"},
	{ZW_ROLE_STS, "id"},
	{ZW_ROLE_TLSRPT, "rua"},
	{ZW_ROLE_BIMI, "l a s"},
};

static int tag_listed(const char *tags, const char *s, size_t n)
{
	size_t tl = strlen(tags), i = 0;
	while (i < tl) {
		size_t j = i;
		while (j < tl && tags[j] != ' ')
			j++;
		if (j - i == n && strncasecmp(tags + i, s, n) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* Does `cont` (an RR of no role) continue a record of `role` whose value is `head`? */
static int continues(enum zw_role role, const char *head, size_t hl, const char *c, size_t cl)
{
	size_t s = 0, e = cl;
	while (s < e && is_ws((unsigned char)c[s]))
		s++;
	while (e > s && is_ws((unsigned char)c[e - 1]))
		e--;
	if (s == e)
		return 0;
	if (role == ZW_ROLE_DKIM) {
		for (size_t i = s; i < e; i++)
			if (!is_b64((unsigned char)c[i]) && !is_ws((unsigned char)c[i]))
				return 0;
		/* the head must hold a p= tag to continue */
		for (size_t i = 0; i + 1 < hl; i++)
			if (head[i] == 'p' && head[i + 1] == '=' &&
			    (i == 0 || head[i - 1] == ';' || is_ws((unsigned char)head[i - 1])))
				return 1;
		return 0;
	}
	if (role == ZW_ROLE_SPF) {
		/* the head has no all/redirect; the part is terms ending with one */
		for (size_t i = 0; i < hl;) {
			size_t j = i;
			while (j < hl && head[j] != ' ')
				j++;
			if (spf_is_end(head + i, j - i))
				return 0;
			i = j + 1;
		}
		size_t i = s, ntok = 0, last_s = s, last_e = s;
		while (i < e) {
			size_t j = i;
			while (j < e && c[j] != ' ')
				j++;
			if (j > i) {
				if (ntok > 0 && !spf_directive(c + i, j - i) &&
				    !spf_modifier(c + i, j - i, 0))
					return 0;
				for (size_t k = i; k < j; k++)
					if ((unsigned char)c[k] < 0x21 || (unsigned char)c[k] > 0x7e)
						return 0;
				ntok++;
				last_s = i;
				last_e = j;
			}
			i = j + 1;
		}
		return spf_is_end(c + last_s, last_e - last_s);
	}
	for (size_t k = 0; k < sizeof(cont_tags) / sizeof(cont_tags[0]); k++) {
		if (cont_tags[k].role != role)
			continue;
		if (c[s] == ';')
			s++;
		while (s < e && is_ws((unsigned char)c[s]))
			s++;
		size_t j = s;
		while (j < e && is_alpha((unsigned char)c[j]))
			j++;
		size_t eq = j;
		while (eq < e && is_ws((unsigned char)c[eq]))
			eq++;
		return j > s && eq < e && c[eq] == '=' && tag_listed(cont_tags[k].tags, c + s, j - s);
	}
	return 0;
}

struct rr_state {
	struct zw_buf norm;
	enum zw_role role;
	size_t head; /* index of its group head; itself when not merged */
};

static int rr_set_srcs(struct zw_stray_rr *rr, const size_t *srcs, size_t n)
{
	rr->srcs = zw_calloc(n, sizeof(*rr->srcs));
	if (!rr->srcs)
		return ZW_ENOMEM;
	memcpy(rr->srcs, srcs, n * sizeof(*srcs));
	rr->nsrcs = n;
	return 0;
}

/* Join the strings of RRs parts[0..np) into one TXT (the strings kept as they were). */
static int merge_rrs(struct zw_txt *out, const struct zw_txt *rrs, const size_t *parts, size_t np)
{
	size_t nstr = 0;
	for (size_t i = 0; i < np; i++)
		nstr += rrs[parts[i]].n;
	const char **strs = zw_calloc(nstr, sizeof(*strs));
	size_t *lens = zw_calloc(nstr, sizeof(*lens));
	int rc = ZW_ENOMEM;
	if (strs && lens) {
		size_t k = 0;
		for (size_t i = 0; i < np; i++) {
			const struct zw_txt *t = &rrs[parts[i]];
			size_t at = 0;
			for (size_t j = 0; j < t->n; j++) {
				strs[k] = t->data + at;
				lens[k++] = t->lens[j];
				at += t->lens[j];
			}
		}
		rc = zw_txt_from_strings(out, strs, lens, nstr);
	}
	zw_free(strs);
	zw_free(lens);
	return rc;
}

static const char *split_ref(enum zw_role role)
{
	if (role == ZW_ROLE_DKIM)
		return "RFC 6376 §3.6.2.2";
	if (role == ZW_ROLE_SPF)
		return "RFC 7208 §3.3";
	return "RFC 1035 §3.3.14";
}

/* The TX-12 finding for one merged group. */
static int report_split(struct zw_findings *fs, const struct zw_txt *rrs, const size_t *parts, size_t np,
			enum zw_role role, const struct zw_buf *norm)
{
	struct zw_buf obs = ZW_BUF_INIT;
	char *exp = NULL;
	int rc = 0;
	for (size_t i = 0; i < np && !rc; i++) {
		if (i)
			rc = zw_buf_adds(&obs, " + ");
		if (!rc)
			rc = zw_txt_display(&obs, rrs[parts[i]].data, rrs[parts[i]].len);
	}
	if (!rc)
		rc = display(&exp, norm->p ? norm->p : "", norm->len);
	if (!rc) {
		struct zw_finding *f = zw_findings_add(
			fs, "TX-12", -1,
			"one %s record is published as %zu rrs (%s): rrs are never joined, so "
			"receivers see a cut record; publish one rr with the parts as its strings",
			zw_role_name(role), np, split_ref(role));
		if (!f || zw_finding_set(f, ZW_F_OBSERVED, zw_buf_str(&obs)) ||
		    zw_finding_set(f, ZW_F_EXPECTED, exp) ||
		    zw_finding_set(f, ZW_F_FIX, "replace the rrs with one rr holding the joined value"))
			rc = ZW_ENOMEM;
	}
	zw_buf_free(&obs);
	zw_free(exp);
	return rc;
}

void zw_stray_rrset_free(struct zw_stray_rrset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		zw_txt_free(&s->v[i].txt);
		zw_free(s->v[i].srcs);
	}
	zw_free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int has_long_string(const struct zw_txt *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->lens[i] > ZW_TXT_STRING_MAX)
			return 1;
	return 0;
}

int zw_stray_check_rrset(struct zw_findings *fs, struct zw_stray_rrset *out, const struct zw_txt *rrs,
			 size_t n, enum zw_role hint, struct zw_error *err)
{
	static const enum zw_role mergeable[] = {
		ZW_ROLE_SPF, ZW_ROLE_DKIM,   ZW_ROLE_DMARC, ZW_ROLE_DMARC_REPORT,
		ZW_ROLE_STS, ZW_ROLE_TLSRPT, ZW_ROLE_BIMI,
	};
	struct rr_state *st = NULL;
	struct zw_findings scratch = {0};
	size_t *parts = NULL, from = fs->n;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	st = zw_calloc(n, sizeof(*st));
	parts = zw_calloc(n, sizeof(*parts));
	out->v = zw_calloc(n, sizeof(*out->v));
	if (!st || !parts || !out->v) {
		rc = ZW_ENOMEM;
		goto out;
	}
	/* every RR alone, to learn its role */
	for (size_t i = 0; i < n; i++) {
		st[i].head = i;
		if ((rc = zw_stray_check_txt(&scratch, &st[i].norm, &st[i].role, &rrs[i], hint, err)))
			goto out;
	}
	/* one head of a role, and the RRs of no role that continue it */
	for (size_t k = 0; k < sizeof(mergeable) / sizeof(mergeable[0]); k++) {
		size_t h = n, heads = 0;
		for (size_t i = 0; i < n; i++)
			if (st[i].role == mergeable[k])
				h = i, heads++;
		if (heads != 1)
			continue;
		for (size_t j = 0; j < n; j++)
			if (j != h && st[j].role == ZW_ROLE_NONE && st[j].head == j &&
			    continues(mergeable[k], zw_buf_str(&st[h].norm), st[h].norm.len, rrs[j].data,
				      rrs[j].len))
				st[j].head = h;
	}
	for (size_t i = 0; i < n; i++) {
		if (st[i].head != i)
			continue;
		size_t np = 0;
		parts[np++] = i;
		for (size_t j = 0; j < n; j++)
			if (j != i && st[j].head == i)
				parts[np++] = j;
		struct zw_stray_rr *rr = &out->v[out->n];
		struct zw_buf norm = ZW_BUF_INIT;
		if (np > 1) {
			struct zw_txt merged;
			if ((rc = merge_rrs(&merged, rrs, parts, np)))
				goto out;
			rc = zw_stray_check_txt(fs, &norm, &rr->role, &merged, hint, err);
			zw_txt_free(&merged);
			if (!rc)
				rc = report_split(fs, rrs, parts, np, st[i].role, &norm);
			if (!rc)
				rc = zw_txt_from_value(&rr->txt, zw_buf_str(&norm), norm.len);
			rr->changed = 1;
		} else {
			rc = zw_stray_check_txt(fs, &norm, &rr->role, &rrs[i], hint, err);
			rr->changed = norm.len != rrs[i].len ||
				      (norm.len && memcmp(norm.p, rrs[i].data, norm.len) != 0) ||
				      has_long_string(&rrs[i]);
			if (!rc)
				rc = rr->changed ? zw_txt_from_value(&rr->txt, zw_buf_str(&norm), norm.len)
						 : zw_txt_copy(&rr->txt, &rrs[i]);
		}
		zw_buf_free(&norm);
		if (!rc)
			rc = rr_set_srcs(rr, parts, np);
		out->n++; /* counted even when half-built: zw_stray_rrset_free handles it */
		if (rc)
			goto out;
	}
out:
	if (st)
		for (size_t i = 0; i < n; i++)
			zw_buf_free(&st[i].norm);
	zw_free(st);
	zw_free(parts);
	zw_findings_free(&scratch);
	if (rc) {
		zw_stray_rrset_free(out);
		findings_truncate(fs, from);
	}
	return nomem(err, rc);
}
