// SPDX-License-Identifier: GPL-2.0
/*
 * Memory: VMAs and their pages. Pages go target -> vmsplice -> pipe ->
 * splice -> pages image, in large batches, while the parasite and the
 * dumper run side by side: no copy through a buffer of the dumper.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "compel/infect.h"
#include "files.h"
#include "image.h"
#include "log.h"
#include "mem.h"
#include "page-xfer.h"
#include "pagemap.pb-c.h"
#include "parasite.h"
#include "util.h"

#define PME_PRESENT (1ULL << 63)
#define PME_SWAP (1ULL << 62)
#define PME_FILE (1ULL << 61)
#define PME_PFN_MASK ((1ULL << 55) - 1)

#define PAGEMAP_CHUNK 65536 /* entries read at once */

static const struct {
	const char *label;
	VmaKind kind;
} special_vmas[] = {
	{ "[heap]", VMA_KIND__VMA_HEAP },
	{ "[stack]", VMA_KIND__VMA_STACK },
	{ "[vdso]", VMA_KIND__VMA_VDSO },
	{ "[vvar]", VMA_KIND__VMA_VVAR },
	{ "[vvar_vclock]", VMA_KIND__VMA_VVAR_VCLOCK },
	{ "[vsyscall]", VMA_KIND__VMA_VSYSCALL },
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void map_files_path(char *buf, size_t size, pid_t pid, const struct proc_vma *v)
{
	snprintf(buf, size, "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)v->start, (unsigned long)v->end);
}

/* A regular file with no name left: its content is saved (files-ghost.c), the mapping is kept. */
static bool is_ghost_vma(pid_t pid, const struct proc_vma *v)
{
	char path[96];
	struct stat st;

	map_files_path(path, sizeof(path), pid, v);
	return !stat(path, &st) && S_ISREG(st.st_mode) && !st.st_nlink && st.st_ino == v->ino;
}

static int classify_file_vma(pid_t pid, const struct proc_vma *v, VmaKind *kind)
{
	struct stat st;

	if (!strncmp(v->path, "/memfd:", 7) && v->shared) {
		*kind = VMA_KIND__VMA_MEMFD_SHARED;
		return 0;
	}
	if (!strncmp(v->path, "/memfd:", 7)) {
		pr_err("process %d: private memfd mapping %lx-%lx (%s) is not supported yet\n", pid,
		       (unsigned long)v->start, (unsigned long)v->end, v->path);
		return -ENOTSUP;
	}
	if (ends_with(v->path, " (deleted)")) {
		if (!strncmp(v->path, "/dev/zero", 9) && v->shared) {
			*kind = VMA_KIND__VMA_ANON_SHARED;
			return 0;
		}
		if (!strncmp(v->path, "/SYSV", 5)) {
			pr_err("process %d: mapping %lx-%lx of SysV shared memory (%s) is not supported yet\n", pid,
			       (unsigned long)v->start, (unsigned long)v->end, v->path);
			return -ENOTSUP;
		}
		if (is_ghost_vma(pid, v)) {
			*kind = v->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
			return 0;
		}
		pr_err("process %d: mapping %lx-%lx of deleted file %s (with another link left, or not a regular "
		       "file) is not supported yet\n",
		       pid, (unsigned long)v->start, (unsigned long)v->end, v->path);
		return -ENOTSUP;
	}
	if (stat(v->path, &st) || st.st_ino != v->ino || major(st.st_dev) != v->dev_major ||
	    minor(st.st_dev) != v->dev_minor) {
		pr_err("process %d: mapped file %s is not the one at that path any more\n", pid, v->path);
		return -ENOTSUP;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("process %d: mapping %lx-%lx of %s (not a regular file) is not supported yet\n", pid,
		       (unsigned long)v->start, (unsigned long)v->end, v->path);
		return -ENOTSUP;
	}
	*kind = v->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
	return 0;
}

static int classify_vma(pid_t pid, const struct proc_vma *v, VmaKind *kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(special_vmas); i++) {
		if (!strcmp(v->path, special_vmas[i].label)) {
			*kind = special_vmas[i].kind;
			return 0;
		}
	}
	if (v->vmflags & (VMF_IO | VMF_PFNMAP)) {
		pr_err("process %d: device mapping %lx-%lx (%s) can't be dumped\n", pid, (unsigned long)v->start,
		       (unsigned long)v->end, v->path);
		return -ENOTSUP;
	}
	if (!v->path[0]) {
		*kind = v->shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_ANON_PRIVATE;
		return 0;
	}
	if (!strncmp(v->path, "[anon:", 6)) {
		*kind = v->shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_ANON_PRIVATE;
		return 0;
	}
	if (v->path[0] == '/')
		return classify_file_vma(pid, v, kind);
	pr_err("process %d: mapping %lx-%lx (%s) is not supported yet\n", pid, (unsigned long)v->start,
	       (unsigned long)v->end, v->path);
	return -ENOTSUP;
}

static uint64_t vma_madv_bits(uint32_t vmflags)
{
	uint64_t m = 0;

	if (vmflags & VMF_DONTCOPY)
		m |= 1ULL << MADV_DONTFORK;
	if (vmflags & VMF_DONTDUMP)
		m |= 1ULL << MADV_DONTDUMP;
	if (vmflags & VMF_HUGEPAGE)
		m |= 1ULL << MADV_HUGEPAGE;
	if (vmflags & VMF_NOHUGEPAGE)
		m |= 1ULL << MADV_NOHUGEPAGE;
	if (vmflags & VMF_MERGEABLE)
		m |= 1ULL << MADV_MERGEABLE;
	if (vmflags & VMF_WIPEONFORK)
		m |= 1ULL << MADV_WIPEONFORK;
	return m;
}

static bool vma_kind_is_shm(VmaKind kind)
{
	return kind == VMA_KIND__VMA_ANON_SHARED || kind == VMA_KIND__VMA_MEMFD_SHARED;
}

/* "/memfd:NAME (deleted)" -> NAME */
static char *memfd_name(const char *path)
{
	const char *name = path + strlen("/memfd:");
	size_t len = strlen(name);

	if (ends_with(name, " (deleted)"))
		len -= strlen(" (deleted)");
	char *ret = strndup(name, len);

	if (!ret)
		pr_err("out of memory\n");
	return ret;
}

/* The object behind a shared mapping: its inode and size, the same for every process mapping it. */
static int fill_shm(pid_t pid, const struct proc_vma *v, VmaEntry *e)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)v->start, (unsigned long)v->end);
	if (stat(path, &st)) {
		pr_perror("process %d: can't stat the object mapped at %lx-%lx", pid, (unsigned long)v->start,
			  (unsigned long)v->end);
		return -errno;
	}
	e->has_shmid = e->has_shm_size = true;
	e->shmid = st.st_ino;
	e->shm_size = st.st_size;
	if (e->kind != VMA_KIND__VMA_MEMFD_SHARED)
		return 0;
	e->flags &= ~MAP_ANONYMOUS;
	e->memfd_name = memfd_name(v->path);
	return e->memfd_name ? 0 : -ENOMEM;
}

