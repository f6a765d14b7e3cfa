/* decode.c — titan-ujo decode: one UJO document, or a stream of titanfe
 * frames, to JSON or the dump. Every document is validated completely
 * before anything of it is printed, so bad data never leaves half a
 * value on stdout. */
#include "tool.h"

#include <errno.h>
#include <string.h>

#include "frame.h"
#include "ujo_json.h"

/* Validate one bare value (ujo_validate expects a header). */
static int validate_bare(const uint8_t *p, size_t len, size_t *off)
{
	struct ujo_reader r;
	struct ujo_value v;
	int rc;
	ujo_r_init_bare(&r, p, len);
	if (len == 0) { *off = 0; return UJO_E_TRUNCATED; }
	while ((rc = ujo_r_next(&r, &v)) == 1) {}
	*off = ujo_r_offset(&r);
	return rc;
}

static int write_error(void)
{
	tool_error("cannot write to standard output: %s", strerror(errno));
	return EX_IOERR;
}

/* Print one validated document in the chosen format. */
static int print_doc(const struct opts *o, const uint8_t *doc, size_t len, unsigned frame)
{
	struct ujo_reader r;
	int rc;
	if (o->bare) ujo_r_init_bare(&r, doc, len);
	else ujo_r_init(&r, doc, len);
	if (o->format == OUT_DUMP) {
		if (frame) printf("--- frame %u (%zu bytes)\n", frame, len);
		rc = o->messages ? dump_message(stdout, doc, len) : 0;
		if (rc == 0) rc = dump_value(stdout, &r);
		else if (rc == 1) rc = 0;
	} else {
		unsigned flags = (o->format == OUT_TYPED ? UJO_JSON_TYPED : 0) | (o->pretty ? UJO_JSON_PRETTY : 0);
		rc = ujo_json_emit_file(&r, flags, stdout);
		if (!rc && putchar('\n') == EOF) rc = UJO_JSON_E_IO;
	}
	if (rc == UJO_JSON_E_IO) return write_error();
	if (rc == UJO_E_NOMEM) {
		tool_error("out of memory");
		return EX_OSERR;
	}
	if (rc) { /* validated before: should not happen */
		tool_error("cannot convert the document: %s", ujo_json_strerror(rc));
		return EX_DATAERR;
	}
	if (frame && fflush(stdout)) return write_error(); /* a live stream shows each frame at once */
	return 0;
}

/* One document (or frame body) starting at stream offset base. */
static int decode_doc(const struct opts *o, const uint8_t *doc, size_t len, uint64_t base, unsigned frame)
{
	char where[32] = "";
	size_t off = 0;
	if (frame) snprintf(where, sizeof where, "frame %u: ", frame);
	if (len == 0) {
		tool_error("empty input: no UJO document");
		return EX_DATAERR;
	}
	int rc = o->bare ? validate_bare(doc, len, &off) : ujo_validate(doc, len, &off);
	if (rc) {
		tool_error("%sinvalid UJO %s at offset %llu (%s)", where, o->bare ? "value" : "document",
			   (unsigned long long)(base + off), ujo_strerror(rc));
		return EX_DATAERR;
	}
	return print_doc(o, doc, len, frame);
}

static int decode_single(const struct opts *o, struct input *in)
{
	struct ujo_buf b;
	ujo_buf_init(&b);
	int rc = input_slurp(in, &b);
	if (!rc) rc = decode_doc(o, b.data, b.len, 0, 0);
	ujo_buf_free(&b);
	return rc;
}

static int frame_error(const struct frame_reader *fr, int err, unsigned frame, uint64_t at)
{
	uint32_t len = frame_get_len(fr->buf + fr->start);
	if (err == FRAME_E_TOOBIG)
		tool_error("frame %u: length %u at offset %llu exceeds the maximum frame size %u (see --max-frame)", frame,
			   len, (unsigned long long)at, fr->max);
	else if (err == FRAME_E_SHORT)
		tool_error("frame %u: length %u at offset %llu is too small for a UJO document", frame, len,
			   (unsigned long long)at);
	else
		tool_error("frame %u: %s", frame, frame_strerror(err));
	return err == FRAME_E_NOMEM ? EX_OSERR : EX_DATAERR;
}

/* Frames as they arrive: the reader refuses a length above the maximum
 * before allocating anything for it. */
static int decode_frames(const struct opts *o, struct input *in)
{
	static uint8_t chunk[65536];
	struct frame_reader fr;
	const uint8_t *body;
	uint32_t len;
	uint64_t at = 0; /* stream offset of the next frame */
	unsigned frame = 0;
	int rc = frame_reader_init(&fr, o->max_frame);
	while (!rc) {
		ssize_t n = input_read(in, chunk, sizeof chunk);
		if (n < 0) { rc = (int)-n; break; }
		if (n == 0) {
			if (frame_reader_pending(&fr)) {
				tool_error("frame %u: truncated: the input ends %zu bytes into the frame at offset %llu",
					   frame + 1, frame_reader_pending(&fr), (unsigned long long)at);
				rc = EX_DATAERR;
			}
			break;
		}
		if ((rc = frame_reader_feed(&fr, chunk, (size_t)n))) {
			rc = frame_error(&fr, rc, frame + 1, at);
			break;
		}
		while (!rc && (rc = frame_reader_next(&fr, &body, &len)) == 1) {
			rc = decode_doc(o, body, len, at + FRAME_LEN_SIZE, ++frame);
			at += FRAME_LEN_SIZE + (uint64_t)len;
		}
		if (rc < 0) rc = frame_error(&fr, rc, frame + 1, at);
	}
	frame_reader_free(&fr);
	return rc;
}

int cmd_decode(const struct opts *o)
{
	struct input in;
	int rc = input_open(&in, o->file, o->hex);
	if (rc) return rc;
	rc = o->frames ? decode_frames(o, &in) : decode_single(o, &in);
	input_close(&in);
	if (fflush(stdout) && !rc) rc = write_error();
	return rc;
}
