/*
 * roothints.c - the root hints: IANA's named.root built in, or a hints file.
 *
 * Owns: struct zw_roothints (names and addresses, zw_malloc'd), freed with
 * zw_roothints_free(). Both the built-in text and a file are parsed by ldns's zone-file
 * reader, so a test world's hints file and IANA's file are read the same way.
 * Invariant: a returned set has at least one name, and every name at least one address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/resolve.h"

#define MAX_HINT_RECORDS 4096
#define MAX_HINT_NAMES	 64

/* https://www.internic.net/domain/named.root, "last update: April 18, 2024". */
static const char builtin_hints[] = ". 3600000 NS A.ROOT-SERVERS.NET.\n"
				    "A.ROOT-SERVERS.NET. 3600000 A 198.41.0.4\n"
				    "A.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:ba3e::2:30\n"
				    ". 3600000 NS B.ROOT-SERVERS.NET.\n"
				    "B.ROOT-SERVERS.NET. 3600000 A 170.247.170.2\n"
				    "B.ROOT-SERVERS.NET. 3600000 AAAA 2801:1b8:10::b\n"
				    ". 3600000 NS C.ROOT-SERVERS.NET.\n"
				    "C.ROOT-SERVERS.NET. 3600000 A 192.33.4.12\n"
				    "C.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2::c\n"
				    ". 3600000 NS D.ROOT-SERVERS.NET.\n"
				    "D.ROOT-SERVERS.NET. 3600000 A 199.7.91.13\n"
				    "D.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2d::d\n"
				    ". 3600000 NS E.ROOT-SERVERS.NET.\n"
				    "E.ROOT-SERVERS.NET. 3600000 A 192.203.230.10\n"
				    "E.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:a8::e\n"
				    ". 3600000 NS F.ROOT-SERVERS.NET.\n"
				    "F.ROOT-SERVERS.NET. 3600000 A 192.5.5.241\n"
				    "F.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:2f::f\n"
				    ". 3600000 NS G.ROOT-SERVERS.NET.\n"
				    "G.ROOT-SERVERS.NET. 3600000 A 192.112.36.4\n"
				    "G.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:12::d0d\n"
				    ". 3600000 NS H.ROOT-SERVERS.NET.\n"
				    "H.ROOT-SERVERS.NET. 3600000 A 198.97.190.53\n"
				    "H.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:1::53\n"
				    ". 3600000 NS I.ROOT-SERVERS.NET.\n"
				    "I.ROOT-SERVERS.NET. 3600000 A 192.36.148.17\n"
				    "I.ROOT-SERVERS.NET. 3600000 AAAA 2001:7fe::53\n"
				    ". 3600000 NS J.ROOT-SERVERS.NET.\n"
				    "J.ROOT-SERVERS.NET. 3600000 A 192.58.128.30\n"
				    "J.ROOT-SERVERS.NET. 3600000 AAAA 2001:503:c27::2:30\n"
				    ". 3600000 NS K.ROOT-SERVERS.NET.\n"
				    "K.ROOT-SERVERS.NET. 3600000 A 193.0.14.129\n"
				    "K.ROOT-SERVERS.NET. 3600000 AAAA 2001:7fd::1\n"
				    ". 3600000 NS L.ROOT-SERVERS.NET.\n"
				    "L.ROOT-SERVERS.NET. 3600000 A 199.7.83.42\n"
				    "L.ROOT-SERVERS.NET. 3600000 AAAA 2001:500:9f::42\n"
				    ". 3600000 NS M.ROOT-SERVERS.NET.\n"
				    "M.ROOT-SERVERS.NET. 3600000 A 202.12.27.33\n"
				    "M.ROOT-SERVERS.NET. 3600000 AAAA 2001:dc3::35\n";

struct hint_build {
	struct zw_roothints *h;
	size_t cap;
};

static struct zw_roothint *find_name(struct zw_roothints *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0)
			return &h->v[i];
	return NULL;
}

static int add_name(struct hint_build *b, char *name)
{
	struct zw_roothints *h = b->h;

	if (find_name(h, name)) {
		zw_free(name);
		return 0;
	}
	if (h->n == MAX_HINT_NAMES) {
		zw_free(name);
		return ZW_EINVAL;
	}
	if (h->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct zw_roothint *v = zw_realloc(h->v, cap * sizeof(*v));
		if (!v) {
			zw_free(name);
			return ZW_ENOMEM;
		}
		h->v = v;
		b->cap = cap;
	}
	memset(&h->v[h->n], 0, sizeof(h->v[h->n]));
	h->v[h->n++].name = name;
	return 0;
}

