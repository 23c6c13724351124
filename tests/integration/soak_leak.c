/*
 * soak_leak.c - a deliberate leak, for soak.test's self-check only (SOAK_LEAK=BYTES):
 * linked with -Wl,--wrap=zw_cycle_free into a throw-away copy of zonewarden, it loses
 * BYTES per domain of every cycle it frees (written to, so the pages count in RSS), then
 * frees the cycle as usual. With 1 000 domains, BYTES=24 loses 24 KB per resync cycle,
 * about 1.5 KB per 64-domain worker cycle. Never part of the product.
 */
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/cycle.h"

void __real_zw_cycle_free(struct zw_cycle *c);
void __wrap_zw_cycle_free(struct zw_cycle *c);

void __wrap_zw_cycle_free(struct zw_cycle *c)
{
	const char *e = getenv("SOAK_LEAK");
	size_t per = e ? strtoul(e, NULL, 10) : 0;
	size_t n = per * (c ? c->ndomains : 0);
	if (n) {
		void *lost = zw_malloc(n);
		if (lost)
			memset(lost, 0xa5, n);
		/* not freed: the point */
	}
	__real_zw_cycle_free(c);
}
