/* httpd.h — a small HTTP/1.1 server on libmicrohttpd (MHD).
 *
 * What it gives a program: one handler function called once per request
 * with everything already read (method, path, query, headers, the whole
 * body up to a limit), and a few helpers to answer. Keep-alive works (the
 * glue uses MHD's two-phase pattern, toolchain.md §7), requests run on an
 * internal thread pool with epoll, and stopping is clean.
 *
 *     static void handle(struct httpd_req *rq, void *arg)
 *     {
 *         if (strcmp(rq->method, "GET") == 0 && strcmp(rq->path, "/metrics") == 0) {
 *             httpd_reply(rq, 200, "text/plain; version=0.0.4", text, strlen(text));
 *             return;
 *         }
 *         httpd_reply_error(rq, 404, "no route %s", rq->path);
 *     }
 *
 *     struct httpd_opts o = { .addr = "127.0.0.1", .port = 0, .handler = handle };
 *     char err[256];
 *     struct httpd *h = httpd_start(&o, err, sizeof err);
 *     if (h == NULL) { log_error("%s", err); exit(69); }
 *     log_info("listening port=%u", httpd_port(h));
 *     ...wait for SIGTERM (sigwait)...
 *     httpd_stop(h);
 *
 * Threads: the handler runs on one of MHD's pool threads, several requests
 * at once; it must be thread-safe. A handler that blocks (disk, a database,
 * an outgoing HTTP call) holds up the other connections of its thread, so
 * keep it short or raise opts.threads. Block SIGTERM/SIGINT (and ignore
 * SIGPIPE) BEFORE httpd_start: MHD's threads inherit the signal mask.
 *
 * Request body: read completely into memory before the handler runs, at
 * most a limit (opts.max_body, or per request from opts.body_limit). A
 * request announcing a larger Content-Length is answered 413 at once,
 * without reading the body; a chunked body that grows past the limit is
 * read on and dropped, then answered 413 (MHD cannot answer earlier), and
 * nothing beyond the limit is ever buffered; a client that sends more than
 * HTTPD_MAX_BODY_DEFAULT bytes past the limit has its connection closed. The
 * body is always NUL-terminated (body[body_len] == 0), so a handler can
 * parse text bodies directly.
 *
 * Responses: a handler calls exactly one httpd_reply* function (a later
 * call replaces the earlier answer); httpd_add_header may be called before
 * or after it. A handler that answers nothing produces a 500. Every
 * response carries Content-Length; HEAD is answered without a body by MHD.
 */
#ifndef TITAN_HTTPD_H
#define TITAN_HTTPD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "titan_limits.h"

struct httpd;     /* a running server */
struct httpd_req; /* one request, valid only during the handler call */

typedef void (*httpd_handler)(struct httpd_req *rq, void *arg);

/* Body limit for one request, decided from its method, path and headers
 * (rq->body is still NULL). Return the largest body accepted, in bytes. */
typedef size_t (*httpd_body_limit_fn)(const struct httpd_req *rq, void *arg);

struct httpd_opts {
	const char *addr;    /* numeric IPv4/IPv6 address to bind; NULL or "" = all
	                        interfaces (IPv6 dual stack when available) */
	unsigned port;       /* 0 = an ephemeral port, see httpd_port() */
	unsigned threads;    /* pool size; 0 = HTTPD_THREADS_DEFAULT */
	size_t max_body;     /* 0 = HTTPD_MAX_BODY_DEFAULT */
	unsigned timeout_s;  /* idle connection timeout; 0 = HTTPD_IDLE_TIMEOUT_S */
	unsigned max_conns;  /* 0 = HTTPD_MAX_CONNECTIONS */
	httpd_handler handler;           /* required */
	httpd_body_limit_fn body_limit;  /* optional, overrides max_body */
	void *arg;                       /* passed to handler and body_limit */
};

struct httpd_req {
	const char *method;  /* "GET", "POST", ... as sent */
	const char *path;    /* URL path, percent-decoded, without the query */
	const char *remote;  /* client address, e.g. "127.0.0.1" or "::1" */
	char *body;          /* NULL before the handler; then never NULL */
	size_t body_len;
	/* Internal state of the glue; do not touch. */
	struct httpd_req_priv *priv_;
};

/* Start listening and serving. Returns NULL with a one-line message in
 * err when the address is invalid or the port cannot be bound. */
struct httpd *httpd_start(const struct httpd_opts *o, char *err, size_t errlen);

/* The bound port (useful with opts.port = 0). */
unsigned httpd_port(const struct httpd *h);

/* Stop accepting, close every connection, wait for running handlers and
 * free the server. NULL is fine. */
void httpd_stop(struct httpd *h);

/* --- reading a request -------------------------------------------------- */

/* A request header by name (case-insensitive); NULL when absent. With
 * repeated headers the first is returned. */
const char *httpd_header(const struct httpd_req *rq, const char *name);

/* The first value of query argument `name` (percent-decoded); NULL when
 * absent, "" for "?name" or "?name=". */
const char *httpd_query(const struct httpd_req *rq, const char *name);

/* Every value of a repeated query argument (?name=A&name=B), in order.
 * Fills out[0..max) and returns how many there are in total (which may
 * exceed max). The strings live as long as the request. */
size_t httpd_query_all(const struct httpd_req *rq, const char *name,
	const char **out, size_t max);

/* One part of a multipart/form-data body. */
struct httpd_part {
	char *data;      /* malloc'd, NUL-terminated; caller frees */
	size_t len;
	char *filename;  /* malloc'd or NULL when the part has no filename */
};

/* Find the form field `name` in a multipart/form-data body. Returns 0 and
 * fills *out; -1 when the body is not multipart/form-data or is malformed
 * (message in err); 1 when the field is absent. */
int httpd_form_part(struct httpd_req *rq, const char *name, struct httpd_part *out,
	char *err, size_t errlen);
void httpd_part_free(struct httpd_part *p);

/* --- answering ----------------------------------------------------------- */

/* Answer with a copy of body[0..len). ctype NULL = no Content-Type. */
void httpd_reply(struct httpd_req *rq, unsigned status, const char *ctype,
	const void *body, size_t len);

/* Same, but takes ownership of a malloc'd body (freed by the glue). */
void httpd_reply_take(struct httpd_req *rq, unsigned status, const char *ctype,
	void *body, size_t len);

/* Answer with the contents of an open file (size bytes from offset 0);
 * the glue closes fd when the response is done. */
void httpd_reply_fd(struct httpd_req *rq, unsigned status, const char *ctype,
	int fd, uint64_t size);

/* Answer with a JSON text (copied), Content-Type application/json. */
void httpd_reply_json(struct httpd_req *rq, unsigned status, const char *json);

/* Answer {"detail": "<formatted message>"} with Content-Type
 * application/json — the error body of the toolkit's HTTP services. */
void httpd_reply_error(struct httpd_req *rq, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add a response header (copied). At most HTTPD_MAX_EXTRA_HEADERS per
 * request; returns -1 beyond that or for a name or value holding a CR or
 * LF (a header cannot be split into two). */
int httpd_add_header(struct httpd_req *rq, const char *name, const char *value);

/* The status the handler answered, 0 when it has not answered yet. */
unsigned httpd_status(const struct httpd_req *rq);

#endif
