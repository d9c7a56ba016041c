// SPDX-License-Identifier: GPL-2.0
/*
 * Unix sockets: stream, datagram and seqpacket; unbound, bound to a path
 * or an abstract name; socket pairs and sockets connected through a bound
 * name; listeners. Each socket is one file entry naming its peer by inode.
 *
 * Dump: sock_diag (sk-diag.c) gives type, state, name, peer and shutdown
 * state; pidfd_getfd() gives criu the socket itself, to read options and
 * to peek at the queue of data received and not read yet (SO_PEEK_OFF
 * walks it message by message without consuming anything). Data with
 * file descriptors in flight (SCM_RIGHTS), a listener's connections not
 * accepted yet, and queued messages with sender credentials or from a
 * bound sender are refused by name.
 *
 * Restore: criu creates each socket once among the masters, with its peer:
 * a socket pair for two unbound peers; bind, listen, connect and accept
 * for named ones (a listener that is gone is stood in for while the
 * connection is made); a peer that had closed is a pair end closed after
 * the data is queued. Each socket's queue is sent again by its peer, in
 * order, then the shutdown state is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/net.h>
#include <netinet/tcp.h>

#include "files.h"
#include "log.h"
#include "proc-parse.h"
#include "sk-diag.h"
#include "util.h"

#define USK_STATE_ESTABLISHED 1
#define USK_STATE_CLOSE 7
#define USK_STATE_LISTEN 10
#define USK_PEEK_BUF (4u << 20)
#define USK_QUEUE_MAX (64u << 20)

/* ---- dump ---- */

static int check_family(int sfd, const struct fd_dump_ctx *c)
{
	int dom = 0;
	socklen_t len = sizeof(dom);

	if (getsockopt(sfd, SOL_SOCKET, SO_DOMAIN, &dom, &len)) {
		pr_perror("can't get the family of fd %d of process %d", c->fd, c->pid);
		return -errno;
	}
	if (dom != AF_UNIX) {
		pr_err("can't dump fd %d of process %d: a socket of family %d (%s) is not supported yet\n", c->fd,
		       c->pid, dom, c->link);
		return -ENOTSUP;
	}
	return 0;
}

static int getsockopt_int(int sfd, int opt, uint32_t *val)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(sfd, SOL_SOCKET, opt, &v, &len))
		return -errno;
	*val = v;
	return 0;
}

static int add_queued(UnixSkEntry *u, const char *buf, size_t len, size_t *total)
{
	ProtobufCBinaryData *q = xrealloc(u->queue, (u->n_queue + 1) * sizeof(*q));

	if (!q)
		return -ENOMEM;
	u->queue = q;
	q[u->n_queue].data = xmalloc(len ? len : 1);
	if (!q[u->n_queue].data)
		return -ENOMEM;
	memcpy(q[u->n_queue].data, buf, len);
	q[u->n_queue].len = len;
	u->n_queue++;
	*total += len;
	return 0;
}

/* What came with a peeked message: fds in flight are refused (and the dups peek made closed). */
static int check_cmsgs(struct msghdr *mh, const struct fd_dump_ctx *c)
{
	struct cmsghdr *cm;
	int ret = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(cm);
			size_t i, n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < n; i++)
				close(fds[i]);
			pr_err("can't dump fd %d of process %d (%s): file descriptors in flight (SCM_RIGHTS) are not "
			       "supported yet\n",
			       c->fd, c->pid, c->link);
			ret = -ENOTSUP;
		} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
			pr_err("can't dump fd %d of process %d (%s): queued messages with credentials (SO_PASSCRED) "
			       "are "
			       "not supported yet\n",
			       c->fd, c->pid, c->link);
			ret = -ENOTSUP;
		}
	}
	if (!ret && (mh->msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		pr_err("fd %d of process %d (%s): a queued message does not fit criu's buffer\n", c->fd, c->pid,
		       c->link);
		ret = -EMSGSIZE;
	}
	return ret;
}

