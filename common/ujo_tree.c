/* ujo_tree.c — the tree form of a UJO document, built on the pull
 * reader (so it validates exactly as strictly) with every node in one
 * arena that is freed at once. */
#include "ujo.h"

#include <stdlib.h>
#include <string.h>

/* The arena (ujo.h): nodes are never freed one by one. */
struct ujo_arena {
	struct ujo_arena *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK (64u * 1024u)

void *ujo_arena_alloc(struct ujo_arena **a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!n) n = sizeof(max_align_t);
	if (!*a || (*a)->cap - (*a)->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		struct ujo_arena *c = malloc(sizeof *c + cap);
		if (!c) return NULL;
		c->next = *a;
		c->used = 0;
		c->cap = cap;
		*a = c;
	}
	void *p = (char *)(*a)->data + (*a)->used;
	(*a)->used += n;
	memset(p, 0, n);
	return p;
}

void ujo_arena_free(struct ujo_arena *a)
{
	while (a) {
		struct ujo_arena *n = a->next;
		free(a);
		a = n;
	}
}

/* Children of all open containers wait on one growable stack; when a
 * container closes, its run is copied into the arena. */
struct scratch {
	struct ujo_node *v;
	size_t len, cap;
};

static struct ujo_node *scratch_push(struct scratch *s)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct ujo_node *v = realloc(s->v, cap * sizeof *v);
		if (!v) return NULL;
		s->v = v;
		s->cap = cap;
	}
	struct ujo_node *n = &s->v[s->len++];
	memset(n, 0, sizeof *n);
	return n;
}

static void node_from_value(struct ujo_node *n, const struct ujo_value *v)
{
	n->type = v->type;
	n->subtype = v->subtype;
	n->f16 = v->f16;
	n->f32 = v->f32;
	n->data = v->data;
	n->len = v->len;
	n->units = v->units;
	if (v->type < UJO_LIST) memcpy(&n->v, &v->v, sizeof v->v);
}

/* Close the container whose node sits at index `at` of the scratch. */
static int close_container(struct ujo_arena **a, struct scratch *s, size_t at)
{
	struct ujo_node *c = &s->v[at];
	size_t n = s->len - at - 1;
	c->n = n;
	c->v.kids = NULL;
	if (n) {
		c->v.kids = ujo_arena_alloc(a, n * sizeof *c->v.kids);
		if (!c->v.kids) return UJO_E_NOMEM;
		memcpy(c->v.kids, &s->v[at + 1], n * sizeof *c->v.kids);
	}
	s->len = at + 1;
	return 0;
}

static int build(struct ujo_tree *t, struct ujo_reader *r, struct scratch *s)
{
	size_t open[UJO_MAX_DEPTH + 1];
	int depth = 0, rc;
	struct ujo_value v;

	while ((rc = ujo_r_next(r, &v)) == 1) {
		if (v.type == UJO_END) {
			rc = close_container(&t->arena, s, open[--depth]);
			if (rc) return rc;
			continue;
		}
		struct ujo_node *n = scratch_push(s);
		if (!n) return UJO_E_NOMEM;
		node_from_value(n, &v);
		if (v.type >= UJO_LIST) open[depth++] = s->len - 1;
		if (v.is_column) s->v[open[depth - 1]].ncols++;
	}
	return rc;
}

static int tree_parse(struct ujo_tree *t, struct ujo_reader *r, int rc, size_t *err_offset)
{
	struct scratch s = {0};
	memset(t, 0, sizeof *t);
	if (rc == 0) rc = build(t, r, &s);
	if (rc == 0 && s.len == 1) {
		t->root = ujo_arena_alloc(&t->arena, sizeof *t->root);
		if (t->root) *t->root = s.v[0];
		else rc = UJO_E_NOMEM;
	} else if (rc == 0) rc = UJO_E_STATE;
	free(s.v);
	if (rc) {
		if (err_offset) *err_offset = ujo_r_offset(r);
		ujo_tree_free(t);
	}
	return rc;
}

