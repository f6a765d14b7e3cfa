/* test_uid.c — uid_new / uid_valid: shape, prefixes, randomness. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uid.h"

static void test_shape(void **state)
{
	char u[UID_LEN + 1];
	(void)state;

	assert_int_equal(uid_new('R', u), 0);
	assert_int_equal(strlen(u), UID_LEN);
	assert_int_equal(u[0], 'R');
	assert_int_equal(u[1], '-');
	for (int i = 2; i < UID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", u[i]));
	assert_true(uid_valid(u));
}

static void test_prefixes(void **state)
{
	char u[UID_LEN + 1];
	const char good[] = "RPC", bad[] = "rpcXB-0 \x80";
	(void)state;

	for (size_t i = 0; good[i] != '\0'; i++) {
		assert_int_equal(uid_new(good[i], u), 0);
		assert_int_equal(u[0], good[i]);
		assert_true(uid_valid(u));
	}
	for (size_t i = 0; i < sizeof bad - 1; i++) {
		memcpy(u, "junkjunkju", sizeof u);
		errno = 0;
		assert_int_equal(uid_new(bad[i], u), -1);
		assert_int_equal(errno, EINVAL);
		assert_string_equal(u, "");
	}
	assert_int_equal(uid_new('\0', u), -1);
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(uid_valid("R-0a1b2c3d"));
	assert_true(uid_valid("P-ffffffff"));
	assert_true(uid_valid("C-00000000"));
	assert_false(uid_valid(NULL));
	assert_false(uid_valid(""));
	assert_false(uid_valid("R-"));
	assert_false(uid_valid("R-0a1b2c3"));    /* short */
	assert_false(uid_valid("R-0a1b2c3d4"));  /* long */
	assert_false(uid_valid("R-0A1B2C3D"));   /* upper-case hex */
	assert_false(uid_valid("R-0a1b2c3g"));
	assert_false(uid_valid("X-0a1b2c3d"));
	assert_false(uid_valid("r-0a1b2c3d"));
	assert_false(uid_valid("R_0a1b2c3d"));
	assert_false(uid_valid("R-0a1b 2c3"));
	assert_false(uid_valid("C-B-1-0a1b2c3d")); /* the original's consumer id form */
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

#define N 4096

/* 32 random bits: among 4096 ids a collision has probability ~0.2%, two
 * collisions ~2e-6. A broken source (constant, counter with few bits,
 * rand() seeded alike) fails at once. Every hex digit must also appear at
 * every position (a stuck nibble would not). */
static void test_unique(void **state)
{
	static char ids[N][UID_LEN + 1];
	unsigned seen[UID_LEN][16] = {{0}};
	int dups = 0;
	(void)state;

	for (int i = 0; i < N; i++) {
		assert_int_equal(uid_new('P', ids[i]), 0);
		for (int p = 2; p < UID_LEN; p++) {
			char c = ids[i][p];
			seen[p][c <= '9' ? c - '0' : c - 'a' + 10]++;
		}
	}
	qsort(ids, N, sizeof ids[0], cmp);
	for (int i = 1; i < N; i++)
		dups += strcmp(ids[i - 1], ids[i]) == 0;
	assert_true(dups <= 1);
	for (int p = 2; p < UID_LEN; p++)
		for (int d = 0; d < 16; d++)
			assert_true(seen[p][d] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_unique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
