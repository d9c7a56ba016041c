// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write sharing rebuilt. Pages a process still shared with its
 * parent at dump time (PE_COW) come back shared, not copied: a parent
 * builds such memory before it forks its children, which inherit it as
 * fork makes them inherit any private memory, and each child only writes
 * the pages it had of its own. A tree of workers forked from one big
 * process comes back as small as it was.
 *
 * The memory is built in an "arena": one range criu reserves before the
 * first process, free in criu's layout and in every process's target
 * layout, so that it survives until each restorer moves its VMAs out of it
 * (RVMA_PREMAP) to their addresses.
 *
 * Per VMA of each process (private anonymous, not a stack):
 *  - PREMAP_INHERIT: it has PE_COW pages and lies inside a premapped VMA
 *    of its parent: it uses the parent's copy at the same place in the
 *    arena, writes its own pages (PE_PRESENT) over it and drops the pages
 *    it did not have;
 *  - PREMAP_FRESH: a child inherits from it, but it can't inherit itself:
 *    it maps a new range of the arena and fills it with its own pages and
 *    those it left in ancestors' images;
 *  - PREMAP_NONE: the restorer maps and fills it as any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "restore.h"
#include "util.h"

#define ARENA_GUARD PAGE_SIZE

static uint64_t entry_end(const PagemapEntry *pe)
{
	return pe->vaddr + ((uint64_t)pe->nr_pages << PAGE_SHIFT);
}

static bool vma_can_premap(const VmaEntry *v)
{
	const uint64_t fork_madv = (1ULL << MADV_DONTFORK) | (1ULL << MADV_WIPEONFORK);

	if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_HEAP)
		return false;
	return !(v->flags & MAP_GROWSDOWN) && !(v->has_madv && (v->madv & fork_madv));
}

static bool has_cow_in(const struct restore_task *rt, const VmaEntry *v)
{
	size_t i;

	for (i = 0; i < rt->nr_cow_pm; i++)
		if (rt->cow_pm[i]->vaddr < v->end && entry_end(rt->cow_pm[i]) > v->start)
			return true;
	return false;
}

/* The parent's VMA holding all of v, or -1. */
static ssize_t vma_containing(const struct restore_task *p, const VmaEntry *v)
{
	size_t i;

	for (i = 0; i < p->mm->n_vmas; i++) {
		const VmaEntry *w = p->mm->vmas[i];

		if (w->start <= v->start && v->end <= w->end)
			return i;
		if (w->start >= v->end)
			break;
	}
	return -1;
}

static struct restore_task *parent_task(const struct restore_tree *tree, const struct restore_task *rt)
{
	return rt->is_root ? NULL : restore_tree_find(tree, rt->pstree->ppid);
}

static int alloc_state(struct restore_task *rt)
{
	rt->premap = xzalloc(rt->mm->n_vmas * sizeof(*rt->premap));
	rt->premap_addr = xzalloc(rt->mm->n_vmas * sizeof(*rt->premap_addr));
	return rt->premap && rt->premap_addr ? 0 : -ENOMEM;
}

/*
 * Bottom-up: a VMA is wanted premapped if the process has PE_COW pages in
 * it, or a child wants one of its VMAs lying inside it. (premap[] holds
 * "wanted" until plan_states() decides.)
 */
static void plan_wanted(struct restore_tree *tree)
{
	size_t i, j;

	for (i = tree->nr; i-- > 0;) {
		struct restore_task *rt = &tree->tasks[i], *p;

		if (rt->zombie)
			continue;
		for (j = 0; j < rt->mm->n_vmas; j++)
			if (vma_can_premap(rt->mm->vmas[j]) && has_cow_in(rt, rt->mm->vmas[j]))
				rt->premap[j] = PREMAP_WANTED;
		p = parent_task(tree, rt);
		if (!p || p->zombie)
			continue;
		for (j = 0; j < rt->mm->n_vmas; j++) {
			ssize_t k;

			if (rt->premap[j] != PREMAP_WANTED)
				continue;
			k = vma_containing(p, rt->mm->vmas[j]);
			if (k >= 0 && vma_can_premap(p->mm->vmas[k]))
				p->premap[k] = PREMAP_WANTED;
		}
	}
}

/* Top-down: inherit where the parent premaps the place, else build afresh. */
static uint64_t plan_states(struct restore_tree *tree)
{
	uint64_t fresh = 0;
	size_t i, j;

	for (i = 0; i < tree->nr; i++) {
		struct restore_task *rt = &tree->tasks[i], *p = parent_task(tree, rt);

		if (rt->zombie)
			continue;
		for (j = 0; j < rt->mm->n_vmas; j++) {
			const VmaEntry *v = rt->mm->vmas[j];
			ssize_t k;

			if (rt->premap[j] != PREMAP_WANTED)
				continue;
			k = p ? vma_containing(p, v) : -1;
			if (k >= 0 && p->premap[k] != PREMAP_NONE && has_cow_in(rt, v)) {
				rt->premap[j] = PREMAP_INHERIT;
				continue;
			}
			rt->premap[j] = PREMAP_FRESH;
			fresh += v->end - v->start + ARENA_GUARD;
		}
	}
	return fresh;
}

