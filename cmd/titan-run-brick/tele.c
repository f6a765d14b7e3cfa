/* tele.c — telemetry lines (ARCHITECTURE.md §3): one JSON object per
 * line, at most PIPE_BUF bytes, written with one non-blocking write(2) so
 * the data path never waits. A line that cannot be written (reader slow
 * or gone) is dropped and counted. Both threads call in; the only shared
 * state is the fd and atomic counters. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#define LINE_MAX_BYTES PIPE_BUF /* one atomic write per line */

static struct {
	int fd;          /* -1 = disabled */
	bool owned;      /* opened by us */
	char *path;      /* FIFO to (re)open when no reader was there yet */
	double retry_at; /* next open attempt (monotonic s) */
	struct tele_ids ids;
	char host[256];
	pthread_mutex_t open_lock;
} T = {.fd = -1, .open_lock = PTHREAD_MUTEX_INITIALIZER};

static atomic_uint_fast64_t dropped, written;

/* Aggregated mode: instead of one line per process() call and per packet,
 * one titan-brick-metrics summary per interval. The brick thread adds,
 * the I/O thread's timer flushes. */
static struct {
	double interval, next;
	pthread_mutex_t lock;
	uint64_t calls, packets;
	double exec_ms, exec_max_ms, travel_ms;
} A = {.lock = PTHREAD_MUTEX_INITIALIZER};

uint64_t tele_dropped(void) { return atomic_load(&dropped); }
bool tele_enabled(void) { return T.fd >= 0 || T.path; }

/* A FIFO without a reader cannot be opened non-blocking for writing
 * (ENXIO); try again at most once a second, dropping lines meanwhile. */
static void try_open(void)
{
	pthread_mutex_lock(&T.open_lock);
	double now = mono_s();
	if (T.fd < 0 && T.path && now >= T.retry_at) {
		T.fd = open(T.path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_APPEND);
		T.retry_at = now + 1.0;
	}
	pthread_mutex_unlock(&T.open_lock);
}

int tele_open(const char *where, const struct tele_ids *ids, char *err, size_t errlen)
{
	struct utsname u;
	T.ids = *ids;
	if (uname(&u) == 0) snprintf(T.host, sizeof T.host, "%s", u.nodename);
	if (!where || strcmp(where, "none") == 0) return 0;
	if (strcmp(where, "-") == 0) {
		T.fd = 1;
		return 0;
	}
	T.path = strdup(where);
	if (!T.path) return snprintf(err, errlen, "out of memory"), -1;
	T.fd = open(where, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_APPEND | O_CREAT, 0644);
	if (T.fd < 0 && errno != ENXIO) {
		snprintf(err, errlen, "cannot open telemetry %s: %s", where, strerror(errno));
		free(T.path);
		T.path = NULL;
		return -1;
	}
	T.owned = true;
	return 0;
}

void tele_close(void)
{
	if (T.owned && T.fd >= 0) close(T.fd);
	T.fd = -1;
	free(T.path);
	T.path = NULL;
}

static void emit(const char *line, size_t len)
{
	if (T.fd < 0) try_open();
	if (T.fd < 0) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	ssize_t n = write(T.fd, line, len);
	if (n == (ssize_t)len) {
		atomic_fetch_add(&written, 1);
		return;
	}
	atomic_fetch_add(&dropped, 1);
	if (n < 0 && errno == EPIPE && T.path) { /* reader went away: reopen later */
		pthread_mutex_lock(&T.open_lock);
		if (T.owned && T.fd >= 0) close(T.fd);
		T.fd = -1;
		pthread_mutex_unlock(&T.open_lock);
	}
}

/* ---- a tiny JSON line builder ------------------------------------------- */

struct line {
	char b[LINE_MAX_BYTES];
	size_t n;
	bool full;
};

