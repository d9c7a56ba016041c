// SPDX-License-Identifier: GPL-2.0
/*
 * Pseudo-terminal pairs of the tree: a master (an open of /dev/ptmx) and
 * its slave (/dev/pts/N), of the devpts instance at /dev/pts.
 *
 * Dump. Before any fd is dumped, every fd of the tree is looked at once:
 * the masters give their pts number (TIOCGPTN on a copy of the fd from
 * pidfd_getfd()), so a slave is known to be the tree's, whichever process
 * holds it, or a terminal of the outside (tty.c). A master can't be
 * opened twice, so its one description carries the pair: the slave's
 * settings (every termios ioctl on a master acts on its slave), window
 * size, packet mode, lock, exclusive modes, whether the slave was ever
 * opened (the master sees a hang-up once it was and is closed again), the
 * session and foreground group it is the terminal of, and what is queued
 * in both directions (tty-queue.c). The slave is looked at through an
 * open of its own (TIOCGPTPEER), but only if it was opened before: a
 * first open would change what the master sees. Each slave description
 * is a file entry with its flags.
 *
 * Restore. The first pty description opened makes every pair of the tree
 * before anything else: the kernel gives the lowest free pts number, so
 * opening /dev/ptmx in order of the numbers dumped, and holding the pairs
 * that come below a wanted number until all are made, gives each pair its
 * old number whenever it is free (ttyname() and /proc/PID/fd show it). A
 * number in use here is logged, and the pair gets another. The settings
 * go in before any process exists (a new window size signals nobody),
 * packet mode last (a settings change would post a status). criu keeps an
 * open of the slave of each pair that had one; the tree inherits it to
 * take its controlling terminals back (tty-ctty.c). A locked pair is
 * locked again once its slaves are open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <asm/termbits.h>
#include <sys/ioctl.h>
#include <linux/kcmp.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "tty.h"
#include "util.h"

#define PTMX_MAJOR 5
#define PTMX_MINOR 2
/*
 * The kernel's O_LARGEFILE (glibc's is 0 on x86_64): open() sets it,
 * TIOCGPTPEER only when asked, so a slave from openpty() lacks it.
 */
#define KERNEL_O_LARGEFILE 0100000
#define PTY_FLAGS (O_ACCMODE | O_NONBLOCK | O_APPEND | KERNEL_O_LARGEFILE)
/*
 * More than this queued is refused: the kernel may then hold more than its
 * queue shows (in its flip buffer), which could not all be put back.
 */
#define PTY_QUEUE_SAVE_MAX 2048
/* Pairs held to reach a wanted pts number; beyond, the pair takes what it gets. */
#define PTY_SPARES_MAX 1024

/* ---- dump ---- */

struct pty_seen {
	uint32_t index;
	pid_t mpid; /* a process of the tree holding the master, and its fd */
	int mfd;
	bool slave_in_tree;
	const PtyPairEntry *pair; /* once the master is dumped */
};

struct pty_scan {
	struct pty_seen *p;
	size_t nr, cap;
	dev_t devpts; /* the instance at /dev/pts: the only one handled */
	bool have_devpts;
};

bool pty_is_master(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(PTMX_MAJOR, PTMX_MINOR);
}

static bool is_our_slave(const struct pty_scan *s, const struct stat *st)
{
	return s && s->have_devpts && S_ISCHR(st->st_mode) && major(st->st_rdev) == PTS_MAJOR &&
	       st->st_dev == s->devpts;
}

static struct pty_seen *seen_find(const struct pty_scan *s, uint32_t index)
{
	size_t i;

	for (i = 0; s && i < s->nr; i++)
		if (s->p[i].index == index)
			return &s->p[i];
	return NULL;
}

static struct pty_seen *seen_get(struct pty_scan *s, uint32_t index)
{
	struct pty_seen *p = seen_find(s, index);

	if (p)
		return p;
	if (xgrow(&s->p, &s->cap, s->nr, sizeof(*s->p)))
		return NULL;
	p = &s->p[s->nr++];
	memset(p, 0, sizeof(*p));
	p->index = index;
	p->mfd = -1;
	return p;
}

bool pty_is_tree_slave(struct file_desc_table *t, const struct stat *st)
{
	const struct pty_scan *s = fdt_ptys(t);
	const struct pty_seen *p;

	if (!is_our_slave(s, st))
		return false;
	p = seen_find(s, minor(st->st_rdev));
	return p && p->mpid;
}

