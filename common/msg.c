/* msg.c — encode and decode titanfe runner-to-runner messages. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *msg_type_name(int64_t type)
{
	switch (type) {
	case MSG_PACKET: return "Packet";
	case MSG_PACKET_REQUEST: return "PacketRequest";
	case MSG_CONSUMER_REGISTRATION: return "ConsumerRegistration";
	default: return NULL;
	}
}

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int ujo_fail(int rc, const struct ujo_reader *r, char *err, size_t errlen)
{
	return fail(rc, err, errlen, "invalid UJO at offset %zu: %s", ujo_r_offset(r), ujo_strerror(rc));
}

/* Integer of any UJO integer type that fits an int64. */
static bool as_int64(const struct ujo_value *v, int64_t *out)
{
	if (v->type >= UJO_I64 && v->type <= UJO_I8) { *out = v->v.i; return true; }
	if (v->type >= UJO_U64 && v->type <= UJO_U8 && v->v.u <= INT64_MAX) { *out = (int64_t)v->v.u; return true; }
	return false;
}

/* Copy a possibly binary name into a short printable form for errors. */
static const char *printable(char *out, size_t n, const uint8_t *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f) out[o++] = (char)s[i];
		else o += (size_t)snprintf(out + o, n - o, "\\x%02x", s[i]);
	}
	out[o] = 0;
	return out;
}

int msg_decode(const uint8_t *body, size_t len, struct msg *m, char *err, size_t errlen)
{
	struct ujo_reader *r = &m->r;
	struct ujo_value v;
	int rc = ujo_r_init(r, body, len);

	if (rc == 0 && (rc = ujo_r_next(r, &v)) == 1 && v.type != UJO_LIST)
		return fail(MSG_E_SHAPE, err, errlen, "message is a %s, not a list [type, content]", ujo_type_name(v.type));
	if (rc == 1 && (rc = ujo_r_next(r, &v)) == 1 && (v.type == UJO_END || !as_int64(&v, &m->type)))
		return fail(MSG_E_SHAPE, err, errlen, "message type is not an integer");
	if (rc < 0) return ujo_fail(rc, r, err, errlen);
	return 0;
}

int msg_decode_as(const uint8_t *body, size_t len, int64_t type, struct msg *m, char *err, size_t errlen)
{
	int rc = msg_decode(body, len, m, err, errlen);
	if (rc == 0 && m->type != type) {
		const char *got = msg_type_name(m->type);
		if (got) return fail(MSG_E_SHAPE, err, errlen, "%s where a %s was expected", got, msg_type_name(type));
		return fail(MSG_E_SHAPE, err, errlen, "message type %lld where a %s was expected", (long long)m->type,
			    msg_type_name(type));
	}
	return rc;
}

/* The first value of the content; a missing content is a shape error. */
static int content_start(struct msg *m, struct ujo_value *v, char *err, size_t errlen)
{
	int rc = ujo_r_next(&m->r, v);
	if (rc < 0) return ujo_fail(rc, &m->r, err, errlen);
	if (v->type == UJO_END) return fail(MSG_E_SHAPE, err, errlen, "message has no content");
	return 0;
}

/* After the content: the list must close and the document end. */
static int content_end(struct msg *m, char *err, size_t errlen)
{
	struct ujo_value v;
	int rc = ujo_r_next(&m->r, &v);
	if (rc == 1 && v.type != UJO_END) return fail(MSG_E_SHAPE, err, errlen, "message list has more than 2 items");
	if (rc == 1) rc = ujo_r_next(&m->r, &v); /* end of document: trailing bytes check */
	if (rc < 0) return ujo_fail(rc, &m->r, err, errlen);
	return 0;
}

int msg_content(struct msg *m, const uint8_t **raw, size_t *len, char *err, size_t errlen)
{
	struct ujo_value v;
	int rc = content_start(m, &v, err, errlen);
	if (rc) return rc;
	if ((rc = ujo_r_skip(&m->r, &v, raw, len)) < 0) return ujo_fail(rc, &m->r, err, errlen);
	return content_end(m, err, errlen);
}

int msg_decode_request(struct msg *m, int64_t *count, char *err, size_t errlen)
{
	struct ujo_value v;
	int rc = content_start(m, &v, err, errlen);
	if (rc) return rc;
	if (!as_int64(&v, count) || *count < 0)
		return fail(MSG_E_SHAPE, err, errlen, "PacketRequest content is not a non-negative integer");
	return content_end(m, err, errlen);
}

