/* test_cfg.c — configuration: defaults, file, environment, command line,
 * strict file errors with positions, printing and reloading. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"

/* ---- environment and temporary files ------------------------------------ */

/* Every variable the module reads; saved once, cleared before each test
 * and restored after it, so tests neither see nor leak settings. */
static const char *const vars[] = {
	"TITAN_KAFKA", "TITAN_KAFKA_LOG_TOPIC", "TITAN_GRID_MANAGER", "TITAN_FLOW_MANAGER",
	"TITAN_PACKAGE_MANAGER", "TITAN_REPOSITORY_SERVICE", "TITAN_SECRET_KEY",
	"TITAN_ENDPOINT_PROVIDER", "TITAN_IP", "TITAN_BRICK_FOLDER", "TITAN_METRICS_DISABLED",
	"TITANFE_WITHOUT_KAFKA", "TITAN_MAX_FRAME_SIZE", "TITAN_CONFIG", "HOME",
};
#define NVARS (sizeof vars / sizeof vars[0])
static char *saved[NVARS];
static char tmpdir[] = "/tmp/test_cfg.XXXXXX";
static int ntmp;

static int group_setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVARS; i++) {
		const char *v = getenv(vars[i]);
		saved[i] = v ? strdup(v) : NULL;
	}
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char p[256];
	(void)state;
	for (size_t i = 0; i < NVARS; i++)
		free(saved[i]);
	for (int i = 0; i < ntmp; i++) {
		snprintf(p, sizeof p, "%s/f%d.yaml", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVARS; i++)
		if (strcmp(vars[i], "HOME") != 0)
			unsetenv(vars[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVARS; i++) {
		if (saved[i])
			setenv(vars[i], saved[i], 1);
		else
			unsetenv(vars[i]);
	}
	return 0;
}

/* Write len bytes to a new file in tmpdir; returns its path (static). */
static const char *write_tmp_n(const char *text, size_t len)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/f%d.yaml", tmpdir, ntmp++);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *write_tmp(const char *text)
{
	return write_tmp_n(text, strlen(text));
}

/* Load text as a file into a fresh cfg; returns cfg_load_file's result. */
static int load_text(struct cfg *c, const char *text, char *err, size_t errlen, const char **pathp)
{
	const char *path = write_tmp(text);
	if (pathp)
		*pathp = path;
	cfg_init(c);
	return cfg_load_file(c, path, err, errlen);
}

/* err must be "<path>:<where>: ..." exactly up to and including where. */
static void assert_err_at(const char *err, const char *path, const char *where)
{
	char want[512];
	snprintf(want, sizeof want, "%s:%s: ", path, where);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, want);
}

static void assert_contains(const char *s, const char *part)
{
	if (strstr(s, part) == NULL)
		fail_msg("'%s' does not contain '%s'", s, part);
}

/* A file load that must fail; returns the error for further checks. */
static const char *load_bad(const char *text, const char **pathp)
{
	static char err[1024];
	struct cfg c;
	err[0] = '\0';
	assert_true(load_text(&c, text, err, sizeof err, pathp) < 0);
	assert_true(err[0] != '\0');
	cfg_free(&c);
	return err;
}

static void assert_defaults(const struct cfg *c, bool check_brick_folder)
{
	assert_string_equal(c->kafka, "");
	assert_string_equal(c->kafka_log_topic, "titan.logs");
	assert_string_equal(c->gridmanager_address, "http://localhost:8080/gridmanager");
	assert_string_equal(c->flowmanager_address, "http://localhost:9002/flowmanager");
	assert_string_equal(c->packagemanager_address, "http://localhost:8087/packagemanager");
	assert_string_equal(c->reposervice_address, "http://localhost:8085/object");
	assert_null(c->secret_key);
	assert_string_equal(c->endpoint_provider, "tcp://127.0.0.1:9021");
	assert_string_equal(c->ip, "");
	if (check_brick_folder)
		assert_string_equal(c->brick_folder, "/home/tester/titanfe/bricks");
	assert_false(c->metrics_disabled);
	assert_int_equal(c->max_frame_size, FRAME_MAX_DEFAULT);
}

/* ---- defaults and the table ----------------------------------------------- */

static void test_defaults(void **state)
{
	struct cfg c;
	(void)state;

	setenv("HOME", "/home/tester", 1);
	cfg_init(&c);
	assert_defaults(&c, true);
	for (int k = 0; k < CFG_NKEYS; k++)
		assert_int_equal(c.src[k], CFG_SRC_DEFAULT);
	assert_null(c.file);
	cfg_free(&c);

	unsetenv("HOME");
	cfg_init(&c);
	assert_string_equal(c.brick_folder, "/var/lib/titan/bricks");
	cfg_free(&c);
	setenv("HOME", "relative", 1); /* not a usable home */
	cfg_init(&c);
	assert_string_equal(c.brick_folder, "/var/lib/titan/bricks");
	cfg_free(&c);
	setenv("HOME", "/", 1);
	cfg_init(&c);
	assert_string_equal(c.brick_folder, "/titanfe/bricks");
	cfg_free(&c);
}

