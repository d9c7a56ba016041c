// SPDX-License-Identifier: GPL-2.0
/* Regular files, directories and device nodes opened by path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "files.h"
#include "proc-parse.h"
#include "log.h"
#include "util.h"

/* Flags that only mattered when the file was opened, or are fd flags. */
#define REG_OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_LARGEFILE)

void reg_file_fill_stat(RegFileEntry *r, const struct stat *st)
{
	r->has_mode = r->has_size = r->has_mtime_ns = r->has_dev = r->has_ino = true;
	r->mode = st->st_mode;
	r->size = st->st_size;
	r->mtime_ns = st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec;
	r->dev = st->st_dev;
	r->ino = st->st_ino;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		r->has_rdev = true;
		r->rdev = st->st_rdev;
	}
}

static int reg_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	pid_t pid = c->pid;
	int fd = c->fd;
	const char *link = c->link;
	char path[64];
	RegFileEntry *r;
	struct stat st;
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	size_t len = strlen(link);

	/* a deleted regular file with no name left is a ghost (files-ghost.c) */
	if (len > 10 && !strcmp(link + len - 10, " (deleted)")) {
		pr_err("can't dump fd %d of process %d: %s is deleted (not supported yet for a %s)\n", fd, pid, link,
		       S_ISREG(c->st->st_mode) ? "file with another link left" : "directory or device");
		return -ENOTSUP;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (stat(path, &st)) {
		pr_perror("can't stat fd %d of process %d", fd, pid);
		return -errno;
	}
	ret = parse_fdinfo(pid, fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	r = xzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	reg_file_entry__init(r);
	r->path = xstrdup(link);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	r->id = fe->id;
	r->flags = flags & ~REG_OPEN_ONLY_FLAGS;
	r->pos = pos;
	reg_file_fill_stat(r, &st);
	fe->reg = r;
	return 0;
}

int reg_file_open(const RegFileEntry *r, int extra_flags)
{
	int flags = (r->flags & ~REG_OPEN_ONLY_FLAGS) | extra_flags | O_NOCTTY;
	struct stat st;
	int fd;

	fd = open(r->path, flags);
	if (fd < 0) {
		pr_perror("can't open %s", r->path);
		return -errno;
	}
	if (fstat(fd, &st)) {
		pr_perror("can't stat %s", r->path);
		close(fd);
		return -errno;
	}
	if (r->has_mode && (st.st_mode & S_IFMT) != (r->mode & S_IFMT)) {
		pr_err("%s changed type since the dump (mode 0%o, was 0%o)\n", r->path, st.st_mode, r->mode);
		close(fd);
		return -EINVAL;
	}
	if (r->pos && !(flags & O_PATH) && lseek(fd, r->pos, SEEK_SET) != (off_t)r->pos) {
		pr_perror("can't seek %s to %llu", r->path, (unsigned long long)r->pos);
		close(fd);
		return -errno;
	}
	return fd;
}

int reg_file_check_unchanged(const RegFileEntry *r, int fd)
{
	uint64_t mtime;
	struct stat st;

	if (fstat(fd, &st)) {
		pr_perror("can't stat %s", r->path);
		return -errno;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	mtime = st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec;
	if ((r->has_size && (uint64_t)st.st_size != r->size) || (r->has_mtime_ns && mtime != r->mtime_ns)) {
		pr_err("%s changed since the dump (size %lld, was %llu; mtime %llu, was %llu): the process maps it, "
		       "and its unmodified pages are not in the images\n",
		       r->path, (long long)st.st_size, (unsigned long long)r->size, (unsigned long long)mtime,
		       (unsigned long long)r->mtime_ns);
		return -ESTALE;
	}
	return 0;
}

/*
 * An open file that changed since the dump would give the process other
 * data than it had: refused, unless the user allows it. A log opened
 * write-only for appending that only grew is fine: the process can't read
 * it and writes at its end anyway.
 */
static int check_fd_file_unchanged(const RegFileEntry *r, int fd, const struct cr_options *opts)
{
	uint64_t mtime;
	struct stat st;

	if (fstat(fd, &st)) {
		pr_perror("can't stat %s", r->path);
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || !r->has_size || !r->has_mtime_ns)
		return 0;
	mtime = st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec;
	if ((uint64_t)st.st_size == r->size && mtime == r->mtime_ns)
		return 0;
	if ((r->flags & O_ACCMODE) == O_WRONLY && (r->flags & O_APPEND) && (uint64_t)st.st_size >= r->size)
		return 0;
	if (opts->allow_file_changes) {
		pr_warn("%s changed since the dump (size %lld, was %llu): going on (--allow-file-changes)\n", r->path,
			(long long)st.st_size, (unsigned long long)r->size);
		return 0;
	}
	pr_err("%s changed since the dump (size %lld, was %llu; mtime %llu, was %llu): restore with "
	       "--allow-file-changes to go on anyway\n",
	       r->path, (long long)st.st_size, (unsigned long long)r->size, (unsigned long long)mtime,
	       (unsigned long long)r->mtime_ns);
	return -ESTALE;
}

static int check_device(const RegFileEntry *r, int fd)
{
	struct stat st;

	if (!r->has_rdev || fstat(fd, &st))
		return 0;
	if (st.st_rdev != r->rdev) {
		pr_err("%s is device %u:%u, it was %u:%u at dump\n", r->path, major(st.st_rdev), minor(st.st_rdev),
		       major(r->rdev), minor(r->rdev));
		return -ENODEV;
	}
	return 0;
}

static int reg_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	int fd = reg_file_open(fe->reg, 0), ret;

	if (fd < 0)
		return fd;
	ret = check_fd_file_unchanged(fe->reg, fd, opts) ?: check_device(fe->reg, fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static void reg_free(FileEntry *fe)
{
	if (fe->reg) {
		free(fe->reg->path);
		free(fe->reg);
		fe->reg = NULL;
	}
}

const struct fd_ops reg_fd_ops = {
	.type = FD_TYPE__FD_REG,
	.name = "regular file",
	.dump = reg_dump,
	.open = reg_open,
	.free = reg_free,
};
