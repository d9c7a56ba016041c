// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=pending */
/*
 * A blocked SIGUSR1 raised and left pending. Pending signals are not in the
 * images yet, so the dump must be refused (neg_dump_refused runs it) and
 * the process go on as it was: the signal is still pending at its check.
 */
#include <signal.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	sigset_t set, pending;

	test_init(argc, argv);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || raise(SIGUSR1))
		fail("can't leave SIGUSR1 pending: %m");
	test_daemon();
	test_waitsig();
	if (sigpending(&pending) || !sigismember(&pending, SIGUSR1))
		fail("SIGUSR1 is not pending any more");
	pass();
	return 0;
}
