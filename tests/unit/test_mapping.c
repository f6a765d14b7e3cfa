/* test_mapping.c — consumer-group buffers, mapping rules and constants
 * against every example of ../shared/reference/titanfe-protocol.md §10
 * (byte for byte), both rule formats, a constant of every type, the error
 * paths and hostile descriptions and payloads. */
#include "testutil.h"

#include <stdio.h>

#include <cJSON.h>

#include "mapping.h"

/* Bare UJO pieces in hex. */
#define U(hexlen, hexname) "04 01 " hexlen "000000 " hexname /* UTF-8 string */
#define I64(hex16) "05 " hex16

static struct map_group *group(const char *json, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(json);
	if (!j) fail_msg("test JSON does not parse: %s", json);
	struct map_group *g = map_group_new(j, err, errlen);
	cJSON_Delete(j);
	return g;
}

static struct map_group *group_ok(const char *json)
{
	char err[512] = "";
	struct map_group *g = group(json, err, sizeof err);
	if (!g) fail_msg("map_group_new: %s", err);
	return g;
}

static void group_bad(const char *json, const char *msg)
{
	char err[512] = "";
	struct map_group *g = group(json, err, sizeof err);
	if (g) fail_msg("map_group_new accepted %s", json);
	if (!strstr(err, msg)) fail_msg("message \"%s\" lacks \"%s\"", err, msg);
}

/* Apply with payload/buffer in hex; returns the code, outputs in pl/bf. */
static int apply_hex(const struct map_group *g, const char *payload_hex, const char *buffer_hex, struct ujo_buf *pl,
		     struct ujo_buf *bf, char *err, size_t errlen)
{
	size_t pn, bn = 0;
	uint8_t *p = tu_unhex(payload_hex, &pn), *b = buffer_hex ? tu_unhex(buffer_hex, &bn) : NULL;
	ujo_buf_reset(pl);
	ujo_buf_reset(bf);
	int rc = map_apply(g, p, pn, b, bn, pl, bf, err, errlen);
	free(p);
	free(b);
	return rc;
}

static void expect(const struct map_group *g, const char *payload_hex, const char *buffer_hex, const char *want_payload,
		   const char *want_buffer)
{
	struct ujo_buf pl, bf;
	char err[512] = "";
	ujo_buf_init(&pl);
	ujo_buf_init(&bf);
	int rc = apply_hex(g, payload_hex, buffer_hex, &pl, &bf, err, sizeof err);
	if (rc) fail_msg("map_apply: %d %s", rc, err);
	tu_assert_hex(pl.data, pl.len, want_payload);
	tu_assert_hex(bf.data, bf.len, want_buffer);
	ujo_buf_free(&pl);
	ujo_buf_free(&bf);
}

static void expect_fail(const struct map_group *g, const char *payload_hex, const char *buffer_hex, int code,
			const char *msg)
{
	struct ujo_buf pl, bf;
	char err[512] = "";
	ujo_buf_init(&pl);
	ujo_buf_init(&bf);
	int rc = apply_hex(g, payload_hex, buffer_hex, &pl, &bf, err, sizeof err);
	if (rc != code) fail_msg("map_apply: got %d (%s), want %d", rc, err, code);
	if (!strstr(err, msg)) fail_msg("message \"%s\" lacks \"%s\"", err, msg);
	assert_int_equal(pl.len, 0);
	assert_int_equal(bf.len, 0);
	ujo_buf_free(&pl);
	ujo_buf_free(&bf);
}

/* payload {"temp": {"value": 21.5}} */
#define TEMP_PAYLOAD "31 " U("04", "74656d70") " 31 " U("05", "76616c7565") " 01 0000000000803540 00 00"
#define F64_21_5 "01 0000000000803540"
#define EMPTY_MAP "31 00"

#define READING_SCHEMA "\"Reading = { \\\"celsius\\\" -> float64, \\\"source\\\" -> string };\""

/* §10.1: the Reading example. */
static void test_reading_example(void **state)
{
	(void)state;
	struct map_group *g = group_ok(
		"{\"InstanceID\": \"B-2\", \"autoscale_queue_level\": 25,"
		" \"targetPort\": {\"schema\": " READING_SCHEMA ", \"typeName\": \"Reading\"},"
		" \"buffer\": {},"
		" \"mapping\": ["
		"  {\"type\":\"port\",\"source_fields\":[\"Measurement\",\"temp\",\"value\"],"
		"   \"target_fields\":[\"Reading\",\"celsius\"],\"buffer_id\":null},"
		"  {\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"Reading\",\"source\"],\"buffer_id\":null,"
		"   \"constant\":{\"name\":\"source\",\"type\":\"string\",\"value\":\"sensor-1\"}}]}");
	assert_false(map_group_passthrough(g));
	assert_null(map_group_warning(g));
	assert_int_equal(map_group_rule_count(g), 2);
	size_t tl;
	const uint8_t *t = map_group_target(g, &tl);
	tu_assert_hex(t, tl, "31 " U("07", "63656c73697573") " 01 0000000000000000 " U("06", "736f75726365") " 04 01 00000000 00");
	expect(g, TEMP_PAYLOAD, NULL,
	       "31 " U("07", "63656c73697573") " " F64_21_5 " " U("06", "736f75726365") " " U("08", "73656e736f722d31") " 00",
	       EMPTY_MAP);
	/* the same group again: nothing of the first packet remains */
	expect(g, "31 " U("04", "74656d70") " 31 " U("05", "76616c7565") " 01 0000000000000440 00 00", NULL,
	       "31 " U("07", "63656c73697573") " 01 0000000000000440 " U("06", "736f75726365") " " U("08", "73656e736f722d31") " 00",
	       EMPTY_MAP);
	/* missing source key: the packet is dropped with a reason */
	expect_fail(g, "31 " U("04", "74656d70") " 31 00 00", NULL, MAP_E_KEY, "rule 1: source key 'value' not found in payload.temp");
	expect_fail(g, "31 00", NULL, MAP_E_KEY, "rule 1: source key 'temp' not found in payload");
	/* a path through something that is not a map */
	expect_fail(g, "31 " U("04", "74656d70") " 30 00 00", NULL, MAP_E_TYPE, "payload.temp is list, not a map");
	expect_fail(g, "05 0100000000000000", NULL, MAP_E_TYPE, "payload is int64, not a map");
	map_group_free(g);

	/* a single rule with target ["Reading"] passes the selected value as the whole input */
	g = group_ok("{\"targetPort\": {\"schema\": " READING_SCHEMA ", \"typeName\": \"Reading\"}, \"buffer\": {},"
		     " \"mapping\": [{\"type\":\"port\",\"source_fields\":[\"Measurement\",\"temp\"],"
		     " \"target_fields\":[\"Reading\"],\"buffer_id\":null}]}");
	expect(g, TEMP_PAYLOAD, NULL, "31 " U("05", "76616c7565") " " F64_21_5 " 00", EMPTY_MAP);
	map_group_free(g);
	/* ... and with no source field, the whole payload (validated) */
	g = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"x\",\"source_fields\":[\"M\"],"
		     " \"target_fields\":[\"R\"],\"buffer_id\":null}]}");
	expect(g, TEMP_PAYLOAD, NULL, TEMP_PAYLOAD, EMPTY_MAP);
	expect_fail(g, TEMP_PAYLOAD " 00", NULL, MAP_E_INPUT, "payload is not valid UJO");
	expect_fail(g, "31 04 01 ffffffff 61", NULL, MAP_E_INPUT, "payload is not valid UJO");
	map_group_free(g);
}

