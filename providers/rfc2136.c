/*
 * rfc2136.c - the RFC 2136 provider: dynamic updates with TSIG to any standard server
 * (Knot, BIND, PowerDNS), on ldns.
 *
 * list: AXFR with TSIG. apply: one UPDATE message per zone, so the whole changeset is
 * atomic, carrying prerequisites (RFC 2136 §2.4): an UPDATE or DELETE requires the rrset
 * to hold exactly the records the plan saw ("value dependent"), a CREATE requires it to
 * be absent; a change made by someone else between plan and apply makes the server
 * refuse the whole message (YXRRSET/NXRRSET) and nothing is written. nameservers: the
 * zone's apex NS, as the server answers them.
 *
 * The TSIG secret (base64) comes from tsigSecretFile or $ZONEWARDEN_TSIG_SECRET, never
 * from the manifest, and is never logged. Includes only providers/provider.h and ldns.
 * Owns: its state (the ldns resolver and the key), freed in rfc2136_close.
 */
#include <errno.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/provider.h"

#define SECRET_ENV "ZONEWARDEN_TSIG_SECRET"
#define MAX_SECRET 512

struct rfc2136 {
	const struct zw_prov_host *host;
	ldns_resolver *res;
	char server[64];
	int port;
};

static const struct zw_prov_option rfc2136_options[] = {
	{"server", ZW_POPT_STRING, NULL, 0, 0, 1},
	{"port", ZW_POPT_INT, "53", 1, 65535, 0},
	{"tsigKeyName", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"tsigAlgorithm", ZW_POPT_STRING, "hmac-sha256", 0, 0, 0},
	{"tsigSecretFile", ZW_POPT_PATH, NULL, 0, 0, 0},
	{NULL, ZW_POPT_STRING, NULL, 0, 0, 0},
};

/* The port setting, already checked by the core against the option table (1..65535). */
static int atoi_bounded(const char *s)
{
	long v = s ? strtol(s, NULL, 10) : 53;
	return v >= 1 && v <= 65535 ? (int)v : 53;
}

/* Read the base64 secret (trimmed) from the file, else the environment. */
static int read_secret(char *out, size_t outsz, const char *path, struct zw_prov_error *err)
{
	size_t n = 0;
	if (path) {
		FILE *f = fopen(path, "r");
		if (!f)
			return zw_prov_fail(err, ZW_PROV_EAUTH, "tsigSecretFile %s: %s", path,
					    strerror(errno));
		n = fread(out, 1, outsz - 1, f);
		fclose(f);
	} else {
		const char *env = getenv(SECRET_ENV);
		if (!env || !*env)
			return zw_prov_fail(err, ZW_PROV_EAUTH,
					    "tsigKeyName is set but no secret: give tsigSecretFile or set %s",
					    SECRET_ENV);
		n = strlen(env) < outsz - 1 ? strlen(env) : outsz - 1;
		memcpy(out, env, n);
	}
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (n == 0)
		return zw_prov_fail(err, ZW_PROV_EAUTH, "the tsig secret is empty");
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", out[i]))
			return zw_prov_fail(err, ZW_PROV_EAUTH, "the tsig secret is not base64");
	return 0;
}

static int rfc2136_open(void **state, const struct zw_prov_host *host, const struct zw_prov_settings *s,
			struct zw_prov_error *err)
{
	const char *server = s->get(s, "server"), *keyname = s->get(s, "tsigKeyName");
	const char *alg = s->get(s, "tsigAlgorithm");
	char secret[MAX_SECRET];
	ldns_rdf *addr = NULL;
	int rc;

