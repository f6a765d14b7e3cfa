/* encode.c — titan-ujo encode: JSON (with type annotations) to UJO.
 * The whole output is built before anything is written, so bad input
 * never leaves half a document (or half a frame stream) behind. */
#include "tool.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "ujo_json.h"

static int append_hex_line(struct ujo_buf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (ujo_buf_reserve(out, 2 * n + 1)) return UJO_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		out->data[out->len++] = (uint8_t)hex[p[i] >> 4];
		out->data[out->len++] = (uint8_t)hex[p[i] & 15];
	}
	out->data[out->len++] = '\n';
	return 0;
}

/* Encode the next JSON value of text into val (one document or frame).
 * Returns 1 when a value was encoded, 0 at the end of the input, or an
 * exit code (as a negative number) after printing the error. */
static int encode_one(const struct opts *o, const char *text, size_t len, size_t *pos, struct ujo_buf *val,
		      unsigned n)
{
	struct ujo_writer w;
	struct ujo_json_error je;
	unsigned flags = (o->bare ? UJO_JSON_BARE : 0) | (o->frames ? UJO_JSON_MULTI : 0);
	size_t at = o->frames ? frame_begin(val) : 0;
	if (o->bare) ujo_w_init_bare(&w, val);
	else ujo_w_init(&w, val);
	int rc = ujo_json_parse(text, len, pos, &w, flags, &je);
	if (rc == 0) return 0;
	if (rc == UJO_E_NOMEM || val->err) {
		tool_error("out of memory");
		return -EX_OSERR;
	}
	if (rc < 0) {
		tool_error("%s at line %u column %u", je.msg, je.line, je.column);
		return -EX_DATAERR;
	}
	if ((rc = ujo_w_finish(&w))) { /* the parser closes what it opens: not expected */
		tool_error("value %u: cannot finish the document: %s", n, ujo_strerror(rc));
		return -EX_DATAERR;
	}
	if (o->frames && frame_end(val, at, o->max_frame)) {
		tool_error("value %u: the frame body of %zu bytes exceeds the maximum frame size %u (see --max-frame)", n,
			   val->len - at - FRAME_LEN_SIZE, o->max_frame);
		return -EX_DATAERR;
	}
	return 1;
}

/* All values of the input into out (binary or hex lines). */
static int encode_all(const struct opts *o, const struct ujo_buf *text, struct ujo_buf *out)
{
	struct ujo_buf val;
	size_t pos = 0;
	unsigned n = 0;
	int rc;
	ujo_buf_init(&val);
	while ((rc = encode_one(o, (const char *)text->data, text->len, &pos, &val, n + 1)) == 1) {
		n++;
		rc = o->hex ? append_hex_line(out, val.data, val.len) : ujo_buf_put(out, val.data, val.len);
		if (rc) {
			tool_error("out of memory");
			rc = -EX_OSERR;
			break;
		}
		ujo_buf_reset(&val);
		if (!o->frames) break; /* the parser made sure nothing follows */
	}
	ujo_buf_free(&val);
	if (rc < 0) return -rc;
	if (n == 0) {
		tool_error("no JSON value in the input");
		return EX_DATAERR;
	}
	return 0;
}

int cmd_encode(const struct opts *o)
{
	struct input in;
	struct ujo_buf text, out;
	if (!o->hex && !o->force && isatty(STDOUT_FILENO)) {
		tool_error("refusing to write binary UJO to a terminal (use --hex, or --force)");
		return EX_USAGE;
	}
	int rc = input_open(&in, o->file, false);
	if (rc) return rc;
	ujo_buf_init(&text);
	ujo_buf_init(&out);
	rc = input_slurp(&in, &text);
	input_close(&in);
	if (!rc) rc = encode_all(o, &text, &out);
	if (!rc && ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) || fflush(stdout))) {
		tool_error("cannot write to standard output: %s", strerror(errno));
		rc = EX_IOERR;
	}
	ujo_buf_free(&text);
	ujo_buf_free(&out);
	return rc;
}
