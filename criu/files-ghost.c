// SPDX-License-Identifier: GPL-2.0
/*
 * Deleted regular files ("ghosts"): a file unlinked while the tree holds
 * it open, maps it or runs it. Its name is gone, so it can't be opened
 * again by path on restore: its content goes into the images.
 *
 * Dump: every description of such a file (fds, and the path-only entries
 * of mappings and executables, see fdt_add_deleted()) is a ghost_file_entry
 * with its path, flags and offset. The file itself (mode, owner, size,
 * mtime, and its content as a sparse raw image, ghost-ID.img) is saved
 * once per inode, by the first description dumped, whose id names it.
 *
 * Restore: the file is created once, on the first open of any of its
 * descriptions, as an O_TMPFILE in its original directory, filled, given
 * its owner, mode and mtime. Each description is a new open of it, so
 * that descriptions stay distinct and share one inode. To make
 * /proc/PID/fd show the original path, the file is linked there (if
 * nothing is there now) and opened through that name; once every
 * description and mapping of the tree is open (open_done), the names are
 * removed again and the file is deleted as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

/* Flags a description keeps; the rest only mattered at open time. */
#define GHOST_FLAGS \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_PATH | O_LARGEFILE | FASYNC)
#define GHOST_SIZE_MAX (1ULL << 47)
#define GHOST_POS_MAX ((uint64_t)INT64_MAX)
#define DELETED_SUFFIX " (deleted)"

/* ---- dump ---- */

bool link_is_deleted(const char *link)
{
	size_t len = strlen(link), slen = strlen(DELETED_SUFFIX);

	return len > slen && !strcmp(link + len - slen, DELETED_SUFFIX);
}

/* The directory part of an absolute path, "/" for a file at the root. */
static char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The directory the file was in must still be there: the file is recreated in it. */
static int check_dir(const char *path, const char *what)
{
	char *dir = path_dir(path);
	struct stat st;
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		pr_err("can't dump %s: deleted file %s was in directory %s, which is gone too\n", what, path, dir);
		ret = -ENOENT;
	}
	free(dir);
	return ret;
}

static int save_content(const struct ghost_src *src, GhostFileEntry *g, int imgdir_fd)
{
	struct cr_img *img;
	int fd, ret;

	/* a new read-only open of the same inode, whatever the description's own mode */
	fd = open(src->proc_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s (%s) to save deleted file %s", src->proc_path, src->what, g->path);
		return -errno;
	}
	img = img_open(imgdir_fd, CR_IMG_GHOST, true, g->ghost_id);
	if (!img) {
		close(fd);
		return -EIO;
	}
	ret = copy_sparse(fd, g->size, img->fd, g->path);
	if (img_close(img) && !ret)
		ret = -EIO;
	close(fd);
	return ret;
}

/* The first description of the file describes the file: its attributes and content. */
static int save_file(const struct ghost_src *src, GhostFileEntry *g, const struct cr_options *opts, int imgdir_fd)
{
	const struct stat *st = src->st;

	if ((uint64_t)st->st_size > opts->ghost_limit) {
		pr_err("can't dump %s: deleted file %s is %lld bytes, above the ghost limit of %llu bytes (see "
		       "--ghost-limit)\n",
		       src->what, g->path, (long long)st->st_size, (unsigned long long)opts->ghost_limit);
		return -EFBIG;
	}
	g->has_mode = g->has_uid = g->has_gid = g->has_size = g->has_mtime_ns = true;
	g->mode = st->st_mode;
	g->uid = st->st_uid;
	g->gid = st->st_gid;
	g->size = st->st_size;
	g->mtime_ns = st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec;
	pr_info("%s: deleted file %s, %llu bytes, saved as ghost %u\n", src->what, g->path, (unsigned long long)g->size,
		g->ghost_id);
	return save_content(src, g, imgdir_fd);
}

