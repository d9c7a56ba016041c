// SPDX-License-Identifier: GPL-2.0
/*
 * Open files: every open file description of the tree is dumped once into
 * files.img; each fd of each process points to its description by id in
 * fdinfo-PID.img. The kind-specific work is in the fd_ops of each kind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "compel/infect.h"
#include "files.h"
#include "files-table.h"
#include "proc-parse.h"
#include "net-lock.h"
#include "sk-diag.h"
#include "image.h"
#include "tty.h"
#include "log.h"
#include "util.h"

/* Largest fd number an image may use: keeps a corrupt image from asking for absurd tables. */
#define FD_NUMBER_MAX (1 << 20)

extern const struct fd_ops reg_fd_ops;
extern const struct fd_ops tty_fd_ops;
extern const struct fd_ops pipe_fd_ops;
extern const struct fd_ops unix_sk_fd_ops;
extern const struct fd_ops eventfd_fd_ops;
extern const struct fd_ops signalfd_fd_ops;
extern const struct fd_ops timerfd_fd_ops;
extern const struct fd_ops epoll_fd_ops;
extern const struct fd_ops memfd_fd_ops;
extern const struct fd_ops inet_sk_fd_ops;
extern const struct fd_ops ghost_fd_ops;
extern const struct fd_ops inotify_fd_ops;
extern const struct fd_ops pty_fd_ops;

static const struct fd_ops *all_fd_ops[] = {
	&reg_fd_ops,	  &tty_fd_ops,	   &pipe_fd_ops,  &unix_sk_fd_ops, &eventfd_fd_ops,
	&signalfd_fd_ops, &timerfd_fd_ops, &epoll_fd_ops, &memfd_fd_ops,   &inet_sk_fd_ops,
	&ghost_fd_ops,	  &inotify_fd_ops, &pty_fd_ops,
};

/* anon_inode:[NAME] fds, by name */
static const struct {
	const char *link;
	const struct fd_ops *ops;
} anon_fd_ops[] = {
	{ "anon_inode:[eventfd]", &eventfd_fd_ops },
	{ "anon_inode:[signalfd]", &signalfd_fd_ops },
	{ "anon_inode:[timerfd]", &timerfd_fd_ops },
	{ "anon_inode:[eventpoll]", &epoll_fd_ops },
	/* without brackets, as the kernel names it */
	{ "anon_inode:inotify", &inotify_fd_ops },
};

const struct fd_ops *fd_ops_by_type(FdType type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all_fd_ops); i++)
		if (all_fd_ops[i]->type == type)
			return all_fd_ops[i];
	return NULL;
}

/* Dump side */

void fdt_set_journal(struct file_desc_table *t, struct compel_journal *j)
{
	t->journal = j;
}

/* In the guard, the dumper gone: its repaired sockets go back to normal, the lock goes. */
static void guard_undo_tcp_repair(struct compel_journal *j)
{
	int off = TCP_REPAIR_OFF, i;

	for (i = 0; i < j->nr_undo_sockets; i++) {
		int fd = grab_fd(j->undo_sockets[i].pid, j->undo_sockets[i].fd);

		if (fd < 0)
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
			pr_perror("can't take fd %d of %d out of TCP repair mode", j->undo_sockets[i].fd,
				  j->undo_sockets[i].pid);
		close(fd);
	}
	net_lock_release(j->undo_sockets_root);
}

int fdt_note_tcp_repair(struct file_desc_table *t, int sfd, pid_t root, pid_t pid, int fd)
{
	int copy = fcntl(sfd, F_DUPFD_CLOEXEC, 0);

	if (copy < 0 || xgrow(&t->tcp_repair, &t->tcp_repair_cap, t->nr_tcp_repair, sizeof(int))) {
		if (copy >= 0)
			close(copy);
		return -ENOMEM;
	}
	t->tcp_repair[t->nr_tcp_repair++] = copy;
	if (t->journal && compel_guard_note_socket(t->journal, root, pid, fd, guard_undo_tcp_repair)) {
		pr_err("more than %d TCP connections: the guard could not undo them\n", COMPEL_UNDO_SOCKETS);
		return -ENOSPC;
	}
	return 0;
}

/*
 * Killed in repair mode, a connection goes without a word to its peer: the
 * network lock holds it until the restore. Otherwise it goes on now.
 */
