/* bench/pm — titan-pm-httpd: time to accept a 1 MiB package with 10
 * bricks, and GET /bricks requests per second.
 *
 * Starts the real server (TITAN_BIN or build/bin) on an ephemeral loopback
 * port with a scratch package folder, builds a package of 10 bricks with
 * about 100 KiB of incompressible data each, uploads it UPLOADS times (the
 * first installs, the others update: extraction, checks, zips, SQLite
 * commit, answer) and then reads GET /packagemanager/bricks for
 * GET_SECONDS from CLIENTS threads, once with a new connection per request
 * (common/http.h) and once over keep-alive connections. Prints one JSON
 * line. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "archive.h"
#include "http.h"

#define BRICKS 10
#define BRICK_DATA (100 * 1024)
#define UPLOADS 10
#define CLIENTS 4
#define GET_SECONDS 2.0

static char tmp[64], base[128];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench/pm: %s\n", what);
	exit(1);
}

static void put(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0)
		die(path);
}

/* tmp/src/bench/{package.yaml, B<i>/{description.yaml, b<i>.py, data.bin}} -> tmp/pkg.zip */
static void build_package(void)
{
	char p[256], text[256];
	unsigned char *rnd = malloc(BRICK_DATA);
	snprintf(p, sizeof p, "%s/src", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/src/bench", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/src/bench/package.yaml", tmp);
	snprintf(text, sizeof text, "Name: bench\nAuthor: bench\nPackage: \"bench:bench:1.0.0\"\n");
	put(p, text, strlen(text));
	for (int i = 0; i < BRICKS; i++) {
		snprintf(p, sizeof p, "%s/src/bench/B%d", tmp, i);
		mkdir(p, 0755);
		snprintf(p, sizeof p, "%s/src/bench/B%d/description.yaml", tmp, i);
		snprintf(text, sizeof text, "Name: B%d\nFamily: General\nParameters:\n  - Name: x\n    Value: 1\n", i);
		put(p, text, strlen(text));
		snprintf(p, sizeof p, "%s/src/bench/B%d/b%d.py", tmp, i, i);
		put(p, "class Brick: pass\n", 18);
		for (size_t got = 0; rnd && got < BRICK_DATA;)
			got += (size_t)getrandom(rnd + got, BRICK_DATA - got, 0);
		snprintf(p, sizeof p, "%s/src/bench/B%d/data.bin", tmp, i);
		put(p, rnd, BRICK_DATA);
	}
	free(rnd);
	char src[128], zip[128], err[256];
	snprintf(src, sizeof src, "%s/src", tmp);
	snprintf(zip, sizeof zip, "%s/pkg.zip", tmp);
	if (arc_zip_dir(src, NULL, zip, err, sizeof err) < 0)
		die(err);
}

static char *multipart(size_t *len)
{
	char zip[128];
	snprintf(zip, sizeof zip, "%s/pkg.zip", tmp);
	FILE *f = fopen(zip, "rb");
	struct stat sb;
	if (f == NULL || fstat(fileno(f), &sb) < 0)
		die("pkg.zip");
	static const char head[] = "--BENCHxBOUNDARY\r\nContent-Disposition: form-data; name=\"package\"; "
				   "filename=\"bench.zip\"\r\nContent-Type: application/zip\r\n\r\n";
	static const char tail[] = "\r\n--BENCHxBOUNDARY--\r\n";
	size_t n = (size_t)sb.st_size;
	char *body = malloc(sizeof head + n + sizeof tail);
	memcpy(body, head, sizeof head - 1);
	if (fread(body + sizeof head - 1, 1, n, f) != n)
		die("read pkg.zip");
	fclose(f);
	memcpy(body + sizeof head - 1 + n, tail, sizeof tail - 1);
	*len = sizeof head - 1 + n + sizeof tail - 1;
	return body;
}

