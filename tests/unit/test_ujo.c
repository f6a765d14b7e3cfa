/* test_ujo.c — the UJO codec against every reference vector
 * (../shared/reference/ujo-format.md §10): the writer reproduces each
 * byte for byte, the reader accepts it, the tree re-encodes it
 * identically, and every negative vector is rejected. */
#include "testutil.h"

#include <math.h>

#include "ujo.h"

typedef void (*build_fn)(struct ujo_writer *w);

struct vector {
	const char *name;
	build_fn build;
	const char *hex;
};

/* --- builders, one per vector ------------------------------------- */

static void v2(struct ujo_writer *w) { ujo_w_list(w); ujo_w_end(w); }
static void v3(struct ujo_writer *w) { ujo_w_map(w); ujo_w_end(w); }
static void v4(struct ujo_writer *w)
{
	ujo_w_list(w); ujo_w_f16(w, 4.13f); ujo_w_f32(w, 3.14f); ujo_w_f64(w, 3.14); ujo_w_end(w);
}
static void v5(struct ujo_writer *w)
{
	ujo_w_list(w); ujo_w_i8(w, 1); ujo_w_i16(w, 0x0102); ujo_w_i32(w, 0x01020304);
	ujo_w_i64(w, 0x0102030405060708LL); ujo_w_end(w);
}
static void v6(struct ujo_writer *w) { ujo_w_list(w); ujo_w_none(w); ujo_w_end(w); }
static void v7(struct ujo_writer *w) { ujo_w_list(w); ujo_w_bool(w, true); ujo_w_bool(w, false); ujo_w_end(w); }
static void v8(struct ujo_writer *w)
{
	ujo_w_list(w);
	ujo_w_i64(w, INT64_MAX); ujo_w_i64(w, INT64_MIN); ujo_w_i32(w, INT32_MAX); ujo_w_i32(w, INT32_MIN);
	ujo_w_i16(w, INT16_MAX); ujo_w_i16(w, INT16_MIN); ujo_w_i8(w, INT8_MAX); ujo_w_i8(w, INT8_MIN);
	ujo_w_u64(w, UINT64_MAX); ujo_w_u32(w, UINT32_MAX); ujo_w_u16(w, UINT16_MAX); ujo_w_u8(w, UINT8_MAX);
	ujo_w_end(w);
}
static void v9(struct ujo_writer *w) { ujo_w_list(w); ujo_w_i64(w, -1); ujo_w_i64(w, 0); ujo_w_i64(w, 20); ujo_w_end(w); }
static void v10(struct ujo_writer *w)
{
	ujo_w_list(w); ujo_w_u16(w, 0x1234); ujo_w_u32(w, 0x12345678); ujo_w_u64(w, 0x0123456789abcdefULL); ujo_w_end(w);
}
static void v11(struct ujo_writer *w)
{
	ujo_w_list(w); ujo_w_f64(w, 1.0); ujo_w_f64(w, -2.5); ujo_w_f64(w, 0.0); ujo_w_f64(w, -0.0); ujo_w_end(w);
}
static void v12(struct ujo_writer *w) { ujo_w_list(w); ujo_w_f64(w, NAN); ujo_w_end(w); }
static void v13(struct ujo_writer *w)
{
	ujo_w_list(w); ujo_w_f16(w, 1.0f); ujo_w_f16(w, -2.0f); ujo_w_f16(w, 65504.0f); ujo_w_f16(w, 43332.0f); ujo_w_end(w);
}
static void v14(struct ujo_writer *w) { ujo_w_list(w); ujo_w_f16(w, 24.135f); ujo_w_end(w); }
static void v15(struct ujo_writer *w)
{
	struct ujo_datetime ts = {2013, 7, 24, 16, 12, 40, 340};
	ujo_w_list(w); ujo_w_uxtime(w, INT64_MAX); ujo_w_date(w, 1971, 8, 23); ujo_w_time(w, 23, 45, 12);
	ujo_w_timestamp(w, &ts); ujo_w_end(w);
}
static void v16(struct ujo_writer *w) { ujo_w_list(w); ujo_w_uxtime(w, 0); ujo_w_date(w, -1, 12, 31); ujo_w_end(w); }
static void v17(struct ujo_writer *w) { ujo_w_list(w); ujo_w_cstr(w, "Maik Wojcieszak@tml-software.com\n"); ujo_w_end(w); }
static void v18(struct ujo_writer *w) { ujo_w_list(w); ujo_w_cstr(w, ""); ujo_w_end(w); }
static void v19(struct ujo_writer *w) { ujo_w_list(w); ujo_w_utf8(w, "hello", 5); ujo_w_end(w); }
static void v20(struct ujo_writer *w) { ujo_w_list(w); ujo_w_utf8(w, "", 0); ujo_w_end(w); }
static void v21(struct ujo_writer *w)
{
	const char *s = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac\xf0\x9f\x98\x80";
	ujo_w_list(w); ujo_w_utf8(w, s, strlen(s)); ujo_w_end(w);
}
static void v22(struct ujo_writer *w)
{
	const uint8_t u[] = {0x41, 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde};
	ujo_w_list(w); ujo_w_str(w, UJO_STR_UTF16, u, 4); ujo_w_end(w);
}
static void v23(struct ujo_writer *w)
{
	const uint8_t u[] = {0x41, 0, 0, 0, 0x00, 0xf6, 0x01, 0};
	ujo_w_list(w); ujo_w_str(w, UJO_STR_UTF32, u, 2); ujo_w_end(w);
}
static void v24(struct ujo_writer *w) { ujo_w_list(w); ujo_w_bin(w, 0, "\x01\x02\x03", 3); ujo_w_end(w); }
static void v25(struct ujo_writer *w) { ujo_w_list(w); ujo_w_bin(w, 0, "", 0); ujo_w_end(w); }
static void v26(struct ujo_writer *w)
{
	ujo_w_list(w); ujo_w_bin(w, UJO_BIN_UJO, "\x5f\x55\x4a\x4f\x01\x00\x00\x30\x00", 9); ujo_w_end(w);
}
static void v28_common(struct ujo_writer *w, float f16)
{
	ujo_w_list(w); ujo_w_i64(w, 12345678); ujo_w_f16(w, f16); ujo_w_f32(w, 3.14f); ujo_w_f64(w, 9.81);
	ujo_w_map(w); ujo_w_i64(w, 42); ujo_w_i16(w, 102); ujo_w_i8(w, 21);
	ujo_w_list(w); ujo_w_bool(w, true); ujo_w_none(w); ujo_w_end(w);
	ujo_w_end(w); ujo_w_end(w);
}
static void v28(struct ujo_writer *w) { v28_common(w, 43332.0f); }
static void v29(struct ujo_writer *w) { v28_common(w, 1.0f); }
static void key(struct ujo_writer *w, const char *k) { ujo_w_utf8(w, k, strlen(k)); }
static void v30(struct ujo_writer *w) { ujo_w_map(w); key(w, "a"); ujo_w_i64(w, 1); ujo_w_end(w); }
static void v31(struct ujo_writer *w)
{
	ujo_w_map(w); key(w, "k"); ujo_w_none(w); key(w, "b"); ujo_w_bool(w, true); key(w, "f"); ujo_w_f64(w, 1.5);
	ujo_w_end(w);
}
static void v32(struct ujo_writer *w)
{
	ujo_w_map(w); key(w, "list"); ujo_w_list(w); ujo_w_i64(w, 1); ujo_w_f64(w, 2.5); ujo_w_none(w); key(w, "x");
	ujo_w_end(w); key(w, "map"); ujo_w_map(w); ujo_w_end(w); key(w, "empty"); ujo_w_list(w); ujo_w_end(w);
	ujo_w_end(w);
}
static void v33(struct ujo_writer *w) { ujo_w_list(w); ujo_w_list(w); ujo_w_list(w); ujo_w_end(w); ujo_w_end(w); ujo_w_end(w); }
static void v34(struct ujo_writer *w) { ujo_w_list(w); ujo_w_i64(w, 1); ujo_w_i64(w, 255); ujo_w_end(w); }
static void v35(struct ujo_writer *w)
{
	struct ujo_datetime ts = {2020, 1, 2, 3, 4, 5, 678};
	ujo_w_list(w); ujo_w_timestamp(w, &ts); ujo_w_end(w);
}
static void v36(struct ujo_writer *w)
{
	ujo_w_map(w); ujo_w_f64(w, 1.5); key(w, "x"); ujo_w_bool(w, true); ujo_w_i8(w, 1); ujo_w_none(w); ujo_w_none(w);
	ujo_w_end(w);
}
static void v37(struct ujo_writer *w)
{
	ujo_w_table(w); ujo_w_cstr(w, "Name"); ujo_w_cstr(w, "Age"); ujo_w_cstr(w, "Phone"); ujo_w_table_cells(w);
	ujo_w_cstr(w, "Maik"); ujo_w_i8(w, 23); ujo_w_cstr(w, "+49 0431 1234");
	ujo_w_cstr(w, "Stefan"); ujo_w_i8(w, 36);
	ujo_w_list(w); ujo_w_cstr(w, "+49 0431 1234"); ujo_w_cstr(w, "+49 127 87917"); ujo_w_cstr(w, "+49 3456789"); ujo_w_end(w);
	ujo_w_end(w);
}
static void v38(struct ujo_writer *w) { ujo_w_table(w); key(w, "c"); ujo_w_table_cells(w); ujo_w_end(w); }

