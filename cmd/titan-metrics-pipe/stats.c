/* stats.c — counters as text and rate-limited warnings. */
#include "pipe.h"

#include <stdio.h>
#include <time.h>

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void stats_format(struct counters *c, char *buf, size_t n)
{
	snprintf(buf, n,
		"read=%llu oversize=%llu invalid=%llu unknown=%llu delivered=%llu failed=%llu dropped=%llu queued=%llu",
		(unsigned long long)cnt_get(&c->read), (unsigned long long)cnt_get(&c->oversize),
		(unsigned long long)cnt_get(&c->invalid), (unsigned long long)cnt_get(&c->unknown),
		(unsigned long long)cnt_get(&c->delivered), (unsigned long long)cnt_get(&c->failed),
		(unsigned long long)cnt_get(&c->dropped), (unsigned long long)cnt_get(&c->queued));
}

/* A flood of bad lines must not become a flood of log lines (stderr goes
 * to s6-log and the disk): the first warning passes, then one a second. */
bool warn_ok(struct warn *w, char suffix[WARN_SUFFIX])
{
	double t = now_s();
	if (w->last != 0 && t - w->last < METRICS_WARN_INTERVAL_S) {
		w->suppressed++;
		return false;
	}
	w->last = t;
	suffix[0] = '\0';
	if (w->suppressed > 0)
		snprintf(suffix, WARN_SUFFIX, " suppressed=%llu", (unsigned long long)w->suppressed);
	w->suppressed = 0;
	return true;
}
