/*
 * fuzz_dns.c - the packet-handling path of the DNS engine, fed arbitrary octets as if a
 * server had sent them: zw_dns_parse (ldns under our bounds), zw_dns_match, then the
 * observed-answer conversion (CNAME chains, referrals, typed TXT/SOA/MX/A views) and its
 * dump, for the message's own question and for a few fixed ones. Nothing may crash,
 * read out of bounds or leak. zw_dns_parse_fast must accept only what zw_dns_parse
 * accepts, and read it the same (zw_dns_pkt_same); a difference aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"
#include "reconcile/dns.h"
#include "reconcile/resolve.h"

static void convert(const ldns_pkt *p, const char *qname, uint16_t qtype)
{
	struct zw_arena *a = NULL;
	struct zw_obs_answer ans = {0};
	struct zw_buf b = ZW_BUF_INIT;

	if (zw_arena_new(&a) < 0)
		return;
	if (zw_obs_answer_from_pkt(&ans, a, p, qname, qtype) == 0)
		zw_obs_answer_dump(&b, &ans);
	zw_buf_free(&b);
	zw_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = {LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_NS,    LDNS_RR_TYPE_SOA,
					 LDNS_RR_TYPE_A,   LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_MX};
	ldns_pkt *p = NULL;
	ldns_pkt *fast = NULL;
	char why[64];

	int fast_ok = zw_dns_parse_fast(&fast, data, size) > 0;
	if (zw_dns_parse(&p, data, size, NULL) != 0) {
		if (fast_ok)
			abort(); /* the fast reading accepted what zw_dns_parse refuses */
		return 0;
	}
	if (fast_ok && !zw_dns_pkt_same(p, fast))
		abort(); /* both accepted, read differently */
	if (fast_ok) {
		/* the consumers on the fast reading too */
		convert(fast, "x.", LDNS_RR_TYPE_TXT);
		zw_free(fast);
	}
	const ldns_rr_list *q = ldns_pkt_question(p);
	if (ldns_rr_list_rr_count(q) > 0) {
		const ldns_rr *rr = ldns_rr_list_rr(q, 0);
		char *name = zw_dns_dname_str(ldns_rr_owner(rr));
		if (name) {
			zw_dns_match(p, ldns_pkt_id(p), name, (uint16_t)ldns_rr_get_type(rr), why,
				     sizeof(why));
			convert(p, name, (uint16_t)ldns_rr_get_type(rr));
			for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
				convert(p, name, types[i]);
			zw_free(name);
		}
	}
	convert(p, "x.", LDNS_RR_TYPE_TXT);
	ldns_pkt_free(p);
	return 0;
}
