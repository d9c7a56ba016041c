// SPDX-License-Identifier: GPL-2.0
/*
 * mlock()ed memory comes back locked, with its content: the area's smaps
 * VmFlags still say "lo" and VmLck in /proc/self/status is unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 16

/* Is the VMA starting at addr locked, by its smaps VmFlags? -1: not found. */
static int vma_locked(void *addr)
{
	char line[512];
	int in_vma = 0, ret = -1;
	unsigned long start, end;
	char perms[8];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			in_vma = start == (unsigned long)addr;
			continue;
		}
		if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			ret = strstr(line, " lo") != NULL;
			break;
		}
	}
	fclose(f);
	return ret;
}

static long vm_lck_kb(void)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "VmLck:");
	return p ? atol(p + 6) : -1;
}

int main(int argc, char **argv)
{
	unsigned char *mem;
	long lck_before, lck_after;
	size_t i;

	test_init(argc, argv);
	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap: %m");
	for (i = 0; i < NR_PAGES * PAGE; i++)
		mem[i] = (unsigned char)(i * 7 + 3);
	if (mlock(mem, NR_PAGES * PAGE))
		fail("mlock: %m");
	if (vma_locked(mem) != 1)
		fail("the area is not locked before the dump");
	lck_before = vm_lck_kb();

	test_daemon();
	test_waitsig();

	if (vma_locked(mem) != 1)
		fail("the area is not locked any more (VmFlags without lo)");
	lck_after = vm_lck_kb();
	if (lck_after != lck_before)
		fail("VmLck is %ld kB, was %ld kB", lck_after, lck_before);
	for (i = 0; i < NR_PAGES * PAGE; i++)
		if (mem[i] != (unsigned char)(i * 7 + 3))
			fail("byte %zu lost its value", i);
	pass();
	return 0;
}
