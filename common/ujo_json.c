/* ujo_json.c — JSON text ⇄ UJO. The mapping and the annotation syntax are
 * described in ujo_json.h; the UJO facts in ../shared/reference/ujo-format.md.
 */
#include "ujo_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */

/* Length of the valid UTF-8 sequence at s (1–4) and its code point, or 0
 * when the bytes are not valid UTF-8 (overlong forms, surrogates, code
 * points above U+10FFFF and cut sequences are all invalid). */
static size_t utf8_len(const uint8_t *s, size_t n, uint32_t *cp)
{
	if (n == 0) return 0;
	uint8_t c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) { *cp = c; return 1; }
	if (c >= 0xc2 && c <= 0xdf) { len = 2; v = c & 0x1f; min = 0x80; }
	else if ((c & 0xf0) == 0xe0) { len = 3; v = c & 0x0f; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; v = c & 0x07; min = 0x10000; }
	else return 0;
	if (n < len) return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
	*cp = v;
	return len;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
	uint32_t cp;
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_len(s + i, n - i, &cp))) return false;
	return true;
}

static int utf8_put(struct ujo_buf *b, uint32_t cp)
{
	uint8_t o[4];
	size_t n;
	if (cp < 0x80) { o[0] = (uint8_t)cp; n = 1; }
	else if (cp < 0x800) { o[0] = (uint8_t)(0xc0 | cp >> 6); n = 2; }
	else if (cp < 0x10000) { o[0] = (uint8_t)(0xe0 | cp >> 12); n = 3; }
	else { o[0] = (uint8_t)(0xf0 | cp >> 18); n = 4; }
	for (size_t i = 1; i < n; i++) o[i] = (uint8_t)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	return ujo_buf_put(b, o, n);
}

#define REPLACEMENT 0xfffdu

static uint32_t rd_le(const uint8_t *p, int n)
{
	uint32_t v = 0;
	for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
	return v;
}

/* UTF-16LE code units → UTF-8; lone surrogates become U+FFFD. */
static int utf16_to_utf8(const uint8_t *d, size_t units, struct ujo_buf *out, bool *lossless)
{
	for (size_t i = 0; i < units; i++) {
		uint32_t u = rd_le(d + 2 * i, 2);
		if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
			uint32_t lo = rd_le(d + 2 * i + 2, 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			}
		}
		if (u >= 0xd800 && u <= 0xdfff) { u = REPLACEMENT; *lossless = false; }
		if (utf8_put(out, u)) return UJO_E_NOMEM;
	}
	return 0;
}

int ujo_json_str_to_utf8(const struct ujo_value *v, struct ujo_buf *out)
{
	bool lossless = true;
	uint32_t cp;
	if (v->subtype == UJO_STR_UTF16) {
		if (utf16_to_utf8(v->data, v->len / 2, out, &lossless)) return UJO_E_NOMEM;
	} else if (v->subtype == UJO_STR_UTF32) {
		for (size_t i = 0; i + 4 <= v->len; i += 4) {
			cp = rd_le(v->data + i, 4);
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) { cp = REPLACEMENT; lossless = false; }
			if (utf8_put(out, cp)) return UJO_E_NOMEM;
		}
	} else { /* C string or UTF-8: copy valid runs, replace each bad byte */
		size_t i = 0, run = 0, k;
		while (i < v->len) {
			if ((k = utf8_len(v->data + i, v->len - i, &cp))) { i += k; continue; }
			ujo_buf_put(out, v->data + run, i - run);
			utf8_put(out, REPLACEMENT);
			lossless = false;
			run = ++i;
		}
		if (run < i) ujo_buf_put(out, v->data + run, i - run); /* data may be NULL when empty */
	}
	return out->err ? UJO_E_NOMEM : lossless;
}

int ujo_json_put_string(struct ujo_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	ujo_buf_put(out, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = {'\\', 0};
		size_t k = 2;
		if (c == '"' || c == '\\') esc[1] = (char)c;
		else if (c == '\n') esc[1] = 'n';
		else if (c == '\r') esc[1] = 'r';
		else if (c == '\t') esc[1] = 't';
		else if (c == '\b') esc[1] = 'b';
		else if (c == '\f') esc[1] = 'f';
		else if (c < 0x20) { memcpy(esc + 1, "u00", 3); esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; k = 6; }
		else continue;
		ujo_buf_put(out, s + run, i - run);
		ujo_buf_put(out, esc, k);
		run = i + 1;
	}
	if (run < n) ujo_buf_put(out, s + run, n - run); /* s may be NULL when n is 0 */
	return ujo_buf_put(out, "\"", 1);
}

/* ------------------------------------------------------------------ */
/* Scalars as text                                                     */

/* Does the decimal text read back to exactly the value? float32 is
 * checked as float32 (3.14, not 3.1400001049041748). A float16 has so few
 * bits that its exact decimal is short, so it is checked as a double: the
 * text is then the exact value (4.12890625), which the encoder reads with
 * strtof exactly, and truncating an exactly representable value to
 * float16 changes nothing, so the same bits come back. */
static bool reads_back(const char *txt, const struct ujo_value *v)
{
	if (v->type == UJO_F32) return strtof(txt, NULL) == (float)v->v.f;
	return strtod(txt, NULL) == v->v.f;
}

/* Shortest %g form that reads back, always with '.' or 'e' so that it
 * stays a float when read as JSON again. */
static int fmt_float(char *buf, size_t size, const struct ujo_value *v)
{
	double d = v->v.f;
	if (isnan(d)) return snprintf(buf, size, "nan");
	if (isinf(d)) return snprintf(buf, size, d > 0 ? "inf" : "-inf");
	int p = v->type == UJO_F64 ? 15 : v->type == UJO_F32 ? 6 : 3;
	for (; p < 17; p++) {
		snprintf(buf, size, "%.*g", p, d);
		if (reads_back(buf, v)) break;
	}
	int n = snprintf(buf, size, "%.*g", p, d);
	if (n > 0 && (size_t)n + 2 < size && !strpbrk(buf, ".e")) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return n;
}

static int fmt_date(char *buf, size_t size, const struct ujo_datetime *t)
{
	int y = t->year;
	return snprintf(buf, size, "%s%04d-%02d-%02d", y < 0 ? "-" : "", y < 0 ? -y : y, t->month, t->day);
}

