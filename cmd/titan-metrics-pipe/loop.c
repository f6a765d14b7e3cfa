/* loop.c — the poll loop: read lines, hand records to Kafka or the sink,
 * serve delivery reports, signals and the stats timer.
 *
 * Phases:
 *   RUN    read whenever input is there and librdkafka has room;
 *   DRAIN  after SIGTERM/SIGINT: read what runners already wrote into the
 *          FIFO (up to METRICS_DRAIN_MAX), then FLUSH;
 *   FLUSH  after end of input (or DRAIN): read nothing more, wait for the
 *          delivery reports of what is queued, until the deadline.
 * The deadline is set when RUN ends (--flush-timeout); a second signal
 * moves it to now.
 *
 * Back pressure: when librdkafka's queue is full the record is kept
 * (only one) and no more input is read until it was taken, so the FIFO
 * fills and the runners' non-blocking writes fail and are counted there;
 * nothing here waits without bound and nothing accepted is dropped.
 */
#include "pipe.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum phase { RUN, DRAIN, FLUSH };

struct loop {
	const struct opts *o;
	struct cfg *cfg;
	struct counters c;
	struct input in;
	struct encoder enc;
	struct kafka *k;     /* Kafka, or */
	struct sink *sink;   /* the local sink */
	struct prom *prom;   /* --prometheus, or NULL */
	int sfd;             /* signalfd */
	enum phase phase;
	double deadline;     /* end of DRAIN / FLUSH */
	double next_stats;   /* 0 = no stats */
	size_t drained;      /* bytes read in DRAIN */
	int read_error;      /* EX_IOERR once the input failed */
	/* a record librdkafka had no room for (points into the encoder's or
	 * the input's buffer, both left alone until it is taken) */
	bool blocked;
	int pend_topic;
	const void *pend_data;
	size_t pend_len;
	struct warn w_bad, w_unknown;
};