const PtyPairEntry *pty_dump_pair(struct file_desc_table *t, uint32_t index)
{
	const struct pty_seen *p = seen_find(fdt_ptys(t), index);

	return p ? p->pair : NULL;
}

size_t pty_dump_nr(struct file_desc_table *t)
{
	const struct pty_scan *s = fdt_ptys(t);

	return s ? s->nr : 0;
}

const PtyPairEntry *pty_dump_nth(struct file_desc_table *t, size_t i, uint32_t *index)
{
	const struct pty_scan *s = fdt_ptys(t);

	*index = s->p[i].index;
	return s->p[i].pair;
}

/* A master opened through a ptmx of the instance at /dev/pts: the ones criu can make again. */
static bool master_path_ok(const struct pty_scan *s, const char *link, const struct stat *st)
{
	if (!strcmp(link, "/dev/ptmx"))
		return true;
	return !strcmp(link, "/dev/pts/ptmx") && s && s->have_devpts && st->st_dev == s->devpts;
}

static int scan_master(struct pty_scan *s, pid_t pid, int fd)
{
	struct pty_seen *p;
	int copy = grab_fd(pid, fd);
	unsigned int index;

	if (copy < 0)
		return copy;
	if (ioctl(copy, TIOCGPTN, &index)) {
		pr_perror("can't get the pts number of master fd %d of process %d", fd, pid);
		close(copy);
		return -errno;
	}
	close(copy);
	p = seen_get(s, index);
	if (!p)
		return -ENOMEM;
	if (!p->mpid) {
		p->mpid = pid;
		p->mfd = fd;
	}
	return 0;
}

static int scan_process(struct pty_scan *s, pid_t pid)
{
	char path[320], link[64];
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		pr_perror("can't open %s", path);
		return -errno;
	}
	while (!ret && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		if (stat(path, &st))
			continue;
		if (pty_is_master(&st)) {
			n = readlink(path, link, sizeof(link) - 1);
			link[n > 0 ? n : 0] = 0;
			/* another instance's master is refused when its fd is dumped */
			if (master_path_ok(s, link, &st))
				ret = scan_master(s, pid, atoi(de->d_name));
		} else if (is_our_slave(s, &st)) {
			struct pty_seen *p = seen_get(s, minor(st.st_rdev));

			if (!p)
				ret = -ENOMEM;
			else
				p->slave_in_tree = true;
		}
	}
	closedir(d);
	return ret;
}

int pty_scan_tree(struct file_desc_table *t, const pid_t *pids, size_t nr)
{
	struct pty_scan *s = xzalloc(sizeof(*s));
	struct stat st;
	size_t i;
	int ret = 0;

	if (!s)
		return -ENOMEM;
	fdt_set_ptys(t, s);
	if (!stat("/dev/pts", &st)) {
		s->devpts = st.st_dev;
		s->have_devpts = true;
	}
	for (i = 0; i < nr && !ret; i++)
		ret = scan_process(s, pids[i]);
	return ret;
}

void pty_scan_free(struct pty_scan *s)
{
	if (s)
		free(s->p);
	free(s);
}

static int termios_to_entry(const struct termios2 *t, PtyPairEntry *pp)
{
	TermiosEntry *e = xzalloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	termios_entry__init(e);
	pp->termios = e;
	e->cc.data = xmalloc(PTY_NCCS);
	if (!e->cc.data)
		return -ENOMEM;
	memcpy(e->cc.data, t->c_cc, PTY_NCCS);
	e->cc.len = PTY_NCCS;
	e->iflag = t->c_iflag;
	e->oflag = t->c_oflag;
	e->cflag = t->c_cflag;
	e->lflag = t->c_lflag;
	e->line = t->c_line;
	e->ispeed = t->c_ispeed;
	e->ospeed = t->c_ospeed;
	return 0;
}

static void termios_from_entry(const TermiosEntry *e, struct termios2 *t)
{
	memset(t, 0, sizeof(*t));
	t->c_iflag = e->iflag;
	t->c_oflag = e->oflag;
	t->c_cflag = e->cflag;
	t->c_lflag = e->lflag;
	t->c_line = e->line;
	memcpy(t->c_cc, e->cc.data, PTY_NCCS);
	t->c_ispeed = e->ispeed;
	t->c_ospeed = e->ospeed;
}

