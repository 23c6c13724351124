/*
 * provider.c - the provider registry, plugin loading, option checking and the wrappers
 * (see reconcile/provider.h).
 *
 * Owns: the registry's entries and the dlopen handles (closed in zw_registry_free), a
 * connection's provider state (closed through the provider's own `close`).
 */
#include "reconcile/provider.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/http.h"

#define MAX_PROVIDERS 32

extern const struct zw_provider zw_provider_rfc2136;
extern const struct zw_provider zw_provider_route53;
extern const struct zw_provider zw_provider_cloudflare;

/* The providers compiled in. */
static const struct zw_provider *const builtin[] = {
	&zw_provider_rfc2136,
	&zw_provider_route53,
	&zw_provider_cloudflare,
};

struct entry {
	const struct zw_provider *p;
	void *handle;	  /* dlopen handle, NULL when compiled in */
	char origin[256]; /* "built in" or the .so path */
};

struct zw_registry {
	struct entry v[MAX_PROVIDERS];
	size_t n;
	struct zw_http_client *http; /* made on first use; shared by every connection */
	struct zw_prov_http http_table;
	struct zw_http_hooks hooks; /* for the client; zeros: the real ones */
};

/* The provider ABI's error codes are the engine's, number for number. */
_Static_assert((int)ZW_PROV_ENOMEM == (int)ZW_ENOMEM && (int)ZW_PROV_EINVAL == (int)ZW_EINVAL &&
		       (int)ZW_PROV_ENOTFOUND == (int)ZW_ENOTFOUND && (int)ZW_PROV_EAUTH == (int)ZW_EAUTH &&
		       (int)ZW_PROV_ERATE == (int)ZW_ERATE && (int)ZW_PROV_ETRANSIENT == (int)ZW_ETRANSIENT &&
		       (int)ZW_PROV_ECONFLICT == (int)ZW_ECONFLICT &&
		       (int)ZW_PROV_EUNSUPPORTED == (int)ZW_EUNSUPPORTED && (int)ZW_PROV_EIO == (int)ZW_EIO,
	       "provider.h error codes must equal error.h's");

struct settings_impl {
	const struct zw_prov_option *table;
	const char **values; /* one per row of the table, NULL when absent */
};

struct zw_conn {
	const struct zw_provider *p;
	void *state;
	struct zw_prov_host host;
	struct zw_prov_settings settings;
	struct settings_impl impl;
};

/* ---- the registry -------------------------------------------------------------------------- */

int zw_registry_add(struct zw_registry *reg, const struct zw_provider *p, const char *origin,
		    struct zw_error *err)
{
	if (!p)
		return zw_error_set(err, ZW_EINVAL, "%s: no provider table", origin);
	if (p->abi != ZW_PROVIDER_ABI)
		return zw_error_set(err, ZW_EINVAL, "%s: provider ABI version %u, zonewarden speaks %u",
				    origin, p->abi, ZW_PROVIDER_ABI);
	if (!p->name || !p->name[0] || strlen(p->name) > 32)
		return zw_error_set(err, ZW_EINVAL, "%s: provider without a valid name", origin);
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->v[i].p->name, p->name) == 0)
			return zw_error_set(err, ZW_EINVAL,
					    "%s: a provider named '%s' is already loaded (%s)", origin,
					    p->name, reg->v[i].origin);
	if (reg->n == MAX_PROVIDERS)
		return zw_error_set(err, ZW_EINVAL, "%s: more than %d providers", origin, MAX_PROVIDERS);
	reg->v[reg->n].p = p;
	reg->v[reg->n].handle = NULL;
	snprintf(reg->v[reg->n].origin, sizeof(reg->v[0].origin), "%s", origin);
	reg->n++;
	return 0;
}

