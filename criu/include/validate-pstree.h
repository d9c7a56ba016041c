/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_VALIDATE_PSTREE_H
#define CR_VALIDATE_PSTREE_H

#include <stddef.h>
#include <stdint.h>

#include "pstree.pb-c.h"

struct validate_env;

/* The tree's shape: ranges, unique ids, parents before children, sessions and groups. */
int validate_pstree_shape(PstreeEntry *const *entries, size_t nr, uint32_t root_pid, const struct validate_env *env);
/* Zombies: not the root, one thread, no children, a status a process can end with. */
int validate_pstree_zombies(PstreeEntry *const *entries, size_t nr);
/* Every pid and tid of the tree is free on this machine (a zombie holds its pid too). */
int validate_pstree_ids_free(PstreeEntry *const *entries, size_t nr);

#endif
