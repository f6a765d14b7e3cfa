/* pm.h — titan-pm-httpd, the titan Package Manager (seed 004): the parts
 * and how they fit. User documentation: man/man1/titan-pm-httpd.1.
 *
 *   main.c     command line, signals, start and stop
 *   config.c   configuration: defaults < YAML file < TITAN_PM_* < options
 *   routes.c   HTTP routes under /packagemanager, CORS
 *   auth.c     admin check: static tokens, service ids, the User Service
 *   package.c  an uploaded archive -> validated package and brick zips
 *   store.c    SQLite metadata + brick zips and icons as files
 *   notify.c   background POST /api/v1/bricks/install to control peers
 */
#ifndef TITAN_PM_H
#define TITAN_PM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "titan_limits.h"

/* sysexits used by the program (documented in the man page). */
#define PM_EX_OK 0
#define PM_EX_USAGE 64
#define PM_EX_UNAVAILABLE 69 /* cannot listen */
#define PM_EX_CANTCREAT 73   /* package folder or database unusable */
#define PM_EX_TEMPFAIL 75    /* package folder locked by another instance */
#define PM_EX_CONFIG 78

/* --- configuration (config.c) ----------------------------------------- */

struct strlist {
	char **v;
	size_t n;
};

struct pm_cfg {
	unsigned port;
	char *address;             /* bind address, "" = all interfaces */
	int log_level;             /* enum log_level */
	char *database;            /* SQLite file; "" = <package-folder>/pm.sqlite */
	char *user_manager;        /* User Service base URL; "" = none */
	char *user_check_path;     /* path of the admin check at the User Service */
	struct strlist allowed_origins;
	char *package_folder;
	char *package_description; /* file name, default package.yaml */
	char *brick_description;   /* file name, default description.yaml */
	char *python;              /* accepted for compatibility, unused */
	struct strlist ignore;     /* built-in ignore list + ignore-package-content */
	struct strlist service_ids;
	struct strlist admin_tokens;
	char *config_file;         /* the file loaded, NULL = none */
};

/* Command-line values; NULL / -1 = not given. */
struct pm_cli {
	const char *config_file;
	const char *port;
	const char *address;
	const char *log_level;
};

/* Defaults, file, environment, command line; a one-line error
 * ("file:line:col: ..." for file problems) on failure. */
int pm_cfg_load(struct pm_cfg *c, const struct pm_cli *cli, char *err, size_t errlen);
void pm_cfg_free(struct pm_cfg *c);
/* The effective configuration as YAML, secrets shown as "***". */
void pm_cfg_print(const struct pm_cfg *c);
bool strlist_has(const struct strlist *l, const char *s);
int strlist_add(struct strlist *l, const char *s);

/* --- storage (store.c) ---------------------------------------------------- */

struct store;

/* One brick of an upload, ready to be stored. */
struct new_brick {
	char *name;
	cJSON *doc;        /* the brick object without id, package, lastmodified, brickimage */
	char *zip_path;    /* staged zip of the brick folder's contents */
	char *icon_path;   /* staged svg, or NULL */
	/* Filled by store_commit: */
	char id[25];
	int64_t lastmodified;
};

struct new_package {
	char *name, *urn, *author, *version, *description;
	struct new_brick *bricks;
	size_t nbricks;
};

/* Open (creating) the store in folder; db "" = folder/pm.sqlite. On
 * failure *ex is the exit status to use (PM_EX_CANTCREAT, or
 * PM_EX_TEMPFAIL when another instance holds the folder). */
struct store *store_open(const char *folder, const char *db, int *ex, char *err, size_t errlen);
void store_close(struct store *s);
/* A fresh staging directory below the package folder (caller removes it). */
int store_stage_dir(struct store *s, char *out, size_t n);

/* Insert or update the package (same URN) and its bricks (same name:
 * same id, new lastmodified) in one transaction; staged files are moved in.
 * Fills each brick's id and lastmodified. All or nothing. */
int store_commit(struct store *s, struct new_package *p, char *err, size_t errlen);

/* Delete every package with this name; returns the number of bricks
 * deleted (0 for an unknown name), -1 on a storage error. */
long store_delete_package(struct store *s, const char *name, char *err, size_t errlen);

/* JSON texts (malloc'd): every brick / bricks of the given package ids
 * (NULL = all), every package. */
char *store_bricks_json(struct store *s, const char *const *package_ids, size_t nids);
char *store_packages_json(struct store *s);

/* A brick's zip as an open descriptor and size, plus its name; 0, 1 when
 * unknown, -1 on error. */
int store_brick_zip(struct store *s, const char *id, int *fd, uint64_t *size, char *name, size_t namelen);
/* 0 and *lm, 1 when unknown. */
int store_brick_lastmodified(struct store *s, const char *id, int64_t *lm);

/* Control peers: add (idempotent), remove (idempotent), list. */
int store_peer_add(struct store *s, const char *addr, char *err, size_t errlen);
int store_peer_remove(struct store *s, const char *addr, char *err, size_t errlen);
int store_peers(struct store *s, struct strlist *out);

void strlist_free(struct strlist *l);

/* --- packages (package.c) ------------------------------------------------- */

/* Turn an uploaded archive into a stored package. Returns 0 with the
 * installed bricks' ids/names in *installed (an array of {"id","name"}),
 * 400 with err naming the file and problem (store unchanged), or 500. */
int package_install(struct store *s, const struct pm_cfg *c, const void *data, size_t len,
	const char *filename, cJSON **installed, char *err, size_t errlen);

/* --- admin check (auth.c) --------------------------------------------------- */

/* HTTP status to answer: 0 = allowed, 401, 403 or 503, with a reason. */
unsigned auth_admin(const struct pm_cfg *c, const char *authorization, char *why, size_t whylen);
void auth_reset(void);

/* --- notifications (notify.c) ------------------------------------------------ */

int notify_start(struct store *s);
/* Queue POST /api/v1/bricks/install {"bricks": installed} to every
 * registered control peer; takes ownership of installed. */
void notify_installed(cJSON *installed);
void notify_stop(void);

/* --- routes (routes.c) ------------------------------------------------------- */

struct httpd_req;
struct pm_ctx {
	const struct pm_cfg *cfg;
	struct store *store;
};
void pm_handle(struct httpd_req *rq, void *arg);
size_t pm_body_limit(const struct httpd_req *rq, void *arg);

#endif
