/* local.c — titan-run-brick --local: the brick author's debugger.
 *
 * Threads: the main thread is the brick thread (it loads the brick and
 * calls process()); a control thread owns the signals, the stop logic
 * and, for an inlet, standard input (EOF stops the inlet). Signals are
 * caught by a handler writing to a pipe, not blocked for a signalfd: a
 * blocked mask would be inherited by every process a brick starts.
 *
 * Standard output carries result lines only: at start-up the real stdout
 * is moved to a private descriptor and descriptor 1 becomes a copy of
 * stderr, so print() in a brick, its C extensions and its subprocesses all
 * write to stderr. Likewise the input moves to a private descriptor and
 * descriptor 0 becomes /dev/null: nothing in the brick can eat input lines.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "brick.h"
#include "cfg.h"
#include "local.h"
#include "log.h"
#include "pyrun.h"
#include "ujo.h"
#include "ujo_json.h"

#define EX_BRICK 1                         /* some packets failed in the brick */
#define EX_SIGNAL2 130                     /* a second SIGINT/SIGTERM */
#define MAX_LINE (16u * 1024u * 1024u)     /* longest input line */
#define MAX_PARAMS_FILE (16u * 1024u * 1024u)

static const char usage_text[] =
	"usage: titan-run-brick --local BRICK_DIR_OR_FILE [options] < payloads.jsonl\n"
	"\n"
	"Run one brick without the platform: one JSON payload per line on standard\n"
	"input, one line {\"port\":...,\"payload\":...} per result on standard output.\n"
	"\n"
	"  --param NAME=VALUE    a processing parameter; VALUE is JSON if it parses as\n"
	"                        JSON, else a string (repeatable; after --params)\n"
	"  --params FILE.json    processing parameters from a JSON object\n"
	"  --module NAME         the brick module in the folder (default: the folder's\n"
	"                        name, or its only module)\n"
	"  --input-port NAME     port passed to process() (default \"input\")\n"
	"  --output-port NAME    declare an output port (repeatable; the first is the\n"
	"                        default port; default: \"output\", any name accepted)\n"
	"  --count N             stop after N results\n"
	"  --plain               give process() plain Python values (as titan_plain_values)\n"
	"  --inlet               run as an inlet even if Brick is no InletBrickBase\n"
	"  --ignore-stdin        an inlet does not stop at the end of standard input\n"
	"  --typed               results as typed JSON (titan-ujo decode -t)\n"
	"  --stop-timeout SECS   an inlet must return this long after stop_processing()\n"
	"                        (default 5)\n"
	"  --flow-uid UID, --flow-name NAME, --brick-uid UID, --brick-name NAME\n"
	"                        adapter.meta (the flow uid is the salt of secrets)\n"
	"  --repo URL            Repository Service for adapter.state\n"
	"  -c, --config FILE     titan configuration (SecretKey, RepositoryService)\n"
	"\n"
	"Exit status: 0 ok, 1 process() failed for some input, 64 usage, 65 some input\n"
	"lines were not JSON, 66 brick not found, 70 the brick failed to load (or an\n"
	"inlet did not stop), 71 system error, 74 output error, 78 configuration error,\n"
	"130 a second interrupt.\n";

enum {
	O_LOCAL = 256, O_PARAM, O_PARAMS, O_MODULE, O_INPORT, O_OUTPORT, O_COUNT, O_PLAIN, O_INLET, O_TYPED,
	O_STOPTO, O_FLOWUID, O_FLOWNAME, O_BRICKUID, O_BRICKNAME, O_REPO, O_HELP, O_IGNSTDIN,
};

