// SPDX-License-Identifier: GPL-2.0
/*
 * A datagram socket connected to a bound datagram socket, as a program
 * talks to /dev/log. The "log" is ZDTM_LOG_SOCKET if set (a socket the
 * harness binds outside the tree: neg_unix_ext_dgram dumps with -x and
 * restores without --inherit-fd, so the socket must be connected again by
 * name), else one the test binds itself (inside the tree). The test sends
 * "msg N" every few milliseconds; after restore getpeername() must still
 * name the log, and sending must still work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sockaddr_un log = { .sun_family = AF_UNIX }, peer;
	const char *path = getenv("ZDTM_LOG_SOCKET");
	socklen_t len = sizeof(peer);
	char msg[64];
	unsigned long n = 0;
	int sk, own = -1;

	test_init(argc, argv);
	if (!path) {
		static char p[108];

		snprintf(p, sizeof(p), "%s/log", test_dir());
		own = socket(AF_UNIX, SOCK_DGRAM, 0);
		strcpy(log.sun_path, p);
		unlink(p);
		if (own < 0 || bind(own, (struct sockaddr *)&log, sizeof(log)))
			fail_errno("binding %s", p);
	} else {
		snprintf(log.sun_path, sizeof(log.sun_path), "%s", path);
	}
	sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (sk < 0 || connect(sk, (struct sockaddr *)&log, sizeof(log)))
		fail_errno("connecting to %s", log.sun_path);
	test_daemon();
	while (!test_sigterm) {
		int m = snprintf(msg, sizeof(msg), "msg %lu", ++n);

		/* a full queue of the reader only delays us */
		if (send(sk, msg, m, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != EINTR)
			fail_errno("send");
		if (own >= 0)
			while (recv(own, msg, sizeof(msg), MSG_DONTWAIT) > 0)
				;
		usleep(5000);
	}
	if (getpeername(sk, (struct sockaddr *)&peer, &len) || strcmp(peer.sun_path, log.sun_path))
		fail("the socket's peer is not %s any more", log.sun_path);
	if (send(sk, "bye", 3, 0) != 3)
		fail_errno("send bye");
	pass();
}
