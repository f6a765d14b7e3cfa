/* runner.h — the network half of titan-run-brick: shared types.
 *
 * Threads (ARCHITECTURE.md §4):
 *  - the I/O thread (net.c) runs one epoll loop: the output server, the
 *    consumer connections of successor runners, the input connections to
 *    predecessors, timers and signals;
 *  - the brick thread (worker.c) holds the Python interpreter and calls
 *    the brick for batches of input packets.
 * They meet at two kinds of bounded queues: the input queue (I/O thread
 * in, brick thread out) and one queue per consumer group (brick thread
 * in, I/O thread out). Each side wakes the other with a condition
 * variable (brick thread) or an eventfd (I/O thread).
 */
#ifndef TITAN_RUN_BRICK_RUNNER_H
#define TITAN_RUN_BRICK_RUNNER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "cfg.h"
#include "frame.h"
#include "titan_limits.h"
#include "msg.h"
#include "ujo.h"

struct map_group;
struct brick;

/* ---- the brick instance definition (def.c) ----------------------------- */

struct rb_group_def {
	char *instance_id;         /* successor brick instance = consumer group name */
	int autoscale_queue_level; /* scaling trigger; 0 = no scaling requests */
	const cJSON *desc;         /* the whole consumer description (mapping, buffer, targetPort) */
};

struct rb_port_def {
	char *name;
	struct rb_group_def *groups;
	size_t n_groups;
};

struct rb_def {
	char *instance_id, *name, *brick, *brick_id, *family;
	char *params_json; /* "parameters" as JSON text */
	int autoscale_max_instances, autoscale_queue_level;
	double exit_after_idle; /* seconds, 0 = never */
	char *flow_id, *flow_name;
	bool is_inlet, is_outlet;
	struct rb_port_def *ports; /* Outbound, in document order */
	size_t n_ports;
	cJSON *root;
};

int rb_def_parse(struct rb_def *d, const char *json, size_t len, char *err, size_t errlen);
void rb_def_free(struct rb_def *d);

/* ---- packets and queues (queue.c) -------------------------------------- */

/* A packet inside the runner: one allocation holding the strings and the
 * raw UJO payload and buffer (bare values, as on the wire). */
struct rpkt {
	struct rpkt *next;
	const char *uid, *port;     /* NUL-terminated, inside data[] */
	const uint8_t *payload;     /* NULL = none */
	const uint8_t *buffer;      /* NULL = empty map */
	size_t payload_len, buffer_len, size;
	int64_t started;
	struct msg_time input_entry, input_exit, output_entry, output_exit;
	char data[];
};

struct rpkt *rpkt_new(const char *uid, size_t uid_len, const char *port, size_t port_len,
		      const uint8_t *payload, size_t payload_len, const uint8_t *buffer, size_t buffer_len);
void rpkt_to_msg(const struct rpkt *p, struct msg_packet *m);

struct rqueue {
	struct rpkt *head, *tail;
	size_t n, bytes;
};

void rq_push(struct rqueue *q, struct rpkt *p);
struct rpkt *rq_pop(struct rqueue *q);
void rq_clear(struct rqueue *q);
void rq_push_front(struct rqueue *q, struct rpkt *p);
void rq_prepend(struct rqueue *q, struct rqueue *front); /* moves all of front to q's head */

int64_t now_ns(void); /* CLOCK_REALTIME, as titanfe's time.time_ns() */
double mono_s(void);  /* CLOCK_MONOTONIC seconds, for timers */

/* ---- telemetry (tele.c) --------------------------------------------------- */

struct tele_ids {
	const char *flow_uid, *flow_name, *brick_uid, *brick_name, *brick_type, *brick_family, *runner;
};

int tele_open(const char *where, const struct tele_ids *ids, char *err, size_t errlen);
void tele_close(void);
bool tele_enabled(void);
void tele_set_aggregate(double seconds); /* 0 = one line per call and packet (the original) */
void tele_tick(double now);               /* I/O thread timer: aggregated summaries */
void tele_brick_metrics(double execution_ms);
void tele_packet_metrics(const struct rpkt *p, double execution_ms, int64_t now);
void tele_queue_metrics(const char *queue, size_t length);
void tele_log(const char *severity, const char *source, const char *msg);
uint64_t tele_dropped(void);

/* ---- the running runner ---------------------------------------------------- */

struct conn;
struct group;

