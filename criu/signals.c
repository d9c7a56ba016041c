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

int signals_check_pending(const struct pstree_item *item)
{
	uint64_t ours = item->was_stopped ? SIGBIT(SIGCONT) : 0;
	uint64_t pending;
	char *buf;
	size_t i;

	for (i = 0; i < item->nr_threads; i++) {
		buf = read_task_status(item->pid, item->threads[i]);
		if (!buf)
			return -EIO;
		pending = (proc_status_hex(buf, "SigPnd") | proc_status_hex(buf, "ShdPnd")) & ~ours;
		pending &= ~pending_only_because_traced(buf);
		free(buf);
		if (pending) {
			pr_err("thread %d of process %d has pending signals (mask 0x%llx): dumping pending signals is "
			       "not supported yet\n",
			       item->threads[i], item->pid, (unsigned long long)pending);
			return -ENOTSUP;
		}
	}
	return 0;
}

int timers_check_posix(const struct pstree_item *item)
{
	char path[64], *buf;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/timers", item->pid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (buf && buf[0]) {
		pr_err("process %d has POSIX timers (timer_create): they are not supported yet\n", item->pid);
		ret = -ENOTSUP;
	}
	free(buf);
	return ret;
}

int timers_check_itimers(const struct pstree_item *item, const struct parasite_misc *misc)
{
	static const char *const names[PARASITE_NR_ITIMERS] = { "ITIMER_REAL (alarm, setitimer)", "ITIMER_VIRTUAL",
								"ITIMER_PROF" };
	int i;

	for (i = 0; i < PARASITE_NR_ITIMERS; i++) {
		const struct parasite_itimer *t = &misc->itimers[i];

		if (t->value_sec || t->value_usec || t->interval_sec || t->interval_usec) {
			pr_err("process %d has an armed %s timer: interval timers are not supported yet\n", item->pid,
			       names[i]);
			return -ENOTSUP;
		}
	}
	return 0;
}
