// SPDX-License-Identifier: GPL-2.0
/*
 * Restore, step 1: read every image of the task, pass each entry through
 * validate.c, and open the files the restorer will need. All of it happens
 * in criu before any process is created, so a bad image or a missing file
 * costs nothing to undo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "restore.h"
#include "util.h"

int restore_read_inventory(struct restore_tree *tree)
{
	int ret;

	ret = img_read_one(tree->ctx->imgdir_fd, CR_IMG_INVENTORY, 0, &inventory_entry__descriptor,
			   (ProtobufCMessage **)&tree->inventory);
	return ret ?: validate_inventory(tree->inventory, &tree->env);
}

static int read_core_and_mm(struct restore_task *rt)
{
	int dirfd = rt->ctx->imgdir_fd;
	int ret;

	ret = img_read_one(dirfd, CR_IMG_CORE, rt->pid, &task_core_entry__descriptor, (ProtobufCMessage **)&rt->core);
	if (ret)
		return ret;
	ret = validate_core(rt->core, rt->pid, rt->env);
	ret = ret ?: validate_core_threads(rt->core, rt->pstree, rt->env);
	if (ret)
		return ret;
	/* Validation of mm-PID.img checks its file ids against files.img. */
	ret = files_read_task(dirfd, rt->pid, &rt->tree->files, &rt->files);
	if (ret)
		return ret;
	rt->have_files = true;
	ret = img_read_one(dirfd, CR_IMG_MM, rt->pid, &mm_entry__descriptor, (ProtobufCMessage **)&rt->mm);
	if (ret)
		return ret;
	return validate_mm(rt->mm, rt->pid, &rt->files, rt->env);
}

static int pagemap_append(struct restore_task *rt, PagemapEntry *pe, size_t *cap)
{
	if (xgrow(&rt->pm, cap, rt->nr_pm, sizeof(*rt->pm)))
		return -ENOMEM;
	rt->pm[rt->nr_pm++] = pe;
	return 0;
}

static int read_pagemap_entries(struct restore_task *rt, struct cr_img *img)
{
	PagemapEntry *pe;
	size_t cap = 0;
	int ret;

	ret = img_read_entry(img, &pagemap_head__descriptor, (ProtobufCMessage **)&rt->pm_head);
	if (ret == 0) {
		pr_err("%s: no pagemap_head\n", img->name);
		return -EINVAL;
	}
	while (ret > 0) {
		ret = img_read_entry(img, &pagemap_entry__descriptor, (ProtobufCMessage **)&pe);
		if (ret > 0 && pagemap_append(rt, pe, &cap)) {
			img_free_entry(&pe->base);
			return -ENOMEM;
		}
	}
	return ret;
}

static int open_pages_image(struct restore_task *rt)
{
	struct cr_img *img;
	struct stat st;

	img = img_open(rt->ctx->imgdir_fd, CR_IMG_PAGES, false, rt->pm_head->pages_id);
	if (!img)
		return -ENOENT;
	if (fstat(img->fd, &st)) {
		pr_perror("%s: can't stat", img->name);
		img_close(img);
		return -EIO;
	}
	rt->pages_size = st.st_size;
	/* Keep the fd, drop the wrapper: the restorer reads it with preadv. */
	rt->pages_fd = img->fd;
	img->fd = -1;
	img_close(img);
	return 0;
}

/* PE_COW entries go to cow_pm: restore-cow.c finds their pages in the ancestors' images. */
static int split_cow_entries(struct restore_task *rt)
{
	size_t i, n = 0;

	for (i = 0; i < rt->nr_pm; i++)
		rt->nr_cow_pm += rt->pm[i]->flags == PAGEMAP_FLAGS__PE_COW;
	if (!rt->nr_cow_pm)
		return 0;
	rt->cow_pm = xmalloc(rt->nr_cow_pm * sizeof(*rt->cow_pm));
	if (!rt->cow_pm)
		return -ENOMEM;
	rt->nr_cow_pm = 0;
	for (i = 0; i < rt->nr_pm; i++) {
		if (rt->pm[i]->flags == PAGEMAP_FLAGS__PE_COW)
			rt->cow_pm[rt->nr_cow_pm++] = rt->pm[i];
		else
			rt->pm[n++] = rt->pm[i];
	}
	rt->nr_pm = n;
	return 0;
}

static int read_pagemap(struct restore_task *rt)
{
	struct cr_img *img;
	int ret;

	img = img_open(rt->ctx->imgdir_fd, CR_IMG_PAGEMAP, false, rt->pid);
	if (!img)
		return -ENOENT;
	ret = read_pagemap_entries(rt, img);
	img_close(img);
	if (ret)
		return ret;
	ret = open_pages_image(rt);
	if (ret)
		return ret;
	ret = validate_pagemap(rt->pm_head, rt->pm, rt->nr_pm, rt->mm, rt->pages_size, rt->pid);
	return ret ?: split_cow_entries(rt);
}

int restore_read_images(struct restore_task *rt)
{
	int ret;

	ret = read_core_and_mm(rt);
	ret = ret ?: read_pagemap(rt);
	if (ret)
		return ret;
	ret = fs_prepare_restore(rt->ctx->imgdir_fd, rt->pid, &rt->fs);
	if (ret)
		return ret;
	rt->have_fs = true;
	return 0;
}

/* ---- files the restorer maps ---- */