static void test_table(void **state)
{
	size_t n;
	const struct cfg_key_desc *k = cfg_keys(&n);
	(void)state;

	assert_int_equal(n, CFG_NKEYS);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(k[i].name);
		assert_non_null(k[i].doc);
		assert_int_equal(cfg_key_find(k[i].name), (int)i);
		if (k[i].alias)
			assert_int_equal(cfg_key_find(k[i].alias), (int)i);
	}
	assert_int_equal(cfg_key_find("gridmanager_address"), CFG_GRID_MANAGER);
	assert_int_equal(cfg_key_find("gridmanager"), -1); /* case-sensitive */
	assert_int_equal(cfg_key_find("kafka"), -1);
	assert_int_equal(cfg_key_find(NULL), -1);
	assert_string_equal(k[CFG_METRICS_DISABLED].env2, "TITANFE_WITHOUT_KAFKA");
	assert_true(k[CFG_SECRET_KEY].secret);
}

/* ---- file ----------------------------------------------------------------- */

static void test_file_values(void **state)
{
	struct cfg c;
	char err[512] = "";
	const char *path;
	(void)state;

	assert_int_equal(load_text(&c,
		"# comment\n"
		"Kafka: kafka1:9092,kafka2:9092\n"
		"KafkaLogTopic: my.logs\n"
		"GridManager: http://gm:8080/gridmanager\n"
		"FlowManager: 'http://fm:9002/flowmanager'\n"
		"PackageManager: \"http://pm:8087/packagemanager\"\n"
		"RepositoryService: http://repo:8085/object\n"
		"SecretKey: 0123456789abcdef\n"
		"EndpointProvider: tcp://ep:9021\n"
		"IP: 192.168.1.10\n"
		"BrickFolder: /srv/bricks\n"
		"MetricsDisabled: yes\n"
		"MaxFrameSize: 1MiB\n",
		err, sizeof err, &path), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.kafka, "kafka1:9092,kafka2:9092");
	assert_string_equal(c.kafka_log_topic, "my.logs");
	assert_string_equal(c.gridmanager_address, "http://gm:8080/gridmanager");
	assert_string_equal(c.flowmanager_address, "http://fm:9002/flowmanager");
	assert_string_equal(c.packagemanager_address, "http://pm:8087/packagemanager");
	assert_string_equal(c.reposervice_address, "http://repo:8085/object");
	assert_string_equal(c.secret_key, "0123456789abcdef");
	assert_string_equal(c.endpoint_provider, "tcp://ep:9021");
	assert_string_equal(c.ip, "192.168.1.10");
	assert_string_equal(c.brick_folder, "/srv/bricks");
	assert_true(c.metrics_disabled);
	assert_int_equal(c.max_frame_size, 1u << 20);
	for (int k = 0; k < CFG_NKEYS; k++)
		assert_int_equal(c.src[k], CFG_SRC_FILE);
	assert_string_equal(c.file, path);
	cfg_free(&c);
}

static void test_alias_names(void **state)
{
	struct cfg c;
	char err[512] = "";
	(void)state;

	assert_int_equal(load_text(&c, "gridmanager_address: http://alias/gm\n"
		"kafka_bootstrap_servers: k:1\nmax_frame_size: 4096\nsecret_key: s\n", err, sizeof err, NULL), 0);
	assert_string_equal(c.gridmanager_address, "http://alias/gm");
	assert_string_equal(c.kafka, "k:1");
	assert_int_equal(c.max_frame_size, 4096);
	assert_string_equal(c.secret_key, "s");
	assert_int_equal(c.src[CFG_GRID_MANAGER], CFG_SRC_FILE);
	cfg_free(&c);

	assert_int_equal(load_text(&c, "GridManager: http://name/gm\n", err, sizeof err, NULL), 0);
	assert_string_equal(c.gridmanager_address, "http://name/gm");
	cfg_free(&c);

	/* Both spellings of one key: refused, naming both. */
	const char *path;
	const char *e = load_bad("GridManager: a\ngridmanager_address: b\n", &path);
	assert_err_at(e, path, "2:1");
	assert_contains(e, "GridManager given twice (first as GridManager at line 1)");
	e = load_bad("gridmanager_address: a\nGridManager: b\n", &path);
	assert_contains(e, "first as gridmanager_address at line 1");
}

static void test_null_values(void **state)
{
	struct cfg c;
	char err[512] = "";
	(void)state;

	cfg_init(&c);
	assert_int_equal(cfg_load_file(&c, write_tmp("Kafka: k:9092\nSecretKey: s3\n"), err, sizeof err), 0);
	/* A null value leaves the key as it was (and where it came from). */
	assert_int_equal(cfg_load_file(&c, write_tmp("Kafka: ~\nSecretKey:\nIP: null\n"
		"MaxFrameSize: NULL\nMetricsDisabled: ~\n"), err, sizeof err), 0);
	assert_string_equal(c.kafka, "k:9092");
	assert_string_equal(c.secret_key, "s3");
	assert_string_equal(c.ip, "");
	assert_int_equal(c.src[CFG_KAFKA], CFG_SRC_FILE);
	assert_int_equal(c.src[CFG_IP], CFG_SRC_DEFAULT);
	/* Quoted "~" is a string; "" empties a string and unsets the secret. */
	assert_int_equal(cfg_load_file(&c, write_tmp("Kafka: \"~\"\nSecretKey: \"\"\nIP: ''\n"), err, sizeof err), 0);
	assert_string_equal(c.kafka, "~");
	assert_null(c.secret_key);
	assert_int_equal(c.src[CFG_SECRET_KEY], CFG_SRC_FILE);
	cfg_free(&c);
}

