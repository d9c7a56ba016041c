// SPDX-License-Identifier: GPL-2.0
/*
 * Signal dispositions and the blocked mask:
 *   SIGUSR1      SA_SIGINFO|SA_RESTART, mask {SIGUSR2, SIGINT}
 *   SIGUSR2      SA_RESETHAND|SA_NODEFER
 *   SIGRTMIN+3   SA_SIGINFO|SA_ONSTACK, mask {SIGRTMIN+5, SIGWINCH}
 *   SIGALRM      SA_RESTART, empty mask
 *   SIGHUP, SIGPIPE  ignored
 *   blocked:     SIGWINCH, SIGRTMIN+7
 * After restore sigaction(sig, NULL, &old) must give the same handler,
 * flags, restorer and mask for every signal, the blocked mask must be the
 * same, and raising the signals must run the handlers (SIGUSR1 with its
 * siginfo and its mask in effect; SIGUSR2 resets itself to SIG_DFL).
 *
 * The test waits in its own sleep loop: test_waitsig() uses sigsuspend,
 * which sets the mask itself and would hide a lost blocked mask.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static volatile sig_atomic_t usr1_count, usr2_count, rt_count, alrm_count;
static volatile sig_atomic_t usr1_bad;

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	usr1_count++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (sig != SIGUSR1 || si->si_signo != SIGUSR1 || si->si_pid != getpid())
		usr1_bad = 1;
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&cur, SIGINT) || !sigismember(&cur, SIGUSR1))
		usr1_bad = 2;
}

static void usr2_handler(int sig)
{
	usr2_count++;
}

static void rt_handler(int sig, siginfo_t *si, void *uc)
{
	if (sig == SIGRTMIN + 3 && si->si_signo == sig)
		rt_count++;
}

static void alrm_handler(int sig)
{
	alrm_count++;
}

static void install(int sig, void *handler, int flags, int m1, int m2)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (m1)
		sigaddset(&sa.sa_mask, m1);
	if (m2)
		sigaddset(&sa.sa_mask, m2);
	sa.sa_flags = flags;
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = handler;
	else
		sa.sa_handler = handler;
	if (sigaction(sig, &sa, NULL))
		fail_errno("sigaction %d", sig);
}

static struct sigaction before[NSIG];

/* Signals sigaction() works on: not KILL/STOP nor glibc's internal ones. */
static int usable(int sig)
{
	return sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig >= SIGRTMIN);
}

static int same_action(const struct sigaction *a, const struct sigaction *b, char *why, size_t size)
{
	int s;

	if (a->sa_handler != b->sa_handler) {
		snprintf(why, size, "handler %p, expected %p", (void *)a->sa_handler, (void *)b->sa_handler);
		return 0;
	}
	if (a->sa_flags != b->sa_flags) {
		snprintf(why, size, "flags %#x, expected %#x", a->sa_flags, b->sa_flags);
		return 0;
	}
	if (a->sa_restorer != b->sa_restorer) {
		snprintf(why, size, "restorer %p, expected %p", (void *)a->sa_restorer, (void *)b->sa_restorer);
		return 0;
	}
	for (s = 1; s < NSIG; s++) {
		if (sigismember(&a->sa_mask, s) != sigismember(&b->sa_mask, s)) {
			snprintf(why, size, "signal %d %s the mask", s,
				 sigismember(&a->sa_mask, s) ? "added to" : "missing from");
			return 0;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	sigset_t block, mask_before, mask_after;
	struct sigaction now;
	char why[128];
	int sig;

	test_init(argc, argv);

	install(SIGUSR1, usr1_handler, SA_SIGINFO | SA_RESTART, SIGUSR2, SIGINT);
	install(SIGUSR2, usr2_handler, SA_RESETHAND | SA_NODEFER, 0, 0);
	install(SIGRTMIN + 3, rt_handler, SA_SIGINFO | SA_ONSTACK, SIGRTMIN + 5, SIGWINCH);
	install(SIGALRM, alrm_handler, SA_RESTART, 0, 0);
	install(SIGHUP, SIG_IGN, 0, 0, 0);
	install(SIGPIPE, SIG_IGN, 0, 0, 0);

	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGRTMIN + 7);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigprocmask(SIG_BLOCK, NULL, &mask_before);

	for (sig = 1; sig < NSIG; sig++)
		if (usable(sig) && sigaction(sig, NULL, &before[sig]))
			fail_errno("sigaction %d", sig);

	test_daemon();
	while (!test_sigterm)
		nanosleep(&ts, NULL);

	sigprocmask(SIG_BLOCK, NULL, &mask_after);
	for (sig = 1; sig < NSIG; sig++) {
		if (!usable(sig))
			continue;
		if (sigaction(sig, NULL, &now))
			fail_errno("sigaction %d", sig);
		if (!same_action(&now, &before[sig], why, sizeof(why)))
			fail("signal %d (%s): %s", sig, strsignal(sig), why);
		if (sigismember(&mask_after, sig) != sigismember(&mask_before, sig))
			fail("signal %d (%s) is %s blocked", sig, strsignal(sig),
			     sigismember(&mask_after, sig) ? "now" : "no longer");
	}

	raise(SIGUSR1);
	if (usr1_count != 1 || usr1_bad)
		fail("SIGUSR1 handler: ran %d times, check %d", usr1_count, usr1_bad);
	raise(SIGUSR2);
	if (usr2_count != 1)
		fail("SIGUSR2 handler ran %d times", usr2_count);
	if (sigaction(SIGUSR2, NULL, &now) || now.sa_handler != SIG_DFL)
		fail("SA_RESETHAND did not reset SIGUSR2");
	raise(SIGRTMIN + 3);
	if (rt_count != 1)
		fail("SIGRTMIN+3 handler ran %d times", rt_count);
	raise(SIGALRM);
	if (alrm_count != 1)
		fail("SIGALRM handler ran %d times", alrm_count);
	raise(SIGHUP);
	raise(SIGPIPE);
	pass();
}
