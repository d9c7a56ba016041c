// SPDX-License-Identifier: GPL-2.0
/*
 * Controlling terminals. A session leader takes a terminal (TIOCSCTTY)
 * and the processes it forks afterwards inherit it; a member may drop it
 * (TIOCNOTTY); the terminal has a foreground group of the session
 * (TIOCSPGRP). Closing every fd of the terminal does not drop it.
 *
 * Dump: each process's terminal is tty_nr of /proc/PID/stat. It is either
 * the slave of a pair of the tree whose session (TIOCGSID on the master)
 * is the process's, recorded in core-PID.img by the pair's pts number, or
 * the terminal of a session criu does not restore (the root's, when the
 * root does not lead it or with --shell-job: the restored tree joins
 * criu's session and terminal). Anything else is refused, and so is a
 * pair that is the terminal of a session whose leader is not in the tree,
 * or whose foreground group is no group of the tree.
 *
 * Restore: the leader takes the terminal right after its setsid(),
 * before it forks the processes born in the new session, which inherit
 * it; criu's open of the slave (tty-pty.c), inherited by every process,
 * is the fd it uses. Once every group exists, the leader sets the
 * foreground group and every other process of the session that had no
 * terminal drops it.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "restore.h"
#include "tty.h"

/* ---- dump ---- */

static const struct ctty_proc *find_proc(const struct ctty_proc *procs, size_t nr, pid_t pid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

/* The root's session is criu's after restore unless the root leads it (and no --shell-job). */
static bool session_restored(const struct ctty_proc *procs, pid_t sid, bool shell_job)
{
	return sid != procs[0].sid || (procs[0].sid == procs[0].pid && !shell_job);
}

static int proc_ctty(struct file_desc_table *t, struct ctty_proc *p, const struct ctty_proc *procs, bool shell_job)
{
	unsigned int maj = major(p->tty_nr), min = minor(p->tty_nr);
	const PtyPairEntry *pp = maj == PTS_MAJOR ? pty_dump_pair(t, min) : NULL;

	p->ctty_pty = -1;
	if (p->zombie || !p->tty_nr)
		return 0;
	if (pp && pp->has_sid && pp->sid == (uint32_t)p->sid) {
		p->ctty_pty = min;
		return 0;
	}
	if (!session_restored(procs, p->sid, shell_job))
		return 0;
	pr_err("process %d has terminal %u:%u as its controlling terminal, which is no pty of the dumped tree (nor "
	       "the terminal of the shell's session with --shell-job): not supported yet\n",
	       p->pid, maj, min);
	return -ENOTSUP;
}

static int check_pair_session(const PtyPairEntry *pp, uint32_t index, const struct ctty_proc *procs, size_t nr,
			      bool shell_job)
{
	const struct ctty_proc *leader = find_proc(procs, nr, pp->sid);
	size_t i;

	if (!leader || leader->zombie || leader->ctty_pty != (int32_t)index) {
		pr_err("pty /dev/pts/%u of the tree is the controlling terminal of session %u, whose leader is not in "
		       "the dumped tree: it can't be restored faithfully\n",
		       index, pp->sid);
		return -ENOTSUP;
	}
	if (!session_restored(procs, pp->sid, shell_job)) {
		pr_err("pty /dev/pts/%u of the tree is the controlling terminal of the root's session %u, which "
		       "restore with --shell-job does not make again: not supported\n",
		       index, pp->sid);
		return -ENOTSUP;
	}
	for (i = 0; i < nr; i++)
		if (procs[i].pgid == (pid_t)pp->pgrp && procs[i].sid == (pid_t)pp->sid)
			return 0;
	pr_err("pty /dev/pts/%u of the tree has foreground group %u, which no process of the dumped tree is in: not "
	       "supported\n",
	       index, pp->pgrp);
	return -ENOTSUP;
}

int tty_dump_cttys(struct file_desc_table *t, struct ctty_proc *procs, size_t nr, bool shell_job)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < nr && !ret; i++)
		ret = proc_ctty(t, &procs[i], procs, shell_job);
	for (i = 0; i < pty_dump_nr(t) && !ret; i++) {
		uint32_t index;
		const PtyPairEntry *pp = pty_dump_nth(t, i, &index);

		if (pp && pp->has_sid)
			ret = check_pair_session(pp, index, procs, nr, shell_job);
	}
	return ret;
}

/* ---- validation ---- */

/* Masters and slaves: one master per pts number, a slave only of a master whose slave was opened. */
static int validate_pty_entries(const struct file_set *set)
{
	size_t i, j;

	for (i = 0; i < set->nr_files; i++) {
		const PtyEntry *p = set->files[i]->pty;
		const PtyPairEntry *pp;

		if (!p)
			continue;
		for (j = 0; p->pair && j < i; j++) {
			const PtyEntry *q = set->files[j]->pty;

			if (q && q->pair && q->index == p->index) {
				pr_err("files.img: pty %u has two masters (ids %u and %u)\n", p->index, q->id, p->id);
				return -EINVAL;
			}
		}
		pp = pty_restore_pair(set, p->index);
		if (!pp || (!p->pair && !pp->slave_opened)) {
			pr_err("files.img: slave of pty %u (id %u) has no master whose slave was opened\n", p->index,
			       p->id);
			return -EINVAL;
		}
	}
	return 0;
}

