/*
 * cfwire.c - the Cloudflare provider's wire formats (see cf.h): TXT content quoting and
 * decoding, the type table, record and batch JSON, the response envelope, pagination.
 *
 * Pure functions: no network, no state. Owns nothing beyond what it returns; every
 * allocation is the host's (cJSON trees are cJSON's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/cloudflare/cf.h"

/* ---- a small growable buffer on the host's allocator ------------------------------------ */

struct sbuf {
	const struct zw_prov_host *h;
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = b->h->realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static char *h_strdup(const struct zw_prov_host *h, const char *s)
{
	size_t n = strlen(s);
	char *p = h->alloc(n + 1);
	if (p)
		memcpy(p, s, n + 1);
	return p;
}

/* ---- TXT -------------------------------------------------------------------------------- */

int cf_txt_quote(char **out, const struct zw_prov_host *h, const char *data, const size_t *lens, size_t n)
{
	struct sbuf b = {h, NULL, 0, 0, 0};
	size_t off = 0;
	*out = NULL;
	if (n == 0)
		sb_add(&b, "\"\"", 2);
	for (size_t i = 0; i < n; i++) {
		size_t len = lens[i], done = 0;
		do {
			size_t part = len - done > CF_MAX_STRING ? CF_MAX_STRING : len - done;
			if (b.len)
				sb_addc(&b, ' ');
			sb_addc(&b, '"');
			for (size_t k = 0; k < part; k++) {
				unsigned char c = (unsigned char)data[off + done + k];
				char esc[8];
				if (c == '"' || c == '\\') {
					esc[0] = '\\';
					esc[1] = (char)c;
					sb_add(&b, esc, 2);
				} else if (c < 0x20 || c > 0x7e) {
					snprintf(esc, sizeof(esc), "\\%03u", c);
					sb_add(&b, esc, 4);
				} else {
					sb_addc(&b, (char)c);
				}
			}
			sb_addc(&b, '"');
			done += part;
		} while (done < len);
		off += len;
	}
	if (b.oom) {
		h->free(b.p);
		return ZW_PROV_ENOMEM;
	}
	*out = b.p;
	return 0;
}

/* Append one decoded string, split into pieces of at most 255 bytes. */
static int txt_push(struct cf_txt *t, const struct zw_prov_host *h, const char *s, size_t len)
{
	size_t pieces = len ? (len + CF_MAX_STRING - 1) / CF_MAX_STRING : 1;
	char *data = h->realloc(t->data, t->len + len + 1);
	if (!data)
		return ZW_PROV_ENOMEM;
	t->data = data;
	size_t *lens = h->realloc(t->lens, (t->n + pieces) * sizeof(*lens));
	if (!lens)
		return ZW_PROV_ENOMEM;
	t->lens = lens;
	memcpy(t->data + t->len, s, len);
	t->len += len;
	t->data[t->len] = '\0';
	for (size_t i = 0; i < pieces; i++) {
		size_t rest = len - i * CF_MAX_STRING;
		t->lens[t->n++] = rest > CF_MAX_STRING ? CF_MAX_STRING : rest;
	}
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Zone-file character-strings: "quoted" or bare words, \X and \DDD escapes. 1 when the
 * content does not parse (the caller then takes it literally). */
static int parse_strings(struct cf_txt *t, const struct zw_prov_host *h, const char *s, char *scratch)
{
	const char *p = s;
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return 0;
		int quoted = *p == '"';
		size_t n = 0;
		if (quoted)
			p++;
		for (;;) {
			if (!*p) {
				if (quoted)
					return 1; /* unterminated */
				break;
			}
			if (quoted ? *p == '"' : is_space(*p) || *p == '"')
				break;
			if (*p == '\\') {
				p++;
				if (p[0] >= '0' && p[0] <= '9') {
					if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
						return 1;
					int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
					if (v > 255)
						return 1;
					scratch[n++] = (char)v;
					p += 3;
					continue;
				}
				if (!*p)
					return 1;
			}
			scratch[n++] = *p++;
		}
		if (quoted)
			p++; /* the closing quote */
		int rc = txt_push(t, h, scratch, n);
		if (rc)
			return rc;
	}
}

void cf_txt_free(const struct zw_prov_host *h, struct cf_txt *t)
{
	if (!t)
		return;
	h->free(t->data);
	h->free(t->lens);
	memset(t, 0, sizeof(*t));
}

int cf_txt_unquote(struct cf_txt *out, const struct zw_prov_host *h, const char *content)
{
	size_t len = strlen(content);
	const char *p = content;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (len > CF_MAX_CONTENT)
		return ZW_PROV_EIO;
	while (is_space(*p))
		p++;
	if (*p == '"') {
		char *scratch = h->alloc(len + 1);
		if (!scratch)
			return ZW_PROV_ENOMEM;
		rc = parse_strings(out, h, p, scratch);
		h->free(scratch);
		if (rc == 0 && out->n == 0)
			rc = txt_push(out, h, "", 0);
		if (rc == 0)
			return 0;
		cf_txt_free(h, out);
		if (rc < 0)
			return rc;
	}
	/* legacy: unquoted content, served as Cloudflare splits it */
	rc = txt_push(out, h, content, len);
	if (rc)
		cf_txt_free(h, out);
	return rc;
}

/* ---- types ------------------------------------------------------------------------------ */

static const struct {
	uint16_t code;
	const char *name;
	int writable;
} types[] = {
	{1, "A", 1},	   {2, "NS", 1},	  {5, "CNAME", 1},  {12, "PTR", 1},    {15, "MX", 1},
	{16, "TXT", 1},	   {28, "AAAA", 1},	  {29, "LOC", 0},   {33, "SRV", 0},    {35, "NAPTR", 0},
	{37, "CERT", 0},   {43, "DS", 0},	  {44, "SSHFP", 0}, {48, "DNSKEY", 0}, {52, "TLSA", 0},
	{53, "SMIMEA", 0}, {61, "OPENPGPKEY", 0}, {64, "SVCB", 0},  {65, "HTTPS", 0},  {256, "URI", 0},
	{257, "CAA", 0},
};

const char *cf_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].code == type)
			return types[i].name;
	return NULL;
}

