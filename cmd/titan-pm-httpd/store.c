/* store.c — the Package Manager's storage (titan-services.md §11 (a)):
 * metadata in SQLite, brick zips and icons as files, all in the package
 * folder.
 *
 *   <folder>/pm.sqlite        packages, bricks, control peers
 *   <folder>/bricks/<id>-<lastmodified>.zip / .svg
 *   <folder>/tmp/up-XXXXXX/   staging of one upload (removed afterwards)
 *   <folder>/pm.lock          flock: one server per folder
 *
 * All-or-nothing: an upload's files get names no stored row uses yet
 * (lastmodified only grows per id), are moved in, and the rows switched to
 * them in one transaction; only after COMMIT are the old files removed,
 * and after a failure only the new ones. One mutex serialises every
 * access, so a download never sees a file that is being replaced. The
 * JSON of GET /bricks and GET /packages is cached and rebuilt on change.
 */
#include "pm.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "archive.h"
#include "json.h"
#include "log.h"

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;
	char folder[1024], bricks[1100], tmp[1100];
	int lock_fd;
	char *bricks_cache, *packages_cache;
};

static const char schema[] =
	"PRAGMA foreign_keys=ON;"
	"CREATE TABLE IF NOT EXISTS packages("
	" id TEXT PRIMARY KEY, urn TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
	" author TEXT NOT NULL, version TEXT NOT NULL, description TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS bricks("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	" package_id TEXT NOT NULL REFERENCES packages(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, lastmodified INTEGER NOT NULL, zip TEXT NOT NULL, icon TEXT,"
	" doc TEXT NOT NULL, UNIQUE(package_id, name));"
	"CREATE TABLE IF NOT EXISTS controlpeers(address TEXT PRIMARY KEY);";

/* 24 lowercase hex digits, like the Go PM's MongoDB ObjectIDs: URL- and
 * file-name-safe, as control peers need (titan-services.md §2.2). */