int ghost_fill(struct file_desc_table *t, FileEntry *fe, const struct ghost_src *src, const struct cr_options *opts,
	       int imgdir_fd)
{
	size_t len = strlen(src->link) - strlen(DELETED_SUFFIX);
	GhostFileEntry *g;
	int ret;

	if (src->link[0] != '/' || !link_is_deleted(src->link) || !S_ISREG(src->st->st_mode)) {
		pr_err("can't dump %s: %s is not a deleted regular file\n", src->what, src->link);
		return -EINVAL;
	}
	g = xzalloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	ghost_file_entry__init(g);
	fe->ghost = g;
	g->id = fe->id;
	g->path = strndup(src->link, len);
	if (!g->path)
		return -ENOMEM;
	g->flags = src->flags & GHOST_FLAGS;
	g->pos = src->pos;
	ret = check_dir(g->path, src->what);
	ret = ret ?: fdt_ghost_id(t, src->st->st_dev, src->st->st_ino, fe->id, &g->ghost_id);
	if (ret || g->ghost_id != fe->id)
		return ret;
	return save_file(src, g, opts, imgdir_fd);
}

static int ghost_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	char path[64], what[64];
	uint32_t flags;
	uint64_t pos;
	int mnt_id, ret;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->pid, c->fd);
	snprintf(what, sizeof(what), "fd %d of process %d", c->fd, c->pid);
	struct ghost_src src = {
		.proc_path = path,
		.link = c->link,
		.what = what,
		.st = c->st,
		.flags = flags,
		.pos = pos,
	};

	return ghost_fill(c->fdt, fe, &src, c->opts, c->imgdir_fd);
}

static void ghost_free(FileEntry *fe)
{
	if (fe->ghost) {
		free(fe->ghost->path);
		free(fe->ghost);
		fe->ghost = NULL;
	}
}

/* ---- validation ---- */

/* An absolute path without "." or ".." components, naming something in a directory. */
static bool path_ok(const char *path)
{
	const char *p;

	if (path[0] != '/' || strlen(path) >= PATH_MAX || path[strlen(path) - 1] == '/')
		return false;
	for (p = path; p; p = strchr(p + 1, '/')) {
		if (!strncmp(p, "/./", 3) || !strncmp(p, "/../", 4) || !strcmp(p, "/.") || !strcmp(p, "/..") ||
		    !strncmp(p, "//", 2))
			return false;
	}
	return true;
}

static int ghost_validate(const FileEntry *fe, size_t idx)
{
	const GhostFileEntry *g = fe->ghost;
	bool carrier = g->ghost_id == g->id;
	bool attrs = g->has_mode || g->has_uid || g->has_gid || g->has_size || g->has_mtime_ns;

	if (g->id != fe->id || !g->ghost_id || !path_ok(g->path)) {
		pr_err("files.img: entry %zu (id %u): bad deleted file id, ghost id or path\n", idx, fe->id);
		return -EINVAL;
	}
	if ((g->flags & ~GHOST_FLAGS) || (g->flags & O_ACCMODE) == O_ACCMODE || g->pos > GHOST_POS_MAX) {
		pr_err("files.img: entry %zu (id %u): deleted file %s has bad flags 0%o or offset %llu\n", idx, fe->id,
		       g->path, g->flags, (unsigned long long)g->pos);
		return -EINVAL;
	}
	if (!carrier) {
		if (attrs) {
			pr_err("files.img: entry %zu (id %u): deleted file %s is described by entry id %u, not this "
			       "one\n",
			       idx, fe->id, g->path, g->ghost_id);
			return -EINVAL;
		}
		return 0;
	}
	if (!g->has_mode || !g->has_uid || !g->has_gid || !g->has_size || !S_ISREG(g->mode) ||
	    (g->mode & ~(S_IFMT | 07777)) || g->size > GHOST_SIZE_MAX || g->uid == (uint32_t)-1 ||
	    g->gid == (uint32_t)-1) {
		pr_err("files.img: entry %zu (id %u): deleted file %s lacks or has a bad mode, owner or size\n", idx,
		       fe->id, g->path);
		return -EINVAL;
	}
	return 0;
}

