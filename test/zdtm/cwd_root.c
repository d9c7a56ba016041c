// SPDX-License-Identifier: GPL-2.0
/*
 * The working directory is a unique directory made by the test, the root
 * is "/". After restore getcwd() and /proc/self/cwd name the same
 * directory (same device and inode), a file in it is found by a relative
 * path, and /proc/self/root is "/".
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zdtmtst.h"

static void readlink_str(const char *link, char *buf, size_t size)
{
	ssize_t len = readlink(link, buf, size - 1);

	if (len < 0)
		fail_errno("readlink %s", link);
	buf[len] = '\0';
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX], cwd[PATH_MAX], link[PATH_MAX];
	struct stat before, after;
	int fd;

	test_init(argc, argv);

	snprintf(dir, sizeof(dir), "%s/cwd-XXXXXX", test_dir());
	if (!mkdtemp(dir))
		fail_errno("mkdtemp %s", dir);
	if (chdir(dir))
		fail_errno("chdir %s", dir);
	fd = open("marker", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "cwd", 3) != 3)
		fail_errno("create marker");
	close(fd);
	if (stat(".", &before))
		fail_errno("stat .");
	readlink_str("/proc/self/root", link, sizeof(link));
	if (strcmp(link, "/"))
		fail("set-up: root is %s", link);

	test_daemon();
	test_waitsig();

	if (!getcwd(cwd, sizeof(cwd)))
		fail_errno("getcwd");
	if (strcmp(cwd, dir))
		fail("getcwd() is %s, expected %s", cwd, dir);
	readlink_str("/proc/self/cwd", link, sizeof(link));
	if (strcmp(link, dir))
		fail("/proc/self/cwd is %s, expected %s", link, dir);
	if (stat(".", &after))
		fail_errno("stat .");
	if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
		fail("\".\" is another directory than before");
	if (access("marker", R_OK))
		fail_errno("marker in the working directory");
	readlink_str("/proc/self/root", link, sizeof(link));
	if (strcmp(link, "/"))
		fail("/proc/self/root is %s, expected /", link);
	pass();
}
