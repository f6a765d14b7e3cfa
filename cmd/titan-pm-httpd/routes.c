/* routes.c — the REST API under /packagemanager (titan-services.md §2.2,
 * §8). Every path is accepted with and without a trailing slash
 * (decision (c)). Control-peer routes and reads are open; POST and DELETE
 * of packages need admin rights (auth.c). Errors are JSON {"detail": ...}.
 */
#include "pm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "json.h"
#include "log.h"

#define PREFIX "/packagemanager"
#define ID_MAX 64

/* --- CORS (titan-services.md §1, inferred behaviour) ------------------- */

static bool origin_allowed(const struct pm_cfg *c, const char *origin)
{
	return origin != NULL && (strlist_has(&c->allowed_origins, "*") || strlist_has(&c->allowed_origins, origin));
}

/* Requests without Origin (control peers, services) are never touched. */
static void cors_headers(struct httpd_req *rq, const struct pm_cfg *c)
{
	const char *origin = httpd_header(rq, "Origin");
	if (!origin_allowed(c, origin))
		return;
	httpd_add_header(rq, "Access-Control-Allow-Origin", origin);
	httpd_add_header(rq, "Vary", "Origin");
	httpd_add_header(rq, "Access-Control-Allow-Credentials", "true");
}

static void preflight(struct httpd_req *rq, const struct pm_cfg *c)
{
	const char *origin = httpd_header(rq, "Origin");
	if (origin != NULL && httpd_header(rq, "Access-Control-Request-Method") != NULL) {
		if (!origin_allowed(c, origin)) {
			httpd_reply_error(rq, 403, "origin not allowed");
			return;
		}
		httpd_add_header(rq, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
		httpd_add_header(rq, "Access-Control-Allow-Headers", "Authorization, Content-Type");
		httpd_add_header(rq, "Access-Control-Max-Age", "600");
	}
	httpd_add_header(rq, "Allow", "GET, POST, DELETE, OPTIONS");
	httpd_reply(rq, 204, NULL, NULL, 0);
}

/* --- small helpers ----------------------------------------------------------- */

static bool is_method(const struct httpd_req *rq, const char *m)
{
	return strcmp(rq->method, m) == 0 || (strcmp(m, "GET") == 0 && strcmp(rq->method, "HEAD") == 0);
}

static void reply_owned_json(struct httpd_req *rq, unsigned status, char *json)
{
	if (json == NULL) {
		httpd_reply_error(rq, 500, "out of memory");
		return;
	}
	httpd_reply_take(rq, status, "application/json", json, strlen(json));
}

static bool valid_id(const char *s, size_t n)
{
	if (n == 0 || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static bool admin(struct httpd_req *rq, const struct pm_ctx *x)
{
	char why[256];
	unsigned st = auth_admin(x->cfg, httpd_header(rq, "Authorization"), why, sizeof why);
	if (st == 0)
		return true;
	if (st == 401)
		httpd_add_header(rq, "WWW-Authenticate", "Bearer");
	httpd_reply_error(rq, st, "%s", why);
	return false;
}

/* --- bricks ---------------------------------------------------------------------- */

static void get_bricks(struct httpd_req *rq, const struct pm_ctx *x)
{
	const char *ids[64];
	size_t n = httpd_query_all(rq, "packageId", ids, 64);
	if (n > 64) {
		httpd_reply_error(rq, 400, "at most 64 packageId values");
		return;
	}
	reply_owned_json(rq, 200, store_bricks_json(x->store, n ? ids : NULL, n));
}

static void get_brick_zip(struct httpd_req *rq, const struct pm_ctx *x, const char *id)
{
	int fd;
	uint64_t size;
	char name[TITAN_MAX_NAME + 1], disp[ID_MAX + 64];
	int r = store_brick_zip(x->store, id, &fd, &size, name, sizeof name);
	if (r > 0) {
		httpd_reply_error(rq, 404, "no brick with id %s", id);
		return;
	}
	if (r < 0) {
		httpd_reply_error(rq, 500, "the code of brick %s cannot be read", id);
		return;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"%s.zip\"", id);
	httpd_add_header(rq, "Content-Disposition", disp);
	httpd_reply_fd(rq, 200, "application/zip", fd, size);
}

static void get_lastmodified(struct httpd_req *rq, const struct pm_ctx *x, const char *id)
{
	int64_t lm;
	char buf[32];
	if (store_brick_lastmodified(x->store, id, &lm) != 0) {
		httpd_reply_error(rq, 404, "no brick with id %s", id);
		return;
	}
	/* Bare digits: the older control peer does int(body). */
	int n = snprintf(buf, sizeof buf, "%lld", (long long)lm);
	httpd_reply(rq, 200, "text/plain; charset=utf-8", buf, (size_t)n);
}

/* /bricks/<id> and /bricks/<id>/lastmodified */
static void brick_routes(struct httpd_req *rq, const struct pm_ctx *x, const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	bool lm = slash && strcmp(slash, "/lastmodified") == 0;
	char id[ID_MAX + 1];
	if (!valid_id(rest, n) || (slash && !lm)) {
		httpd_reply_error(rq, 404, "no such route");
		return;
	}
	if (!is_method(rq, "GET")) {
		httpd_add_header(rq, "Allow", "GET, OPTIONS");
		httpd_reply_error(rq, 405, "method %s not allowed here", rq->method);
		return;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	if (lm)
		get_lastmodified(rq, x, id);
	else
		get_brick_zip(rq, x, id);
}

/* --- packages ----------------------------------------------------------------------- */

static void post_package(struct httpd_req *rq, const struct pm_ctx *x)
{
	if (!admin(rq, x))
		return;
	struct httpd_part part;
	char err[1024];
	int r = httpd_form_part(rq, "package", &part, err, sizeof err);
	if (r != 0) {
		httpd_reply_error(rq, 400, "%s", r > 0 ? "send the archive as multipart/form-data field 'package'" : err);
		return;
	}
	cJSON *installed = NULL;
	int st = package_install(x->store, x->cfg, part.data, part.len, part.filename, &installed, err, sizeof err);
	httpd_part_free(&part);
	if (st != 0) {
		char qb[600];
		log_info("package refused status=%d detail=%s", st, log_q(qb, sizeof qb, err));
		httpd_reply_error(rq, (unsigned)st, "%s", err);
		return;
	}
	notify_installed(installed);
	/* The seed: "Response data: List of Available Bricks". */
	reply_owned_json(rq, 200, store_bricks_json(x->store, NULL, 0));
}

static void delete_packages(struct httpd_req *rq, const struct pm_ctx *x)
{
	if (!admin(rq, x))
		return;
	const char *names[PM_MAX_DELETE_NAMES];
	size_t n = httpd_query_all(rq, "name", names, PM_MAX_DELETE_NAMES);
	if (n == 0 || n > PM_MAX_DELETE_NAMES) {
		httpd_reply_error(rq, 400, n ? "at most %u names at once" : "name the packages: ?name=A&name=B",
			PM_MAX_DELETE_NAMES);
		return;
	}
	cJSON *out = cJSON_CreateObject();
	char err[512], qb[300];
	for (size_t i = 0; i < n; i++) {
		long c = store_delete_package(x->store, names[i], err, sizeof err);
		if (c < 0) {
			cJSON_Delete(out);
			httpd_reply_error(rq, 500, "%s", err);
			return;
		}
		if (!cJSON_GetObjectItemCaseSensitive(out, names[i]))
			cJSON_AddNumberToObject(out, names[i], (double)c);
		if (c > 0)
			log_info("package deleted name=%s bricks=%ld", log_q(qb, sizeof qb, names[i]), c);
	}
	reply_owned_json(rq, 200, json_print(out));
	cJSON_Delete(out);
}

static void packages(struct httpd_req *rq, const struct pm_ctx *x)
{
	if (is_method(rq, "GET"))
		reply_owned_json(rq, 200, store_packages_json(x->store));
	else if (is_method(rq, "POST"))
		post_package(rq, x);
	else if (is_method(rq, "DELETE"))
		delete_packages(rq, x);
	else {
		httpd_add_header(rq, "Allow", "GET, POST, DELETE, OPTIONS");
		httpd_reply_error(rq, 405, "method %s not allowed here", rq->method);
	}
}

/* --- control peers ------------------------------------------------------------------- */

/* The body is a JSON string literal ("10.0.0.5:8000"); the bare text is
 * accepted too (titan-services.md §2.9). */
static int peer_address(const struct httpd_req *rq, char *out, size_t n)
{
	const char *b = rq->body;
	while (isspace((unsigned char)*b))
		b++;
	size_t len = strlen(b);
	while (len > 0 && isspace((unsigned char)b[len - 1]))
		len--;
	const char *addr = b;
	cJSON *j = NULL;
	if (len > 0 && b[0] == '"') {
		j = cJSON_ParseWithLength(b, len);
		if (!cJSON_IsString(j)) {
			cJSON_Delete(j);
			return -1;
		}
		addr = j->valuestring;
		len = strlen(addr);
	}
	int r = len > 0 && len <= PM_MAX_ADDRESS && len < n ? 0 : -1;
	for (size_t i = 0; r == 0 && i < len; i++)
		if (!isalnum((unsigned char)addr[i]) && !strchr(".:-_[]%/", addr[i]))
			r = -1;
	if (r == 0) {
		memcpy(out, addr, len);
		out[len] = '\0';
	}
	cJSON_Delete(j);
	return r;
}

static void controlpeers(struct httpd_req *rq, const struct pm_ctx *x)
{
	bool post = is_method(rq, "POST"), del = is_method(rq, "DELETE");
	char addr[PM_MAX_ADDRESS + 1], err[256], qb[300];
	if (!post && !del) {
		httpd_add_header(rq, "Allow", "POST, DELETE, OPTIONS");
		httpd_reply_error(rq, 405, "method %s not allowed here", rq->method);
		return;
	}
	if (peer_address(rq, addr, sizeof addr) < 0) {
		httpd_reply_error(rq, 400, "the body must be the control peer's address as a JSON string, e.g. \"10.0.0.5:8000\"");
		return;
	}
	int r = post ? store_peer_add(x->store, addr, err, sizeof err) : store_peer_remove(x->store, addr, err, sizeof err);
	if (r != 0) {
		httpd_reply_error(rq, r > 0 ? 503 : 500, "%s", err);
		return;
	}
	log_info("control peer %s peer=%s", post ? "registered" : "deregistered", log_q(qb, sizeof qb, addr));
	httpd_reply(rq, 200, NULL, NULL, 0);
}

/* --- dispatch -------------------------------------------------------------------------- */

static void route(struct httpd_req *rq, const struct pm_ctx *x, const char *rest)
{
	if (strcmp(rest, "/bricks") == 0) {
		if (is_method(rq, "GET"))
			get_bricks(rq, x);
		else {
			httpd_add_header(rq, "Allow", "GET, OPTIONS");
			httpd_reply_error(rq, 405, "method %s not allowed here", rq->method);
		}
	} else if (strncmp(rest, "/bricks/", 8) == 0) {
		brick_routes(rq, x, rest + 8);
	} else if (strcmp(rest, "/packages") == 0) {
		packages(rq, x);
	} else if (strcmp(rest, "/controlpeers") == 0) {
		controlpeers(rq, x);
	} else {
		httpd_reply_error(rq, 404, "no such route");
	}
}

void pm_handle(struct httpd_req *rq, void *arg)
{
	const struct pm_ctx *x = arg;
	char rest[512], qb[600];
	size_t plen = strlen(PREFIX);
	cors_headers(rq, x->cfg);
	if (strncmp(rq->path, PREFIX, plen) != 0 || (rq->path[plen] != '/' && rq->path[plen] != '\0') ||
		strlen(rq->path + plen) >= sizeof rest) {
		httpd_reply_error(rq, 404, "no such route (the API is under " PREFIX ")");
	} else if (strcmp(rq->method, "OPTIONS") == 0) {
		preflight(rq, x->cfg);
	} else {
		snprintf(rest, sizeof rest, "%s", rq->path + plen);
		size_t n = strlen(rest);
		if (n > 1 && rest[n - 1] == '/') /* decision (c): trailing slash optional */
			rest[n - 1] = '\0';
		route(rq, x, rest);
	}
	log_debug("request method=%s path=%s status=%u remote=%s", rq->method, log_q(qb, sizeof qb, rq->path),
		httpd_status(rq), rq->remote);
}

size_t pm_body_limit(const struct httpd_req *rq, void *arg)
{
	(void)arg;
	const char *p = rq->path;
	size_t n = strlen(p);
	bool upload = strcmp(rq->method, "POST") == 0 && strncmp(p, PREFIX "/packages", strlen(PREFIX "/packages")) == 0 &&
		      (n == strlen(PREFIX "/packages") || strcmp(p + strlen(PREFIX "/packages"), "/") == 0);
	return upload ? PM_MAX_UPLOAD : PM_MAX_SMALL_BODY;
}
