// SPDX-License-Identifier: GPL-2.0
/*
 * The restorer's per-thread and per-process attributes, set once the
 * memory exists (rseq, robust list and clear_tid point into it) and while
 * criu's privileges are still there (a lower nice value, SCHED_FIFO).
 * Credentials follow (restorer-creds.c), then restorer_set_final_attrs().
 */
#include <linux/prctl.h>

#include "pie-lib.h"
#include "sched-attr.h"
#include "pie-syscall.h"
#include "restorer-int.h"

#define RST_SCHED_FLAG_RESET_ON_FORK 0x01

void restorer_set_sched(struct restorer_args *args, const struct restorer_thread_state *t)
{
	struct cr_sched_attr attr = {
		.size = CR_SCHED_ATTR_SIZE_VER0,
		.sched_policy = t->sched_policy,
		.sched_flags = t->sched_reset_on_fork ? RST_SCHED_FLAG_RESET_ON_FORK : 0,
		.sched_nice = t->sched_nice,
		.sched_priority = t->sched_priority,
	};
	long ret;

	if (!(t->present & RTS_SCHED))
		return;
	ret = sys_sched_setattr(0, &attr, 0);
	if (ret) {
		pie_log(args->log_fd, "Error (restorer): sched_setattr failed for policy", t->sched_policy);
		restorer_fail(args, RESTORE_EXIT_SCHED, "Error (restorer): sched_setattr returned", ret);
	}
}

/* After the scheduling policy: a change of policy resets the slack. */
static void set_timer_slack(struct restorer_args *args, const struct restorer_thread_state *t)
{
	long ret;

	/* 0 would mean "the default" to PR_SET_TIMERSLACK; realtime threads report 0. */
	if (!(t->present & RTS_TIMER_SLACK) || !t->timer_slack_ns)
		return;
	ret = sys_prctl(PR_SET_TIMERSLACK, t->timer_slack_ns, 0, 0, 0);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_PRCTL, "Error (restorer): PR_SET_TIMERSLACK failed:", ret);
}

void restorer_set_thread_state(struct restorer_args *args, const struct restorer_thread_state *t)
{
	long ret;

	if (t->present & RTS_CLEAR_TID)
		sys_set_tid_address(t->clear_tid_addr); /* returns the tid, never fails */
	if (t->present & RTS_ROBUST_LIST) {
		ret = sys_set_robust_list(t->robust_head, t->robust_len);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_THREAD_STATE,
				      "Error (restorer): set_robust_list failed:", ret);
	}
	set_timer_slack(args, t);
}

/* Last of all before rt_sigreturn: the kernel writes into the area from now on. */
void restorer_register_rseq(struct restorer_args *args, const struct restorer_thread_state *t)
{
	long ret;

	if (!(t->present & RTS_RSEQ))
		return;
	ret = sys_rseq(t->rseq_pointer, t->rseq_size, 0, t->rseq_signature);
	if (ret) {
		pie_log(args->log_fd, "Error (restorer): can't register the rseq area at", t->rseq_pointer);
		restorer_fail(args, RESTORE_EXIT_THREAD_STATE, "Error (restorer): rseq returned", ret);
	}
}

void restorer_set_rlimits(struct restorer_args *args)
{
	const struct restorer_task_attrs *ta = &args->task;
	uint32_t i;
	long ret;

	for (i = 0; i < ta->nr_rlimits && i < RESTORER_NR_RLIMITS; i++) {
		ret = sys_prlimit64(0, i, &ta->rlimits[i], 0);
		if (ret) {
			pie_log(args->log_fd, "Error (restorer): prlimit64 failed for resource", i);
			restorer_fail(args, RESTORE_EXIT_RLIMIT, "Error (restorer): prlimit64 returned", ret);
		}
	}
}

/*
 * After the credentials, which reset dumpable. PR_SET_DUMPABLE takes only
 * 0 and 1: a task dumpable 2 (suid_dumpable) keeps what the credential
 * change gave it, which is the same sysctl. Dumpable belongs to the memory,
 * which all threads share: the leader sets it once every thread has
 * changed its credentials.
 */
void restorer_set_dumpable(struct restorer_args *args)
{
	long ret;

	if (args->creds.dumpable != 0 && args->creds.dumpable != 1)
		return;
	ret = sys_prctl(PR_SET_DUMPABLE, args->creds.dumpable, 0, 0, 0);
	if (ret)
		restorer_fail(args, RESTORE_EXIT_PRCTL, "Error (restorer): PR_SET_DUMPABLE failed:", ret);
}

/*
 * After the credentials, which reset the calling thread's pdeathsig. Both
 * attributes belong to the thread, not the process: every thread sets them.
 */
void restorer_set_final_attrs(struct restorer_args *args)
{
	long ret;

	if (args->task.pdeathsig >= 0) {
		ret = sys_prctl(PR_SET_PDEATHSIG, args->task.pdeathsig, 0, 0, 0);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_PRCTL, "Error (restorer): PR_SET_PDEATHSIG failed:", ret);
	}
	if (args->creds.present && args->creds.no_new_privs) {
		ret = sys_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (ret)
			restorer_fail(args, RESTORE_EXIT_CREDS, "Error (restorer): PR_SET_NO_NEW_PRIVS failed:", ret);
	}
}
