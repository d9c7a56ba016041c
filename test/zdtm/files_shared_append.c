// SPDX-License-Identifier: GPL-2.0
/*
 * Regular file descriptions shared by a parent and its child: an O_APPEND
 * log (fd 3, also dup'ed at 42 in the parent) and a read-write file at
 * offset 100 (fd 200). After restore a write by the child moves the one
 * offset both see: the parent's fd 200 offset follows the child's
 * writes, and both write at the end of the log, in turn, without
 * overwriting each other.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static void at(int fd, int num)
{
	if (fd < 0 || dup2(fd, num) != num)
		fail_errno("fd %d", num);
	if (fd != num)
		close(fd);
}

int main(int argc, char **argv)
{
	char path[4096];
	struct stat st;
	pid_t child;
	int status;

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s/log", test_dir());
	at(open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600), 3);
	at(dup(3), 42);
	snprintf(path, sizeof(path), "%s/data", test_dir());
	at(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), 200);
	if (ftruncate(200, 4096) || lseek(200, 100, SEEK_SET) != 100 || write(3, "0123456789", 10) != 10)
		fail_errno("set-up");
	child = fork();
	if (child == 0) {
		while (!test_sigterm)
			pause();
		/* the child writes 7 bytes through each shared description */
		_exit(write(3, "childAB", 7) != 7 || write(200, "childAB", 7) != 7);
	}

	test_daemon();
	test_waitsig();

	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child could not write");
	if (lseek(200, 0, SEEK_CUR) != 107)
		fail("fd 200's offset is %ld: not the one the child moved", (long)lseek(200, 0, SEEK_CUR));
	if (write(42, "parent", 6) != 6 || fstat(3, &st) || st.st_size != 23)
		fail("the log is %ld bytes, expected 23 (appends overwrote each other)", (long)st.st_size);
	pass();
}
