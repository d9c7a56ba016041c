// SPDX-License-Identifier: GPL-2.0
/*
 * UDP sockets: a server bound to 127.0.0.1 (fd 3, O_NONBLOCK), a client
 * connected to it (fd 42), an IPv6 socket bound to ::1 (fd 200), all idle
 * at the dump. After restore their addresses are the same, the client's
 * datagrams reach the server with their boundaries, the server answers to
 * the client's address, and the IPv6 socket still receives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zdtmtst.h"

static void at(int fd, int num)
{
	if (fd < 0 || dup2(fd, num) != num)
		fail_errno("fd %d", num);
	if (fd != num)
		close(fd);
}

static ssize_t recv_wait(int fd, void *buf, size_t len, struct sockaddr *from, socklen_t *flen)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, 3000) != 1)
		return -1;
	return recvfrom(fd, buf, len, 0, from, flen);
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, cli, from;
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT }, v6now;
	socklen_t len = sizeof(srv);
	struct sockaddr_in srvnow, clinow;
	char buf[64];

	test_init(argc, argv);
	at(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), 3);
	if (bind(3, (struct sockaddr *)&srv, sizeof(srv)) || getsockname(3, (struct sockaddr *)&srv, &len))
		fail_errno("bind");
	at(socket(AF_INET, SOCK_DGRAM, 0), 42);
	len = sizeof(cli);
	if (connect(42, (struct sockaddr *)&srv, sizeof(srv)) || getsockname(42, (struct sockaddr *)&cli, &len))
		fail_errno("connect");
	at(socket(AF_INET6, SOCK_DGRAM, 0), 200);
	len = sizeof(v6);
	if (bind(200, (struct sockaddr *)&v6, sizeof(v6)) || getsockname(200, (struct sockaddr *)&v6, &len))
		fail_errno("bind v6");

	test_daemon();
	test_waitsig();

	len = sizeof(srvnow);
	if (getsockname(3, (struct sockaddr *)&srvnow, &len) || srvnow.sin_port != srv.sin_port)
		fail("the server's port changed");
	len = sizeof(clinow);
	if (getsockname(42, (struct sockaddr *)&clinow, &len) || clinow.sin_port != cli.sin_port)
		fail("the client's port changed");
	if (!(fcntl(3, F_GETFL) & O_NONBLOCK))
		fail("fd 3 lost O_NONBLOCK");
	if (send(42, "one", 3, 0) != 3 || send(42, "datagram two", 12, 0) != 12)
		fail_errno("send");
	len = sizeof(from);
	if (recv_wait(3, buf, sizeof(buf), (struct sockaddr *)&from, &len) != 3 || memcmp(buf, "one", 3) ||
	    from.sin_port != cli.sin_port)
		fail("the server did not get the client's first datagram");
	if (recv_wait(3, buf, sizeof(buf), NULL, NULL) != 12)
		fail("datagram boundaries lost");
	if (sendto(3, "back", 4, 0, (struct sockaddr *)&from, sizeof(from)) != 4 ||
	    recv_wait(42, buf, sizeof(buf), NULL, NULL) != 4 || memcmp(buf, "back", 4))
		fail("the client did not get the server's answer");
	len = sizeof(v6now);
	if (getsockname(200, (struct sockaddr *)&v6now, &len) || v6now.sin6_port != v6.sin6_port ||
	    sendto(42, "x", 1, 0, (struct sockaddr *)&v6, sizeof(v6)) != -1)
		fail("the IPv6 socket lost its port (or the connected client sent elsewhere)");
	at(socket(AF_INET6, SOCK_DGRAM, 0), 50);
	if (sendto(50, "six", 3, 0, (struct sockaddr *)&v6, sizeof(v6)) != 3 ||
	    recv_wait(200, buf, sizeof(buf), NULL, NULL) != 3)
		fail("the IPv6 socket does not receive");
	pass();
}