static void test_empty_files(void **state)
{
	static const char *const texts[] = {"", "\n\n", "# only a comment\n", "~\n", "---\n", "--- ~\n...\n", "null"};
	(void)state;

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct cfg c;
		char err[512] = "";
		setenv("HOME", "/home/tester", 1);
		if (load_text(&c, texts[i], err, sizeof err, NULL) != 0)
			fail_msg("text %zu: %s", i, err);
		assert_defaults(&c, true);
		assert_non_null(c.file);
		cfg_free(&c);
	}
}

static void test_malformed_yaml(void **state)
{
	const char *path, *e;
	(void)state;

	e = load_bad("Kafka: a\nGridManager: [unclosed\nIP: x\n", &path);
	assert_err_at(e, path, "3:3");
	assert_contains(e, "did not find expected ',' or ']'");
	assert_contains(e, "while parsing a flow sequence at line 2, column 14");

	e = load_bad("Kafka: a\n  bad: indent\n", &path);
	assert_err_at(e, path, "2:6");
	assert_contains(e, "mapping values are not allowed");

	e = load_bad("Kafka: \"unterminated\n", &path);
	assert_err_at(e, path, "2:1");

	e = load_bad("Kafka: ok\nIP: \xff\n", &path); /* not UTF-8: libyaml's reader */
	assert_err_at(e, path, "2:5");
	assert_contains(e, "invalid");

	e = load_bad("Kafka: *nowhere\n", &path);
	assert_err_at(e, path, "1:8");
	assert_contains(e, "undefined alias");

	e = load_bad("Kafka: a\n---\nKafka: b\n", &path);
	assert_err_at(e, path, "3:1");
	assert_contains(e, "only one YAML document");
}

static void test_unknown_key(void **state)
{
	struct cfg c;
	char err[1024];
	const char *path;
	(void)state;

	/* Nothing is applied when any key is bad. */
	assert_true(load_text(&c, "GridManager: http://applied-not\nKafak: x\n", err, sizeof err, &path) < 0);
	assert_string_equal(c.gridmanager_address, "http://localhost:8080/gridmanager");
	assert_null(c.file);
	cfg_free(&c);
	char want[1024];
	snprintf(want, sizeof want, "%s:2:1: unknown key 'Kafak' (known keys: Kafka, KafkaLogTopic, "
		"GridManager, FlowManager, PackageManager, RepositoryService, SecretKey, EndpointProvider, "
		"IP, BrickFolder, MetricsDisabled, MaxFrameSize)", path);
	assert_string_equal(err, want);

	const char *e = load_bad("gridmanager: x\n", &path); /* case-sensitive */
	assert_err_at(e, path, "1:1");
	assert_contains(e, "unknown key 'gridmanager'");
	e = load_bad("\"bad\\nkey\": x\n", &path); /* control characters shown escaped */
	assert_contains(e, "unknown key 'bad\\x0akey'");
	e = load_bad("? [a, b]\n: x\n", &path);
	assert_err_at(e, path, "1:3");
	assert_contains(e, "a key must be a plain name, not a list");
}

static void test_duplicate_key(void **state)
{
	const char *path;
	const char *e = load_bad("Kafka: a\nIP: x\nKafka: b\n", &path);
	(void)state;

	assert_err_at(e, path, "3:1");
	assert_contains(e, "key Kafka given twice (first as Kafka at line 1)");
	/* Twice with a null value is still twice. */
	e = load_bad("Kafka:\nKafka: b\n", &path);
	assert_err_at(e, path, "2:1");
}

static void test_wrong_types(void **state)
{
	const char *path, *e;
	(void)state;

	e = load_bad("Kafka: [a, b]\n", &path);
	assert_string_equal(e + strlen(path), ":1:8: Kafka must be a string, not a list");
	e = load_bad("IP: x\nGridManager:\n  url: http://x\n", &path);
	assert_err_at(e, path, "3:3");
	assert_contains(e, "GridManager must be a string, not a mapping");
	e = load_bad("MetricsDisabled:\n  - true\n", &path);
	assert_err_at(e, path, "2:3");
	assert_contains(e, "MetricsDisabled must be a boolean, not a list");
	e = load_bad("MetricsDisabled: maybe\n", &path);
	assert_err_at(e, path, "1:18");
	assert_contains(e, "MetricsDisabled: not a boolean: 'maybe'");
	e = load_bad("MaxFrameSize: {a: 1}\n", &path);
	assert_contains(e, "MaxFrameSize must be a size, not a mapping");
	e = load_bad("MaxFrameSize: 16 MB\n", &path);
	assert_err_at(e, path, "1:15");
	assert_contains(e, "not a size: '16 MB'");
	e = load_bad("- Kafka: a\n", &path);
	assert_err_at(e, path, "1:1");
	assert_contains(e, "top level must be a mapping of keys, not a list");
	e = load_bad("just a string\n", &path);
	assert_contains(e, "top level must be a mapping of keys, not a scalar");
}

