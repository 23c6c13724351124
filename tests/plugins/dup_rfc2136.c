/* dup_rfc2136.c - a test plugin named like a built-in provider: loading it must fail. */
#include "providers/provider.h"

static const struct zw_provider table = {
	.abi = ZW_PROVIDER_ABI,
	.name = "rfc2136",
};

const struct zw_provider *zw_provider_entry(void);
const struct zw_provider *zw_provider_entry(void)
{
	return &table;
}
