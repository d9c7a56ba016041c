// SPDX-License-Identifier: GPL-2.0
/*
 * inotify: its flags and its watches. fdinfo lists each watch with its
 * number (wd), its mask and the watched inode as a file handle on its
 * device. The handle is opened on a mount of that device (as root, with
 * CAP_DAC_READ_SEARCH) and the path of what it opens is saved: restore
 * watches the object again by that path. An object without a path (on a
 * file system that can't open handles, or deleted) is refused.
 *
 * The program keeps the watch numbers, so they must come back the same.
 * The kernel gives them in increasing order in each inotify (cyclically,
 * never reusing a freed number until it wraps): the watches are added in
 * increasing wd order, and each number no watch has any more is used up
 * by a watch on a scratch memfd, removed at once. The number the kernel
 * gives next is then the highest saved one plus one, which the original
 * may have passed already (a program does not know it in advance).
 *
 * Events queued and not read at dump can't be put back: such an inotify
 * is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

/*
 * Highest wd an image may hold: restore uses up every number below it
 * (5 to 8 us each: seconds for this one), so a corrupt image must not ask
 * for 2^31 of them.
 */
#define INOTIFY_WD_MAX (1u << 20)
/* What the kernel keeps of a mask and shows in fdinfo. */
#define INOTIFY_MASK_KEPT (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)
/* Set by the kernel itself on watches of directories (older kernels show it). */
#define FS_EVENT_ON_CHILD_BIT 0x08000000u
#define HANDLE_BYTES_MAX 128 /* MAX_HANDLE_SZ */

/* ---- dump ---- */

/* A watch as fdinfo shows it. */
struct watch_info {
	unsigned wd, sdev, mask, ignored, hbytes;
	int htype;
	unsigned long ino;
	unsigned char handle[HANDLE_BYTES_MAX];
};

/* Events not read yet would be lost on restore, silently for the program. */
static int check_queue_empty(const struct fd_dump_ctx *c)
{
	int fd = grab_fd(c->pid, c->fd), queued = 0, ret = 0;

	if (fd < 0)
		return fd;
	if (ioctl(fd, FIONREAD, &queued)) {
		pr_perror("can't see the event queue of inotify fd %d of process %d", c->fd, c->pid);
		ret = -errno;
	} else if (queued) {
		pr_err("can't dump inotify fd %d of process %d: %d bytes of events are queued, not read yet; they "
		       "can't be restored\n",
		       c->fd, c->pid, queued);
		ret = -EBUSY;
	}
	close(fd);
	return ret;
}

static int parse_hex_bytes(const char *s, unsigned char *out, unsigned n)
{
	unsigned i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = v;
	}
	return 0;
}

static int parse_watch(const char *line, struct watch_info *w)
{
	char hex[2 * HANDLE_BYTES_MAX + 2];

	memset(w, 0, sizeof(*w));
	w->htype = -1;
	if (sscanf(line, "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x", &w->wd, &w->ino, &w->sdev, &w->mask,
		   &w->ignored) != 5)
		return -EIO;
	/* without a handle (a kernel without exportfs) the object is not found: refused by the caller */
	line = strstr(line, " fhandle-bytes:");
	if (!line)
		return 0;
	if (sscanf(line, " fhandle-bytes:%x fhandle-type:%x f_handle:%257s", &w->hbytes, &w->htype, hex) != 3 ||
	    w->hbytes > HANDLE_BYTES_MAX || parse_hex_bytes(hex, w->handle, w->hbytes))
		return -EIO;
	return 0;
}

