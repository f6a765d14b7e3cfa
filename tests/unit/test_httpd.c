/* test_httpd.c — the httpd glue and the http client against each other on
 * loopback: routing data (method, path, repeated query args, headers,
 * body), the answer helpers, 413 without buffering (announced and
 * chunked), keep-alive, multipart parts, and the client's separation of
 * transport errors from HTTP statuses. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "httpd.h"

#define SMALL_LIMIT 1000

static struct httpd *srv;
static char base[64];

static void route_echo(struct httpd_req *rq)
{
	const char *names[4];
	size_t n = httpd_query_all(rq, "name", names, 4);
	char out[512];
	int len = snprintf(out, sizeof out, "%s %s n=%zu", rq->method, rq->path, n);
	for (size_t i = 0; i < n && i < 4; i++)
		len += snprintf(out + len, sizeof out - (size_t)len, " [%s]", names[i]);
	const char *x = httpd_header(rq, "x-test");
	const char *flag = httpd_query(rq, "flag");
	len += snprintf(out + len, sizeof out - (size_t)len, " x=%s flag=%s body=%zu:%.40s",
		x ? x : "-", flag ? flag : "-", rq->body_len, rq->body);
	assert_int_equal(httpd_add_header(rq, "X-Reply", "yes"), 0);
	assert_int_equal(httpd_add_header(rq, "X-Bad", "a\r\nInjected: 1"), -1);
	httpd_reply(rq, 200, "text/plain", out, strlen(out));
}

static void route_form(struct httpd_req *rq)
{
	struct httpd_part p;
	char err[128];
	int r = httpd_form_part(rq, "package", &p, err, sizeof err);
	if (r < 0) {
		httpd_reply_error(rq, 400, "%s", err);
		return;
	}
	if (r > 0) {
		httpd_reply_error(rq, 400, "no part");
		return;
	}
	char out[256];
	int len = snprintf(out, sizeof out, "%s %zu %.*s", p.filename ? p.filename : "-", p.len,
		(int)(p.len < 40 ? p.len : 40), p.data);
	httpd_reply(rq, 200, "text/plain", out, (size_t)len);
	httpd_part_free(&p);
}

static void handler(struct httpd_req *rq, void *arg)
{
	(void)arg;
	if (strcmp(rq->path, "/form") == 0)
		route_form(rq);
	else if (strcmp(rq->path, "/error") == 0)
		httpd_reply_error(rq, 404, "no brick \"%s\"", "x\ny");
	else if (strcmp(rq->path, "/silent") == 0)
		return;
	else
		route_echo(rq);
}

static size_t limit(const struct httpd_req *rq, void *arg)
{
	(void)arg;
	return strcmp(rq->path, "/big") == 0 ? 100000 : SMALL_LIMIT;
}

static int setup(void **state)
{
	(void)state;
	http_global_init();
	struct httpd_opts o = {.addr = "127.0.0.1", .port = 0, .handler = handler, .body_limit = limit};
	char err[256];
	srv = httpd_start(&o, err, sizeof err);
	if (srv == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snprintf(base, sizeof base, "http://127.0.0.1:%u", httpd_port(srv));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	httpd_stop(srv);
	http_global_cleanup();
	return 0;
}

static char *url(const char *path)
{
	static __thread char u[256];
	snprintf(u, sizeof u, "%s%s", base, path);
	return u;
}

static void test_port(void **state)
{
	(void)state;
	assert_true(httpd_port(srv) > 0);
	assert_true(httpd_port(srv) <= 65535);
}

static void test_query_headers_body(void **state)
{
	(void)state;
	struct http_resp r;
	char err[256];
	const char *hdrs[] = {"X-Test: hello", NULL};
	struct http_opts o = {.headers = hdrs};
	assert_int_equal(http_request("POST", url("/a%20b?name=A&name=B%26C&flag"), "text/plain",
				 "payload", 7, &o, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST /a b n=2 [A] [B&C] x=hello flag= body=7:payload");
	assert_string_equal(r.content_type, "text/plain");
	http_resp_free(&r);

	assert_int_equal(http_get(url("/"), NULL, &r, err, sizeof err), 0);
	assert_string_equal(r.body, "GET / n=0 x=- flag=- body=0:");
	http_resp_free(&r);
}

static void test_error_json(void **state)
{
	(void)state;
	struct http_resp r;
	char err[256];
	assert_int_equal(http_get(url("/error"), NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.content_type, "application/json");
	assert_string_equal(r.body, "{\"detail\":\"no brick \\\"x\\ny\\\"\"}");
	http_resp_free(&r);

	/* A handler that answers nothing gives a 500, not a hang. */
	assert_int_equal(http_get(url("/silent"), NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 500);
	http_resp_free(&r);
}

