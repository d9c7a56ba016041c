// SPDX-License-Identifier: GPL-2.0
/*
 * PROT_NONE areas:
 *   - a reservation mapped PROT_NONE and never touched;
 *   - a guard in the middle of a read-write area: 12 pages are written,
 *     then pages 4..7 are mprotect'ed PROT_NONE (their data stays).
 * After restore any access to the PROT_NONE pages faults, the pages around
 * the guard are intact and writable, and once the guard is made readable
 * again it shows the data written before it was closed.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define PAGE 4096UL
#define NR_PAGES 12
#define GUARD_FIRST 4
#define GUARD_PAGES 4
#define RESV_PAGES 16

int main(int argc, char **argv)
{
	uint8_t *mem, *resv, *guard;
	ssize_t off;
	int i;

	test_init(argc, argv);

	resv = mmap(NULL, RESV_PAGES * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (resv == MAP_FAILED || mem == MAP_FAILED)
		fail_errno("mmap");
	guard = mem + GUARD_FIRST * PAGE;
	fill_pattern(mem, NR_PAGES * PAGE, 0x6a4d);
	if (mprotect(guard, GUARD_PAGES * PAGE, PROT_NONE))
		fail_errno("mprotect");
	if (!access_faults(guard, 0) || !access_faults(resv, 0))
		fail("set-up: a read of a PROT_NONE page does not fault");

	test_daemon();
	test_waitsig();

	for (i = 0; i < RESV_PAGES; i++)
		if (!access_faults(resv + i * PAGE + 8 * i, 0))
			fail("reserved page %d (%p) can be read", i, resv + i * PAGE);
	for (i = 0; i < NR_PAGES; i++) {
		uint8_t *p = mem + i * PAGE + 8 * i;
		int is_guard = i >= GUARD_FIRST && i < GUARD_FIRST + GUARD_PAGES;

		if (is_guard && (!access_faults(p, 0) || !access_faults(p, 1)))
			fail("guard page %d (%p) can be accessed", i, p);
		if (!is_guard && (access_faults(p, 0) || access_faults(p, 1)))
			fail("page %d (%p) next to the guard faults", i, p);
	}

	if (mprotect(guard, GUARD_PAGES * PAGE, PROT_READ))
		fail_errno("mprotect");
	off = check_pattern(mem, NR_PAGES * PAGE, 0x6a4d);
	if (off >= 0)
		fail("page %zd%s: wrong data at offset %zd", off / PAGE,
		     off / PAGE >= GUARD_FIRST && off / PAGE < GUARD_FIRST + GUARD_PAGES
			     ? " (data under the PROT_NONE guard)"
			     : "",
		     off % PAGE);
	pass();
}
