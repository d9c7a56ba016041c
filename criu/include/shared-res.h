/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_SHARED_RES_H
#define CR_SHARED_RES_H

#include <stddef.h>
#include <sys/types.h>

/* Refuse processes of the tree (live ones) that share memory, fd table, fs or handlers. */
int check_shared_task_resources(const pid_t *tree, size_t nr);
/* Refuse live processes of the tree that share one of those with a process outside it (out). */
int check_task_resources_outside(const pid_t *tree, size_t nr, const pid_t *out, size_t nr_out);

#endif
