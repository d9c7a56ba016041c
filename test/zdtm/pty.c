// SPDX-License-Identifier: GPL-2.0
/*
 * A pseudo-terminal pair of the test's own: the master at fd 3
 * (O_NONBLOCK, packet mode), the slave at fd 42, in raw mode with VMIN 2,
 * a changed interrupt character and a 33x101 window (with pixel sizes).
 * After restore: the slave's settings are exactly as set (read through
 * both ends), so are the window size, packet mode, the lock and the flags
 * of both fds; ptsname() of the master is the slave's /proc/self/fd link;
 * and the two ends still talk both ways (with the packet-mode status byte
 * before the data read on the master).
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

static void same_termios(const struct termios *a, const struct termios *b, const char *what)
{
	if (a->c_iflag != b->c_iflag || a->c_oflag != b->c_oflag || a->c_cflag != b->c_cflag ||
	    a->c_lflag != b->c_lflag || memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) || cfgetispeed(a) != cfgetispeed(b) ||
	    cfgetospeed(a) != cfgetospeed(b))
		fail("%s: termios iflag %o oflag %o cflag %o lflag %o VMIN %d, expected %o %o %o %o %d", what,
		     b->c_iflag, b->c_oflag, b->c_cflag, b->c_lflag, b->c_cc[VMIN], a->c_iflag, a->c_oflag, a->c_cflag,
		     a->c_lflag, a->c_cc[VMIN]);
}

/* Read exactly len bytes from a blocking or non-blocking fd, waiting up to 5 s. */
static void read_exact(int fd, char *buf, size_t len, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&p, 1, 5000) != 1)
			fail("%s: nothing to read after %zu of %zu bytes", what, got, len);
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			fail_errno("%s: read", what);
		got += n;
	}
}

static void talk(void)
{
	char buf[16];

	/* slave to master: raw mode, no output processing; the master reads a status byte first */
	if (write(SLAVE, "ping\r\n", 6) != 6)
		fail_errno("write to the slave");
	read_exact(MASTER, buf, 7, "master");
	if (buf[0] != TIOCPKT_DATA || memcmp(buf + 1, "ping\r\n", 6))
		fail("the master read %.7s, expected \\0ping\\r\\n", buf);
	/* master to slave: VMIN 2, no input processing */
	if (write(MASTER, "pong\r", 5) != 5)
		fail_errno("write to the master");
	read_exact(SLAVE, buf, 5, "slave");
	if (memcmp(buf, "pong\r", 5))
		fail("the slave read %.5s, expected pong\\r", buf);
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 33, .ws_col = 101, .ws_xpixel = 808, .ws_ypixel = 528 }, ws2;
	struct termios t, t2;
	char link[64], path[64];
	int one = 1, pkt, lock, n;

	test_init(argc, argv);
	place(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK), MASTER);
	if (grantpt(MASTER) || unlockpt(MASTER))
		fail_errno("unlockpt");
	place(open(ptsname(MASTER), O_RDWR | O_NOCTTY), SLAVE);
	if (tcgetattr(SLAVE, &t))
		fail_errno("tcgetattr");
	cfmakeraw(&t);
	t.c_cc[VMIN] = 2;
	t.c_cc[VTIME] = 0;
	t.c_cc[VINTR] = 7;
	cfsetspeed(&t, B9600);
	if (tcsetattr(SLAVE, TCSANOW, &t) || tcgetattr(SLAVE, &t))
		fail_errno("tcsetattr");
	if (ioctl(MASTER, TIOCSWINSZ, &ws))
		fail_errno("TIOCSWINSZ");
	/* after the settings: a change of flow control would post a packet-mode status */
	if (ioctl(MASTER, TIOCPKT, &one))
		fail_errno("TIOCPKT");
	test_msg("master %s\n", ptsname(MASTER));

	test_daemon();
	test_waitsig();

	if (tcgetattr(SLAVE, &t2))
		fail_errno("tcgetattr on the slave");
	same_termios(&t, &t2, "slave");
	if (tcgetattr(MASTER, &t2))
		fail_errno("tcgetattr on the master");
	same_termios(&t, &t2, "master");
	if (ioctl(SLAVE, TIOCGWINSZ, &ws2))
		fail_errno("TIOCGWINSZ");
	if (memcmp(&ws, &ws2, sizeof(ws)))
		fail("window %ux%u (%ux%u pixels), expected 33x101 (808x528)", ws2.ws_row, ws2.ws_col, ws2.ws_xpixel,
		     ws2.ws_ypixel);
	if (ioctl(MASTER, TIOCGPKT, &pkt) || !pkt)
		fail("the master is not in packet mode");
	if (ioctl(MASTER, TIOCGPTLCK, &lock) || lock)
		fail("the pair is locked");
	if (!(fcntl(MASTER, F_GETFL) & O_NONBLOCK) || (fcntl(SLAVE, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK is not as it was (master 0%o, slave 0%o)", fcntl(MASTER, F_GETFL),
		     fcntl(SLAVE, F_GETFL));
	if ((fcntl(MASTER, F_GETFL) & O_ACCMODE) != O_RDWR || (fcntl(SLAVE, F_GETFL) & O_ACCMODE) != O_RDWR)
		fail("the access modes are not O_RDWR");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", SLAVE);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		fail_errno("readlink %s", path);
	link[n] = 0;
	if (strcmp(link, ptsname(MASTER)))
		fail("the slave is %s, the master's is %s", link, ptsname(MASTER));
	if (!isatty(SLAVE) || strcmp(ttyname(SLAVE), link))
		fail("ttyname() of the slave is not %s", link);
	test_msg("restored as %s\n", link);
	talk();
	pass();
}
