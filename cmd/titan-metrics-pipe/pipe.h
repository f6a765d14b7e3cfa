/* pipe.h — titan-metrics-pipe: telemetry JSON lines in, Kafka (titanfe's
 * topics and encodings) or a local sink out. See man/man1/titan-metrics-pipe.1.
 *
 * One thread does everything on the data path (main.c reads the command
 * line, loop.c runs a poll loop over the input, librdkafka's wake-up pipe
 * and a signalfd). librdkafka has its own threads, and --prometheus runs
 * libmicrohttpd's; they only read the counters, which are atomics.
 *
 *   input.c   lines from stdin, a file or a FIFO (kept open read-write)
 *   record.c  one line: check, classify by content_type, encode
 *   kafka.c   the librdkafka producer and its delivery reports
 *   sink.c    the local sink when there is no Kafka
 *   prom.c    aggregates for --prometheus
 *   stats.c   counters, the stats line, rate-limited warnings
 */
#ifndef TITAN_METRICS_PIPE_H
#define TITAN_METRICS_PIPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>

#include <cJSON.h>

#include "cfg.h"
#include "titan_limits.h"
#include "ujo.h"

#define PROG "titan-metrics-pipe"
#define DEFAULT_METRICS_TOPIC "titanfe.metrics"

enum sink_kind { SINK_STDOUT, SINK_FILE, SINK_NONE };

struct opts {
	const char *input;          /* NULL = standard input */
	const char *config;         /* -c */
	const char *kafka;          /* --kafka, NULL = not given */
	const char *log_topic;      /* --log-topic, NULL = not given */
	const char *metrics_topic;  /* --metrics-topic */
	bool metrics_json;          /* --metrics-format json */
	enum sink_kind sink;        /* --sink */
	const char *sink_path;      /* file:PATH */
	bool sink_set;              /* --sink given */
	double stats_interval;      /* seconds, 0 = off */
	double flush_timeout;       /* seconds */
	const char *prometheus;     /* ADDR:PORT, NULL = off */
	bool print_config;
	const char **props;         /* -X name=value, in order */
	int nprops;
};

/* --- stats.c ------------------------------------------------------------ */

/* Counters of lines and records; written by the loop thread, read by any. */
struct counters {
	_Atomic uint64_t read;      /* lines read (blank lines not counted) */
	_Atomic uint64_t oversize;  /* longer than METRICS_LINE_MAX, skipped */
	_Atomic uint64_t invalid;   /* not a usable record, skipped */
	_Atomic uint64_t unknown;   /* valid, unknown content_type, skipped */
	_Atomic uint64_t delivered; /* acknowledged by Kafka / written to the sink */
	_Atomic uint64_t failed;    /* delivery failed (or abandoned at the deadline) */
	_Atomic uint64_t dropped;   /* --sink none */
	_Atomic uint64_t queued;    /* handed over, outcome not known yet (gauge) */
};