void fdt_tcp_repair_finish(struct file_desc_table *t, bool keep, pid_t root)
{
	int off = TCP_REPAIR_OFF;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr_tcp_repair; i++) {
		if (!keep && setsockopt(t->tcp_repair[i], IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
			pr_perror("can't take a TCP connection out of repair mode");
		close(t->tcp_repair[i]);
	}
	if (t->nr_tcp_repair && !keep)
		net_lock_release(root);
	t->nr_tcp_repair = 0;
	/* decided: a dumper dying from now on leaves them as they are */
	if (t->journal)
		compel_guard_forget_sockets(t->journal);
}

struct pty_scan *fdt_ptys(const struct file_desc_table *t)
{
	return t->ptys;
}

void fdt_set_ptys(struct file_desc_table *t, struct pty_scan *s)
{
	t->ptys = s;
}

int fdt_defer(struct file_desc_table *t, FileEntry *fe, pid_t pid, int fd)
{
	if (xgrow(&t->deferred, &t->deferred_cap, t->nr_deferred, sizeof(*t->deferred)))
		return -ENOMEM;
	t->deferred[t->nr_deferred].fe = fe;
	t->deferred[t->nr_deferred].pid = pid;
	t->deferred[t->nr_deferred].fd = fd;
	t->nr_deferred++;
	return 0;
}

/* The id of the tree's description that is target i of the epoll (pid, epfd), or 0. */
static uint32_t find_epoll_target(const struct file_desc_table *t, pid_t pid, int epfd, const EpollEntry *e, size_t i)
{
	size_t j;

	for (j = 0; j < t->nr; j++)
		if (t->d[j].fd >= 0 && epoll_target_is(pid, epfd, e, i, t->d[j].pid, t->d[j].fd))
			return t->d[j].fe->id;
	return 0;
}

int fdt_resolve_deferred(struct file_desc_table *t)
{
	size_t k, i;

	for (k = 0; k < t->nr_deferred; k++) {
		const struct fd_desc *d = &t->deferred[k];
		EpollEntry *e = d->fe->epoll;

		for (i = 0; e && i < e->n_tfds; i++) {
			e->tfds[i]->file_id = find_epoll_target(t, d->pid, d->fd, e, i);
			if (e->tfds[i]->file_id)
				continue;
			pr_err("epoll fd %d of process %d watches fd %u, a description no process of the tree holds "
			       "(an "
			       "outsider does): it can't be restored faithfully\n",
			       d->fd, d->pid, e->tfds[i]->tfd);
			return -EBUSY;
		}
	}
	return 0;
}

struct unix_diag_table *fdt_unix_diag(struct file_desc_table *t)
{
	return &t->unix_diag;
}

int fdt_note_unix(struct file_desc_table *t, uint32_t ino)
{
	if (xgrow(&t->unix_inos, &t->unix_cap, t->nr_unix, sizeof(*t->unix_inos)))
		return -ENOMEM;
	t->unix_inos[t->nr_unix++] = ino;
	return 0;
}

bool fdt_first_memfd(struct file_desc_table *t, uint64_t ino)
{
	size_t i;

	for (i = 0; i < t->nr_memfds; i++)
		if (t->memfds[i] == ino)
			return false;
	if (!xgrow(&t->memfds, &t->memfds_cap, t->nr_memfds, sizeof(*t->memfds)))
		t->memfds[t->nr_memfds++] = ino;
	return true;
}

size_t fdt_memfd_inodes(const struct file_desc_table *t, const uint64_t **inos)
{
	*inos = t->memfds;
	return t->nr_memfds;
}

int fdt_ghost_id(struct file_desc_table *t, uint64_t dev, uint64_t ino, uint32_t id, uint32_t *ghost_id)
{
	size_t i;

	for (i = 0; i < t->nr_ghosts; i++) {
		if (t->ghosts[i].dev == dev && t->ghosts[i].ino == ino) {
			*ghost_id = t->ghosts[i].id;
			return 0;
		}
	}
	if (xgrow(&t->ghosts, &t->ghosts_cap, t->nr_ghosts, sizeof(*t->ghosts)))
		return -ENOMEM;
	t->ghosts[t->nr_ghosts++] = (struct ghost_seen){ .dev = dev, .ino = ino, .id = id };
	*ghost_id = id;
	return 0;
}

bool fdt_first_sight(struct file_desc_table *t, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->nr_seen; i++)
		if (t->seen[i] == id)
			return false;
	if (!xgrow(&t->seen, &t->seen_cap, t->nr_seen, sizeof(*t->seen)))
		t->seen[t->nr_seen++] = id;
	return true;
}

void reg_file_fill_stat(RegFileEntry *r, const struct stat *st);

struct file_desc_table *fdt_create(const struct cr_options *opts, int imgdir_fd)
{
	struct file_desc_table *t = xzalloc(sizeof(*t));

	if (t) {
		t->next_id = 1;
		t->opts = opts;
		t->imgdir_fd = imgdir_fd;
	}
	return t;
}