static int new_id(char out[25])
{
	unsigned char b[12];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	for (int i = 0; i < 12; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int exec_sql(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(err, errlen, "database: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		log_error("database: %s", sqlite3_errmsg(s->db));
	return st;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* --- base64 (brickimage) ------------------------------------------------ */

static char *base64(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static char *icon_base64(struct store *s, const char *icon)
{
	char path[1400];
	snprintf(path, sizeof path, "%s/%s", s->bricks, icon);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return strdup("");
	unsigned char *buf = malloc(PM_MAX_ICON);
	size_t n = buf ? fread(buf, 1, PM_MAX_ICON, f) : 0;
	fclose(f);
	char *r = buf ? base64(buf, n) : NULL;
	free(buf);
	return r ? r : strdup("");
}

/* --- JSON of the brick list -------------------------------------------------- */

static void move_item(cJSON *to, cJSON *from, const char *key)
{
	cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(from, key);
	cJSON_AddItemToObject(to, key, it ? it : cJSON_CreateNull());
}

/* One Brick object (titan-services.md §2.3, decision (d)) from a row:
 * id, name, lastmodified, icon, doc, package name, package id. */
static cJSON *brick_object(struct store *s, sqlite3_stmt *st)
{
	cJSON *doc = cJSON_Parse(col(st, 4)), *o = cJSON_CreateObject();
	if (doc == NULL || o == NULL) {
		cJSON_Delete(doc);
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "id", col(st, 0));
	move_item(o, doc, "urn");
	cJSON_AddStringToObject(o, "name", col(st, 1));
	static const char *const keys[] = {"family", "description", "parameters", "portsDescription",
		"inputPorts", "outputPorts"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		move_item(o, doc, keys[i]);
	/* The documented (misspelt) key too, for literal doc compatibility. */
	cJSON_AddItemToObject(o, "ouputPorts", cJSON_Duplicate(cJSON_GetObjectItem(o, "outputPorts"), 1));
	cJSON_AddNumberToObject(o, "lastmodified", (double)sqlite3_column_int64(st, 2));
	char *img = sqlite3_column_type(st, 3) == SQLITE_NULL ? strdup("") : icon_base64(s, col(st, 3));
	cJSON_AddStringToObject(o, "brickimage", img ? img : "");
	free(img);
	cJSON_AddStringToObject(o, "package", col(st, 5));
	cJSON_AddStringToObject(o, "packageId", col(st, 6));
	static const char *const tail[] = {"autoscaleQueueLevel", "autoscaleMaxInstances", "exitAfterIdleSeconds"};
	for (size_t i = 0; i < sizeof tail / sizeof *tail; i++)
		move_item(o, doc, tail[i]);
	cJSON_Delete(doc);
	return o;
}

#define BRICK_COLS                                                                            \
	"SELECT b.id, b.name, b.lastmodified, b.icon, b.doc, p.name, p.id FROM bricks b "      \
	"JOIN packages p ON p.id = b.package_id "

static char *bricks_json_locked(struct store *s, const char *const *pids, size_t n)
{
	sqlite3_stmt *st = prep(s, BRICK_COLS "ORDER BY b.seq");
	cJSON *arr = cJSON_CreateArray();
	while (st && arr && sqlite3_step(st) == SQLITE_ROW) {
		bool want = pids == NULL;
		for (size_t i = 0; !want && i < n; i++)
			want = strcmp(pids[i], col(st, 6)) == 0;
		cJSON *o = want ? brick_object(s, st) : NULL;
		if (o != NULL)
			cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	char *r = json_print(arr);
	cJSON_Delete(arr);
	return r;
}

static char *packages_json_locked(struct store *s)
{
	sqlite3_stmt *st = prep(s, "SELECT id, urn, author, name, version, description FROM packages ORDER BY rowid");
	static const char *const keys[] = {"id", "urn", "author", "name", "version", "description"};
	cJSON *arr = cJSON_CreateArray();
	while (st && arr && sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		for (int i = 0; o && i < 6; i++)
			cJSON_AddStringToObject(o, keys[i], col(st, i));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	char *r = json_print(arr);
	cJSON_Delete(arr);
	return r;
}

static void rebuild_caches(struct store *s)
{
	free(s->bricks_cache);
	free(s->packages_cache);
	s->bricks_cache = bricks_json_locked(s, NULL, 0);
	s->packages_cache = packages_json_locked(s);
}

char *store_bricks_json(struct store *s, const char *const *pids, size_t n)
{
	pthread_mutex_lock(&s->mu);
	char *r = pids ? bricks_json_locked(s, pids, n) : s->bricks_cache ? strdup(s->bricks_cache) : NULL;
	pthread_mutex_unlock(&s->mu);
	return r;
}

char *store_packages_json(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	char *r = s->packages_cache ? strdup(s->packages_cache) : NULL;
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* --- open / close ------------------------------------------------------------------ */

static int mkdir_p(const char *path)
{
	char buf[1024];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return errno = ENAMETOOLONG, -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int take_lock(struct store *s, int *ex, char *err, size_t errlen)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/pm.lock", s->folder);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		*ex = PM_EX_TEMPFAIL;
		err_set(err, errlen, "%s is in use by another titan-pm-httpd", s->folder);
		return -1;
	}
	return 0;
}

static int prepare_dirs(struct store *s, const char *folder, int *ex, char *err, size_t errlen)
{
	if (snprintf(s->folder, sizeof s->folder, "%s", folder) >= (int)sizeof s->folder) {
		err_set(err, errlen, "package-folder: path too long");
		return -1;
	}
	snprintf(s->bricks, sizeof s->bricks, "%s/bricks", folder);
	snprintf(s->tmp, sizeof s->tmp, "%s/tmp", folder);
	if (mkdir_p(folder) < 0) {
		err_set(err, errlen, "cannot create package folder %s: %s", folder, strerror(errno));
		return -1;
	}
	if (take_lock(s, ex, err, errlen) < 0)
		return -1;
	/* Staging left over from a crash is garbage. */
	if (arc_rmtree(s->tmp) < 0 || mkdir_p(s->tmp) < 0 || mkdir_p(s->bricks) < 0) {
		err_set(err, errlen, "cannot prepare %s: %s", folder, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_db(struct store *s, const char *db, char *err, size_t errlen)
{
	char path[1100];
	if (*db)
		snprintf(path, sizeof path, "%s", db);
	else
		snprintf(path, sizeof path, "%s/pm.sqlite", s->folder);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
		    NULL) != SQLITE_OK) {
		err_set(err, errlen, "database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	char inner[512];
	if (exec_sql(s, "PRAGMA journal_mode=WAL;", inner, sizeof inner) < 0 ||
		exec_sql(s, schema, inner, sizeof inner) < 0) {
		err_set(err, errlen, "%s: %s", path, inner);
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files rows point to, sorted (for bsearch); *ok is false when the
 * list may be incomplete (then nothing may be removed). */
static char **referenced_files(struct store *s, size_t *n, bool *ok)
{
	sqlite3_stmt *st = prep(s, "SELECT zip FROM bricks UNION SELECT icon FROM bricks WHERE icon IS NOT NULL");
	char **v = NULL;
	int r = SQLITE_ERROR;
	*n = 0;
	*ok = st != NULL;
	while (*ok && (r = sqlite3_step(st)) == SQLITE_ROW) {
		char **nv = realloc(v, (*n + 1) * sizeof *nv);
		if (nv != NULL)
			v = nv;
		if (nv == NULL || (v[*n] = strdup(col(st, 0))) == NULL)
			*ok = false;
		else
			(*n)++;
	}
	*ok = *ok && r == SQLITE_DONE;
	sqlite3_finalize(st);
	if (*n > 0)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

/* At start-up: a zip a row points to must exist (say so now rather than
 * at the first download), and a file no row points to is left over from
 * a crash between moving an upload in and its COMMIT: remove it. */
static void check_files(struct store *s)
{
	size_t n;
	bool ok;
	char **ref = referenced_files(s, &n, &ok), path[1400];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", s->bricks, ref[i]);
		if (access(path, R_OK) < 0)
			log_warn("brick file missing file=%s", path);
	}
	DIR *d = ok ? opendir(s->bricks) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.' || bsearch(&name, ref, n, sizeof *ref, cmp_str) != NULL)
			continue;
		snprintf(path, sizeof path, "%s/%s", s->bricks, name);
		if (unlink(path) == 0)
			log_info("removed a file no brick uses file=%s", path);
	}
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(ref[i]);
	free(ref);
}

struct store *store_open(const char *folder, const char *db, int *ex, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	*ex = PM_EX_CANTCREAT;
	if (s == NULL) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (prepare_dirs(s, folder, ex, err, errlen) < 0 || open_db(s, db, err, errlen) < 0) {
		store_close(s);
		return NULL;
	}
	check_files(s);
	rebuild_caches(s);
	if (s->bricks_cache == NULL || s->packages_cache == NULL) {
		err_set(err, errlen, "database: cannot read the stored packages");
		store_close(s);
		return NULL;
	}
	return s;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->bricks_cache);
	free(s->packages_cache);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int store_stage_dir(struct store *s, char *out, size_t n)
{
	if (snprintf(out, n, "%s/up-XXXXXX", s->tmp) >= (int)n)
		return -1;
	return mkdtemp(out) ? 0 : -1;
}

/* --- commit ---------------------------------------------------------------------------- */

struct files {
	char **v;
	size_t n;
};

static void files_add(struct files *f, const char *name)
{
	char **nv = realloc(f->v, (f->n + 1) * sizeof *nv);
	if (nv == NULL)
		return;
	f->v = nv;
	if ((f->v[f->n] = strdup(name)) != NULL)
		f->n++;
}

static void files_unlink(struct store *s, struct files *f, bool really)
{
	char path[1400];
	for (size_t i = 0; i < f->n; i++) {
		snprintf(path, sizeof path, "%s/%s", s->bricks, f->v[i]);
		if (really && unlink(path) < 0 && errno != ENOENT)
			log_warn("cannot remove file=%s: %m", path);
		free(f->v[i]);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

static int move_in(struct store *s, const char *staged, const char *name, struct files *added,
	char *err, size_t errlen)
{
	char path[1400];
	snprintf(path, sizeof path, "%s/%s", s->bricks, name);
	if (rename(staged, path) < 0) {
		err_set(err, errlen, "cannot store %s: %s", path, strerror(errno));
		return -1;
	}
	files_add(added, name);
	return 0;
}

static int package_row(struct store *s, const struct new_package *p, char pid[25], char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, "SELECT id FROM packages WHERE urn = ?");
	int r = -1;
	if (st == NULL)
		goto out;
	sqlite3_bind_text(st, 1, p->urn, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(pid, 25, "%s", col(st, 0));
	else if (new_id(pid) < 0)
		goto out;
	sqlite3_finalize(st);
	st = prep(s, "INSERT INTO packages(id, urn, name, author, version, description) VALUES(?,?,?,?,?,?) "
		     "ON CONFLICT(id) DO UPDATE SET name=excluded.name, author=excluded.author, "
		     "version=excluded.version, description=excluded.description");
	if (st == NULL)
		goto out;
	const char *vals[] = {pid, p->urn, p->name, p->author, p->version, p->description};
	for (int i = 0; i < 6; i++)
		sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	if (r < 0)
		err_set(err, errlen, "database: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return r;
}

/* The existing row of (package, name): id, lastmodified, old files. */
static int existing_brick(struct store *s, const char *pid, struct new_brick *b, int64_t *old_lm,
	struct files *old)
{
	sqlite3_stmt *st = prep(s, "SELECT id, lastmodified, zip, icon FROM bricks WHERE package_id = ? AND name = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->name, -1, SQLITE_STATIC);
	int found = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		snprintf(b->id, sizeof b->id, "%s", col(st, 0));
		*old_lm = sqlite3_column_int64(st, 1);
		files_add(old, col(st, 2));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			files_add(old, col(st, 3));
	}
	sqlite3_finalize(st);
	return found;
}

static int brick_row(struct store *s, const char *pid, struct new_brick *b, int64_t now, struct files *added,
	struct files *old, char *err, size_t errlen)
{
	int64_t old_lm = 0;
	int found = existing_brick(s, pid, b, &old_lm, old);
	if (found < 0 || (!found && new_id(b->id) < 0))
		return err_set(err, errlen, "database: %s", sqlite3_errmsg(s->db)), -1;
	/* Strictly growing, even for two uploads within one second: a
	 * control peer re-downloads only when the value is newer. */
	b->lastmodified = now > old_lm ? now : old_lm + 1;
	char zip[64], icon[64];
	snprintf(zip, sizeof zip, "%s-%lld.zip", b->id, (long long)b->lastmodified);
	snprintf(icon, sizeof icon, "%s-%lld.svg", b->id, (long long)b->lastmodified);
	if (move_in(s, b->zip_path, zip, added, err, errlen) < 0 ||
		(b->icon_path && move_in(s, b->icon_path, icon, added, err, errlen) < 0))
		return -1;
	char *doc = json_print(b->doc);
	sqlite3_stmt *st = prep(s, found ? "UPDATE bricks SET lastmodified=?3, zip=?4, icon=?5, doc=?6 WHERE id=?1"
					 : "INSERT INTO bricks(id, package_id, name, lastmodified, zip, icon, doc) "
					   "VALUES(?1, ?2, ?7, ?3, ?4, ?5, ?6)");
	int r = -1;
	if (st != NULL && doc != NULL) {
		sqlite3_bind_text(st, 1, b->id, -1, SQLITE_STATIC);
		if (!found) {
			sqlite3_bind_text(st, 2, pid, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, b->name, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 3, b->lastmodified);
		sqlite3_bind_text(st, 4, zip, -1, SQLITE_STATIC);
		if (b->icon_path)
			sqlite3_bind_text(st, 5, icon, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, doc, -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	}
	if (r < 0)
		err_set(err, errlen, "database: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	free(doc);
	return r;
}

int store_commit(struct store *s, struct new_package *p, char *err, size_t errlen)
{
	struct files added = {0}, old = {0};
	char pid[25];
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&s->mu);
	int r = exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
	if (r == 0)
		r = package_row(s, p, pid, err, errlen);
	for (size_t i = 0; r == 0 && i < p->nbricks; i++)
		r = brick_row(s, pid, &p->bricks[i], now, &added, &old, err, errlen);
	if (r == 0)
		r = exec_sql(s, "COMMIT", err, errlen);
	if (r < 0)
		exec_sql(s, "ROLLBACK", NULL, 0);
	files_unlink(s, r == 0 ? &old : &added, true);
	files_unlink(s, r == 0 ? &added : &old, false);
	if (r == 0)
		rebuild_caches(s);
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* --- delete ------------------------------------------------------------------------------- */

static long delete_locked(struct store *s, const char *name, struct files *gone, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, "SELECT b.zip, b.icon FROM bricks b JOIN packages p ON p.id = b.package_id "
				   "WHERE p.name = ?");
	long n = 0;
	if (st == NULL)
		return err_set(err, errlen, "database: %s", sqlite3_errmsg(s->db)), -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		files_add(gone, col(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			files_add(gone, col(st, 1));
	}
	sqlite3_finalize(st);
	/* Bricks go with their package (ON DELETE CASCADE). */
	st = prep(s, "DELETE FROM packages WHERE name = ?");
	int r = st ? (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC), sqlite3_step(st)) : SQLITE_ERROR;
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return err_set(err, errlen, "database: %s", sqlite3_errmsg(s->db)), -1;
	return n;
}

long store_delete_package(struct store *s, const char *name, char *err, size_t errlen)
{
	struct files gone = {0};
	pthread_mutex_lock(&s->mu);
	long n = exec_sql(s, "BEGIN IMMEDIATE", err, errlen) < 0 ? -1 : delete_locked(s, name, &gone, err, errlen);
	if (n >= 0 && exec_sql(s, "COMMIT", err, errlen) < 0)
		n = -1;
	if (n < 0)
		exec_sql(s, "ROLLBACK", NULL, 0);
	files_unlink(s, &gone, n >= 0);
	if (n >= 0)
		rebuild_caches(s);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* --- single bricks ------------------------------------------------------------------------- */

int store_brick_zip(struct store *s, const char *id, int *fd, uint64_t *size, char *name, size_t namelen)
{
	pthread_mutex_lock(&s->mu);
	sqlite3_stmt *st = prep(s, "SELECT zip, name FROM bricks WHERE id = ?");
	int r = -1;
	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		r = 1;
		if (sqlite3_step(st) == SQLITE_ROW) {
			char path[1400];
			struct stat sb;
			snprintf(path, sizeof path, "%s/%s", s->bricks, col(st, 0));
			snprintf(name, namelen, "%s", col(st, 1));
			*fd = open(path, O_RDONLY | O_CLOEXEC);
			r = *fd >= 0 && fstat(*fd, &sb) == 0 ? 0 : -1;
			if (r == 0)
				*size = (uint64_t)sb.st_size;
			else
				log_error("brick code unreadable id=%s file=%s: %m", id, path);
			if (r < 0 && *fd >= 0)
				close(*fd);
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return r;
}

int store_brick_lastmodified(struct store *s, const char *id, int64_t *lm)
{
	pthread_mutex_lock(&s->mu);
	sqlite3_stmt *st = prep(s, "SELECT lastmodified FROM bricks WHERE id = ?");
	int r = -1;
	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_ROW ? 0 : 1;
		if (r == 0)
			*lm = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* --- control peers ------------------------------------------------------------------------------ */

static int peer_count(struct store *s)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM controlpeers");
	int n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

static int peer_exec(struct store *s, const char *sql, const char *addr, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(s, sql);
	int r = st ? (sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC), sqlite3_step(st)) : SQLITE_ERROR;
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return err_set(err, errlen, "database: %s", sqlite3_errmsg(s->db)), -1;
	return 0;
}

int store_peer_add(struct store *s, const char *addr, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->mu);
	int r;
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM controlpeers WHERE address = ?");
	bool known = st && (sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC), sqlite3_step(st)) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!known && peer_count(s) >= (int)PM_MAX_CONTROLPEERS) {
		err_set(err, errlen, "more than %u control peers registered", PM_MAX_CONTROLPEERS);
		r = 1;
	} else
		r = peer_exec(s, "INSERT OR IGNORE INTO controlpeers(address) VALUES(?)", addr, err, errlen);
	pthread_mutex_unlock(&s->mu);
	return r;
}

int store_peer_remove(struct store *s, const char *addr, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->mu);
	int r = peer_exec(s, "DELETE FROM controlpeers WHERE address = ?", addr, err, errlen);
	pthread_mutex_unlock(&s->mu);
	return r;
}

int store_peers(struct store *s, struct strlist *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&s->mu);
	sqlite3_stmt *st = prep(s, "SELECT address FROM controlpeers ORDER BY rowid");
	int r = st ? 0 : -1;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char **nv = realloc(out->v, (out->n + 1) * sizeof *nv);
		if (nv == NULL || (nv[out->n] = strdup(col(st, 0))) == NULL) {
			if (nv)
				out->v = nv;
			r = -1;
			break;
		}
		out->v = nv;
		out->n++;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return r;
}