int zw_registry_new(struct zw_registry **out, struct zw_error *err)
{
	struct zw_registry *reg = zw_calloc(1, sizeof(*reg));
	*out = NULL;
	if (!reg)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		int rc = zw_registry_add(reg, builtin[i], "built in", err);
		if (rc) {
			zw_registry_free(reg);
			return rc;
		}
	}
	*out = reg;
	return 0;
}

static int load_one(struct zw_registry *reg, const char *path, struct zw_error *err)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return zw_error_set(err, ZW_EINVAL, "%s: cannot load: %s", path, dlerror());
	zw_provider_entry_fn entry;
	*(void **)&entry = dlsym(h, ZW_PROVIDER_ENTRY);
	if (!entry) {
		dlclose(h);
		return zw_error_set(err, ZW_EINVAL, "%s: no %s symbol: not a zonewarden provider", path,
				    ZW_PROVIDER_ENTRY);
	}
	int rc = zw_registry_add(reg, entry(), path, err);
	if (rc) {
		dlclose(h);
		return rc;
	}
	reg->v[reg->n - 1].handle = h;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int zw_registry_load_dir(struct zw_registry *reg, const char *dir, struct zw_error *err)
{
	DIR *d = opendir(dir);
	char *names[MAX_PROVIDERS * 4];
	size_t n = 0;
	int rc = 0;
	if (!d)
		return zw_error_set(err, ZW_EIO, "--plugin-dir %s: %s", dir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL && rc == 0) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0 || de->d_name[0] == '.')
			continue;
		if (n == sizeof(names) / sizeof(names[0])) {
			rc = zw_error_set(err, ZW_EINVAL, "--plugin-dir %s: too many plugins", dir);
			break;
		}
		size_t sz = strlen(dir) + len + 2;
		if (!(names[n] = zw_malloc(sz))) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			break;
		}
		snprintf(names[n++], sz, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = load_one(reg, names[i], err);
	for (size_t i = 0; i < n; i++)
		zw_free(names[i]);
	return rc;
}

const struct zw_provider *zw_registry_find(const struct zw_registry *reg, const char *name)
{
	for (size_t i = 0; reg && i < reg->n; i++)
		if (strcmp(reg->v[i].p->name, name) == 0)
			return reg->v[i].p;
	return NULL;
}

void zw_registry_free(struct zw_registry *reg)
{
	if (!reg)
		return;
	zw_http_client_free(reg->http);
	for (size_t i = 0; i < reg->n; i++)
		if (reg->v[i].handle)
			dlclose(reg->v[i].handle);
	zw_free(reg);
}

/* ---- HTTP lent to providers: the ABI's table over reconcile/http.c ----------------------- */

struct classify_wrap {
	zw_prov_http_classify_fn fn;
	void *ctx;
};

static void http_view(struct zw_prov_http_resp *out, struct zw_http_resp *r)
{
	out->status = r->status;
	out->body = zw_buf_str(&r->body);
	out->body_len = r->body.len;
	out->attempts = r->attempts;
	out->retry_after_ms = r->retry_after_ms;
	out->impl = r;
}

static int http_classify(void *ctx, const struct zw_http_resp *r, uint64_t *retry_after_ms)
{
	const struct classify_wrap *w = ctx;
	struct zw_prov_http_resp view;
	http_view(&view, (struct zw_http_resp *)r);
	return w->fn(w->ctx, &view, retry_after_ms);
}

static int http_request(void *ctx, const struct zw_prov_http_req *req, struct zw_prov_http_resp *resp,
			struct zw_prov_error *err)
{
	struct zw_http_resp *r = zw_malloc(sizeof(*r));
	struct classify_wrap w = {req->classify, req->classify_ctx};
	struct zw_error e = {0};
	memset(resp, 0, sizeof(*resp));
	resp->body = "";
	if (!r) {
		err->code = ZW_ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return ZW_ENOMEM;
	}
	*r = (struct zw_http_resp)ZW_HTTP_RESP_INIT;
	struct zw_http_req hr = {
		.method = req->method,
		.url = req->url,
		.headers = req->headers,
		.nheaders = req->nheaders,
		.body = req->body,
		.body_len = req->body_len,
		.account = req->account,
		.replay_safe = req->replay_safe,
		.classify = req->classify ? http_classify : NULL,
		.classify_ctx = &w,
	};
	int rc = zw_http_do(ctx, &hr, r, &e);
	http_view(resp, r);
	if (rc) {
		err->code = rc;
		snprintf(err->msg, sizeof(err->msg), "%s", e.msg);
	}
	return rc;
}

