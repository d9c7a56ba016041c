// SPDX-License-Identifier: GPL-2.0
/*
 * Per-thread state besides registers. The dumper reads what another task
 * may read from outside (rseq by ptrace, the robust list, sched_getattr);
 * the parasite tells the rest (sigaltstack, clear_child_tid, timer slack).
 * The restorer sets all of it in the thread just before rt_sigreturn.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sched-attr.h"
#include "thread-state.h"

#define SCHED_ATTR_FLAG_RESET_ON_FORK 0x01

static int read_rseq(pid_t tid, struct dump_thread_state *t)
{
	struct __ptrace_rseq_configuration conf = {};

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(conf), &conf) < 0) {
		pr_perror("can't read the rseq configuration of thread %d", tid);
		return -errno;
	}
	t->has_rseq = conf.rseq_abi_pointer != 0;
	t->rseq_pointer = conf.rseq_abi_pointer;
	t->rseq_size = conf.rseq_abi_size;
	t->rseq_signature = conf.signature;
	t->rseq_flags = conf.flags;
	return 0;
}

static int read_robust_list(pid_t tid, struct dump_thread_state *t)
{
	void *head = NULL;
	size_t len = 0;

	if (syscall(SYS_get_robust_list, tid, &head, &len)) {
		pr_perror("can't read the robust futex list of thread %d", tid);
		return -errno;
	}
	t->robust_head = (uintptr_t)head;
	t->robust_len = len;
	return 0;
}

static int read_sched(pid_t tid, struct dump_thread_state *t)
{
	struct cr_sched_attr attr = {};

	if (syscall(SYS_sched_getattr, tid, &attr, sizeof(attr), 0)) {
		pr_perror("can't read the scheduling policy of thread %d", tid);
		return -errno;
	}
	if (attr.sched_policy == SCHED_DEADLINE) {
		pr_err("thread %d runs under SCHED_DEADLINE: not supported yet\n", tid);
		return -ENOTSUP;
	}
	t->sched_policy = attr.sched_policy;
	t->sched_priority = attr.sched_priority;
	t->sched_nice = attr.sched_nice;
	t->sched_reset_on_fork = attr.sched_flags & SCHED_ATTR_FLAG_RESET_ON_FORK;
	return 0;
}

int thread_state_collect(pid_t tid, struct dump_thread_state *t)
{
	int ret;

	memset(t, 0, sizeof(*t));
	ret = read_rseq(tid, t);
	ret = ret ?: read_robust_list(tid, t);
	ret = ret ?: read_sched(tid, t);
	return ret;
}

void thread_state_to_image(const struct dump_thread_state *t, struct thread_state_image *img, ThreadCoreEntry *e)
{
	const struct parasite_thread_state *p = &t->from_parasite;

	if (t->has_rseq) {
		rseq_entry__init(&img->rseq);
		img->rseq.abi_pointer = t->rseq_pointer;
		img->rseq.abi_size = t->rseq_size;
		img->rseq.signature = t->rseq_signature;
		img->rseq.has_flags = true;
		img->rseq.flags = t->rseq_flags;
		e->rseq = &img->rseq;
	}
	sigaltstack_entry__init(&img->altstack);
	img->altstack.sp = p->altstack_sp;
	img->altstack.size = p->altstack_size;
	img->altstack.flags = p->altstack_flags;
	e->sigaltstack = &img->altstack;
	e->has_clear_tid_addr = true;
	e->clear_tid_addr = p->clear_tid_addr;
	robust_list_entry__init(&img->robust);
	img->robust.head = t->robust_head;
	img->robust.len = t->robust_len;
	e->robust_list = &img->robust;
	sched_entry__init(&img->sched);
	img->sched.policy = t->sched_policy;
	img->sched.priority = t->sched_priority;
	img->sched.nice = t->sched_nice;
	img->sched.has_reset_on_fork = true;
	img->sched.reset_on_fork = t->sched_reset_on_fork;
	e->sched = &img->sched;
	e->has_timer_slack_ns = true;
	e->timer_slack_ns = p->timer_slack_ns;
}

void thread_state_fill_restorer(const ThreadCoreEntry *e, struct restorer_thread_state *rts)
{
	memset(rts, 0, sizeof(*rts));
	if (e->rseq) {
		rts->present |= RTS_RSEQ;
		rts->rseq_pointer = e->rseq->abi_pointer;
		rts->rseq_size = e->rseq->abi_size;
		rts->rseq_signature = e->rseq->signature;
		rts->rseq_flags = e->rseq->flags;
	}
	if (e->has_clear_tid_addr) {
		rts->present |= RTS_CLEAR_TID;
		rts->clear_tid_addr = e->clear_tid_addr;
	}
	if (e->robust_list) {
		rts->present |= RTS_ROBUST_LIST;
		rts->robust_head = e->robust_list->head;
		rts->robust_len = e->robust_list->len;
	}
	if (e->sched) {
		rts->present |= RTS_SCHED;
		rts->sched_policy = e->sched->policy;
		rts->sched_priority = e->sched->priority;
		rts->sched_nice = e->sched->nice;
		rts->sched_reset_on_fork = e->sched->reset_on_fork;
	}
	if (e->has_timer_slack_ns) {
		rts->present |= RTS_TIMER_SLACK;
		rts->timer_slack_ns = e->timer_slack_ns;
	}
}

void thread_state_fill_sigframe(const ThreadCoreEntry *e, struct rt_sigframe *frame)
{
	if (!e->sigaltstack)
		return;
	frame->uc.uc_stack.ss_sp = e->sigaltstack->sp;
	frame->uc.uc_stack.ss_size = e->sigaltstack->size;
	frame->uc.uc_stack.ss_flags = (int32_t)e->sigaltstack->flags;
}