/* §10.3: the buffer example, and a rule reading the NEW buffer. */
static void test_buffer_example(void **state)
{
	(void)state;
	struct map_group *g = group_ok(
		"{\"targetPort\": {\"schema\": \"Input = { \\\"orderId\\\" -> int64, \\\"note\\\" -> string };\", \"typeName\": \"Input\"},"
		" \"buffer\": {\"lastId\": {\"source\": [\"Order\", \"id\"]}, \"cust\": {\"source\": []}},"
		" \"mapping\": [{\"type\":\"buffer\",\"buffer_id\":\"lastId\",\"source_fields\":[\"Order\"],"
		"   \"target_fields\":[\"Input\",\"orderId\"]}]}");
	/* payload {"id": 7, "x": "y"}, incoming buffer {"cust": "ACME", "old": 1} */
	const char *payload = "31 " U("02", "6964") " " I64("0700000000000000") " " U("01", "78") " " U("01", "79") " 00";
	const char *inbuf = "31 " U("04", "63757374") " " U("04", "41434d45") " " U("03", "6f6c64") " " I64("0100000000000000") " 00";
	expect(g, payload, inbuf,
	       "31 " U("07", "6f726465724964") " " I64("0700000000000000") " " U("04", "6e6f7465") " 04 01 00000000 00",
	       "31 " U("06", "6c6173744964") " " I64("0700000000000000") " " U("04", "63757374") " " U("04", "41434d45") " 00");
	/* the copied element must be in the incoming buffer */
	expect_fail(g, payload, NULL, MAP_E_KEY, "buffer element 'cust': not in the incoming buffer");
	expect_fail(g, payload, "31 " U("03", "6f6c64") " 0f 00", MAP_E_KEY, "buffer element 'cust'");
	expect_fail(g, payload, "30 00", MAP_E_INPUT, "the incoming buffer is list, not a map");
	expect_fail(g, payload, "31 " U("04", "63757374"), MAP_E_INPUT, "the incoming buffer is not valid UJO");
	/* the described source must be in the payload */
	expect_fail(g, "31 00", inbuf, MAP_E_KEY, "buffer element 'lastId': source key 'id' not found in payload");
	map_group_free(g);

	/* a buffer description without rules or schema: payload untouched, buffer made */
	g = group_ok("{\"targetPort\": {\"schema\": null}, \"buffer\": {\"b\": {\"source\": [\"T\", \"id\"]}, "
		     "\"b\": {\"source\": [\"T\"]}}, \"mapping\": []}");
	assert_true(map_group_payload_unchanged(g));
	assert_false(map_group_passthrough(g));
	expect(g, payload, NULL, payload, "31 " U("01", "62") " " "31 " U("02", "6964") " " I64("0700000000000000") " "
	       U("01", "78") " " U("01", "79") " 00 00");
	map_group_free(g);
}

struct cvec {
	const char *type, *value; /* value: JSON text */
	const char *hex;          /* expected, or NULL: fails per packet */
};

/* §10.2: a constant of every basic type, conversions as Python's int(),
 * float(), str.lower(). */
