/* frame.h — titanfe framing on TCP: a 4-byte big-endian length, then
 * that many bytes of one UJO document (../shared/reference/ujo-format.md
 * §9.3).
 *
 * The reader is incremental: the caller reads from the socket straight
 * into the reader's buffer (frame_reader_space / frame_reader_commit, or
 * frame_reader_read_fd) and then takes every complete frame out with
 * frame_reader_next — many frames per read(2). A length above the
 * reader's maximum is an error reported before anything is allocated;
 * the connection must then be closed (the stream cannot be resynced).
 */
#ifndef TITAN_FRAME_H
#define TITAN_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "titan_limits.h"
#include "ujo.h"

#define FRAME_LEN_SIZE 4

enum frame_err {
	FRAME_E_NOMEM = -1,
	FRAME_E_TOOBIG = -2, /* announced length above the maximum */
	FRAME_E_SHORT = -3,  /* announced length too small for any UJO document */
	FRAME_E_ARG = -4,    /* bad maximum */
};

const char *frame_strerror(int err);

static inline void frame_put_len(uint8_t out[FRAME_LEN_SIZE], uint32_t n)
{
	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
}

static inline uint32_t frame_get_len(const uint8_t in[FRAME_LEN_SIZE])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/* Building frames in a ujo_buf: frame_begin reserves the length field
 * and returns its offset; write the document; frame_end fills the length
 * in (FRAME_E_TOOBIG if the body exceeds max). */
size_t frame_begin(struct ujo_buf *b);
int frame_end(struct ujo_buf *b, size_t at, uint32_t max);

struct frame_reader {
	uint8_t *buf;
	size_t cap;
	size_t start, end; /* unconsumed bytes are buf[start, end) */
	uint32_t max;      /* largest accepted body */
	int err;           /* sticky */
	uint64_t frames, bytes; /* counters for statistics */
};

/* max = 0 means FRAME_MAX_DEFAULT; above FRAME_MAX_CEILING → FRAME_E_ARG. */
int frame_reader_init(struct frame_reader *fr, uint32_t max);
void frame_reader_free(struct frame_reader *fr);
/* Free space to read into (at least one byte; grows for a frame whose
 * length is known). Invalidates bodies returned before. */
int frame_reader_space(struct frame_reader *fr, uint8_t **p, size_t *n);
void frame_reader_commit(struct frame_reader *fr, size_t n);
/* Copying convenience: append data. */
int frame_reader_feed(struct frame_reader *fr, const void *data, size_t n);
/* One read(2) into the buffer: >0 bytes, 0 EOF, -1 with errno set
 * (EAGAIN on a non-blocking fd), or a negative frame_err below -1000
 * (value frame_err - 1000) when the buffer cannot be prepared. */
ssize_t frame_reader_read_fd(struct frame_reader *fr, int fd);
/* Next complete frame: returns 1 and sets body/len (valid until the next
 * space/feed/read call), 0 when more bytes are needed, or a frame_err. */
int frame_reader_next(struct frame_reader *fr, const uint8_t **body, uint32_t *len);
/* Bytes buffered but not yet returned as frames (EOF mid-frame check). */
static inline size_t frame_reader_pending(const struct frame_reader *fr) { return fr->end - fr->start; }

#endif