uint16_t cf_type_code(const char *name)
{
	for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(types[i].name, name) == 0)
			return types[i].code;
	return 0;
}

int cf_type_writable(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].code == type)
			return types[i].writable;
	return 0;
}

static int is_name_type(uint16_t type)
{
	return type == 2 || type == 5 || type == 12 || type == 15;
}

/* ---- records ---------------------------------------------------------------------------- */

/* "Name" -> "name." (lower case, one trailing dot). */
static char *absolute(const struct zw_prov_host *h, const char *prefix, const char *name)
{
	size_t pl = strlen(prefix), n = strlen(name);
	while (n && name[n - 1] == '.')
		n--;
	char *p = h->alloc(pl + n + 2);
	if (!p)
		return NULL;
	memcpy(p, prefix, pl);
	for (size_t i = 0; i < n; i++)
		p[pl + i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	p[pl + n] = '.';
	p[pl + n + 1] = '\0';
	return p;
}

void cf_rec_free(const struct zw_prov_host *h, struct cf_rec *r)
{
	if (!r)
		return;
	h->free(r->id);
	h->free(r->name);
	h->free(r->text);
	cf_txt_free(h, &r->txt);
	memset(r, 0, sizeof(*r));
}

int cf_rec_parse(struct cf_rec *out, const struct zw_prov_host *h, const cJSON *rec)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "id"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "name"));
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "type"));
	const char *content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "content"));
	const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(rec, "ttl");
	const cJSON *prio = cJSON_GetObjectItemCaseSensitive(rec, "priority");
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!id || !name || !type || !content || !*name)
		return ZW_PROV_EIO;
	if (!(out->type = cf_type_code(type)))
		return ZW_PROV_EUNSUPPORTED;
	double t = cJSON_IsNumber(ttl) ? ttl->valuedouble : 1;
	out->ttl = t <= 1 ? 300 : t > 2147483647.0 ? 2147483647u : (uint32_t)t;
	if (!(out->id = h_strdup(h, id)) || !(out->name = absolute(h, "", name))) {
		rc = ZW_PROV_ENOMEM;
		goto bad;
	}
	if (out->type == 16) {
		if ((rc = cf_txt_unquote(&out->txt, h, content)))
			goto bad;
	} else if (out->type == 15) {
		char prefix[16];
		snprintf(prefix, sizeof(prefix), "%d ", cJSON_IsNumber(prio) ? prio->valueint : 0);
		if (!(out->text = absolute(h, prefix, content)))
			rc = ZW_PROV_ENOMEM;
	} else if (is_name_type(out->type)) {
		if (!(out->text = absolute(h, "", content)))
			rc = ZW_PROV_ENOMEM;
	} else if (!(out->text = h_strdup(h, content))) {
		rc = ZW_PROV_ENOMEM;
	}
	if (rc == 0)
		return 0;
