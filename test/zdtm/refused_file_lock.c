// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=lock */
/*
 * An exclusive flock() on a file of the test. Without --file-locks locks
 * are not dumped: the dump must be refused, and the lock is still held at
 * the check (a new open file description can't take it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	char path[4096];
	int fd, other;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s/locked", test_dir());
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || flock(fd, LOCK_EX))
		fail("can't lock %s: %m", path);
	test_daemon();
	test_waitsig();
	other = open(path, O_RDWR);
	if (other < 0)
		fail("open %s: %m", path);
	if (!flock(other, LOCK_EX | LOCK_NB) || errno != EWOULDBLOCK)
		fail("the lock is not held any more");
	pass();
	return 0;
}
