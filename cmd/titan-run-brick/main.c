/* titan-run-brick — run ONE brick instance of a titan flow.
 *
 * Platform mode (this file): read the Grid Manager's brick description,
 * open the output server, load the brick, register at the Grid Manager,
 * connect to the input sources, run until signalled or idle.
 * Local mode (--local, local.c): the brick author's debugger. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "local.h"
#include "log.h"
#include "runner.h"
#include "uid.h"

enum { EX_OK_ = 0, EX_USAGE_ = 64, EX_DATAERR_ = 65, EX_NOINPUT_ = 66, EX_UNAVAILABLE_ = 69,
       EX_SOFTWARE_ = 70, EX_OSERR_ = 71, EX_CONFIG_ = 78 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: titan-run-brick [-c CONFIG] [--id R-xxxxxxxx] [--brick-folder DIR]\n"
		"                       [--ip IP] [--port N] [--telemetry PATH|-|none] [--notify-fd N]\n"
		"                       [--metrics per-packet|aggregate[=SECONDS]]\n"
		"                       --definition FILE|-\n"
		"       titan-run-brick --local BRICK [--param NAME=VALUE]... [--params FILE.json]\n"
		"                       [--input-port NAME] [--count N] [--plain]\n"
		"       titan-run-brick --print-config [-c CONFIG]\n"
		"\n"
		"Runs one brick instance of a titan flow (platform mode), or a brick on\n"
		"JSON lines from stdin (--local). See titan-run-brick(1).\n"
		"\n"
		"  -c, --config FILE       configuration file (titan-config(5))\n"
		"      --definition FILE   the Grid Manager's brick description (JSON), - for stdin\n"
		"      --id UID            runner uid (default: a new R-xxxxxxxx)\n"
		"      --brick-folder DIR  where installed bricks live (BrickFolder)\n"
		"      --ip IP             address of the output server (IP)\n"
		"      --port N            port of the output server (default: any free port)\n"
		"      --telemetry WHERE   metric and log lines: a FIFO or file, - for stdout, none\n"
		"                          (default: $TITAN_TELEMETRY, else none)\n"
		"      --metrics MODE      per-packet (default, as the original) or aggregate[=SECONDS]\n"
		"                          (one summary line per interval, default 1 s)\n"
		"      --drain-timeout S   seconds to deliver queued results after SIGTERM (default 10)\n"
		"      --notify-fd N       write a newline to fd N when ready (s6 readiness)\n"
		"      --log-level LEVEL   debug, info, warning, error (default info)\n"
		"      --print-config      print the effective configuration and exit\n"
		"  -h, --help              this help\n"
		"      --version           print the version\n");
}

struct opts {
	const char *config, *definition, *id, *brick_folder, *ip, *telemetry;
	int notify_fd;
	bool print_config;
};

/* --metrics per-packet | aggregate[=SECONDS] */
static int parse_metrics(const char *v)
{
	if (strcmp(v, "per-packet") == 0) { tele_set_aggregate(0); return 0; }
	if (strncmp(v, "aggregate", 9) != 0) return -1;
	double secs = 1.0;
	if (v[9] == '=') {
		char *end;
		secs = strtod(v + 10, &end);
		if (*end || !(secs >= 0.1 && secs <= 3600)) return -1;
	} else if (v[9]) return -1;
	tele_set_aggregate(secs);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"config", required_argument, 0, 'c'}, {"definition", required_argument, 0, 'd'},
		{"id", required_argument, 0, 'i'}, {"brick-folder", required_argument, 0, 'b'},
		{"ip", required_argument, 0, 'a'}, {"port", required_argument, 0, 'P'},
		{"telemetry", required_argument, 0, 't'},
		{"notify-fd", required_argument, 0, 'n'}, {"metrics", required_argument, 0, 'm'},
		{"drain-timeout", required_argument, 0, 'D'}, {"log-level", required_argument, 0, 'l'},
		{"print-config", no_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'}, {0, 0, 0, 0},
	};
	int ch, lvl;
	char *end;
	memset(o, 0, sizeof *o);
	R.drain_seconds = RUNNER_DRAIN_SECONDS;
	o->notify_fd = -1;
	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'd': o->definition = optarg; break;
		case 'i': o->id = optarg; break;
		case 'b': o->brick_folder = optarg; break;
		case 'a': o->ip = optarg; break;
		case 't': o->telemetry = optarg; break;
		case 'P': {
			long port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535) { log_error("--port needs a number 0..65535"); return EX_USAGE_; }
			R.listen_port = (uint16_t)port;
			break;
		}
		case 'n':
			o->notify_fd = (int)strtol(optarg, &end, 10);
			if (*end || o->notify_fd < 0) { log_error("--notify-fd needs a file descriptor number"); return EX_USAGE_; }
			break;
		case 'l':
			if ((lvl = log_level_parse(optarg)) < 0) { log_error("unknown log level %s", optarg); return EX_USAGE_; }
			log_set_level((enum log_level)lvl);
			break;
		case 'p': o->print_config = true; break;
		case 'D':
			R.drain_seconds = strtod(optarg, &end);
			if (*end || !(R.drain_seconds >= 0.1 && R.drain_seconds <= 3600)) {
				log_error("--drain-timeout needs seconds between 0.1 and 3600");
				return EX_USAGE_;
			}
			break;
		case 'm':
			if (parse_metrics(optarg) < 0) { log_error("--metrics must be per-packet or aggregate[=SECONDS]"); return EX_USAGE_; }
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("titan-run-brick %s\n", TITAN_VERSION); exit(0);
		default: usage(stderr); return EX_USAGE_;
		}
	}
	if (optind < argc) { log_error("unexpected argument %s", argv[optind]); return EX_USAGE_; }
	if (!o->definition && !o->print_config) { log_error("--definition FILE (or --local BRICK) is required"); usage(stderr); return EX_USAGE_; }
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	ssize_t k;
	while (buf && (k = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)k;
		if (n > RUNNER_MAX_DEFINITION) { free(buf); buf = NULL; errno = EFBIG; break; }
		if (n == cap) { char *b = realloc(buf, cap *= 2); if (!b) { free(buf); buf = NULL; } else buf = b; }
	}
	if (fd) close(fd);
	*len = n;
	return buf;
}

