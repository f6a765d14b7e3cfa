/* config.c — the Package Manager's own configuration keys (seed 004 and
 * titan-services.md §2.1), from defaults, a YAML file, TITAN_PM_<KEY> and
 * the command line, in that order of precedence (the viper order the Go
 * services use). Strict like common/cfg.c: unknown keys, duplicates, wrong
 * shapes and bad values are errors "file:line:col: ...". */
#include "pm.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "log.h"

#define PM_DEFAULT_CONFIG "/etc/titan/titan-pm.yaml"

enum ktype { K_STR, K_LIST, K_PORT, K_LEVEL, K_UNUSED };

struct key {
	const char *name;
	enum ktype type;
	const char *def;
	bool secret;
	size_t off;
};

#define F(field) offsetof(struct pm_cfg, field)

/* The Go PM's keys, plus address, user-check-path and admin-tokens (the
 * configurable admin check of titan-services.md §3.3). Keys of newer Go
 * versions that make no sense here (Kafka logging, own service id) are
 * accepted and ignored so their config files still load. */
static const struct key keys[] = {
	{"port", K_PORT, "8087", false, 0},
	{"address", K_STR, "", false, F(address)},
	{"log-level", K_LEVEL, "info", false, 0},
	{"database", K_STR, "", false, F(database)},
	{"user-manager", K_STR, "http://127.0.0.1:9000", false, F(user_manager)},
	{"user-check-path", K_STR, "/userservice/user", false, F(user_check_path)},
	{"allowed-origins", K_LIST, NULL, false, F(allowed_origins)},
	{"package-folder", K_STR, "./brickPackages", false, F(package_folder)},
	{"package-description", K_STR, "package.yaml", false, F(package_description)},
	{"brick-description", K_STR, "description.yaml", false, F(brick_description)},
	{"python", K_STR, "/usr/bin/python3.7", false, F(python)},
	{"ignore-package-content", K_LIST, NULL, false, F(ignore)},
	{"service-ids", K_LIST, NULL, true, F(service_ids)},
	{"admin-tokens", K_LIST, NULL, true, F(admin_tokens)},
	{"log-to-kafka", K_UNUSED, NULL, false, 0},
	{"kafka", K_UNUSED, NULL, false, 0},
	{"service-topic", K_UNUSED, NULL, false, 0},
	{"service-id", K_UNUSED, NULL, false, 0},
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* Always ignored inside packages (titan-services.md §2.1). */
static const char *const builtin_ignore[] = {
	".git", ".gitignore", ".markdownlintrc.yml", ".gitlab-ci.yml", "README.md", "doc",
};

/* --- lists -------------------------------------------------------------- */

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int strlist_add(struct strlist *l, const char *s)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
	if (nv == NULL)
		return -1;
	l->v = nv;
	if ((l->v[l->n] = strdup(s)) == NULL)
		return -1;
	l->n++;
	return 0;
}

bool strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* "a, b c" or "[a, b]" (an environment variable) -> list. */
static int split_list(const char *text, struct strlist *out)
{
	char *copy = strdup(text), *save = NULL;
	if (copy == NULL)
		return -1;
	char *p = copy;
	size_t n = strlen(p);
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p[n - 1] = '\0';
		p++;
	}
	int r = 0;
	for (char *t = strtok_r(p, ", \t\n", &save); t && r == 0; t = strtok_r(NULL, ", \t\n", &save)) {
		size_t tl = strlen(t);
		if (tl >= 2 && (t[0] == '"' || t[0] == '\'') && t[tl - 1] == t[0]) {
			t[tl - 1] = '\0';
			t++;
		}
		if (*t)
			r = strlist_add(out, t);
	}
	free(copy);
	return r;
}

