/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Listening unix sockets and connections accepted from them, for
 * unix_listen_path (names are paths in test_dir()) and
 * unix_listen_abstract (abstract names with the test's pid in them):
 *
 *	  fd  socket                            flags                  queued
 *	   3  L  stream listener on N, backlog 3  O_NONBLOCK, FD_CLOEXEC
 *	  42  C  client of L (unbound)                                   12000 bytes
 *	 200  A  accepted from L, C's peer         O_NONBLOCK             3000 + 5 bytes
 *	  10  M  seqpacket listener on N2,
 *	         backlog 1
 *	  11  D  client of M (unbound)            FD_CLOEXEC             a message of 7 bytes
 *	  12  B  accepted from M, D's peer                               messages of 100, 1
 *	                                                                 and 5000 bytes
 *
 * No connection is waiting to be accepted at the dump: before it, the
 * test counts how many non-blocking connects each listener takes before
 * EAGAIN (its backlog + 1), then accepts and closes them all.
 *
 * Before the dump and after restore (the fd table the same, see
 * pipe_fds.h): the name of L, A, M and B is their listener's name, C's and
 * D's peer name too; A's, B's peer name and C's, D's own name are unnamed;
 * only L and M have SO_ACCEPTCONN; nothing waits on L (accept: EAGAIN) or
 * M (not readable); a path name is a socket file. After restore:
 *
 *	- the data queued both ways, in order, messages with their
 *	  boundaries, then nothing more; a message each way between C and A,
 *	  D and B: each is still the other's peer;
 *	- each listener takes as many connects as before the dump;
 *	- a new client connects to N (N2), the listener accepts it, the
 *	  accepted socket has N (N2) for its name, and data flows both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct chunk to_a[] = { { 3000, 0xa1 }, { 5, 0xa2 } };
static const struct chunk to_c[] = { { 12000, 0xc1 } };
static const struct chunk to_b[] = { { 100, 0xb1 }, { 1, 0xb2 }, { 5000, 0xb3 } };
static const struct chunk ping[] = { { 64, 0x51 } };
static const struct chunk pong[] = { { 1000, 0x52 } };

static struct sk_name name_l, name_m;
static bool abstract;
static char why[512];
static int conns_l, conns_m;

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

static void make_name(struct sk_name *n, const char *suffix)
{
	char s[256];

	if (abstract)
		snprintf(s, sizeof(s), "@zdtm-%s-%d-%s", test_name, getpid(), suffix);
	else
		snprintf(s, sizeof(s), "%s/%s.sock", test_dir(), suffix);
	if (strlen(s) >= sizeof(n->sa.sun_path))
		fail("the name %s is too long for a unix socket", s);
	if (!abstract && unlink(s) && errno != ENOENT)
		fail_errno("unlink %s", s);
	sk_name_make(n, s);
}

/* A listener of type at fd, on the name n. */
static void listener_at(int type, int fd, const struct sk_name *n, int backlog)
{
	int s = sock_high(type, why, sizeof(why));

	check(s < 0);
	check(sk_bind(s, n, why, sizeof(why)));
	if (listen(s, backlog))
		fail_errno("listen");
	check(move_fd(s, fd, why, sizeof(why)));
}

/* A client of type connected to n at cfd, and the connection accepted from lfd at afd. */
static void connect_at(int type, int lfd, const struct sk_name *n, int cfd, int afd)
{
	int c = sock_high(type, why, sizeof(why)), a;

	check(c < 0);
	check(sk_connect(c, n, why, sizeof(why)));
	check(wait_readable(lfd, why, sizeof(why)));
	a = accept(lfd, NULL, NULL);
	if (a < 0)
		fail_errno("fd %d: accept", lfd);
	check(move_fd(c, cfd, why, sizeof(why)));
	check(move_fd(a, afd, why, sizeof(why)));
}

/*
 * How many non-blocking connects to n the listener lfd takes before
 * EAGAIN; then accept and close all of them, leaving nothing waiting.
 */
static int count_conns(int type, int lfd, const struct sk_name *n)
{
	int fds[64], i, nr, a;

	for (nr = 0; nr < NR(fds); nr++) {
		fds[nr] = socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
		if (fds[nr] < 0)
			fail_errno("socket");
		if (connect(fds[nr], (const struct sockaddr *)&n->sa, n->len)) {
			if (errno != EAGAIN)
				fail_errno("fd %d: connect number %d", lfd, nr + 1);
			close(fds[nr]);
			break;
		}
	}
	for (i = 0; i < nr; i++) {
		a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (a < 0)
			fail_errno("fd %d: accept %d of %d", lfd, i + 1, nr);
		close(a);
		close(fds[i]);
	}
	return nr;
}

/* The names, SO_ACCEPTCONN and the idle listeners: all that changes nothing. */
static void check_state(void)
{
	struct pollfd pfd = { .fd = 10, .events = POLLIN };
	const int listening[] = { 3, 10 }, others[] = { 42, 200, 11, 12 };
	struct stat st;
	int i;

	check(expect_name(3, false, &name_l, why, sizeof(why)));
	check(expect_name(200, false, &name_l, why, sizeof(why)));
	check(expect_name(200, true, &sk_unnamed, why, sizeof(why)));
	check(expect_name(42, false, &sk_unnamed, why, sizeof(why)));
	check(expect_name(42, true, &name_l, why, sizeof(why)));
	check(expect_name(10, false, &name_m, why, sizeof(why)));
	check(expect_name(12, false, &name_m, why, sizeof(why)));
	check(expect_name(12, true, &sk_unnamed, why, sizeof(why)));
	check(expect_name(11, false, &sk_unnamed, why, sizeof(why)));
	check(expect_name(11, true, &name_m, why, sizeof(why)));
	for (i = 0; i < NR(listening); i++)
		if (sk_opt(listening[i], SO_ACCEPTCONN, "SO_ACCEPTCONN", why, sizeof(why)) != 1)
			fail("fd %d does not listen: %s", listening[i], why);
	for (i = 0; i < NR(others); i++)
		if (sk_opt(others[i], SO_ACCEPTCONN, "SO_ACCEPTCONN", why, sizeof(why)) != 0)
			fail("fd %d listens: %s", others[i], why);
	if (accept(3, NULL, NULL) >= 0 || errno != EAGAIN)
		fail("fd 3: accept: %m, expected EAGAIN: a connection is waiting");
	if (poll(&pfd, 1, 0) != 0)
		fail("fd 10 is readable: a connection is waiting");
	if (!abstract) {
		if (stat(name_l.sa.sun_path, &st) || !S_ISSOCK(st.st_mode))
			fail("%s is not a socket (%m, mode %#o)", name_l.sa.sun_path, st.st_mode);
		if (stat(name_m.sa.sun_path, &st) || !S_ISSOCK(st.st_mode))
			fail("%s is not a socket (%m, mode %#o)", name_m.sa.sun_path, st.st_mode);
	}
}

/* A new client of type connects to n, lfd accepts it, data goes both ways. */
static void new_client(int type, int lfd, const struct sk_name *n)
{
	int c, a;

	c = sock_high(type, why, sizeof(why));
	check(c < 0);
	check(sk_connect(c, n, why, sizeof(why)));
	check(wait_readable(lfd, why, sizeof(why)));
	a = accept(lfd, NULL, NULL);
	if (a < 0)
		fail_errno("fd %d: accept a new client", lfd);
	check(expect_name(a, false, n, why, sizeof(why)));
	check(expect_name(c, true, n, why, sizeof(why)));
	check(send_msgs(c, ping, NR(ping), why, sizeof(why)));
	check(recv_msgs(a, ping, NR(ping), &sk_unnamed, why, sizeof(why)));
	check(send_msgs(a, pong, NR(pong), why, sizeof(why)));
	check(recv_msgs(c, pong, NR(pong), n, why, sizeof(why)));
	close(a);
	close(c);
}

static int listen_main(int argc, char **argv, bool abstract_names)
{
	static struct fd_table before, after;
	int n;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	abstract = abstract_names;
	make_name(&name_l, "stream");
	make_name(&name_m, "seqpacket");

	listener_at(SOCK_STREAM, 3, &name_l, 3);
	check(set_fd_flags(3, O_NONBLOCK, true, why, sizeof(why)));
	connect_at(SOCK_STREAM, 3, &name_l, 42, 200);
	check(set_fd_flags(200, O_NONBLOCK, false, why, sizeof(why)));
	check(write_chunks(42, to_a, NR(to_a), why, sizeof(why)));
	check(write_chunks(200, to_c, NR(to_c), why, sizeof(why)));

	listener_at(SOCK_SEQPACKET, 10, &name_m, 1);
	connect_at(SOCK_SEQPACKET, 10, &name_m, 11, 12);
	check(set_fd_flags(11, 0, true, why, sizeof(why)));
	check(send_msgs(11, to_b, NR(to_b), why, sizeof(why)));

	conns_l = count_conns(SOCK_STREAM, 3, &name_l);
	conns_m = count_conns(SOCK_SEQPACKET, 10, &name_m);
	test_msg("the listeners take %d and %d connects", conns_l, conns_m);
	check_state();
	check(fd_table_collect(&before, why, sizeof(why)));
	fd_table_print(&before, "before");

	test_daemon();
	test_waitsig();

	check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "after");
		fail("%s", why);
	}
	check_state();

	check(read_chunks(200, to_a, NR(to_a), true, why, sizeof(why)));
	check(expect_sock_empty(200, why, sizeof(why)));
	check(read_chunks(42, to_c, NR(to_c), true, why, sizeof(why)));
	check(expect_sock_empty(42, why, sizeof(why)));
	check(write_chunks(42, ping, NR(ping), why, sizeof(why)));
	check(read_chunks(200, ping, NR(ping), true, why, sizeof(why)));
	check(write_chunks(200, pong, NR(pong), why, sizeof(why)));
	check(read_chunks(42, pong, NR(pong), true, why, sizeof(why)));

	check(recv_msgs(12, to_b, NR(to_b), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(12, why, sizeof(why)));
	check(expect_sock_empty(11, why, sizeof(why)));
	check(send_msgs(11, ping, NR(ping), why, sizeof(why)));
	check(recv_msgs(12, ping, NR(ping), &sk_unnamed, why, sizeof(why)));
	check(send_msgs(12, pong, NR(pong), why, sizeof(why)));
	check(recv_msgs(11, pong, NR(pong), &name_m, why, sizeof(why)));

	n = count_conns(SOCK_STREAM, 3, &name_l);
	if (n != conns_l)
		fail("fd 3 takes %d connects, %d before the dump: its backlog changed", n, conns_l);
	n = count_conns(SOCK_SEQPACKET, 10, &name_m);
	if (n != conns_m)
		fail("fd 10 takes %d connects, %d before the dump: its backlog changed", n, conns_m);
	new_client(SOCK_STREAM, 3, &name_l);
	new_client(SOCK_SEQPACKET, 10, &name_m);
	check_state();
	pass();
}