size_t ujo_json_scalar_text(const struct ujo_value *v, char *buf, size_t size)
{
	const struct ujo_datetime *t = &v->v.dt;
	int n = 0;
	switch (v->type) {
	case UJO_NONE: n = snprintf(buf, size, "null"); break;
	case UJO_BOOL: n = snprintf(buf, size, v->v.b ? "true" : "false"); break;
	case UJO_I8: case UJO_I16: case UJO_I32: case UJO_I64: case UJO_UXTIME:
		n = snprintf(buf, size, "%" PRId64, v->v.i); break;
	case UJO_U8: case UJO_U16: case UJO_U32: case UJO_U64:
		n = snprintf(buf, size, "%" PRIu64, v->v.u); break;
	case UJO_F16: case UJO_F32: case UJO_F64: n = fmt_float(buf, size, v); break;
	case UJO_DATE: n = fmt_date(buf, size, t); break;
	case UJO_TIME: n = snprintf(buf, size, "%02d:%02d:%02d", t->hour, t->minute, t->second); break;
	case UJO_TIMESTAMP:
		n = fmt_date(buf, size, t);
		if (n > 0 && (size_t)n < size)
			n += snprintf(buf + n, size - (size_t)n, "T%02d:%02d:%02d.%03d", t->hour, t->minute,
				      t->second, t->msec);
		break;
	default: return 0;
	}
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* ------------------------------------------------------------------ */
/* JSON → UJO: the parser                                              */

/* Keys of one open map, to refuse duplicates. A key is identified by its
 * encoded bytes in the output buffer (so "a" and "\u0061" are equal, and
 * in the pair form int64 1 and int8 1 are not), kept as offsets because
 * the buffer moves when it grows. Open addressing over a table whose
 * used part starts small for every map, so many small maps stay cheap. */
struct keyset {
	struct key { size_t off; uint32_t len, hash; } *keys;
	size_t n, cap;
	uint32_t *slot; /* 0 = empty, else key index + 1 */
	size_t nslot;   /* allocated */
	size_t mask;    /* used slots - 1 */
};

struct jp {
	const uint8_t *s;
	size_t len, p;
	struct ujo_writer *w;
	struct ujo_json_error *err;
	int nest;
	int rc;             /* first error */
	size_t keyat;       /* where the last object key started */
	struct ujo_buf str; /* the last string read, NUL-terminated */
	struct ujo_buf bin; /* binary or UTF-16/32 data being built */
	struct keyset ks[UJO_MAX_DEPTH];
};

static void position(const uint8_t *s, size_t at, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < at; i++) {
		if (s[i] == '\n') { l++; c = 1; }
		else if ((s[i] & 0xc0) != 0x80) c++; /* count characters, not bytes */
	}
	*line = l;
	*col = c;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct jp *jp, size_t at, const char *fmt, ...)
{
	if (jp->rc) return jp->rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(jp->err->msg, sizeof jp->err->msg, fmt, ap);
	va_end(ap);
	jp->err->offset = at;
	position(jp->s, at, &jp->err->line, &jp->err->column);
	return jp->rc = UJO_JSON_E_SYNTAX;
}

static int nomem(struct jp *jp)
{
	if (jp->rc) return jp->rc;
	snprintf(jp->err->msg, sizeof jp->err->msg, "out of memory");
	return jp->rc = UJO_E_NOMEM;
}

/* The writer refused a value: say why in terms of the JSON. The writer's
 * state still describes the position, as it fails before changing it. */
static int writer_fail(struct jp *jp, size_t at, int rc)
{
	const struct ujo_writer *w = jp->w;
	const struct ujo_wframe *f = w->depth > 0 ? &w->st[w->depth - 1] : NULL;
	switch (rc) {
	case UJO_E_NOMEM: return nomem(jp);
	case UJO_E_DEPTH: return fail(jp, at, "nesting deeper than %d containers", UJO_MAX_DEPTH);
	case UJO_E_TOOBIG: return fail(jp, at, "string or binary longer than %u bytes", UJO_MAX_BLOB);
	case UJO_E_TABLE: return fail(jp, at, "a table needs at least one column");
	case UJO_E_PLACE:
		if (!f) return fail(jp, at, "the top level must be an array or object (a UJO document starts with a container)");
		if (f->type == UJO_MAP && f->phase == 0) return fail(jp, at, "a map key must be an atomic value, not a container");
		if (f->type == UJO_TABLE && f->phase == 0) return fail(jp, at, "a table column name must be a string");
		break;
	default: break;
	}
	return fail(jp, at, "cannot write this value: %s", ujo_strerror(rc));
}

static int wr(struct jp *jp, size_t at, int rc) { return rc < 0 ? writer_fail(jp, at, rc) : 0; }

static int peek(const struct jp *jp) { return jp->p < jp->len ? jp->s[jp->p] : -1; }

static void skip_ws(struct jp *jp)
{
	while (jp->p < jp->len) {
		uint8_t c = jp->s[jp->p];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
		jp->p++;
	}
}

/* "expected X, found Y" at the current position. */
static int unexpected(struct jp *jp, const char *expected)
{
	char found[32];
	uint32_t cp;
	int c = peek(jp);
	if (c < 0) snprintf(found, sizeof found, "the end of the input");
	else if (c >= 0x20 && c < 0x7f) snprintf(found, sizeof found, "'%c'", c);
	else if (utf8_len(jp->s + jp->p, jp->len - jp->p, &cp) > 1) snprintf(found, sizeof found, "U+%04" PRIX32, cp);
	else snprintf(found, sizeof found, "byte 0x%02x", (unsigned)c);
	return fail(jp, jp->p, "expected %s, found %s", expected, found);
}

static bool str_is(const struct jp *jp, const char *s)
{
	return jp->str.len == strlen(s) && memcmp(jp->str.data, s, jp->str.len) == 0;
}

