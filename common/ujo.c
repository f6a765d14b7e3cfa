/* ujo.c — UJO writer, pull reader and the float16 conversion.
 * The tree lives in ujo_tree.c. Format facts: ../shared/reference/ujo-format.md.
 */
#include "ujo.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

const uint8_t ujo_header[UJO_HEADER_LEN] = {0x5f, 0x55, 0x4a, 0x4f, 0x01, 0x00, 0x00};

const char *ujo_strerror(int err)
{
	switch (err) {
	case UJO_OK: return "ok";
	case UJO_E_NOMEM: return "out of memory";
	case UJO_E_TRUNCATED: return "data ends inside a value";
	case UJO_E_HEADER: return "bad UJO header (magic, version or compression)";
	case UJO_E_TYPE: return "unknown type code or subtype";
	case UJO_E_PLACE: return "value not allowed at this position";
	case UJO_E_DEPTH: return "nesting too deep";
	case UJO_E_TRAILING: return "bytes after the end of the document";
	case UJO_E_TABLE: return "table without columns or with an incomplete row";
	case UJO_E_VALUE: return "invalid value";
	case UJO_E_STATE: return "document not complete";
	case UJO_E_TOOBIG: return "string or binary too long";
	default: return "unknown error";
	}
}

const char *ujo_type_name(int type)
{
	static const char *const names[] = {
		[UJO_F64] = "float64", [UJO_F32] = "float32", [UJO_F16] = "float16",
		[UJO_STRING] = "string", [UJO_I64] = "int64", [UJO_I32] = "int32",
		[UJO_I16] = "int16", [UJO_I8] = "int8", [UJO_U64] = "uint64",
		[UJO_U32] = "uint32", [UJO_U16] = "uint16", [UJO_U8] = "uint8",
		[UJO_BOOL] = "bool", [UJO_BIN] = "binary", [UJO_NONE] = "none",
		[UJO_UXTIME] = "uxtime", [UJO_DATE] = "date", [UJO_TIME] = "time",
		[UJO_TIMESTAMP] = "timestamp",
	};
	if (type == UJO_LIST) return "list";
	if (type == UJO_MAP) return "map";
	if (type == UJO_TABLE) return "table";
	if (type > 0 && type < (int)(sizeof names / sizeof names[0])) return names[type];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* float16, exactly as libujo-c's table-driven conversion: the mantissa
 * is truncated, values just below 65536 saturate to 65504. The tables are
 * computed inline from the exponent instead of being stored. */

int ujo_f32_to_f16(float f, uint16_t *out)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint16_t sign = (x >> 16) & 0x8000;
	int e = (int)((x >> 23) & 0xff) - 127;
	uint32_t mant = x & 0x007fffff;
	uint16_t base;
	int shift;

	if (e < -24) { base = 0; shift = 24; }
	else if (e < -14) { base = (uint16_t)(0x0400 >> (-e - 14)); shift = -e - 1; }
	else if (e <= 15) { base = (uint16_t)((e + 15) << 10); shift = 13; }
	else if (e < 128) { base = 0x7c00; shift = 24; }
	else { base = 0x7c00; shift = 13; }
	uint16_t h = (uint16_t)((base | sign) + (mant >> shift));
	if ((h & 0x7c00) == 0x7c00) return UJO_E_VALUE; /* Inf/NaN: libujo-c refuses */
	*out = h;
	return 0;
}

float ujo_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, x;

	if (e == 0 && m == 0) x = sign;
	else if (e == 0) { /* subnormal: normalise */
		int s = -1;
		do { s++; m <<= 1; } while (!(m & 0x400));
		x = sign | ((uint32_t)(127 - 15 - s) << 23) | ((m & 0x3ff) << 13);
	} else if (e == 31) x = sign | 0x7f800000 | (m << 13);
	else x = sign | ((e + 127 - 15) << 23) | (m << 13);
	float f;
	memcpy(&f, &x, 4);
	return f;
}

/* ------------------------------------------------------------------ */
/* Buffer                                                              */

void ujo_buf_init(struct ujo_buf *b) { memset(b, 0, sizeof *b); }

