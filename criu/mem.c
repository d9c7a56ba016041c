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
		pr_err("process %d: mapping %lx-%lx of deleted file %s is not supported yet\n", pid,
		       (unsigned long)v->start, (unsigned long)v->end, v->path);
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
		ret = fdt_add_path(fdt, v->path, flags, &e->file_id);
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
static int add_page(struct mm_dump *md, uint64_t addr, uint64_t vma_start)
{
	struct page_run *last = md->nr_runs ? &md->runs[md->nr_runs - 1] : NULL;

	md->nr_pages++;
	if (last && last->vaddr >= vma_start && last->vaddr + last->nr_pages * PAGE_SIZE == addr &&
	    last->nr_pages < UINT32_MAX) {
		last->nr_pages++;
		return 0;
	}
	if (xgrow(&md->runs, &md->runs_cap, md->nr_runs, sizeof(*md->runs)))
		return -ENOMEM;
	md->runs[md->nr_runs].vaddr = addr;
	md->runs[md->nr_runs].nr_pages = 1;
	md->nr_runs++;
	return 0;
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

static int scan_vma(pid_t pid, int pm_fd, const VmaEntry *e, uint64_t zero_pfn, uint64_t *buf, struct mm_dump *md)
{
	struct data_extent *extents = NULL;
	size_t nr_extents = 0, cur = 0;
	uint64_t addr = e->start;
	int ret = 0;

	if (vma_kind_is_shm(e->kind)) {
		ret = shmem_extents(pid, e, &extents, &nr_extents);
		if (ret)
			return ret;
	}
	while (addr < e->end && !ret) {
		size_t n = min((e->end - addr) / PAGE_SIZE, (uint64_t)PAGEMAP_CHUNK), i;
		ssize_t r = pread(pm_fd, buf, n * 8, addr / PAGE_SIZE * 8);

		if (r != (ssize_t)(n * 8)) {
			pr_perror("can't read pagemap at 0x%lx", (unsigned long)addr);
			ret = -EIO;
			break;
		}
		for (i = 0; i < n && !ret; i++, addr += PAGE_SIZE)
			if (page_wanted(e, buf[i], zero_pfn) || in_extents(extents, nr_extents, &cur, addr))
				ret = add_page(md, addr, e->start);
	}
	free(extents);
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
static int scan_one(pid_t pid, int pm_fd, const VmaEntry *e, uint64_t zero_pfn, uint64_t *buf, struct mm_dump *md,
		    struct shm_dumped *shm)
{
	if (!vma_kind_is_shm(e->kind))
		return scan_vma(pid, pm_fd, e, zero_pfn, buf, md);
	if (shm_range_saved(shm, e)) {
		pr_debug("process %d: shared object %llu at 0x%llx is saved already\n", pid,
			 (unsigned long long)e->shmid, (unsigned long long)e->start);
		return 0;
	}
	return scan_vma(pid, pm_fd, e, zero_pfn, buf, md) ?: shm_range_note(shm, e);
}

int mem_scan_pages(pid_t pid, struct mm_dump *md, struct shm_dumped *shm)
{
	uint64_t zero_pfn = zero_page_pfn(), *buf;
	char path[64];
	size_t i;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	buf = xmalloc(PAGEMAP_CHUNK * 8);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (i = 0; i < md->mm.n_vmas && !ret; i++)
		if (vma_has_private_pages(md->mm.vmas[i]))
			ret = scan_one(pid, fd, md->mm.vmas[i], zero_pfn, buf, md, shm);
	free(buf);
	close(fd);
	pr_info("process %d: %lu pages to save in %zu runs\n", pid, (unsigned long)md->nr_pages, md->nr_runs);
	return ret;
}

static int write_pagemap(int imgdir_fd, pid_t pid, struct mm_dump *md)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct cr_img *img;
	size_t i;
	int ret;

	img = img_open(imgdir_fd, CR_IMG_PAGEMAP, true, pid);
	if (!img)
		return -EIO;
	head.pages_id = pid;
	ret = img_write_entry(img, &head.base);
	for (i = 0; i < md->nr_runs && !ret; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = md->runs[i].vaddr;
		pe.nr_pages = md->runs[i].nr_pages;
		pe.flags = PAGEMAP_FLAGS__PE_PRESENT;
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
	free(md->mm.auxv);
	memset(md, 0, sizeof(*md));
}
