// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=fd table */
/*
 * A child made with clone(CLONE_FILES): parent and child share one fd
 * table, which a restore would split. The dump must be refused; at the
 * check an fd the child opens shows up in the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

static char stack[256 << 10];

static int child(void *arg)
{
	int fd;

	while (!test_sigterm)
		pause();
	fd = open("/dev/null", O_RDONLY);
	_exit(dup2(fd, 77) == 77 ? 0 : 1);
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	test_init(argc, argv);
	pid = clone(child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	if (pid < 0)
		fail_errno("clone");

	test_daemon();
	test_waitsig();

	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child failed");
	if (fcntl(77, F_GETFD) < 0)
		fail("the child's fd 77 is not in the shared table");
	pass();
}