/* A short printable form of the last string, for messages. */
static const char *str_preview(struct jp *jp)
{
	static const size_t max = 40;
	if (jp->str.len > max) memcpy(jp->str.data + max - 3, "...", 4);
	return (const char *)jp->str.data;
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* The four hex digits of a \u escape at s[i]. */
static long hex4(const struct jp *jp, size_t i)
{
	long v = 0;
	if (jp->len - i < 4) return -1;
	for (int k = 0; k < 4; k++) {
		int d = hexval(jp->s[i + k]);
		if (d < 0) return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Escape at s[i] (the backslash); appends the character, returns the
 * index after the escape or 0 after failing. */
static size_t parse_escape(struct jp *jp, size_t i)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	int c = i + 1 < jp->len ? jp->s[i + 1] : -1;
	const char *e = c > 0 ? strchr(from, c) : NULL;
	if (e) {
		ujo_buf_put(&jp->str, &to[e - from], 1);
		return i + 2;
	}
	if (c != 'u') { fail(jp, i, "invalid escape sequence in a string"); return 0; }
	long u = hex4(jp, i + 2);
	if (u < 0) { fail(jp, i, "\\u must be followed by four hex digits"); return 0; }
	size_t next = i + 6;
	if (u >= 0xd800 && u <= 0xdbff && next + 1 < jp->len && jp->s[next] == '\\' && jp->s[next + 1] == 'u') {
		long lo = hex4(jp, next + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			next += 6;
		}
	}
	if (u >= 0xd800 && u <= 0xdfff) { fail(jp, i, "lone surrogate \\u%04lX in a string", u); return 0; }
	utf8_put(&jp->str, (uint32_t)u);
	return next;
}

/* The string at jp->p (its opening quote) into jp->str, validated. */
static int parse_string(struct jp *jp)
{
	size_t start = jp->p, i = jp->p + 1;
	uint32_t cp;
	ujo_buf_reset(&jp->str);
	for (;;) {
		size_t run = i, k;
		while (i < jp->len && jp->s[i] >= 0x20 && jp->s[i] < 0x80 && jp->s[i] != '"' && jp->s[i] != '\\') i++;
		ujo_buf_put(&jp->str, jp->s + run, i - run);
		if (i >= jp->len) return fail(jp, start, "unterminated string");
		uint8_t c = jp->s[i];
		if (c == '"') break;
		if (c < 0x20) return fail(jp, i, "control character U+%04X in a string must be escaped", c);
		if (c == '\\') {
			if (!(i = parse_escape(jp, i))) return jp->rc;
			continue;
		}
		if (!(k = utf8_len(jp->s + i, jp->len - i, &cp))) return fail(jp, i, "invalid UTF-8 in a string");
		ujo_buf_put(&jp->str, jp->s + i, k);
		i += k;
	}
	jp->p = i + 1;
	if (ujo_buf_put(&jp->str, "", 1)) return nomem(jp);
	jp->str.len--; /* NUL-terminated for messages and strtod, not counted */
	return 0;
}

/* A string value is required here; `what` names it in the message. */
static int expect_string(struct jp *jp, const char *what)
{
	skip_ws(jp);
	if (peek(jp) != '"') return unexpected(jp, what);
	return parse_string(jp);
}

static int literal(struct jp *jp, const char *word)
{
	size_t n = strlen(word);
	if (jp->len - jp->p < n || memcmp(jp->s + jp->p, word, n)) return fail(jp, jp->p, "invalid literal (expected %s)", word);
	jp->p += n;
	return 0;
}

/* ---- arrays and objects ---- */

/* Step through an array whose '[' was consumed. Returns 1 with the
 * position at the next element, 0 after consuming ']', or an error. */
static int arr_next(struct jp *jp, bool *first)
{
	skip_ws(jp);
	if (peek(jp) == ']' && *first) { jp->p++; return 0; }
	if (!*first) {
		if (peek(jp) == ']') { jp->p++; return 0; }
		if (peek(jp) != ',') return unexpected(jp, "',' or ']'");
		jp->p++;
	}
	*first = false;
	return 1;
}

/* Step through an object whose '{' was consumed. Returns 1 with the key
 * in jp->str (started at jp->keyat) and its ':' consumed, 0 after
 * consuming '}', or an error. */
static int obj_next(struct jp *jp, bool *first)
{
	skip_ws(jp);
	if (peek(jp) == '}' && *first) { jp->p++; return 0; }
	if (!*first) {
		if (peek(jp) == '}') { jp->p++; return 0; }
		if (peek(jp) != ',') return unexpected(jp, "',' or '}'");
		jp->p++;
		skip_ws(jp);
	}
	*first = false;
	jp->keyat = jp->p;
	if (peek(jp) != '"') return unexpected(jp, "a string key");
	if (parse_string(jp)) return jp->rc;
	skip_ws(jp);
	if (peek(jp) != ':') return unexpected(jp, "':'");
	jp->p++;
	return 1;
}

static int parse_value(struct jp *jp);

/* ---- duplicate keys ---- */

static uint32_t key_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Start the key set of the map the writer just opened. */
static struct keyset *keyset_begin(struct jp *jp)
{
	struct keyset *ks = &jp->ks[jp->w->depth - 1];
	ks->n = 0;
	ks->mask = 0;
	return ks;
}

static int keyset_grow(struct keyset *ks)
{
	size_t want = ks->mask ? 2 * (ks->mask + 1) : 16;
	if (want > ks->nslot) {
		uint32_t *s = realloc(ks->slot, want * sizeof *s);
		if (!s) return UJO_E_NOMEM;
		ks->slot = s;
		ks->nslot = want;
	}
	ks->mask = want - 1;
	memset(ks->slot, 0, want * sizeof *ks->slot);
	for (size_t k = 0; k < ks->n; k++) {
		size_t i = ks->keys[k].hash & ks->mask;
		while (ks->slot[i]) i = (i + 1) & ks->mask;
		ks->slot[i] = (uint32_t)k + 1;
	}
	return 0;
}

/* The key just written at buffer offset off: 1 if the map already has
 * it, 0 after adding it, or UJO_E_NOMEM. */
static int keyset_add(struct keyset *ks, const struct ujo_buf *b, size_t off)
{
	size_t len = b->len - off;
	uint32_t h = key_hash(b->data + off, len);
	if (ks->n >= UINT32_MAX - 1) return UJO_E_NOMEM;
	if (2 * (ks->n + 1) > ks->mask + 1 && keyset_grow(ks)) return UJO_E_NOMEM;
	size_t i = h & ks->mask;
	for (; ks->slot[i]; i = (i + 1) & ks->mask) {
		const struct key *k = &ks->keys[ks->slot[i] - 1];
		if (k->hash == h && k->len == len && !memcmp(b->data + k->off, b->data + off, len)) return 1;
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? 2 * ks->cap : 16;
		struct key *k = realloc(ks->keys, cap * sizeof *k);
		if (!k) return UJO_E_NOMEM;
		ks->keys = k;
		ks->cap = cap;
	}
	ks->keys[ks->n] = (struct key){off, (uint32_t)len, h};
	ks->slot[i] = (uint32_t)++ks->n;
	return 0;
}

static int check_key(struct jp *jp, struct keyset *ks, size_t off, size_t at, bool show)
{
	int rc = keyset_add(ks, jp->w->b, off);
	if (rc < 0) return nomem(jp);
	if (rc == 0) return 0;
	if (show) return fail(jp, at, "duplicate key \"%s\" in an object", str_preview(jp));
	return fail(jp, at, "duplicate key in a map");
}

static int parse_array(struct jp *jp)
{
	size_t at = jp->p++;
	bool first = true;
	int rc;
	if (wr(jp, at, ujo_w_list(jp->w))) return jp->rc;
	while ((rc = arr_next(jp, &first)) > 0)
		if (parse_value(jp)) return jp->rc;
	if (rc < 0) return rc;
	return wr(jp, at, ujo_w_end(jp->w));
}

static int parse_annotated(struct jp *jp, size_t at);

static int parse_object(struct jp *jp)
{
	size_t at = jp->p++;
	bool first = true;
	int rc = obj_next(jp, &first);
	if (rc < 0) return rc;
	if (rc > 0 && str_is(jp, "@type")) return parse_annotated(jp, at);
	if (wr(jp, at, ujo_w_map(jp->w))) return jp->rc;
	struct keyset *ks = keyset_begin(jp);
	for (; rc > 0; rc = obj_next(jp, &first)) {
		size_t off = jp->w->b->len;
		if (wr(jp, jp->keyat, ujo_w_utf8(jp->w, (const char *)jp->str.data, jp->str.len))) return jp->rc;
		if (check_key(jp, ks, off, jp->keyat, true)) return jp->rc;
		if (parse_value(jp)) return jp->rc;
	}
	if (rc < 0) return rc;
	return wr(jp, at, ujo_w_end(jp->w));
}

/* ---- numbers ---- */

struct num {
	size_t at, end;
	bool neg, is_int; /* is_int: no fraction, no exponent */
};

/* Scan an RFC 8259 number at jp->p. */
static int scan_number(struct jp *jp, struct num *n)
{
	const uint8_t *s = jp->s;
	size_t p = jp->p, len = jp->len;
	n->at = p;
	n->is_int = true;
	n->neg = p < len && s[p] == '-';
	if (n->neg) p++;
	if (p >= len || !IS_DIGIT(s[p])) return fail(jp, p, "a digit must follow '-'");
	if (s[p] == '0' && p + 1 < len && IS_DIGIT(s[p + 1])) return fail(jp, n->at, "leading zeros are not allowed in numbers");
	while (p < len && IS_DIGIT(s[p])) p++;
	if (p < len && s[p] == '.') {
		n->is_int = false;
		if (++p >= len || !IS_DIGIT(s[p])) return fail(jp, p, "a digit must follow the decimal point");
		while (p < len && IS_DIGIT(s[p])) p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		n->is_int = false;
		if (++p < len && (s[p] == '+' || s[p] == '-')) p++;
		if (p >= len || !IS_DIGIT(s[p])) return fail(jp, p, "a digit must follow the exponent");
		while (p < len && IS_DIGIT(s[p])) p++;
	}
	n->end = p;
	jp->p = p;
	return 0;
}

/* Magnitude of "-?digits" (syntax already checked); 1 on overflow. */
static int decimal(const uint8_t *s, size_t n, bool *neg, uint64_t *mag)
{
	uint64_t m = 0;
	size_t i = 0;
	*neg = n && s[0] == '-';
	for (i = *neg; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (m > (UINT64_MAX - d) / 10) return 1;
		m = m * 10 + d;
	}
	*mag = m;
	return 0;
}

/* "-?(0|[1-9][0-9]*)": the decimal string form of an integer value. */
static bool int_text(const uint8_t *s, size_t n)
{
	size_t i = n && s[0] == '-';
	if (i == n || (s[i] == '0' && n - i > 1)) return false;
	for (; i < n; i++)
		if (!IS_DIGIT(s[i])) return false;
	return true;
}

static int64_t to_i64(bool neg, uint64_t mag)
{
	/* mag <= 2^63 has been checked; -(2^63) needs care not to overflow */
	return neg && mag ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
}

static int parse_default_number(struct jp *jp);
static int write_float(struct jp *jp, const struct num *n, uint8_t type);

/* ---- annotations ---- */

enum tkind { T_NONE, T_BOOL, T_INT, T_UINT, T_FLOAT, T_STR, T_BIN, T_DATE, T_TIME, T_TIMESTAMP, T_LIST, T_MAP, T_TABLE };

struct tname {
	const char *name;
	uint8_t kind, code;
	uint8_t arg; /* integer bits, string subtype */
};

static const struct tname tnames[] = {
	{"none", T_NONE, UJO_NONE, 0},        {"bool", T_BOOL, UJO_BOOL, 0},
	{"int8", T_INT, UJO_I8, 8},           {"int16", T_INT, UJO_I16, 16},
	{"int32", T_INT, UJO_I32, 32},        {"int64", T_INT, UJO_I64, 64},
	{"uint8", T_UINT, UJO_U8, 8},         {"uint16", T_UINT, UJO_U16, 16},
	{"uint32", T_UINT, UJO_U32, 32},      {"uint64", T_UINT, UJO_U64, 64},
	{"float16", T_FLOAT, UJO_F16, 0},     {"float32", T_FLOAT, UJO_F32, 0},
	{"float64", T_FLOAT, UJO_F64, 0},     {"string", T_STR, UJO_STRING, UJO_STR_UTF8},
	{"utf8", T_STR, UJO_STRING, UJO_STR_UTF8}, {"cstring", T_STR, UJO_STRING, UJO_STR_C},
	{"utf16", T_STR, UJO_STRING, UJO_STR_UTF16}, {"utf32", T_STR, UJO_STRING, UJO_STR_UTF32},
	{"binary", T_BIN, UJO_BIN, 0},        {"uxtime", T_INT, UJO_UXTIME, 64},
	{"date", T_DATE, UJO_DATE, 0},        {"time", T_TIME, UJO_TIME, 0},
	{"timestamp", T_TIMESTAMP, UJO_TIMESTAMP, 0},
	{"list", T_LIST, UJO_LIST, 0},        {"map", T_MAP, UJO_MAP, 0},
	{"table", T_TABLE, UJO_TABLE, 0},
};

static const struct tname *type_lookup(const struct jp *jp)
{
	for (size_t i = 0; i < sizeof tnames / sizeof tnames[0]; i++)
		if (str_is(jp, tnames[i].name)) return &tnames[i];
	return NULL;
}

static int write_int(struct jp *jp, size_t at, const struct tname *t, bool neg, uint64_t mag)
{
	struct ujo_writer *w = jp->w;
	int bits = t->arg;
	if (t->kind == T_UINT) {
		uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
		if ((neg && mag) || mag > max)
			return fail(jp, at, "value out of range for %s (0 to %" PRIu64 ")", t->name, max);
		switch (t->code) {
		case UJO_U8: return wr(jp, at, ujo_w_u8(w, (uint8_t)mag));
		case UJO_U16: return wr(jp, at, ujo_w_u16(w, (uint16_t)mag));
		case UJO_U32: return wr(jp, at, ujo_w_u32(w, (uint32_t)mag));
		default: return wr(jp, at, ujo_w_u64(w, mag));
		}
	}
	uint64_t lim = UINT64_C(1) << (bits - 1); /* |min|; max is lim - 1 */
	if (neg ? mag > lim : mag >= lim)
		return fail(jp, at, "value out of range for %s (-%" PRIu64 " to %" PRIu64 ")", t->name, lim, lim - 1);
	int64_t v = to_i64(neg, mag);
	switch (t->code) {
	case UJO_I8: return wr(jp, at, ujo_w_i8(w, (int8_t)v));
	case UJO_I16: return wr(jp, at, ujo_w_i16(w, (int16_t)v));
	case UJO_I32: return wr(jp, at, ujo_w_i32(w, (int32_t)v));
	case UJO_UXTIME: return wr(jp, at, ujo_w_uxtime(w, v));
	default: return wr(jp, at, ujo_w_i64(w, v));
	}
}

/* Integer types: a JSON integer or a decimal string. */
static int parse_int_annot(struct jp *jp, const struct tname *t)
{
	bool neg;
	uint64_t mag;
	skip_ws(jp);
	size_t at = jp->p;
	int c = peek(jp);
	if (c == '"') {
		if (parse_string(jp)) return jp->rc;
		if (!int_text(jp->str.data, jp->str.len))
			return fail(jp, at, "%s: \"@value\" must be an integer or a string of decimal digits", t->name);
		if (decimal(jp->str.data, jp->str.len, &neg, &mag)) return fail(jp, at, "value out of range for %s", t->name);
		return write_int(jp, at, t, neg, mag);
	}
	if (c != '-' && !IS_DIGIT(c)) return unexpected(jp, "an integer");
	struct num n;
	if (scan_number(jp, &n)) return jp->rc;
	if (!n.is_int) return fail(jp, at, "%s: \"@value\" must be an integer (no fraction or exponent)", t->name);
	if (decimal(jp->s + n.at, n.end - n.at, &neg, &mag)) return fail(jp, at, "value out of range for %s", t->name);
	return write_int(jp, at, t, neg, mag);
}

static int write_special_float(struct jp *jp, size_t at, uint8_t type, int which)
{
	/* default quiet NaN, +Inf, -Inf in each width */
	static const uint64_t f64[3] = {UINT64_C(0x7ff8000000000000), UINT64_C(0x7ff0000000000000), UINT64_C(0xfff0000000000000)};
	static const uint32_t f32[3] = {0x7fc00000, 0x7f800000, 0xff800000};
	static const uint16_t f16[3] = {0x7e00, 0x7c00, 0xfc00};
	if (type == UJO_F16) return wr(jp, at, ujo_w_f16_bits(jp->w, f16[which]));
	if (type == UJO_F32) {
		float f;
		memcpy(&f, &f32[which], 4);
		return wr(jp, at, ujo_w_f32(jp->w, f));
	}
	double d;
	memcpy(&d, &f64[which], 8);
	return wr(jp, at, ujo_w_f64(jp->w, d));
}

/* Float types: a number, or "nan", "inf", "-inf". */
static int parse_float_annot(struct jp *jp, const struct tname *t)
{
	static const char *const special[3] = {"nan", "inf", "-inf"};
	skip_ws(jp);
	size_t at = jp->p;
	int c = peek(jp);
	if (c == '"') {
		if (parse_string(jp)) return jp->rc;
		for (int i = 0; i < 3; i++)
			if (str_is(jp, special[i])) return write_special_float(jp, at, t->code, i);
		return fail(jp, at, "%s: \"@value\" must be a number or one of \"nan\", \"inf\", \"-inf\"", t->name);
	}
	if (c != '-' && !IS_DIGIT(c)) return unexpected(jp, "a number");
	struct num n;
	if (scan_number(jp, &n)) return jp->rc;
	return write_float(jp, &n, t->code);
}

/* The number's text is converted by the C library in the target width
 * (strtof for float32, so no double rounding). */
static int write_float(struct jp *jp, const struct num *n, uint8_t type)
{
	ujo_buf_reset(&jp->str);
	ujo_buf_put(&jp->str, jp->s + n->at, n->end - n->at);
	if (ujo_buf_put(&jp->str, "", 1)) return nomem(jp);
	const char *txt = (const char *)jp->str.data;
	if (type == UJO_F64) {
		double d = strtod(txt, NULL);
		if (isinf(d)) return fail(jp, n->at, "number out of the float64 range");
		return wr(jp, n->at, ujo_w_f64(jp->w, d));
	}
	float f = strtof(txt, NULL);
	if (type == UJO_F32) {
		if (isinf(f)) return fail(jp, n->at, "number out of the float32 range");
		return wr(jp, n->at, ujo_w_f32(jp->w, f));
	}
	uint16_t h;
	if (ujo_f32_to_f16(f, &h)) return fail(jp, n->at, "number out of the float16 range (|x| < 65536)");
	return wr(jp, n->at, ujo_w_f16_bits(jp->w, h));
}

static int parse_default_number(struct jp *jp)
{
	struct num n;
	bool neg;
	uint64_t mag;
	if (scan_number(jp, &n)) return jp->rc;
	if (!n.is_int) return write_float(jp, &n, UJO_F64);
	if (decimal(jp->s + n.at, n.end - n.at, &neg, &mag) || mag > (UINT64_C(1) << 63) - !neg)
		return fail(jp, n.at, "integer out of the int64 range (annotate it, e.g. "
				      "{\"@type\": \"uint64\", \"@value\": ...}, or write it as a float)");
	return wr(jp, n.at, ujo_w_i64(jp->w, to_i64(neg, mag)));
}

/* Hex text in jp->str → bytes in jp->bin. */
static int unhex(struct jp *jp, size_t at)
{
	const uint8_t *s = jp->str.data;
	size_t n = jp->str.len;
	ujo_buf_reset(&jp->bin);
	if (n % 2) return fail(jp, at, "odd number of hex digits");
	if (ujo_buf_reserve(&jp->bin, n / 2)) return nomem(jp);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0) return fail(jp, at, "invalid hex digit in \"%s\"", str_preview(jp));
		jp->bin.data[jp->bin.len++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Write raw string data (units as on the wire) of the given subtype. */
static int write_str_data(struct jp *jp, size_t at, const struct tname *t, const uint8_t *d, size_t n)
{
	static const size_t unit[4] = {1, 1, 2, 4};
	if (n % unit[t->arg]) return fail(jp, at, "%s data must be a whole number of %zu-byte units", t->name, unit[t->arg]);
	if (t->arg == UJO_STR_C && n && memchr(d, 0, n)) return fail(jp, at, "a cstring cannot contain U+0000");
	return wr(jp, at, ujo_w_str(jp->w, t->arg, d, n / unit[t->arg]));
}

/* Text (valid UTF-8 in jp->str) → string of the annotation's subtype. */
static int write_text(struct jp *jp, size_t at, const struct tname *t)
{
	const uint8_t *s = jp->str.data;
	size_t n = jp->str.len;
	if (t->arg <= UJO_STR_UTF8) return write_str_data(jp, at, t, s, n);
	ujo_buf_reset(&jp->bin);
	for (size_t i = 0, k; i < n; i += k) {
		uint32_t cp;
		uint8_t u[4];
		k = utf8_len(s + i, n - i, &cp); /* valid: checked by parse_string */
		if (t->arg == UJO_STR_UTF32) {
			for (int b = 0; b < 4; b++) u[b] = (uint8_t)(cp >> (8 * b));
			ujo_buf_put(&jp->bin, u, 4);
			continue;
		}
		uint32_t hi = cp, lo = 0;
		if (cp >= 0x10000) { hi = 0xd800 + ((cp - 0x10000) >> 10); lo = 0xdc00 + ((cp - 0x10000) & 0x3ff); }
		u[0] = (uint8_t)hi; u[1] = (uint8_t)(hi >> 8); u[2] = (uint8_t)lo; u[3] = (uint8_t)(lo >> 8);
		ujo_buf_put(&jp->bin, u, lo ? 4 : 2);
	}
	if (jp->bin.err) return nomem(jp);
	return write_str_data(jp, at, t, jp->bin.data, jp->bin.len);
}

/* ---- dates ---- */

/* Exactly n digits at *p. */
static bool digits(const char **p, const char *end, int n, unsigned *v)
{
	unsigned x = 0;
	if (end - *p < n) return false;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!IS_DIGIT(**p)) return false;
		x = x * 10 + (unsigned)(**p - '0');
	}
	*v = x;
	return true;
}

static bool sep(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c) return false;
	(*p)++;
	return true;
}

