/* test_pickle.c — the pickle writer against bytes CPython 3.11 produced
 * with pickle.dumps(obj, protocol=3) for objects from json.loads (so no
 * shared strings beyond CPython's own singletons). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>

#include "pickle.h"

struct fx {
	struct ujo_buf b;
	struct pickle_writer w;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (f == NULL) return -1;
	ujo_buf_init(&f->b);
	pickle_w_init(&f->w, &f->b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ujo_buf_free(&f->b);
	free(f);
	return 0;
}

#define S(w, lit) pickle_w_str((w), (lit), sizeof(lit) - 1)

/* titanfe-protocol.md §12: the verified example. */
static void test_reference_record(void **state)
{
	struct fx *f = *state;
	struct pickle_writer *w = &f->w;
	pickle_w_dict(w, 4);
	S(w, "content_type");
	S(w, "titan-brick-metrics");
	S(w, "execution_time");
	pickle_w_float(w, 1.5);
	S(w, "at_outlet");
	pickle_w_bool(w, false);
	S(w, "queue_length");
	pickle_w_int(w, 3);
	assert_int_equal(pickle_w_end(w), 0);
	assert_int_equal(pickle_w_finish(w), 0);
	tu_assert_hex(f->b.data, f->b.len,
		"80037d710028580c000000636f6e74656e745f7479706571015813000000746974616e2d627269636b2d6d6574726963737102"
		"580e000000657865637574696f6e5f74696d657103473ff8000000000000580900000061745f6f75746c6574710489580c000000"
		"71756575655f6c656e67746871054b03752e");
}

