/*
 * test_provider.c - unit tests of the provider registry: plugins with a wrong ABI, a
 * duplicate name or no entry symbol are refused with one clear line (and closed); a
 * good plugin loads; settings are checked against the option table before open; an
 * empty slot reads "not supported".
 */
#include "tests/unit/unit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "reconcile/provider.h"

/* A directory holding only the named test plugin (a symlink), for zw_registry_load_dir. */
static char *plugin_dir(const char *so)
{
	const char *base = getenv("ZW_TEST_PLUGINS");
	char tmpl[] = "/tmp/zw-plugins-XXXXXX", src[PATH_MAX], dst[PATH_MAX + 64], abs[PATH_MAX];
	assert_non_null(base);
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	snprintf(src, sizeof(src), "%s/%s", base, so);
	assert_non_null(realpath(src, abs));
	snprintf(dst, sizeof(dst), "%s/%s", dir, so);
	assert_int_equal(symlink(abs, dst), 0);
	return zw_strdup(dir);
}

static void remove_dir(char *dir, const char *so)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, so);
	unlink(p);
	rmdir(dir);
	zw_free(dir);
}

static void load_expect(const char *so, int rc, const char *msg_part)
{
	struct zw_registry *reg = NULL;
	struct zw_error err = {0};
	char *dir = plugin_dir(so);
	assert_int_equal(zw_registry_new(&reg, &err), 0);
	assert_int_equal(zw_registry_load_dir(reg, dir, &err), rc);
	if (msg_part && !strstr(err.msg, msg_part))
		fail_msg("'%s' does not say '%s'", err.msg, msg_part);
	if (msg_part)
		assert_null(strchr(err.msg, '\n'));
	zw_registry_free(reg);
	remove_dir(dir, so);
}

static void refuses_bad_plugins(void **state)
{
	(void)state;
	load_expect("wrong_abi.so", ZW_EINVAL, "provider ABI version 3, zonewarden speaks 2");
	load_expect("dup_rfc2136.so", ZW_EINVAL, "a provider named 'rfc2136' is already loaded (built in)");
	load_expect("no_entry.so", ZW_EINVAL, "no zw_provider_entry symbol: not a zonewarden provider");
	struct zw_registry *reg = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_registry_new(&reg, &err), 0);
	assert_int_equal(zw_registry_load_dir(reg, "/nonexistent/plugins", &err), ZW_EIO);
	assert_non_null(strstr(err.msg, "--plugin-dir /nonexistent/plugins"));
	zw_registry_free(reg);
}

static void loads_a_good_plugin_and_checks_settings(void **state)
{
	(void)state;
	struct zw_registry *reg = NULL;
	struct zw_conn *c = NULL;
	struct zw_error err = {0};
	char *dir = plugin_dir("hello.so");
	assert_int_equal(zw_registry_new(&reg, &err), 0);
	assert_int_equal(zw_registry_load_dir(reg, dir, &err), 0);
	const struct zw_provider *p = zw_registry_find(reg, "hello");
	assert_non_null(p);
	assert_non_null(zw_registry_find(reg, "rfc2136"));

	struct zw_kv bad_key[] = {{"greting", "hi", {"m.yaml", 7, 5}}, {"endpoint", "x", {"m.yaml", 8, 5}}};
	assert_int_equal(zw_conn_open(&c, reg, p, bad_key, 2, &err), ZW_EINVAL);
	assert_string_equal(err.path, "greting");
	assert_int_equal(err.line, 7);
	zw_error_clear(&err);
	struct zw_kv bad_int[] = {{"times", "4", {"m.yaml", 9, 12}}, {"endpoint", "x", {"m.yaml", 8, 5}}};
	assert_int_equal(zw_conn_open(&c, reg, p, bad_int, 2, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "not an integer in 1..3"));
	zw_error_clear(&err);
	assert_int_equal(zw_conn_open(&c, reg, p, NULL, 0, &err), ZW_EINVAL);
	assert_non_null(strstr(err.msg, "missing required setting 'endpoint'"));
	zw_error_clear(&err);

	struct zw_kv good[] = {{"endpoint", "https://example.net", {"m.yaml", 8, 5}}};
	assert_int_equal(zw_conn_open(&c, reg, p, good, 1, &err), 0);
	char *apex = NULL, *id = NULL;
	assert_int_equal(zw_conn_find_zone(c, "example.com", &apex, &id, &err), ZW_EUNSUPPORTED);
	assert_string_equal(err.msg, "provider hello does not support finding zones");
	zw_conn_close(c);
	zw_registry_free(reg);
	remove_dir(dir, "hello.so");
}

