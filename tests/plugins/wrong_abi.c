/* wrong_abi.c - a test plugin that speaks another ABI version: loading it must fail. */
#include "providers/provider.h"

static const struct zw_provider table = {
	.abi = ZW_PROVIDER_ABI + 1,
	.name = "wrong-abi",
};

const struct zw_provider *zw_provider_entry(void);
const struct zw_provider *zw_provider_entry(void)
{
	return &table;
}
