/*
 * zonefile.c - read a zone file with ldns (see zonefile.h).
 *
 * ldns parses every record (including $ORIGIN, $TTL, \DDD decimal escapes); this module
 * only turns each record into struct zw_zrr. Owns: every record of the zone.
 */
#include "reconcile/zonefile.h"

#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/alloc.h"

void zw_wire_name_decode(char *out, size_t outsz, const uint8_t *wire, size_t len)
{
	size_t o = 0, i = 0;
	if (outsz == 0)
		return;
	while (i < len && wire[i] != 0 && o + 1 < outsz) {
		size_t l = wire[i++];
		for (size_t k = 0; k < l && i < len && o + 1 < outsz; k++, i++)
			out[o++] = (char)tolower(wire[i]);
		if (o + 1 < outsz)
			out[o++] = '.';
	}
	if (o == 0 && o + 1 < outsz)
		out[o++] = '.';
	out[o] = '\0';
}

const char *zw_rrtype_name(uint16_t type, char *buf, size_t bufsz)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	if (d && d->_name)
		snprintf(buf, bufsz, "%s", d->_name);
	else
		snprintf(buf, bufsz, "TYPE%u", type);
	return buf;
}

static char *decode_rdf_name(const ldns_rdf *rdf)
{
	char name[1024];
	zw_wire_name_decode(name, sizeof(name), ldns_rdf_data(rdf), ldns_rdf_size(rdf));
	return zw_strdup(name);
}

/* Turn one ldns record into a zw_zrr. */
static int convert(struct zw_zrr *z, ldns_rr *rr, unsigned line)
{
	memset(z, 0, sizeof(*z));
	z->type = (uint16_t)ldns_rr_get_type(rr);
	z->ttl = ldns_rr_ttl(rr);
	z->line = line;
	if (!(z->owner = decode_rdf_name(ldns_rr_owner(rr))))
		return ZW_ENOMEM;
	char *text = ldns_rr2str(rr);
	if (text) {
		size_t l = strlen(text);
		while (l && (text[l - 1] == '\n' || text[l - 1] == ' '))
			text[--l] = '\0';
		z->text = zw_strdup(text);
		LDNS_FREE(text);
		if (!z->text)
			return ZW_ENOMEM;
	}
	if (z->type == LDNS_RR_TYPE_TXT || z->type == LDNS_RR_TYPE_SPF) {
		size_t n = ldns_rr_rd_count(rr);
		const char *strs[256];
		size_t lens[256];
		if (n > 256)
			return ZW_EINVAL; /* no 64 KiB record holds more; refused, never cut */
		for (size_t i = 0; i < n; i++) {
			const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
			const uint8_t *d = ldns_rdf_data(rdf);
			size_t sz = ldns_rdf_size(rdf);
			strs[i] = sz ? (const char *)d + 1 : "";
			lens[i] = sz ? d[0] : 0;
			if (lens[i] + 1 > sz)
				lens[i] = sz ? sz - 1 : 0;
		}
		return zw_txt_from_strings(&z->txt, strs, lens, n);
	}
	const ldns_rdf *target = NULL;
	if (z->type == LDNS_RR_TYPE_CNAME || z->type == LDNS_RR_TYPE_NS)
		target = ldns_rr_rdf(rr, 0);
	else if (z->type == LDNS_RR_TYPE_MX)
		target = ldns_rr_rdf(rr, 1);
	if (target && !(z->target = decode_rdf_name(target)))
		return ZW_ENOMEM;
	return 0;
}

static void zrr_clear(struct zw_zrr *z)
{
	zw_free(z->owner);
	zw_free(z->target);
	zw_free(z->text);
	zw_txt_free(&z->txt);
}

void zw_zonefile_free(struct zw_zone *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++)
		zrr_clear(&z->v[i]);
	zw_free(z->v);
	zw_free(z->origin);
	zw_free(z->path);
	zw_free(z);
}

