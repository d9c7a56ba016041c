// SPDX-License-Identifier: GPL-2.0
/* zdtm: refused=interval */
/*
 * An armed ITIMER_REAL (alarm). Interval timers are not in the images yet:
 * the dump must be refused and the timer still armed at the check.
 */
#include <sys/time.h>

#include "zdtmtst.h"

int main(int argc, char **argv)
{
	struct itimerval it = { .it_value = { .tv_sec = 100000 } };

	test_init(argc, argv);
	if (setitimer(ITIMER_REAL, &it, NULL))
		fail("setitimer: %m");
	test_daemon();
	test_waitsig();
	if (getitimer(ITIMER_REAL, &it) || !it.it_value.tv_sec)
		fail("ITIMER_REAL is not armed any more");
	pass();
	return 0;
}
