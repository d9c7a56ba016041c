// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=pidfd */
/*
 * A pidfd (of the test's own child): not a kind criu handles. The dump
 * must be refused, naming the process, the fd and the kind; at the check
 * the pidfd still signals the child.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	int fd, status;
	pid_t child;

	test_init(argc, argv);
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	fd = syscall(SYS_pidfd_open, child, 0);
	if (child < 0 || fd < 0)
		fail_errno("pidfd");

	test_daemon();
	test_waitsig();

	if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) || waitpid(child, &status, 0) != child ||
	    !WIFSIGNALED(status))
		fail("the pidfd does not reach the child");
	pass();
}
