/*
 * finding.c - the list of findings (see finding.h).
 *
 * Owns every string of every finding in the list; zw_findings_free releases them all.
 * Invariant: v[0..n) are initialised; cls is never NULL.
 */
#include "reconcile/finding.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/alloc.h"
#include "reconcile/error.h"

static char **field_ptr(struct zw_finding *f, enum zw_finding_field field)
{
	switch (field) {
	case ZW_F_DOMAIN: return &f->domain;
	case ZW_F_NAME: return &f->name;
	case ZW_F_TYPE: return &f->type;
	case ZW_F_SERVERS: return &f->servers;
	case ZW_F_OBSERVED: return &f->observed;
	case ZW_F_EXPECTED: return &f->expected;
	case ZW_F_MESSAGE: return &f->message;
	case ZW_F_FIX: return &f->fix;
	}
	return NULL;
}

int zw_finding_set(struct zw_finding *f, enum zw_finding_field field, const char *s)
{
	char **p = field_ptr(f, field);
	char *copy = NULL;
	if (s && !(copy = zw_strdup(s)))
		return ZW_ENOMEM;
	zw_free(*p);
	*p = copy;
	return 0;
}

int zw_finding_setf(struct zw_finding *f, enum zw_finding_field field, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ZW_EINVAL;
	if ((size_t)n < sizeof(tmp))
		return zw_finding_set(f, field, tmp);
	char *big = zw_malloc((size_t)n + 1);
	if (!big)
		return ZW_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	char **p = field_ptr(f, field);
	zw_free(*p);
	*p = big;
	return 0;
}

struct zw_finding *zw_findings_add(struct zw_findings *fs, const char *id, long offset, const char *fmt, ...)
{
	const struct zw_class *cls = zw_class_find(id);
	assert(cls && "unknown finding class");
	if (!cls)
		return NULL;
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 8;
		struct zw_finding *v = zw_realloc(fs->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		fs->v = v;
		fs->cap = cap;
	}
	struct zw_finding *f = &fs->v[fs->n];
	memset(f, 0, sizeof(*f));
	f->cls = cls;
	f->sev = cls->severity;
	f->offset = offset;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!(f->message = zw_strdup(msg)))
		return NULL;
	fs->n++;
	return f;
}

int zw_findings_context(struct zw_findings *fs, size_t from, const char *domain, const char *name,
			const char *type, const char *observed, const struct zw_loc *loc)
{
	for (size_t i = from; i < fs->n; i++) {
		struct zw_finding *f = &fs->v[i];
		if (domain && !f->domain && zw_finding_set(f, ZW_F_DOMAIN, domain))
			return ZW_ENOMEM;
		if (name && !f->name && zw_finding_set(f, ZW_F_NAME, name))
			return ZW_ENOMEM;
		if (type && !f->type && zw_finding_set(f, ZW_F_TYPE, type))
			return ZW_ENOMEM;
		if (observed && !f->observed && zw_finding_set(f, ZW_F_OBSERVED, observed))
			return ZW_ENOMEM;
		if (loc && !f->loc.file)
			f->loc = *loc;
	}
	return 0;
}

void zw_finding_clear(struct zw_finding *f)
{
	zw_free(f->domain);
	zw_free(f->name);
	zw_free(f->type);
	zw_free(f->servers);
	zw_free(f->observed);
	zw_free(f->expected);
	zw_free(f->message);
	zw_free(f->fix);
}

void zw_findings_drop(struct zw_findings *fs, size_t from, const char *id)
{
	size_t w = from;
	for (size_t i = from; i < fs->n; i++) {
		if (strcmp(fs->v[i].cls->id, id) == 0) {
			zw_finding_clear(&fs->v[i]);
			continue;
		}
		fs->v[w++] = fs->v[i];
	}
	fs->n = w;
}

int zw_findings_has(const struct zw_findings *fs, size_t from, const char *id)
{
	for (size_t i = from; i < fs->n; i++)
		if (strcmp(fs->v[i].cls->id, id) == 0)
			return 1;
	return 0;
}

