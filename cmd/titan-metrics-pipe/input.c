/* input.c — telemetry lines from standard input, a file or a FIFO.
 *
 * A FIFO is opened read-write: the pipe then always has a writer (us), so
 * runners may open and close it as they come and go without the reader
 * ever seeing end-of-file, and a runner opening it O_WRONLY|O_NONBLOCK
 * finds a reader as long as this program runs.
 *
 * Lines are cut in one buffer of METRICS_READ_BUF bytes; memory does not
 * grow with the input. A line longer than METRICS_LINE_MAX is reported
 * once and skipped up to its newline, however long it is.
 */
#include "pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_path(struct input *in, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "cannot open input %s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read input %s: it is a directory", path);
		return -1;
	}
	in->fifo = S_ISFIFO(st.st_mode);
	/* O_NONBLOCK: poll decides when to read; a FIFO read-write (above) */
	in->fd = open(path, (in->fifo ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
	if (in->fd < 0) {
		snprintf(err, errlen, "cannot open input %s: %s", path, strerror(errno));
		return -1;
	}
	in->own = true;
	return 0;
}

int input_open(struct input *in, const char *path, char *err, size_t errlen)
{
	memset(in, 0, sizeof *in);
	in->fd = 0;
	in->buf = malloc(METRICS_READ_BUF + 1);
	if (in->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Standard input is shared with whoever started us: it is not made
	 * non-blocking (that would change it for them too); the loop reads
	 * it only when poll says it is readable. */
	if (path == NULL || strcmp(path, "-") == 0) return 0;
	if (open_path(in, path, err, errlen) == 0) return 0;
	free(in->buf);
	in->buf = NULL;
	return -1;
}

long input_fill(struct input *in)
{
	if (in->off > 0) { /* keep the partial line at the front */
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	ssize_t n = read(in->fd, in->buf + in->len, METRICS_READ_BUF - in->len);
	if (n > 0) {
		in->len += (size_t)n;
		return (long)n;
	}
	if (n == 0) {
		in->eof = true;
		return 0;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
}

int input_next(struct input *in, char **line, size_t *len)
{
	for (;;) {
		char *start = in->buf + in->off;
		size_t avail = in->len - in->off;
		char *nl = memchr(start, '\n', avail);
		if (in->skipping) { /* the rest of an oversize line */
			if (nl == NULL) {
				in->off = in->len;
				return IN_MORE;
			}
			in->off = (size_t)(nl + 1 - in->buf);
			in->skipping = false;
			continue;
		}
		if (nl != NULL) {
			size_t l = (size_t)(nl - start);
			in->off += l + 1;
			if (l > METRICS_LINE_MAX) return IN_OVERSIZE;
			*nl = '\0';
			*line = start;
			*len = l;
			return IN_LINE;
		}
		if (avail > METRICS_LINE_MAX) {
			in->skipping = true;
			in->off = in->len;
			return IN_OVERSIZE;
		}
		if (in->eof && avail > 0) { /* a last line without newline */
			start[avail] = '\0'; /* buf has one byte more than it reads */
			in->off = in->len;
			*line = start;
			*len = avail;
			return IN_LINE;
		}
		return IN_MORE;
	}
}

void input_close(struct input *in)
{
	if (in->own && in->fd >= 0) close(in->fd);
	free(in->buf);
	in->buf = NULL;
	in->fd = -1;
}
