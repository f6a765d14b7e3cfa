/* limits.h — every size and time limit of the titan node toolkit, in one place.
 *
 * Programs and library modules never hard-code a limit: they include this
 * header. A limit that a user may change is a default here and a key in the
 * configuration (see man5/titan-config.5); the CEILING values bound what a
 * configuration may ask for.
 */
#ifndef TITAN_LIMITS_H
#define TITAN_LIMITS_H

/* --- UJO codec ------------------------------------------------------- */

/* Deepest container nesting the decoder accepts and the encoder produces.
 * titanfe payloads are JSON-like documents a few levels deep; 64 leaves
 * room for generous data while keeping the reader's state stack on the
 * stack (a hostile "[[[[..." cannot exhaust memory or recursion). */
#define UJO_MAX_DEPTH 64

/* Largest single string/binary payload, in bytes. Bounded by the frame
 * size anyway; this guards the tree and JSON converters that copy data. */
#define UJO_MAX_BLOB (64u * 1024u * 1024u)

/* --- framing ----------------------------------------------------------- */

/* Default and ceiling for the size of one frame body (the UJO document
 * after the 4-byte length). Checked before anything is allocated. The
 * default is configurable (MaxFrameSize); the ceiling is not. */
#define FRAME_MAX_DEFAULT (16u * 1024u * 1024u)
#define FRAME_MAX_CEILING (1024u * 1024u * 1024u)
#define FRAME_MIN_BODY 9u  /* header (7) + smallest container (2) */

/* Initial size of a frame reader's buffer; it grows to the largest frame
 * announced (never beyond the reader's maximum) and shrinks back when idle. */
#define FRAME_READER_INITIAL (64u * 1024u)

/* --- runner protocol ---------------------------------------------------- */

/* Longest uid / port name / brick id string accepted in a protocol message. */
#define TITAN_MAX_NAME 256

/* Brick runner queues: bounded in packets and bytes on both sides. The
 * input window is the credit one input source may have outstanding
 * (titanfe asks for 25; we ask for more, topping up at half). */
#define RUNNER_IN_QUEUE 256
#define RUNNER_IN_QUEUE_BYTES (64u * 1024u * 1024u)
#define RUNNER_OUT_QUEUE 256
#define RUNNER_OUT_QUEUE_BYTES (64u * 1024u * 1024u)
#define RUNNER_WINDOW 64
/* Seconds a signalled runner keeps delivering queued results, and the
 * extra seconds it then waits for a brick that does not return. */
#define RUNNER_DRAIN_SECONDS 10.0
#define RUNNER_JOIN_SECONDS 5
/* Largest brick definition read from a file or stdin. */
#define RUNNER_MAX_DEFINITION (16u * 1024u * 1024u)

/* --- configuration ------------------------------------------------------- */

#define CFG_MAX_FILE (1024u * 1024u) /* a config file larger than this is refused */
#define CFG_MAX_VALUE 4096u          /* longest configuration value */

/* --- logging ------------------------------------------------------------- */

/* One log record is written with a single write(2) of at most this many
 * bytes, so records from several processes on one pipe never interleave
 * (POSIX guarantees atomic pipe writes up to PIPE_BUF = 4096 on Linux). */
#define LOG_LINE_MAX 4096

/* --- titan-ujo tool -------------------------------------------------------- */

/* Largest input document or stream titan-ujo reads into memory. */
#define UJO_TOOL_MAX_INPUT (256u * 1024u * 1024u)

/* --- http ------------------------------------------------------------------ */

/* Server (httpd.h) defaults; a program may pass other values in its opts. */
#define HTTPD_MAX_BODY_DEFAULT (1024u * 1024u) /* request body, 413 beyond */
#define HTTPD_THREADS_DEFAULT 4                /* MHD pool threads */
#define HTTPD_IDLE_TIMEOUT_S 30                /* idle keep-alive connection */
#define HTTPD_MAX_CONNECTIONS 256              /* open connections at once */
#define HTTPD_MAX_EXTRA_HEADERS 16             /* headers a handler may add */

/* Client (http.h) defaults: a call never waits forever, and a response
 * body is never buffered without bound. */
#define HTTP_TIMEOUT_MS_DEFAULT 10000
#define HTTP_CONNECT_TIMEOUT_MS_DEFAULT 3000
#define HTTP_MAX_RESPONSE_DEFAULT (16u * 1024u * 1024u)

/* --- package manager --------------------------------------------------------- */

