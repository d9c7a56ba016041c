// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes with both ends (or one) in one process, at sparse fixed fds:
 *
 *	  fd  pipe  end    flags                    state
 *	   3  A     read                            12542 bytes queued, in 5
 *	  42  A     write  FD_CLOEXEC               writes of 1000, 3000, 17,
 *	  43  A     write  dup of 42                8192 and 333 bytes
 *	  50  A     read   O_NONBLOCK, own description (opened through
 *	                   /proc/self/fd/3)
 *	   7  B     read                            full: F_GETPIPE_SZ bytes
 *	   8  B     write  O_NONBLOCK               (64 KiB by default)
 *	 200  C     read   O_NONBLOCK, FD_CLOEXEC   F_SETPIPE_SZ 128 KiB,
 *	 100  C     write                           100000 bytes queued
 *	  10  D     read   O_NONBLOCK, FD_CLOEXEC   empty
 *	  11  D     write
 *	  20  E     read   O_NONBLOCK               write end closed, 5000
 *	                                            bytes queued
 *	  30  F     write  FD_CLOEXEC               read end closed; SIGPIPE
 *	                                            is ignored
 *
 * After restore the fd table must be the same (see pipe_fds.h): the same
 * fds, each with the same F_GETFL, F_GETFD and pipe size; the fds of one
 * pipe still one pipe (same inode), of different pipes different pipes;
 * 42 and 43 still one description, 50 still its own. Then:
 *
 *	A: exactly the 12542 bytes queued, read back in order from fd 3; then
 *	   it is empty; a write to 43 comes out of 50 (the same pipe); an
 *	   O_NONBLOCK set on 43 shows on 42 (the same description);
 *	B: still full: a non-blocking write of 1 byte to 8 gives EAGAIN; the
 *	   data reads back in order, then a write goes through;
 *	C: F_GETPIPE_SZ is 128 KiB; the 100000 bytes (more than a default
 *	   pipe holds) read back in order;
 *	D: empty: a read of 10 gives EAGAIN; a byte written to 11 comes out;
 *	E: the 5000 bytes, then EOF (no write end came back anywhere);
 *	F: a write to 30 gives EPIPE (no read end came back anywhere).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pipe_fds.h"

#define C_PIPE_SZ (128 * 1024)

static const struct chunk a_chunks[] = {
	{ 1000, 0xa1 }, { 3000, 0xa2 }, { 17, 0xa3 }, { 8192, 0xa4 }, { 333, 0xa5 },
};
static const struct chunk c_chunks[] = { { 100000, 0xc1 } };
static const struct chunk e_chunks[] = { { 5000, 0xe1 } };
static struct chunk b_chunks[] = { { 0, 0xb1 } }; /* len: the pipe's size */

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

/* A pipe at fds rfd and wfd (-1: that end is closed). */
static void pipe_at(int rfd, int wfd)
{
	int p[2];

	check(pipe_high(p, why, sizeof(why)));
	if (rfd >= 0)
		check(move_fd(p[0], rfd, why, sizeof(why)));
	else
		close(p[0]);
	if (wfd >= 0)
		check(move_fd(p[1], wfd, why, sizeof(why)));
	else
		close(p[1]);
}

static void expect_queued(int fd, int n)
{
	int q = pipe_queued(fd);

	if (q != n)
		fail("fd %d: %d bytes queued, expected %d", fd, q, n);
}

/* A non-blocking write of 1 byte to fd must fail with err. */
static void expect_write_error(int fd, int err)
{
	ssize_t ret = write(fd, "x", 1);

	if (ret >= 0)
		fail("fd %d: a write of 1 byte went through, expected %s", fd, strerror(err));
	if (errno != err)
		fail("fd %d: write: %m, expected %s", fd, strerror(err));
}

