/* uid.h — titanfe-style unique ids: a one-letter kind, '-', 8 hex digits.
 *
 * The original creates them as prefix + uuid4().hex[:8]: "R-" for a brick
 * runner, "P-" for a packet, "C-" for a consumer (the original's consumer
 * id also carries the brick instance id, "C-<instance>-xxxxxxxx"; a
 * caller builds that from uid_new('C') itself). 32 random bits are what
 * the wire format allows; they come from getrandom(2), never from rand().
 */
#ifndef TITAN_UID_H
#define TITAN_UID_H

#include <stdbool.h>

#define UID_LEN 10 /* "R-0a1b2c3d" */

/* Write prefix "-" and 8 lowercase hex digits and a NUL into out.
 * prefix must be 'R', 'P' or 'C'. Returns 0, or -1 (errno EINVAL for a
 * bad prefix, or getrandom's errno) with out set to "". */
int uid_new(char prefix, char out[UID_LEN + 1]);

/* True when s has exactly that shape (prefix R/P/C, lowercase hex). */
bool uid_valid(const char *s);

#endif
