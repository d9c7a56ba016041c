// SPDX-License-Identifier: GPL-2.0
/*
 * Files deleted while open:
 *    3  a.data  O_RDWR, offset 5000; 70000 bytes: data, a hole from 8192
 *               to 65536, data; mode 0640, owner 1234:5678
 *   42  a.data  a second description of it, O_RDONLY, FD_CLOEXEC, offset 100
 *  200  b.data  O_WRONLY | O_APPEND, 300 bytes, offset 300, mode 0600
 * Both files are unlinked, then a child is forked: it keeps only fd 3,
 * which it shares (one description) with its parent.
 *
 * After restore, in the parent: the descriptor table is the same (paths,
 * "PATH (deleted)" with the original paths, F_GETFL, F_GETFD, offsets);
 * 3 and 42 are one file (same st_ino) but two descriptions (kcmp), 200
 * another file; the sizes, modes, owners, mtimes, link counts (0) and
 * contents are the ones dumped and the hole is still a hole; nothing
 * exists at the original paths; a write through 3 reads back through 42,
 * and a write through 200 goes to the end of b.data. kcmp says the
 * child's fd 3 is the parent's description; the parent moves its offset
 * to 12345 and SIGTERMs the child, which must see that offset, the same
 * path and content, and exits 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "zdtmtst.h"

#define MAX_FDS 16
#define A_SIZE 70000
#define A_HOLE_START 8192
#define A_HOLE_END 65536
#define B_SIZE 300
#define SHARED_POS 12345

struct fd_state {
	int fd;
	int fl;
	int fdfl;
	off_t pos;
	struct stat st;
	char path[4200];
};

static struct fd_state before[MAX_FDS], after[MAX_FDS];
static char a_path[4200], b_path[4200];
static unsigned char a_data[A_SIZE], b_data[B_SIZE + 64];
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

static int cmp_fd(const void *a, const void *b)
{
	return ((const struct fd_state *)a)->fd - ((const struct fd_state *)b)->fd;
}

static int collect(struct fd_state *st)
{
	struct dirent *de;
	char link[64];
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (!d)
		die("opendir /proc/self/fd: %m");
	while ((de = readdir(d))) {
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		if (n == MAX_FDS)
			die("too many fds");
		st[n].fd = fd;
		st[n].fl = fcntl(fd, F_GETFL);
		st[n].fdfl = fcntl(fd, F_GETFD);
		st[n].pos = lseek(fd, 0, SEEK_CUR);
		if (fstat(fd, &st[n].st))
			die("fstat %d: %m", fd);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, st[n].path, sizeof(st[n].path) - 1);
		st[n].path[len > 0 ? len : 0] = '\0';
		n++;
	}
	closedir(d);
	qsort(st, n, sizeof(*st), cmp_fd);
	return n;
}

static const struct fd_state *find(const struct fd_state *st, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (st[i].fd == fd)
			return &st[i];
	die("fd %d is not open", fd);
}

static void place(const char *path, int flags, mode_t mode, int fd)
{
	int tmp = open(path, flags, mode);

	if (tmp < 0)
		die("open %s: %m", path);
	if (tmp != fd) {
		if (dup2(tmp, fd) != fd)
			die("dup2 %d: %m", fd);
		close(tmp);
	}
}

static void expect_link(int fd, const char *path)
{
	char proc[64], link[4200], want[4300];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "%s (deleted)", path);
	if (strcmp(link, want))
		die("fd %d is %s, expected %s", fd, link, want);
}

/* The whole content of the file behind fd, read through pread (no offset moves). */
static void expect_content(int fd, const unsigned char *data, size_t size, const char *name)
{
	static unsigned char buf[A_SIZE + 1];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	if (n != (ssize_t)size)
		die("%s: reads %zd bytes, expected %zu", name, n, size);
	for (size_t i = 0; i < size; i++)
		if (buf[i] != data[i])
			die("%s: byte %zu is 0x%x, expected 0x%x", name, i, buf[i], data[i]);
}

/* Where the data after the hole starts, seen through a description of its own. */
static off_t data_after_hole(int fd)
{
	char proc[64];
	off_t off;
	int tmp;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	tmp = open(proc, O_RDONLY);
	if (tmp < 0)
		die("open %s: %m", proc);
	off = lseek(tmp, A_HOLE_START, SEEK_DATA);
	close(tmp);
	return off;
}

