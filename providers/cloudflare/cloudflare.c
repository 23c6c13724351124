/*
 * cloudflare.c - the Cloudflare provider: API v4 over the HTTP the core lends
 * (host->http), JSON with cJSON.
 *
 * find_zone: GET /zones?name= for the domain, then its parents; the zone must be
 * `active` (a `pending` zone is DL-10 with the name servers to set). nameservers: the
 * zone's name_servers (kept from find_zone, else GET /zones/{id}). list: GET
 * /zones/{id}/dns_records page by page while result_info says more; the records and
 * their ids are kept for apply. apply: rrset changes become record operations (deletes,
 * patches with the full record, posts; a type never changes in place), sent through
 * POST /dns_records/batch, at most batchSize operations a call; a batch that fails falls
 * back to one call per record, and a failure whose outcome is unknown (no answer, a 5xx)
 * is settled by listing the zone again, so each change lands exactly once.
 *
 * Errors: success:false is an error even on HTTP 200; a 429 (whatever the body's code)
 * is ZW_PROV_ERATE, retried by the core inside the account's budget (1200 requests per
 * 300 s) and, when retries run out, reported as a retryable result: never fatal.
 *
 * The token comes from apiTokenFile, else $CLOUDFLARE_API_TOKEN; it is registered as a
 * secret with the core and never logged. $CLOUDFLARE_API_BASE_URL overrides the base.
 * Owns: its state (settings, the token header, the last zone's name servers and records),
 * freed in cloudflare_close.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/cloudflare/cf.h"

#define DEFAULT_BASE "https://api.cloudflare.com/client/v4"
#define TOKEN_ENV    "CLOUDFLARE_API_TOKEN"
#define BASE_ENV     "CLOUDFLARE_API_BASE_URL"
#define MAX_TOKEN    1024
#define MAX_NS	     16
#define MAX_PAGES    100000

struct cf {
	const struct zw_prov_host *host;
	char base[512];
	char *auth;	   /* "Authorization: Bearer <token>" */
	char account[160]; /* the rate budget's key */
	long per_page, batch;
	/* the last zone found: its name servers */
	char ns_zone[64];
	char *ns[MAX_NS];
	size_t nns;
	/* the records of the last zone listed, with their ids */
	char rec_zone[64];
	struct cf_rec *recs;
	size_t nrecs, caprecs;
	int recs_valid;
};

static const struct zw_prov_option cf_options[] = {
	{"apiTokenFile", ZW_POPT_PATH, NULL, 0, 0, 0},
	/* set only by the controller from the Secret apiTokenSecretRef names; the manifest
	 * schema has no such key, so a token is never written inline */
	{"apiToken", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"apiTokenSecretRef.name", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"apiTokenSecretRef.key", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"accountId", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"perPage", ZW_POPT_INT, "5000", 5, 5000000, 0},
	{"batchSize", ZW_POPT_INT, "200", 1, 3500, 0},
	{NULL, ZW_POPT_STRING, NULL, 0, 0, 0},
};

/* ---- open / close ------------------------------------------------------------------------ */

static int read_token(char *out, size_t outsz, const struct zw_prov_settings *s, struct zw_prov_error *err)
{
	const char *path = s->get(s, "apiTokenFile"), *env = getenv(TOKEN_ENV),
		   *given = s->get(s, "apiToken");
	size_t n = 0;
	if (given) {
		n = strlen(given) < outsz - 1 ? strlen(given) : outsz - 1;
		memcpy(out, given, n);
	} else if (path) {
		FILE *f = fopen(path, "r");
		if (!f)
			return zw_prov_fail(err, ZW_PROV_EAUTH, "apiTokenFile %s: %s", path, strerror(errno));
		n = fread(out, 1, outsz - 1, f);
		fclose(f);
	} else if (env && *env) {
		n = strlen(env) < outsz - 1 ? strlen(env) : outsz - 1;
		memcpy(out, env, n);
	} else if (s->get(s, "apiTokenSecretRef.name")) {
		return zw_prov_fail(
			err, ZW_PROV_EAUTH,
			"apiTokenSecretRef names a kubernetes secret, readable only in a cluster: "
			"give apiTokenFile or set %s",
			TOKEN_ENV);
	} else {
		return zw_prov_fail(err, ZW_PROV_EAUTH, "no api token: give apiTokenFile or set %s",
				    TOKEN_ENV);
	}
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (n < 4)
		return zw_prov_fail(err, ZW_PROV_EAUTH, "the api token is empty or too short");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f)
			return zw_prov_fail(err, ZW_PROV_EAUTH,
					    "the api token holds a character a header cannot carry");
	return 0;
}