/* The description a file mapping names: by path, or a deleted file's. */
static int file_vma_id(pid_t pid, const struct proc_vma *v, uint32_t flags, struct file_desc_table *fdt, uint32_t *id)
{
	char path[96], what[96];

	if (!ends_with(v->path, " (deleted)"))
		return fdt_add_path(fdt, v->path, flags, id);
	map_files_path(path, sizeof(path), pid, v);
	snprintf(what, sizeof(what), "mapping %lx-%lx of process %d", (unsigned long)v->start, (unsigned long)v->end,
		 pid);
	return fdt_add_deleted(fdt, path, v->path, what, flags, id);
}

static int fill_vma(pid_t pid, const struct proc_vma *v, VmaEntry *e, struct file_desc_table *fdt)
{
	VmaKind kind;
	int ret;

	ret = classify_vma(pid, v, &kind);
	if (ret)
		return ret;
	vma_entry__init(e);
	e->start = v->start;
	e->end = v->end;
	e->pgoff = v->pgoff;
	e->prot = v->prot;
	e->kind = kind;
	e->flags = v->shared ? MAP_SHARED : MAP_PRIVATE;
	if (kind != VMA_KIND__VMA_FILE_PRIVATE && kind != VMA_KIND__VMA_FILE_SHARED)
		e->flags |= MAP_ANONYMOUS;
	if (v->vmflags & VMF_GROWSDOWN)
		e->flags |= MAP_GROWSDOWN;
	if (v->vmflags & VMF_LOCKED)
		e->flags |= MAP_LOCKED;
	e->madv = vma_madv_bits(v->vmflags);
	e->has_madv = e->madv != 0;
	if (v->path[0] == '[') {
		e->name = xstrdup(v->path);
		if (!e->name)
			return -ENOMEM;
	}
	if (vma_kind_is_shm(kind))
		return fill_shm(pid, v, e);
	if (kind == VMA_KIND__VMA_FILE_PRIVATE || kind == VMA_KIND__VMA_FILE_SHARED) {
		uint32_t flags = O_RDONLY;

		/* a shared mapping that may become writable needs the file open for writing */
		if (kind == VMA_KIND__VMA_FILE_SHARED && (v->vmflags & VMF_MAYWRITE))
			flags = O_RDWR;
		ret = file_vma_id(pid, v, flags, fdt, &e->file_id);
		if (ret)
			return ret;
		e->has_file_id = true;
	}
	return 0;
}

