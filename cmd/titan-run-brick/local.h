/* local.h — titan-run-brick --local: run one brick without the platform.
 *
 *   titan-run-brick --local BRICK_DIR_OR_FILE [--param NAME=VALUE]...
 *       [--params FILE.json] [--input-port NAME] [--count N] [--plain] ...
 *
 * One JSON payload per line on stdin -> process() -> one JSON line per
 * result on stdout: {"port":"...","payload":...} (emitted packets too, in
 * order). See NOTES-python.md (LOCAL MODE) for the options and the exit
 * codes.
 */
#ifndef TITAN_RUN_BRICK_LOCAL_H
#define TITAN_RUN_BRICK_LOCAL_H

/* argv as main() got it (with "--local" somewhere in it). Returns the
 * exit status. */
int local_main(int argc, char **argv);

#endif
