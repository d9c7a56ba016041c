// SPDX-License-Identifier: GPL-2.0
/*
 * A private anonymous area written, then partly made read-only: of 16
 * pages, 4..11 are mprotect'ed PROT_READ, splitting the area in three.
 * After restore every page has its data, writes to pages 4..11 fault and
 * writes to the others do not.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 16
#define RO_FIRST 4
#define RO_LAST 11

static int is_ro(int page)
{
	return page >= RO_FIRST && page <= RO_LAST;
}

/* The permissions of the maps line that contains addr, e.g. "r--p". */
static void maps_perms(void *addr, char *perms)
{
	static char maps[1 << 16];
	unsigned long start, end, a = (unsigned long)addr;
	char *line;

	if (read_file("/proc/self/maps", maps, sizeof(maps)) < 0)
		fail_errno("read /proc/self/maps");
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 && a >= start && a < end)
			return;
	}
	fail("%p is not in /proc/self/maps", addr);
}

int main(int argc, char **argv)
{
	uint8_t *mem;
	char perms[8];
	ssize_t off;
	int i, sig;

	test_init(argc, argv);

	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap");
	fill_pattern(mem, NR_PAGES * PAGE, 0x120);
	if (mprotect(mem + RO_FIRST * PAGE, (RO_LAST - RO_FIRST + 1) * PAGE, PROT_READ))
		fail_errno("mprotect");
	if (!access_faults(mem + RO_FIRST * PAGE, 1))
		fail("set-up: a write to the read-only page does not fault");

	test_daemon();
	test_waitsig();

	off = check_pattern(mem, NR_PAGES * PAGE, 0x120);
	if (off >= 0)
		fail("page %zd: wrong data at offset %zd", off / PAGE, off % PAGE);

	for (i = 0; i < NR_PAGES; i++) {
		uint8_t *p = mem + i * PAGE + (i * 97) % PAGE;

		maps_perms(p, perms);
		if (strcmp(perms, is_ro(i) ? "r--p" : "rw-p"))
			fail("page %d is mapped %s", i, perms);
		if (access_faults(p, 0))
			fail("page %d: a read faults", i);
		sig = access_faults(p, 1);
		if (is_ro(i) && !sig)
			fail("page %d: a write to the read-only page did not fault", i);
		if (!is_ro(i) && sig)
			fail("page %d: a write faults (signal %d)", i, sig);
	}
	off = check_pattern(mem, NR_PAGES * PAGE, 0x120);
	if (off >= 0)
		fail("page %zd changed at offset %zd", off / PAGE, off % PAGE);
	pass();
}