static int fdt_append(struct file_desc_table *t, FileEntry *fe, pid_t pid, int fd, const struct stat *st)
{
	if (xgrow(&t->d, &t->cap, t->nr, sizeof(*t->d)))
		return -ENOMEM;
	t->d[t->nr].fe = fe;
	t->d[t->nr].pid = pid;
	t->d[t->nr].fd = fd;
	t->d[t->nr].dev = st ? st->st_dev : 0;
	t->d[t->nr].ino = st ? st->st_ino : 0;
	t->nr++;
	return 0;
}

/* <0, 0, >0 as the description of d orders before, is, or orders after pid's fd. */
static int fd_desc_cmp(const struct fd_desc *d, pid_t pid, int fd, const struct stat *st, int *err)
{
	long ret;

	if (d->dev != st->st_dev)
		return d->dev < st->st_dev ? -1 : 1;
	if (d->ino != st->st_ino)
		return d->ino < st->st_ino ? -1 : 1;
	ret = syscall(SYS_kcmp, d->pid, pid, KCMP_FILE, d->fd, fd);
	if (ret == 0)
		return 0;
	if (ret == 1 || ret == 2)
		return ret == 1 ? -1 : 1;
	if (errno == ESRCH || errno == EBADF) {
		/* an outsider that exited or closed the fd meanwhile: the caller skips it */
		*err = -ESRCH;
		return 0;
	}
	pr_perror("kcmp of fd %d of %d and fd %d of %d", d->fd, d->pid, fd, pid);
	*err = -EIO;
	return 0;
}

/*
 * The description (of any dumped task) that pid's fd is, or NULL; *slot,
 * if asked for, is where a new one goes in the sorted index.
 */
static struct fd_desc *search_by_file(const struct file_desc_table *t, pid_t pid, int fd, const struct stat *st,
				      size_t *slot, int *err)
{
	size_t lo = 0, hi = t->nr_by_file;

	*err = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct fd_desc *d = &t->d[t->by_file[mid]];
		int c = fd_desc_cmp(d, pid, fd, st, err);

		if (*err)
			return NULL;
		if (c == 0)
			return d;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (slot)
		*slot = lo;
	return NULL;
}

static FileEntry *fdt_find_shared(struct file_desc_table *t, pid_t pid, int fd, const struct stat *st, size_t *slot,
				  int *err)
{
	struct fd_desc *d = search_by_file(t, pid, fd, st, slot, err);

	return d ? d->fe : NULL;
}

struct fd_desc *fdt_lookup(const struct file_desc_table *t, pid_t pid, int fd, const struct stat *st, int *err)
{
	return search_by_file(t, pid, fd, st, NULL, err);
}

static int fdt_index_insert(struct file_desc_table *t, size_t slot, size_t idx)
{
	if (xgrow(&t->by_file, &t->by_file_cap, t->nr_by_file, sizeof(*t->by_file)))
		return -ENOMEM;
	memmove(&t->by_file[slot + 1], &t->by_file[slot], (t->nr_by_file - slot) * sizeof(*t->by_file));
	t->by_file[slot] = idx;
	t->nr_by_file++;
	return 0;
}

static const char *fd_kind_of_link(const char *link)
{
	static char kind[64];
	const char *colon = strchr(link, ':');
	size_t len;

	if (!strncmp(link, "anon_inode:", 11)) {
		snprintf(kind, sizeof(kind), "%.60s", link + 11);
		return kind;
	}
	len = colon ? (size_t)(colon - link) : strlen(link);
	snprintf(kind, sizeof(kind), "%.*s", (int)min(len, sizeof(kind) - 1), link);
	return kind;
}

static bool is_tty(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);

	if (!S_ISCHR(st->st_mode))
		return false;
	/* 4: tty/ttyS, 5: /dev/tty, console, ptmx, 136-143: pts */
	return maj == 4 || (maj == 5 && minor(st->st_rdev) <= 1) || (maj >= 136 && maj <= 143);
}

/* A socket's kind is its family: asked of a copy of the socket. */
static const struct fd_ops *socket_ops(pid_t pid, int fd, const char *link)
{
	int sfd = grab_fd(pid, fd), dom = -1;
	socklen_t len = sizeof(dom);

	if (sfd < 0)
		return NULL;
	if (getsockopt(sfd, SOL_SOCKET, SO_DOMAIN, &dom, &len))
		pr_perror("can't get the family of fd %d of process %d", fd, pid);
	close(sfd);
	if (dom == AF_UNIX)
		return &unix_sk_fd_ops;
	if (dom == AF_INET || dom == AF_INET6)
		return &inet_sk_fd_ops;
	pr_err("can't dump fd %d of process %d: a socket of family %d (%s) is not supported yet\n", fd, pid, dom, link);
	return NULL;
}

