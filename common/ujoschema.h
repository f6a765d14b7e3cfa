/* ujoschema.h — the UJO Schema language (.ujs) and schema_to_type.
 *
 * A port of a titan brick describes its data type in UJO Schema text
 * (`targetPort.schema`, usually the brick's ports.ujs) and names one
 * definition of it (`targetPort.typeName`). titanfe builds the "empty"
 * value of that type with UJOSchema's schema_to_type() and lets the
 * mapping rules fill it in (mapping.h). This module does the same, byte
 * for byte as UJOSchema 0.3.66 (../shared/reference/ujoschema.md §6):
 *
 *   records  → list of the field values (an `extend`ed record: the base's
 *              values first);
 *   objects  → map with one entry per declared key, optional ones too;
 *   typedefs → the type's empty value, or the `not null default` value;
 *   numbers 0 / 0.0, strings "", bool false, timestamp 2000-01-01
 *   00:00:00.000, lists [] and maps {} (never pre-filled), variant,
 *   binary, date, time and datetime none.
 *
 * Use: parse once (ujs_parse, at start-up), then ujs_default() as often as
 * needed (or keep its bytes and copy them). Every quirk of §6 is
 * reproduced, the error cases included: they fail with the error code
 * named after the Python exception UJOSchema raises (ujs_strerror) and a
 * one-line message.
 *
 * Deliberate differences from the original (all accept more or fail
 * cleaner, never change a result):
 *   - `1..10` (no blank between a number and `..`) is accepted; lark
 *     rejects it (§1 "the 1..10 trap");
 *   - a leading UTF-8 byte order mark is skipped;
 *   - the text must be valid UTF-8 without NUL bytes;
 *   - a type that contains itself (`Node = [ next = Node ];`) fails with
 *     UJS_E_RECURSION at once instead of exhausting Python's stack;
 *   - integers out of range of the target type (`uint8 … default 300`)
 *     fail with UJS_E_VALUE (ujotypes' behaviour is unknown, §13);
 *   - a list or map type handed a default value still gives [] / {}
 *     (unknown in ujotypes, §13); as a map key type it matches nothing;
 *   - the limits of titan_limits.h ("ujo schema and mapping") bound the text,
 *     the nesting and the size of the default value (UJS_E_LIMIT).
 */
#ifndef TITAN_UJOSCHEMA_H
#define TITAN_UJOSCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "ujo.h"

/* Error codes (negative returns), named after the exception UJOSchema
 * raises in the same case (ujoschema.md §6.6). */
enum ujs_err {
	UJS_OK = 0,
	UJS_E_NOMEM = -1,     /* allocation failed */
	UJS_E_SYNTAX = -2,    /* lark error: the text does not parse */
	UJS_E_KEY = -3,       /* KeyError: typeName or a referenced name undefined */
	UJS_E_ATTRIBUTE = -4, /* AttributeError: module name as type, record extends a non-list, nested multi */
	UJS_E_TYPE = -5,      /* TypeError: default of the wrong kind, no usable object key type */
	UJS_E_VALUE = -6,     /* ValueError: slot of a multi of 1 or >= 3, no multi alternative fits, out of range */
	UJS_E_RECURSION = -7, /* RecursionError: a type contains itself */
	UJS_E_LIMIT = -8,     /* a limit of titan_limits.h was exceeded */
};

/* "SyntaxError", "KeyError", ... */
const char *ujs_strerror(int code);

struct ujs_schema; /* the parsed model (opaque, immutable after parsing) */

/* Parse schema text (len bytes, need not be NUL-terminated). On success
 * *out owns the model (free with ujs_free) and 0 is returned. On failure
 * a negative code is returned, *out is NULL and err holds one line, for
 * a syntax error "LINE:COLUMN: syntax error: ..." (1-based, columns in
 * characters). err may be NULL. */
int ujs_parse(struct ujs_schema **out, const char *text, size_t len, char *err, size_t errlen);
void ujs_free(struct ujs_schema *s);

/* Whether a definition of that exact (case-sensitive) name exists; the
 * module's name counts, as in UJOSchema. */
bool ujs_defined(const struct ujs_schema *s, const char *name);
/* Number of distinct names (definitions and the module). */
size_t ujs_count(const struct ujs_schema *s);

/* schema_to_type(schema, type_name): append the default value of the
 * named type to out as ONE BARE UJO value (no document header; use
 * ujo_r_init_bare / ujo_w_raw with it). Returns 0, or a negative code with
 * a one-line message in err (out->len is then unchanged). Thread-safe on
 * one schema (the model is not modified). */
int ujs_default(const struct ujs_schema *s, const char *type_name, struct ujo_buf *out,
		char *err, size_t errlen);

/* Parse and ujs_default in one call. */
int ujs_schema_to_type(const char *text, size_t len, const char *type_name, struct ujo_buf *out,
		       char *err, size_t errlen);

#endif