/* Fresh ones get their own place in the arena, guards between; inherited ones their parent's. */
static void place_in_arena(struct restore_tree *tree)
{
	uint64_t next = tree->arena_start + ARENA_GUARD;
	size_t i, j;

	for (i = 0; i < tree->nr; i++) {
		struct restore_task *rt = &tree->tasks[i], *p = parent_task(tree, rt);

		if (rt->zombie)
			continue;
		for (j = 0; j < rt->mm->n_vmas; j++) {
			const VmaEntry *v = rt->mm->vmas[j];

			if (rt->premap[j] == PREMAP_FRESH) {
				rt->premap_addr[j] = next;
				next += v->end - v->start + ARENA_GUARD;
			} else if (rt->premap[j] == PREMAP_INHERIT) {
				ssize_t k = vma_containing(p, v);

				rt->premap_addr[j] = p->premap_addr[k] + (v->start - p->mm->vmas[k]->start);
			}
		}
	}
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Every target VMA of the tree and criu's own mappings: the arena avoids them all. */
static int collect_busy(const struct restore_tree *tree, uint64_t **busy, size_t *nr)
{
	char *maps = read_file_at(AT_FDCWD, "/proc/self/maps", NULL), *line;
	size_t cap = 0, i, j;

	if (!maps) {
		pr_perror("can't read /proc/self/maps");
		return -errno;
	}
	*busy = NULL;
	*nr = 0;
	for (line = maps; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) != 2 || xgrow(busy, &cap, *nr, 2 * sizeof(uint64_t)))
			break;
		(*busy)[2 * *nr] = s;
		(*busy)[2 * *nr + 1] = e;
		(*nr)++;
	}
	free(maps);
	for (i = 0; i < tree->nr; i++) {
		const struct restore_task *rt = &tree->tasks[i];

		for (j = 0; !rt->zombie && j < rt->mm->n_vmas; j++) {
			if (xgrow(busy, &cap, *nr, 2 * sizeof(uint64_t)))
				return -ENOMEM;
			(*busy)[2 * *nr] = rt->mm->vmas[j]->start;
			(*busy)[2 * *nr + 1] = rt->mm->vmas[j]->end;
			(*nr)++;
		}
	}
	xqsort(*busy, *nr, 2 * sizeof(uint64_t), cmp_range);
	return 0;
}

static uint64_t find_arena(const uint64_t *busy, size_t nr, uint64_t floor, uint64_t size)
{
	uint64_t cand = floor;
	size_t i;

	for (i = 0; i <= nr; i++) {
		uint64_t next = i < nr ? busy[2 * i] : TASK_SIZE_MAX;

		if (next > cand && next - cand >= size)
			return cand;
		if (i < nr)
			cand = max(cand, busy[2 * i + 1]);
	}
	return 0;
}

/* Reserved (PROT_NONE, no memory) in criu: areas and scratch ranges placed later avoid it. */
static int reserve_arena(struct restore_tree *tree, uint64_t size)
{
	uint64_t *busy = NULL, addr;
	size_t nr = 0;
	void *p;
	int ret;

	ret = collect_busy(tree, &busy, &nr);
	if (ret)
		return ret;
	addr = find_arena(busy, nr, max(0x100000000ULL, tree->env.mmap_min_addr), size);
	free(busy);
	if (!addr) {
		pr_err("no room for %llu bytes of premapped memory free in every process's layout\n",
		       (unsigned long long)size);
		return -ENOMEM;
	}
	p = mmap((void *)addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1,
		 0);
	if (p != (void *)addr) {
		pr_perror("can't reserve the arena at 0x%llx", (unsigned long long)addr);
		if (p != MAP_FAILED)
			munmap(p, size);
		return -ENOMEM;
	}
	tree->arena_start = addr;
	tree->arena_size = size;
	pr_info("arena for premapped memory at 0x%llx, %llu bytes\n", (unsigned long long)addr,
		(unsigned long long)size);
	return 0;
}

int restore_premap_plan(struct restore_tree *tree)
{
	uint64_t fresh;
	size_t i;
	int ret;

	for (i = 0; i < tree->nr; i++) {
		if (tree->tasks[i].zombie)
			continue;
		ret = alloc_state(&tree->tasks[i]);
		if (ret)
			return ret;
	}
	plan_wanted(tree);
	fresh = plan_states(tree);
	if (!fresh)
		return 0;
	ret = reserve_arena(tree, fresh + ARENA_GUARD);
	if (ret)
		return ret;
	place_in_arena(tree);
	return 0;
}

