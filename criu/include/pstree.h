/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_PSTREE_H
#define CR_PSTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "seize.h"

struct pstree_item {
	pid_t pid, ppid, pgid, sid;
	pid_t *threads; /* the leader first */
	size_t nr_threads, threads_cap;
	bool zombie;
	int exit_status;  /* of a zombie, as waitpid() would give it */
	bool was_stopped; /* in a job-control stop when seized */
	struct pstree_item *parent;
};

/* The dumped tree: every process, parents before their children. */
struct pstree {
	struct pstree_item **items;
	size_t nr, cap;
	size_t nr_threads; /* seized threads, all processes together */
};

struct freezer;

/*
 * Seize root and all its descendants, every thread of each, until a pass
 * over the stopped tree finds nothing new. With fz (--freeze-cgroup), the
 * tree is first walked and interrupted while its cgroup is frozen; every
 * process of it must be in that cgroup. On failure nothing stays seized.
 */
int pstree_seize(pid_t root, unsigned timeout, struct freezer *fz, struct pstree *tree);
/* Let every seized thread go: run on, stay stopped, or be killed. */
void pstree_unseize(struct pstree *tree, enum unseize_mode mode);
struct pstree_item *pstree_find(const struct pstree *tree, pid_t pid);
void pstree_free(struct pstree *tree);

#endif
