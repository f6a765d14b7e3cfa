/* http.c — blocking libcurl client. The contract is in http.h. */
#include "http.h"
#include "err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct sink {
	char *buf;
	size_t len, cap, max;
	bool overflow;
};

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

void http_resp_free(struct http_resp *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->content_type);
	memset(resp, 0, sizeof *resp);
}

/* Returning less than n makes curl stop with CURLE_WRITE_ERROR: that is
 * how an oversized body ends the transfer without buffering it. */
static size_t on_data(char *data, size_t size, size_t nmemb, void *cls)
{
	struct sink *s = cls;
	size_t n = size * nmemb;
	if (n > s->max - s->len) {
		s->overflow = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap : 1024;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		char *b = realloc(s->buf, ncap);
		if (b == NULL)
			return 0;
		s->buf = b;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static struct curl_slist *build_headers(const char *ctype, const struct http_opts *o, bool *ok)
{
	struct curl_slist *h = NULL, *t;
	char line[256];
	*ok = true;
	if (ctype != NULL) {
		snprintf(line, sizeof line, "Content-Type: %s", ctype);
		if ((t = curl_slist_append(h, line)) == NULL)
			goto fail;
		h = t;
	}
	/* curl would send "Expect: 100-continue" for large bodies and wait
	 * for the server; our peers answer at once, so skip the round trip. */
	if ((t = curl_slist_append(h, "Expect:")) == NULL)
		goto fail;
	h = t;
	for (const char *const *p = o && o->headers ? o->headers : NULL; p && *p; p++) {
		if ((t = curl_slist_append(h, *p)) == NULL)
			goto fail;
		h = t;
	}
	return h;
fail:
	curl_slist_free_all(h);
	*ok = false;
	return NULL;
}

static void set_common(CURL *c, const char *method, const char *url, const struct http_opts *o,
	struct sink *s)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o && o->timeout_ms > 0 ? o->timeout_ms : (long)HTTP_TIMEOUT_MS_DEFAULT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
		o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : (long)HTTP_CONNECT_TIMEOUT_MS_DEFAULT);
	/* A *_proxy variable in the environment must never route calls to
	 * services on this host through a proxy. */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "titan/" TITAN_VERSION);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

static void fill_resp(CURL *c, struct http_resp *resp, struct sink *s)
{
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	const char *ct = NULL;
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		resp->content_type = strdup(ct);
	resp->body = s->buf;
	resp->len = s->len;
	s->buf = NULL;
}

int http_request(const char *method, const char *url, const char *ctype, const void *body, size_t len,
	const struct http_opts *opts, struct http_resp *resp, char *err, size_t errlen)
{
	memset(resp, 0, sizeof *resp);
	struct sink s = {.max = opts && opts->max_body ? opts->max_body : HTTP_MAX_RESPONSE_DEFAULT};
	bool ok;
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = build_headers(ctype, opts, &ok);
	if (c == NULL || !ok) {
		curl_easy_cleanup(c);
		err_set(err, errlen, "%s %s: out of memory", method, url);
		return -1;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	set_common(c, method, url, opts, &s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	CURLcode rc = curl_easy_perform(c);
	int ret = 0;
	if (rc != CURLE_OK) {
		if (s.overflow)
			err_set(err, errlen, "%s %s: response body larger than %zu bytes", method, url, s.max);
		else
			err_set(err, errlen, "%s %s: %s", method, url, cerr[0] ? cerr : curl_easy_strerror(rc));
		free(s.buf);
		ret = -1;
	} else {
		if (s.buf == NULL)
			s.buf = calloc(1, 1);
		if (s.buf == NULL) {
			err_set(err, errlen, "%s %s: out of memory", method, url);
			ret = -1;
		} else {
			fill_resp(c, resp, &s);
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}

int http_get(const char *url, const struct http_opts *opts, struct http_resp *resp, char *err, size_t errlen)
{
	return http_request("GET", url, NULL, NULL, 0, opts, resp, err, errlen);
}

int http_post_json(const char *url, const char *json, const struct http_opts *opts,
	struct http_resp *resp, char *err, size_t errlen)
{
	return http_request("POST", url, "application/json", json, strlen(json), opts, resp, err, errlen);
}
