// SPDX-License-Identifier: GPL-2.0
/*
 * A controlling terminal nobody holds an fd of: the root holds only the
 * master of a pty pair (fd 3); its child C calls setsid(), opens the
 * slave, makes it its controlling terminal (TIOCSCTTY) and closes it. The
 * master then sees a hang-up: no slave is open.
 *
 * After restore the root checks that C's terminal (tty_nr of
 * /proc/C/stat) is the slave, that the master still sees the hang-up and
 * that the terminal's session and foreground group are C's; C, on
 * SIGTERM, opens /dev/tty (its controlling terminal) and checks its
 * session and foreground group through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

/* The slave's device, from its path: the root holds no fd of it. */
static long slave_dev(void)
{
	struct stat st;

	return stat(ptsname(MASTER), &st) ? -1 : (long)st.st_rdev;
}

static void __attribute__((noreturn)) child(int ready_fd)
{
	int s;

	s = setsid() < 0 ? -1 : open(ptsname(MASTER), O_RDWR | O_NOCTTY);
	if (s < 0 || ioctl(s, TIOCSCTTY, 0)) {
		test_msg("C: can't take the terminal: %m\n");
		_exit(1);
	}
	close(s);
	close(ready_fd);
	test_waitsig();
	s = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (s < 0) {
		test_msg("C: can't open /dev/tty: %m\n");
		_exit(1);
	}
	if (tty_of(getpid()) != slave_dev() || tcgetpgrp(s) != getpgrp() || tcgetsid(s) != getpid()) {
		test_msg("C: my terminal is %lx, group %d in its foreground, session %d; expected the slave %lx, %d, "
			 "%d\n",
			 tty_of(getpid()), tcgetpgrp(s), tcgetsid(s), slave_dev(), getpgrp(), getpid());
		_exit(1);
	}
	close(s);
	_exit(0);
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	poll(&p, 1, 0);
	return p.revents;
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
	if (!(revents(MASTER) & POLLHUP)) {
		kill(kid, SIGTERM);
		reap_child(kid, NULL, 3000);
		fail("the master does not see its slave closed");
	}

	test_daemon();
	test_waitsig();

	if (tty_of(kid) != slave_dev())
		snprintf(why, sizeof(why), "C's terminal is %lx, not the slave %lx", tty_of(kid), slave_dev());
	else if (!(revents(MASTER) & POLLHUP))
		snprintf(why, sizeof(why), "the master does not see its slave closed");
	else if (ioctl(MASTER, TIOCGPGRP, &pgrp) || pgrp != kid)
		snprintf(why, sizeof(why), "the foreground group is %d, not C's (%d)", pgrp, kid);
	else if (ioctl(MASTER, TIOCGSID, &sid) || sid != kid)
		snprintf(why, sizeof(why), "the terminal's session is %d, not C's (%d)", sid, kid);
	kill(kid, SIGTERM);
	if ((reap_child(kid, &status, 3000) || status) && !why[0])
		snprintf(why, sizeof(why), "C did not end well (%s): see the test log", wait_status_str(status));
	if (why[0])
		fail("%s", why);
	pass();
}
