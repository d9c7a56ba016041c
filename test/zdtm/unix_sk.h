/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Code shared by the unix socket tests (unix_*.c), on top of pipe_fds.h
 * (the fd table, fixed fds, chunks of patterns; its stream helpers
 * write_chunks(), read_chunks() and expect_eof() work on stream sockets
 * too, FIONREAD giving the bytes queued):
 *
 *  - a socket pair at two fixed fds;
 *  - messages: each chunk sent with one send() and received with one
 *    recvmsg(), which must give exactly that chunk (its length, no
 *    MSG_TRUNC, its bytes) within SOCK_TIMEOUT_MS, and its sender's
 *    address, if asked, must be the one expected (or none: unbound);
 *  - what a socket must give now: nothing to read, EOF, a send error;
 *  - names (getsockname(), getpeername()) as a length and bytes, printed
 *    with '@' for an abstract name;
 *  - integer socket options.
 *
 * Like pipe_fds.h, all of them return -1 with the reason in why and never
 * call fail(), so that a child can use them.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pipe_fds.h"

/* How long a receive waits for a message that must be there. */
#define SOCK_TIMEOUT_MS 3000
/* The biggest message these helpers send or receive. */
#define SOCK_MSG_MAX (128 * 1024)

/* socketpair(AF_UNIX, type) with its ends at fds fd0 and fd1. */
static inline int sockpair_at(int type, int fd0, int fd1, char *why, size_t len)
{
	int sv[2], i;

	if (socketpair(AF_UNIX, type, 0, sv)) {
		snprintf(why, len, "socketpair(type %d): %m", type);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		int fd = fcntl(sv[i], F_DUPFD, FD_TEMP_BASE);

		if (fd < 0) {
			snprintf(why, len, "F_DUPFD: %m");
			return -1;
		}
		close(sv[i]);
		sv[i] = fd;
	}
	if (move_fd(sv[0], fd0, why, len) || move_fd(sv[1], fd1, why, len))
		return -1;
	return 0;
}

/* A new unix socket of type at FD_TEMP_BASE or above. */
static inline int sock_high(int type, char *why, size_t len)
{
	int s = socket(AF_UNIX, type, 0), fd;

	if (s < 0) {
		snprintf(why, len, "socket(AF_UNIX, %d): %m", type);
		return -1;
	}
	fd = fcntl(s, F_DUPFD, FD_TEMP_BASE);
	close(s);
	if (fd < 0)
		snprintf(why, len, "F_DUPFD: %m");
	return fd;
}

/* Wait until fd is readable (a message, EOF or an error is there). */
static inline int wait_readable(int fd, char *why, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ret;

	do
		ret = poll(&pfd, 1, SOCK_TIMEOUT_MS);
	while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		snprintf(why, len, "fd %d: poll: %m", fd);
		return -1;
	}
	if (ret == 0) {
		snprintf(why, len, "fd %d: nothing to read for %d ms", fd, SOCK_TIMEOUT_MS);
		return -1;
	}
	return 0;
}

/* Send the chunks to fd, each as one message (one send(), all of it). */
static inline int send_msgs(int fd, const struct chunk *c, int n, char *why, size_t len)
{
	static uint8_t buf[SOCK_MSG_MAX];
	ssize_t ret;
	int i;

	for (i = 0; i < n; i++) {
		if (c[i].len > sizeof(buf)) {
			snprintf(why, len, "message of %zu bytes is too big", c[i].len);
			return -1;
		}
		fill_chunk(buf, &c[i]);
		ret = send(fd, buf, c[i].len, MSG_NOSIGNAL);
		if (ret != (ssize_t)c[i].len) {
			snprintf(why, len, "fd %d: send message %d of %zu bytes: %zd: %m", fd, i, c[i].len, ret);
			return -1;
		}
	}
	return 0;
}

/* A socket name: getsockname() or getpeername() as it was given. */
struct sk_name {
	socklen_t len;
	struct sockaddr_un sa;
};

/* The name of an unbound socket. */
static const struct sk_name sk_unnamed = { sizeof(sa_family_t), { AF_UNIX, "" } };

