/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_RLIMITS_H
#define CR_RLIMITS_H

/* Resource limits: read from /proc/PID/limits by the dumper, set by the restorer. */
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "restorer-args.h"

struct dump_rlimits {
	size_t nr;
	RlimitEntry entries[RESTORER_NR_RLIMITS];
	RlimitEntry *ptrs[RESTORER_NR_RLIMITS];
};

int rlimits_collect(pid_t pid, struct dump_rlimits *r);
/* core->rlimits point into r: r must outlive core. */
void rlimits_to_image(struct dump_rlimits *r, TaskCoreEntry *core);
void rlimits_fill_restorer(const TaskCoreEntry *core, struct restorer_task_attrs *ta);

#endif
