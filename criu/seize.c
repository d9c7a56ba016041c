// SPDX-License-Identifier: GPL-2.0
/*
 * Freezing a task: PTRACE_SEIZE then PTRACE_INTERRUPT, never SIGSTOP, so
 * that the task and its parent see no job-control stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

static int wait_stop_timeout_ms(pid_t pid, int *status, uint64_t timeout_ms, bool quiet)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ULL;
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
			if (!quiet)
				pr_err("task %d did not stop within %.1f s\n", pid, timeout_ms / 1000.0);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Wait for the stop of PTRACE_INTERRUPT (PTRACE_EVENT_STOP with SIGTRAP).
 * A group stop (PTRACE_EVENT_STOP with a stop signal) means the task is in
 * a job-control stop: wake it with SIGCONT, which we keep from being
 * delivered so that no handler runs, and interrupt it again. Any other
 * signal is delivered, as if it had come just before the dump.
 */
/*
 * A seized tracee whose group stop is ended by SIGCONT reports a trap of
 * its own (PTRACE_EVENT_STOP with SIGTRAP, like PTRACE_INTERRUPT's): wait
 * for it rather than interrupt too, or the second trap would come later,
 * in the middle of an injected syscall. If it does not come, interrupt.
 */
#define WAKE_NOTIFY_MS 500

static int wake_stopped(pid_t pid, bool *waiting_notify)
{
	pr_info("seize: %d is in a job-control stop, waking it under ptrace\n", pid);
	/* SIGCONT ends the group stop; the tracee still waits in its trap for us */
	if (kill(pid, SIGCONT) || ptrace(PTRACE_CONT, pid, NULL, NULL)) {
		pr_perror("can't wake stopped task %d", pid);
		return -errno;
	}
	*waiting_notify = true;
	return 0;
}

static int wait_interrupt_stop(pid_t pid, unsigned timeout, bool *was_stopped)
{
	bool waiting_notify = false;
	int status, i, sig, ret;

	for (i = 0; i < SEIZE_SIGNAL_RETRIES; i++) {
		if (waiting_notify) {
			ret = wait_stop_timeout_ms(pid, &status, WAKE_NOTIFY_MS, true);
			waiting_notify = false;
			if (ret == -ETIMEDOUT) {
				if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
					return -errno;
				ret = wait_stop_timeout_ms(pid, &status, timeout * 1000ULL, false);
			}
		} else {
			ret = wait_stop_timeout_ms(pid, &status, timeout * 1000ULL, false);
		}
		if (ret)
			return ret;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			/* the caller decides: a tree member that exited just drops out */
			pr_info("task %d exited while being seized\n", pid);
			return -ESRCH;
		}
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_STOP && sig == SIGTRAP)
			return 0;
		if (status >> 16 == PTRACE_EVENT_STOP && is_stop_signal(sig)) {
			*was_stopped = true;
			ret = wake_stopped(pid, &waiting_notify);
			if (ret)
				return ret;
			continue;
		}
		/*
		 * A signal was being delivered: let it be, exactly as if it
		 * had arrived just before the dump, and stop again.
		 */
		pr_debug("seize: %d got signal %d while stopping, delivering it\n", pid, sig);
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)(status >> 16 ? 0 : sig)) ||
		    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
			pr_perror("can't resume %d", pid);
			return -errno;
		}
	}
	pr_err("task %d keeps receiving signals, can't stop it\n", pid);
	return -EIO;
}

/*
 * Is tid on its way out: gone, a zombie, or exiting (PF_EXITING)? An exiting
 * thread refuses PTRACE_SEIZE with EPERM and has already left its cgroup.
 * Quiet, as this only tells a race with exit from a real error.
 */
bool task_exiting(pid_t tid)
{
	unsigned long flags;
	char path[64], *buf, *p;
	bool ret = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf)
		return true;
	p = strrchr(buf, ')');
	/* after the state: ppid, pgrp, session, tty_nr, tpgid, flags */
	if (p && p[1] == ' ' && p[2] && sscanf(p + 3, "%*d %*d %*d %*d %*d %lu", &flags) == 1)
		ret = p[2] == 'Z' || p[2] == 'X' || (flags & PF_EXITING_FLAG);
	free(buf);
	return ret;
}

int seize_task_begin(pid_t pid)
{
	int err;

	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD)) {
		err = errno;
		if (err == ESRCH || (err == EPERM && task_exiting(pid)))
			return -ESRCH;
		if (err == EPERM)
			pr_err("can't seize %d: permission denied (ptrace needs CAP_SYS_PTRACE or the same user, and "
			       "ptrace_scope may forbid it)\n",
			       pid);
		else
			pr_err("can't seize %d: %s\n", pid, strerror(err));
		return -err;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
		err = errno;
		pr_perror("can't interrupt %d", pid);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		return -err;
	}
	return 0;
}

int seize_task_wait(pid_t pid, unsigned timeout, bool *was_stopped)
{
	int ret;

	*was_stopped = false;
	ret = wait_interrupt_stop(pid, timeout, was_stopped);
	if (ret) {
		if (*was_stopped)
			kill(pid, SIGSTOP);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return ret;
}

int seize_task(pid_t pid, unsigned timeout, bool *was_stopped)
{
	int ret;

	*was_stopped = false;
	ret = seize_task_begin(pid);
	return ret ?: seize_task_wait(pid, timeout, was_stopped);
}
