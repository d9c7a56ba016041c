// SPDX-License-Identifier: GPL-2.0
/*
 * Unix socket pairs shut down on one end, with data queued before:
 *
 *	  fds      type       shutdown        queued
 *	A   3, 42  stream     3: SHUT_WR      4000 + 96 bytes to 42, 2000 to 3
 *	B 200,  7  stream     200: SHUT_RD    3000 bytes to 200, 1500 to 7
 *	C   8,  9  seqpacket  8: SHUT_WR      messages of 10, 2000 and 1 bytes
 *	                                      to 9, of 30 bytes to 8
 *	D 100,101  dgram      100: SHUT_WR    datagrams of 5, 0 and 700 bytes
 *	                                      to 101, of 6 bytes to 100
 *	E  10, 11  stream     10: SHUT_RDWR   100 bytes to 10, 200 to 11
 *	                      (11 O_NONBLOCK)
 *
 * For stream and seqpacket the kernel shuts the other direction of the
 * peer too; a datagram socket's shutdown is its own. After restore (and
 * the fd table the same, see pipe_fds.h):
 *
 *	A: 42 reads its data, then EOF; a send on 3 gives EPIPE; 3 reads its
 *	   data, then nothing (42 can still send), and a message from 42;
 *	B: 200 reads its data, then EOF; a send on 7 gives EPIPE; 7 reads its
 *	   data, then nothing, and a message from 200;
 *	C: 9 reads its messages, then EOF; a send on 8 gives EPIPE; 8 reads
 *	   its message, then nothing, and one from 9;
 *	D: a send on 100 gives EPIPE; 101 reads its datagrams, then nothing
 *	   (no EOF: nothing shut 101 down), and 100 still gets datagrams
 *	   from 101;
 *	E: both read their data then EOF; a send on either gives EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct chunk a_to42[] = { { 4000, 0xa1 }, { 96, 0xa2 } };
static const struct chunk a_to3[] = { { 2000, 0xa3 } };
static const struct chunk b_to200[] = { { 3000, 0xb1 } };
static const struct chunk b_to7[] = { { 1500, 0xb2 } };
static const struct chunk c_to9[] = { { 10, 0xc1 }, { 2000, 0xc2 }, { 1, 0xc3 } };
static const struct chunk c_to8[] = { { 30, 0xc4 } };
static const struct chunk d_to101[] = { { 5, 0xd1 }, { 0, 0xd2 }, { 700, 0xd3 } };
static const struct chunk d_to100[] = { { 6, 0xd4 } };
static const struct chunk e_to10[] = { { 100, 0xe1 } };
static const struct chunk e_to11[] = { { 200, 0xe2 } };
static const struct chunk post[] = { { 123, 0xf1 } };

static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

static void shut(int fd, int how)
{
	if (shutdown(fd, how))
		fail_errno("shutdown(%d, %d)", fd, how);
}

/* The checks that change nothing, before the dump and after restore. */
static void check_sends(void)
{
	check(expect_send_error(3, EPIPE, why, sizeof(why)));
	check(expect_send_error(7, EPIPE, why, sizeof(why)));
	check(expect_send_error(8, EPIPE, why, sizeof(why)));
	check(expect_send_error(100, EPIPE, why, sizeof(why)));
	check(expect_send_error(10, EPIPE, why, sizeof(why)));
	check(expect_send_error(11, EPIPE, why, sizeof(why)));
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	check(sockpair_at(SOCK_STREAM, 3, 42, why, sizeof(why)));
	check(write_chunks(3, a_to42, NR(a_to42), why, sizeof(why)));
	check(write_chunks(42, a_to3, NR(a_to3), why, sizeof(why)));
	shut(3, SHUT_WR);

	check(sockpair_at(SOCK_STREAM, 200, 7, why, sizeof(why)));
	check(write_chunks(7, b_to200, NR(b_to200), why, sizeof(why)));
	check(write_chunks(200, b_to7, NR(b_to7), why, sizeof(why)));
	shut(200, SHUT_RD);

	check(sockpair_at(SOCK_SEQPACKET, 8, 9, why, sizeof(why)));
	check(send_msgs(8, c_to9, NR(c_to9), why, sizeof(why)));
	check(send_msgs(9, c_to8, NR(c_to8), why, sizeof(why)));
	shut(8, SHUT_WR);

	check(sockpair_at(SOCK_DGRAM, 100, 101, why, sizeof(why)));
	check(send_msgs(100, d_to101, NR(d_to101), why, sizeof(why)));
	check(send_msgs(101, d_to100, NR(d_to100), why, sizeof(why)));
	shut(100, SHUT_WR);

	check(sockpair_at(SOCK_STREAM, 10, 11, why, sizeof(why)));
	check(set_fd_flags(11, O_NONBLOCK, false, why, sizeof(why)));
	check(write_chunks(11, e_to10, NR(e_to10), why, sizeof(why)));
	check(write_chunks(10, e_to11, NR(e_to11), why, sizeof(why)));
	shut(10, SHUT_RDWR);

	check_sends();
	check(fd_table_collect(&before, why, sizeof(why)));
	fd_table_print(&before, "before");

	test_daemon();
	test_waitsig();

	check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "after");
		fail("%s", why);
	}
	check_sends();

	/* A */
	check(read_chunks(42, a_to42, NR(a_to42), true, why, sizeof(why)));
	check(expect_sock_eof(42, why, sizeof(why)));
	check(read_chunks(3, a_to3, NR(a_to3), true, why, sizeof(why)));
	check(expect_sock_empty(3, why, sizeof(why)));
	check(write_chunks(42, post, NR(post), why, sizeof(why)));
	check(read_chunks(3, post, NR(post), true, why, sizeof(why)));

	/* B */
	check(read_chunks(200, b_to200, NR(b_to200), true, why, sizeof(why)));
	check(expect_sock_eof(200, why, sizeof(why)));
	check(read_chunks(7, b_to7, NR(b_to7), true, why, sizeof(why)));
	check(expect_sock_empty(7, why, sizeof(why)));
	check(write_chunks(200, post, NR(post), why, sizeof(why)));
	check(read_chunks(7, post, NR(post), true, why, sizeof(why)));

	/* C */
	check(recv_msgs(9, c_to9, NR(c_to9), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_eof(9, why, sizeof(why)));
	check(recv_msgs(8, c_to8, NR(c_to8), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(8, why, sizeof(why)));
	check(send_msgs(9, post, NR(post), why, sizeof(why)));
	check(recv_msgs(8, post, NR(post), &sk_unnamed, why, sizeof(why)));

	/* D */
	check(recv_msgs(101, d_to101, NR(d_to101), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(101, why, sizeof(why)));
	check(recv_msgs(100, d_to100, NR(d_to100), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(100, why, sizeof(why)));
	check(send_msgs(101, post, NR(post), why, sizeof(why)));
	check(recv_msgs(100, post, NR(post), &sk_unnamed, why, sizeof(why)));

	/* E */
	check(read_chunks(10, e_to10, NR(e_to10), true, why, sizeof(why)));
	check(expect_sock_eof(10, why, sizeof(why)));
	check(read_chunks(11, e_to11, NR(e_to11), true, why, sizeof(why)));
	check(expect_sock_eof(11, why, sizeof(why)));
	check_sends();
	pass();
}
