/*
 * kube.c - the Kubernetes client: configuration (a kubeconfig or the in-cluster files),
 * the client (the core HTTP client plus the bearer token) and plain requests (see kube.h).
 *
 * Owns: the configuration's strings and the private temporary directory where inline
 * `-data` certificates and keys are written (0700, files 0600, removed by
 * zw_kube_config_free); the client's HTTP client, its copies of the server, namespace
 * and token file, and the current token behind a mutex.
 *
 * Invariants: TLS verification is never turned off (insecure-skip-tls-verify is
 * refused, only https servers are accepted); every token the client ever used is
 * registered with the HTTP client for redaction before it is sent; the token file is
 * re-read when the token is older than a minute and once after a 401.
 */
#include "reconcile/kube.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/ytree.h"

#define TOKEN_MAX	(64u * 1024)
#define CERT_MAX	(1024u * 1024)
#define TOKEN_REREAD_MS 60000
#define SA_DIR_DEFAULT	"/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_ACCOUNT	"kubernetes"

/* ---- small file helpers ----------------------------------------------------------------- */

/* Read a whole small file; trailing white space is cut when trim is set. */
static int read_file(char **out, size_t *outlen, const char *path, size_t max, int trim, struct zw_error *err)
{
	struct zw_buf b = ZW_BUF_INIT;
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*out = NULL;
	if (fd < 0)
		return zw_error_set(err, ZW_EIO, "kube: cannot read %s: %s", path, strerror(errno));
	b.max = max + 1;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			zw_buf_free(&b);
			return zw_error_set(err, ZW_EIO, "kube: cannot read %s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		int rc = zw_buf_add(&b, chunk, (size_t)r);
		if (rc || b.len > max) {
			close(fd);
			zw_buf_free(&b);
			return rc == ZW_ENOMEM ? zw_error_set(err, ZW_ENOMEM, "out of memory")
					       : zw_error_set(err, ZW_EINVAL, "kube: %s is over %zu bytes",
							      path, max);
		}
	}
	close(fd);
	if (zw_buf_addc(&b, '\0')) {
		zw_buf_free(&b);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	size_t n = b.len - 1;
	if (trim)
		while (n &&
		       (b.p[n - 1] == '\n' || b.p[n - 1] == '\r' || b.p[n - 1] == ' ' || b.p[n - 1] == '\t'))
			b.p[--n] = '\0';
	if (outlen)
		*outlen = n;
	*out = zw_buf_detach(&b);
	if (!*out)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	return 0;
}

static int read_token(char **out, const char *path, struct zw_error *err)
{
	size_t n;
	int rc = read_file(out, &n, path, TOKEN_MAX, 1, err);
	if (rc)
		return rc;
	if (!n || strpbrk(*out, "\r\n")) {
		zw_free(*out);
		*out = NULL;
		return zw_error_set(err, ZW_EAUTH, "kube: the token file %s is empty or not one line", path);
	}
	return 0;
}

/* ---- base64 (the kubeconfig's -data fields; white space skipped) ------------------------ */

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

static int b64decode(unsigned char **out, size_t *outlen, const char *in)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0, bits = 0;
	int pad = 0;
	unsigned char *p = zw_malloc(n / 4 * 3 + 3);
	if (!p)
		return ZW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (ch == '=') {
			pad = 1;
			continue;
		}
		int v = b64val(ch);
		if (v < 0 || pad) {
			zw_free(p);
			return ZW_EINVAL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (bits >= 6) { /* a lone sextet is not base64 */
		zw_free(p);
		return ZW_EINVAL;
	}
	*out = p;
	*outlen = o;
	return 0;
}

/* ---- the configuration -------------------------------------------------------------------- */

void zw_kube_config_free(struct zw_kube_config *c)
{
	if (!c)
		return;
	if (c->tmpdir) {
		static const char *const names[] = {"ca.crt", "client.crt", "client.key"};
		char p[4096];
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", c->tmpdir, names[i]);
			unlink(p);
		}
		rmdir(c->tmpdir);
	}
	zw_free(c->server);
	zw_free(c->token);
	zw_free(c->token_file);
	zw_free(c->ca_file);
	zw_free(c->cert_file);
	zw_free(c->key_file);
	zw_free(c->namespace);
	zw_free(c->tmpdir);
	memset(c, 0, sizeof(*c));
}

