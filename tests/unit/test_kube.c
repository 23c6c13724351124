/*
 * test_kube.c - unit tests of the Kubernetes client's pure parts: kubeconfig parsing
 * (token, tokenFile relative to the file, client certificate and CA inline data written
 * to a private directory that _free removes, bad YAML located at file:line:col, a missing
 * context, insecure-skip-tls-verify and plain http refused, unsupported credentials,
 * KUBECONFIG lists), the in-cluster configuration from ZW_KUBE_SA_DIR (IPv6 bracketed),
 * the watch stream's line splitter (partial chunks, a line across chunks, CRLF, blank
 * lines, the bound), the event decoder (ADDED, DELETED, BOOKMARK, ERROR 410 in both
 * spellings, another ERROR, bad lines) and path building. What the API server itself
 * does is tested against the real one in tests/integration/kube.test.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconcile/buf.h"
#include "reconcile/kube.h"

/* ---- a scratch directory ----------------------------------------------------------- */

struct dir {
	char path[64];
	char files[8][128];
	size_t n;
};

static void dir_new(struct dir *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->path, "/tmp/zw-test-kube-XXXXXX", sizeof("/tmp/zw-test-kube-XXXXXX"));
	assert_non_null(mkdtemp(d->path));
}

static const char *dir_write(struct dir *d, const char *name, const char *text)
{
	assert_true(d->n < 8);
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", d->path, name);
	memcpy(d->files[d->n], p, sizeof(p));
	FILE *f = fopen(d->files[d->n], "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return d->files[d->n++];
}

static void dir_free(struct dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		unlink(d->files[i]);
	rmdir(d->path);
}

static void env_clear(void)
{
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("ZW_KUBE_SA_DIR");
}

#define KC_HEAD                                                                                              \
	"apiVersion: v1\n"                                                                                   \
	"kind: Config\n"                                                                                     \
	"current-context: dev\n"                                                                             \
	"contexts:\n"                                                                                        \
	"- name: other\n"                                                                                    \
	"  context: {cluster: nowhere, user: nobody}\n"                                                      \
	"- name: dev\n"                                                                                      \
	"  context:\n"                                                                                       \
	"    cluster: c1\n"                                                                                  \
	"    user: u1\n"

/* "-----BEGIN TEST-----\nabc\n" in base64 */
#define PEM_B64	 "LS0tLS1CRUdJTiBURVNULS0tLS0KYWJjCg=="
#define PEM_TEXT "-----BEGIN TEST-----\nabc\n"

static void kubeconfig_token(void **state)
{
	(void)state;
	struct dir d;
	struct zw_kube_config c;
	struct zw_error err = {0};
	dir_new(&d);
	dir_write(&d, "ca.pem", "x");
	const char *kc = dir_write(&d, "config",
				   KC_HEAD "    namespace: mail\n"
					   "clusters:\n"
					   "- name: c1\n"
					   "  cluster:\n"
					   "    server: https://127.0.0.1:6443/\n"
					   "    certificate-authority: ca.pem\n"
					   "users:\n"
					   "- name: u1\n"
					   "  user:\n"
					   "    token: abcdef0123\n");
	assert_int_equal(zw_kube_config_load(&c, kc, &err), 0);
	assert_string_equal(c.server, "https://127.0.0.1:6443"); /* no trailing slash */
	assert_string_equal(c.token, "abcdef0123");
	assert_null(c.token_file);
	assert_string_equal(c.namespace, "mail");
	assert_int_equal(c.in_cluster, 0);
	char want[128];
	snprintf(want, sizeof(want), "%s/ca.pem", d.path); /* relative to the kubeconfig */
	assert_string_equal(c.ca_file, want);
	assert_null(c.tmpdir);
	zw_kube_config_free(&c);
	dir_free(&d);
}

static void kubeconfig_token_file(void **state)
{
	(void)state;
	struct dir d;
	struct zw_kube_config c;
	struct zw_error err = {0};
	dir_new(&d);
	dir_write(&d, "tok", "secret-token-1\n");
	const char *kc = dir_write(&d, "config",
				   KC_HEAD "clusters:\n"
					   "- name: c1\n"
					   "  cluster: {server: 'https://[::1]:6443'}\n"
					   "users:\n"
					   "- name: u1\n"
					   "  user: {tokenFile: tok}\n");
	assert_int_equal(zw_kube_config_load(&c, kc, &err), 0);
	assert_string_equal(c.token, "secret-token-1"); /* the line end cut */
	char want[128];
	snprintf(want, sizeof(want), "%s/tok", d.path);
	assert_string_equal(c.token_file, want);
	assert_string_equal(c.namespace, "default");
	assert_null(c.ca_file);
	zw_kube_config_free(&c);
	/* an empty token file is refused where it is named */
	dir_write(&d, "tok", "\n");
	memset(&err, 0, sizeof(err));
	assert_int_equal(zw_kube_config_load(&c, kc, &err), ZW_EAUTH);
	assert_int_equal(err.line, 16);
	assert_int_equal(err.col, 21);
	assert_non_null(strstr(err.msg, "empty"));
	dir_free(&d);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[256];
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void kubeconfig_client_cert_data(void **state)
{
	(void)state;
	struct dir d;
	struct zw_kube_config c;
	struct zw_error err = {0};
	struct stat st;
	dir_new(&d);
	const char *kc = dir_write(&d, "config",
				   KC_HEAD "clusters:\n"
					   "- name: c1\n"
					   "  cluster:\n"
					   "    server: https://k.example:443\n"
					   "    certificate-authority-data: " PEM_B64 "\n"
					   "users:\n"
					   "- name: u1\n"
					   "  user:\n"
					   "    client-certificate-data: " PEM_B64 "\n"
					   "    client-key-data: " PEM_B64 "\n");
	assert_int_equal(zw_kube_config_load(&c, kc, &err), 0);
	assert_null(c.token);
	assert_non_null(c.tmpdir);
	assert_int_equal(stat(c.tmpdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(c.key_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_string_equal(slurp(c.ca_file), PEM_TEXT);
	assert_string_equal(slurp(c.cert_file), PEM_TEXT);
	assert_string_equal(slurp(c.key_file), PEM_TEXT);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s", c.tmpdir);
	zw_kube_config_free(&c);
	assert_int_not_equal(stat(tmp, &st), 0); /* removed with what it held */
	dir_free(&d);
}

static void kubeconfig_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int code;
		unsigned line, col;
		const char *msg;
	} cases[] = {
		/* bad yaml: where libyaml saw it */
		{"current-context: dev\ncontexts: [\n  - a: b\n   c\n", ZW_EINVAL, 3, 3,
		 "did not find expected node content"},
		{KC_HEAD, ZW_EINVAL, 9, 14, "no clusters entry named 'c1'"},
		{"current-context: prod\ncontexts: []\n", ZW_EINVAL, 1, 18, "no contexts entry named 'prod'"},
		{"kind: Config\n", ZW_EINVAL, 1, 1, "no current-context"},
		{KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://a:1\n"
			 "    insecure-skip-tls-verify: true\n",
		 ZW_EINVAL, 15, 31, "insecure-skip-tls-verify is refused"},
		{KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: http://a:1\n", ZW_EINVAL, 14, 13,
		 "must be an https:// url"},
		{KC_HEAD "clusters:\n- name: c1\n  cluster: {server: 'https://a:1'}\nusers:\n- name: u1\n"
			 "  user:\n    exec: {command: aws}\n",
		 ZW_EUNSUPPORTED, 17, 11, "by exec are not supported"},
		{KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://a:1\n"
			 "    certificate-authority-data: '!!notbase64'\n",
		 ZW_EINVAL, 15, 33, "is not base64"},
		{KC_HEAD "clusters:\n- name: c1\n  cluster: {server: 'https://a:1'}\nusers:\n- name: u1\n"
			 "  user:\n    client-certificate-data: " PEM_B64 "\n",
		 ZW_EINVAL, 17, 5, "needs both"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dir d;
		struct zw_kube_config c;
		struct zw_error err = {0};
		dir_new(&d);
		const char *kc = dir_write(&d, "config", cases[i].text);
		int rc = zw_kube_config_load(&c, kc, &err);
		if (rc != cases[i].code || err.line != cases[i].line || err.col != cases[i].col ||
		    !strstr(err.msg, cases[i].msg) || strcmp(err.file, kc) != 0)
			fail_msg("case %zu: rc %d at %s:%u:%u: %s", i, rc, err.file, err.line, err.col,
				 err.msg);
		assert_null(c.server); /* nothing left behind */
		assert_null(c.tmpdir);
		dir_free(&d);
	}
}

static void kubeconfig_from_env(void **state)
{
	(void)state;
	struct dir d;
	struct zw_kube_config c;
	struct zw_error err = {0};
	char list[512];
	env_clear();
	dir_new(&d);
	const char *kc =
		dir_write(&d, "config",
			  KC_HEAD "clusters:\n- name: c1\n  cluster: {server: 'https://from-env:1'}\n"
				  "users:\n- name: u1\n  user: {}\n");
	/* a KUBECONFIG list: the first file that exists */
	snprintf(list, sizeof(list), "%s/missing:%s", d.path, kc);
	setenv("KUBECONFIG", list, 1);
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), 0);
	assert_string_equal(c.server, "https://from-env:1");
	zw_kube_config_free(&c);
	/* KUBECONFIG wins over the in-cluster environment */
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), 0);
	assert_int_equal(c.in_cluster, 0);
	zw_kube_config_free(&c);
	snprintf(list, sizeof(list), "%s/missing", d.path);
	setenv("KUBECONFIG", list, 1);
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "no file of KUBECONFIG exists"));
	env_clear();
	dir_free(&d);
}

