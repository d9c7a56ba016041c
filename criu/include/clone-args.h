/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CLONE_ARGS_H
#define CR_CLONE_ARGS_H

/*
 * The kernel's struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1),
 * spelled out because older libc headers lack it. Freestanding: the
 * restorer blob uses it too.
 */
#include <stdint.h>

struct cr_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
};

#endif