/* The checks that leave the state as it is, before the dump. */
static void check_set_up(void)
{
	expect_queued(3, 12542);
	expect_queued(7, b_chunks[0].len);
	expect_write_error(8, EAGAIN);
	expect_queued(200, 100000);
	expect_queued(10, 0);
	check(expect_empty(10, why, sizeof(why)));
	expect_queued(20, 5000);
	expect_write_error(30, EPIPE);
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;
	struct sigaction sa;
	char buf[8];
	int fd, p[2];

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	/* A */
	pipe_at(3, 42);
	check(set_fd_flags(42, 0, true, why, sizeof(why)));
	check(move_fd(fcntl(42, F_DUPFD, FD_TEMP_BASE), 43, why, sizeof(why)));
	fd = open("/proc/self/fd/3", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		fail_errno("open /proc/self/fd/3");
	check(move_fd(fd, 50, why, sizeof(why)));
	check(write_chunks(42, a_chunks, NR(a_chunks), why, sizeof(why)));

	/* B: filled to its size exactly, through the non-blocking end */
	pipe_at(7, 8);
	check(set_fd_flags(8, O_NONBLOCK, false, why, sizeof(why)));
	b_chunks[0].len = fcntl(7, F_GETPIPE_SZ);
	if ((int)b_chunks[0].len <= 0)
		fail_errno("F_GETPIPE_SZ");
	check(write_chunks(8, b_chunks, NR(b_chunks), why, sizeof(why)));

	/* C: bigger than a pipe of the default size holds */
	pipe_at(200, 100);
	if (fcntl(100, F_SETPIPE_SZ, C_PIPE_SZ) != C_PIPE_SZ)
		fail_errno("F_SETPIPE_SZ %d", C_PIPE_SZ);
	check(set_fd_flags(200, O_NONBLOCK, true, why, sizeof(why)));
	check(write_chunks(100, c_chunks, NR(c_chunks), why, sizeof(why)));

	/* D */
	pipe_at(10, 11);
	check(set_fd_flags(10, O_NONBLOCK, true, why, sizeof(why)));

	/* E: write end closed after the data */
	check(pipe_high(p, why, sizeof(why)));
	check(move_fd(p[0], 20, why, sizeof(why)));
	check(set_fd_flags(20, O_NONBLOCK, false, why, sizeof(why)));
	check(write_chunks(p[1], e_chunks, NR(e_chunks), why, sizeof(why)));
	close(p[1]);

	/* F: read end closed */
	pipe_at(-1, 30);
	check(set_fd_flags(30, 0, true, why, sizeof(why)));

	check_set_up();
	check(fd_table_collect(&before, why, sizeof(why)));
	fd_table_print(&before, "before");

	test_daemon();
	test_waitsig();

	check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "after");
		fail("%s", why);
	}

	/* A */
	check(read_chunks(3, a_chunks, NR(a_chunks), true, why, sizeof(why)));
	check(expect_empty(3, why, sizeof(why)));
	check(expect_empty(50, why, sizeof(why)));
	check(write_all(43, "ping", 4, why, sizeof(why)));
	check(read_exact(50, buf, 4, why, sizeof(why)));
	if (memcmp(buf, "ping", 4))
		fail("fd 50: read %.4s, expected the ping written to fd 43", buf);
	check(set_fd_flags(43, O_NONBLOCK, false, why, sizeof(why)));
	if (!(fcntl(42, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK set on fd 43 does not show on fd 42: not one description");
	if (fcntl(3, F_GETFL) & O_NONBLOCK)
		fail("O_NONBLOCK set on fd 43 shows on fd 3");

	/* B */
	expect_queued(7, b_chunks[0].len);
	expect_write_error(8, EAGAIN);
	check(read_chunks(7, b_chunks, NR(b_chunks), true, why, sizeof(why)));
	check(expect_empty(7, why, sizeof(why)));
	check(write_all(8, "b", 1, why, sizeof(why)));
	check(read_exact(7, buf, 1, why, sizeof(why)));
	if (buf[0] != 'b')
		fail("fd 7: read %#x, expected the b written to fd 8", (unsigned char)buf[0]);

	/* C */
	if (fcntl(200, F_GETPIPE_SZ) != C_PIPE_SZ || fcntl(100, F_GETPIPE_SZ) != C_PIPE_SZ)
		fail("F_GETPIPE_SZ of fds 200, 100: %d, %d, expected %d", fcntl(200, F_GETPIPE_SZ),
		     fcntl(100, F_GETPIPE_SZ), C_PIPE_SZ);
	check(read_chunks(200, c_chunks, NR(c_chunks), true, why, sizeof(why)));
	check(expect_empty(200, why, sizeof(why)));

	/* D */
	expect_queued(10, 0);
	check(expect_empty(10, why, sizeof(why)));
	check(write_all(11, "d", 1, why, sizeof(why)));
	check(read_exact(10, buf, 1, why, sizeof(why)));
	if (buf[0] != 'd')
		fail("fd 10: read %#x, expected the d written to fd 11", (unsigned char)buf[0]);
	check(expect_empty(10, why, sizeof(why)));

	/* E */
	check(read_chunks(20, e_chunks, NR(e_chunks), true, why, sizeof(why)));
	check(expect_eof(20, why, sizeof(why)));

	/* F */
	if (sigaction(SIGPIPE, NULL, &sa) || sa.sa_handler != SIG_IGN)
		fail("SIGPIPE is no longer ignored");
	expect_write_error(30, EPIPE);
	pass();
}
