/* pickle.h — a writer of Python pickles, protocol 3.
 *
 * titanfe puts its metric records on Kafka as pickle.dumps(dict); the
 * consumers (titanfe's kafka_to_elastic) call pickle.loads. This writer
 * produces what CPython 3's C pickler (_pickle) produces for the same
 * objects with protocol=3, byte for byte, when every str in the object is
 * a distinct object (no shared references — the case of a dict built from
 * JSON or a dataclass):
 *
 *   header      80 03                        PROTO 3
 *   None        4e                           NONE
 *   bool        88 / 89                      NEWTRUE / NEWFALSE
 *   int         4b u8 | 4d u16le | 4a i32le  BININT1 / BININT2 / BININT
 *               8a n bytes                   LONG1 (minimal two's complement)
 *   float       47 f64be                     BINFLOAT
 *   str         58 u32le utf8                BINUNICODE
 *   dict        7d, then the items            EMPTY_DICT
 *   list        5d, then the items            EMPTY_LIST
 *   end         2e                           STOP
 *
 * Every str, dict and list is followed by a memo entry (71 u8 BINPUT, or
 * 72 u32le LONG_BINPUT from index 256), as CPython writes them. CPython
 * keeps one shared object for the empty string and for each one-character
 * string below U+0100, so a second "" or "a" in the same pickle is fetched
 * from the memo (68 u8 BINGET / 6a u32le LONG_BINGET); so is it here.
 *
 * Items go in batches of 1000 between MARK (28) and SETITEMS (75) / APPENDS (65); a container of exactly one item uses
 * SETITEM (73) / APPEND (61) without MARK, and an empty one has no items.
 * CPython's dict batching has a quirk kept here: a dict whose size is a
 * multiple of 1000 ends with an extra empty batch "28 75".
 *
 * Because the batching depends on the size, a container is opened with
 * its item count (pairs for a dict); writing a different number of items
 * is an error. Errors are sticky, as with the UJO writer: build the whole
 * pickle, check pickle_w_finish().
 *
 *     struct ujo_buf b; struct pickle_writer w;
 *     ujo_buf_init(&b);
 *     pickle_w_init(&w, &b);
 *     pickle_w_dict(&w, 2);
 *     pickle_w_str(&w, "content_type", 12); pickle_w_str(&w, "x", 1);
 *     pickle_w_str(&w, "queue_length", 12); pickle_w_int(&w, 3);
 *     pickle_w_end(&w);
 *     if (pickle_w_finish(&w) == 0) send(b.data, b.len);
 *
 * Strings are written as given: the caller makes sure they are UTF-8
 * (pickle.loads refuses invalid UTF-8, lone surrogates excepted).
 */
#ifndef TITAN_PICKLE_H
#define TITAN_PICKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "titan_limits.h"
#include "ujo.h" /* struct ujo_buf, the toolkit's growable buffer */

enum pickle_err {
	PICKLE_OK = 0,
	PICKLE_E_NOMEM = -1, /* the buffer could not grow */
	PICKLE_E_STATE = -2, /* wrong item count, end without open, value after the root, ... */
	PICKLE_E_DEPTH = -3, /* nesting deeper than PICKLE_MAX_DEPTH */
	PICKLE_E_TOOBIG = -4 /* a string or container beyond 2^32 - 1 */
};

const char *pickle_strerror(int err);

struct pickle_frame {
	bool dict;
	bool batch_open; /* a MARK is waiting for its SETITEMS / APPENDS */
	bool want_value; /* dict: a key was written, its value is next */
	uint32_t n, done;  /* announced items, completed items */
};

struct pickle_writer {
	struct ujo_buf *b;
	int err;        /* sticky first error */
	int depth;      /* open containers */
	bool root_done; /* the top-level value is complete */
	uint32_t memo;  /* next memo index */
	uint32_t single[257]; /* memo index + 1 of "" (256) and of one-character
	                         strings below U+0100 (by code point); 0 = not yet */
	struct pickle_frame st[PICKLE_MAX_DEPTH];
};

/* Start a pickle in b (appended at b->len): writes the protocol header. */
void pickle_w_init(struct pickle_writer *w, struct ujo_buf *b);

int pickle_w_none(struct pickle_writer *w);
int pickle_w_bool(struct pickle_writer *w, bool v);
int pickle_w_int(struct pickle_writer *w, int64_t v);
int pickle_w_float(struct pickle_writer *w, double v);
int pickle_w_str(struct pickle_writer *w, const char *s, size_t len);
/* Open a dict of n key/value pairs or a list of n items. */
int pickle_w_dict(struct pickle_writer *w, size_t n);
int pickle_w_list(struct pickle_writer *w, size_t n);
/* Close the innermost container (all its announced items written). */
int pickle_w_end(struct pickle_writer *w);
/* Write STOP. Returns the sticky error, or PICKLE_E_STATE when the top
 * value is incomplete. */
int pickle_w_finish(struct pickle_writer *w);

#endif
