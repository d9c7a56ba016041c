/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code shared by the pipe tests (pipe_basic, pipe_shared_tree, fifo_data)
 * and the unix socket tests (unix_*.c, through unix_sk.h).
 *
 * The descriptor table of a process: fd_table_collect() records every open fd
 * (from /proc/self/fd), fd_table_compare() checks that a later table is
 * the same:
 *
 *  - the same set of fds: none added, none lost;
 *  - for each fd: F_GETFL (access mode, O_NONBLOCK, O_APPEND, ...; only
 *    O_LARGEFILE is left out, which open() adds on 64-bit and pipe() does
 *    not, and which changes nothing there), F_GETFD (FD_CLOEXEC), the type
 *    of file (S_IFMT), for a pipe or FIFO its size (F_GETPIPE_SZ), for a
 *    socket its type (SO_TYPE);
 *  - for a file with a path (a FIFO, stdio): the same path and inode;
 *  - for an anonymous pipe ("pipe:[N]") or a socket ("socket:[N]"), whose
 *    inode is new after restore: the same identity, that is the fds that
 *    were one pipe or socket (equal st_dev and st_ino) are one, and the
 *    fds of different ones are still different ones;
 *  - the same description sharing: the fds that shared one open file
 *    description (dup) still share one, and those that had their own
 *    still have their own (kcmp(KCMP_FILE); left out, with a message,
 *    if the kernel has no kcmp).
 *
 * Then helpers to put a pipe at fixed fds, and to fill a pipe with chunks
 * of distinct patterns and check them back, in order, with a timeout (a
 * test must not hang when a pipe came back without its data or with an
 * extra writer).
 *
 * All of them work in a child too: they return -1 with the reason in why,
 * and never call fail().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#ifndef KCMP_FILE
#define KCMP_FILE 0
#endif

/* glibc defines O_LARGEFILE as 0 on 64-bit; F_GETFL shows the kernel's bit */
#if defined(__x86_64__) || defined(__i386__)
#define FD_O_LARGEFILE 0100000
#elif defined(__aarch64__) || defined(__arm__)
#define FD_O_LARGEFILE 0400000
#else
#define FD_O_LARGEFILE O_LARGEFILE
#endif

#define FD_TABLE_MAX 64

struct fd_info {
	int fd;
	int fl;	     /* F_GETFL without O_LARGEFILE */
	int fdfl;    /* F_GETFD */
	mode_t type; /* st_mode & S_IFMT */
	dev_t dev;
	ino_t ino;
	int pipe_sz;   /* F_GETPIPE_SZ, or -1 for other files */
	int sock_type; /* SO_TYPE, or -1 for other files */
	int same_file; /* index of the first fd of the same file (dev, ino) */
	int same_desc; /* index of the first fd of the same description, or -1 if unknown */
	char link[PATH_MAX];
};

struct fd_table {
	int n;
	struct fd_info fds[FD_TABLE_MAX];
};

static inline int fd_kcmp(pid_t pid1, pid_t pid2, int fd1, int fd2)
{
	return syscall(SYS_kcmp, pid1, pid2, KCMP_FILE, fd1, fd2);
}

static inline bool fd_is_anon_pipe(const struct fd_info *f)
{
	return !strncmp(f->link, "pipe:", 5);
}

/* A pipe or a socket: no path, and a new inode after restore. */
static inline bool fd_is_anon(const struct fd_info *f)
{
	return fd_is_anon_pipe(f) || !strncmp(f->link, "socket:", 7);
}

static int fd_info_cmp(const void *a, const void *b)
{
	return ((const struct fd_info *)a)->fd - ((const struct fd_info *)b)->fd;
}

