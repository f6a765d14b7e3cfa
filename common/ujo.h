/* ujo.h — the UJO binary format: writer, pull reader, tree.
 *
 * Byte-compatible with libujo-c and titanfe's ujotypes (see
 * ../shared/reference/ujo-format.md). Three layers:
 *
 *  - ujo_writer: appends values to a growable buffer and checks the
 *    placement rules as it goes (a key may not be a container, a table
 *    row must be complete, ...), so our own code cannot emit a document a
 *    peer would reject. Errors are sticky: build the whole document, check
 *    once at ujo_w_finish().
 *
 *  - ujo_reader: a pull parser ("walker") over a borrowed buffer. It
 *    returns one value at a time, allocates nothing, validates everything
 *    (bounds, depth, terminators, key and table rules) and never reads
 *    past the buffer. Scalars and strings point into the buffer. Any value,
 *    container or not, can be skipped and its raw bytes taken, which lets
 *    the runner move a packet's payload from socket to socket without
 *    building it. This is the hot path.
 *
 *  - ujo_node: a tree for code that needs random access or builds
 *    documents piece by piece (mapping rules, the titan-ujo tool, tests).
 *    Nodes live in an arena freed at once; strings borrow the parsed
 *    buffer (or arena copies for built nodes). It is built on the reader,
 *    so it validates exactly as strictly.
 *
 * Why two read forms: the runner touches a few keys of every packet and
 * forwards the rest untouched; a tree would allocate per packet for
 * nothing. Mapping rules and tools need look-ups by key and paths; a
 * stream is awkward there. Both share one validator (the reader).
 */
#ifndef TITAN_UJO_H
#define TITAN_UJO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "titan_limits.h"

/* Type codes, as on the wire. */
enum ujo_type {
	UJO_END = 0x00, /* reader: end of the current container */
	UJO_F64 = 0x01,
	UJO_F32 = 0x02,
	UJO_F16 = 0x03,
	UJO_STRING = 0x04,
	UJO_I64 = 0x05,
	UJO_I32 = 0x06,
	UJO_I16 = 0x07,
	UJO_I8 = 0x08,
	UJO_U64 = 0x09,
	UJO_U32 = 0x0a,
	UJO_U16 = 0x0b,
	UJO_U8 = 0x0c,
	UJO_BOOL = 0x0d,
	UJO_BIN = 0x0e,
	UJO_NONE = 0x0f,
	UJO_UXTIME = 0x10,
	UJO_DATE = 0x11,
	UJO_TIME = 0x12,
	UJO_TIMESTAMP = 0x13,
	UJO_LIST = 0x30,
	UJO_MAP = 0x31,
	UJO_TABLE = 0x32,
};

/* String subtypes. */
enum ujo_str_sub {
	UJO_STR_C = 0,     /* units = bytes incl. the trailing NUL */
	UJO_STR_UTF8 = 1,  /* units = bytes */
	UJO_STR_UTF16 = 2, /* units = 16-bit LE code units */
	UJO_STR_UTF32 = 3, /* units = 32-bit LE code units */
};

/* Binary subtypes (any byte is accepted on the wire). */
enum ujo_bin_sub { UJO_BIN_GENERIC = 0, UJO_BIN_UJO = 1 };

/* Error codes (negative returns). ujo_strerror() names them. */
enum ujo_err {
	UJO_OK = 0,
	UJO_E_NOMEM = -1,     /* allocation failed */
	UJO_E_TRUNCATED = -2, /* data ends inside a value */
	UJO_E_HEADER = -3,    /* bad magic, version or compression */
	UJO_E_TYPE = -4,      /* unknown type code or subtype */
	UJO_E_PLACE = -5,     /* value not allowed here (container key, atomic root, ...) */
	UJO_E_DEPTH = -6,     /* nesting deeper than UJO_MAX_DEPTH */
	UJO_E_TRAILING = -7,  /* bytes after the root container */
	UJO_E_TABLE = -8,     /* table without columns or incomplete row */
	UJO_E_VALUE = -9,     /* bad value (C string without NUL, f16 overflow, ...) */
	UJO_E_STATE = -10,    /* API misuse (finish with open containers, ...) */
	UJO_E_TOOBIG = -11,   /* a length above UJO_MAX_BLOB */
};

const char *ujo_strerror(int err);
const char *ujo_type_name(int type); /* "int64", "map", ...; NULL if unknown */

/* Length of the fixed header "_UJO" 01 00 00. */
#define UJO_HEADER_LEN 7
extern const uint8_t ujo_header[UJO_HEADER_LEN];

struct ujo_datetime {
	int16_t year; /* date, timestamp */
	uint8_t month, day;
	uint8_t hour, minute, second; /* time, timestamp */
	uint16_t msec;                /* timestamp only */
};

