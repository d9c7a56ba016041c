// SPDX-License-Identifier: GPL-2.0
/*
 * Unix socket pairs one end of which was closed before the dump, the
 * survivor holding what the closed end had sent (the closed end had read
 * everything sent to it):
 *
 *	  fd  type       flags                   queued in the survivor
 *	A   3  stream                            5000 and 17 bytes
 *	B  42  seqpacket  FD_CLOEXEC             messages of 10, 3000 and 1 bytes
 *	C 200  stream     O_NONBLOCK             nothing
 *	D   7  stream     O_NONBLOCK, FD_CLOEXEC 70000 bytes (more than one
 *	                                         message of the kernel)
 *	E   8  dgram      O_NONBLOCK             datagrams of 4, 0 and 99 bytes
 *
 * The closed end is gone everywhere: nothing of it may come back. After
 * restore (and the fd table the same, see pipe_fds.h), each stream or
 * seqpacket survivor reads its data, in order (its messages with their
 * boundaries), then EOF, and a send on it gives EPIPE, as before the dump.
 * The datagram survivor reads its datagrams, then nothing (a datagram
 * socket has no EOF); then, as the kernel does with a datagram socket
 * whose peer is gone, a send gives ECONNREFUSED (and disconnects it), the
 * next ENOTCONN.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct chunk a_data[] = { { 5000, 0xa1 }, { 17, 0xa2 } };
static const struct chunk b_data[] = { { 10, 0xb1 }, { 3000, 0xb2 }, { 1, 0xb3 } };
static const struct chunk d_data[] = { { 70000, 0xd1 } };
static const struct chunk e_data[] = { { 4, 0xe1 }, { 0, 0xe2 }, { 99, 0xe3 } };

static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

/* A pair of type with one end at fd; the other sends c (as messages if msgs), then is closed. */
static void survivor_at(int type, int fd, const struct chunk *c, int n, bool msgs)
{
	int gone = FD_TEMP_BASE + 10;

	check(sockpair_at(type, fd, gone, why, sizeof(why)));
	if (msgs)
		check(send_msgs(gone, c, n, why, sizeof(why)));
	else
		check(write_chunks(gone, c, n, why, sizeof(why)));
	close(gone);
}

static void check_sends(void)
{
	check(expect_send_error(3, EPIPE, why, sizeof(why)));
	check(expect_send_error(42, EPIPE, why, sizeof(why)));
	check(expect_send_error(200, EPIPE, why, sizeof(why)));
	check(expect_send_error(7, EPIPE, why, sizeof(why)));
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	survivor_at(SOCK_STREAM, 3, a_data, NR(a_data), false);
	survivor_at(SOCK_SEQPACKET, 42, b_data, NR(b_data), true);
	check(set_fd_flags(42, 0, true, why, sizeof(why)));
	survivor_at(SOCK_STREAM, 200, NULL, 0, false);
	check(set_fd_flags(200, O_NONBLOCK, false, why, sizeof(why)));
	survivor_at(SOCK_STREAM, 7, d_data, NR(d_data), false);
	check(set_fd_flags(7, O_NONBLOCK, true, why, sizeof(why)));
	survivor_at(SOCK_DGRAM, 8, e_data, NR(e_data), true);
	check(set_fd_flags(8, O_NONBLOCK, false, why, sizeof(why)));

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

	check(read_chunks(3, a_data, NR(a_data), true, why, sizeof(why)));
	check(expect_sock_eof(3, why, sizeof(why)));
	check(recv_msgs(42, b_data, NR(b_data), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_eof(42, why, sizeof(why)));
	check(expect_sock_eof(200, why, sizeof(why)));
	check(read_chunks(7, d_data, NR(d_data), true, why, sizeof(why)));
	check(expect_sock_eof(7, why, sizeof(why)));
	check_sends();

	/* a send first would drop the datagrams (the kernel purges them) */
	check(recv_msgs(8, e_data, NR(e_data), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(8, why, sizeof(why)));
	check(expect_send_error(8, ECONNREFUSED, why, sizeof(why)));
	check(expect_send_error(8, ENOTCONN, why, sizeof(why)));
	pass();
}