static unsigned month_days(int y, unsigned m)
{
	static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); /* proleptic Gregorian */
	return m == 2 && leap ? 29 : d[m - 1];
}

/* [-]YYYY[Y]-MM-DD with a real calendar date. */
static bool scan_date(const char **p, const char *end, struct ujo_datetime *t)
{
	bool neg = sep(p, end, '-');
	const char *y0 = *p;
	unsigned y, m, d;
	while (*p < end && IS_DIGIT(**p)) (*p)++;
	int ny = (int)(*p - y0);
	*p = y0;
	if (ny < 4 || ny > 5 || !digits(p, end, ny, &y) || y > 32767u + neg) return false;
	if (!sep(p, end, '-') || !digits(p, end, 2, &m) || !sep(p, end, '-') || !digits(p, end, 2, &d)) return false;
	int year = neg ? -(int)y : (int)y;
	if (m < 1 || m > 12 || d < 1 || d > month_days(year, m)) return false;
	t->year = (int16_t)year;
	t->month = (uint8_t)m;
	t->day = (uint8_t)d;
	return true;
}

static bool scan_time(const char **p, const char *end, struct ujo_datetime *t)
{
	unsigned h, m, s;
	if (!digits(p, end, 2, &h) || !sep(p, end, ':') || !digits(p, end, 2, &m) || !sep(p, end, ':') ||
	    !digits(p, end, 2, &s))
		return false;
	if (h > 23 || m > 59 || s > 59) return false;
	t->hour = (uint8_t)h;
	t->minute = (uint8_t)m;
	t->second = (uint8_t)s;
	return true;
}

