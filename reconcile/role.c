/*
 * role.c - role recognition of TXT values and the owner-name checks NM-03/NM-04 (see
 * role.h).
 *
 * Owns nothing: every function reads its input and appends at most to the findings list.
 * The version rules and the reserved owner labels are tables; adding a role is adding a
 * row to each.
 */
#include "reconcile/role.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reconcile/buf.h"

static const struct zw_role_info infos[ZW_ROLE_COUNT] = {
	[ZW_ROLE_NONE] = {ZW_ROLE_NONE, "text", "", "RFC 1035 §3.3.14", "", 0},
	[ZW_ROLE_SPF] = {ZW_ROLE_SPF, "spf", "v=spf1", "RFC 7208 §12", "RFC 7208 §3", 0},
	[ZW_ROLE_SENDER_ID] = {ZW_ROLE_SENDER_ID, "sender id", "spf2.0/", "RFC 4406 §3", "RFC 4406 §3", 0},
	[ZW_ROLE_DKIM] = {ZW_ROLE_DKIM, "dkim", "v=DKIM1", "RFC 6376 §3.2", "RFC 6376 §3.6.2.1", 1},
	[ZW_ROLE_DMARC] = {ZW_ROLE_DMARC, "dmarc", "v=DMARC1", "RFC 9989 §4.8", "RFC 7489 §6.1", 1},
	[ZW_ROLE_DMARC_REPORT] = {ZW_ROLE_DMARC_REPORT, "dmarc report authorisation", "v=DMARC1",
				  "RFC 9989 §4.8", "RFC 7489 §7.1", 1},
	[ZW_ROLE_STS] = {ZW_ROLE_STS, "mta-sts", "v=STSv1", "RFC 8461 §3.1", "RFC 8461 §3.1", 1},
	[ZW_ROLE_TLSRPT] = {ZW_ROLE_TLSRPT, "tls-rpt", "v=TLSRPTv1", "RFC 8460 §3", "RFC 8460 §3", 1},
	[ZW_ROLE_BIMI] = {ZW_ROLE_BIMI, "bimi", "v=BIMI1",
			  "draft-brand-indicators-for-message-identification §4",
			  "draft-brand-indicators-for-message-identification §4", 1},
	[ZW_ROLE_VERIFICATION] = {ZW_ROLE_VERIFICATION, "verification token", "", "RFC 1035 §3.3.14", "", 0},
};

const struct zw_role_info *zw_role_info(enum zw_role role)
{
	if ((unsigned)role >= ZW_ROLE_COUNT)
		role = ZW_ROLE_NONE;
	return &infos[role];
}

const char *zw_role_name(enum zw_role role)
{
	return zw_role_info(role)->name;
}

/* ---- recognition ---------------------------------------------------------------- */

enum {
	TAG_CI = 1,   /* the tag name matches in any case */
	VALUE_CI = 2, /* the version value matches in any case */
	EQ_WSP = 4,   /* WSP allowed around '=' */
	LEAD_WSP = 8, /* WSP allowed before the first tag (DKIM tag-spec [FWS]) */
	END_SP = 16,  /* the version ends at SP or the end (SPF); else *WSP then ';' or end */
};

