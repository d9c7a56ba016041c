// SPDX-License-Identifier: GPL-2.0
/*
 * Zombies: children that ended and were not reaped when dumped.
 *
 *	root
 *	+- Z1	exited with code 3
 *	+- Z2	killed by SIGKILL
 *	+- L	alive
 *	   +- Z3	killed by SIGUSR1: a zombie one level down
 *
 * After restore each zombie's parent checks that it is in state Z in
 * /proc/PID/stat, still its child, that waitid(WNOWAIT) sees it ended the
 * way it did (CLD_EXITED 3, CLD_KILLED 9, CLD_KILLED 10), then reaps it
 * and requires exactly that wait status (and no core dump flag). L does
 * this for Z3 on SIGTERM from the root and exits 0 if all was right.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

struct zombie {
	const char *name;
	int code; /* exit code, or -1 */
	int sig;  /* or the signal that killed it */
	pid_t pid;
};

static struct zombie z1 = { "Z1", 3, 0 }, z2 = { "Z2", -1, SIGKILL }, z3 = { "Z3", -1, SIGUSR1 };

/* Fork z, make it end its way, wait until it has (without reaping it). */
static int make_zombie(struct zombie *z, char *why, size_t len)
{
	siginfo_t si;

	z->pid = fork();
	if (z->pid < 0) {
		snprintf(why, len, "fork %s: %m", z->name);
		return -1;
	}
	if (z->pid == 0) {
		if (z->code >= 0)
			_exit(z->code);
		for (;;)
			pause();
	}
	if (z->sig)
		kill(z->pid, z->sig);
	if (waitid(P_PID, z->pid, &si, WEXITED | WNOWAIT)) {
		snprintf(why, len, "waitid %s: %m", z->name);
		return -1;
	}
	return 0;
}

/* Check that z is the same zombie, and reap it. */
static void check_zombie(struct zombie *z, char *why, size_t len)
{
	int code = z->code >= 0 ? CLD_EXITED : CLD_KILLED, want = z->code >= 0 ? z->code : z->sig;
	siginfo_t si = {};
	char state;
	int status;

	state = proc_state_of(z->pid);
	if (state != 'Z' && !why[0])
		snprintf(why, len, "%s (%d) is in state %c, not Z", z->name, z->pid, state ?: '-');
	if (proc_ppid_of(z->pid) != getpid() && !why[0])
		snprintf(why, len, "%s (%d) has parent %d, not %d", z->name, z->pid, proc_ppid_of(z->pid), getpid());
	if (waitid(P_PID, z->pid, &si, WEXITED | WNOHANG | WNOWAIT)) {
		if (!why[0])
			snprintf(why, len, "waitid(%s, WNOWAIT): %m", z->name);
	} else if ((si.si_pid != z->pid || si.si_code != code || si.si_status != want) && !why[0]) {
		snprintf(why, len, "waitid(%s, WNOWAIT): pid %d code %d status %d, expected %d code %d status %d",
			 z->name, si.si_pid, si.si_code, si.si_status, z->pid, code, want);
	}
	if (state != 'Z')
		kill(z->pid, SIGKILL); /* it must not be alive */
	if (reap_child(z->pid, &status, 0) < 0) {
		if (!why[0])
			snprintf(why, len, "%s (%d) is not a child", z->name, z->pid);
	} else if (z->code >= 0 ? !WIFEXITED(status) || WEXITSTATUS(status) != z->code
				: !WIFSIGNALED(status) || WTERMSIG(status) != z->sig || WCOREDUMP(status)) {
		if (!why[0])
			snprintf(why, len, "%s (%d) reaped with %s (%#x)", z->name, z->pid, wait_status_str(status),
				 status);
	}
	z->pid = 0;
}

/* L: a live child with a zombie child of its own. */
static void live_child(int ready_fd) __attribute__((noreturn));
static void live_child(int ready_fd)
{
	char why[160] = "";

	if (make_zombie(&z3, why, sizeof(why))) {
		test_msg("L, set-up: %s", why);
		_exit(1);
	}
	close(ready_fd);
	test_waitsig();
	check_zombie(&z3, why, sizeof(why));
	if (why[0])
		test_msg("L: %s", why);
	_exit(why[0] ? 1 : 0);
}

int main(int argc, char **argv)
{
	char why[160] = "", c;
	int fds[2], status;
	pid_t live;

	test_init(argc, argv);
	if (pipe2(fds, O_CLOEXEC))
		fail_errno("pipe");
	live = fork();
	if (live < 0)
		fail_errno("fork");
	if (live == 0) {
		close(fds[0]);
		live_child(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 0 || proc_state_of(live) == 'Z')
		snprintf(why, sizeof(why), "L failed: see the test log");
	close(fds[0]);
	if (!why[0] && !make_zombie(&z1, why, sizeof(why)))
		make_zombie(&z2, why, sizeof(why));
	if (why[0]) {
		kill(live, SIGTERM);
		reap_child(live, NULL, 3000);
		if (z1.pid > 0)
			reap_child(z1.pid, NULL, 0);
		if (z2.pid > 0)
			reap_child(z2.pid, NULL, 0);
		fail("set-up: %s", why);
	}

	test_daemon();
	test_waitsig();

	check_zombie(&z1, why, sizeof(why));
	check_zombie(&z2, why, sizeof(why));
	kill(live, SIGTERM);
	if ((reap_child(live, &status, 3000) || status) && !why[0])
		snprintf(why, sizeof(why), "L (%d) did not end well (%s): see the test log", live,
			 wait_status_str(status));
	if (why[0])
		fail("%s", why);
	pass();
}
