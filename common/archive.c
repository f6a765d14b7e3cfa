/* archive.c — safe extraction and zip building. The rules are in archive.h.
 *
 * libarchive's archive_write_disk is not used: it extracts relative to the
 * process's working directory (not thread-safe) and, even with its SECURE
 * flags, creates symbolic links (toolchain.md §8). Writing through
 * O_NOFOLLOW descriptors below a fresh directory makes escaping impossible
 * by construction rather than by checks alone.
 */
#include "archive.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define IO_CHUNK (64 * 1024)

/* An entry name for messages: cut, and control characters replaced, so a
 * hostile name cannot garble a log line or a JSON detail. */
static const char *shown(const char *name, char *buf, size_t n)
{
	size_t i = 0;
	for (; name != NULL && name[i] != '\0' && i + 4 < n; i++)
		buf[i] = ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) ? '?' : name[i];
	if (name != NULL && name[i] != '\0' && n >= 4) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* --- entry names ------------------------------------------------------- */

/* Normalise an archive path into out ("a/b/c": no leading "./", no empty
 * or "." components, no trailing slash). Returns the component count, or
 * -1 with *why set. */
static int clean_path(const char *name, char *out, size_t outlen, const char **why)
{
	size_t n = name ? strlen(name) : 0, o = 0;
	int depth = 0;
	if (n == 0)
		return *why = "empty name", -1;
	if (n > ARC_MAX_PATH)
		return *why = "path too long", -1;
	if (name[0] == '/')
		return *why = "absolute path", -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return *why = "control character in name", -1;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && name[j] != '/')
			j++;
		size_t len = j - i;
		if (len == 2 && name[i] == '.' && name[i + 1] == '.')
			return *why = "path contains '..'", -1;
		if (len > 0 && !(len == 1 && name[i] == '.')) {
			if (++depth > (int)ARC_MAX_DEPTH)
				return *why = "path too deep", -1;
			if (o + len + 2 > outlen)
				return *why = "path too long", -1;
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, name + i, len);
			o += len;
		}
		i = j + 1;
	}
	out[o] = '\0';
	if (depth == 0)
		return *why = "empty name", -1;
	return depth;
}

/* Walk (creating as needed) every directory of path but the last
 * component, below root. Returns a descriptor of the parent (root itself
 * for a top-level name) and points *leaf at the last component. */
static int open_parent(int root, char *path, const char **leaf)
{
	int fd = root;
	char *p = path, *slash;
	while ((slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST)
			goto fail;
		int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		if (next < 0)
			goto fail;
		if (fd != root)
			close(fd);
		fd = next;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
fail:
	if (fd != root) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}

/* --- extraction ------------------------------------------------------------ */

struct extract {
	struct archive *a;
	int root;
	uint64_t max_entries, max_bytes;
	struct arc_stats st;
	char *err;
	size_t errlen;
	char name[ARC_MAX_PATH + 2]; /* current entry, normalised */
};

static int entry_error(struct extract *x, const char *raw, const char *why)
{
	char b[160];
	err_set(x->err, x->errlen, "entry '%s': %s", shown(raw, b, sizeof b), why);
	return -1;
}

static int make_dir(struct extract *x, const char *raw)
{
	const char *leaf;
	int pfd = open_parent(x->root, x->name, &leaf);
	if (pfd < 0)
		return entry_error(x, raw, "cannot create its directory (a file is in the way)");
	struct stat sb;
	int r = 0;
	if (mkdirat(pfd, leaf, 0755) < 0 &&
		(errno != EEXIST || fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode)))
		r = entry_error(x, raw, "cannot create directory (a file of that name exists)");
	if (pfd != x->root)
		close(pfd);
	return r;
}

/* Copy the entry's data into fd, counting the logical size (sparse tar
 * entries could otherwise claim little data and make huge files). */
static int copy_data(struct extract *x, int fd, const char *raw)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	uint64_t end = 0;
	for (;;) {
		int r = archive_read_data_block(x->a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return entry_error(x, raw, archive_error_string(x->a) ? archive_error_string(x->a) : "read error");
		if (off < 0 || (uint64_t)off + size > x->max_bytes - x->st.bytes + end)
			return entry_error(x, raw, "archive expands beyond the size limit");
		if ((uint64_t)off + size > end) {
			x->st.bytes += (uint64_t)off + size - end;
			end = (uint64_t)off + size;
		}
		for (size_t done = 0; done < size;) {
			ssize_t w = pwrite(fd, (const char *)buf + done, size - done, off + (off_t)done);
			if (w < 0)
				return entry_error(x, raw, strerror(errno));
			done += (size_t)w;
		}
	}
	if (ftruncate(fd, (off_t)end) < 0) /* a trailing hole */
		return entry_error(x, raw, strerror(errno));
	return 0;
}

