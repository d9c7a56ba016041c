/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_POSIX_TIMERS_H
#define CR_POSIX_TIMERS_H

#include <stddef.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct infect_ctx;

struct posix_timers_dump {
	PosixTimerEntry *entries;
	PosixTimerEntry **ptrs;
	size_t nr;
};

/* What /proc/PID/timers says of each timer; nr_threads: the process's. */
int posix_timers_collect(pid_t pid, size_t nr_threads, struct posix_timers_dump *pt);
/* What each has left, its interval and overrun, asked of the task. */
int posix_timers_from_parasite(struct infect_ctx *ic, pid_t pid, struct posix_timers_dump *pt);
void posix_timers_to_image(struct posix_timers_dump *pt, TaskCoreEntry *core);
void posix_timers_free(struct posix_timers_dump *pt);

#endif
