// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes and FIFOs. Each open description of a pipe is a file entry (which
 * end, and O_NONBLOCK); the pipe itself, its size and the data queued in
 * it, is described once, by the first description of it dumped. A FIFO is
 * a pipe with a path: restore opens it there.
 *
 * The queued data is copied without being consumed: criu opens the pipe
 * through /proc/PID/fd/N (a new description of the same pipe) and tee()s
 * its content into a pipe of its own. On restore criu creates the pipe
 * once, sizes it, writes the data back in, and gives each description its
 * end: the first description of an end is that end, any other one a new
 * open of it through /proc/self/fd, as the original must have been. A
 * FIFO is held open read-write by criu meanwhile (which never blocks),
 * and each description is a new non-blocking open of its path.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

#define PIPE_FLAGS (O_ACCMODE | O_NONBLOCK)
#define PIPE_SIZE_MAX (1U << 30) /* beyond any pipe-max-size a kernel allows */

/* ---- dump ---- */

static int pipe_size_and_queue(int fd, const char *what, uint32_t *size, int *queued)
{
	int sz = fcntl(fd, F_GETPIPE_SZ);

	if (sz < 0 || ioctl(fd, FIONREAD, queued)) {
		pr_perror("can't get the size of %s", what);
		return -errno;
	}
	*size = sz;
	return 0;
}

/* tee() copies what is queued into a pipe of ours without taking it from the task's. */
static int copy_queued(int src, uint32_t size, int queued, const char *what, ProtobufCBinaryData *out)
{
	int tmp[2], ret = 0;
	ssize_t n;

	if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK)) {
		pr_perror("can't create a pipe to copy %s", what);
		return -errno;
	}
	if (fcntl(tmp[1], F_SETPIPE_SZ, size) < (int)size) {
		pr_perror("can't size a pipe to %u bytes to copy %s", size, what);
		ret = -errno ?: -EINVAL;
		goto out;
	}
	out->data = xmalloc(queued ? queued : 1);
	if (!out->data) {
		ret = -ENOMEM;
		goto out;
	}
	n = tee(src, tmp[1], queued, SPLICE_F_NONBLOCK);
	if (n != queued || read(tmp[0], out->data, queued) != queued) {
		pr_err("can't copy the %d bytes queued in %s (got %zd)\n", queued, what, n);
		ret = -EIO;
		goto out;
	}
	out->len = queued;
out:
	close(tmp[0]);
	close(tmp[1]);
	return ret;
}

static int read_pipe_state(const struct fd_dump_ctx *c, PipeEntry *p)
{
	char path[64], what[96];
	int fd, queued, ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, c->fd);
	snprintf(what, sizeof(what), "%s (fd %d of process %d)", c->link, c->fd, c->pid);
	/* a new read description: the task's own ones keep their state */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", what);
		return -errno;
	}
	ret = pipe_size_and_queue(fd, what, &p->size, &queued);
	if (!ret && queued)
		ret = copy_queued(fd, p->size, queued, what, &p->data);
	close(fd);
	if (ret)
		return ret;
	p->has_size = p->has_data = true;
	pr_debug("%s: size %u, %d bytes queued\n", what, p->size, queued);
	return 0;
}

static int pipe_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	PipeEntry *p;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	if (flags & O_DIRECT) {
		pr_err("can't dump fd %d of process %d: %s is a packet-mode pipe (O_DIRECT), not supported yet\n",
		       c->fd, c->pid, c->link);
		return -ENOTSUP;
	}
	p = xzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	pipe_entry__init(p);
	p->id = fe->id;
	p->pipe_id = c->st->st_ino;
	p->flags = flags & PIPE_FLAGS;
	fe->pipe = p;
	if (c->link[0] == '/') {
		size_t len = strlen(c->link);

		if (len > 10 && !strcmp(c->link + len - 10, " (deleted)")) {
			pr_err("can't dump fd %d of process %d: FIFO %s is deleted (not supported yet)\n", c->fd,
			       c->pid, c->link);
			return -ENOTSUP;
		}
		p->path = xstrdup(c->link);
		if (!p->path)
			return -ENOMEM;
	}
	if (!fdt_first_sight(c->fdt, p->pipe_id))
		return 0;
	return read_pipe_state(c, p);
}

static void pipe_free(FileEntry *fe)
{
	if (fe->pipe) {
		free(fe->pipe->path);
		free(fe->pipe->data.data);
		free(fe->pipe);
		fe->pipe = NULL;
	}
}

/* ---- validation ---- */

static int pipe_validate(const FileEntry *fe, size_t idx)
{
	const PipeEntry *p = fe->pipe;
	uint32_t acc = p->flags & O_ACCMODE;

	if (p->id != fe->id || !p->pipe_id) {
		pr_err("files.img: entry %zu (id %u): pipe entry with a bad id\n", idx, fe->id);
		return -EINVAL;
	}
	/* a FIFO may be opened read-write, a pipe's end is one or the other */
	if ((p->flags & ~PIPE_FLAGS) || (acc != O_RDONLY && acc != O_WRONLY && !(acc == O_RDWR && p->path))) {
		pr_err("files.img: entry %zu (id %u): pipe flags 0x%x are not a pipe end's\n", idx, fe->id, p->flags);
		return -EINVAL;
	}
	if (p->has_data != p->has_size || (p->has_size && (p->size < 4096 || p->size > PIPE_SIZE_MAX))) {
		pr_err("files.img: entry %zu (id %u): pipe size %u is not a pipe's\n", idx, fe->id, p->size);
		return -EINVAL;
	}
	if (p->path && p->path[0] != '/') {
		pr_err("files.img: entry %zu (id %u): FIFO path %s is not absolute\n", idx, fe->id, p->path);
		return -EINVAL;
	}
	if (p->has_data && p->data.len > p->size) {
		pr_err("files.img: entry %zu (id %u): %zu bytes queued in a pipe of %u\n", idx, fe->id, p->data.len,
		       p->size);
		return -EINVAL;
	}
	return 0;
}