static const struct fd_ops *fd_ops_for(struct file_desc_table *t, pid_t pid, int fd, const char *link,
				       const struct stat *st)
{
	if (S_ISREG(st->st_mode) && !strncmp(link, "/memfd:", 7))
		return &memfd_fd_ops;
	/* no name left at all: a file with another link is refused by reg_dump */
	if (S_ISREG(st->st_mode) && !st->st_nlink && link[0] == '/' && link_is_deleted(link))
		return &ghost_fd_ops;
	if (S_ISFIFO(st->st_mode) && (!strncmp(link, "pipe:[", 6) || link[0] == '/'))
		return &pipe_fd_ops;
	if (S_ISSOCK(st->st_mode) && !strncmp(link, "socket:[", 8))
		return socket_ops(pid, fd, link);
	for (size_t i = 0; i < ARRAY_SIZE(anon_fd_ops); i++)
		if (!strcmp(link, anon_fd_ops[i].link))
			return anon_fd_ops[i].ops;
	if (link[0] != '/') {
		pr_err("can't dump fd %d of process %d: %s (%s) is not supported yet\n", fd, pid, fd_kind_of_link(link),
		       link);
		return NULL;
	}
	if (pty_is_master(st) || pty_is_tree_slave(t, st))
		return &pty_fd_ops;
	if (is_tty(st))
		return &tty_fd_ops;
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return &reg_fd_ops;
	pr_err("can't dump fd %d of process %d: %s is a %s, not supported yet\n", fd, pid, link,
	       S_ISFIFO(st->st_mode)   ? "FIFO"
	       : S_ISSOCK(st->st_mode) ? "socket"
				       : "special file");
	return NULL;
}

