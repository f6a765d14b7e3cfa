/* fuzz_ujo.c — libFuzzer target for the UJO decoder.
 * Whatever the input, the reader must not crash or read out of bounds,
 * the tree must agree with the validator, and a document that parses
 * must re-encode to exactly the same bytes (the codec is canonical
 * except for bool bytes other than 0/1, which the writer normalises). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ujo.h"

/* The writer normalises bool bytes to 00/01; every other byte of a valid
 * document must come back unchanged. */
static void check_same(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i] && !(i && a[i - 1] == UJO_BOOL && a[i] > 1 && b[i] == 1)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int v = ujo_validate(data, size, &off);
	if (off > size) abort();
	struct ujo_tree t;
	int rc = ujo_tree_parse(&t, data, size, NULL);
	if ((rc == 0) != (v == 0)) abort();
	if (rc == 0) {
		struct ujo_buf b;
		struct ujo_writer w;
		ujo_buf_init(&b);
		ujo_w_init(&w, &b);
		if (ujo_tree_write(&w, t.root) || ujo_w_finish(&w)) abort();
		if (b.len != size) abort();
		check_same(data, b.data, size);
		ujo_buf_free(&b);
		ujo_tree_free(&t);
	}
	/* the same bytes as a bare value */
	if (ujo_tree_parse_bare(&t, data, size, NULL) == 0) ujo_tree_free(&t);
	return 0;
}
