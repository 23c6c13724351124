/*
 * dmarc_driver.c - our DMARC verdicts for the differential test (dmarc.test).
 *
 * Reads lines "<hex>" (a joined TXT value, hex-encoded so any byte can pass) from stdin
 * and prints one line per input:
 *   sel=<0|1> rc=<0|-2> applies=<0|1> p=<policy> sp=<policy> adkim=<r|s> aspf=<r|s>
 *   rua=<valid URIs> ids=<DM-xx,...|->
 * sel is zw_dmarc_is_record (discovery), rc the return code of zw_dmarc_parse, p and sp
 * the policy receivers apply before t=y (pol_p, pol_sp), "unset" when DMARC does not
 * apply. It also checks the round trip print(parse(x)) == x and says "roundtrip" if not.
 */
#include <stdio.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/dmarc.h"

static int unhex(char *out, size_t *outlen, const char *s)
{
	size_t n = strlen(s);
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		out[i / 2] = (char)v;
	}
	*outlen = n / 2;
	return 0;
}

int main(void)
{
	static char line[1 << 16], bytes[1 << 15];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		size_t len = 0;
		if (unhex(bytes, &len, line)) {
			printf("bad input\n");
			continue;
		}
		struct zw_findings fs = {0};
		struct zw_error err = {0};
		struct zw_dmarc *d = NULL;
		int sel = zw_dmarc_is_record(bytes, len);
		int rc = zw_dmarc_parse(&d, bytes, len, &fs, &err);
		if (d) {
			struct zw_buf b = ZW_BUF_INIT;
			if (zw_dmarc_print(&b, d) || b.len != len || memcmp(b.p, bytes, len) != 0)
				printf("roundtrip ");
			zw_buf_free(&b);
		}
		printf("sel=%d rc=%d applies=%d p=%s sp=%s adkim=%c aspf=%c rua=%zu ids=", sel, rc,
		       d ? d->applies : 0, zw_dmarc_policy_name(d ? d->pol_p : ZW_DMARC_UNSET),
		       zw_dmarc_policy_name(d ? d->pol_sp : ZW_DMARC_UNSET),
		       d && d->adkim == ZW_DMARC_STRICT ? 's' : 'r',
		       d && d->aspf == ZW_DMARC_STRICT ? 's' : 'r', d ? d->valid_rua : 0);
		for (size_t i = 0; i < fs.n; i++)
			printf("%s%s", i ? "," : "", fs.v[i].cls->id);
		printf("%s\n", fs.n ? "" : "-");
		zw_dmarc_free(d);
		zw_findings_free(&fs);
	}
	return 0;
}