static int get_name(struct ujo_reader *r, struct msg_str *s, const char *what, char *err, size_t errlen)
{
	struct ujo_value v;
	int rc = ujo_r_next(r, &v);
	if (rc < 0) return ujo_fail(rc, r, err, errlen);
	if (v.type != UJO_STRING || v.subtype > UJO_STR_UTF8)
		return fail(MSG_E_SHAPE, err, errlen, "%s is not a string", what);
	if (v.len > TITAN_MAX_NAME) return fail(MSG_E_SHAPE, err, errlen, "%s longer than %d bytes", what, TITAN_MAX_NAME);
	s->p = (const char *)v.data;
	s->len = v.len;
	return 0;
}

int msg_decode_registration(struct msg *m, struct msg_str *consumer, struct msg_str *port,
			    char *err, size_t errlen)
{
	struct ujo_value v;
	int rc = content_start(m, &v, err, errlen);
	if (rc) return rc;
	if (v.type != UJO_LIST) return fail(MSG_E_SHAPE, err, errlen, "ConsumerRegistration content is not a list");
	if ((rc = get_name(&m->r, consumer, "consumer uid", err, errlen)) < 0) return rc;
	if ((rc = get_name(&m->r, port, "port name", err, errlen)) < 0) return rc;
	rc = ujo_r_next(&m->r, &v);
	if (rc < 0) return ujo_fail(rc, &m->r, err, errlen);
	if (v.type != UJO_END) return fail(MSG_E_SHAPE, err, errlen, "ConsumerRegistration has more than 2 items");
	return content_end(m, err, errlen);
}

/* The packet keys, in titanfe's dataclass order (also the send order). */
enum pkey { K_UID, K_STARTED, K_PORT, K_PAYLOAD, K_BUFFER, K_IN_ENTRY, K_IN_EXIT, K_OUT_ENTRY, K_OUT_EXIT, K_N };
static const char *const pkey_names[K_N] = {
	"uid", "started", "port", "payload", "buffer", "input_entry", "input_exit", "output_entry", "output_exit",
};

static const uint8_t pkey_len[K_N] = {3, 7, 4, 7, 6, 11, 10, 12, 11};

static int find_key(const struct ujo_value *k)
{
	if (k->type != UJO_STRING || k->subtype > UJO_STR_UTF8) return -1;
	for (int i = 0; i < K_N; i++)
		if (k->len == pkey_len[i] && memcmp(k->data, pkey_names[i], k->len) == 0) return i;
	return -1;
}

static int get_time(const struct ujo_value *v, struct msg_time *t)
{
	if (as_int64(v, &t->ns)) { t->is_int = true; return 0; }
	if (v->type == UJO_F64 || v->type == UJO_F32 || v->type == UJO_F16) { t->is_int = false; t->f = v->v.f; return 0; }
	return -1;
}

/* One value of the packet map, for key k. */
static int packet_field(struct ujo_reader *r, struct msg_packet *p, int k, char *err, size_t errlen)
{
	struct ujo_value v;
	int rc = ujo_r_next(r, &v);
	if (rc < 0) return ujo_fail(rc, r, err, errlen);
	const uint8_t *raw;
	size_t rawlen;
	switch (k) {
	case K_UID: case K_PORT:
		if (v.type != UJO_STRING || v.subtype > UJO_STR_UTF8 || v.len > TITAN_MAX_NAME)
			return fail(MSG_E_SHAPE, err, errlen, "packet %s is not a string of at most %d bytes", pkey_names[k], TITAN_MAX_NAME);
		*(k == K_UID ? &p->uid : &p->port) = (struct msg_str){(const char *)v.data, v.len};
		return 0;
	case K_STARTED: {
		struct msg_time t;
		/* the float range check also refuses NaN (found by fuzz_frame) */
		if (get_time(&v, &t) || (!t.is_int && !(t.f > -9.2e18 && t.f < 9.2e18)))
			return fail(MSG_E_SHAPE, err, errlen, "packet started is not a number of nanoseconds");
		p->started = t.is_int ? t.ns : (int64_t)t.f;
		return 0;
	}
	case K_PAYLOAD: case K_BUFFER:
		if (k == K_BUFFER && v.type != UJO_MAP) return fail(MSG_E_SHAPE, err, errlen, "packet buffer is not a map");
		if ((rc = ujo_r_skip(r, &v, &raw, &rawlen)) < 0) return ujo_fail(rc, r, err, errlen);
		if (k == K_PAYLOAD) { p->payload = raw; p->payload_len = rawlen; }
		else { p->buffer = raw; p->buffer_len = rawlen; }
		return 0;
	default: {
		struct msg_time *t = k == K_IN_ENTRY ? &p->input_entry : k == K_IN_EXIT ? &p->input_exit
				   : k == K_OUT_ENTRY ? &p->output_entry : &p->output_exit;
		if (get_time(&v, t)) return fail(MSG_E_SHAPE, err, errlen, "packet %s is not a number", pkey_names[k]);
		return 0;
	}
	}
}

