// SPDX-License-Identifier: GPL-2.0
/*
 * A session on a pty of the tree with a foreground group that is not the
 * leader's, and a member without the terminal:
 *
 *	root		holds the master (fd 3) and the slave (fd 42)
 *	+- L		setsid(), TIOCSCTTY on the slave
 *	   +- F		setpgid(0, 0); L makes F's group the foreground one
 *	   +- N		in L's group; TIOCNOTTY: no terminal
 *
 * After restore the root checks tty_nr of /proc/PID/stat (the slave for L
 * and F, none for N) and the terminal's session (L) and foreground group
 * (F) through the master. On SIGTERM, L ends F and N, which check their
 * own terminal (F: tcgetpgrp() on the slave is its group), and exits 0 if
 * both did; the root reaps L.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MASTER 3
#define SLAVE 42

static void place(int fd, int at)
{
	if (fd < 0)
		fail_errno("open");
	if (dup2(fd, at) != at)
		fail_errno("dup2 %d", at);
	if (fd != at)
		close(fd);
}

/* tty_nr of /proc/PID/stat, as a device number; -1 if unreadable */
static long tty_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int tty;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %d", &tty) != 1)
		return -1;
	return makedev((tty >> 8) & 0xfff, (tty & 0xff) | ((tty >> 12) & 0xfff00));
}

static long slave_dev(void)
{
	struct stat st;

	return fstat(SLAVE, &st) ? -1 : (long)st.st_rdev;
}

/* The write end of the root's pipe, which L closes once all is set up: F and N must not keep it. */
static int root_ready_fd = -1;

/* Fork F or N; it sets itself up, tells L (fds), then waits for SIGTERM and checks. */
static pid_t member(const int fds[2], bool foreground)
{
	pid_t pid = fork();
	int ready_fd = fds[1];

	if (pid)
		return pid;
	close(root_ready_fd);
	close(fds[0]);
	if (foreground ? setpgid(0, 0) : ioctl(SLAVE, TIOCNOTTY)) {
		test_msg("%s: set-up: %m\n", foreground ? "F" : "N");
		_exit(1);
	}
	close(ready_fd);
	test_waitsig();
	if (foreground && (tty_of(getpid()) != slave_dev() || tcgetpgrp(SLAVE) != getpgrp())) {
		test_msg("F: terminal %lx (slave %lx), foreground group %d, mine %d\n", tty_of(getpid()), slave_dev(),
			 tcgetpgrp(SLAVE), getpgrp());
		_exit(1);
	}
	if (!foreground && tty_of(getpid()) != 0) {
		test_msg("N: terminal %lx, expected none\n", tty_of(getpid()));
		_exit(1);
	}
	_exit(0);
}

static int wait_ready(int fds[2])
{
	char c;
	int ret;

	close(fds[1]);
	ret = read(fds[0], &c, 1);
	close(fds[0]);
	return ret == 0 ? 0 : -1;
}

static void __attribute__((noreturn)) leader(int ready_fd)
{
	int fds[2], status, bad = 0;
	pid_t f = -1, n = -1;

	if (setsid() < 0 || ioctl(SLAVE, TIOCSCTTY, 0) || pipe2(fds, O_CLOEXEC)) {
		test_msg("L: set-up: %m\n");
		_exit(1);
	}
	root_ready_fd = ready_fd;
	f = member(fds, true);
	n = f > 0 ? member(fds, false) : -1;
	/* F sets up its group first: L waits for it before giving it the terminal */
	if (n < 0 || wait_ready(fds) || proc_state_of(f) == 'Z' || proc_state_of(n) == 'Z' || tcsetpgrp(SLAVE, f)) {
		test_msg("L: set-up of F and N failed: %m\n");
		bad = 1;
	}
	if (!bad) {
		close(ready_fd);
		test_waitsig();
	}
	if (f > 0)
		kill(f, SIGTERM);
	if (n > 0)
		kill(n, SIGTERM);
	if (f > 0 && (reap_child(f, &status, 3000) || status)) {
		test_msg("L: F ended with %s\n", wait_status_str(status));
		bad = 1;
	}
	if (n > 0 && (reap_child(n, &status, 3000) || status)) {
		test_msg("L: N ended with %s\n", wait_status_str(status));
		bad = 1;
	}
	_exit(bad);
}

int main(int argc, char **argv)
{
	int fds[2], status, pgrp = 0, sid = 0;
	char why[200] = "", path[64], buf[256];
	pid_t l, f = 0, n = 0;

	test_init(argc, argv);
	place(posix_openpt(O_RDWR | O_NOCTTY), MASTER);
	if (grantpt(MASTER) || unlockpt(MASTER))
		fail_errno("unlockpt");
	place(open(ptsname(MASTER), O_RDWR | O_NOCTTY), SLAVE);
	if (pipe2(fds, O_CLOEXEC))
		fail_errno("pipe");
	l = fork();
	if (l < 0)
		fail_errno("fork");
	if (l == 0) {
		close(fds[0]);
		leader(fds[1]);
	}
	if (wait_ready(fds) || proc_state_of(l) == 'Z') {
		reap_child(l, NULL, 3000);
		fail("L failed to set up: see the test log");
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", l, l);
	if (read_file(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%d %d", &f, &n) != 2) {
		kill(l, SIGTERM);
		reap_child(l, NULL, 3000);
		fail("can't find L's children");
	}
	if (getpgid(f) != f) {
		pid_t t = f;

		f = n;
		n = t;
	}

	test_daemon();
	test_waitsig();

	if (tty_of(l) != slave_dev() || tty_of(f) != slave_dev() || tty_of(n) != 0)
		snprintf(why, sizeof(why), "terminals: L %lx, F %lx, N %lx; expected %lx, %lx, 0", tty_of(l), tty_of(f),
			 tty_of(n), slave_dev(), slave_dev());
	else if (ioctl(MASTER, TIOCGPGRP, &pgrp) || pgrp != f)
		snprintf(why, sizeof(why), "the foreground group is %d, not F's (%d)", pgrp, f);
	else if (ioctl(MASTER, TIOCGSID, &sid) || sid != l)
		snprintf(why, sizeof(why), "the terminal's session is %d, not L's (%d)", sid, l);
	kill(l, SIGTERM);
	if ((reap_child(l, &status, 5000) || status) && !why[0])
		snprintf(why, sizeof(why), "L did not end well (%s): see the test log", wait_status_str(status));
	if (why[0])
		fail("%s", why);
	pass();
}
