// SPDX-License-Identifier: GPL-2.0
/*
 * Unix socket pairs whose ends are in different processes of a tree, and
 * one socket shared by both:
 *
 *	root P	fd   3  S0  stream      peer S1
 *		fd 200  D0  dgram       peer D1, FD_CLOEXEC
 *		fd  10  Q0  seqpacket   peer Q1: one description with A's fd 10
 *		fd  11  Q1  seqpacket   peer Q0
 *	+- A	fd  42  S1  stream      peer S0
 *		fd   7  D1  dgram       peer D0, O_NONBLOCK
 *		fd  10  Q0  seqpacket   inherited from P
 *
 * Queued at the dump: 3000 bytes from P in S1, 5000 bytes from A in S0;
 * datagrams of 10, 0 and 20 bytes from P in D1, of 30 bytes from A in D0;
 * messages of 1 and 2000 bytes from P (fd 11) in Q0.
 *
 * Before the dump and after restore P checks from /proc/PID/fd and
 * kcmp(KCMP_FILE) that these seven fds are five sockets as above, of
 * their types, and that exactly P:10 and A:10 share one description;
 * every process checks its own fd table (see pipe_fds.h). Then, after
 * restore:
 *
 *	P reads what is queued in S0 and D0, sends a message on 3, 200 and
 *	  11, and SIGTERMs A;
 *	A reads what is queued in S1, D1 and Q0 (fd 10), then P's messages,
 *	  each on its peer's fd; sets O_NONBLOCK on its fd 10; sends a message
 *	  on 42, 7 and 10 and exits 0;
 *	P reaps A, finds its fd 10 O_NONBLOCK (A's description), reads A's
 *	  messages on 3, 200 and 11; then EOF on 3 (S1 went with A), and on 11
 *	  once it has closed its fd 10 (no other Q0 anywhere).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unix_sk.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct chunk s_to_a[] = { { 3000, 0x1a } };
static const struct chunk s_to_p[] = { { 5000, 0x1b } };
static const struct chunk d_to_a[] = { { 10, 0x2a }, { 0, 0x2b }, { 20, 0x2c } };
static const struct chunk d_to_p[] = { { 30, 0x2d } };
static const struct chunk q_to_a[] = { { 1, 0x3a }, { 2000, 0x3b } };
static const struct chunk post_p[] = { { 111, 0x4a } }; /* P to A, after restore */
static const struct chunk post_a[] = { { 222, 0x4b } }; /* A to P */

static pid_t pid_p, pid_a;
static char why[512];

/* The fds of the tree: which process, which fd, which socket, its type, which description (0: its own). */
struct slot {
	const char *name;
	pid_t *pid;
	int fd;
	const char *sock;
	int type;
	int desc;
};

static const struct slot slots[] = {
	{ "P:3", &pid_p, 3, "S0", SOCK_STREAM, 0 },	 { "P:200", &pid_p, 200, "D0", SOCK_DGRAM, 0 },
	{ "P:10", &pid_p, 10, "Q0", SOCK_SEQPACKET, 1 }, { "P:11", &pid_p, 11, "Q1", SOCK_SEQPACKET, 0 },
	{ "A:42", &pid_a, 42, "S1", SOCK_STREAM, 0 },	 { "A:7", &pid_a, 7, "D1", SOCK_DGRAM, 0 },
	{ "A:10", &pid_a, 10, "Q0", SOCK_SEQPACKET, 1 },
};

