/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_FREEZER_H
#define CR_FREEZER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct compel_journal;

/*
 * --freeze-cgroup PATH: a cgroup (v1 freezer or v2) holding the whole tree.
 * It is frozen while the tree is walked and seized, so that nothing in it
 * can fork, clone or exit meanwhile, and thawed before criu waits for the
 * seized tasks to stop. Other tasks of the cgroup are only frozen for that
 * moment. Criu's guard thaws it if criu dies while it is frozen.
 */
struct freezer {
	const char *path;
	int dirfd; /* the cgroup directory */
	bool v2;   /* cgroup.freeze and cgroup.events, else freezer.state */
	bool frozen;
	pid_t *tids; /* every thread of the cgroup and of those below it, sorted */
	size_t nr_tids, tids_cap;
	struct compel_journal *journal;
};

/* Open PATH, which must be a freezer cgroup. Nothing is changed yet. */
int freezer_open(struct freezer *fz, const char *path, struct compel_journal *journal);
/*
 * Freeze the cgroup, waiting at most timeout seconds until every task in it
 * is frozen. Refused if it is frozen already or holds criu itself. On
 * failure it is thawed again.
 */
int freezer_freeze(struct freezer *fz, unsigned timeout);
int freezer_thaw(struct freezer *fz);
/* Is thread tid in the cgroup or one below it? */
bool freezer_has_thread(struct freezer *fz, pid_t tid);
/*
 * Would PTRACE_SEIZE of process pid block until the thaw? Under the v1
 * freezer it waits for a task in a job-control stop to re-trap, which a
 * frozen task can't do: such a process is seized after the thaw instead.
 */
bool freezer_seize_blocks(const struct freezer *fz, pid_t pid);
/* Thaw if still frozen, and free everything. */
void freezer_close(struct freezer *fz);

#endif