/* Undo the octal escapes (\040 for a space, ...) of a mountinfo path, in place. */
static void unescape_mnt_path(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

static void free_mounts(char **mnts, size_t nr)
{
	while (nr--)
		free(mnts[nr]);
	free(mnts);
}

/*
 * The mount points of the device (kernel encoding: major << 20 | minor),
 * whole file systems (root "/") first. criu's own mountinfo: the tree is
 * in criu's mount namespace (others are refused), and its paths are the
 * ones criu can open, even for a chrooted process.
 */
static int mounts_of(unsigned sdev, char ***mnts, size_t *nr)
{
	char *buf = read_file_at(AT_FDCWD, "/proc/self/mountinfo", NULL), *line, *save = NULL;
	size_t cap = 0, whole = 0;
	int ret = 0;

	*mnts = NULL;
	*nr = 0;
	if (!buf) {
		pr_perror("can't read /proc/self/mountinfo");
		return -EIO;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char root[4096], point[4096], *p;
		unsigned maj, min;

		if (sscanf(line, "%*d %*d %u:%u %4095s %4095s", &maj, &min, root, point) != 4 || maj != sdev >> 20 ||
		    min != (sdev & 0xfffff))
			continue;
		unescape_mnt_path(point);
		p = xstrdup(point);
		if (!p || xgrow(mnts, &cap, *nr, sizeof(**mnts))) {
			free(p);
			ret = -ENOMEM;
			break;
		}
		if (!strcmp(root, "/")) {
			memmove(&(*mnts)[whole + 1], &(*mnts)[whole], (*nr - whole) * sizeof(**mnts));
			(*mnts)[whole++] = p;
		} else {
			(*mnts)[*nr] = p;
		}
		(*nr)++;
	}
	free(buf);
	if (ret) {
		free_mounts(*mnts, *nr);
		*mnts = NULL;
		*nr = 0;
	}
	return ret;
}

/*
 * Open the handle through the mount at mnt and take the path of what it
 * opens, if that path leads back to the same object. 0 and *path set,
 * or -ENOENT.
 */
static int path_through(const char *mnt, const struct watch_info *w, char **path, struct stat *st)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[HANDLE_BYTES_MAX];
	} h;
	char link[64], buf[PATH_MAX];
	struct stat pst;
	int mfd, fd;
	ssize_t n;

	/* not O_PATH: open_by_handle_at() takes no O_PATH fd as its mount */
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return -ENOENT;
	h.fh.handle_bytes = w->hbytes;
	h.fh.handle_type = w->htype;
	memcpy(h.fh.f_handle, w->handle, w->hbytes);
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	close(mfd);
	if (fd < 0) {
		pr_debug("inotify watch %u: no object through %s: %m\n", w->wd, mnt);
		return -ENOENT;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || fstat(fd, st) || st->st_ino != w->ino) {
		close(fd);
		return -ENOENT;
	}
	close(fd);
	buf[n] = 0;
	/* a deleted or unreachable (disconnected) object has no path to it */
	if (buf[0] != '/' || lstat(buf, &pst) || pst.st_dev != st->st_dev || pst.st_ino != st->st_ino) {
		pr_debug("inotify watch %u: %s through %s is not the watched object\n", w->wd, buf, mnt);
		return -ENOENT;
	}
	*path = xstrdup(buf);
	return *path ? 0 : -ENOMEM;
}

/* The mounts of the last device looked up: an inotify's watches are mostly on one. */
struct mnt_cache {
	bool valid;
	unsigned sdev;
	char **mnts;
	size_t nr;
};

static int find_path(const struct fd_dump_ctx *c, const struct watch_info *w, InotifyWdEntry *e, struct mnt_cache *mc)
{
	struct stat st;
	size_t i;
	int ret = -ENOENT;

	if (w->htype >= 0) {
		if (!mc->valid || mc->sdev != w->sdev) {
			free_mounts(mc->mnts, mc->nr);
			mc->valid = false;
			ret = mounts_of(w->sdev, &mc->mnts, &mc->nr);
			if (ret)
				return ret;
			mc->valid = true;
			mc->sdev = w->sdev;
		}
		for (i = 0, ret = -ENOENT; i < mc->nr && ret == -ENOENT; i++)
			ret = path_through(mc->mnts[i], w, &e->path, &st);
	}
	if (ret == -ENOENT)
		pr_err("can't dump inotify fd %d of process %d: the object of watch %u (inode %lu on device %u:%u) "
		       "has no path criu can find (deleted, out of reach of criu's mounts, or on a file system "
		       "without file handles)\n",
		       c->fd, c->pid, w->wd, w->ino, w->sdev >> 20, w->sdev & 0xfffff);
	if (ret)
		return ret;
	e->has_mode = e->has_dev = e->has_ino = true;
	e->mode = st.st_mode;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	return 0;
}

