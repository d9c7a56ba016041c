// SPDX-License-Identifier: GPL-2.0
/*
 * glibc registers an rseq area in every thread; after restore it must be
 * registered again, at the same address with the same signature:
 * registering glibc's area once more must fail with EBUSY ("already
 * registered"); success means it was not registered. The kernel must also
 * keep its cpu_id up to date: pinned to each allowed CPU in turn, the
 * area must show that CPU.
 */
#include <errno.h>
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

static struct rseq *glibc_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* 0: registered (EBUSY); otherwise why not. */
static const char *check_registered(void)
{
	long ret;

	ret = syscall(__NR_rseq, glibc_rseq(), __rseq_size, 0, RSEQ_SIG);
	/* glibc may report a feature size smaller than the registered one. */
	if (ret && errno == EINVAL)
		ret = syscall(__NR_rseq, glibc_rseq(), 32, 0, RSEQ_SIG);
	if (ret == 0)
		return "rseq() registered glibc's area anew: it was not registered";
	if (errno != EBUSY)
		return "rseq() failed with an error other than EBUSY";
	return NULL;
}

static void check_cpu_ids(void)
{
	cpu_set_t allowed, one;
	int cpu, seen = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		fail_errno("sched_getaffinity");
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			fail_errno("sched_setaffinity %d", cpu);
		sched_yield();
		if (glibc_rseq()->cpu_id != (uint32_t)cpu)
			fail("pinned to CPU %d, the rseq area says cpu_id %d", cpu, (int)glibc_rseq()->cpu_id);
		seen++;
	}
	if (sched_setaffinity(0, sizeof(allowed), &allowed))
		fail_errno("sched_setaffinity");
	test_msg("cpu_id followed %d CPUs", seen);
}

int main(int argc, char **argv)
{
	const char *why;

	test_init(argc, argv);
	if (!__rseq_size)
		fail("glibc registered no rseq area (GLIBC_TUNABLES=glibc.pthread.rseq=0?)");
	why = check_registered();
	if (why)
		fail("before dump: %s", why);

	test_daemon();
	test_waitsig();

	why = check_registered();
	if (why)
		fail("after restore: %s", why);
	check_cpu_ids();
	pass();
}