/* --- records ------------------------------------------------------------- */

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trailing blanks go (a CRLF writer's CR too): the sink and the JSON
 * format pass the line on as it is otherwise. */
static size_t trim(char *s, size_t n)
{
	while (n > 0 && space(s[n - 1])) n--;
	s[n] = '\0';
	return n;
}

static void report_bad(struct loop *l, const char *why, const char *line)
{
	char q[128];
	char sup[WARN_SUFFIX];
	if (warn_ok(&l->w_bad, sup))
		log_warn("skipped a line: %s line=%llu text=%s%s", why,
			(unsigned long long)cnt_get(&l->c.read), log_q(q, sizeof q, line), sup);
}

static void deliver(struct loop *l, const struct record *r, const char *line, size_t len)
{
	if (l->k == NULL) {
		sink_put(l->sink, line, len);
		return;
	}
	int topic = r->kind == REC_LOG ? KAFKA_TOPIC_LOGS : KAFKA_TOPIC_METRICS;
	if (kafka_send(l->k, topic, r->data, r->len) == 1) {
		l->blocked = true;
		l->pend_topic = topic;
		l->pend_data = r->data;
		l->pend_len = r->len;
	}
}

static void handle_line(struct loop *l, char *line, size_t len)
{
	struct record r;
	char sup[WARN_SUFFIX];
	cnt_add(&l->c.read, 1);
	record_parse(&l->enc, line, len, &r);
	if (r.kind == REC_INVALID) {
		cnt_add(&l->c.invalid, 1);
		report_bad(l, r.why, line);
	} else if (r.kind == REC_UNKNOWN) {
		char q[96];
		cnt_add(&l->c.unknown, 1);
		if (warn_ok(&l->w_unknown, sup))
			log_warn("skipped a record: unknown content_type=%s%s", log_q(q, sizeof q, r.ctype), sup);
	} else {
		if (l->prom != NULL && r.kind != REC_LOG) prom_observe(l->prom, r.kind, r.json);
		deliver(l, &r, line, len);
	}
	record_done(&r);
}

/* Hand over the held record; false while librdkafka is still full. */
static bool retry_pending(struct loop *l)
{
	if (kafka_send(l->k, l->pend_topic, l->pend_data, l->pend_len) == 1) return false;
	l->blocked = false;
	return true;
}

static char oversize_why[64]; /* "longer than N bytes" */

/* Every complete line in the buffer, until one cannot be handed over. */
static void process_lines(struct loop *l)
{
	char *line;
	size_t len;
	int rc;
	if (l->blocked && !retry_pending(l)) return;
	while (!l->blocked && (rc = input_next(&l->in, &line, &len)) != IN_MORE) {
		if (rc == IN_OVERSIZE) {
			cnt_add(&l->c.read, 1);
			cnt_add(&l->c.oversize, 1);
			report_bad(l, oversize_why, "");
		} else if ((len = trim(line, len)) > 0) {
			handle_line(l, line, len);
		}
	}
	if (l->sink != NULL) sink_flush(l->sink);
}

/* --- input and phases ---------------------------------------------------- */

static void end_run(struct loop *l, enum phase next)
{
	l->phase = next;
	l->deadline = now_s() + l->o->flush_timeout;
}

static void read_input(struct loop *l)
{
	long n = input_fill(&l->in);
	if (n > 0 && l->phase == DRAIN) l->drained += (size_t)n;
	if (n == 0) {
		if (l->phase == RUN) log_info("end of input");
		l->phase = FLUSH;
		if (l->deadline == 0) l->deadline = now_s() + l->o->flush_timeout;
	} else if (n == -2) {
		log_error("cannot read the input: %s", strerror(errno));
		l->read_error = EX_IOERR;
		end_run(l, FLUSH);
	}
}

/* RUN reads whenever there is input; DRAIN only what is there right now
 * (poll's answer), then moves on to FLUSH. */
static void input_step(struct loop *l, short revents)
{
	bool ready = revents & (POLLIN | POLLHUP | POLLERR);
	if (l->blocked || l->phase == FLUSH) return;
	if (l->phase == DRAIN && (!ready || l->drained >= METRICS_DRAIN_MAX)) l->phase = FLUSH;
	else if (ready) read_input(l);
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;
	if (read(l->sfd, &si, sizeof si) != (ssize_t)sizeof si) return;
	if (si.ssi_signo == SIGHUP) {
		if (l->sink != NULL) sink_reopen(l->sink);
		return;
	}
	if (l->phase == RUN) {
		log_info("signal %s: flushing within %gs", strsignal((int)si.ssi_signo), l->o->flush_timeout);
		end_run(l, DRAIN);
	} else {
		log_warn("signal %s again: giving up the flush", strsignal((int)si.ssi_signo));
		l->deadline = now_s();
	}
}

/* --- the loop --------------------------------------------------------------- */

/* Lines read but not handed over yet (the held record included). */
static uint64_t held_lines(const struct loop *l)
{
	const struct input *in = &l->in;
	uint64_t n = l->blocked ? 1 : 0;
	for (size_t i = in->off; i < in->len; i++) n += in->buf[i] == '\n';
	if (in->eof && !in->skipping && in->len > in->off && in->buf[in->len - 1] != '\n') n++;
	return n;
}

/* Finished: in FLUSH with nothing held and nothing queued, or past the
 * deadline. */
static bool finished(struct loop *l, double t)
{
	if (l->phase == RUN) return false;
	if (l->phase == FLUSH && !l->blocked && held_lines(l) == 0 && cnt_get(&l->c.queued) == 0) return true;
	return t >= l->deadline;
}

static int poll_timeout(const struct loop *l, double t)
{
	double until = t + 0.25; /* also a safety net for a missed wake-up */
	if (l->phase != RUN && l->deadline < until) until = l->deadline;
	if (l->next_stats > 0 && l->next_stats < until) until = l->next_stats;
	double ms = ceil((until - t) * 1000);
	return ms < 0 ? 0 : (int)ms;
}

static void stats_tick(struct loop *l, double t)
{
	char s[256];
	if (l->next_stats == 0 || t < l->next_stats) return;
	stats_format(&l->c, s, sizeof s);
	log_info("stats %s", s);
	l->next_stats = t + l->o->stats_interval;
}

static void one_round(struct loop *l)
{
	struct pollfd p[3] = {
		{.fd = l->sfd, .events = POLLIN},
		{.fd = l->k != NULL ? kafka_fd(l->k) : -1, .events = POLLIN},
		{.fd = l->phase != FLUSH && !l->blocked ? l->in.fd : -1, .events = POLLIN},
	};
	if (poll(p, 3, poll_timeout(l, now_s())) < 0 && errno != EINTR) {
		log_error("poll: %s", strerror(errno));
		end_run(l, FLUSH);
		return;
	}
	if (p[0].revents & POLLIN) on_signal(l);
	if (l->k != NULL) kafka_poll(l->k, 0);
	if (l->k != NULL && kafka_fatal(l->k) && l->phase == RUN) end_run(l, FLUSH);
	input_step(l, p[2].revents);
	process_lines(l);
	stats_tick(l, now_s());
}

static void finish(struct loop *l)
{
	uint64_t held = held_lines(l);
	uint64_t queued = cnt_get(&l->c.queued);
	if (held + queued > 0)
		log_warn("flush deadline passed: undelivered=%llu (queued=%llu not_sent=%llu)",
			(unsigned long long)(held + queued), (unsigned long long)queued, (unsigned long long)held);
	cnt_add(&l->c.failed, held);
	kafka_close(l->k); /* purges: the reports count the queued as failed */
	l->k = NULL;
	queued = cnt_get(&l->c.queued); /* reports that never came */
	cnt_add(&l->c.failed, queued);
	cnt_sub(&l->c.queued, queued);
}

static int run(struct loop *l)
{
	char s[256];
	if (l->o->stats_interval > 0) l->next_stats = now_s() + l->o->stats_interval;
	while (!finished(l, now_s())) one_round(l);
	finish(l);
	sink_close(l->sink);
	l->sink = NULL;
	stats_format(&l->c, s, sizeof s);
	log_info("stopped %s", s);
	if (l->read_error) return l->read_error;
	return cnt_get(&l->c.failed) > 0 ? EX_TEMPFAIL : 0;
}

/* --- setup ---------------------------------------------------------------- */

/* Before any thread exists (librdkafka's, MHD's): they inherit the mask,
 * so the signals reach only our signalfd. */
static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, counted */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void log_start(const struct loop *l)
{
	char q[256];
	const char *in = l->o->input ? l->o->input : "stdin";
	if (l->k != NULL)
		log_info("started input=%s kafka=%s metrics_topic=%s log_topic=%s metrics_format=%s", in,
			log_q(q, sizeof q, l->cfg->kafka), l->o->metrics_topic, l->cfg->kafka_log_topic,
			l->o->metrics_json ? "json" : "pickle");
	else
		log_info("started input=%s sink=%s%s reason=%s", in,
			l->o->sink == SINK_STDOUT ? "stdout" : l->o->sink == SINK_FILE ? "file:" : "none",
			l->o->sink == SINK_FILE ? log_q(q, sizeof q, l->o->sink_path) : "",
			l->cfg->metrics_disabled ? "metrics-disabled" : "no-kafka");
}

/* Open everything; returns 0 or an exit code. */
static int open_all(struct loop *l)
{
	char err[512];
	bool kafka = l->cfg->kafka[0] != '\0' && !l->cfg->metrics_disabled;
	if (input_open(&l->in, l->o->input, err, sizeof err) < 0) {
		log_error("%s", err);
		return EX_NOINPUT;
	}
	encoder_init(&l->enc, l->o->metrics_json);
	if (kafka && (l->k = kafka_open(l->cfg, l->o, &l->c, err, sizeof err)) == NULL) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	if (!kafka && (l->sink = sink_open(l->o->sink, l->o->sink_path, &l->c, err, sizeof err)) == NULL) {
		log_error("%s", err);
		return EX_CANTCREAT;
	}
	if (l->o->prometheus != NULL && (l->prom = prom_start(l->o->prometheus, &l->c, err, sizeof err)) == NULL) {
		log_error("%s", err);
		return EX_UNAVAILABLE;
	}
	log_start(l);
	return 0;
}

static void close_all(struct loop *l)
{
	kafka_close(l->k);
	sink_close(l->sink);
	prom_stop(l->prom);
	encoder_free(&l->enc);
	input_close(&l->in);
	if (l->sfd >= 0) close(l->sfd);
}

int pipe_run(const struct opts *o, struct cfg *cfg)
{
	struct loop l = {.o = o, .cfg = cfg, .in.fd = -1};
	tzset(); /* log Timestamps are local times, as titanfe's */
	snprintf(oversize_why, sizeof oversize_why, "longer than %u bytes", METRICS_LINE_MAX);
	l.sfd = setup_signals();
	if (l.sfd < 0) {
		log_error("signals: %s", strerror(errno));
		return EX_OSERR;
	}
	int rc = open_all(&l);
	if (rc == 0) rc = run(&l);
	close_all(&l);
	return rc;
}