static pid_t start_server(void)
{
	char bin[512], folder[128], portf[128];
	const char *dir = getenv("TITAN_BIN");
	snprintf(bin, sizeof bin, "%s/titan-pm-httpd", dir && *dir ? dir : "build/bin");
	snprintf(folder, sizeof folder, "%s/store", tmp);
	snprintf(portf, sizeof portf, "%s/port", tmp);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("TITAN_PM_PACKAGE_FOLDER", folder, 1);
		setenv("TITAN_PM_ADMIN_TOKENS", "bench", 1);
		setenv("TITAN_PM_USER_MANAGER", "", 1);
		setenv("TITAN_PM_CONFIG_FILE", "", 1);
		execl(bin, bin, "--port", "0", "--address", "127.0.0.1", "--port-file", portf, "--log-level",
			"warning", (char *)NULL);
		fprintf(stderr, "bench/pm: cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(portf, "r");
		unsigned port = 0;
		if (f != NULL && fscanf(f, "%u", &port) == 1 && port > 0) {
			fclose(f);
			snprintf(base, sizeof base, "http://127.0.0.1:%u/packagemanager", port);
			return pid;
		}
		if (f)
			fclose(f);
		usleep(25000);
	}
	kill(pid, SIGTERM);
	die("the server did not start (is build/bin/titan-pm-httpd built?)");
	return -1;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double bench_uploads(void)
{
	size_t len;
	char *body = multipart(&len), url[160], err[256];
	const char *hdrs[] = {"Authorization: bench", NULL};
	struct http_opts o = {.timeout_ms = 60000, .headers = hdrs};
	double t[UPLOADS];
	snprintf(url, sizeof url, "%s/packages", base);
	for (int i = 0; i < UPLOADS; i++) {
		struct http_resp r;
		double t0 = now_s();
		if (http_request("POST", url, "multipart/form-data; boundary=BENCHxBOUNDARY", body, len, &o, &r, err,
			    sizeof err) < 0 || r.status != 200) {
			fprintf(stderr, "bench/pm: upload: %s %s\n", err, r.body ? r.body : "");
			die("upload failed");
		}
		t[i] = (now_s() - t0) * 1000.0;
		http_resp_free(&r);
	}
	free(body);
	qsort(t, UPLOADS, sizeof *t, cmp_d);
	return t[UPLOADS / 2];
}

struct client {
	bool keepalive;
	long n;
};

static size_t sink(char *d, size_t s, size_t n, void *u)
{
	(void)d, (void)u;
	return s * n;
}

static void *client_run(void *arg)
{
	struct client *c = arg;
	char url[160], err[256];
	snprintf(url, sizeof url, "%s/bricks", base);
	CURL *h = c->keepalive ? curl_easy_init() : NULL;
	if (h) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	}
	double end = now_s() + GET_SECONDS;
	while (now_s() < end) {
		long st = 0;
		if (h) {
			if (curl_easy_perform(h) == CURLE_OK)
				curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
		} else {
			struct http_resp r;
			if (http_get(url, NULL, &r, err, sizeof err) == 0)
				st = r.status;
			http_resp_free(&r);
		}
		if (st != 200)
			die("GET /bricks failed");
		c->n++;
	}
	curl_easy_cleanup(h);
	return NULL;
}

static double bench_gets(bool keepalive)
{
	pthread_t th[CLIENTS];
	struct client c[CLIENTS];
	double t0 = now_s();
	for (int i = 0; i < CLIENTS; i++) {
		c[i] = (struct client){.keepalive = keepalive};
		pthread_create(&th[i], NULL, client_run, &c[i]);
	}
	long total = 0;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		total += c[i].n;
	}
	return (double)total / (now_s() - t0);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/bench-pm.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		die("mkdtemp");
	http_global_init();
	build_package();
	struct stat sb;
	char zip[128];
	snprintf(zip, sizeof zip, "%s/pkg.zip", tmp);
	stat(zip, &sb);
	pid_t pid = start_server();
	double up_ms = bench_uploads();
	double rps_new = bench_gets(false);
	double rps_ka = bench_gets(true);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	arc_rmtree(tmp);
	http_global_cleanup();
	printf("{\"bench\":\"pm\",\"package_bytes\":%lld,\"bricks\":%d,\"upload_median_ms\":%.1f,"
	       "\"get_bricks_rps_new_connection\":%.0f,\"get_bricks_rps_keepalive\":%.0f,\"clients\":%d}\n",
		(long long)sb.st_size, BRICKS, up_ms, rps_new, rps_ka, CLIENTS);
	return 0;
}
