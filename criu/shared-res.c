// SPDX-License-Identifier: GPL-2.0
/*
 * Resources two processes of the tree share as one kernel object, beyond
 * open files and shared memory: an address space (a vfork child that has
 * not exec'd yet, clone(CLONE_VM)), an fd table (CLONE_FILES), a cwd and
 * root (CLONE_FS), signal handlers (CLONE_SIGHAND without CLONE_THREAD is
 * impossible, but CLONE_VM | CLONE_SIGHAND is). Each process is restored
 * with its own: refused, naming both processes, before anything is
 * written. kcmp() orders the objects, so sorting the processes by each
 * finds the sharers in n log n calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "log.h"
#include "shared-res.h"
#include "util.h"

struct kcmp_sort {
	int type;
	int error;
};

static int cmp_by(const void *a, const void *b, void *arg)
{
	struct kcmp_sort *ks = arg;
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	long r = syscall(SYS_kcmp, x, y, ks->type, 0, 0);

	if (r < 0) {
		ks->error = -errno;
		return 0;
	}
	/* kcmp: 0 equal, 1 less, 2 greater (3: not ordered) */
	return r == 0 ? 0 : r == 1 ? -1 : 1;
}

static const struct {
	int type;
	const char *what;
} kinds[] = {
	{ KCMP_VM, "its memory (a vfork child that has not exec'd yet, or CLONE_VM)" },
	{ KCMP_FILES, "its fd table (CLONE_FILES)" },
	{ KCMP_FS, "its cwd and root (CLONE_FS)" },
	{ KCMP_SIGHAND, "its signal handlers (CLONE_SIGHAND)" },
};

static int check_kind(pid_t *pids, size_t nr, int k)
{
	struct kcmp_sort ks = { .type = kinds[k].type };
	size_t i;

	qsort_r(pids, nr, sizeof(*pids), cmp_by, &ks);
	if (ks.error) {
		pr_err("kcmp failed while comparing the processes of the tree: %d\n", ks.error);
		return ks.error;
	}
	for (i = 1; i < nr; i++) {
		if (syscall(SYS_kcmp, pids[i - 1], pids[i], kinds[k].type, 0, 0) != 0)
			continue;
		pr_err("processes %d and %d share %s: each would be restored with its own, not supported yet\n",
		       pids[i - 1], pids[i], kinds[k].what);
		return -ENOTSUP;
	}
	return 0;
}

int check_shared_task_resources(const pid_t *tree, size_t nr)
{
	pid_t *pids;
	size_t k;
	int ret = 0;

	if (nr < 2)
		return 0;
	pids = xmalloc(nr * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	for (k = 0; k < ARRAY_SIZE(kinds) && !ret; k++) {
		memcpy(pids, tree, nr * sizeof(*pids));
		ret = check_kind(pids, nr, k);
	}
	free(pids);
	return ret;
}

/* kcmp order of the outsider against pid: <0, 0, >0; *gone if it can't be compared (exited). */
static int kcmp_order(pid_t pid, pid_t outsider, int type, bool *gone)
{
	long r = syscall(SYS_kcmp, pid, outsider, type, 0, 0);

	if (r < 0) {
		*gone = true;
		return 0;
	}
	return r == 0 ? 0 : r == 1 ? 1 : -1;
}

/* The tree process (sorted by kind k) that shares kind k with outsider, or 0. */
static pid_t find_sharer(const pid_t *sorted, size_t nr, pid_t outsider, int k)
{
	size_t lo = 0, hi = nr;
	bool gone = false;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = kcmp_order(sorted[mid], outsider, kinds[k].type, &gone);

		if (gone)
			return 0;
		if (c == 0)
			return sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

int check_task_resources_outside(const pid_t *tree, size_t nr, const pid_t *out, size_t nr_out)
{
	pid_t *pids, sharer;
	size_t k, i;
	int ret = 0;

	if (!nr || !nr_out)
		return 0;
	pids = xmalloc(nr * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	for (k = 0; k < ARRAY_SIZE(kinds) && !ret; k++) {
		struct kcmp_sort ks = { .type = kinds[k].type };

		memcpy(pids, tree, nr * sizeof(*pids));
		qsort_r(pids, nr, sizeof(*pids), cmp_by, &ks);
		if (ks.error) {
			pr_err("kcmp failed while comparing the processes of the tree: %d\n", ks.error);
			ret = ks.error;
			break;
		}
		for (i = 0; i < nr_out && !ret; i++) {
			sharer = find_sharer(pids, nr, out[i], k);
			if (!sharer)
				continue;
			pr_err("process %d of the tree shares %s with process %d, outside the dumped tree: it can't be "
			       "restored faithfully\n",
			       sharer, kinds[k].what, out[i]);
			ret = -EBUSY;
		}
	}
	free(pids);
	return ret;
}