static int dump_one_fd(struct file_desc_table *t, pid_t pid, int fd, struct cr_img *img, int imgdir_fd,
		       const struct cr_options *opts)
{
	char path[64], link[PATH_MAX];
	FdinfoEntry fdi = FDINFO_ENTRY__INIT;
	const struct fd_ops *ops;
	struct stat st;
	FileEntry *fe;
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	size_t slot = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || stat(path, &st)) {
		pr_perror("can't inspect fd %d of process %d", fd, pid);
		return -errno;
	}
	link[n] = 0;
	ops = fd_ops_for(t, pid, fd, link, &st);
	if (!ops)
		return -ENOTSUP;
	fe = fdt_find_shared(t, pid, fd, &st, &slot, &ret);
	if (ret)
		return ret;
	if (!fe) {
		fe = xzalloc(sizeof(*fe));
		if (!fe)
			return -ENOMEM;
		file_entry__init(fe);
		fe->type = ops->type;
		fe->id = t->next_id++;
		struct fd_dump_ctx c = {
			.pid = pid,
			.fd = fd,
			.link = link,
			.st = &st,
			.opts = opts,
			.fdt = t,
			.imgdir_fd = imgdir_fd,
		};

		ret = ops->dump(&c, fe);
		if (!ret)
			ret = fdt_append(t, fe, pid, fd, &st);
		if (!ret)
			ret = fdt_index_insert(t, slot, t->nr - 1);
		if (ret) {
			if (ops->free)
				ops->free(fe);
			free(fe);
			return ret;
		}
	}
	ret = parse_fdinfo(pid, fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	ret = file_locks_dump(pid, fd, link, &fdi, opts);
	if (!ret) {
		fdi.fd = fd;
		fdi.id = fe->id;
		fdi.type = fe->type;
		fdi.fd_flags = (flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
		pr_debug("fd %d of %d: %s id %u (%s)\n", fd, pid, ops->name, fe->id, link);
		ret = img_write_entry(img, &fdi.base);
	}
	file_locks_free(&fdi);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int list_fds(pid_t pid, int **fds, size_t *nr)
{
	char path[64];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*fds = NULL;
	*nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (xgrow(fds, &cap, *nr, sizeof(int))) {
			closedir(d);
			return -ENOMEM;
		}
		(*fds)[(*nr)++] = atoi(de->d_name);
	}
	closedir(d);
	xqsort(*fds, *nr, sizeof(int), cmp_int);
	return 0;
}

int files_dump_task(struct file_desc_table *t, pid_t pid, int imgdir_fd, const struct cr_options *opts)
{
	struct cr_img *img;
	size_t i, nr;
	int *fds, ret;

	ret = list_fds(pid, &fds, &nr);
	if (ret)
		return ret;
	img = img_open(imgdir_fd, CR_IMG_FDINFO, true, pid);
	if (!img) {
		free(fds);
		return -EIO;
	}
	for (i = 0; i < nr && !ret; i++)
		ret = dump_one_fd(t, pid, fds[i], img, imgdir_fd, opts);
	if (img_close(img) && !ret)
		ret = -EIO;
	free(fds);
	return ret;
}

int fdt_add_path(struct file_desc_table *t, const char *path, uint32_t flags, uint32_t *id)
{
	RegFileEntry *r;
	FileEntry *fe;
	struct stat st;
	size_t i;

	for (i = 0; i < t->nr; i++) {
		fe = t->d[i].fe;
		if (t->d[i].fd < 0 && fe->reg && !strcmp(fe->reg->path, path) && fe->reg->flags == flags) {
			*id = fe->id;
			return 0;
		}
	}
	if (stat(path, &st)) {
		pr_perror("can't stat %s", path);
		return -errno;
	}
	fe = xzalloc(sizeof(*fe));
	r = xzalloc(sizeof(*r));
	if (!fe || !r)
		goto nomem;
	file_entry__init(fe);
	reg_file_entry__init(r);
	r->path = xstrdup(path);
	if (!r->path)
		goto nomem;
	fe->type = FD_TYPE__FD_REG;
	fe->id = t->next_id++;
	fe->reg = r;
	r->id = fe->id;
	r->flags = flags;
	reg_file_fill_stat(r, &st);
	if (fdt_append(t, fe, 0, -1, &st))
		goto nomem;
	*id = fe->id;
	return 0;
nomem:
	if (r)
		free(r->path);
	free(r);
	free(fe);
	return -ENOMEM;
}

int fdt_add_deleted(struct file_desc_table *t, const char *proc_path, const char *link, const char *what,
		    uint32_t flags, uint32_t *id)
{
	struct ghost_src src = { .proc_path = proc_path, .link = link, .what = what, .flags = flags };
	struct stat st;
	FileEntry *fe;
	size_t i;
	int ret;

	if (stat(proc_path, &st)) {
		pr_perror("can't stat %s (%s)", proc_path, what);
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink) {
		pr_err("can't dump %s: %s is not a deleted regular file with no other link (not supported yet)\n", what,
		       link);
		return -ENOTSUP;
	}
	for (i = 0; i < t->nr; i++) {
		fe = t->d[i].fe;
		if (t->d[i].fd < 0 && fe->ghost && t->d[i].dev == st.st_dev && t->d[i].ino == st.st_ino &&
		    fe->ghost->flags == flags) {
			*id = fe->id;
			return 0;
		}
	}
	fe = xzalloc(sizeof(*fe));
	if (!fe)
		return -ENOMEM;
	file_entry__init(fe);
	fe->type = FD_TYPE__FD_GHOST;
	fe->id = t->next_id++;
	src.st = &st;
	ret = ghost_fill(t, fe, &src, t->opts, t->imgdir_fd);
	ret = ret ?: fdt_append(t, fe, 0, -1, &st);
	if (ret) {
		ghost_fd_ops.free(fe);
		free(fe);
		return ret;
	}
	*id = fe->id;
	return 0;
}

int files_write_image(struct file_desc_table *t, int imgdir_fd)
{
	struct cr_img *img;
	size_t i;
	int ret = 0;

	img = img_open(imgdir_fd, CR_IMG_FILES, true, 0);
	if (!img)
		return -EIO;
	for (i = 0; i < t->nr && !ret; i++)
		ret = img_write_entry(img, &t->d[i].fe->base);
	if (img_close(img) && !ret)
		ret = -EIO;
	return ret;
}

void fdt_destroy(struct file_desc_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr; i++) {
		const struct fd_ops *ops = fd_ops_by_type(t->d[i].fe->type);

		if (ops && ops->free)
			ops->free(t->d[i].fe);
		free(t->d[i].fe);
	}
	free(t->d);
	free(t->by_file);
	free(t->seen);
	free(t->memfds);
	free(t->ghosts);
	free(t->unix_inos);
	free(t->deferred);
	free(t->tcp_repair);
	pty_scan_free(t->ptys);
	unix_diag_free(&t->unix_diag);
	free(t);
}

/* Restore side */

/* Absolute, with no ".." component: a path names the file dumped, not a way around it. */
static bool path_is_clean(const char *path)
{
	const char *p;

	if (!path || path[0] != '/')
		return false;
	for (p = path; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || p[3] == 0)
			return false;
	return true;
}