static ssize_t peek_one(int sfd, char *buf, char *cbuf, size_t clen, struct sockaddr_un *from, bool any_sender,
			const struct fd_dump_ctx *c, int *err)
{
	struct iovec iov = { buf, USK_PEEK_BUF };
	struct msghdr mh = {
		.msg_name = from,
		.msg_namelen = sizeof(*from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = clen,
	};
	ssize_t n = recvmsg(sfd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*err = 0;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		pr_perror("fd %d of process %d (%s): can't peek at its queue", c->fd, c->pid, c->link);
		*err = -errno;
	}
	if (n < 0)
		return -1;
	*err = check_cmsgs(&mh, c);
	/* a connected socket hears only its peer, which is restored with its name */
	if (!*err && any_sender && mh.msg_namelen > sizeof(sa_family_t)) {
		pr_err("fd %d of process %d (%s): a queued datagram from a bound sender is not supported yet\n", c->fd,
		       c->pid, c->link);
		*err = -ENOTSUP;
	}
	return n;
}

/*
 * Every message received and not read yet, left where it is: the peek
 * offset walks the queue. A stream or seqpacket socket whose peer shut
 * down reads 0 at the end of its queue, forever: sock_diag's byte count
 * (rqlen) says where the queue ends. (So a seqpacket message of zero
 * bytes at the end of a queue is lost; a datagram one is not.)
 */
static int peek_queue(int sfd, UnixSkEntry *u, uint32_t rqlen, const struct fd_dump_ctx *c)
{
	char *buf = xmalloc(USK_PEEK_BUF), cbuf[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(struct ucred))];
	int old_off = -1, zero = 0, err = 0;
	socklen_t len = sizeof(old_off);
	struct sockaddr_un from;
	size_t total = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	getsockopt(sfd, SOL_SOCKET, SO_PEEK_OFF, &old_off, &len);
	if (setsockopt(sfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		pr_perror("can't peek at the queue of fd %d of process %d", c->fd, c->pid);
		free(buf);
		return -errno;
	}
	while (!err) {
		if (u->type != SOCK_DGRAM && total >= rqlen)
			break;
		n = peek_one(sfd, buf, cbuf, sizeof(cbuf), &from, u->type == SOCK_DGRAM && !u->has_peer, c, &err);
		/* a stream's 0 is its end; a seqpacket's, short of rqlen, an empty message */
		if (n < 0 || err || (!n && u->type == SOCK_STREAM))
			break;
		err = add_queued(u, buf, n, &total);
		if (!err && (total > USK_QUEUE_MAX || u->n_queue > 1024 * 1024)) {
			pr_err("fd %d of process %d: more than %u bytes or a million messages queued\n", c->fd, c->pid,
			       USK_QUEUE_MAX);
			err = -E2BIG;
		}
	}
	setsockopt(sfd, SOL_SOCKET, SO_PEEK_OFF, &old_off, sizeof(old_off));
	free(buf);
	return err;
}

/*
 * A listener's connections not accepted yet: sock_diag lists their
 * clients (the embryo sockets they talk to have no inode of their own).
 * They come back by connecting the clients again, in order. What a client
 * sent into its embryo can't be read without accepting it: refused (the
 * client's send buffer still holds it).
 */
static int note_icons(UnixSkEntry *u, const struct unix_diag_sk *d, const struct fd_dump_ctx *c)
{
	const struct unix_diag_table *t = fdt_unix_diag(c->fdt);
	size_t i;

	for (i = 0; i < d->nr_icons; i++) {
		const struct unix_diag_sk *e = unix_diag_find(t, d->icons[i]);

		if (e && e->wqlen) {
			pr_err("can't dump fd %d of process %d (%s): a connection not accepted yet has %u bytes sent "
			       "into it, not supported yet\n",
			       c->fd, c->pid, c->link, e->wqlen);
			return -ENOTSUP;
		}
	}
	if (!d->nr_icons)
		return 0;
	u->icons = xmalloc(d->nr_icons * sizeof(*u->icons));
	if (!u->icons)
		return -ENOMEM;
	memcpy(u->icons, d->icons, d->nr_icons * sizeof(*u->icons));
	u->n_icons = d->nr_icons;
	return 0;
}

static int fill_from_diag(UnixSkEntry *u, const struct unix_diag_sk *d, const struct fd_dump_ctx *c)
{
	u->type = d->type;
	u->state = d->state;
	if (d->name_len) {
		u->has_name = true;
		u->name.len = d->name_len;
		u->name.data = xmalloc(d->name_len);
		if (!u->name.data)
			return -ENOMEM;
		memcpy(u->name.data, d->name, d->name_len);
	}
	u->has_peer = d->peer != 0;
	u->peer = d->peer;
	if (d->peer) {
		const struct unix_diag_sk *p = unix_diag_find(fdt_unix_diag(c->fdt), d->peer);

		if (p && p->name_len) {
			u->has_peer_name = true;
			u->peer_name.len = p->name_len;
			u->peer_name.data = xmalloc(p->name_len);
			if (!u->peer_name.data)
				return -ENOMEM;
			memcpy(u->peer_name.data, p->name, p->name_len);
		}
	}
	u->has_shutdown = d->shutdown != 0;
	u->shutdown = d->shutdown;
	if (d->state == USK_STATE_LISTEN) {
		u->has_backlog = true;
		u->backlog = d->wqlen;
		return note_icons(u, d, c);
	}
	return 0;
}

/*
 * The socket file of a path-bound socket: its mode and owner, and where a
 * relative name lives (the binder's cwd, if the file is there now).
 */
static int read_socket_file(const struct fd_dump_ctx *c, const struct unix_diag_sk *d, UnixSkEntry *u)
{
	char path[PATH_MAX + 128], cwd[PATH_MAX];
	struct stat st;
	bool relative = d->name[0] != '/';

	if (!d->name_len || !d->name[0] || !d->vfs_ino)
		return 0;
	if (relative && read_proc_link(c->pid, "cwd", cwd, sizeof(cwd)))
		return 0;
	snprintf(path, sizeof(path), "%s%s%.*s", relative ? cwd : "", relative ? "/" : "", (int)d->name_len, d->name);
	if (stat(path, &st) || !S_ISSOCK(st.st_mode) || st.st_ino != d->vfs_ino) {
		pr_warn("unix socket %u: its file %s is not where its name says: it will be bound anew\n", d->ino,
			path);
		return 0;
	}
	u->has_file_mode = u->has_file_uid = u->has_file_gid = true;
	u->file_mode = st.st_mode & 07777;
	u->file_uid = st.st_uid;
	u->file_gid = st.st_gid;
	if (relative) {
		u->bind_dir = xstrdup(cwd);
		if (!u->bind_dir)
			return -ENOMEM;
	}
	return 0;
}

static int read_options(int sfd, UnixSkEntry *u)
{
	uint32_t passcred = 0;
	int ret;

	ret = getsockopt_int(sfd, SO_PASSCRED, &passcred);
	ret = ret ?: getsockopt_int(sfd, SO_SNDBUF, &u->sndbuf);
	ret = ret ?: getsockopt_int(sfd, SO_RCVBUF, &u->rcvbuf);
	u->has_passcred = u->has_sndbuf = u->has_rcvbuf = true;
	u->passcred = passcred;
	return ret;
}

static int ensure_diag(struct unix_diag_table *t)
{
	return t->collected ? 0 : unix_diag_collect(t);
}

static int usk_dump(const struct fd_dump_ctx *c, FileEntry *fe)
{
	struct unix_diag_table *t = fdt_unix_diag(c->fdt);
	const struct unix_diag_sk *d;
	uint64_t pos;
	uint32_t flags;
	int mnt_id, sfd, ret;
	UnixSkEntry *u;

	sfd = grab_fd(c->pid, c->fd);
	if (sfd < 0)
		return sfd;
	ret = check_family(sfd, c);
	ret = ret ?: ensure_diag(t);
	ret = ret ?: parse_fdinfo(c->pid, c->fd, &pos, &flags, &mnt_id);
	if (ret)
		goto out;
	d = unix_diag_find(t, c->st->st_ino);
	if (!d) {
		pr_err("fd %d of process %d (%s): sock_diag does not know this unix socket\n", c->fd, c->pid, c->link);
		ret = -ENOENT;
		goto out;
	}
	u = xzalloc(sizeof(*u));
	ret = u ? 0 : -ENOMEM;
	if (ret)
		goto out;
	unix_sk_entry__init(u);
	fe->usk = u;
	u->id = fe->id;
	u->ino = d->ino;
	u->flags = flags & O_NONBLOCK;
	ret = fill_from_diag(u, d, c);
	ret = ret ?: read_socket_file(c, d, u);
	ret = ret ?: read_options(sfd, u);
	/* a listener's queue holds its waiting connections, not data */
	ret = ret ?: (u->state == USK_STATE_LISTEN ? 0 : peek_queue(sfd, u, d->rqlen, c));
	ret = ret ?: fdt_note_unix(c->fdt, u->ino);
	if (!ret)
		pr_debug("unix socket %u of %d: type %u state %u peer %u, %zu queued\n", u->ino, c->pid, u->type,
			 u->state, u->peer, u->n_queue);
out:
	close(sfd);
	return ret;
}

static void usk_free(FileEntry *fe)
{
	size_t i;

	if (!fe->usk)
		return;
	for (i = 0; i < fe->usk->n_queue; i++)
		free(fe->usk->queue[i].data);
	free(fe->usk->queue);
	free(fe->usk->name.data);
	free(fe->usk->peer_name.data);
	free(fe->usk->bind_dir);
	free(fe->usk->icons);
	free(fe->usk);
	fe->usk = NULL;
}

/* ---- validation ---- */

static int usk_validate(const FileEntry *fe, size_t idx)
{
	const UnixSkEntry *u = fe->usk;
	size_t i, total = 0;

	if (u->id != fe->id || !u->ino) {
		pr_err("files.img: entry %zu (id %u): unix socket with a bad id\n", idx, fe->id);
		return -EINVAL;
	}
	if ((u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET) ||
	    (u->state != USK_STATE_ESTABLISHED && u->state != USK_STATE_CLOSE && u->state != USK_STATE_LISTEN) ||
	    (u->flags & ~O_NONBLOCK) || (u->shutdown & ~3U)) {
		pr_err("files.img: entry %zu (id %u): unix socket type %u, state %u, flags 0x%x or shutdown %u "
		       "unknown\n",
		       idx, fe->id, u->type, u->state, u->flags, u->shutdown);
		return -EINVAL;
	}
	if ((u->has_name && (!u->name.len || u->name.len > sizeof(((struct sockaddr_un *)0)->sun_path))) ||
	    (u->has_peer_name &&
	     (!u->peer_name.len || u->peer_name.len > sizeof(((struct sockaddr_un *)0)->sun_path)))) {
		pr_err("files.img: entry %zu (id %u): unix socket name or peer name of %zu or %zu bytes\n", idx, fe->id,
		       u->name.len, u->peer_name.len);
		return -EINVAL;
	}
	if (u->state == USK_STATE_LISTEN && (!u->has_name || u->type == SOCK_DGRAM)) {
		pr_err("files.img: entry %zu (id %u): a listening unix socket must be bound and not datagram\n", idx,
		       fe->id);
		return -EINVAL;
	}
	for (i = 0; i < u->n_queue; i++)
		total += u->queue[i].len;
	if (total > USK_QUEUE_MAX || u->n_queue > 1024 * 1024) {
		pr_err("files.img: entry %zu (id %u): %zu bytes in %zu queued messages\n", idx, fe->id, total,
		       u->n_queue);
		return -EINVAL;
	}
	return 0;
}

/* ---- restore ---- */

struct unix_restore {
	uint32_t ino;
	int fd; /* criu's, until every master is open */
};

static const UnixSkEntry *find_entry(const struct file_set *set, uint32_t ino)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++)
		if (set->files[i]->usk && set->files[i]->usk->ino == ino)
			return set->files[i]->usk;
	return NULL;
}