static int check_vma_fd_mode(int fd, const VmaEntry *v, const char *path, pid_t pid)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0) {
		pr_perror("can't get the flags of %s", path);
		return -errno;
	}
	/* A writable shared mapping needs the file opened for writing. */
	if (v->kind == VMA_KIND__VMA_FILE_SHARED && (v->prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR) {
		pr_err("mm-%d.img: vma 0x%llx-0x%llx is a writable shared mapping of %s, but files.img opens it "
		       "read-only\n",
		       pid, (unsigned long long)v->start, (unsigned long long)v->end, path);
		return -EINVAL;
	}
	return 0;
}

/* One fd per file of files.img, shared by all the VMAs mapping it. */
static int open_vma_file(struct restore_task *rt, size_t i)
{
	const VmaEntry *v = rt->mm->vmas[i];
	const FileEntry *fe = files_find(&rt->files, v->file_id);
	size_t j;
	int fd;

	for (j = 0; j < i; j++) {
		if (rt->vma_fds[j] >= 0 && rt->mm->vmas[j]->file_id == v->file_id) {
			rt->vma_fds[i] = rt->vma_fds[j];
			return check_vma_fd_mode(rt->vma_fds[i], v, files_entry_path(fe), rt->pid);
		}
	}
	/* the unmodified pages of a private mapping are read from the file */
	fd = files_open_mapped(&rt->tree->files, fe, v->kind == VMA_KIND__VMA_FILE_PRIVATE);
	if (fd < 0) {
		pr_err("mm-%d.img: can't open %s mapped at 0x%llx\n", rt->pid, files_entry_path(fe),
		       (unsigned long long)v->start);
		return fd;
	}
	rt->vma_fds[i] = fd;
	return check_vma_fd_mode(fd, v, files_entry_path(fe), rt->pid);
}

/* One fd per shared object, shared by all the VMAs of this process mapping it. */
static int open_vma_shm(struct restore_task *rt, size_t i)
{
	const VmaEntry *v = rt->mm->vmas[i];
	size_t j;

	for (j = 0; j < i; j++) {
		if (rt->vma_fds[j] >= 0 && rt->mm->vmas[j]->has_shmid && rt->mm->vmas[j]->shmid == v->shmid) {
			rt->vma_fds[i] = rt->vma_fds[j];
			return 0;
		}
	}
	rt->vma_fds[i] = restore_shm_open(rt->tree, v);
	return rt->vma_fds[i] < 0 ? rt->vma_fds[i] : 0;
}

int restore_open_helpers(struct restore_task *rt)
{
	size_t i;
	int ret;

	rt->vma_fds = xmalloc(rt->mm->n_vmas * sizeof(int));
	if (!rt->vma_fds)
		return -ENOMEM;
	for (i = 0; i < rt->mm->n_vmas; i++)
		rt->vma_fds[i] = -1;
	for (i = 0; i < rt->mm->n_vmas; i++) {
		if (rt->mm->vmas[i]->has_shmid) {
			ret = open_vma_shm(rt, i);
			if (ret)
				return ret;
			continue;
		}
		if (!vma_kind_is_file(rt->mm->vmas[i]->kind))
			continue;
		ret = open_vma_file(rt, i);
		if (ret)
			return ret;
	}
	if (!rt->mm->has_exe_file_id) {
		pr_warn("mm-%d.img: no exe_file_id: /proc/%d/exe will name criu\n", rt->pid, rt->pid);
		return 0;
	}
	rt->exe_fd = files_open_mapped(&rt->tree->files, files_find(&rt->files, rt->mm->exe_file_id), true);
	if (rt->exe_fd < 0) {
		pr_err("mm-%d.img: can't open the executable\n", rt->pid);
		return rt->exe_fd;
	}
	return 0;
}

void restore_close_helpers(struct restore_task *rt)
{
	size_t i, j;

	close_safe(&rt->pages_fd);
	close_safe(&rt->exe_fd);
	if (!rt->vma_fds)
		return;
	for (i = 0; i < rt->mm->n_vmas; i++) {
		int fd = rt->vma_fds[i];

		if (fd < 0)
			continue;
		/* Close each shared fd once. */
		for (j = i; j < rt->mm->n_vmas; j++)
			if (rt->vma_fds[j] == fd)
				rt->vma_fds[j] = -1;
		close(fd);
	}
	free(rt->vma_fds);
	rt->vma_fds = NULL;
}

void restore_free_images(struct restore_task *rt)
{
	size_t i;

	restore_close_helpers(rt);
	if (rt->have_fs) {
		close_safe(&rt->fs.cwd_fd);
		free(rt->fs.root);
		rt->have_fs = false;
	}
	if (rt->have_files)
		files_free(&rt->files);
	rt->have_files = false;
	for (i = 0; i < rt->nr_pm; i++)
		img_free_entry(&rt->pm[i]->base);
	for (i = 0; i < rt->nr_cow_pm; i++)
		img_free_entry(&rt->cow_pm[i]->base);
	free(rt->pm);
	free(rt->cow_pm);
	rt->pm = rt->cow_pm = NULL;
	rt->nr_pm = rt->nr_cow_pm = 0;
	restore_cow_close(rt);
	free(rt->pm_off);
	free(rt->premap);
	free(rt->premap_addr);
	rt->pm_off = rt->premap_addr = NULL;
	rt->premap = NULL;
	free(rt->xruns);
	rt->xruns = NULL;
	rt->nr_xruns = 0;
	free(rt->threads);
	rt->threads = NULL;
	rt->nr_threads = 0;
	img_free_entry(rt->pm_head ? &rt->pm_head->base : NULL);
	img_free_entry(rt->mm ? &rt->mm->base : NULL);
	img_free_entry(rt->core ? &rt->core->base : NULL);
	rt->pm_head = NULL;
	rt->mm = NULL;
	rt->core = NULL;
}