int zw_zonefile_load(struct zw_zone **out, const char *path, const char *origin, struct zw_error *err)
{
	struct zw_zone *z = NULL;
	ldns_rdf *orig = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line = 1, rc = 0;
	size_t cap = 0;
	*out = NULL;

	FILE *fp = fopen(path, "r");
	if (!fp)
		return zw_error_set_at(err, ZW_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
	if (!(z = zw_calloc(1, sizeof(*z))) || !(z->path = zw_strdup(path))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	if (origin) {
		char o[512];
		snprintf(o, sizeof(o), "%s%s", origin,
			 origin[0] && origin[strlen(origin) - 1] == '.' ? "" : ".");
		if (ldns_str2rdf_dname(&orig, o) != LDNS_STATUS_OK) {
			rc = zw_error_set(err, ZW_EINVAL, "invalid origin '%s'", origin);
			goto out;
		}
	}
	/* a UTF-8 byte order mark (Windows editors) is not part of the first name */
	unsigned char bom[3];
	if (fread(bom, 1, 3, fp) != 3 || bom[0] != 0xef || bom[1] != 0xbb || bom[2] != 0xbf)
		rewind(fp);
	while (!feof(fp) && !ferror(fp)) {
		ldns_rr *rr = NULL;
		int before = line;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &orig, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN || st == LDNS_STATUS_SYNTAX_INCLUDE) {
			if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
				rc = zw_error_set_at(err, ZW_EINVAL, path, (unsigned)before, 1, NULL,
						     "$INCLUDE is not supported: lint each file");
				goto out;
			}
			continue;
		}
		if (st != LDNS_STATUS_OK) {
			if (feof(fp) && st == LDNS_STATUS_SYNTAX_ERR && line == before)
				break;
			/* like records, ldns has read the bad line's newline too */
			int at = line > before ? line - 1 : line;
			rc = zw_error_set_at(
				err, ZW_EINVAL, path, (unsigned)at, 1, NULL, "zone file: %s%s",
				ldns_get_errorstr_by_id(st),
				st == LDNS_STATUS_SYNTAX_RDATA_ERR ? " (\\DDD escapes are decimal)" : "");
			goto out;
		}
		if (z->n >= ZW_ZONEFILE_MAX_RECORDS) {
			ldns_rr_free(rr);
			rc = zw_error_set_at(err, ZW_EINVAL, path, (unsigned)line, 1, NULL,
					     "more than %d records", ZW_ZONEFILE_MAX_RECORDS);
			goto out;
		}
		if (z->n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct zw_zrr *v = zw_realloc(z->v, c * sizeof(*v));
			if (!v) {
				ldns_rr_free(rr);
				rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
				goto out;
			}
			z->v = v;
			cap = c;
		}
		/* ldns has read the record's newline too: its last line is the one before */
		rc = convert(&z->v[z->n], rr, (unsigned)(line > 1 ? line - 1 : 1));
		z->n++;
		if (rc == 0 && ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && !z->origin)
			rc = (z->origin = zw_strdup(z->v[z->n - 1].owner)) ? 0 : ZW_ENOMEM;
		ldns_rr_free(rr);
		if (rc == ZW_EINVAL) {
			zw_error_set_at(err, rc, path, (unsigned)(line > 1 ? line - 1 : 1), 1, NULL,
					"zone file: a txt record of more than 256 strings");
			goto out;
		}
		if (rc) {
			zw_error_set(err, rc, "out of memory");
			goto out;
		}
	}
	if (!z->origin && orig) {
		char o[1024];
		zw_wire_name_decode(o, sizeof(o), ldns_rdf_data(orig), ldns_rdf_size(orig));
		if (!(z->origin = zw_strdup(o)))
			rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
	}
out:
	if (rc == 0 && ferror(fp))
		rc = zw_error_set_at(err, ZW_EIO, path, 0, 0, NULL, "read error: %s", strerror(errno));
	fclose(fp);
	ldns_rdf_deep_free(orig);
	ldns_rdf_deep_free(prev);
	if (rc) {
		zw_zonefile_free(z);
		return rc;
	}
	*out = z;
	return 0;
}