static int add_watch(const struct fd_dump_ctx *c, InotifyEntry *ie, const struct watch_info *w, struct mnt_cache *mc)
{
	InotifyWdEntry **n, *e;
	unsigned mask = w->mask & ~FS_EVENT_ON_CHILD_BIT;

	if (!w->wd || w->wd > INOTIFY_WD_MAX) {
		pr_err("can't dump inotify fd %d of process %d: watch %u is beyond %u, the highest number restore "
		       "can give again\n",
		       c->fd, c->pid, w->wd, INOTIFY_WD_MAX);
		return -ENOTSUP;
	}
	if ((mask & ~INOTIFY_MASK_KEPT) || !(mask & IN_ALL_EVENTS) || w->ignored) {
		pr_err("can't dump inotify fd %d of process %d: watch %u has mask 0x%x, ignored mask 0x%x, which "
		       "inotify_add_watch() can't give again\n",
		       c->fd, c->pid, w->wd, w->mask, w->ignored);
		return -ENOTSUP;
	}
	n = xrealloc(ie->wds, (ie->n_wds + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ie->wds = n;
	e = xzalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	inotify_wd_entry__init(e);
	ie->wds[ie->n_wds++] = e;
	e->wd = w->wd;
	e->mask = mask;
	e->has_ignored_mask = true;
	e->ignored_mask = w->ignored;
	return find_path(c, w, e, mc);
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWdEntry *x = *(InotifyWdEntry *const *)a, *y = *(InotifyWdEntry *const *)b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

static int parse_watches(const struct fd_dump_ctx *c, InotifyEntry *ie, char *info)
{
	char *line, *save = NULL;
	struct mnt_cache mc = { 0 };
	struct watch_info w;
	size_t i;
	int ret = 0;

	for (line = strtok_r(info, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "inotify ", 8))
			continue;
		if (parse_watch(line, &w)) {
			pr_err("fd %d of process %d: can't parse inotify fdinfo line \"%s\"\n", c->fd, c->pid, line);
			ret = -EIO;
			break;
		}
		ret = add_watch(c, ie, &w, &mc);
	}
	free_mounts(mc.mnts, mc.nr);
	if (ret)
		return ret;
	/* fdinfo lists the newest first; restore adds them by increasing number */
	xqsort(ie->wds, ie->n_wds, sizeof(*ie->wds), cmp_wd);
	for (i = 0; i + 1 < ie->n_wds; i++) {
		if (ie->wds[i]->wd == ie->wds[i + 1]->wd) {
			pr_err("fd %d of process %d: inotify fdinfo lists watch %u twice\n", c->fd, c->pid,
			       ie->wds[i]->wd);
			return -EIO;
		}
	}
	return 0;
}

static int inotify_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	InotifyEntry *ie;
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	char *info;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id) ?: check_queue_empty(c);
	if (ret)
		return ret;
	ie = xzalloc(sizeof(*ie));
	if (!ie)
		return -ENOMEM;
	inotify_entry__init(ie);
	fe->inotify = ie;
	ie->id = fe->id;
	ie->flags = flags & O_NONBLOCK;
	info = read_fdinfo(c->pid, c->fd);
	if (!info)
		return -EIO;
	ret = parse_watches(c, ie, info);
	free(info);
	return ret;
}

static void inotify_free(FileEntry *fe)
{
	size_t i;

	if (!fe->inotify)
		return;
	for (i = 0; i < fe->inotify->n_wds; i++) {
		free(fe->inotify->wds[i]->path);
		free(fe->inotify->wds[i]);
	}
	free(fe->inotify->wds);
	free(fe->inotify);
	fe->inotify = NULL;
}

/* ---- validation ---- */

static int validate_wd(const FileEntry *fe, size_t idx, size_t i)
{
	const InotifyWdEntry *w = fe->inotify->wds[i];
	const char *bad = NULL;

	if (!w->wd || w->wd > INOTIFY_WD_MAX)
		bad = "number";
	else if (i && w->wd <= fe->inotify->wds[i - 1]->wd)
		bad = "number (not above the previous one)";
	else if ((w->mask & ~INOTIFY_MASK_KEPT) || !(w->mask & IN_ALL_EVENTS))
		bad = "mask";
	else if (w->has_ignored_mask && w->ignored_mask)
		bad = "ignored mask";
	else if (!w->path || w->path[0] != '/' || strlen(w->path) >= PATH_MAX)
		bad = "path";
	else if (w->has_mode && !(w->mode & S_IFMT))
		bad = "mode";
	if (!bad)
		return 0;
	pr_err("files.img: entry %zu (id %u): inotify watch %zu (wd %u) has a bad %s\n", idx, fe->id, i, w->wd, bad);
	return -EINVAL;
}

