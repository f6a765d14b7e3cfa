/* record.c — one telemetry line: check it, find its kind by content_type,
 * and encode it as titanfe puts it on Kafka (titanfe-protocol.md §12, §13):
 *
 *  - metric records: pickle.dumps(dict) with protocol 3 (pickle.h), the
 *    keys in the order of the line, or the line itself with
 *    --metrics-format json;
 *  - titan-log records: a UJO map with UTF-8 keys, in titanfe's order.
 *
 * JSON numbers carry no int/float distinction once cJSON has read them,
 * but the consumers see Python types. The original's millisecond fields
 * are floats, so those names are always written as floats; any other
 * number is an int when it is integral (queue_length, counts), a float
 * otherwise.
 */
#include "pipe.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pickle.h"

/* The float fields of titanfe's metric dataclasses (metrics.py). */
static const char *const float_fields[] = {
	"execution_time", "traveling_time", "time_in_input", "time_in_output", "time_on_wire",
};

/* The keys of titanfe's Kafka log map, in its order (log.py). */
enum { LOG_TIMESTAMP = 0, LOG_HOSTNAME = 3 };
static const char *const log_keys[] = {
	"Timestamp", "Severity", "Message", "Hostname", "Servicename",
	"Source", "FlowUID", "FlowName", "BrickUID", "BrickName",
};

void encoder_init(struct encoder *e, bool metrics_json)
{
	e->metrics_json = metrics_json;
	ujo_buf_init(&e->buf);
}

void encoder_free(struct encoder *e)
{
	ujo_buf_free(&e->buf);
}

/* --- checks on the raw line --------------------------------------------- */

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above
 * U+10FFFF. JSON text must be UTF-8, and pickle.loads and the UJO
 * consumers decode strings strictly. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		/* ASCII runs, eight bytes at a time */
		while (i + 8 <= n) {
			uint64_t v;
			memcpy(&v, s + i, 8);
			if (v & 0x8080808080808080ull) break;
			i += 8;
		}
		if (i >= n) break;
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k; /* continuation bytes */
		if (c >= 0xc2 && c <= 0xdf) k = 1;
		else if (c >= 0xe0 && c <= 0xef) k = 2;
		else if (c >= 0xf0 && c <= 0xf4) k = 3;
		else return false;
		if (n - i <= k) return false;
		unsigned c1 = s[i + 1];
		if ((c1 & 0xc0) != 0x80) return false;
		if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
			(c == 0xf4 && c1 > 0x8f))
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80) return false;
		i += k + 1;
	}
	return true;
}

/* A \u0000 escape (an odd run of backslashes before "u0000"): cJSON
 * would cut the string there without a word. */
static bool has_nul_escape(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	while ((p = memmem(p, (size_t)(end - p), "u0000", 5)) != NULL) {
		size_t bs = 0;
		for (const char *q = p; q > s && q[-1] == '\\'; q--) bs++;
		if (bs % 2 == 1) return true;
		p += 5;
	}
	return false;
}

static void invalid(struct record *r, const char *why)
{
	r->kind = REC_INVALID;
	r->why = why;
	cJSON_Delete(r->json);
	r->json = NULL;
}

/* --- metric records ------------------------------------------------------- */

static bool is_float_field(const char *key)
{
	if (key == NULL) return false;
	for (size_t i = 0; i < sizeof float_fields / sizeof float_fields[0]; i++)
		if (strcmp(key, float_fields[i]) == 0) return true;
	return false;
}

