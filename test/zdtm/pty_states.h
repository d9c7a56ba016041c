/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pty pairs whose slave is not simply open, of which only the master is
 * in the tree but for D:
 *
 *	B (master fd 5)	the slave was opened, set to raw mode with VMIN 4,
 *			made exclusive (TIOCEXCL), wrote "bye" and was closed:
 *			the master sees a hang-up, with "bye" still to read
 *	C (master fd 6)	locked, its slave never opened; settings (raw, VMIN
 *			3) and window size (10x20) set through the master
 *	D (master fd 7, slave fd 8)	locked again after the slave was opened
 *
 * After restore: B's master sees the hang-up and reads "bye", then its
 * slave, opened again, is exclusive and has its settings. C is locked,
 * does not see a hang-up (its slave was never opened), and has its
 * settings and window size. D is locked (a new open of the slave fails),
 * and its open slave still talks to the master.
 *
 * pty_states: dumped and restored; pty_states_live: dumped with
 * --leave-running, so the original must pass too: looking at the pairs
 * must not have changed them (C's slave must not have been opened).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define B 5
#define C 6
#define D 7
#define D_SLAVE 8

static void place(int fd, int at)
{
	if (fd < 0)
		fail_errno("open");
	if (dup2(fd, at) != at)
		fail_errno("dup2 %d", at);
	if (fd != at)
		close(fd);
}

static void raw(int fd, int vmin, struct termios *t)
{
	if (tcgetattr(fd, t))
		fail_errno("tcgetattr");
	cfmakeraw(t);
	t->c_cc[VMIN] = vmin;
	if (tcsetattr(fd, TCSANOW, t) || tcgetattr(fd, t))
		fail_errno("tcsetattr");
}

static void check_termios(int fd, const struct termios *want, const char *what)
{
	struct termios t;

	if (tcgetattr(fd, &t))
		fail_errno("%s: tcgetattr", what);
	if (t.c_iflag != want->c_iflag || t.c_oflag != want->c_oflag || t.c_lflag != want->c_lflag ||
	    t.c_cflag != want->c_cflag || memcmp(t.c_cc, want->c_cc, sizeof(t.c_cc)))
		fail("%s: settings iflag %o lflag %o VMIN %d, expected %o %o %d", what, t.c_iflag, t.c_lflag,
		     t.c_cc[VMIN], want->c_iflag, want->c_lflag, want->c_cc[VMIN]);
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	poll(&p, 1, 0);
	return p.revents;
}

static int locked(int fd)
{
	int lock = -1;

	if (ioctl(fd, TIOCGPTLCK, &lock))
		fail_errno("TIOCGPTLCK");
	return lock;
}

static void check_b(const struct termios *tb)
{
	char buf[8];
	int s, excl = 0;
	ssize_t n;

	if (!(revents(B) & POLLHUP))
		fail("B: the master does not see its slave closed (revents 0x%x)", revents(B));
	n = read(B, buf, sizeof(buf));
	if (n != 3 || memcmp(buf, "bye", 3))
		fail("B: the master read %zd bytes, expected bye", n);
	s = open(ptsname(B), O_RDWR | O_NOCTTY);
	if (s < 0)
		fail_errno("B: open the slave");
	if (ioctl(s, TIOCGEXCL, &excl) || !excl)
		fail("B: the slave is not exclusive");
	check_termios(s, tb, "B");
	close(s);
}

static void check_c(const struct termios *tc)
{
	struct winsize ws;

	if (locked(C) != 1)
		fail("C: not locked");
	if (revents(C) & POLLHUP)
		fail("C: the master sees a hang-up, its slave was never opened");
	check_termios(C, tc, "C");
	if (ioctl(C, TIOCGWINSZ, &ws) || ws.ws_row != 10 || ws.ws_col != 20)
		fail("C: window %ux%u, expected 10x20", ws.ws_row, ws.ws_col);
}

static void check_d(void)
{
	struct pollfd p = { .fd = D, .events = POLLIN };
	char c = 0;
	int s;

	if (locked(D) != 1)
		fail("D: not locked");
	if (write(D_SLAVE, "x", 1) != 1 || poll(&p, 1, 5000) != 1 || read(D, &c, 1) != 1 || c != 'x')
		fail("D: the slave does not talk to the master");
	/* last: the kernel marks the slave with an I/O error when an open of it fails */
	s = open(ptsname(D), O_RDWR | O_NOCTTY);
	if (s >= 0 || errno != EIO)
		fail("D: its slave could be opened again (%d, %m)", s);
}

static int states_main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 10, .ws_col = 20 };
	struct termios tb, tc, td;
	int s, one = 1;

	test_init(argc, argv);
	place(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK), B);
	place(posix_openpt(O_RDWR | O_NOCTTY), C);
	place(posix_openpt(O_RDWR | O_NOCTTY), D);
	if (grantpt(B) || unlockpt(B) || grantpt(D) || unlockpt(D))
		fail_errno("unlockpt");
	s = open(ptsname(B), O_RDWR | O_NOCTTY);
	if (s < 0)
		fail_errno("open B's slave");
	raw(s, 4, &tb);
	if (ioctl(s, TIOCEXCL) || write(s, "bye", 3) != 3)
		fail_errno("B's slave");
	close(s);
	raw(C, 3, &tc);
	if (ioctl(C, TIOCSWINSZ, &ws))
		fail_errno("TIOCSWINSZ");
	place(open(ptsname(D), O_RDWR | O_NOCTTY), D_SLAVE);
	raw(D_SLAVE, 1, &td);
	if (ioctl(D, TIOCSPTLCK, &one))
		fail_errno("lock D");
	/* the data is in B's master's queue, the hang-up seen */
	for (int i = 0; i < 500 && !(revents(B) & POLLIN); i++)
		usleep(10000);

	test_daemon();
	test_waitsig();

	check_b(&tb);
	check_c(&tc);
	check_d();
	pass();
}
