/*
 * codec.c - what goes over the wire to and from Route 53 and STS, as bytes and XML.
 *
 * Owns nothing beyond one call: buffers are the caller's (struct r53_buf on the host's
 * allocator), and each libxml2 document is parsed, read and freed inside the function
 * that parses it. Requests are built by hand with XML escaping, in the element order of
 * the botocore model (Route 53 rejects any other order); responses are read by local
 * element name, so the namespace and unknown elements do not matter.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/route53/r53.h"

/* ---- buffer ----------------------------------------------------------------------------- */

void r53_buf_init(struct r53_buf *b, const struct zw_prov_host *h, size_t max)
{
	*b = (struct r53_buf){h, NULL, 0, 0, max, 0};
}

int r53_buf_add(struct r53_buf *b, const void *s, size_t n)
{
	if (b->oom)
		return ZW_PROV_ENOMEM;
	if (b->len + n + 1 > b->max) {
		b->oom = 1;
		return ZW_PROV_ENOMEM;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = b->h->realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return ZW_PROV_ENOMEM;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int r53_buf_adds(struct r53_buf *b, const char *s)
{
	return r53_buf_add(b, s, strlen(s));
}

int r53_buf_addf(struct r53_buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->oom = 1;
		return ZW_PROV_ENOMEM;
	}
	return r53_buf_add(b, tmp, (size_t)n);
}

void r53_buf_free(struct r53_buf *b)
{
	if (b->p)
		b->h->free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

/* ---- TXT values ------------------------------------------------------------------------- */

int r53_txt_encode(struct r53_buf *out, const char *data, const size_t *lens, size_t n)
{
	size_t off = 0, pieces = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = lens[i], done = 0;
		do {
			size_t take = len - done > R53_MAX_STRING ? R53_MAX_STRING : len - done;
			if (pieces++)
				r53_buf_add(out, " ", 1);
			r53_buf_add(out, "\"", 1);
			for (size_t j = 0; j < take; j++) {
				unsigned char c = (unsigned char)data[off + done + j];
				if (c == '"' || c == '\\') {
					char e[2] = {'\\', (char)c};
					r53_buf_add(out, e, 2);
				} else if (c < 0x20 || c >= 0x7f) {
					r53_buf_addf(out, "\\%03o", c);
				} else {
					r53_buf_add(out, (const char *)&c, 1);
				}
			}
			r53_buf_add(out, "\"", 1);
			done += take;
		} while (done < len);
		off += len;
	}
	if (n == 0)
		r53_buf_add(out, "\"\"", 2);
	return out->oom ? ZW_PROV_ENOMEM : 0;
}

static int is_octal(char c)
{
	return c >= '0' && c <= '7';
}

int r53_txt_decode(struct r53_buf *data, struct r53_buf *lens, const char *value)
{
	const char *p = value;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return data->oom || lens->oom ? ZW_PROV_ENOMEM : 0;
		int quoted = *p == '"';
		size_t len = 0;
		if (quoted)
			p++;
		while (*p && (quoted ? *p != '"' : (*p != ' ' && *p != '\t'))) {
			char c = *p++;
			if (c == '\\') {
				if (is_octal(p[0]) && is_octal(p[1]) && is_octal(p[2])) {
					int v = (p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0');
					if (v > 255)
						return ZW_PROV_EINVAL;
					c = (char)v;
					p += 3;
				} else if (!*p) {
					return ZW_PROV_EINVAL;
				} else {
					c = *p++;
				}
			}
			if (++len > R53_MAX_STRING)
				return ZW_PROV_EINVAL;
			r53_buf_add(data, &c, 1);
		}
		if (quoted) {
			if (*p != '"')
				return ZW_PROV_EINVAL;
			p++;
		}
		r53_buf_add(lens, &len, sizeof(len));
		if (data->oom || lens->oom)
			return ZW_PROV_ENOMEM;
	}
}

/* ---- names ------------------------------------------------------------------------------ */

int r53_name_decode(char *out, size_t outsz, const char *in)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int escaped = 0;
		if (c == '\\') {
			if (is_octal(p[1]) && is_octal(p[2]) && is_octal(p[3])) {
				int v = (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0');
				if (v > 255)
					return ZW_PROV_EINVAL;
				c = (unsigned char)v;
				p += 3;
			} else if (p[1]) {
				c = (unsigned char)*++p;
			} else {
				return ZW_PROV_EINVAL;
			}
			escaped = 1;
		}
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c <= 0x20 || c >= 0x7f || c == '\\' || (escaped && c == '.') || c == '"' || c == '(' ||
		    c == ')' || c == ';') {
			if (o + 5 >= outsz)
				return ZW_PROV_EINVAL;
			snprintf(out + o, 5, "\\%03u", c);
			o += 4;
		} else {
			if (o + 2 >= outsz)
				return ZW_PROV_EINVAL;
			out[o++] = (char)c;
		}
	}
	if (o == 0 || out[o - 1] != '.') {
		if (o + 2 > outsz)
			return ZW_PROV_EINVAL;
		out[o++] = '.';
	}
	out[o] = '\0';
	return 0;
}

