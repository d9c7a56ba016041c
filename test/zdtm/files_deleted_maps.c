// SPDX-License-Identifier: GPL-2.0
/*
 * Mappings of deleted files, and a deleted executable.
 *
 * The test first copies its own executable into its directory and runs
 * the copy, which deletes it: /proc/self/exe and the mappings of the
 * program name a deleted file. Then m.data (4 pages, page i filled with
 * pattern i) is mapped three times and deleted, with no fd left on it:
 *   shared   MAP_SHARED, read-write, all 4 pages; byte 0 written ('S')
 *   priv     MAP_PRIVATE, read-write, all 4 pages; page 1 written over
 *            ('P'), so a private copy; the other pages still the file's
 *   tail     MAP_PRIVATE, read-only, pages 2 and 3 (file offset 2 pages)
 * A child, forked then, shares the MAP_SHARED mapping.
 *
 * After restore: /proc/self/exe is "PATH (deleted)" with the copy's path,
 * the maps lines of m.data and of the program are as before (addresses,
 * protections, offsets, "PATH (deleted)"), nothing exists at either
 * path, the three mappings are one deleted file (map_files: one inode, no
 * link), every page holds what it held. A write through the shared
 * mapping shows through the unwritten pages of priv and tail (one file
 * behind all three), not through priv's private page; the child sees
 * the parent's write and writes back (one MAP_SHARED object for both).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define PAGE 4096
#define NR_PAGES 4
#define REEXEC_ENV "ZDTM_DELETED_EXE"

static unsigned char *shared, *priv, *tail;
static unsigned char expect[NR_PAGES * PAGE];
static char m_path[4200], exe_path[4200];
static pid_t child;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[600];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (child > 0)
		reap_child(child, NULL, 0);
	fail("%s", msg);
}

/* Before test_init(): run a copy of this program from the test's directory (--dir). */
static void run_copy(int argc, char **argv)
{
	const char *dir = NULL, *base = strrchr(argv[0], '/');
	char buf[65536];
	int src, dst, i;
	ssize_t n;

	for (i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--dir=", 6))
			dir = argv[i] + 6;
	if (!dir) {
		fprintf(stderr, "files_deleted_maps needs --dir=DIR\n");
		exit(2);
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		exit(2);
	}
	snprintf(exe_path, sizeof(exe_path), "%s/%s", dir, base ? base + 1 : argv[0]);
	src = open("/proc/self/exe", O_RDONLY);
	dst = open(exe_path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (src < 0 || dst < 0) {
		perror(exe_path);
		exit(2);
	}
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(dst, buf, n) != n) {
			perror(exe_path);
			exit(2);
		}
	close(src);
	close(dst);
	setenv(REEXEC_ENV, exe_path, 1);
	execv(exe_path, argv);
	perror(exe_path);
	exit(2);
}

/* The maps lines of the deleted files, without device and inode (new ones after restore). */
static void maps_of_deleted(char *out, size_t size)
{
	static char buf[65536];
	char *line, *save;
	size_t len = 0;

	if (read_file("/proc/self/maps", buf, sizeof(buf)) < 0)
		die("read /proc/self/maps: %m");
	out[0] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char range[64], perms[8], off[32], dev[16], path[4300];
		unsigned long ino;

		if (!strstr(line, " (deleted)"))
			continue;
		path[0] = 0;
		if (sscanf(line, "%63s %7s %31s %15s %lu %4299[^\n]", range, perms, off, dev, &ino, path) < 5)
			die("can't parse maps line %s", line);
		len += snprintf(out + len, size - len, "%s %s %s %s\n", range, perms, off, path + strspn(path, " "));
		if (len >= size)
			die("too many deleted mappings");
	}
}

static void expect_mem(const unsigned char *p, const unsigned char *want, size_t len, const char *name)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != want[i])
			die("%s: byte %zu is 0x%x, expected 0x%x", name, i, p[i], want[i]);
}

static void map_file(void)
{
	int fd, i;

	snprintf(m_path, sizeof(m_path), "%s/m.data", test_dir());
	for (i = 0; i < NR_PAGES; i++)
		fill_pattern(expect + i * PAGE, PAGE, 0x100 + i);
	fd = open(m_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, expect, sizeof(expect)) != sizeof(expect))
		die("write %s: %m", m_path);
	shared = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	tail = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
	if (shared == MAP_FAILED || priv == MAP_FAILED || tail == MAP_FAILED)
		die("mmap: %m");
	close(fd);
	if (unlink(m_path))
		die("unlink %s: %m", m_path);
	shared[0] = 'S';
	expect[0] = 'S';
	memset(priv + PAGE, 'P', PAGE);
}

