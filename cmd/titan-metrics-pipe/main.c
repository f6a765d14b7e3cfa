/* titan-metrics-pipe — deliver the runners' telemetry lines to Kafka in
 * titanfe's topics and encodings, or to a local sink; never stall the
 * flow. See man/man1/titan-metrics-pipe.1.
 *
 * main.c reads the command line and the configuration and hands over to
 * the loop (loop.c).
 */
#include "pipe.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#ifndef TITAN_VERSION
#define TITAN_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: titan-metrics-pipe [options] [INPUT]\n"
	"\n"
	"Read telemetry JSON lines (metric and titan-log records) from INPUT and deliver\n"
	"them to Kafka as titanfe does, or to a local sink when there is no Kafka.\n"
	"INPUT is a FIFO (held open: writers may come and go), a file, or standard\n"
	"input when absent or \"-\".\n"
	"\n"
	"  -c, --config FILE          configuration file (default $TITAN_CONFIG or\n"
	"                             " CFG_DEFAULT_PATH ")\n"
	"  -k, --kafka SERVERS        Kafka bootstrap servers host:port,... (config Kafka);\n"
	"                             \"\" = no Kafka\n"
	"      --log-topic TOPIC      topic of titan-log records (config KafkaLogTopic)\n"
	"      --metrics-topic TOPIC  topic of metric records (default " DEFAULT_METRICS_TOPIC ")\n"
	"      --metrics-format F     pickle (titanfe's, the default) or json\n"
	"  -X NAME=VALUE              a librdkafka producer property (repeatable)\n"
	"      --sink S               without Kafka: stdout (default), file:PATH or none\n"
	"      --flush-timeout SEC    at end of input or SIGTERM, wait this long for\n"
	"                             deliveries (default 10)\n"
	"      --stats-interval SEC   a stats line on stderr every SEC seconds (default 0 = off)\n"
	"      --prometheus ADDR:PORT serve aggregated metrics for Prometheus at /metrics\n"
	"      --log-level LEVEL      debug, info (default), warning or error\n"
	"      --print-config         print the effective configuration and exit\n"
	"  -h, --help                 this help\n"
	"  -V, --version              the version\n"
	"\n"
	"Exit status: 0 everything delivered, 64 usage, 66 cannot open INPUT, 69 cannot\n"
	"serve --prometheus, 73 cannot open the sink file, 74 input read error,\n"
	"75 records left undelivered, 78 configuration error.\n";

enum {
	OPT_LOG_TOPIC = 256,
	OPT_METRICS_TOPIC,
	OPT_METRICS_FORMAT,
	OPT_SINK,
	OPT_FLUSH,
	OPT_STATS,
	OPT_PROM,
	OPT_LOG_LEVEL,
	OPT_PRINT,
};

static const struct option long_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"kafka", required_argument, NULL, 'k'},
	{"log-topic", required_argument, NULL, OPT_LOG_TOPIC},
	{"metrics-topic", required_argument, NULL, OPT_METRICS_TOPIC},
	{"metrics-format", required_argument, NULL, OPT_METRICS_FORMAT},
	{"sink", required_argument, NULL, OPT_SINK},
	{"flush-timeout", required_argument, NULL, OPT_FLUSH},
	{"stats-interval", required_argument, NULL, OPT_STATS},
	{"prometheus", required_argument, NULL, OPT_PROM},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"print-config", no_argument, NULL, OPT_PRINT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("%s (see titan-metrics-pipe --help)", msg);
	return EX_USAGE;
}

/* Seconds: a finite number from lo to hi. */
static bool parse_seconds(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return false;
	*out = v;
	return true;
}

/* Kafka's rule for topic names: 1 to 249 of [a-zA-Z0-9._-]. */
static bool topic_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 249) return false;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int parse_sink(struct opts *o, const char *arg)
{
	o->sink_set = true;
	if (strcmp(arg, "stdout") == 0) o->sink = SINK_STDOUT;
	else if (strcmp(arg, "none") == 0) o->sink = SINK_NONE;
	else if (strncmp(arg, "file:", 5) == 0 && arg[5] != '\0') {
		o->sink = SINK_FILE;
		o->sink_path = arg + 5;
	} else return usage_error("--sink takes stdout, file:PATH or none, not %s", arg);
	return -1;
}

static int add_prop(struct opts *o, const char *arg)
{
	if (arg[0] == '=' || strchr(arg, '=') == NULL) return usage_error("-X takes NAME=VALUE, not %s", arg);
	const char **p = realloc(o->props, (size_t)(o->nprops + 1) * sizeof *p);
	if (p == NULL) return usage_error("%s", "out of memory");
	o->props = p;
	o->props[o->nprops++] = arg;
	return -1;
}

