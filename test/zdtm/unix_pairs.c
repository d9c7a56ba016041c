// SPDX-License-Identifier: GPL-2.0
/*
 * Unix socket pairs of the three types, with data queued both ways, at
 * sparse fixed fds:
 *
 *	  fd  pair  type       flags                    queued (to be read there)
 *	   3  S     stream     FD_CLOEXEC               1000, 3000, 17, 70000 and
 *	                                                333 bytes written by 42
 *	  42  S     stream     O_NONBLOCK               5000 and 1 bytes written by 3
 *	  43  S     stream     dup of 42, FD_CLOEXEC
 *	 200  D     dgram      O_NONBLOCK, FD_CLOEXEC   datagrams of 100, 0, 7000,
 *	                                                1, 0 and 65000 bytes from 7
 *	   7  D     dgram                               datagrams of 3, 9000 and 0
 *	                                                bytes from 200
 *	   8  Q     seqpacket                           messages of 1, 4096, 33 and
 *	                                                12000 bytes from 100
 *	 100  Q     seqpacket  O_NONBLOCK               messages of 500 and 2 bytes
 *	                                                from 8
 *	  10  E     stream     O_NONBLOCK               nothing
 *	  11  E     stream     FD_CLOEXEC               nothing
 *
 * After restore the fd table must be the same (see pipe_fds.h): the same
 * fds with the same F_GETFL, F_GETFD and SO_TYPE, 42 and 43 one socket
 * (one description), all the others different sockets. Then each socket
 * gives exactly what was queued to it: the stream bytes in order (FIONREAD
 * the total first); every datagram and seqpacket message on its own, with
 * its length (the empty ones too, where they were) and bytes, from an
 * unnamed sender; then nothing more (EAGAIN, no EOF). And each pair is
 * still connected to itself: a message sent on one end comes out of the
 * other, both ways (through 43 for S); O_NONBLOCK cleared on 43 shows on
 * 42 (one description), set on 43 does not show on 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct chunk s_to3[] = {
	{ 1000, 0x31 }, { 3000, 0x32 }, { 17, 0x33 }, { 70000, 0x34 }, { 333, 0x35 },
};
static const struct chunk s_to42[] = { { 5000, 0x41 }, { 1, 0x42 } };
static const struct chunk d_to200[] = {
	{ 100, 0xd1 }, { 0, 0xd2 }, { 7000, 0xd3 }, { 1, 0xd4 }, { 0, 0xd5 }, { 65000, 0xd6 },
};
static const struct chunk d_to7[] = { { 3, 0x71 }, { 9000, 0x72 }, { 0, 0x73 } };
static const struct chunk q_to8[] = { { 1, 0x81 }, { 4096, 0x82 }, { 33, 0x83 }, { 12000, 0x84 } };
static const struct chunk q_to100[] = { { 500, 0x91 }, { 2, 0x92 } };

/* sent after restore, to check who is connected to whom */
static const struct chunk post_a[] = { { 77, 0xa1 } };
static const struct chunk post_b[] = { { 88, 0xb1 } };

static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

static size_t total(const struct chunk *c, int n)
{
	size_t t = 0;
	int i;

	for (i = 0; i < n; i++)
		t += c[i].len;
	return t;
}

static void expect_fionread(int fd, size_t n, const char *what)
{
	int q;

	if (ioctl(fd, FIONREAD, &q))
		fail_errno("fd %d: FIONREAD", fd);
	if (q != (int)n)
		fail("fd %d: FIONREAD %d, expected %zu (%s)", fd, q, n, what);
}

/* The checks that leave the state as it is (no peeking), before the dump. */
static void check_set_up(void)
{
	expect_fionread(3, total(s_to3, NR(s_to3)), "the bytes queued");
	expect_fionread(42, total(s_to42, NR(s_to42)), "the bytes queued");
	expect_fionread(200, d_to200[0].len, "the first datagram");
	expect_fionread(7, d_to7[0].len, "the first datagram");
	expect_fionread(8, total(q_to8, NR(q_to8)), "the bytes queued");
	expect_fionread(100, total(q_to100, NR(q_to100)), "the bytes queued");
	expect_fionread(10, 0, "nothing queued");
	expect_fionread(11, 0, "nothing queued");
}