static int winsize_to_entry(const struct winsize *w, PtyPairEntry *pp)
{
	WinsizeEntry *e = xzalloc(sizeof(*e));

	if (!e)
		return -ENOMEM;
	winsize_entry__init(e);
	e->row = w->ws_row;
	e->col = w->ws_col;
	e->xpixel = w->ws_xpixel;
	e->ypixel = w->ws_ypixel;
	pp->winsize = e;
	return 0;
}

static int save_bytes(ProtobufCBinaryData *out, protobuf_c_boolean *has, const uint8_t *buf, size_t len)
{
	out->data = xmalloc(len ? len : 1);
	if (!out->data)
		return -ENOMEM;
	memcpy(out->data, buf, len);
	out->len = len;
	*has = true;
	return 0;
}

/* Before a queue is taken: can it all be put back? */
static int check_queue(int queued, const char *dir, const char *what)
{
	if (queued > PTY_QUEUE_SAVE_MAX) {
		pr_err("%s: %d bytes %s wait in its queue, more than criu saves (%d): not supported yet\n", what,
		       queued, dir, PTY_QUEUE_SAVE_MAX);
		return -ENOTSUP;
	}
	if (!tty_can_stuff()) {
		pr_err("%s: %d bytes %s wait in its queue; saving them needs CAP_SYS_ADMIN (TIOCSTI) to put them "
		       "back\n",
		       what, queued, dir);
		return -EPERM;
	}
	return 0;
}

/* What the slave side wrote that the master has not read: taken and put straight back. */
static int dump_master_queue(int mfd, PtyPairEntry *pp, const char *what)
{
	uint8_t buf[PTY_QUEUE_MAX];
	size_t len = 0;
	int queued = tty_queued(mfd, what), ret, put;

	if (queued <= 0)
		return queued;
	ret = check_queue(queued, "written on the slave side", what);
	if (ret)
		return ret;
	ret = tty_drain(mfd, pp->packet, buf, sizeof(buf), &len, what);
	put = tty_stuff(mfd, buf, len, what);
	if (put)
		pr_err("%s: %zu bytes of its master's queue could not all be put back\n", what, len);
	ret = ret ?: put;
	ret = ret ?: save_bytes(&pp->master_queue, &pp->has_master_queue, buf, len);
	pr_debug("%s: %zu bytes queued for the master\n", what, len);
	return ret;
}

/*
 * What was written to the master that the slave side has not read. In
 * canonical mode the kernel shows only complete lines, not the one being
 * typed, and the line boundaries it keeps can't be rebuilt from outside:
 * such a queue is refused (a partial line is not seen at all).
 */
static int dump_slave_queue(int mfd, int sfd, const struct termios2 *t, PtyPairEntry *pp, const char *what)
{
	uint8_t buf[PTY_QUEUE_MAX];
	size_t len = 0;
	int queued = tty_queued(sfd, what), ret, put, off = 0, on = 1;
	bool pause_packet;

	if (queued <= 0)
		return queued;
	if (t->c_lflag & ICANON) {
		pr_err("%s: %d bytes of complete lines written to the master wait for the slave in canonical mode: "
		       "not supported yet\n",
		       what, queued);
		return -ENOTSUP;
	}
	if (pp->packet && (t->c_lflag & EXTPROC)) {
		pr_err("%s: %d bytes wait for the slave in EXTPROC and packet mode: not supported yet\n", what, queued);
		return -ENOTSUP;
	}
	ret = check_queue(queued, "written to the master", what);
	if (ret)
		return ret;
	ret = tty_drain(sfd, false, buf, sizeof(buf), &len, what);
	/*
	 * IXON goes off while bytes that are its characters go back: in packet
	 * mode that would tell the master of a flow-control change, unless
	 * packet mode is off meanwhile (no status is pending, see read_pair()).
	 */
	pause_packet = pp->packet && tty_flow_char_in(t, buf, len);
	if (pause_packet && ioctl(mfd, TIOCPKT, &off))
		pr_perror("%s: can't leave packet mode", what);
	put = tty_stuff_slave(sfd, t, buf, len, what);
	if (pause_packet && ioctl(mfd, TIOCPKT, &on)) {
		pr_perror("%s: can't go back to packet mode", what);
		put = put ?: -errno;
	}
	if (put)
		pr_err("%s: %zu bytes of its slave's queue could not all be put back\n", what, len);
	ret = ret ?: put;
	ret = ret ?: save_bytes(&pp->slave_queue, &pp->has_slave_queue, buf, len);
	pr_debug("%s: %zu bytes queued for the slave\n", what, len);
	return ret;
}

