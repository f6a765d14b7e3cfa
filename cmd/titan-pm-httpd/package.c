/* package.c — an uploaded archive becomes a stored package (seed 004,
 * titan-services.md §2.6):
 *
 *   <archive>/<Package>/package.yaml            optional: Name, Author,
 *                                               Description, Package (URN)
 *   <archive>/<Package>/<Brick>/description.yaml
 *   <archive>/<Package>/<Brick>/<brick>.py | <brick>/   code, named like the brick
 *   <archive>/<Package>/<Brick>/<brick>.svg     optional icon
 *   <archive>/<Package>/<Brick>/<SchemaFile>    when Ports names one
 *
 * Everything is checked before anything is stored; the first problem is
 * reported as "<path in the archive>: <problem>" and the store is left
 * unchanged. Each brick folder's contents (ignore list applied) become the
 * zip control peers download, with the code at the zip's root.
 */
#include "pm.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "json.h"
#include "log.h"

/* Autoscale defaults when description.yaml is silent (the runner's
 * defaults, titan-services.md §4.4). */
#define DEF_QUEUE_LEVEL 25
#define DEF_MAX_INSTANCES 1
#define DEF_IDLE_SECONDS 0

struct job {
	const struct pm_cfg *cfg;
	char stage[PATH_MAX];  /* staging directory */
	char root[PATH_MAX];   /* stage/x: the extracted archive */
	char pkgdir[PATH_MAX]; /* stage/x/<Package> */
	const char *pkgrel;    /* "<Package>", for messages */
	struct new_package pkg;
	struct strlist folders; /* brick folders, in brick order */
	char *err;
	size_t errlen;
};

static int fail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->err, j->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* snprintf for paths built from bounded parts (archive paths are at most
 * ARC_MAX_PATH bytes, far below PATH_MAX); a cut path would only fail to
 * open. */
static void pf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* --- files ---------------------------------------------------------------- */

static bool ignored(const struct job *j, const char *name)
{
	return strlist_has(&j->cfg->ignore, name);
}

static bool is_type(const char *path, mode_t type)
{
	struct stat sb;
	return lstat(path, &sb) == 0 && (sb.st_mode & S_IFMT) == type;
}

/* Sorted names in dir, without "." and ".." and ignored names. */
static int list_dir(const struct job *j, const char *dir, struct strlist *out)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	memset(out, 0, sizeof *out);
	if (n < 0)
		return -1;
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		if (r == 0 && strcmp(nm, ".") && strcmp(nm, "..") && !ignored(j, nm))
			r = strlist_add(out, nm);
		free(ents[i]);
	}
	free(ents);
	if (r < 0)
		strlist_free(out);
	return r;
}

