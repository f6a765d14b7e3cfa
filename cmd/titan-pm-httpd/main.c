/* titan-pm-httpd — the titan Package Manager: stores brick packages, serves
 * brick code to control peers and tells them about new bricks. See
 * man/man1/titan-pm-httpd.1 and pm.h for the parts.
 */
#include "pm.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "httpd.h"
#include "log.h"

#ifndef TITAN_VERSION
#define TITAN_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: titan-pm-httpd [--port N] [--address ADDR] [--log-level LEVEL]\n"
	"                      [--config-file FILE] [--port-file FILE] [--print-config]\n"
	"       titan-pm-httpd --help | --version\n"
	"\n"
	"The titan Package Manager: REST API under /packagemanager.\n"
	"  -p, --port N          port to serve on (default 8087; 0 = any free port)\n"
	"      --address ADDR    numeric address to bind (default: all interfaces)\n"
	"  -l, --log-level L     debug, info, warning or error (default info)\n"
	"  -c, --config-file F   YAML configuration (default /etc/titan/titan-pm.yaml if present)\n"
	"      --port-file F     write the bound port to F once listening\n"
	"      --print-config    print the effective configuration and exit\n"
	"Options may also be written with one dash (-port 8087), as the Go services take them.\n"
	"Every configuration key can be set as TITAN_PM_<KEY> (e.g. TITAN_PM_PACKAGE_FOLDER).\n"
	"Exit status: 0 stopped by SIGTERM/SIGINT, 64 usage, 69 cannot listen,\n"
	"73 package folder or database unusable, 75 folder in use, 78 configuration error.\n";

enum { OPT_ADDRESS = 256, OPT_PORT_FILE, OPT_PRINT };

static const struct option long_opts[] = {
	{"port", required_argument, NULL, 'p'},
	{"address", required_argument, NULL, OPT_ADDRESS},
	{"log-level", required_argument, NULL, 'l'},
	{"config-file", required_argument, NULL, 'c'},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"print-config", no_argument, NULL, OPT_PRINT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct args {
	struct pm_cli cli;
	const char *port_file;
	bool print;
};

/* Returns -1 to continue, else an exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "p:l:c:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->cli.port = optarg; break;
		case OPT_ADDRESS: a->cli.address = optarg; break;
		case 'l': a->cli.log_level = optarg; break;
		case 'c': a->cli.config_file = optarg; break;
		case OPT_PORT_FILE: a->port_file = optarg; break;
		case OPT_PRINT: a->print = true; break;
		case 'h': fputs(usage_text, stdout); return PM_EX_OK;
		case 'V': puts("titan-pm-httpd " TITAN_VERSION); return PM_EX_OK;
		default:
			log_error("unknown option or missing value: %s (see titan-pm-httpd --help)",
				argv[optind - 1] ? argv[optind - 1] : "?");
			return PM_EX_USAGE;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument: %s (see titan-pm-httpd --help)", argv[optind]);
		return PM_EX_USAGE;
	}
	return -1;
}

/* Written to a temporary name and renamed, so a reader never sees a
 * half-written number. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		log_error("cannot write port file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int serve(const struct pm_cfg *cfg, struct store *st, const char *port_file, sigset_t *set)
{
	struct pm_ctx ctx = {.cfg = cfg, .store = st};
	struct httpd_opts o = {.addr = cfg->address, .port = cfg->port, .handler = pm_handle,
		.body_limit = pm_body_limit, .arg = &ctx};
	char err[512];
	struct httpd *h = httpd_start(&o, err, sizeof err);
	if (h == NULL) {
		log_error("%s", err);
		return PM_EX_UNAVAILABLE;
	}
	int ex = PM_EX_OK;
	if (port_file != NULL && write_port_file(port_file, httpd_port(h)) < 0)
		ex = PM_EX_CANTCREAT;
	if (ex == PM_EX_OK) {
		log_info("listening address=%s port=%u folder=%s", *cfg->address ? cfg->address : "*", httpd_port(h),
			cfg->package_folder);
		int sig = 0;
		sigwait(set, &sig);
		log_info("stopping signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	}
	httpd_stop(h);
	return ex;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct pm_cfg cfg;
	char err[1024];
	log_init("titan-pm-httpd");
	int ex = parse_args(argc, argv, &a);
	if (ex >= 0)
		return ex;
	if (pm_cfg_load(&cfg, &a.cli, err, sizeof err) < 0) {
		log_error("%s", err);
		pm_cfg_free(&cfg);
		return PM_EX_CONFIG;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (a.print) {
		pm_cfg_print(&cfg);
		pm_cfg_free(&cfg);
		return PM_EX_OK;
	}
	sigset_t set;
	block_signals(&set);
	http_global_init();
	struct store *st = store_open(cfg.package_folder, cfg.database, &ex, err, sizeof err);
	if (st == NULL) {
		log_error("%s", err);
	} else if (notify_start(st) < 0) {
		log_error("cannot start the notification thread");
		ex = PM_EX_CANTCREAT;
	} else {
		ex = serve(&cfg, st, a.port_file, &set);
		notify_stop();
	}
	store_close(st);
	auth_reset();
	pm_cfg_free(&cfg);
	http_global_cleanup();
	return ex;
}