/* Optional ".d", ".dd" or ".ddd": a fraction of a second in ms. */
static bool scan_msec(const char **p, const char *end, struct ujo_datetime *t)
{
	unsigned ms = 0, scale = 100;
	t->msec = 0;
	if (!sep(p, end, '.')) return true;
	if (*p >= end || !IS_DIGIT(**p)) return false;
	for (; *p < end && IS_DIGIT(**p) && scale; (*p)++, scale /= 10) ms += (unsigned)(**p - '0') * scale;
	t->msec = (uint16_t)ms;
	return true;
}

static int parse_datetime(struct jp *jp, const struct tname *t)
{
	static const char *const form[] = {"YYYY-MM-DD", "HH:MM:SS", "YYYY-MM-DDTHH:MM:SS.mmm"};
	struct ujo_datetime dt = {0};
	skip_ws(jp);
	size_t at = jp->p;
	if (expect_string(jp, "a string")) return jp->rc;
	const char *p = (const char *)jp->str.data, *end = p + jp->str.len;
	bool ok;
	int f = t->kind - T_DATE;
	if (t->kind == T_DATE) ok = scan_date(&p, end, &dt);
	else if (t->kind == T_TIME) ok = scan_time(&p, end, &dt);
	else ok = scan_date(&p, end, &dt) && sep(&p, end, 'T') && scan_time(&p, end, &dt) && scan_msec(&p, end, &dt);
	if (!ok || p != end)
		return fail(jp, at, "invalid %s \"%s\" (expected %s with valid values)", t->name, str_preview(jp), form[f]);
	if (t->kind == T_DATE) return wr(jp, at, ujo_w_date(jp->w, dt.year, dt.month, dt.day));
	if (t->kind == T_TIME) return wr(jp, at, ujo_w_time(jp->w, dt.hour, dt.minute, dt.second));
	return wr(jp, at, ujo_w_timestamp(jp->w, &dt));
}

