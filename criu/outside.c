// SPDX-License-Identifier: GPL-2.0
/*
 * Resources the tree shares with processes outside it. A dump of a subtree
 * must not make images that restore into something different, so before
 * anything is written every process of the system that is not in the tree
 * (nor criu) is compared with it:
 *  - each of its fds, by device and inode, then by the kernel's identity
 *    of open files (kcmp KCMP_FILE, in log n calls through the sorted
 *    table of the tree's descriptions): the same open file description;
 *  - the pipes of the tree: either end held outside;
 *  - its memory, fd table, fs and signal handlers (kcmp, in shared-res.c);
 *  - its shared mappings of memory that only mappings name (shared
 *    anonymous memory, memfds, deleted files), by device and inode;
 *  - unix sockets connected to outsiders and ptys with an end outside
 *    (sk-unix / tty-pty, which know their peers).
 * The root's standard fds (0, 1, 2) are the tree's link to whoever started
 * it (a shell's pipe, a container runtime's): sharing them is expected,
 * they are recorded as external by key and given back on restore with
 * --inherit-fd fd[N]:KEY. So is what --external names. Everything else is
 * refused, naming the resource, the fd and the outside process, unless
 * --allow-outside-sharing says to dump it as the tree's own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compel/infect.h"
#include "files.h"
#include "files-table.h"
#include "log.h"
#include "options.h"
#include "proc-parse.h"
#include "shared-res.h"
#include "sk-diag.h"
#include "tty.h"
#include "util.h"

struct outside_check {
	struct file_desc_table *t;
	const pid_t *tree;
	size_t nr;
	pid_t root;
	const struct cr_options *opts;
	size_t nr_procs, nr_fds;
};

static bool pid_in(pid_t pid, const pid_t *pids, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Does process pid hold socket ino? Returns its fd, or -1. */
static int holds_socket(pid_t pid, uint32_t sock)
{
	char path[320], link[64];
	struct dirent *de;
	DIR *d;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		unsigned long long n;
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = 0;
		if (sscanf(link, "socket:[%llu]", &n) == 1 && n == sock)
			found = atoi(de->d_name);
	}
	closedir(d);
	return found;
}

static bool tree_has_unix(const struct file_desc_table *t, uint32_t ino)
{
	size_t i;

	for (i = 0; i < t->nr_unix; i++)
		if (t->unix_inos[i] == ino)
			return true;
	return false;
}

/* Who outside the tree holds socket ino: a pid, or 0 if nobody has it open. */
static pid_t outside_holder(const pid_t *tree, size_t nr, uint32_t ino, int *fd)
{
	struct dirent *de;
	pid_t found = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		pid_t pid = atoi(de->d_name);

		if (pid <= 0 || pid == getpid() || pid_in(pid, tree, nr))
			continue;
		*fd = holds_socket(pid, ino);
		if (*fd >= 0)
			found = pid;
	}
	closedir(d);
	return found;
}

/* A unix socket connected to one that lives on outside the tree would lose its peer. */
static bool root_stdio(const struct outside_check *oc, const struct fd_desc *d);
static bool named_external(const struct outside_check *oc, const char *key);
static int mark_external(struct fd_desc *d, const char *key);

/* --ext-unix-sk: all, or this socket or its peer named */
static bool ext_unix_allowed(const struct outside_check *oc, const UnixSkEntry *u)
{
	int i;

	if (oc->opts->ext_unix_sk_all)
		return true;
	for (i = 0; i < oc->opts->nr_ext_unix_inos; i++)
		if (oc->opts->ext_unix_inos[i] == u->ino || oc->opts->ext_unix_inos[i] == u->peer)
			return true;
	return false;
}

/* The root's stdio, or what --external or --ext-unix-sk names: its peer outside is expected. */
static int unix_external(struct outside_check *oc, struct fd_desc *d, bool *external)
{
	char key[64];

	snprintf(key, sizeof(key), "socket:[%u]", d->fe->usk->ino);
	*external = root_stdio(oc, d) || named_external(oc, key) || ext_unix_allowed(oc, d->fe->usk);
	return *external ? mark_external(d, key) : 0;
}

