// SPDX-License-Identifier: GPL-2.0
/*
 * An accepted stream socket whose client closed, with data the client sent
 * queued: after restore it keeps the listener's name (getsockname), reads
 * the data, then EOF.
 */
#include "unix_sk.h"
#include <sys/stat.h>
static char why[512];
#define check(e)                         \
	do {                             \
		if (e)                   \
			fail("%s", why); \
	} while (0)
static const struct chunk q[] = { { 100, 2 } };
int main(int argc, char **argv)
{
	struct sk_name n;
	char p[256];
	int l, c, a;
	test_init(argc, argv);
	snprintf(p, sizeof(p), "%s/l.sock", test_dir());
	unlink(p);
	sk_name_make(&n, p);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	check(sk_bind(l, &n, why, sizeof(why)));
	listen(l, 5);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	check(sk_connect(c, &n, why, sizeof(why)));
	a = accept(l, NULL, NULL);
	check(send_msgs(c, q, 1, why, sizeof(why)));
	close(c);
	check(move_fd(l, 3, why, sizeof(why)));
	check(move_fd(a, 4, why, sizeof(why)));
	test_daemon();
	test_waitsig();
	check(expect_name(4, false, &n, why, sizeof(why)));
	check(expect_name(3, false, &n, why, sizeof(why)));
	check(read_chunks(4, q, 1, true, why, sizeof(why)));
	check(expect_sock_eof(4, why, sizeof(why)));
	pass();
}
