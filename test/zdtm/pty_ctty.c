// SPDX-License-Identifier: GPL-2.0
/*
 * A controlling terminal inside the tree: the root holds a pty pair
 * (master at fd 3, slave at fd 42); its child C calls setsid() and makes
 * the slave its controlling terminal (TIOCSCTTY), C's group being the
 * foreground one.
 *
 * After restore, the root checks that tty_nr of /proc/C/stat is the
 * slave's device, that the master says the terminal's session and
 * foreground group are C's (TIOCGSID, TIOCGPGRP) and that the root itself
 * has no terminal; C, on SIGTERM, checks the same from its side
 * (tcgetpgrp() and tcgetsid() on the slave) and exits 0 if all is right.
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

/* C: the session leader with the slave as its terminal, in the foreground. */
static void __attribute__((noreturn)) child(int ready_fd)
{
	if (setsid() < 0 || ioctl(SLAVE, TIOCSCTTY, 0) || tcsetpgrp(SLAVE, getpid())) {
		test_msg("C: can't take the terminal: %m\n");
		_exit(1);
	}
	close(ready_fd);
	test_waitsig();
	if (tty_of(getpid()) != slave_dev()) {
		test_msg("C: my terminal is %lx, not the slave %lx\n", tty_of(getpid()), slave_dev());
		_exit(1);
	}
	if (tcgetpgrp(SLAVE) != getpid() || tcgetsid(SLAVE) != getpid()) {
		test_msg("C: the slave's foreground group is %d and session %d, not mine (%d)\n", tcgetpgrp(SLAVE),
			 tcgetsid(SLAVE), getpid());
		_exit(1);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int fds[2], status, pgrp = 0, sid = 0;
	char why[200] = "", c;
	pid_t kid;

	test_init(argc, argv);
	place(posix_openpt(O_RDWR | O_NOCTTY), MASTER);
	if (grantpt(MASTER) || unlockpt(MASTER))
		fail_errno("unlockpt");
	place(open(ptsname(MASTER), O_RDWR | O_NOCTTY), SLAVE);
	if (pipe2(fds, O_CLOEXEC))
		fail_errno("pipe");
	kid = fork();
	if (kid < 0)
		fail_errno("fork");
	if (kid == 0) {
		close(fds[0]);
		child(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 0 || proc_state_of(kid) == 'Z') {
		reap_child(kid, NULL, 0);
		fail("C failed to set up: see the test log");
	}
	close(fds[0]);

	test_daemon();
	test_waitsig();

	if (tty_of(kid) != slave_dev())
		snprintf(why, sizeof(why), "C's terminal is %lx, not the slave %lx", tty_of(kid), slave_dev());
	else if (ioctl(MASTER, TIOCGPGRP, &pgrp) || pgrp != kid)
		snprintf(why, sizeof(why), "the foreground group is %d, not C's (%d)", pgrp, kid);
	else if (ioctl(MASTER, TIOCGSID, &sid) || sid != kid)
		snprintf(why, sizeof(why), "the terminal's session is %d, not C's (%d)", sid, kid);
	else if (tty_of(getpid()) != 0)
		snprintf(why, sizeof(why), "the root has terminal %lx", tty_of(getpid()));
	kill(kid, SIGTERM);
	if ((reap_child(kid, &status, 3000) || status) && !why[0])
		snprintf(why, sizeof(why), "C did not end well (%s): see the test log", wait_status_str(status));
	if (why[0])
		fail("%s", why);
	pass();
}
