// SPDX-License-Identifier: GPL-2.0
/*
 * Bound datagram sockets, unbound clients connect()ed to them, datagrams
 * queued from the clients:
 *
 *	  fd  socket                                flags
 *	   3  S  dgram bound to the path P          O_NONBLOCK
 *	  42  C  unbound, connected to S
 *	   8  K  unbound, connected to S            FD_CLOEXEC
 *	 200  T  dgram bound to the abstract name   FD_CLOEXEC
 *	         A (with the test's pid)
 *	   7  E  unbound, connected to T            O_NONBLOCK
 *	   9  I  dgram bound to the path Q, idle
 *
 * Queued in S, in this order: datagrams of 100 bytes from C, 50 from K, 0
 * from C, 3000 from K, 1 from C, 60000 from C; in T: 7 and 0 bytes from E.
 *
 * Before the dump and after restore (the fd table the same, see
 * pipe_fds.h): S, T and I have their names and no peer (ENOTCONN); C's
 * and K's peer is P, E's is A, their own names unnamed; P and Q are socket
 * files; FIONREAD of S and T is the size of their first datagram. After
 * restore:
 *
 *	- S and T give their datagrams, in the order they were sent, each with
 *	  its length (the empty ones too) and bytes, from unnamed senders;
 *	  then nothing;
 *	- more datagrams flow: C, K and E send again, and S and T get them
 *	  in order; a new unbound socket sends to P, A and Q, and S, T and I
 *	  get it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

/* the datagrams queued in S, and who sends each */
static const struct chunk to_s[] = {
	{ 100, 0x11 }, { 50, 0x12 }, { 0, 0x13 }, { 3000, 0x14 }, { 1, 0x15 }, { 60000, 0x16 },
};
static const int to_s_from[] = { 42, 8, 42, 8, 42, 42 };
static const struct chunk to_t[] = { { 7, 0x21 }, { 0, 0x22 } };
/* after restore */
static const struct chunk post_s[] = { { 10, 0x31 }, { 20, 0x32 }, { 0, 0x33 } };
static const int post_s_from[] = { 8, 42, 42 };
static const struct chunk post_t[] = { { 30, 0x34 } };
static const struct chunk stranger[] = { { 40, 0x35 } };

static struct sk_name name_p, name_q, name_a;
static char why[512];

#define check(expr)                      \
	do {                             \
		if (expr)                \
			fail("%s", why); \
	} while (0)

static void make_path(struct sk_name *n, const char *file)
{
	char s[256];

	snprintf(s, sizeof(s), "%s/%s", test_dir(), file);
	if (strlen(s) >= sizeof(n->sa.sun_path))
		fail("the path %s is too long for a unix socket", s);
	if (unlink(s) && errno != ENOENT)
		fail_errno("unlink %s", s);
	sk_name_make(n, s);
}

/* A datagram socket at fd: bound to name if bound, else connected to name. */
static void dgram_at(int fd, const struct sk_name *n, bool bound)
{
	int s = sock_high(SOCK_DGRAM, why, sizeof(why));

	check(s < 0);
	if (bound)
		check(sk_bind(s, n, why, sizeof(why)));
	else
		check(sk_connect(s, n, why, sizeof(why)));
	check(move_fd(s, fd, why, sizeof(why)));
}

static void expect_no_peer(int fd)
{
	struct sk_name n;

	if (!sk_name_get(fd, true, &n, why, sizeof(why)))
		fail("fd %d has a peer: %s", fd, sk_name_str(&n, why, sizeof(why)));
	if (errno != ENOTCONN)
		fail("fd %d: getpeername: %m, expected ENOTCONN", fd);
}

static void expect_fionread(int fd, size_t n)
{
	int q;

	if (ioctl(fd, FIONREAD, &q))
		fail_errno("fd %d: FIONREAD", fd);
	if (q != (int)n)
		fail("fd %d: FIONREAD %d, expected %zu (the size of the first datagram)", fd, q, n);
}