static int check_unix_peers(struct outside_check *oc)
{
	const struct file_desc_table *t = oc->t;
	const pid_t *tree = oc->tree;
	size_t nr = oc->nr, i;

	for (i = 0; i < t->nr; i++) {
		const UnixSkEntry *u = t->d[i].fe->usk;
		bool external = false;
		pid_t holder;
		int fd = -1, ret;

		/* connected to a socket the tree does not have */
		if (u && t->d[i].fd >= 0 && u->has_peer && !tree_has_unix(t, u->peer)) {
			ret = unix_external(oc, &t->d[i], &external);
			if (ret)
				return ret;
			if (external)
				continue;
		}

		for (size_t k = 0; u && k < u->n_icons; k++) {
			if (tree_has_unix(t, u->icons[k]))
				continue;
			holder = outside_holder(tree, nr, u->icons[k], &fd);
			pr_err("unix socket %u (fd %d of process %d) has a connection waiting from socket %u of "
			       "process "
			       "%d, outside the dumped tree: it can't be restored faithfully\n",
			       u->ino, t->d[i].fd, t->d[i].pid, u->icons[k], holder);
			return -EBUSY;
		}
		if (!u || !u->has_peer || tree_has_unix(t, u->peer) || !unix_diag_find(&t->unix_diag, u->peer))
			continue;
		holder = outside_holder(tree, nr, u->peer, &fd);
		pr_err("unix socket %u (fd %d of process %d) is connected to socket %u%s: it can't be restored "
		       "faithfully\n",
		       u->ino, t->d[i].fd, t->d[i].pid, u->peer, holder ? "" : ", not held by any process");
		if (holder)
			pr_err("socket %u is fd %d of process %d, outside the dumped tree\n", u->peer, fd, holder);
		return -EBUSY;
	}
	return 0;
}

/*
 * The fd's link; as --inherit-fd keys name it (the returned pointer into
 * link): pipe:[N], socket:[N], or a path without its leading '/'.
 */
static const char *fd_key(pid_t pid, int fd, char *link, size_t size)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	len = readlink(path, link, size - 1);
	link[len > 0 ? len : 0] = 0;
	return link[0] == '/' ? link + 1 : link;
}

static bool named_external(const struct outside_check *oc, const char *key)
{
	int i;

	for (i = 0; i < oc->opts->nr_externals; i++)
		if (!strcmp(oc->opts->externals[i], key))
			return true;
	return false;
}

static bool root_stdio(const struct outside_check *oc, const struct fd_desc *d)
{
	/* the root is dumped first, fds in order: its 0, 1, 2 are the first holders of what they are */
	return d->pid == oc->root && d->fd >= 0 && d->fd <= 2;
}

static int mark_external(struct fd_desc *d, const char *key)
{
	if (d->fe->external)
		return 0;
	d->fe->external = xstrdup(key);
	if (!d->fe->external)
		return -ENOMEM;
	pr_info("fd %d of process %d (%s) is shared with the outside: external, given back by --inherit-fd\n", d->fd,
		d->pid, key);
	return 0;
}

/*
 * Devices with no position and nothing to share through a description: a
 * process started from a shell often holds the shell's /dev/null beyond
 * its stdio. Opening them again is the same.
 */
static bool stateless_device(const char *link)
{
	static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(devs); i++)
		if (!strcmp(link, devs[i]))
			return true;
	return false;
}

static int on_shared_description(struct outside_check *oc, struct fd_desc *d, pid_t pid, int fd)
{
	char link[PATH_MAX];
	const char *key = fd_key(d->pid, d->fd, link, sizeof(link));

	if (root_stdio(oc, d) || named_external(oc, key))
		return mark_external(d, key);
	if (stateless_device(link)) {
		pr_debug("fd %d of process %d (%s) is also fd %d of process %d: opened again, it is the same\n", d->fd,
			 d->pid, link, fd, pid);
		return 0;
	}
	if (oc->opts->allow_outside_sharing) {
		pr_warn("fd %d of process %d (%s) is also fd %d of process %d, outside the tree: restored as the "
			"tree's "
			"own (--allow-outside-sharing)\n",
			d->fd, d->pid, link, fd, pid);
		return 0;
	}
	pr_err("fd %d of process %d (%s) is the same open file as fd %d of process %d, outside the dumped tree: it "
	       "can't be restored faithfully (--allow-outside-sharing dumps it as the tree's own)\n",
	       d->fd, d->pid, link, fd, pid);
	return -EBUSY;
}

