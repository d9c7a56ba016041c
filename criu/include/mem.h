/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CR_MEM_H
#define CR_MEM_H

#include <stdint.h>
#include <sys/types.h>

#include "mm.pb-c.h"
#include "proc-parse.h"

struct file_desc_table;
struct infect_ctx;

struct page_run {
	uint64_t vaddr;
	uint64_t nr_pages;
};

/* The address space of one task as the dump sees it. */
struct mm_dump {
	MmEntry mm;
	VmaEntry *vma_store;
	VmaEntry **vma_ptrs;
	struct page_run *runs;
	size_t nr_runs, runs_cap;
	uint64_t nr_pages;
	/* Pages left in the parent's images: still shared copy-on-write with it. */
	struct page_run *cow_runs;
	size_t nr_cow_runs, cow_runs_cap;
	uint64_t nr_cow_pages;
};

/* The parent of a process being scanned, for pages it still shares copy-on-write. */
struct cow_parent {
	pid_t pid;
	const struct mm_dump *md; /* scanned already */
};

/*
 * The ranges of shared memory objects whose pages a process of the tree
 * has saved already: the others mapping them store nothing more.
 */
struct shm_range {
	uint64_t shmid;
	uint64_t start, end; /* offsets in the object */
};

struct shm_dumped {
	struct shm_range *r;
	size_t nr, cap;
};

/* Classify every VMA, refusing what can't be restored faithfully. */
int mem_collect_vmas(pid_t pid, const struct proc_vmas *pv, struct file_desc_table *fdt, struct mm_dump *md);
/* Find the pages that must be saved (present or swapped, private, not the zero page). */
int mem_scan_pages(pid_t pid, struct mm_dump *md, struct shm_dumped *shm, const struct cow_parent *parent);
/* Write pagemap-PID.img and pages-PID.img, the parasite pushing the pages. */
int mem_dump_pages(struct infect_ctx *ic, pid_t pid, int imgdir_fd, struct mm_dump *md);
int mem_write_mm(int imgdir_fd, pid_t pid, struct mm_dump *md);
void mem_dump_free(struct mm_dump *md);

#endif