static struct unix_restore *find_made(struct file_set *set, uint32_t ino)
{
	size_t i;

	for (i = 0; i < set->nr_usks; i++)
		if (set->usks[i].ino == ino)
			return &set->usks[i];
	return NULL;
}

static int note_made(struct file_set *set, uint32_t ino, int fd)
{
	if (xgrow(&set->usks, &set->usks_cap, set->nr_usks, sizeof(*set->usks))) {
		close(fd);
		return -ENOMEM;
	}
	set->usks[set->nr_usks].ino = ino;
	set->usks[set->nr_usks].fd = fd;
	set->nr_usks++;
	return 0;
}

static socklen_t make_addr(const UnixSkEntry *u, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, u->name.data, u->name.len);
	return offsetof(struct sockaddr_un, sun_path) + u->name.len;
}

static bool name_is_path(const UnixSkEntry *u)
{
	return u->has_name && u->name.data[0] != 0;
}

/* The dumped socket's file is still there (its owner is gone): bind needs it gone. */
static int clear_path(const UnixSkEntry *u)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1] = {};
	struct stat st;

	memcpy(path, u->name.data, u->name.len);
	if (lstat(path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("unix socket %u: %s exists and is not a socket\n", u->ino, path);
		return -EEXIST;
	}
	if (unlink(path)) {
		pr_perror("unix socket %u: can't remove the stale %s", u->ino, path);
		return -errno;
	}
	return 0;
}

