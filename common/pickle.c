/* pickle.c — Python pickle protocol 3 writer. The format and the CPython
 * details it reproduces are described in pickle.h. */
#include "pickle.h"

#include <string.h>

/* Opcodes (Python's Lib/pickletools.py names). */
enum {
	OP_PROTO = 0x80,
	OP_STOP = '.',
	OP_NONE = 'N',
	OP_NEWTRUE = 0x88,
	OP_NEWFALSE = 0x89,
	OP_BININT = 'J',
	OP_BININT1 = 'K',
	OP_BININT2 = 'M',
	OP_LONG1 = 0x8a,
	OP_BINFLOAT = 'G',
	OP_BINUNICODE = 'X',
	OP_EMPTY_DICT = '}',
	OP_EMPTY_LIST = ']',
	OP_MARK = '(',
	OP_SETITEM = 's',
	OP_SETITEMS = 'u',
	OP_APPEND = 'a',
	OP_APPENDS = 'e',
	OP_BINPUT = 'q',
	OP_LONG_BINPUT = 'r',
	OP_BINGET = 'h',
	OP_LONG_BINGET = 'j',
};

/* CPython's _pickle.c BATCHSIZE: items per MARK ... SETITEMS group. */
#define BATCH 1000u

const char *pickle_strerror(int err)
{
	switch (err) {
	case PICKLE_OK: return "ok";
	case PICKLE_E_NOMEM: return "out of memory";
	case PICKLE_E_STATE: return "pickle writer misuse (item count or order)";
	case PICKLE_E_DEPTH: return "nesting too deep";
	case PICKLE_E_TOOBIG: return "string or container too large";
	}
	return "unknown pickle error";
}

static int fail(struct pickle_writer *w, int err)
{
	if (w->err == PICKLE_OK) w->err = err;
	return w->err;
}

static int put(struct pickle_writer *w, const void *p, size_t n)
{
	if (ujo_buf_put(w->b, p, n) != 0) return fail(w, PICKLE_E_NOMEM);
	return PICKLE_OK;
}

static int put1(struct pickle_writer *w, uint8_t op)
{
	return put(w, &op, 1);
}

static void le(uint8_t *out, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) out[i] = (uint8_t)(v >> (8 * i));
}

void pickle_w_init(struct pickle_writer *w, struct ujo_buf *b)
{
	memset(w, 0, sizeof *w);
	w->b = b;
	const uint8_t hdr[2] = {OP_PROTO, 3};
	put(w, hdr, sizeof hdr);
}

/* Memo entry after a str, dict or list, as CPython's memo_put writes it. */
static int memo(struct pickle_writer *w)
{
	uint8_t op[5];
	uint32_t i = w->memo++;
	if (i < 256) {
		op[0] = OP_BINPUT;
		op[1] = (uint8_t)i;
		return put(w, op, 2);
	}
	op[0] = OP_LONG_BINPUT;
	le(op + 1, i, 4);
	return put(w, op, 5);
}

/* Checks before any value: room for it where it goes. */
static int before(struct pickle_writer *w, bool container)
{
	if (w->err) return w->err;
	if (w->depth == 0) return w->root_done ? fail(w, PICKLE_E_STATE) : PICKLE_OK;
	const struct pickle_frame *f = &w->st[w->depth - 1];
	if (f->done == f->n) return fail(w, PICKLE_E_STATE);  /* more than announced */
	if (container && f->dict && !f->want_value) return fail(w, PICKLE_E_STATE); /* unhashable key */
	return PICKLE_OK;
}

/* After a complete value: count the item and close a full batch. A full
 * dict batch always opens the next (CPython's quirk, see pickle.h); a
 * list batch only when items remain. */
static int after(struct pickle_writer *w)
{
	if (w->depth == 0) {
		w->root_done = true;
		return w->err;
	}
	struct pickle_frame *f = &w->st[w->depth - 1];
	if (f->dict && !f->want_value) {
		f->want_value = true;
		return w->err;
	}
	f->want_value = false;
	f->done++;
	if (f->n > 1 && f->done % BATCH == 0) {
		put1(w, f->dict ? OP_SETITEMS : OP_APPENDS);
		f->batch_open = f->dict || f->done < f->n;
		if (f->batch_open) put1(w, OP_MARK);
	}
	return w->err;
}

int pickle_w_none(struct pickle_writer *w)
{
	if (before(w, false)) return w->err;
	put1(w, OP_NONE);
	return after(w);
}

int pickle_w_bool(struct pickle_writer *w, bool v)
{
	if (before(w, false)) return w->err;
	put1(w, v ? OP_NEWTRUE : OP_NEWFALSE);
	return after(w);
}

