/*
 * fuzz_manifest.c - libFuzzer target: any bytes through the manifest loader, then the
 * desired-state builder and the value checks for whatever loaded. Nothing may crash,
 * leak or read out of bounds; errors are fine.
 */
#include <stddef.h>
#include <stdint.h>

#include "reconcile/desired.h"
#include "reconcile/manifest.h"
#include "reconcile/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zw_manifests *ms = NULL;
	struct zw_error err = {0};
	int rc = zw_manifests_load_buffer(&ms, "fuzz.yaml", (const char *)data, size, &err);
	if (rc == 0)
		zw_values_check_all(ms, &err);
	zw_manifests_free(ms);
	return 0;
}
