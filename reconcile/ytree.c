/*
 * ytree.c - build YAML trees from libyaml events (see ytree.h).
 *
 * Owns: every node, key and value of a file. Invariants: a map's keys are unique plain
 * or quoted scalars; depth never exceeds ZW_YAML_MAX_DEPTH; nothing is allocated in
 * proportion to anything but the (bounded) input size.
 */
#include "reconcile/ytree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "reconcile/alloc.h"
#include "reconcile/buf.h"

struct builder {
	yaml_parser_t parser;
	const char *path;
	struct zw_error *err;
	int depth;
};

static void node_free(struct zw_ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			node_free(n->keys[i]);
		node_free(n->items[i]);
	}
	zw_free(n->keys);
	zw_free(n->items);
	zw_free(n->value);
	zw_free(n);
}

void zw_ytree_free(struct zw_yfile *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ndocs; i++)
		node_free(f->docs[i].root);
	zw_free(f->docs);
	zw_free(f->path);
	zw_free(f);
}

const struct zw_ynode *zw_ynode_get(const struct zw_ynode *map, const char *key)
{
	if (!map || map->kind != ZW_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->value, key) == 0)
			return map->items[i];
	return NULL;
}

static int fail_at(struct builder *b, unsigned line, unsigned col, const char *msg)
{
	return zw_error_set_at(b->err, ZW_EINVAL, b->path, line, col, NULL, "%s", msg);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		const yaml_parser_t *p = &b->parser;
		const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
		char msg[256];
		snprintf(msg, sizeof(msg), "yaml: %s%s%s", p->problem ? p->problem : "syntax error",
			 p->context ? " " : "", p->context ? p->context : "");
		if (p->error == YAML_MEMORY_ERROR)
			return zw_error_set(b->err, ZW_ENOMEM, "out of memory");
		return fail_at(b, (unsigned)m->line + 1, (unsigned)m->column + 1, msg);
	}
	return 0;
}

static int push(struct zw_ynode *n, struct zw_ynode *key, struct zw_ynode *item, size_t *cap)
{
	if (n->n == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		struct zw_ynode **items = zw_realloc(n->items, c * sizeof(*items));
		if (!items)
			return ZW_ENOMEM;
		n->items = items;
		if (n->kind == ZW_Y_MAP) {
			struct zw_ynode **keys = zw_realloc(n->keys, c * sizeof(*keys));
			if (!keys)
				return ZW_ENOMEM;
			n->keys = keys;
		}
		*cap = c;
	}
	if (n->kind == ZW_Y_MAP)
		n->keys[n->n] = key;
	n->items[n->n++] = item;
	return 0;
}

static int build_node(struct builder *b, yaml_event_t *ev, struct zw_ynode **out);

/* Build the children of a collection whose start event was already read. */
static int build_children(struct builder *b, struct zw_ynode *n)
{
	size_t cap = 0;
	yaml_event_type_t end = n->kind == ZW_Y_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	for (;;) {
		yaml_event_t ev;
		struct zw_ynode *key = NULL, *item = NULL;
		int rc = next_event(b, &ev);
		if (rc)
			return rc;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->kind == ZW_Y_MAP) {
			rc = build_node(b, &ev, &key);
			if (rc)
				return rc;
			if (key->kind != ZW_Y_SCALAR) {
				rc = fail_at(b, key->line, key->col, "a mapping key must be a plain string");
				node_free(key);
				return rc;
			}
			for (size_t i = 0; i < n->n; i++) {
				if (strcmp(n->keys[i]->value, key->value) == 0) {
					char msg[300];
					snprintf(msg, sizeof(msg),
						 "duplicate key '%.100s' (first at line %u)", key->value,
						 n->keys[i]->line);
					rc = fail_at(b, key->line, key->col, msg);
					node_free(key);
					return rc;
				}
			}
			if ((rc = next_event(b, &ev))) {
				node_free(key);
				return rc;
			}
		}
		rc = build_node(b, &ev, &item);
		if (rc == 0)
			rc = push(n, key, item, &cap);
		if (rc) {
			node_free(key);
			node_free(item);
			return rc;
		}
	}
}

/* Build one node from its first event (which this function consumes). */
static int build_node(struct builder *b, yaml_event_t *ev, struct zw_ynode **out)
{
	unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
	const unsigned char *anchor = NULL, *tag = NULL;
	int rc = 0;
	*out = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		yaml_event_delete(ev);
		return fail_at(b, line, col, "yaml aliases are not allowed in manifests");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	default: yaml_event_delete(ev); return fail_at(b, line, col, "unexpected yaml event");
	}
	if (anchor || tag) {
		yaml_event_delete(ev);
		return fail_at(b, line, col,
			       anchor ? "yaml anchors are not allowed in manifests"
				      : "yaml tags are not allowed in manifests");
	}

	struct zw_ynode *n = zw_calloc(1, sizeof(*n));
	if (!n) {
		yaml_event_delete(ev);
		return zw_error_set(b->err, ZW_ENOMEM, "out of memory");
	}
	n->line = line;
	n->col = col;
	if (ev->type == YAML_SCALAR_EVENT) {
		n->kind = ZW_Y_SCALAR;
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->value = zw_memdup(ev->data.scalar.value, n->len);
		yaml_event_delete(ev);
		if (!n->value)
			rc = zw_error_set(b->err, ZW_ENOMEM, "out of memory");
		else if (memchr(n->value, '\0', n->len))
			rc = fail_at(b, line, col, "NUL character in a value");
	} else {
		n->kind = ev->type == YAML_MAPPING_START_EVENT ? ZW_Y_MAP : ZW_Y_SEQ;
		yaml_event_delete(ev);
		if (++b->depth > ZW_YAML_MAX_DEPTH)
			rc = fail_at(b, line, col, "nesting deeper than 64 levels");
		else
			rc = build_children(b, n);
		b->depth--;
	}
	if (rc) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* Where is the first invalid UTF-8 sequence (or NUL)? Returns 0 if none. */
