// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <time.h>

#include "util.h"
#include "log.h"

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		pr_err("out of memory allocating %zu bytes\n", size);
	return p;
}

void *xzalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p)
		pr_err("out of memory allocating %zu bytes\n", size);
	return p;
}

void *xrealloc(void *old, size_t size)
{
	void *p = realloc(old, size ? size : 1);

	if (!p)
		pr_err("out of memory reallocating %zu bytes\n", size);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		pr_err("out of memory\n");
	return p;
}

int xgrow(void *arr_ptr, size_t *cap, size_t nr, size_t elem)
{
	void **arr = arr_ptr, *n;
	size_t ncap;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap <= nr || ncap > SIZE_MAX / elem) {
		pr_err("array of %zu elements can't grow\n", nr);
		return -ENOMEM;
	}
	n = xrealloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

char *read_file_at(int dirfd, const char *path, size_t *lenp)
{
	size_t size = 4096, len = 0;
	char *buf = NULL, *nbuf;
	ssize_t ret;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		nbuf = realloc(buf, size + 1);
		if (!nbuf)
			goto err;
		buf = nbuf;
		ret = read(fd, buf + len, size - len);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (ret == 0)
			break;
		len += ret;
		if (len == size)
			size *= 2;
	}
	close(fd);
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
err:
	close(fd);
	free(buf);
	return NULL;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t ret;

	while (len) {
		ret = write(fd, p, len);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ret == 0)
			return -EIO;
		p += ret;
		len -= ret;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	ssize_t ret;

	while (done < len) {
		ret = read(fd, p + done, len - done);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ret == 0)
			break;
		done += ret;
	}
	return done;
}

int move_fd_above(int fd, int min_fd)
{
	int nfd;

	if (fd >= min_fd)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
	if (nfd < 0) {
		pr_perror("can't move fd %d above %d", fd, min_fd);
		return -errno;
	}
	close(fd);
	return nfd;
}

int grab_fd(pid_t pid, int fd)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0), copy;

	if (pidfd < 0) {
		pr_perror("can't get a pidfd of process %d", pid);
		return -errno;
	}
	copy = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0)
		pr_perror("can't get fd %d of process %d", fd, pid);
	close(pidfd);
	return copy < 0 ? -errno : copy;
}

int close_safe(int *fd)
{
	int ret = 0;

	if (*fd >= 0) {
		ret = close(*fd);
		*fd = -1;
	}
	return ret;
}

uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The data extents of src up to size, to the same offsets of dst, which
 * is then exactly size bytes long: holes stay holes on both sides.
 */
int copy_sparse(int src, uint64_t size, int dst, const char *what)
{
	char *buf = xmalloc(1 << 20);
	off_t pos = 0, data, hole;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (!ret && (off_t)size > pos && (data = lseek(src, pos, SEEK_DATA)) >= 0) {
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0 || hole > (off_t)size)
			hole = size;
		for (pos = data; pos < hole && !ret;) {
			ssize_t n = pread(src, buf, min((off_t)(1 << 20), hole - pos), pos);

			if (n <= 0 || pwrite(dst, buf, n, pos) != n) {
				pr_perror("can't copy the content of %s", what);
				ret = -EIO;
			}
			pos += n > 0 ? n : 0;
		}
	}
	if (!ret && ftruncate(dst, size)) {
		pr_perror("can't size the content of %s", what);
		ret = -EIO;
	}
	free(buf);
	return ret;
}
