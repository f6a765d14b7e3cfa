/* msg.h — titanfe runner-to-runner messages (reference
 * titanfe-protocol.md §8): a frame holds the UJO list [type, content].
 *
 *   Packet (20)               content: map with exactly the packet keys
 *   PacketRequest (21)        content: int64 number of packets wanted
 *   ConsumerRegistration (22) content: [consumer brick uid, producer port]
 *
 * Decoding validates the whole document once and hands out pointers into
 * the frame body (no copies): a packet's payload and buffer stay raw UJO
 * bytes that the runner forwards or maps without building them.
 * Encoders append one complete frame (length prefix included) to a
 * ujo_buf, so many frames can go out with one write.
 */
#ifndef TITAN_MSG_H
#define TITAN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "ujo.h"

enum msg_type {
	MSG_PACKET = 20,
	MSG_PACKET_REQUEST = 21,
	MSG_CONSUMER_REGISTRATION = 22,
};

const char *msg_type_name(int64_t type); /* "Packet", ...; NULL if unknown */

/* A message being decoded: msg_decode reads the frame body up to the
 * type; exactly one content function below then reads the content and
 * checks the end of the document. One pass over the bytes in total. */
struct msg {
	int64_t type;
	struct ujo_reader r;
};

/* A borrowed string (not NUL-terminated). */
struct msg_str {
	const char *p;
	size_t len;
};

/* The packet timing fields are float64 0.0 until set, then int64
 * nanoseconds (titanfe: time.time_ns()); both are kept as received. */
struct msg_time {
	bool is_int;
	int64_t ns; /* when is_int */
	double f;   /* otherwise */
};

static inline struct msg_time msg_time_ns(int64_t ns) { return (struct msg_time){true, ns, 0.0}; }

struct msg_packet {
	struct msg_str uid;      /* "P-xxxxxxxx"; empty when missing */
	int64_t started;         /* ns; 0 when missing */
	struct msg_str port;     /* the producer's output port on the wire */
	const uint8_t *payload;  /* raw UJO value; NULL = none */
	size_t payload_len;
	const uint8_t *buffer;   /* raw UJO map; NULL = empty map */
	size_t buffer_len;
	struct msg_time input_entry, input_exit, output_entry, output_exit;
};

/* Start decoding one frame body: reads the list opening and the type.
 * Errors (< 0) are UJO errors or MSG_E_SHAPE; err gets a one-line reason. */
#define MSG_E_SHAPE (-100)
int msg_decode(const uint8_t *body, size_t len, struct msg *m, char *err, size_t errlen);
/* msg_decode, and the type must be `type` (else MSG_E_SHAPE naming both). */
int msg_decode_as(const uint8_t *body, size_t len, int64_t type, struct msg *m, char *err, size_t errlen);

/* Then exactly one of these (each validates the rest of the document). */
/* Any type: the raw bytes of the content (one bare UJO value). */
int msg_content(struct msg *m, const uint8_t **raw, size_t *len, char *err, size_t errlen);
int msg_decode_request(struct msg *m, int64_t *count, char *err, size_t errlen);
int msg_decode_registration(struct msg *m, struct msg_str *consumer, struct msg_str *port,
			    char *err, size_t errlen);
/* Exactly titanfe's key set (older senders' subsets accepted, missing keys
 * take the dataclass defaults); unknown or repeated keys are refused, as
 * Packet(**content) refuses them. */
int msg_decode_packet(struct msg *m, struct msg_packet *p, char *err, size_t errlen);

/* Encoders: append one frame to b. max = largest body allowed (0 =
 * FRAME_MAX_DEFAULT). Return 0 or a negative UJO/frame error. */
int msg_frame_request(struct ujo_buf *b, int64_t count);
int msg_frame_registration(struct ujo_buf *b, const char *consumer, size_t clen, const char *port,
			   size_t plen);
int msg_frame_packet(struct ujo_buf *b, const struct msg_packet *p, uint32_t max);

#endif
