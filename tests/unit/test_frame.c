/* test_frame.c — framing and titanfe messages: the reference frames
 * V39–V42 byte for byte, the incremental reader under every split, and
 * hostile lengths and message shapes. */
#include "testutil.h"

#include <unistd.h>

#include "frame.h"
#include "msg.h"

#define V39 "0000001b5f554a4f0100003005150000000000000005190000000000000000"
#define V40 "000000265f554a4f0100003005160000000000000030040103000000422d310401030000006f75740000"
#define V41 "000000225f554a4f01000030051400000000000000310401070000007061796c6f61640f0000"
#define V42 "000000e85f554a4f0100003005140000000000000031040103000000756964040103000000502d3104010700000073746172746564050000a0d885573416040104000000706f72740401030000006f75740401070000007061796c6f61643104010500000076616c7565052a0000000000000000040106000000627566666572310004010b000000696e7075745f656e74727901000000000000000004010a000000696e7075745f6578697401000000000000000004010c0000006f75747075745f656e747279056400a0d88557341604010b0000006f75747075745f6578697405c800a0d8855734160000"

static void test_encode_request_registration(void **state)
{
	(void)state;
	struct ujo_buf b;
	ujo_buf_init(&b);
	assert_int_equal(msg_frame_request(&b, 25), 0);
	tu_assert_hex(b.data, b.len, V39);
	ujo_buf_reset(&b);
	assert_int_equal(msg_frame_registration(&b, "B-1", 3, "out", 3), 0);
	tu_assert_hex(b.data, b.len, V40);
	ujo_buf_free(&b);
}

/* The V42 packet decodes to its fields and re-encodes byte for byte. */
static void test_packet_roundtrip(void **state)
{
	(void)state;
	size_t n;
	uint8_t *f = tu_unhex(V42, &n);
	struct msg m;
	struct msg_packet p;
	char err[256] = "";
	assert_int_equal(msg_decode(f + 4, n - 4, &m, err, sizeof err), 0);
	assert_int_equal(m.type, MSG_PACKET);
	assert_int_equal(msg_decode_packet(&m, &p, err, sizeof err), 0);
	assert_int_equal(p.uid.len, 3);
	assert_memory_equal(p.uid.p, "P-1", 3);
	assert_true(p.started == 1600000000000000000LL);
	assert_memory_equal(p.port.p, "out", 3);
	tu_assert_hex(p.payload, p.payload_len, "3104010500000076616c7565052a0000000000000000");
	tu_assert_hex(p.buffer, p.buffer_len, "3100");
	assert_false(p.input_entry.is_int);
	assert_true(p.input_entry.f == 0.0);
	assert_true(p.output_entry.is_int && p.output_entry.ns == 1600000000000000100LL);
	assert_true(p.output_exit.is_int && p.output_exit.ns == 1600000000000000200LL);

	struct ujo_buf b;
	ujo_buf_init(&b);
	assert_int_equal(msg_frame_packet(&b, &p, 0), 0);
	tu_assert_hex(b.data, b.len, V42);
	/* a body larger than the maximum is refused and the buffer is unchanged */
	size_t before = b.len;
	assert_int_equal(msg_frame_packet(&b, &p, 100), FRAME_E_TOOBIG);
	assert_int_equal(b.len, before);
	ujo_buf_free(&b);
	free(f);
}

/* V41: only a payload; the rest takes titanfe's defaults. */
static void test_packet_defaults(void **state)
{
	(void)state;
	size_t n;
	uint8_t *f = tu_unhex(V41, &n);
	struct msg m;
	struct msg_packet p;
	assert_int_equal(msg_decode(f + 4, n - 4, &m, NULL, 0), 0);
	assert_int_equal(msg_decode_packet(&m, &p, NULL, 0), 0);
	assert_int_equal(p.uid.len, 0);
	assert_null(p.buffer);
	tu_assert_hex(p.payload, p.payload_len, "0f");
	struct ujo_buf b;
	ujo_buf_init(&b);
	assert_int_equal(msg_frame_packet(&b, &p, 0), 0);
	struct msg m2;
	struct msg_packet p2;
	assert_int_equal(msg_decode(b.data + 4, b.len - 4, &m2, NULL, 0), 0);
	assert_int_equal(msg_decode_packet(&m2, &p2, NULL, 0), 0);
	tu_assert_hex(p2.buffer, p2.buffer_len, "3100");
	ujo_buf_free(&b);
	free(f);
}

