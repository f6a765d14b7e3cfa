/* ujoschema.c — UJO Schema parser (recursive descent) and schema_to_type.
 * Reference: ../shared/reference/ujoschema.md (§1 lexing, §2 grammar, §4
 * model, §5 defaults, §6 schema_to_type). Section numbers below are that
 * file's. */
#include "ujoschema.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "titan_limits.h"

const char *ujs_strerror(int code)
{
	switch (code) {
	case UJS_OK: return "ok";
	case UJS_E_NOMEM: return "MemoryError";
	case UJS_E_SYNTAX: return "SyntaxError";
	case UJS_E_KEY: return "KeyError";
	case UJS_E_ATTRIBUTE: return "AttributeError";
	case UJS_E_TYPE: return "TypeError";
	case UJS_E_VALUE: return "ValueError";
	case UJS_E_RECURSION: return "RecursionError";
	case UJS_E_LIMIT: return "LimitError";
	default: return "Error";
	}
}

/* ------------------------------------------------------------------ */
/* ------------------------------------------------------------------ */
/* Numbers in the C locale, and Python's str() of a float.              */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* strtod of n bytes of plain ASCII number text, independent of the
 * process locale. */
static double num_strtod(const char *s, size_t n)
{
	char buf[128];
	char *copy = n < sizeof buf ? buf : malloc(n + 1);
	if (!copy) return NAN;
	memcpy(copy, s, n);
	copy[n] = 0;
	pthread_once(&c_locale_once, c_locale_init);
	double d = c_locale ? strtod_l(copy, NULL, c_locale) : strtod(copy, NULL);
	if (copy != buf) free(copy);
	return d;
}

/* Python 3 repr()/str() of a float: the shortest text that reads back as
 * the same double, in fixed notation when the decimal exponent is in
 * (-4, 16], otherwise d.ddde+XX; ".0" added to integral fixed values. */
static void py_float_str(double x, char *out, size_t outlen)
{
	if (isnan(x)) { snprintf(out, outlen, "nan"); return; }
	if (isinf(x)) { snprintf(out, outlen, x < 0 ? "-inf" : "inf"); return; }
	if (x == 0) { snprintf(out, outlen, signbit(x) ? "-0.0" : "0.0"); return; }
	char digits[32] = "0", tmp[64];
	int nd = 0, e10 = 0;
	for (int prec = 1; prec <= 17; prec++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%.*e", prec - 1, fabs(x));
		/* collect the digits and the exponent, whatever the decimal point */
		nd = 0;
		const char *p = buf;
		for (; *p && *p != 'e'; p++)
			if (*p >= '0' && *p <= '9') digits[nd++] = *p;
		e10 = *p == 'e' ? atoi(p + 1) : 0;
		int n = snprintf(tmp, sizeof tmp, "%c.%.*se%d", digits[0], nd - 1, digits + 1, e10);
		if (num_strtod(tmp, (size_t)n) == fabs(x)) break;
	}
	while (nd > 1 && digits[nd - 1] == '0') nd--;
	int decpt = e10 + 1;
	size_t o = 0;
	char res[400];
	if (x < 0) res[o++] = '-';
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			res[o++] = '0';
			res[o++] = '.';
			for (int i = 0; i < -decpt; i++) res[o++] = '0';
			for (int i = 0; i < nd; i++) res[o++] = digits[i];
		} else if (decpt >= nd) {
			for (int i = 0; i < nd; i++) res[o++] = digits[i];
			for (int i = nd; i < decpt; i++) res[o++] = '0';
			res[o++] = '.';
			res[o++] = '0';
		} else {
			for (int i = 0; i < decpt; i++) res[o++] = digits[i];
			res[o++] = '.';
			for (int i = decpt; i < nd; i++) res[o++] = digits[i];
		}
		res[o] = 0;
	} else {
		res[o++] = digits[0];
		if (nd > 1) {
			res[o++] = '.';
			for (int i = 1; i < nd; i++) res[o++] = digits[i];
		}
		res[o] = 0;
		int ex = decpt - 1;
		snprintf(res + o, sizeof res - o, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
	}
	snprintf(out, outlen, "%s", res);
}

/* Python str(int(text)) for [+-]?digits: no '+', no leading zeros. */
static size_t py_int_str(const char *s, size_t n, char *out)
{
	size_t o = 0, i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
	while (i + 1 < n && s[i] == '0') i++;
	if (neg && !(n - i == 1 && s[i] == '0')) out[o++] = '-';
	memcpy(out + o, s + i, n - i);
	return o + n - i;
}

/* [+-]?digits → sign and magnitude; *big when above UINT64_MAX. */
static void int_parse(const char *s, size_t n, bool *neg, uint64_t *mag, bool *big)
{
	size_t i = 0;
	*neg = false;
	*mag = 0;
	*big = false;
	if (i < n && (s[i] == '+' || s[i] == '-')) *neg = s[i++] == '-';
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (*mag > (UINT64_MAX - d) / 10) *big = true;
		else *mag = *mag * 10 + d;
	}
	if (*mag == 0 && !*big) *neg = false;
}

/* ------------------------------------------------------------------ */
/* Model (§4)                                                           */

enum atom {
	A_I8, A_I16, A_I32, A_I64, A_U8, A_U16, A_U32, A_U64,
	A_F16, A_F32, A_F64,
	A_STRING, A_CSTRING, A_BOOL, A_BINARY, A_DATE, A_TIME, A_DATETIME, A_TIMESTAMP,
	A_COUNT
};

static const char *const atom_names[A_COUNT] = {
	"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
	"float16", "float32", "float64",
	"string", "cstring", "bool", "binary", "date", "time", "datetime", "timestamp",
};

static bool atom_numeric(int a) { return a <= A_F64; }
static bool atom_float(int a) { return a >= A_F16 && a <= A_F64; }

enum tkind { TY_ATOM, TY_VARIANT, TY_CUSTOM, TY_LIST, TY_MAP, TY_MULTI };

struct ty {
	uint8_t kind, atom;
	const char *name; /* TY_CUSTOM */
	size_t nlen;
	struct ty *a, *b;   /* list: a = element; map: a = key, b = value */
	struct ty **items;  /* multi */
	size_t n;
};

enum dvkind { DV_NONE, DV_INT, DV_FLOAT, DV_STR };

/* An item with a type and constraints: typedef, record field, entry. */
struct item {
	struct ty *type;  /* NULL: object entry without a type */
	bool notnull;     /* a NotNull constraint exists (the first one counts) */
	uint8_t dkind;    /* its default: DV_NONE, DV_INT, DV_FLOAT (number text) or DV_STR (raw) */
	const char *dtext;
	size_t dlen;
};

struct field {
	const char *name;
	size_t nlen;
	struct item it;
};

struct entry {
	const char *key; /* key text: Python str() of the key */
	size_t klen;
	bool optional;
	struct item it;
};

enum dkind { D_MODULE, D_TYPEDEF, D_RECORD, D_OBJECT };

struct def {
	uint8_t kind;
	const char *name;
	size_t nlen;
	struct item it;        /* typedef */
	const char *ext;       /* record/object: extend NAME */
	size_t extlen;
	struct ty *spec;       /* object: <K -> V> */
	struct field *fields;  /* record */
	struct entry *entries; /* object */
	size_t n;              /* fields or entries */
};