static inline int fd_table_collect(struct fd_table *t, char *why, size_t len)
{
	static bool said_no_kcmp;
	struct dirent *de;
	struct stat st;
	char path[64];
	ssize_t l;
	int i, j;
	DIR *d;

	t->n = 0;
	d = opendir("/proc/self/fd");
	if (!d) {
		snprintf(why, len, "opendir /proc/self/fd: %m");
		return -1;
	}
	while ((de = readdir(d))) {
		struct fd_info *f = &t->fds[t->n];

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		if (t->n == FD_TABLE_MAX) {
			closedir(d);
			snprintf(why, len, "more than %d fds open", FD_TABLE_MAX);
			return -1;
		}
		memset(f, 0, sizeof(*f));
		f->fd = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
		l = readlink(path, f->link, sizeof(f->link) - 1);
		f->link[l > 0 ? l : 0] = '\0';
		f->fl = fcntl(f->fd, F_GETFL);
		f->fdfl = fcntl(f->fd, F_GETFD);
		if (f->fl < 0 || f->fdfl < 0 || fstat(f->fd, &st)) {
			closedir(d);
			snprintf(why, len, "fd %d (%s): fcntl/fstat: %m", f->fd, f->link);
			return -1;
		}
		f->fl &= ~FD_O_LARGEFILE;
		f->type = st.st_mode & S_IFMT;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->pipe_sz = S_ISFIFO(st.st_mode) ? fcntl(f->fd, F_GETPIPE_SZ) : -1;
		f->sock_type = -1;
		if (S_ISSOCK(st.st_mode)) {
			socklen_t sl = sizeof(f->sock_type);

			if (getsockopt(f->fd, SOL_SOCKET, SO_TYPE, &f->sock_type, &sl)) {
				closedir(d);
				snprintf(why, len, "fd %d (%s): SO_TYPE: %m", f->fd, f->link);
				return -1;
			}
		}
		t->n++;
	}
	closedir(d);
	qsort(t->fds, t->n, sizeof(t->fds[0]), fd_info_cmp);

	for (i = 0; i < t->n; i++) {
		struct fd_info *f = &t->fds[i];

		f->same_file = i;
		for (j = 0; j < i; j++)
			if (t->fds[j].dev == f->dev && t->fds[j].ino == f->ino) {
				f->same_file = j;
				break;
			}
		f->same_desc = i;
		for (j = 0; j < i; j++) {
			int r = fd_kcmp(getpid(), getpid(), t->fds[j].fd, f->fd);

			if (r < 0) {
				if (!said_no_kcmp)
					test_msg("kcmp(KCMP_FILE): %m: description sharing is not checked");
				said_no_kcmp = true;
				f->same_desc = -1;
				break;
			}
			if (r == 0) {
				f->same_desc = j;
				break;
			}
		}
	}
	return 0;
}

static inline void fd_table_print(const struct fd_table *t, const char *title)
{
	int i;

	for (i = 0; i < t->n; i++) {
		const struct fd_info *f = &t->fds[i];

		test_msg("%s: fd %d %s flags %#o fd flags %d pipe size %d socket type %d same file as fd %d, same "
			 "description as fd %d",
			 title, f->fd, f->link, f->fl, f->fdfl, f->pipe_sz, f->sock_type, t->fds[f->same_file].fd,
			 f->same_desc >= 0 ? t->fds[f->same_desc].fd : -1);
	}
}

/* Returns 0 if after is the same table as before, else -1 with the first difference in why. */
static inline int fd_table_compare(const struct fd_table *before, const struct fd_table *after, char *why, size_t len)
{
	int i;

	for (i = 0; i < before->n || i < after->n; i++) {
		const struct fd_info *b = &before->fds[i], *a = &after->fds[i];

		if (i >= after->n || (i < before->n && a->fd > b->fd)) {
			snprintf(why, len, "fd %d (%s) is lost", b->fd, b->link);
			return -1;
		}
		if (i >= before->n || a->fd != b->fd) {
			snprintf(why, len, "fd %d (%s) appeared", a->fd, a->link);
			return -1;
		}
		if (a->type != b->type) {
			snprintf(why, len, "fd %d: file type %#o (%s), expected %#o (%s)", a->fd, a->type, a->link,
				 b->type, b->link);
			return -1;
		}
		if (fd_is_anon_pipe(a) != fd_is_anon_pipe(b) || fd_is_anon(a) != fd_is_anon(b) ||
		    (!fd_is_anon(b) && strcmp(a->link, b->link))) {
			snprintf(why, len, "fd %d is %s, expected %s", a->fd, a->link, b->link);
			return -1;
		}
		if (!fd_is_anon(b) && (a->dev != b->dev || a->ino != b->ino)) {
			snprintf(why, len, "fd %d (%s): inode %lu, expected %lu", a->fd, a->link, (unsigned long)a->ino,
				 (unsigned long)b->ino);
			return -1;
		}
		if (a->fl != b->fl) {
			snprintf(why, len, "fd %d (%s): F_GETFL %#o, expected %#o", a->fd, a->link, a->fl, b->fl);
			return -1;
		}
		if (a->fdfl != b->fdfl) {
			snprintf(why, len, "fd %d (%s): F_GETFD %d, expected %d", a->fd, a->link, a->fdfl, b->fdfl);
			return -1;
		}
		if (a->pipe_sz != b->pipe_sz) {
			snprintf(why, len, "fd %d (%s): F_GETPIPE_SZ %d, expected %d", a->fd, a->link, a->pipe_sz,
				 b->pipe_sz);
			return -1;
		}
		if (a->sock_type != b->sock_type) {
			snprintf(why, len, "fd %d (%s): SO_TYPE %d, expected %d", a->fd, a->link, a->sock_type,
				 b->sock_type);
			return -1;
		}
		if (a->same_file != b->same_file) {
			if (b->same_file != i)
				snprintf(why, len, "fd %d (%s) is no longer the same file as fd %d (now %s)", a->fd,
					 a->link, before->fds[b->same_file].fd, after->fds[b->same_file].link);
			else
				snprintf(why, len, "fd %d (%s) is now the same file as fd %d, it was not before", a->fd,
					 a->link, after->fds[a->same_file].fd);
			return -1;
		}
		if (a->same_desc >= 0 && b->same_desc >= 0 && a->same_desc != b->same_desc) {
			if (b->same_desc != i)
				snprintf(why, len, "fd %d (%s) no longer shares its open file description with fd %d",
					 a->fd, a->link, before->fds[b->same_desc].fd);
			else
				snprintf(why, len,
					 "fd %d (%s) now shares the open file description of fd %d, it had its own "
					 "before",
					 a->fd, a->link, after->fds[a->same_desc].fd);
			return -1;
		}
	}
	return 0;
}