static int validate_task_ctty(const struct restore_tree *tree, const struct restore_task *rt)
{
	const PtyPairEntry *pp = pty_restore_pair(&tree->files, rt->core->ctty_pty);
	const struct restore_task *leader;

	if (!pp || !pp->has_sid || pp->sid != rt->pstree->sid) {
		pr_err("core-%d.img: ctty_pty %u is not a pty of files.img that is the terminal of session %u\n",
		       rt->pid, rt->core->ctty_pty, rt->pstree->sid);
		return -EINVAL;
	}
	leader = restore_tree_find(tree, pp->sid);
	if (!leader || leader->zombie || !leader->plan.do_setsid || !leader->core->has_ctty_pty ||
	    leader->core->ctty_pty != rt->core->ctty_pty) {
		pr_err("core-%d.img: ctty_pty %u: the leader of session %u is not restored with that terminal\n",
		       rt->pid, rt->core->ctty_pty, pp->sid);
		return -EINVAL;
	}
	return 0;
}

static int validate_pair_session(const struct restore_tree *tree, const PtyEntry *p)
{
	const struct restore_task *leader = restore_tree_find(tree, p->pair->sid);
	size_t i;

	if (!leader || leader->zombie || !leader->core->has_ctty_pty || leader->core->ctty_pty != p->index) {
		pr_err("files.img: pty %u is the terminal of session %u, whose leader is not restored with it\n",
		       p->index, p->pair->sid);
		return -EINVAL;
	}
	for (i = 0; i < tree->nr; i++)
		if (tree->entries[i]->pgid == p->pair->pgrp && tree->entries[i]->sid == p->pair->sid)
			return 0;
	pr_err("files.img: pty %u has foreground group %u, which is no group of session %u in pstree.img\n", p->index,
	       p->pair->pgrp, p->pair->sid);
	return -EINVAL;
}

int tty_validate_tree(const struct restore_tree *tree)
{
	const struct file_set *set = &tree->files;
	size_t i;
	int ret;

	ret = validate_pty_entries(set);
	for (i = 0; i < tree->nr && !ret; i++)
		if (!tree->tasks[i].zombie && tree->tasks[i].core->has_ctty_pty)
			ret = validate_task_ctty(tree, &tree->tasks[i]);
	for (i = 0; i < set->nr_files && !ret; i++) {
		const PtyEntry *p = set->files[i]->pty;

		if (p && p->pair && p->pair->has_sid)
			ret = validate_pair_session(tree, p);
	}
	return ret;
}

/* ---- restore, in the new processes ---- */

int tty_restore_session(const struct restore_task *rt)
{
	int fd;

	if (rt->zombie || !rt->core->has_ctty_pty)
		return 0;
	fd = pty_helper_fd(&rt->tree->files, rt->core->ctty_pty);
	if (fd < 0) {
		pr_err("process %d: no slave of pty %u to take as its terminal\n", rt->pid, rt->core->ctty_pty);
		return -EINVAL;
	}
	if (ioctl(fd, TIOCSCTTY, 0)) {
		pr_perror("process %d: can't make pty %u its controlling terminal", rt->pid, rt->core->ctty_pty);
		return -errno;
	}
	pr_debug("process %d: pty %u is its controlling terminal\n", rt->pid, rt->core->ctty_pty);
	return 0;
}

/* Signals are blocked: TIOCSPGRP sends no SIGTTOU, whatever the leader's group. */
static int set_foreground(const struct restore_task *rt, int fd, uint32_t index)
{
	const PtyPairEntry *pp = pty_restore_pair(&rt->tree->files, index);
	pid_t pgrp = pp->pgrp;

	if (ioctl(fd, TIOCSPGRP, &pgrp)) {
		pr_perror("process %d: can't make group %d the foreground of pty %u", rt->pid, pgrp, index);
		return -errno;
	}
	return 0;
}

/* A member inherited the session's terminal at its birth; it keeps it only if it had it. */
static int fix_member(const struct restore_task *rt, int fd, uint32_t index)
{
	struct proc_stat ps;
	struct stat st;
	bool has;
	int ret;

	ret = parse_proc_stat(getpid(), &ps);
	if (ret)
		return ret;
	if (fstat(fd, &st)) {
		pr_perror("process %d: can't stat the slave of pty %u", rt->pid, index);
		return -errno;
	}
	has = major(ps.tty_nr) == major(st.st_rdev) && minor(ps.tty_nr) == minor(st.st_rdev);
	if (has && !rt->core->has_ctty_pty && ioctl(fd, TIOCNOTTY)) {
		pr_perror("process %d: can't drop its controlling terminal pty %u", rt->pid, index);
		return -errno;
	}
	if (!has && rt->core->has_ctty_pty) {
		pr_err("process %d: did not inherit pty %u, the terminal of its session\n", rt->pid, index);
		return -EINVAL;
	}
	return 0;
}

int tty_restore_fg(struct restore_task *rt)
{
	const struct restore_task *leader = restore_tree_find(rt->tree, rt->pstree->sid);
	struct file_set *set = &rt->tree->files;
	uint32_t index;
	int ret = 0, fd;

	if (leader && !leader->zombie && leader->plan.do_setsid && leader->core->has_ctty_pty) {
		index = leader->core->ctty_pty;
		fd = pty_helper_fd(set, index);
		if (fd < 0) {
			pr_err("process %d: no slave of pty %u, its session's terminal\n", rt->pid, index);
			ret = -EINVAL;
		} else if (rt == leader) {
			ret = set_foreground(rt, fd, index);
		} else {
			ret = fix_member(rt, fd, index);
		}
	}
	/* every process lets go of criu's slaves: the pairs see their slaves' opens as they were */
	pty_release_helpers(set);
	return ret;
}