/* ---- annotated containers ---- */

/* {"@type": "map", "@value": [[key, value], ...]} */
static int parse_pairs(struct jp *jp)
{
	static const char *const shape = "a map pair must be a [key, value] array";
	size_t at = jp->p++;
	bool first = true;
	int rc;
	if (wr(jp, at, ujo_w_map(jp->w))) return jp->rc;
	struct keyset *ks = keyset_begin(jp);
	while ((rc = arr_next(jp, &first)) > 0) {
		skip_ws(jp);
		if (peek(jp) != '[') return fail(jp, jp->p, "%s", shape);
		jp->p++;
		skip_ws(jp);
		size_t kat = jp->p, off = jp->w->b->len;
		if (peek(jp) == ']') return fail(jp, kat, "%s", shape);
		if (parse_value(jp) || check_key(jp, ks, off, kat, false)) return jp->rc;
		skip_ws(jp);
		if (peek(jp) != ',') return fail(jp, jp->p, "%s", shape);
		jp->p++;
		if (parse_value(jp)) return jp->rc;
		skip_ws(jp);
		if (peek(jp) != ']') return fail(jp, jp->p, "%s", shape);
		jp->p++;
	}
	if (rc < 0) return rc;
	return wr(jp, at, ujo_w_end(jp->w));
}

static int parse_columns(struct jp *jp, size_t *ncols)
{
	bool first = true;
	int rc;
	skip_ws(jp);
	if (peek(jp) != '[') return unexpected(jp, "an array of column names");
	jp->p++;
	while ((rc = arr_next(jp, &first)) > 0) {
		if (parse_value(jp)) return jp->rc;
		++*ncols;
	}
	if (rc < 0) return rc;
	return wr(jp, jp->p - 1, ujo_w_table_cells(jp->w));
}

static int parse_rows(struct jp *jp, size_t ncols)
{
	bool first = true, cfirst;
	int rc;
	skip_ws(jp);
	if (peek(jp) != '[') return unexpected(jp, "an array of rows");
	jp->p++;
	while ((rc = arr_next(jp, &first)) > 0) {
		skip_ws(jp);
		size_t at = jp->p, n = 0;
		if (peek(jp) != '[') return unexpected(jp, "a row (an array of cells)");
		jp->p++;
		for (cfirst = true; (rc = arr_next(jp, &cfirst)) > 0; n++)
			if (parse_value(jp)) return jp->rc;
		if (rc < 0) return rc;
		if (n != ncols) return fail(jp, at, "a table row needs %zu cells (one per column), not %zu", ncols, n);
	}
	return rc;
}

/* {"@type": "table", "@value": {"columns": [...], "rows": [[...], ...]}} */
static int parse_table(struct jp *jp)
{
	size_t at = jp->p++, ncols = 0;
	bool first = true, cols = false, rows = false;
	int rc;
	if (wr(jp, at, ujo_w_table(jp->w))) return jp->rc;
	while ((rc = obj_next(jp, &first)) > 0) {
		size_t kat = jp->keyat;
		if (str_is(jp, "columns") && !cols) {
			cols = true;
			rc = parse_columns(jp, &ncols);
		} else if (str_is(jp, "rows") && cols && !rows) {
			rows = true;
			rc = parse_rows(jp, ncols);
		} else if (str_is(jp, "rows") && !cols) {
			return fail(jp, kat, "\"columns\" must come before \"rows\" in a table");
		} else {
			return fail(jp, kat, "unexpected key \"%s\" in a table (expected \"columns\", then \"rows\")", str_preview(jp));
		}
		if (rc) return rc;
	}
	if (rc < 0) return rc;
	if (!cols) return fail(jp, at, "a table needs \"columns\"");
	return wr(jp, at, ujo_w_end(jp->w));
}

/* The "@value" of an annotation of type t. */
static int parse_typed(struct jp *jp, const struct tname *t)
{
	skip_ws(jp);
	size_t at = jp->p;
	int c = peek(jp);
	switch (t->kind) {
	case T_NONE:
		return literal(jp, "null") || wr(jp, at, ujo_w_none(jp->w)) ? jp->rc : 0;
	case T_BOOL:
		if (c != 't' && c != 'f') return unexpected(jp, "true or false");
		if (literal(jp, c == 't' ? "true" : "false")) return jp->rc;
		return wr(jp, at, ujo_w_bool(jp->w, c == 't'));
	case T_INT: case T_UINT: return parse_int_annot(jp, t);
	case T_FLOAT: return parse_float_annot(jp, t);
	case T_STR: return expect_string(jp, "a string") ? jp->rc : write_text(jp, at, t);
	case T_BIN: return expect_string(jp, "a hex string") || unhex(jp, at) ? jp->rc : 0;
	case T_DATE: case T_TIME: case T_TIMESTAMP: return parse_datetime(jp, t);
	case T_LIST: return c == '[' ? parse_array(jp) : unexpected(jp, "an array");
	case T_MAP: return c == '[' ? parse_pairs(jp) : unexpected(jp, "an array of [key, value] pairs");
	default: return c == '{' ? parse_table(jp) : unexpected(jp, "an object with \"columns\" and \"rows\"");
	}
}

static int unknown_type(struct jp *jp, size_t at)
{
	char names[400] = "";
	for (size_t i = 0; i < sizeof tnames / sizeof tnames[0]; i++) {
		strcat(names, i ? ", " : "");
		strcat(names, tnames[i].name);
	}
	return fail(jp, at, "unknown type \"%.30s\" (known: %s)", str_preview(jp), names);
}

/* The "@subtype" of a binary: an integer 0 to 255. */
static int parse_subtype(struct jp *jp, uint8_t *sub)
{
	bool neg;
	uint64_t mag;
	struct num n;
	skip_ws(jp);
	if (peek(jp) != '-' && !IS_DIGIT(peek(jp))) return unexpected(jp, "an integer 0 to 255");
	if (scan_number(jp, &n)) return jp->rc;
	if (!n.is_int || decimal(jp->s + n.at, n.end - n.at, &neg, &mag) || (neg && mag) || mag > 255)
		return fail(jp, n.at, "\"@subtype\" must be an integer 0 to 255");
	*sub = (uint8_t)mag;
	return 0;
}

/* An object whose first key is "@type" (consumed with its ':'). The value
 * of most types is written as soon as "@value" has been read; a binary
 * waits for the closing brace because "@subtype" may come after it. */
static int parse_annotated(struct jp *jp, size_t at)
{
	skip_ws(jp);
	size_t tat = jp->p;
	if (expect_string(jp, "a type name")) return jp->rc;
	const struct tname *t = type_lookup(jp);
	if (!t) return unknown_type(jp, tat);
	bool first = false, have_value = false, have_sub = false;
	uint8_t sub = 0;
	int rc;
	while ((rc = obj_next(jp, &first)) > 0) {
		size_t kat = jp->keyat;
		bool hex = str_is(jp, "@hex") && t->kind == T_STR;
		if ((str_is(jp, "@value") || hex) && !have_value) {
			have_value = true;
			skip_ws(jp);
			size_t vat = jp->p;
			if (!hex) rc = parse_typed(jp, t);
			else if (!(rc = expect_string(jp, "a hex string")) && !(rc = unhex(jp, vat)))
				rc = write_str_data(jp, vat, t, jp->bin.data, jp->bin.len);
		} else if (str_is(jp, "@subtype") && t->kind == T_BIN && !have_sub) {
			have_sub = true;
			rc = parse_subtype(jp, &sub);
		} else {
			return fail(jp, kat, "%s: unexpected key \"%s\" in the annotation", t->name, str_preview(jp));
		}
		if (rc) return rc;
	}
	if (rc < 0) return rc;
	if (!have_value && t->kind != T_NONE) return fail(jp, at, "%s: the annotation needs \"@value\"", t->name);
	if (!have_value) return wr(jp, at, ujo_w_none(jp->w));
	if (t->kind == T_BIN) return wr(jp, at, ujo_w_bin(jp->w, sub, jp->bin.data, jp->bin.len));
	return 0;
}