static int inotify_validate(const FileEntry *fe, size_t idx)
{
	const InotifyEntry *ie = fe->inotify;
	size_t i;
	int ret;

	if (ie->id != fe->id || (ie->flags & ~O_NONBLOCK) || ie->n_wds > INOTIFY_WD_MAX) {
		pr_err("files.img: entry %zu (id %u): bad inotify id, flags or %zu watches\n", idx, fe->id, ie->n_wds);
		return -EINVAL;
	}
	for (i = 0; i < ie->n_wds; i++) {
		ret = validate_wd(fe, idx, i);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- restore ---- */

/* Use up watch number wd with a watch on the scratch memfd, removed at once. */
static int use_up_wd(int fd, const char *scratch, uint32_t wd, uint32_t id)
{
	int got = inotify_add_watch(fd, scratch, IN_ACCESS | IN_DONT_FOLLOW);

	if (got < 0) {
		pr_perror("inotify (file id %u): can't add a watch to use up number %u", id, wd);
		return -errno;
	}
	if (inotify_rm_watch(fd, got)) {
		pr_perror("inotify (file id %u): can't remove the watch %d using up number %u", id, got, wd);
		return -errno;
	}
	if ((uint32_t)got != wd) {
		pr_err("inotify (file id %u): the kernel gave watch number %d, %u was expected\n", id, got, wd);
		return -EINVAL;
	}
	return 0;
}

/* The object at the path must be of the same type; another file is taken with a warning. */
static int check_object(const InotifyWdEntry *w, uint32_t id)
{
	struct stat st;

	if (lstat(w->path, &st)) {
		pr_perror("inotify (file id %u): can't find %s, the object of watch %u", id, w->path, w->wd);
		return -errno;
	}
	if (w->has_mode && (st.st_mode & S_IFMT) != (w->mode & S_IFMT)) {
		pr_err("inotify (file id %u): %s, the object of watch %u, changed type since the dump (mode 0%o, was "
		       "0%o)\n",
		       id, w->path, w->wd, st.st_mode, w->mode);
		return -EINVAL;
	}
	if (w->has_ino && w->has_dev && (st.st_ino != w->ino || st.st_dev != w->dev))
		pr_warn("inotify (file id %u): %s, the object of watch %u, is another file than at dump (inode %llu, "
			"was %llu): watching it\n",
			id, w->path, w->wd, (unsigned long long)st.st_ino, (unsigned long long)w->ino);
	return 0;
}

static int add_saved_watch(int fd, const InotifyWdEntry *w, uint32_t id)
{
	int got, ret = check_object(w, id);

	if (ret)
		return ret;
	/* the path names the object itself, a symlink included: never follow it */
	got = inotify_add_watch(fd, w->path, w->mask | IN_DONT_FOLLOW);
	if (got < 0) {
		ret = -errno;
		pr_perror("inotify (file id %u): can't watch %s (watch %u)%s", id, w->path, w->wd,
			  ret == -ENOSPC ? " (fs.inotify.max_user_watches)" : "");
		return ret;
	}
	if ((uint32_t)got != w->wd) {
		pr_err("inotify (file id %u): watching %s gave number %d, not %u (the same object twice?)\n", id,
		       w->path, got, w->wd);
		return -EINVAL;
	}
	return 0;
}

/*
 * Using up numbers queued an IN_IGNORED event for each. The queue was
 * empty at dump: empty it again. Events of the real watches that come
 * while criu builds the inotify go too, as they would have before it
 * existed: the process was not running then.
 */
static int drain_events(int fd, uint32_t id)
{
	char buf[65536] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0 && errno != EAGAIN) {
		pr_perror("inotify (file id %u): can't empty the event queue", id);
		return -errno;
	}
	return 0;
}

static int build_watches(int fd, const InotifyEntry *ie)
{
	char scratch[64];
	uint32_t next = 1;
	size_t i;
	int mfd = -1, ret = 0;

	for (i = 0; i < ie->n_wds && !ret; i++) {
		const InotifyWdEntry *w = ie->wds[i];

		if (next < w->wd && mfd < 0) {
			/* a memfd: no saved watch can be on it, and it goes away with criu */
			mfd = memfd_create("criu-inotify-scratch", MFD_CLOEXEC);
			if (mfd < 0) {
				pr_perror("inotify (file id %u): can't create a scratch memfd", ie->id);
				return -errno;
			}
			snprintf(scratch, sizeof(scratch), "/proc/self/fd/%d", mfd);
		}
		for (; next < w->wd && !ret; next++)
			ret = use_up_wd(fd, scratch, next, ie->id);
		if (!ret)
			ret = add_saved_watch(fd, w, ie->id);
		next = w->wd + 1;
	}
	if (mfd >= 0)
		close(mfd);
	return ret ?: drain_events(fd, ie->id);
}

static int inotify_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const InotifyEntry *ie = fe->inotify;
	int fd, ret;

	/* non-blocking while criu builds it, to empty its queue */
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't create an inotify (file id %u)", fe->id);
		return -errno;
	}
	ret = build_watches(fd, ie);
	if (!ret && fcntl(fd, F_SETFL, ie->flags)) {
		pr_perror("can't set the flags of an inotify (file id %u)", fe->id);
		ret = -errno;
	}
	if (ret) {
		close(fd);
		return ret;
	}
	pr_debug("inotify (file id %u): %zu watches\n", fe->id, ie->n_wds);
	return fd;
}

const struct fd_ops inotify_fd_ops = {
	.type = FD_TYPE__FD_INOTIFY,
	.name = "inotify",
	.dump = inotify_dump,
	.validate = inotify_validate,
	.open = inotify_open,
	.free = inotify_free,
};
