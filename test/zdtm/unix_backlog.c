// SPDX-License-Identifier: GPL-2.0
/*
 * A listening unix stream socket (fd 3, backlog 4) with three clients
 * waiting to be accepted (fds 42, 43, 44), each bound to an abstract name
 * of its own, none of them accepted nor having sent anything. After
 * restore the three are still waiting, in the same order (accept gives
 * them back as their names say), and each carries data both ways; the
 * backlog takes a new client too.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

static socklen_t name(struct sockaddr_un *sa, int i)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "zdtm-backlog-%d-%d", getpid(), i);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa->sun_path + 1);
}

int main(int argc, char **argv)
{
	struct sockaddr_un srv, sa, peer;
	socklen_t slen = name(&srv, 0), len, plen;
	char c;
	int i, fd, a;

	test_init(argc, argv);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || dup2(fd, 3) != 3 || bind(3, (struct sockaddr *)&srv, slen) || listen(3, 4))
		fail_errno("listener");
	if (fd != 3)
		close(fd);
	for (i = 1; i <= 3; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		len = name(&sa, i);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) || connect(fd, (struct sockaddr *)&srv, slen) ||
		    dup2(fd, 41 + i) != 41 + i)
			fail_errno("client %d", i);
		close(fd);
	}

	test_daemon();
	test_waitsig();

	for (i = 1; i <= 3; i++) {
		plen = sizeof(peer);
		len = name(&sa, i);
		a = accept(3, (struct sockaddr *)&peer, &plen);
		if (a < 0 || plen != len || memcmp(&peer, &sa, len))
			fail("accept %d did not give client %d", i, i);
		if (write(41 + i, "c", 1) != 1 || read(a, &c, 1) != 1 || c != 'c' || write(a, "s", 1) != 1 ||
		    read(41 + i, &c, 1) != 1 || c != 's')
			fail("client %d does not talk to its accepted socket", i);
		close(a);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&srv, slen) || (a = accept(3, NULL, NULL)) < 0)
		fail_errno("a new client after restore");
	pass();
}