static int check_bytes(const unsigned char *s, size_t len, unsigned *line, unsigned *col, const char **what)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		size_t need = 0;
		unsigned cp = 0, min = 0;
		if (ch == 0) {
			*what = "NUL byte in the file";
			goto bad;
		}
		if (ch < 0x80) {
			if (ch == '\n') {
				l++;
				c = 1;
			} else {
				c++;
			}
			i++;
			continue;
		}
		if ((ch & 0xE0) == 0xC0) {
			need = 1;
			cp = ch & 0x1F;
			min = 0x80;
		} else if ((ch & 0xF0) == 0xE0) {
			need = 2;
			cp = ch & 0x0F;
			min = 0x800;
		} else if ((ch & 0xF8) == 0xF0) {
			need = 3;
			cp = ch & 0x07;
			min = 0x10000;
		} else {
			*what = "bytes that are not utf-8";
			goto bad;
		}
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80) {
				*what = "bytes that are not utf-8";
				goto bad;
			}
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			*what = "bytes that are not utf-8 (overlong or surrogate)";
			goto bad;
		}
		i += need + 1;
		c++;
	}
	return 0;
bad:
	*line = l;
	*col = c;
	return -1;
}

static int read_file(const char *path, char **data, size_t *len, struct zw_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return zw_error_set_at(err, ZW_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
	struct zw_buf b = {NULL, 0, 0, ZW_YAML_MAX_FILE + 2};
	char chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > ZW_YAML_MAX_FILE) {
			rc = zw_error_set_at(err, ZW_EINVAL, path, 1, 1, NULL,
					     "file is larger than 1 MiB; split it into several files");
			break;
		}
		if ((rc = zw_buf_add(&b, chunk, n))) {
			zw_error_set(err, rc, "out of memory");
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = zw_error_set_at(err, ZW_EIO, path, 0, 0, NULL, "read error");
	fclose(f);
	if (rc) {
		zw_buf_free(&b);
		return rc;
	}
	*len = b.len;
	*data = zw_buf_detach(&b);
	return *data ? 0 : zw_error_set(err, ZW_ENOMEM, "out of memory");
}

int zw_ytree_load(struct zw_yfile **out, const char *path, const char *data, size_t len, struct zw_error *err)
{
	struct builder b = {.path = path, .err = err};
	struct zw_yfile *f = NULL;
	char *owned = NULL;
	size_t cap = 0;
	int rc = 0, parser_ready = 0;
	unsigned line, col;
	const char *what;

	*out = NULL;
	if (!data) {
		if ((rc = read_file(path, &owned, &len, err)))
			return rc;
		data = owned;
	} else if (len > ZW_YAML_MAX_FILE) {
		return zw_error_set_at(err, ZW_EINVAL, path, 1, 1, NULL,
				       "file is larger than 1 MiB; split it into several files");
	}
	if (check_bytes((const unsigned char *)data, len, &line, &col, &what)) {
		rc = zw_error_set_at(err, ZW_EINVAL, path, line, col, NULL, "%s", what);
		goto out;
	}
	if (!(f = zw_calloc(1, sizeof(*f))) || !(f->path = zw_strdup(path))) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	if (!yaml_parser_initialize(&b.parser)) {
		rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
		goto out;
	}
	parser_ready = 1;
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, len);

	for (;;) {
		yaml_event_t ev;
		if ((rc = next_event(&b, &ev)))
			goto out;
		yaml_event_type_t t = ev.type;
		unsigned dline = (unsigned)ev.start_mark.line + 1, dcol = (unsigned)ev.start_mark.column + 1;
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
		if (t != YAML_DOCUMENT_START_EVENT)
			continue; /* STREAM_START */
		if ((rc = next_event(&b, &ev)))
			goto out;
		if (ev.type == YAML_DOCUMENT_END_EVENT ||
		    (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 &&
		     ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
			yaml_event_delete(&ev);
			rc = fail_at(&b, dline, dcol, "empty document");
			goto out;
		}
		if (f->ndocs == cap) {
			size_t c = cap ? cap * 2 : 4;
			struct zw_ydoc *d = zw_realloc(f->docs, c * sizeof(*d));
			if (!d) {
				yaml_event_delete(&ev);
				rc = zw_error_set(err, ZW_ENOMEM, "out of memory");
				goto out;
			}
			f->docs = d;
			cap = c;
		}
		struct zw_ynode *root = NULL;
		if ((rc = build_node(&b, &ev, &root)))
			goto out;
		f->docs[f->ndocs].root = root;
		f->docs[f->ndocs].line = dline;
		f->ndocs++;
		if ((rc = next_event(&b, &ev)))
			goto out;
		yaml_event_delete(&ev); /* DOCUMENT_END */
	}
	if (f->ndocs == 0)
		rc = fail_at(&b, 1, 1, "empty file: no yaml document");
out:
	if (parser_ready)
		yaml_parser_delete(&b.parser);
	zw_free(owned);
	if (rc) {
		zw_ytree_free(f);
		return rc;
	}
	*out = f;
	return 0;
}