static int make_file(struct extract *x, struct archive_entry *e, const char *raw)
{
	la_int64_t claimed = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (claimed < 0 || (uint64_t)claimed > x->max_bytes - x->st.bytes)
		return entry_error(x, raw, "archive expands beyond the size limit");
	const char *leaf;
	int pfd = open_parent(x->root, x->name, &leaf);
	if (pfd < 0)
		return entry_error(x, raw, "cannot create its directory (a file is in the way)");
	mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
	int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int saved = errno;
	if (pfd != x->root)
		close(pfd);
	if (fd < 0)
		return entry_error(x, raw, saved == EEXIST ? "given twice" : strerror(saved));
	int r = copy_data(x, fd, raw);
	if (close(fd) < 0 && r == 0)
		r = entry_error(x, raw, strerror(errno));
	return r;
}

static int one_entry(struct extract *x, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *why;
	if (++x->st.entries > x->max_entries) {
		err_set(x->err, x->errlen, "archive has more than %llu entries", (unsigned long long)x->max_entries);
		return -1;
	}
	if (clean_path(raw, x->name, sizeof x->name, &why) < 0)
		return entry_error(x, raw, why);
	if (archive_entry_hardlink(e) != NULL)
		return entry_error(x, raw, "hard links are not allowed");
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return make_dir(x, raw);
	case AE_IFREG:
		return make_file(x, e, raw);
	case AE_IFLNK:
		return entry_error(x, raw, "symbolic links are not allowed");
	default:
		return entry_error(x, raw, "only regular files and directories are allowed");
	}
}

static int extract_all(struct extract *x)
{
	struct archive_entry *e;
	for (;;) {
		int r = archive_read_next_header(x->a, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			const char *m = archive_error_string(x->a);
			err_set(x->err, x->errlen, "not a readable zip, tar or tar.gz archive: %s", m ? m : "read error");
			return -1;
		}
		if (one_entry(x, e) < 0)
			return -1;
	}
}

static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();
	if (a == NULL)
		return NULL;
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_none(a);
	return a;
}

/* The reader is open; create destdir and extract into it. */
static int extract_into(struct archive *a, const char *destdir, const struct arc_limits *lim,
	struct arc_stats *st, char *err, size_t errlen)
{
	struct extract x = {.a = a, .err = err, .errlen = errlen};
	x.max_entries = lim && lim->max_entries ? lim->max_entries : ARC_MAX_ENTRIES_DEFAULT;
	x.max_bytes = lim && lim->max_bytes ? lim->max_bytes : ARC_MAX_BYTES_DEFAULT;
	if (mkdir(destdir, 0755) < 0) {
		err_set(err, errlen, "cannot create %s: %s", destdir, strerror(errno));
		return -1;
	}
	x.root = open(destdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = x.root < 0 ? -1 : extract_all(&x);
	if (x.root < 0)
		err_set(err, errlen, "cannot open %s: %s", destdir, strerror(errno));
	else
		close(x.root);
	if (r < 0)
		arc_rmtree(destdir);
	if (st != NULL)
		*st = x.st;
	return r;
}

int arc_extract_mem(const void *data, size_t len, const char *destdir, const struct arc_limits *lim,
	struct arc_stats *st, char *err, size_t errlen)
{
	struct archive *a = reader_new();
	if (a == NULL || archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		err_set(err, errlen, "not a readable zip, tar or tar.gz archive: %s",
			a && archive_error_string(a) ? archive_error_string(a) : "out of memory");
		archive_read_free(a);
		return -1;
	}
	int r = extract_into(a, destdir, lim, st, err, errlen);
	archive_read_free(a);
	return r;
}

int arc_extract_file(const char *path, const char *destdir, const struct arc_limits *lim,
	struct arc_stats *st, char *err, size_t errlen)
{
	struct archive *a = reader_new();
	if (a == NULL || archive_read_open_filename(a, path, IO_CHUNK) != ARCHIVE_OK) {
		err_set(err, errlen, "%s: %s", path,
			a && archive_error_string(a) ? archive_error_string(a) : "out of memory");
		archive_read_free(a);
		return -1;
	}
	int r = extract_into(a, destdir, lim, st, err, errlen);
	archive_read_free(a);
	return r;
}

/* --- removal -------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int arc_rmtree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- zip building ------------------------------------------------------------------ */

struct zip {
	struct archive *a;
	const char *const *ignore;
	char *err;
	size_t errlen;
	char buf[IO_CHUNK];
};

static bool ignored(const struct zip *z, const char *name)
{
	for (const char *const *p = z->ignore; p && *p; p++)
		if (strcmp(*p, name) == 0)
			return true;
	return false;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fd, sorted; NULL on error. */
static char **list_dir(int fd, size_t *count)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	if (d == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		return NULL;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
			if (nn == NULL)
				goto fail;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	*count = n;
	return names ? names : calloc(1, sizeof *names);
fail:
	closedir(d);
	while (n > 0)
		free(names[--n]);
	free(names);
	return NULL;
}

static int zip_header(struct zip *z, const char *rel, const struct stat *sb, bool dir)
{
	struct archive_entry *e = archive_entry_new();
	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir || (sb->st_mode & 0111) ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : sb->st_size);
	archive_entry_set_mtime(e, sb->st_mtime, 0);
	int r = archive_write_header(z->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_OK)
		err_set(z->err, z->errlen, "%s: %s", rel, archive_error_string(z->a));
	return r < ARCHIVE_OK ? -1 : 0;
}

static int zip_file(struct zip *z, int dirfd, const char *name, const char *rel, const struct stat *sb)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err_set(z->err, z->errlen, "%s: %s", rel, strerror(errno));
		return -1;
	}
	int r = zip_header(z, rel, sb, false);
	ssize_t n;
	while (r == 0 && (n = read(fd, z->buf, sizeof z->buf)) != 0) {
		if (n < 0 || archive_write_data(z->a, z->buf, (size_t)n) != n) {
			err_set(z->err, z->errlen, "%s: %s", rel, n < 0 ? strerror(errno) : archive_error_string(z->a));
			r = -1;
		}
	}
	close(fd);
	return r;
}