/* The socket file as it was: mode and owner. */
static int restore_socket_file(const UnixSkEntry *u)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1] = {};

	if (!u->has_file_mode)
		return 0;
	memcpy(path, u->name.data, u->name.len);
	if (chmod(path, u->file_mode) || lchown(path, u->file_uid, u->file_gid)) {
		pr_perror("unix socket %u: can't give %s its mode and owner back", u->ino, path);
		return -errno;
	}
	return 0;
}

/* A relative name is bound from the directory it was bound in, so getsockname() says the same. */
static int bind_to_name(int fd, const UnixSkEntry *u)
{
	struct sockaddr_un sa;
	socklen_t len = make_addr(u, &sa);
	int here = -1, ret = 0;

	if (u->bind_dir) {
		here = open(".", O_PATH | O_CLOEXEC);
		if (here < 0 || chdir(u->bind_dir)) {
			pr_perror("unix socket %u: can't bind in %s", u->ino, u->bind_dir);
			ret = -errno;
			goto out;
		}
	}
	ret = name_is_path(u) ? clear_path(u) : 0;
	if (!ret && bind(fd, (struct sockaddr *)&sa, len)) {
		pr_perror("unix socket %u: can't bind to its name", u->ino);
		ret = -errno;
	}
	ret = ret ?: restore_socket_file(u);
out:
	if (here >= 0) {
		if (fchdir(here))
			pr_perror("can't go back to criu's directory");
		close(here);
	}
	return ret;
}

