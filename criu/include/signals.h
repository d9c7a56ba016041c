/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SIGNALS_H
#define CR_SIGNALS_H

/*
 * Signals and timers that the images can't carry yet (pending signals,
 * interval and POSIX timers): a dump that would lose them is refused, by
 * name, instead of restoring a process that silently lost them.
 */
#include <stdbool.h>

struct pstree_item;
struct parasite_misc;

/* Pending signals of every thread; our own wake-up SIGCONT of a stopped task is not the task's. */
int signals_check_pending(const struct pstree_item *item);
/* POSIX timers, from /proc/PID/timers. */
int timers_check_posix(const struct pstree_item *item);
/* Interval timers, as the parasite read them. */
int timers_check_itimers(const struct pstree_item *item, const struct parasite_misc *misc);

#endif