/* One option; returns -1 to go on, or an exit code. */
static int take_option(struct opts *o, int c, const char *arg, char **argv)
{
	int lvl;
	switch (c) {
	case 'c': o->config = arg; break;
	case 'k': o->kafka = arg; break;
	case OPT_LOG_TOPIC: o->log_topic = arg; break;
	case OPT_METRICS_TOPIC:
		if (!topic_ok(arg)) return usage_error("--metrics-topic: not a Kafka topic name: %s", arg);
		o->metrics_topic = arg;
		break;
	case OPT_METRICS_FORMAT:
		if (strcmp(arg, "json") != 0 && strcmp(arg, "pickle") != 0)
			return usage_error("--metrics-format takes pickle or json, not %s", arg);
		o->metrics_json = strcmp(arg, "json") == 0;
		break;
	case 'X': return add_prop(o, arg);
	case OPT_SINK: return parse_sink(o, arg);
	case OPT_FLUSH:
		if (!parse_seconds(arg, 0, METRICS_FLUSH_MAX_S, &o->flush_timeout))
			return usage_error("--flush-timeout takes seconds from 0 to 3600, not %s", arg);
		break;
	case OPT_STATS:
		if (!parse_seconds(arg, 0, 86400, &o->stats_interval) || (o->stats_interval > 0 && o->stats_interval < 0.1))
			return usage_error("--stats-interval takes 0 (off) or seconds from 0.1 to 86400, not %s", arg);
		break;
	case OPT_PROM: {
		char host[64];
		unsigned port;
		if (prom_parse_addr(arg, host, sizeof host, &port) < 0)
			return usage_error("--prometheus takes a numeric ADDR:PORT ([::1]:9100, :9100), not %s", arg);
		o->prometheus = arg;
		break;
	}
	case OPT_LOG_LEVEL:
		if ((lvl = log_level_parse(arg)) < 0)
			return usage_error("--log-level takes debug, info, warning or error, not %s", arg);
		log_set_level((enum log_level)lvl);
		break;
	case OPT_PRINT: o->print_config = true; break;
	case 'h': fputs(usage_text, stdout); return 0;
	case 'V': printf("titan-metrics-pipe %s\n", TITAN_VERSION); return 0;
	case ':': return usage_error("missing argument for %s", argv[optind - 1]);
	default: {
		char opt[3] = {'-', (char)optopt, 0};
		return usage_error("unknown option %s", optopt > 0 && optopt < 128 ? opt : argv[optind - 1]);
	}
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int c, rc;
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":c:k:X:hV", long_opts, NULL)) != -1)
		if ((rc = take_option(o, c, optarg, argv)) >= 0) return rc;
	if (argc - optind > 1) return usage_error("too many operands: %s", argv[optind + 1]);
	o->input = optind < argc ? argv[optind] : NULL;
	return -1;
}

/* File and environment, then the options the user gave. */
static int configure(const struct opts *o, struct cfg *cfg)
{
	char err[512];
	if (cfg_load(cfg, o->config, err, sizeof err) < 0) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	if ((o->kafka != NULL && cfg_set(cfg, "Kafka", o->kafka, err, sizeof err) < 0) ||
		(o->log_topic != NULL && cfg_set(cfg, "KafkaLogTopic", o->log_topic, err, sizeof err) < 0))
		return usage_error("%s", err);
	if (!topic_ok(cfg->kafka_log_topic)) {
		if (o->log_topic != NULL) return usage_error("--log-topic: not a Kafka topic name: %s", o->log_topic);
		log_error("KafkaLogTopic is not a Kafka topic name: %s", cfg->kafka_log_topic);
		return EX_CONFIG;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = {.metrics_topic = DEFAULT_METRICS_TOPIC, .flush_timeout = METRICS_FLUSH_S};
	struct cfg cfg;
	int rc;
	log_init(argv[0]);
	cfg_init(&cfg);
	if ((rc = parse_args(argc, argv, &o)) < 0 && (rc = configure(&o, &cfg)) < 0) {
		if (o.print_config) {
			cfg_print(&cfg, stdout);
			rc = 0;
		} else {
			if (o.sink_set && cfg.kafka[0] != '\0' && !cfg.metrics_disabled)
				log_warn("--sink is used only without Kafka; Kafka is configured");
			rc = pipe_run(&o, &cfg);
		}
	}
	cfg_free(&cfg);
	free(o.props);
	return rc;
}
