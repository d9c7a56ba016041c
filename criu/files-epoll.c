// SPDX-License-Identifier: GPL-2.0
/*
 * epoll. Each registration is the pair (description, fd number it was
 * added with), its events and its data. fdinfo lists them by fd number and
 * inode; the description behind each is found among the tree's with
 * kcmp(KCMP_EPOLL_TFD) once every fd of the tree is dumped, so a
 * registration whose fd was closed since (the description lives on
 * elsewhere) is kept too. A description no process of the tree holds
 * means an outsider holds it: refused.
 *
 * On restore the epoll is created among the masters, and the first
 * process having it registers every target once its own fds are in place,
 * with the original fd number: the number is part of the key the kernel
 * and the program use (EPOLL_CTL_MOD and DEL). A target not at its number
 * in that process is put there just for the epoll_ctl() call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

#define EPOLL_MAX_TARGETS (1u << 20)

/* ---- dump ---- */

static int add_target(EpollEntry *e, unsigned tfd, unsigned events, unsigned long long data)
{
	EpollTfdEntry **n = xrealloc(e->tfds, (e->n_tfds + 1) * sizeof(*n)), *t;

	if (!n)
		return -ENOMEM;
	e->tfds = n;
	t = xzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	epoll_tfd_entry__init(t);
	t->tfd = tfd;
	t->events = events;
	t->data = data;
	e->tfds[e->n_tfds++] = t;
	return 0;
}

static int parse_targets(EpollEntry *e, char *info, const struct fd_dump_ctx *c)
{
	char *line, *save = NULL;
	int ret = 0;

	for (line = strtok_r(info, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		unsigned tfd, events;
		unsigned long long data;

		if (strncmp(line, "tfd:", 4))
			continue;
		if (sscanf(line, "tfd: %u events: %x data: %llx", &tfd, &events, &data) != 3) {
			pr_err("fd %d of process %d: can't parse epoll fdinfo line \"%s\"\n", c->fd, c->pid, line);
			return -EIO;
		}
		ret = add_target(e, tfd, events, data);
	}
	return ret;
}

static int epoll_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	EpollEntry *e;
	char *info;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	e = xzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	epoll_entry__init(e);
	fe->epoll = e;
	e->id = fe->id;
	e->flags = flags & O_NONBLOCK;
	info = read_fdinfo(c->pid, c->fd);
	if (!info)
		return -EIO;
	ret = parse_targets(e, info, c);
	free(info);
	/* the descriptions are found once the whole tree is dumped */
	return ret ?: fdt_defer(c->fdt, fe, c->pid, c->fd);
}

/* Is target i of the epoll at (pid, epfd) the description of (dpid, dfd)? */
static bool same_target(pid_t pid, int epfd, const EpollEntry *e, size_t i, pid_t dpid, int dfd)
{
	struct kcmp_epoll_slot slot = { .efd = epfd, .tfd = e->tfds[i]->tfd };
	size_t j;

	/* toff: which of the registrations with this fd number */
	for (j = 0; j < i; j++)
		slot.toff += e->tfds[j]->tfd == e->tfds[i]->tfd;
	return syscall(SYS_kcmp, dpid, pid, KCMP_EPOLL_TFD, dfd, (unsigned long)&slot) == 0;
}

bool epoll_target_is(pid_t pid, int epfd, const EpollEntry *e, size_t i, pid_t dpid, int dfd)
{
	return same_target(pid, epfd, e, i, dpid, dfd);
}

static void epoll_free(FileEntry *fe)
{
	size_t i;

	if (!fe->epoll)
		return;
	for (i = 0; i < fe->epoll->n_tfds; i++)
		free(fe->epoll->tfds[i]);
	free(fe->epoll->tfds);
	free(fe->epoll);
	fe->epoll = NULL;
}

/* ---- validation ---- */

static int epoll_validate(const FileEntry *fe, size_t idx)
{
	const EpollEntry *e = fe->epoll;
	size_t i;

	if (e->id != fe->id || (e->flags & ~O_NONBLOCK) || e->n_tfds > EPOLL_MAX_TARGETS) {
		pr_err("files.img: entry %zu (id %u): bad epoll id, flags or %zu targets\n", idx, fe->id, e->n_tfds);
		return -EINVAL;
	}
	for (i = 0; i < e->n_tfds; i++) {
		if (!e->tfds[i]->file_id || e->tfds[i]->file_id == fe->id || e->tfds[i]->tfd >= (1u << 20)) {
			pr_err("files.img: entry %zu (id %u): epoll target %zu has a bad file id or fd\n", idx, fe->id,
			       i);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- restore ---- */

static int epoll_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0) {
		pr_perror("can't create an epoll (file id %u)", fe->id);
		return -errno;
	}
	if (fcntl(fd, F_SETFL, fe->epoll->flags)) {
		pr_perror("can't set the flags of an epoll");
		close(fd);
		return -errno;
	}
	return fd;
}

/* The fd number tfd holds the target's master for the call, whatever it held before. */
static int add_at_number(int epfd, const EpollTfdEntry *t, int master, int spare)
{
	struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
	int saved = fcntl(t->tfd, F_DUPFD_CLOEXEC, spare);
	int ret = 0;

	if (dup2(master, t->tfd) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, t->tfd, &ev)) {
		pr_perror("can't register fd %u with an epoll", t->tfd);
		ret = -errno;
	}
	if (saved >= 0) {
		dup3(saved, t->tfd, fcntl(saved, F_GETFD) & FD_CLOEXEC ? O_CLOEXEC : 0);
		close(saved);
	} else {
		close(t->tfd);
	}
	return ret;
}

int epoll_register(const struct task_files *tf, const FileEntry *fe, int epfd, int spare_min)
{
	const EpollEntry *e = fe->epoll;
	size_t i, j;
	int ret;

	for (i = 0; i < e->n_tfds; i++) {
		const EpollTfdEntry *t = e->tfds[i];
		struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
		int master = -1;
		bool in_place = false;

		for (j = 0; j < tf->nr_fds; j++)
			if (tf->fds[j]->fd == t->tfd && tf->fds[j]->id == t->file_id)
				in_place = true;
		if (in_place) {
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, t->tfd, &ev)) {
				pr_perror("can't register fd %u with an epoll", t->tfd);
				return -errno;
			}
			continue;
		}
		for (j = 0; j < tf->set->nr_files; j++)
			if (tf->set->files[j]->id == t->file_id)
				master = tf->set->masters[j];
		if (master < 0) {
			pr_err("epoll (file id %u): the description of target fd %u is not open\n", fe->id, t->tfd);
			return -EINVAL;
		}
		ret = add_at_number(epfd, t, master, spare_min);
		if (ret)
			return ret;
	}
	return 0;
}

const struct fd_ops epoll_fd_ops = {
	.type = FD_TYPE__FD_EPOLL,
	.name = "epoll",
	.dump = epoll_dump,
	.validate = epoll_validate,
	.open = epoll_open,
	.free = epoll_free,
};
