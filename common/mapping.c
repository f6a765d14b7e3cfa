/* mapping.c — consumer-group buffers, mapping rules and constants
 * (titanfe-protocol.md §10, titanfe apps/brick_runner/connection.py and
 * output/group.py). See mapping.h for the semantics and the deliberate
 * differences.
 *
 * Per packet nothing is decoded that no rule reads: the payload is walked
 * with the pull reader, map by map, only along the source paths (each map
 * scanned once per packet and cached); the consumer's value is an edit
 * tree over raw byte slices — the default target (pre-indexed at
 * start-up), payload or buffer slices and constants — in which only the
 * maps on a target path are opened; writing it out copies the slices. */
#include "mapping.h"

#include <cJSON.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "titan_limits.h"
#include "ujoschema.h"

const char *map_strerror(int code)
{
	switch (code) {
	case MAP_OK: return "ok";
	case MAP_E_NOMEM: return "out of memory";
	case MAP_E_DESC: return "bad consumer description";
	case MAP_E_SCHEMA: return "unusable target schema";
	case MAP_E_INPUT: return "invalid UJO input";
	case MAP_E_KEY: return "key not found";
	case MAP_E_TYPE: return "not a map";
	case MAP_E_CONST: return "constant cannot be converted";
	case MAP_E_LIMIT: return "result nests too deep";
	default: return "unknown error";
	}
}

/* Messages are one line: names from the description or the data may
 * hold control characters. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		one_line(err);
	}
	return code;
}

/* ------------------------------------------------------------------ */
/* The group model                                                      */

/* A field name with its key encoding (04 01 len32 bytes): look-ups
 * compare encoded keys, which makes them typed (UTF-8 only). */
struct field {
	uint8_t *enc;
	uint32_t enclen;
};

static const char *field_name(const struct field *f) { return (const char *)f->enc + 6; }
static int field_len(const struct field *f) { return (int)(f->enclen - 6); }

struct path {
	struct field *f;
	uint32_t n;
};

enum { SRC_PAYLOAD, SRC_BUFFER, SRC_CONST };

struct rule {
	uint8_t src;
	bool old;        /* older list format: UJO none on the target path is kept (and fails) */
	int32_t belem;   /* SRC_BUFFER: element index */
	struct path sp;  /* source fields after the type name */
	struct path tp;  /* target fields after the type name; n == 0: replaces the whole target */
	uint8_t *cval;   /* SRC_CONST: the encoded constant */
	size_t clen;
	int cdepth;
	char *fail;      /* set: the rule fails with this message when reached */
	int failcode;
};

struct belem {
	struct field id;
	struct path src; /* after the type name */
	bool copy;       /* empty source: copied from the incoming buffer */
};

/* The default target, pre-indexed: every map's pairs as slices. */
struct tkv {
	const uint8_t *k, *v;
	uint32_t klen, vlen;
	int32_t map; /* the value's tmap index, -1 when not a map */
};

struct tmap {
	uint32_t first, n;
};

struct map_group {
	bool unchanged;   /* no rules and no schema */
	bool has_schema;
	uint8_t *target;  /* default value, bare */
	size_t tlen;
	struct tmap *tmaps;
	size_t ntmaps, ctmaps;
	struct tkv *tkvs;
	size_t ntkvs, ctkvs;
	struct rule *rules;
	size_t nrules;
	struct belem *belems;
	size_t nbelems;
	char *warning;
};

static void path_free(struct path *p)
{
	for (uint32_t i = 0; i < p->n; i++) free(p->f[i].enc);
	free(p->f);
	p->f = NULL;
	p->n = 0;
}

void map_group_free(struct map_group *g)
{
	if (!g) return;
	for (size_t i = 0; i < g->nrules; i++) {
		path_free(&g->rules[i].sp);
		path_free(&g->rules[i].tp);
		free(g->rules[i].cval);
		free(g->rules[i].fail);
	}
	for (size_t i = 0; i < g->nbelems; i++) {
		free(g->belems[i].id.enc);
		path_free(&g->belems[i].src);
	}
	free(g->rules);
	free(g->belems);
	free(g->target);
	free(g->tmaps);
	free(g->tkvs);
	free(g->warning);
	free(g);
}

bool map_group_payload_unchanged(const struct map_group *g) { return g && g->unchanged; }
bool map_group_passthrough(const struct map_group *g) { return g && g->unchanged && g->nbelems == 0; }
const char *map_group_warning(const struct map_group *g) { return g ? g->warning : NULL; }
size_t map_group_rule_count(const struct map_group *g) { return g ? g->nrules : 0; }

const uint8_t *map_group_target(const struct map_group *g, size_t *len)
{
	if (!g) return NULL;
	if (len) *len = g->tlen;
	return g->target;
}

static int field_make(struct field *f, const char *s, size_t n)
{
	if (n > UJO_MAX_BLOB) return MAP_E_DESC;
	f->enc = malloc(6 + n);
	if (!f->enc) return MAP_E_NOMEM;
	f->enc[0] = UJO_STRING;
	f->enc[1] = UJO_STR_UTF8;
	for (int i = 0; i < 4; i++) f->enc[2 + i] = (uint8_t)(n >> (8 * i));
	memcpy(f->enc + 6, s, n);
	f->enclen = (uint32_t)(6 + n);
	return 0;
}

/* Python dict semantics for a JSON object read by cJSON (which keeps
 * duplicate keys): the LAST member of that name. */
static const cJSON *obj_get(const cJSON *obj, const char *key)
{
	const cJSON *found = NULL;
	for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
		if (c->string && strcmp(c->string, key) == 0) found = c;
	return found;
}

/* Python truthiness of a JSON value. */
static bool json_truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v)) return false;
	if (cJSON_IsString(v)) return v->valuestring && v->valuestring[0];
	if (cJSON_IsNumber(v)) return v->valuedouble != 0;
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
	return true;
}

static const char *json_type(const cJSON *v)
{
	if (!v || cJSON_IsNull(v)) return "null";
	if (cJSON_IsBool(v)) return "a bool";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsArray(v)) return "a list";
	if (cJSON_IsObject(v)) return "an object";
	return "invalid";
}

