/* archive.h — safe extraction of untrusted zip / tar / tar.gz archives, and
 * zipping a directory. Shared by titan-pm-httpd (uploaded packages, brick
 * code downloads) and titan-install-brick (downloaded brick code).
 *
 * Prefix arc_ (libarchive owns archive_). Only libarchive's reader is used;
 * files are written by this module with openat(2) below a directory
 * descriptor, so extraction is thread-safe (no chdir) and can never leave
 * the target directory:
 *
 *  - the target directory must not exist; it is created (mode 0755) and
 *    everything is written below it through O_NOFOLLOW descriptors, so no
 *    path ever resolves through a symbolic link;
 *  - only regular files and directories are accepted: a symbolic link, a
 *    hard link, a device, a FIFO or a socket entry rejects the archive;
 *  - an absolute path, a ".." component, an empty name, a control
 *    character in a name, a path longer than ARC_MAX_PATH bytes or deeper
 *    than ARC_MAX_DEPTH components, and a file given twice reject it;
 *    "./" and "//" are normalised away;
 *  - more than max_entries entries, or more than max_bytes bytes of file
 *    data actually written (not the sizes the archive claims), reject it;
 *  - file modes are 0644, or 0755 when the archive marks the file
 *    executable; owners, times, ACLs and extended attributes are ignored.
 *
 * When extraction fails, whatever was written is removed again (the target
 * directory included) and err names the entry and the problem, e.g.
 * "entry 'pkg/../x': path contains '..'". Formats: zip, tar (ustar, pax,
 * GNU), and tar compressed with gzip; detected from the content, not the
 * file name.
 */
#ifndef TITAN_ARCHIVE_H
#define TITAN_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "titan_limits.h"

struct arc_limits {
	uint64_t max_entries; /* 0 = ARC_MAX_ENTRIES_DEFAULT */
	uint64_t max_bytes;   /* 0 = ARC_MAX_BYTES_DEFAULT */
};

/* What an extraction produced. */
struct arc_stats {
	uint64_t entries; /* entries extracted (files and directories) */
	uint64_t bytes;   /* file bytes written */
};

/* Extract an archive held in memory into destdir (which must not exist).
 * lim and st may be NULL. Returns 0, or -1 with a one-line message. */
int arc_extract_mem(const void *data, size_t len, const char *destdir,
	const struct arc_limits *lim, struct arc_stats *st, char *err, size_t errlen);

/* Same for an archive file. */
int arc_extract_file(const char *path, const char *destdir,
	const struct arc_limits *lim, struct arc_stats *st, char *err, size_t errlen);

/* Write a zip archive of the contents of dir to out_path (created or
 * truncated, mode 0644): entry names are relative to dir ("mod/x.py", no
 * leading "dir/"), directories get their own entries, files are deflated,
 * entries come in byte order of their names. A name (any path component)
 * equal to one in the NULL-terminated list `ignore` is left out with all
 * it contains; ignore may be NULL. A symbolic link or special file inside
 * dir is an error. Returns 0, or -1 with a message (out_path is then
 * removed). */
int arc_zip_dir(const char *dir, const char *const *ignore, const char *out_path,
	char *err, size_t errlen);

/* Remove path and everything below it without following symbolic links.
 * A missing path is not an error. Returns 0, or -1 with errno set. */
int arc_rmtree(const char *path);

#endif
