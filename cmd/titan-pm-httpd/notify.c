/* notify.c — tell control peers about new bricks (titan-services.md §2.9):
 * POST http://<address>/api/v1/bricks/install {"bricks": [{"id","name"}...]}
 * to every registered peer after each successful upload.
 *
 * One background thread works through a queue, so the upload's answer is
 * never delayed by a slow or dead peer. A peer that cannot be reached is
 * logged and stays registered: it registers again on restart anyway, and
 * a peer that is only briefly down should not miss the next upload.
 */
#include "pm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "log.h"

struct job {
	char *body;
	struct job *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static bool stopping, running;
static pthread_t worker;
static struct store *store;

static void post_to(const char *addr, const char *body)
{
	char url[PM_MAX_ADDRESS + 64], err[512], qb[300];
	bool scheme = strncmp(addr, "http://", 7) == 0 || strncmp(addr, "https://", 8) == 0;
	snprintf(url, sizeof url, "%s%s/api/v1/bricks/install", scheme ? "" : "http://", addr);
	struct http_opts o = {.timeout_ms = PM_NOTIFY_TIMEOUT_MS, .max_body = PM_MAX_SMALL_BODY};
	struct http_resp r;
	if (http_post_json(url, body, &o, &r, err, sizeof err) < 0) {
		log_warn("control peer not notified peer=%s: %s", log_q(qb, sizeof qb, addr), err);
		return;
	}
	if (r.status == 200)
		log_info("control peer notified peer=%s", log_q(qb, sizeof qb, addr));
	else
		log_warn("control peer refused the install notification peer=%s status=%ld",
			log_q(qb, sizeof qb, addr), r.status);
	http_resp_free(&r);
}

static void deliver(const char *body)
{
	struct strlist peers;
	if (store_peers(store, &peers) < 0) {
		log_error("cannot read the registered control peers");
		return;
	}
	for (size_t i = 0; i < peers.n; i++) {
		pthread_mutex_lock(&mu);
		bool stop = stopping;
		pthread_mutex_unlock(&mu);
		if (stop)
			break;
		post_to(peers.v[i], body);
	}
	strlist_free(&peers);
}

static void *work(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (head == NULL && !stopping)
			pthread_cond_wait(&cv, &mu);
		struct job *j = stopping ? NULL : head;
		if (j != NULL && (head = j->next) == NULL)
			tail = NULL;
		pthread_mutex_unlock(&mu);
		if (j == NULL)
			return NULL;
		deliver(j->body);
		free(j->body);
		free(j);
	}
}

int notify_start(struct store *s)
{
	store = s;
	stopping = false;
	if (pthread_create(&worker, NULL, work, NULL) != 0)
		return -1;
	running = true;
	return 0;
}

void notify_installed(cJSON *installed)
{
	cJSON *o = cJSON_CreateObject();
	struct job *j = calloc(1, sizeof *j);
	if (o == NULL || j == NULL) {
		cJSON_Delete(installed);
		cJSON_Delete(o);
		free(j);
		return;
	}
	cJSON_AddItemToObject(o, "bricks", installed);
	j->body = json_print(o);
	cJSON_Delete(o);
	if (j->body == NULL) {
		free(j);
		return;
	}
	pthread_mutex_lock(&mu);
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* Stop the worker; notifications still queued are dropped (logged). */
void notify_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(worker, NULL);
	running = false;
	size_t dropped = 0;
	while (head != NULL) {
		struct job *j = head;
		head = j->next;
		free(j->body);
		free(j);
		dropped++;
	}
	tail = NULL;
	if (dropped)
		log_warn("install notifications dropped at shutdown count=%zu", dropped);
}
