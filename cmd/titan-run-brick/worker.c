/* worker.c — the brick thread: loads the brick, takes input packets in
 * batches (one lock per batch, not per packet), calls process(), and
 * hands every result to the output groups (output.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brick.h"
#include "log.h"
#include "runner.h"
#include "uid.h"

#define BATCH 32

static pthread_t thread;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t load_cv = PTHREAD_COND_INITIALIZER;
static int load_state; /* 0 loading, 1 loaded, -1 failed */
static char load_err[512];
/* The packet being processed. Thread-local: a brick's own Python threads
 * may emit too, and for them there is no parent packet. */
static __thread const struct rpkt *current;
static const char **port_names;
/* R.brick may be stopped from the I/O thread while the brick thread
 * unloads it: this lock keeps the pointer valid during brick_stop(). */
static pthread_mutex_t brick_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *severity(int level)
{
	return level >= BRICK_ERROR ? "ERROR" : level >= BRICK_WARNING ? "WARNING" : level >= BRICK_INFO ? "INFO" : "DEBUG";
}

static void on_log(void *ctx, int level, const char *logger, const char *msg)
{
	(void)ctx;
	enum log_level l = level >= BRICK_ERROR ? LOG_LVL_ERROR : level >= BRICK_WARNING ? LOG_LVL_WARNING
			 : level >= BRICK_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	log_msg(l, "%s: %s", logger, msg);
	tele_log(severity(level), logger, msg);
}

/* A result (emitted = false) continues the input packet: same uid,
 * started and buffer. An emitted packet is a new packet (new uid) that
 * carries the parent's buffer — never the parent object itself (§19 10). */
static int on_emit(void *ctx, const char *port, const uint8_t *payload, size_t len, bool emitted)
{
	(void)ctx;
	struct port *p = out_port(port);
	if (!p) {
		log_error("result for unknown port dropped port=%s", port);
		return -1;
	}
	pthread_mutex_lock(&R.lock);
	bool late = R.input_closed && R.stop_deadline && mono_s() > R.stop_deadline;
	pthread_mutex_unlock(&R.lock);
	if (late) return -1; /* shutting down: an inlet's emit raises and it ends */
	char fresh[UID_LEN + 1];
	const char *uid = current && !emitted ? current->uid : (uid_new('P', fresh), fresh);
	int64_t started = current && !emitted ? current->started : now_ns();
	out_enqueue(p, current, payload, len, uid, started);
	if (current) { /* titanfe emits packet metrics for every result taken from the brick */
		struct rpkt m = *current;
		m.uid = uid;
		m.started = started;
		tele_packet_metrics(&m, 0, now_ns());
	}
	return 0;
}

static void run_inlet(void)
{
	pthread_mutex_lock(&R.lock);
	R.processing = true;
	pthread_mutex_unlock(&R.lock);
	double t0 = mono_s();
	brick_process(R.brick, NULL, 0, "TRIGGER");
	tele_brick_metrics((mono_s() - t0) * 1e3);
	pthread_mutex_lock(&R.lock);
	R.processing = false;
	pthread_mutex_unlock(&R.lock);
}

static void process_one(struct rpkt *p)
{
	p->input_exit = msg_time_ns(now_ns());
	current = p;
	double t0 = mono_s();
	brick_process(R.brick, p->payload, p->payload_len, p->port);
	double ms = (mono_s() - t0) * 1e3;
	current = NULL;
	tele_brick_metrics(ms);
	if (R.def.is_outlet) tele_packet_metrics(p, ms, now_ns());
}

