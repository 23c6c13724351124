/*
 * ytree.h - YAML documents as small trees that remember where every node was written.
 *
 * libyaml does the parsing (its event API); this module builds a tree of scalars,
 * mappings and sequences with the line and column of each node, and refuses what a
 * manifest must never contain: files over 1 MiB, NUL or non-UTF-8 bytes, aliases and
 * anchors, tags, nesting deeper than 64, duplicate keys, non-scalar keys, empty
 * documents. The tree owns all its memory; zw_ytree_free releases a whole file.
 */
#ifndef ZW_YTREE_H
#define ZW_YTREE_H

#include <stddef.h>

#include "reconcile/error.h"

#define ZW_YAML_MAX_FILE  (1024u * 1024u)
#define ZW_YAML_MAX_DEPTH 64

enum zw_ynode_kind { ZW_Y_SCALAR, ZW_Y_MAP, ZW_Y_SEQ };

struct zw_ynode {
	enum zw_ynode_kind kind;
	unsigned line, col; /* 1-based, where the node starts */
	/* scalar */
	char *value; /* NUL-terminated */
	size_t len;
	int plain; /* an unquoted scalar (so `true`, `3600` are typed) */
	/* map: keys[i] -> items[i]; seq: items[i] */
	struct zw_ynode **keys;
	struct zw_ynode **items;
	size_t n;
};

struct zw_ydoc {
	struct zw_ynode *root; /* NULL never: empty documents are refused */
	unsigned line;	       /* where the document starts */
};

struct zw_yfile {
	char *path;
	struct zw_ydoc *docs;
	size_t ndocs;
};

/* Parse a file (or, with data != NULL, that buffer under the name `path`). */
int zw_ytree_load(struct zw_yfile **out, const char *path, const char *data, size_t len,
		  struct zw_error *err);
void zw_ytree_free(struct zw_yfile *f);

/* Map lookup by key; NULL if absent or not a map. */
const struct zw_ynode *zw_ynode_get(const struct zw_ynode *map, const char *key);

#endif
