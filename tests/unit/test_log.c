/* test_log.c — log records: format, one write each, escaping, truncation,
 * levels, log_q quoting, and no interleaving between threads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static int fds[2] = {-1, -1};

/* Each test logs into a fresh non-blocking pipe. */
static int setup(void **state)
{
	(void)state;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	log_init("test");
	log_set_level(LOG_LVL_INFO);
	log_set_fd(fds[1]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_fd(2);
	close(fds[0]);
	close(fds[1]);
	return 0;
}

/* Everything currently in the pipe, NUL-terminated; returns its length. */
static size_t drain(char *buf, size_t n)
{
	size_t got = 0;

	for (;;) {
		ssize_t r = read(fds[0], buf + got, n - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return got;
}

static size_t count_char(const char *s, size_t len, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++)
		k += s[i] == c;
	return k;
}

static void test_format(void **state)
{
	char buf[8192];
	(void)state;

	log_init("/usr/local/bin/titan-run-brick");
	assert_string_equal(log_progname(), "titan-run-brick");
	log_info("listening port=%d", 8000);
	log_warn("slow queue depth=%u", 12u);
	log_error("giving up");
	drain(buf, sizeof buf);
	assert_string_equal(buf,
		"titan-run-brick: info: listening port=8000\n"
		"titan-run-brick: warning: slow queue depth=12\n"
		"titan-run-brick: error: giving up\n");
}

static void test_progname_sanitised(void **state)
{
	(void)state;
	log_init("my prog:x\n");
	assert_string_equal(log_progname(), "my?prog?x?");
	log_init(NULL); /* ignored */
	assert_string_equal(log_progname(), "my?prog?x?");
	log_init("dir/");
	assert_string_equal(log_progname(), "dir/");
}

static void test_levels(void **state)
{
	char buf[4096];
	(void)state;

	assert_int_equal(log_get_level(), LOG_LVL_INFO);
	log_debug("hidden");
	assert_int_equal(drain(buf, sizeof buf), 0);

	log_set_level(LOG_LVL_WARNING);
	assert_false(log_enabled(LOG_LVL_INFO));
	assert_true(log_enabled(LOG_LVL_ERROR));
	log_info("hidden too");
	log_warn("shown");
	log_error("also shown");
	drain(buf, sizeof buf);
	assert_string_equal(buf, "test: warning: shown\ntest: error: also shown\n");

	log_set_level(LOG_LVL_DEBUG);
	log_debug("now visible");
	drain(buf, sizeof buf);
	assert_string_equal(buf, "test: debug: now visible\n");

	log_set_level((enum log_level)42); /* clamped */
	assert_int_equal(log_get_level(), LOG_LVL_ERROR);
}

static void test_level_parse(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("INFO"), LOG_LVL_INFO);
	assert_int_equal(log_level_parse("warning"), LOG_LVL_WARNING);
	assert_int_equal(log_level_parse("Warn"), LOG_LVL_WARNING);
	assert_int_equal(log_level_parse("error"), LOG_LVL_ERROR);
	assert_int_equal(log_level_parse("fatal"), -1);
	assert_int_equal(log_level_parse(""), -1);
	assert_int_equal(log_level_parse("info "), -1);
	assert_int_equal(log_level_parse(NULL), -1);
	assert_string_equal(log_level_name(LOG_LVL_WARNING), "warning");
}

/* SOCK_SEQPACKET keeps write boundaries: one recv = one write(2). */
static void test_one_write_per_record(void **state)
{
	int sp[2];
	char msg[3000], rec[LOG_LINE_MAX + 64];
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	log_set_fd(sp[0]);
	memset(msg, 'm', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	log_info("a=%s b=%d", msg, 7);
	log_error("%s%s%s%s", msg, msg, msg, msg); /* truncated: still one write */

	ssize_t r = recv(sp[1], rec, sizeof rec, MSG_DONTWAIT);
	assert_int_equal(r, strlen("test: info: a=") + strlen(msg) + strlen(" b=7\n"));
	assert_memory_equal(rec, "test: info: a=mmm", 17);
	assert_int_equal(rec[r - 1], '\n');
	r = recv(sp[1], rec, sizeof rec, MSG_DONTWAIT);
	assert_int_equal(r, LOG_LINE_MAX);
	assert_int_equal(rec[r - 1], '\n');
	r = recv(sp[1], rec, sizeof rec, MSG_DONTWAIT);
	assert_int_equal(r, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(sp[0]);
	close(sp[1]);
}

static void test_escaping(void **state)
{
	char buf[4096];
	(void)state;

	log_info("a\nb\rc\td\x1b[31me\x7f f\\g \xc3\xa9 %s", "inj\ntest: error: forged");
	size_t n = drain(buf, sizeof buf);
	assert_string_equal(buf,
		"test: info: a\\nb\\rc\\td\\x1b[31me\\x7f f\\g \xc3\xa9 inj\\ntest: error: forged\n");
	assert_int_equal(count_char(buf, n, '\n'), 1);
}

static void test_errno_preserved(void **state)
{
	char buf[4096];
	(void)state;

	errno = ENOENT;
	log_error("open failed: %m");
	assert_int_equal(errno, ENOENT);
	drain(buf, sizeof buf);
	assert_string_equal(buf, "test: error: open failed: No such file or directory\n");
	errno = EACCES;
	log_debug("filtered");
	assert_int_equal(errno, EACCES);
}

static void test_truncation(void **state)
{
	static char big[3 * LOG_LINE_MAX];
	char buf[2 * LOG_LINE_MAX];
	(void)state;

	memset(big, 'x', sizeof big - 1);
	log_info("%s", big);
	size_t n = drain(buf, sizeof buf);
	assert_int_equal(n, LOG_LINE_MAX);
	assert_int_equal(count_char(buf, n, '\n'), 1);
	assert_string_equal(buf + n - 6, "xx...\n");
	assert_memory_equal(buf, "test: info: xxx", 15);
}

/* The cut never splits "\n" into "\" or a UTF-8 character. */
static void test_truncation_boundaries(void **state)
{
	static char nl[LOG_LINE_MAX], utf[LOG_LINE_MAX];
	char buf[2 * LOG_LINE_MAX];
	(void)state;

	memset(nl, '\n', sizeof nl - 1);
	log_info("%s", nl);
	size_t n = drain(buf, sizeof buf);
	assert_true(n <= LOG_LINE_MAX);
	assert_int_equal(count_char(buf, n, '\n'), 1);
	assert_string_equal(buf + n - 6, "\\n...\n");

	for (size_t i = 0; i + 2 < sizeof utf; i += 2)
		memcpy(utf + i, "\xc3\xa9", 2);
	for (int shift = 0; shift < 2; shift++) {
		log_info("%.*s%s", shift, "y", utf); /* both parities of the cut */
		n = drain(buf, sizeof buf);
		assert_true(n <= LOG_LINE_MAX && n >= LOG_LINE_MAX - 2);
		assert_string_equal(buf + n - 6, "\xc3\xa9...\n");
	}
}

/* A message that exactly fills the record is not marked; one more byte is. */
static void test_exact_fit(void **state)
{
	static char msg[LOG_LINE_MAX];
	char buf[2 * LOG_LINE_MAX];
	size_t room = LOG_LINE_MAX - strlen("test: info: ") - 1;
	(void)state;

	memset(msg, 'z', room);
	msg[room] = '\0';
	log_info("%s", msg);
	size_t n = drain(buf, sizeof buf);
	assert_int_equal(n, LOG_LINE_MAX);
	assert_string_equal(buf + n - 3, "zz\n");

	log_info("%s!", msg);
	n = drain(buf, sizeof buf);
	assert_int_equal(n, LOG_LINE_MAX);
	assert_string_equal(buf + n - 6, "zz...\n");
}

static size_t format(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t r = log_format(out, n, LOG_LVL_INFO, fmt, ap);
	va_end(ap);
	return r;
}

/* log_format into caller buffers: the record always fits n - 1 bytes. */
static void test_format_buffer(void **state)
{
	char out[32];
	(void)state;

	assert_int_equal(format(out, 8, "x"), 0); /* the prefix does not fit */
	assert_string_equal(out, "");
	assert_int_equal(format(out, sizeof out, "n=%d", 5), strlen("test: info: n=5\n"));
	assert_string_equal(out, "test: info: n=5\n");
	assert_int_equal(format(out, sizeof out, "%s", "0123456789abcdefghij"), sizeof out - 1);
	assert_string_equal(out, "test: info: 0123456789abcde...\n");
}

static void test_q(void **state)
{
	char b[64], small[12];
	const char *plain = "R-0a1b2c3d";
	(void)state;

	assert_ptr_equal(log_q(b, sizeof b, plain), plain);
	assert_string_equal(log_q(b, sizeof b, "a b"), "\"a b\"");
	assert_string_equal(log_q(b, sizeof b, ""), "\"\"");
	assert_string_equal(log_q(b, sizeof b, "k=v"), "\"k=v\"");
	assert_string_equal(log_q(b, sizeof b, "it's"), "\"it's\"");
	assert_string_equal(log_q(b, sizeof b, "say \"hi\""), "\"say \\\"hi\\\"\"");
	assert_string_equal(log_q(b, sizeof b, "c:\\dir"), "\"c:\\\\dir\"");
	assert_string_equal(log_q(b, sizeof b, "a\nb\x01"), "\"a\\nb\\x01\"");
	assert_string_equal(log_q(b, sizeof b, NULL), "(null)");
	assert_string_equal(log_q(small, 4, "a b"), "\"...\"");

	const char *t = log_q(small, sizeof small, "a long value with spaces");
	assert_ptr_equal(t, small);
	assert_string_equal(t, "\"a long...\"");
	assert_true(strlen(t) <= sizeof small - 1);
	t = log_q(small, sizeof small, "\"\"\"\"\"\"\"\"");
	assert_string_equal(t, "\"\\\"\\\"\\\"...\"");
	char odd[13]; /* room for 7 content bytes: 3 escapes, never half of a 4th */
	assert_string_equal(log_q(odd, sizeof odd, "\"\"\"\"\"\"\"\""), "\"\\\"\\\"\\\"...\"");
}

/* log_q output survives log_msg unchanged (nothing left to escape). */
static void test_q_in_record(void **state)
{
	char b[64], buf[4096];
	(void)state;

	log_info("brick name=%s id=%s", log_q(b, sizeof b, "my\tbrick \"x\""), log_q(NULL, 0, "B-1"));
	drain(buf, sizeof buf);
	assert_string_equal(buf, "test: info: brick name=\"my\\tbrick \\\"x\\\"\" id=B-1\n");
}

#define THREADS 4
#define PER_THREAD 400

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	char fill[1500];

	for (int i = 0; i < PER_THREAD; i++) {
		size_t len = 100 + (size_t)((i * 37 + id * 11) % 1300);
		memset(fill, 'a' + id, len);
		fill[len] = '\0';
		log_info("thread=%d seq=%d %s", id, i, fill);
	}
	return NULL;
}

static void check_line(const char *line, size_t len, int seen[THREADS])
{
	int id, seq, off = 0;

	assert_int_equal(sscanf(line, "test: info: thread=%d seq=%d %n", &id, &seq, &off), 2);
	assert_true(id >= 0 && id < THREADS && off > 0);
	assert_int_equal(seq, seen[id]); /* one thread's records stay in order */
	seen[id]++;
	size_t want = 100 + (size_t)((seq * 37 + id * 11) % 1300);
	assert_int_equal(len - (size_t)off, want);
	for (size_t i = (size_t)off; i < len; i++)
		assert_int_equal(line[i], 'a' + id);
}

/* Records of concurrent writers never interleave on a pipe. */
static void test_threads(void **state)
{
	pthread_t th[THREADS];
	size_t cap = (size_t)THREADS * PER_THREAD * 1500, got = 0, lines = 0;
	char *buf = malloc(cap);
	int seen[THREADS] = {0};
	(void)state;

	assert_non_null(buf);
	assert_int_equal(fcntl(fds[0], F_SETFL, 0), 0); /* blocking reads */
	assert_int_equal(fcntl(fds[1], F_SETFL, 0), 0); /* writers wait for room */
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i), 0);
	while (lines < THREADS * PER_THREAD) {
		ssize_t r = read(fds[0], buf + got, cap - got);
		assert_true(r > 0);
		lines += count_char(buf + got, (size_t)r, '\n');
		got += (size_t)r;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (size_t start = 0; start < got;) {
		const char *nl = memchr(buf + start, '\n', got - start);
		assert_non_null(nl);
		buf[nl - buf] = '\0';
		check_line(buf + start, (size_t)(nl - (buf + start)), seen);
		start = (size_t)(nl - buf) + 1;
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(seen[i], PER_THREAD);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progname_sanitised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_write_per_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno_preserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_q, setup, teardown),
		cmocka_unit_test_setup_teardown(test_q_in_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