/* "path", "@abstract" or "(unnamed)", for messages. */
static inline const char *sk_name_str(const struct sk_name *n, char *buf, size_t size)
{
	int l = (int)n->len - (int)offsetof(struct sockaddr_un, sun_path);

	if (l <= 0)
		snprintf(buf, size, "(unnamed)");
	else if (n->sa.sun_path[0])
		snprintf(buf, size, "%.*s (%d bytes)", l, n->sa.sun_path, l);
	else
		snprintf(buf, size, "@%.*s (%d bytes)", l - 1, n->sa.sun_path + 1, l);
	return buf;
}

static inline bool sk_name_eq(const struct sk_name *a, const struct sk_name *b)
{
	size_t unnamed = offsetof(struct sockaddr_un, sun_path);

	if (a->len <= unnamed || b->len <= unnamed)
		return a->len <= unnamed && b->len <= unnamed;
	return a->len == b->len && !memcmp(&a->sa, &b->sa, a->len);
}

/*
 * Receive n messages from fd, in order, each exactly its chunk. If from,
 * each must come from a sender of that name (sk_unnamed: unbound).
 */
static inline int recv_msgs(int fd, const struct chunk *c, int n, const struct sk_name *from, char *why, size_t len)
{
	char b1[160], b2[160];
	struct sk_name sender;
	static uint8_t got[SOCK_MSG_MAX + 1], want[SOCK_MSG_MAX];
	struct iovec iov;
	struct msghdr mh;
	ssize_t ret;
	size_t k;
	int i;

	for (i = 0; i < n; i++) {
		if (wait_readable(fd, why, len))
			goto which;
		memset(&mh, 0, sizeof(mh));
		memset(&sender, 0, sizeof(sender));
		iov.iov_base = got;
		iov.iov_len = sizeof(got);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_name = &sender.sa;
		mh.msg_namelen = sizeof(sender.sa);
		ret = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (ret < 0) {
			snprintf(why, len, "fd %d: recvmsg: %m", fd);
			goto which;
		}
		if (ret != (ssize_t)c[i].len || (mh.msg_flags & MSG_TRUNC)) {
			snprintf(why, len, "fd %d: a message of %zd bytes (flags %#x), expected %zu: boundaries lost",
				 fd, ret, mh.msg_flags, c[i].len);
			goto which;
		}
		fill_chunk(want, &c[i]);
		if (memcmp(got, want, c[i].len)) {
			for (k = 0; got[k] == want[k]; k++)
				;
			snprintf(why, len, "fd %d: message of %zu bytes (seed %#llx) differs at byte %zu", fd, c[i].len,
				 (unsigned long long)c[i].seed, k);
			goto which;
		}
		sender.len = mh.msg_namelen;
		if (from && !sk_name_eq(&sender, from)) {
			snprintf(why, len, "fd %d: message of %zu bytes came from %s, expected %s", fd, c[i].len,
				 sk_name_str(&sender, b1, sizeof(b1)), sk_name_str(from, b2, sizeof(b2)));
			goto which;
		}
	}
	return 0;
which:
	snprintf(why + strlen(why), len - strlen(why), " (message %d of %d)", i + 1, n);
	return -1;
}

/* fd has nothing to read now: recv(MSG_DONTWAIT) gives EAGAIN, neither data nor EOF. */
static inline int expect_sock_empty(int fd, char *why, size_t len)
{
	ssize_t ret;
	char c;

	ret = recv(fd, &c, 1, MSG_DONTWAIT);
	if (ret < 0 && errno == EAGAIN)
		return 0;
	if (ret < 0)
		snprintf(why, len, "fd %d: recv from a socket with nothing queued: %m, expected EAGAIN", fd);
	else if (ret == 0)
		snprintf(why, len, "fd %d: recv gave EOF (or a message of 0 bytes), expected EAGAIN", fd);
	else
		snprintf(why, len, "fd %d: read a byte (%#x) from a socket that must have nothing queued", fd,
			 (unsigned char)c);
	return -1;
}

