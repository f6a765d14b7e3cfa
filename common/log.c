/* log.c — single-line, single-write log records. See log.h for the rules. */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROGNAME_MAX 64

/* Set once by log_init before threads start; read by every record. */
static char progname[PROGNAME_MAX] = "titan";
/* Changed at run time (a signal handler or a control thread may lower the
 * level), hence atomic; relaxed order is enough, no data hangs off them. */
static atomic_int min_level = LOG_LVL_INFO;
static atomic_int out_fd = 2;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void log_init(const char *name)
{
	if (name == NULL || *name == '\0')
		return;
	const char *slash = strrchr(name, '/');
	if (slash != NULL && slash[1] != '\0')
		name = slash + 1;
	size_t i;
	for (i = 0; i < PROGNAME_MAX - 1 && name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];
		/* ':' and ' ' separate the fields of a record. */
		progname[i] = (c <= ' ' || c == ':' || c == 0x7f) ? '?' : (char)c;
	}
	progname[i] = '\0';
}

const char *log_progname(void)
{
	return progname;
}

static enum log_level clamp_level(int level)
{
	if (level < LOG_LVL_DEBUG)
		return LOG_LVL_DEBUG;
	if (level > LOG_LVL_ERROR)
		return LOG_LVL_ERROR;
	return (enum log_level)level;
}

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&min_level, clamp_level((int)level), memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&min_level, memory_order_relaxed);
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = LOG_LVL_DEBUG; i <= LOG_LVL_ERROR; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	if (strcasecmp(name, "warn") == 0)
		return LOG_LVL_WARNING;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[clamp_level((int)level)];
}

void log_set_fd(int fd)
{
	atomic_store_explicit(&out_fd, fd, memory_order_relaxed);
}

/* The escaped form of one byte in u (at most 4 bytes); returns its length.
 * `quoting` also escapes '"' and '\' (inside log_q's double quotes). */
static size_t esc_unit(unsigned char c, bool quoting, char u[4])
{
	static const char hex[] = "0123456789abcdef";
	char e = 0;

	switch (c) {
	case '\n': e = 'n'; break;
	case '\r': e = 'r'; break;
	case '\t': e = 't'; break;
	case '"': e = quoting ? '"' : 0; break;
	case '\\': e = quoting ? '\\' : 0; break;
	default: break;
	}
	if (e != 0) {
		u[0] = '\\';
		u[1] = e;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		u[0] = '\\';
		u[1] = 'x';
		u[2] = hex[c >> 4];
		u[3] = hex[c & 15];
		return 4;
	}
	u[0] = (char)c;
	return 1;
}

/* Escape src[0..len) into dst without passing `limit` bytes; whole units
 * only, so an escape is never cut. Returns the bytes written; *used gets
 * the source bytes consumed. */
static size_t escape_into(char *dst, size_t limit, const char *src, size_t len,
	bool quoting, size_t *used)
{
	size_t w = 0, i;
	char u[4];

	for (i = 0; i < len; i++) {
		size_t k = esc_unit((unsigned char)src[i], quoting, u);
		if (w + k > limit)
			break;
		memcpy(dst + w, u, k);
		w += k;
	}
	*used = i;
	return w;
}

/* Length of s[0..len) without a trailing incomplete UTF-8 sequence, so a
 * cut record stays valid UTF-8 when its input was. Escapes are ASCII, so
 * trailing bytes >= 0x80 are always raw input bytes. */
static size_t utf8_cut(const char *s, size_t len)
{
	size_t i = len, cont = 0;

	while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0)
		return len;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (need > 1 && cont + 1 < need)
		return i - 1;
	return len;
}

/* Escape src into dst[0..limit); when it does not all fit (or the source
 * was already cut, `cut`), end with "..." instead. Returns bytes written. */
static size_t escape_fit(char *dst, size_t limit, const char *src, size_t len,
	bool quoting, bool cut)
{
	size_t used;
	size_t w = escape_into(dst, limit, src, len, quoting, &used);

	if (used == len && !cut)
		return w;
	/* Second pass with room for the marker; escaping is cheap and this
	 * keeps the first pass free of back-tracking. */
	w = escape_into(dst, limit - 3, src, len, quoting, &used);
	w = utf8_cut(dst, w);
	memcpy(dst + w, "...", 3);
	return w + 3;
}

size_t log_format(char *out, size_t n, enum log_level level, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX];
	int p = snprintf(out, n, "%s: %s: ", progname, log_level_name(level));

	/* Room for the prefix, the marker, the newline and the NUL. */
	if (p < 0 || (size_t)p + 5 > n) {
		if (n > 0)
			out[0] = '\0';
		return 0;
	}
	int rl = vsnprintf(raw, sizeof raw, fmt, ap);
	bool cut = false;
	if (rl < 0) {
		rl = snprintf(raw, sizeof raw, "(unformattable log message)");
	} else if ((size_t)rl >= sizeof raw) {
		rl = (int)sizeof raw - 1;
		cut = true;
	}
	size_t limit = n - (size_t)p - 2; /* newline + NUL */
	size_t w = (size_t)p + escape_fit(out + p, limit, raw, (size_t)rl, false, cut);
	out[w++] = '\n';
	out[w] = '\0';
	return w;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	int saved = errno; /* for "%m" below and for the caller */
	char rec[LOG_LINE_MAX + 1];
	size_t len = log_format(rec, sizeof rec, level, fmt, ap);
	int fd = atomic_load_explicit(&out_fd, memory_order_relaxed);
	ssize_t r;

	/* One write: atomic on pipes up to PIPE_BUF. A signal before any byte
	 * was written gives EINTR and nothing written, so retrying is safe. */
	do {
		r = write(fd, rec, len);
	} while (r < 0 && errno == EINTR);
	errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static bool needs_quote(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '=' || c == '\\')
			return true;
	}
	return false;
}

const char *log_q(char *buf, size_t n, const char *s)
{
	if (s == NULL)
		return "(null)";
	if (!needs_quote(s))
		return s;
	if (buf == NULL || n < 8)
		return "\"...\"";
	buf[0] = '"';
	size_t w = 1 + escape_fit(buf + 1, n - 3, s, strlen(s), true, false);
	buf[w++] = '"';
	buf[w] = '\0';
	return buf;
}
