// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduling policy SCHED_BATCH with SCHED_RESET_ON_FORK, and nice 5:
 * both must read back the same after restore.
 */
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

#include "zdtmtst.h"

#define NICE 5

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 0 };
	int policy, nice;

	test_init(argc, argv);
	if (sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp))
		fail_errno("sched_setscheduler SCHED_BATCH");
	if (setpriority(PRIO_PROCESS, 0, NICE))
		fail_errno("setpriority %d", NICE);

	test_daemon();
	test_waitsig();

	policy = sched_getscheduler(0);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (policy != (SCHED_BATCH | SCHED_RESET_ON_FORK) || nice != NICE)
		fail("policy %#x nice %d, expected %#x and %d", policy, nice, SCHED_BATCH | SCHED_RESET_ON_FORK, NICE);
	pass();
}
