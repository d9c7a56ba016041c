// SPDX-License-Identifier: GPL-2.0
/* zdtm: flags=--tcp-established */
/*
 * TCP connections kept across dump and restore (--tcp-established):
 *  - to a peer OUTSIDE the tree (a process the test forks away before it
 *    is ready, adopted by the harness): the peer sends 5000 bytes at once,
 *    which wait in the test's receive queue through the dump; after
 *    restore they read back in order and the peer echoes what the test
 *    sends, so the connection goes on with both sides' sequence numbers;
 *  - between two sockets of the test (IPv6 loopback), with data queued
 *    both ways;
 *  - a listening IPv4 socket with backlog 5 that still accepts.
 * Sockets at fds 3, 42, 43 and 200. The peer ends when the connection
 * closes, or after 60 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zdtmtst.h"

#define FROM_PEER 5000

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

static void at(int fd, int num)
{
	if (fd < 0 || dup2(fd, num) != num)
		fail_errno("fd %d", num);
	if (fd != num)
		close(fd);
}

static int read_exact(int fd, void *buf, size_t len, int ms)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, ms) != 1)
			return -1;
		n = recv(fd, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* The outside peer: a server that sends FROM_PEER bytes, then echoes "ok:" + each chunk. */
static void run_peer(int port_pipe)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	unsigned char buf[FROM_PEER];
	int l = socket(AF_INET, SOCK_STREAM, 0), c;
	size_t i;

	alarm(60);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) ||
	    write(port_pipe, &a.sin_port, sizeof(a.sin_port)) != sizeof(a.sin_port))
		_exit(1);
	close(port_pipe);
	c = accept(l, NULL, NULL);
	for (i = 0; i < FROM_PEER; i++)
		buf[i] = pat(i);
	if (c < 0 || send(c, buf, FROM_PEER, 0) != FROM_PEER)
		_exit(1);
	for (;;) {
		char m[64] = "ok:";
		ssize_t n = recv(c, m + 3, sizeof(m) - 3, 0);

		if (n <= 0)
			_exit(0);
		if (send(c, m, n + 3, 0) != n + 3)
			_exit(1);
	}
}

/* Forked away twice: its parent exits, so the harness adopts it, outside the tree. */
static in_port_t start_peer(void)
{
	int p[2], status;
	in_port_t port;
	pid_t mid;

	if (pipe(p))
		fail_errno("pipe");
	mid = fork();
	if (mid == 0) {
		close(p[0]);
		/* its own session: it must not keep the test's pid alive as a session or group id */
		if (fork() == 0 && setsid() > 0)
			run_peer(p[1]);
		_exit(0);
	}
	close(p[1]);
	if (mid < 0 || waitpid(mid, &status, 0) != mid || read(p[0], &port, sizeof(port)) != sizeof(port))
		fail("the peer did not start");
	close(p[0]);
	return port;
}

static void pair_v6(int *client, int *server)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET6, SOCK_STREAM, 0);

	*client = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 || *client < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) || connect(*client, (struct sockaddr *)&a, sizeof(a)))
		fail_errno("IPv6 pair");
	*server = accept(l, NULL, NULL);
	if (*server < 0)
		fail_errno("accept");
	close(l);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char got[FROM_PEER];
	char m[64];
	int c, s, n, i, one = 1;
	socklen_t len = sizeof(a);

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	a.sin_port = start_peer();
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		fail_errno("connect to the peer");
	at(c, 3);
	pair_v6(&c, &s);
	at(c, 42);
	at(s, 43);
	if (send(42, "to-server", 9, 0) != 9 || send(43, "to-client!", 10, 0) != 10)
		fail_errno("send");
	setsockopt(43, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 5) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		fail_errno("listener");
	at(s, 200);
	usleep(200000); /* the peer's bytes are in our receive queue */

	test_daemon();
	test_waitsig();

	if (read_exact(3, got, FROM_PEER, 3000))
		fail("the peer's %d bytes did not come back", FROM_PEER);
	for (i = 0; i < FROM_PEER; i++)
		if (got[i] != pat(i))
			fail("byte %d from the peer is wrong", i);
	for (i = 0; i < 3; i++) {
		n = snprintf(m, sizeof(m), "ping%d", i);
		if (send(3, m, n, 0) != n || read_exact(3, got, n + 3, 3000) || memcmp(got, "ok:", 3) ||
		    memcmp(got + 3, m, n))
			fail("the peer does not answer ping %d after restore", i);
	}
	if (read_exact(43, got, 9, 3000) || memcmp(got, "to-server", 9) || read_exact(42, got, 10, 3000) ||
	    memcmp(got, "to-client!", 10))
		fail("the data queued in the IPv6 pair is lost");
	if (send(42, "more", 4, 0) != 4 || read_exact(43, got, 4, 3000) || memcmp(got, "more", 4))
		fail("the IPv6 pair does not carry on");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) || (s = accept(200, NULL, NULL)) < 0)
		fail_errno("the listener does not accept after restore");
	pass();
}
