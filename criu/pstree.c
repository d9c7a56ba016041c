// SPDX-License-Identifier: GPL-2.0
/*
 * The process tree of a dump: the root and all its descendants, frozen
 * consistently. A task that is not stopped yet can still fork, clone or
 * exit, so the tree is walked again until a pass over the stopped tasks
 * finds nothing new: a stopped task creates nothing, so whatever a pass
 * finds was created before its parent stopped.
 *
 * With --freeze-cgroup the first pass runs while the tree's cgroup is
 * frozen, so it finds the whole tree at once and nothing races it; it only
 * interrupts each thread, as a frozen task takes the interrupt once thawed.
 * The usual passes then confirm the tree, and pick up what the frozen pass
 * had to leave for after the thaw.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <time.h>

#include "freezer.h"
#include "log.h"
#include "proc-parse.h"
#include "pstree.h"
#include "seize.h"
#include "util.h"

#define PSTREE_MAX_PASSES 64

/*
 * For the tests: hold the cgroup frozen this many milliseconds once the
 * tree is interrupted, so that a test can kill criu there and see its guard
 * thaw the cgroup.
 */
#define FAULT_FROZEN_ENV "CRIU_FAULT_FROZEN_HOLD_MS"

/* One walk of the tree, and how to seize what it finds. */
struct walk {
	struct pstree *t;
	unsigned timeout;
	struct freezer *fz; /* --freeze-cgroup, or NULL */
	bool frozen;	    /* the cgroup is frozen: interrupt only, wait after the thaw */
};

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

/* Freezing the cgroup only holds the tree still if all of it is inside. */
static int check_in_cgroup(struct walk *w, const struct pstree_item *item, pid_t tid)
{
	struct proc_stat st;

	/* an exiting thread has left its cgroup already; the seize finds it gone */
	if (freezer_has_thread(w->fz, tid) || task_exiting(tid))
		return 0;
	if (parse_proc_stat(item->pid, &st))
		snprintf(st.comm, sizeof(st.comm), "?");
	if (tid == item->pid)
		pr_err("process %d (%s) of the tree of %d is not in cgroup %s: --freeze-cgroup needs the whole tree in "
		       "it\n",
		       tid, st.comm, w->t->items[0]->pid, w->fz->path);
	else
		pr_err("thread %d of process %d (%s) of the tree of %d is not in cgroup %s: --freeze-cgroup needs the "
		       "whole tree in it\n",
		       tid, item->pid, st.comm, w->t->items[0]->pid, w->fz->path);
	return -EINVAL;
}

