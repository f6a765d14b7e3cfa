/* frame.c — length-prefixed frames and the incremental frame reader. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *frame_strerror(int err)
{
	switch (err) {
	case FRAME_E_NOMEM: return "out of memory";
	case FRAME_E_TOOBIG: return "frame larger than the maximum frame size";
	case FRAME_E_SHORT: return "frame too short to hold a UJO document";
	case FRAME_E_ARG: return "maximum frame size out of range";
	default: return "unknown frame error";
	}
}

size_t frame_begin(struct ujo_buf *b)
{
	static const uint8_t zero[FRAME_LEN_SIZE];
	size_t at = b->len;
	ujo_buf_put(b, zero, FRAME_LEN_SIZE); /* errors stay sticky in b->err */
	return at;
}

int frame_end(struct ujo_buf *b, size_t at, uint32_t max)
{
	if (b->err) return FRAME_E_NOMEM;
	size_t body = b->len - at - FRAME_LEN_SIZE;
	if (body > (max ? max : FRAME_MAX_DEFAULT)) return FRAME_E_TOOBIG;
	frame_put_len(b->data + at, (uint32_t)body);
	return 0;
}

int frame_reader_init(struct frame_reader *fr, uint32_t max)
{
	memset(fr, 0, sizeof *fr);
	if (max == 0) max = FRAME_MAX_DEFAULT;
	if (max > FRAME_MAX_CEILING || max < FRAME_MIN_BODY) return FRAME_E_ARG;
	fr->max = max;
	return 0;
}

void frame_reader_free(struct frame_reader *fr)
{
	free(fr->buf);
	fr->buf = NULL;
	fr->cap = fr->start = fr->end = 0;
}

/* Bytes the next frame needs in total, or FRAME_READER_INITIAL when its
 * length is not known yet. */
static size_t wanted(const struct frame_reader *fr)
{
	size_t have = fr->end - fr->start;
	if (have < FRAME_LEN_SIZE) return FRAME_READER_INITIAL;
	uint32_t len = frame_get_len(fr->buf + fr->start);
	if (len > fr->max) return FRAME_READER_INITIAL; /* next() reports it */
	size_t need = FRAME_LEN_SIZE + (size_t)len;
	return need > FRAME_READER_INITIAL ? need : FRAME_READER_INITIAL;
}

int frame_reader_space(struct frame_reader *fr, uint8_t **p, size_t *n)
{
	if (fr->err) return fr->err;
	size_t have = fr->end - fr->start, need = wanted(fr);
	/* Room to ask for: the rest of the next frame, or a fresh chunk when
	 * whole frames are still waiting to be taken. */
	size_t missing = need > have ? need - have : FRAME_READER_INITIAL;
	/* Give memory back after a big frame has gone. */
	if (have == 0 && fr->cap > 4 * FRAME_READER_INITIAL) {
		free(fr->buf);
		fr->buf = NULL;
		fr->cap = fr->start = fr->end = 0;
	}
	/* Move the unconsumed tail to the front when the free tail is too
	 * short, so the buffer never creeps. */
	if (fr->start && (have == 0 || fr->cap - fr->end < missing)) {
		memmove(fr->buf, fr->buf + fr->start, have);
		fr->start = 0;
		fr->end = have;
	}
	if (fr->cap - fr->end < missing) {
		size_t cap = fr->end + missing;
		uint8_t *b = realloc(fr->buf, cap);
		if (!b) return fr->err = FRAME_E_NOMEM;
		fr->buf = b;
		fr->cap = cap;
	}
	*p = fr->buf + fr->end;
	*n = fr->cap - fr->end;
	return 0;
}

void frame_reader_commit(struct frame_reader *fr, size_t n)
{
	fr->end += n;
	fr->bytes += n;
}

int frame_reader_feed(struct frame_reader *fr, const void *data, size_t n)
{
	while (n) {
		uint8_t *p;
		size_t room;
		int rc = frame_reader_space(fr, &p, &room);
		if (rc) return rc;
		size_t k = n < room ? n : room;
		memcpy(p, data, k);
		frame_reader_commit(fr, k);
		data = (const uint8_t *)data + k;
		n -= k;
	}
	return 0;
}

ssize_t frame_reader_read_fd(struct frame_reader *fr, int fd)
{
	uint8_t *p;
	size_t room;
	int rc = frame_reader_space(fr, &p, &room);
	if (rc) return rc - 1000;
	ssize_t n;
	do n = read(fd, p, room);
	while (n < 0 && errno == EINTR);
	if (n > 0) frame_reader_commit(fr, (size_t)n);
	return n;
}

int frame_reader_next(struct frame_reader *fr, const uint8_t **body, uint32_t *len)
{
	if (fr->err) return fr->err;
	size_t have = fr->end - fr->start;
	if (have < FRAME_LEN_SIZE) return 0;
	uint32_t n = frame_get_len(fr->buf + fr->start);
	if (n > fr->max) return fr->err = FRAME_E_TOOBIG;
	if (n < FRAME_MIN_BODY) return fr->err = FRAME_E_SHORT;
	if (have - FRAME_LEN_SIZE < n) return 0;
	*body = fr->buf + fr->start + FRAME_LEN_SIZE;
	*len = n;
	fr->start += FRAME_LEN_SIZE + (size_t)n;
	fr->frames++;
	return 1;
}