static void child_main(int ready) __attribute__((noreturn));
static void child_main(int ready)
{
	int fd;

	/* only fd 3 (the parent's description) and the ready fd */
	for (fd = 4; fd < 1024; fd++)
		if (fd != ready)
			close(fd);
	close(ready);

	test_waitsig();

	if (lseek(3, 0, SEEK_CUR) != SHARED_POS) {
		test_msg("child: fd 3 is at %ld, the parent set %d: not its description", (long)lseek(3, 0, SEEK_CUR),
			 SHARED_POS);
		_exit(1);
	}
	{
		char proc[64], link[4200], want[4300];
		ssize_t n;

		snprintf(proc, sizeof(proc), "/proc/self/fd/3");
		n = readlink(proc, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		snprintf(want, sizeof(want), "%s (deleted)", a_path);
		if (strcmp(link, want)) {
			test_msg("child: fd 3 is %s, expected %s", link, want);
			_exit(1);
		}
	}
	{
		static unsigned char buf[A_SIZE];

		/* the parent wrote "XYZ" at 5000 through its fd 3 before the SIGTERM */
		memcpy(a_data + 5000, "XYZ", 3);
		if (pread(3, buf, A_SIZE, 0) != A_SIZE || memcmp(buf, a_data, A_SIZE)) {
			test_msg("child: fd 3 does not read the content of a.data");
			_exit(1);
		}
	}
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

static void make_files(void)
{
	const char *dir = test_dir();

	memset(a_data, 0, sizeof(a_data));
	fill_pattern(a_data, A_HOLE_START, 0xa1);
	fill_pattern(a_data + A_HOLE_END, A_SIZE - A_HOLE_END, 0xa2);
	fill_pattern(b_data, sizeof(b_data), 0xb1);
	snprintf(a_path, sizeof(a_path), "%s/a.data", dir);
	snprintf(b_path, sizeof(b_path), "%s/b.data", dir);

	place(a_path, O_RDWR | O_CREAT | O_TRUNC, 0600, 3);
	if (pwrite(3, a_data, A_HOLE_START, 0) != A_HOLE_START ||
	    pwrite(3, a_data + A_HOLE_END, A_SIZE - A_HOLE_END, A_HOLE_END) != A_SIZE - A_HOLE_END)
		die("write a.data: %m");
	if (fchown(3, 1234, 5678) || fchmod(3, 0640))
		die("chown/chmod a.data: %m");
	if (lseek(3, 5000, SEEK_SET) != 5000)
		die("lseek: %m");
	place(a_path, O_RDONLY | O_CLOEXEC, 0, 42);
	if (fcntl(42, F_SETFD, FD_CLOEXEC) || lseek(42, 100, SEEK_SET) != 100)
		die("fd 42: %m");
	place(b_path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0600, 200);
	if (write(200, b_data, B_SIZE) != B_SIZE)
		die("write b.data: %m");
	if (unlink(a_path) || unlink(b_path))
		die("unlink: %m");
}

/* The state of the files after restore: identity, attributes, content. */
static void check_files(int nb, off_t hole_end)
{
	const struct fd_state *b3 = find(before, nb, 3), *b200 = find(before, nb, 200);
	const struct fd_state *a3 = find(after, nb, 3), *a42 = find(after, nb, 42), *a200 = find(after, nb, 200);

	expect_link(3, a_path);
	expect_link(42, a_path);
	expect_link(200, b_path);
	if (a3->st.st_ino != a42->st.st_ino || a3->st.st_dev != a42->st.st_dev)
		die("fd 3 and fd 42 are different files (inodes %lu and %lu)", (unsigned long)a3->st.st_ino,
		    (unsigned long)a42->st.st_ino);
	if (a3->st.st_ino == a200->st.st_ino)
		die("fd 3 and fd 200 are one file");
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 3, 42) == 0)
		die("fd 3 and fd 42 share one description: they had their own");
	if (a3->st.st_nlink || a200->st.st_nlink)
		die("the files have links: %lu and %lu", (unsigned long)a3->st.st_nlink,
		    (unsigned long)a200->st.st_nlink);
	if (a3->st.st_size != A_SIZE || a200->st.st_size != B_SIZE)
		die("sizes %ld and %ld, expected %d and %d", (long)a3->st.st_size, (long)a200->st.st_size, A_SIZE,
		    B_SIZE);
	if (a3->st.st_mode != (S_IFREG | 0640) || a3->st.st_uid != 1234 || a3->st.st_gid != 5678)
		die("a.data: mode 0%o owner %u:%u, expected 0%o 1234:5678", a3->st.st_mode, a3->st.st_uid,
		    a3->st.st_gid, S_IFREG | 0640);
	if (a200->st.st_mode != (S_IFREG | 0600) || a200->st.st_uid != b200->st.st_uid)
		die("b.data: mode 0%o owner %u, expected 0%o %u", a200->st.st_mode, a200->st.st_uid, S_IFREG | 0600,
		    b200->st.st_uid);
	if (a3->st.st_mtim.tv_sec != b3->st.st_mtim.tv_sec || a3->st.st_mtim.tv_nsec != b3->st.st_mtim.tv_nsec ||
	    a200->st.st_mtim.tv_sec != b200->st.st_mtim.tv_sec || a200->st.st_mtim.tv_nsec != b200->st.st_mtim.tv_nsec)
		die("mtimes changed");
	expect_content(42, a_data, A_SIZE, "a.data (fd 42)");
	if (data_after_hole(3) != hole_end)
		die("a.data: data after %d starts at %ld, it started at %ld", A_HOLE_START, (long)data_after_hole(3),
		    (long)hole_end);
	if (!access(a_path, F_OK) || errno != ENOENT || !access(b_path, F_OK) || errno != ENOENT)
		die("something exists at %s or %s", a_path, b_path);
}

