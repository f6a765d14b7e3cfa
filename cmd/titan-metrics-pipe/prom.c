/* prom.c — --prometheus: the metric records aggregated per brick, and the
 * pipe's own counters, in Prometheus' text format at GET /metrics.
 *
 *   titan_brick_executions             summary of titan-brick-metrics'
 *     _seconds_sum / _seconds_count    execution_time, per flow and brick
 *   titan_brick_packets_total          titan-packet-metrics records (one
 *                                      per result packet), per flow and brick
 *   titan_queue_length                 the last titan-queue-metrics
 *                                      queue_length per flow, brick, queue;
 *                                      0 once the runner stopped reporting
 *                                      (titanfe reports only non-empty
 *                                      queues, every 0.1 s)
 *   titan_metrics_pipe_*               the pipe's counters
 *
 * Series are kept in one open-addressing table of at most
 * METRICS_PROM_MAX_SERIES entries with label values cut to TITAN_MAX_NAME
 * bytes, so hostile names cannot grow memory; records for series beyond
 * the cap are counted (titan_metrics_pipe_untracked_records_total).
 * The loop thread updates the table, MHD's thread renders it; one mutex.
 */
#include "pipe.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "log.h"

#define SLOTS (4 * METRICS_PROM_MAX_SERIES) /* a power of two, load <= 1/4 */

struct series {
	char *flow, *brick, *queue; /* queue NULL: a brick series */
	uint64_t hash;
	uint64_t packets, execs;
	double exec_ms;
	double qlen;
	double qwhen; /* now_s() of the last queue report */
};

struct prom {
	struct httpd *h;
	struct counters *c;
	pthread_mutex_t mu;
	struct series *s;
	size_t n;
	uint64_t untracked;
	int32_t slot[SLOTS]; /* index + 1 into s, 0 = free */
};

/* --- the table --------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull; /* a separator: ("ab","c") != ("a","bc") */
}

static uint64_t key_hash(const char *flow, const char *brick, const char *queue)
{
	uint64_t h = fnv(fnv(0xcbf29ce484222325ull, flow), brick);
	return queue != NULL ? fnv(h, queue) : h;
}

static bool same(const struct series *e, uint64_t h, const char *flow, const char *brick, const char *queue)
{
	if (e->hash != h || strcmp(e->flow, flow) != 0 || strcmp(e->brick, brick) != 0) return false;
	if (queue == NULL || e->queue == NULL) return queue == e->queue;
	return strcmp(e->queue, queue) == 0;
}