/* An outsider holds an end of one of the tree's pipes: fine only if every tree end of it is external. */
static int on_pipe_end(struct outside_check *oc, const struct stat *st, pid_t pid, int fd)
{
	char key[64];
	size_t i;
	int ret;

	snprintf(key, sizeof(key), "pipe:[%llu]", (unsigned long long)st->st_ino);
	for (i = 0; i < oc->t->nr; i++) {
		struct fd_desc *d = &oc->t->d[i];

		if (d->fd < 0 || d->dev != st->st_dev || d->ino != st->st_ino)
			continue;
		if (root_stdio(oc, d) || named_external(oc, key)) {
			ret = mark_external(d, key);
			if (ret)
				return ret;
			continue;
		}
		if (oc->opts->allow_outside_sharing) {
			pr_warn("%s (fd %d of process %d) is also held by process %d (fd %d), outside the tree: "
				"restored "
				"as a pipe of the tree's own (--allow-outside-sharing)\n",
				key, d->fd, d->pid, pid, fd);
			continue;
		}
		pr_err("%s (fd %d of process %d) is also held by process %d (fd %d), outside the dumped tree: it "
		       "can't be restored faithfully (--external %s allows it)\n",
		       key, d->fd, d->pid, pid, fd, key);
		return -EBUSY;
	}
	return 0;
}

static bool tree_pipe(const struct file_desc_table *t, uint64_t ino)
{
	size_t i;

	for (i = 0; i < t->nr_seen; i++)
		if (t->seen[i] == ino)
			return true;
	return false;
}

/* One fd of an outsider. -ESRCH: the process or fd went away meanwhile. */
static int check_outsider_fd(struct outside_check *oc, pid_t pid, int dfd, const char *name)
{
	struct fd_desc *d;
	struct stat st;
	int fd = atoi(name), err;

	if (fstatat(dfd, name, &st, 0))
		return 0; /* closed meanwhile, or a file we can't reach (not one of ours then) */
	oc->nr_fds++;
	d = fdt_lookup(oc->t, pid, fd, &st, &err);
	if (err)
		return err;
	if (d)
		return on_shared_description(oc, d, pid, fd);
	if (S_ISFIFO(st.st_mode) && tree_pipe(oc->t, st.st_ino))
		return on_pipe_end(oc, &st, pid, fd);
	return 0;
}

static int check_outsider_fds(struct outside_check *oc, pid_t pid)
{
	char path[64];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0; /* gone, or a kernel thread's empty table */
	oc->nr_procs++;
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = check_outsider_fd(oc, pid, dirfd(d), de->d_name);
	closedir(d);
	return ret == -ESRCH ? 0 : ret;
}

/* Every process that is not the tree's nor criu's. */
static int list_outsiders(const struct outside_check *oc, pid_t **out, size_t *nr)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	*out = NULL;
	*nr = 0;
	if (!d) {
		pr_perror("can't list /proc");
		return -errno;
	}
	while ((de = readdir(d))) {
		pid_t pid = atoi(de->d_name);

		/* criu's guard holds copies of the tree's TCP sockets in repair mode */
		if (pid <= 0 || pid == getpid() || pid_in(pid, oc->tree, oc->nr) ||
		    (oc->t->journal && pid == oc->t->journal->guard_pid))
			continue;
		if (xgrow(out, &cap, *nr, sizeof(**out))) {
			closedir(d);
			return -ENOMEM;
		}
		(*out)[(*nr)++] = pid;
	}
	closedir(d);
	return 0;
}

