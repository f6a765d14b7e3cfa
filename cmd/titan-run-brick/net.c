/* net.c — the I/O thread: one epoll loop for the output server, the
 * connections, a periodic timer, signals and wake-ups from the brick
 * thread; and the shutdown sequence (titanfe-protocol.md §7.5). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "runner.h"

struct runner R;

/* epoll tags for the fds that are not connections */
static struct conn tag_listen, tag_event, tag_signal, tag_timer;

static void ep_add(int fd, void *tag, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = tag};
	if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) log_error("epoll_ctl add: %s", strerror(errno));
}

void net_watch_write(struct conn *c, bool on)
{
	if (c->want_write == on) return;
	c->want_write = on;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(R.epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The address to register: the configured IP, else the host's own
 * address (as titanfe: gethostbyname(gethostname())), else loopback. */
static void own_ip(char *out, size_t n)
{
	char host[256];
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	snprintf(out, n, "127.0.0.1");
	if (gethostname(host, sizeof host) == 0 && getaddrinfo(host, NULL, &hints, &ai) == 0 && ai) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, out, (socklen_t)n);
		freeaddrinfo(ai);
	}
}

/* SIGTERM/SIGINT reach the loop through a self-pipe. Not a signalfd: that
 * needs the signals blocked in every thread, and a blocked mask is
 * inherited by every process a brick starts (Python's subprocess does not
 * reset it), so such children would ignore SIGTERM. */
static int sigpipe_w = -1;

static void on_sig(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	if (write(sigpipe_w, &b, 1) < 0) { /* pipe full: a stop is pending anyway */ }
	errno = saved;
}

static int signals_init(void)
{
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) return -1;
	R.sigfd = p[0];
	sigpipe_w = p[1];
	struct sigaction sa = {.sa_handler = on_sig, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) return -1;
	return 0;
}

int net_listen(char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(R.listen_port)};
	const char *ip = R.cfg.ip && *R.cfg.ip ? R.cfg.ip : NULL;
	if (ip && inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return snprintf(err, errlen, "IP %s is not an IPv4 address", ip), -1;
	R.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(R.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	socklen_t sl = sizeof sa;
	if (R.lfd < 0 || bind(R.lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(R.lfd, 128) < 0 ||
	    getsockname(R.lfd, (struct sockaddr *)&sa, &sl) < 0)
		return snprintf(err, errlen, "cannot open the output server on %s: %s", ip ? ip : "0.0.0.0", strerror(errno)), -1;
	char host[64];
	if (ip) snprintf(host, sizeof host, "%s", ip);
	else own_ip(host, sizeof host);
	snprintf(R.address, sizeof R.address, "%s:%u", host, ntohs(sa.sin_port));

	R.epfd = epoll_create1(EPOLL_CLOEXEC);
	R.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	R.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (signals_init() < 0 || R.epfd < 0 || R.evfd < 0 || R.tfd < 0)
		return snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno)), -1;
	struct itimerspec its = {.it_interval = {0, 50000000}, .it_value = {0, 50000000}};
	timerfd_settime(R.tfd, 0, &its, NULL);
	ep_add(R.lfd, &tag_listen, EPOLLIN);
	ep_add(R.evfd, &tag_event, EPOLLIN);
	ep_add(R.sigfd, &tag_signal, EPOLLIN);
	ep_add(R.tfd, &tag_timer, EPOLLIN);
	return 0;
}

void net_wake(void)
{
	uint64_t one = 1;
	pthread_mutex_lock(&R.lock);
	bool send = !R.wake_pending;
	R.wake_pending = true;
	pthread_mutex_unlock(&R.lock);
	if (send && write(R.evfd, &one, sizeof one) < 0) { /* counter full: a wake-up is pending anyway */ }
}

int conn_add(int fd, enum conn_kind kind, bool connecting, struct conn **out)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) return -1;
	c->fd = fd;
	c->kind = kind;
	c->connecting = connecting;
	uint32_t max = R.cfg.max_frame_size > FRAME_MAX_CEILING ? FRAME_MAX_CEILING : (uint32_t)R.cfg.max_frame_size;
	frame_reader_init(&c->fr, max);
	ujo_buf_init(&c->out);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->next = R.conns;
	R.conns = c;
	ep_add(fd, c, EPOLLIN | EPOLLRDHUP | (connecting ? EPOLLOUT : 0));
	c->want_write = connecting;
	*out = c;
	return 0;
}

