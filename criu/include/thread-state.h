/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_THREAD_STATE_H
#define CR_THREAD_STATE_H

/*
 * Per-thread state besides registers: rseq registration, alternate signal
 * stack, clear_child_tid, robust futex list, scheduling policy and nice,
 * timer slack. One of these per thread.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "parasite.h"
#include "restorer-args.h"
#include "sigframe.h"

struct dump_thread_state {
	bool has_rseq;
	uint64_t rseq_pointer;
	uint32_t rseq_size, rseq_signature, rseq_flags;
	uint64_t robust_head, robust_len;
	uint32_t sched_policy, sched_priority;
	int32_t sched_nice;
	bool sched_reset_on_fork;
	struct parasite_thread_state from_parasite; /* sigaltstack, clear_tid, timer slack */
};

/* Image messages a ThreadCoreEntry points to. */
struct thread_state_image {
	RseqEntry rseq;
	SigaltstackEntry altstack;
	RobustListEntry robust;
	SchedEntry sched;
};

/* What the dumper reads itself, from the stopped thread tid. */
int thread_state_collect(pid_t tid, struct dump_thread_state *t);
/* e points into img: img must outlive e. */
void thread_state_to_image(const struct dump_thread_state *t, struct thread_state_image *img, ThreadCoreEntry *e);

void thread_state_fill_restorer(const ThreadCoreEntry *e, struct restorer_thread_state *rts);
/* rt_sigreturn sets the alternate signal stack from the frame. */
void thread_state_fill_sigframe(const ThreadCoreEntry *e, struct rt_sigframe *frame);

#endif
