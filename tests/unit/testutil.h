/* testutil.h — small helpers shared by the cmocka unit tests. */
#ifndef TITAN_TESTUTIL_H
#define TITAN_TESTUTIL_H

#include <setjmp.h> /* cmocka needs these before cmocka.h */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Decode hex (spaces and '|' ignored) into a malloc'd buffer. */
static inline uint8_t *tu_unhex(const char *hex, size_t *len)
{
	uint8_t *out = malloc(strlen(hex) / 2 + 1);
	size_t n = 0;
	int hi = -1;
	assert_non_null(out);
	for (const char *p = hex; *p; p++) {
		int d;
		if (*p >= '0' && *p <= '9') d = *p - '0';
		else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
		else continue;
		if (hi < 0) hi = d;
		else { out[n++] = (uint8_t)(hi << 4 | d); hi = -1; }
	}
	assert_int_equal(hi, -1);
	*len = n;
	return out;
}

/* Lowercase hex of a buffer into a malloc'd string. */
static inline char *tu_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = "0123456789abcdef"[p[i] >> 4];
		s[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
	}
	s[2 * n] = 0;
	return s;
}

/* Assert that a buffer equals the hex string (compared as hex, so a
 * failure shows both). */
#define tu_assert_hex(p, n, hex)                                          \
	do {                                                              \
		size_t tu_n_;                                             \
		uint8_t *tu_e_ = tu_unhex((hex), &tu_n_);                 \
		char *tu_a_ = tu_hex((p), (n)), *tu_b_ = tu_hex(tu_e_, tu_n_); \
		assert_string_equal(tu_a_, tu_b_);                        \
		free(tu_a_); free(tu_b_); free(tu_e_);                    \
	} while (0)

#endif
