/* brick.h — the embedded-Python half of titan-run-brick, as seen by the
 * rest of the runner (the network loop, local mode).
 *
 * One struct brick holds the interpreter and one brick instance. All
 * brick_* calls except brick_stop() are made from ONE thread, the brick
 * thread (ARCHITECTURE.md §4); brick_stop() may be called from any
 * thread (it takes the GIL to call an inlet's stop_processing()).
 *
 * Payloads cross this interface as bare UJO values (no document header):
 * exactly the bytes of a packet's "payload" on the wire, so the runner
 * never converts them. Conversion to and from Python happens in C inside
 * the brick module (UJO bytes -> ujotypes-compatible objects, or plain
 * Python values for bricks that opt in).
 */
#ifndef TITAN_RUN_BRICK_BRICK_H
#define TITAN_RUN_BRICK_BRICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severity of a record from the brick's adapter.log (and of the runner's
 * own messages about the brick: tracebacks, bad results). */
enum brick_level { BRICK_DEBUG = 10, BRICK_INFO = 20, BRICK_WARNING = 30, BRICK_ERROR = 40 };

/* Where a result goes. `port` is never NULL: a plain return value or an
 * emit without a port gets the default port. `emitted` is true for
 * adapter.emit_new_packet() (a new packet: new uid, the parent's buffer),
 * false for the value returned by process() (continues the input packet:
 * same uid and buffer). The payload bytes are valid during the call only.
 * Return 0; a negative return makes emit_new_packet raise in Python (the
 * runner is shutting down) and a returned value be dropped. The callee may
 * block (back pressure from a full output queue) — the GIL is released
 * around this call. */
typedef int (*brick_emit_fn)(void *ctx, const char *port, const uint8_t *payload, size_t len, bool emitted);

/* A log record from the brick side: logger name (e.g.
 * "titanfe.bricks.<instance name>"), level, one-line message (tracebacks
 * are joined with "\n" escaped by the log layer). */
typedef void (*brick_log_fn)(void *ctx, int level, const char *logger, const char *msg);

struct brick_def {
	/* What to load */
	const char *path;        /* brick folder (with <Name>.py or <Name>/), or a .py file */
	const char *module;      /* module / brick name (case-insensitive match), NULL = from path */
	const char *params_json; /* processing parameters as JSON text ("{}" if none) */

	/* Identity, for adapter.meta and logs */
	const char *flow_uid, *flow_name;   /* "" if unknown */
	const char *brick_uid, *brick_name; /* instance uid and name */
	const char *runner_uid;

	/* Ports */
	const char *default_port;          /* first Outbound port, or "" */
	const char *const *out_ports;      /* Outbound port names (results to other names are errors) */
	size_t n_out_ports;
	bool is_inlet, is_outlet;

	/* Services */
	const char *secret_key;    /* SecretKey, NULL = not configured */
	const char *repo_address;  /* RepositoryService base URL */
	const char *python_path;   /* where titanfe/ and ujotypes.py live; NULL = next to the executable */

	brick_emit_fn emit;
	brick_log_fn log;
	void *ctx;
};

struct brick;

/* Start Python (isolated; inside the brick's venv/ if there is one),
 * import the module, create Brick(adapter, parameters), call setup().
 * Returns 0, or -1 with a one-line reason in err. */
int brick_load(struct brick **out, const struct brick_def *def, char *err, size_t errlen);

/* Call process(input, port) once. payload = bare UJO value (NULL for an
 * inlet's trigger: input None, port "TRIGGER"). Results and emitted
 * packets go to def->emit before this returns. Returns 0 when process()
 * returned normally and its result was usable, -1 when it raised, the
 * input could not be converted or the result could not be used (the
 * reason went to def->log) — the runner goes on with the next packet.
 * def->emit may also be called from the brick's own Python threads and
 * during setup() (an inlet that starts emitting early). */
int brick_process(struct brick *b, const uint8_t *payload, size_t len, const char *port);

/* Ask a running inlet to stop (InletBrickBase.stop_processing()); any
 * thread. No-op for other bricks. */
void brick_stop(struct brick *b);

/* teardown(), then finalize Python. NULL is fine. */
void brick_unload(struct brick *b);

#endif
