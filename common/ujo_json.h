/* ujo_json.h — conversion between JSON text and UJO.
 *
 * JSON → UJO is a small strict RFC 8259 parser that writes straight into
 * a struct ujo_writer. It is our own and not cJSON because a codec needs
 * what cJSON throws away: exact 64-bit integers and the difference
 * between 1 and 1.0. Strict means: no trailing commas, comments, NaN,
 * Infinity, leading zeros, control characters or invalid UTF-8 in
 * strings, lone surrogate escapes, duplicate keys in one object (a titanfe
 * map cannot hold two equal keys), or data after the value. Errors carry
 * a line and column (columns count characters, from 1).
 *
 * Default mapping, both ways:
 *     null ↔ none          true/false ↔ bool
 *     integer (no fraction, no exponent) ↔ int64 (outside int64: error)
 *     other number ↔ float64               string ↔ UTF-8 string
 *     array ↔ list          object ↔ map with UTF-8 string keys
 *
 * Every other UJO type is written as an annotated value: an object whose
 * FIRST key is "@type" (a later "@type" key is an ordinary key):
 *
 *     {"@type": "int8", "@value": 23}
 *     {"@type": "uint64", "@value": "18446744073709551615"}
 *     {"@type": "float16", "@value": 24.135}     (libujo-c truncation)
 *     {"@type": "float32", "@value": "nan"}      ("nan", "inf", "-inf")
 *     {"@type": "cstring", "@value": "Name"}     (also utf8/string, utf16, utf32)
 *     {"@type": "utf8", "@hex": "6869ff"}        (raw string data, for
 *                                                 data that is not valid text)
 *     {"@type": "binary", "@value": "010203", "@subtype": 1}
 *     {"@type": "uxtime", "@value": 0}
 *     {"@type": "date", "@value": "1971-08-23"}  (year may be negative)
 *     {"@type": "time", "@value": "23:45:12"}
 *     {"@type": "timestamp", "@value": "2013-07-24T16:12:40.340"}
 *     {"@type": "none"}                          (@value optional, null)
 *     {"@type": "list", "@value": [...]}
 *     {"@type": "map", "@value": [[key, value], ...]}   (any atomic keys,
 *                                                 themselves annotated)
 *     {"@type": "table", "@value": {"columns": [...], "rows": [[...], ...]}}
 *
 * Integer types take a JSON integer or a decimal string; float types a
 * number or "nan"/"inf"/"-inf". Dates are checked against the calendar.
 *
 * UJO → JSON has two modes:
 *  - plain (default): what a person or jq wants, lossy. Integers as
 *    integers, floats in the shortest form that reads back to the same
 *    value and always with '.' or 'e' (NaN and infinities as the strings
 *    "nan", "inf", "-inf"), dates and times as ISO strings, binary as a hex
 *    string, every string subtype as a JSON string with invalid data
 *    replaced by U+FFFD, map keys of any type rendered as strings, a table
 *    as an array of objects keyed by column name.
 *  - typed (UJO_JSON_TYPED): every non-default type annotated as above, so
 *    that parsing the output gives the input back byte for byte. A map is
 *    written in the [key, value] pair form when a key is not a valid UTF-8
 *    string or its first key is "@type". A string whose data is not valid
 *    text (invalid UTF-8, lone surrogates) uses "@hex". Limits: NaNs are
 *    normalised to the default quiet NaN (sign and payload are lost), a
 *    bool byte other than 00/01 (true, as titanfe reads it) comes back 01;
 *    dates, times and timestamps outside the calendar (month 13, msec
 *    1000, ...), which the wire can carry, print but do not parse back;
 *    maps with duplicate keys print but do not parse back.
 *
 * Numbers use strtod/strtof: the C locale (the default) is assumed.
 */
#ifndef TITAN_UJO_JSON_H
#define TITAN_UJO_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "ujo.h"

/* ujo_json_parse flags */
#define UJO_JSON_BARE 0x01u  /* any value at the top (writer from ujo_w_init_bare) */
#define UJO_JSON_MULTI 0x02u /* more values may follow: stop after one */

/* ujo_json_emit_* flags */
#define UJO_JSON_TYPED 0x10u  /* annotate non-default types (lossless) */
#define UJO_JSON_PRETTY 0x20u /* newlines and 2-space indentation */

/* Error codes beyond enum ujo_err. */
#define UJO_JSON_E_SYNTAX (-100) /* bad JSON; details in struct ujo_json_error */
#define UJO_JSON_E_IO (-101)     /* writing to the FILE failed (errno set) */

/* Deepest JSON nesting accepted: enough for UJO_MAX_DEPTH containers in
 * their most deeply nested annotated form, bounded to protect the stack. */
#define UJO_JSON_MAX_NEST (4 * UJO_MAX_DEPTH + 8)

struct ujo_json_error {
	size_t offset;         /* bytes from the start of the text */
	unsigned line, column; /* 1-based; the column counts characters */
	char msg[400];         /* what is wrong, without the position */
};

/* Parse one JSON value from text[*pos..len) and write it with w (a
 * document writer, or a bare one with UJO_JSON_BARE). Whitespace before
 * and after the value is skipped and *pos moves past it. Without
 * UJO_JSON_MULTI the value must be the last thing in the text.
 * Returns 1 when a value was written, 0 when only whitespace was left
 * (nothing written), UJO_JSON_E_SYNTAX with err filled for bad input
 * (including values the writer refuses), or UJO_E_NOMEM. The caller then
 * checks ujo_w_finish(w). Positions in err count from text, not *pos. */
int ujo_json_parse(const char *text, size_t len, size_t *pos, struct ujo_writer *w, unsigned flags,
		   struct ujo_json_error *err);

/* Write the next value of r as JSON (after ujo_r_init that is the whole
 * document; a container is converted with everything in it). No newline
 * is added. Returns 0, a negative ujo_err from the reader, UJO_E_NOMEM, or
 * UJO_JSON_E_IO. Validate first (ujo_validate) when partial output on bad
 * data matters: conversion stops at the first error. */
int ujo_json_emit_buf(struct ujo_reader *r, unsigned flags, struct ujo_buf *out);
int ujo_json_emit_file(struct ujo_reader *r, unsigned flags, FILE *f);

/* Message for any code returned above (falls back to ujo_strerror). */
const char *ujo_json_strerror(int err);

/* Helpers shared with tools that print UJO values their own way. */

/* Text of a scalar as plain JSON shows it, without quotes: "null",
 * "true", "-5", "3.14", "nan", "2013-07-24T16:12:40.340", ... Returns the
 * length, or 0 for strings, binaries and containers. size >= 48. */
size_t ujo_json_scalar_text(const struct ujo_value *v, char *buf, size_t size);

/* Append a string value of any subtype as UTF-8 to out, replacing data
 * that is not valid text by U+FFFD. Returns 1 if nothing was replaced,
 * 0 if something was, UJO_E_NOMEM. */
int ujo_json_str_to_utf8(const struct ujo_value *v, struct ujo_buf *out);

/* Append s (valid UTF-8) as a quoted JSON string literal. */
int ujo_json_put_string(struct ujo_buf *out, const char *s, size_t n);

#endif