	*state = NULL;
	if (!(addr = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, server)) &&
	    !(addr = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, server)))
		return zw_prov_fail(err, ZW_PROV_EINVAL, "server '%s' is not an ip address", server);
	struct rfc2136 *r = host->alloc(sizeof(*r));
	if (!r) {
		ldns_rdf_deep_free(addr);
		return zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
	}
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->port = atoi_bounded(s->get(s, "port"));
	snprintf(r->server, sizeof(r->server), "%s", server);
	if (!(r->res = ldns_resolver_new()) ||
	    ldns_resolver_push_nameserver(r->res, addr) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(addr);
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto bad;
	}
	ldns_rdf_deep_free(addr);
	ldns_resolver_set_port(r->res, (uint16_t)r->port);
	ldns_resolver_set_recursive(r->res, false);
	ldns_resolver_set_retry(r->res, 2);
	ldns_resolver_set_timeout(r->res, (struct timeval){3, 0});
	ldns_resolver_set_edns_udp_size(r->res, 1232);
	if (keyname) {
		char algname[64];
		if ((rc = read_secret(secret, sizeof(secret), s->get(s, "tsigSecretFile"), err)))
			goto bad;
		snprintf(algname, sizeof(algname), "%s.", alg);
		ldns_resolver_set_tsig_keyname(r->res, keyname);
		ldns_resolver_set_tsig_algorithm(r->res, algname);
		ldns_resolver_set_tsig_keydata(r->res, secret);
		memset(secret, 0, sizeof(secret));
	}
	*state = r;
	return 0;
bad:
	if (r->res)
		ldns_resolver_deep_free(r->res);
	host->free(r);
	return rc;
}

static void rfc2136_close(void *state)
{
	struct rfc2136 *r = state;
	if (!r)
		return;
	ldns_resolver_deep_free(r->res);
	r->host->free(r);
}

/* Ask the server one question; the answer packet or NULL with err set. */
static ldns_pkt *ask(struct rfc2136 *r, const char *name, ldns_rr_type type, struct zw_prov_error *err)
{
	ldns_rdf *dname = ldns_dname_new_frm_str(name);
	ldns_pkt *pkt = NULL;
	if (!dname) {
		zw_prov_fail(err, ZW_PROV_EINVAL, "invalid name '%s'", name);
		return NULL;
	}
	ldns_status st = ldns_resolver_send(&pkt, r->res, dname, type, LDNS_RR_CLASS_IN, 0);
	ldns_rdf_deep_free(dname);
	if (st != LDNS_STATUS_OK || !pkt) {
		ldns_pkt_free(pkt);
		zw_prov_fail(err, ZW_PROV_ETRANSIENT, "%s port %d: %s", r->server, r->port,
			     ldns_get_errorstr_by_id(st));
		return NULL;
	}
	return pkt;
}

static void dname_text(char *out, size_t outsz, const ldns_rdf *d)
{
	char *s = ldns_rdf2str(d);
	snprintf(out, outsz, "%s", s ? s : "");
	LDNS_FREE(s);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/* The zone holding `domain`: the SOA in the answer (the domain is an apex) or in the
 * authority section (the domain is below one). */
static int rfc2136_find_zone(void *state, const char *domain, int (*emit)(void *, const char *, const char *),
			     void *ctx, struct zw_prov_error *err)
{
	struct rfc2136 *r = state;
	char name[512], zone[512];
	snprintf(name, sizeof(name), "%s%s", domain,
		 domain[0] && domain[strlen(domain) - 1] == '.' ? "" : ".");
	ldns_pkt *pkt = ask(r, name, LDNS_RR_TYPE_SOA, err);
	if (!pkt)
		return err->code;
	int rc = 0;
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt);
	ldns_rr_list *soa = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_SOA, LDNS_SECTION_ANSWER);
	if (!soa)
		soa = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY);
	if (!ldns_pkt_aa(pkt) || !soa || (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN)) {
		rc = zw_prov_fail(err, ZW_PROV_ENOTFOUND, "%s is not authoritative for %s (rcode %d)",
				  r->server, domain, (int)rcode);
	} else {
		dname_text(zone, sizeof(zone), ldns_rr_owner(ldns_rr_list_rr(soa, 0)));
		rc = emit(ctx, zone, zone);
	}
	ldns_rr_list_deep_free(soa);
	ldns_pkt_free(pkt);
	return rc;
}

static int rfc2136_nameservers(void *state, const char *zone_id, int (*emit)(void *, const char *), void *ctx,
			       struct zw_prov_error *err)
{
	struct rfc2136 *r = state;
	char ns[512];
	ldns_pkt *pkt = ask(r, zone_id, LDNS_RR_TYPE_NS, err);
	if (!pkt)
		return err->code;
	ldns_rr_list *l = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_NS, LDNS_SECTION_ANSWER);
	int rc = 0;
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l) && rc == 0; i++) {
		dname_text(ns, sizeof(ns), ldns_rr_rdf(ldns_rr_list_rr(l, i), 0));
		rc = emit(ctx, ns);
	}
	if (rc == 0 && !l)
		rc = zw_prov_fail(err, ZW_PROV_ENOTFOUND, "%s gives no NS for %s", r->server, zone_id);
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(pkt);
	return rc;
}

