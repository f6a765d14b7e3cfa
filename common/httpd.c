/* httpd.c — libmicrohttpd glue. The contract is in httpd.h.
 *
 * MHD calls the access handler several times per request: once with the
 * headers, once per chunk of body, and a last time with no data. Only the
 * last call queues the response: queueing on the first call makes MHD
 * 0.9.75 answer "Connection: close" every time (toolchain.md §7).
 */
#include "httpd.h"
#include "err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>

#include "log.h"

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_opts o;
	unsigned port;
};

struct hdr {
	char *name, *value;
};

/* Per-request state; the public struct comes first so the handler's
 * pointer and ours are the same allocation. */
struct httpd_req_priv {
	struct httpd_req pub;
	struct httpd *h;
	struct MHD_Connection *conn;
	size_t limit;   /* largest body accepted */
	size_t cap;     /* bytes allocated for pub.body */
	bool too_large; /* body went past the limit: answer 413 */
	size_t drained; /* bytes read and dropped past the limit */
	bool answered;  /* a response has been queued */
	char remote[INET6_ADDRSTRLEN];
	/* The answer, built by httpd_reply* and turned into an MHD response
	 * after the handler returns. */
	unsigned status;
	char *ctype;
	void *rbody;
	size_t rlen;
	int rfd;
	uint64_t rfsize;
	struct hdr hdrs[HTTPD_MAX_EXTRA_HEADERS];
	size_t nhdrs;
};

static struct httpd_req_priv *priv(const struct httpd_req *rq)
{
	return rq->priv_;
}

/* --- answer bookkeeping ----------------------------------------------- */

static void clear_answer(struct httpd_req_priv *p)
{
	free(p->ctype);
	p->ctype = NULL;
	free(p->rbody);
	p->rbody = NULL;
	p->rlen = 0;
	if (p->rfd >= 0)
		close(p->rfd);
	p->rfd = -1;
	p->status = 0;
}

static void req_free(struct httpd_req_priv *p)
{
	if (p == NULL)
		return;
	clear_answer(p);
	for (size_t i = 0; i < p->nhdrs; i++) {
		free(p->hdrs[i].name);
		free(p->hdrs[i].value);
	}
	free(p->pub.body);
	free(p);
}

static void set_answer(struct httpd_req_priv *p, unsigned status, const char *ctype)
{
	clear_answer(p);
	p->status = status;
	p->ctype = ctype ? strdup(ctype) : NULL;
}

void httpd_reply_take(struct httpd_req *rq, unsigned status, const char *ctype, void *body, size_t len)
{
	struct httpd_req_priv *p = priv(rq);
	set_answer(p, status, ctype);
	p->rbody = body;
	p->rlen = body ? len : 0;
}

void httpd_reply(struct httpd_req *rq, unsigned status, const char *ctype, const void *body, size_t len)
{
	void *copy = NULL;
	if (len > 0) {
		copy = malloc(len);
		if (copy == NULL) {
			/* The handler cannot do anything better; say so. */
			httpd_reply_take(rq, 500, NULL, NULL, 0);
			return;
		}
		memcpy(copy, body, len);
	}
	httpd_reply_take(rq, status, ctype, copy, len);
}

void httpd_reply_fd(struct httpd_req *rq, unsigned status, const char *ctype, int fd, uint64_t size)
{
	struct httpd_req_priv *p = priv(rq);
	set_answer(p, status, ctype);
	p->rfd = fd;
	p->rfsize = size;
}

void httpd_reply_json(struct httpd_req *rq, unsigned status, const char *json)
{
	httpd_reply(rq, status, "application/json", json, strlen(json));
}

void httpd_reply_error(struct httpd_req *rq, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (o != NULL && cJSON_AddStringToObject(o, "detail", msg) != NULL)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL) {
		httpd_reply_take(rq, status, NULL, NULL, 0);
		return;
	}
	/* cJSON allocates with malloc by default, so the glue may free it. */
	httpd_reply_take(rq, status, "application/json", text, strlen(text));
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