static void test_request_registration_decode(void **state)
{
	(void)state;
	size_t n;
	uint8_t *f = tu_unhex(V40, &n);
	struct msg m;
	struct msg_str c, port;
	int64_t count;
	char err[256];
	assert_int_equal(msg_decode(f + 4, n - 4, &m, err, sizeof err), 0);
	assert_int_equal(m.type, MSG_CONSUMER_REGISTRATION);
	assert_int_equal(msg_decode_registration(&m, &c, &port, err, sizeof err), 0);
	assert_true(c.len == 3 && memcmp(c.p, "B-1", 3) == 0);
	assert_true(port.len == 3 && memcmp(port.p, "out", 3) == 0);
	assert_int_equal(msg_decode(f + 4, n - 4, &m, err, sizeof err), 0);
	assert_int_equal(msg_decode_request(&m, &count, err, sizeof err), MSG_E_SHAPE);
	free(f);
	f = tu_unhex(V39, &n);
	assert_int_equal(msg_decode(f + 4, n - 4, &m, err, sizeof err), 0);
	assert_int_equal(msg_decode_request(&m, &count, err, sizeof err), 0);
	assert_int_equal(count, 25);
	assert_int_equal(msg_decode(f + 4, n - 4, &m, err, sizeof err), 0);
	assert_int_equal(msg_decode_registration(&m, &c, &port, err, sizeof err), MSG_E_SHAPE);
	assert_int_equal(msg_decode_as(f + 4, n - 4, MSG_PACKET, &m, err, sizeof err), MSG_E_SHAPE);
	assert_string_equal(err, "PacketRequest where a Packet was expected");
	assert_int_equal(msg_decode_as(f + 4, n - 4, MSG_PACKET_REQUEST, &m, err, sizeof err), 0);
	const uint8_t *raw;
	size_t rawlen;
	assert_int_equal(msg_content(&m, &raw, &rawlen, err, sizeof err), 0);
	tu_assert_hex(raw, rawlen, "051900000000000000");
	free(f);
}

struct bad {
	const char *name, *body, *why;
	int which; /* 0 msg_decode fails, then fails: 1 packet, 2 registration, 3 request, 4 msg_content */
};

#define HDR "5f554a4f010000"
#define PKT_OPEN HDR "30 051400000000000000 31"
static const struct bad bads[] = {
	{"map at top", HDR "3100", "not a list", 0},
	{"one item", HDR "30 051400000000000000 00", "no content", 4},
	{"three items", HDR "30 051500000000000000 051900000000000000 0f 00", "more than 2", 4},
	{"string type", HDR "30 0401 01000000 61 0f 00", "not an integer", 0},
	{"trailing garbage", HDR "30 051500000000000000 051900000000000000 00 ff", "after the end", 4},
	{"truncated", HDR "30 0515000000", "offset", 0},
	{"unknown key", PKT_OPEN "0401 03000000 657669 0f 00 00", "unknown packet key 'evi'", 1},
	{"binary key", PKT_OPEN "0401 02000000 ff00 0f 00 00", "'\\xff\\x00'", 1},
	{"int key", PKT_OPEN "0801 0f 00 00", "not a string", 1},
	{"duplicate", PKT_OPEN "0401 03000000 756964 0401 01000000 61 0401 03000000 756964 0401 01000000 62 00 00", "twice", 1},
	{"uid int", PKT_OPEN "0401 03000000 756964 0801 00 00", "uid", 1},
	{"buffer list", PKT_OPEN "0401 06000000 627566666572 3000 00 00", "buffer is not a map", 1},
	{"time string", PKT_OPEN "0401 0a000000 696e7075745f65786974 0401 01000000 61 00 00", "input_exit", 1},
	{"started NaN", PKT_OPEN "0401 07000000 73746172746564 01 000000000000f87f 00 00", "nanoseconds", 1},
	{"started 1e300", PKT_OPEN "0401 07000000 73746172746564 01 9c0a16e0c9c0e57e 00 00", "nanoseconds", 1},
	{"packet not map", HDR "30 051400000000000000 3000 00", "not a map", 1},
	{"registration 1 item", HDR "30 051600000000000000 30 0401 01000000 61 00 00", "port name", 2},
	{"registration 3 items", HDR "30 051600000000000000 30 0401 01000000 61 0401 01000000 62 0f 00 00", "more than 2", 2},
	{"negative request", HDR "30 051500000000000000 05ffffffffffffffff 00", "non-negative", 3},
	{"float request", HDR "30 051500000000000000 01 000000000000f03f 00", "non-negative", 3},
};

