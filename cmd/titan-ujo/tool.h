/* tool.h — the parts of titan-ujo shared between its source files. */
#ifndef TITAN_UJO_TOOL_H
#define TITAN_UJO_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sysexits.h>

#include "ujo.h"

enum out_format { OUT_JSON, OUT_TYPED, OUT_DUMP };

struct opts {
	bool hex;      /* decode: hex input; encode: hex output */
	bool frames;   /* a stream of frames (4-byte big-endian length + document) */
	bool messages; /* decode: name titanfe messages in the dump */
	bool pretty, bare, force;
	enum out_format format;
	bool format_set;
	uint32_t max_frame;
	const char *file; /* NULL or "-": standard input */
};

/* "titan-ujo: error: ..." on one line of stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Input from a file or stdin, raw or hex text (input.c). Functions that
 * fail print the message and return a sysexits code (negated where a
 * count is returned). */
struct input {
	int fd;
	const char *name;
	bool hex;
	int nibble;        /* hex: pending high nibble, or -1 */
	uint64_t text_off; /* hex: characters read so far */
	uint8_t text[65536];
};

int input_open(struct input *in, const char *file, bool hex);
void input_close(struct input *in);
/* Up to cap bytes: >0 bytes read, 0 at the end of the input, <0 a
 * negated exit code. Returns what is available (a pipe does not wait
 * for more), so frames are handled as they arrive. */
ssize_t input_read(struct input *in, uint8_t *buf, size_t cap);
/* The whole input into b, at most UJO_TOOL_MAX_INPUT bytes. */
int input_slurp(struct input *in, struct ujo_buf *b);

int cmd_decode(const struct opts *o);
int cmd_encode(const struct opts *o);

/* dump.c: the readable typed dump. Both return 0, a negative ujo error,
 * or UJO_JSON_E_IO. dump_message returns 1 after printing a titanfe
 * message, 0 when the document is not one (nothing printed). */
int dump_value(FILE *f, struct ujo_reader *r);
int dump_message(FILE *f, const uint8_t *doc, size_t len);

#endif