static void test_merge_key(void **state)
{
	const char *path;
	const char *e = load_bad("<<: {Kafka: x}\n", &path);
	(void)state;

	assert_err_at(e, path, "1:1");
	assert_contains(e, "merge keys (<<) are not supported");
	e = load_bad("Kafka: a\n<<: {IP: x}\n", &path);
	assert_err_at(e, path, "2:1");
	e = load_bad("!!merge x: {IP: x}\n", &path);
	assert_contains(e, "merge keys");
}

static void test_bad_values_in_file(void **state)
{
	const char *path, *e;
	(void)state;

	e = load_bad("Kafka: \"a\\nb\"\n", &path);
	assert_err_at(e, path, "1:8");
	assert_contains(e, "Kafka: value contains a control character");
	e = load_bad("IP: \"a\\0b\"\n", &path);
	assert_contains(e, "IP: value contains a NUL character");
	e = load_bad("IP: \"\\t\"\n", &path);
	assert_contains(e, "control character");
}

static void test_size_limits(void **state)
{
	struct cfg c;
	char err[512];
	size_t max = CFG_MAX_FILE, vmax = CFG_MAX_VALUE;
	char *big = malloc(max + 2), *line = malloc(vmax + 32);
	const char *path;
	(void)state;

	assert_non_null(big);
	assert_non_null(line);
	/* A file of exactly CFG_MAX_FILE bytes (comments) loads; one more is refused. */
	memset(big, '#', max + 1);
	for (size_t i = 99; i < max + 1; i += 100)
		big[i] = '\n';
	big[max - 1] = '\n';
	cfg_init(&c);
	assert_int_equal(cfg_load_file(&c, write_tmp_n(big, max), err, sizeof err), 0);
	path = write_tmp_n(big, max + 1);
	assert_true(cfg_load_file(&c, path, err, sizeof err) < 0);
	assert_contains(err, path);
	assert_contains(err, "file too large");

	/* A value of exactly CFG_MAX_VALUE bytes is accepted, one more is not. */
	int n = snprintf(line, vmax + 32, "Kafka: ");
	memset(line + n, 'k', vmax);
	strcpy(line + n + vmax, "\n");
	assert_int_equal(cfg_load_file(&c, write_tmp(line), err, sizeof err), 0);
	assert_int_equal(strlen(c.kafka), vmax);
	strcpy(line + n + vmax, "k\n");
	path = write_tmp(line);
	assert_true(cfg_load_file(&c, path, err, sizeof err) < 0);
	assert_err_at(err, path, "1:8");
	assert_contains(err, "value too long");
	assert_int_equal(strlen(c.kafka), vmax); /* unchanged */
	cfg_free(&c);
	free(big);
	free(line);
}

static void test_file_missing(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	cfg_init(&c);
	assert_true(cfg_load_file(&c, "/nonexistent/titan.yaml", err, sizeof err) < 0);
	assert_string_equal(err, "/nonexistent/titan.yaml: No such file or directory");
	assert_true(cfg_load_file(&c, tmpdir, err, sizeof err) < 0);
	assert_contains(err, "Is a directory");
	cfg_free(&c);
}

/* ---- environment ---------------------------------------------------------- */

static void test_env_overrides_file(void **state)
{
	struct cfg c;
	char err[512];
	const char *path = write_tmp("GridManager: http://file/gm\nKafka: file:9092\nIP: 10.0.0.1\n");
	(void)state;

	setenv("TITAN_GRID_MANAGER", "http://env/gm", 1);
	setenv("TITAN_KAFKA", "", 1); /* empty string: Kafka off */
	cfg_init(&c);
	assert_int_equal(cfg_load(&c, path, err, sizeof err), 0);
	assert_string_equal(c.gridmanager_address, "http://env/gm");
	assert_int_equal(c.src[CFG_GRID_MANAGER], CFG_SRC_ENV);
	assert_string_equal(c.src_env[CFG_GRID_MANAGER], "TITAN_GRID_MANAGER");
	assert_string_equal(c.kafka, "");
	assert_int_equal(c.src[CFG_KAFKA], CFG_SRC_ENV);
	assert_string_equal(c.ip, "10.0.0.1");
	assert_int_equal(c.src[CFG_IP], CFG_SRC_FILE);
	cfg_free(&c);
}

