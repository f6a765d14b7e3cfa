/* log.h — one line per event on stderr: "prog: level: message key=value".
 *
 * The format is the toolkit's convention (ARCHITECTURE.md §6): no
 * timestamps (s6-log and journald add them), one record per line, never a
 * multi-line record. To keep that promise whatever the message contains:
 *
 *  - control characters (newline, CR, tab, ESC, ...) and DEL in the
 *    formatted message are written as \n, \r, \t or \xNN, so a value that
 *    came from the network cannot forge a second record or a terminal
 *    escape sequence; bytes >= 0x80 (UTF-8) pass unchanged, and so does
 *    the backslash (paths stay readable);
 *  - a record longer than LOG_LINE_MAX bytes (newline included) is cut,
 *    never in the middle of an escape or a UTF-8 sequence, and ends with
 *    "..." and exactly one newline;
 *  - each record is emitted with ONE write(2) of at most LOG_LINE_MAX
 *    (= PIPE_BUF) bytes, so records of several threads or processes
 *    sharing a pipe never interleave.
 *
 * Values that may contain spaces, quotes or '=' go through log_q() so a
 * reader can still split "key=value" pairs:
 *
 *     char qb[256];
 *     log_info("installed brick name=%s", log_q(qb, sizeof qb, name));
 *
 * Thread safety: log_msg() may be called from any thread; it formats on
 * the stack and shares no mutable buffer. log_init() should be called once
 * at start-up, before threads exist. The level and the descriptor may be
 * changed at any time (atomic). Logging preserves errno, so "%m" works and
 * a caller's errno survives a log call. The library never installs signal
 * handlers: a program logging to a pipe should ignore SIGPIPE itself.
 */
#ifndef TITAN_LOG_H
#define TITAN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "titan_limits.h"

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_WARNING = 2,
	LOG_LVL_ERROR = 3,
};

/* Program name shown at the start of each record; the directory part of a
 * path (argv[0]) is dropped, the name is cut to 63 bytes and characters
 * that would break the format (control characters, space, ':') become '?'.
 * Before log_init the name is "titan". */
void log_init(const char *progname);
const char *log_progname(void);

/* Records below `level` are dropped. The default is LOG_LVL_INFO. A value
 * outside the enum is clamped into it. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

/* "debug", "info", "warning" (or "warn"), "error", in any case; -1 for
 * anything else (NULL included). */
int log_level_parse(const char *name);
/* The name used in records: "debug", "info", "warning", "error". */
const char *log_level_name(enum log_level level);

/* Where records go; default 2 (stderr). The descriptor is not owned. */
void log_set_fd(int fd);

/* printf-style; the message must not end with a newline (one would be
 * escaped as "\n"). Write errors are ignored: logging never fails the
 * caller. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

/* Build the complete record (prefix, escaped message, newline) into
 * out[0..n) without writing it; returns its length (< n, NUL-terminated),
 * or 0 when n is too small for even a prefix. log_msg uses it with
 * n = LOG_LINE_MAX + 1; exposed for tests and for programs that ship log
 * records elsewhere. */
size_t log_format(char *out, size_t n, enum log_level level,
	const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* A value safe to print after "key=": returns s itself when it is
 * non-empty and has no space, quote ('"' or '\''), '=', backslash, control
 * character or DEL; otherwise a double-quoted copy in buf where '"' and
 * '\' are backslash-escaped and control characters are written as \n, \r,
 * \t or \xNN. A copy that does not fit in n bytes is cut and ends in
 * '..."'. NULL gives "(null)"; a buf too small (n < 8) gives "\"...\"".
 * The result is never longer than n - 1 bytes. */
const char *log_q(char *buf, size_t n, const char *s);

#endif