/* Every integer width, at its boundaries. */
static void test_ints(void **state)
{
	static const struct {
		int64_t v;
		const char *hex;
	} t[] = {
		{0, "4b00"}, {255, "4bff"}, {256, "4d0001"}, {65535, "4dffff"},
		{65536, "4a00000100"}, {-1, "4affffffff"}, {-128, "4a80ffffff"}, {-129, "4a7fffffff"},
		{INT32_MIN, "4a00000080"}, {INT32_MAX, "4affffff7f"},
		{2147483648LL, "8a050000008000"}, {-2147483649LL, "8a05ffffff7fff"},
		{1099511627776LL, "8a06000000000001"},
		{INT64_MAX, "8a08ffffffffffffff7f"}, {INT64_MIN, "8a080000000000000080"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct ujo_buf b;
		struct pickle_writer w;
		char hex[64];
		ujo_buf_init(&b);
		pickle_w_init(&w, &b);
		pickle_w_int(&w, t[i].v);
		assert_int_equal(pickle_w_finish(&w), 0);
		snprintf(hex, sizeof hex, "8003%s2e", t[i].hex);
		tu_assert_hex(b.data, b.len, hex);
		ujo_buf_free(&b);
	}
}

/* Floats are big-endian IEEE doubles, infinities and subnormals as is. */
static void test_floats(void **state)
{
	struct fx *f = *state;
	pickle_w_list(&f->w, 3);
	pickle_w_float(&f->w, 1.0);
	pickle_w_float(&f->w, -INFINITY);
	pickle_w_float(&f->w, 5e-324);
	pickle_w_end(&f->w);
	assert_int_equal(pickle_w_finish(&f->w), 0);
	tu_assert_hex(f->b.data, f->b.len,
		"80035d710028473ff000000000000047fff0000000000000470000000000000001652e");
}

/* json.loads('{"a":[1,{"b":null}],"c":[],"d":{},"e":true,"f":-1.25,
 * "g":"Grüße €😀"}') — nesting, one-item containers (SETITEM, APPEND),
 * empty ones, UTF-8. */
static void test_nested(void **state)
{
	struct fx *f = *state;
	struct pickle_writer *w = &f->w;
	pickle_w_dict(w, 6);
	S(w, "a");
	pickle_w_list(w, 2);
	pickle_w_int(w, 1);
	pickle_w_dict(w, 1);
	S(w, "b");
	pickle_w_none(w);
	pickle_w_end(w);
	pickle_w_end(w);
	S(w, "c");
	pickle_w_list(w, 0);
	pickle_w_end(w);
	S(w, "d");
	pickle_w_dict(w, 0);
	pickle_w_end(w);
	S(w, "e");
	pickle_w_bool(w, true);
	S(w, "f");
	pickle_w_float(w, -1.25);
	S(w, "g");
	S(w, "Grüße €😀");
	pickle_w_end(w);
	assert_int_equal(pickle_w_finish(w), 0);
	tu_assert_hex(f->b.data, f->b.len,
		"80037d71002858010000006171015d7102284b017d710358010000006271044e736558010000006371055d71065801000000"
		"6471077d7108580100000065710988580100000066710a47bff4000000000000580100000067710b580f0000004772c3bcc3"
		"9f6520e282acf09f9880710c752e");
}

/* CPython shares "" and one-character strings below U+0100: the second
 * occurrence is a BINGET. "ab" and "Ā" (U+0100) are not shared.
 * json.loads('{"a":"a","b":["é","é","","","ab","ab","Ā","Ā"]}') */
static void test_shared_strings(void **state)
{
	struct fx *f = *state;
	struct pickle_writer *w = &f->w;
	static const char *items[] = {"é", "é", "", "", "ab", "ab", "Ā", "Ā"};
	pickle_w_dict(w, 2);
	S(w, "a");
	S(w, "a");
	S(w, "b");
	pickle_w_list(w, 8);
	for (int i = 0; i < 8; i++) pickle_w_str(w, items[i], strlen(items[i]));
	pickle_w_end(w);
	pickle_w_end(w);
	assert_int_equal(pickle_w_finish(w), 0);
	tu_assert_hex(f->b.data, f->b.len,
		"80037d7100285801000000617101680158010000006271025d7103285802000000c3a9710468045800000000710568055802"
		"000000616271065802000000616271075802000000c48071085802000000c480710965752e");
}

/* Memo indexes from 256 on: LONG_BINPUT and LONG_BINGET.
 * ["x", "0".."299", "x", "", ""] — the tail of CPython's 3061 bytes. */
static void test_long_memo(void **state)
{
	struct fx *f = *state;
	char s[8];
	pickle_w_list(&f->w, 304);
	S(&f->w, "x");
	for (int i = 0; i < 300; i++) pickle_w_str(&f->w, s, (size_t)snprintf(s, sizeof s, "%d", i));
	S(&f->w, "x");
	S(&f->w, "");
	S(&f->w, "");
	pickle_w_end(&f->w);
	assert_int_equal(pickle_w_finish(&f->w), 0);
	assert_int_equal(f->b.len, 3061);
	tu_assert_hex(f->b.data + f->b.len - 30, 30,
		"000000323939722d01000068015800000000722e0100006a2e010000652e");
}

/* Batches of 1000, with CPython's extra empty batch after a dict of
 * exactly 1000 items (but not after a list). */
static void batch(struct fx *f, bool dict, int n, size_t len, const char *tail)
{
	char s[8];
	if (dict) pickle_w_dict(&f->w, (size_t)n);
	else pickle_w_list(&f->w, (size_t)n);
	for (int i = 0; i < n; i++) {
		if (dict) pickle_w_str(&f->w, s, (size_t)snprintf(s, sizeof s, "%d", i));
		pickle_w_int(&f->w, i);
	}
	assert_int_equal(pickle_w_end(&f->w), 0);
	assert_int_equal(pickle_w_finish(&f->w), 0);
	assert_int_equal(f->b.len, len);
	size_t tl = strlen(tail) / 2;
	tu_assert_hex(f->b.data + f->b.len - tl, tl, tail);
}

static void test_batch_dict_1000(void **state)
{
	batch(*state, true, 1000, 14879, "72e80300004de7037528752e");
}

static void test_batch_dict_1001(void **state)
{
	batch(*state, true, 1001, 14896, "4de703752858040000003130303072e90300004de803752e");
}

static void test_batch_list_1000(void **state)
{
	batch(*state, false, 1000, 2752, "034de5034de6034de703652e");
}

static void test_batch_list_2001(void **state)
{
	batch(*state, false, 2001, 5759, "ce074dcf0765284dd007652e");
}

/* Misuse is reported, sticky, and never writes past the announced shape. */
static void test_misuse(void **state)
{
	struct ujo_buf b;
	struct pickle_writer w;
	(void)state;
	ujo_buf_init(&b);

	pickle_w_init(&w, &b); /* too many items */
	pickle_w_list(&w, 1);
	pickle_w_int(&w, 1);
	assert_int_equal(pickle_w_int(&w, 2), PICKLE_E_STATE);
	assert_int_equal(pickle_w_finish(&w), PICKLE_E_STATE);

	ujo_buf_reset(&b); /* too few */
	pickle_w_init(&w, &b);
	pickle_w_dict(&w, 2);
	S(&w, "k");
	pickle_w_int(&w, 1);
	assert_int_equal(pickle_w_end(&w), PICKLE_E_STATE);

	ujo_buf_reset(&b); /* key without value */
	pickle_w_init(&w, &b);
	pickle_w_dict(&w, 1);
	S(&w, "k");
	assert_int_equal(pickle_w_end(&w), PICKLE_E_STATE);

	ujo_buf_reset(&b); /* a container as key */
	pickle_w_init(&w, &b);
	pickle_w_dict(&w, 1);
	assert_int_equal(pickle_w_list(&w, 0), PICKLE_E_STATE);

	ujo_buf_reset(&b); /* a second root, end without open, empty pickle */
	pickle_w_init(&w, &b);
	pickle_w_none(&w);
	assert_int_equal(pickle_w_none(&w), PICKLE_E_STATE);
	pickle_w_init(&w, &b);
	assert_int_equal(pickle_w_end(&w), PICKLE_E_STATE);
	pickle_w_init(&w, &b);
	assert_int_equal(pickle_w_finish(&w), PICKLE_E_STATE);

	ujo_buf_reset(&b); /* depth */
	pickle_w_init(&w, &b);
	for (int i = 0; i < PICKLE_MAX_DEPTH; i++) assert_int_equal(pickle_w_list(&w, 1), 0);
	assert_int_equal(pickle_w_list(&w, 1), PICKLE_E_DEPTH);
	assert_string_equal(pickle_strerror(PICKLE_E_DEPTH), "nesting too deep");
	ujo_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reference_record, setup, teardown),
		cmocka_unit_test(test_ints),
		cmocka_unit_test_setup_teardown(test_floats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_memo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_dict_1000, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_dict_1001, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_list_1000, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_list_2001, setup, teardown),
		cmocka_unit_test(test_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
