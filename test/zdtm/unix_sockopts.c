// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options of unix sockets (pairs at sparse fixed fds):
 *
 *	  fd  pair  type       set before the dump
 *	   3  A     stream     SO_PASSCRED 1 (idle: nothing queued either way)
 *	  42  A     stream     SO_SNDBUF 50000
 *	 200  B     dgram      SO_PASSCRED 1, SO_RCVBUF 70000 (idle)
 *	   7  B     dgram      O_NONBLOCK
 *	   8  C     seqpacket  SO_SNDBUF 65536, SO_RCVBUF 40000
 *	   9  C     seqpacket  SO_SNDBUF 300000, FD_CLOEXEC
 *	  10  D     stream     SO_SNDBUF 20000; has written 6000 + 100 bytes
 *	                       to 11, queued there
 *	  11  D     stream     SO_RCVBUF 1 (the kernel's minimum)
 *
 * (The kernel doubles the buffer sizes it is given.) Before the dump and
 * after restore, SO_PASSCRED, SO_SNDBUF and SO_RCVBUF of every one of them
 * are read with getsockopt(); after restore they must be what they were
 * (and the fd table the same, see pipe_fds.h). Then they must still work:
 *
 *	- 3 and 200 get SCM_CREDENTIALS (this process's pid, uid and gid) with
 *	  a message from 42 and 7; 42 and 7 get none with one from 3 and 200;
 *	- 11 reads the data 10 wrote, and a message goes each way between 10
 *	  and 11 and between 8 and 9.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct {
	int fd;
	int passcred;
	int sndbuf; /* 0: the default */
	int rcvbuf;
} socks[] = {
	{ 3, 1, 0, 0 },		{ 42, 0, 50000, 0 }, { 200, 1, 0, 70000 }, { 7, 0, 0, 0 },
	{ 8, 0, 65536, 40000 }, { 9, 0, 300000, 0 }, { 10, 0, 20000, 0 },  { 11, 0, 0, 1 },
};

static const struct chunk d_data[] = { { 6000, 0xd1 }, { 100, 0xd2 } };
static const struct chunk msg[] = { { 99, 0xe1 } };

static int opts[NR(socks)][3];
static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

static void setopt(int fd, int opt, const char *name, int val)
{
	if (setsockopt(fd, SOL_SOCKET, opt, &val, sizeof(val)))
		fail_errno("fd %d: setsockopt(%s, %d)", fd, name, val);
}

static void read_opts(int (*o)[3])
{
	int i;

	for (i = 0; i < NR(socks); i++) {
		o[i][0] = sk_opt(socks[i].fd, SO_PASSCRED, "SO_PASSCRED", why, sizeof(why));
		o[i][1] = sk_opt(socks[i].fd, SO_SNDBUF, "SO_SNDBUF", why, sizeof(why));
		o[i][2] = sk_opt(socks[i].fd, SO_RCVBUF, "SO_RCVBUF", why, sizeof(why));
		if (o[i][0] < 0 || o[i][1] < 0 || o[i][2] < 0)
			fail("%s", why);
	}
}

/* fd gets msg, sent by from, with this process's credentials (if creds) or none. */
static void expect_creds(int from, int fd, bool creds)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))], buf[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	struct ucred uc;
	ssize_t n;

	check(send_msgs(from, msg, NR(msg), why, sizeof(why)));
	check(wait_readable(fd, why, sizeof(why)));
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n != (ssize_t)msg[0].len)
		fail("fd %d: recvmsg: %zd: %m, expected the %zu bytes sent on fd %d", fd, n, msg[0].len, from);
	cm = CMSG_FIRSTHDR(&mh);
	if (!creds) {
		if (cm)
			fail("fd %d (SO_PASSCRED 0) got a control message (level %d type %d)", fd, cm->cmsg_level,
			     cm->cmsg_type);
		return;
	}
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_CREDENTIALS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(uc)))
		fail("fd %d (SO_PASSCRED 1) got no credentials with a message", fd);
	memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
	if (uc.pid != getpid() || uc.uid != getuid() || uc.gid != getgid())
		fail("fd %d: credentials pid %d uid %d gid %d, expected %d %d %d", fd, uc.pid, uc.uid, uc.gid, getpid(),
		     getuid(), getgid());
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;
	static int now[NR(socks)][3];
	int i, j;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	check(sockpair_at(SOCK_STREAM, 3, 42, why, sizeof(why)));
	check(sockpair_at(SOCK_DGRAM, 200, 7, why, sizeof(why)));
	check(set_fd_flags(7, O_NONBLOCK, false, why, sizeof(why)));
	check(sockpair_at(SOCK_SEQPACKET, 8, 9, why, sizeof(why)));
	check(set_fd_flags(9, 0, true, why, sizeof(why)));
	check(sockpair_at(SOCK_STREAM, 10, 11, why, sizeof(why)));
	for (i = 0; i < NR(socks); i++) {
		if (socks[i].passcred)
			setopt(socks[i].fd, SO_PASSCRED, "SO_PASSCRED", 1);
		if (socks[i].sndbuf)
			setopt(socks[i].fd, SO_SNDBUF, "SO_SNDBUF", socks[i].sndbuf);
		if (socks[i].rcvbuf)
			setopt(socks[i].fd, SO_RCVBUF, "SO_RCVBUF", socks[i].rcvbuf);
	}
	check(write_chunks(10, d_data, NR(d_data), why, sizeof(why)));

	read_opts(opts);
	for (i = 0; i < NR(socks); i++) {
		test_msg("fd %d: SO_PASSCRED %d SO_SNDBUF %d SO_RCVBUF %d", socks[i].fd, opts[i][0], opts[i][1],
			 opts[i][2]);
		if (opts[i][0] != socks[i].passcred)
			fail("set-up: fd %d: SO_PASSCRED %d", socks[i].fd, opts[i][0]);
		for (j = 0; j < i; j++)
			if (socks[i].sndbuf && opts[j][1] == opts[i][1])
				fail("set-up: fd %d has the SO_SNDBUF of fd %d", socks[i].fd, socks[j].fd);
	}
	check(fd_table_collect(&before, why, sizeof(why)));
	fd_table_print(&before, "before");

	test_daemon();
	test_waitsig();

	check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "after");
		fail("%s", why);
	}
	read_opts(now);
	for (i = 0; i < NR(socks); i++) {
		static const char *const names[] = { "SO_PASSCRED", "SO_SNDBUF", "SO_RCVBUF" };

		for (j = 0; j < 3; j++)
			if (now[i][j] != opts[i][j])
				fail("fd %d: %s %d, expected %d", socks[i].fd, names[j], now[i][j], opts[i][j]);
	}

	expect_creds(42, 3, true);
	expect_creds(7, 200, true);
	expect_creds(3, 42, false);
	expect_creds(200, 7, false);
	check(read_chunks(11, d_data, NR(d_data), true, why, sizeof(why)));
	check(expect_sock_empty(11, why, sizeof(why)));
	for (i = 0; i < 2; i++) {
		int a = i ? 8 : 10, b = i ? 9 : 11;

		check(send_msgs(a, msg, NR(msg), why, sizeof(why)));
		check(recv_msgs(b, msg, NR(msg), &sk_unnamed, why, sizeof(why)));
		check(send_msgs(b, msg, NR(msg), why, sizeof(why)));
		check(recv_msgs(a, msg, NR(msg), &sk_unnamed, why, sizeof(why)));
	}
	pass();
}