/* Memory whose only name is its mappings: shared anonymous memory, memfds, deleted files. */
static bool shmem_object(const struct proc_vma *v)
{
	size_t len = strlen(v->path), tail = strlen(" (deleted)");

	if (!v->shared)
		return false;
	return (len > tail && !strcmp(v->path + len - tail, " (deleted)")) || !strncmp(v->path, "[anon_shmem:", 12);
}

static const struct proc_vma *tree_mapping(const struct tree_pids *tp, unsigned maj, unsigned min, uint64_t ino,
					   pid_t *pid)
{
	size_t i, j;

	for (i = 0; i < tp->nr_live; i++) {
		for (j = 0; j < tp->vmas[i]->nr; j++) {
			const struct proc_vma *v = &tp->vmas[i]->v[j];

			if (shmem_object(v) && v->ino == ino && v->dev_major == maj && v->dev_minor == min) {
				*pid = tp->live[i];
				return v;
			}
		}
	}
	return NULL;
}

static bool tree_has_shmem(const struct tree_pids *tp)
{
	size_t i, j;

	for (i = 0; i < tp->nr_live; i++)
		for (j = 0; j < tp->vmas[i]->nr; j++)
			if (shmem_object(&tp->vmas[i]->v[j]))
				return true;
	return false;
}

/* An outsider mapping shared memory of the tree: the restored tree would have its own copy. */
static int check_outsider_maps(const struct outside_check *oc, const struct tree_pids *tp, pid_t pid)
{
	char path[64], *buf, *line, *save = NULL;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	buf = read_file_at(AT_FDCWD, path, NULL);
	if (!buf)
		return 0; /* gone */
	for (line = strtok_r(buf, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end;
		unsigned maj, min;
		unsigned long long ino;
		const struct proc_vma *v;
		char perms[5];
		pid_t holder;

		if (sscanf(line, "%lx-%lx %4s %*x %x:%x %llu", &start, &end, perms, &maj, &min, &ino) != 6 ||
		    perms[3] != 's' || !ino)
			continue;
		v = tree_mapping(tp, maj, min, ino, &holder);
		if (!v)
			continue;
		if (oc->opts->allow_outside_sharing) {
			pr_warn("shared memory %s at 0x%llx of process %d is also mapped by process %d, outside the "
				"tree: "
				"restored as the tree's own (--allow-outside-sharing)\n",
				v->path, (unsigned long long)v->start, holder, pid);
			continue;
		}
		pr_err("shared memory %s at 0x%llx of process %d is also mapped by process %d (at 0x%lx), outside the "
		       "dumped tree: it can't be restored faithfully (--allow-outside-sharing dumps it as the tree's "
		       "own)\n",
		       v->path, (unsigned long long)v->start, holder, pid, start);
		ret = -EBUSY;
	}
	free(buf);
	return ret;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int fdt_check_outside(struct file_desc_table *t, const struct tree_pids *tp, const struct cr_options *opts)
{
	struct outside_check oc = { .t = t, .tree = tp->all, .nr = tp->nr_all, .root = tp->root, .opts = opts };
	const pid_t *tree = tp->all;
	size_t nr = tp->nr_all;
	struct timespec t0;
	pid_t *out;
	size_t nr_out, i;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = check_unix_peers(&oc);
	ret = ret ?: pty_check_outside(t, tree, nr);
	ret = ret ?: list_outsiders(&oc, &out, &nr_out);
	if (ret)
		return ret;
	ret = check_task_resources_outside(tp->live, tp->nr_live, out, nr_out);
	for (i = 0; i < nr_out && !ret; i++)
		ret = check_outsider_fds(&oc, out[i]);
	/* only when the tree has such memory: reading every process's maps costs more than its fds */
	if (!ret && tree_has_shmem(tp))
		for (i = 0; i < nr_out && !ret; i++)
			ret = check_outsider_maps(&oc, tp, out[i]);
	free(out);
	pr_info("outside check: %zu processes, %zu fds compared with %zu descriptions of the tree in %.2f ms\n",
		oc.nr_procs, oc.nr_fds, t->nr, ms_since(&t0));
	return ret;
}
