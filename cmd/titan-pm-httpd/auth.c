/* auth.c — who may POST and DELETE packages (titan-services.md §3.3,
 * decision (b)). The token is the Authorization header (an optional
 * "Bearer " is dropped). In order:
 *
 *   1. a token listed in admin-tokens is an admin (offline use, tests);
 *   2. a token listed in service-ids is a trusted titan service;
 *   3. otherwise the header is forwarded unchanged to the User Service,
 *      GET <user-manager><user-check-path>; 200 with a User object whose
 *      IsAdmin (or isAdmin, is_admin) is true = admin, false = 403; a 4xx
 *      answer = invalid token (401); no answer, a 5xx or an unreadable
 *      body = 503 (the service, not the user, is at fault).
 *
 * Definitive answers (admin, not admin, invalid) are cached for
 * PM_AUTH_CACHE_S seconds so an upload burst does not hammer the service.
 */
#include "pm.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "json.h"
#include "log.h"

struct cached {
	char *token;
	unsigned status;
	time_t expires;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cached cache[PM_AUTH_CACHE_ENTRIES];

static unsigned answer(unsigned status, char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static unsigned answer(unsigned status, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return status;
}

/* Compare without leaking through timing where the first difference is. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

static bool listed(const struct strlist *l, const char *tok)
{
	bool hit = false;
	for (size_t i = 0; i < l->n; i++)
		hit |= same_secret(l->v[i], tok);
	return hit;
}

static int cache_get(const char *tok, unsigned *status)
{
	time_t now = time(NULL);
	int r = -1;
	pthread_mutex_lock(&cache_mu);
	for (size_t i = 0; i < PM_AUTH_CACHE_ENTRIES; i++)
		if (cache[i].token && cache[i].expires > now && strcmp(cache[i].token, tok) == 0) {
			*status = cache[i].status;
			r = 0;
			break;
		}
	pthread_mutex_unlock(&cache_mu);
	return r;
}

static void cache_put(const char *tok, unsigned status)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&cache_mu);
	size_t victim = 0;
	for (size_t i = 0; i < PM_AUTH_CACHE_ENTRIES; i++) {
		if (cache[i].token == NULL || cache[i].expires <= now) {
			victim = i;
			break;
		}
		if (cache[i].expires < cache[victim].expires)
			victim = i;
	}
	free(cache[victim].token);
	cache[victim].token = strdup(tok);
	cache[victim].status = status;
	cache[victim].expires = now + PM_AUTH_CACHE_S;
	pthread_mutex_unlock(&cache_mu);
}

void auth_reset(void)
{
	pthread_mutex_lock(&cache_mu);
	for (size_t i = 0; i < PM_AUTH_CACHE_ENTRIES; i++) {
		free(cache[i].token);
		cache[i].token = NULL;
	}
	pthread_mutex_unlock(&cache_mu);
}

static bool is_admin(const cJSON *user)
{
	static const char *const keys[] = {"IsAdmin", "isAdmin", "is_admin"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(user, keys[i])))
			return true;
	return false;
}

static unsigned ask_user_service(const struct pm_cfg *c, const char *header, char *why, size_t whylen)
{
	char url[2 * CFG_MAX_VALUE + 2], hline[CFG_MAX_VALUE + 32], err[512];
	snprintf(url, sizeof url, "%s%s", c->user_manager, c->user_check_path);
	snprintf(hline, sizeof hline, "Authorization: %s", header);
	const char *hdrs[] = {hline, "Accept: application/json", NULL};
	struct http_opts o = {.timeout_ms = PM_AUTH_TIMEOUT_MS, .connect_timeout_ms = PM_AUTH_TIMEOUT_MS,
		.max_body = PM_MAX_SMALL_BODY, .headers = hdrs};
	struct http_resp r;
	if (http_request("GET", url, NULL, NULL, 0, &o, &r, err, sizeof err) < 0) {
		log_warn("User Service unreachable: %s", err);
		return answer(503, why, whylen, "cannot check admin rights: the User Service is unreachable");
	}
	unsigned st;
	if (r.status == 200) {
		cJSON *user = cJSON_Parse(r.body);
		st = !cJSON_IsObject(user) ? answer(503, why, whylen, "the User Service answered no user object")
		     : is_admin(user)      ? 0
					   : answer(403, why, whylen, "admin rights required");
		cJSON_Delete(user);
	} else if (r.status >= 400 && r.status < 500) {
		st = answer(401, why, whylen, "the token was not accepted by the User Service");
	} else {
		log_warn("User Service answered status=%ld url=%s", r.status, url);
		st = answer(503, why, whylen, "cannot check admin rights: the User Service answered %ld", r.status);
	}
	http_resp_free(&r);
	return st;
}

unsigned auth_admin(const struct pm_cfg *c, const char *authorization, char *why, size_t whylen)
{
	const char *tok = authorization ? authorization : "";
	if (strlen(tok) > CFG_MAX_VALUE) /* it is forwarded in one header line */
		return answer(401, why, whylen, "token too long");
	while (*tok == ' ' || *tok == '\t')
		tok++;
	if (strncasecmp(tok, "Bearer ", 7) == 0)
		tok += 7;
	while (*tok == ' ')
		tok++;
	if (*tok == '\0')
		return answer(401, why, whylen, "admin rights required: send a token in the Authorization header");
	if (listed(&c->admin_tokens, tok) || listed(&c->service_ids, tok))
		return 0;
	if (*c->user_manager == '\0')
		return answer(401, why, whylen, "token not accepted (no User Service configured)");
	unsigned st;
	if (cache_get(tok, &st) == 0)
		return st == 0 ? 0 : answer(st, why, whylen, st == 403 ? "admin rights required" : "token not accepted");
	st = ask_user_service(c, authorization, why, whylen);
	if (st != 503)
		cache_put(tok, st);
	return st;
}
