// SPDX-License-Identifier: GPL-2.0
/*
 * A process group whose leader is gone. The root forks L, which becomes the
 * leader of a group of its own, then M1 and M2, which join L's group; M1
 * forks M1a, which is born in it. Then L is killed and the root reaps it:
 * the group L lives on with three members, but no process has pid L.
 *
 *	root			session root, group root
 *	+- L	(reaped)	group L
 *	+- M1			group L
 *	|  +- M1a		group L
 *	+- M2			group L
 *
 * Before the dump and after restore: kill(L, 0) fails with ESRCH (no such
 * process: a stand-in that restore left would make it succeed), while
 * kill(-L, 0) succeeds (the group has members). After restore the root
 * checks each member's group (getpgid) and parent, then SIGTERMs M1 and M2;
 * each member checks its own group (getpgrp), session and parent and the
 * group as above, M1 ends M1a the same way, and each exits 0 if all is
 * right. Set-up: the members hold the write end of a pipe, M1 writes M1a's
 * pid into it, and each closes it once in the group.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

enum { M1, M2, M1A, NR_MEMBERS };
static const char *const names[NR_MEMBERS] = { "M1", "M2", "M1a" };

static pid_t leader, members[NR_MEMBERS];
static bool leader_reaped;
static int pipe_fds[2] = { -1, -1 };
static char why[256];

/* The group without a leader, as every process must see it. */
static const char *group_problem(void)
{
	if (kill(leader, 0) == 0 || errno != ESRCH)
		return "kill(leader, 0) does not fail with ESRCH: a process has the pid of the gone group leader";
	if (kill(-leader, 0))
		return "kill(-leader, 0) fails: the group has no member";
	return NULL;
}

/* A member, from set-up to its exit code. */
static void member(int m) __attribute__((noreturn));
static void member(int m)
{
	pid_t ppid, sid, child = 0;
	const char *gp;
	int bad = 0, status;

	close(pipe_fds[0]);
	if (m != M1A && setpgid(0, leader)) {
		test_msg("%s: setpgid(0, %d): %m", names[m], leader);
		_exit(1);
	}
	if (m == M1) {
		child = fork();
		if (child == 0)
			member(M1A);
		if (child < 0 || write(pipe_fds[1], &child, sizeof(child)) != sizeof(child)) {
			test_msg("M1: creating M1a: %m");
			if (child > 0)
				kill(child, SIGKILL);
			_exit(1);
		}
	}
	ppid = getppid();
	sid = getsid(0);
	close(pipe_fds[1]);

	test_waitsig();
	if (getpgrp() != leader || getsid(0) != sid || getppid() != ppid) {
		test_msg("%s: group %d, session %d, parent %d; expected %d, %d, %d", names[m], getpgrp(), getsid(0),
			 getppid(), leader, sid, ppid);
		bad = 1;
	}
	gp = group_problem();
	if (gp) {
		test_msg("%s: %s", names[m], gp);
		bad = 1;
	}
	if (child > 0) {
		kill(child, SIGTERM);
		if (reap_child(child, &status, 2000) || status) {
			test_msg("M1: M1a (%d) did not end well: %s", child, wait_status_str(status));
			bad = 1;
		}
	}
	_exit(bad);
}

/* End and reap every process the root created; note what went wrong. */
static void stop_all(void)
{
	int m, status;

	if (leader > 0 && !leader_reaped) {
		kill(leader, SIGKILL);
		reap_child(leader, NULL, 0);
	}
	for (m = M1; m <= M2; m++)
		if (members[m] > 0)
			kill(members[m], SIGTERM);
	for (m = M1; m <= M2; m++)
		if (members[m] > 0 && (reap_child(members[m], &status, 3000) || status) && !why[0])
			snprintf(why, sizeof(why), "%s (%d) did not end well: %s", names[m], members[m],
				 wait_status_str(status));
}

static void setup(void)
{
	const char *gp;
	ssize_t ret;
	int m;

	if (pipe2(pipe_fds, O_CLOEXEC)) {
		snprintf(why, sizeof(why), "pipe: %m");
		return;
	}
	leader = fork();
	if (leader == 0) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		setpgid(0, 0);
		for (;;)
			pause();
	}
	/* as a shell does: the group exists before anyone tries to join it */
	if (leader < 0 || setpgid(leader, leader)) {
		snprintf(why, sizeof(why), "creating the leader: %m");
		return;
	}
	for (m = M1; m <= M2; m++) {
		members[m] = fork();
		if (members[m] == 0)
			member(m);
		if (members[m] < 0) {
			snprintf(why, sizeof(why), "fork: %m");
			return;
		}
	}
	close(pipe_fds[1]);
	ret = read(pipe_fds[0], &members[M1A], sizeof(members[M1A]));
	if (ret != sizeof(members[M1A]) || read(pipe_fds[0], &m, 1) != 0) {
		snprintf(why, sizeof(why), "M1 did not report M1a");
		return;
	}
	close(pipe_fds[0]);

	/* every member is in the group: the leader goes */
	kill(leader, SIGKILL);
	if (reap_child(leader, NULL, 3000)) {
		snprintf(why, sizeof(why), "can't reap the leader %d", leader);
		return;
	}
	leader_reaped = true;
	for (m = 0; m < NR_MEMBERS; m++)
		if (getpgid(members[m]) != leader) {
			snprintf(why, sizeof(why), "%s (%d) is in group %d, not %d", names[m], members[m],
				 getpgid(members[m]), leader);
			return;
		}
	gp = group_problem();
	if (gp)
		snprintf(why, sizeof(why), "%s", gp);
}

int main(int argc, char **argv)
{
	pid_t parent[NR_MEMBERS];
	const char *gp;
	int m;

	test_init(argc, argv);
	setup();
	if (why[0]) {
		stop_all();
		fail("set-up: %s", why);
	}
	for (m = 0; m < NR_MEMBERS; m++)
		parent[m] = proc_ppid_of(members[m]);

	test_daemon();
	test_waitsig();

	gp = group_problem();
	if (gp)
		snprintf(why, sizeof(why), "%s", gp);
	for (m = 0; m < NR_MEMBERS && !why[0]; m++)
		if (getpgid(members[m]) != leader || proc_ppid_of(members[m]) != parent[m])
			snprintf(why, sizeof(why), "%s (%d): group %d, parent %d; expected %d, %d", names[m],
				 members[m], getpgid(members[m]), proc_ppid_of(members[m]), leader, parent[m]);
	stop_all();
	if (why[0])
		fail("%s", why);
	pass();
}