static void compare_tables(int nb, int na)
{
	int i;

	if (na != nb)
		die("%d fds after restore, %d before", na, nb);
	for (i = 0; i < nb; i++) {
		const struct fd_state *b = &before[i], *a = &after[i];

		if (a->fd != b->fd)
			die("fd %d (%s) is lost or fd %d (%s) appeared", b->fd, b->path, a->fd, a->path);
		if (strcmp(a->path, b->path))
			die("fd %d: path %s, expected %s", a->fd, a->path, b->path);
		if (a->fl != b->fl || a->fdfl != b->fdfl)
			die("fd %d (%s): F_GETFL %#o F_GETFD %d, expected %#o %d", a->fd, a->path, a->fl, a->fdfl,
			    b->fl, b->fdfl);
		if (a->pos != b->pos)
			die("fd %d (%s): offset %ld, expected %ld", a->fd, a->path, (long)a->pos, (long)b->pos);
	}
}

int main(int argc, char **argv)
{
	struct stat st;
	off_t hole_end;
	int nb, na, i;
	char buf[8];

	test_init(argc, argv);
	make_files();
	hole_end = data_after_hole(3);
	spawn_child();
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, 3, 3))
		die("set-up: the child's fd 3 is not the parent's description");

	nb = collect(before);
	for (i = 0; i < nb; i++)
		test_msg("fd %d: %s flags %#o fd flags %d pos %ld ino %lu", before[i].fd, before[i].path, before[i].fl,
			 before[i].fdfl, (long)before[i].pos, (unsigned long)before[i].st.st_ino);
	/* again: the messages moved the offset of the log */
	nb = collect(before);

	test_daemon();
	test_waitsig();

	na = collect(after);
	compare_tables(nb, na);
	check_files(nb, hole_end);

	/* one file behind 3 and 42; O_APPEND on 200 */
	if (pwrite(3, "XYZ", 3, 5000) != 3 || pread(42, buf, 3, 5000) != 3 || memcmp(buf, "XYZ", 3))
		die("a write through fd 3 does not read back through fd 42");
	if (write(200, b_data + B_SIZE, 8) != 8 || fstat(200, &st) || st.st_size != B_SIZE + 8)
		die("b.data is %ld bytes after an O_APPEND write, expected %d", (long)st.st_size, B_SIZE + 8);

	/* the child's fd 3 is this description */
	if (syscall(SYS_kcmp, getpid(), child, KCMP_FILE, 3, 3))
		die("the child's fd 3 is not the parent's description any more");
	memcpy(a_data + 5000, "XYZ", 3);
	if (lseek(3, SHARED_POS, SEEK_SET) != SHARED_POS)
		die("lseek: %m");
	kill(child, SIGTERM);
	{
		int status = 0;
		pid_t pid = child;

		child = 0;
		if (reap_child(pid, &status, 5000) || status)
			fail("the child did not end well (%s): see the test log", wait_status_str(status));
	}
	pass();
}