static int validate_file_entry(const FileEntry *fe, size_t idx)
{
	const struct fd_ops *ops = fd_ops_by_type(fe->type);

	if (!ops) {
		pr_err("files.img: entry %zu has unknown type %d\n", idx, fe->type);
		return -EINVAL;
	}
	if (!fe->id) {
		pr_err("files.img: entry %zu has id 0\n", idx);
		return -EINVAL;
	}
	if ((fe->type == FD_TYPE__FD_REG) != !!fe->reg || (fe->type == FD_TYPE__FD_TTY_EXT) != !!fe->tty ||
	    (fe->type == FD_TYPE__FD_PIPE) != !!fe->pipe || (fe->type == FD_TYPE__FD_UNIXSK) != !!fe->usk ||
	    (fe->type == FD_TYPE__FD_EVENTFD) != !!fe->efd || (fe->type == FD_TYPE__FD_SIGNALFD) != !!fe->sfd ||
	    (fe->type == FD_TYPE__FD_TIMERFD) != !!fe->tfd || (fe->type == FD_TYPE__FD_EPOLL) != !!fe->epoll ||
	    (fe->type == FD_TYPE__FD_MEMFD) != !!fe->memfd || (fe->type == FD_TYPE__FD_INETSK) != !!fe->isk ||
	    (fe->type == FD_TYPE__FD_GHOST) != !!fe->ghost || (fe->type == FD_TYPE__FD_INOTIFY) != !!fe->inotify ||
	    (fe->type == FD_TYPE__FD_PTY) != !!fe->pty) {
		pr_err("files.img: entry %zu (id %u): payload does not match type %s\n", idx, fe->id, ops->name);
		return -EINVAL;
	}
	if (fe->reg && (fe->reg->id != fe->id || !path_is_clean(fe->reg->path))) {
		pr_err("files.img: entry %zu (id %u): bad path or id\n", idx, fe->id);
		return -EINVAL;
	}
	if (fe->external && (!fe->external[0] || strlen(fe->external) >= PATH_MAX)) {
		pr_err("files.img: entry %zu (id %u): external key of %zu characters\n", idx, fe->id,
		       strlen(fe->external));
		return -EINVAL;
	}
	return ops->validate ? ops->validate(fe, idx) : 0;
}

int files_read_set(int imgdir_fd, struct file_set *set)
{
	ProtobufCMessage *msg;
	struct cr_img *img;
	size_t cap = 0, i;
	int ret;

	memset(set, 0, sizeof(*set));
	set->imgdir_fd = imgdir_fd;
	img = img_open(imgdir_fd, CR_IMG_FILES, false, 0);
	if (!img)
		return -ENOENT;
	while ((ret = img_read_entry(img, &file_entry__descriptor, &msg)) > 0) {
		if (xgrow(&set->files, &cap, set->nr_files, sizeof(*set->files))) {
			img_free_entry(msg);
			ret = -ENOMEM;
			break;
		}
		set->files[set->nr_files++] = (FileEntry *)msg;
		ret = validate_file_entry((FileEntry *)msg, set->nr_files - 1);
		for (i = 0; !ret && i + 1 < set->nr_files; i++) {
			if (set->files[i]->id == ((FileEntry *)msg)->id) {
				pr_err("files.img: id %u appears twice\n", set->files[i]->id);
				ret = -EINVAL;
			}
		}
		if (ret)
			break;
	}
	img_close(img);
	for (i = 0; !ret && i < ARRAY_SIZE(all_fd_ops); i++)
		if (all_fd_ops[i]->validate_set)
			ret = all_fd_ops[i]->validate_set(set);
	if (!ret) {
		set->masters = xmalloc((set->nr_files + 1) * sizeof(int));
		set->owner = xzalloc((set->nr_files + 1) * sizeof(pid_t));
		if (!set->masters || !set->owner)
			ret = -ENOMEM;
		for (i = 0; !ret && i < set->nr_files; i++)
			set->masters[i] = -1;
	}
	if (ret)
		files_free_set(set);
	return ret;
}

void files_free_set(struct file_set *set)
{
	size_t i;

	if (set->masters)
		files_close_masters(set);
	files_masters_done(set);
	for (i = 0; i < set->nr_files; i++)
		img_free_entry(&set->files[i]->base);
	free(set->ptys);
	free(set->files);
	free(set->masters);
	free(set->owner);
	memset(set, 0, sizeof(*set));
}

static ssize_t set_index(const struct file_set *set, uint32_t id)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++)
		if (set->files[i]->id == id)
			return i;
	return -1;
}

const FileEntry *files_find(const struct task_files *tf, uint32_t id)
{
	ssize_t i = set_index(tf->set, id);

	return i < 0 ? NULL : tf->set->files[i];
}