/* float16 conversion exactly as libujo-c (truncating); returns
 * UJO_E_VALUE when the result would be Inf or NaN. */
int ujo_f32_to_f16(float f, uint16_t *out);
float ujo_f16_to_f32(uint16_t h);

/* ------------------------------------------------------------------ */
/* Growable byte buffer (shared by writer, frame and JSON code).       */

struct ujo_buf {
	uint8_t *data;
	size_t len, cap;
	int err; /* sticky: UJO_E_NOMEM once an allocation failed */
};

void ujo_buf_init(struct ujo_buf *b);
void ujo_buf_free(struct ujo_buf *b);
void ujo_buf_reset(struct ujo_buf *b);                 /* len = 0, keeps memory */
int ujo_buf_reserve(struct ujo_buf *b, size_t extra);   /* ensure cap >= len + extra */
int ujo_buf_put(struct ujo_buf *b, const void *p, size_t n);

/* ------------------------------------------------------------------ */
/* Writer                                                              */

struct ujo_wframe {
	uint8_t type;   /* UJO_LIST / UJO_MAP / UJO_TABLE */
	uint8_t phase;  /* map: 0 key next, 1 value next; table: 0 columns, 1 cells */
	uint32_t ncols; /* table: number of columns */
	uint64_t count; /* table: cells written */
};

struct ujo_writer {
	struct ujo_buf *b;
	int err;  /* sticky first error */
	int depth;
	bool closed; /* root container closed */
	struct ujo_wframe st[UJO_MAX_DEPTH];
};

/* Start a document in b (appends the header at b->len; b may already
 * hold bytes, e.g. a frame length prefix). */
void ujo_w_init(struct ujo_writer *w, struct ujo_buf *b);
/* Start writing values without a header (to build a raw value, e.g. a
 * payload kept for splicing with ujo_w_raw). The first value may then be
 * an atomic and ends the "document". */
void ujo_w_init_bare(struct ujo_writer *w, struct ujo_buf *b);
/* Returns the sticky error, or UJO_E_STATE if containers are still open. */
int ujo_w_finish(struct ujo_writer *w);

int ujo_w_none(struct ujo_writer *w);
int ujo_w_bool(struct ujo_writer *w, bool v);
int ujo_w_i8(struct ujo_writer *w, int8_t v);
int ujo_w_i16(struct ujo_writer *w, int16_t v);
int ujo_w_i32(struct ujo_writer *w, int32_t v);
int ujo_w_i64(struct ujo_writer *w, int64_t v);
int ujo_w_u8(struct ujo_writer *w, uint8_t v);
int ujo_w_u16(struct ujo_writer *w, uint16_t v);
int ujo_w_u32(struct ujo_writer *w, uint32_t v);
int ujo_w_u64(struct ujo_writer *w, uint64_t v);
int ujo_w_f16(struct ujo_writer *w, float v); /* libujo-c truncation; Inf/NaN → UJO_E_VALUE */
int ujo_w_f16_bits(struct ujo_writer *w, uint16_t bits);
int ujo_w_f32(struct ujo_writer *w, float v);
int ujo_w_f32_bits(struct ujo_writer *w, uint32_t bits);
int ujo_w_f64(struct ujo_writer *w, double v);
/* Strings: units as on the wire (see enum ujo_str_sub); data holds
 * units * unit_size bytes. For UJO_STR_C pass the text without NUL: the
 * writer cuts at the first NUL and appends one. */
int ujo_w_str(struct ujo_writer *w, int sub, const void *data, size_t units);
int ujo_w_utf8(struct ujo_writer *w, const char *s, size_t len);
int ujo_w_cstr(struct ujo_writer *w, const char *s); /* NUL-terminated C string */
int ujo_w_bin(struct ujo_writer *w, uint8_t sub, const void *data, size_t len);
int ujo_w_uxtime(struct ujo_writer *w, int64_t secs);
int ujo_w_date(struct ujo_writer *w, int16_t year, uint8_t month, uint8_t day);
int ujo_w_time(struct ujo_writer *w, uint8_t hour, uint8_t minute, uint8_t second);
int ujo_w_timestamp(struct ujo_writer *w, const struct ujo_datetime *t);
int ujo_w_list(struct ujo_writer *w);
int ujo_w_map(struct ujo_writer *w);
int ujo_w_table(struct ujo_writer *w);
int ujo_w_table_cells(struct ujo_writer *w); /* ends the column names */
int ujo_w_end(struct ujo_writer *w);         /* closes the innermost container */
/* Splice one complete, already validated value (as returned by
 * ujo_r_skip / ujo_node raw bytes). Its first byte decides placement. */