static void pickle_number(struct pickle_writer *w, double d, bool as_float)
{
	/* integral and inside int64 (2^63 is exactly representable) */
	if (!as_float && d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
		pickle_w_int(w, (int64_t)d);
	else
		pickle_w_float(w, d);
}

/* One JSON value as the Python object json.loads would give (with the
 * number rule above). key: its name when it is a top-level field. */
static void pickle_json(struct pickle_writer *w, const cJSON *v, const char *key)
{
	if (cJSON_IsNull(v)) {
		pickle_w_none(w);
	} else if (cJSON_IsBool(v)) {
		pickle_w_bool(w, cJSON_IsTrue(v));
	} else if (cJSON_IsNumber(v)) {
		pickle_number(w, v->valuedouble, is_float_field(key));
	} else if (cJSON_IsString(v)) {
		pickle_w_str(w, v->valuestring, strlen(v->valuestring));
	} else if (cJSON_IsArray(v)) {
		pickle_w_list(w, (size_t)cJSON_GetArraySize(v));
		for (const cJSON *c = v->child; c != NULL; c = c->next) pickle_json(w, c, NULL);
		pickle_w_end(w);
	} else { /* object */
		pickle_w_dict(w, (size_t)cJSON_GetArraySize(v));
		for (const cJSON *c = v->child; c != NULL; c = c->next) {
			pickle_w_str(w, c->string, strlen(c->string));
			pickle_json(w, c, NULL);
		}
		pickle_w_end(w);
	}
}

static void encode_metric(struct encoder *e, char *line, size_t len, struct record *r)
{
	if (e->metrics_json) { /* the line as written: numbers keep their form */
		r->data = line;
		r->len = len;
		return;
	}
	struct pickle_writer w;
	ujo_buf_reset(&e->buf);
	pickle_w_init(&w, &e->buf);
	/* top level by hand: the float rule applies to its field names */
	pickle_w_dict(&w, (size_t)cJSON_GetArraySize(r->json));
	for (const cJSON *c = r->json->child; c != NULL; c = c->next) {
		pickle_w_str(&w, c->string, strlen(c->string));
		pickle_json(&w, c, c->string);
	}
	pickle_w_end(&w);
	int rc = pickle_w_finish(&w);
	if (rc != 0) {
		invalid(r, rc == PICKLE_E_DEPTH ? "nested too deep for a metric record" : pickle_strerror(rc));
		return;
	}
	r->data = e->buf.data;
	r->len = e->buf.len;
}

/* --- log records ------------------------------------------------------------ */

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9') return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_ok(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1) return false;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y))) return false;
	return h <= 23 && mi <= 59 && s <= 59; /* Python's datetime has no leap second */
}

/* Fraction: milliseconds from the first three digits (µs // 1000, as the
 * UJO timestamp keeps them); more digits are read and dropped. */
static int fraction(const char **p, int *ms)
{
	int scale = 100, n = 0;
	*ms = 0;
	if (**p != '.' && **p != ',') return 0;
	(*p)++;
	for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
		*ms += (**p - '0') * scale;
		scale /= 10;
	}
	return n > 0 ? 0 : -1;
}

/* Zone: none (naive, kept as is), Z, +hh:mm, +hhmm, +hh. */
static int zone(const char **p, bool *has, long *off)
{
	int h = 0, m = 0;
	*has = false;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*has = true;
		*off = 0;
		return 0;
	}
	if (**p != '+' && **p != '-') return 0;
	int sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, 2, &h) < 0) return -1;
	if (**p == ':') { /* +hh:mm */
		(*p)++;
		if (digits(p, 2, &m) < 0) return -1;
	} else if (**p >= '0' && **p <= '9' && digits(p, 2, &m) < 0) { /* +hhmm */
		return -1;
	}
	if (h > 23 || m > 59) return -1;
	*has = true;
	*off = sign * (h * 3600L + m * 60L);
	return 0;
}

static void from_tm(struct ujo_datetime *t, const struct tm *tm, int ms)
{
	*t = (struct ujo_datetime){
		.year = (int16_t)(tm->tm_year + 1900), .month = (uint8_t)(tm->tm_mon + 1),
		.day = (uint8_t)tm->tm_mday, .hour = (uint8_t)tm->tm_hour, .minute = (uint8_t)tm->tm_min,
		.second = (uint8_t)tm->tm_sec, .msec = (uint16_t)ms,
	};
}

/* A time with a zone becomes the local time of the same instant: titanfe
 * sends naive local times (datetime.fromtimestamp). */
static int to_local(struct tm *tm, long off)
{
	time_t t = timegm(tm) - off;
	struct tm lt;
	if (localtime_r(&t, &lt) == NULL) return -1;
	*tm = lt;
	return 0;
}

int record_parse_time(const char *s, struct ujo_datetime *t)
{
	int y, mo, d, h, mi, sec, ms;
	bool has_zone;
	long off = 0;
	const char *p = s;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ') return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (fraction(&p, &ms) || zone(&p, &has_zone, &off) || *p != '\0') return -1;
	if (!date_ok(y, mo, d, h, mi, sec)) return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
	if (has_zone && to_local(&tm, off) < 0) return -1;
	if (tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) return -1;
	from_tm(t, &tm, ms);
	return 0;
}

/* No Timestamp: the time the pipe saw the record, local, as titanfe's. */
static void time_now(struct ujo_datetime *t)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	from_tm(t, &tm, (int)(ts.tv_nsec / 1000000));
}

/* This node's name, for records without Hostname: the runner that wrote
 * them runs here, and titanfe's Hostname is platform.node(). */
