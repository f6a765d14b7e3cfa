/* output.c — output ports, consumer groups and consumers
 * (titanfe-protocol.md §8.4, §8.5, §16.2).
 *
 * Every group of a port gets every result (fan-out), mapped for that
 * group by the brick thread. Within a group packets go to the consumer
 * with the most open credit (demand-based, as titanfe's "first receptive
 * consumer", but without starving a slow instance's peers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mapping.h"
#include "runner.h"

#define CONSUMER_MAX_CREDIT (1 << 20) /* more than anyone can sensibly ask for */
#define CONSUMER_OUT_LIMIT (1u << 20) /* bytes waiting on one socket before we hold back */
#define SCALING_COOLDOWN 5.0          /* seconds between two requests for one group */
#define SCALING_REJOIN_WAIT 30.0      /* stop waiting for a requested instance after this */

int out_init(char *err, size_t errlen)
{
	R.n_ports = R.def.n_ports;
	R.ports = calloc(R.n_ports ? R.n_ports : 1, sizeof *R.ports);
	if (!R.ports) return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < R.n_ports; i++) {
		const struct rb_port_def *pd = &R.def.ports[i];
		struct port *p = &R.ports[i];
		p->name = pd->name;
		p->n_groups = pd->n_groups;
		p->groups = calloc(pd->n_groups ? pd->n_groups : 1, sizeof *p->groups);
		if (!p->groups) return snprintf(err, errlen, "out of memory"), -1;
		for (size_t k = 0; k < pd->n_groups; k++) {
			struct group *g = &p->groups[k];
			char e[300];
			g->port = p;
			g->def = &pd->groups[k];
			g->map = map_group_new(g->def->desc, e, sizeof e);
			if (!g->map)
				return snprintf(err, errlen, "Outbound.%s consumer %s: %s", p->name, g->def->instance_id, e), -1;
			if (map_group_warning(g->map))
				log_warn("Outbound.%s consumer %s: %s", p->name, g->def->instance_id, map_group_warning(g->map));
		}
	}
	return 0;
}

void out_free(void)
{
	for (size_t i = 0; i < R.n_ports; i++) {
		for (size_t k = 0; k < R.ports[i].n_groups; k++) {
			struct group *g = &R.ports[i].groups[k];
			map_group_free(g->map);
			rq_clear(&g->q);
			while (g->consumers) {
				struct consumer *c = g->consumers;
				g->consumers = c->next;
				free(c);
			}
		}
		free(R.ports[i].groups);
	}
	free(R.ports);
	R.ports = NULL;
	R.n_ports = 0;
}

struct port *out_port(const char *name)
{
	for (size_t i = 0; i < R.n_ports; i++)
		if (strcmp(R.ports[i].name, name) == 0) return &R.ports[i];
	return NULL;
}

static struct group *find_group(const struct msg_str *port, const struct msg_str *inst)
{
	for (size_t i = 0; i < R.n_ports; i++) {
		struct port *p = &R.ports[i];
		if (strlen(p->name) != port->len || memcmp(p->name, port->p, port->len)) continue;
		for (size_t k = 0; k < p->n_groups; k++) {
			const char *id = p->groups[k].def->instance_id;
			if (strlen(id) == inst->len && memcmp(id, inst->p, inst->len) == 0) return &p->groups[k];
		}
	}
	return NULL;
}

/* A ConsumerRegistration for a port and instance we do not serve is a
 * clear error and a closed connection (the original raised KeyError). */
int out_add_consumer(struct conn *c, const struct msg_str *inst, const struct msg_str *port)
{
	struct group *g = find_group(port, inst);
	if (!g) {
		log_warn("consumer registration for an unknown port or consumer peer=%s consumer=%.*s port=%.*s", c->peer,
			 (int)inst->len, inst->p, (int)port->len, port->p);
		return -1;
	}
	struct consumer *k = calloc(1, sizeof *k);
	if (!k) return -1;
	k->c = c;
	k->g = g;
	k->next = g->consumers;
	g->consumers = k;
	g->n_consumers++;
	g->wait_join = false;
	g->nhist = 0;
	c->kind = CK_CONSUMER;
	c->consumer = k;
	log_info("consumer joined peer=%s consumer=%s port=%s consumers=%zu", c->peer, g->def->instance_id,
		 g->port->name, g->n_consumers);
	return 0;
}

