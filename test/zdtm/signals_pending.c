// SPDX-License-Identifier: GPL-2.0
/*
 * Pending signals, kept with their siginfo and order:
 *  - SIGUSR2 queued to the process with sigqueue() (SI_QUEUE, si_value
 *    0x5eed, our pid and uid);
 *  - SIGRTMIN+2 queued twice with values 1 and 2, and SIGRTMIN+5 once
 *    with 3 (real-time: every instance kept, in order);
 *  - SIGUSR1 sent to the process with kill() (SI_USER), and SIGRTMIN+6
 *    queued for the main thread alone (rt_tgsigqueueinfo, value 9);
 *  - a second thread with SIGRTMIN+1 queued for it alone
 *    (rt_tgsigqueueinfo, value 7).
 * Everything is blocked. After restore sigtimedwait() must give them back
 * with the same fields and order, and nothing more; the second thread
 * checks its own.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile int thread_result = -1, thread_go;
static pid_t thread_tid;

static int next(const sigset_t *set, siginfo_t *si)
{
	struct timespec zero = { 0, 0 };

	return sigtimedwait(set, si, &zero);
}

static void *thread_fn(void *arg)
{
	sigset_t set;
	siginfo_t si;

	thread_tid = syscall(SYS_gettid);
	while (!thread_go)
		usleep(1000);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	thread_result = next(&set, &si) == SIGRTMIN + 1 && si.si_code == SI_QUEUE && si.si_value.sival_int == 7 &&
			next(&set, &si) < 0;
	return NULL;
}

static void expect(const sigset_t *set, int sig, int code, int value)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (next(set, &si) != sig)
		fail("expected signal %d, got %d", sig, si.si_signo);
	if (si.si_code != code || si.si_pid != getpid() || si.si_uid != getuid())
		fail("signal %d: code %d pid %d uid %d, expected code %d pid %d", sig, si.si_code, si.si_pid, si.si_uid,
		     code, getpid());
	if (code == SI_QUEUE && si.si_value.sival_int != value)
		fail("signal %d: value %d, expected %d", sig, si.si_value.sival_int, value);
}

int main(int argc, char **argv)
{
	union sigval v;
	sigset_t all, set;
	siginfo_t si;
	pthread_t th;

	test_init(argc, argv);
	sigfillset(&all);
	sigdelset(&all, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (pthread_create(&th, NULL, thread_fn, NULL))
		fail("pthread_create");
	while (!thread_tid)
		usleep(1000);
	v.sival_int = 0x5eed;
	sigqueue(getpid(), SIGUSR2, v);
	v.sival_int = 1;
	sigqueue(getpid(), SIGRTMIN + 2, v);
	v.sival_int = 2;
	sigqueue(getpid(), SIGRTMIN + 2, v);
	v.sival_int = 3;
	sigqueue(getpid(), SIGRTMIN + 5, v);
	kill(getpid(), SIGUSR1);
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGRTMIN + 6;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 9;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), SIGRTMIN + 6, &si))
		fail_errno("rt_tgsigqueueinfo");
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGRTMIN + 1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 7;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), thread_tid, SIGRTMIN + 1, &si))
		fail_errno("rt_tgsigqueueinfo");

	test_daemon();
	test_waitsig();

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	expect(&set, SIGUSR1, SI_USER, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 6);
	expect(&set, SIGRTMIN + 6, SI_QUEUE, 9);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	expect(&set, SIGUSR2, SI_QUEUE, 0x5eed);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	sigaddset(&set, SIGRTMIN + 5);
	expect(&set, SIGRTMIN + 2, SI_QUEUE, 1);
	expect(&set, SIGRTMIN + 2, SI_QUEUE, 2);
	expect(&set, SIGRTMIN + 5, SI_QUEUE, 3);
	if (next(&all, &si) > 0)
		fail("an extra signal %d was pending", si.si_signo);
	thread_go = 1;
	pthread_join(th, NULL);
	if (thread_result != 1)
		fail("the thread did not find its own SIGRTMIN+1 (value 7), alone");
	pass();
}
