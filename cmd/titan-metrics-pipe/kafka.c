/* kafka.c — the librdkafka producer.
 *
 * Idempotent with acks=all: librdkafka retries across broker outages and
 * the broker drops duplicates, so every record is written once, and the
 * delivery report is the acknowledgement that counts it as delivered.
 * Messages never time out locally (message.timeout.ms=0): while Kafka is
 * down they wait in librdkafka's queue, which is bounded; when it is full
 * kafka_send says so and the loop stops reading (back pressure). What is
 * still queued at the end is given up by the loop's flush deadline.
 *
 * Delivery reports, errors and librdkafka's own log lines are all served
 * on this (the loop's) thread by rd_kafka_poll; librdkafka writes a byte
 * into a pipe when there is something to serve, so the loop can sleep in
 * poll(2) instead of spinning.
 */
#include "pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "log.h"

struct kafka {
	rd_kafka_t *rk;
	rd_kafka_topic_t *topic[2];
	struct counters *c;
	int wake[2];   /* librdkafka writes to [1] when it has events for us */
	bool fatal;    /* the idempotent producer can deliver nothing more */
	bool troubled; /* errors since the last delivery */
	struct warn w_error, w_fail, w_log;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka *k = opaque;
	char sup[WARN_SUFFIX];
	(void)rk;
	cnt_sub(&k->c->queued, 1);
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		cnt_add(&k->c->delivered, 1);
		if (k->troubled) log_info("kafka: delivering again");
		k->troubled = false;
		return;
	}
	cnt_add(&k->c->failed, 1);
	/* purged at the flush deadline: the loop reports those in one line */
	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) return;
	if (warn_ok(&k->w_fail, sup))
		log_warn("kafka: delivery failed topic=%s error=%s%s", rd_kafka_topic_name(m->rkt),
			rd_kafka_err2str(m->err), sup);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka *k = opaque;
	char msg[512];
	char sup[WARN_SUFFIX];
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, msg, sizeof msg);
		log_error("kafka: fatal error, the producer stops: %s", msg);
		k->fatal = true;
		return;
	}
	k->troubled = true;
	if (warn_ok(&k->w_error, sup))
		log_warn("kafka: %s%s", reason, sup);
}

/* librdkafka's own warnings. FAIL (connection failures) repeats what
 * on_error reports, so it is left out. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kafka *k = rd_kafka_opaque(rk);
	char sup[WARN_SUFFIX];
	(void)level;
	if (strcmp(fac, "FAIL") != 0 && warn_ok(&k->w_log, sup)) log_warn("kafka: %s: %s%s", fac, buf, sup);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
	char e[256];
	if (rd_kafka_conf_set(conf, name, value, e, sizeof e) == RD_KAFKA_CONF_OK) return 0;
	snprintf(err, errlen, "Kafka property %s: %s", name, e);
	return -1;
}

/* Our defaults first, then bootstrap.servers, then -X (the user wins). */
static rd_kafka_conf_t *make_conf(struct kafka *k, const struct cfg *cfg, const struct opts *o, char *err,
	size_t errlen)
{
	char msgs[32], kbytes[32];
	snprintf(msgs, sizeof msgs, "%u", METRICS_QUEUE_MSGS);
	snprintf(kbytes, sizeof kbytes, "%u", METRICS_QUEUE_KBYTES);
	const char *const defaults[][2] = {
		{"enable.idempotence", "true"}, {"acks", "all"}, {"message.timeout.ms", "0"},
		{"queue.buffering.max.messages", msgs}, {"queue.buffering.max.kbytes", kbytes},
		{"linger.ms", "5"}, {"client.id", PROG}, {"log.queue", "true"}, {"log_level", "4"},
		{"log.connection.close", "false"}, {"bootstrap.servers", cfg->kafka},
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if (set(conf, defaults[i][0], defaults[i][1], err, errlen) < 0) goto fail;
	for (int i = 0; i < o->nprops; i++) {
		char name[256];
		const char *eq = strchr(o->props[i], '=');
		size_t n = eq ? (size_t)(eq - o->props[i]) : 0;
		if (n == 0 || n >= sizeof name) {
			snprintf(err, errlen, "-X needs NAME=VALUE, not %s", o->props[i]);
			goto fail;
		}
		memcpy(name, o->props[i], n);
		name[n] = '\0';
		if (set(conf, name, eq + 1, err, errlen) < 0) goto fail;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Logs and wake-ups on the main queue, served by our rd_kafka_poll. */
static int wire_queue(struct kafka *k, char *err, size_t errlen)
{
	if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	rd_kafka_set_log_queue(k->rk, NULL);
	rd_kafka_queue_t *q = rd_kafka_queue_get_main(k->rk);
	rd_kafka_queue_io_event_enable(q, k->wake[1], "w", 1);
	rd_kafka_queue_destroy(q);
	return 0;
}

struct kafka *kafka_open(const struct cfg *cfg, const struct opts *o, struct counters *c, char *err,
	size_t errlen)
{
	struct kafka *k = calloc(1, sizeof *k);
	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->c = c;
	k->wake[0] = k->wake[1] = -1;
	rd_kafka_conf_t *conf = make_conf(k, cfg, o, err, errlen);
	char e[512];
	if (conf == NULL) goto fail;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	if (k->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "cannot create the Kafka producer: %s", e);
		goto fail;
	}
	if (wire_queue(k, err, errlen) < 0) goto fail;
	const char *names[2] = {o->metrics_topic, cfg->kafka_log_topic};
	for (int i = 0; i < 2; i++) {
		k->topic[i] = rd_kafka_topic_new(k->rk, names[i], NULL);
		if (k->topic[i] == NULL) {
			snprintf(err, errlen, "Kafka topic %s: %s", names[i], rd_kafka_err2str(rd_kafka_last_error()));
			goto fail;
		}
	}
	return k;
fail:
	kafka_close(k);
	return NULL;
}

int kafka_send(struct kafka *k, int topic, const void *data, size_t len)
{
	char sup[WARN_SUFFIX];
	/* F_COPY: the encoder's buffer is reused for the next line */
	if (rd_kafka_produce(k->topic[topic], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)data, len, NULL,
		    0, NULL) == 0) {
		cnt_add(&k->c->queued, 1);
		return 0;
	}
	rd_kafka_resp_err_t e = rd_kafka_last_error();
	if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) return 1;
	cnt_add(&k->c->failed, 1);
	if (warn_ok(&k->w_fail, sup))
		log_warn("kafka: record refused topic=%s error=%s%s", rd_kafka_topic_name(k->topic[topic]),
			rd_kafka_err2str(e), sup);
	return -1;
}

void kafka_poll(struct kafka *k, int timeout_ms)
{
	char b[256];
	while (read(k->wake[0], b, sizeof b) > 0) {
	}
	rd_kafka_poll(k->rk, timeout_ms);
}

int kafka_fd(const struct kafka *k)
{
	return k->wake[0];
}

bool kafka_fatal(const struct kafka *k)
{
	return k->fatal;
}

void kafka_close(struct kafka *k)
{
	if (k == NULL) return;
	if (k->rk != NULL) {
		/* whatever is left now was given up by the flush deadline; the
		 * purged messages' reports count them as failed */
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(k->rk, 1000);
		for (int i = 0; i < 2; i++)
			if (k->topic[i] != NULL) rd_kafka_topic_destroy(k->topic[i]);
		rd_kafka_destroy(k->rk);
	}
	for (int i = 0; i < 2; i++)
		if (k->wake[i] >= 0) close(k->wake[i]);
	free(k);
}