static const struct vector vectors[] = {
	{"V2", v2, "5f554a4f0100003000"},
	{"V3", v3, "5f554a4f0100003100"},
	{"V4", v4, "5f554a4f0100003003214402c3f54840011f85eb51b81e094000"},
	{"V5", v5, "5f554a4f010000300801070201060403020105080706050403020100"},
	{"V6", v6, "5f554a4f010000300f00"},
	{"V7", v7, "5f554a4f010000300d010d0000"},
	{"V8", v8, "5f554a4f0100003005ffffffffffffff7f05000000000000008006ffffff7f060000008007ff7f070080087f088009ffffffffffffffff0affffffff0bffff0cff00"},
	{"V9", v9, "5f554a4f0100003005ffffffffffffffff05000000000000000005140000000000000000"},
	{"V10", v10, "5f554a4f010000300b34120a7856341209efcdab896745230100"},
	{"V11", v11, "5f554a4f0100003001000000000000f03f0100000000000004c001000000000000000001000000000000008000"},
	{"V12", v12, "5f554a4f0100003001000000000000f87f00"},
	{"V13", v13, "5f554a4f0100003003003c0300c003ff7b034a7900"},
	{"V14", v14, "5f554a4f0100003003084e00"},
	{"V15", v15, "5f554a4f0100003010ffffffffffffff7f11b307081712172d0c13dd070718100c28540100"},
	{"V16", v16, "5f554a4f0100003010000000000000000011ffff0c1f00"},
	{"V17", v17, "5f554a4f010000300400220000004d61696b20576f6a636965737a616b40746d6c2d736f6674776172652e636f6d0a0000"},
	{"V18", v18, "5f554a4f010000300400010000000000"},
	{"V19", v19, "5f554a4f0100003004010500000068656c6c6f00"},
	{"V20", v20, "5f554a4f0100003004010000000000"},
	{"V21", v21, "5f554a4f0100003004010f0000004772c3bcc39f6520e282acf09f988000"},
	{"V22", v22, "5f554a4f010000300402040000004100e9003dd800de00"},
	{"V23", v23, "5f554a4f010000300403020000004100000000f6010000"},
	{"V24", v24, "5f554a4f010000300e000300000001020300"},
	{"V25", v25, "5f554a4f010000300e000000000000"},
	{"V26", v26, "5f554a4f010000300e01090000005f554a4f010000300000"},
	{"V28", v28, "5f554a4f01000030054e61bc0000000000034a7902c3f54840011f85eb51b89e234031052a000000000000000766000815300d010f000000"},
	{"V29", v29, "5f554a4f01000030054e61bc000000000003003c02c3f54840011f85eb51b89e234031052a000000000000000766000815300d010f000000"},
	{"V30", v30, "5f554a4f010000310401010000006105010000000000000000"},
	{"V31", v31, "5f554a4f010000310401010000006b0f040101000000620d010401010000006601000000000000f83f00"},
	{"V32", v32, "5f554a4f010000310401040000006c697374300501000000000000000100000000000004400f04010100000078000401030000006d61703100040105000000656d707479300000"},
	{"V33", v33, "5f554a4f010000303030000000"},
	{"V34", v34, "5f554a4f0100003005010000000000000005ff0000000000000000"},
	{"V35", v35, "5f554a4f0100003013e4070102030405a60200"},
	{"V36", v36, "5f554a4f0100003101000000000000f83f040101000000780d0108010f0f00"},
	{"V37", v37, "5f554a4f010000320400050000004e616d65000400040000004167650004000600000050686f6e6500000400050000004d61696b00081704000e0000002b3439203034333120313233340004000700000053746566616e0008243004000e0000002b3439203034333120313233340004000e0000002b3439203132372038373931370004000c0000002b34392033343536373839000000"},
	{"V38", v38, "5f554a4f01000032040101000000630000"},
};
#define NVEC (sizeof vectors / sizeof vectors[0])

