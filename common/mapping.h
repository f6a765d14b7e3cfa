/* mapping.h — titanfe's consumer-group transformation: buffers, mapping
 * rules and constants (../shared/reference/titanfe-protocol.md §10).
 *
 * Every consumer group (one Outbound[port][i] entry of the brick
 * definition, §6) turns the producer's result payload into the consumer's
 * input, per packet:
 *
 *   1. the NEW buffer: a map holding only the elements the group's buffer
 *      description names, in description order — an element with a source
 *      ["Type", f1, f2, ...] takes payload[f1][f2]... of the UN-mapped
 *      payload, one with an empty source is copied from the packet's
 *      incoming buffer (titanfe's new_buffer_from_result);
 *   2. the payload: start from the default value of the consumer's input
 *      type (ujoschema.h, from targetPort.schema / typeName; UJO none
 *      without a schema) and apply the rules in order. A rule takes a value
 *      from the payload, from the NEW buffer, or a constant, walks its
 *      source fields (map look-ups by UTF-8 key), and stores it at its
 *      target fields; a rule whose target has no field (["Type"] only)
 *      replaces the whole input and ends the rule list.
 *
 * Both rule formats are accepted, also mixed in one list:
 *   newest  {"type": "constant"|"buffer"|<other: payload>, "source_fields":
 *            [...], "target_fields": [...], "buffer_id": ..., "constant": {...}}
 *   older   [[origin, ...], [TargetType, ...]] with origin "_constant"
 *            ([_constant, type, value]), "_buffer" ([_buffer, id, Type,
 *            f1, ...]) or a type name ([Type, f1, ...]).
 * The first element of every field list is the type name and is skipped.
 * Missing intermediate target keys become new empty maps; so do keys
 * holding UJO none with the newest format (the older one keeps the none
 * and fails on it).
 *
 * Differences from titanfe, on purpose:
 *   - A group without rules and without schema passes the payload through
 *     unchanged (titanfe's group.py would send UJO none); with a schema and
 *     no rules the consumer gets the default value, as in titanfe.
 *   - Values are copied, never shared: titanfe assigns Python objects, so
 *     a rule writing into a map that an earlier rule took from the payload
 *     also changes the payload and the buffer seen by later rules and by
 *     other groups (§19 item 11). Here every group and every rule sees the
 *     payload as the brick returned it.
 *   - Start-up errors instead of crashes (§19 items 24, 25): a missing or
 *     malformed targetPort, schema, rule, constant or buffer description
 *     fails map_group_new() with a message. What titanfe only notices per
 *     packet (a constant that cannot convert, a buffer rule naming an
 *     element the description lacks) still fails per packet, as in
 *     titanfe, and is reported once by map_group_warning().
 *   - Map keys are compared typed, as ujotypes does: a field "a" matches
 *     the UTF-8 key "a" only (not a C-string "a"). When a map holds a key
 *     twice, the last one is read and replaced.
 *   - Integer constants given as JSON numbers of 2^53 or more are refused
 *     (cJSON keeps numbers as doubles, so the exact value is lost): give
 *     them as strings, e.g. "18446744073709551615".
 *   - Python's int()/float() of a string strip ASCII white space only and
 *     read ASCII digits only.
 *   - The output never nests deeper than UJO_MAX_DEPTH (our own reader
 *     would refuse it): such a packet fails with MAP_E_LIMIT.
 *
 * Thread-safety: a group is immutable after map_group_new(); map_apply()
 * may run on one group from several threads at once.
 */
#ifndef TITAN_MAPPING_H
#define TITAN_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ujo.h"

struct cJSON; /* <cJSON.h> (pkg-config libcjson); not included here, so
	       * that users of map_apply need no cJSON flags */

/* Error codes (negative returns of map_apply; map_group_new returns NULL). */
enum map_err {
	MAP_OK = 0,
	MAP_E_NOMEM = -1,   /* allocation failed */
	MAP_E_DESC = -2,    /* bad consumer description (map_group_new only) */
	MAP_E_SCHEMA = -3,  /* targetPort.schema / typeName unusable (map_group_new only) */
	MAP_E_INPUT = -4,   /* payload or incoming buffer is not valid UJO */
	MAP_E_KEY = -5,     /* a source key, buffer element or buffer id is missing (KeyError) */
	MAP_E_TYPE = -6,    /* a path walks into something that is not a map (TypeError) */
	MAP_E_CONST = -7,   /* a constant cannot be converted */
	MAP_E_LIMIT = -8,   /* result nests deeper than UJO_MAX_DEPTH */
};

const char *map_strerror(int code);

struct map_group;

/* Parse one consumer description ONCE, at start-up: the JSON object
 *   {"InstanceID": ..., "autoscale_queue_level": ...,   (not read here)
 *    "targetPort": {"schema": "<ujs text>", "typeName": "T"},
 *    "buffer": {"<id>": {"source": ["Type", f1, ...]}, ...},
 *    "mapping": [<rule>, ...]}
 * targetPort is required (an object); a falsy schema (absent, null, "")
 * means no target type (UJO none); "buffer" and "mapping" may be absent
 * or null (none). The schema is parsed and the default value built here;
 * constants are converted here. Returns NULL with a one-line message in
 * err (err may be NULL). */
struct map_group *map_group_new(const struct cJSON *consumer_description, char *err, size_t errlen);
void map_group_free(struct map_group *g);

/* Apply the group to one packet. payload is ONE BARE UJO value (no
 * header) as it sits in the packet; buffer is the packet's incoming
 * buffer, a bare UJO map, or NULL / 0 bytes for the empty buffer. On
 * success the consumer's payload is APPENDED to out_payload and the new
 * buffer map to out_buffer (both bare values), and 0 is returned. On
 * failure both keep their length, err holds one line naming the rule or
 * buffer element and the path (e.g. "rule 2: source key 'value' not found
 * in payload.temp", "buffer element 'cust': not in the incoming buffer")
 * and a negative map_err is returned: the caller drops the packet for this
 * group and logs the line. The payload and the incoming buffer are
 * validated as far as they are read (every map on a source path entirely),
 * so what is copied into the outputs is valid UJO; a payload that is only
 * passed through is copied without a look (see below). Cost: about 300 ns
 * for five rules on a 100-byte payload (bench/mapping); no allocation
 * unless the outputs must grow or the value is unusually large. */
int map_apply(const struct map_group *g, const uint8_t *payload, size_t payload_len,
	      const uint8_t *buffer, size_t buffer_len, struct ujo_buf *out_payload,
	      struct ujo_buf *out_buffer, char *err, size_t errlen);

/* No rules and no schema: map_apply copies the payload verbatim (not
 * decoded at all). */
bool map_group_payload_unchanged(const struct map_group *g);
/* payload unchanged AND no buffer description (the new buffer is always
 * the empty map, 31 00): the hot-path caller may skip map_apply entirely
 * and send the payload bytes as they are with an empty buffer. */
bool map_group_passthrough(const struct map_group *g);
/* NULL, or one line about a rule that will fail on every packet that
 * reaches it (a constant that cannot convert, a buffer id without buffer
 * element): worth logging at start-up. */
const char *map_group_warning(const struct map_group *g);
/* The default value the rules start from (bare UJO; 0f without schema). */
const uint8_t *map_group_target(const struct map_group *g, size_t *len);
size_t map_group_rule_count(const struct map_group *g);

#endif