/* A new open of the slave (it was opened before: this changes nothing the master sees). */
static int open_peer(int mfd, bool locked, int flags, const char *what)
{
	int unlock = 0, lock = 1, fd;

	if (locked && ioctl(mfd, TIOCSPTLCK, &unlock)) {
		pr_perror("%s: can't unlock it", what);
		return -errno;
	}
	fd = ioctl(mfd, TIOCGPTPEER, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("%s: can't open its slave", what);
	if (locked && ioctl(mfd, TIOCSPTLCK, &lock)) {
		pr_perror("%s: can't lock it again", what);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd < 0 ? -errno : fd;
}

static int check_ldisc(int fd, const char *end, const char *what)
{
	int ldisc;

	if (ioctl(fd, TIOCGETD, &ldisc)) {
		pr_perror("%s: can't get the line discipline of its %s", what, end);
		return -errno;
	}
	if (ldisc != N_TTY) {
		pr_err("%s: its %s has line discipline %d, not N_TTY: not supported yet\n", what, end, ldisc);
		return -ENOTSUP;
	}
	return 0;
}

static int read_slave_side(int mfd, const struct termios2 *t, PtyPairEntry *pp, const char *what)
{
	int sfd = open_peer(mfd, pp->locked, O_RDWR | O_NONBLOCK, what), excl = 0, ret;

	if (sfd < 0)
		return sfd;
	ret = check_ldisc(sfd, "slave", what);
	if (!ret && ioctl(sfd, TIOCGEXCL, &excl)) {
		pr_perror("%s: can't tell whether its slave is exclusive", what);
		ret = -errno;
	}
	pp->has_slave_excl = true;
	pp->slave_excl = excl;
	ret = ret ?: dump_slave_queue(mfd, sfd, t, pp, what);
	close(sfd);
	return ret;
}

/* The session the slave is the controlling terminal of, and its foreground group. */
static int read_session(int mfd, PtyPairEntry *pp, const char *what)
{
	int sid = 0, pgrp = 0;

	if (ioctl(mfd, TIOCGSID, &sid)) {
		if (errno != ENOTTY) {
			pr_perror("%s: can't get its session", what);
			return -errno;
		}
		return 0;
	}
	if (ioctl(mfd, TIOCGPGRP, &pgrp)) {
		pr_perror("%s: can't get its foreground group", what);
		return -errno;
	}
	pp->has_sid = pp->has_pgrp = true;
	pp->sid = sid;
	pp->pgrp = pgrp;
	return 0;
}

static int read_flags(int mfd, PtyPairEntry *pp, const char *what)
{
	int packet = 0, locked = 0, excl = 0;

	if (ioctl(mfd, TIOCGPKT, &packet) || ioctl(mfd, TIOCGPTLCK, &locked) || ioctl(mfd, TIOCGEXCL, &excl)) {
		pr_perror("%s: can't get its packet mode, lock or exclusive mode", what);
		return -errno;
	}
	pp->packet = packet;
	pp->locked = locked;
	pp->has_master_excl = true;
	pp->master_excl = excl;
	return 0;
}

static int read_pair(int mfd, const struct pty_seen *seen, PtyPairEntry *pp, const char *what)
{
	struct pollfd pfd = { .fd = mfd, .events = POLLPRI };
	struct termios2 t;
	struct winsize ws;
	int ret;

	ret = check_ldisc(mfd, "master", what);
	if (ret)
		return ret;
	if (ioctl(mfd, TCGETS2, &t) || ioctl(mfd, TIOCGWINSZ, &ws)) {
		pr_perror("%s: can't get its settings or window size", what);
		return -errno;
	}
	ret = termios_to_entry(&t, pp);
	ret = ret ?: winsize_to_entry(&ws, pp);
	ret = ret ?: read_flags(mfd, pp, what);
	if (ret)
		return ret;
	poll(&pfd, 1, 0);
	/* a status byte (flush, stop, start...) the master has not read: reading it would take it */
	if (pp->packet && (pfd.revents & POLLPRI)) {
		pr_err("%s: a packet-mode status waits to be read on the master: not supported yet\n", what);
		return -ENOTSUP;
	}
	pp->slave_opened = seen->slave_in_tree || (pfd.revents & POLLHUP);
	ret = read_session(mfd, pp, what);
	ret = ret ?: dump_master_queue(mfd, pp, what);
	if (!ret && pp->slave_opened)
		ret = read_slave_side(mfd, &t, pp, what);
	return ret;
}

static int dump_master(const struct fd_dump_ctx *c, PtyEntry *p)
{
	struct pty_scan *s = fdt_ptys(c->fdt);
	struct pty_seen *seen;
	PtyPairEntry *pp;
	unsigned int index;
	char what[96];
	int mfd, ret;

	if (!master_path_ok(s, c->link, c->st)) {
		pr_err("can't dump fd %d of process %d: a pty master opened through %s, not the /dev/ptmx of the "
		       "devpts at /dev/pts: not supported yet\n",
		       c->fd, c->pid, c->link);
		return -ENOTSUP;
	}
	mfd = grab_fd(c->pid, c->fd);
	if (mfd < 0)
		return mfd;
	if (ioctl(mfd, TIOCGPTN, &index) || !(seen = seen_find(s, index))) {
		pr_err("can't get the pts number of master fd %d of process %d\n", c->fd, c->pid);
		close(mfd);
		return -EIO;
	}
	snprintf(what, sizeof(what), "pty /dev/pts/%u (master fd %d of process %d)", index, c->fd, c->pid);
	p->index = index;
	pp = xzalloc(sizeof(*pp));
	if (!pp) {
		close(mfd);
		return -ENOMEM;
	}
	pty_pair_entry__init(pp);
	p->pair = pp;
	pp->path = xstrdup(c->link);
	ret = pp->path ? read_pair(mfd, seen, pp, what) : -ENOMEM;
	close(mfd);
	if (!ret)
		seen->pair = pp;
	pr_debug("%s: %s, %s, slave %s\n", what, pp->packet ? "packet mode" : "no packet mode",
		 pp->locked ? "locked" : "unlocked", pp->slave_opened ? "opened" : "never opened");
	return ret;
}

static int pty_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	uint64_t pos;
	uint32_t flags;
	int mnt_id, ret;
	PtyEntry *p;

	ret = parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		return ret;
	if (flags & O_ASYNC) {
		pr_err("can't dump fd %d of process %d: %s has O_ASYNC (signal-driven I/O), not supported yet\n", c->fd,
		       c->pid, c->link);
		return -ENOTSUP;
	}
	p = xzalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	pty_entry__init(p);
	p->id = fe->id;
	p->flags = flags & PTY_FLAGS;
	fe->pty = p;
	if (pty_is_master(c->st))
		return dump_master(c, p);
	p->index = minor(c->st->st_rdev);
	return 0;
}

static void pty_free(FileEntry *fe)
{
	PtyEntry *p = fe->pty;

	if (!p)
		return;
	if (p->pair) {
		if (p->pair->termios)
			free(p->pair->termios->cc.data);
		free(p->pair->termios);
		free(p->pair->winsize);
		free(p->pair->master_queue.data);
		free(p->pair->slave_queue.data);
		free(p->pair->path);
		free(p->pair);
	}
	free(p);
	fe->pty = NULL;
}

/* Does process pid (outside the tree) hold an end of one of the pairs? Logs and returns -EBUSY if so. */
static int check_holder(const struct pty_scan *s, pid_t pid)
{
	char path[320];
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		const struct pty_seen *p = NULL;
		int fd = atoi(de->d_name);
		size_t i;

		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st))
			continue;
		if (is_our_slave(s, &st)) {
			p = seen_find(s, minor(st.st_rdev));
		} else if (pty_is_master(&st)) {
			for (i = 0; !p && i < s->nr; i++)
				if (s->p[i].mpid && !syscall(SYS_kcmp, s->p[i].mpid, pid, KCMP_FILE, s->p[i].mfd, fd))
					p = &s->p[i];
		}
		if (!p || !p->mpid)
			continue;
		pr_err("pty /dev/pts/%u of the tree (master fd %d of process %d) is also held by process %d (fd %d), "
		       "outside the dumped tree: it can't be restored faithfully\n",
		       p->index, p->mfd, p->mpid, pid, fd);
		ret = -EBUSY;
	}
	closedir(d);
	return ret;
}