static void test_body_limit(void **state)
{
	(void)state;
	struct http_resp r;
	char err[256];
	char *big = malloc(200000);
	assert_non_null(big);
	memset(big, 'a', 200000);
	assert_int_equal(http_request("POST", url("/x"), "text/plain", big, SMALL_LIMIT, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	assert_int_equal(http_request("POST", url("/x"), "text/plain", big, SMALL_LIMIT + 1, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "\"detail\""));
	http_resp_free(&r);
	/* The per-request limit. */
	assert_int_equal(http_request("POST", url("/big"), "text/plain", big, 100000, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	assert_int_equal(http_request("POST", url("/big"), "text/plain", big, 200000, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 413);
	http_resp_free(&r);
	free(big);
}

static int connect_srv(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)httpd_port(srv))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the server may close early; that is fine */
		s += w;
		n -= (size_t)w;
	}
}

/* Read one response: headers, then Content-Length bytes of body. */
static size_t read_response(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		const char *end = strstr(buf, "\r\n\r\n");
		const char *cl = strcasestr(buf, "Content-Length: ");
		if (end != NULL && cl != NULL && len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
			break;
	}
	buf[len] = '\0';
	return len;
}

static void test_keepalive(void **state)
{
	(void)state;
	int fd = connect_srv();
	const char req[] = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[4096];
	send_all(fd, req, sizeof req - 1);
	read_response(fd, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_null(strstr(buf, "Connection: close"));
	/* The same connection serves a second request. */
	const char req2[] = "GET /two HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(fd, req2, sizeof req2 - 1);
	read_response(fd, buf, sizeof buf);
	assert_non_null(strstr(buf, "GET /two"));
	close(fd);
}

static void test_chunked_too_large(void **state)
{
	(void)state;
	int fd = connect_srv();
	const char head[] = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	send_all(fd, head, sizeof head - 1);
	char chunk[600];
	int n = snprintf(chunk, sizeof chunk, "1f4\r\n");
	memset(chunk + n, 'b', 500);
	memcpy(chunk + n + 500, "\r\n", 2);
	for (int i = 0; i < 4; i++) /* 2000 bytes > SMALL_LIMIT */
		send_all(fd, chunk, (size_t)n + 502);
	send_all(fd, "0\r\n\r\n", 5);
	char buf[4096];
	read_response(fd, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	close(fd);
}

static void test_multipart(void **state)
{
	(void)state;
	static const char body[] =
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"other\"\r\n\r\n"
		"ignored\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"package\"; filename=\"demo.tar.gz\"\r\n"
		"Content-Type: application/octet-stream\r\n\r\n"
		"\x1f\x8b\x00\r\n--Xy not a boundary\r\n"
		"--XyZ--\r\n";
	struct http_resp r;
	char err[256];
	assert_int_equal(http_request("POST", url("/form"), "multipart/form-data; boundary=XyZ",
				 body, sizeof body - 1, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 200);
	/* 3 bytes + "\r\n--Xy not a boundary" = 24 bytes, binary kept. */
	assert_int_equal(strncmp(r.body, "demo.tar.gz 24 \x1f\x8b", 17), 0);
	http_resp_free(&r);

	assert_int_equal(http_request("POST", url("/form"), "text/plain", "x", 1, NULL, &r, err, sizeof err), 0);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
}

static void test_client_errors(void **state)
{
	(void)state;
	struct http_resp r;
	char err[256];
	/* Nothing listens on port 1: a transport error, not a status. */
	assert_int_equal(http_get("http://127.0.0.1:1/", NULL, &r, err, sizeof err), -1);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	/* A body beyond the client's cap is refused. */
	struct http_opts o = {.max_body = 10};
	assert_int_equal(http_get(url("/long-path-for-a-long-answer"), &o, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than 10"));
}

static void test_bad_addr(void **state)
{
	(void)state;
	struct httpd_opts o = {.addr = "not-an-ip", .handler = handler};
	char err[256];
	assert_null(httpd_start(&o, err, sizeof err));
	assert_non_null(strstr(err, "not-an-ip"));
	/* The port in use is refused with a message. */
	o.addr = "127.0.0.1";
	o.port = httpd_port(srv);
	assert_null(httpd_start(&o, err, sizeof err));
	assert_non_null(strstr(err, "cannot listen"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_query_headers_body),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_chunked_too_large),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_bad_addr),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
