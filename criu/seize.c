// SPDX-License-Identifier: GPL-2.0
/*
 * Freezing a task: PTRACE_SEIZE then PTRACE_INTERRUPT, never SIGSTOP, so
 * that the task and its parent see no job-control stop.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seize.h"
#include "proc-parse.h"
#include "log.h"
#include "util.h"

#define SEIZE_SIGNAL_RETRIES 64

int seize_check_target(pid_t pid)
{
	struct proc_stat st;
	struct proc_status ps;

	if (pid == getpid() || pid == getppid()) {
		pr_err("can't dump %d: it is criu itself or its parent\n", pid);
		return -EINVAL;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		pr_err("can't dump %d: no such process\n", pid);
		return -ESRCH;
	}
	if (parse_proc_stat(pid, &st) || parse_proc_status(pid, &ps)) {
		pr_err("can't dump %d: can't read its /proc entries\n", pid);
		return -ESRCH;
	}
	if (st.flags & PF_KTHREAD_FLAG) {
		pr_err("can't dump %d (%s): it is a kernel thread\n", pid, st.comm);
		return -EINVAL;
	}
	if (ps.tgid != pid) {
		pr_err("can't dump %d: it is a thread of process %d, not a process\n", pid, ps.tgid);
		return -EINVAL;
	}
	if (st.state == 'Z') {
		pr_err("can't dump %d (%s): it is a zombie\n", pid, st.comm);
		return -EINVAL;
	}
	if (ps.tracer_pid) {
		pr_err("can't dump %d (%s): it is already traced by %d\n", pid, st.comm, ps.tracer_pid);
		return -EBUSY;
	}
	return 0;
}

static int wait_stop_timeout(pid_t pid, int *status, unsigned timeout)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)(timeout ? timeout : 1) * 1000000000ULL;
	struct timespec ts = { 0, 1000000 };
	pid_t ret;

	for (;;) {
		ret = waitpid(pid, status, __WALL | WNOHANG);
		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR) {
			pr_perror("waitpid(%d)", pid);
			return -errno;
		}
		if (now_ns(CLOCK_MONOTONIC) > deadline) {
			pr_err("task %d did not stop within %u s\n", pid, timeout);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
}

int seize_task(pid_t pid, unsigned timeout)
{
	int status, i, ret;

	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD)) {
		int err = errno;

		if (err == EPERM)
			pr_err("can't seize %d: permission denied (ptrace needs CAP_SYS_PTRACE or the same user, and "
			       "ptrace_scope may forbid it)\n",
			       pid);
		else
			pr_err("can't seize %d: %s\n", pid, strerror(err));
		return -err;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
		pr_perror("can't interrupt %d", pid);
		goto err;
	}
	for (i = 0; i < SEIZE_SIGNAL_RETRIES; i++) {
		ret = wait_stop_timeout(pid, &status, timeout);
		if (ret)
			goto err;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			pr_err("task %d exited while being seized\n", pid);
			return -ESRCH;
		}
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/*
		 * A signal was being delivered: let it be, exactly as if it
		 * had arrived just before the dump, and stop again.
		 */
		pr_debug("seize: %d got signal %d while stopping, delivering it\n", pid, WSTOPSIG(status));
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status)) ||
		    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
			pr_perror("can't resume %d", pid);
			goto err;
		}
	}
	pr_err("task %d keeps receiving signals, can't stop it\n", pid);
err:
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return -EIO;
}

int unseize_task(pid_t pid, enum unseize_mode mode)
{
	int status;

	switch (mode) {
	case UNSEIZE_KILL:
		kill(pid, SIGKILL);
		/* reap the exit notification we get as its tracer */
		while (waitpid(pid, &status, __WALL) == pid && !WIFEXITED(status) && !WIFSIGNALED(status))
			;
		return 0;
	case UNSEIZE_STOP:
		kill(pid, SIGSTOP);
		break;
	case UNSEIZE_RUN:
		break;
	}
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL)) {
		pr_perror("can't detach from %d", pid);
		return -errno;
	}
	return 0;
}
