/* fuzz_ujoschema.c — libFuzzer target for the UJO schema parser and
 * schema_to_type: schema text comes from the Grid Manager's brick
 * description, so it is hostile input. Every defined name the parser
 * accepts must give a default value that is a valid bare UJO value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ujo.h"
#include "ujoschema.h"

static const char *const names[] = {"A", "B", "T", "In", "Reading", "Number", "ports"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ujs_schema *s = NULL;
	char err[256];
	if (ujs_parse(&s, (const char *)data, size, err, sizeof err) != 0) return 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct ujo_buf b;
		struct ujo_tree t;
		ujo_buf_init(&b);
		if (ujs_default(s, names[i], &b, err, sizeof err) == 0) {
			if (ujo_tree_parse_bare(&t, b.data, b.len, NULL)) abort();
			ujo_tree_free(&t);
		}
		ujo_buf_free(&b);
	}
	ujs_free(s);
	return 0;
}
