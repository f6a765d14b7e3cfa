/* queue.c — runner packets and the plain FIFO queues that hold them.
 * Locking is the caller's: each queue belongs to one mutex (runner.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rpkt *rpkt_new(const char *uid, size_t uid_len, const char *port, size_t port_len,
		      const uint8_t *payload, size_t payload_len, const uint8_t *buffer, size_t buffer_len)
{
	size_t size = sizeof(struct rpkt) + uid_len + 1 + port_len + 1 + payload_len + buffer_len;
	struct rpkt *p = malloc(size);
	if (!p) return NULL;
	memset(p, 0, sizeof *p);
	char *d = p->data;
	memcpy(d, uid, uid_len);
	d[uid_len] = 0;
	p->uid = d;
	d += uid_len + 1;
	memcpy(d, port, port_len);
	d[port_len] = 0;
	p->port = d;
	d += port_len + 1;
	if (payload) {
		memcpy(d, payload, payload_len);
		p->payload = (const uint8_t *)d;
		p->payload_len = payload_len;
		d += payload_len;
	}
	if (buffer) {
		memcpy(d, buffer, buffer_len);
		p->buffer = (const uint8_t *)d;
		p->buffer_len = buffer_len;
	}
	p->size = size;
	return p;
}

void rpkt_to_msg(const struct rpkt *p, struct msg_packet *m)
{
	m->uid = (struct msg_str){p->uid, strlen(p->uid)};
	m->port = (struct msg_str){p->port, strlen(p->port)};
	m->started = p->started;
	m->payload = p->payload;
	m->payload_len = p->payload_len;
	m->buffer = p->buffer;
	m->buffer_len = p->buffer_len;
	m->input_entry = p->input_entry;
	m->input_exit = p->input_exit;
	m->output_entry = p->output_entry;
	m->output_exit = p->output_exit;
}

void rq_push(struct rqueue *q, struct rpkt *p)
{
	p->next = NULL;
	if (q->tail) q->tail->next = p;
	else q->head = p;
	q->tail = p;
	q->n++;
	q->bytes += p->size;
}

struct rpkt *rq_pop(struct rqueue *q)
{
	struct rpkt *p = q->head;
	if (!p) return NULL;
	q->head = p->next;
	if (!q->head) q->tail = NULL;
	q->n--;
	q->bytes -= p->size;
	p->next = NULL;
	return p;
}

void rq_clear(struct rqueue *q)
{
	struct rpkt *p;
	while ((p = rq_pop(q))) free(p);
}

void rq_push_front(struct rqueue *q, struct rpkt *p)
{
	p->next = q->head;
	q->head = p;
	if (!q->tail) q->tail = p;
	q->n++;
	q->bytes += p->size;
}

void rq_prepend(struct rqueue *q, struct rqueue *front)
{
	if (!front->head) return;
	front->tail->next = q->head;
	if (!q->tail) q->tail = front->tail;
	q->head = front->head;
	q->n += front->n;
	q->bytes += front->bytes;
	memset(front, 0, sizeof *front);
}
