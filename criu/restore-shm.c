// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory objects of a restored tree: MAP_SHARED anonymous memory
 * and memfd mappings. criu creates each object once, before the first
 * process, and every process maps that same object at its addresses, so a
 * write by one is seen by the others. The object's pages are in the pages
 * image of the first process that mapped each range (see mem.c); its
 * restorer writes them through its own mapping.
 *
 * An anonymous object is made the way the kernel makes one for
 * mmap(MAP_SHARED | MAP_ANONYMOUS), and opened through criu's own
 * /proc/self/map_files: mapping that file gives the same kind of mapping
 * ("/dev/zero (deleted)" in maps).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "restore.h"
#include "util.h"

struct shm_obj {
	uint64_t shmid;
	VmaKind kind;
	const char *memfd_name;	 /* in the images */
	const MemfdEntry *memfd; /* a memfd with descriptions: its size, seals and content */
	uint64_t size;
	pid_t first_pid; /* for messages */
	int fd;		 /* criu's, until the tree has it */
};

static bool vma_is_shm(const VmaEntry *v)
{
	return v->has_shmid;
}

static struct shm_obj *find_obj(const struct restore_tree *tree, uint64_t shmid)
{
	size_t i;

	for (i = 0; i < tree->nr_shm; i++)
		if (tree->shm[i].shmid == shmid)
			return &tree->shm[i];
	return NULL;
}

static int add_obj(struct restore_tree *tree, const VmaEntry *v, pid_t pid, size_t *cap)
{
	struct shm_obj *o;

	if (xgrow(&tree->shm, cap, tree->nr_shm, sizeof(*tree->shm)))
		return -ENOMEM;
	o = &tree->shm[tree->nr_shm++];
	memset(o, 0, sizeof(*o));
	o->shmid = v->shmid;
	o->kind = v->kind;
	o->memfd_name = v->memfd_name;
	o->first_pid = pid;
	o->fd = -1;
	return 0;
}

/* One vma's view of its object; every process must describe the same object. */
static int note_vma(struct restore_tree *tree, const VmaEntry *v, pid_t pid, size_t *cap)
{
	uint64_t end = v->pgoff + (v->end - v->start);
	struct shm_obj *o = find_obj(tree, v->shmid);
	int ret;

	if (!o) {
		ret = add_obj(tree, v, pid, cap);
		if (ret)
			return ret;
		o = &tree->shm[tree->nr_shm - 1];
	}
	if (o->kind != v->kind || (o->memfd_name && strcmp(o->memfd_name, v->memfd_name))) {
		pr_err("mm-%d.img: shared object %llu at 0x%llx is not the kind of object process %d maps with that "
		       "id\n",
		       pid, (unsigned long long)v->shmid, (unsigned long long)v->start, o->first_pid);
		return -EINVAL;
	}
	/* An anonymous object is as big as its mappings; a memfd keeps its own size. */
	if (o->memfd)
		return 0;
	o->size = max(o->size, v->shm_size);
	if (v->kind == VMA_KIND__VMA_ANON_SHARED)
		o->size = max(o->size, end);
	return 0;
}

/* A memfd some process holds as an fd: files.img has its name, size, seals and content. */
static int add_memfds(struct restore_tree *tree, size_t *cap)
{
	size_t i;

	for (i = 0; i < tree->files.nr_files; i++) {
		const MemfdEntry *m = tree->files.files[i]->memfd;
		struct shm_obj *o;

		if (!m || !m->has_content_id)
			continue;
		if (find_obj(tree, m->shmid)) {
			pr_err("files.img: memfd %llu is described twice\n", (unsigned long long)m->shmid);
			return -EINVAL;
		}
		if (xgrow(&tree->shm, cap, tree->nr_shm, sizeof(*tree->shm)))
			return -ENOMEM;
		o = &tree->shm[tree->nr_shm++];
		memset(o, 0, sizeof(*o));
		o->shmid = m->shmid;
		o->kind = VMA_KIND__VMA_MEMFD_SHARED;
		o->memfd_name = m->name;
		o->memfd = m;
		o->size = m->size;
		o->first_pid = tree->tasks[0].pid;
		o->fd = -1;
	}
	return 0;
}

