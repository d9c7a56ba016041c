// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes shared by the processes of a tree, and open file descriptions
 * shared among them:
 *
 *	root P	fd   3  X read
 *		fd 200  Y write, FD_CLOEXEC
 *	+- A	fd  42  X write: description d1, made by P before the forks
 *		fd  43  X write: dup of 42 (d1)
 *	+- B	fd  42  X write: d1 too
 *		fd  44  X write: its own description (opened through
 *		        /proc/self/fd/42)
 *		fd   5  Y read
 *
 * Queued at the dump: in X, 2000 bytes written by A (fd 42), then 3000 by
 * B (fd 44); in Y, 4096 + 100 bytes written by P. Before the dump and after
 * restore P checks from /proc/PID/fd and kcmp(KCMP_FILE) that these seven
 * fds are two pipes (X and Y) as above, and that exactly A:42, A:43 and
 * B:42 share one description; every process checks its own fd table (see
 * pipe_fds.h). Then, after restore:
 *
 *	P reads the 5000 bytes queued in X, in order, and SIGTERMs A;
 *	A sets O_NONBLOCK on its fd 42, which must show on its fd 43, writes
 *	  1500 bytes to 43 and exits 0;
 *	P reads them from fd 3, reaps A, closes fd 200 and SIGTERMs B;
 *	B checks that its fd 42 is O_NONBLOCK now (the description A changed)
 *	  and its fd 44 is not, reads the 4196 bytes of Y from fd 5 and then
 *	  EOF (no write end of Y left: P closed it, A never had it), writes
 *	  2500 bytes to 44 and exits 0;
 *	P reads them from fd 3, reaps B and then reads EOF from fd 3: no
 *	  write end of X is left anywhere.
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

#include "pipe_fds.h"

#define NR(a) (int)(sizeof(a) / sizeof((a)[0]))

static const struct chunk x_pre[] = { { 2000, 0x1a }, { 3000, 0x1b } }; /* by A, then by B */
static const struct chunk x_a_post[] = { { 1500, 0x2a } };
static const struct chunk x_b_post[] = { { 2500, 0x2b } };
static const struct chunk y_data[] = { { 4096, 0x3a }, { 100, 0x3b } };

static pid_t pid_a, pid_b;
static char why[512];

/*
 * The fds of the tree that the pipes are about: which process, which fd,
 * which pipe, which description (0: its own).
 */
struct slot {
	const char *name;
	pid_t *pid;
	int fd;
	char pipe;
	int desc;
};

static pid_t pid_p;

static const struct slot slots[] = {
	{ "P:3", &pid_p, 3, 'X', 0 },	{ "P:200", &pid_p, 200, 'Y', 0 }, { "A:42", &pid_a, 42, 'X', 1 },
	{ "A:43", &pid_a, 43, 'X', 1 }, { "B:42", &pid_b, 42, 'X', 1 },	  { "B:44", &pid_b, 44, 'X', 0 },
	{ "B:5", &pid_b, 5, 'Y', 0 },
};

