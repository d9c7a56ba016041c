// SPDX-License-Identifier: GPL-2.0
/*
 * memfd descriptions. The memfd itself (name, size, seals, content) is
 * saved once, by its first description: the content as a sparse raw image
 * (memfd-ID.img), holes left as holes. Pages of its mappings are then not
 * saved again (cr-dump.c marks the inode saved for mem.c).
 *
 * On restore the memfd is one of the shared memory objects of
 * restore-shm.c, created once for its descriptions and its mappings
 * alike, filled from the content image and sealed; each description is a
 * new open of it through /proc/self/fd, with its own flags and offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

#define MEMFD_FLAGS (O_ACCMODE | O_APPEND)
#define MEMFD_NAME_MAX 249
#define MEMFD_SIZE_MAX (1ULL << 47)
#define MEMFD_KNOWN_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | 0x20)

/* ---- dump ---- */

/* "/memfd:NAME (deleted)" -> NAME */
static char *memfd_name(const char *link)
{
	const char *name = link + strlen("/memfd:");
	size_t len = strlen(name);

	if (len >= 10 && !strcmp(name + len - 10, " (deleted)"))
		len -= 10;
	return strndup(name, len);
}

static int save_memfd(const struct fd_dump_ctx *c, MemfdEntry *m, int rfd, const struct stat *st)
{
	struct cr_img *img;
	int seals = fcntl(rfd, F_GET_SEALS), ret;

	m->name = memfd_name(c->link);
	if (!m->name)
		return -ENOMEM;
	m->has_size = m->has_seals = m->has_content_id = true;
	m->size = st->st_size;
	m->seals = seals < 0 ? F_SEAL_SEAL : seals;
	m->content_id = m->id;
	img = img_open(c->imgdir_fd, CR_IMG_MEMFD, true, m->content_id);
	if (!img)
		return -EIO;
	ret = copy_sparse(rfd, m->size, img->fd, c->link);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

static int read_memfd(const struct fd_dump_ctx *c, MemfdEntry *m)
{
	char path[64];
	struct statfs sfs;
	struct stat st;
	int rfd, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, c->fd);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (rfd < 0 || fstat(rfd, &st) || fstatfs(rfd, &sfs)) {
		pr_perror("can't open %s (fd %d of process %d)", c->link, c->fd, c->pid);
		ret = -errno;
	} else if (sfs.f_type == HUGETLBFS_MAGIC) {
		pr_err("can't dump fd %d of process %d: %s is a hugetlb memfd, not supported yet\n", c->fd, c->pid,
		       c->link);
		ret = -ENOTSUP;
	} else if (fdt_first_memfd(c->fdt, st.st_ino)) {
		ret = save_memfd(c, m, rfd, &st);
	}
	if (rfd >= 0)
		close(rfd);
	return ret;
}

static int memfd_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	MemfdEntry *m;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	m = xzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	memfd_entry__init(m);
	fe->memfd = m;
	m->id = fe->id;
	m->shmid = c->st->st_ino;
	m->flags = flags & MEMFD_FLAGS;
	m->pos = pos;
	return read_memfd(c, m);
}

static void memfd_free(FileEntry *fe)
{
	if (fe->memfd) {
		free(fe->memfd->name);
		free(fe->memfd);
		fe->memfd = NULL;
	}
}

/* ---- validation ---- */

static int memfd_validate(const FileEntry *fe, size_t idx)
{
	const MemfdEntry *m = fe->memfd;

	if (m->id != fe->id || !m->shmid || (m->flags & ~MEMFD_FLAGS) || (m->flags & O_ACCMODE) == O_ACCMODE ||
	    m->pos > MEMFD_SIZE_MAX) {
		pr_err("files.img: entry %zu (id %u): bad memfd id, flags or offset\n", idx, fe->id);
		return -EINVAL;
	}
	if (m->has_content_id != m->has_size || m->has_content_id != !!m->name ||
	    (m->name && (strlen(m->name) > MEMFD_NAME_MAX || strchr(m->name, '/'))) || m->size > MEMFD_SIZE_MAX ||
	    (m->seals & ~MEMFD_KNOWN_SEALS)) {
		pr_err("files.img: entry %zu (id %u): bad memfd name, size or seals\n", idx, fe->id);
		return -EINVAL;
	}
	return 0;
}

/* ---- restore ---- */

/* Fill a new memfd from its content image (restore-shm.c calls it before sealing). */
int memfd_fill(int fd, const MemfdEntry *m, int imgdir_fd)
{
	struct cr_img *img = img_open(imgdir_fd, CR_IMG_MEMFD, false, m->content_id);
	struct stat st;
	int ret;

	if (!img)
		return -ENOENT;
	if (fstat(img->fd, &st) || (uint64_t)st.st_size != m->size) {
		pr_err("%s: holds %lld bytes, files.img says memfd %s has %llu\n", img->name, (long long)st.st_size,
		       m->name, (unsigned long long)m->size);
		img_close(img);
		return -EINVAL;
	}
	if (ftruncate(fd, m->size)) {
		pr_perror("can't size memfd %s", m->name);
		img_close(img);
		return -errno;
	}
	ret = copy_sparse(img->fd, m->size, fd, m->name);
	img_close(img);
	return ret;
}

static int memfd_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const MemfdEntry *m = fe->memfd;
	int obj = set->shm_fd ? set->shm_fd(set->shm_arg, m->shmid) : -1, fd;
	char path[64];

	if (obj < 0) {
		pr_err("memfd (file id %u): its object was not created\n", fe->id);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", obj);
	fd = open(path, m->flags | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open memfd (file id %u)", fe->id);
		return -errno;
	}
	if (lseek(fd, m->pos, SEEK_SET) != (off_t)m->pos) {
		pr_perror("can't seek memfd (file id %u) to %llu", fe->id, (unsigned long long)m->pos);
		close(fd);
		return -errno;
	}
	return fd;
}

const struct fd_ops memfd_fd_ops = {
	.type = FD_TYPE__FD_MEMFD,
	.name = "memfd",
	.dump = memfd_dump,
	.validate = memfd_validate,
	.open = memfd_open,
	.free = memfd_free,
};