/* One AXFR record into the ABI's rrset shape (one record per emit: the core merges). */
static int emit_rr(const ldns_rr *rr, int (*emit)(void *, const struct zw_prov_rrset *), void *ctx)
{
	char owner[512];
	struct zw_prov_rdata rd = {0};
	char data[65536];
	size_t lens[256];
	char target[512];
	char *exported = NULL;
	dname_text(owner, sizeof(owner), ldns_rr_owner(rr));
	ldns_rr_type t = ldns_rr_get_type(rr);
	if (t == LDNS_RR_TYPE_TXT || t == LDNS_RR_TYPE_SPF) {
		size_t n = ldns_rr_rd_count(rr) < 256 ? ldns_rr_rd_count(rr) : 256, len = 0;
		for (size_t i = 0; i < n; i++) {
			const ldns_rdf *f = ldns_rr_rdf(rr, i);
			const uint8_t *d = ldns_rdf_data(f);
			size_t l = ldns_rdf_size(f) ? d[0] : 0;
			if (l + 1 > ldns_rdf_size(f))
				l = ldns_rdf_size(f) ? ldns_rdf_size(f) - 1 : 0;
			memcpy(data + len, d + 1, l);
			lens[i] = l;
			len += l;
		}
		rd = (struct zw_prov_rdata){data, len, lens, n, NULL};
	} else {
		if (t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_NS) {
			dname_text(target, sizeof(target), ldns_rr_rdf(rr, 0));
			rd.text = target;
		} else {
			/* the rdata fields in presentation form, one space apart */
			ldns_buffer *b = ldns_buffer_new(256);
			for (size_t i = 0; b && i < ldns_rr_rd_count(rr); i++) {
				if (i)
					ldns_buffer_printf(b, " ");
				ldns_rdf2buffer_str(b, ldns_rr_rdf(rr, i));
			}
			if (b && ldns_buffer_status_ok(b))
				exported = ldns_buffer_export2str(b);
			ldns_buffer_free(b);
			if (!exported)
				return ZW_PROV_ENOMEM;
			rd.text = exported;
		}
	}
	struct zw_prov_rrset set = {owner, (uint16_t)t, ldns_rr_ttl(rr), &rd, 1};
	int rc = emit(ctx, &set);
	LDNS_FREE(exported);
	return rc;
}

static int rfc2136_list(void *state, const char *zone_id, int (*emit)(void *, const struct zw_prov_rrset *),
			void *ctx, struct zw_prov_error *err)
{
	struct rfc2136 *r = state;
	ldns_rdf *zone = ldns_dname_new_frm_str(zone_id);
	int rc = 0, soas = 0;
	if (!zone)
		return zw_prov_fail(err, ZW_PROV_EINVAL, "invalid zone '%s'", zone_id);
	ldns_status st = ldns_axfr_start(r->res, zone, LDNS_RR_CLASS_IN);
	ldns_rdf_deep_free(zone);
	if (st != LDNS_STATUS_OK)
		return zw_prov_fail(err, ZW_PROV_ETRANSIENT, "axfr of %s from %s: %s", zone_id, r->server,
				    ldns_get_errorstr_by_id(st));
	ldns_rr *rr;
	while (rc == 0 && (rr = ldns_axfr_next(r->res)) != NULL) {
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ++soas > 1) {
			ldns_rr_free(rr);
			continue; /* the closing SOA */
		}
		rc = emit_rr(rr, emit, ctx);
		ldns_rr_free(rr);
	}
	if (rc == 0 && !ldns_axfr_complete(r->res)) {
		const ldns_pkt *last = ldns_axfr_last_pkt(r->res);
		int rcode = last ? (int)ldns_pkt_get_rcode(last) : -1;
		rc = zw_prov_fail(err,
				  rcode == LDNS_RCODE_REFUSED || rcode == LDNS_RCODE_NOTAUTH
					  ? ZW_PROV_EAUTH
					  : ZW_PROV_ETRANSIENT,
				  "axfr of %s from %s did not complete (rcode %d): check the transfer acl "
				  "and the tsig key",
				  zone_id, r->server, rcode);
	}
	ldns_axfr_abort(r->res);
	return rc;
}

