/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CORE_H
#define CR_CORE_H

#include <stdbool.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "creds.h"
#include "parasite.h"
#include "rlimits.h"
#include "thread-state.h"
#include "threads.h"

struct infect_ctx;
struct proc_stat;

/* What the dumper and the parasite tell about a task besides registers, signals and memory. */
struct task_state_dump {
	struct dump_creds creds;
	struct dump_rlimits rlimits;
	struct parasite_task_attrs attrs;
	struct dump_thread_state thread;
	bool has_ctty_pty; /* its controlling terminal is the slave of the tree's pty ctty_pty */
	uint32_t ctty_pty;
};

/* Read what the dumper itself can read of the stopped task; refuses seccomp. */
int task_state_collect(pid_t pid, struct task_state_dump *ts);
/* Ask the parasite for the rest. */
int task_state_from_parasite(struct infect_ctx *ic, pid_t pid, struct task_state_dump *ts);
void task_state_free(struct task_state_dump *ts);

/* Write core-PID.img: registers, FPU state, signal state and misc of a task. */
struct signals_dump;
struct posix_timers_dump;
struct ldt_dump;

/* What a process's core image is made of, gathered by the dump. */
struct core_sources {
	const struct infect_ctx *ic;
	const struct parasite_misc *misc;
	const struct proc_stat *st;
	const struct task_state_dump *ts;
	const struct signals_dump *sig;
	struct posix_timers_dump *timers;
	struct ldt_dump *ldt;
	const struct threads_dump *threads;
	bool stopped;
};

int core_dump_task(int imgdir_fd, pid_t pid, const struct core_sources *src);
void core_regs_to_entry(const struct x86_user_regs *r, UserRegsX86Entry *e);

#endif
