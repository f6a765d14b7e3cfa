/* dump.c — the readable typed dump of titan-ujo: one value per line,
 * indented two spaces per level, each with its UJO type:
 *
 *     map
 *       "uid": utf8 "P-1"
 *       "started": int64 1600000000000000000
 *       int64 42: float16 24.125 (0x4e08)
 *
 * and titanfe messages ([type, content] lists) by name. */
#include "tool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ujo_json.h"

#define DUMP_MAX_BIN 64 /* binary bytes shown before "..." */

struct dumper {
	FILE *f;
	struct ujo_buf line, tmp;
	int err;
};

static void add(struct dumper *d, const char *s) { ujo_buf_put(&d->line, s, strlen(s)); }

static void add_hex(struct dumper *d, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char h[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
		ujo_buf_put(&d->line, h, 2);
	}
}

static void line_begin(struct dumper *d, int depth)
{
	ujo_buf_reset(&d->line);
	for (int i = 0; i < depth; i++) add(d, "  ");
}

static void line_end(struct dumper *d)
{
	add(d, "\n");
	if (d->line.err) d->err = UJO_E_NOMEM;
	else if (!d->err && fwrite(d->line.data, 1, d->line.len, d->f) != d->line.len) d->err = UJO_JSON_E_IO;
}

static const char *type_name(const struct ujo_value *v)
{
	static const char *const str[4] = {"cstring", "utf8", "utf16", "utf32"};
	if (v->type == UJO_STRING) return str[v->subtype & 3];
	return ujo_type_name(v->type);
}

/* A string as a quoted JSON literal; data that is not valid text is
 * shown as U+FFFD in the literal and in hex after it. */
static void add_string(struct dumper *d, const struct ujo_value *v)
{
	ujo_buf_reset(&d->tmp);
	int lossless = ujo_json_str_to_utf8(v, &d->tmp);
	ujo_json_put_string(&d->line, (const char *)d->tmp.data, d->tmp.len);
	if (lossless == 0) {
		add(d, " (not valid text, raw ");
		add_hex(d, v->data, v->len);
		add(d, ")");
	}
}

static void add_binary(struct dumper *d, const struct ujo_value *v)
{
	char buf[64];
	if (v->subtype) {
		snprintf(buf, sizeof buf, "subtype %u ", v->subtype);
		add(d, buf);
	}
	snprintf(buf, sizeof buf, "(%zu bytes)%s", v->len, v->len ? " " : "");
	add(d, buf);
	add_hex(d, v->data, v->len < DUMP_MAX_BIN ? v->len : DUMP_MAX_BIN);
	if (v->len > DUMP_MAX_BIN) add(d, "...");
}

/* Seconds since the epoch as UTC, when the C library can show them. */
static void add_uxtime(struct dumper *d, int64_t secs)
{
	struct tm tm;
	char buf[64];
	time_t t = (time_t)secs;
	if ((int64_t)t != secs || !gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900) return;
	strftime(buf, sizeof buf, " (%Y-%m-%dT%H:%M:%SZ)", &tm);
	add(d, buf);
}

/* "type value" of any value; containers show their type only. */
static void add_value(struct dumper *d, const struct ujo_value *v)
{
	char buf[64];
	add(d, type_name(v));
	if (v->type == UJO_NONE || v->type >= UJO_LIST) return;
	add(d, " ");
	if (v->type == UJO_STRING) { add_string(d, v); return; }
	if (v->type == UJO_BIN) { add_binary(d, v); return; }
	ujo_buf_put(&d->line, buf, ujo_json_scalar_text(v, buf, sizeof buf));
	if (v->type == UJO_F16) {
		snprintf(buf, sizeof buf, " (0x%04x)", v->f16);
		add(d, buf);
	}
	if (v->type == UJO_UXTIME) add_uxtime(d, v->v.i);
}

/* A map key: a plain quoted string when it is a valid UTF-8 string (what
 * titanfe uses), else with its type. */
static void add_key(struct dumper *d, const struct ujo_value *k)
{
	ujo_buf_reset(&d->tmp);
	if (k->type == UJO_STRING && k->subtype == UJO_STR_UTF8 && ujo_json_str_to_utf8(k, &d->tmp) == 1)
		ujo_json_put_string(&d->line, (const char *)d->tmp.data, d->tmp.len);
	else
		add_value(d, k);
	add(d, ": ");
}

static bool next(struct dumper *d, struct ujo_reader *r, struct ujo_value *v)
{
	if (d->err) return false;
	int rc = ujo_r_next(r, v);
	if (rc == 1) return true;
	d->err = rc < 0 ? rc : UJO_E_TRUNCATED;
	return false;
}

static void d_items(struct dumper *d, struct ujo_reader *r, uint8_t type, int depth);

/* One line for a value (after its map key or its table column name,
 * if any), then its items. */