static void test_env_all_keys(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	setenv("TITAN_KAFKA_LOG_TOPIC", "t", 1);
	setenv("TITAN_FLOW_MANAGER", "f", 1);
	setenv("TITAN_PACKAGE_MANAGER", "p", 1);
	setenv("TITAN_REPOSITORY_SERVICE", "r", 1);
	setenv("TITAN_SECRET_KEY", "sekrit", 1);
	setenv("TITAN_ENDPOINT_PROVIDER", "e", 1);
	setenv("TITAN_IP", "1.2.3.4", 1);
	setenv("TITAN_BRICK_FOLDER", "/b", 1);
	setenv("TITAN_MAX_FRAME_SIZE", "64KiB", 1);
	cfg_init(&c);
	assert_int_equal(cfg_load_env(&c, err, sizeof err), 0);
	assert_string_equal(c.kafka_log_topic, "t");
	assert_string_equal(c.flowmanager_address, "f");
	assert_string_equal(c.packagemanager_address, "p");
	assert_string_equal(c.reposervice_address, "r");
	assert_string_equal(c.secret_key, "sekrit");
	assert_string_equal(c.endpoint_provider, "e");
	assert_string_equal(c.ip, "1.2.3.4");
	assert_string_equal(c.brick_folder, "/b");
	assert_int_equal(c.max_frame_size, 65536);
	assert_int_equal(c.src[CFG_MAX_FRAME_SIZE], CFG_SRC_ENV);
	assert_int_equal(c.src[CFG_KAFKA], CFG_SRC_DEFAULT);
	assert_int_equal(c.src[CFG_METRICS_DISABLED], CFG_SRC_DEFAULT);
	cfg_free(&c);
}

/* Empty booleans, sizes and secret count as unset: the file value stays. */
static void test_env_empty(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	setenv("TITAN_METRICS_DISABLED", "", 1);
	setenv("TITANFE_WITHOUT_KAFKA", "", 1);
	setenv("TITAN_MAX_FRAME_SIZE", "", 1);
	setenv("TITAN_SECRET_KEY", "", 1);
	cfg_init(&c);
	assert_int_equal(cfg_load(&c, write_tmp("MetricsDisabled: on\nMaxFrameSize: 100\nSecretKey: s\n"),
		err, sizeof err), 0);
	assert_true(c.metrics_disabled);
	assert_int_equal(c.max_frame_size, 100);
	assert_string_equal(c.secret_key, "s");
	assert_int_equal(c.src[CFG_METRICS_DISABLED], CFG_SRC_FILE);
	assert_int_equal(c.src[CFG_SECRET_KEY], CFG_SRC_FILE);
	cfg_free(&c);
}

static void test_env_booleans(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "True", "tRuE", "1", "yes", "YES", "Yes", "on", "ON", "On"};
	static const char *const no[] = {"false", "FALSE", "False", "0", "no", "NO", "No", "off", "OFF", "Off"};
	static const char *const names[] = {"TITAN_METRICS_DISABLED", "TITANFE_WITHOUT_KAFKA"};
	char err[512];
	(void)state;

	for (size_t v = 0; v < 2; v++) {
		for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
			struct cfg c;
			cfg_init(&c);
			setenv(names[v], yes[i], 1);
			if (cfg_load_env(&c, err, sizeof err) != 0)
				fail_msg("%s=%s: %s", names[v], yes[i], err);
			assert_true(c.metrics_disabled);
			assert_int_equal(c.src[CFG_METRICS_DISABLED], CFG_SRC_ENV);
			assert_string_equal(c.src_env[CFG_METRICS_DISABLED], names[v]);
			cfg_free(&c);
		}
		for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
			struct cfg c;
			cfg_init(&c);
			c.metrics_disabled = true; /* so "false" must actually be applied */
			setenv(names[v], no[i], 1);
			if (cfg_load_env(&c, err, sizeof err) != 0)
				fail_msg("%s=%s: %s", names[v], no[i], err);
			assert_false(c.metrics_disabled);
			cfg_free(&c);
		}
		unsetenv(names[v]);
	}
}

static void test_env_bad_boolean(void **state)
{
	static const char *const bad[] = {"maybe", "2", "tru", "yes please", " true", "T", "-1", "oui"};
	struct cfg c;
	char err[512];
	(void)state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cfg_init(&c);
		setenv("TITAN_METRICS_DISABLED", bad[i], 1);
		assert_true(cfg_load_env(&c, err, sizeof err) < 0);
		assert_contains(err, "environment variable TITAN_METRICS_DISABLED: not a boolean");
		assert_contains(err, "true/false, 1/0, yes/no or on/off");
		assert_false(c.metrics_disabled);
		cfg_free(&c);
	}
	unsetenv("TITAN_METRICS_DISABLED");
	setenv("TITANFE_WITHOUT_KAFKA", "True\n", 1);
	setenv("TITAN_GRID_MANAGER", "http://not/applied", 1);
	cfg_init(&c);
	assert_true(cfg_load_env(&c, err, sizeof err) < 0);
	assert_string_equal(err, "environment variable TITANFE_WITHOUT_KAFKA: value contains a control character");
	assert_string_equal(c.gridmanager_address, "http://localhost:8080/gridmanager");
	assert_int_equal(c.src[CFG_GRID_MANAGER], CFG_SRC_DEFAULT);
	cfg_free(&c);
}