void restore_premap_release(struct restore_tree *tree)
{
	if (tree->arena_size)
		munmap((void *)tree->arena_start, tree->arena_size);
	tree->arena_start = tree->arena_size = 0;
}

bool restore_premapped(const struct restore_task *rt, const VmaEntry *v, uint64_t *addr)
{
	size_t i;

	if (!rt->premap)
		return false;
	for (i = 0; i < rt->mm->n_vmas; i++) {
		if (rt->mm->vmas[i] != v)
			continue;
		if (addr)
			*addr = rt->premap_addr[i];
		return rt->premap[i] != PREMAP_NONE;
	}
	return false;
}

/* ---- in the new process, before it forks its children ---- */

static int read_into(int fd, uint64_t dst, uint64_t len, uint64_t off, pid_t pid)
{
	while (len) {
		ssize_t r = pread(fd, (void *)(uintptr_t)dst, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pr_perror("process %d: can't read pages for its premapped memory", pid);
			return r < 0 ? -errno : -EIO;
		}
		dst += r;
		off += r;
		len -= r;
	}
	return 0;
}

/* The process's own pages inside v (at base in the arena). */
static int fill_present(const struct restore_task *rt, const VmaEntry *v, uint64_t base)
{
	size_t i;
	int ret;

	for (i = 0; i < rt->nr_pm; i++) {
		uint64_t s = max(rt->pm[i]->vaddr, v->start), e = min(entry_end(rt->pm[i]), v->end);

		if (s >= e)
			continue;
		ret = read_into(rt->pages_fd, base + (s - v->start), e - s, rt->pm_off[i] + (s - rt->pm[i]->vaddr),
				rt->pid);
		if (ret)
			return ret;
	}
	return 0;
}

/* Pages left in ancestors' images, for a VMA that could not inherit them. */
static int fill_xruns(const struct restore_task *rt, const VmaEntry *v, uint64_t base)
{
	size_t i;
	int ret;

	for (i = 0; i < rt->nr_xruns; i++) {
		const struct restorer_run *r = &rt->xruns[i];
		uint64_t s = max(r->base, v->start), e = min(r->base + r->len, v->end);

		if (s >= e)
			continue;
		ret = read_into(rt->src_fds[r->src], base + (s - v->start), e - s, r->off + (s - r->base), rt->pid);
		if (ret)
			return ret;
	}
	return 0;
}

/* The first entry of pm[] ending after addr, from *cur on (addresses only grow). */
static bool covered(PagemapEntry *const *pm, size_t nr, size_t *cur, uint64_t addr)
{
	while (*cur < nr && entry_end(pm[*cur]) <= addr)
		(*cur)++;
	return *cur < nr && pm[*cur]->vaddr <= addr;
}

/* Inherited pages this process did not have (zero or never touched in the original) must read zero. */
static int drop_missing(const struct restore_task *rt, const VmaEntry *v, uint64_t base)
{
	uint64_t a = v->start, run = 0;
	size_t cp = 0, cc = 0;

	for (; a <= v->end; a += PAGE_SIZE) {
		bool keep =
			a == v->end || covered(rt->pm, rt->nr_pm, &cp, a) || covered(rt->cow_pm, rt->nr_cow_pm, &cc, a);

		if (!keep) {
			run++;
			continue;
		}
		if (run && madvise((void *)(uintptr_t)(base + (a - v->start) - run * PAGE_SIZE), run * PAGE_SIZE,
				   MADV_DONTNEED)) {
			pr_perror("process %d: can't drop inherited pages at 0x%llx", rt->pid, (unsigned long long)a);
			return -errno;
		}
		run = 0;
	}
	return 0;
}

static int fill_one(const struct restore_task *rt, size_t i)
{
	const VmaEntry *v = rt->mm->vmas[i];
	uint64_t base = rt->premap_addr[i], len = v->end - v->start;
	void *p;

	if (rt->premap[i] == PREMAP_INHERIT)
		return drop_missing(rt, v, base) ?: fill_present(rt, v, base);
	p = mmap((void *)(uintptr_t)base, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		pr_perror("process %d: can't map premapped memory for 0x%llx", rt->pid, (unsigned long long)v->start);
		return -errno;
	}
	return fill_present(rt, v, base) ?: fill_xruns(rt, v, base);
}

int restore_premap_fill(struct restore_task *rt)
{
	size_t i;
	int ret;

	if (!rt->premap)
		return 0;
	for (i = 0; i < rt->mm->n_vmas; i++) {
		if (rt->premap[i] == PREMAP_NONE)
			continue;
		ret = fill_one(rt, i);
		if (ret)
			return ret;
	}
	return 0;
}