int httpd_add_header(struct httpd_req *rq, const char *name, const char *value)
{
	struct httpd_req_priv *p = priv(rq);
	if (p->nhdrs >= HTTPD_MAX_EXTRA_HEADERS || has_crlf(name) || has_crlf(value))
		return -1;
	char *n = strdup(name), *v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return -1;
	}
	p->hdrs[p->nhdrs].name = n;
	p->hdrs[p->nhdrs].value = v;
	p->nhdrs++;
	return 0;
}

unsigned httpd_status(const struct httpd_req *rq)
{
	return priv(rq)->status;
}

/* --- reading ------------------------------------------------------------ */

const char *httpd_header(const struct httpd_req *rq, const char *name)
{
	return MHD_lookup_connection_value(priv(rq)->conn, MHD_HEADER_KIND, name);
}

const char *httpd_query(const struct httpd_req *rq, const char *name)
{
	const char *v;
	/* MHD distinguishes "?a" (NULL value) from "?a=" (""); we do not. */
	if (MHD_lookup_connection_value_n(priv(rq)->conn, MHD_GET_ARGUMENT_KIND, name,
		    strlen(name), &v, NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

struct query_walk {
	const char *name;
	const char **out;
	size_t max, n;
};

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct query_walk *w = cls;
	if (key == NULL || strcmp(key, w->name) != 0)
		return MHD_YES;
	if (w->n < w->max)
		w->out[w->n] = value ? value : "";
	w->n++;
	return MHD_YES;
}

size_t httpd_query_all(const struct httpd_req *rq, const char *name, const char **out, size_t max)
{
	struct query_walk w = {name, out, max, 0};
	MHD_get_connection_values(priv(rq)->conn, MHD_GET_ARGUMENT_KIND, query_iter, &w);
	return w.n;
}

/* --- multipart/form-data -------------------------------------------------- */

struct form_walk {
	const char *name;
	struct httpd_part *out;
	size_t cap;
	bool found, done, nomem;
};

static int part_append(struct form_walk *w, const char *data, size_t size)
{
	struct httpd_part *o = w->out;
	if (o->len + size + 1 > w->cap) {
		size_t ncap = w->cap ? w->cap : 4096;
		while (ncap < o->len + size + 1)
			ncap *= 2;
		char *n = realloc(o->data, ncap);
		if (n == NULL)
			return -1;
		o->data = n;
		w->cap = ncap;
	}
	memcpy(o->data + o->len, data, size);
	o->len += size;
	o->data[o->len] = '\0';
	return 0;
}

static enum MHD_Result form_iter(void *cls, enum MHD_ValueKind kind, const char *key,
	const char *filename, const char *content_type, const char *transfer_encoding,
	const char *data, uint64_t off, size_t size)
{
	(void)kind, (void)content_type, (void)transfer_encoding;
	struct form_walk *w = cls;
	if (key == NULL || strcmp(key, w->name) != 0)
		return MHD_YES;
	/* A second field of the same name starts again at offset 0: the
	 * first one wins. */
	if (w->found && off == 0)
		w->done = true;
	if (w->done)
		return MHD_YES;
	if (!w->found) {
		w->found = true;
		if (filename != NULL && (w->out->filename = strdup(filename)) == NULL) {
			w->nomem = true;
			return MHD_NO;
		}
	}
	if (size > 0 && part_append(w, data, size) < 0) {
		w->nomem = true;
		return MHD_NO;
	}
	return MHD_YES;
}

void httpd_part_free(struct httpd_part *p)
{
	if (p == NULL)
		return;
	free(p->data);
	free(p->filename);
	memset(p, 0, sizeof *p);
}

int httpd_form_part(struct httpd_req *rq, const char *name, struct httpd_part *out,
	char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct form_walk w = {.name = name, .out = out};
	struct MHD_PostProcessor *pp =
		MHD_create_post_processor(priv(rq)->conn, 64 * 1024, form_iter, &w);
	if (pp == NULL) {
		err_set(err, errlen, "the body is not multipart/form-data");
		return -1;
	}
	enum MHD_Result r = MHD_post_process(pp, rq->body, rq->body_len);
	/* destroy reports MHD_NO when the body ended inside a part. */
	enum MHD_Result fin = MHD_destroy_post_processor(pp);
	if (w.nomem || r != MHD_YES || fin != MHD_YES) {
		httpd_part_free(out);
		err_set(err, errlen, w.nomem ? "out of memory reading the form" : "malformed multipart/form-data body");
		return -1;
	}
	if (!w.found)
		return 1;
	if (out->data == NULL && (out->data = calloc(1, 1)) == NULL) {
		httpd_part_free(out);
		err_set(err, errlen, "out of memory reading the form");
		return -1;
	}
	return 0;
}

/* --- the MHD callbacks ------------------------------------------------------- */

static void remote_of(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "?");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in);
	char host[INET6_ADDRSTRLEN + 16]; /* numeric, with a possible %scope */
	if (getnameinfo(ci->client_addr, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) == 0) {
		/* An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d. */
		const char *h = strncmp(host, "::ffff:", 7) == 0 && strchr(host, '.') ? host + 7 : host;
		size_t hl = strnlen(h, n - 1);
		memcpy(out, h, hl);
		out[hl] = '\0';
	}
}