static int new_socket(const UnixSkEntry *u, bool bound)
{
	int fd = socket(AF_UNIX, u->type | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		pr_perror("can't create unix socket %u", u->ino);
		return -errno;
	}
	if (bound && u->has_name) {
		int ret = bind_to_name(fd, u);

		if (ret) {
			close(fd);
			return ret;
		}
	}
	return fd;
}

/*
 * The queue of u, sent again by its peer (the socket sending into u). The
 * sender's buffer is what the queue was charged to: it may have been full
 * to the byte, and the same bytes need not take the same room twice. It
 * is made big enough for the sending; set_options() puts it back after.
 */
static int queue_data(const UnixSkEntry *u, int sender)
{
	size_t i, total = 0;
	int big;

	for (i = 0; i < u->n_queue; i++)
		total += u->queue[i].len + 1024;
	big = min(total * 2 + (1 << 20), (size_t)INT32_MAX / 2);
	if (u->n_queue && setsockopt(sender, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		pr_warn("unix socket %u: can't make room to queue its data again: %s\n", u->ino, strerror(errno));
	for (i = 0; i < u->n_queue; i++) {
		ssize_t n = send(sender, u->queue[i].data, u->queue[i].len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n != (ssize_t)u->queue[i].len) {
			if (n >= 0)
				errno = EMSGSIZE;
			pr_perror("unix socket %u: can't queue its %zu bytes again", u->ino, u->queue[i].len);
			return -errno;
		}
	}
	return 0;
}

static int set_options(int fd, const UnixSkEntry *u)
{
	int on = u->passcred, snd = u->sndbuf / 2, rcv = u->rcvbuf / 2;

	if (u->has_passcred && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)))
		goto err;
	/* the kernel doubles what it is given */
	if (u->has_sndbuf && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd)))
		goto err;
	if (u->has_rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)))
		goto err;
	return 0;
err:
	pr_perror("unix socket %u: can't set its options", u->ino);
	return -errno;
}

static int set_shutdown(int fd, const UnixSkEntry *u)
{
	static const int how[4] = { -1, SHUT_RD, SHUT_WR, SHUT_RDWR };

	if (!u->shutdown || !u->has_peer)
		return 0;
	if (shutdown(fd, how[u->shutdown & 3]) && errno != ENOTCONN) {
		pr_perror("unix socket %u: can't shut it down (%u)", u->ino, u->shutdown);
		return -errno;
	}
	return 0;
}

