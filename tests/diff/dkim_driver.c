/*
 * dkim_driver.c - our DKIM key-record verdicts for the differential test (dkim.test).
 *
 * Reads lines "parse <hex>" (a joined TXT value, hex-encoded so any byte can pass) or
 * "key <rsa|ed25519> <hex>" (a manifest key) from stdin and prints one line per input:
 *   rc=<0|-2> usable=<0|1> revoked=<0|1> bits=<n> kind=<kind> ids=<DK-xx,...|-> msg=<text>
 * rc is the return code of zw_dkim_parse / zw_dkim_check_key; ids lists the finding
 * classes in the order they were reported; msg is the message of the first finding at
 * ERROR (empty when none), last on the line because it holds spaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/dkim.h"

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

static void print_ids(const struct zw_findings *fs)
{
	printf(" ids=");
	for (size_t i = 0; i < fs->n; i++)
		printf("%s%s", i ? "," : "", fs->v[i].cls->id);
	if (!fs->n)
		printf("-");
	const char *msg = "";
	for (size_t i = 0; i < fs->n && !msg[0]; i++)
		if (fs->v[i].sev >= ZW_SEV_ERROR)
			msg = fs->v[i].message;
	printf(" msg=%s\n", msg);
}

int main(void)
{
	static char line[1 << 16], bytes[1 << 15];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		struct zw_findings fs = {0};
		struct zw_error err = {0};
		size_t len = 0;
		char *sp = strchr(line, ' ');
		if (!sp) {
			printf("bad input\n");
			continue;
		}
		*sp++ = '\0';
		if (strcmp(line, "parse") == 0) {
			if (unhex(bytes, &len, sp)) {
				printf("bad input\n");
				continue;
			}
			struct zw_dkim *d = NULL;
			int rc = zw_dkim_parse(&d, bytes, len, &fs, &err);
			printf("rc=%d usable=%d revoked=%d bits=%d kind=%s", rc, d ? d->usable : 0,
			       d ? d->revoked : 0, d ? d->key.bits : 0,
			       zw_dkim_keykind_name(d ? d->key.kind : ZW_DKIM_KEY_NONE));
			zw_dkim_free(d);
		} else if (strcmp(line, "key") == 0) {
			char *hex = strchr(sp, ' ');
			if (!hex || unhex(bytes, &len, hex + 1)) {
				printf("bad input\n");
				continue;
			}
			*hex = '\0';
			struct zw_dkim_key k;
			int rc = zw_dkim_check_key(&k, bytes, len,
						   strcmp(sp, "ed25519") ? ZW_DKIM_RSA : ZW_DKIM_ED25519,
						   &fs, &err);
			printf("rc=%d usable=%d revoked=0 bits=%d kind=%s", rc, rc == 0, k.bits,
			       zw_dkim_keykind_name(k.kind));
			zw_dkim_key_clear(&k);
		} else {
			printf("bad input\n");
			continue;
		}
		print_ids(&fs);
		zw_findings_free(&fs);
	}
	return 0;
}