/* The exact selection rules (role.h). Order matters only for the near pass. */
static const struct version_rule {
	enum zw_role role;
	const char *tag, *value;
	unsigned flags;
} rules[] = {
	{ZW_ROLE_SPF, "v", "spf1", TAG_CI | VALUE_CI | END_SP}, /* RFC 7208 §4.5, §12 */
	{ZW_ROLE_DKIM, "v", "DKIM1", EQ_WSP | LEAD_WSP},	/* RFC 6376 §3.6.1 */
	{ZW_ROLE_DMARC, "v", "DMARC1", TAG_CI | EQ_WSP},	/* RFC 9989 §4.8 */
	{ZW_ROLE_STS, "v", "STSv1", 0},				/* RFC 8461 §3.1 */
	{ZW_ROLE_TLSRPT, "v", "TLSRPTv1", 0},			/* RFC 8460 §3 */
	{ZW_ROLE_BIMI, "v", "BIMI1", EQ_WSP},			/* draft §4 */
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

static size_t skip_wsp(const char *v, size_t len, size_t i)
{
	while (i < len && is_wsp((unsigned char)v[i]))
		i++;
	return i;
}

/* Does v[i..] start with word w (case-insensitively when ci)? Advances *i. */
static int match_word(const char *v, size_t len, size_t *i, const char *w, int ci)
{
	size_t n = strlen(w);
	if (len - *i < n)
		return 0;
	if (ci ? strncasecmp(v + *i, w, n) != 0 : memcmp(v + *i, w, n) != 0)
		return 0;
	*i += n;
	return 1;
}

static int strict_match(const struct version_rule *r, const char *v, size_t len)
{
	size_t i = 0;
	if (r->flags & LEAD_WSP)
		i = skip_wsp(v, len, i);
	if (!match_word(v, len, &i, r->tag, r->flags & TAG_CI))
		return 0;
	if (r->flags & EQ_WSP)
		i = skip_wsp(v, len, i);
	if (i >= len || v[i] != '=')
		return 0;
	i++;
	if (r->flags & EQ_WSP)
		i = skip_wsp(v, len, i);
	if (!match_word(v, len, &i, r->value, r->flags & VALUE_CI))
		return 0;
	if (r->flags & END_SP)
		return i == len || v[i] == ' ';
	i = skip_wsp(v, len, i);
	return i == len || v[i] == ';';
}

/* What a human meant: leading blanks and quotes, any case, blanks around '=', and any
 * separator (or none) after the version, as long as the version is not a longer number
 * (`v=spf10` is another version, RFC 7208 §4.5). */
static size_t skip_junk(const char *v, size_t len, size_t i)
{
	while (i < len &&
	       (is_wsp((unsigned char)v[i]) || v[i] == '\r' || v[i] == '\n' || v[i] == '"' || v[i] == '\''))
		i++;
	return i;
}

static int near_match(const struct version_rule *r, const char *v, size_t len)
{
	size_t i = skip_junk(v, len, 0);
	if (!match_word(v, len, &i, r->tag, 1))
		return 0;
	i = skip_wsp(v, len, i);
	if (i >= len || v[i] != '=')
		return 0;
	i = skip_wsp(v, len, i + 1);
	if (!match_word(v, len, &i, r->value, 1))
		return 0;
	return i == len || !is_digit((unsigned char)v[i]);
}

/* Sender ID (RFC 4406 §3): "spf2.0/" scope *( "," scope ) then SP or the end. */
static int sender_id_match(const char *v, size_t len)
{
	size_t i = 0;
	if (!match_word(v, len, &i, "spf2.0/", 1))
		return 0;
	size_t start = i;
	while (i < len && (is_alpha((unsigned char)v[i]) || v[i] == ','))
		i++;
	return i > start && (i == len || v[i] == ' ');
}

/* google-site-verification=…, facebook-domain-verification=…, MS=ms…: a tag name that
 * ends in "verification", or Microsoft's MS=ms. */
static int verification_match(const char *v, size_t len, size_t i)
{
	size_t start = i;
	if (len - i >= 5 && strncasecmp(v + i, "MS=ms", 5) == 0)
		return 1;
	while (i < len && (is_alpha((unsigned char)v[i]) || is_digit((unsigned char)v[i]) || v[i] == '-' ||
			   v[i] == '_' || v[i] == '.'))
		i++;
	const size_t n = sizeof("verification") - 1;
	return i < len && v[i] == '=' && i - start >= n && strncasecmp(v + i - n, "verification", n) == 0;
}

/* A DKIM tag-list with a `p` tag (tag names are case-sensitive, RFC 6376 §3.2). */
static int has_p_tag(const char *v, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (is_wsp((unsigned char)v[i]) || v[i] == '\r' || v[i] == '\n'))
			i++;
		if (i < len && v[i] == 'p') {
			size_t j = skip_wsp(v, len, i + 1);
			if (j < len && v[j] == '=')
				return 1;
		}
		while (i < len && v[i] != ';')
			i++;
		i++;
	}
	return 0;
}

/* Does v hold w, ignoring case? */
static int memmem_ci(const char *v, size_t len, const char *w)
{
	size_t n = strlen(w);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(v + i, w, n) == 0)
			return 1;
	return 0;
}

static enum zw_role with_hint(enum zw_role role, enum zw_role hint)
{
	if (role == ZW_ROLE_DMARC && hint == ZW_ROLE_DMARC_REPORT)
		return ZW_ROLE_DMARC_REPORT;
	return role;
}

