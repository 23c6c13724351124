/*
 * fuzz_spf.c - libFuzzer target for reconcile/spf.c.
 *
 * The whole input is parsed as one record: the parse must not crash, print() must give
 * the input back byte for byte, and a valid record's canonical form must parse as valid
 * and be a fixed point. Then the input is read as a tiny DNS world, one answer per line:
 * the first line is the TXT record of f.test, later lines are "name type data" (type one
 * of t a 6 m p, or s for SERVFAIL), and check_host runs on f.test three times: the static
 * walk, an IPv4 client and an IPv6 client.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "reconcile/alloc.h"
#include "reconcile/spf.h"

struct line {
	const char *name, *data;
	size_t name_len, data_len;
	char type;
};

struct world {
	struct line lines[64];
	size_t n;
};

static int query(void *ctx, const char *name, enum zw_spf_qtype type, struct zw_spf_answer *out, int *rcode)
{
	static const char types[] = {[ZW_SPF_QTXT] = 't',
				     [ZW_SPF_QA] = 'a',
				     [ZW_SPF_QAAAA] = '6',
				     [ZW_SPF_QMX] = 'm',
				     [ZW_SPF_QPTR] = 'p'};
	struct world *w = ctx;
	*rcode = 3;
	for (size_t i = 0; i < w->n; i++) {
		const struct line *l = &w->lines[i];
		if (l->name_len != strlen(name) || strncasecmp(l->name, name, l->name_len) != 0)
			continue;
		if (*rcode == 3)
			*rcode = 0;
		if (l->type == 's') {
			*rcode = 2;
			return 0;
		}
		if (l->type != types[type])
			continue;
		unsigned char ip[16];
		char tmp[64];
		size_t n = l->data_len < sizeof(tmp) - 1 ? l->data_len : sizeof(tmp) - 1;
		memcpy(tmp, l->data, n);
		tmp[n] = '\0';
		int rc;
		if (type == ZW_SPF_QA)
			rc = inet_pton(AF_INET, tmp, ip) == 1 ? zw_spf_answer_add(out, ip, 4) : 0;
		else if (type == ZW_SPF_QAAAA)
			rc = inet_pton(AF_INET6, tmp, ip) == 1 ? zw_spf_answer_add(out, ip, 16) : 0;
		else
			rc = zw_spf_answer_add(out, l->data, l->data_len);
		if (rc == ZW_ENOMEM)
			return rc;
	}
	return 0;
}

static void load_world(struct world *w, const char *s, size_t n)
{
	size_t i = 0;
	w->n = 0;
	while (i <= n && w->n < 64) {
		const char *ls = s + i;
		const char *nl = memchr(ls, '\n', n - i);
		size_t len = nl ? (size_t)(nl - ls) : n - i;
		struct line *l = &w->lines[w->n];
		if (w->n == 0) {
			l->name = "f.test";
			l->name_len = 6;
			l->type = 't';
			l->data = ls;
			l->data_len = len;
			w->n++;
		} else {
			const char *sp1 = memchr(ls, ' ', len);
			if (sp1 && (size_t)(sp1 - ls) + 3 <= len && sp1[2] == ' ') {
				l->name = ls;
				l->name_len = (size_t)(sp1 - ls);
				l->type = sp1[1];
				l->data = sp1 + 3;
				l->data_len = len - (size_t)(sp1 + 3 - ls);
				w->n++;
			}
		}
		if (!nl)
			break;
		i += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct zw_spf *spf = NULL;
	struct zw_findings fs = {0};
	struct zw_buf b = ZW_BUF_INIT;
	if (size > 8192)
		return 0;
	if (zw_spf_parse(&spf, s, size, &fs, NULL) == 0) {
		if (zw_spf_print(&b, spf) != 0 || b.len != size || (size && memcmp(b.p, s, size) != 0))
			abort();
		if (!spf->permerror) {
			struct zw_buf c = ZW_BUF_INIT, c2 = ZW_BUF_INIT;
			struct zw_spf *again = NULL;
			if (zw_spf_print_canonical(&c, spf) != 0)
				abort();
			if (zw_spf_parse(&again, c.p, c.len, NULL, NULL) != 0 || again->permerror)
				abort();
			if (zw_spf_print_canonical(&c2, again) != 0 || c.len != c2.len ||
			    memcmp(c.p, c2.p, c.len) != 0)
				abort();
			zw_spf_free(again);
			zw_buf_free(&c);
			zw_buf_free(&c2);
		}
	}
	zw_buf_free(&b);
	zw_spf_free(spf);
	zw_findings_free(&fs);

	struct world w;
	load_world(&w, s, size);
	struct zw_spf_dns dns = {.ctx = &w, .query = query};
	static const char *const ips[] = {NULL, "192.0.2.1", "2001:db8::1"};
	for (size_t i = 0; i < 3; i++) {
		struct zw_spf_eval_opts o = {
			.ip = ips[i], .sender = "a-b+c@f.test", .helo = "h.test", .now = 1};
		struct zw_spf_result res;
		struct zw_findings f2 = {0};
		if (zw_spf_evaluate(&res, "f.test", &dns, &o, &f2, NULL) == 0)
			zw_spf_result_free(&res);
		zw_findings_free(&f2);
	}
	return 0;
}