static void child_main(int ready) __attribute__((noreturn));
static void child_main(int ready)
{
	close(ready);
	test_waitsig();
	if (shared[100] != 'C') {
		test_msg("child: the parent's write through the shared mapping is not seen (0x%x)", shared[100]);
		_exit(1);
	}
	shared[200] = 'D';
	_exit(0);
}

static void spawn_child(void)
{
	int ready[2], status = 0;
	char c;

	if (pipe(ready))
		die("pipe: %m");
	child = fork();
	if (child < 0)
		die("fork: %m");
	if (child == 0) {
		close(ready[0]);
		child_main(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 0 || proc_state_of(child) == 'Z') {
		reap_child(child, &status, 0);
		child = 0;
		die("set-up: the child failed (%s)", wait_status_str(status));
	}
	close(ready[0]);
}

static void map_file_stat(const void *p, size_t len, struct stat *st)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p, (unsigned long)p + len);
	if (stat(path, st))
		die("stat %s: %m", path);
}

static void check_identity(void)
{
	struct stat s, p, t;

	map_file_stat(shared, NR_PAGES * PAGE, &s);
	map_file_stat(priv, NR_PAGES * PAGE, &p);
	map_file_stat(tail, 2 * PAGE, &t);
	if (s.st_ino != p.st_ino || s.st_ino != t.st_ino || s.st_dev != p.st_dev || s.st_dev != t.st_dev)
		die("the mappings are of different files: inodes %lu %lu %lu", (unsigned long)s.st_ino,
		    (unsigned long)p.st_ino, (unsigned long)t.st_ino);
	if (s.st_nlink || s.st_size != NR_PAGES * PAGE)
		die("m.data has %lu links and %ld bytes, expected 0 and %d", (unsigned long)s.st_nlink, (long)s.st_size,
		    NR_PAGES * PAGE);
	if (!access(m_path, F_OK) || errno != ENOENT || !access(exe_path, F_OK) || errno != ENOENT)
		die("something exists at %s or %s", m_path, exe_path);
}

int main(int argc, char **argv)
{
	static char maps_before[16384], maps_after[16384];
	static unsigned char page_p[PAGE];
	char link[4300], want[4300];
	int status = 0;
	pid_t pid;
	ssize_t n;

	if (!getenv(REEXEC_ENV))
		run_copy(argc, argv);
	snprintf(exe_path, sizeof(exe_path), "%s", getenv(REEXEC_ENV));
	if (unlink(exe_path)) {
		perror(exe_path);
		exit(2);
	}
	test_init(argc, argv);
	map_file();
	spawn_child();
	maps_of_deleted(maps_before, sizeof(maps_before));
	test_msg("deleted mappings:\n%s", maps_before);
	if (!strstr(maps_before, m_path) || !strstr(maps_before, exe_path))
		die("set-up: the maps do not show both deleted files");

	test_daemon();
	test_waitsig();

	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "%s (deleted)", exe_path);
	if (strcmp(link, want))
		die("/proc/self/exe is %s, expected %s", link, want);
	maps_of_deleted(maps_after, sizeof(maps_after));
	if (strcmp(maps_before, maps_after))
		die("the deleted mappings changed:\n%s\nexpected:\n%s", maps_after, maps_before);
	check_identity();

	/* the content, then a write through the shared mapping seen by the others */
	memset(page_p, 'P', PAGE);
	expect_mem(shared, expect, sizeof(expect), "shared");
	expect_mem(priv, expect, PAGE, "priv page 0");
	expect_mem(priv + PAGE, page_p, PAGE, "priv page 1 (its own copy)");
	expect_mem(priv + 2 * PAGE, expect + 2 * PAGE, 2 * PAGE, "priv pages 2-3");
	expect_mem(tail, expect + 2 * PAGE, 2 * PAGE, "tail");
	shared[100] = 'C';
	shared[PAGE + 7] = 'Q';
	shared[2 * PAGE + 5] = 'E';
	if (priv[100] != 'C' || tail[5] != 'E')
		die("a write through the shared mapping does not show in the private ones: not one file");
	if (priv[PAGE + 7] != 'P')
		die("a write through the shared mapping shows in a page priv had copied");

	kill(child, SIGTERM);
	pid = child;
	child = 0;
	if (reap_child(pid, &status, 5000) || status)
		fail("the child did not end well (%s): see the test log", wait_status_str(status));
	if (shared[200] != 'D')
		fail("the child's write through the shared mapping is not seen");
	pass();
}