/* FNV-1a of the token: the budget key when no accountId is given (never the token). */
static unsigned long long fnv(const char *s)
{
	unsigned long long h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void cf_close(void *state)
{
	struct cf *c = state;
	if (!c)
		return;
	const struct zw_prov_host *h = c->host;
	for (size_t i = 0; i < c->nns; i++)
		h->free(c->ns[i]);
	for (size_t i = 0; i < c->nrecs; i++)
		cf_rec_free(h, &c->recs[i]);
	h->free(c->recs);
	if (c->auth) {
		memset(c->auth, 0, strlen(c->auth));
		h->free(c->auth);
	}
	h->free(c);
}

static int cf_open(void **state, const struct zw_prov_host *host, const struct zw_prov_settings *s,
		   struct zw_prov_error *err)
{
	char token[MAX_TOKEN];
	const char *base = getenv(BASE_ENV), *acct = s->get(s, "accountId");
	int rc;
	*state = NULL;
	if (!host->http)
		return zw_prov_fail(err, ZW_PROV_EUNSUPPORTED, "the core lends no http client");
	if ((rc = read_token(token, sizeof(token), s, err)))
		return rc;
	struct cf *c = host->alloc(sizeof(*c));
	if (!c) {
		memset(token, 0, sizeof(token));
		return zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
	}
	memset(c, 0, sizeof(*c));
	c->host = host;
	snprintf(c->base, sizeof(c->base), "%s", base && *base ? base : DEFAULT_BASE);
	for (size_t n = strlen(c->base); n && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
	c->per_page = strtol(s->get(s, "perPage") ? s->get(s, "perPage") : "5000", NULL, 10);
	c->batch = strtol(s->get(s, "batchSize") ? s->get(s, "batchSize") : "200", NULL, 10);
	if (c->per_page < 5)
		c->per_page = 5;
	if (c->batch < 1)
		c->batch = 1;
	if (acct && *acct)
		snprintf(c->account, sizeof(c->account), "cloudflare:%s", acct);
	else
		snprintf(c->account, sizeof(c->account), "cloudflare:token-%016llx", fnv(token));
	size_t alen = strlen(token) + 32;
	if (!(c->auth = host->alloc(alen))) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto bad;
	}
	snprintf(c->auth, alen, "Authorization: Bearer %s", token);
	if ((rc = host->http->secret(host->http->ctx, token, err)) ||
	    (rc = host->http->budget(host->http->ctx, c->account, 1200, 300000, 100, err)))
		goto bad;
	memset(token, 0, sizeof(token));
	*state = c;
	return 0;
bad:
	memset(token, 0, sizeof(token));
	cf_close(c);
	return rc;
}

/* ---- one API call ------------------------------------------------------------------------ */

struct call {
	struct cf *c;
	cJSON *root; /* the last response's body, parsed by the classifier */
};

static int classify(void *ctx, const struct zw_prov_http_resp *r, uint64_t *retry_after_ms)
{
	struct call *k = ctx;
	(void)retry_after_ms;
	cJSON_Delete(k->root);
	k->root = r->body_len ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
	return cf_envelope_code(r->status, k->root, k->c->host->http->status_error);
}

/* Percent-encode a query value (RFC 3986 unreserved kept). */
static void qenc(char *out, size_t outsz, const char *s)
{
	size_t o = 0;
	for (; *s && o + 4 < outsz; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("-._~", ch))
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, outsz - o, "%%%02X", ch);
	}
	out[o] = '\0';
}

/* A zone or record id goes into a path: only [A-Za-z0-9_-]. */
static int id_ok(const char *id)
{
	if (!id || !*id || strlen(id) > 64)
		return 0;
	for (; *id; id++)
		if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
		      (*id >= '0' && *id <= '9') || *id == '-' || *id == '_'))
			return 0;
	return 1;
}

/*
 * method path [body] -> *root (the parsed envelope, the caller's to cJSON_Delete) on
 * success. `perm` names the token permission the call needs, for a 403's message.
 * *ambiguous (if not NULL) is set when the outcome is unknown: no answer, or a 5xx.
 */