static const GhostFileEntry *find_carrier(const struct file_set *set, uint32_t ghost_id)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++)
		if (set->files[i]->ghost && set->files[i]->id == ghost_id)
			return set->files[i]->ghost;
	return NULL;
}

/* Every description names a file that some entry describes. */
static int ghost_validate_set(const struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++) {
		const GhostFileEntry *g = set->files[i]->ghost;

		if (g && !find_carrier(set, g->ghost_id)) {
			pr_err("files.img: entry %zu (id %u): deleted file %s names ghost %u, which no entry "
			       "describes\n",
			       i, g->id, g->path, g->ghost_id);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- restore ---- */

/* A file created again; criu holds it by an O_PATH fd until every description is open. */
struct ghost_obj {
	uint32_t ghost_id;
	int fd;
	dev_t dev;
	ino_t ino;
};

/* A name criu gave a file for the time of the opens, removed in open_done. */
struct ghost_name {
	char *path;
	dev_t dev;
	ino_t ino;
};

struct ghost_set {
	struct ghost_obj *objs;
	size_t nr_objs, objs_cap;
	struct ghost_name *names;
	size_t nr_names, names_cap;
};

static int note_name(struct ghost_set *gs, const char *path, const struct ghost_obj *o)
{
	if (xgrow(&gs->names, &gs->names_cap, gs->nr_names, sizeof(*gs->names)))
		return -ENOMEM;
	gs->names[gs->nr_names].path = xstrdup(path);
	if (!gs->names[gs->nr_names].path)
		return -ENOMEM;
	gs->names[gs->nr_names].dev = o->dev;
	gs->names[gs->nr_names].ino = o->ino;
	gs->nr_names++;
	return 0;
}

static int open_dir_of(const char *path, uint32_t id)
{
	char *dir = path_dir(path);
	int fd;

	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		if (fd == -ENOENT || fd == -ENOTDIR)
			pr_err("can't restore deleted file %s (file id %u): its directory %s is gone\n", path, id, dir);
		else
			pr_perror("can't open directory %s of deleted file %s (file id %u)", dir, path, id);
	}
	free(dir);
	return fd;
}

/* A new file in dir: an O_TMPFILE, or, where the file system has none, one with a temporary name. */
static int create_in(int dirfd, const GhostFileEntry *g, char *tmp_name, size_t size)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	tmp_name[0] = 0;
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd < 0 ? -errno : fd;
	snprintf(tmp_name, size, ".criu-ghost.%u.%d", g->ghost_id, getpid());
	fd = openat(dirfd, tmp_name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

static int fill_file(int fd, const GhostFileEntry *g, int imgdir_fd)
{
	struct cr_img *img = img_open(imgdir_fd, CR_IMG_GHOST, false, g->ghost_id);
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT } };
	struct stat st;
	int ret;

	if (!img)
		return -ENOENT;
	if (fstat(img->fd, &st) || (uint64_t)st.st_size != g->size) {
		pr_err("%s: holds %lld bytes, files.img says deleted file %s has %llu\n", img->name,
		       (long long)st.st_size, g->path, (unsigned long long)g->size);
		img_close(img);
		return -EINVAL;
	}
	ret = copy_sparse(img->fd, g->size, fd, g->path);
	img_close(img);
	if (ret)
		return ret;
	/* chown first: it clears set-id bits that chmod then puts back */
	if (fchown(fd, g->uid, g->gid) || fchmod(fd, g->mode & 07777)) {
		pr_perror("can't give deleted file %s its owner %u:%u and mode 0%o", g->path, g->uid, g->gid,
			  g->mode & 07777);
		return -errno;
	}
	ts[1].tv_sec = g->mtime_ns / 1000000000ULL;
	ts[1].tv_nsec = g->mtime_ns % 1000000000ULL;
	if (g->has_mtime_ns && futimens(fd, ts)) {
		pr_perror("can't set the mtime of deleted file %s", g->path);
		return -errno;
	}
	return 0;
}