/*
 * Pipe helpers.
 */

/* Temporary fds go at or above this, out of the way of the fixed ones. */
#define FD_TEMP_BASE 600
/* How long a read waits for data or EOF that must be there. */
#define PIPE_TIMEOUT_MS 3000

/* Move fd from to fd to (which must be free); FD_CLOEXEC is cleared. */
static inline int move_fd(int from, int to, char *why, size_t len)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	if (fcntl(to, F_GETFD) >= 0) {
		snprintf(why, len, "fd %d is already in use", to);
		return -1;
	}
	if (dup2(from, to) != to) {
		snprintf(why, len, "dup2(%d, %d): %m", from, to);
		return -1;
	}
	close(from);
	return 0;
}

/* A pipe with both ends at FD_TEMP_BASE or above. */
static inline int pipe_high(int p[2], char *why, size_t len)
{
	int tmp[2], i;

	if (pipe(tmp)) {
		snprintf(why, len, "pipe: %m");
		return -1;
	}
	for (i = 0; i < 2; i++) {
		p[i] = fcntl(tmp[i], F_DUPFD, FD_TEMP_BASE);
		if (p[i] < 0) {
			snprintf(why, len, "F_DUPFD: %m");
			return -1;
		}
		close(tmp[i]);
	}
	return 0;
}

/* Add status flags (O_NONBLOCK) to fd's description and/or set FD_CLOEXEC. */
static inline int set_fd_flags(int fd, int fl, bool cloexec, char *why, size_t len)
{
	int old = fcntl(fd, F_GETFL);

	if (old < 0 || (fl && fcntl(fd, F_SETFL, old | fl)) || (cloexec && fcntl(fd, F_SETFD, FD_CLOEXEC))) {
		snprintf(why, len, "fcntl(%d): %m", fd);
		return -1;
	}
	return 0;
}

/* A chunk of data with its own pattern: len bytes (any length) from seed. */
struct chunk {
	size_t len;
	uint64_t seed;
};

static inline void fill_chunk(uint8_t *buf, const struct chunk *c)
{
	uint64_t state = c->seed | 1, x;
	size_t i;

	for (i = 0; i < c->len; i += 8) {
		x = zdtm_rand(&state);
		memcpy(buf + i, &x, c->len - i < 8 ? c->len - i : 8);
	}
}

static inline int write_all(int fd, const void *buf, size_t len, char *why, size_t wlen)
{
	size_t off = 0;
	ssize_t ret;

	while (off < len) {
		ret = write(fd, (const char *)buf + off, len - off);
		if (ret <= 0) {
			snprintf(why, wlen, "write %zu bytes to fd %d: wrote %zu: %m", len, fd, off);
			return -1;
		}
		off += ret;
	}
	return 0;
}

/* Write the chunks to fd, in order, each with a write() of its own. */
static inline int write_chunks(int fd, const struct chunk *c, int n, char *why, size_t len)
{
	static uint8_t buf[256 * 1024];
	int i;

	for (i = 0; i < n; i++) {
		if (c[i].len > sizeof(buf)) {
			snprintf(why, len, "chunk of %zu bytes is too big", c[i].len);
			return -1;
		}
		fill_chunk(buf, &c[i]);
		if (write_all(fd, buf, c[i].len, why, len))
			return -1;
	}
	return 0;
}