static void raw(struct line *l, const char *s, size_t len)
{
	if (l->full || l->n + len >= sizeof l->b - 2) { l->full = true; return; }
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void rawf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rawf(struct line *l, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	raw(l, tmp, k > 0 ? (size_t)k : 0);
}

/* A JSON string, cut (on a UTF-8 boundary) to leave `reserve` bytes for
 * the rest of the line. Invalid UTF-8 bytes become U+FFFD. */
static void str(struct line *l, const char *s, size_t reserve)
{
	size_t limit = sizeof l->b - 2 - reserve;
	raw(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char e[8];
		size_t k = 1;
		if (*p == '"' || *p == '\\') { e[0] = '\\'; e[1] = (char)*p; k = 2; }
		else if (*p == '\n') { memcpy(e, "\\n", 2); k = 2; }
		else if (*p == '\t') { memcpy(e, "\\t", 2); k = 2; }
		else if (*p < 0x20 || *p == 0x7f) k = (size_t)snprintf(e, sizeof e, "\\u%04x", *p);
		else if (*p >= 0x80) {
			size_t need = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
			bool ok = need && *p < 0xf5;
			for (size_t i = 1; ok && i < need; i++) ok = (p[i] & 0xc0) == 0x80;
			if (!ok) { memcpy(e, "\xef\xbf\xbd", 3); k = 3; }
			else { memcpy(e, p, need); k = need; p += need - 1; }
		} else e[0] = (char)*p;
		if (l->n + k + 4 > limit) { raw(l, "...", 3); break; }
		raw(l, e, k);
	}
	raw(l, "\"", 1);
}

static void kv_str(struct line *l, const char *key, const char *v)
{
	rawf(l, ",\"%s\":", key);
	str(l, v, 0);
}

/* datetime.isoformat(): microseconds only when non-zero. */
static void iso_now(char *out, size_t n, bool utc)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (utc) gmtime_r(&ts.tv_sec, &tm);
	else localtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	long us = ts.tv_nsec / 1000;
	if (us) snprintf(out + k, n - k, ".%06ld", us);
}

static void common(struct line *l, const char *type)
{
	char ts[40];
	raw(l, "{\"content_type\":", 16);
	str(l, type, 0);
	kv_str(l, "flow", T.ids.flow_name && *T.ids.flow_name ? T.ids.flow_name : "FlowName?");
	kv_str(l, "brick", T.ids.brick_name ? T.ids.brick_name : "BrickName?");
	kv_str(l, "brick_type", T.ids.brick_type ? T.ids.brick_type : "BrickType?");
	kv_str(l, "brick_family", T.ids.brick_family ? T.ids.brick_family : "BrickFamily?");
	kv_str(l, "runner", T.ids.runner ? T.ids.runner : "RunnerUid?");
	kv_str(l, "host", T.host);
	iso_now(ts, sizeof ts, true);
	kv_str(l, "timestamp", ts);
}

static void finish(struct line *l)
{
	if (l->full) { atomic_fetch_add(&dropped, 1); return; }
	l->b[l->n++] = '}';
	l->b[l->n++] = '\n';
	emit(l->b, l->n);
}

void tele_set_aggregate(double seconds) { A.interval = seconds; }

static void aggregate(double exec_ms, bool packet, double travel_ms)
{
	pthread_mutex_lock(&A.lock);
	if (packet) {
		A.packets++;
		A.travel_ms += travel_ms;
	} else {
		A.calls++;
		A.exec_ms += exec_ms;
		if (exec_ms > A.exec_max_ms) A.exec_max_ms = exec_ms;
	}
	pthread_mutex_unlock(&A.lock);
}

/* One summary line per interval, only when something happened:
 * execution_time is the mean of the interval (so consumers of the
 * original record still read a per-call figure), plus the counts. */
