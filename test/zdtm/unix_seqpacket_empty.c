// SPDX-License-Identifier: GPL-2.0
/*
 * A seqpacket queue of messages of 10, 0 and 20 bytes: after restore the
 * empty message in the middle is still a message of its own.
 */
#include "unix_sk.h"
static char why[512];
#define check(e)                         \
	do {                             \
		if (e)                   \
			fail("%s", why); \
	} while (0)
static const struct chunk q[] = { { 10, 1 }, { 0, 2 }, { 20, 3 } };
int main(int argc, char **argv)
{
	test_init(argc, argv);
	check(sockpair_at(SOCK_SEQPACKET, 3, 4, why, sizeof(why)));
	check(send_msgs(4, q, 3, why, sizeof(why)));
	test_daemon();
	test_waitsig();
	check(recv_msgs(3, q, 3, &sk_unnamed, why, sizeof(why)));
	check(expect_sock_empty(3, why, sizeof(why)));
	pass();
}