static const char *vec_hex(const char *name)
{
	for (size_t i = 0; i < NVEC; i++)
		if (strcmp(vectors[i].name, name) == 0) return vectors[i].hex;
	fail_msg("no vector %s", name);
	return NULL;
}

/* The writer reproduces every vector byte for byte. */
static void test_vectors_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		struct ujo_buf b;
		struct ujo_writer w;
		ujo_buf_init(&b);
		ujo_w_init(&w, &b);
		vectors[i].build(&w);
		print_message("%s\n", vectors[i].name);
		assert_int_equal(ujo_w_finish(&w), 0);
		tu_assert_hex(b.data, b.len, vectors[i].hex);
		ujo_buf_free(&b);
	}
}

/* The reader validates every vector; the tree re-encodes it exactly. */
static void test_vectors_tree_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		size_t n, off = 0;
		uint8_t *doc = tu_unhex(vectors[i].hex, &n);
		struct ujo_tree t;
		print_message("%s\n", vectors[i].name);
		assert_int_equal(ujo_validate(doc, n, &off), 0);
		assert_int_equal(ujo_tree_parse(&t, doc, n, &off), 0);
		struct ujo_buf b;
		struct ujo_writer w;
		ujo_buf_init(&b);
		ujo_w_init(&w, &b);
		assert_int_equal(ujo_tree_write(&w, t.root), 0);
		assert_int_equal(ujo_w_finish(&w), 0);
		tu_assert_hex(b.data, b.len, vectors[i].hex);
		ujo_buf_free(&b);
		ujo_tree_free(&t);
		free(doc);
	}
}

