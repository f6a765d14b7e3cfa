/* err.h — libtitan's error-buffer convention (ARCHITECTURE.md §6): a
 * function that can fail returns an error code and writes one line about
 * it into the caller's buffer err of errlen bytes. err may be NULL or
 * errlen 0: then nothing is written. */
#ifndef TITAN_ERR_H
#define TITAN_ERR_H

#include <stddef.h>

void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
