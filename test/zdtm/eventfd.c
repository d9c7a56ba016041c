// SPDX-License-Identifier: GPL-2.0
/*
 * eventfds at fixed fds: a counter beyond 32 bits (fd 42), a semaphore one
 * (fd 3, O_NONBLOCK), an empty one (fd 200, O_NONBLOCK) and a dup of the
 * first (fd 43). After restore: the counter reads back whole, the
 * semaphore gives 1 per read exactly count times then EAGAIN, the empty
 * one gives EAGAIN, a write to the dup shows on fd 42, and the flags are
 * as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "zdtmtst.h"

#define BIG 5000000123ULL
#define SEM 7

static void place(int fd, int at)
{
	if (dup2(fd, at) != at)
		fail_errno("dup2 %d", at);
	if (fd != at)
		close(fd);
}

int main(int argc, char **argv)
{
	uint64_t v;
	int i;

	test_init(argc, argv);
	place(eventfd(0, 0), 42);
	v = BIG;
	if (write(42, &v, 8) != 8)
		fail_errno("write");
	place(eventfd(SEM, EFD_SEMAPHORE | EFD_NONBLOCK), 3);
	place(eventfd(0, EFD_NONBLOCK), 200);
	if (dup2(42, 43) != 43)
		fail_errno("dup2");

	test_daemon();
	test_waitsig();

	if (!(fcntl(3, F_GETFL) & O_NONBLOCK) || !(fcntl(200, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(42, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK is not as it was");
	if (read(42, &v, 8) != 8 || v != BIG)
		fail("fd 42 read %llu, expected %llu", (unsigned long long)v, BIG);
	for (i = 0; i < SEM; i++)
		if (read(3, &v, 8) != 8 || v != 1)
			fail("semaphore read %d: %llu", i, (unsigned long long)v);
	if (read(3, &v, 8) != -1 || errno != EAGAIN)
		fail("the semaphore gives more than %d", SEM);
	if (read(200, &v, 8) != -1 || errno != EAGAIN)
		fail("the empty eventfd is not empty");
	v = 9;
	if (write(43, &v, 8) != 8 || read(42, &v, 8) != 8 || v != 9)
		fail("fd 43 is not the same eventfd as fd 42");
	pass();
}