/* Check that the slots are the sockets and descriptions they must be. */
static int check_slots(const char *when)
{
	struct stat st[NR(slots)];
	char path[64];
	int i, j, r;

	for (i = 0; i < NR(slots); i++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", *slots[i].pid, slots[i].fd);
		if (stat(path, &st[i])) {
			snprintf(why, sizeof(why), "%s: %s: stat %s: %m", when, slots[i].name, path);
			return -1;
		}
		if (!S_ISSOCK(st[i].st_mode)) {
			snprintf(why, sizeof(why), "%s: %s is not a socket (mode %#o)", when, slots[i].name,
				 st[i].st_mode);
			return -1;
		}
	}
	for (i = 0; i < NR(slots); i++) {
		for (j = i + 1; j < NR(slots); j++) {
			bool same = st[i].st_dev == st[j].st_dev && st[i].st_ino == st[j].st_ino;
			bool want_desc = slots[i].desc && slots[i].desc == slots[j].desc;

			if (same != !strcmp(slots[i].sock, slots[j].sock)) {
				snprintf(why, sizeof(why), "%s: %s and %s are %s, expected %s", when, slots[i].name,
					 slots[j].name, same ? "one socket" : "different sockets",
					 same ? "different sockets" : "one socket");
				return -1;
			}
			r = fd_kcmp(*slots[i].pid, *slots[j].pid, slots[i].fd, slots[j].fd);
			if (r < 0) {
				test_msg("kcmp(KCMP_FILE): %m: description sharing across processes is not checked");
				return 0;
			}
			if ((r == 0) != want_desc) {
				snprintf(why, sizeof(why), "%s: %s and %s %s one open file description", when,
					 slots[i].name, slots[j].name, r == 0 ? "share" : "do not share");
				return -1;
			}
		}
	}
	return 0;
}

/* End and reap the child if it is still there, then fail. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[600];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (pid_a > 0)
		reap_child(pid_a, NULL, 0);
	fail("%s", msg);
}

#define check(expr)                     \
	do {                            \
		if (expr)               \
			die("%s", why); \
	} while (0)

/*
 * The child.
 */

static void child_fail(const char *msg) __attribute__((noreturn));
static void child_fail(const char *msg)
{
	test_msg("A: %s", msg);
	_exit(1);
}

#define child_check(expr)                \
	do {                             \
		if (expr)                \
			child_fail(why); \
	} while (0)

