/* input.c — titan-ujo's input: a file or stdin, raw bytes or hex text. */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int input_open(struct input *in, const char *file, bool hex)
{
	struct stat st;
	in->hex = hex;
	in->nibble = -1;
	in->text_off = 0;
	if (!file || !strcmp(file, "-")) {
		in->fd = STDIN_FILENO;
		in->name = "standard input";
		return 0;
	}
	in->name = file;
	in->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0) {
		tool_error("cannot open %s: %s", file, strerror(errno));
		return EX_NOINPUT;
	}
	if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		tool_error("cannot read %s: it is a directory", file);
		input_close(in);
		return EX_NOINPUT;
	}
	return 0;
}

void input_close(struct input *in)
{
	if (in->fd > STDIN_FILENO) close(in->fd);
	in->fd = -1;
}

static ssize_t read_fd(struct input *in, void *buf, size_t cap)
{
	ssize_t n;
	do n = read(in->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		tool_error("cannot read %s: %s", in->name, strerror(errno));
		return -EX_IOERR;
	}
	return n;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Hex text → bytes. Whitespace and '|' (the separator of the reference
 * vectors) are ignored; a digit pair may straddle two reads. */
static ssize_t read_hex(struct input *in, uint8_t *buf, size_t cap)
{
	size_t out = 0;
	while (out == 0) {
		/* k characters give at most (k + 1) / 2 bytes: stay within cap */
		size_t want = cap * 2 - 1 < sizeof in->text ? cap * 2 - 1 : sizeof in->text;
		ssize_t n = read_fd(in, in->text, want);
		if (n < 0) return n;
		if (n == 0) {
			if (in->nibble < 0) return 0;
			tool_error("odd number of hex digits in %s", in->name);
			return -EX_DATAERR;
		}
		for (ssize_t i = 0; i < n; i++, in->text_off++) {
			unsigned char c = in->text[i];
			int d = hexval(c);
			if (d < 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|' || c == '\f' || c == '\v'))
				continue;
			if (d < 0) {
				if (c >= 0x21 && c < 0x7f)
					tool_error("invalid character '%c' in hex input at offset %llu", c, (unsigned long long)in->text_off);
				else
					tool_error("invalid byte 0x%02x in hex input at offset %llu", c, (unsigned long long)in->text_off);
				return -EX_DATAERR;
			}
			if (in->nibble < 0) {
				in->nibble = d;
			} else {
				buf[out++] = (uint8_t)(in->nibble << 4 | d);
				in->nibble = -1;
			}
		}
	}
	return (ssize_t)out;
}

ssize_t input_read(struct input *in, uint8_t *buf, size_t cap)
{
	return in->hex ? read_hex(in, buf, cap) : read_fd(in, buf, cap);
}

int input_slurp(struct input *in, struct ujo_buf *b)
{
	for (;;) {
		if (ujo_buf_reserve(b, 65536)) {
			tool_error("out of memory reading %s", in->name);
			return EX_OSERR;
		}
		ssize_t n = input_read(in, b->data + b->len, b->cap - b->len);
		if (n < 0) return (int)-n;
		if (n == 0) return 0;
		b->len += (size_t)n;
		if (b->len > UJO_TOOL_MAX_INPUT) {
			tool_error("%s is larger than %u bytes, the most titan-ujo reads into memory",
				   in->name, UJO_TOOL_MAX_INPUT);
			return EX_DATAERR;
		}
	}
}