/* The whole file (NUL-terminated); NULL with *too_big when over max. */
static char *read_file(const char *path, size_t max, size_t *len, bool *too_big)
{
	*too_big = false;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (buf != NULL && n > max) {
		*too_big = true;
		free(buf);
		return NULL;
	}
	if (buf != NULL) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static int copy_file(const char *from, const char *to)
{
	size_t len;
	bool big;
	char *buf = read_file(from, PM_MAX_ICON, &len, &big);
	if (buf == NULL)
		return -1;
	FILE *f = fopen(to, "wb");
	int r = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (f && fclose(f) != 0)
		r = -1;
	free(buf);
	return r;
}

/* A description file as a cJSON object; NULL after fail(). */
static cJSON *read_yaml(struct job *j, const char *path, const char *rel)
{
	size_t len;
	bool big;
	char *text = read_file(path, PM_MAX_DESCRIPTION, &len, &big);
	if (text == NULL) {
		fail(j, "%s: %s", rel, big ? "file too large" : strerror(errno));
		return NULL;
	}
	cJSON *d = json_from_yaml(text, len, rel, j->err, j->errlen);
	free(text);
	if (d != NULL && !cJSON_IsObject(d)) {
		fail(j, "%s: must be a mapping of keys to values", rel);
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* --- names --------------------------------------------------------------- */

static bool good_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > TITAN_MAX_NAME || strchr(s, '/'))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* An optional scalar field as a malloc'd string ("" when absent). */
static char *text_field(struct job *j, const cJSON *d, const char *key, const char *rel, bool *bad)
{
	char nb[64];
	const cJSON *it = json_item(d, key);
	const char *t = cJSON_IsNull(it) || it == NULL ? "" : json_scalar_text(it, nb, sizeof nb);
	if (t == NULL) {
		*bad = true;
		fail(j, "%s: %s must be a single value", rel, key);
		return NULL;
	}
	return strdup(t);
}

/* "demo.tar.gz" -> "demo" (the package name when package.yaml is missing). */
static char *archive_base(const char *filename)
{
	const char *b = filename;
	for (const char *p = filename; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	char *r = strdup(b);
	static const char *const ext[] = {".tar.gz", ".tgz", ".zip", ".tar"};
	for (size_t i = 0; r && i < sizeof ext / sizeof *ext; i++) {
		size_t n = strlen(r), e = strlen(ext[i]);
		if (n > e && strcasecmp(r + n - e, ext[i]) == 0) {
			r[n - e] = '\0';
			break;
		}
	}
	return r;
}

/* --- the package ----------------------------------------------------------- */

static int find_package_dir(struct job *j)
{
	struct strlist top;
	if (list_dir(j, j->root, &top) < 0)
		return fail(j, "cannot read the extracted archive");
	int r = 0;
	if (top.n != 1) {
		r = fail(j, "the archive must hold exactly one folder, named like the package (found %zu entries)", top.n);
	} else {
		pf(j->pkgdir, sizeof j->pkgdir, "%s/%s", j->root, top.v[0]);
		j->pkgrel = j->pkgdir + strlen(j->root) + 1;
		if (!is_type(j->pkgdir, S_IFDIR))
			r = fail(j, "%s: the archive must hold a folder named like the package, not a file", top.v[0]);
	}
	strlist_free(&top);
	return r;
}

/* URN "namespace:name:version": name and version parts. */
static void urn_parts(const char *urn, char **name, char **version)
{
	const char *a = strchr(urn, ':'), *b = a ? strchr(a + 1, ':') : NULL;
	*name = a ? strndup(a + 1, b ? (size_t)(b - a - 1) : strlen(a + 1)) : NULL;
	*version = b ? strdup(b + 1) : NULL;
}

static int package_meta(struct job *j, const cJSON *d, const char *rel, const char *filename)
{
	bool bad = false;
	struct new_package *p = &j->pkg;
	char *name = d ? text_field(j, d, "Name", rel, &bad) : strdup("");
	p->author = d && !bad ? text_field(j, d, "Author", rel, &bad) : strdup("");
	p->description = d && !bad ? text_field(j, d, "Description", rel, &bad) : strdup("");
	char *urn = d && !bad ? text_field(j, d, "Package", rel, &bad) : strdup("");
	char *urn_name = NULL, *version = NULL;
	if (!bad && urn && *urn)
		urn_parts(urn, &urn_name, &version);
	int r = bad ? -1 : 0;
	if (r == 0 && *urn && (urn_name == NULL || *urn_name == '\0'))
		r = fail(j, "%s: Package '%s' is not a URN \"namespace:name:version\"", rel, urn);
	else if (r == 0 && *name && urn_name && strcmp(name, urn_name) != 0)
		r = fail(j, "%s: Name '%s' differs from the name in Package '%s'", rel, name, urn);
	if (r == 0) {
		p->name = *name ? strdup(name) : urn_name && *urn_name ? strdup(urn_name)
					: filename && *filename ? archive_base(filename) : strdup(j->pkgrel);
		p->urn = *urn ? strdup(urn) : strdup(p->name ? p->name : "");
		p->version = strdup(version ? version : "");
		if (!good_name(p->name))
			r = fail(j, "%s: '%s' is not a usable package name", d ? rel : j->pkgrel, p->name ? p->name : "");
	}
	free(name);
	free(urn);
	free(urn_name);
	free(version);
	return r;
}

static int read_package_yaml(struct job *j, const char *filename)
{
	char path[PATH_MAX], rel[PATH_MAX];
	pf(path, sizeof path, "%s/%s", j->pkgdir, j->cfg->package_description);
	pf(rel, sizeof rel, "%s/%s", j->pkgrel, j->cfg->package_description);
	cJSON *d = NULL;
	if (is_type(path, S_IFREG) && (d = read_yaml(j, path, rel)) == NULL)
		return -1;
	if (d == NULL && access(path, F_OK) == 0)
		return fail(j, "%s: not a regular file", rel);
	int r = package_meta(j, d, rel, filename);
	cJSON_Delete(d);
	return r;
}

/* --- one brick ------------------------------------------------------------------ */

struct brick_ctx {
	struct job *j;
	const char *dir; /* stage/x/<Package>/<Folder> */
	char rel[PATH_MAX];
	char desc_rel[PATH_MAX];
	const cJSON *d;
	struct new_brick *b;
	size_t index;
};

static int int_field(struct brick_ctx *bc, cJSON *doc, const char *key, const char *out_key, long long def)
{
	const cJSON *it = json_item(bc->d, key);
	long long v = def;
	if (it != NULL && !cJSON_IsNull(it) && !json_int(it, 0, INT32_MAX, &v))
		return fail(bc->j, "%s: %s must be a whole number >= 0", bc->desc_rel, key);
	cJSON_AddNumberToObject(doc, out_key, (double)v);
	return 0;
}

static cJSON *parameters(struct brick_ctx *bc)
{
	const cJSON *ps = json_item(bc->d, "Parameters");
	cJSON *out = cJSON_CreateArray();
	if (ps == NULL || cJSON_IsNull(ps))
		return out;
	if (!cJSON_IsArray(ps))
		goto bad;
	const cJSON *p;
	cJSON_ArrayForEach(p, ps) {
		char nb[64];
		const char *name = json_scalar_text(json_item(p, "Name"), nb, sizeof nb);
		if (!cJSON_IsObject(p) || name == NULL || *name == '\0')
			goto bad;
		const cJSON *v = json_item(p, "Value"), *t = json_item(p, "Type");
		const char *type = t && !cJSON_IsNull(t) ? json_scalar_text(t, nb, sizeof nb) : "string";
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddItemToObject(o, "value", v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
		cJSON_AddStringToObject(o, "type", type && *type ? type : "string");
		cJSON_AddItemToArray(out, o);
	}
	return out;
bad:
	cJSON_Delete(out);
	fail(bc->j, "%s: Parameters must be a list of {Name, Value, Type}", bc->desc_rel);
	return NULL;
}

/* The schema text named by Ports.SchemaFile ("" when none). */
static char *schema_text(struct brick_ctx *bc, const cJSON *ports)
{
	const char *file = json_str(ports, "SchemaFile");
	if (file == NULL || *file == '\0')
		return strdup("");
	if (file[0] == '/' || strstr(file, "..") != NULL) {
		fail(bc->j, "%s: SchemaFile '%s' must be a file inside the brick folder", bc->desc_rel, file);
		return NULL;
	}
	char path[PATH_MAX];
	size_t len;
	bool big;
	pf(path, sizeof path, "%s/%s", bc->dir, file);
	char *t = is_type(path, S_IFREG) ? read_file(path, PM_MAX_DESCRIPTION, &len, &big) : NULL;
	if (t == NULL)
		fail(bc->j, "%s/%s: schema file named by %s is missing or unreadable", bc->rel, file,
			bc->j->cfg->brick_description);
	return t;
}

static cJSON *port_list(struct brick_ctx *bc, const cJSON *ports, const char *key, const char *schema)
{
	const cJSON *m = json_item(ports, key), *it;
	cJSON *out = cJSON_CreateArray();
	if (m == NULL || cJSON_IsNull(m))
		return out;
	if (!cJSON_IsObject(m)) {
		cJSON_Delete(out);
		fail(bc->j, "%s: Ports.%s must map port names to type names", bc->desc_rel, key);
		return NULL;
	}
	cJSON_ArrayForEach(it, m) {
		char nb[64];
		const char *type = json_scalar_text(it, nb, sizeof nb);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", it->string);
		cJSON_AddStringToObject(o, "typeName", type ? type : "");
		cJSON_AddStringToObject(o, "schema", schema);
		cJSON_AddItemToObject(o, "binarySchema", cJSON_CreateArray());
		cJSON_AddItemToObject(o, "JSONSchema", cJSON_CreateArray());
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

static int ports(struct brick_ctx *bc, cJSON *doc)
{
	const cJSON *p = json_item(bc->d, "Ports");
	if (p != NULL && !cJSON_IsNull(p) && !cJSON_IsObject(p))
		return fail(bc->j, "%s: Ports must be a mapping (SchemaFile, Input, Output)", bc->desc_rel);
	char *schema = schema_text(bc, p);
	if (schema == NULL)
		return -1;
	cJSON *in = port_list(bc, p, "Input", schema);
	cJSON *out = in ? port_list(bc, p, "Output", schema) : NULL;
	free(schema);
	if (out == NULL) {
		cJSON_Delete(in);
		return -1;
	}
	cJSON_AddItemToObject(doc, "portsDescription", p && !cJSON_IsNull(p) ? cJSON_Duplicate(p, 1) : cJSON_CreateObject());
	cJSON_AddItemToObject(doc, "inputPorts", in);
	cJSON_AddItemToObject(doc, "outputPorts", out);
	return 0;
}

/* The CP looks for ^<name>(\.py)?$ ignoring case (titanfe-protocol.md §5.3). */
static bool is_code_name(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(entry, name, n) == 0 && (entry[n] == '\0' || strcasecmp(entry + n, ".py") == 0);
}

/* Find the code and the icon; stage a copy of the icon. */
static int code_and_icon(struct brick_ctx *bc)
{
	struct strlist ents;
	char path[PATH_MAX], icon[PATH_MAX] = "", code_dir[PATH_MAX] = "";
	if (list_dir(bc->j, bc->dir, &ents) < 0)
		return fail(bc->j, "%s: cannot read the folder", bc->rel);
	bool code = false;
	size_t n = strlen(bc->b->name);
	for (size_t i = 0; i < ents.n; i++) {
		pf(path, sizeof path, "%s/%s", bc->dir, ents.v[i]);
		if (!code && is_code_name(ents.v[i], bc->b->name)) {
			code = true;
			if (is_type(path, S_IFDIR))
				pf(code_dir, sizeof code_dir, "%s", path);
		}
		if (!*icon && strncasecmp(ents.v[i], bc->b->name, n) == 0 && strcasecmp(ents.v[i] + n, ".svg") == 0)
			pf(icon, sizeof icon, "%s", path);
	}
	strlist_free(&ents);
	if (!code)
		return fail(bc->j, "%s: brick code missing: expected '%s.py' or a folder '%s/' (any case)", bc->rel,
			bc->b->name, bc->b->name);
	if (!*icon && *code_dir && list_dir(bc->j, code_dir, &ents) == 0) {
		for (size_t i = 0; i < ents.n && !*icon; i++)
			if (strncasecmp(ents.v[i], bc->b->name, n) == 0 && strcasecmp(ents.v[i] + n, ".svg") == 0)
				pf(icon, sizeof icon, "%s/%s", code_dir, ents.v[i]);
		strlist_free(&ents);
	}
	if (!*icon)
		return 0;
	struct stat sb;
	if (stat(icon, &sb) < 0 || sb.st_size > (off_t)PM_MAX_ICON)
		return fail(bc->j, "%s: icon larger than %u bytes", icon + strlen(bc->j->root) + 1, PM_MAX_ICON);
	pf(path, sizeof path, "%s/%zu.svg", bc->j->stage, bc->index);
	if (copy_file(icon, path) < 0 || (bc->b->icon_path = strdup(path)) == NULL)
		return fail(bc->j, "cannot stage the icon of %s", bc->rel);
	return 0;
}

static int brick_doc(struct brick_ctx *bc)
{
	bool bad = false;
	cJSON *doc = cJSON_CreateObject();
	bc->b->doc = doc;
	char urn[2 * TITAN_MAX_NAME + 600];
	pf(urn, sizeof urn, "%s:%s", bc->j->pkg.urn, bc->b->name);
	cJSON_AddStringToObject(doc, "urn", urn);
	char *family = text_field(bc->j, bc->d, "Family", bc->desc_rel, &bad);
	char *descr = bad ? NULL : text_field(bc->j, bc->d, "Description", bc->desc_rel, &bad);
	if (!bad) {
		cJSON_AddStringToObject(doc, "family", family && *family ? family : "General");
		cJSON_AddStringToObject(doc, "description", descr ? descr : "");
	}
	free(family);
	free(descr);
	if (bad)
		return -1;
	cJSON *params = parameters(bc);
	if (params == NULL)
		return -1;
	cJSON_AddItemToObject(doc, "parameters", params);
	if (ports(bc, doc) < 0 || int_field(bc, doc, "AutoscaleQueueLevel", "autoscaleQueueLevel", DEF_QUEUE_LEVEL) < 0 ||
		int_field(bc, doc, "AutoscaleMaxInstances", "autoscaleMaxInstances", DEF_MAX_INSTANCES) < 0 ||
		int_field(bc, doc, "ExitAfterIdleSeconds", "exitAfterIdleSeconds", DEF_IDLE_SECONDS) < 0)
		return -1;
	return 0;
}

static int brick_name(struct brick_ctx *bc, const char *folder)
{
	bool bad = false;
	char *name = text_field(bc->j, bc->d, "Name", bc->desc_rel, &bad);
	if (bad)
		return -1;
	if (name == NULL || *name == '\0') { /* the folder is named like the brick */
		free(name);
		name = strdup(folder);
	}
	bc->b->name = name;
	if (!good_name(name))
		return fail(bc->j, "%s: Name '%s' is not a usable brick name", bc->desc_rel, name ? name : "");
	for (size_t i = 0; i < bc->index; i++)
		if (strcmp(bc->j->pkg.bricks[i].name, name) == 0)
			return fail(bc->j, "%s: brick '%s' appears twice in the package", bc->desc_rel, name);
	return 0;
}

static int one_brick(struct job *j, const char *folder, size_t index)
{
	char dir[PATH_MAX], desc[PATH_MAX];
	struct brick_ctx bc = {.j = j, .dir = dir, .b = &j->pkg.bricks[index], .index = index};
	pf(dir, sizeof dir, "%s/%s", j->pkgdir, folder);
	pf(bc.rel, sizeof bc.rel, "%s/%s", j->pkgrel, folder);
	pf(bc.desc_rel, sizeof bc.desc_rel, "%s/%s", bc.rel, j->cfg->brick_description);
	pf(desc, sizeof desc, "%s/%s", dir, j->cfg->brick_description);
	if (!is_type(desc, S_IFREG))
		return fail(j, "%s: missing (every brick folder needs one)", bc.desc_rel);
	cJSON *d = read_yaml(j, desc, bc.desc_rel);
	if (d == NULL)
		return -1;
	bc.d = d;
	int r = brick_name(&bc, folder);
	if (r == 0)
		r = code_and_icon(&bc);
	if (r == 0)
		r = brick_doc(&bc);
	cJSON_Delete(d);
	return r;
}

/* Every folder inside the package folder is a brick. */
static int read_bricks(struct job *j)
{
	struct strlist ents;
	char path[PATH_MAX];
	if (list_dir(j, j->pkgdir, &ents) < 0)
		return fail(j, "%s: cannot read the folder", j->pkgrel);
	int r = 0;
	for (size_t i = 0; r == 0 && i < ents.n; i++) {
		pf(path, sizeof path, "%s/%s", j->pkgdir, ents.v[i]);
		if (is_type(path, S_IFDIR) && strlist_add(&j->folders, ents.v[i]) < 0)
			r = fail(j, "out of memory");
	}
	strlist_free(&ents);
	size_t n = j->folders.n;
	if (r == 0 && n == 0)
		r = fail(j, "%s: the package holds no brick folder", j->pkgrel);
	else if (r == 0 && n > PM_MAX_BRICKS)
		r = fail(j, "%s: more than %u bricks in one package", j->pkgrel, PM_MAX_BRICKS);
	else if (r == 0 && (j->pkg.bricks = calloc(n, sizeof *j->pkg.bricks)) == NULL)
		r = fail(j, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		j->pkg.nbricks = i + 1;
		r = one_brick(j, j->folders.v[i], i);
	}
	return r;
}

/* --- zips and the whole upload ----------------------------------------------------- */

static int zip_bricks(struct job *j)
{
	const char **ignore = calloc(j->cfg->ignore.n + 1, sizeof *ignore);
	if (ignore == NULL)
		return fail(j, "out of memory");
	for (size_t i = 0; i < j->cfg->ignore.n; i++)
		ignore[i] = j->cfg->ignore.v[i];
	int r = 0;
	char dir[PATH_MAX], zip[PATH_MAX], inner[512];
	for (size_t i = 0; r == 0 && i < j->pkg.nbricks; i++) {
		pf(dir, sizeof dir, "%s/%s", j->pkgdir, j->folders.v[i]);
		pf(zip, sizeof zip, "%s/%zu.zip", j->stage, i);
		if (arc_zip_dir(dir, ignore, zip, inner, sizeof inner) < 0)
			r = fail(j, "%s/%s: cannot pack the brick code: %s", j->pkgrel, j->folders.v[i], inner);
		else if ((j->pkg.bricks[i].zip_path = strdup(zip)) == NULL)
			r = fail(j, "out of memory");
	}
	free(ignore);
	return r;
}

static void package_free(struct new_package *p)
{
	for (size_t i = 0; i < p->nbricks; i++) {
		free(p->bricks[i].name);
		cJSON_Delete(p->bricks[i].doc);
		free(p->bricks[i].zip_path);
		free(p->bricks[i].icon_path);
	}
	free(p->bricks);
	free(p->name);
	free(p->urn);
	free(p->author);
	free(p->version);
	free(p->description);
	memset(p, 0, sizeof *p);
}

static cJSON *installed_list(const struct new_package *p)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < p->nbricks; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", p->bricks[i].id);
		cJSON_AddStringToObject(o, "name", p->bricks[i].name);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* Extract and check; 0, or -1 after fail() (a client error). */
static int check_upload(struct job *j, const void *data, size_t len, const char *filename)
{
	char inner[512];
	struct arc_stats st;
	pf(j->root, sizeof j->root, "%s/x", j->stage);
	if (arc_extract_mem(data, len, j->root, NULL, &st, inner, sizeof inner) < 0)
		return fail(j, "%s: %s", filename && *filename ? filename : "package", inner);
	if (find_package_dir(j) < 0 || read_package_yaml(j, filename) < 0 || read_bricks(j) < 0)
		return -1;
	log_debug("package checked name=%s bricks=%zu entries=%llu bytes=%llu", j->pkg.name, j->pkg.nbricks,
		(unsigned long long)st.entries, (unsigned long long)st.bytes);
	return 0;
}

int package_install(struct store *s, const struct pm_cfg *c, const void *data, size_t len,
	const char *filename, cJSON **installed, char *err, size_t errlen)
{
	struct job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	j->cfg = c;
	j->err = err;
	j->errlen = errlen;
	int status = 500;
	if (store_stage_dir(s, j->stage, sizeof j->stage) < 0) {
		snprintf(err, errlen, "cannot create a staging directory: %s", strerror(errno));
		free(j);
		return 500;
	}
	if (check_upload(j, data, len, filename) < 0)
		status = 400;
	else if (zip_bricks(j) == 0 && store_commit(s, &j->pkg, err, errlen) == 0)
		status = 0;
	if (status == 0) {
		*installed = installed_list(&j->pkg);
		log_info("package installed name=%s urn=%s bricks=%zu", j->pkg.name, j->pkg.urn, j->pkg.nbricks);
	}
	if (arc_rmtree(j->stage) < 0)
		log_warn("cannot remove staging dir=%s: %m", j->stage);
	package_free(&j->pkg);
	strlist_free(&j->folders);
	free(j);
	return status;
}