static int parse_value(struct jp *jp)
{
	skip_ws(jp);
	size_t at = jp->p;
	int c = peek(jp), rc;
	if (jp->nest >= UJO_JSON_MAX_NEST) return fail(jp, at, "JSON nesting deeper than %d levels", UJO_JSON_MAX_NEST);
	jp->nest++;
	switch (c) {
	case '{': rc = parse_object(jp); break;
	case '[': rc = parse_array(jp); break;
	case '"':
		rc = parse_string(jp);
		if (!rc) rc = wr(jp, at, ujo_w_utf8(jp->w, (const char *)jp->str.data, jp->str.len));
		break;
	case 't': rc = literal(jp, "true") ? jp->rc : wr(jp, at, ujo_w_bool(jp->w, true)); break;
	case 'f': rc = literal(jp, "false") ? jp->rc : wr(jp, at, ujo_w_bool(jp->w, false)); break;
	case 'n': rc = literal(jp, "null") ? jp->rc : wr(jp, at, ujo_w_none(jp->w)); break;
	default:
		rc = c == '-' || IS_DIGIT(c) ? parse_default_number(jp) : unexpected(jp, "a JSON value");
	}
	jp->nest--;
	return rc;
}

static void jp_free(struct jp *jp)
{
	ujo_buf_free(&jp->str);
	ujo_buf_free(&jp->bin);
	for (int i = 0; i < UJO_MAX_DEPTH; i++) {
		free(jp->ks[i].keys);
		free(jp->ks[i].slot);
	}
}

int ujo_json_parse(const char *text, size_t len, size_t *pos, struct ujo_writer *w, unsigned flags,
		   struct ujo_json_error *err)
{
	struct jp jp;
	memset(&jp, 0, sizeof jp);
	memset(err, 0, sizeof *err);
	jp.s = (const uint8_t *)text;
	jp.len = len;
	jp.p = *pos;
	jp.w = w;
	jp.err = err;
	skip_ws(&jp);
	if (jp.p >= len) {
		*pos = jp.p;
		return 0;
	}
	int c = peek(&jp);
	if (!(flags & UJO_JSON_BARE) && c != '[' && c != '{')
		fail(&jp, jp.p, "the top level must be an array or object (a UJO document starts with a container)");
	else if (!parse_value(&jp)) {
		skip_ws(&jp);
		if (!(flags & UJO_JSON_MULTI) && jp.p < len) fail(&jp, jp.p, "unexpected data after the JSON value");
	}
	*pos = jp.p;
	jp_free(&jp);
	return jp.rc ? jp.rc : 1;
}

/* ------------------------------------------------------------------ */
/* UJO → JSON                                                          */

struct em {
	FILE *f;          /* output: a FILE ... */
	struct ujo_buf *b; /* ... or a buffer */
	bool typed, pretty;
	int err;
	int level;
	bool has[UJO_JSON_MAX_NEST + 2]; /* per level: an item was written */
	struct ujo_buf tmp, esc;
};

static void put(struct em *e, const void *p, size_t n)
{
	if (e->err || !n) return;
	if (e->f) {
		if (fwrite(p, 1, n, e->f) != n) e->err = UJO_JSON_E_IO;
	} else if (ujo_buf_put(e->b, p, n)) {
		e->err = UJO_E_NOMEM;
	}
}

static void puts_(struct em *e, const char *s) { put(e, s, strlen(s)); }

static void newline(struct em *e)
{
	static const char spaces[] = "                                ";
	if (!e->pretty) return;
	put(e, "\n", 1);
	for (size_t n = 2 * (size_t)e->level; n; ) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		put(e, spaces, k);
		n -= k;
	}
}

/* Before each item of an array or object. */
static void item(struct em *e)
{
	if (e->has[e->level]) put(e, ",", 1);
	e->has[e->level] = true;
	newline(e);
}

static void open_(struct em *e, char c)
{
	put(e, &c, 1);
	if (e->level >= UJO_JSON_MAX_NEST) { e->err = UJO_E_DEPTH; return; }
	e->has[++e->level] = false;
}

static void close_(struct em *e, char c)
{
	bool had = e->has[e->level--];
	if (had) newline(e);
	put(e, &c, 1);
}

static void jstring(struct em *e, const void *s, size_t n)
{
	struct ujo_buf *out = e->b;
	if (e->err) return;
	if (e->f) { /* escape into a scratch buffer, then write it */
		ujo_buf_reset(&e->esc);
		out = &e->esc;
	}
	if (ujo_json_put_string(out, s, n)) { e->err = UJO_E_NOMEM; return; }
	if (e->f) put(e, e->esc.data, e->esc.len);
}

static void key(struct em *e, const void *s, size_t n)
{
	item(e);
	jstring(e, s, n);
	puts_(e, e->pretty ? ": " : ":");
}

/* {"@type": "name", "<field>": ... — the caller writes the value and '}'. */
static void annot_begin(struct em *e, const char *name, const char *field)
{
	const char *sp = e->pretty ? " " : "";
	puts_(e, "{\"@type\":");
	puts_(e, sp);
	jstring(e, name, strlen(name));
	puts_(e, ",");
	puts_(e, sp);
	jstring(e, field, strlen(field));
	puts_(e, ":");
	puts_(e, sp);
}

static void put_hex(struct em *e, const uint8_t *d, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char chunk[512];
	put(e, "\"", 1);
	for (size_t i = 0; i < n; ) {
		size_t k = 0;
		for (; i < n && k < sizeof chunk; i++, k += 2) {
			chunk[k] = hex[d[i] >> 4];
			chunk[k + 1] = hex[d[i] & 15];
		}
		put(e, chunk, k);
	}
	put(e, "\"", 1);
}

/* Next value of the reader; false (with e->err set) on error. */
static bool next(struct em *e, struct ujo_reader *r, struct ujo_value *v)
{
	if (e->err) return false;
	int rc = ujo_r_next(r, v);
	if (rc == 1) return true;
	e->err = rc < 0 ? rc : UJO_E_TRUNCATED;
	return false;
}

static const char *str_type_name(uint8_t sub)
{
	static const char *const n[4] = {"cstring", "utf8", "utf16", "utf32"};
	return sub < 4 ? n[sub] : "utf8";
}

static void e_string(struct em *e, const struct ujo_value *v)
{
	ujo_buf_reset(&e->tmp);
	int lossless = ujo_json_str_to_utf8(v, &e->tmp);
	if (lossless < 0) { e->err = lossless; return; }
	if (!e->typed || (v->subtype == UJO_STR_UTF8 && lossless)) {
		jstring(e, e->tmp.data, e->tmp.len);
		return;
	}
	annot_begin(e, str_type_name(v->subtype), lossless ? "@value" : "@hex");
	if (lossless) jstring(e, e->tmp.data, e->tmp.len);
	else put_hex(e, v->data, v->len);
	put(e, "}", 1);
}

static void e_binary(struct em *e, const struct ujo_value *v)
{
	if (!e->typed) {
		put_hex(e, v->data, v->len);
		return;
	}
	annot_begin(e, "binary", "@value");
	put_hex(e, v->data, v->len);
	if (v->subtype) {
		char sub[32];
		snprintf(sub, sizeof sub, ",%s\"@subtype\":%s%u", e->pretty ? " " : "", e->pretty ? " " : "", v->subtype);
		puts_(e, sub);
	}
	put(e, "}", 1);
}

