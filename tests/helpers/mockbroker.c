/* mockbroker — a Kafka cluster for tests, on librdkafka's mock cluster, in a
 * process of its own so that the program under test and kcat reach it over
 * real TCP like any broker.
 *
 * usage: mockbroker [-n BROKERS] [-t TOPIC[:PARTITIONS]]... [-a ADDRFILE]
 *                   [-s STATEFILE] [-r RTT_MS] [-d]
 *
 *   -n  number of brokers (default 1)
 *   -t  create TOPIC with PARTITIONS partitions (default 1) before anyone
 *       connects; other topics are auto-created with 4 partitions (the mock's
 *       default), which breaks ordering, so tests name theirs here
 *   -a  also write the bootstrap address to ADDRFILE (written whole and
 *       renamed into place, so a reader never sees half a line)
 *   -s  write "up" or "down" to STATEFILE after every change of state
 *   -r  round-trip delay of every broker in ms (a slow Kafka)
 *   -d  start with every broker down (Kafka unreachable at start)
 *
 * It prints the bootstrap address on stdout. Control:
 *   SIGUSR1  every broker down (connections closed, new ones refused)
 *   SIGUSR2  every broker up
 *   SIGTERM, SIGINT  exit
 * and the same as commands on stdin, one a line: "down", "up", "rtt MS",
 * "quit". End of stdin is ignored (bats gives background jobs /dev/null).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 32

struct opts {
	int brokers, rtt;
	const char *addrfile, *statefile;
	const char *topics[MAX_TOPICS];
	int parts[MAX_TOPICS];
	int ntopics;
	int down;
};

static void die(const char *msg)
{
	fprintf(stderr, "mockbroker: error: %s\n", msg);
	exit(1);
}

/* Write text to path via a temporary file and rename(2). */
static void write_file(const char *path, const char *text)
{
	char tmp[4096];
	if (path == NULL) return;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) die("path too long");
	FILE *f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		die("cannot write a file given with -a or -s");
}

static void add_topic(struct opts *o, char *arg)
{
	if (o->ntopics == MAX_TOPICS) die("too many -t");
	char *colon = strrchr(arg, ':');
	o->parts[o->ntopics] = 1;
	if (colon != NULL) {
		*colon = '\0';
		o->parts[o->ntopics] = atoi(colon + 1);
		if (o->parts[o->ntopics] < 1) die("bad partition count");
	}
	o->topics[o->ntopics++] = arg;
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;
	o->brokers = 1;
	while ((c = getopt(argc, argv, "n:t:a:s:r:d")) != -1) {
		switch (c) {
		case 'n': o->brokers = atoi(optarg); break;
		case 't': add_topic(o, optarg); break;
		case 'a': o->addrfile = optarg; break;
		case 's': o->statefile = optarg; break;
		case 'r': o->rtt = atoi(optarg); break;
		case 'd': o->down = 1; break;
		default: die("usage: mockbroker [-n N] [-t TOPIC[:P]]... [-a FILE] [-s FILE] [-r MS] [-d]");
		}
	}
	if (o->brokers < 1 || o->brokers > 16) die("-n takes 1 to 16");
}

static void set_state(rd_kafka_mock_cluster_t *mc, const struct opts *o, int up)
{
	/* -1 = every broker (librdkafka >= 2.0) */
	if (up) rd_kafka_mock_broker_set_up(mc, -1);
	else rd_kafka_mock_broker_set_down(mc, -1);
	write_file(o->statefile, up ? "up" : "down");
	fprintf(stderr, "mockbroker: %s\n", up ? "up" : "down");
}

/* One stdin command; returns 1 for quit. */
static int command(rd_kafka_mock_cluster_t *mc, const struct opts *o, const char *line)
{
	int ms;
	if (strcmp(line, "down") == 0) set_state(mc, o, 0);
	else if (strcmp(line, "up") == 0) set_state(mc, o, 1);
	else if (sscanf(line, "rtt %d", &ms) == 1) rd_kafka_mock_broker_set_rtt(mc, -1, ms);
	else if (strcmp(line, "quit") == 0) return 1;
	else if (line[0] != '\0') fprintf(stderr, "mockbroker: unknown command: %s\n", line);
	return 0;
}

/* Read what stdin has and run complete lines; returns 1 for quit. */
static int read_commands(rd_kafka_mock_cluster_t *mc, const struct opts *o, int *eof)
{
	static char buf[1024];
	static size_t len;
	ssize_t n = read(0, buf + len, sizeof buf - 1 - len);
	if (n <= 0) {
		if (n == 0 || errno != EINTR) *eof = 1;
		return 0;
	}
	len += (size_t)n;
	buf[len] = '\0';
	char *nl;
	while ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		if (command(mc, o, buf)) return 1;
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len + 1);
	}
	if (len == sizeof buf - 1) len = 0; /* an endless line: forget it */
	return 0;
}

static void serve(rd_kafka_mock_cluster_t *mc, const struct opts *o, int sfd)
{
	int eof = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = eof ? -1 : 0, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR) die("poll");
		if (p[1].revents && read_commands(mc, o, &eof)) return;
		if (!(p[0].revents & POLLIN)) continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si) continue;
		if (si.ssi_signo == SIGUSR1) set_state(mc, o, 0);
		else if (si.ssi_signo == SIGUSR2) set_state(mc, o, 1);
		else return;
	}
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	char err[512];
	parse(argc, argv, &o);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* before librdkafka starts threads, so they inherit the mask */
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) die("signalfd");

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* the handle only owns the mock; it never connects anywhere */
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (rk == NULL) die(err);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, o.brokers);
	if (mc == NULL) die("cannot create the mock cluster");
	for (int i = 0; i < o.ntopics; i++)
		if (rd_kafka_mock_topic_create(mc, o.topics[i], o.parts[i], 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
			die("cannot create a topic");
	if (o.rtt > 0) rd_kafka_mock_broker_set_rtt(mc, -1, o.rtt);
	if (o.down) set_state(mc, &o, 0);
	else write_file(o.statefile, "up");

	const char *addr = rd_kafka_mock_cluster_bootstraps(mc);
	printf("%s\n", addr);
	fflush(stdout);
	write_file(o.addrfile, addr);

	serve(mc, &o, sfd);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