int restore_shm_collect(struct restore_tree *tree)
{
	size_t cap = 0, i, j;
	int ret;

	ret = add_memfds(tree, &cap);
	if (ret)
		return ret;
	for (i = 0; i < tree->nr; i++) {
		const struct restore_task *rt = &tree->tasks[i];

		if (rt->zombie)
			continue;
		for (j = 0; j < rt->mm->n_vmas; j++) {
			if (!vma_is_shm(rt->mm->vmas[j]))
				continue;
			ret = note_vma(tree, rt->mm->vmas[j], rt->pid, &cap);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int create_anon(struct shm_obj *o)
{
	char path[64];
	void *p;

	p = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		pr_perror("can't create shared anonymous memory of %llu bytes", (unsigned long long)o->size);
		return -errno;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + (unsigned long)o->size);
	o->fd = open(path, O_RDWR | O_CLOEXEC);
	if (o->fd < 0)
		pr_perror("can't open %s", path);
	munmap(p, o->size);
	return o->fd < 0 ? -errno : 0;
}

/* A memfd that could not be sealed reports F_SEAL_SEAL alone: it is made the same way. */
static int create_memfd(struct shm_obj *o, int imgdir_fd)
{
	bool sealing = o->memfd && o->memfd->seals != F_SEAL_SEAL;
	int ret;

	o->fd = memfd_create(o->memfd_name, MFD_CLOEXEC | (sealing ? MFD_ALLOW_SEALING : 0));
	if (o->fd < 0) {
		pr_perror("can't create memfd %s", o->memfd_name);
		return -errno;
	}
	if (o->memfd) {
		ret = memfd_fill(o->fd, o->memfd, imgdir_fd);
		if (ret)
			return ret;
		if (sealing && o->memfd->seals && fcntl(o->fd, F_ADD_SEALS, o->memfd->seals)) {
			pr_perror("can't seal memfd %s (0x%x)", o->memfd_name, o->memfd->seals);
			return -errno;
		}
		return 0;
	}
	if (ftruncate(o->fd, o->size)) {
		pr_perror("can't size memfd %s to %llu bytes", o->memfd_name, (unsigned long long)o->size);
		return -errno;
	}
	return 0;
}

/* For files-memfd.c: the object a memfd description opens. */
static int shm_fd_by_id(void *arg, uint64_t shmid)
{
	const struct shm_obj *o = find_obj(arg, shmid);

	return o ? o->fd : -1;
}

int restore_shm_create(struct restore_tree *tree)
{
	size_t i;
	int ret;

	tree->files.shm_fd = shm_fd_by_id;
	tree->files.shm_arg = tree;
	for (i = 0; i < tree->nr_shm; i++) {
		struct shm_obj *o = &tree->shm[i];

		ret = o->kind == VMA_KIND__VMA_MEMFD_SHARED ? create_memfd(o, tree->ctx->imgdir_fd) : create_anon(o);
		if (ret)
			return ret;
		pr_debug("shared object %llu: %llu bytes, fd %d\n", (unsigned long long)o->shmid,
			 (unsigned long long)o->size, o->fd);
	}
	return 0;
}

int restore_shm_open(const struct restore_tree *tree, const VmaEntry *v)
{
	const struct shm_obj *o = find_obj(tree, v->shmid);
	int fd;

	if (!o || o->fd < 0) {
		pr_err("shared object %llu was not created\n", (unsigned long long)v->shmid);
		return -EINVAL;
	}
	fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		pr_perror("can't dup shared object %llu", (unsigned long long)v->shmid);
		return -errno;
	}
	return fd;
}

void restore_shm_close(struct restore_tree *tree)
{
	size_t i;

	for (i = 0; i < tree->nr_shm; i++)
		close_safe(&tree->shm[i].fd);
}

void restore_shm_free(struct restore_tree *tree)
{
	restore_shm_close(tree);
	free(tree->shm);
	tree->shm = NULL;
	tree->nr_shm = 0;
}