int files_open_mapped(struct file_set *set, const FileEntry *fe, bool unchanged)
{
	int fd, ret;

	if (fe->ghost)
		return ghost_open_flags(fe, set, O_CLOEXEC);
	fd = reg_file_open(fe->reg, O_CLOEXEC);
	if (fd < 0 || !unchanged)
		return fd;
	ret = reg_file_check_unchanged(fe->reg, fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

const char *files_entry_path(const FileEntry *fe)
{
	if (fe->ghost)
		return fe->ghost->path;
	return fe->reg ? fe->reg->path : "?";
}

/* Kinds restore can open again by themselves, as the tree's own, when no --inherit-fd gives them. */
static bool reopenable(const FileEntry *fe)
{
	return fe->type == FD_TYPE__FD_REG || fe->type == FD_TYPE__FD_TTY_EXT;
}

/*
 * A description the tree shared with the outside at the dump: the fd
 * --inherit-fd names by its key, or, for files, opened again by path.
 * Returns the fd, or 0 to open it as usual.
 */
static int open_external(const FileEntry *fe, const struct cr_options *opts)
{
	int i, fd;

	for (i = 0; i < opts->nr_inherit_fds; i++) {
		if (strcmp(opts->inherit_fds[i].key, fe->external))
			continue;
		fd = fcntl(opts->inherit_fds[i].fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			pr_perror("--inherit-fd fd[%d]:%s: criu has no fd %d", opts->inherit_fds[i].fd, fe->external,
				  opts->inherit_fds[i].fd);
			return -EBADF;
		}
		pr_info("file id %u: %s from --inherit-fd fd[%d]\n", fe->id, fe->external, opts->inherit_fds[i].fd);
		return fd;
	}
	fd = unix_open_external(fe);
	if (fd)
		return fd;
	if (reopenable(fe)) {
		pr_info("file id %u (%s) was shared with the outside: opened again as the tree's own\n", fe->id,
			fe->external);
		return 0;
	}
	pr_err("file id %u (%s) was shared with a process outside the tree at the dump: give it with --inherit-fd "
	       "fd[N]:%s\n",
	       fe->id, fe->external, fe->external);
	return -ENOENT;
}

int files_open_masters(struct file_set *set, const struct task_files *tf, pid_t pid, int min_fd,
		       const struct cr_options *opts)
{
	size_t i;

	for (i = 0; i < tf->nr_fds; i++) {
		ssize_t idx = set_index(set, tf->fds[i]->id);
		const FileEntry *fe = set->files[idx];
		int fd;

		if (set->masters[idx] >= 0)
			continue;
		fd = fe->external ? open_external(fe, opts) : 0;
		if (!fd)
			fd = fd_ops_by_type(fe->type)->open(fe, set, opts);
		if (fd < 0) {
			pr_err("can't open file id %u for fd %u of the tree\n", fe->id, tf->fds[i]->fd);
			return fd;
		}
		fd = move_fd_above(fd, min_fd);
		if (fd < 0)
			return fd;
		set->masters[idx] = fd;
		set->owner[idx] = pid;
	}
	return 0;
}

void files_masters_done(struct file_set *set)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all_fd_ops); i++)
		if (all_fd_ops[i]->open_done)
			all_fd_ops[i]->open_done(set);
}

void files_close_masters(struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++)
		close_safe(&set->masters[i]);
	pty_release_helpers(set);
}

bool files_is_master(const struct file_set *set, int fd)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++)
		if (set->masters[i] == fd)
			return true;
	return false;
}

static int cmp_fdinfo(const void *a, const void *b)
{
	const FdinfoEntry *x = *(FdinfoEntry *const *)a, *y = *(FdinfoEntry *const *)b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

static int validate_fdinfo(const struct task_files *tf, pid_t pid)
{
	struct rlimit rl;
	size_t i;

	getrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < tf->nr_fds; i++) {
		const FdinfoEntry *e = tf->fds[i];
		const FileEntry *fe = files_find(tf, e->id);

		if (e->fd >= FD_NUMBER_MAX || e->fd >= rl.rlim_max) {
			pr_err("fdinfo-%d.img: fd %u is beyond the limit (%lu)\n", pid, e->fd,
			       (unsigned long)min((rlim_t)FD_NUMBER_MAX, rl.rlim_max));
			return -EINVAL;
		}
		if (i && tf->fds[i - 1]->fd == e->fd) {
			pr_err("fdinfo-%d.img: fd %u appears twice\n", pid, e->fd);
			return -EINVAL;
		}
		if (!fe) {
			pr_err("fdinfo-%d.img: fd %u points to file id %u, which files.img lacks\n", pid, e->fd, e->id);
			return -EINVAL;
		}
		if (fe->type != e->type) {
			pr_err("fdinfo-%d.img: fd %u has type %d but file id %u has type %d\n", pid, e->fd, e->type,
			       e->id, fe->type);
			return -EINVAL;
		}
		if (file_locks_validate(e, pid))
			return -EINVAL;
		if (e->fd_flags & ~FD_CLOEXEC) {
			pr_err("fdinfo-%d.img: fd %u has unknown fd flags 0x%x\n", pid, e->fd, e->fd_flags);
			return -EINVAL;
		}
	}
	return 0;
}

