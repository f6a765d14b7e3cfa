/* gm.c — the runner's Grid Manager calls (titanfe-protocol.md §7.3):
 * JSON text bodies sent as text/plain, as the original's aiohttp
 * `data=json.dumps(...)` does, and the original's key spellings
 * (runnerID on registration, runnerId on deregistration). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "http.h"
#include "log.h"
#include "runner.h"

#define GM_CTYPE "text/plain; charset=utf-8"
#define GM_REGISTER_TRIES 3

static void url_for(char *out, size_t n, const char *route)
{
	size_t len = strlen(R.gm);
	while (len && R.gm[len - 1] == '/') len--;
	snprintf(out, n, "%.*s/brickrunners/%s", (int)len, R.gm, route);
}

/* A JSON object from key/value string pairs (cJSON does the escaping). */
static char *json_body(const char *const kv[][2], size_t n)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < n; i++) cJSON_AddStringToObject(o, kv[i][0], kv[i][1]);
	char *body = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return body;
}

static int post(const char *route, const char *const kv[][2], size_t n, long timeout_ms, struct http_resp *resp,
		char *err, size_t errlen)
{
	char url[2048];
	char *body = json_body(kv, n);
	if (!body) return snprintf(err, errlen, "out of memory"), -1;
	url_for(url, sizeof url, route);
	struct http_opts opts = {.timeout_ms = timeout_ms};
	int rc = http_request("POST", url, GM_CTYPE, body, strlen(body), &opts, resp, err, errlen);
	free(body);
	return rc;
}

int gm_register(char **sources, size_t *len, char *err, size_t errlen)
{
	const char *const kv[][2] = {{"runnerID", R.uid}, {"address", R.address}, {"brickId", R.def.instance_id}};
	struct http_resp r;
	int rc = -1;
	for (int i = 0; i < GM_REGISTER_TRIES && rc < 0; i++) {
		if (i) sleep((unsigned)i);
		rc = post("", kv, 3, 10000, &r, err, errlen);
	}
	if (rc < 0) {
		char why[400];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "cannot register at the Grid Manager: %s", why);
		return -1;
	}
	if (r.status != 200) {
		snprintf(err, errlen, "the Grid Manager refused to register the runner: status %ld: %.200s", r.status, r.body);
		http_resp_free(&r);
		return -1;
	}
	*sources = r.body;
	*len = r.len;
	r.body = NULL;
	http_resp_free(&r);
	return 0;
}

void gm_deregister(void)
{
	const char *const kv[][2] = {{"runnerId", R.uid}, {"brickId", R.def.instance_id}};
	struct http_resp r;
	char err[400];
	if (post("deregister", kv, 2, 3000, &r, err, sizeof err) < 0) {
		log_warn("deregistration failed: %s", err);
		return;
	}
	if (r.status != 200) log_warn("deregistration answered status=%ld", r.status);
	else log_info("deregistered at the Grid Manager");
	http_resp_free(&r);
}

/* Scaling requests must not stall the I/O thread: each runs on its own
 * short-lived thread (at most one per group every few seconds) that owns
 * copies of everything it sends. */
struct scaling_call {
	char url[2048];
	char consumer[TITAN_MAX_NAME + 1];
	char *body;
};

static void *scaling_thread(void *arg)
{
	struct scaling_call *sc = arg;
	struct http_resp r;
	struct http_opts opts = {.timeout_ms = 5000};
	char err[400];
	if (http_request("POST", sc->url, GM_CTYPE, sc->body, strlen(sc->body), &opts, &r, err, sizeof err) < 0)
		log_warn("scaling request failed: %s", err);
	else {
		if (r.status != 200) log_warn("scaling request answered status=%ld consumer=%s", r.status, sc->consumer);
		http_resp_free(&r);
	}
	free(sc->body);
	free(sc);
	return NULL;
}

void gm_request_scaling(const char *consumer_id)
{
	const char *const kv[][2] = {{"brickId", R.def.instance_id}, {"consumerId", consumer_id}};
	struct scaling_call *sc = calloc(1, sizeof *sc);
	if (!sc || !(sc->body = json_body(kv, 2))) { free(sc); return; }
	url_for(sc->url, sizeof sc->url, "scaling");
	snprintf(sc->consumer, sizeof sc->consumer, "%s", consumer_id);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, scaling_thread, sc)) { free(sc->body); free(sc); }
	pthread_attr_destroy(&a);
}