enum zw_role zw_role_detect(int *near, const char *v, size_t len, enum zw_role hint)
{
	const size_t nrules = sizeof(rules) / sizeof(rules[0]);
	if (near)
		*near = 0;
	for (size_t k = 0; k < nrules; k++)
		if (strict_match(&rules[k], v, len))
			return with_hint(rules[k].role, hint);
	if (sender_id_match(v, len))
		return ZW_ROLE_SENDER_ID;
	if (verification_match(v, len, 0))
		return ZW_ROLE_VERIFICATION;
	if (hint == ZW_ROLE_DKIM && has_p_tag(v, len)) {
		size_t i = skip_wsp(v, len, 0);
		if (near && !(i < len && is_alpha((unsigned char)v[i])))
			*near = 1;
		return ZW_ROLE_DKIM;
	}
	for (size_t k = 0; k < nrules; k++) {
		if (near_match(&rules[k], v, len)) {
			if (near)
				*near = 1;
			return with_hint(rules[k].role, hint);
		}
	}
	if (verification_match(v, len, skip_junk(v, len, 0))) {
		if (near)
			*near = 1;
		return ZW_ROLE_VERIFICATION;
	}
	/* A broken version that still names the protocol: `v=spf10`, `v=spf 1`, `spf1 -all`
	 * (SP-03), or at _dmarc `p=reject; v=DMARC1`, `v=DMARC 1` (DM-03). Its grammar then
	 * says what is wrong, and the plan replaces it instead of adding a second record. */
	size_t j = skip_junk(v, len, 0);
	if ((len - j >= 5 && strncasecmp(v + j, "v=spf", 5) == 0) ||
	    (len - j >= 5 && strncasecmp(v + j, "spf1", 4) == 0 && v[j + 4] == ' ')) {
		if (near)
			*near = 1;
		return ZW_ROLE_SPF;
	}
	if (hint == ZW_ROLE_DMARC && (memmem_ci(v, len, "v=dmarc") || memmem_ci(v, len, "dmarc1"))) {
		if (near)
			*near = 1;
		return ZW_ROLE_DMARC;
	}
	return ZW_ROLE_NONE;
}

/* ---- owners --------------------------------------------------------------------- */

#define NAME_MAX_TEXT 1024
#define LABELS_MAX    128

struct labels {
	const char *p[LABELS_MAX];
	size_t l[LABELS_MAX];
	size_t n;
};

/* Lower-case copy without the trailing dot. -1 when too long. */
static int name_lower(char *out, size_t outsz, const char *in)
{
	size_t n = strlen(in);
	if (n && in[n - 1] == '.')
		n--;
	if (n >= outsz)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return 0;
}

static int split_labels(struct labels *ls, const char *s, size_t len)
{
	ls->n = 0;
	if (len == 0)
		return 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (ls->n == LABELS_MAX)
			return -1;
		ls->p[ls->n] = s + start;
		ls->l[ls->n] = i - start;
		ls->n++;
		start = i + 1;
	}
	return 0;
}

static int label_is(const struct labels *ls, size_t i, const char *w)
{
	return i < ls->n && ls->l[i] == strlen(w) && memcmp(ls->p[i], w, ls->l[i]) == 0;
}

/* The label with '_' and '-' removed equals w (lower case)? `_mta_sts` squashes to
 * `mtasts`, `domain-key` to `domainkey`. */
static int squash_is(const char *p, size_t l, const char *w)
{
	size_t k = 0, wl = strlen(w);
	for (size_t i = 0; i < l; i++) {
		if (p[i] == '_' || p[i] == '-')
			continue;
		if (k >= wl || p[i] != w[k])
			return 0;
		k++;
	}
	return k == wl;
}

/*
 * Where each role lives (role.h). `first`: the service labels are the leftmost labels
 * (_dmarc.<d>); otherwise a selector comes before them (<s>._domainkey.<d>). `squash`
 * is what an altered label still spells; `nosel` is the class for a missing selector;
 * `sel` the placeholder shown for it.
 */
static const struct owner_rule {
	enum zw_role role;
	const char *label[2];
	const char *squash[2];
	const char *joined; /* both squashed labels run together in one label */
	int first;
	const char *nosel;
	const char *sel;
} owner_rules[] = {
	{ZW_ROLE_DMARC_REPORT,
	 {"_report", "_dmarc"},
	 {"report", "dmarc"},
	 "reportdmarc",
	 0,
	 "NM-03",
	 "<policy-domain>"},
	{ZW_ROLE_DMARC, {"_dmarc", NULL}, {"dmarc", NULL}, NULL, 1, NULL, NULL},
	{ZW_ROLE_DKIM, {"_domainkey", NULL}, {"domainkey", NULL}, NULL, 0, "NM-03", "<selector>"},
	{ZW_ROLE_STS, {"_mta-sts", NULL}, {"mtasts", NULL}, NULL, 1, NULL, NULL},
	{ZW_ROLE_TLSRPT, {"_smtp", "_tls"}, {"smtp", "tls"}, "smtptls", 1, NULL, NULL},
	{ZW_ROLE_BIMI, {"_bimi", NULL}, {"bimi", NULL}, NULL, 0, "BI-02", "default"},
};

