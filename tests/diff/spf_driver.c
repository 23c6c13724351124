/*
 * spf_driver.c - our side of the SPF differential test (tests/diff/spf.test).
 *
 *   spf_driver parse   one record per stdin line; prints "none" (not selected as SPF,
 *                      §4.5), "permerror" (a syntax error, §4.6) or "valid", then the ids
 *                      of the parse findings.
 *   spf_driver eval    a DNS world script on stdin:
 *                        rr NAME TYPE DATA   TYPE is TXT A AAAA MX PTR or SERVFAIL
 *                        check DOMAIN IP     IP "-" runs the static walk
 *                        reset               empties the world
 *                      prints "<verdict> <lookups> <voids>" per check.
 * The same script is fed to pyspf through a DNSLookup stub, so both see one world.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/alloc.h"
#include "reconcile/spf.h"

struct rr {
	char *name, *data;
	enum zw_spf_qtype type;
	int servfail;
};

struct world {
	struct rr *v;
	size_t n, cap;
};

static int query(void *ctx, const char *name, enum zw_spf_qtype type, struct zw_spf_answer *out, int *rcode)
{
	struct world *w = ctx;
	*rcode = 3;
	for (size_t i = 0; i < w->n; i++) {
		const struct rr *r = &w->v[i];
		if (strcasecmp(r->name, name) != 0)
			continue;
		if (r->servfail) {
			*rcode = 2;
			return 0;
		}
		*rcode = 0;
		if (r->type != type)
			continue;
		unsigned char ip[16];
		int rc = 0;
		if (type == ZW_SPF_QA && inet_pton(AF_INET, r->data, ip) == 1)
			rc = zw_spf_answer_add(out, ip, 4);
		else if (type == ZW_SPF_QAAAA && inet_pton(AF_INET6, r->data, ip) == 1)
			rc = zw_spf_answer_add(out, ip, 16);
		else if (type != ZW_SPF_QA && type != ZW_SPF_QAAAA)
			rc = zw_spf_answer_add(out, r->data, strlen(r->data));
		if (rc)
			return rc;
	}
	return 0;
}

static const struct {
	const char *name;
	enum zw_spf_qtype type;
	int servfail;
} types[] = {
	{"TXT", ZW_SPF_QTXT, 0}, {"A", ZW_SPF_QA, 0},	  {"AAAA", ZW_SPF_QAAAA, 0},
	{"MX", ZW_SPF_QMX, 0},	 {"PTR", ZW_SPF_QPTR, 0}, {"SERVFAIL", ZW_SPF_QTXT, 1},
};

static void world_reset(struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		zw_free(w->v[i].name);
		zw_free(w->v[i].data);
	}
	w->n = 0;
}

static int world_add(struct world *w, char *line)
{
	char *save = NULL, *name = strtok_r(line, " ", &save), *type = strtok_r(NULL, " ", &save);
	char *data = save ? save : "";
	if (!name || !type)
		return -1;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct rr *v = zw_realloc(w->v, cap * sizeof(*v));
		if (!v)
			return -1;
		w->v = v;
		w->cap = cap;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i].name, type) == 0) {
			struct rr *r = &w->v[w->n++];
			r->name = zw_strdup(name);
			r->data = zw_strdup(data);
			r->type = types[i].type;
			r->servfail = types[i].servfail;
			return r->name && r->data ? 0 : -1;
		}
	}
	return -1;
}

static int cmd_parse(void)
{
	char line[8192];
	while (fgets(line, sizeof(line), stdin)) {
		size_t n = strcspn(line, "\n");
		struct zw_spf *spf;
		struct zw_findings fs = {0};
		if (zw_spf_parse(&spf, line, n, &fs, NULL))
			return 1;
		fputs(!zw_spf_is_record(line, n) ? "none" : spf->permerror ? "permerror" : "valid", stdout);
		for (size_t i = 0; i < fs.n; i++)
			printf(" %s", fs.v[i].cls->id);
		putchar('\n');
		zw_spf_free(spf);
		zw_findings_free(&fs);
	}
	return 0;
}

static int cmd_eval(void)
{
	struct world w = {0};
	char line[8192];
	int rc = 0;
	struct zw_spf_dns dns = {.ctx = &w, .query = query};
	while (!rc && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "rr ", 3) == 0) {
			rc = world_add(&w, line + 3);
		} else if (strcmp(line, "reset") == 0) {
			world_reset(&w);
		} else if (strncmp(line, "check ", 6) == 0) {
			char *save = NULL, *dom = strtok_r(line + 6, " ", &save);
			char *ip = strtok_r(NULL, " ", &save);
			char sender[300];
			snprintf(sender, sizeof(sender), "user@%s", dom ? dom : "");
			struct zw_spf_eval_opts o = {.ip = ip && strcmp(ip, "-") ? ip : NULL,
						     .sender = sender,
						     .helo = "helo.example",
						     .now = 1};
			struct zw_spf_result res;
			if (!dom || zw_spf_evaluate(&res, dom, &dns, &o, NULL, NULL)) {
				rc = 1;
				break;
			}
			printf("%s %d %d\n", zw_spf_verdict_name(res.verdict), res.lookups, res.void_lookups);
			zw_spf_result_free(&res);
		} else if (line[0] && line[0] != '#') {
			rc = 1;
		}
	}
	world_reset(&w);
	zw_free(w.v);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "parse") == 0)
		return cmd_parse();
	if (argc == 2 && strcmp(argv[1], "eval") == 0)
		return cmd_eval();
	fprintf(stderr, "usage: spf_driver parse|eval < input\n");
	return 2;
}
