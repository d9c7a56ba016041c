/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_THREADS_H
#define CR_THREADS_H

/*
 * The threads of a process other than its leader, on the dump side: each
 * one's registers, FPU state, signal mask and per-thread state. (The
 * restorer recreates them; see restorer-args.h.)
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "sigframe.h"
#include "thread-state.h"

struct infect_ctx;
struct pstree_item;

struct thread_dump {
	pid_t tid;
	struct x86_user_regs regs;
	uint8_t *xsave;
	uint32_t xsave_size;
	uint64_t sigmask;
	char comm[32];
	struct dump_thread_state state;
};

struct threads_dump {
	struct thread_dump *t;
	size_t nr;
};

/* Image messages the ThreadCoreEntry of each thread points to. */
struct threads_image {
	ThreadCoreEntry *entries;
	ThreadCoreEntry **ptrs;
	UserRegsX86Entry *regs;
	struct thread_state_image *state;
};

/*
 * Collect every thread of item but the leader. The parasite must be in the
 * leader: its shared area is the scratch memory for what each thread is
 * asked through injected syscalls. Each thread is left as it was found.
 */
int threads_collect(struct infect_ctx *leader, const struct pstree_item *item, struct threads_dump *td);
int threads_to_image(const struct threads_dump *td, TaskCoreEntry *core, struct threads_image *img);
void threads_image_free(struct threads_image *img);
void threads_dump_free(struct threads_dump *td);

#endif
