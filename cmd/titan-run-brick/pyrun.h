/* pyrun.h — what brick.c offers beyond brick.h, for local mode (local.c).
 * No Python.h needed.
 */
#ifndef TITAN_RUN_BRICK_PYRUN_H
#define TITAN_RUN_BRICK_PYRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "brick.h"

/* Why brick_load_opts failed. */
enum brick_load_error {
	BRICK_LOAD_OK = 0,
	BRICK_LOAD_NOT_FOUND, /* no such path, or no <Name>.py / <Name>/ in the folder */
	BRICK_LOAD_FAILED,    /* Python could not start, import failed, no Brick class,
	                       * Brick(...) or setup() raised */
};

struct brick_opts {
	bool force_plain; /* plain Python values even without titan_plain_values */
};

/* brick_load with options (o may be NULL); *why (may be NULL) tells why
 * it failed. */
int brick_load_opts(struct brick **out, const struct brick_def *def, const struct brick_opts *o, char *err,
		    size_t errlen, enum brick_load_error *why);

/* The Brick instance is an InletBrickBase (local mode runs it as an inlet). */
bool brick_is_inlet_class(const struct brick *b);

/* The Brick class asked for plain values (titan_plain_values), or they
 * were forced. */
bool brick_uses_plain_values(const struct brick *b);

#endif