static int add_addr(struct zw_roothint *hint, const struct zw_dns_addr *a)
{
	for (size_t i = 0; i < hint->n_addrs; i++)
		if (zw_dns_addr_cmp(&hint->addrs[i], a) == 0)
			return 0;
	if (hint->n_addrs == MAX_HINT_NAMES)
		return 0;
	struct zw_dns_addr *v = zw_realloc(hint->addrs, (hint->n_addrs + 1) * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	hint->addrs = v;
	hint->addrs[hint->n_addrs++] = *a;
	return 0;
}

void zw_roothints_free(struct zw_roothints *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		zw_free(h->v[i].name);
		zw_free(h->v[i].addrs);
	}
	zw_free(h->v);
	zw_free(h);
}

/*
 * Two passes over the records: the NS names at the root first, then their addresses
 * (a hints file may list them in any order). `recs` holds the parsed records.
 */
static int collect(struct hint_build *b, ldns_rr_list *recs, const char *what, struct zw_error *err)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(recs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(recs, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_dname_label_count(ldns_rr_owner(rr)) != 0)
			continue;
		char *name = zw_dns_dname_str(ldns_rr_rdf(rr, 0));
		if (!name)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		int rc = add_name(b, name);
		if (rc == ZW_EINVAL)
			return zw_error_set(err, rc, "%s: more than %d root server names", what,
					    MAX_HINT_NAMES);
		if (rc)
			return zw_error_set(err, rc, "out of memory");
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(recs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(recs, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		struct zw_dns_addr a;
		if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) || !rd ||
		    zw_dns_addr_from_rdata(&a, ldns_rdf_data(rd), ldns_rdf_size(rd)) < 0)
			continue;
		char *owner = zw_dns_dname_str(ldns_rr_owner(rr));
		if (!owner)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
		struct zw_roothint *hint = find_name(b->h, owner);
		zw_free(owner);
		if (hint && add_addr(hint, &a) < 0)
			return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	/* Drop names without an address: nothing can reach them. */
	size_t kept = 0;
	for (size_t i = 0; i < b->h->n; i++) {
		if (b->h->v[i].n_addrs == 0) {
			zw_free(b->h->v[i].name);
			zw_free(b->h->v[i].addrs);
			continue;
		}
		b->h->v[kept++] = b->h->v[i];
	}
	b->h->n = kept;
	if (kept == 0)
		return zw_error_set(err, ZW_EINVAL, "%s: no root server with an address", what);
	return 0;
}

static int parse_fp(struct zw_roothints **out, FILE *fp, const char *what, struct zw_error *err)
{
	struct hint_build b = {0};
	ldns_rr_list *recs = ldns_rr_list_new();
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line = 1, rc = 0;

	*out = NULL;
	b.h = zw_calloc(1, sizeof(*b.h));
	if (!b.h || !recs) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	origin = ldns_dname_new_frm_str(".");
	if (!origin) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	while (!feof(fp)) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			/* ldns has read the record's newline: its line is the one before */
			rc = zw_error_set_at(err, ZW_EINVAL, what, (unsigned)(line > 1 ? line - 1 : line), 0,
					     "", "bad root hints record: %s", ldns_get_errorstr_by_id(st));
			goto out;
		}
		if (ldns_rr_list_rr_count(recs) == MAX_HINT_RECORDS || !ldns_rr_list_push_rr(recs, rr)) {
			ldns_rr_free(rr);
			/* ldns has read the record's newline: its line is the one before */
			rc = zw_error_set_at(err, ZW_EINVAL, what, (unsigned)(line > 1 ? line - 1 : line), 0,
					     "", "more than %d records in root hints", MAX_HINT_RECORDS);
			goto out;
		}
	}
	rc = collect(&b, recs, what, err);
out:
	ldns_rr_list_deep_free(recs);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	if (rc) {
		zw_roothints_free(b.h);
		return rc;
	}
	*out = b.h;
	return 0;
}

int zw_roothints_builtin(struct zw_roothints **out, struct zw_error *err)
{
	FILE *fp = fmemopen((void *)builtin_hints, sizeof(builtin_hints) - 1, "r");
	if (!fp) {
		*out = NULL;
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	int rc = parse_fp(out, fp, "built-in root hints", err);
	fclose(fp);
	return rc;
}

int zw_roothints_load(struct zw_roothints **out, const char *path, struct zw_error *err)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		*out = NULL;
		return zw_error_set(err, ZW_EIO, "cannot open root hints '%s': %s", path, strerror(errno));
	}
	int rc = parse_fp(out, fp, path, err);
	fclose(fp);
	return rc;
}

int zw_roothints_select(struct zw_roothints **out, const char *path, struct zw_error *err)
{
	if (path)
		return zw_roothints_load(out, path, err);
	const char *env = getenv(ZW_ROOT_HINTS_ENV);
	if (env && *env)
		return zw_roothints_load(out, env, err);
	return zw_roothints_builtin(out, err);
}
