// SPDX-License-Identifier: GPL-2.0
/*
 * Pending signals and timers are not in the images yet: refuse a dump that
 * would restore a process without them, naming the process and what it has.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parasite.h"
#include "proc-parse.h"
#include "pstree.h"
#include "signals.h"
#include "util.h"
#include <sys/ptrace.h>
#include <linux/ptrace.h>

#define SIGBIT(sig) (1ULL << ((sig)-1))

/*
 * An ignored signal (SIG_IGN, or SIG_DFL with an ignoring default) that is
 * not blocked is dropped when sent, except to a traced task: such a
 * signal is pending only because criu traces the task (a child that
 * exited while the tree was being seized sends SIGCHLD). Not restoring it
 * is what the kernel would have done. Checked against every thread's mask.
 */
static uint64_t pending_only_because_traced(const char *status)
{
	const uint64_t dfl_ignored = SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | SIGBIT(SIGCONT);
	uint64_t ign = proc_status_hex(status, "SigIgn"), cgt = proc_status_hex(status, "SigCgt");

	return (ign | (dfl_ignored & ~cgt)) & ~proc_status_hex(status, "SigBlk");
}

/* Our own wake-up SIGCONT of a stopped task, and what only tracing kept: not the task's. */
static uint64_t not_the_tasks(const struct pstree_item *item, const char *status)
{
	return (item->was_stopped ? SIGBIT(SIGCONT) : 0) | pending_only_because_traced(status);
}

static int peek_queue(pid_t tid, bool shared, uint64_t skip, struct pending_sigs *q)
{
	struct ptrace_peeksiginfo_args a = { .flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0, .nr = 32 };
	uint8_t buf[32 * SIGINFO_SIZE];
	long n, i;

	for (;;) {
		n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf);
		if (n < 0) {
			pr_perror("can't peek at the signals queued for %d", tid);
			return -errno;
		}
		if (!n)
			return 0;
		for (i = 0; i < n; i++) {
			const uint8_t *si = buf + i * SIGINFO_SIZE;
			int signo = *(const int *)si;
			ProtobufCBinaryData *m;

			if (signo < 1 || signo > 64 || (skip & SIGBIT(signo)))
				continue;
			m = xrealloc(q->si, (q->nr + 1) * sizeof(*m));
			if (!m)
				return -ENOMEM;
			q->si = m;
			m[q->nr].data = xmalloc(SIGINFO_SIZE);
			if (!m[q->nr].data)
				return -ENOMEM;
			memcpy(m[q->nr].data, si, SIGINFO_SIZE);
			m[q->nr].len = SIGINFO_SIZE;
			q->nr++;
		}
		a.off += n;
	}
}

int signals_collect_pending(const struct pstree_item *item, struct signals_dump *sd)
{
	uint64_t skip_shared = ~0ULL;
	size_t i;
	int ret = 0;

	sd->queues = xzalloc((item->nr_threads + 1) * sizeof(*sd->queues));
	if (!sd->queues)
		return -ENOMEM;
	sd->nr = item->nr_threads + 1;
	for (i = 0; i < item->nr_threads && !ret; i++) {
		char *buf = read_task_status(item->pid, item->threads[i]);
		uint64_t skip;

		if (!buf)
			return -EIO;
		skip = not_the_tasks(item, buf);
		/* a signal the kernel would have dropped had no thread been traced */
		skip_shared &= skip;
		free(buf);
		sd->queues[i + 1].tid = item->threads[i];
		ret = peek_queue(item->threads[i], false, skip, &sd->queues[i + 1]);
	}
	ret = ret ?: peek_queue(item->pid, true, skip_shared, &sd->queues[0]);
	for (i = 0; i < sd->nr && !ret; i++)
		if (sd->queues[i].nr)
			pr_info("process %d: %zu signals queued for %s %d\n", item->pid, sd->queues[i].nr,
				i ? "thread" : "the process", i ? sd->queues[i].tid : item->pid);
	return ret;
}

const struct pending_sigs *signals_pending_of(const struct signals_dump *sd, pid_t tid)
{
	size_t i;

	for (i = 1; i < sd->nr; i++)
		if (sd->queues[i].tid == tid)
			return &sd->queues[i];
	return NULL;
}

void signals_dump_free(struct signals_dump *sd)
{
	size_t i, j;

	for (i = 0; i < sd->nr; i++) {
		for (j = 0; j < sd->queues[i].nr; j++)
			free(sd->queues[i].si[j].data);
		free(sd->queues[i].si);
	}
	free(sd->queues);
	sd->queues = NULL;
	sd->nr = 0;
}
