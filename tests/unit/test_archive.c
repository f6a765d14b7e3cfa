/* test_archive.c — safe extraction and zip building (archive.h).
 *
 * Hostile archives are built in memory with libarchive's writer, so each
 * test states exactly which entry is hostile: traversal, absolute paths,
 * links, devices, duplicates, entry and size bombs, truncation. Every
 * rejection must leave nothing behind. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive.h" /* ours: arc_* (found first through -iquote common) */

static char tmp[64];
static char dest[128];

/* --- building test archives -------------------------------------------- */

enum fmt { F_ZIP, F_TAR, F_TGZ };

struct builder {
	struct archive *a;
	char *buf;
	size_t cap, used;
};

static void b_open(struct builder *b, enum fmt f)
{
	b->cap = 4 * 1024 * 1024;
	b->buf = malloc(b->cap);
	assert_non_null(b->buf);
	b->a = archive_write_new();
	if (f == F_ZIP)
		archive_write_set_format_zip(b->a);
	else
		archive_write_set_format_pax_restricted(b->a);
	if (f == F_TGZ)
		archive_write_add_filter_gzip(b->a);
	archive_write_set_bytes_in_last_block(b->a, 1);
	assert_int_equal(archive_write_open_memory(b->a, b->buf, b->cap, &b->used), ARCHIVE_OK);
}