int files_read_task(int imgdir_fd, pid_t pid, const struct file_set *set, struct task_files *tf)
{
	ProtobufCMessage *msg;
	struct cr_img *img;
	size_t cap = 0;
	int ret;

	memset(tf, 0, sizeof(*tf));
	tf->set = set;
	tf->max_fd = -1;
	img = img_open(imgdir_fd, CR_IMG_FDINFO, false, pid);
	if (!img) {
		ret = -ENOENT;
		goto err;
	}
	while ((ret = img_read_entry(img, &fdinfo_entry__descriptor, &msg)) > 0) {
		if (xgrow(&tf->fds, &cap, tf->nr_fds, sizeof(*tf->fds))) {
			img_free_entry(msg);
			ret = -ENOMEM;
			break;
		}
		tf->fds[tf->nr_fds++] = (FdinfoEntry *)msg;
		if (tf->nr_fds > FD_NUMBER_MAX) {
			pr_err("fdinfo-%d.img: too many entries\n", pid);
			ret = -EINVAL;
			break;
		}
	}
	img_close(img);
	if (ret)
		goto err;
	xqsort(tf->fds, tf->nr_fds, sizeof(*tf->fds), cmp_fdinfo);
	ret = validate_fdinfo(tf, pid);
	if (ret)
		goto err;
	if (tf->nr_fds)
		tf->max_fd = tf->fds[tf->nr_fds - 1]->fd;
	return 0;
err:
	files_free(tf);
	return ret;
}

static int install_one(const struct task_files *tf, size_t i)
{
	const FdinfoEntry *e = tf->fds[i];
	int master = tf->set->masters[set_index(tf->set, e->id)];
	int flags = (e->fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0;

	if (master < 0) {
		pr_err("fd %u: file id %u was not opened\n", e->fd, e->id);
		return -EINVAL;
	}
	if (dup3(master, e->fd, flags) < 0) {
		pr_perror("can't dup file id %u to fd %u", e->id, e->fd);
		return -errno;
	}
	return 0;
}

int files_note_tcp_repair(struct file_set *set, int fd, const uint8_t *unsent, size_t unsent_len)
{
	struct tcp_repair_restore *r;
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (copy < 0 || xgrow(&set->tcp_repair, &set->tcp_repair_cap, set->nr_tcp_repair, sizeof(*r))) {
		if (copy >= 0)
			close(copy);
		return -ENOMEM;
	}
	r = &set->tcp_repair[set->nr_tcp_repair++];
	r->fd = copy;
	r->unsent = unsent;
	r->unsent_len = unsent_len;
	return 0;
}

int files_finish_install(const struct task_files *tf, pid_t pid)
{
	size_t i;
	int ret;

	for (i = 0; i < tf->nr_fds; i++) {
		ssize_t idx = set_index(tf->set, tf->fds[i]->id);
		const FileEntry *fe = tf->set->files[idx];
		size_t j;
		bool first = true;

		if (fe->type != FD_TYPE__FD_EPOLL || tf->set->owner[idx] != pid)
			continue;
		/* once per epoll, even if this process has it at several fds */
		for (j = 0; j < i; j++)
			first &= tf->fds[j]->id != tf->fds[i]->id;
		if (!first)
			continue;
		ret = epoll_register(tf, fe, tf->fds[i]->fd, tf->max_fd + 1);
		if (ret)
			return ret;
	}
	return 0;
}

int files_install(const struct task_files *tf)
{
	size_t i;
	int ret;

	for (i = 0; i < tf->nr_fds; i++) {
		ret = install_one(tf, i);
		if (ret) {
			pr_err("can't restore fd %u\n", tf->fds[i]->fd);
			return ret;
		}
	}
	return 0;
}

void files_free(struct task_files *tf)
{
	size_t i;

	for (i = 0; i < tf->nr_fds; i++)
		img_free_entry(&tf->fds[i]->base);
	free(tf->fds);
	memset(tf, 0, sizeof(*tf));
	tf->max_fd = -1;
}