/* Decoded values are the ones written (spot checks of every scalar kind). */
static void test_decode_values(void **state)
{
	(void)state;
	size_t n;
	uint8_t *doc = tu_unhex(vec_hex("V8"), &n);
	struct ujo_tree t;
	assert_int_equal(ujo_tree_parse(&t, doc, n, NULL), 0);
	const struct ujo_node *k = t.root->v.kids;
	assert_int_equal(t.root->n, 12);
	assert_true(k[0].v.i == INT64_MAX && k[1].v.i == INT64_MIN);
	assert_true(k[2].v.i == INT32_MAX && k[3].v.i == INT32_MIN && k[3].type == UJO_I32);
	assert_true(k[6].v.i == 127 && k[7].v.i == -128);
	assert_true(k[8].v.u == UINT64_MAX && k[11].v.u == 255);
	ujo_tree_free(&t);
	free(doc);

	doc = tu_unhex(vec_hex("V15"), &n);
	assert_int_equal(ujo_tree_parse(&t, doc, n, NULL), 0);
	k = t.root->v.kids;
	assert_true(k[0].type == UJO_UXTIME && k[0].v.i == INT64_MAX);
	assert_true(k[1].v.dt.year == 1971 && k[1].v.dt.month == 8 && k[1].v.dt.day == 23);
	assert_true(k[2].v.dt.hour == 23 && k[2].v.dt.minute == 45 && k[2].v.dt.second == 12);
	assert_true(k[3].v.dt.msec == 340 && k[3].v.dt.second == 40);
	ujo_tree_free(&t);
	free(doc);

	doc = tu_unhex(vec_hex("V14"), &n); /* float16 24.135 -> 0x4e08 */
	assert_int_equal(ujo_tree_parse(&t, doc, n, NULL), 0);
	assert_int_equal(t.root->v.kids[0].f16, 0x4e08);
	assert_true(t.root->v.kids[0].v.f == 24.125);
	ujo_tree_free(&t);
	free(doc);
}