void net_close_conn(struct conn *c, const char *why)
{
	if (c->dead) return;
	c->dead = true;
	if (why) log_info("connection closed peer=%s reason=\"%s\"", c->peer[0] ? c->peer : "?", why);
	if (c->kind == CK_CONSUMER) out_consumer_gone(c);
	if (c->kind == CK_INPUT) in_conn_gone(c);
	epoll_ctl(R.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

/* Free closed connections (after the event batch, so no dangling tags). */
static void reap(void)
{
	for (struct conn **pp = &R.conns; *pp;) {
		struct conn *c = *pp;
		if (!c->dead) { pp = &c->next; continue; }
		*pp = c->next;
		frame_reader_free(&c->fr);
		ujo_buf_free(&c->out);
		free(c);
	}
}

void conn_flush(struct conn *c)
{
	while (!c->dead && !c->connecting && c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) { c->out_off += (size_t)n; continue; }
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { net_watch_write(c, true); return; }
		net_close_conn(c, n < 0 ? strerror(errno) : "write failed");
		return;
	}
	if (c->out_off == c->out.len) {
		ujo_buf_reset(&c->out);
		c->out_off = 0;
		if (!c->connecting) net_watch_write(c, false);
	}
}

/* The first frame on a server connection decides what it is
 * (titanfe-protocol.md §7.4): a UJO ConsumerRegistration, or JSON from
 * the Grid Manager announcing new input sources. */
static void first_frame(struct conn *c, const uint8_t *body, uint32_t len)
{
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
	if (i < len && (body[i] == '{' || body[i] == '[')) {
		in_add_sources_json((const char *)body, len, c->peer);
		net_close_conn(c, NULL);
		return;
	}
	struct msg m;
	struct msg_str inst, port;
	char err[200];
	if (msg_decode_as(body, len, MSG_CONSUMER_REGISTRATION, &m, err, sizeof err) < 0 ||
	    msg_decode_registration(&m, &inst, &port, err, sizeof err) < 0) {
		R.bad_frames++;
		log_warn("bad first message peer=%s error=\"%s\"", c->peer, err);
		net_close_conn(c, NULL);
		return;
	}
	if (out_add_consumer(c, &inst, &port) < 0) net_close_conn(c, NULL);
}

static void on_frame(struct conn *c, const uint8_t *body, uint32_t len)
{
	switch (c->kind) {
	case CK_NEW: first_frame(c, body, len); break;
	case CK_CONSUMER: out_consumer_message(c, body, len); break;
	case CK_INPUT: in_message(c, body, len); break;
	}
}

static void on_readable(struct conn *c)
{
	for (int rounds = 0; rounds < 16 && !c->dead; rounds++) {
		ssize_t n = frame_reader_read_fd(&c->fr, c->fd);
		if (n == 0) { net_close_conn(c, c->kind == CK_INPUT ? "producer closed the connection" : NULL); return; }
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
		if (n < 0) { net_close_conn(c, n < -1 ? "out of memory" : strerror(errno)); return; }
		const uint8_t *body;
		uint32_t len;
		int rc = 0;
		while (!c->dead && (rc = frame_reader_next(&c->fr, &body, &len)) == 1) on_frame(c, body, len);
		if (!c->dead && rc < 0) {
			R.bad_frames++;
			net_close_conn(c, frame_strerror(rc));
			return;
		}
	}
}

static void on_writable(struct conn *c)
{
	if (c->connecting) {
		int e = 0;
		socklen_t el = sizeof e;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) { net_close_conn(c, strerror(e)); return; }
		c->connecting = false;
		in_connected(c);
	}
	conn_flush(c);
}

static void on_accept(void)
{
	for (;;) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof sa;
		int fd = accept4(R.lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) return;
		struct conn *c;
		/* consumers may still join while we drain queued results */
		if (conn_add(fd, CK_NEW, false, &c) < 0) { close(fd); continue; }
		char ip[32];
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
		snprintf(c->peer, sizeof c->peer, "%s:%u", ip, ntohs(sa.sin_port));
	}
}

/* ---- shutdown -------------------------------------------------------------- */

/* Signalled or idle: deregister first, as the original, then drain for
 * at most drain_seconds. When the brick finished on its own (an inlet
 * returned), drain_seconds is 0: stay registered, so consumers that come
 * later still find us, until every result is delivered. */
