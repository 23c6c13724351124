/* hello.c - a well-formed test plugin with one option and no operations: it loads, its
 * settings are checked by the core, and every empty slot reads "not supported". */
#include "providers/provider.h"

static const struct zw_prov_option options[] = {
	{"greeting", ZW_POPT_STRING, "hello", 0, 0, 0},
	{"times", ZW_POPT_INT, "1", 1, 3, 0},
	{"endpoint", ZW_POPT_STRING, NULL, 0, 0, 1},
	{NULL, ZW_POPT_STRING, NULL, 0, 0, 0},
};

static const struct zw_provider table = {
	.abi = ZW_PROVIDER_ABI,
	.name = "hello",
	.options = options,
	.open = NULL,
	.close = NULL,
	.find_zone = NULL,
	.nameservers = NULL,
	.list = NULL,
	.apply = NULL,
};

const struct zw_provider *zw_provider_entry(void);
const struct zw_provider *zw_provider_entry(void)
{
	return &table;
}