/* Two connected sockets, a and b (b may be NULL: a's peer closed). */
static int make_pair(struct file_set *set, const UnixSkEntry *a, const UnixSkEntry *b)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, a->type | SOCK_CLOEXEC, 0, sv)) {
		pr_perror("can't create unix socket %u", a->ino);
		return -errno;
	}
	ret = queue_data(a, sv[1]) ?: (b ? queue_data(b, sv[0]) : 0);
	ret = ret ?: set_options(sv[0], a) ?: (b ? set_options(sv[1], b) : 0);
	if (!b) {
		/* the peer had closed: a keeps its data and sees the end */
		close(sv[1]);
		sv[1] = -1;
	}
	ret = ret ?: set_shutdown(sv[0], a);
	ret = ret ?: (b ? set_shutdown(sv[1], b) : 0);
	if (ret) {
		close(sv[0]);
		if (sv[1] >= 0)
			close(sv[1]);
		return ret;
	}
	ret = note_made(set, a->ino, sv[0]);
	return ret ?: (b ? note_made(set, b->ino, sv[1]) : 0);
}

static int find_listener_fd(struct file_set *set, const UnixSkEntry *server, int *tmp);

/*
 * client connects to the name of server's listener; accept gives server.
 * The listener is the tree's if it still listens there, else a stand-in.
 * Without a client (it had closed) a stand-in connects, then closes.
 */
static int make_accepted(struct file_set *set, const UnixSkEntry *client, const UnixSkEntry *server)
{
	struct sockaddr_un sa;
	socklen_t len = make_addr(server, &sa);
	int lfd, tmp = -1, cfd, sfd, ret;

	ret = find_listener_fd(set, server, &tmp);
	if (ret < 0)
		return ret;
	lfd = ret;
	cfd = client ? new_socket(client, true) : socket(AF_UNIX, server->type | SOCK_CLOEXEC, 0);
	if (cfd < 0) {
		ret = client ? cfd : -errno;
		goto out;
	}
	if (connect(cfd, (struct sockaddr *)&sa, len)) {
		pr_perror("unix socket %u: can't connect to its peer", server->ino);
		close(cfd);
		ret = -errno;
		goto out;
	}
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sfd < 0) {
		pr_perror("unix socket %u: can't accept its connection", server->ino);
		close(cfd);
		ret = -errno;
		goto out;
	}
	ret = (client ? queue_data(client, sfd) : 0) ?: queue_data(server, cfd);
	ret = ret ?: (client ? set_options(cfd, client) : 0) ?: set_options(sfd, server);
	if (!client) {
		/* its client had closed: it keeps its data and sees the end */
		close(cfd);
		cfd = -1;
	}
	ret = ret ?: (client ? set_shutdown(cfd, client) : 0) ?: set_shutdown(sfd, server);
	if (ret) {
		if (cfd >= 0)
			close(cfd);
		close(sfd);
		goto out;
	}
	ret = (client ? note_made(set, client->ino, cfd) : 0) ?: note_made(set, server->ino, sfd);
out:
	if (tmp >= 0)
		close(tmp);
	return ret;
}

static int make_socket(struct file_set *set, const UnixSkEntry *u);

/* The tree's listener on server's name, made now if needed; or a stand-in in *tmp. */
static int find_listener_fd(struct file_set *set, const UnixSkEntry *server, int *tmp)
{
	size_t i;
	int ret;

	for (i = 0; i < set->nr_files; i++) {
		const UnixSkEntry *l = set->files[i]->usk;
		struct unix_restore *made;

		if (!l || l->state != USK_STATE_LISTEN || !l->has_name || l->name.len != server->name.len ||
		    memcmp(l->name.data, server->name.data, l->name.len))
			continue;
		made = find_made(set, l->ino);
		if (!made) {
			ret = make_socket(set, l);
			if (ret)
				return ret;
			made = find_made(set, l->ino);
		}
		return made->fd;
	}
	*tmp = new_socket(server, true);
	if (*tmp < 0)
		return *tmp;
	if (listen(*tmp, 1)) {
		pr_perror("unix socket %u: can't listen on its name", server->ino);
		return -errno;
	}
	return *tmp;
}