/* Safe extraction (archive.h), shared by titan-pm-httpd and
 * titan-install-brick: an archive with more entries or more expanded bytes
 * than this is refused (zip bombs), as is an entry path longer than
 * ARC_MAX_PATH bytes or deeper than ARC_MAX_DEPTH components. */
#define ARC_MAX_ENTRIES_DEFAULT 10000u
#define ARC_MAX_BYTES_DEFAULT (256u * 1024u * 1024u)
#define ARC_MAX_PATH 1024u
#define ARC_MAX_DEPTH 32u

/* titan-pm-httpd */
#define PM_MAX_UPLOAD (64u * 1024u * 1024u)  /* POST /packages body, 413 beyond */
#define PM_MAX_SMALL_BODY (64u * 1024u)      /* every other request body */
#define PM_MAX_DESCRIPTION (1024u * 1024u)   /* package.yaml, description.yaml */
#define PM_MAX_BRICKS 1000u                  /* bricks in one package */
#define PM_MAX_CONTROLPEERS 1024u            /* registered control peers */
#define PM_MAX_DELETE_NAMES 100u             /* ?name= values in one DELETE */
#define PM_NOTIFY_TIMEOUT_MS 5000            /* POST .../bricks/install to a peer */
#define PM_AUTH_TIMEOUT_MS 3000              /* the User Service admin check */
#define PM_AUTH_CACHE_S 30                   /* how long a check result is reused */
#define PM_AUTH_CACHE_ENTRIES 64
#define PM_MAX_ICON (1024u * 1024u)          /* <brick>.svg, served base64 */
#define PM_MAX_ADDRESS 255u                  /* a control peer's "host:port" */

/* YAML read into cJSON (json.h): nesting and value count; aliases are
 * expanded, so the count also stops "billion laughs" documents. */
#define JSON_YAML_MAX_DEPTH 64u
#define JSON_YAML_MAX_NODES 100000u

/* --- metrics pipe --- */

/* titan-metrics-pipe reads telemetry lines of at most PIPE_BUF bytes (the
 * runners write each with one atomic write); a longer line, newline not
 * counted, is skipped up to its newline and counted as oversize. */
#define METRICS_LINE_MAX 4096u
/* Input buffer: many lines per read(2), and never more than this held. */
#define METRICS_READ_BUF (64u * 1024u)
/* librdkafka's local queue (queue.buffering.max.messages / .kbytes). When
 * it is full the pipe stops reading, so back pressure goes into the FIFO
 * and memory stays bounded while Kafka is slow or down. */
#define METRICS_QUEUE_MSGS 100000u
#define METRICS_QUEUE_KBYTES (32u * 1024u)
/* Default deadline for delivering what is queued at EOF or SIGTERM, and
 * the most --flush-timeout may ask for (s6's default kill is far sooner). */
#define METRICS_FLUSH_S 10
#define METRICS_FLUSH_MAX_S 3600
/* Bytes read from the input after SIGTERM (what runners had already
 * written into the FIFO) before the final flush. */
#define METRICS_DRAIN_MAX (1024u * 1024u)
/* One warning per kind (bad line, Kafka error, ...) per this many seconds;
 * the ones in between are counted and the count is logged. */
#define METRICS_WARN_INTERVAL_S 1
/* --prometheus: at most this many per-brick and per-queue series (more
 * are not tracked); a queue gauge reads 0 once its runner stopped
 * reporting for this long (titanfe reports only non-empty queues, every
 * 0.1 s). */
#define METRICS_PROM_MAX_SERIES 4096u
#define METRICS_QUEUE_STALE_MS 1000
/* pickle.h: deepest nesting of dicts and lists the writer accepts. */
#define PICKLE_MAX_DEPTH 64

/* --- ujo schema and mapping --- */

/* ujoschema.h: longest schema text (targetPort.schema), nesting of one
 * type expression ( (..), <k -> v>, and the '*'s of one type ), references
 * followed while building one default value (A = B; B = C; ...), and the
 * values in one default value (stops schemas whose value would grow
 * exponentially: A = [a = B, b = B], B = [a = C, b = C], ...). */
#define UJS_MAX_TEXT (4u * 1024u * 1024u)
#define UJS_MAX_NEST 64
#define UJS_MAX_REFS 256
#define UJS_MAX_VALUES 16384u
/* mapping.h: rules and buffer elements of one consumer group, fields in
 * one source or target path, nesting of object/record constants. */
#define MAP_MAX_RULES 4096u
#define MAP_MAX_BUFFER_ELEMENTS 1024u
#define MAP_MAX_PATH 64u
#define MAP_MAX_CONST_DEPTH 32

#endif