void ujo_buf_free(struct ujo_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

void ujo_buf_reset(struct ujo_buf *b)
{
	b->len = 0;
	b->err = 0;
}

int ujo_buf_reserve(struct ujo_buf *b, size_t extra)
{
	if (b->err) return b->err;
	if (extra <= b->cap - b->len) return 0;
	if (extra > SIZE_MAX / 2 - b->len) return b->err = UJO_E_NOMEM;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra) cap *= 2;
	uint8_t *d = realloc(b->data, cap);
	if (!d) return b->err = UJO_E_NOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

int ujo_buf_put(struct ujo_buf *b, const void *p, size_t n)
{
	int rc = ujo_buf_reserve(b, n);
	if (rc) return rc;
	if (n) memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

enum kind { K_ATOM, K_STRING, K_CONTAINER };

static int w_fail(struct ujo_writer *w, int err)
{
	if (!w->err) w->err = err;
	return w->err;
}

void ujo_w_init(struct ujo_writer *w, struct ujo_buf *b)
{
	memset(w, 0, offsetof(struct ujo_writer, st));
	w->b = b;
	if (ujo_buf_put(b, ujo_header, UJO_HEADER_LEN)) w->err = UJO_E_NOMEM;
}

void ujo_w_init_bare(struct ujo_writer *w, struct ujo_buf *b)
{
	memset(w, 0, offsetof(struct ujo_writer, st));
	w->b = b;
	w->depth = -1; /* marks bare mode until the first value */
}

int ujo_w_finish(struct ujo_writer *w)
{
	if (w->err) return w->err;
	if (!w->closed) return UJO_E_STATE; /* not sticky: the caller may go on */
	return 0;
}

/* Check that a value of this kind may come next and account for it in
 * the enclosing container. */
static int w_place(struct ujo_writer *w, enum kind k)
{
	if (w->err) return w->err;
	if (w->closed) return w_fail(w, UJO_E_STATE);
	if (w->depth <= 0) { /* root */
		if (w->depth == 0 && k != K_CONTAINER) return w_fail(w, UJO_E_PLACE);
		if (w->depth < 0) { w->depth = 0; if (k != K_CONTAINER) w->closed = true; }
		return 0;
	}
	struct ujo_wframe *f = &w->st[w->depth - 1];
	if (f->type == UJO_MAP) {
		if (f->phase == 0 && k == K_CONTAINER) return w_fail(w, UJO_E_PLACE);
		f->phase ^= 1;
	} else if (f->type == UJO_TABLE) {
		if (f->phase == 0) {
			if (k != K_STRING) return w_fail(w, UJO_E_PLACE);
			f->ncols++;
		} else f->count++;
	}
	return 0;
}

static int w_bytes(struct ujo_writer *w, enum kind k, uint8_t type, const uint8_t *le, size_t n)
{
	if (w_place(w, k)) return w->err;
	if (ujo_buf_reserve(w->b, 1 + n)) return w_fail(w, UJO_E_NOMEM);
	uint8_t *d = w->b->data + w->b->len;
	d[0] = type;
	if (n) memcpy(d + 1, le, n);
	w->b->len += 1 + n;
	return 0;
}

static void le(uint8_t *out, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static int w_int(struct ujo_writer *w, uint8_t type, uint64_t v, int n)
{
	uint8_t b[8];
	le(b, v, n);
	return w_bytes(w, K_ATOM, type, b, (size_t)n);
}

int ujo_w_none(struct ujo_writer *w) { return w_bytes(w, K_ATOM, UJO_NONE, NULL, 0); }
int ujo_w_bool(struct ujo_writer *w, bool v) { return w_int(w, UJO_BOOL, v ? 1 : 0, 1); }
int ujo_w_i8(struct ujo_writer *w, int8_t v) { return w_int(w, UJO_I8, (uint64_t)(int64_t)v, 1); }
int ujo_w_i16(struct ujo_writer *w, int16_t v) { return w_int(w, UJO_I16, (uint64_t)(int64_t)v, 2); }
int ujo_w_i32(struct ujo_writer *w, int32_t v) { return w_int(w, UJO_I32, (uint64_t)(int64_t)v, 4); }
int ujo_w_i64(struct ujo_writer *w, int64_t v) { return w_int(w, UJO_I64, (uint64_t)v, 8); }
int ujo_w_u8(struct ujo_writer *w, uint8_t v) { return w_int(w, UJO_U8, v, 1); }
int ujo_w_u16(struct ujo_writer *w, uint16_t v) { return w_int(w, UJO_U16, v, 2); }
int ujo_w_u32(struct ujo_writer *w, uint32_t v) { return w_int(w, UJO_U32, v, 4); }
int ujo_w_u64(struct ujo_writer *w, uint64_t v) { return w_int(w, UJO_U64, v, 8); }
int ujo_w_uxtime(struct ujo_writer *w, int64_t secs) { return w_int(w, UJO_UXTIME, (uint64_t)secs, 8); }
int ujo_w_f16_bits(struct ujo_writer *w, uint16_t bits) { return w_int(w, UJO_F16, bits, 2); }

int ujo_w_f16(struct ujo_writer *w, float v)
{
	uint16_t h;
	if (w->err) return w->err;
	if (ujo_f32_to_f16(v, &h)) return w_fail(w, UJO_E_VALUE);
	return ujo_w_f16_bits(w, h);
}

int ujo_w_f32(struct ujo_writer *w, float v)
{
	uint32_t x;
	memcpy(&x, &v, 4);
	return w_int(w, UJO_F32, x, 4);
}

int ujo_w_f32_bits(struct ujo_writer *w, uint32_t bits) { return w_int(w, UJO_F32, bits, 4); }

int ujo_w_f64(struct ujo_writer *w, double v)
{
	uint64_t x;
	memcpy(&x, &v, 8);
	return w_int(w, UJO_F64, x, 8);
}

static const uint8_t str_unit[4] = {1, 1, 2, 4};

/* Type byte, subtype, 32-bit count, then data (+ a NUL for C strings). */
static int w_blob(struct ujo_writer *w, enum kind k, uint8_t type, uint8_t sub,
		  const void *data, size_t nbytes, uint32_t count, bool nul)
{
	if (w_place(w, k)) return w->err;
	if (ujo_buf_reserve(w->b, 6 + nbytes + nul)) return w_fail(w, UJO_E_NOMEM);
	uint8_t *d = w->b->data + w->b->len;
	d[0] = type;
	d[1] = sub;
	le(d + 2, count, 4);
	if (nbytes) memcpy(d + 6, data, nbytes);
	if (nul) d[6 + nbytes] = 0;
	w->b->len += 6 + nbytes + nul;
	return 0;
}

int ujo_w_str(struct ujo_writer *w, int sub, const void *data, size_t units)
{
	if (w->err) return w->err;
	if (sub < 0 || sub > UJO_STR_UTF32) return w_fail(w, UJO_E_TYPE);
	if (sub == UJO_STR_C) {
		const char *nul = units ? memchr(data, 0, units) : NULL;
		if (nul) units = (size_t)(nul - (const char *)data); /* cut as libujo-c does */
		if (units >= UJO_MAX_BLOB) return w_fail(w, UJO_E_TOOBIG);
		return w_blob(w, K_STRING, UJO_STRING, 0, data, units, (uint32_t)units + 1, true);
	}
	if (units > UJO_MAX_BLOB / str_unit[sub]) return w_fail(w, UJO_E_TOOBIG);
	return w_blob(w, K_STRING, UJO_STRING, (uint8_t)sub, data, units * str_unit[sub], (uint32_t)units, false);
}

int ujo_w_utf8(struct ujo_writer *w, const char *s, size_t len) { return ujo_w_str(w, UJO_STR_UTF8, s, len); }
int ujo_w_cstr(struct ujo_writer *w, const char *s) { return ujo_w_str(w, UJO_STR_C, s, strlen(s)); }

int ujo_w_bin(struct ujo_writer *w, uint8_t sub, const void *data, size_t len)
{
	if (w->err) return w->err;
	if (len > UJO_MAX_BLOB) return w_fail(w, UJO_E_TOOBIG);
	return w_blob(w, K_ATOM, UJO_BIN, sub, data, len, (uint32_t)len, false);
}

int ujo_w_date(struct ujo_writer *w, int16_t year, uint8_t month, uint8_t day)
{
	uint8_t b[4];
	le(b, (uint16_t)year, 2);
	b[2] = month;
	b[3] = day;
	return w_bytes(w, K_ATOM, UJO_DATE, b, 4);
}

int ujo_w_time(struct ujo_writer *w, uint8_t hour, uint8_t minute, uint8_t second)
{
	uint8_t b[3] = {hour, minute, second};
	return w_bytes(w, K_ATOM, UJO_TIME, b, 3);
}

int ujo_w_timestamp(struct ujo_writer *w, const struct ujo_datetime *t)
{
	uint8_t b[9];
	le(b, (uint16_t)t->year, 2);
	b[2] = t->month;
	b[3] = t->day;
	b[4] = t->hour;
	b[5] = t->minute;
	b[6] = t->second;
	le(b + 7, t->msec, 2);
	return w_bytes(w, K_ATOM, UJO_TIMESTAMP, b, 9);
}

static int w_open(struct ujo_writer *w, uint8_t type)
{
	if (w->err) return w->err;
	if (w->depth >= UJO_MAX_DEPTH) return w_fail(w, UJO_E_DEPTH);
	if (w_bytes(w, K_CONTAINER, type, NULL, 0)) return w->err;
	struct ujo_wframe *f = &w->st[w->depth++];
	memset(f, 0, sizeof *f);
	f->type = type;
	return 0;
}

int ujo_w_list(struct ujo_writer *w) { return w_open(w, UJO_LIST); }
int ujo_w_map(struct ujo_writer *w) { return w_open(w, UJO_MAP); }
int ujo_w_table(struct ujo_writer *w) { return w_open(w, UJO_TABLE); }

static int w_term(struct ujo_writer *w)
{
	if (ujo_buf_put(w->b, "", 1)) return w_fail(w, UJO_E_NOMEM);
	return 0;
}

int ujo_w_table_cells(struct ujo_writer *w)
{
	if (w->err) return w->err;
	if (w->depth <= 0 || w->st[w->depth - 1].type != UJO_TABLE || w->st[w->depth - 1].phase)
		return w_fail(w, UJO_E_STATE);
	struct ujo_wframe *f = &w->st[w->depth - 1];
	if (f->ncols == 0) return w_fail(w, UJO_E_TABLE);
	f->phase = 1;
	return w_term(w);
}

int ujo_w_end(struct ujo_writer *w)
{
	if (w->err) return w->err;
	if (w->depth <= 0) return w_fail(w, UJO_E_STATE);
	struct ujo_wframe *f = &w->st[w->depth - 1];
	if (f->type == UJO_MAP && f->phase) return w_fail(w, UJO_E_PLACE); /* key without value */
	if (f->type == UJO_TABLE && (!f->phase || f->count % f->ncols)) return w_fail(w, UJO_E_TABLE);
	if (w_term(w)) return w->err;
	if (--w->depth == 0) w->closed = true;
	return 0;
}

int ujo_w_raw(struct ujo_writer *w, const void *val, size_t len)
{
	if (w->err) return w->err;
	if (len == 0) return w_fail(w, UJO_E_VALUE);
	uint8_t t = *(const uint8_t *)val;
	enum kind k = t == UJO_STRING ? K_STRING : (t >= UJO_LIST && t <= UJO_TABLE) ? K_CONTAINER : K_ATOM;
	bool bare_root = w->depth < 0;
	if (w_place(w, k)) return w->err;
	if (bare_root) w->closed = true; /* a spliced container is complete */
	if (ujo_buf_put(w->b, val, len)) return w_fail(w, UJO_E_NOMEM);
	if (w->depth == 0 && !bare_root) w->closed = true; /* whole root spliced */
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

int ujo_r_init(struct ujo_reader *r, const void *buf, size_t len)
{
	memset(r, 0, offsetof(struct ujo_reader, st));
	r->start = r->p = buf;
	r->end = r->start + len;
	if (len < UJO_HEADER_LEN || memcmp(buf, ujo_header, UJO_HEADER_LEN))
		return r->err = UJO_E_HEADER;
	r->p += UJO_HEADER_LEN;
	return 0;
}

int ujo_r_init_bare(struct ujo_reader *r, const void *buf, size_t len)
{
	memset(r, 0, offsetof(struct ujo_reader, st));
	r->start = r->p = buf;
	r->end = r->start + len;
	r->bare = true;
	return 0;
}

size_t ujo_r_offset(const struct ujo_reader *r) { return (size_t)(r->p - r->start); }

/* Little-endian loads; memcpy compiles to one move on any host. */
static inline uint16_t rd16(const uint8_t *p) { uint16_t x; memcpy(&x, p, 2); return le16toh(x); }
static inline uint32_t rd32(const uint8_t *p) { uint32_t x; memcpy(&x, p, 4); return le32toh(x); }
static inline uint64_t rd64(const uint8_t *p) { uint64_t x; memcpy(&x, p, 8); return le64toh(x); }

static uint64_t rd_le(const uint8_t *p, int n)
{
	switch (n) {
	case 1: return p[0];
	case 2: return rd16(p);
	case 4: return rd32(p);
	default: return rd64(p);
	}
}

/* Payload size of fixed-size atomics, -1 for others. */
static int fixed_size(uint8_t t)
{
	static const int8_t sz[0x14] = {
		[UJO_F64] = 8, [UJO_F32] = 4, [UJO_F16] = 2, [UJO_STRING] = -1,
		[UJO_I64] = 8, [UJO_I32] = 4, [UJO_I16] = 2, [UJO_I8] = 1,
		[UJO_U64] = 8, [UJO_U32] = 4, [UJO_U16] = 2, [UJO_U8] = 1,
		[UJO_BOOL] = 1, [UJO_BIN] = -1, [UJO_NONE] = 0, [UJO_UXTIME] = 8,
		[UJO_DATE] = 4, [UJO_TIME] = 3, [UJO_TIMESTAMP] = 9,
	};
	return t < 0x14 ? sz[t] : -1;
}

static void decode_fixed(struct ujo_value *v, const uint8_t *p)
{
	switch (v->type) {
	case UJO_F64: { uint64_t x = rd_le(p, 8); memcpy(&v->v.f, &x, 8); break; }
	case UJO_F32: { float f; v->f32 = (uint32_t)rd_le(p, 4); memcpy(&f, &v->f32, 4); v->v.f = f; break; }
	case UJO_F16: v->f16 = (uint16_t)rd_le(p, 2); v->v.f = ujo_f16_to_f32(v->f16); break;
	case UJO_I64: case UJO_UXTIME: v->v.i = (int64_t)rd_le(p, 8); break;
	case UJO_I32: v->v.i = (int32_t)(uint32_t)rd_le(p, 4); break;
	case UJO_I16: v->v.i = (int16_t)(uint16_t)rd_le(p, 2); break;
	case UJO_I8: v->v.i = (int8_t)p[0]; break;
	case UJO_U64: case UJO_U32: case UJO_U16: case UJO_U8:
		v->v.u = rd_le(p, fixed_size(v->type)); break;
	case UJO_BOOL: v->v.b = p[0] != 0; break; /* ujotypes: any non-zero is true */
	case UJO_DATE: case UJO_TIMESTAMP:
		v->v.dt.year = (int16_t)(uint16_t)rd_le(p, 2);
		v->v.dt.month = p[2];
		v->v.dt.day = p[3];
		if (v->type == UJO_TIMESTAMP) {
			v->v.dt.hour = p[4]; v->v.dt.minute = p[5]; v->v.dt.second = p[6];
			v->v.dt.msec = (uint16_t)rd_le(p + 7, 2);
		}
		break;
	case UJO_TIME: v->v.dt.hour = p[0]; v->v.dt.minute = p[1]; v->v.dt.second = p[2]; break;
	default: break;
	}
}

/* Strings and binaries: subtype, u32 count, data. */
static int read_blob(struct ujo_reader *r, struct ujo_value *v)
{
	const uint8_t *p = r->p + 1;
	if (r->end - p < 5) return UJO_E_TRUNCATED;
	v->subtype = p[0];
	uint64_t count = rd_le(p + 1, 4), nbytes = count;
	if (v->type == UJO_STRING) {
		if (v->subtype > UJO_STR_UTF32) return UJO_E_TYPE;
		nbytes = count * str_unit[v->subtype];
	}
	if (nbytes > UJO_MAX_BLOB) return UJO_E_TOOBIG;
	p += 5;
	if ((uint64_t)(r->end - p) < nbytes) return UJO_E_TRUNCATED;
	v->data = p;
	v->len = (size_t)nbytes;
	v->units = (size_t)count;
	if (v->type == UJO_STRING && v->subtype == UJO_STR_C) {
		/* exactly one NUL, the last byte */
		if (nbytes == 0 || p[nbytes - 1] != 0 || memchr(p, 0, nbytes - 1)) return UJO_E_VALUE;
		v->len--;
	}
	r->p = p + nbytes;
	return 0;
}

static int r_fail(struct ujo_reader *r, int err) { return r->err = err; }

/* The terminator at r->p: ends the column list of a table (silently) or
 * closes the innermost container. */
static int r_term(struct ujo_reader *r, struct ujo_value *v)
{
	if (r->depth == 0) return r_fail(r, UJO_E_PLACE);
	struct ujo_rframe *f = &r->st[r->depth - 1];
	if (f->type == UJO_MAP && f->phase) return r_fail(r, UJO_E_PLACE);
	if (f->type == UJO_TABLE && f->phase == 0) {
		if (f->ncols == 0) return r_fail(r, UJO_E_TABLE);
		f->phase = 1;
		r->p++;
		return ujo_r_next(r, v);
	}
	if (f->type == UJO_TABLE && f->count % f->ncols) return r_fail(r, UJO_E_TABLE);
	v->type = UJO_END;
	v->raw = r->p++;
	if (--r->depth == 0) r->done = true;
	return 1;
}

/* Placement of a value of type t in the current container; updates it. */
static int r_place(struct ujo_reader *r, struct ujo_value *v, uint8_t t)
{
	bool container = t >= UJO_LIST && t <= UJO_TABLE;
	if (r->depth == 0) {
		if (!r->bare && !container) return UJO_E_PLACE; /* root must be a container */
		if (!container) r->done = true;
		return 0;
	}
	struct ujo_rframe *f = &r->st[r->depth - 1];
	if (f->type == UJO_MAP) {
		if (f->phase == 0) {
			if (container) return UJO_E_PLACE;
			v->is_key = true;
		}
		f->phase ^= 1;
	} else if (f->type == UJO_TABLE) {
		if (f->phase == 0) {
			if (t != UJO_STRING) return UJO_E_PLACE;
			v->is_column = true;
			f->ncols++;
		} else f->count++;
	}
	return 0;
}

int ujo_r_next(struct ujo_reader *r, struct ujo_value *v)
{
	if (r->err) return r->err;
	if (r->done) return r->p == r->end ? 0 : r_fail(r, UJO_E_TRAILING);
	if (r->p >= r->end) return r_fail(r, UJO_E_TRUNCATED);
	uint8_t t = *r->p;
	v->is_key = v->is_column = false;
	if (t == UJO_END) return r_term(r, v);

	bool container = t >= UJO_LIST && t <= UJO_TABLE;
	int sz = fixed_size(t);
	if (!container && sz < 0 && t != UJO_STRING && t != UJO_BIN) return r_fail(r, UJO_E_TYPE);
	if (container && r->depth >= UJO_MAX_DEPTH) return r_fail(r, UJO_E_DEPTH);
	int rc = r_place(r, v, t);
	if (rc) return r_fail(r, rc);

	v->type = t;
	v->subtype = 0;
	v->raw = r->p;
	v->data = NULL;
	v->len = v->units = 0;
	v->f16 = 0;
	v->f32 = 0;
	if (container) {
		struct ujo_rframe *f = &r->st[r->depth++];
		memset(f, 0, sizeof *f);
		f->type = t;
		r->p++;
		return 1;
	}
	if (sz < 0) {
		rc = read_blob(r, v);
		if (rc) return r_fail(r, rc);
		return 1;
	}
	if (r->end - r->p - 1 < sz) return r_fail(r, UJO_E_TRUNCATED);
	decode_fixed(v, r->p + 1);
	r->p += 1 + sz;
	return 1;
}

int ujo_r_skip(struct ujo_reader *r, const struct ujo_value *v, const uint8_t **raw, size_t *rawlen)
{
	if (r->err) return r->err;
	if (v->type >= UJO_LIST && v->type <= UJO_TABLE) {
		int target = r->depth - 1; /* depth before the container opened */
		struct ujo_value x;
		while (r->depth > target) {
			int rc = ujo_r_next(r, &x);
			if (rc < 0) return rc;
			if (rc == 0) return r_fail(r, UJO_E_TRUNCATED);
		}
	}
	if (raw) *raw = v->raw;
	if (rawlen) *rawlen = (size_t)(r->p - v->raw);
	return 0;
}

int ujo_validate(const void *buf, size_t len, size_t *err_offset)
{
	struct ujo_reader r;
	struct ujo_value v;
	int rc = ujo_r_init(&r, buf, len);
	while (rc == 0 && (rc = ujo_r_next(&r, &v)) == 1) rc = 0;
	if (rc < 0 && err_offset) *err_offset = ujo_r_offset(&r);
	return rc < 0 ? rc : 0;
}

bool ujo_value_is_str(const struct ujo_value *v, const char *s)
{
	if (v->type != UJO_STRING || v->subtype > UJO_STR_UTF8) return false;
	size_t n = strlen(s);
	return v->len == n && memcmp(v->data, s, n) == 0;
}