static void http_release(void *ctx, struct zw_prov_http_resp *resp)
{
	(void)ctx;
	if (resp->impl) {
		zw_http_resp_free(resp->impl);
		zw_free(resp->impl);
	}
	memset(resp, 0, sizeof(*resp));
}

static const char *http_header(const struct zw_prov_http_resp *resp, const char *name)
{
	return resp->impl ? zw_http_resp_header(resp->impl, name) : NULL;
}

static int http_budget(void *ctx, const char *account, unsigned n, uint64_t period_ms, unsigned burst,
		       struct zw_prov_error *err)
{
	struct zw_http_rate rate = {n, period_ms, burst};
	struct zw_error e = {0};
	int rc = zw_http_budget_set(ctx, account, &rate, &e);
	if (rc) {
		err->code = rc;
		snprintf(err->msg, sizeof(err->msg), "%s", e.msg);
	}
	return rc;
}

static int http_secret(void *ctx, const char *secret, struct zw_prov_error *err)
{
	struct zw_error e = {0};
	int rc = zw_http_secret_add(ctx, secret, &e);
	if (rc) {
		err->code = rc;
		snprintf(err->msg, sizeof(err->msg), "%s", e.msg);
	}
	return rc;
}

void zw_registry_set_http_hooks(struct zw_registry *reg, const struct zw_http_hooks *hooks)
{
	reg->hooks = *hooks;
}

/* The registry's HTTP client, made on first use. A test CA comes from
 * $ZONEWARDEN_CA_FILE; verification itself is never turned off. */
static const struct zw_prov_http *registry_http(struct zw_registry *reg, struct zw_error *err)
{
	if (reg->http)
		return &reg->http_table;
	struct zw_http_opts o;
	zw_http_opts_init(&o);
	o.ca_file = getenv("ZONEWARDEN_CA_FILE");
	o.hooks = reg->hooks;
	if (zw_http_client_new(&reg->http, &o, err))
		return NULL;
	reg->http_table = (struct zw_prov_http){
		.ctx = reg->http,
		.request = http_request,
		.release = http_release,
		.header = http_header,
		.status_error = zw_http_status_error,
		.budget = http_budget,
		.secret = http_secret,
	};
	return &reg->http_table;
}

/* ---- settings ---------------------------------------------------------------------------- */

static const char *settings_get(const struct zw_prov_settings *s, const char *name)
{
	const struct settings_impl *impl = s->impl;
	for (size_t i = 0; impl->table[i].name; i++)
		if (strcmp(impl->table[i].name, name) == 0)
			return impl->values[i];
	return NULL;
}

static int check_value(const struct zw_prov_option *o, const struct zw_kv *kv, struct zw_error *err)
{
	char *end;
	const char *v = kv->value;
	switch (o->type) {
	case ZW_POPT_INT: {
		errno = 0;
		long x = strtol(v, &end, 10);
		if (!*v || *end || errno || x < o->min || x > o->max)
			return zw_error_set_at(err, ZW_EINVAL, kv->loc.file, kv->loc.line, kv->loc.col,
					       kv->key, "'%s' is not an integer in %ld..%ld", v, o->min,
					       o->max);
		return 0;
	}
	case ZW_POPT_BOOL:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return zw_error_set_at(err, ZW_EINVAL, kv->loc.file, kv->loc.line, kv->loc.col,
					       kv->key, "expected true or false");
		return 0;
	case ZW_POPT_PATH:
		if (!*v)
			return zw_error_set_at(err, ZW_EINVAL, kv->loc.file, kv->loc.line, kv->loc.col,
					       kv->key, "empty path");
		return 0;
	case ZW_POPT_STRING: return 0;
	}
	return 0;
}

