// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files open at sparse descriptor numbers:
 *    3  a.data  O_RDWR                      offset 1234
 *    7  a.data  O_RDONLY, FD_CLOEXEC        offset 10 (own description)
 *    8  dup of 3 (shares the description, so the offset)
 *    9  the test dir, O_RDONLY|O_DIRECTORY, FD_CLOEXEC
 *   42  b.data  O_WRONLY|O_APPEND           offset 0, size 100
 *  200  c.data  O_RDONLY|O_NONBLOCK, FD_CLOEXEC, offset 17
 * After restore the descriptor table (the list of /proc/self/fd) must be
 * the same: no fd added, none lost; each fd must have the same path,
 * F_GETFL flags, F_GETFD flags and offset; 3 and 8 must still share their
 * offset; a write to 42 must go to the end of b.data.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_FDS 64

struct fd_state {
	int fd;
	int fl;
	int fdfl;
	off_t pos;
	char path[4096];
};

static struct fd_state before[MAX_FDS], after[MAX_FDS];

static int cmp_fd(const void *a, const void *b)
{
	return ((const struct fd_state *)a)->fd - ((const struct fd_state *)b)->fd;
}

/* Fill st with every open fd (but the one listing /proc/self/fd), sorted. */
static int collect(struct fd_state *st)
{
	struct dirent *de;
	char link[64];
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (!d)
		fail_errno("opendir /proc/self/fd");
	while ((de = readdir(d))) {
		int fd;
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		if (n == MAX_FDS)
			fail("too many fds");
		st[n].fd = fd;
		st[n].fl = fcntl(fd, F_GETFL);
		st[n].fdfl = fcntl(fd, F_GETFD);
		st[n].pos = lseek(fd, 0, SEEK_CUR);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, st[n].path, sizeof(st[n].path) - 1);
		st[n].path[len > 0 ? len : 0] = '\0';
		n++;
	}
	closedir(d);
	qsort(st, n, sizeof(*st), cmp_fd);
	return n;
}

static int open_at(const char *dir, const char *name, int flags, int fd)
{
	char path[4200];
	int tmp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tmp = open(path, flags, 0644);
	if (tmp < 0)
		fail_errno("open %s", path);
	if (tmp == fd)
		return fd;
	if (dup2(tmp, fd) != fd)
		fail_errno("dup2 %d", fd);
	close(tmp);
	/* dup2 does not copy FD_CLOEXEC */
	if ((flags & O_CLOEXEC) && fcntl(fd, F_SETFD, FD_CLOEXEC))
		fail_errno("F_SETFD %d", fd);
	return fd;
}

static uint8_t pat_a[4096], pat_b[4096], pat_c[4096];

static void make_file(const char *dir, const char *name, const uint8_t *data, size_t size)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		fail_errno("write %s", path);
	close(fd);
}

int main(int argc, char **argv)
{
	static uint8_t buf[8192];
	const char *dir;
	char path[4200];
	struct stat st;
	int nb, na, i;

	test_init(argc, argv);
	dir = test_dir();

	fill_pattern(pat_a, sizeof(pat_a), 0xa);
	fill_pattern(pat_b, sizeof(pat_b), 0xb);
	fill_pattern(pat_c, sizeof(pat_c), 0xc);
	make_file(dir, "a.data", pat_a, 4096);
	make_file(dir, "b.data", pat_b, 100);
	make_file(dir, "c.data", pat_c, 4096);

	open_at(dir, "a.data", O_RDWR, 3);
	lseek(3, 1234, SEEK_SET);
	open_at(dir, "a.data", O_RDONLY | O_CLOEXEC, 7);
	lseek(7, 10, SEEK_SET);
	if (dup2(3, 8) != 8)
		fail_errno("dup2");
	open_at(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 9);
	open_at(dir, "b.data", O_WRONLY | O_APPEND, 42);
	open_at(dir, "c.data", O_RDONLY | O_NONBLOCK | O_CLOEXEC, 200);
	if (read(200, buf, 17) != 17)
		fail_errno("read");

	nb = collect(before);
	for (i = 0; i < nb; i++)
		test_msg("fd %d: %s flags %#o fd flags %d pos %ld", before[i].fd, before[i].path, before[i].fl,
			 before[i].fdfl, (long)before[i].pos);
	/* again: the messages moved the offset of the log */
	nb = collect(before);

	test_daemon();
	test_waitsig();

	na = collect(after);
	for (i = 0; i < nb || i < na; i++) {
		struct fd_state *b = &before[i], *a = &after[i];

		if (i >= na)
			fail("fd %d (%s) is lost", b->fd, b->path);
		if (i >= nb || a->fd != b->fd) {
			if (i < nb && a->fd > b->fd)
				fail("fd %d (%s) is lost", b->fd, b->path);
			fail("fd %d (%s) appeared", a->fd, a->path);
		}
		if (strcmp(a->path, b->path))
			fail("fd %d: path %s, expected %s", a->fd, a->path, b->path);
		if (a->fl != b->fl)
			fail("fd %d: F_GETFL %#o, expected %#o", a->fd, a->fl, b->fl);
		if (a->fdfl != b->fdfl)
			fail("fd %d: F_GETFD %d, expected %d", a->fd, a->fdfl, b->fdfl);
		if (a->pos != b->pos)
			fail("fd %d: offset %ld, expected %ld", a->fd, (long)a->pos, (long)b->pos);
	}

	/* 3 and 8 share one description */
	lseek(3, 2000, SEEK_SET);
	if (lseek(8, 0, SEEK_CUR) != 2000)
		fail("fd 3 and fd 8 no longer share their offset");
	/* the data behind the offsets */
	if (pread(3, buf, 4096, 0) != 4096 || memcmp(buf, pat_a, 4096))
		fail("fd 3: a.data has wrong data");
	if (read(7, buf, 8) != 8 || memcmp(buf, pat_a + 10, 8))
		fail("fd 7: wrong data at offset 10");
	if (lseek(7, 0, SEEK_CUR) != 18)
		fail("fd 7: offset %ld after reading 8 bytes at 10", (long)lseek(7, 0, SEEK_CUR));
	if (read(200, buf, 100) != 100 || memcmp(buf, pat_c + 17, 100))
		fail("fd 200: wrong data at offset 17");
	/* O_APPEND: the write goes to the end, whatever the offset says */
	if (write(42, "appended", 8) != 8)
		fail_errno("write to fd 42");
	if (fstat(42, &st))
		fail_errno("fstat");
	if (st.st_size != 108)
		fail("b.data is %ld bytes after an O_APPEND write, expected 108", (long)st.st_size);
	snprintf(path, sizeof(path), "%s/b.data", dir);
	i = open(path, O_RDONLY);
	if (i < 0 || pread(i, buf, 108, 0) != 108 || memcmp(buf, pat_b, 100) || memcmp(buf + 100, "appended", 8))
		fail("the O_APPEND write is not at the end of b.data");
	close(i);
	pass();
}
