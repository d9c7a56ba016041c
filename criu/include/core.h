/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CORE_H
#define CR_CORE_H

#include <stdbool.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "parasite.h"

struct infect_ctx;
struct proc_stat;

/* Write core-PID.img: registers, FPU state, signal state and misc of a task. */
int core_dump_task(int imgdir_fd, pid_t pid, const struct infect_ctx *ic, const struct parasite_misc *misc,
		   const struct proc_stat *st, bool stopped);

#endif