/* What the kubeconfig parser carries around. */
struct kcfg {
	const char *path;
	struct zw_kube_config *c;
	struct zw_error *err;
};

static int kerr(struct kcfg *k, const struct zw_ynode *n, const char *field, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int kerr(struct kcfg *k, const struct zw_ynode *n, const char *field, int code, const char *fmt, ...)
{
	char msg[ZW_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return zw_error_set_at(k->err, code, k->path, n ? n->line : 0, n ? n->col : 0, field, "%s", msg);
}

/* A scalar field of a map: 0 with *out NULL when absent; an error when not a scalar. */
static int field(struct kcfg *k, const struct zw_ynode *map, const char *key, const char *where,
		 const char **out)
{
	const struct zw_ynode *n = zw_ynode_get(map, key);
	*out = NULL;
	if (!n)
		return 0;
	if (n->kind != ZW_Y_SCALAR)
		return kerr(k, n, key, ZW_EINVAL, "%s.%s must be a string", where, key);
	*out = n->value;
	return 0;
}

/* The entry called name in a list of {name, <inner>: {...}}; returns the inner map. */
static int named(struct kcfg *k, const struct zw_ynode *root, const char *list, const char *inner,
		 const char *name, const struct zw_ynode *ref, const struct zw_ynode **out)
{
	const struct zw_ynode *seq = zw_ynode_get(root, list);
	*out = NULL;
	if (seq && seq->kind != ZW_Y_SEQ)
		return kerr(k, seq, list, ZW_EINVAL, "%s must be a list", list);
	for (size_t i = 0; seq && i < seq->n; i++) {
		const struct zw_ynode *it = seq->items[i], *nm = zw_ynode_get(it, "name");
		if (it->kind != ZW_Y_MAP)
			return kerr(k, it, list, ZW_EINVAL, "each entry of %s must be a mapping", list);
		if (!nm || nm->kind != ZW_Y_SCALAR || strcmp(nm->value, name) != 0)
			continue;
		const struct zw_ynode *in = zw_ynode_get(it, inner);
		if (!in || in->kind != ZW_Y_MAP)
			return kerr(k, in ? in : it, list, ZW_EINVAL, "%s entry '%s' has no %s mapping", list,
				    name, inner);
		*out = in;
		return 0;
	}
	return kerr(k, ref, list, ZW_EINVAL, "no %s entry named '%s'", list, name);
}

/* A path in a kubeconfig is relative to the kubeconfig's directory (client-go). */
static int resolve(struct kcfg *k, const char *p, char **out)
{
	if (p[0] == '/') {
		*out = zw_strdup(p);
	} else {
		const char *slash = strrchr(k->path, '/');
		struct zw_buf b = ZW_BUF_INIT;
		int rc = slash ? zw_buf_add(&b, k->path, (size_t)(slash - k->path + 1)) : 0;
		if (!rc)
			rc = zw_buf_adds(&b, p);
		*out = rc ? NULL : zw_buf_detach(&b);
		zw_buf_free(&b);
	}
	return *out ? 0 : zw_error_set(k->err, ZW_ENOMEM, "out of memory");
}

/* Decode inline -data into <tmpdir>/name (0600); *out gets the file's path. */
static int write_data(struct kcfg *k, const struct zw_ynode *n, const char *key, const char *name, char **out)
{
	unsigned char *d = NULL;
	size_t len = 0;
	char p[4096];
	int rc = b64decode(&d, &len, n->value);
	if (rc == ZW_ENOMEM)
		return zw_error_set(k->err, ZW_ENOMEM, "out of memory");
	if (rc || !len)
		return kerr(k, n, key, ZW_EINVAL, "%s is not base64", key);
	if (!k->c->tmpdir) {
		const char *t = getenv("TMPDIR");
		snprintf(p, sizeof(p), "%s/zonewarden-kube-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(p)) {
			zw_free(d);
			return zw_error_set(k->err, ZW_EIO, "kube: cannot create a private directory: %s",
					    strerror(errno));
		}
		if (!(k->c->tmpdir = zw_strdup(p))) {
			rmdir(p);
			zw_free(d);
			return zw_error_set(k->err, ZW_ENOMEM, "out of memory");
		}
	}
	snprintf(p, sizeof(p), "%s/%s", k->c->tmpdir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;
	while (fd >= 0 && done < len) {
		ssize_t w = write(fd, d + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	zw_free(d);
	if (fd < 0 || done < len || close(fd) != 0) {
		if (fd >= 0 && done < len)
			close(fd);
		return zw_error_set(k->err, ZW_EIO, "kube: cannot write %s", p);
	}
	*out = zw_strdup(p);
	return *out ? 0 : zw_error_set(k->err, ZW_ENOMEM, "out of memory");
}

/* A file reference or inline data: key (a path) or key-data (base64). */
static int file_or_data(struct kcfg *k, const struct zw_ynode *map, const char *key, const char *where,
			const char *tmpname, char **out)
{
	char dkey[64];
	const char *path;
	int rc;
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	const struct zw_ynode *dn = zw_ynode_get(map, dkey);
	if (dn) {
		if (dn->kind != ZW_Y_SCALAR)
			return kerr(k, dn, dkey, ZW_EINVAL, "%s.%s must be a string", where, dkey);
		return write_data(k, dn, dkey, tmpname, out);
	}
	if ((rc = field(k, map, key, where, &path)) || !path || !*path)
		return rc;
	if ((rc = resolve(k, path, out)))
		return rc;
	if (access(*out, R_OK) != 0)
		return kerr(k, zw_ynode_get(map, key), key, ZW_EINVAL, "cannot read %s %s", key, *out);
	return 0;
}

static int is_true(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0);
}

static int parse_cluster(struct kcfg *k, const struct zw_ynode *cl)
{
	const char *server, *insecure;
	int rc;
	if ((rc = field(k, cl, "insecure-skip-tls-verify", "cluster", &insecure)))
		return rc;
	if (is_true(insecure))
		return kerr(k, zw_ynode_get(cl, "insecure-skip-tls-verify"), "insecure-skip-tls-verify",
			    ZW_EINVAL,
			    "insecure-skip-tls-verify is refused: tls verification is never turned off");
	if ((rc = field(k, cl, "server", "cluster", &server)))
		return rc;
	if (!server || !*server)
		return kerr(k, cl, "server", ZW_EINVAL, "the cluster has no server");
	if (strncmp(server, "https://", 8) != 0)
		return kerr(k, zw_ynode_get(cl, "server"), "server", ZW_EINVAL,
			    "the server must be an https:// url (tls verification is never turned off)");
	if (!(k->c->server = zw_strdup(server)))
		return zw_error_set(k->err, ZW_ENOMEM, "out of memory");
	size_t n = strlen(k->c->server);
	while (n > 8 && k->c->server[n - 1] == '/')
		k->c->server[--n] = '\0';
	return file_or_data(k, cl, "certificate-authority", "cluster", "ca.crt", &k->c->ca_file);
}

static int parse_user(struct kcfg *k, const struct zw_ynode *u)
{
	static const char *const unsupported[] = {"exec", "auth-provider", "username", "password"};
	const char *token, *token_file;
	int rc;
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		const struct zw_ynode *n = zw_ynode_get(u, unsupported[i]);
		if (n)
			return kerr(k, n, unsupported[i], ZW_EUNSUPPORTED,
				    "user credentials by %s are not supported (use a token, a tokenFile or a "
				    "client certificate)",
				    unsupported[i]);
	}
	if ((rc = field(k, u, "token", "user", &token)) ||
	    (rc = field(k, u, "tokenFile", "user", &token_file)))
		return rc;
	if (token && *token && !(k->c->token = zw_strdup(token)))
		return zw_error_set(k->err, ZW_ENOMEM, "out of memory");
	if (!k->c->token && token_file && *token_file) {
		if ((rc = resolve(k, token_file, &k->c->token_file)))
			return rc;
		struct zw_error terr = {0};
		if (read_token(&k->c->token, k->c->token_file, &terr))
			return kerr(k, zw_ynode_get(u, "tokenFile"), "tokenFile", terr.code, "%s", terr.msg);
	}
	if ((rc = file_or_data(k, u, "client-certificate", "user", "client.crt", &k->c->cert_file)) ||
	    (rc = file_or_data(k, u, "client-key", "user", "client.key", &k->c->key_file)))
		return rc;
	if (!k->c->cert_file != !k->c->key_file)
		return kerr(k, u, NULL, ZW_EINVAL,
			    "a client certificate needs both the certificate and the key");
	return 0;
}

static int parse_kubeconfig(struct kcfg *k, const struct zw_ynode *root)
{
	const struct zw_ynode *cc = zw_ynode_get(root, "current-context"), *ctx, *cl, *us;
	const char *cluster, *user, *ns;
	int rc;
	if (root->kind != ZW_Y_MAP)
		return kerr(k, root, NULL, ZW_EINVAL, "a kubeconfig must be a mapping");
	if (!cc || cc->kind != ZW_Y_SCALAR || !*cc->value)
		return kerr(k, cc ? cc : root, "current-context", ZW_EINVAL, "no current-context");
	if ((rc = named(k, root, "contexts", "context", cc->value, cc, &ctx)))
		return rc;
	if ((rc = field(k, ctx, "cluster", "context", &cluster)) ||
	    (rc = field(k, ctx, "user", "context", &user)) ||
	    (rc = field(k, ctx, "namespace", "context", &ns)))
		return rc;
	if (!cluster || !*cluster)
		return kerr(k, ctx, "cluster", ZW_EINVAL, "context '%s' names no cluster", cc->value);
	if ((rc = named(k, root, "clusters", "cluster", cluster, zw_ynode_get(ctx, "cluster"), &cl)) ||
	    (rc = parse_cluster(k, cl)))
		return rc;
	if (user && *user) {
		if ((rc = named(k, root, "users", "user", user, zw_ynode_get(ctx, "user"), &us)) ||
		    (rc = parse_user(k, us)))
			return rc;
	}
	if (!(k->c->namespace = zw_strdup(ns && *ns ? ns : "default")))
		return zw_error_set(k->err, ZW_ENOMEM, "out of memory");
	return 0;
}

static int load_kubeconfig(struct zw_kube_config *c, const char *path, struct zw_error *err)
{
	struct zw_yfile *f = NULL;
	struct kcfg k = {path, c, err};
	int rc = zw_ytree_load(&f, path, NULL, 0, err);
	if (rc)
		return rc;
	if (f->ndocs != 1)
		rc = zw_error_set_at(err, ZW_EINVAL, path, f->ndocs ? f->docs[1].line : 1, 1, NULL,
				     "a kubeconfig is one yaml document");
	else
		rc = parse_kubeconfig(&k, f->docs[0].root);
	zw_ytree_free(f);
	return rc;
}

static int load_in_cluster(struct zw_kube_config *c, const char *host, const char *port, struct zw_error *err)
{
	const char *dir = getenv("ZW_KUBE_SA_DIR");
	char p[4096];
	struct zw_buf b = ZW_BUF_INIT;
	int rc;
	if (!dir || !*dir)
		dir = SA_DIR_DEFAULT;
	if (strpbrk(host, "/ ") || !*port || strspn(port, "0123456789") != strlen(port))
		return zw_error_set(err, ZW_EINVAL,
				    "kube: bad KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT");
	/* an IPv6 address is bracketed (net.JoinHostPort) */
	if (strchr(host, ':') && host[0] != '[')
		zw_buf_addf(&b, "https://[%s]:%s", host, port);
	else
		zw_buf_addf(&b, "https://%s:%s", host, port);
	if (!b.p)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	c->server = zw_buf_detach(&b);
	c->in_cluster = 1;
	snprintf(p, sizeof(p), "%s/token", dir);
	if (!(c->token_file = zw_strdup(p)))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if ((rc = read_token(&c->token, c->token_file, err)))
		return rc;
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	if (access(p, R_OK) != 0)
		return zw_error_set(err, ZW_EINVAL, "kube: cannot read the service account ca %s", p);
	if (!(c->ca_file = zw_strdup(p)))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	snprintf(p, sizeof(p), "%s/namespace", dir);
	char *ns = NULL;
	struct zw_error nerr = {0};
	if (read_file(&ns, NULL, p, 256, 1, &nerr) == 0 && *ns) {
		c->namespace = ns;
	} else {
		zw_free(ns);
		if (nerr.code == ZW_ENOMEM)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		if (!(c->namespace = zw_strdup("default")))
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	return 0;
}

int zw_kube_config_load(struct zw_kube_config *out, const char *kubeconfig, struct zw_error *err)
{
	char p[4096];
	int rc;
	memset(out, 0, sizeof(*out));
	if (kubeconfig && *kubeconfig) {
		rc = load_kubeconfig(out, kubeconfig, err);
	} else {
		const char *env = getenv("KUBECONFIG"), *host = getenv("KUBERNETES_SERVICE_HOST"),
			   *port = getenv("KUBERNETES_SERVICE_PORT"), *home = getenv("HOME");
		if (env && *env) {
			/* a list: the first file that exists (client-go merges them; we do not) */
			const char *s = env;
			rc = zw_error_set(err, ZW_EINVAL, "kube: no file of KUBECONFIG exists");
			while (*s) {
				size_t n = strcspn(s, ":");
				if (n && n < sizeof(p)) {
					memcpy(p, s, n);
					p[n] = '\0';
					if (access(p, F_OK) == 0) {
						zw_error_clear(err);
						rc = load_kubeconfig(out, p, err);
						break;
					}
				}
				s += n + (s[n] == ':');
			}
		} else if (host && *host && port && *port) {
			rc = load_in_cluster(out, host, port, err);
		} else if (home && *home) {
			snprintf(p, sizeof(p), "%s/.kube/config", home);
			rc = load_kubeconfig(out, p, err);
		} else {
			rc = zw_error_set(err, ZW_EINVAL,
					  "kube: no configuration: no --kubeconfig, KUBECONFIG, in-cluster "
					  "environment or HOME");
		}
	}
	if (rc)
		zw_kube_config_free(out);
	return rc;
}

/* ---- the client --------------------------------------------------------------------------- */

struct zw_kube {
	struct zw_http_client *http;
	char *server;
	char *namespace;
	char *token_file;
	uint64_t (*now_ms)(void *ctx);
	void *clock_ctx;
	pthread_mutex_t mu; /* guards token and token_ms */
	char *token;
	uint64_t token_ms;
};

static uint64_t mono_ms(const struct zw_kube *k)
{
	if (k->now_ms)
		return k->now_ms(k->clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void zw_kube_free(struct zw_kube *k)
{
	if (!k)
		return;
	zw_http_client_free(k->http);
	zw_free(k->server);
	zw_free(k->namespace);
	zw_free(k->token_file);
	zw_free(k->token);
	pthread_mutex_destroy(&k->mu);
	zw_free(k);
}

int zw_kube_new(struct zw_kube **out, const struct zw_kube_config *cfg, const struct zw_http_hooks *hooks,
		struct zw_error *err)
{
	struct zw_http_opts o;
	struct zw_kube *k;
	int rc;
	*out = NULL;
	if (!cfg->server)
		return zw_error_set(err, ZW_EINVAL, "kube: the configuration has no server");
	if (!(k = zw_calloc(1, sizeof(*k))))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (pthread_mutex_init(&k->mu, NULL) != 0) {
		zw_free(k);
		return zw_error_set(err, ZW_EIO, "kube: cannot create a mutex");
	}
	zw_http_opts_init(&o);
	if (hooks)
		o.hooks = *hooks;
	o.ca_file = cfg->ca_file;
	o.cert_file = cfg->cert_file;
	o.key_file = cfg->key_file;
	o.max_body = 32u * 1024 * 1024; /* one LIST page of 500 objects */
	if (cfg->single_attempt_ms > 0) {
		o.timeout_ms = cfg->single_attempt_ms;
		o.connect_timeout_ms = cfg->single_attempt_ms;
		o.max_retries = 0;
		o.max_retry_after_ms = 0;
	}
	k->now_ms = o.hooks.now_ms;
	k->clock_ctx = o.hooks.ctx;
	if ((rc = zw_http_client_new(&k->http, &o, err)))
		goto fail;
	rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (!(k->server = zw_strdup(cfg->server)) ||
	    !(k->namespace = zw_strdup(cfg->namespace ? cfg->namespace : "default")))
		goto fail;
	if (cfg->token_file && !(k->token_file = zw_strdup(cfg->token_file)))
		goto fail;
	zw_error_clear(err);
	if (cfg->token) {
		if (!(k->token = zw_strdup(cfg->token)))
			goto fail;
		if ((rc = zw_http_secret_add(k->http, k->token, err)))
			goto fail;
	} else if (k->token_file) {
		if ((rc = read_token(&k->token, k->token_file, err)) ||
		    (rc = zw_http_secret_add(k->http, k->token, err)))
			goto fail;
	}
	k->token_ms = mono_ms(k);
	*out = k;
	return 0;
fail:
	zw_kube_free(k);
	return rc;
}

const char *zw_kube_namespace(const struct zw_kube *k)
{
	return k->namespace;
}

/* Re-read the token file when forced or when the token is a minute old. A file that
 * cannot be read keeps the old token (the next request will tell). */
static void token_refresh(struct zw_kube *k, int force)
{
	if (!k->token_file)
		return;
	uint64_t now = mono_ms(k);
	pthread_mutex_lock(&k->mu);
	int due = force || now - k->token_ms >= TOKEN_REREAD_MS;
	pthread_mutex_unlock(&k->mu);
	if (!due)
		return;
	char *t = NULL;
	struct zw_error e = {0};
	if (read_token(&t, k->token_file, &e) != 0)
		return;
	/* registered before it can appear in any header or line */
	if (zw_http_secret_add(k->http, t, &e) != 0 && e.code == ZW_ENOMEM) {
		zw_free(t);
		return;
	}
	pthread_mutex_lock(&k->mu);
	zw_free(k->token);
	k->token = t;
	k->token_ms = now;
	pthread_mutex_unlock(&k->mu);
}

/* "Authorization: Bearer <token>" into hdr, or "" when there is no token. */
static int auth_header(struct zw_kube *k, char **hdr)
{
	struct zw_buf b = ZW_BUF_INIT;
	b.max = TOKEN_MAX + 64;
	pthread_mutex_lock(&k->mu);
	if (k->token)
		zw_buf_addf(&b, "Authorization: Bearer %s", k->token);
	else
		zw_buf_adds(&b, "X-No-Token: 1");
	pthread_mutex_unlock(&k->mu);
	if (!b.p)
		return ZW_ENOMEM;
	*hdr = zw_buf_detach(&b);
	return *hdr ? 0 : ZW_ENOMEM;
}

static int check_path(const char *path, struct zw_error *err)
{
	if (!path || path[0] != '/' || strpbrk(path, " \r\n\t#"))
		return zw_error_set(err, ZW_EINVAL, "kube: bad path");
	return 0;
}

/* One line from an error answer: the metav1.Status reason and message, else the status. */
static void status_error(struct zw_error *err, int code, const char *method, const char *path, long status,
			 const struct zw_http_resp *resp)
{
	cJSON *st = resp->body.len ? cJSON_ParseWithLength(resp->body.p, resp->body.len) : NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(st, "message");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(st, "reason");
	char m[300];
	snprintf(m, sizeof(m), "%s", cJSON_IsString(msg) ? msg->valuestring : "");
	for (char *p = m; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	zw_error_set(err, code, "kube %s %s: %ld%s%s%s%s", method, path, status,
		     cJSON_IsString(reason) ? " " : "", cJSON_IsString(reason) ? reason->valuestring : "",
		     *m ? ": " : "", m);
	cJSON_Delete(st);
}

/* Build and send one request; the 401 retry is the caller's. */
static int send_once(struct zw_kube *k, const char *method, const char *url, const char *content_type,
		     const char *body, const struct zw_http_stream *stream, struct zw_http_resp *resp,
		     struct zw_error *err)
{
	char *auth = NULL;
	char ct[128];
	const char *hdrs[3];
	size_t nh = 0;
	int rc;
	if (auth_header(k, &auth))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	hdrs[nh++] = auth;
	hdrs[nh++] = "Accept: application/json";
	if (body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		hdrs[nh++] = ct;
	}
	struct zw_http_req req = {
		.method = method,
		.url = url,
		.headers = hdrs,
		.nheaders = nh,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.account = KUBE_ACCOUNT,
	};
	if (stream)
		rc = zw_http_stream(k->http, &req, stream, resp, err);
	else
		rc = zw_http_do(k->http, &req, resp, err);
	zw_free(auth);
	return rc;
}

static int exchange(struct zw_kube *k, const char *method, const char *path, const char *content_type,
		    const cJSON *body, const struct zw_http_stream *stream, struct zw_http_resp *resp,
		    long *status, struct zw_error *err)
{
	char *url = NULL, *text = NULL;
	struct zw_buf b = ZW_BUF_INIT;
	struct zw_error herr = {0};
	int rc;
	if (status)
		*status = 0;
	if ((rc = check_path(path, err)))
		return rc;
	if (zw_buf_addf(&b, "%s%s", k->server, path) || !(url = zw_buf_detach(&b))) {
		zw_buf_free(&b);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	if (body && !(text = cJSON_PrintUnformatted(body))) {
		zw_free(url);
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	token_refresh(k, 0);
	rc = send_once(k, method, url, content_type, text, stream, resp, &herr);
	if (resp->status == 401 && k->token_file) {
		/* a rotated projected token: read it again, once */
		token_refresh(k, 1);
		zw_error_clear(&herr);
		rc = send_once(k, method, url, content_type, text, stream, resp, &herr);
	}
	if (status)
		*status = resp->status;
	if (rc == ZW_ENOMEM)
		zw_error_set(err, ZW_ENOMEM, "out of memory");
	else if (rc && resp->status)
		status_error(err, rc, method, path, resp->status, resp);
	else if (rc)
		zw_error_set(err, rc, "%s", herr.msg);
	cJSON_free(text);
	zw_free(url);
	return rc;
}

int zw_kube_request(struct zw_kube *k, const char *method, const char *path, const char *content_type,
		    const cJSON *body, cJSON **out, long *status, struct zw_error *err)
{
	struct zw_http_resp resp = ZW_HTTP_RESP_INIT;
	if (out)
		*out = NULL;
	int rc = exchange(k, method, path, content_type, body, NULL, &resp, status, err);
	if (!rc && out) {
		*out = cJSON_ParseWithLength(resp.body.p ? resp.body.p : "", resp.body.len);
		if (!*out)
			rc = zw_error_set(err, ZW_EINVAL, "kube %s %s: the answer is not json", method, path);
	}
	zw_http_resp_free(&resp);
	return rc;
}

int zw_kube_stream(struct zw_kube *k, const char *path, const struct zw_http_stream *stream, long *status,
		   struct zw_error *err)
{
	struct zw_http_resp resp = ZW_HTTP_RESP_INIT;
	int rc = exchange(k, "GET", path, NULL, NULL, stream, &resp, status, err);
	zw_http_resp_free(&resp);
	return rc;
}

int zw_kube_get(struct zw_kube *k, const char *path, cJSON **out, struct zw_error *err)
{
	return zw_kube_request(k, "GET", path, NULL, NULL, out, NULL, err);
}

int zw_kube_merge_patch(struct zw_kube *k, const char *path, const cJSON *patch, cJSON **out,
			struct zw_error *err)
{
	return zw_kube_request(k, "PATCH", path, "application/merge-patch+json", patch, out, NULL, err);
}

int zw_kube_json_patch(struct zw_kube *k, const char *path, const cJSON *ops, cJSON **out,
		       struct zw_error *err)
{
	return zw_kube_request(k, "PATCH", path, "application/json-patch+json", ops, out, NULL, err);
}

/* ---- paths ----------------------------------------------------------------------------------- */

/* A path segment: a DNS-1123 name or a group/version/plural; nothing that could change the
 * path or the query. */
static int segment_ok(const char *s)
{
	return s && *s && strlen(s) <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == strlen(s);
}

int zw_kube_path(char *out, size_t outsz, const char *group, const char *version, const char *ns,
		 const char *plural, const char *name, const char *sub)
{
	struct zw_buf b = ZW_BUF_INIT;
	int rc = 0;
	if (!segment_ok(version) || !segment_ok(plural) || (group && *group && !segment_ok(group)) ||
	    (ns && !segment_ok(ns)) || (name && !segment_ok(name)) || (sub && !segment_ok(sub)))
		return ZW_EINVAL;
	if (group && *group)
		rc |= zw_buf_addf(&b, "/apis/%s/%s", group, version);
	else
		rc |= zw_buf_addf(&b, "/api/%s", version);
	if (ns)
		rc |= zw_buf_addf(&b, "/namespaces/%s", ns);
	rc |= zw_buf_addf(&b, "/%s", plural);
	if (name)
		rc |= zw_buf_addf(&b, "/%s", name);
	if (sub)
		rc |= zw_buf_addf(&b, "/%s", sub);
	if (rc) {
		zw_buf_free(&b);
		return ZW_ENOMEM;
	}
	if (b.len >= outsz) {
		zw_buf_free(&b);
		return ZW_EINVAL;
	}
	memcpy(out, b.p, b.len + 1);
	zw_buf_free(&b);
	return 0;
}

/* ---- LIST ------------------------------------------------------------------------------------ */

/* Append s percent-encoded (RFC 3986 unreserved kept). */
static int add_escaped(struct zw_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			rc = zw_buf_addc(b, (char)*p);
		else
			rc = zw_buf_addf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return rc;
}

int zw_kube_list(struct zw_kube *k, const char *path, unsigned limit, cJSON **items, char **rv,
		 unsigned *pages, struct zw_error *err)
{
	cJSON *all = cJSON_CreateArray(), *page = NULL;
	char *cont = NULL;
	unsigned n = 0;
	int rc = 0;
	*items = NULL;
	*rv = NULL;
	if (!all)
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	if (strchr(path, '?')) {
		cJSON_Delete(all);
		return zw_error_set(err, ZW_EINVAL, "kube: a list path takes no query");
	}
	do {
		struct zw_buf q = ZW_BUF_INIT;
		int brc = zw_buf_addf(&q, "%s?limit=%u&resourceVersion=", path, limit ? limit : 500);
		if (!brc && cont && *cont)
			brc = zw_buf_adds(&q, "&continue=") || add_escaped(&q, cont);
		if (brc || !q.p) {
			zw_buf_free(&q);
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			break;
		}
		rc = zw_kube_request(k, "GET", q.p, NULL, NULL, &page, NULL, err);
		zw_buf_free(&q);
		if (rc)
			break;
		n++;
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
		const cJSON *prv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
		const cJSON *pc = cJSON_GetObjectItemCaseSensitive(meta, "continue");
		cJSON *its = cJSON_GetObjectItemCaseSensitive(page, "items");
		if (!cJSON_IsString(prv) || (its && !cJSON_IsArray(its) && !cJSON_IsNull(its))) {
			rc = zw_error_set(err, ZW_EINVAL, "kube list %s: the answer is not a list", path);
			break;
		}
		zw_free(*rv);
		zw_free(cont);
		cont = NULL;
		if (!(*rv = zw_strdup(prv->valuestring)) ||
		    (cJSON_IsString(pc) && *pc->valuestring && !(cont = zw_strdup(pc->valuestring)))) {
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
			break;
		}
		/* move the page's objects into the result */
		while (cJSON_IsArray(its) && cJSON_GetArraySize(its) > 0) {
			cJSON *it = cJSON_DetachItemFromArray(its, 0);
			cJSON_AddItemToArray(all, it);
		}
		cJSON_Delete(page);
		page = NULL;
	} while (cont);
	cJSON_Delete(page);
	zw_free(cont);
	if (pages)
		*pages = n;
	if (rc) {
		cJSON_Delete(all);
		zw_free(*rv);
		*rv = NULL;
		return rc;
	}
	*items = all;
	return 0;
}

char *zw_kube_watch_path(const char *path, const char *rv, unsigned timeout_s)
{
	struct zw_buf b = ZW_BUF_INIT;
	int rc = zw_buf_addf(&b, "%s?watch=1", path);
	if (!rc && rv && *rv)
		rc = zw_buf_adds(&b, "&resourceVersion=") || add_escaped(&b, rv);
	if (!rc)
		rc = zw_buf_addf(&b, "&allowWatchBookmarks=true&timeoutSeconds=%u", timeout_s);
	char *out = rc ? NULL : zw_buf_detach(&b);
	zw_buf_free(&b);
	return out;
}