int ujo_w_raw(struct ujo_writer *w, const void *val, size_t len);

/* ------------------------------------------------------------------ */
/* Reader (pull parser)                                                */

struct ujo_value {
	uint8_t type;    /* enum ujo_type; UJO_END closes a container */
	uint8_t subtype; /* strings and binaries */
	union {
		bool b;
		int64_t i;  /* int8..int64, uxtime */
		uint64_t u; /* uint8..uint64 */
		double f;   /* float16/32/64 (converted exactly) */
		struct ujo_datetime dt;
	} v;
	uint16_t f16; /* raw bits of a float16 */
	uint32_t f32; /* raw bits of a float32 (NaN payloads survive a round trip) */
	/* strings/binaries: data (C strings without their NUL) */
	const uint8_t *data;
	size_t len;   /* bytes of data */
	size_t units; /* code units as on the wire (strings) */
	/* every value: where it starts in the buffer (its type byte) */
	const uint8_t *raw;
	bool is_key;    /* this value is a map key */
	bool is_column; /* this value is a table column name (the column
	                 * list's terminator is consumed silently) */
};

struct ujo_rframe {
	uint8_t type, phase; /* as struct ujo_wframe */
	uint32_t ncols;
	uint64_t count;
};

struct ujo_reader {
	const uint8_t *start, *p, *end;
	int err; /* sticky */
	int depth;
	bool bare;   /* no header: exactly one value */
	bool done;   /* root value complete */
	struct ujo_rframe st[UJO_MAX_DEPTH];
};

/* Open a document (checks the header). Returns 0 or an error. */
int ujo_r_init(struct ujo_reader *r, const void *buf, size_t len);
/* Open one bare value (no header), e.g. a payload taken with ujo_r_skip. */
int ujo_r_init_bare(struct ujo_reader *r, const void *buf, size_t len);
/* Next value. Returns 1 and fills v; returns 0 at the end of the
 * document (after the root closed and checking for trailing bytes);
 * returns a negative error. For a container, v->type is LIST/MAP/TABLE
 * and the following calls return its items, then UJO_END. */
int ujo_r_next(struct ujo_reader *r, struct ujo_value *v);
/* After ujo_r_next returned a container: consume the rest of it (fully
 * validated). For any value, sets *raw and *rawlen to its complete bytes
 * (type byte to terminator), ready for ujo_w_raw. */
int ujo_r_skip(struct ujo_reader *r, const struct ujo_value *v, const uint8_t **raw, size_t *rawlen);
/* Offset of the reader in the buffer (error positions). */
size_t ujo_r_offset(const struct ujo_reader *r);
/* Validate a whole document. */
int ujo_validate(const void *buf, size_t len, size_t *err_offset);

/* Accessors for decoded strings. */
bool ujo_value_is_str(const struct ujo_value *v, const char *s); /* UTF-8 or C string equal to s */

/* ------------------------------------------------------------------ */
/* Tree                                                                */

/* A chunked bump allocator: many small allocations freed at once (the
 * tree's nodes, the schema model). Memory is zeroed and aligned for any
 * type. Start with `struct ujo_arena *a = NULL`. */
struct ujo_arena;
void *ujo_arena_alloc(struct ujo_arena **a, size_t n);
void ujo_arena_free(struct ujo_arena *a);

struct ujo_node {
	uint8_t type, subtype;
	uint16_t f16;   /* raw float16 bits */
	uint32_t f32;   /* raw float32 bits */
	uint32_t ncols; /* table: columns (first ncols kids are column names) */
	size_t n;       /* containers: number of kids (maps: 2 * pairs) */
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double f;
		struct ujo_datetime dt;
		struct ujo_node *kids; /* containers: n nodes, maps alternate key, value */
	} v;
	const uint8_t *data; /* strings, binaries (not NUL-terminated) */
	size_t len, units;
};

struct ujo_tree {
	struct ujo_arena *arena;
	struct ujo_node *root;
};

/* Parse a document into a tree. The tree borrows buf (strings point
 * into it): keep buf alive while using the tree. */
int ujo_tree_parse(struct ujo_tree *t, const void *buf, size_t len, size_t *err_offset);
/* Parse one bare value (no header). */
int ujo_tree_parse_bare(struct ujo_tree *t, const void *buf, size_t len, size_t *err_offset);
void ujo_tree_free(struct ujo_tree *t);
/* Write a node (and its children) with the writer. */
int ujo_tree_write(struct ujo_writer *w, const struct ujo_node *n);
/* Map look-up by UTF-8 or C string key; NULL if absent or not a map. */
const struct ujo_node *ujo_map_get(const struct ujo_node *map, const char *key);

#endif