static int api(struct cf *c, const char *method, const char *path, const char *body, int replay_safe,
	       const char *perm, cJSON **root, int *ambiguous, struct zw_prov_error *err)
{
	const struct zw_prov_http *http = c->host->http;
	char url[1024], why[400];
	const char *headers[3] = {c->auth, "Content-Type: application/json", "Accept: application/json"};
	struct call k = {c, NULL};
	struct zw_prov_http_resp resp;
	struct zw_prov_error e = {0};
	*root = NULL;
	if (ambiguous)
		*ambiguous = 0;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	struct zw_prov_http_req req = {
		.method = method,
		.url = url,
		.headers = headers,
		.nheaders = 3,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.account = c->account,
		.replay_safe = replay_safe,
		.classify = classify,
		.classify_ctx = &k,
	};
	int rc = http->request(http->ctx, &req, &resp, &e);
	long status = resp.status;
	http->release(http->ctx, &resp);
	if (rc == 0) {
		*root = k.root;
		return 0;
	}
	cf_errors_text(why, sizeof(why), k.root);
	cJSON_Delete(k.root);
	/* no answer (whatever the transport said) or a 5xx but 503: it may have been done */
	if (ambiguous)
		*ambiguous = rc != ZW_PROV_ENOMEM && (status == 0 || (status >= 500 && status != 503));
	if (status == 403 || status == 401)
		return zw_prov_fail(
			err, ZW_PROV_EAUTH,
			"cloudflare refused %s %s (http %ld): the api token lacks the '%s' permission%s%s",
			method, path, status, perm, why[0] ? ": " : "", why);
	if (rc == ZW_PROV_ERATE)
		return zw_prov_fail(err, rc, "cloudflare rate limit (http %ld%s%s): retry later", status,
				    why[0] ? ": " : "", why);
	if (why[0])
		return zw_prov_fail(err, rc, "cloudflare %s %s: http %ld: %s", method, path, status, why);
	return zw_prov_fail(err, rc, "%s", e.msg[0] ? e.msg : "cloudflare request failed");
}

/* ---- zones ------------------------------------------------------------------------------- */

static int keep_ns(struct cf *c, const char *zone_id, const cJSON *zone)
{
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(zone, "name_servers"), *e;
	for (size_t i = 0; i < c->nns; i++)
		c->host->free(c->ns[i]);
	c->nns = 0;
	snprintf(c->ns_zone, sizeof(c->ns_zone), "%s", zone_id);
	cJSON_ArrayForEach(e, ns)
	{
		const char *v = cJSON_GetStringValue(e);
		if (!v || c->nns == MAX_NS)
			continue;
		size_t n = strlen(v);
		char *p = c->host->alloc(n + 2);
		if (!p) {
			c->ns_zone[0] = '\0'; /* incomplete: ask again */
			return ZW_PROV_ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			p[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
		p[n] = '.';
		p[n + 1] = '\0';
		if (n && v[n - 1] == '.')
			p[n] = '\0';
		c->ns[c->nns++] = p;
	}
	return 0;
}

static void ns_text(char *out, size_t outsz, const cJSON *zone)
{
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(zone, "name_servers"), *e;
	size_t used = 0;
	out[0] = '\0';
	cJSON_ArrayForEach(e, ns)
	{
		const char *v = cJSON_GetStringValue(e);
		if (v && used < outsz) {
			snprintf(out + used, outsz - used, "%s%s", used ? " " : "", v);
			used += strlen(out + used);
		}
	}
}

/* The zone named exactly `name` (no trailing dot): 1 found (emitted), 0 none, <0 error. */
static int zone_lookup(struct cf *c, const char *name, int (*emit)(void *, const char *, const char *),
		       void *ctx, struct zw_prov_error *err)
{
	char path[600], q[520], apex[520], nstext[400];
	cJSON *root;
	qenc(q, sizeof(q), name);
	snprintf(path, sizeof(path), "/zones?name=%s", q);
	int rc = api(c, "GET", path, NULL, 0, "Zone Read", &root, NULL, err);
	if (rc)
		return rc;
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result"), *z, *found = NULL;
	cJSON_ArrayForEach(z, res)
	{
		const char *zn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(z, "name"));
		if (zn && strcasecmp(zn, name) == 0)
			found = z;
	}
	if (!found) {
		cJSON_Delete(root);
		return 0;
	}
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(found, "id"));
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(found, "status"));
	ns_text(nstext, sizeof(nstext), found);
	if (!id_ok(id)) {
		rc = zw_prov_fail(err, ZW_PROV_EIO, "cloudflare returned zone %s without a usable id", name);
	} else if (!status || strcmp(status, "active") != 0) {
		rc = zw_prov_fail(
			err, ZW_PROV_EINVAL,
			"DL-10 zone %s is %s at cloudflare, not active: set its name servers at the "
			"registrar to {%s}",
			name, status ? status : "of unknown status", nstext);
	} else if (keep_ns(c, id, found)) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
	} else {
		snprintf(apex, sizeof(apex), "%s.", name);
		rc = emit(ctx, apex, id);
		if (rc == 0)
			rc = 1;
	}
	cJSON_Delete(root);
	return rc;
}

