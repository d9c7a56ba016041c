// SPDX-License-Identifier: GPL-2.0
/*
 * The process tree of a dump: the root and all its descendants, frozen
 * consistently. A task that is not stopped yet can still fork, clone or
 * exit, so the tree is walked again until a pass over the stopped tasks
 * finds nothing new: a stopped task creates nothing, so whatever a pass
 * finds was created before its parent stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "log.h"
#include "proc-parse.h"
#include "pstree.h"
#include "seize.h"
#include "util.h"

#define PSTREE_MAX_PASSES 64

struct pstree_item *pstree_find(const struct pstree *t, pid_t pid)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->items[i]->pid == pid)
			return t->items[i];
	return NULL;
}

static bool item_has_thread(const struct pstree_item *item, pid_t tid)
{
	size_t i;

	for (i = 0; i < item->nr_threads; i++)
		if (item->threads[i] == tid)
			return true;
	return false;
}

static int seize_thread(struct pstree *t, struct pstree_item *item, pid_t tid, unsigned timeout)
{
	bool stopped = false;
	int ret;

	if (xgrow(&item->threads, &item->threads_cap, item->nr_threads, sizeof(pid_t)))
		return -ENOMEM;
	ret = seize_task(tid, timeout, &stopped);
	if (ret == -ESRCH) {
		/* the thread exited meanwhile: it is not part of the dump */
		pr_debug("pstree: thread %d of %d is gone\n", tid, item->pid);
		return 0;
	}
	if (ret)
		return ret;
	item->threads[item->nr_threads++] = tid;
	item->was_stopped |= stopped;
	t->nr_threads++;
	return 1;
}

static struct pstree_item *add_item(struct pstree *t, pid_t pid, struct pstree_item *parent)
{
	struct pstree_item *item;

	if (xgrow(&t->items, &t->cap, t->nr, sizeof(*t->items)))
		return NULL;
	item = xzalloc(sizeof(*item));
	if (!item)
		return NULL;
	item->pid = pid;
	item->parent = parent;
	t->items[t->nr++] = item;
	return item;
}

/* Threads listed in /proc/PID/task and not seized yet; returns how many were added. */
static int seize_new_threads(struct pstree *t, struct pstree_item *item, unsigned timeout)
{
	char path[64];
	struct dirent *de;
	int added = 0, ret = 0;
	DIR *d;

	/* the leader first, so that item->threads[0] is the process */
	if (!item->nr_threads) {
		ret = seize_thread(t, item, item->pid, timeout);
		if (ret <= 0)
			return ret ? ret : -ESRCH;
		added++;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", item->pid);
	d = opendir(path);
	if (!d) {
		pr_perror("can't list the threads of %d", item->pid);
		return -errno;
	}
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0 || item_has_thread(item, tid))
			continue;
		ret = seize_thread(t, item, tid, timeout);
		if (ret < 0)
			break;
		added += ret;
	}
	closedir(d);
	return ret < 0 ? ret : added;
}

static int add_zombie(struct pstree_item *item, const struct proc_stat *st)
{
	item->zombie = true;
	item->exit_status = st->exit_code;
	pr_info("pstree: %d is a zombie (status 0x%x)\n", item->pid, item->exit_status);
	return 0;
}

static int add_child(struct pstree *t, struct pstree_item *parent, pid_t pid, unsigned timeout)
{
	struct pstree_item *item;
	struct proc_stat st;
	int ret;

	item = add_item(t, pid, parent);
	if (!item)
		return -ENOMEM;
	if (parse_proc_stat(pid, &st)) {
		/* gone, and already reaped: drop it */
		t->nr--;
		free(item);
		return 0;
	}
	if (st.state == 'Z')
		return add_zombie(item, &st);
	ret = seize_new_threads(t, item, timeout);
	if (ret == -ESRCH) {
		t->nr--;
		free(item);
		return 0;
	}
	return ret < 0 ? ret : 1;
}

/* Children of every thread of item not in the tree yet; returns how many were added. */
static int add_new_children(struct pstree *t, struct pstree_item *item, unsigned timeout)
{
	int added = 0, ret = 0;
	size_t i;

	for (i = 0; i < item->nr_threads && ret >= 0; i++) {
		char path[96], *buf, *p, *end;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", item->pid, item->threads[i]);
		buf = read_file_at(AT_FDCWD, path, NULL);
		if (!buf)
			continue; /* the thread exited */
		for (p = buf;; p = end) {
			pid_t pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid <= 0 || pstree_find(t, pid))
				continue;
			ret = add_child(t, item, pid, timeout);
			if (ret < 0)
				break;
			added += ret;
		}
		free(buf);
	}
	return ret < 0 ? ret : added;
}

static int fill_ids(struct pstree *t)
{
	struct proc_stat st;
	size_t i;

	for (i = 0; i < t->nr; i++) {
		struct pstree_item *item = t->items[i];

		if (parse_proc_stat(item->pid, &st))
			return -ESRCH;
		item->ppid = st.ppid;
		item->pgid = st.pgid;
		item->sid = st.sid;
	}
	return 0;
}

int pstree_seize(pid_t root, unsigned timeout, struct pstree *t)
{
	int pass, ret, added;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (!add_item(t, root, NULL))
		return -ENOMEM;
	ret = seize_new_threads(t, t->items[0], timeout);
	if (ret < 0)
		goto err;
	for (pass = 0; pass < PSTREE_MAX_PASSES; pass++) {
		added = 0;
		for (i = 0; i < t->nr; i++) {
			if (t->items[i]->zombie)
				continue;
			ret = seize_new_threads(t, t->items[i], timeout);
			if (ret >= 0) {
				added += ret;
				ret = add_new_children(t, t->items[i], timeout);
			}
			if (ret < 0)
				goto err;
			added += ret;
		}
		if (!added)
			break;
	}
	if (pass == PSTREE_MAX_PASSES) {
		pr_err("the tree of %d keeps changing: can't freeze it\n", root);
		ret = -EAGAIN;
		goto err;
	}
	ret = fill_ids(t);
	if (ret)
		goto err;
	pr_info("pstree: %zu processes, %zu threads frozen\n", t->nr, t->nr_threads);
	return 0;
err:
	pstree_unseize(t, UNSEIZE_RUN);
	pstree_free(t);
	return ret;
}

/*
 * SIGKILL can't be caught or undone: the images are complete, so criu does
 * not wait for the kernel to tear the process down (freeing a large address
 * space takes a while). Its tracees are let go when criu exits; the process
 * becomes a zombie for its parent to reap, as after any kill.
 */
static void kill_item(struct pstree_item *item)
{
	if (kill(item->pid, SIGKILL))
		pr_perror("can't kill %d", item->pid);
}

void pstree_unseize(struct pstree *t, enum unseize_mode mode)
{
	size_t i, j;

	for (i = t->nr; i-- > 0;) {
		struct pstree_item *item = t->items[i];

		if (!item->nr_threads)
			continue;
		if (mode == UNSEIZE_KILL) {
			kill_item(item);
		} else {
			/* back into a job-control stop, once for the whole process */
			if (item->was_stopped || mode == UNSEIZE_STOP)
				kill(item->pid, SIGSTOP);
			for (j = 0; j < item->nr_threads; j++)
				if (ptrace(PTRACE_DETACH, item->threads[j], NULL, NULL))
					pr_perror("can't detach from %d", item->threads[j]);
		}
		item->nr_threads = 0;
	}
}

void pstree_free(struct pstree *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		free(t->items[i]->threads);
		free(t->items[i]);
	}
	free(t->items);
	memset(t, 0, sizeof(*t));
}