static const char *hostname(void)
{
	static char name[256];
	if (name[0] == '\0' && gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
	return name;
}

/* Check the log fields; their values go to vals[] ("" when absent or
 * null, as titanfe's context defaults; Hostname: this host). Returns a
 * reason or NULL. */
static const char *log_fields(const cJSON *o, struct ujo_datetime *ts, const char *vals[])
{
	static const char *const not_string[] = {
		NULL, "Severity is not a string", "Message is not a string", "Hostname is not a string",
		"Servicename is not a string", "Source is not a string", "FlowUID is not a string",
		"FlowName is not a string", "BrickUID is not a string", "BrickName is not a string",
	};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "Timestamp");
	if (t == NULL || cJSON_IsNull(t)) time_now(ts);
	else if (!cJSON_IsString(t) || record_parse_time(t->valuestring, ts) < 0)
		return "Timestamp is not an ISO 8601 date and time";
	for (size_t i = 1; i < sizeof log_keys / sizeof log_keys[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, log_keys[i]);
		vals[i] = i == LOG_HOSTNAME ? hostname() : "";
		if (v == NULL || cJSON_IsNull(v)) continue;
		if (!cJSON_IsString(v)) return not_string[i];
		vals[i] = v->valuestring;
	}
	return NULL;
}

static void encode_log(struct encoder *e, struct record *r)
{
	struct ujo_datetime ts;
	const char *vals[sizeof log_keys / sizeof log_keys[0]];
	const char *why = log_fields(r->json, &ts, vals);
	if (why != NULL) {
		invalid(r, why);
		return;
	}
	struct ujo_writer w;
	ujo_buf_reset(&e->buf);
	ujo_w_init(&w, &e->buf);
	ujo_w_map(&w);
	ujo_w_utf8(&w, log_keys[LOG_TIMESTAMP], strlen(log_keys[LOG_TIMESTAMP]));
	ujo_w_timestamp(&w, &ts);
	for (size_t i = 1; i < sizeof log_keys / sizeof log_keys[0]; i++) {
		ujo_w_utf8(&w, log_keys[i], strlen(log_keys[i]));
		ujo_w_utf8(&w, vals[i], strlen(vals[i]));
	}
	ujo_w_end(&w);
	if (ujo_w_finish(&w) != 0) {
		invalid(r, "cannot encode the log map");
		return;
	}
	r->data = e->buf.data;
	r->len = e->buf.len;
}

/* --- one line ----------------------------------------------------------------- */

static void classify(struct record *r, const char *ct)
{
	static const struct {
		const char *name;
		enum rec_kind kind;
	} kinds[] = {
		{"titan-brick-metrics", REC_BRICK}, {"titan-packet-metrics", REC_PACKET},
		{"titan-queue-metrics", REC_QUEUE}, {"titan-log", REC_LOG},
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(ct, kinds[i].name) == 0) {
			r->kind = kinds[i].kind;
			return;
		}
	r->kind = REC_UNKNOWN;
	size_t n = strlen(ct);
	if (n >= sizeof r->ctype) { /* cut, not inside a UTF-8 sequence */
		n = sizeof r->ctype - 1;
		while (n > 0 && ((unsigned char)ct[n] & 0xc0) == 0x80) n--;
	}
	memcpy(r->ctype, ct, n);
	r->ctype[n] = '\0';
}

/* Parse and look up content_type; returns a reason when the line is not
 * a record at all. */
static const char *parse(char *line, size_t len, struct record *r)
{
	if (memchr(line, '\0', len) != NULL) return "NUL byte in the line";
	if (!utf8_valid((const unsigned char *)line, len)) return "invalid UTF-8";
	if (has_nul_escape(line, len)) return "\\u0000 in a string";
	/* len + 1: with require_null_terminated, cJSON wants the NUL inside
	 * the length it is given, and nothing but blanks before it */
	r->json = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
	if (r->json == NULL) return "not JSON";
	if (!cJSON_IsObject(r->json)) return "not a JSON object";
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(r->json, "content_type");
	if (!cJSON_IsString(ct)) return "no content_type string";
	classify(r, ct->valuestring);
	return NULL;
}

void record_parse(struct encoder *e, char *line, size_t len, struct record *r)
{
	memset(r, 0, sizeof *r);
	const char *why = parse(line, len, r);
	if (why != NULL) invalid(r, why);
	else if (r->kind == REC_LOG) encode_log(e, r);
	else if (r->kind != REC_UNKNOWN) encode_metric(e, line, len, r);
}

void record_done(struct record *r)
{
	cJSON_Delete(r->json);
	r->json = NULL;
}