int mem_collect_vmas(pid_t pid, const struct proc_vmas *pv, struct file_desc_table *fdt, struct mm_dump *md)
{
	size_t i;
	int ret;

	mm_entry__init(&md->mm);
	md->vma_store = xzalloc(sizeof(VmaEntry) * (pv->nr ? pv->nr : 1));
	md->vma_ptrs = xzalloc(sizeof(VmaEntry *) * (pv->nr ? pv->nr : 1));
	if (!md->vma_store || !md->vma_ptrs)
		return -ENOMEM;
	for (i = 0; i < pv->nr; i++) {
		ret = fill_vma(pid, &pv->v[i], &md->vma_store[i], fdt);
		if (ret)
			return ret;
		md->vma_ptrs[i] = &md->vma_store[i];
	}
	md->mm.n_vmas = pv->nr;
	md->mm.vmas = md->vma_ptrs;
	return 0;
}

/* The PFN of the shared zero page, or 0 if PFNs are hidden from us. */
static uint64_t zero_page_pfn(void)
{
	volatile char *p;
	uint64_t pme = 0;
	int fd;

	p = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &pme, sizeof(pme), (uintptr_t)p / PAGE_SIZE * 8) != sizeof(pme))
			pme = 0;
		close(fd);
	}
	munmap((void *)p, PAGE_SIZE);
	return (pme & PME_PRESENT) ? (pme & PME_PFN_MASK) : 0;
}

static bool vma_has_private_pages(const VmaEntry *e)
{
	switch (e->kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
	case VMA_KIND__VMA_ANON_SHARED:
	case VMA_KIND__VMA_MEMFD_SHARED:
	case VMA_KIND__VMA_HEAP:
	case VMA_KIND__VMA_STACK:
	case VMA_KIND__VMA_FILE_PRIVATE:
		return true;
	default:
		return false;
	}
}

static bool page_wanted(const VmaEntry *e, uint64_t pme, uint64_t zero_pfn)
{
	if (pme & PME_SWAP)
		return true;
	if (!(pme & PME_PRESENT))
		return false;
	if (vma_kind_is_shm(e->kind))
		return true;
	if (pme & PME_FILE) /* page cache page of a private file mapping: not modified */
		return false;
	return !(zero_pfn && (pme & PME_PFN_MASK) == zero_pfn);
}

/* Runs never cross a VMA boundary: each VMA's pages are handled on their own. */
static int add_to_runs(struct page_run **runs, size_t *nr, size_t *cap, uint64_t addr, uint64_t vma_start)
{
	struct page_run *last = *nr ? &(*runs)[*nr - 1] : NULL;

	if (last && last->vaddr >= vma_start && last->vaddr + last->nr_pages * PAGE_SIZE == addr &&
	    last->nr_pages < UINT32_MAX) {
		last->nr_pages++;
		return 0;
	}
	if (xgrow(runs, cap, *nr, sizeof(**runs)))
		return -ENOMEM;
	(*runs)[*nr].vaddr = addr;
	(*runs)[*nr].nr_pages = 1;
	(*nr)++;
	return 0;
}

static int add_page(struct mm_dump *md, uint64_t addr, uint64_t vma_start)
{
	md->nr_pages++;
	return add_to_runs(&md->runs, &md->nr_runs, &md->runs_cap, addr, vma_start);
}

static int add_cow_page(struct mm_dump *md, uint64_t addr, uint64_t vma_start)
{
	md->nr_cow_pages++;
	return add_to_runs(&md->cow_runs, &md->nr_cow_runs, &md->cow_runs_cap, addr, vma_start);
}

