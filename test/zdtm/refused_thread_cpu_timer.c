// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=CPU time of the thread */
/*
 * A CLOCK_THREAD_CPUTIME_ID POSIX timer in a process with two threads:
 * the kernel does not say which thread's CPU time it counts, so the dump
 * must be refused, and the timer still armed at the check.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static void *idle(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	struct itimerspec its = { .it_value = { .tv_sec = 1000 } };
	timer_t timer;
	pthread_t th;

	test_init(argc, argv);
	signal(SIGUSR2, SIG_IGN);
	test_sigterm_to_main_thread(true);
	if (pthread_create(&th, NULL, idle, NULL))
		fail("pthread_create");
	test_sigterm_to_main_thread(false);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &timer) || timer_settime(timer, 0, &its, NULL))
		fail_errno("timer_create");
	test_daemon();
	test_waitsig();
	if (timer_gettime(timer, &its) || !its.it_value.tv_sec)
		fail("the timer is not armed any more");
	pass();
}
