// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=POSIX */
/*
 * An armed POSIX timer (timer_create). Not in the images yet: the dump
 * must be refused and the timer still armed at the check.
 */
#include <signal.h>
#include <time.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	struct itimerspec its = { .it_value = { .tv_sec = 100000 } };
	timer_t timer;

	test_init(argc, argv);
	signal(SIGUSR2, SIG_IGN);
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) || timer_settime(timer, 0, &its, NULL))
		fail("timer_create: %m");
	test_daemon();
	test_waitsig();
	if (timer_gettime(timer, &its) || !its.it_value.tv_sec)
		fail("the POSIX timer is not armed any more");
	pass();
	return 0;
}
