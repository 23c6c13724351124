/*
 * zonestate.c - the provider's view of a zone (see zonestate.h).
 *
 * Invariant: (name, type) is unique across v[]; no rrset is empty.
 */
#include "reconcile/zonestate.h"

#include <string.h>

#include "reconcile/alloc.h"

#define TYPE_TXT 16
#define TYPE_SPF 99

static int is_txt(uint16_t type)
{
	return type == TYPE_TXT || type == TYPE_SPF;
}

int zw_zonestate_init(struct zw_zonestate *zs, const char *zone, struct zw_error *err)
{
	memset(zs, 0, sizeof(*zs));
	if (!(zs->zone = zw_strdup(zone)))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	return 0;
}

struct zw_rrset *zw_zonestate_find(const struct zw_zonestate *zs, const char *name, uint16_t type)
{
	for (size_t i = 0; i < zs->n; i++)
		if (zs->v[i].type == type && strcmp(zs->v[i].name, name) == 0)
			return &zs->v[i];
	return NULL;
}

int zw_rdata_equal(const struct zw_rdata *a, const struct zw_rdata *b, uint16_t type)
{
	if (is_txt(type))
		return zw_txt_equal(&a->txt, &b->txt);
	return a->text && b->text && strcmp(a->text, b->text) == 0;
}

void zw_rdata_clear(struct zw_rdata *rd)
{
	zw_txt_free(&rd->txt);
	zw_free(rd->text);
	memset(rd, 0, sizeof(*rd));
}

int zw_rdata_copy(struct zw_rdata *out, const struct zw_rdata *in)
{
	memset(out, 0, sizeof(*out));
	if (in->txt.n && zw_txt_copy(&out->txt, &in->txt))
		return ZW_ENOMEM;
	if (in->text && !(out->text = zw_strdup(in->text))) {
		zw_rdata_clear(out);
		return ZW_ENOMEM;
	}
	return 0;
}

void zw_rrset_clear(struct zw_rrset *r)
{
	for (size_t i = 0; i < r->nrd; i++)
		zw_rdata_clear(&r->rd[i]);
	zw_free(r->rd);
	zw_free(r->name);
	memset(r, 0, sizeof(*r));
}

int zw_rrset_copy(struct zw_rrset *out, const struct zw_rrset *in)
{
	memset(out, 0, sizeof(*out));
	out->type = in->type;
	out->ttl = in->ttl;
	if (!(out->name = zw_strdup(in->name)))
		return ZW_ENOMEM;
	if (in->nrd && !(out->rd = zw_calloc(in->nrd, sizeof(*out->rd)))) {
		zw_rrset_clear(out);
		return ZW_ENOMEM;
	}
	for (size_t i = 0; i < in->nrd; i++) {
		if (zw_rdata_copy(&out->rd[i], &in->rd[i])) {
			zw_rrset_clear(out);
			return ZW_ENOMEM;
		}
		out->nrd = i + 1;
	}
	return 0;
}

/* The rrset (name, type), appended empty when absent; NULL when out of memory. */
static struct zw_rrset *rrset_get(struct zw_zonestate *zs, const char *name, uint16_t type)
{
	struct zw_rrset *r = zw_zonestate_find(zs, name, type);
	if (r)
		return r;
	struct zw_rrset *v = zw_realloc(zs->v, (zs->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	zs->v = v;
	r = &zs->v[zs->n];
	memset(r, 0, sizeof(*r));
	if (!(r->name = zw_strdup(name)))
		return NULL;
	r->type = type;
	zs->n++;
	return r;
}

int zw_zonestate_add(struct zw_zonestate *zs, const char *name, uint16_t type, uint32_t ttl,
		     const struct zw_txt *txt, const char *text, struct zw_error *err)
{
	struct zw_rdata rd = {0};
	if (is_txt(type) ? !txt : !text)
		return zw_error_set(err, ZW_EINVAL, "record of type %u without data", type);
	if (is_txt(type) ? zw_txt_copy(&rd.txt, txt) != 0 : !(rd.text = zw_strdup(text)))
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	struct zw_rrset *r = rrset_get(zs, name, type);
	struct zw_rdata *nrd = NULL;
	if (r) {
		r->ttl = ttl;
		for (size_t i = 0; i < r->nrd; i++) {
			if (zw_rdata_equal(&r->rd[i], &rd, type)) { /* an rrset is a set */
				zw_rdata_clear(&rd);
				return 0;
			}
		}
		nrd = zw_realloc(r->rd, (r->nrd + 1) * sizeof(*nrd));
	}
	if (!nrd) {
		zw_rdata_clear(&rd);
		/* an rrset created above but left empty by the failure is removed again */
		if (r && r->nrd == 0 && r == &zs->v[zs->n - 1]) {
			zw_free(r->name);
			zs->n--;
		}
		return zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
	r->rd = nrd;
	r->rd[r->nrd++] = rd;
	return 0;
}

size_t zw_zonestate_records(const struct zw_zonestate *zs)
{
	size_t n = 0;
	for (size_t i = 0; i < zs->n; i++)
		n += zs->v[i].nrd;
	return n;
}

void zw_zonestate_free(struct zw_zonestate *zs)
{
	if (!zs)
		return;
	for (size_t i = 0; i < zs->n; i++)
		zw_rrset_clear(&zs->v[i]);
	zw_free(zs->v);
	zw_free(zs->zone);
	memset(zs, 0, sizeof(*zs));
}