/* The engine's presentation name (\DDD decimal, \X) to Route 53's form: \ooo octal for
 * octets outside the printable range, for `\` and for a dot inside a label. */
int r53_name_encode(char *out, size_t outsz, const char *in)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int escaped = 0;
		if (c == '\\') {
			if (p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' && p[3] >= '0' &&
			    p[3] <= '9') {
				int v = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
				if (v > 255)
					return ZW_PROV_EINVAL;
				c = (unsigned char)v;
				p += 3;
			} else if (p[1]) {
				c = (unsigned char)*++p;
			} else {
				return ZW_PROV_EINVAL;
			}
			escaped = 1;
		}
		if (c <= 0x20 || c >= 0x7f || c == '\\' || (escaped && c == '.')) {
			if (o + 5 >= outsz)
				return ZW_PROV_EINVAL;
			snprintf(out + o, 5, "\\%03o", c);
			o += 4;
		} else {
			if (o + 2 >= outsz)
				return ZW_PROV_EINVAL;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return 0;
}

/* ---- types ------------------------------------------------------------------------------ */

static const struct {
	uint16_t num;
	const char *name;
} types[] = {
	{1, "A"},     {2, "NS"},    {5, "CNAME"},  {6, "SOA"},	  {12, "PTR"},	{15, "MX"},
	{16, "TXT"},  {28, "AAAA"}, {33, "SRV"},   {35, "NAPTR"}, {43, "DS"},	{44, "SSHFP"},
	{52, "TLSA"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},	  {257, "CAA"},
};

const char *r53_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].num == type)
			return types[i].name;
	return NULL;
}

uint16_t r53_type_number(const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return types[i].num;
	return 0;
}

/* ---- the ChangeBatch -------------------------------------------------------------------- */

static void add_escaped(struct r53_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': r53_buf_adds(b, "&amp;"); break;
		case '<': r53_buf_adds(b, "&lt;"); break;
		case '>': r53_buf_adds(b, "&gt;"); break;
		default: r53_buf_add(b, s, 1);
		}
	}
}

static const char *const action_names[] = {"CREATE", "DELETE", "UPSERT"};

int r53_batch_xml(struct r53_buf *out, const struct r53_change *c, size_t n)
{
	r53_buf_adds(
		out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS
		"\"><ChangeBatch><Changes>");
	for (size_t i = 0; i < n; i++) {
		const char *type = r53_type_name(c[i].type);
		if (!type)
			return ZW_PROV_EINVAL;
		r53_buf_addf(out, "<Change><Action>%s</Action><ResourceRecordSet><Name>",
			     action_names[c[i].action]);
		add_escaped(out, c[i].name);
		r53_buf_addf(out, "</Name><Type>%s</Type><TTL>%u</TTL><ResourceRecords>", type,
			     (unsigned)c[i].ttl);
		for (size_t j = 0; j < c[i].nvalues; j++) {
			r53_buf_adds(out, "<ResourceRecord><Value>");
			add_escaped(out, c[i].values[j]);
			r53_buf_adds(out, "</Value></ResourceRecord>");
		}
		r53_buf_adds(out, "</ResourceRecords></ResourceRecordSet></Change>");
	}
	r53_buf_adds(out, "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>\n");
	return out->oom ? ZW_PROV_ENOMEM : 0;
}

void r53_change_cost(const struct r53_change *c, size_t *rrs, size_t *chars)
{
	size_t k = c->action == R53_UPSERT ? 2 : 1, len = 0;
	for (size_t j = 0; j < c->nvalues; j++)
		len += strlen(c->values[j]);
	*rrs = k * c->nvalues;
	*chars = k * len;
}

/* ---- reading XML ------------------------------------------------------------------------ */