static void test_bad_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		size_t n;
		uint8_t *body = tu_unhex(bads[i].body, &n);
		struct msg m;
		struct msg_packet p;
		struct msg_str a, b;
		int64_t c;
		const uint8_t *raw;
		size_t rawlen;
		char err[256] = "";
		int rc;
		print_message("%s\n", bads[i].name);
		rc = msg_decode(body, n, &m, err, sizeof err);
		if (bads[i].which) {
			assert_int_equal(rc, 0);
			rc = bads[i].which == 1 ? msg_decode_packet(&m, &p, err, sizeof err)
			   : bads[i].which == 2 ? msg_decode_registration(&m, &a, &b, err, sizeof err)
			   : bads[i].which == 3 ? msg_decode_request(&m, &c, err, sizeof err)
						: msg_content(&m, &raw, &rawlen, err, sizeof err);
		}
		assert_true(rc < 0);
		if (!strstr(err, bads[i].why)) fail_msg("%s: error '%s' lacks '%s'", bads[i].name, err, bads[i].why);
		free(body);
	}
}

/* Four frames fed in every possible pair of chunk sizes come out whole. */
static void test_reader_splits(void **state)
{
	(void)state;
	size_t n;
	uint8_t *all = tu_unhex(V39 V40 V41 V42, &n);
	static const uint32_t lens[] = {0x1b, 0x26, 0x22, 0xe8};
	for (size_t chunk = 1; chunk <= n; chunk += (chunk < 16 ? 1 : 37)) {
		struct frame_reader fr;
		assert_int_equal(frame_reader_init(&fr, 0), 0);
		size_t got = 0, off = 0;
		while (off < n) {
			size_t k = n - off < chunk ? n - off : chunk;
			assert_int_equal(frame_reader_feed(&fr, all + off, k), 0);
			off += k;
			const uint8_t *body;
			uint32_t len;
			int rc;
			while ((rc = frame_reader_next(&fr, &body, &len)) == 1) {
				assert_int_equal(len, lens[got]);
				assert_int_equal(ujo_validate(body, len, NULL), 0);
				got++;
			}
			assert_int_equal(rc, 0);
		}
		assert_int_equal(got, 4);
		assert_int_equal(frame_reader_pending(&fr), 0);
		frame_reader_free(&fr);
	}
	free(all);
}

/* A length above the maximum fails before the body is awaited or
 * allocated; the error is sticky. Too-short lengths fail too. */
