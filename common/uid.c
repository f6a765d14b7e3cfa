/* uid.c — random ids "R-0a1b2c3d" (see uid.h). */
#include "uid.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static bool valid_prefix(char c)
{
	return c == 'R' || c == 'P' || c == 'C';
}

/* Fill buf with random bytes. Requests this small never return short once
 * the pool is initialised, but a signal during early boot can interrupt. */
static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int uid_new(char prefix, char out[UID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[4];

	out[0] = '\0';
	if (!valid_prefix(prefix)) {
		errno = EINVAL;
		return -1;
	}
	if (random_bytes(rnd, sizeof rnd) < 0)
		return -1;
	out[0] = prefix;
	out[1] = '-';
	for (size_t i = 0; i < sizeof rnd; i++) {
		out[2 + 2 * i] = hex[rnd[i] >> 4];
		out[3 + 2 * i] = hex[rnd[i] & 15];
	}
	out[UID_LEN] = '\0';
	return 0;
}

bool uid_valid(const char *s)
{
	if (s == NULL || !valid_prefix(s[0]) || s[1] != '-')
		return false;
	for (int i = 2; i < UID_LEN; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[UID_LEN] == '\0';
}
