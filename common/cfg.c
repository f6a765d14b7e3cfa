/* cfg.c — the titan configuration (see cfg.h and titan-config(5)).
 *
 * Everything is driven by one table, `keys`. A value from any source goes
 * through the same two steps: parse_value() turns text into a typed
 * `struct val` (checking length, characters, booleans, sizes) without
 * touching the struct, and apply() stores it. Loaders parse every value
 * first and apply only when all were good, so a bad file or environment
 * leaves the configuration as it was.
 */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#ifndef CFG_BRICK_FOLDER_FALLBACK
/* BrickFolder default when HOME is unset (a service account). */
#define CFG_BRICK_FOLDER_FALLBACK "/var/lib/titan/bricks"
#endif

#define FIELD(f) offsetof(struct cfg, f)

/* The keys, in enum cfg_key order. Names, aliases and defaults are the
 * original titanfe's (reference §2) except Kafka (no internal-IP default)
 * and the two keys we added, MetricsDisabled (file key) and MaxFrameSize. */
static const struct cfg_key_desc keys[CFG_NKEYS] = {
	[CFG_KAFKA] = {.name = "Kafka", .alias = "kafka_bootstrap_servers",
		.env = "TITAN_KAFKA", .type = CFG_T_STRING, .def = "",
		.doc = "Kafka bootstrap servers (host:port,...); empty = no Kafka",
		.off = FIELD(kafka)},
	[CFG_KAFKA_LOG_TOPIC] = {.name = "KafkaLogTopic", .alias = "kafka_log_topic",
		.env = "TITAN_KAFKA_LOG_TOPIC", .type = CFG_T_STRING, .def = "titan.logs",
		.doc = "Kafka topic for log records",
		.off = FIELD(kafka_log_topic)},
	[CFG_GRID_MANAGER] = {.name = "GridManager", .alias = "gridmanager_address",
		.env = "TITAN_GRID_MANAGER", .type = CFG_T_STRING,
		.def = "http://localhost:8080/gridmanager",
		.doc = "Grid Manager base URL",
		.off = FIELD(gridmanager_address)},
	[CFG_FLOW_MANAGER] = {.name = "FlowManager", .alias = "flowmanager_address",
		.env = "TITAN_FLOW_MANAGER", .type = CFG_T_STRING,
		.def = "http://localhost:9002/flowmanager",
		.doc = "Flow Manager base URL (kept for compatibility, unused)",
		.off = FIELD(flowmanager_address)},
	[CFG_PACKAGE_MANAGER] = {.name = "PackageManager", .alias = "packagemanager_address",
		.env = "TITAN_PACKAGE_MANAGER", .type = CFG_T_STRING,
		.def = "http://localhost:8087/packagemanager",
		.doc = "Package Manager base URL",
		.off = FIELD(packagemanager_address)},
	[CFG_REPOSITORY_SERVICE] = {.name = "RepositoryService", .alias = "reposervice_address",
		.env = "TITAN_REPOSITORY_SERVICE", .type = CFG_T_STRING,
		.def = "http://localhost:8085/object",
		.doc = "Repository Service base URL (brick state)",
		.off = FIELD(reposervice_address)},
	[CFG_SECRET_KEY] = {.name = "SecretKey", .alias = "secret_key",
		.env = "TITAN_SECRET_KEY", .type = CFG_T_STRING, .def = NULL, .secret = true,
		.doc = "key for secret brick parameters; never printed",
		.off = FIELD(secret_key)},
	[CFG_ENDPOINT_PROVIDER] = {.name = "EndpointProvider", .alias = "endpoint_provider",
		.env = "TITAN_ENDPOINT_PROVIDER", .type = CFG_T_STRING,
		.def = "tcp://127.0.0.1:9021",
		.doc = "Endpoint Provider address (ZeroMQ)",
		.off = FIELD(endpoint_provider)},
	[CFG_IP] = {.name = "IP", .alias = "IP",
		.env = "TITAN_IP", .type = CFG_T_STRING, .def = "",
		.doc = "address this node announces; empty = the program decides",
		.off = FIELD(ip)},
	[CFG_BRICK_FOLDER] = {.name = "BrickFolder", .alias = "brick_folder",
		.env = "TITAN_BRICK_FOLDER", .type = CFG_T_STRING, .def = "$HOME/titanfe/bricks",
		.doc = "directory of installed bricks",
		.off = FIELD(brick_folder)},
	[CFG_METRICS_DISABLED] = {.name = "MetricsDisabled", .alias = NULL,
		.env = "TITAN_METRICS_DISABLED", .env2 = "TITANFE_WITHOUT_KAFKA",
		.type = CFG_T_BOOL, .def_num = 0,
		.doc = "send no metrics and no logs to Kafka",
		.off = FIELD(metrics_disabled)},
	[CFG_MAX_FRAME_SIZE] = {.name = "MaxFrameSize", .alias = "max_frame_size",
		.env = "TITAN_MAX_FRAME_SIZE", .type = CFG_T_SIZE, .def_num = FRAME_MAX_DEFAULT,
		.min = FRAME_MIN_BODY, .max = FRAME_MAX_CEILING,
		.doc = "largest runner-to-runner frame accepted, bytes",
		.off = FIELD(max_frame_size)},
};