int pty_check_outside(const struct file_desc_table *t, const pid_t *tree, size_t nr)
{
	const struct pty_scan *s = fdt_ptys(t);
	struct dirent *de;
	bool any = false;
	int ret = 0;
	size_t i;
	DIR *d;

	for (i = 0; s && i < s->nr; i++)
		any |= s->p[i].mpid != 0;
	if (!any)
		return 0;
	d = opendir("/proc");
	if (!d) {
		pr_perror("can't list /proc");
		return -errno;
	}
	while (!ret && (de = readdir(d))) {
		pid_t pid = atoi(de->d_name);
		bool ours = false;

		for (i = 0; i < nr; i++)
			ours |= tree[i] == pid;
		if (pid > 0 && pid != getpid() && !ours)
			ret = check_holder(s, pid);
	}
	closedir(d);
	return ret;
}

/* ---- validation ---- */

static int validate_pair(const PtyPairEntry *pp, const FileEntry *fe, size_t idx)
{
	const TermiosEntry *t = pp->termios;
	const WinsizeEntry *w = pp->winsize;

	if (strcmp(pp->path, "/dev/ptmx") && strcmp(pp->path, "/dev/pts/ptmx")) {
		pr_err("files.img: entry %zu (id %u): pty master path %s is not a ptmx\n", idx, fe->id, pp->path);
		return -EINVAL;
	}
	if (t->cc.len != PTY_NCCS || t->line > 0xff) {
		pr_err("files.img: entry %zu (id %u): pty termios has %zu control characters (not %d) or line %u\n",
		       idx, fe->id, t->cc.len, PTY_NCCS, t->line);
		return -EINVAL;
	}
	if (w->row > 0xffff || w->col > 0xffff || w->xpixel > 0xffff || w->ypixel > 0xffff) {
		pr_err("files.img: entry %zu (id %u): pty window size %ux%u (%ux%u pixels) is not a winsize\n", idx,
		       fe->id, w->row, w->col, w->xpixel, w->ypixel);
		return -EINVAL;
	}
	if ((pp->has_master_queue && pp->master_queue.len > PTY_QUEUE_MAX) ||
	    (pp->has_slave_queue && pp->slave_queue.len > PTY_QUEUE_MAX)) {
		pr_err("files.img: entry %zu (id %u): a pty queue holds more than %d bytes\n", idx, fe->id,
		       PTY_QUEUE_MAX);
		return -EINVAL;
	}
	/* only a slave opened before has a queue criu saw, an exclusive mode, a session */
	if (!pp->slave_opened && ((pp->has_slave_queue && pp->slave_queue.len) || pp->slave_excl || pp->has_sid)) {
		pr_err("files.img: entry %zu (id %u): a pty whose slave was never opened has slave state\n", idx,
		       fe->id);
		return -EINVAL;
	}
	if (pp->has_slave_queue && pp->slave_queue.len && (t->lflag & ICANON)) {
		pr_err("files.img: entry %zu (id %u): a pty in canonical mode has a slave queue\n", idx, fe->id);
		return -EINVAL;
	}
	if (pp->has_sid != pp->has_pgrp || (pp->has_sid && (!pp->sid || !pp->pgrp))) {
		pr_err("files.img: entry %zu (id %u): pty session %u and foreground group %u don't go together\n", idx,
		       fe->id, pp->sid, pp->pgrp);
		return -EINVAL;
	}
	return 0;
}