/* A successor runner connected to our output server for one port. */
struct consumer {
	struct consumer *next;
	struct conn *c;
	struct group *g;
	int64_t credit; /* packets it asked for and has not received */
};

/* All instances of one successor brick instance on one output port. */
struct group {
	struct port *port;
	const struct rb_group_def *def;
	struct map_group *map;
	struct rqueue q; /* guarded by R.lock */
	struct consumer *consumers;
	size_t n_consumers;
	uint64_t sent, dropped;
	/* scaling requests (titanfe §16.2 plus a cooldown) */
	int hist[5], nhist;
	bool first_alert_sent, wait_join;
	double last_alert;
};

struct port {
	const char *name;
	struct group *groups;
	size_t n_groups;
};

enum conn_kind { CK_NEW, CK_CONSUMER, CK_INPUT };

struct conn {
	struct conn *next;
	int fd;
	enum conn_kind kind;
	bool connecting, dead, want_write;
	struct frame_reader fr;
	struct ujo_buf out; /* frames waiting for the socket */
	size_t out_off;
	struct consumer *consumer; /* CK_CONSUMER */
	struct source *src;        /* CK_INPUT */
	char peer[64];
};

/* A predecessor's output port we read from. */
struct source {
	struct source *next;
	char *port, *target_port, *address;
	struct conn *c;
	int64_t outstanding; /* packets requested, not yet received */
	double backoff, retry_at;
	uint64_t received;
};

struct runner {
	struct cfg cfg;
	struct rb_def def;
	char uid[16];
	char address[300]; /* IP:port registered at the GM */
	uint16_t listen_port; /* --port, 0 = ephemeral */
	const char *gm;    /* Grid Manager base URL, NULL = no registration */
	int epfd, lfd, evfd, sigfd, tfd;
	pthread_mutex_t lock; /* every queue below, and the flags marked (L) */
	pthread_cond_t in_cv, out_cv;
	struct rqueue inq;
	size_t in_max, in_max_bytes, out_max, out_max_bytes, window;
	bool processing;       /* (L) the brick is inside process() */
	bool input_closed;     /* (L) no more input will come: drain and stop */
	bool worker_done;      /* (L) the brick thread has finished */
	bool wake_pending;     /* (L) an eventfd wake-up is on its way */
	bool stopping;         /* I/O thread: shutdown started */
	bool gm_deregistered;
	double stop_deadline;
	double drain_seconds; /* --drain-timeout */
	struct port *ports;
	size_t n_ports;
	struct conn *conns;
	struct source *sources;
	struct brick *brick;
	double idle_since, next_queue_metrics, next_idle_check, next_scaling;
	uint64_t in_received, bad_frames;
	int exit_code;
};

extern struct runner R;

/* net.c */
int net_listen(char *err, size_t errlen);
int net_run(void); /* the I/O loop, until shutdown completes */
void net_wake(void); /* from the brick thread: queues changed */
void net_close_conn(struct conn *c, const char *why);
void conn_flush(struct conn *c);
int conn_add(int fd, enum conn_kind kind, bool connecting, struct conn **out);
void net_watch_write(struct conn *c, bool on);

/* output.c */
int out_init(char *err, size_t errlen);
void out_free(void);
struct port *out_port(const char *name);
int out_add_consumer(struct conn *c, const struct msg_str *instance, const struct msg_str *port);
void out_consumer_message(struct conn *c, const uint8_t *body, uint32_t len);
void out_consumer_gone(struct conn *c);
void out_dispatch(void);
size_t out_queued(void);        /* (L) packets waiting in all groups */
void out_tick(double now);      /* scaling checks and queue metrics */
int out_enqueue(struct port *p, const struct rpkt *src, const uint8_t *payload, size_t len,
		const char *uid, int64_t started); /* brick thread; blocks for space */

/* input.c */
int in_add_sources_json(const char *json, size_t len, const char *from);
int in_add_source(const char *port, const char *target_port, const char *address);
void in_connected(struct conn *c);
void in_message(struct conn *c, const uint8_t *body, uint32_t len);
void in_conn_gone(struct conn *c);
void in_refill(void);
void in_tick(double now);
void in_close_all(void);

/* gm.c */
int gm_register(char **sources_json, size_t *len, char *err, size_t errlen);
void gm_deregister(void);
void gm_request_scaling(const char *consumer_id);

/* worker.c */
int worker_start_and_load(char *err, size_t errlen);
void worker_join(void);
void worker_stop_inlet(void);

#endif