static int cf_find_zone(void *state, const char *domain, int (*emit)(void *, const char *, const char *),
			void *ctx, struct zw_prov_error *err)
{
	struct cf *c = state;
	char name[512];
	snprintf(name, sizeof(name), "%s", domain);
	for (size_t n = strlen(name); n && name[n - 1] == '.'; n--)
		name[n - 1] = '\0';
	/* the domain, then each parent that still has two labels */
	for (const char *p = name; p && strchr(p, '.');) {
		int rc = zone_lookup(c, p, emit, ctx, err);
		if (rc)
			return rc < 0 ? rc : 0;
		p = strchr(p, '.') + 1;
	}
	return zw_prov_fail(err, ZW_PROV_ENOTFOUND, "cloudflare has no zone for %s that this token can read",
			    name);
}

static int cf_nameservers(void *state, const char *zone_id, int (*emit)(void *, const char *), void *ctx,
			  struct zw_prov_error *err)
{
	struct cf *c = state;
	int rc = 0;
	if (!id_ok(zone_id))
		return zw_prov_fail(err, ZW_PROV_EINVAL, "invalid cloudflare zone id");
	if (strcmp(c->ns_zone, zone_id) != 0) {
		char path[128];
		cJSON *root;
		snprintf(path, sizeof(path), "/zones/%s", zone_id);
		if ((rc = api(c, "GET", path, NULL, 0, "Zone Read", &root, NULL, err)))
			return rc;
		rc = keep_ns(c, zone_id, cJSON_GetObjectItemCaseSensitive(root, "result"));
		cJSON_Delete(root);
		if (rc)
			return zw_prov_fail(err, rc, "out of memory");
	}
	if (c->nns == 0)
		return zw_prov_fail(err, ZW_PROV_ENOTFOUND, "cloudflare gives no name servers for zone %s",
				    zone_id);
	for (size_t i = 0; i < c->nns && rc == 0; i++)
		rc = emit(ctx, c->ns[i]);
	return rc;
}

/* ---- records ----------------------------------------------------------------------------- */

static void recs_clear(struct cf *c)
{
	for (size_t i = 0; i < c->nrecs; i++)
		cf_rec_free(c->host, &c->recs[i]);
	c->nrecs = 0;
	c->recs_valid = 0;
	c->rec_zone[0] = '\0';
}

static int recs_push(struct cf *c, struct cf_rec *r)
{
	if (c->nrecs == c->caprecs) {
		size_t cap = c->caprecs ? c->caprecs * 2 : 256;
		struct cf_rec *v = c->host->realloc(c->recs, cap * sizeof(*v));
		if (!v)
			return ZW_PROV_ENOMEM;
		c->recs = v;
		c->caprecs = cap;
	}
	c->recs[c->nrecs++] = *r;
	return 0;
}