/* Check that the slots are the pipes and descriptions they must be. */
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
		if (!S_ISFIFO(st[i].st_mode)) {
			snprintf(why, sizeof(why), "%s: %s is not a pipe (mode %#o)", when, slots[i].name,
				 st[i].st_mode);
			return -1;
		}
	}
	for (i = 0; i < NR(slots); i++) {
		for (j = i + 1; j < NR(slots); j++) {
			bool same_pipe = st[i].st_dev == st[j].st_dev && st[i].st_ino == st[j].st_ino;
			bool want_desc = slots[i].desc && slots[i].desc == slots[j].desc;

			if (same_pipe != (slots[i].pipe == slots[j].pipe)) {
				snprintf(why, sizeof(why), "%s: %s and %s are %s, expected %s", when, slots[i].name,
					 slots[j].name, same_pipe ? "one pipe" : "different pipes",
					 same_pipe ? "different pipes" : "one pipe");
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

/* End and reap the children that are still there, then fail. */
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
	if (pid_b > 0)
		reap_child(pid_b, NULL, 0);
	fail("%s", msg);
}

#define check(expr)                     \
	do {                            \
		if (expr)               \
			die("%s", why); \
	} while (0)

/*
 * The child side.
 */

static void child_fail(const char *name, const char *msg) __attribute__((noreturn));
static void child_fail(const char *name, const char *msg)
{
	test_msg("%s: %s", name, msg);
	_exit(1);
}

#define child_check(name, expr)                \
	do {                                   \
		if (expr)                      \
			child_fail(name, why); \
	} while (0)

/* Close every fd from 3 on but those in keep (ended by -1). */
static void close_others(const int *keep)
{
	int fd, i;

	for (fd = 3; fd < 1024; fd++) {
		for (i = 0; keep[i] >= 0 && keep[i] != fd; i++)
			;
		if (keep[i] < 0)
			close(fd);
	}
}

/*
 * Record the table of the child, without its ready fd, which is its
 * highest fd and shares nothing: it is closed just after.
 */
static void child_table(const char *name, struct fd_table *t, int ready)
{
	child_check(name, fd_table_collect(t, why, sizeof(why)));
	if (t->n == 0 || t->fds[t->n - 1].fd != ready)
		child_fail(name, "the ready fd is not the last one");
	t->n--;
	fd_table_print(t, name);
}

static void child_compare(const char *name, const struct fd_table *before)
{
	static struct fd_table after;

	child_check(name, fd_table_collect(&after, why, sizeof(why)));
	if (fd_table_compare(before, &after, why, sizeof(why))) {
		fd_table_print(&after, name);
		child_fail(name, why);
	}
}

static void child_a(int ready, int xw) __attribute__((noreturn));
static void child_a(int ready, int xw)
{
	static struct fd_table before;
	const int keep[] = { 42, 43, ready, -1 };

	child_check("A", move_fd(xw, 42, why, sizeof(why)));
	child_check("A", move_fd(fcntl(42, F_DUPFD, FD_TEMP_BASE), 43, why, sizeof(why)));
	close_others(keep);
	child_check("A", write_chunks(42, &x_pre[0], 1, why, sizeof(why)));
	child_table("A", &before, ready);
	close(ready);

	test_waitsig();

	child_compare("A", &before);
	child_check("A", set_fd_flags(42, O_NONBLOCK, false, why, sizeof(why)));
	if (!(fcntl(43, F_GETFL) & O_NONBLOCK))
		child_fail("A", "O_NONBLOCK set on fd 42 does not show on its dup, fd 43");
	child_check("A", write_chunks(43, x_a_post, NR(x_a_post), why, sizeof(why)));
	_exit(0);
}

static void child_b(int ready, int xw, int yr) __attribute__((noreturn));
static void child_b(int ready, int xw, int yr)
{
	static struct fd_table before;
	const int keep[] = { 5, 42, 44, ready, -1 };
	int fd, i;

	child_check("B", move_fd(xw, 42, why, sizeof(why)));
	fd = open("/proc/self/fd/42", O_WRONLY);
	if (fd < 0) {
		snprintf(why, sizeof(why), "open /proc/self/fd/42: %m");
		child_fail("B", why);
	}
	child_check("B", move_fd(fd, 44, why, sizeof(why)));
	child_check("B", move_fd(yr, 5, why, sizeof(why)));
	close_others(keep);
	child_check("B", write_chunks(44, &x_pre[1], 1, why, sizeof(why)));
	child_table("B", &before, ready);
	close(ready);

	test_waitsig();

	/* A set O_NONBLOCK on the description of its fd 42 after restore */
	if (!(fcntl(42, F_GETFL) & O_NONBLOCK))
		child_fail("B", "O_NONBLOCK set by A on its fd 42 does not show on B's fd 42: "
				"not one description");
	if (fcntl(44, F_GETFL) & O_NONBLOCK)
		child_fail("B", "O_NONBLOCK set by A on its fd 42 shows on B's fd 44, which has a description "
				"of its own");
	for (i = 0; i < before.n; i++)
		if (before.fds[i].fd == 42)
			before.fds[i].fl |= O_NONBLOCK;
	child_compare("B", &before);
	child_check("B", read_chunks(5, y_data, NR(y_data), true, why, sizeof(why)));
	child_check("B", expect_eof(5, why, sizeof(why)));
	child_check("B", write_chunks(44, x_b_post, NR(x_b_post), why, sizeof(why)));
	_exit(0);
}

/* Fork a child and wait until it is set up. */
static pid_t spawn(const char *name, int xw, int yr)
{
	int ready[2], status = 0;
	pid_t pid;
	char c;

	check(pipe_high(ready, why, sizeof(why)));
	pid = fork();
	if (pid < 0)
		die("fork %s: %m", name);
	if (pid == 0) {
		close(ready[0]);
		if (name[0] == 'A')
			child_a(ready[1], xw);
		child_b(ready[1], xw, yr);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 0 || proc_state_of(pid) == 'Z') {
		reap_child(pid, &status, 0);
		die("set-up: %s failed (%s): see the test log", name, wait_status_str(status));
	}
	close(ready[0]);
	return pid;
}

/* SIGTERM a child and require that it exits 0. */
static void end_child(const char *name, pid_t *pid)
{
	int status = 0;

	kill(*pid, SIGTERM);
	if (reap_child(*pid, &status, 5000) || status) {
		*pid = 0;
		die("%s did not end well (%s): see the test log", name, wait_status_str(status));
	}
	*pid = 0;
}

int main(int argc, char **argv)
{
	static struct fd_table before, after;
	int x[2], y[2], q;

	test_init(argc, argv);
	pid_p = getpid();

	check(pipe_high(x, why, sizeof(why)));
	check(pipe_high(y, why, sizeof(why)));
	check(move_fd(x[0], 3, why, sizeof(why)));
	check(move_fd(y[1], 200, why, sizeof(why)));
	check(set_fd_flags(200, 0, true, why, sizeof(why)));
	check(write_chunks(200, y_data, NR(y_data), why, sizeof(why)));

	pid_a = spawn("A", x[1], -1);
	pid_b = spawn("B", x[1], y[0]);
	close(x[1]);
	close(y[0]);

	q = pipe_queued(3);
	if (q != 5000)
		die("set-up: %d bytes queued in X, expected 5000", q);
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
	check(read_chunks(3, x_pre, NR(x_pre), true, why, sizeof(why)));

	end_child("A", &pid_a);
	check(read_chunks(3, x_a_post, NR(x_a_post), true, why, sizeof(why)));

	close(200);
	end_child("B", &pid_b);
	check(read_chunks(3, x_b_post, NR(x_b_post), true, why, sizeof(why)));
	check(expect_eof(3, why, sizeof(why)));
	pass();
}