bad:
	cf_rec_free(h, out);
	return rc;
}

int cf_rec_equal(const struct cf_rec *r, uint16_t type, const struct zw_prov_rdata *rd)
{
	if (r->type != type)
		return 0;
	if (type == 16) {
		if (r->txt.n != rd->n || r->txt.len != rd->len)
			return 0;
		for (size_t i = 0; i < rd->n; i++)
			if (r->txt.lens[i] != rd->lens[i])
				return 0;
		return rd->len == 0 || memcmp(r->txt.data, rd->data, rd->len) == 0;
	}
	return r->text && rd->text && strcasecmp(r->text, rd->text) == 0;
}

/* A name without its trailing dot into out. */
static void relative_dotless(char *out, size_t outsz, const char *name)
{
	size_t n = strlen(name);
	while (n && name[n - 1] == '.')
		n--;
	snprintf(out, outsz, "%.*s", (int)n, name);
}

cJSON *cf_record_json(const struct zw_prov_host *h, const char *id, const char *name, uint16_t type,
		      uint32_t ttl, const struct zw_prov_rdata *rd, int claim, const char **why)
{
	char host[512], rname[512];
	char *content = NULL;
	const char *tname = cf_type_name(type);
	long prio = -1;
	*why = NULL;
	if (!tname || !cf_type_writable(type)) {
		*why = "this type is not written by the cloudflare provider";
		return NULL;
	}
	relative_dotless(rname, sizeof(rname), name);
	if (type == 16) {
		if (cf_txt_quote(&content, h, rd->data, rd->lens, rd->n))
			return NULL;
	} else {
		const char *t = rd->text ? rd->text : "";
		if (type == 15) {
			char *end;
			prio = strtol(t, &end, 10);
			if (end == t || prio < 0 || prio > 65535 || !is_space(*end)) {
				*why = "an mx record needs 'priority host'";
				return NULL;
			}
			t = end;
			while (is_space(*t))
				t++;
		}
		relative_dotless(host, sizeof(host), t);
		if (!(content = h_strdup(h, is_name_type(type) ? host : t)))
			return NULL;
	}
	uint32_t cttl = ttl == 0 ? 1 : ttl < 30 ? 30 : ttl > 86400 ? 86400 : ttl;
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;
	if (ok && id)
		ok = cJSON_AddStringToObject(o, "id", id) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "type", tname) && cJSON_AddStringToObject(o, "name", rname) &&
	     cJSON_AddStringToObject(o, "content", content) && cJSON_AddNumberToObject(o, "ttl", cttl);
	if (ok && prio >= 0)
		ok = cJSON_AddNumberToObject(o, "priority", (double)prio) != NULL;
	if (ok && (type == 1 || type == 28 || type == 5))
		ok = cJSON_AddFalseToObject(o, "proxied") != NULL;
	if (ok && claim)
		ok = cJSON_AddStringToObject(o, "comment", CF_COMMENT) != NULL;
	h->free(content);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- the envelope ----------------------------------------------------------------------- */

