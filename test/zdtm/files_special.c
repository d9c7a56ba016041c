// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptors that are not plain reads and writes of a file:
 *    3  O_PATH on a regular file (p.data)
 *    4  O_PATH | O_DIRECTORY on a directory (sub), FD_CLOEXEC
 *   42  the directory sub, O_RDONLY | O_DIRECTORY, part-way through its
 *       entries (getdents64 read some of them)
 *   43  /dev/zero, O_RDONLY
 *  200  /dev/urandom, O_RDONLY | O_NONBLOCK, FD_CLOEXEC
 *  201  /dev/null, O_WRONLY
 * After restore the descriptor table (the list of /proc/self/fd) must be
 * exactly the same: paths, F_GETFL, F_GETFD, offsets, what fstat says of
 * each (type, inode of the files, st_rdev of the devices); the directory
 * must go on with the entries it had not read yet; /dev/zero must read
 * zeros, /dev/urandom must give bytes without blocking, /dev/null must
 * swallow writes; the O_PATH fds must still reach their file and
 * directory (fstatat through them).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MAX_FDS 32
#define NR_ENTRIES 64
#define NAMES_MAX (NR_ENTRIES + 2)

struct fd_state {
	int fd;
	int fl;
	int fdfl;
	off_t pos;
	struct stat st;
	char path[4096];
};

static struct fd_state before[MAX_FDS], after[MAX_FDS];

static int cmp_fd(const void *a, const void *b)
{
	return ((const struct fd_state *)a)->fd - ((const struct fd_state *)b)->fd;
}

/* Every open fd but the one listing /proc/self/fd, sorted. */
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
		ssize_t len;
		int fd;

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
		/* lseek fails with EBADF on an O_PATH fd: -1 on both sides */
		st[n].pos = lseek(fd, 0, SEEK_CUR);
		if (fstat(fd, &st[n].st))
			fail_errno("fstat %d", fd);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, st[n].path, sizeof(st[n].path) - 1);
		st[n].path[len > 0 ? len : 0] = '\0';
		n++;
	}
	closedir(d);
	qsort(st, n, sizeof(*st), cmp_fd);
	return n;
}

static void place(int tmp, int fd, int fdflags, const char *what)
{
	if (tmp < 0)
		fail_errno("open %s", what);
	if (tmp != fd) {
		if (dup2(tmp, fd) != fd)
			fail_errno("dup2 %s to %d", what, fd);
		close(tmp);
	}
	if (fcntl(fd, F_SETFD, fdflags))
		fail_errno("F_SETFD %d", fd);
}

/* The names getdents64 gives from fd's offset to the end (sorted, "." and ".." included). */
static int names_from(int fd, char names[][64])
{
	char buf[4096];
	int n = 0;
	long len;

	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		long off;

		for (off = 0; off < len;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);

			if (n == NAMES_MAX)
				fail("more directory entries than created");
			snprintf(names[n++], 64, "%.63s", de->d_name);
			off += de->d_reclen;
		}
	}
	if (len < 0)
		fail_errno("getdents64");
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	return n;
}

static void compare_states(int nb, int na)
{
	int i;

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
			fail("fd %d (%s): F_GETFL %#o, expected %#o", a->fd, a->path, a->fl, b->fl);
		if (a->fdfl != b->fdfl)
			fail("fd %d (%s): F_GETFD %d, expected %d", a->fd, a->path, a->fdfl, b->fdfl);
		if (a->pos != b->pos)
			fail("fd %d (%s): offset %ld, expected %ld", a->fd, a->path, (long)a->pos, (long)b->pos);
		if (a->st.st_mode != b->st.st_mode || a->st.st_rdev != b->st.st_rdev)
			fail("fd %d (%s): mode 0%o rdev %#lx, expected 0%o %#lx", a->fd, a->path, a->st.st_mode,
			     (unsigned long)a->st.st_rdev, b->st.st_mode, (unsigned long)b->st.st_rdev);
		/* files of the test dir are the same files; devices may be other nodes of the same device */
		if (!S_ISCHR(b->st.st_mode) && (a->st.st_ino != b->st.st_ino || a->st.st_dev != b->st.st_dev))
			fail("fd %d (%s): another file (inode %lu, was %lu)", a->fd, a->path,
			     (unsigned long)a->st.st_ino, (unsigned long)b->st.st_ino);
	}
}

