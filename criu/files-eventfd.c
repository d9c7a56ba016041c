// SPDX-License-Identifier: GPL-2.0
/* eventfd: its counter and mode, from fdinfo; restored by writing the counter back. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

static int efd_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	const char *count, *sem;
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	EventfdEntry *e;
	char *info;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	info = read_fdinfo(c->pid, c->fd);
	if (!info)
		return -EIO;
	count = proc_status_field(info, "eventfd-count");
	sem = proc_status_field(info, "eventfd-semaphore");
	e = count ? xzalloc(sizeof(*e)) : NULL;
	if (e) {
		eventfd_entry__init(e);
		e->id = fe->id;
		e->flags = flags & O_NONBLOCK;
		e->count = strtoull(count, NULL, 16);
		e->has_semaphore = sem != NULL;
		e->semaphore = sem && atoi(sem);
		fe->efd = e;
	} else if (!count) {
		pr_err("fd %d of process %d: fdinfo of an eventfd without eventfd-count\n", c->fd, c->pid);
	}
	free(info);
	return e ? 0 : count ? -ENOMEM : -EIO;
}

static int efd_validate(const FileEntry *fe, size_t idx)
{
	if (fe->efd->id != fe->id || (fe->efd->flags & ~O_NONBLOCK) || fe->efd->count == UINT64_MAX) {
		pr_err("files.img: entry %zu (id %u): bad eventfd id, flags or count\n", idx, fe->id);
		return -EINVAL;
	}
	return 0;
}

static int efd_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const EventfdEntry *e = fe->efd;
	int fd = eventfd(0, EFD_CLOEXEC | (e->semaphore ? EFD_SEMAPHORE : 0));

	if (fd < 0) {
		pr_perror("can't create an eventfd");
		return -errno;
	}
	/* the initial value of eventfd() is only 32-bit: the counter is written */
	if ((e->count && write(fd, &e->count, sizeof(e->count)) != sizeof(e->count)) || fcntl(fd, F_SETFL, e->flags)) {
		pr_perror("can't set eventfd (file id %u) to %llu", fe->id, (unsigned long long)e->count);
		close(fd);
		return -EIO;
	}
	return fd;
}

static void efd_free(FileEntry *fe)
{
	free(fe->efd);
	fe->efd = NULL;
}

const struct fd_ops eventfd_fd_ops = {
	.type = FD_TYPE__FD_EVENTFD,
	.name = "eventfd",
	.dump = efd_dump,
	.validate = efd_validate,
	.open = efd_open,
	.free = efd_free,
};
