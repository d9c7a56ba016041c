/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SCHED_ATTR_H
#define CR_SCHED_ATTR_H

/*
 * The kernel's struct sched_attr up to SCHED_ATTR_SIZE_VER1: glibc 2.36 has
 * neither the struct nor sched_getattr/sched_setattr wrappers. Freestanding:
 * the restorer blob uses it too.
 */
#include <stdint.h>

#define CR_SCHED_ATTR_SIZE_VER0 48
#define CR_SCHED_ATTR_SIZE_VER1 56

struct cr_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min; /* VER1 */
	uint32_t sched_util_max;
};

#endif
