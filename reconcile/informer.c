/*
 * informer.c - list + watch + cache for one Kubernetes resource (see kube.h).
 * Not yet written: every entry refuses (ZW_EUNSUPPORTED).
 */
#include "reconcile/kube.h"

#include "reconcile/alloc.h"

int zw_kube_informer_start(struct zw_kube_informer **out, struct zw_kube *k,
			   const struct zw_kube_informer_opts *o, struct zw_error *err)
{
	(void)k;
	(void)o;
	*out = NULL;
	return zw_error_set(err, ZW_EUNSUPPORTED, "kube: the informer is not written yet");
}

void zw_kube_informer_stop(struct zw_kube_informer *inf)
{
	(void)inf;
}

int zw_kube_informer_synced(struct zw_kube_informer *inf)
{
	(void)inf;
	return 0;
}

cJSON *zw_kube_informer_get(struct zw_kube_informer *inf, const char *key)
{
	(void)inf;
	(void)key;
	return NULL;
}

int zw_kube_informer_keys(struct zw_kube_informer *inf, char ***keys, size_t *n, struct zw_error *err)
{
	(void)inf;
	*keys = NULL;
	*n = 0;
	return zw_error_set(err, ZW_EUNSUPPORTED, "kube: the informer is not written yet");
}

void zw_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		zw_free(v[i]);
	zw_free(v);
}

void zw_kube_informer_stats(struct zw_kube_informer *inf, struct zw_kube_informer_stats *out)
{
	(void)inf;
	*out = (struct zw_kube_informer_stats){0};
}