/* List the zone page by page into c->recs; emit each record when emit is not NULL. */
static int fetch(struct cf *c, const char *zone_id, int (*emit)(void *, const struct zw_prov_rrset *),
		 void *ctx, struct zw_prov_error *err)
{
	int rc = 0, more = 1;
	recs_clear(c);
	for (long page = 1; more && rc == 0; page++) {
		char path[256];
		cJSON *root;
		if (page > MAX_PAGES)
			return zw_prov_fail(err, ZW_PROV_EIO, "cloudflare listing of zone %s never ends",
					    zone_id);
		snprintf(path, sizeof(path), "/zones/%s/dns_records?page=%ld&per_page=%ld", zone_id, page,
			 c->per_page);
		if ((rc = api(c, "GET", path, NULL, 0, "DNS Read", &root, NULL, err)))
			break;
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result"), *e;
		size_t n = 0;
		if (!cJSON_IsArray(res))
			rc = zw_prov_fail(err, ZW_PROV_EIO, "cloudflare listing of zone %s: no result array",
					  zone_id);
		cJSON_ArrayForEach(e, res)
		{
			struct cf_rec r;
			n++;
			if (rc)
				break;
			int prc = cf_rec_parse(&r, c->host, e);
			if (prc == ZW_PROV_EUNSUPPORTED)
				continue;
			if (prc) {
				rc = zw_prov_fail(err, prc,
						  prc == ZW_PROV_ENOMEM
							  ? "out of memory"
							  : "cloudflare listing of zone %s: a record "
							    "without id, name, type or content",
						  zone_id);
				break;
			}
			if ((rc = recs_push(c, &r))) {
				cf_rec_free(c->host, &r);
				zw_prov_fail(err, rc, "out of memory");
				break;
			}
			if (emit) {
				struct zw_prov_rdata rd = {r.txt.data, r.txt.len, r.txt.lens, r.txt.n,
							   r.text};
				struct zw_prov_rrset set = {r.name, r.type, r.ttl, &rd, 1};
				if ((rc = emit(ctx, &set)))
					zw_prov_fail(err, rc, "cannot keep the records of zone %s", zone_id);
			}
		}
		if (rc == 0) {
			more = cf_next_page(root, page, n);
			if (more < 0)
				rc = zw_prov_fail(
					err, ZW_PROV_EIO,
					"cloudflare listing of zone %s: bad result_info on page %ld", zone_id,
					page);
		}
		cJSON_Delete(root);
	}
	if (rc) {
		recs_clear(c);
		return rc;
	}
	snprintf(c->rec_zone, sizeof(c->rec_zone), "%s", zone_id);
	c->recs_valid = 1;
	return 0;
}

static int cf_list(void *state, const char *zone_id, int (*emit)(void *, const struct zw_prov_rrset *),
		   void *ctx, struct zw_prov_error *err)
{
	struct cf *c = state;
	if (!id_ok(zone_id))
		return zw_prov_fail(err, ZW_PROV_EINVAL, "invalid cloudflare zone id");
	return fetch(c, zone_id, emit, ctx, err);
}

/* ---- apply ------------------------------------------------------------------------------- */

struct plan_ops {
	struct cf_op *v;
	size_t n, cap;
};

static void ops_free(const struct zw_prov_host *h, struct plan_ops *o)
{
	for (size_t i = 0; i < o->n; i++) {
		h->free(o->v[i].id);
		h->free(o->v[i].name);
		cJSON_Delete(o->v[i].body);
	}
	h->free(o->v);
	memset(o, 0, sizeof(*o));
}

static int ops_add(struct cf *c, struct plan_ops *o, enum cf_op_kind kind, size_t change,
		   const struct cf_rec *rec, const struct zw_prov_rrset *set, const struct zw_prov_rdata *rd,
		   int claim, const char **why)
{
	const struct zw_prov_host *h = c->host;
	struct cf_op op = {kind, change, NULL, NULL, NULL, 0, 0, rd, 0};
	*why = NULL;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct cf_op *v = h->realloc(o->v, cap * sizeof(*v));
		if (!v)
			return ZW_PROV_ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	const char *name = set ? set->name : rec ? rec->name : NULL;
	if (!name)
		return ZW_PROV_EINVAL;
	size_t nl = strlen(name);
	if (!(op.name = h->alloc(nl + 1)))
		return ZW_PROV_ENOMEM;
	memcpy(op.name, name, nl + 1);
	op.type = set ? set->type : rec ? rec->type : 0;
	op.ttl = set ? set->ttl : rec ? rec->ttl : 0;
	if (rec) {
		size_t il = strlen(rec->id);
		if (!(op.id = h->alloc(il + 1))) {
			h->free(op.name);
			return ZW_PROV_ENOMEM;
		}
		memcpy(op.id, rec->id, il + 1);
	}
	if (kind != CF_DELETE &&
	    !(op.body = cf_record_json(h, NULL, name, op.type, op.ttl, rd, claim, why))) {
		h->free(op.name);
		h->free(op.id);
		return *why ? ZW_PROV_EINVAL : ZW_PROV_ENOMEM;
	}
	o->v[o->n++] = op;
	return 0;
}

