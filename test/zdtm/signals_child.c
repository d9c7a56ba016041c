// SPDX-License-Identifier: GPL-2.0
/*
 * What a parent is told about its children:
 *  - Z, a zombie not reaped, whose SIGCHLD is still pending (blocked) in
 *    the test: after restore sigtimedwait() gives exactly one SIGCHLD with
 *    CLD_EXITED, Z's pid and status 7, and waitpid() then reaps Z with 7;
 *  - C, made by clone() with SIGUSR1 as its exit signal and SIGHUP as its
 *    parent-death signal: after restore /proc/C/stat still says exit
 *    signal 10; C checks its own pdeathsig when told (SIGUSR2) and exits
 *    with the verdict; the test then gets SIGUSR1 (CLD_EXITED, C's pid),
 *    no SIGCHLD, and reaps C with __WCLONE;
 *  - Y, a zombie made by clone() with SIGUSR1 as its exit signal, whose
 *    signal was taken with sigtimedwait() before the dump: no new SIGUSR1
 *    may come from its restore, and it is still reaped with __WCLONE.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t told;

static void on_usr2(int sig)
{
	told = 1;
}

static pid_t clone_with_exit_signal(int sig)
{
	return syscall(SYS_clone, sig, NULL, NULL, NULL, NULL);
}

static void run_c(void)
{
	int pdeath = -1;

	signal(SIGUSR2, on_usr2);
	if (prctl(PR_SET_PDEATHSIG, SIGHUP))
		_exit(2);
	while (!told)
		pause();
	prctl(PR_GET_PDEATHSIG, &pdeath);
	_exit(pdeath == SIGHUP ? 0 : 3);
}

static int exit_signal_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
		return -1;
	/* field 38; p is at the end of field 2 */
	for (i = 2; i < 38 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

static int take(int sig, siginfo_t *si)
{
	struct timespec wait = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &wait);
}

static int take_within(int sig, siginfo_t *si, int ms)
{
	struct timespec wait = { ms / 1000, (ms % 1000) * 1000000L };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, si, &wait);
}

static void check_zombie_z(pid_t z)
{
	siginfo_t si;
	int status;

	memset(&si, 0, sizeof(si));
	if (take(SIGCHLD, &si) != SIGCHLD)
		fail("no SIGCHLD pending for zombie %d", z);
	if (si.si_code != CLD_EXITED || si.si_pid != z || si.si_status != 7)
		fail("SIGCHLD: code %d pid %d status %d, expected %d %d 7", si.si_code, si.si_pid, si.si_status,
		     CLD_EXITED, z);
	if (take(SIGCHLD, &si) > 0)
		fail("a second SIGCHLD is pending (pid %d)", si.si_pid);
	if (waitpid(z, &status, WNOHANG) != z || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		fail("zombie %d: can't reap it with status 7", z);
}

static void check_clone_child(pid_t c)
{
	siginfo_t si;
	int status, sig = exit_signal_of(c);

	if (sig != SIGUSR1)
		fail("child %d has exit signal %d, not %d", c, sig, SIGUSR1);
	kill(c, SIGUSR2);
	memset(&si, 0, sizeof(si));
	if (take_within(SIGUSR1, &si, 5000) != SIGUSR1)
		fail("no SIGUSR1 when child %d ended", c);
	if (si.si_code != CLD_EXITED || si.si_pid != c)
		fail("SIGUSR1: code %d pid %d, expected %d %d", si.si_code, si.si_pid, CLD_EXITED, c);
	if (take(SIGCHLD, &si) > 0)
		fail("SIGCHLD from %d, whose exit signal is SIGUSR1", si.si_pid);
	if (waitpid(c, &status, __WCLONE) != c || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("child %d: %s (0: its pdeathsig is SIGHUP)", c, wait_status_str(status));
}

int main(int argc, char **argv)
{
	pid_t z, c, y;
	siginfo_t si;
	sigset_t set;
	int status;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	z = fork();
	if (z == 0)
		_exit(7);
	c = clone_with_exit_signal(SIGUSR1);
	if (c == 0)
		run_c();
	y = clone_with_exit_signal(SIGUSR1);
	if (y == 0)
		_exit(5);
	if (z < 0 || c < 0 || y < 0)
		fail_errno("fork/clone");
	if (waitid(P_PID, z, &si, WEXITED | WNOWAIT) || waitid(P_PID, y, &si, WEXITED | WNOWAIT | __WCLONE))
		fail_errno("waitid");
	if (take_within(SIGUSR1, &si, 5000) != SIGUSR1 || si.si_pid != y)
		fail("no SIGUSR1 from %d", y);

	test_daemon();
	test_waitsig();

	if (take(SIGUSR1, &si) > 0)
		fail("SIGUSR1 from %d pending after restore: zombie %d's signal was taken before", si.si_pid, y);
	check_zombie_z(z);
	check_clone_child(c);
	if (waitpid(y, &status, __WCLONE) != y || !WIFEXITED(status) || WEXITSTATUS(status) != 5)
		fail("zombie %d: can't reap it with status 5", y);
	pass();
}
