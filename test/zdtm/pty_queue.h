/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Data queued in both directions of a pty pair when it is dumped. The
 * slave (fd 42) is in non-canonical mode with echo, signals, CR to NL
 * translation and output processing on, and VMIN above what is queued (so
 * poll() does not see its input); the master (fd 3) in packet mode. Both
 * are non-blocking.
 *
 * What the line discipline makes of the bytes written to the master (the
 * slave's queue, and the echo in the master's queue) and of those written
 * to the slave (output processing) is first measured on the pair itself.
 * Then the same bytes are written again in both directions and left
 * unread for the dump. After restore the slave reads exactly what it read
 * the first time, the master exactly the echo and the slave's output, in
 * order, with nothing more: nothing was echoed, translated or lost twice.
 * A third round shows the processing is still on.
 *
 * pty_queue: dumped and restored; pty_queue_live: dumped with
 * --leave-running, so the original, whose queues criu read and put back,
 * must pass too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

#define MASTER 3
#define SLAVE 42

static const char to_slave[] = "ab\rcd e\xff\n";
static const char to_master[] = "out\nput\t\xfe\n";

struct bytes {
	char b[512];
	size_t len;
};

static void place(int fd, int at)
{
	if (fd < 0)
		fail_errno("open");
	if (dup2(fd, at) != at)
		fail_errno("dup2 %d", at);
	if (fd != at)
		close(fd);
}

/* Everything fd gives until 200 ms of quiet; on the master, without the packet status bytes. */
static void read_all(int fd, struct bytes *out, const char *what)
{
	char buf[256];
	int quiet = 0;
	ssize_t n;

	out->len = 0;
	while (quiet < 20) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN) {
			usleep(10000);
			quiet++;
			continue;
		}
		if (n <= 0)
			fail_errno("%s: read", what);
		quiet = 0;
		if (fd == MASTER && buf[0] != TIOCPKT_DATA)
			fail("%s: packet status 0x%x", what, buf[0]);
		if (fd == MASTER)
			memmove(buf, buf + 1, --n);
		if (out->len + n > sizeof(out->b))
			fail("%s: more than %zu bytes", what, sizeof(out->b));
		memcpy(out->b + out->len, buf, n);
		out->len += n;
	}
}

static void write_master(void)
{
	if (write(MASTER, to_slave, sizeof(to_slave) - 1) != sizeof(to_slave) - 1)
		fail_errno("write to the master");
}

static void write_slave(void)
{
	if (write(SLAVE, to_master, sizeof(to_master) - 1) != sizeof(to_master) - 1)
		fail_errno("write to the slave");
}

static void expect(const struct bytes *got, const struct bytes *want, const char *what)
{
	size_t i;

	if (got->len == want->len && !memcmp(got->b, want->b, got->len))
		return;
	for (i = 0; i < got->len && i < want->len && got->b[i] == want->b[i]; i++)
		;
	fail("%s: read %zu bytes, expected %zu; they differ from byte %zu (0x%02x, expected 0x%02x)", what, got->len,
	     want->len, i, i < got->len ? (unsigned char)got->b[i] : 0, i < want->len ? (unsigned char)want->b[i] : 0);
}

/* Wait until fd's queue holds len bytes (the line discipline works behind the writer's back). */
static void wait_queued(int fd, size_t len)
{
	int n = 0, i;

	for (i = 0; i < 500; i++) {
		if (ioctl(fd, FIONREAD, &n))
			fail_errno("FIONREAD");
		if ((size_t)n == len)
			return;
		usleep(10000);
	}
	fail("fd %d queued %d bytes, expected %zu", fd, n, len);
}

/*
 * The slave's output goes after the echo of what the master wrote: it is
 * written once the slave has received (and echoed) all of it.
 */
static void fill_queues(const struct bytes *slave_sees, const struct bytes *master_sees)
{
	write_master();
	wait_queued(SLAVE, slave_sees->len);
	write_slave();
	wait_queued(MASTER, master_sees->len);
}

static int queue_main(int argc, char **argv)
{
	struct bytes slave_sees, master_sees, got;
	struct termios t;
	int one = 1;

	test_init(argc, argv);
	place(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK), MASTER);
	if (grantpt(MASTER) || unlockpt(MASTER))
		fail_errno("unlockpt");
	place(open(ptsname(MASTER), O_RDWR | O_NOCTTY | O_NONBLOCK), SLAVE);
	if (tcgetattr(SLAVE, &t))
		fail_errno("tcgetattr");
	t.c_lflag &= ~ICANON;
	t.c_lflag |= ECHO | ECHOCTL | ISIG | IEXTEN;
	t.c_iflag |= ICRNL | IXON;
	t.c_oflag |= OPOST | ONLCR;
	t.c_cc[VMIN] = 100;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(SLAVE, TCSANOW, &t))
		fail_errno("tcsetattr");
	if (ioctl(MASTER, TIOCPKT, &one))
		fail_errno("TIOCPKT");

	/* what the pair makes of the bytes, measured */
	write_master();
	read_all(SLAVE, &slave_sees, "slave, measuring");
	write_slave();
	read_all(MASTER, &master_sees, "master, measuring");
	if (slave_sees.len < 5 || master_sees.len < sizeof(to_master) - 1)
		fail("measured %zu and %zu bytes", slave_sees.len, master_sees.len);
	test_msg("the slave's queue holds %zu bytes, the master's %zu\n", slave_sees.len, master_sees.len);
	fill_queues(&slave_sees, &master_sees);

	test_daemon();
	test_waitsig();

	read_all(SLAVE, &got, "slave");
	expect(&got, &slave_sees, "slave");
	read_all(MASTER, &got, "master");
	expect(&got, &master_sees, "master");
	fill_queues(&slave_sees, &master_sees);
	read_all(SLAVE, &got, "slave, again");
	expect(&got, &slave_sees, "slave, again");
	read_all(MASTER, &got, "master, again");
	expect(&got, &master_sees, "master, again");
	pass();
}