static int pty_validate(const FileEntry *fe, size_t idx)
{
	const PtyEntry *p = fe->pty;

	if (p->id != fe->id || p->index >= PTY_INDEX_MAX) {
		pr_err("files.img: entry %zu (id %u): pty entry with a bad id or pts number %u\n", idx, fe->id,
		       p->index);
		return -EINVAL;
	}
	if ((p->flags & ~PTY_FLAGS) || (p->flags & O_ACCMODE) == O_ACCMODE) {
		pr_err("files.img: entry %zu (id %u): pty flags 0x%x\n", idx, fe->id, p->flags);
		return -EINVAL;
	}
	return p->pair ? validate_pair(p->pair, fe, idx) : 0;
}

/* ---- restore ---- */

struct pty_restore {
	const PtyEntry *master; /* the description that carries the pair */
	int mfd;		/* criu's master until every master is open */
	int sfd;		/* criu's slave: -1, or inherited by the tree until its terminals are set */
	uint32_t index;		/* N of the new /dev/pts/N */
};

static int cmp_by_index(const void *a, const void *b)
{
	const struct pty_restore *x = a, *y = b;

	return (x->master->index > y->master->index) - (x->master->index < y->master->index);
}

static struct pty_restore *pty_find(const struct file_set *set, uint32_t index)
{
	size_t i;