/* A socket connected to a bound datagram socket: it sends there, the other may not send back. */
static int make_connected_dgram(struct file_set *set, const UnixSkEntry *u, const UnixSkEntry *peer)
{
	struct unix_restore *made = find_made(set, peer->ino);
	struct sockaddr_un sa;
	socklen_t len = make_addr(peer, &sa);
	int fd, ret;

	if (!made) {
		ret = make_socket(set, peer);
		if (ret)
			return ret;
	}
	fd = new_socket(u, true);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		pr_perror("unix socket %u: can't connect to %u", u->ino, peer->ino);
		close(fd);
		return -errno;
	}
	ret = set_options(fd, u) ?: set_shutdown(fd, u);
	if (ret) {
		close(fd);
		return ret;
	}
	return note_made(set, u->ino, fd);
}

/*
 * A datagram socket connected to a socket outside the tree (external: -x):
 * connected again to the peer's name, as a program does with /dev/log. A
 * stream socket can't be: only --inherit-fd gives it back. 0: not such a
 * socket.
 */
int unix_open_external(const FileEntry *fe)
{
	const UnixSkEntry *u = fe->usk;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (!u || u->type != SOCK_DGRAM || !u->has_peer_name)
		return 0;
	if (u->n_queue) {
		pr_err("unix socket %u: %zu datagrams from its peer outside the tree were not read; they can't be "
		       "sent again\n",
		       u->ino, u->n_queue);
		return -ENOTSUP;
	}
	fd = new_socket(u, true);
	if (fd < 0)
		return fd;
	memcpy(sa.sun_path, u->peer_name.data, u->peer_name.len);
	if (connect(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + u->peer_name.len)) {
		pr_perror("unix socket %u: can't connect again to its peer outside the tree (%.*s)", u->ino,
			  (int)u->peer_name.len - (u->peer_name.data[0] ? 0 : 1),
			  u->peer_name.data + (u->peer_name.data[0] ? 0 : 1));
		close(fd);
		return -errno;
	}
	ret = set_options(fd, u) ?: set_shutdown(fd, u);
	if (ret) {
		close(fd);
		return ret;
	}
	pr_info("unix socket %u: connected again to its peer outside the tree by name\n", u->ino);
	return fd;
}

/* Not connected: bound or not, listening or not; its queue comes from unnamed senders. */
static int connect_waiting(struct file_set *set, const UnixSkEntry *l);

static int make_alone(struct file_set *set, const UnixSkEntry *u)
{
	int fd = new_socket(u, true), ret, tmp;

	if (fd < 0)
		return fd;
	ret = set_options(fd, u);
	if (!ret && u->state == USK_STATE_LISTEN && listen(fd, u->backlog)) {
		pr_perror("unix socket %u: can't listen", u->ino);
		ret = -errno;
	}
	if (!ret && u->n_queue) {
		struct sockaddr_un sa;
		socklen_t len = make_addr(u, &sa);

		tmp = socket(AF_UNIX, u->type | SOCK_CLOEXEC, 0);
		ret = tmp < 0 || connect(tmp, (struct sockaddr *)&sa, len) ? -errno : queue_data(u, tmp);
		if (tmp >= 0)
			close(tmp);
		if (ret)
			pr_err("unix socket %u: can't queue its data again\n", u->ino);
	}
	if (ret) {
		close(fd);
		return ret;
	}
	ret = note_made(set, u->ino, fd);
	return ret ?: (u->state == USK_STATE_LISTEN ? connect_waiting(set, u) : 0);
}

static const UnixSkEntry *find_client_of(const struct file_set *set, uint32_t client)
{
	return find_entry(set, client);
}

/* The clients waiting in l's backlog connect again, in the order they waited. */
static int connect_waiting(struct file_set *set, const UnixSkEntry *l)
{
	struct sockaddr_un sa;
	socklen_t len = make_addr(l, &sa);
	size_t i;
	int ret;

	for (i = 0; i < l->n_icons; i++) {
		const UnixSkEntry *c = find_client_of(set, l->icons[i]);
		int fd;

		if (!c) {
			pr_err("unix socket %u: a connection waiting on it has no client in the images\n", l->ino);
			return -EINVAL;
		}
		fd = new_socket(c, true);
		if (fd < 0)
			return fd;
		if (connect(fd, (struct sockaddr *)&sa, len)) {
			pr_perror("unix socket %u: can't wait on listener %u again", c->ino, l->ino);
			close(fd);
			return -errno;
		}
		ret = set_options(fd, c) ?: set_shutdown(fd, c) ?: note_made(set, c->ino, fd);
		if (ret)
			return ret;
	}
	return 0;
}

