// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits lowered to distinctive values (NOFILE 200/300, STACK
 * 4/16 MiB, CORE, NPROC, CPU, MEMLOCK, MSGQUEUE, FSIZE, DATA, AS, LOCKS,
 * SIGPENDING, RTTIME) must all read back the same after restore. Every
 * limit is compared, the 16 of them, and every difference reported.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "zdtmtst.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static const struct {
	int res;
	const char *name;
	rlim_t cur, max;
} lowered[] = {
	{ RLIMIT_NOFILE, "NOFILE", 200, 300 },
	{ RLIMIT_STACK, "STACK", 4 * MIB, 16 * MIB },
	{ RLIMIT_CORE, "CORE", 4096, 2 * MIB },
	{ RLIMIT_NPROC, "NPROC", 500, 600 },
	{ RLIMIT_CPU, "CPU", 1000, 2000 },
	{ RLIMIT_MEMLOCK, "MEMLOCK", 65536, 131072 },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", 4096, 8192 },
	{ RLIMIT_FSIZE, "FSIZE", GIB, 2 * GIB },
	{ RLIMIT_DATA, "DATA", 4 * GIB, 8 * GIB },
	{ RLIMIT_AS, "AS", 16 * GIB, 32 * GIB },
	{ RLIMIT_LOCKS, "LOCKS", 100, 200 },
	{ RLIMIT_SIGPENDING, "SIGPENDING", 50, 60 },
	{ RLIMIT_RTTIME, "RTTIME", 1000000, 2000000 },
};

#define NR_LIMITS 16

int main(int argc, char **argv)
{
	struct rlimit before[NR_LIMITS], now;
	char why[2048] = "";
	size_t i, len;

	test_init(argc, argv);
	for (i = 0; i < sizeof(lowered) / sizeof(lowered[0]); i++) {
		struct rlimit rl = { lowered[i].cur, lowered[i].max };

		if (setrlimit(lowered[i].res, &rl))
			fail_errno("setrlimit %s", lowered[i].name);
	}
	for (i = 0; i < NR_LIMITS; i++)
		if (getrlimit(i, &before[i]))
			fail_errno("getrlimit %zu", i);

	test_daemon();
	test_waitsig();

	for (i = 0; i < NR_LIMITS; i++) {
		if (getrlimit(i, &now))
			fail_errno("getrlimit %zu", i);
		if (now.rlim_cur == before[i].rlim_cur && now.rlim_max == before[i].rlim_max)
			continue;
		len = strlen(why);
		snprintf(why + len, sizeof(why) - len, "resource %zu: %llu/%llu -> %llu/%llu; ", i,
			 (unsigned long long)before[i].rlim_cur, (unsigned long long)before[i].rlim_max,
			 (unsigned long long)now.rlim_cur, (unsigned long long)now.rlim_max);
	}
	if (why[0])
		fail("limits changed: %s", why);
	pass();
}