/*
 * Shared anonymous memory keeps its data in a shmem object, whether this
 * process maps a page at the moment or not (MADV_DONTNEED only unmaps it):
 * the object itself says which ranges hold data. Returns the ranges as
 * [start, end) addresses of e, or none if the object can't be read.
 */
struct data_extent {
	uint64_t start, end;
};

static int shmem_extents(pid_t pid, const VmaEntry *e, struct data_extent **out, size_t *nr)
{
	char path[96];
	size_t cap = 0;
	off_t pos, data, hole, end = e->pgoff + (e->end - e->start);
	int fd, ret = 0;

	*out = NULL;
	*nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)e->start, (unsigned long)e->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	for (pos = e->pgoff; pos < end; pos = hole) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 || data >= end)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		if (xgrow(out, &cap, *nr, sizeof(**out))) {
			ret = -ENOMEM;
			break;
		}
		(*out)[*nr].start = e->start + (ALIGN_DOWN(data, PAGE_SIZE) - e->pgoff);
		(*out)[*nr].end = e->start + (ALIGN_UP(hole, PAGE_SIZE) - e->pgoff);
		(*nr)++;
	}
	close(fd);
	return ret;
}

static bool in_extents(const struct data_extent *x, size_t nr, size_t *cur, uint64_t addr)
{
	while (*cur < nr && x[*cur].end <= addr)
		(*cur)++;
	return *cur < nr && x[*cur].start <= addr;
}

/* One process's page scan; parent_fd and pbuf only when its parent may hold its pages. */
struct page_scan {
	pid_t pid, parent_pid;
	int pm_fd, parent_fd;
	const struct mm_dump *parent;
	uint64_t zero_pfn;
	uint64_t *buf, *pbuf;
	struct mm_dump *md;
};

static bool in_runs(const struct page_run *runs, size_t nr, uint64_t addr)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].vaddr + runs[mid].nr_pages * PAGE_SIZE <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nr && runs[lo].vaddr <= addr;
}

/*
 * The same physical page at the same address in the parent, which saved
 * it (or left it to its own parent): a page still shared copy-on-write
 * since the fork, so identical. Needs visible PFNs (root); a written
 * page has its own frame on either side and is saved by each.
 */
static bool page_in_parent(const struct page_scan *ps, uint64_t pme, uint64_t ppme, uint64_t addr)
{
	uint64_t pfn = pme & PME_PFN_MASK;

	if (!ps->parent || !(pme & PME_PRESENT) || (pme & PME_SWAP) || !pfn)
		return false;
	if (!(ppme & PME_PRESENT) || (ppme & PME_SWAP) || (ppme & PME_PFN_MASK) != pfn)
		return false;
	return in_runs(ps->parent->runs, ps->parent->nr_runs, addr) ||
	       in_runs(ps->parent->cow_runs, ps->parent->nr_cow_runs, addr);
}

static int read_pagemap_chunk(int fd, pid_t pid, uint64_t *buf, size_t n, uint64_t addr)
{
	ssize_t r = pread(fd, buf, n * 8, addr / PAGE_SIZE * 8);

	if (r != (ssize_t)(n * 8)) {
		pr_perror("can't read the pagemap of %d at 0x%lx", pid, (unsigned long)addr);
		return -EIO;
	}
	return 0;
}

static int scan_chunk(struct page_scan *ps, const VmaEntry *e, uint64_t addr, size_t n)
{
	bool cow = ps->parent && !vma_kind_is_shm(e->kind);
	size_t i;
	int ret;

	ret = read_pagemap_chunk(ps->pm_fd, ps->pid, ps->buf, n, addr);
	if (!ret && cow)
		ret = read_pagemap_chunk(ps->parent_fd, ps->parent_pid, ps->pbuf, n, addr);
	for (i = 0; i < n && !ret; i++, addr += PAGE_SIZE) {
		if (!page_wanted(e, ps->buf[i], ps->zero_pfn))
			continue;
		if (cow && page_in_parent(ps, ps->buf[i], ps->pbuf[i], addr))
			ret = add_cow_page(ps->md, addr, e->start);
		else
			ret = add_page(ps->md, addr, e->start);
	}
	return ret;
}