static void test_constants(void **state)
{
	(void)state;
	static const struct cvec v[] = {
		{"int8", "\"-5\"", "08 fb"},
		{"int8", "5", "08 05"},
		{"int8", "\" 42\\n\"", "08 2a"},
		{"int8", "true", "08 01"},
		{"int8", "-3.9", "08 fd"},
		{"int16", "\"300\"", "07 2c01"},
		{"int16", "\"-0\"", "07 0000"},
		{"int32", "\"-70000\"", "06 90eefeff"},
		{"int32", "\"1_000\"", "06 e8030000"},
		{"int32", "\"+007\"", "06 07000000"},
		{"int64", "\"9223372036854775807\"", "05 ffffffffffffff7f"},
		{"int64", "\"-9223372036854775808\"", "05 0000000000000080"},
		{"int64", "3.9", "05 0300000000000000"},
		{"uint8", "\"255\"", "0c ff"},
		{"uint16", "65535", "0b ffff"},
		{"uint32", "\"4294967295\"", "0a ffffffff"},
		{"uint64", "\"18446744073709551615\"", "09 ffffffffffffffff"},
		{"float16", "\"1.5\"", "03 003e"},
		{"float16", "3.14", "03 4742"},
		{"float32", "\"3.14\"", "02 c3f54840"},
		{"float32", "\"inf\"", "02 0000807f"},
		{"float32", "\"-Infinity\"", "02 000080ff"},
		{"float64", "\"2.5\"", "01 0000000000000440"},
		{"float64", "1", "01 000000000000f03f"},
		{"float64", "\" -1e3 \"", "01 0000000000408fc0"},
		{"float64", "\"1_0.5\"", "01 0000000000002540"},
		{"float64", "\".5\"", "01 000000000000e03f"},
		{"float64", "\"5.\"", "01 0000000000001440"},
		{"float64", "false", "01 0000000000000000"},
		{"string", "\"hello\"", "04 01 05000000 68656c6c6f"},
		{"string", "\"\"", "04 01 00000000"},
		{"string", "\"\\u00e9\"", "04 01 02000000 c3a9"},
		{"cstring", "\"hi\"", "04 00 03000000 686900"},
		{"bool", "\"true\"", "0d 01"},
		{"bool", "\"False\"", "0d 00"},
		{"bool", "\"TRUE\"", "0d 01"},
		{"bool", "\"yes\"", "0d 00"},
		{"bool", "\" true\"", "0d 00"},
		/* failures, per packet as in titanfe */
		{"int8", "\"300\"", NULL},
		{"int8", "\"-129\"", NULL},
		{"uint8", "\"-1\"", NULL},
		{"uint64", "\"18446744073709551616\"", NULL},
		{"int8", "\"abc\"", NULL},
		{"int8", "\"4.5\"", NULL},
		{"int8", "\"1__0\"", NULL},
		{"int8", "\"_1\"", NULL},
		{"int8", "\"\"", NULL},
		{"int8", "null", NULL},
		{"int8", "[1]", NULL},
		{"int64", "9007199254740993", NULL},
		{"float32", "\"abc\"", NULL},
		{"float32", "\"0x10\"", NULL},
		{"float32", "\"nan(1)\"", NULL},
		{"float32", "\"1e\"", NULL},
		{"float32", "{}", NULL},
		{"float16", "\"1e6\"", NULL},
		{"float16", "\"nan\"", NULL},
		{"string", "5", NULL},
		{"string", "null", NULL},
		{"cstring", "true", NULL},
		{"bool", "true", NULL},
		{"bool", "1", NULL},
		{"int128", "\"1\"", NULL},
		{"decimal", "\"1\"", NULL},
		{"object", "{}", NULL}, /* older format only: get_ujo_value knows no object */
	};
	char json[512];
	for (int fmt = 0; fmt < 2; fmt++) {
		for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
			if (fmt == 0 && strcmp(v[i].type, "object") == 0) continue;
			if (fmt == 0)
				snprintf(json, sizeof json,
					 "{\"targetPort\": {}, \"mapping\": [{\"type\":\"constant\",\"source_fields\":[],"
					 "\"target_fields\":[\"T\"],\"buffer_id\":null,"
					 "\"constant\":{\"name\":\"c\",\"type\":\"%s\",\"value\":%s}}]}",
					 v[i].type, v[i].value);
			else
				snprintf(json, sizeof json,
					 "{\"targetPort\": {}, \"mapping\": [[[\"_constant\", \"%s\", %s], [\"T\"]]]}",
					 v[i].type, v[i].value);
			struct map_group *g = group_ok(json);
			if (v[i].hex) {
				if (map_group_warning(g)) fail_msg("case %zu: warning %s", i, map_group_warning(g));
				expect(g, "0f", NULL, v[i].hex, EMPTY_MAP);
			} else {
				const char *w = map_group_warning(g);
				if (!w || !strstr(w, "mapping rule 1 fails on every packet"))
					fail_msg("case %zu (%s %s): warning %s", i, v[i].type, v[i].value, w ? w : "none");
				expect_fail(g, "0f", NULL, MAP_E_CONST, "rule 1: constant: ");
			}
			map_group_free(g);
		}
	}
}

/* §10.2: object and record constants with elements. */
static void test_constant_containers(void **state)
{
	(void)state;
	struct map_group *g = group_ok(
		"{\"targetPort\": {\"schema\": \"T = { \\\"c\\\" -> variant, \\\"n\\\" -> int8 };\", \"typeName\": \"T\"},"
		" \"mapping\": [{\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"T\",\"c\"],\"buffer_id\":null,"
		"  \"constant\": {\"name\":\"c\",\"type\":\"object\",\"value\":null,\"elements\":["
		"   {\"name\":\"a\",\"type\":\"int8\",\"value\":\"1\"},"
		"   {\"name\":\"b\",\"type\":\"record\",\"value\":null,\"elements\":["
		"     {\"name\":\"x\",\"type\":\"string\",\"value\":\"s\"},"
		"     {\"name\":\"ignored\",\"type\":\"bool\",\"value\":\"true\"},"
		"     {\"name\":\"e\",\"type\":\"object\",\"value\":0,\"elements\":[]}]},"
		"   {\"name\":\"a\",\"type\":\"int16\",\"value\":\"2\"}]}}]}");
	/* "a" repeated: the later value in the first place */
	expect(g, "0f", NULL,
	       "31 " U("01", "63") " 31 " U("01", "61") " 07 0200 " U("01", "62") " 30 " U("01", "73") " 0d 01 31 00 00 00 "
	       U("01", "6e") " 08 00 00",
	       EMPTY_MAP);
	map_group_free(g);
	/* an element that cannot convert fails the rule per packet */
	g = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"T\"],"
		     "\"buffer_id\":null,\"constant\":{\"name\":\"c\",\"type\":\"record\",\"value\":null,\"elements\":["
		     "{\"name\":\"x\",\"type\":\"int8\",\"value\":\"x\"}]}}]}");
	assert_non_null(map_group_warning(g));
	expect_fail(g, "0f", NULL, MAP_E_CONST, "invalid literal for int() with base 10: 'x'");
	map_group_free(g);
	g = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"T\"],"
		     "\"buffer_id\":null,\"constant\":{\"name\":\"c\",\"type\":\"object\",\"value\":null,\"elements\":["
		     "{\"name\":5,\"type\":\"int8\",\"value\":\"1\"}]}}]}");
	expect_fail(g, "0f", NULL, MAP_E_CONST, "element name is a number");
	map_group_free(g);
	/* structure errors at start-up (titanfe raises them while building the group) */
	static const char *const bad[][2] = {
		{"{\"name\":\"c\",\"type\":\"object\",\"value\":null}", "object constant has no \"elements\""},
		{"{\"name\":\"c\",\"type\":\"record\",\"value\":null,\"elements\":\"ab\"}", "not a list"},
		{"{\"name\":\"c\",\"type\":\"record\",\"value\":null,\"elements\":[5]}", "constant is a number, not an object"},
		{"{\"name\":\"c\",\"type\":\"int8\"}", "constant has no \"value\""},
		{"{\"type\":\"int8\",\"value\":1}", "constant has no \"name\""},
		{"{\"name\":\"c\",\"value\":1}", "constant has no \"type\""},
		{"[1]", "constant is a list, not an object"},
	};
	char json[8192];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(json, sizeof json,
			 "{\"targetPort\": {}, \"mapping\": [{\"type\":\"constant\",\"source_fields\":[],"
			 "\"target_fields\":[\"T\"],\"buffer_id\":null,\"constant\":%s}]}",
			 bad[i][0]);
		group_bad(json, bad[i][1]);
	}
	/* constants nested too deep */
	size_t o = 0;
	o += (size_t)snprintf(json + o, sizeof json - o, "{\"targetPort\": {}, \"mapping\": [{\"type\":\"constant\","
				      "\"source_fields\":[],\"target_fields\":[\"T\"],\"buffer_id\":null,\"constant\":");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(json + o, sizeof json - o, "{\"name\":\"c\",\"type\":\"record\",\"value\":0,\"elements\":[");
	o += (size_t)snprintf(json + o, sizeof json - o, "{\"name\":\"c\",\"type\":\"int8\",\"value\":0}");
	for (int i = 0; i < 40; i++) o += (size_t)snprintf(json + o, sizeof json - o, "]}");
	snprintf(json + o, sizeof json - o, "}]}");
	group_bad(json, "constants nested deeper than");
}

