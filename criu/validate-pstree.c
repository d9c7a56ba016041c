// SPDX-License-Identifier: GPL-2.0
/*
 * The validation layer for pstree.img: the shape of the tree, before any
 * process is created. Every entry comes after its parent, so a parent that
 * is not found earlier is either missing or part of a loop. Every pid and
 * tid appears once. Sessions and groups must be ones the kernel can build:
 * a session named after a process of the tree is led by it, a group named
 * after one is led by it, and a group never spans two sessions.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proc-parse.h"
#include "util.h"
#include "validate.h"

/* More threads than this in one process is taken as a corrupt image. */
#define PSTREE_MAX_THREADS (1u << 20)

struct pid_slot {
	uint32_t pid;
	uint32_t entry; /* index of the entry listing it */
	bool leader;	/* the process itself, not one of its other threads */
};

static int cmp_slot(const void *a, const void *b)
{
	const struct pid_slot *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int check_range(size_t i, const char *field, uint64_t v, bool zero_ok, const struct validate_env *env)
{
	if ((v == 0 && zero_ok) || (v > 0 && v < env->pid_max))
		return 0;
	pr_err("pstree.img: entry[%zu] %s %llu is outside 1..%llu (kernel.pid_max)\n", i, field, (unsigned long long)v,
	       (unsigned long long)env->pid_max - 1);
	return -EINVAL;
}

static int check_entry(PstreeEntry *const *e, size_t i, const struct validate_env *env)
{
	const PstreeEntry *p = e[i];
	int ret;

	ret = check_range(i, "pid", p->pid, false, env);
	ret = ret ?: check_range(i, "ppid", p->ppid, true, env);
	ret = ret ?: check_range(i, "pgid", p->pgid, false, env);
	ret = ret ?: check_range(i, "sid", p->sid, false, env);
	if (ret)
		return ret;
	if (!p->n_threads || p->n_threads > PSTREE_MAX_THREADS) {
		pr_err("pstree.img: entry[%zu] (pid %u) has %zu threads\n", i, p->pid, p->n_threads);
		return -EINVAL;
	}
	if (p->threads[0] != p->pid) {
		pr_err("pstree.img: entry[%zu]: thread %u is listed without its process (threads[0] is not pid %u)\n",
		       i, p->threads[0], p->pid);
		return -EINVAL;
	}
	return 0;
}

/* Every pid and tid once in the whole tree. */
static int check_unique_ids(PstreeEntry *const *e, size_t nr, const struct validate_env *env)
{
	struct pid_slot *slots;
	size_t i, j, n = 0, total = 0;
	int ret = 0;

	for (i = 0; i < nr; i++) {
		total += e[i]->n_threads;
		if (total > env->pid_max) {
			pr_err("pstree.img: more threads than kernel.pid_max allows\n");
			return -EINVAL;
		}
	}
	slots = xmalloc(total * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < nr && !ret; i++) {
		for (j = 0; j < e[i]->n_threads; j++) {
			ret = check_range(i, "thread", e[i]->threads[j], false, env);
			if (ret)
				break;
			slots[n++] = (struct pid_slot){ e[i]->threads[j], i, j == 0 };
		}
	}
	if (!ret) {
		xqsort(slots, n, sizeof(*slots), cmp_slot);
		for (i = 1; i < n; i++) {
			if (slots[i].pid != slots[i - 1].pid)
				continue;
			pr_err("pstree.img: pid %u appears twice (entries %u and %u)\n", slots[i].pid,
			       slots[i - 1].entry, slots[i].entry);
			ret = -EINVAL;
			break;
		}
	}
	free(slots);
	return ret;
}

static const PstreeEntry *find_process(PstreeEntry *const *e, size_t nr, uint32_t pid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (e[i]->pid == pid)
			return e[i];
	return NULL;
}

/* The parent of every entry but the root comes before it: no orphan entry, no loop. */
static int check_parents(PstreeEntry *const *e, size_t nr)
{
	size_t i;

	for (i = 1; i < nr; i++) {
		if (find_process(e, i, e[i]->ppid))
			continue;
		if (find_process(e + i, nr - i, e[i]->ppid))
			pr_err("pstree.img: entry[%zu] (pid %u) comes before its parent %u, or the tree has a loop\n",
			       i, e[i]->pid, e[i]->ppid);
		else
			pr_err("pstree.img: entry[%zu] (pid %u) has parent %u, which is not in the tree\n", i,
			       e[i]->pid, e[i]->ppid);
		return -EINVAL;
	}
	return 0;
}

static int check_sessions_and_groups(PstreeEntry *const *e, size_t nr)
{
	const PstreeEntry *leader;
	size_t i, j;

	for (i = 0; i < nr; i++) {
		leader = find_process(e, nr, e[i]->sid);
		if (leader && leader->sid != leader->pid) {
			pr_err("pstree.img: entry[%zu] (pid %u) is in session %u, but process %u does not lead it\n", i,
			       e[i]->pid, e[i]->sid, leader->pid);
			return -EINVAL;
		}
		if (e[i]->sid == e[i]->pid && e[i]->pgid != e[i]->pid) {
			pr_err("pstree.img: entry[%zu] (pid %u) leads a session but not its group %u\n", i, e[i]->pid,
			       e[i]->pgid);
			return -EINVAL;
		}
		leader = find_process(e, nr, e[i]->pgid);
		if (leader && leader->pgid != leader->pid) {
			pr_err("pstree.img: entry[%zu] (pid %u) is in group %u, but process %u does not lead it\n", i,
			       e[i]->pid, e[i]->pgid, leader->pid);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (e[j]->pgid != e[i]->pgid || e[j]->sid == e[i]->sid)
				continue;
			pr_err("pstree.img: group %u spans sessions %u (pid %u) and %u (pid %u)\n", e[i]->pgid,
			       e[j]->sid, e[j]->pid, e[i]->sid, e[i]->pid);
			return -EINVAL;
		}
	}
	return 0;
}

int validate_pstree_shape(PstreeEntry *const *e, size_t nr, uint32_t root_pid, const struct validate_env *env)
{
	size_t i;
	int ret;

	if (!nr) {
		pr_err("pstree.img: holds no process\n");
		return -EINVAL;
	}
	if (nr > env->pid_max) {
		pr_err("pstree.img: %zu processes, more than kernel.pid_max\n", nr);
		return -EINVAL;
	}
	if (e[0]->pid != root_pid) {
		pr_err("pstree.img: the first entry is pid %u, but inventory.img says the root is %u\n", e[0]->pid,
		       root_pid);
		return -EINVAL;
	}
	for (i = 0; i < nr; i++) {
		ret = check_entry(e, i, env);
		if (ret)
			return ret;
	}
	ret = check_unique_ids(e, nr, env);
	ret = ret ?: check_parents(e, nr);
	return ret ?: check_sessions_and_groups(e, nr);
}

/* A signal whose default action ends the process. */
static bool sig_kills(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return false;
	}
	return sig >= 1 && sig <= SIGRTMAX;
}

