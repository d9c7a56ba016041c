// SPDX-License-Identifier: GPL-2.0
/* zdtm: flags=--shell-job tty=1 */
/*
 * A shell job: stdin, stdout and stderr on a terminal (a pseudo-terminal
 * made by the harness, which also gives it to criu restore). After restore
 * with --shell-job, fds 0-2 are still terminals with the same F_GETFL
 * flags, the terminal attributes can be read, and writing works.
 *
 * O_LARGEFILE is left out of the comparison: on x86_64 the kernel sets it
 * on every open(2) and it changes nothing, but a pty slave that came from
 * openpty() (TIOCGPTPEER) does not have it, while any reopening of the
 * terminal by path does, and F_SETFL can not clear it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "zdtmtst.h"

/* glibc defines O_LARGEFILE as 0 on x86_64; this is the kernel's bit */
#define KERNEL_O_LARGEFILE 0100000

int main(int argc, char **argv)
{
	static const char msg[] = "shell_job: written after restore\r\n";
	struct termios tio;
	int fl[3], fd;

	test_init(argc, argv);

	for (fd = 0; fd < 3; fd++) {
		if (!isatty(fd))
			fail("set-up: fd %d is not a terminal", fd);
		fl[fd] = fcntl(fd, F_GETFL) & ~KERNEL_O_LARGEFILE;
	}
	test_msg("on %s", ttyname(0));

	test_daemon();
	test_waitsig();

	for (fd = 0; fd < 3; fd++) {
		int now;

		if (!isatty(fd))
			fail("fd %d is not a terminal after restore", fd);
		now = fcntl(fd, F_GETFL) & ~KERNEL_O_LARGEFILE;
		if (now != fl[fd])
			fail("fd %d: F_GETFL %#o, expected %#o", fd, now, fl[fd]);
	}
	if (tcgetattr(0, &tio))
		fail_errno("tcgetattr");
	if (write(1, msg, sizeof(msg) - 1) != sizeof(msg) - 1)
		fail_errno("write to the terminal");
	test_msg("now on %s", ttyname(0));
	pass();
}