/* A parsed value waiting to be applied. */
struct val {
	const char *s; /* CFG_T_STRING: NUL-terminated, NULL = unset secret */
	bool b;
	uint64_t u;
};

/* ---- small helpers ---------------------------------------------------- */

static int seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A short, printable copy of untrusted text for an error message (the
 * text is shown between single quotes, so those are escaped too). */
static const char *shown(char *buf, size_t n, const char *s, size_t len)
{
	size_t w = 0, i;

	/* Each step writes at most 4 bytes and keeps room for "..." + NUL. */
	for (i = 0; i < len && w + 8 <= n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
			w += (size_t)snprintf(buf + w, n - w, "\\x%02x", c);
		else
			buf[w++] = (char)c;
	}
	if (i < len && w + 4 <= n) {
		memcpy(buf + w, "...", 3);
		w += 3;
	}
	if (n > 0)
		buf[w < n ? w : n - 1] = '\0';
	return buf;
}

const struct cfg_key_desc *cfg_keys(size_t *count)
{
	if (count != NULL)
		*count = CFG_NKEYS;
	return keys;
}

int cfg_key_find(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < CFG_NKEYS; i++)
		if (strcmp(name, keys[i].name) == 0 ||
		    (keys[i].alias != NULL && strcmp(name, keys[i].alias) == 0))
			return i;
	return -1;
}

const char *cfg_source_name(enum cfg_source src)
{
	switch (src) {
	case CFG_SRC_DEFAULT: return "default";
	case CFG_SRC_FILE: return "file";
	case CFG_SRC_ENV: return "env";
	case CFG_SRC_CLI: return "command line";
	}
	return "?";
}

/* "Kafka, KafkaLogTopic, ..." for unknown-key messages. */
static const char *known_keys(char *buf, size_t n)
{
	size_t w = 0;

	buf[0] = '\0';
	for (int i = 0; i < CFG_NKEYS && w < n; i++) {
		int r = snprintf(buf + w, n - w, "%s%s", i ? ", " : "", keys[i].name);
		if (r < 0)
			break;
		w += (size_t)r;
	}
	return buf;
}

static char **str_field(struct cfg *c, int k)
{
	return (char **)(void *)((char *)c + keys[k].off);
}

/* ---- parsing values ----------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || i + n > len || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
			return false;
		for (size_t j = 1; j < n; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		/* overlong 3/4-byte forms, surrogates, > U+10FFFF */
		if ((n == 3 && c == 0xe0 && s[i + 1] < 0xa0) || (n == 3 && c == 0xed && s[i + 1] >= 0xa0) ||
		    (n == 4 && c == 0xf0 && s[i + 1] < 0x90) || (n == 4 && c == 0xf4 && s[i + 1] >= 0x90))
			return false;
		i += n;
	}
	return true;
}