/* §10.4: the older list rule format (also mixed with the newest). */
static void test_older_format(void **state)
{
	(void)state;
	struct map_group *g = group_ok(
		"{\"targetPort\": {\"schema\": " READING_SCHEMA ", \"typeName\": \"Reading\"},"
		" \"buffer\": {\"lastId\": {\"source\": [\"M\", \"temp\"]}},"
		" \"mapping\": ["
		"  [[\"Measurement\", \"temp\", \"value\"], [\"Reading\", \"celsius\"]],"
		"  [[\"_constant\", \"string\", \"sensor-1\"], [\"Reading\", \"source\"]],"
		"  [[\"_buffer\", \"lastId\", \"M\", \"value\"], [\"Reading\", \"again\"]],"
		"  {\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"Reading\",\"n\"],\"buffer_id\":null,"
		"   \"constant\":{\"name\":\"n\",\"type\":\"uint8\",\"value\":\"9\"}}]}");
	expect(g, TEMP_PAYLOAD, NULL,
	       "31 " U("07", "63656c73697573") " " F64_21_5 " " U("06", "736f75726365") " " U("08", "73656e736f722d31") " "
	       U("05", "616761696e") " " F64_21_5 " " U("01", "6e") " 0c 09 00",
	       "31 " U("06", "6c6173744964") " 31 " U("05", "76616c7565") " " F64_21_5 " 00 00");
	map_group_free(g);

	/* None on the target path: replaced by a new map (newest), kept and failing (older) */
	const char *schema = "\"targetPort\": {\"schema\": \"T = { \\\"a\\\" -> variant, \\\"b\\\" -> int8 };\", \"typeName\": \"T\"}";
	char json[1024];
	snprintf(json, sizeof json, "{%s, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\"],"
		 "\"target_fields\":[\"T\",\"a\",\"x\"],\"buffer_id\":null}]}", schema);
	g = group_ok(json);
	expect(g, "08 07", NULL, "31 " U("01", "61") " 31 " U("01", "78") " 08 07 00 " U("01", "62") " 08 00 00", EMPTY_MAP);
	map_group_free(g);
	snprintf(json, sizeof json, "{%s, \"mapping\": [[[\"S\"], [\"T\", \"a\", \"x\"]]]}", schema);
	g = group_ok(json);
	expect_fail(g, "08 07", NULL, MAP_E_TYPE, "rule 1: target a is none, not a map (setting 'x')");
	map_group_free(g);
	/* missing intermediate keys are created by both formats, appended at the end */
	snprintf(json, sizeof json, "{%s, \"mapping\": [[[\"S\"], [\"T\", \"x\", \"y\", \"z\"]]]}", schema);
	g = group_ok(json);
	expect(g, "08 07", NULL,
	       "31 " U("01", "61") " 0f " U("01", "62") " 08 00 " U("01", "78") " 31 " U("01", "79") " 31 " U("01", "7a")
	       " 08 07 00 00 00",
	       EMPTY_MAP);
	map_group_free(g);
	/* older-format shape errors */
	group_bad("{\"targetPort\": {}, \"mapping\": [[[\"_constant\", \"int8\"], [\"T\"]]]}", "[\"_constant\", type, value]");
	group_bad("{\"targetPort\": {}, \"mapping\": [[[\"_buffer\"], [\"T\"]]]}", "[\"_buffer\", id, Type, ...]");
	group_bad("{\"targetPort\": {}, \"mapping\": [[[\"S\"]]]}", "[[origin, ...], [TargetType, ...]]");
	group_bad("{\"targetPort\": {}, \"mapping\": [[[], [\"T\"]]]}", "[[origin, ...], [TargetType, ...]]");
	group_bad("{\"targetPort\": {}, \"mapping\": [[[\"S\", 5], [\"T\"]]]}", "mapping rule 1: source[1] is a number, not a string");
	group_bad("{\"targetPort\": {}, \"mapping\": [[[\"S\"], [\"T\", null]]]}", "mapping rule 1: target[1] is null, not a string");
}

