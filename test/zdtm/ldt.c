// SPDX-License-Identifier: GPL-2.0
/*
 * LDT entries made with modify_ldt(1), one for each kind of segment and
 * each user_desc field: 32-bit writable data (used by %gs), 16-bit
 * read-only data (in %es), 32-bit code in pages, 16-bit execute-only
 * code, expand-down data with the "useable" bit, a conforming code
 * segment marked not present, and a 64-bit (lm) code segment if the
 * kernel takes it. %gs points into memory below 4 GiB and the test keeps
 * reading through it while it is dumped and restored. After restore
 * modify_ldt(0) must give the same table byte for byte, %gs and %es the
 * same selectors, %gs's base the same address, and a load through %gs
 * the same value.
 */
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define VALUE 0x1122334455667788ULL
#define GS_SEL ((0 << 3) | 4 | 3)
#define ES_SEL ((1 << 3) | 4 | 3)

static uint8_t before[LDT_ENTRIES * LDT_ENTRY_SIZE], after[LDT_ENTRIES * LDT_ENTRY_SIZE];

static int set_entry(unsigned int n, uint32_t base, uint32_t limit, int seg32, int contents, int ro, int pages,
		     int absent, int useable, int lm)
{
	struct user_desc d = {
		.entry_number = n,
		.base_addr = base,
		.limit = limit,
		.seg_32bit = seg32,
		.contents = contents,
		.read_exec_only = ro,
		.limit_in_pages = pages,
		.seg_not_present = absent,
		.useable = useable,
		.lm = lm,
	};

	return syscall(SYS_modify_ldt, 0x11, &d, sizeof(d));
}

static uint64_t read_gs(void)
{
	uint64_t v;

	asm volatile("movq %%gs:0x10, %0" : "=r"(v));
	return v;
}

static unsigned int selector(int es)
{
	unsigned short s;

	if (es)
		asm volatile("mov %%es, %0" : "=r"(s));
	else
		asm volatile("mov %%gs, %0" : "=r"(s));
	return s;
}

int main(int argc, char **argv)
{
	unsigned long gs_base = 0;
	uint32_t base;
	long size;
	void *mem;

	test_init(argc, argv);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (mem == MAP_FAILED)
		fail_errno("mmap below 4 GiB");
	base = (uint32_t)(uintptr_t)mem;
	*(volatile uint64_t *)((char *)mem + 0x10) = VALUE;

	if (set_entry(0, base, 0xfff, 1, MODIFY_LDT_CONTENTS_DATA, 0, 0, 0, 0, 0) ||
	    set_entry(1, base + 0x100, 0xffff, 0, MODIFY_LDT_CONTENTS_DATA, 1, 0, 0, 0, 0) ||
	    set_entry(3, 0, 0xfffff, 1, MODIFY_LDT_CONTENTS_CODE, 0, 1, 0, 0, 0) ||
	    set_entry(5, 0x12345, 0xabcd, 0, MODIFY_LDT_CONTENTS_CODE, 1, 0, 0, 0, 0) ||
	    set_entry(7, 0xdead0000, 0x10, 1, MODIFY_LDT_CONTENTS_STACK, 0, 1, 0, 1, 0) ||
	    set_entry(9, 0x1000, 0x2000, 1, 3, 0, 0, 1, 0, 0))
		fail_errno("modify_ldt(0x11)");
	if (set_entry(200, 0, 0xfffff, 0, MODIFY_LDT_CONTENTS_CODE, 0, 1, 0, 0, 1))
		test_msg("this kernel does not take an lm segment: %m\n");

	asm volatile("mov %0, %%gs" : : "r"((unsigned short)GS_SEL));
	asm volatile("mov %0, %%es" : : "r"((unsigned short)ES_SEL));
	if (read_gs() != VALUE)
		fail("a load through %%gs does not see the value");
	size = syscall(SYS_modify_ldt, 0, before, sizeof(before));
	if (size <= 0)
		fail_errno("modify_ldt(0)");

	test_daemon();
	while (!test_sigterm)
		if (read_gs() != VALUE)
			fail("a load through %%gs read something else while running");

	if (selector(0) != GS_SEL || selector(1) != ES_SEL)
		fail("%%gs is 0x%x and %%es 0x%x, expected 0x%x and 0x%x", selector(0), selector(1), GS_SEL, ES_SEL);
	if (read_gs() != VALUE)
		fail("a load through %%gs reads 0x%llx", (unsigned long long)read_gs());
	if (syscall(SYS_arch_prctl, ARCH_GET_GS, &gs_base) || gs_base != base)
		fail("%%gs base is 0x%lx, expected 0x%x", gs_base, base);
	if (syscall(SYS_modify_ldt, 0, after, sizeof(after)) != size)
		fail("modify_ldt(0) gives another size");
	for (long i = 0; i < size; i += LDT_ENTRY_SIZE)
		if (memcmp(before + i, after + i, LDT_ENTRY_SIZE))
			fail("LDT entry %ld differs: %016llx, was %016llx", i / LDT_ENTRY_SIZE,
			     *(unsigned long long *)(after + i), *(unsigned long long *)(before + i));
	pass();
}
