/* fuzz_frame.c — libFuzzer target for the frame reader and the titanfe
 * message decoders. The first input byte chooses the read chunk size so
 * that frames split at every position; every complete frame goes through
 * msg_decode and the decoder for its type, and a decoded packet is
 * re-encoded and decoded again to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "msg.h"

static void check_packet(struct msg *m)
{
	struct msg_packet p, q;
	if (msg_decode_packet(m, &p, NULL, 0)) return;
	struct ujo_buf b;
	ujo_buf_init(&b);
	if (msg_frame_packet(&b, &p, FRAME_MAX_CEILING)) abort();
	struct msg m2;
	if (msg_decode(b.data + 4, b.len - 4, &m2, NULL, 0) || msg_decode_packet(&m2, &q, NULL, 0)) abort();
	if (q.uid.len != p.uid.len || q.port.len != p.port.len || q.started != p.started) abort();
	if (q.payload_len != (p.payload ? p.payload_len : 1)) abort();
	ujo_buf_free(&b);
}

static void handle(const uint8_t *body, uint32_t len)
{
	struct msg m;
	struct msg_str a, c;
	int64_t n;
	const uint8_t *raw;
	size_t rawlen;
	if (msg_decode(body, len, &m, NULL, 0)) return;
	if (m.type == MSG_PACKET) check_packet(&m);
	else if (m.type == MSG_PACKET_REQUEST) msg_decode_request(&m, &n, NULL, 0);
	else if (m.type == MSG_CONSUMER_REGISTRATION) msg_decode_registration(&m, &a, &c, NULL, 0);
	else msg_content(&m, &raw, &rawlen, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	size_t chunk = (size_t)data[0] + 1;
	data++;
	size--;
	struct frame_reader fr;
	if (frame_reader_init(&fr, 1u << 20)) abort();
	for (size_t off = 0; off < size;) {
		size_t k = size - off < chunk ? size - off : chunk;
		if (frame_reader_feed(&fr, data + off, k)) break;
		off += k;
		const uint8_t *body;
		uint32_t len;
		int rc;
		while ((rc = frame_reader_next(&fr, &body, &len)) == 1) handle(body, len);
		if (rc < 0) break;
	}
	frame_reader_free(&fr);
	return 0;
}