int ujo_tree_parse(struct ujo_tree *t, const void *buf, size_t len, size_t *err_offset)
{
	struct ujo_reader r;
	int rc = ujo_r_init(&r, buf, len);
	return tree_parse(t, &r, rc, err_offset);
}

int ujo_tree_parse_bare(struct ujo_tree *t, const void *buf, size_t len, size_t *err_offset)
{
	struct ujo_reader r;
	int rc = ujo_r_init_bare(&r, buf, len);
	return tree_parse(t, &r, rc, err_offset);
}

void ujo_tree_free(struct ujo_tree *t)
{
	ujo_arena_free(t->arena);
	t->arena = NULL;
	t->root = NULL;
}

static int write_atom(struct ujo_writer *w, const struct ujo_node *n)
{
	switch (n->type) {
	case UJO_NONE: return ujo_w_none(w);
	case UJO_BOOL: return ujo_w_bool(w, n->v.b);
	case UJO_I8: return ujo_w_i8(w, (int8_t)n->v.i);
	case UJO_I16: return ujo_w_i16(w, (int16_t)n->v.i);
	case UJO_I32: return ujo_w_i32(w, (int32_t)n->v.i);
	case UJO_I64: return ujo_w_i64(w, n->v.i);
	case UJO_U8: return ujo_w_u8(w, (uint8_t)n->v.u);
	case UJO_U16: return ujo_w_u16(w, (uint16_t)n->v.u);
	case UJO_U32: return ujo_w_u32(w, (uint32_t)n->v.u);
	case UJO_U64: return ujo_w_u64(w, n->v.u);
	case UJO_F16: return ujo_w_f16_bits(w, n->f16);
	case UJO_F32: return ujo_w_f32_bits(w, n->f32);
	case UJO_F64: return ujo_w_f64(w, n->v.f);
	case UJO_STRING:
		return ujo_w_str(w, n->subtype, n->data, n->subtype == UJO_STR_C ? n->len : n->units);
	case UJO_BIN: return ujo_w_bin(w, n->subtype, n->data, n->len);
	case UJO_UXTIME: return ujo_w_uxtime(w, n->v.i);
	case UJO_DATE: return ujo_w_date(w, n->v.dt.year, n->v.dt.month, n->v.dt.day);
	case UJO_TIME: return ujo_w_time(w, n->v.dt.hour, n->v.dt.minute, n->v.dt.second);
	case UJO_TIMESTAMP: return ujo_w_timestamp(w, &n->v.dt);
	default: return UJO_E_TYPE;
	}
}

int ujo_tree_write(struct ujo_writer *w, const struct ujo_node *n)
{
	int rc;
	if (n->type < UJO_LIST) return write_atom(w, n);
	rc = n->type == UJO_LIST ? ujo_w_list(w) : n->type == UJO_MAP ? ujo_w_map(w) : ujo_w_table(w);
	for (size_t i = 0; rc == 0 && i < n->n; i++) {
		if (n->type == UJO_TABLE && i == n->ncols) rc = ujo_w_table_cells(w);
		if (rc == 0) rc = ujo_tree_write(w, &n->v.kids[i]);
	}
	if (rc == 0 && n->type == UJO_TABLE && n->n == n->ncols) rc = ujo_w_table_cells(w);
	return rc ? rc : ujo_w_end(w);
}

const struct ujo_node *ujo_map_get(const struct ujo_node *map, const char *key)
{
	if (!map || map->type != UJO_MAP) return NULL;
	size_t klen = strlen(key);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ujo_node *k = &map->v.kids[i];
		if (k->type == UJO_STRING && k->subtype <= UJO_STR_UTF8 && k->len == klen &&
		    memcmp(k->data, key, klen) == 0)
			return &map->v.kids[i + 1];
	}
	return NULL;
}
