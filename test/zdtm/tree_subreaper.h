/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An orphan reparented to a child subreaper, for tree_subreaper and
 * tree_subreaper_session. The root sets PR_SET_CHILD_SUBREAPER and forks
 * A; A (after setsid() in tree_subreaper_session) forks B and exits; the
 * root reaps A, and B, orphaned, is reparented to the root:
 *
 *	root (subreaper)		root (subreaper)
 *	+- A	(exited, reaped)   =>	+- B
 *	   +- B
 *
 * With setsid() B stays in A's session and group, whose leader is gone.
 * Before the dump and after restore: the root is still a child subreaper,
 * B's parent is the root, B's group and session are as they were. After
 * restore the root SIGTERMs B, which checks its own parent, group and
 * session and exits 0 if they are right; the root must be able to reap it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "zdtmtst.h"

static pid_t root_pid, orphan, pgid, sid;

/* B: ready once it has the root for its parent. */
static void orphan_main(int ready_fd) __attribute__((noreturn));
static void orphan_main(int ready_fd)
{
	int i;

	for (i = 0; i < 3000 && getppid() != root_pid; i++)
		usleep(1000);
	if (getppid() != root_pid) {
		test_msg("B, set-up: parent %d, not the root %d", getppid(), root_pid);
		_exit(1);
	}
	close(ready_fd);
	test_waitsig();
	if (getppid() != root_pid || getpgrp() != pgid || getsid(0) != sid) {
		test_msg("B: parent %d, group %d, session %d; expected %d, %d, %d", getppid(), getpgrp(), getsid(0),
			 root_pid, pgid, sid);
		_exit(1);
	}
	_exit(0);
}

/* A: forks B, tells the root B's pid, exits. */
static void middle_main(bool new_session, int fds[2]) __attribute__((noreturn));
static void middle_main(bool new_session, int fds[2])
{
	pid_t pid;

	close(fds[0]);
	if (new_session && setsid() < 0) {
		test_msg("A, set-up: setsid: %m");
		_exit(1);
	}
	pgid = getpgrp();
	sid = getsid(0);
	pid = fork();
	if (pid == 0)
		orphan_main(fds[1]);
	if (pid < 0 || write(fds[1], &pid, sizeof(pid)) != sizeof(pid)) {
		test_msg("A, set-up: creating B: %m");
		_exit(1);
	}
	_exit(0);
}

static int subreaper_state(char *why, size_t len)
{
	int on = 0;

	if (prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0) || !on)
		snprintf(why, len, "the root is not a child subreaper");
	else if (proc_ppid_of(orphan) != root_pid)
		snprintf(why, len, "B (%d) has parent %d, not the root %d", orphan, proc_ppid_of(orphan), root_pid);
	else if (getpgid(orphan) != pgid || getsid(orphan) != sid)
		snprintf(why, len, "B (%d) is in group %d, session %d; expected %d, %d", orphan, getpgid(orphan),
			 getsid(orphan), pgid, sid);
	return why[0] ? -1 : 0;
}

static void subreaper_test(bool new_session) __attribute__((noreturn));
static void subreaper_test(bool new_session)
{
	char why[160] = "", c;
	int fds[2], status;
	pid_t middle;

	root_pid = getpid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		fail_errno("PR_SET_CHILD_SUBREAPER");
	if (pipe2(fds, O_CLOEXEC))
		fail_errno("pipe");
	middle = fork();
	if (middle < 0)
		fail_errno("fork");
	if (middle == 0)
		middle_main(new_session, fds);
	close(fds[1]);
	/* B's pid, then EOF once A is gone and B has the root for its parent */
	if (read(fds[0], &orphan, sizeof(orphan)) != sizeof(orphan))
		orphan = 0;
	if (reap_child(middle, &status, 3000) || status)
		snprintf(why, sizeof(why), "A did not end well (%s)", wait_status_str(status));
	if (orphan <= 0 || read(fds[0], &c, 1) != 0 || proc_state_of(orphan) == 'Z')
		snprintf(why, sizeof(why), "B failed: see the test log");
	close(fds[0]);
	if (!why[0]) {
		/* what B must have: A's group and session */
		pgid = new_session ? middle : getpgrp();
		sid = new_session ? middle : getsid(0);
		subreaper_state(why, sizeof(why));
	}
	if (why[0]) {
		if (orphan > 0) {
			kill(orphan, SIGTERM);
			reap_child(orphan, NULL, 3000);
		}
		fail("set-up: %s", why);
	}

	test_daemon();
	test_waitsig();

	subreaper_state(why, sizeof(why));
	kill(orphan, SIGTERM);
	if (reap_child(orphan, &status, 3000) < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "B (%d) is not the root's child: can't reap it", orphan);
	} else if (status && !why[0]) {
		snprintf(why, sizeof(why), "B (%d) did not end well (%s): see the test log", orphan,
			 wait_status_str(status));
	}
	if (why[0])
		fail("%s", why);
	pass();
}