	for (i = 0; i < set->nr_ptys; i++)
		if (set->ptys[i].master->index == index)
			return &set->ptys[i];
	return NULL;
}

int pty_helper_fd(const struct file_set *set, uint32_t index)
{
	const struct pty_restore *pr = pty_find(set, index);

	return pr ? pr->sfd : -1;
}

const PtyPairEntry *pty_restore_pair(const struct file_set *set, uint32_t index)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++) {
		const PtyEntry *p = set->files[i]->pty;

		if (p && p->pair && p->index == index)
			return p->pair;
	}
	return NULL;
}

static int open_ptmx(const struct pty_restore *pr, int *fd, uint32_t *index)
{
	const char *path = pr->master->pair->path;

	*fd = open(path, (pr->master->flags & O_ACCMODE) | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0) {
		pr_perror("can't open %s for pty %u", path, pr->master->index);
		return -errno;
	}
	if (ioctl(*fd, TIOCGPTN, index)) {
		pr_perror("can't get the pts number of a new pair from %s", path);
		close_safe(fd);
		return -errno;
	}
	return 0;
}

/* The first pair not made yet; they are in order of the numbers dumped. */
static struct pty_restore *next_wanted(struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_ptys; i++)
		if (set->ptys[i].mfd < 0)
			return &set->ptys[i];
	return NULL;
}

/*
 * The new pair k goes to target. It was opened the way the first pair
 * still wanted is: if target's master was opened otherwise (path, access
 * mode), it is opened again its way, which gives k again while every
 * lower number stays taken.
 */
static int assign(struct pty_restore *target, const struct pty_restore *want, int fd, uint32_t k)
{
	const PtyEntry *t = target->master, *w = want->master;
	int ret;

	if (target != want && (strcmp(t->pair->path, w->pair->path) || (t->flags ^ w->flags) & O_ACCMODE)) {
		close(fd);
		ret = open_ptmx(target, &fd, &k);
		if (ret)
			return ret;
	}
	target->mfd = fd;
	target->index = k;
	if (k != t->index)
		pr_warn("pty /dev/pts/%u is in use here: restored as /dev/pts/%u (ttyname() and /proc/PID/fd show "
			"the new number)\n",
			t->index, k);
	else
		pr_debug("pty /dev/pts/%u restored with its number\n", k);
	return 0;
}

static int allocate_pairs(struct file_set *set)
{
	int *spares = xmalloc(PTY_SPARES_MAX * sizeof(*spares)), ret = 0;
	struct pty_restore *want;
	size_t nr_spares = 0;

	if (!spares)
		return -ENOMEM;
	while (!ret && (want = next_wanted(set))) {
		struct pty_restore *target;
		uint32_t k;
		int fd;

		ret = open_ptmx(want, &fd, &k);
		if (ret)
			break;
		target = pty_find(set, k);
		if (target && target->mfd < 0) {
			ret = assign(target, want, fd, k);
		} else if (k < want->master->index && nr_spares < PTY_SPARES_MAX) {
			spares[nr_spares++] = fd;
		} else {
			/* want's number is taken (the kernel gives the lowest free one), or too far */
			ret = assign(want, want, fd, k);
		}
	}
	while (nr_spares)
		close(spares[--nr_spares]);
	free(spares);
	return ret;
}

static int set_state(struct pty_restore *pr, const struct termios2 *t, const char *what)
{
	const PtyPairEntry *pp = pr->master->pair;
	struct winsize ws = {
		.ws_row = pp->winsize->row,
		.ws_col = pp->winsize->col,
		.ws_xpixel = pp->winsize->xpixel,
		.ws_ypixel = pp->winsize->ypixel,
	};
	int one = 1;

	if (ioctl(pr->mfd, TCSETS2, t) || ioctl(pr->mfd, TIOCSWINSZ, &ws)) {
		pr_perror("%s: can't set its settings or window size", what);
		return -errno;
	}
	if ((pp->packet && ioctl(pr->mfd, TIOCPKT, &one)) || (pp->master_excl && ioctl(pr->mfd, TIOCEXCL)) ||
	    (pp->slave_excl && ioctl(pr->sfd, TIOCEXCL))) {
		pr_perror("%s: can't set its packet or exclusive mode", what);
		return -errno;
	}
	return 0;
}