/* Target handling: whole replacement, key order, values copied. */
static void test_targets(void **state)
{
	(void)state;
	const char *tp = "\"targetPort\": {\"schema\": \"T = { \\\"a\\\" -> int8, \\\"m\\\" -> <string -> int8>, "
			 "\\\"r\\\" -> R }; R = [ x = int8 ];\", \"typeName\": \"T\"}";
	char json[2048];
	/* payload {"k": 1, "m": {"z": 2}} */
	const char *payload = "31 " U("01", "6b") " 08 01 " U("01", "6d") " 31 " U("01", "7a") " 08 02 00 00";

	/* the whole target: the rule list ends there (a failing rule after it is never reached) */
	snprintf(json, sizeof json, "{%s, \"mapping\": ["
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"k\"],\"target_fields\":[\"T\",\"a\"],\"buffer_id\":null},"
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"m\"],\"target_fields\":[\"T\"],\"buffer_id\":null},"
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"missing\"],\"target_fields\":[\"T\",\"a\"],\"buffer_id\":null},"
		 "{\"type\":\"buffer\",\"source_fields\":[],\"target_fields\":[\"T\",\"a\"],\"buffer_id\":\"nope\"}]}", tp);
	struct map_group *g = group_ok(json);
	assert_non_null(strstr(map_group_warning(g), "mapping rule 4 fails on every packet"));
	expect(g, payload, NULL, "31 " U("01", "7a") " 08 02 00", EMPTY_MAP);
	map_group_free(g);
	/* an empty target_fields list is the whole target too */
	g = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[],\"target_fields\":[],\"buffer_id\":0}]}");
	expect(g, payload, NULL, payload, EMPTY_MAP);
	map_group_free(g);

	/* an existing key keeps its place, a new one is appended; a map from
	 * the payload is copied, so writing into it changes neither the payload
	 * seen by later rules nor another group */
	snprintf(json, sizeof json, "{%s, \"mapping\": ["
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"m\"],\"target_fields\":[\"T\",\"new\"],\"buffer_id\":null},"
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"k\"],\"target_fields\":[\"T\",\"new\",\"k\"],\"buffer_id\":null},"
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"k\"],\"target_fields\":[\"T\",\"new\",\"z\"],\"buffer_id\":null},"
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"m\"],\"target_fields\":[\"T\",\"m\"],\"buffer_id\":null},"
		 "{\"type\":\"p\",\"source_fields\":[\"S\",\"k\"],\"target_fields\":[\"T\",\"a\"],\"buffer_id\":null}]}", tp);
	g = group_ok(json);
	expect(g, payload, NULL,
	       "31 " U("01", "61") " 08 01 " U("01", "6d") " 31 " U("01", "7a") " 08 02 00 " U("01", "72") " 30 08 00 00 "
	       U("03", "6e6577") " 31 " U("01", "7a") " 08 01 " U("01", "6b") " 08 01 00 00",
	       EMPTY_MAP);
	map_group_free(g);

	/* walking into a record (a list) or a scalar of the target fails */
	snprintf(json, sizeof json, "{%s, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\",\"k\"],"
		 "\"target_fields\":[\"T\",\"r\",\"x\"],\"buffer_id\":null}]}", tp);
	g = group_ok(json);
	expect_fail(g, payload, NULL, MAP_E_TYPE, "rule 1: target r is list, not a map (setting 'x')");
	map_group_free(g);
	snprintf(json, sizeof json, "{%s, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\",\"k\"],"
		 "\"target_fields\":[\"T\",\"a\",\"x\"],\"buffer_id\":null}]}", tp);
	g = group_ok(json);
	expect_fail(g, payload, NULL, MAP_E_TYPE, "rule 1: target a is int8, not a map");
	map_group_free(g);
	/* a record target cannot be addressed by name */
	g = group_ok("{\"targetPort\": {\"schema\": \"R = [ x = int8 ];\", \"typeName\": \"R\"}, \"mapping\": ["
		     "{\"type\":\"p\",\"source_fields\":[\"S\"],\"target_fields\":[\"R\",\"x\"],\"buffer_id\":null}]}");
	expect_fail(g, payload, NULL, MAP_E_TYPE, "rule 1: target value is list, not a map");
	map_group_free(g);
	/* no schema: the target is none */
	g = group_ok("{\"targetPort\": {\"schema\": \"\"}, \"mapping\": ["
		     "{\"type\":\"p\",\"source_fields\":[\"S\"],\"target_fields\":[\"R\",\"x\"],\"buffer_id\":null}]}");
	expect_fail(g, payload, NULL, MAP_E_TYPE, "the target is none (no targetPort.schema), cannot set 'x'");
	map_group_free(g);
	/* a schema without rules: the default value, whatever the payload */
	g = group_ok("{\"targetPort\": {\"schema\": \"R = [ x = int8 ];\", \"typeName\": \"R\"}}");
	assert_false(map_group_payload_unchanged(g));
	expect(g, payload, NULL, "30 08 00 00", EMPTY_MAP);
	map_group_free(g);
}

/* Look-ups: typed keys, the last of repeated keys. */
static void test_keys(void **state)
{
	(void)state;
	struct map_group *g = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\",\"a\"],"
				       "\"target_fields\":[\"T\"],\"buffer_id\":null}]}");
	/* a C-string key "a" is not the UTF-8 key "a" */
	expect_fail(g, "31 04 00 02000000 6100 08 01 00", NULL, MAP_E_KEY, "source key 'a' not found");
	/* nor are other types */
	expect_fail(g, "31 08 61 08 01 00", NULL, MAP_E_KEY, "source key 'a' not found");
	/* repeated key: the last one */
	expect(g, "31 " U("01", "61") " 08 01 " U("01", "62") " 08 02 " U("01", "61") " 08 03 00", NULL, "08 03", EMPTY_MAP);
	/* keys with UTF-8 and odd bytes */
	map_group_free(g);
	g = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\",\"\\u00e9\",\"\"],"
		     "\"target_fields\":[\"T\"],\"buffer_id\":null}]}");
	expect(g, "31 " U("02", "c3a9") " 31 04 01 00000000 0f 00 00", NULL, "0f", EMPTY_MAP);
	map_group_free(g);
}

/* No rules, no schema: the payload is copied without a look. */
static void test_passthrough(void **state)
{
	(void)state;
	static const char *const descs[] = {
		"{\"InstanceID\": \"B-2\", \"targetPort\": {\"schema\": null, \"typeName\": null}, \"buffer\": {}, \"mapping\": []}",
		"{\"targetPort\": {}}",
		"{\"targetPort\": {\"schema\": \"\"}, \"buffer\": null, \"mapping\": null}",
	};
	for (size_t i = 0; i < 3; i++) {
		struct map_group *g = group_ok(descs[i]);
		assert_true(map_group_passthrough(g));
		assert_true(map_group_payload_unchanged(g));
		size_t tl;
		const uint8_t *t = map_group_target(g, &tl);
		tu_assert_hex(t, tl, "0f");
		/* not even decoded: garbage goes through as it is */
		expect(g, "ff ee dd", "31", "ff ee dd", EMPTY_MAP);
		expect(g, TEMP_PAYLOAD, "31 00", TEMP_PAYLOAD, EMPTY_MAP);
		/* outputs are appended to what the buffers hold */
		struct ujo_buf pl, bf;
		ujo_buf_init(&pl);
		ujo_buf_init(&bf);
		ujo_buf_put(&pl, "AB", 2);
		uint8_t one = 0x0f;
		assert_int_equal(map_apply(g, &one, 1, NULL, 0, &pl, &bf, NULL, 0), 0);
		tu_assert_hex(pl.data, pl.len, "4142 0f");
		/* an empty payload is refused */
		char err[128];
		assert_int_equal(map_apply(g, &one, 0, NULL, 0, &pl, &bf, err, sizeof err), MAP_E_INPUT);
		assert_int_equal(pl.len, 3);
		assert_int_equal(bf.len, 2);
		ujo_buf_free(&pl);
		ujo_buf_free(&bf);
		map_group_free(g);
	}
}

