// SPDX-License-Identifier: GPL-2.0
/*
 * File locks (--file-locks): flock locks and OFD locks belong to an open
 * description, POSIX locks to a process. /proc/PID/fdinfo/FD lists those
 * held through the fd: the description's, and the process's own POSIX
 * locks on that file. Each is saved with the fd and taken again by the
 * restored process before anything of it runs: flock and OFD locks once
 * its fds are in place, POSIX locks by its restorer once every other fd
 * of the file (criu's helpers, the masters) is closed, since closing any
 * fd of a file drops the process's POSIX locks on it.
 * Leases, delegations and mandatory locks are refused, and so is any lock
 * without --file-locks, as CRIU does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

static int lock_kind(const char *s)
{
	if (!strcmp(s, "FLOCK"))
		return FILE_LOCK_FLOCK;
	if (!strcmp(s, "POSIX"))
		return FILE_LOCK_POSIX;
	if (!strcmp(s, "OFDLCK"))
		return FILE_LOCK_OFD;
	return -1;
}

static int add_lock(FdinfoEntry *fdi, int kind, bool write, unsigned long long start, const char *end)
{
	FileLockEntry **n = xrealloc(fdi->locks, (fdi->n_locks + 1) * sizeof(*n)), *l;

	if (!n)
		return -ENOMEM;
	fdi->locks = n;
	l = xzalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	file_lock_entry__init(l);
	l->kind = kind;
	l->write = write;
	l->start = start;
	l->has_end = strcmp(end, "EOF") != 0;
	l->end = l->has_end ? strtoull(end, NULL, 10) : 0;
	fdi->locks[fdi->n_locks++] = l;
	return 0;
}

/* "lock:\t1: FLOCK  ADVISORY  WRITE 5006 fe:00:10952824 0 EOF" */
static int parse_lock(const char *line, FdinfoEntry *fdi, pid_t pid, int fd, const char *link)
{
	char type[16], mode[16], access[16], dev[64], end[32];
	unsigned long long start;
	int owner, kind;

	if (sscanf(line, "lock: %*d: %15s %15s %15s %d %63s %llu %31s", type, mode, access, &owner, dev, &start, end) !=
	    7) {
		pr_err("fd %d of process %d: can't parse \"%s\"\n", fd, pid, line);
		return -EIO;
	}
	kind = lock_kind(type);
	if (kind < 0 || strcmp(mode, "ADVISORY") || (strcmp(access, "READ") && strcmp(access, "WRITE"))) {
		pr_err("fd %d of process %d (%s) holds a %s %s %s lock: not supported yet\n", fd, pid, link, mode, type,
		       access);
		return -ENOTSUP;
	}
	return add_lock(fdi, kind, !strcmp(access, "WRITE"), start, end);
}

int file_locks_dump(pid_t pid, int fd, const char *link, FdinfoEntry *fdi, const struct cr_options *opts)
{
	char *info = read_fdinfo(pid, fd), *line, *save = NULL;
	int ret = 0;

	if (!info)
		return -EIO;
	for (line = strtok_r(info, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "lock:", 5))
			continue;
		if (!opts->file_locks) {
			pr_err("fd %d of process %d (%s) holds a file lock: dump with --file-locks to take it along\n",
			       fd, pid, link);
			ret = -ENOTSUP;
			break;
		}
		ret = parse_lock(line, fdi, pid, fd, link);
	}
	free(info);
	return ret;
}

void file_locks_free(FdinfoEntry *fdi)
{
	size_t i;

	for (i = 0; i < fdi->n_locks; i++)
		free(fdi->locks[i]);
	free(fdi->locks);
	fdi->locks = NULL;
	fdi->n_locks = 0;
}

int file_locks_validate(const FdinfoEntry *fdi, pid_t pid)
{
	size_t i;

	for (i = 0; i < fdi->n_locks; i++) {
		const FileLockEntry *l = fdi->locks[i];

		if (l->kind < FILE_LOCK_FLOCK || l->kind > FILE_LOCK_OFD || (l->has_end && l->end < l->start) ||
		    l->start > INT64_MAX || l->end > INT64_MAX) {
			pr_err("fdinfo-%d.img: fd %u: lock %zu has a bad kind or range\n", pid, fdi->fd, i);
			return -EINVAL;
		}
	}
	return 0;
}

static int take_lock(int fd, const FileLockEntry *l)
{
	struct flock fl = {
		.l_type = l->write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = l->start,
		.l_len = l->has_end ? l->end - l->start + 1 : 0,
	};

	if (l->kind == FILE_LOCK_FLOCK)
		return flock(fd, (l->write ? LOCK_EX : LOCK_SH) | LOCK_NB);
	return fcntl(fd, l->kind == FILE_LOCK_POSIX ? F_SETLK : F_OFD_SETLK, &fl);
}

int file_locks_restore(const struct task_files *tf, pid_t pid)
{
	size_t i, j;

	for (i = 0; i < tf->nr_fds; i++) {
		const FdinfoEntry *e = tf->fds[i];

		for (j = 0; j < e->n_locks; j++) {
			/* the restorer's, once every other fd of the file is closed */
			if (e->locks[j]->kind == FILE_LOCK_POSIX || !take_lock(e->fd, e->locks[j]))
				continue;
			pr_perror("process %d: can't take the lock on fd %u back (held by someone else now?)", pid,
				  e->fd);
			return -errno;
		}
	}
	return 0;
}
