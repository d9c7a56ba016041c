/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_CLONE3_H
#define CR_CLONE3_H

/*
 * clone3(2) with set_tid, spelled out here because libc headers of older
 * distributions lack struct clone_args and a clone3 wrapper.
 */
#include <stdint.h>
#include "clone-args.h"
#include <unistd.h>
#include <sys/syscall.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif

/*
 * Fork-like: no new stack, so the child returns 0 on a copy of the
 * caller's. Returns the child's pid, 0 in the child, -1 with errno.
 */
static inline pid_t clone3_with_pid(pid_t pid, int exit_signal)
{
	struct cr_clone_args args = {
		.exit_signal = (uint64_t)exit_signal,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};

	return syscall(__NR_clone3, &args, sizeof(args));
}

#endif