/* Either variable true -> true; both false -> false over the file. */
static void test_env_two_flags(void **state)
{
	struct cfg c;
	char err[512];
	const char *path = write_tmp("MetricsDisabled: true\n");
	(void)state;

	setenv("TITAN_METRICS_DISABLED", "false", 1);
	setenv("TITANFE_WITHOUT_KAFKA", "TRUE", 1);
	cfg_init(&c);
	assert_int_equal(cfg_load_env(&c, err, sizeof err), 0);
	assert_true(c.metrics_disabled);
	assert_string_equal(c.src_env[CFG_METRICS_DISABLED], "TITANFE_WITHOUT_KAFKA");
	cfg_free(&c);

	setenv("TITANFE_WITHOUT_KAFKA", "0", 1);
	cfg_init(&c);
	assert_int_equal(cfg_load(&c, path, err, sizeof err), 0);
	assert_false(c.metrics_disabled);
	assert_int_equal(c.src[CFG_METRICS_DISABLED], CFG_SRC_ENV);
	assert_string_equal(c.src_env[CFG_METRICS_DISABLED], "TITAN_METRICS_DISABLED");
	cfg_free(&c);
}

/* ---- command line ----------------------------------------------------------- */

static void test_cli_overrides_env(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	setenv("TITAN_GRID_MANAGER", "http://env/gm", 1);
	setenv("TITAN_METRICS_DISABLED", "true", 1);
	cfg_init(&c);
	assert_int_equal(cfg_load(&c, write_tmp("GridManager: http://file/gm\n"), err, sizeof err), 0);
	assert_int_equal(cfg_set(&c, "GridManager", "http://cli/gm", err, sizeof err), 0);
	assert_string_equal(c.gridmanager_address, "http://cli/gm");
	assert_int_equal(c.src[CFG_GRID_MANAGER], CFG_SRC_CLI);
	assert_int_equal(cfg_set(&c, "MetricsDisabled", "off", err, sizeof err), 0);
	assert_false(c.metrics_disabled);
	assert_int_equal(cfg_set(&c, "max_frame_size", "2MiB", err, sizeof err), 0); /* alias */
	assert_int_equal(c.max_frame_size, 2u << 20);
	assert_int_equal(cfg_set(&c, "SecretKey", "", err, sizeof err), 0);
	assert_null(c.secret_key);
	assert_int_equal(c.src[CFG_SECRET_KEY], CFG_SRC_CLI);
	cfg_free(&c);
}

/* titanfe's -brick_folder default always beat the file. Ours: options the
 * user did not give are never passed to cfg_set, and cfg_set refuses a
 * missing value rather than applying something. */
static void test_unset_cli_keeps_file(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	cfg_init(&c);
	assert_int_equal(cfg_load(&c, write_tmp("BrickFolder: /srv/from-file\n"), err, sizeof err), 0);
	assert_string_equal(c.brick_folder, "/srv/from-file");
	assert_int_equal(c.src[CFG_BRICK_FOLDER], CFG_SRC_FILE);
	assert_true(cfg_set(&c, "BrickFolder", NULL, err, sizeof err) < 0);
	assert_string_equal(err, "BrickFolder: no value given");
	assert_string_equal(c.brick_folder, "/srv/from-file");
	assert_int_equal(c.src[CFG_BRICK_FOLDER], CFG_SRC_FILE);
	cfg_free(&c);
}

static void test_cli_errors(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	cfg_init(&c);
	assert_true(cfg_set(&c, "Gridmanager", "x", err, sizeof err) < 0);
	assert_contains(err, "unknown configuration key 'Gridmanager' (known keys: Kafka, ");
	assert_true(cfg_set(&c, "MetricsDisabled", "yep", err, sizeof err) < 0);
	assert_contains(err, "MetricsDisabled: not a boolean: 'yep'");
	assert_true(cfg_set(&c, "IP", "a\rb", err, sizeof err) < 0);
	assert_string_equal(err, "IP: value contains a control character");
	assert_true(cfg_set(&c, "IP", "\xc3\x28", err, sizeof err) < 0);
	assert_string_equal(err, "IP: value is not valid UTF-8");
	assert_int_equal(cfg_set(&c, "IP", "caf\xc3\xa9", err, sizeof err), 0);
	assert_string_equal(c.ip, "caf\xc3\xa9");
	/* A tiny or absent error buffer is fine. */
	assert_true(cfg_set(&c, "nope", "x", err, 4) < 0);
	assert_string_equal(err, "unk");
	assert_true(cfg_set(&c, "nope", "x", NULL, 0) < 0);
	cfg_free(&c);
}

/* ---- MaxFrameSize syntax and bounds ----------------------------------------- */