/* An ldns record from the ABI's shape; `empty`: no rdata (the RFC 2136 §2.4/§2.5 forms). */
static ldns_rr *make_rr(const struct zw_prov_rrset *set, const struct zw_prov_rdata *rd, ldns_rr_class cls,
			uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *owner = ldns_dname_new_frm_str(set->name);
	if (!rr || !owner)
		goto bad;
	ldns_rr_set_owner(rr, owner);
	owner = NULL;
	ldns_rr_set_type(rr, (ldns_rr_type)set->type);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	if (!rd)
		return rr;
	if (set->type == LDNS_RR_TYPE_TXT || set->type == LDNS_RR_TYPE_SPF) {
		size_t off = 0;
		for (size_t i = 0; i < rd->n; i++) {
			uint8_t buf[256];
			if (rd->lens[i] > 255)
				goto bad;
			buf[0] = (uint8_t)rd->lens[i];
			memcpy(buf + 1, rd->data + off, rd->lens[i]);
			off += rd->lens[i];
			ldns_rdf *f = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, rd->lens[i] + 1, buf);
			if (!f || !ldns_rr_push_rdf(rr, f)) {
				ldns_rdf_deep_free(f);
				goto bad;
			}
		}
		return rr;
	}
	/* any other type: its presentation text through ldns's own parser */
	char line[1024];
	ldns_rr *parsed = NULL;
	snprintf(line, sizeof(line), "%s %u IN %s %s", set->name, ttl,
		 ldns_rr_descript(set->type) ? ldns_rr_descript(set->type)->_name : "TYPE0", rd->text);
	if (ldns_rr_new_frm_str(&parsed, line, 0, NULL, NULL) != LDNS_STATUS_OK)
		goto bad;
	ldns_rr_set_class(parsed, cls);
	ldns_rr_free(rr);
	return parsed;
bad:
	ldns_rdf_deep_free(owner);
	ldns_rr_free(rr);
	return NULL;
}

static int push(ldns_rr_list *l, ldns_rr *rr)
{
	if (!rr)
		return ZW_PROV_EINVAL;
	if (!ldns_rr_list_push_rr(l, rr)) {
		ldns_rr_free(rr);
		return ZW_PROV_ENOMEM;
	}
	return 0;
}

/* Prerequisites and updates of one change (RFC 2136 §2.4, §2.5). */
static int encode(const struct zw_prov_change *c, ldns_rr_list *pre, ldns_rr_list *up)
{
	int rc = 0;
	const struct zw_prov_rrset *b = c->before, *a = c->after;
	if (c->op == ZW_PROV_CREATE) {
		/* §2.4.3 rrset does not exist: NONE, ttl 0, no rdata */
		rc = push(pre, make_rr(a, NULL, LDNS_RR_CLASS_NONE, 0));
	} else {
		/* §2.4.2 rrset exists (value dependent): every record as the plan saw it */
		for (size_t i = 0; rc == 0 && b && i < b->nrd; i++)
			rc = push(pre, make_rr(b, &b->rd[i], LDNS_RR_CLASS_IN, 0));
		/* §2.5.2 delete the rrset: ANY, ttl 0, no rdata */
		if (rc == 0 && b)
			rc = push(up, make_rr(b, NULL, LDNS_RR_CLASS_ANY, 0));
	}
	/* §2.5.1 add to an rrset */
	for (size_t i = 0; rc == 0 && c->op != ZW_PROV_DELETE && a && i < a->nrd; i++)
		rc = push(up, make_rr(a, &a->rd[i], LDNS_RR_CLASS_IN, a->ttl));
	return rc;
}

static void set_all(struct zw_prov_change *changes, size_t n, enum zw_prov_result res, const char *msg)
{
	for (size_t i = 0; i < n; i++) {
		changes[i].result = res;
		snprintf(changes[i].message, sizeof(changes[i].message), "%s", msg);
	}
}