static void test_reader_limits(void **state)
{
	(void)state;
	struct frame_reader fr;
	const uint8_t *body;
	uint32_t len;
	assert_int_equal(frame_reader_init(&fr, 1000), 0);
	assert_int_equal(frame_reader_feed(&fr, "\xff\xff\xff\xff", 4), 0);
	assert_int_equal(frame_reader_next(&fr, &body, &len), FRAME_E_TOOBIG);
	assert_true(fr.cap < 1u << 20); /* nothing sized by the hostile length */
	assert_int_equal(frame_reader_next(&fr, &body, &len), FRAME_E_TOOBIG);
	assert_int_equal(frame_reader_feed(&fr, "x", 1), FRAME_E_TOOBIG);
	frame_reader_free(&fr);

	assert_int_equal(frame_reader_init(&fr, 1000), 0);
	assert_int_equal(frame_reader_feed(&fr, "\x00\x00\x03\xe9", 4), 0); /* 1001 */
	assert_int_equal(frame_reader_next(&fr, &body, &len), FRAME_E_TOOBIG);
	frame_reader_free(&fr);

	assert_int_equal(frame_reader_init(&fr, 1000), 0);
	assert_int_equal(frame_reader_feed(&fr, "\x00\x00\x00\x02" "30", 6), 0);
	assert_int_equal(frame_reader_next(&fr, &body, &len), FRAME_E_SHORT);
	frame_reader_free(&fr);

	assert_int_equal(frame_reader_init(&fr, FRAME_MAX_CEILING + 1u), FRAME_E_ARG);
	assert_int_equal(frame_reader_init(&fr, 3), FRAME_E_ARG);
}

/* A big frame grows the buffer; afterwards it shrinks back. */
static void test_reader_big_then_shrink(void **state)
{
	(void)state;
	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);
	size_t at = frame_begin(&b);
	ujo_w_init(&w, &b);
	ujo_w_list(&w);
	static uint8_t blob[1 << 20];
	ujo_w_bin(&w, 0, blob, sizeof blob);
	ujo_w_end(&w);
	assert_int_equal(ujo_w_finish(&w), 0);
	assert_int_equal(frame_end(&b, at, 0), 0);
	assert_int_equal(frame_end(&b, at, 1000), FRAME_E_TOOBIG);

	struct frame_reader fr;
	const uint8_t *body;
	uint32_t len;
	assert_int_equal(frame_reader_init(&fr, 0), 0);
	assert_int_equal(frame_reader_feed(&fr, b.data, b.len), 0);
	assert_int_equal(frame_reader_next(&fr, &body, &len), 1);
	assert_int_equal(len, b.len - 4);
	assert_true(fr.cap >= b.len);
	uint8_t *p;
	size_t room;
	assert_int_equal(frame_reader_space(&fr, &p, &room), 0);
	assert_true(fr.cap <= FRAME_READER_INITIAL);
	frame_reader_free(&fr);
	ujo_buf_free(&b);
}

/* Reading from a file descriptor: many frames per read(2), EOF. */
static void test_reader_fd(void **state)
{
	(void)state;
	int fds[2];
	size_t n;
	uint8_t *all = tu_unhex(V39 V39 V40 V42, &n);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], all, n), (ssize_t)n);
	close(fds[1]);
	struct frame_reader fr;
	assert_int_equal(frame_reader_init(&fr, 0), 0);
	ssize_t r = frame_reader_read_fd(&fr, fds[0]);
	assert_int_equal(r, (ssize_t)n);
	const uint8_t *body;
	uint32_t len;
	int frames = 0;
	while (frame_reader_next(&fr, &body, &len) == 1) frames++;
	assert_int_equal(frames, 4);
	assert_int_equal(frame_reader_read_fd(&fr, fds[0]), 0);
	assert_int_equal(fr.frames, 4);
	close(fds[0]);
	frame_reader_free(&fr);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_request_registration),
		cmocka_unit_test(test_packet_roundtrip),
		cmocka_unit_test(test_packet_defaults),
		cmocka_unit_test(test_request_registration_decode),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_reader_splits),
		cmocka_unit_test(test_reader_limits),
		cmocka_unit_test(test_reader_big_then_shrink),
		cmocka_unit_test(test_reader_fd),
	};
	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
