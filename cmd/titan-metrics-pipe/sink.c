/* sink.c — the local sink, when there is no Kafka: the accepted lines as
 * they came (JSON, one a line) to standard output or appended to a file,
 * or nowhere. Lines are collected and written once per loop round, so a
 * burst costs a few write(2) calls, not one per line.
 */
#include "pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct sink {
	enum sink_kind kind;
	char *path;
	int fd;
	struct ujo_buf out;
	uint64_t nlines; /* lines in out */
	struct counters *c;
	struct warn w;
};

static int open_file(struct sink *s, char *err, size_t errlen)
{
	int fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the sink file %s: %s", s->path, strerror(errno));
		return -1;
	}
	s->fd = fd;
	return 0;
}

struct sink *sink_open(enum sink_kind kind, const char *path, struct counters *c, char *err, size_t errlen)
{
	struct sink *s = calloc(1, sizeof *s);
	if (s == NULL || (kind == SINK_FILE && (s->path = strdup(path)) == NULL)) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->kind = kind;
	s->c = c;
	s->fd = kind == SINK_STDOUT ? 1 : -1;
	ujo_buf_init(&s->out);
	if (kind == SINK_FILE && open_file(s, err, errlen) < 0) {
		sink_close(s);
		return NULL;
	}
	return s;
}

void sink_put(struct sink *s, const char *line, size_t len)
{
	if (s->kind == SINK_NONE) {
		cnt_add(&s->c->dropped, 1);
		return;
	}
	if (ujo_buf_put(&s->out, line, len) != 0 || ujo_buf_put(&s->out, "\n", 1) != 0) {
		cnt_add(&s->c->failed, 1);
		s->out.err = 0; /* the buffer's memory is still good */
		return;
	}
	s->nlines++;
	cnt_add(&s->c->queued, 1);
	/* a long burst is written in pieces of about one read buffer */
	if (s->out.len >= METRICS_READ_BUF) sink_flush(s);
}

/* Whole lines only count: a short write's remainder is retried, an error
 * fails every line of the batch. */
void sink_flush(struct sink *s)
{
	size_t off = 0;
	char sup[WARN_SUFFIX];
	if (s->nlines == 0) return;
	while (off < s->out.len) {
		ssize_t n = write(s->fd, s->out.data + off, s->out.len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		cnt_add(&s->c->failed, s->nlines);
		if (warn_ok(&s->w, sup))
			log_warn("sink: write failed: %s%s", n < 0 ? strerror(errno) : "no progress", sup);
		break;
	}
	if (off == s->out.len) cnt_add(&s->c->delivered, s->nlines);
	cnt_sub(&s->c->queued, s->nlines);
	s->nlines = 0;
	ujo_buf_reset(&s->out);
}

void sink_reopen(struct sink *s)
{
	char err[512];
	if (s->kind != SINK_FILE) return;
	sink_flush(s);
	int old = s->fd;
	if (open_file(s, err, sizeof err) < 0) {
		log_warn("sink: %s (keeping the old file)", err);
		return;
	}
	close(old);
	log_info("sink: reopened file=%s", s->path);
}

void sink_close(struct sink *s)
{
	if (s == NULL) return;
	sink_flush(s);
	if (s->kind == SINK_FILE && s->fd >= 0) close(s->fd);
	ujo_buf_free(&s->out);
	free(s->path);
	free(s);
}