static void child_a(int ready, int s1, int d1) __attribute__((noreturn));
static void child_a(int ready, int s1, int d1)
{
	static struct fd_table before, after;
	int fd;

	/* keep 10 (Q0, inherited), S1, D1 and ready; close P's own */
	close(3);
	close(200);
	close(11);
	child_check(move_fd(s1, 42, why, sizeof(why)));
	child_check(move_fd(d1, 7, why, sizeof(why)));
	child_check(set_fd_flags(7, O_NONBLOCK, false, why, sizeof(why)));
	for (fd = 3; fd < 1024; fd++)
		if (fd != 10 && fd != 42 && fd != 7 && fd != ready)
			close(fd);
	child_check(write_chunks(42, s_to_p, NR(s_to_p), why, sizeof(why)));
	child_check(send_msgs(7, d_to_p, NR(d_to_p), why, sizeof(why)));

	/* the table without ready, the highest fd, closed just after */
	child_check(fd_table_collect(&before, why, sizeof(why)));
	if (before.n == 0 || before.fds[before.n - 1].fd != ready)
		child_fail("the ready fd is not the last one");
	before.n--;
	fd_table_print(&before, "A");
	close(ready);

	test_waitsig();

	child_check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "A");
		child_fail(why);
	}
	/* P's message may be there already: the total is checked with it */
	child_check(read_chunks(42, s_to_a, NR(s_to_a), false, why, sizeof(why)));
	child_check(recv_msgs(7, d_to_a, NR(d_to_a), &sk_unnamed, why, sizeof(why)));
	child_check(recv_msgs(10, q_to_a, NR(q_to_a), &sk_unnamed, why, sizeof(why)));
	child_check(read_chunks(42, post_p, NR(post_p), true, why, sizeof(why)));
	child_check(recv_msgs(7, post_p, NR(post_p), &sk_unnamed, why, sizeof(why)));
	child_check(recv_msgs(10, post_p, NR(post_p), &sk_unnamed, why, sizeof(why)));
	child_check(expect_sock_empty(42, why, sizeof(why)));
	child_check(expect_sock_empty(7, why, sizeof(why)));
	child_check(expect_sock_empty(10, why, sizeof(why)));
	child_check(set_fd_flags(10, O_NONBLOCK, false, why, sizeof(why)));
	child_check(write_chunks(42, post_a, NR(post_a), why, sizeof(why)));
	child_check(send_msgs(7, post_a, NR(post_a), why, sizeof(why)));
	child_check(send_msgs(10, post_a, NR(post_a), why, sizeof(why)));
	_exit(0);
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;
	int ready[2], status = 0, s1, d1;
	char c;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	pid_p = getpid();

	s1 = FD_TEMP_BASE + 20;
	d1 = FD_TEMP_BASE + 21;
	check(sockpair_at(SOCK_STREAM, 3, s1, why, sizeof(why)));
	check(sockpair_at(SOCK_DGRAM, 200, d1, why, sizeof(why)));
	check(set_fd_flags(200, 0, true, why, sizeof(why)));
	check(sockpair_at(SOCK_SEQPACKET, 10, 11, why, sizeof(why)));
	check(write_chunks(3, s_to_a, NR(s_to_a), why, sizeof(why)));
	check(send_msgs(200, d_to_a, NR(d_to_a), why, sizeof(why)));
	check(send_msgs(11, q_to_a, NR(q_to_a), why, sizeof(why)));

	check(pipe_high(ready, why, sizeof(why)));
	pid_a = fork();
	if (pid_a < 0)
		die("fork: %m");
	if (pid_a == 0) {
		close(ready[0]);
		child_a(ready[1], s1, d1);
	}
	close(ready[1]);
	close(s1);
	close(d1);
	if (read(ready[0], &c, 1) != 0 || proc_state_of(pid_a) == 'Z') {
		reap_child(pid_a, &status, 0);
		pid_a = 0;
		die("set-up: A failed (%s): see the test log", wait_status_str(status));
	}
	close(ready[0]);

	check(check_slots("set-up"));
	check(fd_table_collect(&before, why, sizeof(why)));
	fd_table_print(&before, "P");

	test_daemon();
	test_waitsig();

	check(fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(&before, &after, why, sizeof(why))) {
		fd_table_print(&after, "P");
		die("P: %s", why);
	}
	check(check_slots("after restore"));
	check(read_chunks(3, s_to_p, NR(s_to_p), true, why, sizeof(why)));
	check(recv_msgs(200, d_to_p, NR(d_to_p), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(3, why, sizeof(why)));
	check(expect_sock_empty(200, why, sizeof(why)));
	check(expect_sock_empty(11, why, sizeof(why)));
	check(write_chunks(3, post_p, NR(post_p), why, sizeof(why)));
	check(send_msgs(200, post_p, NR(post_p), why, sizeof(why)));
	check(send_msgs(11, post_p, NR(post_p), why, sizeof(why)));

	kill(pid_a, SIGTERM);
	if (reap_child(pid_a, &status, 5000) || status) {
		pid_a = 0;
		die("A did not end well (%s): see the test log", wait_status_str(status));
	}
	pid_a = 0;

	if (!(fcntl(10, F_GETFL) & O_NONBLOCK))
		die("O_NONBLOCK set by A on its fd 10 does not show on P's fd 10: not one description");
	check(read_chunks(3, post_a, NR(post_a), true, why, sizeof(why)));
	check(recv_msgs(200, post_a, NR(post_a), &sk_unnamed, why, sizeof(why)));
	check(recv_msgs(11, post_a, NR(post_a), &sk_unnamed, why, sizeof(why)));
	check(expect_sock_eof(3, why, sizeof(why)));
	check(expect_sock_empty(11, why, sizeof(why)));
	close(10);
	check(expect_sock_eof(11, why, sizeof(why)));
	pass();
}
