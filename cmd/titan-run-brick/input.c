/* input.c — input sources: one connection per predecessor output port
 * (titanfe-protocol.md §8.4, §8.6).
 *
 * We ask for packets (PacketRequest credit) only for free room in the
 * input queue, so the queue stays bounded; credits are additive in
 * titanfe's producer, so we top a source up whenever half of its window
 * has arrived instead of waiting for exactly 25 (§19 item 17). Unlike the
 * original we reconnect when a source drops (item 18) and ignore
 * duplicate sources (item 27). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "log.h"
#include "runner.h"
#include "uid.h"

#define BACKOFF_FIRST 0.1
#define BACKOFF_MAX 5.0

static bool same(const char *a, const char *b) { return strcmp(a, b) == 0; }

int in_add_source(const char *port, const char *target_port, const char *address)
{
	if (!port || !target_port || !address || !strchr(address, ':')) return -1;
	for (struct source *s = R.sources; s; s = s->next)
		if (same(s->port, port) && same(s->target_port, target_port) && same(s->address, address)) {
			log_info("input source already known, ignored address=%s port=%s", address, port);
			return 0;
		}
	struct source *s = calloc(1, sizeof *s);
	if (!s) return -1;
	s->port = strdup(port);
	s->target_port = strdup(target_port);
	s->address = strdup(address);
	if (!s->port || !s->target_port || !s->address) {
		free(s->port), free(s->target_port), free(s->address), free(s);
		return -1;
	}
	s->backoff = BACKOFF_FIRST;
	s->next = R.sources;
	R.sources = s;
	log_info("input source added address=%s port=%s target_port=%s", address, port, target_port);
	return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && strlen(v->valuestring) <= TITAN_MAX_NAME ? v->valuestring : NULL;
}

/* One source object, or a list of them: {"port", "target_port", "address"}. */
int in_add_sources_json(const char *json, size_t len, const char *from)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	if (!root) {
		log_warn("input sources are not valid JSON from=%s", from);
		return -1;
	}
	const cJSON *item = cJSON_IsArray(root) ? root->child : root;
	int bad = 0;
	for (; item; item = cJSON_IsArray(root) ? item->next : NULL) {
		if (!cJSON_IsObject(item) || in_add_source(jstr(item, "port"), jstr(item, "target_port"), jstr(item, "address")) < 0)
			bad++;
	}
	if (bad) log_warn("input sources ignored (need port, target_port and address host:port) from=%s count=%d", from, bad);
	cJSON_Delete(root);
	return bad ? -1 : 0;
}

static void schedule_retry(struct source *s, const char *why)
{
	s->retry_at = mono_s() + s->backoff;
	log_warn("input source unreachable, retrying address=%s retry_in=%.1fs reason=\"%s\"", s->address, s->backoff, why);
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
}

static void start_connect(struct source *s)
{
	char host[TITAN_MAX_NAME + 1];
	const char *colon = strrchr(s->address, ':');
	snprintf(host, sizeof host, "%.*s", (int)(colon - s->address), s->address);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc) { schedule_retry(s, gai_strerror(rc)); return; }
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		schedule_retry(s, strerror(errno));
		if (fd >= 0) close(fd);
		freeaddrinfo(ai);
		return;
	}
	freeaddrinfo(ai);
	struct conn *c;
	if (conn_add(fd, CK_INPUT, true, &c) < 0) { close(fd); schedule_retry(s, "out of memory"); return; }
	snprintf(c->peer, sizeof c->peer, "%s", s->address);
	c->src = s;
	s->c = c;
	s->outstanding = 0;
}

void in_connected(struct conn *c)
{
	struct source *s = c->src;
	s->backoff = BACKOFF_FIRST;
	msg_frame_registration(&c->out, R.def.instance_id, strlen(R.def.instance_id), s->port, strlen(s->port));
	log_info("connected to input source address=%s port=%s", s->address, s->port);
}

void in_conn_gone(struct conn *c)
{
	struct source *s = c->src;
	if (!s) return;
	s->c = NULL;
	s->outstanding = 0;
	c->src = NULL;
	if (!R.stopping) schedule_retry(s, "connection lost");
}

void in_message(struct conn *c, const uint8_t *body, uint32_t len)
{
	struct source *s = c->src;
	struct msg m;
	struct msg_packet p;
	char err[200];
	if (msg_decode_as(body, len, MSG_PACKET, &m, err, sizeof err) < 0 || msg_decode_packet(&m, &p, err, sizeof err) < 0) {
		R.bad_frames++;
		net_close_conn(c, err);
		return;
	}
	char fresh[UID_LEN + 1];
	if (!p.uid.len) { /* an older sender without uid: titanfe would make one */
		uid_new('P', fresh);
		p.uid = (struct msg_str){fresh, UID_LEN};
	}
	struct rpkt *q = rpkt_new(p.uid.p, p.uid.len, s->target_port, strlen(s->target_port), p.payload,
				  p.payload_len, p.buffer, p.buffer_len);
	if (!q) { net_close_conn(c, "out of memory"); return; }
	q->started = p.started;
	q->output_entry = p.output_entry;
	q->output_exit = p.output_exit;
	q->input_entry = msg_time_ns(now_ns());
	pthread_mutex_lock(&R.lock);
	rq_push(&R.inq, q);
	pthread_cond_signal(&R.in_cv);
	pthread_mutex_unlock(&R.lock);
	if (s->outstanding > 0) s->outstanding--;
	s->received++;
	R.in_received++;
}

/* Give every connected source credit for the room left in the queue. */
void in_refill(void)
{
	if (R.stopping) return;
	int64_t outstanding = 0;
	for (struct source *s = R.sources; s; s = s->next) outstanding += s->outstanding;
	pthread_mutex_lock(&R.lock);
	int64_t room = (int64_t)R.in_max - (int64_t)R.inq.n - outstanding;
	if (R.inq.bytes >= R.in_max_bytes) room = 0;
	pthread_mutex_unlock(&R.lock);
	int64_t w = (int64_t)R.window;
	for (struct source *s = R.sources; s && room > 0; s = s->next) {
		if (!s->c || s->c->connecting || s->c->dead) continue;
		int64_t want = w - s->outstanding;
		if (want < w / 2 && s->outstanding) continue;
		int64_t n = want < room ? want : room;
		if (n <= 0 || msg_frame_request(&s->c->out, n) < 0) continue;
		s->outstanding += n;
		room -= n;
	}
}

void in_tick(double now)
{
	if (R.stopping) return;
	for (struct source *s = R.sources; s; s = s->next)
		if (!s->c && now >= s->retry_at) start_connect(s);
}

void in_close_all(void)
{
	for (struct source *s = R.sources; s; s = s->next)
		if (s->c) net_close_conn(s->c, NULL);
	while (R.sources) {
		struct source *s = R.sources;
		R.sources = s->next;
		free(s->port);
		free(s->target_port);
		free(s->address);
		free(s);
	}
}