static void in_cluster(void **state)
{
	(void)state;
	struct dir d;
	struct zw_kube_config c;
	struct zw_error err = {0};
	char want[128];
	env_clear();
	dir_new(&d);
	setenv("ZW_KUBE_SA_DIR", d.path, 1);
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	/* no token yet */
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), ZW_EIO);
	assert_non_null(strstr(err.msg, "/token"));
	dir_write(&d, "token", "eyJhbGciOiJSUzI1NiJ9.projected\n");
	dir_write(&d, "ca.crt", "x");
	dir_write(&d, "namespace", "zonewarden-system");
	memset(&err, 0, sizeof(err));
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), 0);
	assert_string_equal(c.server, "https://[fd00:10::1]:443");
	assert_int_equal(c.in_cluster, 1);
	assert_string_equal(c.token, "eyJhbGciOiJSUzI1NiJ9.projected");
	snprintf(want, sizeof(want), "%s/token", d.path);
	assert_string_equal(c.token_file, want); /* re-read by the client */
	snprintf(want, sizeof(want), "%s/ca.crt", d.path);
	assert_string_equal(c.ca_file, want);
	assert_string_equal(c.namespace, "zonewarden-system");
	zw_kube_config_free(&c);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	zw_kube_config_free(&c);
	setenv("KUBERNETES_SERVICE_PORT", "443/tcp", 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(zw_kube_config_load(&c, NULL, &err), ZW_EINVAL);
	env_clear();
	dir_free(&d);
}