static int zip_tree(struct zip *z, int dirfd, const char *prefix, unsigned depth);

static int zip_one(struct zip *z, int dirfd, const char *name, const char *prefix, unsigned depth)
{
	char rel[ARC_MAX_PATH + 1];
	struct stat sb;
	if (ignored(z, name))
		return 0;
	if ((size_t)snprintf(rel, sizeof rel, "%s%s", prefix, name) >= sizeof rel) {
		err_set(z->err, z->errlen, "%s%s: path too long", prefix, name);
		return -1;
	}
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		err_set(z->err, z->errlen, "%s: %s", rel, strerror(errno));
		return -1;
	}
	if (S_ISREG(sb.st_mode))
		return zip_file(z, dirfd, name, rel, &sb);
	if (!S_ISDIR(sb.st_mode)) {
		err_set(z->err, z->errlen, "%s: not a regular file or directory", rel);
		return -1;
	}
	if (depth >= ARC_MAX_DEPTH || strlen(rel) + 2 > sizeof rel) {
		err_set(z->err, z->errlen, "%s: too deep", rel);
		return -1;
	}
	strcat(rel, "/");
	int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0) {
		err_set(z->err, z->errlen, "%s: %s", rel, strerror(errno));
		return -1;
	}
	int r = zip_header(z, rel, &sb, true);
	if (r == 0)
		r = zip_tree(z, sub, rel, depth + 1);
	close(sub);
	return r;
}

static int zip_tree(struct zip *z, int dirfd, const char *prefix, unsigned depth)
{
	size_t n = 0;
	char **names = list_dir(dirfd, &n);
	if (names == NULL) {
		err_set(z->err, z->errlen, "%s: cannot list: %s", *prefix ? prefix : ".", strerror(errno));
		return -1;
	}
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = zip_one(z, dirfd, names[i], prefix, depth);
		free(names[i]);
	}
	free(names);
	return r;
}

int arc_zip_dir(const char *dir, const char *const *ignore, const char *out_path, char *err, size_t errlen)
{
	struct zip *z = calloc(1, sizeof *z);
	int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (z == NULL || root < 0) {
		err_set(err, errlen, "%s: %s", dir, z ? strerror(errno) : "out of memory");
		if (root >= 0)
			close(root);
		free(z);
		return -1;
	}
	*z = (struct zip){.ignore = ignore, .err = err, .errlen = errlen};
	int r = -1;
	if ((z->a = archive_write_new()) != NULL && archive_write_set_format_zip(z->a) == ARCHIVE_OK &&
		archive_write_open_filename(z->a, out_path) == ARCHIVE_OK) {
		r = zip_tree(z, root, "", 0);
		if (archive_write_close(z->a) != ARCHIVE_OK && r == 0) {
			err_set(err, errlen, "%s: %s", out_path, archive_error_string(z->a));
			r = -1;
		}
	} else {
		err_set(err, errlen, "%s: %s", out_path,
			z->a && archive_error_string(z->a) ? archive_error_string(z->a) : "cannot create zip");
	}
	archive_write_free(z->a);
	close(root);
	free(z);
	if (r < 0)
		unlink(out_path);
	return r;
}