static const struct owner_rule *owner_rule(enum zw_role role)
{
	for (size_t i = 0; i < sizeof(owner_rules) / sizeof(owner_rules[0]); i++)
		if (owner_rules[i].role == role)
			return &owner_rules[i];
	return NULL;
}

static size_t rule_k(const struct owner_rule *r)
{
	return r->label[1] ? 2 : 1;
}

/* Are the service labels of r exactly at ls[i..]? */
static int exact_at(const struct owner_rule *r, const struct labels *ls, size_t i)
{
	for (size_t k = 0; k < rule_k(r); k++)
		if (!label_is(ls, i + k, r->label[k]))
			return 0;
	return 1;
}

/* Are they at ls[i..] in an altered spelling? Sets *span to the labels they use. */
static int altered_at(const struct owner_rule *r, const struct labels *ls, size_t i, size_t *span)
{
	size_t k = rule_k(r);
	if (i + k <= ls->n) {
		size_t j = 0;
		while (j < k && squash_is(ls->p[i + j], ls->l[i + j], r->squash[j]))
			j++;
		if (j == k) {
			*span = k;
			return 1;
		}
	}
	if (r->joined && i < ls->n && squash_is(ls->p[i], ls->l[i], r->joined)) {
		*span = 1;
		return 1;
	}
	return 0;
}

/* Where in ls are the service labels of r, exactly? SIZE_MAX if nowhere. */
static size_t find_exact(const struct owner_rule *r, const struct labels *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (exact_at(r, ls, i))
			return i;
		if (r->first)
			break;
	}
	return (size_t)-1;
}

static int add_labels(struct zw_buf *b, const struct labels *ls, size_t from, size_t to)
{
	int rc = 0;
	for (size_t i = from; i < to && !rc; i++) {
		rc = zw_buf_add(b, ls->p[i], ls->l[i]);
		if (!rc)
			rc = zw_buf_addc(b, '.');
	}
	return rc;
}

/* End an expected owner with the apex and the trailing dot. */
static int add_apex(struct zw_buf *b, const char *apex)
{
	if (apex[0])
		return zw_buf_addf(b, "%s.", apex);
	return b->len ? 0 : zw_buf_addc(b, '.');
}

static int add_service(struct zw_buf *b, const struct owner_rule *r)
{
	int rc = 0;
	for (size_t k = 0; k < rule_k(r) && !rc; k++)
		rc = zw_buf_addf(b, "%s.", r->label[k]);
	return rc;
}

/* The reserved owner (of any role) that ls matches exactly: its rule and where. */
static const struct owner_rule *reserved(const struct labels *ls, size_t *at)
{
	for (size_t i = 0; i < sizeof(owner_rules) / sizeof(owner_rules[0]); i++) {
		size_t j = find_exact(&owner_rules[i], ls);
		if (j != (size_t)-1 && (owner_rules[i].first || j >= 1)) {
			*at = j;
			return &owner_rules[i];
		}
	}
	return NULL;
}

enum zw_role zw_role_of_owner(const char *owner)
{
	char lc[NAME_MAX_TEXT];
	struct labels ls;
	size_t at;
	if (name_lower(lc, sizeof(lc), owner) || split_labels(&ls, lc, strlen(lc)))
		return ZW_ROLE_NONE;
	const struct owner_rule *r = reserved(&ls, &at);
	return r ? r->role : ZW_ROLE_NONE;
}

static int report(struct zw_findings *fs, const char *id, enum zw_role role, const char *owner,
		  const struct zw_buf *expected, const char *why)
{
	const struct zw_role_info *info = zw_role_info(role);
	const char *exp = zw_buf_str(expected);
	struct zw_finding *f = zw_findings_add(
		fs, id, -1, "%s record at %s.: %s, receivers look for it at %s (%s)", info->name, owner, why,
		exp, strcmp(id, "BI-02") == 0 ? info->grammar : info->owner_ref);
	if (!f)
		return ZW_ENOMEM;
	if (zw_finding_set(f, ZW_F_EXPECTED, exp) ||
	    zw_finding_setf(f, ZW_F_FIX, "create the record at %s; delete the misplaced copy if it is ours",
			    exp))
		return ZW_ENOMEM;
	return 0;
}