/* A provider that uses the HTTP the core lends it. */
static int lender_open(void **state, const struct zw_prov_host *host, const struct zw_prov_settings *s,
		       struct zw_prov_error *err)
{
	(void)s;
	(void)err;
	*state = (void *)host;
	return 0;
}

static int lender_find_zone(void *state, const char *domain, int (*emit)(void *, const char *, const char *),
			    void *ctx, struct zw_prov_error *err)
{
	const struct zw_prov_host *host = state;
	const struct zw_prov_http *http = host->http;
	struct zw_prov_http_resp resp;
	(void)domain;
	(void)emit;
	(void)ctx;
	if (!http || http->status_error(404) != ZW_PROV_ENOTFOUND || http->status_error(429) != ZW_PROV_ERATE)
		return ZW_PROV_EINVAL;
	if (http->budget(http->ctx, "acct", 100, 1000, 10, err) || http->secret(http->ctx, "s3cr3t-token", err))
		return ZW_PROV_EINVAL;
	/* nothing listens on port 1: the core reports a transport failure, never aborts */
	struct zw_prov_http_req req = {.method = "GET", .url = "http://127.0.0.1:1/zones?token=s3cr3t-token",
				       .account = "acct"};
	int rc = http->request(http->ctx, &req, &resp, err);
	int body_ok = resp.body && resp.body[0] == '\0' && resp.status == 0;
	http->release(http->ctx, &resp);
	if (!body_ok || resp.impl)
		return ZW_PROV_EINVAL;
	return rc;
}

static const struct zw_provider lender = {
	.abi = ZW_PROVIDER_ABI, .name = "lender", .open = lender_open, .find_zone = lender_find_zone,
};

static void lends_http_to_providers(void **state)
{
	(void)state;
	struct zw_registry *reg = NULL;
	struct zw_conn *c = NULL;
	struct zw_error err = {0};
	char *apex = NULL, *id = NULL;
	assert_int_equal(zw_registry_new(&reg, &err), 0);
	assert_int_equal(zw_registry_add(reg, &lender, "test", &err), 0);
	assert_int_equal(zw_conn_open(&c, reg, &lender, NULL, 0, &err), 0);
	assert_int_equal(zw_conn_find_zone(c, "example.com", &apex, &id, &err), ZW_ETRANSIENT);
	assert_null(strstr(err.msg, "s3cr3t-token")); /* a registered secret never reaches a message */
	zw_conn_close(c);
	zw_registry_free(reg);
}

static const struct zw_provider twin = {.abi = ZW_PROVIDER_ABI, .name = "twin"};
static const struct zw_provider unnamed = {.abi = ZW_PROVIDER_ABI, .name = ""};

static void registry_rules(void **state)
{
	(void)state;
	struct zw_registry *reg = NULL;
	struct zw_error err = {0};
	assert_int_equal(zw_registry_new(&reg, &err), 0);
	assert_int_equal(zw_registry_add(reg, &twin, "test", &err), 0);
	assert_int_equal(zw_registry_add(reg, &twin, "again", &err), ZW_EINVAL);
	zw_error_clear(&err);
	assert_int_equal(zw_registry_add(reg, &unnamed, "test", &err), ZW_EINVAL);
	zw_error_clear(&err);
	assert_int_equal(zw_registry_add(reg, NULL, "test", &err), ZW_EINVAL);
	zw_registry_free(reg);
	zw_registry_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_bad_plugins),
		cmocka_unit_test(loads_a_good_plugin_and_checks_settings),
		cmocka_unit_test(registry_rules),
		cmocka_unit_test(lends_http_to_providers),
	};
	return cmocka_run_group_tests_name("provider", tests, NULL, NULL);
}
