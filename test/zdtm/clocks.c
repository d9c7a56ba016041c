// SPDX-License-Identifier: GPL-2.0
/*
 * Time seen by the process: CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW and
 * CLOCK_BOOTTIME are read every millisecond from before the dump until
 * after the restore; no reading may be behind the one before it (on the
 * same machine, without a time namespace, the clocks are the machine's).
 * After restore the vDSO (clock_gettime) and the system call must agree.
 */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME };
#define NR_CLOCKS (sizeof(clocks) / sizeof(clocks[0]))

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static long long last[NR_CLOCKS];

static void read_clocks(void)
{
	struct timespec t;
	size_t i;

	for (i = 0; i < NR_CLOCKS; i++) {
		clock_gettime(clocks[i], &t);
		if (ns(&t) < last[i])
			fail("clock %d went back by %lld ns", clocks[i], last[i] - ns(&t));
		last[i] = ns(&t);
	}
}

int main(int argc, char **argv)
{
	struct timespec vdso, sys;
	size_t i;

	test_init(argc, argv);
	test_daemon();
	while (!test_sigterm) {
		read_clocks();
		usleep(1000);
	}
	read_clocks();
	for (i = 0; i < NR_CLOCKS; i++) {
		clock_gettime(clocks[i], &vdso);
		if (syscall(SYS_clock_gettime, clocks[i], &sys))
			fail_errno("clock_gettime(%d)", clocks[i]);
		if (ns(&sys) < ns(&vdso) || ns(&sys) - ns(&vdso) > 100000000LL)
			fail("clock %d: the vDSO says %lld, the system call %lld", clocks[i], ns(&vdso), ns(&sys));
	}
	pass();
}
