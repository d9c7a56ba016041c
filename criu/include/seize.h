/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SEIZE_H
#define CR_SEIZE_H

#include <stdbool.h>
#include <sys/types.h>

enum unseize_mode {
	UNSEIZE_RUN,  /* let the task go on as before */
	UNSEIZE_STOP, /* leave it stopped (--leave-stopped) */
	UNSEIZE_KILL, /* kill it (the default after a successful dump) */
};

/* Check that pid can be dumped at all, with a clear message if not. */
int seize_check_target(pid_t pid);
/*
 * PTRACE_SEIZE + PTRACE_INTERRUPT, waiting at most timeout seconds. A task
 * in a job-control stop is woken under ptrace (it must run the parasite)
 * and *was_stopped is set: pstree_unseize() puts it back in its stop.
 */
int seize_task(pid_t pid, unsigned timeout, bool *was_stopped);
/*
 * seize_task() in two steps, for a task in a frozen cgroup: it takes the
 * interrupt only once thawed (cgroup v1), so all are interrupted first and
 * waited for after the thaw. seize_task_begin() returns -ESRCH for a task
 * gone or exiting; seize_task_wait() lets the task go if it fails.
 */
int seize_task_begin(pid_t pid);
int seize_task_wait(pid_t pid, unsigned timeout, bool *was_stopped);
/* tid is gone, a zombie or exiting (quiet: for races with exit) */
bool task_exiting(pid_t tid);

#endif
