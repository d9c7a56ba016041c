// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: the restorer's list of VMAs and runs of pages, made from the
 * validated mm and pagemap images. Besides copying, it decides how the
 * restorer builds each VMA (RVMA_*): which ones get page data, which take
 * userfaultfd copies, and which must be kept from merging with their
 * neighbour so that /proc/PID/maps comes out as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "restore.h"
#include "util.h"

/* The VMA holding addr; *vi walks forward only (runs and VMAs are both sorted). */
static const VmaEntry *vma_at(const MmEntry *mm, size_t *vi, uint64_t addr)
{
	while (*vi < mm->n_vmas && mm->vmas[*vi]->end <= addr)
		(*vi)++;
	return *vi < mm->n_vmas && mm->vmas[*vi]->start <= addr ? mm->vmas[*vi] : NULL;
}

static bool vma_premapped(const struct restore_task *rt, size_t i)
{
	return rt->premap && (rt->premap[i] == PREMAP_FRESH || rt->premap[i] == PREMAP_INHERIT);
}

/*
 * Where the stretch of [a, end) starting at a stops being all premapped or
 * all not: premapped VMAs were filled before the fork, their pages are not
 * the restorer's to read.
 */
static uint64_t stretch_end(const struct restore_task *rt, size_t vi, const VmaEntry *v, uint64_t a, uint64_t end,
			    bool *premapped)
{
	size_t j;

	*premapped = v && vma_premapped(rt, vi);
	if (*premapped)
		return min(end, (uint64_t)v->end);
	for (j = vi; j < rt->mm->n_vmas && rt->mm->vmas[j]->start < end; j++)
		if (rt->mm->vmas[j]->start > a && vma_premapped(rt, j))
			return rt->mm->vmas[j]->start;
	return end;
}

/*
 * The restorer's runs, or only their count (runs NULL). Pieces that touch
 * in memory and in the pages image within one VMA are one read.
 */
static size_t walk_runs(const struct restore_task *rt, struct restorer_run *runs, uint64_t *bytes)
{
	uint64_t off = 0, last_end = 0, last_off_end = 0, total = 0;
	size_t i, n = 0, vi = 0;

	for (i = 0; i < rt->nr_pm; i++) {
		uint64_t a = rt->pm[i]->vaddr, end = a + ((uint64_t)rt->pm[i]->nr_pages << PAGE_SHIFT);

		while (a < end) {
			const VmaEntry *v = vma_at(rt->mm, &vi, a);
			bool premapped;
			uint64_t b = stretch_end(rt, vi, v, a, end, &premapped);

			if (!premapped) {
				bool join = n && last_end == a && last_off_end == off && v && a > v->start;

				if (!join) {
					if (runs) {
						memset(&runs[n], 0, sizeof(runs[n]));
						runs[n].base = a;
						runs[n].off = off;
					}
					n++;
				}
				if (runs)
					runs[n - 1].len += b - a;
				last_end = b;
				last_off_end = off + (b - a);
				total += b - a;
			}
			off += b - a;
			a = b;
		}
	}
	if (bytes)
		*bytes = total;
	return n;
}

size_t restore_count_runs(const struct restore_task *rt)
{
	return walk_runs(rt, NULL, NULL);
}

size_t restore_names_size(const struct restore_task *rt)
{
	size_t i, len, total = 0;

	for (i = 0; i < rt->mm->n_vmas; i++)
		if (vma_anon_name(rt->mm->vmas[i], &len))
			total += len + 1;
	return total;
}

size_t restore_count_vma_fds(const struct restore_task *rt)
{
	size_t i, j, nr = 0;

	for (i = 0; i < rt->mm->n_vmas; i++) {
		if (rt->vma_fds[i] < 0)
			continue;
		for (j = 0; j < i && rt->vma_fds[j] != rt->vma_fds[i]; j++)
			;
		nr += j == i;
	}
	return nr;
}

/* Mark the VMAs page data lands in: they are mapped writable until filled. */
static void mark_filled_by(const struct restore_task *rt, PagemapEntry *const *pm, size_t nr, bool *filled)
{
	size_t i, vi = 0;

	for (i = 0; i < nr; i++) {
		uint64_t start = pm[i]->vaddr;
		uint64_t end = start + ((uint64_t)pm[i]->nr_pages << PAGE_SHIFT);

		while (vi < rt->mm->n_vmas && rt->mm->vmas[vi]->end <= start)
			vi++;
		/* validate_pagemap checked that VMAs cover the run. */
		for (; vi < rt->mm->n_vmas && rt->mm->vmas[vi]->start < end; vi++) {
			filled[vi] = true;
			if (rt->mm->vmas[vi]->end > end)
				break;
		}
	}
}

static void fill_one_vma(const struct restore_task *rt, size_t i, bool filled, struct restorer_vma *rv,
			 struct vma_list_dest *d, char **names)
{
	const VmaEntry *v = rt->mm->vmas[i];
	const char *name;
	size_t len;

