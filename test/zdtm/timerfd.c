// SPDX-License-Identifier: GPL-2.0
/*
 * timerfds: a periodic 50 ms CLOCK_MONOTONIC timer at fd 42 that has
 * expired without being read; a one-shot CLOCK_REALTIME timer at fd 3 set
 * 100 s ahead (O_NONBLOCK); a disarmed one at fd 200. After restore the
 * periodic one keeps firing (ticks grow over 300 ms), the one-shot has
 * between 50 and 100 s left and has not fired, the disarmed one stays
 * disarmed, and the settings are as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static void make(int at, int clk, int flags, long val_ms, long int_ms)
{
	struct itimerspec its = {
		.it_value = { val_ms / 1000, (val_ms % 1000) * 1000000 },
		.it_interval = { int_ms / 1000, (int_ms % 1000) * 1000000 },
	};
	int fd = timerfd_create(clk, flags);

	if (fd < 0 || (val_ms && timerfd_settime(fd, 0, &its, NULL)) || dup2(fd, at) != at)
		fail_errno("timerfd %d", at);
	if (fd != at)
		close(fd);
}

int main(int argc, char **argv)
{
	struct itimerspec cur;
	uint64_t ticks = 0, more = 0;

	test_init(argc, argv);
	make(42, CLOCK_MONOTONIC, 0, 50, 50);
	make(3, CLOCK_REALTIME, TFD_NONBLOCK, 100000, 0);
	make(200, CLOCK_MONOTONIC, 0, 0, 0);
	usleep(120000); /* fd 42 expires, unread */

	test_daemon();
	test_waitsig();

	if (timerfd_gettime(42, &cur) || cur.it_interval.tv_sec || cur.it_interval.tv_nsec != 50000000)
		fail("fd 42 lost its 50 ms interval");
	if (read(42, &ticks, 8) != 8 || !ticks)
		fail("fd 42 gives no expiration");
	usleep(300000);
	if (read(42, &more, 8) != 8 || more < 3)
		fail("fd 42 fired %llu times in 300 ms", (unsigned long long)more);
	if (timerfd_gettime(3, &cur) || cur.it_value.tv_sec < 50 || cur.it_value.tv_sec > 100)
		fail("fd 3 has %ld s left, expected 50..100", (long)cur.it_value.tv_sec);
	if (!(fcntl(3, F_GETFL) & O_NONBLOCK) || read(3, &ticks, 8) != -1 || errno != EAGAIN)
		fail("fd 3 is not a non-blocking timer that has not fired");
	if (timerfd_gettime(200, &cur) || cur.it_value.tv_sec || cur.it_value.tv_nsec)
		fail("fd 200 is armed");
	pass();
}
