// SPDX-License-Identifier: GPL-2.0
/*
 * FIFOs (mkfifo in the test dir) with data queued at the dump:
 *
 *	fifo.a	  3  O_RDONLY | O_NONBLOCK (opened first: the opens of the
 *		     write ends need not wait)
 *		  4  O_WRONLY, FD_CLOEXEC
 *		 42  O_RDWR: a description of its own
 *		 queued: 6000 and 4000 bytes written to 4, then 1000 to 42
 *	fifo.b	200  O_RDWR | O_NONBLOCK, the only fd of its FIFO;
 *		 F_SETPIPE_SZ 128 KiB, 70000 bytes queued (more than a FIFO of
 *		 the default size holds)
 *
 * A FIFO's data lives only as long as it is open, so none of it is in the
 * file system: it must come back from the images. After restore the fd
 * table must be the same (see pipe_fds.h): the same fds with the same
 * flags, each still on its FIFO (same path and inode), with the same pipe
 * size. Then fifo.a gives back its 11000 bytes in order through fd 3, and
 * then nothing (EAGAIN: there are writers); a write to 42 comes out of 3;
 * once 4 and 42 are closed, 3 reads EOF (no other writer came back).
 * fifo.b has F_GETPIPE_SZ 128 KiB and gives back its 70000 bytes in order,
 * then EAGAIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipe_fds.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))
#define B_PIPE_SZ (128 * 1024)

static const struct chunk a_by_4[] = { { 6000, 0xf1 }, { 4000, 0xf2 } };
static const struct chunk a_by_42[] = { { 1000, 0xf3 } };
static const struct chunk a_all[] = { { 6000, 0xf1 }, { 4000, 0xf2 }, { 1000, 0xf3 } };
static const struct chunk b_data[] = { { 70000, 0xf4 } };

static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

static void open_at(const char *path, int flags, int fd)
{
	int tmp = open(path, flags);

	if (tmp < 0)
		fail_errno("open %s", path);
	check(move_fd(tmp, fd, why, sizeof(why)));
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;
	char a[4200], b[4200], buf[4];
	int q;

	test_init(argc, argv);
	snprintf(a, sizeof(a), "%s/fifo.a", test_dir());
	snprintf(b, sizeof(b), "%s/fifo.b", test_dir());
	unlink(a);
	unlink(b);
	if (mkfifo(a, 0600) || mkfifo(b, 0600))
		fail_errno("mkfifo");

	open_at(a, O_RDONLY | O_NONBLOCK, 3);
	open_at(a, O_WRONLY, 4);
	check(set_fd_flags(4, 0, true, why, sizeof(why)));
	open_at(a, O_RDWR, 42);
	check(write_chunks(4, a_by_4, NR(a_by_4), why, sizeof(why)));
	check(write_chunks(42, a_by_42, NR(a_by_42), why, sizeof(why)));

	open_at(b, O_RDWR | O_NONBLOCK, 200);
	if (fcntl(200, F_SETPIPE_SZ, B_PIPE_SZ) != B_PIPE_SZ)
		fail_errno("F_SETPIPE_SZ %d", B_PIPE_SZ);
	check(write_chunks(200, b_data, NR(b_data), why, sizeof(why)));

	if ((q = pipe_queued(3)) != 11000)
		fail("set-up: %d bytes queued in fifo.a, expected 11000", q);
	if ((q = pipe_queued(200)) != 70000)
		fail("set-up: %d bytes queued in fifo.b, expected 70000", q);
	check(fd_table_collect(&before, why, sizeof(why)));
	fd_table_print(&before, "before");

	test_daemon();
	test_waitsig();

	check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "after");
		fail("%s", why);
	}

	/* fifo.a */
	check(read_chunks(3, a_all, NR(a_all), true, why, sizeof(why)));
	check(expect_empty(3, why, sizeof(why)));
	check(write_all(42, "ping", 4, why, sizeof(why)));
	check(read_exact(3, buf, 4, why, sizeof(why)));
	if (memcmp(buf, "ping", 4))
		fail("fd 3: read %.4s, expected the ping written to fd 42", buf);
	close(4);
	close(42);
	check(expect_eof(3, why, sizeof(why)));

	/* fifo.b */
	if (fcntl(200, F_GETPIPE_SZ) != B_PIPE_SZ)
		fail("fd 200: F_GETPIPE_SZ %d, expected %d", fcntl(200, F_GETPIPE_SZ), B_PIPE_SZ);
	check(read_chunks(200, b_data, NR(b_data), true, why, sizeof(why)));
	check(expect_empty(200, why, sizeof(why)));
	pass();
}