static int seize_thread(struct walk *w, struct pstree_item *item, pid_t tid)
{
	bool stopped = false;
	int ret;

	if (w->fz) {
		ret = check_in_cgroup(w, item, tid);
		if (ret)
			return ret;
	}
	if (xgrow(&item->threads, &item->threads_cap, item->nr_threads, sizeof(pid_t)))
		return -ENOMEM;
	ret = w->frozen ? seize_task_begin(tid) : seize_task(tid, w->timeout, &stopped);
	if (ret == -ESRCH) {
		/* the thread exited meanwhile: it is not part of the dump */
		pr_debug("pstree: thread %d of %d is gone\n", tid, item->pid);
		return 0;
	}
	if (ret)
		return ret;
	item->threads[item->nr_threads++] = tid;
	item->was_stopped |= stopped;
	w->t->nr_threads++;
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
static int seize_new_threads(struct walk *w, struct pstree_item *item)
{
	char path[64];
	struct dirent *de;
	int added = 0, ret = 0;
	DIR *d;

	/* the leader first, so that item->threads[0] is the process */
	if (!item->nr_threads) {
		if (w->frozen && freezer_seize_blocks(w->fz, item->pid))
			return 0; /* the next pass seizes it, after the thaw */
		ret = seize_thread(w, item, item->pid);
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
		ret = seize_thread(w, item, tid);
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

static int add_child(struct walk *w, struct pstree_item *parent, pid_t pid)
{
	struct pstree *t = w->t;
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
	ret = seize_new_threads(w, item);
	if (ret == -ESRCH) {
		/* it exited meanwhile: its parent can't have reaped it, being stopped */
		if (!parse_proc_stat(pid, &st) && st.state == 'Z')
			return add_zombie(item, &st);
		t->nr--;
		free(item);
		return 0;
	}
	return ret < 0 ? ret : 1;
}

/* Children of thread tid of item not in the tree yet; returns how many were added. */
static int add_children_of(struct walk *w, struct pstree_item *item, pid_t tid)
{
	char path[96], *buf, *p, *end;
	int added = 0, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", item->pid, tid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf)
		return 0; /* the thread exited */
	for (p = buf;; p = end) {
		pid_t pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid <= 0 || pstree_find(w->t, pid))
			continue;
		ret = add_child(w, item, pid);
		if (ret < 0)
			break;
		added += ret;
	}
	free(buf);
	return ret < 0 ? ret : added;
}

/*
 * Children of every thread of item not in the tree yet; returns how many
 * were added. A process the frozen pass leaves for later has no thread
 * seized yet: its children are found through all of its threads, which
 * can't fork while frozen.
 */
static int add_new_children(struct walk *w, struct pstree_item *item)
{
	int added = 0, ret = 0;
	struct dirent *de;
	char path[64];
	size_t i;
	DIR *d;

	if (item->nr_threads || !w->frozen) {
		for (i = 0; i < item->nr_threads && ret >= 0; i++) {
			ret = add_children_of(w, item, item->threads[i]);
			added += ret;
		}
		return ret < 0 ? ret : added;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", item->pid);
	d = opendir(path);
	if (!d)
		return 0; /* gone: the next pass tells */
	while (ret >= 0 && (de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		ret = add_children_of(w, item, tid);
		added += ret;
	}
	closedir(d);
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

/* One pass over every process known so far; returns how many threads and processes it added. */
static int walk_pass(struct walk *w)
{
	int added = 0, ret;
	size_t i;

	/* w->t->nr grows as children are added: they are walked in the same pass */
	for (i = 0; i < w->t->nr; i++) {
		struct pstree_item *item = w->t->items[i];

		if (item->zombie)
			continue;
		ret = seize_new_threads(w, item);
		if (ret >= 0) {
			added += ret;
			ret = add_new_children(w, item);
		}
		if (ret < 0)
			return ret;
		added += ret;
	}
	return added;
}

/* The leader of item exited while interrupted: a zombie now, if the whole process went. */
static int leader_exited(struct pstree_item *item)
{
	struct proc_stat st;

	if (!item->parent || item->nr_threads || parse_proc_stat(item->pid, &st) || st.state != 'Z') {
		pr_err("process %d exited while the tree was being seized\n", item->pid);
		return -EAGAIN;
	}
	return add_zombie(item, &st);
}

/* Wait for the stops of the threads of item interrupted while frozen. */
static int wait_item(struct walk *w, struct pstree_item *item)
{
	bool leader_gone = false;
	int ret = 0, r;
	size_t j;

	/* the leader last: its exit is only reported once its other threads are reaped */
	for (j = item->nr_threads; j-- > 0;) {
		pid_t tid = item->threads[j];
		bool stopped = false;

		r = seize_task_wait(tid, w->timeout, &stopped);
		if (!r) {
			item->was_stopped |= stopped;
			continue;
		}
		/* exited, or let go by seize_task_wait(): not ours any more */
		memmove(&item->threads[j], &item->threads[j + 1], (item->nr_threads - j - 1) * sizeof(pid_t));
		item->nr_threads--;
		w->t->nr_threads--;
		if (r != -ESRCH && !ret)
			ret = r;
		else if (r == -ESRCH && tid == item->pid)
			leader_gone = true;
		else if (r == -ESRCH)
			pr_debug("pstree: thread %d of %d exited while being seized\n", tid, item->pid);
	}
	if (ret || !leader_gone)
		return ret;
	return leader_exited(item);
}

/*
 * After the thaw: every thread interrupted while frozen stops now. Each is
 * waited for, even after a failure, since only a stopped tracee can be
 * detached.
 */
static int wait_interrupted(struct walk *w)
{
	int ret = 0, r;
	size_t i;

	for (i = 0; i < w->t->nr; i++) {
		r = wait_item(w, w->t->items[i]);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

static void hold_frozen_for_tests(void)
{
	const char *env = getenv(FAULT_FROZEN_ENV);
	struct timespec ts;
	long ms;

	if (!env || (ms = atol(env)) <= 0)
		return;
	pr_warn("holding the cgroup frozen for %ld ms (%s)\n", ms, FAULT_FROZEN_ENV);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/*
 * --freeze-cgroup: one pass over the frozen tree interrupts every thread of
 * it (but a process that would block the seize, see freezer_seize_blocks());
 * a frozen task takes the interrupt once thawed, so the stops are waited for
 * after the thaw.
 */
static int seize_frozen(struct walk *w)
{
	int ret, thaw, wait;

	ret = freezer_freeze(w->fz, w->timeout);
	if (ret)
		return ret;
	w->frozen = true;
	ret = walk_pass(w);
	if (ret >= 0)
		hold_frozen_for_tests();
	w->frozen = false;
	thaw = freezer_thaw(w->fz);
	/*
	 * Still frozen, no task can stop: waiting would only time out. Criu's
	 * exit detaches them, and the guard thaws the cgroup then.
	 */
	if (thaw)
		return ret < 0 ? ret : thaw;
	wait = wait_interrupted(w);
	if (ret < 0)
		return ret;
	if (!wait)
		pr_info("pstree: %zu processes, %zu threads seized in the frozen cgroup %s\n", w->t->nr,
			w->t->nr_threads, w->fz->path);
	return wait;
}

int pstree_seize(pid_t root, unsigned timeout, struct freezer *fz, struct pstree *t)
{
	struct walk w = { .t = t, .timeout = timeout, .fz = fz };
	int pass, ret;

	memset(t, 0, sizeof(*t));
	if (!add_item(t, root, NULL))
		return -ENOMEM;
	ret = fz ? seize_frozen(&w) : seize_new_threads(&w, t->items[0]);
	if (ret < 0)
		goto err;
	for (pass = 0; pass < PSTREE_MAX_PASSES; pass++) {
		ret = walk_pass(&w);
		if (ret < 0)
			goto err;
		if (!ret)
			break;
		if (fz)
			pr_info("pstree: pass %d after the thaw seized %d more threads or processes\n", pass, ret);
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