static xmlDocPtr parse(const char *body, size_t len)
{
	if (!body || len == 0 || len > 64u * 1024 * 1024)
		return NULL;
	return xmlReadMemory(body, (int)len, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int named(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The first element child called name, or NULL. */
static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The text of an element (the first text child), "" when empty; borrowed. */
static const char *text(const xmlNode *n)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			return c->content ? (const char *)c->content : "";
	return "";
}

/* Every control character (a newline in a message) turned into a space. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

static void copy_line(char *out, size_t outsz, const char *s)
{
	snprintf(out, outsz, "%s", s);
	one_line(out);
}

static void strip_prefix(char *out, size_t outsz, const char *id)
{
	const char *slash = strrchr(id, '/');
	snprintf(out, outsz, "%s", slash ? slash + 1 : id);
}

void r53_parse_error(char *code, size_t codesz, char *msg, size_t msgsz, const char *body, size_t len)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	code[0] = msg[0] = '\0';
	if (named(root, "ErrorResponse")) {
		xmlNode *e = child(root, "Error");
		copy_line(code, codesz, text(child(e, "Code")));
		copy_line(msg, msgsz, text(child(e, "Message")));
	} else if (named(root, "InvalidChangeBatch")) {
		size_t o = 0;
		snprintf(code, codesz, "InvalidChangeBatch");
		for (xmlNode *m = child(child(root, "Messages"), "Message"); m; m = m->next) {
			if (!named(m, "Message"))
				continue;
			int k = snprintf(msg + o, msgsz - o, "%s%s", o ? "; " : "", text(m));
			o = k < 0 || (size_t)k >= msgsz - o ? msgsz - 1 : o + (size_t)k;
		}
		if (o == 0)
			snprintf(msg, msgsz, "%s", text(child(root, "Message")));
		one_line(msg);
	}
	xmlFreeDoc(doc);
}

static void zone_of(struct r53_zone *z, const xmlNode *hz)
{
	strip_prefix(z->id, sizeof(z->id), text(child(hz, "Id")));
	if (r53_name_decode(z->name, sizeof(z->name), text(child(hz, "Name"))))
		z->name[0] = '\0';
	z->private_zone = strcmp(text(child(child(hz, "Config"), "PrivateZone")), "true") == 0;
}

int r53_parse_zones(struct r53_zone *out, size_t max, size_t *n, int *truncated, const char *body, size_t len)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	*n = 0;
	*truncated = 0;
	if (!named(root, "ListHostedZonesByNameResponse")) {
		xmlFreeDoc(doc);
		return ZW_PROV_EIO;
	}
	for (xmlNode *hz = child(child(root, "HostedZones"), "HostedZone"); hz && *n < max; hz = hz->next)
		if (named(hz, "HostedZone"))
			zone_of(&out[(*n)++], hz);
	*truncated = strcmp(text(child(root, "IsTruncated")), "true") == 0;
	xmlFreeDoc(doc);
	return 0;
}

int r53_parse_hosted_zone(struct r53_zone *z, char (*ns)[256], size_t max, size_t *n, const char *body,
			  size_t len)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	*n = 0;
	if (!named(root, "GetHostedZoneResponse") || !child(root, "HostedZone")) {
		xmlFreeDoc(doc);
		return ZW_PROV_EIO;
	}
	zone_of(z, child(root, "HostedZone"));
	for (xmlNode *s = child(child(child(root, "DelegationSet"), "NameServers"), "NameServer");
	     s && *n < max; s = s->next)
		if (named(s, "NameServer") && r53_name_decode(ns[*n], 256, text(s)) == 0)
			(*n)++;
	xmlFreeDoc(doc);
	return 0;
}

#define MAX_VALUES 1000

int r53_parse_rrsets(const char *body, size_t len, int (*fn)(void *ctx, const struct r53_set *s), void *ctx,
		     struct r53_next *next, struct zw_prov_error *err)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	const char *values[MAX_VALUES];
	char name[1024];
	int rc = 0;
	memset(next, 0, sizeof(*next));
	if (!named(root, "ListResourceRecordSetsResponse")) {
		xmlFreeDoc(doc);
		snprintf(err->msg, sizeof(err->msg),
			 "listresourcerecordsets: the answer is not a record list");
		return err->code = ZW_PROV_EIO;
	}
	for (xmlNode *s = child(child(root, "ResourceRecordSets"), "ResourceRecordSet"); s && rc == 0;
	     s = s->next) {
		if (!named(s, "ResourceRecordSet"))
			continue;
		struct r53_set set = {0};
		const char *raw = text(child(s, "Name"));
		if (r53_name_decode(name, sizeof(name), raw)) {
			snprintf(err->msg, sizeof(err->msg), "listresourcerecordsets: bad name '%.200s'",
				 raw);
			rc = err->code = ZW_PROV_EIO;
			break;
		}
		set.name = name;
		set.type = r53_type_number(text(child(s, "Type")));
		set.ttl = (uint32_t)strtoul(text(child(s, "TTL")), NULL, 10);
		set.alias = child(s, "AliasTarget") != NULL;
		set.set_identifier = child(s, "SetIdentifier") ? text(child(s, "SetIdentifier")) : NULL;
		for (xmlNode *r = child(child(s, "ResourceRecords"), "ResourceRecord"); r; r = r->next) {
			if (!named(r, "ResourceRecord"))
				continue;
			if (set.nvalues == MAX_VALUES) {
				snprintf(err->msg, sizeof(err->msg),
					 "listresourcerecordsets: over %d values at %.200s", MAX_VALUES,
					 name);
				rc = err->code = ZW_PROV_EIO;
				break;
			}
			values[set.nvalues++] = text(child(r, "Value"));
		}
		set.values = values;
		if (rc == 0 && (rc = fn(ctx, &set)) && !err->msg[0]) {
			snprintf(err->msg, sizeof(err->msg), "cannot take the rrset %.200s", name);
			err->code = rc;
		}
	}
	if (rc == 0 && strcmp(text(child(root, "IsTruncated")), "true") == 0) {
		next->has_next = 1;
		snprintf(next->name, sizeof(next->name), "%s", text(child(root, "NextRecordName")));
		snprintf(next->type, sizeof(next->type), "%s", text(child(root, "NextRecordType")));
		snprintf(next->identifier, sizeof(next->identifier), "%s",
			 text(child(root, "NextRecordIdentifier")));
		if (!next->name[0]) {
			snprintf(err->msg, sizeof(err->msg),
				 "listresourcerecordsets: truncated without NextRecordName");
			rc = err->code = ZW_PROV_EIO;
		}
	}
	xmlFreeDoc(doc);
	return rc;
}

time_t r53_parse_time(const char *s)
{
	struct tm tm = {0};
	char rest[32];
	int y, mo, d, h, mi, sec;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%31s", &y, &mo, &d, &h, &mi, &sec, rest) < 6)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

int r53_parse_sts(struct r53_creds *c, const char *body, size_t len, struct zw_prov_error *err)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *cr = NULL;
	int rc = 0;
	if (named(root, "AssumeRoleWithWebIdentityResponse"))
		cr = child(child(root, "AssumeRoleWithWebIdentityResult"), "Credentials");
	else if (named(root, "AssumeRoleResponse"))
		cr = child(child(root, "AssumeRoleResult"), "Credentials");
	if (!cr) {
		snprintf(err->msg, sizeof(err->msg), "sts: the answer holds no credentials");
		rc = err->code = ZW_PROV_EAUTH;
	} else {
		const char *ak = text(child(cr, "AccessKeyId")), *sk = text(child(cr, "SecretAccessKey"));
		const char *tok = text(child(cr, "SessionToken")), *exp = text(child(cr, "Expiration"));
		if (!*ak || !*sk || strlen(ak) >= sizeof(c->akid) || strlen(sk) >= sizeof(c->secret) ||
		    strlen(tok) >= sizeof(c->token) || r53_parse_time(exp) < 0) {
			snprintf(err->msg, sizeof(err->msg), "sts: malformed credentials");
			rc = err->code = ZW_PROV_EAUTH;
		} else {
			snprintf(c->akid, sizeof(c->akid), "%s", ak);
			snprintf(c->secret, sizeof(c->secret), "%s", sk);
			snprintf(c->token, sizeof(c->token), "%s", tok);
			c->expires = r53_parse_time(exp);
		}
	}
	xmlFreeDoc(doc);
	return rc;
}

int r53_parse_change_info(char *id, size_t idsz, char *status, size_t statussz, const char *body, size_t len)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *info = child(doc ? xmlDocGetRootElement(doc) : NULL, "ChangeInfo");
	int rc = info ? 0 : ZW_PROV_EIO;
	strip_prefix(id, idsz, text(child(info, "Id")));
	snprintf(status, statussz, "%s", text(child(info, "Status")));
	xmlFreeDoc(doc);
	return rc;
}
