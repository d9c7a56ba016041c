// SPDX-License-Identifier: GPL-2.0
/*
 * Dumped while inside signal handlers running on alternate stacks:
 *  - the main thread is in its SIGUSR1 handler (SA_ONSTACK | SA_SIGINFO,
 *    sa_mask with SIGUSR2) on a 64 KiB sigaltstack when it is dumped and
 *    restored: it waits there for SIGTERM;
 *  - a second thread is in its SIGUSR2 handler on its own sigaltstack
 *    with SS_AUTODISARM (so sigaltstack() says "disabled" inside it, and
 *    the kernel keeps the stack in the frame to arm it again on return).
 * After restore each handler checks that it still runs on its stack and
 * returns; back in the interrupted code, the signal masks are what they
 * were before the signal, the sigaltstacks are armed as before and not
 * in use, and values kept in registers and on the stack across the
 * handler are intact: the handlers returned through their original
 * frames.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

#define ALT_SIZE (64 * 1024)
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* linux/signal.h; glibc does not define it */
#endif

static char main_alt[ALT_SIZE] __attribute__((aligned(16)));
static char thread_alt[ALT_SIZE] __attribute__((aligned(16)));
static volatile int thread_in_handler, thread_go, thread_result = -1;
static volatile int main_in_handler;
static volatile const char *main_problem, *thread_problem;

static int on_stack(const char *alt)
{
	char here;

	return &here > alt && &here < alt + ALT_SIZE;
}

static int mask_has(int sig)
{
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, sig);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	stack_t ss;

	if (!on_stack(main_alt) || sigaltstack(NULL, &ss) || !(ss.ss_flags & SS_ONSTACK))
		main_problem = "the SIGUSR1 handler does not run on the sigaltstack";
	main_in_handler = 1;
	test_daemon();
	test_waitsig();
	/* after restore, still in the handler */
	if (!on_stack(main_alt))
		main_problem = "after restore the SIGUSR1 handler is not on the sigaltstack";
	else if (!mask_has(SIGUSR1) || !mask_has(SIGUSR2))
		main_problem = "inside the SIGUSR1 handler SIGUSR1 or SIGUSR2 (sa_mask) is not blocked";
}

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	stack_t ss;

	if (!on_stack(thread_alt) || sigaltstack(NULL, &ss) || ss.ss_flags != SS_DISABLE)
		thread_problem = "the SIGUSR2 handler is not on its SS_AUTODISARM stack";
	thread_in_handler = 1;
	while (!thread_go)
		usleep(1000);
	if (!on_stack(thread_alt) || sigaltstack(NULL, &ss) || ss.ss_flags != SS_DISABLE)
		thread_problem = "after restore the SIGUSR2 handler is not on its disarmed stack";
}

static const char *check_stack(const char *alt, int flags)
{
	stack_t ss;

	if (sigaltstack(NULL, &ss))
		return "sigaltstack failed";
	if (ss.ss_sp != alt || ss.ss_size != ALT_SIZE || ss.ss_flags != flags)
		return "the sigaltstack is not armed as before";
	return NULL;
}

static void *thread_fn(void *arg)
{
	stack_t ss = { .ss_sp = thread_alt, .ss_size = ALT_SIZE, .ss_flags = SS_AUTODISARM };
	volatile uint64_t canary = 0x7ead5afe;

	if (sigaltstack(&ss, NULL))
		return NULL;
	pthread_kill(pthread_self(), SIGUSR2);
	/* back from the handler */
	if (canary != 0x7ead5afe)
		thread_problem = "the thread's stack changed across the handler";
	else if (mask_has(SIGUSR2))
		thread_problem = "SIGUSR2 is still blocked after its handler returned";
	else if (!thread_problem)
		thread_problem = check_stack(thread_alt, SS_AUTODISARM);
	thread_result = !thread_problem;
	return NULL;
}

int main(int argc, char **argv)
{
	stack_t ss = { .ss_sp = main_alt, .ss_size = ALT_SIZE };
	struct sigaction sa;
	volatile uint64_t canary = 0x5eedc0de;
	register uint64_t kept asm("r12") = 0x1234567890abcdefULL;
	pthread_t th;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_sigaction = on_usr1;
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);

	test_sigterm_to_main_thread(true);
	if (pthread_create(&th, NULL, thread_fn, NULL))
		fail("pthread_create");
	test_sigterm_to_main_thread(false);
	while (!thread_in_handler)
		usleep(1000);
	if (sigaltstack(&ss, NULL))
		fail_errno("sigaltstack");

	asm volatile("" : "+r"(kept));
	raise(SIGUSR1); /* test_daemon() and test_waitsig() run in the handler */
	asm volatile("" : "+r"(kept));

	thread_go = 1;
	pthread_join(th, NULL);
	if (!main_in_handler)
		fail("the SIGUSR1 handler never ran");
	if (main_problem)
		fail("%s", main_problem);
	if (thread_result != 1)
		fail("thread: %s", thread_problem ? thread_problem : "did not finish");
	if (kept != 0x1234567890abcdefULL || canary != 0x5eedc0de)
		fail("r12 or the stack changed across the handler");
	if (mask_has(SIGUSR1) || mask_has(SIGUSR2))
		fail("SIGUSR1 or SIGUSR2 still blocked after the handler returned");
	if ((main_problem = check_stack(main_alt, 0)))
		fail("%s", main_problem);
	pass();
}
