/*
 * bench/parse.c - parse 1 000 000 SPF, DKIM and DMARC values (a third of each, drawn
 * from a set of realistic and broken records) and print values/s and the peak RSS.
 * Figures only; no assertion. Built and run by bench/parse.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "reconcile/dkim.h"
#include "reconcile/dmarc.h"
#include "reconcile/spf.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const spf[] = {
		"v=spf1 include:_spf.google.com include:amazonses.com ~all",
		"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx -all",
		"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
		"v=spf1 redirect=_spf.example.net",
		"v=spf1 ipv4:192.0.2.1 include=_spf.google.com ~all",
		"v=spf1 ip4:192.0.2.7~all",
	};
	static const char *const dmarc[] = {
		"v=DMARC1; p=reject; rua=mailto:dmarc@example.com; adkim=s; aspf=r",
		"v=DMARC1; p=quarantine; sp=none; pct=50; rua=mailto:a@example.com,mailto:b@example.net!10m",
		"v=DMARC1; p=rejected; rua=mailto:d@example.com",
		"p=reject; v=DMARC1",
	};
	const char *key = argc > 1 ? argv[1] : "";
	char dkim[3][1024];
	snprintf(dkim[0], sizeof(dkim[0]), "v=DKIM1; k=rsa; p=%s", key);
	snprintf(dkim[1], sizeof(dkim[1]), "v=DKIM1; k=rsa; h=sha256; t=s; p=%s", key);
	snprintf(dkim[2], sizeof(dkim[2]), "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	const long n = 1000000;
	long done = 0;
	double t0 = now(), t[3] = {0};
	for (long i = 0; i < n; i++) {
		struct zw_findings fs = {0};
		struct zw_error err = {0};
		int which = (int)(i % 3);
		double a = now();
		if (which == 0) {
			struct zw_spf *s = NULL;
			const char *v = spf[(i / 3) % 6];
			zw_spf_parse(&s, v, strlen(v), &fs, &err);
			zw_spf_free(s);
		} else if (which == 1) {
			struct zw_dkim *d = NULL;
			const char *v = dkim[(i / 3) % 3];
			zw_dkim_parse(&d, v, strlen(v), &fs, &err);
			zw_dkim_free(d);
		} else {
			struct zw_dmarc *d = NULL;
			const char *v = dmarc[(i / 3) % 4];
			zw_dmarc_parse(&d, v, strlen(v), &fs, &err);
			zw_dmarc_free(d);
		}
		t[which] += now() - a;
		zw_findings_free(&fs);
		done++;
	}
	double wall = now() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("bench/parse: %ld values (SPF, DKIM with a 2048-bit key, DMARC; valid and broken)\n", done);
	printf("  total:  %.2f s, %.0f values/s\n", wall, (double)done / wall);
	printf("  spf:    %.0f values/s\n", (double)(n / 3) / t[0]);
	printf("  dkim:   %.0f values/s (each parses its key with OpenSSL)\n", (double)(n / 3) / t[1]);
	printf("  dmarc:  %.0f values/s\n", (double)(n / 3) / t[2]);
	printf("  peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
	return 0;
}
