/* http.h — a small blocking HTTP client on libcurl, for calls between
 * titan services (install notifications, the User Service check, the
 * Grid Manager calls of a runner).
 *
 * Every call has a total timeout and a connect timeout (never "wait
 * forever"), uses no signals (safe in threads), never goes through a proxy
 * for loopback addresses, and caps the response body it keeps in memory.
 * A transport failure (no connection, timeout, body too large) and an
 * HTTP status are reported separately: the functions return -1 only for
 * the former; a 404 or 500 is a successful call with resp->status set.
 *
 *     struct http_resp r;
 *     char err[256];
 *     if (http_post_json("http://127.0.0.1:8000/api/v1/bricks/install",
 *                        body, NULL, &r, err, sizeof err) < 0)
 *         log_warn("notify failed: %s", err);
 *     else if (r.status != 200)
 *         log_warn("notify answered status=%ld", r.status);
 *     http_resp_free(&r);
 *
 * Call http_global_init() once at start-up, before any thread exists
 * (libcurl's global init is not thread-safe); the calls themselves are
 * thread-safe (one easy handle per call).
 */
#ifndef TITAN_HTTP_H
#define TITAN_HTTP_H

#include <stddef.h>

#include "titan_limits.h"

struct http_opts {
	long timeout_ms;         /* whole call; 0 = HTTP_TIMEOUT_MS_DEFAULT */
	long connect_timeout_ms; /* 0 = HTTP_CONNECT_TIMEOUT_MS_DEFAULT */
	size_t max_body;         /* response bytes kept; 0 = HTTP_MAX_RESPONSE_DEFAULT */
	/* Extra request headers, "Name: value" each, NULL-terminated; NULL = none. */
	const char *const *headers;
};

struct http_resp {
	long status;       /* HTTP status, 0 when no response arrived */
	char *body;        /* malloc'd, NUL-terminated (also when empty) */
	size_t len;
	char *content_type; /* malloc'd copy of Content-Type, or NULL */
};

/* curl_global_init; returns 0 or -1. */
int http_global_init(void);
void http_global_cleanup(void);

/* One request. method: "GET", "POST", "PUT", "DELETE", ...; body may be
 * NULL (no body); ctype is the request Content-Type (NULL = none). opts
 * may be NULL (defaults). On success returns 0 and fills *resp (free it
 * with http_resp_free); on a transport failure returns -1, resp->status
 * is 0, resp->body is NULL and err holds one line naming the URL. */
int http_request(const char *method, const char *url, const char *ctype,
	const void *body, size_t len, const struct http_opts *opts,
	struct http_resp *resp, char *err, size_t errlen);

/* GET url. */
int http_get(const char *url, const struct http_opts *opts, struct http_resp *resp,
	char *err, size_t errlen);

/* POST a JSON text (Content-Type: application/json). */
int http_post_json(const char *url, const char *json, const struct http_opts *opts,
	struct http_resp *resp, char *err, size_t errlen);

void http_resp_free(struct http_resp *resp);

#endif