static bool is_float(uint8_t t) { return t == UJO_F16 || t == UJO_F32 || t == UJO_F64; }

static void e_scalar(struct em *e, const struct ujo_value *v)
{
	char buf[64];
	size_t n = ujo_json_scalar_text(v, buf, sizeof buf);
	bool finite = !is_float(v->type) || isfinite(v->v.f);
	/* dates and non-finite floats are strings in JSON */
	bool quoted = !finite || v->type == UJO_DATE || v->type == UJO_TIME || v->type == UJO_TIMESTAMP;
	bool annotate = e->typed && v->type != UJO_NONE && v->type != UJO_BOOL && v->type != UJO_I64 &&
			!(v->type == UJO_F64 && finite);
	if (annotate) annot_begin(e, ujo_type_name(v->type), "@value");
	if (quoted) jstring(e, buf, n);
	else put(e, buf, n);
	if (annotate) put(e, "}", 1);
}

static void e_value(struct em *e, struct ujo_reader *r, const struct ujo_value *v);

static void e_list(struct em *e, struct ujo_reader *r)
{
	struct ujo_value x;
	open_(e, '[');
	while (next(e, r, &x) && x.type != UJO_END) {
		item(e);
		e_value(e, r, &x);
	}
	close_(e, ']');
}

/* Plain mode: any key as a string. */
static void key_text(struct em *e, const struct ujo_value *k)
{
	static const char hex[] = "0123456789abcdef";
	char buf[64];
	ujo_buf_reset(&e->tmp);
	if (k->type == UJO_STRING) {
		ujo_json_str_to_utf8(k, &e->tmp);
	} else if (k->type == UJO_BIN) {
		for (size_t i = 0; i < k->len; i++) {
			char h[2] = {hex[k->data[i] >> 4], hex[k->data[i] & 15]};
			ujo_buf_put(&e->tmp, h, 2);
		}
	} else {
		ujo_buf_put(&e->tmp, buf, ujo_json_scalar_text(k, buf, sizeof buf));
	}
	if (e->tmp.err) e->err = UJO_E_NOMEM;
}

/* Typed mode: can the map be a JSON object? Only if every key is a valid
 * UTF-8 string and the first is not "@type" (that would read back as an
 * annotation). Looks ahead with a copy of the reader. */
static bool needs_pairs(const struct ujo_reader *r)
{
	struct ujo_reader c = *r;
	struct ujo_value k, v;
	for (bool first = true;; first = false) {
		if (ujo_r_next(&c, &k) != 1 || k.type == UJO_END) return false;
		if (k.type != UJO_STRING || k.subtype != UJO_STR_UTF8 || !utf8_valid(k.data, k.len)) return true;
		if (first && k.len == 5 && !memcmp(k.data, "@type", 5)) return true;
		if (ujo_r_next(&c, &v) != 1) return false;
		if (v.type >= UJO_LIST && v.type <= UJO_TABLE && ujo_r_skip(&c, &v, NULL, NULL)) return false;
	}
}

static void e_map_pairs(struct em *e, struct ujo_reader *r)
{
	struct ujo_value k, v;
	annot_begin(e, "map", "@value");
	open_(e, '[');
	while (next(e, r, &k) && k.type != UJO_END) {
		item(e);
		open_(e, '[');
		item(e);
		e_value(e, r, &k);
		if (!next(e, r, &v)) return;
		item(e);
		e_value(e, r, &v);
		close_(e, ']');
	}
	close_(e, ']');
	put(e, "}", 1);
}

static void e_map(struct em *e, struct ujo_reader *r)
{
	struct ujo_value k, v;
	if (e->typed && needs_pairs(r)) {
		e_map_pairs(e, r);
		return;
	}
	open_(e, '{');
	while (next(e, r, &k) && k.type != UJO_END) {
		key_text(e, &k);
		key(e, e->tmp.data, e->tmp.len);
		if (!next(e, r, &v)) return;
		e_value(e, r, &v);
	}
	close_(e, '}');
}

/* Plain mode: an array of objects, one per row, keyed by column name. */
static void e_table_plain(struct em *e, struct ujo_reader *r)
{
	struct ujo_value x, *cols = NULL;
	size_t ncols = 0, i = 0;
	open_(e, '[');
	while (next(e, r, &x) && x.type != UJO_END) {
		if (x.is_column) {
			void *c = realloc(cols, (ncols + 1) * sizeof *cols);
			if (!c) { e->err = UJO_E_NOMEM; break; }
			cols = c;
			cols[ncols++] = x;
			continue;
		}
		if (!ncols) { e->err = UJO_E_TABLE; break; }
		if (i % ncols == 0) {
			if (i) close_(e, '}');
			item(e);
			open_(e, '{');
		}
		key_text(e, &cols[i++ % ncols]);
		key(e, e->tmp.data, e->tmp.len);
		e_value(e, r, &x);
	}
	if (i) close_(e, '}');
	close_(e, ']');
	free(cols);
}

/* Typed mode: {"@type": "table", "@value": {"columns": [...], "rows": [[...]]}} */
static void e_table_typed(struct em *e, struct ujo_reader *r)
{
	struct ujo_value x;
	size_t ncols = 0, i = 0;
	bool in_rows = false;
	annot_begin(e, "table", "@value");
	open_(e, '{');
	key(e, "columns", 7);
	open_(e, '[');
	while (next(e, r, &x)) {
		if (x.is_column) {
			item(e);
			e_value(e, r, &x);
			ncols++;
			continue;
		}
		if (!in_rows) { /* first cell or the end: the column list is over */
			in_rows = true;
			close_(e, ']');
			key(e, "rows", 4);
			open_(e, '[');
		}
		if (x.type == UJO_END) break;
		if (!ncols) { e->err = UJO_E_TABLE; break; }
		if (i++ % ncols == 0) {
			if (i > 1) close_(e, ']');
			item(e);
			open_(e, '[');
		}
		item(e);
		e_value(e, r, &x);
	}
	if (i) close_(e, ']');
	close_(e, ']');
	close_(e, '}');
	put(e, "}", 1);
}

static void e_value(struct em *e, struct ujo_reader *r, const struct ujo_value *v)
{
	switch (v->type) {
	case UJO_LIST: e_list(e, r); break;
	case UJO_MAP: e_map(e, r); break;
	case UJO_TABLE: e->typed ? e_table_typed(e, r) : e_table_plain(e, r); break;
	case UJO_STRING: e_string(e, v); break;
	case UJO_BIN: e_binary(e, v); break;
	default: e_scalar(e, v);
	}
}

static int emit(struct ujo_reader *r, unsigned flags, FILE *f, struct ujo_buf *b)
{
	struct em e;
	struct ujo_value v;
	memset(&e, 0, sizeof e);
	e.f = f;
	e.b = b;
	e.typed = flags & UJO_JSON_TYPED;
	e.pretty = flags & UJO_JSON_PRETTY;
	if (next(&e, r, &v)) {
		if (v.type == UJO_END) e.err = UJO_E_STATE;
		else e_value(&e, r, &v);
	}
	ujo_buf_free(&e.tmp);
	ujo_buf_free(&e.esc);
	return e.err;
}

int ujo_json_emit_buf(struct ujo_reader *r, unsigned flags, struct ujo_buf *out) { return emit(r, flags, NULL, out); }
int ujo_json_emit_file(struct ujo_reader *r, unsigned flags, FILE *f) { return emit(r, flags, f, NULL); }

const char *ujo_json_strerror(int err)
{
	if (err == UJO_JSON_E_SYNTAX) return "invalid JSON";
	if (err == UJO_JSON_E_IO) return "write error";
	return ujo_strerror(err);
}