/* Every value must be printable one-line UTF-8 text: it ends up in URLs,
 * HTTP headers, log records and --print-config output. */
static int check_text(const char *s, size_t len, char *why, size_t whylen)
{
	if (len > CFG_MAX_VALUE)
		return seterr(why, whylen, "value too long (%zu bytes, at most %u)", len, CFG_MAX_VALUE);
	if (strlen(s) != len)
		return seterr(why, whylen, "value contains a NUL character");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return seterr(why, whylen, "value contains a control character");
	if (!utf8_valid((const unsigned char *)s, len))
		return seterr(why, whylen, "value is not valid UTF-8");
	return 0;
}

/* true/false, 1/0, yes/no, on/off in any case; the original's
 * literal_eval accepted only Python literals and crashed on "true". */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Plain decimal bytes, optionally followed (blanks allowed) by KiB, MiB
 * or GiB. No sign, no other suffix: "16M" is ambiguous (10^6 or 2^20?). */
static int parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *sfx; unsigned shift; } units[] = {
		{"", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30},
	};
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(p, units[i].sfx) != 0)
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -1;
		*out = v << units[i].shift;
		return 0;
	}
	return -1;
}

static int parse_typed(int k, const char *s, struct val *out, char *why, size_t whylen)
{
	const struct cfg_key_desc *d = &keys[k];
	char vb[80];

	if (d->type == CFG_T_BOOL) {
		if (parse_bool(s, &out->b) < 0)
			return seterr(why, whylen, "not a boolean: '%s' (use true/false, 1/0, yes/no or on/off)",
				shown(vb, sizeof vb, s, strlen(s)));
		return 0;
	}
	if (parse_size(s, &out->u) < 0)
		return seterr(why, whylen, "not a size: '%s' (use a number of bytes, optionally followed by KiB, MiB or GiB)",
			shown(vb, sizeof vb, s, strlen(s)));
	if (out->u < d->min || out->u > d->max)
		return seterr(why, whylen, "%" PRIu64 " bytes is out of range (%" PRIu64 " to %" PRIu64 ")",
			out->u, d->min, d->max);
	return 0;
}

/* Text of key k -> typed value; s[len] must be NUL. */
static int parse_value(int k, const char *s, size_t len, struct val *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	if (check_text(s, len, why, whylen) < 0)
		return -1;
	if (keys[k].type == CFG_T_STRING) {
		/* An empty secret is no secret (the original: getenv() or None). */
		out->s = (keys[k].secret && len == 0) ? NULL : s;
		return 0;
	}
	return parse_typed(k, s, out, why, whylen);
}

/* ---- storing values ----------------------------------------------------- */

static void free_str(struct cfg *c, int k)
{
	char **f = str_field(c, k);

	if (c->owned_[k])
		free(*f);
	*f = NULL;
	c->owned_[k] = false;
}

/* Store a parsed value; only a string copy can fail (ENOMEM). */
static int apply(struct cfg *c, int k, const struct val *v, enum cfg_source src, const char *env)
{
	void *field = (char *)c + keys[k].off;

	if (keys[k].type == CFG_T_STRING) {
		char *copy = NULL;
		if (v->s != NULL && (copy = strdup(v->s)) == NULL)
			return -1;
		free_str(c, k);
		*(char **)field = copy;
		c->owned_[k] = copy != NULL;
	} else if (keys[k].type == CFG_T_BOOL) {
		*(bool *)field = v->b;
	} else {
		*(uint64_t *)field = v->u;
	}
	c->src[k] = src;
	c->src_env[k] = env;
	return 0;
}

static int nomem(char *err, size_t errlen)
{
	return seterr(err, errlen, "configuration: out of memory");
}

/* ---- init / free -------------------------------------------------------- */