static int fill_queues(struct pty_restore *pr, const struct termios2 *t, const char *what)
{
	const PtyPairEntry *pp = pr->master->pair;
	size_t slave_len = pp->has_slave_queue ? pp->slave_queue.len : 0;
	size_t master_len = pp->has_master_queue ? pp->master_queue.len : 0;
	int ret = 0;

	if (!slave_len && !master_len)
		return 0;
	if (!tty_can_stuff()) {
		pr_err("%s: putting its queued data back needs CAP_SYS_ADMIN (TIOCSTI)\n", what);
		return -EPERM;
	}
	if (slave_len)
		ret = tty_stuff_slave(pr->sfd, t, pp->slave_queue.data, slave_len, what);
	if (!ret && master_len)
		ret = tty_stuff(pr->mfd, pp->master_queue.data, master_len, what);
	return ret;
}

static int setup_pair(struct pty_restore *pr)
{
	const PtyPairEntry *pp = pr->master->pair;
	struct termios2 t;
	char what[64];
	int unlock = 0, ret;

	snprintf(what, sizeof(what), "pty /dev/pts/%u (now %u)", pr->master->index, pr->index);
	termios_from_entry(pp->termios, &t);
	if (!pp->locked && ioctl(pr->mfd, TIOCSPTLCK, &unlock)) {
		pr_perror("%s: can't unlock it", what);
		return -errno;
	}
	if (pp->slave_opened) {
		pr->sfd = open_peer(pr->mfd, pp->locked, O_RDWR | O_NONBLOCK, what);
		if (pr->sfd < 0)
			return pr->sfd;
	}
	ret = fill_queues(pr, &t, what);
	/* packet mode after the settings: a change of flow control would post a status */
	return ret ?: set_state(pr, &t, what);
}

/* Every pair, in order of the numbers dumped, before any description of one is handed out. */
static int make_pairs(struct file_set *set)
{
	size_t i, n = 0;
	int ret;

	set->ptys_made = true;
	for (i = 0; i < set->nr_files; i++)
		n += set->files[i]->pty && set->files[i]->pty->pair;
	set->ptys = xzalloc((n + 1) * sizeof(*set->ptys));
	if (!set->ptys)
		return -ENOMEM;
	for (i = 0; i < set->nr_files; i++) {
		const PtyEntry *p = set->files[i]->pty;

		if (!p || !p->pair)
			continue;
		set->ptys[set->nr_ptys].master = p;
		set->ptys[set->nr_ptys].mfd = -1;
		set->ptys[set->nr_ptys].sfd = -1;
		set->nr_ptys++;
	}
	xqsort(set->ptys, set->nr_ptys, sizeof(*set->ptys), cmp_by_index);
	ret = allocate_pairs(set);
	for (i = 0; !ret && i < set->nr_ptys; i++)
		ret = setup_pair(&set->ptys[i]);
	return ret;
}

static int pty_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const PtyEntry *p = fe->pty;
	struct pty_restore *pr;
	char what[64];
	int fd, ret;

	if (!set->ptys_made) {
		ret = make_pairs(set);
		if (ret)
			return ret;
	}
	pr = pty_find(set, p->index);
	if (!pr || pr->mfd < 0) {
		pr_err("files.img: pty %u (file id %u) has no master\n", p->index, fe->id);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "pty /dev/pts/%u (now %u)", p->index, pr->index);
	if (!p->pair)
		return open_peer(pr->mfd, pr->master->pair->locked, p->flags & PTY_FLAGS, what);
	fd = fcntl(pr->mfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || fcntl(fd, F_SETFL, p->flags & (O_NONBLOCK | O_APPEND))) {
		pr_perror("%s: can't set its master's flags 0x%x", what, p->flags);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* The masters are the tree's now. */
static void pty_open_done(struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_ptys; i++)
		close_safe(&set->ptys[i].mfd);
}

void pty_release_helpers(struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_ptys; i++)
		close_safe(&set->ptys[i].sfd);
}

const struct fd_ops pty_fd_ops = {
	.type = FD_TYPE__FD_PTY,
	.name = "pty",
	.dump = pty_dump,
	.validate = pty_validate,
	.open = pty_open,
	.open_done = pty_open_done,
	.free = pty_free,
};
