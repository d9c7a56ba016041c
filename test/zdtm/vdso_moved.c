// SPDX-License-Identifier: GPL-2.0
/*
 * The vDSO moved: [vvar], [vvar_vclock] and [vdso] are moved together
 * (mremap, same distances between them, since the vDSO code finds its data
 * by relative address) to a new place. The test finds __vdso_clock_gettime
 * and __vdso_gettimeofday in the moved vDSO's dynamic symbol table and
 * calls them there, and its getcpu and getrandom (where present). After
 * restore the three areas must be at the moved addresses, the moved vDSO's
 * clock_gettime (CLOCK_MONOTONIC, CLOCK_REALTIME) and gettimeofday must
 * agree with the system calls, getcpu must name a CPU that exists and
 * getrandom must fill a buffer.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vdso_sym.h"
#include "zdtmtst.h"

#define MAX_AREAS 3

struct area {
	unsigned long start, end;
	char name[32];
};

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef long (*getcpu_fn)(unsigned int *, unsigned int *, void *);
typedef long (*getrandom_fn)(void *, size_t, unsigned int, void *, size_t);

static getcpu_fn vdso_getcpu;
static getrandom_fn vdso_getrandom; /* kernel 6.11 and newer */

/* getcpu gives a CPU that exists; getrandom (no state: the vDSO falls back to the system call) fills a buffer. */
static void check_cpu_random(const char *when)
{
	unsigned int cpu = ~0U, node = ~0U;
	unsigned char buf[32] = { 0 }, zero[32] = { 0 };
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (vdso_getcpu(&cpu, &node, NULL) || cpu >= (unsigned int)n)
		fail("%s: the moved vDSO's getcpu says cpu %u of %ld", when, cpu, n);
	if (vdso_getrandom &&
	    (vdso_getrandom(buf, sizeof(buf), 0, NULL, 0) != sizeof(buf) || !memcmp(buf, zero, sizeof(buf))))
		fail("%s: the moved vDSO's getrandom gave nothing", when);
}

static int vdso_areas(struct area *a, unsigned long *lo, unsigned long *hi)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	*lo = ~0UL;
	*hi = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char name[64] = "";

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &a[n].start, &a[n].end, name) < 2)
			continue;
		if (strcmp(name, "[vdso]") && strcmp(name, "[vvar]") && strcmp(name, "[vvar_vclock]"))
			continue;
		snprintf(a[n].name, sizeof(a[n].name), "%s", name);
		*lo = a[n].start < *lo ? a[n].start : *lo;
		*hi = a[n].end > *hi ? a[n].end : *hi;
		if (++n == MAX_AREAS)
			break;
	}
	if (f)
		fclose(f);
	return n;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void check_clocks(clock_gettime_fn cg, gettimeofday_fn gtod, const char *when)
{
	static const clockid_t ids[] = { CLOCK_MONOTONIC, CLOCK_REALTIME };
	struct timespec v, s1, s2;
	struct timeval tv;
	size_t i;

	for (i = 0; i < 2; i++) {
		syscall(SYS_clock_gettime, ids[i], &s1);
		if (cg(ids[i], &v))
			fail("%s: the moved vDSO's clock_gettime(%d) failed", when, ids[i]);
		syscall(SYS_clock_gettime, ids[i], &s2);
		if (ns(&v) < ns(&s1) || ns(&v) > ns(&s2))
			fail("%s: clock %d: the moved vDSO says %lld, the system call %lld..%lld", when, ids[i], ns(&v),
			     ns(&s1), ns(&s2));
	}
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &s1);
	if (gtod(&tv, NULL))
		fail("%s: the moved vDSO's gettimeofday failed", when);
	if (tv.tv_sec < s1.tv_sec - 1 || tv.tv_sec > s1.tv_sec + 1)
		fail("%s: gettimeofday says %ld s, the system call %ld s", when, (long)tv.tv_sec, (long)s1.tv_sec);
}

int main(int argc, char **argv)
{
	struct area a[MAX_AREAS], now[MAX_AREAS];
	unsigned long lo, hi, old_lo, to, vdso = 0;
	clock_gettime_fn cg;
	gettimeofday_fn gtod;
	void *hole;
	int n, i, j;

	test_init(argc, argv);
	n = vdso_areas(a, &lo, &hi);
	if (n < 2)
		fail("no [vdso] and [vvar] in /proc/self/maps");
	old_lo = lo;
	/* a free place, far from the old one */
	hole = mmap(NULL, hi - lo + (64 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		fail_errno("mmap");
	to = ((unsigned long)hole + (32 << 20)) & ~0xfffffUL;
	for (i = 0; i < n; i++) {
		unsigned long dst = to + (a[i].start - lo);

		if (mremap((void *)a[i].start, a[i].end - a[i].start, a[i].end - a[i].start,
			   MREMAP_MAYMOVE | MREMAP_FIXED, (void *)dst) == MAP_FAILED)
			fail_errno("mremap %s", a[i].name);
		if (!strcmp(a[i].name, "[vdso]"))
			vdso = dst;
	}
	cg = (clock_gettime_fn)vdso_sym(vdso, "__vdso_clock_gettime");
	gtod = (gettimeofday_fn)vdso_sym(vdso, "__vdso_gettimeofday");
	vdso_getcpu = (getcpu_fn)vdso_sym(vdso, "__vdso_getcpu");
	vdso_getrandom = (getrandom_fn)vdso_sym(vdso, "__vdso_getrandom");
	if (!cg || !gtod || !vdso_getcpu)
		fail("no __vdso_clock_gettime, __vdso_gettimeofday or __vdso_getcpu in the vDSO");
	check_clocks(cg, gtod, "before the dump");
	check_cpu_random("before the dump");

	test_daemon();
	while (!test_sigterm)
		usleep(1000);

	if (vdso_areas(now, &lo, &hi) != n)
		fail("the vDSO areas are not all there after restore");
	for (i = 0; i < n; i++) {
		unsigned long want = to + (a[i].start - old_lo);

		for (j = 0; j < n && strcmp(now[j].name, a[i].name); j++)
			;
		if (j == n || now[j].start != want || now[j].end - now[j].start != a[i].end - a[i].start)
			fail("%s is at 0x%lx after restore, it was moved to 0x%lx", a[i].name, j < n ? now[j].start : 0,
			     want);
	}
	check_clocks(cg, gtod, "after restore");
	check_cpu_random("after restore");
	pass();
}
