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
 *  - id C: CLOCK_BOOTTIME, SIGEV_NONE, disarmed;
 *  - id D: CLOCK_MONOTONIC, SIGRTMIN+5 (blocked) with value 0x77, fired
 *    once before the dump: its signal is pending, and after restore comes
 *    with SI_TIMER, D's id and the value;
 *  - E: glibc's SIGEV_THREAD, a function run every 20 ms on glibc's timer
 *    helper thread (a SIGEV_THREAD_ID timer to that thread): it must go
 *    on being called after restore;
 *  - F: CLOCK_PROCESS_CPUTIME_ID, 100 s of CPU time left: after restore
 *    still between 90 and 100 s (the test hardly uses any CPU).
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

static volatile int e_calls;

static void on_e(union sigval v)
{
	if (v.sival_int == 0xe)
		e_calls++;
}

static void check_e_called(void)
{
	int before = e_calls, i;

	for (i = 0; i < 100 && e_calls - before < 5; i++)
		usleep(10000);
	if (e_calls - before < 5)
		fail("the SIGEV_THREAD timer's function ran %d times in 1 s", e_calls - before);
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
	struct itimerspec d_its = { .it_value = { 0, 1000000 } };
	struct timespec zero = { 0, 0 };
	struct itimerspec f_its = { .it_value = { 100, 0 } };
	timer_t a, gap, c, d, e, f;
	struct sigevent e_ev;
	siginfo_t si;
	struct itimerspec its;
	pthread_t th;
	sigset_t set;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 3);
	sigaddset(&set, SIGRTMIN + 4);
	sigaddset(&set, SIGRTMIN + 5);
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
	d = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 5, 0x77, 0);
	timer_delete(gap);
	if (timer_settime(a, 0, &a_its, NULL) || timer_settime(timer_b, 0, &b_its, NULL) ||
	    timer_settime(d, 0, &d_its, NULL))
		fail_errno("timer_settime");
	memset(&e_ev, 0, sizeof(e_ev));
	e_ev.sigev_notify = SIGEV_THREAD;
	e_ev.sigev_notify_function = on_e;
	e_ev.sigev_value.sival_int = 0xe;
	if (timer_create(CLOCK_MONOTONIC, &e_ev, &e) || timer_settime(e, 0, &b_its, NULL))
		fail_errno("timer_create(SIGEV_THREAD)");
	check_e_called();
	f = make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGRTMIN + 3, 0xf, 0);
	if (timer_settime(f, 0, &f_its, NULL))
		fail_errno("timer_settime(F)");
	do {
		usleep(1000);
		sigpending(&set);
	} while (!sigismember(&set, SIGRTMIN + 5));
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
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 5);
	memset(&si, 0, sizeof(si));
	if (sigtimedwait(&set, &si, &zero) != SIGRTMIN + 5)
		fail("timer D's signal is not pending");
	if (si.si_code != SI_TIMER || si.si_timerid != (int)(long)d || si.si_value.sival_int != 0x77)
		fail("timer D's signal: code %d timer %d value 0x%x", si.si_code, si.si_timerid, si.si_value.sival_int);
	if (sigtimedwait(&set, &si, &zero) > 0)
		fail("timer D's signal is pending twice");
	check_ticking();
	check_e_called();
	if (timer_gettime(f, &its) || its.it_value.tv_sec < 90 || its.it_value.tv_sec >= 100)
		fail("timer F (CPU time) has %ld s left", (long)its.it_value.tv_sec);
	if (timer_gettime(c, &its) || its.it_value.tv_sec || its.it_value.tv_nsec)
		fail("timer C (id %ld) is missing or armed", (long)c);
	pass();
}