struct ujs_schema {
	struct ujo_arena *arena;
	struct def *defs; /* in text order, duplicates included */
	size_t ndefs;
	uint32_t *slots;  /* hash: 1 + index of the LAST definition of a name; 0 empty */
	size_t nslots, nnames;
};

static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
	return h;
}

static const struct def *lookup(const struct ujs_schema *s, const char *name, size_t n)
{
	if (!s->nslots) return NULL;
	size_t mask = s->nslots - 1;
	for (size_t i = name_hash(name, n) & mask;; i = (i + 1) & mask) {
		uint32_t x = s->slots[i];
		if (!x) return NULL;
		const struct def *d = &s->defs[x - 1];
		if (d->nlen == n && memcmp(d->name, name, n) == 0) return d;
	}
}

/* Later definitions replace earlier ones (§4). */
static int build_index(struct ujs_schema *s)
{
	size_t cap = 16;
	while (cap < 2 * s->ndefs + 2) cap *= 2;
	s->slots = ujo_arena_alloc(&s->arena, cap * sizeof *s->slots);
	if (!s->slots) return UJS_E_NOMEM;
	s->nslots = cap;
	for (size_t k = 0; k < s->ndefs; k++) {
		const struct def *d = &s->defs[k];
		size_t mask = cap - 1;
		for (size_t i = name_hash(d->name, d->nlen) & mask;; i = (i + 1) & mask) {
			uint32_t x = s->slots[i];
			if (!x) { s->slots[i] = (uint32_t)(k + 1); s->nnames++; break; }
			const struct def *o = &s->defs[x - 1];
			if (o->nlen == d->nlen && memcmp(o->name, d->name, d->nlen) == 0) {
				s->slots[i] = (uint32_t)(k + 1);
				break;
			}
		}
	}
	return 0;
}

bool ujs_defined(const struct ujs_schema *s, const char *name)
{
	return s && name && lookup(s, name, strlen(name)) != NULL;
}

size_t ujs_count(const struct ujs_schema *s) { return s ? s->nnames : 0; }

void ujs_free(struct ujs_schema *s)
{
	if (!s) return;
	ujo_arena_free(s->arena);
	free(s);
}

/* ------------------------------------------------------------------ */
/* Lexer (§1)                                                           */

enum tok {
	T_EOF, T_NAME, T_NUMBER, T_STRING, T_LSTRING,
	T_EQ, T_SEMI, T_COMMA, T_COLON, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE,
	T_LT, T_GT, T_ARROW, T_LPAREN, T_RPAREN, T_STAR, T_QMARK, T_DOTDOT,
};

struct token {
	enum tok t;
	const char *s; /* token text */
	size_t n;
	const char *v; /* strings: the value (inside the quotes) */
	size_t vn;
	bool is_int;   /* numbers: [+-]?digits */
	unsigned line;
	const char *ls; /* start of its line (the column is counted on errors only) */
};

struct parser {
	const char *start, *p, *end;
	unsigned line;
	const char *line_start;
	struct token tk;
	struct ujs_schema *s;
	int nest;
	int rc;
	char *err;
	size_t errlen;
	/* growable array of definitions */
	struct def *defs;
	size_t ndefs, cap;
};

static unsigned column(const char *line_start, const char *at)
{
	unsigned c = 1;
	for (const char *q = line_start; q < at; q++)
		if (((uint8_t)*q & 0xc0) != 0x80) c++;
	return c;
}