static inline void cnt_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void cnt_sub(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_sub_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t cnt_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Seconds on CLOCK_MONOTONIC. */
double now_s(void);

/* "read=N oversize=N ..." into buf. */
void stats_format(struct counters *c, char *buf, size_t n);

/* At most one warning of a kind per METRICS_WARN_INTERVAL_S; the ones in
 * between are counted and reported with the next one that passes. */
struct warn {
	double last;
	uint64_t suppressed;
};
/* True when a warning may be logged now; suffix gets "" or
 * " suppressed=N", the number kept quiet since the last one, to append. */
#define WARN_SUFFIX 40
bool warn_ok(struct warn *w, char suffix[WARN_SUFFIX]);

/* --- input.c ------------------------------------------------------------ */

struct input {
	int fd;
	bool own;      /* we opened it (close it) */
	bool fifo;     /* opened read-write: writers come and go, no EOF */
	bool eof;
	bool skipping; /* inside an oversize line, discarding to its newline */
	char *buf;     /* METRICS_READ_BUF + 1 (room for a NUL) */
	size_t off, len;
};

enum { IN_MORE = 0, IN_LINE = 1, IN_OVERSIZE = 2 };

/* path NULL or "-": standard input. Returns 0, or -1 with err. */
int input_open(struct input *in, const char *path, char *err, size_t errlen);
/* Read what is there (one read). Returns bytes read, 0 at EOF (in->eof),
 * -1 when nothing is available now, -2 on a read error (errno). */
long input_fill(struct input *in);
/* Next complete line (NUL-terminated in place, without its newline):
 * IN_LINE; IN_OVERSIZE once per line that is too long; IN_MORE when the
 * buffer holds no complete line. At EOF a last line without newline is
 * returned too. */
int input_next(struct input *in, char **line, size_t *len);
void input_close(struct input *in);

/* --- record.c ------------------------------------------------------------ */

enum rec_kind {
	REC_INVALID,
	REC_UNKNOWN,
	REC_BRICK,  /* titan-brick-metrics */
	REC_PACKET, /* titan-packet-metrics */
	REC_QUEUE,  /* titan-queue-metrics */
	REC_LOG,    /* titan-log */
};

struct record {
	enum rec_kind kind;
	const char *why;      /* REC_INVALID: the reason */
	char ctype[64];       /* REC_UNKNOWN: the content_type, cut */
	cJSON *json;          /* the parsed object (REC_* but INVALID), or NULL */
	const void *data;     /* the encoded Kafka value */
	size_t len;
};

/* Records are encoded for the local sink too, although it writes the
 * line: a record is valid or not whatever the destination. */
struct encoder {
	bool metrics_json; /* metrics as the JSON line instead of a pickle */
	struct ujo_buf buf;
};

void encoder_init(struct encoder *e, bool metrics_json);
void encoder_free(struct encoder *e);
/* Check and encode one line (NUL-terminated, len bytes). Fills r; the
 * caller frees r->json with record_done. */
void record_parse(struct encoder *e, char *line, size_t len, struct record *r);
void record_done(struct record *r);
/* A titan-log Timestamp ("2024-05-06T07:08:09.123456", optional
 * fraction, optional Z or +hh:mm, 'T' or ' ') as a naive local time, as
 * titanfe's datetime.fromtimestamp gives it. Returns 0 or -1. */
int record_parse_time(const char *s, struct ujo_datetime *t);

/* --- kafka.c ------------------------------------------------------------- */

struct kafka;

enum { KAFKA_TOPIC_METRICS = 0, KAFKA_TOPIC_LOGS = 1 };

/* Create the producer. Returns NULL with err (a configuration problem). */
struct kafka *kafka_open(const struct cfg *cfg, const struct opts *o, struct counters *c,
	char *err, size_t errlen);
/* Hand one value over (copied). 0 queued; 1 librdkafka's queue is full,
 * try again after kafka_poll; -1 refused for good (counted as failed). */
int kafka_send(struct kafka *k, int topic, const void *data, size_t len);
/* Serve delivery reports, errors and logs, waiting up to timeout_ms. */
void kafka_poll(struct kafka *k, int timeout_ms);
/* A descriptor that becomes readable when kafka_poll has work. */
int kafka_fd(const struct kafka *k);
/* True after a fatal error: the producer delivers nothing more. */
bool kafka_fatal(const struct kafka *k);
/* Give up on everything still queued (counted as failed) and free. */
void kafka_close(struct kafka *k);

/* --- sink.c -------------------------------------------------------------- */

struct sink;

struct sink *sink_open(enum sink_kind kind, const char *path, struct counters *c,
	char *err, size_t errlen);
/* Take one line (written at the next sink_flush). */
void sink_put(struct sink *s, const char *line, size_t len);
/* Write what was taken; failures are counted, never fatal. */
void sink_flush(struct sink *s);
/* Reopen a file sink (SIGHUP, after log rotation). */
void sink_reopen(struct sink *s);
void sink_close(struct sink *s);

/* --- prom.c -------------------------------------------------------------- */

struct prom;

/* "ADDR:PORT" with a numeric IPv4 or IPv6 address ("[::1]:9100"), or
 * ":PORT" for every address; port 0 = any free one. Returns 0 or -1. */
int prom_parse_addr(const char *s, char *host, size_t hostlen, unsigned *port);
/* Start serving; returns NULL with err. */
struct prom *prom_start(const char *addrport, struct counters *c, char *err, size_t errlen);
/* Account one metric record (REC_BRICK, REC_PACKET, REC_QUEUE). */
void prom_observe(struct prom *p, enum rec_kind kind, const cJSON *rec);
void prom_stop(struct prom *p);

/* --- loop.c -------------------------------------------------------------- */

/* Run until EOF or SIGTERM and the final flush; returns the exit code. */
int pipe_run(const struct opts *o, struct cfg *cfg);

#endif
