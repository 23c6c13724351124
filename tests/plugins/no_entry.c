/* no_entry.c - a shared object without the entry symbol: not a zonewarden provider. */
int zw_not_a_provider(void);
int zw_not_a_provider(void)
{
	return 0;
}