void tele_tick(double now)
{
	if (!A.interval || !tele_enabled() || now < A.next) return;
	A.next = now + A.interval;
	pthread_mutex_lock(&A.lock);
	uint64_t calls = A.calls, packets = A.packets;
	double exec = A.exec_ms, max = A.exec_max_ms, travel = A.travel_ms;
	A.calls = A.packets = 0;
	A.exec_ms = A.exec_max_ms = A.travel_ms = 0;
	pthread_mutex_unlock(&A.lock);
	if (!calls && !packets) return;
	struct line l = {.n = 0};
	common(&l, "titan-brick-metrics");
	rawf(&l, ",\"execution_time\":%.6f", calls ? exec / (double)calls : 0.0);
	rawf(&l, ",\"aggregated\":true,\"interval\":%.3f", A.interval);
	rawf(&l, ",\"calls\":%llu,\"packets\":%llu", (unsigned long long)calls, (unsigned long long)packets);
	rawf(&l, ",\"execution_time_max\":%.6f", max);
	rawf(&l, ",\"traveling_time_mean\":%.6f", packets ? travel / (double)packets : 0.0);
	finish(&l);
}

void tele_brick_metrics(double execution_ms)
{
	if (!tele_enabled()) return;
	if (A.interval) { aggregate(execution_ms, false, 0); return; }
	struct line l = {.n = 0};
	common(&l, "titan-brick-metrics");
	rawf(&l, ",\"execution_time\":%.6f", execution_ms);
	finish(&l);
}

static double ms_between(struct msg_time a, struct msg_time b)
{
	double x = a.is_int ? (double)a.ns : a.f, y = b.is_int ? (double)b.ns : b.f;
	return (y - x) / 1e6;
}

void tele_packet_metrics(const struct rpkt *p, double execution_ms, int64_t now)
{
	if (!tele_enabled()) return;
	if (A.interval) { aggregate(0, true, (double)(now - p->started) / 1e6); return; }
	struct line l = {.n = 0};
	common(&l, "titan-packet-metrics");
	kv_str(&l, "packet", p->uid);
	rawf(&l, ",\"execution_time\":%.6f", execution_ms);
	rawf(&l, ",\"traveling_time\":%.6f", (double)(now - p->started) / 1e6);
	rawf(&l, ",\"time_in_input\":%.6f", ms_between(p->input_entry, p->input_exit));
	rawf(&l, ",\"time_in_output\":%.6f", ms_between(p->output_entry, p->output_exit));
	rawf(&l, ",\"time_on_wire\":%.6f", ms_between(p->output_exit, p->input_entry));
	raw(&l, ",\"at_outlet\":false", 18);
	finish(&l);
}

void tele_queue_metrics(const char *queue, size_t length)
{
	if (!tele_enabled()) return;
	struct line l = {.n = 0};
	common(&l, "titan-queue-metrics");
	kv_str(&l, "queue_name", queue);
	rawf(&l, ",\"queue_length\":%zu", length);
	finish(&l);
}

void tele_log(const char *severity, const char *source, const char *msg)
{
	if (!tele_enabled()) return;
	struct line l = {.n = 0};
	char ts[40];
	iso_now(ts, sizeof ts, false);
	raw(&l, "{\"content_type\":\"titan-log\",\"Timestamp\":", 40);
	str(&l, ts, 0);
	kv_str(&l, "Severity", severity);
	raw(&l, ",\"Message\":", 11);
	/* the message gets what the other keys leave over */
	size_t rest = 200 + strlen(T.host) + strlen(source) + strlen(T.ids.flow_uid ? T.ids.flow_uid : "") +
		      strlen(T.ids.flow_name ? T.ids.flow_name : "") + strlen(T.ids.brick_uid ? T.ids.brick_uid : "") +
		      strlen(T.ids.brick_name ? T.ids.brick_name : "");
	str(&l, msg, rest);
	kv_str(&l, "Hostname", T.host);
	kv_str(&l, "Servicename", "BrickRunner");
	kv_str(&l, "Source", source);
	kv_str(&l, "FlowUID", T.ids.flow_uid);
	kv_str(&l, "FlowName", T.ids.flow_name);
	kv_str(&l, "BrickUID", T.ids.brick_uid);
	kv_str(&l, "BrickName", T.ids.brick_name);
	finish(&l);
}