/* "$HOME/x" -> "<home>/x"; a missing or odd HOME gives the fallback. */
static void init_home_default(struct cfg *c, int k)
{
	const char *home = getenv("HOME");
	const char *rest = keys[k].def + strlen("$HOME");
	char *path = NULL;
	char why[8];

	if (home == NULL || home[0] != '/' ||
	    check_text(home, strlen(home), why, sizeof why) < 0 ||
	    strlen(home) + strlen(rest) > CFG_MAX_VALUE) {
		*str_field(c, k) = (char *)CFG_BRICK_FOLDER_FALLBACK;
		return;
	}
	/* "/" as HOME: avoid "//titanfe/bricks". */
	if (asprintf(&path, "%s%s", strcmp(home, "/") == 0 ? "" : home, rest) < 0) {
		c->nomem_ = true;
		*str_field(c, k) = (char *)CFG_BRICK_FOLDER_FALLBACK;
		return;
	}
	*str_field(c, k) = path;
	c->owned_[k] = true;
}

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	for (int k = 0; k < CFG_NKEYS; k++) {
		const struct cfg_key_desc *d = &keys[k];
		void *field = (char *)c + d->off;

		if (d->type == CFG_T_STRING && d->def != NULL && strncmp(d->def, "$HOME/", 6) == 0)
			init_home_default(c, k);
		else if (d->type == CFG_T_STRING)
			*(char **)field = (char *)d->def; /* static; owned_ stays false */
		else if (d->type == CFG_T_BOOL)
			*(bool *)field = d->def_num != 0;
		else
			*(uint64_t *)field = d->def_num;
		c->src[k] = CFG_SRC_DEFAULT;
	}
}

void cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (int k = 0; k < CFG_NKEYS; k++)
		if (keys[k].type == CFG_T_STRING)
			free_str(c, k);
	free(c->file);
	c->file = NULL;
}

/* ---- command line ------------------------------------------------------- */

int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen)
{
	char why[256], kb[80];
	struct val v;

	if (c->nomem_)
		return nomem(err, errlen);
	int k = cfg_key_find(key);
	if (k < 0)
		return seterr(err, errlen, "unknown configuration key '%s' (known keys: %s)",
			key ? shown(kb, sizeof kb, key, strlen(key)) : "(null)", known_keys(why, sizeof why));
	if (value == NULL)
		return seterr(err, errlen, "%s: no value given", keys[k].name);
	if (parse_value(k, value, strlen(value), &v, why, sizeof why) < 0)
		return seterr(err, errlen, "%s: %s", keys[k].name, why);
	if (apply(c, k, &v, CFG_SRC_CLI, NULL) < 0)
		return nomem(err, errlen);
	return 0;
}

/* ---- environment -------------------------------------------------------- */

/* One variable: 1 = set (parsed into v), 0 = unset, -1 = error. */
static int env_value(int k, const char *var, struct val *v, char *err, size_t errlen)
{
	const char *s = getenv(var);
	char why[256];

	if (s == NULL)
		return 0;
	/* An empty string is a value for plain strings (TITAN_KAFKA= turns
	 * Kafka off) but "unset" for booleans, sizes and the secret, as the
	 * original's `getenv(...) or default` had it. */
	if (*s == '\0' && (keys[k].type != CFG_T_STRING || keys[k].secret))
		return 0;
	if (parse_value(k, s, strlen(s), v, why, sizeof why) < 0)
		return seterr(err, errlen, "environment variable %s: %s", var, why);
	return 1;
}

/* Key k from its variable(s). Two booleans combine with OR; the variable
 * named in the source is the one that decided. */
