// SPDX-License-Identifier: GPL-2.0
/*
 * An epoll at fd 42 watching: the read end of a pipe at fd 3 (EPOLLIN |
 * EPOLLET, data 0x1122334455667788), an eventfd at fd 200 (EPOLLIN, data
 * 200), and an eventfd registered as fd 50 and closed since (a dup at fd 60
 * keeps it alive; data 50). After restore fd 50 is still closed, fdinfo of
 * the epoll lists the same three registrations with their data, each event
 * is delivered with its data, and EPOLL_CTL_MOD and DEL find the
 * registrations by their fd numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtmtst.h"

static void at(int fd, int num)
{
	if (fd < 0 || dup2(fd, num) != num)
		fail_errno("fd %d", num);
	if (fd != num)
		close(fd);
}

static void watch(int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(42, EPOLL_CTL_ADD, fd, &ev))
		fail_errno("epoll_ctl add %d", fd);
}

static int count_registrations(void)
{
	char buf[4096], *p = buf;
	int n = 0;

	if (read_file("/proc/self/fdinfo/42", buf, sizeof(buf)) < 0)
		fail_errno("fdinfo");
	while ((p = strstr(p, "tfd:"))) {
		unsigned tfd;
		unsigned long long data;

		if (sscanf(p, "tfd: %u %*s %*x data: %llx", &tfd, &data) != 2)
			fail("can't parse %.60s", p);
		if (!((tfd == 3 && data == 0x1122334455667788ULL) || (tfd == 200 && data == 200) ||
		      (tfd == 50 && data == 50)))
			fail("unexpected registration tfd %u data %llx", tfd, data);
		n++;
		p++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct epoll_event out[8];
	uint64_t one = 1, seen = 0;
	int p[2], i, n;

	test_init(argc, argv);
	at(epoll_create1(0), 42);
	if (pipe(p))
		fail_errno("pipe");
	at(p[0], 3);
	at(p[1], 4);
	at(eventfd(0, 0), 200);
	at(eventfd(0, 0), 50);
	at(dup(50), 60);
	watch(3, EPOLLIN | EPOLLET, 0x1122334455667788ULL);
	watch(200, EPOLLIN, 200);
	watch(50, EPOLLIN, 50);
	close(50);

	test_daemon();
	test_waitsig();

	if (fcntl(50, F_GETFD) != -1 || errno != EBADF)
		fail("fd 50 is open after restore");
	if (count_registrations() != 3)
		fail("the epoll does not have its three registrations");
	if (write(4, "x", 1) != 1 || write(200, &one, 8) != 8 || write(60, &one, 8) != 8)
		fail_errno("write");
	n = epoll_wait(42, out, 8, 1000);
	for (i = 0; i < n; i++)
		seen |= out[i].data.u64 == 0x1122334455667788ULL ? 1
			: out[i].data.u64 == 200		 ? 2
			: out[i].data.u64 == 50			 ? 4
								 : 8;
	if (n != 3 || seen != 7)
		fail("epoll_wait gave %d events (mask %llx), expected the three", n, (unsigned long long)seen);
	out[0].events = EPOLLIN;
	if (epoll_ctl(42, EPOLL_CTL_MOD, 3, &out[0]) || epoll_ctl(42, EPOLL_CTL_DEL, 200, NULL))
		fail_errno("epoll_ctl by the registered fd numbers");
	pass();
}