static int load_under_failures(void *kc)
{
	struct zw_kube_config c;
	struct zw_error err = {0};
	int rc = zw_kube_config_load(&c, kc, &err);
	if (!rc)
		zw_kube_config_free(&c);
	return rc;
}

static void kubeconfig_alloc_failures(void **state)
{
	(void)state;
	struct dir d;
	dir_new(&d);
	dir_write(&d, "tok", "t0ken\n");
	char *kc = (char *)dir_write(&d, "config",
				     KC_HEAD "    namespace: ns\n"
					     "clusters:\n- name: c1\n  cluster:\n    server: https://a:1\n"
					     "    certificate-authority-data: " PEM_B64 "\n"
					     "users:\n- name: u1\n  user:\n    tokenFile: tok\n"
					     "    client-certificate-data: " PEM_B64 "\n"
					     "    client-key-data: " PEM_B64 "\n");
	ZW_FOR_EACH_ALLOC_FAILURE(load_under_failures(kc));
	dir_free(&d);
}

/* ---- the line splitter ---------------------------------------------------------------- */

struct got {
	char lines[8][64];
	size_t n;
	size_t stop_at; /* stop after this many lines; 0 never */
};

static int take(void *arg, const char *line, size_t len)
{
	struct got *g = arg;
	assert_true(g->n < 8 && len < 64);
	memcpy(g->lines[g->n], line, len);
	g->lines[g->n][len] = '\0';
	g->n++;
	return g->stop_at && g->n >= g->stop_at ? 7 : 0;
}