/* fd (stream or seqpacket) gives EOF within SOCK_TIMEOUT_MS, and again. */
static inline int expect_sock_eof(int fd, char *why, size_t len)
{
	ssize_t ret;
	int i;
	char c;

	for (i = 0; i < 2; i++) {
		if (wait_readable(fd, why, len)) {
			snprintf(why + strlen(why), len - strlen(why), ", expected EOF");
			return -1;
		}
		ret = recv(fd, &c, 1, MSG_DONTWAIT);
		if (ret > 0) {
			snprintf(why, len, "fd %d: read a byte (%#x), expected EOF", fd, (unsigned char)c);
			return -1;
		}
		if (ret < 0) {
			snprintf(why, len, "fd %d: recv: %m, expected EOF", fd);
			return -1;
		}
	}
	return 0;
}

/* A send of 1 byte to fd (without blocking or SIGPIPE) fails with err. */
static inline int expect_send_error(int fd, int err, char *why, size_t len)
{
	ssize_t ret = send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (ret >= 0) {
		snprintf(why, len, "fd %d: a send of 1 byte went through, expected %s", fd, strerror(err));
		return -1;
	}
	if (errno != err) {
		snprintf(why, len, "fd %d: send: %m, expected %s", fd, strerror(err));
		return -1;
	}
	return 0;
}

/* Make a name: a path, or an abstract name if it starts with '@'. */
static inline void sk_name_make(struct sk_name *n, const char *name)
{
	size_t len;

	memset(n, 0, sizeof(*n));
	n->sa.sun_family = AF_UNIX;
	len = strnlen(name, sizeof(n->sa.sun_path) - 1); /* the tests never make longer names */

	memcpy(n->sa.sun_path, name, len);
	n->len = offsetof(struct sockaddr_un, sun_path) + strlen(n->sa.sun_path);
	if (name[0] == '@')
		n->sa.sun_path[0] = '\0';
	else
		n->len++; /* the path's NUL, as the kernel gives it back */
}

/* getsockname() (peer false) or getpeername() (peer true) of fd. */
static inline int sk_name_get(int fd, bool peer, struct sk_name *n, char *why, size_t len)
{
	memset(n, 0, sizeof(*n));
	n->len = sizeof(n->sa);
	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&n->sa, &n->len)) {
		snprintf(why, len, "fd %d: %s: %m", fd, peer ? "getpeername" : "getsockname");
		return -1;
	}
	return 0;
}

/* The name of fd (or of its peer) is want. */
static inline int expect_name(int fd, bool peer, const struct sk_name *want, char *why, size_t len)
{
	char b1[160], b2[160];
	struct sk_name got;

	if (sk_name_get(fd, peer, &got, why, len))
		return -1;
	if (!sk_name_eq(&got, want)) {
		snprintf(why, len, "fd %d: %s is %s, expected %s", fd, peer ? "peer name" : "name",
			 sk_name_str(&got, b1, sizeof(b1)), sk_name_str(want, b2, sizeof(b2)));
		return -1;
	}
	return 0;
}

/* Connect fd to the name n. */
static inline int sk_connect(int fd, const struct sk_name *n, char *why, size_t len)
{
	char b[160];

	if (connect(fd, (const struct sockaddr *)&n->sa, n->len)) {
		snprintf(why, len, "fd %d: connect to %s: %m", fd, sk_name_str(n, b, sizeof(b)));
		return -1;
	}
	return 0;
}

/* Bind fd to the name n. */
static inline int sk_bind(int fd, const struct sk_name *n, char *why, size_t len)
{
	char b[160];

	if (bind(fd, (const struct sockaddr *)&n->sa, n->len)) {
		snprintf(why, len, "fd %d: bind to %s: %m", fd, sk_name_str(n, b, sizeof(b)));
		return -1;
	}
	return 0;
}

/* An integer SOL_SOCKET option of fd, or -1 with why. */
static inline int sk_opt(int fd, int opt, const char *name, char *why, size_t len)
{
	socklen_t l = sizeof(int);
	int v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l)) {
		snprintf(why, len, "fd %d: getsockopt(%s): %m", fd, name);
		return -1;
	}
	return v;
}
