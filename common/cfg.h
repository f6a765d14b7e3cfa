/* cfg.h — the titan configuration: titanfe's keys, from a YAML file, the
 * environment and the command line. User documentation: titan-config(5).
 *
 * Every key is described once, in a table (cfg_key_desc); loading,
 * checking, printing and the documentation listing all walk that table,
 * so a new key is one table row plus one struct field.
 *
 * Precedence, lowest first: built-in defaults < YAML file < environment
 * < command line. A program does:
 *
 *     struct cfg c;
 *     char err[512];
 *     cfg_init(&c);
 *     if (cfg_load(&c, opt_config, err, sizeof err) < 0)   // file + env
 *         { log_error("%s", err); exit(78); }
 *     if (opt_ip != NULL)                                  // only if given!
 *         if (cfg_set(&c, "IP", opt_ip, err, sizeof err) < 0) ...
 *     ...use c.gridmanager_address, c.max_frame_size...
 *     cfg_free(&c);
 *
 * A command-line option is applied only when the user gave it: an option
 * default never overrides the file (the original's -brick_folder did).
 *
 * Which file: with -c PATH (explicit_path) that file, and a missing file
 * is an error. Without -c, "$TITAN_CONFIG" if set and non-empty (missing
 * is an error too: the operator named it), else /etc/titan/titan.yaml —
 * loaded only if it exists; a missing default file is not an error
 * (c.file stays NULL, the program runs on defaults).
 *
 * File rules (strict, unlike the original which printed and went on):
 * the top level is a mapping (an empty file or a lone null is "no keys");
 * each key is a YAML name (Kafka) or the original's attribute name
 * (kafka_bootstrap_servers), case-sensitive; an unknown key, a key given
 * twice (also as name and alias), a merge key "<<", a mapping or list
 * where a scalar is expected, a bad boolean or size, a value longer than
 * CFG_MAX_VALUE, a value with control characters or NUL, and a file
 * larger than CFG_MAX_FILE are errors "path:line:column: what" (1-based).
 * A null value (Kafka: ~, or nothing after the colon) leaves the key as it
 * was. A file with an error changes nothing.
 *
 * Environment: every key has a variable (TITAN_KAFKA, ...). A string
 * variable set to "" sets the empty string (TITAN_KAFKA= turns Kafka off);
 * a boolean or size variable set to "" counts as unset. MetricsDisabled is
 * true when TITAN_METRICS_DISABLED or TITANFE_WITHOUT_KAFKA is true;
 * booleans are true/false, 1/0, yes/no, on/off in any case, anything else
 * is an error naming the variable. An empty SecretKey means "no key", as
 * in the original (`getenv(...) or None`): "" in the file or on the
 * command line unsets it, an empty TITAN_SECRET_KEY is ignored.
 *
 * All functions return 0 on success and a negative value on error with a
 * one-line message in err (errlen bytes, may be 0); none prints or exits.
 * On an error the struct keeps its previous values.
 */
#ifndef TITAN_CFG_H
#define TITAN_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "titan_limits.h"

#define CFG_DEFAULT_PATH "/etc/titan/titan.yaml"
#define CFG_PATH_ENV "TITAN_CONFIG"

/* Index of each key in the table and in struct cfg's src arrays. */
enum cfg_key {
	CFG_KAFKA,
	CFG_KAFKA_LOG_TOPIC,
	CFG_GRID_MANAGER,
	CFG_FLOW_MANAGER,
	CFG_PACKAGE_MANAGER,
	CFG_REPOSITORY_SERVICE,
	CFG_SECRET_KEY,
	CFG_ENDPOINT_PROVIDER,
	CFG_IP,
	CFG_BRICK_FOLDER,
	CFG_METRICS_DISABLED,
	CFG_MAX_FRAME_SIZE,
	CFG_NKEYS
};

enum cfg_type {
	CFG_T_STRING, /* char *, NULL only for an unset secret */
	CFG_T_BOOL,   /* bool */
	CFG_T_SIZE,   /* uint64_t bytes: "123", "64KiB", "16MiB", "1GiB" */
};