/* A shared object's pages are its data ranges, mapped here at the moment or not. */
static int scan_shm_vma(struct page_scan *ps, const VmaEntry *e)
{
	struct data_extent *extents = NULL;
	size_t nr_extents = 0, cur = 0;
	uint64_t addr = e->start;
	int ret;

	ret = shmem_extents(ps->pid, e, &extents, &nr_extents);
	while (addr < e->end && !ret) {
		size_t n = min((e->end - addr) / PAGE_SIZE, (uint64_t)PAGEMAP_CHUNK), i;

		ret = read_pagemap_chunk(ps->pm_fd, ps->pid, ps->buf, n, addr);
		for (i = 0; i < n && !ret; i++, addr += PAGE_SIZE)
			if (page_wanted(e, ps->buf[i], ps->zero_pfn) || in_extents(extents, nr_extents, &cur, addr))
				ret = add_page(ps->md, addr, e->start);
	}
	free(extents);
	return ret;
}

static int scan_vma(struct page_scan *ps, const VmaEntry *e)
{
	uint64_t addr = e->start;
	int ret = 0;

	if (vma_kind_is_shm(e->kind))
		return scan_shm_vma(ps, e);
	while (addr < e->end && !ret) {
		size_t n = min((e->end - addr) / PAGE_SIZE, (uint64_t)PAGEMAP_CHUNK);

		ret = scan_chunk(ps, e, addr, n);
		addr += n * PAGE_SIZE;
	}
	return ret;
}

/* Has a process dumped before (or an earlier vma of this one) saved this range of the object? */
static bool shm_range_saved(const struct shm_dumped *shm, const VmaEntry *e)
{
	uint64_t start = e->pgoff, end = e->pgoff + (e->end - e->start);
	size_t i;

	for (i = 0; i < shm->nr; i++)
		if (shm->r[i].shmid == e->shmid && shm->r[i].start <= start && shm->r[i].end >= end)
			return true;
	return false;
}

static int shm_range_note(struct shm_dumped *shm, const VmaEntry *e)
{
	if (xgrow(&shm->r, &shm->cap, shm->nr, sizeof(*shm->r)))
		return -ENOMEM;
	shm->r[shm->nr].shmid = e->shmid;
	shm->r[shm->nr].start = e->pgoff;
	shm->r[shm->nr].end = e->pgoff + (e->end - e->start);
	shm->nr++;
	return 0;
}

/* Shared objects: each range once in the whole tree. */
static int scan_one(struct page_scan *ps, const VmaEntry *e, struct shm_dumped *shm)
{
	if (!vma_kind_is_shm(e->kind))
		return scan_vma(ps, e);
	if (shm_range_saved(shm, e)) {
		pr_debug("process %d: shared object %llu at 0x%llx is saved already\n", ps->pid,
			 (unsigned long long)e->shmid, (unsigned long long)e->start);
		return 0;
	}
	return scan_vma(ps, e) ?: shm_range_note(shm, e);
}

static int open_pagemap(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s", path);
	return fd < 0 ? -errno : fd;
}

static int page_scan_init(struct page_scan *ps, pid_t pid, struct mm_dump *md, const struct cow_parent *parent)
{
	memset(ps, 0, sizeof(*ps));
	ps->pid = pid;
	ps->md = md;
	ps->parent_fd = -1;
	ps->zero_pfn = zero_page_pfn();
	ps->pm_fd = open_pagemap(pid);
	if (ps->pm_fd < 0)
		return ps->pm_fd;
	ps->buf = xmalloc(PAGEMAP_CHUNK * 8);
	if (!ps->buf)
		return -ENOMEM;
	/* Without visible PFNs (zero_pfn 0) nothing can be matched. */
	if (!parent || !ps->zero_pfn)
		return 0;
	ps->parent_fd = open_pagemap(parent->pid);
	if (ps->parent_fd < 0)
		return ps->parent_fd;
	ps->pbuf = xmalloc(PAGEMAP_CHUNK * 8);
	if (!ps->pbuf)
		return -ENOMEM;
	ps->parent = parent->md;
	ps->parent_pid = parent->pid;
	return 0;
}

static void page_scan_fini(struct page_scan *ps)
{
	if (ps->pm_fd >= 0)
		close(ps->pm_fd);
	if (ps->parent_fd >= 0)
		close(ps->parent_fd);
	free(ps->buf);
	free(ps->pbuf);
}