static void result(struct zw_prov_change *ch, enum zw_prov_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(struct zw_prov_change *ch, enum zw_prov_result r, const char *fmt, ...)
{
	va_list ap;
	/* a failure is never overwritten by a later success of another op of the change */
	if (ch->result == ZW_PROV_PERMANENT || ch->result == ZW_PROV_RETRYABLE)
		return;
	ch->result = r;
	va_start(ap, fmt);
	vsnprintf(ch->message, sizeof(ch->message), fmt, ap);
	va_end(ap);
}

/* The cached record holding (name, type, rd) and not yet claimed, or NULL. */
static struct cf_rec *find_rec(struct cf *c, const char *name, uint16_t type, const struct zw_prov_rdata *rd,
			       const unsigned char *claimed, size_t *idx)
{
	for (size_t i = 0; i < c->nrecs; i++)
		if (!claimed[i] && strcasecmp(c->recs[i].name, name) == 0 &&
		    cf_rec_equal(&c->recs[i], type, rd)) {
			*idx = i;
			return &c->recs[i];
		}
	return NULL;
}

/* One change into ops: the records the plan saw must all be there (else the zone changed
 * since the plan: retryable, re-plan); records kept keep their id (patched when only the
 * ttl differs), replaced ones are patched in place, the rest deleted or posted. */
static int plan_change(struct cf *c, struct plan_ops *o, size_t ci, struct zw_prov_change *ch,
		       unsigned char *claimed, struct zw_prov_error *err)
{
	const struct zw_prov_rrset *b = ch->op == ZW_PROV_CREATE ? NULL : ch->before;
	const struct zw_prov_rrset *a = ch->op == ZW_PROV_DELETE ? NULL : ch->after;
	size_t nb = b ? b->nrd : 0, na = a ? a->nrd : 0;
	size_t bi[256];
	unsigned char kept_a[256] = {0}, kept_b[256] = {0};
	const char *why = NULL;
	int rc = 0;
	if (nb > 256 || na > 256) {
		result(ch, ZW_PROV_PERMANENT, "more than 256 records in one rrset");
		return 0;
	}
	if ((ch->op != ZW_PROV_CREATE && !b) || (ch->op != ZW_PROV_DELETE && !a)) {
		result(ch, ZW_PROV_PERMANENT, "a change without the rrset it needs");
		return 0;
	}
	for (size_t i = 0; i < nb; i++) {
		if (!find_rec(c, b->name, b->type, &b->rd[i], claimed, &bi[i])) {
			for (size_t k = 0; k < i; k++)
				claimed[bi[k]] = 0;
			result(ch, ZW_PROV_RETRYABLE,
			       "the zone changed since the plan (a record of %s is no longer at cloudflare): "
			       "re-plan",
			       b->name);
			return 0;
		}
		claimed[bi[i]] = 1;
	}
	/* records present before and after stay (a ttl-only patch leaves their comment alone:
	 * the record may be someone else's, like a verification token beside our SPF) */
	for (size_t j = 0; j < na; j++)
		for (size_t i = 0; i < nb; i++)
			if (!kept_b[i] && cf_rec_equal(&c->recs[bi[i]], a->type, &a->rd[j])) {
				kept_a[j] = kept_b[i] = 1;
				if (c->recs[bi[i]].ttl != a->ttl)
					rc = ops_add(c, o, CF_PATCH, ci, &c->recs[bi[i]], a, &a->rd[j], 0,
						     &why);
				break;
			}
	size_t i = 0;
	for (size_t j = 0; j < na && rc == 0; j++) {
		if (kept_a[j])
			continue;
		while (i < nb && kept_b[i])
			i++;
		if (i < nb) {
			rc = ops_add(c, o, CF_PATCH, ci, &c->recs[bi[i]], a, &a->rd[j], 1, &why);
			kept_b[i++] = 1;
		} else {
			rc = ops_add(c, o, CF_POST, ci, NULL, a, &a->rd[j], 1, &why);
		}
	}
	for (size_t k = 0; k < nb && rc == 0; k++)
		if (!kept_b[k])
			rc = ops_add(c, o, CF_DELETE, ci, &c->recs[bi[k]], NULL, NULL, 0, &why);
	if (rc == ZW_PROV_EINVAL) {
		result(ch, ZW_PROV_PERMANENT, "%s", why ? why : "cannot encode the record");
		return 0;
	}
	if (rc)
		return zw_prov_fail(err, rc, "out of memory");
	return 0;
}

static int op_order(const void *x, const void *y)
{
	const struct cf_op *a = x, *b = y;
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	return a->change < b->change ? -1 : a->change > b->change;
}

/* After a relist: did op land? */
static int landed(struct cf *c, const struct cf_op *op)
{
	for (size_t i = 0; i < c->nrecs; i++) {
		const struct cf_rec *r = &c->recs[i];
		if (op->kind == CF_DELETE && strcmp(r->id, op->id) == 0)
			return 0;
		if (op->kind == CF_PATCH && strcmp(r->id, op->id) == 0)
			return cf_rec_equal(r, op->type, op->rd);
		if (op->kind == CF_POST && strcasecmp(r->name, op->name) == 0 &&
		    cf_rec_equal(r, op->type, op->rd))
			return 1;
	}
	return op->kind == CF_DELETE;
}

/* One op through its own call: DELETE, PATCH (the full record: safe to replay), POST. */
static int single(struct cf *c, const char *zone_id, struct cf_op *op, int *ambiguous,
		  struct zw_prov_error *err)
{
	static const char *const methods[] = {"DELETE", "PATCH", "POST"};
	char path[256];
	char *body = NULL;
	cJSON *root = NULL;
	if (op->kind == CF_POST)
		snprintf(path, sizeof(path), "/zones/%s/dns_records", zone_id);
	else
		snprintf(path, sizeof(path), "/zones/%s/dns_records/%s", zone_id, op->id);
	if (op->body && !(body = cJSON_PrintUnformatted(op->body)))
		return zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
	int rc = api(c, methods[op->kind], path, body, op->kind == CF_PATCH, "DNS Write", &root, ambiguous,
		     err);
	cJSON_free(body);
	cJSON_Delete(root);
	/* a record already gone is what a delete wanted (a retried delete that landed first) */
	if (rc == ZW_PROV_ENOTFOUND && op->kind == CF_DELETE)
		rc = 0;
	return rc;
}

static enum zw_prov_result outcome(int rc)
{
	return rc == ZW_PROV_ERATE || rc == ZW_PROV_ETRANSIENT || rc == ZW_PROV_ECONFLICT ? ZW_PROV_RETRYABLE
											  : ZW_PROV_PERMANENT;
}

/* Settle ops whose outcome is unknown by listing the zone again. */
static int settle(struct cf *c, const char *zone_id, struct cf_op *ops, size_t n,
		  const unsigned char *unknown, struct zw_prov_error *err)
{
	int rc = fetch(c, zone_id, NULL, NULL, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (unknown[i] && ops[i].done == 0 && landed(c, &ops[i]))
			ops[i].done = 1;
	return 0;
}

static int cf_apply(void *state, const char *zone_id, struct zw_prov_change *changes, size_t n,
		    struct zw_prov_error *err)
{
	struct cf *c = state;
	const struct zw_prov_host *h = c->host;
	struct plan_ops o = {NULL, 0, 0};
	unsigned char *claimed = NULL, *unknown = NULL;
	int rc = 0, stop = 0;
	char batch_why[300] = "";

	for (size_t i = 0; i < n; i++) {
		changes[i].result = ZW_PROV_NOT_APPLIED;
		changes[i].message[0] = '\0';
	}
	if (!id_ok(zone_id))
		return zw_prov_fail(err, ZW_PROV_EINVAL, "invalid cloudflare zone id");
	if (!c->recs_valid || strcmp(c->rec_zone, zone_id) != 0)
		if ((rc = fetch(c, zone_id, NULL, NULL, err)))
			goto out;
	if (!(claimed = h->alloc(c->nrecs + 1))) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto out;
	}
	memset(claimed, 0, c->nrecs + 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t first = o.n;
		rc = plan_change(c, &o, i, &changes[i], claimed, err);
		/* a change refused while planning sends none of its operations */
		for (; rc == 0 && changes[i].result != ZW_PROV_NOT_APPLIED && o.n > first; o.n--) {
			h->free(o.v[o.n - 1].id);
			h->free(o.v[o.n - 1].name);
			cJSON_Delete(o.v[o.n - 1].body);
		}
	}
	if (rc)
		goto out;
	qsort(o.v, o.n, sizeof(o.v[0]), op_order);
	if (!(unknown = h->alloc(o.n + 1))) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto out;
	}
	memset(unknown, 0, o.n + 1);

	/* 1. batches of at most c->batch operations */
	int any_unknown = 0, fallback = 0;
	for (size_t at = 0; at < o.n && !stop; at += (size_t)c->batch) {
		size_t cnt = o.n - at < (size_t)c->batch ? o.n - at : (size_t)c->batch;
		char *body = NULL, path[128];
		cJSON *root = NULL;
		int amb = 0;
		struct zw_prov_error e = {0};
		if (cf_batch_json(&body, o.v + at, cnt)) {
			rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(path, sizeof(path), "/zones/%s/dns_records/batch", zone_id);
		int brc = api(c, "POST", path, body, 0, "DNS Write", &root, &amb, &e);
		cJSON_free(body);
		cJSON_Delete(root);
		if (brc == 0) {
			for (size_t i = at; i < at + cnt; i++)
				o.v[i].done = 1;
			continue;
		}
		snprintf(batch_why, sizeof(batch_why), "%s", e.msg);
		if (brc == ZW_PROV_ENOMEM) {
			rc = zw_prov_fail(err, brc, "out of memory");
			goto out;
		}
		if (brc == ZW_PROV_ERATE || brc == ZW_PROV_EAUTH) {
			/* the rest would meet the same answer: stop, nothing more is sent */
			for (size_t i = at; i < o.n; i++) {
				o.v[i].done = -1;
				result(&changes[o.v[i].change], outcome(brc), "%s", e.msg);
			}
			stop = 1;
			break;
		}
		fallback = 1;
		for (size_t i = at; i < at + cnt; i++)
			unknown[i] = (unsigned char)amb;
		any_unknown |= amb;
	}
	/* 2. a batch whose outcome is unknown: it landed whole or not at all */
	if (any_unknown && (rc = settle(c, zone_id, o.v, o.n, unknown, err)))
		goto out;
	/* 3. what is left, one call per record */
	if (fallback && !stop) {
		any_unknown = 0;
		memset(unknown, 0, o.n + 1);
		for (size_t i = 0; i < o.n; i++) {
			struct cf_op *op = &o.v[i];
			struct zw_prov_error e = {0};
			int amb = 0;
			if (op->done)
				continue;
			int src = single(c, zone_id, op, &amb, &e);
			if (src == 0) {
				op->done = 1;
			} else if (src == ZW_PROV_ENOMEM) {
				rc = zw_prov_fail(err, src, "out of memory");
				goto out;
			} else if (amb) {
				unknown[i] = 1;
				any_unknown = 1;
				snprintf(batch_why, sizeof(batch_why), "%s", e.msg);
			} else {
				op->done = -1;
				result(&changes[op->change], outcome(src), "%s", e.msg);
			}
		}
		if (any_unknown && (rc = settle(c, zone_id, o.v, o.n, unknown, err)))
			goto out;
		for (size_t i = 0; i < o.n; i++)
			if (unknown[i] && o.v[i].done == 0) {
				o.v[i].done = -1;
				result(&changes[o.v[i].change], ZW_PROV_RETRYABLE,
				       "%s (outcome unknown: re-plan)", batch_why);
			}
	}
	/* 4. each change: applied when every op of it was */
	for (size_t i = 0; i < o.n; i++)
		if (o.v[i].done == 1)
			result(&changes[o.v[i].change], ZW_PROV_APPLIED, "%s",
			       fallback ? "applied record by record" : "");
	for (size_t i = 0; i < n; i++) {
		int has = 0;
		for (size_t k = 0; k < o.n && !has; k++)
			has = o.v[k].change == i;
		if (!has && changes[i].result == ZW_PROV_NOT_APPLIED)
			result(&changes[i], ZW_PROV_APPLIED, "nothing to change at cloudflare");
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if (changes[i].result != ZW_PROV_APPLIED)
			rc = zw_prov_fail(err,
					  changes[i].result == ZW_PROV_RETRYABLE ? ZW_PROV_ETRANSIENT
										 : ZW_PROV_EINVAL,
					  "not every change was applied: %s", changes[i].message);
out:
	/* the ids kept no longer describe the zone */
	recs_clear(c);
	ops_free(h, &o);
	h->free(claimed);
	h->free(unknown);
	if (rc == ZW_PROV_ENOMEM)
		for (size_t i = 0; i < n; i++)
			if (changes[i].result == ZW_PROV_NOT_APPLIED)
				snprintf(changes[i].message, sizeof(changes[i].message), "out of memory");
	return rc;
}

const struct zw_provider zw_provider_cloudflare = {
	.abi = ZW_PROVIDER_ABI,
	.name = "cloudflare",
	.options = cf_options,
	.open = cf_open,
	.close = cf_close,
	.find_zone = cf_find_zone,
	.nameservers = cf_nameservers,
	.list = cf_list,
	.apply = cf_apply,
};
