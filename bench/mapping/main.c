/* bench/mapping — consumer-group mapping per packet (mapping.h).
 *
 * A typical group: a target object of six entries built from its UJO
 * schema, five rules (four from a payload map of about 100 bytes, one
 * constant) and one buffer element. Timed: map_apply per packet with
 * reused output buffers (rules), the same group with a nested source and
 * target path (nested), and the pass-through group (no rules, no schema).
 * Prints one JSON line. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "mapping.h"
#include "ujo.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void key(struct ujo_writer *w, const char *k) { ujo_w_utf8(w, k, strlen(k)); }

/* The payload of bench/ujo: a sensor reading of about 100 bytes; the
 * nested case adds a map {"loc": {"room": 7}}. */
static void payload(struct ujo_buf *b, bool nested)
{
	struct ujo_writer w;
	ujo_w_init_bare(&w, b);
	ujo_w_map(&w);
	key(&w, "sensor"); ujo_w_utf8(&w, "temp-0042", 9);
	key(&w, "value"); ujo_w_f64(&w, 21.5);
	key(&w, "count"); ujo_w_i64(&w, 123456);
	key(&w, "ok"); ujo_w_bool(&w, true);
	key(&w, "tags"); ujo_w_list(&w); key(&w, "hall"); key(&w, "north"); ujo_w_end(&w);
	if (nested) { key(&w, "loc"); ujo_w_map(&w); key(&w, "room"); ujo_w_i64(&w, 7); ujo_w_end(&w); }
	ujo_w_end(&w);
	if (ujo_w_finish(&w)) exit(1);
}

#define SCHEMA                                                                                          \
	"\"Reading = { \\\"id\\\" -> string, \\\"celsius\\\" -> float64, \\\"n\\\" -> int64, "             \
	"\\\"valid\\\" -> bool, \\\"source\\\" -> string : not null default \\\"x\\\", \\\"tags\\\" -> string* };\""

static const char *const rules_desc =
	"{\"InstanceID\": \"B-2\", \"autoscale_queue_level\": 25,"
	" \"targetPort\": {\"schema\": " SCHEMA ", \"typeName\": \"Reading\"},"
	" \"buffer\": {\"last\": {\"source\": [\"Sensor\", \"count\"]}},"
	" \"mapping\": ["
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"sensor\"],\"target_fields\":[\"Reading\",\"id\"],\"buffer_id\":null},"
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"value\"],\"target_fields\":[\"Reading\",\"celsius\"],\"buffer_id\":null},"
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"count\"],\"target_fields\":[\"Reading\",\"n\"],\"buffer_id\":null},"
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"ok\"],\"target_fields\":[\"Reading\",\"valid\"],\"buffer_id\":null},"
	"  {\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"Reading\",\"source\"],\"buffer_id\":null,"
	"   \"constant\":{\"name\":\"source\",\"type\":\"string\",\"value\":\"hall-sensor\"}}]}";

static const char *const nested_desc =
	"{\"targetPort\": {\"schema\": " SCHEMA ", \"typeName\": \"Reading\"},"
	" \"buffer\": {},"
	" \"mapping\": ["
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"loc\",\"room\"],\"target_fields\":[\"Reading\",\"where\",\"room\"],\"buffer_id\":null},"
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"value\"],\"target_fields\":[\"Reading\",\"celsius\"],\"buffer_id\":null},"
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"tags\"],\"target_fields\":[\"Reading\",\"tags\"],\"buffer_id\":null},"
	"  {\"type\":\"port\",\"source_fields\":[\"Sensor\",\"sensor\"],\"target_fields\":[\"Reading\",\"where\",\"id\"],\"buffer_id\":null},"
	"  {\"type\":\"constant\",\"source_fields\":[],\"target_fields\":[\"Reading\",\"where\",\"floor\"],\"buffer_id\":null,"
	"   \"constant\":{\"name\":\"floor\",\"type\":\"int8\",\"value\":\"2\"}}]}";

static struct map_group *group(const char *json)
{
	char err[256];
	cJSON *j = cJSON_Parse(json);
	struct map_group *g = j ? map_group_new(j, err, sizeof err) : NULL;
	cJSON_Delete(j);
	if (!g) { fprintf(stderr, "bench/mapping: %s\n", j ? err : "bad JSON"); exit(1); }
	return g;
}

static double run(const struct map_group *g, const struct ujo_buf *pl, long n, size_t *outlen)
{
	struct ujo_buf out, buf;
	char err[256];
	ujo_buf_init(&out);
	ujo_buf_init(&buf);
	static const uint8_t inbuf[] = {0x31, 0x00};
	double best = 1e18;
	for (int round = 0; round < 6; round++) { /* round 0 warms up */
		double t0 = now_ns();
		for (long i = 0; i < n; i++) {
			ujo_buf_reset(&out);
			ujo_buf_reset(&buf);
			if (map_apply(g, pl->data, pl->len, inbuf, sizeof inbuf, &out, &buf, err, sizeof err)) {
				fprintf(stderr, "bench/mapping: %s\n", err);
				exit(1);
			}
		}
		double per = (now_ns() - t0) / (double)n;
		if (round && per < best) best = per;
	}
	*outlen = out.len;
	ujo_buf_free(&out);
	ujo_buf_free(&buf);
	return best;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	struct ujo_buf pl, pl2;
	ujo_buf_init(&pl);
	ujo_buf_init(&pl2);
	payload(&pl, false);
	payload(&pl2, true);
	struct map_group *rules = group(rules_desc), *nested = group(nested_desc), *pass = group("{\"targetPort\": {}}");
	size_t out_rules, out_nested, out_pass;
	double t_rules = run(rules, &pl, n, &out_rules);
	double t_nested = run(nested, &pl2, n, &out_nested);
	double t_pass = run(pass, &pl, n, &out_pass);
	double t0 = now_ns();
	for (int i = 0; i < 1000; i++) map_group_free(group(rules_desc));
	double t_new = (now_ns() - t0) / 1000.0;
	printf("{\"bench\":\"mapping\",\"payload_bytes\":%zu,\"iterations\":%ld,\"rules\":5,"
	       "\"ns_per_apply\":%.1f,\"output_bytes\":%zu,\"nested_ns_per_apply\":%.1f,"
	       "\"passthrough_ns_per_apply\":%.1f,\"group_new_us\":%.1f}\n",
	       pl.len, n, t_rules, out_rules, t_nested, t_pass, t_new / 1000.0);
	map_group_free(rules);
	map_group_free(nested);
	map_group_free(pass);
	ujo_buf_free(&pl);
	ujo_buf_free(&pl2);
	return 0;
}