static int rfc2136_apply(void *state, const char *zone_id, struct zw_prov_change *changes, size_t n,
			 struct zw_prov_error *err)
{
	struct rfc2136 *r = state;
	ldns_rr_list *pre = ldns_rr_list_new(), *up = ldns_rr_list_new();
	ldns_rdf *zone = ldns_dname_new_frm_str(zone_id);
	ldns_pkt *pkt = NULL, *answer = NULL;
	int rc = 0;
	if (!pre || !up || !zone) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = encode(&changes[i], pre, up)))
			zw_prov_fail(err, rc, "cannot encode the change of %s",
				     changes[i].after ? changes[i].after->name : changes[i].before->name);
	if (rc) {
		set_all(changes, n, ZW_PROV_PERMANENT, err->msg);
		goto out;
	}
	pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, pre, up, NULL); /* copies the lists */
	zone = NULL;							  /* the packet owns it now */
	if (!pkt) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		set_all(changes, n, ZW_PROV_NOT_APPLIED, err->msg);
		goto out;
	}
	ldns_pkt_set_rd(pkt, false);
	if (ldns_resolver_tsig_keyname(r->res) && ldns_update_pkt_tsig_add(pkt, r->res) != LDNS_STATUS_OK) {
		rc = zw_prov_fail(err, ZW_PROV_EAUTH, "cannot sign the update with tsig key %s",
				  ldns_resolver_tsig_keyname(r->res));
		set_all(changes, n, ZW_PROV_PERMANENT, err->msg);
		goto out;
	}
	ldns_resolver_set_usevc(r->res, ldns_pkt_size(pkt) > 1200);
	ldns_status st = ldns_resolver_send_pkt(&answer, r->res, pkt);
	ldns_resolver_set_usevc(r->res, false);
	if (st != LDNS_STATUS_OK || !answer) {
		/* the outcome is unknown: the next run lists the zone again before writing */
		rc = zw_prov_fail(err, ZW_PROV_ETRANSIENT,
				  "update of %s at %s: %s (outcome unknown: re-plan)", zone_id, r->server,
				  ldns_get_errorstr_by_id(st));
		set_all(changes, n, ZW_PROV_RETRYABLE, err->msg);
		goto out;
	}
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(answer);
	char *rname = ldns_pkt_rcode2str(rcode);
	switch (rcode) {
	case LDNS_RCODE_NOERROR: set_all(changes, n, ZW_PROV_APPLIED, ""); break;
	case LDNS_RCODE_YXRRSET:
	case LDNS_RCODE_NXRRSET:
	case LDNS_RCODE_YXDOMAIN:
	case LDNS_RCODE_NXDOMAIN:
		rc = zw_prov_fail(err, ZW_PROV_ECONFLICT,
				  "the zone changed since the plan (%s: a prerequisite failed); nothing was "
				  "written: re-plan",
				  rname ? rname : "?");
		set_all(changes, n, ZW_PROV_NOT_APPLIED, err->msg);
		break;
	case LDNS_RCODE_SERVFAIL:
		rc = zw_prov_fail(err, ZW_PROV_ETRANSIENT, "update of %s at %s: SERVFAIL", zone_id,
				  r->server);
		set_all(changes, n, ZW_PROV_RETRYABLE, err->msg);
		break;
	default:
		rc = zw_prov_fail(err,
				  rcode == LDNS_RCODE_REFUSED || rcode == LDNS_RCODE_NOTAUTH ? ZW_PROV_EAUTH
											     : ZW_PROV_EINVAL,
				  "update of %s refused by %s (%s): check the update acl and the tsig key",
				  zone_id, r->server, rname ? rname : "?");
		set_all(changes, n, ZW_PROV_PERMANENT, err->msg);
	}
	LDNS_FREE(rname);
out:
	ldns_rr_list_deep_free(pre);
	ldns_rr_list_deep_free(up);
	ldns_rdf_deep_free(zone);
	ldns_pkt_free(pkt);
	ldns_pkt_free(answer);
	return rc;
}

const struct zw_provider zw_provider_rfc2136 = {
	.abi = ZW_PROVIDER_ABI,
	.name = "rfc2136",
	.options = rfc2136_options,
	.open = rfc2136_open,
	.close = rfc2136_close,
	.find_zone = rfc2136_find_zone,
	.nameservers = rfc2136_nameservers,
	.list = rfc2136_list,
	.apply = rfc2136_apply,
};
