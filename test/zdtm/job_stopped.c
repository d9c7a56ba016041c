// SPDX-License-Identifier: GPL-2.0
/* zdtm: stopped=1 */
/*
 * A process in a job-control stop (SIGSTOP, as Ctrl-Z would) is dumped and
 * comes back stopped; the harness checks its state, then continues it.
 * criu wakes the task under ptrace to dump it: that SIGCONT must never
 * reach the task, so its SIGCONT handler runs exactly once, for the
 * harness's own SIGCONT. A counting loop shows it runs again afterwards.
 */
#include <signal.h>
#include <string.h>

#include "zdtmtst.h"

static volatile sig_atomic_t conts;

static void on_cont(int sig)
{
	conts++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	volatile unsigned long counter = 0, seen;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cont;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGCONT, &sa, NULL))
		fail("sigaction: %m");
	test_daemon();
	while (!test_sigterm)
		counter++;
	seen = counter;
	if (conts != 1)
		fail("SIGCONT handler ran %d times, expected once (the harness's)", (int)conts);
	if (!seen)
		fail("the loop never ran");
	pass();
	return 0;
}