/* --- values -------------------------------------------------------------- */

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int set_scalar(struct pm_cfg *c, const struct key *k, const char *v, char *err, size_t errlen)
{
	if (strlen(v) > CFG_MAX_VALUE || has_ctl(v))
		return err_set(err, errlen, "%s: value too long or holds control characters", k->name), -1;
	switch (k->type) {
	case K_PORT: {
		char *end;
		errno = 0;
		unsigned long p = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || p > 65535)
			return err_set(err, errlen, "%s: '%s' is not a port number (0-65535)", k->name, v), -1;
		c->port = (unsigned)p;
		return 0;
	}
	case K_LEVEL: {
		int l = log_level_parse(v);
		if (l < 0)
			return err_set(err, errlen, "%s: '%s' is not one of debug, info, warning, error", k->name, v), -1;
		c->log_level = l;
		return 0;
	}
	case K_STR: {
		char **f = (char **)((char *)c + k->off), *d = strdup(v);
		if (d == NULL)
			return err_set(err, errlen, "out of memory"), -1;
		free(*f);
		*f = d;
		return 0;
	}
	case K_LIST: {
		struct strlist *l = (struct strlist *)((char *)c + k->off), nl = {0};
		if (split_list(v, &nl) < 0)
			return err_set(err, errlen, "out of memory"), -1;
		strlist_free(l);
		*l = nl;
		return 0;
	}
	case K_UNUSED:
		return 0;
	}
	return 0;
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static void cfg_defaults(struct pm_cfg *c)
{
	char e[64];
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL)
			set_scalar(c, &keys[i], keys[i].def, e, sizeof e);
}

/* --- the YAML file ----------------------------------------------------------- */

#define MARK(n) (unsigned long)(n)->start_mark.line + 1, (unsigned long)(n)->start_mark.column + 1

static int file_list(struct pm_cfg *c, const struct key *k, yaml_document_t *d, const yaml_node_t *vn,
	const char *path, char *err, size_t errlen)
{
	struct strlist nl = {0};
	for (yaml_node_item_t *i = vn->data.sequence.items.start; i < vn->data.sequence.items.top; i++) {
		const yaml_node_t *it = yaml_document_get_node(d, *i);
		if (it == NULL || it->type != YAML_SCALAR_NODE || has_ctl((const char *)it->data.scalar.value)) {
			strlist_free(&nl);
			return err_set(err, errlen, "%s:%lu:%lu: %s: every item must be a plain string", path,
				       MARK(it ? it : vn), k->name), -1;
		}
		if (strlist_add(&nl, (const char *)it->data.scalar.value) < 0) {
			strlist_free(&nl);
			return err_set(err, errlen, "out of memory"), -1;
		}
	}
	struct strlist *l = (struct strlist *)((char *)c + k->off);
	strlist_free(l);
	*l = nl;
	return 0;
}

static bool yaml_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static int file_pair(struct pm_cfg *c, yaml_document_t *d, const yaml_node_pair_t *p, const char *path,
	const yaml_node_t **seen, char *err, size_t errlen)
{
	const yaml_node_t *kn = yaml_document_get_node(d, p->key), *vn = yaml_document_get_node(d, p->value);
	if (kn->type != YAML_SCALAR_NODE)
		return err_set(err, errlen, "%s:%lu:%lu: a key must be a plain name", path, MARK(kn)), -1;
	const char *name = (const char *)kn->data.scalar.value;
	const struct key *k = key_find(name);
	if (k == NULL)
		return err_set(err, errlen, "%s:%lu:%lu: unknown key '%.64s' (see titan-pm-httpd(1))", path,
			       MARK(kn), name), -1;
	size_t ki = (size_t)(k - keys);
	if (seen[ki] != NULL)
		return err_set(err, errlen, "%s:%lu:%lu: key '%s' given twice (first at line %lu)", path, MARK(kn),
			       name, (unsigned long)seen[ki]->start_mark.line + 1), -1;
	seen[ki] = kn;
	if (yaml_null(vn))
		return 0; /* ~ keeps the default */
	if (k->type == K_LIST && vn->type == YAML_SEQUENCE_NODE)
		return file_list(c, k, d, vn, path, err, errlen);
	if (vn->type != YAML_SCALAR_NODE)
		return err_set(err, errlen, "%s:%lu:%lu: %s: expected a %s", path, MARK(vn), name,
			       k->type == K_LIST ? "list of strings" : "single value"), -1;
	char inner[512];
	if (set_scalar(c, k, (const char *)vn->data.scalar.value, inner, sizeof inner) < 0)
		return err_set(err, errlen, "%s:%lu:%lu: %s", path, MARK(vn), inner), -1;
	return 0;
}

