// SPDX-License-Identifier: GPL-2.0
/*
 * The shell's terminal (--shell-job): dumped as "the terminal criu runs
 * on", restored by opening the terminal of the restoring criu. This is any
 * terminal but a pty pair the tree holds the master of (tty-pty.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "proc-parse.h"
#include "log.h"
#include "util.h"

static int tty_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	pid_t pid = c->pid;
	int fd = c->fd;
	const char *link = c->link;
	const struct cr_options *opts = c->opts;
	TtyExtEntry *t;
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;

	if (!opts->shell_job) {
		pr_err("fd %d of process %d is a terminal from outside the dumped tree (%s): dump with --shell-job to "
		       "allow it\n",
		       fd, pid, link);
		return -ENOTSUP;
	}
	/* a pts whose master is closed is hung up for good: criu's own terminal would be no match */
	if (strstr(link, " (deleted)")) {
		pr_err("can't dump fd %d of process %d: %s is a terminal that is gone (a pty slave whose master is "
		       "closed): not supported\n",
		       fd, pid, link);
		return -ENOTSUP;
	}
	ret = parse_fdinfo(pid, fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	t = xzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	tty_ext_entry__init(t);
	t->id = fe->id;
	t->flags = flags & ~(O_CLOEXEC | O_LARGEFILE | O_NOCTTY | O_CREAT | O_EXCL | O_TRUNC);
	t->path = xstrdup(link);
	fe->tty = t;
	return t->path ? 0 : -ENOMEM;
}

/*
 * The terminal criu restore runs on: its own stdin, stdout or stderr,
 * reopened through /proc, which gives a new open file description of the
 * same terminal. criu opens it before creating any process.
 */
static int open_criu_tty(int flags)
{
	char path[64];
	int i, fd;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		fd = open(path, flags | O_NOCTTY);
		if (fd < 0)
			continue;
		if (isatty(fd))
			return fd;
		close(fd);
	}
	fd = open("/dev/tty", flags | O_NOCTTY);
	if (fd >= 0)
		return fd;
	pr_err("--shell-job: criu restore is not running on a terminal\n");
	return -ENOTTY;
}

static int tty_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	if (!opts->shell_job) {
		pr_err("the image has a terminal (file id %u): restore with --shell-job\n", fe->id);
		return -ENOTSUP;
	}
	return open_criu_tty(fe->tty->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
}

static void tty_free(FileEntry *fe)
{
	if (fe->tty) {
		free(fe->tty->path);
		free(fe->tty);
		fe->tty = NULL;
	}
}

const struct fd_ops tty_fd_ops = {
	.type = FD_TYPE__FD_TTY_EXT,
	.name = "terminal",
	.dump = tty_dump,
	.open = tty_open,
	.free = tty_free,
};