size_t cf_errors_text(char *msg, size_t msgsz, const cJSON *root)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors"), *e;
	size_t n = 0, used = 0;
	if (msgsz)
		msg[0] = '\0';
	cJSON_ArrayForEach(e, errs)
	{
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
		char one[256];
		snprintf(one, sizeof(one), "%s%d %s", n ? "; " : "",
			 cJSON_IsNumber(code) ? code->valueint : 0, m ? m : "");
		for (char *c = one; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		if (used < msgsz) {
			snprintf(msg + used, msgsz - used, "%s", one);
			used += strlen(msg + used);
		}
		n++;
	}
	return n;
}

static int has_rate_code(const cJSON *root)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors"), *e;
	cJSON_ArrayForEach(e, errs)
	{
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		if (cJSON_IsNumber(code) && (code->valueint == 971 || code->valueint == 10429))
			return 1;
	}
	return 0;
}

int cf_envelope_code(long status, const cJSON *root, int (*status_error)(long))
{
	if (status == 429 || has_rate_code(root))
		return ZW_PROV_ERATE;
	if (status < 200 || status > 299)
		return status_error(status);
	if (!cJSON_IsObject(root))
		return ZW_PROV_EIO;
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "success");
	if (!cJSON_IsBool(ok))
		return ZW_PROV_EIO;
	return cJSON_IsTrue(ok) ? 0 : ZW_PROV_EINVAL;
}

int cf_next_page(const cJSON *root, long page, size_t nresults)
{
	const cJSON *ri = cJSON_GetObjectItemCaseSensitive(root, "result_info");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(ri, "page");
	const cJSON *tp = cJSON_GetObjectItemCaseSensitive(ri, "total_pages");
	if (!cJSON_IsNumber(p) || !cJSON_IsNumber(tp))
		return ZW_PROV_EIO;
	if ((long)p->valuedouble != page || tp->valuedouble < 0 || tp->valuedouble > 1e7)
		return ZW_PROV_EIO;
	long total = (long)tp->valuedouble;
	if (page < total && nresults == 0)
		return ZW_PROV_EIO; /* an empty page before the end would never advance */
	return page < total ? 1 : 0;
}

/* ---- batches ---------------------------------------------------------------------------- */

int cf_batch_json(char **out, const struct cf_op *ops, size_t n)
{
	static const char *const keys[] = {"deletes", "patches", "posts"};
	cJSON *root = cJSON_CreateObject(), *arr[3] = {NULL, NULL, NULL};
	int ok = root != NULL;
	*out = NULL;
	for (size_t i = 0; ok && i < n; i++) {
		const struct cf_op *op = &ops[i];
		cJSON *item;
		if (!arr[op->kind] && !(arr[op->kind] = cJSON_AddArrayToObject(root, keys[op->kind]))) {
			ok = 0;
			break;
		}
		if (op->kind == CF_DELETE) {
			item = cJSON_CreateObject();
			ok = item && cJSON_AddStringToObject(item, "id", op->id);
		} else {
			item = cJSON_Duplicate(op->body, 1);
			ok = item != NULL;
			if (ok && op->kind == CF_PATCH) {
				cJSON *idv = cJSON_CreateString(op->id);
				ok = idv && cJSON_AddItemToObject(item, "id", idv);
				if (!ok)
					cJSON_Delete(idv);
			}
		}
		if (!ok || !cJSON_AddItemToArray(arr[op->kind], item)) {
			cJSON_Delete(item);
			ok = 0;
		}
	}
	if (ok)
		ok = (*out = cJSON_PrintUnformatted(root)) != NULL;
	cJSON_Delete(root);
	return ok ? 0 : ZW_PROV_ENOMEM;
}