static void lines_split(void **state)
{
	(void)state;
	struct zw_kube_lines l = ZW_KUBE_LINES_INIT;
	struct got g = {{{0}}, 0, 0};
	/* a partial line waits; a line across three chunks; CRLF; blank lines skipped */
	assert_int_equal(zw_kube_lines_feed(&l, "{\"a\"", 4, take, &g), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(zw_kube_lines_feed(&l, ":1", 2, take, &g), 0);
	assert_int_equal(zw_kube_lines_feed(&l, "}\n{\"b\":2}\r\n\n  \r\n{\"c\"", 20, take, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.lines[0], "{\"a\":1}");
	assert_string_equal(g.lines[1], "{\"b\":2}");
	assert_int_equal(zw_kube_lines_feed(&l, ":3}\n", 4, take, &g), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.lines[2], "{\"c\":3}");
	/* one byte at a time */
	const char *s = "x1\ny2\n";
	for (size_t i = 0; i < strlen(s); i++)
		assert_int_equal(zw_kube_lines_feed(&l, s + i, 1, take, &g), 0);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.lines[4], "y2");
	zw_kube_lines_free(&l);
}

static void lines_stop_and_bound(void **state)
{
	(void)state;
	struct zw_kube_lines l = ZW_KUBE_LINES_INIT;
	struct got g = {{{0}}, 0, 1};
	/* the consumer's stop comes back, and the rest is not delivered */
	assert_int_equal(zw_kube_lines_feed(&l, "a\nb\n", 4, take, &g), 7);
	assert_int_equal(g.n, 1);
	zw_kube_lines_free(&l);
	/* a line over the bound, whole or in pieces */
	struct zw_kube_lines m = ZW_KUBE_LINES_INIT;
	m.max = 8;
	g = (struct got){{{0}}, 0, 0};
	assert_int_equal(zw_kube_lines_feed(&m, "12345678\n", 9, take, &g), 0);
	assert_int_equal(zw_kube_lines_feed(&m, "12345", 5, take, &g), 0);
	assert_int_equal(zw_kube_lines_feed(&m, "6789", 4, take, &g), ZW_EINVAL);
	assert_int_equal(g.n, 1);
	zw_kube_lines_free(&m);
}

/* ---- events ----------------------------------------------------------------------------- */

static int decode(struct zw_kube_watch_event *ev, const char *line, struct zw_error *err)
{
	memset(err, 0, sizeof(*err));
	return zw_kube_watch_decode(ev, line, strlen(line), err);
}

static void events_decoded(void **state)
{
	(void)state;
	struct zw_kube_watch_event ev;
	struct zw_error err;
	assert_int_equal(
		decode(&ev,
		       "{\"type\":\"ADDED\",\"object\":{\"kind\":\"MailDomain\",\"metadata\":{\"name\":\"a\","
		       "\"namespace\":\"mail\",\"resourceVersion\":\"17\"}}}",
		       &err),
		0);
	assert_int_equal(ev.type, ZW_KUBE_W_ADDED);
	assert_string_equal(ev.key, "mail/a");
	assert_string_equal(ev.rv, "17");
	assert_non_null(cJSON_GetObjectItem(ev.object, "kind"));
	zw_kube_watch_event_free(&ev);
	/* cluster-scoped: the name alone */
	assert_int_equal(decode(&ev,
				"{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"n1\","
				"\"resourceVersion\":\"18\"}}}",
				&err),
			 0);
	assert_int_equal(ev.type, ZW_KUBE_W_DELETED);
	assert_string_equal(ev.key, "n1");
	zw_kube_watch_event_free(&ev);
	/* a bookmark carries only the resourceVersion */
	assert_int_equal(decode(&ev,
				"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"MailDomain\",\"metadata\":"
				"{\"resourceVersion\":\"12345\"}}}",
				&err),
			 0);
	assert_int_equal(ev.type, ZW_KUBE_W_BOOKMARK);
	assert_string_equal(ev.rv, "12345");
	assert_null(ev.key);
	zw_kube_watch_event_free(&ev);
}

static void error_events(void **state)
{
	(void)state;
	struct zw_kube_watch_event ev;
	struct zw_error err;
	/* what kube-apiserver 1.20 sends when the resourceVersion is too old */
	assert_int_equal(
		decode(&ev,
		       "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
		       "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 5 "
		       "(90)\",\"reason\":\"Expired\",\"code\":410}}",
		       &err),
		0);
	assert_int_equal(ev.type, ZW_KUBE_W_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.reason, "Expired");
	assert_string_equal(ev.message, "too old resource version: 5 (90)");
	assert_true(ev.expired);
	zw_kube_watch_event_free(&ev);
	/* the reason alone (Gone) also means expired */
	assert_int_equal(decode(&ev, "{\"type\":\"ERROR\",\"object\":{\"reason\":\"Gone\"}}", &err), 0);
	assert_true(ev.expired);
	assert_int_equal(ev.code, 0);
	zw_kube_watch_event_free(&ev);
	/* another error is not an expiry */
	assert_int_equal(decode(&ev,
				"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":"
				"\"InternalError\",\"code\":500}}",
				&err),
			 0);
	assert_false(ev.expired);
	assert_int_equal(ev.code, 500);
	zw_kube_watch_event_free(&ev);
}

static void bad_events(void **state)
{
	(void)state;
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{"{\"type\":\"ADDED\"", "not json"},
		{"{\"type\":\"RENAMED\",\"object\":{}}", "a watch event of unknown type"},
		{"{\"object\":{}}", "unknown type"},
		{"{\"type\":\"ADDED\",\"object\":[1]}", "without an object"},
		{"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}",
		 "without a resourceVersion"},
		{"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
		 "without a name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zw_kube_watch_event ev;
		struct zw_error err;
		int rc = decode(&ev, cases[i].line, &err);
		if (rc != ZW_EINVAL || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d: %s", i, rc, err.msg);
		assert_null(ev.root);
		assert_null(ev.key);
	}
}

/* ---- paths ------------------------------------------------------------------------------ */

static void paths(void **state)
{
	(void)state;
	char p[128];
	assert_int_equal(zw_kube_path(p, sizeof(p), "zonewarden.dev", "v1alpha1", "mail", "maildomains",
				      "example-com", "status"),
			 0);
	assert_string_equal(p,
			    "/apis/zonewarden.dev/v1alpha1/namespaces/mail/maildomains/example-com/status");
	assert_int_equal(
		zw_kube_path(p, sizeof(p), "zonewarden.dev", "v1alpha1", NULL, "maildomains", NULL, NULL), 0);
	assert_string_equal(p, "/apis/zonewarden.dev/v1alpha1/maildomains");
	assert_int_equal(zw_kube_path(p, sizeof(p), NULL, "v1", "ns", "secrets", "cf-token", NULL), 0);
	assert_string_equal(p, "/api/v1/namespaces/ns/secrets/cf-token");
	assert_int_equal(zw_kube_path(p, sizeof(p), "", "v1", NULL, "namespaces", NULL, NULL), 0);
	assert_string_equal(p, "/api/v1/namespaces");
	/* nothing that could change the path or the query */
	assert_int_equal(zw_kube_path(p, sizeof(p), NULL, "v1", "ns", "secrets", "../x", NULL), ZW_EINVAL);
	assert_int_equal(zw_kube_path(p, sizeof(p), NULL, "v1", "ns", "secrets", "a?watch=1", NULL),
			 ZW_EINVAL);
	assert_int_equal(zw_kube_path(p, sizeof(p), NULL, "v1", "", "secrets", "a", NULL), ZW_EINVAL);
	assert_int_equal(zw_kube_path(p, sizeof(p), NULL, "v1", "ns", "Secrets", "a", NULL), ZW_EINVAL);
	assert_int_equal(zw_kube_path(p, 10, NULL, "v1", "ns", "secrets", "a", NULL), ZW_EINVAL);

	char *w = zw_kube_watch_path("/apis/g/v1/things", "123", 300);
	assert_string_equal(
		w,
		"/apis/g/v1/things?watch=1&resourceVersion=123&allowWatchBookmarks=true&timeoutSeconds=300");
	zw_free(w);
	/* opaque resourceVersions are escaped; none: from "now" */
	w = zw_kube_watch_path("/api/v1/x", "a+b/c=", 5);
	assert_string_equal(
		w,
		"/api/v1/x?watch=1&resourceVersion=a%2Bb%2Fc%3D&allowWatchBookmarks=true&timeoutSeconds=5");
	zw_free(w);
	w = zw_kube_watch_path("/api/v1/x", "", 5);
	assert_string_equal(w, "/api/v1/x?watch=1&allowWatchBookmarks=true&timeoutSeconds=5");
	zw_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubeconfig_token),
		cmocka_unit_test(kubeconfig_token_file),
		cmocka_unit_test(kubeconfig_client_cert_data),
		cmocka_unit_test(kubeconfig_errors),
		cmocka_unit_test(kubeconfig_from_env),
		cmocka_unit_test(in_cluster),
		cmocka_unit_test(kubeconfig_alloc_failures),
		cmocka_unit_test(lines_split),
		cmocka_unit_test(lines_stop_and_bound),
		cmocka_unit_test(events_decoded),
		cmocka_unit_test(error_events),
		cmocka_unit_test(bad_events),
		cmocka_unit_test(paths),
	};
	return cmocka_run_group_tests_name("kube", tests, NULL, NULL);
}