static int check_zombie(PstreeEntry *const *e, size_t nr, size_t i)
{
	uint32_t st = e[i]->zombie_status;
	size_t j;

	if (i == 0) {
		pr_err("pstree.img: the root %u is a zombie\n", e[i]->pid);
		return -EINVAL;
	}
	if (e[i]->n_threads != 1) {
		pr_err("pstree.img: zombie %u has %zu threads\n", e[i]->pid, e[i]->n_threads);
		return -EINVAL;
	}
	if (e[i]->has_zombie_exit_signal && e[i]->zombie_exit_signal > SIGRTMAX) {
		pr_err("pstree.img: zombie %u has exit signal %u, which is not a signal\n", e[i]->pid,
		       e[i]->zombie_exit_signal);
		return -EINVAL;
	}
	if (!(st <= 0xff00 && !(st & 0xff)) && !(st < 0x100 && sig_kills(st & 0x7f))) {
		pr_err("pstree.img: zombie %u has status 0x%x, which no process can end with\n", e[i]->pid, st);
		return -EINVAL;
	}
	for (j = i + 1; j < nr; j++) {
		if (e[j]->ppid == e[i]->pid) {
			pr_err("pstree.img: zombie %u has a child %u\n", e[i]->pid, e[j]->pid);
			return -EINVAL;
		}
	}
	return 0;
}

int validate_pstree_zombies(PstreeEntry *const *e, size_t nr)
{
	size_t i;
	int ret;

	for (i = 0; i < nr; i++) {
		if (!e[i]->has_zombie_status)
			continue;
		ret = check_zombie(e, nr, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int check_id_free(uint32_t id, size_t entry)
{
	struct proc_stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u", id);
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	if (!parse_proc_stat(id, &st) && st.state == 'Z')
		pr_err("pstree.img: pid %u (entry[%zu]) is held by a zombie its parent has not reaped yet: can't "
		       "restore it with its pid\n",
		       id, entry);
	else
		pr_err("pstree.img: pid %u (entry[%zu]) is in use on this machine (by %s): can't restore it with its "
		       "pid\n",
		       id, entry, st.comm[0] ? st.comm : "?");
	return -EBUSY;
}

int validate_pstree_ids_free(PstreeEntry *const *e, size_t nr)
{
	size_t i, j;
	int ret;

	for (i = 0; i < nr; i++)
		for (j = 0; j < e[i]->n_threads; j++) {
			ret = check_id_free(e[i]->threads[j], i);
			if (ret)
				return ret;
		}
	return 0;
}