enum cfg_source {
	CFG_SRC_DEFAULT,
	CFG_SRC_FILE,
	CFG_SRC_ENV,
	CFG_SRC_CLI,
};

struct cfg_key_desc {
	const char *name;  /* YAML key, e.g. "GridManager" */
	const char *alias; /* titanfe attribute, e.g. "gridmanager_address"; NULL = none */
	const char *env;   /* environment variable; NULL = none */
	const char *env2;  /* a second variable (MetricsDisabled); NULL = none */
	enum cfg_type type;
	const char *def;   /* CFG_T_STRING default; NULL = unset; "$HOME/..." expanded */
	uint64_t def_num;  /* CFG_T_BOOL (0/1) and CFG_T_SIZE default */
	bool secret;       /* never printed */
	uint64_t min, max; /* CFG_T_SIZE bounds */
	const char *doc;   /* one line */
	size_t off;        /* offset of the field in struct cfg */
};

struct cfg {
	char *kafka;                  /* Kafka: bootstrap servers, "" = no Kafka */
	char *kafka_log_topic;        /* KafkaLogTopic */
	char *gridmanager_address;    /* GridManager base URL */
	char *flowmanager_address;    /* FlowManager base URL */
	char *packagemanager_address; /* PackageManager base URL */
	char *reposervice_address;    /* RepositoryService base URL */
	char *secret_key;             /* SecretKey, NULL = unset */
	char *endpoint_provider;      /* EndpointProvider */
	char *ip;                     /* IP, "" = the program decides */
	char *brick_folder;           /* BrickFolder */
	bool metrics_disabled;        /* MetricsDisabled */
	uint64_t max_frame_size;      /* MaxFrameSize, bytes */

	/* Where each value came from, for --print-config. */
	enum cfg_source src[CFG_NKEYS];
	const char *src_env[CFG_NKEYS]; /* the variable, when src is ENV */
	char *file;                     /* last file loaded, NULL = none */

	/* Internal: which strings are heap copies (defaults are not), and a
	 * sticky allocation failure of cfg_init reported by the loaders. */
	bool owned_[CFG_NKEYS];
	bool nomem_;
};

/* The key table, in enum cfg_key order. */
const struct cfg_key_desc *cfg_keys(size_t *count);
/* Index of a key by YAML name or alias (case-sensitive), or -1. */
int cfg_key_find(const char *name);
/* "default", "file", "env", "command line". */
const char *cfg_source_name(enum cfg_source src);

/* Defaults. Never fails visibly: an allocation failure here is reported
 * by the next cfg_load* / cfg_set call. */
void cfg_init(struct cfg *c);
void cfg_free(struct cfg *c);

/* Apply one YAML file (rules above). A missing file is an error. */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);

/* Apply the environment (rules above). */
int cfg_load_env(struct cfg *c, char *err, size_t errlen);

/* Apply one command-line value; key is a YAML name or alias. Call it only
 * for options the user actually gave. */
int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen);

/* "$TITAN_CONFIG" if set and non-empty, else CFG_DEFAULT_PATH. */
const char *cfg_default_path(void);

/* explicit_path != NULL: cfg_load_file(explicit_path), missing = error.
 * Otherwise cfg_default_path(), skipped when it does not exist (ENOENT);
 * any other problem with it (unreadable, bad YAML) is an error. */
int cfg_load_default_or(struct cfg *c, const char *explicit_path, char *err, size_t errlen);

/* cfg_load_default_or, then cfg_load_env: everything below the command line. */
int cfg_load(struct cfg *c, const char *explicit_path, char *err, size_t errlen);

/* The effective configuration as a YAML document that cfg_load_file reads
 * back to the same values: one "Key: value  # from <source>" line per key,
 * strings double-quoted, secrets shown as "***" (or ~ when unset). */
void cfg_print(const struct cfg *c, FILE *out);

#endif