static void test_map_get(void **state)
{
	(void)state;
	size_t n;
	uint8_t *doc = tu_unhex(vec_hex("V31"), &n);
	struct ujo_tree t;
	assert_int_equal(ujo_tree_parse(&t, doc, n, NULL), 0);
	const struct ujo_node *f = ujo_map_get(t.root, "f");
	assert_non_null(f);
	assert_true(f->type == UJO_F64 && f->v.f == 1.5);
	assert_int_equal(ujo_map_get(t.root, "k")->type, UJO_NONE);
	assert_null(ujo_map_get(t.root, "missing"));
	assert_null(ujo_map_get(t.root, "ff"));
	ujo_tree_free(&t);
	free(doc);
}

/* float16: truncation, saturation and refusal exactly as libujo-c. */
static void test_f16(void **state)
{
	(void)state;
	uint16_t h;
	assert_int_equal(ujo_f32_to_f16(3.14f, &h), 0);
	assert_int_equal(h, 0x4247);
	assert_int_equal(ujo_f32_to_f16(65535.0f, &h), 0);
	assert_int_equal(h, 0x7bff);
	assert_int_equal(ujo_f32_to_f16(-65504.0f, &h), 0);
	assert_int_equal(h, 0xfbff);
	assert_int_equal(ujo_f32_to_f16(65536.0f, &h), UJO_E_VALUE);
	assert_int_equal(ujo_f32_to_f16(NAN, &h), UJO_E_VALUE);
	assert_int_equal(ujo_f32_to_f16(INFINITY, &h), UJO_E_VALUE);
	assert_int_equal(ujo_f32_to_f16(5.9604645e-08f, &h), 0); /* smallest subnormal */
	assert_int_equal(h, 0x0001);
	assert_int_equal(ujo_f32_to_f16(1e-10f, &h), 0);
	assert_int_equal(h, 0x0000);
	assert_int_equal(ujo_f32_to_f16(-0.0f, &h), 0);
	assert_int_equal(h, 0x8000);
	/* every finite half survives half -> float -> half unchanged */
	for (uint32_t x = 0; x < 0x10000; x++) {
		if ((x & 0x7c00) == 0x7c00) continue;
		assert_int_equal(ujo_f32_to_f16(ujo_f16_to_f32((uint16_t)x), &h), 0);
		assert_int_equal(h, x);
	}
	assert_true(isinf(ujo_f16_to_f32(0x7c00)));
	assert_true(isnan(ujo_f16_to_f32(0x7e00)));
	/* the writer refuses what cannot be a float16 and writes nothing */
	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);
	ujo_w_init(&w, &b);
	ujo_w_list(&w);
	assert_int_equal(ujo_w_f16(&w, 1e6f), UJO_E_VALUE);
	assert_int_equal(ujo_w_end(&w), UJO_E_VALUE); /* sticky */
	assert_int_equal(b.len, UJO_HEADER_LEN + 1);
	ujo_buf_free(&b);
}