static int env_key(int k, struct val *v, const char **var, char *err, size_t errlen)
{
	const char *names[2] = {keys[k].env, keys[k].env2};
	int found = 0;

	for (int i = 0; i < 2 && names[i] != NULL; i++) {
		struct val one;
		int r = env_value(k, names[i], &one, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (!found || (keys[k].type == CFG_T_BOOL && one.b && !v->b)) {
			*v = one;
			*var = names[i];
		}
		found = 1;
	}
	return found;
}

int cfg_load_env(struct cfg *c, char *err, size_t errlen)
{
	struct val vals[CFG_NKEYS];
	const char *vars[CFG_NKEYS];
	int found[CFG_NKEYS];

	memset(vals, 0, sizeof vals);
	if (c->nomem_)
		return nomem(err, errlen);
	for (int k = 0; k < CFG_NKEYS; k++) {
		vars[k] = NULL;
		found[k] = keys[k].env ? env_key(k, &vals[k], &vars[k], err, errlen) : 0;
		if (found[k] < 0)
			return -1;
	}
	for (int k = 0; k < CFG_NKEYS; k++)
		if (found[k] && apply(c, k, &vals[k], CFG_SRC_ENV, vars[k]) < 0)
			return nomem(err, errlen);
	return 0;
}

/* ---- YAML file ---------------------------------------------------------- */

/* Read the whole file, refusing more than CFG_MAX_FILE bytes. */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t cap = CFG_MAX_FILE + 1, n = 0;
	char *b;

	if (fd < 0)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	if ((b = malloc(cap)) == NULL) {
		close(fd);
		return nomem(err, errlen);
	}
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(b);
			return seterr(err, errlen, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > CFG_MAX_FILE) {
		free(b);
		return seterr(err, errlen, "%s: file too large (more than %u bytes)", path, CFG_MAX_FILE);
	}
	*buf = b;
	*len = n;
	return 0;
}