/* Is u a client waiting in the backlog of a listener of the images? */
static const UnixSkEntry *waiting_on(const struct file_set *set, const UnixSkEntry *u)
{
	size_t i, j;

	for (i = 0; i < set->nr_files; i++) {
		const UnixSkEntry *l = set->files[i]->usk;

		for (j = 0; l && j < l->n_icons; j++)
			if (l->icons[j] == u->ino)
				return l;
	}
	return NULL;
}

/* Some socket of the images is connected to u: u is a server, not a pair end. */
static bool has_clients(const struct file_set *set, const UnixSkEntry *u)
{
	size_t i;

	for (i = 0; i < set->nr_files; i++)
		if (set->files[i]->usk && set->files[i]->usk->has_peer && set->files[i]->usk->peer == u->ino)
			return true;
	return false;
}

/*
 * Connected but naming no peer: a pair end whose other end closed (the
 * kernel names no peer once it is released). Not a datagram server: the
 * kernel marks one connected when a client connects to it; it is bound,
 * or has clients.
 */
static bool peer_closed(const struct file_set *set, const UnixSkEntry *u)
{
	if (u->has_peer || u->state != USK_STATE_ESTABLISHED)
		return false;
	return u->type != SOCK_DGRAM || (!u->has_name && !has_clients(set, u));
}

static int make_socket(struct file_set *set, const UnixSkEntry *u)
{
	const UnixSkEntry *peer = u->has_peer ? find_entry(set, u->peer) : NULL;
	const UnixSkEntry *listener = peer ? NULL : waiting_on(set, u);

	/* a client waiting to be accepted: its listener connects it */
	if (listener)
		return find_made(set, listener->ino) ? 0 : make_socket(set, listener);
	if (u->state == USK_STATE_LISTEN || (!u->has_peer && !peer_closed(set, u)))
		return make_alone(set, u);
	/* an accepted socket whose client closed keeps the listener's name */
	if (!peer && u->type != SOCK_DGRAM && u->has_name)
		return make_accepted(set, NULL, u);
	/*
	 * Connected, its peer gone: sock_diag names no peer once the peer is
	 * released; a peer not in the images had closed too (outsiders were
	 * refused at dump).
	 */
	if (!peer)
		return make_pair(set, u, NULL);
	if (u->type == SOCK_DGRAM && peer->has_name && peer->peer != u->ino)
		return make_connected_dgram(set, u, peer);
	if (peer->peer != u->ino) {
		pr_err("unix socket %u is connected to %u, which is connected to %u: not a connection that can be "
		       "made\n",
		       u->ino, peer->ino, peer->peer);
		return -EINVAL;
	}
	if (u->type != SOCK_DGRAM && peer->has_name)
		return make_accepted(set, u, peer);
	if (u->type != SOCK_DGRAM && u->has_name)
		return make_accepted(set, peer, u);
	if (u->has_name || peer->has_name) {
		pr_err("unix sockets %u and %u: a bound datagram pair connected both ways is not supported yet\n",
		       u->ino, peer->ino);
		return -ENOTSUP;
	}
	return make_pair(set, u, peer);
}

static int usk_open(const FileEntry *fe, struct file_set *set, const struct cr_options *opts)
{
	const UnixSkEntry *u = fe->usk;
	struct unix_restore *made = find_made(set, u->ino);
	int fd, ret;

	if (!made) {
		ret = make_socket(set, u);
		if (ret)
			return ret;
		made = find_made(set, u->ino);
	}
	fd = fcntl(made->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || fcntl(fd, F_SETFL, u->flags & O_NONBLOCK)) {
		pr_perror("unix socket %u: can't hand it over", u->ino);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

static void usk_open_done(struct file_set *set)
{
	size_t i;

	for (i = 0; i < set->nr_usks; i++)
		close_safe(&set->usks[i].fd);
	free(set->usks);
	set->usks = NULL;
	set->nr_usks = set->usks_cap = 0;
}

const struct fd_ops unix_sk_fd_ops = {
	.type = FD_TYPE__FD_UNIXSK,
	.name = "unix socket",
	.dump = usk_dump,
	.validate = usk_validate,
	.open = usk_open,
	.open_done = usk_open_done,
	.free = usk_free,
};