/* A message each way between a and b (messages or stream bytes). */
static void exchange(int a, int b)
{
	check(send_msgs(a, post_a, 1, why, sizeof(why)));
	check(recv_msgs(b, post_a, 1, &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(b, why, sizeof(why)));
	check(send_msgs(b, post_b, 1, why, sizeof(why)));
	check(recv_msgs(a, post_b, 1, &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(a, why, sizeof(why)));
}

static void exchange_stream(int a, int b)
{
	check(write_chunks(a, post_a, 1, why, sizeof(why)));
	check(read_chunks(b, post_a, 1, true, why, sizeof(why)));
	check(expect_sock_empty(b, why, sizeof(why)));
	check(write_chunks(b, post_b, 1, why, sizeof(why)));
	check(read_chunks(a, post_b, 1, true, why, sizeof(why)));
	check(expect_sock_empty(a, why, sizeof(why)));
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	/* S */
	check(sockpair_at(SOCK_STREAM, 3, 42, why, sizeof(why)));
	check(move_fd(fcntl(42, F_DUPFD, FD_TEMP_BASE), 43, why, sizeof(why)));
	check(set_fd_flags(3, 0, true, why, sizeof(why)));
	check(set_fd_flags(43, 0, true, why, sizeof(why)));
	check(write_chunks(42, s_to3, NR(s_to3), why, sizeof(why)));
	check(write_chunks(3, s_to42, NR(s_to42), why, sizeof(why)));
	check(set_fd_flags(42, O_NONBLOCK, false, why, sizeof(why)));

	/* D */
	check(sockpair_at(SOCK_DGRAM, 200, 7, why, sizeof(why)));
	check(set_fd_flags(200, O_NONBLOCK, true, why, sizeof(why)));
	check(send_msgs(7, d_to200, NR(d_to200), why, sizeof(why)));
	check(send_msgs(200, d_to7, NR(d_to7), why, sizeof(why)));

	/* Q */
	check(sockpair_at(SOCK_SEQPACKET, 8, 100, why, sizeof(why)));
	check(set_fd_flags(100, O_NONBLOCK, false, why, sizeof(why)));
	check(send_msgs(100, q_to8, NR(q_to8), why, sizeof(why)));
	check(send_msgs(8, q_to100, NR(q_to100), why, sizeof(why)));

	/* E */
	check(sockpair_at(SOCK_STREAM, 10, 11, why, sizeof(why)));
	check(set_fd_flags(10, O_NONBLOCK, false, why, sizeof(why)));
	check(set_fd_flags(11, 0, true, why, sizeof(why)));

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
	check_set_up();

	/* S: the bytes in order, both ways */
	check(read_chunks(3, s_to3, NR(s_to3), true, why, sizeof(why)));
	check(expect_sock_empty(3, why, sizeof(why)));
	check(read_chunks(42, s_to42, NR(s_to42), true, why, sizeof(why)));
	check(expect_sock_empty(42, why, sizeof(why)));
	check(expect_sock_empty(43, why, sizeof(why)));
	exchange_stream(3, 43);
	exchange_stream(42, 3);
	check(set_fd_flags(43, O_NONBLOCK, false, why, sizeof(why)));
	if (fcntl(3, F_GETFL) & O_NONBLOCK)
		fail("O_NONBLOCK set on fd 43 shows on fd 3, the other end");
	if (fcntl(43, F_SETFL, 0) || (fcntl(42, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK cleared on fd 43 still shows on fd 42: not one description");

	/* D: every datagram, the empty ones too */
	check(recv_msgs(200, d_to200, NR(d_to200), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(200, why, sizeof(why)));
	check(recv_msgs(7, d_to7, NR(d_to7), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(7, why, sizeof(why)));
	exchange(200, 7);

	/* Q */
	check(recv_msgs(8, q_to8, NR(q_to8), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(8, why, sizeof(why)));
	check(recv_msgs(100, q_to100, NR(q_to100), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(100, why, sizeof(why)));
	exchange(8, 100);

	/* E */
	check(expect_sock_empty(10, why, sizeof(why)));
	check(expect_sock_empty(11, why, sizeof(why)));
	exchange_stream(10, 11);
	pass();
}