/* libyaml's reader errors carry a byte offset, not a mark. */
static void offset_to_mark(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int yaml_error(const yaml_parser_t *p, const char *path, const char *buf, size_t len,
	char *err, size_t errlen)
{
	size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return nomem(err, errlen);
	if (p->error == YAML_READER_ERROR)
		offset_to_mark(buf, len, p->problem_offset, &line, &col);
	if (p->context != NULL)
		return seterr(err, errlen, "%s:%zu:%zu: %s (%s at line %zu, column %zu)", path, line, col,
			problem, p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	return seterr(err, errlen, "%s:%zu:%zu: %s", path, line, col, problem);
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	const char *s = (const char *)n->data.scalar.value;

	if (n->tag != NULL && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp(s, nulls[i]) == 0)
			return true;
	return false;
}

static const char *node_kind(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

static const char *type_name(enum cfg_type t)
{
	return t == CFG_T_BOOL ? "a boolean" : t == CFG_T_SIZE ? "a size" : "a string";
}

/* State of one file load: the parsed values wait here until all are good. */
struct file_load {
	const char *path;
	yaml_document_t *doc;
	struct val vals[CFG_NKEYS];
	const yaml_node_t *seen[CFG_NKEYS]; /* key node, for duplicates */
	const char *seen_as[CFG_NKEYS];
};

#define MARK(n) (n)->start_mark.line + 1, (n)->start_mark.column + 1

/* Which key a mapping key node names, or -1 with err set. */
static int file_key(struct file_load *fl, const yaml_node_t *kn, char *err, size_t errlen)
{
	char kb[80], list[256];

	if (kn->type != YAML_SCALAR_NODE)
		return seterr(err, errlen, "%s:%zu:%zu: a key must be a plain name, not %s",
			fl->path, MARK(kn), node_kind(kn));
	const char *name = (const char *)kn->data.scalar.value;
	size_t nlen = kn->data.scalar.length;
	if ((kn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(name, "<<") == 0) ||
	    (kn->tag != NULL && strcmp((const char *)kn->tag, "tag:yaml.org,2002:merge") == 0))
		return seterr(err, errlen, "%s:%zu:%zu: merge keys (<<) are not supported; write the keys out",
			fl->path, MARK(kn));
	int k = strlen(name) == nlen ? cfg_key_find(name) : -1;
	if (k < 0)
		return seterr(err, errlen, "%s:%zu:%zu: unknown key '%s' (known keys: %s)", fl->path, MARK(kn),
			shown(kb, sizeof kb, name, nlen), known_keys(list, sizeof list));
	if (fl->seen[k] != NULL)
		return seterr(err, errlen, "%s:%zu:%zu: key %s given twice (first as %s at line %zu)",
			fl->path, MARK(kn), keys[k].name, fl->seen_as[k], fl->seen[k]->start_mark.line + 1);
	fl->seen[k] = kn;
	fl->seen_as[k] = keys[k].name;
	if (strcmp(name, keys[k].name) != 0)
		fl->seen_as[k] = keys[k].alias;
	return k;
}

/* One "key: value" pair -> fl->vals[*kout] (not applied yet). Returns 1
 * when the pair sets a value, 0 for a null value, -1 on error. */
static int file_pair(struct file_load *fl, const yaml_node_pair_t *pair, int *kout,
	char *err, size_t errlen)
{
	const yaml_node_t *kn = yaml_document_get_node(fl->doc, pair->key);
	const yaml_node_t *vn = yaml_document_get_node(fl->doc, pair->value);
	char why[256];

	if (kn == NULL || vn == NULL)
		return seterr(err, errlen, "%s: broken YAML document", fl->path);
	int k = file_key(fl, kn, err, errlen);
	if (k < 0)
		return -1;
	*kout = k;
	if (vn->type != YAML_SCALAR_NODE)
		return seterr(err, errlen, "%s:%zu:%zu: %s must be %s, not %s", fl->path, MARK(vn),
			keys[k].name, type_name(keys[k].type), node_kind(vn));
	if (is_null(vn))
		return 0;
	if (parse_value(k, (const char *)vn->data.scalar.value, vn->data.scalar.length,
			&fl->vals[k], why, sizeof why) < 0)
		return seterr(err, errlen, "%s:%zu:%zu: %s: %s", fl->path, MARK(vn), keys[k].name, why);
	return 1;
}

/* Walk the root mapping, then apply what it set. */
static int file_apply(struct cfg *c, struct file_load *fl, char *err, size_t errlen)
{
	const yaml_node_t *root = yaml_document_get_root_node(fl->doc);
	bool set[CFG_NKEYS] = {false};

	if (root == NULL || (root->type == YAML_SCALAR_NODE && is_null(root)))
		return 0; /* empty file or a lone null: no keys */
	if (root->type != YAML_MAPPING_NODE)
		return seterr(err, errlen, "%s:%zu:%zu: the top level must be a mapping of keys, not %s",
			fl->path, MARK(root), node_kind(root));
	for (const yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		int k = -1, r = file_pair(fl, p, &k, err, errlen);
		if (r < 0)
			return -1;
		if (r > 0)
			set[k] = true;
	}
	for (int k = 0; k < CFG_NKEYS; k++)
		if (set[k] && apply(c, k, &fl->vals[k], CFG_SRC_FILE, NULL) < 0)
			return nomem(err, errlen);
	return 0;
}

/* A second document in the file is almost always a mistake ("---" pasted
 * twice); refuse it rather than silently ignoring half the file. */
static int check_single_doc(yaml_parser_t *p, const char *path, const char *buf, size_t len,
	char *err, size_t errlen)
{
	yaml_document_t more;

	if (!yaml_parser_load(p, &more))
		return yaml_error(p, path, buf, len, err, errlen);
	const yaml_node_t *root = yaml_document_get_root_node(&more);
	int r = 0;
	if (root != NULL)
		r = seterr(err, errlen, "%s:%zu:%zu: only one YAML document is allowed", path, MARK(root));
	yaml_document_delete(&more);
	return r;
}

static int parse_and_apply(struct cfg *c, const char *path, const char *buf, size_t len,
	char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct file_load fl = {.path = path, .doc = &doc};
	int r;

	if (!yaml_parser_initialize(&parser))
		return nomem(err, errlen);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = yaml_error(&parser, path, buf, len, err, errlen);
		yaml_parser_delete(&parser);
		return r;
	}
	r = check_single_doc(&parser, path, buf, len, err, errlen);
	if (r == 0)
		r = file_apply(c, &fl, err, errlen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL, *copy;
	size_t len = 0;

	if (c->nomem_)
		return nomem(err, errlen);
	if (read_file(path, &buf, &len, err, errlen) < 0)
		return -1;
	if ((copy = strdup(path)) == NULL) {
		free(buf);
		return nomem(err, errlen);
	}
	int r = parse_and_apply(c, path, buf, len, err, errlen);
	free(buf);
	if (r < 0) {
		free(copy);
		return r;
	}
	free(c->file);
	c->file = copy;
	return 0;
}

const char *cfg_default_path(void)
{
	const char *p = getenv(CFG_PATH_ENV);

	return (p != NULL && *p != '\0') ? p : CFG_DEFAULT_PATH;
}

int cfg_load_default_or(struct cfg *c, const char *explicit_path, char *err, size_t errlen)
{
	if (explicit_path != NULL)
		return cfg_load_file(c, explicit_path, err, errlen);
	const char *path = cfg_default_path();
	const char *env = getenv(CFG_PATH_ENV);
	/* $TITAN_CONFIG names a file as -c does: missing is an error. Only a
	 * missing built-in default is skipped; an unreadable one is a problem
	 * the operator must hear about. */
	if (env && *env)
		return cfg_load_file(c, path, err, errlen);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return c->nomem_ ? nomem(err, errlen) : 0;
	return cfg_load_file(c, path, err, errlen);
}

int cfg_load(struct cfg *c, const char *explicit_path, char *err, size_t errlen)
{
	if (cfg_load_default_or(c, explicit_path, err, errlen) < 0)
		return -1;
	return cfg_load_env(c, err, errlen);
}

/* ---- printing ----------------------------------------------------------- */

/* A YAML double-quoted scalar; values are checked UTF-8 without control
 * characters, so only '"' and '\' need escaping — the rest is defence. */
static int print_quoted(FILE *out, const char *s)
{
	int w = 2;

	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			w += fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			w += fprintf(out, "\\x%02x", ch);
		else
			w += fputc(ch, out) == EOF ? 0 : 1;
	}
	fputc('"', out);
	return w;
}

/* Sizes in the largest exact binary unit: "16MiB" reads back the same. */
static int print_size(FILE *out, uint64_t v)
{
	static const char *const sfx[] = {"GiB", "MiB", "KiB"};

	for (int i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * (unsigned)i;
		if (v != 0 && v % (UINT64_C(1) << shift) == 0)
			return fprintf(out, "%" PRIu64 "%s", v >> shift, sfx[i]);
	}
	return fprintf(out, "%" PRIu64, v);
}

static int print_value(const struct cfg *c, int k, FILE *out)
{
	const void *field = (const char *)c + keys[k].off;

	if (keys[k].type == CFG_T_BOOL)
		return fprintf(out, "%s", *(const bool *)field ? "true" : "false");
	if (keys[k].type == CFG_T_SIZE)
		return print_size(out, *(const uint64_t *)field);
	const char *s = *(char *const *)field;
	if (s == NULL)
		return fprintf(out, "~");
	return keys[k].secret ? fprintf(out, "\"***\"") : print_quoted(out, s);
}

/* The file name in a comment: one line whatever the path holds. */
static void print_comment_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, out);
}

void cfg_print(const struct cfg *c, FILE *out)
{
	fprintf(out, "# titan configuration, effective values; see titan-config(5)\n# file: ");
	print_comment_text(out, c->file ? c->file : "none");
	fputc('\n', out);
	for (int k = 0; k < CFG_NKEYS; k++) {
		int w = fprintf(out, "%s: ", keys[k].name);
		w += print_value(c, k, out);
		fprintf(out, "%*s# from %s", w < 40 ? 40 - w : 1, "", cfg_source_name(c->src[k]));
		if (c->src[k] == CFG_SRC_ENV && c->src_env[k] != NULL)
			fprintf(out, " %s", c->src_env[k]);
		fputc('\n', out);
	}
}
