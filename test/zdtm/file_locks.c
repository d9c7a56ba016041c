// SPDX-License-Identifier: GPL-2.0
/* zdtm: flags=--file-locks */
/*
 * File locks taken along with --file-locks: an exclusive flock on fd 3, a
 * POSIX read lock on bytes 10..19 through fd 42, and an OFD write lock on
 * the whole file through fd 200 (three files in test_dir()). After
 * restore a checker child, another owner, must find each lock in force:
 * flock(LOCK_EX | LOCK_NB) on its own open of file A fails, F_GETLK for a
 * write on bytes 12..13 of file B reports a read lock held by the test,
 * F_OFD_GETLK on its own open of file C reports the write lock; and bytes
 * outside 10..19 of B are free.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char path[3][512];

static void open_at(int i, int at)
{
	int fd;

	snprintf(path[i], sizeof(path[i]), "%s/lock.%c", test_dir(), 'a' + i);
	fd = open(path[i], O_RDWR | O_CREAT, 0600);
	if (fd < 0 || write(fd, "0123456789abcdefghijklmnopqrstuvwxyz", 36) != 36 || dup2(fd, at) != at)
		fail_errno("%s", path[i]);
	if (fd != at)
		close(fd);
}

/* In a child: 0 if every lock is in force and nothing more. */
static int check_locks(pid_t owner)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 12, .l_len = 2 };
	int a = open(path[0], O_RDWR), b = open(path[1], O_RDWR), c = open(path[2], O_RDWR);

	if (a < 0 || b < 0 || c < 0)
		return 1;
	if (!flock(a, LOCK_EX | LOCK_NB) || errno != EWOULDBLOCK)
		return 2;
	if (fcntl(b, F_GETLK, &fl) || fl.l_type != F_RDLCK || fl.l_pid != owner || fl.l_start != 10 || fl.l_len != 10)
		return 3;
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 5 };
	if (fcntl(b, F_GETLK, &fl) || fl.l_type != F_UNLCK)
		return 4;
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	if (fcntl(c, F_OFD_GETLK, &fl) || fl.l_type != F_WRLCK)
		return 5;
	return 0;
}

static int run_checker(void)
{
	pid_t owner = getpid(), pid = fork();
	int status;

	if (pid < 0)
		fail_errno("fork");
	if (pid == 0)
		_exit(check_locks(owner));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		fail("the checker did not end");
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10 };
	int ret;

	test_init(argc, argv);
	open_at(0, 3);
	open_at(1, 42);
	open_at(2, 200);
	if (flock(3, LOCK_EX) || fcntl(42, F_SETLK, &fl))
		fail_errno("lock");
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(200, F_OFD_SETLK, &fl))
		fail_errno("ofd lock");
	ret = run_checker();
	if (ret)
		fail("before the dump: lock check %d failed", ret);

	test_daemon();
	test_waitsig();

	ret = run_checker();
	if (ret)
		fail("after restore: lock check %d failed", ret);
	pass();
}