void out_consumer_message(struct conn *c, const uint8_t *body, uint32_t len)
{
	struct msg m;
	int64_t n;
	char err[200];
	if (msg_decode_as(body, len, MSG_PACKET_REQUEST, &m, err, sizeof err) < 0 ||
	    msg_decode_request(&m, &n, err, sizeof err) < 0) {
		R.bad_frames++;
		net_close_conn(c, err);
		return;
	}
	struct consumer *k = c->consumer;
	k->credit = k->credit + n > CONSUMER_MAX_CREDIT ? CONSUMER_MAX_CREDIT : k->credit + n;
}

/* Packets sent to a consumer that vanished are lost, as in titanfe: the
 * protocol has no acknowledgements. */
void out_consumer_gone(struct conn *c)
{
	struct consumer *k = c->consumer;
	if (!k) return;
	struct group *g = k->g;
	for (struct consumer **pp = &g->consumers; *pp; pp = &(*pp)->next)
		if (*pp == k) { *pp = k->next; break; }
	g->n_consumers--;
	if (g->n_consumers == 0) g->first_alert_sent = false; /* restart the scaling watcher */
	log_info("consumer left peer=%s consumer=%s port=%s consumers=%zu", c->peer, g->def->instance_id,
		 g->port->name, g->n_consumers);
	free(k);
	c->consumer = NULL;
}

size_t out_queued(void)
{
	size_t n = 0;
	for (size_t i = 0; i < R.n_ports; i++)
		for (size_t k = 0; k < R.ports[i].n_groups; k++) n += R.ports[i].groups[k].q.n;
	return n;
}

static struct consumer *pick(struct group *g)
{
	struct consumer *best = NULL;
	for (struct consumer *k = g->consumers; k; k = k->next)
		if (k->credit > 0 && k->c->out.len - k->c->out_off < CONSUMER_OUT_LIMIT && (!best || k->credit > best->credit))
			best = k;
	return best;
}

static void send_packet(struct consumer *k, struct rpkt *p)
{
	struct msg_packet m;
	p->output_exit = msg_time_ns(now_ns());
	rpkt_to_msg(p, &m);
	int rc = msg_frame_packet(&k->c->out, &m, R.cfg.max_frame_size > FRAME_MAX_CEILING ? FRAME_MAX_CEILING : (uint32_t)R.cfg.max_frame_size);
	if (rc < 0) {
		__atomic_fetch_add(&k->g->dropped, 1, __ATOMIC_RELAXED); /* both threads count */
		log_error("packet not sent uid=%s consumer=%s error=\"%s\"", p->uid, k->g->def->instance_id,
			  rc == FRAME_E_TOOBIG ? "larger than MaxFrameSize" : ujo_strerror(rc));
		return;
	}
	k->credit--;
	k->g->sent++;
}

/* Move queued packets to consumers with credit; called by the I/O loop
 * after every batch of events, which then flushes the sockets. Pops under
 * the lock, encodes outside it. */
void out_dispatch(void)
{
	for (size_t i = 0; i < R.n_ports; i++) {
		for (size_t k = 0; k < R.ports[i].n_groups; k++) {
			struct group *g = &R.ports[i].groups[k];
			struct consumer *c;
			while (__atomic_load_n(&g->q.n, __ATOMIC_RELAXED) && (c = pick(g))) {
				struct rqueue batch = {0};
				pthread_mutex_lock(&R.lock);
				int64_t want = 0;
				for (struct consumer *x = g->consumers; x; x = x->next) want += x->credit;
				for (int64_t j = 0; j < want && j < 256 && g->q.n; j++) rq_push(&batch, rq_pop(&g->q));
				pthread_cond_broadcast(&R.out_cv);
				pthread_mutex_unlock(&R.lock);
				struct rpkt *p;
				while ((p = rq_pop(&batch))) {
					c = pick(g);
					if (c) {
						send_packet(c, p);
						free(p);
						continue;
					}
					/* every socket is backed up: the rest goes back in front */
					rq_push_front(&batch, p);
					pthread_mutex_lock(&R.lock);
					rq_prepend(&g->q, &batch);
					pthread_mutex_unlock(&R.lock);
					break;
				}
			}
		}
	}
}

/* ---- the brick thread's side ------------------------------------------------ */

/* Wait for room in the group's queue: back pressure reaches the brick
 * (and an inlet's emit). While shutting down past the deadline, results
 * that cannot be delivered are dropped instead. */
static bool wait_room(struct group *g, size_t size)
{
	while (g->q.n >= R.out_max || (g->q.n && g->q.bytes + size > R.out_max_bytes)) {
		if (R.input_closed && R.stop_deadline && mono_s() > R.stop_deadline) return false;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
		pthread_cond_timedwait(&R.out_cv, &R.lock, &ts);
	}
	return true;
}