/* LONG1 payload: the shortest little-endian two's complement form. */
static int long1(struct pickle_writer *w, int64_t v)
{
	uint8_t op[10];
	int n = 8;
	le(op + 2, (uint64_t)v, 8);
	while (n > 1 && ((op[1 + n] == 0x00 && !(op[n] & 0x80)) || (op[1 + n] == 0xff && (op[n] & 0x80))))
		n--;
	op[0] = OP_LONG1;
	op[1] = (uint8_t)n;
	return put(w, op, 2 + (size_t)n);
}

int pickle_w_int(struct pickle_writer *w, int64_t v)
{
	uint8_t op[5];
	if (before(w, false)) return w->err;
	if (v >= 0 && v <= 0xff) {
		op[0] = OP_BININT1;
		op[1] = (uint8_t)v;
		put(w, op, 2);
	} else if (v >= 0 && v <= 0xffff) {
		op[0] = OP_BININT2;
		le(op + 1, (uint64_t)v, 2);
		put(w, op, 3);
	} else if (v >= INT32_MIN && v <= INT32_MAX) {
		op[0] = OP_BININT;
		le(op + 1, (uint64_t)v, 4);
		put(w, op, 5);
	} else {
		long1(w, v);
	}
	return after(w);
}

int pickle_w_float(struct pickle_writer *w, double v)
{
	uint8_t op[9];
	uint64_t bits;
	if (before(w, false)) return w->err;
	memcpy(&bits, &v, sizeof bits);
	op[0] = OP_BINFLOAT;
	for (int i = 0; i < 8; i++) op[1 + i] = (uint8_t)(bits >> (56 - 8 * i)); /* big-endian */
	put(w, op, sizeof op);
	return after(w);
}

/* Slot in w->single of a string CPython shares (pickle.h), or -1. */
static int single_slot(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	if (len == 0) return 256;
	if (len == 1 && u[0] < 0x80) return u[0];
	if (len == 2 && (u[0] == 0xc2 || u[0] == 0xc3) && (u[1] & 0xc0) == 0x80)
		return (u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	return -1;
}

static int memo_get(struct pickle_writer *w, uint32_t i)
{
	uint8_t op[5];
	if (i < 256) {
		op[0] = OP_BINGET;
		op[1] = (uint8_t)i;
		return put(w, op, 2);
	}
	op[0] = OP_LONG_BINGET;
	le(op + 1, i, 4);
	return put(w, op, 5);
}

int pickle_w_str(struct pickle_writer *w, const char *s, size_t len)
{
	uint8_t op[5];
	if (before(w, false)) return w->err;
	if (len > UINT32_MAX) return fail(w, PICKLE_E_TOOBIG);
	int slot = single_slot(s, len);
	if (slot >= 0 && w->single[slot] != 0) {
		memo_get(w, w->single[slot] - 1);
		return after(w);
	}
	if (slot >= 0) w->single[slot] = w->memo + 1;
	op[0] = OP_BINUNICODE;
	le(op + 1, len, 4);
	if (put(w, op, sizeof op) || put(w, s, len) || memo(w)) return w->err;
	return after(w);
}

static int open_container(struct pickle_writer *w, bool dict, size_t n)
{
	if (before(w, true)) return w->err;
	if (w->depth == PICKLE_MAX_DEPTH) return fail(w, PICKLE_E_DEPTH);
	if (n > UINT32_MAX) return fail(w, PICKLE_E_TOOBIG);
	if (put1(w, dict ? OP_EMPTY_DICT : OP_EMPTY_LIST) || memo(w)) return w->err;
	struct pickle_frame *f = &w->st[w->depth++];
	*f = (struct pickle_frame){.dict = dict, .n = (uint32_t)n, .batch_open = n > 1};
	if (f->batch_open) put1(w, OP_MARK);
	return w->err;
}

int pickle_w_dict(struct pickle_writer *w, size_t n)
{
	return open_container(w, true, n);
}

int pickle_w_list(struct pickle_writer *w, size_t n)
{
	return open_container(w, false, n);
}

int pickle_w_end(struct pickle_writer *w)
{
	if (w->err) return w->err;
	if (w->depth == 0) return fail(w, PICKLE_E_STATE);
	const struct pickle_frame *f = &w->st[w->depth - 1];
	if (f->done != f->n || f->want_value) return fail(w, PICKLE_E_STATE);
	if (f->n == 1) put1(w, f->dict ? OP_SETITEM : OP_APPEND);
	else if (f->batch_open) put1(w, f->dict ? OP_SETITEMS : OP_APPENDS);
	w->depth--;
	return after(w);
}

int pickle_w_finish(struct pickle_writer *w)
{
	if (w->err) return w->err;
	if (w->depth != 0 || !w->root_done) return fail(w, PICKLE_E_STATE);
	return put1(w, OP_STOP);
}