static const struct option options[] = {
	{"local", required_argument, NULL, O_LOCAL},       {"param", required_argument, NULL, O_PARAM},
	{"params", required_argument, NULL, O_PARAMS},     {"module", required_argument, NULL, O_MODULE},
	{"input-port", required_argument, NULL, O_INPORT}, {"output-port", required_argument, NULL, O_OUTPORT},
	{"count", required_argument, NULL, O_COUNT},       {"plain", no_argument, NULL, O_PLAIN},
	{"inlet", no_argument, NULL, O_INLET},             {"typed", no_argument, NULL, O_TYPED},
	{"stop-timeout", required_argument, NULL, O_STOPTO}, {"flow-uid", required_argument, NULL, O_FLOWUID},
	{"flow-name", required_argument, NULL, O_FLOWNAME}, {"brick-uid", required_argument, NULL, O_BRICKUID},
	{"brick-name", required_argument, NULL, O_BRICKNAME}, {"repo", required_argument, NULL, O_REPO},
	{"config", required_argument, NULL, 'c'},          {"help", no_argument, NULL, O_HELP},
	{"ignore-stdin", no_argument, NULL, O_IGNSTDIN},
	{NULL, 0, NULL, 0},
};

static struct {
	FILE *out;
	unsigned flags;         /* ujo_json_emit flags for payloads */
	unsigned long long count, results;
	pthread_mutex_t out_lock;
	struct ujo_buf line;    /* output line, under out_lock */
	bool out_failed;

	pthread_mutex_t ctl_lock; /* b, inlet, proc_started, proc_done, done; writing stop_at */
	struct brick *b;
	bool inlet, proc_started, proc_done, done;
	atomic_bool stopping, signalled;
	struct timespec stop_at;
	double stop_timeout;
	int sig_pipe[2], ctl_wake[2], main_wake[2];
	int in; /* the real standard input */
	bool ignore_stdin;
} L = {
	.out_lock = PTHREAD_MUTEX_INITIALIZER,
	.ctl_lock = PTHREAD_MUTEX_INITIALIZER,
	.stop_timeout = 5.0,
	.sig_pipe = {-1, -1},
	.ctl_wake = {-1, -1},
	.main_wake = {-1, -1},
};

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;
	ssize_t n = write(L.sig_pipe[1], &c, 1);
	(void)n;
	errno = saved;
}

static void poke(int fd)
{
	char c = 1;
	ssize_t n = write(fd, &c, 1); /* non-blocking pipe: a full pipe is a pending wake-up anyway */
	(void)n;
}

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0) {}
}

/* Ask everything to stop (any thread, never blocks). */
static void request_stop(const char *why)
{
	pthread_mutex_lock(&L.ctl_lock);
	bool was = atomic_load(&L.stopping);
	if (!was) {
		clock_gettime(CLOCK_MONOTONIC, &L.stop_at); /* before the flag: readers of the flag see it */
		atomic_store(&L.stopping, true);
	}
	pthread_mutex_unlock(&L.ctl_lock);
	if (was) return;
	log_debug("stopping: %s", why);
	poke(L.ctl_wake[1]);
	poke(L.main_wake[1]);
}

static double since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* The control thread: signals, stop_processing(), an inlet's stdin and
 * its stop deadline. stop_processing() is called once process() runs
 * and again every second until it returns: a stop requested just before
 * an inlet's process() started (which may reset its flag) is not lost. */