/*
 * Only an O_PATH fd is kept: a writable one would make the kernel refuse
 * the file as a process's executable (PR_SET_MM_MAP denies writers).
 */
static int keep_as_path(int fd, struct ghost_obj *o)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	o->fd = open(path, O_PATH | O_CLOEXEC);
	if (o->fd < 0 || fstat(o->fd, &st)) {
		pr_perror("can't reopen the new file %s", path);
		return -errno;
	}
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	return 0;
}

/* A file made with a temporary name is removed with the other names, even if filling it fails. */
static int note_tmp_name(struct ghost_set *gs, int fd, const GhostFileEntry *g, const char *tmp_name)
{
	struct ghost_obj tmp;
	char *dir = path_dir(g->path), full[PATH_MAX + 80];
	struct stat st;
	int ret;

	if (!dir)
		return -ENOMEM;
	snprintf(full, sizeof(full), "%s/%s", dir, tmp_name);
	free(dir);
	if (fstat(fd, &st)) {
		pr_perror("can't stat %s", full);
		unlink(full);
		return -errno;
	}
	tmp.dev = st.st_dev;
	tmp.ino = st.st_ino;
	ret = note_name(gs, full, &tmp);
	if (ret)
		unlink(full);
	return ret;
}

static int create_ghost(struct ghost_set *gs, struct ghost_obj *o, const GhostFileEntry *g, int imgdir_fd)
{
	char tmp_name[64];
	int dirfd, fd, ret;

	dirfd = open_dir_of(g->path, g->id);
	if (dirfd < 0)
		return dirfd;
	fd = create_in(dirfd, g, tmp_name, sizeof(tmp_name));
	close(dirfd);
	if (fd < 0) {
		pr_err("can't create deleted file %s (file id %u) again: %s\n", g->path, g->id, strerror(-fd));
		return fd;
	}
	ret = tmp_name[0] ? note_tmp_name(gs, fd, g, tmp_name) : 0;
	ret = ret ?: fill_file(fd, g, imgdir_fd);
	ret = ret ?: keep_as_path(fd, o);
	close(fd);
	if (!ret)
		pr_debug("deleted file %s (ghost %u) created again as inode %lu\n", g->path, g->ghost_id,
			 (unsigned long)o->ino);
	return ret;
}

static struct ghost_set *ghost_set_of(struct file_set *set)
{
	if (!set->ghosts)
		set->ghosts = xzalloc(sizeof(*set->ghosts));
	return set->ghosts;
}

/* The file of ghost_id, created on first use. */
static struct ghost_obj *get_obj(struct file_set *set, uint32_t ghost_id, int *err)
{
	struct ghost_set *gs = ghost_set_of(set);
	const GhostFileEntry *g = find_carrier(set, ghost_id);
	struct ghost_obj *o;
	size_t i;

	*err = -ENOMEM;
	if (!gs)
		return NULL;
	for (i = 0; i < gs->nr_objs; i++)
		if (gs->objs[i].ghost_id == ghost_id)
			return &gs->objs[i];
	*err = -EINVAL;
	if (!g)
		return NULL;
	*err = -ENOMEM;
	if (xgrow(&gs->objs, &gs->objs_cap, gs->nr_objs, sizeof(*gs->objs)))
		return NULL;
	o = &gs->objs[gs->nr_objs];
	o->ghost_id = ghost_id;
	o->fd = -1;
	*err = create_ghost(gs, o, g, set->imgdir_fd);
	if (*err) {
		close_safe(&o->fd);
		return NULL;
	}
	gs->nr_objs++;
	return o;
}

static bool name_is(const struct ghost_name *n, const char *path, const struct ghost_obj *o)
{
	return n->dev == o->dev && n->ino == o->ino && !strcmp(n->path, path);
}