/* Start-up errors: clear messages, never a crash (§19 items 24, 25). */
static void test_bad_descriptions(void **state)
{
	(void)state;
	group_bad("[]", "consumer description is a list, not an object");
	group_bad("{}", "consumer description has no \"targetPort\"");
	group_bad("{\"targetPort\": null}", "\"targetPort\" is null, not an object");
	group_bad("{\"targetPort\": \"x\"}", "\"targetPort\" is a string, not an object");
	group_bad("{\"targetPort\": {\"schema\": 5, \"typeName\": \"T\"}}", "targetPort.schema is a number, not a string");
	group_bad("{\"targetPort\": {\"schema\": \"T = int8;\"}}", "targetPort has a schema but no typeName");
	group_bad("{\"targetPort\": {\"schema\": \"T = int8;\", \"typeName\": 5}}", "its typeName is not a string");
	group_bad("{\"targetPort\": {\"schema\": \"T = int8\", \"typeName\": \"T\"}}",
		  "targetPort.schema: 1:9: syntax error: expected ';', found end of text");
	group_bad("{\"targetPort\": {\"schema\": \"T = int8;\", \"typeName\": \"U\"}}", "targetPort.typeName 'U': KeyError: 'U'");
	group_bad("{\"targetPort\": {\"schema\": \"N = [ n = N ];\", \"typeName\": \"N\"}}", "RecursionError");
	group_bad("{\"targetPort\": {\"schema\": \"B = bool : not null default 1;\", \"typeName\": \"B\"}}", "TypeError");
	group_bad("{\"targetPort\": {}, \"mapping\": {}}", "\"mapping\" is an object, not a list");
	group_bad("{\"targetPort\": {}, \"mapping\": [5]}", "mapping rule 1 is a number, not an object or a list");
	group_bad("{\"targetPort\": {}, \"mapping\": [\"x\"]}", "mapping rule 1 is a string");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"source_fields\":[],\"target_fields\":[],\"buffer_id\":null}]}",
		  "mapping rule 1 has no \"type\"");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"target_fields\":[],\"buffer_id\":null}]}",
		  "mapping rule 1 has no \"source_fields\"");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[],\"buffer_id\":null}]}",
		  "mapping rule 1 has no \"target_fields\"");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[],\"target_fields\":[]}]}",
		  "mapping rule 1 has no \"buffer_id\"");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":5,\"source_fields\":[],\"target_fields\":[],\"buffer_id\":null}]}",
		  "\"type\" is a number, not a string");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":\"ab\",\"target_fields\":[],\"buffer_id\":null}]}",
		  "\"source_fields\" is a string, not a list");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[],\"target_fields\":{},\"buffer_id\":null}]}",
		  "\"target_fields\" is an object, not a list");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\",1],\"target_fields\":[],\"buffer_id\":null}]}",
		  "mapping rule 1: source_fields[1] is a number, not a string");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[],\"target_fields\":[\"T\",[]],\"buffer_id\":null}]}",
		  "mapping rule 1: target_fields[1] is a list, not a string");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"buffer\",\"source_fields\":[],\"target_fields\":[],\"buffer_id\":null}]}",
		  "mapping rule 1: buffer_id is null, not a string");
	group_bad("{\"targetPort\": {}, \"mapping\": [{\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[],\"buffer_id\":null}]}",
		  "a constant rule has no \"constant\"");
	group_bad("{\"targetPort\": {}, \"buffer\": []}", "\"buffer\" is a list, not an object");
	group_bad("{\"targetPort\": {}, \"buffer\": {\"a\": 5}}", "buffer element 'a' is a number, not an object");
	group_bad("{\"targetPort\": {}, \"buffer\": {\"a\": {}}}", "buffer element 'a' has no \"source\"");
	group_bad("{\"targetPort\": {}, \"buffer\": {\"a\": {\"source\": \"ab\"}}}", "buffer element 'a' source is a string, not a list");
	group_bad("{\"targetPort\": {}, \"buffer\": {\"a\": {\"source\": [\"T\", 5]}}}", "buffer element 'a' source[1] is a number");
	group_bad("{\"targetPort\": {}, \"buffer\": {\"a\\nb\": 1}}", "buffer element 'a?b' is a number"); /* one line */
	/* a second rule's error names the rule */
	group_bad("{\"targetPort\": {}, \"mapping\": [[[\"S\"], [\"T\"]], {\"type\":\"p\"}]}", "mapping rule 2 has no");
	/* paths longer than MAP_MAX_PATH */
	char json[4096];
	size_t o = (size_t)snprintf(json, sizeof json, "{\"targetPort\": {}, \"mapping\": [[[\"S\"], [\"T\"");
	for (unsigned i = 0; i < MAP_MAX_PATH + 1; i++) o += (size_t)snprintf(json + o, sizeof json - o, ",\"f\"");
	snprintf(json + o, sizeof json - o, "]]]}");
	group_bad(json, "has more than");
	/* err may be NULL */
	cJSON *j = cJSON_Parse("{}");
	assert_null(map_group_new(j, NULL, 0));
	assert_null(map_group_new(NULL, NULL, 0));
	cJSON_Delete(j);
	map_group_free(NULL);
}

