// SPDX-License-Identifier: GPL-2.0
/*
 * Data queued in a pseudo-terminal pair: what the slave side wrote that
 * the master has not read (in the master's input), and what was written to
 * the master that the slave side has not read (in the slave's input).
 *
 * Nothing reads a terminal's queue without taking it: the dump reads it
 * and puts it straight back with TIOCSTI, which hands bytes to the line
 * discipline as if they had been received. The master's line discipline is
 * always raw (its settings can't be changed: every termios ioctl on a
 * master acts on its slave), so what goes back is stored as it was. The
 * slave's would echo, translate and signal again: it is relaxed while the
 * bytes go in. Restore puts the queues into the new pair the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <asm/termbits.h>
#include <sys/capability.h>
#include <sys/ioctl.h>

#include "log.h"
#include "tty.h"

bool tty_can_stuff(void)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return false;
	cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return v == CAP_SET;
}

/*
 * poll() also waits for the kernel to move received bytes from its flip
 * buffer into the queue. Its POLLIN means "a read would not wait": in
 * non-canonical mode with VMIN above what is queued and no VTIME, it is
 * not set though bytes are there.
 */
static bool input_pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int tty_queued(int fd, const char *what)
{
	int n = 0;

	input_pending(fd);
	if (ioctl(fd, FIONREAD, &n)) {
		pr_perror("%s: can't tell how much its queue holds", what);
		return -errno;
	}
	return n;
}

int tty_drain(int fd, bool packet, uint8_t *buf, size_t max, size_t *len, const char *what)
{
	bool nonblock = fcntl(fd, F_GETFL) & O_NONBLOCK;
	uint8_t tmp[PTY_QUEUE_MAX + 1];
	ssize_t n;

	*len = 0;
	/*
	 * A blocking description is only read when input is there, so the
	 * read does not wait: that is a master's (whose VMIN is always 1), a
	 * slave is read through a non-blocking open of criu's.
	 */
	while (nonblock || input_pending(fd)) {
		if (*len == max) {
			if (tty_queued(fd, what) <= 0)
				break;
			pr_err("%s: more than %zu bytes queued\n", what, max);
			return -E2BIG;
		}
		n = read(fd, tmp, max - *len + packet);
		if (n < 0 && (errno == EAGAIN || errno == EIO))
			break;
		if (n < 0) {
			pr_perror("%s: can't read its queue", what);
			return -errno;
		}
		if (packet && n && tmp[0] != TIOCPKT_DATA) {
			pr_err("%s: a packet-mode status 0x%x came instead of data; it is lost\n", what, tmp[0]);
			return -EIO;
		}
		if (n <= packet)
			break;
		memcpy(buf + *len, tmp + packet, n - packet);
		*len += n - packet;
	}
	return 0;
}

int tty_stuff(int fd, const uint8_t *data, size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (ioctl(fd, TIOCSTI, &data[i])) {
			pr_perror("%s: can't queue byte %zu of %zu", what, i, len);
			return -errno;
		}
	}
	return 0;
}

bool tty_flow_char_in(const struct termios2 *t, const uint8_t *data, size_t len)
{
	size_t i;

	if (!(t->c_iflag & IXON))
		return false;
	for (i = 0; i < len; i++)
		if ((data[i] == t->c_cc[VSTART] || data[i] == t->c_cc[VSTOP]) && data[i] != _POSIX_VDISABLE)
			return true;
	return false;
}

/*
 * IXON stays unless the bytes hold its characters (they came in while it
 * was off): turning it off restarts output stopped by ^S and, in packet
 * mode, tells the master of a new flow-control state. ICANON is off
 * already: only non-canonical queues are saved, as a canonical one can't
 * be read whole (see tty-pty.c).
 */
int tty_stuff_slave(int sfd, const struct termios2 *t, const uint8_t *data, size_t len, const char *what)
{
	struct termios2 quiet = *t;
	int ret;

	quiet.c_iflag &= ~(ISTRIP | INLCR | IGNCR | ICRNL | IUCLC | IXANY | PARMRK | IMAXBEL);
	quiet.c_lflag &= ~(ISIG | ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOPRT | ECHOKE | IEXTEN);
	if (tty_flow_char_in(t, data, len)) {
		pr_warn("%s: its queue holds IXON's start or stop character: IXON is off while it goes back\n", what);
		quiet.c_iflag &= ~IXON;
	}
	if (ioctl(sfd, TCSETS2, &quiet)) {
		pr_perror("%s: can't relax its settings to queue its input", what);
		return -errno;
	}
	ret = tty_stuff(sfd, data, len, what);
	if (ioctl(sfd, TCSETS2, t)) {
		pr_perror("%s: can't set its settings back", what);
		ret = ret ?: -errno;
	}
	return ret;
}
