/* bench/metrics-pipe — titan-metrics-pipe end to end: lines/s from a file
 * into the mock Kafka broker (tests/helpers/mockbroker, its own process)
 * with delivery reports on (idempotent producer, acks=all), and the
 * pipe's peak RSS.
 *
 * A file of BENCH_LINES titan-packet-metrics lines (titanfe's fields, about
 * 400 bytes each) is written once; the pipe reads it, pickles each record
 * (and, in a second run, --metrics-format json passes it on as is) and
 * exits when every delivery report is in. The time is the pipe's whole
 * life: start, connect, read, encode, produce, final acknowledgements.
 *
 * The programs are found next to this one (build/bench/ -> build/bin/,
 * build/helpers/) or in $TITAN_BIN and $TITAN_HELPERS. Prints one JSON
 * line. Target: >= 200000 lines/s. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_LINES 500000
#define TARGET 200000
#define PATH_LEN 4096

struct paths {
	char pipe[PATH_LEN], broker[PATH_LEN];
	char dir[64], data[128], addr[128], err[128];
};

struct result {
	double secs;
	long rss_kb;
	long delivered;
};

static void die(const char *what)
{
	fprintf(stderr, "bench/metrics-pipe: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* $ENV/name, else ../SUB/name next to this executable. */
static void locate(char *out, const char *env, const char *sub, const char *name)
{
	char self[PATH_LEN];
	const char *d = getenv(env);
	int n;
	if (d != NULL && *d != '\0') {
		n = snprintf(out, PATH_LEN, "%s/%s", d, name);
	} else {
		ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
		if (len < 0) die("readlink /proc/self/exe");
		self[len] = '\0';
		*strrchr(self, '/') = '\0';
		n = snprintf(out, PATH_LEN, "%.3000s/../%s/%s", self, sub, name);
	}
	if (n < 0 || n >= PATH_LEN) die("path too long");
	errno = 0;
	if (access(out, X_OK) != 0) {
		fprintf(stderr, "bench/metrics-pipe: %s is missing: build it first (make)\n", out);
		exit(1);
	}
}

static long write_data(const char *path)
{
	FILE *f = fopen(path, "w");
	long bytes = 0;
	if (f == NULL) die("cannot write the data file");
	for (int i = 0; i < BENCH_LINES; i++) {
		int n = fprintf(f,
			"{\"content_type\":\"titan-packet-metrics\",\"flow\":\"Flow\",\"brick\":\"Brick-%d\","
			"\"brick_type\":\"Transformer\",\"brick_family\":\"Transform\",\"runner\":\"R-%08x\","
			"\"host\":\"node1\",\"timestamp\":\"2024-05-06T07:08:09.%06d\",\"packet\":\"P-%08x\","
			"\"execution_time\":%d.25,\"traveling_time\":12.5,\"time_in_input\":0.5,"
			"\"time_in_output\":0.125,\"time_on_wire\":1.0625,\"at_outlet\":false}\n",
			i % 16, 0x0a1b2c3d + i % 16, i % 1000000, i, i % 10);
		if (n < 0) die("cannot write the data file");
		bytes += n;
	}
	if (fclose(f) != 0) die("cannot write the data file");
	return bytes;
}

/* Start the broker with one single-partition topic per run; returns its pid. */
static pid_t start_broker(const struct paths *p)
{
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(p->broker, p->broker, "-t", "bench.pickle", "-t", "bench.json", "-a", p->addr, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		struct stat st;
		if (stat(p->addr, &st) == 0 && st.st_size > 0) return pid;
		usleep(50000);
	}
	die("the mock broker did not start");
	return -1;
}

static void read_addr(const struct paths *p, char *addr, size_t n)
{
	FILE *f = fopen(p->addr, "r");
	if (f == NULL || fgets(addr, (int)n, f) == NULL) die("cannot read the broker address");
	fclose(f);
	addr[strcspn(addr, "\n")] = '\0';
}

/* "delivered=N" of the pipe's last stderr line. */
static long delivered(const char *errfile)
{
	char line[1024];
	long d = -1;
	FILE *f = fopen(errfile, "r");
	if (f == NULL) return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *s = strstr(line, " delivered=");
		if (s != NULL && strstr(line, "stopped") != NULL) d = strtol(s + 11, NULL, 10);
	}
	fclose(f);
	return d;
}

static struct result run_pipe(const struct paths *p, const char *addr, const char *topic, const char *format)
{
	struct result r = {0};
	struct rusage ru;
	int st;
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(err, 2);
		setenv("TITAN_CONFIG", "/dev/null", 1);
		execl(p->pipe, p->pipe, "-k", addr, "--metrics-topic", topic, "--metrics-format", format, p->data,
			(char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0) die("wait4");
	r.secs = now_s() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("the pipe failed (see its stderr in the bench directory)");
	r.rss_kb = ru.ru_maxrss;
	r.delivered = delivered(p->err);
	if (r.delivered != BENCH_LINES) die("the pipe did not deliver every line");
	return r;
}

int main(void)
{
	struct paths p;
	char addr[256];
	locate(p.pipe, "TITAN_BIN", "bin", "titan-metrics-pipe");
	locate(p.broker, "TITAN_HELPERS", "helpers", "mockbroker");
	snprintf(p.dir, sizeof p.dir, "/tmp/bench-metrics-pipe-XXXXXX");
	if (mkdtemp(p.dir) == NULL) die("mkdtemp");
	snprintf(p.data, sizeof p.data, "%s/lines", p.dir);
	snprintf(p.addr, sizeof p.addr, "%s/addr", p.dir);
	snprintf(p.err, sizeof p.err, "%s/stderr", p.dir);

	long bytes = write_data(p.data);
	pid_t broker = start_broker(&p);
	read_addr(&p, addr, sizeof addr);
	struct result pk = run_pipe(&p, addr, "bench.pickle", "pickle");
	struct result js = run_pipe(&p, addr, "bench.json", "json");
	kill(broker, SIGTERM);
	waitpid(broker, NULL, 0);
	unlink(p.data);
	unlink(p.addr);
	unlink(p.err);
	rmdir(p.dir);

	printf("{\"bench\":\"metrics-pipe\",\"lines\":%d,\"bytes\":%ld,"
	       "\"pickle_lines_per_s\":%.0f,\"pickle_seconds\":%.3f,\"pickle_peak_rss_kb\":%ld,"
	       "\"json_lines_per_s\":%.0f,\"json_seconds\":%.3f,\"json_peak_rss_kb\":%ld,"
	       "\"delivery_reports\":true,\"target_lines_per_s\":%d,\"target_met\":%s}\n",
		BENCH_LINES, bytes, BENCH_LINES / pk.secs, pk.secs, pk.rss_kb, BENCH_LINES / js.secs, js.secs,
		js.rss_kb, TARGET, BENCH_LINES / pk.secs >= TARGET ? "true" : "false");
	return 0;
}