static void test_max_frame_size(void **state)
{
	static const struct { const char *text; uint64_t v; } good[] = {
		{"9", 9}, {"10", 10}, {"1073741824", 1073741824u}, {"1GiB", 1u << 30}, {"16MiB", 16u << 20},
		{"64KiB", 65536}, {"64 KiB", 65536}, {"0000016", 16}, {"1024MiB", 1u << 30},
	};
	static const char *const bad[] = {
		"8", "0", "1073741825", "2GiB", "1025MiB", "", " 16", "16M", "16m", "16mib", "16MB",
		"16KB", "16k", "0x10", "-5", "+5", "1.5MiB", "16MiB ", "MiB", "abc",
		"99999999999999999999999", "18446744073709551615GiB", "17179869184GiB",
	};
	struct cfg c;
	char err[512];
	(void)state;

	cfg_init(&c);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (cfg_set(&c, "MaxFrameSize", good[i].text, err, sizeof err) != 0)
			fail_msg("%s: %s", good[i].text, err);
		assert_int_equal(c.max_frame_size, good[i].v);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c.max_frame_size = 777;
		if (cfg_set(&c, "MaxFrameSize", bad[i], err, sizeof err) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(c.max_frame_size, 777);
		assert_memory_equal(err, "MaxFrameSize: ", 14);
	}
	assert_true(cfg_set(&c, "MaxFrameSize", "8", err, sizeof err) < 0);
	assert_string_equal(err, "MaxFrameSize: 8 bytes is out of range (9 to 1073741824)");
	assert_true(cfg_set(&c, "MaxFrameSize", "16MB", err, sizeof err) < 0);
	assert_string_equal(err, "MaxFrameSize: not a size: '16MB' (use a number of bytes, "
		"optionally followed by KiB, MiB or GiB)");
	setenv("TITAN_MAX_FRAME_SIZE", "lots", 1);
	assert_true(cfg_load_env(&c, err, sizeof err) < 0);
	assert_contains(err, "environment variable TITAN_MAX_FRAME_SIZE: not a size: 'lots'");
	setenv("TITAN_MAX_FRAME_SIZE", "32MiB", 1);
	assert_int_equal(cfg_load_env(&c, err, sizeof err), 0);
	assert_int_equal(c.max_frame_size, 32u << 20);
	cfg_free(&c);

	assert_int_equal(load_text(&c, "MaxFrameSize: 65536\n", err, sizeof err, NULL), 0);
	assert_int_equal(c.max_frame_size, 65536);
	cfg_free(&c);
	assert_int_equal(load_text(&c, "MaxFrameSize: \"2MiB\"\n", err, sizeof err, NULL), 0);
	assert_int_equal(c.max_frame_size, 2u << 20);
	cfg_free(&c);
}

/* ---- default path ------------------------------------------------------------ */

static void test_default_path(void **state)
{
	struct cfg c;
	char err[512];
	const char *path = write_tmp("IP: 10.9.8.7\n");
	(void)state;

	assert_string_equal(cfg_default_path(), "/etc/titan/titan.yaml");
	setenv("TITAN_CONFIG", "", 1);
	assert_string_equal(cfg_default_path(), "/etc/titan/titan.yaml");

	/* A file named by TITAN_CONFIG must exist, as one given with -c... */
	setenv("TITAN_CONFIG", "/nonexistent/titan.yaml", 1);
	assert_string_equal(cfg_default_path(), "/nonexistent/titan.yaml");
	cfg_init(&c);
	assert_true(cfg_load_default_or(&c, NULL, err, sizeof err) < 0);
	assert_string_equal(err, "/nonexistent/titan.yaml: No such file or directory");
	assert_null(c.file);
	/* ...the built-in default is optional (not testable here: /etc/titan may exist). */
	assert_true(cfg_load_default_or(&c, "/nonexistent/explicit.yaml", err, sizeof err) < 0);
	assert_string_equal(err, "/nonexistent/explicit.yaml: No such file or directory");
	cfg_free(&c);

	setenv("TITAN_CONFIG", path, 1);
	cfg_init(&c);
	assert_int_equal(cfg_load_default_or(&c, NULL, err, sizeof err), 0);
	assert_string_equal(c.ip, "10.9.8.7");
	assert_string_equal(c.file, path);
	cfg_free(&c);

	/* An existing default file with an error is an error. */
	const char *badp = write_tmp("Nope: 1\n");
	setenv("TITAN_CONFIG", badp, 1);
	cfg_init(&c);
	assert_true(cfg_load_default_or(&c, NULL, err, sizeof err) < 0);
	assert_err_at(err, badp, "1:1");
	cfg_free(&c);
}

/* ---- printing ------------------------------------------------------------------ */

static char *print_to_string(const struct cfg *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	assert_non_null(f);
	cfg_print(c, f);
	assert_int_equal(fclose(f), 0);
	return s;
}

static void test_print_redacts(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	setenv("TITAN_SECRET_KEY", "hunter2-very-secret", 1);
	cfg_init(&c);
	assert_int_equal(cfg_load(&c, write_tmp("IP: 10.1.1.1\n"), err, sizeof err), 0);
	assert_int_equal(cfg_set(&c, "Kafka", "k:9092", err, sizeof err), 0);
	char *out = print_to_string(&c);
	assert_null(strstr(out, "hunter2"));
	assert_contains(out, "\nSecretKey: \"***\"");
	assert_contains(out, "# from env TITAN_SECRET_KEY\n");
	assert_contains(out, "\nIP: \"10.1.1.1\"");
	assert_contains(out, "# from file\n");
	assert_contains(out, "\nKafka: \"k:9092\"");
	assert_contains(out, "# from command line\n");
	assert_contains(out, "\nMaxFrameSize: 16MiB ");
	assert_contains(out, "\nMetricsDisabled: false ");
	assert_contains(out, "# from default\n");
	free(out);

	unsetenv("TITAN_SECRET_KEY");
	cfg_free(&c);
	cfg_init(&c);
	out = print_to_string(&c);
	assert_contains(out, "\nSecretKey: ~ ");
	assert_contains(out, "# file: none\n");
	free(out);
	cfg_free(&c);
}