static void begin_stop(const char *why, double drain_seconds)
{
	if (R.stopping) return;
	R.stopping = true;
	R.stop_deadline = drain_seconds > 0 ? mono_s() + drain_seconds : 0;
	log_info("shutting down reason=\"%s\"", why);
	if (R.gm && drain_seconds > 0) {
		gm_deregister();
		R.gm_deregistered = true;
	}
	worker_stop_inlet();
	in_close_all();
	pthread_mutex_lock(&R.lock);
	R.input_closed = true;
	pthread_cond_broadcast(&R.in_cv);
	pthread_cond_broadcast(&R.out_cv);
	pthread_mutex_unlock(&R.lock);
}

/* Done when the brick thread has finished and every queued result went
 * out (or no consumer is left to take it), or the deadline passed. */
static bool stop_complete(void)
{
	pthread_mutex_lock(&R.lock);
	bool done = R.worker_done;
	size_t queued = out_queued();
	pthread_mutex_unlock(&R.lock);
	if (!done) return R.stop_deadline && mono_s() > R.stop_deadline; /* worker_join waits a little more */
	if (queued == 0) {
		for (struct conn *c = R.conns; c; c = c->next)
			if (!c->dead && c->out_off < c->out.len) return R.stop_deadline && mono_s() > R.stop_deadline;
		return true;
	}
	return R.stop_deadline && mono_s() > R.stop_deadline;
}

static void on_signal(void)
{
	unsigned char signo;
	while (read(R.sigfd, &signo, 1) == 1) {
		if (R.stopping) { log_warn("second signal: stopping now"); R.stop_deadline = mono_s() - 10; continue; }
		begin_stop(signo == SIGINT ? "SIGINT" : "SIGTERM", R.drain_seconds);
	}
}

/* titanfe §16.1: idle = nothing queued anywhere and the brick not busy. */
static void idle_check(double now)
{
	if (R.def.is_inlet || R.def.exit_after_idle <= 0 || R.stopping || now < R.next_idle_check) return;
	double every = R.def.exit_after_idle * 0.1;
	R.next_idle_check = now + (every < 1 ? every : 1);
	pthread_mutex_lock(&R.lock);
	bool idle = R.inq.n == 0 && out_queued() == 0 && !R.processing;
	pthread_mutex_unlock(&R.lock);
	if (!idle) { R.idle_since = 0; return; }
	if (!R.idle_since) R.idle_since = now;
	if (now - R.idle_since > R.def.exit_after_idle) begin_stop("Max idle time reached", R.drain_seconds);
}

static void on_timer(void)
{
	uint64_t ticks;
	if (read(R.tfd, &ticks, sizeof ticks) < 0) { /* spurious */ }
	double now = mono_s();
	out_tick(now);
	in_tick(now);
	tele_tick(now);
	idle_check(now);
	if (now >= R.next_queue_metrics) {
		R.next_queue_metrics = now + 0.1;
		pthread_mutex_lock(&R.lock);
		size_t n = R.inq.n;
		pthread_mutex_unlock(&R.lock);
		if (n) {
			char name[TITAN_MAX_NAME + 16];
			snprintf(name, sizeof name, "Input.%s", R.def.name);
			tele_queue_metrics(name, n);
		}
	}
}

static void on_event(void)
{
	uint64_t v;
	if (read(R.evfd, &v, sizeof v) < 0) { /* nothing */ }
	pthread_mutex_lock(&R.lock);
	R.wake_pending = false;
	bool finished = R.worker_done;
	pthread_mutex_unlock(&R.lock);
	/* The brick thread ended on its own (an inlet returned, or the brick
	 * failed to load): deliver what it produced, then stop. */
	if (finished && !R.stopping) begin_stop("brick finished", 0);
}

int net_run(void)
{
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(R.epfd, evs, 64, R.stopping ? 100 : -1);
		if (n < 0 && errno != EINTR) { log_error("epoll_wait: %s", strerror(errno)); return 1; }
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;
			if (tag == &tag_listen) on_accept();
			else if (tag == &tag_event) on_event();
			else if (tag == &tag_signal) on_signal();
			else if (tag == &tag_timer) on_timer();
			else {
				struct conn *c = tag;
				if (evs[i].events & (EPOLLOUT | EPOLLERR)) on_writable(c);
				if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) on_readable(c);
			}
		}
		out_dispatch();
		in_refill();
		for (struct conn *c = R.conns; c; c = c->next)
			if (!c->dead && c->out.len > c->out_off) conn_flush(c);
		reap();
		if (R.stopping && stop_complete()) break;
	}
	if (R.gm && !R.gm_deregistered) gm_deregister();
	for (struct conn *c = R.conns; c; c = c->next) net_close_conn(c, NULL);
	reap();
	in_close_all(); /* sources announced while draining */
	return R.exit_code;
}