static int configure(const struct opts *o)
{
	char err[600];
	cfg_init(&R.cfg);
	if (cfg_load(&R.cfg, o->config, err, sizeof err) < 0 ||
	    (o->brick_folder && cfg_set(&R.cfg, "BrickFolder", o->brick_folder, err, sizeof err) < 0) ||
	    (o->ip && cfg_set(&R.cfg, "IP", o->ip, err, sizeof err) < 0)) {
		log_error("%s", err);
		return EX_CONFIG_;
	}
	return 0;
}

static int load_definition(const char *path)
{
	size_t len;
	char err[600];
	char *json = read_all(path, &len);
	if (!json) {
		log_error("cannot read the brick definition %s: %s", path, strerror(errno));
		return EX_NOINPUT_;
	}
	int rc = rb_def_parse(&R.def, json, len, err, sizeof err);
	free(json);
	if (rc < 0) { log_error("%s", err); return EX_DATAERR_; }
	return 0;
}

/* Register at the Grid Manager; its answer lists our input sources. */
static int register_at_gm(void)
{
	char *sources = NULL, err[600];
	size_t len = 0;
	if (gm_register(&sources, &len, err, sizeof err) < 0) {
		log_error("%s", err);
		return EX_UNAVAILABLE_;
	}
	if (sources && len && strcmp(sources, "null") != 0) in_add_sources_json(sources, len, "Grid Manager");
	free(sources);
	return 0;
}

static void notify_ready(int fd)
{
	if (fd < 0) return;
	if (write(fd, "\n", 1) != 1) log_warn("readiness notification failed fd=%d", fd);
	close(fd);
}

static int run(const struct opts *o)
{
	char err[600];
	struct tele_ids ids = {R.def.flow_id, R.def.flow_name, R.def.instance_id, R.def.name, R.def.brick, R.def.family, R.uid};
	const char *tele = o->telemetry ? o->telemetry : getenv("TITAN_TELEMETRY");
	if (tele_open(tele ? tele : "none", &ids, err, sizeof err) < 0) { log_error("%s", err); return EX_CONFIG_; }
	if (net_listen(err, sizeof err) < 0 || out_init(err, sizeof err) < 0) {
		log_error("%s", err);
		return strstr(err, "Outbound") ? EX_DATAERR_ : EX_OSERR_;
	}
	if (worker_start_and_load(err, sizeof err) < 0) {
		log_error("brick failed to load: %s", err);
		return EX_SOFTWARE_;
	}
	R.gm = R.cfg.gridmanager_address && *R.cfg.gridmanager_address ? R.cfg.gridmanager_address : NULL;
	int rc = R.gm ? register_at_gm() : 0;
	if (rc) {
		worker_stop_inlet();
		pthread_mutex_lock(&R.lock);
		R.input_closed = true;
		pthread_cond_broadcast(&R.in_cv);
		pthread_mutex_unlock(&R.lock);
		worker_join();
		return rc;
	}
	log_info("ready runner=%s brick=%s address=%s inlet=%d outlet=%d", R.uid, R.def.instance_id, R.address,
		 R.def.is_inlet, R.def.is_outlet);
	notify_ready(o->notify_fd);
	rc = net_run();
	worker_join();
	if (tele_dropped()) log_warn("telemetry lines dropped count=%llu", (unsigned long long)tele_dropped());
	log_info("stopped received=%llu bad_frames=%llu", (unsigned long long)R.in_received, (unsigned long long)R.bad_frames);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	log_init("titan-run-brick");
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--local") == 0 || strncmp(argv[i], "--local=", 8) == 0) return local_main(argc, argv);
	int rc = parse_args(argc, argv, &o);
	if (rc) return rc;
	if ((rc = configure(&o))) return rc;
	if (o.print_config) { cfg_print(&R.cfg, stdout); return 0; }
	if ((rc = load_definition(o.definition))) return rc;
	if (o.id && (!uid_valid(o.id) || o.id[0] != 'R')) { log_error("--id must look like R-0a1b2c3d"); return EX_USAGE_; }
	snprintf(R.uid, sizeof R.uid, "%s", o.id ? o.id : "");
	if (!o.id) uid_new('R', R.uid);

	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an EPIPE, not a death */
	if (http_global_init() < 0) { log_error("cannot initialise libcurl"); return EX_OSERR_; }
	pthread_mutex_init(&R.lock, NULL);
	pthread_cond_init(&R.in_cv, NULL);
	pthread_cond_init(&R.out_cv, NULL);
	R.in_max = RUNNER_IN_QUEUE;
	R.in_max_bytes = RUNNER_IN_QUEUE_BYTES;
	R.out_max = RUNNER_OUT_QUEUE;
	R.out_max_bytes = RUNNER_OUT_QUEUE_BYTES;
	R.window = RUNNER_WINDOW;
	R.lfd = R.epfd = R.evfd = R.sigfd = R.tfd = -1;

	rc = run(&o);
	out_free();
	tele_close();
	rb_def_free(&R.def);
	cfg_free(&R.cfg);
	return rc;
}