int mem_scan_pages(pid_t pid, struct mm_dump *md, struct shm_dumped *shm, const struct cow_parent *parent)
{
	struct page_scan ps;
	size_t i;
	int ret;

	ret = page_scan_init(&ps, pid, md, parent);
	for (i = 0; i < md->mm.n_vmas && !ret; i++)
		if (vma_has_private_pages(md->mm.vmas[i]))
			ret = scan_one(&ps, md->mm.vmas[i], shm);
	page_scan_fini(&ps);
	pr_info("process %d: %lu pages to save in %zu runs, %lu left in its parent's images\n", pid,
		(unsigned long)md->nr_pages, md->nr_runs, (unsigned long)md->nr_cow_pages);
	return ret;
}

static int write_pagemap(int imgdir_fd, pid_t pid, struct mm_dump *md)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct cr_img *img;
	size_t i, j;
	int ret;

	img = img_open(imgdir_fd, CR_IMG_PAGEMAP, true, pid);
	if (!img)
		return -EIO;
	head.pages_id = pid;
	ret = img_write_entry(img, &head.base);
	/* Both lists ascend: merge them into one ascending list of entries. */
	for (i = 0, j = 0; (i < md->nr_runs || j < md->nr_cow_runs) && !ret;) {
		bool cow = i == md->nr_runs || (j < md->nr_cow_runs && md->cow_runs[j].vaddr < md->runs[i].vaddr);
		const struct page_run *r = cow ? &md->cow_runs[j++] : &md->runs[i++];
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = r->vaddr;
		pe.nr_pages = r->nr_pages;
		pe.flags = cow ? PAGEMAP_FLAGS__PE_COW : PAGEMAP_FLAGS__PE_PRESENT;
		ret = img_write_entry(img, &pe.base);
	}
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

/* Make unreadable VMAs that hold pages readable for vmsplice (add = true), or put them back. */
static int adjust_unreadable(struct infect_ctx *ic, struct mm_dump *md, bool add)
{
	struct parasite_args *args = compel_args(ic);
	size_t i, r = 0, nr = 0;
	int32_t result;
	int ret;

	for (i = 0; i < md->mm.n_vmas; i++) {
		VmaEntry *e = md->mm.vmas[i];

		if (e->prot & PROT_READ || !vma_has_private_pages(e))
			continue;
		while (r < md->nr_runs && md->runs[r].vaddr < e->start)
			r++;
		if (r == md->nr_runs || md->runs[r].vaddr >= e->end)
			continue;
		if (nr == PARASITE_MAX_IOVS) {
			pr_err("too many unreadable areas with data\n");
			return -E2BIG;
		}
		args->iovs[nr].base = e->start;
		args->iovs[nr].len = e->end - e->start;
		args->iovs[nr].prot = add ? (e->prot | PROT_READ) : e->prot;
		nr++;
	}
	if (!nr)
		return 0;
	ret = compel_rpc_call(ic, PARASITE_CMD_MPROTECT, nr, -1, &result);
	if (!ret && result) {
		pr_err("the parasite in %d can't change protections: %s\n", ic->pid, strerror(-result));
		ret = result;
	}
	return ret;
}

int mem_dump_pages(struct infect_ctx *ic, pid_t pid, int imgdir_fd, struct mm_dump *md)
{
	struct cr_img *img;
	int ret, ret2;

	ret = write_pagemap(imgdir_fd, pid, md);
	if (ret)
		return ret;
	img = img_open(imgdir_fd, CR_IMG_PAGES, true, pid);
	if (!img)
		return -EIO;
	ret = adjust_unreadable(ic, md, true);
	if (!ret) {
		ret = page_xfer_dump(ic, md->runs, md->nr_runs, img->fd, img->name);
		ret2 = adjust_unreadable(ic, md, false);
		if (!ret)
			ret = ret2;
	}
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

int mem_write_mm(int imgdir_fd, pid_t pid, struct mm_dump *md)
{
	return img_write_one(imgdir_fd, CR_IMG_MM, pid, &md->mm.base);
}

void mem_dump_free(struct mm_dump *md)
{
	size_t i;

	if (md->vma_store)
		for (i = 0; i < md->mm.n_vmas; i++) {
			free(md->vma_store[i].name);
			free(md->vma_store[i].memfd_name);
		}
	free(md->vma_store);
	free(md->vma_ptrs);
	free(md->runs);
	free(md->cow_runs);
	free(md->mm.auxv);
	free(md->mm.vdso_image.data);
	memset(md, 0, sizeof(*md));
}
