/*
 * fuzz_mailauth.c - libFuzzer target for reconcile/mailauth.c's diagnosis over answers
 * it does not control: the input's lines are the apex TXT, the _dmarc TXT, the TXT of
 * selector s1 (reached through a CNAME when line 3 is not empty: its target), then
 * "name value" lines giving the TXT of other names (include targets, report
 * authorisation names). Every other name answers NXDOMAIN for A, AAAA and MX. The org
 * domain rule and the report-authorisation decision also get the raw lines.
 * Invariants: no crash, no leak, and every finding has a class, a domain and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/mailauth.h"

#define MAXL 24

struct world {
	struct zw_obs obs;
	struct zw_obs_question q[MAXL * 4];
	struct zw_rr rr[MAXL + 2];
	size_t lens[MAXL + 2];
	char names[MAXL][300];
};

static void add_txt(struct world *w, size_t *nrr, const char *name, const char *v, size_t vl)
{
	struct zw_obs_question *q = &w->q[w->obs.n_questions++];
	memset(q, 0, sizeof(*q));
	q->name = q->resolved.name = (char *)name;
	q->type = q->resolved.type = 16;
	if (vl == 0) {
		q->resolved.ans.kind = ZW_OBS_NXDOMAIN;
		return;
	}
	struct zw_rr *rr = &w->rr[*nrr];
	memset(rr, 0, sizeof(*rr));
	rr->type = 16;
	rr->owner = (char *)name;
	rr->txt.data = (char *)v;
	rr->txt.len = vl;
	w->lens[*nrr] = vl;
	rr->txt.lens = &w->lens[*nrr];
	rr->txt.n = 1;
	(*nrr)++;
	q->resolved.ans.kind = ZW_OBS_DATA;
	q->resolved.ans.rrs = rr;
	q->resolved.ans.n_rrs = 1;
}

static void add_void(struct world *w, const char *name, uint16_t type)
{
	struct zw_obs_question *q = &w->q[w->obs.n_questions++];
	memset(q, 0, sizeof(*q));
	q->name = q->resolved.name = (char *)name;
	q->type = q->resolved.type = type;
	q->resolved.ans.kind = ZW_OBS_NXDOMAIN;
	q->resolved.ans.rcode = 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	char *buf = zw_malloc(size + 1);
	const char *line[MAXL];
	size_t len[MAXL], n = 0, nrr = 0;
	struct zw_rr cn;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0, s = 0; i <= size && n < MAXL; i++) {
		if (i == size || buf[i] == '\n') {
			line[n] = buf + s;
			len[n++] = i - s;
			s = i + 1;
		}
	}
	while (n < 4) {
		line[n] = "";
		len[n++] = 0;
	}
	memset(&w.obs, 0, sizeof(w.obs));
	w.obs.questions = w.q;
	add_txt(&w, &nrr, "example.com.", line[0], len[0]);
	add_txt(&w, &nrr, "_dmarc.example.com.", line[1], len[1]);
	add_txt(&w, &nrr, "s1._domainkey.example.com.", line[2], len[2]);
	if (len[3] && len[3] < 250) {
		memset(&cn, 0, sizeof(cn));
		memcpy(w.names[0], line[3], len[3]);
		w.names[0][len[3]] = '\0';
		cn.type = 5;
		cn.owner = "s1._domainkey.example.com.";
		cn.target = w.names[0];
		w.q[2].resolved.ans.cnames = &cn;
		w.q[2].resolved.ans.n_cnames = 1;
	}
	for (size_t i = 4; i < n; i++) {
		const char *sp = memchr(line[i], ' ', len[i]);
		size_t nl = sp ? (size_t)(sp - line[i]) : len[i];
		if (nl == 0 || nl >= 250)
			continue;
		memcpy(w.names[i], line[i], nl);
		w.names[i][nl] = '\0';
		add_txt(&w, &nrr, w.names[i], sp ? sp + 1 : "", sp ? len[i] - nl - 1 : 0);
		add_void(&w, w.names[i], 1);
		add_void(&w, w.names[i], 28);
		add_void(&w, w.names[i], 15);
	}

	char org[300];
	for (size_t i = 0; i < n; i++) {
		char name[300];
		size_t l = len[i] < sizeof(name) - 1 ? len[i] : sizeof(name) - 1;
		memcpy(name, line[i], l);
		name[l] = '\0';
		(void)zw_mailauth_org_domain(org, sizeof(org), name);
	}
	(void)zw_mailauth_report_auth(line, len, n / 2, line + n / 2, len + n / 2, n - n / 2, (int)(size & 1));

	const char *sels[] = {"s1"};
	struct zw_mailauth *m = NULL;
	struct zw_findings fs = {0};
	struct zw_spf_result res;
	if (zw_mailauth_new(&m, "example.com", NULL, sels, 1, NULL) == 0) {
		if (zw_mailauth_spf_result(&res, NULL, m, &w.obs, NULL) == 0)
			zw_spf_result_free(&res);
		if (zw_mailauth_diagnose(&fs, m, &w.obs, NULL) == 0)
			for (size_t i = 0; i < fs.n; i++)
				if (!fs.v[i].cls || !fs.v[i].domain || !fs.v[i].message)
					abort();
		zw_mailauth_dedupe(&fs, 0, fs.n / 2);
		zw_findings_free(&fs);
		zw_mailauth_free(m);
	}
	zw_free(buf);
	return 0;
}