int main(int argc, char **argv)
{
	static char expect[NAMES_MAX][64], got[NAMES_MAX][64];
	char path[4200], buf[4096];
	int nb, na, i, fd, n_expect, n_got;
	struct stat st;
	off_t dpos;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s/p.data", test_dir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || write(fd, "0123456789", 10) != 10)
		fail_errno("create %s", path);
	close(fd);
	snprintf(path, sizeof(path), "%s/sub", test_dir());
	if (mkdir(path, 0750))
		fail_errno("mkdir %s", path);
	for (i = 0; i < NR_ENTRIES; i++) {
		char name[4300];

		snprintf(name, sizeof(name), "%s/entry-%02d", path, i);
		fd = open(name, O_WRONLY | O_CREAT, 0600);
		if (fd < 0)
			fail_errno("create %s", name);
		close(fd);
	}

	snprintf(path, sizeof(path), "%s/p.data", test_dir());
	place(open(path, O_PATH), 3, 0, path);
	snprintf(path, sizeof(path), "%s/sub", test_dir());
	place(open(path, O_PATH | O_DIRECTORY), 4, FD_CLOEXEC, path);
	place(open(path, O_RDONLY | O_DIRECTORY), 42, 0, path);
	/* read part of the directory: a small buffer stops after a few entries */
	if (syscall(SYS_getdents64, 42, buf, 256) <= 0)
		fail_errno("getdents64");
	dpos = lseek(42, 0, SEEK_CUR);
	/* what is left from there, read through a description of its own */
	fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || lseek(fd, dpos, SEEK_SET) != dpos)
		fail_errno("second directory fd");
	n_expect = names_from(fd, expect);
	close(fd);
	if (n_expect == 0 || n_expect >= NR_ENTRIES)
		fail("getdents64 left %d of %d entries: not part-way", n_expect, NR_ENTRIES + 2);
	place(open("/dev/zero", O_RDONLY), 43, 0, "/dev/zero");
	place(open("/dev/urandom", O_RDONLY | O_NONBLOCK), 200, FD_CLOEXEC, "/dev/urandom");
	place(open("/dev/null", O_WRONLY), 201, 0, "/dev/null");

	nb = collect(before);
	for (i = 0; i < nb; i++)
		test_msg("fd %d: %s flags %#o fd flags %d pos %ld rdev %#lx", before[i].fd, before[i].path,
			 before[i].fl, before[i].fdfl, (long)before[i].pos, (unsigned long)before[i].st.st_rdev);
	/* again: the messages moved the offset of the log */
	nb = collect(before);

	test_daemon();
	test_waitsig();

	na = collect(after);
	compare_states(nb, na);

	/* the directory goes on where it stopped */
	n_got = names_from(42, got);
	if (n_got != n_expect)
		fail("fd 42: %d entries left to read, expected %d", n_got, n_expect);
	for (i = 0; i < n_got; i++)
		if (strcmp(got[i], expect[i]))
			fail("fd 42: entry %s left to read, expected %s", got[i], expect[i]);
	/* the O_PATH fds still lead to their file and directory */
	if (fstatat(3, "", &st, AT_EMPTY_PATH) || st.st_size != 10)
		fail("fd 3: fstatat on the O_PATH fd gives size %ld", (long)st.st_size);
	if (fstatat(4, "entry-07", &st, 0) || !S_ISREG(st.st_mode))
		fail_errno("fd 4: entry-07 can't be reached through the O_PATH directory");
	if (read(3, buf, 1) != -1)
		fail("fd 3: an O_PATH fd can be read from");
	/* the devices */
	memset(buf, 'x', sizeof(buf));
	if (read(43, buf, sizeof(buf)) != sizeof(buf))
		fail_errno("read /dev/zero");
	for (i = 0; i < (int)sizeof(buf); i++)
		if (buf[i])
			fail("fd 43: /dev/zero gave 0x%x at byte %d", buf[i], i);
	if (read(200, buf, 64) != 64)
		fail_errno("read /dev/urandom");
	if (write(201, buf, 64) != 64)
		fail_errno("write /dev/null");
	if (read(201, buf, 1) != -1)
		fail("fd 201: /dev/null opened write-only can be read");
	pass();
}