/*
 * The original name, given to the file if nothing has it now (once per
 * path and file). Returns 1 when the path is the file's, 0 when it can't be.
 */
static int name_file(struct ghost_set *gs, struct ghost_obj *o, const GhostFileEntry *g)
{
	const char *base = strrchr(g->path, '/') + 1;
	char proc[64];
	size_t i;
	int dirfd, ret;

	for (i = 0; i < gs->nr_names; i++)
		if (name_is(&gs->names[i], g->path, o))
			return 1;
	dirfd = open_dir_of(g->path, g->id);
	if (dirfd < 0)
		return dirfd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	ret = linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW);
	close(dirfd);
	if (!ret)
		return note_name(gs, g->path, o) ?: 1;
	if (errno == EEXIST || errno == EXDEV) {
		pr_warn("deleted file %s (file id %u): %s, the restored description will show another name\n", g->path,
			g->id,
			errno == EEXIST ? "something else has that path now" : "its directory is on another mount now");
		return 0;
	}
	pr_perror("can't link deleted file %s (file id %u) back at its path", g->path, g->id);
	return -errno;
}

static int open_named(struct ghost_obj *o, const GhostFileEntry *g, int flags, bool named)
{
	char proc[64];
	struct stat st;
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	fd = open(named ? g->path : proc, flags);
	if (fd < 0) {
		pr_perror("can't open deleted file %s (file id %u)", g->path, g->id);
		return -errno;
	}
	/* the name is criu's for now, but someone could have replaced it */
	if (fstat(fd, &st) || st.st_dev != o->dev || st.st_ino != o->ino) {
		pr_err("deleted file %s (file id %u): its path names another file now\n", g->path, g->id);
		close(fd);
		return -EBUSY;
	}
	return fd;
}

int ghost_open_flags(const FileEntry *fe, struct file_set *set, int extra_flags)
{
	const GhostFileEntry *g = fe->ghost;
	int flags = g->flags | extra_flags | O_NOCTTY | O_CLOEXEC;
	struct ghost_obj *o;
	int named, fd, err;

	o = get_obj(set, g->ghost_id, &err);
	if (!o)
		return err;
	named = name_file(set->ghosts, o, g);
	if (named < 0)
		return named;
	fd = open_named(o, g, flags, named);
	if (fd < 0 || (flags & O_PATH))
		return fd;
	if (lseek(fd, g->pos, SEEK_SET) != (off_t)g->pos) {
		pr_perror("can't seek deleted file %s (file id %u) to %llu", g->path, g->id,
			  (unsigned long long)g->pos);
		close(fd);
		return -errno;
	}
	return fd;
}

static int ghost_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	return ghost_open_flags(fe, set, 0);
}

/* Every description and mapping is open: the files are deleted again, criu lets go of them. */
static void ghost_open_done(struct file_set *set)
{
	struct ghost_set *gs = set->ghosts;
	struct stat st;
	size_t i;

	if (!gs)
		return;
	for (i = 0; i < gs->nr_names; i++) {
		struct ghost_name *n = &gs->names[i];

		if (lstat(n->path, &st) || st.st_dev != n->dev || st.st_ino != n->ino)
			pr_warn("%s is not the restored deleted file any more: left alone\n", n->path);
		else if (unlink(n->path))
			pr_perror("can't delete %s again", n->path);
		free(n->path);
	}
	for (i = 0; i < gs->nr_objs; i++)
		close_safe(&gs->objs[i].fd);
	free(gs->names);
	free(gs->objs);
	free(gs);
	set->ghosts = NULL;
}

const struct fd_ops ghost_fd_ops = {
	.type = FD_TYPE__FD_GHOST,
	.name = "deleted file",
	.dump = ghost_dump,
	.validate = ghost_validate,
	.validate_set = ghost_validate_set,
	.open = ghost_open,
	.open_done = ghost_open_done,
	.free = ghost_free,
};