static struct httpd_req_priv *req_new(struct httpd *h, struct MHD_Connection *c,
	const char *url, const char *method)
{
	struct httpd_req_priv *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->h = h;
	p->conn = c;
	p->rfd = -1;
	p->pub.priv_ = p;
	/* MHD keeps url and method alive for the whole request. */
	p->pub.method = method;
	p->pub.path = url;
	remote_of(c, p->remote, sizeof p->remote);
	p->pub.remote = p->remote;
	p->limit = h->o.body_limit ? h->o.body_limit(&p->pub, h->o.arg) : h->o.max_body;
	return p;
}

/* Content-Length beyond the limit: refuse before reading any body. */
static bool announced_too_large(struct httpd_req_priv *p)
{
	const char *cl = MHD_lookup_connection_value(p->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	return errno == ERANGE || (end != cl && n > p->limit);
}

static int body_append(struct httpd_req_priv *p, const char *data, size_t size)
{
	struct httpd_req *rq = &p->pub;
	if (p->too_large || size > p->limit - rq->body_len) {
		p->too_large = true; /* keep draining, buffer nothing more */
		p->drained += size;
		return 0;
	}
	if (rq->body_len + size + 1 > p->cap) {
		size_t ncap = p->cap ? p->cap : 1024;
		while (ncap < rq->body_len + size + 1)
			ncap *= 2;
		char *n = realloc(rq->body, ncap);
		if (n == NULL)
			return -1;
		rq->body = n;
		p->cap = ncap;
	}
	memcpy(rq->body + rq->body_len, data, size);
	rq->body_len += size;
	rq->body[rq->body_len] = '\0';
	return 0;
}

static struct MHD_Response *build_response(struct httpd_req_priv *p)
{
	struct MHD_Response *r;
	if (p->rfd >= 0) {
		r = MHD_create_response_from_fd64(p->rfsize, p->rfd);
		if (r != NULL)
			p->rfd = -1; /* MHD owns and closes it now */
	} else {
		r = MHD_create_response_from_buffer(p->rlen, p->rbody ? p->rbody : (void *)"",
			p->rbody ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (r != NULL)
			p->rbody = NULL; /* MHD frees it with free() */
	}
	if (r == NULL)
		return NULL;
	if (p->ctype != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, p->ctype);
	for (size_t i = 0; i < p->nhdrs; i++)
		MHD_add_response_header(r, p->hdrs[i].name, p->hdrs[i].value);
	return r;
}

static enum MHD_Result send_answer(struct httpd_req_priv *p)
{
	if (p->status == 0)
		httpd_reply_error(&p->pub, 500, "the server produced no answer");
	struct MHD_Response *r = build_response(p);
	if (r == NULL)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(p->conn, p->status, r);
	MHD_destroy_response(r);
	p->answered = true;
	return ret;
}

static enum MHD_Result send_too_large(struct httpd_req_priv *p)
{
	httpd_reply_error(&p->pub, 413, "request body larger than %zu bytes", p->limit);
	return send_answer(p);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct httpd *h = cls;
	struct httpd_req_priv *p = *con_cls;
	if (p == NULL) { /* first call: headers only */
		if ((p = req_new(h, c, url, method)) == NULL)
			return MHD_NO;
		*con_cls = p;
		if (announced_too_large(p))
			return send_too_large(p);
		return MHD_YES;
	}
	if (p->answered) { /* answered early: swallow what still arrives */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (body_append(p, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		/* MHD cannot answer before the body is read, so an oversized
		 * chunked body is drained (not kept) to answer 413 - but a
		 * client that keeps sending gets its connection closed. */
		return p->drained > HTTPD_MAX_BODY_DEFAULT ? MHD_NO : MHD_YES;
	}
	if (p->too_large)
		return send_too_large(p);
	if (p->pub.body == NULL && (p->pub.body = calloc(1, 1)) == NULL)
		return MHD_NO;
	h->o.handler(&p->pub, h->o.arg);
	return send_answer(p);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	req_free(*con_cls);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* MHD reports client misbehaviour here (resets, bad requests): that
	 * is the client's problem, not an operator's. */
	log_debug("httpd: %s", msg);
}

/* --- start / stop ------------------------------------------------------------ */

static struct MHD_Daemon *daemon_start(struct httpd *h, unsigned flags, const struct sockaddr *sa)
{
	const struct httpd_opts *o = &h->o;
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL}, /* first, or MHD warns */
		{MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL},
		{MHD_OPTION_CONNECTION_LIMIT, o->max_conns, NULL},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
		{sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, 0, (void *)sa},
		{MHD_OPTION_END, 0, NULL},
	};
	return MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, h,
		MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

static int parse_addr(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		return AF_INET;
	}
	/* "[::1]" as written in URLs is accepted too. */
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof buf) {
		memcpy(buf, addr + 1, n - 2);
		buf[n - 2] = '\0';
		addr = buf;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return AF_INET6;
	}
	return -1;
}

static void fill_defaults(struct httpd_opts *o)
{
	if (o->threads == 0)
		o->threads = HTTPD_THREADS_DEFAULT;
	if (o->max_body == 0)
		o->max_body = HTTPD_MAX_BODY_DEFAULT;
	if (o->timeout_s == 0)
		o->timeout_s = HTTPD_IDLE_TIMEOUT_S;
	if (o->max_conns == 0)
		o->max_conns = HTTPD_MAX_CONNECTIONS;
}

struct httpd *httpd_start(const struct httpd_opts *o, char *err, size_t errlen)
{
	if (o == NULL || o->handler == NULL || o->port > 65535) {
		err_set(err, errlen, "httpd: invalid options (handler missing or port > 65535)");
		return NULL;
	}
	struct httpd *h = calloc(1, sizeof *h);
	if (h == NULL) {
		err_set(err, errlen, "httpd: out of memory");
		return NULL;
	}
	h->o = *o;
	fill_defaults(&h->o);
	const unsigned base = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const char *addr = o->addr ? o->addr : "";
	if (*addr == '\0') {
		h->d = daemon_start(h, base | MHD_USE_DUAL_STACK, NULL);
		if (h->d == NULL) /* no IPv6 on this host: IPv4 only */
			h->d = daemon_start(h, base, NULL);
	} else {
		struct sockaddr_storage ss;
		int fam = parse_addr(addr, o->port, &ss);
		if (fam < 0) {
			err_set(err, errlen, "httpd: %s is not a numeric IPv4 or IPv6 address", addr);
			free(h);
			return NULL;
		}
		h->d = daemon_start(h, base | (fam == AF_INET6 ? MHD_USE_IPv6 : 0), (struct sockaddr *)&ss);
	}
	if (h->d == NULL) {
		err_set(err, errlen, "httpd: cannot listen on %s%s%s:%u (address in use or not local?)",
			strchr(addr, ':') && addr[0] != '[' ? "[" : "", *addr ? addr : "*",
			strchr(addr, ':') && addr[0] != '[' ? "]" : "", o->port);
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : o->port;
	return h;
}

unsigned httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