/* Printed output is YAML that loads back to the same values. */
static void test_print_round_trip(void **state)
{
	struct cfg a, b;
	char err[512];
	(void)state;

	cfg_init(&a);
	assert_int_equal(cfg_load_file(&a, write_tmp(
		"GridManager: 'http://gm:1/x#frag \"q\" ''sq'' \\back: colon'\n"
		"Kafka: \"- not: a list # no comment\"\n"
		"KafkaLogTopic: \"{braces}, [brackets], &anchor *alias !tag %pct @at `tick\"\n"
		"FlowManager: \" lead and trail \"\n"
		"IP: ''\n"
		"BrickFolder: /srv/Gr\xc3\xbc\xc3\x9f" "e/bricks\n"
		"PackageManager: 'yes'\n"
		"RepositoryService: '~'\n"
		"MetricsDisabled: ON\n"
		"MaxFrameSize: 1000\n"
		"SecretKey: topsecret\n"), err, sizeof err), 0);
	char *out = print_to_string(&a);
	const char *path = write_tmp(out);
	cfg_init(&b);
	if (cfg_load_file(&b, path, err, sizeof err) != 0)
		fail_msg("%s\n--- output:\n%s", err, out);
	for (int k = 0; k < CFG_NKEYS; k++) {
		const struct cfg_key_desc *d = &cfg_keys(NULL)[k];
		if (d->type != CFG_T_STRING || d->secret)
			continue;
		const char *va = *(char *const *)((const char *)&a + d->off);
		const char *vb = *(char *const *)((const char *)&b + d->off);
		if (strcmp(va, vb) != 0)
			fail_msg("%s: '%s' != '%s'", d->name, va, vb);
	}
	assert_true(b.metrics_disabled);
	assert_int_equal(b.max_frame_size, 1000);
	assert_string_equal(b.secret_key, "***");
	assert_string_equal(b.kafka, "- not: a list # no comment");
	assert_string_equal(b.flowmanager_address, " lead and trail ");
	free(out);

	/* Defaults round-trip too (sizes printed with a unit). */
	cfg_free(&b);
	cfg_free(&a);
	cfg_init(&a);
	a.max_frame_size = 3u << 20;
	out = print_to_string(&a);
	assert_contains(out, "MaxFrameSize: 3MiB");
	cfg_init(&b);
	assert_int_equal(cfg_load_file(&b, write_tmp(out), err, sizeof err), 0);
	assert_int_equal(b.max_frame_size, 3u << 20);
	assert_null(b.secret_key);
	free(out);
	cfg_free(&a);
	cfg_free(&b);
}

/* ---- the shipped etc/titan.yaml -------------------------------------------------- */

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fail_msg("%s: %s (run the tests from the top of the repository)", path, strerror(errno));
		return buf; /* not reached */
	}
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_etc_titan_yaml(void **state)
{
	struct cfg c;
	char err[512];
	(void)state;

	setenv("HOME", "/home/tester", 1);
	cfg_init(&c);
	if (cfg_load_file(&c, "etc/titan.yaml", err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_defaults(&c, true);
	cfg_free(&c);

	/* Every key is documented, as a commented-out "#Key: default" line;
	 * uncommented, the file still loads and gives the defaults. */
	char *text = slurp("etc/titan.yaml");
	for (int k = 0; k < CFG_NKEYS; k++) {
		char want[64];
		snprintf(want, sizeof want, "\n#%s: ", cfg_keys(NULL)[k].name);
		assert_contains(text, want);
		if (cfg_keys(NULL)[k].env)
			assert_contains(text, cfg_keys(NULL)[k].env);
	}
	for (char *p = text; (p = strstr(p, "\n#")) != NULL; p++)
		if (p[2] >= 'A' && p[2] <= 'Z')
			p[1] = '\n'; /* "\n#Key: v" -> "\n\nKey: v" */
	cfg_init(&c);
	if (cfg_load_file(&c, write_tmp(text), err, sizeof err) != 0)
		fail_msg("uncommented etc/titan.yaml: %s", err);
	assert_defaults(&c, false);
	assert_string_equal(c.brick_folder, "/var/lib/titan/bricks");
	for (int k = 0; k < CFG_NKEYS; k++)
		if (k != CFG_SECRET_KEY) /* "~": stays at its default */
			assert_int_equal(c.src[k], CFG_SRC_FILE);
	cfg_free(&c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_table),
		T(test_file_values),
		T(test_alias_names),
		T(test_null_values),
		T(test_empty_files),
		T(test_malformed_yaml),
		T(test_unknown_key),
		T(test_duplicate_key),
		T(test_wrong_types),
		T(test_merge_key),
		T(test_bad_values_in_file),
		T(test_size_limits),
		T(test_file_missing),
		T(test_env_overrides_file),
		T(test_env_all_keys),
		T(test_env_empty),
		T(test_env_booleans),
		T(test_env_bad_boolean),
		T(test_env_two_flags),
		T(test_cli_overrides_env),
		T(test_unset_cli_keeps_file),
		T(test_cli_errors),
		T(test_max_frame_size),
		T(test_default_path),
		T(test_print_redacts),
		T(test_print_round_trip),
		T(test_etc_titan_yaml),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