/* s cut to TITAN_MAX_NAME bytes, not inside a UTF-8 sequence. */
static void cut(char dst[TITAN_MAX_NAME + 1], const char *s)
{
	size_t n = strlen(s);
	if (n > TITAN_MAX_NAME) {
		n = TITAN_MAX_NAME;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static struct series *add(struct prom *p, size_t slot, uint64_t h, const char *flow, const char *brick,
	const char *queue)
{
	struct series *e = &p->s[p->n];
	*e = (struct series){.hash = h, .flow = strdup(flow), .brick = strdup(brick)};
	if (queue != NULL) e->queue = strdup(queue);
	if (e->flow == NULL || e->brick == NULL || (queue != NULL && e->queue == NULL)) {
		free(e->flow);
		free(e->brick);
		free(e->queue);
		return NULL;
	}
	p->slot[slot] = (int32_t)++p->n;
	return e;
}

/* The series for these labels (cut), created when new; NULL when the
 * table is full. */
static struct series *find(struct prom *p, const char *flow, const char *brick, const char *queue)
{
	char f[TITAN_MAX_NAME + 1], b[TITAN_MAX_NAME + 1], q[TITAN_MAX_NAME + 1];
	cut(f, flow);
	cut(b, brick);
	if (queue != NULL) cut(q, queue);
	const char *qq = queue != NULL ? q : NULL;
	uint64_t h = key_hash(f, b, qq);
	for (size_t i = h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		int32_t k = p->slot[i];
		if (k == 0) return p->n < METRICS_PROM_MAX_SERIES ? add(p, i, h, f, b, qq) : NULL;
		if (same(&p->s[k - 1], h, f, b, qq)) return &p->s[k - 1];
	}
}

static const char *str(const cJSON *rec, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* A finite number (1e999 parses as infinity, which would poison a sum). */
static bool num(const cJSON *rec, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return false;
	*out = v->valuedouble;
	return true;
}

void prom_observe(struct prom *p, enum rec_kind kind, const cJSON *rec)
{
	double v;
	if (p == NULL) return;
	pthread_mutex_lock(&p->mu);
	struct series *e =
		find(p, str(rec, "flow"), str(rec, "brick"), kind == REC_QUEUE ? str(rec, "queue_name") : NULL);
	if (e == NULL) p->untracked++;
	else if (kind == REC_PACKET) e->packets++;
	else if (kind == REC_BRICK && num(rec, "execution_time", &v)) {
		e->execs++;
		e->exec_ms += v;
	} else if (kind == REC_QUEUE && num(rec, "queue_length", &v)) {
		e->qlen = v;
		e->qwhen = now_s();
	}
	pthread_mutex_unlock(&p->mu);
}

/* --- the text format ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void out(struct ujo_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0) ujo_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(struct ujo_buf *b, const char *name, const char *v, bool last)
{
	out(b, "%s=\"", name);
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') ujo_buf_put(b, "\\", 1);
		if (*v == '\n') ujo_buf_put(b, "\\n", 2);
		else ujo_buf_put(b, v, 1);
	}
	ujo_buf_put(b, last ? "\"}" : "\",", 2);
}

static void labels(struct ujo_buf *b, const struct series *e)
{
	ujo_buf_put(b, "{", 1);
	label(b, "flow", e->flow, false);
	label(b, "brick", e->brick, e->queue == NULL);
	if (e->queue != NULL) label(b, "queue", e->queue, true);
}

static void family(struct ujo_buf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_bricks(const struct prom *p, struct ujo_buf *b)
{
	family(b, "titan_brick_execution_seconds", "summary", "Time in process() per call (titan-brick-metrics).");
	for (size_t i = 0; i < p->n; i++) {
		const struct series *e = &p->s[i];
		if (e->queue != NULL || e->execs == 0) continue;
		out(b, "titan_brick_execution_seconds_sum");
		labels(b, e);
		out(b, " %.9g\ntitan_brick_execution_seconds_count", e->exec_ms / 1000.0);
		labels(b, e);
		out(b, " %llu\n", (unsigned long long)e->execs);
	}
	family(b, "titan_brick_packets_total", "counter", "Result packets (titan-packet-metrics).");
	for (size_t i = 0; i < p->n; i++) {
		if (p->s[i].queue != NULL || p->s[i].packets == 0) continue;
		out(b, "titan_brick_packets_total");
		labels(b, &p->s[i]);
		out(b, " %llu\n", (unsigned long long)p->s[i].packets);
	}
}

static void render_queues(const struct prom *p, struct ujo_buf *b, double t)
{
	family(b, "titan_queue_length", "gauge", "Packets waiting in a brick queue (titan-queue-metrics).");
	for (size_t i = 0; i < p->n; i++) {
		const struct series *e = &p->s[i];
		if (e->queue == NULL) continue;
		bool stale = (t - e->qwhen) * 1000 > METRICS_QUEUE_STALE_MS;
		out(b, "titan_queue_length");
		labels(b, e);
		out(b, " %.17g\n", stale ? 0.0 : e->qlen);
	}
}

static void counter(struct ujo_buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	family(b, name, type, help);
	out(b, "%s %llu\n", name, (unsigned long long)v);
}

static void render_pipe(struct prom *p, struct ujo_buf *b)
{
	struct counters *c = p->c;
	counter(b, "titan_metrics_pipe_lines_read_total", "counter", "Lines read.", cnt_get(&c->read));
	counter(b, "titan_metrics_pipe_lines_oversize_total", "counter", "Lines over the length limit.",
		cnt_get(&c->oversize));
	counter(b, "titan_metrics_pipe_lines_invalid_total", "counter", "Lines that are not a usable record.",
		cnt_get(&c->invalid));
	counter(b, "titan_metrics_pipe_records_unknown_total", "counter", "Records of an unknown content_type.",
		cnt_get(&c->unknown));
	counter(b, "titan_metrics_pipe_records_delivered_total", "counter", "Records acknowledged by Kafka or written.",
		cnt_get(&c->delivered));
	counter(b, "titan_metrics_pipe_records_failed_total", "counter", "Records whose delivery failed.",
		cnt_get(&c->failed));
	counter(b, "titan_metrics_pipe_records_dropped_total", "counter", "Records discarded (--sink none).",
		cnt_get(&c->dropped));
	counter(b, "titan_metrics_pipe_records_queued", "gauge", "Records handed over, not yet acknowledged.",
		cnt_get(&c->queued));
	counter(b, "titan_metrics_pipe_untracked_records_total", "counter",
		"Metric records beyond the series limit, not aggregated.", p->untracked);
}

static void handle(struct httpd_req *rq, void *arg)
{
	struct prom *p = arg;
	struct ujo_buf b;
	if (strcmp(rq->path, "/metrics") != 0) {
		httpd_reply_error(rq, 404, "no such path: %s (try /metrics)", rq->path);
		return;
	}
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		httpd_add_header(rq, "Allow", "GET, HEAD");
		httpd_reply_error(rq, 405, "method %s not allowed", rq->method);
		return;
	}
	ujo_buf_init(&b);
	pthread_mutex_lock(&p->mu);
	render_bricks(p, &b);
	render_queues(p, &b, now_s());
	render_pipe(p, &b);
	pthread_mutex_unlock(&p->mu);
	if (b.err) {
		ujo_buf_free(&b);
		httpd_reply_error(rq, 500, "out of memory");
		return;
	}
	httpd_reply_take(rq, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
}

/* --- start and stop --------------------------------------------------------------- */

int prom_parse_addr(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned char tmp[16];
	if (colon == NULL || colon[1] == '\0') return -1;
	unsigned long v = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '-' || colon[1] == '+' || v > 65535) return -1;
	size_t n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { /* [v6]:port */
		s++;
		n -= 2;
	}
	if (n >= hostlen) return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (n > 0 && inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1) return -1;
	*port = (unsigned)v;
	return 0;
}

struct prom *prom_start(const char *addrport, struct counters *c, char *err, size_t errlen)
{
	char host[64];
	unsigned port;
	if (prom_parse_addr(addrport, host, sizeof host, &port) < 0) {
		snprintf(err, errlen, "--prometheus: not a numeric ADDR:PORT: %s", addrport);
		return NULL;
	}
	struct prom *p = calloc(1, sizeof *p);
	if (p == NULL || (p->s = calloc(METRICS_PROM_MAX_SERIES, sizeof *p->s)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->c = c;
	pthread_mutex_init(&p->mu, NULL);
	struct httpd_opts o = {.addr = host, .port = port, .threads = 1, .max_body = 1024, .handler = handle, .arg = p};
	char e[256];
	if ((p->h = httpd_start(&o, e, sizeof e)) == NULL) {
		snprintf(err, errlen, "--prometheus: %s", e);
		prom_stop(p);
		return NULL;
	}
	log_info("prometheus: serving /metrics addr=%s port=%u", host[0] ? host : "*", httpd_port(p->h));
	return p;
}

void prom_stop(struct prom *p)
{
	if (p == NULL) return;
	httpd_stop(p->h);
	for (size_t i = 0; i < p->n; i++) {
		free(p->s[i].flow);
		free(p->s[i].brick);
		free(p->s[i].queue);
	}
	free(p->s);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