static int load_doc(struct pm_cfg *c, yaml_document_t *d, const char *path, char *err, size_t errlen)
{
	const yaml_node_t *root = yaml_document_get_root_node(d);
	if (root == NULL || yaml_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return err_set(err, errlen, "%s:%lu:%lu: the file must be a mapping of keys to values", path,
			       MARK(root)), -1;
	const yaml_node_t *seen[NKEYS] = {0};
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
		if (file_pair(c, d, p, path, seen, err, errlen) < 0)
			return -1;
	return 0;
}

static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(CFG_MAX_FILE + 1);
	size_t n = buf ? fread(buf, 1, CFG_MAX_FILE + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (buf == NULL || bad || n > CFG_MAX_FILE) {
		err_set(err, errlen, "%s: %s", path, buf == NULL ? "out of memory" : bad ? "read error" : "file too large");
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int load_file(struct pm_cfg *c, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *buf = read_small_file(path, &len, err, errlen);
	if (buf == NULL)
		return -1;
	yaml_parser_t p;
	yaml_document_t d;
	int r = -1;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &d)) {
		err_set(err, errlen, "%s:%lu:%lu: %s", path, (unsigned long)p.problem_mark.line + 1,
			(unsigned long)p.problem_mark.column + 1, p.problem ? p.problem : "syntax error");
	} else {
		r = load_doc(c, &d, path, err, errlen);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	free(buf);
	return r;
}

/* --- environment --------------------------------------------------------------- */

static void env_name(const char *key, char *out, size_t n)
{
	size_t o = (size_t)snprintf(out, n, "TITAN_PM_");
	for (const char *k = key; *k && o + 1 < n; k++)
		out[o++] = *k == '-' ? '_' : (char)toupper((unsigned char)*k);
	out[o] = '\0';
}

static int load_env(struct pm_cfg *c, char *err, size_t errlen)
{
	char name[64], inner[512];
	for (size_t i = 0; i < NKEYS; i++) {
		env_name(keys[i].name, name, sizeof name);
		const char *v = getenv(name);
		if (v == NULL)
			continue;
		if (set_scalar(c, &keys[i], v, inner, sizeof inner) < 0)
			return err_set(err, errlen, "%s: %s", name, inner), -1;
	}
	return 0;
}

/* --- checks ---------------------------------------------------------------------- */

/* "127.0.0.1:27017", "mongodb://..." — the Go PM's MongoDB address. */
static bool looks_like_mongodb(const char *db)
{
	if (strncmp(db, "mongodb://", 10) == 0 || strncmp(db, "mongodb+srv://", 14) == 0)
		return true;
	const char *colon = strrchr(db, ':');
	if (colon == NULL || colon[1] == '\0' || strchr(db, '/') != NULL)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static bool plain_file_name(const char *s)
{
	return *s && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int check(struct pm_cfg *c, char *err, size_t errlen)
{
	if (looks_like_mongodb(c->database))
		return err_set(err, errlen,
			       "database: '%s' looks like a MongoDB address; titan-pm-httpd keeps its metadata "
			       "in SQLite: give a file path or leave it empty (<package-folder>/pm.sqlite)",
			       c->database), -1;
	if (!plain_file_name(c->package_description) || !plain_file_name(c->brick_description))
		return err_set(err, errlen, "package-description and brick-description must be plain file names"), -1;
	if (*c->user_manager && strncmp(c->user_manager, "http://", 7) != 0 &&
		strncmp(c->user_manager, "https://", 8) != 0)
		return err_set(err, errlen, "user-manager: '%s' is not an http:// or https:// URL", c->user_manager), -1;
	if (c->user_check_path[0] != '/')
		return err_set(err, errlen, "user-check-path: '%s' must start with '/'", c->user_check_path), -1;
	if (*c->package_folder == '\0')
		return err_set(err, errlen, "package-folder must not be empty"), -1;
	return 0;
}

/* The built-in ignore list comes first; configured names are added. */
static int merge_ignore(struct pm_cfg *c)
{
	struct strlist all = {0};
	for (size_t i = 0; i < sizeof builtin_ignore / sizeof *builtin_ignore; i++)
		if (strlist_add(&all, builtin_ignore[i]) < 0)
			goto fail;
	for (size_t i = 0; i < c->ignore.n; i++)
		if (!strlist_has(&all, c->ignore.v[i]) && strlist_add(&all, c->ignore.v[i]) < 0)
			goto fail;
	strlist_free(&c->ignore);
	c->ignore = all;
	return 0;
fail:
	strlist_free(&all);
	return -1;
}

/* --- public -------------------------------------------------------------------------- */

static const char *config_path(const struct pm_cli *cli, bool *must_exist)
{
	*must_exist = true;
	if (cli->config_file != NULL)
		return cli->config_file;
	const char *env = getenv("TITAN_PM_CONFIG_FILE");
	if (env != NULL && *env)
		return env;
	struct stat sb;
	*must_exist = false;
	return stat(PM_DEFAULT_CONFIG, &sb) == 0 ? PM_DEFAULT_CONFIG : NULL;
}

static int apply_cli(struct pm_cfg *c, const struct pm_cli *cli, char *err, size_t errlen)
{
	char inner[512];
	const struct {
		const char *key, *val;
	} opts[] = {{"port", cli->port}, {"address", cli->address}, {"log-level", cli->log_level}};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		if (opts[i].val && set_scalar(c, key_find(opts[i].key), opts[i].val, inner, sizeof inner) < 0)
			return err_set(err, errlen, "--%s", inner), -1;
	return 0;
}

int pm_cfg_load(struct pm_cfg *c, const struct pm_cli *cli, char *err, size_t errlen)
{
	bool must;
	cfg_defaults(c);
	const char *path = config_path(cli, &must);
	if (path != NULL) {
		if (load_file(c, path, err, errlen) < 0)
			return -1;
		c->config_file = strdup(path);
	}
	if (load_env(c, err, errlen) < 0 || apply_cli(c, cli, err, errlen) < 0 || check(c, err, errlen) < 0)
		return -1;
	if (merge_ignore(c) < 0)
		return err_set(err, errlen, "out of memory"), -1;
	return 0;
}

void pm_cfg_free(struct pm_cfg *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == K_STR)
			free(*(char **)((char *)c + keys[i].off));
		else if (keys[i].type == K_LIST)
			strlist_free((struct strlist *)((char *)c + keys[i].off));
	}
	free(c->config_file);
	memset(c, 0, sizeof *c);
}

static void print_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

void pm_cfg_print(const struct pm_cfg *c)
{
	printf("# effective configuration of titan-pm-httpd (file: %s)\n", c->config_file ? c->config_file : "none");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		if (k->type == K_UNUSED)
			continue;
		printf("%s: ", k->name);
		if (k->type == K_PORT)
			printf("%u", c->port);
		else if (k->type == K_LEVEL)
			printf("%s", log_level_name((enum log_level)c->log_level));
		else if (k->type == K_STR)
			print_str(*(char *const *)((const char *)c + k->off));
		else {
			const struct strlist *l = (const struct strlist *)((const char *)c + k->off);
			putchar('[');
			for (size_t j = 0; j < l->n; j++) {
				if (j)
					fputs(", ", stdout);
				print_str(k->secret ? "***" : l->v[j]);
			}
			putchar(']');
		}
		putchar('\n');
	}
}