/* An SPF (or other host) record at an owner reserved for another role. */
static int check_host_record(struct zw_findings *fs, const struct labels *rel, const char *apex,
			     const char *owner, enum zw_role role)
{
	struct zw_buf exp = ZW_BUF_INIT;
	size_t at;
	const struct owner_rule *r = reserved(rel, &at);
	int rc = 0;
	if (!r)
		return 0;
	if (!(rc = add_labels(&exp, rel, at + rule_k(r), rel->n)) && !(rc = add_apex(&exp, apex))) {
		char why[160];
		snprintf(why, sizeof(why), "that owner is reserved for the %s record", zw_role_name(r->role));
		rc = report(fs, "NM-03", role, owner, &exp, why);
	}
	zw_buf_free(&exp);
	return rc;
}

int zw_role_check_owner(struct zw_findings *fs, const char *owner, const char *apex, enum zw_role role,
			struct zw_error *err)
{
	char o[NAME_MAX_TEXT], a[NAME_MAX_TEXT];
	struct labels rel;
	struct zw_buf exp = ZW_BUF_INIT;
	int rc = 0;
	if (name_lower(o, sizeof(o), owner) || name_lower(a, sizeof(a), apex))
		return zw_error_set(err, ZW_EINVAL, "owner or apex name is too long");
	size_t ol = strlen(o), al = strlen(a), rl;
	if (strcmp(o, a) == 0)
		rl = 0;
	else if (ol > al + 1 && strcmp(o + ol - al, a) == 0 && o[ol - al - 1] == '.')
		rl = ol - al - 1;
	else if (al == 0)
		rl = ol;
	else
		return zw_error_set(err, ZW_EINVAL, "owner %s. is not in the zone %s.", o, a);
	if (split_labels(&rel, o, rl))
		return zw_error_set(err, ZW_EINVAL, "owner %s. has too many labels", o);
	if (role == ZW_ROLE_SPF)
		return check_host_record(fs, &rel, a, o, role);
	const struct owner_rule *r = owner_rule(role);
	if (!r)
		return 0;
	size_t k = rule_k(r), at = find_exact(r, &rel), span = 0;
	if (at != (size_t)-1 && (r->first || at >= 1))
		return 0; /* where it belongs */

	const char *id = "NM-03";
	char why[200];
	if (at == 0) {
		/* the service labels without the selector before them */
		id = r->nosel;
		rc = zw_buf_addf(&exp, "%s.", r->sel);
		if (!rc)
			rc = add_labels(&exp, &rel, 0, rel.n);
		snprintf(why, sizeof(why), "the %s label has no selector before it", r->label[0]);
		goto finish;
	}
	for (size_t i = 0; i < rel.n && (i == 0 || !r->first); i++) {
		if (!altered_at(r, &rel, i, &span))
			continue;
		/* mta-sts.<d> is the policy web host, not a mangled label (CATALOGUE NM-03) */
		int policy_host = role == ZW_ROLE_STS && label_is(&rel, i, "mta-sts");
		id = policy_host ? "NM-03" : "NM-04";
		if (!r->first && i == 0)
			rc = zw_buf_addf(&exp, "%s.", r->sel);
		if (!rc)
			rc = add_labels(&exp, &rel, 0, i);
		if (!rc)
			rc = add_service(&exp, r);
		if (!rc)
			rc = add_labels(&exp, &rel, i + span, rel.n);
		if (policy_host)
			snprintf(why, sizeof(why),
				 "mta-sts is the policy web host; the txt record needs the underscore label "
				 "_mta-sts");
		else
			snprintf(why, sizeof(why), "the label '%.*s' lost or changed its underscore",
				 (int)(rel.l[i + span - 1] + (size_t)(rel.p[i + span - 1] - rel.p[i])),
				 rel.p[i]);
		goto finish;
	}
	/* elsewhere: keep the domain the record is about */
	{
		size_t rat, base = 0;
		const struct owner_rule *other = reserved(&rel, &rat);
		if (other)
			base = rat + rule_k(other);
		if (!r->first) {
			if (!other && rel.n >= 1) {
				rc = add_labels(&exp, &rel, 0, 1);
				base = 1;
			} else {
				rc = zw_buf_addf(&exp, "%s.", r->sel);
			}
		}
		if (!rc)
			rc = add_service(&exp, r);
		if (!rc)
			rc = add_labels(&exp, &rel, base, rel.n);
		snprintf(why, sizeof(why), "the owner has no %s%s%s label", r->label[0], k == 2 ? "." : "",
			 k == 2 ? r->label[1] : "");
	}
finish:
	if (!rc)
		rc = add_apex(&exp, a);
	if (!rc)
		rc = report(fs, id, role, o, &exp, why);
	zw_buf_free(&exp);
	return rc;
}
