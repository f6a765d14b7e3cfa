/* json.h — small cJSON helpers: YAML documents as cJSON trees, and typed
 * look-ups that never crash on a value of the wrong type.
 *
 * json_from_yaml turns one YAML document (libyaml) into a cJSON tree with
 * the YAML 1.2 core schema for plain scalars: ~ / null / empty → null,
 * true / false (also True, TRUE, ...) → bool, decimal, 0x and 0o integers
 * and decimal floats → number; quoted scalars are always strings, and
 * everything else (including .inf and .nan) is a string. It is strict:
 * a syntax error, a second document, a merge key "<<", a duplicate key
 * in a mapping, a non-scalar key, nesting deeper than JSON_YAML_MAX_DEPTH
 * or more than JSON_YAML_MAX_NODES nodes (aliases are expanded, so a
 * "billion laughs" document hits that cap) are errors
 * "name:line:column: problem" (1-based).
 *
 * Object look-ups (json_str, json_item) ignore key case, as titan's Go
 * services do when they read YAML and JSON (Name = name = NAME).
 */
#ifndef TITAN_JSON_H
#define TITAN_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "titan_limits.h"

/* Parse text[0..len) (need not be NUL-terminated). name is used in error
 * messages. An empty document gives a cJSON null. Returns NULL on error. */
cJSON *json_from_yaml(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* obj[key] (case-insensitive) when obj is an object; NULL otherwise. */
const cJSON *json_item(const cJSON *obj, const char *key);

/* obj[key] as text when it is a string; NULL when absent, null or not a
 * string. */
const char *json_str(const cJSON *obj, const char *key);

/* A scalar as text: a string as is, a number in its shortest exact form
 * (integers without ".0"), true/false; NULL for null, arrays and objects.
 * Uses buf (n bytes) for numbers and booleans. */
const char *json_scalar_text(const cJSON *it, char *buf, size_t n);

/* A number that is an integer in [min, max]; false otherwise. */
bool json_int(const cJSON *it, long long min, long long max, long long *out);

/* cJSON_PrintUnformatted, or NULL; the result is freed with free(). */
char *json_print(const cJSON *it);

#endif