/* All that changes nothing. */
static void check_state(void)
{
	struct stat st;

	check(expect_name(3, false, &name_p, why, sizeof(why)));
	check(expect_name(200, false, &name_a, why, sizeof(why)));
	check(expect_name(9, false, &name_q, why, sizeof(why)));
	expect_no_peer(3);
	expect_no_peer(200);
	expect_no_peer(9);
	check(expect_name(42, true, &name_p, why, sizeof(why)));
	check(expect_name(8, true, &name_p, why, sizeof(why)));
	check(expect_name(7, true, &name_a, why, sizeof(why)));
	check(expect_name(42, false, &sk_unnamed, why, sizeof(why)));
	check(expect_name(8, false, &sk_unnamed, why, sizeof(why)));
	check(expect_name(7, false, &sk_unnamed, why, sizeof(why)));
	if (stat(name_p.sa.sun_path, &st) || !S_ISSOCK(st.st_mode))
		fail("%s is not a socket (%m, mode %#o)", name_p.sa.sun_path, st.st_mode);
	if (stat(name_q.sa.sun_path, &st) || !S_ISSOCK(st.st_mode))
		fail("%s is not a socket (%m, mode %#o)", name_q.sa.sun_path, st.st_mode);
}

/* Send each chunk from its own fd. */
static void send_each(const struct chunk *c, const int *from, int n)
{
	int i;

	for (i = 0; i < n; i++)
		check(send_msgs(from[i], &c[i], 1, why, sizeof(why)));
}

/* A new unbound socket sends msg to n; fd gets it. */
static void from_stranger(const struct sk_name *n, int fd)
{
	int s = sock_high(SOCK_DGRAM, why, sizeof(why));

	check(s < 0);
	check(sk_connect(s, n, why, sizeof(why)));
	check(send_msgs(s, stranger, NR(stranger), why, sizeof(why)));
	close(s);
	check(recv_msgs(fd, stranger, NR(stranger), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(fd, why, sizeof(why)));
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;
	char abstract[128];

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	make_path(&name_p, "dgram.sock");
	make_path(&name_q, "idle.sock");
	snprintf(abstract, sizeof(abstract), "@zdtm-%s-%d", test_name, getpid());
	sk_name_make(&name_a, abstract);

	dgram_at(3, &name_p, true);
	check(set_fd_flags(3, O_NONBLOCK, false, why, sizeof(why)));
	dgram_at(42, &name_p, false);
	dgram_at(8, &name_p, false);
	check(set_fd_flags(8, 0, true, why, sizeof(why)));
	dgram_at(200, &name_a, true);
	check(set_fd_flags(200, 0, true, why, sizeof(why)));
	dgram_at(7, &name_a, false);
	check(set_fd_flags(7, O_NONBLOCK, false, why, sizeof(why)));
	dgram_at(9, &name_q, true);

	send_each(to_s, to_s_from, NR(to_s));
	check(send_msgs(7, to_t, NR(to_t), why, sizeof(why)));

	check_state();
	expect_fionread(3, to_s[0].len);
	expect_fionread(200, to_t[0].len);
	expect_fionread(9, 0);
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
	expect_fionread(3, to_s[0].len);
	expect_fionread(200, to_t[0].len);
	expect_fionread(9, 0);

	check(recv_msgs(3, to_s, NR(to_s), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(3, why, sizeof(why)));
	check(recv_msgs(200, to_t, NR(to_t), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(200, why, sizeof(why)));
	check(expect_sock_empty(9, why, sizeof(why)));

	send_each(post_s, post_s_from, NR(post_s));
	check(send_msgs(7, post_t, NR(post_t), why, sizeof(why)));
	check(recv_msgs(3, post_s, NR(post_s), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(3, why, sizeof(why)));
	check(recv_msgs(200, post_t, NR(post_t), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(200, why, sizeof(why)));

	from_stranger(&name_p, 3);
	from_stranger(&name_a, 200);
	from_stranger(&name_q, 9);
	check(expect_sock_empty(42, why, sizeof(why)));
	check(expect_sock_empty(8, why, sizeof(why)));
	check(expect_sock_empty(7, why, sizeof(why)));
	check_state();
	pass();
}
