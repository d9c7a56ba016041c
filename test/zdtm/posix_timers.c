// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX timers, with the same ids after restore:
 *  - id A: CLOCK_MONOTONIC, SIGRTMIN+3 with sigev_value 0xabc, 100 s left
 *    and a 50 s interval; after restore between 90 and 100 s are left
 *    (the time away does not count, the timer never resets);
 *  - a deleted timer between A and B, so the ids have a gap;
 *  - id B: CLOCK_REALTIME, SIGEV_THREAD_ID to a second thread, SIGRTMIN+4
 *    with value 0xdef, firing every 20 ms: the thread takes the signals
 *    with sigwaitinfo() and checks their fields; after restore it must
 *    still get them, from timer B;
 *  - id C: CLOCK_BOOTTIME, SIGEV_NONE, disarmed.
 * /proc/self/timers must read the same before and after.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static timer_t timer_b;
static volatile int ticks, bad_ticks, thread_tid;

static void *ticker(void *arg)
{
	sigset_t set;
	siginfo_t si;

	thread_tid = syscall(SYS_gettid);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 4);
	for (;;) {
		if (sigwaitinfo(&set, &si) != SIGRTMIN + 4)
			continue;
		if (si.si_code != SI_TIMER || si.si_value.sival_int != 0xdef || si.si_timerid != (int)(long)timer_b)
			bad_ticks++;
		ticks++;
	}
	return NULL;
}

static timer_t make_timer(clockid_t clock, int notify, int sig, int value, int tid)
{
	struct sigevent ev;
	timer_t t;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = notify;
	ev.sigev_signo = sig;
	ev.sigev_value.sival_int = value;
	ev._sigev_un._tid = tid;
	if (timer_create(clock, &ev, &t))
		fail_errno("timer_create");
	return t;
}

static void check_a(timer_t a)
{
	struct itimerspec its;

	if (timer_gettime(a, &its))
		fail_errno("timer_gettime of timer A (id %ld)", (long)a);
	if (its.it_value.tv_sec < 90 || its.it_value.tv_sec >= 100 || its.it_interval.tv_sec != 50 ||
	    its.it_interval.tv_nsec)
		fail("timer A: %ld s left, interval %ld s %ld ns", (long)its.it_value.tv_sec,
		     (long)its.it_interval.tv_sec, its.it_interval.tv_nsec);
}

static void check_ticking(void)
{
	int before = ticks, i;

	for (i = 0; i < 100 && ticks - before < 5; i++)
		usleep(10000);
	if (ticks - before < 5)
		fail("timer B ticked %d times in 1 s", ticks - before);
	if (bad_ticks)
		fail("%d signals of timer B came with wrong fields", bad_ticks);
}

int main(int argc, char **argv)
{
	struct itimerspec a_its = { .it_interval = { 50, 0 }, .it_value = { 100, 0 } };
	struct itimerspec b_its = { .it_interval = { 0, 20000000 }, .it_value = { 0, 20000000 } };
	char before[4096], after[4096];
	timer_t a, gap, c;
	struct itimerspec its;
	pthread_t th;
	sigset_t set;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	sigaddset(&set, SIGRTMIN + 4);
	sigprocmask(SIG_BLOCK, &set, NULL);
	test_sigterm_to_main_thread(true);
	if (pthread_create(&th, NULL, ticker, NULL))
		fail("pthread_create");
	test_sigterm_to_main_thread(false);
	while (!thread_tid)
		usleep(1000);

	a = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 3, 0xabc, 0);
	gap = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 3, 0, 0);
	timer_b = make_timer(CLOCK_REALTIME, SIGEV_THREAD_ID, SIGRTMIN + 4, 0xdef, thread_tid);
	c = make_timer(CLOCK_BOOTTIME, SIGEV_NONE, 0, 0, 0);
	timer_delete(gap);
	if (timer_settime(a, 0, &a_its, NULL) || timer_settime(timer_b, 0, &b_its, NULL))
		fail_errno("timer_settime");
	check_ticking();
	if (read_file("/proc/self/timers", before, sizeof(before)) < 0)
		fail_errno("reading /proc/self/timers");

	test_daemon();
	test_waitsig();

	if (read_file("/proc/self/timers", after, sizeof(after)) < 0)
		fail_errno("reading /proc/self/timers");
	if (strcmp(before, after))
		fail("/proc/self/timers changed:\n%s\n---\n%s", before, after);
	check_a(a);
	check_ticking();
	if (timer_gettime(c, &its) || its.it_value.tv_sec || its.it_value.tv_nsec)
		fail("timer C (id %ld) is missing or armed", (long)c);
	pass();
}
