/* bench/ujo — decode + re-encode of a typical titanfe packet frame.
 *
 * The packet is the titanfe packet map (all nine keys) around a payload
 * map of about 100 bytes. Two paths are timed:
 *   walk: msg_decode + msg_decode_packet (pull reader, payload kept raw)
 *         + msg_frame_packet (payload spliced) — what the runner does;
 *   tree: ujo_tree_parse of the whole frame body + ujo_tree_write.
 * Prints one JSON line. Target: walk <= 1000 ns per packet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "ujo.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void key(struct ujo_writer *w, const char *k) { ujo_w_utf8(w, k, strlen(k)); }

/* A payload map of about 100 bytes, as a sensor brick would send. */
static void payload(struct ujo_buf *b)
{
	struct ujo_writer w;
	ujo_w_init_bare(&w, b);
	ujo_w_map(&w);
	key(&w, "sensor"); ujo_w_utf8(&w, "temp-0042", 9);
	key(&w, "value"); ujo_w_f64(&w, 21.5);
	key(&w, "count"); ujo_w_i64(&w, 123456);
	key(&w, "ok"); ujo_w_bool(&w, true);
	key(&w, "tags"); ujo_w_list(&w); key(&w, "hall"); key(&w, "north"); ujo_w_end(&w);
	ujo_w_end(&w);
	if (ujo_w_finish(&w)) exit(1);
}

static int bench_walk(const uint8_t *body, size_t len, struct ujo_buf *out)
{
	struct msg m;
	struct msg_packet p;
	if (msg_decode(body, len, &m, NULL, 0) || msg_decode_packet(&m, &p, NULL, 0)) return -1;
	ujo_buf_reset(out);
	return msg_frame_packet(out, &p, 0);
}

static int bench_tree(const uint8_t *body, size_t len, struct ujo_buf *out)
{
	struct ujo_tree t;
	struct ujo_writer w;
	if (ujo_tree_parse(&t, body, len, NULL)) return -1;
	ujo_buf_reset(out);
	ujo_w_init(&w, out);
	int rc = ujo_tree_write(&w, t.root);
	ujo_tree_free(&t);
	return rc ? rc : ujo_w_finish(&w);
}

static double run(int (*fn)(const uint8_t *, size_t, struct ujo_buf *), const uint8_t *body, size_t len, long n)
{
	struct ujo_buf out;
	ujo_buf_init(&out);
	for (long i = 0; i < n / 10; i++) fn(body, len, &out); /* warm up */
	double best = 1e18;
	for (int round = 0; round < 5; round++) {
		double t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (fn(body, len, &out)) { fprintf(stderr, "bench/ujo: codec failed\n"); exit(1); }
		double per = (now_ns() - t0) / (double)n;
		if (per < best) best = per;
	}
	ujo_buf_free(&out);
	return best;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct ujo_buf pl, frame;
	ujo_buf_init(&pl);
	ujo_buf_init(&frame);
	payload(&pl);
	struct msg_packet p = {
		.uid = {"P-0a1b2c3d", 10}, .started = 1600000000000000000LL, .port = {"output", 6},
		.payload = pl.data, .payload_len = pl.len,
		.input_entry = msg_time_ns(1600000000000000100LL), .input_exit = msg_time_ns(1600000000000000200LL),
		.output_entry = msg_time_ns(1600000000000000300LL), .output_exit = msg_time_ns(1600000000000000400LL),
	};
	if (msg_frame_packet(&frame, &p, 0)) return 1;
	const uint8_t *body = frame.data + FRAME_LEN_SIZE;
	size_t len = frame.len - FRAME_LEN_SIZE;
	double walk = run(bench_walk, body, len, n), tree = run(bench_tree, body, len, n);
	printf("{\"bench\":\"ujo\",\"frame_bytes\":%zu,\"payload_bytes\":%zu,\"iterations\":%ld,"
	       "\"walk_ns_per_packet\":%.1f,\"tree_ns_per_packet\":%.1f,\"target_ns\":1000}\n",
	       frame.len, pl.len, n, walk, tree);
	ujo_buf_free(&pl);
	ujo_buf_free(&frame);
	return 0;
}