/* Read exactly len bytes from fd, waiting for each part at most PIPE_TIMEOUT_MS. */
static inline int read_exact(int fd, void *buf, size_t len, char *why, size_t wlen)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t ret;

	while (off < len) {
		ret = poll(&pfd, 1, PIPE_TIMEOUT_MS);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret == 0) {
			snprintf(why, wlen, "fd %d: got %zu of %zu bytes, then nothing for %d ms", fd, off, len,
				 PIPE_TIMEOUT_MS);
			return -1;
		}
		ret = read(fd, (char *)buf + off, len - off);
		if (ret < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (ret < 0) {
			snprintf(why, wlen, "fd %d: read after %zu of %zu bytes: %m", fd, off, len);
			return -1;
		}
		if (ret == 0) {
			snprintf(why, wlen, "fd %d: EOF after %zu of %zu bytes", fd, off, len);
			return -1;
		}
		off += ret;
	}
	return 0;
}

/* The number of bytes queued in the pipe of fd (FIONREAD), or -1. */
static inline int pipe_queued(int fd)
{
	int n;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/*
 * Read the chunks back from fd and check them, in order. If queued, the
 * pipe must hold exactly their bytes (FIONREAD) before the first read.
 */
static inline int read_chunks(int fd, const struct chunk *c, int n, bool queued, char *why, size_t len)
{
	static uint8_t got[256 * 1024], want[256 * 1024];
	size_t total = 0, k;
	int i, q;

	for (i = 0; i < n; i++)
		total += c[i].len;
	q = pipe_queued(fd);
	if (queued && q != (int)total) {
		snprintf(why, len, "fd %d: %d bytes queued, expected %zu", fd, q, total);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (c[i].len > sizeof(got)) {
			snprintf(why, len, "chunk of %zu bytes is too big", c[i].len);
			return -1;
		}
		if (read_exact(fd, got, c[i].len, why, len))
			return -1;
		fill_chunk(want, &c[i]);
		if (memcmp(got, want, c[i].len)) {
			for (k = 0; got[k] == want[k]; k++)
				;
			snprintf(why, len, "fd %d: chunk %d (%zu bytes, seed %#llx) differs at byte %zu", fd, i,
				 c[i].len, (unsigned long long)c[i].seed, k);
			return -1;
		}
	}
	return 0;
}

/*
 * fd must have nothing to read while a writer is still there: not readable
 * (poll), and if it is O_NONBLOCK, read() gives EAGAIN, neither data nor EOF.
 */
static inline int expect_empty(int fd, char *why, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t ret;
	char c;

	if (poll(&pfd, 1, 0) == 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		return 0;
	/* readable (or O_NONBLOCK): read() does not block */
	ret = read(fd, &c, 1);
	if (ret < 0 && errno == EAGAIN)
		return 0;
	if (ret < 0)
		snprintf(why, len, "fd %d: read from an empty pipe: %m, expected EAGAIN", fd);
	else if (ret == 0)
		snprintf(why, len, "fd %d: EOF from an empty pipe that has a writer, expected EAGAIN", fd);
	else
		snprintf(why, len, "fd %d: read a byte (%#x) from a pipe that must be empty", fd, (unsigned char)c);
	return -1;
}

/*
 * fd must give EOF within PIPE_TIMEOUT_MS: the pipe is empty and has no
 * writer left. An O_NONBLOCK fd is read (EAGAIN: there is a writer), a
 * blocking one polled first.
 */
static inline int expect_eof(int fd, char *why, size_t len)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	bool nonblock = fcntl(fd, F_GETFL) & O_NONBLOCK;
	int waited = 0;
	ssize_t ret;
	char c;

	for (;;) {
		if (!nonblock) {
			ret = poll(&pfd, 1, PIPE_TIMEOUT_MS);
			if (ret < 0 && errno == EINTR)
				continue;
			if (ret == 0)
				break;
		}
		ret = read(fd, &c, 1);
		if (ret == 0)
			return 0;
		if (ret > 0) {
			snprintf(why, len, "fd %d: read a byte (%#x), expected EOF", fd, (unsigned char)c);
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(why, len, "fd %d: read: %m, expected EOF", fd);
			return -1;
		}
		if (nonblock) {
			if (waited >= PIPE_TIMEOUT_MS)
				break;
			nanosleep(&ts, NULL);
			waited += 10;
		}
	}
	snprintf(why, len, "fd %d: no EOF after %d ms: a write end of the pipe is still open", fd, PIPE_TIMEOUT_MS);
	return -1;
}