	memset(rv, 0, sizeof(*rv));
	rv->start = v->start;
	rv->end = v->end;
	rv->pgoff = vma_kind_is_file(v->kind) || v->has_shmid ? v->pgoff : 0;
	rv->madv = v->has_madv ? v->madv : 0;
	rv->prot = v->prot;
	/* locked after filling: MAP_LOCKED would fault pages in first */
	rv->map_flags = v->flags & ~(MAP_FIXED | MAP_LOCKED);
	rv->lock = !!(v->flags & MAP_LOCKED);
	/* criu's fd number: the child replaces it with the one it moved the fd to. */
	rv->fd = rt->vma_fds[i];
	/* a shared object is mapped through its file, which criu created */
	if (v->has_shmid)
		rv->map_flags &= ~MAP_ANONYMOUS;
	rv->how = filled ? RVMA_FILL : 0;
	if (vma_premapped(rt, i)) {
		rv->how = RVMA_PREMAP;
		rv->premap = rt->premap_addr[i];
	}
	name = vma_anon_name(v, &len);
	if (name) {
		memcpy(*names, name, len);
		(*names)[len] = 0;
		rv->anon_name = d->names_addr + (*names - d->names);
		*names += len + 1;
	}
}

static bool vma_is_private_anon(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_HEAP || v->kind == VMA_KIND__VMA_STACK;
}

static bool same_anon_name(const VmaEntry *a, const VmaEntry *b)
{
	size_t la = 0, lb = 0;
	const char *na = vma_anon_name(a, &la), *nb = vma_anon_name(b, &lb);

	return la == lb && (!na || !memcmp(na, nb, la));
}

/*
 * Would the kernel merge b into a if both were mapped afresh? Private file
 * mappings of one file id share one fd, so one struct file, in the restorer.
 */
static bool vmas_would_merge(const VmaEntry *a, const VmaEntry *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags || !same_anon_name(a, b))
		return false;
	if ((a->has_madv ? a->madv : 0) != (b->has_madv ? b->madv : 0))
		return false;
	if (vma_is_private_anon(a) && vma_is_private_anon(b))
		return true;
	return a->kind == VMA_KIND__VMA_FILE_PRIVATE && b->kind == VMA_KIND__VMA_FILE_PRIVATE &&
	       a->file_id == b->file_id && b->pgoff == a->pgoff + (a->end - a->start);
}

/*
 * Two such neighbours were separate VMAs in the target, so they must stay
 * separate: each gets its own anon_vma before they meet (RVMA_TOUCH), the
 * second by being built elsewhere and moved in (RVMA_ISOLATE).
 */
static uint64_t mark_merge_guards(struct restorer_vma *rv, const VmaEntry *const *src, size_t n)
{
	uint64_t scratch = 0;
	size_t i;

	for (i = 1; i < n; i++) {
		/* a premapped VMA comes with its own anon_vma and offset: it merges with nothing fresh */
		if ((rv[i - 1].how | rv[i].how) & RVMA_PREMAP)
			continue;
		if (!vmas_would_merge(src[i - 1], src[i]))
			continue;
		rv[i - 1].how |= RVMA_TOUCH;
		rv[i].how |= RVMA_TOUCH | RVMA_ISOLATE;
		pr_debug("vma 0x%llx-0x%llx is kept apart from the one before it\n", (unsigned long long)rv[i].start,
			 (unsigned long long)rv[i].end);
		scratch = max(scratch, rv[i].end - rv[i].start + 2 * PAGE_SIZE);
	}
	return scratch;
}

/* Private anonymous memory to fill takes UFFDIO_COPY (see restorer-pages.c). */
static void mark_uffd_vmas(struct restorer_vma *rv, const VmaEntry *const *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((rv[i].how & RVMA_FILL) && vma_is_private_anon(src[i]))
			rv[i].how |= RVMA_UFFD;
}

int restore_build_vmas(const struct restore_task *rt, struct vma_list_dest *d)
{
	char *names = d->names;
	const VmaEntry **src;
	bool *filled;
	size_t i, n = 0;

	filled = xzalloc(rt->mm->n_vmas * sizeof(*filled));
	src = xmalloc(rt->mm->n_vmas * sizeof(*src));
	if (!filled || !src) {
		free(filled);
		free(src);
		return -ENOMEM;
	}
	mark_filled_by(rt, rt->pm, rt->nr_pm, filled);
	mark_filled_by(rt, rt->cow_pm, rt->nr_cow_pm, filled);
	for (i = 0; i < rt->mm->n_vmas; i++) {
		if (vma_kind_is_special(rt->mm->vmas[i]->kind))
			continue;
		src[n] = rt->mm->vmas[i];
		fill_one_vma(rt, i, filled[i], &d->vmas[n++], d, &names);
	}
	d->scratch_size = mark_merge_guards(d->vmas, src, n);
	mark_uffd_vmas(d->vmas, src, n);
	d->nr = n;
	free(filled);
	free(src);
	return 0;
}

/* Runs and VMAs are both sorted: one cursor finds each run's VMA. */
static void mark_uffd_runs(const struct restorer_vma *rv, size_t nr_vmas, struct restorer_run *runs, size_t n)
{
	size_t i, vi = 0;

	for (i = 0; i < n; i++) {
		while (vi < nr_vmas && rv[vi].end <= runs[i].base)
			vi++;
		if (vi < nr_vmas && rv[vi].start <= runs[i].base && runs[i].base + runs[i].len <= rv[vi].end &&
		    (rv[vi].how & RVMA_UFFD))
			runs[i].how |= RRUN_UFFD;
	}
}

size_t restore_build_runs(const struct restore_task *rt, const struct restorer_vma *rv, size_t nr_vmas,
			  struct restorer_run *runs, uint64_t *bytes)
{
	size_t n = walk_runs(rt, runs, bytes);

	mark_uffd_runs(rv, nr_vmas, runs, n);
	return n;
}
