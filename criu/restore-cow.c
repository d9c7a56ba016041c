// SPDX-License-Identifier: GPL-2.0
/*
 * Pages a process still shared copy-on-write with its parent at dump time
 * are stored once, by the parent, or further up when the parent shared
 * them with its own parent (PE_COW entries, see mem.c). Here each PE_COW
 * range is followed up the tree to the ancestor whose pages image holds
 * it, and becomes runs the restorer reads from that image (xruns).
 * Any page no ancestor stores is a corrupt image, found before anything
 * is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "restore.h"
#include "util.h"

static struct restore_task *parent_task(const struct restore_tree *tree, const struct restore_task *rt)
{
	return rt->is_root ? NULL : restore_tree_find(tree, rt->pstree->ppid);
}

static uint64_t entry_end(const PagemapEntry *pe)
{
	return pe->vaddr + ((uint64_t)pe->nr_pages << PAGE_SHIFT);
}

/* The first entry of pm[] ending after addr (both lists ascend). */
static size_t entry_after(PagemapEntry *const *pm, size_t nr, uint64_t addr)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_end(pm[mid]) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int source_index(struct restore_task *rt, const struct restore_task *anc)
{
	size_t i;

	for (i = 0; i < rt->nr_srcs; i++)
		if (rt->srcs[i] == anc->pid)
			return i;
	if (rt->nr_srcs == RESTORER_MAX_SOURCES) {
		pr_err("pagemap-%d.img: pages left in more than %d ancestors\n", rt->pid, RESTORER_MAX_SOURCES);
		return -EINVAL;
	}
	rt->srcs[rt->nr_srcs] = anc->pid;
	return rt->nr_srcs++;
}

static int add_xrun(struct restore_task *rt, const struct restore_task *anc, uint64_t base, uint64_t len, uint64_t off)
{
	struct restorer_run *r;
	int src = source_index(rt, anc);

	if (src < 0)
		return src;
	r = rt->nr_xruns ? &rt->xruns[rt->nr_xruns - 1] : NULL;
	if (r && (int)r->src == src && r->base + r->len == base && r->off + r->len == off) {
		r->len += len;
		return 0;
	}
	if (xgrow(&rt->xruns, &rt->xruns_cap, rt->nr_xruns, sizeof(*rt->xruns)))
		return -ENOMEM;
	r = &rt->xruns[rt->nr_xruns++];
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->len = len;
	r->off = off;
	r->src = src;
	return 0;
}

static int resolve_range(struct restore_tree *tree, struct restore_task *rt, struct restore_task *anc, uint64_t start,
			 uint64_t end, int depth);

/* [start, end) in anc: stored there (PE_PRESENT), or left further up (PE_COW). */
static int resolve_in(struct restore_tree *tree, struct restore_task *rt, struct restore_task *anc, uint64_t start,
		      uint64_t end, int depth)
{
	const uint64_t *off = anc->pm_off;
	size_t p = entry_after(anc->pm, anc->nr_pm, start);
	size_t c = entry_after(anc->cow_pm, anc->nr_cow_pm, start);
	uint64_t stop;

	if (p < anc->nr_pm && anc->pm[p]->vaddr <= start) {
		stop = min(end, entry_end(anc->pm[p]));
		return add_xrun(rt, anc, start, stop - start, off[p] + (start - anc->pm[p]->vaddr))
			       ?: (stop < end ? resolve_in(tree, rt, anc, stop, end, depth) : 0);
	}
	if (c < anc->nr_cow_pm && anc->cow_pm[c]->vaddr <= start) {
		stop = min(end, entry_end(anc->cow_pm[c]));
		return resolve_range(tree, rt, parent_task(tree, anc), start, stop, depth + 1)
			       ?: (stop < end ? resolve_in(tree, rt, anc, stop, end, depth) : 0);
	}
	pr_err("pagemap-%d.img: the page at 0x%llx is said to be in its parent's images, but process %d has no "
	       "such page\n",
	       rt->pid, (unsigned long long)start, anc->pid);
	return -EINVAL;
}

static int resolve_range(struct restore_tree *tree, struct restore_task *rt, struct restore_task *anc, uint64_t start,
			 uint64_t end, int depth)
{
	if (!anc || anc->zombie || depth > RESTORER_MAX_SOURCES) {
		pr_err("pagemap-%d.img: pages at 0x%llx are said to be in an ancestor's images, but %s\n", rt->pid,
		       (unsigned long long)start,
		       !anc	     ? "the process has no parent in the tree"
		       : anc->zombie ? "its ancestor is a zombie"
				     : "the chain of ancestors is too long");
		return -EINVAL;
	}
	return resolve_in(tree, rt, anc, start, end, depth);
}

static int compute_offsets(const struct restore_tree *tree)
{
	size_t i, j;

	for (i = 0; i < tree->nr; i++) {
		struct restore_task *rt = &tree->tasks[i];
		uint64_t off = 0;

		if (rt->zombie)
			continue;
		rt->pm_off = xmalloc((rt->nr_pm + 1) * sizeof(uint64_t));
		if (!rt->pm_off)
			return -ENOMEM;
		for (j = 0; j < rt->nr_pm; j++) {
			rt->pm_off[j] = off;
			off += (uint64_t)rt->pm[j]->nr_pages << PAGE_SHIFT;
		}
	}
	return 0;
}

/* The restorer reads from dups of the ancestors' pages images, opened by criu. */
static int open_sources(struct restore_tree *tree, struct restore_task *rt)
{
	size_t i;

	for (i = 0; i < rt->nr_srcs; i++) {
		const struct restore_task *anc = restore_tree_find(tree, rt->srcs[i]);

		rt->src_fds[i] = fcntl(anc->pages_fd, F_DUPFD_CLOEXEC, 0);
		if (rt->src_fds[i] < 0) {
			pr_perror("can't dup the pages image of %d for %d", anc->pid, rt->pid);
			return -errno;
		}
	}
	return 0;
}

int restore_cow_resolve(struct restore_tree *tree)
{
	size_t i, j;
	int ret;

	ret = compute_offsets(tree);
	for (i = 0; i < tree->nr && !ret; i++) {
		struct restore_task *rt = &tree->tasks[i];

		for (j = 0; j < rt->nr_cow_pm && !ret; j++)
			ret = resolve_range(tree, rt, parent_task(tree, rt), rt->cow_pm[j]->vaddr,
					    entry_end(rt->cow_pm[j]), 1);
		if (!ret && rt->nr_xruns)
			pr_info("process %d: %zu runs of pages from %zu ancestors' images\n", rt->pid, rt->nr_xruns,
				rt->nr_srcs);
	}
	for (i = 0; i < tree->nr && !ret; i++)
		ret = open_sources(tree, &tree->tasks[i]);
	return ret;
}

void restore_cow_close(struct restore_task *rt)
{
	size_t i;

	for (i = 0; i < rt->nr_srcs; i++)
		close_safe(&rt->src_fds[i]);
}