int msg_decode_packet(struct msg *m, struct msg_packet *p, char *err, size_t errlen)
{
	struct ujo_reader *r = &m->r;
	struct ujo_value k;
	unsigned seen = 0;
	memset(p, 0, sizeof *p);
	int rc = content_start(m, &k, err, errlen);
	if (rc) return rc;
	if (k.type != UJO_MAP) return fail(MSG_E_SHAPE, err, errlen, "packet is not a map");
	while ((rc = ujo_r_next(r, &k)) == 1 && k.type != UJO_END) {
		int i = find_key(&k);
		char name[64];
		if (i < 0) {
			if (k.type != UJO_STRING) return fail(MSG_E_SHAPE, err, errlen, "packet key is a %s, not a string", ujo_type_name(k.type));
			return fail(MSG_E_SHAPE, err, errlen, "unknown packet key '%s'", printable(name, sizeof name, k.data, k.len));
		}
		if (seen & (1u << i)) return fail(MSG_E_SHAPE, err, errlen, "packet key '%s' given twice", pkey_names[i]);
		seen |= 1u << i;
		if ((rc = packet_field(r, p, i, err, errlen)) < 0) return rc;
	}
	if (rc < 0) return ujo_fail(rc, r, err, errlen);
	return content_end(m, err, errlen);
}

/* --- encoders ----------------------------------------------------------- */

static void key(struct ujo_writer *w, int k) { ujo_w_utf8(w, pkey_names[k], pkey_len[k]); }

static void put_time(struct ujo_writer *w, int k, const struct msg_time *t)
{
	key(w, k);
	if (t->is_int) ujo_w_i64(w, t->ns);
	else ujo_w_f64(w, t->f);
}

/* Close the document and the frame; on failure leave b as it was. */
static int finish(struct ujo_buf *b, struct ujo_writer *w, size_t at, uint32_t max)
{
	int rc = ujo_w_finish(w);
	if (rc == 0) rc = frame_end(b, at, max);
	if (rc) {
		b->len = at;
		b->err = 0;
	}
	return rc;
}

int msg_frame_request(struct ujo_buf *b, int64_t count)
{
	struct ujo_writer w;
	size_t at = frame_begin(b);
	ujo_w_init(&w, b);
	ujo_w_list(&w);
	ujo_w_i64(&w, MSG_PACKET_REQUEST);
	ujo_w_i64(&w, count);
	ujo_w_end(&w);
	return finish(b, &w, at, 0);
}

int msg_frame_registration(struct ujo_buf *b, const char *consumer, size_t clen, const char *port, size_t plen)
{
	struct ujo_writer w;
	size_t at = frame_begin(b);
	ujo_w_init(&w, b);
	ujo_w_list(&w);
	ujo_w_i64(&w, MSG_CONSUMER_REGISTRATION);
	ujo_w_list(&w);
	ujo_w_utf8(&w, consumer, clen);
	ujo_w_utf8(&w, port, plen);
	ujo_w_end(&w);
	ujo_w_end(&w);
	return finish(b, &w, at, 0);
}

int msg_frame_packet(struct ujo_buf *b, const struct msg_packet *p, uint32_t max)
{
	struct ujo_writer w;
	size_t at = frame_begin(b);
	ujo_w_init(&w, b);
	ujo_w_list(&w);
	ujo_w_i64(&w, MSG_PACKET);
	ujo_w_map(&w);
	key(&w, K_UID);
	ujo_w_utf8(&w, p->uid.p, p->uid.len);
	key(&w, K_STARTED);
	ujo_w_i64(&w, p->started);
	key(&w, K_PORT);
	ujo_w_utf8(&w, p->port.p, p->port.len);
	key(&w, K_PAYLOAD);
	if (p->payload) ujo_w_raw(&w, p->payload, p->payload_len);
	else ujo_w_none(&w);
	key(&w, K_BUFFER);
	if (p->buffer) ujo_w_raw(&w, p->buffer, p->buffer_len);
	else { ujo_w_map(&w); ujo_w_end(&w); }
	put_time(&w, K_IN_ENTRY, &p->input_entry);
	put_time(&w, K_IN_EXIT, &p->input_exit);
	put_time(&w, K_OUT_ENTRY, &p->output_entry);
	put_time(&w, K_OUT_EXIT, &p->output_exit);
	ujo_w_end(&w);
	ujo_w_end(&w);
	return finish(b, &w, at, max);
}