/* Depth: the consumer's value never nests deeper than UJO_MAX_DEPTH. */
static void test_depth_limit(void **state)
{
	(void)state;
	char json[2048];
	/* payload {"d": [[[...60...]]]} */
	char hex[1024];
	size_t o = (size_t)snprintf(hex, sizeof hex, "31 " U("01", "64") " ");
	for (int i = 0; i < 60; i++) o += (size_t)snprintf(hex + o, sizeof hex - o, "30 ");
	for (int i = 0; i < 60; i++) o += (size_t)snprintf(hex + o, sizeof hex - o, "00 ");
	snprintf(hex + o, sizeof hex - o, "00");
	o = (size_t)snprintf(json, sizeof json, "{\"targetPort\": {\"schema\": \"T = { \\\"a\\\" -> int8 };\", \"typeName\": \"T\"},"
			     " \"mapping\": [[[\"S\", \"d\"], [\"T\"");
	for (int i = 0; i < 4; i++) o += (size_t)snprintf(json + o, sizeof json - o, ", \"f\"");
	snprintf(json + o, sizeof json - o, "]]]}");
	struct map_group *g = group_ok(json); /* 4 + 60 = 64: fine */
	struct ujo_buf pl, bf;
	char err[256];
	ujo_buf_init(&pl);
	ujo_buf_init(&bf);
	assert_int_equal(apply_hex(g, hex, NULL, &pl, &bf, err, sizeof err), 0);
	struct ujo_reader r;
	struct ujo_value v;
	int x;
	ujo_r_init_bare(&r, pl.data, pl.len);
	while ((x = ujo_r_next(&r, &v)) == 1) {}
	assert_int_equal(x, 0);
	map_group_free(g);
	snprintf(json + o, sizeof json - o, ", \"g\"]]]}"); /* 5 + 60 */
	g = group_ok(json);
	expect_fail(g, hex, NULL, MAP_E_LIMIT, "would nest deeper than 64");
	map_group_free(g);
	/* the buffer too: 1 + depth (a whole payload 64 deep) */
	o = 0;
	for (int i = 0; i < 64; i++) o += (size_t)snprintf(hex + o, sizeof hex - o, "30 ");
	for (int i = 0; i < 64; i++) o += (size_t)snprintf(hex + o, sizeof hex - o, "00 ");
	g = group_ok("{\"targetPort\": {}, \"buffer\": {\"b\": {\"source\": [\"S\"]}}}");
	expect_fail(g, hex, NULL, MAP_E_LIMIT, "buffer element 'b': the value nests deeper than 64");
	map_group_free(g);
	ujo_buf_free(&pl);
	ujo_buf_free(&bf);
}

static bool valid_bare(const uint8_t *p, size_t n)
{
	struct ujo_reader r;
	struct ujo_value v;
	int x;
	ujo_r_init_bare(&r, p, n);
	while ((x = ujo_r_next(&r, &v)) == 1) {}
	return x == 0;
}

/* Hostile payloads and buffers: random and mutated bytes give a clean
 * error or valid output, never a crash. */
static void test_garbage(void **state)
{
	(void)state;
	struct map_group *g = group_ok(
		"{\"targetPort\": {\"schema\": " READING_SCHEMA ", \"typeName\": \"Reading\"},"
		" \"buffer\": {\"b\": {\"source\": [\"M\", \"temp\"]}, \"c\": {\"source\": []}},"
		" \"mapping\": ["
		"  {\"type\":\"p\",\"source_fields\":[\"M\",\"temp\",\"value\"],\"target_fields\":[\"R\",\"celsius\"],\"buffer_id\":null},"
		"  {\"type\":\"buffer\",\"source_fields\":[\"M\",\"value\"],\"target_fields\":[\"R\",\"x\",\"y\"],\"buffer_id\":\"b\"},"
		"  {\"type\":\"buffer\",\"source_fields\":[],\"target_fields\":[\"R\",\"c\"],\"buffer_id\":\"c\"},"
		"  {\"type\":\"p\",\"source_fields\":[\"M\"],\"target_fields\":[\"R\",\"all\"],\"buffer_id\":null}]}");
	size_t pn, bn;
	uint8_t *base = tu_unhex(TEMP_PAYLOAD, &pn);
	uint8_t *bbase = tu_unhex("31 " U("01", "63") " 31 " U("01", "61") " 0f 00 00", &bn);
	uint8_t p[256], b[256];
	struct ujo_buf pl, bf;
	char err[512];
	ujo_buf_init(&pl);
	ujo_buf_init(&bf);
	/* the valid input works */
	assert_int_equal(map_apply(g, base, pn, bbase, bn, &pl, &bf, err, sizeof err), 0);
	srand(4242);
	int ok = 0, failed = 0;
	for (int iter = 0; iter < 50000; iter++) {
		size_t n = pn, m = bn;
		memcpy(p, base, pn);
		memcpy(b, bbase, bn);
		if (iter % 5 == 0) { /* pure random bytes */
			n = (size_t)rand() % 64;
			for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rand();
		} else {
			for (int e = 1 + rand() % 3; e > 0; e--) {
				uint8_t *t = rand() % 4 ? p : b;
				size_t *tl = t == p ? &n : &m;
				if (!*tl) continue;
				size_t at = (size_t)rand() % *tl;
				switch (rand() % 3) {
				case 0: t[at] = (uint8_t)rand(); break;
				case 1: *tl = at; break; /* truncate */
				default: t[at] = (uint8_t)(rand() % 0x34); break;
				}
			}
		}
		ujo_buf_reset(&pl);
		ujo_buf_reset(&bf);
		int rc = map_apply(g, p, n, b, m, &pl, &bf, err, sizeof err);
		if (rc == 0) {
			assert_true(valid_bare(pl.data, pl.len));
			assert_true(valid_bare(bf.data, bf.len));
			ok++;
		} else {
			assert_true(rc == MAP_E_INPUT || rc == MAP_E_KEY || rc == MAP_E_TYPE || rc == MAP_E_LIMIT);
			assert_true(err[0] != 0 && strchr(err, '\n') == NULL);
			assert_int_equal(pl.len, 0);
			assert_int_equal(bf.len, 0);
			failed++;
		}
	}
	assert_true(ok > 0 && failed > 0);
	/* a huge declared string length */
	expect_fail(g, "31 " U("04", "74656d70") " 04 01 ffffff7f 41 00", "31 00", MAP_E_INPUT, "not valid UJO");
	/* nesting beyond the reader's limit */
	char hex[600];
	size_t o = (size_t)snprintf(hex, sizeof hex, "31 " U("04", "74656d70") " ");
	for (int i = 0; i < 70; i++) o += (size_t)snprintf(hex + o, sizeof hex - o, "30");
	expect_fail(g, hex, "31 00", MAP_E_INPUT, "nesting too deep");
	free(base);
	free(bbase);
	ujo_buf_free(&pl);
	ujo_buf_free(&bf);
	map_group_free(g);
}