static void d_entry(struct dumper *d, struct ujo_reader *r, int depth, const struct ujo_value *key,
		    const struct ujo_value *column, const struct ujo_value *v)
{
	line_begin(d, depth);
	if (column) { /* table cell: the column name, whatever its subtype */
		ujo_buf_reset(&d->tmp);
		ujo_json_str_to_utf8(column, &d->tmp);
		ujo_json_put_string(&d->line, (const char *)d->tmp.data, d->tmp.len);
		add(d, ": ");
	} else if (key) {
		add_key(d, key);
	}
	add_value(d, v);
	line_end(d);
	if (v->type >= UJO_LIST && v->type <= UJO_TABLE) d_items(d, r, v->type, depth + 1);
}

/* Columns as "column <type> <name>", then "row N" with one line per
 * cell named after its column. */
static void d_table(struct dumper *d, struct ujo_reader *r, int depth)
{
	struct ujo_value x, *cols = NULL;
	size_t ncols = 0, i = 0;
	char buf[48];
	while (next(d, r, &x) && x.type != UJO_END) {
		if (x.is_column) {
			void *c = realloc(cols, (ncols + 1) * sizeof *cols);
			if (!c) { d->err = UJO_E_NOMEM; break; }
			cols = c;
			cols[ncols++] = x;
			line_begin(d, depth);
			add(d, "column ");
			add_value(d, &x);
			line_end(d);
			continue;
		}
		if (!ncols) { d->err = UJO_E_TABLE; break; }
		if (i % ncols == 0) {
			line_begin(d, depth);
			snprintf(buf, sizeof buf, "row %zu", i / ncols + 1);
			add(d, buf);
			line_end(d);
		}
		d_entry(d, r, depth + 1, NULL, &cols[i++ % ncols], &x);
	}
	free(cols);
}

static void d_items(struct dumper *d, struct ujo_reader *r, uint8_t type, int depth)
{
	struct ujo_value k, v;
	if (type == UJO_TABLE) {
		d_table(d, r, depth);
		return;
	}
	while (next(d, r, &k) && k.type != UJO_END) {
		if (type == UJO_LIST) d_entry(d, r, depth, NULL, NULL, &k);
		else if (next(d, r, &v)) d_entry(d, r, depth, &k, NULL, &v);
	}
}

static void d_free(struct dumper *d)
{
	ujo_buf_free(&d->line);
	ujo_buf_free(&d->tmp);
}

int dump_value(FILE *f, struct ujo_reader *r)
{
	struct dumper d = {.f = f};
	struct ujo_value v;
	if (next(&d, r, &v)) d_entry(&d, r, 0, NULL, NULL, &v);
	d_free(&d);
	return d.err;
}

/* ------------------------------------------------------------------ */
/* titanfe messages: [type:int64, content] (titanfe/messages.py)        */

static const char *message_name(int64_t type)
{
	switch (type) {
	case 1: return "Register";
	case 2: return "AssignmentRequest";
	case 3: return "Assignment";
	case 4: return "Terminate";
	case 5: return "SlowQueueAlert";
	case 6: return "NewInputSource";
	case 20: return "Packet";
	case 21: return "PacketRequest";
	case 22: return "ConsumerRegistration";
	default: return NULL;
	}
}

/* Is the document a list of exactly a known type and one content value?
 * Leaves *at positioned before the content. */
static const char *message_shape(struct ujo_reader *r, struct ujo_reader *at)
{
	struct ujo_value v, t;
	const char *name;
	if (ujo_r_next(r, &v) != 1 || v.type != UJO_LIST) return NULL;
	if (ujo_r_next(r, &t) != 1 || t.type != UJO_I64 || !(name = message_name(t.v.i))) return NULL;
	*at = *r;
	if (ujo_r_next(r, &v) != 1 || v.type == UJO_END) return NULL;
	if (v.type >= UJO_LIST && v.type <= UJO_TABLE && ujo_r_skip(r, &v, NULL, NULL)) return NULL;
	if (ujo_r_next(r, &v) != 1 || v.type != UJO_END) return NULL;
	return name;
}

int dump_message(FILE *f, const uint8_t *doc, size_t len)
{
	struct ujo_reader r, at;
	struct ujo_value c;
	struct dumper d = {.f = f};
	if (ujo_r_init(&r, doc, len)) return 0;
	const char *name = message_shape(&r, &at);
	if (!name) return 0;
	r = at;
	if (ujo_r_next(&r, &c) != 1) return 0;
	if (c.type == UJO_MAP || c.type == UJO_TABLE) {
		/* Packet and friends: the name, then the content's items */
		line_begin(&d, 0);
		add(&d, name);
		line_end(&d);
		d_items(&d, &r, c.type, 1);
	} else { /* PacketRequest 25, ConsumerRegistration ["B-1","out"] */
		fprintf(f, "%s ", name);
		d.err = ujo_json_emit_file(&at, 0, f);
		if (!d.err && fputc('\n', f) == EOF) d.err = UJO_JSON_E_IO;
	}
	d_free(&d);
	return d.err ? d.err : 1;
}