/* fields[from:] of a JSON list of strings. */
static int path_make(struct path *p, const cJSON *list, int from, const char *what, char *err, size_t errlen)
{
	int n = cJSON_GetArraySize(list), i = 0, rc;
	memset(p, 0, sizeof *p);
	if (n - from > (int)MAP_MAX_PATH)
		return fail(err, errlen, MAP_E_DESC, "%s has more than %u fields", what, MAP_MAX_PATH);
	if (n <= from) return 0;
	p->f = calloc((size_t)(n - from), sizeof *p->f);
	if (!p->f) return fail(err, errlen, MAP_E_NOMEM, "out of memory");
	for (const cJSON *c = list->child; c; c = c->next, i++) {
		if (i < from) continue;
		if (!cJSON_IsString(c) || !c->valuestring) {
			path_free(p);
			return fail(err, errlen, MAP_E_DESC, "%s[%d] is %s, not a string", what, i, json_type(c));
		}
		if ((rc = field_make(&p->f[p->n], c->valuestring, strlen(c->valuestring)))) {
			path_free(p);
			return fail(err, errlen, rc, "%s[%d]: out of memory", what, i);
		}
		p->n++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Constants (§10.2): titanfe's get_ujo_value and get_constant          */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static float to_f32(double d)
{
	if (d > FLT_MAX) return INFINITY;
	if (d < -FLT_MAX) return -INFINITY;
	return (float)d;
}

/* White space as Python's str.strip() sees it, ASCII part. */
static bool py_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

static void py_strip(const char **s, size_t *n)
{
	while (*n && py_space(**s)) { (*s)++; (*n)--; }
	while (*n && py_space((*s)[*n - 1])) (*n)--;
}

/* A run of digits with single '_' between digits (PEP 515), copied to
 * out without the underscores. Returns the characters consumed, 0 if
 * there is no digit. */
static size_t py_digits(const char *s, size_t n, char *out, size_t *o)
{
	size_t i = 0;
	if (!n || s[0] < '0' || s[0] > '9') return 0;
	for (;;) {
		out[(*o)++] = s[i++];
		if (i < n && s[i] >= '0' && s[i] <= '9') continue;
		if (i + 1 < n && s[i] == '_' && s[i + 1] >= '0' && s[i + 1] <= '9') { i++; continue; }
		return i;
	}
}

/* The value being converted, as Python sees it. */
struct pyv {
	enum { PK_NUM, PK_INT, PK_FLOAT, PK_STR, PK_BOOL, PK_NULL, PK_LIST, PK_DICT } k;
	double d;          /* PK_NUM (a JSON number: int or float), PK_FLOAT */
	bool neg, big, b;  /* PK_INT: sign, beyond 64 bits; PK_BOOL */
	uint64_t mag;      /* PK_INT */
	const char *s;     /* PK_STR */
	size_t slen;
};

static const char *py_type(const struct pyv *v)
{
	static const char *const names[] = {"float", "int", "float", "str", "bool", "NoneType", "list", "dict"};
	return names[v->k];
}

/* int(v) */
static int py_int(struct pyv *v, char *msg, size_t ml)
{
	switch (v->k) {
	case PK_INT: return 0;
	case PK_BOOL: v->k = PK_INT; v->neg = false; v->big = false; v->mag = v->b; return 0;
	case PK_NUM:
	case PK_FLOAT: {
		double t = trunc(v->d);
		if (v->k == PK_NUM && fabs(t) >= 9007199254740992.0)
			return fail(msg, ml, MAP_E_CONST,
				    "integer %.17g is too large to be exact as a JSON number; give it as a string", v->d);
		if (isnan(t) || isinf(t)) return fail(msg, ml, MAP_E_CONST, "cannot convert float %g to integer", v->d);
		v->k = PK_INT;
		v->neg = t < 0;
		v->big = fabs(t) >= 18446744073709551616.0;
		v->mag = v->big ? 0 : (uint64_t)fabs(t);
		if (!v->mag && !v->big) v->neg = false;
		return 0;
	}
	case PK_STR: {
		const char *s = v->s;
		size_t n = v->slen, i = 0, o = 0;
		py_strip(&s, &n);
		char *digits = malloc(n + 1);
		if (!digits) return fail(msg, ml, MAP_E_NOMEM, "out of memory");
		bool neg = false;
		if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
		size_t used = py_digits(s + i, n - i, digits, &o);
		if (!used || i + used != n) {
			free(digits);
			return fail(msg, ml, MAP_E_CONST, "invalid literal for int() with base 10: '%.*s'",
				    (int)(v->slen > 40 ? 40 : v->slen), v->s);
		}
		v->k = PK_INT;
		v->neg = neg;
		v->big = false;
		v->mag = 0;
		for (size_t k = 0; k < o; k++) {
			unsigned d = (unsigned)(digits[k] - '0');
			if (v->mag > (UINT64_MAX - d) / 10) v->big = true;
			else v->mag = v->mag * 10 + d;
		}
		if (!v->mag && !v->big) v->neg = false;
		free(digits);
		return 0;
	}
	default:
		return fail(msg, ml, MAP_E_CONST, "int() argument must be a string or a number, not '%s'", py_type(v));
	}
}

/* float(v) */
static int py_float(struct pyv *v, char *msg, size_t ml)
{
	switch (v->k) {
	case PK_FLOAT: return 0;
	case PK_NUM: v->k = PK_FLOAT; return 0;
	case PK_BOOL: v->k = PK_FLOAT; v->d = v->b; return 0;
	case PK_INT: {
		if (v->big) return fail(msg, ml, MAP_E_CONST, "int too large to convert to float");
		v->d = v->neg ? -(double)v->mag : (double)v->mag;
		v->k = PK_FLOAT;
		return 0;
	}
	case PK_STR: {
		const char *s = v->s;
		size_t n = v->slen, i = 0, o = 0;
		py_strip(&s, &n);
		char *buf = malloc(n + 2);
		if (!buf) return fail(msg, ml, MAP_E_NOMEM, "out of memory");
		if (i < n && (s[i] == '+' || s[i] == '-')) buf[o++] = s[i++];
		bool ok = false;
		size_t rest = n - i;
		static const char *const special[] = {"infinity", "inf", "nan"};
		for (int k = 0; k < 3 && !ok; k++)
			if (rest == strlen(special[k]) && strncasecmp(s + i, special[k], rest) == 0) {
				memcpy(buf + o, special[k], rest);
				o += rest;
				i = n;
				ok = true;
			}
		if (!ok) {
			size_t u = py_digits(s + i, n - i, buf, &o);
			bool mant = u > 0;
			i += u;
			if (i < n && s[i] == '.') {
				buf[o++] = '.';
				i++;
				u = py_digits(s + i, n - i, buf, &o);
				mant = mant || u > 0;
				i += u;
			}
			if (mant && i < n && (s[i] == 'e' || s[i] == 'E')) {
				buf[o++] = 'e';
				i++;
				if (i < n && (s[i] == '+' || s[i] == '-')) buf[o++] = s[i++];
				u = py_digits(s + i, n - i, buf, &o);
				if (!u) mant = false;
				i += u;
			}
			ok = mant && i == n;
		}
		if (!ok) {
			free(buf);
			return fail(msg, ml, MAP_E_CONST, "could not convert string to float: '%.*s'",
				    (int)(v->slen > 40 ? 40 : v->slen), v->s);
		}
		buf[o] = 0;
		pthread_once(&c_locale_once, c_locale_init);
		v->d = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
		v->k = PK_FLOAT;
		free(buf);
		return 0;
	}
	default:
		return fail(msg, ml, MAP_E_CONST, "float() argument must be a string or a real number, not '%s'",
			    py_type(v));
	}
}

static void pyv_from_json(const cJSON *j, struct pyv *v)
{
	memset(v, 0, sizeof *v);
	if (cJSON_IsNumber(j)) { v->k = PK_NUM; v->d = j->valuedouble; }
	else if (cJSON_IsString(j)) { v->k = PK_STR; v->s = j->valuestring ? j->valuestring : ""; v->slen = strlen(v->s); }
	else if (cJSON_IsBool(j)) { v->k = PK_BOOL; v->b = cJSON_IsTrue(j); }
	else if (cJSON_IsArray(j)) v->k = PK_LIST;
	else if (cJSON_IsObject(j)) v->k = PK_DICT;
	else v->k = PK_NULL;
}

static const char *const basic_types[] = {
	"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
	"float16", "float32", "float64", "string", "cstring", "bool",
};

/* get_ujo_value(value, type_name), written with w. */
static int basic_constant(const cJSON *value, const cJSON *type, struct ujo_writer *w, char *msg, size_t ml)
{
	if (!cJSON_IsString(type) || !type->valuestring)
		return fail(msg, ml, MAP_E_CONST, "constant type is %s, not a string", json_type(type));
	const char *t = type->valuestring;
	struct pyv v;
	int rc;
	pyv_from_json(value, &v);
	if (strstr(t, "int") && (rc = py_int(&v, msg, ml))) return rc;
	if (strstr(t, "float") && (rc = py_float(&v, msg, ml))) return rc;
	int k = -1;
	for (int i = 0; i < (int)(sizeof basic_types / sizeof basic_types[0]); i++)
		if (strcmp(t, basic_types[i]) == 0) k = i;
	if (k < 0) return fail(msg, ml, MAP_E_CONST, "unknown constant type '%.40s'", t);
	if (k <= 7) { /* integers; v is an int here */
		static const uint64_t maxmag[8] = {
			INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX,
		};
		bool sign = k <= 3;
		if (v.big || (v.neg && (!sign || v.mag > maxmag[k] + 1)) || (!v.neg && v.mag > maxmag[k]))
			return fail(msg, ml, MAP_E_CONST, "%s%s%llu is out of range for %s", v.big ? "integer " : "",
				    v.neg ? "-" : "", v.big ? 0ULL : (unsigned long long)v.mag, t);
		int64_t s = v.neg ? (int64_t)(0 - v.mag) : (int64_t)v.mag;
		switch (k) {
		case 0: return ujo_w_i8(w, (int8_t)s);
		case 1: return ujo_w_i16(w, (int16_t)s);
		case 2: return ujo_w_i32(w, (int32_t)s);
		case 3: return ujo_w_i64(w, s);
		case 4: return ujo_w_u8(w, (uint8_t)v.mag);
		case 5: return ujo_w_u16(w, (uint16_t)v.mag);
		case 6: return ujo_w_u32(w, (uint32_t)v.mag);
		default: return ujo_w_u64(w, v.mag);
		}
	}
	if (k <= 10) { /* floats; v is a float here */
		if (k == 8) {
			uint16_t h;
			if (fabs(v.d) > 65504.0 * 2 || ujo_f32_to_f16(to_f32(v.d), &h))
				return fail(msg, ml, MAP_E_CONST, "%g cannot be a float16", v.d);
			return ujo_w_f16_bits(w, h);
		}
		return k == 9 ? ujo_w_f32(w, to_f32(v.d)) : ujo_w_f64(w, v.d);
	}
	if (k == 13) { /* bool: value.lower() == "true" */
		if (v.k != PK_STR)
			return fail(msg, ml, MAP_E_CONST, "a bool constant needs a string value, not '%s'", py_type(&v));
		return ujo_w_bool(w, v.slen == 4 && strncasecmp(v.s, "true", 4) == 0);
	}
	if (v.k != PK_STR) /* string, cstring */
		return fail(msg, ml, MAP_E_CONST, "a %s constant needs a string value, not '%s'", t, py_type(&v));
	return k == 11 ? ujo_w_utf8(w, v.s, v.slen) : ujo_w_cstr(w, v.s);
}

/* Constructor checks of get_constant (titanfe raises these while the
 * group is built): required keys and the element lists. */
static int constant_check(const cJSON *c, int depth, char *err, size_t errlen)
{
	if (depth > MAP_MAX_CONST_DEPTH)
		return fail(err, errlen, MAP_E_DESC, "constants nested deeper than %d", MAP_MAX_CONST_DEPTH);
	if (!cJSON_IsObject(c)) return fail(err, errlen, MAP_E_DESC, "constant is %s, not an object", json_type(c));
	static const char *const keys[] = {"name", "type", "value"};
	for (int i = 0; i < 3; i++)
		if (!obj_get(c, keys[i])) return fail(err, errlen, MAP_E_DESC, "constant has no \"%s\"", keys[i]);
	const cJSON *type = obj_get(c, "type");
	if (!cJSON_IsString(type) || (strcmp(type->valuestring, "object") && strcmp(type->valuestring, "record")))
		return 0;
	const cJSON *el = obj_get(c, "elements");
	if (!el) return fail(err, errlen, MAP_E_DESC, "%s constant has no \"elements\"", type->valuestring);
	if (!cJSON_IsArray(el))
		return fail(err, errlen, MAP_E_DESC, "\"elements\" of a %s constant is %s, not a list", type->valuestring,
			    json_type(el));
	for (const cJSON *e = el->child; e; e = e->next) {
		int rc = constant_check(e, depth + 1, err, errlen);
		if (rc) return rc;
	}
	return 0;
}

/* get_constant(c).to_ujo(), written with w (checked by constant_check). */
static int constant_write(const cJSON *c, struct ujo_writer *w, char *msg, size_t ml)
{
	const cJSON *type = obj_get(c, "type");
	bool obj = cJSON_IsString(type) && strcmp(type->valuestring, "object") == 0;
	bool rec = cJSON_IsString(type) && strcmp(type->valuestring, "record") == 0;
	if (!obj && !rec) return basic_constant(obj_get(c, "value"), type, w, msg, ml);
	const cJSON *el = obj_get(c, "elements");
	int n = cJSON_GetArraySize(el), rc = 0;
	if (rec) {
		ujo_w_list(w);
		for (const cJSON *e = el->child; e && !rc; e = e->next) rc = constant_write(e, w, msg, ml);
		return rc ? rc : ujo_w_end(w);
	}
	/* object: ujomap[UTF8(name)] = value, a repeated name keeps its place */
	struct ujo_buf *vals = calloc((size_t)n + 1, sizeof *vals);
	const cJSON **names = calloc((size_t)n + 1, sizeof *names);
	int nk = 0;
	if (!vals || !names) rc = fail(msg, ml, MAP_E_NOMEM, "out of memory");
	for (const cJSON *e = el ? el->child : NULL; e && !rc; e = e->next) {
		const cJSON *name = obj_get(e, "name");
		if (!cJSON_IsString(name) || !name->valuestring) {
			rc = fail(msg, ml, MAP_E_CONST, "object constant element name is %s, not a string", json_type(name));
			break;
		}
		int at = nk;
		for (int i = 0; i < nk; i++)
			if (strcmp(names[i]->valuestring, name->valuestring) == 0) at = i;
		if (at == nk) {
			names[nk] = name;
			ujo_buf_init(&vals[nk++]);
		} else {
			ujo_buf_reset(&vals[at]);
		}
		struct ujo_writer ew;
		ujo_w_init_bare(&ew, &vals[at]);
		rc = constant_write(e, &ew, msg, ml);
		if (!rc) rc = ujo_w_finish(&ew);
	}
	if (!rc) {
		ujo_w_map(w);
		for (int i = 0; i < nk; i++) {
			ujo_w_utf8(w, names[i]->valuestring, strlen(names[i]->valuestring));
			ujo_w_raw(w, vals[i].data, vals[i].len);
		}
		rc = ujo_w_end(w);
	}
	for (int i = 0; vals && i < nk; i++) ujo_buf_free(&vals[i]);
	free(vals);
	free(names);
	return rc;
}

/* The nesting depth of a validated bare value (0 for atoms). */
static int value_depth(const uint8_t *p, size_t len)
{
	struct ujo_reader r;
	struct ujo_value v;
	int maxd = 0, rc;
	ujo_r_init_bare(&r, p, len);
	while ((rc = ujo_r_next(&r, &v)) == 1)
		if (r.depth > maxd) maxd = r.depth;
	return rc < 0 ? -1 : maxd;
}

/* Convert one constant at start-up: bytes, or a per-packet failure. */
static int rule_constant(struct rule *r, const cJSON *value, const cJSON *type, const cJSON *full, char *err,
			 size_t errlen)
{
	struct ujo_buf b;
	struct ujo_writer w;
	char msg[256] = "";
	ujo_buf_init(&b);
	ujo_w_init_bare(&w, &b);
	int rc = full ? constant_write(full, &w, msg, sizeof msg) : basic_constant(value, type, &w, msg, sizeof msg);
	if (rc == MAP_E_NOMEM || b.err) {
		ujo_buf_free(&b);
		return fail(err, errlen, MAP_E_NOMEM, "out of memory");
	}
	if (!rc) rc = ujo_w_finish(&w);
	if (rc) {
		ujo_buf_free(&b);
		if (!msg[0]) snprintf(msg, sizeof msg, "%s", rc < 0 && rc >= UJO_E_TOOBIG ? ujo_strerror(rc) : "invalid");
		if (asprintf(&r->fail, "constant: %s", msg) < 0) r->fail = NULL;
		if (!r->fail) return fail(err, errlen, MAP_E_NOMEM, "out of memory");
		r->failcode = MAP_E_CONST;
		return 0;
	}
	r->cval = b.data;
	r->clen = b.len;
	r->cdepth = value_depth(b.data, b.len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing the consumer description                                     */

static int belem_find(const struct map_group *g, const char *id)
{
	size_t n = strlen(id);
	for (size_t i = 0; i < g->nbelems; i++)
		if ((size_t)field_len(&g->belems[i].id) == n && memcmp(field_name(&g->belems[i].id), id, n) == 0)
			return (int)i;
	return -1;
}

static int parse_buffer(struct map_group *g, const cJSON *buf, char *err, size_t errlen)
{
	if (!buf || cJSON_IsNull(buf)) return 0;
	if (!cJSON_IsObject(buf))
		return fail(err, errlen, MAP_E_DESC, "\"buffer\" is %s, not an object", json_type(buf));
	int n = cJSON_GetArraySize(buf), rc;
	if (n > (int)MAP_MAX_BUFFER_ELEMENTS)
		return fail(err, errlen, MAP_E_DESC, "\"buffer\" has more than %u elements", MAP_MAX_BUFFER_ELEMENTS);
	if (!n) return 0;
	g->belems = calloc((size_t)n, sizeof *g->belems);
	if (!g->belems) return fail(err, errlen, MAP_E_NOMEM, "out of memory");
	for (const cJSON *e = buf->child; e; e = e->next) {
		char what[96];
		snprintf(what, sizeof what, "buffer element '%.40s' source", e->string ? e->string : "");
		if (!cJSON_IsObject(e))
			return fail(err, errlen, MAP_E_DESC, "buffer element '%.40s' is %s, not an object",
				    e->string ? e->string : "", json_type(e));
		const cJSON *src = obj_get(e, "source");
		if (!src) return fail(err, errlen, MAP_E_DESC, "buffer element '%.40s' has no \"source\"", e->string);
		struct belem be;
		memset(&be, 0, sizeof be);
		be.copy = !json_truthy(src);
		if (!be.copy) {
			if (!cJSON_IsArray(src))
				return fail(err, errlen, MAP_E_DESC, "%s is %s, not a list", what, json_type(src));
			if ((rc = path_make(&be.src, src, 1, what, err, errlen))) return rc;
		}
		/* a repeated id (cJSON keeps both): the last source, the first place */
		int at = belem_find(g, e->string);
		if (at >= 0) {
			path_free(&g->belems[at].src);
			g->belems[at].src = be.src;
			g->belems[at].copy = be.copy;
			continue;
		}
		if ((rc = field_make(&be.id, e->string, strlen(e->string)))) {
			path_free(&be.src);
			return fail(err, errlen, rc, "out of memory");
		}
		g->belems[g->nbelems++] = be;
	}
	return 0;
}

/* A buffer rule's element; unknown ids fail per packet, as in titanfe. */
static int rule_buffer_id(struct map_group *g, struct rule *r, const cJSON *id, const char *what, char *err,
			  size_t errlen)
{
	if (!cJSON_IsString(id) || !id->valuestring)
		return fail(err, errlen, MAP_E_DESC, "%s: buffer_id is %s, not a string", what, json_type(id));
	r->belem = belem_find(g, id->valuestring);
	if (r->belem < 0) {
		if (asprintf(&r->fail, "buffer element '%.60s' is not in the consumer's buffer description",
			     id->valuestring) < 0)
			r->fail = NULL;
		if (!r->fail) return fail(err, errlen, MAP_E_NOMEM, "out of memory");
		r->failcode = MAP_E_KEY;
	}
	return 0;
}

static int parse_rule_new(struct map_group *g, struct rule *r, const cJSON *j, const char *what, char *err,
			  size_t errlen)
{
	static const char *const keys[] = {"type", "source_fields", "target_fields", "buffer_id"};
	int rc;
	for (int i = 0; i < 4; i++)
		if (!obj_get(j, keys[i])) return fail(err, errlen, MAP_E_DESC, "%s has no \"%s\"", what, keys[i]);
	const cJSON *type = obj_get(j, "type"), *sf = obj_get(j, "source_fields"), *tf = obj_get(j, "target_fields");
	if (!cJSON_IsString(type) || !type->valuestring)
		return fail(err, errlen, MAP_E_DESC, "%s: \"type\" is %s, not a string", what, json_type(type));
	if (!cJSON_IsArray(sf))
		return fail(err, errlen, MAP_E_DESC, "%s: \"source_fields\" is %s, not a list", what, json_type(sf));
	if (!cJSON_IsArray(tf))
		return fail(err, errlen, MAP_E_DESC, "%s: \"target_fields\" is %s, not a list", what, json_type(tf));
	char sub[128];
	snprintf(sub, sizeof sub, "%s: target_fields", what);
	if ((rc = path_make(&r->tp, tf, 1, sub, err, errlen))) return rc;
	if (strcmp(type->valuestring, "constant") == 0) {
		r->src = SRC_CONST;
		const cJSON *c = obj_get(j, "constant");
		if (!c) return fail(err, errlen, MAP_E_DESC, "%s: a constant rule has no \"constant\"", what);
		if ((rc = constant_check(c, 0, err, errlen))) {
			char tmp[256];
			snprintf(tmp, sizeof tmp, "%s", err ? err : "");
			return fail(err, errlen, rc, "%s: %s", what, tmp);
		}
		return rule_constant(r, NULL, NULL, c, err, errlen);
	}
	snprintf(sub, sizeof sub, "%s: source_fields", what);
	if ((rc = path_make(&r->sp, sf, 1, sub, err, errlen))) return rc;
	if (strcmp(type->valuestring, "buffer") == 0) {
		r->src = SRC_BUFFER;
		return rule_buffer_id(g, r, obj_get(j, "buffer_id"), what, err, errlen);
	}
	r->src = SRC_PAYLOAD;
	return 0;
}

/* [[origin, ...], [TargetType, ...]] */
static int parse_rule_old(struct map_group *g, struct rule *r, const cJSON *j, const char *what, char *err,
			  size_t errlen)
{
	const cJSON *s = cJSON_GetArrayItem(j, 0), *t = cJSON_GetArrayItem(j, 1);
	char sub[128];
	int rc;
	r->old = true;
	if (!cJSON_IsArray(s) || !cJSON_IsArray(t) || !s->child)
		return fail(err, errlen, MAP_E_DESC, "%s: an older-format rule is [[origin, ...], [TargetType, ...]]",
			    what);
	snprintf(sub, sizeof sub, "%s: target", what);
	if ((rc = path_make(&r->tp, t, 1, sub, err, errlen))) return rc;
	const cJSON *origin = s->child;
	bool is_str = cJSON_IsString(origin) && origin->valuestring;
	if (is_str && strcmp(origin->valuestring, "_constant") == 0) {
		const cJSON *type = cJSON_GetArrayItem(s, 1), *value = cJSON_GetArrayItem(s, 2);
		if (!type || !value)
			return fail(err, errlen, MAP_E_DESC, "%s: a constant rule is [\"_constant\", type, value]", what);
		r->src = SRC_CONST;
		return rule_constant(r, value, type, NULL, err, errlen);
	}
	snprintf(sub, sizeof sub, "%s: source", what);
	if (is_str && strcmp(origin->valuestring, "_buffer") == 0) {
		r->src = SRC_BUFFER;
		const cJSON *id = cJSON_GetArrayItem(s, 1);
		if (!id) return fail(err, errlen, MAP_E_DESC, "%s: a buffer rule is [\"_buffer\", id, Type, ...]", what);
		if ((rc = path_make(&r->sp, s, 3, sub, err, errlen))) return rc;
		return rule_buffer_id(g, r, id, what, err, errlen);
	}
	r->src = SRC_PAYLOAD;
	return path_make(&r->sp, s, 1, sub, err, errlen);
}

/* Pre-index the maps of the default target (bare value at p). Returns
 * the tmap index or a negative error. */
static int tmpl_index(struct map_group *g, const uint8_t *p, size_t len, int depth)
{
	struct ujo_reader r;
	struct ujo_value v;
	struct tkv *kv = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	if (depth > UJO_MAX_DEPTH) return MAP_E_LIMIT;
	ujo_r_init_bare(&r, p, len);
	if (ujo_r_next(&r, &v) != 1 || v.type != UJO_MAP) return MAP_E_INPUT;
	if (g->ntmaps == g->ctmaps) {
		size_t c = g->ctmaps ? 2 * g->ctmaps : 8;
		struct tmap *m = realloc(g->tmaps, c * sizeof *m);
		if (!m) return MAP_E_NOMEM;
		g->tmaps = m;
		g->ctmaps = c;
	}
	int idx = (int)g->ntmaps++;
	for (;;) {
		const uint8_t *raw;
		size_t rl;
		if (ujo_r_next(&r, &v) != 1) { rc = MAP_E_INPUT; break; }
		if (v.type == UJO_END) break;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			struct tkv *nk = realloc(kv, cap * sizeof *nk);
			if (!nk) { rc = MAP_E_NOMEM; break; }
			kv = nk;
		}
		ujo_r_skip(&r, &v, &raw, &rl);
		kv[n].k = raw;
		kv[n].klen = (uint32_t)rl;
		if (ujo_r_next(&r, &v) != 1 || ujo_r_skip(&r, &v, &raw, &rl)) { rc = MAP_E_INPUT; break; }
		kv[n].v = raw;
		kv[n].vlen = (uint32_t)rl;
		kv[n].map = -1;
		n++;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (kv[i].v[0] != UJO_MAP) continue;
		int c = tmpl_index(g, kv[i].v, kv[i].vlen, depth + 1);
		if (c < 0) rc = c;
		else kv[i].map = c;
	}
	if (!rc && g->ntkvs + n > g->ctkvs) {
		size_t c = g->ctkvs ? g->ctkvs : 16;
		while (c < g->ntkvs + n) c *= 2;
		struct tkv *nk = realloc(g->tkvs, c * sizeof *nk);
		if (!nk) rc = MAP_E_NOMEM;
		else { g->tkvs = nk; g->ctkvs = c; }
	}
	if (!rc) {
		g->tmaps[idx].first = (uint32_t)g->ntkvs;
		g->tmaps[idx].n = (uint32_t)n;
		if (n) memcpy(g->tkvs + g->ntkvs, kv, n * sizeof *kv);
		g->ntkvs += n;
	}
	free(kv);
	return rc ? rc : idx;
}

static int parse_target(struct map_group *g, const cJSON *tp, char *err, size_t errlen)
{
	if (!tp) return fail(err, errlen, MAP_E_DESC, "consumer description has no \"targetPort\"");
	if (!cJSON_IsObject(tp)) return fail(err, errlen, MAP_E_DESC, "\"targetPort\" is %s, not an object", json_type(tp));
	const cJSON *schema = obj_get(tp, "schema");
	if (!json_truthy(schema)) { /* no schema: the target is UJO none */
		g->target = malloc(1);
		if (!g->target) return fail(err, errlen, MAP_E_NOMEM, "out of memory");
		g->target[0] = UJO_NONE;
		g->tlen = 1;
		return 0;
	}
	if (!cJSON_IsString(schema))
		return fail(err, errlen, MAP_E_SCHEMA, "targetPort.schema is %s, not a string", json_type(schema));
	const cJSON *name = obj_get(tp, "typeName");
	if (!cJSON_IsString(name) || !name->valuestring)
		return fail(err, errlen, MAP_E_SCHEMA, "targetPort has a schema but %s", name ? "its typeName is not a string" : "no typeName");
	struct ujs_schema *s;
	char msg[256];
	int rc = ujs_parse(&s, schema->valuestring, strlen(schema->valuestring), msg, sizeof msg);
	if (rc) return fail(err, errlen, rc == UJS_E_NOMEM ? MAP_E_NOMEM : MAP_E_SCHEMA, "targetPort.schema: %s", msg);
	struct ujo_buf b;
	ujo_buf_init(&b);
	rc = ujs_default(s, name->valuestring, &b, msg, sizeof msg);
	ujs_free(s);
	if (rc) {
		ujo_buf_free(&b);
		return fail(err, errlen, rc == UJS_E_NOMEM ? MAP_E_NOMEM : MAP_E_SCHEMA, "targetPort.typeName '%.60s': %s",
			    name->valuestring, msg);
	}
	g->target = b.data;
	g->tlen = b.len;
	g->has_schema = true;
	if (g->target[0] == UJO_MAP && (rc = tmpl_index(g, g->target, g->tlen, 1)) < 0)
		return fail(err, errlen, rc, "indexing the default value: %s", map_strerror(rc));
	return 0;
}

struct map_group *map_group_new(const struct cJSON *desc, char *err, size_t errlen)
{
	char tmp[512];
	if (err && errlen) err[0] = 0;
	if (!cJSON_IsObject(desc)) {
		fail(err, errlen, MAP_E_DESC, "consumer description is %s, not an object", json_type(desc));
		return NULL;
	}
	struct map_group *g = calloc(1, sizeof *g);
	if (!g) {
		fail(err, errlen, MAP_E_NOMEM, "out of memory");
		return NULL;
	}
	const cJSON *rules = obj_get(desc, "mapping");
	int rc = parse_target(g, obj_get(desc, "targetPort"), err, errlen);
	if (!rc) rc = parse_buffer(g, obj_get(desc, "buffer"), err, errlen);
	if (!rc && rules && !cJSON_IsNull(rules) && !cJSON_IsArray(rules))
		rc = fail(err, errlen, MAP_E_DESC, "\"mapping\" is %s, not a list", json_type(rules));
	int n = cJSON_IsArray(rules) ? cJSON_GetArraySize(rules) : 0;
	if (!rc && n > (int)MAP_MAX_RULES)
		rc = fail(err, errlen, MAP_E_DESC, "\"mapping\" has more than %u rules", MAP_MAX_RULES);
	if (!rc && n && !(g->rules = calloc((size_t)n, sizeof *g->rules)))
		rc = fail(err, errlen, MAP_E_NOMEM, "out of memory");
	int i = 0;
	for (const cJSON *j = n ? rules->child : NULL; j && !rc; j = j->next, i++) {
		struct rule *r = &g->rules[g->nrules++];
		char what[32];
		snprintf(what, sizeof what, "mapping rule %d", i + 1);
		if (cJSON_IsObject(j)) rc = parse_rule_new(g, r, j, what, err, errlen);
		else if (cJSON_IsArray(j)) rc = parse_rule_old(g, r, j, what, err, errlen);
		else rc = fail(err, errlen, MAP_E_DESC, "%s is %s, not an object or a list", what, json_type(j));
		if (!rc && r->fail && !g->warning) {
			snprintf(tmp, sizeof tmp, "%s fails on every packet that reaches it: %s", what, r->fail);
			if (!(g->warning = strdup(tmp))) rc = fail(err, errlen, MAP_E_NOMEM, "out of memory");
		}
	}
	if (rc) {
		map_group_free(g);
		return NULL;
	}
	g->unchanged = g->nrules == 0 && !g->has_schema;
	return g;
}

/* ------------------------------------------------------------------ */
/* Applying a group to one packet                                       */

struct slice {
	const uint8_t *p;
	size_t len;
	int depth; /* nesting (0 atoms); -1: not validated yet */
};

struct skv {
	struct slice k, v;
};

struct smap { /* a scanned source map: its pairs are skv[first .. first+n) */
	const uint8_t *p;
	size_t first, n;
	int depth;
};

struct tnode { /* an opened map of the consumer's value */
	int32_t head, tail; /* its pairs (ekv indices), -1 none */
};

struct ekv { /* a pair of an opened map; pair 0 is the whole value */
	const uint8_t *k, *v; /* key bytes; value bytes when node < 0 */
	size_t klen, vlen;
	int32_t tmpl; /* v is a map of the default target: its tmap, else -1 */
	int32_t node; /* the value is the opened map tn[node]; -1: raw v */
	int32_t next;
};

/* Vectors that start in a caller's array (on the stack) and move to the
 * heap when they outgrow it. */
#define VEC(T) struct { T *v; size_t n, cap; T *st; }
#define VEC_INIT(x, arr) ((x).v = (x).st = (arr), (x).n = 0, (x).cap = sizeof (arr) / sizeof (arr)[0])
#define VEC_FREE(x) do { if ((x).v != (x).st) free((x).v); } while (0)
/* The next free element (the vector doubled if needed), or NULL. */
#define VEC_PUSH(x)                                                              \
	({                                                                        \
		__typeof__((x).v) vp_ = NULL;                                     \
		if ((x).n == (x).cap) {                                           \
			void *nv_ = vec_grow((x).v, (x).cap, sizeof *(x).v, (x).st); \
			if (nv_) { (x).v = nv_; (x).cap *= 2; }                   \
		}                                                                 \
		if ((x).n < (x).cap) vp_ = &(x).v[(x).n++];                       \
		vp_;                                                              \
	})

/* The array v of cap elements moved to one of twice the size. */
static void *vec_grow(void *v, size_t cap, size_t sz, const void *st)
{
	if (cap > SIZE_MAX / 2 / sz) return NULL;
	if (v != st) return realloc(v, 2 * cap * sz);
	void *nv = malloc(2 * cap * sz);
	if (nv) memcpy(nv, v, cap * sz);
	return nv;
}

struct ctx {
	const struct map_group *g;
	char *err;
	size_t errlen;
	/* what is being done, for messages (formatted only on an error) */
	size_t ruleno;               /* 1-based rule, 0: none */
	const struct field *belem;   /* building this buffer element */
	int in_rc;                   /* scan_map's reader error and offset */
	size_t in_off;
	VEC(struct skv) skv;
	VEC(struct smap) smap;
	VEC(struct tnode) tn;
	VEC(struct ekv) ek;
	VEC(struct slice) bval;
};

static int clip(const struct field *f) { return field_len(f) > 60 ? 60 : field_len(f); }

__attribute__((format(printf, 3, 4)))
static int cfail(struct ctx *c, int code, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		int n = c->belem ? snprintf(c->err, c->errlen, "buffer element '%.*s': ", clip(c->belem), field_name(c->belem))
			: c->ruleno ? snprintf(c->err, c->errlen, "rule %zu: ", c->ruleno)
			: snprintf(c->err, c->errlen, "mapping: ");
		if (n >= 0 && (size_t)n < c->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
		one_line(c->err);
	}
	return code;
}

static int nomem(struct ctx *c) { return cfail(c, MAP_E_NOMEM, "out of memory"); }

/* "base.f1.f2" for the first n fields of p */
static const char *path_text(const char *base, const struct path *p, uint32_t n, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "%s", base);
	for (uint32_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%.*s", o ? "." : "", field_len(&p->f[i]) > 40 ? 40 : field_len(&p->f[i]),
				      field_name(&p->f[i]));
	return buf;
}

static const char *type_of(const uint8_t *p)
{
	const char *n = ujo_type_name(*p);
	return n ? n : "invalid value";
}

/* Skip the value v just read (a container: all of it), giving its bytes
 * and nesting depth. */
static int skip_value(struct ujo_reader *r, const struct ujo_value *v, struct slice *out)
{
	int base = r->depth, maxd = r->depth;
	if (v->type >= UJO_LIST && v->type <= UJO_TABLE) {
		base--;
		struct ujo_value x;
		while (r->depth > base) {
			int rc = ujo_r_next(r, &x);
			if (rc < 0) return rc;
			if (rc == 0) return UJO_E_TRUNCATED;
			if (r->depth > maxd) maxd = r->depth;
		}
	}
	out->p = v->raw;
	out->len = (size_t)(r->p - v->raw);
	out->depth = maxd - base;
	return 0;
}

/* Validate a whole value (root payload or buffer) and learn its depth. */
static int validate(struct ctx *c, struct slice *s, const char *what)
{
	struct ujo_reader r;
	struct ujo_value v;
	struct slice out;
	ujo_r_init_bare(&r, s->p, s->len);
	int rc = ujo_r_next(&r, &v);
	if (rc == 1) rc = skip_value(&r, &v, &out);
	if (rc == 0) rc = ujo_r_next(&r, &v);
	if (rc != 0)
		return cfail(c, MAP_E_INPUT, "%s is not valid UJO (%s at byte %zu)", what,
			     ujo_strerror(rc == 1 ? UJO_E_TRAILING : rc), ujo_r_offset(&r));
	s->depth = out.depth;
	return 0;
}

/* The pairs of the map at s (scanned once per packet). Returns the smap
 * index; a value that is not a map gives MAP_E_TYPE and invalid UJO
 * MAP_E_INPUT, both without a message (MAP_E_NOMEM has one). */
static int scan_map(struct ctx *c, struct slice *s)
{
	for (size_t i = 0; i < c->smap.n; i++)
		if (c->smap.v[i].p == s->p) {
			s->depth = c->smap.v[i].depth;
			return (int)i;
		}
	if (s->len == 0 || s->p[0] != UJO_MAP) return MAP_E_TYPE;
	struct ujo_reader r;
	struct ujo_value v;
	int rc, maxd = 0;
	size_t first = c->skv.n;
	ujo_r_init_bare(&r, s->p, s->len);
	rc = ujo_r_next(&r, &v);
	while (rc == 1) {
		struct skv *kv;
		if ((rc = ujo_r_next(&r, &v)) != 1) break;
		if (v.type == UJO_END) { rc = ujo_r_next(&r, &v); break; } /* 0: nothing after the map */
		if (!(kv = VEC_PUSH(c->skv))) return nomem(c);
		if ((rc = skip_value(&r, &v, &kv->k))) break;
		if ((rc = ujo_r_next(&r, &v)) != 1 || (rc = skip_value(&r, &v, &kv->v))) break;
		if (kv->v.depth > maxd) maxd = kv->v.depth;
		rc = 1;
	}
	if (rc != 0) {
		c->skv.n = first;
		c->in_rc = rc == 1 ? UJO_E_TRAILING : rc;
		c->in_off = ujo_r_offset(&r);
		return MAP_E_INPUT; /* the caller words the message */
	}
	struct smap *m = VEC_PUSH(c->smap);
	if (!m) return nomem(c);
	m->p = s->p;
	m->first = first;
	m->n = c->skv.n - first;
	m->depth = 1 + maxd;
	s->depth = m->depth;
	return (int)(c->smap.n - 1);
}

/* Equal encoded keys of n bytes (n >= 6: type, subtype, length): short
 * ones with two overlapping loads instead of a memcmp call. */
static inline bool keyeq(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n <= 8) {
		uint32_t a0, b0, a1, b1;
		memcpy(&a0, a, 4); memcpy(&b0, b, 4); memcpy(&a1, a + n - 4, 4); memcpy(&b1, b + n - 4, 4);
		return a0 == b0 && a1 == b1;
	}
	if (n <= 16) {
		uint64_t a0, b0, a1, b1;
		memcpy(&a0, a, 8); memcpy(&b0, b, 8); memcpy(&a1, a + n - 8, 8); memcpy(&b1, b + n - 8, 8);
		return a0 == b0 && a1 == b1;
	}
	return memcmp(a, b, n) == 0;
}

/* The value of key f in scanned map m (the last of equal keys), or NULL. */
static const struct slice *smap_get(struct ctx *c, int m, const struct field *f)
{
	const struct skv *kv = c->skv.v + c->smap.v[m].first;
	for (size_t i = c->smap.v[m].n; i-- > 0;)
		if (kv[i].k.len == f->enclen && keyeq(kv[i].k.p, f->enc, f->enclen)) return &kv[i].v;
	return NULL;
}

static int input_fail(struct ctx *c, const char *what)
{
	return cfail(c, MAP_E_INPUT, "%s is not valid UJO (%s at byte %zu)", what, ujo_strerror(c->in_rc), c->in_off);
}

/* Walk the source fields p from cur, the payload (bf NULL) or the new
 * buffer's element bf. */
/* The source base for messages: "payload" or "buffer['id']" (bf). */
static const char *src_base(const struct field *bf, char *buf, size_t len)
{
	if (!bf) return "payload";
	snprintf(buf, len, "buffer['%.*s']", clip(bf), field_name(bf));
	return buf;
}

static int walk(struct ctx *c, struct slice cur, const struct path *p, const struct field *bf, struct slice *out)
{
	char buf[200], what[96];
	for (uint32_t i = 0; i < p->n; i++) {
		int m = scan_map(c, &cur);
		if (m == MAP_E_INPUT) return input_fail(c, path_text(src_base(bf, what, sizeof what), p, i, buf, sizeof buf));
		if (m == MAP_E_TYPE)
			return cfail(c, MAP_E_TYPE, "%s is %s, not a map (looking for '%.*s')",
				     path_text(src_base(bf, what, sizeof what), p, i, buf, sizeof buf),
				     cur.len ? type_of(cur.p) : "empty", clip(&p->f[i]), field_name(&p->f[i]));
		if (m < 0) return m;
		const struct slice *v = smap_get(c, m, &p->f[i]);
		if (!v)
			return cfail(c, MAP_E_KEY, "source key '%.*s' not found in %s", clip(&p->f[i]), field_name(&p->f[i]),
				     path_text(src_base(bf, what, sizeof what), p, i, buf, sizeof buf));
		cur = *v;
	}
	if (cur.depth < 0) {
		int rc = validate(c, &cur, src_base(bf, what, sizeof what));
		if (rc) return rc;
	}
	*out = cur;
	return 0;
}

/* Fast append: the common case is a memcpy into reserved room. */
static inline void bput(struct ujo_buf *out, const void *p, size_t n)
{
	if (n <= out->cap - out->len && !out->err) {
		memcpy(out->data + out->len, p, n);
		out->len += n;
	} else {
		ujo_buf_put(out, p, n);
	}
}

static int32_t tnode_new(struct ctx *c)
{
	struct tnode *t = VEC_PUSH(c->tn);
	if (!t) return -1;
	t->head = t->tail = -1;
	return (int32_t)(c->tn.n - 1);
}

/* Append a pair (raw value v, or the opened map node) to opened map t;
 * returns its ekv index or -1. */
static int32_t ekv_add(struct ctx *c, int32_t t, const uint8_t *k, size_t klen, const struct slice *v, int32_t tmpl,
		       int32_t node)
{
	struct ekv *e = VEC_PUSH(c->ek);
	if (!e) return -1;
	int32_t ei = (int32_t)(c->ek.n - 1);
	e->k = k;
	e->klen = klen;
	e->v = v ? v->p : NULL;
	e->vlen = v ? v->len : 0;
	e->tmpl = tmpl;
	e->node = node;
	e->next = -1;
	if (t >= 0) {
		struct tnode *tn = &c->tn.v[t];
		if (tn->tail >= 0) c->ek.v[tn->tail].next = ei;
		else tn->head = ei;
		tn->tail = ei;
	}
	return ei;
}

/* Open the raw map value of pair e for editing (its pairs from the
 * pre-indexed default target, or scanned). */
static int open_map(struct ctx *c, int32_t e)
{
	int32_t t = tnode_new(c);
	if (t < 0) return nomem(c);
	int32_t tmpl = c->ek.v[e].tmpl;
	if (tmpl >= 0) {
		const struct tmap *m = &c->g->tmaps[tmpl];
		for (uint32_t i = 0; i < m->n; i++) {
			const struct tkv *kv = &c->g->tkvs[m->first + i];
			struct slice s = {kv->v, kv->vlen, -1};
			if (ekv_add(c, t, kv->k, kv->klen, &s, kv->map, -1) < 0) return nomem(c);
		}
	} else {
		struct slice raw = {c->ek.v[e].v, c->ek.v[e].vlen, -1};
		int m = scan_map(c, &raw);
		if (m == MAP_E_INPUT) return input_fail(c, "a target value");
		if (m < 0) return m == MAP_E_TYPE ? cfail(c, MAP_E_TYPE, "target value is not a map") : m;
		for (size_t i = 0; i < c->smap.v[m].n; i++) {
			const struct skv kv = c->skv.v[c->smap.v[m].first + i];
			if (ekv_add(c, t, kv.k.p, kv.k.len, &kv.v, -1, -1) < 0) return nomem(c);
		}
	}
	c->ek.v[e].node = t;
	return 0;
}

/* The pair of key f in opened map t (the last of equal keys), or -1. */
static int32_t ekv_find(const struct ctx *c, int32_t t, const struct field *f)
{
	int32_t found = -1;
	for (int32_t e = c->tn.v[t].head; e >= 0; e = c->ek.v[e].next) {
		const struct ekv *x = &c->ek.v[e];
		if (x->klen == f->enclen && keyeq(x->k, f->enc, f->enclen)) found = e;
	}
	return found;
}

/* target[f1]...[fn] = val; the target is pair 0. */
static int set_path(struct ctx *c, const struct path *p, const struct slice *val, bool old)
{
	char buf[200];
	int32_t e = 0;
	if (p->n + (uint32_t)val->depth > UJO_MAX_DEPTH)
		return cfail(c, MAP_E_LIMIT, "the value (nesting %d) at target %s would nest deeper than %d", val->depth,
			     path_text("", p, p->n, buf, sizeof buf), UJO_MAX_DEPTH);
	for (uint32_t i = 0; i < p->n; i++) {
		const struct ekv *x = &c->ek.v[e];
		if (x->node < 0) { /* a raw value: must be a map, opened now */
			if (!x->vlen || x->v[0] != UJO_MAP) {
				if (i == 0 && !c->g->has_schema)
					return cfail(c, MAP_E_TYPE, "the target is none (no targetPort.schema), cannot set '%.*s'",
						     clip(&p->f[0]), field_name(&p->f[0]));
				return cfail(c, MAP_E_TYPE, "target %s is %s, not a map (setting '%.*s')",
					     i ? path_text("", p, i, buf, sizeof buf) : "value", x->vlen ? type_of(x->v) : "empty",
					     clip(&p->f[i]), field_name(&p->f[i]));
			}
			int rc = open_map(c, e);
			if (rc) return rc;
		}
		int32_t t = c->ek.v[e].node;
		int32_t f = ekv_find(c, t, &p->f[i]);
		if (i + 1 == p->n) { /* the last field: set */
			if (f < 0) return ekv_add(c, t, p->f[i].enc, p->f[i].enclen, val, -1, -1) < 0 ? nomem(c) : 0;
			struct ekv *y = &c->ek.v[f];
			y->v = val->p;
			y->vlen = val->len;
			y->tmpl = -1;
			y->node = -1;
			return 0;
		}
		bool none = f >= 0 && c->ek.v[f].node < 0 && c->ek.v[f].vlen && c->ek.v[f].v[0] == UJO_NONE;
		if (f < 0 || (none && !old)) { /* a new empty map */
			int32_t nt = tnode_new(c);
			if (nt < 0) return nomem(c);
			if (f < 0) {
				if ((f = ekv_add(c, t, p->f[i].enc, p->f[i].enclen, NULL, -1, nt)) < 0) return nomem(c);
			} else {
				c->ek.v[f].node = nt;
			}
		}
		e = f;
	}
	return 0;
}

static void put_ekv(const struct ctx *c, struct ujo_buf *out, int32_t e)
{
	const struct ekv *x = &c->ek.v[e];
	if (x->node < 0) {
		bput(out, x->v, x->vlen);
		return;
	}
	static const uint8_t mopen = UJO_MAP, mclose = 0;
	bput(out, &mopen, 1);
	for (int32_t k = c->tn.v[x->node].head; k >= 0; k = c->ek.v[k].next) {
		bput(out, c->ek.v[k].k, c->ek.v[k].klen);
		put_ekv(c, out, k);
	}
	bput(out, &mclose, 1);
}

/* The new buffer (new_buffer_from_result): one value per element. */
static int new_buffer(struct ctx *c, struct slice *payload, const uint8_t *buffer, size_t buffer_len,
		      struct ujo_buf *out)
{
	const struct map_group *g = c->g;
	struct slice inbuf = {buffer, buffer ? buffer_len : 0, -1};
	for (size_t i = 0; i < g->nbelems; i++) {
		const struct belem *be = &g->belems[i];
		struct slice *v = VEC_PUSH(c->bval);
		int rc;
		if (!v) return nomem(c);
		c->belem = &be->id;
		if (be->copy) { /* new_buffer[id] = old_buffer[id] */
			const struct slice *found = NULL;
			if (inbuf.len) {
				int m = scan_map(c, &inbuf);
				if (m == MAP_E_INPUT) return input_fail(c, "the incoming buffer");
				if (m == MAP_E_TYPE)
					return cfail(c, MAP_E_INPUT, "the incoming buffer is %s, not a map", type_of(inbuf.p));
				if (m < 0) return m;
				found = smap_get(c, m, &be->id);
			}
			if (!found) return cfail(c, MAP_E_KEY, "not in the incoming buffer");
			*v = *found;
		} else if ((rc = walk(c, *payload, &be->src, NULL, v))) {
			return rc;
		}
		if (v->depth + 1 > UJO_MAX_DEPTH)
			return cfail(c, MAP_E_LIMIT, "the value nests deeper than %d inside the buffer", UJO_MAX_DEPTH);
	}
	c->belem = NULL;
	static const uint8_t mopen = UJO_MAP, mclose = 0;
	bput(out, &mopen, 1);
	for (size_t i = 0; i < g->nbelems; i++) {
		bput(out, g->belems[i].id.enc, g->belems[i].id.enclen);
		bput(out, c->bval.v[i].p, c->bval.v[i].len);
	}
	bput(out, &mclose, 1);
	return 0;
}

/* MappingRules.apply */
static int run_rules(struct ctx *c, struct slice *payload, struct ujo_buf *out)
{
	const struct map_group *g = c->g;
	struct slice tgt = {g->target, g->tlen, -1};
	if (ekv_add(c, -1, NULL, 0, &tgt, g->target[0] == UJO_MAP && g->ntmaps ? 0 : -1, -1) != 0) return nomem(c);
	for (size_t i = 0; i < g->nrules; i++) {
		const struct rule *r = &g->rules[i];
		struct slice v;
		int rc;
		c->ruleno = i + 1;
		if (r->fail) return cfail(c, r->failcode, "%s", r->fail);
		if (r->src == SRC_CONST) {
			v.p = r->cval;
			v.len = r->clen;
			v.depth = r->cdepth;
		} else if (r->src == SRC_BUFFER) {
			if ((rc = walk(c, c->bval.v[r->belem], &r->sp, &g->belems[r->belem].id, &v))) return rc;
		} else if ((rc = walk(c, *payload, &r->sp, NULL, &v))) {
			return rc;
		}
		if (r->tp.n == 0) { /* the whole target: later rules are ignored */
			bput(out, v.p, v.len);
			return 0;
		}
		if ((rc = set_path(c, &r->tp, &v, r->old))) return rc;
	}
	put_ekv(c, out, 0);
	return 0;
}

int map_apply(const struct map_group *g, const uint8_t *payload, size_t payload_len, const uint8_t *buffer,
	      size_t buffer_len, struct ujo_buf *out_payload, struct ujo_buf *out_buffer, char *err, size_t errlen)
{
	static const uint8_t empty_map[2] = {UJO_MAP, 0};
	if (err && errlen) err[0] = 0;
	if (!g || !out_payload || !out_buffer) return fail(err, errlen, MAP_E_DESC, "map_apply: no group or no output");
	if (!payload || !payload_len) return fail(err, errlen, MAP_E_INPUT, "the payload is empty");
	size_t mp = out_payload->len, mb = out_buffer->len;
	int ep = out_payload->err, eb = out_buffer->err;
	int rc = 0;
	if (g->unchanged && !g->nbelems) { /* the common case: nothing to decode */
		ujo_buf_put(out_payload, payload, payload_len);
		ujo_buf_put(out_buffer, empty_map, 2);
	} else {
		struct skv skv[48];
		struct smap smap[8];
		struct tnode tn[16];
		struct ekv ek[64];
		struct slice bval[8];
		struct ctx c = {.g = g, .err = err, .errlen = errlen};
		VEC_INIT(c.skv, skv);
		VEC_INIT(c.smap, smap);
		VEC_INIT(c.tn, tn);
		VEC_INIT(c.ek, ek);
		VEC_INIT(c.bval, bval);
		struct slice pl = {payload, payload_len, -1};
		/* room for the usual result: one allocation at most */
		ujo_buf_reserve(out_payload, payload_len + g->tlen + 256);
		rc = new_buffer(&c, &pl, buffer, buffer_len, out_buffer);
		if (!rc) {
			if (g->unchanged) ujo_buf_put(out_payload, payload, payload_len);
			else rc = run_rules(&c, &pl, out_payload);
		}
		VEC_FREE(c.skv);
		VEC_FREE(c.smap);
		VEC_FREE(c.tn);
		VEC_FREE(c.ek);
		VEC_FREE(c.bval);
	}
	if (!rc && (out_payload->err || out_buffer->err)) rc = fail(err, errlen, MAP_E_NOMEM, "out of memory");
	if (rc) {
		out_payload->len = mp;
		out_buffer->len = mb;
		out_payload->err = ep;
		out_buffer->err = eb;
	}
	return rc;
}