static void b_entry(struct builder *b, const char *name, unsigned type, unsigned perm,
	const char *data, size_t len, const char *link)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_size(e, type == AE_IFREG && !link ? (la_int64_t)len : 0);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	else if (link != NULL)
		archive_entry_set_hardlink(e, link);
	assert_true(archive_write_header(b->a, e) >= ARCHIVE_WARN);
	if (type == AE_IFREG && !link && len > 0)
		assert_int_equal(archive_write_data(b->a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

static void b_file(struct builder *b, const char *name, const char *text)
{
	b_entry(b, name, AE_IFREG, 0644, text, strlen(text), NULL);
}

static void b_close(struct builder *b)
{
	assert_int_equal(archive_write_close(b->a), ARCHIVE_OK);
	archive_write_free(b->a);
}

/* --- helpers ------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/test_archive.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(dest, sizeof dest, "%s/out", tmp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return arc_rmtree(tmp);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	static char buf[4096];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *at(const char *rel)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dest, rel);
	return p;
}

static bool exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

/* Extract b's archive and expect failure mentioning `what`, with nothing
 * left behind. */
static void expect_reject(struct builder *b, const struct arc_limits *lim, const char *what)
{
	char err[256] = "";
	int r = arc_extract_mem(b->buf, b->used, dest, lim, NULL, err, sizeof err);
	if (r == 0 || strstr(err, what) == NULL)
		fail_msg("expected rejection with '%s', got r=%d err='%s'", what, r, err);
	assert_false(exists(dest));
	free(b->buf);
}

/* --- extraction ------------------------------------------------------------ */

static void check_good(enum fmt f)
{
	struct builder b;
	b_open(&b, f);
	b_entry(&b, "pkg/", AE_IFDIR, 0755, NULL, 0, NULL);
	b_file(&b, "pkg/package.yaml", "Name: demo\n");
	b_file(&b, "./pkg//Brick/brick.py", "print(1)\n");
	b_entry(&b, "pkg/Brick/run.sh", AE_IFREG, 0700, "#!/bin/sh\n", 10, NULL);
	b_entry(&b, "pkg/empty/", AE_IFDIR, 0700, NULL, 0, NULL);
	b_close(&b);
	struct arc_stats st;
	char err[256] = "";
	assert_int_equal(arc_extract_mem(b.buf, b.used, dest, NULL, &st, err, sizeof err), 0);
	assert_string_equal(slurp(at("pkg/package.yaml")), "Name: demo\n");
	assert_string_equal(slurp(at("pkg/Brick/brick.py")), "print(1)\n");
	struct stat sb;
	assert_int_equal(stat(at("pkg/Brick/run.sh"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	assert_int_equal(stat(at("pkg/Brick/brick.py"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	assert_int_equal(stat(at("pkg/empty"), &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(st.entries, 5);
	assert_int_equal(st.bytes, 11 + 9 + 10);
	free(b.buf);
	assert_int_equal(arc_rmtree(dest), 0);
}

static void test_good_zip(void **s) { (void)s; check_good(F_ZIP); }
static void test_good_tar(void **s) { (void)s; check_good(F_TAR); }
static void test_good_tgz(void **s) { (void)s; check_good(F_TGZ); }

static void test_dotdot(void **s)
{
	(void)s;
	static const char *const names[] = {"../evil", "pkg/../../evil", "pkg/..", ".."};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		struct builder b;
		b_open(&b, i % 2 ? F_TAR : F_ZIP);
		b_file(&b, "pkg/ok.txt", "fine");
		b_file(&b, names[i], "evil");
		b_close(&b);
		expect_reject(&b, NULL, "'..'");
	}
	assert_false(exists("/tmp/evil"));
}

static void test_absolute(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_TAR);
	b_file(&b, "/tmp/test_archive_abs_evil", "evil");
	b_close(&b);
	expect_reject(&b, NULL, "absolute path");
	assert_false(exists("/tmp/test_archive_abs_evil"));
}

static void test_symlink(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_TAR);
	b_entry(&b, "pkg/link", AE_IFLNK, 0777, NULL, 0, "/etc");
	b_file(&b, "pkg/link/passwd", "evil");
	b_close(&b);
	expect_reject(&b, NULL, "symbolic links are not allowed");

	/* The same in a zip (unix mode marks the entry as a link). */
	b_open(&b, F_ZIP);
	b_entry(&b, "link", AE_IFLNK, 0777, NULL, 0, "../../outside");
	b_close(&b);
	expect_reject(&b, NULL, "symbolic links");
}

static void test_hardlink(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_TAR);
	b_file(&b, "pkg/a", "data");
	b_entry(&b, "pkg/b", AE_IFREG, 0644, NULL, 0, "/etc/passwd");
	b_close(&b);
	expect_reject(&b, NULL, "hard links");
}

static void test_devices(void **s)
{
	(void)s;
	static const unsigned types[] = {AE_IFCHR, AE_IFBLK, AE_IFIFO, AE_IFSOCK};
	for (size_t i = 0; i < 3; i++) { /* pax cannot carry a socket */
		struct builder b;
		b_open(&b, F_TAR);
		b_entry(&b, "pkg/dev", types[i], 0644, NULL, 0, NULL);
		b_close(&b);
		expect_reject(&b, NULL, "only regular files and directories");
	}
}

static void test_duplicate_and_conflict(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_TAR);
	b_file(&b, "pkg/a", "first");
	b_file(&b, "pkg/./a", "second");
	b_close(&b);
	expect_reject(&b, NULL, "given twice");

	b_open(&b, F_TAR);
	b_file(&b, "pkg/a", "a file");
	b_file(&b, "pkg/a/b", "below a file");
	b_close(&b);
	expect_reject(&b, NULL, "in the way");
}

static void test_bad_names(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_TAR);
	b_file(&b, "pkg/new\nline", "x");
	b_close(&b);
	expect_reject(&b, NULL, "control character");

	char deep[400] = "";
	for (unsigned i = 0; i <= ARC_MAX_DEPTH; i++)
		strcat(deep, "d/");
	strcat(deep, "f");
	b_open(&b, F_TAR);
	b_file(&b, deep, "x");
	b_close(&b);
	expect_reject(&b, NULL, "too deep");
}

static void test_entry_bomb(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_ZIP);
	char name[32];
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof name, "f%d", i);
		b_file(&b, name, "x");
	}
	b_close(&b);
	struct arc_limits lim = {.max_entries = 10};
	expect_reject(&b, &lim, "more than 10 entries");
}

static void test_size_bomb(void **s)
{
	(void)s;
	/* 1 MiB of zeros deflates to about a kilobyte. */
	size_t n = 1024 * 1024;
	char *zeros = calloc(1, n);
	assert_non_null(zeros);
	for (int f = F_ZIP; f <= F_TGZ; f++) {
		struct builder b;
		b_open(&b, (enum fmt)f);
		b_entry(&b, "pkg/zeros", AE_IFREG, 0644, zeros, n, NULL);
		b_close(&b);
		if (f != F_TAR)
			assert_true(b.used < 64 * 1024);
		struct arc_limits lim = {.max_bytes = n - 1};
		expect_reject(&b, &lim, "size limit");
	}
	/* Several files together over the limit. */
	struct builder b;
	b_open(&b, F_TGZ);
	b_entry(&b, "a", AE_IFREG, 0644, zeros, 600, NULL);
	b_entry(&b, "b", AE_IFREG, 0644, zeros, 600, NULL);
	b_close(&b);
	struct arc_limits lim = {.max_bytes = 1000};
	expect_reject(&b, &lim, "size limit");
	free(zeros);
}

static void test_truncated_and_garbage(void **s)
{
	(void)s;
	for (int f = F_ZIP; f <= F_TGZ; f++) {
		struct builder b;
		b_open(&b, (enum fmt)f);
		char data[5000];
		for (size_t i = 0; i < sizeof data; i++)
			data[i] = (char)(i * 7919 % 251);
		b_entry(&b, "pkg/data.bin", AE_IFREG, 0644, data, sizeof data, NULL);
		b_file(&b, "pkg/second", "x");
		b_close(&b);
		b.used = b.used / 2;
		char err[256] = "";
		assert_int_equal(arc_extract_mem(b.buf, b.used, dest, NULL, NULL, err, sizeof err), -1);
		assert_false(exists(dest));
		free(b.buf);
	}
	char err[256] = "";
	assert_int_equal(arc_extract_mem("this is not an archive at all", 29, dest, NULL, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a readable"));
	assert_false(exists(dest));
}

static void test_existing_dest(void **s)
{
	(void)s;
	struct builder b;
	b_open(&b, F_TAR);
	b_file(&b, "x", "x");
	b_close(&b);
	char err[256] = "";
	/* An existing directory, or a symlink where the target should be,
	 * is never extracted into (and never removed). */
	assert_int_equal(mkdir(dest, 0755), 0);
	assert_int_equal(arc_extract_mem(b.buf, b.used, dest, NULL, NULL, err, sizeof err), -1);
	assert_true(exists(dest));
	assert_int_equal(rmdir(dest), 0);
	char target[128];
	snprintf(target, sizeof target, "%s/elsewhere", tmp);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, dest), 0);
	assert_int_equal(arc_extract_mem(b.buf, b.used, dest, NULL, NULL, err, sizeof err), -1);
	assert_false(exists(at("x")));
	unlink(dest);
	rmdir(target);
	free(b.buf);
}

/* --- zip building ------------------------------------------------------------ */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static void test_zip_round_trip(void **s)
{
	(void)s;
	char src[128], p[256], zip[128], err[256] = "";
	snprintf(src, sizeof src, "%s/src", tmp);
	snprintf(zip, sizeof zip, "%s/brick.zip", tmp);
	mkdir(src, 0755);
	snprintf(p, sizeof p, "%s/brick", src);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/brick/__init__.py", src);
	write_file(p, "from .x import Brick\n", 0644);
	snprintf(p, sizeof p, "%s/requirements.txt", src);
	write_file(p, "", 0644);
	snprintf(p, sizeof p, "%s/tool", src);
	write_file(p, "#!/bin/sh\n", 0755);
	snprintf(p, sizeof p, "%s/.git", src);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/.git/config", src);
	write_file(p, "secret", 0644);
	snprintf(p, sizeof p, "%s/README.md", src);
	write_file(p, "doc", 0644);

	static const char *const ignore[] = {".git", "README.md", NULL};
	assert_int_equal(arc_zip_dir(src, ignore, zip, err, sizeof err), 0);
	assert_int_equal(arc_extract_file(zip, dest, NULL, NULL, err, sizeof err), 0);
	/* Contents at the root, no "src/" prefix; ignored names gone. */
	assert_string_equal(slurp(at("brick/__init__.py")), "from .x import Brick\n");
	assert_true(exists(at("requirements.txt")));
	assert_false(exists(at(".git")));
	assert_false(exists(at("README.md")));
	struct stat sb;
	assert_int_equal(stat(at("tool"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	arc_rmtree(dest);

	/* A symlink inside the directory is refused, not followed. */
	snprintf(p, sizeof p, "%s/link", src);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(arc_zip_dir(src, NULL, zip, err, sizeof err), -1);
	assert_non_null(strstr(err, "link"));
	assert_false(exists(zip));
}

static void test_rmtree(void **s)
{
	(void)s;
	char d[128], p[256], outside[128];
	snprintf(d, sizeof d, "%s/rm", tmp);
	snprintf(outside, sizeof outside, "%s/keep", tmp);
	mkdir(d, 0755);
	mkdir(outside, 0755);
	snprintf(p, sizeof p, "%s/keep/file", tmp);
	write_file(p, "keep me", 0644);
	snprintf(p, sizeof p, "%s/link", d);
	assert_int_equal(symlink(outside, p), 0);
	assert_int_equal(arc_rmtree(d), 0);
	assert_false(exists(d));
	snprintf(p, sizeof p, "%s/keep/file", tmp);
	assert_true(exists(p)); /* the link was removed, not followed */
	assert_int_equal(arc_rmtree(d), 0); /* missing is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_zip),
		cmocka_unit_test(test_good_tar),
		cmocka_unit_test(test_good_tgz),
		cmocka_unit_test(test_dotdot),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_symlink),
		cmocka_unit_test(test_hardlink),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_duplicate_and_conflict),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_entry_bomb),
		cmocka_unit_test(test_size_bomb),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_existing_dest),
		cmocka_unit_test(test_zip_round_trip),
		cmocka_unit_test(test_rmtree),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