int zw_findings_max(const struct zw_findings *fs)
{
	int max = -1;
	for (size_t i = 0; i < fs->n; i++)
		if ((int)fs->v[i].sev > max)
			max = (int)fs->v[i].sev;
	return max;
}

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_finding(const struct zw_finding *a, const struct zw_finding *b)
{
	int c = strcmp0(a->domain, b->domain);
	if (c)
		return c;
	if (a->sev != b->sev)
		return a->sev > b->sev ? -1 : 1;
	if ((c = strcmp(a->cls->id, b->cls->id)))
		return c;
	return strcmp0(a->name, b->name);
}

void zw_findings_sort(struct zw_findings *fs)
{
	/* bottom-up merge sort: stable, O(n log n) for the large lists of bench/check */
	if (fs->n < 2)
		return;
	struct zw_finding *tmp = zw_malloc(fs->n * sizeof(*tmp));
	if (!tmp)
		return; /* unsorted output is still correct output */
	struct zw_finding *src = fs->v, *dst = tmp;
	for (size_t width = 1; width < fs->n; width *= 2) {
		for (size_t lo = 0; lo < fs->n; lo += 2 * width) {
			size_t mid = lo + width < fs->n ? lo + width : fs->n;
			size_t hi = lo + 2 * width < fs->n ? lo + 2 * width : fs->n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				dst[k++] = cmp_finding(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		struct zw_finding *t = src;
		src = dst;
		dst = t;
	}
	if (src != fs->v)
		memcpy(fs->v, src, fs->n * sizeof(*src));
	zw_free(tmp);
}

void zw_findings_free(struct zw_findings *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->n; i++)
		zw_finding_clear(&fs->v[i]);
	zw_free(fs->v);
	fs->v = NULL;
	fs->n = fs->cap = 0;
}

static int reserve(struct zw_findings *fs, size_t more)
{
	if (fs->n + more <= fs->cap)
		return 0;
	size_t cap = fs->cap ? fs->cap : 16;
	while (cap < fs->n + more)
		cap *= 2;
	struct zw_finding *v = zw_realloc(fs->v, cap * sizeof(*v));
	if (!v)
		return ZW_ENOMEM;
	fs->v = v;
	fs->cap = cap;
	return 0;
}

static int same(const struct zw_finding *a, const struct zw_finding *b)
{
	return a->cls == b->cls && a->name && b->name && strcmp(a->name, b->name) == 0;
}

int zw_findings_merge(struct zw_findings *to, struct zw_findings *from)
{
	if (reserve(to, from->n))
		return ZW_ENOMEM;
	size_t had = to->n;
	for (size_t i = 0; i < from->n; i++) {
		int dup = 0;
		for (size_t k = 0; k < had && !dup; k++)
			dup = same(&to->v[k], &from->v[i]);
		if (dup)
			zw_finding_clear(&from->v[i]);
		else
			to->v[to->n++] = from->v[i];
	}
	zw_free(from->v);
	memset(from, 0, sizeof(*from));
	return 0;
}

int zw_findings_copy(struct zw_findings *to, const struct zw_findings *from, const char *domain)
{
	static const enum zw_finding_field fields[] = {ZW_F_DOMAIN,  ZW_F_NAME,	    ZW_F_TYPE,
						       ZW_F_SERVERS, ZW_F_OBSERVED, ZW_F_EXPECTED,
						       ZW_F_MESSAGE, ZW_F_FIX};
	for (size_t i = 0; i < from->n; i++) {
		const struct zw_finding *f = &from->v[i];
		if (domain && (!f->domain || strcmp(f->domain, domain) != 0))
			continue;
		if (reserve(to, 1))
			return ZW_ENOMEM;
		struct zw_finding *c = &to->v[to->n];
		*c = (struct zw_finding){.cls = f->cls, .sev = f->sev, .offset = f->offset, .loc = f->loc};
		to->n++;
		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
			char **src = field_ptr((struct zw_finding *)f, fields[k]);
			if (*src && zw_finding_set(c, fields[k], *src))
				return ZW_ENOMEM;
		}
	}
	return 0;
}
