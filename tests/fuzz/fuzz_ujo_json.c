/* fuzz_ujo_json.c — libFuzzer target for the JSON <-> UJO converter.
 * Arbitrary bytes go to the JSON parser (bare values, several per input);
 * whatever it accepts must be a valid UJO value, and its typed JSON form
 * must parse back to exactly the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ujo.h"
#include "ujo_json.h"

static void roundtrip(const struct ujo_buf *b)
{
	struct ujo_reader r;
	struct ujo_buf json, again;
	struct ujo_writer w;
	struct ujo_json_error e;
	size_t pos = 0;
	ujo_buf_init(&json);
	ujo_buf_init(&again);
	ujo_r_init_bare(&r, b->data, b->len);
	if (ujo_json_emit_buf(&r, UJO_JSON_TYPED, &json) < 0) abort();
	ujo_w_init_bare(&w, &again);
	if (ujo_json_parse((const char *)json.data, json.len, &pos, &w, UJO_JSON_BARE, &e) != 1) abort();
	if (ujo_w_finish(&w) || again.len != b->len || memcmp(again.data, b->data, b->len)) abort();
	ujo_buf_free(&json);
	ujo_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	for (int i = 0; i < 8 && pos < size; i++) {
		struct ujo_buf b;
		struct ujo_writer w;
		struct ujo_json_error e;
		ujo_buf_init(&b);
		ujo_w_init_bare(&w, &b);
		int rc = ujo_json_parse((const char *)data, size, &pos, &w, UJO_JSON_BARE | UJO_JSON_MULTI, &e);
		if (rc == 1) {
			struct ujo_tree t;
			if (ujo_w_finish(&w) || ujo_tree_parse_bare(&t, b.data, b.len, NULL)) abort();
			ujo_tree_free(&t);
			roundtrip(&b);
		}
		ujo_buf_free(&b);
		if (rc != 1) break;
	}
	return 0;
}
