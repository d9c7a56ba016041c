// SPDX-License-Identifier: GPL-2.0
/*
 * Interval timers: ITIMER_REAL with 100 s left and a 50 s interval,
 * ITIMER_VIRTUAL with 30 s left (CPU time: it barely moves while the test
 * sleeps), and ITIMER_PROF firing every 10 ms of CPU time, handled.
 * After restore ITIMER_REAL has between 90 and 100 s left (the time the
 * process was away does not count, and it never resets), the same
 * interval, ITIMER_VIRTUAL about 30 s, and ITIMER_PROF still fires while
 * the test burns CPU.
 */
#include <signal.h>
#include <sys/time.h>

#include "zdtmtst.h"

static volatile int profs;

static void on_prof(int sig)
{
	profs++;
}

int main(int argc, char **argv)
{
	struct itimerval real = { .it_interval = { 50, 0 }, .it_value = { 100, 0 } };
	struct itimerval virt = { .it_value = { 30, 0 } };
	struct itimerval prof = { .it_interval = { 0, 10000 }, .it_value = { 0, 10000 } };
	struct itimerval now;
	volatile unsigned long spin;

	test_init(argc, argv);
	signal(SIGPROF, on_prof);
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_VIRTUAL, &virt, NULL) ||
	    setitimer(ITIMER_PROF, &prof, NULL))
		fail_errno("setitimer");

	test_daemon();
	test_waitsig();

	if (getitimer(ITIMER_REAL, &now) || now.it_value.tv_sec < 90 || now.it_value.tv_sec > 100 ||
	    now.it_interval.tv_sec != 50)
		fail("ITIMER_REAL has %ld s left, interval %ld s", (long)now.it_value.tv_sec,
		     (long)now.it_interval.tv_sec);
	if (getitimer(ITIMER_VIRTUAL, &now) || now.it_value.tv_sec < 28 || now.it_value.tv_sec > 30)
		fail("ITIMER_VIRTUAL has %ld s left", (long)now.it_value.tv_sec);
	profs = 0;
	for (spin = 0; spin < 400000000UL && profs < 3; spin++)
		;
	if (profs < 3)
		fail("ITIMER_PROF fired %d times while the test burnt CPU", profs);
	pass();
}