int out_enqueue(struct port *p, const struct rpkt *src, const uint8_t *payload, size_t len, const char *uid,
		int64_t started)
{
	struct ujo_buf mp, mb;
	ujo_buf_init(&mp);
	ujo_buf_init(&mb);
	const uint8_t *buf = src ? src->buffer : NULL;
	size_t buflen = src ? src->buffer_len : 0;
	for (size_t k = 0; k < p->n_groups; k++) {
		struct group *g = &p->groups[k];
		const uint8_t *pl = payload, *bf = buf;
		size_t pll = len, bfl = buflen;
		char err[300];
		if (!map_group_passthrough(g->map)) {
			ujo_buf_reset(&mp);
			ujo_buf_reset(&mb);
			if (map_apply(g->map, payload, len, buf, buflen, &mp, &mb, err, sizeof err) < 0) {
				__atomic_fetch_add(&g->dropped, 1, __ATOMIC_RELAXED); /* both threads count */
				log_warn("mapping failed, packet dropped for this consumer uid=%s consumer=%s error=\"%s\"",
					 uid, g->def->instance_id, err);
				continue;
			}
			pl = mp.data;
			pll = mp.len;
			bf = mb.data;
			bfl = mb.len;
		} else {
			bf = NULL; /* titanfe's new buffer holds only described elements: none */
			bfl = 0;
		}
		struct rpkt *q = rpkt_new(uid, strlen(uid), p->name, strlen(p->name), pl, pll, bf, bfl);
		if (!q) { __atomic_fetch_add(&g->dropped, 1, __ATOMIC_RELAXED); continue; }
		q->started = started;
		if (src) { q->input_entry = src->input_entry; q->input_exit = src->input_exit; }
		q->output_entry = msg_time_ns(now_ns());
		pthread_mutex_lock(&R.lock);
		bool ok = wait_room(g, q->size);
		if (ok) rq_push(&g->q, q);
		pthread_mutex_unlock(&R.lock);
		if (!ok) { __atomic_fetch_add(&g->dropped, 1, __ATOMIC_RELAXED); free(q); }
	}
	ujo_buf_free(&mp);
	ujo_buf_free(&mb);
	net_wake();
	return 0;
}

/* ---- scaling requests and queue metrics (I/O thread, every tick) ------------ */

static void scaling_check(struct group *g, double now)
{
	int level = g->def->autoscale_queue_level;
	if (!level || !R.gm || R.stopping || now - g->last_alert < SCALING_COOLDOWN) return;
	int qn = (int)__atomic_load_n(&g->q.n, __ATOMIC_RELAXED);
	if (!g->first_alert_sent) { /* titanfe asks at once, which also starts a first consumer */
		if (!qn) return;
		g->first_alert_sent = g->wait_join = true;
		g->last_alert = now;
		gm_request_scaling(g->def->instance_id);
		return;
	}
	if (g->wait_join && now - g->last_alert < SCALING_REJOIN_WAIT) return;
	g->wait_join = false;
	if (g->nhist == 5) memmove(g->hist, g->hist + 1, 4 * sizeof g->hist[0]), g->nhist = 4;
	g->hist[g->nhist++] = qn;
	if (qn < level || g->nhist < 3) return;
	bool growing = true;
	for (int i = 1; i < g->nhist; i++) growing = growing && g->hist[i - 1] > 0 && g->hist[i - 1] <= g->hist[i];
	g->nhist = 0;
	if (!growing) return;
	g->wait_join = true;
	g->last_alert = now;
	log_info("queue keeps growing, asking for another instance consumer=%s queued=%d", g->def->instance_id, qn);
	gm_request_scaling(g->def->instance_id);
}

void out_tick(double now)
{
	static double next_scaling, next_metrics;
	bool do_scaling = now >= next_scaling, do_metrics = now >= next_metrics;
	if (do_scaling) next_scaling = now + 0.2;
	if (do_metrics) next_metrics = now + 0.1;
	for (size_t i = 0; i < R.n_ports; i++) {
		for (size_t k = 0; k < R.ports[i].n_groups; k++) {
			struct group *g = &R.ports[i].groups[k];
			if (do_scaling) scaling_check(g, now);
			size_t qn = __atomic_load_n(&g->q.n, __ATOMIC_RELAXED);
			if (do_metrics && qn) tele_queue_metrics(g->def->instance_id, qn);
		}
	}
}