/* Fan-out: two groups on the same payload do not see each other's work,
 * and one group used from several threads would not either (nothing in
 * the group changes). */
static void test_groups_independent(void **state)
{
	(void)state;
	struct map_group *a = group_ok(
		"{\"targetPort\": {\"schema\": \"T = { \\\"m\\\" -> variant };\", \"typeName\": \"T\"}, \"mapping\": ["
		"{\"type\":\"p\",\"source_fields\":[\"S\",\"m\"],\"target_fields\":[\"T\",\"m\"],\"buffer_id\":null},"
		"{\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"T\",\"m\",\"added\"],\"buffer_id\":null,"
		" \"constant\":{\"name\":\"c\",\"type\":\"int8\",\"value\":1}}]}");
	struct map_group *b = group_ok("{\"targetPort\": {}, \"mapping\": [{\"type\":\"p\",\"source_fields\":[\"S\",\"m\"],"
				       "\"target_fields\":[\"T\"],\"buffer_id\":null}]}");
	const char *payload = "31 " U("01", "6d") " 31 " U("01", "7a") " 08 02 00 00";
	for (int i = 0; i < 2; i++) {
		expect(a, payload, NULL, "31 " U("01", "6d") " 31 " U("01", "7a") " 08 02 " U("05", "6164646564") " 08 01 00 00",
		       EMPTY_MAP);
		expect(b, payload, NULL, "31 " U("01", "7a") " 08 02 00", EMPTY_MAP);
	}
	map_group_free(a);
	map_group_free(b);
}

/* Beyond the stack room of map_apply: big maps, many rules and buffer
 * elements (the vectors move to the heap). */
static void test_large(void **state)
{
	(void)state;
	enum { KEYS = 300 };
	/* payload {"k0": 0, ..., "k299": 299 (int64)} */
	struct ujo_buf p, pl, bf;
	struct ujo_writer w;
	char name[16];
	ujo_buf_init(&p);
	ujo_buf_init(&pl);
	ujo_buf_init(&bf);
	ujo_w_init_bare(&w, &p);
	ujo_w_map(&w);
	for (int i = 0; i < KEYS; i++) {
		int n = snprintf(name, sizeof name, "k%d", i);
		ujo_w_utf8(&w, name, (size_t)n);
		ujo_w_i64(&w, i);
	}
	ujo_w_end(&w);
	assert_int_equal(ujo_w_finish(&w), 0);
	/* rules copying every key in reverse order into a map under "m", and
	 * a buffer element per key */
	cJSON *d = cJSON_Parse("{\"targetPort\": {\"schema\": \"T = { \\\"a\\\" -> int8 };\", \"typeName\": \"T\"},"
			       " \"buffer\": {}, \"mapping\": []}");
	assert_non_null(d);
	cJSON *rules = cJSON_GetObjectItem(d, "mapping"), *buf = cJSON_GetObjectItem(d, "buffer");
	for (int i = KEYS - 1; i >= 0; i--) {
		snprintf(name, sizeof name, "k%d", i);
		cJSON *r = cJSON_CreateObject(), *sf = cJSON_CreateArray(), *tf = cJSON_CreateArray(), *src = cJSON_CreateArray();
		cJSON_AddItemToArray(sf, cJSON_CreateString("S"));
		cJSON_AddItemToArray(sf, cJSON_CreateString(name));
		cJSON_AddItemToArray(tf, cJSON_CreateString("T"));
		cJSON_AddItemToArray(tf, cJSON_CreateString("m"));
		cJSON_AddItemToArray(tf, cJSON_CreateString(name));
		cJSON_AddStringToObject(r, "type", "p");
		cJSON_AddItemToObject(r, "source_fields", sf);
		cJSON_AddItemToObject(r, "target_fields", tf);
		cJSON_AddNullToObject(r, "buffer_id");
		cJSON_AddItemToArray(rules, r);
		cJSON *e = cJSON_CreateObject();
		cJSON_AddItemToArray(src, cJSON_CreateString("S"));
		cJSON_AddItemToArray(src, cJSON_CreateString(name));
		cJSON_AddItemToObject(e, "source", src);
		cJSON_AddItemToObject(buf, name, e);
	}
	char err[256];
	struct map_group *g = map_group_new(d, err, sizeof err);
	cJSON_Delete(d);
	if (!g) fail_msg("%s", err);
	assert_int_equal(map_apply(g, p.data, p.len, NULL, 0, &pl, &bf, err, sizeof err), 0);
	/* decode the result: {"a": 0, "m": {"k299": 299, ..., "k0": 0}} */
	struct ujo_tree t;
	assert_int_equal(ujo_tree_parse_bare(&t, pl.data, pl.len, NULL), 0);
	const struct ujo_node *m = ujo_map_get(t.root, "m");
	assert_non_null(m);
	assert_int_equal(m->n, 2 * KEYS);
	for (int i = 0; i < KEYS; i++) {
		snprintf(name, sizeof name, "k%d", i);
		const struct ujo_node *v = ujo_map_get(m, name);
		assert_non_null(v);
		assert_int_equal(v->v.i, i);
	}
	assert_int_equal(m->v.kids[1].v.i, KEYS - 1);
	ujo_tree_free(&t);
	assert_int_equal(ujo_tree_parse_bare(&t, bf.data, bf.len, NULL), 0);
	assert_int_equal(t.root->n, 2 * KEYS);
	assert_int_equal(ujo_map_get(t.root, "k7")->v.i, 7);
	ujo_tree_free(&t);
	map_group_free(g);
	ujo_buf_free(&p);
	ujo_buf_free(&pl);
	ujo_buf_free(&bf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reading_example),
		cmocka_unit_test(test_buffer_example),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_constant_containers),
		cmocka_unit_test(test_older_format),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_bad_descriptions),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_groups_independent),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests_name("mapping", tests, NULL, NULL);
}