static void run_packets(void)
{
	struct rpkt *batch[BATCH];
	for (;;) {
		int n = 0;
		pthread_mutex_lock(&R.lock);
		while (!R.inq.n && !R.input_closed) pthread_cond_wait(&R.in_cv, &R.lock);
		while (n < BATCH && R.inq.n) batch[n++] = rq_pop(&R.inq);
		R.processing = n > 0;
		pthread_mutex_unlock(&R.lock);
		if (!n) return; /* input closed and drained */
		net_wake();     /* room in the input queue: more credit */
		for (int i = 0; i < n; i++) {
			process_one(batch[i]);
			free(batch[i]);
		}
		pthread_mutex_lock(&R.lock);
		R.processing = false;
		pthread_mutex_unlock(&R.lock);
	}
}

static void *worker_main(void *arg)
{
	(void)arg;
	struct brick_def d = {
		.path = NULL, .module = R.def.brick, .params_json = R.def.params_json,
		.flow_uid = R.def.flow_id, .flow_name = R.def.flow_name,
		.brick_uid = R.def.instance_id, .brick_name = R.def.name, .runner_uid = R.uid,
		.default_port = R.n_ports ? R.ports[0].name : "",
		.out_ports = port_names, .n_out_ports = R.n_ports,
		.is_inlet = R.def.is_inlet, .is_outlet = R.def.is_outlet,
		.secret_key = R.cfg.secret_key, .repo_address = R.cfg.reposervice_address,
		.emit = on_emit, .log = on_log, .ctx = NULL,
	};
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", R.cfg.brick_folder, R.def.brick_id);
	d.path = path;
	int rc = brick_load(&R.brick, &d, load_err, sizeof load_err);
	pthread_mutex_lock(&load_lock);
	load_state = rc == 0 ? 1 : -1;
	pthread_cond_signal(&load_cv);
	pthread_mutex_unlock(&load_lock);
	if (rc == 0) {
		if (R.def.is_inlet) run_inlet();
		else run_packets();
		pthread_mutex_lock(&brick_lock);
		struct brick *b = R.brick;
		R.brick = NULL;
		pthread_mutex_unlock(&brick_lock);
		brick_unload(b);
	}
	pthread_mutex_lock(&R.lock);
	R.worker_done = true;
	pthread_mutex_unlock(&R.lock);
	net_wake();
	return NULL;
}

/* Start the brick thread and wait until the brick is loaded (setup()
 * done): the runner registers at the Grid Manager only when it can work. */
int worker_start_and_load(char *err, size_t errlen)
{
	port_names = calloc(R.n_ports ? R.n_ports : 1, sizeof *port_names);
	if (!port_names) return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < R.n_ports; i++) port_names[i] = R.ports[i].name;
	if (pthread_create(&thread, NULL, worker_main, NULL)) return snprintf(err, errlen, "cannot start the brick thread"), -1;
	pthread_mutex_lock(&load_lock);
	while (load_state == 0) pthread_cond_wait(&load_cv, &load_lock);
	pthread_mutex_unlock(&load_lock);
	if (load_state < 0) {
		snprintf(err, errlen, "%s", load_err);
		pthread_join(thread, NULL);
		return -1;
	}
	return 0;
}

static void *stop_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&brick_lock);
	if (R.brick) brick_stop(R.brick);
	pthread_mutex_unlock(&brick_lock);
	return NULL;
}

/* The inlet loops inside process(): ask it to stop. On a thread of its
 * own, so that a stop_processing() that waits for an emit, which waits
 * for the I/O thread, cannot deadlock the I/O thread. */
void worker_stop_inlet(void)
{
	pthread_t t;
	if (!R.def.is_inlet || pthread_create(&t, NULL, stop_thread, NULL)) return;
	pthread_detach(t);
}

/* Wait for the brick thread. A brick stuck in process() (or teardown)
 * must not keep a stopped runner alive forever, as the original did:
 * after the grace time the process ends without it. */
void worker_join(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)RUNNER_JOIN_SECONDS;
	if (pthread_timedjoin_np(thread, NULL, &ts) != 0) {
		log_error("the brick did not finish within %d s after the stop; exiting without it", RUNNER_JOIN_SECONDS);
		_exit(R.exit_code);
	}
	free(port_names);
	port_names = NULL;
}
