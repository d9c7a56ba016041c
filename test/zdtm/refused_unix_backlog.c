// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=not accepted */
/*
 * A listening unix socket with a connection not accepted yet. The dump
 * must be refused; at the check the connection is still waiting and is
 * accepted, with the byte its client sent.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l, c, a;
	char byte;

	test_init(argc, argv);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/backlog.sock", test_dir());
	unlink(sa.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 4) ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) || write(c, "q", 1) != 1)
		fail_errno("set-up");

	test_daemon();
	test_waitsig();

	a = accept(l, NULL, NULL);
	if (a < 0 || read(a, &byte, 1) != 1 || byte != 'q')
		fail("the waiting connection is gone");
	pass();
}