static void host_log(void *ctx, enum zw_prov_log level, const char *msg, const char *fields)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	(void)ctx;
	if (level < ZW_PLOG_WARN)
		return;
	// cppcheck-suppress arrayIndexOutOfBoundsCond ; the index is checked on the same line
	const char *name = (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "error";
	fprintf(stderr, "{\"level\":\"%s\",\"component\":\"provider\",\"msg\":\"%s\",\"fields\":\"%s\"}\n",
		name, msg, fields ? fields : "");
}

int zw_conn_open(struct zw_conn **out, const struct zw_registry *reg, const struct zw_provider *p,
		 const struct zw_kv *opts, size_t nopts, struct zw_error *err)
{
	struct zw_conn *c = NULL;
	size_t rows = 0;
	int rc = 0;
	*out = NULL;
	while (p->options && p->options[rows].name)
		rows++;
	for (size_t i = 0; i < nopts; i++) {
		size_t r = 0;
		while (r < rows && strcmp(p->options[r].name, opts[i].key) != 0)
			r++;
		if (r == rows)
			return zw_error_set_at(err, ZW_EINVAL, opts[i].loc.file, opts[i].loc.line,
					       opts[i].loc.col, opts[i].key,
					       "unknown setting for provider %s", p->name);
		if ((rc = check_value(&p->options[r], &opts[i], err)))
			return rc;
	}
	if (!(c = zw_calloc(1, sizeof(*c))) || !(c->impl.values = zw_calloc(rows + 1, sizeof(char *)))) {
		zw_free(c);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	c->p = p;
	c->impl.table = p->options;
	for (size_t r = 0; r < rows; r++) {
		c->impl.values[r] = p->options[r].def;
		for (size_t i = 0; i < nopts; i++)
			if (strcmp(p->options[r].name, opts[i].key) == 0)
				c->impl.values[r] = opts[i].value;
		if (p->options[r].required && !c->impl.values[r]) {
			zw_conn_close(c);
			return zw_error_set(err, ZW_EINVAL, "provider %s: missing required setting '%s'",
					    p->name, p->options[r].name);
		}
	}
	c->settings.get = settings_get;
	c->settings.impl = &c->impl;
	const struct zw_prov_http *http = registry_http((struct zw_registry *)reg, err);
	if (!http) {
		zw_conn_close(c);
		return err && err->code ? err->code : ZW_ENOMEM;
	}
	c->host = (struct zw_prov_host){
		.abi = ZW_PROVIDER_ABI,
		.ctx = c,
		.alloc = zw_malloc,
		.realloc = zw_realloc,
		.free = zw_free,
		.log = host_log,
		.http = http,
	};
	if (!p->open) {
		*out = c;
		return 0;
	}
	struct zw_prov_error pe = {0};
	if ((rc = p->open(&c->state, &c->host, &c->settings, &pe))) {
		c->state = NULL;
		zw_conn_close(c);
		return zw_error_set(err, rc, "provider %s: %s", p->name, pe.msg[0] ? pe.msg : "cannot open");
	}
	*out = c;
	return 0;
}

int zw_conn_open_manifest(struct zw_conn **out, const struct zw_registry *reg,
			  const struct zw_provider_spec *spec, struct zw_error *err)
{
	const struct zw_provider *p = zw_registry_find(reg, spec->type);
	if (!p)
		return zw_error_set_at(
			err, ZW_EUNSUPPORTED, spec->loc.file, spec->loc.line, spec->loc.col, "spec.type",
			"no provider '%s' is compiled in or loaded (--plugin-dir)", spec->type);
	return zw_conn_open(out, reg, p, spec->opts, spec->nopts, err);
}

void zw_conn_close(struct zw_conn *c)
{
	if (!c)
		return;
	if (c->state && c->p->close)
		c->p->close(c->state);
	zw_free(c->impl.values);
	zw_free(c);
}

/* ---- the wrappers ----------------------------------------------------------------------- */

static int unsupported(const struct zw_conn *c, const char *what, struct zw_error *err)
{
	return zw_error_set(err, ZW_EUNSUPPORTED, "provider %s does not support %s", c->p->name, what);
}

static int from_prov(int rc, const struct zw_conn *c, const struct zw_prov_error *pe, struct zw_error *err)
{
	if (rc >= 0)
		return 0;
	if (rc < ZW_EIO)
		rc = ZW_EINVAL;
	return zw_error_set(err, rc, "provider %s: %s", c->p->name, pe->msg[0] ? pe->msg : zw_error_name(rc));
}

struct zone_found {
	char *apex, *id;
};

static int emit_zone(void *ctx, const char *apex, const char *id)
{
	struct zone_found *z = ctx;
	zw_free(z->apex);
	zw_free(z->id);
	z->apex = zw_strdup(apex);
	z->id = zw_strdup(id);
	return z->apex && z->id ? 0 : ZW_PROV_ENOMEM;
}

int zw_conn_find_zone(struct zw_conn *c, const char *domain, char **apex, char **id, struct zw_error *err)
{
	struct zone_found z = {NULL, NULL};
	struct zw_prov_error pe = {0};
	*apex = *id = NULL;
	if (!c->p->find_zone)
		return unsupported(c, "finding zones", err);
	int rc = from_prov(c->p->find_zone(c->state, domain, emit_zone, &z, &pe), c, &pe, err);
	if (rc == 0 && !z.apex)
		rc = zw_error_set(err, ZW_ENOTFOUND, "provider %s has no zone for %s", c->p->name, domain);
	if (rc) {
		zw_free(z.apex);
		zw_free(z.id);
		return rc;
	}
	*apex = z.apex;
	*id = z.id;
	return 0;
}

struct ns_list {
	char **v;
	size_t n;
};

static int emit_ns(void *ctx, const char *ns)
{
	struct ns_list *l = ctx;
	if (l->n >= 64)
		return ZW_PROV_EINVAL;
	char **v = zw_realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return ZW_PROV_ENOMEM;
	l->v = v;
	if (!(l->v[l->n] = zw_strdup(ns)))
		return ZW_PROV_ENOMEM;
	l->n++;
	return 0;
}

int zw_conn_nameservers(struct zw_conn *c, const char *zone_id, char ***ns, size_t *n, struct zw_error *err)
{
	struct ns_list l = {NULL, 0};
	struct zw_prov_error pe = {0};
	*ns = NULL;
	*n = 0;
	if (!c->p->nameservers)
		return unsupported(c, "listing name servers", err);
	int rc = from_prov(c->p->nameservers(c->state, zone_id, emit_ns, &l, &pe), c, &pe, err);
	if (rc) {
		for (size_t i = 0; i < l.n; i++)
			zw_free(l.v[i]);
		zw_free(l.v);
		return rc;
	}
	*ns = l.v;
	*n = l.n;
	return 0;
}

struct list_ctx {
	struct zw_zonestate *zs;
	struct zw_error *err;
};

static int emit_rrset(void *ctx, const struct zw_prov_rrset *r)
{
	struct list_ctx *lc = ctx;
	for (size_t i = 0; i < r->nrd; i++) {
		const struct zw_prov_rdata *rd = &r->rd[i];
		int rc;
		if (r->type == 16 || r->type == 99) {
			struct zw_txt t = {(char *)rd->data, rd->len, (size_t *)rd->lens, rd->n};
			rc = zw_zonestate_add(lc->zs, r->name, r->type, r->ttl, &t, NULL, lc->err);
		} else {
			rc = zw_zonestate_add(lc->zs, r->name, r->type, r->ttl, NULL, rd->text, lc->err);
		}
		if (rc)
			return rc == ZW_ENOMEM ? ZW_PROV_ENOMEM : ZW_PROV_EINVAL;
	}
	return 0;
}

int zw_conn_list(struct zw_conn *c, const char *zone_id, struct zw_zonestate *zs, struct zw_error *err)
{
	struct list_ctx lc = {zs, err};
	struct zw_prov_error pe = {0};
	if (!c->p->list)
		return unsupported(c, "listing records", err);
	return from_prov(c->p->list(c->state, zone_id, emit_rrset, &lc, &pe), c, &pe, err);
}

int zw_conn_fix_delegation(struct zw_conn *c, const char *domain, const char *zone_id, char *op, size_t opsz,
			   struct zw_error *err)
{
	struct zw_prov_error pe = {0};
	op[0] = '\0';
	if (!c->p->fix_delegation)
		return unsupported(c, "fixing the delegation at the registrar", err);
	return from_prov(c->p->fix_delegation(c->state, domain, zone_id, op, opsz, &pe), c, &pe, err);
}

int zw_provider_has_option(const struct zw_provider *p, const char *name)
{
	for (size_t i = 0; p->options && p->options[i].name; i++)
		if (strcmp(p->options[i].name, name) == 0)
			return 1;
	return 0;
}

/* A view of an engine rrset in the ABI's shape; the arrays live in `rd`. */
static void view(struct zw_prov_rrset *out, struct zw_prov_rdata *rd, const struct zw_rrset *r)
{
	for (size_t i = 0; i < r->nrd; i++)
		rd[i] = (struct zw_prov_rdata){r->rd[i].txt.data, r->rd[i].txt.len, r->rd[i].txt.lens,
					       r->rd[i].txt.n, r->rd[i].text};
	*out = (struct zw_prov_rrset){r->name, r->type, r->ttl, rd, r->nrd};
}

int zw_conn_apply(struct zw_conn *c, const char *zone_id, const struct zw_plan *p,
		  enum zw_prov_result *results, char **messages, struct zw_error *err)
{
	size_t total = 0;
	int rc = 0;
	if (!c->p->apply)
		return unsupported(c, "applying changes", err);
	for (size_t i = 0; i < p->n; i++)
		total += p->v[i].before.nrd + p->v[i].after.nrd;
	struct zw_prov_change *ch = zw_calloc(p->n + 1, sizeof(*ch));
	struct zw_prov_rrset *rr = zw_calloc(2 * p->n + 1, sizeof(*rr));
	struct zw_prov_rdata *rd = zw_calloc(total + 1, sizeof(*rd));
	if (!ch || !rr || !rd) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	size_t used = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct zw_change *pc = &p->v[i];
		ch[i].op = (enum zw_prov_op)pc->op;
		if (pc->before.name) {
			view(&rr[2 * i], rd + used, &pc->before);
			used += pc->before.nrd;
			ch[i].before = &rr[2 * i];
		}
		if (pc->after.name && pc->op != ZW_OP_DELETE) {
			view(&rr[2 * i + 1], rd + used, &pc->after);
			used += pc->after.nrd;
			ch[i].after = &rr[2 * i + 1];
		}
	}
	struct zw_prov_error pe = {0};
	rc = c->p->apply(c->state, zone_id, ch, p->n, &pe);
	for (size_t i = 0; i < p->n; i++) {
		results[i] = ch[i].result;
		messages[i] = ch[i].message[0] ? zw_strdup(ch[i].message) : NULL;
		if (rc == 0 && results[i] != ZW_PROV_APPLIED)
			rc = ZW_PROV_EINVAL;
	}
	rc = from_prov(rc, c, &pe, err);
out:
	zw_free(ch);
	zw_free(rr);
	zw_free(rd);
	return rc;
}
