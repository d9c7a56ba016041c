// SPDX-License-Identifier: GPL-2.0
/*
 * Calls into the vDSO keep working across a restore, even onto a vDSO that
 * is not the one the process had (neg_vdso_proxy restores it so): glibc's
 * clock_gettime, gettimeofday, time and sched_getcpu (which resolved their
 * vDSO functions once, at start), and the vDSO's __vdso_clock_gettime and
 * __vdso_gettimeofday called through pointers the test looked up itself in
 * the vDSO at start. Each must agree with the system call. After restore
 * /proc/self/auxv's AT_SYSINFO_EHDR must name the [vdso] of the maps, and
 * if that moved, the old place must still hold executable memory.
 */
#include <elf.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vdso_sym.h"
#include "zdtmtst.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void check_clock(const char *what, clock_gettime_fn cg, clockid_t id)
{
	struct timespec a, v, b;

	syscall(SYS_clock_gettime, id, &a);
	if (cg(id, &v))
		fail("%s(%d) failed", what, id);
	syscall(SYS_clock_gettime, id, &b);
	if (ns(&v) < ns(&a) || ns(&v) > ns(&b))
		fail("%s(%d) says %lld, the system call %lld..%lld", what, id, ns(&v), ns(&a), ns(&b));
}

static void check_all(clock_gettime_fn vdso_cg, gettimeofday_fn vdso_gtod, const char *when)
{
	struct timespec s;
	struct timeval tv;
	unsigned int cpu;
	time_t t;

	check_clock("clock_gettime", clock_gettime, CLOCK_MONOTONIC);
	check_clock("clock_gettime", clock_gettime, CLOCK_REALTIME);
	check_clock("__vdso_clock_gettime", vdso_cg, CLOCK_MONOTONIC);
	check_clock("__vdso_clock_gettime", vdso_cg, CLOCK_BOOTTIME);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &s);
	if (gettimeofday(&tv, NULL) || tv.tv_sec < s.tv_sec || tv.tv_sec > s.tv_sec + 1)
		fail("%s: gettimeofday says %ld, the system call %ld", when, (long)tv.tv_sec, (long)s.tv_sec);
	if (vdso_gtod(&tv, NULL) || tv.tv_sec < s.tv_sec || tv.tv_sec > s.tv_sec + 1)
		fail("%s: __vdso_gettimeofday says %ld, the system call %ld", when, (long)tv.tv_sec, (long)s.tv_sec);
	t = time(NULL);
	if (t < s.tv_sec || t > s.tv_sec + 1)
		fail("%s: time() says %ld, the system call %ld", when, (long)t, (long)s.tv_sec);
	if (sched_getcpu() < 0 || syscall(SYS_getcpu, &cpu, NULL, NULL))
		fail("%s: sched_getcpu failed", when);
}

/* [vdso]'s start and whether addr is in executable memory, from the maps. */
static unsigned long maps_vdso(unsigned long addr, int *addr_exec)
{
	char line[512];
	unsigned long s, e, vdso = 0;
	char perms[5];
	FILE *f = fopen("/proc/self/maps", "r");

	*addr_exec = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &s, &e, perms) != 3)
			continue;
		if (strstr(line, "[vdso]"))
			vdso = s;
		if (addr >= s && addr < e && perms[2] == 'x')
			*addr_exec = 1;
	}
	if (f)
		fclose(f);
	return vdso;
}

static unsigned long auxv_vdso(void)
{
	unsigned long v[2];
	FILE *f = fopen("/proc/self/auxv", "r");
	unsigned long found = 0;

	while (f && fread(v, sizeof(v), 1, f) == 1 && v[0])
		if (v[0] == AT_SYSINFO_EHDR)
			found = v[1];
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	unsigned long old = getauxval(AT_SYSINFO_EHDR), now;
	clock_gettime_fn cg;
	gettimeofday_fn gtod;
	int old_exec;

	test_init(argc, argv);
	cg = (clock_gettime_fn)vdso_sym(old, "__vdso_clock_gettime");
	gtod = (gettimeofday_fn)vdso_sym(old, "__vdso_gettimeofday");
	if (!cg || !gtod)
		fail("no __vdso_clock_gettime or __vdso_gettimeofday");
	check_all(cg, gtod, "before the dump");

	test_daemon();
	while (!test_sigterm)
		usleep(1000);

	check_all(cg, gtod, "after restore");
	now = maps_vdso(old, &old_exec);
	if (!now || auxv_vdso() != now)
		fail("/proc/self/auxv says the vDSO is at 0x%lx, the maps 0x%lx", auxv_vdso(), now);
	if (now != old && !old_exec)
		fail("the vDSO moved from 0x%lx to 0x%lx and nothing executable is left at the old place", old, now);
	pass();
}