struct negative {
	const char *name, *hex;
	int err;
};

static const struct negative negatives[] = {
	{"bad magic", "5f554a4e0100003000", UJO_E_HEADER},
	{"version 2", "5f554a4f0200003000", UJO_E_HEADER},
	{"compression 1", "5f554a4f0100013000", UJO_E_HEADER},
	{"short header", "5f554a4f0100", UJO_E_HEADER},
	{"empty", "", UJO_E_HEADER},
	{"atomic at root", "5f554a4f010000050100000000000000", UJO_E_PLACE},
	{"terminator at root", "5f554a4f01000000", UJO_E_PLACE},
	{"map ends after key", "5f554a4f010000310401010000006100", UJO_E_PLACE},
	{"list as map key", "5f554a4f0100003130000f00", UJO_E_PLACE},
	{"unknown type 14", "5f554a4f010000301400", UJO_E_TYPE},
	{"type 0x80", "5f554a4f010000308000", UJO_E_TYPE},
	{"type 0x7f", "5f554a4f010000307f00", UJO_E_TYPE},
	{"string subtype 4", "5f554a4f01000030040400000000 00", UJO_E_TYPE},
	{"truncated string data", "5f554a4f01000030040105000000 6865", UJO_E_TRUNCATED},
	{"table without columns", "5f554a4f010000320000", UJO_E_TABLE},
	{"table incomplete row", "5f554a4f0100003204010100000063 04010100000061 00 0f 00", UJO_E_TABLE},
	{"table int column", "5f554a4f01000032 0801 00 00", UJO_E_PLACE},
	{"unterminated list", "5f554a4f010000 30 05 0100000000000000", UJO_E_TRUNCATED},
	{"unterminated header only", "5f554a4f010000", UJO_E_TRUNCATED},
	{"truncated int64", "5f554a4f01000030050100", UJO_E_TRUNCATED},
	{"truncated string count", "5f554a4f010000300401050000", UJO_E_TRUNCATED},
	{"huge string length", "5f554a4f010000300401ffffffff6865", UJO_E_TOOBIG},
	{"huge utf32 length", "5f554a4f0100003004034000000141", UJO_E_TOOBIG},
	{"huge binary", "5f554a4f010000300e00ffffffff00", UJO_E_TOOBIG},
	{"cstring no NUL", "5f554a4f0100003004000200000061620000", UJO_E_VALUE},
	{"cstring units 0", "5f554a4f01000030040000000000 00", UJO_E_VALUE},
	{"cstring inner NUL", "5f554a4f010000300400030000006100620000", UJO_E_VALUE},
	{"trailing bytes", "5f554a4f010000300000", UJO_E_TRAILING},
	{"second root", "5f554a4f01000030003000", UJO_E_TRAILING},
	{"map as map key", "5f554a4f01000031310000", UJO_E_PLACE},
};

static void test_negative_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof negatives / sizeof negatives[0]; i++) {
		size_t n, off = 0;
		uint8_t *doc = tu_unhex(negatives[i].hex, &n);
		struct ujo_tree t;
		print_message("%s\n", negatives[i].name);
		assert_int_equal(ujo_validate(doc, n, &off), negatives[i].err);
		assert_true(off <= n);
		assert_int_equal(ujo_tree_parse(&t, doc, n, NULL), negatives[i].err);
		assert_null(t.root);
		free(doc);
	}
}