static void *control(void *arg)
{
	(void)arg;
	bool stdin_eof = L.ignore_stdin;
	int nsig = 0, ncalls = 0;
	double next_call = 0;
	for (;;) {
		pthread_mutex_lock(&L.ctl_lock);
		bool done = L.done, inlet = L.inlet, proc_done = L.proc_done, started = L.proc_started;
		struct brick *b = L.b;
		pthread_mutex_unlock(&L.ctl_lock);
		if (done) break;
		bool stopping = atomic_load(&L.stopping);
		double t = stopping ? since(&L.stop_at) : 0;
		if (b && stopping && started && !proc_done && t >= next_call && (inlet || ncalls == 0)) {
			brick_stop(b); /* takes the GIL; the brick thread keeps running */
			ncalls++;
			next_call = since(&L.stop_at) + 1.0;
		}

		int timeout = -1;
		if (inlet && stopping && started && !proc_done) {
			double left = L.stop_timeout - since(&L.stop_at);
			if (left <= 0) {
				log_error("the inlet did not return within %.1f s after stop_processing(); exiting",
					  L.stop_timeout);
				fflush(L.out);
				_exit(EX_SOFTWARE);
			}
			double wait = next_call - since(&L.stop_at);
			if (wait < left) left = wait > 0 ? wait : 0;
			timeout = (int)(left * 1000) + 1;
		} else if (b && stopping && started && !proc_done && ncalls == 0) {
			timeout = 0;
		}
		struct pollfd pf[3] = {
			{.fd = L.sig_pipe[0], .events = POLLIN},
			{.fd = L.ctl_wake[0], .events = POLLIN},
			{.fd = inlet && !stdin_eof ? L.in : -1, .events = POLLIN},
		};
		int n = poll(pf, 3, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (n <= 0) continue;
		if (pf[0].revents & POLLIN) {
			unsigned char sig;
			while (read(L.sig_pipe[0], &sig, 1) == 1) {
				if (++nsig >= 2) {
					log_error("second %s: exiting at once", strsignal(sig));
					_exit(EX_SIGNAL2);
				}
				log_info("%s: stopping (send it again to exit at once)", strsignal(sig));
				atomic_store(&L.signalled, true);
				request_stop("signal");
			}
		}
		if (pf[1].revents & POLLIN) drain(L.ctl_wake[0]);
		if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[4096];
			ssize_t r = read(L.in, buf, sizeof buf);
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				stdin_eof = true;
				request_stop("end of standard input");
			}
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Brick callbacks                                                     */

static int l_emit(void *ctx, const char *port, const uint8_t *payload, size_t len, bool emitted)
{
	(void)ctx;
	(void)emitted;
	pthread_mutex_lock(&L.out_lock);
	if (L.out_failed || (L.count && L.results >= L.count)) {
		pthread_mutex_unlock(&L.out_lock); /* past --count: dropped quietly */
		return 0;
	}
	struct ujo_buf *o = &L.line;
	struct ujo_reader r;
	ujo_buf_reset(o);
	ujo_buf_put(o, "{\"port\":", 8);
	ujo_json_put_string(o, port, strlen(port));
	ujo_buf_put(o, ",\"payload\":", 11);
	ujo_r_init_bare(&r, payload, len);
	int rc = ujo_json_emit_buf(&r, L.flags, o);
	ujo_buf_put(o, "}\n", 2);
	if (rc < 0 || o->err) {
		log_error("cannot show a result on port %s as JSON: %s", port, ujo_json_strerror(rc < 0 ? rc : o->err));
	} else if (fwrite(o->data, 1, o->len, L.out) != o->len || fflush(L.out) != 0) {
		log_error("cannot write to standard output: %s", strerror(errno));
		L.out_failed = true;
		request_stop("output error");
	} else if (++L.results == L.count) {
		request_stop("--count results written");
	}
	pthread_mutex_unlock(&L.out_lock);
	return 0;
}

static void l_log(void *ctx, int level, const char *logger, const char *msg)
{
	(void)ctx;
	enum log_level lv = level >= BRICK_ERROR ? LOG_LVL_ERROR : level >= BRICK_WARNING ? LOG_LVL_WARNING
								: level >= BRICK_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	log_msg(lv, "%s: %s", logger, msg);
}

/* ------------------------------------------------------------------ */
/* Parameters                                                          */

static char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	int err = ferror(f);
	fclose(f);
	if (!buf || err || n > max) {
		free(buf);
		errno = err ? EIO : EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Strict JSON (ujo_json's rules), so "007" or "1e" stay strings. */
static bool is_json(const char *s)
{
	struct ujo_buf b;
	struct ujo_writer w;
	struct ujo_json_error e;
	size_t pos = 0;
	ujo_buf_init(&b);
	ujo_w_init_bare(&w, &b);
	bool ok = ujo_json_parse(s, strlen(s), &pos, &w, UJO_JSON_BARE, &e) == 1 && ujo_w_finish(&w) == 0;
	ujo_buf_free(&b);
	return ok;
}

/* The parameters as JSON text; exit status on error. */
static int build_params(const char *file, char **params, int nparams, char **out)
{
	cJSON *root = NULL;
	if (file) {
		size_t len;
		char *text = read_file(file, MAX_PARAMS_FILE, &len);
		if (!text) {
			log_error("cannot read --params %s: %s", file, strerror(errno));
			return EX_NOINPUT;
		}
		root = is_json(text) ? cJSON_Parse(text) : NULL;
		free(text);
		if (!cJSON_IsObject(root)) {
			log_error("--params %s: not a JSON object", file);
			cJSON_Delete(root);
			return EX_DATAERR;
		}
	} else {
		root = cJSON_CreateObject();
	}
	for (int i = 0; root && i < nparams; i++) {
		char *eq = strchr(params[i], '=');
		if (!eq || eq == params[i]) {
			log_error("--param %s: expected NAME=VALUE", params[i]);
			cJSON_Delete(root);
			return EX_USAGE;
		}
		*eq = '\0';
		const char *value = eq + 1;
		cJSON *v = is_json(value) ? cJSON_Parse(value) : cJSON_CreateString(value);
		if (!v) break;
		if (cJSON_GetObjectItemCaseSensitive(root, params[i])) /* keep its place */
			cJSON_ReplaceItemInObjectCaseSensitive(root, params[i], v);
		else
			cJSON_AddItemToObject(root, params[i], v);
		*eq = '=';
	}
	*out = root ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!*out) {
		log_error("out of memory");
		return EX_OSERR;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Input                                                               */

struct stats {
	unsigned long long lines, bad_lines, failed;
};

static int handle_line(struct brick *b, const char *line, size_t n, unsigned long long lineno, const char *port,
		       struct ujo_buf *in, struct stats *st)
{
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
	struct ujo_writer w;
	struct ujo_json_error e;
	size_t pos = 0;
	ujo_buf_reset(in);
	ujo_w_init_bare(&w, in);
	int rc = ujo_json_parse(line, n, &pos, &w, UJO_JSON_BARE, &e);
	if (rc == 0) return 0; /* blank line */
	if (rc == UJO_E_NOMEM) {
		log_error("out of memory");
		return -1;
	}
	if (rc < 0 || (rc = ujo_w_finish(&w)) < 0) {
		if (rc == UJO_JSON_E_SYNTAX)
			log_error("input line %llu, column %u: %s; line skipped", lineno, e.column, e.msg);
		else
			log_error("input line %llu: %s; line skipped", lineno, ujo_json_strerror(rc));
		st->bad_lines++;
		return 0;
	}
	st->lines++;
	if (brick_process(b, in->data, in->len, port) < 0) st->failed++;
	return 0;
}

/* Non-inlet: lines from stdin until EOF, a stop or --count. */
static int run_lines(struct brick *b, const char *port, struct stats *st)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	struct ujo_buf in;
	unsigned long long lineno = 0;
	bool skipping = false, eof = false;
	int rc = 0;
	ujo_buf_init(&in);
	if (!buf) return EX_OSERR;
	while (!atomic_load(&L.stopping)) {
		/* complete lines */
		size_t start = 0;
		char *nl;
		while (!atomic_load(&L.stopping) && (nl = memchr(buf + start, '\n', len - start))) {
			size_t n = (size_t)(nl - (buf + start));
			lineno++;
			if (!skipping && handle_line(b, buf + start, n, lineno, port, &in, st) < 0) {
				rc = EX_OSERR;
				goto out;
			}
			skipping = false;
			start += n + 1;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
		if (atomic_load(&L.stopping)) break;
		if (eof) {
			if (len && !skipping && handle_line(b, buf, len, ++lineno, port, &in, st) < 0) rc = EX_OSERR;
			break;
		}
		if (len >= MAX_LINE) {
			if (!skipping) {
				log_error("input line %llu: longer than %u bytes; line skipped", lineno + 1, MAX_LINE);
				st->bad_lines++;
			}
			skipping = true;
			len = 0;
		}
		if (len == cap) {
			size_t ncap = cap * 2 > MAX_LINE + 1 ? MAX_LINE + 1 : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = EX_OSERR;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		struct pollfd pf[2] = {{.fd = L.in, .events = POLLIN}, {.fd = L.main_wake[0], .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR) continue;
			log_error("poll: %s", strerror(errno));
			rc = EX_OSERR;
			break;
		}
		if (pf[1].revents & POLLIN) drain(L.main_wake[0]);
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
		ssize_t r = read(L.in, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) continue;
			log_error("cannot read standard input: %s", strerror(errno));
			rc = EX_IOERR;
			break;
		}
		if (r == 0) eof = true;
		len += (size_t)r;
	}
out:
	free(buf);
	ujo_buf_free(&in);
	return rc;
}

/* ------------------------------------------------------------------ */

static int usage_error(const char *what, const char *arg)
{
	log_error("%s%s%s (see titan-run-brick --local --help)", what, arg ? " " : "", arg ? arg : "");
	return EX_USAGE;
}

static const char *base_name(const char *path, char *buf, size_t n)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/') len--;
	const char *s = path + len;
	while (s > path && s[-1] != '/') s--;
	size_t bl = (size_t)(path + len - s);
	if (bl >= 3 && strncmp(s + bl - 3, ".py", 3) == 0) bl -= 3;
	snprintf(buf, n, "%.*s", (int)bl, s);
	return buf;
}

static int run(int argc, char **argv, char **params, const char **out_ports)
{
	const char *path = NULL, *module = NULL, *params_file = NULL, *in_port = "input", *config = NULL;
	const char *flow_uid = "F-local", *flow_name = "local", *brick_uid = "B-local", *brick_name = NULL;
	const char *repo = NULL;
	int nparams = 0, nout = 0;
	bool force_plain = false, force_inlet = false;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":c:", options, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_LOCAL: path = optarg; break;
		case O_PARAM: params[nparams++] = optarg; break;
		case O_PARAMS: params_file = optarg; break;
		case O_MODULE: module = optarg; break;
		case O_INPORT: in_port = optarg; break;
		case O_OUTPORT: out_ports[nout++] = optarg; break;
		case O_COUNT:
			errno = 0;
			L.count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || L.count == 0 || optarg[0] == '-')
				return usage_error("--count needs a positive number, not", optarg);
			break;
		case O_PLAIN: force_plain = true; break;
		case O_INLET: force_inlet = true; break;
		case O_IGNSTDIN: L.ignore_stdin = true; break;
		case O_TYPED: L.flags |= UJO_JSON_TYPED; break;
		case O_STOPTO:
			L.stop_timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(L.stop_timeout > 0 && L.stop_timeout < 86400))
				return usage_error("--stop-timeout needs seconds, not", optarg);
			break;
		case O_FLOWUID: flow_uid = optarg; break;
		case O_FLOWNAME: flow_name = optarg; break;
		case O_BRICKUID: brick_uid = optarg; break;
		case O_BRICKNAME: brick_name = optarg; break;
		case O_REPO: repo = optarg; break;
		case 'c': config = optarg; break;
		case O_HELP: fputs(usage_text, stdout); return 0;
		case ':': return usage_error("a value is missing after", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc) return usage_error("unexpected argument", argv[optind]);
	if (!path || !*path) return usage_error("--local needs a brick folder or .py file", NULL);

	struct cfg cfg;
	char err[1024];
	cfg_init(&cfg);
	if (cfg_load(&cfg, config, err, sizeof err) < 0 ||
	    (repo && cfg_set(&cfg, "RepositoryService", repo, err, sizeof err) < 0)) {
		log_error("%s", err);
		cfg_free(&cfg);
		return EX_CONFIG;
	}
	char *params_json = NULL;
	int rc = build_params(params_file, params, nparams, &params_json);
	if (rc) {
		cfg_free(&cfg);
		return rc;
	}

	/* Signals: a handler (any thread) writes the number to a pipe that
	 * the control thread reads. SA_RESTART: Python retries the rest. */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	if (pipe2(L.sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0) {
		log_error("cannot set up signals: %s", strerror(errno));
		cJSON_free(params_json);
		cfg_free(&cfg);
		return EX_OSERR;
	}
	int outfd = fcntl(1, F_DUPFD_CLOEXEC, 3), null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	L.in = fcntl(0, F_DUPFD_CLOEXEC, 3);
	if (outfd < 0 || L.in < 0 || null < 0 || pipe2(L.ctl_wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(L.main_wake, O_CLOEXEC | O_NONBLOCK) < 0 || dup2(2, 1) < 0 || dup2(null, 0) < 0 ||
	    !(L.out = fdopen(outfd, "w"))) {
		log_error("cannot set up: %s", strerror(errno));
		cJSON_free(params_json);
		cfg_free(&cfg);
		return EX_OSERR;
	}
	close(null);
	ujo_buf_init(&L.line);
	pthread_t ctl;
	if (pthread_create(&ctl, NULL, control, NULL) != 0) {
		log_error("cannot start a thread");
		cJSON_free(params_json);
		cfg_free(&cfg);
		return EX_OSERR;
	}

	char namebuf[256];
	if (!brick_name) brick_name = module ? module : base_name(path, namebuf, sizeof namebuf);
	if (nout == 0) out_ports[0] = "output";
	struct brick_def def = {
		.path = path,
		.module = module,
		.params_json = params_json,
		.flow_uid = flow_uid,
		.flow_name = flow_name,
		.brick_uid = brick_uid,
		.brick_name = brick_name,
		.runner_uid = "R-local",
		.default_port = out_ports[0],
		.out_ports = out_ports,
		.n_out_ports = (size_t)nout, /* 0: any port name is accepted */
		.secret_key = cfg.secret_key,
		.repo_address = cfg.reposervice_address,
		.emit = l_emit,
		.log = l_log,
	};
	struct brick_opts bo = {.force_plain = force_plain};
	enum brick_load_error why;
	struct brick *b;
	struct stats st = {0, 0, 0};
	int status = 0;
	if (brick_load_opts(&b, &def, &bo, err, sizeof err, &why) < 0) {
		log_error("%s", err);
		status = why == BRICK_LOAD_NOT_FOUND ? EX_NOINPUT : EX_SOFTWARE;
		b = NULL;
	}
	if (b) {
		bool inlet = force_inlet || brick_is_inlet_class(b);
		pthread_mutex_lock(&L.ctl_lock);
		L.b = b;
		L.inlet = inlet;
		L.proc_started = true;
		pthread_mutex_unlock(&L.ctl_lock);
		poke(L.ctl_wake[1]); /* watch stdin (inlet), or call stop_processing now */
		if (inlet) {
			/* Runs even when stdin is already at its end (then it is
			 * stopped at once); not after an interrupt. */
			if (!atomic_load(&L.signalled) && brick_process(b, NULL, 0, "TRIGGER") < 0) st.failed++;
		} else {
			status = run_lines(b, in_port, &st);
		}
	}
	pthread_mutex_lock(&L.ctl_lock);
	L.proc_done = L.done = true;
	pthread_mutex_unlock(&L.ctl_lock);
	poke(L.ctl_wake[1]);
	pthread_join(ctl, NULL);
	if (b) brick_unload(b);

	if (fclose(L.out) != 0 && !L.out_failed) {
		log_error("cannot write to standard output: %s", strerror(errno));
		L.out_failed = true;
	}
	if (status == 0) {
		if (L.out_failed) status = EX_IOERR;
		else if (st.bad_lines) status = EX_DATAERR;
		else if (st.failed) status = EX_BRICK;
	}
	if (st.bad_lines || st.failed)
		log_info("%llu input line(s) processed, %llu not JSON, %llu failed in the brick", st.lines,
			 st.bad_lines, st.failed);
	ujo_buf_free(&L.line);
	cJSON_free(params_json);
	cfg_free(&cfg);
	return status;
}

int local_main(int argc, char **argv)
{
	log_init("titan-run-brick");
	char **params = calloc((size_t)argc, sizeof *params);
	const char **out_ports = calloc((size_t)argc + 1, sizeof *out_ports);
	int status = params && out_ports ? run(argc, argv, params, out_ports) : EX_OSERR;
	free(params);
	free(out_ports);
	return status;
}
