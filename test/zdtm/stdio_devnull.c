// SPDX-License-Identifier: GPL-2.0
/* zdtm: stdio=devnull */
/*
 * stdin, stdout and stderr on /dev/null (the harness starts the test so).
 * After restore each is still /dev/null (path, char device 1:3) with the
 * same F_GETFL flags, writes to 1 and 2 succeed and a read of 0 gives EOF.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "zdtmtst.h"

static void check_devnull(int fd, const char *when)
{
	char link[64], path[256];
	struct stat st;
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len < 0)
		fail_errno("%s: fd %d: readlink", when, fd);
	path[len] = '\0';
	if (fstat(fd, &st))
		fail_errno("%s: fd %d: fstat", when, fd);
	if (strcmp(path, "/dev/null") || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		fail("%s: fd %d is %s (mode %o, rdev %u:%u), not /dev/null", when, fd, path, st.st_mode,
		     major(st.st_rdev), minor(st.st_rdev));
}

int main(int argc, char **argv)
{
	int fl[3], fd;
	char c;

	test_init(argc, argv);

	for (fd = 0; fd < 3; fd++) {
		check_devnull(fd, "set-up");
		fl[fd] = fcntl(fd, F_GETFL);
	}

	test_daemon();
	test_waitsig();

	for (fd = 0; fd < 3; fd++) {
		int now = fcntl(fd, F_GETFL);

		check_devnull(fd, "after restore");
		if (now != fl[fd])
			fail("fd %d: F_GETFL %#o, expected %#o", fd, now, fl[fd]);
	}
	if (write(1, "stdout\n", 7) != 7 || write(2, "stderr\n", 7) != 7)
		fail_errno("write to /dev/null");
	if (read(0, &c, 1) != 0)
		fail("read from /dev/null did not return EOF");
	pass();
}
