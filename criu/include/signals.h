/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SIGNALS_H
#define CR_SIGNALS_H

/*
 * Pending signals (queued again on restore) and timers that the images
 * can't carry yet (interval and POSIX timers: refused by name, instead of
 * restoring a process that silently lost them).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <protobuf-c/protobuf-c.h>

struct pstree_item;
struct parasite_misc;

#define SIGINFO_SIZE 128

/* The signals queued for one thread (or the process), each a siginfo_t. */
struct pending_sigs {
	pid_t tid; /* 0: the process's shared queue */
	ProtobufCBinaryData *si;
	size_t nr;
};

struct signals_dump {
	struct pending_sigs *queues; /* [0] the shared queue, then one per thread */
	size_t nr;
};

/*
 * Every queued signal of every thread and of the process, with its
 * siginfo (PTRACE_PEEKSIGINFO: nothing is dequeued). Signals pending only
 * because criu traces the task, and our own wake-up SIGCONT of a stopped
 * task, are not the task's: left out.
 */
int signals_collect_pending(const struct pstree_item *item, struct signals_dump *sd);
const struct pending_sigs *signals_pending_of(const struct signals_dump *sd, pid_t tid);
void signals_dump_free(struct signals_dump *sd);

#endif