/* ---- restore ---- */

struct pipe_restore {
	uint64_t pipe_id;
	const char *path; /* a FIFO's; ends[0] and ends[1] are then one read-write fd */
	int ends[2];	  /* criu's, until every master is open */
	bool given[2];	  /* the end went to a description already */
};

/* The entry of files.img that describes the pipe itself. */
static const PipeEntry *pipe_state(const struct file_set *set, uint64_t pipe_id)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++) {
		const PipeEntry *p = set->files[i]->pipe;

		if (p && p->pipe_id == pipe_id && p->has_size)
			return p;
	}
	return NULL;
}

static int fill_pipe(struct pipe_restore *pr, const PipeEntry *st)
{
	if (fcntl(pr->ends[1], F_SETPIPE_SZ, st->size) < 0) {
		pr_perror("pipe:[%" PRIu64 "]: can't set its size to %u", pr->pipe_id, st->size);
		return -errno;
	}
	if (st->data.len && write(pr->ends[1], st->data.data, st->data.len) != (ssize_t)st->data.len) {
		pr_perror("pipe:[%" PRIu64 "]: can't queue its %zu bytes", pr->pipe_id, st->data.len);
		return -EIO;
	}
	return 0;
}

/* Read-write: it never blocks, and keeps the FIFO's pipe alive while its ends are opened. */
static int open_fifo(struct pipe_restore *pr)
{
	struct stat st;
	int fd = open(pr->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode)) {
		pr_err("%s is not a FIFO any more\n", pr->path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	pr->ends[0] = fd;
	pr->ends[1] = dup(fd);
	return pr->ends[1] < 0 ? -1 : 0;
}

static struct pipe_restore *pipe_create(struct file_set *set, uint64_t pipe_id)
{
	const PipeEntry *st = pipe_state(set, pipe_id);
	struct pipe_restore *pr;

	if (!st) {
		pr_err("files.img: pipe:[%" PRIu64 "] has descriptions but no entry with its size and data\n", pipe_id);
		return NULL;
	}
	if (xgrow(&set->pipes, &set->pipes_cap, set->nr_pipes, sizeof(*set->pipes)))
		return NULL;
	pr = &set->pipes[set->nr_pipes];
	memset(pr, 0, sizeof(*pr));
	pr->pipe_id = pipe_id;
	pr->path = st->path;
	if (st->path ? open_fifo(pr) : pipe2(pr->ends, O_CLOEXEC)) {
		pr_perror("can't create pipe:[%" PRIu64 "]", pipe_id);
		return NULL;
	}
	set->nr_pipes++;
	if (fill_pipe(pr, st))
		return NULL;
	return pr;
}

static struct pipe_restore *pipe_find(struct file_set *set, uint64_t pipe_id)
{
	size_t i;

	for (i = 0; i < set->nr_pipes; i++)
		if (set->pipes[i].pipe_id == pipe_id)
			return &set->pipes[i];
	return pipe_create(set, pipe_id);
}

/*
 * The end itself for its first description, a new description of it for
 * any other. A FIFO's are all new opens of its path, in their own mode.
 */
static int open_end(struct pipe_restore *pr, int end, uint32_t acc)
{
	char path[64];
	int fd;

	if (pr->path) {
		/* non-blocking: the other side may not be open yet; pipe_open sets the flags after */
		fd = open(pr->path, acc | O_NONBLOCK | O_CLOEXEC);
	} else if (!pr->given[end]) {
		pr->given[end] = true;
		fd = fcntl(pr->ends[end], F_DUPFD_CLOEXEC, 0);
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", pr->ends[end]);
		fd = open(path, (end ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	}
	if (fd < 0)
		pr_perror("can't open an end of pipe:[%" PRIu64 "]", pr->pipe_id);
	return fd < 0 ? -errno : fd;
}

static int pipe_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const PipeEntry *p = fe->pipe;
	struct pipe_restore *pr = pipe_find(set, p->pipe_id);
	int fd;

	if (!pr)
		return -EINVAL;
	fd = open_end(pr, (p->flags & O_ACCMODE) == O_WRONLY, p->flags & O_ACCMODE);
	if (fd >= 0 && fcntl(fd, F_SETFL, p->flags & O_NONBLOCK)) {
		pr_perror("can't make pipe:[%" PRIu64 "] non-blocking", p->pipe_id);
		close(fd);
		return -errno;
	}
	return fd;
}

/* criu's own ends must go: a write end left open would keep readers from their EOF. */
static void pipe_open_done(struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_pipes; i++) {
		close_safe(&set->pipes[i].ends[0]);
		close_safe(&set->pipes[i].ends[1]);
	}
	free(set->pipes);
	set->pipes = NULL;
	set->nr_pipes = set->pipes_cap = 0;
}

const struct fd_ops pipe_fd_ops = {
	.type = FD_TYPE__FD_PIPE,
	.name = "pipe",
	.dump = pipe_dump,
	.validate = pipe_validate,
	.open = pipe_open,
	.open_done = pipe_open_done,
	.free = pipe_free,
};