/* Nesting beyond UJO_MAX_DEPTH is refused by reader and writer. */
static void test_depth(void **state)
{
	(void)state;
	uint8_t doc[UJO_HEADER_LEN + 2 * (UJO_MAX_DEPTH + 1)];
	memcpy(doc, ujo_header, UJO_HEADER_LEN);
	for (int d = UJO_MAX_DEPTH; d <= UJO_MAX_DEPTH + 1; d++) {
		size_t n = UJO_HEADER_LEN;
		for (int i = 0; i < d; i++) doc[n++] = UJO_LIST;
		for (int i = 0; i < d; i++) doc[n++] = 0;
		assert_int_equal(ujo_validate(doc, n, NULL), d <= UJO_MAX_DEPTH ? 0 : UJO_E_DEPTH);
	}
	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);
	ujo_w_init(&w, &b);
	for (int i = 0; i < UJO_MAX_DEPTH; i++) assert_int_equal(ujo_w_list(&w), 0);
	assert_int_equal(ujo_w_list(&w), UJO_E_DEPTH);
	ujo_buf_free(&b);
}

/* Every proper prefix of a valid document is rejected as truncated:
 * the reader never reads past its buffer (ASan checks the reads). */
static void test_every_prefix_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVEC; i++) {
		size_t n;
		uint8_t *doc = tu_unhex(vectors[i].hex, &n);
		for (size_t k = UJO_HEADER_LEN; k < n; k++) {
			uint8_t *cut = malloc(k); /* exact size so ASan sees overreads */
			memcpy(cut, doc, k);
			assert_int_equal(ujo_validate(cut, k, NULL), UJO_E_TRUNCATED);
			free(cut);
		}
		free(doc);
	}
}

/* Writer placement rules: what libujo-c refuses, we refuse. */
static void test_writer_rules(void **state)
{
	(void)state;
	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);

	ujo_w_init(&w, &b); /* atomic at root */
	assert_int_equal(ujo_w_i64(&w, 1), UJO_E_PLACE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b); /* container as key */
	ujo_w_map(&w);
	assert_int_equal(ujo_w_list(&w), UJO_E_PLACE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b); /* close map after key */
	ujo_w_map(&w);
	key(&w, "a");
	assert_int_equal(ujo_w_end(&w), UJO_E_PLACE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b); /* table: int column, no columns, incomplete row */
	ujo_w_table(&w);
	assert_int_equal(ujo_w_i8(&w, 1), UJO_E_PLACE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b);
	ujo_w_table(&w);
	assert_int_equal(ujo_w_table_cells(&w), UJO_E_TABLE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b);
	ujo_w_table(&w);
	key(&w, "a");
	key(&w, "b");
	ujo_w_table_cells(&w);
	ujo_w_none(&w);
	assert_int_equal(ujo_w_end(&w), UJO_E_TABLE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b); /* nothing after the root, finish needs a closed root */
	ujo_w_list(&w);
	assert_int_equal(ujo_w_finish(&w), UJO_E_STATE);
	ujo_w_end(&w);
	assert_int_equal(ujo_w_finish(&w), 0);
	assert_int_equal(ujo_w_list(&w), UJO_E_STATE);
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b); /* C string cut at the first NUL */
	ujo_w_list(&w);
	ujo_w_str(&w, UJO_STR_C, "ab\0cd", 5);
	ujo_w_end(&w);
	assert_int_equal(ujo_w_finish(&w), 0);
	tu_assert_hex(b.data, b.len, "5f554a4f010000 30 0400 03000000 616200 00");
	ujo_buf_free(&b);
}

/* Walking a titanfe packet without a tree: find the payload's raw bytes
 * and splice them into a new document (the runner's hot path). */