__attribute__((format(printf, 3, 4)))
static int p_fail_at(struct parser *ps, const struct token *at, const char *fmt, ...)
{
	if (ps->rc) return ps->rc;
	ps->rc = UJS_E_SYNTAX;
	if (ps->err && ps->errlen) {
		int n = snprintf(ps->err, ps->errlen, "%u:%u: syntax error: ", at->line, column(at->ls, at->s));
		if (n >= 0 && (size_t)n < ps->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return ps->rc;
}

static const char *tok_name(enum tok t)
{
	static const char *const names[] = {
		[T_EOF] = "end of text", [T_NAME] = "name", [T_NUMBER] = "number",
		[T_STRING] = "string", [T_LSTRING] = "long string", [T_EQ] = "'='",
		[T_SEMI] = "';'", [T_COMMA] = "','", [T_COLON] = "':'", [T_LBRACK] = "'['",
		[T_RBRACK] = "']'", [T_LBRACE] = "'{'", [T_RBRACE] = "'}'", [T_LT] = "'<'",
		[T_GT] = "'>'", [T_ARROW] = "'->'", [T_LPAREN] = "'('", [T_RPAREN] = "')'",
		[T_STAR] = "'*'", [T_QMARK] = "'?'", [T_DOTDOT] = "'..'",
	};
	return names[t];
}

/* "expected X, found Y" at the current token. */
static int p_expected(struct parser *ps, const char *what)
{
	const struct token *t = &ps->tk;
	if (t->t == T_NAME || t->t == T_NUMBER)
		return p_fail_at(ps, t, "expected %s, found %s '%.*s'", what, tok_name(t->t),
				 (int)(t->n > 40 ? 40 : t->n), t->s);
	return p_fail_at(ps, t, "expected %s, found %s", what, tok_name(t->t));
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_name0(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_name1(int c) { return is_name0(c) || is_digit(c); }

/* Number at p (sign already allowed by the caller): D+ (. D*)? | . D+,
 * then an optional exponent. A '.' followed by another '.' is left for
 * the '..' token (accepts 1..10). */
static const char *lex_number(const char *p, const char *end, bool *is_int)
{
	*is_int = true;
	if (p < end && (*p == '+' || *p == '-')) p++;
	while (p < end && is_digit(*p)) p++;
	if (p < end && *p == '.' && !(p + 1 < end && p[1] == '.')) {
		*is_int = false;
		p++;
		while (p < end && is_digit(*p)) p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		const char *q = p + 1;
		if (q < end && (*q == '+' || *q == '-')) q++;
		if (q < end && is_digit(*q)) {
			*is_int = false;
			while (q < end && is_digit(*q)) q++;
			p = q;
		}
	}
	return p;
}

static void p_next(struct parser *ps)
{
	struct token *t = &ps->tk;
	const char *p = ps->p, *end = ps->end;
	if (ps->rc) { t->t = T_EOF; return; }
	for (;;) { /* whitespace and comments */
		if (p >= end) break;
		char c = *p;
		if (c == '\n') { p++; ps->line++; ps->line_start = p; continue; }
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f') { p++; continue; }
		if (c == '#') { while (p < end && *p != '\n') p++; continue; }
		break;
	}
	memset(t, 0, sizeof *t);
	t->s = p;
	t->line = ps->line;
	t->ls = ps->line_start;
	if (p >= end) { t->t = T_EOF; ps->p = p; return; }
	char c = *p;
	if (is_name0(c)) {
		while (p < end && is_name1(*p)) p++;
		t->t = T_NAME;
	} else if (is_digit(c) || ((c == '+' || c == '-' || c == '.') && p + 1 < end &&
				    (is_digit(p[1]) || (c != '.' && p[1] == '.' && p + 2 < end && is_digit(p[2]))))) {
		p = lex_number(p, end, &t->is_int);
		t->t = T_NUMBER;
	} else if (c == '"' || c == '\'') {
		if (p + 2 < end && p[1] == c && p[2] == c) { /* long string */
			const char *q = p + 3;
			for (;;) {
				if (q + 2 >= end) {
					p_fail_at(ps, t, "unterminated long string");
					t->t = T_EOF;
					return;
				}
				if (*q == '\\') { /* skip the escaped character */
					q++;
					if (*q == '\n') { ps->line++; ps->line_start = q + 1; }
					q++;
					continue;
				}
				if (*q == '\n') { ps->line++; ps->line_start = q + 1; }
				if (q[0] == c && q[1] == c && q[2] == c) break;
				q++;
			}
			t->v = p + 3;
			t->vn = (size_t)(q - p - 3);
			p = q + 3;
			t->t = T_LSTRING;
		} else {
			const char *q = p + 1;
			for (;;) {
				if (q >= end || *q == '\n') {
					p_fail_at(ps, t, "unterminated string");
					t->t = T_EOF;
					return;
				}
				if (*q == '\\') {
					if (q + 1 >= end || q[1] == '\n') { q++; continue; } /* fails above */
					q += 2;
					continue;
				}
				if (*q == c) break;
				q++;
			}
			t->v = p + 1;
			t->vn = (size_t)(q - p - 1);
			p = q + 1;
			t->t = T_STRING;
		}
	} else {
		p++;
		switch (c) {
		case '=': t->t = T_EQ; break;
		case ';': t->t = T_SEMI; break;
		case ',': t->t = T_COMMA; break;
		case ':': t->t = T_COLON; break;
		case '[': t->t = T_LBRACK; break;
		case ']': t->t = T_RBRACK; break;
		case '{': t->t = T_LBRACE; break;
		case '}': t->t = T_RBRACE; break;
		case '<': t->t = T_LT; break;
		case '>': t->t = T_GT; break;
		case '(': t->t = T_LPAREN; break;
		case ')': t->t = T_RPAREN; break;
		case '*': t->t = T_STAR; break;
		case '?': t->t = T_QMARK; break;
		case '-':
			if (p < end && *p == '>') { p++; t->t = T_ARROW; break; }
			goto bad;
		case '.':
			if (p < end && *p == '.') { p++; t->t = T_DOTDOT; break; }
			goto bad;
		default:
		bad:
			if ((uint8_t)c < 0x20 || (uint8_t)c >= 0x7f)
				p_fail_at(ps, t, "unexpected character 0x%02x", (unsigned)(uint8_t)c);
			else
				p_fail_at(ps, t, "unexpected character '%c'", c);
			t->t = T_EOF;
			return;
		}
	}
	t->n = (size_t)(p - t->s);
	ps->p = p;
}

static bool tk_is(const struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	return ps->tk.t == T_NAME && ps->tk.n == n && memcmp(ps->tk.s, word, n) == 0;
}

static int p_expect(struct parser *ps, enum tok t)
{
	if (ps->tk.t != t) return p_expected(ps, tok_name(t));
	p_next(ps);
	return ps->rc;
}

static int atom_of(const char *s, size_t n)
{
	for (int a = 0; a < A_COUNT; a++)
		if (strlen(atom_names[a]) == n && memcmp(atom_names[a], s, n) == 0) return a;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Parser (§2)                                                          */

static struct ty *new_ty(struct parser *ps, int kind)
{
	struct ty *t = ujo_arena_alloc(&ps->s->arena, sizeof *t);
	if (!t) { ps->rc = UJS_E_NOMEM; return NULL; }
	t->kind = (uint8_t)kind;
	return t;
}

static struct ty *parse_type(struct parser *ps);

static int nest_in(struct parser *ps)
{
	if (++ps->nest > UJS_MAX_NEST)
		return p_fail_at(ps, &ps->tk, "types nested deeper than %d", UJS_MAX_NEST);
	return 0;
}

/* '<' key_type '->' type '>' ; current token is '<'. */
static struct ty *parse_map_type(struct parser *ps)
{
	if (nest_in(ps)) return NULL;
	p_next(ps);
	struct ty *m = new_ty(ps, TY_MAP), *k = NULL;
	if (!m) return NULL;
	if (ps->tk.t != T_NAME) { p_expected(ps, "a map key type"); return NULL; }
	int a = atom_of(ps->tk.s, ps->tk.n);
	if (a >= 0 && !atom_numeric(a) && a != A_STRING && a != A_CSTRING) {
		p_fail_at(ps, &ps->tk,
			  "'%s' cannot be a map key type (numeric, string, cstring, variant or a name)", atom_names[a]);
		return NULL;
	}
	if (a >= 0) {
		if ((k = new_ty(ps, TY_ATOM))) k->atom = (uint8_t)a;
	} else if (tk_is(ps, "variant")) {
		k = new_ty(ps, TY_VARIANT);
	} else if ((k = new_ty(ps, TY_CUSTOM))) {
		k->name = ps->tk.s;
		k->nlen = ps->tk.n;
	}
	if (!k) return NULL;
	m->a = k;
	p_next(ps);
	if (p_expect(ps, T_ARROW)) return NULL;
	if (!(m->b = parse_type(ps))) return NULL;
	if (p_expect(ps, T_GT)) return NULL;
	ps->nest--;
	return m;
}

/* Postfix '*'s: each wraps a list. */
static struct ty *parse_stars(struct parser *ps, struct ty *t)
{
	int stars = 0;
	while (t && ps->tk.t == T_STAR) {
		if (++stars > UJS_MAX_NEST) {
			p_fail_at(ps, &ps->tk, "more than %d '*' on one type", UJS_MAX_NEST);
			return NULL;
		}
		struct ty *l = new_ty(ps, TY_LIST);
		if (!l) return NULL;
		l->a = t;
		t = l;
		p_next(ps);
	}
	return t;
}

static struct ty *parse_type(struct parser *ps)
{
	struct ty *t = NULL;
	if (nest_in(ps)) return NULL;
	if (ps->tk.t == T_NAME) {
		int a = atom_of(ps->tk.s, ps->tk.n);
		if (a >= 0) {
			if ((t = new_ty(ps, TY_ATOM))) t->atom = (uint8_t)a;
		} else if (tk_is(ps, "variant")) {
			t = new_ty(ps, TY_VARIANT);
		} else if ((t = new_ty(ps, TY_CUSTOM))) {
			t->name = ps->tk.s;
			t->nlen = ps->tk.n;
		}
		if (!t) return NULL;
		p_next(ps);
	} else if (ps->tk.t == T_LT) {
		if (!(t = parse_map_type(ps))) return NULL;
	} else if (ps->tk.t == T_LPAREN) {
		struct ty *items[64], **heap = NULL;
		size_t n = 0, cap = 64;
		struct ty **v = items;
		p_next(ps);
		for (;;) {
			struct ty *x = parse_type(ps);
			if (!x) { free(heap); return NULL; }
			if (n == cap) {
				struct ty **nv = realloc(heap, 2 * cap * sizeof *nv);
				if (!nv) { free(heap); ps->rc = UJS_E_NOMEM; return NULL; }
				if (!heap) memcpy(nv, items, n * sizeof *nv);
				heap = v = nv;
				cap *= 2;
			}
			v[n++] = x;
			if (ps->tk.t != T_COMMA) break;
			p_next(ps);
		}
		if (p_expect(ps, T_RPAREN) || !(t = new_ty(ps, TY_MULTI)) ||
		    !(t->items = ujo_arena_alloc(&ps->s->arena, n * sizeof *t->items))) {
			if (!ps->rc) ps->rc = UJS_E_NOMEM;
			free(heap);
			return NULL;
		}
		memcpy(t->items, v, n * sizeof *v);
		t->n = n;
		free(heap);
	} else {
		p_expected(ps, "a type");
		return NULL;
	}
	ps->nest--;
	return parse_stars(ps, t);
}

/* ':' 'doc' (STRING | LONG_STRING); the ':' is already consumed. */
static int parse_doc_rest(struct parser *ps)
{
	if (!tk_is(ps, "doc")) return p_expected(ps, "'doc'");
	p_next(ps);
	if (ps->tk.t != T_STRING && ps->tk.t != T_LSTRING) return p_expected(ps, "a doc string");
	p_next(ps);
	return ps->rc;
}

/* [ ':' 'doc' STRING ] */
static int parse_opt_doc(struct parser *ps)
{
	if (ps->tk.t != T_COLON) return 0;
	p_next(ps);
	return parse_doc_rest(ps);
}

enum ritem { R_EQUALS, R_BELOW, R_ABOVE, R_BETWEEN };

/* One range item with its optional doc. */
static int parse_range_item(struct parser *ps, enum ritem *kind)
{
	if (ps->tk.t == T_DOTDOT) {
		p_next(ps);
		if (ps->tk.t != T_NUMBER) return p_expected(ps, "a number after '..'");
		*kind = R_BELOW;
		p_next(ps);
	} else if (ps->tk.t == T_NUMBER) {
		p_next(ps);
		*kind = R_EQUALS;
		if (ps->tk.t == T_DOTDOT) {
			p_next(ps);
			*kind = R_ABOVE;
			if (ps->tk.t == T_NUMBER) {
				*kind = R_BETWEEN;
				p_next(ps);
			}
		}
	} else {
		return p_expected(ps, "a number or a range");
	}
	return ps->rc ? ps->rc : parse_opt_doc(ps);
}

/* '(' ranges | words ')' of in / not in. */
static int parse_set(struct parser *ps)
{
	if (p_expect(ps, T_LPAREN)) return ps->rc;
	if (ps->tk.t == T_STRING) {
		for (;;) {
			if (ps->tk.t != T_STRING) return p_expected(ps, "a string");
			p_next(ps);
			if (parse_opt_doc(ps)) return ps->rc;
			if (ps->tk.t != T_COMMA) break;
			p_next(ps);
		}
	} else {
		bool first = true;
		for (;;) {
			struct token at = ps->tk;
			enum ritem k;
			if (parse_range_item(ps, &k)) return ps->rc;
			if (k == R_BELOW && !first)
				return p_fail_at(ps, &at, "a '.. n' range may only come first");
			first = false;
			if (ps->tk.t != T_COMMA) break;
			if (k == R_ABOVE)
				return p_fail_at(ps, &at, "an 'n ..' range may only come last");
			p_next(ps);
		}
	}
	return p_expect(ps, T_RPAREN);
}

/* { ':' constraint } [ ':' doc ] */
static int parse_constraints(struct parser *ps, struct item *it)
{
	while (ps->tk.t == T_COLON) {
		p_next(ps);
		if (tk_is(ps, "doc")) return parse_doc_rest(ps); /* doc is always last */
		if (tk_is(ps, "not")) {
			p_next(ps);
			if (tk_is(ps, "null")) {
				bool first = !it->notnull;
				it->notnull = true;
				p_next(ps);
				if (tk_is(ps, "default")) {
					p_next(ps);
					if (ps->tk.t != T_STRING && ps->tk.t != T_NUMBER)
						return p_expected(ps, "a default value (a number or a string)");
					if (first) {
						if (ps->tk.t == T_STRING) {
							it->dkind = DV_STR;
							it->dtext = ps->tk.v;
							it->dlen = ps->tk.vn;
						} else {
							it->dkind = ps->tk.is_int ? DV_INT : DV_FLOAT;
							it->dtext = ps->tk.s;
							it->dlen = ps->tk.n;
						}
					}
					p_next(ps);
				}
			} else if (tk_is(ps, "in")) {
				p_next(ps);
				if (parse_set(ps)) return ps->rc;
			} else {
				return p_expected(ps, "'null' or 'in' after 'not'");
			}
		} else if (tk_is(ps, "in")) {
			p_next(ps);
			if (parse_set(ps)) return ps->rc;
		} else if (tk_is(ps, "length")) {
			p_next(ps);
			enum ritem k;
			if (p_expect(ps, T_LPAREN) || parse_range_item(ps, &k) || p_expect(ps, T_RPAREN))
				return ps->rc;
		} else {
			return p_expected(ps, "'not null', 'in', 'not in', 'length' or 'doc' after ':'");
		}
		if (ps->rc) return ps->rc;
	}
	return ps->rc;
}

static struct def *new_def(struct parser *ps, int kind, const char *name, size_t nlen)
{
	if (ps->ndefs == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 32;
		struct def *d = realloc(ps->defs, cap * sizeof *d);
		if (!d) { ps->rc = UJS_E_NOMEM; return NULL; }
		ps->defs = d;
		ps->cap = cap;
	}
	struct def *d = &ps->defs[ps->ndefs++];
	memset(d, 0, sizeof *d);
	d->kind = (uint8_t)kind;
	d->name = name;
	d->nlen = nlen;
	return d;
}

/* '[' field { ',' field } ']' [doc] ';' */
static int parse_record(struct parser *ps, struct def *d)
{
	struct field *v = NULL;
	size_t n = 0, cap = 0;
	p_next(ps); /* '[' */
	for (;;) {
		if (ps->tk.t != T_NAME) { p_expected(ps, "a field name"); break; }
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			struct field *nv = realloc(v, cap * sizeof *nv);
			if (!nv) { ps->rc = UJS_E_NOMEM; break; }
			v = nv;
		}
		struct field *f = &v[n++];
		memset(f, 0, sizeof *f);
		f->name = ps->tk.s;
		f->nlen = ps->tk.n;
		p_next(ps);
		if (p_expect(ps, T_EQ)) break;
		if (!(f->it.type = parse_type(ps))) break;
		if (parse_constraints(ps, &f->it)) break;
		if (ps->tk.t != T_COMMA) break;
		p_next(ps);
	}
	if (!ps->rc && !p_expect(ps, T_RBRACK) && !parse_opt_doc(ps)) p_expect(ps, T_SEMI);
	if (!ps->rc) {
		d->fields = ujo_arena_alloc(&ps->s->arena, n * sizeof *v);
		if (d->fields) memcpy(d->fields, v, n * sizeof *v);
		else ps->rc = UJS_E_NOMEM;
		d->n = n;
	}
	free(v);
	return ps->rc;
}

/* The text of an entry key: Python str() of int(text) or float(text),
 * or the raw string. */
static int entry_key(struct parser *ps, struct entry *e)
{
	const struct token *t = &ps->tk;
	if (t->t == T_STRING) {
		e->key = t->v;
		e->klen = t->vn;
		return 0;
	}
	char *k = ujo_arena_alloc(&ps->s->arena, t->n + 40);
	if (!k) return ps->rc = UJS_E_NOMEM;
	if (t->is_int) {
		e->klen = py_int_str(t->s, t->n, k);
	} else {
		py_float_str(num_strtod(t->s, t->n), k, t->n + 40);
		e->klen = strlen(k);
	}
	e->key = k;
	return 0;
}

/* '{' entry { ',' entry } '}' [doc] ';' */
static int parse_object(struct parser *ps, struct def *d)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	p_next(ps); /* '{' */
	for (;;) {
		if (ps->tk.t != T_STRING && ps->tk.t != T_NUMBER) { p_expected(ps, "an entry key (a string or a number)"); break; }
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			struct entry *nv = realloc(v, cap * sizeof *nv);
			if (!nv) { ps->rc = UJS_E_NOMEM; break; }
			v = nv;
		}
		struct entry *e = &v[n++];
		memset(e, 0, sizeof *e);
		if (entry_key(ps, e)) break;
		p_next(ps);
		if (ps->tk.t == T_QMARK || tk_is(ps, "optional")) {
			e->optional = true;
			p_next(ps);
		}
		if (ps->tk.t == T_ARROW) {
			p_next(ps);
			if (!(e->it.type = parse_type(ps))) break;
			if (parse_constraints(ps, &e->it)) break;
		} else if (parse_opt_doc(ps)) {
			break;
		}
		if (ps->tk.t != T_COMMA) break;
		p_next(ps);
	}
	if (!ps->rc && !p_expect(ps, T_RBRACE) && !parse_opt_doc(ps)) p_expect(ps, T_SEMI);
	if (!ps->rc) {
		d->entries = ujo_arena_alloc(&ps->s->arena, n * sizeof *v);
		if (d->entries) memcpy(d->entries, v, n * sizeof *v);
		else ps->rc = UJS_E_NOMEM;
		d->n = n;
	}
	free(v);
	return ps->rc;
}

/* NAME '=' ( typedef | record | object ) */
static int parse_definition(struct parser *ps)
{
	if (ps->tk.t != T_NAME) return p_expected(ps, "a definition name");
	const char *name = ps->tk.s;
	size_t nlen = ps->tk.n;
	p_next(ps);
	if (p_expect(ps, T_EQ)) return ps->rc;
	ps->nest = 0;
	if (tk_is(ps, "extend")) {
		p_next(ps);
		if (ps->tk.t != T_NAME) return p_expected(ps, "the name of the extended definition");
		const char *ext = ps->tk.s;
		size_t extlen = ps->tk.n;
		p_next(ps);
		struct def *d;
		if (ps->tk.t == T_LBRACK) {
			if (!(d = new_def(ps, D_RECORD, name, nlen))) return ps->rc;
			d->ext = ext;
			d->extlen = extlen;
			return parse_record(ps, d);
		}
		struct ty *spec = NULL;
		if (ps->tk.t == T_LT) {
			if (!(spec = parse_map_type(ps))) return ps->rc;
			if (ps->tk.t != T_LBRACE) return p_expected(ps, "'{' after the map type of an extended object");
		}
		if (ps->tk.t != T_LBRACE) return p_expected(ps, "'[', '<' or '{' after 'extend NAME'");
		if (!(d = new_def(ps, D_OBJECT, name, nlen))) return ps->rc;
		d->ext = ext;
		d->extlen = extlen;
		d->spec = spec;
		return parse_object(ps, d);
	}
	if (ps->tk.t == T_LBRACK) {
		struct def *d = new_def(ps, D_RECORD, name, nlen);
		return d ? parse_record(ps, d) : ps->rc;
	}
	if (ps->tk.t == T_LBRACE) {
		struct def *d = new_def(ps, D_OBJECT, name, nlen);
		return d ? parse_object(ps, d) : ps->rc;
	}
	struct ty *t;
	if (ps->tk.t == T_LT) {
		if (!(t = parse_map_type(ps))) return ps->rc;
		if (ps->tk.t == T_LBRACE) {
			struct def *d = new_def(ps, D_OBJECT, name, nlen);
			if (!d) return ps->rc;
			d->spec = t;
			return parse_object(ps, d);
		}
		if (!(t = parse_stars(ps, t))) return ps->rc;
	} else if (!(t = parse_type(ps))) {
		return ps->rc;
	}
	struct def *d = new_def(ps, D_TYPEDEF, name, nlen);
	if (!d) return ps->rc;
	d->it.type = t;
	if (parse_constraints(ps, &d->it)) return ps->rc;
	return p_expect(ps, T_SEMI);
}

/* Valid UTF-8 without NUL; returns the offset of the first bad byte or len. */
static size_t utf8_check(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = s[i];
		if (c == 0) return i;
		if (c < 0x80) { i++; continue; }
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
		else return i;
		if (len - i <= n) return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += n + 1;
	}
	return len;
}

int ujs_parse(struct ujs_schema **out, const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps;
	*out = NULL;
	if (err && errlen) err[0] = 0;
	if (!text) len = 0;
	if (len > UJS_MAX_TEXT) {
		if (err) snprintf(err, errlen, "schema text of %zu bytes exceeds the limit of %u", len, UJS_MAX_TEXT);
		return UJS_E_LIMIT;
	}
	memset(&ps, 0, sizeof ps);
	ps.err = err;
	ps.errlen = errlen;
	ps.s = calloc(1, sizeof *ps.s);
	if (!ps.s) return UJS_E_NOMEM;
	/* the model keeps pointers into its own copy of the text */
	char *copy = ujo_arena_alloc(&ps.s->arena, len + 1);
	if (!copy) { ujs_free(ps.s); return UJS_E_NOMEM; }
	if (len) memcpy(copy, text, len);
	ps.start = ps.p = ps.line_start = copy;
	ps.end = copy + len;
	ps.line = 1;
	if (len >= 3 && memcmp(copy, "\xef\xbb\xbf", 3) == 0) ps.p = ps.line_start = copy + 3;
	size_t bad = utf8_check((const uint8_t *)ps.p, (size_t)(ps.end - ps.p));
	if (bad < (size_t)(ps.end - ps.p)) {
		struct token at = {.s = ps.p + bad, .line = 1, .ls = ps.p};
		for (const char *q = ps.p; q < at.s; q++)
			if (*q == '\n') { at.line++; at.ls = q + 1; }
		p_fail_at(&ps, &at, "%s byte 0x%02x", *at.s ? "invalid UTF-8" : "NUL", (unsigned)(uint8_t)*at.s);
		ujs_free(ps.s);
		return ps.rc;
	}
	p_next(&ps);
	if (!ps.rc && tk_is(&ps, "module")) { /* only as the first statement */
		p_next(&ps);
		if (ps.tk.t != T_NAME) {
			p_expected(&ps, "a module name");
		} else {
			struct def *d = new_def(&ps, D_MODULE, ps.tk.s, ps.tk.n);
			if (d) {
				p_next(&ps);
				if (!parse_opt_doc(&ps)) p_expect(&ps, T_SEMI);
			}
		}
	}
	while (!ps.rc && ps.tk.t != T_EOF) parse_definition(&ps);
	if (!ps.rc) {
		ps.s->defs = ujo_arena_alloc(&ps.s->arena, (ps.ndefs ? ps.ndefs : 1) * sizeof *ps.defs);
		if (!ps.s->defs) ps.rc = UJS_E_NOMEM;
		else {
			if (ps.ndefs) memcpy(ps.s->defs, ps.defs, ps.ndefs * sizeof *ps.defs);
			ps.s->ndefs = ps.ndefs;
			ps.rc = build_index(ps.s);
		}
	}
	free(ps.defs);
	if (ps.rc) {
		if (ps.rc == UJS_E_NOMEM && err && errlen) snprintf(err, errlen, "out of memory");
		ujs_free(ps.s);
		return ps.rc;
	}
	*out = ps.s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* schema_to_type (§6)                                                  */

/* A value under construction. */
struct val {
	uint8_t type, sub; /* UJO type; strings: subtype */
	union {
		int64_t i;
		uint64_t u;
		double f;
		bool b;
	} v;
	const char *s; /* strings */
	size_t slen;
	struct val *key;         /* a map member: its key */
	struct val *kids, *last; /* containers */
	struct val *next;        /* next sibling */
};

struct ev {
	const struct ujs_schema *s;
	struct ujo_arena *arena;
	uint8_t *busy; /* per definition index: being converted */
	int refs;
	size_t values;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int ev_fail(struct ev *e, int code, const char *fmt, ...)
{
	if (e->err && e->errlen) {
		int n = snprintf(e->err, e->errlen, "%s: ", ujs_strerror(code));
		if (n >= 0 && (size_t)n < e->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(e->err + n, e->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

static int nomem(struct ev *e) { return ev_fail(e, UJS_E_NOMEM, "out of memory"); }

static struct val *new_val(struct ev *e, int type)
{
	if (++e->values > UJS_MAX_VALUES) return NULL;
	struct val *v = ujo_arena_alloc(&e->arena, sizeof *v);
	if (v) v->type = (uint8_t)type;
	return v;
}

/* new_val failed: which error? */
static int val_fail(struct ev *e)
{
	if (e->values > UJS_MAX_VALUES)
		return ev_fail(e, UJS_E_LIMIT, "the default value has more than %u values", UJS_MAX_VALUES);
	return nomem(e);
}

static void append(struct val *c, struct val *v)
{
	v->next = NULL;
	if (c->last) c->last->next = v;
	else c->kids = v;
	c->last = v;
}

static bool key_equal(const struct val *a, const struct val *b)
{
	if (a->type != b->type) return false;
	if (a->type == UJO_NONE) return true;
	return a->sub == b->sub && a->slen == b->slen && memcmp(a->s, b->s, a->slen) == 0;
}

/* map[key] = v: an equal key keeps its place and takes the new value. */
static void map_set(struct val *m, struct val *key, struct val *v)
{
	for (struct val *k = m->kids; k; k = k->next) {
		if (key_equal(k->key, key)) {
			struct val *next = k->next;
			*k = *v;
			k->key = key;
			k->next = next;
			return;
		}
	}
	v->key = key;
	append(m, v);
}

/* The default value dv of §6.3 step 2. */
struct dv {
	enum { V_NONE, V_INT, V_FLOAT, V_STR, V_FALSE, V_TS2000 } kind;
	bool neg, big;  /* V_INT */
	uint64_t mag;
	double f;       /* V_FLOAT */
	const char *s;  /* V_STR */
	size_t slen;
	const char *text; /* V_INT: the number text */
	size_t tlen;
};

static int def_index(const struct ev *e, const struct def *d) { return (int)(d - e->s->defs); }

static int to_type(struct ev *e, const char *name, size_t nlen, struct val **out);

/* The "type name" of §6.3 contains "float"? */
static bool name_has_float(const struct ty *t)
{
	if (t->kind == TY_ATOM) return atom_float(t->atom);
	if (t->kind == TY_CUSTOM) return memmem(t->name, t->nlen, "float", 5) != NULL;
	return false;
}

/* §6.3 step 2 for item it and the (first) type t. */
static int make_dv(struct ev *e, const struct item *it, const struct ty *t, struct dv *dv)
{
	memset(dv, 0, sizeof *dv);
	if (t->kind == TY_MULTI) return ev_fail(e, UJS_E_ATTRIBUTE, "nested multi-type (a multi-type as the first alternative)");
	if (it && it->notnull) {
		switch (it->dkind) {
		case DV_INT:
			dv->kind = V_INT;
			dv->text = it->dtext;
			dv->tlen = it->dlen;
			int_parse(it->dtext, it->dlen, &dv->neg, &dv->mag, &dv->big);
			if (name_has_float(t)) {
				dv->kind = V_FLOAT;
				dv->f = num_strtod(it->dtext, it->dlen);
				if (isinf(dv->f))
					return ev_fail(e, UJS_E_VALUE, "default %.*s is too large for a float",
						       (int)it->dlen, it->dtext);
			}
			break;
		case DV_FLOAT:
			dv->kind = V_FLOAT;
			dv->f = num_strtod(it->dtext, it->dlen);
			break;
		case DV_STR:
			dv->kind = V_STR;
			dv->s = it->dtext;
			dv->slen = it->dlen;
			break;
		default:
			break;
		}
	}
	bool falsy = dv->kind == V_NONE || (dv->kind == V_INT && dv->mag == 0 && !dv->big) ||
		     (dv->kind == V_FLOAT && dv->f == 0.0) || (dv->kind == V_STR && dv->slen == 0);
	if (!falsy) return 0;
	memset(dv, 0, sizeof *dv); /* the empty default of §5 for the type name */
	if (t->kind != TY_ATOM) return 0; /* variant, custom, list, map: none */
	switch (t->atom) {
	case A_F16: case A_F32: case A_F64: dv->kind = V_FLOAT; break;
	case A_STRING: case A_CSTRING: dv->kind = V_STR; dv->s = ""; break;
	case A_BOOL: dv->kind = V_FALSE; break;
	case A_TIMESTAMP: dv->kind = V_TS2000; break;
	case A_BINARY: case A_DATE: case A_TIME: case A_DATETIME: dv->kind = V_STR; dv->s = "nyi"; dv->slen = 3; break;
	default: dv->kind = V_INT; break; /* the integers */
	}
	return 0;
}

static const char *dv_what(const struct dv *dv)
{
	switch (dv->kind) {
	case V_NONE: return "None";
	case V_INT: return "an int";
	case V_FLOAT: return "a float";
	case V_STR: return "a str";
	case V_FALSE: return "a bool";
	default: return "a datetime";
	}
}

/* The type's UJO constructor applied to dv (§6.3 step 3). */
static int construct(struct ev *e, const struct ty *t, const struct dv *dv, struct val **out)
{
	struct val *v;
	switch (t->kind) {
	case TY_MULTI: return ev_fail(e, UJS_E_ATTRIBUTE, "nested multi-type");
	case TY_LIST: v = new_val(e, UJO_LIST); break;
	case TY_MAP: v = new_val(e, UJO_MAP); break;
	case TY_VARIANT: case TY_CUSTOM: v = new_val(e, UJO_NONE); break;
	default: {
		int a = t->atom;
		static const uint8_t codes[A_COUNT] = {
			UJO_I8, UJO_I16, UJO_I32, UJO_I64, UJO_U8, UJO_U16, UJO_U32, UJO_U64,
			UJO_F16, UJO_F32, UJO_F64, UJO_STRING, UJO_STRING, UJO_BOOL,
		};
		if (a <= A_U64) {
			static const uint64_t maxmag[8] = {
				INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX,
			};
			if (dv->kind != V_INT && dv->kind != V_FALSE)
				return ev_fail(e, UJS_E_TYPE, "%s needs an int, the default is %s", atom_names[a], dv_what(dv));
			bool sign = a <= A_I64;
			uint64_t lim = maxmag[a];
			if (dv->big || (dv->neg && (!sign || dv->mag > lim + 1)) || (!dv->neg && dv->mag > lim))
				return ev_fail(e, UJS_E_VALUE, "default %.*s is out of range for %s", (int)dv->tlen,
					       dv->text, atom_names[a]);
			if (!(v = new_val(e, codes[a]))) return val_fail(e);
			if (sign) v->v.i = dv->neg ? (int64_t)(0 - dv->mag) : (int64_t)dv->mag;
			else v->v.u = dv->mag;
			break;
		}
		if (a <= A_F64) {
			if (dv->kind != V_FLOAT)
				return ev_fail(e, UJS_E_TYPE, "%s needs a float, the default is %s", atom_names[a], dv_what(dv));
			if (a == A_F16) {
				uint16_t h;
				if (fabs(dv->f) > FLT_MAX || ujo_f32_to_f16((float)dv->f, &h))
					return ev_fail(e, UJS_E_VALUE, "default %g is out of range for float16", dv->f);
			}
			if (!(v = new_val(e, codes[a]))) return val_fail(e);
			v->v.f = dv->f;
			break;
		}
		if (a == A_STRING || a == A_CSTRING) {
			if (dv->kind != V_STR)
				return ev_fail(e, UJS_E_TYPE, "%s needs a str, the default is %s", atom_names[a], dv_what(dv));
			if (!(v = new_val(e, UJO_STRING))) return val_fail(e);
			v->sub = a == A_STRING ? UJO_STR_UTF8 : UJO_STR_C;
			v->s = dv->s;
			v->slen = dv->slen;
			break;
		}
		if (a == A_BOOL) {
			if (dv->kind != V_FALSE)
				return ev_fail(e, UJS_E_TYPE, "bool needs a bool, the default is %s", dv_what(dv));
			if (!(v = new_val(e, UJO_BOOL))) return val_fail(e);
			break;
		}
		if (a == A_TIMESTAMP) {
			if (dv->kind != V_TS2000)
				return ev_fail(e, UJS_E_TYPE, "timestamp needs a datetime, the default is %s", dv_what(dv));
			v = new_val(e, UJO_TIMESTAMP);
			break;
		}
		v = new_val(e, UJO_NONE); /* binary, date, time, datetime: not implemented → None */
		break;
	}
	}
	if (!v) return val_fail(e);
	*out = v;
	return 0;
}

/* The basic rule (§6.3) for a typedef or record field. */
static int basic(struct ev *e, const struct item *it, struct val **out)
{
	const struct ty *t = it->type;
	struct dv dv;
	int rc = make_dv(e, it, t->kind == TY_MULTI ? t->items[0] : t, &dv);
	if (rc) return rc;
	if (t->kind != TY_MULTI) return construct(e, t, &dv, out);
	for (size_t i = 0; i < t->n; i++) { /* the first alternative that accepts dv */
		if (t->items[i]->kind == TY_MULTI) return ev_fail(e, UJS_E_ATTRIBUTE, "nested multi-type");
		rc = construct(e, t->items[i], &dv, out);
		if (rc != UJS_E_TYPE && rc != UJS_E_VALUE) return rc;
	}
	return ev_fail(e, UJS_E_VALUE, "No matching type found for default (%s)", dv_what(&dv));
}

/* Dispatch for a typedef or record field (§6.2). */
static int item_value(struct ev *e, const struct item *it, struct val **out)
{
	const struct ty *t = it->type;
	switch (t->kind) {
	case TY_CUSTOM: return to_type(e, t->name, t->nlen, out);
	case TY_LIST: *out = new_val(e, UJO_LIST); return *out ? 0 : val_fail(e);
	case TY_MAP: *out = new_val(e, UJO_MAP); return *out ? 0 : val_fail(e);
	default: return basic(e, it, out);
	}
}

static int record(struct ev *e, const struct def *d, struct val **out)
{
	struct val *r;
	int rc;
	if (d->ext) {
		if ((rc = to_type(e, d->ext, d->extlen, &r))) return rc;
		if (r->type != UJO_LIST)
			return ev_fail(e, UJS_E_ATTRIBUTE, "record '%.*s' extends '%.*s', whose value is a %s, not a list",
				       (int)d->nlen, d->name, (int)d->extlen, d->ext, ujo_type_name(r->type));
	} else if (!(r = new_val(e, UJO_LIST))) {
		return val_fail(e);
	}
	for (size_t i = 0; i < d->n; i++) {
		struct val *v;
		if ((rc = item_value(e, &d->fields[i].it, &v))) return rc;
		append(r, v);
	}
	*out = r;
	return 0;
}

/* The object's type slot (§4, §6.5 step 1): the extended definition's
 * slot, else the <K -> V> spec, else the first entry. */
struct slot {
	enum { S_SPEC, S_ENTRY, S_TYPEDEF } kind;
	const struct ty *t; /* spec, entry type (may be NULL) or typedef type */
};

static int slot_of(struct ev *e, const struct def *d, struct slot *sl, int depth)
{
	if (depth > UJS_MAX_REFS) return ev_fail(e, UJS_E_RECURSION, "extend chain through '%.*s'", (int)d->nlen, d->name);
	if (d->kind == D_TYPEDEF) { sl->kind = S_TYPEDEF; sl->t = d->it.type; return 0; }
	if (d->kind != D_OBJECT)
		return ev_fail(e, UJS_E_ATTRIBUTE, "'%.*s' is a %s and has no object type slot", (int)d->nlen, d->name,
			       d->kind == D_RECORD ? "record" : "module");
	if (d->ext) {
		const struct def *b = lookup(e->s, d->ext, d->extlen);
		if (!b) return ev_fail(e, UJS_E_KEY, "'%.*s'", (int)d->extlen, d->ext);
		return slot_of(e, b, sl, depth + 1);
	}
	if (d->spec) { sl->kind = S_SPEC; sl->t = d->spec; return 0; }
	sl->kind = S_ENTRY;
	sl->t = d->entries[0].it.type;
	return 0;
}

/* A key constructor applied to the key text. 1: made; 0: refused. */
static int key_construct(struct ev *e, const struct ty *kt, const struct entry *en, struct val **key)
{
	struct val *k = NULL;
	if (kt->kind == TY_MULTI) return ev_fail(e, UJS_E_ATTRIBUTE, "nested multi-type as a key type");
	if (kt->kind == TY_VARIANT || kt->kind == TY_CUSTOM ||
	    (kt->kind == TY_ATOM && (kt->atom == A_BINARY || kt->atom == A_DATE || kt->atom == A_TIME ||
				     kt->atom == A_DATETIME))) {
		k = new_val(e, UJO_NONE); /* these constructors give None whatever the input */
	} else if (kt->kind == TY_ATOM && (kt->atom == A_STRING || kt->atom == A_CSTRING)) {
		if ((k = new_val(e, UJO_STRING))) {
			k->sub = kt->atom == A_STRING ? UJO_STR_UTF8 : UJO_STR_C;
			k->s = en->key;
			k->slen = en->klen;
		}
	} else {
		return 0; /* numbers, bool, timestamp need other input than text; lists and maps cannot be keys */
	}
	if (!k) return val_fail(e);
	*key = k;
	return 1;
}

static int object(struct ev *e, const struct def *d, struct val **out)
{
	struct val *m;
	struct slot sl;
	int rc;
	if (d->ext) {
		if ((rc = to_type(e, d->ext, d->extlen, &m))) return rc;
		if ((rc = slot_of(e, d, &sl, 0))) return rc;
		if (m->type != UJO_MAP)
			return ev_fail(e, UJS_E_TYPE, "object '%.*s' extends '%.*s', whose value is a %s, not a map",
				       (int)d->nlen, d->name, (int)d->extlen, d->ext, ujo_type_name(m->type));
	} else {
		if (!(m = new_val(e, UJO_MAP))) return val_fail(e);
		if ((rc = slot_of(e, d, &sl, 0))) return rc;
	}
	/* §6.5 step 2: key types and value type from the slot */
	const struct ty *const *keys = NULL;
	const struct ty *one_key = NULL, *vtype = NULL;
	size_t nkeys = 0;
	static const struct ty utf8_key = {.kind = TY_ATOM, .atom = A_STRING};
	const struct ty *t = sl.t;
	if (t && t->kind == TY_MAP && sl.kind != S_ENTRY) {
		one_key = t->a;
		vtype = t->b;
	} else if (t && t->kind == TY_MULTI && t->n == 2) {
		one_key = t->items[0]; /* the bug of §6.5: (key type, value type) */
		vtype = t->items[1];
	} else if (t && t->kind == TY_MULTI) {
		return ev_fail(e, UJS_E_VALUE, "%s values to unpack (expected 2) from the type slot of '%.*s'",
			       t->n < 2 ? "not enough" : "too many", (int)d->nlen, d->name);
	} else {
		one_key = &utf8_key; /* fallback: UTF-8 keys, undefined value type */
	}
	keys = &one_key;
	nkeys = 1;
	for (size_t i = 0; i < d->n; i++) {
		const struct entry *en = &d->entries[i];
		const struct ty *own = en->it.type, *vt = own ? own : vtype;
		struct val *v = NULL, *key = NULL;
		if (own && own->kind == TY_CUSTOM) {
			rc = to_type(e, own->name, own->nlen, &v);
		} else if (!vt) {
			v = new_val(e, UJO_NONE);
			rc = v ? 0 : val_fail(e);
		} else {
			const struct ty *first = vt->kind == TY_MULTI ? vt->items[0] : vt;
			struct dv dv;
			rc = make_dv(e, &en->it, first, &dv);
			if (!rc) rc = construct(e, first, &dv, &v);
		}
		if (rc) return rc;
		int got = 0;
		for (size_t k = 0; k < nkeys && !got; k++) {
			got = key_construct(e, keys[k], en, &key);
			if (got < 0) return got;
		}
		if (!got)
			return ev_fail(e, UJS_E_TYPE, "No key type matching %.*s in '%.*s'", (int)en->klen, en->key,
				       (int)d->nlen, d->name);
		map_set(m, key, v);
	}
	*out = m;
	return 0;
}

static int to_type(struct ev *e, const char *name, size_t nlen, struct val **out)
{
	const struct def *d = lookup(e->s, name, nlen);
	if (!d) return ev_fail(e, UJS_E_KEY, "'%.*s'", (int)nlen, name);
	int idx = def_index(e, d);
	if (e->busy[idx])
		return ev_fail(e, UJS_E_RECURSION, "type '%.*s' contains itself", (int)nlen, name);
	if (e->refs >= UJS_MAX_REFS)
		return ev_fail(e, UJS_E_LIMIT, "type references nested deeper than %d at '%.*s'", UJS_MAX_REFS,
			       (int)nlen, name);
	e->busy[idx] = 1;
	e->refs++;
	int rc;
	switch (d->kind) {
	case D_TYPEDEF: rc = item_value(e, &d->it, out); break;
	case D_RECORD: rc = record(e, d, out); break;
	case D_OBJECT: rc = object(e, d, out); break;
	default:
		rc = ev_fail(e, UJS_E_ATTRIBUTE, "'%.*s' is the module, not a type ('Module' object has no attribute 'type')",
			     (int)nlen, name);
		break;
	}
	e->refs--;
	e->busy[idx] = 0;
	return rc;
}

/* double → float as the C extension does, without the undefined
 * behaviour of converting an out-of-range value. */
static float to_f32(double d)
{
	if (d > FLT_MAX) return INFINITY;
	if (d < -FLT_MAX) return -INFINITY;
	return (float)d;
}

static int write_val(struct ujo_writer *w, const struct val *v)
{
	static const struct ujo_datetime y2000 = {2000, 1, 1, 0, 0, 0, 0};
	switch (v->type) {
	case UJO_NONE: return ujo_w_none(w);
	case UJO_BOOL: return ujo_w_bool(w, v->v.b);
	case UJO_I8: return ujo_w_i8(w, (int8_t)v->v.i);
	case UJO_I16: return ujo_w_i16(w, (int16_t)v->v.i);
	case UJO_I32: return ujo_w_i32(w, (int32_t)v->v.i);
	case UJO_I64: return ujo_w_i64(w, v->v.i);
	case UJO_U8: return ujo_w_u8(w, (uint8_t)v->v.u);
	case UJO_U16: return ujo_w_u16(w, (uint16_t)v->v.u);
	case UJO_U32: return ujo_w_u32(w, (uint32_t)v->v.u);
	case UJO_U64: return ujo_w_u64(w, v->v.u);
	case UJO_F16: return ujo_w_f16(w, (float)v->v.f); /* range checked in construct() */
	case UJO_F32: return ujo_w_f32(w, to_f32(v->v.f));
	case UJO_F64: return ujo_w_f64(w, v->v.f);
	case UJO_STRING: return ujo_w_str(w, v->sub, v->s, v->slen);
	case UJO_TIMESTAMP: return ujo_w_timestamp(w, &y2000);
	case UJO_LIST:
	case UJO_MAP: {
		int rc = v->type == UJO_LIST ? ujo_w_list(w) : ujo_w_map(w);
		for (const struct val *k = v->kids; !rc && k; k = k->next) {
			if (v->type == UJO_MAP) rc = write_val(w, k->key);
			if (!rc) rc = write_val(w, k);
		}
		return rc ? rc : ujo_w_end(w);
	}
	default: return UJO_E_TYPE;
	}
}

int ujs_default(const struct ujs_schema *s, const char *type_name, struct ujo_buf *out, char *err, size_t errlen)
{
	struct ev e;
	memset(&e, 0, sizeof e);
	e.s = s;
	e.err = err;
	e.errlen = errlen;
	if (err && errlen) err[0] = 0;
	if (!s || !type_name || !out) return ev_fail(&e, UJS_E_KEY, "no schema or no type name");
	e.busy = calloc(s->ndefs ? s->ndefs : 1, 1);
	if (!e.busy) return nomem(&e);
	struct val *v = NULL;
	int rc = to_type(&e, type_name, strlen(type_name), &v);
	if (!rc) {
		size_t mark = out->len;
		struct ujo_writer w;
		ujo_w_init_bare(&w, out);
		int wrc = write_val(&w, v);
		if (!wrc) wrc = ujo_w_finish(&w);
		if (wrc) {
			out->len = mark;
			out->err = 0;
			rc = wrc == UJO_E_DEPTH
				     ? ev_fail(&e, UJS_E_LIMIT, "the default value of '%s' nests deeper than %d", type_name, UJO_MAX_DEPTH)
				     : wrc == UJO_E_NOMEM ? nomem(&e)
							  : ev_fail(&e, UJS_E_VALUE, "cannot encode the default value: %s", ujo_strerror(wrc));
		}
	}
	free(e.busy);
	ujo_arena_free(e.arena);
	return rc;
}

int ujs_schema_to_type(const char *text, size_t len, const char *type_name, struct ujo_buf *out, char *err,
		       size_t errlen)
{
	struct ujs_schema *s;
	int rc = ujs_parse(&s, text, len, err, errlen);
	if (rc) return rc;
	rc = ujs_default(s, type_name, out, err, errlen);
	ujs_free(s);
	return rc;
}
