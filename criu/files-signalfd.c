// SPDX-License-Identifier: GPL-2.0
/* signalfd: the set of signals it reads, from fdinfo. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

static int sfd_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	SignalfdEntry *e;
	const char *mask;
	char *info;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	info = read_fdinfo(c->pid, c->fd);
	if (!info)
		return -EIO;
	mask = proc_status_field(info, "sigmask");
	e = mask ? xzalloc(sizeof(*e)) : NULL;
	if (e) {
		signalfd_entry__init(e);
		e->id = fe->id;
		e->flags = flags & O_NONBLOCK;
		e->sigmask = strtoull(mask, NULL, 16);
		fe->sfd = e;
	} else if (!mask) {
		pr_err("fd %d of process %d: fdinfo of a signalfd without sigmask\n", c->fd, c->pid);
	}
	free(info);
	return e ? 0 : mask ? -ENOMEM : -EIO;
}

static int sfd_validate(const FileEntry *fe, size_t idx)
{
	if (fe->sfd->id != fe->id || (fe->sfd->flags & ~O_NONBLOCK)) {
		pr_err("files.img: entry %zu (id %u): bad signalfd id or flags\n", idx, fe->id);
		return -EINVAL;
	}
	return 0;
}

static int sfd_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const SignalfdEntry *e = fe->sfd;
	sigset_t mask;
	int sig, fd;

	sigemptyset(&mask);
	for (sig = 1; sig <= 64; sig++)
		if (e->sigmask & (1ULL << (sig - 1)))
			sigaddset(&mask, sig);
	fd = signalfd(-1, &mask, SFD_CLOEXEC | ((e->flags & O_NONBLOCK) ? SFD_NONBLOCK : 0));
	if (fd < 0) {
		pr_perror("can't create a signalfd (file id %u, mask 0x%llx)", fe->id, (unsigned long long)e->sigmask);
		return -errno;
	}
	return fd;
}

static void sfd_free(FileEntry *fe)
{
	free(fe->sfd);
	fe->sfd = NULL;
}

const struct fd_ops signalfd_fd_ops = {
	.type = FD_TYPE__FD_SIGNALFD,
	.name = "signalfd",
	.dump = sfd_dump,
	.validate = sfd_validate,
	.open = sfd_open,
	.free = sfd_free,
};