static void test_reader_skip_and_splice(void **state)
{
	(void)state;
	size_t n;
	uint8_t *doc = tu_unhex("5f554a4f0100003005140000000000000031040103000000756964040103000000502d3104010700000073746172746564050000a0d885573416040104000000706f72740401030000006f75740401070000007061796c6f61643104010500000076616c7565052a0000000000000000040106000000627566666572310004010b000000696e7075745f656e74727901000000000000000004010a000000696e7075745f6578697401000000000000000004010c0000006f75747075745f656e747279056400a0d88557341604010b0000006f75747075745f6578697405c800a0d8855734160000", &n);
	struct ujo_reader r;
	struct ujo_value v;
	const uint8_t *raw = NULL;
	size_t rawlen = 0;
	assert_int_equal(ujo_r_init(&r, doc, n), 0);
	assert_int_equal(ujo_r_next(&r, &v), 1);
	assert_int_equal(v.type, UJO_LIST);
	assert_int_equal(ujo_r_next(&r, &v), 1);
	assert_true(v.type == UJO_I64 && v.v.i == 20);
	assert_int_equal(ujo_r_next(&r, &v), 1);
	assert_int_equal(v.type, UJO_MAP);
	int keys = 0;
	for (;;) {
		assert_int_equal(ujo_r_next(&r, &v), 1);
		if (v.type == UJO_END) break;
		assert_true(v.is_key);
		keys++;
		bool payload = ujo_value_is_str(&v, "payload");
		assert_int_equal(ujo_r_next(&r, &v), 1);
		assert_false(v.is_key);
		const uint8_t *p;
		size_t pl;
		assert_int_equal(ujo_r_skip(&r, &v, &p, &pl), 0);
		if (payload) { raw = p; rawlen = pl; }
	}
	assert_int_equal(keys, 9);
	assert_int_equal(ujo_r_next(&r, &v), 1);
	assert_int_equal(v.type, UJO_END);
	assert_int_equal(ujo_r_next(&r, &v), 0);
	tu_assert_hex(raw, rawlen, "31 04010500000076616c7565 052a00000000000000 00");

	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);
	ujo_w_init(&w, &b);
	ujo_w_list(&w);
	ujo_w_i64(&w, 20);
	ujo_w_map(&w);
	key(&w, "payload");
	assert_int_equal(ujo_w_raw(&w, raw, rawlen), 0);
	ujo_w_end(&w);
	ujo_w_end(&w);
	assert_int_equal(ujo_w_finish(&w), 0);
	assert_int_equal(ujo_validate(b.data, b.len, NULL), 0);
	/* a raw container may not be a key */
	ujo_buf_reset(&b);
	ujo_w_init(&w, &b);
	ujo_w_map(&w);
	assert_int_equal(ujo_w_raw(&w, raw, rawlen), UJO_E_PLACE);
	ujo_buf_free(&b);
	free(doc);
}

/* Bare values (no header): a payload on its own. */
static void test_bare(void **state)
{
	(void)state;
	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);
	ujo_w_init_bare(&w, &b);
	assert_int_equal(ujo_w_i64(&w, 42), 0);
	assert_int_equal(ujo_w_finish(&w), 0);
	assert_int_equal(ujo_w_i64(&w, 43), UJO_E_STATE);
	tu_assert_hex(b.data, b.len, "052a00000000000000");
	struct ujo_tree t;
	assert_int_equal(ujo_tree_parse_bare(&t, b.data, b.len, NULL), 0);
	assert_true(t.root->type == UJO_I64 && t.root->v.i == 42);
	ujo_tree_free(&t);
	assert_int_equal(ujo_tree_parse_bare(&t, b.data, b.len - 1, NULL), UJO_E_TRUNCATED);
	ujo_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_encode),
		cmocka_unit_test(test_vectors_tree_roundtrip),
		cmocka_unit_test(test_decode_values),
		cmocka_unit_test(test_map_get),
		cmocka_unit_test(test_f16),
		cmocka_unit_test(test_negative_vectors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_every_prefix_truncated),
		cmocka_unit_test(test_writer_rules),
		cmocka_unit_test(test_reader_skip_and_splice),
		cmocka_unit_test(test_bare),
	};
	return cmocka_run_group_tests_name("ujo", tests, NULL, NULL);
}
